/*
 * kernels_sse41.c: the kernels that SSE4.1 makes faster.  roundps
 * rounds to nearest even in one instruction, with rintf's signed zeros
 * and NaN, where SSE2 needs eight (see rint_sse2): quant is SSE2's
 * (tl_quant_body) with it.  Every other kernel of the path is SSE2's
 * (dispatch.c).
 */
#include "kernels_impl.h"

#ifdef TL_X86
#include <smmintrin.h>

#define SSE41 __attribute__((target("sse4.1")))

SSE41 static inline __m128
rint_sse41(__m128 v)
{
	return _mm_round_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}

SSE41 void
tl_quant_sse41(float *q, const float *x, int n, float s, float lo, float hi)
{
	tl_quant_body(q, x, n, s, lo, hi, rint_sse41);
}

#endif /* TL_X86 */
