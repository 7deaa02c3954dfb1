/*
 * mfile.c: the kind of a file by its magic, and the tokenizer or the
 * model for inference of any kind, reading only what is needed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "formats/formats.h"
#include "util/util.h"

int
tl_file_kind(const char *path, char *err)
{
	static const struct {
		const char *magic;
		size_t len;
		int kind;
	} magics[] = {
		{ TL_CKPT_MAGIC, 8, TL_FILE_CKPT },
		{ TL_PACK_MAGIC, 8, TL_FILE_PACKED },
		{ TL_STREAM_MAGIC, 4, TL_FILE_STREAM },
		{ TL_VOCAB_MAGIC, 4, TL_FILE_VOCAB },
	};
	unsigned char b[8];
	struct stat sb;
	size_t n, i;
	FILE *f;

	if ((f = fopen(path, "rb")) == NULL)
		return tl_err(err, "%s: %s", path, strerror(errno));
	if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
		fclose(f);
		return tl_err(err, "%s: not a regular file", path);
	}
	n = fread(b, 1, sizeof b, f);
	if (ferror(f)) {
		fclose(f);
		return tl_err(err, "%s: read error: %s", path, strerror(errno));
	}
	fclose(f);
	for (i = 0; i < sizeof magics / sizeof magics[0]; i++)
		if (n >= magics[i].len &&
		    memcmp(b, magics[i].magic, magics[i].len) == 0)
			return magics[i].kind;
	return TL_FILE_OTHER;
}

int
tl_vocab_load(tl_tok *t, const char *path, char *err)
{
	tl_packed *pk;
	tl_ckpt ck;
	FILE *f;
	int kind, rc;

	memset(t, 0, sizeof *t);
	switch (kind = tl_file_kind(path, err)) {
	case TL_FILE_CKPT:
		if (tl_ckpt_load(&ck, path, TL_CKPT_META, err) < 0)
			return -1;
		rc = tl_tok_copy(t, &ck.tok, err);
		tl_ckpt_free(&ck);
		return rc;
	case TL_FILE_PACKED:
		if ((pk = tl_packed_open(path, 0, err)) == NULL)
			return -1;
		rc = tl_tok_copy(t, tl_packed_tok(pk), err);
		tl_packed_close(pk);
		return rc;
	case TL_FILE_STREAM:
	case TL_FILE_VOCAB:
		if ((f = fopen(path, "rb")) == NULL)
			return tl_err(err, "%s: %s", path, strerror(errno));
		rc = kind == TL_FILE_VOCAB ? tl_vocab_read(f, path, t, err) :
		    tl_stream_tok(f, path, t, err);
		fclose(f);
		return rc;
	case TL_FILE_OTHER:
		return tl_err(err, "%s: not a vocabulary file, token stream "
		    "or model", path);
	default:
		return -1;
	}
}

static int
open_ckpt(tl_mfile *f, const char *path, char *err)
{
	tl_ckpt *ck;

	if ((ck = malloc(sizeof *ck)) == NULL)
		return tl_err(err, "%s: out of memory", path);
	if (tl_ckpt_load(ck, path, TL_CKPT_WEIGHTS, err) < 0) {
		free(ck);
		return -1;
	}
	f->ck = ck;
	f->params = ck->params;
	f->cfg = &ck->cfg;
	f->tok = &ck->tok;
	return 0;
}

int
tl_mfile_open(tl_mfile *f, const char *path, char *err)
{
	memset(f, 0, sizeof *f);
	switch (tl_file_kind(path, err)) {
	case TL_FILE_PACKED:
		if ((f->pk = tl_packed_open(path, 0, err)) == NULL)
			return -1;
		f->q = tl_packed_model(f->pk);
		f->cfg = &f->q->cfg;
		f->tok = tl_packed_tok(f->pk);
		return 0;
	case TL_FILE_CKPT:
		return open_ckpt(f, path, err);
	case -1:
		return -1;
	default:
		return tl_err(err, "%s: bad magic (not a tl checkpoint or "
		    "packed model)", path);
	}
}

void
tl_mfile_close(tl_mfile *f)
{
	tl_qmodel_free(&f->cq);
	if (f->ck) {
		tl_ckpt_free(f->ck);
		free(f->ck);
	}
	tl_packed_close(f->pk);
	memset(f, 0, sizeof *f);
}

const tl_qmodel *
tl_mfile_qmodel(tl_mfile *f, char *err)
{
	int type, scheme;

	if (f->q == NULL) {
		tl_qmodel_native(f->cfg, &type, &scheme);
		if (tl_qmodel_quant(&f->cq, f->cfg, f->params, type, scheme,
		    err) < 0)
			return NULL;
		f->q = &f->cq;
	}
	return f->q;
}
