/*
 * tgemm.c: the matrix product of a ternary BitLinear's forward pass,
 * C (M,N) = A (M,K) . W (N,K)^T, where A holds int8 activations and W
 * ternary weights (both as floats, which is how the model keeps them
 * for its backward pass), on integer SIMD.
 *
 * The products are exact integer sums, so they can run on pmaddwd
 * (SSE2, two products per int32 lane) or pmaddubsw (SSSE3 and AVX2,
 * two per int16 lane, sixteen or thirty-two per instruction) instead
 * of mulps and addps, and give the very bits of tl_sgemm, whose float
 * sums of integers below 2^24 are exact too, for any order of the
 * sums: so the blocks, the tasks and the threads change nothing.
 *
 * The blocking is tl_sgemm's (the driver of gemm.c), in integers:
 * blocks of 512 k steps; the packers (k->tgemm_pack_a for A's rows,
 * k->tgemm_pack_b for W's rows, the columns of C) convert to the
 * path's integer layout, and k->tgemm_tile sums a tile.
 *
 * Every partial sum is an integer of magnitude at most 128 K, exact in
 * a float for K <= 2^17, so adding the k blocks in floats is exact.
 */
#include "kernels_impl.h"

#define KC	512	/* k steps per block */

/* A panel of R rows: at most R (2 kc' + 4) bytes (kernels.h); the
 * driver's stack panels hold the largest tiles' (negative array size
 * if not). */
#define ESZ	2
#define ROWX	4
typedef char stack_fits[(TL_GEMM_MAXMR + TL_GEMM_MAXNR) * (ESZ * KC + ROWX)
    + 2 * 64 <= TL_GEMM_STACK ? 1 : -1];

/* The rows run along k (ks = 1), as both packers need. */
static void
pack_a(const tl_kern *k, void *dst, int R, const float *src, long ws,
    long ks, int w, int kc)
{
	(void)ks;
	k->tgemm_pack_a(dst, R, src, ws, w, kc);
}

static void
pack_b(const tl_kern *k, void *dst, int R, const float *src, long ws,
    long ks, int w, int kc)
{
	(void)ks;
	k->tgemm_pack_b(dst, R, src, ws, w, kc);
}

static tl_gemm_kind
kind(const tl_kern *k)
{
	tl_gemm_kind g = { k->tgemm_mr, k->tgemm_nr, KC, ESZ, ROWX, pack_a,
	    pack_b, k->tgemm_tile };

	return g;
}

size_t
tl_tgemm_scratch(int M, int N, int K)
{
	tl_gemm_kind g = kind(tl_k());

	return tl_gemm_scratch(&g, M, N, K);
}

void
tl_tgemm(tl_pool *p, int M, int N, int K, const float *A, long lda,
    const float *W, long ldw, float *C, long ldc)
{
	const tl_kern *k = tl_k();
	tl_gemm_kind g = kind(k);

	/* B (K,N) = W^T: element (k, j) at W[j*ldw + k] */
	tl_gemm_blocked(p, k, &g, M, N, K, A, lda, 1, W, 1, ldw, C, ldc, 0);
}
