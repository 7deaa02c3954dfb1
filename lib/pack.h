/*
 * pack.h: quantization and packing of the linear layers, and packed
 * inference models (tl-packed(5)).
 *
 * A packed model holds what inference needs and nothing else: the
 * configuration, the tokenizer, the embedding, norms and head as fp32
 * (the precision the model trained them at), and the linear layers of
 * the blocks in one weight format:
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
#ifndef TL_PACK_H
#define TL_PACK_H

#include <stddef.h>
#include <stdint.h>

#include "kernels.h"
#include "model.h"
#include "tokenizer.h"

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

/* ---- packed model files ---- */

#define TL_PACK_VERSION 1

typedef struct tl_packed tl_packed;

/* Open flags: read the file into memory even where it could be mapped. */
#define TL_PACKED_READ 1

/* Open and check a packed model (every check of tl-packed(5)).  The
 * file is mapped into memory where the system allows, read otherwise. */
tl_packed *tl_packed_open(const char *path, int flags, char *err);
void tl_packed_close(tl_packed *pk);
int tl_packed_is(const char *path);	/* starts with the magic? */

const tl_config *tl_packed_config(const tl_packed *pk);
const tl_tok *tl_packed_tok(const tl_packed *pk);
int tl_packed_type(const tl_packed *pk);
int tl_packed_scheme(const tl_packed *pk);
int tl_packed_mapped(const tl_packed *pk);
/* The fp32 tensors (embedding, norms, head; the linear ones NULL) and
 * linear layer i (0 qkv, 1 attention output, 2 FFN in, 3 FFN out) of
 * block l. */
const tl_params *tl_packed_params(const tl_packed *pk);
const tl_qmat *tl_packed_qmat(const tl_packed *pk, int l, int i);

/* Sizes: linear weights, their bytes (codes and scales), the file. */
typedef struct {
	uint64_t weights;	/* weights of the linear layers */
	uint64_t lbytes;	/* their bytes in the file */
	uint64_t fbytes;	/* the whole file */
} tl_packstats;

void tl_packed_stats(const tl_packed *pk, tl_packstats *st);

/* Write the model (c, tok, params as in a checkpoint) as a packed
 * model of format type and scheme, atomically (a temporary file
 * renamed over path).  st may be NULL. */
int tl_packed_write(const char *path, const tl_config *c, const tl_tok *tok,
    const float *params, int type, int scheme, tl_packstats *st, char *err);

/* ---- a model file: a checkpoint or a packed model ---- */

typedef struct {
	tl_packed *pk;			/* a packed model, or NULL */
	float *params;			/* a checkpoint's weights, or NULL */
	const tl_config *cfg;
	const tl_tok *tok;
	void *ck;			/* the checkpoint (ckpt.h) */
} tl_mfile;

/* Open either kind (by its magic); errors as their readers give them,
 * "bad magic (not a tl checkpoint or packed model)" for other files. */
int tl_mfile_open(tl_mfile *f, const char *path, char *err);
void tl_mfile_close(tl_mfile *f);

#endif
