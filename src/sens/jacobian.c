/* jacobian.c: exact input-output Jacobian norms of an MLP, a random-projection
 * estimator of them, and the cross-entropy bounds of STUDY.md 4.6.
 *
 * How: points are taken in chunks of nc, with nc * (rows per point) <= JAC_ROWS.
 * A chunk is forwarded once (mlp_forward) and the activation derivatives
 * phi'(a_l) are kept as masks. Then every point's seeds (K one-hot rows for
 * the exact norms, n_proj rows v^T A for the estimator) are stacked into one
 * (R, K) matrix and pulled back through the layers as one GEMM per layer,
 *   G <- (G W_l) masked row-wise by phi'(a_{l-1}) of the point the row belongs to,
 * ending with (R, D): for one-hot seeds, the logit Jacobian J_f of every point.
 * The softmax Jacobian is never formed: with A = diag(s) - s s^T (symmetric)
 * and the Gram matrix G_f = J_f J_f^T (K, K), accumulated in double,
 *   ||J||_F^2 = tr(A G_f A),  ||J_y||^2 = (A G_f A)_yy,  ||J_f||_F^2 = tr(G_f),
 * and s, A come from the logits in double so that confident points (s_y near
 * 1, J tiny) keep their relative accuracy.
 *
 * Cost per point: the forward pass plus K backward passes, all as GEMMs of
 * (R x width) matrices through blas_sgemm; the mask and Gram loops are
 * linear in the output. Workspaces are allocated once per call, nothing per
 * point or per chunk.
 *
 * Threads: with T BLAS threads, jac_norms splits the points into a multiple
 * of T equal chunks and runs T workers (pthreads), each with its own
 * workspace and single-threaded GEMMs (the BLAS thread count is set to 1 for
 * the call and restored). On 2 cores this measured 10-25% faster at widths
 * 500-1000 than T-threaded GEMMs (no per-GEMM synchronisation, and the mask
 * and Gram loops run in parallel too). Results are reproducible for a given
 * T; across T they differ by float rounding only. The estimator stays on one
 * thread with threaded GEMMs (its random draws are sequential).
 *
 * Does not: form J(x) (K x D per point) beyond one chunk, compute Hessians,
 * or use the K seeds' structure beyond the first layer (a one-hot seed times
 * W_{L-1} is a row copy). */
#include "jacobian.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "../core/blas.h"

/* Rows of the stacked backward matrix per GEMM (memory: JAC_ROWS x max
 * layer input width floats, twice). */
#define JAC_ROWS 4096
/* Elementwise loops compiled for AVX2 and baseline x86-64, picked at load
 * time (not under ThreadSanitizer, whose runtime is not ready when ifunc
 * resolvers run). */
#if defined(__SANITIZE_THREAD__) || !defined(__x86_64__)
#define CLONES_AVX2
#else
#define CLONES_AVX2 __attribute__((target_clones("avx2", "default")))
#endif

/* Upper bound on the worker threads of one jac_norms call. */
#define JAC_MAX_WORKERS 64

typedef struct jac_ws {
    int nc;          /* points per forward chunk */
    int rows;        /* rows per backward block */
    int kp, dp;      /* K and D rounded up to multiples of 4 (Gram padding) */
    mlp_work w;      /* forward workspace for nc points */
    void *blk;       /* one allocation holding dphi, g0, g1 */
    float *dphi;     /* dphi: phi'(a_l), layout of w.a, (nc, dims[l+1]) per hidden layer */
    float *g0, *g1;  /* g0, g1 (rows, maxd) backward ping-pong */
    float *seed;     /* seed (rows, K), projections only */
    double *jd;      /* jd (kp, dp): one point's J_f in double, zero padded (exact only) */
    double *gram;    /* gram (K, K) */
    double *s, *A, *B; /* s (K), A (K,K), B (K,K) */
} jac_ws;

/* Allocate n bytes for a large buffer (free with free()): from 2 MiB on,
 * 2 MiB aligned and marked for transparent huge pages where the system has
 * them. First-touch page faults of 4 KiB pages cost ~25 ms per 32 MiB in the
 * VMs measured, about 5x the huge-page cost, and the backward buffers are
 * touched once per call. */
static void *big_alloc(size_t n)
{
    const size_t huge = (size_t)2 << 20;
    if (n < huge)
        return malloc(n ? n : 1);
    void *p = NULL;
    n = (n + huge - 1) / huge * huge;
    if (posix_memalign(&p, huge, n))
        return NULL;
#ifdef MADV_HUGEPAGE
    madvise(p, n, MADV_HUGEPAGE); /* advice only: failure is harmless */
#endif
    return p;
}

static void ws_free(jac_ws *ws)
{
    mlp_work_free(&ws->w);
    free(ws->blk);
    free(ws->seed);
    free(ws->jd);
    free(ws->gram);
    free(ws->s);
    free(ws->A);
    free(ws->B);
    memset(ws, 0, sizeof *ws);
}

/* Workspace for forward chunks of nc points and backward blocks of `rows`
 * rows; exact != 0 (K one-hot seeds, implicit) allocates the double Gram
 * buffers, otherwise (projections) the seed matrix. */
static int ws_init(jac_ws *ws, const mlp *m, int nc, long rows, int exact, sn_err *e)
{
    memset(ws, 0, sizeof *ws);
    int L = m->cfg.depth, K = m->cfg.k, D = m->cfg.d;
    ws->nc = nc;
    ws->rows = (int)rows;
    size_t maxd = 1;
    for (int l = 0; l < L; l++)
        if ((size_t)m->dims[l] > maxd)
            maxd = m->dims[l];
    if (mlp_work_init(&ws->w, m, nc, e))
        return SN_ENOMEM;
    size_t hid = 0;
    for (int l = 0; l + 1 < L; l++)
        hid += (size_t)nc * m->dims[l + 1];
    /* dphi, g0, g1 in one block, each start shifted by a different odd
     * number of cache lines so that they do not share cache sets (huge pages
     * map offsets straight to sets) */
    size_t bd = (sizeof(float) * hid + 63) / 64 * 64;
    size_t bg = (sizeof(float) * rows * maxd + 63) / 64 * 64;
    size_t o1 = bd + 65 * 64, o2 = o1 + bg + 67 * 64;
    ws->blk = big_alloc(o2 + bg);
    if (ws->blk) {
        ws->dphi = ws->blk;
        ws->g0 = (float *)((char *)ws->blk + o1);
        ws->g1 = (float *)((char *)ws->blk + o2);
    }
    ws->seed = exact ? NULL : malloc(sizeof(float) * rows * K); /* exact: one-hot, implicit */
    ws->s = malloc(sizeof(double) * K);
    ws->A = malloc(sizeof(double) * K * K);
    int ok = ws->blk && (exact || ws->seed) && ws->s && ws->A;
    if (exact) {
        ws->kp = (K + 3) / 4 * 4;
        ws->dp = (D + 3) / 4 * 4;
        ws->jd = aligned_alloc(64, ((sizeof(double) * ws->kp * ws->dp) + 63) / 64 * 64);
        ws->gram = malloc(sizeof(double) * K * K);
        ws->B = malloc(sizeof(double) * K * K);
        ok = ok && ws->jd && ws->gram && ws->B;
    }
    if (!ok) {
        ws_free(ws);
        return err_set(e, SN_ENOMEM, "out of memory for Jacobian workspaces (%ld rows of %zu)",
                       rows, maxd);
    }
    if (exact)
        memset(ws->jd, 0, sizeof(double) * ws->kp * ws->dp);
    return SN_OK;
}

/* Forward nb points and keep phi'(a_l) of every hidden layer in ws->dphi. */
static void forward_masks(const mlp *m, jac_ws *ws, const float *x, int nb)
{
    mlp_forward(m, &ws->w, x, nb);
    int L = m->cfg.depth;
    for (int l = 0; l + 1 < L; l++) {
        size_t cnt = (size_t)nb * m->dims[l + 1];
        float *d = ws->dphi + ws->w.a_off[l];
        for (size_t i = 0; i < cnt; i++)
            d[i] = 1.0f;
        act_backward(m->cfg.act, ws->w.a + ws->w.a_off[l], d, d, cnt);
    }
}

/* g (nr, H) rows r0.. of the chunk: row t *= mask of point (r0 + t) / per. */
CLONES_AVX2
static void apply_mask(float *restrict g, int nr, int H, const float *restrict mask, int r0,
                       int per)
{
    for (int t = 0; t < nr; t++) {
        float *restrict row = g + (size_t)t * H;
        const float *restrict mk = mask + (size_t)((r0 + t) / per) * H;
        for (int j = 0; j < H; j++)
            row[j] *= mk[j];
    }
}

/* One-hot seeds through the last layer: g (nr, H) row t = W row (r0 + t) mod K,
 * times the mask of point (r0 + t) / K if mask != NULL. W (K, H). */
CLONES_AVX2
static void seed_rows(float *restrict g, int nr, int H, const float *restrict W, int K,
                      const float *restrict mask, int r0)
{
    for (int t = 0; t < nr; t++) {
        float *restrict row = g + (size_t)t * H;
        const float *restrict w = W + (size_t)((r0 + t) % K) * H;
        if (mask) {
            const float *restrict mk = mask + (size_t)((r0 + t) / K) * H;
            for (int j = 0; j < H; j++)
                row[j] = w[j] * mk[j];
        } else {
            memcpy(row, w, sizeof(float) * H);
        }
    }
}

/* Pull seed rows back to the input, for rows r0 .. r0 + nr - 1 of the chunk
 * (per rows per point). Seeds are ws->seed (nr, K), or, if onehot (per == K),
 * row r is e_{r mod K}, whose product with W_{L-1} is a copy of a row.
 * Returns (nr, D), one of ws->g0/g1. */
static float *backprop(const mlp *m, jac_ws *ws, int nr, int r0, int per, int onehot)
{
    int L = m->cfg.depth, K = m->cfg.k;
    const float *g = ws->seed;
    float *out = ws->g0, *other = ws->g1;
    for (int l = L - 1; l >= 0; l--) {
        int din = m->dims[l], dout = m->dims[l + 1];
        const float *W = mlp_w(m, m->params, l); /* W (dout, din) */
        const float *mask = l > 0 ? ws->dphi + ws->w.a_off[l - 1] : NULL; /* (nc, din) */
        if (onehot && l == L - 1) {
            seed_rows(out, nr, din, W, K, mask, r0);
        } else {
            /* out (nr, din) = g (nr, dout) W (dout, din), masked */
            blas_sgemm(0, 0, nr, din, dout, 1.0f, g, dout, W, din, 0.0f, out, din);
            if (mask)
                apply_mask(out, nr, din, mask, r0, per);
        }
        g = out;
        float *t = out;
        out = other;
        other = t;
    }
    return (float *)g;
}

typedef double v4d __attribute__((vector_size(32)));

/* Load 4 doubles from p (any alignment); a macro so no vector value crosses
 * a function boundary (the ABI of 32-byte vectors depends on the ISA). */
#define LD4(dst, p) memcpy(&(dst), (p), sizeof(v4d))
#define HSUM(v) (((v)[0] + (v)[1]) + ((v)[2] + (v)[3]))

/* gram (K,K) = jd jd^T for jd (K', dp) double, zero padded to K' = K rounded
 * up to a multiple of 4 rows and dp (a multiple of 4) columns. Blocks of
 * 2 x 4 rows, 8 vector accumulators; only blocks touching the lower triangle
 * are computed, then mirrored. Compiled twice (AVX2 + FMA, and baseline
 * x86-64), picked once per call by gram_pick(). */
static inline __attribute__((always_inline)) void gram_body(const double *jd, int K, int dp,
                                                             double *gram)
{
    for (int a0 = 0; a0 < K; a0 += 2) {
        const double *x0 = jd + (size_t)a0 * dp, *x1 = x0 + dp; /* row a0 + 1 exists (padding) */
        for (int b0 = 0; b0 <= a0 + 1 && b0 < K; b0 += 4) {
            const double *y0 = jd + (size_t)b0 * dp, *y1 = y0 + dp, *y2 = y1 + dp,
                         *y3 = y2 + dp;
            v4d c00 = {0}, c01 = {0}, c02 = {0}, c03 = {0};
            v4d c10 = {0}, c11 = {0}, c12 = {0}, c13 = {0};
            for (int j = 0; j < dp; j += 4) {
                v4d a, b, u0, u1, u2, u3;
                LD4(a, x0 + j), LD4(b, x1 + j);
                LD4(u0, y0 + j), LD4(u1, y1 + j), LD4(u2, y2 + j), LD4(u3, y3 + j);
                c00 += a * u0, c01 += a * u1, c02 += a * u2, c03 += a * u3;
                c10 += b * u0, c11 += b * u1, c12 += b * u2, c13 += b * u3;
            }
            double r[2][4] = {{HSUM(c00), HSUM(c01), HSUM(c02), HSUM(c03)},
                              {HSUM(c10), HSUM(c11), HSUM(c12), HSUM(c13)}};
            for (int i = 0; i < 2 && a0 + i < K; i++)
                for (int jb = 0; jb < 4 && b0 + jb < K; jb++)
                    if (b0 + jb <= a0 + i)
                        gram[(size_t)(a0 + i) * K + b0 + jb] = r[i][jb];
        }
    }
    for (int a = 0; a < K; a++)
        for (int b = a + 1; b < K; b++)
            gram[(size_t)a * K + b] = gram[(size_t)b * K + a];
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
__attribute__((target("avx2,fma"))) static void gram_fma(const double *jd, int K, int dp,
                                                          double *gram)
{
    gram_body(jd, K, dp, gram);
}
#endif

static void gram_base(const double *jd, int K, int dp, double *gram)
{
    gram_body(jd, K, dp, gram);
}

typedef void (*gram_fn)(const double *jd, int K, int dp, double *gram);

static gram_fn gram_pick(void)
{
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return gram_fma;
#endif
    return gram_base;
}

/* Softmax of the logits z (K) in double: s, A = diag(s) - s s^T (diagonal as
 * s_a * sum_{b != a} s_b, no 1 - s_a cancellation), argmax, and the
 * cross-entropy for label y (< 0: none). Returns 0 if a logit is not finite
 * (s, A and the loss are then NaN). */
static int softmax_a(const float *z, int K, int y, double *s, double *A, int *pred, double *loss)
{
    int arg = 0, finite = 1;
    double mx = z[0];
    for (int j = 0; j < K; j++) {
        finite &= isfinite(z[j]) != 0;
        if (z[j] > mx) {
            mx = z[j];
            arg = j;
        }
    }
    *pred = arg;
    if (!finite) {
        *loss = NAN;
        for (int a = 0; a < K; a++) {
            s[a] = NAN;
            for (int b = 0; b < K; b++)
                A[(size_t)a * K + b] = NAN;
        }
        return 0;
    }
    double sum = 0;
    for (int j = 0; j < K; j++)
        sum += s[j] = exp((double)z[j] - mx);
    for (int j = 0; j < K; j++)
        s[j] /= sum;
    *loss = y >= 0 ? log(sum) - ((double)z[y] - mx) : NAN;
    for (int a = 0; a < K; a++) {
        double rest = 0;
        for (int b = 0; b < K; b++) {
            A[(size_t)a * K + b] = -s[a] * s[b];
            if (b != a)
                rest += s[b];
        }
        A[(size_t)a * K + a] = s[a] * rest;
    }
    return 1;
}

/* The label-free confidence of one point from its logits z (K) and softmax
 * s (K): max probability, entropy in nats (0 log 0 = 0), logit margin (0 for
 * K = 1). */
static void confidence(const float *z, const double *s, int K, jac_point *o)
{
    double pmax = 0, h = 0, z1 = -INFINITY, z2 = -INFINITY;
    for (int a = 0; a < K; a++) {
        if (s[a] > pmax)
            pmax = s[a];
        if (s[a] > 0)
            h -= s[a] * log(s[a]);
        double v = z[a];
        if (v > z1)
            z2 = z1, z1 = v;
        else if (v > z2)
            z2 = v;
    }
    o->pmax = pmax;
    o->entropy = h;
    o->margin = K > 1 ? z1 - z2 : 0;
}

/* Exact norms of nb <= ws->nc points x (nb, D), labels y (nb, may be NULL). */
static void exact_chunk(const mlp *m, jac_ws *ws, gram_fn gram_d, const float *x,
                        const uint8_t *y, int nb, jac_point *out)
{
    int K = m->cfg.k, D = m->cfg.d, dp = ws->dp;
    forward_masks(m, ws, x, nb);
    const float *jf = backprop(m, ws, nb * K, 0, K, 1); /* jf (nb K, D): J_f per point */
    const double *G = ws->gram, *A = ws->A;
    for (int i = 0; i < nb; i++) {
        jac_point *o = out + i;
        int yi = y ? y[i] : -1;
        const float *blk = jf + (size_t)i * K * D; /* (K, D) */
        for (int a = 0; a < K; a++)
            for (int j = 0; j < D; j++)
                ws->jd[(size_t)a * dp + j] = blk[(size_t)a * D + j];
        gram_d(ws->jd, K, dp, ws->gram);
        double tr = 0;
        for (int a = 0; a < K; a++)
            tr += G[(size_t)a * K + a];
        o->jac_logit = sqrt(tr);
        if (!softmax_a(ws->w.logits + (size_t)i * K, K, yi, ws->s, ws->A, &o->pred, &o->loss)) {
            o->jac_softmax = o->jac_y = NAN;
            o->pmax = o->entropy = o->margin = NAN;
            continue;
        }
        confidence(ws->w.logits + (size_t)i * K, ws->s, K, o);
        /* B = A G_f; ||J||^2 = tr(B A) = sum B_ab A_ab (A symmetric) */
        double js = 0;
        for (int a = 0; a < K; a++)
            for (int b = 0; b < K; b++) {
                double v = 0;
                for (int c = 0; c < K; c++)
                    v += A[(size_t)a * K + c] * G[(size_t)c * K + b];
                ws->B[(size_t)a * K + b] = v;
                js += v * A[(size_t)a * K + b];
            }
        o->jac_softmax = sqrt(js > 0 ? js : 0);
        if (yi >= 0) {
            double jy = 0;
            for (int b = 0; b < K; b++)
                jy += ws->B[(size_t)yi * K + b] * A[(size_t)yi * K + b];
            o->jac_y = sqrt(jy > 0 ? jy : 0);
        } else {
            o->jac_y = NAN;
        }
    }
}

/* Shared state of the workers of one jac_norms call: chunks are handed out
 * in order under the mutex. */
typedef struct jac_job {
    const mlp *m;
    const float *x;
    const uint8_t *y;
    jac_point *out;
    int n, nc;
    gram_fn gram;
    pthread_mutex_t mu;
    int next, done;          /* next chunk to hand out, points finished */
    void (*done_fn)(void *ctx, int done, int n);
    void *ctx;
} jac_job;

typedef struct jac_worker {
    jac_job *job;
    jac_ws ws;
} jac_worker;

static void *worker_run(void *arg)
{
    jac_worker *wk = arg;
    jac_job *jb = wk->job;
    int D = jb->m->cfg.d;
    for (;;) {
        pthread_mutex_lock(&jb->mu);
        int c = jb->next++;
        pthread_mutex_unlock(&jb->mu);
        long i0 = (long)c * jb->nc;
        if (i0 >= jb->n)
            break;
        int nb = jb->n - i0 < jb->nc ? (int)(jb->n - i0) : jb->nc;
        exact_chunk(jb->m, &wk->ws, jb->gram, jb->x + i0 * D, jb->y ? jb->y + i0 : NULL, nb,
                    jb->out + i0);
        pthread_mutex_lock(&jb->mu);
        jb->done += nb;
        if (jb->done_fn)
            jb->done_fn(jb->ctx, jb->done, jb->n);
        pthread_mutex_unlock(&jb->mu);
    }
    return NULL;
}

int jac_norms(const mlp *m, const float *x, const uint8_t *y, int n, jac_point *out, sn_err *e)
{
    return jac_norms_progress(m, x, y, n, out, NULL, NULL, e);
}

int jac_norms_progress(const mlp *m, const float *x, const uint8_t *y, int n, jac_point *out,
                       void (*done_fn)(void *ctx, int done, int n), void *ctx, sn_err *e)
{
    if (n <= 0)
        return SN_OK;
    int K = m->cfg.k;
    /* chunks of at most JAC_ROWS rows (at least one point); with T BLAS
     * threads, a multiple of T chunks of equal size, one worker per thread */
    int blas_threads = blas_get_threads(), threads = blas_threads;
    int nc_max = K >= JAC_ROWS ? 1 : JAC_ROWS / K;
    if (threads < 1)
        threads = 1;
    if (threads > JAC_MAX_WORKERS)
        threads = JAC_MAX_WORKERS;
    long chunks = (n + (long)nc_max - 1) / nc_max;
    int workers = threads < n ? threads : n;
    chunks = (chunks + workers - 1) / workers * workers;
    int nc = (int)((n + chunks - 1) / chunks);
    jac_job jb = {.m = m, .x = x, .y = y, .out = out, .n = n, .nc = nc, .gram = gram_pick(),
                  .done_fn = done_fn, .ctx = ctx};
    jac_worker wk[JAC_MAX_WORKERS];
    for (int w = 0; w < workers; w++) {
        wk[w].job = &jb;
        int rc = ws_init(&wk[w].ws, m, nc, (long)nc * K, 1, e);
        if (rc) {
            while (w-- > 0)
                ws_free(&wk[w].ws);
            return rc;
        }
    }
    pthread_mutex_init(&jb.mu, NULL);
    if (workers > 1)
        blas_set_threads(1); /* each worker runs its GEMMs on one thread */
    pthread_t tid[JAC_MAX_WORKERS];
    int started = 1;
    for (; started < workers; started++)
        if (pthread_create(&tid[started], NULL, worker_run, &wk[started]))
            break; /* fewer workers: the others take over the chunks */
    worker_run(&wk[0]);
    for (int w = 1; w < started; w++)
        pthread_join(tid[w], NULL);
    if (workers > 1)
        blas_set_threads(blas_threads);
    pthread_mutex_destroy(&jb.mu);
    for (int w = 0; w < workers; w++)
        ws_free(&wk[w].ws);
    return SN_OK;
}

/* Sum of squares of a float row in double (4 partial sums). */
static double sumsq(const float *v, int n)
{
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    int j = 0;
    for (; j + 4 <= n; j += 4) {
        s0 += (double)v[j] * v[j];
        s1 += (double)v[j + 1] * v[j + 1];
        s2 += (double)v[j + 2] * v[j + 2];
        s3 += (double)v[j + 3] * v[j + 3];
    }
    for (; j < n; j++)
        s0 += (double)v[j] * v[j];
    return (s0 + s1) + (s2 + s3);
}

int jac_norms_projected(const mlp *m, const float *x, int n, int n_proj, rng *r,
                        double *est_sq, double *stderr_sq, sn_err *e)
{
    if (n_proj < 1)
        return err_set(e, SN_EARG, "number of projections %d must be >= 1", n_proj);
    if (n <= 0)
        return SN_OK;
    int K = m->cfg.k, D = m->cfg.d;
    int nc = n_proj >= JAC_ROWS ? 1 : JAC_ROWS / n_proj;
    if (nc > n)
        nc = n;
    long rows = (long)nc * n_proj < JAC_ROWS ? (long)nc * n_proj : JAC_ROWS;
    jac_ws ws;
    int rc = ws_init(&ws, m, nc, rows, 0, e);
    if (rc)
        return rc;
    double *v = malloc(sizeof(double) * K);
    if (!v) {
        ws_free(&ws);
        return err_set(e, SN_ENOMEM, "out of memory");
    }
    for (int i0 = 0; i0 < n; i0 += ws.nc) {
        int nb = n - i0 < ws.nc ? n - i0 : ws.nc;
        long total = (long)nb * n_proj;
        forward_masks(m, &ws, x + (size_t)i0 * D, nb);
        /* Welford mean / M2 per point, in est_sq / stderr_sq until the end */
        for (int i = 0; i < nb; i++)
            est_sq[i0 + i] = stderr_sq[i0 + i] = 0;
        for (long r0 = 0; r0 < total; r0 += ws.rows) {
            int nr = total - r0 < ws.rows ? (int)(total - r0) : ws.rows;
            for (int t = 0; t < nr; t++) {
                int i = (int)((r0 + t) / n_proj);
                if ((r0 + t) % n_proj == 0) /* first projection of point i: its A */
                    softmax_a(ws.w.logits + (size_t)i * K, K, -1, ws.s, ws.A, &(int){0},
                              &(double){0});
                for (int a = 0; a < K; a++)
                    v[a] = rng_normal(r);
                for (int a = 0; a < K; a++) { /* seed = v^T A = (A v)^T */
                    double u = 0;
                    for (int b = 0; b < K; b++)
                        u += ws.A[(size_t)a * K + b] * v[b];
                    ws.seed[(size_t)t * K + a] = (float)u;
                }
            }
            const float *g = backprop(m, &ws, nr, (int)r0, n_proj, 0); /* (nr, D) */
            for (int t = 0; t < nr; t++) {
                int i = (int)((r0 + t) / n_proj);
                long p = (r0 + t) % n_proj; /* projections of point i so far */
                double q = sumsq(g + (size_t)t * D, D);
                double *mean = est_sq + i0 + i, *m2 = stderr_sq + i0 + i;
                double d = q - *mean;
                *mean += d / (double)(p + 1);
                *m2 += d * (q - *mean);
            }
        }
        for (int i = 0; i < nb; i++) {
            double *m2 = stderr_sq + i0 + i;
            *m2 = n_proj > 1 ? sqrt(*m2 / (n_proj - 1) / n_proj) : NAN;
        }
    }
    free(v);
    ws_free(&ws);
    return SN_OK;
}

int jac_norm_projected(const mlp *m, const float *x, int n_proj, rng *r, double *est_sq,
                       double *stderr_sq, sn_err *e)
{
    return jac_norms_projected(m, x, 1, n_proj, r, est_sq, stderr_sq, e);
}

void jac_xent_bounds(double M, int K, double loss, double *lower, double *upper, double *maxent)
{
    double p = exp(-loss), q = -expm1(-loss), f = p * q; /* q = 1 - p */
    if (K < 2) {
        *lower = *upper = *maxent = NAN;
        return;
    }
    *lower = sqrt(K * M / (K - 1)) * f;
    *upper = sqrt(2 * M) * f;
    *maxent = sqrt(M) / (K - 1) * q * sqrt((double)K * K * p * p + K - 2);
}
