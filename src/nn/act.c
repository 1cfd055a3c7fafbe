/* act.c: activations, their derivatives, kinks and pieces.
 * Vector versions are plain loops the compiler vectorises; the float64
 * scalar versions exist for references (gradient checks) and the exact
 * transition walk. The hot loops are compiled twice (AVX2 and baseline x86-64,
 * picked at load time) so one binary runs everywhere and fast where it can. No lookup tables, no approximations: tanh is libm's. */
#include "act.h"

#include <math.h>
#include <string.h>

static const char *const NAMES[ACT_COUNT] = {"relu", "relu6", "hardtanh", "hardsigmoid", "tanh"};

int act_parse(const char *name, act_kind *out, sn_err *e)
{
    for (int i = 0; i < ACT_COUNT; i++)
        if (name && strcmp(name, NAMES[i]) == 0) {
            *out = (act_kind)i;
            return SN_OK;
        }
    return err_set(e, SN_EARG,
                   "unknown activation '%s' (expected relu, relu6, hardtanh, hardsigmoid "
                   "or tanh)",
                   name ? name : "(null)");
}

const char *act_name(act_kind a) { return (unsigned)a < ACT_COUNT ? NAMES[a] : "?"; }

double act_default_sigma_w2(act_kind a) { return (a == ACT_RELU || a == ACT_RELU6) ? 2.0 : 1.0; }

__attribute__((target_clones("avx2", "default")))
void act_forward(act_kind k, const float *restrict a, float *restrict h, size_t n)
{
    switch (k) {
    case ACT_RELU:
        for (size_t i = 0; i < n; i++)
            h[i] = a[i] > 0.0f ? a[i] : 0.0f;
        break;
    case ACT_RELU6:
        for (size_t i = 0; i < n; i++) {
            float v = a[i] > 0.0f ? a[i] : 0.0f;
            h[i] = v < 6.0f ? v : 6.0f;
        }
        break;
    case ACT_HARDTANH:
        for (size_t i = 0; i < n; i++) {
            float v = a[i] > -1.0f ? a[i] : -1.0f;
            h[i] = v < 1.0f ? v : 1.0f;
        }
        break;
    case ACT_HARDSIGMOID:
        for (size_t i = 0; i < n; i++) {
            float v = 0.2f * a[i] + 0.5f;
            v = v > 0.0f ? v : 0.0f;
            h[i] = v < 1.0f ? v : 1.0f;
        }
        break;
    case ACT_TANH:
        for (size_t i = 0; i < n; i++)
            h[i] = tanhf(a[i]);
        break;
    }
}

__attribute__((target_clones("avx2", "default")))
void act_backward(act_kind k, const float *a, const float *dh, float *da, size_t n)
{
    switch (k) {
    case ACT_RELU:
        for (size_t i = 0; i < n; i++)
            da[i] = a[i] > 0.0f ? dh[i] : 0.0f;
        break;
    case ACT_RELU6:
        for (size_t i = 0; i < n; i++)
            da[i] = (a[i] > 0.0f && a[i] < 6.0f) ? dh[i] : 0.0f;
        break;
    case ACT_HARDTANH:
        for (size_t i = 0; i < n; i++)
            da[i] = (a[i] > -1.0f && a[i] < 1.0f) ? dh[i] : 0.0f;
        break;
    case ACT_HARDSIGMOID:
        for (size_t i = 0; i < n; i++)
            da[i] = (a[i] > -2.5f && a[i] < 2.5f) ? 0.2f * dh[i] : 0.0f;
        break;
    case ACT_TANH:
        for (size_t i = 0; i < n; i++) {
            float t = tanhf(a[i]);
            da[i] = dh[i] * (1.0f - t * t);
        }
        break;
    }
}

double act_phi(act_kind k, double a)
{
    switch (k) {
    case ACT_RELU: return a > 0 ? a : 0;
    case ACT_RELU6: return a <= 0 ? 0 : (a < 6 ? a : 6);
    case ACT_HARDTANH: return a <= -1 ? -1 : (a < 1 ? a : 1);
    case ACT_HARDSIGMOID: {
        double v = 0.2 * a + 0.5;
        return v <= 0 ? 0 : (v < 1 ? v : 1);
    }
    case ACT_TANH: return tanh(a);
    }
    return NAN;
}

double act_dphi(act_kind k, double a)
{
    switch (k) {
    case ACT_RELU: return a > 0 ? 1 : 0;
    case ACT_RELU6: return (a > 0 && a < 6) ? 1 : 0;
    case ACT_HARDTANH: return (a > -1 && a < 1) ? 1 : 0;
    case ACT_HARDSIGMOID: return (a > -2.5 && a < 2.5) ? 0.2 : 0;
    case ACT_TANH: {
        double t = tanh(a);
        return 1 - t * t;
    }
    }
    return NAN;
}

int act_kinks(act_kind k, double kinks[2])
{
    switch (k) {
    case ACT_RELU: kinks[0] = 0; return 1;
    case ACT_RELU6: kinks[0] = 0; kinks[1] = 6; return 2;
    case ACT_HARDTANH: kinks[0] = -1; kinks[1] = 1; return 2;
    case ACT_HARDSIGMOID: kinks[0] = -2.5; kinks[1] = 2.5; return 2;
    case ACT_TANH: return 0;
    }
    return 0;
}

int act_piece(act_kind k, double a)
{
    double kn[2];
    int nk = act_kinks(k, kn), p = 0;
    for (int i = 0; i < nk; i++)
        p += a > kn[i];
    return p;
}
