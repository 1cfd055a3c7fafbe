/* act.h: the five activations of the study, their derivatives, kinks and
 * linear pieces.
 *
 *   relu        max(0,a)                 kinks 0        pieces 2
 *   relu6       min(max(0,a),6)          kinks 0, 6     pieces 3
 *   hardtanh    clip(a,-1,1)             kinks -1, 1    pieces 3
 *   hardsigmoid clip(0.2a+0.5,0,1)       kinks -2.5,2.5 pieces 3
 *   tanh        tanh(a)                  none (smooth)
 *
 * Derivative convention at a kink: 0, i.e. the slope of the flat piece, as
 * PyTorch does (relu'(0) = 0, hardtanh'(+-1) = 0). Piece index of a: the
 * number of kinks strictly below a, so a point exactly on a kink belongs to
 * the lower piece. */
#ifndef SENSI_ACT_H
#define SENSI_ACT_H

#include <stddef.h>

#include "../core/err.h"

typedef enum { ACT_RELU, ACT_RELU6, ACT_HARDTANH, ACT_HARDSIGMOID, ACT_TANH } act_kind;

#define ACT_COUNT 5

/* Parse a name ("relu", "relu6", "hardtanh", "hardsigmoid", "tanh"). */
int act_parse(const char *name, act_kind *out, sn_err *e);
const char *act_name(act_kind a);

/* Default sigma_w^2 of the fan-in Gaussian init: 2 for relu/relu6, else 1. */
double act_default_sigma_w2(act_kind a);

/* h[i] = phi(a[i]) for i < n. */
void act_forward(act_kind k, const float *a, float *h, size_t n);

/* da[i] = dh[i] * phi'(a[i]) for i < n (da may alias dh). */
void act_backward(act_kind k, const float *a, const float *dh, float *da, size_t n);

/* Scalar float64 versions (for references and the exact walk). */
double act_phi(act_kind k, double a);
double act_dphi(act_kind k, double a);

/* Kinks of k written to kinks[0..], returns their number (0, 1 or 2). */
int act_kinks(act_kind k, double kinks[2]);

/* Piece index of a: the number of kinks strictly below a (0 for tanh). */
int act_piece(act_kind k, double a);

#endif
