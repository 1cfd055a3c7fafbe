/* analysis.c: the numbers behind the paper's claims from a results database
 * (analysis.h). Everything is read with plain SQL; grouping (factor pairs,
 * the granulated Kendall coefficient's groups) is done by sorting string
 * keys built from each run's config JSON with the keys that may differ
 * removed, so no hash table and no assumption about which axes a spec
 * varied. Not here: the claims and their verdicts (claims.c), drawing
 * (src/report/figures.c), the page (src/report/page.c). */
#include "analysis.h"

#include <cjson/cJSON.h>
#include <limits.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../sens/jac_summary.h"
#include "../sens/jacobian.h"
#include "../core/parallel.h"
#include "../core/rng.h"
#include "../nn/act.h"
#include "stats.h"

static const char *const factor_names[FACTOR_COUNT] = {"labels", "augment", "activation",
                                                       "optimizer"};

const char *an_factor_name(an_factor f)
{
    return (unsigned)f < FACTOR_COUNT ? factor_names[f] : "?";
}

/* keys a factor may change besides itself */
static const char *const free_labels[] = {"random_labels", NULL};
static const char *const free_augment[] = {"augment_shift", "augment_flip", NULL};
static const char *const free_act[] = {"act", "sigma_w2", NULL};
static const char *const free_opt[] = {"opt", "lr", "batch", "steps", "momentum", "beta1",
                                       "beta2", "eps", "decay", "eval_every", NULL};
static const char *const *const factor_free[FACTOR_COUNT] = {free_labels, free_augment,
                                                             free_act, free_opt};

/* column i of the row as text, "" for NULL (never a NULL for "%s") */
static const char *col_text(sqlite3_stmt *st, int i)
{
    const char *t = (const char *)sqlite3_column_text(st, i);
    return t ? t : "";
}

static int db_err(sqlite3 *db, sn_err *e, const char *what)
{
    return err_set(e, SN_EIO, "%s: %s", what, sqlite3_errmsg(db));
}

/* A fit run as the grouping code sees it. */
typedef struct keyed {
    char *key;        /* config minus free keys and seed, + replicate */
    int side;         /* 0 a, 1 b */
    long id;
    double test_acc;
    int init;         /* act_init of the config */
} keyed;

static int cmp_keyed(const void *p, const void *q)
{
    const keyed *a = p, *b = q;
    int c = strcmp(a->key, b->key);
    if (c)
        return c;
    if (a->side != b->side)
        return a->side - b->side;
    return (a->id > b->id) - (a->id < b->id);
}

/* v as "%.17g" prints it, into b (>= 32 bytes); integers below 2^53 (most
 * config values) without printf, the same text. Returns the length. */
static int number_text(double v, char *b)
{
    if (v == floor(v) && fabs(v) < 9007199254740992.0 && !(v == 0 && signbit(v))) {
        long long q = (long long)v;
        unsigned long long u = q < 0 ? 0ULL - (unsigned long long)q : (unsigned long long)q;
        char t[24];
        int n = 0, len = 0;
        do
            t[n++] = (char)('0' + u % 10), u /= 10;
        while (u);
        if (q < 0)
            b[len++] = '-';
        while (n)
            b[len++] = t[--n];
        b[len] = 0;
        return len;
    }
    return snprintf(b, 32, "%.17g", v);
}

/* A config value as text for comparing keys (equal values, equal text):
 * numbers by number_text (cJSON's printer round-trips each number through
 * sscanf, which dominated the analysis of large databases); malloc'd. */
static char *value_text(const cJSON *it)
{
    char b[40];
    if (cJSON_IsNumber(it)) {
        number_text(it->valuedouble, b);
        return strdup(b);
    }
    if (cJSON_IsString(it)) {
        size_t n = strlen(it->valuestring);
        char *s = malloc(n + 2);
        if (s)
            s[0] = '"', memcpy(s + 1, it->valuestring, n + 1);
        return s;
    }
    if (cJSON_IsTrue(it) || cJSON_IsFalse(it) || cJSON_IsNull(it))
        return strdup(cJSON_IsTrue(it) ? "true" : cJSON_IsFalse(it) ? "false" : "null");
    return cJSON_PrintUnformatted(it);
}

static int dropped(const char *key, const char *const *drop, const char *drop1)
{
    if (!strcmp(key, "seed") || (drop1 && !strcmp(key, drop1)))
        return 1;
    for (int i = 0; drop && drop[i]; i++)
        if (!strcmp(key, drop[i]))
            return 1;
    return 0;
}

/* config (parsed) as a key: every member but drop[], drop1 and "seed", as
 * name=value separated by \x1f, then "|r<replicate>"; malloc'd, NULL for no
 * config or no memory. */
static char *config_key(const cJSON *config, const char *const *drop, const char *drop1,
                        int replicate)
{
    if (!cJSON_IsObject(config))
        return NULL;
    size_t cap = 256, n = 0;
    char *k = malloc(cap);
    for (const cJSON *it = config->child; it && k; it = it->next) {
        if (!it->string || dropped(it->string, drop, drop1))
            continue;
        char *v = value_text(it);
        if (!v) {
            free(k);
            return NULL;
        }
        size_t need = n + strlen(it->string) + strlen(v) + 3;
        if (need + 24 > cap) {
            while (need + 24 > cap)
                cap *= 2;
            char *q = realloc(k, cap);
            if (!q) {
                free(v), free(k);
                return NULL;
            }
            k = q;
        }
        size_t ls = strlen(it->string), lv = strlen(v);
        memcpy(k + n, it->string, ls);
        k[n + ls] = '=';
        memcpy(k + n + ls + 1, v, lv);
        k[n + ls + 1 + lv] = '\x1f';
        n += ls + lv + 2;
        k[n] = 0;
        free(v);
    }
    if (k)
        snprintf(k + n, cap - n, "|r%d", replicate);
    return k;
}

static int side_of(an_factor f, sqlite3_stmt *st)
{
    double rl = sqlite3_column_double(st, 4);
    int shift = sqlite3_column_int(st, 5), flip = sqlite3_column_int(st, 6);
    const char *act = (const char *)sqlite3_column_text(st, 7);
    const char *opt = (const char *)sqlite3_column_text(st, 8);
    switch (f) {
    case FACTOR_LABELS: return rl > 0;
    case FACTOR_AUGMENT: return shift > 0 || flip;
    case FACTOR_ACTIVATION:
        return act && !strcmp(act, "relu") ? 0 : act && !strcmp(act, "hardsigmoid") ? 1 : -1;
    case FACTOR_OPTIMIZER:
        return opt && !strcmp(opt, "momentum") ? 0 : opt && !strcmp(opt, "lbfgs") ? 1 : -1;
    default: return -1;
    }
}

int an_paper_better(an_factor f)
{
    return f == FACTOR_AUGMENT;
}

/* Does key (config_key's form "...|r<replicate>") name the same config as
 * key2, replicates aside? */
static int same_config(const char *k1, const char *k2)
{
    const char *r1 = strrchr(k1, '|'), *r2 = strrchr(k2, '|');
    size_t n1 = r1 ? (size_t)(r1 - k1) : strlen(k1), n2 = r2 ? (size_t)(r2 - k2) : strlen(k2);
    return n1 == n2 && !memcmp(k1, k2, n1);
}

int an_find_pairs(sqlite3 *db, an_factor f, an_pair **out, long *n, sn_err *e)
{
    *out = NULL;
    *n = 0;
    if ((unsigned)f >= FACTOR_COUNT)
        return err_set(e, SN_EARG, "an_find_pairs: no factor %d", (int)f);
    sqlite3_stmt *st = NULL;
    char sql[320];
    snprintf(sql, sizeof sql,
             "select run_id, config, replicate, test_acc, random_labels, augment_shift, "
             "augment_flip, act, opt from runs where status = 'fit' and %s order by run_id",
             an_protocol_sql(an_db_protocol(db)));
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return db_err(db, e, "reading runs");
    keyed *k = NULL;
    long nk = 0, cap = 0;
    int rc = SN_OK, step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        int side = side_of(f, st);
        if (side < 0)
            continue;
        if (nk == cap) {
            cap = cap ? 2 * cap : 256;
            keyed *q = realloc(k, sizeof *k * cap);
            if (!q) {
                rc = err_set(e, SN_ENOMEM, "out of memory for runs");
                break;
            }
            k = q;
        }
        const char *text = (const char *)sqlite3_column_text(st, 1);
        cJSON *cfg = text ? cJSON_Parse(text) : NULL;
        char *key = config_key(cfg, factor_free[f], NULL, sqlite3_column_int(st, 2));
        const cJSON *ji = cJSON_GetObjectItemCaseSensitive(cfg, "init");
        act_init init = ACT_INIT_DEFAULT;
        sn_err ie = {0};
        if (cJSON_IsString(ji) && act_init_parse(ji->valuestring, &init, &ie))
            init = ACT_INIT_DEFAULT; /* an unknown name still keys the pair apart */
        cJSON_Delete(cfg);
        if (!key)
            continue; /* a config that does not parse cannot pair */
        k[nk++] = (keyed){key, side, sqlite3_column_int64(st, 0), sqlite3_column_double(st, 3),
                          (int)init};
    }
    if (!rc && step != SQLITE_DONE)
        rc = db_err(db, e, "reading runs");
    sqlite3_finalize(st);
    an_pair *p = NULL;
    long np = 0;
    if (!rc && nk) {
        qsort(k, nk, sizeof *k, cmp_keyed);
        p = malloc(sizeof *p * (nk / 2 + 1));
        if (!p)
            rc = err_set(e, SN_ENOMEM, "out of memory for pairs");
        int cluster = -1;
        for (long i = 0; !rc && i < nk;) {
            long j = i;
            while (j < nk && !strcmp(k[j].key, k[i].key))
                j++;
            if (i == 0 || !same_config(k[i].key, k[i - 1].key))
                cluster++; /* sorted keys: the replicates of a config are adjacent */
            long a0 = i, b0 = i;
            while (b0 < j && k[b0].side == 0)
                b0++;
            for (long t = 0; a0 + t < b0 && b0 + t < j; t++) {
                const keyed *a = &k[a0 + t], *b = &k[b0 + t];
                if (f == FACTOR_AUGMENT && !(b->test_acc > a->test_acc))
                    continue; /* the paper keeps pairs where augmentation helped */
                p[np++] = (an_pair){a->id, b->id, cluster, a->init};
            }
            i = j;
        }
    }
    for (long i = 0; i < nk; i++)
        free(k[i].key);
    free(k);
    if (rc) {
        free(p);
        return rc;
    }
    *out = p;
    *n = np;
    return SN_OK;
}

/* Where each resample also redraws the data from their sampling noise,
 * noise is added to data that already carry it, which pulls a correlation
 * toward 0 (attenuation): the resamples' centre lies nearer 0 than the
 * estimate (on a factor-activation sweep, Spearman 0.65 with the plain
 * percentile interval [0.11, 0.59]). The interval is then the hull of two
 * intervals of the same resamples, as drawn and shifted so that their
 * median is the estimate, clipped to the statistic's range [lo, hi]: it
 * contains the estimate and is never narrower than either, so a verdict
 * on it (sign or equivalence) is conservative against both the
 * attenuation and the estimate's position; the p-value is the larger of
 * the two. docs/analysis.md. dist (kept) sorted. */
typedef struct hull_range {
    double lo, hi;
} hull_range;

static void hull_interval(const double *dist, int kept, int reps, double level, double centre,
                          hull_range range, double *lo, double *hi)
{
    stats_percentile_interval(dist, kept, reps, level, lo, hi);
    double shift = centre - stats_quantile_sorted(dist, kept, 0.5);
    if (!isfinite(*lo) || !isfinite(shift))
        return;
    /* the shifted resamples' interval is the drawn one shifted */
    *lo = fmax(fmin(*lo, *lo + shift), range.lo);
    *hi = fmin(fmax(*hi, *hi + shift), range.hi);
}

/* the larger p of the drawn and the shifted resamples: a resample shifted
 * by s lies at or below null exactly when it lies at or below null - s */
static double hull_p(const double *dist, int kept, double centre, double null)
{
    double p = stats_boot_p(dist, kept, null);
    double shift = centre - stats_quantile_sorted(dist, kept, 0.5);
    return isfinite(shift) ? fmax(p, stats_boot_p(dist, kept, null - shift)) : p;
}

/* The estimate of f on all n items, its 95% percentile interval over reps
 * resamples (clustered when cluster != NULL) and, when p != NULL, the
 * bootstrap p-value of "the statistic is null" from the same resamples;
 * lo90/hi90 (may be NULL) receive the 90% interval (for equivalence tests).
 * With centre finite (resamples that redraw noise), centre is the estimate
 * and the intervals and p are hull_interval's and hull_p's. */
static void boot_stat_at(stats_fn f, void *ctx, const int *cluster, int n, int reps,
                         uint64_t seed, double null, double centre, hull_range range,
                         an_interval *out, double *p, double *lo90, double *hi90)
{
    out->v = out->lo = out->hi = NAN;
    if (p)
        *p = NAN;
    if (lo90)
        *lo90 = *hi90 = NAN;
    int *all = malloc(sizeof(int) * (n > 0 ? n : 1));
    double *dist = reps > 0 ? malloc(sizeof(double) * reps) : NULL;
    if (all && n > 0) {
        for (int i = 0; i < n; i++)
            all[i] = i;
        out->v = isfinite(centre) ? centre : f(all, n, ctx);
    }
    int kept = 0;
    if (dist && isfinite(out->v) && !stats_resample(f, ctx, cluster, n, reps, seed, dist, &kept)) {
        if (isfinite(centre)) {
            hull_interval(dist, kept, reps, 0.95, centre, range, &out->lo, &out->hi);
            if (lo90)
                hull_interval(dist, kept, reps, 0.90, centre, range, lo90, hi90);
            if (p && isfinite(out->lo))
                *p = hull_p(dist, kept, centre, null);
        } else {
            stats_percentile_interval(dist, kept, reps, 0.95, &out->lo, &out->hi);
            if (lo90)
                stats_percentile_interval(dist, kept, reps, 0.90, lo90, hi90);
            if (p && isfinite(out->lo))
                *p = stats_boot_p(dist, kept, null);
        }
    }
    free(all), free(dist);
}

static void boot_stat(stats_fn f, void *ctx, const int *cluster, int n, int reps, uint64_t seed,
                      double null, an_interval *out, double *p, double *lo90, double *hi90)
{
    boot_stat_at(f, ctx, cluster, n, reps, seed, null, NAN, (hull_range){-INFINITY, INFINITY},
                 out, p, lo90, hi90);
}

/* the mean of v over a resample */
static double f_mean(const int *idx, int m, void *ctx)
{
    const double *v = ctx;
    double s = 0;
    for (int i = 0; i < m; i++)
        s += v[idx[i]];
    return m > 0 ? s / m : NAN;
}

/* ---- metrics ---- */

/* The metrics correlated with the gap: a name (an_corr.metric), the SQL
 * that computes it from a runs row, and its role. Transitions are also
 * normalised per hidden neuron ((depth - 1) * width) and per neuron and kink
 * (pieces of the activation minus one; tanh counts sign changes: 1), since
 * raw counts grow with both. */
enum { M_SENS, M_TRANS, M_TRANS_NORM, M_BASE, M_NOISE };
typedef struct metric_def {
    const char *name, *sql;
    int role;
} metric_def;

#define NEURONS "(1.0 * (depth - 1) * width)"
#define KINKS                                                                               \
    "(case act when 'relu' then 1 when 'relu6' then 2 when 'hardtanh' then 2 when "          \
    "'hardsigmoid' then 2 else 1 end)"
#define TRANS_DEFS(k)                                                                       \
    {"trans_" k, "trans_" k, M_TRANS},                                                       \
    {"trans_" k "_per_neuron", "trans_" k " / " NEURONS, M_TRANS},                           \
    {"trans_" k "_per_kink", "trans_" k " / (" NEURONS " * " KINKS ")", M_TRANS_NORM}

static const metric_def metrics[] = {
    {"jac_test_mean", "jac_test_mean", M_SENS},
    {"jac_logit_test_mean", "jac_logit_test_mean", M_SENS},
    TRANS_DEFS("ellipse_diff"),
    TRANS_DEFS("ellipse_same"),
    TRANS_DEFS("ellipse_random"),
    TRANS_DEFS("translate"),
    /* baselines: label-free confidence on the same test points, how fast it
     * fit, its size and training loss */
    {"jac_test_entropy", "jac_test_entropy", M_BASE},
    {"jac_test_pmax", "jac_test_pmax", M_BASE},
    {"jac_test_margin", "jac_test_margin", M_BASE},
    {"fit_step", "case when fit_step >= 0 then fit_step end", M_BASE},
    {"n_params", "n_params", M_BASE},
    {"train_loss", "train_loss", M_BASE},
    /* the label-noise fraction itself (population "all" only) */
    {"random_labels", "random_labels", M_NOISE},
};
#define NMETRICS ((int)(sizeof metrics / sizeof metrics[0]))

static const char *const sens_cols[] = {"jac_test_mean", "jac_logit_test_mean",
                                        "trans_ellipse_diff", "trans_ellipse_same",
                                        "trans_ellipse_random", "trans_translate", NULL};

/* ---- correlations ---- */

typedef struct netrow {
    long id;
    char *cfg;
    int rep;
    int cluster;      /* runs of one config (replicates) share it */
    double noise;     /* random_labels: the label-noise fraction it was trained with */
    double metric[NMETRICS];
    double msd[NMETRICS];   /* the metric's sampling sd (test points, trajectories); 0 unknown */
    double gap, gap_sd;     /* gap_sd: binomial sd of the test accuracy */
} netrow;

/* The data of one correlation and its bootstrap. x: the metric, x2: a
 * second metric (paired differences), y: the gap; *sd their sampling sd.
 * With noise set, a resample also redraws every item's values from their
 * test-set (and trajectory) sampling noise, normal with those sd: the
 * second level of the bootstrap (networks, then test points). A metric
 * without sampling noise (every sd 0: the baselines) keeps its values in
 * every resample, so its resample ranks come from its tie groups (xg, x2g:
 * stats_tie_groups, computed by corr_stat) without a sort. */
typedef struct corr_data {
    const double *x, *x2, *y, *xsd, *x2sd, *ysd;
    const int *group;     /* group (A, n) */
    int n, A;
    int noise;            /* 1 while resampling */
    int xnoisy, x2noisy;  /* some sd of x, x2 is > 0 */
    rng r;
    int *xg, *x2g, *gcnt; /* tie groups of x, x2 (n; NULL when noisy), workspace (n + 1) */
    int xG, x2G;
    /* scratch (cap): values of a resample, their ranks, the normal draws (3 cap) */
    double *bx, *bx2, *by, *blx, *rx, *rx2, *ry, *z;
} corr_data;

enum { NEED_X = 1, NEED_LX = 2, NEED_X2 = 4 };

/* The values of the resample idx (m) that a statistic needs (by always):
 * bx, blx (log x), bx2; redrawn from their noise while d->noise. */
static void draw(corr_data *d, const int *idx, int m, int need)
{
    int nx = d->noise && d->xnoisy && (need & (NEED_X | NEED_LX));
    int nx2 = d->noise && d->x2noisy && (need & NEED_X2);
    /* the draws: y's, then x's when redrawn, then x2's when redrawn */
    const double *zy = d->z, *zx = d->z + m, *z2 = d->z + (size_t)(1 + nx) * m;
    if (d->noise)
        rng_normals(&d->r, d->z, (long)m * (1 + nx + nx2));
    for (int i = 0; i < m; i++) {
        int j = idx[i];
        double ex = nx ? zx[i] * d->xsd[j] : 0;
        if (need & NEED_X)
            d->bx[i] = d->x[j] + ex;
        /* log by the delta method: the noise of log x is sd / x */
        if (need & NEED_LX)
            d->blx[i] = d->x[j] > 0 ? log(d->x[j]) + ex / d->x[j] : NAN;
        d->by[i] = d->y[j] + (d->noise ? zy[i] * d->ysd[j] : 0);
        if (need & NEED_X2)
            d->bx2[i] = d->x2[j] + (nx2 ? z2[i] * d->x2sd[j] : 0);
    }
}

static double f_pearson_log(const int *idx, int m, void *ctx)
{
    corr_data *d = ctx;
    draw(d, idx, m, NEED_LX);
    return stats_pearson(d->blx, d->by, m);
}

/* mid-ranks of the resample's x (or x2): from the tie groups when the
 * values were not redrawn, else by a sort; 0, or -1 on failure */
static int ranks_of(corr_data *d, const int *idx, int m, int second, double *r)
{
    const int *g = second ? d->x2g : d->xg;
    if (g) {
        stats_group_midranks(g, second ? d->x2G : d->xG, idx, m, d->gcnt, r);
        return 0;
    }
    return stats_midranks(second ? d->bx2 : d->bx, m, r);
}

static double f_spearman(const int *idx, int m, void *ctx)
{
    corr_data *d = ctx;
    draw(d, idx, m, d->xg ? 0 : NEED_X);
    if (m < 2 || ranks_of(d, idx, m, 0, d->rx) || stats_midranks(d->by, m, d->ry))
        return NAN;
    return stats_pearson(d->rx, d->ry, m);
}

static double f_kendall(const int *idx, int m, void *ctx)
{
    corr_data *d = ctx;
    draw(d, idx, m, NEED_X);
    return stats_kendall(d->bx, d->by, m);
}

/* Spearman of x minus |Spearman of x2|, on the same resample and draws
 * (the ranks of y once) */
static double f_spearman_diff(const int *idx, int m, void *ctx)
{
    corr_data *d = ctx;
    draw(d, idx, m, (d->xg ? 0 : NEED_X) | (d->x2g ? 0 : NEED_X2));
    if (m < 2 || ranks_of(d, idx, m, 0, d->rx) || ranks_of(d, idx, m, 1, d->rx2) ||
        stats_midranks(d->by, m, d->ry))
        return NAN;
    return stats_pearson(d->rx, d->ry, m) - fabs(stats_pearson(d->rx2, d->ry, m));
}

/* Which of x, x2 carry sampling noise (some sd > 0). */
static void corr_noisy(corr_data *d)
{
    d->xnoisy = d->x2noisy = 0;
    for (int i = 0; i < d->n; i++) {
        d->xnoisy |= d->xsd[i] > 0;
        if (d->x2)
            d->x2noisy |= d->x2sd[i] > 0;
    }
}

/* corr_noisy, and the tie groups of x, x2 where they carry none (into the
 * buffers xg, x2g point to on entry; NULL after when noisy, absent or on
 * allocation failure: ranks_of then sorts). */
static void corr_prepare(corr_data *d)
{
    corr_noisy(d);
    if (d->xg && !d->xnoisy)
        d->xG = stats_tie_groups(d->x, d->n, d->xg);
    if (d->xnoisy || d->xG < 0 || !d->gcnt)
        d->xg = NULL;
    if (d->x2g && d->x2 && !d->x2noisy)
        d->x2G = stats_tie_groups(d->x2, d->n, d->x2g);
    if (!d->x2 || d->x2noisy || d->x2G < 0 || !d->gcnt)
        d->x2g = NULL;
}

/* boot_stat for a corr_data: the estimate without noise, resamples with
 * (hull_interval); the statistics are correlations, in [-1, 1], or
 * Spearman minus |Spearman|, in [-2, 1] */
static void corr_stat(stats_fn f, corr_data *d, const int *cluster, int reps, uint64_t seed,
                      an_interval *out, double *p, double *lo90, double *hi90)
{
    hull_range range = {f == f_spearman_diff ? -2 : -1, 1};
    corr_data keep = *d;
    corr_prepare(d);
    d->noise = 0;
    int *all = malloc(sizeof(int) * (d->n > 0 ? d->n : 1));
    out->v = out->lo = out->hi = NAN;
    if (p)
        *p = NAN;
    if (lo90)
        *lo90 = *hi90 = NAN;
    if (!all)
        return;
    for (int i = 0; i < d->n; i++)
        all[i] = i;
    double v = d->n > 0 ? f(all, d->n, d) : NAN;
    free(all);
    d->noise = 1;
    rng_seed(&d->r, seed ^ 0x5bd1e995u);
    if (reps > 0 && isfinite(v))
        boot_stat_at(f, d, cluster, d->n, reps, seed, 0, v, range, out, p, lo90, hi90);
    out->v = v;
    d->noise = 0;
    d->xg = keep.xg, d->x2g = keep.x2g; /* the buffers, for the next statistic */
}


static int cmp_keyed_val(const void *p, const void *q)
{
    const keyed *a = p, *b = q;
    return strcmp(a->key, b->key);
}

/* Group ids for the granulated coefficient: for every config key that varies
 * among the networks, networks equal in every other key (seed aside; for
 * "opt" also eps, for "act" also sigma_w2, whose defaults follow them) and in
 * the replicate share a group. group (A, n) and vid (A, n: the id of each
 * network's value on the axis; a missing key gets an id of its own)
 * malloc'd; *A axes. Computed once per dataset: drop_uniform then leaves
 * out, for any subset, the groups whose members do not differ in the axis. */
static int make_groups(const netrow *r, const int *sel, int n, int **group, int **vid, int *A,
                       char (*names)[AN_AXIS_LEN], sn_err *e)
{
    *group = NULL;
    *vid = NULL;
    *A = 0;
    if (n < 2)
        return SN_OK;
    /* the keys of the configs (their union, first seen first) and each
     * network's value of each, printed once: vals (n, nk), NULL if absent */
    enum { MAXK = 64 };
    char *keys[MAXK];
    int nk = 0;
    char **vals = calloc((size_t)n * MAXK, sizeof *vals);
    if (!vals)
        return err_set(e, SN_ENOMEM, "out of memory for groups");
    int rc = SN_OK;
    for (int i = 0; i < n && !rc; i++) {
        cJSON *cj = cJSON_Parse(r[sel[i]].cfg);
        /* a config that is not an object of named keys (a hostile or broken
         * database) has no axes */
        for (cJSON *it = cJSON_IsObject(cj) ? cj->child : NULL; it && !rc; it = it->next) {
            if (!it->string)
                continue;
            int j = 0;
            while (j < nk && strcmp(keys[j], it->string))
                j++;
            if (j == nk) {
                if (nk == MAXK)
                    continue; /* more keys than any config has: ignored */
                if (!(keys[nk] = strdup(it->string))) {
                    rc = err_set(e, SN_ENOMEM, "out of memory for groups");
                    break;
                }
                nk++;
            }
            /* a key given twice in one config (a hostile database): the
             * last value counts, as cJSON's lookup would not */
            free(vals[(size_t)i * MAXK + j]);
            vals[(size_t)i * MAXK + j] = value_text(it);
        }
        cJSON_Delete(cj);
    }
    /* axes: keys whose value varies; the seed is no axis, nor is label noise
     * (Jiang et al. 2020 vary optimisation and architecture only): networks
     * of other noise levels fall into other groups through the key */
    int axes[MAXK], na = 0;
    for (int j = 0; j < nk && !rc; j++) {
        if (!strcmp(keys[j], "seed") || !strcmp(keys[j], "random_labels"))
            continue;
        const char *v0 = vals[j];
        int varies = 0;
        for (int i = 1; i < n && !varies; i++) {
            const char *v = vals[(size_t)i * MAXK + j];
            varies = !v || !v0 || strcmp(v, v0);
        }
        if (varies) {
            snprintf(names[na], AN_AXIS_LEN, "%s", keys[j]);
            axes[na++] = j;
        }
    }
    int *g = malloc(sizeof(int) * (size_t)(na > 0 ? na : 1) * n);
    int *vd = malloc(sizeof(int) * (size_t)(na > 0 ? na : 1) * n);
    keyed *k = malloc(sizeof(keyed) * n);
    if (!rc && (!g || !vd || !k))
        rc = err_set(e, SN_ENOMEM, "out of memory for groups");
    for (int a = 0; !rc && a < na; a++) {
        int ax = axes[a];
        /* keys whose defaults follow this axis vary with it */
        const char *comp = !strcmp(keys[ax], "opt") ? "eps"
                           : !strcmp(keys[ax], "act") ? "sigma_w2"
                                                      : NULL;
        /* the group key: every other key's value (seed aside) and the replicate */
        for (int i = 0; i < n && !rc; i++) {
            size_t len = 32;
            for (int j = 0; j < nk; j++) {
                const char *v = vals[(size_t)i * MAXK + j];
                len += strlen(keys[j]) + (v ? strlen(v) : 1) + 3;
            }
            char *key = malloc(len), *p = key;
            if (!key) {
                rc = err_set(e, SN_ENOMEM, "out of memory for groups");
                for (int t = 0; t < i; t++)
                    free(k[t].key);
                break;
            }
            for (int j = 0; j < nk; j++) {
                if (j == ax || !strcmp(keys[j], "seed") || (comp && !strcmp(keys[j], comp)))
                    continue;
                const char *v = vals[(size_t)i * MAXK + j];
                v = v ? v : "\x1e";
                size_t lk = strlen(keys[j]), lv = strlen(v);
                memcpy(p, keys[j], lk);
                p[lk] = '=';
                memcpy(p + lk + 1, v, lv);
                p[lk + 1 + lv] = '\x1f';
                p += lk + lv + 2;
            }
            snprintf(p, 16, "|r%d", r[sel[i]].rep);
            k[i] = (keyed){key, 0, i, 0, 0};
        }
        if (rc)
            break;
        qsort(k, n, sizeof *k, cmp_keyed);
        int gid = 0;
        for (int i = 0; i < n; i++) {
            if (i > 0 && strcmp(k[i].key, k[i - 1].key))
                gid++;
            g[(size_t)a * n + k[i].id] = gid;
        }
        for (int i = 0; i < n; i++)
            free(k[i].key);
        /* value ids: equal values, equal ids */
        int m = 0;
        for (int i = 0; i < n; i++) {
            char *v = vals[(size_t)i * MAXK + ax];
            if (v)
                k[m++] = (keyed){v, 0, i, 0, 0};
            else
                vd[(size_t)a * n + i] = -2 - i; /* no value: unlike every other */
        }
        qsort(k, m, sizeof *k, cmp_keyed_val);
        int v = 0;
        for (int i = 0; i < m; i++) {
            if (i > 0 && strcmp(k[i].key, k[i - 1].key))
                v++;
            vd[(size_t)a * n + k[i].id] = v;
        }
    }
    free(k);
    for (size_t i = 0; i < (size_t)n * MAXK; i++)
        free(vals[i]);
    free(vals);
    for (int j = 0; j < nk; j++)
        free(keys[j]);
    if (rc) {
        free(g), free(vd);
        return rc;
    }
    *group = g;
    *vid = vd;
    *A = na;
    return SN_OK;
}

/* A group whose members all share the axis value (repeats of one config,
 * e.g. random draws) says nothing about this axis: its ids become -1.
 * group, vid (A, n); groups are numbered < gmax; scratch (2 gmax). */
static void drop_uniform(int *group, const int *vid, int A, int n, int gmax, int *scratch)
{
    int *first = scratch, *varies = scratch + gmax;
    for (int a = 0; a < A; a++) {
        int *g = group + (size_t)a * n;
        const int *v = vid + (size_t)a * n;
        for (int i = 0; i < gmax; i++)
            first[i] = INT_MIN, varies[i] = 0;
        for (int i = 0; i < n; i++) {
            if (g[i] < 0)
                continue;
            if (first[g[i]] == INT_MIN)
                first[g[i]] = v[i];
            else if (first[g[i]] != v[i] || v[i] < -1)
                varies[g[i]] = 1;
        }
        for (int i = 0; i < n; i++)
            if (g[i] >= 0 && !varies[g[i]])
                g[i] = -1;
    }
}


static int cmp_double(const void *p, const void *q)
{
    double a = *(const double *)p, b = *(const double *)q;
    return (a > b) - (a < b);
}

typedef struct gitem {
    int g, i;
} gitem;

static int cmp_gitem(const void *p, const void *q)
{
    const gitem *a = p, *b = q;
    return a->g != b->g ? (a->g > b->g) - (a->g < b->g) : a->i - b->i;
}

/* The granulated coefficient's interval by a group bootstrap: each
 * resample redraws the values from their sampling noise, recomputes every
 * group's tau, draws each axis's groups with replacement and averages
 * (psi per axis, then the mean over the axes with groups; tau_b: the tau
 * of an_opts); the interval
 * hull_interval's around out->v, the estimate. *p: bootstrap p of 0. */
static void granulated_boot(corr_data *d, int reps, int tau_b, uint64_t seed, an_interval *out,
                            double *p)
{
    out->lo = out->hi = *p = NAN;
    int n = d->n, A = d->A;
    size_t An = (size_t)A * n;
    gitem *it = malloc(sizeof *it * (An + 1));        /* (A, n) items of each axis by group */
    int *gbeg = malloc(sizeof(int) * (An + 1)), *gend = malloc(sizeof(int) * (An + 1));
    int *goff = calloc(A + 1, sizeof(int));           /* axis a's groups: goff[a]..goff[a+1] */
    int *all = malloc(sizeof(int) * (n + 1));
    double *tau = malloc(sizeof(double) * (An + 1)), *dist = malloc(sizeof(double) * (reps + 1));
    double *gx = malloc(sizeof(double) * (n + 1)), *gy = malloc(sizeof(double) * (n + 1));
    if (!it || !gbeg || !gend || !goff || !all || !tau || !dist || !gx || !gy || reps < 1)
        goto done;
    int tot = 0;
    for (int a = 0; a < A; a++) {
        gitem *ia = it + (size_t)a * n;
        int k = 0;
        for (int i = 0; i < n; i++)
            if (d->group[(size_t)a * n + i] >= 0)
                ia[k++] = (gitem){d->group[(size_t)a * n + i], i};
        qsort(ia, k, sizeof *ia, cmp_gitem);
        goff[a] = tot;
        for (int i = 0; i < k;) {
            int j = i;
            while (j < k && ia[j].g == ia[i].g)
                j++;
            if (j - i >= 2) {
                gbeg[tot] = a * n + i;
                gend[tot++] = a * n + j;
            }
            i = j;
        }
    }
    goff[A] = tot;
    for (int i = 0; i < n; i++)
        all[i] = i;
    rng r;
    rng_seed(&r, seed);
    rng_seed(&d->r, seed ^ 0x2545f491u);
    corr_noisy(d);
    d->xg = d->x2g = NULL; /* only bx and by are used: no tie groups */
    d->noise = 1;
    int kept = 0;
    for (int rep = 0; rep < reps; rep++) {
        draw(d, all, n, NEED_X); /* this resample's values: bx, by */
        for (int t = 0; t < tot; t++) {
            int m = 0;
            for (int q = gbeg[t]; q < gend[t]; q++)
                gx[m] = d->bx[it[q].i], gy[m++] = d->by[it[q].i];
            tau[t] = tau_b ? stats_kendall(gx, gy, m) : stats_kendall_a(gx, gy, m);
        }
        double sum = 0;
        int axes = 0;
        for (int a = 0; a < A; a++) {
            int G = goff[a + 1] - goff[a];
            if (G < 1)
                continue;
            /* tau-b is NaN in a group where one side all ties: skipped,
             * as in the estimate (stats_granulated_kendall_ex) */
            double ps = 0;
            int used = 0;
            for (int g = 0; g < G; g++) {
                double t = tau[goff[a] + (int)rng_below(&r, (uint32_t)G)];
                if (isfinite(t))
                    ps += t, used++;
            }
            if (!used)
                continue;
            sum += ps / used;
            axes++;
        }
        double v = axes ? sum / axes : NAN;
        if (isfinite(v))
            dist[kept++] = v;
    }
    d->noise = 0;
    qsort(dist, kept, sizeof *dist, cmp_double);
    hull_interval(dist, kept, reps, 0.95, out->v, (hull_range){-1, 1}, &out->lo, &out->hi);
    if (isfinite(out->lo))
        *p = hull_p(dist, kept, out->v, 0);
done:
    free(it), free(gbeg), free(gend), free(goff), free(all), free(tau), free(dist), free(gx),
        free(gy);
}

/* rows sorted by run_id, for joining the trajectories */
typedef struct idrow {
    long id;
    int row;
} idrow;

static int cmp_idrow(const void *p, const void *q)
{
    long a = ((const idrow *)p)->id, b = ((const idrow *)q)->id;
    return (a > b) - (a < b);
}

typedef struct ckey {
    char *key;
    int row;
} ckey;

static int cmp_ckey(const void *p, const void *q)
{
    const ckey *a = p, *b = q;
    int c = strcmp(a->key ? a->key : "", b->key ? b->key : "");
    return c ? c : a->row - b->row;
}

/* The sampling sd of each run's transition counts: sd over its trajectories
 * of a kind / sqrt(count), into msd of the trans metrics of that kind
 * (scaled for the normalised ones). */
static int trajectory_noise(sqlite3 *db, netrow *r, long n, sn_err *e)
{
    idrow *ix = malloc(sizeof *ix * (n > 0 ? n : 1));
    if (!ix)
        return err_set(e, SN_ENOMEM, "out of memory");
    for (long i = 0; i < n; i++)
        ix[i] = (idrow){r[i].id, (int)i};
    qsort(ix, n, sizeof *ix, cmp_idrow);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "select run_id, replace(kind, '-', '_'), count(*), avg(transitions), "
                           "avg(1.0 * transitions * transitions) from trajectories "
                           "group by run_id, kind",
                           -1, &st, NULL) != SQLITE_OK) {
        free(ix);
        return db_err(db, e, "reading trajectories");
    }
    while (sqlite3_step(st) == SQLITE_ROW) {
        idrow key = {sqlite3_column_int64(st, 0), 0};
        const idrow *h = bsearch(&key, ix, n, sizeof *ix, cmp_idrow);
        const char *kind = (const char *)sqlite3_column_text(st, 1);
        int cnt = sqlite3_column_int(st, 2);
        if (!h || !kind || cnt < 2)
            continue;
        double mean = sqlite3_column_double(st, 3), m2 = sqlite3_column_double(st, 4);
        double var = fmax(0, (m2 - mean * mean) * cnt / (cnt - 1));
        double se = sqrt(var / cnt);
        char base[48];
        snprintf(base, sizeof base, "trans_%s", kind);
        size_t bl = strlen(base);
        netrow *x = &r[h->row];
        int raw = -1;
        for (int m = 0; m < NMETRICS; m++)
            if (!strcmp(metrics[m].name, base))
                raw = m;
        if (raw < 0 || !(x->metric[raw] > 0))
            continue;
        for (int m = 0; m < NMETRICS; m++)
            if (!strncmp(metrics[m].name, base, bl) &&
                (metrics[m].name[bl] == 0 || metrics[m].name[bl] == '_') &&
                isfinite(x->metric[m]))
                x->msd[m] = se * x->metric[m] / x->metric[raw];
    }
    sqlite3_finalize(st);
    free(ix);
    return SN_OK;
}

static int cmp_int(const void *p, const void *q)
{
    int a = *(const int *)p, b = *(const int *)q;
    return (a > b) - (a < b);
}

/* distinct values among v (n), with scratch (n) */
static int count_distinct(const int *v, int n, int *scratch)
{
    memcpy(scratch, v, sizeof(int) * n);
    qsort(scratch, n, sizeof(int), cmp_int);
    int c = 0;
    for (int i = 0; i < n; i++)
        c += i == 0 || scratch[i] != scratch[i - 1];
    return c;
}


/* ---- correlations: the jobs and their workers ---- */

/* One dataset's networks r[d0..d1) and their granulated groups
 * (make_groups), shared read-only by its jobs. */
typedef struct blockgroups {
    int nd, A;
    int *gall, *vall;
    char names[64][AN_AXIS_LEN];
} blockgroups;

/* One correlation (metric m over population pop of one dataset) with the
 * paired comparisons that go with it: the unit of work. Its result slot,
 * comparison slots and seed are fixed when the jobs are listed, so the
 * numbers do not depend on the number of threads or their timing. */
typedef struct corr_job {
    long d0, d1;
    int m, pop, blk;
    int res;         /* index of its an_corr */
    int cmp0, ncmp;  /* its an_cmp: cmp0 .. cmp0 + ncmp - 1 */
    uint64_t s;      /* its seed */
} corr_job;

typedef struct corr_run {
    const netrow *r;
    char (*data)[32];
    const blockgroups *blk;
    corr_job *jobs;
    int njobs, reps, tau_b;
    an_corr *res;
    an_cmp *cmp;
} corr_run;

/* The rows of r[d0..d1) in population pop (1: true labels only) with a
 * finite metric m and gap into sel; returns their number. */
static int select_rows(const netrow *r, long d0, long d1, int m, int pop, int *sel)
{
    int k = 0;
    for (long i = d0; i < d1; i++)
        if (isfinite(r[i].metric[m]) && isfinite(r[i].gap) && (pop == 0 || r[i].noise == 0))
            sel[k++] = (int)i;
    return k;
}

/* whether the softmax Jacobian (metric m) is compared with metric m2 in
 * population pop: every baseline and the normalised transitions */
static int compared(int m, int m2, int pop)
{
    int r2 = metrics[m2].role;
    return !(m2 == m || r2 == M_SENS || r2 == M_TRANS || (pop == 1 && r2 == M_NOISE));
}

/* A worker's buffers. */
typedef struct corr_ws {
    int *sel, *cl, *group, *vsub, *gscr, *xg, *x2g, *gcnt;
    double *x, *x2, *xsd, *x2sd, *y, *ysd;
    double *bx, *bx2, *by, *blx, *rx, *rx2, *ry, *z;
} corr_ws;

static void corr_ws_free(corr_ws *w)
{
    free(w->sel), free(w->cl), free(w->group), free(w->vsub), free(w->gscr), free(w->xg),
        free(w->x2g), free(w->gcnt), free(w->x), free(w->x2), free(w->xsd), free(w->x2sd),
        free(w->y), free(w->ysd), free(w->bx), free(w->bx2), free(w->by), free(w->blx),
        free(w->rx), free(w->rx2), free(w->ry), free(w->z);
}

/* scratch for resamples: clusters may be drawn more than once, so a
 * resample holds up to SC = (networks) x (largest cluster) items; groups
 * (A, n) for the largest A */
static int corr_ws_alloc(corr_ws *w, size_t N, size_t SC, int A)
{
    memset(w, 0, sizeof *w);
    size_t AN = (size_t)(A > 0 ? A : 1) * N;
    w->sel = malloc(sizeof(int) * N), w->cl = malloc(sizeof(int) * N);
    w->group = malloc(sizeof(int) * AN), w->vsub = malloc(sizeof(int) * AN);
    w->gscr = malloc(sizeof(int) * 2 * N);
    w->xg = malloc(sizeof(int) * N), w->x2g = malloc(sizeof(int) * N);
    w->gcnt = malloc(sizeof(int) * (N + 1));
    w->x = malloc(sizeof(double) * N), w->x2 = malloc(sizeof(double) * N);
    w->xsd = malloc(sizeof(double) * N), w->x2sd = malloc(sizeof(double) * N);
    w->y = malloc(sizeof(double) * N), w->ysd = malloc(sizeof(double) * N);
    w->bx = malloc(sizeof(double) * SC), w->bx2 = malloc(sizeof(double) * SC);
    w->by = malloc(sizeof(double) * SC), w->blx = malloc(sizeof(double) * SC);
    w->rx = malloc(sizeof(double) * SC), w->rx2 = malloc(sizeof(double) * SC);
    w->ry = malloc(sizeof(double) * SC), w->z = malloc(sizeof(double) * 3 * SC);
    if (w->sel && w->cl && w->group && w->vsub && w->gscr && w->xg && w->x2g && w->gcnt && w->x &&
        w->x2 && w->xsd && w->x2sd && w->y && w->ysd && w->bx && w->bx2 && w->by && w->blx &&
        w->rx && w->rx2 && w->ry && w->z)
        return 0;
    corr_ws_free(w);
    return -1;
}

/* Job j: its correlation into run->res[j->res], its comparisons into
 * run->cmp[j->cmp0 ..]. */
static void corr_do(corr_run *run, const corr_job *j, corr_ws *w)
{
    const netrow *r = run->r;
    const blockgroups *bg = &run->blk[j->blk];
    int m = j->m, pop = j->pop, A = bg->A, nd = bg->nd, reps = run->reps;
    long d0 = j->d0;
    int *sel = w->sel, *cl = w->cl, *group = w->group, *vsub = w->vsub;
    double *x = w->x, *x2 = w->x2, *xsd = w->xsd, *x2sd = w->x2sd, *y = w->y, *ysd = w->ysd;
    int k = select_rows(r, j->d0, j->d1, m, pop, sel);
    int allpos = 1;
    for (int i = 0; i < k; i++) {
        const netrow *q = &r[sel[i]];
        x[i] = q->metric[m], xsd[i] = q->msd[m];
        y[i] = q->gap, ysd[i] = q->gap_sd;
        cl[i] = q->cluster;
        allpos &= x[i] > 0;
    }
    for (int a = 0; a < A; a++)
        for (int i = 0; i < k; i++) {
            group[(size_t)a * k + i] = bg->gall[(size_t)a * nd + (sel[i] - d0)];
            vsub[(size_t)a * k + i] = bg->vall[(size_t)a * nd + (sel[i] - d0)];
        }
    drop_uniform(group, vsub, A, k, nd, w->gscr);
    an_corr *c = &run->res[j->res];
    snprintf(c->data, sizeof c->data, "%s", run->data[d0]);
    snprintf(c->metric, sizeof c->metric, "%s", metrics[m].name);
    snprintf(c->population, sizeof c->population, "%s", pop ? "true-labels" : "all");
    c->n = k;
    c->clusters = count_distinct(cl, k, w->gscr);
    corr_data cd = {.x = x, .y = y, .xsd = xsd, .ysd = ysd, .group = group, .n = k, .A = A,
                    .bx = w->bx, .by = w->by, .blx = w->blx, .bx2 = w->bx2, .rx = w->rx,
                    .rx2 = w->rx2, .ry = w->ry, .z = w->z, .xg = w->xg, .gcnt = w->gcnt};
    uint64_t s = j->s;
    /* every metric gets Spearman's interval (the claims' statistic);
     * Pearson, Kendall and the granulated coefficient get intervals for the
     * Jacobians, point estimates for the others (each interval re-sorts
     * every resample: at 100,000 networks they are the whole cost) */
    int full = metrics[m].role == M_SENS;
    c->pearson_log.v = c->pearson_log.lo = c->pearson_log.hi = NAN;
    if (allpos)
        corr_stat(f_pearson_log, &cd, cl, full ? reps : 0, s + 1, &c->pearson_log, NULL, NULL,
                  NULL);
    corr_stat(f_spearman, &cd, cl, reps, s + 2, &c->spearman, &c->spearman_p, &c->sp90_lo,
              &c->sp90_hi);
    corr_stat(f_kendall, &cd, cl, full ? reps : 0, s + 3, &c->kendall, NULL, NULL, NULL);
    c->granulated.v = c->granulated.lo = c->granulated.hi = c->granulated_p = NAN;
    if (A > 0) {
        double *pa = malloc(sizeof(double) * A);
        int used = 0;
        if (pa) {
            c->granulated_tau_b = run->tau_b;
            c->granulated.v = stats_granulated_kendall_ex(x, y, group, k, A, run->tau_b, pa);
            for (int a = 0; a < A; a++) {
                used += isfinite(pa[a]);
                if (isfinite(pa[a]) && c->naxes < AN_MAX_AXES) {
                    memcpy(c->axis[c->naxes], bg->names[a], AN_AXIS_LEN);
                    c->axis[c->naxes][AN_AXIS_LEN - 1] = 0;
                    c->psi[c->naxes++] = pa[a];
                }
            }
        }
        free(pa);
        c->granulated_axes = used;
        if (isfinite(c->granulated.v) && full)
            granulated_boot(&cd, reps, run->tau_b, s + 4, &c->granulated, &c->granulated_p);
    }
    /* paired comparisons (listed by the caller: jac_test_mean only), on the
     * networks where both exist */
    int q = 0;
    for (int m2 = 0; j->ncmp && m2 < NMETRICS; m2++) {
        if (!compared(m, m2, pop))
            continue;
        int k2 = 0;
        for (int i = 0; i < k; i++) {
            const netrow *t = &r[sel[i]];
            if (!isfinite(t->metric[m2]))
                continue;
            x[k2] = t->metric[m], xsd[k2] = t->msd[m];
            x2[k2] = t->metric[m2], x2sd[k2] = t->msd[m2];
            y[k2] = t->gap, ysd[k2] = t->gap_sd;
            cl[k2++] = t->cluster;
        }
        if (k2 < 3)
            continue;
        an_cmp *cp = &run->cmp[j->cmp0 + q++];
        snprintf(cp->data, sizeof cp->data, "%s", run->data[d0]);
        snprintf(cp->population, sizeof cp->population, "%s", c->population);
        snprintf(cp->a, sizeof cp->a, "%s", metrics[m].name);
        snprintf(cp->b, sizeof cp->b, "%s", metrics[m2].name);
        cp->n = k2;
        corr_data c2 = {.x = x, .x2 = x2, .y = y, .xsd = xsd, .x2sd = x2sd, .ysd = ysd, .n = k2,
                        .bx = w->bx, .bx2 = w->bx2, .by = w->by, .blx = w->blx, .rx = w->rx,
                        .rx2 = w->rx2, .ry = w->ry, .z = w->z, .xg = w->xg, .x2g = w->x2g,
                        .gcnt = w->gcnt};
        corr_stat(f_spearman_diff, &c2, cl, reps, s + 100 + m2, &cp->diff, &cp->p, NULL, NULL);
    }
}

/* par_for's item: job i on worker w's buffers */
typedef struct corr_par {
    corr_run *run;
    corr_ws *ws;
} corr_par;

static void corr_item(void *ctx, int worker, int i)
{
    corr_par *p = ctx;
    corr_do(p->run, &p->run->jobs[i], &p->ws[worker]);
}

/* Run every job of run on threads workers (0: the online CPUs; at most
 * one per job; as many as get buffers, one at least), each with its own
 * buffers. */
static int corr_run_all(corr_run *run, long n, int threads, sn_err *e)
{
    if (run->njobs == 0)
        return SN_OK;
    size_t N = n > 0 ? (size_t)n : 1;
    int maxc = 1, A = 1;
    int *sz = calloc(N, sizeof(int));
    if (!sz)
        return err_set(e, SN_ENOMEM, "out of memory");
    for (long i = 0; i < n; i++)
        if (++sz[run->r[i].cluster] > maxc)
            maxc = sz[run->r[i].cluster];
    free(sz);
    for (int i = 0; i < run->njobs; i++)
        if (run->blk[run->jobs[i].blk].A > A)
            A = run->blk[run->jobs[i].blk].A;
    if (threads <= 0)
        threads = par_ncpu();
    if (threads > run->njobs)
        threads = run->njobs;
    corr_ws *ws = calloc(threads, sizeof *ws);
    if (!ws)
        return err_set(e, SN_ENOMEM, "out of memory");
    int nw = 0;
    while (nw < threads && !corr_ws_alloc(&ws[nw], N, N * (size_t)maxc, A))
        nw++;
    int rc = SN_OK;
    if (nw == 0)
        rc = err_set(e, SN_ENOMEM, "out of memory for the bootstrap of %ld networks", n);
    else
        par_for(run->njobs, nw, corr_item, &(corr_par){run, ws});
    for (int t = 0; t < nw; t++)
        corr_ws_free(&ws[t]);
    free(ws);
    return rc;
}

int an_correlations(sqlite3 *db, const an_opts *o, an_corr **out, int *nout, an_cmp **cmp_out,
                    int *ncmp_out, sn_err *e)
{
    int reps = o->reps;
    uint64_t seed = o->seed;
    *out = NULL;
    *nout = 0;
    *cmp_out = NULL;
    *ncmp_out = 0;
    sqlite3_stmt *st = NULL;
    char sql[4096];
    int off = snprintf(sql, sizeof sql,
                       "select run_id, data, config, replicate, gap, random_labels, test_acc, "
                       "test_size, jac_test_stderr, jac_logit_test_stderr");
    for (int m = 0; m < NMETRICS; m++)
        off += snprintf(sql + off, sizeof sql - off, ", %s", metrics[m].sql);
    snprintf(sql + off, sizeof sql - off,
             " from runs where status = 'fit' and %s order by data, run_id",
             an_protocol_sql(an_db_protocol(db)));
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return db_err(db, e, "reading runs");
    netrow *r = NULL;
    char (*data)[32] = NULL;
    long n = 0, cap = 0;
    int rc = SN_OK, step;
    const int C0 = 10; /* first metric column */
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? 2 * cap : 256;
            netrow *q = realloc(r, sizeof *r * cap);
            char (*dq)[32] = realloc(data, 32 * cap);
            if (q)
                r = q;
            if (dq)
                data = dq;
            if (!q || !dq) {
                rc = err_set(e, SN_ENOMEM, "out of memory for runs");
                break;
            }
        }
        netrow *x = &r[n];
        memset(x, 0, sizeof *x);
        x->id = sqlite3_column_int64(st, 0);
        snprintf(data[n], 32, "%s", col_text(st, 1));
        const char *cfg = (const char *)sqlite3_column_text(st, 2);
        x->cfg = strdup(cfg ? cfg : "{}");
        x->rep = sqlite3_column_int(st, 3);
        x->gap = sqlite3_column_type(st, 4) == SQLITE_NULL ? NAN : sqlite3_column_double(st, 4);
        x->noise = sqlite3_column_double(st, 5);
        /* the gap's noise is the test accuracy's: binomial over the test
         * examples evaluated (test_size, 0 = the whole test set: 10000 for
         * each of the four datasets) */
        double acc = sqlite3_column_double(st, 6);
        long nt = sqlite3_column_int64(st, 7);
        nt = nt > 0 ? nt : 10000;
        x->gap_sd = acc >= 0 && acc <= 1 ? sqrt(acc * (1 - acc) / nt) : 0;
        for (int m = 0; m < NMETRICS; m++) {
            x->metric[m] = sqlite3_column_type(st, C0 + m) == SQLITE_NULL
                               ? NAN
                               : sqlite3_column_double(st, C0 + m);
            x->msd[m] = 0;
        }
        x->msd[0] = sqlite3_column_double(st, 8); /* jac_test_mean: its standard error */
        x->msd[1] = sqlite3_column_double(st, 9);
        if (!isfinite(x->msd[0]))
            x->msd[0] = 0;
        if (!isfinite(x->msd[1]))
            x->msd[1] = 0;
        n++;
    }
    if (!rc && step != SQLITE_DONE)
        rc = db_err(db, e, "reading runs");
    sqlite3_finalize(st);
    if (!rc)
        rc = trajectory_noise(db, r, n, e);
    /* clusters: the replicates of one config */
    if (!rc && n > 0) {
        ckey *ck = malloc(sizeof *ck * n);
        if (!ck)
            rc = err_set(e, SN_ENOMEM, "out of memory");
        for (long i = 0; !rc && i < n; i++) {
            cJSON *cj = cJSON_Parse(r[i].cfg);
            ck[i] = (ckey){config_key(cj, NULL, NULL, 0), (int)i};
            cJSON_Delete(cj);
        }
        if (!rc) {
            qsort(ck, n, sizeof *ck, cmp_ckey);
            int cid = 0;
            for (long i = 0; i < n; i++) {
                if (i > 0 && (!ck[i].key || !ck[i - 1].key || strcmp(ck[i].key, ck[i - 1].key)))
                    cid++;
                r[ck[i].row].cluster = cid;
            }
            for (long i = 0; i < n; i++)
                free(ck[i].key);
        }
        free(ck);
    }

    /* the jobs, in the order (and with the seeds) of one pass over the
     * datasets and metrics; then the workers */
    corr_run run = {.r = r, .data = data, .reps = reps, .tau_b = o->tau_b};
    int nres = 0, ncmp = 0, capj = 0, nblk = 0;
    blockgroups *blk = NULL;
    int *sel = malloc(sizeof(int) * (n > 0 ? (size_t)n : 1));
    if (!rc && !sel)
        rc = err_set(e, SN_ENOMEM, "out of memory");
    for (long d0 = 0; !rc && d0 < n;) {
        long d1 = d0;
        while (d1 < n && !strcmp(data[d1], data[d0]))
            d1++;
        int noisy = 0;
        for (long i = d0; i < d1; i++)
            noisy |= r[i].noise > 0;
        /* the granulated groups of the dataset's networks, once (parsing
         * every config per metric cost minutes at 100,000 runs) */
        blockgroups *bq = realloc(blk, sizeof *blk * (nblk + 1));
        if (!bq) {
            rc = err_set(e, SN_ENOMEM, "out of memory for groups");
            break;
        }
        blk = bq;
        blockgroups *bg = &blk[nblk++];
        memset(bg, 0, sizeof *bg);
        bg->nd = (int)(d1 - d0);
        for (int i = 0; i < bg->nd; i++)
            sel[i] = (int)(d0 + i);
        if ((rc = make_groups(r, sel, bg->nd, &bg->gall, &bg->vall, &bg->A, bg->names, e)))
            break;
        /* population 1: true-label networks (the claim's); population 0, only
         * when some network had label noise: all of them */
        for (int pm = 0; pm < 2 * NMETRICS; pm++) {
            int m = pm / 2, pop = pm % 2;
            if (pop == 0 && !noisy)
                continue;
            if (pop == 1 && metrics[m].role == M_NOISE)
                continue;
            int k = select_rows(r, d0, d1, m, pop, sel);
            if (k < 3)
                continue;
            if (run.njobs == capj) {
                capj = capj ? 2 * capj : 64;
                corr_job *q = realloc(run.jobs, sizeof *q * capj);
                if (!q) {
                    rc = err_set(e, SN_ENOMEM, "out of memory");
                    break;
                }
                run.jobs = q;
            }
            corr_job *j = &run.jobs[run.njobs++];
            *j = (corr_job){.d0 = d0, .d1 = d1, .m = m, .pop = pop, .res = nres++, .cmp0 = ncmp,
                            .blk = nblk - 1};
            j->s = seed ^ ((uint64_t)nres * 0x9e3779b97f4a7c15ULL);
            if (!strcmp(metrics[m].name, "jac_test_mean"))
                for (int m2 = 0; m2 < NMETRICS; m2++) {
                    if (!compared(m, m2, pop))
                        continue;
                    int k2 = 0;
                    for (int i = 0; i < k; i++)
                        k2 += isfinite(r[sel[i]].metric[m2]) != 0;
                    if (k2 >= 3)
                        j->ncmp++;
                }
            ncmp += j->ncmp;
        }
        d0 = d1;
    }
    free(sel);
    run.blk = blk;
    run.res = calloc(nres > 0 ? nres : 1, sizeof *run.res);
    run.cmp = calloc(ncmp > 0 ? ncmp : 1, sizeof *run.cmp);
    if (!rc && (!run.res || !run.cmp))
        rc = err_set(e, SN_ENOMEM, "out of memory");
    if (!rc)
        rc = corr_run_all(&run, n, o->threads, e);
    for (int b = 0; b < nblk; b++)
        free(blk[b].gall), free(blk[b].vall);
    free(blk), free(run.jobs);
    for (long i = 0; i < n; i++)
        free(r[i].cfg);
    free(r), free(data);
    if (rc) {
        free(run.res), free(run.cmp);
        return rc;
    }
    *out = run.res;
    *nout = nres;
    *cmp_out = run.cmp;
    *ncmp_out = ncmp;
    return SN_OK;
}
/* ---- pair fractions ---- */

/* gap and the sensitivity metrics (sens_cols) of every fit run, by run_id */
typedef struct fitrow {
    long id;
    double gap, v[8];   /* v[m]: sens_cols[m] */
} fitrow;

static int cmp_fitrow(const void *p, const void *q)
{
    long a = ((const fitrow *)p)->id, b = ((const fitrow *)q)->id;
    return (a > b) - (a < b);
}

static int load_fit_rows(sqlite3 *db, fitrow **out, long *n, sn_err *e)
{
    char sql[512];
    int off = snprintf(sql, sizeof sql, "select run_id, gap");
    for (int m = 0; sens_cols[m]; m++)
        off += snprintf(sql + off, sizeof sql - off, ", %s", sens_cols[m]);
    snprintf(sql + off, sizeof sql - off, " from runs where status = 'fit' and %s order by run_id",
             an_protocol_sql(an_db_protocol(db)));
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return db_err(db, e, "reading runs");
    fitrow *r = NULL;
    long nr = 0, cap = 0;
    int rc = SN_OK, step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (nr == cap) {
            cap = cap ? 2 * cap : 256;
            fitrow *q = realloc(r, sizeof *r * cap);
            if (!q) {
                rc = err_set(e, SN_ENOMEM, "out of memory for runs");
                break;
            }
            r = q;
        }
        fitrow *x = &r[nr++];
        x->id = sqlite3_column_int64(st, 0);
        x->gap = sqlite3_column_type(st, 1) == SQLITE_NULL ? NAN : sqlite3_column_double(st, 1);
        for (int m = 0; sens_cols[m]; m++)
            x->v[m] = sqlite3_column_type(st, 2 + m) == SQLITE_NULL
                          ? NAN
                          : sqlite3_column_double(st, 2 + m);
    }
    if (!rc && step != SQLITE_DONE)
        rc = db_err(db, e, "reading runs");
    sqlite3_finalize(st);
    if (rc) {
        free(r);
        return rc;
    }
    *out = r;
    *n = nr;
    return SN_OK;
}

/* Scratch for one factor's pairs: per pair, 1 when the paper's better
 * member has the lower metric (ties 1/2), the same for the gap, and
 * concordance (pairs with unequal gaps), each with its pair's cluster. */
typedef struct pair_scratch {
    double *dm, *dg, *cc;
    int *cl, *ccl;
} pair_scratch;

/* The fractions of metric m over the pairs p (those at init sub when sub
 * >= 0) into *x; 0 when no pair has the metric and the gap finite in both
 * members (x untouched). */
static int pairfrac_one(an_factor f, const char *subset, int sub, int m, const an_pair *p,
                        long np, const fitrow *fr, long nfr, pair_scratch *w, int reps,
                        uint64_t seed, an_pairfrac *x)
{
    int better = an_paper_better(f);
    int k = 0, kc = 0;
    for (long i = 0; i < np; i++) {
        if (sub >= 0 && p[i].init != sub)
            continue;
        fitrow ka = {.id = p[i].a}, kb = {.id = p[i].b};
        const fitrow *a = bsearch(&ka, fr, nfr, sizeof *fr, cmp_fitrow);
        const fitrow *b = bsearch(&kb, fr, nfr, sizeof *fr, cmp_fitrow);
        if (!a || !b)
            continue; /* pairs are of fit runs of the protocol: both are there */
        double ga = a->gap, gb = b->gap, va = a->v[m], vb = b->v[m];
        if (!isfinite(va) || !isfinite(vb) || !isfinite(ga) || !isfinite(gb))
            continue;
        /* the better level's value minus the other's */
        double dv = better ? vb - va : va - vb, dgap = better ? gb - ga : ga - gb;
        w->dm[k] = dv < 0 ? 1 : dv == 0 ? 0.5 : 0;
        w->dg[k] = dgap < 0 ? 1 : dgap == 0 ? 0.5 : 0;
        w->cl[k] = p[i].cluster;
        k++;
        if (ga != gb) {
            w->cc[kc] = (ga < gb ? va < vb : vb < va) ? 1 : va == vb ? 0.5 : 0;
            w->ccl[kc++] = p[i].cluster;
        }
    }
    if (k == 0)
        return 0;
    memset(x, 0, sizeof *x);
    x->factor = f;
    snprintf(x->subset, sizeof x->subset, "%s", subset);
    snprintf(x->metric, sizeof x->metric, "%s", sens_cols[m]);
    x->pairs = k;
    for (int i = 0; i < k; i++)
        x->clusters += i == 0 || w->cl[i] != w->cl[i - 1];
    /* each subset resamples with its own seeds (all pairs: sub + 1 = 0) */
    uint64_t s = seed ^ ((uint64_t)(f * 16 + m + 1 + 1024 * (sub + 1)) * 0x9e3779b97f4a7c15ULL);
    boot_stat(f_mean, w->dm, w->cl, k, reps, s + 1, 0.5, &x->dir_metric, &x->dir_metric_p, NULL,
              NULL);
    boot_stat(f_mean, w->dg, w->cl, k, reps, s + 2, 0.5, &x->dir_gap, NULL, NULL, NULL);
    x->n_concord = kc;
    x->concord.v = x->concord.lo = x->concord.hi = NAN;
    if (kc > 0) {
        boot_stat(f_mean, w->cc, w->ccl, kc, reps, s + 3, 0.5, &x->concord, NULL, NULL, NULL);
        double agree = 0;
        for (int i = 0; i < kc; i++)
            agree += w->cc[i];
        x->agree = lround(floor(agree));
    }
    return 1;
}

int an_pair_fractions(sqlite3 *db, int reps, uint64_t seed, an_pairfrac **out, int *nout,
                      long *npairs, sn_err *e)
{
    /* the activation factor's subsets: every pair, then the pairs at each init */
    static const char *const subsets[3] = {"", "default", "gain-matched"};
    *out = NULL;
    *nout = 0;
    an_pairfrac *res = NULL;
    int nres = 0;
    fitrow *fr = NULL;
    long nfr = 0;
    int rc = load_fit_rows(db, &fr, &nfr, e);
    for (int f = 0; !rc && f < FACTOR_COUNT; f++) {
        an_pair *p;
        long np;
        if ((rc = an_find_pairs(db, (an_factor)f, &p, &np, e)))
            break;
        if (npairs)
            npairs[f] = np;
        pair_scratch w = {malloc(sizeof(double) * (np + 1)), malloc(sizeof(double) * (np + 1)),
                          malloc(sizeof(double) * (np + 1)), malloc(sizeof(int) * (np + 1)),
                          malloc(sizeof(int) * (np + 1))};
        if (!w.dm || !w.dg || !w.cc || !w.cl || !w.ccl)
            rc = err_set(e, SN_ENOMEM, "out of memory for pairs");
        int nsub = f == FACTOR_ACTIVATION ? 3 : 1;
        for (int sub = 0; !rc && np > 0 && sub < nsub; sub++)
            for (int m = 0; !rc && sens_cols[m]; m++) {
                an_pairfrac x;
                if (!pairfrac_one((an_factor)f, subsets[sub], sub - 1, m, p, np, fr, nfr, &w, reps,
                                  seed, &x))
                    continue;
                an_pairfrac *q = realloc(res, sizeof *res * (nres + 1));
                if (!q) {
                    rc = err_set(e, SN_ENOMEM, "out of memory");
                    break;
                }
                res = q;
                res[nres++] = x;
            }
        free(w.dm), free(w.dg), free(w.cc), free(w.cl), free(w.ccl);
        free(p);
    }
    free(fr);
    if (rc) {
        free(res);
        return rc;
    }
    *out = res;
    *nout = nres;
    return SN_OK;
}

/* ---- per point ---- */

/* AUC statistics of one network's points over a resample */
typedef struct auc_ctx {
    const double *s1, *s2;   /* scores: ||J||_F, a baseline */
    const int *wrong;
    double *b1, *b2;
    int *bw;
} auc_ctx;

static void auc_gather(auc_ctx *c, const int *idx, int m)
{
    for (int i = 0; i < m; i++) {
        c->b1[i] = c->s1[idx[i]];
        c->b2[i] = c->s2 ? c->s2[idx[i]] : 0;
        c->bw[i] = c->wrong[idx[i]];
    }
}

static double f_auc1(const int *idx, int m, void *ctx)
{
    auc_ctx *c = ctx;
    auc_gather(c, idx, m);
    return stats_mw_auc(c->b1, c->bw, m);
}

static double f_auc2(const int *idx, int m, void *ctx)
{
    auc_ctx *c = ctx;
    auc_gather(c, idx, m);
    return stats_mw_auc(c->b2, c->bw, m);
}

static double f_auc_diff(const int *idx, int m, void *ctx)
{
    auc_ctx *c = ctx;
    auc_gather(c, idx, m);
    return stats_mw_auc(c->b1, c->bw, m) - stats_mw_auc(c->b2, c->bw, m);
}

static int cmp_desc(const void *p, const void *q)
{
    return cmp_double(q, p);
}

/* One network's statistics from its points (n): score = ||J||_F, the
 * confidence scores conf[3] (1 - pmax, entropy, -margin), jy = ||J_y||,
 * loss, wrong; M and K for the bounds; scratch (6 n). */
static void point_net(an_ppnet *o, int n, const double *score, const double *const conf[3],
                      const double *jy, const double *loss, const int *wrong, double M, int K,
                      int reps, uint64_t seed, double *scratch, int *iscratch)
{
    static const char *const cname[3] = {"pmax", "entropy", "margin"};
    o->points = n;
    auc_ctx c = {.s1 = score, .wrong = wrong, .b1 = scratch, .b2 = scratch + n, .bw = iscratch};
    boot_stat(f_auc1, &c, NULL, n, reps, seed + 1, 0.5, &o->auc, &o->auc_p, NULL, NULL);
    int best = -1;
    double ba = -INFINITY;
    for (int k = 0; k < 3; k++) {
        double a = stats_mw_auc(conf[k], wrong, n);
        if (isfinite(a) && a > ba)
            ba = a, best = k;
    }
    o->auc_conf.v = o->auc_conf.lo = o->auc_conf.hi = NAN;
    o->auc_diff = o->auc_conf;
    o->auc_diff_p = NAN;
    if (best >= 0) {
        snprintf(o->conf, sizeof o->conf, "%s", cname[best]);
        c.s2 = conf[best];
        boot_stat(f_auc2, &c, NULL, n, reps, seed + 2, 0.5, &o->auc_conf, NULL, NULL, NULL);
        boot_stat(f_auc_diff, &c, NULL, n, reps, seed + 2, 0, &o->auc_diff, &o->auc_diff_p, NULL,
                  NULL);
    }
    /* top decile of ||J||_F */
    double *sorted = scratch + 2 * n;
    int k = 0;
    for (int i = 0; i < n; i++)
        if (isfinite(score[i]))
            sorted[k++] = score[i];
    qsort(sorted, k, sizeof *sorted, cmp_desc);
    o->top_n = (k + 9) / 10;
    double cut = o->top_n > 0 ? sorted[o->top_n - 1] : INFINITY;
    long above = 0, at = 0, wa = 0, wt = 0;
    for (int i = 0; i < n; i++) {
        if (!isfinite(score[i]))
            continue;
        if (score[i] > cut)
            above++, wa += wrong[i];
        else if (score[i] == cut)
            at++, wt += wrong[i];
    }
    /* points tied at the cut share its remaining places */
    o->top_wrong = at ? wa + lround((double)wt * (o->top_n - above) / at) : wa;
    /* the bounds: functional form and the band */
    double *lx = scratch + 3 * n, *ly = scratch + 4 * n;
    int m = 0;
    o->ratio_n = o->below = o->inside = o->above = 0;
    for (int i = 0; i < n; i++) {
        double el = exp(-loss[i]), f = el * (1 - el);
        if (jy[i] > 0 && f > 0 && isfinite(jy[i])) {
            lx[m] = log(f), ly[m++] = log(jy[i]);
        }
        double ratio = jy[i] / (sqrt(M) * f);
        if (!isfinite(ratio))
            continue;
        o->ratio_n++;
        /* the bounds' own test, as jac_xent_bounds: lower <= ||J_y|| <= upper */
        double lo, hi, me;
        jac_xent_bounds(M, K, loss[i], &lo, &hi, &me);
        if (jy[i] < lo)
            o->below++;
        else if (jy[i] > hi)
            o->above++;
        else
            o->inside++;
    }
    o->loglog_r = m >= 3 ? stats_pearson(lx, ly, m) : NAN;
    o->r_lo = o->r_hi = NAN;
    if (m > 3 && isfinite(o->loglog_r) && fabs(o->loglog_r) < 1) {
        double z = atanh(o->loglog_r), h = 1.959963984540054 / sqrt(m - 3.0);
        o->r_lo = tanh(z - h), o->r_hi = tanh(z + h);
    } else if (m > 3 && fabs(o->loglog_r) == 1) {
        o->r_lo = o->r_hi = o->loglog_r;
    }
}

int an_points_summary(sqlite3 *db, int reps, uint64_t seed, an_points *out, sn_err *e)
{
    memset(out, 0, sizeof *out);
    out->auc_mean = out->auc_lo = out->auc_hi = out->auc_pooled = out->within_bounds = NAN;
    sqlite3_stmt *st;
    char sql[600];
    snprintf(sql, sizeof sql,
             "select p.run_id, p.jac_softmax, p.correct, p.loss, p.jac_y, r.jac_test_M, r.data, "
             "p.pmax, p.entropy, p.margin from points p join runs r on r.run_id = p.run_id "
             "where p.split = 'test' and r.status = 'fit' and r.%s order by p.run_id, p.idx",
             an_protocol_sql(an_db_protocol(db)));
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return db_err(db, e, "reading points");
    double *col[7] = {NULL}; /* score, 1-pmax, entropy, -margin, jy, loss, M */
    int *wrong = NULL, *K = NULL;
    long *rid = NULL;
    long n = 0, cap = 0;
    int rc = SN_OK, step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? 2 * cap : 4096;
            int ok = 1;
            for (int c = 0; c < 7; c++) {
                double *q = realloc(col[c], sizeof(double) * cap);
                ok &= q != NULL;
                if (q)
                    col[c] = q;
            }
            int *w = realloc(wrong, sizeof(int) * cap), *kk = realloc(K, sizeof(int) * cap);
            long *ri = realloc(rid, sizeof(long) * cap);
            if (w)
                wrong = w;
            if (kk)
                K = kk;
            if (ri)
                rid = ri;
            if (!ok || !w || !kk || !ri) {
                rc = err_set(e, SN_ENOMEM, "out of memory for points");
                break;
            }
        }
        rid[n] = sqlite3_column_int64(st, 0);
        col[0][n] = sqlite3_column_type(st, 1) == SQLITE_NULL ? NAN : sqlite3_column_double(st, 1);
        wrong[n] = sqlite3_column_int(st, 2) == 0;
        col[5][n] = sqlite3_column_double(st, 3);
        col[4][n] = sqlite3_column_double(st, 4);
        col[6][n] = sqlite3_column_type(st, 5) == SQLITE_NULL ? NAN : sqlite3_column_double(st, 5);
        const char *data = (const char *)sqlite3_column_text(st, 6);
        K[n] = data && !strcmp(data, "cifar100") ? 100 : 10;
        for (int c = 0; c < 3; c++)
            col[1 + c][n] = sqlite3_column_type(st, 7 + c) == SQLITE_NULL
                                ? NAN
                                : sqlite3_column_double(st, 7 + c);
        col[1][n] = 1 - col[1][n];
        col[3][n] = -col[3][n];
        n++;
    }
    if (!rc && step != SQLITE_DONE)
        rc = db_err(db, e, "reading points");
    sqlite3_finalize(st);
    long nets = 0;
    for (long i = 0; i < n; i++)
        nets += i == 0 || rid[i] != rid[i - 1];
    double *scratch = malloc(sizeof(double) * 6 * (n > 0 ? n : 1));
    int *isc = malloc(sizeof(int) * (n > 0 ? n : 1));
    out->net = calloc(nets > 0 ? nets : 1, sizeof *out->net);
    if (!rc && (!scratch || !isc || !out->net))
        rc = err_set(e, SN_ENOMEM, "out of memory for points");
    double auc_sum = 0;
    long nb = 0;
    out->auc_lo = INFINITY, out->auc_hi = -INFINITY;
    for (long i0 = 0; !rc && i0 < n;) {
        long i1 = i0;
        while (i1 < n && rid[i1] == rid[i0])
            i1++;
        an_ppnet *o = &out->net[out->networks++];
        o->run_id = rid[i0];
        const double *conf[3] = {col[1] + i0, col[2] + i0, col[3] + i0};
        point_net(o, (int)(i1 - i0), col[0] + i0, conf, col[4] + i0, col[5] + i0, wrong + i0,
                  col[6][i0], K[i0], reps, seed ^ ((uint64_t)o->run_id * 0x9e3779b97f4a7c15ULL),
                  scratch, isc);
        if (isfinite(o->auc.v)) {
            auc_sum += o->auc.v;
            out->auc_lo = fmin(out->auc_lo, o->auc.v);
            out->auc_hi = fmax(out->auc_hi, o->auc.v);
            nb++;
        }
        out->top_n += o->top_n, out->top_wrong += o->top_wrong;
        out->ratio_n += o->ratio_n, out->below += o->below, out->inside += o->inside;
        out->above += o->above;
        i0 = i1;
    }
    if (!rc && n > 0) {
        out->points = n;
        out->auc_pooled = stats_mw_auc(col[0], wrong, (int)n);
        out->within_bounds = out->ratio_n ? (double)out->inside / out->ratio_n : NAN;
        out->auc_mean = nb ? auc_sum / nb : NAN;
    }
    if (!nb)
        out->auc_lo = out->auc_hi = NAN;
    for (int c = 0; c < 7; c++)
        free(col[c]);
    free(wrong), free(K), free(rid), free(scratch), free(isc);
    if (rc) {
        free(out->net);
        out->net = NULL;
        out->networks = 0;
    }
    return rc;
}

/* ---- along trajectories ---- */

static int json_doubles(const char *text, double *v, int nmax)
{
    cJSON *a = text ? cJSON_Parse(text) : NULL;
    int n = 0;
    for (cJSON *it = a && cJSON_IsArray(a) ? a->child : NULL; it && n < nmax; it = it->next)
        v[n++] = cJSON_IsNumber(it) ? it->valuedouble : NAN;
    cJSON_Delete(a);
    return n;
}

/* The most items a clustered resample of cluster (n) can hold: (number of
 * clusters) x (largest cluster); n when cluster is NULL. */
static size_t resample_cap(const int *cluster, int n)
{
    if (!cluster || n < 1)
        return n > 0 ? (size_t)n : 1;
    int *c = malloc(sizeof(int) * n);
    if (!c)
        return (size_t)n * n;
    memcpy(c, cluster, sizeof(int) * n);
    qsort(c, n, sizeof(int), cmp_int);
    size_t G = 0, run = 0, mx = 1;
    for (int i = 0; i < n; i++) {
        if (i == 0 || c[i] != c[i - 1])
            G++, run = 0;
        if (++run > mx)
            mx = run;
    }
    free(c);
    return G * mx;
}

/* the median of v over a resample (scratch: med_ctx) */
typedef struct med_ctx {
    const double *v;
    double *b;
} med_ctx;

static double f_median(const int *idx, int m, void *ctx)
{
    med_ctx *c = ctx;
    for (int i = 0; i < m; i++)
        c->b[i] = c->v[idx[i]];
    qsort(c->b, m, sizeof(double), cmp_double);
    return stats_quantile_sorted(c->b, m, 0.5);
}

/* the log of a median of positive values */
static double f_log_median(const int *idx, int m, void *ctx)
{
    double v = f_median(idx, m, ctx);
    return v > 0 ? log(v) : NAN;
}

/* Median (f: f_median or f_log_median) of va minus that of vb, each
 * resampled by its clusters independently; a random pairing of the two
 * bootstrap distributions is the distribution of the difference. */
static void two_sample(stats_fn f, const double *va, const int *ca, int na, const double *vb,
                       const int *cb, int nb, int reps, uint64_t seed, an_interval *out, double *p)
{
    out->v = out->lo = out->hi = NAN;
    if (p)
        *p = NAN;
    int cap = na > nb ? na : nb;
    size_t sa = resample_cap(ca, na), sb = resample_cap(cb, nb);
    double *scr = malloc(sizeof(double) * ((sa > sb ? sa : sb) + 1));
    double *da = malloc(sizeof(double) * (reps + 1)), *db = malloc(sizeof(double) * (reps + 1));
    int32_t *perm = malloc(sizeof(int32_t) * (reps + 1));
    int *all = malloc(sizeof(int) * (cap + 1));
    if (!scr || !da || !db || !perm || !all || na < 1 || nb < 1) {
        free(scr), free(da), free(db), free(perm), free(all);
        return;
    }
    for (int i = 0; i < cap; i++)
        all[i] = i;
    med_ctx A = {va, scr}, B = {vb, scr};
    double a = f(all, na, &A), b = f(all, nb, &B);
    out->v = a - b;
    int ka = 0, kb = 0;
    if (reps > 0 && isfinite(out->v) && !stats_resample(f, &A, ca, na, reps, seed, da, &ka) &&
        !stats_resample(f, &B, cb, nb, reps, seed + 7, db, &kb)) {
        int k = ka < kb ? ka : kb;
        rng r;
        rng_seed(&r, seed + 13);
        for (int i = 0; i < kb; i++)
            perm[i] = i;
        rng_shuffle(&r, perm, kb);
        for (int i = 0; i < k; i++)
            da[i] -= db[perm[i]];
        qsort(da, k, sizeof *da, cmp_double);
        stats_percentile_interval(da, k, reps, 0.95, &out->lo, &out->hi);
        if (p && isfinite(out->lo))
            *p = stats_boot_p(da, k, 0);
    }
    free(scr), free(da), free(db), free(perm), free(all);
}

/* per-trajectory values of one kind */
typedef struct tvals {
    double *jac, *dip, *trans;
    int *cj, *cd, *ct;        /* cluster: the run */
    int nj, nd, nt;
    double *len, *dens;       /* trajectories with a length: it, and transitions / length */
    int *cl, nl;
} tvals;

static void tvals_free(tvals *t)
{
    free(t->jac), free(t->dip), free(t->trans), free(t->cj), free(t->cd), free(t->ct);
    free(t->len), free(t->dens), free(t->cl);
    memset(t, 0, sizeof *t);
}

/* Does db's trajectories table have a length column (schema version >= 4)? */
static int traj_has_length(sqlite3 *db)
{
    sqlite3_stmt *st;
    int has = 0;
    if (sqlite3_prepare_v2(db, "select count(*) from pragma_table_info('trajectories') where "
                               "name = 'length'", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        has = sqlite3_column_int(st, 0) > 0;
    sqlite3_finalize(st);
    return has;
}

int an_onoff_summary(sqlite3 *db, int reps, uint64_t seed, an_onoff **out, int *nout,
                     an_manifold *mf, sn_err *e)
{
    *out = NULL;
    *nout = 0;
    memset(mf, 0, sizeof *mf);
    mf->dip_data.v = mf->dip_data.lo = mf->dip_data.hi = NAN;
    mf->dip_null = mf->dip_diff = mf->off_jac = mf->off_trans = mf->dip_data;
    mf->off_trans_len = mf->dip_data;
    mf->dip_diff_p = mf->off_jac_p = mf->off_trans_p = mf->off_trans_len_p = NAN;
    mf->has_length = traj_has_length(db);
    const char *proto = an_protocol_sql(an_db_protocol(db));
    char sql[700];
    sqlite3_stmt *st;
    snprintf(sql, sizeof sql,
             "select t.kind, count(*), avg(t.transitions) from trajectories t join runs r on "
             "r.run_id = t.run_id where r.status = 'fit' and r.%s group by t.kind order by t.kind",
             proto);
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return db_err(db, e, "reading trajectories");
    an_onoff *res = NULL;
    int n = 0, rc = SN_OK;
    while (sqlite3_step(st) == SQLITE_ROW) {
        an_onoff *q = realloc(res, sizeof *res * (n + 1));
        if (!q) {
            rc = err_set(e, SN_ENOMEM, "out of memory");
            break;
        }
        res = q;
        an_onoff *o = &res[n++];
        memset(o, 0, sizeof *o);
        snprintf(o->kind, sizeof o->kind, "%s", col_text(st, 0));
        o->transitions = sqlite3_column_double(st, 2);
        o->jac_mean = o->jac_anchor = o->jac_mid = o->trans_density = NAN;
        o->dip.v = o->dip.lo = o->dip.hi = NAN;
        o->jac_med = o->trans_med = o->len_med = o->per_len_med = o->dip;
    }
    sqlite3_finalize(st);
    tvals *tv = calloc(n > 0 ? n : 1, sizeof *tv);
    if (!rc && !tv)
        rc = err_set(e, SN_ENOMEM, "out of memory");
    for (int k = 0; !rc && k < n; k++) {
        an_onoff *o = &res[k];
        /* the most common bin count of this kind's profiles */
        snprintf(sql, sizeof sql,
                 "select json_array_length(t.profile_jac) nb, count(*) c from trajectories t "
                 "join runs r on r.run_id = t.run_id where t.kind = ? and t.profile_jac is not "
                 "null and r.status = 'fit' and r.%s group by nb order by c desc, nb desc limit 1",
                 proto);
        if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
            rc = db_err(db, e, "reading trajectories");
            break;
        }
        sqlite3_bind_text(st, 1, o->kind, -1, SQLITE_STATIC);
        int nb = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
        sqlite3_finalize(st);
        snprintf(sql, sizeof sql,
                 "select t.profile_jac, t.profile_trans, t.transitions, t.run_id, %s from "
                 "trajectories t join runs r on r.run_id = t.run_id where t.kind = ? and "
                 "r.status = 'fit' and r.%s order by t.run_id, t.i",
                 mf->has_length ? "t.length" : "NULL", proto);
        long cnt = 0;
        if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
            rc = db_err(db, e, "reading trajectories");
            break;
        }
        sqlite3_bind_text(st, 1, o->kind, -1, SQLITE_STATIC);
        int nbm = nb > 0 ? nb : 1;
        double *jsum = calloc(nbm, sizeof(double)), *tsum = calloc(nbm, sizeof(double));
        double *jv = malloc(sizeof(double) * nbm), *pv = malloc(sizeof(double) * nbm);
        long *jn = calloc(nbm, sizeof(long));
        tvals *t = &tv[k];
        long cap = 0;
        int ok = jsum && tsum && jv && pv && jn;
        int is_ellipse = strcmp(o->kind, "translate") != 0;
        while (ok && sqlite3_step(st) == SQLITE_ROW) {
            if (cnt == cap) {
                cap = cap ? 2 * cap : 64;
                double *a1 = realloc(t->jac, sizeof(double) * cap);
                if (a1) t->jac = a1;
                double *a2 = realloc(t->dip, sizeof(double) * cap);
                if (a2) t->dip = a2;
                double *a3 = realloc(t->trans, sizeof(double) * cap);
                if (a3) t->trans = a3;
                int *c1 = realloc(t->cj, sizeof(int) * cap);
                if (c1) t->cj = c1;
                int *c2 = realloc(t->cd, sizeof(int) * cap);
                if (c2) t->cd = c2;
                int *c3 = realloc(t->ct, sizeof(int) * cap);
                if (c3) t->ct = c3;
                double *a4 = realloc(t->len, sizeof(double) * cap);
                if (a4) t->len = a4;
                double *a5 = realloc(t->dens, sizeof(double) * cap);
                if (a5) t->dens = a5;
                int *c4 = realloc(t->cl, sizeof(int) * cap);
                if (c4) t->cl = c4;
                ok = a1 && a2 && a3 && c1 && c2 && c3 && a4 && a5 && c4;
                if (!ok)
                    break;
            }
            cnt++;
            int run = (int)sqlite3_column_int64(st, 3);
            t->trans[t->nt] = sqlite3_column_double(st, 2);
            t->ct[t->nt++] = run;
            /* per unit length: only where the length is known and positive */
            double len = sqlite3_column_type(st, 4) == SQLITE_NULL ? NAN
                                                                   : sqlite3_column_double(st, 4);
            if (len > 0 && isfinite(len) && isfinite(t->trans[t->nt - 1] / len)) {
                t->len[t->nl] = len;
                t->dens[t->nl] = t->trans[t->nt - 1] / len;
                t->cl[t->nl++] = run;
            }
            if (nb <= 0)
                continue;
            int a = json_doubles((const char *)sqlite3_column_text(st, 0), jv, nb);
            int b = json_doubles((const char *)sqlite3_column_text(st, 1), pv, nb);
            if (a != nb || b != nb)
                continue;
            o->trajectories++;
            double js = 0;
            int jc = 0;
            for (int i = 0; i < nb; i++) {
                if (isfinite(jv[i])) {
                    jsum[i] += jv[i];
                    jn[i]++;
                    js += jv[i];
                    jc++;
                }
                tsum[i] += isfinite(pv[i]) ? pv[i] : 0;
            }
            if (jc) {
                t->jac[t->nj] = js / jc;
                t->cj[t->nj++] = run;
            }
            if (is_ellipse && nb % 6 == 0) {
                double an = (jv[0] + jv[nb / 3] + jv[2 * nb / 3]) / 3;
                double mi = (jv[nb / 6] + jv[nb / 2] + jv[5 * nb / 6]) / 3;
                if (an > 0 && mi > 0 && isfinite(an) && isfinite(mi)) {
                    t->dip[t->nd] = log(an / mi);
                    t->cd[t->nd++] = run;
                }
            }
        }
        sqlite3_finalize(st);
        if (!ok) {
            free(jsum), free(tsum), free(jv), free(pv), free(jn);
            rc = err_set(e, SN_ENOMEM, "out of memory");
            break;
        }
        o->nbins = nb;
        if (o->trajectories > 0) {
            double js = 0, ts = 0;
            int jc = 0;
            for (int i = 0; i < nb; i++) {
                if (jn[i]) {
                    jsum[i] /= jn[i];
                    js += jsum[i];
                    jc++;
                } else {
                    jsum[i] = NAN;
                }
                ts += tsum[i] / o->trajectories;
            }
            o->jac_mean = jc ? js / jc : NAN;
            o->trans_density = ts; /* transitions over u in [0,1) = per unit u */
            if (is_ellipse && nb % 6 == 0) {
                o->jac_anchor = (jsum[0] + jsum[nb / 3] + jsum[2 * nb / 3]) / 3;
                o->jac_mid = (jsum[nb / 6] + jsum[nb / 2] + jsum[5 * nb / 6]) / 3;
            }
        }
        free(jsum), free(tsum), free(jv), free(pv), free(jn);
        /* medians with cluster intervals */
        size_t mx = resample_cap(t->cd, t->nd), m2 = resample_cap(t->cj, t->nj);
        size_t m3 = resample_cap(t->ct, t->nt), m4 = resample_cap(t->cl, t->nl);
        mx = mx > m2 ? mx : m2;
        mx = mx > m3 ? mx : m3;
        mx = mx > m4 ? mx : m4;
        double *scr = malloc(sizeof(double) * (mx + 1));
        if (!scr) {
            rc = err_set(e, SN_ENOMEM, "out of memory");
            break;
        }
        uint64_t s = seed ^ ((uint64_t)(k + 1) * 0x9e3779b97f4a7c15ULL);
        med_ctx mc = {t->dip, scr};
        o->n_dip = t->nd;
        if (t->nd > 0)
            boot_stat(f_median, &mc, t->cd, t->nd, reps, s + 1, 0, &o->dip, NULL, NULL, NULL);
        mc.v = t->jac;
        if (t->nj > 0)
            boot_stat(f_median, &mc, t->cj, t->nj, reps, s + 2, 0, &o->jac_med, NULL, NULL, NULL);
        mc.v = t->trans;
        if (t->nt > 0)
            boot_stat(f_median, &mc, t->ct, t->nt, reps, s + 3, 0, &o->trans_med, NULL, NULL, NULL);
        o->n_len = t->nl;
        mc.v = t->len;
        if (t->nl > 0)
            boot_stat(f_median, &mc, t->cl, t->nl, reps, s + 4, 0, &o->len_med, NULL, NULL, NULL);
        mc.v = t->dens;
        if (t->nl > 0)
            boot_stat(f_median, &mc, t->cl, t->nl, reps, s + 5, 0, &o->per_len_med, NULL, NULL,
                      NULL);
        free(scr);
    }
    /* data ellipses pooled against the random-ellipse null */
    if (!rc) {
        tvals data = {0}, *null = NULL;
        long cd = 0, cj = 0, ct = 0, cl = 0;
        for (int k = 0; k < n; k++) {
            if (!strcmp(res[k].kind, "ellipse-random"))
                null = &tv[k];
            if (strcmp(res[k].kind, "ellipse-diff") && strcmp(res[k].kind, "ellipse-same"))
                continue;
            cd += tv[k].nd, cj += tv[k].nj, ct += tv[k].nt, cl += tv[k].nl;
        }
        data.dip = malloc(sizeof(double) * (cd + 1)), data.cd = malloc(sizeof(int) * (cd + 1));
        data.jac = malloc(sizeof(double) * (cj + 1)), data.cj = malloc(sizeof(int) * (cj + 1));
        data.trans = malloc(sizeof(double) * (ct + 1)), data.ct = malloc(sizeof(int) * (ct + 1));
        data.dens = malloc(sizeof(double) * (cl + 1)), data.cl = malloc(sizeof(int) * (cl + 1));
        if (!data.dip || !data.cd || !data.jac || !data.cj || !data.trans || !data.ct ||
            !data.dens || !data.cl)
            rc = err_set(e, SN_ENOMEM, "out of memory");
        for (int k = 0; !rc && k < n; k++) {
            if (strcmp(res[k].kind, "ellipse-diff") && strcmp(res[k].kind, "ellipse-same"))
                continue;
            /* a kind without values of some statistic has NULL arrays:
             * memcpy must not see them, even for 0 bytes */
            if (tv[k].nd) {
                memcpy(data.dip + data.nd, tv[k].dip, sizeof(double) * tv[k].nd);
                memcpy(data.cd + data.nd, tv[k].cd, sizeof(int) * tv[k].nd);
                data.nd += tv[k].nd;
            }
            if (tv[k].nj) {
                memcpy(data.jac + data.nj, tv[k].jac, sizeof(double) * tv[k].nj);
                memcpy(data.cj + data.nj, tv[k].cj, sizeof(int) * tv[k].nj);
                data.nj += tv[k].nj;
            }
            if (tv[k].nt) {
                memcpy(data.trans + data.nt, tv[k].trans, sizeof(double) * tv[k].nt);
                memcpy(data.ct + data.nt, tv[k].ct, sizeof(int) * tv[k].nt);
                data.nt += tv[k].nt;
            }
            if (tv[k].nl) {
                memcpy(data.dens + data.nl, tv[k].dens, sizeof(double) * tv[k].nl);
                memcpy(data.cl + data.nl, tv[k].cl, sizeof(int) * tv[k].nl);
                data.nl += tv[k].nl;
            }
        }
        if (!rc && null) {
            size_t mx = resample_cap(data.cd, data.nd), m2 = resample_cap(null->cd, null->nd);
            mx = mx > m2 ? mx : m2;
            double *scr = malloc(sizeof(double) * (mx + 1));
            med_ctx mc = {data.dip, scr};
            mf->n_data = data.nd, mf->n_null = null->nd;
            if (scr && data.nd > 0)
                boot_stat(f_median, &mc, data.cd, data.nd, reps, seed + 31, 0, &mf->dip_data,
                          NULL, NULL, NULL);
            mc.v = null->dip;
            if (scr && null->nd > 0)
                boot_stat(f_median, &mc, null->cd, null->nd, reps, seed + 32, 0, &mf->dip_null,
                          NULL, NULL, NULL);
            free(scr);
            two_sample(f_median, data.dip, data.cd, data.nd, null->dip, null->cd, null->nd, reps,
                       seed + 33, &mf->dip_diff, &mf->dip_diff_p);
            two_sample(f_log_median, null->jac, null->cj, null->nj, data.jac, data.cj, data.nj,
                       reps, seed + 34, &mf->off_jac, &mf->off_jac_p);
            two_sample(f_log_median, null->trans, null->ct, null->nt, data.trans, data.ct,
                       data.nt, reps, seed + 35, &mf->off_trans, &mf->off_trans_p);
            /* the claim's statistic: per unit length (data.len is not pooled) */
            mf->n_len_data = data.nl, mf->n_len_null = null->nl;
            two_sample(f_log_median, null->dens, null->cl, null->nl, data.dens, data.cl,
                       data.nl, reps, seed + 36, &mf->off_trans_len, &mf->off_trans_len_p);
        }
        tvals_free(&data);
    }
    for (int k = 0; tv && k < n; k++)
        tvals_free(&tv[k]);
    free(tv);
    if (rc) {
        free(res);
        return rc;
    }
    *out = res;
    *nout = n;
    return SN_OK;
}

/* ---- one database ---- */

int an_db_load(sqlite3 *db, const char *path, const an_opts *o, an_db *out, sn_err *e)
{
    int reps = o->reps;
    uint64_t seed = o->seed;
    memset(out, 0, sizeof *out);
    snprintf(out->path, sizeof out->path, "%s", path);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "select value from meta where key = 'spec_name'", -1, &st,
                           NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
            snprintf(out->spec, sizeof out->spec, "%s", (const char *)sqlite3_column_text(st, 0));
        sqlite3_finalize(st);
    }
    if (sqlite3_prepare_v2(db, "select value from meta where key = 'spec_hash'", -1, &st,
                           NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
            snprintf(out->spec_hash, sizeof out->spec_hash, "%s",
                     (const char *)sqlite3_column_text(st, 0));
        sqlite3_finalize(st);
    }
    if (sqlite3_prepare_v2(db, "select value from meta where key = 'total_runs'", -1, &st,
                           NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW)
            out->total_runs = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    if (sqlite3_prepare_v2(db, "select count(*), coalesce(sum(status = 'fit'), 0) from runs", -1,
                           &st, NULL) != SQLITE_OK)
        return db_err(db, e, "reading runs");
    if (sqlite3_step(st) == SQLITE_ROW) {
        out->runs = sqlite3_column_int64(st, 0);
        out->fit = sqlite3_column_int64(st, 1);
    }
    sqlite3_finalize(st);
    out->protocol = an_db_protocol(db);
    int rc = an_correlations(db, o, &out->corr, &out->ncorr, &out->cmp, &out->ncmp, e);
    if (!rc)
        rc = an_pair_fractions(db, reps, seed, &out->pf, &out->npf, out->npairs, e);
    if (!rc)
        rc = an_points_summary(db, reps, seed, &out->pts, e);
    if (!rc)
        rc = an_onoff_summary(db, reps, seed, &out->oo, &out->noo, &out->mf, e);
    if (rc)
        an_db_free(out);
    return rc;
}

void an_db_free(an_db *d)
{
    if (!d)
        return;
    free(d->corr);
    free(d->cmp);
    free(d->pf);
    free(d->oo);
    free(d->pts.net);
    d->corr = NULL, d->cmp = NULL, d->pf = NULL, d->oo = NULL, d->pts.net = NULL;
    d->ncorr = d->ncmp = d->npf = d->noo = 0;
    d->pts.networks = 0;
}

an_protocol an_db_protocol(sqlite3 *db)
{
    sqlite3_stmt *st;
    int fixed = 0;
    if (sqlite3_prepare_v2(db, "select exists(select 1 from runs where status = 'fit' and "
                               "early_stop = 0)", -1, &st, NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW)
            fixed = sqlite3_column_int(st, 0);
        sqlite3_finalize(st);
    }
    return fixed ? AN_FIXED_BUDGET : AN_EARLY_STOP;
}

const char *an_protocol_name(an_protocol p)
{
    return p == AN_FIXED_BUDGET ? "fixed budget" : "early stopping";
}

const char *an_protocol_sql(an_protocol p)
{
    return p == AN_FIXED_BUDGET ? "early_stop = 0" : "early_stop <> 0";
}

int an_metric_is_baseline(const char *name)
{
    for (int m = 0; m < NMETRICS; m++)
        if (!strcmp(metrics[m].name, name))
            return metrics[m].role == M_BASE;
    return 0;
}
