/*
 * packed.h: packed inference models (tl-packed(5)): a quantized model
 * (qmat.h) and its tokenizer as one file, mapped into memory and used
 * in place.
 */
#ifndef TL_PACKED_H
#define TL_PACKED_H

#include "qmat.h"
#include "tokenizer.h"

#define TL_PACK_VERSION 1
#define TL_PACK_MAGIC "tl-pack\n"	/* 8 bytes */

typedef struct tl_packed tl_packed;

/* Open flags: read the file into memory even where it could be mapped. */
#define TL_PACKED_READ 1

/* Open and check a packed model (every check of tl-packed(5)).  The
 * file is mapped into memory where the system allows, read otherwise. */
tl_packed *tl_packed_open(const char *path, int flags, char *err);
void tl_packed_close(tl_packed *pk);

/* The model, in the file's memory; its tokenizer; mapped or read. */
const tl_qmodel *tl_packed_model(const tl_packed *pk);
const tl_tok *tl_packed_tok(const tl_packed *pk);
int tl_packed_mapped(const tl_packed *pk);
/* Sizes of the linear layers (tl_qmodel_stats) and of the file. */
void tl_packed_stats(const tl_packed *pk, tl_packstats *st);

/* Write q and tok as a packed model, atomically (util.h: tl_afile).
 * st may be NULL. */
int tl_packed_write(const char *path, const tl_qmodel *q, const tl_tok *tok,
    tl_packstats *st, char *err);

#endif
