/* optim.h: first-order optimizers over a parameter slab, with the study's
 * (TensorFlow 1.x) defaults and update rules:
 *   sgd       w -= lr g
 *   momentum  v = mu v + g;  w -= lr v                      (mu = 0.9)
 *   adam      m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;
 *             w -= lr sqrt(1-b2^t)/(1-b1^t) m / (sqrt(v) + eps)
 *                                          (b1 0.9, b2 0.999, eps 1e-8)
 *   rmsprop   s = rho s + (1-rho) g^2, s starts at 1 (TF 1.x);
 *             w -= lr g / sqrt(s + eps)    (rho 0.9, eps 1e-10)
 * lbfgs is full batch and lives in train.c (liblbfgs); it has no slab state.
 * The learning rate is constant. */
#ifndef SENSI_OPTIM_H
#define SENSI_OPTIM_H

#include <stddef.h>

#include "../core/err.h"

typedef enum { OPT_SGD, OPT_MOMENTUM, OPT_ADAM, OPT_RMSPROP, OPT_LBFGS } opt_kind;
#define OPT_COUNT 5

typedef struct optim_config {
    opt_kind kind;
    double lr;
    double momentum;   /* mu of momentum */
    double beta1, beta2, eps; /* adam; eps also rmsprop's */
    double decay;      /* rho of rmsprop */
} optim_config;

/* Parse "sgd", "momentum", "adam", "rmsprop", "lbfgs". */
int optim_parse(const char *name, opt_kind *out, sn_err *e);
const char *optim_name(opt_kind k);

/* Fill c with kind's defaults (lr 0.005 for the mini-batch optimizers). */
void optim_defaults(optim_config *c, opt_kind kind);

/* Check ranges: lr > 0, 0 <= momentum < 1, 0 <= beta < 1, eps > 0, ... */
int optim_config_check(const optim_config *c, sn_err *e);

typedef struct optim {
    optim_config cfg;
    size_t n;      /* slab length */
    long t;        /* steps taken */
    float *m;      /* m (n): momentum velocity (mu v between fused steps) / adam first
                      moment / rmsprop mean square */
    float *v;      /* v (n): adam second moment (NULL otherwise) */
} optim;

int optim_init(optim *o, const optim_config *c, size_t n, sn_err *e);
void optim_free(optim *o);

/* Where the next gradient should be written and with which accumulation
 * factor. For momentum the gradient GEMMs accumulate straight into the
 * velocity with *beta = 1: optim_step leaves the slab holding mu v, so the
 * GEMM's C += g completes v = mu v + g without a separate scaling pass over C
 * (OpenBLAS makes one for any beta other than 1). Otherwise: grad itself,
 * *beta = 0. */
float *optim_grad_target(optim *o, float *grad, float *beta);

/* Apply one update to w (n) with gradient g (n). If g is the slab returned
 * by optim_grad_target for momentum, it holds the updated velocity v; the
 * step applies w -= lr v and then scales the slab to mu v for the next
 * accumulation. (With any other g, momentum keeps v itself in the slab.) */
void optim_step(optim *o, float *w, const float *g);

#endif
