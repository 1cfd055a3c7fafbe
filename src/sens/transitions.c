/* transitions.c: sampled transition counts along closed trajectories, the
 * codes of points, and the dispatch to the exact walk (walk.c).
 *
 * Sampling: k points u_i = i/k. The samples are split into T contiguous
 * ranges, one per worker thread (T = the BLAS thread count, each worker's
 * GEMMs single-threaded, as jac_norms does), each range processed in blocks
 * of o->block (default 4096) points. Layer 1's pre-activations are exact in
 * float64 without a GEMM (along an ellipse they are
 * alpha + beta cos t + gamma sin t with the three coefficients computed once;
 * along a polygon they interpolate the vertices' pre-activations), the other
 * hidden layers run as float32 GEMMs. After each GEMM one fused pass over the
 * block's pre-activations decides the codes, flags near-kink neurons, applies
 * the activation in place and sums ||h||^2 for the next layer's tolerance.
 *
 * No flicker from float32 rounding: a float32 pre-activation a_ij within
 * tau_ij = SUSPECT_TAU ||W_j|| ||h_i|| of a kink (h_i the float32 input row
 * of that layer) is "suspect", and only suspect neurons are re-decided in
 * float64 before their code is used. Re-deciding neuron j of layer l of
 * point i needs the exact inputs h_{l-1}: the point's layers 2..l-1 are
 * recomputed in float64 (one dgemm over the block's suspect points, per
 * layer, only as far as the point's highest suspect layer) and then neuron
 * j's dot product in float64 (layer 2's inputs are already exact). A neuron
 * that is not suspect keeps its float32 code: near a kink the activations
 * are continuous, so a suspect neuron's float32 h (off by about the rounding
 * error) leaves the layers above it as accurate as the tolerance assumes.
 * The threshold: SUSPECT_TAU = 2e-6 is 27x the largest
 * |a_float32 - a_float64| / (||W_j|| ||h_i||) measured on the trained
 * depth-6 width-1000 benchmark network (7.3e-8 over 8192 points of its
 * ellipse x 4000 neurons, rms 1e-8, float32 errors of earlier layers
 * included); tests/test_transitions.c checks codes against a float64
 * reference at points packed around every crossing. It is a margin over
 * the rounding error actually incurred, not a proof: the worst-case bound
 * of a float32 dot product, n eps32 sum|w||h| (6e-5 ||w|| ||h|| at
 * n = 1000, compounding over layers), and even the probabilistic one
 * (Higham and Mary 2019, lambda sqrt(n) eps32 sum|w||h|, ~1.5e-5 at
 * lambda = 8) are larger than 2e-6 and would flag nearly every point.
 * So codes are float64 decisions (to that margin), and the sampled count
 * cannot exceed the exact one except for crossings closer than double
 * rounding. The count between consecutive samples is the number of neurons
 * whose piece differs (STUDY.md), the closing pair (k-1, 0) included.
 * Tanh with sign code: the "kink" is 0; without it SN_EARG.
 *
 * Profile (sampled): rows only at every stride-th sample, stride =
 * ceil(k / profile_points), so that every row has a finite softmax-Jacobian
 * norm (jac_norms at the float32-rounded point, after the workers are done:
 * jac_norms runs its own threads), with the transitions of the pairs since
 * the previous row; a last row at u = 1 (the start point again) carries the
 * pairs after the last row, the closing pair included. The rows' transitions
 * sum to the total.
 *
 * cblas_dgemm is called directly here and in walk.c (float64 work);
 * blas.h only wraps sgemm. */
#include "transitions.h"

#include <cblas.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "../core/blas.h"
#include "jacobian.h"
#include "walk.h"

#define SUSPECT_TAU 2e-6
#define REFINE_ROWS 1024     /* points per float64 re-evaluation chunk */
#define MAX_WORKERS 16
#define PROFILE_POINTS 4096  /* default trans_opts.profile_points */

/* Read-only state shared by the workers. */
typedef struct tr_shared {
    const mlp *m;
    act_pieces ap;
    int L, nh, NH, H1, maxh;
    size_t *coff;      /* coff (nh+1): offset of layer h's codes in a code row */
    double *Wd;        /* Wd (n_params) float64 copy of the slab */
    float *wn;         /* wn (NH): SUSPECT_TAU ||W_l row j||, rounded up, as coff */
} tr_shared;

/* One worker's buffers for blocks of B points. */
typedef struct sampler {
    const tr_shared *sh;
    const mlp *m;
    int B;
    double *A1;        /* A1 (B, H1) exact layer-1 pre-activations */
    float *xa, *xb;    /* xa, xb (B, maxh) float32 ping-pong: a, then h in place */
    float *hn;         /* hn (B) ||h_i|| of the current layer's input */
    uint8_t *codes;    /* codes (B, NH) */
    uint8_t *smax;     /* smax (B) highest hidden layer with a suspect neuron, 0: none */
    int *sr, *sj;      /* suspects (ns): point, neuron; */
    uint8_t *sg;       /*   and hidden layer, in layer-major order */
    long ns, scap;
    int *srow0;        /* srow0 (B+1): point i's suspects, by layer, at ord[srow0[i]..] */
    int *ord;          /* ord (ns) */
    int *rows;         /* rows (B) suspect points, highest layer first */
    double *da, *dh;   /* da, dh (REFINE_ROWS, maxh) float64 re-evaluation */
    long refined;      /* neurons re-decided in float64 */
} sampler;

static void sampler_free(sampler *s)
{
    free(s->A1);
    free(s->xa);
    free(s->xb);
    free(s->hn);
    free(s->codes);
    free(s->smax);
    free(s->sr);
    free(s->sj);
    free(s->sg);
    free(s->srow0);
    free(s->ord);
    free(s->rows);
    free(s->da);
    free(s->dh);
    memset(s, 0, sizeof *s);
}

static void shared_free(tr_shared *sh)
{
    free(sh->coff);
    free(sh->Wd);
    free(sh->wn);
}

static int check_args(const mlp *m, int tanh_sign, sn_err *e)
{
    if (m->cfg.act == ACT_TANH && !tanh_sign)
        return err_set(e, SN_EARG,
                       "tanh has no linear pieces, so no transitions: count sign changes of "
                       "pre-activations with --tanh-code sign (tanh_sign)");
    return SN_OK;
}

static int shared_init(tr_shared *sh, const mlp *m, sn_err *e)
{
    memset(sh, 0, sizeof *sh);
    sh->m = m;
    act_pieces_of(m->cfg.act, &sh->ap);
    sh->L = m->cfg.depth;
    sh->nh = sh->L - 1;
    sh->H1 = sh->nh > 0 ? m->dims[1] : 1;
    sh->maxh = 1;
    for (int l = 1; l < sh->L; l++)
        sh->maxh = m->dims[l] > sh->maxh ? m->dims[l] : sh->maxh;
    sh->coff = malloc(sizeof(size_t) * (sh->nh + 1));
    if (!sh->coff)
        goto oom;
    size_t off = 0;
    for (int h = 0; h < sh->nh; h++) {
        sh->coff[h] = off;
        off += m->dims[h + 1];
    }
    sh->coff[sh->nh] = off;
    sh->NH = (int)off;
    sh->Wd = malloc(sizeof(double) * (m->n_params ? m->n_params : 1));
    sh->wn = malloc(sizeof(float) * (sh->NH ? sh->NH : 1));
    if (!sh->Wd || !sh->wn)
        goto oom;
    for (size_t i = 0; i < m->n_params; i++)
        sh->Wd[i] = m->params[i];
    for (int h = 0; h < sh->nh; h++) {
        int in = m->dims[h], out = m->dims[h + 1];
        const double *W = sh->Wd + m->w_off[h];
        for (int j = 0; j < out; j++) {
            double q = 0;
            for (int i = 0; i < in; i++)
                q += W[(size_t)j * in + i] * W[(size_t)j * in + i];
            /* rounded up by 1e-3 relative: covers the float32 products and
             * the float32 sum of ||h||^2 in the tolerance */
            sh->wn[sh->coff[h] + j] = (float)(SUSPECT_TAU * sqrt(q) * 1.001);
        }
    }
    return SN_OK;
oom:
    shared_free(sh);
    return err_set(e, SN_ENOMEM, "out of memory for a network of %zu parameters", m->n_params);
}

static int sampler_init(sampler *s, const tr_shared *sh, int block, sn_err *e)
{
    memset(s, 0, sizeof *s);
    s->sh = sh;
    s->m = sh->m;
    s->B = block > 0 ? block : 4096;
    size_t bh = (size_t)s->B * sh->maxh, rh = (size_t)REFINE_ROWS * sh->maxh;
    s->A1 = malloc(sizeof(double) * (size_t)s->B * sh->H1);
    s->xa = malloc(sizeof(float) * bh);
    s->xb = malloc(sizeof(float) * bh);
    s->hn = malloc(sizeof(float) * s->B);
    s->codes = malloc((size_t)s->B * (sh->NH ? sh->NH : 1));
    s->smax = malloc(s->B);
    s->srow0 = malloc(sizeof(int) * (s->B + 1));
    s->rows = malloc(sizeof(int) * s->B);
    s->da = malloc(sizeof(double) * rh);
    s->dh = malloc(sizeof(double) * rh);
    if (!s->A1 || !s->xa || !s->xb || !s->hn || !s->codes || !s->smax || !s->srow0 ||
        !s->rows || !s->da || !s->dh) {
        int B = s->B;
        sampler_free(s);
        return err_set(e, SN_ENOMEM, "out of memory for a sampling block of %d points", B);
    }
    return SN_OK;
}

static int push_suspect(sampler *s, int i, int g, int j)
{
    if (s->ns == s->scap) {
        long nc = s->scap ? 2 * s->scap : 4096;
        int *r = realloc(s->sr, sizeof(int) * nc);
        if (r)
            s->sr = r;
        int *jj = realloc(s->sj, sizeof(int) * nc);
        if (jj)
            s->sj = jj;
        uint8_t *gg = realloc(s->sg, nc);
        if (gg)
            s->sg = gg;
        if (!r || !jj || !gg)
            return -1;
        s->scap = nc;
    }
    s->sr[s->ns] = i, s->sj[s->ns] = j, s->sg[s->ns] = (uint8_t)g;
    s->ns++;
    return 0;
}

/* The passes over one row of n float32 pre-activations a of a hidden layer
 * (the row, 4 KB at width 1000, stays in L1 between them). One loop per
 * activation so that each vectorises.
 * row_suspect: 1 when some |a_j - kink| <= tol0 wt_j. */
__attribute__((target_clones("avx2", "default")))
static int row_suspect(const act_pieces *ap, const float *restrict a, int n,
                       const float *restrict wt, float tol0)
{
    int f = 0;
    if (ap->nk == 1) {
        float k0 = (float)ap->kink[0];
        for (int j = 0; j < n; j++)
            f |= fabsf(a[j] - k0) <= tol0 * wt[j];
    } else {
        float k0 = (float)ap->kink[0], k1 = (float)ap->kink[1];
        for (int j = 0; j < n; j++) {
            float t = tol0 * wt[j];
            f |= (fabsf(a[j] - k0) <= t) | (fabsf(a[j] - k1) <= t);
        }
    }
    return f;
}

/* row_first: layer 1's codes c (n) from the exact a (n), and a as float32
 * into af (n). */
__attribute__((target_clones("avx2", "default")))
static void row_first(const act_pieces *ap, const double *restrict a, int n,
                      uint8_t *restrict c, float *restrict af)
{
    double k0 = ap->kink[0], k1 = ap->kink[1];
    if (ap->nk == 1)
        for (int j = 0; j < n; j++) {
            c[j] = a[j] > k0;
            af[j] = (float)a[j];
        }
    else
        for (int j = 0; j < n; j++) {
            c[j] = (uint8_t)((a[j] > k0) + (a[j] > k1));
            af[j] = (float)a[j];
        }
}

/* row_apply: codes c (n) of a, a overwritten by phi(a). */
__attribute__((target_clones("avx2", "default")))
static void row_apply(act_kind act, float *restrict a, int n, uint8_t *restrict c)
{
    switch (act) {
    case ACT_RELU:
        for (int j = 0; j < n; j++) {
            float v = a[j];
            c[j] = v > 0.0f;
            float h = v > 0.0f ? v : 0.0f;
            a[j] = h;
        }
        break;
    case ACT_RELU6:
        for (int j = 0; j < n; j++) {
            float v = a[j];
            c[j] = (uint8_t)((v > 0.0f) + (v > 6.0f));
            float h = v > 0.0f ? v : 0.0f;
            h = h < 6.0f ? h : 6.0f;
            a[j] = h;
        }
        break;
    case ACT_HARDTANH:
        for (int j = 0; j < n; j++) {
            float v = a[j];
            c[j] = (uint8_t)((v > -1.0f) + (v > 1.0f));
            float h = v > -1.0f ? v : -1.0f;
            h = h < 1.0f ? h : 1.0f;
            a[j] = h;
        }
        break;
    case ACT_HARDSIGMOID:
        for (int j = 0; j < n; j++) {
            float v = a[j];
            c[j] = (uint8_t)((v > -2.5f) + (v > 2.5f));
            float h = 0.2f * v + 0.5f;
            h = h > 0.0f ? h : 0.0f;
            h = h < 1.0f ? h : 1.0f;
            a[j] = h;
        }
        break;
    case ACT_TANH: /* sign code */
        for (int j = 0; j < n; j++) {
            float v = a[j];
            c[j] = v > 0.0f;
            float h = tanhf(v);
            a[j] = h;
        }
        break;
    }
}

/* sum v_j^2 in float, 8 partial sums (so that it vectorises without
 * reassociation flags); the tolerance allows for its rounding. */
__attribute__((target_clones("avx2", "default")))
static float sumsq_f(const float *restrict v, int n)
{
    float acc[8] = {0};
    int j = 0;
    for (; j + 8 <= n; j += 8)
        for (int l = 0; l < 8; l++)
            acc[l] += v[j + l] * v[j + l];
    for (; j < n; j++)
        acc[0] += v[j] * v[j];
    return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

/* Exact float64 codes of the layers >= 2 for rows (n of them) of A1, into
 * codes rows (the layer-1 codes are already exact). Every neuron: used by
 * the tanh grid. */
static void dforward_rows(sampler *s, const int *rows, int n)
{
    const mlp *m = s->m;
    const tr_shared *sh = s->sh;
    const act_pieces *ap = &sh->ap;
    int ld = sh->maxh;
    for (int i0 = 0; i0 < n; i0 += REFINE_ROWS) {
        int nb = n - i0 < REFINE_ROWS ? n - i0 : REFINE_ROWS;
        int H1 = m->dims[1];
        for (int r = 0; r < nb; r++) {
            const double *src = s->A1 + (size_t)rows[i0 + r] * H1;
            double *dst = s->dh + (size_t)r * ld;
            for (int j = 0; j < H1; j++)
                dst[j] = act_phi(m->cfg.act, src[j]);
        }
        for (int h = 1; h < sh->nh; h++) {
            int in = m->dims[h], out = m->dims[h + 1];
            double beta = 0;
            if (m->cfg.bias) {
                const double *b = sh->Wd + m->b_off[h];
                for (int r = 0; r < nb; r++)
                    memcpy(s->da + (size_t)r * ld, b, sizeof(double) * out);
                beta = 1;
            }
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nb, out, in, 1.0, s->dh, ld,
                        sh->Wd + m->w_off[h], in, beta, s->da, ld);
            for (int r = 0; r < nb; r++) {
                uint8_t *c = s->codes + (size_t)rows[i0 + r] * sh->NH + sh->coff[h];
                const double *a = s->da + (size_t)r * ld;
                double *hh = s->dh + (size_t)r * ld;
                for (int j = 0; j < out; j++) {
                    c[j] = (uint8_t)pieces_index(ap, a[j]);
                    hh[j] = act_phi(m->cfg.act, a[j]);
                }
            }
        }
    }
}

/* h (n) = phi(a) in float64; ReLU inline (vectorised), the others act_phi. */
static void phi_row(act_kind act, const double *restrict a, double *restrict h, int n)
{
    if (act == ACT_RELU)
        for (int j = 0; j < n; j++)
            h[j] = a[j] > 0 ? a[j] : 0;
    else
        for (int j = 0; j < n; j++)
            h[j] = act_phi(act, a[j]);
}

/* Re-decide every suspect neuron of the block in float64 (see the header):
 * points sorted by their highest suspect layer, in chunks of REFINE_ROWS;
 * at hidden layer g the chunk's points with a suspect above g get the whole
 * layer (one dgemm over that prefix of the chunk), the others only their
 * suspect neurons' dot products. */
static int refine_block(sampler *s, int n)
{
    const mlp *m = s->m;
    const tr_shared *sh = s->sh;
    const act_pieces *ap = &sh->ap;
    int nh = sh->nh, ld = sh->maxh, H1 = sh->H1;
    /* suspects by point: counting sort, stable (layer order kept) */
    int *ord = realloc(s->ord, sizeof(int) * (s->ns ? s->ns : 1));
    if (!ord)
        return -1;
    s->ord = ord;
    memset(s->srow0, 0, sizeof(int) * (n + 1));
    for (long q = 0; q < s->ns; q++)
        s->srow0[s->sr[q] + 1]++;
    for (int i = 0; i < n; i++)
        s->srow0[i + 1] += s->srow0[i];
    {
        int *cur = s->rows; /* scratch: next slot per point */
        for (int i = 0; i < n; i++)
            cur[i] = s->srow0[i];
        for (long q = 0; q < s->ns; q++)
            ord[cur[s->sr[q]]++] = (int)q;
    }
    /* suspect points, highest layer first */
    int np = 0;
    for (int g = nh - 1; g >= 1; g--)
        for (int i = 0; i < n; i++)
            if (s->smax[i] == g)
                s->rows[np++] = i;
    int cur[REFINE_ROWS];
    for (int r0 = 0; r0 < np; r0 += REFINE_ROWS) {
        int nc = np - r0 < REFINE_ROWS ? np - r0 : REFINE_ROWS;
        const int *rows = s->rows + r0;
        for (int r = 0; r < nc; r++) {
            const double *src = s->A1 + (size_t)rows[r] * H1;
            double *dst = s->dh + (size_t)r * ld;
            phi_row(m->cfg.act, src, dst, H1);
            cur[r] = s->srow0[rows[r]];
        }
        int gmax = s->smax[rows[0]], nact = nc;
        for (int g = 1; g <= gmax; g++) {
            int in = m->dims[g], out = m->dims[g + 1];
            const double *W = sh->Wd + m->w_off[g];
            const double *b = m->cfg.bias ? sh->Wd + m->b_off[g] : NULL;
            while (nact > 0 && s->smax[rows[nact - 1]] < g)
                nact--; /* points done below g */
            int nfull = nact;
            while (nfull > 0 && s->smax[rows[nfull - 1]] <= g)
                nfull--; /* points that need all of layer g */
            if (nfull > 0) {
                if (b)
                    for (int r = 0; r < nfull; r++)
                        memcpy(s->da + (size_t)r * ld, b, sizeof(double) * out);
                cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nfull, out, in, 1.0, s->dh,
                            ld, W, in, b ? 1.0 : 0.0, s->da, ld);
            }
            for (int r = 0; r < nact; r++) {
                int i = rows[r], qe = s->srow0[i + 1];
                const double *hr = s->dh + (size_t)r * ld;
                uint8_t *c = s->codes + (size_t)i * sh->NH + sh->coff[g];
                for (; cur[r] < qe && s->sg[ord[cur[r]]] == g; cur[r]++) {
                    int j = s->sj[ord[cur[r]]];
                    double v;
                    if (r < nfull) {
                        v = s->da[(size_t)r * ld + j];
                    } else {
                        v = b ? b[j] : 0;
                        const double *wr = W + (size_t)j * in;
                        for (int q = 0; q < in; q++)
                            v += wr[q] * hr[q];
                    }
                    c[j] = (uint8_t)pieces_index(ap, v);
                    s->refined++;
                }
            }
            for (int r = 0; r < nfull; r++) {
                const double *a = s->da + (size_t)r * ld;
                phi_row(m->cfg.act, a, s->dh + (size_t)r * ld, out);
            }
        }
    }
    return 0;
}

/* Codes of the n rows of s->A1 into s->codes. Returns 0, -1 out of memory. */
static int codes_block(sampler *s, int n)
{
    const mlp *m = s->m;
    const tr_shared *sh = s->sh;
    const act_pieces *ap = &sh->ap;
    act_kind act = m->cfg.act;
    if (sh->nh == 0)
        return 0;
    int H1 = m->dims[1];
    s->ns = 0;
    memset(s->smax, 0, n);
    float *x = s->xa, *y = s->xb;
    for (int i = 0; i < n; i++) {
        const double *a = s->A1 + (size_t)i * H1;
        uint8_t *c = s->codes + (size_t)i * sh->NH;
        float *af = x + (size_t)i * H1;
        row_first(ap, a, H1, c, af);
    }
    act_forward(act, x, x, (size_t)n * H1);
    for (int i = 0; i < n; i++)
        s->hn[i] = sqrtf(sumsq_f(x + (size_t)i * H1, H1));
    for (int g = 1; g < sh->nh; g++) {
        int in = m->dims[g], out = m->dims[g + 1];
        float beta = 0;
        if (m->cfg.bias) {
            const float *b = mlp_b(m, m->params, g);
            for (int i = 0; i < n; i++)
                memcpy(y + (size_t)i * out, b, sizeof(float) * out);
            beta = 1;
        }
        blas_sgemm(0, 1, n, out, in, 1.0f, x, in, mlp_w(m, m->params, g), in, beta, y, out);
        const float *wt = sh->wn + sh->coff[g];
        for (int i = 0; i < n; i++) {
            float *a = y + (size_t)i * out;
            uint8_t *c = s->codes + (size_t)i * sh->NH + sh->coff[g];
            float tol0 = s->hn[i];
            if (row_suspect(ap, a, out, wt, tol0)) {
                s->smax[i] = (uint8_t)g;
                for (int j = 0; j < out; j++) {
                    float t = tol0 * wt[j];
                    int near = 0;
                    for (int q = 0; q < ap->nk; q++)
                        near |= fabsf(a[j] - (float)ap->kink[q]) <= t;
                    if (near && push_suspect(s, i, g, j))
                        return -1;
                }
            }
            row_apply(act, a, out, c);
            s->hn[i] = sqrtf(sumsq_f(a, out));
        }
        float *t = x;
        x = y;
        y = t;
    }
    if (s->ns && refine_block(s, n))
        return -1;
    return 0;
}

int trans_codes(const mlp *m, const float *x, int n, int tanh_sign, uint8_t *codes, sn_err *e)
{
    int rc = check_args(m, tanh_sign, e);
    if (rc)
        return rc;
    if (m->cfg.depth < 2)
        return SN_OK;
    tr_shared sh;
    if ((rc = shared_init(&sh, m, e)))
        return rc;
    sampler s;
    if ((rc = sampler_init(&s, &sh, 1024, e))) {
        shared_free(&sh);
        return rc;
    }
    int D = m->cfg.d, H1 = m->dims[1];
    const double *W = sh.Wd + m->w_off[0];
    for (int i0 = 0; i0 < n && !rc; i0 += s.B) {
        int nb = n - i0 < s.B ? n - i0 : s.B;
        for (int i = 0; i < nb; i++)
            for (int j = 0; j < H1; j++) {
                double q = m->cfg.bias ? sh.Wd[m->b_off[0] + j] : 0;
                const float *xi = x + (size_t)(i0 + i) * D;
                for (int d = 0; d < D; d++)
                    q += W[(size_t)j * D + d] * xi[d];
                s.A1[(size_t)i * H1 + j] = q;
            }
        if (codes_block(&s, nb))
            rc = err_set(e, SN_ENOMEM, "out of memory for the suspect neurons of a block");
        else
            memcpy(codes + (size_t)i0 * sh.NH, s.codes, (size_t)nb * sh.NH);
    }
    sampler_free(&s);
    shared_free(&sh);
    return rc;
}

/* First-layer coefficients: ellipse C1 (3,H1) or vertex pre-activations
 * P (V,H1). */
static int first_layer(const tr_shared *sh, const traj *t, double **out, sn_err *e)
{
    const mlp *m = sh->m;
    int H1 = m->dims[1], D = m->cfg.d, nr = t->is_ellipse ? 3 : t->nv;
    double *P = malloc(sizeof(double) * (size_t)nr * H1);
    if (!P)
        return err_set(e, SN_ENOMEM, "out of memory for first-layer coefficients");
    const double *W = sh->Wd + m->w_off[0];
    for (int r = 0; r < nr; r++) {
        const double *v = t->is_ellipse ? (r == 0 ? t->c : r == 1 ? t->a : t->b)
                                        : t->verts + (size_t)r * D;
        for (int j = 0; j < H1; j++) {
            double q = (m->cfg.bias && (!t->is_ellipse || r == 0)) ? sh->Wd[m->b_off[0] + j] : 0;
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

/* One worker of trans_sampled: samples [i0, i1) of k, in blocks. */
typedef struct tr_worker {
    sampler s;
    const traj *t;
    const double *P;
    long k, i0, i1;
    uint8_t *first, *last;  /* first, last (NH): codes of samples i0 and i1-1 */
    long total, changes;    /* transitions and changing pairs inside the range */
    long *bins;             /* bins (nbins): transitions of pair (i-1, i) at ceil(i/stride) */
    long stride;
    int rc;                 /* 0, or -1 out of memory */
} tr_worker;

static void *worker_run(void *arg)
{
    tr_worker *w = arg;
    sampler *s = &w->s;
    int NH = s->sh->NH;
    for (long b0 = w->i0; b0 < w->i1; b0 += s->B) {
        int n = w->i1 - b0 < s->B ? (int)(w->i1 - b0) : s->B;
        fill_A1(s, w->t, w->P, b0, n, w->k);
        if (codes_block(s, n)) {
            w->rc = -1;
            return NULL;
        }
        for (int i = 0; i < n; i++) {
            const uint8_t *row = s->codes + (size_t)i * NH;
            long gi = b0 + i, d = 0;
            if (gi == w->i0)
                memcpy(w->first, row, NH);
            else
                d = count_diff(i == 0 ? w->last : row - NH, row, NH);
            w->total += d;
            w->changes += d > 0;
            if (w->bins && d)
                w->bins[(gi + w->stride - 1) / w->stride] += d;
        }
        memcpy(w->last, s->codes + (size_t)(n - 1) * NH, NH);
    }
    return NULL;
}

/* Profile of a sampled count: rows at samples r*stride (r < R) with the
 * softmax-Jacobian norm there and bins[r], and the closing row at u = 1 with
 * bins[R] (see the header). */
static int emit_profile(const mlp *m, const traj *t, long k, long stride, const long *bins,
                        const trans_opts *o, sn_err *e)
{
    long R = (k + stride - 1) / stride;
    int D = m->cfg.d;
    float *x = calloc((size_t)R * D, sizeof(float));    // x (R,D)
    double *z = malloc(sizeof(double) * D);             // z (D)
    jac_point *jp = malloc(sizeof(jac_point) * R);
    int rc = SN_OK;
    if (!x || !z || !jp) {
        rc = err_set(e, SN_ENOMEM, "out of memory for a profile of %ld points", R);
        goto out;
    }
    for (long r = 0; r < R; r++) {
        traj_point(t, (double)(r * stride) / (double)k, z);
        for (int d = 0; d < D; d++)
            x[(size_t)r * D + d] = (float)z[d];
    }
    if ((rc = jac_norms(m, x, NULL, (int)R, jp, e)))
        goto out;
    for (long r = 0; r < R; r++)
        o->profile(o->profile_ctx, (double)(r * stride) / (double)k, jp[r].jac_softmax,
                   bins ? bins[r] : 0);
    o->profile(o->profile_ctx, 1.0, jp[0].jac_softmax, bins ? bins[R] : 0);
out:
    free(x);
    free(z);
    free(jp);
    return rc;
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
    if (o && o->profile_points < 0)
        return err_set(e, SN_EARG, "profile_points must be >= 0 (got %d)", o->profile_points);
    res->samples = k;
    res->regions = 1;
    int want_prof = o && o->profile;
    long pp = want_prof && o->profile_points > 0 ? o->profile_points : PROFILE_POINTS;
    long stride = (k + pp - 1) / pp, R = (k + stride - 1) / stride;
    if (m->cfg.depth < 2)
        return want_prof ? emit_profile(m, t, k, stride, NULL, o, e) : SN_OK;
    tr_shared sh;
    if ((rc = shared_init(&sh, m, e)))
        return rc;
    int B = o && o->block > 0 ? o->block : 4096;
    /* workers: one per BLAS thread, each with at least one full block */
    int bt = blas_get_threads(), nw = bt < 1 ? 1 : bt > MAX_WORKERS ? MAX_WORKERS : bt;
    if (nw > (k + B - 1) / B)
        nw = (int)((k + B - 1) / B);
    tr_worker w[MAX_WORKERS];
    memset(w, 0, sizeof w);
    double *P = NULL;
    if ((rc = first_layer(&sh, t, &P, e)))
        goto out;
    for (int q = 0; q < nw; q++) {
        tr_worker *x = &w[q];
        x->t = t, x->P = P, x->k = k, x->stride = stride;
        x->i0 = k * q / nw, x->i1 = k * (q + 1) / nw;
        long len = x->i1 - x->i0;
        if ((rc = sampler_init(&x->s, &sh, len < B ? (int)len : B, e)))
            goto out;
        x->first = malloc(sh.NH);
        x->last = malloc(sh.NH);
        x->bins = want_prof ? calloc(R + 1, sizeof(long)) : NULL;
        if (!x->first || !x->last || (want_prof && !x->bins)) {
            rc = err_set(e, SN_ENOMEM, "out of memory");
            goto out;
        }
    }
    if (nw > 1)
        blas_set_threads(1); /* each worker runs its GEMMs on one thread */
    pthread_t tid[MAX_WORKERS];
    int started = 1;
    for (; started < nw; started++)
        if (pthread_create(&tid[started], NULL, worker_run, &w[started]))
            break;
    for (int q = started; q < nw; q++)
        worker_run(&w[q]); /* threads that did not start: run here */
    worker_run(&w[0]);
    for (int q = 1; q < started; q++)
        pthread_join(tid[q], NULL);
    if (nw > 1)
        blas_set_threads(bt);
    long total = 0, changes = 0;
    for (int q = 0; q < nw; q++) {
        if (w[q].rc) {
            rc = err_set(e, SN_ENOMEM, "out of memory for the suspect neurons of a block");
            goto out;
        }
        /* the pair joining range q to the next (the closing pair for the last) */
        long d = count_diff(w[q].last, w[(q + 1) % nw].first, sh.NH);
        total += w[q].total + d;
        changes += w[q].changes + (d > 0);
        res->refined += w[q].s.refined;
        if (want_prof) {
            long i = q + 1 < nw ? w[q + 1].i0 : k; /* the pair (i-1, i), i = k: closing */
            w[0].bins[(i + stride - 1) / stride] += d;
            if (q > 0)
                for (long r = 0; r <= R; r++)
                    w[0].bins[r] += w[q].bins[r];
        }
    }
    res->transitions = total;
    res->regions = changes > 0 ? changes : 1;
    if (want_prof)
        rc = emit_profile(m, t, k, stride, w[0].bins, o, e);
out:
    for (int q = 0; q < nw; q++) {
        sampler_free(&w[q].s);
        free(w[q].first);
        free(w[q].last);
        free(w[q].bins);
    }
    free(P);
    shared_free(&sh);
    return rc;
}

/* Tanh with sign code: layer 1 in closed form, deeper layers by sign changes
 * on a grid refined by bisection (see walk.c's header). */
#define TANH_GRID 16384
#define TANH_BISECT 12

static long tanh_bracket(sampler *s, const traj *t, const double *P, double ua, double ub,
                         const uint8_t *ca, const uint8_t *cb, int depth, int off)
{
    long d = count_diff(ca + off, cb + off, s->sh->NH - off);
    if (d == 0 || depth == 0)
        return d;
    /* midpoint as sample 1 of 2 on [ua, ub]: encode u directly */
    double um = 0.5 * (ua + ub);
    long big = 1L << 40;
    fill_A1(s, t, P, (long)llround(um * big), 1, big);
    s->rows[0] = 0;
    int H1 = s->m->dims[1];
    for (int j = 0; j < H1; j++)
        s->codes[j] = (uint8_t)pieces_index(&s->sh->ap, s->A1[j]);
    dforward_rows(s, s->rows, 1);
    uint8_t *cm = malloc(s->sh->NH);
    if (!cm)
        return d;
    memcpy(cm, s->codes, s->sh->NH);
    long r = tanh_bracket(s, t, P, ua, um, ca, cm, depth - 1, off) +
             tanh_bracket(s, t, P, um, ub, cm, cb, depth - 1, off);
    free(cm);
    return r > d ? r : d;
}

static int tanh_exact(const mlp *m, const traj *t, const trans_opts *o, trans_result *res,
                      sn_err *e)
{
    tr_shared sh;
    int rc = shared_init(&sh, m, e);
    if (rc)
        return rc;
    sampler s;
    if ((rc = sampler_init(&s, &sh, 1024, e))) {
        shared_free(&sh);
        return rc;
    }
    double *P = NULL;
    uint8_t *all = NULL;
    if ((rc = first_layer(&sh, t, &P, e)))
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
    all = malloc((size_t)(G + 1) * sh.NH);
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
                s.codes[(size_t)i * sh.NH + j] = (uint8_t)pieces_index(&sh.ap, s.A1[(size_t)i * H1 + j]);
        }
        dforward_rows(&s, s.rows, n);
        memcpy(all + (size_t)i0 * sh.NH, s.codes, (size_t)n * sh.NH);
    }
    memcpy(all + (size_t)G * sh.NH, all, sh.NH);
    long deep = 0, regions = 0;
    int off = H1;
    if (o && o->profile)
        o->profile(o->profile_ctx, 0.0, NAN, 0);
    for (long i = 0; i < G; i++) {
        long d = tanh_bracket(&s, t, P, (double)i / G, (double)(i + 1) / G, all + i * sh.NH,
                              all + (i + 1) * sh.NH, TANH_BISECT, off);
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
    shared_free(&sh);
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
