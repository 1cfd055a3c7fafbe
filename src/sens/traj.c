/* traj.c: the closed trajectories of STUDY.md section 3 (ellipses through
 * three points, polygons, the translation loop) and the deterministic choice
 * of their anchors. The translation loop goes around the square of shifts
 * that training augmentation draws from, its vertices built by the
 * augmentation's own shifting code (dataset_shift_example), so the loop
 * stays on the translated data the network was trained on.
 *
 * Everything is float64: an ellipse stores its centre c and semi-axes a, b,
 * a polygon its vertices, so that traj_point reproduces the anchors (ellipse:
 * u = 0, 1/3, 2/3; polygon: u = i/V) up to one rounding. It does not sample
 * or evaluate networks; src/sens/transitions.c does.
 *
 * traj_length gives a trajectory's arc length in input space, so that
 * counts along loops of different sizes can be compared per unit length:
 * polygons sum their segments; an ellipse's perimeter comes from its two
 * semi-axes (the Gram matrix of a and b) by the AGM, not by sampling. */
#include "traj.h"

#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const KIND_NAMES[] = {"ellipse-diff", "ellipse-same", "ellipse-random",
                                         "translate",    "ellipse",      "polygon"};
#define N_KINDS ((int)(sizeof KIND_NAMES / sizeof *KIND_NAMES))

int traj_kind_parse(const char *s, traj_kind *out, sn_err *e)
{
    for (int i = 0; i < N_KINDS; i++)
        if (s && strcmp(s, KIND_NAMES[i]) == 0) {
            *out = (traj_kind)i;
            return SN_OK;
        }
    return err_set(e, SN_EARG,
                   "unknown trajectory '%s' (expected ellipse-diff, ellipse-same, "
                   "ellipse-random, translate, ellipse or polygon)",
                   s ? s : "(null)");
}

const char *traj_kind_name(traj_kind k) { return (unsigned)k < N_KINDS ? KIND_NAMES[k] : "?"; }

static int traj_alloc(traj *t, int d, int ellipse, int nv, sn_err *e)
{
    memset(t, 0, sizeof *t);
    if (d < 1 || (!ellipse && nv < 2))
        return err_set(e, SN_EARG, "trajectory needs d >= 1 (got %d) and >= 2 vertices (got %d)",
                       d, nv);
    t->d = d;
    t->is_ellipse = ellipse;
    if (ellipse) {
        t->c = malloc(sizeof(double) * 3 * (size_t)d);
        if (!t->c)
            return err_set(e, SN_ENOMEM, "out of memory for an ellipse in %d dimensions", d);
        t->a = t->c + d;
        t->b = t->c + 2 * (size_t)d;
    } else {
        t->nv = nv;
        t->verts = malloc(sizeof(double) * (size_t)nv * d);
        if (!t->verts)
            return err_set(e, SN_ENOMEM, "out of memory for a %d-vertex polygon", nv);
    }
    return SN_OK;
}

void traj_free(traj *t)
{
    if (!t)
        return;
    free(t->c); /* a, b live in the same block */
    free(t->verts);
    memset(t, 0, sizeof *t);
}

int traj_ellipse3(traj *t, const float *x1, const float *x2, const float *x3, int d, sn_err *e)
{
    int rc = traj_alloc(t, d, 1, 0, e);
    if (rc)
        return rc;
    const double s3 = sqrt(3.0);
    for (int j = 0; j < d; j++) {
        double p = x1[j], q = x2[j], r = x3[j];
        t->c[j] = (p + q + r) / 3.0;
        t->a[j] = (2.0 * p - q - r) / 3.0;
        t->b[j] = (q - r) / s3;
    }
    return SN_OK;
}

int traj_polygon(traj *t, const double *verts, int nv, int d, sn_err *e)
{
    int rc = traj_alloc(t, d, 0, nv, e);
    if (rc)
        return rc;
    memcpy(t->verts, verts, sizeof(double) * (size_t)nv * d);
    return SN_OK;
}

void traj_translate_shift(int shift, int i, int *dx, int *dy)
{
    int s = shift, side = i / (2 * s), k = i % (2 * s);
    switch (side) {
    case 0: *dx = -s + k, *dy = -s; break; /* dy = -s, dx rising */
    case 1: *dx = s, *dy = -s + k; break;  /* dx = s, dy rising */
    case 2: *dx = s - k, *dy = s; break;   /* dy = s, dx falling */
    default: *dx = -s, *dy = s - k; break; /* dx = -s, dy falling */
    }
}

int traj_translate_radius(int requested, int augment_shift)
{
    return requested > 0 ? requested : augment_shift > 0 ? augment_shift : TRAJ_TRANSLATE_SHIFT;
}

int traj_translate(traj *t, const dataset *ds, int row, int shift, sn_err *e)
{
    memset(t, 0, sizeof *t);
    int side = ds->h < ds->w ? ds->h : ds->w;
    if (shift < 1 || shift >= side)
        return err_set(e, SN_EARG,
                       "translation loop: shift %d is not in [1, %d] (images are %dx%d)", shift,
                       side - 1, ds->h, ds->w);
    if (row < 0 || row >= ds->n)
        return err_set(e, SN_EARG, "translation loop: example %d of %d", row, ds->n);
    int d = ds->d, nv = 8 * shift;
    float *v = malloc(sizeof(float) * (size_t)d); // v (D) one shifted image
    int rc = v ? traj_alloc(t, d, 0, nv, e)
               : err_set(e, SN_ENOMEM, "out of memory for a translation loop");
    for (int i = 0; !rc && i < nv; i++) {
        int dx, dy;
        traj_translate_shift(shift, i, &dx, &dy);
        dataset_shift_example(ds, ds->x + (size_t)row * d, dx, dy, 0, v);
        for (int j = 0; j < d; j++)
            t->verts[(size_t)i * d + j] = v[j];
    }
    free(v);
    return rc;
}

void traj_point(const traj *t, double u, double *z)
{
    int d = t->d;
    if (t->is_ellipse) {
        double th = 2.0 * M_PI * u, ct = cos(th), st = sin(th);
        for (int j = 0; j < d; j++)
            z[j] = t->c[j] + t->a[j] * ct + t->b[j] * st;
        return;
    }
    double p = u * t->nv;
    double fl = floor(p);
    long s = (long)fl;
    double f = p - fl;
    s = ((s % t->nv) + t->nv) % t->nv;
    const double *v0 = t->verts + (size_t)s * d, *v1 = t->verts + (size_t)((s + 1) % t->nv) * d;
    for (int j = 0; j < d; j++)
        z[j] = f == 0.0 ? v0[j] : (1.0 - f) * v0[j] + f * v1[j];
}

/* Neumaier's compensated sum: *s + *c is the running total. */
static void sum_add(double *s, double *c, double x)
{
    double t = *s + x;
    *c += fabs(*s) >= fabs(x) ? (*s - t) + x : (x - t) + *s;
    *s = t;
}

/* Perimeter of the ellipse with semi-axes A >= B >= 0: Gauss-Kummer in its
 * AGM form, P = 2 pi (A^2 - sum_{n>=0} 2^(n-1) c_n^2) / AGM(A, B) with
 * c_0^2 = A^2 - B^2 and c_{n+1} = (a_n - b_n) / 2, computed for the axes
 * scaled by 1/A (no overflow); a few iterations (quadratic convergence
 * once a_n and b_n agree to a few digits; about log2 log2(A / B) before). */
static double ellipse_perimeter(double A, double B)
{
    if (!(A > 0))
        return 0;
    double r = B / A;
    if (!(r > 0))
        return 4 * A; /* a segment of length 2A traversed there and back */
    double a = 1, b = r, w = 0.5, s = 0.5 * (1 - r) * (1 + r);
    for (int it = 0; it < 64; it++) {
        double c = 0.5 * (a - b), an = 0.5 * (a + b), bn = sqrt(a * b);
        w *= 2;
        s += w * c * c;
        a = an, b = bn;
        /* the next c is about c^2 / (4 a): its term is below 2^-120 here.
         * Iterating on until a == b would not do: a and b can stay one ulp
         * apart while the weight w doubles that ulp into the sum */
        if (c <= 0x1p-30 * a)
            break;
    }
    return A * 2 * M_PI * (1 - s) / (0.5 * (a + b));
}

double traj_length(const traj *t)
{
    int d = t->d;
    if (d < 1)
        return 0;
    if (t->is_ellipse) {
        if (!t->a || !t->b)
            return 0;
        /* Gram matrix of [a b]: the ellipse's semi-axes are its singular values */
        double p = 0, pc = 0, q = 0, qc = 0, r = 0, rc = 0;
        for (int j = 0; j < d; j++) {
            sum_add(&p, &pc, t->a[j] * t->a[j]);
            sum_add(&q, &qc, t->b[j] * t->b[j]);
            sum_add(&r, &rc, t->a[j] * t->b[j]);
        }
        p += pc, q += qc, r += rc;
        double m = 0.5 * (p + q), h = hypot(0.5 * (p - q), r);
        double l1 = m + h, l2 = m - h;
        return ellipse_perimeter(sqrt(l1 > 0 ? l1 : 0), sqrt(l2 > 0 ? l2 : 0));
    }
    if (!t->verts || t->nv < 1)
        return 0;
    double len = 0, lc = 0;
    for (int i = 0; i < t->nv; i++) {
        const double *v0 = t->verts + (size_t)i * d, *v1 = t->verts + (size_t)((i + 1) % t->nv) * d;
        double s = 0, sc = 0;
        for (int j = 0; j < d; j++) {
            double x = v1[j] - v0[j];
            sum_add(&s, &sc, x * x);
        }
        sum_add(&len, &lc, sqrt(s + sc));
    }
    return len + lc;
}

int traj_pick_anchors(const dataset *ds, traj_kind k, rng *r, int idx[3], sn_err *e)
{
    idx[0] = idx[1] = idx[2] = -1;
    if (k == TRAJ_ELLIPSE_RANDOM)
        return SN_OK;
    if (k == TRAJ_ELLIPSE_ANCHORS || k == TRAJ_POLYGON_ANCHORS)
        return err_set(e, SN_EARG, "trajectory '%s' takes user-given anchors", traj_kind_name(k));
    if (!ds || ds->n < 1)
        return err_set(e, SN_EARG, "no examples to pick trajectory anchors from");
    idx[0] = (int)rng_below(r, (uint32_t)ds->n);
    if (k == TRAJ_TRANSLATE)
        return SN_OK;
    const uint8_t *y = ds->y_true ? ds->y_true : ds->y;
    if (k == TRAJ_ELLIPSE_DIFF) {
        /* rejection draws: bounded, then an error for data with < 3 classes */
        for (int s = 1; s < 3; s++) {
            long tries = 0;
            for (;;) {
                int i = (int)rng_below(r, (uint32_t)ds->n);
                int okc = 1;
                for (int q = 0; q < s; q++)
                    okc &= y[i] != y[idx[q]];
                if (okc) {
                    idx[s] = i;
                    break;
                }
                if (++tries > 100000L + 50L * ds->n)
                    return err_set(e, SN_EARG,
                                   "cannot find 3 training examples of 3 different classes");
            }
        }
        return SN_OK;
    }
    /* TRAJ_ELLIPSE_SAME: two more distinct members of idx[0]'s class */
    int cls = y[idx[0]], nm = 0;
    for (int i = 0; i < ds->n; i++)
        nm += y[i] == cls;
    if (nm < 3)
        return err_set(e, SN_EARG, "class %d has %d training examples, need 3 for ellipse-same",
                       cls, nm);
    for (int s = 1; s < 3; s++) {
        for (;;) {
            int m = (int)rng_below(r, (uint32_t)nm), i = -1;
            for (int q = 0, seen = 0; q < ds->n; q++)
                if (y[q] == cls && seen++ == m) {
                    i = q;
                    break;
                }
            int fresh = 1;
            for (int q = 0; q < s; q++)
                fresh &= i != idx[q];
            if (fresh) {
                idx[s] = i;
                break;
            }
        }
    }
    return SN_OK;
}

int traj_random_ellipse(traj *t, const dataset *ds, rng *r, sn_err *e)
{
    memset(t, 0, sizeof *t);
    if (!ds || ds->n < 1)
        return err_set(e, SN_EARG, "no examples to estimate the data's mean and variance");
    int d = ds->d;
    double *mean = calloc((size_t)d * 2, sizeof(double));
    float *pts = malloc(sizeof(float) * 3 * (size_t)d); // pts (3,D)
    if (!mean || !pts) {
        free(mean);
        free(pts);
        return err_set(e, SN_ENOMEM, "out of memory for a random ellipse");
    }
    double *var = mean + d;
    for (int i = 0; i < ds->n; i++)
        for (int j = 0; j < d; j++)
            mean[j] += ds->x[(size_t)i * d + j];
    for (int j = 0; j < d; j++)
        mean[j] /= ds->n;
    for (int i = 0; i < ds->n; i++)
        for (int j = 0; j < d; j++) {
            double v = ds->x[(size_t)i * d + j] - mean[j];
            var[j] += v * v;
        }
    for (int j = 0; j < d; j++)
        var[j] /= ds->n;
    for (int p = 0; p < 3; p++)
        for (int j = 0; j < d; j++)
            pts[(size_t)p * d + j] = (float)(mean[j] + sqrt(var[j]) * rng_normal(r));
    int rc = traj_ellipse3(t, pts, pts + d, pts + 2 * (size_t)d, d, e);
    free(mean);
    free(pts);
    return rc;
}

int traj_build(traj_kind k, const dataset *train, const dataset *test, uint64_t seed, long i,
               int shift, traj *t, char *desc, size_t desc_len, sn_err *e)
{
    rng r;
    rng_seed(&r, rng_derive(seed, (uint64_t)i * 64 + (uint64_t)k));
    int idx[3] = {-1, -1, -1}, rc;
    char buf[128];
    memset(t, 0, sizeof *t);
    switch (k) {
    case TRAJ_ELLIPSE_DIFF:
    case TRAJ_ELLIPSE_SAME:
        if ((rc = traj_pick_anchors(train, k, &r, idx, e)))
            return rc;
        rc = traj_ellipse3(t, train->x + (size_t)idx[0] * train->d,
                           train->x + (size_t)idx[1] * train->d,
                           train->x + (size_t)idx[2] * train->d, train->d, e);
        snprintf(buf, sizeof buf, "train:%d;%d;%d", (int)train->index[idx[0]],
                 (int)train->index[idx[1]], (int)train->index[idx[2]]);
        break;
    case TRAJ_ELLIPSE_RANDOM:
        rc = traj_random_ellipse(t, train, &r, e);
        snprintf(buf, sizeof buf, "random");
        break;
    case TRAJ_TRANSLATE:
        if ((rc = traj_pick_anchors(test, k, &r, idx, e)))
            return rc;
        rc = traj_translate(t, test, idx[0], shift, e);
        snprintf(buf, sizeof buf, "test:%d shift %d", (int)test->index[idx[0]], shift);
        break;
    default:
        return err_set(e, SN_EARG, "traj_build: trajectory kind '%s' needs explicit anchors",
                       traj_kind_name(k));
    }
    if (!rc && desc && desc_len)
        snprintf(desc, desc_len, "%s", buf);
    return rc;
}
