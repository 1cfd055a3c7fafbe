/* test_figures.c: the report's figures (figures.h) drawn from small real
 * databases that the real binary builds here (`sensi sweep` on Fashion-MNIST
 * subsets: label and activation pairs with profiles, per-point rows and
 * transitions; optimizer and augmentation pairs; a sweep where nothing
 * fits; an empty store). Checks every drawn figure's files (non-empty SVG
 * that parses as XML, PNG, data, script), that each .dat holds n rows and
 * that n and the plotted values equal independent SQL over the same
 * databases, that the scripts redraw the same files on their own, and that
 * missing data, a bad output directory and a missing or failing gnuplot
 * come back as documented. */
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

#include "../src/study/figures.h"
#include "../src/study/store.h"

static char g_dir[256];     /* temp dir with the databases */
static char g_sensi[1024];  /* the sensi binary next to the test binaries */

static const char *const names_in_order[] = {
    "onoff-manifold", "region-slice", "factor-labels", "factor-augment", "factor-activation",
    "factor-optimizer", "jacobian-gap", "transitions-gap", "per-point", "xent-bounds",
    "baselines-gap"};
#define NFIG 11

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
 * (created). Returns figures_draw's status. */
static int draw(const char *const *dbnames, int ndb, const char *out, const char *slice,
                figure **figs, int *nfig, sn_err *e)
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
    int rc = figures_draw(dbs, names, ndb, od, slice, figs, nfig, e);
    for (int i = 0; i < ndb; i++)
        sqlite3_close(dbs[i]);
    return rc;
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

/* ---- the databases ---- */

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

static void sweep(const char *name, const char *spec)
{
    char sp[512];
    pathf(sp, sizeof sp, "%s/%s.json", g_dir, name);
    write_text(sp, spec);
    if (sh("'%s' sweep '%s' --db '%s/%s.db' -q --jobs 2 >'%s/%s.out' 2>&1", g_sensi, sp, g_dir,
           name, g_dir, name))
        fail_msg("sensi sweep %s failed (see %s/%s.out)", name, g_dir, name);
}

static int setup(void **state)
{
    (void)state;
    snprintf(g_dir, sizeof g_dir, "/tmp/sensi-figures-XXXXXX");
    if (!mkdtemp(g_dir))
        return -1;
    if (access(g_sensi, X_OK)) {
        fprintf(stderr, "test_figures: no sensi binary at %s (make first)\n", g_sensi);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    if (!getenv("KEEP_TMP"))
        sh("rm -rf '%s'", g_dir);
    return 0;
}

static void test_build_dbs(void **state)
{
    (void)state;
    sweep("a", spec_a);
    sweep("b", spec_b);
    sweep("c", spec_c);
    sqlite3 *c = open_ro("c.db");
    assert_int_equal(sql_long(c, "select count(*) from runs where status != 'fit' and "
                                 "jac_test_mean > 0 and trans_ellipse_diff is not null"), 2);
    sqlite3_close(c);
    /* an empty store: the schema, no runs */
    char p[512];
    pathf(p, sizeof p, "%s/empty.db", g_dir);
    store_spec sp = {"empty", "0123456789abcdef", "{\"name\":\"empty\"}", 0};
    store *s = NULL;
    sn_err e = {0};
    assert_int_equal(store_open(p, &sp, &s, &e), SN_OK);
    store_close(s);
    /* many points: a copy of a with its points repeated 16 times */
    assert_int_equal(sh("cp '%s/a.db' '%s/big.db'", g_dir, g_dir), 0);
    sqlite3 *db = NULL;
    pathf(p, sizeof p, "%s/big.db", g_dir);
    assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
    for (int k = 1; k < 16; k++) {
        char sql[256];
        snprintf(sql, sizeof sql, "insert into points select run_id, split, idx + %d, label, "
                                  "pred, correct, loss, jac_softmax, jac_logit, jac_y, pmax, entropy, "
                                  "margin from "
                                  "points where idx < 100000", k * 100000);
        assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    }
    sqlite3_close(db);
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

    /* n against SQL written independently of figures.c */
    sqlite3 *db = open_ro("a.db");
    assert_int_equal(fig(f, n, "jacobian-gap")->n,
                     sql_long(db, "select count(*) from runs where status = 'fit' and "
                                  "jac_test_mean is not null and gap is not null"));
    assert_int_equal(fig(f, n, "baselines-gap")->n,
                     sql_long(db, "select count(*) from runs where status = 'fit'"));
    assert_int_equal(fig(f, n, "transitions-gap")->n,
                     sql_long(db, "select count(trans_ellipse_diff) + count(trans_translate) + "
                                  "count(trans_ellipse_same) + count(trans_ellipse_random) from "
                                  "runs where status = 'fit'"));
    assert_int_equal(fig(f, n, "per-point")->n,
                     sql_long(db, "select count(*) from points where split = 'test' and "
                                  "loss > 0 and jac_softmax > 0"));
    assert_int_equal(fig(f, n, "xent-bounds")->n,
                     sql_long(db, "select count(*) from points p, runs r where r.run_id = "
                                  "p.run_id and p.split = 'test' and p.loss > 0 and p.jac_y > 0 "
                                  "and p.jac_softmax > 0 and r.jac_test_M > 0"));
    assert_int_equal(fig(f, n, "onoff-manifold")->n,
                     12 * sql_long(db, "select count(distinct kind) from trajectories where "
                                       "profile_jac is not null"));
    const char *pairs_sql =
        "select count(*) from runs a, runs b where a.status = 'fit' and b.status = 'fit' and "
        "a.replicate = b.replicate and ";
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
        snprintf(sql, sizeof sql, "select jac_test_mean from runs where run_id = %ld", run);
        assert_true(fabs(jac - sql_num(db, sql)) <= 1e-8 * fabs(jac));
        snprintf(sql, sizeof sql, "select gap from runs where run_id = %ld", run);
        assert_true(fabs(gap - sql_num(db, sql)) <= 1e-8);
        snprintf(sql, sizeof sql, "select data = '%s' from runs where run_id = %ld", dat_data, run);
        assert_int_equal(sql_long(db, sql), 1);
        rows++;
    }
    fclose(fp);
    assert_int_equal(rows, 8);

    /* the on/off profile at u = 0: means over trajectories (JSON in SQL) */
    double jac0 = sql_num(db, "select avg(json_extract(profile_jac, '$[0]')) from trajectories "
                              "where kind = 'ellipse-diff'");
    double tr0 = 12 * sql_num(db, "select avg(json_extract(profile_trans, '$[0]')) from "
                                  "trajectories where kind = 'ellipse-diff'");
    pathf(p, sizeof p, "%s/out1/onoff-manifold.dat", g_dir);
    fp = fopen(p, "r");
    assert_non_null(fp);
    int found = 0;
    while (fgets(line, sizeof line, fp)) {
        char kind[32], dbl[32];
        double u, um, j, t, ntr;
        if (line[0] == '#' || line[0] == '\n')
            continue;
        assert_int_equal(sscanf(line, "%31[^\t]\t%31[^\t]\t%lf\t%lf\t%lf\t%lf\t%lf", kind, dbl,
                                &u, &um, &j, &t, &ntr), 7);
        if (!strcmp(kind, "ellipse-diff") && u == 0) {
            found = 1;
            assert_true(fabs(j - jac0) <= 1e-7 * jac0);
            assert_true(fabs(t - tr0) <= 1e-7 * (tr0 + 1));
            assert_int_equal(lround(ntr), sql_long(db, "select count(*) from trajectories "
                                                       "where kind = 'ellipse-diff'"));
        }
    }
    fclose(fp);
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

    /* cross-entropy bounds: each point's norms over sqrt(M) of its network */
    pathf(p, sizeof p, "%s/out1/xent-bounds.dat", g_dir);
    fp = fopen(p, "r");
    assert_non_null(fp);
    rows = 0;
    while (fgets(line, sizeof line, fp)) {
        char ser[64], dbl[32];
        long run, idx;
        double K, M, loss, jy, js;
        if (line[0] == '#' || line[0] == '\n')
            continue;
        assert_int_equal(sscanf(line, "%63[^\t]\t%31[^\t]\t%ld\t%ld\t%lf\t%lf\t%lf\t%lf\t%lf",
                                ser, dbl, &run, &idx, &K, &M, &loss, &jy, &js), 9);
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
    const char *jsql = "select count(*) from runs where status = 'fit' and jac_test_mean is not "
                       "null and gap is not null";
    const figure *j = fig(f, n, "jacobian-gap");
    check_drawn("out3", j);
    assert_int_equal(j->n, sql_long(a, jsql) + sql_long(b, jsql));
    const char *fsql = "select count(*) from runs where status = 'fit'";
    check_drawn("out3", fig(f, n, "baselines-gap"));
    assert_int_equal(fig(f, n, "baselines-gap")->n, sql_long(a, fsql) + sql_long(b, fsql));
    char p[1024];
    pathf(p, sizeof p, "%s/out3/jacobian-gap.dat", g_dir);
    char *dat = read_all(p, NULL);
    assert_non_null(strstr(dat, "\ta\t"));
    assert_non_null(strstr(dat, "\tb\t"));
    free(dat);
    /* optimizer pairs: momentum vs lbfgs, same replicate, both fit */
    long opt = sql_long(b, "select count(*) from runs x, runs y where x.status = 'fit' and "
                           "y.status = 'fit' and x.replicate = y.replicate and x.opt = 'momentum' "
                           "and y.opt = 'lbfgs'");
    const figure *o = fig(f, n, "factor-optimizer");
    assert_true(opt > 0);
    check_drawn("out3", o);
    assert_int_equal(o->n, opt);
    /* augmentation pairs: only where it raised the test accuracy */
    long aug = sql_long(b, "select count(*) from runs x, runs y where x.status = 'fit' and "
                           "y.status = 'fit' and x.replicate = y.replicate and x.opt = 'adam' "
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
    long total = sql_long(db, "select count(*) from points where split = 'test' and loss > 0 "
                              "and jac_softmax > 0");
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
    pathf(png, sizeof png, "%s/out1/per-point.png", g_dir); /* any real PNG */
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
    f = NULL;
    assert_int_equal(draw(dbn, 1, "slice", txt, &f, &n, &e), SN_EFORMAT);
    assert_null(f);
    assert_non_null(strstr(e.msg, txt));
    pathf(txt, sizeof txt, "%s/no-such.png", g_dir);
    assert_int_not_equal(draw(dbn, 1, "slice", txt, &f, &n, &e), SN_OK);
    assert_null(f);
}

int main(int argc, char **argv)
{
    (void)argc;
    char self[1024];
    snprintf(self, sizeof self, "%s", argv[0]);
    snprintf(g_sensi, sizeof g_sensi, "%s/../sensi", dirname(self));
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_build_dbs),
        cmocka_unit_test(test_one_db),
        cmocka_unit_test(test_scripts_self_contained),
        cmocka_unit_test(test_two_dbs),
        cmocka_unit_test(test_subsample),
        cmocka_unit_test(test_no_fit),
        cmocka_unit_test(test_empty_db),
        cmocka_unit_test(test_bad_outdir),
        cmocka_unit_test(test_gnuplot_missing_or_failing),
        cmocka_unit_test(test_slice),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
