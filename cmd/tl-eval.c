/*
 * tl-eval: score a model (a checkpoint or a packed model) on a token
 * stream: loss, perplexity, bits per byte, top-1 and top-5 accuracy.
 */
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "eval.h"
#include "infer.h"
#include "mfile.h"
#include "stream.h"
#include "util.h"

static void
usage(void)
{
	printf("usage: tl-eval [-hjV] [-b rows] [-n tokens] "
	    "[-t threads] -m model [stream]\n");
	tl_fshut(stdout, "stdout");
	exit(0);
}

/* A JSON number, or null for what JSON cannot hold. */
static void
jnum(const char *key, double v, const char *sep)
{
	if (isfinite(v))
		printf("\"%s\":%.6f%s", key, v, sep);
	else
		printf("\"%s\":null%s", key, sep);
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	char err[TL_ERRLEN];
	const char *model = NULL, *name = "stdin";
	int ch, json = 0, threads = 0, B = 8, T, i, nd;
	long limit = 0;
	size_t n, nwin;
	uint16_t *ids;
	FILE *f = stdin;
	tl_mfile mf;
	tl_tok tok;
	tl_pool *pool;
	tl_model *m = NULL;
	tl_infer **dec = NULL;
	tl_evalres r;

	tl_setprog(argv[0]);
	while ((ch = getopt_long(argc, argv, ":b:hjm:n:t:V", lo, NULL)) != -1) {
		switch (ch) {
		case 'b':
			B = (int)tl_atol(optarg, "-b", 1, 4096);
			break;
		case 'h':
			usage();
			break;
		case 'j':
			json = 1;
			break;
		case 'm':
			model = optarg;
			break;
		case 'n':
			limit = tl_atol(optarg, "-n", 0, LONG_MAX);
			break;
		case 't':
			threads = (int)tl_atol(optarg, "-t", 1, 256);
			break;
		case 'V':
			printf("tl-eval %s\n", TL_VERSION);
			tl_fshut(stdout, "stdout");
			return 0;
		default:
			tl_optfail(ch, argv);
		}
	}
	if (argc - optind > 1)
		tl_die(2, "unexpected argument '%s' (see tl-eval -h)",
		    argv[optind + 1]);
	if (model == NULL)
		tl_die(2, "no model: -m FILE is required (see tl-eval -h)");
	if (tl_simd_init(err) < 0)
		tl_die(2, "%s", err);
	if (tl_mfile_open(&mf, model, err) < 0)
		tl_die(2, "%s", err);
	if (optind < argc && strcmp(argv[optind], "-") != 0) {
		name = argv[optind];
		if ((f = fopen(name, "rb")) == NULL)
			tl_die(2, "%s:", name);
	}
	if (tl_stream_load(f, name, &tok, &ids, &n, err) < 0)
		tl_die(2, "%s", err);
	if (f != stdin)
		fclose(f);
	if (!tl_tok_equal(&tok, mf.tok))
		tl_die(2, "%s: tokenizer differs from %s's", name, model);
	if (n < 2)
		tl_die(2, "%s: %zu tokens: nothing to score (need 2 or more)",
		    name, n);

	if ((pool = tl_pool_new(threads)) == NULL)
		tl_die(1, "cannot start threads");
	if (mf.pk) {
		/* a packed model: position by position, a decoder per
		 * thread */
		nd = tl_pool_threads(pool);
		dec = tl_xcalloc(nd, sizeof *dec);
		for (i = 0; i < nd; i++)
			if ((dec[i] = tl_infer_new(mf.q, err)) == NULL)
				tl_die(1, "%s: %s", model, err);
		if (tl_eval_infer(dec, nd, pool, mf.tok, ids, n,
		    (size_t)limit, &r, err) < 0)
			tl_die(1, "%s: %s", name, err);
		for (i = 0; i < nd; i++)
			tl_infer_free(dec[i]);
		free(dec);
	} else {
		/* No more rows than there are windows to fill them. */
		T = (int)mf.cfg->ctx;
		nwin = (n - 1 + T - 1) / T;
		if (limit > 0 && (size_t)limit < n - 1)
			nwin = ((size_t)limit + T - 1) / T;
		if ((size_t)B > nwin)
			B = (int)nwin;
		if ((m = tl_model_new(mf.cfg, B, T, 0, err)) == NULL)
			tl_die(1, "%s: %s", model, err);
		if (tl_eval(m, pool, mf.params, mf.tok, ids, n, (size_t)limit,
		    &r, err) < 0)
			tl_die(1, "%s: %s", name, err);
	}

	if (json) {
		putchar('{');
		jnum("loss", r.loss, ",");
		jnum("ppl", r.ppl, ",");
		jnum("bits_per_byte", r.bits_per_byte, ",");
		jnum("top1", r.top1, ",");
		jnum("top5", r.top5, ",");
		printf("\"tokens\":%llu,\"bytes\":%llu}\n",
		    (unsigned long long)r.tokens, (unsigned long long)r.bytes);
	} else {
		printf("%s on %s: %llu tokens, %llu bytes\n", model, name,
		    (unsigned long long)r.tokens, (unsigned long long)r.bytes);
		printf("loss %.4f nats/token, perplexity %.3f, %.4f bits/byte\n",
		    r.loss, r.ppl, r.bits_per_byte);
		printf("top-1 %.2f%%, top-5 %.2f%%\n", 100 * r.top1,
		    100 * r.top5);
	}
	tl_model_free(m);
	tl_pool_free(pool);
	free(ids);
	tl_tok_free(&tok);
	tl_mfile_close(&mf);
	tl_fshut(stdout, "stdout");
	return 0;
}
