/*
 * tl-gen: generate text from a model (a checkpoint or a packed model),
 * streamed as it is made.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "formats/formats.h"
#include "model/model.h"
#include "util/util.h"

enum { O_GREEDY = TL_OPT_LONG, O_KV, O_NOSTOP, O_SLIDE, O_STATS, O_TOPP };

static const tl_opt opts[] = {
	{ 'k', NULL, "topk", NULL, 0, 0 },
	{ 'm', NULL, "model", NULL, 0, TL_OPT_REQ },
	{ 'n', NULL, "tokens", NULL, 0, 0 },
	{ 'p', NULL, "prompt", NULL, 0, 0 },
	{ 's', NULL, "seed", NULL, 0, 0 },
	{ 'T', NULL, "temperature", NULL, 0, 0 },
	{ 't', NULL, "threads", NULL, 0, 0 },
	{ O_GREEDY, "greedy", NULL, NULL, 0, 0 },
	{ O_KV, "kv", "cache", tl_kv_names, TL_KV_N, 0 },
	{ O_NOSTOP, "no-stop", NULL, NULL, 0, 0 },
	{ O_SLIDE, "slide", NULL, NULL, 0, 0 },
	{ O_STATS, "stats", NULL, NULL, 0, 0 },
	{ O_TOPP, "top-p", "P", NULL, 0, 0 },
	{ 0, NULL, NULL, NULL, 0, 0 }
};
static const tl_cmd cmd = { { opts }, NULL, 0, NULL, NULL, NULL };

/* What the command line asks for. */
typedef struct {
	const char *model, *prompt;
	long ntok;
	uint64_t seed;
	int threads, slide, stats, nostop;
	int kv;			/* TL_KV_F32 or TL_KV_Q8 */
	tl_sampling sm;
} args;

static void
parse_args(args *a, int argc, char **argv)
{
	tl_optparse op;
	int key;

	memset(a, 0, sizeof *a);
	a->ntok = 256;
	a->kv = TL_KV_Q8;
	tl_sampling_default(&a->sm);
	a->seed = (uint64_t)time(NULL) ^ (uint64_t)getpid() << 32;
	tl_opt_begin(&op, &cmd, argc, argv);
	while ((key = tl_opt_next(&op)) != -1)
		switch (key) {
		case 'k':
			a->sm.topk = (int)tl_atol(op.arg, op.name, 0,
			    TL_MAX_VOCAB);
			break;
		case 'm':
			a->model = op.arg;
			break;
		case 'n':
			a->ntok = tl_atol(op.arg, op.name, 0, LONG_MAX);
			break;
		case 'p':
			a->prompt = op.arg;
			break;
		case 's':
			a->seed = (uint64_t)tl_atol(op.arg, op.name, 0, LONG_MAX);
			break;
		case 'T':
			a->sm.temp = (float)tl_atof(op.arg, op.name, 0, 100);
			break;
		case 't':
			a->threads = (int)tl_atol(op.arg, op.name, 1, 256);
			break;
		case O_GREEDY:
			a->sm.greedy = 1;
			break;
		case O_KV:
			a->kv = op.val;
			break;
		case O_NOSTOP:
			a->nostop = 1;
			break;
		case O_SLIDE:
			a->slide = 1;
			break;
		case O_STATS:
			a->stats = 1;
			break;
		case O_TOPP:
			a->sm.topp = (float)tl_atof(op.arg, op.name, 1e-6, 1);
			break;
		}
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

/* The prompt: -p, else stdin unless it is a terminal. */
static unsigned char *
read_prompt(const args *a, size_t *n)
{
	unsigned char *text;

	if (a->prompt) {
		if ((text = (unsigned char *)strdup(a->prompt)) == NULL)
			tl_die(1, "out of memory");
		*n = strlen(a->prompt);
	} else if (!isatty(0))
		text = slurp(n);
	else {
		text = tl_xmalloc(1);
		*n = 0;
	}
	return text;
}

/* One generation: the model, the decoder, the sampler, and what the
 * run did. */
typedef struct {
	tl_mfile mf;
	tl_pool *pool;
	tl_infer *d;
	const tl_qmodel *q;	/* what d runs */
	tl_sampler *sp;
	size_t nprompt;		/* prompt tokens pushed */
	long made;		/* tokens generated */
	int full;		/* the context filled up (no --slide) */
	int ended;		/* the model ended the text (EOT) */
	double t0, t1, t2, c1, c2;	/* wall and CPU seconds */
} gen;

static void
gen_open(const args *a, gen *g)
{
	char err[TL_ERRLEN];

	if ((g->pool = tl_pool_new(a->threads)) == NULL)
		tl_die(1, "cannot start threads");
	if ((g->q = tl_mfile_qmodel(&g->mf, err)) == NULL ||
	    (g->d = tl_infer_new(g->q, a->kv, err)) == NULL ||
	    (g->sp = tl_sampler_new(g->mf.cfg->vocab, &a->sm, a->seed,
	    err)) == NULL)
		tl_die(1, "%s: %s", a->model, err);
}

/* Echo the prompt, push its ids, then sample and print a->ntok tokens
 * or until the context is full or, unless --no-stop, the model emits
 * the end-of-text token (not printed; with --no-stop it prints as its
 * empty piece). */
static void
generate(const args *a, gen *g, const unsigned char *text, size_t tlen,
    const uint16_t *ids, size_t nids)
{
	float *lg = NULL;
	size_t k;
	long i;
	int tty = isatty(1);

	out(text, tlen, tty);
	g->t0 = tl_now();
	for (k = 0; k < nids && !g->full; k++)
		if ((lg = tl_infer_push(g->d, g->pool, ids[k], a->slide)) ==
		    NULL)
			g->full = 1;
	g->nprompt = k;
	g->t1 = tl_now();
	g->c1 = (double)clock() / CLOCKS_PER_SEC;
	for (i = 0; i < a->ntok && !g->full; i++) {
		const unsigned char *piece;
		size_t len;
		int t = tl_sample(g->sp, lg);

		if (t == tl_tok_eot(g->mf.tok) && !a->nostop) {
			g->ended = 1;
			break;
		}
		piece = tl_tok_piece(g->mf.tok, t, &len);
		out(piece, len, tty);
		if (i + 1 < a->ntok && (lg = tl_infer_push(g->d, g->pool,
		    (uint16_t)t, a->slide)) == NULL)
			g->full = 1;
	}
	g->made = i;
	g->t2 = tl_now();
	g->c2 = (double)clock() / CLOCKS_PER_SEC;
	if (fflush(stdout) != 0)
		outcheck();
}

/* --stats: the rates, the weights read per token, the peak memory. */
static void
print_stats(const gen *g)
{
	double w = g->t2 - g->t1, c = g->c2 - g->c1;

	fprintf(stderr, "%s: prompt %zu tokens in %.3f s; %ld tokens%s in "
	    "%.3f s, %.1f tokens/s (%.1f per CPU second); %.0f bytes "
	    "of weights per token; %s path, %d threads; peak memory "
	    "%.1f MiB\n", tl_prog(), g->nprompt, g->t1 - g->t0, g->made,
	    g->ended ? " (then the end of the text)" : "", w,
	    g->made / (w > 0 ? w : 1e-9), g->made / (c > 0 ? c : 1e-9),
	    tl_qmodel_token_bytes(g->q), tl_simd_name(tl_simd_path()),
	    tl_pool_threads(g->pool), tl_peak_rss_kib() / 1024.0);
}

/* With an end-of-text token, the text is a new document: its ids follow
 * an EOT, as each document does in training (an empty prompt is the EOT
 * alone).  Encoding never gives an EOT, so the prompt holds none. */
static uint16_t *
doc_prompt(const tl_tok *t, const unsigned char *text, size_t tlen,
    size_t *nids)
{
	char err[TL_ERRLEN];
	uint16_t *p, *ids;

	if (tl_tok_encode(t, text, tlen, &p, nids, err) < 0)
		tl_die(2, "prompt: %s", err);
	ids = tl_xcalloc(*nids + 1, sizeof(*ids));
	ids[0] = (uint16_t)tl_tok_eot(t);
	memcpy(ids + 1, p, *nids * sizeof(*ids));
	(*nids)++;
	free(p);
	return ids;
}

int
main(int argc, char **argv)
{
	char err[TL_ERRLEN];
	unsigned char *text;
	size_t tlen, nids;
	uint16_t *ids;
	args a;
	gen g;

	parse_args(&a, argc, argv);
	if (tl_simd_init(err) < 0)
		tl_die(2, "%s", err);
	memset(&g, 0, sizeof g);
	if (tl_mfile_open(&g.mf, a.model, err) < 0)
		tl_die(2, "%s", err);
	text = read_prompt(&a, &tlen);
	if (tl_tok_eot(g.mf.tok) >= 0)
		ids = doc_prompt(g.mf.tok, text, tlen, &nids);
	/* An empty prompt starts the text as if after a newline. */
	else if (tl_tok_encode(g.mf.tok, tlen ? text :
	    (const unsigned char *)"\n", tlen ? tlen : 1, &ids, &nids, err) < 0)
		tl_die(2, "prompt: %s", err);
	gen_open(&a, &g);
	generate(&a, &g, text, tlen, ids, nids);
	if (a.stats)
		print_stats(&g);
	if (g.full)
		tl_warn("%s: the context of %d tokens is full after %ld new "
		    "tokens (--slide goes on past it)", a.model,
		    tl_infer_ctx(g.d), g.made);
	tl_sampler_free(g.sp);
	tl_infer_free(g.d);
	tl_pool_free(g.pool);
	free(ids);
	free(text);
	tl_mfile_close(&g.mf);
	tl_fshut(stdout, "stdout");
	return 0;
}
