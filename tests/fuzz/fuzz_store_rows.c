/* fuzz_store_rows.c: structure-aware libFuzzer target for the
 * results-database reader: the input is a list of edits applied with SQL to
 * a copy of a valid database, which is then read as `sensi analyze`,
 * `sensi runs` and `sensi merge` read it (fuzz_store_read.h).
 *
 * Why: raw byte mutations of a SQLite file (fuzz_store.c) mostly stop at
 * SQLite's own "not a database"; the values in the rows are what a hostile
 * or damaged database controls once it opens, and what sensi's readers
 * (store.c, analysis.c) have to survive.
 *
 * The base database is SENSI_FUZZ_DB (run.sh sets it; default
 * tests/fuzz/corpus/fuzz_store/fit8-p512.db, a real 8-run sweep with points
 * and trajectories), read once. The input is consumed as edits, up to 64,
 * each starting with an op byte (op % 4):
 *   0  set one value:   table, row, column, value
 *   1  delete one row:  table, row
 *   2  copy one row:    table, row, new run_id (a value), as a hostile shard
 *      or a hand-edited file could hold
 *   3  set one column of every row: table, column, value
 * table = byte % 4 (meta, runs, points, trajectories), row and column a
 * byte modulo the table's rows and columns in the base. A value starts with
 * a kind byte (% 6): NULL; a special integer (0, -1, INT32/INT64 limits,
 * 2^53 + 1, ...) or 8 raw bytes; a special real (NaN, +-inf, -0, the
 * extremes) or 8 raw bytes; a word of the vocabulary (every text value of
 * the base database plus hostile strings: empty, 300 and 5000 characters,
 * quotes, backquotes, format specifiers, invalid UTF-8, numbers as text);
 * raw text and a blob of length byte + bytes. Edits SQLite refuses
 * (constraints) are skipped. */
#include <limits.h>

#include "fuzz_store_read.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NT 4
static const char *const tables[NT] = {"meta", "runs", "points", "trajectories"};
static int ncols[NT];
static char *cols[NT][128];
static long nrows[NT];
static int runid_col[NT];       /* index of run_id, -1 if none */
static char *copy_sql[NT];      /* INSERT INTO t (cols) SELECT cols with run_id -> ?1 */
static char rowsel[NT][512];    /* WHERE clause picking the row at offset ?2 (by primary key:
                                   points and trajectories are WITHOUT ROWID tables) */
static unsigned char *base;     /* the base database file */
static size_t base_len;
static char *vocab[1024];
static int nvocab;

static void add_word(const char *w)
{
    if (nvocab >= 1024)
        return;
    for (int i = 0; i < nvocab; i++)
        if (!strcmp(vocab[i], w))
            return;
    vocab[nvocab] = strdup(w);
    FUZZ_CHECK(vocab[nvocab], "strdup");
    nvocab++;
}

static void die_sql(sqlite3 *db, const char *what)
{
    fprintf(stderr, "fuzz_store_rows: %s: %s\n", what, sqlite3_errmsg(db));
    abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    const char *path = getenv("SENSI_FUZZ_DB");
    if (!path)
        path = "tests/fuzz/corpus/fuzz_store/fit8-p512.db";
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "fuzz_store_rows: cannot open the base database %s (set SENSI_FUZZ_DB)\n",
                path);
        exit(1);
    }
    fseek(f, 0, SEEK_END);
    base_len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    base = malloc(base_len);
    FUZZ_CHECK(base && fread(base, 1, base_len, f) == base_len, "read the base database");
    fclose(f);

    char tmp[512];
    fuzz_path(tmp, "base.db");
    fuzz_write(tmp, base, base_len);
    sqlite3 *db;
    if (sqlite3_open_v2(tmp, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        die_sql(db, "open base");
    for (int t = 0; t < NT; t++) {
        char sql[256];
        sqlite3_stmt *st;
        snprintf(sql, sizeof sql, "SELECT name, pk FROM pragma_table_info('%s')", tables[t]);
        if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
            die_sql(db, sql);
        runid_col[t] = -1;
        char *pk[8] = {0};
        while (sqlite3_step(st) == SQLITE_ROW && ncols[t] < 128) {
            const char *c = (const char *)sqlite3_column_text(st, 0);
            int k = sqlite3_column_int(st, 1);
            if (!strcmp(c, "run_id"))
                runid_col[t] = ncols[t];
            cols[t][ncols[t]] = strdup(c);
            FUZZ_CHECK(cols[t][ncols[t]], "strdup");
            if (k >= 1 && k <= 8)
                pk[k - 1] = cols[t][ncols[t]];
            ncols[t]++;
        }
        sqlite3_finalize(st);
        FUZZ_CHECK(ncols[t] > 0, "base table has columns");
        char key[256] = "";
        for (int k = 0, off = 0; k < 8 && pk[k]; k++)
            off += snprintf(key + off, sizeof key - off, "%s\"%s\"", k ? "," : "", pk[k]);
        if (!key[0])
            snprintf(key, sizeof key, "rowid");
        snprintf(rowsel[t], sizeof rowsel[t],
                 "WHERE (%s) = (SELECT %s FROM %s ORDER BY %s LIMIT 1 OFFSET ?2)", key, key,
                 tables[t], key);
        snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", tables[t]);
        if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW)
            die_sql(db, sql);
        nrows[t] = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        /* every text value of the table goes into the vocabulary */
        for (int c = 0; c < ncols[t]; c++) {
            snprintf(sql, sizeof sql, "SELECT DISTINCT \"%s\" FROM %s WHERE typeof(\"%s\") = 'text'",
                     cols[t][c], tables[t], cols[t][c]);
            if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
                die_sql(db, sql);
            while (sqlite3_step(st) == SQLITE_ROW)
                add_word((const char *)sqlite3_column_text(st, 0));
            sqlite3_finalize(st);
        }
        /* the copy statement: all columns, run_id replaced by ?1 */
        size_t n = 64;
        for (int c = 0; c < ncols[t]; c++)
            n += 2 * strlen(cols[t][c]) + 8;
        copy_sql[t] = malloc(2 * n + 1024);
        FUZZ_CHECK(copy_sql[t], "malloc");
        char *p = copy_sql[t];
        p += sprintf(p, "INSERT INTO %s (", tables[t]);
        for (int c = 0; c < ncols[t]; c++)
            p += sprintf(p, "%s\"%s\"", c ? "," : "", cols[t][c]);
        p += sprintf(p, ") SELECT ");
        for (int c = 0; c < ncols[t]; c++)
            p += c == runid_col[t] ? sprintf(p, "%s?1", c ? "," : "")
                                   : sprintf(p, "%s\"%s\"", c ? "," : "", cols[t][c]);
        sprintf(p, " FROM %s %s", tables[t], rowsel[t]);
    }
    sqlite3_close(db);
    unlink(tmp);
    static const char *const hostile[] = {
        "", "nan", "NaN", "inf", "-inf", "1e999", "-0", "0x10", "1.5", "-1", "9223372036854775808",
        "null", "\"", "'", "\\", "`touch PWNED`", "$(touch PWNED)", "%s%s%n%x", "\x1b[31m",
        "\xff\xfe\xc3", "a\nb", "{", "[]", "{\"name\":1}", "default", "3", "2",
        "fit", "not_fit", "diverged", "failed", "relu", "tanh", "hardsigmoid", "sgd", "adam",
        "fashion-mnist", "mnist", "cifar10", "cifar100", "ellipse-diff", "translate",
        "gain-matched", "unit", "standardize", "train", "test"};
    for (size_t i = 0; i < sizeof hostile / sizeof *hostile; i++)
        add_word(hostile[i]);
    char longw[5001];
    memset(longw, 'a', 300);
    longw[300] = 0;
    add_word(longw);
    memset(longw, 'x', 5000);
    longw[5000] = 0;
    add_word(longw);
    return 0;
}

/* A cursor over the input. */
typedef struct {
    const uint8_t *p;
    size_t n;
} cur;

static unsigned byte(cur *c)
{
    if (!c->n)
        return 0;
    c->n--;
    return *c->p++;
}

static void bytes(cur *c, void *out, size_t k)
{
    unsigned char *o = out;
    for (size_t i = 0; i < k; i++)
        o[i] = (unsigned char)byte(c);
}

/* Bind the next value of the input to parameter i. */
static void bind_value(sqlite3_stmt *st, int i, cur *c)
{
    static const long long ints[] = {0, 1, -1, 2, INT_MAX, INT_MIN, (long long)INT_MAX + 1,
                                     LLONG_MAX, LLONG_MIN, 9007199254740993LL, 1000000000LL, 7};
    static const double reals[] = {0.0, -0.0, 1.0, -1.0, 0.5, 1e308, -1e308, 5e-324, 1e-300};
    unsigned k = byte(c) % 6;
    switch (k) {
    case 0: sqlite3_bind_null(st, i); break;
    case 1: {
        unsigned b = byte(c);
        long long v;
        if (b < 128)
            v = ints[b % (sizeof ints / sizeof *ints)];
        else
            bytes(c, &v, sizeof v);
        sqlite3_bind_int64(st, i, v);
        break;
    }
    case 2: {
        unsigned b = byte(c);
        double v;
        if (b < 64)
            v = reals[b % (sizeof reals / sizeof *reals)];
        else if (b < 96)
            v = b & 1 ? INFINITY : -INFINITY;
        else if (b < 128)
            v = NAN; /* SQLite stores NaN as NULL */
        else
            bytes(c, &v, sizeof v);
        sqlite3_bind_double(st, i, v);
        break;
    }
    case 3: {
        unsigned w = byte(c) | byte(c) << 8;
        sqlite3_bind_text(st, i, vocab[w % nvocab], -1, SQLITE_STATIC);
        break;
    }
    default: {
        unsigned len = byte(c);
        if (len > c->n)
            len = (unsigned)c->n;
        if (k == 4)
            sqlite3_bind_text(st, i, (const char *)c->p, (int)len, SQLITE_TRANSIENT);
        else
            sqlite3_bind_blob(st, i, c->p, (int)len, SQLITE_TRANSIENT);
        c->p += len, c->n -= len;
    }
    }
}

static void run_edit(sqlite3 *db, const char *sql, cur *c, int with_value, long off, int value_first)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        die_sql(db, sql);
    if (with_value && value_first)
        bind_value(st, 1, c);
    if (off >= 0)
        sqlite3_bind_int64(st, 2, off);
    sqlite3_step(st); /* refused edits (constraints) are skipped */
    sqlite3_finalize(st);
}

static void apply_edits(const char *path, const uint8_t *data, size_t size)
{
    sqlite3 *db;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
        die_sql(db, "open copy");
    sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
    cur c = {data, size};
    char sql[1024];
    for (int k = 0; k < 64 && c.n; k++) {
        unsigned op = byte(&c) % 4, t = byte(&c) % NT;
        long row = nrows[t] ? (long)(byte(&c) % nrows[t]) : 0;
        switch (op) {
        case 0: {
            int col = (int)(byte(&c) % ncols[t]);
            snprintf(sql, sizeof sql, "UPDATE %s SET \"%s\" = ?1 %s", tables[t], cols[t][col],
                     rowsel[t]);
            run_edit(db, sql, &c, 1, row, 1);
            break;
        }
        case 1:
            snprintf(sql, sizeof sql, "DELETE FROM %s %s", tables[t], rowsel[t]);
            run_edit(db, sql, &c, 0, row, 0);
            break;
        case 2:
            run_edit(db, copy_sql[t], &c, runid_col[t] >= 0, row, 1);
            break;
        default: {
            int col = (int)(byte(&c) % ncols[t]);
            snprintf(sql, sizeof sql, "UPDATE %s SET \"%s\" = ?1", tables[t], cols[t][col]);
            run_edit(db, sql, &c, 1, -1, 1);
        }
        }
    }
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        die_sql(db, "commit");
    sqlite3_close(db);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char in[512];
    fuzz_path(in, "input.db");
    fuzz_write(in, base, base_len);
    apply_edits(in, data, size);
    /* the edited file's bytes, for the "a refused file is unchanged" check */
    FILE *f = fopen(in, "rb");
    FUZZ_CHECK(f, "reopen the edited copy");
    fseek(f, 0, SEEK_END);
    size_t n = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *now = malloc(n ? n : 1);
    FUZZ_CHECK(now && fread(now, 1, n, f) == n, "read the edited copy");
    fclose(f);
    fuzz_read_db(in, now, n);
    free(now);
    fuzz_clean_db(in);
    return 0;
}
