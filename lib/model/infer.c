/*
 * infer.c: one position at a time through the transformer, with the
 * keys and values of earlier positions kept in a cache, over a model
 * quantized for inference (model.h, quant.c: from a checkpoint or a packed
 * model alike).
 *
 * Every step follows tl_model_forward (model.c) operation for
 * operation on one row: the same row functions (layers.h), the same
 * attention products in the same order of sums (gemv_t, summing as
 * tl_sgemm does in attention.c), the same BitLinear (absmax int8
 * input, exact integer sums, then times s * (g/127)).  In ternary mode
 * everything before the head is therefore bit-for-bit what the batched
 * pass computes on paths without FMA; the fp32 matrix-vector products
 * (dot products here, tl_sgemm there) may differ only in the order of
 * their sums.
 *
 * A packed model's linear layers run on the int8 x packed-weight
 * kernels (tl_qmat_mv); the rest is this same code, so a ternary model
 * packed with absmean gives its checkpoint's logits bit for bit.
 *
 * That is the cache of TL_KV_F32.  TL_KV_Q8 (tl-gen's default) keeps
 * the keys and values in 8 bits instead, a quarter of the bytes that
 * attention reads a position: each head's slice of a position's key
 * and value quantized by its absmax (scale m/127) and stored + 128,
 * the query of a head quantized to int16 likewise, the scores exact
 * integer sums (k->scores_u8, less 128 times the sum of the query)
 * times the two scales; after the softmax each position's weight p
 * times its value scale is quantized to int16 per head, and the output
 * is the exact integer sum over positions (k->attv_u8, less 128 times
 * the sum of the weights) times that scale.  Values are stored two
 * positions side by side, channel by channel, for attv_u8.  The
 * integer sums make every path's result the same but for the softmax,
 * as in fp32; the logits differ from the batched pass's by the
 * rounding of the cache (tests/unit/test_infer.c bounds it).
 *
 * Matrix-vector products are split over the pool by output rows, each
 * row one dot product, so results do not depend on the thread count.
 *
 * Shapes: C width, F FFN width (F1 = 2F when gated), V vocabulary,
 * L layers, H heads of hs = C/H, T context.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "layers.h"
#include "model/model.h"
#include "util/util.h"


const char *const tl_kv_names[TL_KV_N] = { "f32", "q8" };

/* Output rows per pool item of a matrix-vector product. */
#define MV_ROWS 8
/* Multiply-adds below which a product or the attention of a position
 * runs on the calling thread: waking the pool costs more. */
#define PAR_MIN (1L << 15)

struct tl_infer {
	tl_config c;
	int C, F, F1, V, L, H, hs, T;
	tl_params P;		/* the fp32 tensors, the caller's */
	const tl_qmat *qm;	/* (L, TL_NLIN) the linear layers, the caller's */
	tl_xq8buf xb;		/* the int8 input of a layer */
	float *rope;		/* (T, hs/2, 2) */
	int kv;			/* TL_KV_F32 or TL_KV_Q8 */
	/* TL_KV_F32 */
	float *kt;		/* (L, C, Tk) cached keys (rotated), transposed */
	int Tk;			/* their row stride: T + 16, so that the rows
				 * a step writes fall in different cache sets */
	float *vc;		/* (L, T, C) cached values */
	/* TL_KV_Q8 */
	uint8_t *kq;		/* (L, T, C) keys + 128 */
	uint8_t *vq;		/* (L, T/2 rounded up, C, 2) values + 128, a
				 * pair of positions side by side */
	float *kd, *vd;		/* (L, T, H) their scales */
	int16_t *q16;		/* (C) the query */
	int16_t *w16;		/* (H, T + 1) the weights of the values */
	int32_t *sc;		/* (H, T) scores_u8's sums */
	int32_t *acc;		/* (C) attv_u8's sums */
	int qmax;		/* the query's largest int16 magnitude */
	uint16_t *hist;		/* (T) the token at each cached position */
	int n;			/* positions cached */
	/* one position's activations */
	float *x, *y;		/* (C) block input and output */
	float *xn;		/* (C) normed */
	float *qkv;		/* (3C) */
	float *ay;		/* (C) attention values */
	float *mid;		/* (C) after the attention residual */
	float *h1;		/* (F1) */
	float *h2;		/* (F) */
	float *att;		/* (H, T) attention probabilities */
	float *logits;		/* (V) */
	float *mem;		/* all of the above */
};

tl_infer *
tl_infer_new(const tl_qmodel *q, int kv, char *err)
{
	const tl_config *c = &q->cfg;
	tl_infer *d;
	/* sizes in double so that they cannot wrap on 32-bit hosts */
	double C, F, F1, V, L, H, T, size[32], tot = 0;
	void **slot[32];
	size_t off;
	int ns = 0, i;

	if (tl_config_check(c, err) < 0)
		return NULL;
	if ((d = calloc(1, sizeof *d)) == NULL)
		return tl_err(err, "out of memory"), NULL;
	d->c = *c;
	d->C = c->dim;
	d->F = c->ffn;
	d->F1 = tl_ffn_rows(c);
	d->V = c->vocab;
	d->L = c->layers;
	d->H = c->heads;
	d->hs = c->dim / c->heads;
	d->T = c->ctx;
	d->Tk = d->T + 16;
	d->kv = kv;
	/* the sums of scores_u8 stay below hs * 255 * qmax < 2^31 */
	d->qmax = 0x7fffffff / (255 * d->hs) < 32767 ?
	    0x7fffffff / (255 * d->hs) : 32767;
	d->P = q->P;
	d->qm = q->qm;
	C = d->C, F = d->F, F1 = d->F1, V = d->V, L = d->L, H = d->H;
	T = d->T;

	/* n floats' room, or n bytes' (rounded up to floats) */
#define BUF(p, n) do { slot[ns] = (void **)&(p); size[ns++] = (n); } while (0)
#define BYTES(n) (ceil((n) / 16.0) * 4)
	BUF(d->rope, T * (d->hs / 2) * 2);
	if (kv == TL_KV_F32) {
		BUF(d->kt, L * (T + 16) * C);
		BUF(d->vc, L * T * C);
	} else {
		BUF(d->kq, BYTES(L * T * C));
		BUF(d->vq, BYTES(L * ceil(T / 2) * 2 * C));
		BUF(d->kd, L * T * H);
		BUF(d->vd, L * T * H);
		BUF(d->q16, BYTES(2 * C));
		BUF(d->w16, BYTES(2 * H * (T + 1)));
		BUF(d->sc, H * T);
		BUF(d->acc, C);
	}
	BUF(d->x, C);
	BUF(d->y, C);
	BUF(d->xn, C);
	BUF(d->qkv, 3 * C);
	BUF(d->ay, C);
	BUF(d->mid, C);
	BUF(d->h1, F1);
	BUF(d->h2, F);
	BUF(d->att, H * T);
	BUF(d->logits, V);
#undef BUF
#undef BYTES
	for (i = 0; i < ns; i++)
		tot += size[i];
	if (tot > (double)((size_t)-1 / sizeof(float) / 2) ||
	    (d->mem = calloc((size_t)tot, sizeof(float))) == NULL ||
	    (d->hist = calloc(d->T, sizeof *d->hist)) == NULL ||
	    tl_xq8buf_init(&d->xb, F > C ? F : C, err) < 0) {
		tl_infer_free(d);
		return tl_err(err, "out of memory for the decoder (%.0f MiB)",
		    tot / (1 << 18)), NULL;
	}
	for (off = 0, i = 0; i < ns; i++) {
		*slot[i] = d->mem + off;
		off += (size_t)size[i];
	}
	/* every page now, so that the first pass over the context does not
	 * take its faults */
	memset(d->mem, 0, (size_t)tot * sizeof(float));
	tl_rope_table(d->rope, d->T, d->hs);
	return d;
}

void
tl_infer_free(tl_infer *d)
{
	if (d == NULL)
		return;
	free(d->mem);
	free(d->hist);
	tl_xq8buf_free(&d->xb);
	free(d);
}

const tl_config *
tl_infer_config(const tl_infer *d)
{
	return &d->c;
}

double
tl_infer_cache_bytes(const tl_infer *d)
{
	/* position u reads u + 1 positions: (T + 1) / 2 on average */
	double pos = (d->T + 1) / 2.0;

	return d->L * pos * (d->kv == TL_KV_F32 ? 8.0 * d->C :
	    2.0 * d->C + 8.0 * d->H);
}

int
tl_infer_len(const tl_infer *d)
{
	return d->n;
}

int
tl_infer_ctx(const tl_infer *d)
{
	return d->T;
}

int
tl_infer_keep(const tl_infer *d)
{
	return d->T / 2;
}

void
tl_infer_reset(tl_infer *d)
{
	d->n = 0;
}

/* ---- matrix-vector products ---- */

/* y (out) = W (out, in) . x (in), then y[r] *= f when scaled (the
 * BitLinear rescale, applied to the finished sum as model.c does). */
typedef struct {
	const float *w, *x;
	float *y;
	int in, out, scaled;
	float f;
} mv_job;

static void
mv_rows(void *ctx, int it)
{
	mv_job *j = ctx;
	const tl_kern *k = tl_k();
	int r = it * MV_ROWS, e = r + MV_ROWS < j->out ? r + MV_ROWS : j->out;

	for (; r < e; r++) {
		j->y[r] = k->dot(j->x, j->w + (long)r * j->in, j->in);
		if (j->scaled)
			j->y[r] *= j->f;
	}
}

static void
matvec(tl_pool *p, float *y, const float *w, const float *x, int out, int in,
    int scaled, float f)
{
	mv_job j;

	j.w = w;
	j.x = x;
	j.y = y;
	j.in = in;
	j.out = out;
	j.scaled = scaled;
	j.f = f;
	tl_pool_for((long)out * in < PAR_MIN ? NULL : p,
	    (out + MV_ROWS - 1) / MV_ROWS, mv_rows, &j);
}

/* y = linear layer i of block l applied to x: in ternary mode x is
 * quantized to int8 values by absmax g (Qb = 127), multiplied by the
 * ternary weights with exact integer sums, and the sums are scaled by
 * s * (g/127), in that order, as in model.c (job_actquant, tl_sgemm,
 * job_rescale). */
static void
lin_forward(tl_infer *d, tl_pool *p, int l, int i, float *y, const float *x)
{
	tl_qmat_mv(p, y, &d->qm[l * TL_NLIN + i], x, &d->xb);
}

/* ---- attention ---- */

typedef struct {
	tl_infer *d;
	int l, pos;
	int per;		/* heads per pool item */
	void (*head)(void *ctx, int h);
} att_job;

/* y (n) = a (m) . X (m, n), X row u at X + u*ldx: k->gemv_t over the
 * blocks of KBLK rows at fixed positions of tl_sgemm (sgemm.c), the
 * first stored, the others added. */
#define KBLK 256

static void
gemv_blocks(const tl_kern *k, float *y, const float *a, const float *X,
    long ldx, int m, int n)
{
	int b;

	for (b = 0; b < m; b += KBLK)
		k->gemv_t(y, a + b, X + b * ldx, ldx, m - b < KBLK ? m - b :
		    KBLK, n, b > 0);
}

/* Head h of the current position: out = sum_{u<=pos}
 * softmax_u(q . k_u / sqrt(hs)) v_u, as attention.c computes a row of
 * its blocks: scores over the head size, scaled, softmax, then the
 * values over the positions.  Both products go through gemv_t, whose
 * sums run in the order of tl_sgemm's (the keys are cached transposed
 * for it), and the batched pass's extra terms (keys past pos) have
 * probability zero and add exact zeros: so on paths without FMA the
 * result is the batched one bit for bit. */
static void
att_head(void *ctx, int h)
{
	att_job *j = ctx;
	tl_infer *d = j->d;
	const tl_kern *k = tl_k();
	int hs = d->hs, C = d->C, T = d->T, n = j->pos + 1, u;
	float scale = 1.0f / sqrtf((float)hs);
	const float *q = d->qkv + h * hs;
	const float *kt = d->kt + ((long)j->l * C + h * hs) * d->Tk;
	const float *vc = d->vc + (long)j->l * T * C + h * hs;
	float *a = d->att + (long)h * T, *o = d->ay + h * hs;

	/* a (1, n) = q (1, hs) . K^T, K^T (hs, n) with row stride Tk */
	gemv_blocks(k, a, q, kt, d->Tk, hs, n);
	for (u = 0; u < n; u++)
		a[u] *= scale;
	k->softmax(a, n);
	/* o (1, hs) = a (1, n) . V, V (n, hs) with row stride C */
	gemv_blocks(k, o, a, vc, C, n, hs);
}

/* ---- attention over the 8-bit cache (TL_KV_Q8) ---- */

/* q (n) quantized to round(q[i] * qmax / absmax) into o; returns the
 * scale absmax / qmax (0 for a zero vector, whose values are then
 * zeros) and the sum of o in *sum. */
static float
quant16(int16_t *o, const float *q, int n, int qmax, int32_t *sum)
{
	const tl_kern *k = tl_k();
	float m = k->absmax(q, n), r[TL_MAX_CTX > TL_MAX_DIM ? TL_MAX_CTX :
	    TL_MAX_DIM];
	int32_t t = 0;
	int i;

	/* rounded and clamped by the path's quant kernel, then converted */
	k->quant(r, q, n, m > 0 ? qmax / m : 0, -qmax, qmax);
	for (i = 0; i < n; i++) {
		o[i] = (int16_t)r[i];
		t += o[i];
	}
	*sum = t;
	return m / (float)qmax;
}

/* x (n) by its absmax into o as int8 + 128; returns the scale. */
static float
quant_u8(uint8_t *o, long step, const float *x, int n)
{
	const tl_kern *k = tl_k();
	float m = k->absmax(x, n);
	int8_t v[TL_MAX_DIM];
	int i;

	k->quant_i8(v, x, n, m > 0 ? 127 / m : 0);
	for (i = 0; i < n; i++)
		o[i * step] = (uint8_t)(v[i] + 128);
	return m / 127;
}

/* Positions of values a call of attv_u8 sums: 256 x 32767 x 255 is
 * below 2^31. */
#define VBLK 256

/* Head h of the current position over the 8-bit cache. */
static void
att_head_q8(void *ctx, int h)
{
	att_job *j = ctx;
	tl_infer *d = j->d;
	const tl_kern *k = tl_k();
	int hs = d->hs, C = d->C, H = d->H, T = d->T, n = j->pos + 1;
	int u, b, nb, i;
	float scale = 1.0f / sqrtf((float)hs), gq, gw, m;
	uint8_t *kq = d->kq + (long)j->l * T * C + h * hs;
	uint8_t *vq = d->vq + (long)j->l * ((T + 1) / 2) * 2 * C + 2 * h * hs;
	float *kd = d->kd + (long)j->l * T * H + h;
	float *vd = d->vd + (long)j->l * T * H + h;
	int16_t *q16 = d->q16 + h * hs, *w16 = d->w16 + (long)h * (T + 1);
	int32_t *sc = d->sc + (long)h * T, *acc = d->acc + h * hs, sum;
	float *a = d->att + (long)h * T, *o = d->ay + h * hs;

	/* the head's slice of this position's key and value first: the
	 * head alone reads it */
	kd[(long)j->pos * H] = quant_u8(kq + (long)j->pos * C, 1,
	    d->qkv + C + h * hs, hs);
	vd[(long)j->pos * H] = quant_u8(vq + (long)(j->pos / 2) * 2 * C +
	    j->pos % 2, 2, d->qkv + 2 * C + h * hs, hs);
	gq = quant16(q16, d->qkv + h * hs, hs, d->qmax, &sum) * scale;
	k->scores_u8(sc, kq, C, n, q16, hs);
	for (u = 0; u < n; u++)
		a[u] = (float)(sc[u] - 128 * sum) * (kd[(long)u * H] * gq);
	k->softmax(a, n);
	for (u = 0; u < n; u++)
		a[u] *= vd[(long)u * H];
	gw = quant16(w16, a, n, 32767, &sum);
	w16[n] = 0;	/* the second of an odd last pair */
	for (b = 0; b < n; b += VBLK) {
		nb = n - b < VBLK ? n - b : VBLK;
		for (sum = 0, u = b; u < b + nb; u++)
			sum += w16[u];
		k->attv_u8(acc, vq + (long)(b / 2) * 2 * C, 2L * C, w16 + b,
		    (nb + 1) / 2, hs);
		for (i = 0; i < hs; i++) {
			m = (float)(acc[i] - 128 * sum) * gw;
			o[i] = b > 0 ? o[i] + m : m;
		}
	}
}

/* The heads of pool item it: a run of contiguous heads per thread, so
 * that a thread keeps attending over the same heads, whose cache it
 * wrote, token after token (the pool gives item i to thread i first). */
static void
att_heads(void *ctx, int it)
{
	att_job *j = ctx;
	int h = it * j->per, e = h + j->per < j->d->H ? h + j->per : j->d->H;

	for (; h < e; h++)
		j->head(ctx, h);
}

/* tl_act_row, with relu and relu2 (the default) written without a
 * branch: max(x, 0) by masking the bits of x with x > 0 (0 for NaN, as
 * the comparison there), squared for relu2.  The same values, without
 * a mispredicted branch per element on inputs of random sign. */
static void
act_row(int act, float *y, const float *h, int F)
{
	uint32_t b;
	float m;
	int i;

	if (act != TL_ACT_RELU2 && act != TL_ACT_RELU) {
		tl_act_row(act, y, h, F);
		return;
	}
	for (i = 0; i < F; i++) {
		memcpy(&b, &h[i], 4);
		b &= -(uint32_t)(h[i] > 0);
		memcpy(&m, &b, 4);
		y[i] = act == TL_ACT_RELU2 ? m * m : m;
	}
}

/* ---- the step ---- */

float *
tl_infer_step(tl_infer *d, tl_pool *p, uint16_t token, int pos)
{
	const tl_params *P = &d->P;
	int C = d->C, l, i;
	float *t;
	att_job aj;
	tl_pool *pp;		/* the pool for attention, or NULL */

	if (pos < 0 || pos > d->n || pos >= d->T || token >= d->V)
		return NULL;
	memcpy(d->x, P->wte + (long)token * C, C * sizeof *d->x);
	if (d->c.pos == TL_POS_SIN)
		tl_sinpos_add_row(d->x, pos, C);
	aj.d = d;
	aj.pos = pos;
	pp = 2L * (pos + 1) * C < PAR_MIN ? NULL : p;
	aj.per = (d->H + tl_pool_threads(pp) - 1) / tl_pool_threads(pp);
	for (l = 0; l < d->L; l++) {
		/* attention */
		tl_norm_row(d->c.norm, d->xn, d->x, P->ln1w + l * C,
		    P->ln1b ? P->ln1b + l * C : NULL, C, NULL, NULL);
		lin_forward(d, p, l, TL_LIN_QKV, d->qkv, d->xn);
		if (d->c.pos == TL_POS_ROPE)
			tl_rope_row(d->qkv, d->rope, pos, 2 * C, d->hs, 0);
		aj.l = l;
		if (d->kv == TL_KV_F32) {
			for (i = 0; i < C; i++)
				d->kt[((long)l * C + i) * d->Tk + pos] =
				    d->qkv[C + i];
			memcpy(d->vc + ((long)l * d->T + pos) * C,
			    d->qkv + 2 * C, C * sizeof(float));
		}
		aj.head = d->kv == TL_KV_F32 ? att_head : att_head_q8;
		tl_pool_for(pp, (d->H + aj.per - 1) / aj.per, att_heads, &aj);
		if (P->ln3w)	/* subln: in place, as its values are */
			tl_norm_row(d->c.norm, d->ay, d->ay, P->ln3w + l * C,
			    NULL, C, NULL, NULL);
		lin_forward(d, p, l, TL_LIN_O, d->mid, d->ay);
		for (i = 0; i < C; i++)
			d->mid[i] += d->x[i];
		/* FFN */
		tl_norm_row(d->c.norm, d->xn, d->mid, P->ln2w + l * C,
		    P->ln2b ? P->ln2b + l * C : NULL, C, NULL, NULL);
		lin_forward(d, p, l, TL_LIN_IN, d->h1, d->xn);
		act_row(d->c.act, d->h2, d->h1, d->F);
		if (P->ln4w)
			tl_norm_row(d->c.norm, d->h2, d->h2, P->ln4w +
			    (long)l * d->F, NULL, d->F, NULL, NULL);
		lin_forward(d, p, l, TL_LIN_OUT, d->y, d->h2);
		for (i = 0; i < C; i++)
			d->y[i] += d->mid[i];
		t = d->x, d->x = d->y, d->y = t;
	}
	tl_norm_row(d->c.norm, d->xn, d->x, P->lnfw, P->lnfb, C, NULL, NULL);
	matvec(p, d->logits, P->head, d->xn, d->V, C, 0, 0);
	d->hist[pos] = token;
	d->n = pos + 1;
	return d->logits;
}

float *
tl_infer_push(tl_infer *d, tl_pool *p, uint16_t token, int slide)
{
	int keep = tl_infer_keep(d), i;

	if (token >= d->V)
		return NULL;
	if (d->n == d->T) {
		if (!slide)
			return NULL;
		memmove(d->hist, d->hist + d->T - keep,
		    keep * sizeof *d->hist);
		for (i = 0; i < keep; i++)
			tl_infer_step(d, p, d->hist[i], i);
		d->n = keep;
	}
	return tl_infer_step(d, p, token, d->n);
}
