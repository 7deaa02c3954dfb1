/*
 * bpe.c: learning a byte-level BPE vocabulary (tl_tok_learn).
 *
 * The definition (tl-tokenize(1)): start from the bytes; at each step
 * the adjacent pair occurring most often in the current sequence wins
 * (overlapping occurrences count: "aaa" holds "aa" twice), ties going
 * to the pair whose first occurrence comes earliest; its occurrences
 * are replaced left to right without overlap by a new id.  Stop when no
 * pair occurs twice.  Pairs whose token would be longer than
 * TL_TOK_MAXPIECE bytes are never merged (this bounds a vocabulary's
 * size in memory; ordinary text never gets near it).
 *
 * Rescanning the text per merge would cost O(n) per merge.  Instead:
 *
 * - the sequence is a doubly linked list over text positions: a token
 *   is named by the position of its first byte, so positions keep the
 *   sequence order as tokens merge;
 * - every adjacent pair of tokens is an "occurrence", named by the
 *   position of its left token, and sits in its pair's occurrence list,
 *   a doubly linked list sorted by position; the pair's count is the
 *   list's length and its first occurrence the list's head;
 * - the pairs that occur at least twice sit in a binary heap ordered by
 *   (count descending, first occurrence ascending).
 *
 * Merging (A,B) into N walks A,B's list from its head, and at each
 * occurrence removes the three occurrences it touches ((L,A), (A,B),
 * (B,R)) and adds (L,N) and (N,R).  Lists stay sorted for free: a pair
 * gains occurrences only in the merge that creates the newer of its two
 * ids (a new adjacency always involves the new token), and that merge
 * walks the text left to right, appending in position order; after it
 * a list only loses entries.  So "first occurrence" stays exact.  Each
 * touched pair leaves the heap when a merge first touches it and goes
 * back, with its new key, once the merge is done.
 */
#include <stdlib.h>
#include <string.h>

#include "tok/tok.h"
#include "util/util.h"

#define NONE 0xffffffffu

struct pair {
	uint32_t left, right;
	uint32_t count;		/* occurrences in the current sequence */
	uint32_t head, tail;	/* first and last occurrence */
	uint32_t hpos;		/* place in the heap, NONE if not there */
	unsigned char banned;	/* token would be too long */
	unsigned char dirty;	/* touched by the current merge */
};

/*
 * One text position, kept together since a merge touches all of it.
 * The next token starts at p + len[id], and the previous one is found
 * by stepping back over the NONE ids inside it (tokens are short), so
 * no links are stored: memory is what learning costs most, in page
 * faults as much as in cache misses.
 */
struct pos {
	uint32_t id;		/* token starting here; NONE inside a token */
	uint32_t onx, opv;	/* occurrence list of the pair starting here */
	uint32_t pid;		/* that pair, NONE if none */
};

struct learn {
	struct pos *s;		/* n */
	uint32_t len[TL_MAX_VOCAB];	/* bytes in each id */
	struct pair *pr;
	uint32_t npr, cappr;
	uint32_t *tab;		/* hash of pairs: index + 1, 0 empty */
	uint32_t tmask;
	uint32_t *heap, nheap;	/* pair indices; room for cappr */
	uint32_t *dirty, ndirty;	/* room for cappr */
	uint32_t bp[65536];	/* pair of bytes (x << 8 | y) -> index */
};

static void touch(struct learn *, uint32_t);

static uint32_t
hash2(uint32_t l, uint32_t r)
{
	uint32_t h = (l << 16 | r) * 0x9e3779b1u;

	return h ^ h >> 16;
}

static int
grow_pairs(struct learn *L)
{
	uint32_t cap = L->cappr ? 2 * L->cappr : 65536, i, j, *tab;
	struct pair *pr;
	uint32_t *heap, *dirty;

	if (cap > NONE / 4)
		return -1;
	pr = realloc(L->pr, cap * sizeof(*pr));
	if (pr)
		L->pr = pr;
	heap = realloc(L->heap, cap * sizeof(*heap));
	if (heap)
		L->heap = heap;
	dirty = realloc(L->dirty, cap * sizeof(*dirty));
	if (dirty)
		L->dirty = dirty;
	tab = calloc(2 * (size_t)cap, sizeof(*tab));
	if (!pr || !heap || !dirty || !tab) {
		free(tab);
		return -1;
	}
	free(L->tab);
	L->tab = tab;
	L->tmask = 2 * cap - 1;
	L->cappr = cap;
	for (i = 0; i < L->npr; i++) {
		j = hash2(L->pr[i].left, L->pr[i].right) & L->tmask;
		while (tab[j])
			j = (j + 1) & L->tmask;
		tab[j] = i + 1;
	}
	return 0;
}

/* The index of pair (l, r), created if new; NONE if out of memory. */
static uint32_t
pair_get(struct learn *L, uint32_t l, uint32_t r)
{
	uint32_t j = hash2(l, r) & L->tmask, k;
	struct pair *p;

	while ((k = L->tab[j]) != 0) {
		p = &L->pr[k - 1];
		if (p->left == l && p->right == r)
			return k - 1;
		j = (j + 1) & L->tmask;
	}
	if (L->npr == L->cappr) {
		if (grow_pairs(L) != 0)
			return NONE;
		return pair_get(L, l, r);
	}
	k = L->npr++;
	L->tab[j] = k + 1;
	p = &L->pr[k];
	p->left = l;
	p->right = r;
	p->count = 0;
	p->head = p->tail = NONE;
	p->hpos = NONE;
	p->banned = L->len[l] + L->len[r] > TL_TOK_MAXPIECE;
	p->dirty = 0;
	return k;
}

/* Append the occurrence at pos (the greatest so far) to pair k. */
static void
occ_add(struct learn *L, uint32_t k, uint32_t pos)
{
	struct pair *p = &L->pr[k];

	touch(L, k);
	L->s[pos].opv = p->tail;
	L->s[pos].onx = NONE;
	if (p->tail != NONE)
		L->s[p->tail].onx = pos;
	else
		p->head = pos;
	p->tail = pos;
	p->count++;
	L->s[pos].pid = k;
}

static void
occ_del(struct learn *L, uint32_t pos)
{
	struct pos *x = &L->s[pos];
	uint32_t k = x->pid;
	struct pair *p = &L->pr[k];

	touch(L, k);
	if (x->opv != NONE)
		L->s[x->opv].onx = x->onx;
	else
		p->head = x->onx;
	if (x->onx != NONE)
		L->s[x->onx].opv = x->opv;
	else
		p->tail = x->opv;
	p->count--;
	x->pid = NONE;
}

/* Heap order: more occurrences first, then the earlier first one. */
static int
better(const struct learn *L, uint32_t a, uint32_t b)
{
	const struct pair *x = &L->pr[a], *y = &L->pr[b];

	if (x->count != y->count)
		return x->count > y->count;
	return x->head < y->head;
}

static void
heap_set(struct learn *L, uint32_t i, uint32_t k)
{
	L->heap[i] = k;
	L->pr[k].hpos = i;
}

static void
heap_up(struct learn *L, uint32_t i)
{
	uint32_t k = L->heap[i];

	while (i > 0 && better(L, k, L->heap[(i - 1) / 2])) {
		heap_set(L, i, L->heap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	heap_set(L, i, k);
}

static void
heap_down(struct learn *L, uint32_t i)
{
	uint32_t k = L->heap[i], c;

	while ((c = 2 * i + 1) < L->nheap) {
		if (c + 1 < L->nheap && better(L, L->heap[c + 1], L->heap[c]))
			c++;
		if (!better(L, L->heap[c], k))
			break;
		heap_set(L, i, L->heap[c]);
		i = c;
	}
	heap_set(L, i, k);
}

/* Take pair k out of the heap. */
static void
heap_remove(struct learn *L, uint32_t k)
{
	uint32_t h = L->pr[k].hpos, last;

	L->pr[k].hpos = NONE;
	if (h == --L->nheap)
		return;
	last = L->heap[L->nheap];
	heap_set(L, h, last);
	heap_up(L, h);
	heap_down(L, L->pr[last].hpos);
}

/*
 * Pair k is about to change.  The first time in a merge, it leaves the
 * heap (whose other keys are all still right, so the heap stays
 * valid) and goes on the dirty list; settle() puts it back afterwards.
 */
static void
touch(struct learn *L, uint32_t k)
{
	if (!L->pr[k].dirty) {
		L->pr[k].dirty = 1;
		L->dirty[L->ndirty++] = k;
		if (L->pr[k].hpos != NONE)
			heap_remove(L, k);
	}
}

/* Put each touched pair back in the heap if it occurs at least twice
 * and may be merged. */
static void
settle(struct learn *L)
{
	uint32_t i, k;

	for (i = 0; i < L->ndirty; i++) {
		k = L->dirty[i];
		L->pr[k].dirty = 0;
		if (L->pr[k].count >= 2 && !L->pr[k].banned) {
			L->heap[L->nheap] = k;
			heap_up(L, L->nheap++);
		}
	}
	L->ndirty = 0;
}

static void
learn_free(struct learn *L)
{
	free(L->s);
	free(L->pr);
	free(L->tab);
	free(L->heap);
	free(L->dirty);
	free(L);
}

int
tl_tok_learn(tl_tok *t, const unsigned char *text, size_t n, uint32_t vocab,
    char *err)
{
	return tl_tok_learn_docs(t, text, n, NULL, vocab, err);
}

/* A document ends before byte i: no pair spans it. */
#define CUT(cut, i) ((cut) != NULL && (cut)[(i) >> 3] >> ((i) & 7) & 1)

int
tl_tok_learn_docs(tl_tok *t, const unsigned char *text, size_t n,
    const unsigned char *cut, uint32_t vocab, char *err)
{
	struct learn *L;
	uint32_t *merges = NULL, nm = 0, i, k, p, q, l, r, nid;
	int rc = -1;

	memset(t, 0, sizeof(*t));
	if (vocab < 256 || vocab > TL_MAX_VOCAB)
		return tl_err(err, "vocabulary size %lu out of range [256, %d]",
		    (unsigned long)vocab, TL_MAX_VOCAB);
	if (n > 0x7fffffff)
		return tl_err(err, "text of %zu bytes too long to learn from",
		    n);
	if ((L = calloc(1, sizeof(*L))) == NULL)
		return tl_err(err, "out of memory");
	if (n > ((size_t)-1) / sizeof(*L->s))
		goto oom;
	L->s = malloc((n ? n : 1) * sizeof(*L->s));
	merges = malloc(2 * (size_t)(vocab - 256 + 1) * sizeof(*merges));
	if (!L->s || !merges || grow_pairs(L) != 0)
		goto oom;
	for (i = 0; i < 256; i++)
		L->len[i] = 1;

	/* The text as bytes, and its pairs in order. */
	for (i = 0; i < n; i++) {
		L->s[i].id = text[i];
		L->s[i].pid = NONE;
	}
	for (i = 0; i < 65536; i++)
		L->bp[i] = NONE;
	for (i = 0; i + 1 < n; i++) {
		if (CUT(cut, i + 1))
			continue;
		k = L->bp[text[i] << 8 | text[i + 1]];
		if (k == NONE) {
			k = pair_get(L, text[i], text[i + 1]);
			if (k == NONE)
				goto oom;
			L->bp[text[i] << 8 | text[i + 1]] = k;
		}
		occ_add(L, k, i);
	}
	settle(L);

	for (nm = 0; 256 + nm < vocab && L->nheap > 0; nm++) {
		struct pair *w = &L->pr[L->heap[0]];
		uint32_t best = L->heap[0];

		nid = 256 + nm;
		merges[2 * nm] = w->left;
		merges[2 * nm + 1] = w->right;
		L->len[nid] = L->len[w->left] + L->len[w->right];
		if (nid + 1 == vocab) {
			nm++;	/* the last merge need not be carried out */
			break;
		}
		/* Always take the head: it is the leftmost occurrence left,
		 * and an overlapped one is deleted as (B,R) below. */
		while ((p = L->pr[best].head) != NONE) {
			q = p + L->len[L->s[p].id];
			r = q + L->len[L->s[q].id];
			if (r == n || CUT(cut, r))
				r = NONE;
			for (l = p; l > 0 && L->s[--l].id == NONE;)
				;
			if (l == p || CUT(cut, p))
				l = NONE;
			occ_del(L, p);
			if (l != NONE)
				occ_del(L, l);
			if (r != NONE)
				occ_del(L, q);
			L->s[p].id = nid;
			L->s[q].id = NONE;
			if (l != NONE) {
				if ((k = pair_get(L, L->s[l].id, nid)) == NONE)
					goto oom;
				occ_add(L, k, l);
			}
			if (r != NONE) {
				if ((k = pair_get(L, nid, L->s[r].id)) == NONE)
					goto oom;
				occ_add(L, k, p);
			}
		}
		settle(L);
	}
	rc = tl_tok_from_merges(t, merges, nm, err);
	goto out;
oom:
	tl_err(err, "out of memory");
out:
	free(merges);
	learn_free(L);
	return rc;
}
