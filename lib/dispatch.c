/*
 * dispatch.c: choose the kernel path once from CPUID, or from TL_SIMD.
 * The current path below is the only mutable global state of lib/.
 *
 * Paths and what each adds over the one below it:
 *   scalar  the reference (kernels_ref.c): any x86, e.g. a Pentium III
 *           or Athlon XP, which have SSE but not SSE2
 *   sse2    every kernel (kernels_sse2.c)
 *   ssse3   pmaddubsw: the int8 x ternary GEMM (kernels_ssse3.c) and
 *           the packed ternary kernel (tkernels_ssse3.c); the float
 *           kernels need none of SSSE3's additions
 *   sse41   quant with roundps (kernels_sse41.c)
 *   avx2    the GEMM tile with 8-wide FMA and the int8 x ternary tile
 *           (kernels_avx2.c), gemv_t with FMA and the packed ternary
 *           kernel (tkernels_avx2.c); needs AVX2, FMA and an OS that
 *           saves the ymm registers
 * The kernels of inference (gemv_t, the packed weights) are in
 * tkernels_*.c.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "kernels.h"
#include "util.h"

#ifdef TL_X86
#include <cpuid.h>
#endif

static const char *names[TL_SIMD_NPATH] = {
	"scalar", "sse2", "ssse3", "sse41", "avx2"
};

#ifdef TL_X86
static const tl_kern kern_sse2 = {
	.dot = tl_dot_sse2,
	.axpy = tl_axpy_sse2,
	.gemm_tile = tl_gemm_tile_sse2,
	.gemm_mr = TL_SSE2_MR,
	.gemm_nr = TL_SSE2_NR,
	.gemm_pack = tl_gemm_pack_sse2,
	.absmax = tl_absmax_sse2,
	.abssum = tl_abssum_sse2,
	.quant = tl_quant_sse2,
	.quant_i8 = tl_quant_i8_sse2,
	.adamw = tl_adamw_sse2,
	.softmax = tl_softmax_sse2,
	.tgemm_pack_a = tl_tgemm_pack_sse2,
	.tgemm_pack_b = tl_tgemm_pack_sse2,
	.tgemm_tile = tl_tgemm_tile_sse2,
	.tgemm_mr = 4,
	.tgemm_nr = TL_SSE2_NR,
	.gemv_t = tl_gemv_t_sse2,
	.tq2_dot = tl_tq2_dot_sse2,
	.tq1_dot = tl_tq1_dot_sse2,
	.q8_dot = tl_q8_dot_sse2,
	.q4_dot = tl_q4_dot_sse2,
};

static const tl_kern kern_ssse3 = {
	.dot = tl_dot_sse2,
	.axpy = tl_axpy_sse2,
	.gemm_tile = tl_gemm_tile_sse2,
	.gemm_mr = TL_SSE2_MR,
	.gemm_nr = TL_SSE2_NR,
	.gemm_pack = tl_gemm_pack_sse2,
	.absmax = tl_absmax_sse2,
	.abssum = tl_abssum_sse2,
	.quant = tl_quant_sse2,
	.quant_i8 = tl_quant_i8_sse2,
	.adamw = tl_adamw_sse2,
	.softmax = tl_softmax_sse2,
	.tgemm_pack_a = tl_tgemm_pack_a_ssse3,
	.tgemm_pack_b = tl_tgemm_pack_b_ssse3,
	.tgemm_tile = tl_tgemm_tile_ssse3,
	.tgemm_mr = 4,
	.tgemm_nr = TL_SSE2_NR,
	.gemv_t = tl_gemv_t_sse2,
	.tq2_dot = tl_tq2_dot_ssse3,
	.tq1_dot = tl_tq1_dot_sse2,
	.q8_dot = tl_q8_dot_sse2,
	.q4_dot = tl_q4_dot_sse2,
};

static const tl_kern kern_sse41 = {
	.dot = tl_dot_sse2,
	.axpy = tl_axpy_sse2,
	.gemm_tile = tl_gemm_tile_sse2,
	.gemm_mr = TL_SSE2_MR,
	.gemm_nr = TL_SSE2_NR,
	.gemm_pack = tl_gemm_pack_sse2,
	.absmax = tl_absmax_sse2,
	.abssum = tl_abssum_sse2,
	.quant = tl_quant_sse41,
	.quant_i8 = tl_quant_i8_sse2,
	.adamw = tl_adamw_sse2,
	.softmax = tl_softmax_sse2,
	.tgemm_pack_a = tl_tgemm_pack_a_ssse3,
	.tgemm_pack_b = tl_tgemm_pack_b_ssse3,
	.tgemm_tile = tl_tgemm_tile_ssse3,
	.tgemm_mr = 4,
	.tgemm_nr = TL_SSE2_NR,
	.gemv_t = tl_gemv_t_sse2,
	.tq2_dot = tl_tq2_dot_ssse3,
	.tq1_dot = tl_tq1_dot_sse2,
	.q8_dot = tl_q8_dot_sse2,
	.q4_dot = tl_q4_dot_sse2,
};

static const tl_kern kern_avx2 = {
	.dot = tl_dot_sse2,
	.axpy = tl_axpy_sse2,
	.gemm_tile = tl_gemm_tile_avx2,
	.gemm_mr = TL_AVX2_MR,
	.gemm_nr = TL_AVX2_NR,
	.gemm_pack = tl_gemm_pack_sse2,
	.absmax = tl_absmax_sse2,
	.abssum = tl_abssum_sse2,
	.quant = tl_quant_sse41,
	.quant_i8 = tl_quant_i8_sse2,
	.adamw = tl_adamw_sse2,
	.softmax = tl_softmax_sse2,
	.tgemm_pack_a = tl_tgemm_pack_a_ssse3,
	.tgemm_pack_b = tl_tgemm_pack_b_ssse3,
	.tgemm_tile = tl_tgemm_tile_avx2,
	.tgemm_mr = 4,
	.tgemm_nr = 16,
	.gemv_t = tl_gemv_t_avx2,
	.tq2_dot = tl_tq2_dot_avx2,
	.tq1_dot = tl_tq1_dot_sse2,
	.q8_dot = tl_q8_dot_sse2,
	.q4_dot = tl_q4_dot_sse2,
};
#endif

static const tl_kern *tables[TL_SIMD_NPATH] = {
	&tl_kern_ref,
#ifdef TL_X86
	&kern_sse2, &kern_ssse3, &kern_sse41, &kern_avx2,
#endif
};

static int cur = -1;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static unsigned paths;		/* bit p set if path p runs here */
static pthread_once_t paths_once = PTHREAD_ONCE_INIT;

#ifdef TL_X86
/* XCR0: which register states the OS saves on a context switch. */
static unsigned
xgetbv0(void)
{
	unsigned lo, hi;

	/* xgetbv, spelt out for old assemblers */
	__asm__ __volatile__(".byte 0x0f, 0x01, 0xd0"
	    : "=a"(lo), "=d"(hi) : "c"(0));
	(void)hi;
	return lo;
}

/* Bit p set for every path p this CPU (and OS) can run. */
static unsigned
cpu_paths(void)
{
	unsigned a, b, c, d, max, f = 1u << TL_SIMD_SCALAR;

	/* On i386 this also checks that CPUID exists at all (a 486 may
	 * lack it) and returns 0 if not. */
	max = __get_cpuid_max(0, NULL);
	if (max < 1)
		return f;
	__cpuid(1, a, b, c, d);
	/* A Pentium III has SSE but not SSE2: scalar. */
	if (!(d & bit_SSE2))
		return f;
	f |= 1u << TL_SIMD_SSE2;
	if (c & bit_SSSE3)
		f |= 1u << TL_SIMD_SSSE3;
	if ((c & bit_SSSE3) && (c & bit_SSE4_1))
		f |= 1u << TL_SIMD_SSE41;
	if (max >= 7 && (f & 1u << TL_SIMD_SSE41) && (c & bit_FMA) &&
	    (c & bit_AVX) && (c & bit_OSXSAVE) && (xgetbv0() & 6) == 6) {
		__cpuid_count(7, 0, a, b, c, d);
		if (b & bit_AVX2)
			f |= 1u << TL_SIMD_AVX2;
	}
	return f;
}
#else
static unsigned
cpu_paths(void)
{
	return 1u << TL_SIMD_SCALAR;
}
#endif

const char *
tl_simd_name(int path)
{
	return path >= 0 && path < TL_SIMD_NPATH ? names[path] : "?";
}

static void
detect(void)
{
	paths = cpu_paths();
}

int
tl_simd_supported(int path)
{
	if (path < 0 || path >= TL_SIMD_NPATH)
		return 0;
	pthread_once(&paths_once, detect);
	return (paths >> path) & 1;
}

const tl_kern *
tl_k_path(int path)
{
	if (path < 0 || path >= TL_SIMD_NPATH || tables[path] == NULL)
		return &tl_kern_ref;
	return tables[path];
}

/* The path TL_SIMD asks for, or the best one; -1 with a message if
 * TL_SIMD names an unknown path or one this CPU lacks. */
static int
choose(char *err)
{
	const char *e = getenv("TL_SIMD");
	int p, best = TL_SIMD_SCALAR;

	for (p = 0; p < TL_SIMD_NPATH; p++)
		if (tl_simd_supported(p))
			best = p;
	if (e == NULL || *e == '\0')
		return best;
	for (p = 0; p < TL_SIMD_NPATH; p++)
		if (strcmp(e, names[p]) == 0)
			break;
	if (p == TL_SIMD_NPATH)
		return tl_err(err, "TL_SIMD=%s: unknown path (scalar, sse2, "
		    "ssse3, sse41, avx2)", e);
	if (!tl_simd_supported(p))
		return tl_err(err, "TL_SIMD=%s: not supported by this CPU", e);
	return p;
}

/* First use without tl_simd_init: take TL_SIMD if valid, else the
 * scalar path (a program that cares calls tl_simd_init and reports
 * the error). */
static void
lazy_init(void)
{
	int p;

	if (cur < 0)
		cur = (p = choose(NULL)) < 0 ? TL_SIMD_SCALAR : p;
}

int
tl_simd_set(int path)
{
	if (path < 0 || path >= TL_SIMD_NPATH || !tl_simd_supported(path))
		return -1;
	pthread_once(&once, lazy_init);
	cur = path;
	return 0;
}

int
tl_simd_init(char *err)
{
	int p = choose(err);

	pthread_once(&once, lazy_init);
	if (p < 0)
		return -1;
	cur = p;
	return 0;
}

int
tl_simd_path(void)
{
	pthread_once(&once, lazy_init);
	return cur;
}

const tl_kern *
tl_k(void)
{
	return tables[tl_simd_path()];
}
