/* cmd_merge.c: `sensi merge OUT.db IN.db [IN.db ...]`: combine the shard
 * databases of one sweep (`sensi sweep --shard i/N`) into OUT, created with
 * the inputs' spec when absent. Every input is checked first (a sensi
 * database of the same spec as the others and as OUT, of schema version 4),
 * so a mix of specs or an old version-3 file stops before anything is
 * written. Each input is then copied in one
 * transaction (store_merge): runs OUT lacks, and runs OUT holds as failed
 * that the input holds finished. Prints runs added per input and what OUT
 * holds against the spec's total. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/fileio.h"
#include "../study/store.h"
#include "cli.h"

static void usage(FILE *f)
{
    fprintf(f,
"usage: sensi merge OUT.db IN.db [IN.db ...]\n"
"\n"
"Combine results databases of one sweep (e.g. the shards of `sensi sweep\n"
"--shard I/N`) into OUT.db, which is created with the inputs' spec if it does\n"
"not exist. A run is copied with its points and trajectories when OUT.db lacks\n"
"it, or holds it as failed while the input holds it finished; each input is\n"
"copied in one transaction. Inputs of another spec than the first input (or\n"
"than OUT.db), and databases of schema version 3 (trajectories without their\n"
"length; sensi reads but never merges them), are refused before anything is\n"
"written.\n"
"\n"
"  -h, --help           this help\n"
"\n"
"Prints the runs added per input and the runs OUT.db holds of the spec's\n"
"total. Exit status 2 on bad input (missing file, not a sensi database,\n"
"another spec).\n");
}

/* remove a database file and its WAL companions */
static void remove_db(const char *path)
{
    char b[PATH_MAX + 8];
    unlink(path);
    snprintf(b, sizeof b, "%s-wal", path);
    unlink(b);
    snprintf(b, sizeof b, "%s-shm", path);
    unlink(b);
    snprintf(b, sizeof b, "%s-journal", path);
    unlink(b);
}

/* Dies unless the input s (at path) has the current schema (version 4). */
static void input_current(const store *s, const char *path)
{
    if (store_schema_version(s) != 4)
        die("merge: %s has results schema version %d (its trajectories have no length): "
            "merged into a version-4 database its trajectories would mix with ones that have "
            "a length; analyze it as it is, or rerun its sweep with this sensi; nothing was "
            "written", path, store_schema_version(s));
}

int cmd_merge(int argc, char **argv)
{
    static const struct option lo[] = {{"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
        switch (c) {
        case 'h': usage(stdout); return 0;
        default: die_bad_option("merge", argv);
        }
    }
    if (argc - optind < 2)
        die("merge: expected OUT.db and at least one IN.db (see sensi merge --help)");
    const char *out = argv[optind];
    char **in = argv + optind + 1;
    int n_in = argc - optind - 1;

    /* check every input before writing anything; keep the first one's spec */
    sn_err e = {0};
    store *first = NULL;
    if (store_open(in[0], NULL, &first, &e))
        die_err(&e);
    store_spec sp;
    store_get_spec(first, &sp);
    input_current(first, in[0]);
    for (int i = 1; i < n_in; i++) {
        store *s = NULL;
        if (store_open(in[i], NULL, &s, &e))
            die_err(&e);
        input_current(s, in[i]);
        store_spec si;
        store_get_spec(s, &si);
        if (strcmp(si.hash, sp.hash))
            die("merge: %s holds sweep '%s' (spec %s), %s holds '%s' (spec %s): only shards "
                "of one spec can be merged; nothing was written", in[i], si.name, si.hash,
                in[0], sp.name, sp.hash);
        store_close(s);
    }

    /* OUT: created with the inputs' spec, or checked to hold it */
    if (file_exists(out)) {
        store *o = NULL;
        if (store_open(out, NULL, &o, &e))
            die_err(&e);
        if (store_schema_version(o) != 4)
            die("merge: %s has results schema version %d (its trajectories have no length); "
                "this sensi adds no runs to it: merge into a new OUT.db; nothing was written",
                out, store_schema_version(o));
        store_spec so;
        store_get_spec(o, &so);
        if (strcmp(so.hash, sp.hash))
            die("merge: %s holds sweep '%s' (spec %s), %s holds '%s' (spec %s): only shards "
                "of one spec can be merged; nothing was written", in[0], sp.name, sp.hash, out,
                so.name, so.hash);
        store_close(o);
    }
    /* a new OUT is built under a temporary name beside it and renamed into
     * place when every input is in: a failure leaves no output file */
    int fresh = !file_exists(out);
    char tmp[PATH_MAX];
    if (fresh && snprintf(tmp, sizeof tmp, "%s.tmp.%ld", out, (long)getpid()) >= (int)sizeof tmp)
        die("merge: %s: path too long", out);
    const char *target = fresh ? tmp : out;
    store *dst = NULL;
    if (store_open(target, &sp, &dst, &e)) {
        if (fresh)
            remove_db(tmp);
        die_err(&e);
    }
    store_close(first);
    store_get_spec(dst, &sp);

    long skipped_all = 0;
    for (int i = 0; i < n_in; i++) {
        long added = 0, skipped = 0;
        if (store_merge(dst, in[i], &added, &skipped, &e)) {
            store_close(dst);
            if (fresh)
                remove_db(tmp);
            die("merge: %s%s", e.msg, fresh ? "; no output was written" : "");
        }
        printf("%s: %ld runs added", in[i], added);
        if (skipped)
            printf(", %ld with run ids outside the spec's 0..%ld not copied", skipped,
                   sp.total_runs - 1);
        printf("\n");
        skipped_all += skipped;
        fflush(stdout);
    }
    if (fresh) {
        store_close(dst);
        dst = NULL;
        if (rename(tmp, out)) {
            remove_db(tmp);
            die("merge: cannot create %s: %s", out, strerror(errno));
        }
        if (store_open(out, NULL, &dst, &e))
            die_err(&e);
        store_get_spec(dst, &sp); /* sp's strings belonged to the closed handle */
    }

    store_counts cnt;
    if (store_count(dst, &cnt, &e))
        die_err(&e);
    long missing = sp.total_runs - cnt.total;
    if (missing < 0)
        missing = 0;
    /* complete = every run id of the spec present (store_count counts ids
     * of the spec only) */
    printf("%s: %ld of %ld runs", out, cnt.total, sp.total_runs);
    if (missing || cnt.failed) {
        printf(" (");
        if (missing)
            printf("%ld missing", missing);
        if (cnt.failed)
            printf("%s%ld failed", missing ? ", " : "", cnt.failed);
        printf(": rerun `sensi sweep SPEC --db %s` with the spec '%s' to finish them)\n", out,
               sp.name);
    } else {
        printf(", complete\n");
    }
    store_close(dst);
    return 0;
}
