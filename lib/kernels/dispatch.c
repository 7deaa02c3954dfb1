/*
 * dispatch.c: the table of SIMD paths, one row (tl_kern) per path, and
 * the choice of the current path, made once from CPUID or TL_SIMD.
 * The rows, built once, and the current path are the only mutable
 * global state of lib/.
 *
 * Each path's row is the one below it plus what the path adds
 * (add_sse ... add_avx2 below):
 *   scalar  the references (kernels_ref.c, tkernels_ref.c): any x86,
 *           e.g. a Pentium II (MMX, no SSE)
 *   sse     every kernel, SSE1 for the floats and MMX for the integers
 *           (kernels_sse.c, tkernels_sse.c): a Pentium III, Athlon 4 or
 *           Athlon XP, which have SSE but not SSE2
 *   sse2    the GEMM tiles (4 x 8 on x86-64), abssum in double lanes,
 *           quant_i8, softmax and every integer kernel on xmm registers
 *           (the int8 cache's too)
 *           (kernels_sse2.c, tkernels_sse2.c)
 *   ssse3   pmaddubsw: the int8 x ternary GEMM (kernels_ssse3.c) and
 *           the tq2 matvec (tkernels_ssse3.c); the float kernels need
 *           none of SSSE3's additions
 *   sse41   quant with roundps (kernels_sse41.c)
 *   avx2    the GEMM tile with 8-wide FMA and the int8 x ternary tile
 *           (kernels_avx2.c), gemv_t with FMA, the tq2 matvec and the
 *           8-bit cache's products (tkernels_avx2.c); needs AVX2, FMA
 *           and an OS that saves the ymm registers
 * A row also names its path and the instruction mix of each kind of
 * kernel on it (tl-bench's peaks).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels_impl.h"
#include "util/util.h"

#ifdef TL_X86
#include <cpuid.h>
#endif

/* The kernels that a path replaces all of, named tl_<entry>_<path>
 * (kernels_impl.h). */
#define EVERY_KERNEL(P) \
	.dot = tl_dot_##P, .axpy = tl_axpy_##P, \
	.gemm_tile = tl_gemm_tile_##P, .gemm_pack = tl_gemm_pack_##P, \
	.absmax = tl_absmax_##P, .abssum = tl_abssum_##P, \
	.quant = tl_quant_##P, .quant_i8 = tl_quant_i8_##P, \
	.adamw = tl_adamw_##P, .softmax = tl_softmax_##P, \
	.tgemm_pack_a = tl_tgemm_pack_##P, .tgemm_pack_b = tl_tgemm_pack_##P, \
	.tgemm_tile = tl_tgemm_tile_##P, .gemv_t = tl_gemv_t_##P, \
	.matvec_tq2 = tl_matvec_tq2_##P, .matvec_tq1 = tl_matvec_tq1_##P, \
	.matvec_q8 = tl_matvec_q8_##P, .matvec_q4 = tl_matvec_q4_##P

/* The scalar path: the references, the specification of every path,
 * with 4 x 8 tiles. */
const tl_kern tl_kern_ref = {
	.name = "scalar",
	.mix = { [TL_KIND_FLOAT] = TL_MIX_F32, [TL_KIND_PRODUCT] = TL_MIX_F32,
	    [TL_KIND_INT] = TL_MIX_I32 },
	EVERY_KERNEL(ref),
	.scores_u8 = tl_scores_u8_ref, .attv_u8 = tl_attv_u8_ref,
	.gemm_mr = TL_REF_MR, .gemm_nr = TL_REF_NR,
	.tgemm_mr = TL_REF_MR, .tgemm_nr = TL_REF_NR,
};

#ifdef TL_X86
/* sse replaces every kernel; its tiles are 4 x 4 (floats) and 4 x 2
 * (MMX integers). */
static const tl_kern kern_sse = {
	EVERY_KERNEL(sse),
	/* the int8 cache's products stay the references' (integers) */
	.scores_u8 = tl_scores_u8_ref, .attv_u8 = tl_attv_u8_ref,
	.gemm_mr = TL_SSE_MR, .gemm_nr = TL_SSE_NR,
	.tgemm_mr = TL_SSE_TMR, .tgemm_nr = TL_SSE_TNR,
};

static void
add_sse(tl_kern *k)
{
	*k = kern_sse;
}

/* sse2: the integer kernels on xmm registers (4 x 8 or, on i686,
 * 4 x 4 int8 x ternary tiles), the 4 x 8 float tile on x86-64, abssum
 * in double lanes, and the conversions of quant_i8 and softmax. */
static void
add_sse2(tl_kern *k)
{
#ifdef __x86_64__
	k->gemm_tile = tl_gemm_tile_sse2;
	k->gemm_mr = TL_SSE2_MR, k->gemm_nr = TL_SSE2_NR;
#endif
	k->abssum = tl_abssum_sse2;
	k->quant_i8 = tl_quant_i8_sse2;
	k->softmax = tl_softmax_sse2;
	k->tgemm_pack_a = tl_tgemm_pack_sse2;
	k->tgemm_pack_b = tl_tgemm_pack_sse2;
	k->tgemm_tile = tl_tgemm_tile_sse2;
	k->tgemm_mr = TL_SSE2_MR, k->tgemm_nr = TL_SSE2_NR;
	k->matvec_tq2 = tl_matvec_tq2_sse2;
	k->matvec_tq1 = tl_matvec_tq1_sse2;
	k->matvec_q8 = tl_matvec_q8_sse2;
	k->matvec_q4 = tl_matvec_q4_sse2;
	k->scores_u8 = tl_scores_u8_sse2;
	k->attv_u8 = tl_attv_u8_sse2;
}

/* ssse3: pmaddubsw for the int8 x ternary GEMM (new panels, same tile
 * shape) and the tq2 matvec. */
static void
add_ssse3(tl_kern *k)
{
	k->tgemm_pack_a = tl_tgemm_pack_a_ssse3;
	k->tgemm_pack_b = tl_tgemm_pack_b_ssse3;
	k->tgemm_tile = tl_tgemm_tile_ssse3;
	k->matvec_tq2 = tl_matvec_tq2_ssse3;
}

/* sse41: quant with roundps. */
static void
add_sse41(tl_kern *k)
{
	k->quant = tl_quant_sse41;
}

/* avx2 replaces the products. */
static void
add_avx2(tl_kern *k)
{
	/* 8-wide FMA: the GEMM tile, 6 x 16, and gemv_t */
	k->gemm_tile = tl_gemm_tile_avx2;
	k->gemm_mr = TL_AVX2_MR, k->gemm_nr = TL_AVX2_NR;
	k->gemv_t = tl_gemv_t_avx2;
	/* vpmaddubsw: the int8 x ternary tile, 4 x 16 on the ssse3
	 * panels, and the tq2 matvec */
	k->tgemm_tile = tl_tgemm_tile_avx2;
	k->tgemm_nr = TL_AVX2_TNR;
	k->matvec_tq2 = tl_matvec_tq2_avx2;
	/* vpmovzxbw: the 8-bit cache's products */
	k->scores_u8 = tl_scores_u8_avx2;
	k->attv_u8 = tl_attv_u8_avx2;
}
#define ADD(f) f
#else
#define ADD(f) NULL	/* no SIMD kernels: the paths are never chosen */
#endif

/* Row p is row p-1, what add changes, the path's name and the mix of
 * each kind of kernel on it; row 0 is tl_kern_ref. */
static const struct {
	const char *name;
	int mix[TL_KIND_N];	/* FLOAT, PRODUCT, INT */
	void (*add)(tl_kern *);
} paths[TL_SIMD_NPATH] = {
	{ NULL, { 0 }, NULL },	/* scalar: tl_kern_ref */
	{ "sse", { TL_MIX_SSE, TL_MIX_SSE, TL_MIX_PMADDWD_MMX }, ADD(add_sse) },
	{ "sse2", { TL_MIX_SSE, TL_MIX_SSE, TL_MIX_PMADDWD }, ADD(add_sse2) },
	{ "ssse3", { TL_MIX_SSE, TL_MIX_SSE, TL_MIX_PMADDUBSW },
	    ADD(add_ssse3) },
	{ "sse41", { TL_MIX_SSE, TL_MIX_SSE, TL_MIX_PMADDUBSW },
	    ADD(add_sse41) },
	{ "avx2", { TL_MIX_SSE, TL_MIX_FMA, TL_MIX_VPMADDUBSW },
	    ADD(add_avx2) },
};
static tl_kern rows[TL_SIMD_NPATH];
static const tl_kern *tables[TL_SIMD_NPATH];
static pthread_once_t rows_once = PTHREAD_ONCE_INIT;

static void
build(void)
{
	int p;

	tables[0] = &tl_kern_ref;
	for (p = 1; p < TL_SIMD_NPATH; p++) {
		rows[p] = *tables[p - 1];
		if (paths[p].add)
			paths[p].add(&rows[p]);
		rows[p].name = paths[p].name;
		memcpy(rows[p].mix, paths[p].mix, sizeof rows[p].mix);
		tables[p] = &rows[p];
	}
}

/* The rows, built on first use. */
static const tl_kern *
row(int path)
{
	pthread_once(&rows_once, build);
	return tables[path];
}

static const char *mixnames[TL_MIX_N] = {
	"mulss+addss", "mulps+addps", "vfmadd231ps", "imul+add",
	"pmaddwd+paddd", "pmaddwd+paddd(mm)", "pmaddubsw+paddw",
	"vpmaddubsw+vpaddw"
};

const char *
tl_mix_name(int mix)
{
	return mix >= 0 && mix < TL_MIX_N ? mixnames[mix] : "?";
}

static int cur = -1;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static unsigned cpu;		/* bit p set if path p runs here */
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
	/* A Pentium II has MMX but not SSE: scalar; a Pentium III has
	 * SSE (and MMX) but not SSE2: sse. */
	if (!(d & bit_SSE) || !(d & bit_MMX))
		return f;
	f |= 1u << TL_SIMD_SSE;
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
	return path >= 0 && path < TL_SIMD_NPATH ? row(path)->name : "?";
}

int
tl_simd_find(const char *name)
{
	int p;

	for (p = 0; p < TL_SIMD_NPATH; p++)
		if (strcmp(name, row(p)->name) == 0)
			return p;
	return -1;
}

/* "scalar, sse, ..., avx2", then " or " and last if not NULL. */
static const char *
path_list(char *buf, size_t n, const char *last)
{
	size_t l = 0;
	int p;

	buf[0] = '\0';
	for (p = 0; p < TL_SIMD_NPATH && l < n; p++) {
		snprintf(buf + l, n - l, "%s%s", p ? ", " : "", row(p)->name);
		l = strlen(buf);
	}
	if (last && l < n)
		snprintf(buf + l, n - l, " or %s", last);
	return buf;
}

int
tl_simd_parse(const char *list, unsigned *set, char *err)
{
	char buf[128], names[96], *t, *save;
	int p;

	*set = 0;
	if (strcmp(list, "all") == 0) {
		for (p = 0; p < TL_SIMD_NPATH; p++)
			if (tl_simd_supported(p))
				*set |= 1u << p;
		return 0;
	}
	snprintf(buf, sizeof buf, "%s", list);
	for (t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if ((p = tl_simd_find(t)) < 0)
			return tl_err(err, "%s: unknown path (%s)", t,
			    path_list(names, sizeof names, "all"));
		if (!tl_simd_supported(p))
			return tl_err(err, "%s: not supported by this CPU", t);
		*set |= 1u << p;
	}
	if (*set == 0)
		return tl_err(err, "'%s': no path", list);
	return 0;
}

static void
detect(void)
{
	cpu = cpu_paths();
}

int
tl_simd_supported(int path)
{
	if (path < 0 || path >= TL_SIMD_NPATH)
		return 0;
	pthread_once(&paths_once, detect);
	return (cpu >> path) & 1;
}

const tl_kern *
tl_k_path(int path)
{
	if (path < 0 || path >= TL_SIMD_NPATH)
		return &tl_kern_ref;
	return row(path);
}

/* The path TL_SIMD asks for, or the best one; -1 with a message if
 * TL_SIMD names an unknown path or one this CPU lacks. */
static int
choose(char *err)
{
	const char *e = getenv("TL_SIMD");
	char names[96];
	int p, best = TL_SIMD_SCALAR;

	for (p = 0; p < TL_SIMD_NPATH; p++)
		if (tl_simd_supported(p))
			best = p;
	if (e == NULL || *e == '\0')
		return best;
	if ((p = tl_simd_find(e)) < 0)
		return tl_err(err, "TL_SIMD=%s: unknown path (%s)", e,
		    path_list(names, sizeof names, NULL));
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
	return row(tl_simd_path());
}
