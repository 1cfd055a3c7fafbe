/* test_nn.c: the MLP, optimizers and training loop against float64 references.
 * - gradients of every activation, with and without biases, at depths 1-4,
 *   against central finite differences of an independent double-precision
 *   forward (testutil.h), skipping parameters whose +-h moves a neuron across
 *   a kink; a deliberately perturbed gradient must fail the same check;
 * - each optimizer's update against a step computed by hand;
 * - L-BFGS reaching the minimum of a convex problem (linear softmax model)
 *   found independently by long gradient descent in double;
 * - training: fit / diverged statuses, bitwise determinism;
 * - the gain-matched init variance against closed-form Gaussian moments,
 *   hand-derived values and (tanh) Monte Carlo. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>

#include "../src/core/blas.h"
#include "../src/nn/optim.h"
#include "../src/nn/train.h"
#include "testutil.h"

/* Returns the worst violation ratio |g - fd| / (atol + rtol |fd|) (<= 1 passes);
 * *checked counts parameters compared, *skipped those near a kink. */
static double gradcheck(const mlp *m, const float *x, const uint8_t *y, int n, const float *g,
                        int *checked, int *skipped)
{
    const double h = 1e-6, atol = 2e-5, rtol = 2e-3;
    size_t P = m->n_params;
    double *p = malloc(sizeof(double) * P);
    for (size_t i = 0; i < P; i++)
        p[i] = m->params[i];
    size_t nh = (size_t)n * (m->cfg.depth - 1) * m->cfg.width + 1;
    int *pp = calloc(nh, sizeof(int)), *pm = calloc(nh, sizeof(int));
    double worst = 0;
    *checked = *skipped = 0;
    for (size_t i = 0; i < P; i++) {
        double p0 = p[i];
        p[i] = p0 + h;
        double lp = ref_loss(m, p, x, y, n, pp);
        p[i] = p0 - h;
        double lm = ref_loss(m, p, x, y, n, pm);
        p[i] = p0;
        if (memcmp(pp, pm, sizeof(int) * nh) != 0) {
            (*skipped)++;
            continue;
        }
        double fd = (lp - lm) / (2 * h);
        double r = fabs(g[i] - fd) / (atol + rtol * fabs(fd));
        if (r > worst)
            worst = r;
        (*checked)++;
    }
    free(p);
    free(pp);
    free(pm);
    return worst;
}

static void check_grad_config(act_kind act, int bias, int depth, double xscale)
{
    int n = 7, d = 5, k = 4, width = 6;
    dataset ds;
    synth_dataset(&ds, n, d, k, 100 + depth * 10 + act, 0.5);
    for (int i = 0; i < n * d; i++)
        ds.x[i] = (float)(ds.x[i] * xscale);
    mlp_config c = {.d = d, .width = width, .k = k, .depth = depth, .act = act, .bias = bias,
                    .sigma_w2 = act_default_sigma_w2(act), .sigma_b2 = bias ? 0.1 : 0};
    mlp m;
    sn_err e;
    assert_int_equal(mlp_init(&m, &c, &e), SN_OK);
    rng r;
    rng_seed(&r, 7 + act);
    mlp_init_params(&m, &r);
    mlp_work w;
    assert_int_equal(mlp_work_init(&w, &m, n, &e), SN_OK);
    float *g = malloc(sizeof(float) * m.n_params);
    double loss = mlp_loss_grad(&m, &w, ds.x, ds.y, n, g, 1.0f, 0.0f, NULL);
    double *pd = malloc(sizeof(double) * m.n_params);
    for (size_t i = 0; i < m.n_params; i++)
        pd[i] = m.params[i];
    double ref = ref_loss(&m, pd, ds.x, ds.y, n, NULL);
    if (fabs(loss - ref) > 1e-5 * (1 + fabs(ref)))
        fail_msg("%s bias=%d depth=%d: loss %.9g vs float64 reference %.9g", act_name(act), bias,
                 depth, loss, ref);
    int checked, skipped;
    double worst = gradcheck(&m, ds.x, ds.y, n, g, &checked, &skipped);
    if (worst > 1.0 || checked < (int)m.n_params / 2)
        fail_msg("%s bias=%d depth=%d x%.0f: gradient violation ratio %.3g (checked %d, skipped "
                 "%d near kinks)",
                 act_name(act), bias, depth, xscale, worst, checked, skipped);
    /* The same check must catch a wrong gradient: perturb the largest entry by 1%. */
    size_t big = 0;
    for (size_t i = 0; i < m.n_params; i++)
        if (fabsf(g[i]) > fabsf(g[big]))
            big = i;
    g[big] *= 1.01f;
    double bad = gradcheck(&m, ds.x, ds.y, n, g, &checked, &skipped);
    if (bad <= 1.0)
        fail_msg("%s: a 1%% gradient error went unnoticed (ratio %.3g)", act_name(act), bad);
    /* beta accumulation: grad2 = 0.5 * grad + g_new with scale 2 gives 0.5 g + 2 g */
    float *g2 = malloc(sizeof(float) * m.n_params);
    mlp_loss_grad(&m, &w, ds.x, ds.y, n, g2, 1.0f, 0.0f, NULL);
    float *g3 = malloc(sizeof(float) * m.n_params);
    memcpy(g3, g2, sizeof(float) * m.n_params);
    mlp_loss_grad(&m, &w, ds.x, ds.y, n, g3, 2.0f, 0.5f, NULL);
    for (size_t i = 0; i < m.n_params; i++)
        assert_true(fabsf(g3[i] - 2.5f * g2[i]) <= 1e-6f + 1e-5f * fabsf(g2[i]));
    free(g);
    free(g2);
    free(g3);
    free(pd);
    mlp_work_free(&w);
    mlp_free(&m);
    dataset_free(&ds);
}

static void test_gradients(void **state)
{
    (void)state;
    for (int a = 0; a < ACT_COUNT; a++)
        for (int bias = 0; bias <= 1; bias++)
            for (int depth = 1; depth <= 4; depth++) {
                check_grad_config((act_kind)a, bias, depth, 1.0);
                check_grad_config((act_kind)a, bias, depth, 8.0); /* reach upper kinks */
            }
}

static void test_activations(void **state)
{
    (void)state;
    double k[2];
    assert_int_equal(act_kinks(ACT_RELU, k), 1);
    assert_true(k[0] == 0);
    assert_int_equal(act_kinks(ACT_RELU6, k), 2);
    assert_true(k[0] == 0 && k[1] == 6);
    assert_int_equal(act_kinks(ACT_HARDTANH, k), 2);
    assert_true(k[0] == -1 && k[1] == 1);
    assert_int_equal(act_kinks(ACT_HARDSIGMOID, k), 2);
    assert_true(k[0] == -2.5 && k[1] == 2.5);
    assert_int_equal(act_kinks(ACT_TANH, k), 0);
    /* pieces: a point on a kink belongs to the lower piece */
    assert_int_equal(act_piece(ACT_RELU, 0.0), 0);
    assert_int_equal(act_piece(ACT_RELU, 1e-12), 1);
    assert_int_equal(act_piece(ACT_RELU6, 6.0), 1);
    assert_int_equal(act_piece(ACT_RELU6, 6.5), 2);
    assert_int_equal(act_piece(ACT_HARDSIGMOID, -3), 0);
    assert_int_equal(act_piece(ACT_HARDSIGMOID, 0), 1);
    assert_int_equal(act_piece(ACT_HARDSIGMOID, 2.6), 2);
    /* values, including the continuity of every piecewise function at its kinks */
    assert_true(act_phi(ACT_HARDSIGMOID, -2.5) == 0.0 && act_phi(ACT_HARDSIGMOID, 2.5) == 1.0);
    assert_true(fabs(act_phi(ACT_HARDSIGMOID, 1.0) - 0.7) < 1e-15);
    assert_true(act_phi(ACT_RELU6, 7) == 6 && act_phi(ACT_HARDTANH, -3) == -1);
    /* float vector versions agree with the double scalars on a grid */
    float a[801], hv[801], dv[801], ones[801];
    for (int i = 0; i < 801; i++) {
        a[i] = (float)(-8.0 + 0.02 * i);
        ones[i] = 1.0f;
    }
    for (int t = 0; t < ACT_COUNT; t++) {
        act_forward((act_kind)t, a, hv, 801);
        act_backward((act_kind)t, a, ones, dv, 801);
        for (int i = 0; i < 801; i++) {
            assert_true(fabs(hv[i] - act_phi((act_kind)t, a[i])) < 1e-6);
            assert_true(fabs(dv[i] - act_dphi((act_kind)t, a[i])) < 1e-6);
        }
    }
    sn_err e;
    act_kind kk;
    assert_int_equal(act_parse("hardsigmoid", &kk, &e), SN_OK);
    assert_int_equal(kk, ACT_HARDSIGMOID);
    assert_int_equal(act_parse("sigmoid", &kk, &e), SN_EARG);
    assert_non_null(strstr(e.msg, "sigmoid"));
    assert_true(act_default_sigma_w2(ACT_RELU) == 2 && act_default_sigma_w2(ACT_TANH) == 1);
}

/* ---- gain-matched init: checked by other means than the code's quadrature ----
 * Closed forms of E[phi(h)^2] and E[phi'(h)^2], h ~ N(0, q), for the
 * piecewise-linear activations (Gaussian moments over intervals, erfc), the
 * fixed point by plain iteration of the length map; tanh by Monte Carlo. */
static double ncdf(double x) { return 0.5 * erfc(-x / sqrt(2.0)); }
static double npdf(double x) { return exp(-0.5 * x * x) / sqrt(2 * M_PI); }

static void closed_moments(act_kind a, double q, double *e2, double *d2)
{
    double sd = sqrt(q), c, in;
    *e2 = *d2 = NAN;
    switch (a) {
    case ACT_HARDTANH: /* clip(h, -1, 1) */
        c = 1 / sd, in = 2 * ncdf(c) - 1;
        *e2 = q * (in - 2 * c * npdf(c)) + 2 * (1 - ncdf(c));
        *d2 = in;
        break;
    case ACT_HARDSIGMOID: /* 0.2 h + 0.5 inside |h| < 2.5, 1 above, 0 below */
        c = 2.5 / sd, in = 2 * ncdf(c) - 1;
        *e2 = 0.04 * q * (in - 2 * c * npdf(c)) + 0.25 * in + (1 - ncdf(c));
        *d2 = 0.04 * in;
        break;
    case ACT_RELU6: /* h inside (0, 6), 6 above */
        c = 6 / sd, in = ncdf(c) - 0.5;
        *e2 = q * (in - c * npdf(c)) + 36 * (1 - ncdf(c));
        *d2 = in;
        break;
    default: fail();
    }
}

/* chi = sw E[phi'^2] at the fixed point reached by iterating from q = 1. */
static double closed_chi(act_kind a, double sw, double sb)
{
    double q = 1, e2, d2;
    for (int it = 0; it < 200000; it++) {
        closed_moments(a, q, &e2, &d2);
        double qn = sw * e2 + sb;
        if (fabs(qn - q) < 1e-14 * q) {
            q = qn;
            break;
        }
        q = qn;
    }
    closed_moments(a, q, &e2, &d2);
    assert_true(fabs(sw * e2 + sb - q) < 1e-10 * q); /* converged */
    return sw * d2;
}

static void test_gain_matched(void **state)
{
    (void)state;
    /* by hand: ReLU is critical at 2 for any bias variance (chi = sw / 2 at
     * every q); relu6, hardtanh and tanh without biases at their slope-1
     * limits q* -> 0 (2, 1, 1) */
    assert_true(fabs(act_gain_matched_sigma_w2(ACT_RELU, 0) - 2) < 1e-9);
    assert_true(fabs(act_gain_matched_sigma_w2(ACT_RELU, 0.3) - 2) < 1e-9);
    assert_true(fabs(act_gain_matched_sigma_w2(ACT_RELU6, 0) - 2) < 1e-9);
    assert_true(fabs(act_gain_matched_sigma_w2(ACT_HARDTANH, 0) - 1) < 1e-9);
    assert_true(fabs(act_gain_matched_sigma_w2(ACT_TANH, 0) - 1) < 1e-9);
    /* closed forms at the returned value; 1% off must be visible */
    struct { act_kind a; double sb; } cases[] = {
        {ACT_HARDSIGMOID, 0}, {ACT_HARDSIGMOID, 0.5}, {ACT_HARDTANH, 0.05},
        {ACT_HARDTANH, 0.5}, {ACT_RELU6, 0.5}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        double sw = act_gain_matched_sigma_w2(cases[i].a, cases[i].sb);
        double chi = closed_chi(cases[i].a, sw, cases[i].sb);
        print_message("measured: gain-matched sigma_w2 %s sigma_b2 %g: %.10g "
                      "(closed-form chi - 1 = %.1e)\n",
                      act_name(cases[i].a), cases[i].sb, sw, chi - 1);
        assert_true(fabs(chi - 1) < 1e-9);
        assert_true(closed_chi(cases[i].a, 0.99 * sw, cases[i].sb) < 1 - 1e-3);
    }
    double hs = act_gain_matched_sigma_w2(ACT_HARDSIGMOID, 0);
    assert_true(hs > 74.09 && hs < 74.10);
    /* tanh with biases by Monte Carlo (the same normals every iteration) */
    const int N = 200000;
    const double sb = 0.5, sw = act_gain_matched_sigma_w2(ACT_TANH, sb);
    double *z = malloc(sizeof(double) * N);
    rng r;
    rng_seed(&r, 3);
    for (int i = 0; i < N; i++)
        z[i] = rng_normal(&r);
    double q = 1, chi = 0;
    for (int it = 0; it < 100; it++) {
        double m2 = 0;
        for (int i = 0; i < N; i++) {
            double t = tanh(sqrt(q) * z[i]);
            m2 += t * t;
        }
        q = sw * m2 / N + sb;
    }
    for (int i = 0; i < N; i++) {
        double t = tanh(sqrt(q) * z[i]);
        chi += (1 - t * t) * (1 - t * t);
    }
    chi *= sw / N;
    print_message("measured: gain-matched sigma_w2 tanh sigma_b2 0.5: %.6g (Monte Carlo chi %.4f)\n",
                  sw, chi);
    assert_true(fabs(chi - 1) < 5e-3);
    free(z);
    /* names */
    act_init in;
    sn_err e = {0};
    assert_int_equal(act_init_parse("gain-matched", &in, &e), SN_OK);
    assert_int_equal(in, ACT_INIT_GAIN_MATCHED);
    assert_string_equal(act_init_name(ACT_INIT_DEFAULT), "default");
    assert_int_equal(act_init_parse("xavier", &in, &e), SN_EARG);
    assert_non_null(strstr(e.msg, "gain-matched"));
}

/* One update of each optimizer on w = (1, -2, 0.5) with g = (0.5, -1, 2). */
static void test_optimizer_steps(void **state)
{
    (void)state;
    const float g[3] = {0.5f, -1.0f, 2.0f};
    optim_config c;
    optim o;
    sn_err e;
    float w[3];
    /* sgd lr 0.1: w - 0.1 g */
    optim_defaults(&c, OPT_SGD);
    c.lr = 0.1;
    assert_int_equal(optim_init(&o, &c, 3, &e), SN_OK);
    w[0] = 1, w[1] = -2, w[2] = 0.5f;
    optim_step(&o, w, g);
    assert_float_equal(w[0], 0.95, 1e-7);
    assert_float_equal(w[1], -1.9, 1e-7);
    assert_float_equal(w[2], 0.3, 1e-7);
    optim_free(&o);
    /* momentum 0.9 lr 0.1, two steps with the same g: v1 = g, v2 = 1.9 g;
       w2 = w0 - 0.1 * 2.9 g */
    optim_defaults(&c, OPT_MOMENTUM);
    c.lr = 0.1;
    assert_int_equal(optim_init(&o, &c, 3, &e), SN_OK);
    w[0] = 1, w[1] = -2, w[2] = 0.5f;
    optim_step(&o, w, g);
    optim_step(&o, w, g);
    assert_float_equal(w[0], 1 - 0.29 * 0.5, 1e-6);
    assert_float_equal(w[1], -2 + 0.29, 1e-6);
    assert_float_equal(w[2], 0.5 - 0.58, 1e-6);
    /* the fused path: the GEMM accumulates g into the slab with beta = 1 */
    optim_free(&o);
    assert_int_equal(optim_init(&o, &c, 3, &e), SN_OK);
    w[0] = 1, w[1] = -2, w[2] = 0.5f;
    float beta;
    for (int s = 0; s < 3; s++) {
        float *tgt = optim_grad_target(&o, NULL, &beta);
        assert_ptr_equal(tgt, o.m);
        assert_float_equal(beta, 1.0, 0);
        for (int i = 0; i < 3; i++)
            tgt[i] = beta * tgt[i] + g[i]; /* what the GEMM does */
        optim_step(&o, w, tgt);
    }
    /* v1 = g, v2 = 1.9 g, v3 = 2.71 g: w3 = w0 - 0.1 (1 + 1.9 + 2.71) g */
    assert_float_equal(w[0], 1 - 0.1 * 5.61 * 0.5, 1e-6);
    assert_float_equal(w[1], -2 + 0.1 * 5.61, 1e-6);
    assert_float_equal(w[2], 0.5 - 0.1 * 5.61 * 2, 1e-6);
    optim_free(&o);
    /* adam lr 0.01, first step: m = 0.1 g, v = 0.001 g^2,
       lr_t = 0.01 sqrt(0.001)/0.1, update = lr_t m / (sqrt(v) + 1e-8) ~= 0.01 sign(g) */
    optim_defaults(&c, OPT_ADAM);
    c.lr = 0.01;
    assert_int_equal(optim_init(&o, &c, 3, &e), SN_OK);
    w[0] = 1, w[1] = -2, w[2] = 0.5f;
    optim_step(&o, w, g);
    for (int i = 0; i < 3; i++) {
        double m1 = 0.1 * g[i], v1 = 0.001 * g[i] * g[i];
        double lrt = 0.01 * sqrt(1 - 0.999) / (1 - 0.9);
        double expect = (i == 0 ? 1 : i == 1 ? -2 : 0.5) - lrt * m1 / (sqrt(v1) + 1e-8);
        assert_float_equal(w[i], expect, 1e-6);
    }
    assert_float_equal(w[0], 0.99, 1e-6); /* ~ lr * sign(g) */
    /* second step with the same g: m2 = 0.19 g, v2 = 0.001999 g^2, lr_t2 */
    optim_step(&o, w, g);
    {
        double m2 = 0.19 * 0.5, v2 = 0.001999 * 0.25;
        double lrt2 = 0.01 * sqrt(1 - 0.999 * 0.999) / (1 - 0.81);
        assert_float_equal(w[0], 0.99 - lrt2 * m2 / (sqrt(v2) + 1e-8), 1e-6);
    }
    optim_free(&o);
    /* rmsprop lr 0.01, TF 1.x: s starts at 1, s = 0.9 + 0.1 g^2, w -= lr g / sqrt(s + eps) */
    optim_defaults(&c, OPT_RMSPROP);
    c.lr = 0.01;
    assert_true(c.eps == 1e-10 && c.decay == 0.9);
    assert_int_equal(optim_init(&o, &c, 3, &e), SN_OK);
    w[0] = 1, w[1] = -2, w[2] = 0.5f;
    optim_step(&o, w, g);
    assert_float_equal(w[0], 1 - 0.01 * 0.5 / sqrt(0.9 + 0.025), 1e-6);
    assert_float_equal(w[1], -2 + 0.01 / sqrt(0.9 + 0.1), 1e-6);
    assert_float_equal(w[2], 0.5 - 0.01 * 2 / sqrt(0.9 + 0.4), 1e-6);
    optim_free(&o);
    /* bad configs are rejected with a message */
    optim_defaults(&c, OPT_SGD);
    c.lr = -1;
    assert_int_equal(optim_init(&o, &c, 3, &e), SN_EARG);
    assert_non_null(strstr(e.msg, "learning rate"));
    opt_kind k;
    assert_int_equal(optim_parse("adagrad", &k, &e), SN_EARG);
}

/* L-BFGS on a linear softmax model (depth 1: convex) reaches the minimum found
 * independently by 20000 steps of full-batch gradient descent in double. */
static void test_lbfgs_convex(void **state)
{
    (void)state;
    int n = 60, d = 4, k = 3;
    dataset ds;
    synth_dataset(&ds, n, d, k, 5, 1.0); /* overlapping classes: finite minimum */
    mlp_config c = {.d = d, .width = 1, .k = k, .depth = 1, .act = ACT_RELU, .bias = 1,
                    .sigma_w2 = 1};
    mlp m;
    sn_err e;
    assert_int_equal(mlp_init(&m, &c, &e), SN_OK);
    /* reference: gradient descent in double with analytic softmax gradients */
    size_t P = m.n_params;
    double *p = calloc(P, sizeof(double)), *gr = malloc(sizeof(double) * P);
    for (int it = 0; it < 20000; it++) {
        memset(gr, 0, sizeof(double) * P);
        for (int i = 0; i < n; i++) {
            double z[3], mx = -1e300, s = 0;
            for (int o = 0; o < k; o++) {
                z[o] = p[m.b_off[0] + o];
                for (int j = 0; j < d; j++)
                    z[o] += p[m.w_off[0] + o * d + j] * ds.x[i * d + j];
                mx = z[o] > mx ? z[o] : mx;
            }
            for (int o = 0; o < k; o++)
                s += exp(z[o] - mx);
            for (int o = 0; o < k; o++) {
                double dz = exp(z[o] - mx) / s - (o == ds.y[i]);
                for (int j = 0; j < d; j++)
                    gr[m.w_off[0] + o * d + j] += dz * ds.x[i * d + j] / n;
                gr[m.b_off[0] + o] += dz / n;
            }
        }
        for (size_t i = 0; i < P; i++)
            p[i] -= 0.5 * gr[i];
    }
    double gnorm = 0;
    for (size_t i = 0; i < P; i++)
        gnorm += gr[i] * gr[i];
    assert_true(sqrt(gnorm) < 1e-6); /* the reference did converge */
    double ref_min = ref_loss(&m, p, ds.x, ds.y, n, NULL);

    train_config tc;
    train_defaults(&tc);
    optim_defaults(&tc.opt, OPT_LBFGS);
    tc.steps = 500;
    tc.eval_every = 10;
    tc.early_stop = 0;
    train_result res;
    assert_int_equal(train_run(&m, &tc, &ds, NULL, &res, &e), SN_OK);
    double *pm = malloc(sizeof(double) * P);
    for (size_t i = 0; i < P; i++)
        pm[i] = m.params[i];
    double got = ref_loss(&m, pm, ds.x, ds.y, n, NULL);
    if (fabs(got - ref_min) > 1e-5)
        fail_msg("L-BFGS loss %.9f, minimum %.9f", got, ref_min);
    /* the bias of a softmax is defined up to a constant shift; compare weights */
    for (int i = 0; i < k * d; i++)
        if (fabs(pm[m.w_off[0] + i] - p[m.w_off[0] + i]) > 2e-3)
            fail_msg("weight %d: %.6f vs %.6f", i, pm[i], p[i]);
    assert_true(res.status == TRAIN_NOT_FIT || res.status == TRAIN_FIT);
    /* fit_step: -1 or a check at a multiple of eval_every (or the end) */
    assert_true(res.fit_step == -1 || (res.fit_step > 0 && res.fit_step <= res.steps &&
                                       (res.fit_step % 10 == 0 || res.fit_step == res.steps)));
    assert_true(res.status != TRAIN_FIT || res.fit_step > 0);
    free(p);
    free(gr);
    free(pm);
    mlp_free(&m);
    dataset_free(&ds);
}

static void train_synth(const train_config *tc, act_kind act, dataset *ds, mlp *m,
                        train_result *res)
{
    mlp_config c = {.d = ds->d, .width = 32, .k = ds->k, .depth = 3, .act = act,
                    .sigma_w2 = act_default_sigma_w2(act)};
    sn_err e;
    assert_int_equal(mlp_init(m, &c, &e), SN_OK);
    rng r;
    rng_seed(&r, rng_derive(tc->seed, 1));
    mlp_init_params(m, &r);
    assert_int_equal(train_run(m, tc, ds, NULL, res, &e), SN_OK);
}

static void test_training_status_and_determinism(void **state)
{
    (void)state;
    dataset ds;
    synth_dataset(&ds, 200, 20, 5, 11, 0.05);
    train_config tc;
    train_defaults(&tc);
    tc.opt.lr = 0.05;
    tc.batch = 32;
    tc.steps = 3000;
    tc.eval_every = 20;
    mlp a, b;
    train_result ra, rb;
    for (int o = 0; o < 4; o++) {
        optim_defaults(&tc.opt, (opt_kind)o);
        tc.opt.lr = o >= 2 ? 0.003 : 0.05;
        train_synth(&tc, ACT_RELU, &ds, &a, &ra);
        if (ra.status != TRAIN_FIT || ra.train_acc != 1.0 || ra.steps >= tc.steps ||
            ra.steps % tc.eval_every != 0)
            fail_msg("%s: status %s after %ld steps, acc %.3f", optim_name((opt_kind)o),
                     train_status_name(ra.status), ra.steps, ra.train_acc);
        if (ra.fit_step != ra.steps) /* early stop: it stopped at the first fit */
            fail_msg("%s: fit_step %ld, steps %ld", optim_name((opt_kind)o), ra.fit_step,
                     ra.steps);
        /* the paper's protocol: the whole budget, fit_step still the first
         * check at 100%; the same data order gives the same first fit */
        tc.early_stop = 0;
        tc.steps = ra.steps + 200;
        train_synth(&tc, ACT_RELU, &ds, &b, &rb);
        if (rb.steps != tc.steps || rb.fit_step != ra.fit_step)
            fail_msg("%s, fixed budget: %ld steps (budget %ld), fit_step %ld (early stop: %ld)",
                     optim_name((opt_kind)o), rb.steps, tc.steps, rb.fit_step, ra.fit_step);
        mlp_free(&b);
        tc.early_stop = 1;
        tc.steps = 3000;
        train_synth(&tc, ACT_RELU, &ds, &b, &rb);
        assert_int_equal(ra.steps, rb.steps);
        assert_memory_equal(a.params, b.params, sizeof(float) * a.n_params);
        mlp_free(&a);
        mlp_free(&b);
    }
    /* a different seed gives different weights */
    tc.seed = 2;
    optim_defaults(&tc.opt, OPT_MOMENTUM);
    tc.opt.lr = 0.05;
    train_synth(&tc, ACT_RELU, &ds, &a, &ra);
    tc.seed = 3;
    train_synth(&tc, ACT_RELU, &ds, &b, &rb);
    assert_true(memcmp(a.params, b.params, sizeof(float) * a.n_params) != 0);
    mlp_free(&a);
    mlp_free(&b);
    /* with augmentation the stream is still deterministic */
    ds.c = 1, ds.h = 4, ds.w = 5;
    tc.augment_shift = 1;
    tc.augment_flip = 1;
    tc.steps = 200;
    train_synth(&tc, ACT_TANH, &ds, &a, &ra);
    train_synth(&tc, ACT_TANH, &ds, &b, &rb);
    assert_memory_equal(a.params, b.params, sizeof(float) * a.n_params);
    mlp_free(&a);
    mlp_free(&b);
    tc.augment_shift = 0;
    tc.augment_flip = 0;
    /* a huge learning rate diverges: recorded as a status, not an error */
    tc.opt.lr = 1e6;
    tc.steps = 500;
    train_synth(&tc, ACT_RELU, &ds, &a, &ra);
    if (ra.status != TRAIN_DIVERGED)
        fail_msg("lr 1e6: status %s, loss %g", train_status_name(ra.status), ra.train_loss);
    assert_true(ra.steps < 500);
    mlp_free(&a);
    /* a tiny budget is not_fit */
    tc.opt.lr = 1e-5;
    tc.steps = 3;
    train_synth(&tc, ACT_RELU, &ds, &a, &ra);
    assert_int_equal(ra.status, TRAIN_NOT_FIT);
    assert_int_equal(ra.steps, 3);
    mlp_free(&a);
    dataset_free(&ds);
}

static void test_evaluate_chunks(void **state)
{
    (void)state;
    dataset ds;
    synth_dataset(&ds, 103, 9, 3, 3, 0.3);
    mlp_config c = {.d = 9, .width = 7, .k = 3, .depth = 3, .act = ACT_HARDTANH, .bias = 1,
                    .sigma_w2 = 1, .sigma_b2 = 0.1};
    mlp m;
    sn_err e;
    assert_int_equal(mlp_init(&m, &c, &e), SN_OK);
    rng r;
    rng_seed(&r, 1);
    mlp_init_params(&m, &r);
    mlp_work w1, w2;
    assert_int_equal(mlp_work_init(&w1, &m, 10, &e), SN_OK);
    assert_int_equal(mlp_work_init(&w2, &m, 200, &e), SN_OK);
    double l1, a1, l2, a2;
    mlp_evaluate(&m, &w1, ds.x, ds.y, ds.n, &l1, &a1);
    mlp_evaluate(&m, &w2, ds.x, ds.y, ds.n, &l2, &a2);
    assert_float_equal(l1, l2, 1e-6);
    assert_float_equal(a1, a2, 0);
    double *p = malloc(sizeof(double) * m.n_params);
    for (size_t i = 0; i < m.n_params; i++)
        p[i] = m.params[i];
    assert_float_equal(l1, ref_loss(&m, p, ds.x, ds.y, ds.n, NULL), 1e-5);
    free(p);
    mlp_work_free(&w1);
    mlp_work_free(&w2);
    mlp_free(&m);
    dataset_free(&ds);
    /* configs out of range are refused */
    mlp_config bad = c;
    bad.depth = 0;
    assert_int_equal(mlp_init(&m, &bad, &e), SN_EARG);
    bad = c;
    bad.sigma_w2 = 0;
    assert_int_equal(mlp_init(&m, &bad, &e), SN_EARG);
    mlp_free(NULL);
    mlp_work_free(NULL);
}

static void test_blas_kernel_choice(void **state)
{
    (void)state;
    assert_string_equal(blas_better_coretype("Prescott", 1, 1, 1), "SkylakeX");
    assert_string_equal(blas_better_coretype("Prescott", 0, 1, 1), "Haswell");
    assert_string_equal(blas_better_coretype("Core2", 0, 0, 1), "Sandybridge");
    assert_null(blas_better_coretype("Prescott", 0, 0, 0));
    assert_null(blas_better_coretype("Zen", 0, 1, 1));
    assert_null(blas_better_coretype("SkylakeX", 1, 1, 1));
    assert_null(blas_better_coretype("Haswell", 1, 1, 1)); /* a recognised kernel is kept */
    assert_string_equal(blas_better_coretype("Unknown", 0, 1, 1), "Haswell");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_activations),
        cmocka_unit_test(test_gain_matched),
        cmocka_unit_test(test_gradients),
        cmocka_unit_test(test_evaluate_chunks),
        cmocka_unit_test(test_optimizer_steps),
        cmocka_unit_test(test_lbfgs_convex),
        cmocka_unit_test(test_training_status_and_determinism),
        cmocka_unit_test(test_blas_kernel_choice),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
