/* blas.c: OpenBLAS introspection and the kernel choice described in blas.h.
 * The decision is a pure function so it can be tested on any CPU; the
 * environment change and re-exec are the CLI's business. */
#include "blas.h"

#include <cblas.h>
#include <stddef.h>
#include <string.h>

/* OpenBLAS extensions (declared in its cblas.h on Debian, repeated here for
 * other layouts). */
char *openblas_get_corename(void);
char *openblas_get_config(void);
int openblas_get_num_threads(void);
void openblas_set_num_threads(int);

const char *blas_corename(void) { return openblas_get_corename(); }
const char *blas_config(void) { return openblas_get_config(); }
int blas_get_threads(void) { return openblas_get_num_threads(); }

void blas_set_threads(int n)
{
    if (n >= 1)
        openblas_set_num_threads(n);
}

void blas_sgemm(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A,
                int lda, const float *B, int ldb, float beta, float *C, int ldc)
{
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
