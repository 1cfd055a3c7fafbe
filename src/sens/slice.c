/* slice.c: the region picture of STUDY.md experiment 2: a res x res grid over
 * the plane through three anchors, each pixel coloured by a hash of its
 * activation code, region boundaries dark, anchors marked; and a PNG writer.
 *
 * How: rows are processed in batches of about 4096 points. The first layer's
 * pre-activations are affine in the plane coordinates (W (x1 + p u + q v) + b
 * = A0 + p Au + q Av), so they are computed once per batch from three
 * float64 vectors instead of a (N, D) GEMM: exact up to one float rounding and
 * D times cheaper. Deeper hidden layers go through blas_sgemm as in
 * mlp_forward; the logits are never needed. Each point's pieces are packed two
 * bits per neuron into 64-bit words and folded into a running 64-bit hash
 * (multiply-xorshift, splitmix64 finaliser). Codes are kept for one batch plus
 * the previous row only (a pixel's boundary test needs its right and lower
 * neighbours); distinct codes go into an open-addressing hash set.
 *
 * Not done: anti-aliasing, exact region geometry (regions smaller than a
 * pixel are missed; a 64-bit hash collision, ~n^2 / 2^65, would merge two
 * regions), printing (the CLI reports). */
#include "slice.h"

#include <math.h>
#include <png.h>
#include <stdlib.h>
#include <string.h>

#include "../core/blas.h"
#include "../core/fileio.h"

#define SLICE_BATCH_POINTS 4096

void slice_pixel_coords(int res, double margin, int col, int row, double *p, double *q)
{
    double s = (1.0 + 2.0 * margin) / (res - 1);
    *p = -margin + col * s;
    *q = 1.0 + margin - row * s;
}

int slice_anchor_radius(int res)
{
    int r = res / 96;
    return r < 3 ? 3 : r;
}

/* --- hashing ------------------------------------------------------------- */

static inline uint64_t mix_word(uint64_t st, uint64_t w)
{
    st = (st ^ w) * 0xbf58476d1ce4e5b9ULL;
    return st ^ (st >> 31);
}

static inline uint64_t fmix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* Fold the pieces of a (N,H) into hash (N): piece = #kinks strictly below. */
static void hash_layer(const float *a, int n, int h, const double *kinks, int nk, uint64_t *hash)
{
    for (int i = 0; i < n; i++) {
        const float *ai = a + (size_t)i * h;
        uint64_t st = hash[i];
        for (int j0 = 0; j0 < h; j0 += 32) {
            int j1 = j0 + 32 < h ? j0 + 32 : h;
            uint64_t w = 0;
            for (int j = j0; j < j1; j++) {
                double v = ai[j];
                uint64_t pc = (uint64_t)(v > kinks[0]) + (uint64_t)(nk > 1 && v > kinks[1]);
                w |= pc << (2 * (j - j0));
            }
            st = mix_word(st, w);
        }
        hash[i] = st;
    }
}

/* --- a set of 64-bit codes ------------------------------------------------ */

typedef struct code_set {
    uint64_t *keys; /* keys (cap), 0 = empty slot */
    size_t cap, n;
    int has_zero;   /* the code 0 itself, kept aside */
} code_set;

static int set_insert(code_set *s, uint64_t k)
{
    if (k == 0) {
        s->has_zero = 1;
        return SN_OK;
    }
    if (2 * (s->n + 1) > s->cap) {
        size_t nc = s->cap ? 2 * s->cap : 1024;
        uint64_t *nk = calloc(nc, sizeof *nk);
        if (!nk)
            return SN_ENOMEM;
        for (size_t i = 0; i < s->cap; i++) {
            uint64_t key = s->keys[i];
            if (!key)
                continue;
            size_t j = key & (nc - 1);
            while (nk[j])
                j = (j + 1) & (nc - 1);
            nk[j] = key;
        }
        free(s->keys);
        s->keys = nk;
        s->cap = nc;
    }
    size_t j = k & (s->cap - 1);
    while (s->keys[j]) {
        if (s->keys[j] == k)
            return SN_OK;
        j = (j + 1) & (s->cap - 1);
    }
    s->keys[j] = k;
    s->n++;
    return SN_OK;
}

/* --- colours --------------------------------------------------------------- */

static void code_colour(uint64_t code, uint8_t rgb[3])
{
    double hue = (double)(code >> 40) / (double)(1ULL << 24) * 6.0; /* [0,6) */
    double s = 0.35 + 0.25 * (double)((code >> 20) & 0xff) / 255.0;
    double v = 0.85 + 0.13 * (double)((code >> 8) & 0xff) / 255.0;
    int sector = (int)hue;
    double f = hue - sector;
    double pp = v * (1 - s), qq = v * (1 - s * f), tt = v * (1 - s * (1 - f));
    double r, g, b;
    switch (sector) {
    case 0: r = v, g = tt, b = pp; break;
    case 1: r = qq, g = v, b = pp; break;
    case 2: r = pp, g = v, b = tt; break;
    case 3: r = pp, g = qq, b = v; break;
    case 4: r = tt, g = pp, b = v; break;
    default: r = v, g = pp, b = qq; break;
    }
    rgb[0] = (uint8_t)lround(255 * r);
    rgb[1] = (uint8_t)lround(255 * g);
    rgb[2] = (uint8_t)lround(255 * b);
}

/* Colour one image row from its codes (res) and the next row's (NULL for the
 * last row). */
static void colour_row(const uint64_t *row, const uint64_t *below, int res, uint8_t *out)
{
    uint64_t last = 0;
    uint8_t col[3];
    code_colour(last, col);
    for (int c = 0; c < res; c++) {
        uint64_t k = row[c];
        uint8_t *px = out + 3 * (size_t)c;
        if ((c + 1 < res && row[c + 1] != k) || (below && below[c] != k)) {
            px[0] = px[1] = px[2] = SLICE_DARK;
            continue;
        }
        if (k != last) {
            code_colour(k, col);
            last = k;
        }
        memcpy(px, col, 3);
    }
}

static void draw_anchor(uint8_t *rgb, int res, int cx, int cy)
{
    int r = slice_anchor_radius(res), ring = r / 2 < 2 ? 2 : r / 2, ro = r + ring;
    for (int y = cy - ro; y <= cy + ro; y++) {
        if (y < 0 || y >= res)
            continue;
        for (int x = cx - ro; x <= cx + ro; x++) {
            if (x < 0 || x >= res)
                continue;
            int d2 = (x - cx) * (x - cx) + (y - cy) * (y - cy);
            if (d2 > ro * ro)
                continue;
            uint8_t v = d2 <= r * r ? 0 : 255;
            uint8_t *px = rgb + 3 * ((size_t)y * res + x);
            px[0] = px[1] = px[2] = v;
        }
    }
}

/* --- rendering ------------------------------------------------------------- */

static int check_plane(const float *x1, const float *x2, const float *x3, int d, sn_err *e)
{
    double uu = 0, vv = 0, uv = 0;
    for (int j = 0; j < d; j++) {
        if (!isfinite(x1[j]) || !isfinite(x2[j]) || !isfinite(x3[j]))
            return err_set(e, SN_EARG, "slice: anchor feature %d is not finite", j);
        double u = (double)x2[j] - x1[j], v = (double)x3[j] - x1[j];
        uu += u * u, vv += v * v, uv += u * v;
    }
    if (uu == 0 || vv == 0 || uv * uv >= (1 - 1e-12) * uu * vv)
        return err_set(e, SN_EARG,
                       "slice: the three anchors lie on one line (or coincide), so they span "
                       "no plane; choose three distinct, non-collinear points");
    return SN_OK;
}

int slice_render_progress(const mlp *m, const float *x1, const float *x2, const float *x3,
                          int res, double margin, uint8_t *rgb, slice_result *out,
                          slice_progress_fn fn, void *ctx, sn_err *e)
{
    if (res < 2 || res > SLICE_RES_MAX)
        return err_set(e, SN_EARG, "slice: resolution %d is out of range (2..%d)", res,
                       SLICE_RES_MAX);
    if (!isfinite(margin) || margin < 0)
        return err_set(e, SN_EARG, "slice: margin %g must be finite and >= 0", margin);
    int D = m->cfg.d, H = m->cfg.width, L = m->cfg.depth, nhid = L - 1, rc;
    if ((rc = check_plane(x1, x2, x3, D, e)))
        return rc;

    double kinks[2] = {0, 0};
    int nk = act_kinks(m->cfg.act, kinks);
    if (nk == 0) /* tanh: sign code, a "kink" at 0 */
        nk = 1, kinks[0] = 0;

    int rows_per = SLICE_BATCH_POINTS / res < 1 ? 1 : SLICE_BATCH_POINTS / res;
    size_t nmax = (size_t)rows_per * res;
    double *A0 = NULL, *Au = NULL, *Av = NULL; // A0, Au, Av (H)
    float *a = NULL, *h = NULL;                // a, h (nmax, H)
    uint64_t *hash = NULL;                     // hash (nmax)
    uint64_t *ring = NULL;                     // ring (rows_per + 1, res)
    code_set set = {0};
    rc = SN_OK;
    if (nhid > 0) {
        A0 = malloc(sizeof(double) * H * 3);
        a = malloc(sizeof(float) * nmax * H);
        h = malloc(sizeof(float) * nmax * H);
    }
    hash = malloc(sizeof(uint64_t) * nmax);
    ring = malloc(sizeof(uint64_t) * (nmax + res));
    if ((nhid > 0 && (!A0 || !a || !h)) || !hash || !ring) {
        rc = err_set(e, SN_ENOMEM, "slice: out of memory for %d x %d points", res, res);
        goto done;
    }
    if (nhid > 0) {
        /* layer 0 on the plane: A0 = W x1 + b, Au = W (x2 - x1), Av = W (x3 - x1) */
        Au = A0 + H, Av = A0 + 2 * H;
        const float *W = mlp_w(m, m->params, 0); // W (H, D)
        for (int j = 0; j < H; j++) {
            double s0 = m->cfg.bias ? mlp_b(m, m->params, 0)[j] : 0.0, su = 0, sv = 0;
            const float *wj = W + (size_t)j * D;
            for (int i = 0; i < D; i++) {
                s0 += (double)wj[i] * x1[i];
                su += (double)wj[i] * ((double)x2[i] - x1[i]);
                sv += (double)wj[i] * ((double)x3[i] - x1[i]);
            }
            A0[j] = s0, Au[j] = su, Av[j] = sv;
        }
    }

    for (int r0 = 0; r0 < res; r0 += rows_per) {
        int nrows = r0 + rows_per <= res ? rows_per : res - r0;
        int n = nrows * res;
        uint64_t *codes = ring + res; /* ring row 0 holds image row r0 - 1 */
        for (int i = 0; i < n; i++)
            hash[i] = 0x243f6a8885a308d3ULL;
        if (nhid > 0) {
            for (int i = 0; i < n; i++) {
                double p, q;
                slice_pixel_coords(res, margin, i % res, r0 + i / res, &p, &q);
                float *ai = a + (size_t)i * H;
                for (int j = 0; j < H; j++)
                    ai[j] = (float)(A0[j] + p * Au[j] + q * Av[j]);
            }
            for (int l = 0;; l++) {
                hash_layer(a, n, H, kinks, nk, hash);
                if (l + 1 == nhid)
                    break;
                act_forward(m->cfg.act, a, h, (size_t)n * H);
                float beta = 0.0f;
                if (m->cfg.bias) {
                    const float *b = mlp_b(m, m->params, l + 1);
                    for (int i = 0; i < n; i++)
                        memcpy(a + (size_t)i * H, b, sizeof(float) * H);
                    beta = 1.0f;
                }
                blas_sgemm(0, 1, n, H, H, 1.0f, h, H, mlp_w(m, m->params, l + 1), H, beta, a, H);
            }
        }
        for (int i = 0; i < n; i++) {
            codes[i] = fmix64(hash[i]);
            if (set_insert(&set, codes[i])) {
                rc = err_set(e, SN_ENOMEM, "slice: out of memory counting regions");
                goto done;
            }
        }
        /* ring row k is image row r0 - 1 + k; rows with both neighbours known */
        for (int k = r0 == 0 ? 1 : 0; k < nrows; k++)
            colour_row(ring + (size_t)k * res, ring + (size_t)(k + 1) * res, res,
                       rgb + 3 * (size_t)(r0 - 1 + k) * res);
        if (r0 + nrows == res)
            colour_row(ring + (size_t)nrows * res, NULL, res, rgb + 3 * (size_t)(res - 1) * res);
        else
            memcpy(ring, ring + (size_t)nrows * res, sizeof(uint64_t) * res);
        if (fn)
            fn(ctx, r0 + nrows, res);
    }

    double step = (1.0 + 2.0 * margin) / (res - 1);
    static const double apq[3][2] = {{0, 0}, {1, 0}, {0, 1}};
    out->regions = (long)(set.n + (size_t)set.has_zero);
    for (int t = 0; t < 3; t++) {
        out->anchor_px[t][0] = (int)lround((apq[t][0] + margin) / step);
        out->anchor_px[t][1] = (int)lround((1.0 + margin - apq[t][1]) / step);
    }
    for (int t = 0; t < 3; t++)
        draw_anchor(rgb, res, out->anchor_px[t][0], out->anchor_px[t][1]);

done:
    free(A0);
    free(a);
    free(h);
    free(hash);
    free(ring);
    free(set.keys);
    return rc;
}

int slice_render(const mlp *m, const float *x1, const float *x2, const float *x3, int res,
                 double margin, uint8_t *rgb, slice_result *out, sn_err *e)
{
    return slice_render_progress(m, x1, x2, x3, res, margin, rgb, out, NULL, NULL, e);
}

/* --- PNG ------------------------------------------------------------------- */

typedef struct png_mem {
    unsigned char *buf;
    size_t len, cap;
    int oom;
    char msg[256];
} png_mem;

static void png_mem_write(png_structp png, png_bytep data, png_size_t len)
{
    png_mem *pm = png_get_io_ptr(png);
    if (pm->len + len > pm->cap) {
        size_t nc = pm->cap ? pm->cap : 65536;
        while (nc < pm->len + len)
            nc *= 2;
        unsigned char *nb = realloc(pm->buf, nc);
        if (!nb) {
            pm->oom = 1;
            png_error(png, "out of memory");
        }
        pm->buf = nb;
        pm->cap = nc;
    }
    memcpy(pm->buf + pm->len, data, len);
    pm->len += len;
}

static void png_mem_flush(png_structp png) { (void)png; }

static void png_on_error(png_structp png, png_const_charp msg)
{
    png_mem *pm = png_get_error_ptr(png);
    snprintf(pm->msg, sizeof pm->msg, "%s", msg);
    png_longjmp(png, 1);
}

static void png_on_warning(png_structp png, png_const_charp msg) { (void)png, (void)msg; }

/* Encode into pm; returns 0 or -1 (pm->msg / pm->oom say why). */
static int png_encode(png_mem *pm, const uint8_t *rgb, int width, int height)
{
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, pm, png_on_error,
                                              png_on_warning);
    if (!png) {
        pm->oom = 1;
        return -1;
    }
    png_infop info = png_create_info_struct(png);
    if (!info) {
        png_destroy_write_struct(&png, NULL);
        pm->oom = 1;
        return -1;
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        return -1;
    }
    png_set_write_fn(png, pm, png_mem_write, png_mem_flush);
    png_set_IHDR(png, info, (png_uint_32)width, (png_uint_32)height, 8, PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (int y = 0; y < height; y++)
        png_write_row(png, (png_const_bytep)(rgb + 3 * (size_t)y * width));
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    return 0;
}

int slice_write_png(const char *path, const uint8_t *rgb, int width, int height, sn_err *e)
{
    if (width < 1 || height < 1 || width > 1000000 || height > 1000000)
        return err_set(e, SN_EARG, "%s: bad image size %d x %d", path, width, height);
    png_mem pm = {0};
    if (png_encode(&pm, rgb, width, height)) {
        free(pm.buf);
        if (pm.oom)
            return err_set(e, SN_ENOMEM, "%s: out of memory encoding PNG", path);
        return err_set(e, SN_EFORMAT, "%s: PNG encoding failed: %s", path, pm.msg);
    }
    const void *parts[1] = {pm.buf};
    size_t lens[1] = {pm.len};
    int rc = file_write_atomic(path, parts, lens, 1, e);
    free(pm.buf);
    return rc;
}
