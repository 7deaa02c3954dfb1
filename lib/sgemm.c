/*
 * sgemm.c: fp32 matrix product with arbitrary strides.
 */
#include "kernels.h"

typedef struct {
	int M, N, K;
	const float *A, *B;
	long ars, acs, brs, bcs, ldc;
	float *C;
	int acc;
} gemm_job;

/* One row of C. */
static void
gemm_row(void *ctx, int i)
{
	gemm_job *g = ctx;
	float *c = g->C + (long)i * g->ldc, s;
	int j, k;

	for (j = 0; j < g->N; j++) {
		s = 0;
		for (k = 0; k < g->K; k++)
			s += g->A[i * g->ars + k * g->acs] *
			    g->B[k * g->brs + j * g->bcs];
		c[j] = g->acc ? c[j] + s : s;
	}
}

void
tl_sgemm(tl_pool *p, int M, int N, int K, const float *A, long ars, long acs,
    const float *B, long brs, long bcs, float *C, long ldc, int accumulate)
{
	gemm_job g = { M, N, K, A, B, ars, acs, brs, bcs, ldc, C, accumulate };

	tl_pool_for(p, M, gemm_row, &g);
}
