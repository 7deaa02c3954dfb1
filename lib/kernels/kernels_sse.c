/*
 * kernels_sse.c: the SSE path, for the laptops and desktops of 1999 to
 * 2002 (Pentium III, Athlon 4 and XP) that have SSE, four-wide float
 * SIMD, and MMX, 64-bit integer SIMD with pmaddwd, but not SSE2.  The
 * float kernels are SSE1 (mulps, addps, maxps, shufps ...); the
 * int8 x ternary GEMM is MMX, as are the matvecs of tkernels_sse.c.
 * sse2 keeps the kernels here that SSE2 would not change (dispatch.c).
 *
 * Elementwise kernels (axpy, quant, quant_i8, adamw) do the reference's
 * IEEE operations in the reference's order, so on x86-64 they give its
 * very bits; the reductions (dot, abssum, softmax's sum) keep several
 * partial sums and so differ from it by rounding only.
 *
 * Without SSE2 the conversions between floats and integers are the
 * scalar cvtss2si and cvttss2si, or MMX's cvtps2pi; doubles are x87's.
 * kernels_sse.h says how the file is compiled and how MMX and x87 are
 * kept apart.
 */
#include "kernels_sse.h"

#ifdef TL_X86
#include <math.h>
#include <stdint.h>
#include <string.h>

/* Four accumulators of four lanes hide the latency of addps. */
SSE float
tl_dot_sse(const float *a, const float *b, int n)
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
	s = tl_hsum_ps(_mm_add_ps(_mm_add_ps(s0, s1), _mm_add_ps(s2, s3)));
	for (; i < n; i++)
		s += a[i] * b[i];
	return s;
}

SSE void
tl_axpy_sse(float *y, float a, const float *x, int n)
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
 * The GEMM micro-kernel, 4 x 4 (4 sums, a B vector, the A column and a
 * temporary of the 8 xmm registers): per step k, a column of the A
 * panel (four rows) and a row of the B panel; each A value broadcast
 * with a shuffle times the B row into its running sums, in increasing
 * k from zero like the reference.
 */
#define BC(i) _mm_shuffle_ps(av, av, 0x55 * (i))
#define ACC(s, x, y) _mm_add_ps(s, _mm_mul_ps(x, y))
SSE void
tl_gemm_tile_sse(int K, const void *pa, const void *pb, float *c, long ldc,
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
	tl_tile_out_sse(r, 4, c, ldc, m, n, acc);
}
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
SSE void
tl_gemm_pack_sse(float *dst, int R, const float *src, long ws, long ks,
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
 * Int8 x ternary GEMM on MMX: pmaddwd multiplies four pairs of int16
 * and adds each pair into an int32 lane.  The panels are sse2's
 * (kernels_sse2.c): 32-bit unit p*R + i is row i's values at k = 2p
 * and 2p + 1.  cvttps2pi converts two floats at a time (exact: they
 * are integers) and packssdw narrows four to int16, whose halves go to
 * units p and p + 1.
 */
MMX void
tl_tgemm_pack_sse(void *dst, int R, const float *src, long ld, int w, int kc)
{
	uint8_t *d = dst;
	int kp = (kc + 3) & ~3, i, k;
	int32_t u;
	int16_t h;

	for (i = 0; i < R; i++) {
		const float *s = src + i * ld;

		k = 0;
		if (i < w)
			for (; k + 4 <= kc; k += 4) {
				__m128 v = _mm_loadu_ps(s + k);
				__m64 q = _mm_packs_pi32(_mm_cvttps_pi32(v),
				    _mm_cvttps_pi32(_mm_movehl_ps(v, v)));

				u = _mm_cvtsi64_si32(q);
				memcpy(d + 4 * (k / 2 * R + i), &u, 4);
				u = _mm_cvtsi64_si32(_mm_srli_si64(q, 32));
				memcpy(d + 4 * ((k / 2 + 1) * R + i), &u, 4);
			}
		for (; k < kp; k++) {
			h = (int16_t)(i < w && k < kc ?
			    _mm_cvtt_ss2si(_mm_load_ss(s + k)) : 0);
			memcpy(d + 4 * (k / 2 * R + i) + 2 * (k & 1), &h, 2);
		}
	}
	_mm_empty();
}

/* The 4 x 2 tile's sums t[2i + j], exact: a row's unit of A broadcast
 * to both halves times the unit pair of B's two columns, per k pair. */
MMX static void
tgemm_sums(int np, const uint8_t *a, const __m64 *b, int32_t *t)
{
	__m64 c0 = _mm_setzero_si64(), c1 = c0, c2 = c0, c3 = c0, bv;
	int32_t u;
	int p;

#define ROW(i, c) \
	memcpy(&u, a + 4 * (i), 4); \
	c = _mm_add_pi32(c, _mm_madd_pi16(_mm_unpacklo_pi32( \
	    _mm_cvtsi32_si64(u), _mm_cvtsi32_si64(u)), bv))
	for (p = 0; p < np; p++, a += 16, b++) {
		bv = *b;
		ROW(0, c0);
		ROW(1, c1);
		ROW(2, c2);
		ROW(3, c3);
	}
#undef ROW
	memcpy(t, &c0, 8);
	memcpy(t + 2, &c1, 8);
	memcpy(t + 4, &c2, 8);
	memcpy(t + 6, &c3, 8);
	_mm_empty();
}

/* The sums become floats after emms (exact: integers below 2^24). */
void
tl_tgemm_tile_sse(int kc, const void *a, const void *b, float *c, long ldc,
    int m, int n, int acc)
{
	int32_t t[8];
	int i, j;

	tgemm_sums(((kc + 3) & ~3) / 2, a, b, t);
	for (i = 0; i < m; i++)
		for (j = 0; j < n; j++)
			c[i * ldc + j] = acc ? c[i * ldc + j] + (float)t[2 * i + j] :
			    (float)t[2 * i + j];
}

/* maxps(v, m) returns m when v is NaN: NaNs are skipped, as by the
 * reference's comparison. */
SSE float
tl_absmax_sse(const float *x, int n)
{
	const __m128 sign = _mm_set1_ps(-0.0f);
	__m128 m0 = _mm_setzero_ps(), m1 = m0;
	float m, a;
	int i = 0;

	for (; i + 8 <= n; i += 8) {
		m0 = _mm_max_ps(_mm_andnot_ps(sign, _mm_loadu_ps(x + i)), m0);
		m1 = _mm_max_ps(_mm_andnot_ps(sign, _mm_loadu_ps(x + i + 4)), m1);
	}
	for (; i + 4 <= n; i += 4)
		m0 = _mm_max_ps(_mm_andnot_ps(sign, _mm_loadu_ps(x + i)), m0);
	m = tl_hmax_ps(_mm_max_ps(m0, m1));
	for (; i < n; i++) {
		a = fabsf(x[i]);
		if (a > m)
			m = a;
	}
	return m;
}

/* SSE has no double lanes: four running sums in double (x87's on a
 * Pentium III), which a float sum of blocks would not match. */
double
tl_abssum_sse(const float *x, int n)
{
	double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
	int i = 0;

	for (; i + 4 <= n; i += 4) {
		s0 += fabsf(x[i]);
		s1 += fabsf(x[i + 1]);
		s2 += fabsf(x[i + 2]);
		s3 += fabsf(x[i + 3]);
	}
	for (; i < n; i++)
		s0 += fabsf(x[i]);
	return (s0 + s2) + (s1 + s3);
}

/*
 * rint without SSE4.1 (nor SSE2): for |v| < 2^23, (|v| + 2^23) - 2^23
 * rounds |v| to an integer in the current (nearest-even) mode, and the
 * sign is put back so that -0.3 gives -0 as rintf does; |v| >= 2^23
 * (already an integer), infinities and NaN pass through unchanged.
 */
SSE static inline __m128
rint_sse(__m128 v)
{
	const __m128 sign = _mm_set1_ps(-0.0f);
	const __m128 two23 = _mm_set1_ps(8388608.0f);
	__m128 a = _mm_andnot_ps(sign, v);
	__m128 big = _mm_cmpnlt_ps(a, two23);	/* also true for NaN */
	__m128 r = _mm_sub_ps(_mm_add_ps(a, two23), two23);

	r = _mm_or_ps(r, _mm_and_ps(v, sign));
	return _mm_or_ps(_mm_and_ps(big, v), _mm_andnot_ps(big, r));
}

SSE void
tl_quant_sse(float *q, const float *x, int n, float s, float lo, float hi)
{
	tl_quant_body(q, x, n, s, lo, hi, rint_sse);
}

/*
 * Clamping to [-128, 127] before rounding is the same as after (the
 * bounds are integers); cvtss2si then rounds each lane to nearest
 * even, as rintf does.
 */
SSE void
tl_quant_i8_sse(int8_t *q, const float *x, int n, float s)
{
	__m128 vs = _mm_set1_ps(s), v;
	__m128 lo = _mm_set1_ps(-128.0f), hi = _mm_set1_ps(127.0f);
	float r;
	int i = 0;

	for (; i + 4 <= n; i += 4) {
		v = _mm_min_ps(_mm_max_ps(_mm_mul_ps(_mm_loadu_ps(x + i), vs),
		    lo), hi);
		q[i] = (int8_t)_mm_cvtss_si32(v);
		q[i + 1] = (int8_t)_mm_cvtss_si32(_mm_shuffle_ps(v, v, 0x55));
		q[i + 2] = (int8_t)_mm_cvtss_si32(_mm_movehl_ps(v, v));
		q[i + 3] = (int8_t)_mm_cvtss_si32(_mm_shuffle_ps(v, v, 0xff));
	}
	for (; i < n; i++) {
		r = rintf(x[i] * s);
		q[i] = (int8_t)(!(r >= -128) ? -128 : r > 127 ? 127 : r);
	}
}

/* The reference's operations, in its order, four lanes at a time. */
SSE void
tl_adamw_sse(float *p, const float *g, float *m, float *v, int n, float lr,
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

/* 2^n for tl_exp_neg: n = rint(t) by rint_sse and, from the four
 * lanes' cvtss2si (which round alike), in the exponent field through
 * memory. */
SSE static inline __m128
pow2_sse(__m128 t, __m128 *fn)
{
	union { __m128 v; uint32_t u[4]; } e;

	*fn = rint_sse(t);
	e.u[0] = (uint32_t)(_mm_cvtss_si32(t) + 127) << 23;
	e.u[1] = (uint32_t)(_mm_cvtss_si32(_mm_shuffle_ps(t, t, 0x55)) + 127) << 23;
	e.u[2] = (uint32_t)(_mm_cvtss_si32(_mm_movehl_ps(t, t)) + 127) << 23;
	e.u[3] = (uint32_t)(_mm_cvtss_si32(_mm_shuffle_ps(t, t, 0xff)) + 127) << 23;
	return e.v;
}

SSE float
tl_softmax_sse(float *x, int n)
{
	return tl_softmax_body(x, n, pow2_sse);
}

#endif /* TL_X86 */
