/*
 * dispatch.c: choose the kernel path once from CPUID, or from TL_SIMD.
 * The table pointer below is the only mutable global state of lib/.
 */
#include <stdlib.h>
#include <string.h>

#include "kernels.h"
#include "util.h"

static const char *names[TL_SIMD_NPATH] = {
	"scalar", "sse2", "ssse3", "sse41", "avx2"
};

static int cur = -1;

const char *
tl_simd_name(int path)
{
	return path >= 0 && path < TL_SIMD_NPATH ? names[path] : "?";
}

int
tl_simd_supported(int path)
{
	return path == TL_SIMD_SCALAR;
}

const tl_kern *
tl_k_path(int path)
{
	(void)path;
	return &tl_kern_ref;
}

int
tl_simd_set(int path)
{
	if (path < 0 || path >= TL_SIMD_NPATH || !tl_simd_supported(path))
		return -1;
	cur = path;
	return 0;
}

int
tl_simd_init(char *err)
{
	const char *e = getenv("TL_SIMD");
	int p, best = TL_SIMD_SCALAR;

	for (p = 0; p < TL_SIMD_NPATH; p++)
		if (tl_simd_supported(p))
			best = p;
	if (e == NULL || *e == '\0') {
		cur = best;
		return 0;
	}
	for (p = 0; p < TL_SIMD_NPATH; p++)
		if (strcmp(e, names[p]) == 0)
			break;
	if (p == TL_SIMD_NPATH)
		return tl_err(err, "TL_SIMD=%s: unknown path (scalar, sse2, "
		    "ssse3, sse41, avx2)", e);
	if (!tl_simd_supported(p))
		return tl_err(err, "TL_SIMD=%s: not supported by this CPU", e);
	cur = p;
	return 0;
}

int
tl_simd_path(void)
{
	if (cur < 0)
		tl_simd_init(NULL);
	return cur < 0 ? TL_SIMD_SCALAR : cur;
}

const tl_kern *
tl_k(void)
{
	return tl_k_path(tl_simd_path());
}
