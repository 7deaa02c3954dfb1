/*
 * tkernels_ssse3.c: the ternary kernel (tkernels_ref.c) on SSSE3,
 * whose pmaddubsw multiplies unsigned bytes by signed bytes and adds
 * pairs into 16-bit lanes: the 2-bit codes c = t + 1 (0, 1, 2) are
 * the unsigned operand, the int8 activations the signed one, 16
 * weights per instruction; the sum of the activations comes off once
 * per row (sum c x - sum x = sum t x).
 *
 * A pair's sum is at most 2 * 2 * 128 = 512 in magnitude, so 64 of
 * them fit a 16-bit lane (64 * 512 = 32768, and the positive side
 * stops at 64 * 508): the 16-bit sums are widened to 32 bits (pmaddwd
 * by ones) every 16 groups of 64 weights.  Exact, so the reference's
 * bits.  Four rows at a time share the activation loads.
 *
 * Compiled with a target attribute (see kernels_sse2.c).
 */
#include "kernels_impl.h"

#ifdef TL_X86
#include <tmmintrin.h>

#define SSSE3 __attribute__((target("ssse3")))

#define LD(p) _mm_load_si128((const __m128i *)(const void *)(p))
#define LDU(p) _mm_loadu_si128((const __m128i *)(const void *)(p))

/* Codes of weights 16i .. 16i+15 of the group in v, as bytes. */
#define CODES(v, i) _mm_and_si128(_mm_srli_epi16(v, 2 * (i)), m3)
#define WROW(k) LDU(w0 + (k) * ldw + 16 * g)
#define DOT(a, c, x) _mm_add_epi16(a, _mm_maddubs_epi16(c, x))
#define WIDEN(s, a) _mm_add_epi32(s, _mm_madd_epi16(a, one))

SSSE3 void
tl_matvec_tq2_ssse3(TL_MATVEC_T_ARGS)
{
	const __m128i m3 = _mm_set1_epi8(3), one = _mm_set1_epi16(1);
	int r = 0, g, g1, ng = n / 64;

	for (; r + 4 <= m; r += 4) {
		const uint8_t *w0 = w + r * ldw;
		TL_ZERO4(__m128i, s, _mm_setzero_si128());

		for (g = 0; g < ng; g = g1) {
			TL_ZERO4(__m128i, a, _mm_setzero_si128());

			g1 = g + TL_TQ2_GROUPS < ng ? g + TL_TQ2_GROUPS : ng;
			for (; g < g1; g++) {
				const int8_t *q = x->q + 64 * g;
				__m128i x0 = LD(q), x1 = LD(q + 16);
				__m128i x2 = LD(q + 32), x3 = LD(q + 48), v;

				TL_TQ2_ROW(0, a0);
				TL_TQ2_ROW(1, a1);
				TL_TQ2_ROW(2, a2);
				TL_TQ2_ROW(3, a3);
			}
			TL_TQ2_WIDEN4();
		}
		s[r] = tl_hsum32_sse2(s0) - x->sum;
		s[r + 1] = tl_hsum32_sse2(s1) - x->sum;
		s[r + 2] = tl_hsum32_sse2(s2) - x->sum;
		s[r + 3] = tl_hsum32_sse2(s3) - x->sum;
	}
	for (; r < m; r++) {
		const uint8_t *w0 = w + r * ldw;
		__m128i s0 = _mm_setzero_si128();

		for (g = 0; g < ng; g = g1) {
			__m128i a0 = _mm_setzero_si128(), v;

			g1 = g + TL_TQ2_GROUPS < ng ? g + TL_TQ2_GROUPS : ng;
			for (; g < g1; g++) {
				const int8_t *q = x->q + 64 * g;

				v = LDU(w0 + 16 * g);
				a0 = _mm_add_epi16(a0, _mm_maddubs_epi16(
				    CODES(v, 0), LD(q)));
				a0 = _mm_add_epi16(a0, _mm_maddubs_epi16(
				    CODES(v, 1), LD(q + 16)));
				a0 = _mm_add_epi16(a0, _mm_maddubs_epi16(
				    CODES(v, 2), LD(q + 32)));
				a0 = _mm_add_epi16(a0, _mm_maddubs_epi16(
				    CODES(v, 3), LD(q + 48)));
			}
			s0 = WIDEN(s0, a0);
		}
		s[r] = tl_hsum32_sse2(s0) - x->sum;
	}
}

#endif /* TL_X86 */
