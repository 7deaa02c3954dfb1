/*
 * train.h: one training run's machinery: the data split, random
 * windows, gradient accumulation, clipping, the learning-rate
 * schedule and the AdamW update.  The program (tl-train) owns the
 * loop around it: budgets, logging, validation and saving.
 */
#ifndef TL_TRAIN_H
#define TL_TRAIN_H

#include "kernels/kernels.h"
#include "model/model.h"
#include "util/util.h"

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
	float dropout;		/* rate (tl_model_dropout); 0 = none */
	float distill;		/* weight of a teacher's distribution in
				 * the targets (tl_trainer_teacher); 0 =
				 * none */
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

/* The hyperparameters' defaults for a model of config c (tl-train(1)). */
void tl_hparams_default(tl_hparams *hp, const tl_config *c);
/* The data seed: hp->seed, and the sampler's state from it. */
void tl_train_seed(tl_hparams *hp, tl_tstate *st, uint64_t seed);

/* A model in training: what the trainer reads and updates.  Each
 * array holds tl_nparams(cfg) floats. */
typedef struct {
	const tl_config *cfg;
	tl_hparams *hp;
	tl_tstate *st;
	float *params, *m, *v;	/* weights and AdamW's two moments */
} tl_tmodel;

/* Where training reads token ids: n of them, ids [pos, pos + n) read
 * through read (0, or -1 with a message naming the data).  A file
 * source lives in formats.h (tl_sfile_data). */
typedef struct {
	uint64_t n;
	int (*read)(void *ctx, uint64_t pos, size_t n, uint16_t *out,
	    char *err);
	void *ctx;
} tl_data;

/* A source reading ids (n) in memory, which must outlive it. */
tl_data tl_data_mem(const uint16_t *ids, size_t n);

/*
 * The processes that share a run (tl-train's MPI build): this one is
 * rank of size, and sum adds v (n integers) over all of them, leaving
 * the total in every one's v (0, or -1 with a message).  Integer sums
 * are exact, so their order does not matter.  Each rank takes its
 * share of every step's passes: passes [P rank / size, P (rank + 1) /
 * size) of the P = accum x batch / micro.  The windows come from
 * each rank's own source, or from rank 0's through bcast.
 */
typedef struct {
	int rank, size;
	int (*sum)(void *ctx, int64_t *v, size_t n, char *err);
	/* NULL: every rank reads its own windows; else rank 0 alone
	 * reads a round's windows and bcast copies its buf (n bytes) to
	 * every rank */
	int (*bcast)(void *ctx, void *buf, size_t n, char *err);
	void *ctx;
} tl_team;

typedef struct {
	tl_tmodel tm;
	tl_pool *pool;
	const tl_team *team;	/* NULL: alone */
	tl_model *m;		/* micro rows x ctx positions */
	int micro;		/* sequences per forward and backward pass */
	tl_data data, vdata;	/* training and held-out sources */
	uint64_t ntrain;	/* training ids: data's [0, ntrain) */
	uint64_t vbase, nval;	/* held-out ids: vdata's [vbase, vbase+nval) */
	uint16_t *win;		/* (T + 1): one window read */
	float *grads;
	int64_t *fix;		/* exact: a step's passes' sum, or NULL */
	double *part;		/* per chunk sums of the optimizer step */
	uint16_t *in, *tgt;	/* (B, T) */
	tl_model *teacher;	/* micro rows, or NULL */
	const float *tparams;	/* its weights */
} tl_trainer;

/* A way to train within a memory budget. */
typedef struct {
	int micro;		/* sequences per pass */
	int recompute;		/* tl_model_new's */
	size_t bytes;		/* tl_trainer_bytes, and extra */
} tl_memplan;

/* The fastest run of c and hp within budget bytes, extra bytes besides
 * the trainer's (data, validation, the program) counted: the fewest
 * passes per batch (the largest micro dividing it), and at equal
 * passes no recomputation.  micro > 0 allows only that micro, and
 * recompute 0 or 1 only that setting (-1: either).  0 and *p the
 * choice; -1 if none fits, *p then the smallest allowed (bytes 0 if
 * none is allowed at all). */
int tl_trainer_plan(const tl_config *c, const tl_hparams *hp, size_t extra,
    size_t budget, int micro, int recompute, tl_memplan *p);

/* Train tm on ids (n tokens), split into a training head and a
 * held-out tail by hp->val_frac; -1 if too few tokens for one window.  Each
 * batch goes through the model micro sequences at a time (0: all at
 * once; else a divisor of the batch), its gradients accumulated: less
 * memory, the same training up to the rounding of the sums.
 * recompute: see tl_model_new. */
int tl_trainer_init(tl_trainer *t, tl_tmodel tm, tl_pool *p,
    const uint16_t *ids, size_t n, int micro, int recompute, char *err);
/* The same from sources: with val NULL, the last nval ids of data are
 * held out (tl-train counts them by text: tl_sfile_tail); else all of
 * data trains and val is held out (hp->val_frac and nval unused).  The
 * sources are copied; what they read must outlive t. */
int tl_trainer_init_data(tl_trainer *t, tl_tmodel tm, tl_pool *p,
    const tl_data *data, const tl_data *val, uint64_t nval, int micro,
    int recompute, char *err);
/* Sum each step's passes exactly, in fixed point (train.c), so that
 * how they are spread does not change a bit, and share the steps with
 * team (NULL: alone; else it must outlive t): 0, or -1 if a step has
 * fewer passes than the team has ranks, or no memory for the sum
 * (tl_trainer_exact_bytes, with several passes a step). */
int tl_trainer_exact(tl_trainer *t, const tl_team *team, char *err);
size_t tl_trainer_exact_bytes(const tl_config *c);
/* Distillation: each pass's targets mixed at weight hp->distill with
 * the probabilities that the model of config tc and weights tparams
 * (which must outlive t) gives the same windows, in the same step
 * (tl_model_soft).  The teacher must have t's vocabulary (and should
 * have its tokenizer) and a context of at least t's.  0, or -1 with a
 * message. */
int tl_trainer_teacher(tl_trainer *t, const tl_config *tc,
    const float *tparams, char *err);
/* The bytes tl_trainer_teacher allocates for a teacher of config tc
 * and passes of micro sequences of T positions (the teacher's weights
 * not counted). */
size_t tl_trainer_teacher_bytes(const tl_config *tc, int micro, int T);
/* The passes of a step of t. */
uint64_t tl_trainer_passes(const tl_trainer *t);
/* Held-out ids [pos, pos + n) of the nval, read from their source. */
int tl_trainer_val(tl_trainer *t, uint64_t pos, size_t n, uint16_t *out,
    char *err);
void tl_trainer_free(tl_trainer *t);
/* The bytes of a run of config c and hyperparameters hp with micro
 * sequences per pass (0: the batch) and recompute: the weights and
 * AdamW's moments (tl_tmodel's arrays), and all that tl_trainer_init
 * allocates, the model's activations among them (tl_model_bytes).  0
 * if micro does not divide the batch or the shape is refused. */
size_t tl_trainer_bytes(const tl_config *c, const tl_hparams *hp, int micro,
    int recompute);
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
 * and stores the gradient norm before clipping in *gnorm.  Allocates
 * nothing: a NaN is the loss's own. */
float tl_trainer_step(tl_trainer *t, float *gnorm);
/* The same step returning the mean loss in *loss, or -1 with the
 * source's message when a window cannot be read (the step is then not
 * taken; tl_trainer_step returns a NaN). */
int tl_trainer_step_read(tl_trainer *t, float *loss, float *gnorm,
    char *err);

#endif
