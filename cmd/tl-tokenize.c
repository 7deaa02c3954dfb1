/*
 * tl-tokenize: text to token stream and back, token ids as text, and
 * learning a BPE vocabulary (tl-tokenize(1)); documents (text with a
 * separator, JSON Lines, CSV) each followed by the end-of-text token.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "formats/formats.h"
#include "tok/tok.h"
#include "util/util.h"

#define BLOCK 65536		/* bytes of text read at a time */
#define SPIECE (1 << 20)	/* --sample: bytes of each piece at most */

enum { O_KIND = TL_OPT_LONG, O_BPE, O_CSV, O_DROP, O_JSONL, O_SAMPLE,
	O_SEED, O_SEP };

/* The output file of -o while it is being written under a temporary
 * name; removed if the program dies before renaming it. */
static tl_afile outfile;	/* -o */
static int stats;		/* --stats: counts and times on stderr */
static float bpedrop;		/* --bpe-dropout */
static uint64_t dropseed = 1;	/* --seed */

static const char *const kinds[] = { "exact", "words" };
static const tl_opt opts[] = {
	{ O_BPE, "bpe", "n", NULL, 0, 0 },
	{ O_DROP, "bpe-dropout", "p", NULL, 0, 0 },
	{ O_KIND, "bpe-kind", "kind", kinds, 2, 0 },
	{ O_CSV, "csv", "column", NULL, 0, 0 },
	{ 'd', NULL, NULL, NULL, 0, 0 },
	{ 'i', "ids", NULL, NULL, 0, 0 },
	{ O_JSONL, "jsonl", "key", NULL, 0, 0 },
	{ 'o', NULL, "file", NULL, 0, 0 },
	{ O_SAMPLE, "sample", "size", NULL, 0, 0 },
	{ O_SEED, "seed", "N", NULL, 0, 0 },
	{ O_SEP, "sep", "string", NULL, 0, 0 },
	{ 's', "stats", NULL, NULL, 0, 0 },
	{ 'b', "train-bpe", "n", NULL, 0, 0 },
	{ 'v', NULL, "vocab", NULL, 0, 0 },
	{ 0, NULL, NULL, NULL, 0, 0 }
};
static const tl_cmd cmd = { { opts }, "[file]", 1,
	"       tl-tokenize --train-bpe n [--bpe-kind exact|words] "
	"[--sample size] [--stats]\n"
	"                   -o file [file]\n"
	"       tl-tokenize --bpe n [--bpe-kind exact|words] [--sample size]\n"
	"                   [--bpe-dropout p] [--seed N] [--ids] [--stats]\n"
	"                   [-o file] [file]\n",
	"  (none)          encode text to a token stream\n"
	"  -d              decode a token stream to text\n"
	"  --ids           print token ids, one per line\n"
	"  -o file         write to file (complete or not at all)\n"
	"  --stats         print counts and times on stderr\n"
	"  -v vocab        use the tokenizer of vocab (a vocabulary file,\n"
	"                  token stream or checkpoint)\n"
	"  --bpe-dropout p skip each BPE merge with probability p\n"
	"  --seed N        the random segmentations of --bpe-dropout\n"
	"  --train-bpe n   learn an n-id BPE vocabulary into -o file\n"
	"  --bpe n         learn an n-id BPE vocabulary from the input, then\n"
	"                  encode the input with it (a pipe is copied to a\n"
	"                  temporary file first)\n"
	"  --bpe-kind k    exact (whole-text rule, the default) or words\n"
	"  --sample size   learn from about size bytes spread over the input\n"
	"  --csv column    documents: a column of CSV (header name or number)\n"
	"  --jsonl key     documents: the string member key of JSON Lines\n"
	"  --sep string    documents: text separated by string\n"
	"                  (each document ends with the end-of-text token;\n"
	"                  with -d, written back in that format)\n",
	NULL
};

/* An encoder of t, under --bpe-dropout if given. */
static tl_tokenc *
encoder(const tl_tok *t)
{
	char err[TL_ERRLEN];
	tl_tokenc *e;

	if ((e = tl_tokenc_new(t, err)) == NULL)
		tl_die(1, "%s", err);
	if (bpedrop > 0 && tl_tokenc_dropout(e, bpedrop, dropseed, err) != 0)
		tl_die(2, "%s", err);
	return e;
}

/* The document format (kind TL_DOCS_TEXT: no documents). */
static tl_docfmt docfmt;

/* Open the output: stdout, or an atomic file at path. */
static FILE *
out_open(const char *path)
{
	char err[TL_ERRLEN];

	if (path == NULL)
		return stdout;
	if (tl_afile_open(&outfile, path, err) < 0)
		tl_die(1, "%s", err);
	return outfile.f;
}

/* Finish the output: check it all went out, then give it its name. */
static void
out_close(FILE *f, const char *path)
{
	char err[TL_ERRLEN];

	if (path == NULL)
		tl_fshut(f, "stdout");
	else if (tl_afile_commit(&outfile, err) < 0)
		tl_die(1, "%s", err);
}

static FILE *
in_open(const char *path)
{
	FILE *f;

	if (path == NULL)
		return stdin;
	if ((f = fopen(path, "rb")) == NULL)
		tl_die(2, "%s:", path);
	return f;
}

static size_t
in_read(FILE *f, const char *name, unsigned char *buf, size_t n)
{
	size_t got = fread(buf, 1, n, f);

	if (got < n && ferror(f))
		tl_die(2, "%s: read error:", name);
	return got;
}

/*
 * --bpe reads its input twice, to learn and then to encode: input that
 * is not a regular file (a pipe) is first copied to an unnamed
 * temporary file (gone once closed), and that is read instead.
 */
static FILE *
in_reread(FILE *in, const char *name)
{
	unsigned char *buf;
	struct stat st;
	FILE *tmp;
	size_t n;

	if (fstat(fileno(in), &st) == 0 && S_ISREG(st.st_mode))
		return in;
	if ((tmp = tmpfile()) == NULL)
		tl_die(1, "%s: cannot create a temporary copy:", name);
	buf = tl_xmalloc(BLOCK);
	while ((n = in_read(in, name, buf, BLOCK)) > 0)
		if (fwrite(buf, 1, n, tmp) != n)
			tl_die(1, "%s: writing a temporary copy:", name);
	if (fflush(tmp) != 0 || fseeko(tmp, 0, SEEK_SET) != 0)
		tl_die(1, "%s: writing a temporary copy:", name);
	free(buf);
	if (in != stdin)
		fclose(in);
	return tmp;
}

/*
 * Progress on a terminal (tl_progress): of the input's size when it is
 * a regular file (bytes), else of an unknown total in unit; none when
 * the output goes to a terminal too.
 */
static void
progress_begin(tl_progress *p, FILE *in, FILE *out, const char *unit)
{
	memset(p, 0, sizeof(*p));
	if (!isatty(fileno(out)))
		tl_progress_file(p, tl_prog(), in, unit);
}

/* Ids as decimal text, one per line. */
static void
put_ids(FILE *f, const uint16_t *ids, size_t n)
{
	char b[8];
	size_t i;
	int k;
	unsigned v;

	for (i = 0; i < n; i++) {
		k = sizeof(b);
		b[--k] = '\n';
		v = ids[i];
		do
			b[--k] = (char)('0' + v % 10);
		while ((v /= 10) != 0);
		fwrite(b + k, 1, sizeof(b) - k, f);
	}
}

/* Text of ids; returns its length. */
static size_t
put_text(FILE *f, const tl_tok *t, const uint16_t *ids, size_t n)
{
	const unsigned char *p;
	size_t i, l, len = 0;

	for (i = 0; i < n; i++) {
		p = tl_tok_piece(t, ids[i], &l);
		fwrite(p, 1, l, f);
		len += l;
	}
	return len;
}

static void
encode(FILE *in, const char *name, FILE *out, const char *oname,
    const tl_tok *t, int ids)
{
	char err[TL_ERRLEN];
	unsigned char *buf = tl_xmalloc(BLOCK);
	tl_swriter *w = NULL;
	tl_progress pg;
	tl_tokenc *e;
	const uint16_t *o;
	size_t n, k;
	uint64_t nin = 0, nout = 0;
	double t0 = tl_now(), dt;
	int last;

	e = encoder(t);
	if (!ids && (w = tl_swriter_new(out, t, err)) == NULL)
		tl_die(1, "%s: %s", oname, err);
	progress_begin(&pg, in, out, "bytes");
	do {
		n = in_read(in, name, buf, BLOCK);
		last = n < BLOCK;
		if (tl_tokenc_feed(e, buf, n, last, &o, &k, err) != 0)
			tl_die(1, "%s: %s", name, err);
		nin += n;
		nout += k;
		tl_progress_update(&pg, nin);
		if (ids)
			put_ids(out, o, k);
		else if (tl_swriter_put(w, o, k, err) != 0)
			tl_die(1, "%s: %s", oname, err);
	} while (!last);
	if (w && tl_swriter_end(w, err) != 0)
		tl_die(1, "%s: %s", oname, err);
	tl_progress_end(&pg);
	dt = tl_now() - t0;
	if (stats)
		tl_warn("%s: %llu bytes to %llu ids (%.3f bytes/id) in %.3f s, "
		    "%.1f MB/s", name, (unsigned long long)nin,
		    (unsigned long long)nout, nout ? (double)nin / nout : 0.0,
		    dt, dt > 0 ? nin / dt / 1e6 : 0.0);
	tl_tokenc_free(e);
	free(buf);
}

/* Encoding documents: each piece of text goes through the encoder, and
 * each document's end flushes it and adds the EOT. */
struct denc {
	tl_tokenc *e;
	tl_swriter *w;		/* NULL: ids as text on out */
	FILE *in, *out;
	tl_progress pg;
	const char *oname;
	uint16_t eot;
	uint64_t nin, nout, ndoc;
};

static void
denc_ids(struct denc *d, const uint16_t *o, size_t k)
{
	char err[TL_ERRLEN];

	d->nout += k;
	if (d->w == NULL)
		put_ids(d->out, o, k);
	else if (tl_swriter_put(d->w, o, k, err) != 0)
		tl_die(1, "%s: %s", d->oname, err);
}

static int
denc_piece(void *ctx, const unsigned char *p, size_t n, char *err)
{
	struct denc *d = ctx;
	const uint16_t *o;
	size_t k;

	if (tl_tokenc_feed(d->e, p, n, p == NULL, &o, &k, err) != 0)
		tl_die(1, "%s", err);
	denc_ids(d, o, k);
	d->nin += n;
	tl_progress_update(&d->pg, d->pg.total ? (uint64_t)ftello(d->in) :
	    d->nin);
	if (p == NULL) {
		denc_ids(d, &d->eot, 1);
		d->ndoc++;
	}
	return 0;
}

static void
encode_docs(FILE *in, const char *name, FILE *out, const char *oname,
    const tl_tok *t, int ids)
{
	char err[TL_ERRLEN];
	struct denc d;
	double t0 = tl_now(), dt;

	memset(&d, 0, sizeof(d));
	d.in = in;
	d.out = out;
	d.oname = oname;
	d.eot = (uint16_t)tl_tok_eot(t);
	d.e = encoder(t);
	if (!ids && (d.w = tl_swriter_new(out, t, err)) == NULL)
		tl_die(1, "%s: %s", oname, err);
	progress_begin(&d.pg, in, out, "bytes");
	if (tl_docs_read(in, name, &docfmt, denc_piece, &d, err) != 0)
		tl_die(2, "%s", err);
	tl_progress_end(&d.pg);
	if (d.w && tl_swriter_end(d.w, err) != 0)
		tl_die(1, "%s: %s", oname, err);
	dt = tl_now() - t0;
	if (stats)
		tl_warn("%s: %llu documents, %llu bytes to %llu ids in %.3f s, "
		    "%.1f MB/s", name, (unsigned long long)d.ndoc,
		    (unsigned long long)d.nin, (unsigned long long)d.nout, dt,
		    dt > 0 ? d.nin / dt / 1e6 : 0.0);
	tl_tokenc_free(d.e);
}

/* Text of ids as documents in docfmt: the EOT ends one. */
static uint64_t
put_docs(tl_docw *dw, const char *name, const tl_tok *t, const uint16_t *ids,
    size_t n)
{
	char err[TL_ERRLEN];
	const unsigned char *p;
	size_t i, l;
	uint64_t len = 0;
	int eot = tl_tok_eot(t), rc;

	for (i = 0; i < n; i++) {
		if (ids[i] == eot)
			rc = tl_docw_end(dw, err);
		else {
			p = tl_tok_piece(t, ids[i], &l);
			rc = tl_docw_put(dw, p, l, err);
			len += l;
		}
		if (rc != 0)
			tl_die(2, "%s: %s", name, err);
	}
	return len;
}

static void
decode(FILE *in, const char *name, FILE *out, const tl_tok *want,
    const char *vname, int ids)
{
	char err[TL_ERRLEN];
	const uint16_t *c;
	const tl_tok *t;
	tl_sreader *r;
	tl_progress pg;
	tl_docw dw;
	uint64_t nin = 0, nout = 0;
	double t0 = tl_now(), dt;
	long n;

	if ((r = tl_sreader_new(in, name, err)) == NULL)
		tl_die(2, "%s", err);
	t = tl_sreader_tok(r);
	if (want && !tl_tok_equal(t, want))
		tl_die(2, "%s: the stream's tokenizer is not the one in %s",
		    name, vname);
	/* of the file's bytes (as far as read), or of ids from a pipe */
	progress_begin(&pg, in, out, "tokens");
	tl_docw_init(&dw, out, &docfmt);
	while ((n = tl_sreader_next(r, &c, err)) > 0) {
		if (ids)
			put_ids(out, c, (size_t)n);
		else if (docfmt.kind != TL_DOCS_TEXT)
			nout += put_docs(&dw, name, t, c, (size_t)n);
		else
			nout += put_text(out, t, c, (size_t)n);
		nin += (size_t)n;
		tl_progress_update(&pg, pg.total ? (uint64_t)ftello(in) : nin);
	}
	if (n < 0)
		tl_die(2, "%s", err);
	if (tl_docw_finish(&dw, err) != 0)
		tl_die(2, "%s: %s", name, err);
	tl_progress_end(&pg);
	dt = tl_now() - t0;
	if (stats)
		tl_warn("%s: %llu ids to %llu bytes in %.3f s, %.1f MB/s", name,
		    (unsigned long long)nin, (unsigned long long)nout, dt,
		    dt > 0 ? nout / dt / 1e6 : 0.0);
	tl_sreader_free(r);
}

/* Feed the learner up to max bytes of in; returns how many it got. */
static uint64_t
feed_range(FILE *in, const char *name, tl_learner *l, unsigned char *buf,
    uint64_t max, tl_progress *pg)
{
	char err[TL_ERRLEN];
	uint64_t done = 0;
	size_t want, got;

	do {
		want = max - done < BLOCK ? (size_t)(max - done) : BLOCK;
		got = in_read(in, name, buf, want);
		if (tl_learner_feed(l, buf, got, err) != 0)
			tl_die(1, "%s: %s", name, err);
		done += got;
		tl_progress_add(pg, got);
	} while (got == BLOCK && done < max);
	return done;
}

/*
 * The text to learn from: all of the input, or with --sample size a
 * sample: from a file longer than size, k = ceil(size / 1 MiB) pieces,
 * piece i from byte floor(i * filesize / k), each a document of its
 * own (no merge joins two); from a pipe, the first size bytes.
 */
static uint64_t
feed_input(FILE *in, const char *name, tl_learner *l, uint64_t sample,
    tl_progress *pg)
{
	char err[TL_ERRLEN];
	unsigned char *buf = tl_xmalloc(BLOCK);
	uint64_t size, k, i, off, next, want, done = 0;
	struct stat st;

	if (sample == 0 || fstat(fileno(in), &st) != 0 ||
	    !S_ISREG(st.st_mode) || (uint64_t)st.st_size <= sample)
		done = feed_range(in, name, l, buf,
		    sample ? sample : UINT64_MAX, pg);
	else {
		size = (uint64_t)st.st_size;
		k = (sample + SPIECE - 1) / SPIECE;
		for (i = 0; i < k; i++) {
			off = i * (size / k) + i * (size % k) / k;
			next = (i + 1) * (size / k) + (i + 1) * (size % k) / k;
			want = (i + 1) * sample / k - i * sample / k;
			if (want > next - off)
				want = next - off;
			if (fseeko(in, (off_t)off, SEEK_SET) != 0)
				tl_die(2, "%s: seek:", name);
			done += feed_range(in, name, l, buf, want, pg);
			if (tl_learner_doc(l, err) != 0)
				tl_die(1, "%s: %s", name, err);
		}
	}
	free(buf);
	return done;
}

/*
 * Documents to the learner, each end a place no merge crosses; with
 * --sample size, the first size bytes of their text.
 */
struct ldocs {
	tl_learner *l;
	tl_progress *pg;
	FILE *in;
	uint64_t left, done;	/* left: of the sample (or all) */
	int full;		/* the sample is taken: stop reading */
};

static int
learn_piece(void *ctx, const unsigned char *p, size_t n, char *err)
{
	struct ldocs *L = ctx;

	if (p == NULL)
		return tl_learner_doc(L->l, err);
	if (n > L->left)
		n = (size_t)L->left;
	if (tl_learner_feed(L->l, p, n, err) != 0)
		return -1;
	L->left -= n;
	L->done += n;
	tl_progress_update(L->pg, L->pg->total ? (uint64_t)ftello(L->in) :
	    L->done);
	if (L->left == 0) {
		L->full = 1;
		return tl_learner_doc(L->l, err) != 0 ? -1 : 1;
	}
	return 0;
}

static uint64_t
feed_docs(FILE *in, const char *name, tl_learner *l, uint64_t sample,
    tl_progress *pg)
{
	char err[TL_ERRLEN];
	struct ldocs L;

	memset(&L, 0, sizeof L);
	L.l = l;
	L.pg = pg;
	L.in = in;
	L.left = sample ? sample : UINT64_MAX;
	if (tl_docs_read(in, name, &docfmt, learn_piece, &L, err) != 0 &&
	    !L.full)
		tl_die(2, "%s", err);
	return L.done;
}

/*
 * Learn a vocabulary of vocab ids (with documents, the EOT one of them)
 * of kind from in into *t, for --train-bpe and --bpe; out only decides
 * whether there is a progress line.
 */
static void
learn(FILE *in, const char *name, FILE *out, long vocab, uint32_t kind,
    uint64_t sample, tl_tok *t)
{
	char err[TL_ERRLEN];
	double t0 = tl_now();
	tl_progress pg;
	tl_learner *l;
	uint64_t n;

	if ((l = tl_learner_new(kind, err)) == NULL)
		tl_die(1, "%s", err);
	progress_begin(&pg, in, out, "bytes");
	if (sample > 0 && pg.total > sample)
		pg.total = sample;
	if (docfmt.kind != TL_DOCS_TEXT) {
		n = feed_docs(in, name, l, sample, &pg);
		vocab--;	/* the EOT is one of the ids */
	} else
		n = feed_input(in, name, l, sample, &pg);
	tl_progress_end(&pg);
	if (pg.what) {
		/* the merges, the long part of the exact rule */
		tl_progress_begin(&pg, "tl-tokenize: learning", vocab - 256,
		    "merges");
		tl_tok_learn_progress(&pg);
	}
	if (tl_learner_finish(l, (uint32_t)vocab, t, err) != 0 ||
	    (docfmt.kind != TL_DOCS_TEXT && tl_tok_add_eot(t, err) != 0))
		tl_die(1, "%s: %s", name, err);
	tl_tok_learn_progress(NULL);
	tl_progress_update(&pg, tl_tok_nmerges(t));
	tl_progress_end(&pg);
	tl_learner_free(l);
	if (stats)
		tl_warn("%s: learned %lu ids from %llu bytes in %.3f s", name,
		    (unsigned long)t->vocab, (unsigned long long)n,
		    tl_now() - t0);
	if (tl_tok_nmerges(t) + 256 < (uint32_t)vocab)
		tl_warn("%s: no pair occurs twice after %lu merges: the "
		    "vocabulary has %lu ids", name,
		    (unsigned long)tl_tok_nmerges(t), (unsigned long)t->vocab);
}

/* What the command line asks for. */
typedef struct {
	const char *opath, *vpath, *ipath, *iname;	/* -o, -v, file */
	long ntrain, nbpe;	/* --train-bpe n, --bpe n */
	uint32_t kind;		/* --bpe-kind */
	uint64_t sample;	/* --sample */
	int dflag, ids, drop;	/* -d, --ids, --bpe-dropout given */
} args;

/* The options, and every combination refused before anything is read. */
static void
parse_args(args *a, int argc, char **argv)
{
	tl_optparse op;

	memset(a, 0, sizeof *a);
	a->kind = TL_TOK_BPE;
	tl_opt_begin(&op, &cmd, argc, argv);
	while (tl_opt_next(&op) != -1)
		switch (op.opt->key) {
		case 'b':
			a->ntrain = tl_atol(op.arg, op.name, 256, TL_MAX_VOCAB);
			break;
		case O_BPE:
			a->nbpe = tl_atol(op.arg, op.name, 256, TL_MAX_VOCAB);
			break;
		case O_KIND:
			a->kind = op.val ? TL_TOK_WORDS : TL_TOK_BPE;
			break;
		case O_SAMPLE:
			a->sample = tl_atosize(op.arg, op.name);
			break;
		case O_DROP:
			bpedrop = (float)tl_atof(op.arg, op.name, 0, 0.99);
			break;
		case O_SEED:
			dropseed = (uint64_t)tl_atol(op.arg, op.name, 0,
			    0x7fffffffL);
			break;
		case 'd':
			a->dflag = 1;
			break;
		case 'i':
			a->ids = 1;
			break;
		case 'o':
			a->opath = op.arg;
			break;
		case 's':
			stats = 1;
			break;
		case 'v':
			a->vpath = op.arg;
			break;
		case O_CSV:
		case O_JSONL:
		case O_SEP:
			if (docfmt.kind != TL_DOCS_TEXT)
				tl_die(2, "give one of --csv, --jsonl, --sep");
			docfmt.kind = op.opt->key == O_CSV ? TL_DOCS_CSV :
			    op.opt->key == O_JSONL ? TL_DOCS_JSONL : TL_DOCS_SEP;
			if (*op.arg == '\0')
				tl_die(2, "%s: empty argument", op.name);
			docfmt.arg = op.arg;
			break;
		}
	if (op.nargs == 1 && strcmp(op.args[0], "-") != 0)
		a->ipath = op.args[0];
	a->iname = a->ipath ? a->ipath : "stdin";
	a->drop = tl_opt_given(&op, O_DROP);
	if (a->nbpe && (a->ntrain || a->dflag || a->vpath))
		tl_die(2, "--bpe takes none of --train-bpe, -d, -v");
	if (a->ntrain && (a->dflag || a->ids || a->vpath))
		tl_die(2, "--train-bpe takes none of -d, --ids, -v");
	if (!a->ntrain && !a->nbpe && (tl_opt_given(&op, O_KIND) ||
	    tl_opt_given(&op, O_SAMPLE)))
		tl_die(2, "--bpe-kind and --sample need --train-bpe or --bpe");
	if (tl_opt_given(&op, O_SEED) && !a->drop)
		tl_die(2, "--seed needs --bpe-dropout");
	if (a->drop && (a->ntrain || a->dflag))
		tl_die(2, "--bpe-dropout encodes: not with -d or --train-bpe");
	if (a->ntrain && a->opath == NULL)
		tl_die(2, "--train-bpe needs -o file");
	if ((a->ntrain == 256 || a->nbpe == 256) &&
	    docfmt.kind != TL_DOCS_TEXT)
		tl_die(2, "%s with documents needs n >= 257 (one id is the "
		    "end-of-text token)", a->ntrain ? "--train-bpe" : "--bpe");
	if (a->dflag && a->ids && docfmt.kind != TL_DOCS_TEXT)
		tl_die(2, "-d --ids prints ids, not documents: no --csv, "
		    "--jsonl or --sep");
	if (a->opath && a->ipath && strcmp(a->opath, a->ipath) == 0)
		tl_die(2, "%s: output would overwrite the input", a->opath);
}

/* The tokenizer given (-v) or the bytes', checked before any output
 * exists; --train-bpe and --bpe replace it with the one they learn. */
static void
given_tok(const args *a, tl_tok *tok)
{
	char err[TL_ERRLEN];

	if (a->vpath) {
		/* the tokenizer of any file that holds one (mfile.c) */
		if (tl_vocab_load(tok, a->vpath, err) != 0)
			tl_die(2, "%s", err);
	} else if (tl_tok_bytes(tok, err) != 0)
		tl_die(1, "%s", err);
	if (a->drop && !a->nbpe && tl_tok_nmerges(tok) == 0)
		tl_die(2, "--bpe-dropout: %s has no BPE merges to skip",
		    a->vpath ? a->vpath : "the byte tokenizer");
	/* Documents end with the EOT: a tokenizer without one gets it
	 * (a learned one has it). */
	if (docfmt.kind != TL_DOCS_TEXT && !a->dflag && !a->ntrain &&
	    !a->nbpe && tl_tok_eot(tok) < 0 && tl_tok_add_eot(tok, err) != 0)
		tl_die(2, "%s: %s", a->vpath ? a->vpath : "bytes", err);
}

int
main(int argc, char **argv)
{
	char err[TL_ERRLEN];
	const char *oname;
	off_t start = 0;
	FILE *in, *out;
	tl_tok tok;
	args a;

	/* A closed pipe on stdout ends the program quietly. */
	signal(SIGPIPE, SIG_DFL);
	parse_args(&a, argc, argv);
	oname = a.opath ? a.opath : "stdout";
	given_tok(&a, &tok);
	in = in_open(a.ipath);
	if (a.nbpe) {
		/* read twice: learned from, then encoded from here */
		in = in_reread(in, a.iname);
		if ((start = ftello(in)) < 0)
			tl_die(2, "%s:", a.iname);
	}
	tl_afile_signals();
	out = out_open(a.opath);

	if (a.ntrain || a.nbpe) {
		tl_tok_free(&tok);
		learn(in, a.iname, out, a.ntrain ? a.ntrain : a.nbpe, a.kind,
		    a.sample, &tok);
	}
	if (a.nbpe) {
		if (fseeko(in, start, SEEK_SET) != 0)
			tl_die(2, "%s: seek:", a.iname);
		if (a.drop && tl_tok_nmerges(&tok) == 0)
			tl_die(2, "--bpe-dropout: the vocabulary learned from "
			    "%s has no BPE merges to skip", a.iname);
	}

	if (a.ntrain) {
		if (tl_vocab_write(out, &tok, err) != 0)
			tl_die(1, "%s: %s", a.opath, err);
	} else if (a.dflag)
		decode(in, a.iname, out, a.vpath ? &tok : NULL, a.vpath, a.ids);
	else if (docfmt.kind != TL_DOCS_TEXT)
		encode_docs(in, a.iname, out, oname, &tok, a.ids);
	else
		encode(in, a.iname, out, oname, &tok, a.ids);
	out_close(out, a.opath);
	if (in != stdin)
		fclose(in);
	tl_tok_free(&tok);
	return 0;
}
