/*
 * pairs.c: the adjacent pairs of the BPE learners (learn.h): a hash
 * table from (left, right) to the pair, the binary heap of the pairs
 * that may be merged next, and the list of the pairs a merge touched.
 */
#include <stdlib.h>
#include <string.h>

#include "learn.h"

#define NONE TL_PAIR_NONE

static uint32_t
hash2(uint32_t l, uint32_t r)
{
	uint32_t h = (l << 16 | r) * 0x9e3779b1u;

	return h ^ h >> 16;
}

/* Twice the room, and the hash table again. */
static int
grow(struct tl_pairs *P)
{
	uint32_t cap = P->cap ? 2 * P->cap : 65536, i, j, *tab;
	void *pr, *heap, *dirty, *ext;

	if (cap > NONE / 4)
		return -1;
	if ((pr = realloc(P->pr, cap * sizeof(*P->pr))) != NULL)
		P->pr = pr;
	if ((heap = realloc(P->heap, cap * sizeof(*P->heap))) != NULL)
		P->heap = heap;
	if ((dirty = realloc(P->dirty, cap * sizeof(*P->dirty))) != NULL)
		P->dirty = dirty;
	if ((ext = realloc(P->ext, cap * (P->extsz ? P->extsz : 1))) != NULL)
		P->ext = ext;
	tab = calloc(2 * (size_t)cap, sizeof(*tab));
	if (!pr || !heap || !dirty || !ext || !tab) {
		free(tab);
		return -1;
	}
	free(P->tab);
	P->tab = tab;
	P->tmask = 2 * cap - 1;
	P->cap = cap;
	for (i = 0; i < P->npr; i++) {
		j = hash2(P->pr[i].l, P->pr[i].r) & P->tmask;
		while (tab[j])
			j = (j + 1) & P->tmask;
		tab[j] = i + 1;
	}
	return 0;
}

int
tl_pairs_init(struct tl_pairs *P, size_t extsz)
{
	uint32_t i;

	memset(P, 0, sizeof(*P));
	P->extsz = extsz;
	for (i = 0; i < 256; i++)
		P->len[i] = 1;
	return grow(P);
}

void
tl_pairs_free(struct tl_pairs *P)
{
	free(P->pr);
	free(P->ext);
	free(P->tab);
	free(P->heap);
	free(P->dirty);
}

uint32_t
tl_pairs_get(struct tl_pairs *P, uint32_t l, uint32_t r)
{
	uint32_t j = hash2(l, r) & P->tmask, k;
	struct tl_pair *p;

	while ((k = P->tab[j]) != 0) {
		p = &P->pr[k - 1];
		if (p->l == l && p->r == r)
			return k - 1;
		j = (j + 1) & P->tmask;
	}
	if (P->npr == P->cap) {
		if (grow(P) != 0)
			return NONE;
		return tl_pairs_get(P, l, r);
	}
	k = P->npr++;
	P->tab[j] = k + 1;
	p = &P->pr[k];
	memset(p, 0, sizeof(*p));
	p->l = l;
	p->r = r;
	p->first = NONE;
	p->hpos = NONE;
	p->banned = P->len[l] + P->len[r] > TL_TOK_MAXPIECE;
	memset(P->ext + (size_t)k * P->extsz, 0, P->extsz);
	return k;
}

/* Heap order: the higher count first, then the earlier first
 * occurrence, then the smaller left id, then the smaller right id. */
static int
better(const struct tl_pairs *P, uint32_t a, uint32_t b)
{
	const struct tl_pair *x = &P->pr[a], *y = &P->pr[b];

	if (x->count != y->count)
		return x->count > y->count;
	if (x->first != y->first)
		return x->first < y->first;
	if (x->l != y->l)
		return x->l < y->l;
	return x->r < y->r;
}

static void
heap_set(struct tl_pairs *P, uint32_t i, uint32_t k)
{
	P->heap[i] = k;
	P->pr[k].hpos = i;
}

static void
heap_up(struct tl_pairs *P, uint32_t i)
{
	uint32_t k = P->heap[i];

	while (i > 0 && better(P, k, P->heap[(i - 1) / 2])) {
		heap_set(P, i, P->heap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	heap_set(P, i, k);
}

static void
heap_down(struct tl_pairs *P, uint32_t i)
{
	uint32_t k = P->heap[i], c;

	while ((c = 2 * i + 1) < P->nheap) {
		if (c + 1 < P->nheap && better(P, P->heap[c + 1], P->heap[c]))
			c++;
		if (!better(P, P->heap[c], k))
			break;
		heap_set(P, i, P->heap[c]);
		i = c;
	}
	heap_set(P, i, k);
}

/*
 * Pair k is about to change.  The first time in a merge, it leaves the
 * heap (whose other keys are all still right, so the heap stays valid)
 * and goes on the dirty list; settle() puts it back afterwards.
 */
void
tl_pairs_touch(struct tl_pairs *P, uint32_t k)
{
	uint32_t h, last;

	if (P->pr[k].dirty)
		return;
	P->pr[k].dirty = 1;
	P->dirty[P->ndirty++] = k;
	if ((h = P->pr[k].hpos) == NONE)
		return;
	P->pr[k].hpos = NONE;
	if (h == --P->nheap)
		return;
	last = P->heap[P->nheap];
	heap_set(P, h, last);
	heap_up(P, h);
	heap_down(P, P->pr[last].hpos);
}

/* Each touched pair back in the heap if it counts 2 or more and may be
 * merged. */
void
tl_pairs_settle(struct tl_pairs *P)
{
	uint32_t i, k;

	for (i = 0; i < P->ndirty; i++) {
		k = P->dirty[i];
		P->pr[k].dirty = 0;
		if (P->pr[k].count >= 2 && !P->pr[k].banned) {
			P->heap[P->nheap] = k;
			heap_up(P, P->nheap++);
		}
	}
	P->ndirty = 0;
}
