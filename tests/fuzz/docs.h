/*
 * docs.h: what fuzz_jsonl.c and fuzz_csv.c share: read the documents
 * of an input (tl_docs_read), and, when it reads, write them back in
 * the same format (tl_docw) and read that again: the same documents.
 * Decoded text is never longer than its input, so the harness also
 * checks that the reader hands out no more than that.
 */
#ifndef TL_FUZZ_DOCS_H
#define TL_FUZZ_DOCS_H

#include "fuzz.h"
#include "tok/tok.h"

/* The documents read: their bytes and where each ends. */
struct fdocs {
	uint8_t *text;
	size_t n, cap;
	size_t *end;
	size_t ndoc, capdoc;
};

static int
fdocs_piece(void *ctx, const unsigned char *p, size_t n, char *err)
{
	struct fdocs *d = ctx;

	(void)err;
	if (p == NULL) {
		if (d->ndoc == d->capdoc) {
			d->capdoc = d->capdoc ? 2 * d->capdoc : 16;
			d->end = realloc(d->end, d->capdoc * sizeof(*d->end));
			FUZZ_CHECK(d->end != NULL);
		}
		d->end[d->ndoc++] = d->n;
		return 0;
	}
	FUZZ_CHECK(n > 0 && d->n + n <= d->cap);
	memcpy(d->text + d->n, p, n);
	d->n += n;
	return 0;
}

static int
fdocs_read(const uint8_t *data, size_t size, const tl_docfmt *fmt,
    struct fdocs *d)
{
	char err[TL_ERRLEN];
	FILE *f = fuzz_memfile(data, size);
	int rc;

	memset(d, 0, sizeof(*d));
	d->cap = size + 1;	/* decoding never lengthens text */
	d->text = malloc(d->cap);
	FUZZ_CHECK(d->text != NULL);
	rc = tl_docs_read(f, "fuzz", fmt, fdocs_piece, d, err);
	fclose(f);
	FUZZ_CHECK(rc == 0 || strncmp(err, "fuzz", 4) == 0);
	return rc;
}

static void
fdocs_free(struct fdocs *d)
{
	free(d->text);
	free(d->end);
}

/* Read, write back, read again. */
static void
fuzz_docs(const uint8_t *data, size_t size, const tl_docfmt *fmt)
{
	char err[TL_ERRLEN];
	struct fdocs a, b;
	tl_docw w;
	char *out = NULL;
	size_t nout = 0, i, s;
	FILE *f;
	int rc;

	if (fdocs_read(data, size, fmt, &a) != 0) {
		fdocs_free(&a);
		return;
	}
	FUZZ_CHECK((f = open_memstream(&out, &nout)) != NULL);
	tl_docw_init(&w, f, fmt);
	for (i = 0, s = 0, rc = 0; i < a.ndoc && rc == 0; s = a.end[i++]) {
		rc = tl_docw_put(&w, a.text + s, a.end[i] - s, err);
		if (rc == 0)
			rc = tl_docw_end(&w, err);
	}
	if (rc == 0)
		rc = tl_docw_finish(&w, err);
	FUZZ_CHECK(fclose(f) == 0);
	/* the readers take only UTF-8, so the writers never refuse it */
	FUZZ_CHECK(rc == 0);
	FUZZ_CHECK(fdocs_read((const uint8_t *)out, nout, fmt, &b) == 0);
	FUZZ_CHECK(a.ndoc == b.ndoc && a.n == b.n);
	FUZZ_CHECK(a.n == 0 || memcmp(a.text, b.text, a.n) == 0);
	FUZZ_CHECK(a.ndoc == 0 ||
	    memcmp(a.end, b.end, a.ndoc * sizeof(*a.end)) == 0);
	fdocs_free(&a);
	fdocs_free(&b);
	free(out);
}

#endif
