/*
 * tkernels_avx2.c: the kernels of inference that AVX2 makes faster
 * (an extra path: the baseline is SSE2).
 *
 * tq2: vpmaddubsw on 32 bytes, two groups of 64 weights per load (one
 * in each 128-bit lane, so the codes keep the order of the SSSE3
 * kernel within each lane), the activations of the two groups joined
 * into one register; the same exact integer sums, the reference's bits.
 *
 * scores_u8 and attv_u8: each 16 bytes zero-extended to 16 words in
 * order (vpmovzxbw), then vpmaddwd as in tkernels_sse2.c; exact.
 *
 * gemv_t: 8-wide fused multiply-adds, one running sum per column in
 * increasing u from zero, as the AVX2 GEMM tile sums (kernels_avx2.c):
 * so inference's attention keeps tl_sgemm's bits on this path too; the
 * fused rounding differs from the reference within the tests'
 * tolerance.
 */
#include <string.h>

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

/* The 16 bytes at p as 16 words. */
#define WIDE(p) _mm256_cvtepu8_epi16(LDU(p))

AVX2 void
tl_scores_u8_avx2(int32_t *s, const uint8_t *k, long ldk, int n,
    const int16_t *q, int hs)
{
	int u = 0, i, h16 = hs / 16 * 16;

	for (; u + 4 <= n; u += 4) {
		const uint8_t *k0 = k + u * ldk;
		__m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
		__m128i x0, x1;

		for (i = 0; i < h16; i += 16) {
			__m256i qq = _mm256_loadu_si256((const __m256i *)
			    (const void *)(q + i));

			a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(WIDE(k0 + i),
			    qq));
			a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(WIDE(k0 +
			    ldk + i), qq));
			a2 = _mm256_add_epi32(a2, _mm256_madd_epi16(WIDE(k0 +
			    2 * ldk + i), qq));
			a3 = _mm256_add_epi32(a3, _mm256_madd_epi16(WIDE(k0 +
			    3 * ldk + i), qq));
		}
		/* lane r of the result: the sum of a_r's lanes */
		a0 = _mm256_hadd_epi32(a0, a1);
		a2 = _mm256_hadd_epi32(a2, a3);
		a0 = _mm256_hadd_epi32(a0, a2);
		x0 = _mm256_castsi256_si128(a0);
		x1 = _mm256_extracti128_si256(a0, 1);
		_mm_storeu_si128((__m128i *)(void *)(s + u),
		    _mm_add_epi32(x0, x1));
		tl_scores_u8_tail4(s + u, k0, ldk, q, h16, hs);
	}
	if (u < n)
		tl_scores_u8_ref(s + u, k + u * ldk, ldk, n - u, q, hs);
}

AVX2 void
tl_attv_u8_avx2(int32_t *o, const uint8_t *v, long ldv, const int16_t *w,
    int np, int n)
{
	const uint8_t *p;
	int32_t pair;
	int i = 0, j;

	/* 16 channels a pass: 32 bytes a pair of positions */
	for (; i + 16 <= n; i += 16) {
		__m256i a0 = _mm256_setzero_si256(), a1 = a0, ww;

		for (j = 0, p = v + 2 * i; j < np; j++, p += ldv) {
			memcpy(&pair, w + 2 * j, 4);
			ww = _mm256_set1_epi32(pair);
			a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(WIDE(p), ww));
			a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(WIDE(p + 16),
			    ww));
		}
		_mm256_storeu_si256((__m256i *)(void *)(o + i), a0);
		_mm256_storeu_si256((__m256i *)(void *)(o + i + 8), a1);
	}
	if (i < n)
		tl_attv_u8_ref(o + i, v + 2 * i, ldv, w, np, n - i);
}

#endif /* TL_X86 */
