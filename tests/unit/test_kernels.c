/*
 * test_kernels.c: every SIMD path of every row kernel against the
 * scalar reference on odd sizes and unaligned pointers; tl_sgemm
 * against a plain triple loop for the three stride patterns of a
 * linear layer; tl_tgemm (int8 x ternary) against exact integer sums on
 * every path; attention against a double-precision reference and
 * its backward against finite differences; results independent of the
 * pool size; the thread pool, the TL_SIMD switch and CRC-32.
 *
 * Usage: test_kernels        run the checks
 *        test_kernels -p     print the path tl_simd_init picks (for
 *                            TL_SIMD tests), or its error, exit 2
 */
#include <float.h>
#include <stdint.h>
#include <string.h>

#include "kernels/kernels.h"
#include "unit.h"
#include "util/util.h"

/*
 * Tolerances, relative to the scale of what is computed.  Elementwise
 * kernels do the reference's IEEE operations in order and only differ
 * where x87 double rounding does (i686); reductions reorder sums of n
 * terms, whose error is bounded by about n * FLT_EPSILON times the sum
 * of magnitudes; softmax also replaces expf by a polynomial.
 */
#define TOL_ELEM	2e-7	/* elementwise: relative */
#define TOL_SUM		1e-5	/* float reductions: times sum |terms| */
#define TOL_DSUM	1e-12	/* double reductions: relative */
#define TOL_SOFTMAX	1e-5	/* probabilities, relative */
#define TOL_EXP_ABS	1e-7	/* probabilities, absolute */
#define TOL_GEMM	1e-5	/* times sum_k |a_ik b_kj| */
#define TOL_ATT		1e-5	/* attention against double: absolute */
#define TOL_FD_ABS	2e-3	/* finite differences of a float forward */
#define TOL_FD_REL	2e-2

static const int sizes[] = { 1, 3, 15, 17, 255, 1023 };
#define NSIZES ((int)(sizeof sizes / sizeof sizes[0]))

static tl_rng rng;

static float
frand(float lo, float hi)
{
	return lo + (hi - lo) * tl_rng_float(&rng);
}

static void
fill(float *x, int n, float lo, float hi)
{
	int i;

	for (i = 0; i < n; i++)
		x[i] = frand(lo, hi);
}

/* A float array of n elements starting `off` floats past a 16-byte
 * boundary (malloc's alignment): off = 1 is unaligned for SSE. */
static float *
falloc(int n, int off, void **base)
{
	*base = malloc((n + 4) * sizeof(float));
	if (*base == NULL) {
		fprintf(stderr, "out of memory\n");
		exit(1);
	}
	return (float *)*base + off;
}

/* Same bits, or both NaN. */
static int
same(float a, float b)
{
	return memcmp(&a, &b, sizeof a) == 0 || (a != a && b != b);
}

/* ---- row kernels ---- */

static void
test_dot_axpy(const tl_kern *k, const char *name, int n, int off)
{
	const tl_kern *r = &tl_kern_ref;
	void *ba, *bb, *by1, *by2;
	float *a = falloc(n, off, &ba), *b = falloc(n, off, &bb);
	float *y1 = falloc(n, off, &by1), *y2 = falloc(n, off, &by2);
	double mag = 0;
	int i, bad = 0;

	fill(a, n, -2, 2);
	fill(b, n, -2, 2);
	for (i = 0; i < n; i++)
		mag += fabs((double)a[i] * b[i]);
	CHECK_CLOSE(k->dot(a, b, n), r->dot(a, b, n), TOL_SUM * mag, 0);

	fill(y1, n, -1, 1);
	memcpy(y2, y1, n * sizeof *y1);
	k->axpy(y1, 0.37f, a, n);
	r->axpy(y2, 0.37f, a, n);
	for (i = 0; i < n; i++)
		if (fabsf(y1[i] - y2[i]) > TOL_ELEM * (fabsf(y2[i]) + 1))
			bad++;
	CHECK_NONE_BAD(bad, "%s axpy n=%d off=%d: %d elements differ\n",
	    name, n, off, bad);
	free(ba);
	free(bb);
	free(by1);
	free(by2);
}

static void
test_abs(const tl_kern *k, const char *name, int n, int off)
{
	const tl_kern *r = &tl_kern_ref;
	void *bx;
	float *x = falloc(n, off, &bx);
	double ref;

	(void)name;
	fill(x, n, -3, 3);
	/* the largest magnitude at either end, where tails live */
	x[n - 1] = -7.5f;
	CHECK(k->absmax(x, n) == r->absmax(x, n));
	x[0] = 9.25f;
	CHECK(k->absmax(x, n) == r->absmax(x, n));
	CHECK(k->absmax(x, n) == 9.25f);
	ref = r->abssum(x, n);
	CHECK_CLOSE(k->abssum(x, n), ref, 0, TOL_DSUM);
	free(bx);
}

/* Values that stress rint: ties, negative zeros, beyond 2^23,
 * infinities and NaN, beyond the clamp bounds. */
static float
nasty(int i)
{
	static const float v[] = {
		0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, 0.49999997f, -0.3f,
		-0.0f, 0.0f, 126.5f, 127.5f, -128.5f, -127.5f, 8388607.5f,
		-8388607.5f, 8388608.0f, 16777217.0f, 3e9f, -3e9f, 1e30f,
		INFINITY, -INFINITY, 200.0f, -200.0f, 1.0f, -1.0f,
	};

	return v[i % (int)(sizeof v / sizeof v[0])];
}

static void
test_quant(const tl_kern *k, const char *name, int n, int off)
{
	static const float bounds[][2] = {
		{ -1, 1 }, { -128, 127 }, { -1e30f, 1e30f }, { -0.0f, 0.0f },
		{ -1.5f, 2.25f },
	};
	const tl_kern *r = &tl_kern_ref;
	void *bx, *bq1, *bq2;
	float *x = falloc(n, off, &bx);
	float *q1 = falloc(n, off, &bq1), *q2 = falloc(n, off, &bq2);
	int8_t *i1 = malloc(n + 1), *i2 = malloc(n + 1);
	float s;
	int i, b, pass, bad;

	for (pass = 0; pass < 3; pass++) {
		for (i = 0; i < n; i++)
			x[i] = pass == 0 ? frand(-3, 3) : pass == 1 ?
			    frand(-200, 200) : nasty(i + off);
		s = pass == 2 ? 1.0f : 0.7f + pass;
		for (b = 0; b < (int)(sizeof bounds / sizeof bounds[0]); b++) {
			k->quant(q1, x, n, s, bounds[b][0], bounds[b][1]);
			r->quant(q2, x, n, s, bounds[b][0], bounds[b][1]);
			for (bad = i = 0; i < n; i++)
				if (!same(q1[i], q2[i])) {
					if (bad++ == 0)
						fprintf(stderr, "%s quant n=%d "
						    "off=%d: x=%.9g q=%.9g "
						    "want %.9g\n", name, n,
						    off, x[i], q1[i], q2[i]);
				}
			CHECK(bad == 0);
		}
		/* NaN has no int8: leave it out */
		for (i = 0; i < n; i++)
			if (x[i] != x[i])
				x[i] = 0;
		k->quant_i8(i1 + (off & 1), x, n, s);
		r->quant_i8(i2 + (off & 1), x, n, s);
		CHECK(memcmp(i1 + (off & 1), i2 + (off & 1), n) == 0);
	}
	free(bx);
	free(bq1);
	free(bq2);
	free(i1);
	free(i2);
}

static void
test_adamw(const tl_kern *k, const char *name, int n, int off)
{
	void *b[7];
	float *p1 = falloc(n, off, &b[0]), *m1 = falloc(n, off, &b[1]);
	float *v1 = falloc(n, off, &b[2]), *p2 = falloc(n, off, &b[3]);
	float *m2 = falloc(n, off, &b[4]), *v2 = falloc(n, off, &b[5]);
	float *g = falloc(n, off, &b[6]);
	float pm = 0, mm = 0, vm = 0;
	int i, step, bad = 0;

	fill(p1, n, -1, 1);
	fill(m1, n, -0.1f, 0.1f);
	fill(v1, n, 0, 0.01f);
	memcpy(p2, p1, n * sizeof *p1);
	memcpy(m2, m1, n * sizeof *m1);
	memcpy(v2, v1, n * sizeof *v1);
	for (step = 1; step <= 3; step++) {
		fill(g, n, -0.5f, 0.5f);
		k->adamw(p1, g, m1, v1, n, 1e-3f, 0.9f, 0.95f, 1e-8f, 0.1f,
		    1 - powf(0.9f, step), 1 - powf(0.95f, step));
		tl_kern_ref.adamw(p2, g, m2, v2, n, 1e-3f, 0.9f, 0.95f, 1e-8f,
		    0.1f, 1 - powf(0.9f, step), 1 - powf(0.95f, step));
	}
	/* m and v are sums that can cancel: measure their error against
	 * the largest element of each array */
	for (i = 0; i < n; i++) {
		pm = fmaxf(pm, fabsf(p2[i]));
		mm = fmaxf(mm, fabsf(m2[i]));
		vm = fmaxf(vm, fabsf(v2[i]));
	}
	for (i = 0; i < n; i++)
		if (fabsf(p1[i] - p2[i]) > TOL_ELEM * pm ||
		    fabsf(m1[i] - m2[i]) > TOL_ELEM * mm ||
		    fabsf(v1[i] - v2[i]) > TOL_ELEM * vm)
			bad++;
	CHECK_NONE_BAD(bad, "%s adamw n=%d off=%d: %d elements differ\n",
	    name, n, off, bad);
	for (i = 0; i < 7; i++)
		free(b[i]);
}

static void
test_softmax(const tl_kern *k, const char *name, int n, int off)
{
	void *b1, *b2;
	float *x1 = falloc(n, off, &b1), *x2 = falloc(n, off, &b2);
	float l1, l2;
	int i, pass, bad;

	for (pass = 0; pass < 3; pass++) {
		/* small logits; a wide range that underflows; masked ones */
		fill(x1, n, pass == 1 ? -120 : -4, pass == 1 ? 30 : 4);
		if (pass == 2)
			for (i = 1; i < n; i += 3)
				x1[i] = -INFINITY;
		memcpy(x2, x1, n * sizeof *x1);
		l1 = k->softmax(x1, n);
		l2 = tl_kern_ref.softmax(x2, n);
		CHECK_CLOSE(l1, l2, 1e-6, TOL_SOFTMAX);
		for (bad = i = 0; i < n; i++)
			if (!(fabsf(x1[i] - x2[i]) <= TOL_EXP_ABS +
			    TOL_SOFTMAX * x2[i]))
				bad++;
		/* a masked score has probability exactly 0 */
		for (i = 1; pass == 2 && i < n; i += 3)
			if (x1[i] != 0)
				bad++;
		CHECK_NONE_BAD(bad, "%s softmax n=%d off=%d pass %d: %d "
		    "probabilities differ\n", name, n, off, pass, bad);
	}
	free(b1);
	free(b2);
}

static void
test_rows(void)
{
	const tl_kern *k;
	const char *name;
	int p, s, off;

	for (p = TL_SIMD_SCALAR; p < TL_SIMD_NPATH; p++) {
		if (!tl_simd_supported(p))
			continue;
		k = tl_k_path(p);
		name = tl_simd_name(p);
		for (s = 0; s < NSIZES; s++)
			for (off = 0; off < 2; off++) {
				test_dot_axpy(k, name, sizes[s], off);
				test_abs(k, name, sizes[s], off);
				test_quant(k, name, sizes[s], off);
				test_adamw(k, name, sizes[s], off);
				test_softmax(k, name, sizes[s], off);
			}
	}
}

/* ---- sgemm ---- */

#define PAD 3	/* extra columns of C that must stay untouched */

/* The three stride patterns of a linear layer, for A (M,K), B (K,N). */
enum { FWD, DX, DW, NPAT };
static const char *patname[NPAT] = { "x.W^T", "dY.W", "dY^T.X" };

static void
strides(int pat, int M, int N, int K, long *ars, long *acs, long *brs,
    long *bcs)
{
	switch (pat) {
	case FWD:	/* A row-major; B = W^T, W is (N,K) */
		*ars = K, *acs = 1, *brs = 1, *bcs = K;
		break;
	case DX:	/* A row-major; B row-major */
		*ars = K, *acs = 1, *brs = N, *bcs = 1;
		break;
	default:	/* A = dY^T, dY is (K,M); B row-major */
		*ars = 1, *acs = M, *brs = N, *bcs = 1;
		break;
	}
}

static int
gemm_case(tl_pool *pool, const char *path, int pat, int M, int N, int K,
    int acc)
{
	long ars, acs, brs, bcs, ldc = N + PAD;
	float *A = malloc(((size_t)M * K + 1) * sizeof *A);
	float *B = malloc(((size_t)K * N + 1) * sizeof *B);
	float *C = malloc((size_t)M * ldc * sizeof *C);
	float *C0 = malloc((size_t)M * ldc * sizeof *C);
	double s, mag;
	int i, j, kk, bad = 0;

	strides(pat, M, N, K, &ars, &acs, &brs, &bcs);
	fill(A, M * K, -1, 1);
	fill(B, K * N, -1, 1);
	fill(C0, M * (int)ldc, -1, 1);
	memcpy(C, C0, (size_t)M * ldc * sizeof *C);
	tl_sgemm(pool, M, N, K, A, ars, acs, B, brs, bcs, C, ldc, acc);
	for (i = 0; i < M; i++) {
		for (j = 0; j < N; j++) {
			s = acc ? C0[i * ldc + j] : 0;
			mag = fabs(s);
			for (kk = 0; kk < K; kk++) {
				s += (double)A[i * ars + kk * acs] *
				    B[kk * brs + j * bcs];
				mag += fabs((double)A[i * ars + kk * acs] *
				    B[kk * brs + j * bcs]);
			}
			if (!(fabs(C[i * ldc + j] - s) <= TOL_GEMM * mag +
			    1e-30))
				bad++;
		}
		for (; j < ldc; j++)
			if (C[i * ldc + j] != C0[i * ldc + j])
				bad++;
	}
	if (bad)
		fprintf(stderr, "%s sgemm %s M=%d N=%d K=%d acc=%d: %d "
		    "elements wrong\n", path, patname[pat], M, N, K, acc, bad);
	free(A);
	free(B);
	free(C);
	free(C0);
	return bad;
}

static void
test_sgemm(tl_pool *pool)
{
	/* odd shapes; K > 256 makes several k blocks; M > 1024 and
	 * N > 2048 several row and column blocks */
	static const int shapes[][3] = {
		{ 1, 1, 1 }, { 3, 5, 7 }, { 17, 33, 19 }, { 7, 9, 1 },
		{ 67, 131, 300 }, { 5, 1, 513 }, { 1, 70, 45 },
		{ 130, 70, 45 }, { 1030, 3, 5 }, { 2, 2100, 3 },
		{ 64, 96, 256 }, { 4, 8, 0 },
	};
	int p, s, pat, acc;

	for (p = TL_SIMD_SCALAR; p < TL_SIMD_NPATH; p++) {
		if (tl_simd_set(p) < 0)
			continue;
		for (s = 0; s < (int)(sizeof shapes / sizeof shapes[0]); s++)
			for (pat = 0; pat < NPAT; pat++)
				for (acc = 0; acc < 2; acc++)
					CHECK(gemm_case(pool, tl_simd_name(p),
					    pat, shapes[s][0], shapes[s][1],
					    shapes[s][2], acc) == 0);
	}
}

/* Zero terms past K1 leave every element as it was (the k blocks sit
 * at fixed positions): what lets a KV-cache step match the batched
 * pass, whose causal rows carry zeros past their position. */
static void
test_sgemm_zero_tail(void)
{
	enum { M = 9, N = 21, K1 = 300, K2 = 700 };
	static float A[M * K2], B[K2 * N], C1[M * N], C2[M * N];
	int i, k, same = 1;

	fill(B, K2 * N, -1, 1);
	for (i = 0; i < M; i++)
		for (k = 0; k < K2; k++)
			A[i * K2 + k] = k < K1 ? frand(-1, 1) : 0;
	tl_sgemm(NULL, M, N, K1, A, K2, 1, B, N, 1, C1, N, 0);
	tl_sgemm(NULL, M, N, K2, A, K2, 1, B, N, 1, C2, N, 0);
	for (i = 0; i < M * N; i++)
		same &= C1[i] == C2[i];
	CHECK(same);
}

/* ---- int8 x ternary GEMM ---- */

/* C (M,N) = A (M,K) . W (N,K)^T by tl_tgemm against exact integer sums,
 * with A's values in [-128, 127] and W's in {-1, 0, 1}; kind 1 puts
 * every value at its extreme (the largest sums a lane can hold).
 * Columns of C past N stay untouched. */
static int
tgemm_case(tl_pool *pool, const char *path, int M, int N, int K, int kind)
{
	long lda = K + 3, ldw = K + 1, ldc = N + PAD;
	float *A = malloc(((size_t)M * lda + 1) * sizeof *A);
	float *W = malloc(((size_t)N * ldw + 1) * sizeof *W);
	float *C = malloc((size_t)M * ldc * sizeof *C);
	float *C0 = malloc((size_t)M * ldc * sizeof *C);
	long long s;
	int i, j, k, bad = 0;

	for (i = 0; i < M * lda; i++)
		A[i] = kind ? (i % 7 ? -128.0f : 127.0f) :
		    (float)((int)tl_rng_below(&rng, 256) - 128);
	for (i = 0; i < N * ldw; i++)
		W[i] = kind ? (i % 5 ? 1.0f : -1.0f) :
		    (float)((int)tl_rng_below(&rng, 3) - 1);
	fill(C0, M * (int)ldc, -1, 1);
	memcpy(C, C0, (size_t)M * ldc * sizeof *C);
	tl_tgemm(pool, M, N, K, A, lda, W, ldw, C, ldc);
	for (i = 0; i < M; i++) {
		for (j = 0; j < N; j++) {
			for (s = 0, k = 0; k < K; k++)
				s += (long long)A[i * lda + k] * W[j * ldw + k];
			if (C[i * ldc + j] != (float)s)
				bad++;
		}
		for (; j < ldc; j++)
			if (!same(C[i * ldc + j], C0[i * ldc + j]))
				bad++;
	}
	if (bad)
		fprintf(stderr, "%s tgemm M=%d N=%d K=%d kind %d: %d elements "
		    "wrong\n", path, M, N, K, kind, bad);
	free(A);
	free(W);
	free(C);
	free(C0);
	return bad;
}

static void
test_tgemm(tl_pool **pools)
{
	/* odd shapes and tails of k; K > 512 makes several k blocks,
	 * K = 4100 several int16 widenings per block on the pmaddubsw
	 * paths; M > 1024 and N > 2048 several row and column blocks */
	static const int shapes[][3] = {
		{ 1, 1, 1 }, { 3, 5, 7 }, { 17, 33, 19 }, { 4, 16, 64 },
		{ 67, 131, 300 }, { 5, 1, 513 }, { 1, 70, 45 },
		{ 130, 70, 45 }, { 1030, 3, 5 }, { 2, 2100, 3 },
		{ 64, 96, 256 }, { 9, 17, 4100 }, { 4, 8, 0 },
	};
	int p, s, kind;

	for (p = TL_SIMD_SCALAR; p < TL_SIMD_NPATH; p++) {
		if (tl_simd_set(p) < 0)
			continue;
		for (s = 0; s < (int)(sizeof shapes / sizeof shapes[0]); s++)
			for (kind = 0; kind < 2; kind++)
				CHECK(tgemm_case(pools[s % 3], tl_simd_name(p),
				    shapes[s][0], shapes[s][1], shapes[s][2],
				    kind) == 0);
	}
}

/* ---- attention ---- */

/* Double-precision causal attention for sequence b, head h. */
static void
att_ref(double *out, const float *qkv, int b, int h, int T, int C, int H)
{
	int hs = C / H, t, u, d;
	double sc[256], mx, sum;
	const float *base = qkv + (long)b * T * 3 * C;

	for (t = 0; t < T; t++) {
		mx = -1e300;
		for (u = 0; u <= t; u++) {
			sc[u] = 0;
			for (d = 0; d < hs; d++)
				sc[u] += (double)base[t * 3 * C + h * hs + d] *
				    base[u * 3 * C + C + h * hs + d];
			sc[u] /= sqrt((double)hs);
			if (sc[u] > mx)
				mx = sc[u];
		}
		sum = 0;
		for (u = 0; u <= t; u++)
			sum += sc[u] = exp(sc[u] - mx);
		for (d = 0; d < hs; d++) {
			out[t * hs + d] = 0;
			for (u = 0; u <= t; u++)
				out[t * hs + d] += sc[u] / sum *
				    base[u * 3 * C + 2 * C + h * hs + d];
		}
	}
}

static void
test_attention_ref(tl_pool *pool, int B, int T, int C, int H)
{
	int n = B * T * 3 * C, hs = C / H, b, h, t, d, bad = 0, zero = 1;
	float *qkv = malloc(n * sizeof *qkv);
	float *out = malloc(B * T * C * sizeof *out);
	float *att = malloc((size_t)B * H * T * T * sizeof *att);
	double *ref = malloc(T * hs * sizeof *ref);

	fill(qkv, n, -1.5f, 1.5f);
	tl_attention_forward(pool, out, att, NULL, qkv, B, T, C, H, NULL);
	for (b = 0; b < B; b++)
		for (h = 0; h < H; h++) {
			att_ref(ref, qkv, b, h, T, C, H);
			for (t = 0; t < T; t++) {
				for (d = 0; d < hs; d++)
					if (!(fabs(out[(b * T + t) * C +
					    h * hs + d] - ref[t * hs + d]) <=
					    TOL_ATT))
						bad++;
				for (d = t + 1; d < T; d++)
					if (att[((long)(b * H + h) * T + t) *
					    T + d] != 0)
						zero = 0;
			}
		}
	CHECK_NONE_BAD(bad, "attention B=%d T=%d C=%d H=%d: %d outputs "
	    "wrong\n", B, T, C, H, bad);
	CHECK(zero);
	free(qkv);
	free(out);
	free(att);
	free(ref);
}

/* L = sum out * w, so dout = w; dL/dqkv by central differences,
 * with dropout d (NULL: none), whose masks stay the same. */
static void
test_attention_fd(tl_pool *pool, const tl_drop *d)
{
	enum { B = 2, T = 5, C = 8, H = 2 };
	static float qkv[B * T * 3 * C], dqkv[B * T * 3 * C];
	static float out[B * T * C], w[B * T * C];
	static float att[B * H * T * T], datt[B * H * T * T];
	const float eps = 4e-3f;
	double lp, lm;
	float x;
	int i, j;

	fill(qkv, B * T * 3 * C, -1, 1);
	fill(w, B * T * C, -1, 1);
	/* the scratch holds what it held before: no zeros to count on */
	fill(datt, B * H * T * T, 5, 9);
	tl_attention_forward(pool, out, att, datt, qkv, B, T, C, H, d);
	tl_attention_backward(pool, dqkv, datt, w, qkv, att, B, T, C, H, d);
	for (i = 0; i < B * T * 3 * C; i++) {
		x = qkv[i];
		qkv[i] = x + eps;
		fill(datt, B * H * T * T, 5, 9);
		tl_attention_forward(pool, out, att, datt, qkv, B, T, C, H, d);
		for (lp = 0, j = 0; j < B * T * C; j++)
			lp += (double)out[j] * w[j];
		qkv[i] = x - eps;
		tl_attention_forward(pool, out, att, datt, qkv, B, T, C, H, d);
		for (lm = 0, j = 0; j < B * T * C; j++)
			lm += (double)out[j] * w[j];
		qkv[i] = x;
		CHECK_CLOSE(dqkv[i], (lp - lm) / (2 * eps), TOL_FD_ABS,
		    TOL_FD_REL);
	}
}

/* Forward and backward give the same bits on pools of 1, 2, 3, with
 * dropout d or none (NULL). */
static void
test_attention_threads(tl_pool **pools, int B, int T, int C, int H,
    const tl_drop *d)
{
	int n = B * T * 3 * C, i;
	size_t na = (size_t)B * H * T * T;
	float *qkv = malloc(n * sizeof *qkv), *dout = malloc(B * T * C * 4);
	float *out[3], *att[3], *dqkv[3], *datt;

	datt = malloc(na * sizeof *datt);
	fill(qkv, n, -1, 1);
	fill(dout, B * T * C, -1, 1);
	for (i = 0; i < 3; i++) {
		out[i] = malloc(B * T * C * sizeof(float));
		att[i] = malloc(na * sizeof(float));
		dqkv[i] = malloc(n * sizeof(float));
		tl_attention_forward(pools[i], out[i], att[i], datt, qkv, B, T,
		    C, H, d);
		tl_attention_backward(pools[i], dqkv[i], datt, dout, qkv,
		    att[i], B, T, C, H, d);
	}
	for (i = 1; i < 3; i++) {
		CHECK(memcmp(out[0], out[i], B * T * C * sizeof(float)) == 0);
		CHECK(memcmp(att[0], att[i], na * sizeof(float)) == 0);
		CHECK(memcmp(dqkv[0], dqkv[i], n * sizeof(float)) == 0);
	}
	for (i = 0; i < 3; i++) {
		free(out[i]);
		free(att[i]);
		free(dqkv[i]);
	}
	free(qkv);
	free(dout);
	free(datt);
}

/*
 * Dropout masks: the rate asked for, the kept elements scaled, the
 * same row for the same stream, another for another; attention under
 * dropout differs from attention without, and a rate of 0 is none.
 */
static void
test_dropout(void)
{
	enum { N = 1 << 16, B = 1, T = 9, C = 8, H = 2 };
	static float x[N], y[N], y2[N];
	static float qkv[B * T * 3 * C], out[2][B * T * C];
	static float att[B * H * T * T], datt[B * H * T * T];
	tl_drop d = tl_drop_make(0.25f, 7, 0), z = tl_drop_make(0, 7, 0);
	int i, zeros = 0, same = 0;

	for (i = 0; i < N; i++)
		x[i] = 1.0f + (float)(i % 5);
	tl_drop_row(&d, tl_drop_stream(&d, 3, 1, 4), y, x, N);
	tl_drop_row(&d, tl_drop_stream(&d, 3, 1, 5), y2, x, N);
	for (i = 0; i < N; i++) {
		zeros += y[i] == 0;
		same += y[i] == y2[i];
		CHECK(y[i] == 0 || y[i] == x[i] * (4.0f / 3.0f));
	}
	/* 16384 expected; 4 standard deviations are 443 */
	CHECK(zeros > 16384 - 443 && zeros < 16384 + 443);
	CHECK(same < N * 3 / 4);
	tl_drop_row(&d, tl_drop_stream(&d, 3, 1, 4), y2, x, N);
	CHECK(memcmp(y, y2, sizeof y) == 0);
	CHECK(z.thr == 0 && d.thr == 64);
	fill(qkv, B * T * 3 * C, -1, 1);
	tl_attention_forward(NULL, out[0], att, datt, qkv, B, T, C, H, &z);
	tl_attention_forward(NULL, out[1], att, NULL, qkv, B, T, C, H, NULL);
	CHECK(memcmp(out[0], out[1], sizeof out[0]) == 0);
	tl_attention_forward(NULL, out[1], att, datt, qkv, B, T, C, H, &d);
	CHECK(memcmp(out[0], out[1], sizeof out[0]) != 0);
}

/* tl_sgemm gives the same bits on pools of 1, 2, 3. */
static void
test_sgemm_threads(tl_pool **pools)
{
	enum { M = 203, N = 517, K = 300 };
	float *A = malloc(M * K * sizeof *A), *B = malloc(K * N * sizeof *B);
	float *C[3];
	int i, pat;
	long ars, acs, brs, bcs;

	fill(A, M * K, -1, 1);
	fill(B, K * N, -1, 1);
	for (pat = 0; pat < NPAT; pat++) {
		strides(pat, M, N, K, &ars, &acs, &brs, &bcs);
		for (i = 0; i < 3; i++) {
			C[i] = malloc(M * N * sizeof(float));
			tl_sgemm(pools[i], M, N, K, A, ars, acs, B, brs, bcs,
			    C[i], N, 0);
		}
		CHECK(memcmp(C[0], C[1], M * N * sizeof(float)) == 0);
		CHECK(memcmp(C[0], C[2], M * N * sizeof(float)) == 0);
		for (i = 0; i < 3; i++)
			free(C[i]);
	}
	free(A);
	free(B);
}

/* ---- pool ---- */

typedef struct {
	tl_pool *p;
	int *hits;
	int n;
} pool_ctx;

static void
hit(void *ctx, int i)
{
	pool_ctx *c = ctx;

	c->hits[i]++;
}

/* Each item runs a nested loop on the same pool (serially). */
static void
nested(void *ctx, int i)
{
	pool_ctx *c = ctx, in = *c;

	in.hits = c->hits + (long)i * c->n;
	tl_pool_for(c->p, c->n, hit, &in);
}

static void
test_pool(tl_pool **pools)
{
	static const int ns[] = { 0, 1, 2, 3, 7, 100, 1001 };
	int hits[1001 * 8], i, j, t, rep, ok;
	pool_ctx c;
	tl_pool *all;

	/* nthreads <= 0: one per CPU */
	all = tl_pool_new(0);
	CHECK(all != NULL && tl_pool_threads(all) == tl_ncpu());
	tl_pool_free(all);

	for (t = 0; t < 4; t++) {
		c.p = t < 3 ? pools[t] : NULL;
		CHECK(tl_pool_threads(c.p) == (t < 3 ? t + 1 : 1));
		for (j = 0; j < (int)(sizeof ns / sizeof ns[0]); j++) {
			memset(hits, 0, sizeof hits);
			c.hits = hits;
			/* many short calls in a row */
			for (rep = 0; rep < 50; rep++)
				tl_pool_for(c.p, ns[j], hit, &c);
			for (ok = 1, i = 0; i < ns[j]; i++)
				ok &= hits[i] == 50;
			for (; i < 1001; i++)
				ok &= hits[i] == 0;
			CHECK(ok);
		}
		memset(hits, 0, sizeof hits);
		c.hits = hits;
		c.n = 1001;
		tl_pool_for(c.p, 8, nested, &c);
		for (ok = 1, i = 0; i < 8 * 1001; i++)
			ok &= hits[i] == 1;
		CHECK(ok);
	}
}

/* ---- dispatch ---- */

static void
test_dispatch(void)
{
	char err[TL_ERRLEN];
	int p;

	CHECK(tl_simd_supported(TL_SIMD_SCALAR));
	CHECK(!tl_simd_supported(-1) && !tl_simd_supported(TL_SIMD_NPATH));
	CHECK(tl_k_path(TL_SIMD_SCALAR) == &tl_kern_ref);
	CHECK(tl_simd_set(TL_SIMD_NPATH) == -1);
	setenv("TL_SIMD", "altivec", 1);
	CHECK(tl_simd_init(err) == -1);
	CHECK(strstr(err, "altivec") != NULL);
	for (p = 0; p < TL_SIMD_NPATH; p++) {
		setenv("TL_SIMD", tl_simd_name(p), 1);
		if (tl_simd_supported(p)) {
			CHECK(tl_simd_init(err) == 0);
			CHECK(tl_simd_path() == p);
			CHECK(tl_k() == tl_k_path(p));
		} else {
			CHECK(tl_simd_init(err) == -1);
			CHECK(tl_simd_set(p) == -1);
		}
	}
	unsetenv("TL_SIMD");
	CHECK(tl_simd_init(err) == 0);
	for (p = 0; p < TL_SIMD_NPATH; p++)
		if (tl_simd_supported(p))
			CHECK(tl_simd_path() >= p);
}

int
main(int argc, char **argv)
{
	char err[TL_ERRLEN];
	tl_pool *pools[3];
	tl_drop drop;
	int i, p;

	if (argc > 1 && strcmp(argv[1], "-p") == 0) {
		if (tl_simd_init(err) < 0) {
			fprintf(stderr, "test_kernels: %s\n", err);
			return 2;
		}
		printf("%s\n", tl_simd_name(tl_simd_path()));
		return 0;
	}
	tl_rng_seed(&rng, 20240601);
	CHECK(tl_crc32(0, "123456789", 9) == 0xCBF43926u);
	for (i = 0; i < 3; i++)
		if ((pools[i] = tl_pool_new(i + 1)) == NULL) {
			fprintf(stderr, "test_kernels: cannot start threads\n");
			return 1;
		}

	drop = tl_drop_make(0.3f, 12345, 1);
	test_dispatch();
	test_pool(pools);
	test_rows();
	test_sgemm(pools[1]);
	test_tgemm(pools);
	for (p = TL_SIMD_SCALAR; p < TL_SIMD_NPATH; p++) {
		if (tl_simd_set(p) < 0)
			continue;
		test_sgemm_threads(pools);
		test_sgemm_zero_tail();
		test_attention_ref(pools[1], 2, 7, 12, 3);
		test_attention_ref(pools[2], 2, 150, 32, 2);
		test_attention_fd(pools[1], NULL);
		test_attention_fd(pools[1], &drop);
		test_attention_threads(pools, 2, 70, 24, 3, NULL);
		test_attention_threads(pools, 2, 70, 24, 3, &drop);
	}
	test_dropout();

	for (i = 0; i < 3; i++)
		tl_pool_free(pools[i]);
	return unit_done("test_kernels");
}
