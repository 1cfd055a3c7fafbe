/* test_stats.c: the analysis statistics against values computed without the
 * code under test: Pearson / Spearman / Kendall tau-b on hand-computed cases
 * (ties included, the arithmetic in comments), Kendall tau-b and tau-a
 * against brute-force O(n^2) pair counts on random data with many ties,
 * Spearman against Pearson of brute-force mid-ranks, the granulated Kendall
 * coefficient (tau-b, and Jiang et al.'s tau-a version) on constructed grids
 * with known answers and against a brute-force definition, the percentile
 * bootstrap's coverage in a simulation (bivariate normal, known rho), the
 * bootstrap distribution against a replay of its documented draws, the
 * cluster bootstrap's resamples checked one by one (whole clusters, G draws)
 * and its coverage in a simulation of clustered data beside the iid
 * bootstrap's, the bootstrap p-value, quantiles and the Holm adjustment on
 * hand-worked cases (Holm also against the sequential procedure), the AUC
 * against pair counting and the median against order statistics found by
 * counting, the Wilson interval and the normal quantile against reference
 * values (hand formula; Python's statistics.NormalDist, which uses Wichura's
 * AS241, an algorithm independent of ours). Prints both coverages as lines
 * "measured: ...". Runs in ~0.5 s at -O3, so the sanitized build runs the
 * same sizes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/core/rng.h"
#include "../src/analysis/stats.h"

#define N_OF(a) ((int)(sizeof(a) / sizeof((a)[0])))

static void near(double got, double want, double tol, const char *what)
{
    if (!(fabs(got - want) <= tol)) {
        fprintf(stderr, "%s: got %.17g, want %.17g (tol %g)\n", what, got, want, tol);
        fail();
    }
}

/* ---- hand-computed correlations ---- */

static void test_no_ties(void **state)
{
    (void)state;
    /* x = 1..5, y = 2,1,4,3,5.
     * Pearson: means 3, 3; dx = -2,-1,0,1,2; dy = -1,-2,1,0,2;
     *   sxy = 2+2+0+0+4 = 8, sxx = 10, syy = 1+4+1+0+4 = 10 -> r = 0.8.
     * Spearman: the values are their own ranks -> 0.8.
     * Kendall: of the 10 pairs only (1,2) and (3,4) are discordant:
     *   C = 8, D = 2, no ties -> tau = 6/10 = 0.6. */
    double x[] = {1, 2, 3, 4, 5}, y[] = {2, 1, 4, 3, 5};
    near(stats_pearson(x, y, 5), 0.8, 1e-15, "pearson");
    near(stats_spearman(x, y, 5), 0.8, 1e-15, "spearman");
    near(stats_kendall(x, y, 5), 0.6, 1e-15, "kendall");
    /* symmetric in its arguments */
    near(stats_kendall(y, x, 5), 0.6, 1e-15, "kendall(y,x)");
    near(stats_spearman(y, x, 5), 0.8, 1e-15, "spearman(y,x)");
    /* invariant to a shift and positive scale (Pearson: large offset) */
    double xs[5], ys[5];
    for (int i = 0; i < 5; i++)
        xs[i] = 1e8 + 3 * x[i], ys[i] = -7 + 0.5 * y[i];
    near(stats_pearson(xs, ys, 5), 0.8, 1e-9, "pearson shifted");
}

static void test_ties(void **state)
{
    (void)state;
    /* items A..F: x = 1,2,2,3,4,4; y = 2,3,1,3,3,1.
     * Kendall, the 15 pairs: concordant AB AD AE CD CE (5); discordant AC AF
     *   BF DF (4); tied in x only BC EF (n1 = 2); tied in y only BD BE DE CF
     *   (n2 = 4); no joint ties (n3 = 0).
     *   tau_b = (5 - 4) / sqrt((15 - 2)(15 - 4)) = 1 / sqrt(143).
     * Pearson: means 16/6, 13/6; 6*dx = -10,-4,-4,2,8,8;
     *   6*dy = -1,5,-7,5,5,-7; 36 sxy = 10-20+28+10+40-56 = 12;
     *   36 sxx = 100+16+16+4+64+64 = 264; 36 syy = 1+25+49+25+25+49 = 174
     *   -> r = 12 / sqrt(264 * 174).
     * Spearman: mid-ranks rx = 1,2.5,2.5,4,5.5,5.5; ry (y sorted 1,1,2,3,3,3)
     *   = 3,5,1.5,5,5,1.5; both mean 3.5; drx = -2.5,-1,-1,.5,2,2;
     *   dry = -.5,1.5,-2,1.5,1.5,-2; sxy = 1.25-1.5+2+.75+3-4 = 1.5;
     *   sxx = 16.5; syy = 15 -> rho = 1.5 / sqrt(247.5). */
    double x[] = {1, 2, 2, 3, 4, 4}, y[] = {2, 3, 1, 3, 3, 1};
    near(stats_kendall(x, y, 6), 1 / sqrt(143.0), 1e-15, "kendall ties");
    near(stats_pearson(x, y, 6), 12 / sqrt(264.0 * 174.0), 1e-15, "pearson ties");
    near(stats_spearman(x, y, 6), 1.5 / sqrt(247.5), 1e-15, "spearman ties");
    /* the same items in another order give the same values */
    double xp[] = {4, 2, 1, 4, 3, 2}, yp[] = {3, 1, 2, 1, 3, 3};
    near(stats_kendall(xp, yp, 6), 1 / sqrt(143.0), 1e-15, "kendall permuted");
    near(stats_spearman(xp, yp, 6), 1.5 / sqrt(247.5), 1e-15, "spearman permuted");

    /* Joint ties: x = 1,1,2, y = 1,1,2. Pairs: (1,2) tied in both
     * (n1 = n2 = n3 = 1), (1,3) and (2,3) concordant.
     * tau_b = 2 / sqrt((3-1)(3-1)) = 1. */
    double xj[] = {1, 1, 2}, yj[] = {1, 1, 2};
    near(stats_kendall(xj, yj, 3), 1.0, 1e-15, "kendall joint ties");
    /* x = 1,1,2,2, y = 1,2,1,2: pairs (1,2) x-tie, (3,4) x-tie, (1,3) y-tie,
     * (2,4) y-tie, (1,4) C, (2,3) D -> tau_b = 0 / 4 = 0. */
    double xq[] = {1, 1, 2, 2}, yq[] = {1, 2, 1, 2};
    near(stats_kendall(xq, yq, 4), 0.0, 1e-15, "kendall 2x2");
    /* x = 1,2,3,4 (no ties), y = 5,5,5,9: 3 y-tied pairs, 3 concordant,
     * tau_b = 3 / sqrt(6 * 3) = 1/sqrt(2). Spearman: ry = 2,2,2,4, drx =
     * -1.5,-.5,.5,1.5, dry = -.5,-.5,-.5,1.5; sxy = 3, sxx = 5, syy = 3
     * -> 3 / sqrt(15). */
    double xr[] = {1, 2, 3, 4}, yr[] = {5, 5, 5, 9};
    near(stats_kendall(xr, yr, 4), sqrt(0.5), 1e-15, "kendall y-ties");
    near(stats_spearman(xr, yr, 4), 3 / sqrt(15.0), 1e-15, "spearman y-ties");
}

static void test_perfect(void **state)
{
    (void)state;
    enum { n = 9 };
    double x[n], up[n], down[n], cube[n];
    for (int i = 0; i < n; i++) {
        x[i] = i - 4.0 + 0.25 * (i % 3);
        up[i] = 2 * x[i] + 1;
        down[i] = -3 * x[i] + 7;
        cube[i] = -x[i] * x[i] * x[i]; /* monotone decreasing, not linear */
    }
    near(stats_pearson(x, up, n), 1, 1e-14, "pearson +1");
    near(stats_pearson(x, down, n), -1, 1e-14, "pearson -1");
    near(stats_spearman(x, up, n), 1, 1e-14, "spearman +1");
    near(stats_spearman(x, cube, n), -1, 1e-14, "spearman -1");
    near(stats_kendall(x, up, n), 1, 1e-15, "kendall +1");
    near(stats_kendall(x, cube, n), -1, 1e-15, "kendall -1");
    assert_true(stats_pearson(x, cube, n) > -1 + 1e-3); /* not linear */
    assert_true(stats_pearson(x, up, n) <= 1.0);
    /* two items */
    double a[] = {0, 1}, b[] = {5, 3};
    near(stats_pearson(a, b, 2), -1, 1e-15, "pearson n=2");
    near(stats_spearman(a, b, 2), -1, 1e-15, "spearman n=2");
    near(stats_kendall(a, b, 2), -1, 1e-15, "kendall n=2");
}

static void test_nan_cases(void **state)
{
    (void)state;
    double x[] = {1, 2, 3, 4}, y[] = {4, 1, 3, 2}, c[] = {2, 2, 2, 2};
    double xn[] = {1, NAN, 3, 4};
    double (*fns[3])(const double *, const double *, int) = {stats_pearson, stats_spearman,
                                                             stats_kendall};
    for (int f = 0; f < 3; f++) {
        assert_false(isnan(fns[f](x, y, 4)));
        assert_true(isnan(fns[f](x, y, 1)));   /* n < 2 */
        assert_true(isnan(fns[f](x, y, 0)));
        assert_true(isnan(fns[f](x, c, 4)));   /* zero variance / all tie */
        assert_true(isnan(fns[f](c, y, 4)));
        assert_true(isnan(fns[f](xn, y, 4)));  /* NaN input */
        assert_true(isnan(fns[f](y, xn, 4)));
    }
    /* a NaN in the last item too (not only in the middle) */
    double yl[] = {4, 1, 3, NAN};
    assert_true(isnan(stats_kendall(x, yl, 4)));
    assert_true(isnan(stats_spearman(x, yl, 4)));
    /* infinite variance is not a correlation either */
    double xi[] = {1, 2, INFINITY, 4};
    assert_true(isnan(stats_pearson(xi, y, 4)));
}

/* ---- Kendall and Spearman against brute force ---- */

/* tau-b by counting every pair. */
static double kendall_brute_ab(const double *x, const double *y, int n, int tau_b)
{
    long long C = 0, D = 0, tx = 0, ty = 0, n0 = (long long)n * (n - 1) / 2;
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++) {
            double dx = x[i] - x[j], dy = y[i] - y[j];
            if (dx == 0)
                tx++;
            if (dy == 0)
                ty++;
            if (dx * dy > 0)
                C++;
            else if (dx * dy < 0)
                D++;
        }
    if (!tau_b)
        return (double)(C - D) / (double)n0;
    return (double)(C - D) / sqrt((double)(n0 - tx) * (double)(n0 - ty));
}

static double kendall_brute(const double *x, const double *y, int n)
{
    return kendall_brute_ab(x, y, n, 1);
}

/* Mid-rank of each x[i]: 1 + #(x_j < x_i) + (#(x_j == x_i) - 1) / 2. */
static void ranks_brute(const double *x, int n, double *r)
{
    for (int i = 0; i < n; i++) {
        int less = 0, eq = 0;
        for (int j = 0; j < n; j++)
            less += x[j] < x[i], eq += x[j] == x[i];
        r[i] = 1 + less + 0.5 * (eq - 1);
    }
}

/* Random x, y (n) with levels distinct values each (0: continuous) and a
 * dependence of strength s. */
static void random_pairs(rng *r, double *x, double *y, int n, int lx, int ly, double s)
{
    for (int i = 0; i < n; i++) {
        double u = rng_normal(r), v = s * u + rng_normal(r);
        x[i] = lx ? floor(lx * 0.5 * (1 + erf(u / M_SQRT2))) : u;
        y[i] = ly ? floor(ly * 0.5 * (1 + erf(v / sqrt(2 * (1 + s * s))))) : v;
    }
}

static void test_kendall_brute(void **state)
{
    (void)state;
    rng r;
    rng_seed(&r, 11);
    int sizes[] = {2, 3, 7, 37, 47, 48, 64, 500, 501}; /* both sides of KENDALL_DIRECT */
    int levels[][2] = {{3, 4}, {10, 7}, {0, 5}, {2, 0}, {0, 0}, {50, 50}};
    double *x = malloc(sizeof(double) * 501), *y = malloc(sizeof(double) * 501);
    int checked = 0;
    for (int a = 0; a < N_OF(sizes); a++)
        for (int b = 0; b < N_OF(levels); b++)
            for (int k = 0; k < 3; k++) {
                int n = sizes[a];
                double s = k == 0 ? 0.0 : k == 1 ? 1.5 : -0.7;
                random_pairs(&r, x, y, n, levels[b][0], levels[b][1], s);
                double want = kendall_brute(x, y, n), got = stats_kendall(x, y, n);
                /* tau-a too (the granulated coefficient's default) */
                near(stats_kendall_a(x, y, n), kendall_brute_ab(x, y, n, 0), 1e-12, "tau-a");
                if (isnan(want)) {
                    assert_true(isnan(got));
                    continue;
                }
                char what[64];
                snprintf(what, sizeof what, "kendall n=%d levels %d,%d", n, levels[b][0],
                         levels[b][1]);
                near(got, want, 1e-12, what);
                checked++;
            }
    assert_true(checked > 100);
    free(x);
    free(y);
}

static void test_spearman_midranks(void **state)
{
    (void)state;
    rng r;
    rng_seed(&r, 12);
    enum { n = 300 };
    double x[n], y[n], rx[n], ry[n], rs[n];
    int levels[][2] = {{4, 6}, {0, 9}, {30, 0}, {0, 0}};
    for (int b = 0; b < N_OF(levels); b++) {
        random_pairs(&r, x, y, n, levels[b][0], levels[b][1], 0.8);
        ranks_brute(x, n, rx);
        ranks_brute(y, n, ry);
        near(stats_spearman(x, y, n), stats_pearson(rx, ry, n), 1e-13, "spearman = pearson(ranks)");
        assert_int_equal(stats_midranks(x, n, rs), 0);
        for (int i = 0; i < n; i++)
            near(rs[i], rx[i], 0, "midrank");
    }
    /* the sort's key space: both signs, -0 and +0 (equal: one tie), both
     * infinities, subnormals, the extremes, values that differ only in
     * the lowest bits or only in the highest; below and above the size
     * where the radix sort takes over from insertion (64), and large */
    static const double special[] = {0.0, -0.0, INFINITY, -INFINITY, 4.9e-324, -4.9e-324,
                                     1.7976931348623157e308, -1.7976931348623157e308, 1.0,
                                     1.0000000000000002, -1.0, -0.9999999999999999, 2.0, -2.0};
    for (int size = 1; size <= 5000; size = size < 100 ? size * 3 + 1 : size * 7) {
        double *xs = malloc(sizeof(double) * size), *want = malloc(sizeof(double) * size);
        double *got = malloc(sizeof(double) * size);
        assert_non_null(xs), assert_non_null(want), assert_non_null(got);
        for (int i = 0; i < size; i++) {
            uint32_t k = rng_below(&r, 4);
            xs[i] = k == 0   ? special[rng_below(&r, N_OF(special))]
                    : k == 1 ? (double)((int)rng_below(&r, 7) - 3)
                             : rng_normal(&r) * (k == 2 ? 1e-300 : 1e300);
        }
        ranks_brute(xs, size, want);
        assert_int_equal(stats_midranks(xs, size, got), 0);
        for (int i = 0; i < size; i++)
            near(got[i], want[i], 0, "midrank of special values");
        free(xs), free(want), free(got);
    }
    /* resample ranks from tie groups = ranks of the resampled values */
    for (int b = 0; b < N_OF(levels); b++) {
        random_pairs(&r, x, y, n, levels[b][0], levels[b][1], 0.8);
        int gid[n], idx[2 * n], cnt[n + 1];
        double vals[2 * n], want[2 * n], got[2 * n];
        int G = stats_tie_groups(x, n, gid);
        assert_true(G >= 1 && G <= n);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                assert_true((gid[i] < gid[j]) == (x[i] < x[j]) && (gid[i] == gid[j]) == (x[i] == x[j]));
        for (int m = 1; m <= 2 * n; m = m * 2 + 1) {
            for (int i = 0; i < m; i++)
                idx[i] = (int)rng_below(&r, n), vals[i] = x[idx[i]];
            ranks_brute(vals, m, want);
            stats_group_midranks(gid, G, idx, m, cnt, got);
            for (int i = 0; i < m; i++)
                near(got[i], want[i], 0, "group midrank");
        }
    }
    double v[] = {10, 20, 20, 30}, w[4];
    assert_int_equal(stats_midranks(v, 4, w), 0);
    near(w[0], 1, 0, "r0");
    near(w[1], 2.5, 0, "r1");
    near(w[2], 2.5, 0, "r2");
    near(w[3], 4, 0, "r3");
}

/* Knight's algorithm at the paper's scale (n = 200000, ~2e10 pairs: int64
 * counts): tau of (x, x) is 1 and of (x, -x) is -1 however many ties; for
 * independent x, y tau is within 6 standard deviations (sd ~ sqrt(4/(9n)))
 * of 0. */
static void test_kendall_large(void **state)
{
    (void)state;
    const int n = 200000;
    double *x = malloc(sizeof(double) * n), *y = malloc(sizeof(double) * n);
    rng r;
    rng_seed(&r, 13);
    for (int i = 0; i < n; i++)
        x[i] = (double)rng_below(&r, 1000), y[i] = -x[i];
    near(stats_kendall(x, x, n), 1, 1e-12, "kendall(x,x)");
    near(stats_kendall(x, y, n), -1, 1e-12, "kendall(x,-x)");
    /* independent x, y: tau ~ N(0, ~(2/3)^2 * 2 / n) */
    for (int i = 0; i < n; i++)
        y[i] = (double)rng_below(&r, 1000);
    assert_true(fabs(stats_kendall(x, y, n)) < 6 * sqrt(4.0 / (9.0 * n)));
    free(x);
    free(y);
}

/* ---- granulated Kendall ---- */

static void test_granulated_grid(void **state)
{
    (void)state;
    /* 3 x 4 grid, item i = (a0, a1) = (i / 4, i % 4). Axis 0 varies a0 with
     * a1 fixed: group id a1; axis 1 varies a1 with a0 fixed: group id a0.
     * y = 10 a0 + a1, x = 10 a0 - a1: with a1 fixed, x and y both rise with
     * a0 (tau = 1 in each of the 4 groups, psi_0 = 1); with a0 fixed, y
     * rises and x falls with a1 (tau = -1 in each of the 3 groups, psi_1 =
     * -1). Result (1 + -1) / 2 = 0. Plain Kendall over all 12 items is not
     * 0: of the 66 pairs the 18 within a row (same a0) are discordant, the
     * other 48 concordant, tau = 30/66 = 5/11, so the grouping matters. */
    enum { n = 12, A = 2 };
    double x[n], y[n], per[A];
    int g[A * n];
    for (int i = 0; i < n; i++) {
        int a0 = i / 4, a1 = i % 4;
        y[i] = 10 * a0 + a1;
        x[i] = 10 * a0 - a1;
        g[0 * n + i] = a1;
        g[1 * n + i] = a0;
    }
    near(stats_granulated_kendall(x, y, g, n, A, per), 0, 1e-15, "granulated grid");
    near(per[0], 1, 1e-15, "psi_0");
    near(per[1], -1, 1e-15, "psi_1");
    near(stats_kendall(x, y, n), 5.0 / 11, 1e-15, "plain kendall of the grid");
    /* per_axis may be NULL */
    near(stats_granulated_kendall(x, y, g, n, A, NULL), 0, 1e-15, "granulated NULL");
    /* one axis only: the mean is psi of that axis */
    near(stats_granulated_kendall(x, y, g + n, n, 1, per), -1, 1e-15, "axis 1 alone");

    /* Not +-1: within the a1-fixed groups replace x by a permutation whose
     * tau against 0,1,2 is known: x order (0,2,1) gives C = 2, D = 1, tau =
     * 1/3 in every group -> psi_0 = 1/3, psi_1 unchanged (x still falls with
     * a1 inside each a0 row because the row offsets are 10 apart). */
    int perm[3] = {0, 2, 1};
    for (int i = 0; i < n; i++)
        x[i] = 10 * perm[i / 4] - (i % 4);
    near(stats_granulated_kendall(x, y, g, n, A, per), (1.0 / 3 - 1) / 2, 1e-15, "granulated 1/3");
    near(per[0], 1.0 / 3, 1e-15, "psi_0 = 1/3");
    near(per[1], -1, 1e-15, "psi_1 = -1");
}

static void test_granulated_skips(void **state)
{
    (void)state;
    /* 7 items, 3 axes.
     * Axis 0: group 5 = items {2, 3, 5}: x = 3,4,6, y = 2,0,5: pairs (2,3)
     *   discordant, (2,5) and (3,5) concordant -> tau = 1/3. Items 0 and 6
     *   are singletons (ids 1 and 8), items 1 and 4 are left out (-1); were
     *   they compared, (1,4) would be a group with x = 1,0, y = 3,5, tau = -1.
     *   psi_0 = 1/3.
     * Axis 1: group 0 = {0, 1}: x ties (1, 1) -> tau NaN, skipped; group 1 =
     *   {2, 3, 4}: x = 3,4,0, y = 2,0,5: all three pairs discordant, tau = -1;
     *   group 2 = {5, 6}: x = 6,7, y = 5,6, tau = 1. psi_1 = 0.
     * Axis 2: every item -1 -> no group, psi_2 = NaN, not in the mean.
     * Result (1/3 + 0) / 2 = 1/6. */
    enum { n = 7, A = 3 };
    double x[n] = {1, 1, 3, 4, 0, 6, 7};
    double y[n] = {1, 3, 2, 0, 5, 5, 6};
    int g[A * n] = {1, -1, 5, 5, -1, 5, 8,      /* axis 0 */
                    0, 0, 1, 1, 1, 2, 2,        /* axis 1 */
                    -1, -1, -1, -1, -1, -1, -1}; /* axis 2 */
    double per[A];
    near(stats_granulated_kendall(x, y, g, n, A, per), 1.0 / 6, 1e-15, "granulated skips");
    near(per[0], 1.0 / 3, 1e-15, "psi_0 skips");
    near(per[1], 0, 1e-15, "psi_1 skips");
    assert_true(isnan(per[2]));

    /* Group ids need not be contiguous or sorted: relabel axis 1's groups
     * 0,1,2 as 1000, -1 -> (stays -1), 7 -> same answer. */
    int g2[A * n];
    memcpy(g2, g, sizeof g);
    for (int i = 0; i < n; i++)
        g2[n + i] = g[n + i] == 0 ? 1000 : g[n + i] == 1 ? 7 : 3;
    near(stats_granulated_kendall(x, y, g2, n, A, per), 1.0 / 6, 1e-15, "relabelled");

    /* No axis with a group of >= 2 items with a defined tau -> NaN. */
    int gs[A * n];
    for (int a = 0; a < A; a++)
        for (int i = 0; i < n; i++)
            gs[a * n + i] = a == 0 ? i : a == 1 ? -1 : (i < 2 ? 4 : -1); /* {0,1}: x tie */
    assert_true(isnan(stats_granulated_kendall(x, y, gs, n, A, per)));
    for (int a = 0; a < A; a++)
        assert_true(isnan(per[a]));
    /* NaN input -> NaN */
    double xn[n];
    memcpy(xn, x, sizeof x);
    xn[3] = NAN;
    assert_true(isnan(stats_granulated_kendall(xn, y, g, n, A, per)));
    assert_true(isnan(stats_granulated_kendall(x, y, g, 1, 1, per)));
}

/* Granulated Kendall against a brute-force version (pair counts within
 * groups) on random groupings with many ties and skipped items. */
static void test_granulated_brute(void **state)
{
    (void)state;
    enum { n = 400, A = 3 };
    rng r;
    rng_seed(&r, 14);
    double *x = malloc(sizeof(double) * n), *y = malloc(sizeof(double) * n);
    double gx[n], gy[n], per[A], psi[A];
    int *g = malloc(sizeof(int) * A * n);
    for (int trial = 0; trial < 5; trial++) {
        random_pairs(&r, x, y, n, 6, 5, 0.5 * trial - 1);
        for (int a = 0; a < A; a++)
            for (int i = 0; i < n; i++) {
                int ng = a == 0 ? 3 : a == 1 ? 40 : 150; /* big, small, mostly 1-2 item groups */
                g[a * n + i] = rng_uniform(&r) < 0.2 ? -1 : (int)rng_below(&r, ng);
            }
        double sum = 0;
        int na = 0;
        for (int a = 0; a < A; a++) {
            double s = 0;
            int ng = 0;
            for (int id = 0; id < 150; id++) {
                int m = 0;
                for (int i = 0; i < n; i++)
                    if (g[a * n + i] == id)
                        gx[m] = x[i], gy[m] = y[i], m++;
                if (m < 2)
                    continue;
                double t = kendall_brute(gx, gy, m);
                if (!isnan(t))
                    s += t, ng++;
            }
            if (ng)
                sum += s / ng, na++;
            double want = ng ? s / ng : NAN;
            psi[a] = want;
        }
        near(stats_granulated_kendall(x, y, g, n, A, per), sum / na, 1e-12, "granulated brute");
        for (int a = 0; a < A; a++)
            near(per[a], psi[a], 1e-12, "psi brute");
    }
    free(x);
    free(y);
    free(g);
}

/* ---- bootstrap ---- */

typedef struct {
    const double *x, *y; // (n) the data
    double *bx, *by;     // (n) resample scratch
} pearson_ctx;

static double boot_pearson(const int *idx, int m, void *ctx)
{
    pearson_ctx *c = ctx;
    for (int i = 0; i < m; i++)
        c->bx[i] = c->x[idx[i]], c->by[i] = c->y[idx[i]];
    return stats_pearson(c->bx, c->by, m);
}

static void test_bootstrap_coverage(void **state)
{
    (void)state;
    const int datasets = 200, reps = 400;
    enum { n = 50 };
    const double rho = 0.5;
    double x[n], y[n], bx[n], by[n];
    pearson_ctx c = {x, y, bx, by};
    rng r;
    rng_seed(&r, 2018);
    int cover = 0, below = 0;
    double width = 0;
    for (int d = 0; d < datasets; d++) {
        for (int i = 0; i < n; i++) {
            double z1 = rng_normal(&r), z2 = rng_normal(&r);
            x[i] = z1;
            y[i] = rho * z1 + sqrt(1 - rho * rho) * z2;
        }
        double lo, hi;
        assert_int_equal(stats_bootstrap(boot_pearson, &c, n, reps, rng_derive(7, d), 0.95, &lo, &hi), 0);
        assert_false(isnan(lo));
        assert_true(lo <= hi);
        cover += lo <= rho && rho <= hi;
        below += hi < rho;
        width += hi - lo;
    }
    double rate = (double)cover / datasets;
    printf("measured: bootstrap 95%% percentile interval of Pearson (n=%d, rho=%.1f, %d reps) "
           "covers rho in %d/%d = %.3f of datasets (mean width %.3f, %d entirely below)\n",
           n, rho, reps, cover, datasets, rate, width / datasets, below);
    assert_true(rate >= 0.85 && rate <= 0.99);
}

/* f = the first resampled index: its bootstrap distribution is uniform on
 * 0..n-1, so the 95% interval is about [0.025 (n-1), 0.975 (n-1)]. */
static double boot_first(const int *idx, int m, void *ctx)
{
    (void)m;
    (void)ctx;
    return idx[0];
}

/* f = the largest resampled index, after checking the resample's size
 * (ctx: n) and range. */
static double boot_max(const int *idx, int m, void *ctx)
{
    int n = *(int *)ctx, mx = -1;
    if (m != n)
        return -100;
    for (int i = 0; i < m; i++) {
        if (idx[i] < 0 || idx[i] >= n)
            return -100;
        mx = idx[i] > mx ? idx[i] : mx;
    }
    return mx;
}

/* f = NaN when the first resampled index is below a threshold (a fraction
 * of the resamples), else the resample mean of the index. */
static double boot_partly_nan(const int *idx, int m, void *ctx)
{
    int thresh = *(int *)ctx;
    if (idx[0] < thresh)
        return NAN;
    double s = 0;
    for (int i = 0; i < m; i++)
        s += idx[i];
    return s / m;
}

static void test_bootstrap_basics(void **state)
{
    (void)state;
    const int reps = 20000;
    double lo, hi, lo2, hi2;
    /* percentile mapping: n = 101, quantiles 2.5 and 97.5 (sd of the
     * estimated quantile ~ sqrt(.025 * .975 / reps) * 101 < 0.3) */
    assert_int_equal(stats_bootstrap(boot_first, NULL, 101, reps, 1, 0.95, &lo, &hi), 0);
    near(lo, 2.5, 1.5, "uniform lo");
    near(hi, 97.5, 1.5, "uniform hi");
    assert_int_equal(stats_bootstrap(boot_first, NULL, 101, reps, 1, 0.5, &lo, &hi), 0);
    near(lo, 25, 2, "uniform lo 50%");
    near(hi, 75, 2, "uniform hi 50%");
    /* every item can be drawn: n = 10, the max index of a resample has
     * P(max <= 7) = 0.8^10 = 0.107, P(max <= 8) = 0.9^10 = 0.349, so its 25%
     * and 75% quantiles are exactly 8 and 9 */
    int ten = 10;
    assert_int_equal(stats_bootstrap(boot_max, &ten, 10, reps, 2, 0.5, &lo, &hi), 0);
    near(lo, 8, 0, "max lo");
    near(hi, 9, 0, "max hi");

    /* determinism: same seed, same interval; another seed, another one */
    enum { n = 40 };
    double x[n], y[n], bx[n], by[n];
    pearson_ctx c = {x, y, bx, by};
    rng r;
    rng_seed(&r, 3);
    random_pairs(&r, x, y, n, 0, 0, 1.0);
    assert_int_equal(stats_bootstrap(boot_pearson, &c, n, 300, 42, 0.95, &lo, &hi), 0);
    assert_int_equal(stats_bootstrap(boot_pearson, &c, n, 300, 42, 0.95, &lo2, &hi2), 0);
    assert_true(lo == lo2 && hi == hi2);
    assert_int_equal(stats_bootstrap(boot_pearson, &c, n, 300, 43, 0.95, &lo2, &hi2), 0);
    assert_true(lo != lo2 || hi != hi2);
    double r0 = stats_pearson(x, y, n);
    assert_true(lo < r0 && r0 < hi);
    /* a wider level gives a wider interval from the same resamples */
    assert_int_equal(stats_bootstrap(boot_pearson, &c, n, 300, 42, 0.99, &lo2, &hi2), 0);
    assert_true(lo2 <= lo && hi2 >= hi);

    /* constant statistic -> degenerate interval */
    for (int i = 0; i < n; i++)
        y[i] = 2 * x[i] + 1;
    assert_int_equal(stats_bootstrap(boot_pearson, &c, n, 100, 5, 0.95, &lo, &hi), 0);
    near(lo, 1, 1e-12, "constant lo");
    near(hi, 1, 1e-12, "constant hi");

    /* NaN resamples: ~30% NaN are dropped (finite interval, from the
     * non-NaN resamples only: all >= 0); ~70% NaN -> NaN interval */
    int thresh = 30;
    assert_int_equal(stats_bootstrap(boot_partly_nan, &thresh, 100, 2000, 9, 0.95, &lo, &hi), 0);
    assert_false(isnan(lo) || isnan(hi));
    assert_true(lo > 35 && hi < 80);
    thresh = 70;
    assert_int_equal(stats_bootstrap(boot_partly_nan, &thresh, 100, 2000, 9, 0.95, &lo, &hi), 0);
    assert_true(isnan(lo) && isnan(hi));
    thresh = 1000; /* all NaN */
    assert_int_equal(stats_bootstrap(boot_partly_nan, &thresh, 100, 50, 9, 0.95, &lo, &hi), 0);
    assert_true(isnan(lo) && isnan(hi));
    /* a statistic NaN on every resample of a zero-variance sample */
    for (int i = 0; i < n; i++)
        y[i] = 3;
    assert_int_equal(stats_bootstrap(boot_pearson, &c, n, 50, 5, 0.95, &lo, &hi), 0);
    assert_true(isnan(lo) && isnan(hi));
    /* bad arguments: no items, no resamples, level outside (0, 1) */
    assert_int_equal(stats_bootstrap(boot_first, NULL, 0, 50, 1, 0.95, &lo, &hi), 0);
    assert_true(isnan(lo) && isnan(hi));
    assert_int_equal(stats_bootstrap(boot_first, NULL, 10, 0, 1, 0.95, &lo, &hi), 0);
    assert_true(isnan(lo) && isnan(hi));
    assert_int_equal(stats_bootstrap(boot_first, NULL, 10, 50, 1, 1.0, &lo, &hi), 0);
    assert_true(isnan(lo) && isnan(hi));
}

/* ---- the bootstrap distribution: stats_resample and what reads it ---- */

/* Insertion sort (test-side, independent of the code under test's qsort). */
static void sort_brute(double *v, int n)
{
    for (int i = 1; i < n; i++) {
        double t = v[i];
        int j = i - 1;
        while (j >= 0 && v[j] > t)
            v[j + 1] = v[j], j--;
        v[j + 1] = t;
    }
}

/* Quantile q of sorted v (m): h = (m - 1) q, v[floor h] + frac(h) * (next
 * - v[floor h]) (Hyndman-Fan type 7), written out again here. */
static double quantile_brute(const double *v, int m, double q)
{
    double h = (m - 1) * q;
    int k = (int)floor(h);
    return k >= m - 1 ? v[m - 1] : v[k] + (h - k) * (v[k + 1] - v[k]);
}

static void test_quantile_interval(void **state)
{
    (void)state;
    /* v = 1, 2, 4, 8: q = .5 -> h = 1.5 -> 2 + .5 * (4 - 2) = 3; q = 1/3 ->
     * h = 1 -> 2; q = .9 -> h = 2.7 -> 4 + .7 * 4 = 6.8; q = 0, 1 -> ends;
     * outside [0, 1] clamped */
    double v[] = {1, 2, 4, 8};
    near(stats_quantile_sorted(v, 4, 0.5), 3, 1e-15, "q .5");
    near(stats_quantile_sorted(v, 4, 1.0 / 3), 2, 1e-15, "q 1/3");
    near(stats_quantile_sorted(v, 4, 0.9), 6.8, 1e-14, "q .9");
    near(stats_quantile_sorted(v, 4, 0), 1, 0, "q 0");
    near(stats_quantile_sorted(v, 4, 1), 8, 0, "q 1");
    near(stats_quantile_sorted(v, 4, -3), 1, 0, "q < 0");
    near(stats_quantile_sorted(v, 4, 7), 8, 0, "q > 1");
    /* so large that (n - 1) q does not fit an int */
    near(stats_quantile_sorted(v, 4, 1e300), 8, 0, "q huge");
    near(stats_quantile_sorted(v, 4, INFINITY), 8, 0, "q inf");
    near(stats_quantile_sorted(v, 4, -1e300), 1, 0, "q huge negative");
    near(stats_quantile_sorted(v, 1, 0.3), 1, 0, "q of one value");
    assert_true(isnan(stats_quantile_sorted(v, 0, 0.5)));
    assert_true(isnan(stats_quantile_sorted(v, 4, NAN)));

    /* 0, 1, ..., 100: the 90% interval is [q .05, q .95] = [5, 95]
     * (h = 100 q is an integer) */
    double u[101], lo, hi;
    for (int i = 0; i <= 100; i++)
        u[i] = i;
    stats_percentile_interval(u, 101, 101, 0.90, &lo, &hi);
    near(lo, 5, 1e-12, "interval lo");
    near(hi, 95, 1e-12, "interval hi");
    /* the NaN rule: at most half the resamples may have been dropped */
    stats_percentile_interval(u, 51, 101, 0.90, &lo, &hi); /* 50 of 101 dropped */
    assert_false(isnan(lo) || isnan(hi));
    stats_percentile_interval(u, 50, 101, 0.90, &lo, &hi); /* 51 of 101 dropped */
    assert_true(isnan(lo) && isnan(hi));
    stats_percentile_interval(u, 50, 100, 0.90, &lo, &hi); /* exactly half */
    assert_false(isnan(lo) || isnan(hi));
    stats_percentile_interval(u, 0, 0, 0.90, &lo, &hi);
    assert_true(isnan(lo) && isnan(hi));
    stats_percentile_interval(u, 101, 101, 1.0, &lo, &hi);
    assert_true(isnan(lo) && isnan(hi));
    stats_percentile_interval(u, 101, 50, 0.9, &lo, &hi); /* kept > reps */
    assert_true(isnan(lo) && isnan(hi));
}

/* cluster == NULL: the distribution is the documented draws (n times
 * rng_below(n) per resample from rng_seed(seed)), replayed here, and its
 * percentile interval is stats_bootstrap's, bit for bit. */
static void test_resample_iid(void **state)
{
    (void)state;
    enum { n = 40, reps = 300 };
    double x[n], y[n], bx[n], by[n], out[reps], want[reps];
    int idx[n];
    pearson_ctx c = {x, y, bx, by};
    rng r;
    rng_seed(&r, 21);
    random_pairs(&r, x, y, n, 0, 0, 1.0);
    uint64_t seeds[] = {42, 7, 0};
    for (int s = 0; s < N_OF(seeds); s++) {
        int kept = -1;
        assert_int_equal(stats_resample(boot_pearson, &c, NULL, n, reps, seeds[s], out, &kept), 0);
        assert_int_equal(kept, reps);
        rng q;
        rng_seed(&q, seeds[s]);
        for (int b = 0; b < reps; b++) {
            for (int i = 0; i < n; i++)
                idx[i] = (int)rng_below(&q, n);
            want[b] = boot_pearson(idx, n, &c);
        }
        sort_brute(want, reps);
        for (int b = 0; b < reps; b++)
            near(out[b], want[b], 0, "replayed resample");
        double levels[] = {0.95, 0.5, 0.99};
        for (int l = 0; l < N_OF(levels); l++) {
            double lo, hi, lo2, hi2;
            assert_int_equal(
                stats_bootstrap(boot_pearson, &c, n, reps, seeds[s], levels[l], &lo, &hi), 0);
            stats_percentile_interval(out, kept, reps, levels[l], &lo2, &hi2);
            assert_true(lo == lo2 && hi == hi2);
            near(lo, quantile_brute(want, reps, 0.5 * (1 - levels[l])), 0, "brute lo");
            near(hi, quantile_brute(want, reps, 0.5 * (1 + levels[l])), 0, "brute hi");
        }
    }
    /* NaN resamples are dropped: boot_partly_nan is NaN when the first
     * draw of a resample is < thresh; replay to count them */
    static double big[2000];
    int thresholds[] = {30, 70};
    for (int t = 0; t < N_OF(thresholds); t++) {
        int thresh = thresholds[t], kept, want_kept = 0;
        assert_int_equal(stats_resample(boot_partly_nan, &thresh, NULL, 100, 2000, 9, big, &kept), 0);
        rng q;
        rng_seed(&q, 9);
        for (int b = 0; b < 2000; b++) {
            want_kept += rng_below(&q, 100) >= (uint32_t)thresh;
            for (int i = 1; i < 100; i++)
                rng_below(&q, 100);
        }
        assert_int_equal(kept, want_kept);
        for (int b = 1; b < kept; b++)
            assert_true(big[b - 1] <= big[b]);
        double lo, hi, lo2, hi2;
        assert_int_equal(stats_bootstrap(boot_partly_nan, &thresh, 100, 2000, 9, 0.95, &lo, &hi), 0);
        stats_percentile_interval(big, kept, 2000, 0.95, &lo2, &hi2);
        assert_true(t == 0 ? lo == lo2 && hi == hi2 : isnan(lo2) && isnan(hi2) && isnan(lo));
    }
    /* nothing to resample */
    int kept = -1;
    assert_int_equal(stats_resample(boot_first, NULL, NULL, 0, 10, 1, out, &kept), 0);
    assert_int_equal(kept, 0);
    kept = -1;
    assert_int_equal(stats_resample(boot_first, NULL, NULL, 10, 0, 1, out, &kept), 0);
    assert_int_equal(kept, 0);
}

/* What the clustered resampling passes f, checked on every resample. */
enum { CL_MAXN = 64 };
typedef struct {
    const int *cl;        // (n) cluster id of each item
    int n, G;             // items, distinct ids
    int size;             // the common cluster size (0 when sizes differ)
    int min_size, max_size;
    int bad;              // resamples that broke a rule
    long draws[CL_MAXN];  // per item: times it was passed, over all resamples
} clus_ctx;

/* f = the number of distinct clusters in the resample, after checking: the
 * indices are in range, all items of a drawn cluster come together (each
 * appears as often as the others of its cluster), G clusters were drawn in
 * all, and m is their total size. */
static double boot_clusters(const int *idx, int m, void *ctx)
{
    clus_ctx *c = ctx;
    int count[CL_MAXN] = {0};
    for (int k = 0; k < m; k++) {
        if (idx[k] < 0 || idx[k] >= c->n) {
            c->bad++;
            return NAN;
        }
        count[idx[k]]++;
    }
    int distinct = 0, drawn = 0;
    for (int i = 0; i < c->n; i++) {
        c->draws[i] += count[i];
        int first = 1; /* i is the first item of its cluster */
        for (int j = 0; j < i; j++)
            if (c->cl[j] == c->cl[i]) {
                first = 0;
                if (count[j] != count[i])
                    c->bad++;
                break;
            }
        if (first) {
            drawn += count[i];
            distinct += count[i] > 0;
        }
    }
    if (drawn != c->G || m < c->G * c->min_size || m > c->G * c->max_size)
        c->bad++;
    if (c->size && (m % c->size != 0 || m != c->G * c->size))
        c->bad++;
    if (distinct > c->G)
        c->bad++;
    return distinct;
}

static void test_resample_clustered(void **state)
{
    (void)state;
    enum { reps = 4000 };
    static double out[reps];
    /* 7 clusters of 3 items with arbitrary, interleaved ids */
    int ids[7] = {5, -3, 100, 42, 0, -77, 9}, cl[21];
    for (int i = 0; i < 21; i++)
        cl[i] = ids[i % 7];
    clus_ctx c = {cl, 21, 7, 3, 3, 3, 0, {0}};
    int kept;
    assert_int_equal(stats_resample(boot_clusters, &c, cl, 21, reps, 5, out, &kept), 0);
    assert_int_equal(c.bad, 0);
    assert_int_equal(kept, reps);
    assert_true(out[0] >= 1 && out[kept - 1] <= 7);
    /* draws are uniform with replacement: E[distinct] = G (1 - (1 - 1/G)^G)
     * = 7 (1 - (6/7)^7) = 4.6206 (sd of one resample's count < 1, of the
     * mean over 4000 < 0.016); every cluster is drawn once per resample on
     * average (sd over 4000 resamples ~ 59) */
    double mean = 0;
    for (int b = 0; b < kept; b++)
        mean += out[b];
    mean /= kept;
    near(mean, 7 * (1 - pow(6.0 / 7, 7)), 0.1, "mean distinct clusters");
    for (int i = 0; i < 21; i++)
        near((double)c.draws[i], reps, 0.08 * reps, "draws of a cluster");

    /* unequal sizes: id 3 has 2 items, 8 has 5, 1 has 3, -2 has 1 (G = 4) */
    int cu[11] = {3, 3, 8, 1, 8, 8, 8, -2, 1, 1, 8};
    clus_ctx u = {cu, 11, 4, 0, 1, 5, 0, {0}};
    assert_int_equal(stats_resample(boot_clusters, &u, cu, 11, reps, 6, out, &kept), 0);
    assert_int_equal(u.bad, 0);
    assert_true(out[0] >= 1 && out[kept - 1] <= 4);
    /* one cluster: every resample is all items, once */
    int one[5] = {9, 9, 9, 9, 9};
    clus_ctx o = {one, 5, 1, 5, 5, 5, 0, {0}};
    assert_int_equal(stats_resample(boot_clusters, &o, one, 5, 50, 7, out, &kept), 0);
    assert_int_equal(o.bad, 0);
    assert_true(out[0] == 1 && out[kept - 1] == 1);
    for (int i = 0; i < 5; i++)
        assert_true(o.draws[i] == 50);

    /* distinct ids increasing in i: exactly the iid resamples (documented) */
    enum { n = 40 };
    double x[n], y[n], bx[n], by[n], want[300];
    static double got[300];
    int sing[n];
    pearson_ctx pc = {x, y, bx, by};
    rng r;
    rng_seed(&r, 22);
    random_pairs(&r, x, y, n, 0, 0, 0.7);
    for (int i = 0; i < n; i++)
        sing[i] = 10 * i - 7;
    int k1, k2;
    assert_int_equal(stats_resample(boot_pearson, &pc, sing, n, 300, 8, got, &k1), 0);
    assert_int_equal(stats_resample(boot_pearson, &pc, NULL, n, 300, 8, want, &k2), 0);
    assert_int_equal(k1, k2);
    for (int b = 0; b < k1; b++)
        assert_true(got[b] == want[b]);
}

/* f = the mean of the resampled values (ctx: the values). */
static double boot_mean(const int *idx, int m, void *ctx)
{
    const double *v = ctx;
    double s = 0;
    for (int i = 0; i < m; i++)
        s += v[idx[i]];
    return s / m;
}

/* Coverage of the true mean by the 95% percentile interval of the mean
 * when items come in clusters (20 clusters of 3: a cluster effect of sd 1
 * shared by its items, item noise sd 0.3). The mean's sd is sqrt((1 + .09 /
 * 3) / 20) = 0.227; resampling items as if independent estimates it as
 * ~sqrt(1.09 / 60) = 0.135, so the iid interval should cover only ~75%
 * (P(|Z| < 1.96 * 0.135 / 0.227)); resampling whole clusters should cover
 * ~93% (the percentile bootstrap of a mean of 20 runs a little narrow). */
static void test_resample_cluster_coverage(void **state)
{
    (void)state;
    enum { G = 20, S = 3, n = G * S, datasets = 300, reps = 300 };
    const double mu = 1.5;
    double v[n], out[reps];
    int cl[n];
    for (int i = 0; i < n; i++)
        cl[i] = i / S;
    rng r;
    rng_seed(&r, 2020);
    int cover_c = 0, cover_i = 0, reject_c = 0, kept;
    double width_c = 0, width_i = 0;
    for (int d = 0; d < datasets; d++) {
        for (int g = 0; g < G; g++) {
            double u = rng_normal(&r);
            for (int s = 0; s < S; s++)
                v[g * S + s] = mu + u + 0.3 * rng_normal(&r);
        }
        double lo, hi;
        assert_int_equal(stats_resample(boot_mean, v, cl, n, reps, rng_derive(31, d), out, &kept), 0);
        assert_int_equal(kept, reps);
        stats_percentile_interval(out, kept, reps, 0.95, &lo, &hi);
        cover_c += lo <= mu && mu <= hi;
        width_c += hi - lo;
        reject_c += stats_boot_p(out, kept, mu) < 0.05;
        assert_int_equal(stats_resample(boot_mean, v, NULL, n, reps, rng_derive(31, d), out, &kept), 0);
        stats_percentile_interval(out, kept, reps, 0.95, &lo, &hi);
        cover_i += lo <= mu && mu <= hi;
        width_i += hi - lo;
    }
    double rc = (double)cover_c / datasets, ri = (double)cover_i / datasets;
    printf("measured: 95%% percentile interval of a mean over %d clusters of %d (cluster sd 1, "
           "item sd 0.3, %d datasets, %d reps): clustered bootstrap covers %d/%d = %.3f (mean "
           "width %.3f; boot p < .05 at the true mean in %.3f), iid bootstrap %d/%d = %.3f "
           "(width %.3f)\n",
           G, S, datasets, reps, cover_c, datasets, rc, width_c / datasets,
           (double)reject_c / datasets, cover_i, datasets, ri, width_i / datasets);
    assert_true(rc >= 0.88);
    assert_true(ri < rc - 0.05); /* the iid interval visibly undercovers */
}

static void test_boot_p(void **state)
{
    (void)state;
    /* v = -2, -1, 0, 0, 1, 2, 3, 4, 5, 6 (kept 10, so (count + 1) / 11):
     * null 0:   #<= 4, #>= 8 -> 2 * 5/11 = 10/11
     * null 0.5: #<= 4, #>= 6 -> 10/11
     * null -3:  #<= 0        -> 2/11 (the smallest possible)
     * null 10:  #>= 0        -> 2/11
     * null 5:   #<= 9, #>= 2 -> 2 * 3/11 = 6/11
     * null 2:   #<= 6, #>= 5 -> 2 * 6/11 > 1 -> 1 */
    double v[] = {-2, -1, 0, 0, 1, 2, 3, 4, 5, 6};
    near(stats_boot_p(v, 10, 0), 10.0 / 11, 1e-15, "p at 0");
    near(stats_boot_p(v, 10, 0.5), 10.0 / 11, 1e-15, "p at .5");
    near(stats_boot_p(v, 10, -3), 2.0 / 11, 1e-15, "p below all");
    near(stats_boot_p(v, 10, 10), 2.0 / 11, 1e-15, "p above all");
    near(stats_boot_p(v, 10, 5), 6.0 / 11, 1e-15, "p at 5");
    near(stats_boot_p(v, 10, 2), 1, 0, "p capped");
    /* all equal to the null: both counts 5 -> 2 * 6/6 -> 1; one value */
    double z[] = {0, 0, 0, 0, 0};
    near(stats_boot_p(z, 5, 0), 1, 0, "p all at null");
    near(stats_boot_p(z, 5, 1), 2.0 / 6, 1e-15, "p all below");
    near(stats_boot_p(z, 1, 0), 1, 0, "p of one value at null");
    assert_true(isnan(stats_boot_p(v, 0, 0)));
    assert_true(isnan(stats_boot_p(v, 10, NAN)));
}

/* ---- Holm ---- */

static void test_holm(void **state)
{
    (void)state;
    /* p = .01, .04, .03, .005, sorted .005 (3), .01 (0), .03 (2), .04 (1):
     * 4 * .005 = .02; 3 * .01 = .03; 2 * .03 = .06; 1 * .04 = .04 -> running
     * max .02, .03, .06, .06 -> in input order .03, .06, .06, .02 */
    double p[] = {0.01, 0.04, 0.03, 0.005}, adj[5];
    stats_holm(p, 4, adj);
    near(adj[0], 0.03, 1e-15, "holm 0");
    near(adj[1], 0.06, 1e-15, "holm 1");
    near(adj[2], 0.06, 1e-15, "holm 2");
    near(adj[3], 0.02, 1e-15, "holm 3");
    /* a NaN stays NaN and does not count: the same four answers */
    double pn[] = {0.01, NAN, 0.04, 0.03, 0.005};
    stats_holm(pn, 5, adj);
    near(adj[0], 0.03, 1e-15, "holm nan 0");
    assert_true(isnan(adj[1]));
    near(adj[2], 0.06, 1e-15, "holm nan 2");
    near(adj[3], 0.06, 1e-15, "holm nan 3");
    near(adj[4], 0.02, 1e-15, "holm nan 4");
    /* in place */
    stats_holm(pn, 5, pn);
    near(pn[0], 0.03, 1e-15, "holm in place");
    near(pn[4], 0.02, 1e-15, "holm in place 4");
    /* capped at 1: .6, .9 -> min(1, 1.2) = 1, then max(1, .9) = 1 */
    double pc[] = {0.9, 0.6};
    stats_holm(pc, 2, adj);
    assert_true(adj[0] == 1 && adj[1] == 1);
    /* one p-value: unchanged; all NaN: all NaN */
    double p1[] = {0.2}, p2[] = {NAN, NAN};
    stats_holm(p1, 1, adj);
    near(adj[0], 0.2, 0, "holm m=1");
    stats_holm(p2, 2, adj);
    assert_true(isnan(adj[0]) && isnan(adj[1]));

    /* random families with ties and NaNs against Holm's sequential
     * procedure: sorted ascending, reject H_(j) while p_(j) <= alpha / (M -
     * j). Item i is rejected iff every p_k <= p_i passes its threshold, at
     * the first position of its tie block, first(k) = #{l : p_l < p_k}; and
     * adj_i = max over p_k <= p_i of min(1, (M - first(k)) p_k). (p on a
     * 1/200 grid, alphas off it, so no boundary is a rounding question.) */
    rng r;
    rng_seed(&r, 23);
    double alphas[] = {0.0123, 0.0517, 0.1031, 0.2473, 0.6011};
    int rejections = 0;
    for (int trial = 0; trial < 200; trial++) {
        enum { MAXM = 30 };
        double q[MAXM], a[MAXM];
        int m = 1 + (int)rng_below(&r, MAXM), M = 0;
        for (int i = 0; i < m; i++) {
            q[i] = rng_uniform(&r) < 0.1 ? NAN : (double)rng_below(&r, 201) / 200 * (trial % 2 ? 1 : 0.1);
            M += !isnan(q[i]);
        }
        stats_holm(q, m, a);
        for (int i = 0; i < m; i++) {
            if (isnan(q[i])) {
                assert_true(isnan(a[i]));
                continue;
            }
            double want = 0;
            for (int k = 0; k < m; k++) {
                if (isnan(q[k]) || q[k] > q[i])
                    continue;
                int first = 0;
                for (int l = 0; l < m; l++)
                    first += !isnan(q[l]) && q[l] < q[k];
                want = fmax(want, fmin(1, (M - first) * q[k]));
            }
            near(a[i], want, 1e-15, "holm brute");
            for (int s = 0; s < N_OF(alphas); s++) {
                int rej = 1;
                for (int k = 0; k < m; k++) {
                    if (isnan(q[k]) || q[k] > q[i])
                        continue;
                    int first = 0;
                    for (int l = 0; l < m; l++)
                        first += !isnan(q[l]) && q[l] < q[k];
                    rej &= q[k] <= alphas[s] / (M - first);
                }
                assert_int_equal(a[i] <= alphas[s], rej);
                rejections += rej;
            }
        }
    }
    assert_true(rejections > 100); /* the comparison saw both outcomes */
}

/* ---- Kendall tau-a and the granulated coefficient of Jiang et al. ---- */

/* tau-a by counting every pair: sum of sign(dx) sign(dy) over n(n-1)/2. */
static double kendall_a_brute(const double *x, const double *y, int n)
{
    long long s = 0;
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++) {
            double dx = x[i] - x[j], dy = y[i] - y[j];
            s += ((dx > 0) - (dx < 0)) * ((dy > 0) - (dy < 0));
        }
    return (double)s / ((double)n * (n - 1) / 2);
}

static void test_kendall_a(void **state)
{
    (void)state;
    /* the test_ties items: C = 5, D = 4 of 15 pairs -> 1/15 (tau-b was
     * 1/sqrt(143)); x = 1,1,2,2, y = 1,2,1,2: C = D = 1 -> 0; x = 1,2,3,4,
     * y = 5,5,5,9: C = 3 of 6 -> 1/2 */
    double x[] = {1, 2, 2, 3, 4, 4}, y[] = {2, 3, 1, 3, 3, 1};
    near(stats_kendall_a(x, y, 6), 1.0 / 15, 1e-15, "tau-a ties");
    near(stats_kendall_a(y, x, 6), 1.0 / 15, 1e-15, "tau-a symmetric");
    double xq[] = {1, 1, 2, 2}, yq[] = {1, 2, 1, 2};
    near(stats_kendall_a(xq, yq, 4), 0, 1e-15, "tau-a 2x2");
    double xr[] = {1, 2, 3, 4}, yr[] = {5, 5, 5, 9};
    near(stats_kendall_a(xr, yr, 4), 0.5, 1e-15, "tau-a y-ties");
    /* all tied: 0, where tau-b is NaN; n = 2 */
    double c[] = {3, 3, 3, 3};
    near(stats_kendall_a(c, yr, 4), 0, 0, "tau-a x all tied");
    near(stats_kendall_a(xr, c, 4), 0, 0, "tau-a y all tied");
    near(stats_kendall_a(c, c, 4), 0, 0, "tau-a both all tied");
    assert_true(isnan(stats_kendall(c, yr, 4)));
    double a2[] = {0, 1}, b2[] = {5, 3}, t2[] = {4, 4};
    near(stats_kendall_a(a2, b2, 2), -1, 0, "tau-a n=2");
    near(stats_kendall_a(a2, t2, 2), 0, 0, "tau-a n=2 tie");
    /* undefined */
    assert_true(isnan(stats_kendall_a(a2, b2, 1)));
    assert_true(isnan(stats_kendall_a(a2, b2, 0)));
    double xn[] = {1, NAN, 3, 4};
    assert_true(isnan(stats_kendall_a(xn, yr, 4)));
    assert_true(isnan(stats_kendall_a(yr, xn, 4)));

    /* brute force on random data: ties in x only, y only, both, none, all */
    rng r;
    rng_seed(&r, 24);
    int sizes[] = {2, 3, 7, 37, 500};
    int levels[][2] = {{3, 0}, {0, 4}, {5, 5}, {0, 0}, {1, 0}, {0, 1}, {1, 1}, {40, 2}};
    double *bx = malloc(sizeof(double) * 500), *by = malloc(sizeof(double) * 500);
    for (int a = 0; a < N_OF(sizes); a++)
        for (int b = 0; b < N_OF(levels); b++)
            for (int k = 0; k < 3; k++) {
                int n = sizes[a];
                random_pairs(&r, bx, by, n, levels[b][0], levels[b][1], k - 1.0);
                char what[64];
                snprintf(what, sizeof what, "tau-a n=%d levels %d,%d", n, levels[b][0],
                         levels[b][1]);
                near(stats_kendall_a(bx, by, n), kendall_a_brute(bx, by, n), 1e-12, what);
            }
    free(bx);
    free(by);
}

/* Jiang et al.'s granulated coefficient by brute force: per axis the mean
 * of tau-a over every group id with >= 2 items; the mean over axes that
 * have such a group. */
static double granulated_a_brute(const double *x, const double *y, const int *g, int n, int A,
                                 double *psi)
{
    double sum = 0, gx[64], gy[64];
    int na = 0;
    for (int a = 0; a < A; a++) {
        double s = 0;
        int ng = 0;
        for (int i = 0; i < n; i++) {
            int id = g[a * n + i], seen = 0, m = 0;
            if (id < 0)
                continue;
            for (int j = 0; j < i; j++)
                seen |= g[a * n + j] == id;
            if (seen)
                continue;
            for (int j = 0; j < n; j++)
                if (g[a * n + j] == id)
                    gx[m] = x[j], gy[m] = y[j], m++;
            if (m >= 2)
                s += kendall_a_brute(gx, gy, m), ng++;
        }
        psi[a] = ng ? s / ng : NAN;
        if (ng)
            sum += psi[a], na++;
    }
    return na ? sum / na : NAN;
}

static void test_granulated_ex(void **state)
{
    (void)state;
    /* 7 items, 2 axes.
     * Axis 0: group 0 = {0, 1}: x = 1,1 (tie), y = 1,2: tau-a 0, tau-b NaN.
     *   group 1 = {2, 3, 4}: x = 1,1,2, y = 1,2,3: pairs (2,3) x-tie, (2,4)
     *   and (3,4) concordant -> tau-a 2/3, tau-b 2 / sqrt(2 * 3).
     *   group 2 = {5} (singleton), item 6 left out.
     *   psi_0: tau-a (0 + 2/3) / 2 = 1/3; tau-b 2/sqrt(6) (group 0 skipped).
     * Axis 1: group 4 = {0, 1, 2, 3}: x = 1,1,1,1 all tie: tau-a 0, tau-b
     *   NaN; the rest left out. psi_1: tau-a 0; tau-b NaN (no group).
     * Result: tau-a (1/3 + 0) / 2 = 1/6; tau-b 2/sqrt(6) (axis 0 alone). */
    enum { n = 7, A = 2 };
    double x[n] = {1, 1, 1, 1, 2, 5, 0}, y[n] = {1, 2, 1, 2, 3, 4, 9}, per[A];
    int g[A * n] = {0, 0, 1, 1, 1, 2, -1, /**/ 4, 4, 4, 4, -1, -1, -1};
    near(stats_granulated_kendall_ex(x, y, g, n, A, 0, per), 1.0 / 6, 1e-15, "granulated tau-a");
    near(per[0], 1.0 / 3, 1e-15, "psi_0 tau-a");
    near(per[1], 0, 1e-15, "psi_1 tau-a");
    near(stats_granulated_kendall_ex(x, y, g, n, A, 1, per), 2 / sqrt(6.0), 1e-15,
         "granulated tau-b");
    near(per[0], 2 / sqrt(6.0), 1e-15, "psi_0 tau-b");
    assert_true(isnan(per[1]));
    near(stats_granulated_kendall(x, y, g, n, A, NULL), 2 / sqrt(6.0), 1e-15, "wrapper");
    /* only singletons and left-out items: NaN for both */
    int gs[A * n] = {0, 1, 2, 3, 4, 5, 6, /**/ -1, -1, -1, -1, -1, -1, -1};
    assert_true(isnan(stats_granulated_kendall_ex(x, y, gs, n, A, 0, per)));
    assert_true(isnan(per[0]) && isnan(per[1]));
    double xn[n];
    memcpy(xn, x, sizeof x);
    xn[2] = NAN;
    assert_true(isnan(stats_granulated_kendall_ex(xn, y, g, n, A, 0, per)));

    /* a 4 x 3 x 3 grid, axis a groups the items that agree on the other two
     * coordinates; x, y with many ties, ~15% of items left out per axis;
     * against the brute-force definition, and tau_b = 1 against the old
     * entry point bit for bit */
    enum { N = 36, AX = 3 };
    double gx[N], gy[N], pa[AX], pb[AX];
    int gg[AX * N];
    rng r;
    rng_seed(&r, 25);
    for (int trial = 0; trial < 20; trial++) {
        random_pairs(&r, gx, gy, N, 3 + trial % 3, 2 + trial % 4, 0.3 * (trial % 5) - 0.6);
        for (int i = 0; i < N; i++) {
            int c0 = i / 9, c1 = (i / 3) % 3, c2 = i % 3;
            int id[AX] = {c1 * 3 + c2, c0 * 3 + c2, c0 * 3 + c1};
            for (int a = 0; a < AX; a++)
                gg[a * N + i] = rng_uniform(&r) < 0.15 ? -1 : id[a];
        }
        double want = granulated_a_brute(gx, gy, gg, N, AX, pb);
        double got = stats_granulated_kendall_ex(gx, gy, gg, N, AX, 0, pa);
        near(got, want, 1e-12, "granulated tau-a brute");
        for (int a = 0; a < AX; a++)
            near(pa[a], pb[a], 1e-12, "psi tau-a brute");
        double old = stats_granulated_kendall(gx, gy, gg, N, AX, pb);
        double ex = stats_granulated_kendall_ex(gx, gy, gg, N, AX, 1, pa);
        assert_true(old == ex || (isnan(old) && isnan(ex)));
        for (int a = 0; a < AX; a++)
            assert_true(pa[a] == pb[a] || (isnan(pa[a]) && isnan(pb[a])));
    }
}

/* ---- AUC and median ---- */

/* AUC by counting (positive, negative) pairs, ties 1/2. */
static double auc_brute(const double *s, const int *pos, int n)
{
    double w = 0;
    long np = 0, nn = 0;
    for (int i = 0; i < n; i++) {
        np += pos[i] != 0, nn += pos[i] == 0;
        if (!pos[i])
            continue;
        for (int j = 0; j < n; j++)
            if (!pos[j])
                w += s[i] > s[j] ? 1 : s[i] == s[j] ? 0.5 : 0;
    }
    return np && nn ? w / ((double)np * nn) : NAN;
}

static void test_mw_auc(void **state)
{
    (void)state;
    /* positives .35, .8, .4; negatives .1, .4: of the 6 pairs the positive
     * wins (.35,.1) (.8,.1) (.8,.4) (.4,.1), loses (.35,.4), ties (.4,.4)
     * -> 4.5 / 6 = .75 */
    double s[] = {0.1, 0.4, 0.35, 0.8, 0.4};
    int pos[] = {0, 0, 1, 1, 1};
    near(stats_mw_auc(s, pos, 5), 0.75, 1e-15, "auc hand");
    /* any non-zero marks a positive */
    int pos2[] = {0, 0, 7, -1, 2};
    near(stats_mw_auc(s, pos2, 5), 0.75, 1e-15, "auc pos != 0");
    /* separation, reversal, all tied */
    double t[] = {1, 2, 3, 4}, c[] = {5, 5, 5, 5};
    int p4[] = {0, 0, 1, 1}, q4[] = {1, 1, 0, 0};
    near(stats_mw_auc(t, p4, 4), 1, 0, "auc 1");
    near(stats_mw_auc(t, q4, 4), 0, 0, "auc 0");
    near(stats_mw_auc(c, p4, 4), 0.5, 0, "auc tied");
    /* undefined: one class only, NaN score, no items */
    int all[] = {1, 1, 1, 1}, none[] = {0, 0, 0, 0};
    assert_true(isnan(stats_mw_auc(t, all, 4)));
    assert_true(isnan(stats_mw_auc(t, none, 4)));
    double sn[] = {1, NAN, 3, 4};
    assert_true(isnan(stats_mw_auc(sn, p4, 4)));
    assert_true(isnan(stats_mw_auc(t, p4, 1)));
    assert_true(isnan(stats_mw_auc(t, p4, 0)));

    /* brute force with many ties */
    rng r;
    rng_seed(&r, 26);
    int sizes[] = {2, 3, 10, 50, 301};
    static double sc[301];
    static int lab[301];
    for (int a = 0; a < N_OF(sizes); a++)
        for (int k = 0; k < 6; k++) {
            int n = sizes[a], levels = k == 0 ? 0 : 2 + 3 * k;
            for (int i = 0; i < n; i++) {
                lab[i] = rng_uniform(&r) < 0.3 ? 1 + (int)rng_below(&r, 3) : 0;
                double u = rng_normal(&r) + 0.8 * (lab[i] != 0);
                sc[i] = levels ? floor(levels * 0.5 * (1 + erf(u / 2))) : u;
            }
            double want = auc_brute(sc, lab, n), got = stats_mw_auc(sc, lab, n);
            if (isnan(want))
                assert_true(isnan(got));
            else
                near(got, want, 1e-12, "auc brute");
        }
}

static void test_median(void **state)
{
    (void)state;
    double a[] = {3, 1, 2}, b[] = {4, 1, 3, 2}, c[] = {7, -1, 7, -1}, d[] = {5};
    near(stats_median(a, 3), 2, 0, "median odd");
    near(stats_median(b, 4), 2.5, 0, "median even");
    near(stats_median(c, 4), 3, 0, "median ties");
    near(stats_median(d, 1), 5, 0, "median one");
    /* x is left as it was */
    assert_true(b[0] == 4 && b[1] == 1 && b[2] == 3 && b[3] == 2);
    assert_true(isnan(stats_median(a, 0)));
    /* a NaN anywhere, including where a sort would leave it outside the
     * middle */
    double n1[] = {1, NAN, 3}, n2[] = {1, 2, 3, 4, NAN}, n3[] = {NAN, 1, 2, 3};
    assert_true(isnan(stats_median(n1, 3)));
    assert_true(isnan(stats_median(n2, 5)));
    assert_true(isnan(stats_median(n3, 4)));
    /* random, odd and even n with ties, against order statistics found by
     * counting: the k-th smallest (1-based) is the v with #(< v) < k <=
     * #(<= v) */
    rng r;
    rng_seed(&r, 27);
    double v[40];
    for (int n = 1; n <= 40; n++) {
        for (int i = 0; i < n; i++)
            v[i] = (double)rng_below(&r, 8) - 3;
        double os[2] = {NAN, NAN};
        int ks[2] = {(n + 1) / 2, n / 2 + 1};
        for (int t = 0; t < 2; t++)
            for (int i = 0; i < n; i++) {
                int lt = 0, le = 0;
                for (int j = 0; j < n; j++)
                    lt += v[j] < v[i], le += v[j] <= v[i];
                if (lt < ks[t] && ks[t] <= le)
                    os[t] = v[i];
            }
        double want = n % 2 ? os[0] : 0.5 * (os[0] + os[1]);
        near(stats_median(v, n), want, 0, "median brute");
    }
}

/* ---- Wilson interval and normal quantile ---- */

static void test_wilson(void **state)
{
    (void)state;
    double lo, hi;
    /* k = 8, n = 10, z = 1.959963985: p = .8, den = 1 + z^2/10 = 1.384146,
     * centre = (.8 + z^2/20) / den = 0.716741, half = z sqrt(.016 +
     * z^2/400) / den = 0.226579 -> [0.490162, 0.943318]. */
    stats_wilson(8, 10, 0.95, &lo, &hi);
    near(lo, 0.49016247153664183, 1e-9, "wilson 8/10 lo");
    near(hi, 0.9433178485456247, 1e-9, "wilson 8/10 hi");
    /* k = 0: [0, z^2 / (n + z^2)]; k = n: [n / (n + z^2), 1] */
    double z = 1.9599639845400536, z2 = z * z;
    stats_wilson(0, 10, 0.95, &lo, &hi);
    assert_true(lo == 0.0);
    near(hi, z2 / (10 + z2), 1e-12, "wilson 0/10 hi");
    stats_wilson(10, 10, 0.95, &lo, &hi);
    near(lo, 10 / (10 + z2), 1e-12, "wilson 10/10 lo");
    assert_true(hi == 1.0);
    /* k = 3, n = 7 */
    stats_wilson(3, 7, 0.95, &lo, &hi);
    near(lo, 0.1582198552514697, 1e-9, "wilson 3/7 lo");
    near(hi, 0.7495416354723428, 1e-9, "wilson 3/7 hi");
    /* 90%: z = 1.6448536269514715, k = 50, n = 100: centre 0.5,
     * half = z sqrt(.0025 + z^2/40000) / (1 + z^2/100) */
    double z9 = 1.6448536269514715;
    double half = z9 * sqrt(0.0025 + z9 * z9 / 40000) / (1 + z9 * z9 / 100);
    stats_wilson(50, 100, 0.90, &lo, &hi);
    near(lo, 0.5 - half, 1e-9, "wilson 90% lo");
    near(hi, 0.5 + half, 1e-9, "wilson 90% hi");
    /* large n: close to the Wald interval */
    stats_wilson(300000, 1000000, 0.95, &lo, &hi);
    near(lo, 0.3 - z * sqrt(0.21 / 1e6), 2e-6, "wilson large lo");
    /* undefined */
    stats_wilson(0, 0, 0.95, &lo, &hi);
    assert_true(isnan(lo) && isnan(hi));
    stats_wilson(5, 4, 0.95, &lo, &hi);
    assert_true(isnan(lo) && isnan(hi));
    stats_wilson(-1, 4, 0.95, &lo, &hi);
    assert_true(isnan(lo) && isnan(hi));
}

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* rng_normals (the bootstrap's bulk noise) against the normal CDF: the
 * Kolmogorov-Smirnov distance of 200,000 draws below its 0.1% critical
 * value 1.95 / sqrt(n), the first four moments within 5 standard errors,
 * an odd count filled, the same seed the same draws; rng_normal alongside
 * as the reference the same test must pass. */
static void test_rng_normals(void **state)
{
    (void)state;
    enum { n = 200001 };
    double *z = malloc(sizeof(double) * n);
    assert_non_null(z);
    for (int which = 0; which < 2; which++) {
        rng r;
        rng_seed(&r, 77);
        z[n - 1] = NAN;
        if (which == 0)
            rng_normals(&r, z, n);
        else
            for (int i = 0; i < n; i++)
                z[i] = rng_normal(&r);
        assert_true(isfinite(z[n - 1]));
        double m1 = 0, m2 = 0, m3 = 0, m4 = 0;
        for (int i = 0; i < n; i++) {
            double v = z[i];
            m1 += v, m2 += v * v, m3 += v * v * v, m4 += v * v * v * v;
        }
        m1 /= n, m2 /= n, m3 /= n, m4 /= n;
        /* standard errors of the sample moments of N(0, 1): sqrt(var(z^k) / n) */
        double se = 1 / sqrt((double)n);
        assert_true(fabs(m1) < 5 * se);
        assert_true(fabs(m2 - 1) < 5 * sqrt(2.0) * se);
        assert_true(fabs(m3) < 5 * sqrt(15.0) * se);
        assert_true(fabs(m4 - 3) < 5 * sqrt(96.0) * se);
        qsort(z, n, sizeof *z, cmp_dbl);
        double ks = 0;
        for (int i = 0; i < n; i++) {
            double F = 0.5 * erfc(-z[i] / sqrt(2.0));
            ks = fmax(ks, fmax(fabs(F - (double)i / n), fabs(F - (double)(i + 1) / n)));
        }
        print_message("measured: %s: KS distance %.5f (0.1%% critical %.5f), moments %.4f %.4f "
                      "%.4f %.4f\n",
                      which ? "rng_normal" : "rng_normals", ks, 1.95 / sqrt((double)n), m1, m2, m3,
                      m4);
        assert_true(ks < 1.95 / sqrt((double)n));
    }
    double a[5], b[5];
    rng r1, r2;
    rng_seed(&r1, 5), rng_seed(&r2, 5);
    rng_normals(&r1, a, 5), rng_normals(&r2, b, 5);
    assert_memory_equal(a, b, sizeof a);
    free(z);
}

static void test_norm_quantile(void **state)
{
    (void)state;
    /* reference values: Python statistics.NormalDist().inv_cdf (AS241) */
    struct {
        double p, z;
    } ref[] = {
        {0.975, 1.9599639845400536},  {0.5, 0.0},
        {0.01, -2.3263478740408408},  {0.3, -0.5244005127080407},
        {0.8, 0.8416212335729144},    {0.999, 3.090232306167813},
        {0.95, 1.6448536269514715},   {1e-10, -6.361340902404056},
        {1e-300, -37.0470962993612},  {0.02425, -1.9729610513118845},
        {0.97575, 1.9729610513118847},
    };
    for (int i = 0; i < N_OF(ref); i++) {
        char what[64];
        snprintf(what, sizeof what, "quantile(%g)", ref[i].p);
        near(stats_norm_quantile(ref[i].p), ref[i].z, 1e-12 * fmax(1, fabs(ref[i].z)), what);
    }
    /* symmetry; the upper tail as accurate as the lower */
    near(stats_norm_quantile(1 - 1e-10), 6.361340902404056, 1e-6, "quantile(1-1e-10)");
    for (double p = 0.001; p < 0.5; p += 0.0123)
        near(stats_norm_quantile(1 - p), -stats_norm_quantile(p), 1e-12, "symmetry");
    assert_true(stats_norm_quantile(0) == -INFINITY);
    assert_true(stats_norm_quantile(1) == INFINITY);
    assert_true(isnan(stats_norm_quantile(-0.1)));
    assert_true(isnan(stats_norm_quantile(1.5)));
    assert_true(isnan(stats_norm_quantile(NAN)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_ties),
        cmocka_unit_test(test_ties),
        cmocka_unit_test(test_perfect),
        cmocka_unit_test(test_nan_cases),
        cmocka_unit_test(test_kendall_brute),
        cmocka_unit_test(test_spearman_midranks),
        cmocka_unit_test(test_kendall_large),
        cmocka_unit_test(test_granulated_grid),
        cmocka_unit_test(test_granulated_skips),
        cmocka_unit_test(test_granulated_brute),
        cmocka_unit_test(test_bootstrap_coverage),
        cmocka_unit_test(test_bootstrap_basics),
        cmocka_unit_test(test_quantile_interval),
        cmocka_unit_test(test_resample_iid),
        cmocka_unit_test(test_resample_clustered),
        cmocka_unit_test(test_resample_cluster_coverage),
        cmocka_unit_test(test_boot_p),
        cmocka_unit_test(test_holm),
        cmocka_unit_test(test_kendall_a),
        cmocka_unit_test(test_granulated_ex),
        cmocka_unit_test(test_mw_auc),
        cmocka_unit_test(test_median),
        cmocka_unit_test(test_wilson),
        cmocka_unit_test(test_norm_quantile),
        cmocka_unit_test(test_rng_normals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
