/* transitions.h: activation-region transitions along closed trajectories
 * (the study's second metric, STUDY.md section 3).
 *
 * Code of a point: for every hidden neuron, the index of the linear piece its
 * pre-activation lies in (act_piece). Transitions of a closed curve: the sum
 * over consecutive positions of the number of neurons whose piece differs.
 *   sampled: k equally spaced u_i = i/k, loop closed (i = k-1 -> 0);
 *   exact:   every kink crossing along the curve (the limit of sampled as k
 *            grows), by walking region to region in float64.
 * Tanh has no pieces: with tanh_sign the code is the sign of the
 * pre-activation (a "kink" at 0); without it the functions return SN_EARG. */
#ifndef SENSI_TRANSITIONS_H
#define SENSI_TRANSITIONS_H

#include "../core/err.h"
#include "../nn/mlp.h"
#include "traj.h"

typedef struct trans_result {
    long transitions;   /* total piece changes around the loop */
    long regions;       /* distinct regions visited (exact: segments of the walk) */
    double curvature;   /* sum over crossings of ||J_f(after) - J_f(before)||_F (exact only) */
    long samples;       /* k (sampled) or number of crossings (exact) */
    long refined;       /* sampled: suspect neurons (float32 pre-activation near a kink)
                           whose code was re-decided in float64; exact: 0 */
} trans_result;

/* Profile callback: called for each region (exact) or each profile point
 * (sampled) with its position u, the softmax-Jacobian norm there, and the
 * number of transitions between it and the previous region/profile point.
 * Sampled: the profile points are the samples i*stride, stride =
 * ceil(k / profile_points) (every sample when k <= profile_points), so every
 * row has a finite Jacobian norm (jac_norms at the float32-rounded point);
 * a row's transitions are those of the sample pairs since the previous row;
 * a last row at u = 1 (the start point again, same norm) carries the pairs
 * after the last profile point and the closing pair. All calls come after
 * the count, from the calling thread. The transitions of all rows sum to the
 * total. May be NULL. */
typedef void (*trans_profile_fn)(void *ctx, double u, double jac_softmax, long transitions);

typedef struct trans_opts {
    int tanh_sign;      /* count sign changes for tanh */
    int block;          /* samples per forward batch (sampled; memory bound) */
    trans_profile_fn profile;
    void *profile_ctx;
    int curvature;      /* exact: 1 computes res->curvature (an O(L H^2) chain per
                           crossing); 0 leaves it NAN. A profile turns it on. */
    int profile_points; /* sampled: at most this many profile rows (plus the closing
                           one) get a Jacobian norm; 0: 4096 */
} trans_opts;

/* Sampled count at k >= 2 equally spaced points (header of transitions.c):
 * runs blas_get_threads() worker threads with single-threaded GEMMs (the
 * process-wide BLAS thread count is 1 during the call, restored after), so do
 * not call it while another thread of the process uses BLAS. o may be NULL.
 * Errors: SN_EARG (k < 2, tanh without tanh_sign, profile_points < 0),
 * SN_ESHAPE (trajectory and network sizes differ), SN_ENOMEM. */
int trans_sampled(const mlp *m, const traj *t, long k, const trans_opts *o, trans_result *res,
                  sn_err *e);
int trans_exact(const mlp *m, const traj *t, const trans_opts *o, trans_result *res, sn_err *e);

/* Codes of n points x (N,D): codes (N, (L-1)*H) receives the piece index of
 * every hidden neuron, layer after layer, decided exactly as trans_sampled
 * does (float32 GEMMs, double recomputation of any point with a
 * pre-activation near a kink). tanh_sign as in trans_opts. Errors: SN_EARG
 * (tanh without tanh_sign), SN_ENOMEM. */
int trans_codes(const mlp *m, const float *x, int n, int tanh_sign, uint8_t *codes, sn_err *e);

#endif
