/*
 * stream.c: token streams and vocabulary files (tl-tokens(5),
 * tl-vocab(5)).  Everything goes through the little-endian byte
 * helpers and is read front to back with every length bounded before
 * anything is allocated, so a stream may come from a pipe.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "formats/formats.h"
#include "util/util.h"

/* ---- common header: magic, version, blob length, blob, CRC ---- */

struct kind {
	const char *magic;
	uint32_t version;
	const char *what;	/* "tl token stream" */
	const char *trunc;	/* "truncated stream" */
};

static const struct kind stream_kind = {
	TL_STREAM_MAGIC, TL_STREAM_VERSION, "tl token stream",
	"truncated stream"
};
static const struct kind vocab_kind = {
	TL_VOCAB_MAGIC, TL_VOCAB_VERSION, "tl vocabulary file",
	"truncated vocabulary file"
};

/* Read exactly n bytes or fail naming why. */
static int
get(FILE *f, void *buf, size_t n, const char *name, const char *trunc,
    char *err)
{
	if (fread(buf, 1, n, f) == n)
		return 0;
	if (ferror(f))
		return tl_err(err, "%s: read error: %s", name, strerror(errno));
	return tl_err(err, "%s: %s", name, trunc);
}

static int
put(FILE *f, const void *buf, size_t n, char *err)
{
	if (fwrite(buf, 1, n, f) == n)
		return 0;
	return tl_err(err, "write error: %s", strerror(errno));
}

/*
 * Read a header whose first head bytes (0 or 4) were read already into
 * hdr.  Fills *tok.
 */
static int
header_read(FILE *f, const char *name, const struct kind *k,
    unsigned char *hdr, size_t head, tl_tok *tok, char *err)
{
	unsigned char *blob;
	uint32_t v, len, crc;
	size_t got;
	char e[TL_ERRLEN];

	memset(tok, 0, sizeof(*tok));
	if (head < 4) {
		got = fread(hdr + head, 1, 4 - head, f);
		if (got < 4 - head && ferror(f))
			return tl_err(err, "%s: read error: %s", name,
			    strerror(errno));
		if (head + got == 0)
			return tl_err(err, "%s: empty input (not a %s)", name,
			    k->what);
		head += got;
	}
	if (head < 4 || memcmp(hdr, k->magic, 4) != 0)
		return tl_err(err, "%s: bad magic (not a %s)", name, k->what);
	if (get(f, hdr + 4, 8, name, k->trunc, err) != 0)
		return -1;
	v = tl_get_u32(hdr + 4);
	if (v > k->version)
		return tl_err(err, "%s: format version %lu is newer than this "
		    "program's %lu", name, (unsigned long)v,
		    (unsigned long)k->version);
	if (v == 0)
		return tl_err(err, "%s: bad format version 0", name);
	len = tl_get_u32(hdr + 8);
	if (len < 8 || len > TL_TOK_BLOB_MAX)
		return tl_err(err, "%s: bad tokenizer length %lu (8 to %d)",
		    name, (unsigned long)len, TL_TOK_BLOB_MAX);
	if ((blob = malloc(len + 4)) == NULL)
		return tl_err(err, "%s: out of memory", name);
	if (get(f, blob, len + 4, name, k->trunc, err) != 0) {
		free(blob);
		return -1;
	}
	crc = tl_crc32(tl_crc32(0, hdr, 12), blob, len);
	if (crc != tl_get_u32(blob + len)) {
		free(blob);
		return tl_err(err, "%s: checksum mismatch in header", name);
	}
	if (tl_tok_blob_get(tok, blob, len, e) != 0) {
		free(blob);
		return tl_err(err, "%s: bad tokenizer: %s", name, e);
	}
	free(blob);
	return 0;
}

static int
header_write(FILE *f, const struct kind *k, const tl_tok *tok, char *err)
{
	size_t len = tl_tok_blob_size(tok);
	unsigned char *b = malloc(12 + len + 4);
	int rc;

	if (b == NULL)
		return tl_err(err, "out of memory");
	memcpy(b, k->magic, 4);
	tl_put_u32(b + 4, k->version);
	tl_put_u32(b + 8, (uint32_t)len);
	tl_tok_blob_put(tok, b + 12);
	tl_put_u32(b + 12 + len, tl_crc32(0, b, 12 + len));
	rc = put(f, b, 12 + len + 4, err);
	free(b);
	return rc;
}

/* ---- writing streams ---- */

struct tl_swriter {
	FILE *f;
	uint32_t vocab;
	uint64_t total;		/* ids written */
	size_t n;		/* ids waiting in raw, already little-endian */
	unsigned char raw[4 + 2 * TL_STREAM_CHUNK + 4];
};

tl_swriter *
tl_swriter_new(FILE *f, const tl_tok *tok, char *err)
{
	tl_swriter *w = malloc(sizeof(*w));

	if (w == NULL) {
		tl_err(err, "out of memory");
		return NULL;
	}
	w->f = f;
	w->vocab = tok->vocab;
	w->total = 0;
	w->n = 0;
	if (header_write(f, &stream_kind, tok, err) != 0) {
		free(w);
		return NULL;
	}
	return w;
}

/* Chunk: u32 count, count u16 ids, u32 CRC of all that. */
static int
flush_chunk(tl_swriter *w, char *err)
{
	size_t len = 4 + 2 * w->n;

	if (w->n == 0)
		return 0;
	tl_put_u32(w->raw, (uint32_t)w->n);
	tl_put_u32(w->raw + len, tl_crc32(0, w->raw, len));
	w->total += w->n;
	w->n = 0;
	return put(w->f, w->raw, len + 4, err);
}

/* A constant the compiler folds: memcpy writes u16s little-endian. */
static int
host_little(void)
{
	const uint16_t one = 1;
	unsigned char c;

	memcpy(&c, &one, 1);
	return c == 1;
}

/*
 * The bitwise or of n ids: below vocab if every id is (exactly so when
 * vocab is a power of two; otherwise a larger value sends the caller to
 * an exact scan).  Four independent accumulators: no compare chain.
 */
static unsigned
ids_or(const uint16_t *ids, size_t n)
{
	unsigned a = 0, b = 0, c = 0, d = 0;
	size_t i;

	for (i = 0; i + 4 <= n; i += 4) {
		a |= ids[i];
		b |= ids[i + 1];
		c |= ids[i + 2];
		d |= ids[i + 3];
	}
	for (; i < n; i++)
		a |= ids[i];
	return a | b | c | d;
}

/* The ids go straight into the chunk's bytes, a run at a time, with
 * the range check one comparison for the run. */
int
tl_swriter_put(tl_swriter *w, const uint16_t *ids, size_t n, char *err)
{
	unsigned char *o;
	size_t i, k;

	while (n > 0) {
		k = TL_STREAM_CHUNK - w->n;
		if (k > n)
			k = n;
		if (ids_or(ids, k) >= w->vocab)
			for (i = 0; i < k; i++)
				if (ids[i] >= w->vocab)
					return tl_err(err, "token id %u out of "
					    "range (vocabulary %lu)",
					    (unsigned)ids[i],
					    (unsigned long)w->vocab);
		o = w->raw + 4 + 2 * w->n;
		if (host_little())
			memcpy(o, ids, 2 * k);
		else
			for (i = 0; i < k; i++)
				tl_put_u16(o + 2 * i, ids[i]);
		w->n += k;
		ids += k;
		n -= k;
		if (w->n == TL_STREAM_CHUNK && flush_chunk(w, err) != 0)
			return -1;
	}
	return 0;
}

/* End chunk: u32 0, u64 total ids, u32 CRC. */
int
tl_swriter_end(tl_swriter *w, char *err)
{
	unsigned char b[16];
	int rc;

	rc = flush_chunk(w, err);
	if (rc == 0) {
		tl_put_u32(b, 0);
		tl_put_u64(b + 4, w->total);
		tl_put_u32(b + 12, tl_crc32(0, b, 12));
		rc = put(w->f, b, 16, err);
	}
	if (rc == 0 && fflush(w->f) != 0)
		rc = tl_err(err, "write error: %s", strerror(errno));
	free(w);
	return rc;
}

/* ---- reading streams ---- */

struct tl_sreader {
	FILE *f;
	char *name;
	tl_tok tok;
	uint64_t pos;		/* ids read so far */
	uint32_t chunk;		/* chunks read so far */
	int done;
	uint16_t ids[TL_STREAM_CHUNK_MAX];
	unsigned char raw[4 + 2 * TL_STREAM_CHUNK_MAX + 4];
};

static tl_sreader *
sreader_open(FILE *f, const char *name, unsigned char *hdr, size_t head,
    char *err)
{
	tl_sreader *r = malloc(sizeof(*r));

	if (r == NULL || (r->name = malloc(strlen(name) + 1)) == NULL) {
		free(r);
		tl_err(err, "%s: out of memory", name);
		return NULL;
	}
	strcpy(r->name, name);
	r->f = f;
	r->pos = 0;
	r->chunk = 0;
	r->done = 0;
	if (header_read(f, name, &stream_kind, hdr, head, &r->tok, err) != 0) {
		free(r->name);
		free(r);
		return NULL;
	}
	return r;
}

tl_sreader *
tl_sreader_new(FILE *f, const char *name, char *err)
{
	unsigned char hdr[12];

	return sreader_open(f, name, hdr, 0, err);
}

const tl_tok *
tl_sreader_tok(const tl_sreader *r)
{
	return &r->tok;
}

long
tl_sreader_next(tl_sreader *r, const uint16_t **ids, char *err)
{
	const char *nm = r->name, *tr = stream_kind.trunc;
	uint32_t n, i, id;
	uint64_t total;
	unsigned char *b = r->raw;

	*ids = r->ids;
	if (r->done)
		return 0;
	if (get(r->f, b, 4, nm, tr, err) != 0)
		return -1;
	n = tl_get_u32(b);
	r->chunk++;
	if (n == 0) {
		if (get(r->f, b + 4, 12, nm, tr, err) != 0)
			return -1;
		if (tl_crc32(0, b, 12) != tl_get_u32(b + 12))
			return tl_err(err, "%s: checksum mismatch in the end "
			    "chunk", nm);
		total = tl_get_u64(b + 4);
		if (total != r->pos)
			return tl_err(err, "%s: end chunk counts %llu ids, "
			    "the stream held %llu", nm,
			    (unsigned long long)total,
			    (unsigned long long)r->pos);
		if (getc(r->f) != EOF)
			return tl_err(err, "%s: data after the end chunk", nm);
		if (ferror(r->f))
			return tl_err(err, "%s: read error: %s", nm,
			    strerror(errno));
		r->done = 1;
		return 0;
	}
	if (n > TL_STREAM_CHUNK_MAX)
		return tl_err(err, "%s: bad size %lu of chunk %lu (max %d ids)",
		    nm, (unsigned long)n, (unsigned long)r->chunk,
		    TL_STREAM_CHUNK_MAX);
	if (get(r->f, b + 4, 2 * (size_t)n + 4, nm, tr, err) != 0)
		return -1;
	if (tl_crc32(0, b, 4 + 2 * (size_t)n) != tl_get_u32(b + 4 + 2 * n))
		return tl_err(err, "%s: checksum mismatch in chunk %lu", nm,
		    (unsigned long)r->chunk);
	if (host_little())
		memcpy(r->ids, b + 4, 2 * (size_t)n);
	else
		for (i = 0; i < n; i++)
			r->ids[i] = tl_get_u16(b + 4 + 2 * i);
	/* one comparison per chunk; the loop only to name the id */
	if (ids_or(r->ids, n) >= r->tok.vocab)
		for (i = 0; i < n; i++) {
			id = r->ids[i];
			if (id >= r->tok.vocab)
				return tl_err(err, "%s: token id %lu at "
				    "position %llu out of range (vocabulary "
				    "%lu)", nm, (unsigned long)id,
				    (unsigned long long)(r->pos + i),
				    (unsigned long)r->tok.vocab);
		}
	r->pos += n;
	return (long)n;
}

void
tl_sreader_free(tl_sreader *r)
{
	if (r == NULL)
		return;
	tl_tok_free(&r->tok);
	free(r->name);
	free(r);
}

int
tl_stream_load(FILE *f, const char *name, tl_tok *tok, uint16_t **ids,
    size_t *n, char *err)
{
	tl_sreader *r;
	const uint16_t *c;
	uint16_t *a = NULL, *b;
	size_t len = 0, cap = 0;
	long got;

	*ids = NULL;
	*n = 0;
	memset(tok, 0, sizeof(*tok));
	if ((r = tl_sreader_new(f, name, err)) == NULL)
		return -1;
	while ((got = tl_sreader_next(r, &c, err)) > 0) {
		if (len + (size_t)got > cap) {
			cap = cap ? 2 * cap : 65536;
			if (cap < len + (size_t)got ||
			    cap > ((size_t)-1) / sizeof(*a) ||
			    (b = realloc(a, cap * sizeof(*a))) == NULL) {
				got = tl_err(err, "%s: out of memory", name);
				break;
			}
			a = b;
		}
		memcpy(a + len, c, (size_t)got * sizeof(*a));
		len += (size_t)got;
	}
	if (got < 0) {
		free(a);
		tl_sreader_free(r);
		return -1;
	}
	*tok = r->tok;
	memset(&r->tok, 0, sizeof(r->tok));
	tl_sreader_free(r);
	*ids = a ? a : malloc(1);
	*n = len;
	return 0;
}

/* ---- vocabulary files ---- */

int
tl_vocab_write(FILE *f, const tl_tok *tok, char *err)
{
	if (header_write(f, &vocab_kind, tok, err) != 0)
		return -1;
	if (fflush(f) != 0)
		return tl_err(err, "write error: %s", strerror(errno));
	return 0;
}

int
tl_vocab_read(FILE *f, const char *name, tl_tok *tok, char *err)
{
	unsigned char hdr[12];

	if (header_read(f, name, &vocab_kind, hdr, 0, tok, err) != 0)
		return -1;
	if (getc(f) != EOF) {
		tl_tok_free(tok);
		return tl_err(err, "%s: data after the vocabulary", name);
	}
	return 0;
}

/* ---- the tokenizer of a stream ---- */

int
tl_stream_tok(FILE *f, const char *name, tl_tok *tok, char *err)
{
	unsigned char hdr[12];

	memset(tok, 0, sizeof(*tok));
	return header_read(f, name, &stream_kind, hdr, 0, tok, err);
}

/* ---- random access to a stream file ---- */

/*
 * A stream in a file read at any position with pread(2), never mapped
 * (mapped pages touched count in the resident size).  Where every
 * chunk but the last holds the same count (what our writer does), an
 * id's chunk is found by arithmetic; otherwise by a binary search in
 * an index of the first id of each chunk, built at open.  Chunk k
 * starts at data0 + 8 k + 2 (ids before it) either way.  The last two
 * chunks read are kept, checked, in fixed buffers.
 */

#define SF_SLOTS 2

struct tl_sfile {
	int fd;
	char *name;
	tl_tok tok;
	uint64_t n;		/* ids */
	uint64_t nchunks;	/* chunks but the end chunk */
	uint32_t per;		/* ids per chunk but the last; 0: index */
	uint64_t data0;		/* file offset of the first chunk */
	uint64_t *first;	/* index: first id of each chunk, and n */
	uint64_t tick;
	struct {
		uint64_t chunk, use;	/* use 0: empty */
		uint32_t count;
		uint16_t ids[TL_STREAM_CHUNK_MAX];
	} slot[SF_SLOTS];
	unsigned char raw[4 + 2 * TL_STREAM_CHUNK_MAX + 4];
};

/* Read exactly n bytes at off, or fail naming why. */
static int
pget(tl_sfile *s, void *buf, size_t n, uint64_t off, char *err)
{
	unsigned char *b = buf;
	ssize_t got;

	while (n > 0) {
		got = pread(s->fd, b, n, (off_t)off);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return tl_err(err, "%s: read error: %s", s->name,
			    strerror(errno));
		if (got == 0)
			return tl_err(err, "%s: %s", s->name,
			    stream_kind.trunc);
		b += got;
		n -= (size_t)got;
		off += (uint64_t)got;
	}
	return 0;
}

/* Append the first id of the next chunk to the index. */
static int
index_add(tl_sfile *s, uint64_t *cap, uint64_t id, char *err)
{
	uint64_t *p;

	if (s->nchunks + 1 >= *cap) {
		*cap = *cap ? 2 * *cap : 1024;
		if (*cap > SIZE_MAX / sizeof(*p) ||
		    (p = realloc(s->first, *cap * sizeof(*p))) == NULL)
			return tl_err(err, "%s: out of memory for the index of "
			    "chunks", s->name);
		s->first = p;
	}
	s->first[s->nchunks] = id;
	return 0;
}

/*
 * Walk the chunks' count fields from data0 to the end chunk: check the
 * end chunk's total and that the file ends there; set per, or (with
 * index set) fill the index.  Returns 1 if the counts vary and no
 * index was asked for.
 */
static int
sfile_walk(tl_sfile *s, uint64_t size, int index, char *err)
{
	unsigned char b[16];
	uint64_t off = s->data0, ids = 0, cap = 0, total;
	uint32_t c;

	s->nchunks = 0;
	s->per = 0;
	for (;;) {
		if (pget(s, b, 4, off, err) != 0)
			return -1;
		if ((c = tl_get_u32(b)) == 0)
			break;
		if (c > TL_STREAM_CHUNK_MAX)
			return tl_err(err, "%s: bad size %lu of chunk %llu "
			    "(max %d ids)", s->name, (unsigned long)c,
			    (unsigned long long)s->nchunks + 1,
			    TL_STREAM_CHUNK_MAX);
		/* a chunk after a short one: the counts vary */
		if (!index && s->nchunks > 0 && ids != s->nchunks * s->per)
			return 1;
		if (index && index_add(s, &cap, ids, err) != 0)
			return -1;
		if (!index && s->nchunks == 0)
			s->per = c;
		else if (!index && c > s->per)
			return 1;
		ids += c;
		s->nchunks++;
		off += 8 + 2 * (uint64_t)c;
		if (off > size)
			return tl_err(err, "%s: %s", s->name,
			    stream_kind.trunc);
	}
	if (pget(s, b + 4, 12, off + 4, err) != 0)
		return -1;
	if (tl_crc32(0, b, 12) != tl_get_u32(b + 12))
		return tl_err(err, "%s: checksum mismatch in the end chunk",
		    s->name);
	total = tl_get_u64(b + 4);
	if (total != ids)
		return tl_err(err, "%s: end chunk counts %llu ids, the stream "
		    "held %llu", s->name, (unsigned long long)total,
		    (unsigned long long)ids);
	if (off + 16 != size)
		return tl_err(err, "%s: data after the end chunk", s->name);
	if (index && index_add(s, &cap, ids, err) != 0)
		return -1;
	s->n = ids;
	return 0;
}

tl_sfile *
tl_sfile_open(FILE *f, const char *name, char *err)
{
	unsigned char hdr[12];
	tl_sfile *s;
	struct stat st;
	off_t end;
	int rc;

	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->name = malloc(strlen(name) + 1)) == NULL) {
		free(s);
		tl_err(err, "%s: out of memory", name);
		return NULL;
	}
	strcpy(s->name, name);
	s->fd = fileno(f);
	if (fstat(s->fd, &st) != 0 || !S_ISREG(st.st_mode) || ftello(f) < 0) {
		tl_err(err, "%s: not a regular file", name);
		goto fail;
	}
	if (header_read(f, name, &stream_kind, hdr, 0, &s->tok, err) != 0)
		goto fail;
	if ((end = ftello(f)) < 0) {
		tl_err(err, "%s: %s", name, strerror(errno));
		goto fail;
	}
	s->data0 = (uint64_t)end;
	rc = sfile_walk(s, (uint64_t)st.st_size, 0, err);
	if (rc == 1) {
		s->per = 0;
		rc = sfile_walk(s, (uint64_t)st.st_size, 1, err);
	}
	if (rc != 0)
		goto fail;
	return s;
fail:
	tl_sfile_free(s);
	return NULL;
}

void
tl_sfile_free(tl_sfile *s)
{
	if (s == NULL)
		return;
	tl_tok_free(&s->tok);
	free(s->first);
	free(s->name);
	free(s);
}

uint64_t
tl_sfile_count(const tl_sfile *s)
{
	return s->n;
}

const tl_tok *
tl_sfile_tok(const tl_sfile *s)
{
	return &s->tok;
}

size_t
tl_sfile_mem(const tl_sfile *s)
{
	return sizeof(*s) + (s->per ? 0 : (s->nchunks + 1) *
	    sizeof(*s->first));
}

/* The chunk holding id pos. */
static uint64_t
chunk_of(const tl_sfile *s, uint64_t pos)
{
	uint64_t lo = 0, hi = s->nchunks, mid;

	if (s->per)
		return pos / s->per;
	while (hi - lo > 1) {	/* first[lo] <= pos < first[hi] */
		mid = lo + (hi - lo) / 2;
		if (s->first[mid] <= pos)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

/* Read and check chunk k into a slot; returns the slot. */
static int
chunk_load(tl_sfile *s, uint64_t k, char *err)
{
	uint64_t id0 = s->per ? k * s->per : s->first[k], next;
	uint32_t c, i, id;
	unsigned char *b = s->raw;
	int u = s->slot[0].use <= s->slot[1].use ? 0 : 1;

	next = s->per ? (k + 1 == s->nchunks ? s->n : id0 + s->per) :
	    s->first[k + 1];
	c = (uint32_t)(next - id0);
	if (pget(s, b, 8 + 2 * (size_t)c, s->data0 + 8 * k + 2 * id0,
	    err) != 0)
		return -1;
	if (tl_get_u32(b) != c)
		return tl_err(err, "%s: chunk %llu changed size", s->name,
		    (unsigned long long)k + 1);
	if (tl_crc32(0, b, 4 + 2 * (size_t)c) != tl_get_u32(b + 4 + 2 * c))
		return tl_err(err, "%s: checksum mismatch in chunk %llu",
		    s->name, (unsigned long long)k + 1);
	for (i = 0; i < c; i++) {
		id = tl_get_u16(b + 4 + 2 * i);
		if (id >= s->tok.vocab)
			return tl_err(err, "%s: token id %lu at position %llu "
			    "out of range (vocabulary %lu)", s->name,
			    (unsigned long)id, (unsigned long long)(id0 + i),
			    (unsigned long)s->tok.vocab);
		s->slot[u].ids[i] = (uint16_t)id;
	}
	s->slot[u].chunk = k;
	s->slot[u].count = c;
	s->slot[u].use = ++s->tick;
	return u;
}

int
tl_sfile_read(tl_sfile *s, uint64_t pos, size_t n, uint16_t *out, char *err)
{
	uint64_t k, id0;
	size_t m;
	int u;

	if (pos > s->n || n > s->n - pos)
		return tl_err(err, "%s: ids %llu to %llu are past the end "
		    "(%llu ids)", s->name, (unsigned long long)pos,
		    (unsigned long long)(pos + n), (unsigned long long)s->n);
	while (n > 0) {
		k = chunk_of(s, pos);
		for (u = 0; u < SF_SLOTS; u++)
			if (s->slot[u].use && s->slot[u].chunk == k)
				break;
		if (u == SF_SLOTS && (u = chunk_load(s, k, err)) < 0)
			return -1;
		s->slot[u].use = ++s->tick;
		id0 = s->per ? k * s->per : s->first[k];
		m = s->slot[u].count - (size_t)(pos - id0);
		if (m > n)
			m = n;
		memcpy(out, s->slot[u].ids + (pos - id0), m * sizeof(*out));
		out += m;
		pos += m;
		n -= m;
	}
	return 0;
}

/* Copy the stream in into w, checking it as it comes. */
static int
spool_copy(tl_sreader *r, FILE *t, char *err)
{
	tl_swriter *w;
	const uint16_t *ids;
	char e[TL_ERRLEN];
	long got;

	if ((w = tl_swriter_new(t, &r->tok, err)) == NULL)
		return -1;
	while ((got = tl_sreader_next(r, &ids, err)) > 0)
		if (tl_swriter_put(w, ids, (size_t)got, err) != 0) {
			got = -1;
			break;
		}
	if (got < 0) {
		tl_swriter_end(w, e);	/* frees w */
		return -1;
	}
	return tl_swriter_end(w, err);
}

FILE *
tl_stream_spool(FILE *in, const char *name, const char *beside, char *err)
{
	size_t k = strlen(beside);
	char *tmp, e[TL_ERRLEN];
	tl_sreader *r;
	FILE *t = NULL;
	int fd;

	if ((r = tl_sreader_new(in, name, err)) == NULL)
		return NULL;
	if ((tmp = malloc(k + 13)) == NULL) {
		tl_sreader_free(r);
		tl_err(err, "%s: out of memory", name);
		return NULL;
	}
	/* beside.spool and six characters that mkstemp(3) fills in */
	sprintf(tmp, "%s.spool", beside);
	memset(tmp + k + 6, 'X', 6);
	tmp[k + 12] = '\0';
	if ((fd = mkstemp(tmp)) < 0) {
		tl_err(err, "%s: cannot create a temporary file: %s", beside,
		    strerror(errno));
	} else {
		unlink(tmp);	/* nothing left behind, even on a crash */
		if ((t = fdopen(fd, "w+b")) == NULL) {
			tl_err(err, "%s: %s", tmp, strerror(errno));
			close(fd);
		}
	}
	if (t != NULL && spool_copy(r, t, e) != 0) {
		/* a write error is the spool's, a read error the stream's */
		if (strncmp(e, "write error", 11) == 0)
			tl_err(err, "%s: %s", tmp, e);
		else
			tl_err(err, "%s", e);
		fclose(t);
		t = NULL;
	}
	if (t != NULL && fseeko(t, 0, SEEK_SET) != 0) {
		tl_err(err, "%s: %s", tmp, strerror(errno));
		fclose(t);
		t = NULL;
	}
	free(tmp);
	tl_sreader_free(r);
	return t;
}

static int
sfile_data_read(void *ctx, uint64_t pos, size_t n, uint16_t *out, char *err)
{
	return tl_sfile_read(ctx, pos, n, out, err);
}

tl_data
tl_sfile_data(tl_sfile *s)
{
	tl_data d;

	d.n = s->n;
	d.read = sfile_data_read;
	d.ctx = s;
	return d;
}

/* The bytes of ids [pos, pos + n) of s, read in pieces of buf. */
static int
text_bytes(tl_sfile *s, uint64_t pos, uint64_t n, uint16_t *buf,
    size_t cap, uint64_t *bytes, char *err)
{
	size_t k, i, len;

	for (*bytes = 0; n > 0; pos += k, n -= k) {
		k = n < cap ? (size_t)n : cap;
		if (tl_sfile_read(s, pos, k, buf, err) != 0)
			return -1;
		for (i = 0; i < k; i++) {
			tl_tok_piece(&s->tok, buf[i], &len);
			*bytes += len;
		}
	}
	return 0;
}

int
tl_sfile_tail(tl_sfile *s, double frac, uint64_t *n, char *err)
{
	enum { CAP = 1 << 15 };
	uint64_t total, want, got, pos;
	size_t k, len;
	uint16_t *buf;
	int rc = -1;

	if (tl_tok_nmerges(&s->tok) == 0 && tl_tok_eot(&s->tok) < 0) {
		*n = (uint64_t)(s->n * frac);	/* one byte an id */
		return 0;
	}
	if ((buf = malloc(CAP * sizeof *buf)) == NULL)
		return tl_err(err, "%s: out of memory", s->name);
	if (text_bytes(s, 0, s->n, buf, CAP, &total, err) != 0)
		goto out;
	/* back from the end, a piece at a time, each id read once */
	want = (uint64_t)(total * frac);
	for (pos = s->n, got = 0; got < want && pos > 0;) {
		k = pos < CAP ? (size_t)pos : CAP;
		if (tl_sfile_read(s, pos - k, k, buf, err) != 0)
			goto out;
		for (; k > 0 && got < want; pos--) {
			tl_tok_piece(&s->tok, buf[--k], &len);
			got += len;
		}
	}
	*n = s->n - pos;
	rc = 0;
out:
	free(buf);
	return rc;
}
