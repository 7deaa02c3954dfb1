/*
 * ckpt.c: reading and writing training checkpoints (tl-checkpoint(5)).
 *
 * Layout: a fixed prefix (magic, version, configuration, tokenizer
 * blob length), the tokenizer blob, hyperparameters, training state,
 * the parameter count, three float arrays (weights, AdamW m and v),
 * and a CRC-32 of every byte before it.  All fields little-endian.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "formats/formats.h"

static const char magic[8] = TL_CKPT_MAGIC;

#define PREFIX_SIZE (8 + 4 + 10 * 4 + 4)
#define HP_SIZE (8 + 19 * 4)
#define HP_SIZE_V1 (8 + 16 * 4)	/* version 1: no sched */
#define HP_SIZE_V2 (8 + 17 * 4)	/* version 2: no dropout, distill */
#define ST_SIZE (8 + 8 + 8 + 16 + 4 + 4)
#define MAX_TOKBLOB (16 + 8 * (size_t)TL_MAX_VOCAB)

/* The arrays that what (TL_CKPT_*) asks for. */
static int
alloc_arrays(tl_ckpt *ck, size_t n, int what, char *err)
{
	if (what == TL_CKPT_META)
		return 0;
	ck->params = calloc(n, sizeof(float));
	if (what == TL_CKPT_ALL) {
		ck->m = calloc(n, sizeof(float));
		ck->v = calloc(n, sizeof(float));
	}
	if (!ck->params || (what == TL_CKPT_ALL && (!ck->m || !ck->v))) {
		tl_ckpt_free(ck);
		return tl_err(err, "out of memory for %zu parameters", n);
	}
	return 0;
}

int
tl_ckpt_create(tl_ckpt *ck, const tl_config *c, const tl_tok *tok,
    uint64_t seed, char *err)
{
	size_t bl;
	unsigned char *blob;
	int rc;

	memset(ck, 0, sizeof *ck);
	if (tl_config_check(c, err) < 0)
		return -1;
	if (tok->vocab != c->vocab)
		return tl_err(err, "tokenizer has %u ids, model %u", tok->vocab,
		    c->vocab);
	ck->cfg = *c;
	/* copy the tokenizer through its blob: one way to own one */
	bl = tl_tok_blob_size(tok);
	if ((blob = malloc(bl)) == NULL)
		return tl_err(err, "out of memory");
	tl_tok_blob_put(tok, blob);
	rc = tl_tok_blob_get(&ck->tok, blob, bl, err);
	free(blob);
	if (rc < 0)
		return -1;
	tl_hparams_default(&ck->hp, c);
	tl_train_seed(&ck->hp, &ck->st, seed);
	if (alloc_arrays(ck, tl_nparams(c), TL_CKPT_ALL, err) < 0)
		return -1;
	tl_params_init(ck->params, c, seed);
	return 0;
}

void
tl_ckpt_free(tl_ckpt *ck)
{
	free(ck->params);
	free(ck->m);
	free(ck->v);
	ck->params = ck->m = ck->v = NULL;
	tl_tok_free(&ck->tok);
}

static void
put_hp(unsigned char *p, const tl_hparams *h)
{
	tl_put_u64(p, h->seed);
	tl_put_u32(p + 8, h->steps);
	tl_put_f32(p + 12, h->time);
	tl_put_u32(p + 16, h->batch);
	tl_put_u32(p + 20, h->accum);
	tl_put_u32(p + 24, h->warmup);
	tl_put_f32(p + 28, h->lr);
	tl_put_f32(p + 32, h->lr_min);
	tl_put_f32(p + 36, h->wd);
	tl_put_f32(p + 40, h->clip);
	tl_put_f32(p + 44, h->beta1);
	tl_put_f32(p + 48, h->beta2);
	tl_put_f32(p + 52, h->eps);
	tl_put_f32(p + 56, h->val_frac);
	tl_put_u32(p + 60, h->eval_every);
	tl_put_u32(p + 64, h->eval_tokens);
	tl_put_f32(p + 68, h->save_every);
	tl_put_u32(p + 72, h->sched);
	tl_put_f32(p + 76, h->dropout);
	tl_put_f32(p + 80, h->distill);
}

static void
get_hp(tl_hparams *h, const unsigned char *p, size_t size)
{
	h->seed = tl_get_u64(p);
	h->steps = tl_get_u32(p + 8);
	h->time = tl_get_f32(p + 12);
	h->batch = tl_get_u32(p + 16);
	h->accum = tl_get_u32(p + 20);
	h->warmup = tl_get_u32(p + 24);
	h->lr = tl_get_f32(p + 28);
	h->lr_min = tl_get_f32(p + 32);
	h->wd = tl_get_f32(p + 36);
	h->clip = tl_get_f32(p + 40);
	h->beta1 = tl_get_f32(p + 44);
	h->beta2 = tl_get_f32(p + 48);
	h->eps = tl_get_f32(p + 52);
	h->val_frac = tl_get_f32(p + 56);
	h->eval_every = tl_get_u32(p + 60);
	h->eval_tokens = tl_get_u32(p + 64);
	h->save_every = tl_get_f32(p + 68);
	h->sched = size > 72 ? tl_get_u32(p + 72) : TL_SCHED_COSINE;
	h->dropout = size > 76 ? tl_get_f32(p + 76) : 0;
	h->distill = size > 80 ? tl_get_f32(p + 80) : 0;
}

static void
put_st(unsigned char *p, const tl_tstate *s)
{
	uint64_t e;
	int i;

	memcpy(&e, &s->elapsed, 8);
	tl_put_u64(p, s->step);
	tl_put_u64(p + 8, s->tokens);
	tl_put_u64(p + 16, e);
	for (i = 0; i < 4; i++)
		tl_put_u32(p + 24 + 4 * i, s->rng.s[i]);
	tl_put_f32(p + 40, s->loss);
	tl_put_f32(p + 44, s->val);
}

static void
get_st(tl_tstate *s, const unsigned char *p)
{
	uint64_t e = tl_get_u64(p + 16);
	int i;

	s->step = tl_get_u64(p);
	s->tokens = tl_get_u64(p + 8);
	memcpy(&s->elapsed, &e, 8);
	for (i = 0; i < 4; i++)
		s->rng.s[i] = tl_get_u32(p + 24 + 4 * i);
	s->loss = tl_get_f32(p + 40);
	s->val = tl_get_f32(p + 44);
}

/* Hyperparameters a run can use: no NaN, nothing that stalls it. */
static int
hp_check(const tl_hparams *h, char *err)
{
	if (h->batch < 1 || h->batch > 65536 || h->accum < 1 ||
	    h->accum > 65536)
		return tl_err(err, "batch %u x %u out of range", h->batch,
		    h->accum);
	if (!(h->lr >= 0 && h->lr < 10) || !(h->lr_min >= 0 && h->lr_min <= 1) ||
	    !(h->wd >= 0 && h->wd < 10) || !(h->clip >= 0) ||
	    !(h->beta1 >= 0 && h->beta1 < 1) || !(h->beta2 >= 0 && h->beta2 < 1) ||
	    !(h->eps > 0 && h->eps < 1) || !(h->val_frac >= 0 && h->val_frac < 1)
	    || !(h->time >= 0 && h->time <= 1e9) ||
	    !(h->save_every >= 0 && h->save_every <= 1e9) || !(h->clip <= 1e9) ||
	    h->sched >= TL_SCHED_N || !(h->dropout >= 0 && h->dropout < 1) ||
	    !(h->distill >= 0 && h->distill <= 1))
		return tl_err(err, "hyperparameter out of range");
	return 0;
}

/* Finite numbers only, and second moments not negative: NaN or an
 * infinity in a checkpoint is damage (a run that diverges stops before
 * it saves).  Returns the index of the first bad value, or n. */
static size_t
bad_float(const float *x, size_t n, int nonneg)
{
	size_t i;

	if (x == NULL)		/* not loaded */
		return n;
	for (i = 0; i < n; i++)
		if (!isfinite(x[i]) || (nonneg && x[i] < 0))
			break;
	return i;
}

/* A state a run can go on from: the generator's words are never all
 * zero (xoshiro would then draw 0 for ever, and tl_rng_below would
 * never return), and the time spent is a finite count of seconds (a
 * NaN would never reach a time budget). */
static int
st_check(const tl_tstate *s, char *err)
{
	if ((s->rng.s[0] | s->rng.s[1] | s->rng.s[2] | s->rng.s[3]) == 0)
		return tl_err(err, "bad training state: random generator "
		    "state is zero");
	if (!(s->elapsed >= 0 && s->elapsed <= 1e18))
		return tl_err(err, "bad training state: elapsed time %g",
		    s->elapsed);
	return 0;
}

/* Write n floats through f, adding them to the running crc. */
static int
put_floats(FILE *f, const float *x, size_t n, uint32_t *crc)
{
	unsigned char buf[4096];
	size_t i, k;

	while (n > 0) {
		k = n < sizeof buf / 4 ? n : sizeof buf / 4;
		for (i = 0; i < k; i++)
			tl_put_f32(buf + 4 * i, x[i]);
		if (fwrite(buf, 4, k, f) != k)
			return -1;
		*crc = tl_crc32(*crc, buf, 4 * k);
		x += k;
		n -= k;
	}
	return 0;
}

static int
get_floats(FILE *f, float *x, size_t n, uint32_t *crc)
{
	unsigned char buf[4096];
	size_t i, k;

	while (n > 0) {
		k = n < sizeof buf / 4 ? n : sizeof buf / 4;
		if (fread(buf, 4, k, f) != k)
			return -1;
		*crc = tl_crc32(*crc, buf, 4 * k);
		for (i = 0; x && i < k; i++)
			x[i] = tl_get_f32(buf + 4 * i);
		if (x)
			x += k;
		n -= k;
	}
	return 0;
}

tl_tmodel
tl_ckpt_tmodel(tl_ckpt *ck)
{
	tl_tmodel tm;

	tm.cfg = &ck->cfg;
	tm.hp = &ck->hp;
	tm.st = &ck->st;
	tm.params = ck->params;
	tm.m = ck->m;
	tm.v = ck->v;
	return tm;
}

int
tl_ckpt_save(const tl_ckpt *ck, const char *path, char *err)
{
	size_t bl = tl_tok_blob_size(&ck->tok), n = tl_nparams(&ck->cfg);
	size_t hl = PREFIX_SIZE + bl + HP_SIZE + ST_SIZE + 8;
	unsigned char *h, tail[4];
	uint32_t crc;
	tl_afile af;
	int ok;

	if ((h = malloc(hl)) == NULL)
		return tl_err(err, "%s: out of memory", path);
	memcpy(h, magic, 8);
	tl_put_u32(h + 8, TL_CKPT_VERSION);
	tl_config_put(h + 12, &ck->cfg);
	tl_put_u32(h + 52, (uint32_t)bl);
	tl_tok_blob_put(&ck->tok, h + PREFIX_SIZE);
	put_hp(h + PREFIX_SIZE + bl, &ck->hp);
	put_st(h + PREFIX_SIZE + bl + HP_SIZE, &ck->st);
	tl_put_u64(h + hl - 8, n);
	if (tl_afile_open(&af, path, err) < 0) {
		free(h);
		return -1;
	}
	crc = tl_crc32(0, h, hl);
	ok = fwrite(h, 1, hl, af.f) == hl;
	ok = ok && put_floats(af.f, ck->params, n, &crc) == 0;
	ok = ok && put_floats(af.f, ck->m, n, &crc) == 0;
	ok = ok && put_floats(af.f, ck->v, n, &crc) == 0;
	tl_put_u32(tail, crc);
	ok = ok && fwrite(tail, 1, 4, af.f) == 4;
	free(h);
	if (!ok) {
		tl_err(err, "%s: write failed: %s", path, strerror(errno ?
		    errno : EIO));
		tl_afile_abort(&af);
		return -1;
	}
	return tl_afile_commit(&af, err);
}

int
tl_ckpt_load(tl_ckpt *ck, const char *path, int what, char *err)
{
	unsigned char pre[PREFIX_SIZE], *rest = NULL, tail[4];
	struct stat sb;
	uint32_t ver, bl, crc;
	size_t hs;
	uint64_t n, want;
	size_t i;
	FILE *f;
	char e2[TL_ERRLEN];

	memset(ck, 0, sizeof *ck);
	if ((f = fopen(path, "rb")) == NULL)
		return tl_err(err, "%s: %s", path, strerror(errno));
	if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
		fclose(f);
		return tl_err(err, "%s: not a regular file", path);
	}
	if (fread(pre, 1, sizeof pre, f) != sizeof pre) {
		fclose(f);
		if (sb.st_size >= 8 && memcmp(pre, magic, 8) == 0)
			return tl_err(err, "%s: truncated checkpoint", path);
		return tl_err(err, "%s: bad magic (not a tl checkpoint)", path);
	}
	if (memcmp(pre, magic, 8) != 0) {
		fclose(f);
		return tl_err(err, "%s: bad magic (not a tl checkpoint)", path);
	}
	if ((ver = tl_get_u32(pre + 8)) < 1 || ver > TL_CKPT_VERSION) {
		fclose(f);
		return tl_err(err, "%s: checkpoint version %u, this program "
		    "reads versions 1 to %d", path, ver, TL_CKPT_VERSION);
	}
	tl_config_get(&ck->cfg, pre + 12);
	bl = tl_get_u32(pre + 52);
	if (tl_config_check(&ck->cfg, e2) < 0) {
		fclose(f);
		return tl_err(err, "%s: bad configuration: %s", path, e2);
	}
	n = tl_nparams(&ck->cfg);
	hs = ver == 1 ? HP_SIZE_V1 : ver == 2 ? HP_SIZE_V2 : HP_SIZE;
	want = PREFIX_SIZE + (uint64_t)bl + hs + ST_SIZE + 8 + 12 * n + 4;
	if (bl > MAX_TOKBLOB || (uint64_t)sb.st_size != want) {
		fclose(f);
		if ((uint64_t)sb.st_size < want && bl <= MAX_TOKBLOB)
			return tl_err(err, "%s: truncated checkpoint (%lld of "
			    "%llu bytes)", path, (long long)sb.st_size,
			    (unsigned long long)want);
		return tl_err(err, "%s: size %lld does not match its header",
		    path, (long long)sb.st_size);
	}
	crc = tl_crc32(0, pre, sizeof pre);
	if ((rest = malloc(bl + hs + ST_SIZE + 8)) == NULL) {
		fclose(f);
		return tl_err(err, "%s: out of memory", path);
	}
	if (fread(rest, 1, bl + hs + ST_SIZE + 8, f) !=
	    bl + hs + ST_SIZE + 8)
		goto trunc;
	crc = tl_crc32(crc, rest, bl + hs + ST_SIZE + 8);
	if (tl_get_u64(rest + bl + hs + ST_SIZE) != n) {
		tl_err(err, "%s: parameter count does not match its "
		    "configuration", path);
		goto fail;
	}
	if (alloc_arrays(ck, n, what, err) < 0)
		goto fail;
	/* the arrays not asked for are read for the checksum only */
	if (get_floats(f, ck->params, n, &crc) < 0 ||
	    get_floats(f, ck->m, n, &crc) < 0 ||
	    get_floats(f, ck->v, n, &crc) < 0 || fread(tail, 1, 4, f) != 4)
		goto trunc;
	if (tl_get_u32(tail) != crc) {
		tl_err(err, "%s: checksum mismatch (file damaged)", path);
		goto fail;
	}
	/* only now, with the checksum good, parse what it protects */
	if ((i = bad_float(ck->params, n, 0)) < n ||
	    (i = bad_float(ck->m, n, 0)) < n ||
	    (i = bad_float(ck->v, n, 1)) < n) {
		tl_err(err, "%s: bad value in the %s of parameter %zu", path,
		    bad_float(ck->params, n, 0) < n ? "weight" :
		    bad_float(ck->m, n, 0) < n ? "first moment" :
		    "second moment", i);
		goto fail;
	}
	if (tl_tok_blob_get(&ck->tok, rest, bl, e2) < 0) {
		tl_err(err, "%s: bad tokenizer: %s", path, e2);
		goto fail;
	}
	if (ck->tok.vocab != ck->cfg.vocab) {
		tl_err(err, "%s: tokenizer has %u ids but the model %u", path,
		    ck->tok.vocab, ck->cfg.vocab);
		goto fail;
	}
	get_hp(&ck->hp, rest + bl, hs);
	get_st(&ck->st, rest + bl + hs);
	if (hp_check(&ck->hp, e2) < 0 || st_check(&ck->st, e2) < 0) {
		tl_err(err, "%s: %s", path, e2);
		goto fail;
	}
	free(rest);
	fclose(f);
	return 0;
trunc:
	tl_err(err, "%s: truncated checkpoint", path);
fail:
	free(rest);
	fclose(f);
	tl_ckpt_free(ck);
	return -1;
}
