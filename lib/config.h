/*
 * config.h: the model's configuration and its structure: which
 * tensors exist, their shapes from the configuration, their kinds,
 * whether weight decay applies to them.  This table is the one owner
 * of the structure: the parameter layout, initialisation, the set of
 * tensors without weight decay, the packed format's layout, the lists
 * of linear layers, the bytes a token reads and the FLOPs a token
 * costs all derive from it.  Adding a tensor is one row here (and its
 * field in tl_params, through which the math names it).
 *
 * Also the 40-byte configuration record that the checkpoint and packed
 * formats share.
 */
#ifndef TL_CONFIG_H
#define TL_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "opt.h"

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
/* Rows of w1: F, or 2F for a gated FFN (gate and up side by side). */
int tl_ffn_rows(const tl_config *c);

/* The model-shape options of tl-init, tl-train and tl-bench (key
 * TL_OPT_SHAPE: give op.name and op.arg to tl_config_opt). */
extern const tl_opt tl_shape_opts[];
/* Apply model-shape option name (a long option of tl_shape_opts,
 * without dashes) with value val: 0 if applied, 1 if name is not a
 * shape option, -1 with a message if val is bad. */
int tl_config_opt(tl_config *c, const char *name, const char *val,
    char *err);

/* The configuration record of the file formats: ten little-endian
 * u32 in the order of tl_config (tl-checkpoint(5), tl-packed(5)). */
#define TL_CONFIG_BYTES 40
void tl_config_put(unsigned char *p, const tl_config *c);
void tl_config_get(tl_config *c, const unsigned char *p);

/* Pointers into one flat array of parameters (or of gradients, or of
 * optimizer moments: all share this layout, the order of tl_tensors).
 * Pointers of tensors the configuration does not have (layernorm
 * biases under rmsnorm, the sub-norms unless subln) are NULL. */
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

/* Kinds of tensor, in the order in which the packed format stores the
 * fp32 ones (tl-packed(5)); each kind in table order. */
enum {
	TL_T_EMBED,	/* token embedding */
	TL_T_NORM,	/* a block's pre-norm: gain, or bias (layernorm) */
	TL_T_SUBNORM,	/* a block's sub-norm gain: subln only */
	TL_T_FNORM,	/* the final norm: gain, or bias (layernorm) */
	TL_T_HEAD,	/* output head */
	TL_T_LINEAR	/* a linear layer of a block (ternary in training) */
};

/* Sizes of a tensor's dimensions, in terms of the configuration. */
enum { TL_D_1, TL_D_V, TL_D_C, TL_D_3C, TL_D_F, TL_D_F1 };

/* Initial values: N(0, 0.02); N(0, 0.02/sqrt(2L)) for the residual
 * output projections (GPT-2); norm gains 1; biases 0. */
enum { TL_INIT_NORMAL, TL_INIT_RESID, TL_INIT_ONE, TL_INIT_ZERO };

/* Linear layers of a block, in the order of their rows. */
enum { TL_LIN_QKV, TL_LIN_O, TL_LIN_IN, TL_LIN_OUT, TL_NLIN };

typedef struct {
	const char *name;
	size_t field;		/* offsetof(tl_params, the tensor) */
	int kind;		/* TL_T_* */
	int bias;		/* a norm's bias: exists under layernorm */
	int block;		/* one per block: (L, rows, cols) */
	int rows, cols;		/* TL_D_*: (rows, cols) of one */
	int init;		/* TL_INIT_* */
	int decay;		/* weight decay applies */
	int lin;		/* TL_LIN_* of a linear layer, else -1 */
} tl_tensor;

#define TL_NTENSORS 14
extern const tl_tensor tl_tensors[TL_NTENSORS];

/* Does configuration c have tensor t? */
int tl_tensor_has(const tl_tensor *t, const tl_config *c);
/* Rows and columns of one (per block) copy of t under c. */
void tl_tensor_shape(const tl_tensor *t, const tl_config *c, size_t *rows,
    size_t *cols);
/* Floats of t under c, every block's together; 0 if c lacks it. */
size_t tl_tensor_size(const tl_tensor *t, const tl_config *c);
/* Linear layer i of a block (TL_LIN_*): its row and its shape. */
const tl_tensor *tl_lin(int i);
void tl_lin_shape(const tl_config *c, int i, int *rows, int *cols);
/* Weights that multiply each position's activations: every block's
 * linear layers and the head (twice this is a position's forward
 * FLOPs outside attention). */
double tl_matmul_weights(const tl_config *c);

size_t tl_nparams(const tl_config *c);
void tl_params_map(tl_params *p, float *base, const tl_config *c);
/* Tensor t of P (NULL if absent). */
float *tl_params_get(const tl_params *P, const tl_tensor *t);
/* Fill base (tl_nparams floats) with the initial weights for seed. */
void tl_params_init(float *base, const tl_config *c, uint64_t seed);

#endif
