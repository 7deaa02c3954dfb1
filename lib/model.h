/*
 * model.h: the transformer: configuration, parameter layout,
 * initialisation, and the batched training forward and backward pass.
 *
 * Decoder-only, pre-norm: token embedding (+ sinusoidal positions if
 * chosen), L blocks of [norm, causal multi-head attention with RoPE,
 * residual; norm, FFN, residual], final norm, output head.  In ternary
 * mode every linear layer inside the blocks is a BitLinear (BitNet
 * b1.58): weights quantized to {-1,0,+1} times mean|W| and inputs to
 * 8 bits per token by absmax, with straight-through gradients to the
 * fp32 latent weights.  Embedding, norms and head stay fp32.
 */
#ifndef TL_MODEL_H
#define TL_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "kernels.h"

/* Quantize a (rows x cols) matrix w by the BitNet b1.58 absmean rule:
 * s = max(mean|w|, 1e-5), q = clamp(rint(w/s), -1, 1).  q holds the
 * ternary values as floats; returns s.  tl_ternary_scale is the first
 * half (s), tl_ternary_apply the second (q from a known s). */
float tl_ternary_quant(float *q, const float *w, size_t n);
float tl_ternary_scale(const float *w, size_t n);
void tl_ternary_apply(float *q, const float *w, size_t n, float s);

/* Activations and scratch for a batch of B rows of T positions.  With
 * recompute, the forward pass keeps only each block's input and the
 * backward pass runs a block's forward again before its backward: one
 * block's activations in memory instead of L, for about a third more
 * work per step, and the same gradients to the bit. */
typedef struct tl_model tl_model;

tl_model *tl_model_new(const tl_config *c, int B, int T, int recompute,
    char *err);
void tl_model_free(tl_model *m);
/* The configuration and batch shape m was made for. */
const tl_config *tl_model_config(const tl_model *m, int *B, int *T);
/* Find the scales of the ternary weights (ternary mode); call after
 * every update of params and before tl_model_forward.  The quantized
 * weights themselves are made from params and these scales one matrix
 * at a time, as the passes need them. */
void tl_model_prepare(tl_model *m, float *params);
/* Forward over in (B,T) ids; with targets (B,T) returns the mean
 * cross-entropy (nats) and keeps what backward needs.  logits are
 * (B,T,V); probabilities after a forward with targets. */
float tl_model_forward(tl_model *m, tl_pool *p, const float *params,
    const uint16_t *in, const uint16_t *tgt);
float *tl_model_logits(tl_model *m);
/* (B,T) cross-entropy of each position after a forward with targets. */
const float *tl_model_rowloss(const tl_model *m);
/* Accumulate d(mean loss)/d(params) * gscale into grads. */
void tl_model_backward(tl_model *m, tl_pool *p, const float *params,
    float *grads, float gscale);

#endif
