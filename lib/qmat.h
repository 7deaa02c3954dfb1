/*
 * qmat.h: the weight formats of the linear layers, their int8
 * activations and products, and a model quantized for inference (in
 * memory: packed.h writes and reads it as a file).
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
#ifndef TL_QMAT_H
#define TL_QMAT_H

#include <stddef.h>
#include <stdint.h>

#include "kernels.h"
#include "config.h"

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
	uint64_t fbytes;	/* the whole file (packed.h) */
} tl_packstats;
void tl_qmodel_stats(const tl_qmodel *q, tl_packstats *st);
/* Bytes of weights one token reads: the linear layers with their
 * scales, every fp32 tensor but the embedding, and one embedding row. */
double tl_qmodel_token_bytes(const tl_qmodel *q);

#endif
