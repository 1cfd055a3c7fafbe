/* spec.h: sweep specs: which networks a study trains and what it measures
 * on them, read from a JSON file; and the deterministic map from a run id to
 * its config that every process (local workers, MPI ranks, shards) shares.
 *
 * A spec (docs/sweeps.md has the full reference):
 *   {
 *     "name": "gap-fashion", "description": "...", "seed": 1,
 *     "fixed": {"data": "fashion-mnist", "train_size": 2000, "steps": 3000},
 *     "grid": {"width": [50, 100], "act": ["relu", "hardsigmoid"]},
 *         (or a list of such objects: their union, e.g. optimizers with
 *          different hyper-parameters)
 *     "replicates": 2,             every grid point this many times
 *     "sample": 0,                 n > 0: n random draws instead of the grid
 *                                  (axes may then be {"log_uniform": [lo, hi]},
 *                                  {"uniform": [lo, hi]}, {"int_log_uniform": [lo, hi]})
 *     "paired_seeds": false,       true: the seed depends on the replicate only,
 *                                  so networks differing in one factor share
 *                                  init and data order (factor pairs)
 *     "measure": {
 *       "only_fit": true,          measure only networks at 100% train accuracy
 *       "jacobian": {"test_points": 1000, "train_points": 0, "per_point": false},
 *       "transitions": {"kinds": ["ellipse-diff"], "count": 2, "method": "exact",
 *                       "samples": 65536, "tanh_code": "none", "profile_bins": 0,
 *                       "translate_shift": 0}
 *     },
 *     "scales": {"paper": { ...any of the keys above, overriding... }}
 *   }
 * Config keys are those of config.h (the options of `sensi train`), except
 * "seed": a run's seed derives from (spec seed, run id), or (spec seed,
 * replicate) with paired_seeds.
 *
 * Run ids: the grids in order, each in row-major order of its axes (the last
 * axis varies fastest), each point repeated `replicates` times (innermost).
 * With "sample": id = draw * replicates + replicate, draw d taken from the
 * stream rng_derive(seed ^ SPEC_SAMPLE_STREAM, d). */
#ifndef SENSI_SPEC_H
#define SENSI_SPEC_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "../core/err.h"
#include "../sens/traj.h"
#include "config.h"

#define SPEC_MAX_KINDS 8

typedef struct measure_spec {
    int only_fit;                 /* 1: skip measurements of not-fit networks */
    int jac_test, jac_train;      /* first N points of each split (0: none) */
    int per_point;                /* store per-point rows */
    int n_kinds;
    traj_kind kinds[SPEC_MAX_KINDS];
    int traj_count;               /* trajectories per kind */
    int exact;                    /* 1: exact walk, 0: sampled */
    long samples;                 /* k when sampled */
    int tanh_sign;                /* tanh: count sign changes (else no transitions) */
    int profile_bins;             /* > 0: Jacobian and transitions along u, binned */
    int translate_shift;          /* radius of translation loops; 0: the run's
                                     augment_shift, else TRAJ_TRANSLATE_SHIFT */
} measure_spec;

typedef struct spec_axis {
    const char *key;              /* config key (points into root) */
    const cJSON *values;          /* array of values, or a distribution object */
    long n;                       /* values in the array (0 for a distribution) */
    const cJSON **items;          /* (n) the array's values in order, owned (NULL
                                     for a distribution): cJSON arrays are linked
                                     lists, so value k is found here in O(1) */
} spec_axis;

typedef struct spec_grid {
    int n_axes;
    spec_axis *axes;
    long points;                  /* product of the list axes' sizes */
    long first;                   /* points of the grids before this one */
} spec_grid;

typedef struct sweep_spec {
    char name[64];
    uint64_t seed;
    long replicates, sample;
    int paired_seeds;
    const cJSON *fixed;           /* object of config keys (points into root) */
    int n_grids;
    spec_grid *grids;
    measure_spec measure;
    cJSON *root;                  /* the resolved spec (scale applied), owned */
    char *json;                   /* root printed canonically, owned */
    char hash[17];                /* FNV-1a of json, hex */
    long n_runs;
} sweep_spec;

/* Parse spec text; scale (may be NULL or "default": none) picks an entry of
 * "scales" to apply. origin names the source in messages
 * ("studies/gap.json"). Every value is checked before this returns: the
 * text (UTF-8, no \u0000 and no raw control character in a string, no key
 * twice in any object), unknown keys, types, ranges, empty grids, and that
 * every run's config resolves, for the spec without a scale and for every
 * scale, not only the chosen one (a scale must be an object and may not be
 * named "default"). Linear in the text's length and the number of runs.
 * Errors: SN_EFORMAT (the text) / SN_EARG (the values) with a message
 * naming origin and the offending key (and its place, or "scale 'NAME'"
 * for a scale not chosen). */
int spec_parse(const char *text, const char *scale, const char *origin, sweep_spec *s,
               sn_err *e);
/* spec_parse of a file (gzip-transparent read). */
int spec_load(const char *path, const char *scale, sweep_spec *s, sn_err *e);
void spec_free(sweep_spec *s);

/* The resolved config of run id (0 <= id < n_runs), with its replicate
 * number and seed. Errors: SN_EARG (id out of range or a config that does
 * not resolve). */
int spec_run(const sweep_spec *s, long id, run_config *rc, int *replicate, sn_err *e);

/* Names of the datasets the spec's runs use (distinct, up to 4); returns how
 * many. */
int spec_datasets(const sweep_spec *s, const char *names[4]);

#endif
