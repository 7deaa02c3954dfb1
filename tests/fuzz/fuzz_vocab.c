/*
 * fuzz_vocab.c: vocabulary files (tl-vocab(5)) and the tokenizer of
 * any file, as tl-tokenize -v and tl-init -v read it (tl_vocab_load:
 * a vocabulary file, the header of a token stream, or a checkpoint).
 * A tokenizer that loads must survive its blob round trip and encode
 * and decode text losslessly.
 */
#include "formats/formats.h"
#include "fuzz.h"
#include "tok/tok.h"

static const char text[] = "To be, or not to be, that is the question:\n"
    "\xe2\x80\x94 \x00\xff\xfe aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

FUZZ_INIT_NONE

/* What must hold for a tokenizer that loaded. */
static void
use(const tl_tok *t)
{
	char err[TL_ERRLEN];
	unsigned char *b, out[sizeof text];
	const unsigned char *p;
	size_t n, nids, i, len, k = 0;
	uint16_t *ids;
	tl_tok u;

	n = tl_tok_blob_size(t);
	FUZZ_CHECK(n >= 8 && n <= TL_TOK_BLOB_MAX);
	FUZZ_CHECK((b = malloc(n)) != NULL);
	tl_tok_blob_put(t, b);
	FUZZ_CHECK(tl_tok_blob_get(&u, b, n, err) == 0);
	FUZZ_CHECK(tl_tok_equal(t, &u));
	tl_tok_free(&u);
	free(b);

	FUZZ_CHECK(tl_tok_encode(t, (const unsigned char *)text,
	    sizeof text - 1, &ids, &nids, err) == 0);
	for (i = 0; i < nids; i++) {
		FUZZ_CHECK(ids[i] < t->vocab);
		p = tl_tok_piece(t, ids[i], &len);
		FUZZ_CHECK(k + len <= sizeof text - 1);
		memcpy(out + k, p, len);
		k += len;
	}
	FUZZ_CHECK(k == sizeof text - 1 && memcmp(out, text, k) == 0);
	free(ids);
}

static void
run(const uint8_t *data, size_t size)
{
	char err[TL_ERRLEN];
	tl_tok t;
	FILE *f = fuzz_memfile(data, size);

	if (tl_vocab_read(f, "fuzz", &t, err) == 0) {
		use(&t);
		tl_tok_free(&t);
	} else
		FUZZ_CHECK(strstr(err, "fuzz: ") == err);
	fclose(f);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[TL_ERRLEN];
	uint8_t *d = fuzz_dup(data, size);
	const char *path;
	tl_tok t;

	run(data, size);
	/* a stream's header fixed as a stream, a vocabulary as one */
	if (size >= 4 && memcmp(data, TL_STREAM_MAGIC, 4) == 0)
		fix_stream(d, size);
	else if (size >= 8 && memcmp(data, "tl-ckpt\n", 8) == 0)
		fix_ckpt(d, size);
	else
		fix_header(d, size);
	if (memcmp(d, data, size) != 0)
		run(d, size);

	path = fuzz_tmpfile(d, size);
	if (tl_vocab_load(&t, path, err) == 0) {
		use(&t);
		tl_tok_free(&t);
	} else
		FUZZ_CHECK(strncmp(err, path, strlen(path)) == 0);
	free(d);
	return 0;
}
