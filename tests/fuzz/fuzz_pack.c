/*
 * fuzz_pack.c: the packed model reader (tl-packed(5)), mapped and read
 * (tl_packed_open), through tl_mfile_open as tl-gen and tl-eval open a
 * model, and through tl_vocab_load as tl-tokenize -v; then what tl-gen
 * does with a model that opened: a decoder over the packed weights for
 * a few sampled tokens.  Every weight of every layer must dequantize
 * (tl_qmat_at), and both ways of opening must agree.
 */
#include "formats/formats.h"
#include "fuzz.h"
#include "model/model.h"

static tl_pool *pool;

FUZZ_INIT_KERNELS(pool, 0)

/* A packed model that opened runs as tl-gen runs it. */
static void
use(const tl_packed *pk)
{
	char err[TL_ERRLEN];
	const tl_config *c = &tl_packed_model(pk)->cfg;
	const tl_tok *tok = tl_packed_tok(pk);
	const tl_qmat *m;
	tl_packstats st;
	tl_sampling sm;
	tl_sampler *sp;
	tl_infer *d;
	float *lg, sum = 0;
	int l, i, r, j, t = '\n' % c->vocab;

	FUZZ_CHECK(tok->vocab == c->vocab);
	tl_packed_stats(pk, &st);
	FUZZ_CHECK(st.lbytes <= st.fbytes);
	for (l = 0; l < (int)c->layers; l++)
		for (i = 0; i < 4; i++) {
			m = tl_qmodel_lin(tl_packed_model(pk), l, i);
			FUZZ_CHECK(m != NULL && m->rows > 0 && m->cols > 0);
			for (r = 0; r < m->rows; r += 1 + m->rows / 4)
				for (j = 0; j < m->cols; j++)
					sum += tl_qmat_at(m, r, j);
		}
	(void)sum;
	tl_sampling_default(&sm);
	if ((d = tl_infer_new(tl_packed_model(pk), TL_KV_Q8, err)) == NULL)
		return;
	FUZZ_CHECK((sp = tl_sampler_new(c->vocab, &sm, 1, err)) != NULL);
	for (i = 0; i < 3; i++) {
		FUZZ_CHECK((lg = tl_infer_push(d, pool, (uint16_t)t, 1)) != NULL);
		t = tl_sample(sp, lg);
		FUZZ_CHECK(t >= 0 && (uint32_t)t < c->vocab);
	}
	tl_sampler_free(sp);
	tl_infer_free(d);
}

static void
run(const uint8_t *data, size_t size)
{
	char err[TL_ERRLEN], err2[TL_ERRLEN];
	const char *path = fuzz_tmpfile(data, size);
	size_t plen = strlen(path);
	tl_packed *pk, *pr;
	tl_mfile mf;
	tl_tok tok;

	pk = tl_packed_open(path, 0, err);
	pr = tl_packed_open(path, TL_PACKED_READ, err2);
	/* mapped or read, the same verdict */
	FUZZ_CHECK((pk == NULL) == (pr == NULL));
	if (pk == NULL) {
		FUZZ_CHECK(strncmp(err, path, plen) == 0);
		FUZZ_CHECK(strcmp(err, err2) == 0);
	} else {
		FUZZ_CHECK(memcmp(&tl_packed_model(pk)->cfg, &tl_packed_model(pr)->cfg,
		    sizeof(tl_config)) == 0);
		use(pk);
		tl_packed_close(pr);
		tl_packed_close(pk);
	}
	if (tl_mfile_open(&mf, path, err) == 0) {
		FUZZ_CHECK(mf.cfg->vocab == mf.tok->vocab);
		tl_mfile_close(&mf);
	} else
		FUZZ_CHECK(strncmp(err, path, plen) == 0);
	if (tl_vocab_load(&tok, path, err) == 0)
		tl_tok_free(&tok);
	else
		FUZZ_CHECK(strncmp(err, path, plen) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *d = fuzz_dup(data, size);

	run(data, size);
	fix_ckpt(d, size);	/* the CRC is the last 4 bytes, as there */
	if (memcmp(d, data, size) != 0)
		run(d, size);
	free(d);
	return 0;
}
