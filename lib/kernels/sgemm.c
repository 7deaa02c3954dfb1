/*
 * sgemm.c: fp32 matrix product with arbitrary strides,
 * C (M,N) = [C +] A (M,K) . B (K,N), on the blocked driver of gemm.c:
 * blocks of 256 k steps, panels of floats.
 *
 * Packing (k->gemm_pack) turns any strides into the unit-stride,
 * aligned streams the micro-kernel (k->gemm_tile) wants, so the three
 * patterns of a linear layer (forward x.W^T, dX = dY.W, dW = dY^T.X)
 * run at the same speed.
 *
 * Order of sums: element (i, j) is, for each k block in increasing k,
 * a running sum from zero over the block's k in increasing order,
 * then added to C (or stored, for the first block without
 * accumulate).  The k blocks sit at fixed positions, [0, 256),
 * [256, 512), ..., so a product whose extra k terms are zero (the
 * causal mask's zeros past a position) gives the values of the
 * shorter one.  Results do not depend on the number of threads.
 * Paths differ only through FMA (avx2) and, on i686, the x87
 * arithmetic of the scalar path.
 */
#include "kernels_impl.h"

#define KC	256	/* k steps per block: a B panel of 256 x 8 is 8 KiB */

/* The driver's stack panels hold the largest tiles' (negative array
 * size if not). */
typedef char stack_fits[(TL_GEMM_MAXMR + TL_GEMM_MAXNR) * KC * 4 + 2 * 64
    <= TL_GEMM_STACK ? 1 : -1];

static void
pack(const tl_kern *k, void *dst, int R, const float *src, long ws, long ks,
    int w, int kc)
{
	k->gemm_pack(dst, R, src, ws, ks, w, kc);
}

/* The kind of product, for the path in use. */
static tl_gemm_kind
kind(const tl_kern *k)
{
	tl_gemm_kind g = { k->gemm_mr, k->gemm_nr, KC, sizeof(float), 0, pack,
	    pack, k->gemm_tile };

	return g;
}

size_t
tl_sgemm_scratch(int M, int N, int K)
{
	tl_gemm_kind g = kind(tl_k());

	return tl_gemm_scratch(&g, M, N, K);
}

void
tl_sgemm(tl_pool *p, int M, int N, int K, const float *A, long ars, long acs,
    const float *B, long brs, long bcs, float *C, long ldc, int accumulate)
{
	const tl_kern *k = tl_k();
	tl_gemm_kind g = kind(k);

	tl_gemm_blocked(p, k, &g, M, N, K, A, ars, acs, B, brs, bcs, C, ldc,
	    accumulate);
}
