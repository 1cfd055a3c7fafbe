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
} trans_result;

/* Profile callback: called for each sample (sampled) or each region (exact)
 * with its position u, the softmax-Jacobian norm there, and the number of
 * transitions between it and the previous sample/region. May be NULL. */
typedef void (*trans_profile_fn)(void *ctx, double u, double jac_softmax, long transitions);

typedef struct trans_opts {
    int tanh_sign;      /* count sign changes for tanh */
    int block;          /* samples per forward batch (sampled; memory bound) */
    trans_profile_fn profile;
    void *profile_ctx;
    int curvature;      /* exact: 1 computes res->curvature (an O(L H^2) chain per
                           crossing); 0 leaves it NAN. A profile turns it on. */
} trans_opts;

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
