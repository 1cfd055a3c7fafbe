/* jacobian.h: input-output Jacobian norms of an MLP (the study's first
 * sensitivity metric) and the cross-entropy bounds of STUDY.md section 4.6.
 *
 * For a point x with logits f(x) (K) and softmax s = softmax(f):
 *   J_f(x) = df/dx (K,D) = W_L D_{L-1} W_{L-1} ... D_1 W_1,  D_l = diag(phi'(a_l))
 *   J(x)   = ds/dx (K,D) = (diag(s) - s s^T) J_f(x)
 * The norms are Frobenius norms; J_y is the row of J for the true class y.
 * Derivatives at a kink follow act.h (0: the flat piece). */
#ifndef SENSI_JACOBIAN_H
#define SENSI_JACOBIAN_H

#include <stdint.h>

#include "../core/err.h"
#include "../core/rng.h"
#include "../nn/mlp.h"

typedef struct jac_point {
    double jac_softmax;  /* ||J(x)||_F */
    double jac_logit;    /* ||J_f(x)||_F */
    double jac_y;        /* ||J_y(x)||_2, true-class row of J (NAN if no label) */
    double loss;         /* cross-entropy -log s_y (NAN if no label) */
    int pred;            /* argmax of the logits */
    /* label-free confidence of the same point (the baselines beside the
     * Jacobian): max softmax probability, softmax entropy (nats) and the
     * logit margin (largest minus second largest logit); NAN if a logit is
     * not finite */
    double pmax, entropy, margin;
} jac_point;

/* Exact norms for n points x (N,D) with labels y (N, may be NULL), computed
 * in batches through BLAS (K backward seeds per point). out (N) is filled.
 * Runs blas_get_threads() worker threads with single-threaded GEMMs (the
 * process-wide BLAS thread count is 1 during the call, restored after), so
 * do not call it while another thread of the process uses BLAS.
 * A non-finite network gives NaN norms, not an error. Errors: SN_ENOMEM. */
int jac_norms(const mlp *m, const float *x, const uint8_t *y, int n, jac_point *out, sn_err *e);

/* jac_norms with a progress hook: done_fn (may be NULL) is called after each
 * chunk of points with the number of points finished so far and n, from the
 * worker threads but never two at a time. */
int jac_norms_progress(const mlp *m, const float *x, const uint8_t *y, int n, jac_point *out,
                       void (*done_fn)(void *ctx, int done, int n), void *ctx, sn_err *e);

/* Unbiased random-projection estimate of ||J(x)||_F^2 for one point:
 * *est_sq = mean over n_proj Gaussian v ~ N(0, I_K) of ||v^T J||^2 and
 * *stderr_sq = the standard error of that mean (sample standard deviation /
 * sqrt(n_proj); NaN if n_proj == 1). For very wide outputs (CIFAR-100) where
 * K seeds per point are too many. The v are drawn from r, K per projection.
 * Errors: SN_EARG (n_proj < 1), SN_ENOMEM. */
int jac_norm_projected(const mlp *m, const float *x, int n_proj, rng *r, double *est_sq,
                       double *stderr_sq, sn_err *e);

/* jac_norm_projected for n points x (N,D) at once (the projections of several
 * points batched as rows of one backward pass); est_sq, stderr_sq (N). Draws
 * from r point by point in order, so it equals n calls of jac_norm_projected. */
int jac_norms_projected(const mlp *m, const float *x, int n, int n_proj, rng *r,
                        double *est_sq, double *stderr_sq, sn_err *e);

/* Cross-entropy bounds of STUDY.md 4.6 for K classes, loss l = -log s_y and
 * M = mean over points of ||J_f||_F^2 / K:
 *   lower  = sqrt(K M / (K-1)) e^-l (1 - e^-l)
 *   upper  = sqrt(2 M) e^-l (1 - e^-l)
 *   maxent = sqrt(M)/(K-1) (1 - e^-l) sqrt(K^2 e^-2l + K - 2)
 * (bounds on ||J_y||, the approximation of ||J||_F). */
void jac_xent_bounds(double M, int K, double loss, double *lower, double *upper,
                     double *maxent);

#endif
