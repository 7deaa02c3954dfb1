/*
 * eval.h: scoring a model on a token stream: mean cross-entropy,
 * perplexity, bits per byte and top-1/top-5 accuracy of next-token
 * prediction (tl-eval(1) defines them).
 */
#ifndef TL_EVAL_H
#define TL_EVAL_H

#include <stddef.h>
#include <stdint.h>

#include "kernels.h"
#include "model.h"
#include "tokenizer.h"

typedef struct {
	double loss;		/* mean nats per scored token */
	double ppl;		/* exp(loss) */
	double bits_per_byte;	/* total nats / ln 2 / bytes */
	double top1, top5;	/* fraction of targets ranked first, in top 5 */
	uint64_t tokens;	/* scored (target) tokens */
	uint64_t bytes;		/* bytes of their pieces (tl_tok_piece) */
} tl_evalres;

/* Score ids (n) with model m (made for B rows of T positions) over
 * params: the stream is cut into windows of T+1 tokens that overlap by
 * one, starting at 0, T, 2T, ...: inputs ids[s..s+T), targets
 * ids[s+1..s+T]; every token after the first is scored exactly once
 * (a last short window is padded and only its real targets count).  B
 * windows go through each tl_model_forward.  max_targets > 0 stops
 * after that many scored tokens.  Prepares m (tl_model_prepare) for
 * params first.  Deterministic and independent of the thread count.
 * Needs n >= 2 and every id below the model's and tok's vocabulary. */
int tl_eval(tl_model *m, tl_pool *p, const float *params, const tl_tok *tok,
    const uint16_t *ids, size_t n, size_t max_targets, tl_evalres *res,
    char *err);

/* The same scores, windows and counts computed position by position
 * through decoders (infer.h) of one model, as packed models run: d
 * holds nd decoders, nd at least the number of threads of p; each
 * thread takes whole windows with a decoder of its own.  The sums run
 * in stream order, so the result depends neither on nd nor on the
 * thread count. */
struct tl_infer;
int tl_eval_infer(struct tl_infer *const *d, int nd, tl_pool *p,
    const tl_tok *tok, const uint16_t *ids, size_t n, size_t max_targets,
    tl_evalres *res, char *err);

#endif
