/*
 * test_model.c: the model's analytic gradients against central finite
 * differences (fp32 mode, every norm, position and activation, with
 * and without recomputation), each row layer's backward against finite
 * differences, the forward pass (fp32 and ternary) against a plain
 * double-precision reference written from the BitNet b1.58
 * definitions, and the memory savers: recomputation gives the same
 * gradients to the bit, passes of one sequence add up to the batch's.
 */
#include <string.h>

#include "model/layers.h"
#include "model/model.h"
#include "unit.h"
#include "util/util.h"

enum { B = 2, T = 5 };

static void
tiny(tl_config *c, int pos, int norm, int act, int quant)
{
	unit_config(c, 11, 8, 12, T);
	unit_variant(c, quant, pos, norm, act);
}

/*
 * The weights of a test (the caller frees them) and a batch in, tgt,
 * drawn from random numbers seeded with seed.  Larger weights than the
 * real init, so that gradients are well above the rounding noise of a
 * float finite difference.
 */
static float *
draw(const tl_config *c, uint64_t seed, uint16_t *in, uint16_t *tgt)
{
	size_t n = tl_nparams(c), i;
	float *p = malloc(n * sizeof *p);
	tl_rng r;

	tl_rng_seed(&r, seed);
	tl_params_init(p, c, 7);
	for (i = 0; i < n; i++)
		p[i] += 0.15f * tl_rng_normal(&r);
	for (i = 0; i < B * T; i++) {
		in[i] = tl_rng_below(&r, c->vocab);
		tgt[i] = tl_rng_below(&r, c->vocab);
	}
	return p;
}

static int
close(double a, double b)
{
	return fabs(a - b) <= 3e-4 + 3e-2 * fabs(b);
}

/* Dropout of the checks (its masks do not change between passes). */
#define PDROP 0.3f
#define DKEY 99

/* Soft targets: a distribution q (B,T,V) drawn from seed; the loss
 * with q at weight a is the mix of the two cross-entropies (checked
 * against the probabilities of a forward without it). */
#define SOFTW 0.4f

static float *
soft_targets(tl_model *m, const tl_config *c, const float *p,
    const uint16_t *in, const uint16_t *tgt, uint64_t seed)
{
	size_t V = c->vocab, r, v;
	float *q = malloc(B * T * V * sizeof *q), *pr;
	double s, want = 0, got;
	tl_rng g;

	tl_rng_seed(&g, seed);
	for (r = 0; r < B * T; r++) {
		for (s = 0, v = 0; v < V; v++)
			s += q[r * V + v] = tl_rng_float(&g) + 0.01f;
		for (v = 0; v < V; v++)
			q[r * V + v] /= s;
	}
	tl_model_forward(m, NULL, p, in, tgt);
	pr = tl_model_logits(m);
	for (r = 0; r < B * T; r++) {
		want += (1 - SOFTW) * -log(pr[r * V + tgt[r]]);
		for (v = 0; v < V; v++)
			want += SOFTW * q[r * V + v] * -log(pr[r * V + v]);
	}
	want /= B * T;
	tl_model_soft(m, q, SOFTW);
	got = tl_model_forward(m, NULL, p, in, tgt);
	CHECK_CLOSE(got, want, 1e-5, 1e-5);
	return q;
}

/* Analytic gradients against central differences, with dropout of
 * rate pd (its masks the same in every pass), and soft targets if
 * soft. */
static void
gradcheck(int pos, int norm, int act, int rc, float pd, int soft)
{
	tl_config c;
	tl_model *m;
	uint16_t in[B * T], tgt[B * T];
	float *p, *g, l0, lp, lm, h = 1e-3f, save;
	size_t n, i;
	double worst = 0;
	int kinked = act == TL_ACT_RELU || act == TL_ACT_RELU2;
	float *q = NULL;

	tiny(&c, pos, norm, act, TL_QUANT_FP32);
	m = tl_model_new(&c, B, T, rc, NULL);
	CHECK(m != NULL);
	n = tl_nparams(&c);
	p = draw(&c, 1 + pos * 9 + norm * 3 + act, in, tgt);
	g = calloc(n, sizeof *g);
	tl_model_dropout(m, pd, DKEY, 0);
	if (soft)
		q = soft_targets(m, &c, p, in, tgt, 5 + act);
	l0 = tl_model_forward(m, NULL, p, in, tgt);
	tl_model_backward(m, NULL, p, g, 1.0f);
	CHECK(l0 > 0);
	for (i = 0; i < n; i++) {
		double fd, err;

		save = p[i];
		p[i] = save + h;
		lp = tl_model_forward(m, NULL, p, in, tgt);
		p[i] = save - h;
		lm = tl_model_forward(m, NULL, p, in, tgt);
		p[i] = save;
		fd = ((double)lp - lm) / (2 * h);
		/* Where the step crosses a kink of relu, the analytic
		 * gradient is one of the one-sided differences. */
		if (kinked && !close(g[i], fd)) {
			if (close(g[i], ((double)lp - l0) / h))
				fd = ((double)lp - l0) / h;
			else if (close(g[i], ((double)l0 - lm) / h))
				fd = ((double)l0 - lm) / h;
		}
		err = fabs(fd - g[i]) / (2e-3 + fabs(fd));
		if (err > worst)
			worst = err;
		CHECK_CLOSE(g[i], fd, 3e-4, 3e-2);
	}
	printf("gradcheck %s %s %s%s%s%s: %zu params, worst rel err %.2g\n",
	    tl_pos_names[pos], tl_norm_names[norm], tl_act_names[act],
	    rc ? " recomputed" : "", pd > 0 ? " dropout" : "",
	    soft ? " soft targets" : "", n, worst);
	free(q);
	free(p);
	free(g);
	tl_model_free(m);
}

/* The gradients of a batch three ways: in one pass keeping every
 * activation; in one pass recomputing each block's (the same bits);
 * and one sequence at a time, recomputing, each pass's gradient scaled
 * by 1/B as tl_trainer_step does (the same up to the order of sums);
 * all under dropout of rate pd, whose masks follow the sequences. */
static void
memcheck(int pos, int norm, int act, int quant, float pd)
{
	tl_config c;
	tl_model *m, *mr, *m1;
	uint16_t in[B * T], tgt[B * T];
	float *p, *g, *gr, *g1, l, lr, l1 = 0;
	size_t n, i;
	double worst = 0;
	int b;

	tiny(&c, pos, norm, act, quant);
	c.layers = 3;
	m = tl_model_new(&c, B, T, 0, NULL);
	mr = tl_model_new(&c, B, T, 1, NULL);
	m1 = tl_model_new(&c, 1, T, 1, NULL);
	CHECK(m != NULL && mr != NULL && m1 != NULL);
	n = tl_nparams(&c);
	p = draw(&c, 200 + quant * 50 + pos * 9 + norm * 3 + act, in, tgt);
	g = calloc(n, sizeof *g);
	gr = calloc(n, sizeof *gr);
	g1 = calloc(n, sizeof *g1);
	tl_model_prepare(m, p);
	tl_model_prepare(mr, p);
	tl_model_prepare(m1, p);
	l = tl_model_forward(m, NULL, p, in, tgt);
	tl_model_dropout(m, pd, DKEY, 0);
	tl_model_dropout(mr, pd, DKEY, 0);
	/* dropout changes the loss */
	CHECK((tl_model_forward(m, NULL, p, in, tgt) != l) == (pd > 0));
	l = tl_model_forward(m, NULL, p, in, tgt);
	tl_model_backward(m, NULL, p, g, 1.0f);
	lr = tl_model_forward(mr, NULL, p, in, tgt);
	tl_model_backward(mr, NULL, p, gr, 1.0f);
	CHECK(l == lr);
	CHECK(memcmp(g, gr, n * sizeof *g) == 0);
	for (b = 0; b < B; b++) {
		tl_model_dropout(m1, pd, DKEY, b);
		l1 += tl_model_forward(m1, NULL, p, in + b * T, tgt + b * T) /
		    B;
		tl_model_backward(m1, NULL, p, g1, 1.0f / B);
	}
	CHECK_CLOSE(l1, l, 1e-6, 1e-6);
	for (i = 0; i < n; i++) {
		if (fabs(g1[i] - g[i]) > worst)
			worst = fabs(g1[i] - g[i]);
		CHECK_CLOSE(g1[i], g[i], 1e-6, 1e-4);
	}
	printf("memory savers %s %s %s %s%s: recomputed gradients %s, "
	    "one sequence per pass: worst abs err %.2g\n",
	    tl_quant_names[quant], tl_pos_names[pos], tl_norm_names[norm],
	    tl_act_names[act], pd > 0 ? " dropout" : "", memcmp(g, gr, n * sizeof *g) == 0 ?
	    "bit-identical" : "DIFFER", worst);
	free(p);
	free(g);
	free(gr);
	free(g1);
	tl_model_free(m);
	tl_model_free(mr);
	tl_model_free(m1);
}

/* Row layers: d/dx of sum(dy * f(x)) by finite differences. */
static void
rowcheck(void)
{
	enum { n = 16 };
	float x[2 * n], w[n], b[n], y[2 * n], dy[n], dx[2 * n], cs[8 * n];
	double h = 1e-2;
	int kind, act, i, k;
	tl_rng r;

	tl_rng_seed(&r, 3);
	for (i = 0; i < 2 * n; i++)
		x[i] = tl_rng_normal(&r);
	for (i = 0; i < n; i++) {
		w[i] = 1 + 0.3f * tl_rng_normal(&r);
		b[i] = 0.3f * tl_rng_normal(&r);
		dy[i] = tl_rng_normal(&r);
	}
	for (kind = 0; kind < TL_NORM_N; kind++) {
		float mean, rstd;

		tl_norm_row(kind, y, x, w, b, n, &mean, &rstd);
		memset(dx, 0, sizeof dx);
		tl_norm_back_row(kind, dx, dy, x, w, n, mean, rstd);
		for (i = 0; i < n; i++) {
			double sp = 0, sm = 0, s = x[i];

			x[i] = s + h;
			tl_norm_row(kind, y, x, w, b, n, NULL, NULL);
			for (k = 0; k < n; k++)
				sp += dy[k] * y[k];
			x[i] = s - h;
			tl_norm_row(kind, y, x, w, b, n, NULL, NULL);
			for (k = 0; k < n; k++)
				sm += dy[k] * y[k];
			x[i] = s;
			CHECK_CLOSE(dx[i], (sp - sm) / (2 * h), 1e-3, 1e-2);
		}
	}
	for (act = 0; act < TL_ACT_N; act++) {
		tl_act_back_row(act, dx, dy, x, n);
		for (i = 0; i < (act == TL_ACT_SWIGLU ? 2 * n : n); i++) {
			double sp = 0, sm = 0, s = x[i];

			if (act != TL_ACT_SWIGLU && act != TL_ACT_GELU &&
			    fabs(s) < 2 * h)
				continue;	/* kink of relu */
			x[i] = s + h;
			tl_act_row(act, y, x, n);
			for (k = 0; k < n; k++)
				sp += dy[k] * y[k];
			x[i] = s - h;
			tl_act_row(act, y, x, n);
			for (k = 0; k < n; k++)
				sm += dy[k] * y[k];
			x[i] = s;
			CHECK_CLOSE(dx[i], (sp - sm) / (2 * h), 1e-3, 1e-2);
		}
	}
	/* rotary: rotating back undoes the rotation */
	tl_rope_table(cs, 8, 4);
	memcpy(y, x, sizeof y);
	tl_rope_row(y, cs, 5, n, 4, 0);
	CHECK(fabs(y[2] - x[2]) > 1e-3);
	tl_rope_row(y, cs, 5, n, 4, 1);
	for (i = 0; i < n; i++)
		CHECK_CLOSE(y[i], x[i], 1e-5, 0);
}

/* ---- plain reference forward, in double ---- */

static void
ref_norm(int kind, double *y, const double *x, const float *w,
    const float *b, int n)
{
	double mu = 0, v = 0;
	int i;

	if (kind == TL_NORM_LAYER) {
		for (i = 0; i < n; i++)
			mu += x[i];
		mu /= n;
	}
	for (i = 0; i < n; i++)
		v += (x[i] - mu) * (x[i] - mu);
	v = 1 / sqrt(v / n + 1e-5);
	for (i = 0; i < n; i++)
		y[i] = (x[i] - mu) * v * w[i] + (b ? b[i] : 0);
}

/* y (N,o) = x (N,in) . W^T, BitNet b1.58 when tern. */
static void
ref_linear(double *y, const double *x, const float *w, int N, int in, int o,
    int tern)
{
	double s = 0, g, q;
	int r, i, k;

	for (i = 0; i < in * o; i++)
		s += fabs(w[i]);
	s = s / (in * o);
	if (s < 1e-5)
		s = 1e-5;
	for (r = 0; r < N; r++) {
		double xq[64];

		g = 0;
		for (k = 0; k < in; k++)
			if (fabs(x[r * in + k]) > g)
				g = fabs(x[r * in + k]);
		for (k = 0; k < in; k++) {
			xq[k] = x[r * in + k];
			if (tern) {
				q = g > 0 ? nearbyint(x[r * in + k] * 127 / g) : 0;
				xq[k] = (q < -128 ? -128 : q > 127 ? 127 : q) *
				    g / 127;
			}
		}
		for (i = 0; i < o; i++) {
			double acc = 0, wv;

			for (k = 0; k < in; k++) {
				wv = w[i * in + k];
				if (tern) {
					q = nearbyint(wv / s);
					wv = (q < -1 ? -1 : q > 1 ? 1 : q) * s;
				}
				acc += xq[k] * wv;
			}
			y[r * o + i] = acc;
		}
	}
}

/*
 * The end of a sublayer in reference: its N rows y of width n normed in
 * place when it has a norm of its own (nw: subln), projected to width C
 * by the linear layer w into o, and added to the residual stream x.
 */
static void
ref_sublayer_out(const tl_config *c, double *x, double *o, double *y,
    const float *nw, const float *w, int N, int n, int tern)
{
	int C = c->dim, r, i;

	if (nw)
		for (r = 0; r < N; r++)
			ref_norm(c->norm, y + r * n, y + r * n, nw, NULL, n);
	ref_linear(o, y, w, N, n, C, tern);
	for (i = 0; i < N * C; i++)
		x[i] += o[i];
}

static void
ref_forward(const tl_config *c, const float *pp, const uint16_t *in,
    double *logits)
{
	enum { N = B * T };
	int C = c->dim, F = c->ffn, F1 = tl_ffn_rows(c), V = c->vocab;
	int H = c->heads, hs = C / H, l, r, i, t, u, h;
	int tern = c->quant == TL_QUANT_TERNARY;
	double x[N * 8], ln[N * 8], qkv[N * 24], ay[N * 8], o[N * 8];
	double h1[N * 24], h2[N * 12];
	tl_params p;

	tl_params_map(&p, (float *)pp, c);
	for (r = 0; r < N; r++)
		for (i = 0; i < C; i++) {
			x[r * C + i] = p.wte[in[r] * C + i];
			if (c->pos == TL_POS_SIN)
				x[r * C + i] += (i % 2 ? cos : sin)((r % T) *
				    pow(10000.0, -(double)(i - i % 2) / C));
		}
	for (l = 0; l < (int)c->layers; l++) {
		for (r = 0; r < N; r++)
			ref_norm(c->norm, ln + r * C, x + r * C, p.ln1w + l * C,
			    p.ln1b ? p.ln1b + l * C : NULL, C);
		ref_linear(qkv, ln, p.wqkv + l * 3 * C * C, N, C, 3 * C, tern);
		if (c->pos == TL_POS_ROPE)
			for (r = 0; r < N; r++)
				for (i = 0; i < 2 * C; i += 2) {
					double a = (r % T) * pow(10000.0,
					    -(double)(i % hs) / hs);
					double x0 = qkv[r * 3 * C + i];
					double x1 = qkv[r * 3 * C + i + 1];

					qkv[r * 3 * C + i] = x0 * cos(a) - x1 * sin(a);
					qkv[r * 3 * C + i + 1] = x0 * sin(a) +
					    x1 * cos(a);
				}
		for (r = 0; r < N; r++)
			for (h = 0; h < H; h++) {
				double a[T], mx = -1e300, s = 0;
				int b0 = r - r % T;

				t = r % T;
				for (u = 0; u <= t; u++) {
					a[u] = 0;
					for (i = 0; i < hs; i++)
						a[u] += qkv[r * 3 * C + h * hs + i] *
						    qkv[(b0 + u) * 3 * C + C + h * hs + i];
					a[u] /= sqrt(hs);
					if (a[u] > mx)
						mx = a[u];
				}
				for (u = 0; u <= t; u++)
					s += a[u] = exp(a[u] - mx);
				for (i = 0; i < hs; i++) {
					double v = 0;

					for (u = 0; u <= t; u++)
						v += a[u] / s * qkv[(b0 + u) * 3 * C +
						    2 * C + h * hs + i];
					ay[r * C + h * hs + i] = v;
				}
			}
		ref_sublayer_out(c, x, o, ay, p.ln3w ? p.ln3w + l * C : NULL,
		    p.wo + l * C * C, N, C, tern);
		for (r = 0; r < N; r++)
			ref_norm(c->norm, ln + r * C, x + r * C, p.ln2w + l * C,
			    p.ln2b ? p.ln2b + l * C : NULL, C);
		ref_linear(h1, ln, p.w1 + l * F1 * C, N, C, F1, tern);
		for (r = 0; r < N; r++)
			for (i = 0; i < F; i++) {
				double v = h1[r * F1 + i];

				switch (c->act) {
				case TL_ACT_GELU:
					v = 0.5 * v * (1 + tanh(sqrt(2 / 3.141592653589793) *
					    (v + 0.044715 * v * v * v)));
					break;
				case TL_ACT_RELU:
					v = v > 0 ? v : 0;
					break;
				case TL_ACT_RELU2:
					v = v > 0 ? v * v : 0;
					break;
				default:
					v = v / (1 + exp(-v)) * h1[r * F1 + F + i];
				}
				h2[r * F + i] = v;
			}
		ref_sublayer_out(c, x, o, h2, p.ln4w ? p.ln4w + l * F : NULL,
		    p.w2 + l * C * F, N, F, tern);
	}
	for (r = 0; r < N; r++)
		ref_norm(c->norm, ln + r * C, x + r * C, p.lnfw, p.lnfb, C);
	ref_linear(logits, ln, p.head, N, C, V, 0);
}

static void
forwardcheck(int pos, int norm, int act, int quant)
{
	tl_config c;
	tl_model *m;
	uint16_t in[B * T], tgt[B * T];
	double want[B * T * 11], worst = 0;
	float *p, *got;
	int i;

	tiny(&c, pos, norm, act, quant);
	m = tl_model_new(&c, B, T, 0, NULL);
	p = draw(&c, 100 + quant * 50 + pos * 9 + norm * 3 + act, in, tgt);
	tl_model_prepare(m, p);
	tl_model_forward(m, NULL, p, in, NULL);
	got = tl_model_logits(m);
	ref_forward(&c, p, in, want);
	for (i = 0; i < B * T * 11; i++) {
		if (fabs(got[i] - want[i]) > worst)
			worst = fabs(got[i] - want[i]);
		CHECK_CLOSE(got[i], want[i], 2e-3, 1e-3);
	}
	printf("forward %s %s %s %s: worst abs err %.2g\n",
	    tl_quant_names[quant], tl_pos_names[pos], tl_norm_names[norm],
	    tl_act_names[act], worst);
	free(p);
	tl_model_free(m);
}

int
main(void)
{
	int pos, norm, act, q;

	rowcheck();
	for (pos = 0; pos < TL_POS_N; pos++)
		for (norm = 0; norm < TL_NORM_N; norm++)
			for (act = 0; act < TL_ACT_N; act++) {
				gradcheck(pos, norm, act, 0, 0, 0);
				gradcheck(pos, norm, act, 1, 0, 0);
				gradcheck(pos, norm, act, 1, PDROP, 0);
				gradcheck(pos, norm, act, 0, 0, 1);
				for (q = 0; q < TL_QUANT_N; q++) {
					forwardcheck(pos, norm, act, q);
					memcheck(pos, norm, act, q, 0);
					memcheck(pos, norm, act, q, PDROP);
				}
			}
	return unit_done("test_model");
}
