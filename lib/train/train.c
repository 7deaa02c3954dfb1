/*
 * train.c: training steps: random windows from the training split,
 * forward and backward over accumulated micro-batches, global norm
 * clipping, AdamW with decoupled weight decay, and the schedule.
 * Every reduction has a fixed order, so a run is bit-identical for any
 * thread count.
 *
 * A trainer made exact (tl_trainer_exact; tl-train --exact-sums) sums
 * the passes of a step of several (micro-batches, accumulation)
 * exactly instead: each pass's scaled gradient is rounded to
 * a multiple of FIXUNIT = 2^-40 and added as a 64-bit integer.  Integer
 * addition is associative, so the sum is the same whatever the order
 * and grouping of the passes: on one thread pool, or split among the
 * ranks of a team (tl_team) whose partial sums are added in any order
 * (MPI's own reduction).  Float sums would not be: ((a + b) + c) is
 * not (a + (b + c)), and the ranks' partial sums would differ from
 * the sum one process forms.  The other way, a float sum kept in
 * pass order across the ranks, sends every pass's gradient, so
 * accumulation would not cut the traffic per window; fixed point
 * sends one sum per rank and step, whatever the accumulation.
 *
 * The range: a pass adds f g, g the gradient of its mean loss and
 * f = 1 / passes, so with each |f g| clamped to (2^63 - 1) / passes
 * units no partial sum overflows, and every |g| up to 2^(63 - 40)
 * = 8388608 is kept (a gradient past that is diverging; clipping
 * bounds the update anyway).  The grain is passes x 2^-40 of g:
 * about 1e-12 per pass, below what an update of lr x g / (sqrt(v) +
 * eps), eps = 1e-8, can tell.  A step of one pass keeps its float
 * gradient as it is.  The price is the sum's 8 bytes a parameter (a
 * third more than training's 24 without it), which a machine of 64
 * MiB training the reference shape in passes of one sequence has
 * not: so it is asked for, not the default.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "train/train.h"
#include "util/util.h"

#define CHUNK 16384	/* parameters per parallel work item */
#define FIXUNIT 0x1p-40	/* the fixed-point sums' unit */

const char *const tl_sched_names[TL_SCHED_N] = { "cosine", "two-stage" };

void
tl_hparams_default(tl_hparams *hp, const tl_config *c)
{
	static const tl_hparams def = {
		.seed = 1, .steps = 2000, .time = 0, .batch = 16, .accum = 1,
		.warmup = 100, .lr = 3e-3f, .lr_min = 0.1f, .wd = 0.5f,
		.clip = 1.0f, .beta1 = 0.9f, .beta2 = 0.95f, .eps = 1e-8f,
		.val_frac = 0.1f, .eval_every = 200, .eval_tokens = 16384,
		.save_every = 60, .sched = TL_SCHED_COSINE, .dropout = 0,
		.distill = 0,
	};

	*hp = def;
	/* measured: ternary weights train best at a higher rate */
	if (c->quant != TL_QUANT_TERNARY)
		hp->lr = 1e-3f;
}

void
tl_train_seed(tl_hparams *hp, tl_tstate *st, uint64_t seed)
{
	hp->seed = seed;
	tl_rng_seed(&st->rng, seed);
}

static int
mem_read(void *ctx, uint64_t pos, size_t n, uint16_t *out, char *err)
{
	(void)err;
	memcpy(out, (const uint16_t *)ctx + pos, n * sizeof(*out));
	return 0;
}

tl_data
tl_data_mem(const uint16_t *ids, size_t n)
{
	tl_data d;

	d.n = n;
	d.read = mem_read;
	d.ctx = (void *)(uintptr_t)ids;	/* read only, through mem_read */
	return d;
}

/* The trainer's own arrays, in elements: gradients (floats), the
 * optimizer's per-chunk sums (doubles) and the batch's inputs and
 * targets (16-bit ids). */
static void
own_sizes(const tl_config *c, const tl_hparams *hp, size_t *ng,
    size_t *npart, size_t *nin)
{
	*ng = tl_nparams(c);
	*npart = (*ng + CHUNK - 1) / CHUNK;
	*nin = 2 * (size_t)hp->batch * c->ctx;
}

size_t
tl_trainer_bytes(const tl_config *c, const tl_hparams *hp, int micro,
    int recompute)
{
	size_t ng, npart, nin, mb;
	double tot;

	if (micro < 0 || (uint32_t)micro > hp->batch ||
	    (micro > 0 && hp->batch % micro != 0))
		return 0;
	mb = tl_model_bytes(c, micro > 0 ? micro : (int)hp->batch, c->ctx,
	    recompute);
	if (mb == 0)
		return 0;
	own_sizes(c, hp, &ng, &npart, &nin);
	/* the weights and the two moments, then the trainer's own */
	tot = 3.0 * ng * sizeof(float) + (double)ng * sizeof(float) +
	    (double)npart * sizeof(double) + (double)nin * sizeof(uint16_t) +
	    (c->ctx + 1.0) * sizeof(uint16_t) + mb;
	return tot > (double)((size_t)-1 / 2) ? 0 : (size_t)tot;
}

int
tl_trainer_plan(const tl_config *c, const tl_hparams *hp, size_t extra,
    size_t budget, int micro, int recompute, tl_memplan *p)
{
	tl_memplan least = { 0, 0, 0 };
	size_t b;
	int passes, mi, rc;

	/* fewest passes first (the largest micro), and at equal passes
	 * no recomputation: both cost time, recomputing about a third
	 * more work per step */
	for (passes = 1; passes <= (int)hp->batch; passes++) {
		if (hp->batch % passes != 0)
			continue;
		mi = (int)hp->batch / passes;
		if (micro > 0 && mi != micro)
			continue;
		for (rc = 0; rc < 2; rc++) {
			if (recompute >= 0 && rc != recompute)
				continue;
			if ((b = tl_trainer_bytes(c, hp, mi, rc)) == 0)
				continue;
			p->micro = mi;
			p->recompute = rc;
			p->bytes = b + extra;
			if (p->bytes <= budget)
				return 0;
			if (least.bytes == 0 || p->bytes < least.bytes)
				least = *p;
		}
	}
	*p = least;
	return -1;
}

int
tl_trainer_init(tl_trainer *t, tl_tmodel tm, tl_pool *p, const uint16_t *ids,
    size_t n, int micro, int recompute, char *err)
{
	tl_data d = tl_data_mem(ids, n);

	return tl_trainer_init_data(t, tm, p, &d, NULL,
	    (uint64_t)(n * (double)tm.hp->val_frac), micro, recompute, err);
}

int
tl_trainer_init_data(tl_trainer *t, tl_tmodel tm, tl_pool *p,
    const tl_data *data, const tl_data *val, uint64_t nval, int micro,
    int recompute, char *err)
{
	int T = tm.cfg->ctx, B = tm.hp->batch;
	size_t ng, npart, nin;

	memset(t, 0, sizeof *t);
	t->tm = tm;
	t->pool = p;
	t->data = *data;
	if (val != NULL) {
		t->vdata = *val;
		t->ntrain = data->n;
		t->nval = val->n;
	} else {
		t->vdata = *data;
		t->nval = nval < data->n ? nval : data->n;
		t->ntrain = data->n - t->nval;
		t->vbase = t->ntrain;
	}
	if (t->ntrain < (uint64_t)T + 1)
		return tl_err(err, "%llu training tokens: a window needs %d",
		    (unsigned long long)t->ntrain, T + 1);
	if (micro < 0 || micro > B || (micro > 0 && B % micro != 0))
		return tl_err(err, "%d sequences per pass do not divide the "
		    "batch of %d", micro, B);
	t->micro = micro > 0 ? micro : B;
	if ((t->m = tl_model_new(tm.cfg, t->micro, T, recompute, err)) == NULL)
		return -1;
	own_sizes(tm.cfg, tm.hp, &ng, &npart, &nin);
	t->grads = calloc(ng, sizeof(float));
	t->part = calloc(npart, sizeof(double));
	t->in = calloc(nin, sizeof(uint16_t));
	t->win = calloc((size_t)T + 1, sizeof(uint16_t));
	if (t->grads == NULL || t->part == NULL || t->in == NULL ||
	    t->win == NULL) {
		tl_trainer_free(t);
		return tl_err(err, "out of memory");
	}
	t->tgt = t->in + (size_t)B * T;
	tl_model_prepare(t->m, tm.params);
	return 0;
}

uint64_t
tl_trainer_passes(const tl_trainer *t)
{
	return (uint64_t)t->tm.hp->accum * (t->tm.hp->batch / t->micro);
}

size_t
tl_trainer_exact_bytes(const tl_config *c)
{
	return (tl_nparams(c) + 1) * sizeof(int64_t);
}

int
tl_trainer_exact(tl_trainer *t, const tl_team *team, char *err)
{
	if (team != NULL && team->size > 1 &&
	    tl_trainer_passes(t) < (uint64_t)team->size)
		return tl_err(err, "%d ranks need as many passes a step; "
		    "a step has %llu (batch %u, %d sequences per pass, "
		    "accumulation %u)", team->size,
		    (unsigned long long)tl_trainer_passes(t),
		    t->tm.hp->batch, t->micro, t->tm.hp->accum);
	if (tl_trainer_passes(t) > 1 && t->fix == NULL &&
	    (t->fix = malloc(tl_trainer_exact_bytes(t->tm.cfg))) == NULL)
		return tl_err(err, "out of memory");
	t->team = team;
	return 0;
}

/* The teacher runs forward only: one block's activations suffice. */
size_t
tl_trainer_teacher_bytes(const tl_config *tc, int micro, int T)
{
	return tl_model_bytes(tc, micro, T, 1);
}

int
tl_trainer_teacher(tl_trainer *t, const tl_config *tc, const float *tparams,
    char *err)
{
	const tl_config *c = t->tm.cfg;

	if (tc->vocab != c->vocab)
		return tl_err(err, "the teacher has %u token ids, the model %u",
		    tc->vocab, c->vocab);
	if (tc->ctx < c->ctx)
		return tl_err(err, "the teacher's context (%u) is shorter "
		    "than the model's (%u)", tc->ctx, c->ctx);
	tl_model_free(t->teacher);
	if ((t->teacher = tl_model_new(tc, t->micro, (int)c->ctx, 1, err)) ==
	    NULL)
		return -1;
	t->tparams = tparams;
	tl_model_prepare(t->teacher, (float *)tparams);
	return 0;
}

int
tl_trainer_val(tl_trainer *t, uint64_t pos, size_t n, uint16_t *out,
    char *err)
{
	if (pos > t->nval || n > t->nval - pos)
		return tl_err(err, "held-out ids %llu to %llu are past the "
		    "end (%llu)", (unsigned long long)pos,
		    (unsigned long long)(pos + n),
		    (unsigned long long)t->nval);
	return t->vdata.read(t->vdata.ctx, t->vbase + pos, n, out, err);
}

void
tl_trainer_free(tl_trainer *t)
{
	tl_model_free(t->m);
	tl_model_free(t->teacher);
	t->teacher = NULL;
	free(t->grads);
	free(t->fix);
	t->fix = NULL;
	free(t->part);
	free(t->in);
	free(t->win);
	t->win = NULL;
	t->m = NULL;
	t->grads = NULL;
	t->part = NULL;
	t->in = NULL;
}

double
tl_trainer_progress(const tl_trainer *t)
{
	const tl_hparams *h = t->tm.hp;
	double p = 0;

	if (h->steps > 0)
		p = (double)t->tm.st->step / h->steps;
	if (h->time > 0 && t->tm.st->elapsed / h->time > p)
		p = t->tm.st->elapsed / h->time;
	return p > 1 ? 1 : p;
}

/*
 * The rate: a linear warmup over the first h->warmup steps times
 *   cosine:    lr_min + (1 - lr_min) (1 + cos(pi p)) / 2;
 *   two-stage: BitNet b1.58's, a high rate falling linearly from 1 to
 *              1/2 over the first half of the run, cut at mid-training
 *              to 1/4 and falling linearly to lr_min;
 * of h->lr, where p is tl_trainer_progress.
 */
float
tl_trainer_lr(const tl_trainer *t)
{
	const tl_hparams *h = t->tm.hp;
	double w = 1, c, p = tl_trainer_progress(t);

	if (h->warmup > 0 && t->tm.st->step < h->warmup)
		w = (t->tm.st->step + 1.0) / h->warmup;
	if (h->sched == TL_SCHED_TWOSTAGE)
		c = p < 0.5 ? 1 - p : 0.25 + (h->lr_min - 0.25) * (2 * p - 1);
	else
		c = h->lr_min + (1 - h->lr_min) * 0.5 *
		    (1 + cos(3.141592653589793 * p));
	return (float)(h->lr * w * c);
}

float
tl_trainer_wd(const tl_trainer *t)
{
	const tl_hparams *h = t->tm.hp;
	double p = tl_trainer_progress(t);

	if (h->sched != TL_SCHED_TWOSTAGE)
		return h->wd;
	if (p >= 0.5)
		return 0;
	return (float)(h->wd * 0.5 * (1 + cos(3.141592653589793 * 2 * p)));
}

/* B random windows of T+1 tokens: inputs and next-token targets.
 * All are drawn, so that the sampler moves on the same way on every
 * rank of a team; only windows [lo, hi) are read. */
static int
sample(tl_trainer *t, int lo, int hi, char *err)
{
	int B = t->tm.hp->batch, T = t->tm.cfg->ctx, b;
	uint64_t s;

	for (b = 0; b < B; b++) {
		s = tl_rng_below(&t->tm.st->rng,
		    (uint32_t)(t->ntrain - T < 0xffffffffu ? t->ntrain - T :
		    0xffffffffu));
		if (b < lo || b >= hi)
			continue;
		if (t->data.read(t->data.ctx, s, (size_t)T + 1, t->win,
		    err) != 0)
			return -1;
		memcpy(t->in + (size_t)b * T, t->win, T * sizeof(uint16_t));
		memcpy(t->tgt + (size_t)b * T, t->win + 1,
		    T * sizeof(uint16_t));
	}
	return 0;
}

/* x in units of FIXUNIT, rounded half away from zero, within
 * [-cap, cap]; a NaN counts 0 (its loss stops the run).  The product
 * is exact (x has 24 bits) and so is the remainder, whatever the
 * precision of the arithmetic (x87 too). */
static int64_t
to_fix(float x, int64_t cap)
{
	double d = (double)x / FIXUNIT, r;
	int64_t q;

	if (!(d == d))
		return 0;
	if (d >= (double)cap)
		return cap;
	if (d <= -(double)cap)
		return -cap;
	q = (int64_t)d;
	r = d - (double)q;
	return q + (r >= 0.5) - (r <= -0.5);
}

typedef struct {
	tl_trainer *t;
	size_t n;
	int64_t cap;		/* fixed point: per pass bound */
	double *part;		/* per chunk sum of squares */
	float scale, lr, wd, bc1, bc2;
	size_t nodecay_lo[TL_NTENSORS], nodecay_hi[TL_NTENSORS];
	int nnd;
} optjob;

static void
job_sumsq(void *ctx, int c)
{
	optjob *j = ctx;
	const float *g = j->t->grads + (size_t)c * CHUNK;
	size_t n = j->n - (size_t)c * CHUNK < CHUNK ? j->n - (size_t)c * CHUNK :
	    CHUNK;

	j->part[c] = tl_k()->dot(g, g, (int)n);
}

/* Add a chunk of the pass's gradients to the fixed-point sum. */
static void
job_fixadd(void *ctx, int c)
{
	optjob *j = ctx;
	size_t lo = (size_t)c * CHUNK, hi = lo + CHUNK, a;
	const float *g = j->t->grads;
	int64_t *s = j->t->fix;

	if (hi > j->n)
		hi = j->n;
	for (a = lo; a < hi; a++)
		s[a] += to_fix(g[a], j->cap);
}

/* The fixed-point sum of a chunk back to float gradients. */
static void
job_unfix(void *ctx, int c)
{
	optjob *j = ctx;
	size_t lo = (size_t)c * CHUNK, hi = lo + CHUNK, a;
	float *g = j->t->grads;
	const int64_t *s = j->t->fix;

	if (hi > j->n)
		hi = j->n;
	for (a = lo; a < hi; a++)
		g[a] = (float)((double)s[a] * FIXUNIT);
}

/* AdamW over one chunk, with weight decay off inside the ranges of
 * the norm gains and biases. */
static void
job_adamw(void *ctx, int c)
{
	optjob *j = ctx;
	tl_hparams *h = j->t->tm.hp;
	tl_tmodel *tm = &j->t->tm;
	size_t lo = (size_t)c * CHUNK, hi = lo + CHUNK, a, b;
	float *g = j->t->grads;
	int r;

	if (hi > j->n)
		hi = j->n;
	if (j->scale != 1.0f)
		for (a = lo; a < hi; a++)
			g[a] *= j->scale;
	for (a = lo; a < hi; a = b) {
		float wd = j->wd;

		b = hi;
		for (r = 0; r < j->nnd; r++) {
			size_t nl = j->nodecay_lo[r], nh = j->nodecay_hi[r];

			if (a >= nl && a < nh) {
				wd = 0;
				b = nh < b ? nh : b;
			} else if (nl > a && nl < b)
				b = nl;
		}
		tl_k()->adamw(tm->params + a, g + a, tm->m + a, tm->v + a,
		    (int)(b - a), j->lr, h->beta1, h->beta2, h->eps, wd,
		    j->bc1, j->bc2);
	}
}

float
tl_trainer_step(tl_trainer *t, float *gnorm)
{
	char err[TL_ERRLEN];
	float loss;

	if (tl_trainer_step_read(t, &loss, gnorm, err) != 0) {
		*gnorm = 0;
		return (float)NAN;
	}
	return loss;
}

int
tl_trainer_step_read(tl_trainer *t, float *lossp, float *gnorm, char *err)
{
	tl_tmodel *tm = &t->tm;
	tl_hparams *h = tm->hp;
	size_t n = tl_nparams(tm->cfg), nch = (n + CHUNK - 1) / CHUNK, c;
	size_t T = tm->cfg->ctx, b;
	uint64_t np = tl_trainer_passes(t), pass, lo = 0, hi = np;
	uint64_t ppr = h->batch / t->micro;	/* passes a round */
	double loss = 0, ss = 0;
	float f = 1.0f / h->accum / (h->batch / t->micro), l;
	optjob j;
	size_t off;
	unsigned a;
	int k, fixed = t->fix != NULL;

	memset(&j, 0, sizeof j);
	j.t = t;
	j.n = n;
	j.part = t->part;
	j.cap = INT64_MAX / (int64_t)np;
	if (t->team != NULL) {
		lo = np * t->team->rank / t->team->size;
		hi = np * (t->team->rank + 1) / t->team->size;
	}
	if (fixed)
		memset(t->fix, 0, (n + 1) * sizeof(int64_t));
	else
		memset(t->grads, 0, n * sizeof(float));
	for (a = 0, pass = 0; a < h->accum; a++) {
		/* this rank's windows of the round */
		uint64_t rlo = lo > a * ppr ? lo - a * ppr : 0;
		uint64_t rhi = hi > a * ppr ? hi - a * ppr : 0;

		rlo = rlo < ppr ? rlo : ppr;
		rhi = rhi < ppr ? rhi : ppr;
		if (t->team != NULL && t->team->bcast != NULL) {
			/* rank 0 reads them all and sends them */
			rlo = 0;
			rhi = t->team->rank == 0 ? ppr : 0;
		}
		if (sample(t, (int)(rlo * t->micro), (int)(rhi * t->micro),
		    err) != 0)
			return -1;
		if (t->team != NULL && t->team->bcast != NULL &&
		    t->team->bcast(t->team->ctx, t->in, 2 * (size_t)h->batch *
		    T * sizeof(uint16_t), err) != 0)
			return -1;
		/* the mean loss of each pass of micro rows, each pass's
		 * gradient scaled by its share of the step */
		for (b = 0; b < h->batch; b += t->micro, pass++) {
			if (pass < lo || pass >= hi)
				continue;
			if (fixed)
				memset(t->grads, 0, n * sizeof(float));
			/* masks by the step and the rows' place in it */
			tl_model_dropout(t->m, h->dropout, tl_hash2(h->seed,
			    tm->st->step), (uint64_t)a * h->batch + b);
			if (t->teacher != NULL && h->distill > 0) {
				tl_model_forward(t->teacher, t->pool,
				    t->tparams, t->in + b * T, t->tgt + b * T);
				tl_model_soft(t->m, tl_model_logits(t->teacher),
				    h->distill);
			}
			l = tl_model_forward(t->m, t->pool, tm->params,
			    t->in + b * T, t->tgt + b * T);
			tl_model_backward(t->m, t->pool, tm->params, t->grads,
			    f);
			tl_model_dropout(t->m, 0, 0, 0);
			tl_model_soft(t->m, NULL, 0);
			if (!fixed) {
				loss += l;
				continue;
			}
			tl_pool_for(t->pool, (int)nch, job_fixadd, &j);
			t->fix[n] += to_fix(l, j.cap);
		}
	}
	if (fixed) {
		if (t->team != NULL && t->team->size > 1 &&
		    t->team->sum(t->team->ctx, t->fix, n + 1, err) != 0)
			return -1;
		tl_pool_for(t->pool, (int)nch, job_unfix, &j);
		loss = (double)t->fix[n] * FIXUNIT;
	}
	loss /= (double)np;

	tl_pool_for(t->pool, (int)nch, job_sumsq, &j);
	for (c = 0; c < nch; c++)
		ss += j.part[c];
	*gnorm = (float)sqrt(ss);
	j.scale = h->clip > 0 && *gnorm > h->clip ? h->clip / *gnorm : 1.0f;
	j.lr = tl_trainer_lr(t);
	j.wd = tl_trainer_wd(t);
	j.bc1 = 1.0f - powf(h->beta1, (float)(tm->st->step + 1));
	j.bc2 = 1.0f - powf(h->beta2, (float)(tm->st->step + 1));
	/* no decay where the table of tensors says so */
	for (k = 0, off = 0; k < TL_NTENSORS; k++) {
		size_t len = tl_tensor_size(&tl_tensors[k], tm->cfg);

		if (len && !tl_tensors[k].decay && j.nnd < TL_NTENSORS) {
			j.nodecay_lo[j.nnd] = off;
			j.nodecay_hi[j.nnd++] = off + len;
		}
		off += len;
	}
	tl_pool_for(t->pool, (int)nch, job_adamw, &j);

	tm->st->step++;
	tm->st->tokens += (uint64_t)h->batch * tm->cfg->ctx * h->accum;
	tm->st->loss = (float)loss;
	tl_model_prepare(t->m, tm->params);
	*lossp = (float)loss;
	return 0;
}
