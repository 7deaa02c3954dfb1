/*
 * kernels.h: the numerical kernels behind one run-time dispatch, the
 * thread pool, the blocked GEMMs and attention.  Reaches only util.
 */
#ifndef TL_KERNELS_H
#define TL_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#include "util/util.h"

/*
 * kernels.h: the numerical kernels of training and inference, the
 * run-time SIMD dispatch that picks their fastest path, and the thread
 * pool that spreads them over cores.
 *
 * Every kernel has a plain C reference (kernels_ref.c, tkernels_ref.c:
 * the specification) and SIMD versions with the same signature; each
 * SIMD path is a row (tl_kern) of dispatch.c's table, built from the
 * row below it, and one row is chosen once from CPUID.
 * TL_SIMD=scalar|sse|sse2|... in the environment forces a path.  The
 * per-path functions are internal (kernels_impl.h).  Results never depend on the
 * number of threads: work is split over disjoint outputs and every
 * reduction runs in a fixed order.
 */


/* x86 builds have the SIMD paths; elsewhere only the scalar one. */
#if defined(__i386__) || defined(__x86_64__)
#define TL_X86 1
#endif

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
	TL_SIMD_SSE,
	TL_SIMD_SSE2,
	TL_SIMD_SSSE3,
	TL_SIMD_SSE41,
	TL_SIMD_AVX2,
	TL_SIMD_NPATH
};

/*
 * The instruction mixes that the kernels' inner loops are made of, for
 * comparing a kernel's rate with the machine's peak for its mix
 * (peak.c measures it, tl-bench compares).
 */
enum {
	TL_MIX_F32,		/* mulss + addss (x87 on i686): scalar */
	TL_MIX_SSE,		/* mulps + addps */
	TL_MIX_FMA,		/* vfmadd231ps on ymm */
	TL_MIX_I32,		/* imul + add: scalar integers */
	TL_MIX_PMADDWD,		/* pmaddwd + paddd: int16 pairs */
	TL_MIX_PMADDWD_MMX,	/* the same on 64-bit mm registers */
	TL_MIX_PMADDUBSW,	/* pmaddubsw + paddw: bytes */
	TL_MIX_VPMADDUBSW,	/* vpmaddubsw + vpaddw on ymm */
	TL_MIX_N
};

/* Kernels by the arithmetic of their inner loops: each path gives the
 * mix that a kernel of each kind reaches at best on it (tl_kern.mix). */
enum {
	TL_KIND_FLOAT,		/* float row kernels: dot, softmax, adamw, ... */
	TL_KIND_PRODUCT,	/* float products: the GEMM tile, gemv_t */
	TL_KIND_INT,		/* integer products: tgemm, the matvecs */
	TL_KIND_N
};

/*
 * An int8 activation vector, prepared once for the packed-weight
 * kernels below (tl_xq8_prep in model.h fills it).  q holds the values,
 * zero past the real length up to a multiple of 64; p holds the same
 * values as int16, each group of 16 as its 8 even-indexed elements
 * then its 8 odd-indexed ones (the order in which SSE2 unpacks bytes
 * into 16-bit lanes); bsum[b] is the sum of q over block b of 64, and
 * sum the sum of all.  q and p are aligned to 16 bytes.
 */
typedef struct {
	const int8_t *q;	/* (n) */
	const int16_t *p;	/* (n) */
	const int32_t *bsum;	/* (n/64) */
	int32_t sum;
	int n;			/* a multiple of 64 */
} tl_xq8;

/* One SIMD path: its name, mixes and kernels (dispatch.c builds each
 * path's table from the one below it).  Lengths are element counts;
 * pointers need no alignment. */
typedef struct {
	const char *name;	/* "scalar", "sse2", ... (TL_SIMD) */
	int mix[TL_KIND_N];	/* the mix of each kind of kernel */
	/* sum_i a[i] * b[i] */
	float (*dot)(const float *a, const float *b, int n);
	/* y[i] += a * x[i] */
	void (*axpy)(float *y, float a, const float *x, int n);
	/* The register-blocked core of tl_sgemm: the gemm_mr x gemm_nr
	 * tile  t[i][j] = sum_k a[k*gemm_mr + i] * b[k*gemm_nr + j],
	 * summed for each (i, j) in increasing k from zero, of a packed
	 * panel a of A (K x gemm_mr, k-major) and b of B (K x gemm_nr);
	 * b is aligned to 16 bytes (64 if gemm_nr is 16), a to 16 bytes
	 * if gemm_mr is 4.  Only the top-left m x n of the tile reaches
	 * c: c[i*ldc + j] = t[i][j] (acc = 0) or += t[i][j]. */
	void (*gemm_tile)(int K, const void *a, const void *b, float *c,
	    long ldc, int m, int n, int acc);
	int gemm_mr, gemm_nr;	/* the tile's shape, at most 8 x 16 */
	/* Pack a panel for gemm_tile: dst[k*R + i] = src[i*ws + k*ks]
	 * for i < w and k < kc, zero for w <= i < R (the edge). */
	void (*gemm_pack)(float *dst, int R, const float *src, long ws,
	    long ks, int w, int kc);
	/* max_i |x[i]| and sum_i |x[i]| */
	float (*absmax)(const float *x, int n);
	double (*abssum)(const float *x, int n);
	/* q[i] = clamp(rint(x[i] * s), lo, hi), stored as float; needs
	 * lo <= hi.  Every path gives the reference's bits. */
	void (*quant)(float *q, const float *x, int n, float s, float lo,
	    float hi);
	/* q[i] = (int8) clamp(rint(x[i] * s), -128, 127), bit-exact in
	 * every path (x[i] * s must not be NaN). */
	void (*quant_i8)(int8_t *q, const float *x, int n, float s);
	/* AdamW on n parameters: see tl_adamw_ref in kernels_ref.c */
	void (*adamw)(float *p, const float *g, float *m, float *v, int n,
	    float lr, float b1, float b2, float eps, float wd, float bc1,
	    float bc2);
	/* x[i] = exp(x[i] - max) / sum, in place; returns log(sum) + max */
	float (*softmax)(float *x, int n);
	/*
	 * The int8 x ternary core of tl_tgemm (tgemm.c).  tgemm_pack_a
	 * packs activations (integers in [-128, 127]) and tgemm_pack_b
	 * ternary weights (-1, 0 or +1), both held as floats:
	 * src[i*ld + k] for rows i < w and steps k < kc (kc <= 512) go
	 * into a panel of R rows (tgemm_mr for A, tgemm_nr for B) in the
	 * path's own layout (at most R (2 kc' + 4) bytes, kc' = kc
	 * rounded up to a multiple of 4; dst aligned to 64); the rest of
	 * the panel is zero (weights: 0).  tgemm_tile then sums
	 * t[i][j] = sum_k a[i][k] * b[j][k] exactly in integers and
	 * stores the top-left m x n as floats: c[i*ldc + j] = t[i][j]
	 * (acc = 0) or += t[i][j].  Every path gives the same bits.
	 */
	void (*tgemm_pack_a)(void *dst, int R, const float *src, long ld,
	    int w, int kc);
	void (*tgemm_pack_b)(void *dst, int R, const float *src, long ld,
	    int w, int kc);
	void (*tgemm_tile)(int kc, const void *a, const void *b, float *c,
	    long ldc, int m, int n, int acc);
	int tgemm_mr, tgemm_nr;	/* at most 8 x 16 */
	/* y (n) = a (m) . X (m, n), X[u*ldx + j]; or y += when acc:
	 * y[j] = [y[j] +] t[j], t[j] = sum_u a[u] X[u][j] summed in
	 * increasing u from zero, the order of gemm_tile, so that each
	 * path agrees with its tl_sgemm bit for bit (inference's
	 * attention); avx2 fuses the multiply-adds as its tile does */
	void (*gemv_t)(float *y, const float *a, const float *X, long ldx,
	    int m, int n, int acc);
	/*
	 * The matvecs: m rows of packed weights times one int8 activation
	 * vector x (tl-packed(5) gives the layouts of the weights;
	 * tkernels_ref.c is the specification).  Row r of m
	 * starts ldw bytes after row r-1 at w and holds n weights, the
	 * row's length rounded up as its layout requires (n <= x->n);
	 * the activations past the real length are zero, so padding
	 * weights add nothing.  Integer sums are exact, so every path
	 * gives the reference's bits.
	 *
	 * Ternary, 2-bit codes (tq2, n a multiple of 64) or 5 trits per
	 * byte (tq1, n a multiple of 16):  s[r] = sum_j t[r][j] x[j].
	 */
	void (*matvec_tq2)(int32_t *s, const uint8_t *w, long ldw, int m, int n,
	    const tl_xq8 *x);
	void (*matvec_tq1)(int32_t *s, const uint8_t *w, long ldw, int m, int n,
	    const tl_xq8 *x);
	/* Blocks of 64 int8 (q8) or int4 (q4) weights with a float scale
	 * each, d[r*ldd + b] for block b of row r (n a multiple of 64):
	 * y[r] = sum over b, in increasing b from 0, of d[r][b] times the
	 * exact integer sum of block b, as floats. */
	void (*matvec_q8)(float *y, const int8_t *w, long ldw, const float *d,
	    long ldd, int m, int n, const tl_xq8 *x);
	void (*matvec_q4)(float *y, const uint8_t *w, long ldw, const float *d,
	    long ldd, int m, int n, const tl_xq8 *x);
	/*
	 * Attention over a cache of 8-bit keys and values (infer.c), each
	 * stored as its int8 value + 128: scores_u8 is, for every u < n,
	 * s[u] = sum over i < hs of k[u*ldk + i] q[i]; attv_u8 is, for
	 * every i < n, o[i] = sum over j < np of w[2j] v[j*ldv + 2i] +
	 * w[2j+1] v[j*ldv + 2i + 1] (the values of a pair of positions
	 * side by side, channel by channel).  The caller takes off 128
	 * times the sum of q or w.  Exact integer sums, which the caller
	 * keeps below 2^31 in magnitude: every path gives the
	 * reference's bits.
	 */
	void (*scores_u8)(int32_t *s, const uint8_t *k, long ldk, int n,
	    const int16_t *q, int hs);
	void (*attv_u8)(int32_t *o, const uint8_t *v, long ldv,
	    const int16_t *w, int np, int n);
} tl_kern;

/* Pick the path once: the best the CPU supports, or the one TL_SIMD
 * names.  Returns -1 with a message if TL_SIMD names an unknown path
 * or one this CPU lacks.  Safe to call more than once. */
int tl_simd_init(char *err);
int tl_simd_path(void);
/* The path's name ("sse2"), "?" for a number out of range. */
const char *tl_simd_name(int path);
/* The path called name, or -1. */
int tl_simd_find(const char *name);
/* The paths named by a comma-separated list, or "all" (every path this
 * CPU runs), as a set of bits (1 << path) in *set.  Returns -1 with a
 * message that names the item at fault and the allowed names. */
int tl_simd_parse(const char *list, unsigned *set, char *err);
int tl_simd_supported(int path);
/* Force a path (tests and tl-bench); -1 if the CPU lacks it.  Like
 * tl_simd_init, call it while no kernel runs on another thread. */
int tl_simd_set(int path);
/* The table of the current path, and of any path. */
const tl_kern *tl_k(void);
const tl_kern *tl_k_path(int path);

/* The reference (scalar) table: the scalar path's row. */
extern const tl_kern tl_kern_ref;

/* "mulps+addps" and so on: the name of an instruction mix. */
const char *tl_mix_name(int mix);

/* ---- composite kernels (sgemm.c, attention.c) ---- */

/* C (M,N) = [C +] A (M,K) . B (K,N) with arbitrary strides, so that
 * transposes cost nothing: element (i,k) of A is A[i*ars + k*acs],
 * element (k,j) of B is B[k*brs + j*bcs], element (i,j) of C is
 * C[i*ldc + j].  accumulate = 0 overwrites C.  Each C element sums
 * over k in a fixed order, whatever the thread count, in blocks of k
 * at fixed positions (zero terms past some K change nothing; see
 * sgemm.c).  Threads come from p (NULL: the calling thread only). */
void tl_sgemm(tl_pool *p, int M, int N, int K,
    const float *A, long ars, long acs,
    const float *B, long brs, long bcs,
    float *C, long ldc, int accumulate);

/* The bytes of packed panels tl_sgemm and tl_tgemm allocate (and free)
 * for a product of that shape on the path in use (tl_simd_init first):
 * their share of a program's memory. */
size_t tl_sgemm_scratch(int M, int N, int K);
size_t tl_tgemm_scratch(int M, int N, int K);

/* C (M,N) = A (M,K) . W (N,K)^T for A holding integers in [-128, 127]
 * and W ternary values (-1, 0, +1), both as floats with unit stride
 * along k (row strides lda, ldw): the ternary forward of a BitLinear.
 * The sums are integers, exact on every path and for any thread
 * count: what tl_sgemm gives for the same inputs, as long as every
 * |sum| stays below 2^24 (true for K <= 2^17).  Threads come from p
 * (NULL: the calling thread only). */
void tl_tgemm(tl_pool *p, int M, int N, int K, const float *A, long lda,
    const float *W, long ldw, float *C, long ldc);

/* The bytes of packed panels the attention passes allocate, at most,
 * in each thread running one of their (sequence, head) jobs. */
size_t tl_attention_scratch(int T, int C, int H);

/* Causal multi-head attention over B sequences of T positions.
 * qkv is (B,T,3C) holding q, k, v for each position (heads of size
 * C/H side by side in each); out is (B,T,C); att is (B,H,T,T) and
 * keeps the softmax probabilities for the backward pass (entries
 * above the diagonal are written as zero).  With dropout d (NULL or
 * a rate of 0: none), the probabilities of row t of sequence b, head
 * h are dropped as the row tl_drop_stream(d, b, h, t), into the
 * scratch datt (B,H,T,T), before they weigh the values; att keeps
 * them undropped. */
void tl_attention_forward(tl_pool *p, float *out, float *att, float *datt,
    const float *qkv, int B, int T, int C, int H, const tl_drop *d);
/* dqkv (B,T,3C) and datt scratch (B,H,T,T) are overwritten; d is the
 * forward's. */
void tl_attention_backward(tl_pool *p, float *dqkv, float *datt,
    const float *dout, const float *qkv, const float *att,
    int B, int T, int C, int H, const tl_drop *d);

#endif
