/*
 * tok.h: tokenizers: bytes and BPE, their pieces, encoding and
 * decoding, and the tokenizer blob of the file formats.  Reaches only
 * util.
 */
#ifndef TL_TOK_H
#define TL_TOK_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "util/util.h"

/*
 * tok.h: the byte-level tokenizer (256 ids, one per byte) and
 * learned byte-level BPE vocabularies, and their serialized form (the
 * "tokenizer blob") that token streams, checkpoints and packed models
 * carry so that each can decode text alone.  Two tokenizers are the
 * same tokenizer exactly when their blobs are byte-identical.
 *
 * BPE (tl-tokenize(1) gives the full definition): ids 0-255 are the
 * bytes; id 256 + i is merge i, the concatenation of two earlier ids.
 * Encoding applies the merges in order (lowest new id first), each
 * replacing the occurrences of its pair left to right without overlap.
 *
 * Words BPE (TL_TOK_WORDS) has the same ids, merges and blob, but the
 * text is first split into words (tl_tok_word) and the merges apply
 * within each word alone: no token spans two words.
 */


#define TL_TOK_BYTES 0
#define TL_TOK_BPE 1
#define TL_TOK_WORDS 2
/* Flags in the upper bits of the blob's kind field (the low 8 bits are
 * the kind): TL_TOK_EOT, the vocabulary's last id is the end-of-text
 * token. */
#define TL_TOK_KINDMASK 0xffu
#define TL_TOK_EOT 0x100u
#define TL_MAX_VOCAB 65536	/* ids fit in 16 bits */
#define TL_TOK_MAXPIECE 256	/* longest token, in bytes */
/* Largest blob: kind, vocab, and two u32 per merge. */
#define TL_TOK_BLOB_MAX (8 + 8 * (TL_MAX_VOCAB - 256))

typedef struct {
	uint32_t kind;		/* TL_TOK_BYTES, TL_TOK_BPE or TL_TOK_WORDS */
	uint32_t vocab;		/* number of ids: 256 + merges (+ 1 EOT) */
	uint32_t flags;		/* 0 or TL_TOK_EOT */
	uint32_t *merges;	/* merges x 2: left, right id of merge i
				 * (new id 256 + i); NULL for bytes */
	/* derived for decoding: bytes of each id */
	uint32_t *off;		/* (vocab+1) offsets into bytes */
	unsigned char *bytes;
	void *enc;		/* private encoder state */
} tl_tok;

/* The byte-level tokenizer. */
int tl_tok_bytes(tl_tok *t, char *err);
void tl_tok_free(tl_tok *t);
/* The bytes t holds: its merges, pieces and encoder tables. */
size_t tl_tok_mem(const tl_tok *t);
/* A BPE tokenizer from nmerges merges (left, right pairs), validated
 * as tl_tok_blob_get does; nmerges == 0 gives the byte tokenizer. */
int tl_tok_from_merges(tl_tok *t, const uint32_t *merges, size_t nmerges,
    char *err);
/* The same for a tokenizer of the given kind (TL_TOK_BPE or
 * TL_TOK_WORDS). */
int tl_tok_from_kind(tl_tok *t, uint32_t kind, const uint32_t *merges,
    size_t nmerges, char *err);
/* dst becomes an independent copy of src. */
int tl_tok_copy(tl_tok *dst, const tl_tok *src, char *err);

/* Blob: tl_tok_blob_size() bytes written by tl_tok_blob_put(); parsed
 * (and fully validated) from exactly len bytes by tl_tok_blob_get(). */
size_t tl_tok_blob_size(const tl_tok *t);
void tl_tok_blob_put(const tl_tok *t, unsigned char *p);
int tl_tok_blob_get(tl_tok *t, const unsigned char *p, size_t len, char *err);
int tl_tok_equal(const tl_tok *a, const tl_tok *b);

/*
 * The end-of-text token (EOT), when the tokenizer has one, is its last
 * id, vocab - 1, after the merges.  It stands for no text: its piece is
 * empty, and encoding never produces it; tl-tokenize puts it after each
 * document.
 */
/* Its id, or -1. */
int tl_tok_eot(const tl_tok *t);
/* Give t an EOT (a new last id); error if it has one or is full. */
int tl_tok_add_eot(tl_tok *t, char *err);
/* The number of merges (0 for bytes). */
uint32_t tl_tok_nmerges(const tl_tok *t);

/* The bytes of token id (id < vocab); none for the EOT. */
const unsigned char *tl_tok_piece(const tl_tok *t, uint32_t id, size_t *len);

/* Encode a whole text of n bytes (prompts, small inputs): *out is
 * malloc'd and holds *nout ids. */
int tl_tok_encode(const tl_tok *t, const unsigned char *text, size_t n,
    uint16_t **out, size_t *nout, char *err);

/*
 * Streaming encoder: the text arrives in blocks of any size and the
 * ids come out as they become final, identical to tl_tok_encode() of
 * the whole text.  Text is cut only between two bytes that no token
 * of the vocabulary holds side by side (no merge can ever join them);
 * if no such place occurs in TL_TOK_CARRY_MAX bytes, the encoder cuts
 * at a token boundary TL_TOK_CARRY_KEEP bytes before the end of what
 * it holds (still lossless, but the ids may then differ from a
 * whole-text encoding).  Memory stays below about 40 bytes per byte of
 * TL_TOK_CARRY_MAX plus the block size.  Words BPE cuts where a word
 * surely ends (tl_tok_word), so its ids always equal the whole-text
 * encoding and the carry limits do not apply to it.
 */
#define TL_TOK_CARRY_MAX (1 << 20)
#define TL_TOK_CARRY_KEEP (1 << 16)
typedef struct tl_tokenc tl_tokenc;
tl_tokenc *tl_tokenc_new(const tl_tok *t, char *err);
/* Add n bytes of text (last != 0 on the final call, n may be 0).
 * *ids (valid until the next call) and *nids get the ids now final. */
int tl_tokenc_feed(tl_tokenc *e, const unsigned char *text, size_t n,
    int last, const uint16_t **ids, size_t *nids, char *err);
void tl_tokenc_free(tl_tokenc *e);
/* BPE-dropout from now on: each merge that could be made is skipped
 * with probability p (rounded to a multiple of 1/65536), so that the
 * same text comes out in other, longer segmentations; p 0 turns it
 * off.  The draws of each piece of text come from seed and the
 * piece's offset in the text: the same seed and text give the same
 * ids, in blocks of any size.  -1 for a byte tokenizer or a p out of
 * [0, 1). */
int tl_tokenc_dropout(tl_tokenc *e, float p, uint64_t seed, char *err);
/* For tests: lower the carry limits (max > keep > 0). */
void tl_tokenc_limits(tl_tokenc *e, size_t max, size_t keep);

/*
 * Words (tl-tokenize(1)): the length of the first word of s[0..n), or 0
 * when more text is needed to tell (never if last != 0 and n > 0).
 * Bytes are letters (A-Z, a-z and every byte >= 0x80, so that UTF-8
 * stays whole), digits, spaces (' '), other white space (tab, vertical
 * tab, form feed), newlines ('\n', '\r') or other bytes.  A word is a
 * run of letters, of digits or of other bytes, with at most one space
 * before it; a run of newlines; or a run of white space (spaces and
 * other white space) less its last space when that space begins the
 * next word.  A word is cut after TL_TOK_WORDMAX bytes.
 */
#define TL_TOK_WORDMAX 64
size_t tl_tok_word(const unsigned char *s, size_t n, int last);

/*
 * Learn a BPE vocabulary of at most vocab ids (256..TL_MAX_VOCAB) from
 * n bytes of text.  Each step merges the adjacent pair occurring most
 * often in the current sequence (overlapping occurrences count), ties
 * going to the pair whose first occurrence comes earliest; a pair whose
 * token would exceed TL_TOK_MAXPIECE bytes is never merged.  Learning
 * stops early when no pair occurs twice.  With no merge at all, *t is
 * the byte tokenizer.
 */
int tl_tok_learn(tl_tok *t, const unsigned char *text, size_t n,
    uint32_t vocab, char *err);
/* Merges done go to p (tl_progress_update) while tl_tok_learn runs;
 * NULL for none.  For the programs: one learner at a time. */
void tl_tok_learn_progress(tl_progress *p);

/*
 * Learners fed text in blocks of any size, with documents.
 *
 * TL_TOK_BPE: the exact rule of tl_tok_learn over the whole text (held
 * in memory, at most 2 GiB), except that no pair spans the end of a
 * document: there the sequence is cut.
 *
 * TL_TOK_WORDS (words.c): the text is split into words (tl_tok_word; a
 * document's end also ends a word), the distinct words are counted
 * once, and each step merges the pair with the highest count over the
 * distinct words weighted by their counts, occurrences within a word
 * counted as the exact rule counts them, ties going to the pair with
 * the smaller left id, then the smaller right id; occurrences are
 * replaced left to right without overlap in every word.  A pair whose
 * token would exceed TL_TOK_MAXPIECE bytes is never merged, and
 * learning stops when no pair has a count of 2 or more.  Memory grows
 * with the distinct words, not with the text.
 *
 * tl_learner_finish learns at most vocab ids (256..TL_MAX_VOCAB) into
 * *t (the byte tokenizer if there is no merge); after it only
 * tl_learner_free may be called.
 */
typedef struct tl_learner tl_learner;
tl_learner *tl_learner_new(uint32_t kind, char *err);
int tl_learner_feed(tl_learner *l, const unsigned char *text, size_t n,
    char *err);
/* A document ends here: no merge crosses this place. */
int tl_learner_doc(tl_learner *l, char *err);
int tl_learner_finish(tl_learner *l, uint32_t vocab, tl_tok *t,
    char *err);
void tl_learner_free(tl_learner *l);

/* ======== docs.c ======== */

/*
 * docs.c: documents in text files (tl-tokenize(1) gives the rules):
 * TL_DOCS_TEXT, the whole input one document; TL_DOCS_SEP, documents
 * separated by the string arg; TL_DOCS_JSONL, JSON Lines, each line an
 * object whose string member arg is the document; TL_DOCS_CSV, RFC 4180
 * CSV whose column arg (a header name or a 1-based number) is the
 * document.  Reading streams in bounded memory: about 130 KiB and
 * TL_DOCS_DEPTH bytes, whatever the length of a line or document.
 */
enum { TL_DOCS_TEXT, TL_DOCS_SEP, TL_DOCS_JSONL, TL_DOCS_CSV };
#define TL_DOCS_DEPTH 512	/* JSON values nested deeper are refused */

typedef struct {
	int kind;		/* TL_DOCS_* */
	const char *arg;	/* separator, key or column; not empty */
} tl_docfmt;

/* Called with each piece of a document's text (n > 0) as it is
 * decoded, and with p == NULL at the end of each document; nonzero
 * stops reading (with a message in err). */
typedef int (*tl_docs_fn)(void *ctx, const unsigned char *p, size_t n,
    char *err);
/* Read the documents of f (name in messages: "name:line: problem"). */
int tl_docs_read(FILE *f, const char *name, const tl_docfmt *fmt,
    tl_docs_fn fn, void *ctx, char *err);

/* Writing documents in a format: JSON Lines one {"arg":"..."} line each,
 * CSV a header line (arg) and one quoted field per row, SEP arg between
 * them (and after an empty last one), TEXT as they are.  JSON Lines and CSV refuse a
 * document that is not UTF-8. */
typedef struct {
	FILE *f;
	const tl_docfmt *fmt;
	int open, header, need;
	int any, pend;		/* SEP: the document has text; a
				 * separator is due before the next */
	int lo, hi;
	unsigned long long ndoc;
} tl_docw;
void tl_docw_init(tl_docw *w, FILE *f, const tl_docfmt *fmt);
void tl_docw_header(tl_docw *w);	/* CSV's, if not yet written */
int tl_docw_put(tl_docw *w, const unsigned char *p, size_t n, char *err);
int tl_docw_end(tl_docw *w, char *err);	/* a document ends */
int tl_docw_finish(tl_docw *w, char *err);	/* the text ends */

#endif
