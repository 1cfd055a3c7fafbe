/* test_transitions.c: trajectories, sampled and exact transition counts.
 * - trajectories: ellipses pass through their anchors, translation loops go
 *   around the boundary of the square of shifts, closed, every vertex the
 *   augmentation's image for its shift; anchors are deterministic and of the
 *   right classes; lengths against hand values (circle, segment, ellipse
 *   perimeters to 1e-15, square, translation loop) and against the chord
 *   sum of 10^5 points of traj_point (D = 784);
 * - hand-built networks whose counts are known on paper: lines in 2-D cut by
 *   a circle (2 crossings each or 0), two-kink activations (4 per neuron),
 *   a deeper net with ties across layers (a neuron copying a lower one),
 *   tangencies (0), polygons with an edge lying on a kink;
 * - random networks: exact >= sampled for every k, and at large k sampled
 *   equals exact up to crossings closer than 1/k (found from the exact
 *   walk's crossing positions);
 * - float32 codes with the double fallback equal a float64 reference;
 * - curvature against a float64 brute force (Jacobian at both sides);
 * - sampled profile: rows add up, Jacobian norms equal a float64 reference;
 * - tanh: error without sign code, closed-form count with it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>

#include "../src/sens/jacobian.h"
#include "../src/sens/traj.h"
#include "../src/sens/transitions.h"
#include "testutil.h"

static void make_net(mlp *m, int d, int H, int depth, int K, act_kind a, int bias)
{
    mlp_config c = {.d = d, .width = H, .k = K, .depth = depth, .act = a, .bias = bias,
                    .sigma_w2 = act_default_sigma_w2(a), .sigma_b2 = 0};
    assert_int_equal(mlp_init(m, &c, NULL), SN_OK);
}

/* Exact unit circle in the first two coordinates (b set by hand: float
 * anchors at 120 degrees are not exact). */
static void unit_circle(traj *t, int d)
{
    float *x = calloc(3 * d, sizeof(float));
    x[0] = 1;
    x[d] = -0.5f, x[d + 1] = 0.8660254f;
    x[2 * d] = -0.5f, x[2 * d + 1] = -0.8660254f;
    assert_int_equal(traj_ellipse3(t, x, x + d, x + 2 * d, d, NULL), SN_OK);
    t->b[1] = 1.0;
    free(x);
}

static long exact_count(const mlp *m, const traj *t)
{
    trans_result r;
    sn_err e = {0};
    assert_int_equal(trans_exact(m, t, NULL, &r, &e), SN_OK);
    return r.transitions;
}

static long sampled_count(const mlp *m, const traj *t, long k)
{
    trans_result r;
    sn_err e = {0};
    trans_opts o = {0};
    assert_int_equal(trans_sampled(m, t, k, &o, &r, &e), SN_OK);
    return r.transitions;
}

/* ---- trajectories ---- */

static void test_ellipse_anchors(void **st)
{
    (void)st;
    int d = 50;
    rng r;
    rng_seed(&r, 1);
    float *x = malloc(sizeof(float) * 3 * d);
    for (int i = 0; i < 3 * d; i++)
        x[i] = (float)rng_normal(&r);
    traj t;
    assert_int_equal(traj_ellipse3(&t, x, x + d, x + 2 * d, d, NULL), SN_OK);
    double z[50];
    for (int p = 0; p < 3; p++) {
        traj_point(&t, p / 3.0, z);
        for (int j = 0; j < d; j++)
            assert_true(fabs(z[j] - x[p * d + j]) <= 1e-14 * (1 + fabs(x[p * d + j])));
    }
    traj_free(&t);
    traj_free(&t); /* twice: a no-op */
    free(x);
}

/* ---- trajectory length (traj_length) ---- */

/* an ellipse c + a cos t + b sin t in d dimensions (c = 0) */
static void ellipse_ab(traj *t, int d, const double *a, const double *b)
{
    float *x = calloc(3 * d, sizeof(float));
    assert_int_equal(traj_ellipse3(t, x, x + d, x + 2 * d, d, NULL), SN_OK);
    memcpy(t->a, a, sizeof(double) * d);
    memcpy(t->b, b, sizeof(double) * d);
    free(x);
}

static void expect_rel(double got, double want, double tol, const char *what)
{
    if (!(fabs(got - want) <= tol * fabs(want)))
        fail_msg("%s: length %.17g, expected %.17g (relative error %.3g > %.3g)", what, got,
                 want, fabs(got - want) / fabs(want), tol);
}

/* Hand values: circles 2 pi r in any plane of D = 784, a segment (b = 0)
 * 4 |a|, ellipses with semi-axes (1, 0.5) and (3, 2) against 40-digit
 * references (mpmath: 4 A E(1 - B^2/A^2)), the same ellipse rotated in its
 * plane and placed in another, axes of very different sizes (1 and 1e-9),
 * a square and a translation loop (sums of their sides, the closing one
 * included); then a random ellipse and a random polygon in D = 784 against
 * the chord sum of traj_point over 10^5 equal steps of u. */
static void test_length(void **st)
{
    (void)st;
    enum { D = 784 };
    double *a = calloc(D, sizeof(double)), *b = calloc(D, sizeof(double));
    traj t;
    /* circle of radius 2.5 in coordinates 3 and 700 */
    a[3] = 2.5, b[700] = 2.5;
    ellipse_ab(&t, D, a, b);
    expect_rel(traj_length(&t), 2 * M_PI * 2.5, 1e-15, "circle");
    traj_free(&t);
    /* b = 0: the segment from c - a to c + a and back */
    memset(b, 0, sizeof(double) * D);
    a[3] = 3, a[10] = 4; /* |a| = 5 */
    ellipse_ab(&t, D, a, b);
    expect_rel(traj_length(&t), 20.0, 1e-15, "segment (b = 0)");
    traj_free(&t);
    /* b parallel to a: also a segment; a cos t + 2a sin t = a (cos t +
     * 2 sin t) reaches +-sqrt(5) a */
    for (int j = 0; j < D; j++)
        b[j] = 2 * a[j];
    ellipse_ab(&t, D, a, b);
    expect_rel(traj_length(&t), 4 * sqrt(5.0) * 5, 1e-14, "segment (b parallel to a)");
    traj_free(&t);
    /* semi-axes 1 and 0.5; then 3 and 2, rotated by 0.3 rad in its plane and
     * started at parameter 0.7 (a, b conjugate semi-diameters, neither
     * orthogonal nor of the axes' lengths: the same path) */
    memset(a, 0, sizeof(double) * D), memset(b, 0, sizeof(double) * D);
    a[0] = 1, b[1] = 0.5;
    ellipse_ab(&t, D, a, b);
    expect_rel(traj_length(&t), 4.844224110273838099214251598195914705977, 1e-15,
               "ellipse 1 x 0.5");
    traj_free(&t);
    {
        /* a = A cos(ph) u + B sin(ph) v, b = -A sin(ph) u + B cos(ph) v: the
         * same ellipse (axes A u, B v) started at parameter ph */
        double A = 3, B = 2, ph = 0.7, rot = 0.3;
        double u[2] = {cos(rot), sin(rot)}, v[2] = {-sin(rot), cos(rot)};
        memset(a, 0, sizeof(double) * D), memset(b, 0, sizeof(double) * D);
        for (int k = 0; k < 2; k++) { /* coordinates 100 and 400 */
            a[100 + 300 * k] = A * cos(ph) * u[k] + B * sin(ph) * v[k];
            b[100 + 300 * k] = -A * sin(ph) * u[k] + B * cos(ph) * v[k];
        }
        ellipse_ab(&t, D, a, b);
        expect_rel(traj_length(&t), 15.86543958929058979133166302778307249673, 1e-14,
                   "ellipse 3 x 2, rotated, conjugate semi-diameters");
        traj_free(&t);
    }
    /* axes 1 and 0.009916764665421293: here the AGM's a and b settle one ulp
     * apart, and iterating until they agree doubled that ulp into the sum
     * (5.6e-9 relative error); and 1 and 3.185070330045562e-07, the worst
     * ratio of a scan of 500 against mpmath (4e-15) */
    memset(a, 0, sizeof(double) * D), memset(b, 0, sizeof(double) * D);
    a[5] = 1, b[6] = 0.009916764665421293;
    ellipse_ab(&t, D, a, b);
    expect_rel(traj_length(&t), 4.0010817652691575366834523421238912253806, 1e-15,
               "ellipse 1 x 0.0099 (AGM limit cycle)");
    traj_free(&t);
    a[5] = 1, b[6] = 3.185070330045562e-07;
    ellipse_ab(&t, D, a, b);
    expect_rel(traj_length(&t), 4.0000000000032150326537278786322410571847, 1e-14,
               "ellipse 1 x 3.2e-7");
    traj_free(&t);
    /* thin: axes 1 and 1e-9: 4 + 2 B^2 (ln(4 / B) - 1/2) to first order (4 in
     * double precision: the term is 4e-17) */
    memset(a, 0, sizeof(double) * D), memset(b, 0, sizeof(double) * D);
    a[5] = 1, b[6] = 1e-9;
    ellipse_ab(&t, D, a, b);
    expect_rel(traj_length(&t), 4 + 2e-18 * (log(4e9) - 0.5), 1e-15, "thin ellipse");
    traj_free(&t);
    /* a square of side 2 in coordinates 0, 1 (shifted off the origin): 8 */
    double sq[4 * D];
    memset(sq, 0, sizeof sq);
    const double cx[4] = {0, 2, 2, 0}, cy[4] = {0, 0, 2, 2};
    for (int i = 0; i < 4; i++) {
        for (int j = 0; j < D; j++)
            sq[i * D + j] = 0.25;
        sq[i * D + 0] += cx[i], sq[i * D + 1] += cy[i];
    }
    assert_int_equal(traj_polygon(&t, sq, 4, D, NULL), SN_OK);
    expect_rel(traj_length(&t), 8.0, 1e-15, "square");
    traj_free(&t);
    /* two vertices: there and back */
    assert_int_equal(traj_polygon(&t, sq, 2, D, NULL), SN_OK);
    expect_rel(traj_length(&t), 4.0, 1e-15, "two-vertex polygon");
    traj_free(&t);
    /* a translation loop: the sum of |v_{i+1} - v_i| over its 8 s edges */
    {
        dataset ds;
        assert_int_equal(dataset_alloc(&ds, 2, 1, 6, 5, 3, NULL), SN_OK);
        for (int i = 0; i < 2 * ds.d; i++)
            ds.x[i] = (float)((i * 7) % 11) / 11;
        traj tl;
        assert_int_equal(traj_translate(&tl, &ds, 1, 2, NULL), SN_OK);
        double want = 0;
        for (int i = 0; i < tl.nv; i++) {
            double s2 = 0;
            for (int j = 0; j < ds.d; j++) {
                double x = tl.verts[(size_t)((i + 1) % tl.nv) * ds.d + j] -
                           tl.verts[(size_t)i * ds.d + j];
                s2 += x * x;
            }
            want += sqrt(s2);
        }
        assert_true(want > 0);
        expect_rel(traj_length(&tl), want, 1e-14, "translation loop");
        traj_free(&tl);
        dataset_free(&ds);
    }
    /* dense sampling: a random ellipse through 3 Gaussian points (values
     * around 0.5, sd 0.3) and a random 7-gon in D = 784. Each chord of arc
     * length s is shorter than it by about kappa^2 s^3 / 24, so the chord sum
     * of N steps falls short of the perimeter P by about (P / N)^2 / 24
     * times the mean of kappa^2 (here P ~ 42, kappa ~ 1/7: 1.7e-10
     * relative; bound 2e-9) and never exceeds it. The polygon is sampled in
     * 7 x 14286 steps, so every vertex is a step's end and the chord sum is
     * its length up to rounding. */
    rng r;
    rng_seed(&r, 9);
    float *x = malloc(sizeof(float) * 3 * D);
    for (int i = 0; i < 3 * D; i++)
        x[i] = (float)(0.5 + 0.3 * rng_normal(&r));
    assert_int_equal(traj_ellipse3(&t, x, x + D, x + 2 * D, D, NULL), SN_OK);
    const long N = 100000;
    double *z0 = malloc(sizeof(double) * D), *z1 = malloc(sizeof(double) * D);
    double chord = 0;
    traj_point(&t, 0, z0);
    for (long k = 1; k <= N; k++) {
        traj_point(&t, (double)k / N, z1);
        double s2 = 0;
        for (int j = 0; j < D; j++)
            s2 += (z1[j] - z0[j]) * (z1[j] - z0[j]);
        chord += sqrt(s2);
        double *sw = z0;
        z0 = z1, z1 = sw;
    }
    double len = traj_length(&t);
    assert_true(len > 1);
    if (!(chord <= len * (1 + 1e-12) && chord >= len * (1 - 2e-9)))
        fail_msg("random ellipse: chord sum %.15g vs length %.15g (relative %.3g)", chord, len,
                 (len - chord) / len);
    print_message("measured: random ellipse in D = 784: length %.12g, chord sum of 10^5 steps "
                  "short by %.3g relative\n", len, (len - chord) / len);
    traj_free(&t);
    double *pv = malloc(sizeof(double) * 7 * D);
    for (int i = 0; i < 7 * D; i++)
        pv[i] = rng_normal(&r);
    assert_int_equal(traj_polygon(&t, pv, 7, D, NULL), SN_OK);
    len = traj_length(&t);
    chord = 0;
    traj_point(&t, 0, z0);
    for (long k = 1; k <= 7 * 14286; k++) {
        traj_point(&t, (double)k / (7 * 14286), z1);
        double s2 = 0;
        for (int j = 0; j < D; j++)
            s2 += (z1[j] - z0[j]) * (z1[j] - z0[j]);
        chord += sqrt(s2);
        double *sw = z0;
        z0 = z1, z1 = sw;
    }
    expect_rel(chord, len, 1e-12, "random 7-gon, dense sampling");
    traj_free(&t);
    free(pv), free(x), free(z0), free(z1), free(a), free(b);
}

/* The translation loop: vertices are the augmentation's shifted images, in
 * the order of a walk around the boundary of [-s, s]^2 built here step by
 * step, and the augmentation itself (replaying its draws) gives the same
 * images for the shifts it draws on that boundary. */
static void test_translate_exact(void **st)
{
    (void)st;
    const int c = 2, h = 7, w = 6, s = 2, nv = 8 * s;
    dataset ds;
    assert_int_equal(dataset_alloc(&ds, 3, c, h, w, 3, NULL), SN_OK);
    int d = ds.d;
    for (int i = 0; i < 3 * d; i++)
        ds.x[i] = (float)(i * 0.37 - 3.1);
    for (int j = 0; j < d; j++)
        ds.fill[j] = (float)(-0.5 - 0.01 * j); /* not 0: padding must come from fill */
    traj t;
    assert_int_equal(traj_translate(&t, &ds, 1, s, NULL), SN_OK);
    assert_int_equal(t.nv, nv);
    assert_int_equal(t.d, d);
    /* the walk: from (-s, -s) right, up, left, down, one pixel per step */
    int sx[64], sy[64], x0 = -s, y0 = -s;
    static const int dir[4][2] = {{1, 0}, {0, 1}, {-1, 0}, {0, -1}};
    for (int q = 0, i = 0; q < 4; q++)
        for (int k = 0; k < 2 * s; k++, i++) {
            sx[i] = x0, sy[i] = y0;
            x0 += dir[q][0], y0 += dir[q][1];
        }
    assert_true(x0 == -s && y0 == -s); /* closed */
    const float *img = ds.x + d;
    double *z = malloc(sizeof(double) * d);
    for (int i = 0; i < nv; i++) {
        int dx, dy;
        traj_translate_shift(s, i, &dx, &dy);
        assert_int_equal(dx, sx[i]);
        assert_int_equal(dy, sy[i]);
        for (int q = 0; q < i; q++)
            assert_false(sx[q] == dx && sy[q] == dy); /* each boundary shift once */
        traj_point(&t, (double)i / nv, z);
        for (int ch = 0; ch < c; ch++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++) {
                    int j = (ch * h + y) * w + x, py = y - dy, px = x - dx;
                    int in = py >= 0 && py < h && px >= 0 && px < w;
                    assert_true(z[j] == (in ? img[(ch * h + py) * w + px] : ds.fill[j]));
                }
    }
    /* the closing edge joins the last vertex to the first */
    traj_point(&t, (nv - 0.5) / nv, z);
    for (int j = 0; j < d; j++)
        assert_true(fabs(z[j] - 0.5 * (t.verts[(size_t)(nv - 1) * d + j] + t.verts[j])) < 1e-12);
    /* the augmentation's own output for the shifts it draws on the boundary */
    float *out = malloc(sizeof(float) * d);
    int seen[64] = {0}, covered = 0;
    int32_t row = 1;
    for (uint64_t seed = 1; seed < 400; seed++) {
        rng r, replay;
        rng_seed(&r, seed);
        rng_seed(&replay, seed);
        dataset_gather_augment(&ds, &row, 1, s, 0, &r, out);
        int dx = (int)rng_below(&replay, 2 * s + 1) - s;
        int dy = (int)rng_below(&replay, 2 * s + 1) - s;
        for (int i = 0; i < nv; i++)
            if (sx[i] == dx && sy[i] == dy) {
                for (int j = 0; j < d; j++)
                    assert_true(t.verts[(size_t)i * d + j] == (double)out[j]);
                covered += !seen[i];
                seen[i] = 1;
            }
    }
    assert_int_equal(covered, nv);
    traj_free(&t);
    /* radius checks and the default rule */
    sn_err e = {0};
    assert_int_equal(traj_translate(&t, &ds, 1, 0, &e), SN_EARG);
    assert_int_equal(traj_translate(&t, &ds, 1, 6, &e), SN_EARG); /* min(h, w) = 6 */
    assert_non_null(strstr(e.msg, "not in [1, 5]"));
    assert_int_equal(traj_translate(&t, &ds, 1, 5, NULL), SN_OK);
    assert_int_equal(t.nv, 40);
    traj_free(&t);
    assert_int_equal(traj_translate_radius(0, 0), TRAJ_TRANSLATE_SHIFT);
    assert_int_equal(traj_translate_radius(0, 3), 3);
    assert_int_equal(traj_translate_radius(2, 3), 2);
    char desc[64];
    assert_int_equal(traj_build(TRAJ_TRANSLATE, &ds, &ds, 9, 0, 3, &t, desc, sizeof desc, NULL),
                     SN_OK);
    assert_int_equal(t.nv, 24);
    assert_non_null(strstr(desc, " shift 3"));
    traj_free(&t);
    free(z);
    free(out);
    dataset_free(&ds);
}

static void test_pick_anchors(void **st)
{
    (void)st;
    dataset ds;
    synth_dataset(&ds, 200, 4, 10, 3, 0.1);
    rng r1, r2;
    rng_seed(&r1, 7);
    rng_seed(&r2, 7);
    for (int it = 0; it < 20; it++) {
        int a[3], b[3];
        assert_int_equal(traj_pick_anchors(&ds, TRAJ_ELLIPSE_DIFF, &r1, a, NULL), SN_OK);
        assert_int_equal(traj_pick_anchors(&ds, TRAJ_ELLIPSE_DIFF, &r2, b, NULL), SN_OK);
        assert_memory_equal(a, b, sizeof a);
        assert_true(ds.y_true[a[0]] != ds.y_true[a[1]] && ds.y_true[a[0]] != ds.y_true[a[2]] &&
                    ds.y_true[a[1]] != ds.y_true[a[2]]);
        assert_int_equal(traj_pick_anchors(&ds, TRAJ_ELLIPSE_SAME, &r1, a, NULL), SN_OK);
        assert_int_equal(traj_pick_anchors(&ds, TRAJ_ELLIPSE_SAME, &r2, b, NULL), SN_OK);
        assert_memory_equal(a, b, sizeof a);
        assert_true(a[0] != a[1] && a[0] != a[2] && a[1] != a[2]);
        assert_true(ds.y_true[a[0]] == ds.y_true[a[1]] && ds.y_true[a[0]] == ds.y_true[a[2]]);
        assert_int_equal(traj_pick_anchors(&ds, TRAJ_TRANSLATE, &r1, a, NULL), SN_OK);
        assert_int_equal(traj_pick_anchors(&ds, TRAJ_TRANSLATE, &r2, b, NULL), SN_OK);
        assert_true(a[0] >= 0 && a[0] < ds.n && a[1] == -1);
    }
    traj t;
    assert_int_equal(traj_random_ellipse(&t, &ds, &r1, NULL), SN_OK);
    assert_int_equal(t.d, 4);
    traj_free(&t);
    traj_kind k;
    assert_int_equal(traj_kind_parse("ellipse-same", &k, NULL), SN_OK);
    assert_int_equal(k, TRAJ_ELLIPSE_SAME);
    sn_err e = {0};
    assert_int_equal(traj_kind_parse("circle", &k, &e), SN_EARG);
    assert_non_null(strstr(e.msg, "ellipse-diff"));
    dataset_free(&ds);
}

/* ---- hand-built networks ---- */

/* one hidden ReLU layer in 2-D: neuron j is the line w.x + b = 0 */
static void test_lines_relu(void **st)
{
    (void)st;
    /* w, b: distance |b|/|w| < 1 -> 2 crossings, > 1 -> 0, = 1 tangent -> 0.
     * Tangents touch the kink from below: one touching from above would sit
     * in the lower piece at that single point, which a sample can hit. */
    const float L[][3] = {{1, 0, 0},     {0, 1, 0.5f},  {1, 1, 2},    {1, -1, -0.3f},
                          {1, 0, -1},    {0, -2, -2},     {3, 4, 4.9f}, {3, 4, 5.1f},
                          {1, 0, 0},     {-1, 0, 0.25f}};
    const long expect = 2 + 2 + 0 + 2 + 0 + 0 + 2 + 0 + 2 + 2;
    int H = 10;
    mlp m;
    make_net(&m, 2, H, 2, 2, ACT_RELU, 1);
    float *W = mlp_w(&m, m.params, 0), *b = mlp_b(&m, m.params, 0);
    for (int j = 0; j < H; j++)
        W[2 * j] = L[j][0], W[2 * j + 1] = L[j][1], b[j] = L[j][2];
    float *W2 = mlp_w(&m, m.params, 1);
    for (int i = 0; i < 2 * H; i++)
        W2[i] = (float)(0.1 * (i % 7) - 0.3);
    traj t;
    unit_circle(&t, 2);
    trans_result r;
    trans_opts o = {.curvature = 1};
    assert_int_equal(trans_exact(&m, &t, &o, &r, NULL), SN_OK);
    assert_int_equal(r.transitions, expect);
    /* neurons 0 and 8 are identical: their crossings tie (2 distinct times) */
    assert_int_equal(r.regions, expect - 2);
    assert_true(isfinite(r.curvature) && r.curvature > 0);
    for (long k = 16; k <= (1L << 16); k *= 16)
        assert_true(sampled_count(&m, &t, k) <= expect);
    assert_int_equal(sampled_count(&m, &t, 1L << 16), expect);
    traj_free(&t);
    mlp_free(&m);
}

/* two-kink activations: both kinks crossed twice -> 4 per neuron */
static void test_two_kinks(void **st)
{
    (void)st;
    struct {
        act_kind a;
        float w, b;
        long n;
    } cs[] = {{ACT_RELU6, 10, 3, 4},       {ACT_RELU6, 2, 5, 2},      {ACT_HARDTANH, 3, 0, 4},
              {ACT_HARDTANH, 0.5f, 0, 0},  {ACT_HARDSIGMOID, 5, 0, 4}, {ACT_HARDSIGMOID, 1, 2, 2},
              {ACT_RELU6, 6, 0, 2} /* touches 6 at t = 0: tangent, only 0 is crossed */};
    for (size_t i = 0; i < sizeof cs / sizeof *cs; i++) {
        mlp m;
        make_net(&m, 2, 1, 2, 2, cs[i].a, 1);
        float *W = mlp_w(&m, m.params, 0);
        W[0] = cs[i].w;
        *mlp_b(&m, m.params, 0) = cs[i].b;
        mlp_w(&m, m.params, 1)[0] = 1;
        traj t;
        unit_circle(&t, 2);
        long ex = exact_count(&m, &t);
        if (ex != cs[i].n)
            fail_msg("case %zu (%s w %g b %g): exact %ld, expected %ld", i, act_name(cs[i].a),
                     cs[i].w, cs[i].b, ex, cs[i].n);
        assert_int_equal(sampled_count(&m, &t, 1 << 14), cs[i].n);
        traj_free(&t);
        mlp_free(&m);
    }
}

/* depth 3 in 2-D: layer 1 = relu(x), relu(-x), relu(y), relu(-y);
 * layer 2 = relu(x - 0.5) (2), relu(|y| - 0.8) (4), relu(relu(x)) (2, ties
 * with relu(x) itself, a neuron that is constant on its kink half the loop). */
static void test_deep_hand(void **st)
{
    (void)st;
    mlp m;
    make_net(&m, 2, 4, 3, 2, ACT_RELU, 1);
    float *W1 = mlp_w(&m, m.params, 0);
    memset(W1, 0, sizeof(float) * 8);
    W1[0] = 1, W1[2] = -1, W1[5] = 1, W1[7] = -1;
    float *W2 = mlp_w(&m, m.params, 1), *b2 = mlp_b(&m, m.params, 1);
    memset(W2, 0, sizeof(float) * 16);
    W2[0] = 1, W2[1] = -1, b2[0] = -0.5f;
    W2[4 + 2] = 1, W2[4 + 3] = 1, b2[1] = -0.8f;
    W2[8 + 0] = 1, b2[2] = 0;
    b2[3] = -1; /* a dead neuron: constant below its kink */
    float *W3 = mlp_w(&m, m.params, 2);
    for (int i = 0; i < 8; i++)
        W3[i] = (float)(i % 3) - 1;
    traj t;
    unit_circle(&t, 2);
    /* layer 1: x = 0 twice (two neurons, tie), y = 0 twice (two neurons) */
    long expect = 8 + 2 + 4 + 2;
    trans_result r;
    trans_opts o = {.curvature = 1};
    assert_int_equal(trans_exact(&m, &t, &o, &r, NULL), SN_OK);
    assert_int_equal(r.transitions, expect);
    /* distinct crossing times: x=0 (2), y=0 (2), x=0.5 (2), |y|=0.8 (4) */
    assert_int_equal(r.regions, 10);
    assert_int_equal(sampled_count(&m, &t, 1 << 15), expect);
    /* the same on a polygon: the square (+-1, +-1): x = 0 at 2 edges, ... */
    double sq[8] = {1, 1, -1, 1, -1, -1, 1, -1};
    traj p;
    assert_int_equal(traj_polygon(&p, sq, 4, 2, NULL), SN_OK);
    /* layer 1: 8; x - 0.5: 2; |y| - 0.8: 4 (|y| = 1 on two edges, 0 at two
     * crossings); relu(x): 2 -> 16 */
    assert_int_equal(exact_count(&m, &p), 16);
    assert_int_equal(sampled_count(&m, &p, 1 << 14), 16);
    traj_free(&p);
    traj_free(&t);
    mlp_free(&m);
}

/* polygons touching kinks: a vertex on a line (no crossing), an edge lying on
 * the kink (constant there, lower piece), a line through a vertex crossing */
static void test_polygon_edges(void **st)
{
    (void)st;
    const float L[][3] = {{1, 1, -2} /* touches vertex (1,1) only: 0 */,
                          {1, 0, -1} /* the edge x = 1 lies on the kink: 0 */,
                          {1, -1, 0} /* diagonal through (1,1) and (-1,-1): 2 */,
                          {0, 1, 0.5f} /* 2 */};
    mlp m;
    make_net(&m, 2, 4, 2, 2, ACT_RELU, 1);
    float *W = mlp_w(&m, m.params, 0), *b = mlp_b(&m, m.params, 0);
    for (int j = 0; j < 4; j++)
        W[2 * j] = L[j][0], W[2 * j + 1] = L[j][1], b[j] = L[j][2];
    mlp_w(&m, m.params, 1)[0] = 1;
    double sq[8] = {1, 1, -1, 1, -1, -1, 1, -1};
    traj p;
    assert_int_equal(traj_polygon(&p, sq, 4, 2, NULL), SN_OK);
    assert_int_equal(exact_count(&m, &p), 4);
    for (long k = 4; k <= 4096; k *= 4)
        assert_true(sampled_count(&m, &p, k) <= 4);
    assert_int_equal(sampled_count(&m, &p, 4096), 4);
    traj_free(&p);
    mlp_free(&m);
}

/* ---- random networks ---- */

typedef struct prof {
    int n, cap;
    double *u;
    long *tr;
    double *jac;
} prof;

static void prof_cb(void *ctx, double u, double jac, long tr)
{
    prof *p = ctx;
    if (p->n == p->cap) {
        p->cap = p->cap ? 2 * p->cap : 256;
        p->u = realloc(p->u, sizeof(double) * p->cap);
        p->tr = realloc(p->tr, sizeof(long) * p->cap);
        p->jac = realloc(p->jac, sizeof(double) * p->cap);
    }
    p->u[p->n] = u, p->tr[p->n] = tr, p->jac[p->n] = jac;
    p->n++;
}

/* Crossings the sampled count at k may miss: per sample interval with c >= 2
 * crossings, c - 1. */
static long allowed_miss(const prof *p, long k)
{
    long *cnt = calloc(k, sizeof(long)), miss = 0;
    for (int i = 0; i < p->n; i++) {
        double u = p->u[i] - floor(p->u[i]);
        long s = (long)floor(u * k);
        if (s >= k)
            s = k - 1;
        cnt[s] += p->tr[i];
    }
    for (long s = 0; s < k; s++)
        miss += cnt[s] > 1 ? cnt[s] - 1 : 0;
    free(cnt);
    return miss;
}

static void random_case(act_kind a, int d, int H, int depth, int bias, uint64_t seed, int polygon)
{
    mlp m;
    make_net(&m, d, H, depth, 10, a, bias);
    m.cfg.sigma_b2 = bias ? 0.1 : 0;
    rng r;
    rng_seed(&r, seed);
    mlp_init_params(&m, &r);
    traj t;
    if (polygon) {
        double *v = malloc(sizeof(double) * 7 * d);
        for (int i = 0; i < 7 * d; i++)
            v[i] = rng_normal(&r);
        assert_int_equal(traj_polygon(&t, v, 7, d, NULL), SN_OK);
        free(v);
    } else {
        float *x = malloc(sizeof(float) * 3 * d);
        for (int i = 0; i < 3 * d; i++)
            x[i] = (float)rng_normal(&r);
        assert_int_equal(traj_ellipse3(&t, x, x + d, x + 2 * d, d, NULL), SN_OK);
        free(x);
    }
    prof p = {0};
    trans_opts o = {.profile = prof_cb, .profile_ctx = &p};
    trans_result ex;
    assert_int_equal(trans_exact(&m, &t, &o, &ex, NULL), SN_OK);
    long sum = 0;
    for (int i = 0; i < p.n; i++)
        sum += p.tr[i];
    assert_int_equal(sum, ex.transitions);
    assert_true(ex.transitions > 0);
    for (long k = 8; k <= (1L << 18); k *= 8) {
        long s = sampled_count(&m, &t, k);
        if (s > ex.transitions)
            fail_msg("%s d %d H %d L %d: sampled %ld at k %ld exceeds exact %ld", act_name(a), d,
                     H, depth, s, k, ex.transitions);
        if (k >= (1L << 15)) {
            long miss = allowed_miss(&p, k);
            if (ex.transitions - s > miss)
                fail_msg("%s d %d H %d L %d: sampled %ld at k %ld, exact %ld, only %ld "
                         "crossings closer than 1/k",
                         act_name(a), d, H, depth, s, k, ex.transitions, miss);
        }
    }
    free(p.u);
    free(p.tr);
    free(p.jac);
    traj_free(&t);
    mlp_free(&m);
}

static void test_random_exact_vs_sampled(void **st)
{
    (void)st;
    random_case(ACT_RELU, 8, 20, 2, 1, 1, 0);
    random_case(ACT_RELU, 8, 24, 4, 1, 2, 0);
    random_case(ACT_RELU, 5, 16, 6, 0, 3, 0);
    random_case(ACT_RELU6, 8, 24, 3, 1, 4, 0);
    random_case(ACT_HARDTANH, 8, 24, 4, 1, 5, 0);
    random_case(ACT_HARDSIGMOID, 8, 24, 3, 1, 6, 0);
    random_case(ACT_RELU, 8, 24, 4, 1, 7, 1);
    random_case(ACT_HARDTANH, 6, 16, 3, 1, 8, 1);
}

/* width-1000 network: float32 sampling never exceeds the exact count */
static void test_wide_no_flicker(void **st)
{
    (void)st;
    int d = 64, H = 1000;
    mlp m;
    make_net(&m, d, H, 4, 10, ACT_RELU, 0);
    rng r;
    rng_seed(&r, 11);
    mlp_init_params(&m, &r);
    float *x = malloc(sizeof(float) * 3 * d);
    for (int i = 0; i < 3 * d; i++)
        x[i] = (float)rng_normal(&r);
    traj t;
    assert_int_equal(traj_ellipse3(&t, x, x + d, x + 2 * d, d, NULL), SN_OK);
    long ex = exact_count(&m, &t);
    long s = sampled_count(&m, &t, 1L << 15);
    printf("width 1000 depth 4: exact %ld, sampled(2^15) %ld\n", ex, s);
    assert_true(s <= ex);
    assert_true(s >= ex * 0.9);
    free(x);
    traj_free(&t);
    mlp_free(&m);
}

/* trans_codes equals the float64 reference at points packed around every
 * crossing of the exact walk (float inputs 1e-8 apart in u): there float32
 * GEMMs alone would flip codes back and forth */
static void test_codes_reference(void **st)
{
    (void)st;
    int d = 16, H = 200, depth = 4, per = 40;
    mlp m;
    make_net(&m, d, H, depth, 10, ACT_HARDTANH, 1);
    m.cfg.sigma_b2 = 0.1;
    rng r;
    rng_seed(&r, 5);
    mlp_init_params(&m, &r);
    float *x0 = malloc(sizeof(float) * 3 * d);
    for (int i = 0; i < 3 * d; i++)
        x0[i] = (float)rng_normal(&r);
    traj t;
    assert_int_equal(traj_ellipse3(&t, x0, x0 + d, x0 + 2 * d, d, NULL), SN_OK);
    prof p = {0};
    trans_opts o = {.profile = prof_cb, .profile_ctx = &p};
    trans_result ex;
    assert_int_equal(trans_exact(&m, &t, &o, &ex, NULL), SN_OK);
    int n = p.n * per;
    float *x = malloc(sizeof(float) * n * d);
    double z[16];
    for (int c = 0; c < p.n; c++)
        for (int i = 0; i < per; i++) {
            traj_point(&t, p.u[c] + (i - per / 2) * 1e-8, z);
            for (int j = 0; j < d; j++)
                x[((size_t)c * per + i) * d + j] = (float)z[j];
        }
    int NH = (depth - 1) * H;
    uint8_t *codes = malloc((size_t)n * NH);
    int *ref = malloc(sizeof(int) * NH);
    assert_int_equal(trans_codes(&m, x, n, 0, codes, NULL), SN_OK);
    double *pp = malloc(sizeof(double) * m.n_params);
    for (size_t i = 0; i < m.n_params; i++)
        pp[i] = m.params[i];
    long bad = 0;
    for (int i = 0; i < n; i++) {
        ref_loss1(&m, pp, x + (size_t)i * d, 0, ref);
        for (int j = 0; j < NH; j++)
            bad += codes[(size_t)i * NH + j] != ref[j];
    }
    if (bad)
        fail_msg("%ld codes of %d points near %d crossings differ from float64", bad, n, p.n);
    free(pp);
    free(ref);
    free(codes);
    free(x);
    free(x0);
    free(p.u);
    free(p.tr);
    free(p.jac);
    traj_free(&t);
    mlp_free(&m);
}

/* curvature: sum over crossings of ||J_f(after) - J_f(before)||_F against
 * a float64 brute force over dense samples (Jacobians by plain loops). */
static void ref_jac(const mlp *m, const double *z, double *J, int *code)
{
    int L = m->cfg.depth, d = m->cfg.d;
    double a[64], hcur[64], Jc[64 * 8], Jn[64 * 8];
    int din = d, nc = 0;
    for (int i = 0; i < d; i++) {
        hcur[i] = z[i];
        for (int q = 0; q < d; q++)
            Jc[i * d + q] = i == q;
    }
    for (int l = 0; l < L; l++) {
        int dout = m->dims[l + 1];
        const float *W = m->params + m->w_off[l];
        for (int o = 0; o < dout; o++) {
            a[o] = m->cfg.bias ? m->params[m->b_off[l] + o] : 0;
            for (int i = 0; i < din; i++)
                a[o] += (double)W[o * din + i] * hcur[i];
            for (int q = 0; q < d; q++) {
                double s = 0;
                for (int i = 0; i < din; i++)
                    s += (double)W[o * din + i] * Jc[i * d + q];
                Jn[o * d + q] = s;
            }
        }
        for (int o = 0; o < dout; o++) {
            double sl = l < L - 1 ? act_dphi(m->cfg.act, a[o]) : 1;
            if (l < L - 1)
                code[nc++] = act_piece(m->cfg.act, a[o]);
            hcur[o] = l < L - 1 ? act_phi(m->cfg.act, a[o]) : a[o];
            for (int q = 0; q < d; q++)
                Jc[o * d + q] = Jn[o * d + q] * sl;
        }
        din = dout;
    }
    memcpy(J, Jc, sizeof(double) * m->cfg.k * d);
}

static void test_curvature_reference(void **st)
{
    (void)st;
    /* the last case: 5 hidden layers and more crossings than one batch of
     * curvature chains (CURV_BATCH in walk.c) */
    int d = 3, K = 4;
    act_kind acts[] = {ACT_RELU, ACT_HARDSIGMOID, ACT_HARDTANH};
    int Hs[] = {6, 6, 24}, depths[] = {3, 3, 6};
    double amp[] = {2, 2, 8};
    for (int ai = 0; ai < 3; ai++) {
        int H = Hs[ai], depth = depths[ai];
        mlp m;
        make_net(&m, d, H, depth, K, acts[ai], 1);
        m.cfg.sigma_b2 = 0.2;
        rng r;
        rng_seed(&r, 21 + ai);
        mlp_init_params(&m, &r);
        float x[9];
        for (int i = 0; i < 9; i++)
            x[i] = (float)(amp[ai] * rng_normal(&r));
        traj t;
        assert_int_equal(traj_ellipse3(&t, x, x + 3, x + 6, 3, NULL), SN_OK);
        prof p = {0};
        trans_opts o = {.curvature = 1, .profile = prof_cb, .profile_ctx = &p};
        trans_result ex;
        assert_int_equal(trans_exact(&m, &t, &o, &ex, NULL), SN_OK);
        long k = 1L << 17, tr = 0;
        double curv = 0, J0[32], Jp[32], J[32], z[3];
        int c0[128], cp[128], c[128];
        traj_point(&t, 0, z);
        ref_jac(&m, z, J0, c0);
        memcpy(Jp, J0, sizeof J0);
        memcpy(cp, c0, sizeof c0);
        for (long i = 1; i <= k; i++) {
            if (i < k) {
                traj_point(&t, (double)i / k, z);
                ref_jac(&m, z, J, c);
            } else {
                memcpy(J, J0, sizeof J);
                memcpy(c, c0, sizeof c);
            }
            int dif = 0;
            for (int q = 0; q < (depth - 1) * H; q++)
                dif += c[q] != cp[q];
            if (dif) {
                double s = 0;
                for (int q = 0; q < K * d; q++)
                    s += (J[q] - Jp[q]) * (J[q] - Jp[q]);
                curv += sqrt(s);
                tr += dif;
            }
            memcpy(Jp, J, sizeof J);
            memcpy(cp, c, sizeof c);
        }
        if (ai == 2)
            printf("curvature, depth %d width %d: %ld crossings\n", depth, H, ex.transitions);
        if (ai == 2)
            assert_true(ex.transitions > 300);
        assert_int_equal(tr, ex.transitions); /* no two crossings within 1/k here */
        assert_true(allowed_miss(&p, k) == 0);
        if (fabs(curv - ex.curvature) > 1e-9 * (1 + curv))
            fail_msg("%s: curvature exact %.12g brute force %.12g", act_name(acts[ai]),
                     ex.curvature, curv);
        /* profile: softmax Jacobian norms are finite and positive */
        for (int i = 0; i < p.n; i++)
            assert_true(isfinite(p.jac[i]) && p.jac[i] > 0);
        free(p.u);
        free(p.tr);
        free(p.jac);
        traj_free(&t);
        mlp_free(&m);
    }
}

/* sampled profile: rows at every stride-th sample with the transitions since
 * the previous row (summing to the total, and equal to the per-sample
 * profile binned by hand), every softmax-Jacobian norm finite and equal to
 * a float64 reference (plain loops, at the same float32 point) and to
 * jac_norms; the count does not depend on the block size / worker split */
static void test_sampled_profile(void **st)
{
    (void)st;
    int d = 6, H = 24, K = 5;
    mlp m;
    make_net(&m, d, H, 4, K, ACT_RELU, 1);
    m.cfg.sigma_b2 = 0.1;
    rng r;
    rng_seed(&r, 31);
    mlp_init_params(&m, &r);
    float x0[18];
    for (int i = 0; i < 18; i++)
        x0[i] = (float)(2 * rng_normal(&r));
    traj t;
    assert_int_equal(traj_ellipse3(&t, x0, x0 + d, x0 + 2 * d, d, NULL), SN_OK);
    long k = 5000;
    /* per-sample profile (stride 1), one block: one worker */
    prof p1 = {0};
    trans_opts o1 = {.profile = prof_cb, .profile_ctx = &p1, .profile_points = (int)k,
                     .block = (int)k};
    trans_result r1;
    assert_int_equal(trans_sampled(&m, &t, k, &o1, &r1, NULL), SN_OK);
    assert_int_equal(p1.n, k + 1);
    assert_true(r1.transitions > 20);
    /* 64 profile points, blocks of 300 (several workers when BLAS has threads) */
    prof p = {0};
    trans_opts o = {.profile = prof_cb, .profile_ctx = &p, .profile_points = 64, .block = 300};
    trans_result res;
    assert_int_equal(trans_sampled(&m, &t, k, &o, &res, NULL), SN_OK);
    assert_int_equal(res.transitions, r1.transitions);
    assert_int_equal(res.regions, r1.regions);
    long stride = (k + 63) / 64, R = (k + stride - 1) / stride, sum = 0;
    assert_int_equal(p.n, R + 1);
    assert_true(R <= 64);
    for (long q = 0; q <= R; q++) {
        sum += p.tr[q];
        /* row q holds the pairs (i-1, i), q*stride - stride < i <= q*stride
         * (the last row: up to i = k, the closing pair) */
        long lo = q == 0 ? 0 : (q - 1) * stride + 1, hi = q == R ? k : q * stride, bin = 0;
        for (long i = lo; i <= hi; i++)
            bin += p1.tr[i];
        if (bin != p.tr[q])
            fail_msg("profile row %ld: %ld transitions, per-sample profile says %ld", q,
                     p.tr[q], bin);
        double u = q == R ? 1.0 : (double)(q * stride) / k;
        assert_true(fabs(p.u[q] - u) < 1e-15);
    }
    assert_int_equal(sum, res.transitions);
    /* small k, blocks of 4: the pairs joining the workers' ranges carry
     * transitions too */
    for (long kk = 16; kk <= 80; kk++) {
        trans_opts oa = {.block = 4}, ob = {.block = (int)kk};
        trans_result ra, rb;
        assert_int_equal(trans_sampled(&m, &t, kk, &oa, &ra, NULL), SN_OK);
        assert_int_equal(trans_sampled(&m, &t, kk, &ob, &rb, NULL), SN_OK);
        if (ra.transitions != rb.transitions || ra.regions != rb.regions)
            fail_msg("k %ld: blocks of 4 count %ld (%ld regions), one block %ld (%ld)", kk,
                     ra.transitions, ra.regions, rb.transitions, rb.regions);
    }
    /* Jacobian norms at the rows' float32 points: float64 reference and jac_norms */
    float *x = malloc(sizeof(float) * R * d);
    jac_point *jp = malloc(sizeof(jac_point) * R);
    double pp[4096], z[8], zf[8], lg[8], J[64], pr[8];
    assert_true(m.n_params <= 4096);
    for (size_t i = 0; i < m.n_params; i++)
        pp[i] = m.params[i];
    for (long q = 0; q < R; q++) {
        traj_point(&t, p.u[q], z);
        for (int j = 0; j < d; j++)
            x[q * d + j] = (float)z[j], zf[j] = x[q * d + j];
    }
    assert_int_equal(jac_norms(&m, x, NULL, (int)R, jp, NULL), SN_OK);
    for (long q = 0; q <= R; q++) {
        long qq = q == R ? 0 : q; /* u = 1 is the start point */
        for (int j = 0; j < d; j++)
            zf[j] = x[qq * d + j];
        int code[128];
        ref_logits(&m, pp, zf, lg, NULL);
        ref_jac(&m, zf, J, code);
        double mx = lg[0], zs = 0, ref = 0;
        for (int c = 1; c < K; c++)
            mx = lg[c] > mx ? lg[c] : mx;
        for (int c = 0; c < K; c++)
            zs += pr[c] = exp(lg[c] - mx);
        for (int c = 0; c < K; c++)
            pr[c] /= zs;
        for (int i = 0; i < d; i++) {
            double pj = 0;
            for (int c = 0; c < K; c++)
                pj += pr[c] * J[c * d + i];
            for (int c = 0; c < K; c++)
                ref += pr[c] * (J[c * d + i] - pj) * pr[c] * (J[c * d + i] - pj);
        }
        ref = sqrt(ref);
        if (!isfinite(p.jac[q]) || fabs(p.jac[q] - ref) > 1e-4 * ref + 1e-7 ||
            fabs(p.jac[q] - jp[qq].jac_softmax) > 1e-6 * ref)
            fail_msg("profile row %ld: jac %.9g, float64 reference %.9g, jac_norms %.9g", q,
                     p.jac[q], ref, jp[qq].jac_softmax);
    }
    free(x);
    free(jp);
    free(p.u);
    free(p.tr);
    free(p.jac);
    free(p1.u);
    free(p1.tr);
    free(p1.jac);
    traj_free(&t);
    mlp_free(&m);
}

/* ---- tanh and errors ---- */

static void test_tanh(void **st)
{
    (void)st;
    mlp m;
    make_net(&m, 2, 3, 2, 2, ACT_TANH, 1);
    float *W = mlp_w(&m, m.params, 0), *b = mlp_b(&m, m.params, 0);
    W[0] = 1, b[0] = 0;           /* 2 */
    W[3] = 1, b[1] = 0.5f;        /* 2 */
    W[4] = 1, b[2] = 3;           /* 0 */
    traj t;
    unit_circle(&t, 2);
    trans_result r;
    sn_err e = {0};
    assert_int_equal(trans_exact(&m, &t, NULL, &r, &e), SN_EARG);
    assert_non_null(strstr(e.msg, "tanh"));
    assert_int_equal(trans_sampled(&m, &t, 100, NULL, &r, &e), SN_EARG);
    trans_opts o = {.tanh_sign = 1};
    assert_int_equal(trans_exact(&m, &t, &o, &r, &e), SN_OK);
    assert_int_equal(r.transitions, 4);
    assert_int_equal(trans_sampled(&m, &t, 4096, &o, &r, &e), SN_OK);
    assert_int_equal(r.transitions, 4);
    mlp_free(&m);
    /* deeper random tanh: grid + bisection >= sampled */
    make_net(&m, 6, 16, 4, 3, ACT_TANH, 1);
    m.cfg.sigma_b2 = 0.1;
    rng rr;
    rng_seed(&rr, 9);
    mlp_init_params(&m, &rr);
    traj_free(&t);
    float x[18];
    for (int i = 0; i < 18; i++)
        x[i] = (float)rng_normal(&rr);
    assert_int_equal(traj_ellipse3(&t, x, x + 6, x + 12, 6, NULL), SN_OK);
    trans_result ex, sa;
    assert_int_equal(trans_exact(&m, &t, &o, &ex, &e), SN_OK);
    assert_int_equal(trans_sampled(&m, &t, 1 << 16, &o, &sa, &e), SN_OK);
    assert_true(sa.transitions <= ex.transitions && sa.transitions >= ex.transitions - 2);
    traj_free(&t);
    mlp_free(&m);
}

static void test_errors(void **st)
{
    (void)st;
    mlp m;
    make_net(&m, 3, 4, 2, 2, ACT_RELU, 0);
    traj t;
    unit_circle(&t, 2);
    trans_result r;
    sn_err e = {0};
    assert_int_equal(trans_exact(&m, &t, NULL, &r, &e), SN_ESHAPE);
    traj_free(&t);
    unit_circle(&t, 3);
    assert_int_equal(trans_sampled(&m, &t, 1, NULL, &r, &e), SN_EARG);
    assert_non_null(strstr(e.msg, "2 samples"));
    traj_free(&t);
    mlp_free(&m);
    /* depth 1: no hidden neurons, no transitions */
    make_net(&m, 3, 4, 1, 2, ACT_RELU, 0);
    unit_circle(&t, 3);
    assert_int_equal(trans_exact(&m, &t, NULL, &r, &e), SN_OK);
    assert_int_equal(r.transitions, 0);
    assert_int_equal(trans_sampled(&m, &t, 10, NULL, &r, &e), SN_OK);
    assert_int_equal(r.transitions, 0);
    traj_free(&t);
    mlp_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ellipse_anchors),
        cmocka_unit_test(test_translate_exact),
        cmocka_unit_test(test_length),
        cmocka_unit_test(test_pick_anchors),
        cmocka_unit_test(test_lines_relu),
        cmocka_unit_test(test_two_kinks),
        cmocka_unit_test(test_deep_hand),
        cmocka_unit_test(test_polygon_edges),
        cmocka_unit_test(test_random_exact_vs_sampled),
        cmocka_unit_test(test_wide_no_flicker),
        cmocka_unit_test(test_codes_reference),
        cmocka_unit_test(test_curvature_reference),
        cmocka_unit_test(test_sampled_profile),
        cmocka_unit_test(test_tanh),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
