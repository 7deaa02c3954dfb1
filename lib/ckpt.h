/*
 * ckpt.h: training checkpoints (tl-checkpoint(5)): configuration,
 * tokenizer, hyperparameters, training state, latent weights and the
 * AdamW moments, enough to resume bit for bit.  Saved atomically:
 * written to a temporary file beside the target, flushed to disk, and
 * renamed over it.
 */
#ifndef TL_CKPT_H
#define TL_CKPT_H

#include <stdint.h>

#include "model.h"
#include "tokenizer.h"
#include "util.h"

#define TL_CKPT_VERSION 2	/* reads 1 too: it had no schedule field */
#define TL_CKPT_MAGIC "tl-ckpt\n"	/* 8 bytes */

enum { TL_SCHED_COSINE, TL_SCHED_TWOSTAGE, TL_SCHED_N };
extern const char *const tl_sched_names[TL_SCHED_N];

/* Hyperparameters of a training run (tl-train(1) flags). */
typedef struct {
	uint64_t seed;		/* data sampling seed */
	uint32_t steps;		/* total optimizer steps; 0 = time only */
	float time;		/* total training seconds; 0 = steps only */
	uint32_t batch;		/* sequences per micro-batch */
	uint32_t accum;		/* micro-batches per step */
	uint32_t warmup;	/* linear warmup steps */
	float lr;		/* peak learning rate */
	float lr_min;		/* final rate as a fraction of lr */
	float wd;		/* decoupled weight decay */
	float clip;		/* global gradient norm clip; 0 = off */
	float beta1, beta2, eps;	/* AdamW */
	float val_frac;		/* held-out tail of the stream */
	uint32_t eval_every;	/* steps between validations */
	uint32_t eval_tokens;	/* held-out tokens per validation */
	float save_every;	/* seconds between checkpoints */
	uint32_t sched;		/* TL_SCHED_*: rate and decay over the run */
} tl_hparams;

/* Where a run is. */
typedef struct {
	uint64_t step;		/* optimizer steps done */
	uint64_t tokens;	/* training tokens seen */
	double elapsed;		/* training seconds so far */
	tl_rng rng;		/* data sampling */
	float loss;		/* last training loss (0 if none) */
	float val;		/* last validation loss (0 if none) */
} tl_tstate;

typedef struct {
	tl_config cfg;
	tl_tok tok;
	tl_hparams hp;
	tl_tstate st;
	float *params, *m, *v;	/* tl_nparams(&cfg) floats each */
} tl_ckpt;

void tl_hparams_default(tl_hparams *hp, const tl_config *c);
/* A fresh model: weights initialised from init_seed, zero moments,
 * step 0; tok is copied. */
int tl_ckpt_create(tl_ckpt *ck, const tl_config *c, const tl_tok *tok,
    uint64_t init_seed, char *err);
/* Read a checkpoint: what it holds (TL_CKPT_ALL), or without the
 * optimizer moments (TL_CKPT_WEIGHTS: m and v NULL), or without any
 * array (TL_CKPT_META: configuration, tokenizer, hyperparameters and
 * state).  Every check of tl-checkpoint(5) is made whatever is kept:
 * the arrays not kept are read through for the checksum. */
enum { TL_CKPT_ALL, TL_CKPT_WEIGHTS, TL_CKPT_META };
int tl_ckpt_load(tl_ckpt *ck, const char *path, int what, char *err);
int tl_ckpt_save(const tl_ckpt *ck, const char *path, char *err);
void tl_ckpt_free(tl_ckpt *ck);

#endif
