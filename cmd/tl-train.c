/*
 * tl-train: train a model on a token stream, creating the checkpoint
 * with defaults when it does not exist and resuming it when it does.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ckpt.h"
#include "eval.h"
#include "stream.h"
#include "train.h"

/*
 * SIGINT and SIGTERM end a run after its current step.  They are
 * blocked in every thread and looked for between steps, so that they
 * interrupt neither a system call (a write to a pipe failing with
 * EINTR) nor a computation (qemu-i386 does not keep the x87 registers
 * of a thread it delivers a signal to, so a run resumed after one
 * differed there from a run never stopped).
 */
static int
stopped(void)
{
	sigset_t p;

	return sigpending(&p) == 0 && (sigismember(&p, SIGINT) == 1 ||
	    sigismember(&p, SIGTERM) == 1);
}

static void
usage(int status)
{
	fprintf(status ? stderr : stdout, "usage: tl-train [-hV] [-t threads] [--accum N] "
	    "[--batch N] [--clip X]\n"
	    "                [--eval-every N] [--eval-tokens N] [--log file] "
	    "[--log-every N]\n"
	    "                [--lr X] [--lr-min X] [--micro N] [--recompute] "
	    "[--save-every S]\n"
	    "                [--sched kind] [--seed N] [--steps N] [--time S] "
	    "[--val-frac X]\n"
	    "                "
	    "[--warmup N] [--wd X]\n"
	    "                [--act kind] [--ctx N] [--dim N] [--ffn N] "
	    "[--heads N] [--layers N]\n"
	    "                [--norm kind] [--pos kind] [--quant kind] -m model "
	    "[stream]\n");
	if (status == 0)
		tl_fshut(stdout, "stdout");
	exit(status);
}

enum {
	O_ACCUM = 256, O_BATCH, O_CLIP, O_EVERY, O_ETOK, O_LOG, O_LOGEVERY,
	O_LR, O_LRMIN, O_MICRO, O_RECOMP, O_SAVE, O_SCHED, O_SEED, O_STEPS,
	O_TIME, O_VALFRAC, O_WARMUP, O_WD
};

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
	{ 1200, { "3", "128", "4", "512", "64" }, 16 },
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

static void
fmt_time(char *b, size_t n, double s)
{
	long t = s < 0 ? 0 : (long)(s + 0.5);

	if (t >= 3600)
		snprintf(b, n, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
	else
		snprintf(b, n, "%ld:%02ld", t / 60, t % 60);
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "accum", required_argument, NULL, O_ACCUM },
		{ "act", required_argument, NULL, 0 },
		{ "batch", required_argument, NULL, O_BATCH },
		{ "clip", required_argument, NULL, O_CLIP },
		{ "ctx", required_argument, NULL, 0 },
		{ "dim", required_argument, NULL, 0 },
		{ "eval-every", required_argument, NULL, O_EVERY },
		{ "eval-tokens", required_argument, NULL, O_ETOK },
		{ "ffn", required_argument, NULL, 0 },
		{ "heads", required_argument, NULL, 0 },
		{ "layers", required_argument, NULL, 0 },
		{ "log", required_argument, NULL, O_LOG },
		{ "log-every", required_argument, NULL, O_LOGEVERY },
		{ "lr", required_argument, NULL, O_LR },
		{ "lr-min", required_argument, NULL, O_LRMIN },
		{ "micro", required_argument, NULL, O_MICRO },
		{ "norm", required_argument, NULL, 0 },
		{ "pos", required_argument, NULL, 0 },
		{ "quant", required_argument, NULL, 0 },
		{ "recompute", no_argument, NULL, O_RECOMP },
		{ "save-every", required_argument, NULL, O_SAVE },
		{ "sched", required_argument, NULL, O_SCHED },
		{ "seed", required_argument, NULL, O_SEED },
		{ "steps", required_argument, NULL, O_STEPS },
		{ "time", required_argument, NULL, O_TIME },
		{ "val-frac", required_argument, NULL, O_VALFRAC },
		{ "warmup", required_argument, NULL, O_WARMUP },
		{ "wd", required_argument, NULL, O_WD },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	char err[TL_ERRLEN], e2[TL_ERRLEN], tbuf[32];
	const char *model = NULL, *in = "stdin", *logpath = NULL;
	const char *shape[32][2];	/* model-shape flags given */
	int nshape = 0, seedset = 0, micro = 0, recompute = 0, sched, stop;
	int sized = 0, picked = 0, row, k;
	tl_config c, cmod;
	tl_hparams hp;
	int set[O_WD + 1] = { 0 }, ch, li, threads = 0, tty, isnew;
	long logevery = 10;
	uint64_t seed = 1;
	tl_ckpt ck;
	tl_tok tok;
	uint16_t *ids;
	size_t n;
	FILE *f, *logf = NULL;
	tl_pool *pool;
	tl_trainer tr;
	tl_evalres ev;
	sigset_t sigs;
	double t0, tlast, tsave, tlog, p0;
	uint64_t toklast;
	float loss, gnorm, lr;

	tl_setprog(argv[0]);
	tl_config_default(&cmod);
	memset(&hp, 0, sizeof hp);
	while ((ch = getopt_long(argc, argv, ":hVm:t:", lo, &li)) != -1) {
		if (ch >= O_ACCUM)
			set[ch] = 1;
		switch (ch) {
		case 0:
			if (tl_config_opt(&cmod, lo[li].name, optarg, err) != 0)
				tl_die(2, "%s", err);
			for (k = 0; k < 5; k++)
				sized |= strcmp(lo[li].name, sizeopt[k]) == 0;
			if (nshape == 32)
				tl_die(2, "too many model-shape flags");
			else {
				shape[nshape][0] = lo[li].name;
				shape[nshape++][1] = optarg;
			}
			break;
		case 'm':
			model = optarg;
			break;
		case 't':
			threads = (int)tl_atol(optarg, "-t", 1, 256);
			break;
		case O_ACCUM:
			hp.accum = (uint32_t)tl_atol(optarg, "--accum", 1, 65536);
			break;
		case O_BATCH:
			hp.batch = (uint32_t)tl_atol(optarg, "--batch", 1, 65536);
			break;
		case O_CLIP:
			hp.clip = (float)tl_atof(optarg, "--clip", 0, 1e9);
			break;
		case O_EVERY:
			hp.eval_every = (uint32_t)tl_atol(optarg, "--eval-every",
			    0, 0x7fffffffL);
			break;
		case O_ETOK:
			hp.eval_tokens = (uint32_t)tl_atol(optarg, "--eval-tokens",
			    0, 0x7fffffffL);
			break;
		case O_LOG:
			logpath = optarg;
			break;
		case O_LOGEVERY:
			logevery = tl_atol(optarg, "--log-every", 1, 0x7fffffffL);
			break;
		case O_LR:
			hp.lr = (float)tl_atof(optarg, "--lr", 0, 1);
			break;
		case O_LRMIN:
			hp.lr_min = (float)tl_atof(optarg, "--lr-min", 0, 1);
			break;
		case O_MICRO:
			micro = (int)tl_atol(optarg, "--micro", 1, 65536);
			break;
		case O_RECOMP:
			recompute = 1;
			break;
		case O_SAVE:
			hp.save_every = (float)tl_atof(optarg, "--save-every", 0,
			    1e9);
			break;
		case O_SCHED:
			if ((sched = tl_lookup(tl_sched_names, TL_SCHED_N,
			    optarg)) < 0)
				tl_die(2, "--sched %s: not cosine or two-stage",
				    optarg);
			hp.sched = (uint32_t)sched;
			break;
		case O_SEED:
			seed = (uint64_t)tl_atol(optarg, "--seed", 0, 0x7fffffffL);
			seedset = 1;
			break;
		case O_STEPS:
			hp.steps = (uint32_t)tl_atol(optarg, "--steps", 0,
			    0x7fffffffL);
			break;
		case O_TIME:
			hp.time = (float)tl_atof(optarg, "--time", 0, 1e9);
			break;
		case O_VALFRAC:
			hp.val_frac = (float)tl_atof(optarg, "--val-frac", 0, 0.9);
			break;
		case O_WARMUP:
			hp.warmup = (uint32_t)tl_atol(optarg, "--warmup", 0,
			    0x7fffffffL);
			break;
		case O_WD:
			hp.wd = (float)tl_atof(optarg, "--wd", 0, 10);
			break;
		case 'V':
			printf("tl-train %s\n", TL_VERSION);
			tl_fshut(stdout, "stdout");
			return 0;
		case 'h':
			usage(0);
			break;
		default:
			tl_optfail(ch, argv);
		}
	}
	if (model == NULL || argc - optind > 1)
		usage(2);
	if (tl_simd_init(err) < 0)
		tl_die(2, "%s", err);

	/* the data */
	if (optind < argc) {
		in = argv[optind];
		if ((f = fopen(in, "rb")) == NULL)
			tl_die(1, "%s:", in);
	} else
		f = stdin;
	if (tl_stream_load(f, in, &tok, &ids, &n, err) < 0)
		tl_die(2, "%s", err);
	if (f != stdin)
		fclose(f);

	/* the model: resumed, or new with the stream's tokenizer */
	isnew = access(model, F_OK) != 0;
	if (!isnew) {
		if (tl_ckpt_load(&ck, model, TL_CKPT_ALL, err) < 0)
			tl_die(2, "%s", err);
		/* shape flags and --seed may repeat the model's own values
		 * (so a run resumes with the command that started it), but
		 * cannot change them */
		for (li = 0; li < nshape; li++) {
			c = ck.cfg;
			tl_config_opt(&c, shape[li][0], shape[li][1], err);
			if (memcmp(&c, &ck.cfg, sizeof c) != 0)
				tl_die(2, "--%s %s: %s has another shape; model "
				    "flags apply to a new model", shape[li][0],
				    shape[li][1], model);
		}
		if (seedset && seed != ck.hp.seed)
			tl_die(2, "--seed %llu: %s was started with seed %llu",
			    (unsigned long long)seed, model,
			    (unsigned long long)ck.hp.seed);
		if (!tl_tok_equal(&tok, &ck.tok))
			tl_die(2, "%s: tokenizer differs from %s's", in, model);
	} else {
		/* a time budget alone picks the size; the other shape
		 * flags (quantization, norm...) apply on top */
		picked = set[O_TIME] && !set[O_STEPS] && !sized;
		row = picked ? bytime_row(hp.time) : -1;
		if (row >= 0)
			for (k = 0; k < 5; k++)
				tl_config_opt(&cmod, sizeopt[k],
				    bytime[row].dims[k], err);
		c = cmod;
		c.vocab = tok.vocab;
		if (tl_ckpt_create(&ck, &c, &tok, seed, err) < 0)
			tl_die(2, "%s: %s", model, err);
		if (row >= 0)
			ck.hp.batch = bytime[row].batch;
	}
	/* --time alone is a time-only budget for a run not yet started */
	if (set[O_TIME] && !set[O_STEPS] && ck.st.step == 0)
		ck.hp.steps = 0;
	/* flags given override what the checkpoint holds */
#define OVR(o, fld) if (set[o]) ck.hp.fld = hp.fld
	OVR(O_ACCUM, accum);
	OVR(O_BATCH, batch);
	OVR(O_CLIP, clip);
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
	if (ck.hp.steps == 0 && ck.hp.time == 0)
		tl_die(2, "no budget: give --steps or --time");
	if (micro > 0 && ck.hp.batch % micro != 0)
		tl_die(2, "--micro %d: not a divisor of the batch (%u)", micro,
		    ck.hp.batch);
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);	/* before the pool's threads */
	if ((pool = tl_pool_new(threads)) == NULL)
		tl_die(1, "cannot start threads");
	if (tl_trainer_init(&tr, tl_ckpt_tmodel(&ck), pool, ids, n, micro, recompute, err) < 0)
		tl_die(2, "%s: %s", in, err);
	if (logpath && (logf = fopen(logpath, "a")) == NULL)
		tl_die(1, "%s:", logpath);

	tty = isatty(2);
	fprintf(stderr, "%s: %s model, %zu parameters, %s path, %d thread%s, "
	    "%d sequence%s per pass%s; %zu training and %zu held-out tokens\n",
	    model, isnew ? "new" : "resumed", tl_nparams(&ck.cfg),
	    tl_simd_name(tl_simd_path()), tl_pool_threads(pool),
	    tl_pool_threads(pool) > 1 ? "s" : "", tr.micro, tr.micro > 1 ?
	    "s" : "", recompute ? ", recomputing" : "", tr.ntrain, tr.nval);
	if (picked)
		fprintf(stderr, "%s: the shape for %g s of training: %u layers, "
		    "width %u, %u heads, FFN %u, context %u, batch %u\n", model,
		    hp.time, ck.cfg.layers, ck.cfg.dim, ck.cfg.heads, ck.cfg.ffn,
		    ck.cfg.ctx, ck.hp.batch);

	t0 = tlast = tsave = tlog = tl_now();
	p0 = tl_trainer_progress(&tr);
	toklast = ck.st.tokens;
	while (!(stop = stopped()) && tl_trainer_progress(&tr) < 1) {
		double ts = tl_now(), now, tps;
		int logit, evalit;

		lr = tl_trainer_lr(&tr);
		loss = tl_trainer_step(&tr, &gnorm);
		now = tl_now();
		if (!(loss == loss))
			tl_die(1, "%s: training diverged (loss is NaN at step "
			    "%llu); try a lower --lr", model,
			    (unsigned long long)ck.st.step);
		evalit = ck.hp.eval_every > 0 && tr.nval > 1 &&
		    ck.st.step % ck.hp.eval_every == 0;
		if (evalit) {
			if (tl_eval(tr.m, pool, ck.params, &ck.tok, tr.val,
			    tr.nval, ck.hp.eval_tokens, &ev, e2) < 0)
				tl_die(1, "%s", e2);
			ck.st.val = (float)ev.loss;
		}
		logit = evalit || ck.st.step % logevery == 0;
		tps = (ck.st.tokens - toklast) / (now - tlast > 1e-9 ?
		    now - tlast : 1e-9);
		if (logf && logit) {
			char vbuf[32] = "null";

			if (evalit)
				snprintf(vbuf, sizeof vbuf, "%.5f", ck.st.val);
			fprintf(logf, "{\"step\":%llu,\"tokens\":%llu,"
			    "\"loss\":%.5f,\"val\":%s,\"lr\":%.6g,"
			    "\"gnorm\":%.5g,\"tok_s\":%.1f,\"elapsed\":%.2f,"
			    "\"rss_mib\":%.1f}\n", (unsigned long long)ck.st.step,
			    (unsigned long long)ck.st.tokens, loss, vbuf, lr,
			    gnorm, tps, now - t0, tl_peak_rss_kib() / 1024.0);
			fflush(logf);	/* a line at a time, for tail -f */
		}
		if (tty && (now - tlog > 0.25 || logit)) {
			double p = tl_trainer_progress(&tr);

			fmt_time(tbuf, sizeof tbuf, p > p0 ? (now - t0) *
			    (1 - p) / (p - p0) : 0);
			fprintf(stderr, "\rstep %llu  loss %.4f  val %.4f  "
			    "%.0f tok/s  %s left   ",
			    (unsigned long long)ck.st.step, loss, ck.st.val,
			    tps, tbuf);
			tlog = now;
		}
		if (logit) {
			tlast = now;
			toklast = ck.st.tokens;
		}
		if (ck.hp.save_every > 0 && now - tsave >= ck.hp.save_every) {
			if (tl_ckpt_save(&ck, model, err) < 0)
				tl_die(1, "%s", err);
			tsave = tl_now();
		}
		/* a time budget counts all of the loop: steps, validation
		 * and saves */
		if (ck.hp.time > 0)
			ck.st.elapsed += tl_now() - ts;
	}
	if (tty)
		fputc('\n', stderr);
	if (!stop && tr.nval > 1) {
		if (tl_eval(tr.m, pool, ck.params, &ck.tok, tr.val, tr.nval, 0,
		    &ev, e2) < 0)
			tl_die(1, "%s", e2);
		ck.st.val = (float)ev.loss;
	}
	if (tl_ckpt_save(&ck, model, err) < 0)
		tl_die(1, "%s", err);
	if (ck.st.val > 0)
		snprintf(tbuf, sizeof tbuf, "%.4f", ck.st.val);
	else
		snprintf(tbuf, sizeof tbuf, "none");
	fprintf(stderr, "%s: step %llu, %llu tokens, loss %.4f, val loss %s "
	    "(%s), %.1f s, peak memory %.1f MiB%s\n", model,
	    (unsigned long long)ck.st.step, (unsigned long long)ck.st.tokens,
	    ck.st.loss, tbuf, stop ? "last validation" : "held-out split",
	    tl_now() - t0, tl_peak_rss_kib() / 1024.0,
	    stop ? "; interrupted, saved" : "");
	if (logf)
		tl_fshut(logf, logpath);
	tl_trainer_free(&tr);
	tl_pool_free(pool);
	tl_ckpt_free(&ck);
	tl_tok_free(&tok);
	free(ids);
	return 0;
}
