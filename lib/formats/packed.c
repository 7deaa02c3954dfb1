/*
 * packed.c: reading and writing packed inference models (tl-packed(5)).
 *
 * Layout: a 72-byte header (magic, version, configuration, weight
 * format, scheme, block size, tokenizer length, flags), the tokenizer
 * blob, then the tensors, each starting at the next multiple of 64
 * bytes (zeros in between): the fp32 embedding, norms and head, the
 * ternary scales, and per block the four linear layers (block scales,
 * codes); finally a CRC-32 of every byte before it.  The offsets
 * follow from the header alone (lay() below, shared by the writer and
 * the reader), so the reader checks the file's size before it touches
 * anything else, then maps the file (mmap) and points into it: nothing
 * is copied, and the weights are paged in as inference first reads
 * them.  Where mmap is missing or fails, or on a big-endian host
 * (the floats are little-endian), the file is read into memory.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#if defined(_POSIX_MAPPED_FILES) && _POSIX_MAPPED_FILES > 0
#include <sys/mman.h>
#define HAVE_MMAP 1
#endif

#include "formats/formats.h"
#include "util/util.h"

static const char magic[8] = TL_PACK_MAGIC;

#define HDR 72			/* header bytes */
#define ALIGN 64		/* tensor alignment */
#define NLIN TL_NLIN
#define MAXSEC (16 + 2 * NLIN * TL_MAX_LAYERS)

/* C99 compile-time checks (a negative array size fails): the block
 * layouts fit the kernels' 16-byte vectors and the alignment. */
typedef char check_block[(TL_QBLOCK % 16 == 0 && ALIGN % 16 == 0 &&
    TL_QBLOCK / 4 % 16 == 0 && TL_QBLOCK / 2 % 16 == 0) ? 1 : -1];
typedef char check_float[sizeof(float) == 4 ? 1 : -1];

/* Offsets of every tensor, in file order. */
typedef struct {
	uint64_t t[TL_NTENSORS];	/* the fp32 tensors (0: none) */
	uint64_t scales;
	uint64_t d[TL_MAX_LAYERS][NLIN], w[TL_MAX_LAYERS][NLIN];
	uint64_t end;			/* the crc's offset */
	int nsec;			/* sections in order, for gaps */
	uint64_t at[MAXSEC], size[MAXSEC];
} layout;

struct tl_packed {
	tl_qmodel q;		/* into base */
	tl_tok tok;
	unsigned char *base;
	size_t size;
	int mapped;
};

static int
ternary_type(int type)
{
	return type == TL_W_TQ2 || type == TL_W_TQ1;
}

static int
block_type(int type)
{
	return type == TL_W_Q8 || type == TL_W_Q4;
}

/* The fp32 tensors c has, in file order: by kind (model.h: config.c), each
 * kind in table order; returns their count. */
static int
fp32_order(const tl_config *c, int *order)
{
	int kind, k, n = 0;

	for (kind = TL_T_EMBED; kind < TL_T_LINEAR; kind++)
		for (k = 0; k < TL_NTENSORS; k++)
			if (tl_tensors[k].kind == kind &&
			    tl_tensor_has(&tl_tensors[k], c))
				order[n++] = k;
	return n;
}

static uint64_t
take(layout *y, uint64_t *off, uint64_t size)
{
	uint64_t at = (*off + ALIGN - 1) & ~(uint64_t)(ALIGN - 1);

	y->at[y->nsec] = at;
	y->size[y->nsec++] = size;
	*off = at + size;
	return at;
}

static void
lay(layout *y, const tl_config *c, int type, uint32_t toklen)
{
	uint64_t L = c->layers, off = HDR + toklen, n;
	int l, i, k, nt, order[TL_NTENSORS], rows, cols;

	memset(y, 0, sizeof *y);
	nt = fp32_order(c, order);
	for (k = 0; k < nt; k++)
		y->t[order[k]] = take(y, &off, 4 * tl_tensor_size(
		    &tl_tensors[order[k]], c));
	y->scales = ternary_type(type) ? take(y, &off, 4 * L * NLIN) : 0;
	for (l = 0; l < (int)L; l++)
		for (i = 0; i < NLIN; i++) {
			tl_lin_shape(c, i, &rows, &cols);
			n = (uint64_t)tl_qrow_n(type, cols);
			if (block_type(type))
				y->d[l][i] = take(y, &off, 4 * (uint64_t)rows *
				    (n / TL_QBLOCK));
			y->w[l][i] = take(y, &off, (uint64_t)rows *
			    (uint64_t)tl_qrow_bytes(type, (int)n));
		}
	y->end = off;
}

static void
put_header(unsigned char *h, const tl_config *c, int type, int scheme,
    uint32_t toklen)
{
	memcpy(h, magic, 8);
	tl_put_u32(h + 8, TL_PACK_VERSION);
	tl_config_put(h + 12, c);
	tl_put_u32(h + 52, (uint32_t)type);
	tl_put_u32(h + 56, (uint32_t)scheme);
	tl_put_u32(h + 60, TL_QBLOCK);
	tl_put_u32(h + 64, toklen);
	tl_put_u32(h + 68, 0);
}

/* ---- writing ---- */

typedef struct {
	FILE *f;
	uint64_t off;
	uint32_t crc;
	int ok;
} wr;

static void
wbytes(wr *w, const void *p, size_t n)
{
	if (w->ok && fwrite(p, 1, n, w->f) != n)
		w->ok = 0;
	w->crc = tl_crc32(w->crc, p, n);
	w->off += n;
}

static void
wpad(wr *w, uint64_t at)
{
	static const unsigned char zero[ALIGN];

	if (at > w->off)
		wbytes(w, zero, (size_t)(at - w->off));
}

static void
wfloats(wr *w, uint64_t at, const float *x, size_t n)
{
	unsigned char buf[4096];
	size_t i, k;

	wpad(w, at);
	while (n > 0) {
		k = n < sizeof buf / 4 ? n : sizeof buf / 4;
		for (i = 0; i < k; i++)
			tl_put_f32(buf + 4 * i, x[i]);
		wbytes(w, buf, 4 * k);
		x += k;
		n -= k;
	}
}

/* Everything after the header and tokenizer, in file order. */
static void
write_tensors(wr *w, const layout *y, const tl_qmodel *q)
{
	const tl_config *c = &q->cfg;
	int L = c->layers, l, i, k, nt, order[TL_NTENSORS];

	nt = fp32_order(c, order);
	for (k = 0; k < nt; k++)
		wfloats(w, y->t[order[k]], tl_params_get(&q->P,
		    &tl_tensors[order[k]]), tl_tensor_size(
		    &tl_tensors[order[k]], c));
	if (ternary_type(q->type)) {
		float sc[TL_MAX_LAYERS * NLIN] = { 0 };

		for (i = 0; i < L * NLIN; i++)
			sc[i] = q->qm[i].scale;
		wfloats(w, y->scales, sc, (size_t)L * NLIN);
	}
	for (l = 0; l < L; l++)
		for (i = 0; i < NLIN; i++) {
			const tl_qmat *m = tl_qmodel_lin(q, l, i);

			if (block_type(q->type))
				wfloats(w, y->d[l][i], m->d, (size_t)m->rows *
				    (m->n / TL_QBLOCK));
			wpad(w, y->w[l][i]);
			if (q->type == TL_W_F32)
				wfloats(w, y->w[l][i], m->w,
				    (size_t)m->rows * m->cols);
			else
				wbytes(w, m->w, (size_t)m->rows * m->ld);
		}
}

int
tl_packed_write(const char *path, const tl_qmodel *q, const tl_tok *tok,
    tl_packstats *st, char *err)
{
	layout *y;
	unsigned char h[HDR], *blob, tail[4];
	uint32_t bl = (uint32_t)tl_tok_blob_size(tok);
	tl_afile af;
	wr w;

	if (tok->vocab != q->cfg.vocab)
		return tl_err(err, "%s: tokenizer has %u ids, model %u", path,
		    tok->vocab, q->cfg.vocab);
	if ((y = malloc(sizeof *y)) == NULL || (blob = malloc(bl)) == NULL) {
		free(y);
		return tl_err(err, "%s: out of memory", path);
	}
	lay(y, &q->cfg, q->type, bl);
	put_header(h, &q->cfg, q->type, q->scheme, bl);
	tl_tok_blob_put(tok, blob);
	if (tl_afile_open(&af, path, err) < 0) {
		free(y);
		free(blob);
		return -1;
	}
	memset(&w, 0, sizeof w);
	w.f = af.f;
	w.ok = 1;
	wbytes(&w, h, HDR);
	wbytes(&w, blob, bl);
	write_tensors(&w, y, q);
	tl_put_u32(tail, w.crc);
	wbytes(&w, tail, 4);
	free(y);
	free(blob);
	if (!w.ok) {
		tl_err(err, "%s: write failed: %s", path, strerror(errno ?
		    errno : EIO));
		tl_afile_abort(&af);
		return -1;
	}
	if (tl_afile_commit(&af, err) < 0)
		return -1;
	if (st) {
		tl_qmodel_stats(q, st);
		st->fbytes = w.off;
	}
	return 0;
}

/* ---- reading ---- */

static int
host_le(void)
{
	const uint16_t one = 1;

	return *(const unsigned char *)&one == 1;
}

/* Read exactly n bytes at the start of fd; 0 or -1. */
static int
readall(int fd, unsigned char *p, size_t n)
{
	ssize_t r;

	while (n > 0) {
		r = read(fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/* Code i of a tq1 byte (tkernels_ref.c). */
static int
trit(unsigned q, int i)
{
	static const unsigned pow3[5] = { 1, 3, 9, 27, 81 };

	return (int)((((q * pow3[i]) & 255) * 3) >> 8);
}

/* Bytes whose codes are all valid: tq2, no code 3; tq1, a byte the
 * writer makes from 5 (or, at a row's end, 4) codes, that is one that
 * its decoded codes encode back to. */
static void
code_tables(unsigned char *ok2, unsigned char *ok5, unsigned char *ok4)
{
	unsigned x, v5, v4;
	int i;

	for (x = 0; x < 256; x++) {
		ok2[x] = (x & 3) != 3 && (x >> 2 & 3) != 3 &&
		    (x >> 4 & 3) != 3 && (x >> 6) != 3;
		for (v5 = v4 = 0, i = 0; i < 5; i++) {
			v5 = 3 * v5 + (unsigned)trit(x, i);
			if (i < 4)
				v4 = 3 * v4 + (unsigned)trit(x, i);
		}
		ok5[x] = (256 * v5 + 242) / 243 == x;
		ok4[x] = (256 * v4 + 80) / 81 == x;
	}
}

/* The codes, scales and padding of linear layer m are consistent. */
static int
check_qmat(const tl_qmat *m, const unsigned char *tab2,
    const unsigned char *tab5, const unsigned char *tab4)
{
	const uint8_t *w = m->w;
	long r, j, nb = m->n / TL_QBLOCK, g5 = m->n / 80;
	int bad = 0;

	if (m->type == TL_W_F32)
		return 0;
	if (ternary_type(m->type) && !(isfinite(m->scale) && m->scale > 0))
		return -1;
	if (block_type(m->type))
		for (j = 0; j < m->rows * nb; j++)
			if (!(isfinite(m->d[j]) && m->d[j] >= 0))
				return -1;
	for (r = 0; r < m->rows && !bad; r++, w += m->ld)
		for (j = 0; j < m->ld; j++)
			bad |= m->type == TL_W_TQ2 ? !tab2[w[j]] :
			    m->type == TL_W_TQ1 ? !(j < 16 * g5 ? tab5 :
			    tab4)[w[j]] : m->type == TL_W_Q8 ? w[j] == 0x80 : 0;
	if (bad)
		return -1;
	if (m->cols == m->n)
		return 0;
	/* padding weights are zero */
	for (r = 0; r < m->rows && !bad; r++)
		for (j = m->cols; j < m->n; j++)
			bad |= tl_qmat_value(m, (int)r, (int)j) != 0;
	return bad ? -1 : 0;
}

static void
swap_floats(unsigned char *p, uint64_t bytes)
{
	uint64_t i;
	unsigned char t;

	for (i = 0; i + 4 <= bytes; i += 4) {
		t = p[i], p[i] = p[i + 3], p[i + 3] = t;
		t = p[i + 1], p[i + 1] = p[i + 2], p[i + 2] = t;
	}
}


/* Open path and read its header into h: the magic, the size, the
 * version; returns the descriptor, -1 with a message. */
static int
open_header(const char *path, unsigned char *h, off_t *size, char *err)
{
	struct stat sb;
	uint32_t ver;
	int fd;

	if ((fd = open(path, O_RDONLY)) < 0)
		return tl_err(err, "%s: %s", path, strerror(errno));
	memset(h, 0, HDR);
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode))
		tl_err(err, "%s: not a regular file", path);
	else if (sb.st_size < 8 || readall(fd, h, 8) < 0 ||
	    memcmp(h, magic, 8) != 0)
		tl_err(err, "%s: bad magic (not a tl packed model)", path);
	else if (sb.st_size < HDR || readall(fd, h + 8, HDR - 8) < 0)
		tl_err(err, "%s: truncated packed model", path);
	else if ((ver = tl_get_u32(h + 8)) != TL_PACK_VERSION)
		tl_err(err, "%s: packed model version %u, this program reads "
		    "version %d", path, ver, TL_PACK_VERSION);
	else {
		*size = sb.st_size;
		return fd;
	}
	close(fd);
	return -1;
}

/* The header's fields into pk, each checked; *bl the tokenizer's
 * length. */
static int
parse_header(tl_packed *pk, const unsigned char *h, uint32_t *bl,
    const char *path, char *err)
{
	uint32_t type = tl_get_u32(h + 52), scheme = tl_get_u32(h + 56);
	uint32_t block = tl_get_u32(h + 60), fl = tl_get_u32(h + 68);
	char e2[TL_ERRLEN];

	tl_config_get(&pk->q.cfg, h + 12);
	*bl = tl_get_u32(h + 64);
	if (tl_config_check(&pk->q.cfg, e2) < 0)
		return tl_err(err, "%s: bad configuration: %s", path, e2);
	if (type >= TL_W_N || scheme >= TL_QS_N ||
	    !tl_scheme_ok((int)type, (int)scheme))
		return tl_err(err, "%s: unknown weight format %u or scheme %u",
		    path, type, scheme);
	if (block != TL_QBLOCK || fl != 0)
		return tl_err(err, "%s: block size %u or flags %u not "
		    "supported (64, 0)", path, block, fl);
	if (*bl > TL_TOK_BLOB_MAX)
		return tl_err(err, "%s: tokenizer length %u out of range", path,
		    *bl);
	pk->q.type = (int)type;
	pk->q.scheme = (int)scheme;
	if ((pk->q.qm = calloc((size_t)pk->q.cfg.layers * NLIN,
	    sizeof *pk->q.qm)) == NULL)
		return tl_err(err, "%s: out of memory", path);
	return 0;
}

/* The whole file (want bytes, as its header says) at pk->base: mapped,
 * or read. */
static int
load(tl_packed *pk, int fd, int flags, off_t size, uint64_t want,
    const char *path, char *err)
{
	void *p;

	if ((uint64_t)size != want) {
		if ((uint64_t)size < want)
			return tl_err(err, "%s: truncated packed model (%lld "
			    "of %llu bytes)", path, (long long)size,
			    (unsigned long long)want);
		return tl_err(err, "%s: size %lld does not match its header "
		    "(%llu bytes)", path, (long long)size,
		    (unsigned long long)want);
	}
	if (want > (size_t)-1 / 2)
		return tl_err(err, "%s: too large for this system", path);
	pk->size = (size_t)want;
#ifdef HAVE_MMAP
	if (!(flags & TL_PACKED_READ) && host_le()) {
		p = mmap(NULL, pk->size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (p != MAP_FAILED) {
			pk->base = p;
			pk->mapped = 1;
			return 0;
		}
	}
#else
	(void)flags;
#endif
	if (posix_memalign(&p, ALIGN, pk->size) != 0)
		return tl_err(err, "%s: out of memory for %zu bytes", path,
		    pk->size);
	pk->base = p;
	if (lseek(fd, 0, SEEK_SET) != 0 || readall(fd, pk->base, pk->size) < 0)
		return tl_err(err, "%s: read error: %s", path, errno ?
		    strerror(errno) : "file changed");
	return 0;
}

/* The checksum, then what it protects: the tokenizer, the padding; on
 * a big-endian host the floats swapped in the private copy. */
static int
check_body(tl_packed *pk, const layout *y, const unsigned char *h,
    uint32_t bl, const char *path, char *err)
{
	char e2[TL_ERRLEN];
	uint64_t a;
	int i, l, k;

	if (memcmp(pk->base, h, HDR) != 0 ||
	    tl_crc32(0, pk->base, pk->size - 4) !=
	    tl_get_u32(pk->base + pk->size - 4))
		return tl_err(err, "%s: checksum mismatch (file damaged)",
		    path);
	if (tl_tok_blob_get(&pk->tok, pk->base + HDR, bl, e2) < 0)
		return tl_err(err, "%s: bad tokenizer: %s", path, e2);
	if (pk->tok.vocab != pk->q.cfg.vocab)
		return tl_err(err, "%s: tokenizer has %u ids but the model %u",
		    path, pk->tok.vocab, pk->q.cfg.vocab);
	for (i = 0; i < y->nsec; i++)
		for (a = i == 0 ? HDR + bl : y->at[i - 1] + y->size[i - 1];
		    a < y->at[i]; a++)
			if (pk->base[a] != 0)
				return tl_err(err, "%s: nonzero padding at "
				    "byte %llu", path, (unsigned long long)a);
	for (i = 0; !host_le() && i < y->nsec; i++) {
		int isf = 1;

		for (l = 0; l < (int)pk->q.cfg.layers; l++)
			for (k = 0; k < NLIN; k++)
				if (y->at[i] == y->w[l][k] &&
				    pk->q.type != TL_W_F32)
					isf = 0;
		if (isf)
			swap_floats(pk->base + y->at[i], y->size[i]);
	}
	return 0;
}

/* The model's tensors and linear layers as views of the file. */
static int
set_views(tl_packed *pk, const layout *y, const char *path, char *err)
{
	unsigned char tab2[256], tab5[256], tab4[256];
	int k, l, i, rows, cols;

#define F(o) ((o) ? (float *)(void *)(pk->base + (o)) : NULL)
	for (k = 0; k < TL_NTENSORS; k++)
		if (tl_tensors[k].kind != TL_T_LINEAR)
			*(float **)((char *)&pk->q.P + tl_tensors[k].field) =
			    F(y->t[k]);
	code_tables(tab2, tab5, tab4);
	for (l = 0; l < (int)pk->q.cfg.layers; l++)
		for (i = 0; i < NLIN; i++) {
			tl_qmat *m = &pk->q.qm[l * NLIN + i];

			tl_lin_shape(&pk->q.cfg, i, &rows, &cols);
			m->type = pk->q.type;
			m->rows = rows;
			m->cols = cols;
			m->n = tl_qrow_n(pk->q.type, cols);
			m->ld = tl_qrow_bytes(pk->q.type, m->n);
			m->scale = ternary_type(pk->q.type) ?
			    F(y->scales)[l * NLIN + i] : 0;
			m->d = block_type(pk->q.type) ? F(y->d[l][i]) : NULL;
			m->w = pk->base + y->w[l][i];
			if (check_qmat(m, tab2, tab5, tab4) < 0)
				return tl_err(err, "%s: block %d, %s layer: bad "
				    "weights or scales", path, l, tl_lin(i)->name);
		}
#undef F
	return 0;
}

tl_packed *
tl_packed_open(const char *path, int flags, char *err)
{
	unsigned char h[HDR];
	tl_packed *pk;
	layout *y = NULL;
	uint32_t bl;
	off_t size = 0;
	int fd, rc = -1;

	if ((fd = open_header(path, h, &size, err)) < 0)
		return NULL;
	if ((pk = calloc(1, sizeof *pk)) == NULL ||
	    (y = malloc(sizeof *y)) == NULL)
		tl_err(err, "%s: out of memory", path);
	else if (parse_header(pk, h, &bl, path, err) == 0) {
		lay(y, &pk->q.cfg, pk->q.type, bl);
		rc = load(pk, fd, flags, size, y->end + 4, path, err);
	}
	close(fd);
	/* only with the checksum good, parse what it protects */
	if (rc == 0 && (check_body(pk, y, h, bl, path, err) < 0 ||
	    set_views(pk, y, path, err) < 0))
		rc = -1;
	free(y);
	if (rc < 0) {
		tl_packed_close(pk);
		return NULL;
	}
	return pk;
}

void
tl_packed_close(tl_packed *pk)
{
	if (pk == NULL)
		return;
#ifdef HAVE_MMAP
	if (pk->mapped)
		munmap(pk->base, pk->size);
	else
#endif
		free(pk->base);
	tl_tok_free(&pk->tok);
	free(pk->q.qm);
	free(pk);
}

const tl_qmodel *
tl_packed_model(const tl_packed *pk)
{
	return &pk->q;
}

const tl_tok *
tl_packed_tok(const tl_packed *pk)
{
	return &pk->tok;
}

int
tl_packed_mapped(const tl_packed *pk)
{
	return pk->mapped;
}

void
tl_packed_stats(const tl_packed *pk, tl_packstats *st)
{
	tl_qmodel_stats(&pk->q, st);
	st->fbytes = pk->size;
}
