/* sched.h: running a sweep: one scheduler process owns the database and
 * hands run ids to workers, largest runs first; workers train and measure
 * and send back results (run_result JSON). Workers are forked processes
 * (pipes) and, under mpirun, the other MPI ranks. The scheduler is the only
 * writer of its sweep; each result is committed in its own transaction as it
 * arrives, so killing anything at any moment loses at most the runs in
 * flight, and rerunning the same command finishes exactly the missing runs.
 * Sweeps started on one database cooperate: the scheduler claims each run
 * in the database before handing it out (store_claim), so each run is
 * trained by one of them; it waits for runs another live sweep holds and
 * takes over those whose sweep is gone. */
#ifndef SENSI_SCHED_H
#define SENSI_SCHED_H

#include <signal.h>

#include "../core/err.h"
#include "runner.h"
#include "spec.h"
#include "store.h"

typedef struct sched_counts {
    long todo;        /* runs this invocation set out to do */
    long done, fit, not_fit, diverged, failed;
    long skipped;     /* already in the database */
    long others;      /* stored or tried by another sweep on the database meanwhile */
    double busy_s;    /* sum of the stored runs' wall times (in the workers) */
    double db_s;      /* seconds the scheduler spent storing results */
    double start_s;   /* seconds from sched_run's start to the first dispatch */
    double tail_s;    /* sum over workers of the time between their last result
                         and the end (idle once the queue ran dry) */
} sched_counts;

enum { SCHED_HELD = 1, SCHED_OTHER, SCHED_TAKEOVER };

typedef struct sched_opts {
    int jobs;                     /* local worker processes (>= 1) */
    long shard_i, shard_n;        /* runs with id % shard_n == shard_i - 1 */
    const char *save_dir;         /* per-run models (NULL: none) */
    const char *version;
    data_cache *cache;            /* preloaded datasets, shared with forked workers */
    volatile sig_atomic_t *stop;  /* set by SIGINT/SIGTERM: stop, keep what is stored */
    /* called once the runs to do are known, before any starts (may be NULL) */
    void (*on_start)(void *ctx, const sched_counts *c);
    /* called in the scheduler after each stored result (may be NULL) */
    void (*on_result)(void *ctx, const run_result *r, const sched_counts *c);
    /* called in the scheduler on runs of other sweeps (may be NULL): what is
     * SCHED_HELD (run id is being trained by sweep h; this one waits for it),
     * SCHED_OTHER (another sweep stored run id; counted in c->others) or
     * SCHED_TAKEOVER (run id was claimed by h, which is gone: trained here) */
    void (*on_claim)(void *ctx, int what, long id, const store_holder *h, const sched_counts *c);
    void *ctx;
} sched_opts;

/* Run every run of s in the shard that st does not hold yet and no other
 * sweep on st trains: each is claimed in st just before it is handed out.
 * Runs claimed by other live sweeps are waited for (rechecked every second;
 * a claim whose process is gone is taken over), so on SN_OK every run of
 * the shard is stored, by this sweep or another. Local workers run with one
 * BLAS thread each. Under MPI (sched_mpi_size() > 1, only on rank 0) the
 * other ranks are workers as well. Returns SN_OK when every run was stored
 * (or stop was set: counts say how far it got), else the store's error
 * (disk full, ...) after stopping the workers. This sweep's claims of runs
 * not stored are released before it returns. */
int sched_run(const sweep_spec *s, store *st, const sched_opts *o, sched_counts *c, sn_err *e);

/* MPI. sched_mpi_launched(): the number of ranks the launcher (mpirun,
 * srun) started, from the environment, 1 outside a launcher; usable before
 * MPI is initialised. sched_mpi_init(): initialise MPI (no-op returning 0
 * when built without MPI); *rank receives this process's rank.
 * sched_mpi_worker(): the loop of a rank > 0: check the spec hash against
 * rank 0's, then run ids until told to stop. */
int sched_mpi_launched(void);
int sched_mpi_built(void);
int sched_mpi_init(int *argc, char ***argv, int *rank, int *size, sn_err *e);
int sched_mpi_worker(const sweep_spec *s, data_cache *dc, const runner_opts *ro, sn_err *e);
void sched_mpi_finalize(void);
/* Abort every rank (after a fatal error on rank 0). */
void sched_mpi_abort(int code);

#endif
