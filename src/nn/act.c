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

static const char *const INIT_NAMES[2] = {"default", "gain-matched"};

int act_init_parse(const char *name, act_init *out, sn_err *e)
{
    for (int i = 0; i < 2; i++)
        if (name && strcmp(name, INIT_NAMES[i]) == 0) {
            *out = (act_init)i;
            return SN_OK;
        }
    return err_set(e, SN_EARG, "unknown init '%s' (expected default or gain-matched)",
                   name ? name : "(null)");
}

const char *act_init_name(act_init i) { return (unsigned)i < 2 ? INIT_NAMES[i] : "?"; }

/* ---- gain matching (mean-field length map, Poole et al. 2016) ----
 * E[f(h)], h ~ N(0, q), as the integral of f(sqrt(q) z) against the standard
 * normal density over |z| <= 10 (the rest is below 1e-22), cut at the kinks
 * (z = kink / sqrt(q)) so every piece is smooth, each piece in panels of
 * width <= 0.25 with 5-point Gauss-Legendre. q is clamped to [1e-14, 1e8]:
 * the limits q* -> 0 and q* -> infinity are evaluated there. Both roots
 * (the fixed point in log q, chi = 1 in log sigma_w^2) are bracketed, then
 * found by regula falsi with the Illinois modification (a dozen steps). */
#define GM_QMIN 1e-14
#define GM_QMAX 1e8

static double gauss_mean(act_kind k, int deriv, double q)
{
    static const double gx[5] = {-0.9061798459386640, -0.5384693101056831, 0.0,
                                 0.5384693101056831, 0.9061798459386640};
    static const double gw[5] = {0.2369268850561891, 0.4786286704993665, 0.5688888888888889,
                                 0.4786286704993665, 0.2369268850561891};
    const double Z = 10.0, sd = sqrt(q);
    double cut[4] = {-Z, 0, 0, 0}, kn[2];
    int nc = 1, nk = act_kinks(k, kn);
    for (int i = 0; i < nk; i++)
        if (fabs(kn[i] / sd) < Z)
            cut[nc++] = kn[i] / sd;
    cut[nc++] = Z;
    double sum = 0;
    for (int p = 0; p + 1 < nc; p++) {
        double a = cut[p], b = cut[p + 1];
        int np = (int)ceil((b - a) / 0.25);
        double hw = (b - a) / (np > 0 ? np : 1) / 2; /* half a panel */
        for (int j = 0; j < np; j++) {
            double mid = a + (2 * j + 1) * hw;
            for (int g = 0; g < 5; g++) {
                double z = mid + hw * gx[g], x = sd * z;
                double f = deriv ? act_dphi(k, x) : act_phi(k, x);
                sum += gw[g] * hw * f * f * exp(-0.5 * z * z);
            }
        }
    }
    return sum / sqrt(2 * M_PI);
}

typedef struct gm_ctx {
    act_kind k;
    double sw, sb;
} gm_ctx;

/* Root of f in [a, b] with f(a) = fa, f(b) = fb of opposite signs (or one 0). */
static double illinois(double (*f)(const gm_ctx *, double), const gm_ctx *c, double a,
                       double fa, double b, double fb)
{
    int side = 0;
    for (int it = 0; it < 200 && fabs(b - a) > 1e-13 * (1 + fabs(a)); it++) {
        double x = fa == fb ? 0.5 * (a + b) : (a * fb - b * fa) / (fb - fa), fx = f(c, x);
        if (fx == 0)
            return x;
        if ((fx > 0) == (fb > 0)) {
            b = x, fb = fx;
            if (side == -1)
                fa /= 2;
            side = -1;
        } else {
            a = x, fa = fx;
            if (side == 1)
                fb /= 2;
            side = 1;
        }
    }
    return 0.5 * (a + b);
}

/* The length map's excess at q = e^t: sw E[phi^2] + sb - q, relative to q. */
static double length_excess(const gm_ctx *c, double t)
{
    double q = exp(t);
    return (c->sw * gauss_mean(c->k, 0, q) + c->sb) / q - 1;
}

/* The largest fixed point of q -> sw E[phi^2] + sb (clamped as above). */
static double length_fixed_point(act_kind k, double sw, double sb)
{
    gm_ctx c = {k, sw, sb};
    double hi = log(GM_QMAX), ghi = length_excess(&c, hi);
    if (ghi > 0)
        return GM_QMAX; /* grows without bound */
    double lo = hi, glo = ghi;
    while (lo > log(GM_QMIN) && !(glo > 0)) {
        hi = lo, ghi = glo;
        lo -= log(10.0);
        glo = length_excess(&c, lo);
    }
    if (!(glo > 0))
        return GM_QMIN; /* decays to 0 */
    return exp(illinois(length_excess, &c, lo, glo, hi, ghi));
}

/* chi - 1 at sigma_w^2 = e^t. */
static double gain_excess(const gm_ctx *c, double t)
{
    double sw = exp(t);
    return sw * gauss_mean(c->k, 1, length_fixed_point(c->k, sw, c->sb)) - 1;
}

double act_gain_matched_sigma_w2(act_kind a, double sigma_b2)
{
    gm_ctx c = {a, 0, sigma_b2 > 0 ? sigma_b2 : 0};
    /* bracket from the default by doubling / halving */
    double x0 = log(act_default_sigma_w2(a)), f0 = gain_excess(&c, x0), x1 = x0, f1 = f0;
    double step = f0 < 0 ? log(2.0) : -log(2.0);
    while ((f1 < 0) == (f0 < 0) && f1 != 0) {
        x0 = x1, f0 = f1;
        x1 += step;
        if (x1 > log(1e6) || x1 < log(1e-3))
            return NAN;
        f1 = gain_excess(&c, x1);
    }
    return f1 == 0 ? exp(x1) : exp(illinois(gain_excess, &c, x0, f0, x1, f1));
}

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
