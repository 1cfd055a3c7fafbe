/* sgemm_peak.c: best sustained single-precision GEMM rate through CBLAS
 * (OpenBLAS, its default thread count unless OPENBLAS_NUM_THREADS says
 * otherwise), for square sizes and for the GEMMs one training step of sensi
 * performs (row-major, the same transpose flags as src/nn/mlp.c).
 *
 *   sgemm_peak [--info] [--batch B] [--widths 100,500,1000] [--squares 1024,2048]
 *              [--reps R] [--min-time S]
 *
 * Each measurement repeats the call until at least --min-time seconds have
 * passed (one timed "repetition"), R repetitions, and keeps the fastest.
 * --info prints only the first line (which kernel OpenBLAS chose).
 * Output: JSON lines on stdout.
 *   {"kind":"blas", "corename":..., "config":..., "threads":...}
 *   {"kind":"sgemm", "what":"square"|"fwd"|"wgrad"|"dgrad", "width":H,
 *    "m":..,"n":..,"k":..,"ta":"N","tb":"T","gflops":..,"s_per_call":..}
 *   {"kind":"peak", "gflops":<best square>}
 * Build: gcc -O2 bench/sgemm_peak.c -o bench/out/sgemm_peak \
 *            $(pkg-config --cflags --libs openblas) */
#define _POSIX_C_SOURCE 199309L
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

char *openblas_get_corename(void);
char *openblas_get_config(void);
int openblas_get_num_threads(void);

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

static int reps = 5;
static double min_time = 0.15;

static float *buf_new(size_t n)
{
    float *p = aligned_alloc(64, ((n * sizeof(float)) + 63) / 64 * 64);
    if (!p) {
        fprintf(stderr, "sgemm_peak: out of memory\n");
        exit(1);
    }
    /* small values in [0, 1/64): no overflow, no denormals */
    unsigned s = 12345;
    for (size_t i = 0; i < n; i++) {
        s = s * 1103515245u + 12345u;
        p[i] = (float)((s >> 16) & 1023) / 65536.0f;
    }
    return p;
}

/* Row-major C(m,n) = op(A) op(B) + beta C with op as given ('N' or 'T'). */
static double measure(const char *what, int width, int m, int n, int k, char ta, char tb,
                      float beta)
{
    float *A = buf_new((size_t)m * k), *B = buf_new((size_t)k * n), *C = buf_new((size_t)m * n);
    enum CBLAS_TRANSPOSE TA = ta == 'T' ? CblasTrans : CblasNoTrans;
    enum CBLAS_TRANSPOSE TB = tb == 'T' ? CblasTrans : CblasNoTrans;
    int lda = ta == 'T' ? m : k, ldb = tb == 'T' ? k : n;
    /* warm-up: thread pool, page faults, caches */
    double tw = now_s();
    do
        cblas_sgemm(CblasRowMajor, TA, TB, m, n, k, 1.0f, A, lda, B, ldb, beta, C, n);
    while (now_s() - tw < 0.05);
    double best = 1e30;
    for (int r = 0; r < reps; r++) {
        long calls = 0;
        double t0 = now_s(), dt;
        do {
            cblas_sgemm(CblasRowMajor, TA, TB, m, n, k, 1.0f, A, lda, B, ldb, beta, C, n);
            calls++;
            dt = now_s() - t0;
        } while (dt < min_time);
        if (dt / calls < best)
            best = dt / calls;
    }
    double gf = 2.0 * m * n * k / best * 1e-9;
    printf("{\"kind\":\"sgemm\",\"what\":\"%s\",\"width\":%d,\"m\":%d,\"n\":%d,\"k\":%d,"
           "\"ta\":\"%c\",\"tb\":\"%c\",\"beta\":%g,\"gflops\":%.3f,\"s_per_call\":%.6e}\n",
           what, width, m, n, k, ta, tb, beta, gf, best);
    fflush(stdout);
    free(A), free(B), free(C);
    return gf;
}

static int parse_list(const char *s, int *out, int max)
{
    int n = 0;
    while (*s && n < max) {
        char *end;
        long v = strtol(s, &end, 10);
        if (end == s || v < 1) {
            fprintf(stderr, "sgemm_peak: bad list '%s'\n", s);
            exit(2);
        }
        out[n++] = (int)v;
        s = *end == ',' ? end + 1 : end;
    }
    return n;
}

int main(int argc, char **argv)
{
    int batch = 128, d_in = 784, classes = 10;
    int widths[16] = {100, 500, 1000}, nw = 3;
    int squares[16] = {1024, 2048}, ns = 2;
    int info_only = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--info")) {
            info_only = 1;
            continue;
        }
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) {
            fprintf(stderr, "sgemm_peak: %s needs a value\n", a);
            return 2;
        }
        if (!strcmp(a, "--batch"))
            batch = atoi(v);
        else if (!strcmp(a, "--widths"))
            nw = parse_list(v, widths, 16);
        else if (!strcmp(a, "--squares"))
            ns = parse_list(v, squares, 16);
        else if (!strcmp(a, "--reps"))
            reps = atoi(v);
        else if (!strcmp(a, "--min-time"))
            min_time = atof(v);
        else {
            fprintf(stderr, "usage: sgemm_peak [--info] [--batch B] [--widths a,b] [--squares a,b] "
                            "[--reps R] [--min-time S]\n");
            return 2;
        }
        i++;
    }
    if (batch < 1 || reps < 1 || min_time <= 0) {
        fprintf(stderr, "sgemm_peak: bad arguments\n");
        return 2;
    }
    const char *ct = getenv("OPENBLAS_CORETYPE");
    printf("{\"kind\":\"blas\",\"corename\":\"%s\",\"config\":\"%s\",\"threads\":%d,"
           "\"openblas_coretype_env\":\"%s\"}\n",
           openblas_get_corename(), openblas_get_config(), openblas_get_num_threads(),
           ct ? ct : "");
    fflush(stdout);
    if (info_only)
        return 0;

    double peak = 0;
    for (int i = 0; i < ns; i++) {
        int s = squares[i];
        double g = measure("square", 0, s, s, s, 'N', 'N', 0.0f);
        if (g > peak)
            peak = g;
    }
    /* One training step of a width-H network with batch B (see src/nn/mlp.c):
     *   forward  layer l: Y(B,out) = X(B,in) W(out,in)^T          N,T  m=B   n=out k=in
     *   weights  layer l: dW(out,in) += dY(B,out)^T X(B,in)        T,N  m=out n=in  k=B
     *                     (beta = 1: momentum accumulates into the velocity)
     *   inputs   l >= 1:  dX(B,in) = dY(B,out) W(out,in)           N,N  m=B   n=in  k=out
     * Distinct shapes: first layer (784->H), hidden (H->H), last (H->10). */
    for (int i = 0; i < nw; i++) {
        int H = widths[i];
        measure("fwd", H, batch, H, d_in, 'N', 'T', 0.0f);
        measure("fwd", H, batch, H, H, 'N', 'T', 0.0f);
        measure("fwd", H, batch, classes, H, 'N', 'T', 0.0f);
        measure("wgrad", H, H, d_in, batch, 'T', 'N', 1.0f);
        measure("wgrad", H, H, H, batch, 'T', 'N', 1.0f);
        measure("wgrad", H, classes, H, batch, 'T', 'N', 1.0f);
        measure("dgrad", H, batch, H, H, 'N', 'N', 0.0f);
        measure("dgrad", H, batch, H, classes, 'N', 'N', 0.0f);
    }
    printf("{\"kind\":\"peak\",\"gflops\":%.3f}\n", peak);
    return 0;
}
