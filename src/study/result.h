/* result.h: everything one sweep run produces: training outcome, metrics,
 * per-trajectory and per-point rows; and its JSON form, which is how a
 * worker (a forked process or an MPI rank) hands a result to the one process
 * that writes the database. */
#ifndef SENSI_RESULT_H
#define SENSI_RESULT_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "../core/err.h"
#include "../sens/jac_summary.h"

/* one measured point (only when the spec asks for per-point rows) */
typedef struct point_row {
    char split[8];       /* "test" or "train" */
    int index;           /* position in the split file */
    int label, pred;     /* label used in training (train) or true label (test) */
    double loss, jac_softmax, jac_logit, jac_y;
    double pmax, entropy, margin;  /* label-free confidence (jac_point) */
} point_row;

/* one trajectory */
typedef struct traj_row {
    char kind[24];       /* traj_kind_name: ellipse-diff, ellipse-same, ellipse-random, translate */
    int i;               /* number within its kind */
    char anchors[64];    /* "train:12;345;6789", "test:17", "random" */
    char method[8];      /* "exact" or "sampled" */
    long transitions, regions, samples;
    double curvature;    /* NAN unless measured */
    double seconds;
    int nbins;           /* profile bins along u in [0,1) (0: no profile) */
    double *prof_jac;    /* prof_jac (nbins): softmax-Jacobian norm at u = i/nbins (bin
                            starts: with nbins a multiple of 3 an ellipse's anchors, of the
                            image width a translation loop's shifted images, are bin starts) */
    double *prof_trans;  /* prof_trans (nbins): transitions with u in [i/nbins, (i+1)/nbins) */
    double length;       /* arc length in input space (traj_length: Euclidean, of the
                            inputs after the dataset's preprocessing); NAN: unknown */
} traj_row;

typedef struct run_result {
    long run_id;
    int replicate;
    uint64_t seed;
    char status[16];     /* fit, not_fit, diverged, failed */
    char *error;         /* failed: why (malloc'd), else NULL */
    long steps;
    long fit_step;       /* first accuracy check at 100% (train_result.fit_step), -1: none */
    double train_loss, train_acc, test_loss, test_acc, gap;
    long n_params;
    jac_summary jac_test, jac_train;  /* n == 0: not measured */
    int n_traj;
    traj_row *traj;      /* traj (n_traj), malloc'd */
    int n_points;
    point_row *points;   /* points (n_points), malloc'd */
    double train_s, measure_s, wall_s;
    char host[64], version[16], blas[32];
    int threads;         /* BLAS threads the run used */
} run_result;

/* Mean transitions (and regions) over the trajectories of one kind; NAN if
 * that kind was not measured. */
double run_result_trans_mean(const run_result *r, const char *kind, double *regions_mean);

cJSON *run_result_to_json(const run_result *r);
/* Parse what run_result_to_json wrote (r is zeroed first; free with
 * run_result_free). Errors: SN_EFORMAT naming the missing field. */
int run_result_from_json(const cJSON *j, run_result *r, sn_err *e);
/* Free the malloc'd members; NULL fine. */
void run_result_free(run_result *r);

#endif
