/*
 * fuzz_stream.c: the token stream reader (tl-tokens(5)), as
 * tl-tokenize -d, tl-train and tl-eval use it: chunk by chunk
 * (tl_sreader) and whole (tl_stream_load).  A stream that reads must
 * hold ids below its vocabulary, decode, and write back to a stream
 * that reads the same.
 */
#include "formats/formats.h"
#include "fuzz.h"
#include "tok/tok.h"

FUZZ_INIT_NONE

/* Write tok and ids as a stream into memory, read it back, compare. */
static void
rewrite(const tl_tok *tok, const uint16_t *ids, size_t n)
{
	char err[TL_ERRLEN], *buf = NULL;
	size_t len = 0, n2;
	uint16_t *ids2;
	tl_swriter *w;
	tl_tok t2;
	FILE *f = open_memstream(&buf, &len);

	FUZZ_CHECK(f != NULL);
	FUZZ_CHECK((w = tl_swriter_new(f, tok, err)) != NULL);
	FUZZ_CHECK(tl_swriter_put(w, ids, n, err) == 0);
	FUZZ_CHECK(tl_swriter_end(w, err) == 0);
	FUZZ_CHECK(fclose(f) == 0);
	f = fuzz_memfile((const uint8_t *)buf, len);
	FUZZ_CHECK(tl_stream_load(f, "again", &t2, &ids2, &n2, err) == 0);
	fclose(f);
	FUZZ_CHECK(tl_tok_equal(tok, &t2));
	FUZZ_CHECK(n2 == n && (n == 0 || memcmp(ids, ids2, 2 * n) == 0));
	tl_tok_free(&t2);
	free(ids2);
	free(buf);
}

/* Read data chunk by chunk; with whole, also at once and back. */
static void
run(const uint8_t *data, size_t size, int whole)
{
	char err[TL_ERRLEN];
	const uint16_t *c;
	const unsigned char *p;
	uint16_t *ids;
	size_t n, len, i, total = 0;
	unsigned sum = 0;
	tl_sreader *r;
	tl_tok tok;
	long k;
	FILE *f;

	f = fuzz_memfile(data, size);
	if ((r = tl_sreader_new(f, "fuzz", err)) != NULL) {
		const tl_tok *t = tl_sreader_tok(r);

		while ((k = tl_sreader_next(r, &c, err)) > 0) {
			FUZZ_CHECK(k <= TL_STREAM_CHUNK_MAX);
			for (i = 0; i < (size_t)k; i++) {
				FUZZ_CHECK(c[i] < t->vocab);
				p = tl_tok_piece(t, c[i], &len);
				FUZZ_CHECK(len >= 1 && len <= TL_TOK_MAXPIECE);
				sum += p[0] + p[len - 1];
			}
			total += (size_t)k;
		}
		FUZZ_CHECK(k == 0 || strstr(err, "fuzz: ") == err);
		tl_sreader_free(r);
	} else
		FUZZ_CHECK(strstr(err, "fuzz: ") == err);
	fclose(f);
	(void)sum;
	if (!whole)
		return;

	f = fuzz_memfile(data, size);
	if (tl_stream_load(f, "fuzz", &tok, &ids, &n, err) == 0) {
		FUZZ_CHECK(n == total);
		rewrite(&tok, ids, n);
		tl_tok_free(&tok);
		free(ids);
	}
	fclose(f);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *d = fuzz_dup(data, size);

	fix_stream(d, size);
	if (memcmp(d, data, size) != 0)
		run(data, size, 0);
	run(d, size, 1);
	free(d);
	return 0;
}
