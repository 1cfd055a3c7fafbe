/* claims.c: the paper's claims judged on analysed databases (an_claims):
 * for each claim the database it is judged on (an_pick_source), its
 * population, effect with interval, baselines, the verdict by the rule
 * declared in docs/analysis.md, and Holm's adjustment over the claims.
 *
 * Does not: read databases (an_db_load in analysis.c does) or compute
 * statistics beyond the verdicts (those are analysis.c's and stats.c's). */
#include "analysis.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registry.h"
#include "stats.h"

int an_pick_source(const char *const *spec, const char *const *path, const long *count, int n,
                   const char *prefix)
{
    int best = -1, bpre = 0;
    for (int i = 0; i < n; i++) {
        if (count[i] <= 0)
            continue;
        int pre = prefix && spec[i] && !strncmp(spec[i], prefix, strlen(prefix));
        if (best < 0 || pre > bpre ||
            (pre == bpre && (count[i] > count[best] ||
                             (count[i] == count[best] && strcmp(path[i], path[best]) < 0))))
            best = i, bpre = pre;
    }
    return best;
}

static const char *const verdicts[] = {"held", "not held", "inconclusive", "no data"};

const char *an_verdict_name(an_verdict v)
{
    return (unsigned)v <= CLAIM_NO_DATA ? verdicts[v] : "?";
}


/* ---- the claims ---- */

static an_claim *new_claim(an_claim **c, int *n, const char *figure, const char *claim,
                           const char *rule);

/* A claim of the registry (registry.c): its id (":<dataset>" added for a
 * per-dataset one), figure, text and rule; NULL when out of memory or the
 * id is not registered (a defect: an_claims then fails). */
static an_claim *reg_claim(an_claim **c, int *n, const char *id, const char *dataset)
{
    const an_claim_def *d = an_claim_def_of(id);
    if (!d)
        return NULL;
    char text[200];
    if (d->per_dataset)
        snprintf(text, sizeof text, d->text, dataset ? dataset : "");
    else
        snprintf(text, sizeof text, "%s", d->text);
    an_claim *x = new_claim(c, n, d->figure, text, d->rule);
    if (x && d->per_dataset && dataset)
        snprintf(x->id, sizeof x->id, "%s:%s", d->id, dataset);
    else if (x)
        snprintf(x->id, sizeof x->id, "%s", d->id);
    return x;
}

static an_claim *new_claim(an_claim **c, int *n, const char *figure, const char *claim,
                           const char *rule)
{
    an_claim *q = realloc(*c, sizeof **c * (*n + 1));
    if (!q)
        return NULL;
    *c = q;
    an_claim *x = &q[(*n)++];
    memset(x, 0, sizeof *x);
    snprintf(x->figure, sizeof x->figure, "%s", figure);
    snprintf(x->claim, sizeof x->claim, "%s", claim);
    snprintf(x->rule, sizeof x->rule, "%s", rule);
    x->value.v = x->value.lo = x->value.hi = x->p = NAN;
    x->verdict = x->verdict_holm = CLAIM_NO_DATA;
    return x;
}

static const an_onoff *find_onoff(const an_db *d, const char *kind)
{
    for (int i = 0; i < d->noo; i++)
        if (!strcmp(d->oo[i].kind, kind))
            return &d->oo[i];
    return NULL;
}

/* The correlation of metric on dataset data over population pop
 * ("true-labels" or "all"); NULL if absent. */
static const an_corr *find_corr(const an_db *d, const char *data, const char *metric,
                                const char *pop)
{
    for (int i = 0; i < d->ncorr; i++)
        if (!strcmp(d->corr[i].data, data) && !strcmp(d->corr[i].metric, metric) &&
            !strcmp(d->corr[i].population, pop))
            return &d->corr[i];
    return NULL;
}

static const an_cmp *find_cmp(const an_db *d, const char *data, const char *pop, const char *a,
                              const char *b)
{
    for (int i = 0; i < d->ncmp; i++)
        if (!strcmp(d->cmp[i].data, data) && !strcmp(d->cmp[i].population, pop) &&
            !strcmp(d->cmp[i].a, a) && !strcmp(d->cmp[i].b, b))
            return &d->cmp[i];
    return NULL;
}

/* held when the interval lies above null, not held when below */
static an_verdict interval_verdict(double lo, double hi, double null)
{
    if (!isfinite(lo) || !isfinite(hi))
        return CLAIM_INCONCLUSIVE;
    return lo > null ? CLAIM_HELD : hi < null ? CLAIM_NOT_HELD : CLAIM_INCONCLUSIVE;
}

/* two-sided normal-approximation p of k successes in n trials against p0 */
static double binom_p(long k, long n, double p0)
{
    if (n <= 0)
        return NAN;
    double z = (k - n * p0) / sqrt(n * p0 * (1 - p0));
    return fmin(1, erfc(fabs(z) / sqrt(2.0)));
}

/* the file name of a path, for the text */
static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

#define APPEND(x, ...) \
    snprintf((x)->measured + strlen((x)->measured), sizeof (x)->measured - strlen((x)->measured), \
             __VA_ARGS__)

/* pick_db: the database of dbs a claim uses (an_pick_source) with count(i) */
#define PICK(var, prefix, count_expr)                                         \
    do {                                                                      \
        for (int i_ = 0; i_ < n; i_++) {                                      \
            const an_db *d_ = &dbs[i_];                                       \
            (void)d_;                                                         \
            cnt[i_] = (count_expr);                                           \
        }                                                                     \
        int k_ = an_pick_source(specs, paths, cnt, n, prefix);                \
        var = k_ >= 0 ? &dbs[k_] : NULL;                                      \
    } while (0)

/* The pair fraction of factor f over subset sub ("" all pairs) for metric,
 * or NULL. */
static const an_pairfrac *find_pf(const an_db *d, an_factor f, const char *sub,
                                  const char *metric)
{
    for (int k = 0; k < d->npf; k++)
        if (d->pf[k].factor == f && !strcmp(d->pf[k].subset, sub) &&
            !strcmp(d->pf[k].metric, metric))
            return &d->pf[k];
    return NULL;
}

static void set_value(an_claim *x, const char *effect, an_interval v, double p)
{
    snprintf(x->effect, sizeof x->effect, "%s", effect);
    x->value = v;
    x->p = p;
}

static void population(an_claim *x, long n, const char *what, const an_db *d)
{
    x->n = n;
    snprintf(x->population, sizeof x->population, "%ld %s of %.60s (%s)", n, what,
             base_name(d->path), an_protocol_name(d->protocol));
}

int an_claims(const an_db *dbs, int n, an_claim **out, int *nout, sn_err *e)
{
    an_claim *c = NULL, *x;
    int nc = 0;
    *out = NULL;
    *nout = 0;
    const char **specs = malloc(sizeof(char *) * (n > 0 ? n : 1));
    const char **paths = malloc(sizeof(char *) * (n > 0 ? n : 1));
    long *cnt = malloc(sizeof(long) * (n > 0 ? n : 1));
    if (!specs || !paths || !cnt) {
        free(specs), free(paths), free(cnt);
        return err_set(e, SN_ENOMEM, "out of memory for claims");
    }
    for (int i = 0; i < n; i++)
        specs[i] = dbs[i].spec, paths[i] = dbs[i].path;
#define NEW(fig, text, rule)                                             \
    if (!(x = new_claim(&c, &nc, fig, text, rule))) {                    \
        free(c), free(specs), free(paths), free(cnt);                    \
        return err_set(e, SN_ENOMEM, "out of memory for claims");        \
    }
#define NEWID(id, dataset)                                                           \
    if (!(x = reg_claim(&c, &nc, id, dataset))) {                                    \
        int known_ = an_claim_def_of(id) != NULL;                                    \
        free(c), free(specs), free(paths), free(cnt);                                \
        return known_ ? err_set(e, SN_ENOMEM, "out of memory for claims")            \
                      : err_set(e, SN_EARG, "claim %s is not in the registry", id);  \
    }

    /* 4.1 on and off the data manifold */
    const an_db *om;
    PICK(om, an_figure("onoff-manifold")->prefix,
         d_->mf.n_data > 0 && d_->mf.n_null > 0 ? d_->mf.n_data : 0);
    NEWID("dip", NULL);
    if (om) {
        const an_manifold *m = &om->mf;
        population(x, m->n_data, "data-ellipse trajectories", om);
        set_value(x, "dip minus null's", m->dip_diff, m->dip_diff_p);
        snprintf(x->baseline, sizeof x->baseline,
                 "null (random ellipses, %ld trajectories): median log ratio %.3f [%.3f, %.3f]",
                 m->n_null, m->dip_null.v, m->dip_null.lo, m->dip_null.hi);
        APPEND(x, "median log(anchor/midpoint ||J||) %.3f [%.3f, %.3f] over %ld data-ellipse "
                  "trajectories vs %.3f [%.3f, %.3f] over %ld random ellipses; difference %.3f "
                  "[%.3f, %.3f]",
               m->dip_data.v, m->dip_data.lo, m->dip_data.hi, m->n_data, m->dip_null.v,
               m->dip_null.lo, m->dip_null.hi, m->n_null, m->dip_diff.v, m->dip_diff.lo,
               m->dip_diff.hi);
        if (!isfinite(m->dip_diff.lo) || !isfinite(m->dip_data.lo))
            x->verdict = CLAIM_INCONCLUSIVE;
        else if (m->dip_diff.hi < 0 && m->dip_data.hi < 0)
            x->verdict = CLAIM_HELD;
        else if (m->dip_data.lo > 0 || m->dip_diff.lo > 0)
            x->verdict = CLAIM_NOT_HELD;
        else
            x->verdict = CLAIM_INCONCLUSIVE;
    } else {
        APPEND(x, "no profiles of data and random ellipses on fit networks: run "
                  "studies/onoff-manifold.json");
    }
    static const char *const offid[2] = {"off-jacobian", "off-transitions"};
    static const char *const kinds4[4] = {"ellipse-diff", "ellipse-same", "ellipse-random",
                                          "translate"};
    for (int w = 0; w < 2; w++) {
        NEWID(offid[w], NULL);
        if (!om) {
            APPEND(x, "no data and random ellipses on fit networks: run "
                      "studies/onoff-manifold.json");
            continue;
        }
        if (w == 0) {
            const an_manifold *m = &om->mf;
            const an_interval *v = &m->off_jac;
            population(x, m->n_data + m->n_null, "trajectories", om);
            set_value(x, "log ratio of medians", *v, m->off_jac_p);
            APPEND(x, "log(random / data) %.2f [%.2f, %.2f]; medians per trajectory:", v->v,
                   v->lo, v->hi);
            for (int k = 0; k < 4; k++)
                if (find_onoff(om, kinds4[k]))
                    APPEND(x, " %s %.3g", kinds4[k], find_onoff(om, kinds4[k])->jac_med.v);
            x->verdict = interval_verdict(v->lo, v->hi, 0);
            continue;
        }
        /* transitions per unit length (loops differ in length, and raw
         * counts confound length with density). Its population
         * is the trajectories with a length: the database with the most of
         * them (its study first); the dip's when none has any */
        const an_db *ol;
        PICK(ol, an_figure("onoff-manifold")->prefix,
             d_->mf.n_len_data > 0 && d_->mf.n_len_null > 0 ? d_->mf.n_len_data : 0);
        const an_db *od = ol ? ol : om;
        const an_manifold *m = &od->mf;
        const an_interval *v = &m->off_trans_len, *raw = &m->off_trans;
        snprintf(x->baseline, sizeof x->baseline,
                 "raw transitions per trajectory, not per length (longer loops cross more "
                 "boundaries): log(random / data) %.2f [%.2f, %.2f]",
                 raw->v, raw->lo, raw->hi);
        if (!m->n_len_data || !m->n_len_null) {
            population(x, m->n_data + m->n_null, "trajectories", od);
            set_value(x, "log ratio of medians per length", *v, NAN);
            APPEND(x, "the trajectories' length is unknown (%s): no per-length statistic, "
                      "rerun studies/onoff-manifold.json with this sensi; raw counts: log(random "
                      "/ data) %.2f [%.2f, %.2f]",
                   !m->has_length ? "a database of schema version 3, written before lengths "
                                    "were stored"
                                  : "no data and random ellipses with a length",
                   raw->v, raw->lo, raw->hi);
            x->verdict = CLAIM_INCONCLUSIVE;
            continue;
        }
        population(x, m->n_len_data + m->n_len_null, "trajectories with a length", od);
        set_value(x, "log ratio of medians per length", *v, m->off_trans_len_p);
        APPEND(x, "per unit length: log(random / data) %.2f [%.2f, %.2f], medians", v->v, v->lo,
               v->hi);
        for (int k = 0; k < 4; k++)
            if (find_onoff(od, kinds4[k]) && find_onoff(od, kinds4[k])->n_len)
                APPEND(x, " %s %.3g", kinds4[k], find_onoff(od, kinds4[k])->per_len_med.v);
        APPEND(x, "; median lengths");
        for (int k = 0; k < 4; k++)
            if (find_onoff(od, kinds4[k]) && find_onoff(od, kinds4[k])->n_len)
                APPEND(x, " %s %.3g", kinds4[k], find_onoff(od, kinds4[k])->len_med.v);
        APPEND(x, "; raw counts: log(random / data) %.2f [%.2f, %.2f], medians", raw->v, raw->lo,
               raw->hi);
        for (int k = 0; k < 4; k++)
            if (find_onoff(od, kinds4[k]))
                APPEND(x, " %s %.3g", kinds4[k], find_onoff(od, kinds4[k])->trans_med.v);
        x->verdict = interval_verdict(v->lo, v->hi, 0);
    }

    /* 4.3 factor pairs; the activation pair at each init (the init changes
     * the answer, so the two are never pooled: docs/analysis.md) */
    static const struct {
        an_factor f;
        const char *subset, *id;
    } fclaim[] = {
        {FACTOR_LABELS, "", "factor-labels"},
        {FACTOR_AUGMENT, "", "factor-augment"},
        {FACTOR_ACTIVATION, "default", "factor-activation-default"},
        {FACTOR_ACTIVATION, "gain-matched", "factor-activation-gain-matched"},
        {FACTOR_OPTIMIZER, "", "factor-optimizer"},
    };
    for (size_t q = 0; q < sizeof fclaim / sizeof *fclaim; q++) {
        an_factor f = fclaim[q].f;
        const char *sub = fclaim[q].subset;
        NEWID(fclaim[q].id, NULL);
        const an_figure_def *fg = an_figure(x->figure);
        const an_db *fd;
        PICK(fd, fg->prefix,
             find_pf(d_, f, sub, "jac_test_mean") ? find_pf(d_, f, sub, "jac_test_mean")->pairs
                                                  : 0);
        const an_pairfrac *pf = fd ? find_pf(fd, f, sub, "jac_test_mean") : NULL;
        if (!pf) {
            APPEND(x, "no pairs of fit networks differing in this factor%s%s: run studies/%s.json",
                   *sub ? " at init " : "", sub, fg->study);
            continue;
        }
        char what[64];
        snprintf(what, sizeof what, "pairs (%d configs)", pf->clusters);
        population(x, pf->pairs, what, fd);
        set_value(x, "fraction, better level lower", pf->dir_metric, pf->dir_metric_p);
        snprintf(x->baseline, sizeof x->baseline,
                 "the better level has the lower gap in %.0f%% [%.0f, %.0f]; concordance "
                 "(better-generalizing member lower) %.0f%% [%.0f, %.0f] of %ld pairs",
                 100 * pf->dir_gap.v, 100 * pf->dir_gap.lo, 100 * pf->dir_gap.hi,
                 100 * pf->concord.v, 100 * pf->concord.lo, 100 * pf->concord.hi, pf->n_concord);
        APPEND(x, "the paper's better level has the lower Jacobian in %.0f%% [%.0f, %.0f] of %ld "
                  "pairs; %s",
               100 * pf->dir_metric.v, 100 * pf->dir_metric.lo, 100 * pf->dir_metric.hi,
               pf->pairs, x->baseline);
        x->verdict = interval_verdict(pf->dir_metric.lo, pf->dir_metric.hi, 0.5);
    }

    /* 4.4 correlation with the gap, per dataset */
    static const char *const datasets[4] = {"mnist", "fashion-mnist", "cifar10", "cifar100"};
    for (int d = 0; d < 4; d++) {
        const an_db *src;
        PICK(src, an_figure("jacobian-gap")->prefix,
             find_corr(d_, datasets[d], "jac_test_mean", "true-labels")
                 ? find_corr(d_, datasets[d], "jac_test_mean", "true-labels")->n
                 : 0);
        if (!src && d >= 2)
            continue; /* CIFAR is optional on machines without its files */
        NEWID("jacobian-gap", datasets[d]);
        if (!src) {
            /* every claim of the gap study, each saying what is missing */
            static const char *const gap_ids[] = {"jacobian-gap", "jacobian-beats-baselines",
                                                  "transitions-uncorrelated",
                                                  "jacobian-beats-transitions"};
            for (int g = 0; g < 4; g++) {
                if (g)
                    NEWID(gap_ids[g], datasets[d]);
                APPEND(x, "no fit true-label networks with Jacobian norms: run "
                          "studies/gap-%s.json",
                       d == 0 ? "mnist" : "fashion");
            }
            continue;
        }
        const an_corr *cj = find_corr(src, datasets[d], "jac_test_mean", "true-labels");
        population(x, cj->n, "true-label fit networks", src);
        set_value(x, "Spearman", cj->spearman, cj->spearman_p);
        /* the best baseline: the largest |Spearman| among them */
        const an_corr *bb = NULL;
        for (int i = 0; i < src->ncorr; i++) {
            const an_corr *b = &src->corr[i];
            if (strcmp(b->data, datasets[d]) || strcmp(b->population, "true-labels") ||
                !an_metric_is_baseline(b->metric) || !isfinite(b->spearman.v))
                continue;
            if (!bb || fabs(b->spearman.v) > fabs(bb->spearman.v))
                bb = b;
        }
        const an_cmp *bc = bb ? find_cmp(src, datasets[d], "true-labels", "jac_test_mean",
                                         bb->metric)
                              : NULL;
        if (bb)
            snprintf(x->baseline, sizeof x->baseline,
                     "best baseline %s: Spearman %.2f [%.2f, %.2f]; Jacobian minus |baseline| "
                     "%.2f [%.2f, %.2f]",
                     bb->metric, bb->spearman.v, bb->spearman.lo, bb->spearman.hi,
                     bc ? bc->diff.v : NAN, bc ? bc->diff.lo : NAN, bc ? bc->diff.hi : NAN);
        APPEND(x, "Spearman %.2f [%.2f, %.2f], Kendall %.2f, Pearson(log) %.2f over %d true-label "
                  "fit networks (%d configs); granulated Kendall %.2f [%.2f, %.2f] over %d axes",
               cj->spearman.v, cj->spearman.lo, cj->spearman.hi, cj->kendall.v, cj->pearson_log.v,
               cj->n, cj->clusters, cj->granulated.v, cj->granulated.lo, cj->granulated.hi,
               cj->granulated_axes);
        if (x->baseline[0])
            APPEND(x, "; %s", x->baseline);
        x->verdict = interval_verdict(cj->spearman.lo, cj->spearman.hi, 0);

        NEWID("jacobian-beats-baselines", datasets[d]);
        if (bc) {
            population(x, bc->n, "true-label fit networks", src);
            set_value(x, "difference of Spearman", bc->diff, bc->p);
            snprintf(x->baseline, sizeof x->baseline, "%s: Spearman %.2f [%.2f, %.2f]",
                     bb->metric, bb->spearman.v, bb->spearman.lo, bb->spearman.hi);
            APPEND(x, "Jacobian %.2f vs %s %.2f: difference %.2f [%.2f, %.2f]", cj->spearman.v,
                   bb->metric, bb->spearman.v, bc->diff.v, bc->diff.lo, bc->diff.hi);
            x->verdict = interval_verdict(bc->diff.lo, bc->diff.hi, 0);
        } else {
            APPEND(x, "no baseline measured on these networks");
        }

        /* label noise is its own line: with noise levels mixed in, the noise
         * fraction alone orders the gaps; from the label-noise study when
         * given (spec "labelnoise-..."), else the database with the most
         * fit networks with noise among them */
        const an_db *nsrc;
        PICK(nsrc, an_claim_def_of("labelnoise-gap")->prefix,
             find_corr(d_, datasets[d], "jac_test_mean", "all")
                 ? find_corr(d_, datasets[d], "jac_test_mean", "all")->n
                 : 0);
        const an_corr *all = nsrc ? find_corr(nsrc, datasets[d], "jac_test_mean", "all") : NULL;
        if (all) {
            const an_corr *tl = find_corr(nsrc, datasets[d], "jac_test_mean", "true-labels");
            NEWID("labelnoise-gap", datasets[d]);
            population(x, all->n, "fit networks (some with label noise)", nsrc);
            set_value(x, "Spearman", all->spearman, all->spearman_p);
            const an_corr *nz = find_corr(nsrc, datasets[d], "random_labels", "all");
            if (nz)
                snprintf(x->baseline, sizeof x->baseline,
                         "the label-noise fraction itself: Spearman %.2f [%.2f, %.2f]",
                         nz->spearman.v, nz->spearman.lo, nz->spearman.hi);
            APPEND(x, "Spearman %.2f [%.2f, %.2f] over all %d fit networks (%d with label noise)%s%s",
                   all->spearman.v, all->spearman.lo, all->spearman.hi, all->n,
                   all->n - (tl ? tl->n : 0), nz ? "; " : "", x->baseline);
            x->verdict = interval_verdict(all->spearman.lo, all->spearman.hi, 0);
        }

        /* transitions: normalised per neuron and kink, the kind with most networks */
        const an_corr *ct = NULL;
        static const char *const tk[4] = {"trans_ellipse_diff_per_kink",
                                          "trans_ellipse_same_per_kink",
                                          "trans_translate_per_kink",
                                          "trans_ellipse_random_per_kink"};
        for (int t = 0; t < 4; t++) {
            const an_corr *q = find_corr(src, datasets[d], tk[t], "true-labels");
            if (q && (!ct || q->n > ct->n))
                ct = q;
        }
        NEWID("transitions-uncorrelated", datasets[d]);
        if (!ct) {
            APPEND(x, "no transitions measured on fit true-label networks of %s", datasets[d]);
        } else {
            population(x, ct->n, "true-label fit networks", src);
            set_value(x, "Spearman", ct->spearman, NAN);
            const an_corr *raw = NULL;
            char rawname[40];
            snprintf(rawname, sizeof rawname, "%.*s", (int)(strlen(ct->metric) - 9), ct->metric);
            raw = find_corr(src, datasets[d], rawname, "true-labels");
            APPEND(x, "%s: Spearman %.2f, 90%% interval [%.2f, %.2f], 95%% [%.2f, %.2f]",
                   ct->metric, ct->spearman.v, ct->sp90_lo, ct->sp90_hi, ct->spearman.lo,
                   ct->spearman.hi);
            if (raw)
                APPEND(x, "; raw count %.2f [%.2f, %.2f]", raw->spearman.v, raw->spearman.lo,
                       raw->spearman.hi);
            const double M = 0.3;
            if (!isfinite(ct->sp90_lo) || !isfinite(ct->spearman.lo))
                x->verdict = CLAIM_INCONCLUSIVE;
            else if (ct->sp90_lo > -M && ct->sp90_hi < M)
                x->verdict = CLAIM_HELD;
            else if (ct->spearman.lo > M || ct->spearman.hi < -M)
                x->verdict = CLAIM_NOT_HELD;
            else
                x->verdict = CLAIM_INCONCLUSIVE;
        }
        NEWID("jacobian-beats-transitions", datasets[d]);
        const an_cmp *tc = ct ? find_cmp(src, datasets[d], "true-labels", "jac_test_mean",
                                         ct->metric)
                              : NULL;
        if (!tc) {
            APPEND(x, "no transitions measured on fit true-label networks of %s", datasets[d]);
        } else {
            population(x, tc->n, "true-label fit networks", src);
            set_value(x, "difference of Spearman", tc->diff, tc->p);
            APPEND(x, "Jacobian minus |%s|: %.2f [%.2f, %.2f]", ct->metric, tc->diff.v,
                   tc->diff.lo, tc->diff.hi);
            x->verdict = interval_verdict(tc->diff.lo, tc->diff.hi, 0);
        }
    }

    /* 4.5 per point */
    const an_db *bp;
    PICK(bp, an_figure("per-point")->prefix, d_->pts.networks);
    NEWID("per-point-auc", NULL);
    long worst = -1;
    if (bp) {
        const an_points *pt = &bp->pts;
        population(x, pt->networks, "fit networks with per-point rows", bp);
        int above = 0, below = 0;
        double pmax = 0;
        for (long i = 0; i < pt->networks; i++) {
            const an_ppnet *q = &pt->net[i];
            above += q->auc.lo > 0.5;
            below += q->auc.hi < 0.5;
            pmax = fmax(pmax, isfinite(q->auc_p) ? q->auc_p : 1);
            if (worst < 0 || q->auc.v < pt->net[worst].auc.v)
                worst = i;
        }
        an_interval w = pt->net[worst].auc;
        set_value(x, "smallest network AUC", w, pmax);
        APPEND(x, "AUC per network %.3f-%.3f (mean %.3f; the smallest %.3f [%.3f, %.3f]) over "
                  "%ld points; %d of %ld networks' intervals above 0.5",
               pt->auc_lo, pt->auc_hi, pt->auc_mean, w.v, w.lo, w.hi, pt->points, above,
               pt->networks);
        x->verdict = above == pt->networks ? CLAIM_HELD
                     : below == pt->networks ? CLAIM_NOT_HELD
                                             : CLAIM_INCONCLUSIVE;

        NEWID("per-point-top-decile", NULL);
        population(x, pt->top_n, "top-decile points", bp);
        an_interval tv = {pt->top_n ? (double)pt->top_wrong / pt->top_n : NAN, NAN, NAN};
        stats_wilson(pt->top_wrong, pt->top_n, 0.95, &tv.lo, &tv.hi);
        set_value(x, "misclassified fraction", tv, binom_p(pt->top_wrong, pt->top_n, 0.5));
        APPEND(x, "%ld of %ld points in the top decile are misclassified (%.0f%% [%.0f, %.0f]); "
                  "per network:",
               pt->top_wrong, pt->top_n, 100 * tv.v, 100 * tv.lo, 100 * tv.hi);
        for (long i = 0; i < pt->networks && i < 8; i++)
            APPEND(x, " %ld/%ld", pt->net[i].top_wrong, pt->net[i].top_n);
        x->verdict = interval_verdict(tv.lo, tv.hi, 0.5);

        NEWID("per-point-beats-confidence", NULL);
        population(x, pt->networks, "fit networks with per-point rows", bp);
        int ab = 0, be = 0;
        double pd = 0;
        long wi = 0;
        for (long i = 0; i < pt->networks; i++) {
            const an_ppnet *q = &pt->net[i];
            ab += q->auc_diff.lo > 0;
            be += q->auc_diff.hi < 0;
            pd = fmax(pd, isfinite(q->auc_diff_p) ? q->auc_diff_p : 1);
            if (q->auc_diff.v < pt->net[wi].auc_diff.v)
                wi = i;
        }
        set_value(x, "smallest AUC difference", pt->net[wi].auc_diff, pd);
        APPEND(x, "per network AUC(Jacobian) - AUC(confidence):");
        for (long i = 0; i < pt->networks && i < 8; i++)
            APPEND(x, " %.3f (%s %.3f)", pt->net[i].auc_diff.v, pt->net[i].conf,
                   pt->net[i].auc_conf.v);
        APPEND(x, "; %d of %ld above 0, %d below", ab, pt->networks, be);
        snprintf(x->baseline, sizeof x->baseline, "confidence AUC %.3f on the network whose "
                 "difference is smallest", pt->net[wi].auc_conf.v);
        x->verdict = ab == pt->networks ? CLAIM_HELD
                     : be == pt->networks ? CLAIM_NOT_HELD
                                          : CLAIM_INCONCLUSIVE;
    } else {
        APPEND(x, "no per-point rows of fit networks: run studies/per-point.json");
        NEWID("per-point-top-decile", NULL);
        APPEND(x, "no per-point rows of fit networks: run studies/per-point.json");
        NEWID("per-point-beats-confidence", NULL);
        APPEND(x, "no per-point rows of fit networks: run studies/per-point.json");
    }

    /* 4.6 bounds: the functional form and where the points fall */
    const an_db *xb;
    PICK(xb, an_figure("xent-bounds")->prefix, d_->pts.networks);
    NEWID("bounds-form", NULL);
    if (xb) {
        const an_points *pt = &xb->pts;
        population(x, pt->networks, "fit networks with per-point rows", xb);
        int hi = 0, lo = 0;
        long wi = 0;
        for (long i = 0; i < pt->networks; i++) {
            hi += pt->net[i].r_lo > 0.9;
            lo += pt->net[i].r_hi < 0.9;
            if (!(pt->net[i].loglog_r >= pt->net[wi].loglog_r))
                wi = i;
        }
        an_interval r = {pt->net[wi].loglog_r, pt->net[wi].r_lo, pt->net[wi].r_hi};
        set_value(x, "smallest log-log r", r, NAN);
        APPEND(x, "log-log r per network:");
        for (long i = 0; i < pt->networks && i < 8; i++)
            APPEND(x, " %.3f", pt->net[i].loglog_r);
        x->verdict = hi == pt->networks ? CLAIM_HELD : lo > 0 ? CLAIM_NOT_HELD : CLAIM_INCONCLUSIVE;
    } else {
        APPEND(x, "no per-point rows of fit networks: run studies/xent-bounds.json");
    }
    NEWID("bounds-band", NULL);
    if (xb) {
        const an_points *pt = &xb->pts;
        population(x, pt->ratio_n, "test points", xb);
        an_interval f = {pt->ratio_n ? (double)pt->inside / pt->ratio_n : NAN, NAN, NAN};
        stats_wilson(pt->inside, pt->ratio_n, 0.95, &f.lo, &f.hi);
        set_value(x, "fraction inside", f, binom_p(pt->inside, pt->ratio_n, 0.9));
        APPEND(x, "of %ld points %.0f%% below the band, %.0f%% inside [%.0f, %.0f], %.0f%% above "
                  "(the orthogonality assumption does not hold where points leave the band)",
               pt->ratio_n, 100.0 * pt->below / (pt->ratio_n ? pt->ratio_n : 1), 100 * f.v,
               100 * f.lo, 100 * f.hi, 100.0 * pt->above / (pt->ratio_n ? pt->ratio_n : 1));
        x->verdict = interval_verdict(f.lo, f.hi, 0.9);
    } else {
        APPEND(x, "no per-point rows of fit networks: run studies/xent-bounds.json");
    }
#undef NEW
#undef NEWID
    /* Holm over the claims with a p-value */
    double *pv = malloc(sizeof(double) * (nc > 0 ? nc : 1));
    if (!pv) {
        free(c), free(specs), free(paths), free(cnt);
        return err_set(e, SN_ENOMEM, "out of memory for claims");
    }
    for (int i = 0; i < nc; i++)
        pv[i] = c[i].verdict == CLAIM_NO_DATA ? NAN : c[i].p;
    stats_holm(pv, nc, pv);
    for (int i = 0; i < nc; i++) {
        c[i].verdict_holm = c[i].verdict;
        if ((c[i].verdict == CLAIM_HELD || c[i].verdict == CLAIM_NOT_HELD) && isfinite(pv[i]) &&
            pv[i] > 0.05)
            c[i].verdict_holm = CLAIM_INCONCLUSIVE;
    }
    free(pv), free(specs), free(paths), free(cnt);
    *out = c;
    *nout = nc;
    return SN_OK;
}
