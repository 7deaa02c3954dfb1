/*
 * kernels_sse2.c: the SSE2 path, the baseline of every x86-64 CPU and
 * of the Pentium 4 / Athlon 64 era: what SSE2 changes in the sse path
 * (kernels_sse.c, whose other kernels it keeps).  Each kernel has the
 * reference's signature (kernels_ref.c), a 4-wide vector body and a
 * scalar tail.
 *
 * quant_i8 does the reference's IEEE operations in the reference's
 * order, so on x86-64 it gives its very bits; the reductions (abssum,
 * softmax's sum) keep several partial sums and so differ from it by
 * rounding only.
 *
 * Compiled with a target attribute rather than -msse2, so that the
 * rest of an i686 build still runs on a CPU without SSE2; dispatch.c
 * calls these only when CPUID reports SSE2.
 */
#include "kernels_impl.h"

#ifdef TL_X86
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <emmintrin.h>

#define SSE2 __attribute__((target("sse2")))

/*
 * The GEMM micro-kernel.  Per step k it loads a column of the A panel
 * (four rows) and a row of the B panel, broadcasts each A value with a
 * shuffle and accumulates its products with the B row: 4 x NR lanes
 * of running sums, each in increasing k from zero like the reference.
 * x86-64 has 16 xmm registers and keeps a 4 x 8 tile (8 sums, 2 B
 * vectors, the A column and 2 temporaries); i686 has 8 and keeps the
 * 4 x 4 tile of sse.
 */
#define BC(i) _mm_shuffle_ps(av, av, 0x55 * (i))
#define ACC(s, x, y) _mm_add_ps(s, _mm_mul_ps(x, y))
#ifdef __x86_64__
SSE2 void
tl_gemm_tile_sse2(int K, const void *pa, const void *pb, float *c, long ldc,
    int m, int n, int acc)
{
	const float *a = pa, *b = pb;
	TL_SUMS_4X2(__m128, c, _mm_setzero_ps());
	__m128 r[8];
	int k;

	/* Not unrolled: compilers then hoist loads and shuffles of
	 * later steps and spill the sums. */
	for (k = 0; k < K; k++, a += 4, b += 8) {
		__m128 av = _mm_load_ps(a), b0 = _mm_load_ps(b);
		__m128 b1 = _mm_load_ps(b + 4), t;

		TL_TILE_4X2(c);
	}
	TL_SUMS_OUT_4X2(r, c, TL_SAME);
	tl_tile_out_sse(r, TL_SSE2_NR, c, ldc, m, n, acc);
}
#endif
#undef BC
#undef ACC

/*
 * Int8 x ternary GEMM on int16 (tl_tgemm): pmaddwd multiplies eight
 * pairs of int16 and adds each pair into an int32 lane, two products
 * per lane where mulps and addps give one.  The panels hold k in
 * pairs: 32-bit unit p*R + i of a panel of R rows is row i's values
 * at k = 2p (low half) and 2p + 1 (high half).  The tile broadcasts a
 * row's unit of A with pshufd and multiplies it with NR columns' units
 * of B: 4 x NR int32 sums, exact.
 */
SSE2 void
tl_tgemm_pack_sse2(void *dst, int R, const float *src, long ld, int w, int kc)
{
	int16_t *d = dst;
	int kp = (kc + 3) & ~3, i0, i, k;
	const float *s;
	__m128 r0, r1, r2, r3;

	for (i0 = 0; i0 < R; i0 += 4) {
		k = 0;
		if (i0 + 4 <= w)
			for (; k + 8 <= kc; k += 8) {
				s = src + i0 * ld + k;
#define ROW(j) _mm_castsi128_ps(_mm_packs_epi32(_mm_cvttps_epi32( \
	_mm_loadu_ps(s + (j) * ld)), _mm_cvttps_epi32(_mm_loadu_ps(s + (j) * ld + 4))))
				r0 = ROW(0);
				r1 = ROW(1);
				r2 = ROW(2);
				r3 = ROW(3);
#undef ROW
				/* rows of units become units of rows */
				_MM_TRANSPOSE4_PS(r0, r1, r2, r3);
				_mm_store_ps((float *)(d + (k / 2 * R + i0) * 2), r0);
				_mm_store_ps((float *)(d + ((k / 2 + 1) * R + i0) * 2), r1);
				_mm_store_ps((float *)(d + ((k / 2 + 2) * R + i0) * 2), r2);
				_mm_store_ps((float *)(d + ((k / 2 + 3) * R + i0) * 2), r3);
			}
		for (; k < kp; k++)
			for (i = i0; i < i0 + 4; i++)
				d[(k / 2 * R + i) * 2 + (k & 1)] = i < w && k < kc ?
				    (int16_t)src[i * ld + k] : 0;
	}
}

#define BC(i) _mm_shuffle_epi32(av, 0x55 * (i))
#define ACC(s, x, y) _mm_add_epi32(s, _mm_madd_epi16(x, y))
#ifdef __x86_64__
SSE2 void
tl_tgemm_tile_sse2(int kc, const void *a, const void *b, float *c, long ldc,
    int m, int n, int acc)
{
	const __m128i *pa = a, *pb = b;
	TL_SUMS_4X2(__m128i, c, _mm_setzero_si128());
	__m128i av, b0, b1, t;
	__m128 r[8];
	int p, np = ((kc + 3) & ~3) / 2;

	for (p = 0; p < np; p++, pa++, pb += 2) {
		av = _mm_load_si128(pa);
		b0 = _mm_load_si128(pb);
		b1 = _mm_load_si128(pb + 1);
		TL_TILE_4X2(c);
	}
	TL_SUMS_OUT_4X2(r, c, _mm_cvtepi32_ps);
	tl_tile_out_sse(r, TL_SSE2_NR, c, ldc, m, n, acc);
}
#else
SSE2 void
tl_tgemm_tile_sse2(int kc, const void *a, const void *b, float *c, long ldc,
    int m, int n, int acc)
{
	const __m128i *pa = a, *pb = b;
	__m128i c0 = _mm_setzero_si128(), c1 = c0, c2 = c0, c3 = c0, av, b0;
	__m128 r[4];
	int p, np = ((kc + 3) & ~3) / 2;

	for (p = 0; p < np; p++, pa++, pb++) {
		av = _mm_load_si128(pa);
		b0 = _mm_load_si128(pb);
		TL_TILE_4X1(c);
	}
	r[0] = _mm_cvtepi32_ps(c0); r[1] = _mm_cvtepi32_ps(c1);
	r[2] = _mm_cvtepi32_ps(c2); r[3] = _mm_cvtepi32_ps(c3);
	tl_tile_out_sse(r, TL_SSE2_NR, c, ldc, m, n, acc);
}
#endif
#undef BC
#undef ACC

/* Sums in double (exactly converted), two lanes per vector. */
SSE2 double
tl_abssum_sse2(const float *x, int n)
{
	const __m128 abs = _mm_castsi128_ps(_mm_set1_epi32(0x7fffffff));
	__m128d s0 = _mm_setzero_pd(), s1 = s0, s2 = s0, s3 = s0;
	__m128 v, w;
	double s;
	int i = 0;

	for (; i + 8 <= n; i += 8) {
		v = _mm_and_ps(_mm_loadu_ps(x + i), abs);
		w = _mm_and_ps(_mm_loadu_ps(x + i + 4), abs);
		s0 = _mm_add_pd(s0, _mm_cvtps_pd(v));
		s1 = _mm_add_pd(s1, _mm_cvtps_pd(_mm_movehl_ps(v, v)));
		s2 = _mm_add_pd(s2, _mm_cvtps_pd(w));
		s3 = _mm_add_pd(s3, _mm_cvtps_pd(_mm_movehl_ps(w, w)));
	}
	for (; i + 4 <= n; i += 4) {
		v = _mm_and_ps(_mm_loadu_ps(x + i), abs);
		s0 = _mm_add_pd(s0, _mm_cvtps_pd(v));
		s1 = _mm_add_pd(s1, _mm_cvtps_pd(_mm_movehl_ps(v, v)));
	}
	s0 = _mm_add_pd(_mm_add_pd(s0, s1), _mm_add_pd(s2, s3));
	s0 = _mm_add_sd(s0, _mm_unpackhi_pd(s0, s0));
	s = _mm_cvtsd_f64(s0);
	for (; i < n; i++)
		s += fabsf(x[i]);
	return s;
}

/*
 * Clamping to [-128, 127] before rounding is the same as after (the
 * bounds are integers) and keeps cvtps2dq, which rounds to nearest
 * even, in range; the two saturating packs then narrow to bytes.
 */
SSE2 void
tl_quant_i8_sse2(int8_t *q, const float *x, int n, float s)
{
	__m128 vs = _mm_set1_ps(s);
	__m128 lo = _mm_set1_ps(-128.0f), hi = _mm_set1_ps(127.0f);
	__m128i i0, i1, i2, i3;
	float r;
	int i = 0;

#define CVT(k) _mm_cvtps_epi32(_mm_min_ps(_mm_max_ps(_mm_mul_ps( \
	_mm_loadu_ps(x + i + (k)), vs), lo), hi))
	for (; i + 16 <= n; i += 16) {
		i0 = CVT(0);
		i1 = CVT(4);
		i2 = CVT(8);
		i3 = CVT(12);
		_mm_storeu_si128((__m128i *)(void *)(q + i), _mm_packs_epi16(
		    _mm_packs_epi32(i0, i1), _mm_packs_epi32(i2, i3)));
	}
	for (; i + 4 <= n; i += 4) {
		int32_t w;

		i0 = CVT(0);
		i0 = _mm_packs_epi16(_mm_packs_epi32(i0, i0), i0);
		w = _mm_cvtsi128_si32(i0);
		memcpy(q + i, &w, 4);
	}
#undef CVT
	for (; i < n; i++) {
		r = rintf(x[i] * s);
		q[i] = (int8_t)(!(r >= -128) ? -128 : r > 127 ? 127 : r);
	}
}

/* 2^n for tl_exp_neg: n by cvtps2dq, shifted into the exponent
 * field. */
SSE2 static inline __m128
pow2_sse2(__m128 t, __m128 *fn)
{
	__m128i n = _mm_cvtps_epi32(t);

	*fn = _mm_cvtepi32_ps(n);
	n = _mm_slli_epi32(_mm_add_epi32(n, _mm_set1_epi32(127)), 23);
	return _mm_castsi128_ps(n);
}

SSE2 float
tl_softmax_sse2(float *x, int n)
{
	return tl_softmax_body(x, n, pow2_sse2);
}

#endif /* TL_X86 */
