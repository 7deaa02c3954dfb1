/*
 * tl-init: write a new, untrained checkpoint from flags.
 */
#include <stdlib.h>
#include <string.h>

#include "formats/formats.h"
#include "train/train.h"
#include "util/util.h"

static const tl_opt opts[] = {
	{ 'o', NULL, "model", NULL, 0, TL_OPT_REQ },
	{ 's', "seed", "N", NULL, 0, TL_OPT_SHORT },
	{ 'v', NULL, "vocab", NULL, 0, 0 },
	{ 0, NULL, NULL, NULL, 0, 0 }
};
static const tl_cmd cmd = { { opts, tl_shape_opts }, NULL, 0, NULL, NULL, NULL };

int
main(int argc, char **argv)
{
	char err[TL_ERRLEN];
	const char *out = NULL, *vocab = NULL;
	uint64_t seed = 1;
	tl_optparse op;
	tl_config c;
	tl_ckpt ck;
	tl_tok tok;

	tl_config_default(&c);
	tl_opt_begin(&op, &cmd, argc, argv);
	while (tl_opt_next(&op) != -1)
		switch (op.opt->key) {
		case TL_OPT_SHAPE:
			if (tl_config_opt(&c, op.opt->name, op.arg, err) != 0)
				tl_die(2, "%s", err);
			break;
		case 'o':
			out = op.arg;
			break;
		case 's':
			seed = (uint64_t)tl_atol(op.arg, op.name, 0, 0x7fffffffL);
			break;
		case 'v':
			vocab = op.arg;
			break;
		}
	if (vocab) {
		if (tl_vocab_load(&tok, vocab, err) < 0)
			tl_die(2, "%s", err);
	} else if (tl_tok_bytes(&tok, err) < 0)
		tl_die(1, "%s", err);
	c.vocab = tok.vocab;
	if (tl_ckpt_create(&ck, &c, &tok, seed, err) < 0)
		tl_die(2, "%s", err);
	if (tl_ckpt_save(&ck, out, err) < 0)
		tl_die(1, "%s", err);
	tl_ckpt_free(&ck);
	tl_tok_free(&tok);
	return 0;
}
