/*
 * vocab.c: the tokenizer of a checkpoint, token stream or vocabulary
 * file: tl_tok_load (stream.c) with the checkpoint reader plugged in.
 */
#include "ckpt.h"
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

int
tl_vocab_load(tl_tok *t, const char *path, char *err)
{
	static tl_tok_reader *const readers[] = { ckpt_tok, NULL };

	return tl_tok_load(path, readers, t, err);
}
