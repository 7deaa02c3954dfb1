/*
 * eval.c: next-token scores of a model over a token stream.
 *
 * The stream is cut into windows of T+1 tokens overlapping by one:
 * window w has inputs ids[wT .. wT+T) and targets ids[wT+1 .. wT+T],
 * so that every token after the first is a target exactly once, seen
 * with between 0 and T-1 tokens of context (the same contexts as
 * training's windows).  A last short window is padded with id 0 after
 * its real tokens; attention is causal, so the padding cannot change
 * the real positions, and only real targets are counted.  B windows
 * fill each batched forward (model.c), unused rows padded alike.
 *
 * Sums run in double in stream order, so the result depends neither
 * on the thread count nor on B.
 *
 * tl_eval_infer scores the same windows one position at a time through
 * decoders with a KV cache (packed models have no batched pass): the
 * same loss per position (log-sum-exp minus the target's logit, from
 * the softmax kernel) and the same ranks over the probabilities.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/model.h"
#include "util/util.h"

/* Rank of the target among the probabilities p (V): the number of ids
 * more likely than it, ties counted for the lower ids. */
static long
rank_of(const float *p, int V, int tgt)
{
	float pt = p[tgt];
	long r = 0;
	int i;

	for (i = 0; i < V; i++)
		r += p[i] > pt || (p[i] == pt && i < tgt);
	return r;
}

/* The scores from the sums over done targets. */
static void
finish(tl_evalres *res, double nats, double bytes, double top1, double top5,
    uint64_t done)
{
	res->tokens = done;
	res->bytes = (uint64_t)bytes;
	res->loss = nats / done;
	res->ppl = exp(res->loss);
	res->bits_per_byte = bytes > 0 ? nats / log(2.0) / bytes : 0;
	res->top1 = top1 / done;
	res->top5 = top5 / done;
}

/* Windows per thread and round of the decoders: bounds the memory of
 * the per-target results kept until they are summed in order. */
#define ROUND 8

typedef struct {
	struct tl_infer *const *d;
	int nd, T, V;
	const uint16_t *ids;
	size_t total;		/* targets */
	size_t w0, nw;		/* this round's windows */
	float *loss, *lg;	/* (nw * T), (nd * V) */
	unsigned char *rank;	/* (nw * T): 0 top-1, 1 top-5, 2 neither */
	int fail;
} ijob;

/* Thread item t: windows [nw t / nd, nw (t+1) / nd) of the round with
 * decoder t. */
static void
job_windows(void *ctx, int t)
{
	ijob *j = ctx;
	struct tl_infer *d = j->d[t];
	const tl_kern *k = tl_k();
	size_t a = j->nw * t / j->nd, b = j->nw * (t + 1) / j->nd, w, ws;
	float *lg = j->lg + (size_t)t * j->V, *out;
	int u, cnt, tg;
	long rk;

	for (w = a; w < b; w++) {
		ws = (j->w0 + w) * j->T;
		cnt = j->total - ws < (size_t)j->T ? (int)(j->total - ws) : j->T;
		tl_infer_reset(d);
		for (u = 0; u < cnt; u++) {
			if ((out = tl_infer_step(d, NULL, j->ids[ws + u],
			    u)) == NULL) {
				j->fail = 1;
				return;
			}
			tg = j->ids[ws + u + 1];
			memcpy(lg, out, j->V * sizeof *lg);
			/* as model.c: minus the logit, plus the log-sum-exp */
			j->loss[w * j->T + u] = -lg[tg];
			j->loss[w * j->T + u] += k->softmax(lg, j->V);
			rk = rank_of(lg, j->V, tg);
			j->rank[w * j->T + u] = rk < 1 ? 0 : rk < 5 ? 1 : 2;
		}
	}
}

/*
 * The evaluator: ids are fed in any pieces into a buffer of W windows
 * (W T + 1 ids: the last target of a block is the first input of the
 * next), and a full buffer is scored at once: W = B rows of one
 * batched forward, or nd * ROUND windows of a round of the decoders.
 * These are the blocks a whole stream in memory was cut into, so the
 * sums, in stream order, are the same bit for bit however the ids
 * come.
 */
struct tl_evaler {
	tl_model *m;		/* batched, or NULL */
	tl_pool *p;
	const float *params;
	const tl_tok *tok;
	ijob j;			/* decoders */
	int T, V, W;
	size_t max;		/* targets to score; 0: all */
	uint64_t seen;		/* ids taken */
	uint16_t *buf, *in;	/* (W T + 1); (2, B, T) */
	int *cnt;		/* (B) */
	size_t nbuf;
	double nats, bytes, top1, top5;
	uint64_t done;
};

static tl_evaler *
evaler_alloc(const tl_tok *tok, tl_pool *p, int T, int V, int W,
    size_t max, char *err)
{
	tl_evaler *e = calloc(1, sizeof(*e));

	if (e == NULL || (e->buf = malloc(((size_t)W * T + 1) *
	    sizeof(*e->buf))) == NULL) {
		free(e);
		tl_err(err, "out of memory");
		return NULL;
	}
	e->tok = tok;
	e->p = p;
	e->T = T;
	e->V = V;
	e->W = W;
	e->max = max;
	return e;
}

tl_evaler *
tl_evaler_new(tl_model *m, tl_pool *p, const float *params,
    const tl_tok *tok, size_t max_targets, char *err)
{
	const tl_config *c;
	tl_evaler *e;
	int B, T;

	c = tl_model_config(m, &B, &T);
	if ((e = evaler_alloc(tok, p, T, c->vocab, B, max_targets,
	    err)) == NULL)
		return NULL;
	e->m = m;
	e->params = params;
	e->in = calloc(2 * (size_t)B * T, sizeof(*e->in));
	e->cnt = calloc(B, sizeof(*e->cnt));
	if (e->in == NULL || e->cnt == NULL) {
		tl_evaler_free(e);
		tl_err(err, "out of memory");
		return NULL;
	}
	tl_model_prepare(m, (float *)params);
	return e;
}

tl_evaler *
tl_evaler_new_infer(struct tl_infer *const *d, int nd, tl_pool *p,
    const tl_tok *tok, size_t max_targets, char *err)
{
	tl_evaler *e;
	int T = tl_infer_ctx(d[0]), V = tl_infer_config(d[0])->vocab;
	size_t per = (size_t)nd * ROUND;

	if (nd < tl_pool_threads(p)) {
		tl_err(err, "%d decoders for %d threads", nd,
		    tl_pool_threads(p));
		return NULL;
	}
	if ((e = evaler_alloc(tok, p, T, V, (int)per, max_targets,
	    err)) == NULL)
		return NULL;
	e->j.d = d;
	e->j.nd = nd;
	e->j.T = T;
	e->j.V = V;
	e->j.loss = malloc(per * T * sizeof(*e->j.loss));
	e->j.rank = malloc(per * T);
	e->j.lg = malloc((size_t)nd * V * sizeof(*e->j.lg));
	if (e->j.loss == NULL || e->j.rank == NULL || e->j.lg == NULL) {
		tl_evaler_free(e);
		tl_err(err, "out of memory");
		return NULL;
	}
	return e;
}

void
tl_evaler_free(tl_evaler *e)
{
	if (e == NULL)
		return;
	free(e->buf);
	free(e->in);
	free(e->cnt);
	free(e->j.loss);
	free(e->j.rank);
	free(e->j.lg);
	free(e);
}

/* Score the block of buf: its first total targets, with B windows in
 * one batched forward. */
static void
block_batched(tl_evaler *e, size_t total)
{
	int B = e->W, T = e->T, V = e->V, b, t;
	uint16_t *in = e->in, *tg = in + (size_t)B * T;
	const float *loss, *prob;
	size_t ws;

	memset(in, 0, 2 * (size_t)B * T * sizeof *in);
	for (b = 0; b < B; b++) {
		ws = (size_t)b * T;
		e->cnt[b] = ws >= total ? 0 : total - ws < (size_t)T ?
		    (int)(total - ws) : T;
		for (t = 0; t < e->cnt[b]; t++) {
			in[b * T + t] = e->buf[ws + t];
			tg[b * T + t] = e->buf[ws + t + 1];
		}
	}
	tl_model_forward(e->m, e->p, e->params, in, tg);
	loss = tl_model_rowloss(e->m);
	prob = tl_model_logits(e->m);
	for (b = 0; b < B; b++)
		for (t = 0; t < e->cnt[b]; t++) {
			long r = (long)b * T + t, rk;
			size_t len;

			tl_tok_piece(e->tok, tg[r], &len);
			e->nats += loss[r];
			e->bytes += len;
			rk = rank_of(prob + r * V, V, tg[r]);
			e->top1 += rk < 1;
			e->top5 += rk < 5;
			e->done++;
		}
}

/* The same block as a round of windows through the decoders. */
static int
block_infer(tl_evaler *e, size_t total)
{
	ijob *j = &e->j;
	size_t w, ws;
	int u, cnt;

	j->ids = e->buf;
	j->total = total;
	j->w0 = 0;
	j->nw = (total + j->T - 1) / j->T;
	tl_pool_for(e->p, j->nd, job_windows, j);
	if (j->fail)
		return -1;
	for (w = 0; w < j->nw; w++) {
		ws = w * j->T;
		cnt = total - ws < (size_t)j->T ? (int)(total - ws) : j->T;
		for (u = 0; u < cnt; u++) {
			size_t len;

			tl_tok_piece(e->tok, e->buf[ws + u + 1], &len);
			e->nats += j->loss[w * j->T + u];
			e->bytes += len;
			e->top1 += j->rank[w * j->T + u] == 0;
			e->top5 += j->rank[w * j->T + u] <= 1;
			e->done++;
		}
	}
	return 0;
}

static int
block(tl_evaler *e, size_t total, char *err)
{
	if (e->m != NULL)
		block_batched(e, total);
	else if (block_infer(e, total) != 0)
		return tl_err(err, "decoder failed");
	return 0;
}

int
tl_evaler_feed(tl_evaler *e, const uint16_t *ids, size_t n, char *err)
{
	size_t i, full = (size_t)e->W * e->T + 1;
	int lim = e->V < (int)e->tok->vocab ? e->V : (int)e->tok->vocab;

	for (i = 0; i < n; i++) {
		if (e->max > 0 && e->seen > e->max)
			return 0;	/* the rest is past the last target */
		if (ids[i] >= lim)
			return tl_err(err, "token id %u at %llu is out of the "
			    "vocabulary (%d ids)", ids[i],
			    (unsigned long long)e->seen, lim);
		e->buf[e->nbuf++] = ids[i];
		e->seen++;
		if (e->nbuf == full) {
			if (block(e, full - 1, err) != 0)
				return -1;
			e->buf[0] = e->buf[full - 1];
			e->nbuf = 1;
		}
	}
	return 0;
}

int
tl_evaler_end(tl_evaler *e, tl_evalres *res, char *err)
{
	memset(res, 0, sizeof *res);
	if (e->seen < 2)
		return tl_err(err, "%llu tokens: evaluation needs at least 2",
		    (unsigned long long)e->seen);
	if (e->nbuf > 1 && block(e, e->nbuf - 1, err) != 0)
		return -1;
	e->nbuf = 1;
	finish(res, e->nats, e->bytes, e->top1, e->top5, e->done);
	return 0;
}

/* A whole stream in memory, through an evaluator. */
static int
eval_all(tl_evaler *e, const uint16_t *ids, size_t n, tl_evalres *res,
    char *err)
{
	int rc;

	if (e == NULL)
		return -1;
	rc = tl_evaler_feed(e, ids, n, err);
	if (rc == 0)
		rc = tl_evaler_end(e, res, err);
	tl_evaler_free(e);
	return rc;
}

int
tl_eval(tl_model *m, tl_pool *p, const float *params, const tl_tok *tok,
    const uint16_t *ids, size_t n, size_t max_targets, tl_evalres *res,
    char *err)
{
	memset(res, 0, sizeof *res);
	if (n < 2)
		return tl_err(err, "%zu tokens: evaluation needs at least 2",
		    n);
	return eval_all(tl_evaler_new(m, p, params, tok, max_targets, err),
	    ids, n, res, err);
}

int
tl_eval_infer(struct tl_infer *const *d, int nd, tl_pool *p,
    const tl_tok *tok, const uint16_t *ids, size_t n, size_t max_targets,
    tl_evalres *res, char *err)
{
	memset(res, 0, sizeof *res);
	if (n < 2)
		return tl_err(err, "%zu tokens: evaluation needs at least 2",
		    n);
	return eval_all(tl_evaler_new_infer(d, nd, p, tok, max_targets, err),
	    ids, n, res, err);
}
