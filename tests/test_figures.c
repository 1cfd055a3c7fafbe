/* test_figures.c: the report's figures (figures.h) drawn from small real
 * databases: some that the real binary builds here once (`sensi sweep` on
 * Fashion-MNIST subsets: label and activation pairs with profiles,
 * per-point rows and transitions; optimizer and augmentation pairs; a sweep
 * where nothing fits; an empty store), and some constructed row by row in
 * the real schema (store_open) with known values: a gap study beside a
 * larger other study, label-noise, early-stopping and not-fit runs,
 * trajectory profiles with an outlier, points with a hand-computed bounds
 * ratio. Checks every drawn figure's files (non-empty SVG that parses as
 * XML, PNG, data, script), that each .dat holds n rows and that n and the
 * plotted values equal independent SQL or hand computations (the claim's
 * population from the claim's database, whatever the argument order;
 * everything with all_networks; medians and quartiles of profiles; the
 * ratio panel; transitions per hidden neuron), that the scripts redraw the
 * same files on their own, and that missing data, a bad output directory
 * and a missing or failing gnuplot come back as documented. Every test
 * works in a temp dir of its own on its own copies of the databases. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <libgen.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../src/report/figures.h"
#include "../src/study/store.h"

static char g_cache[256];   /* the swept databases, built once (group setup) */
static char g_dir[256];     /* this test's temp dir, with copies of them */
static char g_sensi[1024];  /* the sensi binary next to the test binaries */

static const char *const names_in_order[] = {
    "onoff-manifold", "region-slice", "factor-labels", "factor-augment", "factor-activation",
    "factor-optimizer", "jacobian-gap", "transitions-gap", "per-point", "xent-bounds",
    "baselines-gap"};
#define NFIG 11

/* The runs of a database's protocol, written independently of
 * analysis.c: fixed budget when some fit run had one, else early stopping. */
#define PROTO_OF(x) \
    "(" x "early_stop = 0) = exists(select 1 from runs where status = 'fit' and early_stop = 0)"
#define PROTO PROTO_OF("")
#define RPROTO PROTO_OF("r.")
/* ---- helpers ---- */

static void pathf(char *buf, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void pathf(char *buf, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, n, fmt, ap);
    va_end(ap);
}

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    return system(cmd);
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

static char *read_all(const char *path, long *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc(n + 1);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, n, f), (size_t)n);
    b[n] = 0;
    fclose(f);
    if (len)
        *len = n;
    return b;
}

static long fsize(const char *path)
{
    struct stat sb;
    return stat(path, &sb) ? -1 : (long)sb.st_size;
}

static sqlite3 *open_ro(const char *name)
{
    char p[512];
    pathf(p, sizeof p, "%s/%s", g_dir, name);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(p, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    return db;
}

static double sql_num(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    double v = sqlite3_column_type(st, 0) == SQLITE_NULL ? NAN : sqlite3_column_double(st, 0);
    sqlite3_finalize(st);
    return v;
}

static long sql_long(sqlite3 *db, const char *sql)
{
    return lround(sql_num(db, sql));
}

/* Draw from the databases named (files in g_dir) into g_dir/<out>
 * (created), with figures_draw_ex and o unless o is NULL (then
 * figures_draw). Returns their status. */
static int draw_ex(const char *const *dbnames, int ndb, const char *out, const char *slice,
                   const figure_opts *o, figure **figs, int *nfig, sn_err *e)
{
    sqlite3 *dbs[8];
    const char *names[8];
    char paths[8][512], od[512];
    for (int i = 0; i < ndb; i++) {
        pathf(paths[i], sizeof paths[i], "%s/%s", g_dir, dbnames[i]);
        dbs[i] = open_ro(dbnames[i]);
        names[i] = paths[i];
    }
    pathf(od, sizeof od, "%s/%s", g_dir, out);
    mkdir(od, 0755);
    int rc = o ? figures_draw_ex(dbs, names, ndb, od, slice, o, figs, nfig, e)
               : figures_draw(dbs, names, ndb, od, slice, figs, nfig, e);
    for (int i = 0; i < ndb; i++)
        sqlite3_close(dbs[i]);
    return rc;
}

static int draw(const char *const *dbnames, int ndb, const char *out, const char *slice,
                figure **figs, int *nfig, sn_err *e)
{
    return draw_ex(dbnames, ndb, out, slice, NULL, figs, nfig, e);
}

static const figure *fig(const figure *f, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(f[i].name, name))
            return &f[i];
    fail_msg("no figure %s", name);
    return NULL;
}

/* Data rows of a .dat file (lines neither empty nor comments). */
static long dat_rows(const char *path)
{
    char *b = read_all(path, NULL);
    assert_non_null(b);
    long n = 0;
    for (char *line = strtok(b, "\n"); line; line = strtok(NULL, "\n"))
        if (line[0] != '#' && line[0] != '\0')
            n++;
    free(b);
    return n;
}

/* Every drawn figure: files present and non-empty, the SVG well-formed XML,
 * the PNG a PNG, the .dat holding n rows. */
static void check_drawn(const char *out, const figure *f)
{
    char p[1024];
    assert_true(f->n > 0);
    assert_string_equal(f->why, "");
    const char *files[4] = {f->svg, f->png, f->data, f->script};
    for (int k = 0; k < 4; k++) {
        assert_true(files[k][0]);
        pathf(p, sizeof p, "%s/%s/%s", g_dir, out, files[k]);
        if (fsize(p) <= 0)
            fail_msg("%s: missing or empty", p);
    }
    pathf(p, sizeof p, "%s/%s/%s", g_dir, out, f->svg);
    char *svg = read_all(p, NULL);
    assert_non_null(svg);
    assert_true(!strncmp(svg, "<?xml", 5) || !strncmp(svg, "<svg", 4));
    assert_non_null(strstr(svg, "</svg>"));
    free(svg);
    if (sh("python3 -c 'import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])' '%s'", p))
        fail_msg("%s does not parse as XML", p);
    pathf(p, sizeof p, "%s/%s/%s", g_dir, out, f->png);
    char *png = read_all(p, NULL);
    assert_non_null(png);
    assert_memory_equal(png, "\x89PNG\r\n\x1a\n", 8);
    free(png);
    pathf(p, sizeof p, "%s/%s/%s", g_dir, out, f->data);
    long rows = dat_rows(p);
    if (rows != f->n)
        fail_msg("%s: %ld data rows, n = %ld", p, rows, f->n);
}


/* Rows of a .dat file, split at tabs. */
typedef struct datrow {
    int n;
    char f[16][72];
} datrow;

static datrow *dat_read(const char *path, long *nrow)
{
    char *b = read_all(path, NULL);
    if (!b)
        fail_msg("cannot read %s", path);
    long n = 0, cap = 16;
    datrow *r = malloc(sizeof *r * cap);
    assert_non_null(r);
    char *save = NULL;
    for (char *line = strtok_r(b, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (line[0] == '#' || !line[0])
            continue;
        if (n == cap) {
            cap *= 2;
            r = realloc(r, sizeof *r * cap);
            assert_non_null(r);
        }
        datrow *d = &r[n++];
        d->n = 0;
        for (char *s = line; d->n < 16; d->n++) {
            char *t = strchr(s, '\t');
            size_t len = t ? (size_t)(t - s) : strlen(s);
            assert_true(len < sizeof d->f[0]);
            memcpy(d->f[d->n], s, len);
            d->f[d->n][len] = 0;
            if (!t) {
                d->n++;
                break;
            }
            s = t + 1;
        }
    }
    free(b);
    *nrow = n;
    return r;
}

static datrow *dat_of(const char *out, const char *name, long *nrow)
{
    char p[1024];
    pathf(p, sizeof p, "%s/%s/%s.dat", g_dir, out, name);
    return dat_read(p, nrow);
}

static double num(const datrow *r, int i)
{
    assert_true(i < r->n);
    char *end;
    double v = strtod(r->f[i], &end);
    assert_true(end != r->f[i] && !*end);
    return v;
}

static void near(double got, double want, double rtol, const char *what)
{
    if (!(fabs(got - want) <= rtol * fabs(want) + 1e-12))
        fail_msg("%s: %.17g, expected %.17g", what, got, want);
}

/* Quantile q of v (n) by the Hyndman-Fan type 7 rule, written here
 * independently of stats.c: sort, interpolate at (n - 1) q. */
static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double quantile7(double *v, int n, double q)
{
    qsort(v, n, sizeof *v, cmp_d);
    double h = (n - 1) * q;
    int lo = (int)floor(h);
    return lo + 1 < n ? v[lo] + (h - lo) * (v[lo + 1] - v[lo]) : v[lo];
}

/* ---- constructed databases: the real schema, rows by hand ---- */

static void exec_sql(sqlite3 *db, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void exec_sql(sqlite3 *db, const char *fmt, ...)
{
    char sql[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg ? msg : "?");
}

/* g_dir/name created with store_open (schema and meta of spec name spec),
 * open for writing. */
static sqlite3 *make_db(const char *name, const char *spec)
{
    char p[512];
    pathf(p, sizeof p, "%s/%s", g_dir, name);
    store_spec sp = {spec, "0123456789abcdef", "{\"name\":\"x\"}", 0};
    store *s = NULL;
    sn_err e = {0};
    if (store_open(p, &sp, &s, &e))
        fail_msg("store_open %s: %s", p, e.msg);
    store_close(s);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
    exec_sql(db, "begin");
    return db;
}

static void close_db(sqlite3 *db)
{
    exec_sql(db, "commit");
    assert_int_equal(sqlite3_close(db), SQLITE_OK);
}

/* A run: jac < 0 stores NULL. */
typedef struct hrun {
    long id;
    const char *data, *status, *act;
    double rl;      /* random_labels */
    int es;         /* early_stop */
    int depth, width;
    double gap, jac, trans;
} hrun;

static void add_run(sqlite3 *db, const hrun *r)
{
    char jac[32] = "NULL", tr[32] = "NULL";
    if (r->jac >= 0)
        snprintf(jac, sizeof jac, "%.17g", r->jac);
    if (r->trans >= 0)
        snprintf(tr, sizeof tr, "%.17g", r->trans);
    exec_sql(db,
             "insert into runs (run_id, config_hash, replicate, seed, config, data, random_labels, "
             "early_stop, depth, width, act, opt, status, gap, test_acc, train_acc, jac_test_mean, "
             "jac_test_M, n_params, train_loss, trans_ellipse_diff) values (%ld, '%016lx', 0, %ld, "
             "'{}', '%s', %g, %d, %d, %d, '%s', 'momentum', '%s', %.17g, %.17g, 1, %s, 4, %d, 0.01, "
             "%s)",
             r->id, (unsigned long)r->id, r->id, r->data, r->rl, r->es, r->depth, r->width, r->act,
             r->status, r->gap, 1 - r->gap, jac, 1000 + r->depth * r->width, tr);
}

/* ---- the swept databases ---- */

static const char *spec_a =
    "{\"name\": \"fig-a\", \"seed\": 3,\n"
    " \"fixed\": {\"data\": \"fashion-mnist\", \"train_size\": 200, \"test_size\": 300,\n"
    "           \"width\": 64, \"steps\": 300, \"eval_every\": 50, \"opt\": \"adam\",\n"
    "           \"lr\": 0.003, \"batch\": 100},\n"
    " \"grid\": {\"random_labels\": [0, 1], \"act\": [\"relu\", \"hardsigmoid\"]},\n"
    " \"replicates\": 2, \"paired_seeds\": true,\n"
    " \"measure\": {\"only_fit\": false,\n"
    "             \"jacobian\": {\"test_points\": 200, \"per_point\": true},\n"
    "             \"transitions\": {\"kinds\": [\"ellipse-diff\", \"translate\"], \"count\": 2,\n"
    "                             \"method\": \"exact\", \"profile_bins\": 12}}}\n";

static const char *spec_b =
    "{\"name\": \"fig-b\", \"seed\": 1,\n"
    " \"fixed\": {\"data\": \"fashion-mnist\", \"train_size\": 200, \"test_size\": 300,\n"
    "           \"width\": 64, \"steps\": 600, \"eval_every\": 50, \"lr\": 0.01, \"batch\": 50},\n"
    " \"grid\": [{\"opt\": [\"momentum\", \"lbfgs\"]},\n"
    "          {\"opt\": [\"adam\"], \"lr\": [0.003], \"augment_shift\": [0, 1]}],\n"
    " \"replicates\": 2, \"paired_seeds\": true,\n"
    " \"measure\": {\"jacobian\": {\"test_points\": 100},\n"
    "             \"transitions\": {\"kinds\": [\"ellipse-diff\"], \"count\": 1}}}\n";

/* nothing fits in 2 steps, yet the Jacobian and transitions are measured
 * (only_fit false): the gap figures must still leave these networks out */
static const char *spec_c =
    "{\"name\": \"fig-c\", \"seed\": 7,\n"
    " \"fixed\": {\"data\": \"fashion-mnist\", \"train_size\": 200, \"test_size\": 100,\n"
    "           \"width\": 16, \"steps\": 2, \"eval_every\": 1},\n"
    " \"grid\": {\"depth\": [2, 3]},\n"
    " \"measure\": {\"only_fit\": false, \"jacobian\": {\"test_points\": 50},\n"
    "             \"transitions\": {\"kinds\": [\"ellipse-diff\"], \"count\": 1}}}\n";

/* Sweep spec into dir/name.db; 0 on success (no assertions: group setup). */
static int sweep(const char *dir, const char *name, const char *spec)
{
    char sp[512];
    pathf(sp, sizeof sp, "%s/%s.json", dir, name);
    FILE *f = fopen(sp, "w");
    if (!f || fputs(spec, f) < 0 || fclose(f))
        return -1;
    if (sh("'%s' sweep '%s' --db '%s/%s.db' -q --jobs 2 >'%s/%s.out' 2>&1", g_sensi, sp, dir, name,
           dir, name)) {
        fprintf(stderr, "test_figures: sensi sweep %s failed (see %s/%s.out)\n", name, dir, name);
        return -1;
    }
    return 0;
}

/* Group setup: the swept databases, once, in g_cache; the tests copy them. */
static int setup(void **state)
{
    (void)state;
    snprintf(g_cache, sizeof g_cache, "/tmp/sensi-figures-XXXXXX");
    if (!mkdtemp(g_cache))
        return -1;
    if (access(g_sensi, X_OK)) {
        fprintf(stderr, "test_figures: no sensi binary at %s (make first)\n", g_sensi);
        return -1;
    }
    if (sweep(g_cache, "a", spec_a) || sweep(g_cache, "b", spec_b) || sweep(g_cache, "c", spec_c))
        return -1;
    /* an empty store: the schema, no runs */
    char p[512];
    pathf(p, sizeof p, "%s/empty.db", g_cache);
    store_spec sp = {"empty", "0123456789abcdef", "{\"name\":\"empty\"}", 0};
    store *s = NULL;
    sn_err e = {0};
    if (store_open(p, &sp, &s, &e))
        return -1;
    store_close(s);
    /* many points: a copy of a with its points repeated 16 times */
    if (sh("cp '%s/a.db' '%s/big.db'", g_cache, g_cache))
        return -1;
    sqlite3 *db = NULL;
    pathf(p, sizeof p, "%s/big.db", g_cache);
    if (sqlite3_open(p, &db) != SQLITE_OK)
        return -1;
    int rc = 0;
    for (int k = 1; k < 16 && !rc; k++) {
        char sql[256];
        snprintf(sql, sizeof sql, "insert into points select run_id, split, idx + %d, label, "
                                  "pred, correct, loss, jac_softmax, jac_logit, jac_y, pmax, entropy, "
                                  "margin from "
                                  "points where idx < 100000", k * 100000);
        rc = sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK;
    }
    sqlite3_close(db);
    return rc ? -1 : 0;
}

static int teardown(void **state)
{
    (void)state;
    if (!getenv("KEEP_TMP"))
        sh("rm -rf '%s'", g_cache);
    return 0;
}

/* Per test: a temp dir of its own with copies of the swept databases. */
static int test_setup(void **state)
{
    (void)state;
    snprintf(g_dir, sizeof g_dir, "/tmp/sensi-figures-test-XXXXXX");
    if (!mkdtemp(g_dir))
        return -1;
    return sh("cp '%s'/*.db '%s'/", g_cache, g_dir) ? -1 : 0;
}

static int test_teardown(void **state)
{
    (void)state;
    if (!getenv("KEEP_TMP"))
        sh("rm -rf '%s'", g_dir);
    return 0;
}

/* ---- one database: every figure with data is drawn, n is right ---- */

static void test_one_db(void **state)
{
    (void)state;
    const char *dbn[] = {"a.db"};
    figure *f = NULL;
    int n = 0;
    sn_err e = {0};
    int rc = draw(dbn, 1, "out1", NULL, &f, &n, &e);
    if (rc)
        fail_msg("figures_draw: %s", e.msg);
    assert_int_equal(n, NFIG);
    for (int i = 0; i < NFIG; i++)
        assert_string_equal(f[i].name, names_in_order[i]);
    const char *drawn[] = {"onoff-manifold", "factor-labels", "factor-activation", "jacobian-gap",
                           "transitions-gap", "per-point", "xent-bounds", "baselines-gap"};
    for (int i = 0; i < 8; i++)
        check_drawn("out1", fig(f, n, drawn[i]));
    const figure *s = fig(f, n, "region-slice");
    assert_int_equal(s->ok, 0);
    assert_non_null(strstr(s->why, "sensi slice"));
    assert_non_null(strstr(fig(f, n, "factor-augment")->why, "studies/factor-augment.json"));
    assert_non_null(strstr(fig(f, n, "factor-optimizer")->why, "studies/factor-optimizer.json"));
    assert_string_equal(fig(f, n, "factor-optimizer")->svg, "");

    /* n against SQL written independently of figures.c: fit networks of
     * the protocol; the gap figures true-label networks only */
    sqlite3 *db = open_ro("a.db");
    assert_int_equal(fig(f, n, "jacobian-gap")->n,
                     sql_long(db, "select count(*) from runs where status = 'fit' and " PROTO
                                  " and random_labels = 0 and jac_test_mean > 0 and gap is not "
                                  "null"));
    assert_int_equal(fig(f, n, "baselines-gap")->n,
                     sql_long(db, "select count(*) from runs where status = 'fit' and " PROTO
                                  " and random_labels = 0 and gap is not null"));
    assert_int_equal(fig(f, n, "transitions-gap")->n,
                     sql_long(db, "select count(trans_ellipse_diff) + count(trans_translate) + "
                                  "count(trans_ellipse_same) + count(trans_ellipse_random) from "
                                  "runs where status = 'fit' and " PROTO " and random_labels = 0"));
    assert_int_equal(fig(f, n, "per-point")->n,
                     sql_long(db, "select count(*) from points p join runs r on r.run_id = "
                                  "p.run_id where p.split = 'test' and p.loss > 0 and "
                                  "p.jac_softmax > 0 and r.status = 'fit' and " RPROTO));
    assert_int_equal(fig(f, n, "xent-bounds")->n,
                     sql_long(db, "select count(*) from points p, runs r where r.run_id = "
                                  "p.run_id and p.split = 'test' and p.loss > 0 and p.jac_y > 0 "
                                  "and p.jac_softmax > 0 and r.jac_test_M > 0 and r.status = "
                                  "'fit' and " RPROTO));
    assert_int_equal(fig(f, n, "onoff-manifold")->n,
                     12 * sql_long(db, "select count(distinct t.kind) from trajectories t join "
                                       "runs r on r.run_id = t.run_id where t.profile_jac is not "
                                       "null and r.status = 'fit' and " RPROTO));
    assert_true(sql_long(db, "select count(*) from runs where status = 'fit' and random_labels "
                             "> 0 and jac_test_mean > 0") > 0); /* left out above */
    const char *pairs_sql =
        "select count(*) from runs a, runs b where a.status = 'fit' and b.status = 'fit' and "
        PROTO_OF("a.") " and " PROTO_OF("b.") " and a.replicate = b.replicate and ";
    char sql[1024];
    snprintf(sql, sizeof sql, "%s a.act = b.act and a.random_labels = 0 and b.random_labels > 0",
             pairs_sql);
    assert_int_equal(fig(f, n, "factor-labels")->n, sql_long(db, sql));
    snprintf(sql, sizeof sql, "%s a.random_labels = b.random_labels and a.act = 'relu' and "
                              "b.act = 'hardsigmoid'", pairs_sql);
    assert_int_equal(fig(f, n, "factor-activation")->n, sql_long(db, sql));
    assert_true(fig(f, n, "factor-labels")->n == 4); /* all 8 fit at this size */

    /* plotted values: every jacobian-gap row equals its run's columns */
    char p[1024], dat_data[32], dat_db[32];
    pathf(p, sizeof p, "%s/out1/jacobian-gap.dat", g_dir);
    FILE *fp = fopen(p, "r");
    assert_non_null(fp);
    char line[512];
    long rows = 0;
    while (fgets(line, sizeof line, fp)) {
        long run;
        double jac, gap;
        if (line[0] == '#' || line[0] == '\n')
            continue;
        char ser[32];
        assert_int_equal(sscanf(line, "%31[^\t]\t%31[^\t]\t%31[^\t]\t%ld\t%lf\t%lf", dat_data,
                                ser, dat_db, &run, &jac, &gap), 6);
        assert_string_equal(dat_db, "a");
        snprintf(sql, sizeof sql, "select random_labels = 0 and status = 'fit' from runs where "
                                  "run_id = %ld", run);
        assert_int_equal(sql_long(db, sql), 1);
        /* coloured by act: two levels, opt, depth and width one each */
        snprintf(sql, sizeof sql, "select 'act = ' || act = '%s' from runs where run_id = %ld", ser,
                 run);
        assert_int_equal(sql_long(db, sql), 1);
        snprintf(sql, sizeof sql, "select jac_test_mean from runs where run_id = %ld", run);
        assert_true(fabs(jac - sql_num(db, sql)) <= 1e-8 * fabs(jac));
        snprintf(sql, sizeof sql, "select gap from runs where run_id = %ld", run);
        assert_true(fabs(gap - sql_num(db, sql)) <= 1e-8);
        snprintf(sql, sizeof sql, "select data = '%s' from runs where run_id = %ld", dat_data, run);
        assert_int_equal(sql_long(db, sql), 1);
        rows++;
    }
    fclose(fp);
    assert_int_equal(rows, 4);

    /* transitions per hidden neuron: each row against its run's columns */
    long nt = 0;
    datrow *tr = dat_of("out1", "transitions-gap", &nt);
    assert_int_equal(nt, fig(f, n, "transitions-gap")->n);
    for (long i = 0; i < nt; i++) {
        const char *kind = strchr(tr[i].f[0], ',');
        assert_non_null(kind);
        char col[40];
        snprintf(col, sizeof col, "trans_%s", kind + 2);
        for (char *q = col; *q; q++)
            if (*q == '-')
                *q = '_';
        snprintf(sql, sizeof sql, "select %s / ((depth - 1) * width * 1.0) from runs where "
                                  "run_id = %ld", col, lround(num(&tr[i], 3)));
        near(num(&tr[i], 4), sql_num(db, sql), 1e-7, "transitions per hidden neuron");
        snprintf(sql, sizeof sql, "select gap from runs where run_id = %ld", lround(num(&tr[i], 3)));
        near(num(&tr[i], 5), sql_num(db, sql), 1e-8, "gap");
    }
    free(tr);

    /* the on/off profile at u = 0: median and quartiles over the
     * trajectories of fit networks (JSON in SQL, quantiles by hand) */
    double jv[256], tv[256];
    int nj = 0;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "select json_extract(t.profile_jac, '$[0]'), "
                                            "json_extract(t.profile_trans, '$[0]') from "
                                            "trajectories t join runs r on r.run_id = t.run_id "
                                            "where t.kind = 'ellipse-diff' and r.status = 'fit' "
                                            "and " RPROTO, -1, &st, NULL), SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW && nj < 256) {
        jv[nj] = sqlite3_column_double(st, 0);
        tv[nj++] = 12 * sqlite3_column_double(st, 1);
    }
    sqlite3_finalize(st);
    assert_true(nj >= 4);
    long no = 0;
    datrow *oo = dat_of("out1", "onoff-manifold", &no);
    int found = 0;
    for (long i = 0; i < no; i++) {
        if (strcmp(oo[i].f[0], "ellipse-diff") || num(&oo[i], 2) != 0)
            continue;
        found = 1;
        near(num(&oo[i], 4), quantile7(jv, nj, 0.5), 1e-7, "Jacobian median at u = 0");
        near(num(&oo[i], 5), quantile7(jv, nj, 0.25), 1e-7, "Jacobian q25 at u = 0");
        near(num(&oo[i], 6), quantile7(jv, nj, 0.75), 1e-7, "Jacobian q75 at u = 0");
        near(num(&oo[i], 7), quantile7(tv, nj, 0.5), 1e-7, "transition median at u = 0");
        near(num(&oo[i], 8), quantile7(tv, nj, 0.25), 1e-7, "transition q25 at u = 0");
        near(num(&oo[i], 9), quantile7(tv, nj, 0.75), 1e-7, "transition q75 at u = 0");
        assert_int_equal(lround(num(&oo[i], 10)), nj);
    }
    free(oo);
    assert_true(found);

    /* factor pairs: gap of each member as in the database */
    pathf(p, sizeof p, "%s/out1/factor-labels.dat", g_dir);
    fp = fopen(p, "r");
    assert_non_null(fp);
    rows = 0;
    while (fgets(line, sizeof line, fp)) {
        char ser[64], dbl[32];
        long ra;
        double rb, ga, gb;
        if (line[0] == '#' || line[0] == '\n')
            continue;
        assert_int_equal(sscanf(line, "%63[^\t]\t%31[^\t]\t%ld\t%lf\t%lf\t%lf", ser, dbl, &ra,
                                &rb, &ga, &gb), 6);
        snprintf(sql, sizeof sql, "select gap from runs where run_id = %ld and random_labels = 0",
                 ra);
        assert_true(fabs(ga - sql_num(db, sql)) <= 1e-8);
        snprintf(sql, sizeof sql, "select gap from runs where run_id = %ld and random_labels > 0",
                 lround(rb));
        assert_true(fabs(gb - sql_num(db, sql)) <= 1e-8);
        rows++;
    }
    fclose(fp);
    assert_int_equal(rows, 4);

    /* cross-entropy bounds: each point's norms over sqrt(M) of its network,
     * its label probability and the ratio to the bounds' form */
    pathf(p, sizeof p, "%s/out1/xent-bounds.dat", g_dir);
    fp = fopen(p, "r");
    assert_non_null(fp);
    rows = 0;
    while (fgets(line, sizeof line, fp)) {
        char ser[64], dbl[32];
        long run, idx;
        double K, M, loss, jy, js, sy, ratio;
        if (line[0] == '#' || line[0] == '\n')
            continue;
        assert_int_equal(sscanf(line, "%63[^\t]\t%31[^\t]\t%ld\t%ld\t%lf\t%lf\t%lf\t%lf\t%lf"
                                      "\t%lf\t%lf",
                                ser, dbl, &run, &idx, &K, &M, &loss, &jy, &js, &sy, &ratio), 11);
        near(sy, exp(-loss), 1e-7, "label probability");
        snprintf(sql, sizeof sql, "select p.jac_y / (%.17g * (1 - %.17g)) from points p where "
                                  "p.run_id = %ld and p.split = 'test' and p.idx = %ld",
                 sqrt(M) * exp(-loss), exp(-loss), run, idx);
        near(ratio, sql_num(db, sql), 1e-6, "ratio");
        assert_true(K == 10);
        snprintf(sql, sizeof sql, "select r.jac_test_M from runs r where r.run_id = %ld", run);
        double m = sql_num(db, sql);
        assert_true(fabs(M - m) <= 1e-8 * m);
        snprintf(sql, sizeof sql, "select jac_y / %.17g from points where run_id = %ld and "
                                  "split = 'test' and idx = %ld", sqrt(m), run, idx);
        double want = sql_num(db, sql);
        assert_true(fabs(jy - want) <= 1e-7 * want);
        snprintf(sql, sizeof sql, "select loss from points where run_id = %ld and "
                                  "split = 'test' and idx = %ld", run, idx);
        want = sql_num(db, sql);
        assert_true(fabs(loss - want) <= 1e-7 * want);
        rows++;
    }
    fclose(fp);
    assert_int_equal(rows, fig(f, n, "xent-bounds")->n);
    sqlite3_close(db);
    free(f);
}

/* ---- the scripts redraw the same files by themselves ---- */

static void test_scripts_self_contained(void **state)
{
    (void)state;
    const char *dbn[] = {"a.db"};
    figure *f = NULL;
    int n = 0;
    sn_err e = {0};
    if (draw(dbn, 1, "out2", NULL, &f, &n, &e))
        fail_msg("figures_draw: %s", e.msg);
    char other[512];
    pathf(other, sizeof other, "%s/moved", g_dir);
    mkdir(other, 0755);
    int checked = 0;
    for (int i = 0; i < n; i++) {
        if (!f[i].ok || !f[i].script[0])
            continue;
        char p[1024], q[1024];
        /* the script names no absolute path */
        pathf(p, sizeof p, "%s/out2/%s", g_dir, f[i].script);
        char *gp = read_all(p, NULL);
        assert_non_null(gp);
        assert_null(strstr(gp, g_dir));
        free(gp);
        /* rerun in place: same bytes */
        for (int k = 0; k < 2; k++) {
            pathf(p, sizeof p, "%s/out2/%s", g_dir, k ? f[i].png : f[i].svg);
            long len0, len1;
            char *before = read_all(p, &len0);
            assert_non_null(before);
            assert_int_equal(unlink(p), 0);
            if (!k && sh("cd '%s/out2' && gnuplot '%s' 2>/dev/null", g_dir, f[i].script))
                fail_msg("gnuplot %s failed on rerun", f[i].script);
            if (k && sh("cd '%s/out2' && gnuplot '%s' 2>/dev/null", g_dir, f[i].script))
                fail_msg("gnuplot %s failed on rerun", f[i].script);
            char *after = read_all(p, &len1);
            if (!after)
                fail_msg("rerunning %s did not rewrite %s", f[i].script, p);
            assert_int_equal(len0, len1);
            assert_memory_equal(before, after, len0);
            free(before), free(after);
        }
        /* moved with its data only, it still draws */
        assert_int_equal(sh("cp '%s/out2/%s' '%s/out2/%s' '%s/'", g_dir, f[i].script, g_dir,
                            f[i].data, other), 0);
        if (sh("cd '%s' && gnuplot '%s' 2>/dev/null", other, f[i].script))
            fail_msg("gnuplot %s failed in another directory", f[i].script);
        pathf(q, sizeof q, "%s/%s", other, f[i].svg);
        assert_true(fsize(q) > 0);
        pathf(q, sizeof q, "%s/%s", other, f[i].png);
        assert_true(fsize(q) > 0);
        checked++;
    }
    assert_int_equal(checked, 8);
    free(f);
}

/* ---- two databases: both contribute, series by database ---- */

static void test_two_dbs(void **state)
{
    (void)state;
    const char *dbn[] = {"a.db", "b.db"};
    figure *f = NULL;
    int n = 0;
    sn_err e = {0};
    if (draw(dbn, 2, "out3", NULL, &f, &n, &e))
        fail_msg("figures_draw: %s", e.msg);
    sqlite3 *a = open_ro("a.db"), *b = open_ro("b.db");
    /* neither is a gap study: the dataset's source is the one with more
     * true-label fit networks of its protocol with a Jacobian (b: 8, a: 4) */
    const char *jsql = "select count(*) from runs where status = 'fit' and " PROTO " and "
                       "random_labels = 0 and jac_test_mean > 0 and gap is not null";
    assert_true(sql_long(b, jsql) > sql_long(a, jsql));
    const figure *j = fig(f, n, "jacobian-gap");
    check_drawn("out3", j);
    assert_int_equal(j->n, sql_long(b, jsql));
    assert_non_null(strstr(j->title, "b.db"));
    const char *fsql = "select count(*) from runs where status = 'fit' and " PROTO " and "
                       "random_labels = 0 and gap is not null";
    check_drawn("out3", fig(f, n, "baselines-gap"));
    assert_int_equal(fig(f, n, "baselines-gap")->n, sql_long(b, fsql));
    char p[1024];
    pathf(p, sizeof p, "%s/out3/jacobian-gap.dat", g_dir);
    char *dat = read_all(p, NULL);
    assert_null(strstr(dat, "\ta\t"));
    assert_non_null(strstr(dat, "\tb\t"));
    free(dat);
    /* optimizer pairs: momentum vs lbfgs, same replicate, both fit */
    long opt = sql_long(b, "select count(*) from runs x, runs y where x.status = 'fit' and "
                           "y.status = 'fit' and " PROTO_OF("x.") " and " PROTO_OF("y.") " and "
                           "x.replicate = y.replicate and x.opt = 'momentum' and y.opt = 'lbfgs'");
    const figure *o = fig(f, n, "factor-optimizer");
    assert_true(opt > 0);
    check_drawn("out3", o);
    assert_int_equal(o->n, opt);
    /* augmentation pairs: only where it raised the test accuracy */
    long aug = sql_long(b, "select count(*) from runs x, runs y where x.status = 'fit' and "
                           "y.status = 'fit' and " PROTO_OF("x.") " and " PROTO_OF("y.") " and "
                           "x.replicate = y.replicate and x.opt = 'adam' "
                           "and y.opt = 'adam' and x.augment_shift = 0 and y.augment_shift > 0 "
                           "and y.test_acc > x.test_acc");
    const figure *g = fig(f, n, "factor-augment");
    assert_int_equal(g->ok, aug > 0);
    if (aug)
        check_drawn("out3", g), assert_int_equal(g->n, aug);
    /* database b alone: fit networks but no points, no profiles */
    free(f);
    const char *bn[] = {"b.db"};
    if (draw(bn, 1, "out4", NULL, &f, &n, &e))
        fail_msg("figures_draw: %s", e.msg);
    for (int i = 0; i < n; i++) {
        int want = !strcmp(f[i].name, "jacobian-gap") || !strcmp(f[i].name, "transitions-gap") ||
                   !strcmp(f[i].name, "baselines-gap") || !strcmp(f[i].name, "factor-optimizer") ||
                   (!strcmp(f[i].name, "factor-augment") && aug > 0);
        if (f[i].ok != want)
            fail_msg("b.db: %s ok = %d (%s)", f[i].name, f[i].ok, f[i].why);
        if (!want)
            assert_true(strlen(f[i].why) > 10);
    }
    assert_non_null(strstr(fig(f, n, "per-point")->why, "per_point"));
    assert_non_null(strstr(fig(f, n, "onoff-manifold")->why, "studies/onoff-manifold.json"));
    sqlite3_close(a);
    sqlite3_close(b);
    free(f);
}

/* ---- many points: a deterministic subsample of at most 20000 ---- */

static void test_subsample(void **state)
{
    (void)state;
    const char *dbn[] = {"big.db"};
    figure *f = NULL;
    int n = 0;
    sn_err e = {0};
    if (draw(dbn, 1, "out5", NULL, &f, &n, &e))
        fail_msg("figures_draw: %s", e.msg);
    sqlite3 *db = open_ro("big.db");
    long total = sql_long(db, "select count(*) from points p join runs r on r.run_id = "
                              "p.run_id where p.split = 'test' and p.loss > 0 and p.jac_softmax "
                              "> 0 and r.status = 'fit' and " RPROTO);
    sqlite3_close(db);
    assert_true(total > 20000);
    long k = (total + 19999) / 20000;
    const figure *p = fig(f, n, "per-point");
    check_drawn("out5", p);
    assert_int_equal(p->n, (total + k - 1) / k);
    assert_true(p->n <= 20000);
    assert_true(fig(f, n, "xent-bounds")->n <= 20000);
    char a[1024], b[1024];
    pathf(a, sizeof a, "%s/out5/per-point.dat", g_dir);
    pathf(b, sizeof b, "%s/out5-first.dat", g_dir);
    assert_int_equal(rename(a, b), 0);
    free(f);
    if (draw(dbn, 1, "out5", NULL, &f, &n, &e))
        fail_msg("figures_draw: %s", e.msg);
    assert_int_equal(sh("cmp -s '%s' '%s'", a, b), 0);
    free(f);
}

/* ---- no data: every figure says why, nothing fails ---- */

static void check_nothing(const char *dbname)
{
    const char *dbn[] = {dbname};
    figure *f = NULL;
    int n = 0;
    sn_err e = {0};
    char out[64];
    snprintf(out, sizeof out, "none-%s", dbname);
    int rc = draw(dbn, 1, out, NULL, &f, &n, &e);
    if (rc)
        fail_msg("%s: figures_draw: %s", dbname, e.msg);
    assert_int_equal(n, NFIG);
    for (int i = 0; i < n; i++) {
        if (f[i].ok)
            fail_msg("%s: %s drawn without data", dbname, f[i].name);
        assert_true(strlen(f[i].why) > 20);
        assert_int_equal(f[i].n, 0);
        assert_string_equal(f[i].svg, "");
        assert_string_equal(f[i].data, "");
        assert_non_null(strstr(f[i].why, i == 1 ? "region-slice.json" : "studies/"));
    }
    free(f);
}

static void test_no_fit(void **state)
{
    (void)state;
    sqlite3 *c = open_ro("c.db");  /* measured, yet not fit */
    assert_int_equal(sql_long(c, "select count(*) from runs where status != 'fit' and "
                                 "jac_test_mean > 0 and trans_ellipse_diff is not null"), 2);
    sqlite3_close(c);
    check_nothing("c.db");
    const char *dbn[] = {"c.db"};
    figure *f = NULL;
    int n = 0;
    sn_err e = {0};
    assert_int_equal(draw(dbn, 1, "none-c2", NULL, &f, &n, &e), SN_OK);
    assert_non_null(strstr(fig(f, n, "jacobian-gap")->why, "2 runs, 0 fit"));
    free(f);
}

static void test_empty_db(void **state)
{
    (void)state;
    check_nothing("empty.db");
    /* no databases at all */
    figure *f = NULL;
    int n = 0;
    sn_err e = {0};
    char od[512];
    pathf(od, sizeof od, "%s/none-zero", g_dir);
    mkdir(od, 0755);
    assert_int_equal(figures_draw(NULL, NULL, 0, od, NULL, &f, &n, &e), SN_OK);
    assert_int_equal(n, NFIG);
    for (int i = 0; i < n; i++)
        assert_int_equal(f[i].ok, 0);
    free(f);
}

/* ---- errors ---- */

static void test_bad_outdir(void **state)
{
    (void)state;
    /* empty.db: no figure writes anything, so only the up-front check sees it */
    sqlite3 *db = open_ro("empty.db");
    const char *name = "empty.db";
    char file[512], od[1024];
    pathf(file, sizeof file, "%s/a-file", g_dir);
    write_text(file, "not a directory\n");
    const char *bad[2] = {od, od};
    pathf(od, sizeof od, "%s/sub", file);
    for (int k = 0; k < 2; k++) {
        if (k)
            pathf(od, sizeof od, "%s/does-not-exist", g_dir);
        figure *f = (figure *)1;
        int n = 7;
        sn_err e = {0};
        assert_int_equal(figures_draw(&db, &name, 1, bad[k], NULL, &f, &n, &e), SN_EIO);
        assert_null(f);
        assert_int_equal(n, 0);
        assert_non_null(strstr(e.msg, od));
    }
    sqlite3_close(db);
}

static void test_gnuplot_missing_or_failing(void **state)
{
    (void)state;
    const char *dbn[] = {"a.db"};
    char *old = strdup(getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
    char bin[512], fake[1024];
    pathf(bin, sizeof bin, "%s/emptybin", g_dir);
    mkdir(bin, 0755);
    setenv("PATH", bin, 1);
    figure *f = NULL;
    int n = 0;
    sn_err e = {0};
    int rc = draw(dbn, 1, "nognuplot", NULL, &f, &n, &e);
    setenv("PATH", old, 1);
    assert_int_equal(rc, SN_EIO);
    assert_null(f);
    assert_non_null(strstr(e.msg, "gnuplot is not installed (apt-get install gnuplot-nox)"));

    pathf(bin, sizeof bin, "%s/fakebin", g_dir);
    mkdir(bin, 0755);
    pathf(fake, sizeof fake, "%s/gnuplot", bin);
    /* it even writes the drawings: only its exit status says it failed */
    write_text(fake, "#!/bin/sh\necho x > \"${1%.gp}.svg\"; echo x > \"${1%.gp}.png\"\n"
                     "echo \"fake gnuplot: line 3: no such style\" >&2\nexit 1\n");
    chmod(fake, 0755);
    char path[2048];
    snprintf(path, sizeof path, "%s:%s", bin, old);
    setenv("PATH", path, 1);
    memset(&e, 0, sizeof e);
    rc = draw(dbn, 1, "badgnuplot", NULL, &f, &n, &e);
    setenv("PATH", old, 1);
    free(old);
    assert_int_equal(rc, SN_EIO);
    assert_null(f);
    assert_non_null(strstr(e.msg, "fake gnuplot: line 3: no such style"));
    assert_non_null(strstr(e.msg, ".gp"));
}

static void test_slice(void **state)
{
    (void)state;
    char png[512], txt[512];
    pathf(png, sizeof png, "%s/any.png", g_dir); /* any real PNG */
    if (sh("cd '%s' && gnuplot -e \"set terminal pngcairo size 64,64; set output 'any.png'; plot x\" "
           "2>/dev/null", g_dir))
        fail_msg("gnuplot could not draw a PNG");
    const char *dbn[] = {"c.db"};
    figure *f = NULL;
    int n = 0;
    sn_err e = {0};
    if (draw(dbn, 1, "slice", png, &f, &n, &e))
        fail_msg("figures_draw: %s", e.msg);
    const figure *s = fig(f, n, "region-slice");
    assert_int_equal(s->ok, 1);
    assert_string_equal(s->png, "region-slice.png");
    assert_string_equal(s->svg, "");
    assert_string_equal(s->data, "");
    assert_string_equal(s->script, "");
    char out[1024];
    pathf(out, sizeof out, "%s/slice/region-slice.png", g_dir);
    assert_int_equal(sh("cmp -s '%s' '%s'", png, out), 0);
    free(f);
    /* not a PNG, or absent: an error naming the file */
    pathf(txt, sizeof txt, "%s/a.json", g_dir);
    write_text(txt, "{\"not\": \"a PNG\"}\n");
    f = NULL;
    assert_int_equal(draw(dbn, 1, "slice", txt, &f, &n, &e), SN_EFORMAT);
    assert_null(f);
    assert_non_null(strstr(e.msg, txt));
    pathf(txt, sizeof txt, "%s/no-such.png", g_dir);
    assert_int_not_equal(draw(dbn, 1, "slice", txt, &f, &n, &e), SN_OK);
    assert_null(f);
}


/* ---- constructed: a gap study beside a larger other study ---- */

/* gapstudy.db (spec gap-fashion): runs 0-5 the claim's population (fit,
 * true labels, fixed budget; depth 2, 3, 4 and two activations), 6 label
 * noise, 7 early stopping, 8 not fit, 9 no Jacobian; points for runs 0, 7
 * and 8. other.db (spec factor-labels): 20 true-label fit networks and one
 * with label noise, all fixed budget: more networks, but no gap study. */
static void build_gap_pair(void)
{
    sqlite3 *g = make_db("gapstudy.db", "gap-fashion");
    for (int i = 0; i < 6; i++) {
        hrun r = {i, "fashion-mnist", "fit", i % 2 ? "relu" : "hardsigmoid", 0, 0, 2 + i % 3, 8,
                  0.1 + 0.01 * i, 1 + i, 10 + i};
        add_run(g, &r);
    }
    const hrun extra[] = {
        {6, "fashion-mnist", "fit", "relu", 0.5, 0, 2, 8, 0.5, 9, 30},
        {7, "fashion-mnist", "fit", "relu", 0, 1, 2, 8, 0.3, 8, 20},
        {8, "fashion-mnist", "not_fit", "relu", 0, 0, 2, 8, 0.2, 7, 20},
        {9, "fashion-mnist", "fit", "relu", 0, 0, 3, 8, 0.15, -1, -1}};
    for (int i = 0; i < 4; i++)
        add_run(g, &extra[i]);
    const int prun[3] = {0, 7, 8}, npt[3] = {3, 2, 2};
    for (int k = 0; k < 3; k++)
        for (int i = 0; i < npt[k]; i++)
            exec_sql(g, "insert into points (run_id, split, idx, label, pred, correct, loss, "
                        "jac_softmax, jac_logit, jac_y) values (%d, 'test', %d, 1, 1, 1, %g, %g, "
                        "1, %g)",
                     prun[k], i, 0.1 * (i + 1), 0.5 + i, 0.2);
    close_db(g);
    sqlite3 *o = make_db("other.db", "factor-labels");
    for (int i = 0; i < 21; i++) {
        hrun r = {i, "fashion-mnist", "fit", "relu", i == 20 ? 1 : 0, 0, 2, 16, 0.2 + 0.001 * i,
                  0.5 + 0.1 * i, 5};
        add_run(o, &r);
    }
    close_db(o);
}

/* The run ids of a gap figure's rows from database label db ('\t'-split
 * column 2), as a bit set (ids < 64). */
static uint64_t dat_runs(const datrow *r, long n, const char *db, int runcol)
{
    uint64_t set = 0;
    for (long i = 0; i < n; i++)
        if (!strcmp(r[i].f[2], db))
            set |= (uint64_t)1 << lround(num(&r[i], runcol));
    return set;
}

/* Bit set of the run ids sql selects. */
static uint64_t sql_runs(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    uint64_t set = 0;
    while (sqlite3_step(st) == SQLITE_ROW)
        set |= (uint64_t)1 << sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return set;
}

static const char *jac_pop_sql =
    "select run_id from runs where status = 'fit' and " PROTO " and random_labels = 0 and "
    "jac_test_mean > 0 and gap is not null and data = 'fashion-mnist'";

/* (a) the figures of a gap claim show the gap study's true-label fit
 * networks of its protocol, in either argument order */
static void test_gap_source(void **state)
{
    (void)state;
    build_gap_pair();
    sqlite3 *g = open_ro("gapstudy.db"), *o = open_ro("other.db");
    char want_title[64];
    snprintf(want_title, sizeof want_title, "%ld of gapstudy.db",
             sql_long(g, "select count(*) from runs where status = 'fit' and " PROTO " and "
                         "random_labels = 0 and jac_test_mean > 0 and gap is not null"));
    const char *orders[2][2] = {{"gapstudy.db", "other.db"}, {"other.db", "gapstudy.db"}};
    char *first = NULL;
    for (int k = 0; k < 2; k++) {
        figure *f = NULL;
        int n = 0;
        sn_err e = {0};
        char out[24];
        snprintf(out, sizeof out, "order%d", k);
        if (draw(orders[k], 2, out, NULL, &f, &n, &e))
            fail_msg("figures_draw: %s", e.msg);
        const figure *j = fig(f, n, "jacobian-gap");
        check_drawn(out, j);
        assert_int_equal(j->n, sql_long(g, "select count(*) from runs where status = 'fit' and "
                                           PROTO " and random_labels = 0 and jac_test_mean > 0 "
                                           "and gap is not null"));
        assert_int_equal(j->n, 6);
        if (!strstr(j->title, want_title))
            fail_msg("title '%s' does not say '%s'", j->title, want_title);
        long nr = 0;
        datrow *r = dat_of(out, "jacobian-gap", &nr);
        assert_int_equal(nr, j->n);
        assert_true(dat_runs(r, nr, "gapstudy", 3) == sql_runs(g, jac_pop_sql));
        assert_true(dat_runs(r, nr, "other", 3) == 0);
        for (long i = 0; i < nr; i++) {  /* coloured by depth: three levels, act two */
            char sql[256];
            assert_string_equal(r[i].f[2], "gapstudy");
            snprintf(sql, sizeof sql, "select 'depth = ' || depth = '%s' from runs where run_id = %ld",
                     r[i].f[1], lround(num(&r[i], 3)));
            assert_int_equal(sql_long(g, sql), 1);
            snprintf(sql, sizeof sql, "select jac_test_mean from runs where run_id = %ld",
                     lround(num(&r[i], 3)));
            near(num(&r[i], 4), sql_num(g, sql), 1e-9, "jac_test_mean");
        }
        free(r);
        /* the same source for the other gap figures */
        const figure *b = fig(f, n, "baselines-gap"), *t = fig(f, n, "transitions-gap");
        check_drawn(out, b);
        check_drawn(out, t);
        assert_int_equal(b->n, sql_long(g, "select count(*) from runs where status = 'fit' and "
                                           PROTO " and random_labels = 0 and gap is not null"));
        assert_int_equal(t->n, sql_long(g, "select count(trans_ellipse_diff) from runs where "
                                           "status = 'fit' and " PROTO " and random_labels = 0 "
                                           "and gap is not null"));
        assert_non_null(strstr(b->title, "gapstudy.db"));
        /* per point: fit networks of the protocol of the one database with them */
        const figure *p = fig(f, n, "per-point");
        check_drawn(out, p);
        assert_int_equal(p->n, sql_long(g, "select count(*) from points p join runs r on "
                                           "r.run_id = p.run_id where r.status = 'fit' and "
                                           RPROTO));
        assert_int_equal(p->n, 3);
        char path[1024];
        pathf(path, sizeof path, "%s/%s/jacobian-gap.dat", g_dir, out);
        char *dat = read_all(path, NULL);
        if (!first)
            first = dat;
        else {
            assert_string_equal(dat, first);  /* whatever the order */
            free(dat);
        }
        free(f);
    }
    free(first);
    sqlite3_close(g);
    sqlite3_close(o);
}

/* (b) label-noise, early-stopping and other databases' networks: left out
 * by default, their own series with all_networks */
static void test_all_networks(void **state)
{
    (void)state;
    build_gap_pair();
    sqlite3 *g = open_ro("gapstudy.db"), *o = open_ro("other.db");
    const char *dbn[] = {"other.db", "gapstudy.db"};
    figure_opts opts = {.all_networks = 0};
    figure *f = NULL;
    int n = 0;
    sn_err e = {0};
    /* the default options through figures_draw_ex: as figures_draw */
    if (draw_ex(dbn, 2, "default", NULL, &opts, &f, &n, &e))
        fail_msg("figures_draw_ex: %s", e.msg);
    long nr = 0;
    datrow *r = dat_of("default", "jacobian-gap", &nr);
    assert_int_equal(nr, 6);
    assert_true(!(dat_runs(r, nr, "gapstudy", 3) & (1u << 6 | 1u << 7 | 1u << 8)));
    free(r);
    free(f);
    r = dat_of("default", "per-point", &nr);
    for (long i = 0; i < nr; i++)
        assert_string_equal(r[i].f[2], "0");  /* run 0 only: not 7 (early stop), 8 (not fit) */
    free(r);

    opts.all_networks = 1;
    if (draw_ex(dbn, 2, "all", NULL, &opts, &f, &n, &e))
        fail_msg("figures_draw_ex: %s", e.msg);
    const char *every = "select count(*) from runs where status = 'fit' and jac_test_mean > 0 "
                        "and gap is not null";
    const figure *j = fig(f, n, "jacobian-gap");
    check_drawn("all", j);
    assert_int_equal(j->n, sql_long(g, every) + sql_long(o, every));
    assert_non_null(strstr(j->title, "other fit networks"));
    r = dat_of("all", "jacobian-gap", &nr);
    assert_int_equal(nr, j->n);
    int seen6 = 0, seen7 = 0, seen_other = 0, main = 0;
    for (long i = 0; i < nr; i++) {
        long run = lround(num(&r[i], 3));
        int gs = !strcmp(r[i].f[2], "gapstudy");
        assert_true(!gs || run != 8);  /* not fit: never */
        if (gs && run == 6)
            seen6 = 1, assert_string_equal(r[i].f[1], "gapstudy: label noise, fixed budget");
        else if (gs && run == 7)
            seen7 = 1, assert_string_equal(r[i].f[1], "gapstudy: true labels, early stopping");
        else if (gs)
            main++, assert_non_null(strstr(r[i].f[1], "depth = "));
        else {
            seen_other++;
            assert_string_equal(r[i].f[1], run == 20 ? "other: label noise, fixed budget"
                                                     : "other: true labels, fixed budget");
        }
    }
    free(r);
    assert_true(seen6 && seen7);
    assert_int_equal(main, 6);
    assert_int_equal(seen_other, 21);
    const char *base = "select count(*) from runs where status = 'fit' and gap is not null";
    assert_int_equal(fig(f, n, "baselines-gap")->n, sql_long(g, base) + sql_long(o, base));
    /* per point: the early-stopping network's points too, never the not-fit one's */
    assert_int_equal(fig(f, n, "per-point")->n,
                     sql_long(g, "select count(*) from points p join runs r on r.run_id = "
                                 "p.run_id where r.status = 'fit'"));
    r = dat_of("all", "per-point", &nr);
    for (long i = 0; i < nr; i++)
        assert_true(!strcmp(r[i].f[2], "0") || !strcmp(r[i].f[2], "7"));
    free(r);
    free(f);
    sqlite3_close(g);
    sqlite3_close(o);
}

/* ---- constructed: trajectory profiles with an outlier ---- */

/* (c) profiles: five trajectories of fit fixed-budget networks whose
 * Jacobian at bin b is 1 + b, 2 + b, 3 + b, 4 + b and 1000 + b, and whose
 * transitions per bin are 0, 1, 1, 2 and 50; a not-fit and an early-stopping
 * network's trajectories hold 1e6 everywhere. By hand (type 7 quantiles of
 * five values: the 2nd, 3rd and 4th order statistics): median 3 + b, q25
 * 2 + b, q75 4 + b (the mean, 202 + b, follows the outlier); transitions
 * per unit u (6 bins): median 6, q25 6, q75 12. */
static void test_profile_medians(void **state)
{
    (void)state;
    sqlite3 *db = make_db("traj.db", "onoff-manifold");
    const double base[5] = {1, 2, 3, 4, 1000};
    const int trans[5] = {0, 1, 1, 2, 50};
    for (int r = 0; r < 7; r++) {
        hrun h = {r, "fashion-mnist", r == 5 ? "not_fit" : "fit", "relu", 0, r == 6, 2, 8, 0.1,
                  1, 4};
        add_run(db, &h);
        char pj[256], pt[256];
        int oj = snprintf(pj, sizeof pj, "["), ot = snprintf(pt, sizeof pt, "[");
        for (int b = 0; b < 6; b++) {
            oj += snprintf(pj + oj, sizeof pj - oj, "%s%.17g", b ? ", " : "",
                           r < 5 ? base[r] + b : 1e6);
            ot += snprintf(pt + ot, sizeof pt - ot, "%s%d", b ? ", " : "", r < 5 ? trans[r] : 1000);
        }
        snprintf(pj + oj, sizeof pj - oj, "]");
        snprintf(pt + ot, sizeof pt - ot, "]");
        exec_sql(db, "insert into trajectories (run_id, kind, i, anchors, method, transitions, "
                     "regions, samples, profile_jac, profile_trans) values (%d, 'ellipse-diff', "
                     "0, 'train:1;2;3', 'exact', %d, %d, %d, '%s', '%s')",
                 r, 6 * (r < 5 ? trans[r] : 1000), 1, 1, pj, pt);
    }
    close_db(db);
    const char *dbn[] = {"traj.db"};
    figure *f = NULL;
    int n = 0;
    sn_err e = {0};
    if (draw(dbn, 1, "out", NULL, &f, &n, &e))
        fail_msg("figures_draw: %s", e.msg);
    const figure *o = fig(f, n, "onoff-manifold");
    check_drawn("out", o);
    assert_int_equal(o->n, 6);
    long nr = 0;
    datrow *r = dat_of("out", "onoff-manifold", &nr);
    assert_int_equal(nr, 6);
    for (int b = 0; b < 6; b++) {
        assert_string_equal(r[b].f[0], "ellipse-diff");
        near(num(&r[b], 2), b / 6.0, 1e-8, "u");
        near(num(&r[b], 3), (b + 0.5) / 6, 1e-8, "u_mid");
        near(num(&r[b], 4), 3 + b, 1e-9, "Jacobian median");
        near(num(&r[b], 5), 2 + b, 1e-9, "Jacobian q25");
        near(num(&r[b], 6), 4 + b, 1e-9, "Jacobian q75");
        near(num(&r[b], 7), 6, 1e-9, "transition density median");
        near(num(&r[b], 8), 6, 1e-9, "transition density q25");
        near(num(&r[b], 9), 12, 1e-9, "transition density q75");
        near(num(&r[b], 10), 5, 0, "trajectories");
    }
    free(r);
    /* the script draws the band between the quartiles and the median line */
    char p[1024];
    pathf(p, sizeof p, "%s/out/onoff-manifold.gp", g_dir);
    char *gp = read_all(p, NULL);
    assert_non_null(strstr(gp, "using 3:6:7 with filledcurves"));  /* u: q25, q75 */
    assert_non_null(strstr(gp, "using 3:5 with lines"));           /* u: median */
    assert_non_null(strstr(gp, "using 4:9:10 with filledcurves")); /* u_mid: transitions */
    assert_non_null(strstr(gp, "using 4:8 with lines"));
    free(gp);
    free(f);
}

/* ---- constructed: the ratio panel of the bounds ---- */

/* (d) one fit network with M = 4 (sqrt(M) = 2): a point of loss ln 2 (s_y =
 * 1/2) and ||J_y|| 0.6 has ratio 0.6 / (2 * 1/2 * 1/2) = 1.2; one of loss
 * ln 4 (s_y = 1/4) and ||J_y|| 0.375 has 0.375 / (2 * 1/4 * 3/4) = 1. A
 * not-fit network's points are left out. The band: sqrt(10/9) and sqrt(2)
 * (ten classes). */
static void test_xent_ratio(void **state)
{
    (void)state;
    sqlite3 *db = make_db("xent.db", "xent-bounds");
    hrun h0 = {0, "fashion-mnist", "fit", "relu", 0, 0, 2, 8, 0.1, 1, 4};
    hrun h1 = {1, "fashion-mnist", "not_fit", "relu", 0, 0, 2, 8, 0.1, 1, 4};
    add_run(db, &h0);
    add_run(db, &h1);
    const double loss[2] = {log(2), log(4)}, jy[2] = {0.6, 0.375};
    for (int r = 0; r < 2; r++)
        for (int i = 0; i < 2; i++)
            exec_sql(db, "insert into points (run_id, split, idx, label, pred, correct, loss, "
                         "jac_softmax, jac_logit, jac_y) values (%d, 'test', %d, 1, 1, 1, %.17g, "
                         "0.9, 1, %.17g)", r, i, loss[i], jy[i]);
    close_db(db);
    const char *dbn[] = {"xent.db"};
    figure *f = NULL;
    int n = 0;
    sn_err e = {0};
    if (draw(dbn, 1, "out", NULL, &f, &n, &e))
        fail_msg("figures_draw: %s", e.msg);
    const figure *x = fig(f, n, "xent-bounds");
    check_drawn("out", x);
    assert_int_equal(x->n, 2);
    long nr = 0;
    datrow *r = dat_of("out", "xent-bounds", &nr);
    assert_int_equal(nr, 2);
    const double want_s[2] = {0.5, 0.25}, want_ratio[2] = {1.2, 1.0};
    for (int i = 0; i < 2; i++) {
        assert_string_equal(r[i].f[2], "0");  /* the fit network */
        assert_int_equal(lround(num(&r[i], 3)), i);
        near(num(&r[i], 4), 10, 0, "K");
        near(num(&r[i], 5), 4, 1e-12, "M");
        near(num(&r[i], 7), jy[i] / 2, 1e-8, "||J_y|| / sqrt(M)");
        near(num(&r[i], 9), want_s[i], 1e-8, "label probability");
        near(num(&r[i], 10), want_ratio[i], 1e-8, "ratio");
    }
    free(r);
    char p[1024];
    pathf(p, sizeof p, "%s/out/xent-bounds.gp", g_dir);
    char *gp = read_all(p, NULL);
    assert_non_null(strstr(gp, "using 10:11 with points"));   /* ratio against s_y */
    assert_non_null(strstr(gp, "sqrt(10 / 9.) with lines"));  /* the band */
    assert_non_null(strstr(gp, "sqrt(2.) with lines"));
    assert_non_null(strstr(gp, "set logscale xy"));           /* the log-log panels stay */
    free(gp);
    free(f);
}

int main(int argc, char **argv)
{
    (void)argc;
    char self[1024];
    snprintf(self, sizeof self, "%s", argv[0]);
    snprintf(g_sensi, sizeof g_sensi, "%s/../sensi", dirname(self));
#define T(f) cmocka_unit_test_setup_teardown(f, test_setup, test_teardown)
    const struct CMUnitTest tests[] = {
        T(test_one_db),
        T(test_scripts_self_contained),
        T(test_two_dbs),
        T(test_subsample),
        T(test_no_fit),
        T(test_empty_db),
        T(test_bad_outdir),
        T(test_gnuplot_missing_or_failing),
        T(test_slice),
        T(test_gap_source),
        T(test_all_networks),
        T(test_profile_medians),
        T(test_xent_ratio),
    };
#undef T
    return cmocka_run_group_tests(tests, setup, teardown);
}
