/*
 * kernels_avx2.c: the kernels that AVX2 with FMA makes faster: the GEMM
 * tile, 6 x 16 in twelve ymm accumulators, one fused multiply-add per
 * product.  Still one running sum per element in increasing k, but
 * with fused rounding, so its results differ from the other paths'
 * (within the tests' tolerance).  The other kernels of the path are
 * SSE's (dispatch.c): they are bound by memory, not arithmetic.
 */
#include "kernels.h"

#ifdef TL_X86
#include <immintrin.h>

#define AVX2 __attribute__((target("avx2,fma")))

#define MR TL_AVX2_MR
#define NR TL_AVX2_NR

AVX2 void
tl_gemm_tile_avx2(int K, const float *a, const float *b, float *c, long ldc,
    int m, int n, int acc)
{
	__m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00;
	__m256 c20 = c00, c21 = c00, c30 = c00, c31 = c00;
	__m256 c40 = c00, c41 = c00, c50 = c00, c51 = c00;
	__m256 b0, b1, t, r[2 * MR];
	float tile[MR * NR];
	int i, j, k;

	for (k = 0; k < K; k++) {
		b0 = _mm256_load_ps(b);
		b1 = _mm256_load_ps(b + 8);
		t = _mm256_broadcast_ss(a);
		c00 = _mm256_fmadd_ps(t, b0, c00);
		c01 = _mm256_fmadd_ps(t, b1, c01);
		t = _mm256_broadcast_ss(a + 1);
		c10 = _mm256_fmadd_ps(t, b0, c10);
		c11 = _mm256_fmadd_ps(t, b1, c11);
		t = _mm256_broadcast_ss(a + 2);
		c20 = _mm256_fmadd_ps(t, b0, c20);
		c21 = _mm256_fmadd_ps(t, b1, c21);
		t = _mm256_broadcast_ss(a + 3);
		c30 = _mm256_fmadd_ps(t, b0, c30);
		c31 = _mm256_fmadd_ps(t, b1, c31);
		t = _mm256_broadcast_ss(a + 4);
		c40 = _mm256_fmadd_ps(t, b0, c40);
		c41 = _mm256_fmadd_ps(t, b1, c41);
		t = _mm256_broadcast_ss(a + 5);
		c50 = _mm256_fmadd_ps(t, b0, c50);
		c51 = _mm256_fmadd_ps(t, b1, c51);
		a += MR;
		b += NR;
	}
	r[0] = c00; r[1] = c01; r[2] = c10; r[3] = c11;
	r[4] = c20; r[5] = c21; r[6] = c30; r[7] = c31;
	r[8] = c40; r[9] = c41; r[10] = c50; r[11] = c51;
	if (m == MR && n == NR) {
		for (i = 0; i < MR; i++)
			for (j = 0; j < 2; j++) {
				float *p = c + i * ldc + 8 * j;
				__m256 x = r[2 * i + j];

				if (acc)
					x = _mm256_add_ps(_mm256_loadu_ps(p), x);
				_mm256_storeu_ps(p, x);
			}
		return;
	}
	for (i = 0; i < 2 * MR; i++)
		_mm256_storeu_ps(tile + 8 * i, r[i]);
	for (i = 0; i < m; i++)
		for (j = 0; j < n; j++)
			c[i * ldc + j] = acc ? c[i * ldc + j] + tile[i * NR + j] :
			    tile[i * NR + j];
}

#endif /* TL_X86 */
