/*
 * attention.c: causal multi-head attention, forward and backward,
 * split over (sequence, head) pairs by the pool.
 *
 * Within one (sequence, head) every product is a small matrix product
 * run by tl_sgemm on this thread (the pool is already busy one level
 * up), over strided views of qkv: q, k and v of head h are the
 * columns [h*hs, (h+1)*hs) of the three C-wide thirds of a row.  The
 * causal mask is exploited by blocks of TB query rows: rows [t0, t1)
 * only need keys [0, t1), so only the diagonal blocks do wasted work,
 * on the entries above the diagonal, which the code sets to zero
 * before they could count.
 */
#include <math.h>

#include "kernels/kernels.h"

#define TB 64	/* query rows per block */

typedef struct {
	float *out, *att, *dqkv, *datt;
	const float *qkv, *dout, *catt;
	int B, T, C, H;
	const tl_drop *d;	/* NULL: no dropout */
} att_job;

/* Rows [t0, t1) of a (T,T) of sequence b, head h dropped into y: the
 * entries up to the diagonal, and zeros above it, which the products
 * read. */
static void
drop_rows(const att_job *j, int b, int h, int t0, int t1, float *y,
    const float *a)
{
	long T = j->T;
	int t, u;

	for (t = t0; t < t1; t++) {
		tl_drop_row(j->d, tl_drop_stream(j->d, (uint64_t)b,
		    (uint64_t)h, (uint64_t)t), y + t * T, a + t * T, t + 1);
		for (u = t + 1; u < T; u++)
			y[t * T + u] = 0;
	}
}

/* out[t] = sum_{u<=t} softmax_u(q_t . k_u / sqrt(hs)) v_u, the
 * probabilities dropped into datt first under dropout */
static void
att_fwd(void *ctx, int bh)
{
	att_job *j = ctx;
	const tl_kern *k = tl_k();
	int b = bh / j->H, h = bh % j->H, T = j->T, C = j->C;
	int hs = C / j->H, t, t0, t1, u;
	long ld = 3L * C;		/* row stride of q, k, v */
	float scale = 1.0f / sqrtf((float)hs);
	const float *q = j->qkv + (long)b * T * ld + h * hs;
	const float *kk = q + C, *v = q + 2 * C;
	float *att = j->att + ((long)b * j->H + h) * T * T;	/* (T,T) */
	float *o = j->out + (long)b * T * C + h * hs;		/* (T,hs), ld C */
	float *a, *pv = att;

	if (j->d != NULL)
		pv = j->datt + ((long)b * j->H + h) * T * T;

	for (t0 = 0; t0 < T; t0 = t1) {
		t1 = t0 + TB < T ? t0 + TB : T;
		/* S[t0:t1, 0:t1] = Q[t0:t1] . K[0:t1]^T */
		tl_sgemm(NULL, t1 - t0, t1, hs, q + t0 * ld, ld, 1, kk, 1, ld,
		    att + (long)t0 * T, T, 0);
		for (t = t0; t < t1; t++) {
			a = att + (long)t * T;
			for (u = 0; u <= t; u++)
				a[u] *= scale;
			k->softmax(a, t + 1);
			for (u = t + 1; u < T; u++)
				a[u] = 0;
		}
		if (j->d != NULL)
			drop_rows(j, b, h, t0, t1, pv, att);
		/* O[t0:t1] = P[t0:t1, 0:t1] . V[0:t1] */
		tl_sgemm(NULL, t1 - t0, hs, t1, pv + (long)t0 * T, T, 1, v, ld,
		    1, o + (long)t0 * C, C, 0);
	}
}

size_t
tl_attention_scratch(int T, int C, int H)
{
	int hs = C / H, m = T < TB ? T : TB;
	size_t a = tl_sgemm_scratch(m, T, hs), b = tl_sgemm_scratch(m, hs, T);

	/* the products of both passes are at most these shapes */
	return a > b ? a : b;
}

/* A job over qkv (B,T,3C) with H heads and dropout d, its other
 * arrays unset. */
static void
job_init(att_job *j, const float *qkv, int B, int T, int C, int H,
    const tl_drop *d)
{
	*j = (att_job){ .qkv = qkv, .B = B, .T = T, .C = C, .H = H,
	    .d = d != NULL && d->thr > 0 ? d : NULL };
}

void
tl_attention_forward(tl_pool *p, float *out, float *att, float *datt,
    const float *qkv, int B, int T, int C, int H, const tl_drop *d)
{
	att_job j;

	job_init(&j, qkv, B, T, C, H, d);
	j.out = out;
	j.att = att;
	j.datt = datt;
	tl_pool_for(p, B * H, att_fwd, &j);
}

/*
 * With P the probabilities and S the scaled scores:
 *   dP = dO V^T;  dV = P^T dO
 *   dS[t][u] = P[t][u] (dP[t][u] - sum_w P[t][w] dP[t][w])
 *   dQ = scale dS K;  dK = scale dS^T Q
 * dS, kept in datt with zeros above the diagonal, is complete before
 * dK, which sums over t >= u: for keys [u0, u1) the rows [u0, T) of
 * the lower triangle.  Under dropout, with D the dropped P and M the
 * mask (0 or the scale), dV = D^T dO takes D made again in datt
 * first, and dP = M (dO V^T), so that sum_w P dP is sum_w D (dO V^T).
 */
static void
att_bwd(void *ctx, int bh)
{
	att_job *j = ctx;
	int b = bh / j->H, h = bh % j->H, T = j->T, C = j->C;
	int hs = C / j->H, t, t0, t1, u;
	long ld = 3L * C;
	float scale = 1.0f / sqrtf((float)hs), s;
	const float *q = j->qkv + (long)b * T * ld + h * hs;
	const float *kk = q + C, *v = q + 2 * C;
	const float *att = j->catt + ((long)b * j->H + h) * T * T, *pv = att;
	const float *dout = j->dout + (long)b * T * C + h * hs;
	float *datt = j->datt + ((long)b * j->H + h) * T * T;
	float *dq = j->dqkv + (long)b * T * ld + h * hs;
	float *dk = dq + C, *dv = dq + 2 * C;
	const float *a;
	float *da;

	if (j->d != NULL) {
		drop_rows(j, b, h, 0, T, datt, att);
		pv = datt;
	}
	for (t0 = 0; t0 < T; t0 = t1) {
		t1 = t0 + TB < T ? t0 + TB : T;
		/* dV[t0:t1] = P[t0:T, t0:t1]^T . dO[t0:T] */
		tl_sgemm(NULL, t1 - t0, hs, T - t0, pv + (long)t0 * T + t0, 1,
		    T, dout + (long)t0 * C, C, 1, dv + t0 * ld, ld, 0);
	}
	for (t0 = 0; t0 < T; t0 = t1) {
		t1 = t0 + TB < T ? t0 + TB : T;
		/* dP[t0:t1, 0:t1] = dO[t0:t1] . V[0:t1]^T */
		tl_sgemm(NULL, t1 - t0, t1, hs, dout + (long)t0 * C, C, 1, v, 1,
		    ld, datt + (long)t0 * T, T, 0);
		if (j->d != NULL)
			drop_rows(j, b, h, t0, t1, datt, datt);
		for (t = t0; t < t1; t++) {
			a = att + (long)t * T;
			da = datt + (long)t * T;
			s = 0;
			for (u = 0; u <= t; u++)
				s += a[u] * da[u];
			for (u = 0; u <= t; u++)
				da[u] = a[u] * (da[u] - s) * scale;
			for (u = t + 1; u < T; u++)
				da[u] = 0;
		}
		/* dQ[t0:t1] = dS[t0:t1, 0:t1] . K[0:t1] */
		tl_sgemm(NULL, t1 - t0, hs, t1, datt + (long)t0 * T, T, 1, kk,
		    ld, 1, dq + t0 * ld, ld, 0);
	}
	for (t0 = 0; t0 < T; t0 = t1) {
		t1 = t0 + TB < T ? t0 + TB : T;
		/* dK[t0:t1] = dS[t0:T, t0:t1]^T . Q[t0:T] */
		tl_sgemm(NULL, t1 - t0, hs, T - t0, datt + (long)t0 * T + t0, 1,
		    T, q + t0 * ld, ld, 1, dk + t0 * ld, ld, 0);
	}
}

void
tl_attention_backward(tl_pool *p, float *dqkv, float *datt, const float *dout,
    const float *qkv, const float *att, int B, int T, int C, int H,
    const tl_drop *d)
{
	att_job j;

	job_init(&j, qkv, B, T, C, H, d);
	j.dqkv = dqkv;
	j.datt = datt;
	j.dout = dout;
	j.catt = att;
	tl_pool_for(p, B * H, att_bwd, &j);
}
