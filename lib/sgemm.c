/*
 * sgemm.c: fp32 matrix product with arbitrary strides,
 * C (M,N) = [C +] A (M,K) . B (K,N), packed and cache-blocked.
 *
 * The shape of the classic Goto/BLIS GEMM, kept small:
 *
 *   for each block of at most MBLK rows and NBLK columns of C
 *     for each block of kc <= KCMAX steps of k
 *       pack A's rows into panels of mr rows (a[k*mr + i]) and B's
 *       columns into panels of nr columns (b[k*nr + j]), zero-padded
 *       at the edges                                    (pool, phase 1)
 *       for each task of up to 64 rows x 256 columns of C  (pool, phase 2)
 *         for each B panel (kc x nr: stays in L1)
 *           for each A panel (the task's A block stays in L2)
 *             C tile (mr x nr) [+]= A panel . B panel  (k->gemm_tile)
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
 * shorter one.  The tasks only decide who computes a tile, never how: results
 * do not depend on the number of threads.  Paths differ only through FMA (avx2) and, on
 * i686, the x87 arithmetic of the scalar path.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kernels.h"

#define KCMAX	256	/* k steps per block: a B panel of 256 x 8 is 8 KiB */
#define MBLK	1024	/* rows of A packed at once (memory bound) */
#define NBLK	2048	/* columns of B packed at once */
#define TASKM	64	/* rows of C per task: the A block, 64 KiB */
#define TASKN	256	/* columns of C per task */

typedef struct {
	const tl_kern *k;
	int mr, nr;
	const float *A, *B;
	long ars, acs, brs, bcs, ldc;
	float *C;
	/* the current block: rows [i0, i0+mb), columns [j0, j0+nb), k
	 * steps [k0, k0+kc); acc = 0 stores the first k block */
	int i0, mb, j0, nb, k0, kc, acc;
	int mp, np;		/* A and B panels in the block */
	int tmp, tnp;		/* panels per task, rows and columns */
	int tn;			/* tasks across the columns */
	float *pa, *pb;		/* the packed panels */
} gemm;

static void
pack_a(gemm *g, int p, float *dst)
{
	int r = g->i0 + p * g->mr, w = g->i0 + g->mb - r;

	g->k->gemm_pack(dst, g->mr, g->A + r * g->ars + g->k0 * g->acs,
	    g->ars, g->acs, w < g->mr ? w : g->mr, g->kc);
}

static void
pack_b(gemm *g, int p, float *dst)
{
	int c = g->j0 + p * g->nr, w = g->j0 + g->nb - c;

	g->k->gemm_pack(dst, g->nr, g->B + g->k0 * g->brs + c * g->bcs,
	    g->bcs, g->brs, w < g->nr ? w : g->nr, g->kc);
}

/* Phase 1, item p: one A panel (p < mp) or B panel. */
static void
job_pack(void *ctx, int p)
{
	gemm *g = ctx;

	if (p < g->mp)
		pack_a(g, p, g->pa + (long)p * g->kc * g->mr);
	else {
		p -= g->mp;
		pack_b(g, p, g->pb + (long)p * g->kc * g->nr);
	}
}

/* The tile of A panel ip and B panel jp of the current block. */
static void
tile(gemm *g, const float *pa, const float *pb, int ip, int jp)
{
	int r = ip * g->mr, c = jp * g->nr;
	int m = g->mb - r, n = g->nb - c;

	g->k->gemm_tile(g->kc, pa, pb,
	    g->C + (long)(g->i0 + r) * g->ldc + g->j0 + c, g->ldc,
	    m < g->mr ? m : g->mr, n < g->nr ? n : g->nr, g->acc);
}

/* Phase 2, item t: a task of tmp x tnp panels. */
static void
job_compute(void *ctx, int t)
{
	gemm *g = ctx;
	int ia = t / g->tn * g->tmp, ib = ia + g->tmp;
	int ja = t % g->tn * g->tnp, jb = ja + g->tnp;
	int ip, jp;

	if (ib > g->mp)
		ib = g->mp;
	if (jb > g->np)
		jb = g->np;
	for (jp = ja; jp < jb; jp++)
		for (ip = ia; ip < ib; ip++)
			tile(g, g->pa + (long)ip * g->kc * g->mr,
			    g->pb + (long)jp * g->kc * g->nr, ip, jp);
}

static int
cdiv(int a, int b)
{
	return (a + b - 1) / b;
}

/* Tasks of about TASKM x TASKN, smaller when there would be fewer
 * than four per thread: only who computes a tile changes, not how. */
static void
task_shape(gemm *g, int threads)
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

static float *
align64(void *p)
{
	return (float *)(((uintptr_t)p + 63) & ~(uintptr_t)63);
}

/* Without memory for the packed blocks: the same tiles in the same
 * order of sums, one panel of each at a time on the stack, serially. */
static void
gemm_small(gemm *g, int nkb, int K, int accumulate)
{
	float raw[KCMAX * (TL_GEMM_MAXMR + TL_GEMM_MAXNR) + 16];
	float *pa = align64(raw), *pb = pa + KCMAX * TL_GEMM_MAXMR;
	int kb, ip, jp;

	g->i0 = g->j0 = 0;
	for (kb = 0; kb < nkb; kb++) {
		g->k0 = kb * KCMAX;
		g->kc = K - g->k0 < KCMAX ? K - g->k0 : KCMAX;
		g->acc = accumulate || kb > 0;
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
tl_sgemm(tl_pool *p, int M, int N, int K, const float *A, long ars, long acs,
    const float *B, long brs, long bcs, float *C, long ldc, int accumulate)
{
	gemm g;
	void *mem;
	size_t asz;
	int mbp, nbp, nkb, kb, i0, j0, i, j;

	if (M <= 0 || N <= 0)
		return;
	if (K <= 0) {
		if (!accumulate)
			for (i = 0; i < M; i++)
				for (j = 0; j < N; j++)
					C[(long)i * ldc + j] = 0;
		return;
	}
	memset(&g, 0, sizeof g);
	g.k = tl_k();
	g.mr = g.k->gemm_mr;
	g.nr = g.k->gemm_nr;
	g.A = A;
	g.B = B;
	g.ars = ars;
	g.acs = acs;
	g.brs = brs;
	g.bcs = bcs;
	g.C = C;
	g.ldc = ldc;
	/* K blocks [0, KCMAX), [KCMAX, 2 KCMAX), ... */
	nkb = cdiv(K, KCMAX);
	/* Block sizes in whole panels. */
	mbp = MBLK / g.mr;
	nbp = NBLK / g.nr;

	i = cdiv(M, g.mr) < mbp ? cdiv(M, g.mr) : mbp;
	j = cdiv(N, g.nr) < nbp ? cdiv(N, g.nr) : nbp;
	/* A's panels, rounded up to 64 bytes, then B's (the largest k
	 * block's); every B panel starts 64-byte aligned, A's 16. */
	kb = K < KCMAX ? K : KCMAX;
	asz = ((size_t)i * g.mr * kb + 15) & ~(size_t)15;
	mem = malloc((asz + (size_t)j * g.nr * kb) * sizeof(float) + 64);
	if (mem == NULL) {
		g.mb = M;
		g.nb = N;
		g.mp = cdiv(M, g.mr);
		g.np = cdiv(N, g.nr);
		gemm_small(&g, nkb, K, accumulate);
		return;
	}
	g.pa = align64(mem);
	g.pb = g.pa + asz;

	for (i0 = 0; i0 < M; i0 += g.mb) {
		g.i0 = i0;
		g.mb = M - i0 < mbp * g.mr ? M - i0 : mbp * g.mr;
		g.mp = cdiv(g.mb, g.mr);
		for (j0 = 0; j0 < N; j0 += g.nb) {
			g.j0 = j0;
			g.nb = N - j0 < nbp * g.nr ? N - j0 : nbp * g.nr;
			g.np = cdiv(g.nb, g.nr);
			task_shape(&g, tl_pool_threads(p));
			for (kb = 0; kb < nkb; kb++) {
				g.k0 = kb * KCMAX;
				g.kc = K - g.k0 < KCMAX ? K - g.k0 : KCMAX;
				g.acc = accumulate || kb > 0;
				tl_pool_for(p, g.mp + g.np, job_pack, &g);
				tl_pool_for(p, cdiv(g.mp, g.tmp) * g.tn,
				    job_compute, &g);
			}
		}
	}
	free(mem);
}
