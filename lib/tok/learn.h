/*
 * learn.h: inside lib/tok: the exact learner of bpe.c with documents,
 * for the tl_learner of words.c.
 */
#ifndef TL_LEARN_H
#define TL_LEARN_H

#include <stddef.h>
#include <stdint.h>

#include "tok/tok.h"

/* tl_tok_learn, except that no pair spans position i-1, i where bit i
 * of cut (bit i & 7 of byte i >> 3) is set; cut may be NULL. */
int tl_tok_learn_cut(tl_tok *t, const unsigned char *text, size_t n,
    const unsigned char *cut, uint32_t vocab, char *err);

#endif
