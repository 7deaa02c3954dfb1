/*
 * fuzz.h: what the fuzz harnesses of tests/fuzz share.  Each harness
 * is a libFuzzer target (LLVMFuzzerTestOneInput) built by `make fuzz`
 * with clang, and also, with replay.c as its main, a plain program
 * (build/replay_NAME, part of `make`) that runs it once on each file
 * named on its command line: that is how the bats tests replay the
 * seeds and every crash input in tests/data under gcc and SAN=1.
 *
 * A harness checks what must hold for any input (no crash, no leak, no
 * undefined behaviour: the sanitizers; and properties such as
 * decode(encode(x)) == x: FUZZ_CHECK) and never prints on success.
 *
 * Checksums stop a fuzzer at the first CRC: the readers that check
 * them are run twice, on the input as it is and on a copy whose CRCs
 * were recomputed (fix_* below), so that the mutations reach the
 * parsing behind them.
 */
#ifndef TL_FUZZ_H
#define TL_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kernels/kernels.h"
#include "util/util.h"

#ifndef TL_DATA
#define TL_DATA "tests/data"
#endif

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(c) do { \
	if (!(c)) { \
		fprintf(stderr, "%s:%d: fuzz check failed: %s\n", __FILE__, \
		    __LINE__, #c); \
		abort(); \
	} \
} while (0)

/*
 * For a harness with nothing to set up: an LLVMFuzzerInitialize that
 * does nothing (replay.c calls it either way).
 */
#define FUZZ_INIT_NONE \
int \
LLVMFuzzerInitialize(int *argc, char ***argv) \
{ \
	(void)argc; \
	(void)argv; \
	return 0; \
}

/*
 * For a harness that runs the kernels: pick their path (tl_simd_init;
 * with scalar set and TL_SIMD unset, the scalar one, plain C that the
 * sanitizers see into) and return a pool of one thread.  Exits 2 when
 * the path cannot be had.
 */
static inline tl_pool *
fuzz_kernels(int scalar)
{
	char err[TL_ERRLEN];
	tl_pool *pool;

	if (scalar && getenv("TL_SIMD") == NULL)
		setenv("TL_SIMD", "scalar", 1);
	if (tl_simd_init(err) < 0) {
		fprintf(stderr, "%s\n", err);
		exit(2);
	}
	FUZZ_CHECK((pool = tl_pool_new(1)) != NULL);
	return pool;
}

/*
 * For a harness that only needs the kernels: an LLVMFuzzerInitialize
 * that sets pool (the harness's own tl_pool *) to fuzz_kernels(scalar).
 */
#define FUZZ_INIT_KERNELS(pool, scalar) \
int \
LLVMFuzzerInitialize(int *argc, char ***argv) \
{ \
	(void)argc; \
	(void)argv; \
	(pool) = fuzz_kernels(scalar); \
	return 0; \
}

/* A stdio stream reading data[0..n) (fmemopen refuses n == 0). */
static inline FILE *
fuzz_memfile(const uint8_t *data, size_t n)
{
	FILE *f = n ? fmemopen((void *)data, n, "rb") :
	    fopen("/dev/null", "rb");

	FUZZ_CHECK(f != NULL);
	return f;
}

/* A copy of data that the caller frees (malloc(0) may be NULL). */
static inline uint8_t *
fuzz_dup(const uint8_t *data, size_t n)
{
	uint8_t *p = malloc(n ? n : 1);

	FUZZ_CHECK(p != NULL);
	if (n)
		memcpy(p, data, n);
	return p;
}

/*
 * Recompute the CRC of the header of a token stream or vocabulary file
 * (magic, version, toklen, tok, crc; tl-tokens(5)) in place; returns
 * the offset after it, or 0 if the header is cut short.
 */
static inline size_t
fix_header(uint8_t *d, size_t n)
{
	uint32_t len;

	if (n < 12)
		return 0;
	len = tl_get_u32(d + 8);
	if (len > n || 12 + (size_t)len + 4 > n)
		return 0;
	tl_put_u32(d + 12 + len, tl_crc32(0, d, 12 + (size_t)len));
	return 12 + (size_t)len + 4;
}

/* The header, then every chunk and the end chunk of a token stream. */
static inline void
fix_stream(uint8_t *d, size_t n)
{
	size_t pos = fix_header(d, n), end;
	uint32_t c;

	while (pos != 0 && pos + 4 <= n) {
		c = tl_get_u32(d + pos);
		if (c == 0) {
			if (pos + 16 <= n)
				tl_put_u32(d + pos + 12, tl_crc32(0, d + pos, 12));
			return;
		}
		if (c > 65536)
			return;
		end = pos + 4 + 2 * (size_t)c;
		if (end + 4 > n)
			return;
		tl_put_u32(d + end, tl_crc32(0, d + pos, end - pos));
		pos = end + 4;
	}
}

/* A checkpoint: the CRC of every byte before the last four. */
static inline void
fix_ckpt(uint8_t *d, size_t n)
{
	if (n >= 4)
		tl_put_u32(d + n - 4, tl_crc32(0, d, n - 4));
}

/*
 * A file holding data, for the readers that take a path: one per
 * process, rewritten for each input (in /dev/shm when there is one).
 */
static char fuzz_path[64];

static inline void
fuzz_rmtmp(void)
{
	unlink(fuzz_path);
}

static inline const char *
fuzz_tmpfile(const uint8_t *data, size_t n)
{
	static int fd = -1;
	size_t off = 0;
	ssize_t w;

	if (fd < 0) {
		strcpy(fuzz_path, access("/dev/shm", W_OK) == 0 ?
		    "/dev/shm/tl-fuzz-XXXXXX" : "/tmp/tl-fuzz-XXXXXX");
		fd = mkstemp(fuzz_path);
		FUZZ_CHECK(fd >= 0);
		atexit(fuzz_rmtmp);
	}
	FUZZ_CHECK(ftruncate(fd, 0) == 0);
	while (off < n) {
		w = pwrite(fd, data + off, n - off, (off_t)off);
		FUZZ_CHECK(w > 0);
		off += (size_t)w;
	}
	return fuzz_path;
}

#endif
