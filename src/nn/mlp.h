/* mlp.h: the fully connected network of the study.
 *
 * Depth L = number of weight layers (the paper's convention: depth 2 = one
 * hidden layer). Layer l in [0, L) maps dims[l] -> dims[l+1], with
 * dims[0] = D (input), dims[1..L-1] = H (width), dims[L] = K (classes).
 * Weights are stored like PyTorch's nn.Linear: W_l (out, in) row-major, so a
 * forward pass is A_l = H_{l-1} W_l^T (+ b_l). Every hidden layer applies the
 * activation; the last layer gives logits, then softmax cross-entropy.
 *
 * Parameters live in one contiguous float32 slab: for each layer W_l, then
 * b_l if biases are on. Gradients and optimizer moments use slabs of the same
 * size and the same offsets (mlp_w_off / mlp_b_off). */
#ifndef SENSI_MLP_H
#define SENSI_MLP_H

#include <stddef.h>
#include <stdint.h>

#include "../core/err.h"
#include "../core/rng.h"
#include "act.h"

typedef struct mlp_config {
    int d;            /* input features D */
    int width;        /* hidden width H */
    int k;            /* classes K */
    int depth;        /* weight layers L >= 1 */
    act_kind act;
    int bias;         /* 1: layers have biases */
    double sigma_w2;  /* init variance scale: W ~ N(0, sigma_w2 / fan_in) */
    double sigma_b2;  /* init variance of biases (0: zeros) */
} mlp_config;

typedef struct mlp {
    mlp_config cfg;
    int *dims;        /* dims (L+1) */
    size_t *w_off;    /* w_off (L): offset of W_l in the slab */
    size_t *b_off;    /* b_off (L): offset of b_l (only meaningful if bias) */
    size_t n_params;
    float *params;    /* params (n_params) slab */
} mlp;

/* Check a config: d, width, k >= 1, depth >= 1 (depth 1 = linear softmax
 * model), sigma_w2 > 0, sigma_b2 >= 0. */
int mlp_config_check(const mlp_config *c, sn_err *e);

/* Allocate m for config c (params zeroed). */
int mlp_init(mlp *m, const mlp_config *c, sn_err *e);
void mlp_free(mlp *m);

/* Fan-in Gaussian init drawn from r, biases N(0, sigma_b2). */
void mlp_init_params(mlp *m, rng *r);

static inline float *mlp_w(const mlp *m, float *slab, int l) { return slab + m->w_off[l]; }
static inline float *mlp_b(const mlp *m, float *slab, int l) { return slab + m->b_off[l]; }

/* Workspace for batches of up to n_max examples; allocated once, reused by
 * every forward/backward so no step allocates. */
typedef struct mlp_work {
    int n_max;
    float *a;         /* a: pre-activations, per layer l < L-1: (N, dims[l+1]) at a_off[l] */
    float *h;         /* h: activations, same layout as a */
    size_t *a_off;    /* a_off (L) */
    float *logits;    /* logits (N,K) */
    float *probs;     /* probs (N,K) softmax */
    float *g0, *g1;   /* g0, g1 (N, max dim): backward ping-pong buffers */
} mlp_work;

int mlp_work_init(mlp_work *w, const mlp *m, int n_max, sn_err *e);
void mlp_work_free(mlp_work *w);

/* Forward pass of x (N,D), N <= n_max: fills w->a, w->h, w->logits. */
void mlp_forward(const mlp *m, mlp_work *w, const float *x, int n);

/* Softmax of w->logits into w->probs and the summed cross-entropy loss of the
 * N rows with labels y; *correct (may be NULL) gets the count of rows whose
 * argmax equals the label. Returns the summed loss (not the mean); a
 * non-finite value signals divergence. */
double mlp_softmax_xent(const mlp *m, mlp_work *w, const uint8_t *y, int n, int *correct);

/* Forward + backward for a batch: grad (n_params slab) = d(mean loss)/d params
 * scaled by `scale` and added to beta * grad (beta = 0 overwrites; used e.g.
 * for fused momentum). Returns the mean loss; *correct as above. */
double mlp_loss_grad(const mlp *m, mlp_work *w, const float *x, const uint8_t *y, int n,
                     float *grad, float scale, float beta, int *correct);

/* Mean loss and accuracy over a whole dataset-like array x (N,D), y (N),
 * in chunks of w->n_max. */
void mlp_evaluate(const mlp *m, mlp_work *w, const float *x, const uint8_t *y, int n,
                  double *mean_loss, double *accuracy);

#endif
