/*
 * fuzz_encode.c: text encoding with any tokenizer a file can carry.
 * The input is the header of a token stream or a vocabulary file (the
 * tokenizer) followed by text: tl-tokenize -v VOCAB < text.  The text
 * is encoded whole (tl_tok_encode, as tl-gen encodes a prompt) and
 * streamed in blocks of varying size (tl_tokenc, as tl-tokenize does),
 * with the default carry limits (the ids must equal the whole
 * encoding) and with tiny ones (the text must still come back).  A
 * BPE tokenizer is also tried as words BPE (the same merges applied
 * within words), and both under BPE-dropout (the text must come back,
 * and the same seed give the same ids in other blocks).
 */
#include "formats/formats.h"
#include "fuzz.h"
#include "tok/tok.h"

FUZZ_INIT_NONE

/* ids decode to text[0..n) */
static void
decodes(const tl_tok *t, const uint16_t *ids, size_t nids,
    const uint8_t *text, size_t n)
{
	const unsigned char *p;
	size_t i, len, k = 0;

	for (i = 0; i < nids; i++) {
		FUZZ_CHECK(ids[i] < t->vocab);
		p = tl_tok_piece(t, ids[i], &len);
		FUZZ_CHECK(len >= 1 && k + len <= n);
		FUZZ_CHECK(memcmp(p, text + k, len) == 0);
		k += len;
	}
	FUZZ_CHECK(k == n);
}

/* Encode text in blocks (their sizes drawn from bseed), under
 * BPE-dropout of rate p if p > 0; the ids go to *out (malloc'd). */
static size_t
stream(const tl_tok *t, const uint8_t *text, size_t n, size_t max,
    size_t keep, float p, uint64_t bseed, uint16_t **out)
{
	char err[TL_ERRLEN];
	const uint16_t *o;
	uint16_t *all = malloc((n + 1) * sizeof(*all));
	size_t pos = 0, blk, k, nall = 0;
	tl_rng g;
	tl_tokenc *e;

	FUZZ_CHECK(all != NULL);
	FUZZ_CHECK((e = tl_tokenc_new(t, err)) != NULL);
	if (max)
		tl_tokenc_limits(e, max, keep);
	if (p > 0)
		FUZZ_CHECK(tl_tokenc_dropout(e, p, n, err) == 0);
	tl_rng_seed(&g, bseed);
	do {
		blk = tl_rng_below(&g, 4) == 0 ? 0 : 1 + tl_rng_below(&g, 700);
		if (blk > n - pos)
			blk = n - pos;
		FUZZ_CHECK(tl_tokenc_feed(e, text + pos, blk, pos + blk == n,
		    &o, &k, err) == 0);
		FUZZ_CHECK(o != NULL && nall + k <= n);
		memcpy(all + nall, o, k * sizeof(*o));
		nall += k;
		pos += blk;
	} while (pos < n);
	tl_tokenc_free(e);
	*out = all;
	return nall;
}

/* Whole and streamed encodings of text[0..n) with t. */
static void
encodes(const tl_tok *t, const uint8_t *text, size_t n)
{
	char err[TL_ERRLEN];
	uint16_t *ids, *st;
	size_t nids, nst;

	FUZZ_CHECK(tl_tok_encode(t, text, n, &ids, &nids, err) == 0);
	decodes(t, ids, nids, text, n);
	nst = stream(t, text, n, 0, 0, 0, n, &st);
	FUZZ_CHECK(nst == nids && memcmp(st, ids, nst * sizeof(*st)) == 0);
	free(st);
	nst = stream(t, text, n, 1 + n % 600, 1 + n % 37, 0, n, &st);
	decodes(t, st, nst, text, n);
	free(st);
	free(ids);
	if (t->kind == TL_TOK_BYTES)
		return;
	nids = stream(t, text, n, 0, 0, 0.3f, n, &ids);
	decodes(t, ids, nids, text, n);
	nst = stream(t, text, n, 0, 0, 0.3f, n + 1, &st);
	FUZZ_CHECK(nst == nids && memcmp(st, ids, nst * sizeof(*st)) == 0);
	free(st);
	free(ids);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[TL_ERRLEN];
	uint8_t *d = fuzz_dup(data, size);
	const uint8_t *text;
	size_t n;
	tl_sreader *r;
	tl_tok t, w;
	long off;
	FILE *f;

	/* a vocabulary file's header is a stream's with another magic */
	if (size >= 4 && memcmp(d, TL_VOCAB_MAGIC, 4) == 0)
		memcpy(d, TL_STREAM_MAGIC, 4);
	fix_header(d, size);
	f = fuzz_memfile(d, size);
	r = tl_sreader_new(f, "fuzz", err);
	off = ftell(f);
	fclose(f);
	if (r == NULL) {
		free(d);
		return 0;
	}
	FUZZ_CHECK(tl_tok_copy(&t, tl_sreader_tok(r), err) == 0);
	tl_sreader_free(r);
	FUZZ_CHECK(off >= 0 && (size_t)off <= size);
	text = data + off;
	n = size - (size_t)off;

	encodes(&t, text, n);
	if (t.kind == TL_TOK_BPE) {
		FUZZ_CHECK(tl_tok_from_kind(&w, TL_TOK_WORDS, t.merges,
		    t.vocab - 256, err) == 0);
		encodes(&w, text, n);
		tl_tok_free(&w);
	}
	tl_tok_free(&t);
	free(d);
	return 0;
}
