/* test_jacobian.c: src/sens/jacobian.c against float64 references.
 * - jac_norms (softmax, logit and true-class Jacobian norms, loss, argmax) vs
 *   central finite differences of an independent double-precision forward,
 *   for every activation, with and without biases, depths 1-4, skipping
 *   points where +-h moves any hidden neuron to another linear piece; the
 *   inputs are scaled so every piece of every activation is visited;
 * - the identity E||f_s(x+e) - f_s(x)||^2 ~= eps ||J||_F^2, e ~ N(0, eps I),
 *   by Monte Carlo with a tolerance from the sample standard error;
 * - the projected estimator: within 3 standard errors of the exact value,
 *   batched == one point at a time, more projections than one GEMM block;
 * - the cross-entropy bounds on a network with orthogonal equal-norm logit
 *   gradients (every point inside [lower, upper]; at max-entropy points the
 *   lower bound and the max-entropy approximation are exact);
 * - chunking: one point at a time == 2000 at once (several chunks), and a
 *   K = 700 network whose chunks hold at most 5 points;
 * - worker threads: 1, 2, 3 BLAS threads agree, a repeat is bitwise equal;
 * - no labels, non-finite parameters, empty input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>

#include "../src/core/blas.h"
#include "../src/sens/jac_summary.h"
#include "../src/sens/jacobian.h"
#include "testutil.h"

static void ref_softmax(const double *z, int K, double *s)
{
    double mx = z[0], sum = 0;
    for (int j = 1; j < K; j++)
        mx = z[j] > mx ? z[j] : mx;
    for (int j = 0; j < K; j++)
        sum += s[j] = exp(z[j] - mx);
    for (int j = 0; j < K; j++)
        s[j] /= sum;
}

typedef struct ref_point {
    double jac_softmax, jac_logit, jac_y, loss;
    int pred;
    double gap; /* top logit minus the runner-up */
    double pmax, entropy; /* max softmax and its entropy (nats), from s in double */
} ref_point;

/* Reference norms at x by central differences (step h) of the double forward.
 * Returns 0 (and fills r) if no hidden neuron changes piece under any +-h
 * step, else 1 (skipped). */
static int ref_point_fd(const mlp *m, const double *p, const float *xf, int y, ref_point *r)
{
    const double h = 1e-5;
    int D = m->cfg.d, K = m->cfg.k, nh = (m->cfg.depth - 1) * m->cfg.width + 1;
    double x[64], z[64], zp[64], zm[64], s[64], sp[64], sm[64];
    int pc[512], pp[512], pm[512];
    assert_true(nh <= 512);
    for (int j = 0; j < D; j++)
        x[j] = xf[j];
    memset(pc, 0, sizeof pc);
    ref_logits(m, p, x, z, pc);
    ref_softmax(z, K, s);
    double jl = 0, js = 0, jy = 0;
    for (int j = 0; j < D; j++) {
        double x0 = x[j];
        memset(pp, 0, sizeof pp);
        memset(pm, 0, sizeof pm);
        x[j] = x0 + h;
        ref_logits(m, p, x, zp, pp);
        x[j] = x0 - h;
        ref_logits(m, p, x, zm, pm);
        x[j] = x0;
        if (memcmp(pc, pp, sizeof(int) * nh) || memcmp(pc, pm, sizeof(int) * nh))
            return 1;
        ref_softmax(zp, K, sp);
        ref_softmax(zm, K, sm);
        for (int k = 0; k < K; k++) {
            double df = (zp[k] - zm[k]) / (2 * h), ds = (sp[k] - sm[k]) / (2 * h);
            jl += df * df;
            js += ds * ds;
            if (k == y)
                jy += ds * ds;
        }
    }
    r->jac_logit = sqrt(jl);
    r->jac_softmax = sqrt(js);
    r->jac_y = sqrt(jy);
    double mx = z[0], sum = 0;
    int arg = 0;
    for (int k = 1; k < K; k++)
        if (z[k] > mx)
            mx = z[k], arg = k;
    double second = -INFINITY;
    for (int k = 0; k < K; k++)
        if (k != arg && z[k] > second)
            second = z[k];
    for (int k = 0; k < K; k++)
        sum += exp(z[k] - mx);
    r->loss = log(sum) + mx - z[y];
    r->pred = arg;
    r->gap = mx - second;
    r->pmax = 0, r->entropy = 0;
    for (int k = 0; k < K; k++) {
        r->pmax = s[k] > r->pmax ? s[k] : r->pmax;
        r->entropy -= s[k] > 0 ? s[k] * log(s[k]) : 0;
    }
    return 0;
}

static void make_net(mlp *m, int d, int width, int k, int depth, act_kind act, int bias,
                     double sigma_w2, uint64_t seed)
{
    mlp_config c = {.d = d, .width = width, .k = k, .depth = depth, .act = act, .bias = bias,
                    .sigma_w2 = sigma_w2, .sigma_b2 = bias ? 0.3 : 0};
    sn_err e;
    assert_int_equal(mlp_init(m, &c, &e), SN_OK);
    rng r;
    rng_seed(&r, seed);
    mlp_init_params(m, &r);
}

static double *params_double(const mlp *m)
{
    double *p = malloc(sizeof(double) * m->n_params);
    for (size_t i = 0; i < m->n_params; i++)
        p[i] = m->params[i];
    return p;
}

/* x (n, d): Gaussian inputs times scale, labels uniform. */
static void make_points(int n, int d, int k, double scale, uint64_t seed, float *x, uint8_t *y)
{
    rng r;
    rng_seed(&r, seed);
    for (int i = 0; i < n * d; i++)
        x[i] = (float)(scale * rng_normal(&r));
    for (int i = 0; i < n; i++)
        y[i] = (uint8_t)rng_below(&r, (uint32_t)k);
}

/* |got - want| <= atol + rtol |want| */
static int close_to(double got, double want, double rtol, double atol)
{
    return fabs(got - want) <= atol + rtol * fabs(want);
}

/* Input scale per activation so that the hidden units visit every piece. */
static double act_scale(act_kind a)
{
    switch (a) {
    case ACT_RELU: return 1.0;
    case ACT_RELU6: return 6.0;
    case ACT_HARDTANH: return 1.5;
    case ACT_HARDSIGMOID: return 4.0;
    case ACT_TANH: return 1.5;
    }
    return 1.0;
}

static void check_fd_config(act_kind act, int bias, int depth, long piece_seen[3], int *checked,
                            int *skipped)
{
    const int n = 40, d = 6, width = 8, k = 5;
    const double rtol = 5e-5, atol = 1e-7;
    mlp m;
    make_net(&m, d, width, k, depth, act, bias, act_default_sigma_w2(act) * 1.5,
             1000 + 37 * act + 5 * bias + depth);
    float x[40 * 6];
    uint8_t y[40];
    make_points(n, d, k, act_scale(act), 77 + act * 11 + depth + bias, x, y);
    /* the last 4 points moved onto a kink of first-layer unit 0 (they must be
     * skipped: the finite differences straddle two pieces) */
    double kinks[2];
    int nk = depth > 1 ? act_kinks(act, kinks) : 0;
    for (int i = n - 4; nk && i < n; i++) {
        const float *w0 = mlp_w(&m, m.params, 0); /* row 0 of W_0 (width, d) */
        double a = bias ? mlp_b(&m, m.params, 0)[0] : 0, ww = 0;
        for (int j = 0; j < d; j++)
            a += (double)w0[j] * x[i * d + j], ww += (double)w0[j] * w0[j];
        double t = (kinks[i % nk] - a) / ww;
        for (int j = 0; j < d; j++)
            x[i * d + j] = (float)(x[i * d + j] + t * w0[j]);
    }
    jac_point out[40];
    sn_err e;
    assert_int_equal(jac_norms(&m, x, y, n, out, &e), SN_OK);
    double *p = params_double(&m);
    for (int i = 0; i < n; i++) {
        ref_point r = {0};
        if (ref_point_fd(&m, p, x + i * d, y[i], &r)) {
            (*skipped)++;
            continue;
        }
        (*checked)++;
        int pieces[512];
        double xd[6], z[8];
        for (int j = 0; j < d; j++)
            xd[j] = x[i * d + j];
        ref_logits(&m, p, xd, z, pieces);
        for (int u = 0; u < (depth - 1) * width; u++)
            piece_seen[pieces[u]]++;
        if (!close_to(out[i].jac_logit, r.jac_logit, rtol, atol) ||
            !close_to(out[i].jac_softmax, r.jac_softmax, rtol, atol) ||
            !close_to(out[i].jac_y, r.jac_y, rtol, atol) ||
            !close_to(out[i].loss, r.loss, 1e-5, 1e-6) ||
            !close_to(out[i].pmax, r.pmax, 1e-5, 1e-7) ||
            !close_to(out[i].entropy, r.entropy, 1e-5, 1e-6) ||
            !close_to(out[i].margin, r.gap, 1e-5, 1e-6) ||
            (r.gap > 1e-4 && out[i].pred != r.pred))
            fail_msg("%s bias %d depth %d point %d: got logit %.9g softmax %.9g y %.9g loss %.9g "
                     "pred %d, finite differences %.9g %.9g %.9g %.9g %d",
                     act_name(act), bias, depth, i, out[i].jac_logit, out[i].jac_softmax,
                     out[i].jac_y, out[i].loss, out[i].pred, r.jac_logit, r.jac_softmax, r.jac_y,
                     r.loss, r.pred);
    }
    free(p);
    mlp_free(&m);
}

static void test_finite_differences(void **state)
{
    (void)state;
    for (int a = 0; a < ACT_COUNT; a++) {
        long seen[3] = {0, 0, 0};
        int checked = 0, skipped = 0;
        for (int bias = 0; bias <= 1; bias++)
            for (int depth = 1; depth <= 4; depth++)
                check_fd_config((act_kind)a, bias, depth, seen, &checked, &skipped);
        printf("# %-11s: %d points checked, %d skipped near a kink; hidden units per piece "
               "%ld %ld %ld\n",
               act_name((act_kind)a), checked, skipped, seen[0], seen[1], seen[2]);
        assert_true(checked >= 8 * 40 * 3 / 4); /* most points are away from kinks */
        double kn[2];
        int pieces = act_kinks((act_kind)a, kn) + 1;
        if (pieces > 1) /* the points put on a kink were recognised */
            assert_true(skipped >= 6 * 4);
        if (pieces > 1) /* every linear piece was exercised */
            for (int q = 0; q < pieces; q++)
                assert_true(seen[q] >= 20);
    }
}

/* E||f_s(x+e) - f_s(x)||^2 / eps over e ~ N(0, eps I) equals ||J||_F^2 up to
 * O(sqrt(eps)) terms: Monte Carlo with S samples, tolerance 4 standard
 * errors plus 1e-3 relative for the higher-order terms. */
static void test_noise_identity(void **state)
{
    (void)state;
    const int S = 20000, d = 6, k = 5;
    const double eps = 1e-8;
    act_kind acts[3] = {ACT_TANH, ACT_RELU, ACT_HARDSIGMOID};
    for (int ai = 0; ai < 3; ai++) {
        mlp m;
        make_net(&m, d, 8, k, 3, acts[ai], 1, act_default_sigma_w2(acts[ai]), 500 + ai);
        double *p = params_double(&m);
        float x[4 * 6];
        uint8_t y[4];
        make_points(4, d, k, act_scale(acts[ai]), 900 + ai, x, y);
        jac_point out[4];
        sn_err e;
        assert_int_equal(jac_norms(&m, x, y, 4, out, &e), SN_OK);
        rng r;
        rng_seed(&r, 31 + ai);
        for (int i = 0; i < 4; i++) {
            double x0[6], xe[6], z[8], s0[8], se[8];
            for (int j = 0; j < d; j++)
                x0[j] = x[i * d + j];
            ref_logits(&m, p, x0, z, NULL);
            ref_softmax(z, k, s0);
            double sum = 0, sum2 = 0;
            for (int t = 0; t < S; t++) {
                for (int j = 0; j < d; j++)
                    xe[j] = x0[j] + sqrt(eps) * rng_normal(&r);
                ref_logits(&m, p, xe, z, NULL);
                ref_softmax(z, k, se);
                double q = 0;
                for (int c = 0; c < k; c++)
                    q += (se[c] - s0[c]) * (se[c] - s0[c]);
                q /= eps;
                sum += q;
                sum2 += q * q;
            }
            double mean = sum / S, sd = sqrt((sum2 - S * mean * mean) / (S - 1));
            double want = out[i].jac_softmax * out[i].jac_softmax, se_m = sd / sqrt(S);
            printf("# %s point %d: E||ds||^2/eps = %.6g +- %.2g, ||J||^2 = %.6g\n",
                   act_name(acts[ai]), i, mean, se_m, want);
            if (fabs(mean - want) > 4 * se_m + 1e-3 * want)
                fail_msg("%s point %d: E||ds||^2/eps = %.6g +- %.2g, ||J||^2 = %.6g",
                         act_name(acts[ai]), i, mean, se_m, want);
        }
        free(p);
        mlp_free(&m);
    }
}

static void test_projected(void **state)
{
    (void)state;
    const int d = 6, k = 5, np = 2 * 4096 + 1000; /* spans three backward blocks */
    mlp m;
    make_net(&m, d, 8, k, 3, ACT_RELU, 1, 2.0, 71);
    float x[5 * 6];
    uint8_t y[5];
    make_points(5, d, k, 1.0, 72, x, y);
    jac_point out[5];
    sn_err e;
    assert_int_equal(jac_norms(&m, x, y, 5, out, &e), SN_OK);
    rng r;
    rng_seed(&r, 73);
    for (int i = 0; i < 5; i++) {
        double est, se;
        assert_int_equal(jac_norm_projected(&m, x + i * d, np, &r, &est, &se, &e), SN_OK);
        double want = out[i].jac_softmax * out[i].jac_softmax;
        printf("# projected point %d: %.6g +- %.2g (exact %.6g)\n", i, est, se, want);
        assert_true(se > 0 && se < 0.1 * want);
        if (fabs(est - want) > 3 * se)
            fail_msg("point %d: projected %.6g +- %.3g, exact %.6g", i, est, se, want);
    }
    /* batched over points == one point at a time (same draws in the same order) */
    double est[5], se[5], est1, se1;
    rng_seed(&r, 74);
    assert_int_equal(jac_norms_projected(&m, x, 5, 300, &r, est, se, &e), SN_OK);
    rng_seed(&r, 74);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(jac_norm_projected(&m, x + i * d, 300, &r, &est1, &se1, &e), SN_OK);
        assert_true(close_to(est[i], est1, 1e-6, 0) && close_to(se[i], se1, 1e-6, 0));
    }
    /* one projection: no standard error; zero projections: an error */
    assert_int_equal(jac_norm_projected(&m, x, 1, &r, &est1, &se1, &e), SN_OK);
    assert_true(isfinite(est1) && isnan(se1));
    assert_int_equal(jac_norm_projected(&m, x, 0, &r, &est1, &se1, &e), SN_EARG);
    mlp_free(&m);
}

/* Depth 1, W (K,D) = c Q with orthonormal rows: J_f = W everywhere, every
 * logit gradient has norm c and they are orthogonal, M = c^2. */
static void test_xent_bounds(void **state)
{
    (void)state;
    const int d = 8, k = 5, n = 200;
    const double c = 1.7;
    mlp m;
    make_net(&m, d, 1, k, 1, ACT_RELU, 1, 1.0, 81);
    float *W = mlp_w(&m, m.params, 0); /* W (K,D) */
    double q[5][8];
    rng r;
    rng_seed(&r, 82);
    for (int a = 0; a < k; a++) { /* Gram-Schmidt on random rows */
        for (int j = 0; j < d; j++)
            q[a][j] = rng_normal(&r);
        for (int b = 0; b < a; b++) {
            double dot = 0;
            for (int j = 0; j < d; j++)
                dot += q[a][j] * q[b][j];
            for (int j = 0; j < d; j++)
                q[a][j] -= dot * q[b][j];
        }
        double nn = 0;
        for (int j = 0; j < d; j++)
            nn += q[a][j] * q[a][j];
        for (int j = 0; j < d; j++)
            q[a][j] /= sqrt(nn);
        for (int j = 0; j < d; j++)
            W[a * d + j] = (float)(c * q[a][j]);
    }
    float *x = malloc(sizeof(float) * n * d);
    uint8_t *y = malloc(n);
    make_points(n, d, k, 1.5, 83, x, y);
    /* the last 20 points: max-entropy configuration, logits c t e_y - b (bias
     * set to 0 for them below): x = t q_y */
    jac_point *out = malloc(sizeof(jac_point) * n);
    sn_err e;
    assert_int_equal(jac_norms(&m, x, y, n, out, &e), SN_OK);
    double M = 0;
    for (int i = 0; i < n; i++)
        M += out[i].jac_logit * out[i].jac_logit / k;
    M /= n;
    assert_true(close_to(M, c * c, 1e-5, 0));
    int inside = 0;
    for (int i = 0; i < n; i++) {
        double lo, up, me;
        jac_xent_bounds(M, k, out[i].loss, &lo, &up, &me);
        assert_true(lo <= up);
        if (out[i].jac_y >= lo * (1 - 1e-5) && out[i].jac_y <= up * (1 + 1e-5))
            inside++;
        else
            fail_msg("point %d: ||J_y|| %.9g outside [%.9g, %.9g] (loss %.4g)", i, out[i].jac_y,
                     lo, up, out[i].loss);
    }
    assert_int_equal(inside, n);
    /* max-entropy points (all wrong classes equally likely; no bias): the
     * lower bound is attained and the approximation is exact */
    memset(mlp_b(&m, m.params, 0), 0, sizeof(float) * k);
    for (int i = 0; i < 20; i++) {
        int yy = i % k;
        double t = -2.0 + 0.25 * i;
        for (int j = 0; j < d; j++)
            x[i * d + j] = (float)(t * W[yy * d + j] / c);
        y[i] = (uint8_t)yy;
    }
    assert_int_equal(jac_norms(&m, x, y, 20, out, &e), SN_OK);
    for (int i = 0; i < 20; i++) {
        double lo, up, me;
        jac_xent_bounds(c * c, k, out[i].loss, &lo, &up, &me);
        if (!close_to(out[i].jac_y, lo, 1e-5, 1e-9) ||
            !close_to(out[i].jac_softmax, me, 1e-5, 1e-9))
            fail_msg("max-entropy point %d: ||J_y|| %.9g vs lower %.9g, ||J|| %.9g vs maxent %.9g",
                     i, out[i].jac_y, lo, out[i].jac_softmax, me);
    }
    /* the formulas themselves at one hand-computed value: K = 10, M = 2,
     * l = log 2 (s_y = 1/2): f = 1/4 */
    double lo, up, me;
    jac_xent_bounds(2.0, 10, log(2.0), &lo, &up, &me);
    assert_true(close_to(lo, sqrt(20.0 / 9) / 4, 1e-12, 0));
    assert_true(close_to(up, 0.5, 1e-12, 0));
    assert_true(close_to(me, sqrt(2.0) / 9 * 0.5 * sqrt(25.0 + 8), 1e-12, 0));
    jac_xent_bounds(2.0, 1, 0.1, &lo, &up, &me);
    assert_true(isnan(lo) && isnan(up) && isnan(me));
    free(x);
    free(y);
    free(out);
    mlp_free(&m);
}

/* Batched and single-point GEMMs may round differently (float32, ~1e-7 of
 * the logit Jacobian's scale); the softmax norms can be much smaller than that
 * scale through cancellation, so their tolerance is absolute in that scale. */
static void same_point(const jac_point *a, const jac_point *b, const char *what, int i)
{
    double scale = 1e-6 * b->jac_logit;
    if (!close_to(a->jac_softmax, b->jac_softmax, 1e-6, scale) ||
        !close_to(a->jac_logit, b->jac_logit, 1e-6, 0) ||
        !close_to(a->jac_y, b->jac_y, 1e-6, scale) || !close_to(a->loss, b->loss, 1e-6, 1e-9) ||
        a->pred != b->pred)
        fail_msg("%s point %d: %.9g %.9g %.9g %.9g %d vs alone %.9g %.9g %.9g %.9g %d", what, i,
                 a->jac_softmax, a->jac_logit, a->jac_y, a->loss, a->pred, b->jac_softmax,
                 b->jac_logit, b->jac_y, b->loss, b->pred);
}

static void test_chunks(void **state)
{
    (void)state;
    sn_err e;
    /* K = 5: at most 819 points per chunk, 2000 points = 3 or more chunks */
    {
        const int n = 2000, d = 6, k = 5;
        mlp m;
        make_net(&m, d, 8, k, 4, ACT_HARDTANH, 1, 1.0, 91);
        float *x = malloc(sizeof(float) * n * d);
        uint8_t *y = malloc(n);
        make_points(n, d, k, 1.5, 92, x, y);
        jac_point *all = malloc(sizeof(jac_point) * n), one;
        jac_point *b300 = malloc(sizeof(jac_point) * 300);
        assert_int_equal(jac_norms(&m, x, y, n, all, &e), SN_OK);
        assert_int_equal(jac_norms(&m, x + 700 * d, y + 700, 300, b300, &e), SN_OK);
        for (int i = 0; i < n; i++) {
            assert_int_equal(jac_norms(&m, x + (size_t)i * d, y + i, 1, &one, &e), SN_OK);
            same_point(all + i, &one, "N=2000", i);
            if (i >= 700 && i < 1000)
                same_point(b300 + i - 700, &one, "N=300", i);
        }
        free(x), free(y), free(all), free(b300);
        mlp_free(&m);
    }
    /* K = 700: at most 5 points per chunk, 13 points = 3 or more chunks, the last partial */
    {
        const int n = 13, d = 20, k = 700;
        mlp m;
        make_net(&m, d, 30, k, 3, ACT_TANH, 0, 1.0, 93);
        float x[13 * 20];
        uint8_t y[13];
        make_points(n, d, 10, 1.0, 94, x, y);
        jac_point all[13], one;
        assert_int_equal(jac_norms(&m, x, y, n, all, &e), SN_OK);
        for (int i = 0; i < n; i++) {
            assert_int_equal(jac_norms(&m, x + i * d, y + i, 1, &one, &e), SN_OK);
            same_point(all + i, &one, "K=700", i);
            assert_true(all[i].jac_softmax > 0 && all[i].jac_softmax < all[i].jac_logit);
        }
        mlp_free(&m);
    }
}

/* Worker threads: 1, 2 and 3 BLAS threads agree up to rounding; the same
 * thread count gives bitwise identical results. */
static void test_threads(void **state)
{
    (void)state;
    const int n = 1001, d = 6, k = 5;
    sn_err e;
    mlp m;
    make_net(&m, d, 8, k, 3, ACT_TANH, 1, 1.0, 111);
    float *x = malloc(sizeof(float) * n * d);
    uint8_t *y = malloc(n);
    make_points(n, d, k, 1.5, 112, x, y);
    jac_point *a = malloc(sizeof(jac_point) * n), *b = malloc(sizeof(jac_point) * n);
    int t0 = blas_get_threads();
    blas_set_threads(1);
    assert_int_equal(jac_norms(&m, x, y, n, a, &e), SN_OK);
    for (int t = 2; t <= 3; t++) {
        blas_set_threads(t);
        assert_int_equal(jac_norms(&m, x, y, n, b, &e), SN_OK);
        assert_int_equal(blas_get_threads(), t); /* restored */
        for (int i = 0; i < n; i++)
            same_point(b + i, a + i, "threads", i);
        jac_point *c = malloc(sizeof(jac_point) * n);
        assert_int_equal(jac_norms(&m, x, y, n, c, &e), SN_OK);
        for (int i = 0; i < n; i++) /* field by field: the struct has padding */
            assert_true(memcmp(&b[i].jac_softmax, &c[i].jac_softmax, sizeof(double)) == 0 &&
                        memcmp(&b[i].jac_logit, &c[i].jac_logit, sizeof(double)) == 0 &&
                        memcmp(&b[i].jac_y, &c[i].jac_y, sizeof(double)) == 0 &&
                        memcmp(&b[i].loss, &c[i].loss, sizeof(double)) == 0 &&
                        b[i].pred == c[i].pred);
        free(c);
    }
    blas_set_threads(t0);
    free(x), free(y), free(a), free(b);
    mlp_free(&m);
}

static int g_calls, g_last;
static void count_progress(void *ctx, int done, int n)
{
    (void)ctx;
    assert_true(done > g_last && done <= n);
    g_calls++;
    g_last = done;
}

static void test_edge_cases(void **state)
{
    (void)state;
    sn_err e;
    mlp m;
    make_net(&m, 6, 8, 5, 3, ACT_RELU6, 0, 2.0, 101);
    float x[3 * 6];
    uint8_t y[3];
    make_points(3, 6, 5, 1.0, 102, x, y);
    jac_point out[3], lab[3];
    /* no labels: jac_y and loss are NaN, the rest as with labels */
    assert_int_equal(jac_norms(&m, x, y, 3, lab, &e), SN_OK);
    assert_int_equal(jac_norms(&m, x, NULL, 3, out, &e), SN_OK);
    for (int i = 0; i < 3; i++) {
        assert_true(isnan(out[i].jac_y) && isnan(out[i].loss));
        assert_true(out[i].jac_softmax == lab[i].jac_softmax && out[i].pred == lab[i].pred);
    }
    /* progress hook: called per chunk (one per worker here at most), last with n */
    g_calls = g_last = 0;
    assert_int_equal(jac_norms_progress(&m, x, y, 3, out, count_progress, NULL, &e), SN_OK);
    assert_true(g_calls >= 1 && g_calls <= 3 && g_last == 3);
    /* empty input is fine */
    assert_int_equal(jac_norms(&m, x, y, 0, out, &e), SN_OK);
    /* a diverged network gives NaN, not a crash */
    m.params[m.w_off[2] + 3] = NAN; /* a last-layer weight: NaN logits */
    assert_int_equal(jac_norms(&m, x, y, 3, out, &e), SN_OK);
    for (int i = 0; i < 3; i++)
        assert_true(isnan(out[i].jac_softmax) && isnan(out[i].loss));
    double est, se;
    rng r;
    rng_seed(&r, 1);
    assert_int_equal(jac_norm_projected(&m, x, 10, &r, &est, &se, &e), SN_OK);
    assert_true(isnan(est));
    mlp_free(&m);
}

/* AUC against a brute-force count over all (positive, negative) pairs, ties
 * included; median/mean/stderr against hand values; jac_summarize's bounds
 * and accuracy against direct evaluation. */
static void test_summary_stats(void **state)
{
    (void)state;
    rng r;
    rng_seed(&r, 11);
    enum { N = 300 };
    double sc[N];
    uint8_t pos[N];
    for (int i = 0; i < N; i++) {
        sc[i] = (double)(rng_u64(&r) % 40); /* many ties */
        pos[i] = (uint8_t)(rng_u64(&r) % 3 == 0);
    }
    double num = 0, den = 0;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++)
            if (pos[i] && !pos[j]) {
                den++;
                num += sc[i] > sc[j] ? 1 : sc[i] == sc[j] ? 0.5 : 0;
            }
    assert_true(fabs(stats_auc(sc, pos, N) - num / den) < 1e-12);
    sc[5] = NAN; /* NaN scores are left out */
    assert_false(isnan(stats_auc(sc, pos, N)));
    uint8_t none[4] = {0, 0, 0, 0};
    assert_true(isnan(stats_auc(sc, none, 4)));
    double v[5] = {3, 1, 4, 1, 5}, mean, med, se;
    sn_err e = {0};
    assert_int_equal(stats_mean_median_se(v, 5, &mean, &med, &se, &e), SN_OK);
    assert_true(fabs(mean - 2.8) < 1e-12 && med == 3);
    assert_true(fabs(se - sqrt(3.2 / 5)) < 1e-12); /* sample var 3.2 */
    assert_int_equal(stats_mean_median_se(v, 4, &mean, &med, &se, &e), SN_OK);
    assert_true(med == 2); /* (1 + 3) / 2 */
    jac_point pt[4] = {{.jac_softmax = 1, .jac_logit = 2, .jac_y = 0.1, .loss = 0.5, .pred = 0,
                        .pmax = 0.9, .entropy = 0.2, .margin = 3},
                       {.jac_softmax = 3, .jac_logit = 4, .jac_y = 1e9, .loss = 0.7, .pred = 2,
                        .pmax = 0.5, .entropy = 0.9, .margin = 1},
                       {.jac_softmax = 2, .jac_logit = 1, .jac_y = 0.05, .loss = 1.5, .pred = 1,
                        .pmax = 0.4, .entropy = 1.0, .margin = 3},
                       {.jac_softmax = 4, .jac_logit = 3, .jac_y = 0, .loss = 2.0, .pred = 0,
                        .pmax = 0.7, .entropy = 0.6, .margin = 2}};
    uint8_t y[4] = {0, 1, 1, 1};
    jac_summary s;
    assert_int_equal(jac_summarize(pt, y, 4, 3, &s, &e), SN_OK);
    assert_true(fabs(s.accuracy - 0.5) < 1e-12);
    assert_true(fabs(s.mean_loss - 1.175) < 1e-12);
    assert_true(fabs(s.M - (4 + 16 + 1 + 9) / 3.0 / 4) < 1e-12);
    assert_true(fabs(s.auc - 1.0) < 1e-12); /* wrong: scores {3,4} > right: {1,2} */
    /* top decile of 4 points = the 1 largest ||J|| (point 3, wrong) */
    assert_true(s.top_decile_err == 1.0);
    assert_true(fabs(s.pmax_mean - 0.625) < 1e-12);
    assert_true(fabs(s.entropy_mean - 0.675) < 1e-12);
    assert_true(fabs(s.margin_mean - 2.25) < 1e-12);
    /* wrong = points 1, 3. -pmax: wrong {-0.5, -0.7} vs right {-0.9, -0.4}: pairs
     * (-0.5 > -0.9) (-0.5 < -0.4) (-0.7 > -0.9) (-0.7 < -0.4) -> 2/4 */
    assert_true(fabs(s.auc_pmax - 0.5) < 1e-12);
    /* entropy: wrong {0.9, 0.6} vs right {0.2, 1.0}: 0.9>0.2, 0.9<1, 0.6>0.2, 0.6<1 -> 0.5 */
    assert_true(fabs(s.auc_entropy - 0.5) < 1e-12);
    /* -margin: wrong {-1, -2} vs right {-3, -3}: all four wrong > right -> 1 */
    assert_true(fabs(s.auc_margin - 1.0) < 1e-12);
    /* ties at the top-decile cut share it: 20 points, 2 places, 4 tied at the
     * top of which 1 is wrong -> rate 1/4 whatever the order */
    jac_point tp[20];
    uint8_t ty[20];
    for (int i = 0; i < 20; i++) {
        tp[i] = (jac_point){.jac_softmax = i < 4 ? 100 : i, .jac_logit = 1, .loss = 1,
                            .pred = i == 2 ? 1 : 0, .pmax = 0.5, .entropy = 1, .margin = 1};
        ty[i] = 0;
    }
    assert_int_equal(jac_summarize(tp, ty, 20, 3, &s, &e), SN_OK);
    assert_true(fabs(s.top_decile_err - 0.25) < 1e-12);
    int within = 0;
    for (int i = 0; i < 4; i++) {
        double lo, hi, me;
        jac_xent_bounds(s.M, 3, pt[i].loss, &lo, &hi, &me);
        within += pt[i].jac_y >= lo && pt[i].jac_y <= hi;
    }
    assert_true(fabs(s.within_bounds - within / 4.0) < 1e-12);
    assert_int_equal(jac_summarize(pt, y, 0, 3, &s, &e), SN_EARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_summary_stats),
        cmocka_unit_test(test_finite_differences),
        cmocka_unit_test(test_noise_identity),
        cmocka_unit_test(test_projected),
        cmocka_unit_test(test_xent_bounds),
        cmocka_unit_test(test_chunks),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_edge_cases),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
