/* store.c: the results database of a sweep, one SQLite file (schema and
 * column meanings in docs/schema.md).
 *
 * What it does: creates the schema and the meta rows of a new file, checks
 * that an existing file is a sensi database of the same spec, writes one run
 * (its runs row, points and trajectories) per transaction with statements
 * prepared once at open, merges shard databases (ATTACH + INSERT ... SELECT in
 * one transaction), and reads runs back (counts, done ids, CSV, JSON rows).
 *
 * It also keeps the claims of sweeps that share one database (table
 * run_claims: a run is claimed in a transaction before it is trained, the
 * claim ends in the transaction that stores the run, a claim of a dead
 * process is dropped by whoever meets it), so two sweeps on one file never
 * train a run twice. Writers take turns through SQLite's lock (every write
 * is one short transaction; the busy timeout covers the wait).
 *
 * What it does not: schedule, train or measure anything; print or exit (the
 * CLI does); migrate between schema versions. A version-3 file (whose
 * trajectories have no length column) opens for reading only: sweeps and
 * merges refuse to write into it or to copy from it, so that no database
 * mixes trajectories with and without a length; other versions are
 * refused. The run_claims table is not part of the schema version: it is
 * created by the first sweep that opens a file and read by nothing but the
 * sweeps' claiming.
 *
 * Why this way: SQLite in WAL mode with synchronous=FULL makes every
 * committed run durable and a killed writer leaves whole runs or nothing,
 * with no server to run. The config columns are taken from run_config_json,
 * so they are the same keys and values as the config JSON column and the
 * model files. Doubles that are NaN or infinite are stored as NULL. */
#define _GNU_SOURCE /* realpath, gmtime_r */
#include "store.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../core/fileio.h"

#define SCHEMA_VERSION "4"
/* the older version still read (for analyze, report, runs): trajectories
 * without their length */
#define SCHEMA_VERSION_OLD "3"
#define BUSY_TIMEOUT_MS 10000

/* The runs table, in column order. Config columns are filled from the keys
 * of run_config_json (key; kind 'i' integer, 'r' real, 't' text, 'b' bool
 * stored 0/1); the others (key NULL) by bind_run in the same order. */
typedef struct col {
    const char *name, *type, *key;
    char kind;
} col;

#define JAC_COLS(S)                                                                        \
    {"jac_" S "_n", "INTEGER", 0, 0}, {"jac_" S "_mean", "REAL", 0, 0},                    \
        {"jac_" S "_median", "REAL", 0, 0}, {"jac_" S "_stderr", "REAL", 0, 0},            \
        {"jac_logit_" S "_mean", "REAL", 0, 0}, {"jac_logit_" S "_median", "REAL", 0, 0},  \
        {"jac_logit_" S "_stderr", "REAL", 0, 0}, {"jac_" S "_acc", "REAL", 0, 0},         \
        {"jac_" S "_loss", "REAL", 0, 0}, {"jac_" S "_M", "REAL", 0, 0},                   \
        {"jac_" S "_within_bounds", "REAL", 0, 0}, {"jac_" S "_auc", "REAL", 0, 0},        \
        {"jac_" S "_top_decile_err", "REAL", 0, 0}, {"jac_" S "_pmax", "REAL", 0, 0},      \
        {"jac_" S "_entropy", "REAL", 0, 0}, {"jac_" S "_margin", "REAL", 0, 0},           \
        {"jac_" S "_auc_pmax", "REAL", 0, 0}, {"jac_" S "_auc_entropy", "REAL", 0, 0},     \
        {"jac_" S "_auc_margin", "REAL", 0, 0}

static const col RUN_COLS[] = {
    {"run_id", "INTEGER PRIMARY KEY", 0, 0},
    {"config_hash", "TEXT NOT NULL", 0, 0},
    {"replicate", "INTEGER", 0, 0},
    {"seed", "INTEGER", 0, 0},
    {"config", "TEXT NOT NULL", 0, 0},
    /* config columns */
    {"data", "TEXT", "data", 't'},
    {"train_size", "INTEGER", "train_size", 'i'},
    {"test_size", "INTEGER", "test_size", 'i'},
    {"preprocess", "TEXT", "preprocess", 't'},
    {"random_labels", "REAL", "random_labels", 'r'},
    {"augment_shift", "INTEGER", "augment_shift", 'i'},
    {"augment_flip", "INTEGER", "augment_flip", 'b'},
    {"depth", "INTEGER", "depth", 'i'},
    {"width", "INTEGER", "width", 'i'},
    {"act", "TEXT", "act", 't'},
    {"bias", "INTEGER", "bias", 'b'},
    {"init", "TEXT", "init", 't'},
    {"sigma_w2", "REAL", "sigma_w2", 'r'},
    {"sigma_b2", "REAL", "sigma_b2", 'r'},
    {"opt", "TEXT", "opt", 't'},
    {"lr", "REAL", "lr", 'r'},
    {"batch", "INTEGER", "batch", 'i'},
    {"steps_budget", "INTEGER", "steps", 'i'},
    {"momentum", "REAL", "momentum", 'r'},
    {"beta1", "REAL", "beta1", 'r'},
    {"beta2", "REAL", "beta2", 'r'},
    {"eps", "REAL", "eps", 'r'},
    {"decay", "REAL", "decay", 'r'},
    {"eval_every", "INTEGER", "eval_every", 'i'},
    {"early_stop", "INTEGER", "early_stop", 'b'},
    /* outcome */
    {"status", "TEXT NOT NULL CHECK (status IN ('fit','not_fit','diverged','failed'))", 0, 0},
    {"error", "TEXT", 0, 0},
    {"steps", "INTEGER", 0, 0},
    {"fit_step", "INTEGER", 0, 0},
    {"train_loss", "REAL", 0, 0},
    {"train_acc", "REAL", 0, 0},
    {"test_loss", "REAL", 0, 0},
    {"test_acc", "REAL", 0, 0},
    {"gap", "REAL", 0, 0},
    {"n_params", "INTEGER", 0, 0},
    /* Jacobian summaries */
    JAC_COLS("test"),
    JAC_COLS("train"),
    /* transitions */
    {"trans_ellipse_diff", "REAL", 0, 0},
    {"trans_ellipse_same", "REAL", 0, 0},
    {"trans_ellipse_random", "REAL", 0, 0},
    {"trans_translate", "REAL", 0, 0},
    {"regions_ellipse_diff", "REAL", 0, 0},
    {"regions_ellipse_same", "REAL", 0, 0},
    {"regions_ellipse_random", "REAL", 0, 0},
    {"regions_translate", "REAL", 0, 0},
    /* provenance */
    {"train_s", "REAL", 0, 0},
    {"measure_s", "REAL", 0, 0},
    {"wall_s", "REAL", 0, 0},
    {"host", "TEXT", 0, 0},
    {"version", "TEXT", 0, 0},
    {"blas", "TEXT", 0, 0},
    {"threads", "INTEGER", 0, 0},
    {"finished_at", "TEXT", 0, 0},
};
#define N_RUN_COLS ((int)(sizeof RUN_COLS / sizeof RUN_COLS[0]))

static const char *const TRANS_KINDS[4] = {"ellipse-diff", "ellipse-same", "ellipse-random",
                                           "translate"};

#define POINT_COLS                                                                         \
    "run_id, split, idx, label, pred, correct, loss, jac_softmax, jac_logit, jac_y, pmax, " \
    "entropy, margin"
#define TRAJ_COLS                                                                          \
    "run_id, kind, i, anchors, method, transitions, regions, samples, curvature, seconds, " \
    "profile_jac, profile_trans, length"

static const char SCHEMA_TAIL[] =
    "CREATE INDEX runs_status ON runs(status);\n"
    "CREATE INDEX runs_data ON runs(data);\n"
    "CREATE INDEX runs_config_hash ON runs(config_hash);\n"
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);\n"
    "CREATE TABLE points (\n"
    "  run_id INTEGER NOT NULL, split TEXT NOT NULL, idx INTEGER NOT NULL,\n"
    "  label INTEGER, pred INTEGER, correct INTEGER,\n"
    "  loss REAL, jac_softmax REAL, jac_logit REAL, jac_y REAL,\n"
    "  pmax REAL, entropy REAL, margin REAL,\n"
    "  PRIMARY KEY (run_id, split, idx)) WITHOUT ROWID;\n"
    "CREATE TABLE trajectories (\n"
    "  run_id INTEGER NOT NULL, kind TEXT NOT NULL, i INTEGER NOT NULL,\n"
    "  anchors TEXT, method TEXT, transitions INTEGER, regions INTEGER, samples INTEGER,\n"
    "  curvature REAL, seconds REAL, profile_jac TEXT, profile_trans TEXT, length REAL,\n"
    "  PRIMARY KEY (run_id, kind, i)) WITHOUT ROWID;\n";

struct store {
    sqlite3 *db;
    char *path;
    char *name, *hash, *json;   /* the spec, from meta */
    long total_runs;
    char *run_cols;             /* "run_id, config_hash, ..." */
    int version;                /* schema version: 4, or 3 (opened for reading only) */
    sqlite3_stmt *begin, *commit, *rollback;
    sqlite3_stmt *del_run, *del_points, *del_traj;
    sqlite3_stmt *ins_run, *ins_point, *ins_traj;
    sqlite3_stmt *done_ids, *counts;
    /* claims (store_claims_start) */
    int claiming;
    int *snap;                /* snap[id] (total_runs): run_claims.attempts at the start */
    sqlite3_int64 owner;      /* this handle's claims (unique per handle) */
    long pid;
    long long pid_start;      /* this process's start (clock ticks after boot), -1 unknown */
    char host[256], boot_id[40], file_id[48];
    sqlite3_stmt *cl_status, *cl_get, *cl_put, *cl_end, *cl_drop, *cl_beat, *cl_release;
};

/* ---- helpers ---------------------------------------------------------- */

/* sn_err code for an SQLite result code. */
static int sn_code(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_NOMEM: return SN_ENOMEM;
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT: return SN_EFORMAT;
    case SQLITE_CONSTRAINT:
    case SQLITE_MISMATCH:
    case SQLITE_RANGE:
    case SQLITE_TOOBIG: return SN_EARG;
    default: return SN_EIO;
    }
}

/* What a user can do about a failed write. */
static const char *write_hint(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_FULL: return " (free disk space or use another --db)";
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_CANTOPEN: return " (check the permissions of the file and its directory, or "
                                 "use another --db)";
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return " (another process is writing it: one sweep per database)";
    default: return "";
    }
}

static char *xstrdup(const char *s)
{
    return strdup(s ? s : "");
}

/* Seconds since the epoch (claims' heartbeat). */
static double unix_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void utc_now(char buf[32])
{
    time_t t = time(NULL);
    struct tm tm;
    if (!gmtime_r(&t, &tm) || !strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm))
        strcpy(buf, "1970-01-01T00:00:00Z");
}

/* Run sql (one or more statements without parameters). */
static int exec_sql(store *s, const char *sql, const char *what, sn_err *e)
{
    char *msg = NULL;
    int rc = sqlite3_exec(s->db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        err_set(e, sn_code(rc), "%s %s: %s%s", what, s->path, msg ? msg : sqlite3_errstr(rc),
                write_hint(rc));
        sqlite3_free(msg);
        return e ? e->code : sn_code(rc);
    }
    return SN_OK;
}

/* Step a statement that returns no rows (or whose rows we ignore) and reset it. */
static int step_done(sqlite3_stmt *st)
{
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        ;
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* Sequential binder: binds parameter 1, 2, ... and remembers the first
 * failure so that call sites stay one line each. */
typedef struct binder {
    sqlite3_stmt *st;
    int i, rc;
} binder;

static void b_note(binder *b, int rc)
{
    if (rc != SQLITE_OK && b->rc == SQLITE_OK)
        b->rc = rc;
}
static void b_int(binder *b, sqlite3_int64 v) { b_note(b, sqlite3_bind_int64(b->st, ++b->i, v)); }
static void b_null(binder *b) { b_note(b, sqlite3_bind_null(b->st, ++b->i)); }
static void b_real(binder *b, double v)
{
    if (isfinite(v))
        b_note(b, sqlite3_bind_double(b->st, ++b->i, v));
    else
        b_null(b);
}
static void b_text(binder *b, const char *v)
{
    if (v)
        b_note(b, sqlite3_bind_text(b->st, ++b->i, v, -1, SQLITE_TRANSIENT));
    else
        b_null(b);
}

/* ---- open / close ------------------------------------------------------- */

void store_close(store *s)
{
    if (!s)
        return;
    store_claims_release(s, NULL);
    sqlite3_stmt *sts[] = {s->begin,     s->commit,    s->rollback, s->del_run,  s->del_points,
                           s->del_traj,  s->ins_run,   s->ins_point, s->ins_traj, s->done_ids,
                           s->counts,    s->cl_status, s->cl_get,   s->cl_put,   s->cl_end,
                           s->cl_drop,   s->cl_beat,   s->cl_release};
    for (size_t i = 0; i < sizeof sts / sizeof sts[0]; i++)
        sqlite3_finalize(sts[i]);
    free(s->snap);
    sqlite3_close(s->db);
    free(s->path);
    free(s->name);
    free(s->hash);
    free(s->json);
    free(s->run_cols);
    free(s);
}

/* "a, b, c" of the runs columns. */
static char *run_col_list(void)
{
    size_t n = 1;
    for (int i = 0; i < N_RUN_COLS; i++)
        n += strlen(RUN_COLS[i].name) + 2;
    char *p = malloc(n);
    if (!p)
        return NULL;
    p[0] = '\0';
    for (int i = 0; i < N_RUN_COLS; i++) {
        if (i)
            strcat(p, ", ");
        strcat(p, RUN_COLS[i].name);
    }
    return p;
}

/* CREATE TABLE runs (...) + the rest of the schema, malloc'd. */
static char *schema_sql(void)
{
    size_t n = sizeof SCHEMA_TAIL + 64;
    for (int i = 0; i < N_RUN_COLS; i++)
        n += strlen(RUN_COLS[i].name) + strlen(RUN_COLS[i].type) + 8;
    char *p = malloc(n);
    if (!p)
        return NULL;
    strcpy(p, "CREATE TABLE runs (\n");
    for (int i = 0; i < N_RUN_COLS; i++) {
        strcat(p, "  ");
        strcat(p, RUN_COLS[i].name);
        strcat(p, " ");
        strcat(p, RUN_COLS[i].type);
        strcat(p, i + 1 < N_RUN_COLS ? ",\n" : ");\n");
    }
    strcat(p, SCHEMA_TAIL);
    return p;
}

static int prepare(store *s, const char *sql, sqlite3_stmt **st, sn_err *e)
{
    int rc = sqlite3_prepare_v2(s->db, sql, -1, st, NULL);
    if (rc != SQLITE_OK)
        return err_set(e, sn_code(rc), "%s: %s (is it a sensi results database of schema "
                       "version " SCHEMA_VERSION "?)", s->path, sqlite3_errmsg(s->db));
    return SN_OK;
}

static int prepare_all(store *s, sn_err *e)
{
    int r;
    if ((r = prepare(s, "BEGIN IMMEDIATE", &s->begin, e)) ||
        (r = prepare(s, "COMMIT", &s->commit, e)) ||
        (r = prepare(s, "ROLLBACK", &s->rollback, e)) ||
        (r = prepare(s, "DELETE FROM runs WHERE run_id = ?1", &s->del_run, e)) ||
        (r = prepare(s, "DELETE FROM points WHERE run_id = ?1", &s->del_points, e)) ||
        (r = prepare(s, "DELETE FROM trajectories WHERE run_id = ?1", &s->del_traj, e)) ||
        (r = prepare(s, "INSERT INTO points (" POINT_COLS ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                     &s->ins_point, e)) ||
        (s->version == 4 &&
         (r = prepare(s, "INSERT INTO trajectories (" TRAJ_COLS ") VALUES "
                         "(?,?,?,?,?,?,?,?,?,?,?,?,?)", &s->ins_traj, e))) ||
        (r = prepare(s, "SELECT run_id FROM runs WHERE status != 'failed' AND run_id >= 0 "
                        "AND run_id < ?1", &s->done_ids, e)) ||
        (r = prepare(s, "SELECT status, count(*) - sum(run_id < 0 OR run_id >= ?1), "
                      "sum(run_id < 0 OR run_id >= ?1) FROM runs GROUP BY status", &s->counts, e)))
        return r;
    /* INSERT INTO runs (cols) VALUES (?,?,...) */
    size_t n = strlen(s->run_cols) + 40 + 2 * N_RUN_COLS;
    char *sql = malloc(n);
    if (!sql)
        return err_set(e, SN_ENOMEM, "%s: out of memory", s->path);
    int k = snprintf(sql, n, "INSERT INTO runs (%s) VALUES (", s->run_cols);
    for (int i = 0; i < N_RUN_COLS; i++)
        k += snprintf(sql + k, n - k, i ? ",?" : "?");
    snprintf(sql + k, n - k, ")");
    r = prepare(s, sql, &s->ins_run, e);
    free(sql);
    return r;
}

/* One meta value (malloc'd into *out; NULL if the key is absent). */
static int meta_get(store *s, const char *schema, const char *key, char **out, sn_err *e)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT value FROM %s.meta WHERE key = ?1", schema);
    sqlite3_stmt *st = NULL;
    *out = NULL;
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            const unsigned char *v = sqlite3_column_text(st, 0);
            *out = xstrdup((const char *)v);
            rc = *out ? SQLITE_DONE : SQLITE_NOMEM;
        }
    }
    if (rc != SQLITE_DONE) {
        int code = sn_code(rc);
        err_set(e, code == SN_ENOMEM ? code : SN_EFORMAT, "%s", sqlite3_errmsg(s->db));
        sqlite3_finalize(st);
        return code == SN_ENOMEM ? code : SN_EFORMAT;
    }
    sqlite3_finalize(st);
    return SN_OK;
}

/* Create the schema and meta rows in an empty database (in one transaction,
 * re-checking inside it that no other process got there first). */
static int create_schema(store *s, const store_spec *sp, int *raced, sn_err *e)
{
    int r;
    *raced = 0;
    if ((r = exec_sql(s, "BEGIN IMMEDIATE", "cannot write", e)))
        return r;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db, "SELECT count(*) FROM sqlite_master", -1, &st, NULL);
    int empty = 0;
    if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        empty = sqlite3_column_int(st, 0) == 0;
    sqlite3_finalize(st);
    if (!empty) { /* someone else created it meanwhile: check it as an existing file */
        exec_sql(s, "ROLLBACK", "cannot write", NULL);
        *raced = 1; /* not an error: the caller checks it as an existing file */
        return SN_OK;
    }
    char *sql = schema_sql();
    if (!sql) {
        exec_sql(s, "ROLLBACK", "cannot write", NULL);
        return err_set(e, SN_ENOMEM, "%s: out of memory", s->path);
    }
    r = exec_sql(s, sql, "cannot create the schema of", e);
    free(sql);
    char total[32], now[32];
    snprintf(total, sizeof total, "%ld", sp->total_runs);
    utc_now(now);
    const char *kv[][2] = {{"schema_version", SCHEMA_VERSION}, {"spec_name", sp->name},
                           {"spec_hash", sp->hash},           {"spec_json", sp->json},
                           {"total_runs", total},             {"created_at", now}};
    if (!r) {
        rc = sqlite3_prepare_v2(s->db, "INSERT INTO meta (key, value) VALUES (?1, ?2)", -1, &st,
                                NULL);
        for (size_t i = 0; rc == SQLITE_OK && i < sizeof kv / sizeof kv[0]; i++) {
            rc = sqlite3_bind_text(st, 1, kv[i][0], -1, SQLITE_STATIC);
            if (rc == SQLITE_OK)
                rc = sqlite3_bind_text(st, 2, kv[i][1] ? kv[i][1] : "", -1, SQLITE_STATIC);
            if (rc == SQLITE_OK)
                rc = step_done(st);
        }
        if (rc != SQLITE_OK)
            r = err_set(e, sn_code(rc), "cannot write %s: %s%s", s->path,
                        sqlite3_errmsg(s->db), write_hint(rc));
        sqlite3_finalize(st);
    }
    if (!r)
        r = exec_sql(s, "COMMIT", "cannot write", e);
    if (r && !sqlite3_get_autocommit(s->db))
        exec_sql(s, "ROLLBACK", "cannot write", NULL);
    return r ? r : SN_OK;
}

/* Check an existing database: a sensi results file of our schema version
 * (and of spec sp when sp != NULL); load its spec. */
static int check_existing(store *s, const store_spec *sp, sn_err *e)
{
    char *ver = NULL;
    sn_err why = {0};
    int r = meta_get(s, "main", "schema_version", &ver, &why);
    if (r == SN_ENOMEM)
        return err_set(e, SN_ENOMEM, "%s: out of memory", s->path);
    if (r || !ver)
        return err_set(e, SN_EFORMAT, "%s is not a sensi results database (%s); use another "
                       "--db or a file written by sensi sweep", s->path,
                       r ? why.msg : "no meta.schema_version");
    if (!strcmp(ver, SCHEMA_VERSION_OLD) && sp) {
        /* a sweep appending here would mix trajectories with and without length */
        err_set(e, SN_EFORMAT, "%s has results schema version " SCHEMA_VERSION_OLD " (its "
                "trajectories have no length); this sensi writes version " SCHEMA_VERSION
                " and adds no runs to an older file, whose trajectories would then mix rows "
                "with and without length: sweep into a new --db (analyze, report and runs "
                "still read this one)", s->path);
        free(ver);
        return SN_EFORMAT;
    }
    if (strcmp(ver, SCHEMA_VERSION) && strcmp(ver, SCHEMA_VERSION_OLD)) {
        err_set(e, SN_EFORMAT, "%s has results schema version %s, this sensi reads versions "
                SCHEMA_VERSION_OLD " and " SCHEMA_VERSION "; use the sensi that wrote it or "
                "another --db", s->path, ver);
        free(ver);
        return SN_EFORMAT;
    }
    s->version = strcmp(ver, SCHEMA_VERSION) ? 3 : 4;
    free(ver);
    char *total = NULL;
    if ((r = meta_get(s, "main", "spec_name", &s->name, e)) ||
        (r = meta_get(s, "main", "spec_hash", &s->hash, e)) ||
        (r = meta_get(s, "main", "spec_json", &s->json, e)) ||
        (r = meta_get(s, "main", "total_runs", &total, e))) {
        err_prefix(e, s->path);
        return r;
    }
    if (!s->name || !s->hash || !s->json || !total) {
        free(total);
        return err_set(e, SN_EFORMAT, "%s: the meta table lacks the spec (name, hash, json, "
                       "total_runs); the file is damaged", s->path);
    }
    s->total_runs = strtol(total, NULL, 10);
    free(total);
    if (sp && strcmp(s->hash, sp->hash ? sp->hash : ""))
        return err_set(e, SN_EARG, "%s holds sweep '%s' (spec %s), not '%s' (spec %s); use "
                       "another --db or the matching spec", s->path, s->name, s->hash,
                       sp->name ? sp->name : "", sp->hash ? sp->hash : "");
    return SN_OK;
}

/* Tables in the database (-1 on error, *rc = the SQLite code). */
static long count_tables(sqlite3 *db, int *rc)
{
    sqlite3_stmt *st = NULL;
    long n = -1;
    *rc = sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master", -1, &st, NULL);
    if (*rc == SQLITE_OK && (*rc = sqlite3_step(st)) == SQLITE_ROW)
        n = (long)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

/* "file:PATH?SUFFIX" with PATH percent-encoded where a URI needs it. */
static char *path_uri(const char *path, const char *suffix)
{
    size_t n = strlen(path);
    char *u = malloc(3 * n + 32 + strlen(suffix));
    if (!u)
        return NULL;
    char *p = u + sprintf(u, "file:");
    for (const unsigned char *c = (const unsigned char *)path; *c; c++) {
        if (*c == '%' || *c == '?' || *c == '#' || *c < 0x20 || *c >= 0x7f)
            p += sprintf(p, "%%%02X", *c);
        else
            *p++ = (char)*c;
    }
    strcpy(p, suffix);
    return u;
}

static char *immutable_uri(const char *path) { return path_uri(path, "?immutable=1"); }
static char *ro_uri(const char *path) { return path_uri(path, "?mode=ro"); }

int store_open(const char *path, const store_spec *sp, store **out, sn_err *e)
{
    *out = NULL;
    if (!path || !*path)
        return err_set(e, SN_EARG, "store: empty database path");
    int exists = file_exists(path);
    if (!exists && !sp) {
        struct stat st;
        if (stat(path, &st) == 0)
            return err_set(e, SN_EFORMAT, "%s is not a regular file, not a sensi results "
                           "database", path);
        return err_set(e, SN_ENOTFOUND, "%s: no such file (a results database is written by "
                       "sensi sweep --db)", path);
    }
    store *s = calloc(1, sizeof *s);
    if (!s || !(s->path = strdup(path)) || !(s->run_cols = run_col_list())) {
        store_close(s);
        return err_set(e, SN_ENOMEM, "%s: out of memory", path);
    }
    /* URIs on (store_merge attaches its input read-only by URI); a path that
     * itself starts with "file:" is passed as ./file:... so it stays a path */
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_URI | (sp ? SQLITE_OPEN_CREATE : 0);
    char *dotted = NULL;
    if (!strncmp(path, "file:", 5) && (dotted = malloc(strlen(path) + 3)))
        sprintf(dotted, "./%s", path);
    int rc = sqlite3_open_v2(dotted ? dotted : path, &s->db, flags, NULL);
    free(dotted);
    if (rc != SQLITE_OK) {
        err_set(e, sn_code(rc) == SN_ENOMEM ? SN_ENOMEM : SN_EIO, "cannot %s %s: %s%s",
                exists ? "open" : "create", path, s->db ? sqlite3_errmsg(s->db)
                : sqlite3_errstr(rc), exists ? write_hint(rc) : " (is the directory writable?)");
        store_close(s);
        return e ? e->code : SN_EIO;
    }
    sqlite3_extended_result_codes(s->db, 0);
    sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
    if (sp && sqlite3_db_readonly(s->db, "main") == 1) {
        err_set(e, SN_EIO, "cannot write %s: the file is read-only (check its permissions, "
                "or use another --db)", path);
        store_close(s);
        return SN_EIO;
    }

    /* is it empty (new) or does it hold tables? */
    long ntables = count_tables(s->db, &rc);
    if (ntables < 0 && !sp && (rc == SQLITE_READONLY || rc == SQLITE_CANTOPEN)) {
        /* reading a WAL file whose -shm cannot be created (a read-only
         * directory): no writer is connected then (a writer keeps -wal and
         * -shm), so read the file as immutable */
        char *uri = immutable_uri(path);
        if (!uri) {
            store_close(s);
            return err_set(e, SN_ENOMEM, "%s: out of memory", path);
        }
        sqlite3_close(s->db);
        s->db = NULL;
        rc = sqlite3_open_v2(uri, &s->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL);
        free(uri);
        if (rc == SQLITE_OK)
            ntables = count_tables(s->db, &rc);
    }
    if (ntables < 0) {
        int r;
        if (rc == SQLITE_NOTADB || rc == SQLITE_CORRUPT)
            r = err_set(e, SN_EFORMAT, "%s is not a sensi results database (%s); use another "
                        "--db or a file written by sensi sweep", path,
                        s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
        else
            r = err_set(e, sn_code(rc) == SN_ENOMEM ? SN_ENOMEM : SN_EIO, "cannot %s %s: %s%s",
                        sp ? "write" : "read", path,
                        s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc), write_hint(rc));
        store_close(s);
        return r;
    }
    int r = SN_OK;
    if (!r && sp) {
        /* journal_mode only after we know the file is ours or empty: it
         * writes to the file */
        if (ntables == 0)
            r = exec_sql(s, "PRAGMA journal_mode = WAL", "cannot write", e);
        if (!r)
            r = exec_sql(s, "PRAGMA synchronous = FULL", "cannot write", e);
        if (!r && ntables == 0) {
            int raced;
            r = create_schema(s, sp, &raced, e);
        }
    } else if (!r && ntables == 0) {
        r = err_set(e, SN_EFORMAT, "%s is an empty file, not a sensi results database; use "
                    "another --db or a file written by sensi sweep", path);
    }
    if (!r)
        r = check_existing(s, sp, e);
    if (!r && sp)
        r = exec_sql(s, "PRAGMA journal_mode = WAL", "cannot write", e);
    if (!r)
        r = prepare_all(s, e);
    if (r) {
        store_close(s);
        return r;
    }
    *out = s;
    return SN_OK;
}

void store_get_spec(const store *s, store_spec *sp)
{
    sp->name = s->name;
    sp->hash = s->hash;
    sp->json = s->json;
    sp->total_runs = s->total_runs;
}

struct sqlite3 *store_db(store *s)
{
    return s->db;
}

int store_schema_version(const store *s)
{
    return s ? s->version : 0;
}

/* ---- reading ------------------------------------------------------------ */

int store_done_ids(store *s, unsigned char *done, long n, sn_err *e)
{
    int rc = sqlite3_bind_int64(s->done_ids, 1, n);
    while (rc == SQLITE_OK && (rc = sqlite3_step(s->done_ids)) == SQLITE_ROW) {
        sqlite3_int64 id = sqlite3_column_int64(s->done_ids, 0);
        if (id >= 0 && id < n)
            done[id] = 1;
        rc = SQLITE_OK;
    }
    sqlite3_reset(s->done_ids);
    if (rc != SQLITE_DONE)
        return err_set(e, sn_code(rc), "cannot read %s: %s", s->path, sqlite3_errmsg(s->db));
    return SN_OK;
}

int store_count(store *s, store_counts *c, sn_err *e)
{
    memset(c, 0, sizeof *c);
    int rc = sqlite3_bind_int64(s->counts, 1, s->total_runs);
    while (rc == SQLITE_OK && (rc = sqlite3_step(s->counts)) == SQLITE_ROW) {
        const char *st = (const char *)sqlite3_column_text(s->counts, 0);
        long n = (long)sqlite3_column_int64(s->counts, 1);
        c->outside += (long)sqlite3_column_int64(s->counts, 2);
        rc = SQLITE_OK;
        c->total += n;
        if (!st)
            continue;
        if (!strcmp(st, "fit"))
            c->fit += n;
        else if (!strcmp(st, "not_fit"))
            c->not_fit += n;
        else if (!strcmp(st, "diverged"))
            c->diverged += n;
        else if (!strcmp(st, "failed"))
            c->failed += n;
    }
    sqlite3_reset(s->counts);
    if (rc != SQLITE_DONE)
        return err_set(e, sn_code(rc), "cannot read %s: %s", s->path, sqlite3_errmsg(s->db));
    return SN_OK;
}

/* SELECT * FROM runs [WHERE status = ?] ORDER BY run_id */
static int select_runs(store *s, const char *status, sqlite3_stmt **st, sn_err *e)
{
    const char *sql = status ? "SELECT * FROM runs WHERE status = ?1 ORDER BY run_id"
                             : "SELECT * FROM runs ORDER BY run_id";
    int rc = sqlite3_prepare_v2(s->db, sql, -1, st, NULL);
    if (rc == SQLITE_OK && status)
        rc = sqlite3_bind_text(*st, 1, status, -1, SQLITE_TRANSIENT);
    if (rc != SQLITE_OK) {
        sqlite3_finalize(*st);
        *st = NULL;
        return err_set(e, sn_code(rc), "cannot read %s: %s", s->path, sqlite3_errmsg(s->db));
    }
    return SN_OK;
}

/* Write text as one CSV field (RFC 4180: quoted when it holds a comma, a
 * quote or a line break; quotes doubled). Text from a database is untrusted:
 * a field that a spreadsheet would run as a formula (starting with = + - @,
 * a tab or a carriage return) gets a leading ' (OWASP's CSV-injection rule),
 * which pandas and csv readers keep as part of the text. None of sensi's own
 * text values starts so; numbers are written by the caller, unguarded. */
static void csv_field(FILE *f, const char *t)
{
    if (strchr("=+-@\t\r", t[0]) && t[0]) {
        fputs("\"'", f);
        for (; *t; t++) {
            if (*t == '"')
                fputc('"', f);
            fputc(*t, f);
        }
        fputc('"', f);
        return;
    }
    if (!strpbrk(t, ",\"\r\n")) {
        fputs(t, f);
        return;
    }
    fputc('"', f);
    for (; *t; t++) {
        if (*t == '"')
            fputc('"', f);
        fputc(*t, f);
    }
    fputc('"', f);
}

int store_export_csv(store *s, const char *status, FILE *f, sn_err *e)
{
    sqlite3_stmt *st;
    int r = select_runs(s, status, &st, e);
    if (r)
        return r;
    int nc = sqlite3_column_count(st);
    unsigned char is_seed[256] = {0};
    for (int j = 0; j < nc; j++) {
        if (j)
            fputc(',', f);
        const char *name = sqlite3_column_name(st, j);
        csv_field(f, name ? name : "");
        is_seed[j & 255] = name && !strcmp(name, "seed");
    }
    fputs("\r\n", f);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        for (int j = 0; j < nc; j++) {
            if (j)
                fputc(',', f);
            switch (sqlite3_column_type(st, j)) {
            case SQLITE_NULL: break;
            case SQLITE_INTEGER:
                if (is_seed[j & 255]) /* stored as int64 bits: print the unsigned seed */
                    fprintf(f, "%llu", (unsigned long long)sqlite3_column_int64(st, j));
                else
                    fprintf(f, "%lld", (long long)sqlite3_column_int64(st, j));
                break;
            case SQLITE_FLOAT: fprintf(f, "%.10g", sqlite3_column_double(st, j)); break;
            default: {
                const char *t = (const char *)sqlite3_column_text(st, j);
                csv_field(f, t ? t : "");
            }
            }
        }
        fputs("\r\n", f);
    }
    if (rc != SQLITE_DONE)
        r = err_set(e, sn_code(rc), "cannot read %s: %s", s->path, sqlite3_errmsg(s->db));
    sqlite3_finalize(st);
    if (!r && (fflush(f) != 0 || ferror(f)))
        r = err_set(e, SN_EIO, "%s: writing the CSV failed", s->path);
    return r;
}

/* An integer as a JSON number, exact beyond 2^53 (printed digits); seed:
 * the int64 bits of an unsigned seed, printed unsigned. */
static cJSON *json_int(sqlite3_int64 v, int seed)
{
    if (!seed && v > -(1LL << 53) && v < (1LL << 53))
        return cJSON_CreateNumber((double)v);
    char buf[32];
    if (seed)
        snprintf(buf, sizeof buf, "%llu", (unsigned long long)v);
    else
        snprintf(buf, sizeof buf, "%lld", (long long)v);
    return cJSON_CreateRaw(buf);
}

int store_each_run(store *s, const char *status, int (*fn)(void *ctx, const cJSON *row),
                   void *ctx, sn_err *e)
{
    sqlite3_stmt *st;
    int r = select_runs(s, status, &st, e);
    if (r)
        return r;
    int nc = sqlite3_column_count(st);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        cJSON *o = cJSON_CreateObject();
        int ok = o != NULL;
        for (int j = 0; ok && j < nc; j++) {
            const char *k = sqlite3_column_name(st, j);
            cJSON *v = NULL;
            if (!k) {
                ok = 0;
                break;
            }
            switch (sqlite3_column_type(st, j)) {
            case SQLITE_NULL: v = cJSON_CreateNull(); break;
            case SQLITE_INTEGER: v = json_int(sqlite3_column_int64(st, j), !strcmp(k, "seed")); break;
            case SQLITE_FLOAT: v = cJSON_CreateNumber(sqlite3_column_double(st, j)); break;
            default: {
                const char *t = (const char *)sqlite3_column_text(st, j);
                v = cJSON_CreateString(t ? t : "");
            }
            }
            ok = v && k && cJSON_AddItemToObject(o, k, v);
            if (!ok)
                cJSON_Delete(v);
        }
        if (!ok) {
            cJSON_Delete(o);
            sqlite3_finalize(st);
            return err_set(e, SN_ENOMEM, "%s: out of memory reading runs", s->path);
        }
        r = fn(ctx, o);
        cJSON_Delete(o);
        if (r) {
            sqlite3_finalize(st);
            return r;
        }
    }
    if (rc != SQLITE_DONE)
        r = err_set(e, sn_code(rc), "cannot read %s: %s", s->path, sqlite3_errmsg(s->db));
    sqlite3_finalize(st);
    return r;
}

int store_count_nonnull(store *s, const char *column, long *n, sn_err *e)
{
    *n = 0;
    int known = 0;
    for (int i = 0; i < N_RUN_COLS && !known; i++)
        known = !strcmp(RUN_COLS[i].name, column);
    if (!known)
        return err_set(e, SN_EARG, "store: '%s' is not a column of runs", column);
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT count(%s) FROM runs", column);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        *n = (long)sqlite3_column_int64(st, 0);
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_OK)
        return err_set(e, sn_code(rc), "cannot read %s: %s", s->path, sqlite3_errmsg(s->db));
    return SN_OK;
}

/* ---- writing ------------------------------------------------------------ */

int store_set_max_pages(store *s, long pages, sn_err *e)
{
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA max_page_count = %ld", pages);
    return exec_sql(s, sql, "cannot set max_page_count of", e);
}

/* A JSON array of n numbers (non-finite as null), malloc'd; NULL on
 * allocation failure. */
static char *json_array(const double *v, int n)
{
    size_t cap = 3 + (size_t)n * 26;
    char *p = malloc(cap);
    if (!p)
        return NULL;
    size_t k = 0;
    p[k++] = '[';
    for (int i = 0; i < n; i++) {
        if (i)
            p[k++] = ',';
        if (isfinite(v[i]))
            k += snprintf(p + k, cap - k, "%.17g", v[i]);
        else
            k += snprintf(p + k, cap - k, "null");
    }
    p[k++] = ']';
    p[k] = '\0';
    return p;
}

/* Bind the config columns from the run_config_json object cj. */
static int bind_config(binder *b, const cJSON *cj, sn_err *e)
{
    for (int c = 0; c < N_RUN_COLS; c++) {
        const col *k = &RUN_COLS[c];
        if (!k->key)
            continue;
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(cj, k->key);
        int ok = 1;
        switch (k->kind) {
        case 't':
            ok = cJSON_IsString(v);
            if (ok)
                b_text(b, v->valuestring);
            break;
        case 'b':
            ok = cJSON_IsBool(v) || cJSON_IsNumber(v);
            if (ok)
                b_int(b, cJSON_IsBool(v) ? cJSON_IsTrue(v) : v->valuedouble != 0);
            break;
        case 'i':
            ok = cJSON_IsNumber(v);
            if (ok)
                b_int(b, (sqlite3_int64)v->valuedouble);
            break;
        default:
            ok = cJSON_IsNumber(v);
            if (ok)
                b_real(b, v->valuedouble);
        }
        if (!ok)
            return err_set(e, SN_EARG, "store: the run config lacks '%s' or has the wrong type "
                           "for it", k->key);
    }
    return SN_OK;
}

static void bind_jac(binder *b, const jac_summary *j)
{
    if (j->n <= 0) {
        for (int i = 0; i < 19; i++)
            b_null(b);
        return;
    }
    b_int(b, j->n);
    b_real(b, j->js_mean);
    b_real(b, j->js_median);
    b_real(b, j->js_stderr);
    b_real(b, j->jl_mean);
    b_real(b, j->jl_median);
    b_real(b, j->jl_stderr);
    b_real(b, j->accuracy);
    b_real(b, j->mean_loss);
    b_real(b, j->M);
    b_real(b, j->within_bounds);
    b_real(b, j->auc);
    b_real(b, j->top_decile_err);
    b_real(b, j->pmax_mean);
    b_real(b, j->entropy_mean);
    b_real(b, j->margin_mean);
    b_real(b, j->auc_pmax);
    b_real(b, j->auc_entropy);
    b_real(b, j->auc_margin);
}

/* Bind every runs column in RUN_COLS order. */
static int bind_run(store *s, const char *config_hash, const run_result *r, const char *config_text, const cJSON *cj, sn_err *e)
{
    binder b = {s->ins_run, 0, SQLITE_OK};
    b_int(&b, r->run_id);
    b_text(&b, config_hash);
    b_int(&b, r->replicate);
    b_int(&b, (sqlite3_int64)r->seed);
    b_text(&b, config_text);
    int err = bind_config(&b, cj, e);
    if (err)
        return err;
    b_text(&b, r->status);
    b_text(&b, r->error);
    b_int(&b, r->steps);
    b_int(&b, r->fit_step);
    b_real(&b, r->train_loss);
    b_real(&b, r->train_acc);
    b_real(&b, r->test_loss);
    b_real(&b, r->test_acc);
    b_real(&b, r->gap);
    b_int(&b, r->n_params);
    bind_jac(&b, &r->jac_test);
    bind_jac(&b, &r->jac_train);
    double regions[4];
    for (int k = 0; k < 4; k++)
        b_real(&b, run_result_trans_mean(r, TRANS_KINDS[k], &regions[k]));
    for (int k = 0; k < 4; k++)
        b_real(&b, regions[k]);
    b_real(&b, r->train_s);
    b_real(&b, r->measure_s);
    b_real(&b, r->wall_s);
    b_text(&b, r->host);
    b_text(&b, r->version);
    b_text(&b, r->blas);
    b_int(&b, r->threads);
    char now[32];
    utc_now(now);
    b_text(&b, now);
    if (b.rc != SQLITE_OK)
        return err_set(e, sn_code(b.rc), "%s: run %ld: %s", s->path, r->run_id,
                       sqlite3_errstr(b.rc));
    if (b.i != N_RUN_COLS)
        return err_set(e, SN_EARG, "store: bound %d of the %d runs columns (a bug)", b.i,
                       N_RUN_COLS);
    return SN_OK;
}

static int valid_status(const char *st)
{
    return !strcmp(st, "fit") || !strcmp(st, "not_fit") || !strcmp(st, "diverged") ||
           !strcmp(st, "failed");
}

/* The statements of one insert: reset and unbind all of them. */
static void reset_writes(store *s)
{
    sqlite3_stmt *sts[] = {s->del_run, s->del_points, s->del_traj, s->ins_run,
                           s->ins_point, s->ins_traj, s->cl_end, s->cl_drop};
    for (size_t i = 0; i < sizeof sts / sizeof sts[0]; i++) {
        if (!sts[i])
            continue;
        sqlite3_reset(sts[i]);
        sqlite3_clear_bindings(sts[i]);
    }
}

int store_insert_run(store *s, const run_config *rc, const char *config_hash,
                     const run_result *r, sn_err *e)
{
    if (!valid_status(r->status))
        return err_set(e, SN_EARG, "store: run %ld has status '%s' (expected fit, not_fit, "
                       "diverged or failed)", r->run_id, r->status);
    if (s->version != 4 || !s->ins_traj)
        return err_set(e, SN_EFORMAT, "%s has results schema version %d and is open for "
                       "reading only; runs are written to version " SCHEMA_VERSION " databases",
                       s->path, s->version);
    cJSON *cj = run_config_json(rc);
    char *config_text = cj ? cJSON_PrintUnformatted(cj) : NULL;
    if (!config_text) {
        cJSON_Delete(cj);
        return err_set(e, SN_ENOMEM, "%s: out of memory for run %ld", s->path, r->run_id);
    }
    int err = SN_OK, rc_sql = SQLITE_OK;
    char what[160] = "";
    rc_sql = step_done(s->begin);
    if (rc_sql != SQLITE_OK) {
        snprintf(what, sizeof what, "starting");
        goto fail;
    }
    sqlite3_stmt *dels[3] = {s->del_points, s->del_traj, s->del_run};
    for (int i = 0; i < 3; i++) {
        rc_sql = sqlite3_bind_int64(dels[i], 1, r->run_id);
        if (rc_sql == SQLITE_OK)
            rc_sql = step_done(dels[i]);
        if (rc_sql != SQLITE_OK) {
            snprintf(what, sizeof what, "deleting the earlier row of");
            goto fail;
        }
    }
    if ((err = bind_run(s, config_hash, r, config_text, cj, e)))
        goto fail;
    if ((rc_sql = step_done(s->ins_run)) != SQLITE_OK) {
        snprintf(what, sizeof what, "inserting");
        goto fail;
    }
    for (int i = 0; i < r->n_points; i++) {
        const point_row *p = &r->points[i];
        binder b = {s->ins_point, 0, SQLITE_OK};
        b_int(&b, r->run_id);
        b_text(&b, p->split);
        b_int(&b, p->index);
        b_int(&b, p->label);
        b_int(&b, p->pred);
        b_int(&b, p->pred == p->label);
        b_real(&b, p->loss);
        b_real(&b, p->jac_softmax);
        b_real(&b, p->jac_logit);
        b_real(&b, p->jac_y);
        b_real(&b, p->pmax);
        b_real(&b, p->entropy);
        b_real(&b, p->margin);
        rc_sql = b.rc != SQLITE_OK ? b.rc : step_done(s->ins_point);
        if (rc_sql != SQLITE_OK) {
            snprintf(what, sizeof what, "inserting point %s:%d of", p->split, p->index);
            goto fail;
        }
    }
    for (int i = 0; i < r->n_traj; i++) {
        const traj_row *t = &r->traj[i];
        char *pj = NULL, *pt = NULL;
        if (t->nbins > 0 && (!t->prof_jac || !t->prof_trans)) {
            err = err_set(e, SN_EARG, "store: run %ld trajectory %s %d has nbins %d but no "
                          "profile", r->run_id, t->kind, t->i, t->nbins);
            goto fail;
        }
        if (t->nbins > 0) {
            pj = json_array(t->prof_jac, t->nbins);
            pt = json_array(t->prof_trans, t->nbins);
            if (!pj || !pt) {
                free(pj);
                free(pt);
                err = err_set(e, SN_ENOMEM, "%s: out of memory for run %ld", s->path,
                              r->run_id);
                goto fail;
            }
        }
        binder b = {s->ins_traj, 0, SQLITE_OK};
        b_int(&b, r->run_id);
        b_text(&b, t->kind);
        b_int(&b, t->i);
        b_text(&b, t->anchors);
        b_text(&b, t->method);
        b_int(&b, t->transitions);
        b_int(&b, t->regions);
        b_int(&b, t->samples);
        b_real(&b, t->curvature);
        b_real(&b, t->seconds);
        b_text(&b, pj);
        b_text(&b, pt);
        b_real(&b, t->length);
        free(pj);
        free(pt);
        rc_sql = b.rc != SQLITE_OK ? b.rc : step_done(s->ins_traj);
        if (rc_sql != SQLITE_OK) {
            snprintf(what, sizeof what, "inserting trajectory %s %d of", t->kind, t->i);
            goto fail;
        }
    }
    if (s->claiming) { /* the claim ends with the result: a failed run keeps a mark */
        int failed = !strcmp(r->status, "failed");
        sqlite3_stmt *cl = failed ? s->cl_end : s->cl_drop;
        binder b = {cl, 0, SQLITE_OK};
        b_int(&b, r->run_id);
        b_int(&b, s->owner);
        if (failed)
            b_real(&b, unix_now());
        rc_sql = b.rc != SQLITE_OK ? b.rc : step_done(cl);
        if (rc_sql != SQLITE_OK) {
            snprintf(what, sizeof what, "ending the claim of");
            goto fail;
        }
    }
    if ((rc_sql = step_done(s->commit)) != SQLITE_OK) {
        snprintf(what, sizeof what, "committing");
        goto fail;
    }
    reset_writes(s);
    free(config_text);
    cJSON_Delete(cj);
    return SN_OK;

fail:
    if (!err) { /* an SQLite failure: take its message before the rollback */
        int code = sn_code(rc_sql);
        if (code != SN_EARG && code != SN_ENOMEM)
            code = SN_EIO;
        err = err_set(e, code, "cannot write %s: %s when %s run %ld%s; the "
                      "run is not stored, earlier runs are kept", s->path,
                      sqlite3_errmsg(s->db), what, r->run_id, write_hint(rc_sql));
    }
    reset_writes(s);
    if (!sqlite3_get_autocommit(s->db))
        step_done(s->rollback);
    free(config_text);
    cJSON_Delete(cj);
    return err;
}

/* ---- merge -------------------------------------------------------------- */

int store_merge(store *dst, const char *src_path, long *added, long *skipped, sn_err *e)
{
    *added = 0;
    if (skipped)
        *skipped = 0;
    if (!file_exists(src_path))
        return err_set(e, SN_ENOTFOUND, "%s: no such file (expected a results database "
                       "written by sensi sweep)", src_path);
    char *a = realpath(src_path, NULL), *b = realpath(dst->path, NULL);
    int same = a && b && !strcmp(a, b);
    free(a);
    free(b);
    if (same)
        return err_set(e, SN_EARG, "cannot merge %s into itself", src_path);

    /* the input is only read: attached read-only, and as immutable when its
     * WAL index cannot be written (a read-only folder or mount, another
     * user's files; no writer is connected then) */
    sqlite3_stmt *st = NULL;
    int rc = SQLITE_OK;
    for (int attempt = 0; attempt < 2; attempt++) {
        char *uri = attempt ? immutable_uri(src_path) : ro_uri(src_path);
        if (!uri)
            return err_set(e, SN_ENOMEM, "%s: out of memory", src_path);
        rc = sqlite3_prepare_v2(dst->db, "ATTACH DATABASE ?1 AS sn_src", -1, &st, NULL);
        if (rc == SQLITE_OK)
            rc = sqlite3_bind_text(st, 1, uri, -1, SQLITE_TRANSIENT);
        if (rc == SQLITE_OK)
            rc = step_done(st);
        sqlite3_finalize(st);
        free(uri);
        if (rc == SQLITE_OK) {
            /* reading is what needs the WAL index */
            rc = sqlite3_prepare_v2(dst->db, "SELECT count(*) FROM sn_src.sqlite_master", -1,
                                    &st, NULL);
            if (rc == SQLITE_OK)
                rc = sqlite3_step(st) == SQLITE_ROW ? SQLITE_OK : sqlite3_errcode(dst->db);
            sqlite3_finalize(st);
            if (rc == SQLITE_OK)
                break;
            exec_sql(dst, "DETACH DATABASE sn_src", "detaching", NULL);
        }
        if (rc != SQLITE_READONLY && rc != SQLITE_CANTOPEN)
            break;
    }
    if (rc != SQLITE_OK)
        return err_set(e, rc == SQLITE_NOTADB ? SN_EFORMAT : SN_EIO, "cannot read %s: %s%s",
                       src_path, sqlite3_errmsg(dst->db),
                       rc == SQLITE_NOTADB ? " (not a sensi results database)" : "");

    int r = SN_OK;
    char *ver = NULL, *hash = NULL, *name = NULL;
    sn_err why = {0};
    int mr = meta_get(dst, "sn_src", "schema_version", &ver, &why);
    if (mr == SN_ENOMEM) {
        r = err_set(e, SN_ENOMEM, "%s: out of memory", src_path);
    } else if (mr || !ver) {
        r = err_set(e, SN_EFORMAT, "%s is not a sensi results database (%s)", src_path,
                    mr ? why.msg : "no meta.schema_version");
    } else if (!strcmp(ver, SCHEMA_VERSION_OLD)) {
        r = err_set(e, SN_EFORMAT, "%s has results schema version " SCHEMA_VERSION_OLD " (its "
                    "trajectories have no length), %s has " SCHEMA_VERSION ": merging would mix "
                    "trajectories with and without length; analyze it as it is, or rerun its "
                    "sweep with this sensi", src_path, dst->path);
    } else if (strcmp(ver, SCHEMA_VERSION)) {
        r = err_set(e, SN_EFORMAT, "%s has results schema version %s, %s has " SCHEMA_VERSION,
                    src_path, ver, dst->path);
    } else if ((r = meta_get(dst, "sn_src", "spec_hash", &hash, e)) ||
               (r = meta_get(dst, "sn_src", "spec_name", &name, e))) {
        err_prefix(e, src_path);
    } else if (!hash || strcmp(hash, dst->hash)) {
        r = err_set(e, SN_EARG, "%s holds sweep '%s' (spec %s), %s holds '%s' (spec %s): "
                    "only shards of one spec can be merged", src_path, name ? name : "?",
                    hash ? hash : "?", dst->path, dst->name, dst->hash);
    }
    free(ver);
    free(hash);
    free(name);

    /* a damaged file (an index that disagrees with its table, bad pages)
     * reads differently by each path through it, so what a merge copies
     * and what it counts would disagree: refuse it whole (found by
     * fuzz_store: 5 runs reported, 4 stored) */
    if (!r) {
        sqlite3_stmt *ck = NULL;
        int crc = sqlite3_prepare_v2(dst->db, "PRAGMA sn_src.integrity_check(1)", -1, &ck, NULL);
        const char *res = NULL;
        if (crc == SQLITE_OK && (crc = sqlite3_step(ck)) == SQLITE_ROW)
            res = (const char *)sqlite3_column_text(ck, 0);
        if (!res || strcmp(res, "ok")) {
            char what[201]; /* its first line or two, on one line */
            snprintf(what, sizeof what, "%s", res ? res : sqlite3_errmsg(dst->db));
            for (char *q = what; *q; q++)
                if (*q == '\n')
                    *q = ' ';
            r = err_set(e, SN_EFORMAT, "%s is damaged (SQLite's integrity check: %s); nothing "
                        "was merged from it", src_path, what);
        }
        sqlite3_finalize(ck);
    }

    if (!r) {
        size_t n = 4 * strlen(dst->run_cols) + 2048;
        char *sql = malloc(n);
        if (!sql) {
            r = err_set(e, SN_ENOMEM, "%s: out of memory", dst->path);
        } else {
            snprintf(sql, n,
                "BEGIN IMMEDIATE;\n"
                "CREATE TEMP TABLE IF NOT EXISTS sn_merge_ids (run_id INTEGER PRIMARY KEY);\n"
                "DELETE FROM temp.sn_merge_ids;\n"
                "INSERT INTO temp.sn_merge_ids SELECT s.run_id FROM sn_src.runs s\n"
                "  LEFT JOIN main.runs d ON d.run_id = s.run_id\n"
                "  WHERE (d.run_id IS NULL OR (d.status = 'failed' AND s.status != 'failed'))\n"
                "  AND s.run_id >= 0 AND s.run_id < %ld;\n"
                "DELETE FROM main.points WHERE run_id IN (SELECT run_id FROM temp.sn_merge_ids);\n"
                "DELETE FROM main.trajectories WHERE run_id IN "
                "(SELECT run_id FROM temp.sn_merge_ids);\n"
                "DELETE FROM main.runs WHERE run_id IN (SELECT run_id FROM temp.sn_merge_ids);\n"
                "INSERT INTO main.runs (%s) SELECT %s FROM sn_src.runs\n"
                "  WHERE run_id IN (SELECT run_id FROM temp.sn_merge_ids);\n"
                "INSERT INTO main.points (" POINT_COLS ") SELECT " POINT_COLS
                " FROM sn_src.points\n"
                "  WHERE run_id IN (SELECT run_id FROM temp.sn_merge_ids);\n"
                "INSERT INTO main.trajectories (" TRAJ_COLS ") SELECT " TRAJ_COLS
                " FROM sn_src.trajectories\n"
                "  WHERE run_id IN (SELECT run_id FROM temp.sn_merge_ids);\n",
                dst->total_runs, dst->run_cols, dst->run_cols);
            char what[PATH_MAX + 64];
            snprintf(what, sizeof what, "merging %s: cannot write", src_path);
            r = exec_sql(dst, sql, what, e);
            free(sql);
            if (!r) {
                /* runs copied = rows of the id table */
                rc = sqlite3_prepare_v2(dst->db, "SELECT count(*) FROM temp.sn_merge_ids", -1,
                                        &st, NULL);
                if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
                    *added = (long)sqlite3_column_int64(st, 0);
                    rc = SQLITE_OK;
                }
                sqlite3_finalize(st);
                /* ids the spec does not have: not copied, counted */
                if (rc == SQLITE_OK)
                    rc = sqlite3_prepare_v2(dst->db, "SELECT count(*) FROM sn_src.runs WHERE "
                                            "run_id < 0 OR run_id >= ?1", -1, &st, NULL);
                if (rc == SQLITE_OK) {
                    sqlite3_bind_int64(st, 1, dst->total_runs);
                    if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                        if (skipped)
                            *skipped = (long)sqlite3_column_int64(st, 0);
                        rc = SQLITE_OK;
                    }
                    sqlite3_finalize(st);
                }
                if (rc != SQLITE_OK)
                    r = err_set(e, sn_code(rc), "merging %s into %s: %s", src_path, dst->path,
                                sqlite3_errmsg(dst->db));
            }
            if (!r)
                r = exec_sql(dst, "COMMIT", what, e);
            if (r) {
                *added = 0;
                if (!sqlite3_get_autocommit(dst->db))
                    exec_sql(dst, "ROLLBACK", what, NULL);
            }
            exec_sql(dst, "DROP TABLE IF EXISTS temp.sn_merge_ids", what, NULL);
        }
    }
    exec_sql(dst, "DETACH DATABASE sn_src", "detaching", NULL);
    return r;
}

/* ---- claims ------------------------------------------------------------- */

static const char CLAIMS_SQL[] =
    "CREATE TABLE IF NOT EXISTS run_claims (\n"
    "  run_id INTEGER PRIMARY KEY,\n"
    "  state TEXT NOT NULL CHECK (state IN ('running', 'ended')),\n"
    "  attempts INTEGER NOT NULL, owner INTEGER NOT NULL,\n"
    "  host TEXT NOT NULL, pid INTEGER NOT NULL, pid_start INTEGER, boot_id TEXT,\n"
    "  file TEXT, claimed_at TEXT NOT NULL, seen_at REAL NOT NULL)";

#define CLAIM_COLS                                                                         \
    "state, attempts, owner, host, pid, pid_start, boot_id, file, claimed_at, seen_at"

/* When process pid started (field 22 of /proc/PID/stat: clock ticks after
 * boot); -1 when unknown (no /proc, another user's hidden process). */
static long long proc_start(long pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *q = strrchr(buf, ')'); /* the command name may hold spaces and parentheses */
    if (!q)
        return -1;
    q++;
    for (int field = 3; field < 22; field++) { /* skip fields 3..21 */
        while (*q == ' ')
            q++;
        q = strchr(q, ' ');
        if (!q)
            return -1;
    }
    char *end;
    long long v = strtoll(q, &end, 10);
    return end == q || v < 0 ? -1 : v;
}

/* This process's identity for its claims. */
static void claim_identity(store *s)
{
    if (s->pid)
        return;
    struct stat fst;
    if (stat(s->path, &fst) == 0)
        snprintf(s->file_id, sizeof s->file_id, "%llu:%llu", (unsigned long long)fst.st_dev,
                 (unsigned long long)fst.st_ino);
    s->pid = (long)getpid();
    s->pid_start = proc_start(s->pid);
    if (gethostname(s->host, sizeof s->host) != 0 || !s->host[0])
        strcpy(s->host, "?");
    s->host[sizeof s->host - 1] = '\0';
    FILE *f = fopen("/proc/sys/kernel/random/boot_id", "r");
    if (f) {
        if (!fgets(s->boot_id, sizeof s->boot_id, f))
            s->boot_id[0] = '\0';
        fclose(f);
        s->boot_id[strcspn(s->boot_id, "\n")] = '\0';
    }
    /* owner: unique among the handles of all processes (pid, start, address) */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t x = ((uint64_t)s->pid << 40) ^ (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^
                 (uint64_t)(uintptr_t)s;
    x ^= x >> 33, x *= 0xff51afd7ed558ccdULL, x ^= x >> 33;
    s->owner = (sqlite3_int64)(x >> 1);
}

/* The columns CLAIM_COLS of a claims row, from column 0 of st. */
typedef struct claim_row {
    int running;
    long attempts;
    sqlite3_int64 owner;
    store_holder h;
    long long pid_start;   /* -1 unknown */
    char boot_id[40], file_id[48];
    double seen_at;
} claim_row;

static void read_claim(sqlite3_stmt *st, claim_row *c)
{
    const char *t;
    memset(c, 0, sizeof *c);
    t = (const char *)sqlite3_column_text(st, 0);
    c->running = t && !strcmp(t, "running");
    c->attempts = (long)sqlite3_column_int64(st, 1);
    c->owner = sqlite3_column_int64(st, 2);
    t = (const char *)sqlite3_column_text(st, 3);
    snprintf(c->h.host, sizeof c->h.host, "%s", t ? t : "");
    c->h.pid = (long)sqlite3_column_int64(st, 4);
    c->pid_start = sqlite3_column_type(st, 5) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 5);
    t = (const char *)sqlite3_column_text(st, 6);
    snprintf(c->boot_id, sizeof c->boot_id, "%s", t ? t : "");
    t = (const char *)sqlite3_column_text(st, 7);
    snprintf(c->file_id, sizeof c->file_id, "%s", t ? t : "");
    t = (const char *)sqlite3_column_text(st, 8);
    snprintf(c->h.since, sizeof c->h.since, "%s", t ? t : "");
    c->seen_at = sqlite3_column_double(st, 9);
}

/* Is the process holding running claim c still there? This host: its pid
 * exists and is the same process (start time), since the same boot, and it
 * claimed in this file (not in the file this one was copied from). Another
 * host: it refreshed the claim within STORE_CLAIM_STALE_S seconds. */
static int claim_alive(store *s, const claim_row *c)
{
    if (strcmp(c->h.host, s->host))
        return unix_now() - c->seen_at < STORE_CLAIM_STALE_S;
    if (c->boot_id[0] && s->boot_id[0] && strcmp(c->boot_id, s->boot_id))
        return 0; /* claimed before this machine rebooted */
    if (c->file_id[0] && s->file_id[0] && strcmp(c->file_id, s->file_id))
        return 0; /* claimed in another file: this one is a copy */
    if (c->h.pid == s->pid)
        return 1; /* this process (another handle) */
    if (c->h.pid <= 0 || c->h.pid > INT_MAX)
        return 0;
    if (kill((pid_t)c->h.pid, 0) != 0 && errno == ESRCH)
        return 0;
    long long st = proc_start(c->h.pid);
    if (c->pid_start >= 0 && st >= 0 && st != c->pid_start)
        return 0; /* the pid now belongs to another process */
    return 1;
}

int store_claims_start(store *s, sn_err *e)
{
    if (s->claiming)
        return SN_OK;
    claim_identity(s);
    int r = exec_sql(s, CLAIMS_SQL, "cannot create the run_claims table of", e);
    if (r)
        return r;
    if ((r = prepare(s, "SELECT status FROM runs WHERE run_id = ?1", &s->cl_status, e)) ||
        (r = prepare(s, "SELECT " CLAIM_COLS " FROM run_claims WHERE run_id = ?1", &s->cl_get, e)) ||
        (r = prepare(s, "INSERT OR REPLACE INTO run_claims (run_id, " CLAIM_COLS ") VALUES "
                        "(?1, 'running', ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)", &s->cl_put, e)) ||
        (r = prepare(s, "UPDATE run_claims SET state = 'ended', seen_at = ?3 WHERE run_id = ?1 "
                        "AND owner = ?2", &s->cl_end, e)) ||
        (r = prepare(s, "DELETE FROM run_claims WHERE run_id = ?1 AND owner = ?2", &s->cl_drop, e)) ||
        (r = prepare(s, "UPDATE run_claims SET seen_at = ?2 WHERE owner = ?1 AND state = 'running'",
                     &s->cl_beat, e)) ||
        (r = prepare(s, "DELETE FROM run_claims WHERE owner = ?1 AND state = 'running'",
                     &s->cl_release, e)))
        return r;
    long n = s->total_runs > 0 ? s->total_runs : 1;
    s->snap = calloc((size_t)n, sizeof *s->snap);
    if (!s->snap)
        return err_set(e, SN_ENOMEM, "%s: out of memory for the claims of %ld runs", s->path, n);
    sqlite3_stmt *st = NULL;
    /* an attempt in flight now counts as one after this start: when it ends
     * failed, the run is not retried here */
    int rc = sqlite3_prepare_v2(s->db, "SELECT run_id, attempts - (state = 'running') FROM "
                                "run_claims", -1, &st, NULL);
    while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        sqlite3_int64 id = sqlite3_column_int64(st, 0);
        if (id >= 0 && id < s->total_runs)
            s->snap[id] = (int)sqlite3_column_int64(st, 1);
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return err_set(e, sn_code(rc), "cannot read the claims of %s: %s", s->path,
                       sqlite3_errmsg(s->db));
    s->claiming = 1;
    return SN_OK;
}

int store_claim(store *s, long id, int *outcome, store_holder *h, sn_err *e)
{
    *outcome = STORE_DONE;
    if (!s->claiming)
        return err_set(e, SN_EARG, "store: store_claim before store_claims_start (a bug)");
    if (id < 0 || id >= s->total_runs)
        return err_set(e, SN_EARG, "store: run %ld is not in the spec (0..%ld)", id,
                       s->total_runs - 1);
    const char *what = "starting the claim of";
    int rc = step_done(s->begin), write = 0;
    claim_row c;
    int have_claim = 0, row = 0, failed_row = 0;
    if (rc != SQLITE_OK)
        goto fail;
    what = "reading";
    rc = sqlite3_bind_int64(s->cl_status, 1, id);
    if (rc == SQLITE_OK && (rc = sqlite3_step(s->cl_status)) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(s->cl_status, 0);
        row = 1;
        failed_row = t && !strcmp(t, "failed");
        rc = SQLITE_DONE;
    }
    sqlite3_reset(s->cl_status);
    if (rc != SQLITE_DONE)
        goto fail;
    rc = sqlite3_bind_int64(s->cl_get, 1, id);
    if (rc == SQLITE_OK && (rc = sqlite3_step(s->cl_get)) == SQLITE_ROW) {
        read_claim(s->cl_get, &c);
        have_claim = 1;
        rc = SQLITE_DONE;
    }
    sqlite3_reset(s->cl_get);
    if (rc != SQLITE_DONE)
        goto fail;

    long attempts = have_claim ? c.attempts : 0;
    if (row && !failed_row) {
        *outcome = STORE_DONE;                  /* a result is stored */
    } else if (have_claim && c.running && c.owner == s->owner) {
        *outcome = STORE_CLAIMED;               /* ours already */
    } else if (have_claim && c.running && claim_alive(s, &c)) {
        *outcome = STORE_HELD;
    } else if (have_claim && c.running) {
        *outcome = STORE_TAKEN_OVER, write = 1; /* its process is gone */
    } else if (have_claim && failed_row && c.attempts != s->snap[id]) {
        *outcome = STORE_DONE;                  /* another sweep retried it meanwhile */
    } else {
        *outcome = STORE_CLAIMED, write = 1;
    }
    if (h && have_claim && (*outcome == STORE_HELD || *outcome == STORE_TAKEN_OVER))
        *h = c.h;
    if (write) {
        what = "writing the claim of";
        char now[32];
        utc_now(now);
        binder b = {s->cl_put, 0, SQLITE_OK};
        b_int(&b, id);
        b_int(&b, attempts + 1);
        b_int(&b, s->owner);
        b_text(&b, s->host);
        b_int(&b, s->pid);
        if (s->pid_start >= 0)
            b_int(&b, s->pid_start);
        else
            b_null(&b);
        b_text(&b, s->boot_id[0] ? s->boot_id : NULL);
        b_text(&b, s->file_id[0] ? s->file_id : NULL);
        b_text(&b, now);
        b_real(&b, unix_now());
        rc = b.rc != SQLITE_OK ? b.rc : step_done(s->cl_put);
        sqlite3_clear_bindings(s->cl_put);
        if (rc != SQLITE_OK)
            goto fail;
        s->snap[id] = (int)(attempts + 1);
    }
    what = "committing the claim of";
    if ((rc = step_done(s->commit)) != SQLITE_OK)
        goto fail;
    return SN_OK;

fail:;
    int code = sn_code(rc);
    err_set(e, code == SN_ENOMEM ? code : SN_EIO, "cannot write %s: %s when %s run %ld%s",
            s->path, sqlite3_errmsg(s->db), what, id, write_hint(rc));
    if (!sqlite3_get_autocommit(s->db))
        step_done(s->rollback);
    *outcome = STORE_DONE;
    return code == SN_ENOMEM ? code : SN_EIO;
}

/* Step an owner-bound statement (beat or release) of this handle. */
static int claims_own(store *s, sqlite3_stmt *st, const char *what, sn_err *e)
{
    if (!s->claiming)
        return SN_OK;
    binder b = {st, 0, SQLITE_OK};
    b_int(&b, s->owner);
    if (st == s->cl_beat)
        b_real(&b, unix_now());
    int rc = b.rc != SQLITE_OK ? b.rc : step_done(st);
    sqlite3_clear_bindings(st);
    if (rc != SQLITE_OK)
        return err_set(e, SN_EIO, "cannot write %s: %s when %s%s", s->path,
                       sqlite3_errmsg(s->db), what, write_hint(rc));
    return SN_OK;
}

int store_claims_beat(store *s, sn_err *e)
{
    return claims_own(s, s->cl_beat, "refreshing this sweep's claims", e);
}

int store_claims_release(store *s, sn_err *e)
{
    return claims_own(s, s->cl_release, "releasing this sweep's claims", e);
}

int store_claims_live(store *s, long *n, store_holder *h, sn_err *e)
{
    *n = 0;
    claim_identity(s);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db, "SELECT count(*) FROM sqlite_master WHERE type = "
                                "'table' AND name = 'run_claims'", -1, &st, NULL);
    int have = 0;
    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        have = sqlite3_column_int(st, 0) > 0;
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    st = NULL;
    if (rc == SQLITE_OK && have)
        rc = sqlite3_prepare_v2(s->db, "SELECT " CLAIM_COLS " FROM run_claims WHERE state = "
                                "'running' ORDER BY run_id", -1, &st, NULL);
    while (rc == SQLITE_OK && have && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        claim_row c;
        read_claim(st, &c);
        if (c.owner == s->owner || claim_alive(s, &c)) {
            if (h && *n == 0)
                *h = c.h;
            (*n)++;
        }
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_OK && rc != SQLITE_DONE)
        return err_set(e, sn_code(rc), "cannot read the claims of %s: %s", s->path,
                       sqlite3_errmsg(s->db));
    return SN_OK;
}
