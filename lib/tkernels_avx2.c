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

/* Groups of 64 weights between two widenings (see tkernels_ssse3.c). */
#define WIDEN 16

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

/* Rows [r, r + R) from group g to g1, two groups per step (the last
 * odd group with an empty upper half: its codes are zero, so are its
 * activations' products). */
AVX2 void
tl_matvec_tq2_avx2(int32_t *s, const uint8_t *w, long ldw, int m, int n,
    const tl_xq8 *x)
{
	const __m256i m3 = _mm256_set1_epi8(3), one = _mm256_set1_epi16(1);
	const uint8_t zero[16] = { 0 };
	const int8_t zq[64] = { 0 };
	int r = 0, g, g1, ng = n / 64, k;

	for (; r < m; r += 4) {
		int nr = m - r < 4 ? m - r : 4;
		const uint8_t *w0 = w + r * ldw;
		__m256i s0 = _mm256_setzero_si256(), s1 = s0, s2 = s0, s3 = s0;

		for (g = 0; g < ng; g = g1) {
			__m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0;
			__m256i a3 = a0;

			g1 = g + WIDEN < ng ? g + WIDEN : ng;
			for (; g < g1; g += 2) {
				const int8_t *q0 = x->q + 64 * g;
				const int8_t *q1 = g + 1 < g1 ? q0 + 64 : zq;
				__m256i x0 = LDU2(q0, q1);
				__m256i x1 = LDU2(q0 + 16, q1 + 16);
				__m256i x2 = LDU2(q0 + 32, q1 + 32);
				__m256i x3 = LDU2(q0 + 48, q1 + 48), v;

#define ROW(k, a) \
	v = LDU2(w0 + (k) * ldw + 16 * g, g + 1 < g1 ? \
	    w0 + (k) * ldw + 16 * g + 16 : zero); \
	a = _mm256_add_epi16(a, _mm256_maddubs_epi16(CODES(v, 0), x0)); \
	a = _mm256_add_epi16(a, _mm256_maddubs_epi16(CODES(v, 1), x1)); \
	a = _mm256_add_epi16(a, _mm256_maddubs_epi16(CODES(v, 2), x2)); \
	a = _mm256_add_epi16(a, _mm256_maddubs_epi16(CODES(v, 3), x3));
				ROW(0, a0)
				if (nr > 1) {
					ROW(1, a1)
				}
				if (nr > 2) {
					ROW(2, a2)
				}
				if (nr > 3) {
					ROW(3, a3)
				}
#undef ROW
			}
			s0 = _mm256_add_epi32(s0, _mm256_madd_epi16(a0, one));
			s1 = _mm256_add_epi32(s1, _mm256_madd_epi16(a1, one));
			s2 = _mm256_add_epi32(s2, _mm256_madd_epi16(a2, one));
			s3 = _mm256_add_epi32(s3, _mm256_madd_epi16(a3, one));
		}
		for (k = 0; k < nr; k++)
			s[r + k] = hsum32(k == 0 ? s0 : k == 1 ? s1 : k == 2 ?
			    s2 : s3) - x->sum;
	}
}

#define G(i) t##i = _mm256_fmadd_ps(b, _mm256_loadu_ps(x + 8 * i), t##i)
#define OUT(i) do { \
	if (acc) \
		t##i = _mm256_add_ps(_mm256_loadu_ps(y + j + 8 * i), t##i); \
	_mm256_storeu_ps(y + j + 8 * i, t##i); \
} while (0)

AVX2 void
tl_gemv_t_avx2(float *y, const float *a, const float *X, long ldx, int m,
    int n, int acc)
{
	__m256 b;
	int j = 0, u;

	for (; j + 64 <= n; j += 64) {
		const float *x = X + j;
		__m256 t0 = _mm256_setzero_ps(), t1 = t0, t2 = t0, t3 = t0;
		__m256 t4 = t0, t5 = t0, t6 = t0, t7 = t0;

		for (u = 0; u < m; u++, x += ldx) {
			b = _mm256_broadcast_ss(a + u);
			G(0); G(1); G(2); G(3); G(4); G(5); G(6); G(7);
		}
		OUT(0); OUT(1); OUT(2); OUT(3); OUT(4); OUT(5); OUT(6); OUT(7);
	}
	for (; j + 8 <= n; j += 8) {
		const float *x = X + j;
		__m256 t0 = _mm256_setzero_ps();

		for (u = 0; u < m; u++, x += ldx) {
			b = _mm256_broadcast_ss(a + u);
			G(0);
		}
		OUT(0);
	}
#undef G
#undef OUT
	for (; j < n; j++) {
		float s = 0;

		for (u = 0; u < m; u++)
			s = _mm_cvtss_f32(_mm_fmadd_ss(_mm_set_ss(a[u]),
			    _mm_set_ss(X[u * ldx + j]), _mm_set_ss(s)));
		y[j] = acc ? y[j] + s : s;
	}
}

#endif /* TL_X86 */
