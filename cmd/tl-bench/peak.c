/*
 * peak.c: arithmetic peak for each instruction mix of the kernels.
 *
 * Each mix runs several independent chains of its operations on
 * registers only, enough of them to cover the instructions' latency,
 * so that the loop is bound by how many of them the CPU issues per
 * cycle, as the inner loop of a compute-bound kernel would be at best.
 * An empty asm statement after each iteration tells the compiler that
 * every register may have changed: it can neither hoist the work out
 * of the loop, nor merge the chains into wider vectors, nor drop it.
 *
 * The SSE mix is a GEMM tile's c += a * b over registers; the scalar
 * one pairs multiply chains with add chains (without SSE the asm
 * cannot pin its operands, and chains cannot be hoisted); the FMA mix
 * fuses multiply and add; the integer mixes add each pmadd* into its
 * own sum.  x86-64 keeps 8 sums (16 xmm registers), i686 4 (8); MMX
 * has 8 mm registers everywhere and keeps 4.
 */
#include "kernels/kernels.h"
#include "peak.h"

int
tl_mix_supported(int mix)
{
	int p, k;

	for (p = 0; p < TL_SIMD_NPATH; p++)
		for (k = 0; k < TL_KIND_N; k++)
			if (tl_simd_supported(p) && tl_k_path(p)->mix[k] == mix)
				return 1;
	return 0;
}

/* The compiler must assume that the asm changed v. */
#if defined(__GNUC__) && defined(__SSE_MATH__)
#define FREG(v)	__asm__ __volatile__("" : "+x"(v))
#else
#define FREG(v)	((void)0)	/* x87 or another CPU: no vector merging */
#endif
#if defined(__GNUC__)
#define IREG(v)	__asm__ __volatile__("" : "+r"(v))
#else
#define IREG(v)	((void)0)
#endif

/* 7 multiply chains and 7 add chains of scalar floats: 14 flops. */
static double
peak_f32(long n)
{
	volatile float sink;
	float m0 = 1, m1 = 1, m2 = 1, m3 = 1, m4 = 1, m5 = 1, m6 = 1;
	float a0 = 1, a1 = 1, a2 = 1, a3 = 1, a4 = 1, a5 = 1, a6 = 1;
	float x = 0.9999999f, y = 1e-8f;
	long i;

	for (i = 0; i < n; i++) {
		m0 *= x; m1 *= x; m2 *= x; m3 *= x; m4 *= x; m5 *= x; m6 *= x;
		a0 += y; a1 += y; a2 += y; a3 += y; a4 += y; a5 += y; a6 += y;
		FREG(m0); FREG(m1); FREG(m2); FREG(m3); FREG(m4); FREG(m5);
		FREG(m6); FREG(a0); FREG(a1); FREG(a2); FREG(a3); FREG(a4);
		FREG(a5); FREG(a6);
	}
	sink = m0 + m1 + m2 + m3 + m4 + m5 + m6 + a0 + a1 + a2 + a3 + a4 +
	    a5 + a6;
	(void)sink;
	return 14.0 * n;
}

/* 8 chains of a += x * y on ints (x, y, u, v re-read each time, eight
 * distinct products): 16 ops. */
static double
peak_i32(long n)
{
	volatile int sink;
	int a0 = 1, a1 = 2, a2 = 3, a3 = 4, a4 = 5, a5 = 6, a6 = 7, a7 = 8;
	int x = 3, y = 5, u = 7, v = 9;
	long i;

	for (i = 0; i < n; i++) {
		IREG(x); IREG(y); IREG(u); IREG(v);
		a0 += x * y; a1 += x * u; a2 += x * v; a3 += y * u;
		a4 += y * v; a5 += u * v; a6 += x * x; a7 += y * y;
		IREG(a0); IREG(a1); IREG(a2); IREG(a3);
		IREG(a4); IREG(a5); IREG(a6); IREG(a7);
	}
	sink = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7;
	(void)sink;
	return 16.0 * n;
}

#ifdef TL_X86
#include <emmintrin.h>
#include <tmmintrin.h>
#include <immintrin.h>

#define XR(v)	__asm__ __volatile__("" : "+x"(v))

/*
 * c += a * b as a GEMM tile does it: products of two sets of
 * registers, each added to its own sum.  x86-64: 4 x 2 operands and 8
 * sums (64 flops an iteration); i686: 2 x 2 and 4 (32).
 */
__attribute__((target("sse"))) static double
peak_sse(long n)
{
	volatile float sink;
	__m128 a0 = _mm_set1_ps(1e-3f), a1 = a0, b0 = a0, b1 = a0;
	__m128 c0 = _mm_setzero_ps(), c1 = c0, c2 = c0, c3 = c0;
#ifdef __x86_64__
	__m128 a2 = a0, a3 = a0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
#endif
	long i;

	for (i = 0; i < n; i++) {
		XR(a0); XR(a1); XR(b0); XR(b1);
		c0 = _mm_add_ps(c0, _mm_mul_ps(a0, b0));
		c1 = _mm_add_ps(c1, _mm_mul_ps(a0, b1));
		c2 = _mm_add_ps(c2, _mm_mul_ps(a1, b0));
		c3 = _mm_add_ps(c3, _mm_mul_ps(a1, b1));
		XR(c0); XR(c1); XR(c2); XR(c3);
#ifdef __x86_64__
		XR(a2); XR(a3);
		c4 = _mm_add_ps(c4, _mm_mul_ps(a2, b0));
		c5 = _mm_add_ps(c5, _mm_mul_ps(a2, b1));
		c6 = _mm_add_ps(c6, _mm_mul_ps(a3, b0));
		c7 = _mm_add_ps(c7, _mm_mul_ps(a3, b1));
		XR(c4); XR(c5); XR(c6); XR(c7);
#endif
	}
	c0 = _mm_add_ps(_mm_add_ps(c0, c1), _mm_add_ps(c2, c3));
#ifdef __x86_64__
	c0 = _mm_add_ps(c0, _mm_add_ps(_mm_add_ps(c4, c5), _mm_add_ps(c6, c7)));
	sink = _mm_cvtss_f32(c0);
	(void)sink;
	return 64.0 * n;
#else
	sink = _mm_cvtss_f32(c0);
	(void)sink;
	return 32.0 * n;
#endif
}

/* 12 chains of a = a * x + y on 8 lanes: 192 flops. */
__attribute__((target("avx2,fma"))) static double
peak_fma(long n)
{
	volatile float sink;
	__m256 x = _mm256_set1_ps(0.9999999f), y = _mm256_set1_ps(1e-8f);
	__m256 a0 = _mm256_set1_ps(1), a1 = a0, a2 = a0, a3 = a0, a4 = a0;
	__m256 a5 = a0, a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0;
	long i;

	for (i = 0; i < n; i++) {
		a0 = _mm256_fmadd_ps(a0, x, y); a1 = _mm256_fmadd_ps(a1, x, y);
		a2 = _mm256_fmadd_ps(a2, x, y); a3 = _mm256_fmadd_ps(a3, x, y);
		a4 = _mm256_fmadd_ps(a4, x, y); a5 = _mm256_fmadd_ps(a5, x, y);
		a6 = _mm256_fmadd_ps(a6, x, y); a7 = _mm256_fmadd_ps(a7, x, y);
		a8 = _mm256_fmadd_ps(a8, x, y); a9 = _mm256_fmadd_ps(a9, x, y);
		a10 = _mm256_fmadd_ps(a10, x, y);
		a11 = _mm256_fmadd_ps(a11, x, y);
		XR(a0); XR(a1); XR(a2); XR(a3); XR(a4); XR(a5);
		XR(a6); XR(a7); XR(a8); XR(a9); XR(a10); XR(a11);
	}
	a0 = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(a0, a1),
	    _mm256_add_ps(a2, a3)), _mm256_add_ps(_mm256_add_ps(a4, a5),
	    _mm256_add_ps(a6, a7)));
	a0 = _mm256_add_ps(a0, _mm256_add_ps(_mm256_add_ps(a8, a9),
	    _mm256_add_ps(a10, a11)));
	sink = _mm_cvtss_f32(_mm256_castps256_ps128(a0));
	(void)sink;
	return 192.0 * n;
}

/*
 * The integer mixes: chains of acc += pmadd(x, y), x and y re-read
 * every iteration.  pmaddwd does 8 products and 4 sums, paddd 4 sums:
 * 16 operations per pair; pmaddubsw 16 products and 8 sums, paddw 8:
 * 32; vpmaddubsw twice that.  x86-64 runs 8 chains on x, y, u and v,
 * i686 (8 registers) the first 4, on x and y.
 */
#ifdef __x86_64__
#define NCHAIN 8
#define X64(...) __VA_ARGS__
#else
#define NCHAIN 4
#define X64(...)
#endif
#define CHAINS(T, set1, zero, madd, add, ops) \
	T x = set1(3), y = set1(5), u = set1(7), v = set1(9), z = zero(), r; \
	T a0 = z, a1 = z, a2 = z, a3 = z; \
	X64(T a4 = z, a5 = z, a6 = z, a7 = z;) \
	long i; \
	for (i = 0; i < n; i++) { \
		XR(x); XR(y); X64(XR(u); XR(v);) \
		a0 = add(a0, madd(x, y)); a1 = add(a1, madd(y, x)); \
		a2 = add(a2, madd(x, x)); a3 = add(a3, madd(y, y)); \
		X64(a4 = add(a4, madd(u, v)); a5 = add(a5, madd(v, u)); \
		a6 = add(a6, madd(u, u)); a7 = add(a7, madd(v, v));) \
		XR(a0); XR(a1); XR(a2); XR(a3); \
		X64(XR(a4); XR(a5); XR(a6); XR(a7);) \
	} \
	r = add(add(a0, a1), add(a2, a3)); \
	X64(r = add(r, add(add(a4, a5), add(a6, a7)));) \
	(void)u; \
	(void)v; \
	XR(r); \
	return NCHAIN * (double)(ops) * n

__attribute__((target("sse2"))) static double
peak_pmaddwd(long n)
{
	CHAINS(__m128i, _mm_set1_epi16, _mm_setzero_si128, _mm_madd_epi16,
	    _mm_add_epi32, 16);
}

/*
 * The MMX mix (the sse path's integers), in asm: on x86-64 gcc would
 * emulate MMX's intrinsics on xmm registers.  Four chains on the 8 mm
 * registers, as on i686: two operands, two products in turn, four
 * sums; pmaddwd does 4 products and 2 sums, paddd 2 sums: 8 operations
 * per pair.  emms leaves the x87 registers to the floats, which come
 * after the call.
 */
__attribute__((target("mmx"), noinline)) static void
mmx_chains(long n)
{
	long i;

	__asm__ __volatile__("pxor %%mm4, %%mm4\n\tpxor %%mm5, %%mm5\n\t"
	    "pxor %%mm6, %%mm6\n\tpxor %%mm7, %%mm7\n\t"
	    "pcmpeqw %%mm0, %%mm0\n\tpcmpeqw %%mm1, %%mm1"
	    ::: "mm0", "mm1", "mm4", "mm5", "mm6", "mm7");
	for (i = 0; i < n; i++)
		__asm__ __volatile__(
		    "movq %%mm0, %%mm2\n\tpmaddwd %%mm1, %%mm2\n\t"
		    "paddd %%mm2, %%mm4\n\t"
		    "movq %%mm1, %%mm3\n\tpmaddwd %%mm0, %%mm3\n\t"
		    "paddd %%mm3, %%mm5\n\t"
		    "movq %%mm0, %%mm2\n\tpmaddwd %%mm0, %%mm2\n\t"
		    "paddd %%mm2, %%mm6\n\t"
		    "movq %%mm1, %%mm3\n\tpmaddwd %%mm1, %%mm3\n\t"
		    "paddd %%mm3, %%mm7"
		    ::: "mm2", "mm3", "mm4", "mm5", "mm6", "mm7");
	__asm__ __volatile__("emms");
}

static double
peak_pmaddwd_mmx(long n)
{
	mmx_chains(n);
	return 4 * 8.0 * n;
}

__attribute__((target("ssse3"))) static double
peak_pmaddubsw(long n)
{
	CHAINS(__m128i, _mm_set1_epi8, _mm_setzero_si128, _mm_maddubs_epi16,
	    _mm_add_epi16, 32);
}

__attribute__((target("avx2"))) static double
peak_vpmaddubsw(long n)
{
	CHAINS(__m256i, _mm256_set1_epi8, _mm256_setzero_si256,
	    _mm256_maddubs_epi16, _mm256_add_epi16, 64);
}
#endif /* TL_X86 */

double
tl_peak_run(int mix, long n)
{
	if (!tl_mix_supported(mix))
		return 0;
	switch (mix) {
	case TL_MIX_F32:
		return peak_f32(n);
	case TL_MIX_I32:
		return peak_i32(n);
#ifdef TL_X86
	case TL_MIX_SSE:
		return peak_sse(n);
	case TL_MIX_FMA:
		return peak_fma(n);
	case TL_MIX_PMADDWD:
		return peak_pmaddwd(n);
	case TL_MIX_PMADDWD_MMX:
		return peak_pmaddwd_mmx(n);
	case TL_MIX_PMADDUBSW:
		return peak_pmaddubsw(n);
	case TL_MIX_VPMADDUBSW:
		return peak_vpmaddubsw(n);
#endif
	default:
		return 0;
	}
}
