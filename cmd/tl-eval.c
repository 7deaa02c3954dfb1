/*
 * tl-eval: score a model (a checkpoint or a packed model) on a token
 * stream: loss, perplexity, bits per byte, top-1 and top-5 accuracy.
 */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "formats/formats.h"
#include "model/model.h"
#include "util/util.h"

static const tl_opt opts[] = {
	{ 'b', NULL, "rows", NULL, 0, 0 },
	{ 'j', NULL, NULL, NULL, 0, 0 },
	{ 'm', NULL, "model", NULL, 0, TL_OPT_REQ },
	{ 'n', NULL, "tokens", NULL, 0, 0 },
	{ 't', NULL, "threads", NULL, 0, 0 },
	{ 0, NULL, NULL, NULL, 0, 0 }
};
static const tl_cmd cmd = { { opts }, "[stream]", 1, NULL, NULL };

/* What the command line asks for. */
typedef struct {
	const char *model, *stream;	/* stream: NULL for stdin */
	int json, threads, rows;
	long limit;
} args;

static void
parse_args(args *a, int argc, char **argv)
{
	tl_optparse op;
	int key;

	memset(a, 0, sizeof *a);
	a->rows = 8;
	tl_opt_begin(&op, &cmd, argc, argv);
	while ((key = tl_opt_next(&op)) != -1)
		switch (key) {
		case 'b':
			a->rows = (int)tl_atol(op.arg, op.name, 1, 4096);
			break;
		case 'j':
			a->json = 1;
			break;
		case 'm':
			a->model = op.arg;
			break;
		case 'n':
			a->limit = tl_atol(op.arg, op.name, 0, LONG_MAX);
			break;
		case 't':
			a->threads = (int)tl_atol(op.arg, op.name, 1, 256);
			break;
		}
	if (op.nargs == 1 && strcmp(op.args[0], "-") != 0)
		a->stream = op.args[0];
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

/* A packed model: position by position, a decoder per thread. */
static void
eval_packed(const args *a, const tl_mfile *mf, tl_pool *pool,
    const char *name, const uint16_t *ids, size_t n, tl_evalres *r)
{
	char err[TL_ERRLEN];
	tl_infer **dec;
	int i, nd = tl_pool_threads(pool);

	dec = tl_xcalloc(nd, sizeof *dec);
	for (i = 0; i < nd; i++)
		if ((dec[i] = tl_infer_new(mf->q, err)) == NULL)
			tl_die(1, "%s: %s", a->model, err);
	if (tl_eval_infer(dec, nd, pool, mf->tok, ids, n, (size_t)a->limit, r,
	    err) < 0)
		tl_die(1, "%s: %s", name, err);
	for (i = 0; i < nd; i++)
		tl_infer_free(dec[i]);
	free(dec);
}

/* A checkpoint: windows of the context, a batch of rows at a time. */
static void
eval_ckpt(const args *a, const tl_mfile *mf, tl_pool *pool,
    const char *name, const uint16_t *ids, size_t n, tl_evalres *r)
{
	char err[TL_ERRLEN];
	tl_model *m;
	int B = a->rows, T = (int)mf->cfg->ctx;
	size_t nwin;

	/* No more rows than there are windows to fill them. */
	nwin = (n - 1 + T - 1) / T;
	if (a->limit > 0 && (size_t)a->limit < n - 1)
		nwin = ((size_t)a->limit + T - 1) / T;
	if ((size_t)B > nwin)
		B = (int)nwin;
	if ((m = tl_model_new(mf->cfg, B, T, 0, err)) == NULL)
		tl_die(1, "%s: %s", a->model, err);
	if (tl_eval(m, pool, mf->params, mf->tok, ids, n, (size_t)a->limit, r,
	    err) < 0)
		tl_die(1, "%s: %s", name, err);
	tl_model_free(m);
}

static void
report(const args *a, const char *name, const tl_evalres *r)
{
	if (a->json) {
		putchar('{');
		jnum("loss", r->loss, ",");
		jnum("ppl", r->ppl, ",");
		jnum("bits_per_byte", r->bits_per_byte, ",");
		jnum("top1", r->top1, ",");
		jnum("top5", r->top5, ",");
		printf("\"tokens\":%llu,\"bytes\":%llu}\n",
		    (unsigned long long)r->tokens, (unsigned long long)r->bytes);
		return;
	}
	printf("%s on %s: %llu tokens, %llu bytes\n", a->model, name,
	    (unsigned long long)r->tokens, (unsigned long long)r->bytes);
	printf("loss %.4f nats/token, perplexity %.3f, %.4f bits/byte\n",
	    r->loss, r->ppl, r->bits_per_byte);
	printf("top-1 %.2f%%, top-5 %.2f%%\n", 100 * r->top1, 100 * r->top5);
}

int
main(int argc, char **argv)
{
	char err[TL_ERRLEN];
	const char *name;
	size_t n;
	uint16_t *ids;
	FILE *f = stdin;
	tl_mfile mf;
	tl_tok tok;
	tl_pool *pool;
	tl_evalres r;
	tl_progress pg;
	args a;

	parse_args(&a, argc, argv);
	if (tl_simd_init(err) < 0)
		tl_die(2, "%s", err);
	if (tl_mfile_open(&mf, a.model, err) < 0)
		tl_die(2, "%s", err);
	name = a.stream ? a.stream : "stdin";
	if (a.stream && (f = fopen(name, "rb")) == NULL)
		tl_die(2, "%s:", name);
	if (tl_stream_load(f, name, &tok, &ids, &n, err) < 0)
		tl_die(2, "%s", err);
	if (f != stdin)
		fclose(f);
	if (!tl_tok_equal(&tok, mf.tok))
		tl_die(2, "%s: tokenizer differs from %s's", name, a.model);
	if (n < 2)
		tl_die(2, "%s: %zu tokens: nothing to score (need 2 or more)",
		    name, n);
	if ((pool = tl_pool_new(a.threads)) == NULL)
		tl_die(1, "cannot start threads");
	tl_progress_begin(&pg, "tl-eval", a.limit > 0 && (size_t)a.limit <
	    n - 1 ? (uint64_t)a.limit : n - 1, "tokens");
	tl_eval_progress(&pg);
	if (mf.pk)
		eval_packed(&a, &mf, pool, name, ids, n, &r);
	else
		eval_ckpt(&a, &mf, pool, name, ids, n, &r);
	tl_eval_progress(NULL);
	tl_progress_end(&pg);
	report(&a, name, &r);
	tl_pool_free(pool);
	free(ids);
	tl_tok_free(&tok);
	tl_mfile_close(&mf);
	tl_fshut(stdout, "stdout");
	return 0;
}
