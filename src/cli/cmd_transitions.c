/* cmd_transitions.c: `sensi transitions MODEL`: activation-region transitions
 * of a saved network along closed trajectories (STUDY.md section 3): ellipses
 * through training points of different classes / one class, random
 * ellipses, translation loops of test images (around the square of the
 * training augmentation's shifts), or user-given anchors.
 * Sampled (k equally spaced points) or exact (region-to-region walk).
 * Prints one JSON summary on stdout (with each kind's mean arc length in
 * input space and transitions per unit length, traj_length); optional
 * per-trajectory CSV and a per-sample/per-region profile CSV. Each
 * trajectory's anchors derive from (seed, trajectory id, kind), so runs are
 * reproducible. */
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../core/fileio.h"
#include "../core/progress.h"
#include "../nn/model_io.h"
#include "../sens/traj.h"
#include "../sens/transitions.h"
#include "cli.h"

static void usage(FILE *f)
{
    fprintf(f,
"usage: sensi transitions MODEL.safetensors [options]\n"
"\n"
"Count activation-region transitions along closed trajectories in input space;\n"
"prints one JSON object (mean transitions and standard error, mean arc length\n"
"and transitions per unit length, per kind).\n"
"\n"
"  --data NAME          dataset [the one in the model's metadata]\n"
"  --data-dir DIR       read the dataset files from DIR [installed locations]\n"
"  --trajectory K[,K..] ellipse-diff, ellipse-same, ellipse-random, translate,\n"
"                       ellipse, polygon (the last two need --anchors) [ellipse-diff]\n"
"  --translate-shift PX translate: the loop of a test image shifted by every\n"
"                       (dx, dy) on the boundary of [-PX, PX]^2 (8 PX vertices, the\n"
"                       training augmentation's shifts) [the model's\n"
"                       --augment-shift, 4 without augmentation]\n"
"  --anchors I,J,K      positions in the training split file, within the model's\n"
"                       training subset (ellipse: 3, polygon: >= 2)\n"
"  --count N            trajectories per kind [10; 1 with --anchors]\n"
"  --exact              exact count by walking region to region\n"
"  --samples K          samples per trajectory (sampled count) [65536]\n"
"  --curvature          also the curvature sum (needs --exact)\n"
"  --tanh-code sign     tanh networks: count sign changes of pre-activations\n"
"  --seed S             anchor choice [1]\n"
"  --profile FILE.csv   per region (exact) or every stride-th sample (sampled, at\n"
"                       most --profile-points rows + the closing row, each with the\n"
"                       transitions since the previous row): id, kind, u,\n"
"                       jac_softmax, transitions\n"
"  --profile-points N   sampled profile rows per trajectory [4096]\n"
"  --csv FILE           one row per trajectory: id, kind, anchors, transitions,\n"
"                       regions, curvature, samples, seconds, length (arc length\n"
"                       in input space, after the dataset's preprocessing)\n"
"  -h, --help           this help\n");
}

typedef struct prof_ctx {
    FILE *f;
    int id;
    const char *kind;
} prof_ctx;

static void prof_cb(void *ctx, double u, double jac, long tr)
{
    prof_ctx *p = ctx;
    if (isfinite(jac))
        fprintf(p->f, "%d,%s,%.10f,%.6g,%ld\n", p->id, p->kind, u, jac, tr);
    else
        fprintf(p->f, "%d,%s,%.10f,,%ld\n", p->id, p->kind, u, tr);
}

/* The open temporaries of --profile and --csv, removed by fail() (a failure
 * mid-run leaves no temporary behind). */
static FILE *g_prof, *g_csv;
static const char *g_prof_tmp, *g_csv_tmp;

static void abort_outputs(void)
{
    if (g_prof)
        file_abort_atomic(g_prof, g_prof_tmp);
    if (g_csv)
        file_abort_atomic(g_csv, g_csv_tmp);
    g_prof = g_csv = NULL;
}

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void fail(const char *fmt, ...)
{
    abort_outputs();
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    die("%s", buf);
}

static void fail_err(const sn_err *e) __attribute__((noreturn));
static void fail_err(const sn_err *e) { fail("%s", e->msg[0] ? e->msg : "unknown error"); }

/* Row of ds whose position in the split file is pos, or -1. */
static int row_of(const dataset *ds, long pos)
{
    for (int i = 0; i < ds->n; i++)
        if (ds->index[i] == pos)
            return i;
    return -1;
}

typedef struct stats {
    long n;
    double s, s2, reg, curv, secs;
    long n_len;        /* trajectories of positive length */
    double len, dens;  /* sums of their lengths and of transitions / length */
} stats;

static void add_stats(cJSON *o, const stats *s, int exact)
{
    double mean = s->n ? s->s / s->n : NAN;
    double var = s->n > 1 ? (s->s2 - s->n * mean * mean) / (s->n - 1) : NAN;
    double se = s->n > 1 && var > 0 ? sqrt(var / s->n) : (s->n > 1 ? 0 : NAN);
    cJSON_AddNumberToObject(o, "trajectories", s->n);
    if (isfinite(mean))
        cJSON_AddNumberToObject(o, "mean_transitions", mean);
    else
        cJSON_AddNullToObject(o, "mean_transitions");
    if (isfinite(se))
        cJSON_AddNumberToObject(o, "stderr_transitions", se);
    else
        cJSON_AddNullToObject(o, "stderr_transitions");
    if (s->n)
        cJSON_AddNumberToObject(o, "mean_regions", s->reg / s->n);
    if (exact && s->n && isfinite(s->curv))
        cJSON_AddNumberToObject(o, "mean_curvature", s->curv / s->n);
    if (s->n_len) {
        cJSON_AddNumberToObject(o, "mean_length", s->len / s->n_len);
        cJSON_AddNumberToObject(o, "mean_transitions_per_length", s->dens / s->n_len);
    }
    cJSON_AddNumberToObject(o, "seconds", s->secs);
}

int cmd_transitions(int argc, char **argv)
{
    static const struct option lo[] = {
        {"data", 1, 0, 'd'},    {"data-dir", 1, 0, 'D'}, {"trajectory", 1, 0, 't'},
        {"anchors", 1, 0, 'a'}, {"count", 1, 0, 'n'},    {"exact", 0, 0, 'x'},
        {"samples", 1, 0, 'k'}, {"tanh-code", 1, 0, 'T'}, {"seed", 1, 0, 's'},
        {"profile", 1, 0, 'p'}, {"csv", 1, 0, 'c'},      {"curvature", 0, 0, 'C'},
        {"profile-points", 1, 0, 'P'}, {"translate-shift", 1, 0, 'S'},
        {"help", 0, 0, 'h'},    {0, 0, 0, 0}};
    const char *name = NULL, *dir = NULL, *kinds_s = "ellipse-diff", *anchors_s = NULL;
    const char *prof_path = NULL, *csv_path = NULL;
    long count = -1, samples = 65536;
    int exact = 0, tanh_sign = 0, curvature = 0, profile_points = 0, shift = 0;
    uint64_t seed = 1;
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
        switch (c) {
        case 'd': name = optarg; break;
        case 'D': dir = optarg; break;
        case 't': kinds_s = optarg; break;
        case 'a': anchors_s = optarg; break;
        case 'n': count = parse_long("--count", optarg, 1, 1000000); break;
        case 'x': exact = 1; break;
        case 'k': samples = parse_long("--samples", optarg, 2, 1L << 40); break;
        case 'T':
            if (strcmp(optarg, "sign") != 0)
                die("--tanh-code: expected 'sign' (got '%s')", optarg);
            tanh_sign = 1;
            break;
        case 's': seed = parse_u64("--seed", optarg); break;
        case 'p': prof_path = optarg; break;
        case 'c': csv_path = optarg; break;
        case 'C': curvature = 1; break;
        case 'S': shift = (int)parse_long("--translate-shift", optarg, 1, 64); break;
        case 'P': profile_points = (int)parse_long("--profile-points", optarg, 1, 1 << 30); break;
        case 'h': usage(stdout); return 0;
        default: die_bad_option("transitions", argv);
        }
    }
    if (optind != argc - 1)
        die("transitions: expected exactly one model file (see sensi transitions --help)");
    const char *path = argv[optind];
    if (curvature && !exact)
        die("--curvature needs --exact (the curvature sum is taken over the regions the exact "
            "walk visits)");
    if (prof_path)
        cli_check_writable(prof_path, "profile");
    if (csv_path)
        cli_check_writable(csv_path, "CSV");
    if (prof_path && csv_path && !strcmp(prof_path, csv_path))
        die("--profile and --csv name the same file %s", csv_path);
    /* SIGINT, SIGTERM, SIGHUP: stop after the trajectory under way, write
     * nothing, remove the temporaries */
    volatile sig_atomic_t *stop = cli_catch_stop();

    /* trajectory kinds */
    traj_kind kinds[16];
    int nk = 0;
    sn_err e = {0};
    {
        char *buf = strdup(kinds_s), *save = NULL;
        if (!buf)
            die("out of memory");
        for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
            if (nk == 16)
                die("--trajectory: at most 16 kinds");
            if (traj_kind_parse(tok, &kinds[nk], &e))
                die("--trajectory: %s", e.msg);
            nk++;
        }
        free(buf);
        if (nk == 0)
            die("--trajectory: no kind given");
    }
    long anchors[4096];
    int na = 0;
    if (anchors_s) {
        char *buf = strdup(anchors_s), *save = NULL;
        if (!buf)
            die("out of memory");
        size_t len = strlen(anchors_s);
        if (!len || anchors_s[0] == ',' || anchors_s[len - 1] == ',' || strstr(anchors_s, ",,"))
            die("--anchors: '%s' is not a comma-separated list of integers", anchors_s);
        for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
            if (na == 4096)
                die("--anchors: at most 4096 anchors");
            anchors[na++] = parse_long("--anchors", tok, 0, 1000000000L);
        }
        free(buf);
    }
    for (int q = 0; q < nk; q++) {
        if (kinds[q] == TRAJ_ELLIPSE_ANCHORS && na != 3)
            die("--trajectory ellipse needs --anchors I,J,K (3 training positions, got %d)", na);
        if (kinds[q] == TRAJ_POLYGON_ANCHORS && na < 2)
            die("--trajectory polygon needs --anchors with >= 2 training positions (got %d)", na);
    }
    if (count < 0)
        count = anchors_s ? 1 : 10;

    mlp m;
    model_meta mm = {0};
    data_opts d;
    cli_load_model_data_opts(path, name, dir, &m, &mm, &d);
    shift = traj_translate_radius(shift, cli_model_augment_shift(&mm, path));
    if (m.cfg.act == ACT_TANH && !tanh_sign)
        die("%s: tanh has no linear pieces, so no transitions; count sign changes of "
            "pre-activations with --tanh-code sign",
            path);
    dataset train, test;
    cli_load_data(&d, &train, &test);
    cli_check_model_data(path, &m, &train, d.name);
    int rows[4096];
    for (int q = 0; q < na; q++) {
        cli_check_anchor(anchors[q], train.n, d.name);
        rows[q] = row_of(&train, anchors[q]);
        if (rows[q] < 0) /* cli_check_anchor has checked it is in the subset */
            die("--anchors: position %ld is not in the training subset", anchors[q]);
    }

    /* both files are written atomically: a temporary beside each, renamed
     * over the path at the end; a failed or interrupted run leaves the old
     * file (if any) as it was */
    FILE *pf = NULL, *cf = NULL;
    static char prof_tmp[4096 + 32], csv_tmp[4096 + 32];
    if (prof_path) {
        if (!(pf = file_create_atomic(prof_path, prof_tmp, sizeof prof_tmp, &e)))
            die_err(&e);
        g_prof = pf, g_prof_tmp = prof_tmp;
        fprintf(pf, "id,kind,u,jac_softmax,transitions\n");
    }
    if (csv_path) {
        if (!(cf = file_create_atomic(csv_path, csv_tmp, sizeof csv_tmp, &e)))
            fail_err(&e);
        g_csv = cf, g_csv_tmp = csv_tmp;
        fprintf(cf, "id,kind,anchors,transitions,regions,curvature,samples,seconds,length\n");
    }
    double t_all = progress_now();
    stats all = {0}, per[16];
    memset(per, 0, sizeof per);
    int id = 0;
    for (int q = 0; q < nk; q++) {
        traj_kind k = kinds[q];
        for (long i = 0; i < count; i++, id++) {
            traj t;
            int rc = SN_OK;
            char anch[256] = "";
            switch (k) {
            case TRAJ_ELLIPSE_DIFF:
            case TRAJ_ELLIPSE_SAME:
            case TRAJ_ELLIPSE_RANDOM:
            case TRAJ_TRANSLATE:
                rc = traj_build(k, &train, &test, seed, i, shift, &t, anch, sizeof anch, &e);
                break;
            case TRAJ_ELLIPSE_ANCHORS:
                rc = traj_ellipse3(&t, train.x + (size_t)rows[0] * train.d,
                                   train.x + (size_t)rows[1] * train.d,
                                   train.x + (size_t)rows[2] * train.d, train.d, &e);
                snprintf(anch, sizeof anch, "train:%ld;%ld;%ld", anchors[0], anchors[1],
                         anchors[2]);
                break;
            case TRAJ_POLYGON_ANCHORS: {
                double *v = malloc(sizeof(double) * (size_t)na * train.d);
                if (!v)
                    fail("out of memory for %d anchors of %d inputs (%zu bytes)", na, train.d,
                         sizeof(double) * (size_t)na * train.d);
                for (int a = 0; a < na; a++)
                    for (int j = 0; j < train.d; j++)
                        v[(size_t)a * train.d + j] = train.x[(size_t)rows[a] * train.d + j];
                rc = traj_polygon(&t, v, na, train.d, &e);
                free(v);
                int off = snprintf(anch, sizeof anch, "train:");
                for (int a = 0; a < na && off < (int)sizeof anch - 24; a++)
                    off += snprintf(anch + off, sizeof anch - off, a ? ";%ld" : "%ld", anchors[a]);
                break;
            }
            }
            if (rc)
                fail_err(&e);
            prof_ctx pc = {pf, id, traj_kind_name(k)};
            trans_opts o = {.tanh_sign = tanh_sign, .profile = pf ? prof_cb : NULL,
                            .profile_ctx = &pc, .curvature = curvature,
                            .profile_points = profile_points};
            trans_result res;
            double t0 = progress_now();
            rc = exact ? trans_exact(&m, &t, &o, &res, &e)
                       : trans_sampled(&m, &t, samples, &o, &res, &e);
            double secs = progress_now() - t0;
            if (rc)
                fail_err(&e);
            double len = traj_length(&t);
            traj_free(&t);
            stats *ss[2] = {&all, &per[q]};
            for (int s = 0; s < 2; s++) {
                ss[s]->n++;
                ss[s]->s += res.transitions;
                ss[s]->s2 += (double)res.transitions * res.transitions;
                ss[s]->reg += res.regions;
                ss[s]->curv += res.curvature;
                ss[s]->secs += secs;
                if (len > 0) {
                    ss[s]->n_len++;
                    ss[s]->len += len;
                    ss[s]->dens += res.transitions / len;
                }
            }
            if (cf) {
                fprintf(cf, "%d,%s,%s,%ld,%ld,", id, traj_kind_name(k), anch, res.transitions,
                        res.regions);
                if (isfinite(res.curvature))
                    fprintf(cf, "%.10g", res.curvature);
                fprintf(cf, ",%ld,%.6f,%.10g\n", res.samples, secs, len);
            }
            if (*stop) {
                abort_outputs();
                fprintf(stderr, "sensi: transitions: interrupted after %d trajectories; no "
                                "file was written\n", id + 1);
                mlp_free(&m);
                model_meta_free(&mm);
                dataset_free(&train);
                dataset_free(&test);
                return 130;
            }
        }
    }
    double wall = progress_now() - t_all;
    g_prof = g_csv = NULL;
    if (pf && file_commit_atomic(pf, prof_tmp, prof_path, &e)) {
        if (cf)
            file_abort_atomic(cf, csv_tmp);
        die_err(&e);
    }
    if (cf && file_commit_atomic(cf, csv_tmp, csv_path, &e))
        die_err(&e);

    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "model", path);
    cJSON_AddStringToObject(root, "data", d.name);
    cJSON_AddStringToObject(root, "method", exact ? "exact" : "sampled");
    if (!exact)
        cJSON_AddNumberToObject(root, "samples", (double)samples);
    add_stats(root, &all, exact && curvature);
    cJSON *pk = cJSON_AddObjectToObject(root, "per_kind");
    for (int q = 0; q < nk; q++) {
        cJSON *o = cJSON_AddObjectToObject(pk, traj_kind_name(kinds[q]));
        add_stats(o, &per[q], exact && curvature);
        if (kinds[q] == TRAJ_TRANSLATE)
            cJSON_AddNumberToObject(o, "shift", shift);
    }
    cJSON_AddNumberToObject(root, "wall_s", wall);
    print_json(root);
    mlp_free(&m);
    model_meta_free(&mm);
    dataset_free(&train);
    dataset_free(&test);
    return 0;
}
