/*
 * kernels_sse2.c: the SSE2 path, the baseline of every x86-64 CPU and
 * of the Pentium 4 / Athlon 64 era.  Each kernel has the reference's
 * signature (kernels_ref.c), a 4-wide vector body and a scalar tail.
 *
 * Elementwise kernels (axpy, quant, quant_i8, adamw) do the reference's
 * IEEE operations in the reference's order, so on x86-64 they give its
 * very bits; the reductions (dot, abssum, softmax's sum) keep several
 * partial sums and so differ from it by rounding only.
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

/* Sum of the four lanes: (x0 + x2) + (x1 + x3). */
SSE2 static float
hsum(__m128 x)
{
	x = _mm_add_ps(x, _mm_movehl_ps(x, x));
	x = _mm_add_ss(x, _mm_shuffle_ps(x, x, 1));
	return _mm_cvtss_f32(x);
}

SSE2 static float
hmax(__m128 x)
{
	x = _mm_max_ps(x, _mm_movehl_ps(x, x));
	x = _mm_max_ss(x, _mm_shuffle_ps(x, x, 1));
	return _mm_cvtss_f32(x);
}

/* Four accumulators of four lanes hide the latency of addps. */
SSE2 float
tl_dot_sse2(const float *a, const float *b, int n)
{
	__m128 s0 = _mm_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
	float s;
	int i = 0;

	for (; i + 16 <= n; i += 16) {
		s0 = _mm_add_ps(s0, _mm_mul_ps(_mm_loadu_ps(a + i),
		    _mm_loadu_ps(b + i)));
		s1 = _mm_add_ps(s1, _mm_mul_ps(_mm_loadu_ps(a + i + 4),
		    _mm_loadu_ps(b + i + 4)));
		s2 = _mm_add_ps(s2, _mm_mul_ps(_mm_loadu_ps(a + i + 8),
		    _mm_loadu_ps(b + i + 8)));
		s3 = _mm_add_ps(s3, _mm_mul_ps(_mm_loadu_ps(a + i + 12),
		    _mm_loadu_ps(b + i + 12)));
	}
	for (; i + 4 <= n; i += 4)
		s0 = _mm_add_ps(s0, _mm_mul_ps(_mm_loadu_ps(a + i),
		    _mm_loadu_ps(b + i)));
	s = hsum(_mm_add_ps(_mm_add_ps(s0, s1), _mm_add_ps(s2, s3)));
	for (; i < n; i++)
		s += a[i] * b[i];
	return s;
}

SSE2 void
tl_axpy_sse2(float *y, float a, const float *x, int n)
{
	__m128 va = _mm_set1_ps(a);
	int i = 0;

	for (; i + 8 <= n; i += 8) {
		_mm_storeu_ps(y + i, _mm_add_ps(_mm_loadu_ps(y + i),
		    _mm_mul_ps(va, _mm_loadu_ps(x + i))));
		_mm_storeu_ps(y + i + 4, _mm_add_ps(_mm_loadu_ps(y + i + 4),
		    _mm_mul_ps(va, _mm_loadu_ps(x + i + 4))));
	}
	for (; i + 4 <= n; i += 4)
		_mm_storeu_ps(y + i, _mm_add_ps(_mm_loadu_ps(y + i),
		    _mm_mul_ps(va, _mm_loadu_ps(x + i))));
	for (; i < n; i++)
		y[i] += a * x[i];
}

/*
 * The GEMM micro-kernel.  Per step k it loads a column of the A panel
 * (four rows) and a row of the B panel, broadcasts each A value with a
 * shuffle and accumulates its products with the B row: 4 x NR lanes
 * of running sums, each in increasing k from zero like the reference.
 * x86-64 has 16 xmm registers and keeps a 4 x 8 tile (8 sums, 2 B
 * vectors, the A column and 2 temporaries); i686 has 8 and keeps
 * 4 x 4 (4 sums, 1 B vector, the A column, 1 temporary).
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
	tl_tile_out_sse2(r, c, ldc, m, n, acc);
}
#else
SSE2 void
tl_gemm_tile_sse2(int K, const void *pa, const void *pb, float *c, long ldc,
    int m, int n, int acc)
{
	const float *a = pa, *b = pb;
	__m128 c0 = _mm_setzero_ps(), c1 = c0, c2 = c0, c3 = c0;
	__m128 r[4];
	int k;

	for (k = 0; k < K; k++, a += 4, b += 4) {
		__m128 av = _mm_load_ps(a), b0 = _mm_load_ps(b);

		TL_TILE_4X1(c);
	}
	r[0] = c0; r[1] = c1; r[2] = c2; r[3] = c3;
	tl_tile_out_sse2(r, c, ldc, m, n, acc);
}
#endif
#undef BC
#undef ACC

/*
 * Pack a GEMM panel (see gemm_pack_ref), any R (AVX2's A panels have
 * 6 rows) and edge panels (w < R) included.  Rows that run along k
 * (ks = 1: A and B of x.W^T, A of dY.W, attention's K^T) are
 * transposed 4 x 4 in registers, a last pair of rows interleaved;
 * rows along i (ws = 1) are copied a vector at a time; anything else
 * goes element by element.
 */
SSE2 void
tl_gemm_pack_sse2(float *dst, int R, const float *src, long ws, long ks,
    int w, int kc)
{
	__m128 r0, r1, r2, r3;
	const float *s;
	int i, k;

	if (ks == 1) {
		for (i = 0; i + 4 <= w; i += 4) {
			s = src + i * ws;
			for (k = 0; k + 4 <= kc; k += 4) {
				r0 = _mm_loadu_ps(s + k);
				r1 = _mm_loadu_ps(s + ws + k);
				r2 = _mm_loadu_ps(s + 2 * ws + k);
				r3 = _mm_loadu_ps(s + 3 * ws + k);
				_MM_TRANSPOSE4_PS(r0, r1, r2, r3);
				_mm_storeu_ps(dst + k * R + i, r0);
				_mm_storeu_ps(dst + (k + 1) * R + i, r1);
				_mm_storeu_ps(dst + (k + 2) * R + i, r2);
				_mm_storeu_ps(dst + (k + 3) * R + i, r3);
			}
			for (; k < kc; k++) {
				dst[k * R + i] = s[k];
				dst[k * R + i + 1] = s[ws + k];
				dst[k * R + i + 2] = s[2 * ws + k];
				dst[k * R + i + 3] = s[3 * ws + k];
			}
		}
		if (i + 2 <= w) {
			s = src + i * ws;
			for (k = 0; k + 4 <= kc; k += 4) {
				r0 = _mm_loadu_ps(s + k);
				r1 = _mm_loadu_ps(s + ws + k);
				r2 = _mm_unpacklo_ps(r0, r1);	/* k, k+1 */
				r3 = _mm_unpackhi_ps(r0, r1);	/* k+2, k+3 */
				_mm_storel_pi((__m64 *)(void *)(dst + k * R + i), r2);
				_mm_storeh_pi((__m64 *)(void *)(dst + (k + 1) * R + i), r2);
				_mm_storel_pi((__m64 *)(void *)(dst + (k + 2) * R + i), r3);
				_mm_storeh_pi((__m64 *)(void *)(dst + (k + 3) * R + i), r3);
			}
			for (; k < kc; k++) {
				dst[k * R + i] = s[k];
				dst[k * R + i + 1] = s[ws + k];
			}
			i += 2;
		}
		for (; i < R; i++)
			for (k = 0; k < kc; k++)
				dst[k * R + i] = i < w ? src[i * ws + k] : 0;
		return;
	}
	if (ws == 1) {
		for (k = 0; k < kc; k++, dst += R, src += ks) {
			for (i = 0; i + 4 <= w; i += 4)
				_mm_storeu_ps(dst + i, _mm_loadu_ps(src + i));
			for (; i < w; i++)
				dst[i] = src[i];
			for (; i < R; i++)
				dst[i] = 0;
		}
		return;
	}
	tl_gemm_pack_ref(dst, R, src, ws, ks, w, kc);
}

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
	tl_tile_out_sse2(r, c, ldc, m, n, acc);
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
	tl_tile_out_sse2(r, c, ldc, m, n, acc);
}
#endif
#undef BC
#undef ACC

/* maxps(v, m) returns m when v is NaN: NaNs are skipped, as by the
 * reference's comparison. */
SSE2 float
tl_absmax_sse2(const float *x, int n)
{
	const __m128 abs = _mm_castsi128_ps(_mm_set1_epi32(0x7fffffff));
	__m128 m0 = _mm_setzero_ps(), m1 = m0;
	float m, a;
	int i = 0;

	for (; i + 8 <= n; i += 8) {
		m0 = _mm_max_ps(_mm_and_ps(_mm_loadu_ps(x + i), abs), m0);
		m1 = _mm_max_ps(_mm_and_ps(_mm_loadu_ps(x + i + 4), abs), m1);
	}
	for (; i + 4 <= n; i += 4)
		m0 = _mm_max_ps(_mm_and_ps(_mm_loadu_ps(x + i), abs), m0);
	m = hmax(_mm_max_ps(m0, m1));
	for (; i < n; i++) {
		a = fabsf(x[i]);
		if (a > m)
			m = a;
	}
	return m;
}

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
 * rint without SSE4.1: for |v| < 2^23, (|v| + 2^23) - 2^23 rounds |v|
 * to an integer in the current (nearest-even) mode, and the sign is
 * put back so that -0.3 gives -0 as rintf does; |v| >= 2^23 (already
 * an integer), infinities and NaN pass through unchanged.
 */
SSE2 static inline __m128
rint_sse2(__m128 v)
{
	const __m128 sign = _mm_castsi128_ps(_mm_set1_epi32((int)0x80000000u));
	const __m128 two23 = _mm_set1_ps(8388608.0f);
	__m128 a = _mm_andnot_ps(sign, v);
	__m128 big = _mm_cmpnlt_ps(a, two23);	/* also true for NaN */
	__m128 r = _mm_sub_ps(_mm_add_ps(a, two23), two23);

	r = _mm_or_ps(r, _mm_and_ps(v, sign));
	return _mm_or_ps(_mm_and_ps(big, v), _mm_andnot_ps(big, r));
}

SSE2 void
tl_quant_sse2(float *q, const float *x, int n, float s, float lo, float hi)
{
	tl_quant_body(q, x, n, s, lo, hi, rint_sse2);
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

/* The reference's operations, in its order, four lanes at a time. */
SSE2 void
tl_adamw_sse2(float *p, const float *g, float *m, float *v, int n, float lr,
    float b1, float b2, float eps, float wd, float bc1, float bc2)
{
	__m128 vb1 = _mm_set1_ps(b1), vb2 = _mm_set1_ps(b2);
	__m128 nb1 = _mm_set1_ps(1 - b1), nb2 = _mm_set1_ps(1 - b2);
	__m128 vbc1 = _mm_set1_ps(bc1), vbc2 = _mm_set1_ps(bc2);
	__m128 veps = _mm_set1_ps(eps), vwd = _mm_set1_ps(wd);
	__m128 vlr = _mm_set1_ps(lr);
	__m128 gi, mi, vi, pi, u;
	float mh, vh;
	int i = 0;

	for (; i + 4 <= n; i += 4) {
		gi = _mm_loadu_ps(g + i);
		mi = _mm_add_ps(_mm_mul_ps(vb1, _mm_loadu_ps(m + i)),
		    _mm_mul_ps(nb1, gi));
		vi = _mm_add_ps(_mm_mul_ps(vb2, _mm_loadu_ps(v + i)),
		    _mm_mul_ps(_mm_mul_ps(nb2, gi), gi));
		_mm_storeu_ps(m + i, mi);
		_mm_storeu_ps(v + i, vi);
		pi = _mm_loadu_ps(p + i);
		u = _mm_div_ps(_mm_div_ps(mi, vbc1), _mm_add_ps(_mm_sqrt_ps(
		    _mm_div_ps(vi, vbc2)), veps));
		u = _mm_add_ps(u, _mm_mul_ps(vwd, pi));
		_mm_storeu_ps(p + i, _mm_sub_ps(pi, _mm_mul_ps(vlr, u)));
	}
	for (; i < n; i++) {
		m[i] = b1 * m[i] + (1 - b1) * g[i];
		v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
		mh = m[i] / bc1;
		vh = v[i] / bc2;
		p[i] -= lr * (mh / (sqrtf(vh) + eps) + wd * p[i]);
	}
}

/*
 * exp(x) for x <= 0 (Cephes expf): x = n ln2 + r with |r| <= ln2/2,
 * exp(r) by a degree-7 polynomial, 2^n put into the exponent field.
 * Relative error about 2e-7; below -87.33 (where exp is subnormal)
 * the result is 0.
 */
SSE2 static inline __m128
exp_neg(__m128 x)
{
	const __m128 lo = _mm_set1_ps(-87.3365f);
	__m128 under = _mm_cmplt_ps(x, lo), fn, r, p;
	__m128i n;

	x = _mm_max_ps(x, lo);
	n = _mm_cvtps_epi32(_mm_mul_ps(x, _mm_set1_ps(1.44269504088896341f)));
	fn = _mm_cvtepi32_ps(n);
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
	/* n >= -126 here, so 2^n is a normal number. */
	n = _mm_slli_epi32(_mm_add_epi32(n, _mm_set1_epi32(127)), 23);
	p = _mm_mul_ps(p, _mm_castsi128_ps(n));
	return _mm_andnot_ps(under, p);
}

SSE2 float
tl_softmax_sse2(float *x, int n)
{
	__m128 m0, s0 = _mm_setzero_ps(), s1 = s0, e;
	float mx = x[0], s, inv;
	int i = 0;

	m0 = _mm_set1_ps(mx);
	for (; i + 4 <= n; i += 4)
		m0 = _mm_max_ps(m0, _mm_loadu_ps(x + i));
	mx = hmax(m0);
	for (; i < n; i++)
		if (x[i] > mx)
			mx = x[i];

	m0 = _mm_set1_ps(mx);
	for (i = 0; i + 8 <= n; i += 8) {
		e = exp_neg(_mm_sub_ps(_mm_loadu_ps(x + i), m0));
		_mm_storeu_ps(x + i, e);
		s0 = _mm_add_ps(s0, e);
		e = exp_neg(_mm_sub_ps(_mm_loadu_ps(x + i + 4), m0));
		_mm_storeu_ps(x + i + 4, e);
		s1 = _mm_add_ps(s1, e);
	}
	for (; i + 4 <= n; i += 4) {
		e = exp_neg(_mm_sub_ps(_mm_loadu_ps(x + i), m0));
		_mm_storeu_ps(x + i, e);
		s0 = _mm_add_ps(s0, e);
	}
	s = hsum(_mm_add_ps(s0, s1));
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

#endif /* TL_X86 */
