/*
 * vocab.c: the tokenizer of a checkpoint, token stream or vocabulary
 * file, told apart by their magic.
 */
#include <errno.h>
#include <string.h>

#include "ckpt.h"
#include "stream.h"
#include "vocab.h"

int
tl_vocab_load(tl_tok *t, const char *path, char *err)
{
	tl_ckpt ck;
	tl_sreader *r;
	FILE *f;
	int rc;

	if (tl_ckpt_is(path)) {
		if (tl_ckpt_load(&ck, path, err) < 0)
			return -1;
		rc = tl_tok_copy(t, &ck.tok, err);
		tl_ckpt_free(&ck);
		return rc;
	}
	if ((f = fopen(path, "rb")) == NULL)
		return tl_err(err, "%s: %s", path, strerror(errno));
	r = tl_sreader_new(f, path, err);
	if (r) {
		rc = tl_tok_copy(t, tl_sreader_tok(r), err);
		tl_sreader_free(r);
	} else
		rc = -1;
	fclose(f);
	return rc;
}
