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

enum { O_KV = TL_OPT_LONG };

static const tl_opt opts[] = {
	{ 'b', NULL, "rows", NULL, 0, 0 },
	{ 'j', NULL, NULL, NULL, 0, 0 },
	{ 'm', NULL, "model", NULL, 0, TL_OPT_REQ },
	{ 'n', NULL, "tokens", NULL, 0, 0 },
	{ 't', NULL, "threads", NULL, 0, 0 },
	{ O_KV, "kv", "cache", tl_kv_names, TL_KV_N, 0 },
	{ 0, NULL, NULL, NULL, 0, 0 }
};
static const tl_cmd cmd = { { opts }, "[stream]", 1, NULL, NULL, NULL };

/* What the command line asks for. */
typedef struct {
	const char *model, *stream;	/* stream: NULL for stdin */
	int json, threads, rows;
	int kv;			/* the decoders' cache, or -1: none given */
	long limit;
} args;

static void
parse_args(args *a, int argc, char **argv)
{
	tl_optparse op;
	int key;

	memset(a, 0, sizeof *a);
	a->rows = 8;
	a->kv = -1;
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
		case O_KV:
			a->kv = op.val;
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

/* The stream being scored, read a chunk at a time. */
typedef struct {
	const char *name;
	tl_sreader *rd;
	uint64_t read;		/* ids read */
	uint64_t want;		/* ids the scores need (-n), or 0: all */
	int end;
	FILE *f;
	int bytes;		/* progress in f's bytes, else in ids */
	tl_progress pg;
} input;

/* The next chunk of ids, 0 at the end of the stream or of what -n
 * needs (the rest is not read). */
static size_t
next_ids(input *in, const uint16_t **ids)
{
	char err[TL_ERRLEN];
	long got;

	if (in->end)
		return 0;
	if ((got = tl_sreader_next(in->rd, ids, err)) < 0)
		tl_die(2, "%s", err);
	in->read += (uint64_t)got;
	tl_progress_update(&in->pg, in->bytes ? (uint64_t)ftello(in->f) :
	    in->want > 0 && in->read > in->want ? in->want : in->read);
	if (got == 0 || (in->want > 0 && in->read >= in->want))
		in->end = 1;
	return (size_t)got;
}

/* Feed the rest of the stream to e and score. */
static void
feed_rest(input *in, tl_evaler *e, tl_evalres *r)
{
	char err[TL_ERRLEN];
	const uint16_t *ids;
	size_t n;

	while ((n = next_ids(in, &ids)) > 0)
		if (tl_evaler_feed(e, ids, n, err) < 0)
			tl_die(1, "%s: %s", in->name, err);
	if (in->read < 2)
		tl_die(2, "%s: %llu tokens: nothing to score (need 2 or more)",
		    in->name, (unsigned long long)in->read);
	if (tl_evaler_end(e, r, err) < 0)
		tl_die(1, "%s: %s", in->name, err);
}

/* A packed model, or any with --kv: position by position, a decoder
 * per thread, with an fp32 cache unless --kv says otherwise. */
static void
eval_decoders(const args *a, tl_mfile *mf, tl_pool *pool, input *in,
    tl_evalres *r)
{
	char err[TL_ERRLEN];
	const tl_qmodel *q;
	tl_infer **dec;
	tl_evaler *e;
	int i, nd = tl_pool_threads(pool);

	if ((q = tl_mfile_qmodel(mf, err)) == NULL)
		tl_die(1, "%s: %s", a->model, err);
	dec = tl_xcalloc(nd, sizeof *dec);
	for (i = 0; i < nd; i++)
		if ((dec[i] = tl_infer_new(q, a->kv < 0 ? TL_KV_F32 : a->kv,
		    err)) == NULL)
			tl_die(1, "%s: %s", a->model, err);
	if ((e = tl_evaler_new_infer(dec, nd, pool, mf->tok, (size_t)a->limit,
	    err)) == NULL)
		tl_die(1, "%s: %s", in->name, err);
	feed_rest(in, e, r);
	tl_evaler_free(e);
	for (i = 0; i < nd; i++)
		tl_infer_free(dec[i]);
	free(dec);
}

/*
 * A checkpoint: windows of the context, a batch of rows at a time, no
 * more rows than there are windows to fill them: the stream's head is
 * read until it fills all the rows (or ends) before the model is made.
 */
static void
eval_ckpt(const args *a, const tl_mfile *mf, tl_pool *pool, input *in,
    tl_evalres *r)
{
	char err[TL_ERRLEN];
	const uint16_t *ids;
	uint16_t *head = NULL;
	size_t nh = 0, n, nwin;
	int B = a->rows, T = (int)mf->cfg->ctx;
	tl_evaler *e;
	tl_model *m;

	while (nh < (size_t)B * T + 1 && (n = next_ids(in, &ids)) > 0) {
		head = realloc(head, (nh + n) * sizeof *head);
		if (head == NULL)
			tl_die(1, "%s: out of memory", in->name);
		memcpy(head + nh, ids, n * sizeof *head);
		nh += n;
	}
	if (nh < 2)
		tl_die(2, "%s: %zu tokens: nothing to score (need 2 or more)",
		    in->name, nh);
	nwin = in->end ? (nh - 1 + T - 1) / T : (size_t)B;
	if (a->limit > 0 && (uint64_t)a->limit < nh - 1)
		nwin = ((size_t)a->limit + T - 1) / T;
	if ((size_t)B > nwin)
		B = (int)nwin;
	if ((m = tl_model_new(mf->cfg, B, T, 0, err)) == NULL)
		tl_die(1, "%s: %s", a->model, err);
	if ((e = tl_evaler_new(m, pool, mf->params, mf->tok, (size_t)a->limit,
	    err)) == NULL || tl_evaler_feed(e, head, nh, err) < 0)
		tl_die(1, "%s: %s", in->name, err);
	free(head);
	feed_rest(in, e, r);
	tl_evaler_free(e);
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
	FILE *f = stdin;
	tl_mfile mf;
	tl_pool *pool;
	tl_evalres r;
	input in;
	args a;

	parse_args(&a, argc, argv);
	if (tl_simd_init(err) < 0)
		tl_die(2, "%s", err);
	if (tl_mfile_open(&mf, a.model, err) < 0)
		tl_die(2, "%s", err);
	memset(&in, 0, sizeof in);
	in.name = a.stream ? a.stream : "stdin";
	in.want = a.limit > 0 ? (uint64_t)a.limit + 1 : 0;
	if (a.stream && (f = fopen(in.name, "rb")) == NULL)
		tl_die(2, "%s:", in.name);
	if ((in.rd = tl_sreader_new(f, in.name, err)) == NULL)
		tl_die(2, "%s", err);
	if (!tl_tok_equal(tl_sreader_tok(in.rd), mf.tok))
		tl_die(2, "%s: tokenizer differs from %s's", in.name, a.model);
	if ((pool = tl_pool_new(a.threads)) == NULL)
		tl_die(1, "cannot start threads");
	/* progress: the ids -n needs, or the stream file's bytes */
	if (in.want > 0)
		tl_progress_begin(&in.pg, "tl-eval", in.want, "tokens");
	else
		in.bytes = tl_progress_file(&in.pg, "tl-eval", f, "tokens");
	in.f = f;
	if (mf.pk || a.kv >= 0)
		eval_decoders(&a, &mf, pool, &in, &r);
	else
		eval_ckpt(&a, &mf, pool, &in, &r);
	tl_progress_end(&in.pg);
	report(&a, in.name, &r);
	tl_sreader_free(in.rd);
	if (f != stdin)
		fclose(f);
	tl_pool_free(pool);
	tl_mfile_close(&mf);
	tl_fshut(stdout, "stdout");
	return 0;
}
