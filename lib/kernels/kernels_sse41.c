/*
 * kernels_sse41.c: the kernels that SSE4.1 makes faster.  roundps
 * rounds to nearest even in one instruction, with rintf's signed zeros
 * and NaN, where SSE2 needs eight (see rint_sse2), and blendvps picks
 * the NaN lanes in one; eight floats a step (tl_quant_body, through a
 * rounding function, costs half again as many instructions here).
 * Every other kernel of the path is SSE2's (dispatch.c).
 */
#include "kernels_impl.h"

#ifdef TL_X86
#include <math.h>
#include <smmintrin.h>

#define SSE41 __attribute__((target("sse4.1")))

/* The clamp of tl_quant_sse2, NaN to lo: bit-exact with the
 * reference. */
SSE41 static __m128
clamp(__m128 r, __m128 vlo, __m128 vhi)
{
	r = _mm_min_ps(vhi, _mm_max_ps(vlo, r));
	return _mm_blendv_ps(r, vlo, _mm_cmpunord_ps(r, r));
}

SSE41 void
tl_quant_sse41(float *q, const float *x, int n, float s, float lo, float hi)
{
	__m128 vs = _mm_set1_ps(s), vlo = _mm_set1_ps(lo), vhi = _mm_set1_ps(hi);
	__m128 r0, r1;
	float f;
	int i = 0;

	for (; i + 8 <= n; i += 8) {
		r0 = _mm_round_ps(_mm_mul_ps(_mm_loadu_ps(x + i), vs),
		    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
		r1 = _mm_round_ps(_mm_mul_ps(_mm_loadu_ps(x + i + 4), vs),
		    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
		_mm_storeu_ps(q + i, clamp(r0, vlo, vhi));
		_mm_storeu_ps(q + i + 4, clamp(r1, vlo, vhi));
	}
	for (; i + 4 <= n; i += 4) {
		r0 = _mm_round_ps(_mm_mul_ps(_mm_loadu_ps(x + i), vs),
		    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
		_mm_storeu_ps(q + i, clamp(r0, vlo, vhi));
	}
	for (; i < n; i++) {
		f = rintf(x[i] * s);
		q[i] = f != f ? lo : f < lo ? lo : f > hi ? hi : f;
	}
}

#endif /* TL_X86 */
