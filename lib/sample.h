/*
 * sample.h: choosing the next token from logits: greedy, or a draw
 * from the softmax at a temperature, restricted to the k most likely
 * tokens (top-k) and then to the smallest set of them whose
 * probability reaches p (top-p, nucleus sampling).  Draws come from a
 * seeded tl_rng, so a seed gives the same tokens every time.
 */
#ifndef TL_SAMPLE_H
#define TL_SAMPLE_H

#include <stdint.h>

#include "util.h"

typedef struct {
	float temp;	/* temperature; <= 0 means greedy */
	int topk;	/* keep the k most likely; <= 0 or >= V: all */
	float topp;	/* then keep the nucleus of mass p; >= 1: all */
	int greedy;	/* always the most likely token */
} tl_sampling;

typedef struct tl_sampler tl_sampler;

/* Defaults of tl-gen(1): temperature 0.8, top-k 40, top-p 0.95. */
void tl_sampling_default(tl_sampling *s);
/* A sampler over V ids with its own generator seeded by seed. */
tl_sampler *tl_sampler_new(int V, const tl_sampling *s, uint64_t seed,
    char *err);
void tl_sampler_free(tl_sampler *sp);
/* The next token given logits (V), which are left unchanged. */
int tl_sample(tl_sampler *sp, const float *logits);
/* Index of the largest of x (n); the lowest index on ties. */
int tl_argmax(const float *x, int n);

#endif
