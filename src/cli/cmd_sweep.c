/* cmd_sweep.c: `sensi sweep SPEC --db FILE`: train and measure every run of
 * a sweep spec into a SQLite database, on all cores, resumable (rerun the
 * same command after a crash or Ctrl-C), under mpirun across ranks, or one
 * deterministic shard of it (--shard I/N) for batch arrays, or next to
 * other sweeps on the same database (they split the runs through claims in
 * the database, src/study/store.h). Progress on stderr, one JSON summary on
 * stdout. */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../core/progress.h"
#include "../study/runner.h"
#include "../study/sched.h"
#include "../study/spec.h"
#include "../study/store.h"
#include "cli.h"

static void usage(FILE *f)
{
    fprintf(f,
"usage: sensi sweep SPEC.json --db FILE [options]\n"
"\n"
"Train and measure every network of a sweep spec (studies/*.json; format in\n"
"docs/sweeps.md) and store each run, with its measurements, in a SQLite\n"
"database (schema in docs/schema.md). Rerunning the same command skips the\n"
"runs already stored and reruns the unfinished ones. Several sweeps may run on\n"
"one database at once (on one machine): each run is claimed in the database\n"
"before it is trained, so each is trained by one of them.\n"
"\n"
"  --db FILE            results database (created if absent) [required]\n"
"  --scale NAME         a scale of the spec (e.g. paper) [default]\n"
"  -j, --jobs N         worker processes, one network each, 1 BLAS thread [cores]\n"
"                       (under mpirun: workers of rank 0 [1]; the other ranks work too)\n"
"  --shard I/N          only runs with id %% N == I-1 (I in 1..N): one task of a\n"
"                       Slurm array or GNU parallel; combine with `sensi merge`\n"
"  --data-dir DIR       read datasets from DIR [installed locations]\n"
"  --save-models DIR    save every trained network as DIR/run-<id>.safetensors\n"
"  --dry-run            check the spec and database, print the runs to do, train nothing\n"
"  -q, --quiet          no progress output\n"
"  -h, --help           this help\n"
"\n"
"Under mpirun (OpenMPI), rank 0 schedules (largest runs first) and writes the\n"
"database; every other rank trains. Exit status: 0 done, 2 bad input or a\n"
"database error, 130 interrupted (what is stored stays; rerun to finish).\n");
}

typedef struct sweep_ui {
    progress bar;
    int quiet;
    double t0;
    double t_first;   /* when the runs to do were known (workers start) */
    store_holder said;  /* the last other sweep named on stderr */
} sweep_ui;

static void show_progress(sweep_ui *u, const sched_counts *c, int finish)
{
    char f[200];
    int k = snprintf(f, sizeof f, "fit %ld, not fit %ld, diverged %ld, failed %ld", c->fit,
                     c->not_fit, c->diverged, c->failed);
    if (c->others)
        snprintf(f + k, sizeof f - k, ", %ld by another sweep", c->others);
    (finish ? progress_finish : progress_update)(&u->bar, c->done + c->others, f);
}


static void on_start(void *ctx, const sched_counts *c)
{
    sweep_ui *u = ctx;
    u->t_first = progress_now();
    if (c->skipped && !u->quiet)
        fprintf(stderr, "sweep: %ld runs already in the database, %ld to do\n", c->skipped,
                c->todo);
    progress_init(&u->bar, u->quiet ? NULL : stderr, -1, c->todo, "sweep", "runs");
}

static void on_result(void *ctx, const run_result *r, const sched_counts *c)
{
    sweep_ui *u = ctx;
    show_progress(u, c, 0);
    if (!strcmp(r->status, "failed") && !u->quiet)
        fprintf(stderr, "\nsweep: run %ld failed: %s\n", r->run_id, r->error ? r->error : "?");
}

/* Other sweeps on the database: name each holder once, and every takeover. */
static void on_claim(void *ctx, int what, long id, const store_holder *h, const sched_counts *c)
{
    sweep_ui *u = ctx;
    if (what == SCHED_OTHER) {
        show_progress(u, c, 0);
        return;
    }
    if (u->quiet)
        return;
    if (what == SCHED_HELD) {
        if (h->pid == u->said.pid && !strcmp(h->host, u->said.host))
            return;
        u->said = *h;
        fprintf(stderr, "\nsweep: run %ld is being trained by another sweep on this database "
                "(pid %ld on %s, since %s); this one takes the other runs and waits for it\n",
                id, h->pid, h->host, h->since);
    } else if (what == SCHED_TAKEOVER) {
        fprintf(stderr, "\nsweep: run %ld was claimed by pid %ld on %s (since %s), which is "
                "gone; training it here\n", id, h->pid, h->host, h->since);
    }
}

int cmd_sweep(int argc, char **argv)
{
    enum { O_DB = 256, O_SCALE, O_SHARD, O_DIR, O_SAVE, O_DRY };
    static const struct option lo[] = {
        {"db", 1, 0, O_DB},       {"scale", 1, 0, O_SCALE},      {"jobs", 1, 0, 'j'},
        {"shard", 1, 0, O_SHARD}, {"data-dir", 1, 0, O_DIR},     {"save-models", 1, 0, O_SAVE},
        {"dry-run", 0, 0, O_DRY}, {"quiet", 0, 0, 'q'},          {"help", 0, 0, 'h'},
        {0, 0, 0, 0}};
    const char *db = NULL, *scale = NULL, *dir = NULL, *save = NULL;
    long jobs = 0, shard_i = 1, shard_n = 0;
    int quiet = 0, dry = 0, c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "j:qh", lo, NULL)) != -1) {
        switch (c) {
        case O_DB: db = optarg; break;
        case O_SCALE: scale = optarg; break;
        case 'j': jobs = parse_long("--jobs", optarg, 1, 4096); break;
        case O_SHARD: {
            char *end;
            errno = 0;
            shard_i = strtol(optarg, &end, 10);
            if (end == optarg || *end != '/')
                die("--shard: expected I/N, e.g. 3/100 (got '%s')", optarg);
            const char *s2 = end + 1;
            shard_n = strtol(s2, &end, 10);
            if (end == s2 || *end || errno || shard_n < 1 || shard_n > 1000000 || shard_i < 1 ||
                shard_i > shard_n)
                die("--shard: expected I/N with 1 <= I <= N (shards are numbered from 1; got "
                    "'%s')",
                    optarg);
            break;
        }
        case O_DIR: dir = optarg; break;
        case O_SAVE: save = optarg; break;
        case O_DRY: dry = 1; break;
        case 'q': quiet = 1; break;
        case 'h': usage(stdout); return 0;
        default: die_bad_option("sweep", argv);
        }
    }
    if (optind != argc - 1)
        die("sweep: expected exactly one spec file (see sensi sweep --help)");
    if (!db)
        die("sweep: --db FILE is required (the results database; created if absent)");
    const char *spec_path = argv[optind];
    double t0 = progress_now();

    int launched = sched_mpi_launched();
    if (launched > 1 && !sched_mpi_built())
        die("sweep: started by an MPI launcher with %d ranks, but this sensi was built without "
            "MPI, so every rank would run the whole sweep. Install libopenmpi-dev and rebuild "
            "(make clean all), or run without mpirun (--jobs N, --shard I/N)",
            launched);
    if (launched > 1 && shard_n)
        die("sweep: --shard and mpirun do not mix: use one or the other");
    int rank = 0, size = 1;
    sn_err e = {0};
    if (launched > 1 && sched_mpi_init(&argc, &argv, &rank, &size, &e))
        die_err(&e);
    if (size > 1 && rank > 0)
        quiet = 1;

    sweep_spec s;
    if (spec_load(spec_path, scale, &s, &e)) {
        sched_mpi_abort(2);
        die_err(&e);
    }
    data_cache dc;
    data_cache_init(&dc, dir);
    if (size > 1 && rank > 0) {
        runner_opts ro = {.save_dir = save, .stop = NULL, .version = SENSI_VERSION};
        if (sched_mpi_worker(&s, &dc, &ro, &e)) {
            fprintf(stderr, "sensi: rank %d: %s\n", rank, e.msg);
            sched_mpi_abort(2);
        }
        data_cache_free(&dc);
        spec_free(&s);
        sched_mpi_finalize();
        return 0;
    }

    /* rank 0 or a plain process: datasets and sizes checked before anything runs */
    const char *names[4];
    int nd = spec_datasets(&s, names);
    for (int i = 0; i < nd; i++) {
        const dataset *tr, *te;
        if (data_cache_get(&dc, names[i], &tr, &te, &e)) {
            sched_mpi_abort(2);
            die("%s: %s", spec_path, e.msg);
        }
    }
    for (long id = 0; id < s.n_runs; id++) {
        run_config rc;
        const dataset *tr, *te;
        if (spec_run(&s, id, &rc, NULL, &e) || data_cache_get(&dc, rc.data, &tr, &te, &e)) {
            sched_mpi_abort(2);
            die("%s: %s", spec_path, e.msg);
        }
        if (rc.prep.train_size > tr->n || rc.prep.test_size > te->n) {
            sched_mpi_abort(2);
            die("%s: run %ld asks for %d training / %d test examples of %s, which has %d / %d",
                spec_path, id, rc.prep.train_size, rc.prep.test_size, rc.data, tr->n, te->n);
        }
    }
    if (save) {
        struct stat st;
        if (stat(save, &st) && mkdir(save, 0777) && errno != EEXIST) {
            sched_mpi_abort(2);
            die("--save-models: cannot create %s: %s", save, strerror(errno));
        }
        char probe[4096];
        snprintf(probe, sizeof probe, "%s/run-000000.safetensors", save);
        cli_check_writable(probe, "model");
    }

    store *st = NULL;
    store_spec sp = {.name = s.name, .hash = s.hash, .json = s.json, .total_runs = s.n_runs};
    struct stat dbst;
    int db_exists = stat(db, &dbst) == 0;
    if (dry && !db_exists) {
        /* the sweep would create it: say now if it could not */
        if (!*db) {
            sched_mpi_abort(2);
            die("sweep: --db: empty path");
        }
        char *dbc = strdup(db);
        struct stat dst;
        const char *dbdir = dbc ? dirname(dbc) : ".";
        if (stat(dbdir, &dst) || !S_ISDIR(dst.st_mode) || access(dbdir, W_OK | X_OK)) {
            sched_mpi_abort(2);
            die("%s: cannot create the database there (directory missing or not writable)", db);
        }
        free(dbc);
    }
    if ((!dry || db_exists) && store_open(db, &sp, &st, &e)) {
        sched_mpi_abort(2);
        die_err(&e);
    }
    if (dry) {
        unsigned char *done = calloc(s.n_runs, 1);
        if (!done || (st && store_done_ids(st, done, s.n_runs, &e)))
            die("sweep: %s", done ? e.msg : "out of memory");
        long todo = 0, in_shard = 0;
        for (long id = 0; id < s.n_runs; id++)
            if (!shard_n || id % shard_n == shard_i - 1) {
                in_shard++;
                todo += !done[id];
            }
        free(done);
        long claimed = 0;
        if (st && store_claims_live(st, &claimed, NULL, &e))
            die_err(&e);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "spec", s.name);
        cJSON_AddStringToObject(o, "spec_hash", s.hash);
        cJSON_AddNumberToObject(o, "runs", (double)s.n_runs);
        cJSON_AddNumberToObject(o, "in_shard", (double)in_shard);
        cJSON_AddNumberToObject(o, "to_do", (double)todo);
        cJSON_AddNumberToObject(o, "being_trained", (double)claimed);
        cJSON *first = cJSON_AddArrayToObject(o, "first_runs");
        for (long id = 0; id < s.n_runs && id < 3; id++) {
            run_config rc;
            if (!spec_run(&s, id, &rc, NULL, &e))
                cJSON_AddItemToArray(first, run_config_json(&rc));
        }
        print_json(o);
        store_close(st);
        spec_free(&s);
        data_cache_free(&dc);
        sched_mpi_finalize();
        return 0;
    }

    volatile sig_atomic_t *stop = cli_catch_stop();

    sweep_ui ui = {.quiet = quiet, .t0 = t0};
    sched_opts so = {.jobs = (int)(jobs ? jobs : (size > 1 ? 1 : cli_ncpu())),
                     .shard_i = shard_i, .shard_n = shard_n, .save_dir = save,
                     .version = SENSI_VERSION, .cache = &dc, .stop = stop,
                     .on_start = on_start, .on_result = on_result, .on_claim = on_claim,
                     .ctx = &ui};
    sched_counts cnt;
    int rc = sched_run(&s, st, &so, &cnt, &e);
    double wall = progress_now() - t0;
    if (cnt.todo > 0)
        show_progress(&ui, &cnt, 1);
    store_counts sc = {0};
    sn_err e2 = {0};
    store_count(st, &sc, &e2);
    store_close(st);
    if (rc) {
        sched_mpi_abort(2);
        die("sweep: %s (%ld runs were stored before; fix this and rerun the same command to "
            "finish)",
            e.msg, sc.total);
    }
    int interrupted = *stop != 0;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "spec", s.name);
    cJSON_AddStringToObject(o, "db", db);
    cJSON_AddNumberToObject(o, "runs", (double)s.n_runs);
    if (shard_n) {
        char sh[48];
        snprintf(sh, sizeof sh, "%ld/%ld", shard_i, shard_n);
        cJSON_AddStringToObject(o, "shard", sh);
    }
    cJSON_AddNumberToObject(o, "skipped", (double)cnt.skipped);
    cJSON_AddNumberToObject(o, "done", (double)cnt.done);
    cJSON_AddNumberToObject(o, "by_others", (double)cnt.others);
    cJSON_AddNumberToObject(o, "fit", (double)cnt.fit);
    cJSON_AddNumberToObject(o, "not_fit", (double)cnt.not_fit);
    cJSON_AddNumberToObject(o, "diverged", (double)cnt.diverged);
    cJSON_AddNumberToObject(o, "failed", (double)cnt.failed);
    cJSON_AddNumberToObject(o, "in_db", (double)sc.total);
    cJSON_AddNumberToObject(o, "workers", so.jobs + (size > 1 ? size - 1 : 0));
    cJSON_AddNumberToObject(o, "ranks", size);
    json_add_num(o, "wall_s", wall);
    json_add_num(o, "runs_per_hour", wall > 0 ? cnt.done * 3600.0 / wall : NAN);
    json_add_num(o, "busy_s", cnt.busy_s);
    json_add_num(o, "db_s", cnt.db_s);
    json_add_num(o, "tail_s", cnt.tail_s);
    json_add_num(o, "startup_s", (ui.t_first > 0 ? ui.t_first : progress_now()) - t0);
    cJSON_AddBoolToObject(o, "interrupted", interrupted);
    print_json(o);
    if (interrupted && !quiet)
        fprintf(stderr, "sweep: interrupted; %ld runs are stored in %s, rerun the same command "
                        "to finish the other %ld\n",
                sc.total, db, (shard_n ? cnt.todo : s.n_runs) - (shard_n ? cnt.done : sc.total));
    spec_free(&s);
    data_cache_free(&dc);
    if (interrupted)
        sched_mpi_abort(130);
    sched_mpi_finalize();
    return interrupted ? 130 : 0;
}
