/*
 * test_gguf.c: tl's side of the comparison with llama.cpp
 * (tests/62-gguf.bats): the logits after each id of a text, from the
 * inference path that tl-gen runs.
 *
 * usage: test_gguf MODEL < IDS   (ids one a line; prints a line of V
 *                                 logits per position)
 */
#include <stdio.h>
#include <stdlib.h>

#include "formats/formats.h"
#include "model/model.h"
#include "util/util.h"

int
main(int argc, char **argv)
{
	char err[TL_ERRLEN];
	const tl_qmodel *q;
	tl_mfile mf;
	tl_infer *d;
	float *lg;
	long id;
	int pos = 0;
	uint32_t v;

	if (argc != 2) {
		fprintf(stderr, "usage: test_gguf MODEL < ids\n");
		return 2;
	}
	if (tl_simd_init(err) < 0 || tl_mfile_open(&mf, argv[1], err) < 0 ||
	    (q = tl_mfile_qmodel(&mf, err)) == NULL ||
	    (d = tl_infer_new(q, TL_KV_F32, err)) == NULL) {
		fprintf(stderr, "test_gguf: %s\n", err);
		return 1;
	}
	while (scanf("%ld", &id) == 1) {
		if (id < 0 || id >= (long)q->cfg.vocab ||
		    (lg = tl_infer_step(d, NULL, (uint16_t)id, pos++)) == NULL) {
			fprintf(stderr, "test_gguf: id %ld at %d: out of range\n",
			    id, pos - 1);
			return 1;
		}
		for (v = 0; v < q->cfg.vocab; v++)
			printf("%.9g%c", lg[v], v + 1 < q->cfg.vocab ? ' ' : '\n');
	}
	tl_infer_free(d);
	tl_mfile_close(&mf);
	return 0;
}
