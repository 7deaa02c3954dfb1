/*
 * fuzz_text.c: learning a BPE vocabulary from any text (tl-tokenize
 * --train-bpe) and encoding that text with it.  The first byte of the
 * input sets the vocabulary size (256 to 1276 ids), the rest is the
 * text.  It is learned by the exact rule whole (tl_tok_learn), and by
 * both tl_learner kinds fed in two documents split in its middle.  The
 * vocabulary must be valid (its blob loads back), hold no more ids
 * than asked, and encode the text losslessly in no more ids than
 * bytes.
 */
#include "fuzz.h"
#include "tok/tok.h"

FUZZ_INIT_NONE

static void
check(tl_tok *t, const unsigned char *text, size_t n, uint32_t vocab)
{
	char err[TL_ERRLEN];
	const unsigned char *p;
	unsigned char *b;
	uint16_t *ids;
	size_t nids, i, len, k = 0;
	tl_tok u;

	FUZZ_CHECK(t->vocab >= 256 && t->vocab <= vocab);
	len = tl_tok_blob_size(t);
	FUZZ_CHECK((b = malloc(len)) != NULL);
	tl_tok_blob_put(t, b);
	FUZZ_CHECK(tl_tok_blob_get(&u, b, len, err) == 0);
	FUZZ_CHECK(tl_tok_equal(t, &u));
	tl_tok_free(&u);
	free(b);

	FUZZ_CHECK(tl_tok_encode(t, text, n, &ids, &nids, err) == 0);
	FUZZ_CHECK(nids <= n);
	for (i = 0; i < nids; i++) {
		FUZZ_CHECK(ids[i] < t->vocab);
		p = tl_tok_piece(t, ids[i], &len);
		FUZZ_CHECK(k + len <= n && memcmp(p, text + k, len) == 0);
		k += len;
	}
	FUZZ_CHECK(k == n);
	free(ids);
	tl_tok_free(t);
}

static void
learn_docs(uint32_t kind, const unsigned char *text, size_t n,
    uint32_t vocab, tl_tok *t)
{
	char err[TL_ERRLEN];
	tl_learner *l;

	FUZZ_CHECK((l = tl_learner_new(kind, err)) != NULL);
	FUZZ_CHECK(tl_learner_feed(l, text, n / 2, err) == 0);
	FUZZ_CHECK(tl_learner_doc(l, err) == 0);
	FUZZ_CHECK(tl_learner_feed(l, text + n / 2, n - n / 2, err) == 0);
	FUZZ_CHECK(tl_learner_finish(l, vocab, t, err) == 0);
	FUZZ_CHECK(t->kind == kind || t->kind == TL_TOK_BYTES);
	tl_learner_free(l);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[TL_ERRLEN];
	const unsigned char *text = data + 1;
	uint32_t vocab;
	size_t n;
	tl_tok t;

	if (size < 1)
		return 0;
	vocab = 256 + 4 * (uint32_t)data[0];
	n = size - 1;
	FUZZ_CHECK(tl_tok_learn(&t, text, n, vocab, err) == 0);
	check(&t, text, n, vocab);
	learn_docs(TL_TOK_BPE, text, n, vocab, &t);
	check(&t, text, n, vocab);
	learn_docs(TL_TOK_WORDS, text, n, vocab, &t);
	check(&t, text, n, vocab);
	return 0;
}
