/*
 * kernels_avx2.c: the kernels that AVX2 with FMA makes faster: the GEMM
 * tile, 6 x 16 in twelve ymm accumulators, one fused multiply-add per
 * product.  Still one running sum per element in increasing k, but
 * with fused rounding, so its results differ from the other paths'
 * (within the tests' tolerance); and the int8 x ternary tile of
 * tl_tgemm.  The other kernels of the path are SSE's (dispatch.c):
 * they are bound by memory, not arithmetic.
 */
#include "kernels_impl.h"

#ifdef TL_X86
#include <stdint.h>
#include <immintrin.h>

#define AVX2 __attribute__((target("avx2,fma")))

#define MR TL_AVX2_MR
#define NR TL_AVX2_NR

AVX2 void
tl_gemm_tile_avx2(int K, const void *pa, const void *pb, float *c, long ldc,
    int m, int n, int acc)
{
	const float *a = pa, *b = pb;
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

/*
 * The int8 x ternary tile of tl_tgemm, 4 x 16, on the panels of the
 * SSSE3 path (kernels_ssse3.c explains them and the code + 1 trick):
 * vpmaddubsw does sixteen pairs of byte products per instruction into
 * int16 sums, widened to int32 every 63 groups of four k steps.
 */
#define TNR 16
#define GROUPS 63

AVX2 void
tl_tgemm_tile_avx2(int kc, const void *a, const void *b, float *c, long ldc,
    int m, int n, int acc)
{
	const int32_t *pa = a;
	const __m256i *pb = b, ones = _mm256_set1_epi16(1);
	__m256i s[8], h00, h01, h10, h11, h20, h21, h30, h31, b0, b1, t;
	float tile[4 * TNR];
	int ng = (kc + 3) / 4, g = 0, e, i, j;

	for (i = 0; i < 8; i++)
		s[i] = _mm256_setzero_si256();
	while (g < ng) {
		e = g + GROUPS < ng ? g + GROUPS : ng;
		h00 = h01 = h10 = h11 = _mm256_setzero_si256();
		h20 = h21 = h30 = h31 = h00;
		for (; g < e; g++) {
			b0 = _mm256_load_si256(pb + 2 * g);
			b1 = _mm256_load_si256(pb + 2 * g + 1);
			t = _mm256_set1_epi32(pa[4 * g]);
			h00 = _mm256_add_epi16(h00, _mm256_maddubs_epi16(b0, t));
			h01 = _mm256_add_epi16(h01, _mm256_maddubs_epi16(b1, t));
			t = _mm256_set1_epi32(pa[4 * g + 1]);
			h10 = _mm256_add_epi16(h10, _mm256_maddubs_epi16(b0, t));
			h11 = _mm256_add_epi16(h11, _mm256_maddubs_epi16(b1, t));
			t = _mm256_set1_epi32(pa[4 * g + 2]);
			h20 = _mm256_add_epi16(h20, _mm256_maddubs_epi16(b0, t));
			h21 = _mm256_add_epi16(h21, _mm256_maddubs_epi16(b1, t));
			t = _mm256_set1_epi32(pa[4 * g + 3]);
			h30 = _mm256_add_epi16(h30, _mm256_maddubs_epi16(b0, t));
			h31 = _mm256_add_epi16(h31, _mm256_maddubs_epi16(b1, t));
			/* keep the sums in registers (kernels_ssse3.c) */
			__asm__("" : "+x"(h00), "+x"(h01), "+x"(h10), "+x"(h11));
			__asm__("" : "+x"(h20), "+x"(h21), "+x"(h30), "+x"(h31));
		}
		s[0] = _mm256_add_epi32(s[0], _mm256_madd_epi16(h00, ones));
		s[1] = _mm256_add_epi32(s[1], _mm256_madd_epi16(h01, ones));
		s[2] = _mm256_add_epi32(s[2], _mm256_madd_epi16(h10, ones));
		s[3] = _mm256_add_epi32(s[3], _mm256_madd_epi16(h11, ones));
		s[4] = _mm256_add_epi32(s[4], _mm256_madd_epi16(h20, ones));
		s[5] = _mm256_add_epi32(s[5], _mm256_madd_epi16(h21, ones));
		s[6] = _mm256_add_epi32(s[6], _mm256_madd_epi16(h30, ones));
		s[7] = _mm256_add_epi32(s[7], _mm256_madd_epi16(h31, ones));
	}
	/* minus the row sums that follow the groups */
	for (i = 0; i < 4; i++)
		for (j = 0; j < 2; j++) {
			__m256 x = _mm256_cvtepi32_ps(_mm256_sub_epi32(s[2 * i + j],
			    _mm256_set1_epi32(pa[4 * ng + i])));
			float *p = c + i * ldc + 8 * j;

			if (m == 4 && n == TNR) {
				if (acc)
					x = _mm256_add_ps(_mm256_loadu_ps(p), x);
				_mm256_storeu_ps(p, x);
			} else
				_mm256_storeu_ps(tile + i * TNR + 8 * j, x);
		}
	if (m == 4 && n == TNR)
		return;
	for (i = 0; i < m; i++)
		for (j = 0; j < n; j++)
			c[i * ldc + j] = acc ? c[i * ldc + j] + tile[i * TNR + j] :
			    tile[i * TNR + j];
}

#endif /* TL_X86 */
