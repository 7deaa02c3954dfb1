/*
 * fuzz_ckpt.c: the checkpoint reader (tl-checkpoint(5)), as tl-train,
 * tl-gen and tl-eval use it, and what they do next with what it
 * accepts: a decoder for a few tokens (tl-gen), a batched forward pass
 * (tl-eval), a save that must load back identical, and a training step
 * when the batch is small (tl-train).  The kernels run on the scalar
 * path (unless TL_SIMD says otherwise): plain C, which the sanitizers
 * see into.
 */
#include "formats/formats.h"
#include "fuzz.h"
#include "model/model.h"
#include "train/train.h"

static tl_pool *pool;

FUZZ_INIT_KERNELS(pool, 1)

/* One step of training on a made-up stream of 4 (ctx + 1) ids. */
static void
train(tl_ckpt *ck)
{
	char err[TL_ERRLEN];
	size_t n = 4 * ((size_t)ck->cfg.ctx + 1), i;
	uint16_t *ids = malloc(n * sizeof(*ids));
	tl_trainer tr;
	float gnorm;

	FUZZ_CHECK(ids != NULL);
	for (i = 0; i < n; i++)
		ids[i] = (uint16_t)(i * 13 % ck->cfg.vocab);
	if (tl_trainer_init(&tr, tl_ckpt_tmodel(ck), pool, ids, n, 0, 0, err) == 0) {
		(void)tl_trainer_progress(&tr);
		(void)tl_trainer_lr(&tr);
		(void)tl_trainer_step(&tr, &gnorm);
		tl_trainer_free(&tr);
	}
	free(ids);
}

/* A loaded checkpoint runs as tl-gen and tl-eval run it. */
static void
use(tl_ckpt *ck)
{
	char err[TL_ERRLEN];
	const tl_config *c = &ck->cfg;
	uint16_t in[8], tgt[8];
	tl_sampling sm;
	tl_sampler *sp;
	tl_infer *d;
	tl_qmodel q;
	int qt, qs;
	tl_model *m;
	float *lg;
	int T = c->ctx < 4 ? (int)c->ctx : 4, i, tok = '\n' % c->vocab;

	FUZZ_CHECK(c->vocab == ck->tok.vocab);
	tl_sampling_default(&sm);
	tl_qmodel_native(c, &qt, &qs);
	if (tl_qmodel_quant(&q, c, ck->params, qt, qs, err) == 0 &&
	    (d = tl_infer_new(&q, TL_KV_F32, err)) != NULL) {
		FUZZ_CHECK((sp = tl_sampler_new(c->vocab, &sm, 1, err)) !=
		    NULL);
		for (i = 0; i < 3; i++) {
			lg = tl_infer_push(d, pool, (uint16_t)tok, 1);
			FUZZ_CHECK(lg != NULL);
			tok = tl_sample(sp, lg);
			FUZZ_CHECK(tok >= 0 && (uint32_t)tok < c->vocab);
		}
		tl_sampler_free(sp);
		tl_infer_free(d);
	}
	tl_qmodel_free(&q);
	if ((m = tl_model_new(c, 1, T, 0, err)) != NULL) {
		for (i = 0; i < T; i++) {
			in[i] = (uint16_t)((i * 7) % c->vocab);
			tgt[i] = (uint16_t)((i * 7 + 1) % c->vocab);
		}
		tl_model_prepare(m, ck->params);
		tl_model_forward(m, pool, ck->params, in, tgt);
		tl_model_free(m);
	}
}

static void
run(const uint8_t *data, size_t size)
{
	char err[TL_ERRLEN], err2[TL_ERRLEN];
	const char *path = fuzz_tmpfile(data, size);
	char saved[80];
	tl_ckpt ck, ck2;
	size_t n;

	if (tl_ckpt_load(&ck, path, TL_CKPT_ALL, err) != 0) {
		FUZZ_CHECK(strncmp(err, path, strlen(path)) == 0);
		return;
	}
	use(&ck);
	/* save and load back: the same configuration and numbers */
	snprintf(saved, sizeof saved, "%s.saved", path);
	FUZZ_CHECK(tl_ckpt_save(&ck, saved, err2) == 0);
	FUZZ_CHECK(tl_ckpt_load(&ck2, saved, TL_CKPT_ALL, err2) == 0);
	unlink(saved);
	n = tl_nparams(&ck.cfg);
	FUZZ_CHECK(memcmp(&ck.cfg, &ck2.cfg, sizeof ck.cfg) == 0);
	FUZZ_CHECK(tl_tok_equal(&ck.tok, &ck2.tok));
	FUZZ_CHECK(memcmp(ck.params, ck2.params, n * sizeof(float)) == 0);
	FUZZ_CHECK(memcmp(ck.v, ck2.v, n * sizeof(float)) == 0);
	tl_ckpt_free(&ck2);
	/* last, as it changes the weights (to NaN, perhaps: tl-train
	 * stops there) */
	if ((uint64_t)ck.hp.batch * ck.hp.accum * ck.cfg.ctx <= 4096)
		train(&ck);
	tl_ckpt_free(&ck);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *d = fuzz_dup(data, size);

	run(data, size);
	fix_ckpt(d, size);
	if (memcmp(d, data, size) != 0)
		run(d, size);
	free(d);
	return 0;
}
