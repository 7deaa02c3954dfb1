/*
 * tl-init: write a new, untrained checkpoint from flags.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "ckpt.h"
#include "train.h"
#include "mfile.h"

static void
usage(int status)
{
	fprintf(status ? stderr : stdout, "usage: tl-init [-hV] [--act gelu|relu|relu2|swiglu] "
	    "[--ctx N] [--dim N]\n"
	    "               [--ffn N] [--heads N] [--layers N] "
	    "[--norm rmsnorm|layernorm]\n"
	    "               [--pos rope|sinusoidal] [--quant ternary|fp32] "
	    "[--seed N]\n"
	    "               [-v vocab] -o model\n");
	if (status == 0)
		tl_fshut(stdout, "stdout");
	exit(status);
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "act", required_argument, NULL, 0 },
		{ "ctx", required_argument, NULL, 0 },
		{ "dim", required_argument, NULL, 0 },
		{ "ffn", required_argument, NULL, 0 },
		{ "heads", required_argument, NULL, 0 },
		{ "layers", required_argument, NULL, 0 },
		{ "norm", required_argument, NULL, 0 },
		{ "pos", required_argument, NULL, 0 },
		{ "quant", required_argument, NULL, 0 },
		{ "seed", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	char err[TL_ERRLEN];
	const char *out = NULL, *vocab = NULL;
	uint64_t seed = 1;
	tl_config c;
	tl_ckpt ck;
	tl_tok tok;
	int ch, li;

	tl_setprog(argv[0]);
	tl_config_default(&c);
	while ((ch = getopt_long(argc, argv, ":hVo:s:v:", lo, &li)) != -1) {
		switch (ch) {
		case 0:
			if (tl_config_opt(&c, lo[li].name, optarg, err) != 0)
				tl_die(2, "%s", err);
			break;
		case 'o':
			out = optarg;
			break;
		case 's':
			seed = (uint64_t)tl_atol(optarg, "--seed", 0, 0x7fffffffL);
			break;
		case 'v':
			vocab = optarg;
			break;
		case 'V':
			printf("tl-init %s\n", TL_VERSION);
			tl_fshut(stdout, "stdout");
			return 0;
		case 'h':
			usage(0);
			break;
		default:
			tl_optfail(ch, argv);
		}
	}
	if (optind != argc || out == NULL)
		usage(2);
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
