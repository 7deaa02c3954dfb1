/*
 * sample.c: greedy, temperature, top-k and top-p sampling.
 *
 * With temperature t the weight of token i is exp((l_i - max l) / t).
 * Top-k keeps the k heaviest tokens; top-p then keeps, from the
 * heaviest down, the fewest whose weights reach the fraction p of
 * what is left; one token is drawn from the rest in proportion to its
 * weight.  Ties in weight are broken by the lower id, so that every
 * step is a pure function of the logits and the generator state.
 */
#include <math.h>
#include <stdlib.h>

#include "model/model.h"

typedef struct {
	float w;	/* unnormalised probability */
	int id;
} cand;

struct tl_sampler {
	int V;
	tl_sampling s;
	tl_rng rng;
	cand *c;	/* (V) candidates */
};

void
tl_sampling_default(tl_sampling *s)
{
	static const tl_sampling def = {
		.temp = 0.8f, .topk = 40, .topp = 0.95f, .greedy = 0,
	};

	*s = def;
}

tl_sampler *
tl_sampler_new(int V, const tl_sampling *s, uint64_t seed, char *err)
{
	tl_sampler *sp;

	if (V < 1)
		return tl_err(err, "empty vocabulary"), NULL;
	if ((sp = calloc(1, sizeof *sp)) == NULL ||
	    (sp->c = calloc(V, sizeof *sp->c)) == NULL) {
		free(sp);
		return tl_err(err, "out of memory"), NULL;
	}
	sp->V = V;
	sp->s = *s;
	tl_rng_seed(&sp->rng, seed);
	return sp;
}

void
tl_sampler_free(tl_sampler *sp)
{
	if (sp == NULL)
		return;
	free(sp->c);
	free(sp);
}

int
tl_argmax(const float *x, int n)
{
	int i, best = 0;

	for (i = 1; i < n; i++)
		if (x[i] > x[best])
			best = i;
	return best;
}

/* a ranks before b: heavier, or as heavy and a lower id. */
static int
before(const cand *a, const cand *b)
{
	return a->w > b->w || (a->w == b->w && a->id < b->id);
}

static int
cmp_cand(const void *pa, const void *pb)
{
	const cand *a = pa, *b = pb;

	return before(a, b) ? -1 : before(b, a) ? 1 : 0;
}

/* Restore the heap below i: h[0] ranks last of the k kept so far. */
static void
sift_down(cand *h, int n, int i)
{
	int c;
	cand t;

	for (; (c = 2 * i + 1) < n; i = c) {
		if (c + 1 < n && before(&h[c], &h[c + 1]))
			c++;
		if (!before(&h[i], &h[c]))
			break;
		t = h[i], h[i] = h[c], h[c] = t;
	}
}

static void
sift_up(cand *h, int i)
{
	cand t;

	for (; i > 0 && before(&h[(i - 1) / 2], &h[i]); i = (i - 1) / 2) {
		t = h[i], h[i] = h[(i - 1) / 2], h[(i - 1) / 2] = t;
	}
}

int
tl_sample(tl_sampler *sp, const float *logits)
{
	const tl_sampling *s = &sp->s;
	int V = sp->V, i, n = 0, k = s->topk;
	cand *c = sp->c, x;
	float mx, inv;
	double z = 0, cut = 0, cum, r;

	if (s->greedy || !(s->temp > 0))
		return tl_argmax(logits, V);
	mx = logits[tl_argmax(logits, V)];
	inv = 1.0f / s->temp;
	if (k > 0 && k < V) {
		/* the k heaviest, through a heap of k whose root is the
		 * lightest kept */
		for (i = 0; i < V; i++) {
			x.w = expf((logits[i] - mx) * inv);
			x.id = i;
			if (n < k) {
				c[n] = x;
				sift_up(c, n++);
			} else if (before(&x, &c[0])) {
				c[0] = x;
				sift_down(c, n, 0);
			}
		}
		qsort(c, n, sizeof *c, cmp_cand);
		for (z = 0, i = 0; i < n; i++)
			z += c[i].w;
	} else {
		for (i = 0; i < V; i++)
			z += expf((logits[i] - mx) * inv);
		/* A token lighter than (1-p)/(V-1) of the total can never
		 * be in the nucleus: those together weigh less than 1-p. */
		if (s->topp < 1 && V > 1)
			cut = (1 - s->topp) / (V - 1) * z;
		for (i = 0; i < V; i++) {
			x.w = expf((logits[i] - mx) * inv);
			x.id = i;
			if (x.w > 0 && x.w >= cut)
				c[n++] = x;
		}
		if (s->topp < 1)
			qsort(c, n, sizeof *c, cmp_cand);
		/* z stays the total of all V: the nucleus is a share of
		 * the whole distribution, not of the candidates past the
		 * cut */
	}
	if (s->topp < 1 && s->topp > 0) {
		for (cum = 0, i = 0; i < n; i++) {
			cum += c[i].w;
			if (cum >= s->topp * z) {
				n = i + 1;
				break;
			}
		}
		z = cum;
	}
	if (n == 0 || !(z > 0))
		return tl_argmax(logits, V);
	r = tl_rng_float(&sp->rng) * z;
	for (cum = 0, i = 0; i < n - 1; i++) {
		cum += c[i].w;
		if (r < cum)
			break;
	}
	return c[i].id;
}
