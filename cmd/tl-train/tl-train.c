/*
 * tl-train: train a model on a token stream, creating the checkpoint
 * with defaults when it does not exist and resuming it when it does;
 * alone, or as the ranks of an MPI job (team.h).
 */
#include <sys/stat.h>

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "formats/formats.h"
#include "model/model.h"
#include "train/train.h"
#include "util/util.h"
#include "team.h"

/*
 * SIGINT, SIGTERM and SIGUSR2 end a run after its current step
 * (SIGUSR2 because Open MPI's mpirun passes it on to the ranks and
 * then exits with theirs: tl-mpirun(1)).  They are blocked in every
 * thread and looked for between steps, so that they interrupt neither
 * a system call (a write to a pipe failing with EINTR) nor a
 * computation (qemu-i386 does not keep the x87 registers of a thread
 * it delivers a signal to, so a run resumed after one differed there
 * from a run never stopped).
 */
static const int stopsigs[] = { SIGINT, SIGTERM, SIGUSR2 };

void
block_stops(void)
{
	sigset_t s;
	size_t i;

	sigemptyset(&s);
	for (i = 0; i < sizeof stopsigs / sizeof stopsigs[0]; i++)
		sigaddset(&s, stopsigs[i]);
	pthread_sigmask(SIG_BLOCK, &s, NULL);
}

static int
stopped(void)
{
	sigset_t p;
	size_t i;

	if (sigpending(&p) != 0)
		return 0;
	for (i = 0; i < sizeof stopsigs / sizeof stopsigs[0]; i++)
		if (sigismember(&p, stopsigs[i]) == 1)
			return 1;
	return 0;
}

enum {
	O_ACCUM = TL_OPT_LONG, O_BATCH, O_CLIP, O_DISTILL, O_DROP, O_EVERY,
	O_ETOK, O_EXACT, O_LOG, O_LOGEVERY, O_LR, O_LRMIN, O_MEM, O_MICRO, O_RECOMP, O_SAVE, O_SCHED,
	O_SEED, O_SEND, O_STEPS, O_TEACHER, O_TIME, O_VAL, O_VALFRAC, O_WARMUP, O_WD, O_END
};

static const tl_opt opts[] = {
	{ 'm', NULL, "model", NULL, 0, TL_OPT_REQ },
	{ 't', NULL, "threads", NULL, 0, 0 },
	{ O_ACCUM, "accum", "N", NULL, 0, 0 },
	{ O_BATCH, "batch", "N", NULL, 0, 0 },
	{ O_CLIP, "clip", "X", NULL, 0, 0 },
	{ O_DISTILL, "distill", "A", NULL, 0, 0 },
	{ O_DROP, "dropout", "X", NULL, 0, 0 },
	{ O_EVERY, "eval-every", "N", NULL, 0, 0 },
	{ O_ETOK, "eval-tokens", "N", NULL, 0, 0 },
	{ O_EXACT, "exact-sums", NULL, NULL, 0, 0 },
	{ O_LOG, "log", "file", NULL, 0, 0 },
	{ O_LOGEVERY, "log-every", "N", NULL, 0, 0 },
	{ O_LR, "lr", "X", NULL, 0, 0 },
	{ O_LRMIN, "lr-min", "X", NULL, 0, 0 },
	{ O_MEM, "mem", "size", NULL, 0, 0 },
	{ O_MICRO, "micro", "N", NULL, 0, 0 },
	{ O_RECOMP, "recompute", NULL, NULL, 0, 0 },
	{ O_SAVE, "save-every", "S", NULL, 0, 0 },
	{ O_SCHED, "sched", "kind", tl_sched_names, TL_SCHED_N, 0 },
	{ O_SEED, "seed", "N", NULL, 0, 0 },
	{ O_SEND, "send-windows", NULL, NULL, 0, 0 },
	{ O_STEPS, "steps", "N", NULL, 0, 0 },
	{ O_TEACHER, "teacher", "model", NULL, 0, 0 },
	{ O_TIME, "time", "S", NULL, 0, 0 },
	{ O_VAL, "val", "file", NULL, 0, 0 },
	{ O_VALFRAC, "val-frac", "X", NULL, 0, 0 },
	{ O_WARMUP, "warmup", "N", NULL, 0, 0 },
	{ O_WD, "wd", "X", NULL, 0, 0 },
	{ 0, NULL, NULL, NULL, 0, 0 }
};
static const tl_cmd cmd = { { opts, tl_shape_opts }, "[stream]", 1, NULL,
	NULL, team_build };

/* What the command line asks for. */
typedef struct {
	const char *model, *in, *logpath;	/* in: a file, or "stdin" */
	const char *val;			/* --val, or NULL */
	const char *teacher;			/* --teacher, or NULL */
	const char *memarg;	/* --mem as given */
	size_t mem;		/* its bytes */
	int fromfile;
	const char *shape[32][2];	/* model-shape flags given */
	int nshape, sized, seedset, micro, recompute, threads;
	int set[O_END - TL_OPT_LONG];	/* the long options given */
	long logevery;
	uint64_t seed;
	tl_config cmod;
	tl_hparams hp;
} args;

/* One run: the data, the model and the machinery around them. */
typedef struct {
	const tl_tok *tok;	/* the stream's */
	FILE *df, *vf;		/* the streams read, and --val's */
	tl_sfile *sf, *vsf;
	tl_data data, vdata;
	tl_ckpt ck;
	tl_ckpt teach;		/* --teacher's weights */
	int isnew, picked;
	tl_pool *pool;
	tl_trainer tr;
	FILE *logf;
	team tm;
	double comp, comm;	/* seconds since the last log line */
} run;

#define SET(a, o) ((a)->set[(o) - TL_OPT_LONG])

/* The teacher's weight in the targets when --teacher comes alone. */
#define DISTILL 0.5f

/*
 * The size a new model given --time and no size flags gets: the one
 * the experiments (README, "Choosing the defaults") found best for the
 * budget -- the first row whose budget it is under, and after the
 * last, the default shape and batch (measured best up to an hour).
 */
static const struct {
	float under;		/* seconds */
	const char *dims[5];	/* layers, dim, heads, ffn, ctx */
	uint32_t batch;
} bytime[] = {
	{ 300, { "2", "128", "4", "512", "64" }, 16 },
	{ 1200, { "4", "128", "4", "512", "256" }, 8 },
};
static const char *const sizeopt[5] = { "layers", "dim", "heads", "ffn",
	"ctx" };

/* The row of bytime for budget secs, or -1. */
static int
bytime_row(float secs)
{
	int r;

	for (r = 0; r < (int)(sizeof bytime / sizeof bytime[0]); r++)
		if (secs < bytime[r].under)
			return r;
	return -1;
}

/* A model-shape flag: applied to the new model's shape, and kept to
 * compare with a resumed model's. */
static void
shape_flag(args *a, const char *name, const char *val)
{
	char err[TL_ERRLEN];
	int k;

	if (tl_config_opt(&a->cmod, name, val, err) != 0)
		tl_die(2, "%s", err);
	for (k = 0; k < 5; k++)
		a->sized |= strcmp(name, sizeopt[k]) == 0;
	if (a->nshape == 32)
		tl_die(2, "too many model-shape flags");
	a->shape[a->nshape][0] = name;
	a->shape[a->nshape++][1] = val;
}

static void
parse_args(args *a, int argc, char **argv)
{
	tl_hparams *hp = &a->hp;
	tl_optparse op;
	const char *v, *o;
	int key;

	memset(a, 0, sizeof *a);
	a->in = "stdin";
	a->logevery = 10;
	a->seed = 1;
	tl_config_default(&a->cmod);
	tl_opt_begin(&op, &cmd, argc, argv);
	while ((key = tl_opt_next(&op)) != -1) {
		v = op.arg;
		o = op.name;
		if (key >= TL_OPT_LONG)
			SET(a, key) = 1;
		switch (key) {
		case TL_OPT_SHAPE:
			shape_flag(a, op.opt->name, v);
			break;
		case 'm':
			a->model = v;
			break;
		case 't':
			a->threads = (int)tl_atol(v, o, 1, 256);
			break;
		case O_ACCUM:
			hp->accum = (uint32_t)tl_atol(v, o, 1, 65536);
			break;
		case O_BATCH:
			hp->batch = (uint32_t)tl_atol(v, o, 1, 65536);
			break;
		case O_CLIP:
			hp->clip = (float)tl_atof(v, o, 0, 1e9);
			break;
		case O_EVERY:
			hp->eval_every = (uint32_t)tl_atol(v, o, 0, 0x7fffffffL);
			break;
		case O_ETOK:
			hp->eval_tokens = (uint32_t)tl_atol(v, o, 1, 0x7fffffffL);
			break;
		case O_LOG:
			a->logpath = v;
			break;
		case O_LOGEVERY:
			a->logevery = tl_atol(v, o, 1, 0x7fffffffL);
			break;
		case O_LR:
			hp->lr = (float)tl_atof(v, o, 0, 1);
			break;
		case O_LRMIN:
			hp->lr_min = (float)tl_atof(v, o, 0, 1);
			break;
		case O_MEM:
			a->memarg = v;
			a->mem = tl_atosize(v, o);
			break;
		case O_MICRO:
			a->micro = (int)tl_atol(v, o, 1, 65536);
			break;
		case O_RECOMP:
			a->recompute = 1;
			break;
		case O_SAVE:
			hp->save_every = (float)tl_atof(v, o, 0, 1e9);
			break;
		case O_SCHED:
			hp->sched = (uint32_t)op.val;
			break;
		case O_SEED:
			a->seed = (uint64_t)tl_atol(v, o, 0, 0x7fffffffL);
			a->seedset = 1;
			break;
		case O_STEPS:
			hp->steps = (uint32_t)tl_atol(v, o, 0, 0x7fffffffL);
			break;
		case O_TIME:
			hp->time = (float)tl_atof(v, o, 0, 1e9);
			break;
		case O_VAL:
			a->val = v;
			break;
		case O_VALFRAC:
			hp->val_frac = (float)tl_atof(v, o, 0, 0.9);
			break;
		case O_WARMUP:
			hp->warmup = (uint32_t)tl_atol(v, o, 0, 0x7fffffffL);
			break;
		case O_WD:
			hp->wd = (float)tl_atof(v, o, 0, 10);
			break;
		case O_DROP:
			hp->dropout = (float)tl_atof(v, o, 0, 0.99);
			break;
		case O_DISTILL:
			hp->distill = (float)tl_atof(v, o, 0, 1);
			break;
		case O_TEACHER:
			a->teacher = v;
			break;
		}
	}
	if (op.nargs == 1) {
		a->in = op.args[0];
		a->fromfile = 1;
	}
	if (a->val && SET(a, O_VALFRAC))
		tl_die(2, "--val and --val-frac: give one held-out set");
}

/*
 * A token stream to read at random: a regular file in place, anything
 * else (a pipe) spooled first to a temporary file beside the model,
 * removed at once (tl_stream_spool).
 */
static tl_sfile *
open_stream(const char *path, const char *model, FILE **fp, tl_data *d)
{
	char err[TL_ERRLEN];
	const char *name = path ? path : "stdin";
	struct stat st;
	tl_sfile *s;
	FILE *f = stdin, *t;

	if (path && (f = fopen(path, "rb")) == NULL)
		tl_die(1, "%s:", path);
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
		/* the stream's errors name it; the spool's, its file */
		if ((t = tl_stream_spool(f, name, model, err)) == NULL)
			tl_die(strncmp(err, name, strlen(name)) == 0 ? 2 : 1,
			    "%s", err);
		if (f != stdin)
			fclose(f);
		f = t;
	}
	if ((s = tl_sfile_open(f, name, err)) == NULL)
		tl_die(2, "%s", err);
	*fp = f;
	*d = tl_sfile_data(s);
	return s;
}

/* The token stream, from the file named or stdin, and --val's. */
static void
load_data(const args *a, run *r)
{
	r->sf = open_stream(a->fromfile ? a->in : NULL, a->model, &r->df,
	    &r->data);
	r->tok = tl_sfile_tok(r->sf);
	if (a->val == NULL)
		return;
	if (a->fromfile && strcmp(a->val, a->in) == 0)
		tl_die(2, "--val %s: the training stream itself", a->val);
	r->vsf = open_stream(a->val, a->model, &r->vf, &r->vdata);
	if (!tl_tok_equal(r->tok, tl_sfile_tok(r->vsf)))
		tl_die(2, "%s: tokenizer differs from %s's", a->val, a->in);
}

static void
close_data(run *r)
{
	tl_sfile_free(r->sf);
	tl_sfile_free(r->vsf);
	if (r->df && r->df != stdin)
		fclose(r->df);
	if (r->vf)
		fclose(r->vf);
}

/* The model of a run resumed: shape flags and --seed may repeat the
 * model's own values (so a run resumes with the command that started
 * it), but cannot change them. */
static void
resume_model(const args *a, run *r)
{
	char err[TL_ERRLEN];
	tl_config c;
	int i;

	if (tl_ckpt_load(&r->ck, a->model, TL_CKPT_ALL, err) < 0)
		tl_die(2, "%s", err);
	for (i = 0; i < a->nshape; i++) {
		c = r->ck.cfg;
		tl_config_opt(&c, a->shape[i][0], a->shape[i][1], err);
		if (memcmp(&c, &r->ck.cfg, sizeof c) != 0)
			tl_die(2, "--%s %s: %s has another shape; model "
			    "flags apply to a new model", a->shape[i][0],
			    a->shape[i][1], a->model);
	}
	if (a->seedset && a->seed != r->ck.hp.seed)
		tl_die(2, "--seed %llu: %s was started with seed %llu",
		    (unsigned long long)a->seed, a->model,
		    (unsigned long long)r->ck.hp.seed);
	if (!tl_tok_equal(r->tok, &r->ck.tok))
		tl_die(2, "%s: tokenizer differs from %s's", a->in, a->model);
}

/* A new model with the stream's tokenizer: a time budget alone picks
 * the size; the other shape flags (quantization, norm...) apply on
 * top. */
static void
new_model(const args *a, run *r)
{
	char err[TL_ERRLEN];
	tl_config c = a->cmod;
	int row, k;

	r->picked = SET(a, O_TIME) && !SET(a, O_STEPS) && !a->sized;
	row = r->picked ? bytime_row(a->hp.time) : -1;
	if (row >= 0)
		for (k = 0; k < 5; k++)
			tl_config_opt(&c, sizeopt[k], bytime[row].dims[k], err);
	c.vocab = r->tok->vocab;
	if (tl_ckpt_create(&r->ck, &c, r->tok, a->seed, err) < 0)
		tl_die(2, "%s: %s", a->model, err);
	if (row >= 0)
		r->ck.hp.batch = bytime[row].batch;
}

/* The hyperparameters: the flags given override what the checkpoint
 * holds. */
static void
apply_flags(const args *a, tl_hparams *hp, uint64_t step)
{
	/* --time alone is a time-only budget for a run not yet started */
	if (SET(a, O_TIME) && !SET(a, O_STEPS) && step == 0)
		hp->steps = 0;
#define OVR(o, fld) if (SET(a, o)) hp->fld = a->hp.fld
	OVR(O_ACCUM, accum);
	OVR(O_BATCH, batch);
	OVR(O_CLIP, clip);
	OVR(O_DROP, dropout);
	OVR(O_DISTILL, distill);
	OVR(O_EVERY, eval_every);
	OVR(O_ETOK, eval_tokens);
	OVR(O_LR, lr);
	OVR(O_LRMIN, lr_min);
	OVR(O_SAVE, save_every);
	OVR(O_SCHED, sched);
	OVR(O_STEPS, steps);
	OVR(O_TIME, time);
	OVR(O_VALFRAC, val_frac);
	OVR(O_WARMUP, warmup);
	OVR(O_WD, wd);
#undef OVR
	/* a teacher's weight: given, kept, or the default */
	if (a->teacher != NULL && hp->distill == 0 && !SET(a, O_DISTILL))
		hp->distill = DISTILL;
	if (a->teacher != NULL && hp->distill == 0)
		tl_die(2, "--teacher %s with --distill 0: the teacher would "
		    "not count", a->teacher);
	if (a->teacher == NULL && hp->distill > 0) {
		if (SET(a, O_DISTILL))
			tl_die(2, "--distill %g: name the teacher (--teacher)",
			    hp->distill);
		tl_die(2, "%s learns from a teacher (--distill %g): name it "
		    "with --teacher, or give --distill 0", a->model,
		    hp->distill);
	}
	if (hp->steps == 0 && hp->time == 0)
		tl_die(2, "no budget: give --steps or --time");
	if (a->micro > 0 && hp->batch % a->micro != 0)
		tl_die(2, "--micro %d: not a divisor of the batch (%u)",
		    a->micro, hp->batch);
}

/*
 * What --mem counts besides the trainer's arrays (tl_trainer_bytes):
 * the program's own memory, measured: binary, libc and libm, the main
 * stack, stdio and the heap's bookkeeping (a run of a model of 10288
 * parameters on byte tokens peaks at 3.1 MiB, its arrays and two
 * tokenizers 0.7 MiB of it), and 0.25 MiB more for the peak's
 * variation from run to run (0.15 MiB seen); each further thread: its
 * stack and the arena of its attention products (THREAD_BYTES,
 * measured, and their scratch).
 */
#define BASE_BYTES	(2816 << 10)
#define THREAD_BYTES	(64 << 10)

/* The bytes of the run besides the trainer's: the program, its
 * threads, the tokenizer (the stream's and the model's copies), the
 * token streams' buffers (tl_sfile_mem, and a stdio buffer each) and
 * validation's batch. */
static size_t
extra_bytes(const args *a, const run *r)
{
	const tl_config *c = &r->ck.cfg;
	int nt = a->threads > 0 ? a->threads : tl_ncpu();
	size_t val = (size_t)r->ck.hp.batch * (2 * c->ctx * sizeof(uint16_t) +
	    sizeof(int));

	if (nt < 1)
		nt = 1;
	return BASE_BYTES + (size_t)(nt - 1) * (THREAD_BYTES +
	    tl_attention_scratch(c->ctx, c->dim, c->heads)) +
	    2 * tl_tok_mem(r->tok) + tl_sfile_mem(r->sf) + BUFSIZ + val +
	    (r->vsf ? tl_sfile_mem(r->vsf) + tl_tok_mem(r->tok) + BUFSIZ : 0);
}

/* --mem: the micro-batching and recomputation of the fastest run that
 * fits (tl_trainer_plan), within what --micro and --recompute fix. */
static void
plan_memory(args *a, const run *r)
{
	tl_memplan p;
	double mib = 1024.0 * 1024.0;

	size_t x = extra_bytes(a, r);

	/* --exact-sums: counted for every choice, though a step of one
	 * pass has no sum */
	if (SET(a, O_EXACT))
		x += tl_trainer_exact_bytes(&r->ck.cfg);
	/* a teacher: its weights, and its passes counted at the batch */
	if (a->teacher != NULL)
		x += tl_nparams(&r->teach.cfg) * sizeof(float) +
		    tl_trainer_teacher_bytes(&r->teach.cfg,
		    (int)r->ck.hp.batch, (int)r->ck.cfg.ctx);
	if (tl_trainer_plan(&r->ck.cfg, &r->ck.hp, x, a->mem, a->micro,
	    a->recompute ? 1 : -1, &p) < 0)
		tl_die(2, "--mem %s: the smallest run needs %.1f MiB (micro "
		    "%d%s)", a->memarg, p.bytes / mib, p.micro,
		    p.recompute ? ", recomputing" : "");
	a->micro = p.micro;
	a->recompute = p.recompute;
	fprintf(stderr, "%s: --mem %s: micro %d%s, an estimated %.1f MiB\n",
	    a->model, a->memarg, p.micro, p.recompute ? ", recomputing" : "",
	    p.bytes / mib);
}

/* The threads, the trainer and the log; the run's first line. */
static void
start(const args *a, run *r)
{
	char err[TL_ERRLEN];
	tl_ckpt *ck = &r->ck;
	uint64_t nval = 0;
	int nt;

	/* the held-out tail: the last val_frac of the text, in bytes (with
	 * --send-windows, rank 0's count: the others have no stream) */
	if (a->val == NULL && r->sf != NULL && tl_sfile_tail(r->sf,
	    ck->hp.val_frac, &nval, err) != 0)
		tl_die(2, "%s", err);
	if (SET(a, O_SEND) && r->tm.size > 1)
		team_bcast(&r->tm, &nval, sizeof nval);
	block_stops();	/* before the pool's threads */
	if ((r->pool = tl_pool_new(a->threads)) == NULL)
		tl_die(1, "cannot start threads");
	if (tl_trainer_init_data(&r->tr, tl_ckpt_tmodel(ck), r->pool, &r->data,
	    a->val ? &r->vdata : NULL, nval, a->micro, a->recompute, err) < 0)
		tl_die(2, "%s: %s", a->in, err);
	if (SET(a, O_EXACT) && tl_trainer_exact(&r->tr, r->tm.size > 1 ?
	    &r->tm.train : NULL, err) < 0)
		tl_die(2, "%s: %s", a->model, err);
	if (a->teacher != NULL && tl_trainer_teacher(&r->tr, &r->teach.cfg,
	    r->teach.params, err) < 0)
		tl_die(2, "%s: %s", a->teacher, err);
	if (r->tm.rank != 0)
		return;
	if (a->logpath && (r->logf = fopen(a->logpath, "a")) == NULL)
		tl_die(1, "%s:", a->logpath);
	nt = tl_pool_threads(r->pool);
	fprintf(stderr, "%s: %s model, %zu parameters, %s path, %d thread%s, "
	    "%d sequence%s per pass%s; %llu training and %llu held-out tokens\n",
	    a->model, r->isnew ? "new" : "resumed", tl_nparams(&ck->cfg),
	    tl_simd_name(tl_simd_path()), nt, nt > 1 ? "s" : "", r->tr.micro,
	    r->tr.micro > 1 ? "s" : "", a->recompute ? ", recomputing" : "",
	    (unsigned long long)r->tr.ntrain, (unsigned long long)r->tr.nval);
	if (r->picked)
		fprintf(stderr, "%s: the shape for %g s of training: %u layers, "
		    "width %u, %u heads, FFN %u, context %u, batch %u\n",
		    a->model, a->hp.time, ck->cfg.layers, ck->cfg.dim,
		    ck->cfg.heads, ck->cfg.ffn, ck->cfg.ctx, ck->hp.batch);
	if (a->teacher != NULL)
		fprintf(stderr, "%s: learning from %s (%zu parameters) at "
		    "weight %g\n", a->model, a->teacher,
		    tl_nparams(&r->teach.cfg), ck->hp.distill);
	if (r->tm.size > 1)
		fprintf(stderr, "%s: %d ranks share each step's %llu passes\n",
		    a->model, r->tm.size,
		    (unsigned long long)tl_trainer_passes(&r->tr));
}

/* Held-out tokens to score: ntok, or for a 0 (which a checkpoint of
 * an earlier version held to mean all of them) the default. */
static uint32_t
eval_tokens(const run *r, uint32_t ntok)
{
	tl_hparams d;

	tl_hparams_default(&d, &r->ck.cfg);
	return ntok > 0 ? ntok : d.eval_tokens;
}

/*
 * Validation on the first ntok held-out tokens, read through their
 * source a piece at a time: nothing held grows with the held-out data.
 * Complete evaluation is tl-eval's.
 */
static void
validate(run *r, uint32_t ntok)
{
	char err[TL_ERRLEN];
	uint16_t piece[4096];
	uint64_t pos, n;
	size_t k;
	tl_evalres ev;
	tl_evaler *e;

	ntok = eval_tokens(r, ntok);
	n = r->tr.nval < (uint64_t)ntok + 1 ? r->tr.nval : (uint64_t)ntok + 1;
	if ((e = tl_evaler_new(r->tr.m, r->pool, r->ck.params, &r->ck.tok,
	    ntok, err)) == NULL)
		tl_die(1, "%s", err);
	for (pos = 0; pos < n; pos += k) {
		k = n - pos < 4096 ? (size_t)(n - pos) : 4096;
		if (tl_trainer_val(&r->tr, pos, k, piece, err) != 0)
			tl_die(2, "%s", err);
		if (tl_evaler_feed(e, piece, k, err) != 0)
			tl_die(1, "%s", err);
	}
	if (tl_evaler_end(e, &ev, err) != 0)
		tl_die(1, "%s", err);
	tl_evaler_free(e);
	r->ck.st.val = (float)ev.loss;
}

/* The JSON log's line for a step. */
static void
log_line(run *r, int evalit, float loss, float lr, float gnorm, double tps,
    double elapsed)
{
	char vbuf[32] = "null";
	double mine[2] = { r->comp, r->comm }, *all = NULL;
	int k;

	/* each rank's seconds of computing and of exchanging gradients
	 * since the last line */
	r->comp = r->comm = 0;
	if (r->tm.size > 1) {
		if ((all = malloc(2 * sizeof(double) * r->tm.size)) == NULL)
			tl_die(1, "out of memory");
		team_gather(&r->tm, mine, 2, all);
	}
	if (r->tm.rank != 0)
		goto out;
	if (evalit)
		snprintf(vbuf, sizeof vbuf, "%.5f", r->ck.st.val);
	fprintf(r->logf, "{\"step\":%llu,\"tokens\":%llu,"
	    "\"loss\":%.5f,\"val\":%s,\"lr\":%.6g,"
	    "\"gnorm\":%.5g,\"tok_s\":%.1f,\"elapsed\":%.2f,"
	    "\"rss_mib\":%.1f", (unsigned long long)r->ck.st.step,
	    (unsigned long long)r->ck.st.tokens, loss, vbuf, lr, gnorm, tps,
	    elapsed, tl_peak_rss_kib() / 1024.0);
	if (r->tm.size > 1) {
		fputs(",\"ranks\":[", r->logf);
		for (k = 0; k < r->tm.size; k++)
			fprintf(r->logf, "%s{\"compute\":%.4f,\"comm\":%.4f}",
			    k ? "," : "", all[2 * k], all[2 * k + 1]);
		fputc(']', r->logf);
	}
	fputs("}\n", r->logf);
	fflush(r->logf);	/* a line at a time, for tail -f */
out:
	free(all);
}

/* The steps until the budget is spent or a signal comes; true if a
 * signal stopped them. */
static int
train_loop(const args *a, run *r)
{
	char err[TL_ERRLEN], tbuf[32];
	tl_ckpt *ck = &r->ck;
	double t0, tlast, tsave, tlog, p0;
	uint64_t toklast = ck->st.tokens;
	int stop, tty = r->tm.rank == 0 && isatty(2), lead = r->tm.rank == 0;

	t0 = tlast = tsave = tlog = tl_now();
	p0 = tl_trainer_progress(&r->tr);
	/* a signal to any rank stops them all after the same step */
	while (!(stop = team_max(&r->tm, stopped()) > 0) &&
	    tl_trainer_progress(&r->tr) < 1) {
		double ts = tl_now(), now, tps, c0 = r->tm.comm;
		float loss, gnorm, lr;
		int logit, evalit;

		lr = tl_trainer_lr(&r->tr);
		if (tl_trainer_step_read(&r->tr, &loss, &gnorm, err) != 0)
			tl_die(2, "%s", err);
		now = tl_now();
		r->comm += r->tm.comm - c0;
		r->comp += now - ts - (r->tm.comm - c0);
		if (!(loss == loss))
			tl_die(1, "%s: training diverged (loss is NaN at step "
			    "%llu); try a lower --lr", a->model,
			    (unsigned long long)ck->st.step);
		evalit = ck->hp.eval_every > 0 && r->tr.nval > 1 &&
		    ck->st.step % ck->hp.eval_every == 0;
		if (evalit && lead)
			validate(r, ck->hp.eval_tokens);
		logit = evalit || ck->st.step % a->logevery == 0;
		tps = (ck->st.tokens - toklast) / (now - tlast > 1e-9 ?
		    now - tlast : 1e-9);
		if (a->logpath && logit)
			log_line(r, evalit, loss, lr, gnorm, tps, now - t0);
		if (tty && (now - tlog > 0.25 || logit)) {
			double p = tl_trainer_progress(&r->tr);

			tl_fmt_time(tbuf, sizeof tbuf, p > p0 ? (now - t0) *
			    (1 - p) / (p - p0) : 0);
			fprintf(stderr, "\rstep %llu  loss %.4f  val %.4f  "
			    "%.0f tok/s  %s left   ",
			    (unsigned long long)ck->st.step, loss, ck->st.val,
			    tps, tbuf);
			tlog = now;
		}
		if (logit) {
			tlast = now;
			toklast = ck->st.tokens;
		}
		if (lead && ck->hp.save_every > 0 &&
		    now - tsave >= ck->hp.save_every) {
			if (tl_ckpt_save(ck, a->model, err) < 0)
				tl_die(1, "%s", err);
			tsave = tl_now();
		}
		/* a time budget counts all of the loop: steps, validation
		 * and saves (the slowest rank's, so that all stop alike) */
		if (ck->hp.time > 0)
			ck->st.elapsed += team_max(&r->tm, tl_now() - ts);
	}
	if (tty)
		fputc('\n', stderr);
	return stop;
}

/* The last validation, the last save and the run's last line. */
static void
finish(const args *a, run *r, int stop, double t0)
{
	char err[TL_ERRLEN], tbuf[32], what[64] = "last validation";
	tl_ckpt *ck = &r->ck;
	uint64_t nt = eval_tokens(r, ck->hp.eval_tokens);

	if (r->tm.rank != 0)
		return;
	if (!stop && r->tr.nval > 1) {
		validate(r, ck->hp.eval_tokens);
		snprintf(what, sizeof what, "%llu held-out tokens",
		    (unsigned long long)(r->tr.nval - 1 < nt ? r->tr.nval - 1 :
		    nt));
	}
	if (tl_ckpt_save(ck, a->model, err) < 0)
		tl_die(1, "%s", err);
	if (ck->st.val > 0)
		snprintf(tbuf, sizeof tbuf, "%.4f", ck->st.val);
	else
		snprintf(tbuf, sizeof tbuf, "none");
	fprintf(stderr, "%s: step %llu, %llu tokens, loss %.4f, val loss %s "
	    "(%s), %.1f s, peak memory %.1f MiB%s\n", a->model,
	    (unsigned long long)ck->st.step, (unsigned long long)ck->st.tokens,
	    ck->st.loss, tbuf, what,
	    tl_now() - t0, tl_peak_rss_kib() / 1024.0,
	    stop ? "; interrupted, saved" : "");
	if (r->logf)
		tl_fshut(r->logf, a->logpath);
}

/* file's size and CRC-32 on this rank, checked against rank 0's. */
static void
same_file(team *tm, const char *path)
{
	unsigned char buf[1 << 16];
	uint64_t size = 0;
	uint32_t crc = 0;
	size_t k;
	FILE *f;

	if ((f = fopen(path, "rb")) == NULL)
		tl_die(1, "%s:", path);
	while ((k = fread(buf, 1, sizeof buf, f)) > 0) {
		crc = tl_crc32(crc, buf, k);
		size += k;
	}
	if (ferror(f))
		tl_die(1, "%s:", path);
	fclose(f);
	team_same(tm, path, size, crc);
}

/*
 * Ranks: each reads the stream (and --val's) from its own copy of the
 * file, the same bytes as rank 0's (the launcher gives stdin to rank 0
 * alone), or with --send-windows rank 0 alone reads them, from a file
 * or stdin.  The trainer's bcast is MPI's: alone, there is none.
 */
static void
join(const args *a, team *tm)
{
	if (SET(a, O_SEND) && tm->train.bcast == NULL)
		tl_die(2, "--send-windows: this tl-train runs alone; runs "
		    "across machines need a build with MPI (make MPI=1)");
	if (!SET(a, O_SEND))
		tm->train.bcast = NULL;
	if (tm->size > 1 && !SET(a, O_EXACT))
		tl_die(2, "%d ranks: give --exact-sums (and to one process "
		    "to compare: it then makes the same run)", tm->size);
	if (tm->size == 1 || SET(a, O_SEND))
		return;
	if (!a->fromfile)
		tl_die(2, "%d ranks: each reads the stream from a file; name "
		    "it", tm->size);
	same_file(tm, a->in);
	if (a->val)
		same_file(tm, a->val);
}

/*
 * Rank 0's model, hyperparameters and choice of passes, sent to the
 * others.  Without --micro or --mem, a team's passes hold the largest
 * number of sequences that gives each rank a pass of every step (one
 * process given that --micro makes the same run).
 */
static void
share_model(args *a, run *r)
{
	tl_ckpt *ck = &r->ck;
	tl_hparams *h = &ck->hp;
	int v[3], m;
	size_t n;

	if (r->tm.size == 1)
		return;
	if (r->tm.rank == 0 && a->micro == 0)
		for (m = (int)h->batch; m >= 1; m--)
			if (h->batch % m == 0 && (uint64_t)h->accum *
			    (h->batch / m) >= (uint64_t)r->tm.size) {
				a->micro = m;
				break;
			}
	v[0] = r->isnew, v[1] = a->micro, v[2] = a->recompute;
	team_bcast(&r->tm, v, sizeof v);
	r->isnew = v[0], a->micro = v[1], a->recompute = v[2];
	/* structs as they are: every rank runs the same build */
	team_bcast(&r->tm, &ck->cfg, sizeof ck->cfg);
	team_bcast(&r->tm, h, sizeof *h);
	team_bcast(&r->tm, &ck->st, sizeof ck->st);
	n = tl_nparams(&ck->cfg);
	if (r->tm.rank != 0) {
		ck->params = malloc(n * sizeof(float));
		ck->m = malloc(n * sizeof(float));
		ck->v = malloc(n * sizeof(float));
		if (ck->params == NULL || ck->m == NULL || ck->v == NULL)
			tl_die(1, "out of memory");
	}
	team_bcast(&r->tm, ck->params, n * sizeof(float));
	team_bcast(&r->tm, ck->m, n * sizeof(float));
	team_bcast(&r->tm, ck->v, n * sizeof(float));
}

static int
no_read(void *ctx, uint64_t pos, size_t n, uint16_t *out, char *err)
{
	(void)ctx;
	(void)pos;
	(void)n;
	(void)out;
	return tl_err(err, "rank 0 alone reads the stream (--send-windows)");
}

/* --send-windows: the sizes of rank 0's streams, to the others, which
 * read nothing (their windows come from rank 0, and rank 0 alone
 * validates). */
static void
share_sizes(const args *a, run *r)
{
	uint64_t n[2] = { r->data.n, r->vdata.n };

	if (!SET(a, O_SEND) || r->tm.size == 1)
		return;
	team_bcast(&r->tm, n, sizeof n);
	if (r->tm.rank == 0)
		return;
	r->data.n = n[0];
	r->vdata.n = n[1];
	r->data.read = r->vdata.read = no_read;
}

int
main(int argc, char **argv)
{
	char err[TL_ERRLEN];
	double t0;
	args a;
	run r;
	int stop;

	parse_args(&a, argc, argv);
	memset(&r, 0, sizeof r);
	team_start(&r.tm, &argc, &argv);
	if (tl_simd_init(err) < 0)
		tl_die(2, "%s", err);
	join(&a, &r.tm);
	if (a.teacher != NULL && tl_ckpt_load(&r.teach, a.teacher,
	    TL_CKPT_WEIGHTS, err) < 0)
		tl_die(2, "%s", err);
	if (r.tm.rank == 0 || !SET(&a, O_SEND))
		load_data(&a, &r);
	share_sizes(&a, &r);
	/* the model: resumed, or new with the stream's tokenizer, by
	 * rank 0, which owns the checkpoint */
	if (r.tm.rank == 0) {
		r.isnew = access(a.model, F_OK) != 0;
		if (r.isnew)
			new_model(&a, &r);
		else
			resume_model(&a, &r);
		apply_flags(&a, &r.ck.hp, r.ck.st.step);
		if (a.teacher != NULL && !tl_tok_equal(&r.teach.tok, &r.ck.tok))
			tl_die(2, "%s: tokenizer differs from %s's", a.teacher,
			    a.model);
		if (a.memarg)
			plan_memory(&a, &r);
	}
	share_model(&a, &r);
	start(&a, &r);
	t0 = tl_now();
	stop = train_loop(&a, &r);
	finish(&a, &r, stop, t0);
	team_end(&r.tm);
	tl_trainer_free(&r.tr);
	tl_pool_free(r.pool);
	tl_ckpt_free(&r.ck);
	tl_ckpt_free(&r.teach);
	close_data(&r);
	return 0;
}
