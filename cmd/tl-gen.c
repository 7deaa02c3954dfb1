/*
 * tl-gen: generate text from a model (a checkpoint or a packed model),
 * streamed as it is made.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "infer.h"
#include "mfile.h"
#include "sample.h"
#include "util.h"

static void
usage(void)
{
	printf("usage: tl-gen [-hV] [--greedy] [--slide] [--stats] [-k topk] "
	    "[-n tokens]\n"
	    "              [-p prompt] [-s seed] [-T temperature] "
	    "[-t threads] [--top-p P]\n"
	    "              -m model\n");
	tl_fshut(stdout, "stdout");
	exit(0);
}

/* A closed pipe downstream (tl-gen | head) ends the run quietly: by
 * SIGPIPE, or, where SIGPIPE is ignored, here with status 0. */
static void
outcheck(void)
{
	if (!ferror(stdout))
		return;
	if (errno == EPIPE)
		exit(0);
	tl_die(1, "stdout: write error:");
}

static void
out(const void *p, size_t n, int tty)
{
	if (n > 0)
		fwrite(p, 1, n, stdout);
	if (tty)
		fflush(stdout);
	outcheck();
}

/* The longest prompt on stdin (tl-gen(1)): it bounds the memory that
 * an endless stdin (< /dev/zero) can take. */
#define MAXPROMPT (1 << 20)

/* The whole of stdin (an unreadable or closed stdin is empty). */
static unsigned char *
slurp(size_t *n)
{
	size_t cap = 4096, r;
	unsigned char *b = tl_xmalloc(cap);

	*n = 0;
	while ((r = fread(b + *n, 1, cap - *n, stdin)) > 0) {
		*n += r;
		if (*n == cap) {
			if (cap >= MAXPROMPT && getc(stdin) == EOF)
				break;
			if (cap >= MAXPROMPT)
				tl_die(2, "stdin: prompt longer than %d bytes",
				    MAXPROMPT);
			cap *= 2;
			if ((b = realloc(b, cap)) == NULL)
				tl_die(1, "out of memory");
		}
	}
	if (ferror(stdin) && errno != EBADF)
		tl_die(1, "stdin: read error:");
	return b;
}

int
main(int argc, char **argv)
{
	enum { O_GREEDY = 256, O_SLIDE, O_STATS, O_TOPP };
	static const struct option lo[] = {
		{ "greedy", no_argument, NULL, O_GREEDY },
		{ "slide", no_argument, NULL, O_SLIDE },
		{ "stats", no_argument, NULL, O_STATS },
		{ "top-p", required_argument, NULL, O_TOPP },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	char err[TL_ERRLEN];
	const char *model = NULL, *prompt = NULL;
	unsigned char *text;
	long ntok = 256, i;
	uint64_t seed;
	size_t tlen, nids, k;
	uint16_t *ids;
	int ch, threads = 0, slide = 0, stats = 0, tty, full = 0;
	double t0, t1, t2, c1, c2;
	tl_sampling sm;
	tl_mfile mf;
	tl_pool *pool;
	tl_infer *d = NULL;
	const tl_qmodel *q;
	tl_sampler *sp;
	float *lg = NULL;

	tl_setprog(argv[0]);
	tl_sampling_default(&sm);
	seed = (uint64_t)time(NULL) ^ (uint64_t)getpid() << 32;
	while ((ch = getopt_long(argc, argv, ":hVk:m:n:p:s:T:t:", lo, NULL)) !=
	    -1) {
		switch (ch) {
		case 'h':
			usage();
			break;
		case 'k':
			sm.topk = (int)tl_atol(optarg, "-k", 0, TL_MAX_VOCAB);
			break;
		case 'm':
			model = optarg;
			break;
		case 'n':
			ntok = tl_atol(optarg, "-n", 0, LONG_MAX);
			break;
		case 'p':
			prompt = optarg;
			break;
		case 's':
			seed = (uint64_t)tl_atol(optarg, "-s", 0, LONG_MAX);
			break;
		case 'T':
			sm.temp = (float)tl_atof(optarg, "-T", 0, 100);
			break;
		case 't':
			threads = (int)tl_atol(optarg, "-t", 1, 256);
			break;
		case 'V':
			printf("tl-gen %s\n", TL_VERSION);
			tl_fshut(stdout, "stdout");
			return 0;
		case O_GREEDY:
			sm.greedy = 1;
			break;
		case O_SLIDE:
			slide = 1;
			break;
		case O_STATS:
			stats = 1;
			break;
		case O_TOPP:
			sm.topp = (float)tl_atof(optarg, "--top-p", 1e-6, 1);
			break;
		default:
			tl_optfail(ch, argv);
		}
	}
	if (optind != argc)
		tl_die(2, "unexpected argument '%s' (see tl-gen -h)",
		    argv[optind]);
	if (model == NULL)
		tl_die(2, "no model: -m FILE is required (see tl-gen -h)");
	if (tl_simd_init(err) < 0)
		tl_die(2, "%s", err);

	if (tl_mfile_open(&mf, model, err) < 0)
		tl_die(2, "%s", err);
	if (prompt) {
		text = (unsigned char *)strdup(prompt);
		if (text == NULL)
			tl_die(1, "out of memory");
		tlen = strlen(prompt);
	} else if (!isatty(0))
		text = slurp(&tlen);
	else {
		text = tl_xmalloc(1);
		tlen = 0;
	}
	/* An empty prompt starts the text as if after a newline. */
	if (tl_tok_encode(mf.tok, tlen ? text : (const unsigned char *)"\n",
	    tlen ? tlen : 1, &ids, &nids, err) < 0)
		tl_die(2, "prompt: %s", err);
	if ((pool = tl_pool_new(threads)) == NULL)
		tl_die(1, "cannot start threads");
	if ((q = tl_mfile_qmodel(&mf, err)) == NULL ||
	    (d = tl_infer_new(q, err)) == NULL ||
	    (sp = tl_sampler_new(mf.cfg->vocab, &sm, seed, err)) == NULL)
		tl_die(1, "%s: %s", model, err);

	tty = isatty(1);
	out(text, tlen, tty);
	t0 = tl_now();
	for (k = 0; k < nids && !full; k++)
		if ((lg = tl_infer_push(d, pool, ids[k], slide)) == NULL)
			full = 1;
	t1 = tl_now();
	c1 = (double)clock() / CLOCKS_PER_SEC;
	for (i = 0; i < ntok && !full; i++) {
		const unsigned char *piece;
		size_t len;
		int t = tl_sample(sp, lg);

		piece = tl_tok_piece(mf.tok, t, &len);
		out(piece, len, tty);
		if (i + 1 < ntok &&
		    (lg = tl_infer_push(d, pool, (uint16_t)t, slide)) == NULL)
			full = 1;
	}
	t2 = tl_now();
	c2 = (double)clock() / CLOCKS_PER_SEC;
	if (fflush(stdout) != 0)
		outcheck();
	if (stats)
		fprintf(stderr, "%s: prompt %zu tokens in %.3f s; %ld tokens in "
		    "%.3f s, %.1f tokens/s (%.1f per CPU second); %.0f bytes "
		    "of weights per token; %s path, %d threads; peak memory "
		    "%.1f MiB\n", tl_prog(), k, t1 - t0, i, t2 - t1,
		    i / (t2 - t1 > 0 ? t2 - t1 : 1e-9),
		    i / (c2 - c1 > 0 ? c2 - c1 : 1e-9),
		    tl_qmodel_token_bytes(q), tl_simd_name(tl_simd_path()),
		    tl_pool_threads(pool), tl_peak_rss_kib() / 1024.0);
	if (full)
		tl_warn("%s: the context of %d tokens is full after %ld new "
		    "tokens (--slide goes on past it)", model, tl_infer_ctx(d),
		    i);
	tl_sampler_free(sp);
	tl_infer_free(d);
	tl_pool_free(pool);
	free(ids);
	free(text);
	tl_mfile_close(&mf);
	tl_fshut(stdout, "stdout");
	return 0;
}
