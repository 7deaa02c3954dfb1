/*
 * kernels.h: the numerical kernels of training and inference, the
 * run-time SIMD dispatch that picks their fastest path, and the thread
 * pool that spreads them over cores.
 *
 * Every kernel has a plain C reference (kernels_ref.c, the
 * specification) and SIMD paths with the same signature, gathered in
 * one table (tl_kern) filled once from CPUID.  TL_SIMD=scalar|sse2|...
 * in the environment forces a path.  Results never depend on the
 * number of threads: work is split over disjoint outputs and every
 * reduction runs in a fixed order.
 */
#ifndef TL_KERNELS_H
#define TL_KERNELS_H

#include <stddef.h>
#include <stdint.h>

/* ---- thread pool (pool.c) ---- */

typedef struct tl_pool tl_pool;

/* A pool of nthreads workers (the caller counts as one); nthreads <= 0
 * means one per online CPU.  Returns NULL if threads cannot start. */
tl_pool *tl_pool_new(int nthreads);
void tl_pool_free(tl_pool *p);
int tl_pool_threads(const tl_pool *p);
/* Call fn(ctx, i) once for every i in [0, n), spread over the threads,
 * and return when all calls are done.  Calls must write disjoint
 * memory; p may be NULL (then it runs serially). */
void tl_pool_for(tl_pool *p, int n, void (*fn)(void *ctx, int i), void *ctx);

/* ---- dispatch (dispatch.c) ---- */

enum {
	TL_SIMD_SCALAR,
	TL_SIMD_SSE2,
	TL_SIMD_SSSE3,
	TL_SIMD_SSE41,
	TL_SIMD_AVX2,
	TL_SIMD_NPATH
};

/* Row kernels: one path's implementations.  Lengths are element
 * counts; pointers need no alignment. */
typedef struct {
	/* sum_i a[i] * b[i] */
	float (*dot)(const float *a, const float *b, int n);
	/* y[i] += a * x[i] */
	void (*axpy)(float *y, float a, const float *x, int n);
	/* C tile: c[i*ldc + j] += sum_k a[k*MR + i] * b[k*NR + j] for a
	 * packed MR x K panel of A and K x NR panel of B (see sgemm). */
	void (*gemm_tile)(int K, const float *a, const float *b, float *c,
	    long ldc, int m, int n);
	/* max_i |x[i]| and sum_i |x[i]| */
	float (*absmax)(const float *x, int n);
	double (*abssum)(const float *x, int n);
	/* q[i] = clamp(rint(x[i] * s), lo, hi), stored as float */
	void (*quant)(float *q, const float *x, int n, float s, float lo,
	    float hi);
	/* q[i] = (int8) clamp(rint(x[i] * s), -128, 127) */
	void (*quant_i8)(int8_t *q, const float *x, int n, float s);
	/* AdamW on n parameters: see tl_adamw_ref in kernels_ref.c */
	void (*adamw)(float *p, const float *g, float *m, float *v, int n,
	    float lr, float b1, float b2, float eps, float wd, float bc1,
	    float bc2);
	/* x[i] = exp(x[i] - max) / sum, in place; returns log(sum) + max */
	float (*softmax)(float *x, int n);
} tl_kern;

/* Register-block shape of gemm_tile (the same for every path so that
 * packing is shared and results are independent of the path's tile). */
#define TL_GEMM_MR 4
#define TL_GEMM_NR 8

/* Pick the path once: the best the CPU supports, or the one TL_SIMD
 * names.  Returns -1 with a message if TL_SIMD names an unknown path
 * or one this CPU lacks.  Safe to call more than once. */
int tl_simd_init(char *err);
int tl_simd_path(void);
const char *tl_simd_name(int path);
int tl_simd_supported(int path);
/* Force a path (tests and tl-bench); -1 if the CPU lacks it. */
int tl_simd_set(int path);
/* The table of the current path, and of any path. */
const tl_kern *tl_k(void);
const tl_kern *tl_k_path(int path);

/* The reference (scalar) table. */
extern const tl_kern tl_kern_ref;

/* ---- composite kernels (sgemm.c, attention.c) ---- */

/* C (M,N) = [C +] A (M,K) . B (K,N) with arbitrary strides, so that
 * transposes cost nothing: element (i,k) of A is A[i*ars + k*acs],
 * element (k,j) of B is B[k*brs + j*bcs], element (i,j) of C is
 * C[i*ldc + j].  accumulate = 0 overwrites C.  Each C element sums
 * over k in a fixed order, whatever the thread count. */
void tl_sgemm(tl_pool *p, int M, int N, int K,
    const float *A, long ars, long acs,
    const float *B, long brs, long bcs,
    float *C, long ldc, int accumulate);

/* Causal multi-head attention over B sequences of T positions.
 * qkv is (B,T,3C) holding q, k, v for each position (heads of size
 * C/H side by side in each); out is (B,T,C); att is (B,H,T,T) and
 * keeps the softmax probabilities for the backward pass (entries
 * above the diagonal are written as zero). */
void tl_attention_forward(tl_pool *p, float *out, float *att,
    const float *qkv, int B, int T, int C, int H);
/* dqkv (B,T,3C) and datt scratch (B,H,T,T) are overwritten. */
void tl_attention_backward(tl_pool *p, float *dqkv, float *datt,
    const float *dout, const float *qkv, const float *att,
    int B, int T, int C, int H);

#endif
