/*
 * mfile.h: what kind of file this is (by its magic), and from any kind
 * only what a program needs: the tokenizer of a checkpoint, packed
 * model, token stream or vocabulary file; a model for inference from a
 * checkpoint (its weights, never its optimizer moments) or a packed
 * model (mapped in place).
 */
#ifndef TL_MFILE_H
#define TL_MFILE_H

#include "packed.h"
#include "tokenizer.h"

enum { TL_FILE_OTHER, TL_FILE_CKPT, TL_FILE_PACKED, TL_FILE_STREAM,
	TL_FILE_VOCAB };

/* The kind of the regular file at path, or -1 with a message when it
 * cannot be read. */
int tl_file_kind(const char *path, char *err);

/* The tokenizer held in any of those files (tl-tokenize -v, tl-init
 * -v); errors name the file. */
int tl_vocab_load(tl_tok *t, const char *path, char *err);

/* A model to run: a checkpoint or a packed model.  params are a
 * checkpoint's weights, for the batched pass of tl-eval (NULL for a
 * packed model). */
typedef struct {
	const tl_config *cfg;
	const tl_tok *tok;
	const float *params;
	const tl_qmodel *q;	/* tl_mfile_qmodel */
	tl_packed *pk;		/* a packed model, or NULL */
	void *ck;		/* a checkpoint (ckpt.h), or NULL */
	tl_qmodel cq;		/* a checkpoint's quantized model */
} tl_mfile;

/* Open either kind; errors as their readers give them, "bad magic (not
 * a tl checkpoint or packed model)" for other files. */
int tl_mfile_open(tl_mfile *f, const char *path, char *err);
void tl_mfile_close(tl_mfile *f);
/* The model for inference: a packed model's, or a checkpoint's linear
 * layers quantized as it trained (tl_qmodel_native) on the first call. */
const tl_qmodel *tl_mfile_qmodel(tl_mfile *f, char *err);

#endif
