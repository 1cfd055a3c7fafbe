/* runner.h: one run of a sweep, start to finish, inside one process: cut the
 * run's data from the full splits (cached per dataset), build and train the
 * network, evaluate it, take the spec's measurements (Jacobian summaries,
 * per-point rows, transitions along trajectories with optional profiles),
 * optionally save the model. The same library calls as `sensi train`,
 * `sensi jacobian` and `sensi transitions`, so a sweep's numbers equal
 * theirs for the same config, seed and thread count. */
#ifndef SENSI_RUNNER_H
#define SENSI_RUNNER_H

#include <signal.h>

#include "../core/err.h"
#include "../data/dataset.h"
#include "config.h"
#include "result.h"
#include "spec.h"

/* Full splits of the datasets a worker has needed so far. */
typedef struct data_cache {
    const char *dir;              /* --data-dir (NULL: installed locations) */
    int loaded[4];                /* by ds_kind */
    dataset train[4], test[4];
} data_cache;

void data_cache_init(data_cache *dc, const char *dir);
void data_cache_free(data_cache *dc);
/* Full splits of dataset name, loading them on first use. Errors: the
 * loader's (SN_ENOTFOUND with what to install, SN_EFORMAT, ...). */
int data_cache_get(data_cache *dc, const char *name, const dataset **train,
                   const dataset **test, sn_err *e);

typedef struct runner_opts {
    const char *save_dir;         /* save DIR/run-<id>.safetensors (NULL: no) */
    volatile sig_atomic_t *stop;  /* stop training when non-zero (may be NULL) */
    const char *version;          /* sensi version, recorded per run */
} runner_opts;

/* Execute run id with config rc (resolved) and replicate rep. out is filled
 * (free with run_result_free): status fit / not_fit / diverged, metrics,
 * rows. A problem of the run itself (data size beyond its split, no memory,
 * a model that cannot be saved) gives status "failed" with out->error set
 * and returns SN_OK; the return value is non-zero only when out could not
 * be filled at all (SN_ENOMEM), or when *stop interrupted training
 * (SN_EARG, "interrupted": the run is not finished and must not be stored). */
int runner_execute(const run_config *rc, long id, int rep, const measure_spec *ms,
                   data_cache *dc, const runner_opts *o, run_result *out, sn_err *e);

#endif
