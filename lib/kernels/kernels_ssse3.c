/*
 * kernels_ssse3.c: the int8 x ternary GEMM of tl_tgemm with SSSE3's
 * pmaddubsw, which multiplies sixteen unsigned bytes by sixteen signed
 * ones and adds adjacent products into eight int16 lanes: four times
 * the multiply-adds of mulps and addps per instruction.
 *
 * pmaddubsw needs one operand unsigned, so the weights t in {-1, 0, 1}
 * are packed as codes t + 1 in {0, 1, 2} and the tile subtracts each
 * activation row's sum at the end:  sum_k (t + 1) x = sum_k t x + sum_k x.
 * A pmaddubsw lane is at most 2 * 2 * 128 = 512 in magnitude, so 63
 * of them fit an int16 lane (32256 < 32767); every 63 groups of four k
 * steps the int16 sums are widened into int32 by pmaddwd with ones.
 * All of it is integer arithmetic: the result is exact, the bits of
 * the reference.
 *
 * Panels of R rows (R a multiple of 4) hold k in groups of four: the
 * 32-bit unit g*R + i is row i's four bytes at k = 4g .. 4g+3.  An A
 * panel is followed by its R row sums (int32).  The AVX2 path uses
 * these same panels (kernels_avx2.c).
 */
#include "kernels_impl.h"

#ifdef TL_X86
#include <stdint.h>
#include <tmmintrin.h>

#define SSSE3 __attribute__((target("ssse3")))

/* Four rows' 16 values each at s (row stride ld), as bytes plus bias
 * (0 or 1): one 16-byte vector per row, k along the bytes. */
SSSE3 static __m128i
row16(const float *s, __m128i bias, __m128i *sum)
{
	__m128i i0 = _mm_add_epi32(_mm_cvttps_epi32(_mm_loadu_ps(s)), bias);
	__m128i i1 = _mm_add_epi32(_mm_cvttps_epi32(_mm_loadu_ps(s + 4)), bias);
	__m128i i2 = _mm_add_epi32(_mm_cvttps_epi32(_mm_loadu_ps(s + 8)), bias);
	__m128i i3 = _mm_add_epi32(_mm_cvttps_epi32(_mm_loadu_ps(s + 12)), bias);

	*sum = _mm_add_epi32(*sum, _mm_add_epi32(_mm_add_epi32(i0, i1),
	    _mm_add_epi32(i2, i3)));
	return _mm_packs_epi16(_mm_packs_epi32(i0, i1), _mm_packs_epi32(i2, i3));
}

/* The panel of either kind: bias 0 (activations, with row sums after
 * the groups) or 1 (weights as codes, padded with code 1). */
SSSE3 static void
pack(void *dst, int R, const float *src, long ld, int w, int kc, int bias)
{
	int8_t *d = dst;
	int ng = (kc + 3) / 4, i0, i, k, v;
	int32_t *rs = (int32_t *)(void *)(d + (long)ng * R * 4);
	__m128i vb = _mm_set1_epi32(bias), s0, s1, s2, s3;
	__m128 r0, r1, r2, r3;
	const float *s;

	for (i0 = 0; i0 < R; i0 += 4) {
		s0 = s1 = s2 = s3 = _mm_setzero_si128();
		k = 0;
		if (i0 + 4 <= w)
			for (; k + 16 <= kc; k += 16) {
				s = src + i0 * ld + k;
				r0 = _mm_castsi128_ps(row16(s, vb, &s0));
				r1 = _mm_castsi128_ps(row16(s + ld, vb, &s1));
				r2 = _mm_castsi128_ps(row16(s + 2 * ld, vb, &s2));
				r3 = _mm_castsi128_ps(row16(s + 3 * ld, vb, &s3));
				/* rows of units become units of rows */
				_MM_TRANSPOSE4_PS(r0, r1, r2, r3);
				_mm_store_ps((float *)(void *)(d + (k / 4 * R + i0) * 4), r0);
				_mm_store_ps((float *)(void *)(d + ((k / 4 + 1) * R + i0) * 4), r1);
				_mm_store_ps((float *)(void *)(d + ((k / 4 + 2) * R + i0) * 4), r2);
				_mm_store_ps((float *)(void *)(d + ((k / 4 + 3) * R + i0) * 4), r3);
			}
		if (!bias) {
			int32_t t[4][4];

			_mm_storeu_si128((__m128i *)(void *)t[0], s0);
			_mm_storeu_si128((__m128i *)(void *)t[1], s1);
			_mm_storeu_si128((__m128i *)(void *)t[2], s2);
			_mm_storeu_si128((__m128i *)(void *)t[3], s3);
			for (i = 0; i < 4; i++)
				rs[i0 + i] = t[i][0] + t[i][1] + t[i][2] + t[i][3];
		}
		for (; k < ng * 4; k++)
			for (i = i0; i < i0 + 4; i++) {
				v = i < w && k < kc ? (int)src[i * ld + k] : 0;
				d[(k / 4 * R + i) * 4 + k % 4] = (int8_t)(v + bias);
				if (!bias)
					rs[i] += v;
			}
	}
}

SSSE3 void
tl_tgemm_pack_a_ssse3(void *dst, int R, const float *src, long ld, int w,
    int kc)
{
	pack(dst, R, src, ld, w, kc, 0);
}

SSSE3 void
tl_tgemm_pack_b_ssse3(void *dst, int R, const float *src, long ld, int w,
    int kc)
{
	pack(dst, R, src, ld, w, kc, 1);
}

#define NR TL_SSE2_NR	/* 8 on x86-64, 4 on i686 (8 xmm registers) */

/* Rows of the finished tile: minus the row sums, as floats, out. */
SSSE3 static void
tile_out(__m128i *s, const int32_t *rs, float *c, long ldc, int m, int n,
    int acc)
{
	__m128 r[NR];
	int i, v;

	for (i = 0; i < 4; i++)
		for (v = 0; v < NR / 4; v++)
			r[i * (NR / 4) + v] = _mm_cvtepi32_ps(_mm_sub_epi32(
			    s[i * (NR / 4) + v], _mm_set1_epi32(rs[i])));
	tl_tile_out_sse(r, TL_SSE2_NR, c, ldc, m, n, acc);
}

#define BC(i) _mm_shuffle_epi32(av, 0x55 * (i))
#define ACC(s, x, y) _mm_add_epi16(s, _mm_maddubs_epi16(y, x))
#define WIDEN(s, h) _mm_add_epi32(s, _mm_madd_epi16(h, ones))
#define LOAD(g) do { \
	av = _mm_load_si128(pa + (g)); \
	b0 = _mm_load_si128(pb + 2 * (g)); \
	b1 = _mm_load_si128(pb + 2 * (g) + 1); \
} while (0)
#ifdef __x86_64__
SSSE3 void
tl_tgemm_tile_ssse3(int kc, const void *a, const void *b, float *c, long ldc,
    int m, int n, int acc)
{
	const __m128i *pa = a, *pb = b, ones = _mm_set1_epi16(1);
	__m128i s[8], h00, h01, h10, h11, h20, h21, h30, h31, av, b0, b1, t;
	int ng = (kc + 3) / 4, g = 0, e, i;

	TL_BYTE_GROUPS_4X2(_mm_setzero_si128(), LOAD);
	tile_out(s, (const int32_t *)(const void *)(pa + ng), c, ldc, m, n, acc);
}
#else
SSSE3 void
tl_tgemm_tile_ssse3(int kc, const void *a, const void *b, float *c, long ldc,
    int m, int n, int acc)
{
	const __m128i *pa = a, *pb = b, ones = _mm_set1_epi16(1);
	__m128i s[4], h0, h1, h2, h3, av, b0;
	int ng = (kc + 3) / 4, g = 0, e, i;

	for (i = 0; i < 4; i++)
		s[i] = _mm_setzero_si128();
	while (g < ng) {
		e = g + TL_BYTE_GROUPS < ng ? g + TL_BYTE_GROUPS : ng;
		h0 = h1 = h2 = h3 = _mm_setzero_si128();
		for (; g < e; g++) {
			av = _mm_load_si128(pa + g);
			b0 = _mm_load_si128(pb + g);
			TL_TILE_4X1(h);
		}
		s[0] = WIDEN(s[0], h0);
		s[1] = WIDEN(s[1], h1);
		s[2] = WIDEN(s[2], h2);
		s[3] = WIDEN(s[3], h3);
	}
	tile_out(s, (const int32_t *)(const void *)(pa + ng), c, ldc, m, n, acc);
}
#endif
#undef BC
#undef ACC
#undef WIDEN
#undef LOAD

#endif /* TL_X86 */
