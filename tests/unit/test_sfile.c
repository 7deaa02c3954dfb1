/*
 * test_sfile: random access to token-stream files (tl_sfile) against
 * the ids written, for our writer's fixed chunks and for hand-made
 * streams whose chunk counts vary (the index); damage found at open
 * or when the damaged chunk is read, each as one line naming the
 * file; a spooled pipe; and the trainer's in-memory and file sources.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "formats/formats.h"
#include "unit.h"

#define V 300

/* A stream of ids (n) whose chunks hold counts[0], counts[1], ...
 * (cycled), written by hand; ncounts 0: by tl_swriter. */
static FILE *
make_stream(const tl_tok *t, const uint16_t *ids, size_t n,
    const uint32_t *counts, int ncounts)
{
	char err[TL_ERRLEN];
	unsigned char b[16], *c;
	tl_swriter *w;
	size_t i = 0, k, j;
	FILE *f = tmpfile();
	int ci = 0;

	w = tl_swriter_new(f, t, err);
	CHECK(w != NULL);
	if (ncounts == 0) {
		CHECK(tl_swriter_put(w, ids, n, err) == 0);
		CHECK(tl_swriter_end(w, err) == 0);
		rewind(f);
		return f;
	}
	free(w);	/* only its header: the chunks follow by hand */
	c = malloc(4 + 2 * 65536 + 4);
	for (i = 0; i < n; i += k) {
		k = counts[ci++ % ncounts];
		if (k > n - i)
			k = n - i;
		tl_put_u32(c, (uint32_t)k);
		for (j = 0; j < k; j++)
			tl_put_u16(c + 4 + 2 * j, ids[i + j]);
		tl_put_u32(c + 4 + 2 * k, tl_crc32(0, c, 4 + 2 * k));
		fwrite(c, 1, 8 + 2 * k, f);
	}
	tl_put_u32(b, 0);
	tl_put_u64(b + 4, n);
	tl_put_u32(b + 12, tl_crc32(0, b, 12));
	fwrite(b, 1, 16, f);
	fflush(f);
	rewind(f);
	free(c);
	return f;
}

static size_t fixed_mem;

/* Random reads, and reads across chunk ends, equal the ids. */
static void
check_reads(FILE *f, const uint16_t *ids, size_t n, int indexed)
{
	char err[TL_ERRLEN];
	uint16_t *out = malloc(70000 * sizeof(*out));
	tl_sfile *s = tl_sfile_open(f, "x.tok", err);
	tl_rng g;
	size_t pos, k;
	int i, bad = 0;

	CHECK(s != NULL);
	if (s == NULL) {
		fprintf(stderr, "%s\n", err);
		free(out);
		return;
	}
	CHECK(tl_sfile_count(s) == n);
	CHECK(tl_sfile_tok(s)->vocab == V);
	/* the index costs 8 bytes a chunk; fixed chunks nothing more */
	CHECK(tl_sfile_mem(s) < 400 * 1024);
	if (!indexed)
		fixed_mem = tl_sfile_mem(s);
	CHECK((tl_sfile_mem(s) > fixed_mem) == indexed);
	tl_rng_seed(&g, 5);
	for (i = 0; i < 3000; i++) {
		pos = tl_rng_below(&g, (uint32_t)n);
		k = tl_rng_below(&g, i % 10 == 0 ? 70000 : 300);
		if (k > n - pos)
			k = n - pos;
		if (tl_sfile_read(s, pos, k, out, err) != 0 ||
		    memcmp(out, ids + pos, k * sizeof(*out)) != 0) {
			if (bad++ == 0)
				fprintf(stderr, "read %zu %zu: %s\n", pos, k, err);
		}
	}
	CHECK_NONE_BAD(bad, "%d reads differ\n", bad);
	if (n <= 70000)
		CHECK(tl_sfile_read(s, 0, n, out, err) == 0 &&
		    memcmp(out, ids, n * sizeof(*out)) == 0);
	CHECK(tl_sfile_read(s, n, 0, out, err) == 0);
	CHECK(tl_sfile_read(s, n - 1, 2, out, err) != 0);
	CHECK(strncmp(err, "x.tok: ", 7) == 0);
	tl_sfile_free(s);
	free(out);
}

static void
test_reads(const tl_tok *t, uint16_t *ids, size_t n)
{
	static const uint32_t vary[] = { 1000, 1, 65536, 333, 16384 };
	static const uint32_t growing[] = { 100, 100, 100, 200 };
	FILE *f;

	f = make_stream(t, ids, n, NULL, 0);	/* 16384 a chunk */
	check_reads(f, ids, n, 0);
	fclose(f);
	f = make_stream(t, ids, n, vary, 5);
	check_reads(f, ids, n, 1);
	fclose(f);
	/* equal counts with a larger last one: still the index */
	f = make_stream(t, ids, 500, growing, 4);
	check_reads(f, ids, 500, 1);
	fclose(f);
	/* one chunk of fewer ids than a full one */
	f = make_stream(t, ids, 77, NULL, 0);
	check_reads(f, ids, 77, 0);
	fclose(f);
}

/* A file of the bytes b (n), opened: 0 or -1 with err. */
static int
open_bytes(const unsigned char *b, size_t n, char *err)
{
	FILE *f = tmpfile();
	tl_sfile *s;

	fwrite(b, 1, n, f);
	rewind(f);
	s = tl_sfile_open(f, "x.tok", err);
	tl_sfile_free(s);
	fclose(f);
	return s ? 0 : -1;
}

/* Damage: what open's walk sees is refused at open; a bad checksum or
 * id inside a chunk when that chunk is read. */
static void
test_damage(const tl_tok *t, const uint16_t *ids, size_t n)
{
	char err[TL_ERRLEN];
	unsigned char *b;
	uint16_t out[10];
	size_t len, hdr = 12 + tl_tok_blob_size(t) + 4, c3, i;
	FILE *f = make_stream(t, ids, n, NULL, 0);
	tl_sfile *s;
	int bad = 0;

	fseek(f, 0, SEEK_END);
	len = (size_t)ftell(f);
	b = malloc(len + 1);
	rewind(f);
	CHECK(fread(b, 1, len, f) == len);
	fclose(f);

	/* every proper prefix, and a byte after the end */
	for (i = 0; i < len; i += 1 + i / 7)
		bad += open_bytes(b, i, err) == 0 || strchr(err, '\n') ||
		    strncmp(err, "x.tok: ", 7) != 0;
	CHECK_NONE_BAD(bad, "%d prefixes opened\n", bad);
	b[len] = 0;
	CHECK(open_bytes(b, len + 1, err) != 0);
	CHECK(strcmp(err, "x.tok: data after the end chunk") == 0);
	/* a count too large */
	tl_put_u32(b + hdr, 65537);
	CHECK(open_bytes(b, len, err) != 0);
	tl_put_u32(b + hdr, 16384);

	/* an id of chunk 3 changed: open, read chunk 1, fail in 3 */
	c3 = hdr + 2 * (8 + 2 * 16384);
	b[c3 + 4 + 100] ^= 1;
	f = tmpfile();
	fwrite(b, 1, len, f);
	rewind(f);
	s = tl_sfile_open(f, "x.tok", err);
	CHECK(s != NULL);
	CHECK(tl_sfile_read(s, 5, 10, out, err) == 0);
	CHECK(tl_sfile_read(s, 2 * 16384 + 7, 10, out, err) != 0);
	CHECK(strcmp(err, "x.tok: checksum mismatch in chunk 3") == 0);
	tl_sfile_free(s);
	fclose(f);
	b[c3 + 4 + 100] ^= 1;
	/* an id out of the vocabulary with its checksum made good */
	tl_put_u16(b + c3 + 4 + 2 * 3, V);
	tl_put_u32(b + c3 + 4 + 2 * 16384, tl_crc32(0, b + c3, 4 + 2 * 16384));
	f = tmpfile();
	fwrite(b, 1, len, f);
	rewind(f);
	s = tl_sfile_open(f, "x.tok", err);
	CHECK(s != NULL);
	CHECK(tl_sfile_read(s, 2 * 16384, 10, out, err) != 0);
	CHECK(strcmp(err, "x.tok: token id 300 at position 32771 out of "
	    "range (vocabulary 300)") == 0);
	tl_sfile_free(s);
	fclose(f);
	free(b);
}

/* A stream from a non-seekable file is spooled in fixed chunks. */
static void
test_spool(const tl_tok *t, const uint16_t *ids, size_t n)
{
	static const uint32_t vary[] = { 7, 65536, 100 };
	char err[TL_ERRLEN], dir[] = "/tmp/tl-sfile.XXXXXX", path[64];
	FILE *in = make_stream(t, ids, n, vary, 3), *sp;
	uint16_t *out = malloc(n * sizeof(*out));
	tl_sfile *s;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof path, "%s/m.tl", dir);
	sp = tl_stream_spool(in, "stdin", path, err);
	CHECK(sp != NULL);
	CHECK(rmdir(dir) == 0);		/* nothing was left in it */
	s = tl_sfile_open(sp, "stdin", err);
	CHECK(s != NULL && tl_sfile_mem(s) < 400 * 1024);
	CHECK(tl_sfile_read(s, 0, n, out, err) == 0);
	CHECK(memcmp(out, ids, n * sizeof(*out)) == 0);
	tl_sfile_free(s);
	fclose(sp);
	fclose(in);
	free(out);
}

/* k steps of a small model on ids through src (NULL: in memory);
 * returns its weights, or NULL when a step failed (message in err). */
static float *
train(const tl_tok *t, const uint16_t *ids, size_t n, const tl_data *src,
    int k, char *err)
{
	tl_config c;
	tl_ckpt ck;
	tl_trainer tr;
	float loss, gn, *w = NULL;
	int i, rc = 0;

	unit_config(&c, V, 16, 24, 8);
	CHECK(tl_ckpt_create(&ck, &c, t, 4, err) == 0);
	ck.hp.batch = 3;
	ck.hp.steps = k;
	if (src)
		CHECK(tl_trainer_init_data(&tr, tl_ckpt_tmodel(&ck), NULL, src,
		    NULL, (uint64_t)(n * (double)ck.hp.val_frac), 0, 0,
		    err) == 0);
	else
		CHECK(tl_trainer_init(&tr, tl_ckpt_tmodel(&ck), NULL, ids, n, 0,
		    0, err) == 0);
	CHECK(tr.ntrain + tr.nval == n);
	for (i = 0; i < k && rc == 0; i++)
		rc = tl_trainer_step_read(&tr, &loss, &gn, err);
	if (rc == 0) {
		w = malloc(tl_nparams(&c) * sizeof(*w));
		memcpy(w, ck.params, tl_nparams(&c) * sizeof(*w));
	}
	tl_trainer_free(&tr);
	tl_ckpt_free(&ck);
	return w;
}

/* Training through a file source equals training in memory; a damaged
 * chunk stops a step with the file's message. */
static void
test_train(const tl_tok *t, const uint16_t *ids, size_t n)
{
	char err[TL_ERRLEN];
	FILE *f = make_stream(t, ids, n, NULL, 0);
	tl_sfile *s = tl_sfile_open(f, "x.tok", err);
	tl_config c;
	tl_data d;
	float *a, *b;
	unsigned char x = 0;
	long off;

	CHECK(s != NULL);
	d = tl_sfile_data(s);
	a = train(t, ids, n, NULL, 6, err);
	b = train(t, ids, n, &d, 6, err);
	unit_config(&c, V, 16, 24, 8);
	CHECK(a != NULL && b != NULL &&
	    memcmp(a, b, tl_nparams(&c) * sizeof(*a)) == 0);
	free(a);
	free(b);
	tl_sfile_free(s);
	/* every chunk's first id damaged: the first window fails */
	for (off = 12 + (long)tl_tok_blob_size(t) + 4 + 4; off < (long)(n * 2);
	    off += 8 + 2 * 16384) {
		fseek(f, off, SEEK_SET);
		CHECK(fread(&x, 1, 1, f) == 1);
		x ^= 1;
		fseek(f, off, SEEK_SET);
		fwrite(&x, 1, 1, f);
	}
	fflush(f);
	rewind(f);
	s = tl_sfile_open(f, "x.tok", err);
	CHECK(s != NULL);
	d = tl_sfile_data(s);
	CHECK(train(t, ids, n, &d, 6, err) == NULL);
	CHECK(strncmp(err, "x.tok: checksum mismatch in chunk ", 34) == 0);
	tl_sfile_free(s);
	fclose(f);
}

/* The held-out tail by text against counting from the end one id at a
 * time: the fewest last ids whose bytes reach frac of the whole. */
static void
test_tail(const tl_tok *t, const uint16_t *ids)	/* 100000 */
{
	static const double fr[] = { 0, 0.001, 0.1, 0.5, 0.9 };
	static const size_t ns[] = { 1, 77, 40000, 100000 };
	char err[TL_ERRLEN];
	uint64_t total, want, got, k, tail;
	size_t a, b, len;
	uint16_t by[1000];
	tl_sfile *s;
	tl_tok bt;
	FILE *f;

	for (a = 0; a < sizeof ns / sizeof ns[0]; a++) {
		f = make_stream(t, ids, ns[a], NULL, 0);
		CHECK((s = tl_sfile_open(f, "x.tok", err)) != NULL);
		for (total = 0, k = 0; k < ns[a]; k++) {
			tl_tok_piece(t, ids[k], &len);
			total += len;
		}
		for (b = 0; b < sizeof fr / sizeof fr[0]; b++) {
			want = (uint64_t)(total * fr[b]);
			for (got = 0, k = ns[a]; got < want; got += len)
				tl_tok_piece(t, ids[--k], &len);
			CHECK(tl_sfile_tail(s, fr[b], &tail, err) == 0);
			CHECK(tail == ns[a] - k);
		}
		tl_sfile_free(s);
		fclose(f);
	}
	/* bytes: a tenth of the ids, as a split by ids */
	CHECK(tl_tok_bytes(&bt, err) == 0);
	for (k = 0; k < 1000; k++)
		by[k] = (uint16_t)(ids[k] % 256);
	f = make_stream(&bt, by, 1000, NULL, 0);
	CHECK((s = tl_sfile_open(f, "x.tok", err)) != NULL);
	CHECK(tl_sfile_tail(s, 0.1, &tail, err) == 0 && tail == 100);
	tl_sfile_free(s);
	fclose(f);
	tl_tok_free(&bt);
}

int
main(void)
{
	char err[TL_ERRLEN];
	size_t n = 100000, i;
	uint16_t *ids = malloc(n * sizeof(*ids));
	uint32_t m[2 * (V - 256)];
	tl_tok t;
	tl_rng g;

	tl_rng_seed(&g, 3);
	for (i = 0; i < V - 256; i++) {
		m[2 * i] = 'a' + i % 20;
		m[2 * i + 1] = 'b' + i / 20;
	}
	CHECK(tl_tok_from_merges(&t, m, V - 256, err) == 0);
	for (i = 0; i < n; i++)
		ids[i] = (uint16_t)tl_rng_below(&g, V);
	test_reads(&t, ids, n);
	test_damage(&t, ids, n);
	test_spool(&t, ids, n);
	test_train(&t, ids, n);
	test_tail(&t, ids);
	tl_tok_free(&t);
	free(ids);
	return unit_done("test_sfile");
}
