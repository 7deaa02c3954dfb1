/*
 * tokenizer.h: the byte-level tokenizer (256 ids, one per byte) and
 * learned byte-level BPE vocabularies, and their serialized form (the
 * "tokenizer blob") that token streams, checkpoints and packed models
 * carry so that each can decode text alone.  Two tokenizers are the
 * same tokenizer exactly when their blobs are byte-identical.
 */
#ifndef TL_TOKENIZER_H
#define TL_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

#define TL_TOK_BYTES 0
#define TL_TOK_BPE 1
#define TL_MAX_VOCAB 65536	/* ids fit in 16 bits */

typedef struct {
	uint32_t kind;		/* TL_TOK_BYTES or TL_TOK_BPE */
	uint32_t vocab;		/* number of ids: 256 + merges */
	uint32_t *merges;	/* (vocab-256) x 2: left, right id of merge i
				 * (new id 256 + i); NULL for bytes */
	/* derived for decoding: bytes of each id */
	uint32_t *off;		/* (vocab+1) offsets into bytes */
	unsigned char *bytes;
	void *enc;		/* private encoder state */
} tl_tok;

/* The byte-level tokenizer. */
int tl_tok_bytes(tl_tok *t, char *err);
void tl_tok_free(tl_tok *t);

/* Blob: tl_tok_blob_size() bytes written by tl_tok_blob_put(); parsed
 * (and fully validated) from exactly len bytes by tl_tok_blob_get(). */
size_t tl_tok_blob_size(const tl_tok *t);
void tl_tok_blob_put(const tl_tok *t, unsigned char *p);
int tl_tok_blob_get(tl_tok *t, const unsigned char *p, size_t len, char *err);
int tl_tok_equal(const tl_tok *a, const tl_tok *b);

/* The bytes of token id (id < vocab). */
const unsigned char *tl_tok_piece(const tl_tok *t, uint32_t id, size_t *len);

/* Encode a whole text of n bytes (prompts, small inputs): *out is
 * malloc'd and holds *nout ids. */
int tl_tok_encode(const tl_tok *t, const unsigned char *text, size_t n,
    uint16_t **out, size_t *nout, char *err);

#endif
