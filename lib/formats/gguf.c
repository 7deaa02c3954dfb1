/*
 * gguf.c: export to GGUF (version 3), the model file of llama.cpp, so
 * that a tl model runs there with the results it has here
 * (tl-quantize(1) gives the mapping and the tolerances).
 *
 * The file: the magic "GGUF", the version, the counts of tensors and
 * of metadata pairs, the pairs (a string key, a u32 type, the value),
 * one record per tensor (name, dimensions, ggml type, offset into the
 * data), then the tensors' data, each at a multiple of 32 bytes from
 * the data's start, which is itself aligned to 32.  All little-endian.
 *
 * The model becomes one of llama.cpp's architectures:
 *
 *   llama  SwiGLU models: RMSNorm, RoPE on adjacent pairs (llama.cpp's
 *          "norm" RoPE, base 10000), untied output head, every
 *          per-matrix scale a tensor of its own ("blk.N.ffn_up.scale"),
 *          which llama.cpp multiplies into the product.
 *   arcee  squared-ReLU models (tl's default): the same, but llama.cpp's
 *          arcee graph ignores the FFN's scales, so they are folded
 *          into the FFN's norm gain, times c = s_up sqrt(s_down).  This
 *          is exact in real arithmetic: the int8 quantization of a
 *          layer's input (absmax per token here, per block of 256 in
 *          llama.cpp) scales with the input, so W_up q(c x) =
 *          c W_up q(x), and relu2(c u) = c^2 relu2(u) for c > 0, so
 *          s_down W_down q(relu2(s_up W_up q(x))) =
 *          W_down q(relu2(c W_up q(x))).  In floats it differs by the
 *          rounding of one product per gain (about 1e-7 relative).
 *
 * Linear layers: ternary weights (tq2, tq1) whose input width is a
 * multiple of 256 become TQ2_0 blocks with d = 1 and the tensor's
 * scale beside (or folded); other ternary layers, and fp32 ones, are
 * F32 (the scale multiplied in, which is exact: +-s or 0).  The
 * embedding, the norms and the head are F32, as tl keeps them.
 *
 * The tokenizer is llama.cpp's "llama" (SentencePiece-style) one: ids
 * 0-255 are byte tokens "<0xXX>", but the space, which llama.cpp
 * writes as U+2581 before it looks anything up, is the token "\u2581";
 * id 256 + i is merge i, its bytes as text (spaces as U+2581) with
 * score -(i + 1), so that llama.cpp, which joins the adjacent pair of
 * highest score whose text is a token, joins what tl's merges join;
 * the end-of-text token, where there is one, is a control token named
 * "<|endoftext|>" and the EOS (and BOS) id.  No BOS is added and no
 * space is put before the text.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "formats/formats.h"
#include "util/util.h"

#define ALIGN 32	/* general.alignment */
#define QK 256		/* weights in a TQ2_0 block */
#define TQ2_BYTES 66	/* a TQ2_0 block: 64 bytes of codes, fp16 d */
#define F16_ONE 0x3c00	/* 1.0 as an IEEE half */

/* ggml tensor types and GGUF metadata value types used here */
enum { G_F32 = 0, G_TQ2_0 = 35 };
enum { V_U32 = 4, V_I32 = 5, V_F32 = 6, V_BOOL = 7, V_STR = 8, V_ARR = 9 };
/* llama.cpp's token types */
enum { TT_NORMAL = 1, TT_CONTROL = 3, TT_BYTE = 6 };

typedef char check_tq2[(QK / 4 + 2 == TQ2_BYTES) ? 1 : -1];

const char *const tl_gguf_arch_names[] = { "llama", "arcee" };

/* One tensor of the file and where its data comes from. */
enum { SRC_FLOATS, SRC_ROWS, SRC_SCALAR };
typedef struct {
	char name[40];
	int type;		/* G_* */
	int ndim;
	uint64_t ne[2];		/* ne[0] is the row length */
	int src;
	const float *f;		/* SRC_FLOATS: ne0 * ne1 floats ... */
	float mul;		/* ... times mul */
	const tl_qmat *m;	/* SRC_ROWS: rows r0 .. r0 + ne1 of m */
	int r0;
	uint64_t off;		/* from the data's start */
} gtensor;

/* A writer that only counts when f is NULL, so that the sizes of the
 * header come from the code that writes it. */
typedef struct {
	FILE *f;
	uint64_t off;
	int ok;
} wr;

static void
wbytes(wr *w, const void *p, size_t n)
{
	if (w->f && w->ok && fwrite(p, 1, n, w->f) != n)
		w->ok = 0;
	w->off += n;
}

static void
wu32(wr *w, uint32_t v)
{
	unsigned char b[4];

	tl_put_u32(b, v);
	wbytes(w, b, 4);
}

static void
wu64(wr *w, uint64_t v)
{
	unsigned char b[8];

	tl_put_u64(b, v);
	wbytes(w, b, 8);
}

static void
wf32(wr *w, float v)
{
	unsigned char b[4];

	tl_put_f32(b, v);
	wbytes(w, b, 4);
}

static void
wstrn(wr *w, const void *s, size_t n)
{
	wu64(w, n);
	wbytes(w, s, n);
}

static void
wstr(wr *w, const char *s)
{
	wstrn(w, s, strlen(s));
}

static void
wpad(wr *w, uint64_t to)
{
	static const unsigned char zero[ALIGN];

	while (w->off < to)
		wbytes(w, zero, (size_t)(to - w->off < ALIGN ? to - w->off :
		    ALIGN));
}

static uint64_t
up(uint64_t n)
{
	return (n + ALIGN - 1) / ALIGN * ALIGN;
}

/* ---- metadata ---- */

/* Key "arch.name" (or "name" when arch is NULL) and its type. */
static void
wkey(wr *w, const char *arch, const char *name, uint32_t type)
{
	char k[96];

	snprintf(k, sizeof k, "%s%s%s", arch ? arch : "", arch ? "." : "",
	    name);
	wstr(w, k);
	wu32(w, type);
}

static void
kv_u32(wr *w, int *n, const char *arch, const char *name, uint32_t v)
{
	wkey(w, arch, name, V_U32);
	wu32(w, v);
	(*n)++;
}

static void
kv_f32(wr *w, int *n, const char *arch, const char *name, float v)
{
	wkey(w, arch, name, V_F32);
	wf32(w, v);
	(*n)++;
}

static void
kv_bool(wr *w, int *n, const char *name, int v)
{
	unsigned char b = (unsigned char)(v != 0);

	wkey(w, NULL, name, V_BOOL);
	wbytes(w, &b, 1);
	(*n)++;
}

static void
kv_str(wr *w, int *n, const char *arch, const char *name, const char *v)
{
	wkey(w, arch, name, V_STR);
	wstr(w, v);
	(*n)++;
}

/* Token id's text: "<0xXX>" for a byte, U+2581 for the space, a merge's
 * bytes with each space as U+2581; the EOT's name.  buf holds at least
 * 3 * TL_TOK_MAXPIECE bytes. */
static size_t
token_text(const tl_tok *t, uint32_t id, char *buf, int *type)
{
	const unsigned char *p;
	size_t n, i, k = 0;

	if ((int)id == tl_tok_eot(t)) {
		*type = TT_CONTROL;
		return (size_t)sprintf(buf, "<|endoftext|>");
	}
	p = tl_tok_piece(t, id, &n);
	*type = id < 256 && p[0] != ' ' ? TT_BYTE : TT_NORMAL;
	if (*type == TT_BYTE)
		return (size_t)sprintf(buf, "<0x%02X>", p[0]);
	for (i = 0; i < n; i++)
		if (p[i] == ' ') {
			memcpy(buf + k, "\xe2\x96\x81", 3);
			k += 3;
		} else
			buf[k++] = (char)p[i];
	return k;
}

static void
kv_tokenizer(wr *w, int *n, const tl_tok *t)
{
	char buf[3 * TL_TOK_MAXPIECE + 16];
	uint32_t id;
	int type, eot = tl_tok_eot(t);
	size_t len;

	kv_str(w, n, NULL, "tokenizer.ggml.model", "llama");
	wkey(w, NULL, "tokenizer.ggml.tokens", V_ARR);
	wu32(w, V_STR);
	wu64(w, t->vocab);
	for (id = 0; id < t->vocab; id++) {
		len = token_text(t, id, buf, &type);
		wstrn(w, buf, len);
	}
	(*n)++;
	wkey(w, NULL, "tokenizer.ggml.scores", V_ARR);
	wu32(w, V_F32);
	wu64(w, t->vocab);
	for (id = 0; id < t->vocab; id++)
		wf32(w, id < 256 || (int)id == eot ? 0.0f :
		    -(float)(id - 256 + 1));
	(*n)++;
	wkey(w, NULL, "tokenizer.ggml.token_type", V_ARR);
	wu32(w, V_I32);
	wu64(w, t->vocab);
	for (id = 0; id < t->vocab; id++) {
		token_text(t, id, buf, &type);
		wu32(w, (uint32_t)type);
	}
	(*n)++;
	if (eot >= 0) {
		kv_u32(w, n, NULL, "tokenizer.ggml.bos_token_id", (uint32_t)eot);
		kv_u32(w, n, NULL, "tokenizer.ggml.eos_token_id", (uint32_t)eot);
	}
	kv_bool(w, n, "tokenizer.ggml.add_bos_token", 0);
	kv_bool(w, n, "tokenizer.ggml.add_eos_token", 0);
	kv_bool(w, n, "tokenizer.ggml.add_space_prefix", 0);
}

/* Every pair; returns their number. */
static int
put_meta(wr *w, const tl_qmodel *q, const tl_tok *tok, int arch)
{
	const tl_config *c = &q->cfg;
	const char *a = tl_gguf_arch_names[arch];
	int n = 0;

	kv_str(w, &n, NULL, "general.architecture", a);
	kv_str(w, &n, NULL, "general.name", "tl");
	kv_u32(w, &n, NULL, "general.alignment", ALIGN);
	kv_u32(w, &n, a, "context_length", c->ctx);
	kv_u32(w, &n, a, "embedding_length", c->dim);
	kv_u32(w, &n, a, "block_count", c->layers);
	kv_u32(w, &n, a, "feed_forward_length", c->ffn);
	kv_u32(w, &n, a, "attention.head_count", c->heads);
	kv_u32(w, &n, a, "attention.head_count_kv", c->heads);
	kv_f32(w, &n, a, "attention.layer_norm_rms_epsilon", TL_NORM_EPS);
	kv_u32(w, &n, a, "rope.dimension_count", c->dim / c->heads);
	kv_f32(w, &n, a, "rope.freq_base", (float)TL_ROPE_BASE);
	kv_u32(w, &n, a, "vocab_size", c->vocab);
	kv_tokenizer(w, &n, tok);
	return n;
}

/* ---- tensors ---- */

/* Is linear layer m stored as TQ2_0 (ternary, rows of whole blocks)? */
static int
is_tq2(const tl_qmat *m)
{
	return (m->type == TL_W_TQ2 || m->type == TL_W_TQ1) &&
	    m->cols % QK == 0;
}

/* The scale that stays outside a linear layer's stored weights. */
static float
outer_scale(const tl_qmat *m)
{
	return is_tq2(m) ? m->scale : 1.0f;
}

static gtensor *
add(gtensor *t, int *n, int type, uint64_t ne0, uint64_t ne1,
    const char *fmt, int l)
{
	gtensor *g = &t[(*n)++];

	memset(g, 0, sizeof *g);
	snprintf(g->name, sizeof g->name, fmt, l);
	g->type = type;
	g->ndim = ne1 ? 2 : 1;
	g->ne[0] = ne0;
	g->ne[1] = ne1 ? ne1 : 1;
	g->mul = 1.0f;
	return g;
}

static void
add_floats(gtensor *t, int *n, const float *f, float mul, uint64_t ne0,
    uint64_t ne1, const char *fmt, int l)
{
	gtensor *g = add(t, n, G_F32, ne0, ne1, fmt, l);

	g->src = SRC_FLOATS;
	g->f = f;
	g->mul = mul;
}

/* Rows r0 .. r0 + rows of m as "blk.l.NAME.weight", and its scale as
 * "blk.l.NAME.scale" when it is stored apart and carried. */
static void
add_linear(gtensor *t, int *n, const tl_qmat *m, int r0, int rows,
    const char *name, int l, int carry)
{
	char fmt[40];
	gtensor *g;

	snprintf(fmt, sizeof fmt, "blk.%%d.%s.weight", name);
	g = add(t, n, is_tq2(m) ? G_TQ2_0 : G_F32, (uint64_t)m->cols,
	    (uint64_t)rows, fmt, l);
	g->src = SRC_ROWS;
	g->m = m;
	g->r0 = r0;
	if (carry && is_tq2(m)) {
		snprintf(fmt, sizeof fmt, "blk.%%d.%s.scale", name);
		g = add(t, n, G_F32, 1, 0, fmt, l);
		g->src = SRC_SCALAR;
		g->mul = m->scale;
	}
}

/* The tensors in file order; returns their number (at most
 * 3 + 12 L). */
static int
list_tensors(gtensor *t, const tl_qmodel *q, int arch)
{
	const tl_config *c = &q->cfg;
	const tl_params *P = &q->P;
	int L = (int)c->layers, C = (int)c->dim, F = (int)c->ffn, l, n = 0;

	add_floats(t, &n, P->wte, 1, C, c->vocab, "token_embd.weight", 0);
	for (l = 0; l < L; l++) {
		const tl_qmat *qkv = tl_qmodel_lin(q, l, TL_LIN_QKV);
		const tl_qmat *o = tl_qmodel_lin(q, l, TL_LIN_O);
		const tl_qmat *w1 = tl_qmodel_lin(q, l, TL_LIN_IN);
		const tl_qmat *w2 = tl_qmodel_lin(q, l, TL_LIN_OUT);
		float fold = 1.0f;

		add_floats(t, &n, P->ln1w + (size_t)l * C, 1, C, 0,
		    "blk.%d.attn_norm.weight", l);
		add_linear(t, &n, qkv, 0, 3 * C, "attn_qkv", l, 1);
		add_linear(t, &n, o, 0, C, "attn_output", l, 1);
		if (arch == TL_GGUF_ARCEE)
			fold = (float)((double)outer_scale(w1) *
			    sqrt((double)outer_scale(w2)));
		add_floats(t, &n, P->ln2w + (size_t)l * C, fold, C, 0,
		    "blk.%d.ffn_norm.weight", l);
		if (arch == TL_GGUF_LLAMA) {
			/* w1 is [gate | up] (layers.c: tl_act_row) */
			add_linear(t, &n, w1, 0, F, "ffn_gate", l, 1);
			add_linear(t, &n, w1, F, F, "ffn_up", l, 1);
		} else
			add_linear(t, &n, w1, 0, F, "ffn_up", l, 0);
		add_linear(t, &n, w2, 0, C, "ffn_down", l,
		    arch == TL_GGUF_LLAMA);
	}
	add_floats(t, &n, P->lnfw, 1, C, 0, "output_norm.weight", 0);
	add_floats(t, &n, P->head, 1, C, c->vocab, "output.weight", 0);
	return n;
}

static uint64_t
data_bytes(const gtensor *g)
{
	uint64_t n = g->ne[0] * g->ne[1];

	return g->type == G_TQ2_0 ? n / QK * TQ2_BYTES : 4 * n;
}

/* A TQ2_0 block of the ternary values v (256): byte j + m of the codes,
 * j = 0 or 32, holds in bits 2k..2k+1 the code (value + 1) of weight
 * 4j + 32k + m (ggml-quants.c: dequantize_row_tq2_0); then d. */
static void
tq2_block(unsigned char *b, const int8_t *v)
{
	int j, k, m;

	memset(b, 0, QK / 4);
	for (j = 0; j < QK / 4; j += 32)
		for (k = 0; k < 4; k++)
			for (m = 0; m < 32; m++)
				b[j + m] |= (unsigned char)((v[4 * j + 32 * k +
				    m] + 1) << (2 * k));
	tl_put_u16(b + QK / 4, F16_ONE);
}

static void
put_rows(wr *w, const gtensor *g, int8_t *v, float *x)
{
	const tl_qmat *m = g->m;
	unsigned char b[TQ2_BYTES];
	int r, j, cols = m->cols;

	for (r = g->r0; r < g->r0 + (int)g->ne[1]; r++) {
		if (m->type == TL_W_F32) {
			for (j = 0; j < cols; j++)
				wf32(w, ((const float *)m->w)[(long)r * m->n + j]);
			continue;
		}
		tl_qmat_row(m, r, v);
		if (g->type == G_TQ2_0) {
			for (j = 0; j < cols; j += QK) {
				tq2_block(b, v + j);
				wbytes(w, b, TQ2_BYTES);
			}
			continue;
		}
		for (j = 0; j < cols; j++)
			x[j] = (float)v[j] * m->scale;
		for (j = 0; j < cols; j++)
			wf32(w, x[j]);
	}
}

static void
put_data(wr *w, const gtensor *g, int8_t *v, float *x)
{
	uint64_t i, n = g->ne[0] * g->ne[1];

	switch (g->src) {
	case SRC_FLOATS:
		for (i = 0; i < n; i++)
			wf32(w, g->mul == 1.0f ? g->f[i] : g->f[i] * g->mul);
		break;
	case SRC_SCALAR:
		wf32(w, g->mul);
		break;
	default:
		put_rows(w, g, v, x);
		break;
	}
}

/* ---- the file ---- */

int
tl_gguf_arch(const tl_qmodel *q, char *err)
{
	const tl_config *c = &q->cfg;

	if (c->norm == TL_NORM_LAYER)
		return tl_err(err, "LayerNorm: llama.cpp's llama and arcee "
		    "models take RMSNorm only");
	if (c->norm == TL_NORM_SUBLN)
		return tl_err(err, "SubLN: llama.cpp's llama and arcee "
		    "models have no sub-norms");
	if (c->pos != TL_POS_ROPE)
		return tl_err(err, "sinusoidal positions: llama.cpp's llama "
		    "and arcee models take RoPE only");
	if (c->act == TL_ACT_GELU || c->act == TL_ACT_RELU)
		return tl_err(err, "%s FFN: llama.cpp runs SwiGLU (llama) or "
		    "squared ReLU (arcee) only", c->act == TL_ACT_GELU ?
		    "GELU" : "plain ReLU");
	if (q->type == TL_W_Q8 || q->type == TL_W_Q4)
		return tl_err(err, "%s weights: no exact GGUF type (export "
		    "the checkpoint, or a tq2, tq1 or f32 packed model)",
		    tl_wtype_names[q->type]);
	return c->act == TL_ACT_SWIGLU ? TL_GGUF_LLAMA : TL_GGUF_ARCEE;
}

/* Header, metadata and tensor records, then the data, through w. */
static void
put_file(wr *w, const tl_qmodel *q, const tl_tok *tok, int arch,
    gtensor *t, int nt, int8_t *v, float *x)
{
	wr count = { NULL, 0, 1 };
	uint64_t off = 0, start;
	int nkv, i, k;

	nkv = put_meta(&count, q, tok, arch);
	wbytes(w, "GGUF", 4);
	wu32(w, TL_GGUF_VERSION);
	wu64(w, (uint64_t)nt);
	wu64(w, (uint64_t)nkv);
	put_meta(w, q, tok, arch);
	for (i = 0; i < nt; i++) {
		t[i].off = off;
		off = up(off + data_bytes(&t[i]));
		wstr(w, t[i].name);
		wu32(w, (uint32_t)t[i].ndim);
		for (k = 0; k < t[i].ndim; k++)
			wu64(w, t[i].ne[k]);
		wu32(w, (uint32_t)t[i].type);
		wu64(w, t[i].off);
	}
	start = up(w->off);
	for (i = 0; i < nt; i++) {
		wpad(w, start + t[i].off);
		put_data(w, &t[i], v, x);
	}
}

int
tl_gguf_write(const char *path, const tl_qmodel *q, const tl_tok *tok,
    tl_ggufstats *st, char *err)
{
	const tl_config *c = &q->cfg;
	gtensor *t;
	int8_t *v;
	float *x;
	tl_afile af;
	wr w = { NULL, 0, 1 };
	int arch, nt, i;

	if ((arch = tl_gguf_arch(q, err)) < 0)
		return -1;
	if (tok->vocab != c->vocab)
		return tl_err(err, "tokenizer has %u ids, model %u",
		    tok->vocab, c->vocab);
	t = malloc((3 + 12 * (size_t)c->layers) * sizeof *t);
	v = malloc((size_t)TL_MAX_FFN + QK);
	x = malloc(((size_t)TL_MAX_FFN + QK) * sizeof *x);
	if (t == NULL || v == NULL || x == NULL) {
		free(t);
		free(v);
		free(x);
		return tl_err(err, "out of memory");
	}
	nt = list_tensors(t, q, arch);
	if (tl_afile_open(&af, path, err) < 0) {
		w.ok = 0;
	} else {
		w.f = af.f;
		put_file(&w, q, tok, arch, t, nt, v, x);
		if (!w.ok) {
			tl_err(err, "%s: write failed: %s", path,
			    strerror(errno ? errno : EIO));
			tl_afile_abort(&af);
		} else if (tl_afile_commit(&af, err) < 0)
			w.ok = 0;
	}
	if (w.ok && st) {
		st->arch = arch;
		st->tensors = nt;
		for (st->tq2 = i = 0; i < nt; i++)
			st->tq2 += t[i].type == G_TQ2_0;
		st->bytes = w.off;
	}
	free(t);
	free(v);
	free(x);
	return w.ok ? 0 : -1;
}
