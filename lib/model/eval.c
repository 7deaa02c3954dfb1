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

/* The programs' progress line (tl_eval_progress): each batch adds its
 * targets, so that calls over slices of a stream add up. */
static tl_progress *eval_prog;

void
tl_eval_progress(tl_progress *p)
{
	eval_prog = p;
}

int
tl_eval(tl_model *m, tl_pool *p, const float *params, const tl_tok *tok,
    const uint16_t *ids, size_t n, size_t max_targets, tl_evalres *res,
    char *err)
{
	const tl_config *c;
	int B, T, V, b, t;
	size_t total, s, i, ws;
	uint16_t *in;
	int *cnt;
	double nats = 0, bytes = 0, top1 = 0, top5 = 0;
	uint64_t done = 0;

	memset(res, 0, sizeof *res);
	c = tl_model_config(m, &B, &T);
	V = c->vocab;
	if (n < 2)
		return tl_err(err, "%zu tokens: evaluation needs at least 2",
		    n);
	total = n - 1;
	if (max_targets > 0 && max_targets < total)
		total = max_targets;
	for (i = 0; i <= total; i++)
		if (ids[i] >= V || ids[i] >= tok->vocab)
			return tl_err(err, "token id %u at %zu is out of the "
			    "vocabulary (%d ids)", ids[i], i,
			    V < (int)tok->vocab ? V : (int)tok->vocab);
	in = calloc(2 * (size_t)B * T, sizeof *in);
	cnt = calloc(B, sizeof *cnt);
	if (in == NULL || cnt == NULL) {
		free(in);
		free(cnt);
		return tl_err(err, "out of memory");
	}
	tl_model_prepare(m, (float *)params);
	for (s = 0; s < total; s += (size_t)B * T) {
		uint16_t *tg = in + (size_t)B * T;
		const float *loss, *prob;
		uint64_t d0 = done;

		memset(in, 0, 2 * (size_t)B * T * sizeof *in);
		for (b = 0; b < B; b++) {
			ws = s + (size_t)b * T;
			cnt[b] = ws >= total ? 0 : total - ws < (size_t)T ?
			    (int)(total - ws) : T;
			for (t = 0; t < cnt[b]; t++) {
				in[b * T + t] = ids[ws + t];
				tg[b * T + t] = ids[ws + t + 1];
			}
		}
		tl_model_forward(m, p, params, in, tg);
		loss = tl_model_rowloss(m);
		prob = tl_model_logits(m);
		for (b = 0; b < B; b++)
			for (t = 0; t < cnt[b]; t++) {
				long r = (long)b * T + t, rk;
				size_t len;

				tl_tok_piece(tok, tg[r], &len);
				nats += loss[r];
				bytes += len;
				rk = rank_of(prob + r * V, V, tg[r]);
				top1 += rk < 1;
				top5 += rk < 5;
				done++;
			}
		if (eval_prog)
			tl_progress_add(eval_prog, done - d0);
	}
	free(in);
	free(cnt);
	finish(res, nats, bytes, top1, top5, done);
	return 0;
}

/* Windows per thread and round of tl_eval_infer: bounds the memory of
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

int
tl_eval_infer(struct tl_infer *const *d, int nd, tl_pool *p,
    const tl_tok *tok, const uint16_t *ids, size_t n, size_t max_targets,
    tl_evalres *res, char *err)
{
	const tl_config *c = tl_infer_config(d[0]);
	size_t i, w, nwin, per;
	double nats = 0, bytes = 0, top1 = 0, top5 = 0;
	uint64_t done = 0;
	ijob j;
	int u, cnt;

	memset(res, 0, sizeof *res);
	memset(&j, 0, sizeof j);
	if (n < 2)
		return tl_err(err, "%zu tokens: evaluation needs at least 2",
		    n);
	if (nd < tl_pool_threads(p))
		return tl_err(err, "%d decoders for %d threads", nd,
		    tl_pool_threads(p));
	j.d = d;
	j.nd = nd;
	j.T = tl_infer_ctx(d[0]);
	j.V = c->vocab;
	j.ids = ids;
	j.total = n - 1;
	if (max_targets > 0 && max_targets < j.total)
		j.total = max_targets;
	for (i = 0; i <= j.total; i++)
		if (ids[i] >= j.V || ids[i] >= tok->vocab)
			return tl_err(err, "token id %u at %zu is out of the "
			    "vocabulary (%d ids)", ids[i], i,
			    j.V < (int)tok->vocab ? j.V : (int)tok->vocab);
	nwin = (j.total + j.T - 1) / j.T;
	per = (size_t)nd * ROUND;
	j.loss = malloc(per * j.T * sizeof *j.loss);
	j.rank = malloc(per * j.T);
	j.lg = malloc((size_t)nd * j.V * sizeof *j.lg);
	if (j.loss == NULL || j.rank == NULL || j.lg == NULL) {
		free(j.loss);
		free(j.rank);
		free(j.lg);
		return tl_err(err, "out of memory");
	}
	for (j.w0 = 0; j.w0 < nwin && !j.fail; j.w0 += j.nw) {
		j.nw = nwin - j.w0 < per ? nwin - j.w0 : per;
		uint64_t d0 = done;

		tl_pool_for(p, nd, job_windows, &j);
		for (w = 0; w < j.nw && !j.fail; w++) {
			size_t ws = (j.w0 + w) * j.T;

			cnt = j.total - ws < (size_t)j.T ? (int)(j.total - ws) :
			    j.T;
			for (u = 0; u < cnt; u++) {
				size_t len;

				tl_tok_piece(tok, ids[ws + u + 1], &len);
				nats += j.loss[w * j.T + u];
				bytes += len;
				top1 += j.rank[w * j.T + u] == 0;
				top5 += j.rank[w * j.T + u] <= 1;
				done++;
			}
		}
		if (eval_prog)
			tl_progress_add(eval_prog, done - d0);
	}
	free(j.loss);
	free(j.rank);
	free(j.lg);
	if (j.fail)
		return tl_err(err, "decoder failed");
	finish(res, nats, bytes, top1, top5, done);
	return 0;
}
