/*
 * stream.h: the token stream format (tl-tokens(5)): a header with the
 * tokenizer blob, then checksummed chunks of 16-bit token ids, then an
 * end chunk.  It is written and read front to back, so it works
 * through a pipe.  Also vocabulary files (tl-vocab(5)), which hold a
 * tokenizer alone, and a loader for the tokenizer held in any file.
 */
#ifndef TL_STREAM_H
#define TL_STREAM_H

#include <stdio.h>
#include <stdint.h>

#include "tokenizer.h"

#define TL_STREAM_MAGIC "TLTS"
#define TL_STREAM_VERSION 1
#define TL_STREAM_CHUNK_MAX 65536	/* ids in one chunk, at most */
#define TL_STREAM_CHUNK 16384		/* ids per chunk written here */
#define TL_VOCAB_MAGIC "TLVO"
#define TL_VOCAB_VERSION 1

/* Writing: begin (header), put ids any number of times, end. */
typedef struct tl_swriter tl_swriter;
tl_swriter *tl_swriter_new(FILE *f, const tl_tok *tok, char *err);
int tl_swriter_put(tl_swriter *w, const uint16_t *ids, size_t n, char *err);
/* Writes the end chunk and frees w (also on error). */
int tl_swriter_end(tl_swriter *w, char *err);

/* Reading chunk by chunk in bounded memory.  name is used in
 * messages ("name: truncated stream"). */
typedef struct tl_sreader tl_sreader;
tl_sreader *tl_sreader_new(FILE *f, const char *name, char *err);
const tl_tok *tl_sreader_tok(const tl_sreader *r);
/* Next chunk of ids (valid until the next call): returns the count,
 * 0 at the end chunk, -1 on error. */
long tl_sreader_next(tl_sreader *r, const uint16_t **ids, char *err);
void tl_sreader_free(tl_sreader *r);

/* Read a whole stream into memory: *ids malloc'd, *tok filled (the
 * caller frees both). */
int tl_stream_load(FILE *f, const char *name, tl_tok *tok, uint16_t **ids,
    size_t *n, char *err);

/* Vocabulary files: a header like a stream's, without chunks. */
int tl_vocab_write(FILE *f, const tl_tok *tok, char *err);
int tl_vocab_read(FILE *f, const char *name, tl_tok *tok, char *err);

/* The tokenizer in the header of the token stream at the start of f
 * (name is for messages); mfile.h finds which kind a file is. */
int tl_stream_tok(FILE *f, const char *name, tl_tok *tok, char *err);

#endif
