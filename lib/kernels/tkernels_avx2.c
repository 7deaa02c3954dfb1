/*
 * tkernels_avx2.c: the kernels of inference that AVX2 makes faster
 * (an extra path: the baseline is SSE2).
 *
 * tq2: vpmaddubsw on 32 bytes, two groups of 64 weights per load (one
 * in each 128-bit lane, so the codes keep the order of the SSSE3
 * kernel within each lane), the activations of the two groups joined
 * into one register; the same exact integer sums, the reference's bits.
 *
 * gemv_t: 8-wide fused multiply-adds, one running sum per column in
 * increasing u from zero, as the AVX2 GEMM tile sums (kernels_avx2.c):
 * so inference's attention keeps tl_sgemm's bits on this path too; the
 * fused rounding differs from the reference within the tests'
 * tolerance.
 */
#include "kernels_impl.h"

#ifdef TL_X86
#include <immintrin.h>

#define AVX2 __attribute__((target("avx2,fma")))

AVX2 static int32_t
hsum32(__m256i v)
{
	__m128i x = _mm_add_epi32(_mm256_castsi256_si128(v),
	    _mm256_extracti128_si256(v, 1));

	x = _mm_add_epi32(x, _mm_shuffle_epi32(x, 0x4e));
	x = _mm_add_epi32(x, _mm_shuffle_epi32(x, 0xb1));
	return _mm_cvtsi128_si32(x);
}

#define LDU(p) _mm_loadu_si128((const __m128i *)(const void *)(p))
#define LDU2(lo, hi) _mm256_inserti128_si256(_mm256_castsi128_si256( \
	LDU(lo)), LDU(hi), 1)
#define CODES(v, i) _mm256_and_si256(_mm256_srli_epi16(v, 2 * (i)), m3)
#define WROW(k) LDU2(w0 + (k) * ldw + 16 * g, g + 1 < g1 ? \
	w0 + (k) * ldw + 16 * g + 16 : zero)
#define DOT(a, c, x) _mm256_add_epi16(a, _mm256_maddubs_epi16(c, x))
#define WIDEN(s, a) _mm256_add_epi32(s, _mm256_madd_epi16(a, one))

/* Rows [r, r + R) from group g to g1, two groups per step (the last
 * odd group with an empty upper half: its codes are zero, so are its
 * activations' products). */
AVX2 void
tl_matvec_tq2_avx2(TL_MATVEC_T_ARGS)
{
	const uint8_t zero[16] = { 0 };
	const __m256i m3 = _mm256_set1_epi8(3), one = _mm256_set1_epi16(1);
	const int8_t zq[64] = { 0 };
	int r = 0, g, g1, ng = n / 64, k;

	for (; r < m; r += 4) {
		int nr = m - r < 4 ? m - r : 4;
		const uint8_t *w0 = w + r * ldw;
		TL_ZERO4(__m256i, s, _mm256_setzero_si256());

		for (g = 0; g < ng; g = g1) {
			TL_ZERO4(__m256i, a, _mm256_setzero_si256());

			g1 = g + TL_TQ2_GROUPS < ng ? g + TL_TQ2_GROUPS : ng;
			for (; g < g1; g += 2) {
				const int8_t *q0 = x->q + 64 * g;
				const int8_t *q1 = g + 1 < g1 ? q0 + 64 : zq;
				__m256i x0 = LDU2(q0, q1);
				__m256i x1 = LDU2(q0 + 16, q1 + 16);
				__m256i x2 = LDU2(q0 + 32, q1 + 32);
				__m256i x3 = LDU2(q0 + 48, q1 + 48), v;

				TL_TQ2_ROW(0, a0);
				if (nr > 1)
					TL_TQ2_ROW(1, a1);
				if (nr > 2)
					TL_TQ2_ROW(2, a2);
				if (nr > 3)
					TL_TQ2_ROW(3, a3);
			}
			TL_TQ2_WIDEN4();
		}
		for (k = 0; k < nr; k++)
			s[r + k] = hsum32(k == 0 ? s0 : k == 1 ? s1 : k == 2 ?
			    s2 : s3) - x->sum;
	}
}

#define V __m256
#define ZERO _mm256_setzero_ps()
#define BCAST(u) _mm256_broadcast_ss(a + (u))
#define G(i) t##i = _mm256_fmadd_ps(b, _mm256_loadu_ps(x + 8 * i), t##i)
#define OUT(i) TL_GEMV_OUT(i, 8, _mm256_loadu_ps, _mm256_add_ps, _mm256_storeu_ps)

/* 64 columns at a time in eight registers, then 8, then one. */
AVX2 void
tl_gemv_t_avx2(TL_GEMV_T_ARGS)
{
	__m256 b;
	int j = 0, u;

	TL_GEMV_T_BLOCKS(8, 8)
	TL_GEMV_T_BLOCKS(1, 8)
	for (; j < n; j++) {
		float s = 0;

		for (u = 0; u < m; u++)
			s = _mm_cvtss_f32(_mm_fmadd_ss(_mm_set_ss(a[u]),
			    _mm_set_ss(X[u * ldx + j]), _mm_set_ss(s)));
		y[j] = acc ? y[j] + s : s;
	}
}

#endif /* TL_X86 */
