/* cmd_jacobian.c: `sensi jacobian MODEL`: input-output Jacobian norms of a
 * saved network at the first N points of a split of the data it was trained
 * on (dataset, subsets, preprocessing and random labels from the model's
 * metadata; labels are the ones the network saw: possibly randomised on the
 * training split, true on the test split). Per-point CSV (--csv) and a
 * summary: means, medians and standard errors of ||J||_F and ||J_f||_F, the
 * cross-entropy bounds of STUDY.md 4.6 and how many points they hold for, the
 * AUC of ||J||_F as a misclassification predictor, and optionally the
 * random-projection estimate of mean ||J||_F^2. The maths is in
 * src/sens/jacobian.c; this file only loads, summarises and prints. */
#include <getopt.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../core/blas.h"
#include "../core/fileio.h"
#include "../core/progress.h"
#include "../nn/model_io.h"
#include "../sens/jac_summary.h"
#include "../sens/jacobian.h"
#include "cli.h"

static void usage(FILE *f)
{
    fprintf(f,
"usage: sensi jacobian MODEL.safetensors [options]\n"
"\n"
"Jacobian norms of a saved network's softmax output (||J||_F) and logits\n"
"(||J_f||_F) with respect to the input, at the first N points of a split of\n"
"the data the network was trained on. Prints a summary (one JSON object with\n"
"--json or when stdout is not a terminal, a short table otherwise).\n"
"\n"
"  --data NAME          dataset [the one in the model's metadata, else fashion-mnist]\n"
"  --data-dir DIR       read the dataset files from DIR [installed locations]\n"
"  --split S            test or train (the model's training subset) [test]\n"
"  --points N           the first N points of the split [1000, or all if fewer]\n"
"  --csv FILE           per-point CSV: index,label,pred,correct,loss,jac_softmax,\n"
"                       jac_logit,jac_y,bound_lower,bound_upper,maxent [none]\n"
"  --projections M      also estimate mean ||J||_F^2 from M random projections\n"
"                       per point, 0 = off [0]\n"
"  --seed S             seed of the projections [1]\n"
"  --threads N          worker threads (one BLAS thread each), 0 = all cores [0]\n"
"  --json               print the summary as JSON even on a terminal [off]\n"
"  -q, --quiet          no progress output\n"
"  -h, --help           this help\n"
"\n"
"index is the example's position in the split's file; loss is -log s_y; the\n"
"bounds on ||J_y|| (true-class row) use M = mean over the points of\n"
"||J_f||_F^2 / K. The summary's compute_s times the Jacobians only (no\n"
"loading). Exit status 2 on bad input.\n");
}

typedef struct jprog {
    progress bar;
} jprog;

static void on_chunk(void *ctx, int done, int n)
{
    (void)n;
    progress_update(&((jprog *)ctx)->bar, done, NULL);
}

/* Growable text buffer for the CSV; dies on allocation failure. */
typedef struct sbuf {
    char *p;
    size_t len, cap;
} sbuf;

static void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *b, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int k = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? b->cap - b->len : 0, fmt, ap);
        va_end(ap);
        if (k < 0)
            die("jacobian: cannot format the CSV");
        if (b->p && b->len + k < b->cap) {
            b->len += k;
            return;
        }
        size_t cap = b->cap ? b->cap * 2 : 1 << 16;
        while (cap < b->len + k + 1)
            cap *= 2;
        char *q = realloc(b->p, cap);
        if (!q)
            die("jacobian: out of memory for the CSV (%zu bytes)", cap);
        b->p = q, b->cap = cap;
    }
}

enum { O_DATA = 256, O_DIR, O_SPLIT, O_POINTS, O_CSV, O_PROJ, O_SEED, O_THREADS, O_JSON };

int cmd_jacobian(int argc, char **argv)
{
    static const struct option lo[] = {
        {"data", 1, 0, O_DATA},     {"data-dir", 1, 0, O_DIR},       {"split", 1, 0, O_SPLIT},
        {"points", 1, 0, O_POINTS}, {"csv", 1, 0, O_CSV},            {"projections", 1, 0, O_PROJ},
        {"seed", 1, 0, O_SEED},     {"threads", 1, 0, O_THREADS},    {"json", 0, 0, O_JSON},
        {"quiet", 0, 0, 'q'},       {"help", 0, 0, 'h'},             {0, 0, 0, 0}};
    const char *name = NULL, *dir = NULL, *csv = NULL;
    int train_split = 0, json = 0, quiet = 0, threads = 0, n_proj = 0;
    long points = -1;
    uint64_t seed = 1;
    int c;
    double t_start = progress_now();
    opterr = 0;
    while ((c = getopt_long(argc, argv, "qh", lo, NULL)) != -1) {
        switch (c) {
        case O_DATA: name = optarg; break;
        case O_DIR: dir = optarg; break;
        case O_SPLIT:
            if (!strcmp(optarg, "test"))
                train_split = 0;
            else if (!strcmp(optarg, "train"))
                train_split = 1;
            else
                die("--split: '%s' is not a split (expected test or train)", optarg);
            break;
        case O_POINTS: points = parse_long("--points", optarg, 1, 100000000); break;
        case O_CSV: csv = optarg; break;
        case O_PROJ: n_proj = (int)parse_long("--projections", optarg, 0, 1000000); break;
        case O_SEED: seed = parse_u64("--seed", optarg); break;
        case O_THREADS: threads = (int)parse_long("--threads", optarg, 0, 1024); break;
        case O_JSON: json = 1; break;
        case 'q': quiet = 1; break;
        case 'h': usage(stdout); return 0;
        default: die_bad_option("jacobian", argv);
        }
    }
    if (optind != argc - 1)
        die("jacobian: expected exactly one model file (see sensi jacobian --help)");
    const char *path = argv[optind];
    if (csv)
        cli_check_writable(csv, "CSV");
    if (!json && !isatty(STDOUT_FILENO))
        json = 1;
    blas_set_threads(threads);

    sn_err e = {0};
    mlp m;
    model_meta mm = {0};
    data_opts d;
    cli_load_model_data_opts(path, name, dir, &m, &mm, &d);
    dataset train, test;
    cli_load_data(&d, &train, &test);
    dataset *ds = train_split ? &train : &test;
    const char *split = train_split ? "train" : "test";
    cli_check_model_data(path, &m, ds, d.name);
    if (points > ds->n)
        die("--points %ld exceeds the %d examples of the %s split of %s", points, ds->n, split,
            d.name);
    int n = points > 0 ? (int)points : (ds->n < 1000 ? ds->n : 1000);
    if (n < 1)
        die("%s: the %s split of %s is empty", path, split, d.name);
    int K = m.cfg.k;

    jac_point *pt = malloc(sizeof(jac_point) * n);
    if (!pt)
        die("jacobian: out of memory for %d points (%zu bytes)", n, sizeof(jac_point) * n);

    jprog jp;
    progress_init(&jp.bar, quiet ? NULL : stderr, -1, n, "jacobian", "points");
    double t0 = progress_now();
    if (jac_norms_progress(&m, ds->x, ds->y, n, pt, on_chunk, &jp, &e))
        die_err(&e);
    double compute_s = progress_now() - t0;
    progress_finish(&jp.bar, n, NULL);

    jac_summary sum;
    if (jac_summarize(pt, ds->y, n, K, &sum, &e))
        die_err(&e);
    double M = sum.M;
    sbuf b = {0};
    if (csv)
        sb_printf(&b, "index,label,pred,correct,loss,jac_softmax,jac_logit,jac_y,bound_lower,"
                      "bound_upper,maxent\n");
    for (int i = 0; i < n; i++) {
        double lower, upper, maxent;
        jac_xent_bounds(M, K, pt[i].loss, &lower, &upper, &maxent);
        if (csv)
            sb_printf(&b, "%d,%d,%d,%d,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g\n", (int)ds->index[i],
                      ds->y[i], pt[i].pred, pt[i].pred == ds->y[i], pt[i].loss,
                      pt[i].jac_softmax, pt[i].jac_logit, pt[i].jac_y, lower, upper, maxent);
    }
    if (csv) {
        const void *parts[1] = {b.p};
        size_t lens[1] = {b.len};
        if (file_write_atomic(csv, parts, lens, 1, &e))
            die_err(&e);
        free(b.p);
    }

    /* optional random-projection estimate of mean ||J||_F^2 */
    double proj_mean = NAN, proj_se = NAN, exact_sq = 0, proj_s = NAN;
    if (n_proj > 0) {
        double *est = malloc(sizeof(double) * n), *se = malloc(sizeof(double) * n);
        if (!est || !se)
            die("jacobian: out of memory for %d points (%zu bytes)", n, 2 * sizeof(double) * n);
        rng r;
        rng_seed(&r, rng_derive(seed, 5));
        double tp = progress_now();
        if (jac_norms_projected(&m, ds->x, n, n_proj, &r, est, se, &e))
            die_err(&e);
        proj_s = progress_now() - tp;
        double s = 0, v = 0;
        for (int i = 0; i < n; i++) {
            s += est[i];
            v += se[i] * se[i];
            exact_sq += pt[i].jac_softmax * pt[i].jac_softmax;
        }
        proj_mean = s / n;
        proj_se = sqrt(v) / n; /* the points are fixed: only projection noise */
        exact_sq /= n;
        free(est);
        free(se);
    }

    double sm = sum.js_mean, smed = sum.js_median, sse = sum.js_stderr;
    double lm = sum.jl_mean, lmed = sum.jl_median, lse = sum.jl_stderr;
    double auc_v = sum.auc, acc = sum.accuracy, mean_loss = sum.mean_loss;
    double wall = progress_now() - t_start;
    if (json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "model", path);
        cJSON_AddStringToObject(o, "data", d.name);
        cJSON_AddStringToObject(o, "split", split);
        cJSON_AddNumberToObject(o, "points", n);
        cJSON_AddNumberToObject(o, "depth", m.cfg.depth);
        cJSON_AddNumberToObject(o, "width", m.cfg.width);
        cJSON_AddStringToObject(o, "act", act_name(m.cfg.act));
        json_add_num(o, "accuracy", acc);
        json_add_num(o, "mean_loss", mean_loss);
        json_add_num(o, "jac_softmax_mean", sm);
        json_add_num(o, "jac_softmax_median", smed);
        json_add_num(o, "jac_softmax_stderr", sse);
        json_add_num(o, "jac_logit_mean", lm);
        json_add_num(o, "jac_logit_median", lmed);
        json_add_num(o, "jac_logit_stderr", lse);
        json_add_num(o, "M", M);
        json_add_num(o, "within_bounds", sum.within_bounds);
        json_add_num(o, "auc_misclassified", auc_v);
        if (n_proj > 0) {
            cJSON_AddNumberToObject(o, "projections", n_proj);
            json_add_num(o, "proj_jac_softmax_sq_mean", proj_mean);
            json_add_num(o, "proj_jac_softmax_sq_stderr", proj_se);
            json_add_num(o, "jac_softmax_sq_mean", exact_sq);
            json_add_num(o, "proj_s", proj_s);
        }
        if (csv)
            cJSON_AddStringToObject(o, "csv", csv);
        json_add_num(o, "compute_s", compute_s);
        json_add_num(o, "wall_s", wall);
        cJSON_AddNumberToObject(o, "blas_threads", blas_get_threads());
        print_json(o);
    } else {
        printf("model %s, %s %s split, first %d points (accuracy %.4f, mean loss %.4g)\n", path,
               d.name, split, n, acc, mean_loss);
        printf("  %-22s %12s %12s %12s\n", "", "mean", "median", "std. error");
        printf("  %-22s %12.6g %12.6g %12.3g\n", "||J||_F (softmax)", sm, smed, sse);
        printf("  %-22s %12.6g %12.6g %12.3g\n", "||J_f||_F (logits)", lm, lmed, lse);
        printf("  M = %.6g; ||J_y|| within the bounds at %.1f%% of the points\n", M,
               100.0 * sum.within_bounds);
        printf("  AUC of ||J||_F as a misclassification predictor: %.4f\n", auc_v);
        if (n_proj > 0)
            printf("  mean ||J||_F^2: exact %.6g, %d projections %.6g +- %.2g\n", exact_sq,
                   n_proj, proj_mean, proj_se);
        printf("  %.3f s computing, %.3f s in all%s%s\n", compute_s, wall, csv ? "; CSV: " : "",
               csv ? csv : "");
    }
    free(pt);
    mlp_free(&m);
    model_meta_free(&mm);
    dataset_free(&train);
    dataset_free(&test);
    return 0;
}
