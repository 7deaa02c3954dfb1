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
 *
 * Documents (tl_learner): a bitmap marks the positions where a document
 * starts; no pair is formed across one, as if the sequence were cut
 * there.
 */
#include <stdlib.h>
#include <string.h>

#include "learn.h"
#include "tok/tok.h"
#include "util/util.h"

#define NONE TL_PAIR_NONE

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

/* The pairs (learn.h), first their first occurrence, each with its
 * last one beside it (the pair set's extra record, TAIL). */
struct learn {
	struct pos *s;		/* n */
	struct tl_pairs P;
	uint32_t bp[65536];	/* pair of bytes (x << 8 | y) -> index */
};

#define TAIL(L, k) (((uint32_t *)(L)->P.ext)[k])

/* Append the occurrence at pos (the greatest so far) to pair k. */
static void
occ_add(struct learn *L, uint32_t k, uint32_t pos)
{
	struct tl_pair *p = &L->P.pr[k];

	tl_pairs_touch(&L->P, k);
	L->s[pos].opv = p->count ? TAIL(L, k) : NONE;
	L->s[pos].onx = NONE;
	if (p->count)
		L->s[TAIL(L, k)].onx = pos;
	else
		p->first = pos;
	TAIL(L, k) = pos;
	p->count++;
	L->s[pos].pid = k;
}

static void
occ_del(struct learn *L, uint32_t pos)
{
	struct pos *x = &L->s[pos];
	uint32_t k = x->pid;
	struct tl_pair *p = &L->P.pr[k];

	tl_pairs_touch(&L->P, k);
	if (x->opv != NONE)
		L->s[x->opv].onx = x->onx;
	else
		p->first = x->onx;
	if (x->onx != NONE)
		L->s[x->onx].opv = x->opv;
	else
		TAIL(L, k) = x->opv;
	p->count--;
	x->pid = NONE;
}

static void
learn_free(struct learn *L)
{
	free(L->s);
	tl_pairs_free(&L->P);
	free(L);
}

/* The programs' progress line for learning (tl_tok_learn_progress). */
static tl_progress *learn_prog;

void
tl_tok_learn_progress(tl_progress *p)
{
	learn_prog = p;
}

int
tl_tok_learn(tl_tok *t, const unsigned char *text, size_t n, uint32_t vocab,
    char *err)
{
	return tl_tok_learn_cut(t, text, n, NULL, vocab, err);
}

/* Is there a document start at i (no pair between i-1 and i)? */
#define CUT(cut, i) ((cut) != NULL && ((cut)[(i) >> 3] >> ((i) & 7) & 1))

int
tl_tok_learn_cut(tl_tok *t, const unsigned char *text, size_t n,
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
	if (!L->s || !merges || tl_pairs_init(&L->P, sizeof(uint32_t)) != 0)
		goto oom;

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
			k = tl_pairs_get(&L->P, text[i], text[i + 1]);
			if (k == NONE)
				goto oom;
			L->bp[text[i] << 8 | text[i + 1]] = k;
		}
		occ_add(L, k, i);
	}
	tl_pairs_settle(&L->P);

	for (nm = 0; 256 + nm < vocab && L->P.nheap > 0; nm++) {
		uint32_t best = L->P.heap[0], *len = L->P.len;

		nid = 256 + nm;
		merges[2 * nm] = L->P.pr[best].l;
		merges[2 * nm + 1] = L->P.pr[best].r;
		len[nid] = len[merges[2 * nm]] + len[merges[2 * nm + 1]];
		if (nid + 1 == vocab) {
			nm++;	/* the last merge need not be carried out */
			break;
		}
		/* Always take the head: it is the leftmost occurrence left,
		 * and an overlapped one is deleted as (B,R) below. */
		while ((p = L->P.pr[best].first) != NONE) {
			q = p + len[L->s[p].id];
			r = q + len[L->s[q].id];
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
				if ((k = tl_pairs_get(&L->P, L->s[l].id, nid)) ==
				    NONE)
					goto oom;
				occ_add(L, k, l);
			}
			if (r != NONE) {
				if ((k = tl_pairs_get(&L->P, nid, L->s[r].id)) ==
				    NONE)
					goto oom;
				occ_add(L, k, p);
			}
		}
		tl_pairs_settle(&L->P);
		if (learn_prog)
			tl_progress_update(learn_prog, nm + 1);
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
