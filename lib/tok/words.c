/*
 * words.c: words BPE: splitting text into words (tl_tok_word), the
 * words learner, and the learners fed in blocks (tl_learner) of both
 * kinds.
 *
 * The words learner counts the distinct words of the text in a hash
 * table (their bytes in one arena), then learns over the distinct
 * words weighted by their counts.  Each word becomes an array of ids
 * that shrinks as merges apply.  Every pair has a count (the sum over
 * the words of the word's count times the pair's occurrences in it)
 * and a list of the words it occurs in (a word may be listed twice, or
 * no longer hold the pair: both are checked on use).  The pairs that
 * may be merged and count 2 or more sit in a binary heap.  Merging
 * (A,B) into N visits only the words of its list: each loses the
 * counts of all its pairs, is rewritten, and gains those of its new
 * pairs.  A word can newly hold only pairs with N in them (other
 * adjacencies were there before), so only those lists grow, and a
 * merged pair never comes back (every later adjacency holds a newer
 * id), so every word holding a pair is on its list.
 */
#include <stdlib.h>
#include <string.h>

#include "learn.h"
#include "tok/tok.h"
#include "util/util.h"

#define NONE 0xffffffffu
#define CHUNK 65536		/* text split into words at a time */

enum { C_LET, C_DIG, C_OTH, C_SP, C_WS, C_NL };

static int
cls(unsigned c)
{
	if (c >= 0x80 || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z'))
		return C_LET;
	if (c >= '0' && c <= '9')
		return C_DIG;
	if (c == ' ')
		return C_SP;
	if (c == '\n' || c == '\r')
		return C_NL;
	if (c == '\t' || c == '\v' || c == '\f')
		return C_WS;
	return C_OTH;
}

size_t
tl_tok_word(const unsigned char *s, size_t n, int last)
{
	size_t i = 1;
	int c, k, white;

	if (n == 0)
		return 0;
	c = cls(s[0]);
	if (c == C_SP) {
		if (n == 1 && !last)
			return 0;
		if (n > 1 && cls(s[1]) <= C_OTH) {
			c = cls(s[1]);
			i = 2;
		}
	}
	white = c == C_SP || c == C_WS;
	for (; i < n && i < TL_TOK_WORDMAX; i++) {
		k = cls(s[i]);
		if (white ? k != C_SP && k != C_WS : k != c)
			break;
	}
	if (i == TL_TOK_WORDMAX)
		return i;
	if (i == n)
		return last ? n : 0;
	/* a space before a word belongs to it */
	if (white && i >= 2 && s[i - 1] == ' ' && cls(s[i]) <= C_OTH)
		i--;
	return i;
}

struct word {
	uint64_t count;
	uint32_t off;		/* bytes in the arena, then ids in sym */
	uint32_t len;
	uint32_t hash;
	uint32_t stamp;		/* merge that last visited the word */
};

/* Beside each pair (the pair set's extra record): the words holding
 * it, or that once did. */
struct occl {
	uint32_t *occ;
	uint32_t nocc, capocc;
};

#define OCC(L, k) (&((struct occl *)(L)->P.ext)[k])

struct tl_learner {
	uint32_t kind;
	/* exact: the whole text and where documents start */
	unsigned char *text;
	size_t n, cap;
	uint32_t *doc;
	size_t ndoc, capdoc;
	/* words, counting: the undecided end of the text so far, and the
	 * distinct words */
	unsigned char *buf;	/* TL_TOK_WORDMAX + CHUNK */
	size_t nbuf;
	unsigned char *arena;
	size_t alen, acap;
	struct word *w;
	uint32_t nw, capw;
	uint32_t *wtab;		/* word index + 1, 0 empty */
	uint32_t wmask;
	/* words, learning */
	uint16_t *sym;
	struct tl_pairs P;	/* zeroed until words_build */
};

static uint32_t
whash(const unsigned char *s, size_t n)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ s[i]) * 16777619u;
	return h;
}

static int
grow_wtab(tl_learner *L)
{
	uint32_t size = L->wtab ? 2 * (L->wmask + 1) : 65536, i, j;
	uint32_t *tab;

	if (size > 0x40000000u || (tab = calloc(size, sizeof(*tab))) == NULL)
		return -1;
	for (i = 0; i < L->nw; i++) {
		for (j = L->w[i].hash & (size - 1); tab[j];
		    j = (j + 1) & (size - 1))
			;
		tab[j] = i + 1;
	}
	free(L->wtab);
	L->wtab = tab;
	L->wmask = size - 1;
	return 0;
}

/* Grow *p (of *cap elements of size sz) to hold need elements. */
static int
grow(void *pp, size_t *cap, size_t need, size_t sz)
{
	void **p = pp;
	size_t c = *cap ? *cap : 16;
	void *q;

	while (c < need) {
		if (c > ((size_t)-1) / 2 / sz)
			return -1;
		c *= 2;
	}
	if (c == *cap)
		return 0;
	if ((q = realloc(*p, c * sz)) == NULL)
		return -1;
	*p = q;
	*cap = c;
	return 0;
}

/* One more occurrence of the word s[0..n). */
static int
count_word(tl_learner *L, const unsigned char *s, size_t n, char *err)
{
	uint32_t h = whash(s, n), j, k;
	struct word *w;
	size_t capw = L->capw;

	if ((L->wtab == NULL || 2 * (size_t)(L->nw + 1) > L->wmask + 1) &&
	    grow_wtab(L) != 0)
		return tl_err(err, "out of memory (%lu distinct words)",
		    (unsigned long)L->nw);
	for (j = h & L->wmask; (k = L->wtab[j]) != 0; j = (j + 1) & L->wmask) {
		w = &L->w[k - 1];
		if (w->hash == h && w->len == n &&
		    memcmp(L->arena + w->off, s, n) == 0) {
			w->count++;
			return 0;
		}
	}
	if (L->alen + n > NONE)
		return tl_err(err, "too many distinct words (%lu, %zu bytes)",
		    (unsigned long)L->nw, L->alen);
	if (grow(&L->w, &capw, (size_t)L->nw + 1, sizeof(*L->w)) != 0 ||
	    grow(&L->arena, &L->acap, L->alen + n, 1) != 0)
		return tl_err(err, "out of memory (%lu distinct words)",
		    (unsigned long)L->nw);
	L->capw = (uint32_t)capw;
	w = &L->w[L->nw];
	w->count = 1;
	w->off = (uint32_t)L->alen;
	w->stamp = 0;
	w->len = (uint32_t)n;
	w->hash = h;
	memcpy(L->arena + L->alen, s, n);
	L->alen += n;
	L->wtab[j] = ++L->nw;
	return 0;
}

/* Count the words of s[0..n) after those held back; at the end (last)
 * the words held back too. */
static int
words_feed(tl_learner *L, const unsigned char *s, size_t n, int last,
    char *err)
{
	size_t m, len, a, l;

	do {
		m = n < CHUNK ? n : CHUNK;
		if (m > 0) {	/* s may be NULL when n is 0 */
			memcpy(L->buf + L->nbuf, s, m);
			s += m;
			n -= m;
		}
		len = L->nbuf + m;
		for (a = 0; a < len; a += l) {
			l = tl_tok_word(L->buf + a, len - a, last && n == 0);
			if (l == 0)
				break;
			if (count_word(L, L->buf + a, l, err) != 0)
				return -1;
		}
		memmove(L->buf, L->buf + a, len - a);
		L->nbuf = len - a;
	} while (n > 0);
	return 0;
}

/* Word wi holds pair k (listed once when it is the last one added). */
static int
occ_push(tl_learner *L, uint32_t k, uint32_t wi)
{
	struct occl *p = OCC(L, k);
	size_t cap = p->capocc;

	if (p->nocc > 0 && p->occ[p->nocc - 1] == wi)
		return 0;
	if (p->nocc == NONE - 1 ||
	    grow(&p->occ, &cap, (size_t)p->nocc + 1, sizeof(*p->occ)) != 0)
		return -1;
	p->capocc = (uint32_t)cap;
	p->occ[p->nocc++] = wi;
	return 0;
}

/* Count the pairs of word wi, which they all list. */
static int
word_pairs(tl_learner *L, uint32_t wi)
{
	const struct word *w = &L->w[wi];
	const uint16_t *s = L->sym + w->off;
	uint32_t i, k;

	for (i = 0; i + 1 < w->len; i++) {
		if ((k = tl_pairs_get(&L->P, s[i], s[i + 1])) == NONE)
			return -1;
		tl_pairs_touch(&L->P, k);
		L->P.pr[k].count += w->count;
		if (occ_push(L, k, wi) != 0)
			return -1;
	}
	return 0;
}

/* Add d times the count of word wi to pair (l, r); a pair holding nid
 * (which is new in the word) lists the word. */
static int
pair_add(tl_learner *L, uint32_t l, uint32_t r, uint32_t wi, int d,
    uint32_t nid)
{
	uint32_t k;

	if ((k = tl_pairs_get(&L->P, l, r)) == NONE)
		return -1;
	tl_pairs_touch(&L->P, k);
	if (d < 0)
		L->P.pr[k].count -= L->w[wi].count;
	else
		L->P.pr[k].count += L->w[wi].count;
	if ((l == nid || r == nid) && occ_push(L, k, wi) != 0)
		return -1;
	return 0;
}

/*
 * Replace (a, b) by nid in word wi, left to right without overlap,
 * changing only the counts of the pairs around each occurrence: with
 * x the id now before it (nid if the occurrence just before was
 * replaced) and y the one after, (x,a) (a,b) (b,y) lose the word's
 * count and (x,nid) (nid,y) gain it.  When y begins the next
 * occurrence, that one takes (nid,a) back as its (x,a).
 */
static int
merge_word(tl_learner *L, uint32_t wi, uint32_t a, uint32_t b, uint32_t nid)
{
	struct word *w = &L->w[wi];
	uint16_t *s = L->sym + w->off;
	uint32_t n = w->len, i, j;
	int rc = 0;

	for (i = j = 0; i < n;) {
		if (i + 1 < n && s[i] == a && s[i + 1] == b) {
			if (j > 0)
				rc |= pair_add(L, s[j - 1], a, wi, -1, nid) |
				    pair_add(L, s[j - 1], nid, wi, 1, nid);
			if (i + 2 < n)
				rc |= pair_add(L, b, s[i + 2], wi, -1, nid) |
				    pair_add(L, nid, s[i + 2], wi, 1, nid);
			rc |= pair_add(L, a, b, wi, -1, nid);
			s[j++] = (uint16_t)nid;
			i += 2;
		} else
			s[j++] = s[i++];
	}
	w->len = j;
	return rc;
}

/* The distinct words as ids, their pairs counted and in the heap. */
static int
words_build(tl_learner *L)
{
	uint32_t i;
	size_t j;

	L->sym = malloc((L->alen ? L->alen : 1) * sizeof(*L->sym));
	if (tl_pairs_init(&L->P, sizeof(struct occl)) != 0 || L->sym == NULL)
		return -1;
	for (j = 0; j < L->alen; j++)
		L->sym[j] = L->arena[j];
	free(L->arena);
	free(L->wtab);
	L->arena = NULL;
	L->wtab = NULL;
	for (i = 0; i < L->nw; i++)
		if (word_pairs(L, i) != 0)
			return -1;
	tl_pairs_settle(&L->P);
	return 0;
}

/* Up to vocab - 256 merges into merges[], *nm of them. */
static int
words_learn(tl_learner *L, uint32_t vocab, uint32_t *merges, uint32_t *nm)
{
	uint32_t best, a, b, nid, *occ, nocc, i, wi;
	struct occl *p;

	for (*nm = 0; 256 + *nm < vocab && L->P.nheap > 0; ++*nm) {
		best = L->P.heap[0];
		a = merges[2 * *nm] = L->P.pr[best].l;
		b = merges[2 * *nm + 1] = L->P.pr[best].r;
		nid = 256 + *nm;
		L->P.len[nid] = L->P.len[a] + L->P.len[b];
		p = OCC(L, best);
		if (nid + 1 == vocab) {
			++*nm;	/* the last merge need not be carried out */
			break;
		}
		/* Only pairs holding nid gain words, so the list is ours. */
		occ = p->occ;
		nocc = p->nocc;
		p->occ = NULL;
		p->nocc = p->capocc = 0;
		for (i = 0; i < nocc; i++) {
			wi = occ[i];
			if (L->w[wi].stamp == nid)
				continue;
			L->w[wi].stamp = nid;
			if (merge_word(L, wi, a, b, nid) != 0) {
				free(occ);
				return -1;
			}
		}
		free(occ);
		tl_pairs_settle(&L->P);
	}
	return 0;
}

tl_learner *
tl_learner_new(uint32_t kind, char *err)
{
	tl_learner *L;

	if (kind != TL_TOK_BPE && kind != TL_TOK_WORDS) {
		tl_err(err, "no learner of tokenizer kind %lu",
		    (unsigned long)kind);
		return NULL;
	}
	if ((L = calloc(1, sizeof(*L))) == NULL ||
	    (kind == TL_TOK_WORDS &&
	    (L->buf = malloc(TL_TOK_WORDMAX + CHUNK)) == NULL)) {
		free(L);
		tl_err(err, "out of memory");
		return NULL;
	}
	L->kind = kind;
	return L;
}

int
tl_learner_feed(tl_learner *L, const unsigned char *text, size_t n,
    char *err)
{
	if (L->kind == TL_TOK_WORDS)
		return words_feed(L, text, n, 0, err);
	if (n > 0x7fffffff - L->n)
		return tl_err(err, "text too long to learn from by the exact "
		    "rule (max 2 GiB; see --sample)");
	if (grow(&L->text, &L->cap, L->n + n, 1) != 0)
		return tl_err(err, "out of memory (%zu bytes of text)",
		    L->n + n);
	if (n > 0)
		memcpy(L->text + L->n, text, n);
	L->n += n;
	return 0;
}

int
tl_learner_doc(tl_learner *L, char *err)
{
	if (L->kind == TL_TOK_WORDS)
		return words_feed(L, NULL, 0, 1, err);
	if (L->n == 0 || (L->ndoc > 0 && L->doc[L->ndoc - 1] == L->n))
		return 0;
	if (grow(&L->doc, &L->capdoc, L->ndoc + 1, sizeof(*L->doc)) != 0)
		return tl_err(err, "out of memory");
	L->doc[L->ndoc++] = (uint32_t)L->n;
	return 0;
}

/* The exact rule over the text held, cut at the documents' starts. */
static int
exact_finish(tl_learner *L, uint32_t vocab, tl_tok *t, char *err)
{
	unsigned char *cut = NULL;
	size_t i;
	int rc;

	if (L->ndoc > 0) {
		if ((cut = calloc(L->n / 8 + 1, 1)) == NULL)
			return tl_err(err, "out of memory");
		for (i = 0; i < L->ndoc; i++)
			cut[L->doc[i] >> 3] |= 1 << (L->doc[i] & 7);
	}
	rc = tl_tok_learn_cut(t, L->text, L->n, cut, vocab, err);
	free(cut);
	return rc;
}

int
tl_learner_finish(tl_learner *L, uint32_t vocab, tl_tok *t, char *err)
{
	uint32_t *merges, nm;
	int rc;

	memset(t, 0, sizeof(*t));
	if (vocab < 256 || vocab > TL_MAX_VOCAB)
		return tl_err(err, "vocabulary size %lu out of range [256, %d]",
		    (unsigned long)vocab, TL_MAX_VOCAB);
	if (L->kind == TL_TOK_BPE)
		return exact_finish(L, vocab, t, err);
	if (words_feed(L, NULL, 0, 1, err) != 0)
		return -1;
	merges = malloc(2 * (size_t)(vocab - 256 + 1) * sizeof(*merges));
	if (merges == NULL || words_build(L) != 0 ||
	    words_learn(L, vocab, merges, &nm) != 0) {
		free(merges);
		return tl_err(err, "out of memory (%lu distinct words)",
		    (unsigned long)L->nw);
	}
	rc = tl_tok_from_kind(t, TL_TOK_WORDS, merges, nm, err);
	free(merges);
	return rc;
}

void
tl_learner_free(tl_learner *L)
{
	uint32_t i;

	if (L == NULL)
		return;
	for (i = 0; i < L->P.npr; i++)
		free(OCC(L, i)->occ);
	tl_pairs_free(&L->P);
	free(L->text);
	free(L->doc);
	free(L->buf);
	free(L->arena);
	free(L->w);
	free(L->wtab);
	free(L->sym);
	free(L);
}
