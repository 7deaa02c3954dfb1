/*
 * formats.h: the files: checkpoints (ckpt.c), packed models
 * (packed.c), token streams and vocabulary files (stream.c), and what
 * kind a file is (mfile.c).  The top layer of lib/.
 */
#ifndef TL_FORMATS_H
#define TL_FORMATS_H

#include <stdint.h>
#include <stdio.h>

#include "model/model.h"
#include "tok/tok.h"
#include "train/train.h"
#include "util/util.h"

/* ======== ckpt.c ======== */

/*
 * ckpt.c: training checkpoints (tl-checkpoint(5)): configuration,
 * tokenizer, and a model in training (train.h: hyperparameters,
 * training state, latent weights and the AdamW moments), enough to
 * resume bit for bit.  The checkpoint serialises these; what they mean
 * and their defaults belong to training.  Saved atomically:
 * written to a temporary file beside the target, flushed to disk, and
 * renamed over it.
 */

#define TL_CKPT_VERSION 3	/* reads 1 (no schedule field) and 2 (no
				 * dropout and distill fields) too */
#define TL_CKPT_MAGIC "tl-ckpt\n"	/* 8 bytes */

typedef struct {
	tl_config cfg;
	tl_tok tok;
	tl_hparams hp;
	tl_tstate st;
	float *params, *m, *v;	/* tl_nparams(&cfg) floats each */
} tl_ckpt;

/* A fresh model: weights initialised from seed, which is the data
 * seed too (tl_train_seed), default hyperparameters, zero moments,
 * step 0; tok is copied. */
int tl_ckpt_create(tl_ckpt *ck, const tl_config *c, const tl_tok *tok,
    uint64_t seed, char *err);
/* Read a checkpoint: what it holds (TL_CKPT_ALL), or without the
 * optimizer moments (TL_CKPT_WEIGHTS: m and v NULL), or without any
 * array (TL_CKPT_META: configuration, tokenizer, hyperparameters and
 * state).  Every check of tl-checkpoint(5) is made whatever is kept:
 * the arrays not kept are read through for the checksum. */
enum { TL_CKPT_ALL, TL_CKPT_WEIGHTS, TL_CKPT_META };
int tl_ckpt_load(tl_ckpt *ck, const char *path, int what, char *err);
int tl_ckpt_save(const tl_ckpt *ck, const char *path, char *err);
/* The model in training that ck holds, for the trainer. */
tl_tmodel tl_ckpt_tmodel(tl_ckpt *ck);
void tl_ckpt_free(tl_ckpt *ck);

/* ======== packed.c ======== */

/*
 * packed.c: packed inference models (tl-packed(5)): a quantized model
 * (model.h: quant.c) and its tokenizer as one file, mapped into memory and used
 * in place.
 */

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

/* ======== gguf.c ======== */

/*
 * gguf.c: export to GGUF version 3, llama.cpp's model file: a
 * quantized model and its tokenizer as one of llama.cpp's
 * architectures (tl-quantize(1) gives the mapping).
 */

#define TL_GGUF_VERSION 3
enum { TL_GGUF_LLAMA, TL_GGUF_ARCEE };
extern const char *const tl_gguf_arch_names[];

/* The architecture q becomes (TL_GGUF_*), or -1 with the reason
 * llama.cpp cannot run it. */
int tl_gguf_arch(const tl_qmodel *q, char *err);
/* What was written: the architecture, the tensors (of which TQ2_0),
 * and the file's bytes. */
typedef struct {
	int arch, tensors, tq2;
	uint64_t bytes;
} tl_ggufstats;
/* Write q and tok as a GGUF file, atomically (util.h: tl_afile); st
 * may be NULL. */
int tl_gguf_write(const char *path, const tl_qmodel *q, const tl_tok *tok,
    tl_ggufstats *st, char *err);

/* ======== stream.c ======== */

/*
 * stream.c: the token stream format (tl-tokens(5)): a header with the
 * tokenizer blob, then checksummed chunks of 16-bit token ids, then an
 * end chunk.  It is written and read front to back, so it works
 * through a pipe.  Also vocabulary files (tl-vocab(5)), which hold a
 * tokenizer alone, and a loader for the tokenizer held in any file.
 */

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

/*
 * Random access to a stream in a regular file, in memory that does not
 * grow with it (tl-tokens(5)): f is at the start of the stream and
 * stays the caller's, open until tl_sfile_free; name is for messages.
 * Open checks the header and walks the chunks' counts to the end
 * chunk (its total, and nothing after it); each chunk is checked
 * (checksum, ids below the vocabulary) when it is read.
 */
typedef struct tl_sfile tl_sfile;
tl_sfile *tl_sfile_open(FILE *f, const char *name, char *err);
void tl_sfile_free(tl_sfile *s);
uint64_t tl_sfile_count(const tl_sfile *s);	/* ids */
const tl_tok *tl_sfile_tok(const tl_sfile *s);
/* Ids [pos, pos + n) into out; -1 with "name: ..." on error. */
int tl_sfile_read(tl_sfile *s, uint64_t pos, size_t n, uint16_t *out,
    char *err);
/* Bytes the reader holds besides its tokenizer: two cached chunks and
 * a read buffer (about 385 KiB), plus 8 bytes a chunk when the chunks'
 * counts vary. */
size_t tl_sfile_mem(const tl_sfile *s);
/* A training data source (train.h) reading s. */
tl_data tl_sfile_data(tl_sfile *s);
/* The held-out tail of s by text, not ids: into *n the fewest last ids
 * whose bytes are at least frac (0 to 1) of all of the stream's, so
 * that a split by ids and one by bytes hold out the same text (for the
 * byte tokenizer, frac of the ids: no scan).  0, or -1 on a read
 * error. */
int tl_sfile_tail(tl_sfile *s, double frac, uint64_t *n, char *err);

/* The stream on in (a pipe), checked as it comes and rewritten in
 * chunks of TL_STREAM_CHUNK ids to a temporary file created beside the
 * path beside and removed at once, so that nothing is left even after
 * a crash; returns it open at its start, or NULL with a message. */
FILE *tl_stream_spool(FILE *in, const char *name, const char *beside,
    char *err);

/* Vocabulary files: a header like a stream's, without chunks. */
int tl_vocab_write(FILE *f, const tl_tok *tok, char *err);
int tl_vocab_read(FILE *f, const char *name, tl_tok *tok, char *err);

/* The tokenizer in the header of the token stream at the start of f
 * (name is for messages); mfile.c finds which kind a file is. */
int tl_stream_tok(FILE *f, const char *name, tl_tok *tok, char *err);

/* ======== mfile.c ======== */

/*
 * mfile.c: what kind of file this is (by its magic), and from any kind
 * only what a program needs: the tokenizer of a checkpoint, packed
 * model, token stream or vocabulary file; a model for inference from a
 * checkpoint (its weights, never its optimizer moments) or a packed
 * model (mapped in place).
 */

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
	void *ck;		/* a checkpoint (tl_ckpt), or NULL */
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
