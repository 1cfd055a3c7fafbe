/* blas.h: what sensi needs to know and set about the BLAS library (OpenBLAS
 * through CBLAS): its name and kernel, its thread count, and which kernel to
 * ask for when OpenBLAS does not recognise the CPU.
 *
 * Debian's OpenBLAS 0.3.21 (DYNAMIC_ARCH) falls back to generic kernels
 * ("Prescott") on CPUs newer than itself, 4-5x slower than the kernels the CPU
 * can run. OpenBLAS reads OPENBLAS_CORETYPE once, when it is loaded, so the
 * fix has to happen before: src/cli/main.c asks blas_auto_coretype() and, if
 * it names a better kernel, sets the variable and re-executes itself. */
#ifndef SENSI_BLAS_H
#define SENSI_BLAS_H

/* Kernel family OpenBLAS chose (e.g. "Zen", "Haswell", "Prescott"). */
const char *blas_corename(void);

/* One-line description: "OpenBLAS 0.3.21 DYNAMIC_ARCH ... Zen MAX_THREADS=64". */
const char *blas_config(void);

/* The thread count large GEMMs use (all cores unless set). */
int blas_get_threads(void);
/* n >= 1 sets the BLAS thread count; n <= 0 leaves the default. */
void blas_set_threads(int n);

/* Row-major C (M,N) = alpha op(A) op(B) + beta C through cblas_sgemm, where
 * op(A) is (M,K) (A^T if trans_a) and op(B) is (K,N). The one place sensi
 * calls GEMM. (Dropping to one thread for small products was measured and
 * gave nothing consistent at batch 128 on 2 cores, so it is not done.) */
void blas_sgemm(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A,
                int lda, const float *B, int ldb, float beta, float *C, int ldc);

/* Pure decision: given the kernel OpenBLAS picked and the CPU's features,
 * the OPENBLAS_CORETYPE value to ask for, or NULL to keep the current one.
 * Only generic fallbacks (Prescott, Core2, Katmai, Nehalem, Barcelona, Unknown,
 * ...) are replaced: SkylakeX with AVX-512 (F, BW, DQ, VL), Haswell with AVX2
 * and FMA, Sandybridge with AVX. */
const char *blas_better_coretype(const char *current, int avx512, int avx2_fma, int avx);

/* blas_better_coretype for this process's OpenBLAS and CPU (cpuid). */
const char *blas_auto_coretype(void);

#endif
