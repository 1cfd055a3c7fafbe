/* stats.c: correlation coefficients (Pearson, Spearman, Kendall tau-b and
 * tau-a), the granulated Kendall coefficient of Jiang et al. 2020, bootstrap
 * resampling (iid or by clusters) with percentile intervals and bootstrap
 * p-values, the Holm adjustment, the Mann-Whitney AUC, the median and the
 * Wilson score interval, for the analysis of a study.
 *
 * How: Pearson in two passes (means, then centred sums) so that large
 * offsets do not cancel; Spearman as Pearson of mid-ranks from one sort
 * (an LSD radix sort of order-preserving 64-bit keys of the values);
 * Kendall by Knight's O(n log n) algorithm (1966): sort by (x, y) (two
 * stable radix sorts), count x-ties and joint ties in runs, then a stable
 * merge sort on y counts the discordant pairs as the number of swaps it
 * makes (equal y never swap, so y-ties are not counted as discordant), and
 * y-ties are counted in runs of the y-sorted array; tau-a and tau-b share
 * these counts and differ only in the denominator; below 48 items (the
 * granulated coefficient's groups) the pairs are counted directly. The
 * bootstrap returns the whole sorted distribution (stats_resample) so that an interval and a p-value come from the same
 * resamples; the cluster bootstrap resamples whole clusters (e.g. the
 * replicate seeds of one config), because items of a cluster are not
 * independent and resampling them one by one makes intervals too narrow.
 * The AUC is the Mann-Whitney U from mid-ranks. The normal quantile is
 * Acklam's rational approximation polished by one Halley step on erfc
 * (|error| ~ 1e-15).
 *
 * What it does not: no parametric significance tests (no t, z or
 * permutation tests): the only p-values are the bootstrap p-value read off
 * a resampled distribution and their Holm adjustment; no weighting; no NaN
 * filtering (any NaN input gives NaN: the caller decides which items are
 * valid; stats_holm alone passes NaN p-values through). Workspaces are
 * allocated per call and freed before return; an allocation failure gives
 * NaN (or -1 from stats_bootstrap and stats_resample). No global state: the
 * bootstrap's RNG lives on its stack, seeded from the caller's seed. */
#include "stats.h"

#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../core/rng.h"

static int any_nan(const double *x, int n)
{
    for (int i = 0; i < n; i++)
        if (isnan(x[i]))
            return 1;
    return 0;
}

static double clamp1(double r)
{
    return r > 1.0 ? 1.0 : r < -1.0 ? -1.0 : r;
}

double stats_pearson(const double *x, const double *y, int n)
{
    if (n < 2 || any_nan(x, n) || any_nan(y, n))
        return NAN;
    double mx = 0, my = 0;
    for (int i = 0; i < n; i++)
        mx += x[i], my += y[i];
    mx /= n, my /= n;
    double sxx = 0, syy = 0, sxy = 0;
    for (int i = 0; i < n; i++) {
        double dx = x[i] - mx, dy = y[i] - my;
        sxx += dx * dx, syy += dy * dy, sxy += dx * dy;
    }
    if (!(sxx > 0) || !(syy > 0) || isinf(sxx) || isinf(syy))
        return NAN;
    return clamp1(sxy / sqrt(sxx * syy));
}

/* ---- mid-ranks ---- */

typedef struct {
    double v;
    int i;
} val_idx;

static int cmp_val_idx(const void *a, const void *b)
{
    const val_idx *p = a, *q = b;
    if (p->v < q->v)
        return -1;
    if (p->v > q->v)
        return 1;
    return (p->i > q->i) - (p->i < q->i);
}

/* Workspace of midranks for n items: keys and positions, twice (the
 * radix sort's two buffers). */
typedef struct rank_ws {
    uint64_t *k, *k2;
    int *ix, *ix2;
} rank_ws;

static int rank_ws_alloc(rank_ws *w, int n)
{
    size_t N = n > 0 ? (size_t)n : 1;
    w->k = malloc((2 * sizeof(uint64_t) + 2 * sizeof(int)) * N);
    if (!w->k)
        return -1;
    w->k2 = w->k + N;
    w->ix = (int *)(w->k2 + N);
    w->ix2 = w->ix + N;
    return 0;
}

/* An unsigned key that orders as the double does (no NaN): positive
 * doubles with the sign bit set, negative ones with every bit flipped.
 * -0 sorts just below +0, next to it, so equal values stay adjacent. */
static uint64_t order_key(double v)
{
    uint64_t b;
    memcpy(&b, &v, sizeof b);
    return b >> 63 ? ~b : b | 0x8000000000000000ULL;
}

#define RADIX_MAXN 2048 /* buckets of the widest digit (11 bits) */

/* Sort w->k (n) ascending, carrying w->ix, by an LSD radix sort: 8-bit
 * digits (8 passes) below 4096 keys, where the buckets' overhead counts,
 * 11-bit digits (6 passes) above; passes whose digit is the same in every
 * key are skipped. The result is in w->k / w->ix. Below 64 keys an
 * insertion sort. */
static void radix_sort(rank_ws *w, int n)
{
    uint64_t *k = w->k, *k2 = w->k2;
    int *ix = w->ix, *ix2 = w->ix2;
    if (n < 64) {
        for (int i = 1; i < n; i++) {
            uint64_t kv = k[i];
            int iv = ix[i], j = i - 1;
            for (; j >= 0 && k[j] > kv; j--)
                k[j + 1] = k[j], ix[j + 1] = ix[j];
            k[j + 1] = kv, ix[j + 1] = iv;
        }
        return;
    }
    const int bits = n < 4096 ? 8 : 11, nb = 1 << bits, passes = (64 + bits - 1) / bits;
    const uint64_t mask = (uint64_t)nb - 1;
    int cnt[8][RADIX_MAXN];
    for (int p = 0; p < passes; p++)
        memset(cnt[p], 0, sizeof(int) * (size_t)nb);
    for (int i = 0; i < n; i++)
        for (int p = 0; p < passes; p++)
            cnt[p][(k[i] >> (p * bits)) & mask]++;
    for (int p = 0; p < passes; p++) {
        int *c = cnt[p];
        if (c[(k[0] >> (p * bits)) & mask] == n)
            continue; /* every key has this digit */
        int sum = 0;
        for (int b = 0; b < nb; b++) {
            int t = c[b];
            c[b] = sum;
            sum += t;
        }
        for (int i = 0; i < n; i++) {
            int pos = c[(k[i] >> (p * bits)) & mask]++;
            k2[pos] = k[i], ix2[pos] = ix[i];
        }
        uint64_t *tk = k;
        k = k2, k2 = tk;
        int *ti = ix;
        ix = ix2, ix2 = ti;
    }
    if (k != w->k) {
        memcpy(w->k, k, sizeof *k * (size_t)n);
        memcpy(w->ix, ix, sizeof *ix * (size_t)n);
    }
}

/* Mid-ranks of x (n, no NaN) into r (n): one radix sort of the values,
 * then each run of equal values gets the mean of its positions. */
static void midranks(const double *x, int n, double *r, rank_ws *w)
{
    for (int i = 0; i < n; i++)
        w->k[i] = order_key(x[i]), w->ix[i] = i;
    radix_sort(w, n);
    const int *ix = w->ix;
    for (int s = 0; s < n;) {
        int e = s + 1;
        while (e < n && x[ix[e]] == x[ix[s]])
            e++;
        /* positions s..e-1 hold ranks s+1..e: their mean is (s + 1 + e) / 2 */
        double mr = 0.5 * (double)(s + 1 + e);
        for (int k = s; k < e; k++)
            r[ix[k]] = mr;
        s = e;
    }
}

int stats_midranks(const double *x, int n, double *r)
{
    if (n <= 0)
        return 0;
    if (any_nan(x, n)) {
        for (int i = 0; i < n; i++)
            r[i] = NAN;
        return 0;
    }
    rank_ws w;
    if (rank_ws_alloc(&w, n))
        return -1;
    midranks(x, n, r, &w);
    free(w.k);
    return 0;
}

int stats_tie_groups(const double *x, int n, int *gid)
{
    if (n <= 0)
        return 0;
    rank_ws w;
    if (rank_ws_alloc(&w, n))
        return -1;
    for (int i = 0; i < n; i++)
        w.k[i] = order_key(x[i]), w.ix[i] = i;
    radix_sort(&w, n);
    int G = 0;
    for (int s = 0; s < n; G++) {
        int e = s + 1;
        while (e < n && x[w.ix[e]] == x[w.ix[s]])
            e++;
        for (int k = s; k < e; k++)
            gid[w.ix[k]] = G;
        s = e;
    }
    free(w.k);
    return G;
}

void stats_group_midranks(const int *gid, int G, const int *idx, int m, int *cnt, double *r)
{
    memset(cnt, 0, sizeof(int) * ((size_t)G + 1));
    for (int i = 0; i < m; i++)
        cnt[gid[idx[i]]]++;
    /* cnt[g] -> twice the mid-rank of group g: 2 (items below) + count + 1 */
    int below = 0;
    for (int g = 0; g < G; g++) {
        int c = cnt[g];
        cnt[g] = 2 * below + c + 1;
        below += c;
    }
    for (int i = 0; i < m; i++)
        r[i] = 0.5 * (double)cnt[gid[idx[i]]];
}

double stats_spearman(const double *x, const double *y, int n)
{
    if (n < 2 || any_nan(x, n) || any_nan(y, n))
        return NAN;
    double *rx = malloc(sizeof(double) * 2 * (size_t)n);
    rank_ws w;
    if (!rx || rank_ws_alloc(&w, n)) {
        free(rx);
        return NAN;
    }
    double *ry = rx + n;
    midranks(x, n, rx, &w);
    midranks(y, n, ry, &w);
    double r = stats_pearson(rx, ry, n);
    free(rx);
    free(w.k);
    return r;
}

/* ---- Kendall tau-b (Knight 1966) ---- */

typedef struct {
    double x, y;
} pair_xy;

/* Workspace of kendall_core for n items. */
typedef struct {
    pair_xy *p; // (n)
    double *y;  // (n)
    double *t;  // (n) merge buffer
} kendall_ws;

static int kendall_ws_init(kendall_ws *w, int n)
{
    size_t m = n > 0 ? (size_t)n : 1;
    w->p = malloc(sizeof *w->p * m);
    w->y = malloc(sizeof(double) * 2 * m);
    w->t = w->y ? w->y + m : NULL;
    if (!w->p || !w->y) {
        free(w->p);
        free(w->y);
        return -1;
    }
    return 0;
}

static void kendall_ws_free(kendall_ws *w)
{
    free(w->p);
    free(w->y);
}

/* Stable bottom-up merge sort of y (n) ascending; returns the number of
 * exchanges (pairs i < j with y[i] > y[j] strictly), i.e. inversions. */
static int64_t merge_count(double *y, double *t, int n)
{
    int64_t swaps = 0;
    double *src = y, *dst = t;
    for (int w = 1; w < n; w *= 2) {
        for (int lo = 0; lo < n; lo += 2 * w) {
            int mid = lo + w < n ? lo + w : n;
            int hi = lo + 2 * w < n ? lo + 2 * w : n;
            int i = lo, j = mid, k = lo;
            while (i < mid && j < hi) {
                if (src[j] < src[i]) {
                    swaps += mid - i;
                    dst[k++] = src[j++];
                } else {
                    dst[k++] = src[i++];
                }
            }
            while (i < mid)
                dst[k++] = src[i++];
            while (j < hi)
                dst[k++] = src[j++];
        }
        double *s = src;
        src = dst;
        dst = s;
    }
    if (src != y)
        memcpy(y, src, sizeof(double) * (size_t)n);
    return swaps;
}

/* tau from the pair counts: n0 pairs, n1 tied in x, n2 tied in y, num =
 * concordant - discordant. tau-b is NaN when all x or all y tie; tau-a is
 * then 0. */
static double tau_of(int64_t n0, int64_t n1, int64_t n2, double num, int tau_b)
{
    if (!tau_b)
        return clamp1(num / (double)n0);
    if (n1 == n0 || n2 == n0)
        return NAN;
    return clamp1(num / sqrt((double)(n0 - n1) * (double)(n0 - n2)));
}

/* tau-b (tau_b != 0) or tau-a (tau_b == 0) of x, y (n >= 2, no NaN) with
 * workspace w (for >= n items) and rw (rank_ws for >= n items): (x, y)
 * sorted lexicographically by two stable radix sorts (y, then x). */
static double kendall_core(const double *x, const double *y, int n, kendall_ws *w, rank_ws *rw,
                           int tau_b)
{
    for (int i = 0; i < n; i++)
        rw->k[i] = order_key(y[i]), rw->ix[i] = i;
    radix_sort(rw, n);
    for (int i = 0; i < n; i++)
        rw->k[i] = order_key(x[rw->ix[i]]);
    radix_sort(rw, n); /* stable: equal x stay in y order */
    for (int i = 0; i < n; i++)
        w->p[i].x = x[rw->ix[i]], w->p[i].y = y[rw->ix[i]];
    int64_t n0 = (int64_t)n * (n - 1) / 2, n1 = 0, n2 = 0, n3 = 0;
    /* runs of equal x (n1), and within them runs of equal y (n3) */
    for (int s = 0; s < n;) {
        int e = s + 1;
        while (e < n && w->p[e].x == w->p[s].x)
            e++;
        n1 += (int64_t)(e - s) * (e - s - 1) / 2;
        for (int a = s; a < e;) {
            int b = a + 1;
            while (b < e && w->p[b].y == w->p[a].y)
                b++;
            n3 += (int64_t)(b - a) * (b - a - 1) / 2;
            a = b;
        }
        s = e;
    }
    for (int i = 0; i < n; i++)
        w->y[i] = w->p[i].y;
    int64_t swaps = merge_count(w->y, w->t, n);
    for (int s = 0; s < n;) {
        int e = s + 1;
        while (e < n && w->y[e] == w->y[s])
            e++;
        n2 += (int64_t)(e - s) * (e - s - 1) / 2;
        s = e;
    }
    /* concordant - discordant = (n0 - n1 - n2 + n3) - 2 * discordant: the
     * first term counts the pairs tied in neither x nor y, and a swap is a
     * pair with x_i < x_j (x-ties are y-sorted, never swap) and y_i > y_j */
    return tau_of(n0, n1, n2, (double)(n0 - n1 - n2 + n3) - 2.0 * (double)swaps, tau_b);
}

/* Below this many items the pairs are counted directly (no workspace):
 * the granulated coefficient's groups are small. Same counts, same tau. */
#define KENDALL_DIRECT 48

static double kendall(const double *x, const double *y, int n, int tau_b)
{
    if (n < 2 || any_nan(x, n) || any_nan(y, n))
        return NAN;
    if (n < KENDALL_DIRECT) {
        int64_t n1 = 0, n2 = 0, num = 0;
        for (int i = 0; i < n; i++)
            for (int j = i + 1; j < n; j++) {
                int sx = (x[i] > x[j]) - (x[i] < x[j]), sy = (y[i] > y[j]) - (y[i] < y[j]);
                n1 += sx == 0, n2 += sy == 0, num += sx * sy;
            }
        return tau_of((int64_t)n * (n - 1) / 2, n1, n2, (double)num, tau_b);
    }
    kendall_ws w;
    rank_ws rw;
    if (kendall_ws_init(&w, n))
        return NAN;
    if (rank_ws_alloc(&rw, n)) {
        kendall_ws_free(&w);
        return NAN;
    }
    double t = kendall_core(x, y, n, &w, &rw, tau_b);
    kendall_ws_free(&w);
    free(rw.k);
    return t;
}

double stats_kendall(const double *x, const double *y, int n)
{
    return kendall(x, y, n, 1);
}

double stats_kendall_a(const double *x, const double *y, int n)
{
    return kendall(x, y, n, 0);
}

/* ---- granulated Kendall (Jiang et al. 2020, eq. 4) ---- */

typedef struct {
    int g, i;
} group_idx;

static int cmp_group_idx(const void *a, const void *b)
{
    const group_idx *p = a, *q = b;
    if (p->g != q->g)
        return p->g < q->g ? -1 : 1;
    return (p->i > q->i) - (p->i < q->i);
}

double stats_granulated_kendall(const double *x, const double *y, const int *group, int n,
                                int A, double *per_axis)
{
    return stats_granulated_kendall_ex(x, y, group, n, A, 1, per_axis);
}

double stats_granulated_kendall_ex(const double *x, const double *y, const int *group, int n,
                                   int A, int tau_b, double *per_axis)
{
    if (per_axis)
        for (int a = 0; a < A; a++)
            per_axis[a] = NAN;
    if (n < 2 || A < 1 || any_nan(x, n) || any_nan(y, n))
        return NAN;
    group_idx *gi = malloc(sizeof *gi * (size_t)n);
    double *gx = malloc(sizeof(double) * 2 * (size_t)n);
    if (!gi || !gx) {
        free(gi);
        free(gx);
        return NAN;
    }
    double *gy = gx + n;
    double sum_psi = 0;
    int n_axes = 0;
    for (int a = 0; a < A; a++) {
        const int *g = group + (size_t)a * n;
        int m = 0;
        for (int i = 0; i < n; i++)
            if (g[i] >= 0)
                gi[m].g = g[i], gi[m].i = i, m++;
        qsort(gi, m, sizeof *gi, cmp_group_idx);
        double sum_tau = 0;
        int n_groups = 0;
        for (int s = 0; s < m;) {
            int e = s + 1;
            while (e < m && gi[e].g == gi[s].g)
                e++;
            if (e - s >= 2) {
                for (int k = s; k < e; k++)
                    gx[k - s] = x[gi[k].i], gy[k - s] = y[gi[k].i];
                /* tau-a is never NaN here (no NaN input, >= 2 items) */
                double t = kendall(gx, gy, e - s, tau_b);
                if (!isnan(t))
                    sum_tau += t, n_groups++;
            }
            s = e;
        }
        if (n_groups > 0) {
            double psi = sum_tau / n_groups;
            if (per_axis)
                per_axis[a] = psi;
            sum_psi += psi;
            n_axes++;
        }
    }
    free(gi);
    free(gx);
    return n_axes > 0 ? sum_psi / n_axes : NAN;
}

/* ---- bootstrap ---- */

static int cmp_double(const void *a, const void *b)
{
    double p = *(const double *)a, q = *(const double *)b;
    return (p > q) - (p < q);
}

/* Quantile q of sorted v (m >= 1) by linear interpolation between order
 * statistics at position (m - 1) q (Hyndman-Fan type 7, numpy's default). */
static double sorted_quantile(const double *v, int m, double q)
{
    double h = (m - 1) * q;
    int k = (int)floor(h);
    if (k >= m - 1)
        return v[m - 1];
    if (k < 0)
        return v[0];
    return v[k] + (h - k) * (v[k + 1] - v[k]);
}

int stats_bootstrap(stats_fn f, void *ctx, int n, int reps, uint64_t seed, double level,
                    double *lo, double *hi)
{
    *lo = *hi = NAN;
    if (n < 1 || reps < 1 || !(level > 0 && level < 1))
        return 0;
    double *v = malloc(sizeof(double) * (size_t)reps); // (reps) the distribution
    if (!v)
        return -1;
    int m = 0;
    int rc = stats_resample(f, ctx, NULL, n, reps, seed, v, &m);
    if (!rc)
        stats_percentile_interval(v, m, reps, level, lo, hi);
    free(v);
    return rc;
}

/* Grow the index buffer *idx (capacity *cap) to hold need items. */
static int grow_idx(int **idx, int *cap, int need)
{
    if (need <= *cap)
        return 0;
    int c = *cap > INT_MAX / 2 ? INT_MAX : 2 * *cap;
    if (c < need)
        c = need;
    int *t = realloc(*idx, sizeof(int) * (size_t)c);
    if (!t)
        return -1;
    *idx = t;
    *cap = c;
    return 0;
}

int stats_resample(stats_fn f, void *ctx, const int *cluster, int n, int reps, uint64_t seed,
                   double *out, int *kept)
{
    *kept = 0;
    if (n < 1 || reps < 1)
        return 0;
    int cap = n;
    int *idx = malloc(sizeof(int) * (size_t)cap); // (cap) one resample
    group_idx *gi = NULL;                          // (n) items by (cluster id, index)
    int *start = NULL;                             // (G + 1) cluster c is gi[start[c]..start[c+1])
    int G = 0;
    if (!idx)
        return -1;
    if (cluster) {
        gi = malloc(sizeof *gi * (size_t)n);
        start = malloc(sizeof(int) * ((size_t)n + 1));
        if (!gi || !start) {
            free(idx), free(gi), free(start);
            return -1;
        }
        for (int i = 0; i < n; i++)
            gi[i].g = cluster[i], gi[i].i = i;
        qsort(gi, n, sizeof *gi, cmp_group_idx);
        for (int i = 0; i < n; i++)
            if (i == 0 || gi[i].g != gi[i - 1].g)
                start[G++] = i;
        start[G] = n;
    }
    rng r;
    rng_seed(&r, seed);
    int k = 0, rc = 0;
    for (int b = 0; b < reps; b++) {
        int m = 0;
        if (!cluster) {
            for (int i = 0; i < n; i++)
                idx[i] = (int)rng_below(&r, (uint32_t)n);
            m = n;
        } else {
            for (int d = 0; d < G; d++) {
                int c = (int)rng_below(&r, (uint32_t)G), sz = start[c + 1] - start[c];
                if (m > INT_MAX - sz || grow_idx(&idx, &cap, m + sz)) {
                    rc = -1;
                    break;
                }
                for (int t = start[c]; t < start[c + 1]; t++)
                    idx[m++] = gi[t].i;
            }
            if (rc)
                break;
        }
        double v = f(idx, m, ctx);
        if (!isnan(v))
            out[k++] = v;
    }
    free(idx), free(gi), free(start);
    if (rc)
        return -1;
    qsort(out, k, sizeof(double), cmp_double);
    *kept = k;
    return 0;
}

double stats_quantile_sorted(const double *v, int n, double q)
{
    if (n < 1 || isnan(q))
        return NAN;
    return sorted_quantile(v, n, q < 0 ? 0.0 : q > 1 ? 1.0 : q);
}

void stats_percentile_interval(const double *sorted, int kept, int reps, double level,
                               double *lo, double *hi)
{
    *lo = *hi = NAN;
    if (kept < 1 || kept > reps || 2 * (reps - kept) > reps || !(level > 0 && level < 1))
        return;
    *lo = sorted_quantile(sorted, kept, 0.5 * (1 - level));
    *hi = sorted_quantile(sorted, kept, 0.5 * (1 + level));
}

double stats_boot_p(const double *sorted, int kept, double null)
{
    if (kept < 1 || isnan(null))
        return NAN;
    long le = 0, ge = 0;
    for (int i = 0; i < kept; i++)
        le += sorted[i] <= null, ge += sorted[i] >= null;
    double p = 2.0 * (double)((le < ge ? le : ge) + 1) / ((double)kept + 1);
    return p > 1 ? 1.0 : p;
}

/* ---- Holm adjustment ---- */

void stats_holm(const double *p, int m, double *adj)
{
    if (m < 1)
        return;
    val_idx *vi = malloc(sizeof *vi * (size_t)m); // (m) the non-NaN p with their index
    if (!vi) {
        for (int i = 0; i < m; i++)
            adj[i] = NAN;
        return;
    }
    int M = 0;
    for (int i = 0; i < m; i++)
        if (!isnan(p[i]))
            vi[M].v = p[i], vi[M].i = i, M++;
    qsort(vi, M, sizeof *vi, cmp_val_idx);
    /* vi holds copies, so adj may alias p */
    for (int i = 0; i < m; i++)
        adj[i] = NAN;
    double run = 0;
    for (int j = 0; j < M; j++) {
        double a = (double)(M - j) * vi[j].v;
        a = a > 1 ? 1.0 : a;
        run = a > run ? a : run;
        adj[vi[j].i] = run;
    }
    free(vi);
}

/* ---- AUC and median ---- */

double stats_mw_auc(const double *score, const int *pos, int n)
{
    if (n < 2 || any_nan(score, n))
        return NAN;
    double *r = malloc(sizeof(double) * (size_t)n); // (n) mid-ranks of score
    rank_ws w;
    if (!r || rank_ws_alloc(&w, n)) {
        free(r);
        return NAN;
    }
    midranks(score, n, r, &w);
    double rank_sum = 0;
    long np = 0;
    for (int i = 0; i < n; i++)
        if (pos[i])
            rank_sum += r[i], np++;
    free(r), free(w.k);
    long nn = n - np;
    if (np == 0 || nn == 0)
        return NAN;
    /* Mann-Whitney U of the positives: rank sum minus its minimum */
    return (rank_sum - 0.5 * (double)np * (double)(np + 1)) / ((double)np * (double)nn);
}

double stats_median(const double *x, int n)
{
    if (n < 1 || any_nan(x, n))
        return NAN;
    double *v = malloc(sizeof(double) * (size_t)n); // (n) sorted copy of x
    if (!v)
        return NAN;
    memcpy(v, x, sizeof(double) * (size_t)n);
    qsort(v, n, sizeof(double), cmp_double);
    double med = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
    free(v);
    return med;
}

/* ---- Wilson interval and the normal quantile ---- */

void stats_wilson(long k, long n, double level, double *lo, double *hi)
{
    *lo = *hi = NAN;
    if (n <= 0 || k < 0 || k > n || !(level > 0 && level < 1))
        return;
    double z = stats_norm_quantile(0.5 * (1 + level)), z2 = z * z;
    double p = (double)k / n, nn = (double)n;
    double den = 1 + z2 / nn;
    double centre = (p + z2 / (2 * nn)) / den;
    double half = z * sqrt(p * (1 - p) / nn + z2 / (4 * nn * nn)) / den;
    /* at k = 0 (k = n) the bound is exactly 0 (1); avoid rounding residue */
    *lo = k == 0 ? 0.0 : fmax(0.0, centre - half);
    *hi = k == n ? 1.0 : fmin(1.0, centre + half);
}

double stats_norm_quantile(double p)
{
    if (isnan(p) || p < 0 || p > 1)
        return NAN;
    if (p == 0)
        return -INFINITY;
    if (p == 1)
        return INFINITY;
    /* by symmetry work in the lower half: 1 - p is exact for p >= 0.5, and
     * Phi(x) = erfc(-x / sqrt 2) / 2 is accurate to full relative precision
     * for x <= 0, where the Halley step below needs it */
    if (p > 0.5)
        return -stats_norm_quantile(1 - p);
    /* P. J. Acklam's rational approximation (relative error < 1.15e-9) */
    static const double a[6] = {-3.969683028665376e+01, 2.209460984245205e+02,
                                -2.759285104469687e+02, 1.383577518672690e+02,
                                -3.066479806614716e+01, 2.506628277459239e+00};
    static const double b[5] = {-5.447609879822406e+01, 1.615858368580409e+02,
                                -1.556989798598866e+02, 6.680131188771972e+01,
                                -1.328068155288572e+01};
    static const double c[6] = {-7.784894002430293e-03, -3.223964580411365e-01,
                                -2.400758277161838e+00, -2.549732539343734e+00,
                                4.374664141464968e+00,  2.938163982698783e+00};
    static const double d[4] = {7.784695709041462e-03, 3.224671290700398e-01,
                                2.445134137142996e+00, 3.754408661907416e+00};
    double x;
    if (p < 0.02425) {
        double q = sqrt(-2 * log(p));
        x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    } else {
        double q = p - 0.5, r = q * q;
        x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
            (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
    }
    /* one Halley step on Phi(x) - p, Phi from erfc (accurate in both tails) */
    double e = 0.5 * erfc(-x / M_SQRT2) - p;
    double u = e * sqrt(2 * M_PI) * exp(0.5 * x * x);
    return x - u / (1 + 0.5 * x * u);
}
