/*
 * train.h: one training run's machinery: the data split, random
 * windows, gradient accumulation, clipping, the learning-rate
 * schedule and the AdamW update.  The program (tl-train) owns the
 * loop around it: budgets, logging, validation and saving.
 */
#ifndef TL_TRAIN_H
#define TL_TRAIN_H

#include "ckpt.h"
#include "kernels.h"
#include "model.h"

typedef struct {
	tl_ckpt *ck;
	tl_pool *pool;
	tl_model *m;		/* micro rows x ctx positions */
	int micro;		/* sequences per forward and backward pass */
	const uint16_t *train, *val;
	size_t ntrain, nval;
	float *grads;
	uint16_t *in, *tgt;	/* (B, T) */
} tl_trainer;

/* Split ids (n tokens) into training head and held-out tail by the
 * checkpoint's val_frac; -1 if too few tokens for one window.  Each
 * batch goes through the model micro sequences at a time (0: all at
 * once; else a divisor of the batch), its gradients accumulated: less
 * memory, the same training up to the rounding of the sums.
 * recompute: see tl_model_new. */
int tl_trainer_init(tl_trainer *t, tl_ckpt *ck, tl_pool *p,
    const uint16_t *ids, size_t n, int micro, int recompute, char *err);
void tl_trainer_free(tl_trainer *t);
/* How far the run is, in [0, 1]: the larger of step/steps and
 * elapsed/time for the budgets that are set. */
double tl_trainer_progress(const tl_trainer *t);
/* Learning rate and weight decay of the next step, by the schedule
 * (hp.sched) over the run's progress: a linear warmup, then a cosine
 * from lr to lr * lr_min with constant decay, or BitNet b1.58's two
 * stages (train.c). */
float tl_trainer_lr(const tl_trainer *t);
float tl_trainer_wd(const tl_trainer *t);
/* One optimizer step (accum micro-batches); returns the mean loss
 * and stores the gradient norm before clipping in *gnorm. */
float tl_trainer_step(tl_trainer *t, float *gnorm);

/* Model-shape options shared by tl-init and tl-train: name is the
 * long option without dashes ("layers", "dim", "heads", "ffn", "ctx",
 * "pos", "norm", "quant", "act"); returns 0 if applied, 1 if name is
 * not a model option, -1 with a message if the value is bad. */
int tl_config_opt(tl_config *c, const char *name, const char *val,
    char *err);

#endif
