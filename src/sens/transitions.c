/* transitions.c: sampled transition counts along closed trajectories, the
 * codes of points, and the dispatch to the exact walk (walk.c).
 *
 * Sampling: k points u_i = i/k in blocks of o->block (default 4096) points.
 * Layer 1's pre-activations are exact in float64 without a GEMM (along an
 * ellipse they are alpha + beta cos t + gamma sin t with the three
 * coefficients computed once; along a polygon they interpolate the vertices'
 * pre-activations), the other hidden layers run as float32 GEMMs.
 * No flicker from float32 rounding: a float32 pre-activation a_ij within
 * 2e-6 ||W_j|| ||h_i|| of a kink (about 30x the rounding error of a float32
 * dot product of those norms) marks point i, and every marked point of the
 * block is recomputed in float64 (one dgemm chain over the marked rows)
 * before its code is used. So codes are float64 decisions, and the sampled
 * count cannot exceed the exact one except for crossings closer than double
 * rounding. The count between consecutive samples is the number of neurons
 * whose piece differs (STUDY.md), the closing pair (k-1, 0) included.
 * Tanh with sign code: the "kink" is 0; without it SN_EARG.
 *
 * cblas_dgemm is called directly here and in walk.c (float64 work);
 * blas.h only wraps sgemm. */
#include "transitions.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/blas.h"
#include "walk.h"

#define SUSPECT_TAU 2e-6

typedef struct sampler {
    const mlp *m;
    act_pieces ap;
    int L, nh, NH, H1, maxh, B;
    size_t *coff;      /* coff (nh): offset of layer h's codes in a code row */
    float *a, *h;      /* a, h (B, maxh) */
    double *A1;        /* A1 (B, H1) */
    uint8_t *codes;    /* codes (B, NH) */
    uint8_t *susp;     /* susp (B) */
    double *Wd;        /* Wd (n_params) */
    double *wn;        /* wn: ||W_l row j|| at the layer's offset, as coff */
    double *hn;        /* hn (B) */
    double *da, *dh;   /* da, dh (B, maxh) double fallback */
    int *rows;         /* rows (B) */
} sampler;

static void sampler_free(sampler *s)
{
    free(s->coff);
    free(s->a);
    free(s->h);
    free(s->A1);
    free(s->codes);
    free(s->susp);
    free(s->Wd);
    free(s->wn);
    free(s->hn);
    free(s->da);
    free(s->dh);
    free(s->rows);
}

static int check_args(const mlp *m, int tanh_sign, sn_err *e)
{
    if (m->cfg.act == ACT_TANH && !tanh_sign)
        return err_set(e, SN_EARG,
                       "tanh has no linear pieces, so no transitions: count sign changes of "
                       "pre-activations with --tanh-code sign (tanh_sign)");
    return SN_OK;
}

static int sampler_init(sampler *s, const mlp *m, int block, sn_err *e)
{
    memset(s, 0, sizeof *s);
    s->m = m;
    act_pieces_of(m->cfg.act, &s->ap);
    s->L = m->cfg.depth;
    s->nh = s->L - 1;
    s->H1 = s->nh > 0 ? m->dims[1] : 1;
    s->B = block > 0 ? block : 4096;
    s->maxh = 1;
    for (int l = 1; l < s->L; l++)
        s->maxh = m->dims[l] > s->maxh ? m->dims[l] : s->maxh;
    s->coff = malloc(sizeof(size_t) * (s->nh + 1));
    if (!s->coff)
        goto oom;
    size_t off = 0;
    for (int h = 0; h < s->nh; h++) {
        s->coff[h] = off;
        off += m->dims[h + 1];
    }
    s->NH = (int)off;
    size_t bh = (size_t)s->B * s->maxh;
    s->a = malloc(sizeof(float) * bh);
    s->h = malloc(sizeof(float) * bh);
    s->A1 = malloc(sizeof(double) * (size_t)s->B * s->H1);
    s->codes = malloc((size_t)s->B * (s->NH ? s->NH : 1));
    s->susp = malloc(s->B);
    s->Wd = malloc(sizeof(double) * (m->n_params ? m->n_params : 1));
    s->wn = malloc(sizeof(double) * (s->NH ? s->NH : 1));
    s->hn = malloc(sizeof(double) * s->B);
    s->da = malloc(sizeof(double) * bh);
    s->dh = malloc(sizeof(double) * bh);
    s->rows = malloc(sizeof(int) * s->B);
    if (!s->a || !s->h || !s->A1 || !s->codes || !s->susp || !s->Wd || !s->wn || !s->hn ||
        !s->da || !s->dh || !s->rows)
        goto oom;
    for (size_t i = 0; i < m->n_params; i++)
        s->Wd[i] = m->params[i];
    for (int h = 0; h < s->nh; h++) {
        int in = m->dims[h], out = m->dims[h + 1];
        const double *W = s->Wd + m->w_off[h];
        for (int j = 0; j < out; j++) {
            double q = 0;
            for (int i = 0; i < in; i++)
                q += W[(size_t)j * in + i] * W[(size_t)j * in + i];
            s->wn[s->coff[h] + j] = sqrt(q);
        }
    }
    return SN_OK;
oom:
    sampler_free(s);
    return err_set(e, SN_ENOMEM, "out of memory for a sampling block of %d points", s->B);
}

/* Exact float64 codes of the layers >= 2 for rows (n of them) of A1, into
 * codes rows (the layer-1 codes are already exact). */
static void dforward_rows(sampler *s, const int *rows, int n)
{
    const mlp *m = s->m;
    const act_pieces *ap = &s->ap;
    for (int i0 = 0; i0 < n; i0 += s->B) {
        int nb = n - i0 < s->B ? n - i0 : s->B;
        int H1 = m->dims[1];
        for (int r = 0; r < nb; r++) {
            const double *src = s->A1 + (size_t)rows[i0 + r] * H1;
            double *dst = s->dh + (size_t)r * H1;
            for (int j = 0; j < H1; j++)
                dst[j] = act_phi(m->cfg.act, src[j]);
        }
        for (int h = 1; h < s->nh; h++) {
            int in = m->dims[h], out = m->dims[h + 1];
            double beta = 0;
            if (m->cfg.bias) {
                const double *b = s->Wd + m->b_off[h];
                for (int r = 0; r < nb; r++)
                    memcpy(s->da + (size_t)r * out, b, sizeof(double) * out);
                beta = 1;
            }
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nb, out, in, 1.0, s->dh, in,
                        s->Wd + m->w_off[h], in, beta, s->da, out);
            for (int r = 0; r < nb; r++) {
                uint8_t *c = s->codes + (size_t)rows[i0 + r] * s->NH + s->coff[h];
                const double *a = s->da + (size_t)r * out;
                double *hh = s->dh + (size_t)r * out;
                for (int j = 0; j < out; j++) {
                    c[j] = (uint8_t)pieces_index(ap, a[j]);
                    hh[j] = act_phi(m->cfg.act, a[j]);
                }
            }
        }
    }
}

/* Codes of the n rows of s->A1 into s->codes. */
static void codes_block(sampler *s, int n)
{
    const mlp *m = s->m;
    const act_pieces *ap = &s->ap;
    if (s->nh == 0)
        return;
    int H1 = m->dims[1];
    memset(s->susp, 0, n);
    for (int i = 0; i < n; i++) {
        const double *a = s->A1 + (size_t)i * H1;
        uint8_t *c = s->codes + (size_t)i * s->NH;
        float *af = s->a + (size_t)i * H1;
        for (int j = 0; j < H1; j++) {
            c[j] = (uint8_t)pieces_index(ap, a[j]);
            af[j] = (float)a[j];
        }
    }
    act_forward(m->cfg.act, s->a, s->h, (size_t)n * H1);
    for (int h = 1; h < s->nh; h++) {
        int in = m->dims[h], out = m->dims[h + 1];
        for (int i = 0; i < n; i++) {
            const float *hi = s->h + (size_t)i * in;
            double q = 0;
            for (int j = 0; j < in; j++)
                q += (double)hi[j] * hi[j];
            s->hn[i] = sqrt(q);
        }
        float beta = 0;
        if (m->cfg.bias) {
            const float *b = mlp_b(m, m->params, h);
            for (int i = 0; i < n; i++)
                memcpy(s->a + (size_t)i * out, b, sizeof(float) * out);
            beta = 1;
        }
        blas_sgemm(0, 1, n, out, in, 1.0f, s->h, in, mlp_w(m, m->params, h), in, beta, s->a, out);
        const double *wn = s->wn + s->coff[h];
        for (int i = 0; i < n; i++) {
            const float *a = s->a + (size_t)i * out;
            uint8_t *c = s->codes + (size_t)i * s->NH + s->coff[h];
            double tol0 = SUSPECT_TAU * s->hn[i];
            int sus = 0;
            for (int j = 0; j < out; j++) {
                double v = a[j];
                double tol = tol0 * wn[j];
                int p = 0;
                for (int q = 0; q < ap->nk; q++) {
                    p += v > ap->kink[q];
                    sus |= fabs(v - ap->kink[q]) <= tol;
                }
                c[j] = (uint8_t)p;
            }
            s->susp[i] |= (uint8_t)sus;
        }
        act_forward(m->cfg.act, s->a, s->h, (size_t)n * out);
    }
    int ns = 0;
    for (int i = 0; i < n; i++)
        if (s->susp[i])
            s->rows[ns++] = i;
    if (ns)
        dforward_rows(s, s->rows, ns);
}

int trans_codes(const mlp *m, const float *x, int n, int tanh_sign, uint8_t *codes, sn_err *e)
{
    int rc = check_args(m, tanh_sign, e);
    if (rc)
        return rc;
    if (m->cfg.depth < 2)
        return SN_OK;
    sampler s;
    if ((rc = sampler_init(&s, m, 1024, e)))
        return rc;
    int D = m->cfg.d, H1 = m->dims[1];
    const double *W = s.Wd + m->w_off[0];
    for (int i0 = 0; i0 < n; i0 += s.B) {
        int nb = n - i0 < s.B ? n - i0 : s.B;
        for (int i = 0; i < nb; i++)
            for (int j = 0; j < H1; j++) {
                double q = m->cfg.bias ? s.Wd[m->b_off[0] + j] : 0;
                const float *xi = x + (size_t)(i0 + i) * D;
                for (int d = 0; d < D; d++)
                    q += W[(size_t)j * D + d] * xi[d];
                s.A1[(size_t)i * H1 + j] = q;
            }
        codes_block(&s, nb);
        memcpy(codes + (size_t)i0 * s.NH, s.codes, (size_t)nb * s.NH);
    }
    sampler_free(&s);
    return SN_OK;
}

/* First-layer coefficients: ellipse C1 (3,H1) or vertex pre-activations
 * P (V,H1). */
static int first_layer(const sampler *s, const traj *t, double **out, sn_err *e)
{
    const mlp *m = s->m;
    int H1 = m->dims[1], D = m->cfg.d, nr = t->is_ellipse ? 3 : t->nv;
    double *P = malloc(sizeof(double) * (size_t)nr * H1);
    if (!P)
        return err_set(e, SN_ENOMEM, "out of memory for first-layer coefficients");
    const double *W = s->Wd + m->w_off[0];
    for (int r = 0; r < nr; r++) {
        const double *v = t->is_ellipse ? (r == 0 ? t->c : r == 1 ? t->a : t->b)
                                        : t->verts + (size_t)r * D;
        for (int j = 0; j < H1; j++) {
            double q = (m->cfg.bias && (!t->is_ellipse || r == 0)) ? s->Wd[m->b_off[0] + j] : 0;
            for (int d = 0; d < D; d++)
                q += W[(size_t)j * D + d] * v[d];
            P[(size_t)r * H1 + j] = q;
        }
    }
    *out = P;
    return SN_OK;
}

/* Fill s->A1 with the layer-1 pre-activations of samples i0..i0+n-1 of k. */
static void fill_A1(sampler *s, const traj *t, const double *P, long i0, int n, long k)
{
    int H1 = s->m->dims[1];
    for (int i = 0; i < n; i++) {
        double *a = s->A1 + (size_t)i * H1;
        long ii = i0 + i;
        if (t->is_ellipse) {
            double th = 2 * M_PI * ((double)ii / (double)k), ct = cos(th), st = sin(th);
            for (int j = 0; j < H1; j++)
                a[j] = P[j] + P[H1 + j] * ct + P[2 * H1 + j] * st;
        } else {
            double q = (double)ii * t->nv / (double)k;
            long sg = (long)floor(q);
            double f = q - (double)sg;
            if (sg >= t->nv)
                sg = t->nv - 1, f = 1;
            const double *p0 = P + (size_t)sg * H1, *p1 = P + (size_t)((sg + 1) % t->nv) * H1;
            if (f == 0)
                memcpy(a, p0, sizeof(double) * H1);
            else
                for (int j = 0; j < H1; j++)
                    a[j] = (1 - f) * p0[j] + f * p1[j];
        }
    }
}

static long count_diff(const uint8_t *x, const uint8_t *y, int n)
{
    long c = 0;
    for (int i = 0; i < n; i++)
        c += x[i] != y[i];
    return c;
}

int trans_sampled(const mlp *m, const traj *t, long k, const trans_opts *o, trans_result *res,
                  sn_err *e)
{
    memset(res, 0, sizeof *res);
    res->curvature = NAN;
    int rc = check_args(m, o && o->tanh_sign, e);
    if (rc)
        return rc;
    if (k < 2)
        return err_set(e, SN_EARG, "need at least 2 samples per trajectory (got %ld)", k);
    if (t->d != m->cfg.d)
        return err_set(e, SN_ESHAPE, "trajectory has %d features, the network takes %d", t->d,
                       m->cfg.d);
    res->samples = k;
    res->regions = 1;
    if (m->cfg.depth < 2) {
        if (o && o->profile)
            for (long i = 0; i < k; i++)
                o->profile(o->profile_ctx, (double)i / k, NAN, 0);
        return SN_OK;
    }
    sampler s;
    if ((rc = sampler_init(&s, m, o ? o->block : 0, e)))
        return rc;
    double *P = NULL;
    uint8_t *first = malloc(s.NH), *prev = malloc(s.NH);
    if (!first || !prev) {
        rc = err_set(e, SN_ENOMEM, "out of memory");
        goto out;
    }
    if ((rc = first_layer(&s, t, &P, e)))
        goto out;
    long total = 0, changes = 0;
    for (long i0 = 0; i0 < k; i0 += s.B) {
        int n = k - i0 < s.B ? (int)(k - i0) : s.B;
        fill_A1(&s, t, P, i0, n, k);
        codes_block(&s, n);
        for (int i = 0; i < n; i++) {
            const uint8_t *row = s.codes + (size_t)i * s.NH;
            long d = 0;
            if (i0 + i == 0)
                memcpy(first, row, s.NH);
            else
                d = count_diff(i == 0 ? prev : row - s.NH, row, s.NH);
            total += d;
            changes += d > 0;
            if (o && o->profile)
                o->profile(o->profile_ctx, (double)(i0 + i) / k, NAN, d);
        }
        memcpy(prev, s.codes + (size_t)(n - 1) * s.NH, s.NH);
    }
    long d = count_diff(prev, first, s.NH);
    total += d;
    changes += d > 0;
    if (o && o->profile)
        o->profile(o->profile_ctx, 1.0, NAN, d);
    res->transitions = total;
    res->regions = changes > 0 ? changes : 1;
out:
    free(P);
    free(first);
    free(prev);
    sampler_free(&s);
    return rc;
}

/* Tanh with sign code: layer 1 in closed form, deeper layers by sign changes
 * on a grid refined by bisection (see walk.c's header). */
#define TANH_GRID 16384
#define TANH_BISECT 12

static long tanh_bracket(sampler *s, const traj *t, const double *P, double ua, double ub,
                         const uint8_t *ca, const uint8_t *cb, int depth, int off)
{
    long d = count_diff(ca + off, cb + off, s->NH - off);
    if (d == 0 || depth == 0)
        return d;
    /* midpoint as sample 1 of 2 on [ua, ub]: encode u directly */
    double um = 0.5 * (ua + ub);
    long big = 1L << 40;
    fill_A1(s, t, P, (long)llround(um * big), 1, big);
    s->rows[0] = 0;
    int H1 = s->m->dims[1];
    for (int j = 0; j < H1; j++)
        s->codes[j] = (uint8_t)pieces_index(&s->ap, s->A1[j]);
    dforward_rows(s, s->rows, 1);
    uint8_t *cm = malloc(s->NH);
    if (!cm)
        return d;
    memcpy(cm, s->codes, s->NH);
    long r = tanh_bracket(s, t, P, ua, um, ca, cm, depth - 1, off) +
             tanh_bracket(s, t, P, um, ub, cm, cb, depth - 1, off);
    free(cm);
    return r > d ? r : d;
}

static int tanh_exact(const mlp *m, const traj *t, const trans_opts *o, trans_result *res,
                      sn_err *e)
{
    sampler s;
    int rc = sampler_init(&s, m, 1024, e);
    if (rc)
        return rc;
    double *P = NULL;
    uint8_t *all = NULL;
    if ((rc = first_layer(&s, t, &P, e)))
        goto out;
    int H1 = m->dims[1];
    long n1 = 0;
    for (int j = 0; j < H1; j++) {
        if (t->is_ellipse) {
            double R = hypot(P[H1 + j], P[2 * H1 + j]);
            n1 += (R > 0 && fabs(P[j]) / R < 1 - 1e-13) ? 2 : 0;
        } else {
            for (int sg = 0; sg < t->nv; sg++) {
                double a0 = P[(size_t)sg * H1 + j], a1 = P[(size_t)((sg + 1) % t->nv) * H1 + j];
                n1 += (a0 > 0) != (a1 > 0);
            }
        }
    }
    long G = TANH_GRID;
    all = malloc((size_t)(G + 1) * s.NH);
    if (!all) {
        rc = err_set(e, SN_ENOMEM, "out of memory for the tanh grid");
        goto out;
    }
    for (long i0 = 0; i0 < G; i0 += s.B) {
        int n = G - i0 < s.B ? (int)(G - i0) : s.B;
        fill_A1(&s, t, P, i0, n, G);
        for (int i = 0; i < n; i++) {
            s.rows[i] = i;
            for (int j = 0; j < H1; j++)
                s.codes[(size_t)i * s.NH + j] = (uint8_t)pieces_index(&s.ap, s.A1[(size_t)i * H1 + j]);
        }
        dforward_rows(&s, s.rows, n);
        memcpy(all + (size_t)i0 * s.NH, s.codes, (size_t)n * s.NH);
    }
    memcpy(all + (size_t)G * s.NH, all, s.NH);
    long deep = 0, regions = 0;
    int off = H1;
    if (o && o->profile)
        o->profile(o->profile_ctx, 0.0, NAN, 0);
    for (long i = 0; i < G; i++) {
        long d = tanh_bracket(&s, t, P, (double)i / G, (double)(i + 1) / G, all + i * s.NH,
                              all + (i + 1) * s.NH, TANH_BISECT, off);
        deep += d;
        regions += d > 0;
        if (o && o->profile && d)
            o->profile(o->profile_ctx, (double)(i + 1) / G, NAN, d);
    }
    if (o && o->profile && n1)
        o->profile(o->profile_ctx, 1.0, NAN, n1); /* layer 1's closed-form crossings */
    res->transitions = n1 + deep;
    res->regions = (n1 + regions) > 0 ? n1 + regions : 1;
    res->samples = res->transitions;
    res->curvature = NAN;
out:
    free(P);
    free(all);
    sampler_free(&s);
    return rc;
}

int trans_exact(const mlp *m, const traj *t, const trans_opts *o, trans_result *res, sn_err *e)
{
    memset(res, 0, sizeof *res);
    res->curvature = NAN;
    int rc = check_args(m, o && o->tanh_sign, e);
    if (rc)
        return rc;
    if (t->d != m->cfg.d)
        return err_set(e, SN_ESHAPE, "trajectory has %d features, the network takes %d", t->d,
                       m->cfg.d);
    if (m->cfg.depth < 2) {
        res->regions = 1;
        return SN_OK;
    }
    trans_opts def = {0};
    if (!o)
        o = &def;
    if (m->cfg.act == ACT_TANH)
        return tanh_exact(m, t, o, res, e);
    return walk_exact(m, t, o, res, e);
}
