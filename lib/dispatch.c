/*
 * dispatch.c: the table of SIMD paths, one row (tl_kern) per path, and
 * the choice of the current path, made once from CPUID or TL_SIMD.
 * The rows, built once, and the current path are the only mutable
 * global state of lib/.
 *
 * Each path's row is the one below it plus what the path adds
 * (add_sse2 ... add_avx2 below):
 *   scalar  the references (kernels_ref.c, tkernels_ref.c): any x86,
 *           e.g. a Pentium III or Athlon XP, which have SSE but not SSE2
 *   sse2    every kernel (kernels_sse2.c, tkernels_sse2.c)
 *   ssse3   pmaddubsw: the int8 x ternary GEMM (kernels_ssse3.c) and
 *           the tq2 matvec (tkernels_ssse3.c); the float kernels need
 *           none of SSSE3's additions
 *   sse41   quant with roundps (kernels_sse41.c)
 *   avx2    the GEMM tile with 8-wide FMA and the int8 x ternary tile
 *           (kernels_avx2.c), gemv_t with FMA and the tq2 matvec
 *           (tkernels_avx2.c); needs AVX2, FMA and an OS that saves
 *           the ymm registers
 * A row also names its path and the instruction mix of each kind of
 * kernel on it (tl-bench's peaks).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels_impl.h"
#include "util.h"

#ifdef TL_X86
#include <cpuid.h>
#endif

/* The scalar path: the references, the specification of every path. */
const tl_kern tl_kern_ref = {
	.name = "scalar",
	.mix = { [TL_KIND_FLOAT] = TL_MIX_F32, [TL_KIND_PRODUCT] = TL_MIX_F32,
	    [TL_KIND_INT] = TL_MIX_I32 },
	.dot = tl_dot_ref,
	.axpy = tl_axpy_ref,
	.gemm_tile = tl_gemm_tile_ref,
	.gemm_mr = TL_REF_MR,
	.gemm_nr = TL_REF_NR,
	.gemm_pack = tl_gemm_pack_ref,
	.absmax = tl_absmax_ref,
	.abssum = tl_abssum_ref,
	.quant = tl_quant_ref,
	.quant_i8 = tl_quant_i8_ref,
	.adamw = tl_adamw_ref,
	.softmax = tl_softmax_ref,
	.tgemm_pack_a = tl_tgemm_pack_ref,
	.tgemm_pack_b = tl_tgemm_pack_ref,
	.tgemm_tile = tl_tgemm_tile_ref,
	.tgemm_mr = TL_REF_MR,
	.tgemm_nr = TL_REF_NR,
	.gemv_t = tl_gemv_t_ref,
	.matvec_tq2 = tl_matvec_tq2_ref,
	.matvec_tq1 = tl_matvec_tq1_ref,
	.matvec_q8 = tl_matvec_q8_ref,
	.matvec_q4 = tl_matvec_q4_ref,
};

/* sse2 replaces every kernel. */
static void
add_sse2(tl_kern *k)
{
	k->name = "sse2";
	k->mix[TL_KIND_FLOAT] = TL_MIX_SSE;
	k->mix[TL_KIND_PRODUCT] = TL_MIX_SSE;
	k->mix[TL_KIND_INT] = TL_MIX_PMADDWD;
#ifdef TL_X86
	k->dot = tl_dot_sse2;
	k->axpy = tl_axpy_sse2;
	k->gemm_tile = tl_gemm_tile_sse2;
	k->gemm_mr = TL_SSE2_MR;
	k->gemm_nr = TL_SSE2_NR;
	k->gemm_pack = tl_gemm_pack_sse2;
	k->absmax = tl_absmax_sse2;
	k->abssum = tl_abssum_sse2;
	k->quant = tl_quant_sse2;
	k->quant_i8 = tl_quant_i8_sse2;
	k->adamw = tl_adamw_sse2;
	k->softmax = tl_softmax_sse2;
	k->tgemm_pack_a = tl_tgemm_pack_sse2;
	k->tgemm_pack_b = tl_tgemm_pack_sse2;
	k->tgemm_tile = tl_tgemm_tile_sse2;
	k->tgemm_mr = 4;
	k->tgemm_nr = TL_SSE2_NR;
	k->gemv_t = tl_gemv_t_sse2;
	k->matvec_tq2 = tl_matvec_tq2_sse2;
	k->matvec_tq1 = tl_matvec_tq1_sse2;
	k->matvec_q8 = tl_matvec_q8_sse2;
	k->matvec_q4 = tl_matvec_q4_sse2;
#endif
}

/* ssse3: pmaddubsw for the int8 x ternary GEMM (new panels, same tile
 * shape) and the tq2 matvec. */
static void
add_ssse3(tl_kern *k)
{
	k->name = "ssse3";
	k->mix[TL_KIND_INT] = TL_MIX_PMADDUBSW;
#ifdef TL_X86
	k->tgemm_pack_a = tl_tgemm_pack_a_ssse3;
	k->tgemm_pack_b = tl_tgemm_pack_b_ssse3;
	k->tgemm_tile = tl_tgemm_tile_ssse3;
	k->matvec_tq2 = tl_matvec_tq2_ssse3;
#endif
}

/* sse41: quant with roundps. */
static void
add_sse41(tl_kern *k)
{
	k->name = "sse41";
#ifdef TL_X86
	k->quant = tl_quant_sse41;
#endif
}

/* avx2: the GEMM tile and gemv_t with 8-wide FMA, the int8 x ternary
 * tile (on the ssse3 panels) and the tq2 matvec with vpmaddubsw. */
static void
add_avx2(tl_kern *k)
{
	k->name = "avx2";
	k->mix[TL_KIND_PRODUCT] = TL_MIX_FMA;
	k->mix[TL_KIND_INT] = TL_MIX_VPMADDUBSW;
#ifdef TL_X86
	k->gemm_tile = tl_gemm_tile_avx2;
	k->gemm_mr = TL_AVX2_MR;
	k->gemm_nr = TL_AVX2_NR;
	k->tgemm_tile = tl_tgemm_tile_avx2;
	k->tgemm_nr = TL_AVX2_TNR;
	k->gemv_t = tl_gemv_t_avx2;
	k->matvec_tq2 = tl_matvec_tq2_avx2;
#endif
}

/* Path p's row is path p-1's with what add[p] changes. */
static void (*const add[TL_SIMD_NPATH])(tl_kern *) = {
	NULL, add_sse2, add_ssse3, add_sse41, add_avx2
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
		add[p](&rows[p]);
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
	"pmaddwd+paddd", "pmaddubsw+paddw", "vpmaddubsw+vpaddw"
};

const char *
tl_mix_name(int mix)
{
	return mix >= 0 && mix < TL_MIX_N ? mixnames[mix] : "?";
}

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

/* "scalar, sse2, ..., avx2", then " or " and last if not NULL. */
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
