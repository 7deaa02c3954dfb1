/*
 * test_pack.c: packed weights and packed models.
 *
 *   - every layout round-trips: values packed into a row come back
 *     (every 5-trit and 4-trit byte of tq1 included), and the
 *     quantizers give what their definitions say;
 *   - every path of every packed kernel gives the reference's bits on
 *     odd sizes, unaligned rows and extreme values, and the reference
 *     gives the plain integer dot product of the decoded weights; so
 *     does gemv_t, or within rounding where it fuses multiply-adds;
 *   - a packed model file round-trips, mapped or read, and a damaged
 *     one is refused with a one-line message;
 *   - the packed forward of a ternary model (tq2, tq1) is the
 *     checkpoint's ternary forward: same logits on the same path, the
 *     same greedy text, for any thread count.
 */
#include <string.h>
#include <unistd.h>

#include "formats/formats.h"
#include "model/model.h"
#include "tok/tok.h"
#include "unit.h"
#include "util/util.h"

/* Quantize params in format type by sch and write them as a packed
 * model, as tl-quantize does. */
static int
pack_write(const char *path, const tl_config *c, const tl_tok *tok,
    const float *p, int type, int sch, tl_packstats *st, char *err)
{
	tl_qmodel q;
	int rc;

	if (tl_qmodel_quant(&q, c, p, type, sch, err) < 0)
		return -1;
	rc = tl_packed_write(path, &q, tok, st, err);
	tl_qmodel_free(&q);
	return rc;
}

static tl_rng rng;

/* ---- layouts ---- */

/*
 * The k trits of x (0 to 3^k - 1), the first the most significant, as
 * -1, 0 or 1 in v[0], v[stride], v[2 * stride], ...
 */
static void
trits(int8_t *v, int stride, int k, int x)
{
	int i;

	for (i = k - 1; i >= 0; i--, x /= 3)
		v[stride * i] = (int8_t)(x % 3 - 1);
}

/* v[0..n) (n <= 80) packed as one tq1 row reads back the same. */
static int
tq1_back(const int8_t *v, int n)
{
	int8_t back[80];
	uint8_t b[16];
	tl_qmat m;

	memset(&m, 0, sizeof m);
	m.type = TL_W_TQ1;
	m.rows = 1;
	tl_tq1_pack(b, v, n);
	m.cols = m.n = n;
	m.ld = (n + 4) / 5;
	m.w = b;
	tl_qmat_row(&m, 0, back);
	return memcmp(v, back, n) == 0;
}

static void
test_tq1_bytes(void)
{
	int8_t v[80];
	int x, ok = 1;

	/* every 5-trit value in byte 0 of a group */
	for (x = 0; x < 243; x++) {
		memset(v, 0, sizeof v);
		trits(v, 16, 5, x);
		ok &= tq1_back(v, 80);
	}
	/* every 4-trit value in a tail byte */
	for (x = 0; x < 81; x++) {
		memset(v, 0, sizeof v);
		trits(v, 1, 4, x);
		ok &= tq1_back(v, 16);
	}
	CHECK(ok);
}

static void
fill_w(float *w, long n, float sd)
{
	long i;

	for (i = 0; i < n; i++)
		w[i] = sd * tl_rng_normal(&rng);
}

/* Quantize a random matrix in every format and scheme and check each
 * value against the definition of its quantizer. */
static void
test_quant_defs(int rows, int cols)
{
	long n = (long)rows * cols, i;
	float *w = malloc(n * sizeof *w), *q = malloc(n * sizeof *q), s;
	int8_t *v = malloc(cols + 80);
	double mean = 0, sum = 0;
	long cnt = 0;
	int type, sch, r, j, bad;
	tl_qmat m;

	fill_w(w, n, 0.05f);
	w[0] = 0;
	for (i = 0; i < n; i++)
		mean += fabsf(w[i]);
	mean /= n;
	for (type = 0; type < TL_W_N; type++)
		for (sch = 0; sch < TL_QS_N; sch++) {
			if (!tl_scheme_ok(type, sch))
				continue;
			CHECK(tl_qmat_quant(&m, type, sch, w, rows, cols,
			    NULL) == 0);
			CHECK(m.rows == rows && m.cols == cols &&
			    m.n == tl_qrow_n(type, cols) && m.n >= cols);
			bad = 0;
			if (type == TL_W_F32) {
				for (r = 0; r < rows; r++)
					for (j = 0; j < cols; j++)
						bad += tl_qmat_at(&m, r, j) !=
						    w[(long)r * cols + j];
				CHECK(bad == 0);
				tl_qmat_free(&m);
				continue;
			}
			if (sch == TL_QS_ABSMEAN) {
				s = tl_ternary_quant(q, w, n);
				CHECK(m.scale == s);
			} else if (sch == TL_QS_SIGN) {
				CHECK_CLOSE(m.scale, mean, 0, 1e-6);
			} else if (sch == TL_QS_TWN) {
				for (sum = 0, cnt = 0, i = 0; i < n; i++)
					if (fabsf(w[i]) > 0.7 * mean)
						sum += fabsf(w[i]), cnt++;
				CHECK_CLOSE(m.scale, sum / cnt, 0, 1e-6);
			}
			for (r = 0; r < rows; r++) {
				const float *wr = w + (long)r * cols;

				CHECK(tl_qmat_row(&m, r, v) == 0);
				for (j = cols; j < m.n; j++)
					bad += v[j] != 0;
				for (j = 0; j < cols; j++) {
					int want;
					float a = fabsf(wr[j]);

					switch (sch) {
					case TL_QS_ABSMEAN:
						want = (int)q[(long)r * cols + j];
						break;
					case TL_QS_SIGN:
						want = wr[j] < 0 ? -1 : 1;
						break;
					case TL_QS_TWN:
						want = a > 0.7 * mean ?
						    (wr[j] < 0 ? -1 : 1) : 0;
						break;
					default: {
						int b = j / 64, k, lim =
						    type == TL_W_Q8 ? 127 : 7;
						float mx = 0, d;

						for (k = 64 * b; k < 64 * b + 64 &&
						    k < cols; k++)
							if (fabsf(wr[k]) > mx)
								mx = fabsf(wr[k]);
						d = mx / lim;
						CHECK(m.d[(long)r * (m.n / 64) + b]
						    == d);
						want = d > 0 ? (int)rintf(wr[j] /
						    d) : 0;
						want = want < -lim ? -lim :
						    want > lim ? lim : want;
						break;
					}
					}
					bad += v[j] != want;
				}
			}
			CHECK(bad == 0);
			tl_qmat_free(&m);
		}
	free(w);
	free(q);
	free(v);
}

/* ---- kernels ---- */

/* Random codes of a layout into a tl_qmat with rows at an odd offset
 * (unaligned), values v (rows, n) kept. */
static uint8_t *
rand_mat(tl_qmat *m, int type, int rows, int cols, int8_t *v, int extreme,
    float **dout)
{
	int r, j, n = tl_qrow_n(type, cols), lo, hi;
	long ld = tl_qrow_bytes(type, n);
	uint8_t *mem = malloc(rows * ld + 16);
	float *d = malloc((size_t)rows * (n / 64 + 1) * sizeof *d);

	memset(m, 0, sizeof *m);
	m->type = type;
	m->rows = rows;
	m->cols = cols;
	m->n = n;
	m->ld = ld;
	m->w = mem + 3;
	m->scale = 0.25f;
	lo = type == TL_W_Q8 ? -127 : type == TL_W_Q4 ? -8 : -1;
	hi = type == TL_W_Q8 ? 127 : type == TL_W_Q4 ? 7 : 1;
	for (r = 0; r < rows; r++) {
		for (j = 0; j < n; j++)
			v[(long)r * n + j] = j >= cols ? 0 : extreme ?
			    (int8_t)(extreme > 0 ? hi : lo) :
			    (int8_t)(lo + (int)tl_rng_below(&rng, hi - lo + 1));
		switch (type) {
		case TL_W_TQ2:
			tl_tq2_pack(mem + 3 + r * ld, v + (long)r * n, n);
			break;
		case TL_W_TQ1:
			tl_tq1_pack(mem + 3 + r * ld, v + (long)r * n, n);
			break;
		case TL_W_Q8:
			memcpy(mem + 3 + r * ld, v + (long)r * n, n);
			break;
		default:
			tl_q4_pack(mem + 3 + r * ld, v + (long)r * n, n);
		}
	}
	for (j = 0; j < rows * (n / 64 + 1); j++)
		d[j] = 0.01f + tl_rng_float(&rng);
	m->d = d;
	*dout = d;
	return mem;
}

/* One kernel of one path on one shape against the reference and
 * against the plain sum of the decoded values. */
static void
kern_case(int path, int type, int rows, int cols, int extreme)
{
	const tl_kern *k = tl_k_path(path), *rf = &tl_kern_ref;
	tl_qmat m;
	tl_xq8buf xb;
	float *x = malloc(cols * sizeof *x), *d, *y1, *y2;
	int32_t *s1, *s2;
	int n = tl_qrow_n(type, cols), r, j, bad = 0;
	int8_t *v = malloc((size_t)rows * n);
	uint8_t *mem;

	for (j = 0; j < cols; j++)
		x[j] = extreme ? (extreme > 0 ? 1.0f : -1.0f) :
		    tl_rng_normal(&rng);
	if (cols > 2 && !extreme)
		x[cols / 2] = 4;	/* the absmax: one 127 */
	CHECK(tl_xq8buf_init(&xb, cols, NULL) == 0);
	mem = rand_mat(&m, type, rows, cols, v, extreme, &d);
	tl_xq8_prep(&xb, x, cols);
	s1 = malloc(rows * sizeof *s1);
	s2 = malloc(rows * sizeof *s2);
	y1 = malloc(rows * sizeof *y1);
	y2 = malloc(rows * sizeof *y2);
	if (type == TL_W_TQ2 || type == TL_W_TQ1) {
		if (type == TL_W_TQ2) {
			k->matvec_tq2(s1, m.w, m.ld, rows, n, &xb.x);
			rf->matvec_tq2(s2, m.w, m.ld, rows, n, &xb.x);
		} else {
			k->matvec_tq1(s1, m.w, m.ld, rows, n, &xb.x);
			rf->matvec_tq1(s2, m.w, m.ld, rows, n, &xb.x);
		}
		for (r = 0; r < rows; r++) {
			int32_t want = 0;

			for (j = 0; j < n; j++)
				want += v[(long)r * n + j] * xb.x.q[j];
			bad += s1[r] != s2[r] || s2[r] != want;
		}
	} else {
		if (type == TL_W_Q8) {
			k->matvec_q8(y1, m.w, m.ld, d, n / 64, rows, n, &xb.x);
			rf->matvec_q8(y2, m.w, m.ld, d, n / 64, rows, n, &xb.x);
		} else {
			k->matvec_q4(y1, m.w, m.ld, d, n / 64, rows, n, &xb.x);
			rf->matvec_q4(y2, m.w, m.ld, d, n / 64, rows, n, &xb.x);
		}
		for (r = 0; r < rows; r++) {
			float want = 0;
			int b;

			for (b = 0; b < n / 64; b++) {
				int32_t t = 0;

				for (j = 64 * b; j < 64 * b + 64; j++)
					t += v[(long)r * n + j] * xb.x.q[j];
				want += d[r * (n / 64) + b] * (float)t;
			}
			bad += memcmp(&y1[r], &y2[r], sizeof(float)) != 0 ||
			    y2[r] != want;
		}
	}
	if (bad)
		fprintf(stderr, "%s %s rows %d cols %d extreme %d: %d rows "
		    "differ\n", tl_simd_name(path), tl_wtype_names[type], rows,
		    cols, extreme, bad);
	CHECK(bad == 0);
	free(mem);
	free(d);
	free(v);
	free(x);
	free(s1);
	free(s2);
	free(y1);
	free(y2);
	tl_xq8buf_free(&xb);
}

static void
test_kernels(void)
{
	static const int cols[] = { 1, 15, 16, 17, 63, 64, 65, 80, 96, 100,
		160, 255, 256, 320, 1376, 4100 };
	static const int rows[] = { 1, 3, 4, 5, 9, 17 };
	int p, t, i, j, e;

	for (p = 0; p < TL_SIMD_NPATH; p++) {
		if (!tl_simd_supported(p))
			continue;
		for (t = TL_W_TQ2; t < TL_W_N; t++) {
			for (i = 0; i < (int)(sizeof cols / sizeof *cols); i++)
				for (j = 0; j < (int)(sizeof rows /
				    sizeof *rows); j++)
					kern_case(p, t, rows[j], cols[i], 0);
			/* the largest sums: every weight and input at an
			 * end of its range, over the longest row */
			for (e = -1; e <= 1; e += 2) {
				kern_case(p, t, 5, 2 * TL_MAX_FFN, e);
				kern_case(p, t, 4, 1024, e);
			}
		}
	}
}

/* gemv_t on every path: the reference's bits without FMA (x86-64,
 * whose scalar floats are single precision), within rounding with it;
 * the blocks of acc = 1 add to what is there. */
static void
test_gemv_t(void)
{
	static const int ms[] = { 1, 3, 64, 100, 256 };
	static const int ns[] = { 1, 3, 4, 15, 16, 17, 33, 64, 65, 130, 300 };
	float *a = malloc(300 * sizeof *a), *X = malloc(300 * 310 * sizeof *X);
	float y1[300], y2[300];
	int p, i, j, k, acc, bad, exact;

	for (i = 0; i < 300; i++)
		a[i] = tl_rng_normal(&rng);
	for (i = 0; i < 300 * 310; i++)
		X[i] = tl_rng_normal(&rng);
	for (p = 0; p < TL_SIMD_NPATH; p++) {
		if (!tl_simd_supported(p))
			continue;
		exact = p != TL_SIMD_AVX2 && sizeof(void *) == 8;
		for (i = 0; i < 5; i++)
			for (j = 0; j < 11; j++)
				for (acc = 0; acc < 2; acc++) {
					int m = ms[i], n = ns[j];

					for (k = 0; k < n; k++)
						y1[k] = y2[k] = (float)k;
					tl_k_path(p)->gemv_t(y1, a, X + 1, 310, m,
					    n, acc);
					tl_kern_ref.gemv_t(y2, a, X + 1, 310, m, n,
					    acc);
					for (bad = 0, k = 0; k < n; k++) {
						double mag = acc ? k : 0;
						int u;

						for (u = 0; u < m; u++)
							mag += fabs(a[u] *
							    X[1 + u * 310 + k]);
						bad += exact ? memcmp(&y1[k],
						    &y2[k], 4) != 0 :
						    fabs(y1[k] - y2[k]) > 1e-5 * mag;
					}
					if (bad)
						fprintf(stderr, "gemv_t %s m %d "
						    "n %d acc %d: %d differ\n",
						    tl_simd_name(p), m, n, acc,
						    bad);
					CHECK(bad == 0);
				}
	}
	free(a);
	free(X);
}

/* The 8-bit cache's scores_u8 and attv_u8 on every path: the
 * reference's bits, at lengths with and without a tail, for 1 to 9
 * positions, and at the extremes that the decoder's bounds allow
 * (hs * 255 * qmax, and 256 positions of 255 * 32767, below 2^31). */
static void
test_cache_kernels(void)
{
	static const int ns[] = { 1, 2, 8, 15, 16, 17, 32, 48, 64, 66, 128,
		4096 };
	static const int nps[] = { 1, 2, 7, 64, 128 };
	enum { LD = 4096 * 2 + 6 };
	uint8_t *k = malloc(LD * 128);
	int16_t *q = malloc(4096 * sizeof *q), *w = malloc(256 * sizeof *w);
	int32_t o1[4096], o2[4096];
	int p, i, j, e, n, np, qmax, bad;

	for (e = 0; e < 2; e++) {
		for (i = 0; i < LD * 128; i++)
			k[i] = (uint8_t)(e ? 255 : tl_rng_below(&rng, 256));
		for (i = 0; i < 256; i++)
			w[i] = (int16_t)(e ? 32767 : tl_rng_below(&rng, 32768));
		for (p = 0; p < TL_SIMD_NPATH; p++) {
			if (!tl_simd_supported(p))
				continue;
			for (i = 0; i < 12; i++) {
				n = ns[i];
				qmax = 0x7fffffff / (255 * n) < 32767 ?
				    0x7fffffff / (255 * n) : 32767;
				for (j = 0; j < n; j++)
					q[j] = (int16_t)(e ? (j % 2 ? -qmax :
					    qmax) : (int)tl_rng_below(&rng,
					    2 * qmax + 1) - qmax);
				for (np = 1; np <= 9; np++) {
					tl_k_path(p)->scores_u8(o1, k + 3, LD,
					    np, q, n);
					tl_kern_ref.scores_u8(o2, k + 3, LD, np,
					    q, n);
					CHECK(memcmp(o1, o2, np * sizeof *o1) ==
					    0);
				}
				for (j = 0; j < 5; j++) {
					np = nps[j];
					if (n > 128 && np > 7)
						continue;
					tl_k_path(p)->attv_u8(o1, k + 1, LD, w,
					    np, n);
					tl_kern_ref.attv_u8(o2, k + 1, LD, w, np,
					    n);
					bad = memcmp(o1, o2, n * sizeof *o1);
					if (bad)
						fprintf(stderr, "attv_u8 %s n %d "
						    "np %d differs\n",
						    tl_simd_name(p), n, np);
					CHECK(bad == 0);
				}
			}
		}
	}
	free(k);
	free(q);
	free(w);
}

/* ---- model files ---- */

static void
tiny(tl_config *c, int V, int quant, int pos, int norm, int act)
{
	unit_config(c, V, 16, 24, 24);
	unit_variant(c, quant, pos, norm, act);
}

static char path[4096];

static int
one_line(const char *e)
{
	return e[0] != '\0' && strchr(e, '\n') == NULL;
}

/* Write, reopen (mapped and read) and compare every tensor. */
static void
test_file_roundtrip(int type, int sch, int norm)
{
	tl_config c;
	tl_tok tok;
	tl_packed *pk[2];
	tl_packstats st, st2;
	tl_params P;
	tl_qmat ref;
	float *p;
	char err[TL_ERRLEN];
	int i, l, k, r, rows, cols, bad = 0;

	tiny(&c, 256, TL_QUANT_TERNARY, TL_POS_ROPE, norm, TL_ACT_SWIGLU);
	c.ffn = 40;
	p = unit_params(&c, 7);
	tl_params_map(&P, p, &c);
	CHECK(tl_tok_bytes(&tok, NULL) == 0);
	CHECK(pack_write(path, &c, &tok, p, type, sch, &st, err) == 0);
	for (k = 0; k < 2; k++) {
		pk[k] = tl_packed_open(path, k ? TL_PACKED_READ : 0, err);
		CHECK(pk[k] != NULL);
		if (pk[k] == NULL) {
			fprintf(stderr, "%s\n", err);
			continue;
		}
		CHECK(memcmp(&tl_packed_model(pk[k])->cfg, &c, sizeof c) == 0);
		CHECK(tl_tok_equal(tl_packed_tok(pk[k]), &tok));
		CHECK(tl_packed_model(pk[k])->type == type);
		CHECK(tl_packed_model(pk[k])->scheme == sch);
		tl_packed_stats(pk[k], &st2);
		CHECK(memcmp(&st, &st2, sizeof st) == 0);
		CHECK(memcmp(tl_packed_model(pk[k])->P.wte, P.wte,
		    c.vocab * c.dim * sizeof(float)) == 0);
		CHECK(memcmp(tl_packed_model(pk[k])->P.head, P.head,
		    c.vocab * c.dim * sizeof(float)) == 0);
		CHECK(memcmp(tl_packed_model(pk[k])->P.ln2w, P.ln2w,
		    c.layers * c.dim * sizeof(float)) == 0);
		CHECK((tl_packed_model(pk[k])->P.ln1b != NULL) ==
		    (norm == TL_NORM_LAYER));
		CHECK(tl_packed_model(pk[k])->P.wqkv == NULL);
		for (l = 0; l < (int)c.layers; l++)
			for (i = 0; i < 4; i++) {
				const tl_qmat *m = tl_qmodel_lin(tl_packed_model(pk[k]), l, i);
				const float *w = i == 0 ? P.wqkv : i == 1 ?
				    P.wo : i == 2 ? P.w1 : P.w2;

				rows = i == 0 ? 48 : i == 2 ? 80 : 16;
				cols = i == 3 ? 40 : 16;
				CHECK(m->rows == rows && m->cols == cols);
				tl_qmat_quant(&ref, type, sch, w +
				    (long)l * rows * cols, rows, cols, NULL);
				CHECK(ref.scale == m->scale);
				for (r = 0; r < rows; r++)
					bad += memcmp((const char *)ref.w +
					    r * ref.ld, (const char *)m->w +
					    r * m->ld, m->ld) != 0;
				if (ref.d)
					bad += memcmp(ref.d, m->d, rows *
					    (m->n / 64) * sizeof(float)) != 0;
				tl_qmat_free(&ref);
			}
	}
	CHECK(bad == 0);
	CHECK(pk[0] == NULL || tl_packed_mapped(pk[0]));
	CHECK(pk[1] == NULL || !tl_packed_mapped(pk[1]));
	tl_packed_close(pk[0]);
	tl_packed_close(pk[1]);
	tl_tok_free(&tok);
	free(p);
}

static unsigned char *
slurp(const char *f, long *n)
{
	FILE *fp = fopen(f, "rb");
	unsigned char *b;

	fseek(fp, 0, SEEK_END);
	*n = ftell(fp);
	rewind(fp);
	b = malloc(*n);
	CHECK(fread(b, 1, *n, fp) == (size_t)*n);
	fclose(fp);
	return b;
}

static void
spit(const char *f, const unsigned char *b, long n)
{
	FILE *fp = fopen(f, "wb");

	CHECK(fwrite(b, 1, n, fp) == (size_t)n);
	fclose(fp);
}

/* Open must fail with a one-line message containing want. */
static void
refused(const char *want)
{
	char err[TL_ERRLEN] = "";
	tl_packed *pk = tl_packed_open(path, 0, err);

	CHECK(pk == NULL);
	CHECK(one_line(err));
	if (strstr(err, want) == NULL) {
		fprintf(stderr, "message '%s' lacks '%s'\n", err, want);
		CHECK(0);
	}
	tl_packed_close(pk);
}

/*
 * The file good (n bytes) with the 32-bit field at off set to v, in b,
 * must be refused with a message containing want.
 */
static void
field_refused(const unsigned char *good, unsigned char *b, long n, long off,
    uint32_t v, const char *want)
{
	memcpy(b, good, n);
	tl_put_u32(b + off, v);
	spit(path, b, n);
	refused(want);
}

/*
 * Weights for c from seed (the caller frees them), packed as type
 * (absmean scales) with the byte tokenizer, tok, into path.
 */
static float *
pack_bytes(const tl_config *c, tl_tok *tok, uint64_t seed, int type,
    char *err)
{
	float *p = unit_params(c, seed);

	CHECK(tl_tok_bytes(tok, NULL) == 0);
	CHECK(pack_write(path, c, tok, p, type, TL_QS_ABSMEAN, NULL, err) == 0);
	return p;
}

/* Damage a good file in every way the reader checks. */
static void
test_file_damage(void)
{
	tl_config c;
	tl_tok tok;
	float *p;
	unsigned char *good, *b;
	long n, i;
	uint32_t crc;
	int bad = 0;
	char err[TL_ERRLEN];

	tiny(&c, 256, TL_QUANT_TERNARY, TL_POS_ROPE, TL_NORM_RMS,
	    TL_ACT_RELU2);
	c.dim = 20;
	c.heads = 2;
	p = pack_bytes(&c, &tok, 9, TL_W_TQ2, NULL);
	good = slurp(path, &n);
	b = malloc(n + 1);

	memcpy(b, good, n);
	b[0] = 'X';
	spit(path, b, n);
	refused("bad magic");
	spit(path, good, 5);
	refused("bad magic");
	spit(path, good, 40);
	refused("truncated");
	spit(path, good, n - 1);
	refused("truncated");
	memcpy(b, good, n);
	b[n] = 0;
	spit(path, b, n + 1);
	refused("does not match its header");
	field_refused(good, b, n, 8, 2,
	    "version 2, this program reads version 1");
	/* dim 0 */
	field_refused(good, b, n, 12 + 4 * 2, 0, "bad configuration");
	/* format */
	field_refused(good, b, n, 52, 9, "unknown weight format");
	/* not a ternary scheme */
	field_refused(good, b, n, 56, TL_QS_ABSMAX, "scheme");
	field_refused(good, b, n, 60, 32, "block size");
	/* toklen */
	field_refused(good, b, n, 64, 0xffffffffu, "tokenizer length");
	/* a flip anywhere past the header: the checksum, or the size */
	for (i = 72; i < n; i += n / 37 + 1) {
		char e2[TL_ERRLEN] = "";
		tl_packed *pk;

		memcpy(b, good, n);
		b[i] ^= 0x10;
		spit(path, b, n);
		pk = tl_packed_open(path, 0, e2);
		bad += pk != NULL || !one_line(e2);
		tl_packed_close(pk);
	}
	CHECK(bad == 0);
	/* consistent checksum, inconsistent contents */
#define RECRC() do { \
	crc = tl_crc32(0, b, n - 4); \
	tl_put_u32(b + n - 4, crc); \
	spit(path, b, n); \
} while (0)
	memcpy(b, good, n);
	b[n - 5] = 0xff;		/* the last codes byte: code 3 */
	RECRC();
	refused("bad weights");
	memcpy(b, good, n);
	/* the last byte of codes holds weights 15, 31, 47 and 63 of the
	 * last row of 24 weights: a padding weight of +1 */
	b[n - 5] = 0x96;
	RECRC();
	refused("bad weights");
	memcpy(b, good, n);
	b[72 + 8 + 3] = 1;		/* padding after the tokenizer */
	RECRC();
	refused("nonzero padding");
	memcpy(b, good, n);
	b[72 + 4] = 9;			/* tokenizer vocabulary */
	RECRC();
	refused("tokenizer");
	/* a scale of zero */
	{
		long off = 72 + 8, L = 2, C = 20, V = 256;

		off = (off + 63) / 64 * 64 + 4 * V * C;	/* after wte */
		off = (off + 63) / 64 * 64 + 4 * L * C;	/* ln1w */
		off = (off + 63) / 64 * 64 + 4 * L * C;	/* ln2w */
		off = (off + 63) / 64 * 64 + 4 * C;	/* lnfw */
		off = (off + 63) / 64 * 64 + 4 * V * C;	/* head */
		off = (off + 63) / 64 * 64;		/* scales */
		memcpy(b, good, n);
		CHECK(tl_get_f32(b + off) > 0);
		tl_put_f32(b + off, 0);
		RECRC();
		refused("bad weights or scales");
	}
	/* and the good file still opens */
	spit(path, good, n);
	{
		tl_packed *pk = tl_packed_open(path, 0, err);

		CHECK(pk != NULL);
		tl_packed_close(pk);
	}
	free(good);
	free(b);
	free(p);
	tl_tok_free(&tok);
}

/* ---- the packed forward ---- */

/* Logits of ids through a checkpoint decoder and a packed one of the
 * same model with a cache of kind kv, on the current path: the same
 * bits. */
static void
test_forward(int type, int pos, int norm, int act, int kv, tl_pool *pool)
{
	enum { T = 24 };
	tl_config c;
	tl_tok tok;
	tl_packed *pk;
	tl_infer *a, *b;
	float *p, *la, *lb;
	uint16_t ids[T];
	char err[TL_ERRLEN];
	int t, i, same = 1;
	double worst = 0;

	tiny(&c, 256, TL_QUANT_TERNARY, pos, norm, act);
	p = unit_params(&c, 11 + pos + 2 * norm + 4 * act);
	CHECK(tl_tok_bytes(&tok, NULL) == 0);
	CHECK(pack_write(path, &c, &tok, p, type, TL_QS_ABSMEAN, NULL,
	    err) == 0);
	pk = tl_packed_open(path, 0, err);
	if (pk == NULL) fprintf(stderr, "open: %s\n", err);
	CHECK(pk != NULL);
	unit_kv = kv;
	a = unit_infer_new(&c, p, err);
	b = tl_infer_new(tl_packed_model(pk), kv, err);
	CHECK(a != NULL && b != NULL);
	for (t = 0; t < T; t++)
		ids[t] = (uint16_t)tl_rng_below(&rng, 256);
	for (t = 0; t < T; t++) {
		la = tl_infer_step(a, NULL, ids[t], t);
		lb = tl_infer_step(b, pool, ids[t], t);
		for (i = 0; i < 256; i++) {
			double e = fabs(lb[i] - la[i]) / (1e-6 + fabs(la[i]));

			if (e > worst)
				worst = e;
			CHECK_CLOSE(lb[i], la[i], 1e-6, 1e-4);
			same &= la[i] == lb[i];
		}
	}
	CHECK(same);
	printf("packed %s %s %s %s %s, %s cache: %s (worst relative error "
	    "%.2g)\n", tl_simd_name(tl_simd_path()), tl_wtype_names[type],
	    tl_pos_names[pos], tl_norm_names[norm], tl_act_names[act],
	    tl_kv_names[kv], same ? "bit-identical" : "DIFFERENT", worst);
	unit_infer_free(a);
	unit_infer_free(b);
	tl_packed_close(pk);
	tl_tok_free(&tok);
	free(p);
}

/* A model large enough for the pool, with a cache of kind kv: 1, 2
 * and 3 threads, mapped or read, give the same logits; and 200 greedy
 * tokens (sliding past the context) are the checkpoint's. */
static void
test_threads_greedy(int type, int kv, tl_pool **pools)
{
	tl_config c;
	tl_tok tok;
	tl_packed *pk[2];
	tl_infer *d, *e;
	float *p, *lg, *ref = NULL;
	char err[TL_ERRLEN];
	uint16_t tok0 = 10, ta, tb;
	int k, i, t, same = 1, nsame = 0;
	enum { NT = 40 };

	tiny(&c, 256, TL_QUANT_TERNARY, TL_POS_ROPE, TL_NORM_RMS, TL_ACT_RELU2);
	c.dim = 128;
	c.heads = 4;
	c.ffn = 2048;
	c.ctx = 64;
	p = pack_bytes(&c, &tok, 33, type, err);
	pk[0] = tl_packed_open(path, 0, err);
	pk[1] = tl_packed_open(path, TL_PACKED_READ, err);
	CHECK(pk[0] != NULL && pk[1] != NULL);
	ref = malloc((size_t)NT * 256 * sizeof *ref);
	for (k = 0; k < 4; k++) {
		d = tl_infer_new(tl_packed_model(pk[k == 3]), kv, err);
		for (t = 0; t < NT; t++) {
			lg = tl_infer_step(d, pools[k % 3], (uint16_t)((t * 7 +
			    3) % 256), t);
			if (k == 0)
				memcpy(ref + t * 256, lg, 256 * sizeof *lg);
			else
				same &= memcmp(ref + t * 256, lg,
				    256 * sizeof *lg) == 0;
		}
		unit_infer_free(d);
	}
	CHECK(same);
	/* greedy: 200 tokens */
	unit_kv = kv;
	d = unit_infer_new(&c, p, err);
	e = tl_infer_new(tl_packed_model(pk[0]), kv, err);
	ta = tb = tok0;
	for (i = 0; i < 200; i++) {
		lg = tl_infer_push(d, pools[1], ta, 1);
		ta = (uint16_t)tl_argmax(lg, 256);
		lg = tl_infer_push(e, pools[1], tb, 1);
		tb = (uint16_t)tl_argmax(lg, 256);
		nsame += ta == tb;
	}
	CHECK(nsame == 200);
	unit_infer_free(d);
	unit_infer_free(e);
	tl_packed_close(pk[0]);
	tl_packed_close(pk[1]);
	tl_tok_free(&tok);
	free(ref);
	free(p);
}

int
main(void)
{
	tl_pool *pools[3];
	int i, p, type, pos, norm, act, kv;
	const char *tmp = getenv("TMPDIR");

	snprintf(path, sizeof path, "%s/test_pack.%ld.tlq", tmp ? tmp : "/tmp",
	    (long)getpid());
	tl_rng_seed(&rng, 20261125);
	for (i = 0; i < 3; i++)
		if ((pools[i] = tl_pool_new(i + 1)) == NULL) {
			fprintf(stderr, "test_pack: cannot start threads\n");
			return 1;
		}
	test_tq1_bytes();
	test_quant_defs(5, 17);
	test_quant_defs(7, 200);
	test_quant_defs(3, 1376);
	test_kernels();
	test_gemv_t();
	test_cache_kernels();
	for (type = 0; type < TL_W_N; type++)
		for (i = 0; i < TL_QS_N; i++)
			if (tl_scheme_ok(type, i)) {
				test_file_roundtrip(type, i, TL_NORM_RMS);
				test_file_roundtrip(type, i, TL_NORM_LAYER);
			}
	test_file_damage();
	for (p = 0; p < TL_SIMD_NPATH; p++) {
		if (tl_simd_set(p) < 0)
			continue;
		for (type = TL_W_TQ2; type <= TL_W_TQ1; type++)
			for (pos = 0; pos < TL_POS_N; pos++)
				for (norm = 0; norm < TL_NORM_N; norm++)
					for (act = 0; act < TL_ACT_N; act++)
						if (pos + norm == 0 || act ==
						    TL_ACT_SWIGLU)
							for (kv = 0; kv <
							    TL_KV_N; kv++)
								test_forward(
								    type, pos,
								    norm, act,
								    kv,
								    pools[1]);
		for (kv = 0; kv < TL_KV_N; kv++) {
			test_threads_greedy(TL_W_TQ2, kv, pools);
			test_threads_greedy(TL_W_TQ1, kv, pools);
		}
	}
	unlink(path);
	for (i = 0; i < 3; i++)
		tl_pool_free(pools[i]);
	return unit_done("test_pack");
}
