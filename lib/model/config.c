/*
 * config.c: the configuration (defaults, checks, names, the record of
 * the file formats) and the table of tensors, with the parameter
 * layout and initialisation derived from it.
 */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "model/model.h"
#include "util/util.h"

const char *const tl_pos_names[TL_POS_N] = { "rope", "sinusoidal" };
const char *const tl_norm_names[TL_NORM_N] = { "rmsnorm", "layernorm",
	"subln" };
const char *const tl_quant_names[TL_QUANT_N] = { "fp32", "ternary" };
const char *const tl_act_names[TL_ACT_N] = { "gelu", "relu", "relu2",
	"swiglu" };

int
tl_lookup(const char *const *names, int n, const char *s)
{
	int i;

	for (i = 0; i < n; i++)
		if (strcmp(names[i], s) == 0)
			return i;
	return -1;
}

void
tl_config_default(tl_config *c)
{
	static const tl_config def = {
		.vocab = 256, .layers = 4, .dim = 128, .heads = 4, .ffn = 512,
		.ctx = 64, .pos = TL_POS_ROPE, .norm = TL_NORM_RMS,
		.quant = TL_QUANT_TERNARY,
		.act = TL_ACT_RELU2,	/* measured: see README */
	};

	*c = def;
}

int
tl_config_check(const tl_config *c, char *err)
{
	if (c->vocab < 2 || c->vocab > 65536)
		return tl_err(err, "vocabulary %u out of range [2, 65536]",
		    c->vocab);
	if (c->layers < 1 || c->layers > TL_MAX_LAYERS)
		return tl_err(err, "layers %u out of range [1, %d]",
		    c->layers, TL_MAX_LAYERS);
	if (c->dim < 2 || c->dim > TL_MAX_DIM)
		return tl_err(err, "width %u out of range [2, %d]", c->dim,
		    TL_MAX_DIM);
	if (c->heads < 1 || c->heads > TL_MAX_HEADS || c->dim % c->heads ||
	    (c->dim / c->heads) % 2)
		return tl_err(err, "heads %u must divide width %u into even "
		    "head sizes", c->heads, c->dim);
	if (c->ffn < 1 || c->ffn > TL_MAX_FFN)
		return tl_err(err, "FFN width %u out of range [1, %d]", c->ffn,
		    TL_MAX_FFN);
	if (c->ctx < 1 || c->ctx > TL_MAX_CTX)
		return tl_err(err, "context %u out of range [1, %d]", c->ctx,
		    TL_MAX_CTX);
	if (c->pos >= TL_POS_N || c->norm >= TL_NORM_N ||
	    c->quant >= TL_QUANT_N || c->act >= TL_ACT_N)
		return tl_err(err, "unknown positional encoding, norm, "
		    "quantization or activation code");
	return 0;
}

int
tl_ffn_rows(const tl_config *c)
{
	return c->act == TL_ACT_SWIGLU ? 2 * c->ffn : c->ffn;
}

/* The record's fields, in order. */
#define CONFIG_FIELDS(c) { &(c)->vocab, &(c)->layers, &(c)->dim, \
	&(c)->heads, &(c)->ffn, &(c)->ctx, &(c)->pos, &(c)->norm, \
	&(c)->quant, &(c)->act }

void
tl_config_put(unsigned char *p, const tl_config *c)
{
	const uint32_t *f[TL_CONFIG_BYTES / 4] = CONFIG_FIELDS(c);
	int i;

	for (i = 0; i < TL_CONFIG_BYTES / 4; i++)
		tl_put_u32(p + 4 * i, *f[i]);
}

void
tl_config_get(tl_config *c, const unsigned char *p)
{
	uint32_t *f[TL_CONFIG_BYTES / 4] = CONFIG_FIELDS(c);
	int i;

	for (i = 0; i < TL_CONFIG_BYTES / 4; i++)
		*f[i] = tl_get_u32(p + 4 * i);
}

/* ---- the model-shape options of the programs ---- */

/* tl-init, tl-train and tl-bench take these; the value lists are the
 * name tables above. */
#define NUM(name) { TL_OPT_SHAPE, name, "N", NULL, 0, 0 }
#define KIND(name, names, n) { TL_OPT_SHAPE, name, "kind", names, n, 0 }
const tl_opt tl_shape_opts[] = {
	KIND("act", tl_act_names, TL_ACT_N),
	NUM("ctx"), NUM("dim"), NUM("ffn"), NUM("heads"), NUM("layers"),
	KIND("norm", tl_norm_names, TL_NORM_N),
	KIND("pos", tl_pos_names, TL_POS_N),
	KIND("quant", tl_quant_names, TL_QUANT_N),
	{ 0, NULL, NULL, NULL, 0, 0 }
};
#undef NUM
#undef KIND

/* What row i of tl_shape_opts sets: a field of tl_config and, for a
 * number, its largest value (the documented maximum). */
static const struct {
	size_t off;
	long max;
} shape_field[] = {
	{ offsetof(tl_config, act), 0 },
	{ offsetof(tl_config, ctx), TL_MAX_CTX },
	{ offsetof(tl_config, dim), TL_MAX_DIM },
	{ offsetof(tl_config, ffn), TL_MAX_FFN },
	{ offsetof(tl_config, heads), TL_MAX_HEADS },
	{ offsetof(tl_config, layers), TL_MAX_LAYERS },
	{ offsetof(tl_config, norm), 0 },
	{ offsetof(tl_config, pos), 0 },
	{ offsetof(tl_config, quant), 0 },
};
typedef char check_shape_field[sizeof shape_field / sizeof shape_field[0] ==
    sizeof tl_shape_opts / sizeof tl_shape_opts[0] - 1 ? 1 : -1];

int
tl_config_opt(tl_config *c, const char *name, const char *val, char *err)
{
	const tl_opt *o;
	uint32_t *f;
	char list[128], *end;
	long v;
	int i;

	for (i = 0; (o = &tl_shape_opts[i])->key != 0; i++) {
		if (strcmp(name, o->name) != 0)
			continue;
		f = (uint32_t *)(void *)((char *)c + shape_field[i].off);
		if (o->vals) {
			if ((v = tl_lookup(o->vals, o->nvals, val)) < 0)
				return tl_err(err, "--%s: unknown '%s' (%s)",
				    name, val, tl_opt_list(list, sizeof list,
				    o->vals, o->nvals));
		} else {
			v = strtol(val, &end, 10);
			if (*val == '\0' || *end != '\0' || v < 1 ||
			    v > shape_field[i].max)
				return tl_err(err, "--%s: '%s' is not a number "
				    "in [1, %ld]", name, val, shape_field[i].max);
		}
		*f = (uint32_t)v;
		return 0;
	}
	return 1;
}

/* ---- the tensors ---- */

#define T(name, kind, bias, block, rows, cols, init, decay, lin) \
	{ #name, offsetof(tl_params, name), kind, bias, block, rows, cols, \
	  init, decay, lin }
/* Each kind's rows: a norm's gain (rows of 1, one, not decayed; per
 * block but the final norm's) and bias (layernorm: zero); a linear
 * layer of every block (decayed); the embedding and head (V, C). */
#define GAIN(name, kind, rows) T(name, kind, 0, kind != TL_T_FNORM, rows, \
	TL_D_1, TL_INIT_ONE, 0, -1)
#define BIAS(name, kind) T(name, kind, 1, kind != TL_T_FNORM, TL_D_C, \
	TL_D_1, TL_INIT_ZERO, 0, -1)
#define LINEAR(name, rows, cols, init, lin) T(name, TL_T_LINEAR, 0, 1, \
	rows, cols, init, 1, lin)
#define WHOLE(name, kind) T(name, kind, 0, 0, TL_D_V, TL_D_C, \
	TL_INIT_NORMAL, 1, -1)

/* In the order of the parameter array (tl-checkpoint(5)). */
const tl_tensor tl_tensors[TL_NTENSORS] = {
	WHOLE(wte, TL_T_EMBED),
	GAIN(ln1w, TL_T_NORM, TL_D_C), BIAS(ln1b, TL_T_NORM),
	LINEAR(wqkv, TL_D_3C, TL_D_C, TL_INIT_NORMAL, TL_LIN_QKV),
	GAIN(ln3w, TL_T_SUBNORM, TL_D_C),
	LINEAR(wo, TL_D_C, TL_D_C, TL_INIT_RESID, TL_LIN_O),
	GAIN(ln2w, TL_T_NORM, TL_D_C), BIAS(ln2b, TL_T_NORM),
	LINEAR(w1, TL_D_F1, TL_D_C, TL_INIT_NORMAL, TL_LIN_IN),
	GAIN(ln4w, TL_T_SUBNORM, TL_D_F),
	LINEAR(w2, TL_D_C, TL_D_F, TL_INIT_RESID, TL_LIN_OUT),
	GAIN(lnfw, TL_T_FNORM, TL_D_C), BIAS(lnfb, TL_T_FNORM),
	WHOLE(head, TL_T_HEAD),
};
#undef T
#undef GAIN
#undef BIAS
#undef LINEAR
#undef WHOLE

static size_t
dim(int d, const tl_config *c)
{
	switch (d) {
	case TL_D_V:
		return c->vocab;
	case TL_D_C:
		return c->dim;
	case TL_D_3C:
		return 3 * (size_t)c->dim;
	case TL_D_F:
		return c->ffn;
	case TL_D_F1:
		return (size_t)tl_ffn_rows(c);
	default:
		return 1;
	}
}

int
tl_tensor_has(const tl_tensor *t, const tl_config *c)
{
	if (t->bias)
		return c->norm == TL_NORM_LAYER;
	if (t->kind == TL_T_SUBNORM)
		return c->norm == TL_NORM_SUBLN;
	return 1;
}

void
tl_tensor_shape(const tl_tensor *t, const tl_config *c, size_t *rows,
    size_t *cols)
{
	*rows = dim(t->rows, c);
	*cols = dim(t->cols, c);
}

size_t
tl_tensor_size(const tl_tensor *t, const tl_config *c)
{
	size_t r, k;

	if (!tl_tensor_has(t, c))
		return 0;
	tl_tensor_shape(t, c, &r, &k);
	return (t->block ? c->layers : 1) * r * k;
}

const tl_tensor *
tl_lin(int i)
{
	int k;

	for (k = 0; k < TL_NTENSORS; k++)
		if (tl_tensors[k].lin == i)
			return &tl_tensors[k];
	return NULL;
}

void
tl_lin_shape(const tl_config *c, int i, int *rows, int *cols)
{
	size_t r, k;

	tl_tensor_shape(tl_lin(i), c, &r, &k);
	*rows = (int)r;
	*cols = (int)k;
}

double
tl_matmul_weights(const tl_config *c)
{
	double n = 0;
	int k;

	for (k = 0; k < TL_NTENSORS; k++)
		if (tl_tensors[k].kind == TL_T_LINEAR ||
		    tl_tensors[k].kind == TL_T_HEAD)
			n += (double)tl_tensor_size(&tl_tensors[k], c);
	return n;
}

size_t
tl_nparams(const tl_config *c)
{
	size_t n = 0;
	int k;

	for (k = 0; k < TL_NTENSORS; k++)
		n += tl_tensor_size(&tl_tensors[k], c);
	return n;
}

void
tl_params_map(tl_params *p, float *base, const tl_config *c)
{
	size_t off = 0, n;
	int k;

	for (k = 0; k < TL_NTENSORS; k++) {
		n = tl_tensor_size(&tl_tensors[k], c);
		*(float **)((char *)p + tl_tensors[k].field) = n ? base + off :
		    NULL;
		off += n;
	}
}

float *
tl_params_get(const tl_params *P, const tl_tensor *t)
{
	return *(float *const *)((const char *)P + t->field);
}

/* Initialise in table order, one random stream for every tensor. */
void
tl_params_init(float *base, const tl_config *c, uint64_t seed)
{
	float sd[] = { 0.02f, 0.02f / sqrtf(2.0f * c->layers) };
	tl_params P;
	tl_rng r;
	size_t i, n;
	float *w;
	int k;

	tl_rng_seed(&r, seed);
	tl_params_map(&P, base, c);
	for (k = 0; k < TL_NTENSORS; k++) {
		const tl_tensor *t = &tl_tensors[k];

		n = tl_tensor_size(t, c);
		w = tl_params_get(&P, t);
		if (t->init == TL_INIT_NORMAL || t->init == TL_INIT_RESID)
			for (i = 0; i < n; i++)
				w[i] = sd[t->init == TL_INIT_RESID] *
				    tl_rng_normal(&r);
		else
			for (i = 0; i < n; i++)
				w[i] = t->init == TL_INIT_ONE;
	}
}
