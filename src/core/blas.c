/* blas.c: OpenBLAS introspection and the kernel choice described in blas.h.
 * The decision is a pure function so it can be tested on any CPU; the
 * environment change and re-exec are the CLI's business. */
#include "blas.h"

#include <cblas.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* OpenBLAS extensions (declared in its cblas.h on Debian, repeated here for
 * other layouts). */
char *openblas_get_corename(void);
char *openblas_get_config(void);
int openblas_get_num_threads(void);
void openblas_set_num_threads(int);

/* The BLAS thread setting is process-wide in OpenBLAS itself; these mirror
 * it so that blas_sgemm can drop to one thread for small products and come
 * back. 0 = not read yet. */
static int g_max_threads = 0, g_cur_threads = 0;
static long g_mt_min = -1;

const char *blas_corename(void) { return openblas_get_corename(); }
const char *blas_config(void) { return openblas_get_config(); }

int blas_get_threads(void)
{
    if (g_max_threads == 0)
        g_max_threads = g_cur_threads = openblas_get_num_threads();
    return g_max_threads;
}

void blas_set_threads(int n)
{
    if (n >= 1) {
        openblas_set_num_threads(n);
        g_max_threads = g_cur_threads = n;
    }
}

long blas_mt_min(void)
{
    if (g_mt_min < 0) {
        const char *s = getenv("SENSI_GEMM_MT_MIN");
        char *end;
        long v = s ? strtol(s, &end, 10) : -1;
        g_mt_min = (s && *s && *end == '\0' && v >= 0) ? v : 16L * 1000 * 1000;
    }
    return g_mt_min;
}

void blas_sgemm(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A,
                int lda, const float *B, int ldb, float beta, float *C, int ldc)
{
    int want = (double)M * N * K < (double)blas_mt_min() ? 1 : blas_get_threads();
    if (want != g_cur_threads) {
        openblas_set_num_threads(want);
        g_cur_threads = want;
    }
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                trans_b ? CblasTrans : CblasNoTrans, M, N, K, alpha, A, lda, B, ldb, beta, C,
                ldc);
}

const char *blas_better_coretype(const char *current, int avx512, int avx2_fma, int avx)
{
    static const char *const generic[] = {"Prescott", "Core2",  "Penryn",  "Dunnington",
                                          "Nehalem",  "Katmai", "Coppermine", "Northwood",
                                          "Banias",   "Atom",   "Barcelona", "Opteron",
                                          "Opteron(SSE3)", "Athlon", "Unknown", "generic"};
    int is_generic = current == NULL || current[0] == '\0';
    for (size_t i = 0; !is_generic && i < sizeof generic / sizeof *generic; i++)
        if (strcasecmp(current, generic[i]) == 0)
            is_generic = 1;
    if (!is_generic)
        return NULL;
    if (avx512)
        return "SkylakeX";
    if (avx2_fma)
        return "Haswell";
    if (avx)
        return "Sandybridge";
    return NULL;
}

const char *blas_auto_coretype(void)
{
    __builtin_cpu_init();
    int avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                 __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
    int avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    int avx = __builtin_cpu_supports("avx");
    return blas_better_coretype(blas_corename(), avx512, avx2, avx);
}
