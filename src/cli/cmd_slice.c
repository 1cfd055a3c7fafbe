/* cmd_slice.c: `sensi slice MODEL -o FILE.png`: the region picture of
 * STUDY.md experiment 2. Loads the network and the training split of the
 * data it was trained on (preprocessed as in training), takes three training
 * points as anchors (given by position in the split file, or drawn from
 * --seed among the model's training subset, of three different classes),
 * renders the plane through them coloured by activation region (slice.h),
 * writes the PNG atomically and prints one JSON object. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../core/blas.h"
#include "../core/progress.h"
#include "../nn/model_io.h"
#include "../sens/slice.h"
#include "cli.h"

static void usage(FILE *f)
{
    fprintf(f,
"usage: sensi slice MODEL.safetensors [options] -o FILE.png\n"
"\n"
"Render the 2-D slice of input space through three training points, each\n"
"pixel coloured by its activation region (the pattern of linear pieces of all\n"
"hidden neurons; sign pattern for tanh), region boundaries dark, the anchors\n"
"marked as black discs (x1 lower left, x2 lower right, x3 upper left). Prints\n"
"one JSON object (anchors, regions counted, seconds, output).\n"
"\n"
"  --data NAME          dataset [the one in the model's metadata]\n"
"  --data-dir DIR       read the dataset files from DIR [installed locations]\n"
"  --anchors I,J,K      positions of the three anchors in the training split file,\n"
"                       within the model's training subset (as in transitions)\n"
"                       [three points of different classes among the model's\n"
"                       training examples, drawn from --seed]\n"
"  --res N              image size N x N pixels, 2..8192 [512]\n"
"  --margin F           added on every side, as a fraction of the anchor span [0.25]\n"
"  --seed S             seed of the default anchors [1]\n"
"  --threads N          BLAS threads, 0 = all cores [0]\n"
"  -o, --output FILE    the PNG to write (required)\n"
"  -q, --quiet          no progress output\n"
"  -h, --help           this help\n");
}

enum { O_DATA = 256, O_DIR, O_ANCHORS, O_RES, O_MARGIN, O_SEED, O_THREADS };

/* "i,j,k" -> idx[3]; dies on anything else. */
static void parse_anchors(const char *s, long idx[3])
{
    char *copy = strdup(s);
    if (!copy)
        die("out of memory");
    int n = 0;
    char *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (n == 3)
            die("--anchors: '%s' has more than three positions (expected I,J,K)", s);
        idx[n++] = parse_long("--anchors", tok, 0, 1000000000L);
    }
    if (n != 3 || s[strlen(s) - 1] == ',' || s[0] == ',' || strstr(s, ",,"))
        die("--anchors: '%s' does not give exactly three positions (expected I,J,K)", s);
    free(copy);
    for (int a = 0; a < 3; a++)
        for (int b = a + 1; b < 3; b++)
            if (idx[a] == idx[b])
                die("--anchors: position %ld is repeated; the plane needs three different points",
                    idx[a]);
}

/* Three examples of three different true classes among the first n of ds. */
static void draw_anchors(const dataset *ds, int n, uint64_t seed, long idx[3])
{
    rng r;
    rng_seed(&r, rng_derive(seed, 0x51ce));
    int got = 0;
    for (int tries = 0; got < 3 && tries < 100000; tries++) {
        int i = (int)rng_below(&r, (uint32_t)n), fresh = 1;
        for (int a = 0; a < got; a++)
            if (ds->y_true[idx[a]] == ds->y_true[i])
                fresh = 0;
        if (fresh)
            idx[got++] = i;
    }
    if (got < 3)
        die("slice: the %d training examples do not hold three different classes; give "
            "--anchors I,J,K",
            n);
}

static void on_rows(void *ctx, long done, long total)
{
    (void)total;
    progress_update(ctx, done, "");
}

int cmd_slice(int argc, char **argv)
{
    static const struct option lo[] = {
        {"data", 1, 0, O_DATA},       {"data-dir", 1, 0, O_DIR}, {"anchors", 1, 0, O_ANCHORS},
        {"res", 1, 0, O_RES},         {"margin", 1, 0, O_MARGIN}, {"seed", 1, 0, O_SEED},
        {"threads", 1, 0, O_THREADS}, {"output", 1, 0, 'o'},     {"quiet", 0, 0, 'q'},
        {"help", 0, 0, 'h'},          {0, 0, 0, 0}};
    const char *name = NULL, *dir = NULL, *out = NULL;
    long idx[3] = {-1, -1, -1}, res = 512;
    int have_anchors = 0, threads = 0, quiet = 0;
    double margin = 0.25;
    uint64_t seed = 1;
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "o:qh", lo, NULL)) != -1) {
        switch (c) {
        case O_DATA: name = optarg; break;
        case O_DIR: dir = optarg; break;
        case O_ANCHORS: parse_anchors(optarg, idx); have_anchors = 1; break;
        case O_RES: res = parse_long("--res", optarg, 2, 8192); break;
        case O_MARGIN: margin = parse_double("--margin", optarg, 0, 10); break;
        case O_SEED: seed = parse_u64("--seed", optarg); break;
        case O_THREADS: threads = (int)parse_long("--threads", optarg, 0, 1024); break;
        case 'o': out = optarg; break;
        case 'q': quiet = 1; break;
        case 'h': usage(stdout); return 0;
        default: die_bad_option("slice", argv);
        }
    }
    if (optind != argc - 1)
        die("slice: expected exactly one model file (see sensi slice --help)");
    if (!out)
        die("slice: no output file; give -o FILE.png");
    const char *path = argv[optind];
    cli_check_writable(out, "image");

    mlp m;
    model_meta mm = {0};
    data_opts d;
    cli_load_model_data_opts(path, name, dir, &m, &mm, &d);
    /* The whole training split, preprocessed as in training: standardisation
     * statistics come from the model's training subset (its first
     * train_size examples). Labels reported are the file's. */
    int sub = d.train_size, standardize = d.standardize;
    d.train_size = 0;
    d.test_size = 0;
    d.standardize = 0;
    d.random_labels = 0;
    dataset train, test;
    cli_load_data(&d, &train, &test);
    dataset_free(&test);
    cli_check_model_data(path, &m, &train, d.name);
    if (sub <= 0 || sub > train.n)
        sub = train.n;
    sn_err e = {0};
    if (standardize) {
        dataset st, st_test;
        cli_load_data(&d, &st, &st_test);
        dataset_free(&st_test);
        if (dataset_take(&st, sub, &e) || dataset_standardize(&st, &train, &e))
            die_err(&e);
        dataset_free(&st);
    }
    if (have_anchors) {
        for (int a = 0; a < 3; a++)
            cli_check_anchor(idx[a], sub, d.name);
    } else {
        draw_anchors(&train, sub, seed, idx);
    }

    blas_set_threads(threads);
    double t0 = progress_now();
    uint8_t *rgb = malloc((size_t)res * res * 3);
    if (!rgb)
        die("slice: out of memory for a %ld x %ld image (%zu bytes)", res, res,
            (size_t)res * res * 3);
    const float *xs[3];
    for (int a = 0; a < 3; a++)
        xs[a] = train.x + (size_t)idx[a] * train.d;
    progress bar;
    progress_init(&bar, quiet ? NULL : stderr, -1, res, "slice", "rows");
    slice_result sr;
    if (slice_render_progress(&m, xs[0], xs[1], xs[2], (int)res, margin, rgb, &sr, on_rows, &bar,
                              &e))
        die_err(&e);
    char fields[64];
    snprintf(fields, sizeof fields, "regions %ld", sr.regions);
    progress_finish(&bar, res, fields);
    if (slice_write_png(out, rgb, (int)res, (int)res, &e))
        die_err(&e);
    double secs = progress_now() - t0;

    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "model", path);
    cJSON_AddStringToObject(root, "data", d.name);
    cJSON_AddStringToObject(root, "act", act_name(m.cfg.act));
    cJSON_AddNumberToObject(root, "depth", m.cfg.depth);
    cJSON_AddNumberToObject(root, "width", m.cfg.width);
    cJSON *an = cJSON_AddArrayToObject(root, "anchors");
    for (int a = 0; a < 3; a++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "index", (double)idx[a]);
        cJSON_AddNumberToObject(o, "label", train.y_true[idx[a]]);
        cJSON *px = cJSON_AddArrayToObject(o, "pixel");
        cJSON_AddItemToArray(px, cJSON_CreateNumber(sr.anchor_px[a][0]));
        cJSON_AddItemToArray(px, cJSON_CreateNumber(sr.anchor_px[a][1]));
        cJSON_AddItemToArray(an, o);
    }
    cJSON_AddNumberToObject(root, "res", (double)res);
    cJSON_AddNumberToObject(root, "margin", margin);
    cJSON_AddNumberToObject(root, "regions", (double)sr.regions);
    cJSON_AddNumberToObject(root, "seconds", secs);
    cJSON_AddNumberToObject(root, "blas_threads", blas_get_threads());
    cJSON_AddStringToObject(root, "output", out);
    print_json(root);
    free(rgb);
    mlp_free(&m);
    model_meta_free(&mm);
    dataset_free(&train);
    return 0;
}
