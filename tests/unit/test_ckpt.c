/*
 * test_ckpt.c: checkpoints survive save, load, save byte for byte;
 * damaged files are refused with the right message; training steps
 * are bit-identical for any thread count and across a save and load.
 */
#include <string.h>
#include <unistd.h>

#include "formats/formats.h"
#include "train/train.h"
#include "unit.h"

static void
spit(const char *path, const unsigned char *b, size_t n)
{
	FILE *f = fopen(path, "wb");

	fwrite(b, 1, n, f);
	fclose(f);
}

static void
tiny(tl_config *c, int quant)
{
	unit_config(c, 0, 16, 24, 8);
	c->quant = quant;
}

static void
roundtrip(const char *dir)
{
	char a[512], b[512], d[512], err[TL_ERRLEN];
	tl_config c;
	tl_ckpt ck, ck2;
	tl_tok tok;
	unsigned char *ba, *bb;
	size_t na, nb;

	snprintf(a, sizeof a, "%s/a.tl", dir);
	snprintf(b, sizeof b, "%s/b.tl", dir);
	snprintf(d, sizeof d, "%s/d.tl", dir);
	tiny(&c, TL_QUANT_TERNARY);
	CHECK(tl_tok_bytes(&tok, err) == 0);
	CHECK(tl_ckpt_create(&ck, &c, &tok, 5, err) == 0);
	ck.st.step = 12;
	ck.st.elapsed = 3.25;
	ck.m[3] = 0.5f;
	CHECK(tl_ckpt_save(&ck, a, err) == 0);
	CHECK(tl_ckpt_load(&ck2, a, TL_CKPT_ALL, err) == 0);
	CHECK(tl_ckpt_save(&ck2, b, err) == 0);
	ba = unit_slurp(a, &na);
	bb = unit_slurp(b, &nb);
	CHECK(na == nb && na > 0 && memcmp(ba, bb, na) == 0);
	CHECK(ck2.st.step == 12 && ck2.st.elapsed == 3.25 && ck2.m[3] == 0.5f);
	CHECK(memcmp(ck.params, ck2.params, tl_nparams(&c) * 4) == 0);
	tl_ckpt_free(&ck2);

	/* one flipped byte in the weights */
	ba[na / 2] ^= 0x10;
	spit(d, ba, na);
	CHECK(tl_ckpt_load(&ck2, d, TL_CKPT_ALL, err) < 0 && strstr(err, "checksum"));
	ba[na / 2] ^= 0x10;
	/* truncated */
	spit(d, ba, na - 7);
	CHECK(tl_ckpt_load(&ck2, d, TL_CKPT_ALL, err) < 0 && strstr(err, "truncated"));
	spit(d, ba, 20);
	CHECK(tl_ckpt_load(&ck2, d, TL_CKPT_ALL, err) < 0 && strstr(err, "truncated"));
	/* longer than its header says */
	spit(d, ba, na);
	{
		FILE *f = fopen(d, "ab");

		fputc(0, f);
		fclose(f);
	}
	CHECK(tl_ckpt_load(&ck2, d, TL_CKPT_ALL, err) < 0 && strstr(err, "does not match"));
	/* wrong magic, newer version */
	ba[0] = 'X';
	spit(d, ba, na);
	CHECK(tl_ckpt_load(&ck2, d, TL_CKPT_ALL, err) < 0 && strstr(err, "bad magic"));
	ba[0] = 't';
	ba[8] = TL_CKPT_VERSION + 1;
	spit(d, ba, na);
	CHECK(tl_ckpt_load(&ck2, d, TL_CKPT_ALL, err) < 0 && strstr(err, "version 4"));
	ba[8] = 0;
	spit(d, ba, na);
	CHECK(tl_ckpt_load(&ck2, d, TL_CKPT_ALL, err) < 0 && strstr(err, "version 0"));
	ba[8] = TL_CKPT_VERSION;
	/* a dimension past its maximum is refused before any allocation */
	tl_put_u32(ba + 12 + 4 * 2, 1u << 30);
	spit(d, ba, na);
	CHECK(tl_ckpt_load(&ck2, d, TL_CKPT_ALL, err) < 0 && strstr(err, "configuration"));
	CHECK(tl_ckpt_load(&ck2, "/nonexistent/x.tl", TL_CKPT_ALL, err) < 0);
	free(ba);
	free(bb);
	tl_ckpt_free(&ck);
	tl_tok_free(&tok);
	unlink(a);
	unlink(b);
	unlink(d);
}

/* Train k steps on a model made from seed with a pool of nt threads;
 * with save set, save and reload half-way. */
static void
train(tl_ckpt *ck, const uint16_t *ids, size_t n, int nt, int k,
    const char *save, int quant)
{
	char err[TL_ERRLEN];
	tl_config c;
	tl_tok tok;
	tl_pool *p = tl_pool_new(nt);
	tl_trainer t;
	float gn;
	int i;

	tiny(&c, quant);
	tl_tok_bytes(&tok, err);
	CHECK(tl_ckpt_create(ck, &c, &tok, 9, err) == 0);
	ck->hp.batch = 3;
	ck->hp.steps = k;
	ck->hp.warmup = 2;
	CHECK(tl_trainer_init(&t, tl_ckpt_tmodel(ck), p, ids, n, 0, 0, err) == 0);
	for (i = 0; i < k; i++) {
		CHECK(tl_trainer_step(&t, &gn) > 0);
		if (save && i == k / 2) {
			tl_trainer_free(&t);
			CHECK(tl_ckpt_save(ck, save, err) == 0);
			tl_ckpt_free(ck);
			CHECK(tl_ckpt_load(ck, save, TL_CKPT_ALL, err) == 0);
			CHECK(tl_trainer_init(&t, tl_ckpt_tmodel(ck), p, ids, n, 0, 0, err) == 0);
		}
	}
	tl_trainer_free(&t);
	tl_pool_free(p);
	tl_tok_free(&tok);
}

static void
determinism(const char *dir)
{
	enum { n = 4000 };
	uint16_t ids[n];
	tl_ckpt a, b, c;
	char s[512];
	size_t np;
	int i, q;

	snprintf(s, sizeof s, "%s/s.tl", dir);
	for (i = 0; i < n; i++)
		ids[i] = (uint16_t)("the quick brown fox jumps over"[i % 30] +
		    i % 7);
	for (q = 0; q < TL_QUANT_N; q++) {
		train(&a, ids, n, 1, 6, NULL, q);
		train(&b, ids, n, 2, 6, NULL, q);
		train(&c, ids, n, 3, 6, s, q);
		np = tl_nparams(&a.cfg);
		CHECK(memcmp(a.params, b.params, np * 4) == 0);
		CHECK(memcmp(a.v, b.v, np * 4) == 0);
		CHECK(memcmp(a.params, c.params, np * 4) == 0);
		CHECK(memcmp(a.m, c.m, np * 4) == 0);
		CHECK(a.st.step == 6 && c.st.step == 6 && a.st.loss == c.st.loss);
		CHECK(memcmp(&a.st.rng, &c.st.rng, sizeof a.st.rng) == 0);
		tl_ckpt_free(&a);
		tl_ckpt_free(&b);
		tl_ckpt_free(&c);
	}
	unlink(s);
}

/* The schedules of tl-train --sched, at points worked by hand: a
 * 100-step run, rate 1, lr_min 0.1, decay 0.1, no warmup. */
static void
schedules(void)
{
	static const struct {
		int sched, step;
		double lr, wd;
	} want[] = {
		{ TL_SCHED_COSINE, 0, 1, 0.1 },
		{ TL_SCHED_COSINE, 50, 0.55, 0.1 },
		{ TL_SCHED_COSINE, 100, 0.1, 0.1 },
		{ TL_SCHED_TWOSTAGE, 0, 1, 0.1 },
		{ TL_SCHED_TWOSTAGE, 25, 0.75, 0.05 },
		{ TL_SCHED_TWOSTAGE, 49, 0.51, 9.8664e-5 },	/* 0.05 (1 + cos(0.98 pi)) */
		{ TL_SCHED_TWOSTAGE, 50, 0.25, 0 },
		{ TL_SCHED_TWOSTAGE, 75, 0.175, 0 },
		{ TL_SCHED_TWOSTAGE, 100, 0.1, 0 },
	};
	tl_ckpt ck;
	tl_trainer t;
	size_t i;

	memset(&ck, 0, sizeof ck);
	memset(&t, 0, sizeof t);
	t.tm = tl_ckpt_tmodel(&ck);
	ck.hp.lr = 1;
	ck.hp.lr_min = 0.1f;
	ck.hp.wd = 0.1f;
	ck.hp.steps = 100;
	for (i = 0; i < sizeof want / sizeof want[0]; i++) {
		ck.hp.sched = (uint32_t)want[i].sched;
		ck.st.step = (uint64_t)want[i].step;
		CHECK_CLOSE(tl_trainer_lr(&t), want[i].lr, 1e-6, 1e-5);
		CHECK_CLOSE(tl_trainer_wd(&t), want[i].wd, 1e-7, 1e-5);
	}
}

/* One step of a model of each norm kind with weight decay 1 and with
 * none, from the same weights and data: norm gains and biases (every
 * tensor of a norm kind in the table, and by name every ln*) must come
 * out the same, since tl-train(1) says norms are never decayed; the
 * linear layers must not. */
static void
no_norm_decay(void)
{
	char err[TL_ERRLEN];
	uint16_t ids[400];
	tl_pool *p = tl_pool_new(1);
	tl_config c;
	tl_tok tok;
	tl_ckpt ck[2];
	tl_trainer t;
	tl_params P[2];
	float gn;
	int norm, i, k;
	size_t n, j;

	for (j = 0; j < sizeof ids / sizeof ids[0]; j++)
		ids[j] = (uint16_t)(j * 7 % 251);
	tl_tok_bytes(&tok, err);
	for (norm = 0; norm < TL_NORM_N; norm++) {
		tiny(&c, TL_QUANT_TERNARY);
		c.layers = 1;
		c.norm = (uint32_t)norm;
		for (i = 0; i < 2; i++) {
			CHECK(tl_ckpt_create(&ck[i], &c, &tok, 3, err) == 0);
			ck[i].hp.batch = 2;
			ck[i].hp.warmup = 0;
			ck[i].hp.lr = 1e-2f;
			ck[i].hp.wd = i ? 1.0f : 0.0f;
			CHECK(tl_trainer_init(&t, tl_ckpt_tmodel(&ck[i]), p, ids, 400, 0, 0,
			    err) == 0);
			CHECK(tl_trainer_step(&t, &gn) > 0);
			tl_trainer_free(&t);
			tl_params_map(&P[i], ck[i].params, &c);
		}
		for (k = 0; k < TL_NTENSORS; k++) {
			const tl_tensor *tt = &tl_tensors[k];
			int isnorm = tt->kind == TL_T_NORM ||
			    tt->kind == TL_T_SUBNORM || tt->kind == TL_T_FNORM;
			float *a = tl_params_get(&P[0], tt);
			float *b = tl_params_get(&P[1], tt);

			n = tl_tensor_size(tt, &c);
			if (n == 0)
				continue;
			CHECK(isnorm == (strncmp(tt->name, "ln", 2) == 0));
			if (isnorm && memcmp(a, b, n * sizeof *a) != 0) {
				fprintf(stderr, "%s: %s is weight-decayed\n",
				    tl_norm_names[norm], tt->name);
				CHECK(!"norm parameters decayed");
			}
			if (tt->kind == TL_T_LINEAR)
				CHECK(memcmp(a, b, n * sizeof *a) != 0);
		}
		tl_ckpt_free(&ck[0]);
		tl_ckpt_free(&ck[1]);
	}
	tl_tok_free(&tok);
	tl_pool_free(p);
}

int
main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : "/tmp";

	roundtrip(dir);
	determinism(dir);
	schedules();
	no_norm_decay();
	return unit_done("test_ckpt");
}
