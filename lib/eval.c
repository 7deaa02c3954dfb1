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
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "eval.h"
#include "util.h"

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
	}
	free(in);
	free(cnt);
	res->tokens = done;
	res->bytes = (uint64_t)bytes;
	res->loss = nats / done;
	res->ppl = exp(res->loss);
	res->bits_per_byte = bytes > 0 ? nats / log(2.0) / bytes : 0;
	res->top1 = top1 / done;
	res->top5 = top5 / done;
	return 0;
}
