/*
 * test_mem.c: the memory estimates against the allocations they
 * describe.  This program replaces the C library's malloc family with
 * one that counts the bytes asked for (a program may: glibc's manual,
 * "Replacing malloc"), so that the peak of bytes live while a model
 * makes a forward and backward pass, or a trainer its steps, can be
 * held against tl_model_bytes and tl_trainer_bytes; and it checks the
 * order in which tl_trainer_plan tries its choices.  Under a
 * sanitizer, which brings its own malloc, only the last part runs.
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include "model/model.h"
#include "train/train.h"
#include "unit.h"
#include "util/util.h"

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif

#ifndef SANITIZED
/* Every block is mapped on its own, after a header of HDR bytes that
 * holds its size and keeps the block aligned to 64. */
#define HDR 64

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static size_t live, peak;

void *
malloc(size_t n)
{
	char *p;

	if (n > (size_t)-1 / 2) {
		errno = ENOMEM;
		return NULL;
	}
	p = mmap(NULL, n + HDR, PROT_READ | PROT_WRITE, MAP_PRIVATE |
	    MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		errno = ENOMEM;
		return NULL;
	}
	memcpy(p, &n, sizeof n);
	pthread_mutex_lock(&mu);
	live += n;
	if (live > peak)
		peak = live;
	pthread_mutex_unlock(&mu);
	return p + HDR;
}

void
free(void *q)
{
	char *p = (char *)((uintptr_t)q - HDR);
	size_t n;

	if (q == NULL)
		return;
	memcpy(&n, p, sizeof n);
	pthread_mutex_lock(&mu);
	live -= n;
	pthread_mutex_unlock(&mu);
	munmap(p, n + HDR);
}

void *
calloc(size_t a, size_t b)
{
	if (b != 0 && a > (size_t)-1 / 2 / b) {
		errno = ENOMEM;
		return NULL;
	}
	return malloc(a * b);	/* fresh mappings are zero */
}

void *
realloc(void *q, size_t n)
{
	size_t o;
	void *r;

	if (q == NULL)
		return malloc(n);
	memcpy(&o, (char *)((uintptr_t)q - HDR), sizeof o);
	if ((r = malloc(n)) == NULL)
		return NULL;
	memcpy(r, q, o < n ? o : n);
	free(q);
	return r;
}

int
posix_memalign(void **p, size_t align, size_t n)
{
	if (align > HDR)
		return EINVAL;
	return (*p = malloc(n)) == NULL ? ENOMEM : 0;
}

/* The bytes live now, and the peak from now on. */
static size_t
mark(void)
{
	size_t l;

	pthread_mutex_lock(&mu);
	l = peak = live;
	pthread_mutex_unlock(&mu);
	return l;
}

static size_t
peak_now(void)
{
	size_t p;

	pthread_mutex_lock(&mu);
	p = peak;
	pthread_mutex_unlock(&mu);
	return p;
}

/* The estimate est of a peak of measured bytes: never below it, and
 * above by no more than the attention's bound on its last block of
 * queries (kernels.h) can add. */
#define CHECK_EST(est, measured) do { \
	CHECK((est) >= (measured)); \
	CHECK((est) - (measured) <= (est) / 50 + 16384); \
	if (getenv("TEST_MEM_V") || (est) < (measured) || \
	    (est) - (measured) > (est) / 50 + 16384) \
		fprintf(stderr, "  estimate %zu, measured %zu\n", \
		    (size_t)(est), (size_t)(measured)); \
} while (0)

/* A batch of ids below V. */
static void
fill_ids(uint16_t *a, size_t n, int V)
{
	size_t i;

	for (i = 0; i < n; i++)
		a[i] = (uint16_t)((i * 7 + 3) % V);
}

/* tl_model_new and a forward and backward pass on the calling thread
 * against tl_model_bytes. */
static void
model_bytes(const tl_config *c, int B, int T, int rc)
{
	size_t n = tl_nparams(c), base, est;
	float *par = unit_params(c, 3), *g = calloc(n, sizeof *g);
	uint16_t *in = malloc(2 * (size_t)B * T * sizeof *in);
	tl_model *m;

	fill_ids(in, 2 * (size_t)B * T, c->vocab);
	base = mark();
	est = tl_model_bytes(c, B, T, rc);
	m = tl_model_new(c, B, T, rc, NULL);
	CHECK(m != NULL);
	if (m != NULL) {
		tl_model_prepare(m, par);
		tl_model_forward(m, NULL, par, in, in + (size_t)B * T);
		tl_model_backward(m, NULL, par, g, 1.0f);
		CHECK_EST(est, peak_now() - base);
		tl_model_free(m);
	}
	free(in);
	free(g);
	free(par);
}

/* The weights and moments, tl_trainer_init and two steps against
 * tl_trainer_bytes; with a second thread, its attention products'
 * scratch on top. */
static void
trainer_bytes(const tl_config *c, const tl_hparams *hp0, int micro, int rc,
    int nt)
{
	size_t n = tl_nparams(c), nid = 4000, base, est, more;
	uint16_t *ids = malloc(nid * sizeof *ids);
	tl_hparams hp = *hp0;
	tl_tstate st;
	tl_tmodel tm;
	tl_trainer t;
	tl_pool *p = tl_pool_new(nt);
	char err[TL_ERRLEN];
	float gn;

	fill_ids(ids, nid, c->vocab);
	memset(&st, 0, sizeof st);
	tl_train_seed(&hp, &st, 5);
	base = mark();
	est = tl_trainer_bytes(c, &hp, micro, rc);
	tm.cfg = c;
	tm.hp = &hp;
	tm.st = &st;
	tm.params = unit_params(c, 4);
	tm.m = calloc(n, sizeof(float));
	tm.v = calloc(n, sizeof(float));
	CHECK(tl_trainer_init(&t, tm, p, ids, nid, micro, rc, err) == 0);
	tl_trainer_step(&t, &gn);
	tl_trainer_step(&t, &gn);
	more = nt > 1 ? tl_attention_scratch(c->ctx, c->dim, c->heads) : 0;
	CHECK_EST(est + more, peak_now() - base);
	tl_trainer_free(&t);
	free(tm.params);
	free(tm.m);
	free(tm.v);
	tl_pool_free(p);
	free(ids);
}

static void
measured(void)
{
	static const int var[][4] = {
		{ TL_QUANT_TERNARY, TL_POS_ROPE, TL_NORM_RMS, TL_ACT_RELU2 },
		{ TL_QUANT_FP32, TL_POS_ROPE, TL_NORM_RMS, TL_ACT_RELU2 },
		{ TL_QUANT_TERNARY, TL_POS_SIN, TL_NORM_SUBLN, TL_ACT_SWIGLU },
		{ TL_QUANT_FP32, TL_POS_ROPE, TL_NORM_LAYER, TL_ACT_GELU },
	};
	tl_config c;
	tl_hparams hp;
	int v, rc, B;

	for (v = 0; v < 4; v++)
		for (rc = 0; rc < 2; rc++)
			for (B = 1; B <= 3; B += 2) {
				unit_config(&c, 50, 32, 96, 20);
				unit_variant(&c, var[v][0], var[v][1],
				    var[v][2], var[v][3]);
				model_bytes(&c, B, 20, rc);
				model_bytes(&c, B, 13, rc);
				/* past a block of queries, and GEMM
				 * blocks of many panels */
				unit_config(&c, 300, 64, 256, 72);
				unit_variant(&c, var[v][0], var[v][1],
				    var[v][2], var[v][3]);
				model_bytes(&c, B, 72, rc);
			}
	unit_config(&c, 60, 32, 64, 24);
	tl_hparams_default(&hp, &c);
	hp.batch = 4;
	for (rc = 0; rc < 2; rc++) {
		trainer_bytes(&c, &hp, 0, rc, 1);
		trainer_bytes(&c, &hp, 1, rc, 1);
		trainer_bytes(&c, &hp, 2, rc, 1);
		trainer_bytes(&c, &hp, 2, rc, 2);
	}
}
#else
static void
measured(void)
{
	printf("test_mem: a sanitizer's malloc: allocations not counted\n");
}
#endif

/*
 * tl_trainer_plan on the reference shape (4 x 256, FFN 1024, context
 * 128, batch 8): for a budget of each choice's bytes, the first choice
 * in the order (the largest micro first, no recomputation before
 * recomputation) that fits; the smallest when nothing does; only what
 * --micro and --recompute allow.
 */
static void
plan(void)
{
	enum { NC = 8 };
	static const int mi[NC] = { 8, 8, 4, 4, 2, 2, 1, 1 };
	tl_config c;
	tl_hparams hp;
	tl_memplan p;
	size_t b[NC], extra = 3 << 20, small = (size_t)-1;
	int k, j, first;

	tl_config_default(&c);
	c.layers = 4;
	c.dim = 256;
	c.heads = 4;
	c.ffn = 1024;
	c.ctx = 128;
	c.vocab = 256;
	tl_hparams_default(&hp, &c);
	hp.batch = 8;
	for (k = 0; k < NC; k++) {
		b[k] = tl_trainer_bytes(&c, &hp, mi[k], k % 2);
		CHECK(b[k] > 0);
		small = b[k] < small ? b[k] : small;
	}
	/* recomputing and smaller passes save memory */
	for (k = 0; k < NC; k += 2)
		CHECK(b[k + 1] < b[k]);
	for (k = 0; k + 2 < NC; k++)
		CHECK(b[k + 2] < b[k]);
	for (k = 0; k < NC; k++) {
		for (first = 0; b[first] > b[k]; first++)
			;
		CHECK(tl_trainer_plan(&c, &hp, extra, b[k] + extra, 0, -1,
		    &p) == 0);
		CHECK(p.micro == mi[first] && p.recompute == first % 2);
		CHECK(p.bytes == b[first] + extra);
	}
	CHECK(tl_trainer_plan(&c, &hp, extra, small + extra - 1, 0, -1,
	    &p) == -1);
	CHECK(p.micro == 1 && p.recompute == 1 && p.bytes == small + extra);
	CHECK(tl_trainer_plan(&c, &hp, 0, (size_t)-1 / 2, 4, -1, &p) == 0);
	CHECK(p.micro == 4 && p.recompute == 0);
	CHECK(tl_trainer_plan(&c, &hp, 0, (size_t)-1 / 2, 0, 1, &p) == 0);
	CHECK(p.micro == 8 && p.recompute == 1);
	CHECK(tl_trainer_plan(&c, &hp, 0, b[3], 0, 0, &p) == 0);
	for (j = 0; b[j] > b[3] || j % 2 == 1; j++)
		;
	CHECK(p.micro == mi[j] && p.recompute == 0);
	CHECK(tl_trainer_plan(&c, &hp, 0, (size_t)-1 / 2, 3, -1, &p) == -1);
	CHECK(p.bytes == 0);
}

int
main(void)
{
	char err[TL_ERRLEN];

	if (tl_simd_init(err) < 0) {
		fprintf(stderr, "test_mem: %s\n", err);
		return 1;
	}
	measured();
	plan();
	return unit_done("test_mem");
}
