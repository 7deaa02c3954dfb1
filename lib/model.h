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

#include "kernels.h"

enum { TL_POS_ROPE, TL_POS_SIN, TL_POS_N };
/* subln: RMSNorm, and (BitNet's SubLN) a further RMSNorm of the
 * attention values before the output projection and of the FFN's
 * hidden activations before its down projection */
enum { TL_NORM_RMS, TL_NORM_LAYER, TL_NORM_SUBLN, TL_NORM_N };
enum { TL_QUANT_FP32, TL_QUANT_TERNARY, TL_QUANT_N };
enum { TL_ACT_GELU, TL_ACT_RELU, TL_ACT_RELU2, TL_ACT_SWIGLU, TL_ACT_N };

extern const char *const tl_pos_names[TL_POS_N];
extern const char *const tl_norm_names[TL_NORM_N];
extern const char *const tl_quant_names[TL_QUANT_N];
extern const char *const tl_act_names[TL_ACT_N];
/* Index of s in names[0..n), or -1. */
int tl_lookup(const char *const *names, int n, const char *s);

/* Documented maximums (tl-checkpoint(5)): every reader checks them
 * before it computes a size. */
#define TL_MAX_LAYERS 64
#define TL_MAX_DIM 4096
#define TL_MAX_HEADS 64
#define TL_MAX_FFN 16384
#define TL_MAX_CTX 4096

typedef struct {
	uint32_t vocab;		/* V: token ids */
	uint32_t layers;	/* L: blocks */
	uint32_t dim;		/* C: model width */
	uint32_t heads;		/* H: attention heads, C % H == 0 */
	uint32_t ffn;		/* F: FFN hidden width */
	uint32_t ctx;		/* T: context length */
	uint32_t pos, norm, quant, act;
} tl_config;

void tl_config_default(tl_config *c);
int tl_config_check(const tl_config *c, char *err);

/* Pointers into one flat array of parameters (or of gradients, or of
 * optimizer moments: all share this layout).  Pointers of tensors the
 * configuration does not have (layernorm biases under rmsnorm, the
 * sub-norms unless subln) are NULL. */
typedef struct {
	float *wte;		/* (V,C) token embedding */
	float *ln1w, *ln1b;	/* (L,C) */
	float *wqkv;		/* (L,3C,C) q, k, v projections */
	float *ln3w;		/* (L,C) subln: before the attention output */
	float *wo;		/* (L,C,C) attention output */
	float *ln2w, *ln2b;	/* (L,C) */
	float *w1;		/* (L,F1,C) FFN in; F1 = 2F when gated */
	float *ln4w;		/* (L,F) subln: before the FFN output */
	float *w2;		/* (L,C,F) FFN out */
	float *lnfw, *lnfb;	/* (C) final norm */
	float *head;		/* (V,C) output head */
} tl_params;

size_t tl_nparams(const tl_config *c);
void tl_params_map(tl_params *p, float *base, const tl_config *c);
/* Fill base (tl_nparams floats) with the initial weights for seed. */
void tl_params_init(float *base, const tl_config *c, uint64_t seed);
/* Rows of w1: F, or 2F for a gated FFN (gate and up side by side). */
int tl_ffn_rows(const tl_config *c);

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
