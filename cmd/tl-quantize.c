/*
 * tl-quantize: write a checkpoint as a packed inference model
 * (tl-packed(5)): ternary at 2 or 1.6 bits per weight, int8 or int4
 * per block, or fp32; or a checkpoint or packed model as a GGUF file
 * for llama.cpp (-f gguf).
 */
#include <stdlib.h>
#include <string.h>

#include "formats/formats.h"
#include "util/util.h"

enum { OUT_TL, OUT_GGUF, OUT_N };
static const char *const out_names[OUT_N] = { "tl", "gguf" };

static const tl_opt opts[] = {
	{ 'f', NULL, "file", out_names, OUT_N, 0 },
	{ 'm', NULL, "model", NULL, 0, TL_OPT_REQ },
	{ 'o', NULL, "output", NULL, 0, TL_OPT_REQ },
	{ 'q', NULL, "format", tl_wtype_names, TL_W_N, 0 },
	{ 's', NULL, "scheme", tl_scheme_names, TL_QS_N, 0 },
	{ 'v', NULL, NULL, NULL, 0, 0 },
	{ 0, NULL, NULL, NULL, 0, 0 }
};
static const tl_cmd cmd = { { opts }, NULL, 0, NULL, NULL, NULL };

/* GGUF from a checkpoint (its weights quantized to type, or as it
 * trained when no -q was given) or a packed model (as it is). */
static void
write_gguf(const char *model, const char *outp, int type, int scheme,
    int qset, int verbose)
{
	tl_ggufstats st;
	char err[TL_ERRLEN];
	const tl_qmodel *qm;
	tl_qmodel q;
	tl_mfile mf;

	if (tl_mfile_open(&mf, model, err) < 0)
		tl_die(2, "%s", err);
	if (mf.pk != NULL && qset)
		tl_die(2, "%s: a packed model: -q applies to a checkpoint",
		    model);
	if (qset) {
		if (tl_qmodel_quant(&q, mf.cfg, mf.params, type, scheme,
		    err) < 0)
			tl_die(1, "%s: %s", model, err);
		qm = &q;
	} else if ((qm = tl_mfile_qmodel(&mf, err)) == NULL)
		tl_die(1, "%s: %s", model, err);
	if (tl_gguf_arch(qm, err) < 0)
		tl_die(2, "%s: cannot be GGUF: %s", model, err);
	tl_afile_signals();
	if (tl_gguf_write(outp, qm, mf.tok, &st, err) < 0)
		tl_die(1, "%s: %s", outp, err);
	if (verbose)
		fprintf(stderr, "%s: %s: GGUF %s, %d tensors (%d TQ2_0), "
		    "file %llu bytes\n", tl_prog(), outp,
		    tl_gguf_arch_names[st.arch], st.tensors, st.tq2,
		    (unsigned long long)st.bytes);
	if (qset)
		tl_qmodel_free(&q);
	tl_mfile_close(&mf);
}

int
main(int argc, char **argv)
{
	char err[TL_ERRLEN], list[128];
	const char *model = NULL, *outp = NULL;
	int verbose = 0, type = TL_W_TQ2, scheme = -1, s, out = OUT_TL;
	int qset = 0;
	tl_optparse op;
	tl_packstats st;
	tl_ckpt ck;
	tl_qmodel q;

	tl_opt_begin(&op, &cmd, argc, argv);
	while (tl_opt_next(&op) != -1)
		switch (op.opt->key) {
		case 'f':
			out = op.val;
			break;
		case 'm':
			model = op.arg;
			break;
		case 'o':
			outp = op.arg;
			break;
		case 'q':
			type = op.val;
			qset = 1;
			break;
		case 's':
			scheme = op.val;
			break;
		case 'v':
			verbose = 1;
			break;
		}
	if (scheme < 0)
		scheme = tl_scheme_default(type);
	if (!tl_scheme_ok(type, scheme)) {
		const char *ok[TL_QS_N];
		int n = 0;

		for (s = 0; s < TL_QS_N; s++)
			if (tl_scheme_ok(type, s))
				ok[n++] = tl_scheme_names[s];
		tl_die(2, "-s %s: not a scheme of format %s (%s)",
		    tl_scheme_names[scheme], tl_wtype_names[type],
		    tl_opt_list(list, sizeof list, ok, n));
	}
	if (tl_simd_init(err) < 0)
		tl_die(2, "%s", err);
	if (out == OUT_GGUF) {
		write_gguf(model, outp, type, scheme, qset, verbose);
		return 0;
	}
	if (tl_file_kind(model, err) == TL_FILE_PACKED)
		tl_die(2, "%s: a packed model: tl-quantize reads checkpoints "
		    "(or writes it as GGUF: -f gguf)", model);
	if (tl_ckpt_load(&ck, model, TL_CKPT_WEIGHTS, err) < 0)
		tl_die(2, "%s", err);
	if (tl_qmodel_quant(&q, &ck.cfg, ck.params, type, scheme, err) < 0)
		tl_die(1, "%s: %s", model, err);
	tl_afile_signals();
	if (tl_packed_write(outp, &q, &ck.tok, &st, err) < 0)
		tl_die(1, "%s", err);
	if (verbose)
		fprintf(stderr, "%s: %s: %s %s, %llu weights in %llu bytes "
		    "(%.4f bits per weight), file %llu bytes\n", tl_prog(),
		    outp, tl_wtype_names[type], tl_scheme_names[scheme],
		    (unsigned long long)st.weights,
		    (unsigned long long)st.lbytes,
		    8.0 * (double)st.lbytes / (double)st.weights,
		    (unsigned long long)st.fbytes);
	tl_qmodel_free(&q);
	tl_ckpt_free(&ck);
	return 0;
}
