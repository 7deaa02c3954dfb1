/*
 * tkernels_sse2.c: the kernels of inference (tkernels_ref.c) on SSE2.
 *
 * The matvecs: SSE2 has no byte multiply, so the weights are unpacked
 * into 16-bit lanes and multiplied with pmaddwd against the int16 copy
 * of the activations (tl_xq8.p), whose groups of 16 hold the
 * even-indexed elements first and the odd-indexed ones after, the
 * order in which the 16-bit lanes of a byte vector see its bytes: the
 * low byte of lane k is byte 2k, the high byte is byte 2k+1.
 *
 * Ternary codes c = t + 1 (0, 1, 2) are multiplied as they are, and
 * the sum of the activations is subtracted once per row:
 * sum c x - sum x = sum t x.  Every sum is an exact integer, so the
 * results are the reference's bits.
 *
 * Compiled with a target attribute (see kernels_sse2.c).
 */
#include <string.h>

#include "kernels_impl.h"

#ifdef TL_X86
#include <emmintrin.h>

#define SSE2 __attribute__((target("sse2")))

#define LD(p) _mm_load_si128((const __m128i *)(const void *)(p))
#define LDU(p) _mm_loadu_si128((const __m128i *)(const void *)(p))

/*
 * tq2: 16 bytes hold 64 weights; shifting the 16-bit lanes right by 2i
 * and masking with 3 leaves the codes of the even bytes' weights
 * 64g + 16i + 2k, and by 2i + 8 those of the odd bytes'.  Two rows at
 * a time share the activation loads.
 */
SSE2 void
tl_matvec_tq2_sse2(TL_MATVEC_T_ARGS)
{
	const __m128i m3 = _mm_set1_epi16(3);
	const int16_t *p;
	int r = 0, g, ng = n / 64;

	for (; r + 2 <= m; r += 2) {
		const uint8_t *w0 = w + r * ldw, *w1 = w0 + ldw;
		__m128i a0 = _mm_setzero_si128(), b0 = a0, a1 = a0, b1 = a0;

		for (g = 0, p = x->p; g < ng; g++, p += 64) {
			__m128i v0 = LDU(w0 + 16 * g), v1 = LDU(w1 + 16 * g);
			__m128i xe, xo;

#define STEP(i) \
	xe = LD(p + 16 * (i)); \
	xo = LD(p + 16 * (i) + 8); \
	a0 = _mm_add_epi32(a0, _mm_madd_epi16(_mm_and_si128( \
	    _mm_srli_epi16(v0, 2 * (i)), m3), xe)); \
	b0 = _mm_add_epi32(b0, _mm_madd_epi16(_mm_and_si128( \
	    _mm_srli_epi16(v0, 2 * (i) + 8), m3), xo)); \
	a1 = _mm_add_epi32(a1, _mm_madd_epi16(_mm_and_si128( \
	    _mm_srli_epi16(v1, 2 * (i)), m3), xe)); \
	b1 = _mm_add_epi32(b1, _mm_madd_epi16(_mm_and_si128( \
	    _mm_srli_epi16(v1, 2 * (i) + 8), m3), xo));
			STEP(0)
			STEP(1)
			STEP(2)
			STEP(3)
#undef STEP
		}
		s[r] = tl_hsum32_sse2(_mm_add_epi32(a0, b0)) - x->sum;
		s[r + 1] = tl_hsum32_sse2(_mm_add_epi32(a1, b1)) - x->sum;
	}
	for (; r < m; r++) {
		const uint8_t *w0 = w + r * ldw;
		__m128i a0 = _mm_setzero_si128(), b0 = a0;

		for (g = 0, p = x->p; g < ng; g++, p += 64) {
			__m128i v0 = LDU(w0 + 16 * g);
			int i;

			for (i = 0; i < 4; i++) {
				a0 = _mm_add_epi32(a0, _mm_madd_epi16(
				    _mm_and_si128(_mm_srl_epi16(v0,
				    _mm_cvtsi32_si128(2 * i)), m3),
				    LD(p + 16 * i)));
				b0 = _mm_add_epi32(b0, _mm_madd_epi16(
				    _mm_and_si128(_mm_srl_epi16(v0,
				    _mm_cvtsi32_si128(2 * i + 8)), m3),
				    LD(p + 16 * i + 8)));
			}
		}
		s[r] = tl_hsum32_sse2(_mm_add_epi32(a0, b0)) - x->sum;
	}
}

/*
 * tq1: code i of byte q is ((q 3^i mod 256) 3) >> 8.  With q in the
 * high byte of a 16-bit lane, pmullw by 3^i keeps (q 3^i mod 256) 256
 * and pmulhuw by 3 gives the code: four multiplies per 16 weights.
 * The even bytes are moved to the high byte by a shift, the odd ones
 * are there already and only masked.
 */
SSE2 void
tl_matvec_tq1_sse2(TL_MATVEC_T_ARGS)
{
	const __m128i hi = _mm_set1_epi16((short)0xff00);
	const __m128i c3 = _mm_set1_epi16(3), c9 = _mm_set1_epi16(9);
	const __m128i c27 = _mm_set1_epi16(27), c81 = _mm_set1_epi16(81);
	/* tail groups: lanes alternate codes 0, 2 (even bytes) and 1, 3 */
	const __m128i te = _mm_set_epi16(9, 1, 9, 1, 9, 1, 9, 1);
	const __m128i to = _mm_set_epi16(27, 3, 27, 3, 27, 3, 27, 3);
	int r, g, j, g5 = n / 80, nt = (n - 80 * g5) / 16;

	for (r = 0; r < m; r++) {
		const uint8_t *wr = w + r * ldw;
		const int16_t *p = x->p;
		__m128i a = _mm_setzero_si128(), b = a, v, ve, vo;
		int32_t t4;

		for (g = 0; g < g5; g++, p += 80) {
			v = LDU(wr + 16 * g);
			ve = _mm_slli_epi16(v, 8);
			vo = _mm_and_si128(v, hi);
#define CODE(u, c) _mm_mulhi_epu16(_mm_mullo_epi16(u, c), c3)
#define ACC(i, e, o) \
	a = _mm_add_epi32(a, _mm_madd_epi16(e, LD(p + 16 * (i)))); \
	b = _mm_add_epi32(b, _mm_madd_epi16(o, LD(p + 16 * (i) + 8)));
			ACC(0, _mm_mulhi_epu16(ve, c3), _mm_mulhi_epu16(vo, c3))
			ACC(1, CODE(ve, c3), CODE(vo, c3))
			ACC(2, CODE(ve, c9), CODE(vo, c9))
			ACC(3, CODE(ve, c27), CODE(vo, c27))
			ACC(4, CODE(ve, c81), CODE(vo, c81))
		}
		for (j = 0; j < nt; j++, p += 16) {
			memcpy(&t4, wr + 16 * g5 + 4 * j, 4);
			v = _mm_cvtsi32_si128(t4);
			v = _mm_unpacklo_epi8(v, v);
			v = _mm_unpacklo_epi16(v, v);
			ve = _mm_slli_epi16(v, 8);
			vo = _mm_and_si128(v, hi);
			ACC(0, CODE(ve, te), CODE(vo, to))
#undef ACC
#undef CODE
		}
		s[r] = tl_hsum32_sse2(_mm_add_epi32(a, b)) - x->sum;
	}
}

/* q8: the int8 weights sign-extended into 16-bit lanes, even bytes by
 * a shift left and an arithmetic shift right, odd ones by the latter. */
SSE2 void
tl_matvec_q8_sse2(float *y, const int8_t *w, long ldw, const float *d,
    long ldd, int m, int n, const tl_xq8 *x)
{
	int r, b, k, nb = n / 64;

	for (r = 0; r < m; r++, w += ldw, d += ldd) {
		float acc = 0;

		for (b = 0; b < nb; b++) {
			const int8_t *wb = w + 64 * b;
			const int16_t *p = x->p + 64 * b;
			__m128i a = _mm_setzero_si128(), a2 = a, v;

			for (k = 0; k < 4; k++) {
				v = LDU(wb + 16 * k);
				a = _mm_add_epi32(a, _mm_madd_epi16(
				    _mm_srai_epi16(_mm_slli_epi16(v, 8), 8),
				    LD(p + 16 * k)));
				a2 = _mm_add_epi32(a2, _mm_madd_epi16(
				    _mm_srai_epi16(v, 8), LD(p + 16 * k + 8)));
			}
			acc += d[b] * (float)tl_hsum32_sse2(_mm_add_epi32(a, a2));
		}
		y[r] = acc;
	}
}

/* q4: 16 bytes hold 32 weights, the low nibbles the first 16 and the
 * high ones the next; each 16-bit lane gives four of them by shifts of
 * 0, 8 (even, odd bytes, low nibbles), 4 and 12 (high nibbles).  The
 * +8 of the stored values comes off as 8 times the block's sum. */
SSE2 void
tl_matvec_q4_sse2(float *y, const uint8_t *w, long ldw, const float *d,
    long ldd, int m, int n, const tl_xq8 *x)
{
	const __m128i m15 = _mm_set1_epi16(15);
	int r, b, h, nb = n / 64;

	for (r = 0; r < m; r++, w += ldw, d += ldd) {
		float acc = 0;

		for (b = 0; b < nb; b++) {
			__m128i a = _mm_setzero_si128(), a2 = a, v;

			for (h = 0; h < 2; h++) {
				const int16_t *p = x->p + 64 * b + 32 * h;

				v = LDU(w + 32 * b + 16 * h);
				a = _mm_add_epi32(a, _mm_madd_epi16(
				    _mm_and_si128(v, m15), LD(p)));
				a2 = _mm_add_epi32(a2, _mm_madd_epi16(
				    _mm_and_si128(_mm_srli_epi16(v, 8), m15),
				    LD(p + 8)));
				a = _mm_add_epi32(a, _mm_madd_epi16(
				    _mm_and_si128(_mm_srli_epi16(v, 4), m15),
				    LD(p + 16)));
				a2 = _mm_add_epi32(a2, _mm_madd_epi16(
				    _mm_srli_epi16(v, 12), LD(p + 24)));
			}
			acc += d[b] * (float)(tl_hsum32_sse2(_mm_add_epi32(a, a2)) -
			    8 * x->bsum[b]);
		}
		y[r] = acc;
	}
}

/*
 * The 8-bit cache's products: each byte (an int8 + 128) widened into a
 * 16-bit lane by unpacking it with zeros, multiplied by pmaddwd.
 * scores_u8 takes four positions at a time, which share the loads of
 * q; their four sums are added across lanes together.  In attv_u8 the
 * bytes of a pair of positions lie side by side, so after the widening
 * each 32-bit lane holds one channel's two values, and pmaddwd by the
 * pair of weights (w[2j], w[2j+1]) in every lane adds both products.
 */
#define WIDE_LO(b) _mm_unpacklo_epi8(b, z)
#define WIDE_HI(b) _mm_unpackhi_epi8(b, z)
#define SCORE(a, p) do { \
	__m128i b_ = LDU(p); \
	a = _mm_add_epi32(a, _mm_madd_epi16(WIDE_LO(b_), q0)); \
	a = _mm_add_epi32(a, _mm_madd_epi16(WIDE_HI(b_), q1)); \
} while (0)

SSE2 void
tl_scores_u8_sse2(int32_t *s, const uint8_t *k, long ldk, int n,
    const int16_t *q, int hs)
{
	const __m128i z = _mm_setzero_si128();
	int u = 0, i, h16 = hs / 16 * 16;

	for (; u + 4 <= n; u += 4) {
		const uint8_t *k0 = k + u * ldk;
		TL_ZERO4(__m128i, a, _mm_setzero_si128());

		for (i = 0; i < h16; i += 16) {
			__m128i q0 = LDU(q + i), q1 = LDU(q + i + 8);

			SCORE(a0, k0 + i);
			SCORE(a1, k0 + ldk + i);
			SCORE(a2, k0 + 2 * ldk + i);
			SCORE(a3, k0 + 3 * ldk + i);
		}
		/* lane r of the result: the sum of a_r's lanes */
		a0 = _mm_add_epi32(_mm_unpacklo_epi32(a0, a1),
		    _mm_unpackhi_epi32(a0, a1));
		a2 = _mm_add_epi32(_mm_unpacklo_epi32(a2, a3),
		    _mm_unpackhi_epi32(a2, a3));
		a0 = _mm_add_epi32(_mm_unpacklo_epi64(a0, a2),
		    _mm_unpackhi_epi64(a0, a2));
		_mm_storeu_si128((__m128i *)(void *)(s + u), a0);
		tl_scores_u8_tail4(s + u, k0, ldk, q, h16, hs);
	}
	if (u < n)
		tl_scores_u8_ref(s + u, k + u * ldk, ldk, n - u, q, hs);
}

SSE2 void
tl_attv_u8_sse2(int32_t *o, const uint8_t *v, long ldv, const int16_t *w,
    int np, int n)
{
	const __m128i z = _mm_setzero_si128();
	const uint8_t *p;
	int32_t pair;
	int i = 0, j;

	/* 16 channels a pass: 32 bytes a pair of positions */
	for (; i + 16 <= n; i += 16) {
		TL_ZERO4(__m128i, a, _mm_setzero_si128());

		for (j = 0, p = v + 2 * i; j < np; j++, p += ldv) {
			__m128i b0 = LDU(p), b1 = LDU(p + 16), ww;

			memcpy(&pair, w + 2 * j, 4);
			ww = _mm_set1_epi32(pair);
			a0 = _mm_add_epi32(a0, _mm_madd_epi16(WIDE_LO(b0), ww));
			a1 = _mm_add_epi32(a1, _mm_madd_epi16(WIDE_HI(b0), ww));
			a2 = _mm_add_epi32(a2, _mm_madd_epi16(WIDE_LO(b1), ww));
			a3 = _mm_add_epi32(a3, _mm_madd_epi16(WIDE_HI(b1), ww));
		}
		_mm_storeu_si128((__m128i *)(void *)(o + i), a0);
		_mm_storeu_si128((__m128i *)(void *)(o + i + 4), a1);
		_mm_storeu_si128((__m128i *)(void *)(o + i + 8), a2);
		_mm_storeu_si128((__m128i *)(void *)(o + i + 12), a3);
	}
	if (i < n)
		tl_attv_u8_ref(o + i, v + 2 * i, ldv, w, np, n - i);
}

#endif /* TL_X86 */
