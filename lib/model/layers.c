/*
 * layers.c: norms, positions and activations, one row at a time.
 */
#include <math.h>
#include <string.h>

#include "layers.h"

/* RMSNorm: y = x / sqrt(mean(x^2) + eps) * w.
 * LayerNorm: y = (x - mean) / sqrt(var + eps) * w + b. */
void
tl_norm_row(int kind, float *y, const float *x, const float *w,
    const float *b, int n, float *mean, float *rstd)
{
	double s = 0, mu = 0;
	float r, m;
	int i;

	if (kind == TL_NORM_LAYER) {
		for (i = 0; i < n; i++)
			mu += x[i];
		mu /= n;
	}
	m = (float)mu;
	for (i = 0; i < n; i++)
		s += (double)(x[i] - m) * (x[i] - m);
	r = (float)(1.0 / sqrt(s / n + TL_NORM_EPS));
	for (i = 0; i < n; i++)
		y[i] = (x[i] - m) * r * w[i] + (b ? b[i] : 0.0f);
	if (mean)
		*mean = m;
	if (rstd)
		*rstd = r;
}

/* With xhat = (x - mean) r and g = dy * w:
 *   rms:   dx = r (g - xhat mean(g xhat))
 *   layer: dx = r (g - mean(g) - xhat mean(g xhat)) */
void
tl_norm_back_row(int kind, float *dx, const float *dy, const float *x,
    const float *w, int n, float mean, float rstd)
{
	double sg = 0, sgx = 0;
	float mg, mgx, xh;
	int i;

	for (i = 0; i < n; i++) {
		float g = dy[i] * w[i];

		sg += g;
		sgx += g * (x[i] - mean) * rstd;
	}
	mg = kind == TL_NORM_LAYER ? (float)(sg / n) : 0.0f;
	mgx = (float)(sgx / n);
	for (i = 0; i < n; i++) {
		xh = (x[i] - mean) * rstd;
		dx[i] += rstd * (dy[i] * w[i] - mg - xh * mgx);
	}
}

void
tl_norm_dparams(int kind, float *dw, float *db, const float *dy,
    const float *x, const float *mean, const float *rstd, int N, int n)
{
	int r, i;

	for (r = 0; r < N; r++) {
		const float *d = dy + (long)r * n, *xr = x + (long)r * n;
		float m = mean ? mean[r] : 0.0f, s = rstd[r];

		for (i = 0; i < n; i++)
			dw[i] += d[i] * (xr[i] - m) * s;
		if (kind == TL_NORM_LAYER)
			for (i = 0; i < n; i++)
				db[i] += d[i];
	}
}

void
tl_rope_table(float *cs, int T, int hs)
{
	int t, i;

	for (t = 0; t < T; t++)
		for (i = 0; i < hs / 2; i++) {
			double a = t * pow(TL_ROPE_BASE, -2.0 * i / hs);

			cs[((long)t * (hs / 2) + i) * 2] = (float)cos(a);
			cs[((long)t * (hs / 2) + i) * 2 + 1] = (float)sin(a);
		}
}

void
tl_rope_row(float *v, const float *cs, int pos, int n, int hs, int inv)
{
	const float *c = cs + (long)pos * (hs / 2) * 2;
	int h, i;

	for (h = 0; h < n; h += hs)
		for (i = 0; i < hs / 2; i++) {
			float co = c[2 * i], si = inv ? -c[2 * i + 1] : c[2 * i + 1];
			float x0 = v[h + 2 * i], x1 = v[h + 2 * i + 1];

			v[h + 2 * i] = x0 * co - x1 * si;
			v[h + 2 * i + 1] = x0 * si + x1 * co;
		}
}

/* PE(pos, 2i) = sin(pos / 10000^(2i/n)), PE(pos, 2i+1) = cos(...) */
void
tl_sinpos_add_row(float *x, int pos, int n)
{
	int i;

	for (i = 0; i + 1 < n; i += 2) {
		double a = pos * pow(TL_ROPE_BASE, -(double)i / n);

		x[i] += (float)sin(a);
		x[i + 1] += (float)cos(a);
	}
}

#define GELU_K 0.7978845608028654f	/* sqrt(2/pi) */

static float
sigmoid(float x)
{
	return 1.0f / (1.0f + expf(-x));
}

/* gelu (tanh form), relu, relu^2, and swiglu: h = [gate | up],
 * y = silu(gate) * up. */
void
tl_act_row(int act, float *y, const float *h, int F)
{
	int i;
	float x;

	for (i = 0; i < F; i++) {
		x = h[i];
		switch (act) {
		case TL_ACT_GELU:
			y[i] = 0.5f * x * (1.0f + tanhf(GELU_K *
			    (x + 0.044715f * x * x * x)));
			break;
		case TL_ACT_RELU:
			y[i] = x > 0 ? x : 0;
			break;
		case TL_ACT_RELU2:
			y[i] = x > 0 ? x * x : 0;
			break;
		default:	/* TL_ACT_SWIGLU */
			y[i] = x * sigmoid(x) * h[F + i];
			break;
		}
	}
}

void
tl_act_back_row(int act, float *dh, const float *dy, const float *h, int F)
{
	int i;
	float x, t, sg;

	for (i = 0; i < F; i++) {
		x = h[i];
		switch (act) {
		case TL_ACT_GELU:
			t = tanhf(GELU_K * (x + 0.044715f * x * x * x));
			dh[i] = dy[i] * (0.5f * (1 + t) + 0.5f * x * (1 - t * t) *
			    GELU_K * (1 + 3 * 0.044715f * x * x));
			break;
		case TL_ACT_RELU:
			dh[i] = x > 0 ? dy[i] : 0;
			break;
		case TL_ACT_RELU2:
			dh[i] = x > 0 ? 2 * x * dy[i] : 0;
			break;
		default:
			sg = sigmoid(x);
			dh[i] = dy[i] * h[F + i] * sg * (1 + x * (1 - sg));
			dh[F + i] = dy[i] * x * sg;
			break;
		}
	}
}
