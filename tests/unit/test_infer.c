/*
 * test_infer.c: incremental inference against the batched forward
 * (every quantization, position, norm and activation), independence
 * of the thread count, the sliding window, sampling, and tl_eval
 * against a direct computation from the definitions.
 */
#include <string.h>

#include "model/model.h"
#include "tok/tok.h"
#include "unit.h"
#include "util/util.h"

enum { V = 13, T = 12 };

static void
tiny(tl_config *c, int quant, int pos, int norm, int act)
{
	unit_config(c, V, 16, 24, T);
	unit_variant(c, quant, pos, norm, act);
}

static void
randseq(uint16_t *ids, int n, int vocab, uint64_t seed)
{
	tl_rng r;
	int i;

	tl_rng_seed(&r, seed);
	for (i = 0; i < n; i++)
		ids[i] = (uint16_t)tl_rng_below(&r, vocab);
}

/* Logits of every position of ids (T) from tl_infer_step, into out
 * (T, V). */
static int
infer_all(const tl_config *c, const float *p, tl_pool *pool,
    const uint16_t *ids, float *out)
{
	char err[TL_ERRLEN];
	tl_infer *d = unit_infer_new(c, p, err);
	float *lg;
	int t;

	if (d == NULL) {
		fprintf(stderr, "tl_infer_new: %s\n", err);
		return -1;
	}
	for (t = 0; t < T; t++) {
		if ((lg = tl_infer_step(d, pool, ids[t], t)) == NULL) {
			unit_infer_free(d);
			return -1;
		}
		memcpy(out + t * V, lg, V * sizeof *lg);
	}
	unit_infer_free(d);
	return 0;
}

/* On the scalar path every dot product sums in the order of
 * tl_sgemm's, so the logits must be the batched ones bit for bit; on
 * the others they may differ in the order of the fp32 sums only. */
static void
check_forward(int quant, int pos, int norm, int act, tl_pool *p2, int exact)
{
	tl_config c;
	tl_model *m;
	float *p, ref[T * V], got[T * V], got2[T * V];
	uint16_t ids[T];
	double worst = 0;
	int i, same = 1;
	uint64_t seed = 1 + quant * 100 + pos * 20 + norm * 5 + act;

	tiny(&c, quant, pos, norm, act);
	p = unit_params(&c, seed);
	randseq(ids, T, V, seed);
	m = tl_model_new(&c, 1, T, 0, NULL);
	CHECK(m != NULL);
	tl_model_prepare(m, p);
	tl_model_forward(m, NULL, p, ids, NULL);
	memcpy(ref, tl_model_logits(m), sizeof ref);
	CHECK(infer_all(&c, p, NULL, ids, got) == 0);
	CHECK(infer_all(&c, p, p2, ids, got2) == 0);
	for (i = 0; i < T * V; i++) {
		double e = fabs(got[i] - ref[i]) / (1e-5 + 1e-4 * fabs(ref[i]));

		if (e > worst)
			worst = e;
		CHECK_CLOSE(got[i], ref[i], 1e-5, 1e-4);
	}
	CHECK(memcmp(got, got2, sizeof got) == 0);
	for (i = 0; i < T * V; i++)
		same &= got[i] == ref[i];
	if (exact)
		CHECK(same);
	printf("infer %s %s %s %s %s: worst error %.2g of tolerance%s\n",
	    tl_simd_name(tl_simd_path()), tl_quant_names[quant],
	    tl_pos_names[pos], tl_norm_names[norm],
	    tl_act_names[act], worst, same ? " (bit-identical)" : "");
	tl_model_free(m);
	free(p);
}

/* A model large enough that the products and attention are spread
 * over the pool: 1, 2 and 3 threads give the same bits. */
static void
check_threads(int quant, tl_pool *p2, tl_pool *p3)
{
	enum { BT = 160, BV = 300 };
	tl_config c;
	tl_infer *d;
	float *p, *out[3], *lg;
	uint16_t ids[BT];
	tl_pool *pools[3];
	int i, t;

	tiny(&c, quant, TL_POS_ROPE, TL_NORM_RMS, TL_ACT_SWIGLU);
	c.vocab = BV;
	c.layers = 1;
	c.dim = 128;
	c.heads = 4;
	c.ffn = 256;
	c.ctx = BT;
	p = unit_params(&c, 55);
	randseq(ids, BT, BV, 56);
	pools[0] = NULL, pools[1] = p2, pools[2] = p3;
	for (i = 0; i < 3; i++) {
		out[i] = malloc((size_t)BT * BV * sizeof(float));
		d = unit_infer_new(&c, p, NULL);
		CHECK(d != NULL);
		for (t = 0; t < BT; t++) {
			lg = tl_infer_step(d, pools[i], ids[t], t);
			memcpy(out[i] + t * BV, lg, BV * sizeof *lg);
		}
		unit_infer_free(d);
	}
	CHECK(memcmp(out[0], out[1], (size_t)BT * BV * sizeof(float)) == 0);
	CHECK(memcmp(out[0], out[2], (size_t)BT * BV * sizeof(float)) == 0);
	for (i = 0; i < 3; i++)
		free(out[i]);
	free(p);
}

/* A context longer than tl_sgemm's k block (256): still the batched
 * pass bit for bit on the scalar path, within tolerance on the path
 * the CPU picked. */
static void
check_long(int quant)
{
	enum { LT = 300, LV = 7 };
	tl_config c;
	tl_model *m;
	tl_infer *d;
	float *p, *ref, *lg;
	uint16_t ids[LT];
	int t, i, path = tl_simd_path(), exact, same;

	tiny(&c, quant, TL_POS_ROPE, TL_NORM_RMS, TL_ACT_RELU2);
	c.vocab = LV;
	c.layers = 1;
	c.ctx = LT;
	p = unit_params(&c, 91);
	randseq(ids, LT, LV, 92);
	for (exact = 0; exact < 2; exact++) {
		if (exact)
			CHECK(tl_simd_set(TL_SIMD_SCALAR) == 0);
		same = 1;
		m = tl_model_new(&c, 1, LT, 0, NULL);
		d = unit_infer_new(&c, p, NULL);
		CHECK(m != NULL && d != NULL);
		tl_model_prepare(m, p);
		tl_model_forward(m, NULL, p, ids, NULL);
		ref = tl_model_logits(m);
		for (t = 0; t < LT; t++) {
			lg = tl_infer_step(d, NULL, ids[t], t);
			for (i = 0; i < LV; i++) {
				CHECK_CLOSE(lg[i], ref[t * LV + i], 1e-5, 1e-4);
				same &= lg[i] == ref[t * LV + i];
			}
		}
		if (exact)
			CHECK(same);
		unit_infer_free(d);
		tl_model_free(m);
	}
	CHECK(tl_simd_set(path) == 0);
	free(p);
}

/* The int8 cache (TL_KV_Q8) against the batched pass, over a context
 * longer than attv_i8's block of 512 positions, on every path the CPU
 * has: within the rounding of the cache (on these random weights
 * 2-3% of the largest logit; 5% allowed), and the same bits on 1 and 3
 * threads. */
static void
check_q8(int quant, tl_pool *p3)
{
	enum { QT = 600, QV = 11 };
	tl_config c;
	tl_model *m;
	tl_infer *d, *e;
	float *p, *ref, *lg, *lg3;
	uint16_t ids[QT];
	int t, i, k, path = tl_simd_path(), same;
	double worst, big;

	tiny(&c, quant, TL_POS_ROPE, TL_NORM_RMS, TL_ACT_RELU2);
	c.vocab = QV;
	c.layers = 2;
	c.dim = 64;
	c.heads = 2;
	c.ctx = QT;
	p = unit_params(&c, 71);
	randseq(ids, QT, QV, 72);
	unit_kv = TL_KV_Q8;
	for (k = 0; k < TL_SIMD_NPATH; k++) {
		if (tl_simd_set(k) < 0)
			continue;
		m = tl_model_new(&c, 1, QT, 0, NULL);
		d = unit_infer_new(&c, p, NULL);
		e = unit_infer_new(&c, p, NULL);
		CHECK(m != NULL && d != NULL && e != NULL);
		tl_model_prepare(m, p);
		tl_model_forward(m, NULL, p, ids, NULL);
		ref = tl_model_logits(m);
		worst = big = 0;
		same = 1;
		for (t = 0; t < QT; t++) {
			lg = tl_infer_step(d, NULL, ids[t], t);
			lg3 = tl_infer_step(e, p3, ids[t], t);
			same &= memcmp(lg, lg3, QV * sizeof *lg) == 0;
			for (i = 0; i < QV; i++) {
				double r = ref[t * QV + i];

				worst = fabs(lg[i] - r) > worst ?
				    fabs(lg[i] - r) : worst;
				big = fabs(r) > big ? fabs(r) : big;
			}
		}
		printf("infer %s %s, q8 cache: largest logit difference %.3g "
		    "(largest logit %.3g)\n", tl_simd_name(k),
		    tl_quant_names[quant], worst, big);
		CHECK(worst < 0.05 * big);
		CHECK(same);
		unit_infer_free(e);
		unit_infer_free(d);
		tl_model_free(m);
	}
	unit_kv = TL_KV_F32;
	CHECK(tl_simd_set(path) == 0);
	free(p);
}

/* Rewinding, bad arguments, and the sliding window against a fresh
 * decoder fed the window it should see. */
static void
check_cache(void)
{
	tl_config c;
	tl_infer *d, *e;
	float *p, *lg, a[V], b[V];
	uint16_t ids[3 * T];
	int i, keep;

	tiny(&c, TL_QUANT_TERNARY, TL_POS_ROPE, TL_NORM_RMS, TL_ACT_GELU);
	p = unit_params(&c, 77);
	randseq(ids, 3 * T, V, 78);
	d = unit_infer_new(&c, p, NULL);
	e = unit_infer_new(&c, p, NULL);
	CHECK(d != NULL && e != NULL);
	CHECK(tl_infer_ctx(d) == T);
	keep = tl_infer_keep(d);
	CHECK(keep == T / 2);

	CHECK(tl_infer_step(d, NULL, ids[0], 1) == NULL);	/* gap */
	CHECK(tl_infer_step(d, NULL, V, 0) == NULL);		/* bad id */
	for (i = 0; i < 5; i++)
		lg = tl_infer_step(d, NULL, ids[i], i);
	memcpy(a, lg, sizeof a);
	/* step at 2 again with other tokens, then back: same logits */
	tl_infer_step(d, NULL, (ids[2] + 1) % V, 2);
	CHECK(tl_infer_len(d) == 3);
	for (i = 2; i < 5; i++)
		lg = tl_infer_step(d, NULL, ids[i], i);
	CHECK(memcmp(a, lg, sizeof a) == 0);

	/* fill the window: push without slide refuses, with slide the
	 * logits are those of a fresh run on the kept tokens */
	tl_infer_reset(d);
	CHECK(tl_infer_len(d) == 0);
	for (i = 0; i < T; i++)
		CHECK(tl_infer_push(d, NULL, ids[i], 0) != NULL);
	CHECK(tl_infer_len(d) == T);
	CHECK(tl_infer_step(d, NULL, ids[T], T) == NULL);
	CHECK(tl_infer_push(d, NULL, ids[T], 0) == NULL);
	CHECK(tl_infer_len(d) == T);
	for (i = T; i < 3 * T; i++) {
		int j, n;

		lg = tl_infer_push(d, NULL, ids[i], 1);
		CHECK(lg != NULL);
		memcpy(a, lg, sizeof a);
		/* the window now ends at i and starts where the last slide
		 * left it */
		n = tl_infer_len(d);
		tl_infer_reset(e);
		for (j = 0; j < n; j++)
			lg = tl_infer_step(e, NULL, ids[i - n + 1 + j], j);
		memcpy(b, lg, sizeof b);
		CHECK(memcmp(a, b, sizeof a) == 0);
		CHECK(n >= keep + 1 && n <= T);
	}
	unit_infer_free(d);
	unit_infer_free(e);
	free(p);
}

static void
check_sample(void)
{
	tl_sampling s;
	tl_sampler *a, *b;
	tl_rng r;
	float lg[50], pr[4] = { 0.5f, 0.3f, 0.15f, 0.05f }, l4[4];
	int i, j, x, y, diff = 0, hits[4] = { 0 }, n = 40000;

	tl_rng_seed(&r, 5);
	for (j = 0; j < 20; j++) {
		for (i = 0; i < 50; i++)
			lg[i] = 3 * tl_rng_normal(&r);
		tl_sampling_default(&s);
		s.greedy = 1;
		a = tl_sampler_new(50, &s, 1, NULL);
		CHECK(tl_sample(a, lg) == tl_argmax(lg, 50));
		tl_sampler_free(a);
		tl_sampling_default(&s);
		s.temp = 0;
		a = tl_sampler_new(50, &s, 1, NULL);
		CHECK(tl_sample(a, lg) == tl_argmax(lg, 50));
		tl_sampler_free(a);
		tl_sampling_default(&s);
		s.temp = 1.5f;
		s.topk = 1;
		s.topp = 1;
		a = tl_sampler_new(50, &s, j, NULL);
		for (i = 0; i < 10; i++)
			CHECK(tl_sample(a, lg) == tl_argmax(lg, 50));
		tl_sampler_free(a);
	}
	CHECK(tl_argmax((float[]){ 1, 3, 3, 2 }, 4) == 1);

	/* same seed, same draws; another seed differs somewhere */
	tl_sampling_default(&s);
	s.temp = 1;
	for (i = 0; i < 50; i++)
		lg[i] = tl_rng_normal(&r);
	a = tl_sampler_new(50, &s, 42, NULL);
	b = tl_sampler_new(50, &s, 42, NULL);
	for (i = 0; i < 200; i++) {
		x = tl_sample(a, lg);
		y = tl_sample(b, lg);
		CHECK(x == y);
		CHECK(x >= 0 && x < 50);
	}
	tl_sampler_free(b);
	b = tl_sampler_new(50, &s, 43, NULL);
	for (i = 0; i < 200; i++)
		diff += tl_sample(a, lg) != tl_sample(b, lg);
	CHECK(diff > 0);
	tl_sampler_free(a);
	tl_sampler_free(b);

	/* frequencies follow the softmax (temperature 1, no cuts) */
	for (i = 0; i < 4; i++)
		l4[i] = logf(pr[i]) + 2;
	s.temp = 1, s.topk = 0, s.topp = 1;
	a = tl_sampler_new(4, &s, 9, NULL);
	for (i = 0; i < n; i++)
		hits[tl_sample(a, l4)]++;
	for (i = 0; i < 4; i++)
		CHECK_CLOSE((double)hits[i] / n, pr[i], 0.015, 0);
	tl_sampler_free(a);
	/* top-k 2 and top-p 0.7 both keep {0, 1}, in ratio 5:3 */
	for (j = 0; j < 2; j++) {
		memset(hits, 0, sizeof hits);
		s.topk = j == 0 ? 2 : 0;
		s.topp = j == 0 ? 1 : 0.7f;
		a = tl_sampler_new(4, &s, 10 + j, NULL);
		for (i = 0; i < n; i++)
			hits[tl_sample(a, l4)]++;
		CHECK(hits[2] == 0 && hits[3] == 0);
		CHECK_CLOSE((double)hits[0] / n, 0.625, 0.015, 0);
		tl_sampler_free(a);
	}
	/* top-p just above 0.5 needs the second token too */
	s.topk = 0, s.topp = 0.55f;
	a = tl_sampler_new(4, &s, 12, NULL);
	memset(hits, 0, sizeof hits);
	for (i = 0; i < 1000; i++)
		hits[tl_sample(a, l4)]++;
	CHECK(hits[1] > 0 && hits[2] == 0 && hits[3] == 0);
	tl_sampler_free(a);
}

/* Score of one target: context ids[s..i) from the window start s. */
static void
direct(const tl_config *c, const float *p, const uint16_t *ids, size_t i,
    double *loss, int *rank)
{
	tl_infer *d = unit_infer_new(c, p, NULL);
	size_t s = (i - 1) / T * T, u;
	float *lg = NULL;
	double mx, z = 0;
	int j, tgt = ids[i];

	for (u = s; u < i; u++)
		lg = tl_infer_step(d, NULL, ids[u], (int)(u - s));
	mx = lg[tl_argmax(lg, V)];
	for (j = 0; j < V; j++)
		z += exp(lg[j] - mx);
	*loss = log(z) + mx - lg[tgt];
	for (*rank = 0, j = 0; j < V; j++)
		*rank += lg[j] > lg[tgt] || (lg[j] == lg[tgt] && j < tgt);
	unit_infer_free(d);
}

/* tl_eval's scores from an evaluator fed ids in pieces of 1 to 7. */
static int
eval_pieces(tl_model *m, const float *p, const tl_tok *tok,
    const uint16_t *ids, size_t n, size_t lim, tl_evalres *r)
{
	char err[TL_ERRLEN];
	tl_evaler *e = tl_evaler_new(m, NULL, p, tok, lim, err);
	size_t i, k;
	int rc = e == NULL ? -1 : 0;

	for (i = 0; rc == 0 && i < n; i += k) {
		k = 1 + i % 7 < n - i ? 1 + i % 7 : n - i;
		rc = tl_evaler_feed(e, ids + i, k, err);
	}
	if (rc == 0)
		rc = tl_evaler_end(e, r, err);
	tl_evaler_free(e);
	return rc;
}

static void
check_eval(int quant, tl_pool *p2)
{
	enum { N = 41 };
	tl_config c;
	tl_model *m;
	tl_tok tok;
	tl_evalres r, r2;
	float *p;
	uint16_t ids[N];
	char err[TL_ERRLEN];
	double loss[N], sum = 0, t1 = 0, t5 = 0;
	int rank[N], B, lim;
	size_t i;

	tiny(&c, quant, TL_POS_ROPE, TL_NORM_RMS, TL_ACT_SWIGLU);
	p = unit_params(&c, 300 + quant);
	randseq(ids, N, V, 301);
	CHECK(tl_tok_bytes(&tok, err) == 0);
	for (i = 1; i < N; i++)
		direct(&c, p, ids, i, &loss[i], &rank[i]);
	for (B = 1; B <= 3; B++) {
		m = tl_model_new(&c, B, T, 0, err);
		CHECK(m != NULL);
		for (lim = 0; lim <= 17; lim += 17) {
			size_t n = lim ? lim : N - 1;

			if (tl_eval(m, NULL, p, &tok, ids, N, lim, &r, err) < 0) {
				fprintf(stderr, "tl_eval: %s\n", err);
				CHECK(0);
				continue;
			}
			CHECK(tl_eval(m, p2, p, &tok, ids, N, lim, &r2, err) == 0);
			CHECK(memcmp(&r, &r2, sizeof r) == 0);
			CHECK(eval_pieces(m, p, &tok, ids, N, lim, &r2) == 0);
			CHECK(memcmp(&r, &r2, sizeof r) == 0);
			for (sum = t1 = t5 = 0, i = 1; i <= n; i++) {
				sum += loss[i];
				t1 += rank[i] < 1;
				t5 += rank[i] < 5;
			}
			CHECK(r.tokens == n);
			CHECK(r.bytes == n);
			CHECK_CLOSE(r.loss, sum / n, 1e-6, 1e-5);
			CHECK_CLOSE(r.ppl, exp(sum / n), 1e-6, 1e-5);
			CHECK_CLOSE(r.bits_per_byte, sum / n / log(2.0), 1e-6,
			    1e-5);
			/* counts are exact; the ratios only to rounding, as
			 * i386's x87 keeps excess precision */
			CHECK_CLOSE(r.top1, t1 / n, 1e-12, 0);
			CHECK_CLOSE(r.top5, t5 / n, 1e-12, 0);
		}
		/* too short, and an id out of the model's vocabulary */
		CHECK(tl_eval(m, NULL, p, &tok, ids, 1, 0, &r2, err) < 0);
		ids[3] += V;
		CHECK(tl_eval(m, NULL, p, &tok, ids, N, 0, &r2, err) < 0);
		ids[3] -= V;
		tl_model_free(m);
	}
	printf("eval %s: loss %.4f top1 %.3f top5 %.3f over %llu tokens\n",
	    tl_quant_names[quant], r.loss, r.top1, r.top5,
	    (unsigned long long)r.tokens);
	tl_tok_free(&tok);
	free(p);
}

int
main(void)
{
	char err[TL_ERRLEN];
	tl_pool *p2, *p3;
	int q, pos, norm, act, path, exact;

	if (tl_simd_init(err) < 0) {
		fprintf(stderr, "test_infer: %s\n", err);
		return 1;
	}
	p2 = tl_pool_new(2);
	p3 = tl_pool_new(3);
	CHECK(p2 != NULL && p3 != NULL);
	path = tl_simd_path();
	for (exact = 0; exact < 2; exact++) {
		if (exact)
			CHECK(tl_simd_set(TL_SIMD_SCALAR) == 0);
		for (q = 0; q < TL_QUANT_N; q++)
			for (pos = 0; pos < TL_POS_N; pos++)
				for (norm = 0; norm < TL_NORM_N; norm++)
					for (act = 0; act < TL_ACT_N; act++)
						check_forward(q, pos, norm, act,
						    p2, exact);
	}
	CHECK(tl_simd_set(path) == 0);
	for (q = 0; q < TL_QUANT_N; q++) {
		check_threads(q, p2, p3);
		check_long(q);
	}
	for (q = 0; q < TL_QUANT_N; q++)
		check_q8(q, p3);
	check_cache();
	check_sample();
	for (q = 0; q < TL_QUANT_N; q++)
		check_eval(q, p2);
	tl_pool_free(p2);
	tl_pool_free(p3);
	return unit_done("test_infer");
}
