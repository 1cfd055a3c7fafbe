/* parallel.h: a parallel for over n independent items on worker threads,
 * each taking the next item from a shared counter (items of unequal cost
 * balance themselves). The caller's item function gets its worker's index,
 * so per-worker buffers are indexed by it; results go to per-item slots, so
 * they do not depend on the number of threads or their timing.
 *
 * Does not: touch BLAS threads (a worker that calls GEMM sets its own, see
 * src/sens/jacobian.c, whose pool predates this one), or cancel: every
 * item runs. */
#ifndef SENSI_PARALLEL_H
#define SENSI_PARALLEL_H

/* The online CPUs (at least 1). */
int par_ncpu(void);

/* Run fn(ctx, worker, i) for every i in [0, n) on `workers` threads (the
 * calling thread is worker 0; workers <= 0 or > n are clamped to [1, n]).
 * A thread that cannot be started leaves its share to the others. Returns
 * the number of workers used (0 when n <= 0). */
int par_for(int n, int workers, void (*fn)(void *ctx, int worker, int i), void *ctx);

#endif
