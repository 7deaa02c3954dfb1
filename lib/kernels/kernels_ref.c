/*
 * kernels_ref.c: the scalar reference of every row kernel.  These are
 * the specification that each SIMD path is tested against; they are
 * written for clarity, in the order of operations the SIMD paths are
 * allowed to change only within the tolerances of the tests.
 */
#include <math.h>

#include "kernels_impl.h"

float
tl_dot_ref(const float *a, const float *b, int n)
{
	float s = 0;
	int i;

	for (i = 0; i < n; i++)
		s += a[i] * b[i];
	return s;
}

void
tl_axpy_ref(float *y, float a, const float *x, int n)
{
	int i;

	for (i = 0; i < n; i++)
		y[i] += a * x[i];
}

/* The 4 x 8 tile of the packed panels a (a[k*4 + i]) and b (b[k*8 + j]):
 * each element sums its products in increasing k from zero, the
 * order every path keeps (so that paths without FMA agree bit for bit
 * where float arithmetic is single precision, as on x86-64).  Only
 * the top-left m x n of the tile is stored to c. */
#define MR TL_REF_MR
#define NR TL_REF_NR

void
tl_gemm_tile_ref(int K, const void *pa, const void *pb, float *c, long ldc,
    int m, int n, int acc)
{
	const float *a = pa, *b = pb;
	float t[MR][NR] = {{0}};
	int i, j, k;

	for (k = 0; k < K; k++)
		for (i = 0; i < MR; i++)
			for (j = 0; j < NR; j++)
				t[i][j] += a[k * MR + i] * b[k * NR + j];
	for (i = 0; i < m; i++)
		for (j = 0; j < n; j++)
			c[i * ldc + j] = acc ? c[i * ldc + j] + t[i][j] :
			    t[i][j];
}

/* dst[k*R + i] = src[i*ws + k*ks] for i < w, zero for w <= i < R:
 * a panel of A or B for the tile above, from any strides.  The loop
 * order reads src along its unit stride when it has one. */
void
tl_gemm_pack_ref(float *dst, int R, const float *src, long ws, long ks, int w,
    int kc)
{
	int i, k;

	if (ws == 1) {
		for (k = 0; k < kc; k++, dst += R, src += ks) {
			for (i = 0; i < w; i++)
				dst[i] = src[i];
			for (; i < R; i++)
				dst[i] = 0;
		}
		return;
	}
	for (i = 0; i < w; i++, src += ws)
		if (ks == 1)
			for (k = 0; k < kc; k++)
				dst[k * R + i] = src[k];
		else
			for (k = 0; k < kc; k++)
				dst[k * R + i] = src[k * ks];
	for (; i < R; i++)
		for (k = 0; k < kc; k++)
			dst[k * R + i] = 0;
}

float
tl_absmax_ref(const float *x, int n)
{
	float m = 0;
	int i;

	for (i = 0; i < n; i++)
		if (fabsf(x[i]) > m)
			m = fabsf(x[i]);
	return m;
}

double
tl_abssum_ref(const float *x, int n)
{
	double s = 0;
	int i;

	for (i = 0; i < n; i++)
		s += fabsf(x[i]);
	return s;
}

/* Round to nearest, ties to even (the default rounding mode, as the
 * SSE conversion instructions do), then clamp; NaN (from a NaN or
 * infinite input) becomes lo, so that the values are always in
 * [lo, hi] and every conversion to an integer type downstream (the
 * tgemm packs) is defined. */
void
tl_quant_ref(float *q, const float *x, int n, float s, float lo, float hi)
{
	int i;
	float r;

	for (i = 0; i < n; i++) {
		r = rintf(x[i] * s);
		q[i] = r != r ? lo : r < lo ? lo : r > hi ? hi : r;
	}
}

/* NaN becomes -128, as SSE2's maxps(r, -128) makes it. */
void
tl_quant_i8_ref(int8_t *q, const float *x, int n, float s)
{
	int i;
	float r;

	for (i = 0; i < n; i++) {
		r = rintf(x[i] * s);
		q[i] = (int8_t)(!(r >= -128) ? -128 : r > 127 ? 127 : r);
	}
}

/* AdamW with decoupled weight decay (Loshchilov and Hutter):
 *   m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2
 *   p -= lr (m/bc1 / (sqrt(v/bc2) + eps) + wd p)
 * bc1 = 1 - b1^t and bc2 = 1 - b2^t are the bias corrections. */
void
tl_adamw_ref(float *p, const float *g, float *m, float *v, int n, float lr,
    float b1, float b2, float eps, float wd, float bc1, float bc2)
{
	int i;
	float mh, vh;

	for (i = 0; i < n; i++) {
		m[i] = b1 * m[i] + (1 - b1) * g[i];
		v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
		mh = m[i] / bc1;
		vh = v[i] / bc2;
		p[i] -= lr * (mh / (sqrtf(vh) + eps) + wd * p[i]);
	}
}

float
tl_softmax_ref(float *x, int n)
{
	float mx = x[0], s = 0;
	int i;

	for (i = 1; i < n; i++)
		if (x[i] > mx)
			mx = x[i];
	for (i = 0; i < n; i++) {
		x[i] = expf(x[i] - mx);
		s += x[i];
	}
	for (i = 0; i < n; i++)
		x[i] /= s;
	return logf(s) + mx;
}

/*
 * Int8 x ternary GEMM (tl_tgemm).  The reference panels are plain
 * bytes, k-major like the float ones: p[k*R + i] = src[i*ld + k], kc
 * rounded up to a multiple of 4 with zeros (the SIMD layouts group k
 * by 2 or 4).  The values are integers, so the float to int8
 * conversion is exact; the tile sums in int32, exactly.
 */
void
tl_tgemm_pack_ref(void *dst, int R, const float *src, long ld, int w, int kc)
{
	int8_t *d = dst;
	int kp = (kc + 3) & ~3, i, k;

	for (k = 0; k < kp; k++)
		for (i = 0; i < R; i++)
			d[k * R + i] = i < w && k < kc ?
			    (int8_t)src[i * ld + k] : 0;
}

void
tl_tgemm_tile_ref(int kc, const void *a, const void *b, float *c, long ldc,
    int m, int n, int acc)
{
	const int8_t *pa = a, *pb = b;
	int32_t t[MR][NR] = {{0}};
	int kp = (kc + 3) & ~3, i, j, k;

	for (k = 0; k < kp; k++)
		for (i = 0; i < MR; i++)
			for (j = 0; j < NR; j++)
				t[i][j] += pa[k * MR + i] * pb[k * NR + j];
	for (i = 0; i < m; i++)
		for (j = 0; j < n; j++)
			c[i * ldc + j] = acc ? c[i * ldc + j] + (float)t[i][j] :
			    (float)t[i][j];
}
