/*
 * attention.c: causal multi-head attention, forward and backward,
 * split over (sequence, head) pairs.
 */
#include <math.h>
#include <string.h>

#include "kernels.h"

typedef struct {
	float *out, *att, *dqkv, *datt;
	const float *qkv, *dout, *catt;
	int B, T, C, H;
} att_job;

/* out[t] = sum_{u<=t} softmax_u(q_t . k_u / sqrt(hs)) v_u */
static void
att_fwd(void *ctx, int bh)
{
	att_job *j = ctx;
	const tl_kern *k = tl_k();
	int b = bh / j->H, h = bh % j->H, T = j->T, C = j->C;
	int hs = C / j->H, t, u;
	float scale = 1.0f / sqrtf((float)hs);
	const float *base = j->qkv + (long)b * T * 3 * C;

	for (t = 0; t < T; t++) {
		const float *q = base + (long)t * 3 * C + h * hs;
		float *a = j->att + (((long)b * j->H + h) * T + t) * T;
		float *o = j->out + ((long)b * T + t) * C + h * hs;

		for (u = 0; u <= t; u++)
			a[u] = k->dot(q, base + (long)u * 3 * C + C + h * hs,
			    hs) * scale;
		k->softmax(a, t + 1);
		for (u = t + 1; u < T; u++)
			a[u] = 0;
		memset(o, 0, hs * sizeof *o);
		for (u = 0; u <= t; u++)
			k->axpy(o, a[u], base + (long)u * 3 * C + 2 * C +
			    h * hs, hs);
	}
}

void
tl_attention_forward(tl_pool *p, float *out, float *att, const float *qkv,
    int B, int T, int C, int H)
{
	att_job j;

	memset(&j, 0, sizeof j);
	j.out = out;
	j.att = att;
	j.qkv = qkv;
	j.B = B;
	j.T = T;
	j.C = C;
	j.H = H;
	tl_pool_for(p, B * H, att_fwd, &j);
}

/* With P the probabilities and S the scaled scores:
 *   dP[t][u] = dout_t . v_u;  dv_u += P[t][u] dout_t
 *   dS[t][u] = P[t][u] (dP[t][u] - sum_w P[t][w] dP[t][w])
 *   dq_t += scale sum_u dS[t][u] k_u;  dk_u += scale dS[t][u] q_t */
static void
att_bwd(void *ctx, int bh)
{
	att_job *j = ctx;
	const tl_kern *k = tl_k();
	int b = bh / j->H, h = bh % j->H, T = j->T, C = j->C;
	int hs = C / j->H, t, u;
	float scale = 1.0f / sqrtf((float)hs), s;
	const float *base = j->qkv + (long)b * T * 3 * C;
	float *dbase = j->dqkv + (long)b * T * 3 * C;

	for (t = 0; t < T; t++) {
		memset(dbase + (long)t * 3 * C + h * hs, 0, hs * sizeof(float));
		memset(dbase + (long)t * 3 * C + C + h * hs, 0,
		    hs * sizeof(float));
		memset(dbase + (long)t * 3 * C + 2 * C + h * hs, 0,
		    hs * sizeof(float));
	}
	for (t = 0; t < T; t++) {
		const float *a = j->catt + (((long)b * j->H + h) * T + t) * T;
		float *da = j->datt + (((long)b * j->H + h) * T + t) * T;
		const float *dout = j->dout + ((long)b * T + t) * C + h * hs;
		const float *q = base + (long)t * 3 * C + h * hs;
		float *dq = dbase + (long)t * 3 * C + h * hs;

		s = 0;
		for (u = 0; u <= t; u++) {
			da[u] = k->dot(dout, base + (long)u * 3 * C + 2 * C +
			    h * hs, hs);
			k->axpy(dbase + (long)u * 3 * C + 2 * C + h * hs, a[u],
			    dout, hs);
			s += a[u] * da[u];
		}
		for (u = 0; u <= t; u++) {
			float ds = a[u] * (da[u] - s) * scale;

			k->axpy(dq, ds, base + (long)u * 3 * C + C + h * hs, hs);
			k->axpy(dbase + (long)u * 3 * C + C + h * hs, ds, q, hs);
		}
	}
}

void
tl_attention_backward(tl_pool *p, float *dqkv, float *datt, const float *dout,
    const float *qkv, const float *att, int B, int T, int C, int H)
{
	att_job j;

	memset(&j, 0, sizeof j);
	j.dqkv = dqkv;
	j.datt = datt;
	j.dout = dout;
	j.qkv = qkv;
	j.catt = att;
	j.B = B;
	j.T = T;
	j.C = C;
	j.H = H;
	tl_pool_for(p, B * H, att_bwd, &j);
}
