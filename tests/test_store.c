/* test_store.c: the results database (src/study/store.c) on real SQLite files
 * in a temporary folder, read back through a separate sqlite3 connection:
 * - round trip of a run: every runs column (config columns against the
 *   run_config struct, NaN metrics as NULL, an unmeasured Jacobian split as
 *   NULLs, transition means per kind), every point and trajectory field,
 *   profiles as JSON arrays (NULL without a profile), meta rows, WAL mode;
 * - done ids (failed rows are not done) and counts by status;
 * - reopen with the same spec, refusal of another spec, of a random file, of
 *   another SQLite database (left unmodified) and of a missing file when
 *   reading (not created);
 * - a failed row replaced by a later run; a run that fails half-way (two
 *   points with one index) leaves the earlier row of its id intact;
 * - merge of two shard databases equals one database holding all runs
 *   (runs, points, trajectories compared row by row), failed rows replaced
 *   by fit ones and not the other way, another spec refused with nothing
 *   added, merging a file into itself refused;
 * - a full disk (PRAGMA max_page_count) gives SN_EIO, keeps every earlier
 *   run readable and the store usable; a read-only file (a child process as
 *   user nobody when run as root) gives SN_EIO before anything is written;
 * - CSV export parsed back with an RFC 4180 reader (quoted config JSON and
 *   error text with commas, quotes and newlines; NULL as empty; %.10g);
 *   JSON rows with the exact unsigned 64-bit seed;
 * - claims of sweeps sharing a database: one holder per run, held / done /
 *   taken over (a dead pid, a reused pid, another host's unrefreshed claim,
 *   a claim copied with the file),
 *   a failed run not retried by a sweep that started before its attempt,
 *   release and store_close, the heartbeat, merge copying no claims, and a
 *   database without the claims table (an older sensi's) getting it;
 * - schema versions: a version-3 database (no trajectory length) read but
 *   never written (a sweep's open and a merge refuse it, the file left byte
 *   for byte), lengths round-tripping and merged, version 2 refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../src/study/store.h"

static char g_dir[64];

static int setup_dir(void **state)
{
    (void)state;
    snprintf(g_dir, sizeof g_dir, "/tmp/sensi_store_XXXXXX");
    return mkdtemp(g_dir) ? 0 : -1;
}

static int teardown_dir(void **state)
{
    (void)state;
    DIR *d = opendir(g_dir);
    if (d) {
        struct dirent *de;
        char p[512];
        while ((de = readdir(d))) {
            if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                continue;
            snprintf(p, sizeof p, "%s/%s", g_dir, de->d_name);
            chmod(p, 0700);
            unlink(p);
            rmdir(p);
        }
        closedir(d);
    }
    rmdir(g_dir);
    return 0;
}

static const char *tpath(const char *name)
{
    static char buf[64][256];
    static int k;
    char *p = buf[k++ & 63];
    snprintf(p, 256, "%s/%s", g_dir, name);
    return p;
}

static const store_spec SPEC_A = {"gap-test", "0123456789abcdef", "{\"name\":\"gap-test\"}", 40};
static const store_spec SPEC_B = {"other", "fedcba9876543210", "{\"name\":\"other\"}", 7};

/* ---- building configs and results -------------------------------------- */

static void set_num(run_config *c, const char *k, double v)
{
    cJSON *j = cJSON_CreateNumber(v);
    sn_err e = {0};
    assert_int_equal(run_config_set(c, k, j, &e), SN_OK);
    cJSON_Delete(j);
}

static void set_str(run_config *c, const char *k, const char *v)
{
    cJSON *j = cJSON_CreateString(v);
    sn_err e = {0};
    assert_int_equal(run_config_set(c, k, j, &e), SN_OK);
    cJSON_Delete(j);
}

static void set_bool(run_config *c, const char *k, int v)
{
    cJSON *j = cJSON_CreateBool(v);
    sn_err e = {0};
    assert_int_equal(run_config_set(c, k, j, &e), SN_OK);
    cJSON_Delete(j);
}

/* A resolved config that differs per id in width, lr and seed. */
static void make_config(run_config *c, long id, char hash[17])
{
    sn_err e = {0};
    run_config_defaults(c);
    set_str(c, "data", "mnist");
    set_num(c, "train_size", 1000 + id);
    set_num(c, "test_size", 500);
    set_str(c, "preprocess", id % 2 ? "standardize" : "unit");
    set_num(c, "random_labels", 0.25);
    set_num(c, "augment_shift", 2);
    set_bool(c, "augment_flip", 1);
    set_num(c, "depth", 4);
    set_num(c, "width", 16 + id);
    set_str(c, "act", "hardtanh");
    set_bool(c, "bias", 1);
    set_str(c, "init", "gain-matched");
    set_num(c, "sigma_b2", 0.05);
    set_str(c, "opt", "adam");
    set_num(c, "lr", 0.001 * (id + 1));
    set_num(c, "batch", 64);
    set_num(c, "steps", 3000);
    set_num(c, "eval_every", 250);
    set_bool(c, "early_stop", 0);
    set_num(c, "seed", 7 + id);
    assert_int_equal(run_config_resolve(c, &e), SN_OK);
    run_config_hash(c, hash);
}

static double *dup_arr(const double *v, int n)
{
    double *p = malloc(sizeof(double) * n);
    assert_non_null(p);
    memcpy(p, v, sizeof(double) * n);
    return p;
}

/* A run with points (test and train), trajectories (two with profiles, one
 * with a NaN bin; one without), a measured test-split Jacobian with a NaN
 * AUC, an unmeasured train split and a NaN test loss. variant changes the
 * numbers so that replaced rows can be told apart. */
static void make_result(run_result *r, long id, const char *status, int variant)
{
    memset(r, 0, sizeof *r);
    r->run_id = id;
    r->replicate = (int)(id % 3);
    r->seed = 0xF000000000000000ULL + (uint64_t)id; /* above 2^63 */
    snprintf(r->status, sizeof r->status, "%s", status);
    if (!strcmp(status, "failed")) {
        r->error = strdup("run failed: \"out of memory\", retry\nwith fewer threads");
        assert_non_null(r->error);
    }
    r->steps = 1200 + id + variant;
    r->fit_step = 700 + id;
    r->train_loss = 0.125 + variant;
    r->train_acc = 0.9921875;
    r->test_loss = NAN;
    r->test_acc = 0.8125;
    r->gap = r->train_acc - r->test_acc;
    r->n_params = 12345 + id;
    r->jac_test = (jac_summary){.n = 50, .accuracy = 0.82, .mean_loss = 0.5,
                                .js_mean = 1.5 + variant, .js_median = 1.25, .js_stderr = 0.0625,
                                .jl_mean = 12.5, .jl_median = 11.75, .jl_stderr = 0.5,
                                .M = 3.5, .within_bounds = 0.96, .auc = NAN,
                                .top_decile_err = 0.6, .pmax_mean = 0.875,
                                .entropy_mean = 0.3125, .margin_mean = 4.25, .auc_pmax = 0.75,
                                .auc_entropy = 0.8125, .auc_margin = NAN};
    /* jac_train.n == 0: not measured */
    r->jac_train.js_mean = 99; /* must not leak into the columns */
    r->n_points = 3;
    r->points = calloc(3, sizeof(point_row));
    assert_non_null(r->points);
    r->points[0] = (point_row){"test", 17, 3, 3, 0.25 + variant, 1.5, 12.0, 0.75, 0.5, 1.25, 0.125};
    r->points[1] = (point_row){"test", 4, 1, 7, 2.5, 0.5, INFINITY, 0.125, 0.25, NAN, 2.0};
    r->points[2] = (point_row){"train", 17, 9, 9, 0.0625, 2.0, 8.0, 1.0, 0.875, 0.375, 4.5};
    r->n_traj = 3;
    r->traj = calloc(3, sizeof(traj_row));
    assert_non_null(r->traj);
    double pj[4] = {1.5, 2.25, NAN, 0.1}, pt[4] = {0, 3, 1, 2};
    r->traj[0] = (traj_row){"ellipse-diff", 0, "train:12;345;6789", "exact", 40 + variant, 38,
                            0, 2.5, 0.75, 4, dup_arr(pj, 4), dup_arr(pt, 4),
                            37.0312500000000625 + variant};
    r->traj[1] = (traj_row){"ellipse-diff", 1, "train:1;2;3", "exact", 50, 47, 0, NAN, 0.5, 4,
                            dup_arr(pt, 4), dup_arr(pj, 4), NAN};
    r->traj[2] = (traj_row){"translate", 0, "test:17", "sampled", 9, 8, 100000, NAN, 0.25, 0,
                            NULL, NULL, 1e-3};
    r->train_s = 12.5;
    r->measure_s = 3.25;
    r->wall_s = 16.0;
    snprintf(r->host, sizeof r->host, "node-%ld, rack 2", id); /* a comma, no quote */
    snprintf(r->version, sizeof r->version, "0.1.0");
    snprintf(r->blas, sizeof r->blas, "OpenBLAS 0.3.21");
    r->threads = 1;
}

static store *open_ok(const char *path, const store_spec *sp)
{
    store *s = NULL;
    sn_err e = {0};
    int rc = store_open(path, sp, &s, &e);
    if (rc)
        fail_msg("store_open(%s): %s", path, e.msg);
    assert_non_null(s);
    return s;
}

static void insert_ok(store *s, long id, const char *status, int variant)
{
    run_config c;
    char hash[17];
    run_result r;
    make_config(&c, id, hash);
    make_result(&r, id, status, variant);
    sn_err e = {0};
    int rc = store_insert_run(s, &c, hash, &r, &e);
    if (rc)
        fail_msg("store_insert_run(%ld): %s", id, e.msg);
    run_result_free(&r);
}

/* ---- reading back through an independent connection -------------------- */

static sqlite3 *rdb(const char *path)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    return db;
}

/* One row of sql (a query with a %ld for the run id, etc.); returns the
 * prepared statement stepped onto its row. */
static sqlite3_stmt *row_of(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        fail_msg("prepare %s: %s", sql, sqlite3_errmsg(db));
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    return st;
}

static int col_idx(sqlite3_stmt *st, const char *name)
{
    for (int j = 0; j < sqlite3_column_count(st); j++)
        if (!strcmp(sqlite3_column_name(st, j), name))
            return j;
    fail_msg("no column %s", name);
    return -1;
}

static void expect_int(sqlite3_stmt *st, const char *name, long long v)
{
    int j = col_idx(st, name);
    if (sqlite3_column_type(st, j) != SQLITE_INTEGER)
        fail_msg("%s: type %d, expected INTEGER", name, sqlite3_column_type(st, j));
    if (sqlite3_column_int64(st, j) != v)
        fail_msg("%s: %lld, expected %lld", name, (long long)sqlite3_column_int64(st, j), v);
}

static void expect_real(sqlite3_stmt *st, const char *name, double v)
{
    int j = col_idx(st, name);
    if (!isfinite(v)) {
        if (sqlite3_column_type(st, j) != SQLITE_NULL)
            fail_msg("%s: expected NULL for a non-finite value", name);
        return;
    }
    if (sqlite3_column_type(st, j) != SQLITE_FLOAT)
        fail_msg("%s: type %d, expected REAL", name, sqlite3_column_type(st, j));
    if (sqlite3_column_double(st, j) != v)
        fail_msg("%s: %.17g, expected %.17g", name, sqlite3_column_double(st, j), v);
}

static void expect_text(sqlite3_stmt *st, const char *name, const char *v)
{
    int j = col_idx(st, name);
    if (!v) {
        if (sqlite3_column_type(st, j) != SQLITE_NULL)
            fail_msg("%s: expected NULL", name);
        return;
    }
    const char *t = (const char *)sqlite3_column_text(st, j);
    if (sqlite3_column_type(st, j) != SQLITE_TEXT || !t || strcmp(t, v))
        fail_msg("%s: '%s', expected '%s'", name, t ? t : "(null)", v);
}

static void expect_null(sqlite3_stmt *st, const char *name)
{
    if (sqlite3_column_type(st, col_idx(st, name)) != SQLITE_NULL)
        fail_msg("%s: expected NULL", name);
}

static long long scalar(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = row_of(db, sql);
    long long v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static void expect_profile(sqlite3_stmt *st, const char *name, const double *v, int n)
{
    int j = col_idx(st, name);
    const char *t = (const char *)sqlite3_column_text(st, j);
    assert_non_null(t);
    cJSON *a = cJSON_Parse(t);
    if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) != n)
        fail_msg("%s: '%s' is not an array of %d", name, t, n);
    for (int i = 0; i < n; i++) {
        cJSON *x = cJSON_GetArrayItem(a, i);
        if (isfinite(v[i])) {
            if (!cJSON_IsNumber(x) || x->valuedouble != v[i])
                fail_msg("%s[%d]: expected %.17g in %s", name, i, v[i], t);
        } else if (!cJSON_IsNull(x)) {
            fail_msg("%s[%d]: expected null in %s", name, i, t);
        }
    }
    cJSON_Delete(a);
}

/* ---- tests ------------------------------------------------------------- */

static void test_round_trip(void **state)
{
    (void)state;
    const char *path = tpath("rt.db");
    store *s = open_ok(path, &SPEC_A);
    run_config c;
    char hash[17];
    run_result r;
    make_config(&c, 5, hash);
    make_result(&r, 5, "fit", 0);
    sn_err e = {0};
    assert_int_equal(store_insert_run(s, &c, hash, &r, &e), SN_OK);
    store_close(s);

    sqlite3 *db = rdb(path);
    char sql[256];
    /* meta */
    const char *meta[][2] = {{"schema_version", "4"}, {"spec_name", SPEC_A.name},
                             {"spec_hash", SPEC_A.hash}, {"spec_json", SPEC_A.json},
                             {"total_runs", "40"}};
    for (size_t i = 0; i < sizeof meta / sizeof meta[0]; i++) {
        snprintf(sql, sizeof sql, "SELECT value FROM meta WHERE key = '%s'", meta[i][0]);
        sqlite3_stmt *st = row_of(db, sql);
        expect_text(st, "value", meta[i][1]);
        sqlite3_finalize(st);
    }
    sqlite3_stmt *st = row_of(db, "SELECT value FROM meta WHERE key = 'created_at'");
    const char *ca = (const char *)sqlite3_column_text(st, 0);
    assert_true(ca && strlen(ca) == 20 && ca[4] == '-' && ca[10] == 'T' && ca[19] == 'Z');
    sqlite3_finalize(st);
    st = row_of(db, "PRAGMA journal_mode");
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);
    assert_int_equal(scalar(db, "SELECT count(*) FROM runs"), 1);

    /* runs: identity and config */
    st = row_of(db, "SELECT * FROM runs WHERE run_id = 5");
    expect_int(st, "run_id", 5);
    expect_text(st, "config_hash", hash);
    expect_int(st, "replicate", 2);
    expect_int(st, "seed", (long long)r.seed); /* int64 bits of the unsigned seed */
    cJSON *cj = run_config_json(&c);
    char *ctext = cJSON_PrintUnformatted(cj);
    expect_text(st, "config", ctext);
    free(ctext);
    cJSON_Delete(cj);
    expect_text(st, "data", "mnist");
    expect_int(st, "train_size", c.prep.train_size);
    expect_int(st, "test_size", 500);
    expect_text(st, "preprocess", "standardize");
    expect_real(st, "random_labels", 0.25);
    expect_int(st, "augment_shift", 2);
    expect_int(st, "augment_flip", 1);
    expect_int(st, "depth", 4);
    expect_int(st, "width", 21);
    expect_text(st, "act", "hardtanh");
    expect_int(st, "bias", 1);
    expect_text(st, "init", "gain-matched");
    expect_real(st, "sigma_w2", c.net.sigma_w2);
    assert_true(fabs(c.net.sigma_w2 - act_gain_matched_sigma_w2(ACT_HARDTANH, 0.05)) < 1e-15);
    expect_real(st, "sigma_b2", 0.05);
    expect_text(st, "opt", "adam");
    expect_real(st, "lr", c.train.opt.lr);
    assert_true(fabs(c.train.opt.lr - 0.006) < 1e-15);
    expect_int(st, "batch", 64);
    expect_int(st, "steps_budget", 3000);
    expect_real(st, "momentum", c.train.opt.momentum);
    expect_real(st, "beta1", c.train.opt.beta1);
    expect_real(st, "beta2", c.train.opt.beta2);
    expect_real(st, "eps", c.train.opt.eps);
    expect_real(st, "decay", c.train.opt.decay);
    expect_int(st, "eval_every", 250);
    expect_int(st, "early_stop", 0);
    /* outcome */
    expect_text(st, "status", "fit");
    expect_text(st, "error", NULL);
    expect_int(st, "steps", r.steps);
    expect_int(st, "fit_step", r.fit_step);
    expect_real(st, "train_loss", r.train_loss);
    expect_real(st, "train_acc", r.train_acc);
    expect_real(st, "test_loss", NAN);
    expect_real(st, "test_acc", r.test_acc);
    expect_real(st, "gap", r.gap);
    expect_int(st, "n_params", r.n_params);
    /* Jacobian: test measured (AUC NaN), train not */
    expect_int(st, "jac_test_n", 50);
    expect_real(st, "jac_test_mean", 1.5);
    expect_real(st, "jac_test_median", 1.25);
    expect_real(st, "jac_test_stderr", 0.0625);
    expect_real(st, "jac_logit_test_mean", 12.5);
    expect_real(st, "jac_logit_test_median", 11.75);
    expect_real(st, "jac_logit_test_stderr", 0.5);
    expect_real(st, "jac_test_acc", 0.82);
    expect_real(st, "jac_test_loss", 0.5);
    expect_real(st, "jac_test_M", 3.5);
    expect_real(st, "jac_test_within_bounds", 0.96);
    expect_null(st, "jac_test_auc");
    expect_real(st, "jac_test_top_decile_err", 0.6);
    expect_real(st, "jac_test_pmax", 0.875);
    expect_real(st, "jac_test_entropy", 0.3125);
    expect_real(st, "jac_test_margin", 4.25);
    expect_real(st, "jac_test_auc_pmax", 0.75);
    expect_real(st, "jac_test_auc_entropy", 0.8125);
    expect_null(st, "jac_test_auc_margin");
    const char *train_cols[] = {"jac_train_n", "jac_train_mean", "jac_train_median",
                                "jac_train_stderr", "jac_logit_train_mean",
                                "jac_logit_train_median", "jac_logit_train_stderr",
                                "jac_train_acc", "jac_train_loss", "jac_train_M",
                                "jac_train_within_bounds", "jac_train_auc",
                                "jac_train_top_decile_err", "jac_train_pmax",
                                "jac_train_entropy", "jac_train_margin", "jac_train_auc_pmax",
                                "jac_train_auc_entropy", "jac_train_auc_margin"};
    for (size_t i = 0; i < sizeof train_cols / sizeof train_cols[0]; i++)
        expect_null(st, train_cols[i]);
    /* transitions: ellipse-diff mean of 40 and 50, translate 9, others NULL */
    expect_real(st, "trans_ellipse_diff", 45);
    expect_real(st, "regions_ellipse_diff", 42.5);
    expect_real(st, "trans_translate", 9);
    expect_real(st, "regions_translate", 8);
    expect_null(st, "trans_ellipse_same");
    expect_null(st, "trans_ellipse_random");
    expect_null(st, "regions_ellipse_same");
    expect_null(st, "regions_ellipse_random");
    /* provenance */
    expect_real(st, "train_s", 12.5);
    expect_real(st, "measure_s", 3.25);
    expect_real(st, "wall_s", 16.0);
    expect_text(st, "host", "node-5, rack 2");
    expect_text(st, "version", "0.1.0");
    expect_text(st, "blas", "OpenBLAS 0.3.21");
    expect_int(st, "threads", 1);
    const char *fa = (const char *)sqlite3_column_text(st, col_idx(st, "finished_at"));
    assert_true(fa && strlen(fa) == 20 && fa[10] == 'T' && fa[19] == 'Z');
    assert_int_equal(sqlite3_column_count(st), 94);
    sqlite3_finalize(st);

    /* points */
    assert_int_equal(scalar(db, "SELECT count(*) FROM points"), 3);
    for (int i = 0; i < r.n_points; i++) {
        const point_row *p = &r.points[i];
        snprintf(sql, sizeof sql, "SELECT * FROM points WHERE run_id = 5 AND split = '%s' AND "
                 "idx = %d", p->split, p->index);
        st = row_of(db, sql);
        expect_int(st, "label", p->label);
        expect_int(st, "pred", p->pred);
        expect_int(st, "correct", p->label == p->pred);
        expect_real(st, "loss", p->loss);
        expect_real(st, "jac_softmax", p->jac_softmax);
        expect_real(st, "jac_logit", p->jac_logit); /* INFINITY -> NULL for point 1 */
        expect_real(st, "jac_y", p->jac_y);
        expect_real(st, "pmax", p->pmax);
        expect_real(st, "entropy", p->entropy); /* NAN -> NULL for point 1 */
        expect_real(st, "margin", p->margin);
        sqlite3_finalize(st);
    }
    /* trajectories */
    assert_int_equal(scalar(db, "SELECT count(*) FROM trajectories"), 3);
    for (int i = 0; i < r.n_traj; i++) {
        const traj_row *t = &r.traj[i];
        snprintf(sql, sizeof sql, "SELECT * FROM trajectories WHERE run_id = 5 AND kind = '%s' "
                 "AND i = %d", t->kind, t->i);
        st = row_of(db, sql);
        expect_text(st, "anchors", t->anchors);
        expect_text(st, "method", t->method);
        expect_int(st, "transitions", t->transitions);
        expect_int(st, "regions", t->regions);
        expect_int(st, "samples", t->samples);
        expect_real(st, "curvature", t->curvature);
        expect_real(st, "seconds", t->seconds);
        expect_real(st, "length", t->length); /* NAN -> NULL for trajectory 1 */
        if (t->nbins) {
            expect_profile(st, "profile_jac", t->prof_jac, t->nbins);
            expect_profile(st, "profile_trans", t->prof_trans, t->nbins);
        } else {
            expect_null(st, "profile_jac");
            expect_null(st, "profile_trans");
        }
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    run_result_free(&r);
}

static void test_done_and_counts(void **state)
{
    (void)state;
    store *s = open_ok(tpath("done.db"), &SPEC_A);
    insert_ok(s, 0, "fit", 0);
    insert_ok(s, 2, "not_fit", 0);
    insert_ok(s, 3, "diverged", 0);
    insert_ok(s, 4, "failed", 0);
    insert_ok(s, 6, "fit", 0);
    insert_ok(s, 39, "fit", 0);
    unsigned char done[8] = {0};
    sn_err e = {0};
    assert_int_equal(store_done_ids(s, done, 8, &e), SN_OK);
    unsigned char want[8] = {1, 0, 1, 1, 0, 0, 1, 0};
    assert_memory_equal(done, want, 8);
    store_counts c;
    assert_int_equal(store_count(s, &c, &e), SN_OK);
    assert_int_equal(c.total, 6);
    assert_int_equal(c.fit, 3);
    assert_int_equal(c.not_fit, 1);
    assert_int_equal(c.diverged, 1);
    assert_int_equal(c.failed, 1);
    /* a status that is none of the four is refused before anything is written */
    run_config rc;
    char hash[17];
    run_result r;
    make_config(&rc, 9, hash);
    make_result(&r, 9, "fit", 0);
    snprintf(r.status, sizeof r.status, "done");
    assert_int_equal(store_insert_run(s, &rc, hash, &r, &e), SN_EARG);
    assert_non_null(strstr(e.msg, "done"));
    run_result_free(&r);
    assert_int_equal(store_count(s, &c, &e), SN_OK);
    assert_int_equal(c.total, 6);
    store_close(s);
}

static void test_reopen_and_refuse(void **state)
{
    (void)state;
    const char *path = tpath("reopen.db");
    store *s = open_ok(path, &SPEC_A);
    insert_ok(s, 1, "fit", 0);
    store_close(s);

    s = open_ok(path, &SPEC_A); /* same spec */
    store_spec sp;
    store_get_spec(s, &sp);
    assert_string_equal(sp.name, SPEC_A.name);
    assert_string_equal(sp.hash, SPEC_A.hash);
    assert_string_equal(sp.json, SPEC_A.json);
    assert_int_equal(sp.total_runs, 40);
    store_close(s);

    s = open_ok(path, NULL); /* whatever spec it holds */
    store_get_spec(s, &sp);
    assert_string_equal(sp.hash, SPEC_A.hash);
    store_counts c;
    sn_err e = {0};
    assert_int_equal(store_count(s, &c, &e), SN_OK);
    assert_int_equal(c.total, 1);
    store_close(s);

    s = (store *)1;
    assert_int_equal(store_open(path, &SPEC_B, &s, &e), SN_EARG);
    assert_null(s);
    assert_non_null(strstr(e.msg, path));
    assert_non_null(strstr(e.msg, "'gap-test' (spec 0123456789abcdef)"));
    assert_non_null(strstr(e.msg, "not 'other' (spec fedcba9876543210)"));
    assert_non_null(strstr(e.msg, "--db"));

    /* reading a missing file: SN_ENOTFOUND, and no file is created */
    const char *missing = tpath("missing.db");
    assert_int_equal(store_open(missing, NULL, &s, &e), SN_ENOTFOUND);
    assert_non_null(strstr(e.msg, missing));
    assert_int_equal(access(missing, F_OK), -1);
}

static void test_not_sensi(void **state)
{
    (void)state;
    sn_err e = {0};
    store *s = NULL;
    /* random bytes */
    const char *junk = tpath("junk.db");
    FILE *f = fopen(junk, "wb");
    assert_non_null(f);
    for (int i = 0; i < 4096; i++)
        fputc((i * 7919) & 0xff, f);
    fclose(f);
    assert_int_equal(store_open(junk, &SPEC_A, &s, &e), SN_EFORMAT);
    assert_null(s);
    assert_non_null(strstr(e.msg, junk));
    assert_non_null(strstr(e.msg, "not a sensi results database"));
    assert_int_equal(store_open(junk, NULL, &s, &e), SN_EFORMAT);

    /* another SQLite database: refused and left as it was (no WAL switch) */
    const char *other = tpath("other.db");
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(other, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "CREATE TABLE foo (x); INSERT INTO foo VALUES (1);", NULL,
                                  NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    struct stat st0, st1;
    assert_int_equal(stat(other, &st0), 0);
    e.msg[0] = '\0';
    assert_int_equal(store_open(other, &SPEC_A, &s, &e), SN_EFORMAT);
    assert_non_null(strstr(e.msg, other));
    assert_non_null(strstr(e.msg, "not a sensi results database"));
    assert_int_equal(store_open(other, NULL, &s, &e), SN_EFORMAT);
    db = rdb(other);
    sqlite3_stmt *q = row_of(db, "PRAGMA journal_mode");
    assert_string_equal((const char *)sqlite3_column_text(q, 0), "delete");
    sqlite3_finalize(q);
    assert_int_equal(scalar(db, "SELECT count(*) FROM sqlite_master"), 1);
    sqlite3_close(db);
    assert_int_equal(stat(other, &st1), 0);
    assert_int_equal(st0.st_size, st1.st_size);

    /* an empty file is a new database when writing, not a sensi one when reading */
    const char *empty = tpath("empty.db");
    f = fopen(empty, "wb");
    assert_non_null(f);
    fclose(f);
    assert_int_equal(store_open(empty, NULL, &s, &e), SN_EFORMAT);
    s = open_ok(empty, &SPEC_A);
    store_close(s);
}

static void test_replace_failed(void **state)
{
    (void)state;
    const char *path = tpath("replace.db");
    store *s = open_ok(path, &SPEC_A);
    insert_ok(s, 7, "failed", 0);
    insert_ok(s, 8, "fit", 0);
    sqlite3 *db = rdb(path);
    assert_int_equal(scalar(db, "SELECT count(*) FROM runs WHERE run_id = 7 AND status = "
                                "'failed' AND error LIKE 'run failed:%'"), 1);
    insert_ok(s, 7, "fit", 1); /* the rerun */
    assert_int_equal(scalar(db, "SELECT count(*) FROM runs WHERE run_id = 7"), 1);
    assert_int_equal(scalar(db, "SELECT count(*) FROM runs WHERE run_id = 7 AND status = 'fit' "
                                "AND error IS NULL AND steps = 1208"), 1);
    assert_int_equal(scalar(db, "SELECT count(*) FROM points WHERE run_id = 7"), 3);
    assert_int_equal(scalar(db, "SELECT count(*) FROM points WHERE run_id = 7 AND loss = 1.25"),
                     1);
    assert_int_equal(scalar(db, "SELECT count(*) FROM trajectories WHERE run_id = 7"), 3);
    assert_int_equal(scalar(db, "SELECT count(*) FROM trajectories WHERE run_id = 7 AND "
                                "transitions = 41"), 1);

    /* a run that fails half-way (two points with one index): SN_EARG, and
     * the earlier row of its id and everything else are untouched */
    run_config c;
    char hash[17];
    run_result r;
    make_config(&c, 8, hash);
    make_result(&r, 8, "fit", 2);
    r.points[1] = r.points[0];
    sn_err e = {0};
    assert_int_equal(store_insert_run(s, &c, hash, &r, &e), SN_EARG);
    assert_non_null(strstr(e.msg, "run 8"));
    assert_non_null(strstr(e.msg, "point test:17"));
    run_result_free(&r);
    assert_int_equal(scalar(db, "SELECT count(*) FROM runs WHERE run_id = 8 AND steps = 1208"),
                     1);
    assert_int_equal(scalar(db, "SELECT count(*) FROM points WHERE run_id = 8"), 3);
    assert_int_equal(scalar(db, "SELECT count(*) FROM trajectories WHERE run_id = 8"), 3);
    assert_int_equal(scalar(db, "SELECT count(*) FROM runs"), 2);
    /* and the store still writes */
    insert_ok(s, 9, "fit", 0);
    assert_int_equal(scalar(db, "SELECT count(*) FROM runs"), 3);
    sqlite3_close(db);
    store_close(s);
}

/* All rows of a table as one text, ordered, without finished_at. */
static char *dump(const char *path, const char *sql)
{
    sqlite3 *db = rdb(path);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    size_t cap = 1 << 16, n = 0;
    char *out = malloc(cap);
    assert_non_null(out);
    out[0] = '\0';
    while (sqlite3_step(st) == SQLITE_ROW) {
        for (int j = 0; j < sqlite3_column_count(st); j++) {
            if (!strcmp(sqlite3_column_name(st, j), "finished_at"))
                continue;
            const char *t = (const char *)sqlite3_column_text(st, j);
            char cell[4096];
            int k = snprintf(cell, sizeof cell, "%d:%s|", sqlite3_column_type(st, j),
                             t ? t : "NULL");
            while (n + k + 2 > cap) {
                cap *= 2;
                out = realloc(out, cap);
                assert_non_null(out);
            }
            memcpy(out + n, cell, k + 1);
            n += k;
        }
        out[n++] = '\n';
        out[n] = '\0';
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return out;
}

static void expect_same_tables(const char *a, const char *b)
{
    const char *q[] = {"SELECT * FROM runs ORDER BY run_id",
                       "SELECT * FROM points ORDER BY run_id, split, idx",
                       "SELECT * FROM trajectories ORDER BY run_id, kind, i"};
    for (int i = 0; i < 3; i++) {
        char *da = dump(a, q[i]), *db = dump(b, q[i]);
        assert_true(strlen(da) > 100);
        if (strcmp(da, db))
            fail_msg("%s differs:\n%s\n---\n%s", q[i], da, db);
        free(da);
        free(db);
    }
}

static void test_merge(void **state)
{
    (void)state;
    const char *all = tpath("all.db"), *pa = tpath("shard_a.db"), *pb = tpath("shard_b.db");
    const char *out = tpath("merged.db");
    store *s = open_ok(all, &SPEC_A);
    for (long id = 0; id < 6; id++)
        insert_ok(s, id, id == 3 ? "diverged" : "fit", 0);
    store_close(s);
    /* shard a: 0, 2, 4 fit and a failed 5; shard b: 1, 3, 5 and a failed 2 */
    s = open_ok(pa, &SPEC_A);
    insert_ok(s, 0, "fit", 0);
    insert_ok(s, 2, "fit", 0);
    insert_ok(s, 4, "fit", 0);
    insert_ok(s, 5, "failed", 0);
    store_close(s);
    s = open_ok(pb, &SPEC_A);
    insert_ok(s, 1, "fit", 0);
    insert_ok(s, 2, "failed", 0);
    insert_ok(s, 3, "diverged", 0);
    insert_ok(s, 5, "fit", 0);
    store_close(s);

    store *d = open_ok(out, &SPEC_A);
    long added = -1;
    sn_err e = {0};
    assert_int_equal(store_merge(d, pa, &added, NULL, &e), SN_OK);
    assert_int_equal(added, 4);
    assert_int_equal(store_merge(d, pb, &added, NULL, &e), SN_OK);
    assert_int_equal(added, 3); /* 1, 3 and 5 (fit replaces failed); not the failed 2 */
    assert_int_equal(store_merge(d, pb, &added, NULL, &e), SN_OK);
    assert_int_equal(added, 0);
    store_close(d);
    expect_same_tables(all, out);

    /* merged the other way round: the same */
    const char *out2 = tpath("merged2.db");
    d = open_ok(out2, &SPEC_A);
    assert_int_equal(store_merge(d, pb, &added, NULL, &e), SN_OK);
    assert_int_equal(added, 4);
    assert_int_equal(store_merge(d, pa, &added, NULL, &e), SN_OK);
    assert_int_equal(added, 3); /* 0, 4 and 2 (replacing the failed one); not the failed 5 */
    store_close(d);
    expect_same_tables(all, out2);

    /* another spec: refused, nothing added */
    const char *pc = tpath("shard_other.db");
    s = open_ok(pc, &SPEC_B);
    insert_ok(s, 10, "fit", 0);
    store_close(s);
    d = open_ok(out, &SPEC_A);
    added = -1;
    assert_int_equal(store_merge(d, pc, &added, NULL, &e), SN_EARG);
    assert_int_equal(added, 0);
    assert_non_null(strstr(e.msg, pc));
    assert_non_null(strstr(e.msg, out));
    assert_non_null(strstr(e.msg, "fedcba9876543210"));
    assert_non_null(strstr(e.msg, "0123456789abcdef"));
    /* itself, a missing file and a non-sensi file */
    assert_int_equal(store_merge(d, out, &added, NULL, &e), SN_EARG);
    assert_int_equal(store_merge(d, tpath("nope.db"), &added, NULL, &e), SN_ENOTFOUND);
    FILE *jf = fopen(tpath("junk2.db"), "wb");
    assert_non_null(jf);
    fputs("SQLite format 3 is what this file claims, but it is text\n", jf);
    fclose(jf);
    assert_int_equal(store_merge(d, tpath("junk2.db"), &added, NULL, &e), SN_EFORMAT);
    assert_non_null(strstr(e.msg, "junk2.db"));
    /* after the refusals the store still merges */
    assert_int_equal(store_merge(d, pa, &added, NULL, &e), SN_OK);
    assert_int_equal(added, 0);
    store_close(d);
    expect_same_tables(all, out);
}

static void test_disk_full(void **state)
{
    (void)state;
    const char *path = tpath("full.db");
    store *s = open_ok(path, &SPEC_A);
    for (long id = 0; id < 3; id++)
        insert_ok(s, id, "fit", 0);
    sqlite3 *db = rdb(path);
    long long pages = scalar(db, "PRAGMA page_count");
    sqlite3_close(db);
    sn_err e = {0};
    assert_int_equal(store_set_max_pages(s, (long)pages, &e), SN_OK);

    /* a run with many points needs more pages than allowed */
    run_config c;
    char hash[17];
    run_result r;
    make_config(&c, 3, hash);
    make_result(&r, 3, "fit", 0);
    free(r.points);
    r.n_points = 20000;
    r.points = calloc(r.n_points, sizeof(point_row));
    assert_non_null(r.points);
    for (int i = 0; i < r.n_points; i++)
        r.points[i] = (point_row){"test", i, i % 10, (i + 1) % 10, 0.5, 1.0, 2.0, 0.25, 0.5, 1.0, 0.5};
    int rc = store_insert_run(s, &c, hash, &r, &e);
    assert_int_equal(rc, SN_EIO);
    assert_non_null(strstr(e.msg, path));
    assert_non_null(strstr(e.msg, "full"));
    assert_non_null(strstr(e.msg, "earlier runs are kept"));
    /* so does replacing run 1: the old row must survive the failure */
    r.run_id = 1;
    assert_int_equal(store_insert_run(s, &c, hash, &r, &e), SN_EIO);
    store_counts cnt;
    assert_int_equal(store_count(s, &cnt, &e), SN_OK);
    assert_int_equal(cnt.total, 3);
    /* more room: the same store writes again */
    assert_int_equal(store_set_max_pages(s, 1000000, &e), SN_OK);
    r.run_id = 3;
    assert_int_equal(store_insert_run(s, &c, hash, &r, &e), SN_OK);
    run_result_free(&r);
    store_close(s);

    db = rdb(path);
    sqlite3_stmt *st = row_of(db, "PRAGMA integrity_check");
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "ok");
    sqlite3_finalize(st);
    assert_int_equal(scalar(db, "SELECT count(*) FROM runs"), 4);
    assert_int_equal(scalar(db, "SELECT count(*) FROM runs WHERE run_id < 3 AND steps = 1200 "
                                "+ run_id"), 3);
    assert_int_equal(scalar(db, "SELECT count(*) FROM points WHERE run_id = 1"), 3);
    assert_int_equal(scalar(db, "SELECT count(*) FROM points WHERE run_id = 3"), 20000);
    sqlite3_close(db);
}

/* A read-only file: as root, permissions do not apply to this process, so a
 * child drops to user nobody; otherwise the file is made 0444 here. */
static void test_read_only(void **state)
{
    (void)state;
    const char *path = tpath("ro.db");
    store *s = open_ok(path, &SPEC_A);
    insert_ok(s, 0, "fit", 0);
    store_close(s);
    assert_int_equal(chmod(g_dir, 0755), 0);
    assert_int_equal(chmod(path, 0444), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (getuid() == 0 && (setgid(65534) || setuid(65534)))
            _exit(77);
        sn_err e = {0};
        store *w = NULL;
        int rc = store_open(path, &SPEC_A, &w, &e);
        if (rc != SN_EIO || w || !strstr(e.msg, "cannot write") || !strstr(e.msg, path) ||
            !strstr(e.msg, "read-only")) {
            fprintf(stderr, "read-only open: rc %d: %s\n", rc, e.msg);
            _exit(1);
        }
        /* a new file in a directory this user cannot write */
        const char *np = tpath("ro_new.db");
        rc = store_open(np, &SPEC_A, &w, &e);
        if (rc != SN_EIO || !strstr(e.msg, "cannot create") || access(np, F_OK) == 0) {
            fprintf(stderr, "new file in read-only dir: rc %d: %s\n", rc, e.msg);
            _exit(2);
        }
        /* reading still works */
        rc = store_open(path, NULL, &w, &e);
        store_counts c = {0};
        if (rc || store_count(w, &c, &e) || c.total != 1) {
            fprintf(stderr, "reading a read-only file: rc %d: %s\n", rc, e.msg);
            _exit(3);
        }
        store_close(w);
        _exit(0);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    chmod(path, 0644);
    chmod(g_dir, 0700);
    assert_true(WIFEXITED(status));
    if (WEXITSTATUS(status) == 77)
        skip();
    assert_int_equal(WEXITSTATUS(status), 0);
    /* untouched */
    sqlite3 *db = rdb(path);
    assert_int_equal(scalar(db, "SELECT count(*) FROM runs"), 1);
    sqlite3_close(db);
}

/* RFC 4180 reader: next record of p into fields (malloc'd strings); returns
 * the number of fields, 0 at the end. */
static int csv_record(const char **p, char **fields, int max)
{
    const char *s = *p;
    if (!*s)
        return 0;
    int n = 0;
    for (;;) {
        char *f = malloc(strlen(s) + 1);
        assert_non_null(f);
        size_t k = 0;
        if (*s == '"') {
            s++;
            for (;;) {
                assert_true(*s != '\0'); /* unterminated quote */
                if (*s == '"' && s[1] == '"') {
                    f[k++] = '"';
                    s += 2;
                } else if (*s == '"') {
                    s++;
                    break;
                } else {
                    f[k++] = *s++;
                }
            }
        } else {
            while (*s && *s != ',' && *s != '\r' && *s != '\n') {
                assert_true(*s != '"'); /* a quote in an unquoted field */
                f[k++] = *s++;
            }
        }
        f[k] = '\0';
        assert_true(n < max);
        fields[n++] = f;
        if (*s == ',') {
            s++;
            continue;
        }
        assert_true(*s == '\r' && s[1] == '\n');
        s += 2;
        break;
    }
    *p = s;
    return n;
}

static void free_fields(char **f, int n)
{
    for (int i = 0; i < n; i++)
        free(f[i]);
}

static int field_idx(char **hdr, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(hdr[i], name))
            return i;
    fail_msg("no CSV column %s", name);
    return -1;
}

static void test_csv(void **state)
{
    (void)state;
    store *s = open_ok(tpath("csv.db"), &SPEC_A);
    insert_ok(s, 2, "failed", 0);
    insert_ok(s, 1, "fit", 0);
    insert_ok(s, 0, "not_fit", 0);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    sn_err e = {0};
    assert_int_equal(store_export_csv(s, NULL, f, &e), SN_OK);
    fclose(f);

    const char *p = buf;
    char *hdr[128], *row[128];
    int nh = csv_record(&p, hdr, 128);
    assert_int_equal(nh, 94);
    assert_string_equal(hdr[0], "run_id");
    run_config c;
    char hash[17];
    run_result r;
    for (long id = 0; id < 3; id++) {
        int n = csv_record(&p, row, 128);
        assert_int_equal(n, nh);
        assert_int_equal(strtol(row[field_idx(hdr, nh, "run_id")], NULL, 10), id);
        make_config(&c, id, hash);
        make_result(&r, id, id == 2 ? "failed" : id == 1 ? "fit" : "not_fit", 0);
        cJSON *cj = run_config_json(&c);
        char *ct = cJSON_PrintUnformatted(cj);
        assert_non_null(strchr(ct, ','));
        assert_string_equal(row[field_idx(hdr, nh, "config")], ct);
        free(ct);
        cJSON_Delete(cj);
        assert_string_equal(row[field_idx(hdr, nh, "error")], r.error ? r.error : "");
        assert_string_equal(row[field_idx(hdr, nh, "status")], r.status);
        assert_string_equal(row[field_idx(hdr, nh, "host")], r.host);
        assert_string_equal(row[field_idx(hdr, nh, "test_loss")], ""); /* NaN -> NULL */
        assert_string_equal(row[field_idx(hdr, nh, "jac_train_mean")], "");
        char want[64];
        snprintf(want, sizeof want, "%.10g", r.gap);
        assert_string_equal(row[field_idx(hdr, nh, "gap")], want);
        snprintf(want, sizeof want, "%.10g", c.train.opt.lr);
        assert_string_equal(row[field_idx(hdr, nh, "lr")], want);
        snprintf(want, sizeof want, "%llu", (unsigned long long)r.seed);
        assert_string_equal(row[field_idx(hdr, nh, "seed")], want);
        assert_string_equal(row[field_idx(hdr, nh, "width")], id == 0 ? "16" : id == 1 ? "17"
                            : "18");
        run_result_free(&r);
        free_fields(row, n);
    }
    assert_int_equal(csv_record(&p, row, 128), 0);
    free(buf);

    /* filtered by status */
    f = open_memstream(&buf, &len);
    assert_int_equal(store_export_csv(s, "fit", f, &e), SN_OK);
    fclose(f);
    p = buf;
    free_fields(hdr, nh);
    nh = csv_record(&p, hdr, 128);
    int n = csv_record(&p, row, 128);
    assert_string_equal(row[field_idx(hdr, nh, "run_id")], "1");
    free_fields(row, n);
    assert_int_equal(csv_record(&p, row, 128), 0);
    free_fields(hdr, nh);
    free(buf);

    /* a text a spreadsheet would run as a formula is defused with a leading ' */
    assert_int_equal(sqlite3_exec(store_db(s), "update runs set error = '=cmd|'' /C calc''!A0', "
                                               "host = '@SUM(1)' where run_id = 1",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    f = open_memstream(&buf, &len);
    assert_int_equal(store_export_csv(s, "fit", f, &e), SN_OK);
    fclose(f);
    p = buf;
    nh = csv_record(&p, hdr, 128);
    n = csv_record(&p, row, 128);
    assert_string_equal(row[field_idx(hdr, nh, "error")], "'=cmd|' /C calc'!A0");
    assert_string_equal(row[field_idx(hdr, nh, "host")], "'@SUM(1)");
    assert_string_equal(row[field_idx(hdr, nh, "status")], "fit");
    free_fields(row, n);
    free_fields(hdr, nh);
    free(buf);
    store_close(s);
}

typedef struct walk {
    int n;
    long ids[8];
    int seed_ok, nulls_ok, keys;
} walk;

static int on_row(void *ctx, const cJSON *row)
{
    walk *w = ctx;
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(row, "run_id");
    w->ids[w->n++] = (long)id->valuedouble;
    /* the seed is printed exactly (above 2^63: not a double) */
    char *t = cJSON_PrintUnformatted(row);
    char want[64];
    snprintf(want, sizeof want, "\"seed\":%llu,", 0xF000000000000000ULL + (unsigned long long)
             id->valuedouble);
    w->seed_ok += strstr(t, want) != NULL;
    w->nulls_ok += cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(row, "test_loss")) &&
                   cJSON_IsString(cJSON_GetObjectItemCaseSensitive(row, "config"));
    w->keys = cJSON_GetArraySize(row);
    free(t);
    return 0;
}

static int stop_at_first(void *ctx, const cJSON *row)
{
    (void)row;
    ++*(int *)ctx;
    return 42;
}

static void test_each_run(void **state)
{
    (void)state;
    store *s = open_ok(tpath("each.db"), &SPEC_A);
    insert_ok(s, 4, "fit", 0);
    insert_ok(s, 1, "diverged", 0);
    insert_ok(s, 2, "fit", 0);
    walk w = {0};
    sn_err e = {0};
    assert_int_equal(store_each_run(s, NULL, on_row, &w, &e), SN_OK);
    assert_int_equal(w.n, 3);
    assert_int_equal(w.ids[0], 1);
    assert_int_equal(w.ids[1], 2);
    assert_int_equal(w.ids[2], 4);
    assert_int_equal(w.seed_ok, 3);
    assert_int_equal(w.nulls_ok, 3);
    assert_int_equal(w.keys, 94);
    memset(&w, 0, sizeof w);
    assert_int_equal(store_each_run(s, "fit", on_row, &w, &e), SN_OK);
    assert_int_equal(w.n, 2);
    int calls = 0;
    assert_int_equal(store_each_run(s, NULL, stop_at_first, &calls, &e), 42);
    assert_int_equal(calls, 1);
    long n = -1;
    assert_int_equal(store_count_nonnull(s, "trans_translate", &n, &e), SN_OK);
    assert_int_equal(n, 3);
    assert_int_equal(store_count_nonnull(s, "trans_ellipse_same", &n, &e), SN_OK);
    assert_int_equal(n, 0);
    assert_int_equal(store_count_nonnull(s, "width; DROP TABLE runs", &n, &e), SN_EARG);
    store_close(s);
}

static void exec_raw(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg);
    sqlite3_close(db);
}

/* the bytes of a file (malloc'd), *n their number */
static unsigned char *file_bytes(const char *path, long *n)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    *n = ftell(f);
    rewind(f);
    unsigned char *b = malloc(*n > 0 ? *n : 1);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, *n, f), *n);
    fclose(f);
    return b;
}

static void expect_unchanged(const char *path, const unsigned char *b0, long n0)
{
    long n1;
    unsigned char *b1 = file_bytes(path, &n1);
    if (n1 != n0 || memcmp(b0, b1, n0))
        fail_msg("%s was modified by a refused open", path);
    free(b1);
}

static long long count_raw(const char *path, const char *sql);

static int count_cb(void *ctx, const cJSON *row)
{
    (void)row;
    ++*(long *)ctx;
    return 0;
}

/* Schema versions. A version-3 database (from before trajectories had a
 * length; made here from a version-4 one by dropping the column and writing
 * 3 as its version) opens for reading: version 3, counts, rows and CSV as
 * before, trajectories read without a length. It is never written: a
 * sweep's open refuses it (naming the version, the missing length and what
 * to do) and leaves it byte for byte; the reading handle refuses a run; a
 * merge refuses it as input with nothing added and merges a version-4 shard
 * after it, lengths included. Version 2 is refused even for reading. */
static void test_schema_versions(void **state)
{
    (void)state;
    const char *v3 = tpath("v3.db"), *v4 = tpath("v4.db"), *out = tpath("v34.db");
    store *s = open_ok(v3, &SPEC_A);
    assert_int_equal(store_schema_version(s), 4);
    insert_ok(s, 1, "fit", 0);
    insert_ok(s, 2, "not_fit", 0);
    store_close(s);
    exec_raw(v3, "ALTER TABLE trajectories DROP COLUMN length; "
                 "UPDATE meta SET value = '3' WHERE key = 'schema_version'; "
                 "PRAGMA journal_mode = delete");
    long n0;
    unsigned char *b0 = file_bytes(v3, &n0);

    s = open_ok(v3, NULL);
    assert_int_equal(store_schema_version(s), 3);
    store_counts c;
    sn_err e = {0};
    assert_int_equal(store_count(s, &c, &e), SN_OK);
    assert_int_equal(c.total, 2);
    assert_int_equal(c.fit, 1);
    long rows = 0;
    assert_int_equal(store_each_run(s, NULL, count_cb, &rows, &e), SN_OK);
    assert_int_equal(rows, 2);
    FILE *f = fopen(tpath("v3.csv"), "w");
    assert_non_null(f);
    assert_int_equal(store_export_csv(s, NULL, f, &e), SN_OK);
    fclose(f);
    /* the reading handle writes nothing */
    run_config rc;
    char hash[17];
    run_result r;
    make_config(&rc, 3, hash);
    make_result(&r, 3, "fit", 0);
    assert_int_equal(store_insert_run(s, &rc, hash, &r, &e), SN_EFORMAT);
    assert_non_null(strstr(e.msg, "schema version 3"));
    run_result_free(&r);
    store_close(s);
    expect_unchanged(v3, b0, n0);

    /* a sweep's open: refused, with why and what to do, the file untouched */
    s = (store *)1;
    e.msg[0] = '\0';
    assert_int_equal(store_open(v3, &SPEC_A, &s, &e), SN_EFORMAT);
    assert_null(s);
    assert_non_null(strstr(e.msg, v3));
    assert_non_null(strstr(e.msg, "schema version 3"));
    assert_non_null(strstr(e.msg, "no length"));
    assert_non_null(strstr(e.msg, "new --db"));
    assert_null(strchr(e.msg, '\n'));
    expect_unchanged(v3, b0, n0);

    /* merge: a version-3 input is refused whole; a version-4 one is copied
     * with its lengths */
    s = open_ok(v4, &SPEC_A);
    insert_ok(s, 5, "fit", 1);
    store_close(s);
    store *d = open_ok(out, &SPEC_A);
    long added = -1;
    assert_int_equal(store_merge(d, v3, &added, NULL, &e), SN_EFORMAT);
    assert_int_equal(added, 0);
    assert_non_null(strstr(e.msg, v3));
    assert_non_null(strstr(e.msg, "schema version 3"));
    assert_non_null(strstr(e.msg, "without length"));
    assert_int_equal(store_merge(d, v4, &added, NULL, &e), SN_OK);
    assert_int_equal(added, 1);
    store_close(d);
    expect_unchanged(v3, b0, n0);
    assert_int_equal(count_raw(out, "SELECT count(*) FROM runs"), 1);
    /* trajectory 0 of run 5 (variant 1): 37.03125... + 1; 1 is NULL; 2 is 1e-3 */
    sqlite3 *db = rdb(out);
    sqlite3_stmt *st = row_of(db, "SELECT length FROM trajectories WHERE run_id = 5 AND "
                                  "kind = 'ellipse-diff' AND i = 0");
    expect_real(st, "length", 37.0312500000000625 + 1);
    sqlite3_finalize(st);
    st = row_of(db, "SELECT length FROM trajectories WHERE run_id = 5 AND kind = 'ellipse-diff' "
                    "AND i = 1");
    expect_null(st, "length");
    sqlite3_finalize(st);
    assert_int_equal(scalar(db, "SELECT count(*) FROM trajectories WHERE length = 1e-3"), 1);
    sqlite3_close(db);

    /* version 2: not read at all */
    exec_raw(v3, "UPDATE meta SET value = '2' WHERE key = 'schema_version'");
    assert_int_equal(store_open(v3, NULL, &s, &e), SN_EFORMAT);
    assert_non_null(strstr(e.msg, "schema version 2"));
    assert_non_null(strstr(e.msg, "reads versions 3 and 4"));
    free(b0);
}

/* ---- claims: two sweeps on one database ---------------------------------- */

static long long count_raw(const char *path, const char *sql)
{
    sqlite3 *db = rdb(path);
    sqlite3_stmt *st = row_of(db, sql);
    long long v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

static int claim_of(store *s, long id, store_holder *h)
{
    int got = -1;
    sn_err e = {0};
    if (store_claim(s, id, &got, h, &e))
        fail_msg("store_claim(%ld): %s", id, e.msg);
    return got;
}

/* A claim row as another process would leave it. */
static void put_claim(const char *path, long id, const char *host, long pid,
                      const char *pid_start, double age_s)
{
    char sql[512];
    snprintf(sql, sizeof sql,
             "INSERT OR REPLACE INTO run_claims (run_id, state, attempts, owner, host, pid, "
             "pid_start, boot_id, claimed_at, seen_at) VALUES (%ld, 'running', 1, 7, '%s', %ld, "
             "%s, NULL, '2026-01-01T00:00:00Z', strftime('%%s', 'now') - %g)",
             id, host, pid, pid_start, age_s);
    exec_raw(path, sql);
}

static void test_claims(void **state)
{
    (void)state;
    const char *path = tpath("claims.db");
    store *a = open_ok(path, &SPEC_A), *b = open_ok(path, &SPEC_A);
    sn_err e = {0};
    /* claiming before store_claims_start is a bug, not a claim */
    int got = -1;
    assert_int_equal(store_claim(a, 0, &got, NULL, &e), SN_EARG);
    /* a plain open adds nothing: the table comes with the first claiming sweep */
    assert_int_equal(count_raw(path, "select count(*) from sqlite_master where name = 'run_claims'"), 0);
    assert_int_equal(store_claims_start(a, &e), SN_OK);
    assert_int_equal(store_claims_start(b, &e), SN_OK);
    assert_int_equal(count_raw(path, "select count(*) from sqlite_master where name = 'run_claims'"), 1);
    assert_int_equal(store_claim(a, 40, &got, NULL, &e), SN_EARG); /* outside the spec */

    /* one claim per run: the second sweep is told who holds it */
    store_holder h;
    char host[256];
    gethostname(host, sizeof host);
    assert_int_equal(claim_of(a, 0, NULL), STORE_CLAIMED);
    assert_int_equal(claim_of(a, 0, NULL), STORE_CLAIMED); /* ours already */
    memset(&h, 0, sizeof h);
    assert_int_equal(claim_of(b, 0, &h), STORE_HELD);
    assert_int_equal(h.pid, (long)getpid());
    assert_string_equal(h.host, host);
    assert_int_equal(strlen(h.since), 20);
    long live = -1;
    assert_int_equal(store_claims_live(b, &live, NULL, &e), SN_OK);
    assert_int_equal(live, 1);
    /* a claim is not a result */
    unsigned char done[40] = {0};
    store_counts c;
    assert_int_equal(store_done_ids(b, done, 40, &e), SN_OK);
    assert_int_equal(done[0], 0);
    assert_int_equal(store_count(b, &c, &e), SN_OK);
    assert_int_equal(c.total, 0);
    /* stored: the claim ends with the result, the run is done for everyone */
    insert_ok(a, 0, "fit", 0);
    assert_int_equal(count_raw(path, "select count(*) from run_claims"), 0);
    assert_int_equal(claim_of(b, 0, NULL), STORE_DONE);
    assert_int_equal(claim_of(a, 0, NULL), STORE_DONE);

    /* a failed run keeps a mark: a sweep started before the attempt does not
     * retry it, one started after does */
    assert_int_equal(claim_of(a, 1, NULL), STORE_CLAIMED);
    store *d = open_ok(path, &SPEC_A); /* starts while a's attempt is in flight */
    assert_int_equal(store_claims_start(d, &e), SN_OK);
    insert_ok(a, 1, "failed", 0);
    assert_int_equal(claim_of(d, 1, NULL), STORE_DONE);
    store_close(d);
    assert_int_equal(count_raw(path, "select count(*) from run_claims where run_id = 1 and state = "
                                     "'ended' and attempts = 1"), 1);
    assert_int_equal(claim_of(b, 1, NULL), STORE_DONE);
    store *c3 = open_ok(path, &SPEC_A);
    assert_int_equal(store_claims_start(c3, &e), SN_OK);
    assert_int_equal(claim_of(c3, 1, NULL), STORE_CLAIMED);
    insert_ok(c3, 1, "fit", 0);
    assert_int_equal(count_raw(path, "select count(*) from run_claims where run_id = 1"), 0);
    /* a failed row of an older sensi (no claim) is retried */
    insert_ok(c3, 2, "failed", 0);
    assert_int_equal(claim_of(b, 2, NULL), STORE_CLAIMED);

    /* release: the runs not stored are free again; store_close releases too */
    assert_int_equal(claim_of(a, 5, NULL), STORE_CLAIMED);
    assert_int_equal(claim_of(a, 6, NULL), STORE_CLAIMED);
    assert_int_equal(store_claims_release(a, &e), SN_OK);
    assert_int_equal(claim_of(b, 5, NULL), STORE_CLAIMED);
    store_close(b);
    assert_int_equal(claim_of(a, 5, NULL), STORE_CLAIMED);
    assert_int_equal(claim_of(c3, 6, NULL), STORE_CLAIMED);
    assert_int_equal(claim_of(a, 6, NULL), STORE_HELD);

    /* claims of processes that are gone are taken over */
    pid_t child = fork();
    if (child == 0)
        _exit(0);
    waitpid(child, NULL, 0); /* its pid is now free */
    put_claim(path, 10, host, child, "NULL", 0);
    memset(&h, 0, sizeof h);
    assert_int_equal(claim_of(a, 10, &h), STORE_TAKEN_OVER);
    assert_int_equal(h.pid, (long)child);
    assert_string_equal(h.since, "2026-01-01T00:00:00Z");
    assert_int_equal(count_raw(path, "select attempts from run_claims where run_id = 10"), 2);
    /* a live pid of this host is honoured, unless it is another process now */
    put_claim(path, 11, host, (long)getppid(), "NULL", 1e6);
    assert_int_equal(claim_of(a, 11, NULL), STORE_HELD);
    put_claim(path, 12, host, (long)getppid(), "1", 0);
    assert_int_equal(claim_of(a, 12, NULL), STORE_TAKEN_OVER);
    /* another host: honoured while refreshed, taken after STORE_CLAIM_STALE_S */
    put_claim(path, 13, "elsewhere.invalid", 1, "NULL", 10);
    assert_int_equal(claim_of(a, 13, NULL), STORE_HELD);
    put_claim(path, 14, "elsewhere.invalid", 1, "NULL", STORE_CLAIM_STALE_S + 60);
    assert_int_equal(claim_of(a, 14, NULL), STORE_TAKEN_OVER);
    /* the heartbeat refreshes this handle's claims only */
    exec_raw(path, "update run_claims set seen_at = 0");
    assert_int_equal(store_claims_beat(a, &e), SN_OK);
    assert_int_equal(count_raw(path, "select count(*) from run_claims where seen_at > 0"),
                     count_raw(path, "select count(*) from run_claims where owner != 7 and run_id != 6"));
    assert_int_equal(store_claims_live(a, &live, &h, &e), SN_OK);
    assert_int_equal(live, 6); /* 5, 6, 10, 11, 12, 14 (13 is stale now) */

    /* a copy of the file: the claims copied with it are not honoured there */
    sqlite3 *src = rdb(path), *dst = NULL;
    assert_int_equal(sqlite3_open(tpath("claims-copy.db"), &dst), SQLITE_OK);
    sqlite3_backup *bk = sqlite3_backup_init(dst, "main", src, "main");
    assert_non_null(bk);
    assert_int_equal(sqlite3_backup_step(bk, -1), SQLITE_DONE);
    sqlite3_backup_finish(bk);
    sqlite3_close(dst);
    sqlite3_close(src);
    store *cp = open_ok(tpath("claims-copy.db"), &SPEC_A);
    assert_int_equal(store_claims_start(cp, &e), SN_OK);
    assert_int_equal(claim_of(cp, 5, NULL), STORE_TAKEN_OVER);
    store_close(cp);
    assert_int_equal(claim_of(c3, 5, NULL), STORE_HELD); /* the original: still a's */

    /* merge copies results, never claims */
    store *m = open_ok(tpath("claims-merged.db"), &SPEC_A);
    long added = 0;
    assert_int_equal(store_merge(m, path, &added, NULL, &e), SN_OK);
    assert_int_equal(added, 3);
    store_close(m);
    assert_int_equal(count_raw(tpath("claims-merged.db"),
                               "select count(*) from sqlite_master where name = 'run_claims'"), 0);
    store_close(c3);
    store_close(a);

    /* a database without the table (an older sensi's) gets it, nothing else
     * changes; reading never creates it */
    exec_raw(path, "drop table run_claims");
    store *r = open_ok(path, NULL);
    assert_int_equal(store_claims_live(r, &live, NULL, &e), SN_OK);
    assert_int_equal(live, 0);
    store_close(r);
    assert_int_equal(count_raw(path, "select count(*) from sqlite_master where name = 'run_claims'"), 0);
    a = open_ok(path, &SPEC_A);
    assert_int_equal(store_claims_start(a, &e), SN_OK);
    assert_int_equal(claim_of(a, 2, NULL), STORE_CLAIMED);
    assert_int_equal(claim_of(a, 0, NULL), STORE_DONE);
    store_close(a);
    assert_int_equal(count_raw(path, "select count(*) from run_claims"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_done_and_counts),
        cmocka_unit_test(test_reopen_and_refuse),
        cmocka_unit_test(test_not_sensi),
        cmocka_unit_test(test_replace_failed),
        cmocka_unit_test(test_merge),
        cmocka_unit_test(test_disk_full),
        cmocka_unit_test(test_read_only),
        cmocka_unit_test(test_csv),
        cmocka_unit_test(test_each_run),
        cmocka_unit_test(test_claims),
        cmocka_unit_test(test_schema_versions),
    };
    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
