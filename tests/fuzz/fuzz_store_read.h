/* fuzz_store_read.h: what the database targets do with a database file
 * (shared by fuzz_store.c, raw bytes, and fuzz_store_rows.c, edited rows):
 * read it the way `sensi analyze`, `sensi runs` and `sensi merge` do.
 *
 *   store_open(path, NULL)       as analyze / runs / merge open an input
 *   store_get_spec, store_count  as merge and runs report it
 *   store_each_run, store_export_csv   as `sensi runs` (JSON lines, CSV)
 *   an_db_load + an_claims       as analyze (bootstrap of FUZZ_REPS resamples;
 *                                --tau-b on inputs of odd length)
 *   store_merge into a new db    as merge (created with the input's spec)
 *
 * Checks the promises of store.h and analysis.h: a refused file gets a
 * message and *out NULL and is left byte for byte as it was ("never
 * modified"); counts are non-negative and add up; a merge into an empty
 * database copies exactly the rows it reports (no run id outside the spec);
 * claims have a verdict and a non-empty text; nothing is left in the scratch
 * folder but the files the target itself removes. Leaks are ASan's. */
#ifndef SENSI_FUZZ_STORE_READ_H
#define SENSI_FUZZ_STORE_READ_H

#include <dirent.h>
#include <math.h>
#include <sqlite3.h>
#include <stdint.h>

#include "../../src/analysis/analysis.h"
#include "../../src/study/store.h"
#include "fuzz_util.h"

#ifndef FUZZ_REPS
#define FUZZ_REPS 5 /* the bootstrap's code paths are the same at 5 as at 1000 */
#endif

static inline int count_row(void *ctx, const cJSON *row)
{
    FUZZ_CHECK(cJSON_IsObject(row), "store_each_run gives an object per row");
    ++*(long *)ctx;
    return 0;
}

static inline void check_counts(const store_counts *c)
{
    FUZZ_CHECK(c->total >= 0 && c->fit >= 0 && c->not_fit >= 0 && c->diverged >= 0 &&
                   c->failed >= 0 && c->outside >= 0,
               "counts are non-negative");
    FUZZ_CHECK(c->fit + c->not_fit + c->diverged + c->failed <= c->total,
               "counts by status add up to at most the total");
}

/* 1 if the scratch folder holds nothing. */
static inline int scratch_empty(char *left, size_t n)
{
    DIR *d = opendir(fuzz_dir());
    FUZZ_CHECK(d, "opendir scratch");
    struct dirent *de;
    int empty = 1;
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
            snprintf(left, n, "%s", de->d_name);
            empty = 0;
        }
    closedir(d);
    return empty;
}

/* The empty database store_open creates for a spec, kept as bytes for the
 * spec last seen: a database edited or mutated elsewhere mostly keeps the
 * base's spec, and creating the schema cost a fifth of each input. On a
 * spec (name, hash, JSON and run count: all of meta but the time) seen
 * last time, the fresh database at out (open in *dst) is
 * replaced by the kept bytes and opened again, as `sensi merge OUT IN`
 * opens an existing OUT: the same file, the same state. 1, or 0 with *dst
 * NULL and e set when that open fails. */
static inline int empty_db_cached(const char *out, const store_spec *sp, store **dst, sn_err *e)
{
    static char *name, *hash, *json;
    static long total;
    static unsigned char *bytes;
    static size_t len;
    /* every field of the spec goes into meta: all must match */
    int same = name && hash && json && !strcmp(name, sp->name) && !strcmp(hash, sp->hash) &&
               !strcmp(json, sp->json) && total == sp->total_runs;
    store_close(*dst);
    *dst = NULL;
    if (same) {
        fuzz_rm_db(out);
        fuzz_write(out, bytes, len);
    } else {
        free(name), free(hash), free(json), free(bytes);
        name = strdup(sp->name), hash = strdup(sp->hash), json = strdup(sp->json);
        total = sp->total_runs, bytes = NULL, len = 0;
        FILE *f = fopen(out, "rb");
        FUZZ_CHECK(f && name && hash && json, "read the created database");
        fseek(f, 0, SEEK_END);
        len = (size_t)ftell(f);
        rewind(f);
        bytes = malloc(len ? len : 1);
        FUZZ_CHECK(bytes && fread(bytes, 1, len, f) == len, "read the created database");
        fclose(f);
    }
    return store_open(out, sp, dst, e) == SN_OK;
}

/* Read the database at in (whose bytes were data[0..size)), as above. */
static inline void fuzz_read_db(const char *in, const uint8_t *data, size_t size)
{
    store *s = NULL;
    sn_err e = {0};
    int rc = store_open(in, NULL, &s, &e);
    if (rc != SN_OK) {
        FUZZ_CHECK(e.msg[0] != '\0', "refusal without a message");
        FUZZ_CHECK(s == NULL, "refusal with a store");
        FUZZ_CHECK(fuzz_same(in, data, size), "a refused file is left unchanged");
        FUZZ_NOTE("refused: %s", e.msg);
        return;
    }
    store_spec sp;
    store_get_spec(s, &sp);
    FUZZ_CHECK(sp.name && sp.hash && sp.json, "an opened store has a spec");

    store_counts c;
    int have_counts = store_count(s, &c, &e) == SN_OK;
    if (have_counts)
        check_counts(&c);
    else
        FUZZ_CHECK(e.msg[0], "store_count error without a message");

    long rows = 0;
    sn_err e2 = {0};
    if (store_each_run(s, NULL, count_row, &rows, &e2) != SN_OK)
        FUZZ_CHECK(e2.msg[0], "store_each_run error without a message");
    static FILE *devnull;
    if (!devnull)
        devnull = fopen("/dev/null", "w");
    FUZZ_CHECK(devnull, "open /dev/null");
    sn_err e3 = {0};
    if (store_export_csv(s, NULL, devnull, &e3) != SN_OK)
        FUZZ_CHECK(e3.msg[0], "store_export_csv error without a message");

    an_db d;
    sn_err e4 = {0};
    /* one thread: the fuzzer runs one input at a time (test_analysis checks
     * that any number of threads gives the same numbers) */
    an_opts opt = {.reps = FUZZ_REPS, .seed = 1, .tau_b = (int)(size & 1), .threads = 1};
    int loaded = an_db_load(store_db(s), in, &opt, &d, &e4) == SN_OK;
    FUZZ_NOTE("opened: spec '%s', %ld runs (%ld fit, %ld outside), %ld rows; analysis %s%s%s",
              sp.name, have_counts ? c.total : -1L, have_counts ? c.fit : -1L,
              have_counts ? c.outside : -1L, rows, loaded ? "loaded" : "refused: ",
              loaded ? "" : e4.msg, loaded && d.ncorr ? " (with correlations)" : "");
    if (loaded) {
        an_claim *cl = NULL;
        int ncl = 0;
        sn_err e5 = {0};
        if (an_claims(&d, 1, &cl, &ncl, &e5) == SN_OK) {
            for (int i = 0; i < ncl; i++) {
                FUZZ_CHECK(cl[i].verdict >= CLAIM_HELD && cl[i].verdict <= CLAIM_NO_DATA,
                           "claim verdict");
                FUZZ_CHECK(cl[i].claim[0] && cl[i].measured[0], "claim text");
                FUZZ_CHECK(cl[i].n >= 0, "claim population size");
            }
        } else {
            FUZZ_CHECK(e5.msg[0], "an_claims error without a message");
        }
        free(cl);
    } else {
        FUZZ_CHECK(e4.msg[0], "an_db_load error without a message");
    }
    an_db_free(&d);

    /* merge into a new database made with the input's spec, as `sensi merge
     * OUT IN` does when OUT does not exist */
    char out[512];
    fuzz_path(out, "merged.db");
    store *dst = NULL;
    sn_err e6 = {0};
    if (store_open(out, &sp, &dst, &e6) == SN_OK && empty_db_cached(out, &sp, &dst, &e6)) {
        long added = -1, skipped = -1;
        if (store_merge(dst, in, &added, &skipped, &e6) == SN_OK) {
            FUZZ_CHECK(added >= 0 && skipped >= 0, "merge counts");
            store_counts mc;
            sn_err e7 = {0};
            if (store_count(dst, &mc, &e7) == SN_OK) {
                check_counts(&mc);
                FUZZ_CHECK(mc.outside == 0, "merge copies no run id outside the spec");
                FUZZ_CHECK(mc.total == added, "merge into an empty db adds what it reports");
                if (have_counts)
                    FUZZ_CHECK(added <= c.total, "merge adds at most the input's runs");
            }
        } else {
            FUZZ_CHECK(e6.msg[0], "store_merge error without a message");
        }
        store_close(dst);
    } else {
        FUZZ_CHECK(e6.msg[0], "store_open (create) error without a message");
        FUZZ_CHECK(dst == NULL, "failed create with a store");
    }
    store_close(s);
    fuzz_rm_db(out);
}

/* Remove the input and check nothing else was left behind. */
static inline void fuzz_clean_db(const char *in)
{
    fuzz_rm_db(in);
    char left[256];
    if (!scratch_empty(left, sizeof left)) {
        fprintf(stderr, "fuzz check failed: left a file behind: %s\n", left);
        abort();
    }
}

#endif
