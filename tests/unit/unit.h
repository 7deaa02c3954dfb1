/*
 * unit.h: a tiny harness for the C unit tests of lib/.  Each test
 * program prints one line per failed check and exits 1 if any failed;
 * the bats files in tests/ run them.
 */
#ifndef TL_UNIT_H
#define TL_UNIT_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static int unit_failed;
static int unit_checks;

#define CHECK(cond) do { \
	unit_checks++; \
	if (!(cond)) { \
		unit_failed++; \
		fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, \
		    __LINE__, #cond); \
	} \
} while (0)

/* |a - b| <= atol + rtol * |b| */
#define CHECK_CLOSE(a, b, atol, rtol) do { \
	double ua_ = (a), ub_ = (b); \
	unit_checks++; \
	if (!(fabs(ua_ - ub_) <= (atol) + (rtol) * fabs(ub_))) { \
		unit_failed++; \
		fprintf(stderr, "%s:%d: %s = %.9g, want %s = %.9g\n", \
		    __FILE__, __LINE__, #a, ua_, #b, ub_); \
	} \
} while (0)

/*
 * CHECK(bad == 0) for a count of bad results, that first prints, when
 * there are any, what was wrong: a printf format and its arguments.
 */
#define CHECK_NONE_BAD(bad, ...) do { \
	if ((bad) != 0) \
		fprintf(stderr, __VA_ARGS__); \
	CHECK((bad) == 0); \
} while (0)

static int
unit_done(const char *name)
{
	printf("%s: %d checks, %d failed\n", name, unit_checks, unit_failed);
	return unit_failed ? 1 : 0;
}

/* The whole file at path, malloc'd, its length in *n; NULL if it
 * cannot be opened. */
static inline unsigned char *
unit_slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	unsigned char *s;
	long len;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	s = malloc(len > 0 ? (size_t)len : 1);
	*n = fread(s, 1, len > 0 ? (size_t)len : 0, f);
	fclose(f);
	return s;
}

#endif

#ifdef TL_MODEL_H
/*
 * A small config for the tests: tl_config_default with 2 layers of 2
 * heads, width dim, FFN ffn and context ctx, and vocabulary vocab (0:
 * the default's).
 */
static inline void
unit_config(tl_config *c, int vocab, int dim, int ffn, int ctx)
{
	tl_config_default(c);
	if (vocab > 0)
		c->vocab = vocab;
	c->layers = 2;
	c->dim = dim;
	c->heads = 2;
	c->ffn = ffn;
	c->ctx = ctx;
}

/* A config's variant: quantization, positions, norm and activation. */
static inline void
unit_variant(tl_config *c, int quant, int pos, int norm, int act)
{
	c->quant = quant;
	c->pos = pos;
	c->norm = norm;
	c->act = act;
}

/*
 * Weights for c (the caller frees them): tl_params_init's from seed
 * plus noise N(0, 0.2^2) from seed + 100, so that norms, biases and
 * every weight matter and the ternary quantizer sees a spread of
 * values.
 */
static inline float *
unit_params(const tl_config *c, uint64_t seed)
{
	size_t n = tl_nparams(c), i;
	float *p = malloc(n * sizeof *p);
	tl_rng r;

	tl_params_init(p, c, seed);
	tl_rng_seed(&r, seed + 100);
	for (i = 0; i < n; i++)
		p[i] += 0.2f * tl_rng_normal(&r);
	return p;
}

/* Decoders over a checkpoint's params as tl-gen makes them (the linear
 * layers quantized as the model trained: tl_qmodel_native), each with
 * its quantized model; unit_infer_free frees both (and plain decoders
 * too). */
#define UNIT_NQ 8
static tl_qmodel unit_qm[UNIT_NQ];
static tl_infer *unit_qd[UNIT_NQ];
/* The cache of the decoders unit_infer_new makes: fp32, as the batched
 * pass (a test may change it). */
static int unit_kv = TL_KV_F32;

static inline tl_infer *
unit_infer_new(const tl_config *c, const float *p, char *err)
{
	int k, type, scheme;

	for (k = 0; k < UNIT_NQ && unit_qd[k]; k++)
		;
	if (k == UNIT_NQ)
		return NULL;
	tl_qmodel_native(c, &type, &scheme);
	if (tl_qmodel_quant(&unit_qm[k], c, p, type, scheme, err) < 0)
		return NULL;
	if ((unit_qd[k] = tl_infer_new(&unit_qm[k], unit_kv, err)) == NULL)
		tl_qmodel_free(&unit_qm[k]);
	return unit_qd[k];
}

static inline void
unit_infer_free(tl_infer *d)
{
	int k;

	for (k = 0; k < UNIT_NQ; k++)
		if (d && unit_qd[k] == d) {
			tl_qmodel_free(&unit_qm[k]);
			unit_qd[k] = NULL;
		}
	tl_infer_free(d);
}
#endif

#ifdef TL_TOK_H
#include <string.h>

#define UNIT_BAR 0xffffffffu	/* a document's end in a sequence */

/*
 * The reference learner, the definition written the slow and obvious
 * way (one full scan per merge): tl_tok_learn's rule on the documents
 * of s that end at ends[0..nends) (the last at the text's end), as a
 * sequence where UNIT_BAR stands between documents and pairs with it do
 * not count.  vocab must be <= 2048.
 */
static inline size_t
unit_ref_learn(const unsigned char *s, const size_t *ends, size_t nends,
    uint32_t vocab, uint32_t *merges)
{
	size_t n = ends[nends - 1], m = 0, i, j, e, nm = 0;
	uint32_t *seq = malloc((n + nends + 1) * sizeof(*seq));
	uint32_t *cnt = malloc((size_t)vocab * vocab * sizeof(*cnt));
	uint32_t len[2048];

	for (i = e = 0; i < n; i++) {
		while (e < nends && ends[e] == i) {
			if (m > 0 && seq[m - 1] != UNIT_BAR)
				seq[m++] = UNIT_BAR;
			e++;
		}
		seq[m++] = s[i];
	}
	for (i = 0; i < 256; i++)
		len[i] = 1;
	while (256 + nm < vocab) {
		uint32_t best = 0, bestc = 0, a, b, key;

		memset(cnt, 0, (size_t)vocab * vocab * sizeof(*cnt));
		for (i = 0; i + 1 < m; i++)
			if (seq[i] != UNIT_BAR && seq[i + 1] != UNIT_BAR)
				cnt[seq[i] * vocab + seq[i + 1]]++;
		for (i = 0; i + 1 < m; i++) {
			if (seq[i] == UNIT_BAR || seq[i + 1] == UNIT_BAR)
				continue;
			key = seq[i] * vocab + seq[i + 1];
			if (cnt[key] > bestc &&
			    len[seq[i]] + len[seq[i + 1]] <= TL_TOK_MAXPIECE) {
				best = key;
				bestc = cnt[key];
			}
		}
		if (bestc < 2)
			break;
		a = best / vocab;
		b = best % vocab;
		merges[2 * nm] = a;
		merges[2 * nm + 1] = b;
		len[256 + nm] = len[a] + len[b];
		for (i = j = 0; i < m;) {
			if (i + 1 < m && seq[i] == a && seq[i + 1] == b) {
				seq[j++] = 256 + (uint32_t)nm;
				i += 2;
			} else
				seq[j++] = seq[i++];
		}
		m = j;
		nm++;
	}
	free(seq);
	free(cnt);
	return nm;
}
#endif
