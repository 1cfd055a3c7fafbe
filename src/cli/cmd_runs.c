/* cmd_runs.c: `sensi runs DB`: what a results database holds. On a terminal
 * a table of the main columns (and the transition columns that were
 * measured) with a summary line of counts by status; otherwise, or with
 * --json, one JSON object per run per line with every column; --csv FILE
 * writes every column as CSV (atomically) and prints the summary.
 * Runs that sweeps are training now (claims) are named after the summary,
 * never listed or counted as runs.
 * It only reads: a missing file is an error, never a new database. The
 * queries live in src/study/store.c; this file only formats. */
#include <getopt.h>
#include <math.h>
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
"usage: sensi runs DB [options]\n"
"\n"
"List the runs of a results database written by `sensi sweep` (or `sensi\n"
"merge`). On a terminal: a table (run_id, status, data, act, depth, width,\n"
"opt, lr, steps, train_acc, test_acc, gap, jac_test_mean and the measured\n"
"trans_* columns) and a summary line; otherwise one JSON object per run per\n"
"line with every column (NULL as null). Columns: docs/schema.md.\n"
"\n"
"  --status S           only runs with status S: fit, not_fit, diverged or\n"
"                       failed [all]\n"
"  --csv FILE           write the runs (every column, a header line) as CSV to\n"
"                       FILE and print only the summary [none]\n"
"  --json               JSON lines even on a terminal [off]\n"
"  -h, --help           this help\n"
"\n"
"The database is only read. Exit status 2 on bad input or a file that is\n"
"missing or not a sensi database.\n");
}

static const char *const TRANS_COLS[4] = {"trans_ellipse_diff", "trans_ellipse_same",
                                          "trans_ellipse_random", "trans_translate"};

typedef struct table {
    int trans[4];   /* 1: show TRANS_COLS[k] */
    long rows;
} table;

static int print_row_json(void *ctx, const cJSON *row)
{
    (void)ctx;
    char *s = cJSON_PrintUnformatted(row);
    if (!s)
        die("runs: out of memory printing JSON");
    puts(s);
    free(s);
    return 0;
}

/* One table cell: fmt 's' string, 'd' integer, 'g' short real, 'f' 4 decimals. */
static void cell(const cJSON *row, const char *key, char fmt, int width)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(row, key);
    char buf[64];
    if (cJSON_IsString(v))
        snprintf(buf, sizeof buf, "%s", v->valuestring);
    else if (!cJSON_IsNumber(v))
        snprintf(buf, sizeof buf, "-");
    else if (fmt == 'd')
        snprintf(buf, sizeof buf, "%.0f", v->valuedouble);
    else if (fmt == 'f')
        snprintf(buf, sizeof buf, "%.4f", v->valuedouble);
    else
        snprintf(buf, sizeof buf, "%.4g", v->valuedouble);
    printf(fmt == 's' ? " %-*s" : " %*s", width, buf);
}

static int print_row_table(void *ctx, const cJSON *row)
{
    table *t = ctx;
    cell(row, "run_id", 'd', 6);
    cell(row, "status", 's', 8);
    cell(row, "data", 's', 13);
    cell(row, "act", 's', 11);
    cell(row, "depth", 'd', 5);
    cell(row, "width", 'd', 6);
    cell(row, "opt", 's', 8);
    cell(row, "lr", 'g', 9);
    cell(row, "steps", 'd', 7);
    cell(row, "train_acc", 'f', 9);
    cell(row, "test_acc", 'f', 8);
    cell(row, "gap", 'f', 7);
    cell(row, "jac_test_mean", 'g', 13);
    for (int k = 0; k < 4; k++)
        if (t->trans[k])
            cell(row, TRANS_COLS[k], 'g', (int)strlen(TRANS_COLS[k]));
    putchar('\n');
    t->rows++;
    return 0;
}

static void print_header(const table *t)
{
    printf(" %6s %-8s %-13s %-11s %5s %6s %-8s %9s %7s %9s %8s %7s %13s", "run_id", "status",
           "data", "act", "depth", "width", "opt", "lr", "steps", "train_acc", "test_acc", "gap",
           "jac_test_mean");
    for (int k = 0; k < 4; k++)
        if (t->trans[k])
            printf(" %s", TRANS_COLS[k]);
    putchar('\n');
}

static void print_summary(store *s)
{
    sn_err e = {0};
    store_counts c;
    if (store_count(s, &c, &e))
        die_err(&e);
    store_spec sp;
    store_get_spec(s, &sp);
    printf("%ld runs of %ld in the spec: fit %ld, not_fit %ld, diverged %ld, failed %ld\n",
           c.total, sp.total_runs, c.fit, c.not_fit, c.diverged, c.failed);
    /* claims are not runs: only said, never counted above (and a claims
     * table that cannot be read only goes unmentioned) */
    long live = 0;
    store_holder h;
    if (store_claims_live(s, &live, &h, NULL) == SN_OK && live > 0)
        printf("%ld more being trained by running sweeps (one is pid %ld on %s)\n", live,
               h.pid, h.host);
}

enum { O_STATUS = 256, O_CSV, O_JSON };

int cmd_runs(int argc, char **argv)
{
    static const struct option lo[] = {{"status", 1, 0, O_STATUS}, {"csv", 1, 0, O_CSV},
                                       {"json", 0, 0, O_JSON},     {"help", 0, 0, 'h'},
                                       {0, 0, 0, 0}};
    const char *status = NULL, *csv = NULL;
    int json = 0, c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
        switch (c) {
        case O_STATUS:
            if (strcmp(optarg, "fit") && strcmp(optarg, "not_fit") &&
                strcmp(optarg, "diverged") && strcmp(optarg, "failed"))
                die("--status: '%s' is not a status (expected fit, not_fit, diverged or "
                    "failed)", optarg);
            status = optarg;
            break;
        case O_CSV: csv = optarg; break;
        case O_JSON: json = 1; break;
        case 'h': usage(stdout); return 0;
        default: die_bad_option("runs", argv);
        }
    }
    if (optind != argc - 1)
        die("runs: expected exactly one database file (see sensi runs --help)");
    const char *path = argv[optind];

    sn_err e = {0};
    store *s = NULL;
    if (store_open(path, NULL, &s, &e))
        die_err(&e);

    if (csv) {
        cli_check_writable(csv, "CSV");
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        if (!f)
            die("runs: out of memory for the CSV");
        int r = store_export_csv(s, status, f, &e);
        if (fclose(f) != 0 && !r)
            die("runs: out of memory for the CSV");
        if (r)
            die_err(&e);
        const void *parts[1] = {buf};
        size_t lens[1] = {len};
        if (file_write_atomic(csv, parts, lens, 1, &e))
            die_err(&e);
        free(buf);
        print_summary(s);
        store_close(s);
        return 0;
    }

    if (!json && !isatty(STDOUT_FILENO))
        json = 1;
    if (json) {
        if (store_each_run(s, status, print_row_json, NULL, &e))
            die_err(&e);
        if (fflush(stdout) != 0)
            die("runs: writing to stdout failed");
        store_close(s);
        return 0;
    }

    table t = {{0}, 0};
    for (int k = 0; k < 4; k++) {
        long n = 0;
        if (store_count_nonnull(s, TRANS_COLS[k], &n, &e))
            die_err(&e);
        t.trans[k] = n > 0;
    }
    print_header(&t);
    if (store_each_run(s, status, print_row_table, &t, &e))
        die_err(&e);
    if (status)
        printf("%ld runs with status %s\n", t.rows, status);
    print_summary(s);
    store_close(s);
    return 0;
}
