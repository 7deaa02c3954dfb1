/*
 * tkernels_ref.c: the scalar references of the kernels of inference:
 * gemv_t and the 8-bit cache's scores_u8 and attv_u8 (attention over
 * a cache) and the packed-weight kernels, int8
 * activations times ternary (tq2, tq1), int8 (q8) or int4 (q4)
 * weights.  They decode every weight by the definition of its layout
 * (tl-packed(5)) and are the specification the SIMD paths are tested
 * against: the integer sums are exact, so every path must give these
 * very bits.
 *
 * Layouts of one row of n weights (the row's padding included):
 *
 *   tq2  n/64 groups of 16 bytes; bits 2i..2i+1 of byte l of group g
 *        hold code c = t + 1 (0, 1 or 2) of weight 64g + 16i + l.
 *   tq1  n/80 groups of 16 bytes, byte l of group g holding the five
 *        codes c_0..c_4 of weights 80g + 16i + l as
 *        q = ceil(256 v / 243), v = sum_i c_i 3^(4-i); then the rest of
 *        the row (0 to 64 weights) in groups of 4 bytes, byte l of
 *        tail group j holding the four codes of weights
 *        80(n/80) + 16j + 4l + i as q = ceil(256 v / 81),
 *        v = sum_i c_i 3^(3-i).  Code i of a byte q is
 *        ((q 3^i mod 256) 3) >> 8, as in llama.cpp's TQ1_0.
 *   q8   n int8 values, one per weight, in order.
 *   q4   groups of 16 bytes, byte l of group g holding weight 32g + l
 *        in its low nibble and 32g + 16 + l in its high one, each as
 *        the value + 8.
 */
#include "kernels_impl.h"

/* Each element a running sum from zero in increasing u, as the GEMM
 * tile sums (kernels_ref.c). */
void
tl_gemv_t_ref(float *y, const float *a, const float *X, long ldx, int m,
    int n, int acc)
{
	int u, j;
	float t;

	for (j = 0; j < n; j++) {
		t = 0;
		for (u = 0; u < m; u++)
			t += a[u] * X[u * ldx + j];
		y[j] = acc ? y[j] + t : t;
	}
}

/* Code i (0 first) of a tq1 byte. */
static int
trit(unsigned q, int i)
{
	static const unsigned pow3[5] = { 1, 3, 9, 27, 81 };

	return (int)((((q * pow3[i]) & 255) * 3) >> 8);
}

void
tl_matvec_tq2_ref(TL_MATVEC_T_ARGS)
{
	int r, j, c;
	int32_t sum;

	for (r = 0; r < m; r++, w += ldw) {
		sum = 0;
		for (j = 0; j < n; j++) {
			c = (w[j / 64 * 16 + j % 16] >> (2 * (j % 64 / 16))) & 3;
			sum += (c - 1) * x->q[j];
		}
		s[r] = sum;
	}
}

void
tl_matvec_tq1_ref(TL_MATVEC_T_ARGS)
{
	int r, j, c, g5 = n / 80, t;
	int32_t sum;

	for (r = 0; r < m; r++, w += ldw) {
		sum = 0;
		for (j = 0; j < 80 * g5; j++) {
			c = trit(w[j / 80 * 16 + j % 16], j % 80 / 16);
			sum += (c - 1) * x->q[j];
		}
		for (; j < n; j++) {
			t = j - 80 * g5;
			c = trit(w[16 * g5 + t / 4], t % 4);
			sum += (c - 1) * x->q[j];
		}
		s[r] = sum;
	}
}

/* Weight j of a q8 or q4 row (the value, without its block's scale). */
static int
weight_q8(const uint8_t *w, int j)
{
	return ((const int8_t *)w)[j];
}

static int
weight_q4(const uint8_t *w, int j)
{
	return ((w[j / 32 * 16 + j % 16] >> (j % 32 / 16 * 4)) & 15) - 8;
}

/* The blocks of 64 weights with a scale each: y[r] is the sum over b,
 * in increasing b, of d[r][b] times block b's exact integer sum. */
static void
scaled_blocks(float *y, const uint8_t *w, long ldw, const float *d,
    long ldd, int m, int n, const tl_xq8 *x,
    int (*weight)(const uint8_t *, int))
{
	int r, b, j;
	int32_t sum;
	float acc;

	for (r = 0; r < m; r++, w += ldw, d += ldd) {
		acc = 0;
		for (b = 0; b < n / 64; b++) {
			sum = 0;
			for (j = 64 * b; j < 64 * b + 64; j++)
				sum += weight(w, j) * x->q[j];
			acc += d[b] * (float)sum;
		}
		y[r] = acc;
	}
}

void
tl_matvec_q8_ref(float *y, const int8_t *w, long ldw, const float *d,
    long ldd, int m, int n, const tl_xq8 *x)
{
	scaled_blocks(y, (const uint8_t *)w, ldw, d, ldd, m, n, x, weight_q8);
}

void
tl_matvec_q4_ref(float *y, const uint8_t *w, long ldw, const float *d,
    long ldd, int m, int n, const tl_xq8 *x)
{
	scaled_blocks(y, w, ldw, d, ldd, m, n, x, weight_q4);
}

void
tl_scores_u8_ref(int32_t *s, const uint8_t *k, long ldk, int n,
    const int16_t *q, int hs)
{
	int32_t t;
	int u, i;

	for (u = 0; u < n; u++) {
		t = 0;
		for (i = 0; i < hs; i++)
			t += k[u * ldk + i] * q[i];
		s[u] = t;
	}
}

void
tl_attv_u8_ref(int32_t *o, const uint8_t *v, long ldv, const int16_t *w,
    int np, int n)
{
	const uint8_t *p;
	int32_t s;
	int i, j;

	for (i = 0; i < n; i++) {
		s = 0;
		for (j = 0, p = v + 2 * i; j < np; j++, p += ldv)
			s += w[2 * j] * p[0] + w[2 * j + 1] * p[1];
		o[i] = s;
	}
}
