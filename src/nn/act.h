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

/* How sigma_w^2 is chosen when it is not given explicitly (config key
 * "init"): each activation's default (act_default_sigma_w2), or gain-matched
 * (act_gain_matched_sigma_w2). */
typedef enum { ACT_INIT_DEFAULT, ACT_INIT_GAIN_MATCHED } act_init;

/* Parse "default" / "gain-matched"; SN_EARG naming both otherwise. */
int act_init_parse(const char *name, act_init *out, sn_err *e);
const char *act_init_name(act_init i);

/* The sigma_w^2 at which a deep network of activation a has ReLU's forward
 * gain at ReLU's default init: with pre-activations h ~ N(0, q*) at the
 * fixed point q* of the length map
 *     q -> sigma_w^2 E[phi(h)^2] + sigma_b2,     h ~ N(0, q),
 * the mean squared derivative times the weight variance is one:
 *     chi = sigma_w^2 E[phi'(h)^2] = 1
 * (ReLU, sigma_w^2 = 2: 2 * 1/2 = 1 at every q). q* is the largest fixed
 * point (the one iterations from a large variance reach; q* -> 0 and
 * q* -> infinity are taken as limits, so ReLU gives 2 also when sigma_b2 > 0
 * and the variance grows without bound). sigma_b2 is the bias variance of the
 * init (0 for a network without biases). Expectations are float64 composite
 * Gauss-Legendre quadrature split at the kinks (exact to ~1e-13), chi = 1 is
 * solved by bisection in log sigma_w^2. Values with sigma_b2 = 0: relu 2,
 * relu6 2, hardtanh 1, tanh 1, hardsigmoid ~ 73 (its slope is 0.2).
 * Returns NAN if no sigma_w^2 in [1e-3, 1e6] reaches chi = 1. */
double act_gain_matched_sigma_w2(act_kind a, double sigma_b2);

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
