/* train.h: the training loop of the study: mini-batch optimizers with
 * optional augmentation, or full-batch L-BFGS; early stop at 100% training
 * accuracy on the whole un-augmented training set; status fit / not_fit /
 * diverged. */
#ifndef SENSI_TRAIN_H
#define SENSI_TRAIN_H

#include <signal.h>
#include <stdint.h>

#include "../core/err.h"
#include "../data/dataset.h"
#include "mlp.h"
#include "optim.h"

typedef enum { TRAIN_FIT, TRAIN_NOT_FIT, TRAIN_DIVERGED, TRAIN_INTERRUPTED } train_status;

const char *train_status_name(train_status s);

typedef struct train_config {
    optim_config opt;
    int batch;            /* mini-batch size N (ignored by lbfgs) */
    long steps;           /* step budget (lbfgs: iterations) */
    int eval_every;       /* full train-accuracy check period in steps (>= 1) */
    int augment_shift;    /* max translation in pixels (0: none) */
    int augment_flip;     /* random horizontal flips */
    int early_stop;       /* stop once train accuracy is 100% (default 1) */
    uint64_t seed;        /* run seed; streams derive from it */
} train_config;

typedef struct train_result {
    train_status status;
    long steps;           /* steps taken */
    long fit_step;        /* first accuracy check (every eval_every steps and at the
                             end) that found 100% training accuracy; -1: none. With
                             early stopping it equals steps for a fit network; with a
                             fixed budget the network may have kept training past it
                             (and may even have left 100% again by the end) */
    double train_loss;    /* mean loss on the whole un-augmented training set */
    double train_acc;     /* accuracy on it */
    double train_s;       /* seconds spent in training steps only */
    double eval_s;        /* seconds spent in accuracy checks */
} train_result;

/* Called after every step (may be NULL): loss is the mean loss of recent
 * batches, acc the last full training accuracy (NAN before the first check). */
typedef struct train_hooks {
    void (*progress)(void *ctx, long step, long total, double loss, double acc);
    void *ctx;
    volatile sig_atomic_t *stop;  /* set non-zero (e.g. by SIGINT) to stop after this step */
} train_hooks;

/* Default config (momentum, lr 0.005, batch 128, 2^19 steps would be the
 * paper's budget; ours is 20000, eval every 500, early stop on). */
void train_defaults(train_config *c);

/* Check ranges; e names the offending option. */
int train_config_check(const train_config *c, sn_err *e);

/* Train m (already initialised) on ds. The data order and augmentation
 * streams derive from c->seed. Returns SN_OK whenever training ran (a
 * diverged network is a result, not an error); errors are allocation
 * failures and shape mismatches. */
int train_run(mlp *m, const train_config *c, const dataset *ds, const train_hooks *hooks,
              train_result *res, sn_err *e);

#endif
