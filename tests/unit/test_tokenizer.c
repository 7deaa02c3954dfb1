/*
 * test_tokenizer.c: the tokenizer and the token stream: blobs and their
 * validation, BPE learning against a plain reference, hand examples,
 * encoding against a reference and across block boundaries, streams.
 *
 * usage: test_tokenizer [text-file]   (default data/tinyshakespeare.txt;
 * the real-text checks are skipped if it cannot be read)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/formats.h"
#include "tok/tok.h"
#include "unit.h"
#include "util/util.h"

/* The reference encoder: each merge in order, left to right. */
static size_t
ref_encode(const tl_tok *t, const unsigned char *text, size_t n,
    uint16_t *out)
{
	size_t m = n, i, j, r;

	for (i = 0; i < n; i++)
		out[i] = text[i];
	for (r = 0; t->kind == TL_TOK_BPE && r < t->vocab - 256; r++) {
		uint32_t a = t->merges[2 * r], b = t->merges[2 * r + 1];

		for (i = j = 0; i < m;) {
			if (i + 1 < m && out[i] == a && out[i + 1] == b) {
				out[j++] = (uint16_t)(256 + r);
				i += 2;
			} else
				out[j++] = out[i++];
		}
		m = j;
	}
	return m;
}

static int
ids_equal(const uint16_t *a, size_t na, const uint16_t *b, size_t nb)
{
	return na == nb && (na == 0 || memcmp(a, b, na * sizeof(*a)) == 0);
}

/* Decode ids and compare with text. */
static int
decodes_to(const tl_tok *t, const uint16_t *ids, size_t nids,
    const unsigned char *text, size_t n)
{
	size_t i, k = 0, l;
	const unsigned char *p;

	for (i = 0; i < nids; i++) {
		p = tl_tok_piece(t, ids[i], &l);
		if (k + l > n || memcmp(text + k, p, l) != 0)
			return 0;
		k += l;
	}
	return k == n;
}

/* Random text over an alphabet of k letters, runs likely. */
static void
random_text(tl_rng *g, unsigned char *s, size_t n, uint32_t k)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (i > 0 && tl_rng_below(g, 4) == 0)
			s[i] = s[i - 1];
		else
			s[i] = (unsigned char)('a' + tl_rng_below(g, k));
	}
}

/* Learn with both learners and compare merges; returns the tokenizer. */
static void
check_learn(const unsigned char *text, size_t n, uint32_t vocab, tl_tok *t,
    const char *what)
{
	char err[TL_ERRLEN];
	uint32_t *ref = malloc(2 * (size_t)vocab * sizeof(*ref));
	size_t nref = unit_ref_learn(text, &n, 1, vocab, ref);
	int ok;

	CHECK(tl_tok_learn(t, text, n, vocab, err) == 0);
	ok = t->vocab - 256 == nref && (nref == 0 || memcmp(t->merges, ref,
	    2 * nref * sizeof(*ref)) == 0);
	if (!ok)
		fprintf(stderr, "%s: n=%zu vocab=%lu: learner gave %lu merges, "
		    "reference %zu\n", what, n, (unsigned long)vocab,
		    (unsigned long)(t->vocab - 256), nref);
	CHECK(ok);
	CHECK(t->kind == (nref ? TL_TOK_BPE : TL_TOK_BYTES));
	free(ref);
}

/* Encoding: fast vs reference, round trip, and streamed in random
 * blocks (limits max/keep, 0 for the defaults). */
static void
check_encode(const tl_tok *t, const unsigned char *text, size_t n,
    tl_rng *g, size_t max, size_t keep)
{
	char err[TL_ERRLEN];
	uint16_t *ids, *ref = malloc((n + 1) * sizeof(*ref)), *st;
	size_t nids, nref, nst = 0, pos = 0, k, blk;
	tl_tokenc *e;
	const uint16_t *o;

	CHECK(tl_tok_encode(t, text, n, &ids, &nids, err) == 0);
	nref = ref_encode(t, text, n, ref);
	CHECK(ids_equal(ids, nids, ref, nref));
	CHECK(decodes_to(t, ids, nids, text, n));

	st = malloc((n + 1) * sizeof(*st));
	e = tl_tokenc_new(t, err);
	CHECK(e != NULL);
	if (max)
		tl_tokenc_limits(e, max, keep);
	for (;;) {
		blk = tl_rng_below(g, 3) == 0 ? tl_rng_below(g, 4) :
		    1 + tl_rng_below(g, 300);
		if (blk > n - pos)
			blk = n - pos;
		CHECK(tl_tokenc_feed(e, text + pos, blk, pos + blk == n, &o,
		    &k, err) == 0);
		CHECK(nst + k <= n);
		if (nst + k > n)
			break;
		memcpy(st + nst, o, k * sizeof(*o));
		nst += k;
		pos += blk;
		if (pos == n)
			break;
	}
	tl_tokenc_free(e);
	CHECK(decodes_to(t, st, nst, text, n));
	if (!max)
		CHECK(ids_equal(st, nst, ids, nids));
	free(ids);
	free(ref);
	free(st);
}

/* text streamed in random blocks through an encoder under BPE-dropout
 * of rate p and seed (p < 0: none); *nout ids, malloc'd */
static uint16_t *
drop_encode(const tl_tok *t, const unsigned char *text, size_t n, float p,
    uint64_t seed, tl_rng *g, size_t *nout)
{
	char err[TL_ERRLEN];
	uint16_t *st = malloc((n + 1) * sizeof(*st));
	size_t pos = 0, k, blk;
	tl_tokenc *e = tl_tokenc_new(t, err);
	const uint16_t *o;

	*nout = 0;
	CHECK(e != NULL);
	if (p >= 0)
		CHECK(tl_tokenc_dropout(e, p, seed, err) == 0);
	do {
		blk = 1 + tl_rng_below(g, 5000);
		if (blk > n - pos)
			blk = n - pos;
		CHECK(tl_tokenc_feed(e, text + pos, blk, pos + blk == n, &o,
		    &k, err) == 0);
		memcpy(st + *nout, o, k * sizeof(*o));
		*nout += k;
		pos += blk;
	} while (pos < n);
	tl_tokenc_free(e);
	CHECK(decodes_to(t, st, *nout, text, n));
	return st;
}

/*
 * BPE-dropout: the same ids for the same seed in blocks of any size,
 * others for another seed, more ids the higher the rate, the ids of
 * no dropout at rate 0; refused for byte tokens.
 */
static void
test_dropout(const tl_tok *t, const unsigned char *text, size_t n,
    tl_rng *g)
{
	char err[TL_ERRLEN];
	uint16_t *a, *b, *c, *z, *d, *none;
	size_t na, nb, nc, nz, nd, nnone;
	tl_tok bytes;
	tl_tokenc *e;

	none = drop_encode(t, text, n, -1, 0, g, &nnone);
	z = drop_encode(t, text, n, 0, 5, g, &nz);
	a = drop_encode(t, text, n, 0.1f, 5, g, &na);
	b = drop_encode(t, text, n, 0.1f, 5, g, &nb);
	c = drop_encode(t, text, n, 0.1f, 6, g, &nc);
	d = drop_encode(t, text, n, 0.3f, 5, g, &nd);
	CHECK(ids_equal(z, nz, none, nnone));
	CHECK(ids_equal(a, na, b, nb));
	CHECK(!ids_equal(a, na, c, nc));
	CHECK(nnone < na && na < nd);
	printf("BPE-dropout: %zu bytes to %zu ids, %zu at rate 0.1, %zu at "
	    "0.3\n", n, nnone, na, nd);
	CHECK(tl_tok_bytes(&bytes, err) == 0);
	e = tl_tokenc_new(&bytes, err);
	CHECK(tl_tokenc_dropout(e, 0.1f, 1, err) == -1);
	tl_tokenc_free(e);
	tl_tok_free(&bytes);
	free(none);
	free(z);
	free(a);
	free(b);
	free(c);
	free(d);
}

static void
test_hand(void)
{
	char err[TL_ERRLEN];
	const char *s = "aaabdaaabac";
	const uint16_t want[] = { 258, 100, 258, 97, 99 };
	const uint32_t wantm[] = { 97, 97, 256, 97, 257, 98 };
	uint16_t *ids;
	size_t n;
	tl_tok t;

	CHECK(tl_tok_learn(&t, (const unsigned char *)s, strlen(s), 259,
	    err) == 0);
	CHECK(t.kind == TL_TOK_BPE && t.vocab == 259);
	CHECK(memcmp(t.merges, wantm, sizeof(wantm)) == 0);
	CHECK(tl_tok_encode(&t, (const unsigned char *)s, strlen(s), &ids,
	    &n, err) == 0);
	CHECK(n == 5 && memcmp(ids, want, sizeof(want)) == 0);
	free(ids);
	tl_tok_free(&t);

	/* Overlapping occurrences count: "aaa" holds "aa" twice, so aa
	 * (2, first at 0) beats bc (2, first at 3). */
	s = "aaabcbc";
	CHECK(tl_tok_learn(&t, (const unsigned char *)s, strlen(s), 257,
	    err) == 0);
	CHECK(t.vocab == 257 && t.merges[0] == 'a' && t.merges[1] == 'a');
	/* ...but are replaced without overlap, left to right. */
	CHECK(tl_tok_encode(&t, (const unsigned char *)"aaaaa", 5, &ids, &n,
	    err) == 0);
	CHECK(n == 3 && ids[0] == 256 && ids[1] == 256 && ids[2] == 'a');
	free(ids);
	tl_tok_free(&t);

	/* Stop early: no pair occurs twice. */
	CHECK(tl_tok_learn(&t, (const unsigned char *)"abcabd", 6, 1000,
	    err) == 0);
	CHECK(t.vocab == 257);
	tl_tok_free(&t);
	CHECK(tl_tok_learn(&t, (const unsigned char *)"abcd", 4, 1000,
	    err) == 0);
	CHECK(t.kind == TL_TOK_BYTES && t.vocab == 256);
	tl_tok_free(&t);
	CHECK(tl_tok_learn(&t, (const unsigned char *)"", 0, 300, err) == 0);
	CHECK(t.kind == TL_TOK_BYTES);
	tl_tok_free(&t);
	CHECK(tl_tok_learn(&t, (const unsigned char *)"aa", 2, 255, err) != 0);
	CHECK(tl_tok_learn(&t, (const unsigned char *)"aa", 2, 65537, err) !=
	    0);
}

static void
test_blob(void)
{
	char err[TL_ERRLEN];
	unsigned char *b, *c;
	size_t n, i;
	tl_tok t, u;
	uint32_t m[2 * 12];

	CHECK(tl_tok_bytes(&t, err) == 0);
	n = tl_tok_blob_size(&t);
	CHECK(n == 8);
	b = malloc(n);
	tl_tok_blob_put(&t, b);
	CHECK(tl_tok_blob_get(&u, b, n, err) == 0);
	CHECK(tl_tok_equal(&t, &u));
	tl_tok_free(&u);
	CHECK(tl_tok_blob_get(&u, b, n - 1, err) != 0);
	tl_put_u32(b + 4, 257);
	CHECK(tl_tok_blob_get(&u, b, n, err) != 0);
	tl_put_u32(b, 7);
	tl_put_u32(b + 4, 256);
	CHECK(tl_tok_blob_get(&u, b, n, err) != 0);
	CHECK(strstr(err, "kind") != NULL);
	free(b);
	tl_tok_free(&t);

	CHECK(tl_tok_learn(&t, (const unsigned char *)"abababcabcabcd", 14,
	    260, err) == 0);
	CHECK(t.vocab > 256);
	n = tl_tok_blob_size(&t);
	CHECK(n == 8 + 8 * (size_t)(t.vocab - 256));
	b = malloc(n + 8);
	c = malloc(n + 8);
	tl_tok_blob_put(&t, b);
	CHECK(tl_tok_blob_get(&u, b, n, err) == 0);
	CHECK(tl_tok_equal(&t, &u));
	CHECK(u.off[u.vocab] == t.off[t.vocab]);
	tl_tok_free(&u);
	/* Wrong lengths. */
	CHECK(tl_tok_blob_get(&u, b, n - 1, err) != 0);
	CHECK(tl_tok_blob_get(&u, b, n + 8, err) != 0);
	CHECK(tl_tok_blob_get(&u, b, 4, err) != 0);
	/* Vocabulary out of range. */
	memcpy(c, b, n);
	tl_put_u32(c + 4, 256);
	CHECK(tl_tok_blob_get(&u, c, 8, err) != 0);
	tl_put_u32(c + 4, 65537);
	CHECK(tl_tok_blob_get(&u, c, n, err) != 0);
	tl_put_u32(c + 4, 0xffffffff);
	CHECK(tl_tok_blob_get(&u, c, n, err) != 0);
	/* A merge using a later id, or itself. */
	memcpy(c, b, n);
	tl_put_u32(c + 8, 256);
	CHECK(tl_tok_blob_get(&u, c, n, err) != 0);
	CHECK(strstr(err, "earlier") != NULL);
	memcpy(c, b, n);
	tl_put_u32(c + 12, 0x10000);
	CHECK(tl_tok_blob_get(&u, c, n, err) != 0);
	/* Every one-byte change is either rejected or a valid tokenizer. */
	for (i = 0; i < n; i++) {
		memcpy(c, b, n);
		c[i] ^= 0x5a;
		if (tl_tok_blob_get(&u, c, n, err) == 0) {
			CHECK(u.vocab == t.vocab);
			tl_tok_free(&u);
		}
	}
	free(b);
	free(c);
	tl_tok_free(&t);

	/* A repeated merge. */
	m[0] = 'a'; m[1] = 'b';
	m[2] = 'a'; m[3] = 'b';
	CHECK(tl_tok_from_merges(&t, m, 2, err) != 0);
	CHECK(strstr(err, "repeats") != NULL);
	m[2] = 256; m[3] = 256;
	m[4] = 'a'; m[5] = 'b';
	CHECK(tl_tok_from_merges(&t, m, 3, err) != 0);
	/* Tokens longer than TL_TOK_MAXPIECE: doubling from "aa" reaches
	 * 512 bytes at the ninth merge. */
	m[0] = 'a'; m[1] = 'a';
	for (i = 1; i < 12; i++) {
		m[2 * i] = (uint32_t)(255 + i);
		m[2 * i + 1] = (uint32_t)(255 + i);
	}
	CHECK(tl_tok_from_merges(&t, m, 8, err) == 0);
	CHECK(t.off[t.vocab] - t.off[t.vocab - 1] == 256);
	tl_tok_free(&t);
	CHECK(tl_tok_from_merges(&t, m, 9, err) != 0);
	CHECK(strstr(err, "bytes long") != NULL);
	/* Copies. */
	CHECK(tl_tok_from_merges(&t, m, 3, err) == 0);
	CHECK(tl_tok_copy(&u, &t, err) == 0);
	CHECK(tl_tok_equal(&t, &u) && u.merges != t.merges);
	tl_tok_free(&t);
	tl_tok_free(&u);
}

static void
test_random(tl_rng *g)
{
	unsigned char *s = malloc(20000), *s2 = malloc(20000);
	size_t n, trial;
	tl_tok t;

	for (trial = 0; trial < 40; trial++) {
		uint32_t k = 1 + tl_rng_below(g, trial < 20 ? 4 : 40);
		uint32_t vocab = 256 + tl_rng_below(g, trial < 10 ? 20 : 300);

		n = tl_rng_below(g, trial < 10 ? 50 : 20000);
		random_text(g, s, n, k);
		check_learn(s, n, vocab, &t, "random");
		random_text(g, s2, 5000, k);
		check_encode(&t, s2, 5000, g, 0, 0);
		check_encode(&t, s, n, g, 0, 0);
		check_encode(&t, s2, 5000, g, 300, 20);
		tl_tok_free(&t);
	}
	/* Long runs: tokens grow to TL_TOK_MAXPIECE and stop there. */
	memset(s, 'a', 20000);
	check_learn(s, 20000, 300, &t, "run");
	CHECK(t.off[t.vocab] - t.off[t.vocab - 1] <= TL_TOK_MAXPIECE);
	check_encode(&t, s, 20000, g, 0, 0);
	/* No place to cut: the carry limit forces one, still lossless. */
	check_encode(&t, s, 20000, g, 1000, 300);
	tl_tok_free(&t);
	free(s);
	free(s2);
}

static void
test_real(const char *path, tl_rng *g)
{
	size_t n;
	unsigned char *s = unit_slurp(path, &n);
	tl_tok t;

	if (s == NULL) {
		printf("test_tokenizer: %s not found, real text skipped\n",
		    path);
		return;
	}
	if (n > 300000)
		n = 300000;
	check_learn(s, n / 2, 512, &t, path);
	check_encode(&t, s + n / 2, n / 2, g, 0, 0);
	test_dropout(&t, s + n / 2, n / 2, g);
	tl_tok_free(&t);
	free(s);
}

/* A stream through a temporary file: write in odd pieces, read back. */
static void
test_stream(tl_rng *g)
{
	char err[TL_ERRLEN];
	uint16_t *ids = malloc(200000 * sizeof(*ids)), *back;
	const uint16_t *c;
	size_t n = 200000, i, k, nb;
	tl_tok t, u;
	tl_swriter *w;
	tl_sreader *r;
	long got;
	FILE *f;

	CHECK(tl_tok_learn(&t, (const unsigned char *)"abababcabcabcd", 14,
	    260, err) == 0);
	for (i = 0; i < n; i++)
		ids[i] = (uint16_t)tl_rng_below(g, t.vocab);
	f = tmpfile();
	w = tl_swriter_new(f, &t, err);
	CHECK(w != NULL);
	for (i = 0; i < n; i += k) {
		k = 1 + tl_rng_below(g, 70000);
		if (k > n - i)
			k = n - i;
		CHECK(tl_swriter_put(w, ids + i, k, err) == 0);
	}
	CHECK(tl_swriter_end(w, err) == 0);

	rewind(f);
	r = tl_sreader_new(f, "tmp", err);
	CHECK(r != NULL);
	CHECK(tl_tok_equal(tl_sreader_tok(r), &t));
	for (k = 0; (got = tl_sreader_next(r, &c, err)) > 0; k += got) {
		CHECK(got <= 65536);
		CHECK(k + got <= n && memcmp(ids + k, c, got * 2) == 0);
	}
	CHECK(got == 0 && k == n);
	tl_sreader_free(r);

	rewind(f);
	CHECK(tl_stream_load(f, "tmp", &u, &back, &nb, err) == 0);
	CHECK(nb == n && memcmp(back, ids, n * 2) == 0);
	CHECK(tl_tok_equal(&u, &t));
	tl_tok_free(&u);
	free(back);

	/* An id out of range is refused by the writer. */
	rewind(f);
	w = tl_swriter_new(f, &t, err);
	ids[5] = (uint16_t)t.vocab;
	CHECK(tl_swriter_put(w, ids, 10, err) != 0);
	tl_swriter_end(w, err);
	fclose(f);
	tl_tok_free(&t);
	free(ids);
}

/* Load a stream held in memory; returns 0 or -1 with the message. */
static int
load_mem(const unsigned char *b, size_t n, char *err)
{
	FILE *f = tmpfile();
	uint16_t *ids;
	size_t nids;
	tl_tok t;
	int rc;

	fwrite(b, 1, n, f);
	rewind(f);
	rc = tl_stream_load(f, "mem", &t, &ids, &nids, err);
	fclose(f);
	if (rc == 0) {
		free(ids);
		tl_tok_free(&t);
	}
	return rc;
}

/* A message from the reader: one line naming the stream. */
static int
good_msg(const char *err)
{
	return strncmp(err, "mem: ", 5) == 0 && strchr(err, '\n') == NULL;
}

/* Every proper prefix and every one-byte change of a small stream is
 * refused with a one-line message; so are ids out of range and a
 * wrong count in the end chunk, even with good checksums. */
static void
test_corrupt(void)
{
	char err[TL_ERRLEN];
	const uint16_t ids[] = { 256, 257, 97, 98, 259, 0 };
	const uint32_t m[] = { 'a', 'b', 256, 256, 257, 'c', 'a', 'c' };
	unsigned char *b, *c;
	size_t n, i, bit;
	tl_tok t;
	tl_swriter *w;
	FILE *f;
	uint32_t crc;

	CHECK(tl_tok_from_merges(&t, m, 4, err) == 0);
	CHECK(t.vocab == 260);
	f = tmpfile();
	w = tl_swriter_new(f, &t, err);
	CHECK(tl_swriter_put(w, ids, 6, err) == 0);
	CHECK(tl_swriter_put(w, ids, 3, err) == 0);
	CHECK(tl_swriter_end(w, err) == 0);
	n = (size_t)ftell(f);
	rewind(f);
	b = malloc(n);
	c = malloc(n + 1);
	CHECK(fread(b, 1, n, f) == n);
	fclose(f);
	CHECK(load_mem(b, n, err) == 0);

	for (i = 0; i < n; i++) {
		CHECK(load_mem(b, i, err) != 0);
		CHECK(good_msg(err));
		CHECK(i < 4 || strstr(err, "truncated stream") != NULL);
	}
	for (i = 0; i < n; i++)
		for (bit = 0; bit < 8; bit++) {
			memcpy(c, b, n);
			c[i] ^= (unsigned char)(1 << bit);
			CHECK(load_mem(c, n, err) != 0);
			CHECK(good_msg(err));
		}
	memcpy(c, b, n);
	c[n] = 0;
	CHECK(load_mem(c, n + 1, err) != 0);
	CHECK(strstr(err, "after the end") != NULL);

	/* Header 12 + blob + CRC 4; then the chunk of 9 ids. */
	i = 12 + tl_tok_blob_size(&t) + 4;
	CHECK(tl_get_u32(b + i) == 9);
	memcpy(c, b, n);
	tl_put_u16(c + i + 4 + 2 * 4, 260);	/* vocab is 260 */
	tl_put_u32(c + i + 4 + 18, tl_crc32(0, c + i, 4 + 18));
	CHECK(load_mem(c, n, err) != 0);
	CHECK(strstr(err, "token id 260 at position 4 out of range") != NULL);
	/* The end chunk: u32 0, u64 total, u32 CRC. */
	memcpy(c, b, n);
	tl_put_u64(c + n - 12, 8);
	crc = tl_crc32(0, c + n - 16, 12);
	tl_put_u32(c + n - 4, crc);
	CHECK(load_mem(c, n, err) != 0);
	CHECK(strstr(err, "end chunk counts 8") != NULL);
	/* A chunk longer than the maximum, and a newer version. */
	memcpy(c, b, n);
	tl_put_u32(c + i, TL_STREAM_CHUNK_MAX + 1);
	CHECK(load_mem(c, n, err) != 0);
	CHECK(strstr(err, "bad size") != NULL);
	memcpy(c, b, n);
	tl_put_u32(c + 4, TL_STREAM_VERSION + 1);
	CHECK(load_mem(c, n, err) != 0);
	CHECK(strstr(err, "newer") != NULL);
	free(b);
	free(c);
	tl_tok_free(&t);
}

int
main(int argc, char **argv)
{
	tl_rng g;

	tl_rng_seed(&g, 12345);
	test_hand();
	test_blob();
	test_random(&g);
	test_real(argc > 1 ? argv[1] : "data/tinyshakespeare.txt", &g);
	test_stream(&g);
	test_corrupt();
	return unit_done("test_tokenizer");
}
