/*
 * tl-bench: the throughput of every kernel on every SIMD path, on the
 * shapes of a model, against the machine's measured peak for the same
 * instruction mix; and end-to-end training and generation speed.
 *
 * Every figure is a rate over a repetition of calls that lasts at
 * least --time seconds, after a warm-up that also finds how many
 * calls make one; -r repetitions give min, median and max.  The
 * kernels are a table (entries[]): a kernel is one line there.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "formats/formats.h"
#include "kernels/kernels.h"
#include "model/model.h"
#include "peak.h"
#include "train/train.h"
#include "util/util.h"

/* ---- what is measured: rates of repeated calls ---- */

typedef struct {
	double min, med, max;	/* operations (or tokens) per second */
} stats;

static int reps = 5;
static double mintime = 0.05;

static int
cmpd(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Rates of fn(ctx), which does ops operations per call: calls are
 * doubled (the warm-up) until a batch of them lasts mintime, then reps
 * batches of that many calls are timed. */
static stats
measure(void (*fn)(void *), void *ctx, double ops)
{
	double r[64], t0, t;
	long n = 1, i;
	int k;
	stats s;

	for (;;) {
		t0 = tl_now();
		for (i = 0; i < n; i++)
			fn(ctx);
		t = tl_now() - t0;
		if (t >= mintime || n >= 1L << 30)
			break;
		n *= t > 0 && mintime / t < 8 ? 2 : 8;
	}
	for (k = 0; k < reps; k++) {
		t0 = tl_now();
		for (i = 0; i < n; i++)
			fn(ctx);
		t = tl_now() - t0;
		r[k] = ops * n / (t > 1e-9 ? t : 1e-9);
	}
	qsort(r, reps, sizeof r[0], cmpd);
	s.min = r[0];
	s.med = reps % 2 ? r[reps / 2] : (r[reps / 2 - 1] + r[reps / 2]) / 2;
	s.max = r[reps - 1];
	return s;
}

/* ---- the arithmetic peak of each mix, on 1 and on all threads ---- */

#define PEAK_ITERS 200000L

typedef struct {
	tl_pool *pool;
	int mix, threads;
} peakjob;

static void
peak_item(void *ctx, int i)
{
	(void)i;
	tl_peak_run(((peakjob *)ctx)->mix, PEAK_ITERS);
}

static void
peak_call(void *ctx)
{
	peakjob *j = ctx;

	tl_pool_for(j->threads > 1 ? j->pool : NULL, j->threads, peak_item, j);
}

/* ---- the kernels ---- */

typedef struct {
	tl_pool *pool;
	int nthreads;
	tl_config c;
	int B, T, N, C, F1, V, H;
	float *a, *b, *y;	/* GEMM operands */
	float *qkv, *att, *out, *dqkv, *datt;	/* attention */
	float *p, *g, *m, *v;	/* adamw */
	int8_t *q8;
	int nadam;
	tl_model *mod;		/* the model forward */
	float *params;
	uint16_t *ids;
	tl_qmat qm[TL_W_N];	/* the FFN's first layer in each format */
	tl_xq8buf xb;		/* an activation row for them */
	int32_t *s32;
} bench;

/* which peak a kernel is measured against (tl_kern.mix) */
enum { FLOAT = TL_KIND_FLOAT, PROD = TL_KIND_PRODUCT, INT = TL_KIND_INT };

typedef struct {
	const char *name;
	int kind;
	int par;		/* runs on the pool (else one thread) */
	/* the operations of a call, and its shape as text */
	double (*ops)(const bench *b, char *shape, size_t n);
	void (*run)(bench *b);
} entry;

/* The FFN's first layer stands for the model's products: tokens N,
 * width C, F1 rows (the widest layer); its three patterns are those
 * of training (sgemm.c). */
static double
ops_fwd(const bench *b, char *s, size_t n)
{
	snprintf(s, n, "%dx%dx%d", b->N, b->F1, b->C);
	return 2.0 * b->N * b->F1 * b->C;
}

static void
run_sgemm_fwd(bench *b)
{
	/* y (N,F1) = x (N,C) . W^T, W (F1,C) */
	tl_sgemm(b->pool, b->N, b->F1, b->C, b->a, b->C, 1, b->b, 1, b->C,
	    b->y, b->F1, 0);
}

static double
ops_dx(const bench *b, char *s, size_t n)
{
	snprintf(s, n, "%dx%dx%d", b->N, b->C, b->F1);
	return 2.0 * b->N * b->F1 * b->C;
}

static void
run_sgemm_dx(bench *b)
{
	/* dx (N,C) = dy (N,F1) . W (F1,C) */
	tl_sgemm(b->pool, b->N, b->C, b->F1, b->a, b->F1, 1, b->b, b->C, 1,
	    b->y, b->C, 0);
}

static double
ops_dw(const bench *b, char *s, size_t n)
{
	snprintf(s, n, "%dx%dx%d", b->F1, b->C, b->N);
	return 2.0 * b->N * b->F1 * b->C;
}

static void
run_sgemm_dw(bench *b)
{
	/* dW (F1,C) += dy^T . x, dy (N,F1), x (N,C) */
	tl_sgemm(b->pool, b->F1, b->C, b->N, b->a, 1, b->F1, b->b, b->C, 1,
	    b->y, b->C, 1);
}

static void
run_tgemm(bench *b)
{
	/* y (N,F1) = x (N,C) int8 . W^T, W (F1,C) ternary */
	tl_tgemm(b->pool, b->N, b->F1, b->C, b->a, b->C, b->m, b->C, b->y,
	    b->F1);
}

/* Multiply-adds of the causal products, two operations each: a
 * query and a key at or before it, over the head size, per product
 * (two forward, four backward). */
static double
ops_att(const bench *b, char *s, size_t n, int prods)
{
	snprintf(s, n, "B%d T%d C%d H%d", b->B, b->T, b->C, b->H);
	return 2.0 * prods * b->B * (b->T * (b->T + 1.0) / 2) * b->C;
}

static double
ops_attf(const bench *b, char *s, size_t n)
{
	return ops_att(b, s, n, 2);
}

static double
ops_attb(const bench *b, char *s, size_t n)
{
	return ops_att(b, s, n, 4);
}

static void
run_attf(bench *b)
{
	tl_attention_forward(b->pool, b->out, b->att, NULL, b->qkv, b->B,
	    b->T, b->C, b->H, NULL);
}

static void
run_attb(bench *b)
{
	tl_attention_backward(b->pool, b->dqkv, b->datt, b->out, b->qkv,
	    b->att, b->B, b->T, b->C, b->H, NULL);
}

/* Row kernels: nominal operations per element (tl-bench(1)). */
#define ROWOPS(fn, what, len, per) \
static double \
fn(const bench *b, char *s, size_t n) \
{ \
	snprintf(s, n, "%s %d", what, len); \
	return (double)(per) * (len); \
}

ROWOPS(ops_softmax, "V", b->V, 5)
ROWOPS(ops_dot, "n", b->C, 2)
ROWOPS(ops_absmax, "n", b->C, 2)
ROWOPS(ops_quant, "n", b->C, 4)
ROWOPS(ops_abssum, "n", b->F1 * b->C, 2)
ROWOPS(ops_adamw, "n", b->nadam, 16)

static void
run_softmax(bench *b)
{
	tl_k()->softmax(b->y, b->V);
}

static void
run_dot(bench *b)
{
	volatile float s = tl_k()->dot(b->a, b->b, b->C);

	(void)s;
}

static void
run_axpy(bench *b)
{
	tl_k()->axpy(b->y, 1e-7f, b->a, b->C);
}

static void
run_absmax(bench *b)
{
	volatile float s = tl_k()->absmax(b->a, b->C);

	(void)s;
}

static void
run_abssum(bench *b)
{
	volatile double s = tl_k()->abssum(b->b, b->F1 * b->C);

	(void)s;
}

static void
run_quant(bench *b)
{
	tl_k()->quant(b->y, b->a, b->C, 127.0f / 3, -128, 127);
}

static void
run_quant_i8(bench *b)
{
	tl_k()->quant_i8(b->q8, b->a, b->C, 127.0f / 3);
}

static void
run_adamw(bench *b)
{
	tl_k()->adamw(b->p, b->g, b->m, b->v, b->nadam, 1e-9f, 0.9f, 0.95f,
	    1e-8f, 0.1f, 0.5f, 0.5f);
}

/* Inference's products, one token: the FFN's first layer in a packed
 * format times an int8 activation row (exact integer multiply-adds,
 * two operations each), and gemv_t, the attention's probabilities
 * times the values over the context. */
static double
ops_mv(const bench *b, char *s, size_t n)
{
	snprintf(s, n, "%dx%d", b->F1, b->C);
	return 2.0 * b->F1 * b->C;
}

static void
run_tq2(bench *b)
{
	const tl_qmat *m = &b->qm[TL_W_TQ2];

	tl_k()->matvec_tq2(b->s32, m->w, m->ld, m->rows, m->n, &b->xb.x);
}

static void
run_tq1(bench *b)
{
	const tl_qmat *m = &b->qm[TL_W_TQ1];

	tl_k()->matvec_tq1(b->s32, m->w, m->ld, m->rows, m->n, &b->xb.x);
}

static void
run_q8(bench *b)
{
	const tl_qmat *m = &b->qm[TL_W_Q8];

	tl_k()->matvec_q8(b->y, m->w, m->ld, m->d, m->n / TL_QBLOCK, m->rows,
	    m->n, &b->xb.x);
}

static void
run_q4(bench *b)
{
	const tl_qmat *m = &b->qm[TL_W_Q4];

	tl_k()->matvec_q4(b->y, m->w, m->ld, m->d, m->n / TL_QBLOCK, m->rows,
	    m->n, &b->xb.x);
}

static double
ops_gemv(const bench *b, char *s, size_t n)
{
	snprintf(s, n, "%dx%d", b->T, b->C);
	return 2.0 * b->T * b->C;
}

static void
run_gemv(bench *b)
{
	tl_k()->gemv_t(b->y, b->a, b->b, b->C, b->T, b->C, 0);
}

/* A forward pass of the model with targets (norms, activations, the
 * loss included): the products' and the causal attention's
 * multiply-adds, two operations each. */
static double
ops_model(const bench *b, char *s, size_t n)
{
	const tl_config *c = &b->c;
	double C = c->dim;

	snprintf(s, n, "N %d", b->N);
	return 2.0 * b->N * tl_matmul_weights(c) + 2.0 * 2 * c->layers * b->B *
	    (b->T * (b->T + 1.0) / 2) * C;
}

static void
run_model(bench *b)
{
	tl_model_forward(b->mod, b->pool, b->params, b->ids, b->ids);
}

static const entry entries[] = {
	{ "sgemm x.W^T", PROD, 1, ops_fwd, run_sgemm_fwd },
	{ "sgemm dY.W", PROD, 1, ops_dx, run_sgemm_dx },
	{ "sgemm dY^T.X", PROD, 1, ops_dw, run_sgemm_dw },
	{ "tgemm x.W^T", INT, 1, ops_fwd, run_tgemm },
	{ "attention fwd", PROD, 1, ops_attf, run_attf },
	{ "attention bwd", PROD, 1, ops_attb, run_attb },
	{ "model forward", PROD, 1, ops_model, run_model },
	{ "softmax", FLOAT, 0, ops_softmax, run_softmax },
	{ "dot", FLOAT, 0, ops_dot, run_dot },
	{ "axpy", FLOAT, 0, ops_dot, run_axpy },
	{ "absmax", FLOAT, 0, ops_absmax, run_absmax },
	{ "abssum", FLOAT, 0, ops_abssum, run_abssum },
	{ "quant", FLOAT, 0, ops_quant, run_quant },
	{ "quant_i8", FLOAT, 0, ops_quant, run_quant_i8 },
	{ "adamw", FLOAT, 0, ops_adamw, run_adamw },
	{ "tq2 matvec", INT, 0, ops_mv, run_tq2 },
	{ "tq1 matvec", INT, 0, ops_mv, run_tq1 },
	{ "q8 matvec", INT, 0, ops_mv, run_q8 },
	{ "q4 matvec", INT, 0, ops_mv, run_q4 },
	{ "gemv_t", PROD, 0, ops_gemv, run_gemv },
};
#define NENTRY ((int)(sizeof entries / sizeof entries[0]))

static void
call_entry(void *ctx)
{
	void **v = ctx;

	((const entry *)v[1])->run(v[0]);
}

static float *
falloc(size_t n, tl_rng *r, float lo, float hi)
{
	float *x = tl_xmalloc(n * sizeof *x);
	size_t i;

	for (i = 0; i < n; i++)
		x[i] = lo + (hi - lo) * tl_rng_float(r);
	return x;
}

static size_t
max3(size_t a, size_t b, size_t c)
{
	return a > b ? (a > c ? a : c) : (b > c ? b : c);
}

static void
bench_init(bench *b, const tl_config *c, int batch, const float *params,
    tl_pool *pool)
{
	char err[TL_ERRLEN];
	size_t N, C, F1, i, na;
	tl_rng r;

	memset(b, 0, sizeof *b);
	tl_rng_seed(&r, 1);
	b->pool = pool;
	b->c = *c;
	b->B = batch;
	b->T = c->ctx;
	b->N = batch * c->ctx;
	b->C = c->dim;
	b->F1 = tl_ffn_rows(c);
	b->V = c->vocab;
	b->H = c->heads;
	N = b->N, C = b->C, F1 = b->F1;
	b->nadam = 16384;
	b->a = falloc(N * (C > F1 ? C : F1), &r, -1, 1);
	b->b = falloc(max3(F1 * C, N * C, 0), &r, -1, 1);
	b->y = falloc(max3(N * F1, N * C, F1 * C), &r, -1, 1);
	if ((size_t)b->V > max3(N * F1, N * C, F1 * C))
		tl_die(2, "vocabulary %d larger than the products", b->V);
	/* the integer product's operands: int8 values, ternary weights */
	na = N * C;
	for (i = 0; i < na; i++)
		b->a[i] = (float)((int)tl_rng_below(&r, 255) - 127);
	b->q8 = tl_xmalloc(N * (C > F1 ? C : F1));
	b->qkv = falloc(N * 3 * C, &r, -1, 1);
	b->dqkv = falloc(N * 3 * C, &r, -1, 1);
	b->out = falloc(N * C, &r, -1, 1);
	b->att = falloc((size_t)batch * b->H * b->T * b->T, &r, 0, 1);
	b->datt = falloc((size_t)batch * b->H * b->T * b->T, &r, 0, 1);
	b->p = falloc(b->nadam, &r, -1, 1);
	b->g = falloc(b->nadam, &r, -1, 1);
	b->v = falloc(b->nadam, &r, 0, 1);
	/* m: adamw's first moment, and the ternary weights of tgemm */
	b->m = falloc(max3(b->nadam, F1 * C, 0), &r, -1, 1);
	for (i = 0; i < F1 * C; i++)
		b->m[i] = (float)((int)tl_rng_below(&r, 3) - 1);
	for (i = 0; i < (size_t)b->nadam; i++)
		b->m[i] *= 0.01f;
	if ((b->mod = tl_model_new(c, batch, c->ctx, 0, err)) == NULL)
		tl_die(2, "%s", err);
	b->params = (float *)params;
	tl_model_prepare(b->mod, b->params);
	/* the FFN's first layer of block 0 in every packed format */
	{
		tl_params P;

		tl_params_map(&P, (float *)params, c);
		for (i = TL_W_TQ2; i < TL_W_N; i++)
			if (tl_qmat_quant(&b->qm[i], (int)i,
			    tl_scheme_default((int)i), P.w1, (int)F1, (int)C,
			    err) < 0)
				tl_die(1, "%s", err);
		if (tl_xq8buf_init(&b->xb, (int)C, err) < 0)
			tl_die(1, "%s", err);
		tl_xq8_prep(&b->xb, b->qkv, (int)C);
		b->s32 = tl_xcalloc(F1, sizeof *b->s32);
	}
	b->ids = tl_xcalloc(N, sizeof *b->ids);
	for (i = 0; i < N; i++)
		b->ids[i] = (uint16_t)tl_rng_below(&r, c->vocab);
}

static void
bench_free(bench *b)
{
	int i;

	free(b->a);
	free(b->b);
	free(b->y);
	free(b->q8);
	free(b->qkv);
	free(b->dqkv);
	free(b->out);
	free(b->att);
	free(b->datt);
	free(b->p);
	free(b->g);
	free(b->m);
	free(b->v);
	free(b->ids);
	free(b->s32);
	for (i = TL_W_TQ2; i < TL_W_N; i++)
		tl_qmat_free(&b->qm[i]);
	tl_xq8buf_free(&b->xb);
	tl_model_free(b->mod);
}

/* ---- end to end ---- */

typedef struct {
	tl_trainer *tr;
	tl_infer *inf;
	tl_pool *pool;
	int T, V;
	tl_rng r;
} e2ejob;

static void
train_call(void *ctx)
{
	e2ejob *j = ctx;
	float gn;

	tl_trainer_step(j->tr, &gn);
}

/* One sequence of the whole context, from an empty cache. */
static void
gen_call(void *ctx)
{
	e2ejob *j = ctx;
	int t;

	tl_infer_reset(j->inf);
	for (t = 0; t < j->T; t++)
		tl_infer_step(j->inf, j->pool, (uint16_t)tl_rng_below(&j->r,
		    j->V), t);
}

/* ---- results ---- */

typedef struct {
	const char *name;
	int path, threads, mix;	/* mix: -1 when no peak applies */
	char shape[64];
	const char *unit;
	stats s;
	double bytes;		/* generation: bytes read a token, or 0 */
} result;

static result *res;
static int nres, cres;

static result *
add_result(void)
{
	if (nres == cres) {
		cres = cres ? 2 * cres : 64;
		if ((res = realloc(res, cres * sizeof *res)) == NULL)
			tl_die(1, "out of memory");
	}
	memset(&res[nres], 0, sizeof res[0]);
	return &res[nres++];
}

/* peaks[mix][0] on one thread, [1] on all */
static stats peaks[TL_MIX_N][2];
static int havepeak[TL_MIX_N];
/* read bandwidth, bytes/s, on one thread and on all, and the buffer's
 * size */
static stats bw[2];
static size_t bwsize;

/* Median of the scalar path's result of the same name, or 0. */
static double
scalar_med(const result *r)
{
	int i;

	for (i = 0; i < nres; i++)
		if (res[i].path == TL_SIMD_SCALAR &&
		    strcmp(res[i].name, r->name) == 0 &&
		    strcmp(res[i].unit, r->unit) == 0)
			return res[i].s.med;
	return 0;
}

/* A kernel's median against its mix's peak, or generation's against
 * the bandwidth bound: bytes read a token over the read bandwidth. */
static double
peak_pct(const result *r)
{
	const stats *p;

	if (r->bytes > 0)
		return bwsize ? 100 * r->s.med * r->bytes /
		    bw[r->threads > 1].med : 0;
	if (r->mix < 0 || !havepeak[r->mix])
		return 0;
	p = &peaks[r->mix][r->threads > 1];
	return p->med > 0 ? 100 * r->s.med / p->med : 0;
}

static double
loadavg(void)
{
	FILE *f = fopen("/proc/loadavg", "r");
	double l = -1;

	if (f) {
		if (fscanf(f, "%lf", &l) != 1)
			l = -1;
		fclose(f);
	}
	return l;
}

static void
cpu_name(char *buf, size_t n)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[256], *p;

	snprintf(buf, n, "unknown");
	if (f == NULL)
		return;
	while (fgets(line, sizeof line, f))
		if (strncmp(line, "model name", 10) == 0 &&
		    (p = strchr(line, ':')) != NULL) {
			p += 1 + strspn(p + 1, " \t");
			p[strcspn(p, "\n")] = '\0';
			snprintf(buf, n, "%s", p);
			break;
		}
	fclose(f);
}

/* A JSON string (the CPU name is the only one from outside). */
static void
jstr(const char *s)
{
	putchar('"');
	for (; *s; s++)
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	putchar('"');
}

static double
giga(const result *r)
{
	return strcmp(r->unit, "tokens/s") == 0 ? 1 : 1e9;
}

static void
print_json(const char *cpu, const char *model, double l0, double l1,
    int threads)
{
	int i, m, t, first = 1;

	printf("{\"version\":\"%s\",\"cpu\":", TL_VERSION);
	jstr(cpu);
	printf(",\"cpus\":%d,\"threads\":%d,\"reps\":%d,\"time\":%g,"
	    "\"default_path\":\"%s\",\"load\":[%.2f,%.2f],\"model\":",
	    tl_ncpu(), threads, reps, mintime, tl_simd_name(tl_simd_path()),
	    l0, l1);
	jstr(model);
	printf(",\"peak\":[");
	for (m = 0; m < TL_MIX_N; m++)
		for (t = 0; t < 2 && havepeak[m]; t++) {
			if (t == 1 && threads == 1)
				break;
			printf("%s{\"mix\":\"%s\",\"threads\":%d,\"unit\":"
			    "\"GOP/s\",\"min\":%.4g,\"median\":%.4g,"
			    "\"max\":%.4g}", first ? "" : ",", tl_mix_name(m),
			    t ? threads : 1, peaks[m][t].min / 1e9,
			    peaks[m][t].med / 1e9, peaks[m][t].max / 1e9);
			first = 0;
		}
	printf("]");
	if (bwsize)
		printf(",\"read_bandwidth\":[{\"threads\":1,\"unit\":\"GB/s\","
		    "\"min\":%.4g,\"median\":%.4g,\"max\":%.4g},{\"threads\":%d,"
		    "\"unit\":\"GB/s\",\"min\":%.4g,\"median\":%.4g,\"max\":%.4g}]",
		    bw[0].min / 1e9, bw[0].med / 1e9, bw[0].max / 1e9, threads,
		    bw[1].min / 1e9, bw[1].med / 1e9, bw[1].max / 1e9);
	printf(",\"results\":[");
	for (i = 0; i < nres; i++) {
		const result *r = &res[i];
		double sc = scalar_med(r), g = giga(r);

		printf("%s{\"name\":\"%s\",\"path\":\"%s\",\"shape\":",
		    i ? "," : "", r->name, tl_simd_name(r->path));
		jstr(r->shape);
		printf(",\"threads\":%d,\"unit\":\"%s\",\"min\":%.4g,"
		    "\"median\":%.4g,\"max\":%.4g", r->threads, r->unit,
		    r->s.min / g, r->s.med / g, r->s.max / g);
		if (r->mix >= 0 && havepeak[r->mix])
			printf(",\"mix\":\"%s\",\"peak_pct\":%.1f",
			    tl_mix_name(r->mix), peak_pct(r));
		if (r->bytes > 0 && bwsize)
			printf(",\"bytes_per_token\":%.0f,\"bound_pct\":%.1f",
			    r->bytes, peak_pct(r));
		if (sc > 0)
			printf(",\"speedup\":%.2f", r->s.med / sc);
		printf("}");
	}
	printf("]}\n");
}

static void
print_table(const char *cpu, const char *model, double l0, double l1,
    int threads)
{
	int i, m, e2e = 0;

	printf("tl-bench %s: %s, %d CPU%s, %d thread%s; load average %.2f "
	    "at start, %.2f at end\n", TL_VERSION, cpu, tl_ncpu(),
	    tl_ncpu() > 1 ? "s" : "", threads, threads > 1 ? "s" : "", l0, l1);
	printf("%d repetitions of at least %g s after a warm-up: min, median, "
	    "max\nmodel: %s\n", reps, mintime, model);
	for (m = 0; m < TL_MIX_N; m++)
		if (havepeak[m])
			break;
	if (m < TL_MIX_N) {
		printf("\n%-18s %-7s %12s %9s %9s %9s\n", "peak", "", "threads",
		    "min", "median", "max");
		for (m = 0; m < TL_MIX_N; m++) {
			if (!havepeak[m])
				continue;
			printf("%-26s %12d %9.2f %9.2f %9.2f GOP/s\n",
			    tl_mix_name(m), 1, peaks[m][0].min / 1e9,
			    peaks[m][0].med / 1e9, peaks[m][0].max / 1e9);
			if (threads > 1)
				printf("%-26s %12d %9.2f %9.2f %9.2f GOP/s\n",
				    tl_mix_name(m), threads, peaks[m][1].min / 1e9,
				    peaks[m][1].med / 1e9, peaks[m][1].max / 1e9);
		}
	}
	if (bwsize) {
		char name[32];

		snprintf(name, sizeof name, "read, %zu MiB", bwsize >> 20);
		printf("\n%-26s %12d %9.2f %9.2f %9.2f GB/s\n", name, 1,
		    bw[0].min / 1e9, bw[0].med / 1e9, bw[0].max / 1e9);
		if (threads > 1)
			printf("%-26s %12d %9.2f %9.2f %9.2f GB/s\n", "", threads,
			    bw[1].min / 1e9, bw[1].med / 1e9, bw[1].max / 1e9);
	}
	for (i = 0; i < nres; i++) {
		const result *r = &res[i];
		double sc = scalar_med(r), g = giga(r);
		char pct[16] = "-", sp[16] = "-";

		if (i == 0 || (strcmp(r->unit, "tokens/s") == 0) != e2e) {
			e2e = strcmp(r->unit, "tokens/s") == 0;
			printf("\n%-18s %-7s %-16s %3s %9s %9s %9s %-9s %6s %8s\n",
			    e2e ? "end to end" : "kernel", "path", "shape",
			    "thr", "min", "median", "max", "unit",
			    e2e ? "%bound" : "%peak", "speedup");
		}
		if ((r->mix >= 0 && havepeak[r->mix]) ||
		    (r->bytes > 0 && bwsize))
			snprintf(pct, sizeof pct, "%.1f", peak_pct(r));
		if (sc > 0)
			snprintf(sp, sizeof sp, "%.2fx", r->s.med / sc);
		printf("%-18s %-7s %-16s %3d %9.*f %9.*f %9.*f %-9s %6s %8s\n",
		    r->name, tl_simd_name(r->path), r->shape, r->threads,
		    g > 1 ? 3 : 0, r->s.min / g, g > 1 ? 3 : 0, r->s.med / g,
		    g > 1 ? 3 : 0, r->s.max / g, r->unit, pct, sp);
	}
}

/* ---- the command line ---- */

enum { O_E2E = TL_OPT_LONG, O_KERN, O_TIME, O_BATCH, O_VOCAB };

static const tl_opt opts[] = {
	{ 'j', NULL, NULL, NULL, 0, 0 },
	{ 'k', NULL, "name", NULL, 0, 0 },
	{ 'm', NULL, "model", NULL, 0, 0 },
	{ 'p', NULL, "path", NULL, 0, 0 },
	{ 'r', NULL, "reps", NULL, 0, 0 },
	{ 't', NULL, "threads", NULL, 0, 0 },
	{ O_BATCH, "batch", "N", NULL, 0, 0 },
	{ O_E2E, "e2e-only", NULL, NULL, 0, 0 },
	{ O_KERN, "kernels-only", NULL, NULL, 0, 0 },
	{ O_TIME, "time", "S", NULL, 0, 0 },
	{ O_VOCAB, "vocab", "N", NULL, 0, 0 },
	{ 0, NULL, NULL, NULL, 0, 0 }
};
static const tl_cmd cmd = { { opts, tl_shape_opts }, NULL, 0, NULL, NULL, NULL };

/* What the command line asks for. */
typedef struct {
	const char *mpath, *pathlist, *only;
	int json, threads, batch, batchset, shapeset, kern, e2e;
	tl_config c;
} args;

static void
parse_args(args *a, int argc, char **argv)
{
	char err[TL_ERRLEN];
	tl_optparse op;
	int key;

	memset(a, 0, sizeof *a);
	a->batch = 4;
	a->kern = a->e2e = 1;
	/* the reference shape of the speed targets (README) */
	tl_config_default(&a->c);
	a->c.dim = 256;
	a->c.ffn = 1024;
	tl_opt_begin(&op, &cmd, argc, argv);
	while ((key = tl_opt_next(&op)) != -1)
		switch (key) {
		case TL_OPT_SHAPE:
			if (tl_config_opt(&a->c, op.opt->name, op.arg, err) != 0)
				tl_die(2, "%s", err);
			a->shapeset = 1;
			break;
		case 'j':
			a->json = 1;
			break;
		case 'k':
			a->only = op.arg;
			break;
		case 'm':
			a->mpath = op.arg;
			break;
		case 'p':
			a->pathlist = op.arg;
			break;
		case 'r':
			reps = (int)tl_atol(op.arg, op.name, 1, 64);
			break;
		case 't':
			a->threads = (int)tl_atol(op.arg, op.name, 1, 256);
			break;
		case O_BATCH:
			a->batch = (int)tl_atol(op.arg, op.name, 1, 65536);
			a->batchset = 1;
			break;
		case O_E2E:
			a->kern = 0;
			break;
		case O_KERN:
			a->e2e = 0;
			break;
		case O_TIME:
			mintime = tl_atof(op.arg, op.name, 0, 3600);
			break;
		case O_VOCAB:
			a->c.vocab = (uint32_t)tl_atol(op.arg, op.name, 2, 65536);
			a->shapeset = 1;
			break;
		}
	if (!a->kern && !a->e2e)
		tl_die(2, "--e2e-only and --kernels-only exclude each other");
}

/* Paths named by a comma-separated list, or "all": a bit each. */
static unsigned
parse_paths(const char *s)
{
	char err[TL_ERRLEN];
	unsigned set;

	if (tl_simd_parse(s, &set, err) < 0)
		tl_die(2, "-p %s", err);
	return set;
}

/* -p, else the path TL_SIMD forces, else all */
static unsigned
choose_paths(const args *a)
{
	if (a->pathlist)
		return parse_paths(a->pathlist);
	if (getenv("TL_SIMD") && *getenv("TL_SIMD"))
		return 1u << tl_simd_path();
	return parse_paths("all");
}

/* The model measured, as training holds it: the weights -m names, or
 * new ones of the shape the flags give, with zero AdamW moments. */
typedef struct {
	tl_hparams hp;
	tl_tstate st;
	float *params, *mom;
	tl_tmodel tm;
} bmodel;

static void
load_model(args *a, bmodel *bm)
{
	char err[TL_ERRLEN];
	tl_config *c = &a->c;
	tl_ckpt ck;
	size_t n;

	if (a->mpath) {
		if (a->shapeset)
			tl_die(2, "-m %s: the model gives the shape; drop the "
			    "shape flags", a->mpath);
		if (tl_ckpt_load(&ck, a->mpath, TL_CKPT_WEIGHTS, err) < 0)
			tl_die(2, "%s", err);
		*c = ck.cfg;
		bm->hp = ck.hp;
		bm->params = ck.params;
		ck.params = NULL;
		tl_ckpt_free(&ck);
		if (!a->batchset)
			a->batch = (int)bm->hp.batch;
	} else {
		if (tl_config_check(c, err) < 0)
			tl_die(2, "%s", err);
		tl_hparams_default(&bm->hp, c);
		bm->params = tl_xcalloc(tl_nparams(c), sizeof(float));
		tl_params_init(bm->params, c, 1);
	}
	n = tl_nparams(c);
	memset(&bm->st, 0, sizeof bm->st);
	tl_train_seed(&bm->hp, &bm->st, bm->hp.seed);
	bm->hp.batch = (uint32_t)a->batch;
	bm->hp.accum = 1;
	bm->hp.eval_every = 0;
	bm->mom = tl_xcalloc(2 * n, sizeof(float));
	bm->tm.cfg = c;
	bm->tm.hp = &bm->hp;
	bm->tm.st = &bm->st;
	bm->tm.params = bm->params;
	bm->tm.m = bm->mom;
	bm->tm.v = bm->mom + n;
}

/* Does kernel entry i take part (-k)? */
static int
chosen(const args *a, int i)
{
	return !a->only || strstr(entries[i].name, a->only);
}

/* ---- the read bandwidth, on 1 and on all threads ---- */

typedef struct {
	const uint64_t *buf;
	size_t n;		/* words */
	int threads;
	tl_pool *pool;
	volatile uint64_t sink;
} bwjob;

/* Thread i of the job's reads its contiguous part of the buffer. */
static void
bw_item(void *ctx, int i)
{
	bwjob *j = ctx;
	size_t lo = j->n / j->threads * i, hi = j->n / j->threads * (i + 1), k;
	uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;

	for (k = lo; k + 4 <= hi; k += 4) {
		s0 += j->buf[k];
		s1 += j->buf[k + 1];
		s2 += j->buf[k + 2];
		s3 += j->buf[k + 3];
	}
	j->sink += s0 + s1 + s2 + s3;
}

static void
bw_call(void *ctx)
{
	bwjob *j = ctx;

	tl_pool_for(j->threads > 1 ? j->pool : NULL, j->threads, bw_item, j);
}

/* A buffer of 256 MiB, or a quarter of the memory where that is less
 * (16 MiB on a machine of 64 MB), far larger than the caches, read
 * front to back by each thread's part. */
static void
measure_bw(tl_pool *pool, int threads)
{
	long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
	double mem = pages > 0 && psize > 0 ? (double)pages * psize : 0;
	bwjob j;
	uint64_t *buf;
	size_t sz = (size_t)256 << 20;
	int t;

	while (mem > 0 && sz > mem / 4 && sz > (size_t)1 << 20)
		sz /= 2;
	if ((buf = malloc(sz)) == NULL)
		return;
	memset(buf, 1, sz);
	j.buf = buf;
	j.n = sz / sizeof *buf;
	j.pool = pool;
	j.sink = 0;
	for (t = 0; t < 2; t++) {
		j.threads = t ? threads : 1;
		bw[t] = t && threads == 1 ? bw[0] : measure(bw_call, &j,
		    (double)sz);
	}
	bwsize = sz;
	free(buf);
}

/* The peaks of the mixes the chosen paths use, on 1 and all threads. */
static void
measure_peaks(const args *a, unsigned paths, tl_pool *pool, int threads)
{
	unsigned mixes = 0;
	double opi;
	int p, i, m, t;

	for (p = 0; p < TL_SIMD_NPATH && a->kern; p++)
		if (paths >> p & 1)
			for (i = 0; i < NENTRY; i++)
				if (chosen(a, i))
					mixes |= 1u <<
					    tl_k_path(p)->mix[entries[i].kind];
	for (m = 0; m < TL_MIX_N; m++) {
		peakjob pj;

		if (!(mixes >> m & 1) || !tl_mix_supported(m))
			continue;
		pj.pool = pool;
		pj.mix = m;
		opi = tl_peak_run(m, 1);	/* operations per iteration */
		for (t = 0; t < 2; t++) {
			pj.threads = t ? threads : 1;
			if (t && threads == 1)
				peaks[m][1] = peaks[m][0];
			else
				peaks[m][t] = measure(peak_call, &pj,
				    opi * pj.threads * PEAK_ITERS);
		}
		havepeak[m] = 1;
	}
}

/* Every chosen kernel on path p. */
static void
bench_kernels(const args *a, bench *b, int p, int threads)
{
	int i;

	for (i = 0; i < NENTRY; i++) {
		const entry *e = &entries[i];
		result *r;
		void *v[2];
		double ops;

		if (!chosen(a, i))
			continue;
		r = add_result();
		v[0] = b;
		v[1] = (void *)e;
		r->name = e->name;
		r->path = p;
		r->threads = e->par ? threads : 1;
		r->mix = tl_k_path(p)->mix[e->kind];
		r->unit = e->kind == INT ? "GOP/s" : "GFLOP/s";
		ops = e->ops(b, r->shape, sizeof r->shape);
		r->s = measure(call_entry, v, ops);
	}
}

/* A result of end-to-end tokens per second on path p. */
static result *
e2e_result(const char *name, int p, int threads)
{
	result *r = add_result();

	r->name = name;
	r->path = p;
	r->threads = threads;
	r->mix = -1;
	r->unit = "tokens/s";
	return r;
}

/* Generation from q on path p, as result name. */
static void
bench_gen(const tl_qmodel *q, const char *name, tl_pool *pool, int p,
    int threads)
{
	char err[TL_ERRLEN];
	const tl_config *c = &q->cfg;
	e2ejob j;
	result *r;

	memset(&j, 0, sizeof j);
	tl_rng_seed(&j.r, 7);
	if ((j.inf = tl_infer_new(q, TL_KV_Q8, err)) == NULL)
		tl_die(1, "%s", err);
	j.pool = pool;
	j.T = c->ctx;
	j.V = c->vocab;
	r = e2e_result(name, p, threads);
	snprintf(r->shape, sizeof r->shape, "1 x %u", c->ctx);
	r->s = measure(gen_call, &j, c->ctx);
	r->bytes = tl_qmodel_token_bytes(q) + tl_infer_cache_bytes(j.inf);
	tl_infer_free(j.inf);
}

/* Training steps, then generation as tl-gen runs the checkpoint (its
 * linear layers packed in memory as it trained) and packed as tq2
 * (tl-quantize's default: for a ternary model the same computation),
 * on path p. */
static void
bench_e2e(const args *a, const bmodel *bm, tl_pool *pool, int p, int threads)
{
	char err[TL_ERRLEN];
	const tl_config *c = bm->tm.cfg;
	tl_qmodel q;
	int qt, qs;
	e2ejob j;
	tl_trainer tr;
	uint16_t *ids;
	size_t n = 65536 + (size_t)c->ctx, k;
	result *r;

	memset(&j, 0, sizeof j);
	tl_rng_seed(&j.r, 7);
	ids = tl_xmalloc(n * sizeof *ids);
	for (k = 0; k < n; k++)
		ids[k] = (uint16_t)tl_rng_below(&j.r, c->vocab);
	if (tl_trainer_init(&tr, bm->tm, pool, ids, n, 0, 0, err) < 0)
		tl_die(1, "%s", err);
	j.tr = &tr;
	r = e2e_result("train", p, threads);
	snprintf(r->shape, sizeof r->shape, "batch %d x %u", a->batch, c->ctx);
	r->s = measure(train_call, &j, (double)a->batch * c->ctx);
	tl_trainer_free(&tr);
	free(ids);

	tl_qmodel_native(c, &qt, &qs);
	if (tl_qmodel_quant(&q, c, bm->params, qt, qs, err) < 0)
		tl_die(1, "%s", err);
	bench_gen(&q, "generate", pool, p, threads);
	tl_qmodel_free(&q);
	if (tl_qmodel_quant(&q, c, bm->params, TL_W_TQ2,
	    tl_scheme_default(TL_W_TQ2), err) < 0)
		tl_die(1, "%s", err);
	bench_gen(&q, "generate tq2", pool, p, threads);
	tl_qmodel_free(&q);
}

int
main(int argc, char **argv)
{
	char err[TL_ERRLEN], cpu[128], model[160];
	int p, i, threads;
	unsigned paths;
	double l0, l1;
	tl_config *c;
	bmodel bm;
	tl_pool *pool;
	bench b;
	args a;

	parse_args(&a, argc, argv);
	if (tl_simd_init(err) < 0)
		tl_die(2, "%s", err);
	paths = choose_paths(&a);
	load_model(&a, &bm);
	c = &a.c;
	snprintf(model, sizeof model, "%s, %u layers, width %u, %u heads, "
	    "FFN %u, vocabulary %u, context %u, batch %d",
	    tl_quant_names[c->quant], c->layers, c->dim, c->heads, c->ffn,
	    c->vocab, c->ctx, a.batch);
	if ((pool = tl_pool_new(a.threads)) == NULL)
		tl_die(1, "cannot start threads");
	threads = tl_pool_threads(pool);
	cpu_name(cpu, sizeof cpu);
	l0 = loadavg();
	for (i = 0; i < NENTRY && !chosen(&a, i); i++)
		;
	if (i == NENTRY)
		tl_die(2, "-k %s: no such kernel", a.only);
	measure_peaks(&a, paths, pool, threads);
	if (a.e2e)
		measure_bw(pool, threads);
	if (a.kern)
		bench_init(&b, c, a.batch, bm.params, pool);
	for (p = 0; p < TL_SIMD_NPATH; p++) {
		if (!(paths >> p & 1))
			continue;
		tl_simd_set(p);
		if (a.kern)
			bench_kernels(&a, &b, p, threads);
		if (a.e2e)
			bench_e2e(&a, &bm, pool, p, threads);
	}
	l1 = loadavg();
	if (a.json)
		print_json(cpu, model, l0, l1, threads);
	else
		print_table(cpu, model, l0, l1, threads);
	tl_fshut(stdout, "stdout");
	if (a.kern)
		bench_free(&b);
	tl_pool_free(pool);
	free(bm.params);
	free(bm.mom);
	free(res);
	return 0;
}
