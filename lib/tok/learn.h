/*
 * learn.h: inside lib/tok: what the two BPE learners share (pairs.c:
 * the set of adjacent pairs, with their counts, a hash table and the
 * heap of candidates for the next merge), and the exact learner of
 * bpe.c with documents, for the tl_learner of words.c.
 */
#ifndef TL_LEARN_H
#define TL_LEARN_H

#include <stddef.h>
#include <stdint.h>

#include "tok/tok.h"

#define TL_PAIR_NONE 0xffffffffu

struct tl_pair {
	uint64_t count;		/* occurrences (words: weighted by counts) */
	uint32_t l, r;		/* left and right id */
	uint32_t first;		/* exact: the first occurrence; words: 0 */
	uint32_t hpos;		/* place in the heap, TL_PAIR_NONE if out */
	unsigned char dirty;	/* touched by the current merge */
	unsigned char banned;	/* token would be too long */
};

/*
 * The pairs: pr[0..npr) with room for cap, and beside each an extra
 * record of extsz bytes (ext, zeroed when a pair is made) that the
 * learner owns.  The heap holds the pairs that count 2 or more and may
 * be merged, best first: the higher count, then the smaller first,
 * then the smaller left and right ids.  A pair about to change is
 * touched: it leaves the heap until settle puts the touched ones back.
 */
struct tl_pairs {
	struct tl_pair *pr;
	uint32_t npr, cap;
	unsigned char *ext;
	size_t extsz;
	uint32_t *tab;		/* pair index + 1, 0 empty */
	uint32_t tmask;
	uint32_t *heap, nheap;
	uint32_t *dirty, ndirty;
	uint32_t len[TL_MAX_VOCAB];	/* bytes of each id */
};

/* Room for the first pairs; len of the bytes 1, of the rest 0.  -1 if
 * out of memory (free with tl_pairs_free all the same). */
int tl_pairs_init(struct tl_pairs *P, size_t extsz);
void tl_pairs_free(struct tl_pairs *P);
/* The index of pair (l, r), made if new; TL_PAIR_NONE if out of
 * memory.  It may move pr and ext. */
uint32_t tl_pairs_get(struct tl_pairs *P, uint32_t l, uint32_t r);
void tl_pairs_touch(struct tl_pairs *P, uint32_t k);
void tl_pairs_settle(struct tl_pairs *P);

/* tl_tok_learn, except that no pair spans position i-1, i where bit i
 * of cut (bit i & 7 of byte i >> 3) is set; cut may be NULL. */
int tl_tok_learn_cut(tl_tok *t, const unsigned char *text, size_t n,
    const unsigned char *cut, uint32_t vocab, char *err);

#endif
