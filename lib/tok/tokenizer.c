/*
 * tokenizer.c: the byte tokenizer and BPE vocabularies: validation,
 * the blob, the bytes of each token for decoding, and encoding, of a
 * whole text or streamed in blocks.  Learning is in bpe.c and
 * words.c.
 *
 * Encoding applies the merges by rank.  Every adjacent pair that has a
 * merge sits in a min-heap keyed by (rank, position); popping the least
 * key and merging if the pair is still there gives exactly "for each
 * merge in order, replace its occurrences left to right": a merge only
 * creates pairs holding its new id, whose ranks are higher, so no pair
 * of a lower rank ever reappears, and within one rank the heap hands
 * out positions left to right, skipping the overlapped ones.
 *
 * Words BPE encodes each word (tl_tok_word, in words.c) alone in the
 * same way, most of them found in a cache of recent words.
 */
#include <stdlib.h>
#include <string.h>

#include "tok/tok.h"
#include "util/util.h"

#define NONE 0xffffffffu

/* A pair -> merge rank hash table slot; rank NONE marks an empty slot. */
struct slot {
	uint32_t key;		/* left << 16 | right */
	uint32_t rank;
};

struct enc {
	uint32_t mask;		/* slots - 1 */
	struct slot *slot;
	uint32_t *rank0;	/* 65536: rank of each pair of bytes */
	/* bit (x << 8 | y): some token holds byte x followed by byte y.
	 * Those are exactly the pairs (last byte of left, first byte of
	 * right) of the merges, so no merge can join two bytes whose bit
	 * is clear: the text may be cut there. */
	unsigned char span[65536 / 8];
};

static uint32_t
hash2(uint32_t key)
{
	key *= 0x9e3779b1u;
	return key ^ key >> 16;
}

static uint32_t
rank_of(const struct enc *e, uint32_t l, uint32_t r)
{
	uint32_t key, i;

	if ((l | r) < 256)
		return e->rank0[l << 8 | r];
	key = l << 16 | r;
	i = hash2(key) & e->mask;
	while (e->slot[i].rank != NONE) {
		if (e->slot[i].key == key)
			return e->slot[i].rank;
		i = (i + 1) & e->mask;
	}
	return NONE;
}

void
tl_tok_free(tl_tok *t)
{
	struct enc *e;

	if (t == NULL)
		return;
	e = t->enc;
	if (e) {
		free(e->slot);
		free(e->rank0);
		free(e);
	}
	free(t->merges);
	free(t->off);
	free(t->bytes);
	memset(t, 0, sizeof(*t));
}

size_t
tl_tok_mem(const tl_tok *t)
{
	const struct enc *e = t->enc;
	size_t n = sizeof *t;

	if (t->merges)
		n += 2 * (size_t)tl_tok_nmerges(t) * sizeof *t->merges;
	if (t->off)
		n += (t->vocab + 1) * sizeof *t->off + t->off[t->vocab];
	if (e)
		n += sizeof *e + (e->mask + (size_t)1) * sizeof *e->slot +
		    65536 * sizeof *e->rank0;
	return n;
}

/* The kind, flags and number of ids (ne: 1 with an EOT). */
static int
tok_check(const tl_tok *t, uint32_t ne, char *err)
{
	if (t->flags & ~TL_TOK_EOT)
		return tl_err(err, "unknown tokenizer flags %#lx",
		    (unsigned long)(t->flags & ~TL_TOK_EOT));
	if (t->kind == TL_TOK_BYTES) {
		if (t->vocab != 256 + ne)
			return tl_err(err, "byte tokenizer with %lu ids (must "
			    "be %lu)", (unsigned long)t->vocab,
			    (unsigned long)(256 + ne));
	} else if (t->kind == TL_TOK_BPE || t->kind == TL_TOK_WORDS) {
		if (t->vocab <= 256 + ne || t->vocab > TL_MAX_VOCAB)
			return tl_err(err, "BPE vocabulary of %lu ids out of "
			    "range [%lu, %d]", (unsigned long)t->vocab,
			    (unsigned long)(257 + ne), TL_MAX_VOCAB);
	} else
		return tl_err(err, "unknown tokenizer kind %lu",
		    (unsigned long)t->kind);
	return 0;
}

/*
 * Check t->kind, t->vocab and t->merges (owned by t) and derive the
 * pieces and the encoder.  On failure t is freed.
 */
static int
tok_build(tl_tok *t, char *err)
{
	uint32_t nm, i, l, r, h, size, total, ne;
	struct enc *e;

	t->off = NULL;
	t->bytes = NULL;
	t->enc = NULL;
	ne = t->flags & TL_TOK_EOT ? 1 : 0;
	if (tok_check(t, ne, err) != 0)
		goto fail;
	nm = t->vocab - 256 - ne;

	/* Piece lengths first, to bound the allocation. */
	t->off = malloc((t->vocab + 1) * sizeof(*t->off));
	e = t->enc = calloc(1, sizeof(*e));
	if (t->off == NULL || e == NULL)
		goto oom;
	for (size = 16; size < 2 * nm; size *= 2)
		;
	e->mask = size - 1;
	e->slot = malloc(size * sizeof(*e->slot));
	e->rank0 = malloc(65536 * sizeof(*e->rank0));
	if (e->slot == NULL || e->rank0 == NULL)
		goto oom;
	for (i = 0; i < size; i++)
		e->slot[i].rank = NONE;
	for (i = 0; i < 65536; i++)
		e->rank0[i] = NONE;
	for (i = 0; i <= 256; i++)
		t->off[i] = i;
	for (i = 0; i < nm; i++) {
		l = t->merges[2 * i];
		r = t->merges[2 * i + 1];
		if (l >= 256 + i || r >= 256 + i) {
			tl_err(err, "merge %lu (id %lu) joins id %lu, not an "
			    "earlier id", (unsigned long)i,
			    (unsigned long)(256 + i),
			    (unsigned long)(l >= 256 + i ? l : r));
			goto fail;
		}
		total = (t->off[l + 1] - t->off[l]) + (t->off[r + 1] - t->off[r]);
		if (total > TL_TOK_MAXPIECE) {
			tl_err(err, "token %lu is %lu bytes long (max %d)",
			    (unsigned long)(256 + i), (unsigned long)total,
			    TL_TOK_MAXPIECE);
			goto fail;
		}
		t->off[256 + i + 1] = t->off[256 + i] + total;
		/* Enter the pair, refusing a repeated one. */
		if ((l | r) < 256) {
			h = e->rank0[l << 8 | r];
			if (h == NONE)
				e->rank0[l << 8 | r] = i;
		} else {
			for (h = hash2(l << 16 | r) & e->mask;
			    e->slot[h].rank != NONE &&
			    e->slot[h].key != (l << 16 | r);
			    h = (h + 1) & e->mask)
				;
			if (e->slot[h].rank == NONE) {
				e->slot[h].key = l << 16 | r;
				e->slot[h].rank = i;
				h = NONE;
			} else
				h = e->slot[h].rank;
		}
		if (h != NONE) {
			tl_err(err, "merge %lu (id %lu) repeats merge %lu",
			    (unsigned long)i, (unsigned long)(256 + i),
			    (unsigned long)h);
			goto fail;
		}
	}

	if (ne)		/* the EOT: no bytes */
		t->off[t->vocab] = t->off[t->vocab - 1];

	/* The bytes of every token, and the pairs of bytes a token holds. */
	t->bytes = malloc(t->off[t->vocab] ? t->off[t->vocab] : 1);
	if (t->bytes == NULL)
		goto oom;
	for (i = 0; i < 256; i++)
		t->bytes[i] = (unsigned char)i;
	for (i = 0; i < nm; i++) {
		unsigned char *p = t->bytes + t->off[256 + i];
		uint32_t ll, lr, x, y;

		l = t->merges[2 * i];
		r = t->merges[2 * i + 1];
		ll = t->off[l + 1] - t->off[l];
		lr = t->off[r + 1] - t->off[r];
		memcpy(p, t->bytes + t->off[l], ll);
		memcpy(p + ll, t->bytes + t->off[r], lr);
		x = p[ll - 1];
		y = p[ll];
		e->span[(x << 8 | y) >> 3] |= 1 << (y & 7);
	}
	return 0;
oom:
	tl_err(err, "out of memory");
fail:
	tl_tok_free(t);
	return -1;
}

int
tl_tok_bytes(tl_tok *t, char *err)
{
	memset(t, 0, sizeof(*t));
	t->kind = TL_TOK_BYTES;
	t->vocab = 256;
	return tok_build(t, err);
}

int
tl_tok_from_merges(tl_tok *t, const uint32_t *merges, size_t nmerges,
    char *err)
{
	return tl_tok_from_kind(t, TL_TOK_BPE, merges, nmerges, err);
}

int
tl_tok_from_kind(tl_tok *t, uint32_t kind, const uint32_t *merges,
    size_t nmerges, char *err)
{
	memset(t, 0, sizeof(*t));
	if (nmerges == 0)
		return tl_tok_bytes(t, err);
	if (nmerges > TL_MAX_VOCAB - 256)
		return tl_err(err, "%zu merges (max %d)", nmerges,
		    TL_MAX_VOCAB - 256);
	t->kind = kind;
	t->vocab = 256 + (uint32_t)nmerges;
	t->merges = malloc(2 * nmerges * sizeof(*t->merges));
	if (t->merges == NULL)
		return tl_err(err, "out of memory");
	memcpy(t->merges, merges, 2 * nmerges * sizeof(*t->merges));
	return tok_build(t, err);
}

int
tl_tok_copy(tl_tok *dst, const tl_tok *src, char *err)
{
	if (src->kind == TL_TOK_BYTES) {
		if (tl_tok_bytes(dst, err) != 0)
			return -1;
	} else if (tl_tok_from_kind(dst, src->kind, src->merges,
	    tl_tok_nmerges(src), err) != 0)
		return -1;
	if (src->flags & TL_TOK_EOT && tl_tok_add_eot(dst, err) != 0) {
		tl_tok_free(dst);
		return -1;
	}
	return 0;
}

uint32_t
tl_tok_nmerges(const tl_tok *t)
{
	return t->vocab - 256 - (t->flags & TL_TOK_EOT ? 1 : 0);
}

int
tl_tok_eot(const tl_tok *t)
{
	return t->flags & TL_TOK_EOT ? (int)t->vocab - 1 : -1;
}

int
tl_tok_add_eot(tl_tok *t, char *err)
{
	uint32_t *off;

	if (t->flags & TL_TOK_EOT)
		return tl_err(err, "the tokenizer already has an end-of-text "
		    "token");
	if (t->vocab >= TL_MAX_VOCAB)
		return tl_err(err, "no room for an end-of-text token: the "
		    "vocabulary has %d ids", TL_MAX_VOCAB);
	if ((off = realloc(t->off, (t->vocab + 2) * sizeof(*off))) == NULL)
		return tl_err(err, "out of memory");
	off[t->vocab + 1] = off[t->vocab];
	t->off = off;
	t->vocab++;
	t->flags |= TL_TOK_EOT;
	return 0;
}

/*
 * The blob (tl-tokens(5)): u32 kind (the flags in its upper bits), u32
 * vocab, then for either BPE two u32 (left, right) per merge.
 */
size_t
tl_tok_blob_size(const tl_tok *t)
{
	return 8 + (t->kind != TL_TOK_BYTES ? 8 * (size_t)tl_tok_nmerges(t) :
	    0);
}

void
tl_tok_blob_put(const tl_tok *t, unsigned char *p)
{
	size_t i;

	tl_put_u32(p, t->kind | t->flags);
	tl_put_u32(p + 4, t->vocab);
	if (t->kind != TL_TOK_BYTES)
		for (i = 0; i < 2 * (size_t)tl_tok_nmerges(t); i++)
			tl_put_u32(p + 8 + 4 * i, t->merges[i]);
}

int
tl_tok_blob_get(tl_tok *t, const unsigned char *p, size_t len, char *err)
{
	size_t want, i;
	uint32_t ne;

	memset(t, 0, sizeof(*t));
	if (len < 8)
		return tl_err(err, "tokenizer blob of %zu bytes (min 8)", len);
	/* The one place that splits the kind field. */
	t->kind = tl_get_u32(p) & TL_TOK_KINDMASK;
	t->flags = tl_get_u32(p) & ~TL_TOK_KINDMASK;
	t->vocab = tl_get_u32(p + 4);
	ne = t->flags == TL_TOK_EOT ? 1 : 0;
	if ((t->kind == TL_TOK_BPE || t->kind == TL_TOK_WORDS) &&
	    (t->flags & ~TL_TOK_EOT) == 0 &&
	    t->vocab > 256 + ne && t->vocab <= TL_MAX_VOCAB)
		want = 8 + 8 * (size_t)(t->vocab - 256 - ne);
	else if (t->kind == TL_TOK_BYTES && (t->flags & ~TL_TOK_EOT) == 0 &&
	    t->vocab == 256 + ne)
		want = 8;
	else
		return tok_build(t, err);	/* names what is wrong */
	if (len != want) {
		memset(t, 0, sizeof(*t));
		return tl_err(err, "tokenizer blob of %zu bytes, expected %zu",
		    len, want);
	}
	if (t->kind != TL_TOK_BYTES) {
		t->merges = malloc((want - 8) / 4 * sizeof(*t->merges));
		if (t->merges == NULL) {
			memset(t, 0, sizeof(*t));
			return tl_err(err, "out of memory");
		}
		for (i = 0; i < (want - 8) / 4; i++)
			t->merges[i] = tl_get_u32(p + 8 + 4 * i);
	}
	return tok_build(t, err);
}

int
tl_tok_equal(const tl_tok *a, const tl_tok *b)
{
	if (a->kind != b->kind || a->vocab != b->vocab || a->flags != b->flags)
		return 0;
	if (a->kind == TL_TOK_BYTES)
		return 1;
	return memcmp(a->merges, b->merges,
	    2 * (size_t)tl_tok_nmerges(a) * sizeof(*a->merges)) == 0;
}

const unsigned char *
tl_tok_piece(const tl_tok *t, uint32_t id, size_t *len)
{
	*len = t->off[id + 1] - t->off[id];
	return t->bytes + t->off[id];
}

/*
 * Encoding.  Work space for n bytes: the token at each position (the
 * position of its first byte; DEAD once merged into its left
 * neighbour), a doubly linked list over the live tokens, and the heap
 * of (rank << 32 | position) keys, which takes at most 3n entries: n-1
 * initial pairs and two new ones per merge.
 */
#define DEAD NONE

struct work {
	size_t cap;		/* bytes */
	uint32_t *id, *nxt, *prv;
	uint64_t *heap;
	struct wcache *wc;	/* words BPE: recent words, or NULL */
	/* BPE-dropout (tl_tokenc_dropout): a merge is skipped when 16
	 * random bits are below thr; the bits of each piece come from
	 * the seed and the piece's offset in the whole text (off is the
	 * text's first byte's) */
	uint32_t thr;
	uint64_t seed, off;
	tl_rng rng;
};

static int
work_grow(struct work *w, size_t n, char *err)
{
	void *a, *b, *c, *d;

	if (n <= w->cap)
		return 0;
	if (n >= NONE / 3 || n > ((size_t)-1) / 24)
		return tl_err(err, "text of %zu bytes too long to encode "
		    "at once", n);
	/* Grow at least twofold (segments come in all sizes). */
	if (n < 2 * w->cap && w->cap < NONE / 6 && w->cap < ((size_t)-1) / 48)
		n = 2 * w->cap;
	if (n < 256)
		n = 256;
	a = realloc(w->id, n * sizeof(*w->id));
	if (a)
		w->id = a;
	b = realloc(w->nxt, n * sizeof(*w->nxt));
	if (b)
		w->nxt = b;
	c = realloc(w->prv, n * sizeof(*w->prv));
	if (c)
		w->prv = c;
	d = realloc(w->heap, 3 * n * sizeof(*w->heap));
	if (d)
		w->heap = d;
	if (!a || !b || !c || !d)
		return tl_err(err, "out of memory");
	w->cap = n;
	return 0;
}

static void
work_free(struct work *w)
{
	free(w->id);
	free(w->nxt);
	free(w->prv);
	free(w->heap);
	free(w->wc);
	memset(w, 0, sizeof(*w));
}

static void
sift_down(uint64_t *h, size_t n, size_t i)
{
	uint64_t x = h[i];
	size_t c;

	while ((c = 2 * i + 1) < n) {
		if (c + 1 < n && h[c + 1] < h[c])
			c++;
		if (x <= h[c])
			break;
		h[i] = h[c];
		i = c;
	}
	h[i] = x;
}

static void
sift_up(uint64_t *h, size_t i)
{
	uint64_t x = h[i];

	while (i > 0 && x < h[(i - 1) / 2]) {
		h[i] = h[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	h[i] = x;
}

/*
 * Short texts (most pieces between cuts are a few bytes) go faster
 * without the heap: find the least (rank, position) among the adjacent
 * pairs by a scan, merge it, repeat.  That is the order in which the
 * heap would hand them out.
 */
#define SMALL 32

static size_t
encode_small(const tl_tok *t, const unsigned char *s, size_t n,
    uint16_t *out)
{
	const struct enc *e = t->enc;
	uint32_t id[SMALL], rk[SMALL], best;
	size_t i, b;

	for (i = 0; i < n; i++)
		id[i] = s[i];
	for (i = 0; i + 1 < n; i++)
		rk[i] = e->rank0[s[i] << 8 | s[i + 1]];
	for (;;) {
		best = NONE;
		b = 0;
		for (i = 0; i + 1 < n; i++)
			if (rk[i] < best) {
				best = rk[i];
				b = i;
			}
		if (best == NONE)
			break;
		/* Merge b and b+1; only the pairs around b change. */
		id[b] = 256 + best;
		for (i = b + 1; i + 1 < n; i++) {
			id[i] = id[i + 1];
			rk[i] = rk[i + 1];
		}
		n--;
		if (b > 0)
			rk[b - 1] = rank_of(e, id[b - 1], id[b]);
		if (b + 1 < n)
			rk[b] = rank_of(e, id[b], id[b + 1]);
	}
	for (i = 0; i < n; i++)
		out[i] = (uint16_t)id[i];
	return n;
}

/* Encode s[0..n) (n <= w->cap) into out (room for n ids) with the
 * heap; returns the number of ids.  Under BPE-dropout a merge that
 * could be made is skipped at random, kept aside, and offered again
 * after the next merge that is made (so that it may still be made
 * later, as in Provilkov et al., 2020): the skipped keys are held at
 * the far end of the heap's array, which no more than 3n keys ever
 * share. */
static size_t
encode_seg(const tl_tok *t, const unsigned char *s, size_t n, uint16_t *out,
    struct work *w)
{
	const struct enc *e = t->enc;
	const uint32_t *m = t->merges;
	uint32_t *id = w->id, *nxt = w->nxt, *prv = w->prv;
	uint64_t *h = w->heap, top, *skip;
	uint32_t p, q, r, x;
	size_t nh = 0, i, k, ns = 0;

	if (t->kind == TL_TOK_BYTES || n < 2) {
		for (i = 0; i < n; i++)
			out[i] = s[i];
		return n;
	}
	if (n <= SMALL && w->thr == 0)
		return encode_small(t, s, n, out);
	skip = h + 3 * w->cap;	/* the work space is allocated by now */
	for (i = 0; i < n; i++) {
		id[i] = s[i];
		nxt[i] = (uint32_t)i + 1;
		prv[i] = (uint32_t)i - 1;
	}
	nxt[n - 1] = NONE;
	prv[0] = NONE;
	for (i = 0; i + 1 < n; i++) {
		r = e->rank0[s[i] << 8 | s[i + 1]];
		if (r != NONE)
			h[nh++] = (uint64_t)r << 32 | i;
	}
	for (i = nh / 2; i-- > 0;)
		sift_down(h, nh, i);

	while (nh > 0) {
		top = h[0];
		h[0] = h[--nh];
		sift_down(h, nh, 0);
		r = (uint32_t)(top >> 32);
		p = (uint32_t)top;
		q = nxt[p];
		/* A dead p has id DEAD, which no merge holds. */
		if (id[p] != m[2 * r] || q == NONE || id[q] != m[2 * r + 1])
			continue;
		if (w->thr > 0 && tl_rng_u32(&w->rng) >> 16 < w->thr) {
			*--skip = top;
			ns++;
			continue;
		}
		for (; ns > 0; ns--, skip++) {
			h[nh] = *skip;
			sift_up(h, nh++);
		}
		id[p] = 256 + r;
		id[q] = DEAD;
		nxt[p] = x = nxt[q];
		if (x != NONE) {
			prv[x] = p;
			if ((r = rank_of(e, id[p], id[x])) != NONE) {
				h[nh] = (uint64_t)r << 32 | p;
				sift_up(h, nh++);
			}
		}
		if ((x = prv[p]) != NONE &&
		    (r = rank_of(e, id[x], id[p])) != NONE) {
			h[nh] = (uint64_t)r << 32 | x;
			sift_up(h, nh++);
		}
	}
	for (k = 0, p = 0; p != NONE; p = nxt[p])
		out[k++] = (uint16_t)id[p];
	return k;
}

/*
 * Words BPE: each word is encoded alone, and a word seen lately comes
 * from a cache: a direct-mapped table of words of up to WC_BYTES bytes
 * and their ids, indexed by a hash of the word.  Most text is a few
 * thousand distinct words, so nearly every word is found there.
 */
#define WC_SLOTS 32768
#define WC_BYTES 30
#define WC_IDS 16

/* One cache line: a lookup costs one miss at most. */
struct wc_ent {
	unsigned char len, nid;	/* len 0: empty */
	unsigned char b[WC_BYTES];
	uint16_t id[WC_IDS];
};
typedef char wc_ent_is_64_bytes[sizeof(struct wc_ent) == 64 ? 1 : -1];

struct wcache {
	struct wc_ent e[WC_SLOTS];
};

/* Under BPE-dropout, the random bits of the piece at offset a of the
 * text being encoded. */
static void
drop_seed(struct work *w, size_t a)
{
	if (w->thr > 0)
		tl_rng_seed(&w->rng, tl_hash2(w->seed, w->off + a));
}

static size_t
encode_word(const tl_tok *t, const unsigned char *s, size_t n,
    uint16_t *out, struct work *w)
{
	struct wc_ent *c = NULL;
	uint32_t h = 2166136261u;
	size_t i, k;

	if (w->thr > 0)		/* each occurrence its own segmentation */
		return encode_seg(t, s, n, out, w);
	if (n <= WC_BYTES && w->wc != NULL) {
		for (i = 0; i < n; i++)
			h = (h ^ s[i]) * 16777619u;
		c = &w->wc->e[(h ^ h >> 16) & (WC_SLOTS - 1)];
		if (c->len == n && memcmp(c->b, s, n) == 0) {
			memcpy(out, c->id, c->nid * sizeof(*out));
			return c->nid;
		}
	}
	k = n <= SMALL ? encode_small(t, s, n, out) :
	    encode_seg(t, s, n, out, w);
	if (c != NULL && k <= WC_IDS) {
		c->len = (unsigned char)n;
		c->nid = (unsigned char)k;
		memcpy(c->b, s, n);
		memcpy(c->id, out, k * sizeof(*out));
	}
	return k;
}

/*
 * Encode the whole words of s[0..n) into out (room for n ids), *k ids;
 * *used gets the bytes encoded: all if last, else up to the last place
 * where a word surely ends.
 */
static int
encode_words(const tl_tok *t, const unsigned char *s, size_t n, int last,
    uint16_t *out, size_t *k, size_t *used, struct work *w, char *err)
{
	size_t a = 0, l;

	*k = 0;
	if (work_grow(w, TL_TOK_WORDMAX, err) != 0)
		return -1;
	/* the cache is worth its 2 MiB only on a long text */
	if (w->wc == NULL && n >= 4096) {
		void *p;

		if (posix_memalign(&p, 64, sizeof(*w->wc)) != 0)
			return tl_err(err, "out of memory");
		w->wc = memset(p, 0, sizeof(*w->wc));
	}
	while (a < n && (l = tl_tok_word(s + a, n - a, last)) > 0) {
		if (l == 1)
			out[(*k)++] = s[a];
		else {
			drop_seed(w, a);
			*k += encode_word(t, s + a, l, out + *k, w);
		}
		a += l;
	}
	*used = a;
	return 0;
}

static int
can_cut(const struct enc *en, const unsigned char *s, size_t i)
{
	unsigned x = s[i - 1], y = s[i];

	return !(en->span[(x << 8 | y) >> 3] & 1 << (y & 7));
}

/* Encode s[0..n) into out (room for n ids), *k ids.  The text is
 * encoded piecewise between the places where it may be cut (see
 * tl_tokenc below): the work space and the heaps stay small. */
static int
encode_run(const tl_tok *t, const unsigned char *s, size_t n, uint16_t *out,
    size_t *k, struct work *w, char *err)
{
	size_t a, b;

	*k = 0;
	if (t->kind == TL_TOK_WORDS)
		return encode_words(t, s, n, 1, out, k, &a, w, err);
	if (t->kind == TL_TOK_BYTES) {
		*k = encode_seg(t, s, n, out, w);
		return 0;
	}
	for (a = 0; a < n; a = b) {
		for (b = a + 1; b < n && !can_cut(t->enc, s, b); b++)
			;
		if (b == a + 1)
			out[(*k)++] = s[a];
		else {
			if (work_grow(w, b - a, err) != 0)
				return -1;
			drop_seed(w, a);
			*k += encode_seg(t, s + a, b - a, out + *k, w);
		}
	}
	return 0;
}

int
tl_tok_encode(const tl_tok *t, const unsigned char *text, size_t n,
    uint16_t **out, size_t *nout, char *err)
{
	struct work w;
	uint16_t *o;

	memset(&w, 0, sizeof(w));
	*out = NULL;
	*nout = 0;
	o = malloc((n ? n : 1) * sizeof(*o));
	if (o == NULL)
		return tl_err(err, "out of memory");
	if (encode_run(t, text, n, o, nout, &w, err) != 0) {
		free(o);
		work_free(&w);
		return -1;
	}
	*out = o;
	work_free(&w);
	return 0;
}

/*
 * Streaming: buf holds the text not yet encoded.  After each block the
 * encoder looks back from the end for the last place where the text
 * may be cut (a clear bit in span), encodes up to there and keeps the
 * rest.  Encoding the two sides of such a cut separately gives the
 * same ids as encoding them together: no token, hence no merge, ever
 * spans the cut, and the left-to-right rule only relates overlapping
 * occurrences, which lie on one side.
 */
static int feed_words(tl_tokenc *, int, const uint16_t **, size_t *,
    char *);

struct tl_tokenc {
	const tl_tok *t;
	unsigned char *buf;
	size_t len, cap;
	size_t chk;		/* cuts at 1..chk-1 in buf known impossible */
	size_t max, keep;
	uint16_t *out;
	size_t outcap;
	struct work w;
};

tl_tokenc *
tl_tokenc_new(const tl_tok *t, char *err)
{
	tl_tokenc *e = calloc(1, sizeof(*e));

	if (e == NULL) {
		tl_err(err, "out of memory");
		return NULL;
	}
	e->t = t;
	e->chk = 1;
	e->max = TL_TOK_CARRY_MAX;
	e->keep = TL_TOK_CARRY_KEEP;
	return e;
}

int
tl_tokenc_dropout(tl_tokenc *e, float p, uint64_t seed, char *err)
{
	if (e->t->kind == TL_TOK_BYTES)
		return tl_err(err, "BPE-dropout needs a BPE vocabulary");
	if (!(p >= 0 && p < 1))
		return tl_err(err, "BPE-dropout rate %g not in [0, 1)", p);
	e->w.thr = (uint32_t)(p * 65536.0f + 0.5f);
	if (e->w.thr > 65535)
		e->w.thr = 65535;
	e->w.seed = seed;
	return 0;
}

void
tl_tokenc_limits(tl_tokenc *e, size_t max, size_t keep)
{
	/* A cut needs a token boundary in buf[0 .. len-keep], so leave
	 * room for a whole token there. */
	if (keep < 1)
		keep = 1;
	if (max < keep + TL_TOK_MAXPIECE)
		max = keep + TL_TOK_MAXPIECE;
	e->max = max;
	e->keep = keep;
}

void
tl_tokenc_free(tl_tokenc *e)
{
	if (e == NULL)
		return;
	free(e->buf);
	free(e->out);
	work_free(&e->w);
	free(e);
}

/* Room in e->out for n ids. */
static int
out_room(tl_tokenc *e, size_t n, char *err)
{
	uint16_t *o;

	if (e->outcap >= n)
		return 0;
	if (n > ((size_t)-1) / sizeof(*o) ||
	    (o = realloc(e->out, n * sizeof(*o))) == NULL)
		return tl_err(err, "out of memory");
	e->out = o;
	e->outcap = n;
	return 0;
}

/* Byte tokens need no carry: each byte is its id, straight from the
 * caller's text to out. */
static int
feed_bytes(tl_tokenc *e, const unsigned char *text, size_t n,
    const uint16_t **ids, size_t *nids, char *err)
{
	size_t i;

	if (out_room(e, n, err) != 0)
		return -1;
	for (i = 0; i < n; i++)
		e->out[i] = text[i];
	if (n > 0)
		*ids = e->out;
	*nids = n;
	return 0;
}

int
tl_tokenc_feed(tl_tokenc *e, const unsigned char *text, size_t n, int last,
    const uint16_t **ids, size_t *nids, char *err)
{
	/* no ids yet: an empty array, not NULL, so that a caller may
	 * memcpy(dst, *ids, 0) */
	static const uint16_t none[1];
	const tl_tok *t = e->t;
	size_t c, i, k, end;

	*ids = none;
	*nids = 0;
	if (t->kind == TL_TOK_BYTES && e->len == 0)
		return feed_bytes(e, text, n, ids, nids, err);
	if (n > ((size_t)-1) / 4 - e->len)
		return tl_err(err, "text block too long");
	if (e->len + n > e->cap) {
		size_t cap = e->cap ? e->cap : 65536;
		unsigned char *b;

		while (cap < e->len + n)
			cap *= 2;
		if ((b = realloc(e->buf, cap)) == NULL)
			return tl_err(err, "out of memory");
		e->buf = b;
		e->cap = cap;
	}
	if (n > 0)
		memcpy(e->buf + e->len, text, n);
	e->len += n;

	/* Where to cut. */
	if (t->kind == TL_TOK_WORDS)
		return feed_words(e, last, ids, nids, err);
	if (last || t->kind == TL_TOK_BYTES)
		c = e->len;
	else {
		for (c = 0, i = e->len; i-- > e->chk;)
			if (can_cut(t->enc, e->buf, i)) {
				c = i;
				break;
			}
		if (c == 0 && e->len > 0)
			e->chk = e->len;
	}
	if (c == 0 && e->len < e->max)
		return 0;

	if (out_room(e, e->len, err) != 0)
		return -1;
	if (c > 0) {
		if (encode_run(t, e->buf, c, e->out, &k, &e->w, err) != 0)
			return -1;
		e->chk = e->len - c;	/* the scan covered (c, len) */
	} else {
		/* No place to cut in max bytes: encode all and keep the
		 * tokens past len - keep. */
		if (encode_run(t, e->buf, e->len, e->out, &k, &e->w, err) != 0)
			return -1;
		for (i = 0, c = 0; i < k; i++) {
			size_t l;

			tl_tok_piece(t, e->out[i], &l);
			if (c + l > e->len - e->keep)
				break;
			c += l;
		}
		k = i;
		e->chk = e->len - c;
	}
	end = e->len - c;
	memmove(e->buf, e->buf + c, end);
	e->len = end;
	e->w.off += c;
	if (e->chk < 1)
		e->chk = 1;
	*ids = e->out;
	*nids = k;
	return 0;
}

/* Words BPE: encode every word that surely ends in buf, keep the rest
 * (less than TL_TOK_WORDMAX bytes). */
static int
feed_words(tl_tokenc *e, int last, const uint16_t **ids, size_t *nids,
    char *err)
{
	size_t used, k;

	if (out_room(e, e->len, err) != 0)
		return -1;
	if (encode_words(e->t, e->buf, e->len, last, e->out, &k, &used,
	    &e->w, err) != 0)
		return -1;
	if (used > 0)
		memmove(e->buf, e->buf + used, e->len - used);
	e->len -= used;
	e->w.off += used;
	if (k > 0)
		*ids = e->out;
	*nids = k;
	return 0;
}
