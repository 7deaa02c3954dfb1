/*
 * layers.h: per-row pieces of the transformer shared by the batched
 * training pass (model.c) and single-position inference (infer.c):
 * norms, rotary and sinusoidal positions, FFN activations.  Each works
 * on one row so that callers choose how rows are spread over threads.
 */
#ifndef TL_LAYERS_H
#define TL_LAYERS_H

#include "model/model.h"

/* y (n) = norm(x (n)) * w (+ b); saves mean (layernorm) and 1/rms or
 * 1/std to *mean and *rstd when they are not NULL. */
void tl_norm_row(int kind, float *y, const float *x, const float *w,
    const float *b, int n, float *mean, float *rstd);
/* dx (n) += d norm / dx given dy; dw and db are not touched (see
 * tl_norm_dparams). */
void tl_norm_back_row(int kind, float *dx, const float *dy, const float *x,
    const float *w, int n, float mean, float rstd);
/* dw (n) += sum over rows r of dy[r] * xhat[r]; db += sum dy[r], for
 * N rows, in row order. */
void tl_norm_dparams(int kind, float *dw, float *db, const float *dy,
    const float *x, const float *mean, const float *rstd, int N, int n);

/* Rotary positions: rotate the pairs (2i, 2i+1) of each head of v
 * (n = heads * hs) by pos * 10000^(-2i/hs); inv = 1 rotates back (the
 * backward pass).  cs holds cos and sin per (pos, i): see
 * tl_rope_table. */
void tl_rope_table(float *cs, int T, int hs);	/* cs is (T, hs/2, 2) */
void tl_rope_row(float *v, const float *cs, int pos, int n, int hs,
    int inv);
/* Sinusoidal position embedding of pos, added to x (n). */
void tl_sinpos_add_row(float *x, int pos, int n);

/* FFN activation of one row: h (F1) -> y (F). */
void tl_act_row(int act, float *y, const float *h, int F);
/* dh (F1) = d act / dh given dy (F). */
void tl_act_back_row(int act, float *dh, const float *dy, const float *h,
    int F);

#endif
