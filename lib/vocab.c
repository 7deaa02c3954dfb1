/*
 * vocab.c: the tokenizer of a checkpoint, packed model, token stream
 * or vocabulary file: tl_tok_load (stream.c) with the checkpoint and
 * packed model readers plugged in.
 */
#include "ckpt.h"
#include "pack.h"
#include "stream.h"
#include "vocab.h"

static int
ckpt_tok(const char *path, tl_tok *tok, char *err)
{
	tl_ckpt ck;
	int rc;

	if (!tl_ckpt_is(path))
		return 1;
	if (tl_ckpt_load(&ck, path, err) < 0)
		return -1;
	rc = tl_tok_copy(tok, &ck.tok, err);
	tl_ckpt_free(&ck);
	return rc;
}

static int
packed_tok(const char *path, tl_tok *tok, char *err)
{
	tl_packed *pk;
	int rc;

	if (!tl_packed_is(path))
		return 1;
	if ((pk = tl_packed_open(path, 0, err)) == NULL)
		return -1;
	rc = tl_tok_copy(tok, tl_packed_tok(pk), err);
	tl_packed_close(pk);
	return rc;
}

int
tl_vocab_load(tl_tok *t, const char *path, char *err)
{
	static tl_tok_reader *const readers[] = { ckpt_tok, packed_tok, NULL };

	return tl_tok_load(path, readers, t, err);
}
