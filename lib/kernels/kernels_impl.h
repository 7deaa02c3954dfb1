/*
 * kernels_impl.h: internal to the kernel files (kernels_*.c,
 * tkernels_*.c, dispatch.c, the GEMMs and peak.c); not part of the
 * library's interface, which is kernels.h.
 *
 * It declares every implementation of a tl_kern entry by the same
 * name, tl_<entry>_<path>: the scalar references tl_<entry>_ref
 * (kernels_ref.c, tkernels_ref.c), which are the specification, and
 * the SIMD versions, each compiled for its instruction set with a
 * target attribute; dispatch.c gathers them into one table per path.
 * It also holds the blocked GEMM driver that tl_sgemm and tl_tgemm
 * share (gemm.c) and the SIMD helpers that several paths use.
 */
#ifndef TL_KERNELS_IMPL_H
#define TL_KERNELS_IMPL_H

#include "kernels/kernels.h"

/* ---- the tiles' shapes ---- */

#define TL_REF_MR 4	/* the reference GEMM tiles: 4 x 8 */
#define TL_REF_NR 8
/* SSE GEMM tile: 4 x 4 (a Pentium III's 8 xmm registers); its MMX
 * int8 x ternary tile: 4 x 2 (8 mm registers, two int32 lanes each) */
#define TL_SSE_MR 4
#define TL_SSE_NR 4
#define TL_SSE_TMR 4
#define TL_SSE_TNR 2
/* SSE2 GEMM tile: 4 x 8 on x86-64 (16 xmm registers), sse's 4 x 4 on
 * i686 (8) */
#define TL_SSE2_MR 4
#ifdef __x86_64__
#define TL_SSE2_NR 8
#else
#define TL_SSE2_NR 4
#endif
#define TL_AVX2_MR 6	/* AVX2 + FMA GEMM tile: 6 x 16 */
#define TL_AVX2_NR 16
#define TL_AVX2_TNR 16	/* AVX2 int8 x ternary tile: 4 x 16 */
/* The largest tile of any path (the driver's edge buffers). */
#define TL_GEMM_MAXMR 8
#define TL_GEMM_MAXNR 16

/* ---- the scalar references (kernels_ref.c, tkernels_ref.c) ---- */

float tl_dot_ref(const float *, const float *, int);
void tl_axpy_ref(float *, float, const float *, int);
void tl_gemm_tile_ref(int, const void *, const void *, float *, long, int,
    int, int);
void tl_gemm_pack_ref(float *, int, const float *, long, long, int, int);
float tl_absmax_ref(const float *, int);
double tl_abssum_ref(const float *, int);
void tl_quant_ref(float *, const float *, int, float, float, float);
void tl_quant_i8_ref(int8_t *, const float *, int, float);
void tl_adamw_ref(float *, const float *, float *, float *, int, float,
    float, float, float, float, float, float);
float tl_softmax_ref(float *, int);
void tl_tgemm_pack_ref(void *, int, const float *, long, int, int);
void tl_tgemm_tile_ref(int, const void *, const void *, float *, long, int,
    int, int);
void tl_gemv_t_ref(float *, const float *, const float *, long, int, int,
    int);
void tl_matvec_tq2_ref(int32_t *, const uint8_t *, long, int, int,
    const tl_xq8 *);
void tl_matvec_tq1_ref(int32_t *, const uint8_t *, long, int, int,
    const tl_xq8 *);
void tl_matvec_q8_ref(float *, const int8_t *, long, const float *, long,
    int, int, const tl_xq8 *);
void tl_matvec_q4_ref(float *, const uint8_t *, long, const float *, long,
    int, int, const tl_xq8 *);
void tl_scores_u8_ref(int32_t *, const uint8_t *, long, int,
    const int16_t *, int);
void tl_attv_u8_ref(int32_t *, const uint8_t *, long, const int16_t *, int,
    int);

/* scores_u8's four positions at s from k0, the head's channels from
 * h16 to hs added: the tail that a SIMD path's 16-channel steps leave. */
static inline void
tl_scores_u8_tail4(int32_t *s, const uint8_t *k0, long ldk,
    const int16_t *q, int h16, int hs)
{
	int32_t t[4];
	int i;

	if (h16 == hs)
		return;
	tl_scores_u8_ref(t, k0 + h16, ldk, 4, q + h16, hs - h16);
	for (i = 0; i < 4; i++)
		s[i] += t[i];
}

/* ---- the SIMD paths (x86 only) ---- */

#ifdef TL_X86
/* sse: every kernel, SSE1 for the floats (kernels_sse.c, and gemv_t in
 * tkernels_sse.c), MMX for the integers (tkernels_sse.c): a Pentium
 * III's instructions */
float tl_dot_sse(const float *, const float *, int);
void tl_axpy_sse(float *, float, const float *, int);
void tl_gemm_tile_sse(int, const void *, const void *, float *, long,
    int, int, int);
void tl_gemm_pack_sse(float *, int, const float *, long, long, int, int);
float tl_absmax_sse(const float *, int);
double tl_abssum_sse(const float *, int);
void tl_quant_sse(float *, const float *, int, float, float, float);
void tl_quant_i8_sse(int8_t *, const float *, int, float);
void tl_adamw_sse(float *, const float *, float *, float *, int, float,
    float, float, float, float, float, float);
float tl_softmax_sse(float *, int);
/* int8 x ternary GEMM on int16 pairs with MMX pmaddwd, 4 x 2; the
 * panels of sse2, one packer for A and B */
void tl_tgemm_pack_sse(void *, int, const float *, long, int, int);
void tl_tgemm_tile_sse(int, const void *, const void *, float *, long,
    int, int, int);
void tl_gemv_t_sse(float *, const float *, const float *, long, int, int,
    int);
void tl_matvec_tq2_sse(int32_t *, const uint8_t *, long, int, int,
    const tl_xq8 *);
void tl_matvec_tq1_sse(int32_t *, const uint8_t *, long, int, int,
    const tl_xq8 *);
void tl_matvec_q8_sse(float *, const int8_t *, long, const float *, long,
    int, int, const tl_xq8 *);
void tl_matvec_q4_sse(float *, const uint8_t *, long, const float *, long,
    int, int, const tl_xq8 *);

/* sse2: what SSE2 adds to sse (kernels_sse2.c, tkernels_sse2.c) */
void tl_gemm_tile_sse2(int, const void *, const void *, float *, long,
    int, int, int);
double tl_abssum_sse2(const float *, int);
void tl_quant_i8_sse2(int8_t *, const float *, int, float);
float tl_softmax_sse2(float *, int);
/* int8 x ternary GEMM on int16 pairs with pmaddwd, 4 x TL_SSE2_NR; the
 * same panels for A and B */
void tl_tgemm_pack_sse2(void *, int, const float *, long, int, int);
void tl_tgemm_tile_sse2(int, const void *, const void *, float *, long,
    int, int, int);
void tl_matvec_tq2_sse2(int32_t *, const uint8_t *, long, int, int,
    const tl_xq8 *);
void tl_matvec_tq1_sse2(int32_t *, const uint8_t *, long, int, int,
    const tl_xq8 *);
void tl_matvec_q8_sse2(float *, const int8_t *, long, const float *, long,
    int, int, const tl_xq8 *);
void tl_matvec_q4_sse2(float *, const uint8_t *, long, const float *, long,
    int, int, const tl_xq8 *);
void tl_scores_u8_sse2(int32_t *, const uint8_t *, long, int,
    const int16_t *, int);
void tl_attv_u8_sse2(int32_t *, const uint8_t *, long, const int16_t *, int,
    int);

/* ssse3: bytes with pmaddubsw, 4 x TL_SSE2_NR (kernels_ssse3.c,
 * tkernels_ssse3.c) */
void tl_tgemm_pack_a_ssse3(void *, int, const float *, long, int, int);
void tl_tgemm_pack_b_ssse3(void *, int, const float *, long, int, int);
void tl_tgemm_tile_ssse3(int, const void *, const void *, float *, long,
    int, int, int);
void tl_matvec_tq2_ssse3(int32_t *, const uint8_t *, long, int, int,
    const tl_xq8 *);

/* sse41: roundps (kernels_sse41.c) */
void tl_quant_sse41(float *, const float *, int, float, float, float);

/* avx2: FMA and 256-bit integers (kernels_avx2.c, tkernels_avx2.c); the
 * int8 x ternary tile reads the ssse3 panels */
void tl_gemm_tile_avx2(int, const void *, const void *, float *, long,
    int, int, int);
void tl_tgemm_tile_avx2(int, const void *, const void *, float *, long,
    int, int, int);
void tl_gemv_t_avx2(float *, const float *, const float *, long, int, int,
    int);
void tl_matvec_tq2_avx2(int32_t *, const uint8_t *, long, int, int,
    const tl_xq8 *);
void tl_scores_u8_avx2(int32_t *, const uint8_t *, long, int,
    const int16_t *, int);
void tl_attv_u8_avx2(int32_t *, const uint8_t *, long, const int16_t *, int,
    int);
#endif

/* ---- SIMD helpers that several paths use (inline) ---- */

/*
 * The step that every x86 GEMM tile repeats, over 4 rows: row i's
 * value of A, broadcast by BC(i), times the B vectors b0 (and b1),
 * added by ACC(sum, a, b) to the sums c<i>0 (and c<i>1), row after
 * row.  The tile defines BC and ACC for its instructions and declares
 * t, b0 and b1; c names its sums (c00 .. c31, or c0 .. c3).
 */
#define TL_TILE_ROW2(s0, s1, a) do { \
	t = (a); \
	s0 = ACC(s0, t, b0); \
	s1 = ACC(s1, t, b1); \
} while (0)
#define TL_TILE_4X2(c) do { \
	TL_TILE_ROW2(c##00, c##01, BC(0)); \
	TL_TILE_ROW2(c##10, c##11, BC(1)); \
	TL_TILE_ROW2(c##20, c##21, BC(2)); \
	TL_TILE_ROW2(c##30, c##31, BC(3)); \
} while (0)
#define TL_TILE_4X1(c) do { \
	c##0 = ACC(c##0, BC(0), b0); \
	c##1 = ACC(c##1, BC(1), b0); \
	c##2 = ACC(c##2, BC(2), b0); \
	c##3 = ACC(c##3, BC(3), b0); \
} while (0)
/* The sums c00 .. c31 of a 4 x 2 tile of vectors of type V, declared
 * and set to zero; and stored into r[0 .. 7], row after row, each
 * through F. */
#define TL_SUMS_4X2(V, c, zero) V c##00 = (zero), c##01 = c##00, \
	c##10 = c##00, c##11 = c##00, c##20 = c##00, c##21 = c##00, \
	c##30 = c##00, c##31 = c##00
#define TL_SUMS_OUT_4X2(r, c, F) do { \
	r[0] = F(c##00); r[1] = F(c##01); r[2] = F(c##10); r[3] = F(c##11); \
	r[4] = F(c##20); r[5] = F(c##21); r[6] = F(c##30); r[7] = F(c##31); \
} while (0)
#define TL_SAME(x) (x)
/*
 * The k groups of the byte tiles (ssse3, avx2; kernels_ssse3.c explains
 * them): int16 sums h over at most TL_BYTE_GROUPS groups of four k
 * steps at a time (63 x 512 < 32768), each group's vectors loaded by
 * LOAD(g), then widened into the int32 sums s by WIDEN(s, h).  The
 * asm statements keep the sums in registers: without them GCC
 * computes all eight products of a step first and keeps a sum on the
 * stack.  The tile declares s, the h, g = 0, e, i and ng, the number
 * of groups.
 */
#define TL_BYTE_GROUPS 63
#define TL_BYTE_GROUPS_4X2(zero, LOAD) do { \
	for (i = 0; i < 8; i++) \
		s[i] = (zero); \
	while (g < ng) { \
		e = g + TL_BYTE_GROUPS < ng ? g + TL_BYTE_GROUPS : ng; \
		h00 = h01 = h10 = h11 = (zero); \
		h20 = h21 = h30 = h31 = h00; \
		for (; g < e; g++) { \
			LOAD(g); \
			TL_TILE_4X2(h); \
			__asm__("" : "+x"(h00), "+x"(h01), "+x"(h10), "+x"(h11)); \
			__asm__("" : "+x"(h20), "+x"(h21), "+x"(h30), "+x"(h31)); \
		} \
		TL_WIDEN_4X2(s, h); \
	} \
} while (0)
/* The int16 sums h of the byte tiles widened into the int32 sums s by
 * WIDEN(s, h), in the order of the rows. */
#define TL_WIDEN_4X2(s, h) do { \
	s[0] = WIDEN(s[0], h##00); s[1] = WIDEN(s[1], h##01); \
	s[2] = WIDEN(s[2], h##10); s[3] = WIDEN(s[3], h##11); \
	s[4] = WIDEN(s[4], h##20); s[5] = WIDEN(s[5], h##21); \
	s[6] = WIDEN(s[6], h##30); s[7] = WIDEN(s[7], h##31); \
} while (0)

#ifdef TL_X86
#include <math.h>
#include <emmintrin.h>

#define TL_SSE __attribute__((target("sse")))
#define TL_SSE2 __attribute__((target("sse2")))

/* Sum of the four lanes, (x0 + x2) + (x1 + x3), and their maximum. */
TL_SSE static inline float
tl_hsum_ps(__m128 x)
{
	x = _mm_add_ps(x, _mm_movehl_ps(x, x));
	x = _mm_add_ss(x, _mm_shuffle_ps(x, x, 1));
	return _mm_cvtss_f32(x);
}

TL_SSE static inline float
tl_hmax_ps(__m128 x)
{
	x = _mm_max_ps(x, _mm_movehl_ps(x, x));
	x = _mm_max_ss(x, _mm_shuffle_ps(x, x, 1));
	return _mm_cvtss_f32(x);
}

/* Sum of the four int32 lanes. */
TL_SSE2 static inline int32_t
tl_hsum32_sse2(__m128i v)
{
	v = _mm_add_epi32(v, _mm_shuffle_epi32(v, 0x4e));
	v = _mm_add_epi32(v, _mm_shuffle_epi32(v, 0xb1));
	return _mm_cvtsi128_si32(v);
}

/*
 * q[i] = clamp(rnd(x[i] * s), lo, hi), four lanes at a time, the tail
 * by the reference: the quant of sse (rnd = rint_sse) and sse41
 * (roundps).  maxps(lo, r) is r < lo ? lo : r and minps(hi, r) is
 * r > hi ? hi : r, signed zeros included (both return their second
 * operand when unordered or equal): the reference's clamp, for
 * lo <= hi.  A NaN lane then becomes lo, as in the reference.
 */
TL_SSE static inline __attribute__((always_inline)) void
tl_quant_body(float *q, const float *x, int n, float s, float lo, float hi,
    __m128 (*rnd)(__m128))
{
	__m128 vs = _mm_set1_ps(s), vlo = _mm_set1_ps(lo), vhi = _mm_set1_ps(hi);
	__m128 r, nan;
	int i = 0;

	for (; i + 4 <= n; i += 4) {
		r = rnd(_mm_mul_ps(_mm_loadu_ps(x + i), vs));
		r = _mm_min_ps(vhi, _mm_max_ps(vlo, r));
		nan = _mm_cmpunord_ps(r, r);
		r = _mm_or_ps(_mm_andnot_ps(nan, r), _mm_and_ps(nan, vlo));
		_mm_storeu_ps(q + i, r);
	}
	tl_quant_ref(q + i, x + i, n - i, s, lo, hi);
}

/*
 * exp(x) for x <= 0 (Cephes expf): x = n ln2 + r with |r| <= ln2/2,
 * exp(r) by a degree-7 polynomial, times 2^n made in the exponent
 * field by pow2(t, &fn), which rounds t = x log2(e) to the integer n,
 * sets fn to n as a float and returns 2^n: cvtps2dq and integer
 * shifts on sse2, scalar conversions on sse.  Relative error about
 * 2e-7; below -87.33 (where exp is subnormal) the result is 0.
 */
TL_SSE static inline __attribute__((always_inline)) __m128
tl_exp_neg(__m128 x, __m128 (*pow2)(__m128, __m128 *))
{
	const __m128 lo = _mm_set1_ps(-87.3365f);
	__m128 under = _mm_cmplt_ps(x, lo), fn, e, r, p;

	x = _mm_max_ps(x, lo);
	/* n >= -126 here, so 2^n is a normal number. */
	e = pow2(_mm_mul_ps(x, _mm_set1_ps(1.44269504088896341f)), &fn);
	r = _mm_sub_ps(x, _mm_mul_ps(fn, _mm_set1_ps(0.693359375f)));
	r = _mm_sub_ps(r, _mm_mul_ps(fn, _mm_set1_ps(-2.12194440e-4f)));
	p = _mm_set1_ps(1.9875691500e-4f);
	p = _mm_add_ps(_mm_mul_ps(p, r), _mm_set1_ps(1.3981999507e-3f));
	p = _mm_add_ps(_mm_mul_ps(p, r), _mm_set1_ps(8.3334519073e-3f));
	p = _mm_add_ps(_mm_mul_ps(p, r), _mm_set1_ps(4.1665795894e-2f));
	p = _mm_add_ps(_mm_mul_ps(p, r), _mm_set1_ps(1.6666665459e-1f));
	p = _mm_add_ps(_mm_mul_ps(p, r), _mm_set1_ps(5.0000001201e-1f));
	p = _mm_add_ps(_mm_mul_ps(_mm_mul_ps(p, r), r), r);
	p = _mm_add_ps(p, _mm_set1_ps(1.0f));
	return _mm_andnot_ps(under, _mm_mul_ps(p, e));
}

/* The softmax of sse and sse2 (exp by tl_exp_neg with their pow2): the
 * maximum, the exponentials and their sum in two sums of four lanes,
 * then the scaling; the tails by libm. */
TL_SSE static inline __attribute__((always_inline)) float
tl_softmax_body(float *x, int n, __m128 (*pow2)(__m128, __m128 *))
{
	__m128 m0, s0 = _mm_setzero_ps(), s1 = s0, e;
	float mx = x[0], s, inv;
	int i = 0;

	m0 = _mm_set1_ps(mx);
	for (; i + 4 <= n; i += 4)
		m0 = _mm_max_ps(m0, _mm_loadu_ps(x + i));
	mx = tl_hmax_ps(m0);
	for (; i < n; i++)
		if (x[i] > mx)
			mx = x[i];

	m0 = _mm_set1_ps(mx);
	for (i = 0; i + 8 <= n; i += 8) {
		e = tl_exp_neg(_mm_sub_ps(_mm_loadu_ps(x + i), m0), pow2);
		_mm_storeu_ps(x + i, e);
		s0 = _mm_add_ps(s0, e);
		e = tl_exp_neg(_mm_sub_ps(_mm_loadu_ps(x + i + 4), m0), pow2);
		_mm_storeu_ps(x + i + 4, e);
		s1 = _mm_add_ps(s1, e);
	}
	for (; i + 4 <= n; i += 4) {
		e = tl_exp_neg(_mm_sub_ps(_mm_loadu_ps(x + i), m0), pow2);
		_mm_storeu_ps(x + i, e);
		s0 = _mm_add_ps(s0, e);
	}
	s = tl_hsum_ps(_mm_add_ps(s0, s1));
	for (; i < n; i++) {
		x[i] = expf(x[i] - mx);
		s += x[i];
	}

	inv = 1.0f / s;
	m0 = _mm_set1_ps(inv);
	for (i = 0; i + 4 <= n; i += 4)
		_mm_storeu_ps(x + i, _mm_mul_ps(_mm_loadu_ps(x + i), m0));
	for (; i < n; i++)
		x[i] *= inv;
	return logf(s) + mx;
}

/* Store (acc = 0) or add the top-left m x n of a 4 x nr float tile
 * (nr 4 or 8) whose row i is r[i*nr/4 .. i*nr/4 + nr/4 - 1], to c (row
 * stride ldc): the SSE, SSE2 and SSSE3 tiles' last step. */
TL_SSE static inline void
tl_tile_out_sse(const __m128 *r, int nr, float *c, long ldc, int m, int n,
    int acc)
{
	float t[4 * 8];
	int i, j, v;

	if (m == 4 && n == nr) {
		for (i = 0; i < 4; i++)
			for (v = 0; v < nr / 4; v++) {
				float *p = c + i * ldc + 4 * v;
				__m128 x = r[i * (nr / 4) + v];

				if (acc)
					x = _mm_add_ps(_mm_loadu_ps(p), x);
				_mm_storeu_ps(p, x);
			}
		return;
	}
	for (i = 0; i < nr; i++)
		_mm_storeu_ps(t + 4 * i, r[i]);
	for (i = 0; i < m; i++)
		for (j = 0; j < n; j++)
			c[i * ldc + j] = acc ? c[i * ldc + j] +
			    t[i * nr + j] : t[i * nr + j];
}
#endif

/*
 * gemv_t's blocks of columns (tkernels_sse2.c, tkernels_avx2.c): while
 * NT vectors of VW lanes fit, columns [j, j + NT VW) of y in the sums
 * t0 .. t<NT-1>, each a running sum in increasing u of BCAST(u) (a[u]
 * in every lane) times row u's columns, by G(i); then stored or added
 * by OUT(i).  The file defines V (the vector type), ZERO, BCAST, G and
 * OUT; NT is 1, 4 or 8.
 */
#define TL_EACH1(F) F(0)
#define TL_EACH4(F) F(0); F(1); F(2); F(3)
#define TL_EACH8(F) TL_EACH4(F); F(4); F(5); F(6); F(7)
#define TL_GEMV_ZERO(i) V t##i = ZERO
/* gemv_t's last step for register i of W lanes: added to y when acc,
 * stored (LOAD, ADD, STORE: the path's intrinsics). */
#define TL_GEMV_OUT(i, W, LOAD, ADD, STORE) do { \
	if (acc) \
		t##i = ADD(LOAD(y + j + (W) * i), t##i); \
	STORE(y + j + (W) * i, t##i); \
} while (0)
/* Four sums of vector type V, all zero (ZERO the path's zero). */
#define TL_ZERO4(V, s, ZERO) V s##0 = (ZERO), s##1 = s##0, s##2 = s##0, \
	s##3 = s##0
/* The ternary matvecs' arguments, the same on every path
 * (tkernels_ref.c). */
#define TL_MATVEC_T_ARGS int32_t *s, const uint8_t *w, long ldw, int m, \
	int n, const tl_xq8 *x
/* gemv_t's arguments, the same on every path (tkernels_ref.c). */
#define TL_GEMV_T_ARGS float *y, const float *a, const float *X, long ldx, \
	int m, int n, int acc
#define TL_GEMV_T_BLOCKS(NT, VW) \
	for (; j + (NT) * (VW) <= n; j += (NT) * (VW)) { \
		const float *x = X + j; \
		TL_EACH##NT(TL_GEMV_ZERO); \
		for (u = 0; u < m; u++, x += ldx) { \
			b = BCAST(u); \
			TL_EACH##NT(G); \
		} \
		TL_EACH##NT(OUT); \
	}

/*
 * The tq2 matvecs of ssse3 and avx2 (tkernels_*.c): row k's codes of
 * the current groups, loaded by WROW(k), times the activations x0 ..
 * x3 (weights 16i .. 16i+15 of a group are CODES(v, i)), added into
 * the int16 sums a by DOT(a, codes, x); every TL_TQ2_GROUPS groups of
 * 64 weights, the int16 sums a0 .. a3 are widened into the int32 sums
 * s0 .. s3 by WIDEN(s, a) (tkernels_ssse3.c says why 16).
 */
#define TL_TQ2_GROUPS 16
#define TL_TQ2_ROW(k, a) do { \
	v = WROW(k); \
	a = DOT(a, CODES(v, 0), x0); \
	a = DOT(a, CODES(v, 1), x1); \
	a = DOT(a, CODES(v, 2), x2); \
	a = DOT(a, CODES(v, 3), x3); \
} while (0)
#define TL_TQ2_WIDEN4() do { \
	s0 = WIDEN(s0, a0); \
	s1 = WIDEN(s1, a1); \
	s2 = WIDEN(s2, a2); \
	s3 = WIDEN(s3, a3); \
} while (0)

/* ---- the blocked GEMM driver (gemm.c) ---- */

/*
 * C (M,N) = [C +] A (M,K) . B (K,N), element (i,k) of A at
 * A[i*ars + k*acs] and (k,j) of B at B[k*brs + j*bcs], for a product
 * described by a tl_gemm_kind: its tile (mr x nr, k->gemm_tile or
 * k->tgemm_tile), the k steps per block and the packers that turn rows
 * of A and columns of B into the tile's panels.  gemm.c explains the
 * blocking and the order of the sums.
 */
typedef struct {
	int mr, nr;		/* the tile */
	int kc;			/* k steps per block */
	/* A panel of R rows and kc k steps takes at most
	 * R (esz kc' + rowx) bytes, kc' = kc rounded up to a multiple
	 * of 4: esz bytes per element, rowx more per row. */
	int esz, rowx;
	/* Pack rows i < w (w <= R) of src[i*ws + k*ks], k < kc, into a
	 * panel of R rows at dst (aligned to 64), zero past w. */
	void (*pack_a)(const tl_kern *k, void *dst, int R, const float *src,
	    long ws, long ks, int w, int kc);
	void (*pack_b)(const tl_kern *k, void *dst, int R, const float *src,
	    long ws, long ks, int w, int kc);
	/* The mr x nr tile of an A panel and a B panel: see gemm_tile. */
	void (*tile)(int kc, const void *a, const void *b, float *c, long ldc,
	    int m, int n, int acc);
} tl_gemm_kind;

/* The bytes of the driver's stack panels, used when memory runs out:
 * an A panel of TL_GEMM_MAXMR rows and a B panel of TL_GEMM_MAXNR at
 * the k block of each kind (sgemm.c and tgemm.c check that they fit). */
#define TL_GEMM_STACK 25600

/* The bytes tl_gemm_blocked allocates for a product of this shape. */
size_t tl_gemm_scratch(const tl_gemm_kind *g, int M, int N, int K);
void tl_gemm_blocked(tl_pool *p, const tl_kern *k, const tl_gemm_kind *g,
    int M, int N, int K, const float *A, long ars, long acs,
    const float *B, long brs, long bcs, float *C, long ldc, int accumulate);

#endif
