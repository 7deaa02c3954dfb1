/*
 * tl-quantize: write a checkpoint as a packed inference model
 * (tl-packed(5)): ternary at 2 or 1.6 bits per weight, int8 or int4
 * per block, or fp32.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "ckpt.h"
#include "mfile.h"

static void
usage(void)
{
	printf("usage: tl-quantize [-hVv] [-q tq2|tq1|q8|q4|f32] "
	    "[-s absmean|twn|sign] -m model\n"
	    "                   -o output\n");
	tl_fshut(stdout, "stdout");
	exit(0);
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	char err[TL_ERRLEN];
	const char *model = NULL, *outp = NULL;
	int ch, verbose = 0, type = TL_W_TQ2, scheme = -1;
	tl_packstats st;
	tl_ckpt ck;
	tl_qmodel q;

	tl_setprog(argv[0]);
	while ((ch = getopt_long(argc, argv, ":hm:o:q:s:Vv", lo, NULL)) != -1) {
		switch (ch) {
		case 'h':
			usage();
			break;
		case 'm':
			model = optarg;
			break;
		case 'o':
			outp = optarg;
			break;
		case 'q':
			if ((type = tl_lookup(tl_wtype_names, TL_W_N,
			    optarg)) < 0)
				tl_die(2, "-q %s: unknown format (tq2, tq1, "
				    "q8, q4, f32)", optarg);
			break;
		case 's':
			if ((scheme = tl_lookup(tl_scheme_names, TL_QS_N,
			    optarg)) < 0)
				tl_die(2, "-s %s: unknown scheme (absmean, twn, "
				    "sign)", optarg);
			break;
		case 'V':
			printf("tl-quantize %s\n", TL_VERSION);
			tl_fshut(stdout, "stdout");
			return 0;
		case 'v':
			verbose = 1;
			break;
		default:
			tl_optfail(ch, argv);
		}
	}
	if (optind != argc)
		tl_die(2, "unexpected argument '%s' (see tl-quantize -h)",
		    argv[optind]);
	if (model == NULL || outp == NULL)
		tl_die(2, "-m FILE and -o FILE are required (see "
		    "tl-quantize -h)");
	if (scheme < 0)
		scheme = tl_scheme_default(type);
	if (!tl_scheme_ok(type, scheme))
		tl_die(2, "-s %s: not a scheme of format %s (%s)",
		    tl_scheme_names[scheme], tl_wtype_names[type],
		    type == TL_W_TQ2 || type == TL_W_TQ1 ?
		    "absmean, twn, sign" : tl_scheme_names[tl_scheme_default(
		    type)]);
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
