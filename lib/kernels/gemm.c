/*
 * gemm.c: the packed, cache-blocked matrix product driver shared by
 * tl_sgemm (fp32, sgemm.c) and tl_tgemm (int8 x ternary, tgemm.c),
 * C (M,N) = [C +] A (M,K) . B (K,N) with arbitrary strides.
 *
 * The shape of the classic Goto/BLIS GEMM, kept small:
 *
 *   for each block of at most MBLK rows and NBLK columns of C
 *     for each block of kc steps of k (at fixed positions: [0, kc),
 *     [kc, 2 kc), ...)
 *       pack A's rows into panels of mr rows and B's columns into
 *       panels of nr columns, zero-padded at the edges, in the
 *       layout the tile wants                           (pool, phase 1)
 *       for each task of up to 64 rows x 256 columns of C  (pool, phase 2)
 *         for each B panel (kc x nr: stays in L1)
 *           for each A panel (the task's A block stays in L2)
 *             C tile (mr x nr) [+]= A panel . B panel
 *
 * What a product is, its tile, its packers, its k block and its panel
 * sizes, comes from a tl_gemm_kind (kernels_impl.h).  The tile sums
 * each element of one k block from zero and adds it to C (or stores
 * it, for the first block without accumulate); the tasks only decide
 * who computes a tile, never how, so results do not depend on the
 * number of threads.
 */
#include <stdint.h>
#include <stdlib.h>

#include "kernels_impl.h"

#define MBLK	1024	/* rows of A packed at once (memory bound) */
#define NBLK	2048	/* columns of B packed at once */
#define TASKM	64	/* rows of C per task: the A block, 64 KiB */
#define TASKN	256	/* columns of C per task */

typedef struct {
	const tl_kern *k;
	const tl_gemm_kind *g;
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
	size_t sa, sb;		/* bytes per A and B panel */
	unsigned char *pa, *pb;	/* the packed panels */
} job;

static int
cdiv(int a, int b)
{
	return (a + b - 1) / b;
}

/* Bytes of a panel of R rows for kc k steps, a multiple of 64 so that
 * every panel stays aligned. */
static size_t
panel(const tl_gemm_kind *g, int R, int kc)
{
	size_t b = (size_t)R * ((size_t)g->esz * ((kc + 3) & ~3) + g->rowx);

	return (b + 63) & ~(size_t)63;
}

static void
pack_a(job *j, int p, void *dst)
{
	int r = j->i0 + p * j->mr, w = j->i0 + j->mb - r;

	j->g->pack_a(j->k, dst, j->mr, j->A + r * j->ars + j->k0 * j->acs,
	    j->ars, j->acs, w < j->mr ? w : j->mr, j->kc);
}

/* Columns of B are the panel's rows: their stride is bcs. */
static void
pack_b(job *j, int p, void *dst)
{
	int c = j->j0 + p * j->nr, w = j->j0 + j->nb - c;

	j->g->pack_b(j->k, dst, j->nr, j->B + j->k0 * j->brs + c * j->bcs,
	    j->bcs, j->brs, w < j->nr ? w : j->nr, j->kc);
}

/* Phase 1, item p: one A panel (p < mp) or B panel. */
static void
job_pack(void *ctx, int p)
{
	job *j = ctx;

	if (p < j->mp)
		pack_a(j, p, j->pa + p * j->sa);
	else
		pack_b(j, p - j->mp, j->pb + (p - j->mp) * j->sb);
}

/* The tile of A panel ip and B panel jp of the current block. */
static void
tile(job *j, const void *pa, const void *pb, int ip, int jp)
{
	int r = ip * j->mr, c = jp * j->nr;
	int m = j->mb - r, n = j->nb - c;

	j->g->tile(j->kc, pa, pb,
	    j->C + (long)(j->i0 + r) * j->ldc + j->j0 + c, j->ldc,
	    m < j->mr ? m : j->mr, n < j->nr ? n : j->nr, j->acc);
}

/* Phase 2, item t: a task of tmp x tnp panels. */
static void
job_compute(void *ctx, int t)
{
	job *j = ctx;
	int ia = t / j->tn * j->tmp, ib = ia + j->tmp;
	int ja = t % j->tn * j->tnp, jb = ja + j->tnp;
	int ip, jp;

	if (ib > j->mp)
		ib = j->mp;
	if (jb > j->np)
		jb = j->np;
	for (jp = ja; jp < jb; jp++)
		for (ip = ia; ip < ib; ip++)
			tile(j, j->pa + ip * j->sa, j->pb + jp * j->sb, ip, jp);
}

/* Tasks of about TASKM x TASKN, smaller when there would be fewer
 * than four per thread: only who computes a tile changes, not how. */
static void
task_shape(job *j, int threads)
{
	j->tmp = TASKM / j->mr > 0 ? TASKM / j->mr : 1;
	j->tnp = TASKN / j->nr > 0 ? TASKN / j->nr : 1;
	while (cdiv(j->mp, j->tmp) * cdiv(j->np, j->tnp) < 4 * threads &&
	    (j->tmp > 1 || j->tnp > 1)) {
		if (j->tnp > 1 && (j->tnp * j->nr >= j->tmp * j->mr ||
		    j->tmp == 1))
			j->tnp = cdiv(j->tnp, 2);
		else
			j->tmp = cdiv(j->tmp, 2);
	}
	j->tn = cdiv(j->np, j->tnp);
}

static unsigned char *
align64(void *p)
{
	return (unsigned char *)(((uintptr_t)p + 63) & ~(uintptr_t)63);
}

/* The k blocks of the current block of rows and columns, over K. */
static void
k_blocks(tl_pool *p, job *j, int K, int accumulate)
{
	for (j->k0 = 0; j->k0 < K; j->k0 += j->g->kc) {
		j->kc = K - j->k0 < j->g->kc ? K - j->k0 : j->g->kc;
		j->acc = accumulate || j->k0 > 0;
		tl_pool_for(p, j->mp + j->np, job_pack, j);
		tl_pool_for(p, cdiv(j->mp, j->tmp) * j->tn, job_compute, j);
	}
}

/* Without memory for the packed blocks: the same tiles in the same
 * order of sums, one panel of each at a time on the stack, serially. */
static void
gemm_small(job *j, int K, int accumulate)
{
	unsigned char raw[TL_GEMM_STACK + 64];
	unsigned char *pa = align64(raw);
	unsigned char *pb = pa + panel(j->g, TL_GEMM_MAXMR, j->g->kc);
	int ip, jp;

	j->i0 = j->j0 = 0;
	j->mp = cdiv(j->mb, j->mr);
	j->np = cdiv(j->nb, j->nr);
	for (j->k0 = 0; j->k0 < K; j->k0 += j->g->kc) {
		j->kc = K - j->k0 < j->g->kc ? K - j->k0 : j->g->kc;
		j->acc = accumulate || j->k0 > 0;
		for (jp = 0; jp < j->np; jp++) {
			pack_b(j, jp, pb);
			for (ip = 0; ip < j->mp; ip++) {
				pack_a(j, ip, pa);
				tile(j, pa, pb, ip, jp);
			}
		}
	}
}

/* The packed panels of one block of rows and columns, for the largest
 * k block: what tl_gemm_blocked allocates (0 when it has no work). */
size_t
tl_gemm_scratch(const tl_gemm_kind *g, int M, int N, int K)
{
	int kb, i, n;

	if (M <= 0 || N <= 0 || K <= 0)
		return 0;
	kb = K < g->kc ? K : g->kc;
	i = cdiv(M, g->mr) < MBLK / g->mr ? cdiv(M, g->mr) : MBLK / g->mr;
	n = cdiv(N, g->nr) < NBLK / g->nr ? cdiv(N, g->nr) : NBLK / g->nr;
	return i * panel(g, g->mr, kb) + n * panel(g, g->nr, kb) + 64;
}

void
tl_gemm_blocked(tl_pool *p, const tl_kern *k, const tl_gemm_kind *g,
    int M, int N, int K, const float *A, long ars, long acs,
    const float *B, long brs, long bcs, float *C, long ldc, int accumulate)
{
	job j;
	void *mem;
	int mbp, nbp, kb, i, n;

	if (M <= 0 || N <= 0)
		return;
	if (K <= 0) {
		if (!accumulate)
			for (i = 0; i < M; i++)
				for (n = 0; n < N; n++)
					C[(long)i * ldc + n] = 0;
		return;
	}
	j = (job){ .k = k, .g = g, .mr = g->mr, .nr = g->nr, .A = A, .B = B,
	    .ars = ars, .acs = acs, .brs = brs, .bcs = bcs, .C = C, .ldc = ldc };
	/* Block sizes in whole panels, and panels for the largest k
	 * block, every one aligned to 64 bytes. */
	mbp = MBLK / j.mr;
	nbp = NBLK / j.nr;
	kb = K < g->kc ? K : g->kc;
	j.sa = panel(g, j.mr, kb);
	j.sb = panel(g, j.nr, kb);
	i = cdiv(M, j.mr) < mbp ? cdiv(M, j.mr) : mbp;
	mem = malloc(tl_gemm_scratch(g, M, N, K));
	if (mem == NULL) {
		j.mb = M;
		j.nb = N;
		gemm_small(&j, K, accumulate);
		return;
	}
	j.pa = align64(mem);
	j.pb = j.pa + i * j.sa;

	for (j.i0 = 0; j.i0 < M; j.i0 += j.mb) {
		j.mb = M - j.i0 < mbp * j.mr ? M - j.i0 : mbp * j.mr;
		j.mp = cdiv(j.mb, j.mr);
		for (j.j0 = 0; j.j0 < N; j.j0 += j.nb) {
			j.nb = N - j.j0 < nbp * j.nr ? N - j.j0 : nbp * j.nr;
			j.np = cdiv(j.nb, j.nr);
			task_shape(&j, tl_pool_threads(p));
			k_blocks(p, &j, K, accumulate);
		}
	}
	free(mem);
}
