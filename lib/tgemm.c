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
 * The blocking is tl_sgemm's (sgemm.c), in integers:
 *
 *   for each block of at most MBLK rows and NBLK columns of C
 *     for each block of kc <= TL_TGEMM_KC steps of k
 *       pack A's rows into panels of mr rows and W's rows (the columns
 *       of C) into panels of nr, converting to the path's integer
 *       layout                                          (pool, phase 1)
 *       for each task of up to 64 rows x 256 columns    (pool, phase 2)
 *         for each W panel, for each A panel
 *           C tile (mr x nr) [+]= A panel . W panel  (k->tgemm_tile)
 *
 * Every partial sum is an integer of magnitude at most 128 K, exact in
 * a float for K <= 2^17, so adding the k blocks in floats is exact.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kernels.h"

#define KC	TL_TGEMM_KC	/* k steps per block */
#define MBLK	1024		/* rows of A packed at once */
#define NBLK	2048		/* rows of W (columns of C) packed at once */
#define TASKM	64		/* rows of C per task */
#define TASKN	256		/* columns of C per task */

typedef struct {
	const tl_kern *k;
	int mr, nr;
	const float *A, *W;
	long lda, ldw, ldc;
	float *C;
	/* the current block: rows [i0, i0+mb), columns [j0, j0+nb), k
	 * steps [k0, k0+kc); acc = 0 stores the first k block */
	int i0, mb, j0, nb, k0, kc, acc;
	int mp, np;		/* A and W panels in the block */
	int tmp, tnp;		/* panels per task, rows and columns */
	int tn;			/* tasks across the columns */
	size_t sa, sb;		/* bytes per A and W panel */
	unsigned char *pa, *pb;	/* the packed panels */
} tgemm;

static int
cdiv(int a, int b)
{
	return (a + b - 1) / b;
}

/* Panel bytes for R rows, a multiple of 64 so that panels stay aligned. */
static size_t
panel(int R)
{
	return (TL_TGEMM_PANEL(R, KC) + 63) & ~(size_t)63;
}

static void
pack_a(tgemm *g, int p, void *dst)
{
	int r = g->i0 + p * g->mr, w = g->i0 + g->mb - r;

	g->k->tgemm_pack_a(dst, g->mr, g->A + r * g->lda + g->k0, g->lda,
	    w < g->mr ? w : g->mr, g->kc);
}

static void
pack_b(tgemm *g, int p, void *dst)
{
	int r = g->j0 + p * g->nr, w = g->j0 + g->nb - r;

	g->k->tgemm_pack_b(dst, g->nr, g->W + r * g->ldw + g->k0, g->ldw,
	    w < g->nr ? w : g->nr, g->kc);
}

/* Phase 1, item p: one A panel (p < mp) or W panel. */
static void
job_pack(void *ctx, int p)
{
	tgemm *g = ctx;

	if (p < g->mp)
		pack_a(g, p, g->pa + p * g->sa);
	else
		pack_b(g, p - g->mp, g->pb + (p - g->mp) * g->sb);
}

static void
tile(tgemm *g, const void *pa, const void *pb, int ip, int jp)
{
	int r = ip * g->mr, c = jp * g->nr;
	int m = g->mb - r, n = g->nb - c;

	g->k->tgemm_tile(g->kc, pa, pb,
	    g->C + (long)(g->i0 + r) * g->ldc + g->j0 + c, g->ldc,
	    m < g->mr ? m : g->mr, n < g->nr ? n : g->nr, g->acc);
}

/* Phase 2, item t: a task of tmp x tnp panels. */
static void
job_compute(void *ctx, int t)
{
	tgemm *g = ctx;
	int ia = t / g->tn * g->tmp, ib = ia + g->tmp;
	int ja = t % g->tn * g->tnp, jb = ja + g->tnp;
	int ip, jp;

	if (ib > g->mp)
		ib = g->mp;
	if (jb > g->np)
		jb = g->np;
	for (jp = ja; jp < jb; jp++)
		for (ip = ia; ip < ib; ip++)
			tile(g, g->pa + ip * g->sa, g->pb + jp * g->sb, ip, jp);
}

/* Tasks of about TASKM x TASKN, smaller when there would be fewer
 * than four per thread. */
static void
task_shape(tgemm *g, int threads)
{
	g->tmp = TASKM / g->mr > 0 ? TASKM / g->mr : 1;
	g->tnp = TASKN / g->nr > 0 ? TASKN / g->nr : 1;
	while (cdiv(g->mp, g->tmp) * cdiv(g->np, g->tnp) < 4 * threads &&
	    (g->tmp > 1 || g->tnp > 1)) {
		if (g->tnp > 1 && (g->tnp * g->nr >= g->tmp * g->mr ||
		    g->tmp == 1))
			g->tnp = cdiv(g->tnp, 2);
		else
			g->tmp = cdiv(g->tmp, 2);
	}
	g->tn = cdiv(g->np, g->tnp);
}

static unsigned char *
align64(void *p)
{
	return (unsigned char *)(((uintptr_t)p + 63) & ~(uintptr_t)63);
}

/* Without memory for the packed blocks: one panel of each at a time
 * on the stack, serially. */
static void
tgemm_small(tgemm *g, int K)
{
	unsigned char raw[TL_TGEMM_PANEL(TL_GEMM_MAXMR, KC) +
	    TL_TGEMM_PANEL(TL_GEMM_MAXNR, KC) + 192];
	unsigned char *pa = align64(raw), *pb = pa + panel(TL_GEMM_MAXMR);
	int ip, jp;

	g->i0 = g->j0 = 0;
	g->mp = cdiv(g->mb, g->mr);
	g->np = cdiv(g->nb, g->nr);
	for (g->k0 = 0; g->k0 < K; g->k0 += KC) {
		g->kc = K - g->k0 < KC ? K - g->k0 : KC;
		g->acc = g->k0 > 0;
		for (jp = 0; jp < g->np; jp++) {
			pack_b(g, jp, pb);
			for (ip = 0; ip < g->mp; ip++) {
				pack_a(g, ip, pa);
				tile(g, pa, pb, ip, jp);
			}
		}
	}
}

void
tl_tgemm(tl_pool *p, int M, int N, int K, const float *A, long lda,
    const float *W, long ldw, float *C, long ldc)
{
	tgemm g;
	void *mem;
	int mbp, nbp, i, j, i0, j0;

	if (M <= 0 || N <= 0)
		return;
	if (K <= 0) {
		for (i = 0; i < M; i++)
			for (j = 0; j < N; j++)
				C[(long)i * ldc + j] = 0;
		return;
	}
	memset(&g, 0, sizeof g);
	g.k = tl_k();
	g.mr = g.k->tgemm_mr;
	g.nr = g.k->tgemm_nr;
	g.A = A;
	g.W = W;
	g.lda = lda;
	g.ldw = ldw;
	g.C = C;
	g.ldc = ldc;
	g.sa = panel(g.mr);
	g.sb = panel(g.nr);
	mbp = MBLK / g.mr;
	nbp = NBLK / g.nr;
	i = cdiv(M, g.mr) < mbp ? cdiv(M, g.mr) : mbp;
	j = cdiv(N, g.nr) < nbp ? cdiv(N, g.nr) : nbp;
	mem = malloc(i * g.sa + j * g.sb + 64);
	if (mem == NULL) {
		g.mb = M;
		g.nb = N;
		tgemm_small(&g, K);
		return;
	}
	g.pa = align64(mem);
	g.pb = g.pa + i * g.sa;

	for (i0 = 0; i0 < M; i0 += g.mb) {
		g.i0 = i0;
		g.mb = M - i0 < mbp * g.mr ? M - i0 : mbp * g.mr;
		g.mp = cdiv(g.mb, g.mr);
		for (j0 = 0; j0 < N; j0 += g.nb) {
			g.j0 = j0;
			g.nb = N - j0 < nbp * g.nr ? N - j0 : nbp * g.nr;
			g.np = cdiv(g.nb, g.nr);
			task_shape(&g, tl_pool_threads(p));
			for (g.k0 = 0; g.k0 < K; g.k0 += KC) {
				g.kc = K - g.k0 < KC ? K - g.k0 : KC;
				g.acc = g.k0 > 0;
				tl_pool_for(p, g.mp + g.np, job_pack, &g);
				tl_pool_for(p, cdiv(g.mp, g.tmp) * g.tn,
				    job_compute, &g);
			}
		}
	}
	free(mem);
}
