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

/* Store (acc = 0) or add the top-left m x n of a tile of mr rows of
 * 16, row i in r[2i] and r[2i + 1]: both tiles' last step. */
AVX2 static inline void
tile_out(const __m256 *r, int mr, float *c, long ldc, int m, int n, int acc)
{
	float t[MR * NR];
	int i, j;

	if (m == mr && n == NR) {
		for (i = 0; i < mr; i++)
			for (j = 0; j < 2; j++) {
				float *p = c + i * ldc + 8 * j;
				__m256 x = r[2 * i + j];

				if (acc)
					x = _mm256_add_ps(_mm256_loadu_ps(p), x);
				_mm256_storeu_ps(p, x);
			}
		return;
	}
	for (i = 0; i < 2 * mr; i++)
		_mm256_storeu_ps(t + 8 * i, r[i]);
	for (i = 0; i < m; i++)
		for (j = 0; j < n; j++)
			c[i * ldc + j] = acc ? c[i * ldc + j] + t[i * NR + j] :
			    t[i * NR + j];
}

#define BC(i) _mm256_broadcast_ss(a + (i))
#define ACC(s, x, y) _mm256_fmadd_ps(x, y, s)

AVX2 void
tl_gemm_tile_avx2(int K, const void *pa, const void *pb, float *c, long ldc,
    int m, int n, int acc)
{
	const float *a = pa, *b = pb;
	TL_SUMS_4X2(__m256, c, _mm256_setzero_ps());
	__m256 c40 = c00, c41 = c00, c50 = c00, c51 = c00;
	__m256 b0, b1, t, r[2 * MR];
	int k;

	for (k = 0; k < K; k++, a += MR, b += NR) {
		b0 = _mm256_load_ps(b);
		b1 = _mm256_load_ps(b + 8);
		TL_TILE_4X2(c);
		TL_TILE_ROW2(c40, c41, BC(4));
		TL_TILE_ROW2(c50, c51, BC(5));
	}
	TL_SUMS_OUT_4X2(r, c, TL_SAME);
	r[8] = c40; r[9] = c41; r[10] = c50; r[11] = c51;
	tile_out(r, MR, c, ldc, m, n, acc);
}
#undef BC
#undef ACC

/*
 * The int8 x ternary tile of tl_tgemm, 4 x 16, on the panels of the
 * SSSE3 path (kernels_ssse3.c explains them and the code + 1 trick):
 * vpmaddubsw does sixteen pairs of byte products per instruction into
 * int16 sums, widened to int32 every 63 groups of four k steps
 * (TL_BYTE_GROUPS_4X2).
 */
#define BC(i) _mm256_set1_epi32(pa[4 * g + (i)])
#define ACC(s, x, y) _mm256_add_epi16(s, _mm256_maddubs_epi16(y, x))
#define WIDEN(s, h) _mm256_add_epi32(s, _mm256_madd_epi16(h, ones))
#define LOAD(g) do { \
	b0 = _mm256_load_si256(pb + 2 * (g)); \
	b1 = _mm256_load_si256(pb + 2 * (g) + 1); \
} while (0)

AVX2 void
tl_tgemm_tile_avx2(int kc, const void *a, const void *b, float *c, long ldc,
    int m, int n, int acc)
{
	const int32_t *pa = a;
	const __m256i *pb = b, ones = _mm256_set1_epi16(1);
	__m256i s[8], h00, h01, h10, h11, h20, h21, h30, h31, b0, b1, t;
	__m256 r[8];
	int ng = (kc + 3) / 4, g = 0, e, i;

	TL_BYTE_GROUPS_4X2(_mm256_setzero_si256(), LOAD);
	/* minus the row sums that follow the groups */
	for (i = 0; i < 8; i++)
		r[i] = _mm256_cvtepi32_ps(_mm256_sub_epi32(s[i],
		    _mm256_set1_epi32(pa[4 * ng + i / 2])));
	tile_out(r, 4, c, ldc, m, n, acc);
}
#undef BC
#undef ACC
#undef WIDEN
#undef LOAD

#endif /* TL_X86 */
