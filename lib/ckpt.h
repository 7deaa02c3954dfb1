/*
 * ckpt.h: training checkpoints (tl-checkpoint(5)): configuration,
 * tokenizer, and a model in training (train.h: hyperparameters,
 * training state, latent weights and the AdamW moments), enough to
 * resume bit for bit.  The checkpoint serialises these; what they mean
 * and their defaults belong to training.  Saved atomically:
 * written to a temporary file beside the target, flushed to disk, and
 * renamed over it.
 */
#ifndef TL_CKPT_H
#define TL_CKPT_H

#include <stdint.h>

#include "model.h"
#include "tokenizer.h"
#include "train.h"
#include "util.h"

#define TL_CKPT_VERSION 2	/* reads 1 too: it had no schedule field */
#define TL_CKPT_MAGIC "tl-ckpt\n"	/* 8 bytes */

typedef struct {
	tl_config cfg;
	tl_tok tok;
	tl_hparams hp;
	tl_tstate st;
	float *params, *m, *v;	/* tl_nparams(&cfg) floats each */
} tl_ckpt;

/* A fresh model: weights initialised from seed, which is the data
 * seed too (tl_train_seed), default hyperparameters, zero moments,
 * step 0; tok is copied. */
int tl_ckpt_create(tl_ckpt *ck, const tl_config *c, const tl_tok *tok,
    uint64_t seed, char *err);
/* Read a checkpoint: what it holds (TL_CKPT_ALL), or without the
 * optimizer moments (TL_CKPT_WEIGHTS: m and v NULL), or without any
 * array (TL_CKPT_META: configuration, tokenizer, hyperparameters and
 * state).  Every check of tl-checkpoint(5) is made whatever is kept:
 * the arrays not kept are read through for the checksum. */
enum { TL_CKPT_ALL, TL_CKPT_WEIGHTS, TL_CKPT_META };
int tl_ckpt_load(tl_ckpt *ck, const char *path, int what, char *err);
int tl_ckpt_save(const tl_ckpt *ck, const char *path, char *err);
/* The model in training that ck holds, for the trainer. */
tl_tmodel tl_ckpt_tmodel(tl_ckpt *ck);
void tl_ckpt_free(tl_ckpt *ck);

#endif
