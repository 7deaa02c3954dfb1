/*
 * vocab.h: take the tokenizer out of any file that holds one: a
 * checkpoint, a packed model, a token stream or a vocabulary file
 * (tl-tokenize -v, tl-init -v).
 */
#ifndef TL_VOCAB_H
#define TL_VOCAB_H

#include "tokenizer.h"

int tl_vocab_load(tl_tok *t, const char *path, char *err);

#endif
