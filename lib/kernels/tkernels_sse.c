/*
 * tkernels_sse.c: the kernels of inference (tkernels_ref.c) on the SSE
 * path: gemv_t on SSE1, the matvecs on MMX (kernels_sse.h says how
 * they keep MMX and x87 apart).
 *
 * The matvecs are tkernels_sse2.c's on 64-bit halves: the weights are
 * unpacked into the 16-bit lanes of an mm register and multiplied with
 * pmaddwd against the int16 copy of the activations (tl_xq8.p), whose
 * groups of 16 hold the even-indexed elements first and the odd ones
 * after.  The low 8 bytes of 16 weight bytes hold in their 16-bit
 * lanes elements 0, 2, 4, 6 (low bytes: p[0..3] of the group) and 1,
 * 3, 5, 7 (high bytes: p[8..11]); the high 8 bytes elements 8 .. 14
 * (p[4..7]) and 9 .. 15 (p[12..15]).  Every sum is an exact integer,
 * so the results are the reference's bits.
 */
#include "kernels_sse.h"

#include <string.h>

#ifdef TL_X86
/*
 * gemv_t: 32 columns of y at a time in eight registers on x86-64
 * (enough independent sums to hide the latency of addps), 16 in four
 * (i686 has eight registers), then 4, then one; each lane a running
 * sum in increasing u (mulps then addps, as the GEMM tile), so the
 * reference's bits.  sse2 keeps it.
 */
#define V __m128
#define ZERO _mm_setzero_ps()
#define BCAST(u) _mm_set1_ps(a[u])
#define G(i) t##i = _mm_add_ps(t##i, _mm_mul_ps(b, _mm_loadu_ps(x + 4 * i)))
#define OUT(i) TL_GEMV_OUT(i, 4, _mm_loadu_ps, _mm_add_ps, _mm_storeu_ps)

SSE void
tl_gemv_t_sse(TL_GEMV_T_ARGS)
{
	__m128 b;
	int j = 0, u;

#ifdef __x86_64__
	TL_GEMV_T_BLOCKS(8, 4)
#endif
	TL_GEMV_T_BLOCKS(4, 4)
	TL_GEMV_T_BLOCKS(1, 4)
	for (; j < n; j++) {
		float s = 0;

		for (u = 0; u < m; u++)
			s += a[u] * X[u * ldx + j];
		y[j] = acc ? y[j] + s : s;
	}
}
#undef V
#undef ZERO
#undef BCAST
#undef G
#undef OUT

/* 8 bytes at p, unaligned, and 4 int16 of the activations. */
#define LD(p) (*(const __m64 *)(const void *)(p))
static inline __m64
ldu(const void *p)
{
	__m64 v;

	memcpy(&v, p, 8);
	return v;
}

/* The two int32 lanes' sum. */
SSE static inline int32_t
hsum(__m64 v)
{
	return _mm_cvtsi64_si32(_mm_add_pi32(v, _mm_srli_si64(v, 32)));
}

/*
 * tq2: shifting the 16-bit lanes right by 2i and masking with 3 leaves
 * the codes of the even bytes' weights 64g + 16i + 2k, and by 2i + 8
 * those of the odd bytes'; codes c = t + 1 are multiplied as they are
 * and the activations' sum subtracted once per row.
 */
MMX void
tl_matvec_tq2_sse(TL_MATVEC_T_ARGS)
{
	const __m64 m3 = _mm_set1_pi16(3);
	const int16_t *p;
	int r, g, i, ng = n / 64;

	for (r = 0; r < m; r++) {
		const uint8_t *wr = w + r * ldw;
		__m64 a = _mm_setzero_si64(), b = a, lo, hi;

		for (g = 0, p = x->p; g < ng; g++, p += 64) {
			lo = ldu(wr + 16 * g);
			hi = ldu(wr + 16 * g + 8);
			for (i = 0; i < 4; i++) {
#define STEP(v, o, sh) _mm_madd_pi16(_mm_and_si64(_mm_srli_pi16(v, sh), m3), \
	LD(p + 16 * i + (o)))
				a = _mm_add_pi32(a, STEP(lo, 0, 2 * i));
				b = _mm_add_pi32(b, STEP(lo, 8, 2 * i + 8));
				a = _mm_add_pi32(a, STEP(hi, 4, 2 * i));
				b = _mm_add_pi32(b, STEP(hi, 12, 2 * i + 8));
#undef STEP
			}
		}
		s[r] = hsum(_mm_add_pi32(a, b)) - x->sum;
	}
	_mm_empty();
}

/*
 * tq1: code i of byte q is ((q 3^i mod 256) 3) >> 8: with q in the high
 * byte of a 16-bit lane, pmullw by 3^i keeps (q 3^i mod 256) 256 and
 * pmulhuw (an MMX instruction that came with SSE) by 3 gives the code.
 * The even bytes go to the high byte by a shift, the odd ones are
 * there already and only masked.  A tail group's 4 bytes, each
 * repeated 4 times, give codes 0, 1 (even lanes) and 2, 3 (odd lanes).
 */
MMX void
tl_matvec_tq1_sse(TL_MATVEC_T_ARGS)
{
	const __m64 hi = _mm_set1_pi16((short)0xff00), c3 = _mm_set1_pi16(3);
	const __m64 te = _mm_set_pi16(9, 1, 9, 1), to = _mm_set_pi16(27, 3, 27, 3);
	static const short pw[5] = { 1, 3, 9, 27, 81 };
	int r, g, i, j, g5 = n / 80, nt = (n - 80 * g5) / 16;

	for (r = 0; r < m; r++) {
		const uint8_t *wr = w + r * ldw;
		const int16_t *p = x->p;
		__m64 a = _mm_setzero_si64(), b = a, v, c, ve, vo;
		int32_t t4;

#define CODE(u, c) _mm_mulhi_pu16(_mm_mullo_pi16(u, c), c3)
#define ACC(e, o, off) \
	a = _mm_add_pi32(a, _mm_madd_pi16(e, LD(p + (off)))); \
	b = _mm_add_pi32(b, _mm_madd_pi16(o, LD(p + (off) + 8)))
		for (g = 0; g < g5; g++, p += 80)
			for (j = 0; j < 2; j++) {
				v = ldu(wr + 16 * g + 8 * j);
				ve = _mm_slli_pi16(v, 8);
				vo = _mm_and_si64(v, hi);
				for (i = 0; i < 5; i++) {
					c = _mm_set1_pi16(pw[i]);
					ACC(CODE(ve, c), CODE(vo, c), 16 * i + 4 * j);
				}
			}
		for (j = 0; j < nt; j++, p += 16) {
			memcpy(&t4, wr + 16 * g5 + 4 * j, 4);
			v = _mm_cvtsi32_si64(t4);
			v = _mm_unpacklo_pi8(v, v);
			ve = _mm_unpacklo_pi16(v, v);
			vo = _mm_unpackhi_pi16(v, v);
			ACC(CODE(_mm_slli_pi16(ve, 8), te),
			    CODE(_mm_and_si64(ve, hi), to), 0);
			ACC(CODE(_mm_slli_pi16(vo, 8), te),
			    CODE(_mm_and_si64(vo, hi), to), 4);
		}
#undef ACC
#undef CODE
		s[r] = hsum(_mm_add_pi32(a, b)) - x->sum;
	}
	_mm_empty();
}

/*
 * q8 and q4: the exact integer sum of each block of 64 weights of a row,
 * t[b] for blocks b0 .. b0 + nb - 1 (MMX, then emms); the caller scales
 * and adds them in floats.  q8's int8 weights are sign-extended into
 * 16-bit lanes, even bytes by a shift left and an arithmetic shift
 * right, odd ones by the latter.  q4's 16 bytes hold 32 weights, the
 * low nibbles the first 16 and the high ones the next; each lane gives
 * four by shifts of 0, 8, 4 and 12, and the +8 of the stored values
 * comes off as 8 times the block's sum.
 */
#define QBLK 64		/* blocks per call */

MMX static void
sums_q8(int32_t *t, const int8_t *w, int b0, int nb, const tl_xq8 *x)
{
	__m64 a, c, v;
	int b, k;

	for (b = b0; b < b0 + nb; b++) {
		const int16_t *p = x->p + 64 * b;

		a = _mm_setzero_si64();
		c = a;
		for (k = 0; k < 8; k++) {
			/* 8 weights: (k / 2) 16 + (k % 2) 8 .. + 7 */
			const int16_t *q = p + 16 * (k / 2) + 4 * (k % 2);

			v = ldu(w + 64 * b + 8 * k);
			a = _mm_add_pi32(a, _mm_madd_pi16(
			    _mm_srai_pi16(_mm_slli_pi16(v, 8), 8), LD(q)));
			c = _mm_add_pi32(c, _mm_madd_pi16(_mm_srai_pi16(v, 8),
			    LD(q + 8)));
		}
		t[b - b0] = hsum(_mm_add_pi32(a, c));
	}
	_mm_empty();
}

MMX static void
sums_q4(int32_t *t, const uint8_t *w, int b0, int nb, const tl_xq8 *x)
{
	const __m64 m15 = _mm_set1_pi16(15);
	__m64 a, c, v;
	int b, k;

	for (b = b0; b < b0 + nb; b++) {
		a = _mm_setzero_si64();
		c = a;
		for (k = 0; k < 4; k++) {
			/* bytes 8k .. 8k + 7 of the block's 32 */
			const int16_t *q = x->p + 64 * b + 32 * (k / 2) +
			    4 * (k % 2);

			v = ldu(w + 32 * b + 8 * k);
			a = _mm_add_pi32(a, _mm_madd_pi16(_mm_and_si64(v, m15),
			    LD(q)));
			c = _mm_add_pi32(c, _mm_madd_pi16(_mm_and_si64(
			    _mm_srli_pi16(v, 8), m15), LD(q + 8)));
			a = _mm_add_pi32(a, _mm_madd_pi16(_mm_and_si64(
			    _mm_srli_pi16(v, 4), m15), LD(q + 16)));
			c = _mm_add_pi32(c, _mm_madd_pi16(_mm_srli_pi16(v, 12),
			    LD(q + 24)));
		}
		t[b - b0] = hsum(_mm_add_pi32(a, c)) - 8 * x->bsum[b];
	}
	_mm_empty();
}

/* y[r] = sum over b, in increasing b, of d[r][b] times block b's sum. */
#define SCALED(sums, W) do { \
	int32_t t[QBLK]; \
	int r, b, e; \
	float acc; \
	for (r = 0; r < m; r++, w += ldw, d += ldd) { \
		acc = 0; \
		for (b = 0; b < n / 64; b = e) { \
			e = b + QBLK < n / 64 ? b + QBLK : n / 64; \
			sums(t, (W), b, e - b, x); \
			for (; b < e; b++) \
				acc += d[b] * (float)t[b % QBLK]; \
		} \
		y[r] = acc; \
	} \
} while (0)

void
tl_matvec_q8_sse(float *y, const int8_t *w, long ldw, const float *d,
    long ldd, int m, int n, const tl_xq8 *x)
{
	SCALED(sums_q8, w);
}

void
tl_matvec_q4_sse(float *y, const uint8_t *w, long ldw, const float *d,
    long ldd, int m, int n, const tl_xq8 *x)
{
	SCALED(sums_q4, w);
}

#endif /* TL_X86 */
