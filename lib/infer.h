/*
 * infer.h: single-sequence incremental inference with a KV cache.
 *
 * tl_infer_step runs the model on one token at one position, at the
 * cost of one position: the keys and values of earlier positions come
 * from the cache.  It computes what the batched tl_model_forward
 * computes for the same prefix (model.c is the specification): in
 * ternary mode the weights are quantized once, at load, by the same
 * rule and scales as tl_model_prepare, and every linear layer's input
 * is quantized to 8 bits by absmax exactly as in training.
 */
#ifndef TL_INFER_H
#define TL_INFER_H

#include <stdint.h>

#include "kernels.h"
#include "model.h"
#include "qmat.h"

typedef struct tl_infer tl_infer;

/* A decoder for the quantized model q (qmat.h: from a checkpoint by
 * tl_qmodel_quant, or a packed model), whose memory must stay alive
 * and unchanged while the decoder is used. */
tl_infer *tl_infer_new(const tl_qmodel *q, char *err);
void tl_infer_free(tl_infer *d);

/* Run token at position pos and return the logits (V) of the next
 * token, valid until the next call.  pos may be at most the number of
 * positions already cached (tl_infer_len) and less than the context:
 * stepping at an earlier position forgets every position from it on.
 * Returns NULL if pos or token is out of range.  Results do not depend
 * on the number of threads of p (p may be NULL). */
float *tl_infer_step(tl_infer *d, tl_pool *p, uint16_t token, int pos);

/* The model's configuration. */
const tl_config *tl_infer_config(const tl_infer *d);

/* Positions cached, and the context length (the most it can hold). */
int tl_infer_len(const tl_infer *d);
int tl_infer_ctx(const tl_infer *d);
/* Forget every cached position. */
void tl_infer_reset(tl_infer *d);

/* Append token after the cached positions and return the logits of
 * the next one.  When the cache is full (tl_infer_len == ctx): with
 * slide == 0 returns NULL and changes nothing; otherwise slides the
 * window first: the last tl_infer_keep() cached tokens are re-encoded
 * at positions 0, 1, ... and token follows them.  Re-encoding (rather
 * than shifting cached keys) keeps every result exactly that of the
 * model run afresh on the window it sees; keeping half the context
 * makes the cost one extra position per generated token on average
 * while the model always sees at least ctx/2 tokens of history. */
float *tl_infer_push(tl_infer *d, tl_pool *p, uint16_t token, int slide);
/* Tokens kept by a slide: ctx / 2. */
int tl_infer_keep(const tl_infer *d);

#endif
