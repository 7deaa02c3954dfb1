/*
 * quant.c: quantization of linear layers into the weight formats of
 * model.h, the row layouts of tkernels_ref.c, int8 activations, the
 * quantized matrix-vector product of inference, and whole models
 * quantized in memory.
 *
 * Every scheme is computed with sums in double in a fixed order, so a
 * quantized model does not depend on the kernel path or the thread
 * count; absmean is tl_ternary_quant itself, the rule of training.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/model.h"
#include "util/util.h"

const char *const tl_wtype_names[TL_W_N] = { "f32", "tq2", "tq1", "q8",
	"q4" };
const char *const tl_scheme_names[TL_QS_N] = { "none", "absmean", "twn",
	"sign", "absmax" };

int
tl_scheme_default(int type)
{
	switch (type) {
	case TL_W_TQ2:
	case TL_W_TQ1:
		return TL_QS_ABSMEAN;
	case TL_W_Q8:
	case TL_W_Q4:
		return TL_QS_ABSMAX;
	default:
		return TL_QS_NONE;
	}
}

int
tl_scheme_ok(int type, int s)
{
	if (type == TL_W_TQ2 || type == TL_W_TQ1)
		return s == TL_QS_ABSMEAN || s == TL_QS_TWN || s == TL_QS_SIGN;
	return type >= 0 && type < TL_W_N && s == tl_scheme_default(type);
}

int
tl_qrow_n(int type, int cols)
{
	switch (type) {
	case TL_W_F32:
		return cols;
	case TL_W_TQ1:
		return (cols + 15) / 16 * 16;
	default:
		return (cols + TL_QBLOCK - 1) / TL_QBLOCK * TL_QBLOCK;
	}
}

long
tl_qrow_bytes(int type, int n)
{
	switch (type) {
	case TL_W_F32:
		return 4L * n;
	case TL_W_TQ2:
		return n / 4;
	case TL_W_TQ1:
		/* 16 bytes per 80 weights, then 4 per 16 */
		return 16L * (n / 80) + (n % 80) / 4;
	case TL_W_Q8:
		return n;
	default:
		return n / 2;
	}
}

/* ---- row layouts (tkernels_ref.c) ---- */

void
tl_tq2_pack(uint8_t *dst, const int8_t *v, int n)
{
	int j;

	memset(dst, 0, n / 4);
	for (j = 0; j < n; j++)
		dst[j / 64 * 16 + j % 16] |= (uint8_t)((v[j] + 1) <<
		    (2 * (j % 64 / 16)));
}

/* k codes (v + 1) as ceil(256 sum c_i 3^(k-1-i) / 3^k). */
static uint8_t
tq1_byte(const int8_t *v, int stride, int k)
{
	unsigned val = 0, p = k == 5 ? 243 : 81;
	int i;

	for (i = 0; i < k; i++)
		val = 3 * val + (unsigned)(v[i * stride] + 1);
	return (uint8_t)((256 * val + p - 1) / p);
}

void
tl_tq1_pack(uint8_t *dst, const int8_t *v, int n)
{
	int g, l, j, g5 = n / 80;

	for (g = 0; g < g5; g++)
		for (l = 0; l < 16; l++)
			dst[16 * g + l] = tq1_byte(v + 80 * g + l, 16, 5);
	for (j = 0; j < (n - 80 * g5) / 4; j++)
		dst[16 * g5 + j] = tq1_byte(v + 80 * g5 + 4 * j, 1, 4);
}

void
tl_q4_pack(uint8_t *dst, const int8_t *v, int n)
{
	int g, l;

	for (g = 0; g < n / 32; g++)
		for (l = 0; l < 16; l++)
			dst[16 * g + l] = (uint8_t)((v[32 * g + l] + 8) |
			    (v[32 * g + 16 + l] + 8) << 4);
}

/* Code i of a tq1 byte (tkernels_ref.c). */
static int
trit(unsigned q, int i)
{
	static const unsigned pow3[5] = { 1, 3, 9, 27, 81 };

	return (int)((((q * pow3[i]) & 255) * 3) >> 8);
}

int
tl_qmat_value(const tl_qmat *m, int r, int j)
{
	const uint8_t *w = (const uint8_t *)m->w + r * m->ld;
	int t, g5 = m->n / 80;

	switch (m->type) {
	case TL_W_TQ2:
		return ((w[j / 64 * 16 + j % 16] >> (2 * (j % 64 / 16))) & 3) -
		    1;
	case TL_W_TQ1:
		t = j - 80 * g5;
		return (j < 80 * g5 ? trit(w[j / 80 * 16 + j % 16], j % 80 / 16) :
		    trit(w[16 * g5 + t / 4], t % 4)) - 1;
	case TL_W_Q8:
		return (int8_t)w[j];
	case TL_W_Q4:
		return ((w[j / 32 * 16 + j % 16] >> (j % 32 / 16 * 4)) & 15) - 8;
	default:
		return 0;
	}
}

int
tl_qmat_row(const tl_qmat *m, int r, int8_t *v)
{
	int j;

	if (m->type == TL_W_F32)
		return -1;
	for (j = 0; j < m->n; j++)
		v[j] = (int8_t)tl_qmat_value(m, r, j);
	return 0;
}

float
tl_qmat_at(const tl_qmat *m, int r, int j)
{
	if (m->type == TL_W_F32)
		return ((const float *)m->w)[(long)r * m->n + j];
	if (m->type == TL_W_TQ2 || m->type == TL_W_TQ1)
		return tl_qmat_value(m, r, j) * m->scale;
	return tl_qmat_value(m, r, j) *
	    m->d[(long)r * (m->n / TL_QBLOCK) + j / TL_QBLOCK];
}

/* ---- quantization ---- */

static double
mean_abs(const float *w, size_t n)
{
	double s = 0;
	size_t i;

	for (i = 0; i < n; i++)
		s += fabsf(w[i]);
	return s / (double)n;
}

/* Ternary values t (n) of w by scheme s; returns the scale. */
static float
ternary(int8_t *t, const float *w, size_t n, int s, char *err)
{
	float *q, sc;
	double mean, delta, sum = 0;
	size_t i, cnt = 0;

	if (s == TL_QS_ABSMEAN) {
		/* the training rule, to the bit */
		if ((q = malloc(n * sizeof *q)) == NULL)
			return tl_err(err, "out of memory"), -1;
		sc = tl_ternary_quant(q, w, n);
		for (i = 0; i < n; i++)
			t[i] = (int8_t)q[i];
		free(q);
		return sc;
	}
	mean = mean_abs(w, n);
	if (s == TL_QS_SIGN) {
		for (i = 0; i < n; i++)
			t[i] = w[i] < 0 ? -1 : 1;
		return mean > 1e-5 ? (float)mean : 1e-5f;
	}
	/* TWN (Li et al. 2016): threshold 0.7 mean|w|, scale the mean
	 * magnitude of the weights above it */
	delta = 0.7 * mean;
	for (i = 0; i < n; i++) {
		if (fabsf(w[i]) > delta) {
			t[i] = w[i] < 0 ? -1 : 1;
			sum += fabsf(w[i]);
			cnt++;
		} else
			t[i] = 0;
	}
	sc = cnt ? (float)(sum / (double)cnt) : 0;
	return sc > 1e-5f ? sc : 1e-5f;
}

void
tl_qmat_free(tl_qmat *m)
{
	free(m->mem);
	m->mem = NULL;
	m->w = NULL;
	m->d = NULL;
}

int
tl_qmat_quant(tl_qmat *m, int type, int scheme, const float *w, int rows,
    int cols, char *err)
{
	size_t nw = (size_t)rows * cols, codes;
	int8_t *v = NULL, *row;
	float *d = NULL, amax, s;
	uint8_t *c;
	int r, j, b, nb, lim;
	void *mem;

	memset(m, 0, sizeof *m);
	if (!tl_scheme_ok(type, scheme))
		return tl_err(err, "format %s cannot use scheme %s",
		    tl_wtype_names[type], tl_scheme_names[scheme]);
	m->type = type;
	m->rows = rows;
	m->cols = cols;
	m->n = tl_qrow_n(type, cols);
	m->ld = tl_qrow_bytes(type, m->n);
	nb = m->n / TL_QBLOCK;
	codes = ((size_t)rows * m->ld + 63) & ~(size_t)63;
	if (posix_memalign(&mem, 64, codes + (type == TL_W_Q8 ||
	    type == TL_W_Q4 ? (size_t)rows * nb * sizeof(float) : 0) + 64))
		return tl_err(err, "out of memory");
	m->mem = mem;
	m->w = c = mem;
	if (type == TL_W_F32) {
		for (r = 0; r < rows; r++)
			memcpy(c + r * m->ld, w + (size_t)r * cols,
			    cols * sizeof *w);
		return 0;
	}
	if ((v = calloc(nw + m->n, 1)) == NULL) {
		tl_qmat_free(m);
		return tl_err(err, "out of memory");
	}
	row = v + nw;
	if (type == TL_W_TQ2 || type == TL_W_TQ1) {
		if ((m->scale = ternary(v, w, nw, scheme, err)) < 0) {
			free(v);
			tl_qmat_free(m);
			return -1;
		}
		for (r = 0; r < rows; r++) {
			memset(row, 0, m->n);
			memcpy(row, v + (size_t)r * cols, cols);
			if (type == TL_W_TQ2)
				tl_tq2_pack(c + r * m->ld, row, m->n);
			else
				tl_tq1_pack(c + r * m->ld, row, m->n);
		}
		free(v);
		return 0;
	}
	/* absmax per block of 64 (the row's padding counts as zeros):
	 * d = max|w| / lim, q = clamp(rint(w / d), -lim, lim) */
	m->d = d = (float *)(void *)(c + codes);
	lim = type == TL_W_Q8 ? 127 : 7;
	for (r = 0; r < rows; r++) {
		const float *wr = w + (size_t)r * cols;

		memset(row, 0, m->n);
		for (b = 0; b < nb; b++) {
			amax = 0;
			for (j = b * TL_QBLOCK; j < (b + 1) * TL_QBLOCK &&
			    j < cols; j++)
				if (fabsf(wr[j]) > amax)
					amax = fabsf(wr[j]);
			d[(size_t)r * nb + b] = s = amax / (float)lim;
			for (j = b * TL_QBLOCK; s > 0 &&
			    j < (b + 1) * TL_QBLOCK && j < cols; j++) {
				float q = rintf(wr[j] / s);

				row[j] = (int8_t)(q < -lim ? -lim : q > lim ?
				    lim : q);
			}
		}
		if (type == TL_W_Q8)
			memcpy(c + r * m->ld, row, m->n);
		else
			tl_q4_pack(c + r * m->ld, row, m->n);
	}
	free(v);
	return 0;
}

/* ---- activations ---- */

int
tl_xq8buf_init(tl_xq8buf *b, int cap, char *err)
{
	size_t n = ((size_t)cap + 63) & ~(size_t)63;

	memset(b, 0, sizeof *b);
	if (posix_memalign(&b->mem, 64, n * 7 / 2 + 64) != 0) {
		b->mem = NULL;
		return tl_err(err, "out of memory");
	}
	b->cap = (int)n;
	b->p = b->mem;
	b->q = (int8_t *)(b->p + n);
	b->bsum = (int32_t *)(void *)(b->q + n);
	return 0;
}

void
tl_xq8buf_free(tl_xq8buf *b)
{
	free(b->mem);
	memset(b, 0, sizeof *b);
}

float
tl_xq8_prep(tl_xq8buf *b, const float *x, int len)
{
	const tl_kern *k = tl_k();
	int n = (len + 63) & ~63, i, j;
	float g = k->absmax(x, len);
	int32_t s, tot = 0;

	/* the quantizer of model.c (job_actquant), as int8 */
	if (g > 0 && 127.0f / g <= 3.4e38f)
		k->quant_i8(b->q, x, len, 127.0f / g);
	else
		memset(b->q, 0, len);
	memset(b->q + len, 0, n - len);
	for (i = 0; i < n; i += 16)
		for (j = 0; j < 8; j++) {
			b->p[i + j] = b->q[i + 2 * j];
			b->p[i + 8 + j] = b->q[i + 2 * j + 1];
		}
	for (i = 0; i < n; i += 64) {
		for (s = 0, j = i; j < i + 64; j++)
			s += b->q[j];
		b->bsum[i / 64] = s;
		tot += s;
	}
	b->x.q = b->q;
	b->x.p = b->p;
	b->x.bsum = b->bsum;
	b->x.sum = tot;
	b->x.n = n;
	return g;
}

/* ---- the packed product ---- */

/* A product is split over the pool into one run of contiguous rows
 * per thread, or QMV_SPLIT runs per thread from QMV_BIG weights on (a
 * multiple of the kernels' 4-row blocks each), which the pool hands
 * each thread first (tl_pool_for): each thread streams its part of the
 * matrix front to back as the hardware prefetchers expect, and keeps
 * it token after token; items of 16 rows claimed in turn by the
 * threads ran the 12 x 768 model at 460 tokens/s on 2 threads against
 * 625 (SSSE3), 540 against 865 (AVX2).  With runs of a quarter, a
 * thread that the host slows down has its last runs taken by the
 * other.  The kernel gets QMV_ROWS rows a call.  Below QMV_PAR weights (FMV_PAR for fp32) a product runs on
 * the calling thread, where handing half of it to another costs more
 * than it saves (about a microsecond, and the data's move between the
 * cores).  On 2 threads, SSSE3, best of 20 contexts: 2^17 (the output
 * layer of the 4-layer width-256 model serial) ran that model at 9112
 * tokens/s, as fast as 1 thread (9103), against 8353 with 2^16 and
 * 8888 with 2^20; the 8-layer width-512 model ran at 2420 tokens/s
 * (1 thread: 1844) with any threshold from 2^16 to 2^19. */
#define QMV_ROWS 64
#define QMV_PAR (1L << 17)
#define QMV_BIG (1L << 19)
#define QMV_SPLIT 4
#define FMV_PAR (1L << 15)

typedef struct {
	const tl_qmat *m;
	const tl_xq8 *x;
	const float *xf;
	float *y, f;
	int per;		/* rows per item */
} qmv_job;

/* Rows r0 .. r0+nr-1 (nr <= QMV_ROWS). */
static void
qmv_block(const qmv_job *j, int r0, int nr)
{
	const tl_qmat *m = j->m;
	const tl_kern *k = tl_k();
	int r, nb = m->n / TL_QBLOCK;
	const uint8_t *w = (const uint8_t *)m->w + (long)r0 * m->ld;
	float *y = j->y + r0;
	int32_t s[QMV_ROWS];

	switch (m->type) {
	case TL_W_TQ2:
	case TL_W_TQ1:
		if (m->type == TL_W_TQ2)
			k->matvec_tq2(s, w, m->ld, nr, m->n, j->x);
		else
			k->matvec_tq1(s, w, m->ld, nr, m->n, j->x);
		for (r = 0; r < nr; r++)
			y[r] = (float)s[r] * j->f;
		break;
	case TL_W_Q8:
	case TL_W_Q4:
		if (m->type == TL_W_Q8)
			k->matvec_q8(y, (const int8_t *)w, m->ld, m->d +
			    (long)r0 * nb, nb, nr, m->n, j->x);
		else
			k->matvec_q4(y, w, m->ld, m->d + (long)r0 * nb, nb, nr,
			    m->n, j->x);
		for (r = 0; r < nr; r++)
			y[r] *= j->f;
		break;
	default:
		for (r = 0; r < nr; r++)
			y[r] = k->dot(j->xf, (const float *)(const void *)
			    (w + r * m->ld), m->cols);
	}
}

static void
qmv_rows(void *ctx, int it)
{
	const qmv_job *j = ctx;
	int r = it * j->per, e = r + j->per < j->m->rows ? r + j->per :
	    j->m->rows;

	for (; r < e; r += QMV_ROWS)
		qmv_block(j, r, e - r < QMV_ROWS ? e - r : QMV_ROWS);
}

void
tl_qmat_mv(tl_pool *p, float *y, const tl_qmat *m, const float *x,
    tl_xq8buf *b)
{
	qmv_job j;
	float g = 0;
	int nt;

	j.m = m;
	j.x = &b->x;
	j.xf = x;
	j.y = y;
	j.f = 0;
	if (m->type != TL_W_F32) {
		g = tl_xq8_prep(b, x, m->cols);
		/* as model.c: s * (g/127), or g/127 after the block scales */
		j.f = m->type == TL_W_TQ2 || m->type == TL_W_TQ1 ?
		    m->scale * (g / 127.0f) : g / 127.0f;
	}
	if ((long)m->rows * m->n < (m->type == TL_W_F32 ? FMV_PAR : QMV_PAR))
		p = NULL;
	/* the pool's items: a run of rows per thread, or QMV_SPLIT for a
	 * large product */
	nt = p ? tl_pool_threads(p) : 1;
	if ((long)m->rows * m->n >= QMV_BIG)
		nt *= QMV_SPLIT;
	j.per = ((m->rows + nt - 1) / nt + 3) / 4 * 4;
	tl_pool_for(p, (m->rows + j.per - 1) / j.per, qmv_rows, &j);
}

/* ---- a quantized model ---- */

uint64_t
tl_qmat_bytes(const tl_qmat *m)
{
	uint64_t b = (uint64_t)m->rows * m->ld;

	if (m->type == TL_W_Q8 || m->type == TL_W_Q4)
		b += 4 * (uint64_t)m->rows * (m->n / TL_QBLOCK);
	return b;
}

void
tl_qmodel_native(const tl_config *c, int *type, int *scheme)
{
	*type = c->quant == TL_QUANT_TERNARY ? TL_W_TQ2 : TL_W_F32;
	*scheme = tl_scheme_default(*type);
}

const tl_qmat *
tl_qmodel_lin(const tl_qmodel *q, int l, int i)
{
	return &q->qm[l * TL_NLIN + i];
}

int
tl_qmodel_quant(tl_qmodel *q, const tl_config *c, const float *params,
    int type, int scheme, char *err)
{
	int L = (int)c->layers, l, i, rows, cols;
	const float *w;

	memset(q, 0, sizeof *q);
	if (tl_config_check(c, err) < 0)
		return -1;
	if (type < 0 || type >= TL_W_N || !tl_scheme_ok(type, scheme))
		return tl_err(err, "bad weight format or scheme");
	q->cfg = *c;
	q->type = type;
	q->scheme = scheme;
	tl_params_map(&q->P, (float *)params, c);
	if ((q->qm = calloc((size_t)L * TL_NLIN, sizeof *q->qm)) == NULL)
		return tl_err(err, "out of memory");
	for (l = 0; l < L; l++)
		for (i = 0; i < TL_NLIN; i++) {
			tl_qmat *m = &q->qm[l * TL_NLIN + i];

			tl_lin_shape(c, i, &rows, &cols);
			w = tl_params_get(&q->P, tl_lin(i)) + (size_t)l * rows *
			    cols;
			if (type == TL_W_F32) {
				/* in place: f32 rows are the weights */
				m->type = type;
				m->rows = rows;
				m->cols = m->n = cols;
				m->ld = tl_qrow_bytes(type, cols);
				m->w = w;
			} else if (tl_qmat_quant(m, type, scheme, w, rows,
			    cols, err) < 0) {
				tl_qmodel_free(q);
				return -1;
			}
		}
	return 0;
}

void
tl_qmodel_free(tl_qmodel *q)
{
	int i;

	if (q->qm)
		for (i = 0; i < (int)q->cfg.layers * TL_NLIN; i++)
			tl_qmat_free(&q->qm[i]);
	free(q->qm);
	q->qm = NULL;
}

void
tl_qmodel_stats(const tl_qmodel *q, tl_packstats *st)
{
	int i, n = (int)q->cfg.layers * TL_NLIN;

	memset(st, 0, sizeof *st);
	for (i = 0; i < n; i++) {
		st->weights += (uint64_t)q->qm[i].rows * q->qm[i].cols;
		st->lbytes += tl_qmat_bytes(&q->qm[i]);
	}
	/* one scale per ternary matrix */
	if (q->type == TL_W_TQ2 || q->type == TL_W_TQ1)
		st->lbytes += 4 * (uint64_t)n;
}

double
tl_qmodel_token_bytes(const tl_qmodel *q)
{
	tl_packstats st;
	double b;
	int k;

	tl_qmodel_stats(q, &st);
	b = (double)st.lbytes;
	for (k = 0; k < TL_NTENSORS; k++) {
		const tl_tensor *t = &tl_tensors[k];

		if (t->kind == TL_T_EMBED)
			b += 4.0 * q->cfg.dim;
		else if (t->kind != TL_T_LINEAR)
			b += 4.0 * (double)tl_tensor_size(t, &q->cfg);
	}
	return b;
}
