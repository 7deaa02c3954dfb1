/*
 * fuzz_sfile.c: random access to a token stream in a file (tl_sfile),
 * as tl-train reads it.  The input is written to a file and opened;
 * whatever opens must hold the ids the sequential reader (tl_sreader)
 * reads from the same bytes, read whole and in ranges drawn from the
 * input, and fail, with a message naming the file, exactly where the
 * sequential reader fails.
 */
#include "formats/formats.h"
#include "fuzz.h"

FUZZ_INIT_NONE

/* The ids the sequential reader gets from data (*n of them, malloc'd),
 * or NULL when it fails. */
static uint16_t *
sequential(const uint8_t *data, size_t size, size_t *n)
{
	char err[TL_ERRLEN];
	const uint16_t *c;
	uint16_t *ids = malloc(size + 1);	/* 2 bytes an id at least */
	tl_sreader *r;
	FILE *f = fuzz_memfile(data, size);
	long k;

	FUZZ_CHECK(ids != NULL);
	*n = 0;
	if ((r = tl_sreader_new(f, "fuzz", err)) == NULL) {
		fclose(f);
		free(ids);
		return NULL;
	}
	while ((k = tl_sreader_next(r, &c, err)) > 0) {
		FUZZ_CHECK(*n + (size_t)k <= size / 2);
		memcpy(ids + *n, c, (size_t)k * sizeof(*ids));
		*n += (size_t)k;
	}
	tl_sreader_free(r);
	fclose(f);
	if (k < 0) {
		free(ids);
		return NULL;
	}
	return ids;
}

static void
run(const uint8_t *data, size_t size)
{
	char err[TL_ERRLEN];
	const char *path = fuzz_tmpfile(data, size);
	uint16_t *seq, *out;
	size_t n, i, pos, k, ok = 1;
	tl_sfile *s;
	FILE *f;

	seq = sequential(data, size, &n);
	FUZZ_CHECK((f = fopen(path, "rb")) != NULL);
	if ((s = tl_sfile_open(f, "fuzz", err)) == NULL) {
		FUZZ_CHECK(strstr(err, "fuzz: ") == err);
		FUZZ_CHECK(strchr(err, '\n') == NULL);
		FUZZ_CHECK(seq == NULL);
		fclose(f);
		return;
	}
	FUZZ_CHECK(tl_sfile_mem(s) <= 400 * 1024 + size);
	out = malloc(tl_sfile_count(s) * sizeof(*out) + 2);
	FUZZ_CHECK(out != NULL);
	/* all of it, a piece at a time: as the sequential reader */
	for (pos = 0; pos < tl_sfile_count(s) && ok; pos += k) {
		k = tl_sfile_count(s) - pos < 1000 ? tl_sfile_count(s) - pos :
		    1000;
		ok = tl_sfile_read(s, pos, k, out + pos, err) == 0;
	}
	FUZZ_CHECK(ok == (seq != NULL));
	if (ok) {
		FUZZ_CHECK(tl_sfile_count(s) == n);
		FUZZ_CHECK(n == 0 || memcmp(out, seq, n * sizeof(*out)) == 0);
	} else
		FUZZ_CHECK(strstr(err, "fuzz: ") == err);
	/* ranges named by the input's bytes */
	for (i = 0; ok && n > 0 && i + 4 <= size && i < 64; i += 4) {
		pos = tl_get_u16(data + i) % n;
		k = tl_get_u16(data + i + 2) % (n - pos + 1);
		FUZZ_CHECK(tl_sfile_read(s, pos, k, out, err) == 0);
		FUZZ_CHECK(k == 0 || memcmp(out, seq + pos, k * 2) == 0);
	}
	FUZZ_CHECK(tl_sfile_read(s, tl_sfile_count(s), 1, out, err) != 0);
	free(out);
	free(seq);
	tl_sfile_free(s);
	fclose(f);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *d = fuzz_dup(data, size);

	fix_stream(d, size);
	if (memcmp(d, data, size) != 0)
		run(data, size);
	run(d, size);
	free(d);
	return 0;
}
