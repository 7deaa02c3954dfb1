/*
 * test_words.c: words BPE and the learners fed in blocks: the word
 * split by hand and streamed, the words learner against a slow
 * reference, documents in both learners, the exact learner fed in
 * blocks against tl_tok_learn, encoding against a reference, streamed
 * in blocks of any size and decoded back, and words blobs.
 *
 * usage: test_words [text-file]   (default data/tinyshakespeare.txt;
 * the real-text checks are skipped if it cannot be read)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tok/tok.h"
#include "unit.h"
#include "util/util.h"

/* Words of s[0..n), ends at ends[] (the ends of the documents, sorted,
 * the last == n); returns the count, word i is s[at[i]..at[i+1]). */
static size_t
split(const unsigned char *s, const size_t *ends, size_t nends,
    size_t *at)
{
	size_t a = 0, k = 0, e, l;

	for (e = 0; e < nends; e++)
		for (; a < ends[e]; a += l) {
			l = tl_tok_word(s + a, ends[e] - a, 1);
			at[k++] = a;
		}
	at[k] = a;
	return k;
}

/*
 * The reference words learner, the slow and obvious way: the distinct
 * words by linear search, then per merge a full count of the pairs
 * over them.  vocab must be <= 2048.
 */
static size_t
ref_words(const unsigned char *s, const size_t *ends, size_t nends,
    uint32_t vocab, uint32_t *merges)
{
	size_t *at = malloc((ends[nends - 1] + 2) * sizeof(*at));
	size_t nw = split(s, ends, nends, at), nd = 0, i, j, k, nm = 0;
	uint32_t (*seq)[TL_TOK_WORDMAX] = malloc((nw + 1) * sizeof(*seq));
	uint32_t *len = malloc((nw + 1) * sizeof(*len));
	uint64_t *cnt = malloc((nw + 1) * sizeof(*cnt));
	uint64_t *pc = malloc((size_t)vocab * vocab * sizeof(*pc));

	for (i = 0; i < nw; i++) {
		size_t l = at[i + 1] - at[i];

		for (j = 0; j < nd; j++) {
			if (len[j] != l)
				continue;
			for (k = 0; k < l && seq[j][k] == s[at[i] + k]; k++)
				;
			if (k == l)
				break;
		}
		if (j == nd) {
			len[nd] = (uint32_t)l;
			cnt[nd] = 0;
			for (k = 0; k < l; k++)
				seq[nd][k] = s[at[i] + k];
			nd++;
		}
		cnt[j]++;
	}
	while (256 + nm < vocab) {
		uint64_t best = 0;
		uint32_t a = 0, b = 0, x, y;

		memset(pc, 0, (size_t)vocab * vocab * sizeof(*pc));
		for (i = 0; i < nd; i++)
			for (k = 0; k + 1 < len[i]; k++)
				pc[seq[i][k] * vocab + seq[i][k + 1]] += cnt[i];
		/* by (left, right) ascending: the first of the best wins */
		for (x = 0; x < 256 + nm; x++)
			for (y = 0; y < 256 + nm; y++)
				if (pc[x * vocab + y] > best) {
					best = pc[x * vocab + y];
					a = x;
					b = y;
				}
		if (best < 2)
			break;
		merges[2 * nm] = a;
		merges[2 * nm + 1] = b;
		for (i = 0; i < nd; i++) {
			for (k = j = 0; k < len[i];) {
				if (k + 1 < len[i] && seq[i][k] == a &&
				    seq[i][k + 1] == b) {
					seq[i][j++] = 256 + (uint32_t)nm;
					k += 2;
				} else
					seq[i][j++] = seq[i][k++];
			}
			len[i] = (uint32_t)j;
		}
		nm++;
	}
	free(at);
	free(seq);
	free(len);
	free(cnt);
	free(pc);
	return nm;
}

/* Learn with a tl_learner of kind, fed in random blocks, documents
 * ending at ends[]. */
static int
learn(uint32_t kind, const unsigned char *s, const size_t *ends,
    size_t nends, uint32_t vocab, tl_rng *g, tl_tok *t)
{
	char err[TL_ERRLEN];
	tl_learner *l = tl_learner_new(kind, err);
	size_t a = 0, e, b;
	int rc;

	CHECK(l != NULL);
	for (e = 0; e < nends; e++) {
		while (a < ends[e]) {
			b = tl_rng_below(g, 4) == 0 ? 0 :
			    1 + tl_rng_below(g, 200);
			if (b > ends[e] - a)
				b = ends[e] - a;
			CHECK(tl_learner_feed(l, s + a, b, err) == 0);
			a += b;
		}
		if (e + 1 < nends)
			CHECK(tl_learner_doc(l, err) == 0);
	}
	rc = tl_learner_finish(l, vocab, t, err);
	tl_learner_free(l);
	return rc;
}

/* Both learners against their references. */
static void
check_learn(const unsigned char *s, const size_t *ends, size_t nends,
    uint32_t vocab, tl_rng *g, const char *what)
{
	uint32_t *ref = malloc(2 * (size_t)vocab * sizeof(*ref));
	uint32_t kind;
	size_t nref;
	tl_tok t;
	int ok;

	for (kind = TL_TOK_BPE; kind <= TL_TOK_WORDS; kind++) {
		nref = kind == TL_TOK_WORDS ?
		    ref_words(s, ends, nends, vocab, ref) :
		    unit_ref_learn(s, ends, nends, vocab, ref);
		CHECK(learn(kind, s, ends, nends, vocab, g, &t) == 0);
		ok = t.vocab - 256 == nref && (nref == 0 ||
		    memcmp(t.merges, ref, 2 * nref * sizeof(*ref)) == 0);
		if (!ok)
			fprintf(stderr, "%s: kind %lu, n=%zu, %zu docs, vocab "
			    "%lu: learner gave %lu merges, reference %zu\n",
			    what, (unsigned long)kind, ends[nends - 1], nends,
			    (unsigned long)vocab,
			    (unsigned long)(t.vocab - 256), nref);
		CHECK(ok);
		CHECK(t.kind == (nref ? kind : TL_TOK_BYTES));
		tl_tok_free(&t);
	}
	free(ref);
}

/* The reference words encoder: each word alone, each merge in order,
 * left to right. */
static size_t
ref_encode(const tl_tok *t, const unsigned char *s, size_t n, uint16_t *out)
{
	size_t *at = malloc((n + 2) * sizeof(*at)), nw, w, i, j, m, r, k = 0;

	nw = split(s, &n, 1, at);
	for (w = 0; w < nw; w++) {
		uint16_t *o = out + k;

		m = at[w + 1] - at[w];
		for (i = 0; i < m; i++)
			o[i] = s[at[w] + i];
		for (r = 0; r < t->vocab - 256; r++) {
			uint32_t a = t->merges[2 * r], b = t->merges[2 * r + 1];

			for (i = j = 0; i < m;) {
				if (i + 1 < m && o[i] == a && o[i + 1] == b) {
					o[j++] = (uint16_t)(256 + r);
					i += 2;
				} else
					o[j++] = o[i++];
			}
			m = j;
		}
		k += m;
	}
	free(at);
	return k;
}

static int
decodes_to(const tl_tok *t, const uint16_t *ids, size_t nids,
    const unsigned char *text, size_t n)
{
	size_t i, k = 0, l;
	const unsigned char *p;

	for (i = 0; i < nids; i++) {
		if (ids[i] >= t->vocab)
			return 0;
		p = tl_tok_piece(t, ids[i], &l);
		if (k + l > n || memcmp(text + k, p, l) != 0)
			return 0;
		k += l;
	}
	return k == n;
}

/* Whole, reference, streamed in random blocks (up to maxblk bytes):
 * the same ids, and they decode to the text. */
static void
check_encode(const tl_tok *t, const unsigned char *s, size_t n, tl_rng *g,
    size_t maxblk)
{
	char err[TL_ERRLEN];
	uint16_t *ids, *ref = malloc((n + 1) * sizeof(*ref));
	uint16_t *st = malloc((n + 1) * sizeof(*st));
	size_t nids, nref, nst = 0, pos = 0, k, blk;
	const uint16_t *o;
	tl_tokenc *e;

	CHECK(tl_tok_encode(t, s, n, &ids, &nids, err) == 0);
	nref = ref_encode(t, s, n, ref);
	CHECK(nids == nref && memcmp(ids, ref, nids * sizeof(*ids)) == 0);
	CHECK(decodes_to(t, ids, nids, s, n));
	CHECK((e = tl_tokenc_new(t, err)) != NULL);
	do {
		blk = tl_rng_below(g, 4) == 0 ? 0 : 1 + tl_rng_below(g,
		    (uint32_t)maxblk);
		if (blk > n - pos)
			blk = n - pos;
		CHECK(tl_tokenc_feed(e, s + pos, blk, pos + blk == n, &o, &k,
		    err) == 0);
		if (nst + k > n)
			break;
		memcpy(st + nst, o, k * sizeof(*o));
		nst += k;
		pos += blk;
	} while (pos < n);
	tl_tokenc_free(e);
	CHECK(nst == nids && memcmp(st, ids, nst * sizeof(*st)) == 0);
	free(ids);
	free(ref);
	free(st);
}

/* The word rule by hand. */
static void
test_split(void)
{
	static const char *const want[] = { "Hello", ",", " world", "!",
	    "\n\n", " ", " foo", "\t", " 42", "x", " \xc3\xa9t\xc3\xa9",
	    " ", " --", " ", "\r\n", "a", "\t \t" };
	const char *s = "Hello, world!\n\n  foo\t 42x \xc3\xa9t\xc3\xa9 "
	    " -- \r\na\t \t";
	unsigned char big[200];
	size_t n = strlen(s), a = 0, l, i;

	for (i = 0; i < sizeof(want) / sizeof(*want); i++, a += l) {
		l = tl_tok_word((const unsigned char *)s + a, n - a, 1);
		CHECK(l == strlen(want[i]) && memcmp(s + a, want[i], l) == 0);
		if (l != strlen(want[i]) || memcmp(s + a, want[i], l) != 0)
			fprintf(stderr, "word %zu: got '%.*s'\n", i, (int)l,
			    s + a);
	}
	CHECK(a == n);
	/* undecided at the end unless last */
	CHECK(tl_tok_word((const unsigned char *)"ab", 2, 0) == 0);
	CHECK(tl_tok_word((const unsigned char *)" ", 1, 0) == 0);
	CHECK(tl_tok_word((const unsigned char *)" ", 1, 1) == 1);
	CHECK(tl_tok_word((const unsigned char *)"ab ", 3, 0) == 2);
	CHECK(tl_tok_word((const unsigned char *)"  a", 3, 0) == 1);
	CHECK(tl_tok_word((const unsigned char *)"", 0, 1) == 0);
	/* long runs are cut */
	memset(big, 'a', sizeof(big));
	CHECK(tl_tok_word(big, sizeof(big), 0) == TL_TOK_WORDMAX);
	big[0] = ' ';
	CHECK(tl_tok_word(big, sizeof(big), 1) == TL_TOK_WORDMAX);
}

/* Text of every class of byte, invalid UTF-8 and NUL included. */
static void
random_text(tl_rng *g, unsigned char *s, size_t n)
{
	static const char cl[] = "aabbcab  ,.\n0\t";
	size_t i;

	for (i = 0; i < n; i++) {
		uint32_t r = tl_rng_below(g, 20);

		if (i > 0 && r < 4)
			s[i] = s[i - 1];
		else if (r == 4)
			s[i] = (unsigned char)tl_rng_below(g, 256);
		else if (r == 5)
			s[i] = 0;
		else
			s[i] = (unsigned char)cl[tl_rng_below(g,
			    sizeof(cl) - 1)];
	}
}

/* Random texts, random documents: learners against references, and
 * encoding of other random texts. */
static void
test_random(tl_rng *g)
{
	unsigned char *s = malloc(4000), *s2 = malloc(4000);
	size_t ends[20], n, nends, i, trial;
	uint32_t vocab;
	tl_tok t;

	for (trial = 0; trial < 60; trial++) {
		n = tl_rng_below(g, trial < 30 ? 60 : 4000);
		random_text(g, s, n);
		nends = 1 + tl_rng_below(g, 5);
		for (i = 0; i + 1 < nends; i++)
			ends[i] = tl_rng_below(g, (uint32_t)n + 1);
		ends[nends - 1] = n;
		for (i = 1; i < nends; i++) {	/* sort */
			size_t j = i, x = ends[i];

			for (; j > 0 && ends[j - 1] > x; j--)
				ends[j] = ends[j - 1];
			ends[j] = x;
		}
		vocab = 256 + tl_rng_below(g, 300);
		check_learn(s, ends, nends, vocab, g, "random");
		CHECK(learn(TL_TOK_WORDS, s, &n, 1, vocab, g, &t) == 0);
		random_text(g, s2, 4000);
		check_encode(&t, s2, 4000, g, 1 + tl_rng_below(g, 300));
		check_encode(&t, s, n, g, 1 + tl_rng_below(g, 8));
		tl_tok_free(&t);
	}
	free(s);
	free(s2);
}

/* No merge crosses a document's end, in either learner. */
static void
test_docs(tl_rng *g)
{
	unsigned char s[200];
	size_t ends[200], i, n = 200;
	uint32_t kind;
	tl_tok t;

	/* "ab" 100 times is all merges; as documents "a", "b", ... it
	 * holds no pair at all */
	for (i = 0; i < 200; i++) {
		s[i] = "ab"[i & 1];
		ends[i] = i + 1;
	}
	for (kind = TL_TOK_BPE; kind <= TL_TOK_WORDS; kind++) {
		CHECK(learn(kind, s, &n, 1, 300, g, &t) == 0);
		CHECK(t.vocab > 256);
		tl_tok_free(&t);
		CHECK(learn(kind, s, ends, 200, 300, g, &t) == 0);
		CHECK(t.kind == TL_TOK_BYTES);
		tl_tok_free(&t);
	}
	check_learn(s, ends, 200, 300, g, "documents");
}

/* Words blobs: kept apart from BPE, validated like them. */
static void
test_blob(void)
{
	char err[TL_ERRLEN];
	uint32_t m[6] = { 'a', 'b', 256, 'c', 257, ',' };
	unsigned char *b;
	size_t n, i;
	uint16_t *ids;
	tl_tok t, u, x;

	CHECK(tl_tok_from_kind(&t, TL_TOK_WORDS, m, 3, err) == 0);
	CHECK(tl_tok_from_merges(&x, m, 3, err) == 0);
	CHECK(!tl_tok_equal(&t, &x));
	n = tl_tok_blob_size(&t);
	CHECK(n == 8 + 8 * 3);
	b = malloc(n);
	tl_tok_blob_put(&t, b);
	CHECK(tl_get_u32(b) == TL_TOK_WORDS);
	CHECK(tl_tok_blob_get(&u, b, n, err) == 0);
	CHECK(u.kind == TL_TOK_WORDS && tl_tok_equal(&t, &u));
	tl_tok_free(&u);
	CHECK(tl_tok_copy(&u, &t, err) == 0);
	CHECK(u.kind == TL_TOK_WORDS && tl_tok_equal(&t, &u));
	tl_tok_free(&u);
	/* merges stop at a word's end: "abc," is a token, but "abc" and
	 * "," are two words */
	CHECK(tl_tok_encode(&t, (const unsigned char *)"abc,abc", 7, &ids,
	    &n, err) == 0);
	CHECK(n == 3 && ids[0] == 257 && ids[1] == ',' && ids[2] == 257);
	free(ids);
	CHECK(tl_tok_encode(&x, (const unsigned char *)"abc,abc", 7, &ids,
	    &n, err) == 0);
	CHECK(n == 2 && ids[0] == 258 && ids[1] == 257);
	free(ids);
	/* hostile: a later id, a repeat, the wrong length, no merges */
	n = tl_tok_blob_size(&t);
	tl_put_u32(b + 8, 258);
	CHECK(tl_tok_blob_get(&u, b, n, err) != 0 && strstr(err, "earlier"));
	tl_tok_blob_put(&t, b);
	tl_put_u32(b + 16, 'a');
	tl_put_u32(b + 20, 'b');
	CHECK(tl_tok_blob_get(&u, b, n, err) != 0 && strstr(err, "repeats"));
	tl_tok_blob_put(&t, b);
	CHECK(tl_tok_blob_get(&u, b, n - 1, err) != 0);
	CHECK(tl_tok_blob_get(&u, b, n + 0 - 8, err) != 0);
	tl_put_u32(b + 4, 256);
	CHECK(tl_tok_blob_get(&u, b, 8, err) != 0);
	tl_put_u32(b + 4, 259);
	tl_put_u32(b, 3);
	CHECK(tl_tok_blob_get(&u, b, n, err) != 0 && strstr(err, "kind"));
	tl_put_u32(b, TL_TOK_WORDS | 0x100);
	CHECK(tl_tok_blob_get(&u, b, n, err) != 0);
	free(b);
	tl_tok_free(&x);
	tl_tok_free(&t);
	/* tokens longer than TL_TOK_MAXPIECE */
	{
		uint32_t d[2 * 9];

		d[0] = d[1] = 'a';
		for (i = 1; i < 9; i++)
			d[2 * i] = d[2 * i + 1] = (uint32_t)(255 + i);
		CHECK(tl_tok_from_kind(&t, TL_TOK_WORDS, d, 9, err) != 0);
		CHECK(strstr(err, "bytes long") != NULL);
	}
}

/* Real text: the learners against the references on a part of it,
 * determinism across block sizes, and the encoders on all of it. */
static void
test_real(const char *path, tl_rng *g)
{
	size_t n, m, ends[3];
	unsigned char *s = unit_slurp(path, &n);
	tl_tok t, u;

	if (s == NULL) {
		fprintf(stderr, "test_words: %s: skipped\n", path);
		return;
	}
	m = n < 12000 ? n : 12000;
	ends[0] = m / 3;
	ends[1] = m / 2;
	ends[2] = m;
	check_learn(s, ends, 3, 700, g, path);
	CHECK(learn(TL_TOK_WORDS, s, &n, 1, 2000, g, &t) == 0);
	CHECK(t.vocab == 2000);
	CHECK(learn(TL_TOK_WORDS, s, &n, 1, 2000, g, &u) == 0);
	CHECK(tl_tok_equal(&t, &u));
	check_encode(&t, s, n, g, 70000);
	check_encode(&t, s, n, g, 100);
	tl_tok_free(&u);
	tl_tok_free(&t);
	free(s);
}

int
main(int argc, char **argv)
{
	tl_rng g;

	tl_rng_seed(&g, 4242);
	test_split();
	test_blob();
	test_docs(&g);
	test_random(&g);
	test_real(argc > 1 ? argv[1] : "data/tinyshakespeare.txt", &g);
	return unit_done("test_words");
}
