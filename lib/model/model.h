/*
 * model.h: the transformer: its configuration and table of tensors
 * (config.c), the batched training pass (model.c), weight formats and
 * quantized models (quant.c), incremental inference (infer.c),
 * sampling (sample.c) and scoring (eval.c).  Reaches util, kernels and
 * tok; never formats.
 */
#ifndef TL_MODEL_H
#define TL_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "kernels/kernels.h"
#include "tok/tok.h"
#include "util/util.h"

/* ======== config.c ======== */

/*
 * config.c: the model's configuration and its structure: which
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

/* The norms' epsilon (y = x / sqrt(mean(x^2) + eps) w), and the base
 * of the rotary positions' angles (pair i of a head of hs turns by
 * pos * base^(-2i/hs)) and of the sinusoidal ones. */
#define TL_NORM_EPS 1e-5f
#define TL_ROPE_BASE 10000.0

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

/* ======== model.c ======== */

/*
 * model.c: the transformer: configuration, parameter layout,
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
/* The bytes tl_model_new(c, B, T, recompute) allocates (0 if it would
 * refuse the shape), from the same layout, and the largest scratch its
 * passes' products allocate on the calling thread for the SIMD path in
 * use (tl_simd_init first; other threads: tl_attention_scratch each). */
size_t tl_model_bytes(const tl_config *c, int B, int T, int recompute);
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
/* Dropout of rate p for the passes that follow, until changed (p 0:
 * none, as a new model has): on the attention probabilities and on
 * the output of both residual branches of every block, before it is
 * added.  The masks are a function of key (the step's), row0 + the
 * row's sequence, the layer, the site and the element (tl_drop), so
 * that a backward pass, a recomputed block and the same rows in
 * another split of the step see the same ones. */
void tl_model_dropout(tl_model *m, float p, uint64_t key, uint64_t row0);
/* Targets mixed with the distribution q (B,T,V: a teacher's
 * probabilities, which must outlive the passes) at weight a, for the
 * passes that follow, until changed (q NULL or a 0: the targets
 * alone, as a new model has): a row's loss is then (1 - a) times its
 * cross-entropy with its target plus a times its cross-entropy with
 * q's row. */
void tl_model_soft(tl_model *m, const float *q, float a);
/* Accumulate d(mean loss)/d(params) * gscale into grads. */
void tl_model_backward(tl_model *m, tl_pool *p, const float *params,
    float *grads, float gscale);

/* ======== quant.c ======== */

/*
 * quant.c: the weight formats of the linear layers, their int8
 * activations and products, and a model quantized for inference (in
 * memory: formats.h, packed.c, writes and reads it as a file).
 *
 * A quantized model holds what inference needs: the configuration, the
 * embedding, norms and head as fp32 (the precision the model trained
 * them at), and the linear layers of the blocks in one weight format:
 *
 *   tq2  ternary, 2-bit codes, 64 weights in 16 bytes (as bitnet.cpp's
 *        I2_S, with llama.cpp TQ2_0's order of codes), a scale per
 *        tensor: 2 bits per weight
 *   tq1  ternary, 5 trits per byte (as llama.cpp's TQ1_0), a scale per
 *        tensor: 1.6 bits per weight, 2 for a row's last 16 to 64
 *   q8   int8, blocks of 64 weights with an fp32 absmax scale: 8.5 bits
 *   q4   int4, blocks of 64 weights with an fp32 absmax scale: 4.5 bits
 *   f32  the fp32 weights as they are (a baseline)
 *
 * Ternary values come from one of three schemes: absmean (BitNet
 * b1.58, the rule ternary training uses: round-clip(w / mean|w|)
 * times mean|w|), twn (Ternary Weight Networks: zero below
 * 0.7 mean|w|, the sign above, times the mean |w| of those above) or
 * sign (binary: the sign, times mean|w|; stored in the ternary
 * layouts).  q8 and q4 use absmax per block.
 *
 * The quantized formats run as BitNet does: every linear layer's input
 * is quantized to int8 per token by absmax (x * 127 / max|x|, rounded
 * to nearest even), the products are exact integer sums of int8
 * activations and weight codes (kernels.h: matvec_tq2 ...), and the sums
 * are scaled back in fp32.  For a model trained ternary, tq2 and tq1
 * with absmean therefore compute what the checkpoint's ternary forward
 * computes, to the bit.
 */



/* Weight formats of the linear layers. */
enum { TL_W_F32, TL_W_TQ2, TL_W_TQ1, TL_W_Q8, TL_W_Q4, TL_W_N };
extern const char *const tl_wtype_names[TL_W_N];

/* Quantization schemes. */
enum { TL_QS_NONE, TL_QS_ABSMEAN, TL_QS_TWN, TL_QS_SIGN, TL_QS_ABSMAX,
	TL_QS_N };
extern const char *const tl_scheme_names[TL_QS_N];

/* The scheme a format takes by default, and whether it can take s. */
int tl_scheme_default(int type);
int tl_scheme_ok(int type, int s);

#define TL_QBLOCK 64	/* weights per block (q8, q4) and row padding */

/* The weights of one linear layer, rows of cols, in one format.  A
 * stored row holds n weights (cols rounded up to 64, to 16 for tq1,
 * cols itself for f32; the extra weights are zero) in ld bytes. */
typedef struct {
	int type;
	int rows, cols, n;
	long ld;
	float scale;		/* tq2, tq1: the tensor's scale */
	const float *d;		/* q8, q4: (rows, n/64) block scales */
	const void *w;		/* (rows, ld bytes) codes, or floats */
	void *mem;		/* owned memory (tl_qmat_quant), or NULL */
} tl_qmat;

/* Stored row length and bytes for cols weights in format type. */
int tl_qrow_n(int type, int cols);
long tl_qrow_bytes(int type, int n);

/* Quantize w (rows, cols) into m (memory of its own: tl_qmat_free). */
int tl_qmat_quant(tl_qmat *m, int type, int scheme, const float *w, int rows,
    int cols, char *err);
void tl_qmat_free(tl_qmat *m);
/* Value j of row r (j < n): ternary -1/0/1, q8 -127..127, q4 -8..7;
 * row r's n values (f32: neither, tl_qmat_row returns -1). */
int tl_qmat_value(const tl_qmat *m, int r, int j);
int tl_qmat_row(const tl_qmat *m, int r, int8_t *v);
/* The dequantized weight (r, j). */
float tl_qmat_at(const tl_qmat *m, int r, int j);

/* Row packing of values v (n) in the layouts of tkernels_ref.c. */
void tl_tq2_pack(uint8_t *dst, const int8_t *v, int n);
void tl_tq1_pack(uint8_t *dst, const int8_t *v, int n);
void tl_q4_pack(uint8_t *dst, const int8_t *v, int n);

/* ---- activations ---- */

/* Room for one int8 activation vector of up to cap elements. */
typedef struct {
	tl_xq8 x;
	int8_t *q;
	int16_t *p;
	int32_t *bsum;
	int cap;
	void *mem;
} tl_xq8buf;

int tl_xq8buf_init(tl_xq8buf *b, int cap, char *err);
void tl_xq8buf_free(tl_xq8buf *b);
/* Quantize x (len <= cap) to int8 by absmax g (q = rint(x * 127/g),
 * zero if g = 0), fill b->x (n = len rounded up to 64), return g. */
float tl_xq8_prep(tl_xq8buf *b, const float *x, int len);

/* y (rows) = W x (cols), W the layer m: for the quantized formats the
 * int8 product above times scale * (g/127) (per block scales for q8
 * and q4); for f32 a dot product per row.  Rows are spread over the
 * pool when the product is large; results do not depend on it. */
void tl_qmat_mv(tl_pool *p, float *y, const tl_qmat *m, const float *x,
    tl_xq8buf *b);

/* Bytes of m's codes and block scales (not a ternary scale). */
uint64_t tl_qmat_bytes(const tl_qmat *m);

/* ---- a quantized model ---- */

/* What inference needs: the fp32 tensors (embedding, norms, head: the
 * linear pointers of P are unused) and the linear layers of every
 * block in one format.  P and qm point into memory that another owns
 * (a checkpoint's weights, a mapped file) or into mem. */
typedef struct {
	tl_config cfg;
	int type, scheme;	/* TL_W_*, TL_QS_* */
	tl_params P;
	tl_qmat *qm;		/* (L, TL_NLIN) */
} tl_qmodel;

/* Quantize the linear layers of params (c's layout) into q in format
 * type by scheme; the fp32 tensors stay in params, which must outlive
 * q.  f32 matrices point into params too. */
int tl_qmodel_quant(tl_qmodel *q, const tl_config *c, const float *params,
    int type, int scheme, char *err);
/* The format and scheme that compute what the model trained: tq2 by
 * absmean for ternary models (to the bit), f32 for fp32 ones. */
void tl_qmodel_native(const tl_config *c, int *type, int *scheme);
void tl_qmodel_free(tl_qmodel *q);
/* Linear layer i of block l. */
const tl_qmat *tl_qmodel_lin(const tl_qmodel *q, int l, int i);

/* Sizes: the linear layers' weights, and their bytes with every scale. */
typedef struct {
	uint64_t weights;	/* weights of the linear layers */
	uint64_t lbytes;	/* their bytes in the file */
	uint64_t fbytes;	/* the whole file (formats.h: packed.c) */
} tl_packstats;
void tl_qmodel_stats(const tl_qmodel *q, tl_packstats *st);
/* Bytes of weights one token reads: the linear layers with their
 * scales, every fp32 tensor but the embedding, and one embedding row. */
double tl_qmodel_token_bytes(const tl_qmodel *q);

/* ======== infer.c ======== */

/*
 * infer.c: single-sequence incremental inference with a KV cache.
 *
 * tl_infer_step runs the model on one token at one position, at the
 * cost of one position: the keys and values of earlier positions come
 * from the cache.  It computes what the batched tl_model_forward
 * computes for the same prefix (model.c is the specification): in
 * ternary mode the weights are quantized once, at load, by the same
 * rule and scales as tl_model_prepare, and every linear layer's input
 * is quantized to 8 bits by absmax exactly as in training.
 */



typedef struct tl_infer tl_infer;

/* The cache of keys and values of a decoder (infer.c): fp32, whose
 * logits are the batched pass's, or int8 by each head's absmax, a
 * quarter of the bytes to read a position, the default of tl-gen. */
enum { TL_KV_F32, TL_KV_Q8, TL_KV_N };
extern const char *const tl_kv_names[TL_KV_N];	/* "f32", "q8" */

/* A decoder for the quantized model q (quant.c: from a checkpoint by
 * tl_qmodel_quant, or a packed model), whose memory must stay alive
 * and unchanged while the decoder is used, with a cache of kind kv. */
tl_infer *tl_infer_new(const tl_qmodel *q, int kv, char *err);
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

/* Bytes of the cache that a token reads on average over a context
 * filled from empty (its keys and values, and their scales). */
double tl_infer_cache_bytes(const tl_infer *d);

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

/* ======== sample.c ======== */

/*
 * sample.c: choosing the next token from logits: greedy, or a draw
 * from the softmax at a temperature, restricted to the k most likely
 * tokens (top-k) and then to the smallest set of them whose
 * probability reaches p (top-p, nucleus sampling).  Draws come from a
 * seeded tl_rng, so a seed gives the same tokens every time.
 */



typedef struct {
	float temp;	/* temperature; <= 0 means greedy */
	int topk;	/* keep the k most likely; <= 0 or >= V: all */
	float topp;	/* then keep the nucleus of mass p; >= 1: all */
	int greedy;	/* always the most likely token */
} tl_sampling;

typedef struct tl_sampler tl_sampler;

/* Defaults of tl-gen(1): temperature 0.8, top-k 40, top-p 0.95. */
void tl_sampling_default(tl_sampling *s);
/* A sampler over V ids with its own generator seeded by seed. */
tl_sampler *tl_sampler_new(int V, const tl_sampling *s, uint64_t seed,
    char *err);
void tl_sampler_free(tl_sampler *sp);
/* The next token given logits (V), which are left unchanged. */
int tl_sample(tl_sampler *sp, const float *logits);
/* Index of the largest of x (n); the lowest index on ties. */
int tl_argmax(const float *x, int n);

/* ======== eval.c ======== */

/*
 * eval.c: scoring a model on a token stream: mean cross-entropy,
 * perplexity, bits per byte and top-1/top-5 accuracy of next-token
 * prediction (tl-eval(1) defines them).
 */



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
 * through decoders (infer.c) of one model, as packed models run: d
 * holds nd decoders, nd at least the number of threads of p; each
 * thread takes whole windows with a decoder of its own.  The sums run
 * in stream order, so the result depends neither on nd nor on the
 * thread count. */
struct tl_infer;
int tl_eval_infer(struct tl_infer *const *d, int nd, tl_pool *p,
    const tl_tok *tok, const uint16_t *ids, size_t n, size_t max_targets,
    tl_evalres *res, char *err);

/* The same scores of a stream fed in pieces of any size, in memory
 * that does not grow with it (a buffer of B windows, or of 8 windows
 * a decoder, of T + 1 ids): tl_eval and tl_eval_infer feed their
 * whole stream at once, and the result does not depend on the
 * pieces.  Ids beyond the last target that max_targets allows are
 * taken and ignored.  end gives the scores (-1 under 2 ids fed). */
typedef struct tl_evaler tl_evaler;
tl_evaler *tl_evaler_new(tl_model *m, tl_pool *p, const float *params,
    const tl_tok *tok, size_t max_targets, char *err);
tl_evaler *tl_evaler_new_infer(struct tl_infer *const *d, int nd,
    tl_pool *p, const tl_tok *tok, size_t max_targets, char *err);
int tl_evaler_feed(tl_evaler *e, const uint16_t *ids, size_t n, char *err);
int tl_evaler_end(tl_evaler *e, tl_evalres *res, char *err);
void tl_evaler_free(tl_evaler *e);

#endif
