/*
 * fuzz_prompt.c: a prompt as tl-gen takes it (-p TEXT or stdin): any
 * bytes, encoded with the model's tokenizer and run through the
 * decoder, then a few sampled tokens decoded.  Two small models are
 * made once: one on the byte tokenizer, one on the BPE vocabulary of
 * tests/data/v1.tlv, both with a context of 16 so that long prompts
 * fill it.  The first byte of the input picks the model, --slide or
 * not, and the sampling; the rest is the prompt.
 */
#include "formats/formats.h"
#include "fuzz.h"
#include "model/model.h"

static tl_ckpt model[2];
static tl_pool *pool;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[TL_ERRLEN];
	tl_config c;
	tl_tok tok;
	FILE *f;
	int i;

	(void)argc;
	(void)argv;
	pool = fuzz_kernels(0);
	if ((f = fopen(TL_DATA "/v1.tlv", "rb")) == NULL) {
		perror(TL_DATA "/v1.tlv");
		exit(2);
	}
	FUZZ_CHECK(tl_vocab_read(f, "v1.tlv", &tok, err) == 0);
	fclose(f);
	/* model[1] on v1.tlv, then model[0] on bytes */
	for (i = 1; i >= 0; i--) {
		if (i == 0) {
			tl_tok_free(&tok);
			FUZZ_CHECK(tl_tok_bytes(&tok, err) == 0);
		}
		tl_config_default(&c);
		c.layers = 1;
		c.dim = 16;
		c.heads = 2;
		c.ffn = 32;
		c.ctx = 16;
		c.vocab = tok.vocab;
		FUZZ_CHECK(tl_ckpt_create(&model[i], &c, &tok, 1, err) == 0);
	}
	tl_tok_free(&tok);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[TL_ERRLEN];
	const unsigned char *prompt = data + 1, *p;
	size_t n, nids, k, len;
	uint16_t *ids;
	tl_sampling sm;
	tl_sampler *sp;
	tl_infer *d;
	tl_qmodel q;
	int qt, qs;
	tl_ckpt *ck;
	float *lg = NULL;
	int slide, t, i, full = 0;

	if (size < 1)
		return 0;
	ck = &model[data[0] & 1];
	slide = data[0] >> 1 & 1;
	n = size - 1;
	tl_sampling_default(&sm);
	sm.greedy = data[0] >> 2 & 1;
	sm.topk = data[0] >> 3 & 3;

	/* as tl-gen: an empty prompt starts the text after a newline */
	FUZZ_CHECK(tl_tok_encode(&ck->tok, n ? prompt :
	    (const unsigned char *)"\n", n ? n : 1, &ids, &nids, err) == 0);
	FUZZ_CHECK(nids >= 1 && nids <= (n ? n : 1));
	tl_qmodel_native(&ck->cfg, &qt, &qs);
	FUZZ_CHECK(tl_qmodel_quant(&q, &ck->cfg, ck->params, qt, qs, err) == 0);
	FUZZ_CHECK((d = tl_infer_new(&q, TL_KV_Q8, err)) != NULL);
	FUZZ_CHECK((sp = tl_sampler_new(ck->cfg.vocab, &sm, size, err)) !=
	    NULL);
	for (k = 0; k < nids && !full; k++) {
		FUZZ_CHECK(ids[k] < ck->cfg.vocab);
		if ((lg = tl_infer_push(d, pool, ids[k], slide)) == NULL)
			full = 1;
	}
	FUZZ_CHECK(!full || (!slide && nids > (size_t)tl_infer_ctx(d)));
	for (i = 0; i < 4 && !full; i++) {
		t = tl_sample(sp, lg);
		FUZZ_CHECK(t >= 0 && (uint32_t)t < ck->cfg.vocab);
		p = tl_tok_piece(&ck->tok, (uint32_t)t, &len);
		FUZZ_CHECK(len >= 1 && p != NULL);
		if ((lg = tl_infer_push(d, pool, (uint16_t)t, slide)) == NULL)
			full = 1;
	}
	tl_sampler_free(sp);
	tl_infer_free(d);
	tl_qmodel_free(&q);
	free(ids);
	return 0;
}
