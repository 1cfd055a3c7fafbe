/* cli.h: shared pieces of the subcommands: typed option parsing that exits
 * with status 2 and a one-line message, the data options every command
 * takes, and JSON helpers. Only src/cli/ prints to the user or exits. */
#ifndef SENSI_CLI_H
#define SENSI_CLI_H

#include <cjson/cJSON.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>

#include "../core/err.h"
#include "../data/dataset.h"

#define SENSI_VERSION "0.1.0"

/* Print "sensi: msg" to stderr and exit(2). */
void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* s to f with control characters and invalid UTF-8 as \xNN (what die echoes) */
void cli_put_escaped(FILE *f, const char *s);
/* die with e's message. */
void die_err(const sn_err *e) __attribute__((noreturn));

/* Parse optarg as an integer / double within [lo, hi]; die naming the option. */
long parse_long(const char *opt, const char *s, long lo, long hi);
double parse_double(const char *opt, const char *s, double lo, double hi);
uint64_t parse_u64(const char *opt, const char *s);

/* The data options shared by train, eval and later commands. */
typedef struct data_opts {
    const char *name;      /* --data (default fashion-mnist) */
    const char *dir;       /* --data-dir (NULL: installed locations) */
    int train_size;        /* --train-size (0: all) */
    int test_size;         /* --test-size (0: all) */
    int standardize;       /* --preprocess standardize */
    double random_labels;  /* --random-labels P */
    uint64_t seed;         /* labels are randomised from the run seed */
    char name_buf[64];     /* storage for a name read from model metadata */
} data_opts;

void data_opts_defaults(data_opts *o);

/* Load train and test splits per o (subsets, preprocessing, random labels on
 * the training split with the stream derived from seed). Dies on error. */
void cli_load_data(const data_opts *o, dataset *train, dataset *test);

/* The getopt_long default case: die naming the unknown option (or the one
 * missing its value) and pointing to `sensi CMD --help`. */
void die_bad_option(const char *cmd, char **argv) __attribute__((noreturn));

/* Die unless a file could be written at path (file_check_writable: not
 * empty, not a directory or FIFO, a name that fits, a directory that exists
 * and takes a new file), so a long run fails before it starts rather than at
 * the end. what: "model", "image", ... */
void cli_check_writable(const char *path, const char *what);

/* Data options recorded in a model's metadata (sensi.config: dataset,
 * subset sizes, preprocessing, random labels, seed) copied into o; keys that
 * are absent get `sensi train`'s defaults, a model without sensi.config
 * leaves o as it was. Every key is checked with the run-config table
 * (src/study/config.c, the rules of the options and of sweep specs): a
 * wrong type, a value out of range, an unknown name or key dies with
 * "MODEL: sensi.config: KEY: ..." (exit 2). */
struct model_meta;
void data_opts_from_meta(const struct model_meta *mm, const char *path, data_opts *o);

/* The augment_shift the model was trained with (sensi.config; 0 when absent).
 * Dies on malformed metadata (the same checks as data_opts_from_meta). */
int cli_model_augment_shift(const struct model_meta *mm, const char *path);

/* Load the model at path (dies with a clear message on error) and, when
 * train/test are non-NULL, the data it was trained on per o (after
 * data_opts_from_meta and the caller's overrides); dies if the model's input
 * size or classes do not match the data. */
struct mlp;
void cli_load_model(const char *path, struct mlp *m, struct model_meta *mm);

/* cli_load_model, then o = defaults + the model's recorded data options,
 * with --data (name, may be NULL) and --data-dir (dir, may be NULL) applied
 * on top: what every command that measures a saved model starts with. */
void cli_load_model_data_opts(const char *path, const char *name, const char *dir,
                              struct mlp *m, struct model_meta *mm, data_opts *o);
void cli_check_model_data(const char *path, const struct mlp *m, const dataset *ds,
                          const char *data_name);

/* Add k: v to o, or k: null when v is not finite (JSON has no NaN). */
void json_add_num(cJSON *o, const char *k, double v);

/* Print a cJSON object on one line to stdout and free it. */
void print_json(cJSON *obj);

/* Die unless pos (an --anchors position in the training split file) lies in
 * the model's training subset, the first n examples of data's training
 * split: the rule slice and transitions share. */
void cli_check_anchor(long pos, int n, const char *data);

/* Catch SIGINT, SIGTERM and SIGHUP from now on: the returned flag becomes non-zero
 * instead of the process dying, so a long command stops cleanly and keeps
 * what it has (train_hooks.stop, sched_opts.stop). */
volatile sig_atomic_t *cli_catch_stop(void);

/* Number of online CPUs. */
int cli_ncpu(void);

int cmd_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_jacobian(int argc, char **argv);
int cmd_transitions(int argc, char **argv);
int cmd_slice(int argc, char **argv);
int cmd_sweep(int argc, char **argv);
int cmd_merge(int argc, char **argv);
int cmd_runs(int argc, char **argv);
int cmd_analyze(int argc, char **argv);
int cmd_report(int argc, char **argv);

/* Shared by analyze and report (cmd_analyze.c): open and analyse every
 * database (dies on error), judge the paper's claims; print them as a
 * terminal report or build the JSON object. */
struct an_db;
struct an_claim;
struct an_opts;
int analysis_load_all(char **paths, int n, const struct an_opts *o, struct an_db **out,
                      struct an_claim **cl, int *ncl);
void analysis_print(FILE *f, const struct an_db *d, int nd, const struct an_claim *cl, int ncl);
cJSON *analysis_json(const struct an_db *d, int nd, const struct an_claim *cl, int ncl);

#endif
