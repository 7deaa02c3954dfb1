/*
 * tl-quantize: write a checkpoint as a packed inference model
 * (tl-packed(5)): ternary at 2 or 1.6 bits per weight, int8 or int4
 * per block, or fp32.
 */
#include <stdlib.h>
#include <string.h>

#include "formats/formats.h"
#include "util/util.h"

static const tl_opt opts[] = {
	{ 'm', NULL, "model", NULL, 0, TL_OPT_REQ },
	{ 'o', NULL, "output", NULL, 0, TL_OPT_REQ },
	{ 'q', NULL, "format", tl_wtype_names, TL_W_N, 0 },
	{ 's', NULL, "scheme", tl_scheme_names, TL_QS_N, 0 },
	{ 'v', NULL, NULL, NULL, 0, 0 },
	{ 0, NULL, NULL, NULL, 0, 0 }
};
static const tl_cmd cmd = { { opts }, NULL, 0, NULL, NULL, NULL };

int
main(int argc, char **argv)
{
	char err[TL_ERRLEN], list[128];
	const char *model = NULL, *outp = NULL;
	int verbose = 0, type = TL_W_TQ2, scheme = -1, s;
	tl_optparse op;
	tl_packstats st;
	tl_ckpt ck;
	tl_qmodel q;

	tl_opt_begin(&op, &cmd, argc, argv);
	while (tl_opt_next(&op) != -1)
		switch (op.opt->key) {
		case 'm':
			model = op.arg;
			break;
		case 'o':
			outp = op.arg;
			break;
		case 'q':
			type = op.val;
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
	if (tl_file_kind(model, err) == TL_FILE_PACKED)
		tl_die(2, "%s: a packed model: tl-quantize reads checkpoints",
		    model);
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
