/*
 * model.c: configuration, parameter layout and initialisation, and
 * the batched forward and backward pass used for training and for
 * evaluation (llm.c style: every activation the backward pass needs is
 * kept in one buffer per kind).
 *
 * Shapes: N = B*T rows (one per position of the batch), C width, F FFN
 * width (F1 = 2F when gated), V vocabulary, L layers, H heads.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "layers.h"
#include "model.h"
#include "util.h"

const char *const tl_pos_names[TL_POS_N] = { "rope", "sinusoidal" };
const char *const tl_norm_names[TL_NORM_N] = { "rmsnorm", "layernorm" };
const char *const tl_quant_names[TL_QUANT_N] = { "fp32", "ternary" };
const char *const tl_act_names[TL_ACT_N] = { "gelu", "relu", "relu2",
	"swiglu" };

int
tl_lookup(const char *const *names, int n, const char *s)
{
	int i;

	for (i = 0; i < n; i++)
		if (strcmp(names[i], s) == 0)
			return i;
	return -1;
}

void
tl_config_default(tl_config *c)
{
	c->vocab = 256;
	c->layers = 4;
	c->dim = 128;
	c->heads = 4;
	c->ffn = 512;
	c->ctx = 64;
	c->pos = TL_POS_ROPE;
	c->norm = TL_NORM_RMS;
	c->quant = TL_QUANT_TERNARY;
	c->act = TL_ACT_RELU2;	/* measured: see README */
}

int
tl_config_check(const tl_config *c, char *err)
{
	if (c->vocab < 2 || c->vocab > 65536)
		return tl_err(err, "vocabulary %u out of range [2, 65536]",
		    c->vocab);
	if (c->layers < 1 || c->layers > TL_MAX_LAYERS)
		return tl_err(err, "layers %u out of range [1, %d]",
		    c->layers, TL_MAX_LAYERS);
	if (c->dim < 2 || c->dim > TL_MAX_DIM)
		return tl_err(err, "width %u out of range [2, %d]", c->dim,
		    TL_MAX_DIM);
	if (c->heads < 1 || c->heads > TL_MAX_HEADS || c->dim % c->heads ||
	    (c->dim / c->heads) % 2)
		return tl_err(err, "heads %u must divide width %u into even "
		    "head sizes", c->heads, c->dim);
	if (c->ffn < 1 || c->ffn > TL_MAX_FFN)
		return tl_err(err, "FFN width %u out of range [1, %d]", c->ffn,
		    TL_MAX_FFN);
	if (c->ctx < 1 || c->ctx > TL_MAX_CTX)
		return tl_err(err, "context %u out of range [1, %d]", c->ctx,
		    TL_MAX_CTX);
	if (c->pos >= TL_POS_N || c->norm >= TL_NORM_N ||
	    c->quant >= TL_QUANT_N || c->act >= TL_ACT_N)
		return tl_err(err, "unknown positional encoding, norm, "
		    "quantization or activation code");
	return 0;
}

int
tl_ffn_rows(const tl_config *c)
{
	return c->act == TL_ACT_SWIGLU ? 2 * c->ffn : c->ffn;
}

/* Lay the tensors out in the order of tl_params; returns the count. */
static size_t
layout(tl_params *p, float *base, const tl_config *c)
{
	size_t V = c->vocab, C = c->dim, L = c->layers, F = c->ffn;
	size_t F1 = tl_ffn_rows(c), off = 0;
	int ln = c->norm == TL_NORM_LAYER;

#define TAKE(field, n) do { \
	if (p) p->field = (n) != 0 ? base + off : NULL; \
	off += (n); \
} while (0)
	TAKE(wte, V * C);
	TAKE(ln1w, L * C);
	TAKE(ln1b, ln ? L * C : 0);
	TAKE(wqkv, L * 3 * C * C);
	TAKE(wo, L * C * C);
	TAKE(ln2w, L * C);
	TAKE(ln2b, ln ? L * C : 0);
	TAKE(w1, L * F1 * C);
	TAKE(w2, L * C * F);
	TAKE(lnfw, C);
	TAKE(lnfb, ln ? C : 0);
	TAKE(head, V * C);
#undef TAKE
	return off;
}

size_t
tl_nparams(const tl_config *c)
{
	return layout(NULL, NULL, c);
}

void
tl_params_map(tl_params *p, float *base, const tl_config *c)
{
	layout(p, base, c);
}

static void
fill_normal(float *w, size_t n, float sd, tl_rng *r)
{
	size_t i;

	for (i = 0; i < n; i++)
		w[i] = sd * tl_rng_normal(r);
}

static void
fill_const(float *w, size_t n, float v)
{
	size_t i;

	for (i = 0; w && i < n; i++)
		w[i] = v;
}

/* GPT-2 initialisation: N(0, 0.02), residual output projections
 * scaled by 1/sqrt(2L); norm gains 1, biases 0. */
void
tl_params_init(float *base, const tl_config *c, uint64_t seed)
{
	size_t V = c->vocab, C = c->dim, L = c->layers, F = c->ffn;
	size_t F1 = tl_ffn_rows(c);
	float sdres = 0.02f / sqrtf(2.0f * c->layers);
	tl_params p;
	tl_rng r;

	tl_rng_seed(&r, seed);
	memset(base, 0, tl_nparams(c) * sizeof *base);
	tl_params_map(&p, base, c);
	fill_normal(p.wte, V * C, 0.02f, &r);
	fill_normal(p.wqkv, L * 3 * C * C, 0.02f, &r);
	fill_normal(p.wo, L * C * C, sdres, &r);
	fill_normal(p.w1, L * F1 * C, 0.02f, &r);
	fill_normal(p.w2, L * C * F, sdres, &r);
	fill_normal(p.head, V * C, 0.02f, &r);
	fill_const(p.ln1w, L * C, 1);
	fill_const(p.ln2w, L * C, 1);
	fill_const(p.lnfw, C, 1);
}

float
tl_ternary_quant(float *q, const float *w, size_t n)
{
	const tl_kern *k = tl_k();
	double sum = 0;
	size_t i, step;
	float s;

	/* abssum takes an int count: sum in pieces, in order. */
	for (i = 0; i < n; i += step) {
		step = n - i < (1u << 30) ? n - i : (1u << 30);
		sum += k->abssum(w + i, (int)step);
	}
	s = (float)(sum / (double)n);
	if (s < 1e-5f)
		s = 1e-5f;
	for (i = 0; i < n; i += step) {
		step = n - i < (1u << 30) ? n - i : (1u << 30);
		k->quant(q + i, w + i, (int)step, 1.0f / s, -1.0f, 1.0f);
	}
	return s;
}

/* The four linear layers of a block. */
enum { LQKV, LO, L1, L2, NLIN };

struct tl_model {
	tl_config c;
	int B, T, N, C, F, F1, V, L, H, hs;
	int tern;		/* ternary mode */
	float *qw[NLIN];	/* (L, out, in) quantized weights */
	float *qs;		/* (L, NLIN) their scales */
	float *rope;		/* (T, hs/2, 2) */
	uint16_t *in, *tgt;	/* (N) */
	/* activations, per layer unless noted */
	float *res;		/* (L+1, N, C) block inputs and final */
	float *mid;		/* (L, N, C) after attention residual */
	float *ln1, *ln1m, *ln1r;	/* (L,N,C), (L,N), (L,N) */
	float *qkv;		/* (L, N, 3C) after rotary */
	float *att;		/* (L, B, H, T, T) */
	float *ay;		/* (L, N, C) attention values */
	float *ln2, *ln2m, *ln2r;
	float *h1;		/* (L, N, F1) */
	float *h2;		/* (L, N, F) */
	float *xq[NLIN], *xg[NLIN];	/* ternary: (L,N,in), (L,N) */
	float *lnf, *lnfm, *lnfr;	/* (N, C), (N), (N) */
	float *logits;		/* (N, V) */
	float *lse;		/* (N) log-sum-exp of each row */
	float *rowloss;		/* (N) cross-entropy of each row */
	/* backward scratch */
	float *dres, *dln, *dqkv, *datt, *dh1, *dh2, *day, *dsc;
	/* all of the above come from one allocation */
	float *mem;
};

static int
lin_in(const tl_model *m, int i)
{
	return i == L2 ? m->F : m->C;
}

static int
lin_out(const tl_model *m, int i)
{
	return i == LQKV ? 3 * m->C : i == L1 ? m->F1 : m->C;
}

static float *
lin_w(const tl_model *m, const float *params, int l, int i)
{
	tl_params p;
	long in = lin_in(m, i), out = lin_out(m, i);

	tl_params_map(&p, (float *)params, &m->c);
	switch (i) {
	case LQKV:
		return p.wqkv + l * out * in;
	case LO:
		return p.wo + l * out * in;
	case L1:
		return p.w1 + l * out * in;
	default:
		return p.w2 + l * out * in;
	}
}

tl_model *
tl_model_new(const tl_config *c, int B, int T, char *err)
{
	tl_model *m;
	size_t N, C, F, F1, V, L, H, tot = 0;
	int i;
	float **slot[64];
	size_t size[64];
	int ns = 0;

	if (tl_config_check(c, err) < 0)
		return NULL;
	if (B < 1 || T < 1 || (unsigned)T > c->ctx || (size_t)B * T > 1u << 24)
		return tl_err(err, "batch %d x %d does not fit context %u", B,
		    T, c->ctx), NULL;
	if ((m = calloc(1, sizeof *m)) == NULL)
		return tl_err(err, "out of memory"), NULL;
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
	N = m->N, C = m->C, F = m->F, F1 = m->F1, V = m->V, L = m->L;
	H = m->H;

#define BUF(p, n) do { slot[ns] = &(p); size[ns++] = (n); } while (0)
	BUF(m->rope, (size_t)T * (m->hs / 2) * 2);
	BUF(m->res, (L + 1) * N * C);
	BUF(m->mid, L * N * C);
	BUF(m->ln1, L * N * C);
	BUF(m->ln1m, L * N);
	BUF(m->ln1r, L * N);
	BUF(m->qkv, L * N * 3 * C);
	BUF(m->att, L * B * H * T * T);
	BUF(m->ay, L * N * C);
	BUF(m->ln2, L * N * C);
	BUF(m->ln2m, L * N);
	BUF(m->ln2r, L * N);
	BUF(m->h1, L * N * F1);
	BUF(m->h2, L * N * F);
	BUF(m->lnf, N * C);
	BUF(m->lnfm, N);
	BUF(m->lnfr, N);
	BUF(m->logits, N * V);
	BUF(m->lse, N);
	BUF(m->rowloss, N);
	BUF(m->dres, N * C);
	BUF(m->dln, N * C);
	BUF(m->dqkv, N * 3 * C);
	BUF(m->datt, (size_t)B * H * T * T);
	BUF(m->dh1, N * F1);
	BUF(m->dh2, N * F);
	BUF(m->day, N * C);
	BUF(m->dsc, N * (V > 3 * C ? (V > F1 ? V : F1) : 3 * C > F1 ? 3 * C : F1));
	if (m->tern) {
		for (i = 0; i < NLIN; i++) {
			BUF(m->qw[i], L * lin_out(m, i) * lin_in(m, i));
			BUF(m->xq[i], L * N * lin_in(m, i));
			BUF(m->xg[i], L * N);
		}
		BUF(m->qs, L * NLIN);
	}
#undef BUF
	for (i = 0; i < ns; i++)
		tot += size[i];
	if (tot > ((size_t)-1) / sizeof(float) ||
	    (m->mem = calloc(tot, sizeof(float))) == NULL) {
		free(m);
		return tl_err(err, "out of memory for activations (%zu MiB)",
		    tot / (1 << 18)), NULL;
	}
	for (tot = 0, i = 0; i < ns; i++) {
		*slot[i] = m->mem + tot;
		tot += size[i];
	}
	m->in = calloc(2 * N, sizeof *m->in);
	if (m->in == NULL) {
		tl_model_free(m);
		return tl_err(err, "out of memory"), NULL;
	}
	m->tgt = m->in + N;
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
tl_model_prepare(tl_model *m, float *params)
{
	int l, i;

	if (!m->tern)
		return;
	for (l = 0; l < m->L; l++)
		for (i = 0; i < NLIN; i++) {
			size_t n = (size_t)lin_out(m, i) * lin_in(m, i);

			m->qs[l * NLIN + i] = tl_ternary_quant(m->qw[i] + l * n,
			    lin_w(m, params, l, i), n);
		}
}

/* ---- row jobs: one function per kind of per-row work ---- */

typedef struct {
	tl_model *m;
	int l, lin;
	const float *x, *w, *b;
	float *y, *y2, *mean, *rstd;
	float s;
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
	int C = j->m->C;

	tl_norm_row(j->m->c.norm, j->y + (long)r * C, j->x + (long)r * C,
	    j->w, j->b, C, j->mean + r, j->rstd + r);
}

static void
job_norm_back(void *ctx, int r)
{
	rowjob *j = ctx;
	int C = j->m->C;

	/* dx (y) += from dy (b) at input x */
	tl_norm_back_row(j->m->c.norm, j->y + (long)r * C, j->b + (long)r * C,
	    j->x + (long)r * C, j->w, C, j->mean[r], j->rstd[r]);
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

/* out (N, out) = x (N, in) . W^T, W (out, in): a BitLinear in ternary
 * mode (quantized input times ternary weights, exact integer sums by
 * tl_tgemm, then rescaled), a plain product otherwise. */
static void
lin_forward(tl_model *m, tl_pool *p, const float *params, int l, int i,
    float *out, const float *x)
{
	int in = lin_in(m, i), o = lin_out(m, i), N = m->N;
	rowjob j;

	memset(&j, 0, sizeof j);
	j.m = m;
	j.lin = i;
	if (!m->tern) {
		tl_sgemm(p, N, o, in, x, in, 1, lin_w(m, params, l, i), 1, in,
		    out, o, 0);
		return;
	}
	j.x = x;
	j.y = m->xq[i] + (long)l * N * in;
	j.y2 = m->xg[i] + (long)l * N;
	rows(p, N, job_actquant, &j);
	/* the integer sums on integer SIMD: tl_sgemm's very bits */
	tl_tgemm(p, N, o, in, j.y, in, m->qw[i] + (long)l * o * in, in, out, o);
	j.y = out;
	j.s = m->qs[l * NLIN + i];
	rows(p, N, job_rescale, &j);
}

/* Given dout (N, out): dx (N, in) = dout . W_eff (overwritten; skipped
 * when dx is NULL), dW (out, in) += dout^T . x_eff.  Straight-through:
 * the quantizers pass gradients unchanged. */
static void
lin_backward(tl_model *m, tl_pool *p, const float *params, float *grads,
    int l, int i, float *dx, const float *dout, const float *x)
{
	int in = lin_in(m, i), o = lin_out(m, i), N = m->N;
	float *dw = lin_w(m, grads, l, i);
	const float *w, *a = dout, *xe = x;
	long r, n;
	rowjob j;

	w = m->tern ? m->qw[i] + (long)l * o * in : lin_w(m, params, l, i);
	if (dx) {
		tl_sgemm(p, N, in, o, dout, o, 1, w, in, 1, dx, in, 0);
		if (m->tern) {
			float s = m->qs[l * NLIN + i];

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
		j.y2 = m->xg[i] + (long)l * N;
		rows(p, N, job_dscale, &j);
		a = m->dsc;
		xe = m->xq[i] + (long)l * N * in;
	}
	tl_sgemm(p, o, in, N, a, 1, o, xe, in, 1, dw, in, 1);
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
	memset(&j, 0, sizeof j);
	j.m = m;
	for (l = 0; l < m->L; l++) {
		float *x = m->res + l * N * C, *mid = m->mid + l * N * C;
		float *qkv = m->qkv + l * N * 3 * C, *ay = m->ay + l * N * C;
		float *ln1 = m->ln1 + l * N * C, *ln2 = m->ln2 + l * N * C;
		float *h1 = m->h1 + l * N * m->F1, *h2 = m->h2 + l * N * m->F;
		float *out = m->res + (l + 1) * N * C;

		/* attention */
		j.x = x, j.y = ln1, j.w = P.ln1w + l * C;
		j.b = P.ln1b ? P.ln1b + l * C : NULL;
		j.mean = m->ln1m + l * N, j.rstd = m->ln1r + l * N;
		rows(p, N, job_norm, &j);
		lin_forward(m, p, params, l, LQKV, qkv, ln1);
		if (m->c.pos == TL_POS_ROPE) {
			j.y = qkv, j.l = 0;
			rows(p, N, job_rope, &j);
		}
		tl_attention_forward(p, ay, m->att + (long)l * m->B * m->H *
		    m->T * m->T, qkv, m->B, m->T, C, m->H);
		lin_forward(m, p, params, l, LO, mid, ay);
		for (r = 0; r < N * C; r++)
			mid[r] += x[r];
		/* FFN */
		j.x = mid, j.y = ln2, j.w = P.ln2w + l * C;
		j.b = P.ln2b ? P.ln2b + l * C : NULL;
		j.mean = m->ln2m + l * N, j.rstd = m->ln2r + l * N;
		rows(p, N, job_norm, &j);
		lin_forward(m, p, params, l, L1, h1, ln2);
		j.x = h1, j.y = h2;
		rows(p, N, job_act, &j);
		lin_forward(m, p, params, l, L2, out, h2);
		for (r = 0; r < N * C; r++)
			out[r] += mid[r];
	}
	j.x = m->res + m->L * N * C, j.y = m->lnf, j.w = P.lnfw, j.b = P.lnfb;
	j.mean = m->lnfm, j.rstd = m->lnfr;
	rows(p, N, job_norm, &j);
	tl_sgemm(p, N, V, C, m->lnf, C, 1, P.head, 1, C, m->logits, V, 0);
	if (tgt == NULL)
		return 0;
	memcpy(m->tgt, tgt, N * sizeof *tgt);
	/* loss_r = lse_r - logit_r[tgt_r], the logit taken before softmax */
	for (r = 0; r < N; r++)
		m->rowloss[r] = -m->logits[r * V + tgt[r]];
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
	rowjob j;
	float *dl = m->logits, f = gscale / N;

	tl_params_map(&P, (float *)params, &m->c);
	tl_params_map(&G, grads, &m->c);
	memset(&j, 0, sizeof j);
	j.m = m;
	/* d loss / d logits = (softmax - onehot) / N */
	for (r = 0; r < N; r++) {
		long i;

		dl[r * V + m->tgt[r]] -= 1.0f;
		for (i = 0; i < V; i++)
			dl[r * V + i] *= f;
	}
	tl_sgemm(p, V, C, N, dl, 1, V, m->lnf, C, 1, G.head, C, 1);
	tl_sgemm(p, N, C, V, dl, V, 1, P.head, C, 1, m->dln, C, 0);
	memset(m->dres, 0, N * C * sizeof(float));
	j.x = m->res + m->L * N * C, j.y = m->dres, j.b = m->dln, j.w = P.lnfw;
	j.mean = m->lnfm, j.rstd = m->lnfr;
	rows(p, N, job_norm_back, &j);
	tl_norm_dparams(m->c.norm, G.lnfw, G.lnfb, m->dln, j.x, m->lnfm,
	    m->lnfr, N, C);

	for (l = m->L - 1; l >= 0; l--) {
		float *x = m->res + l * N * C, *mid = m->mid + l * N * C;
		float *qkv = m->qkv + l * N * 3 * C, *ay = m->ay + l * N * C;
		float *ln1 = m->ln1 + l * N * C, *ln2 = m->ln2 + l * N * C;
		float *h1 = m->h1 + l * N * m->F1, *h2 = m->h2 + l * N * m->F;

		/* FFN: dres is d/d(block output); it becomes d/d mid */
		lin_backward(m, p, params, grads, l, L2, m->dh2, m->dres, h2);
		j.x = m->dh2, j.y = m->dh1, j.b = h1;
		rows(p, N, job_act_back, &j);
		lin_backward(m, p, params, grads, l, L1, m->dln, m->dh1, ln2);
		j.x = mid, j.y = m->dres, j.b = m->dln, j.w = P.ln2w + l * C;
		j.mean = m->ln2m + l * N, j.rstd = m->ln2r + l * N;
		rows(p, N, job_norm_back, &j);
		tl_norm_dparams(m->c.norm, G.ln2w + l * C,
		    G.ln2b ? G.ln2b + l * C : NULL, m->dln, mid, j.mean, j.rstd,
		    N, C);
		/* attention: dres becomes d/d(block input) */
		lin_backward(m, p, params, grads, l, LO, m->day, m->dres, ay);
		tl_attention_backward(p, m->dqkv, m->datt, m->day, qkv,
		    m->att + (long)l * m->B * m->H * m->T * m->T, m->B, m->T, C,
		    m->H);
		if (m->c.pos == TL_POS_ROPE) {
			j.y = m->dqkv, j.l = 1;
			rows(p, N, job_rope, &j);
		}
		lin_backward(m, p, params, grads, l, LQKV, m->dln, m->dqkv, ln1);
		j.x = x, j.y = m->dres, j.b = m->dln, j.w = P.ln1w + l * C;
		j.mean = m->ln1m + l * N, j.rstd = m->ln1r + l * N;
		rows(p, N, job_norm_back, &j);
		tl_norm_dparams(m->c.norm, G.ln1w + l * C,
		    G.ln1b ? G.ln1b + l * C : NULL, m->dln, x, j.mean, j.rstd,
		    N, C);
	}
	/* embedding: rows in order, so repeated ids add up the same way
	 * whatever the thread count */
	for (r = 0; r < N; r++)
		tl_k()->axpy(G.wte + (long)m->in[r] * C, 1.0f, m->dres + r * C,
		    C);
}
