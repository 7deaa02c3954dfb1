/*
 * model.c: configuration, parameter layout and initialisation, and
 * the batched forward and backward pass used for training and for
 * evaluation (llm.c style: every activation the backward pass needs is
 * kept in one buffer per kind; recomputing, only the block inputs are
 * kept for all blocks, and the rest is computed again block by block in
 * the backward pass).
 *
 * Shapes: N = B*T rows (one per position of the batch), C width, F FFN
 * width (F1 = 2F when gated), V vocabulary, L layers, H heads.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "layers.h"
#include "model/model.h"
#include "util/util.h"

/* Pieces of at most 2^30: the kernels take an int count. */
#define PIECE(n, i) ((n) - (i) < (1u << 30) ? (n) - (i) : (1u << 30))

float
tl_ternary_scale(const float *w, size_t n)
{
	double sum = 0;
	size_t i;
	float s;

	/* summed in pieces, in order */
	for (i = 0; i < n; i += PIECE(n, i))
		sum += tl_k()->abssum(w + i, (int)PIECE(n, i));
	s = (float)(sum / (double)n);
	return s < 1e-5f ? 1e-5f : s;
}

void
tl_ternary_apply(float *q, const float *w, size_t n, float s)
{
	size_t i;

	for (i = 0; i < n; i += PIECE(n, i))
		tl_k()->quant(q + i, w + i, (int)PIECE(n, i), 1.0f / s, -1.0f,
		    1.0f);
}

float
tl_ternary_quant(float *q, const float *w, size_t n)
{
	float s = tl_ternary_scale(w, n);

	tl_ternary_apply(q, w, n, s);
	return s;
}


struct tl_model {
	tl_config c;
	int B, T, N, C, F, F1, V, L, H, hs;
	int tern;		/* ternary mode */
	int lin_rows[TL_NLIN], lin_cols[TL_NLIN];	/* tl_lin_shape */
	int S;			/* sets of block activations: L, or 1 when
				 * recomputing */
	float *qw;		/* ternary: (out, in) the quantized weights of
				 * the linear layer in use (lin_weff) */
	float *qs;		/* (L, TL_NLIN) their scales */
	float *rope;		/* (T, hs/2, 2) */
	uint16_t *in, *tgt;	/* (N) */
	/* activations: the block inputs, then S sets of what a block's
	 * backward pass needs (block_acts); ln1, ay, ln2 and h2 are the
	 * inputs of linear layers, which in ternary mode hold their int8
	 * values once lin_forward has run */
	float *res;		/* (L+1, N, C) block inputs and final */
	float *mid;		/* (S, N, C) after attention residual */
	float *ln1, *ln1m, *ln1r;	/* (S,N,C), (S,N), (S,N) */
	float *qkv;		/* (S, N, 3C) after rotary */
	float *att;		/* (S, B, H, T, T) */
	float *ay;		/* (S, N, C) attention values */
	float *ln2, *ln2m, *ln2r;
	float *h1;		/* (S, N, F1) */
	float *h2;		/* (S, N, F) */
	/* subln: the normed attention values and FFN activations, the
	 * inputs of the output projections */
	float *ays, *ln3m, *ln3r;	/* (S, N, C), (S, N), (S, N) */
	float *h2s, *ln4m, *ln4r;	/* (S, N, F), (S, N), (S, N) */
	float *xg;		/* ternary: (S, TL_NLIN, N) input scales */
	float *lnf, *lnfm, *lnfr;	/* (N, C), (N), (N) */
	float *logits;		/* (N, V) */
	float *lse;		/* (N) log-sum-exp of each row */
	float *rowloss;		/* (N) cross-entropy of each row */
	/* backward scratch; the FFN's (dh1, dh2) and the attention's
	 * (day, dqkv, datt) share memory: one block part at a time */
	float *dres, *dln, *dsc, *dh1, *dh2, *day, *dqkv, *datt;
	float *dsub;		/* subln: (N, max(C, F)) d/d a sub-norm's output */
	/* all of the above come from one allocation */
	float *mem;
	tl_drop drop;		/* the next passes' (tl_model_dropout) */
	const float *soft;	/* (N, V) tl_model_soft's q, or NULL */
	float softw;		/* and its weight */
};

/* Where dropout acts, each site's masks of its own (tl_drop_site). */
enum { DROP_ATT, DROP_ATTRES, DROP_FFNRES };

/* Columns and rows of linear layer i (TL_LIN_*). */
static int
lin_in(const tl_model *m, int i)
{
	return m->lin_cols[i];
}

static int
lin_out(const tl_model *m, int i)
{
	return m->lin_rows[i];
}

/* Latent weights (out, in) of linear layer i of block l. */
static float *
lin_w(const tl_model *m, const float *params, int l, int i)
{
	tl_params p;

	tl_params_map(&p, (float *)params, &m->c);
	return tl_params_get(&p, tl_lin(i)) + (size_t)l * lin_out(m, i) *
	    lin_in(m, i);
}

/*
 * The shape of m for config c and B rows of T positions, and the
 * buffers of its one allocation: slot[i] gets size[i] floats.  Returns
 * the number of buffers.  tl_model_new and tl_model_bytes both read it,
 * so that the estimate is the allocation.
 */
static int
layout(tl_model *m, const tl_config *c, int B, int T, int recompute,
    double size[40], float **slot[40])
{
	/* sizes in double so that they cannot wrap on 32-bit hosts */
	double N, C, F, F1, V, L, H, S, att, ffn;
	int ns = 0, i, sub = c->norm == TL_NORM_SUBLN;

	m->c = *c;
	m->B = B;
	m->T = T;
	m->N = B * T;
	m->C = c->dim;
	m->F = c->ffn;
	m->F1 = tl_ffn_rows(c);
	m->V = c->vocab;
	m->L = c->layers;
	m->H = c->heads;
	m->hs = c->dim / c->heads;
	m->tern = c->quant == TL_QUANT_TERNARY;
	for (i = 0; i < TL_NLIN; i++)
		tl_lin_shape(c, i, &m->lin_rows[i], &m->lin_cols[i]);
	m->S = recompute ? 1 : m->L;
	N = m->N, C = m->C, F = m->F, F1 = m->F1, V = m->V, L = m->L;
	H = m->H, S = m->S;
	att = (double)B * H * T * T;

#define BUF(p, n) do { slot[ns] = &(p); size[ns++] = (n); } while (0)
	BUF(m->rope, (double)T * (m->hs / 2) * 2);
	BUF(m->res, (L + 1) * N * C);
	BUF(m->mid, S * N * C);
	BUF(m->ln1, S * N * C);
	BUF(m->ln1m, S * N);
	BUF(m->ln1r, S * N);
	BUF(m->qkv, S * N * 3 * C);
	BUF(m->att, S * att);
	BUF(m->ay, S * N * C);
	BUF(m->ln2, S * N * C);
	BUF(m->ln2m, S * N);
	BUF(m->ln2r, S * N);
	BUF(m->h1, S * N * F1);
	BUF(m->h2, S * N * F);
	BUF(m->ays, sub ? S * N * C : 0);
	BUF(m->ln3m, sub ? S * N : 0);
	BUF(m->ln3r, sub ? S * N : 0);
	BUF(m->h2s, sub ? S * N * F : 0);
	BUF(m->ln4m, sub ? S * N : 0);
	BUF(m->ln4r, sub ? S * N : 0);
	BUF(m->xg, m->tern ? S * TL_NLIN * N : 0);
	BUF(m->lnf, N * C);
	BUF(m->lnfm, N);
	BUF(m->lnfr, N);
	BUF(m->logits, N * V);
	BUF(m->lse, N);
	BUF(m->rowloss, N);
	BUF(m->dres, N * C);
	BUF(m->dln, N * C);
	BUF(m->dsub, sub ? N * (F > C ? F : C) : 0);
	BUF(m->dsc, m->tern ? N * (3 * C > F1 ? 3 * C : F1) : 0);
	ffn = N * (F + F1);
	BUF(m->dh1, ffn > N * 4 * C + att ? ffn : N * 4 * C + att);
	BUF(m->qw, m->tern ? C * (F1 > 3 * C ? (F1 > F ? F1 : F) :
	    3 * C > F ? 3 * C : F) : 0);
	BUF(m->qs, L * TL_NLIN);
#undef BUF
	return ns;
}

/* Whether B rows of T positions fit config c's model. */
static int
shape_check(const tl_config *c, int B, int T, char *err)
{
	if (tl_config_check(c, err) < 0)
		return -1;
	if (B < 1 || T < 1 || (unsigned)T > c->ctx || (size_t)B * T > 1u << 24)
		return tl_err(err, "batch %d x %d does not fit context %u", B,
		    T, c->ctx);
	return 0;
}

/* The floats of the one allocation, and the bytes of all of them. */
static double
floats_of(tl_model *m, const tl_config *c, int B, int T, int recompute,
    double size[40], float **slot[40], int *ns)
{
	double tot = 0;
	int i;

	*ns = layout(m, c, B, T, recompute, size, slot);
	for (i = 0; i < *ns; i++)
		tot += size[i];
	return tot;
}

#define MAXZ(z, e) do { size_t e_ = (e); if (e_ > (z)) (z) = e_; } while (0)

/* The largest packing scratch of m's products (lin_forward,
 * lin_backward, the head's and the attention's on this thread), which
 * the kernels allocate and free one product at a time. */
static size_t
gemm_scratch(const tl_model *m)
{
	size_t z = tl_attention_scratch(m->T, m->C, m->H);
	int i, in, o, N = m->N;

	for (i = 0; i < TL_NLIN; i++) {
		in = lin_in(m, i);
		o = lin_out(m, i);
		MAXZ(z, m->tern ? tl_tgemm_scratch(N, o, in) :
		    tl_sgemm_scratch(N, o, in));
		MAXZ(z, tl_sgemm_scratch(N, in, o));
		MAXZ(z, tl_sgemm_scratch(o, in, N));
	}
	MAXZ(z, tl_sgemm_scratch(N, m->V, m->C));
	MAXZ(z, tl_sgemm_scratch(m->V, m->C, N));
	MAXZ(z, tl_sgemm_scratch(N, m->C, m->V));
	return z;
}
#undef MAXZ

size_t
tl_model_bytes(const tl_config *c, int B, int T, int recompute)
{
	tl_model m;
	double size[40], tot;
	float **slot[40];
	int ns;

	if (shape_check(c, B, T, NULL) < 0)
		return 0;
	tot = floats_of(&m, c, B, T, recompute, size, slot, &ns);
	tot = tot * sizeof(float) + 2.0 * m.N * sizeof *m.in + sizeof m +
	    gemm_scratch(&m);
	return tot > (double)((size_t)-1 / 2) ? 0 : (size_t)tot;
}

tl_model *
tl_model_new(const tl_config *c, int B, int T, int recompute, char *err)
{
	tl_model *m;
	double size[40], tot;
	float **slot[40];
	size_t off;
	int ns, i;

	if (shape_check(c, B, T, err) < 0)
		return NULL;
	if ((m = calloc(1, sizeof *m)) == NULL)
		return tl_err(err, "out of memory"), NULL;
	tot = floats_of(m, c, B, T, recompute, size, slot, &ns);
	if (tot * sizeof(float) > (double)((size_t)-1 / 2) ||
	    (m->mem = calloc((size_t)tot, sizeof(float))) == NULL) {
		free(m);
		return tl_err(err, "out of memory for activations (%.0f MiB)",
		    tot / (1 << 18)), NULL;
	}
	for (off = 0, i = 0; i < ns; i++) {
		*slot[i] = m->mem + off;
		off += (size_t)size[i];
	}
	m->dh2 = m->dh1 + (size_t)m->N * m->F1;
	m->day = m->dh1;
	m->dqkv = m->day + (size_t)m->N * m->C;
	m->datt = m->dqkv + (size_t)m->N * 3 * m->C;
	m->in = calloc(2 * (size_t)m->N, sizeof *m->in);
	if (m->in == NULL) {
		tl_model_free(m);
		return tl_err(err, "out of memory"), NULL;
	}
	m->tgt = m->in + (size_t)m->N;
	tl_rope_table(m->rope, T, m->hs);
	return m;
}

void
tl_model_free(tl_model *m)
{
	if (m == NULL)
		return;
	free(m->mem);
	free(m->in);
	free(m);
}

float *
tl_model_logits(tl_model *m)
{
	return m->logits;
}

const tl_config *
tl_model_config(const tl_model *m, int *B, int *T)
{
	if (B)
		*B = m->B;
	if (T)
		*T = m->T;
	return &m->c;
}

const float *
tl_model_rowloss(const tl_model *m)
{
	return m->rowloss;
}

void
tl_model_soft(tl_model *m, const float *q, float a)
{
	m->soft = a > 0 ? q : NULL;
	m->softw = m->soft ? a : 0;
}

void
tl_model_dropout(tl_model *m, float p, uint64_t key, uint64_t row0)
{
	m->drop = tl_drop_make(p, key, row0);
}

/* Dropout of site s of block l, or NULL when none. */
static const tl_drop *
drop_of(const tl_model *m, int s, int l, tl_drop *d)
{
	if (m->drop.thr == 0)
		return NULL;
	*d = tl_drop_site(&m->drop, s, l);
	return d;
}

void
tl_model_prepare(tl_model *m, float *params)
{
	int l, i;

	if (!m->tern)
		return;
	for (l = 0; l < m->L; l++)
		for (i = 0; i < TL_NLIN; i++)
			m->qs[l * TL_NLIN + i] = tl_ternary_scale(lin_w(m, params,
			    l, i), (size_t)lin_out(m, i) * lin_in(m, i));
}

/* ---- row jobs: one function per kind of per-row work ---- */

typedef struct {
	tl_model *m;
	int l, lin, n;
	const float *x, *w, *b;
	float *y, *y2, *mean, *rstd;
	float s;
	const tl_drop *d;
} rowjob;

/* Quantize row r of a linear layer's input to int8 values by absmax
 * (BitNet: Qb = 127), keeping the scale g = absmax. */
static void
job_actquant(void *ctx, int r)
{
	rowjob *j = ctx;
	const tl_kern *k = tl_k();
	int n = lin_in(j->m, j->lin);
	const float *x = j->x + (long)r * n;
	float *q = j->y + (long)r * n, g = k->absmax(x, n);

	j->y2[r] = g;
	if (g > 0)
		k->quant(q, x, n, 127.0f / g, -128.0f, 127.0f);
	else
		memset(q, 0, n * sizeof *q);
}

/* Row r of a linear layer's quantized weights, from the latent ones
 * and the layer's scale s: rows are independent, so any split gives
 * tl_ternary_quant's values. */
static void
job_wquant(void *ctx, int r)
{
	rowjob *j = ctx;
	int n = lin_in(j->m, j->lin);

	tl_ternary_apply(j->y + (long)r * n, j->x + (long)r * n, n, j->s);
}

/* Row r of a ternary layer's output: the integer sums times the
 * weight scale s and the input scale g/127. */
static void
job_rescale(void *ctx, int r)
{
	rowjob *j = ctx;
	int n = lin_out(j->m, j->lin), i;
	float *y = j->y + (long)r * n, f = j->s * (j->y2[r] / 127.0f);

	for (i = 0; i < n; i++)
		y[i] *= f;
}

/* dout row r times g/127, for the weight gradient of a ternary layer. */
static void
job_dscale(void *ctx, int r)
{
	rowjob *j = ctx;
	int n = lin_out(j->m, j->lin), i;
	const float *d = j->x + (long)r * n;
	float *y = j->y + (long)r * n, f = j->y2[r] / 127.0f;

	for (i = 0; i < n; i++)
		y[i] = d[i] * f;
}

static void
job_norm(void *ctx, int r)
{
	rowjob *j = ctx;
	int n = j->n;

	tl_norm_row(j->m->c.norm, j->y + (long)r * n, j->x + (long)r * n,
	    j->w, j->b, n, j->mean + r, j->rstd + r);
}

static void
job_norm_back(void *ctx, int r)
{
	rowjob *j = ctx;
	int n = j->n;

	/* dx (y) += from dy (b) at input x */
	tl_norm_back_row(j->m->c.norm, j->y + (long)r * n, j->b + (long)r * n,
	    j->x + (long)r * n, j->w, n, j->mean[r], j->rstd[r]);
}

static void
job_rope(void *ctx, int r)
{
	rowjob *j = ctx;
	tl_model *m = j->m;
	float *v = j->y + (long)r * 3 * m->C;

	tl_rope_row(v, m->rope, r % m->T, 2 * m->C, m->hs, j->l);
}

static void
job_act(void *ctx, int r)
{
	rowjob *j = ctx;
	tl_model *m = j->m;

	tl_act_row(m->c.act, j->y + (long)r * m->F, j->x + (long)r * m->F1,
	    m->F);
}

static void
job_act_back(void *ctx, int r)
{
	rowjob *j = ctx;
	tl_model *m = j->m;

	tl_act_back_row(m->c.act, j->y + (long)r * m->F1,
	    j->x + (long)r * m->F, j->b + (long)r * m->F1, m->F);
}

/* Row r of (N, C) dropped, as the row (r / T, 0, r % T) of j->d. */
static void
job_drop(void *ctx, int r)
{
	rowjob *j = ctx;
	tl_model *m = j->m;
	long C = m->C;

	tl_drop_row(j->d, tl_drop_stream(j->d, (uint64_t)(r / m->T), 0,
	    (uint64_t)(r % m->T)), j->y + r * C, j->x + r * C, (int)C);
}

/* Cross-entropy of row r: softmax in place, lse kept. */
static void
job_softmax(void *ctx, int r)
{
	rowjob *j = ctx;
	tl_model *m = j->m;

	m->lse[r] = tl_k()->softmax(m->logits + (long)r * m->V, m->V);
}

static void
rows(tl_pool *p, int n, void (*fn)(void *, int), rowjob *j)
{
	tl_pool_for(p, n, fn, j);
}

/* y (N, C) = x dropped by d (job_drop). */
static void
drop_res(tl_model *m, tl_pool *p, const tl_drop *d, float *y, const float *x)
{
	rowjob j;

	memset(&j, 0, sizeof j);
	j.m = m;
	j.d = d;
	j.x = x;
	j.y = y;
	rows(p, m->N, job_drop, &j);
}

/* Run fn over the N rows: y, x, w, b (dy for the backward pass), the
 * saved mean and rstd, rows of n. */
static void
norm_job(tl_model *m, tl_pool *p, void (*fn)(void *, int), float *y,
    const float *x, const float *w, const float *b, float *mean,
    float *rstd, int n)
{
	rowjob j;

	memset(&j, 0, sizeof j);
	j.m = m;
	j.x = x, j.y = y, j.w = w, j.b = b;
	j.mean = mean, j.rstd = rstd, j.n = n;
	rows(p, m->N, fn, &j);
}

/* y (N, n) = norm(x (N, n)) by gains w (and biases b), keeping each
 * row's mean and 1/rms or 1/std for the backward pass. */
static void
norm_rows(tl_model *m, tl_pool *p, float *y, const float *x, const float *w,
    const float *b, float *mean, float *rstd, int n)
{
	norm_job(m, p, job_norm, y, x, w, b, mean, rstd, n);
}

/* Backward of norm_rows: dx (N, n) += d/dx given dy at input x, and
 * the gains' (and biases') gradients added to dw (and db). */
static void
norm_back_rows(tl_model *m, tl_pool *p, float *dx, const float *dy,
    const float *x, const float *w, float *mean, float *rstd, float *dw,
    float *db, int n)
{
	norm_job(m, p, job_norm_back, dx, x, w, dy, mean, rstd, n);
	tl_norm_dparams(m->c.norm, dw, db, dy, x, mean, rstd, m->N, n);
}

/* The weights (out, in) that linear layer i of block l multiplies by:
 * the latent ones in fp32 mode; in ternary mode their quantization by
 * the scale tl_model_prepare found, made here in m->qw, which holds one
 * layer's at a time. */
static const float *
lin_weff(tl_model *m, tl_pool *p, const float *params, int l, int i)
{
	rowjob j;

	if (!m->tern)
		return lin_w(m, params, l, i);
	memset(&j, 0, sizeof j);
	j.m = m;
	j.lin = i;
	j.x = lin_w(m, params, l, i);
	j.y = m->qw;
	j.s = m->qs[l * TL_NLIN + i];
	rows(p, lin_out(m, i), job_wquant, &j);
	return m->qw;
}

/* out (N, out) = x (N, in) . W^T, W (out, in): a BitLinear in ternary
 * mode (quantized input times ternary weights, exact integer sums by
 * tl_tgemm, then rescaled), a plain product otherwise.  In ternary mode
 * x is quantized in place, to the int8 values the backward pass needs
 * of it, and g (N) gets the scale of each row.  out NULL stops there:
 * recomputing a block needs nothing of its last product. */
static void
lin_forward(tl_model *m, tl_pool *p, const float *params, int l, int i,
    float *out, float *x, float *g)
{
	int in = lin_in(m, i), o = lin_out(m, i), N = m->N;
	rowjob j;

	if (!m->tern) {
		if (out)
			tl_sgemm(p, N, o, in, x, in, 1, lin_w(m, params, l, i),
			    1, in, out, o, 0);
		return;
	}
	memset(&j, 0, sizeof j);
	j.m = m;
	j.lin = i;
	j.x = x;
	j.y = x;
	j.y2 = g;
	rows(p, N, job_actquant, &j);
	if (out == NULL)
		return;
	/* the integer sums on integer SIMD: tl_sgemm's very bits */
	tl_tgemm(p, N, o, in, x, in, lin_weff(m, p, params, l, i), in, out, o);
	j.y = out;
	j.s = m->qs[l * TL_NLIN + i];
	rows(p, N, job_rescale, &j);
}

/* Given dout (N, out) and the layer's input x (N, in) as lin_forward
 * left it: dx (N, in) = dout . W_eff (overwritten; skipped when dx is
 * NULL), dW (out, in) += dout^T . x_eff.  Straight-through: the
 * quantizers pass gradients unchanged. */
static void
lin_backward(tl_model *m, tl_pool *p, const float *params, float *grads,
    int l, int i, float *dx, const float *dout, const float *x,
    const float *g)
{
	int in = lin_in(m, i), o = lin_out(m, i), N = m->N;
	float *dw = lin_w(m, grads, l, i);
	const float *a = dout;
	long r, n;
	rowjob j;

	if (dx) {
		tl_sgemm(p, N, in, o, dout, o, 1, lin_weff(m, p, params, l, i),
		    in, 1, dx, in, 0);
		if (m->tern) {
			float s = m->qs[l * TL_NLIN + i];

			for (r = 0, n = (long)N * in; r < n; r++)
				dx[r] *= s;
		}
	}
	if (m->tern) {
		memset(&j, 0, sizeof j);
		j.m = m;
		j.lin = i;
		j.x = dout;
		j.y = m->dsc;
		j.y2 = (float *)g;
		rows(p, N, job_dscale, &j);
		a = m->dsc;
	}
	tl_sgemm(p, o, in, N, a, 1, o, x, in, 1, dw, in, 1);
}

/* Where block l's activations are: its input and output in res, the
 * rest in the block's own set, or the one set under recomputation. */
typedef struct {
	float *x, *out;			/* (N, C) input, output */
	float *mid, *ln1, *ay, *ln2;	/* (N, C) */
	float *ln1m, *ln1r, *ln2m, *ln2r;	/* (N) */
	float *qkv;			/* (N, 3C) */
	float *att;			/* (B, H, T, T) */
	float *h1, *h2;			/* (N, F1), (N, F) */
	/* the inputs of the output projections: ay and h2, or under
	 * subln their norms */
	float *ays, *h2s;		/* (N, C), (N, F) */
	float *ln3m, *ln3r, *ln4m, *ln4r;	/* subln: (N) */
	float *xg;			/* ternary: (TL_NLIN, N) */
} acts;

static void
block_acts(const tl_model *m, int l, acts *a)
{
	long N = m->N, C = m->C, s = m->S > 1 ? l : 0;

	a->x = m->res + l * N * C;
	a->out = a->x + N * C;
	a->mid = m->mid + s * N * C;
	a->ln1 = m->ln1 + s * N * C;
	a->ay = m->ay + s * N * C;
	a->ln2 = m->ln2 + s * N * C;
	a->ln1m = m->ln1m + s * N;
	a->ln1r = m->ln1r + s * N;
	a->ln2m = m->ln2m + s * N;
	a->ln2r = m->ln2r + s * N;
	a->qkv = m->qkv + s * N * 3 * C;
	a->att = m->att + s * m->B * m->H * m->T * m->T;
	a->h1 = m->h1 + s * N * m->F1;
	a->h2 = m->h2 + s * N * m->F;
	a->xg = m->xg + s * TL_NLIN * N;
	if (m->c.norm == TL_NORM_SUBLN) {
		a->ays = m->ays + s * N * C;
		a->h2s = m->h2s + s * N * m->F;
		a->ln3m = m->ln3m + s * N;
		a->ln3r = m->ln3r + s * N;
		a->ln4m = m->ln4m + s * N;
		a->ln4r = m->ln4r + s * N;
	} else {
		a->ays = a->ay;
		a->h2s = a->h2;
	}
}

/* Block l: out = mid + FFN(norm(mid)), mid = x + attention(norm(x)).
 * again: recomputing the activations of a block for its backward pass,
 * which needs no output (res holds it already). */
static void
block_forward(tl_model *m, tl_pool *p, const float *params, int l,
    int again)
{
	long N = m->N, C = m->C, F = m->F, r;
	tl_params P;
	acts a;
	rowjob j;
	tl_drop dd[3];
	const tl_drop *da = drop_of(m, DROP_ATT, l, &dd[0]);
	const tl_drop *dr = drop_of(m, DROP_ATTRES, l, &dd[1]);
	const tl_drop *df = drop_of(m, DROP_FFNRES, l, &dd[2]);

	tl_params_map(&P, (float *)params, &m->c);
	block_acts(m, l, &a);
	memset(&j, 0, sizeof j);
	j.m = m;
	/* attention */
	norm_rows(m, p, a.ln1, a.x, P.ln1w + l * C,
	    P.ln1b ? P.ln1b + l * C : NULL, a.ln1m, a.ln1r, C);
	lin_forward(m, p, params, l, TL_LIN_QKV, a.qkv, a.ln1, a.xg + TL_LIN_QKV * N);
	if (m->c.pos == TL_POS_ROPE) {
		j.y = a.qkv, j.l = 0;
		rows(p, N, job_rope, &j);
	}
	/* datt is the backward's scratch, free in a forward pass */
	tl_attention_forward(p, a.ay, a.att, m->datt, a.qkv, m->B, m->T, C,
	    m->H, da);
	if (P.ln3w)
		norm_rows(m, p, a.ays, a.ay, P.ln3w + l * C, NULL, a.ln3m,
		    a.ln3r, C);
	lin_forward(m, p, params, l, TL_LIN_O, a.mid, a.ays, a.xg + TL_LIN_O * N);
	if (dr != NULL)
		drop_res(m, p, dr, a.mid, a.mid);
	for (r = 0; r < N * C; r++)
		a.mid[r] += a.x[r];
	/* FFN */
	norm_rows(m, p, a.ln2, a.mid, P.ln2w + l * C,
	    P.ln2b ? P.ln2b + l * C : NULL, a.ln2m, a.ln2r, C);
	lin_forward(m, p, params, l, TL_LIN_IN, a.h1, a.ln2, a.xg + TL_LIN_IN * N);
	j.x = a.h1, j.y = a.h2;
	rows(p, N, job_act, &j);
	if (P.ln4w)
		norm_rows(m, p, a.h2s, a.h2, P.ln4w + l * F, NULL, a.ln4m,
		    a.ln4r, F);
	lin_forward(m, p, params, l, TL_LIN_OUT, again ? NULL : a.out, a.h2s,
	    a.xg + TL_LIN_OUT * N);
	if (again)
		return;
	if (df != NULL)
		drop_res(m, p, df, a.out, a.out);
	for (r = 0; r < N * C; r++)
		a.out[r] += a.mid[r];
}

/* The backward of output projection i (TL_LIN_O or TL_LIN_OUT) of
 * block l, given m->dres, through the branch's dropout d (NULL: none):
 * its input xs (N, n) is x sub-normed by gain w (subln; mean and rstd
 * saved, dw its gradient) or x itself (w NULL); dx (N, n) = d/dx. */
static void
out_backward(tl_model *m, tl_pool *p, const float *params, float *grads,
    int l, int i, const tl_drop *d, float *dx, const float *x,
    const float *xs, const float *w, float *dw, float *mean, float *rstd,
    int n, float *xg)
{
	const float *dy = m->dres;

	/* dln is free between a norm's backward and the next product's */
	if (d != NULL) {
		drop_res(m, p, d, m->dln, m->dres);
		dy = m->dln;
	}
	lin_backward(m, p, params, grads, l, i, w ? m->dsub : dx, dy, xs,
	    xg);
	if (w) {
		memset(dx, 0, (size_t)m->N * n * sizeof(float));
		norm_back_rows(m, p, dx, m->dsub, x, w, mean, rstd, dw, NULL, n);
	}
}

/* Block l backward: m->dres holds d/d(block output) and becomes
 * d/d(block input); parameter gradients are added to grads. */
static void
block_backward(tl_model *m, tl_pool *p, const float *params, float *grads,
    int l)
{
	long N = m->N, C = m->C, F = m->F;
	tl_params P, G;
	acts a;
	rowjob j;
	tl_drop dd[3];

	tl_params_map(&P, (float *)params, &m->c);
	tl_params_map(&G, grads, &m->c);
	block_acts(m, l, &a);
	memset(&j, 0, sizeof j);
	j.m = m;
	/* FFN: dres becomes d/d mid */
	out_backward(m, p, params, grads, l, TL_LIN_OUT,
	    drop_of(m, DROP_FFNRES, l, &dd[2]), m->dh2, a.h2, a.h2s,
	    P.ln4w ? P.ln4w + l * F : NULL, P.ln4w ? G.ln4w + l * F : NULL,
	    a.ln4m, a.ln4r, F, a.xg + TL_LIN_OUT * N);
	j.x = m->dh2, j.y = m->dh1, j.b = a.h1;
	rows(p, N, job_act_back, &j);
	lin_backward(m, p, params, grads, l, TL_LIN_IN, m->dln, m->dh1, a.ln2,
	    a.xg + TL_LIN_IN * N);
	norm_back_rows(m, p, m->dres, m->dln, a.mid, P.ln2w + l * C, a.ln2m,
	    a.ln2r, G.ln2w + l * C, G.ln2b ? G.ln2b + l * C : NULL, C);
	/* attention: dres becomes d/d(block input) */
	out_backward(m, p, params, grads, l, TL_LIN_O,
	    drop_of(m, DROP_ATTRES, l, &dd[1]), m->day, a.ay, a.ays,
	    P.ln3w ? P.ln3w + l * C : NULL, P.ln3w ? G.ln3w + l * C : NULL,
	    a.ln3m, a.ln3r, C, a.xg + TL_LIN_O * N);
	tl_attention_backward(p, m->dqkv, m->datt, m->day, a.qkv, a.att,
	    m->B, m->T, C, m->H, drop_of(m, DROP_ATT, l, &dd[0]));
	if (m->c.pos == TL_POS_ROPE) {
		j.y = m->dqkv, j.l = 1;
		rows(p, N, job_rope, &j);
	}
	lin_backward(m, p, params, grads, l, TL_LIN_QKV, m->dln, m->dqkv, a.ln1,
	    a.xg + TL_LIN_QKV * N);
	norm_back_rows(m, p, m->dres, m->dln, a.x, P.ln1w + l * C, a.ln1m,
	    a.ln1r, G.ln1w + l * C, G.ln1b ? G.ln1b + l * C : NULL, C);
}

float
tl_model_forward(tl_model *m, tl_pool *p, const float *params,
    const uint16_t *in, const uint16_t *tgt)
{
	long N = m->N, C = m->C, V = m->V, r;
	int l;
	tl_params P;
	rowjob j;
	double loss = 0;

	tl_params_map(&P, (float *)params, &m->c);
	memcpy(m->in, in, N * sizeof *in);
	for (r = 0; r < N; r++) {
		memcpy(m->res + r * C, P.wte + (long)in[r] * C, C * sizeof(float));
		if (m->c.pos == TL_POS_SIN)
			tl_sinpos_add_row(m->res + r * C, r % m->T, C);
	}
	for (l = 0; l < m->L; l++)
		block_forward(m, p, params, l, 0);
	norm_rows(m, p, m->lnf, m->res + m->L * N * C, P.lnfw, P.lnfb,
	    m->lnfm, m->lnfr, C);
	memset(&j, 0, sizeof j);
	j.m = m;
	tl_sgemm(p, N, V, C, m->lnf, C, 1, P.head, 1, C, m->logits, V, 0);
	if (tgt == NULL)
		return 0;
	memcpy(m->tgt, tgt, N * sizeof *tgt);
	/* loss_r = lse_r - logit_r[tgt_r], the logit taken before softmax;
	 * with soft targets q at weight a, lse_r - (1 - a) logit_r[tgt_r]
	 * - a sum_v q_rv logit_rv */
	for (r = 0; r < N; r++) {
		m->rowloss[r] = -m->logits[r * V + tgt[r]];
		if (m->soft != NULL)
			m->rowloss[r] = (1 - m->softw) * m->rowloss[r] -
			    m->softw * tl_k()->dot(m->soft + r * V,
			    m->logits + r * V, (int)V);
	}
	rows(p, N, job_softmax, &j);
	for (r = 0; r < N; r++) {
		m->rowloss[r] += m->lse[r];
		loss += m->rowloss[r];
	}
	return (float)(loss / N);
}

void
tl_model_backward(tl_model *m, tl_pool *p, const float *params, float *grads,
    float gscale)
{
	long N = m->N, C = m->C, V = m->V, r;
	int l;
	tl_params P, G;
	float *dl = m->logits, f = gscale / N;

	tl_params_map(&P, (float *)params, &m->c);
	tl_params_map(&G, grads, &m->c);
	/* d loss / d logits = (softmax - onehot) / N, or with soft
	 * targets (softmax - (1 - a) onehot - a q) / N */
	for (r = 0; r < N; r++) {
		long i;

		if (m->soft != NULL) {
			tl_k()->axpy(dl + r * V, -m->softw, m->soft + r * V,
			    (int)V);
			dl[r * V + m->tgt[r]] -= 1.0f - m->softw;
		} else
			dl[r * V + m->tgt[r]] -= 1.0f;
		for (i = 0; i < V; i++)
			dl[r * V + i] *= f;
	}
	tl_sgemm(p, V, C, N, dl, 1, V, m->lnf, C, 1, G.head, C, 1);
	tl_sgemm(p, N, C, V, dl, V, 1, P.head, C, 1, m->dln, C, 0);
	memset(m->dres, 0, N * C * sizeof(float));
	norm_back_rows(m, p, m->dres, m->dln, m->res + m->L * N * C, P.lnfw,
	    m->lnfm, m->lnfr, G.lnfw, G.lnfb, C);
	for (l = m->L - 1; l >= 0; l--) {
		/* the one set of activations holds the last block's from
		 * the forward pass, and the others' once recomputed */
		if (m->S == 1 && l < m->L - 1)
			block_forward(m, p, params, l, 1);
		block_backward(m, p, params, grads, l);
	}
	/* embedding: rows in order, so repeated ids add up the same way
	 * whatever the thread count */
	for (r = 0; r < N; r++)
		tl_k()->axpy(G.wte + (long)m->in[r] * C, 1.0f, m->dres + r * C,
		    C);
}
