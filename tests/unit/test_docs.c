/*
 * test_docs.c: the end-of-text token of tokenizers (its id, piece and
 * blob), the document readers and writers of docs.c, and BPE learned
 * over documents (tl_learner_doc).
 */
#include <string.h>

#include "tok/tok.h"
#include "unit.h"

/* What a reader gave: documents joined by '|', and its largest piece. */
struct got {
	char text[4096];
	size_t n, maxpiece, total;
};

static int
piece(void *ctx, const unsigned char *p, size_t n, char *err)
{
	struct got *g = ctx;

	(void)err;
	if (p == NULL)
		n = 1, p = (const unsigned char *)"|";
	if (n > g->maxpiece)
		g->maxpiece = n;
	g->total += n;
	if (g->n + n < sizeof(g->text)) {
		memcpy(g->text + g->n, p, n);
		g->n += n;
	}
	g->text[g->n] = '\0';
	return 0;
}

/* Read text as kind with arg: the documents, or "!" and the error. */
static const char *
rd(int kind, const char *arg, const char *text, size_t n)
{
	static struct got g;
	char err[TL_ERRLEN];
	tl_docfmt fmt;
	FILE *f;

	memset(&g, 0, sizeof(g));
	fmt.kind = kind;
	fmt.arg = arg;
	f = n ? fmemopen((void *)text, n, "rb") : fopen("/dev/null", "rb");
	if (tl_docs_read(f, "t", &fmt, piece, &g, err) != 0)
		snprintf(g.text, sizeof(g.text), "!%s", err);
	fclose(f);
	return g.text;
}

#define RD(kind, arg, text) rd(kind, arg, text, sizeof(text) - 1)
#define SAME(a, b) do { \
	const char *a_ = (a); \
	CHECK(strcmp(a_, b) == 0); \
	if (strcmp(a_, b) != 0) \
		fprintf(stderr, "  got <%s>\n want <%s>\n", a_, b); \
} while (0)

static void
test_eot(void)
{
	char err[TL_ERRLEN];
	unsigned char blob[64];
	uint32_t m[4] = { 'a', 'b', 256, 'c' };
	uint16_t *ids;
	size_t len, n, i;
	tl_tok t, u;

	CHECK(tl_tok_bytes(&t, err) == 0);
	CHECK(tl_tok_eot(&t) == -1);
	CHECK(tl_tok_add_eot(&t, err) == 0);
	CHECK(tl_tok_eot(&t) == 256 && t.vocab == 257);
	CHECK(tl_tok_add_eot(&t, err) == -1);
	tl_tok_piece(&t, 256, &len);
	CHECK(len == 0);
	tl_tok_piece(&t, 255, &len);
	CHECK(len == 1);
	CHECK(tl_tok_blob_size(&t) == 8);
	tl_tok_blob_put(&t, blob);
	CHECK(tl_get_u32(blob) == 0x100 && tl_get_u32(blob + 4) == 257);
	CHECK(tl_tok_blob_get(&u, blob, 8, err) == 0);
	CHECK(tl_tok_equal(&t, &u) && tl_tok_eot(&u) == 256);
	tl_tok_free(&u);
	/* a flag no reader knows, and a count that does not fit the flag */
	tl_put_u32(blob, 0x200);
	CHECK(tl_tok_blob_get(&u, blob, 8, err) == -1);
	tl_put_u32(blob, 0x100);
	tl_put_u32(blob + 4, 256);
	CHECK(tl_tok_blob_get(&u, blob, 8, err) == -1);
	tl_tok_free(&t);

	CHECK(tl_tok_from_merges(&t, m, 2, err) == 0);
	CHECK(tl_tok_copy(&u, &t, err) == 0 && tl_tok_eot(&u) == -1);
	tl_tok_free(&u);
	CHECK(tl_tok_add_eot(&t, err) == 0);
	CHECK(t.vocab == 259 && tl_tok_eot(&t) == 258 &&
	    tl_tok_nmerges(&t) == 2);
	CHECK(tl_tok_blob_size(&t) == 24);
	tl_tok_blob_put(&t, blob);
	CHECK(tl_get_u32(blob) == 0x101);
	CHECK(tl_tok_blob_get(&u, blob, 24, err) == 0 && tl_tok_equal(&t, &u));
	tl_tok_free(&u);
	CHECK(tl_tok_blob_get(&u, blob, 32, err) == -1);
	CHECK(tl_tok_copy(&u, &t, err) == 0 && tl_tok_equal(&t, &u));
	tl_tok_free(&u);
	tl_tok_piece(&t, 257, &len);
	CHECK(len == 3);
	tl_tok_piece(&t, 258, &len);
	CHECK(len == 0);
	/* encoding never gives the EOT */
	CHECK(tl_tok_encode(&t, (const unsigned char *)"abcab", 5, &ids, &n,
	    err) == 0);
	CHECK(n == 2 && ids[0] == 257 && ids[1] == 256);
	for (i = 0; i < n; i++)
		CHECK(ids[i] != 258);
	free(ids);
	tl_tok_free(&t);
}

static void
test_jsonl(void)
{
	static char big[200000];
	size_t i;

	SAME(RD(TL_DOCS_JSONL, "text", "{\"text\":\"a\"}\n{\"text\":\"b\"}"),
	    "a|b|");
	SAME(RD(TL_DOCS_JSONL, "text", "\xef\xbb\xbf{\"text\":\"a\"}\n\n \t\n"),
	    "a|");
	SAME(RD(TL_DOCS_JSONL, "text", "{\"text\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"}"),
	    "\"\\/\b\f\n\r\t|");
	SAME(RD(TL_DOCS_JSONL, "text",
	    "{\"text\":\"\\u00e9\\u20AC\\ud83d\\ude00\\u0041\"}"),
	    "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80" "A|");
	SAME(RD(TL_DOCS_JSONL, "text", "{\"a\":{\"text\":\"no\",\"b\":[[],{}, "
	    "[1,-0.5e+3,2E7,true,false,null,\"x\"]]}, \"te\\u0078t\" : \"yes\" }"
	    "\r\n"), "yes|");
	SAME(RD(TL_DOCS_JSONL, "text", "{\"textx\":\"a\",\"tex\":\"b\"}"),
	    "!t:1: no string member \"text\"");
	SAME(RD(TL_DOCS_JSONL, "text", "{}"), "!t:1: no string member \"text\"");
	SAME(RD(TL_DOCS_JSONL, "text", "{\"a\":01}"),
	    "!t:1: expected ',' or '}'");
	SAME(RD(TL_DOCS_JSONL, "text", "{\"a\":-}"), "!t:1: bad number");
	SAME(RD(TL_DOCS_JSONL, "text", "{\"a\":1.}"), "!t:1: bad number");
	SAME(RD(TL_DOCS_JSONL, "text", "{\"a\":nul}"), "!t:1: expected a value");
	SAME(RD(TL_DOCS_JSONL, "text", "{\"text\":\"a\"\n}"),
	    "!t:1: expected ',' or '}'");
	SAME(RD(TL_DOCS_JSONL, "text", "{\"text\":\"\\u12\"}"),
	    "!t:1: \\u needs four hex digits");
	SAME(RD(TL_DOCS_JSONL, "text", "{\"text\":\"\\ud83d\\u0041\"}"),
	    "!t:1: lone high surrogate in \\u escape");
	SAME(RD(TL_DOCS_JSONL, "text", "{\"text\":\"\xc0\x80\"}"),
	    "!t:1: invalid UTF-8");
	SAME(RD(TL_DOCS_JSONL, "text", "{\"text\":\"\xf4\x90\x80\x80\"}"),
	    "!t:1: invalid UTF-8");
	SAME(RD(TL_DOCS_JSONL, "text", "{\"text\":\"\t\"}"),
	    "!t:1: control character in a string");
	SAME(RD(TL_DOCS_JSONL, "text", "{\"text\":\"a\"}\n\n{\"text\":1}"),
	    "!t:3: member \"text\" is not a string");
	SAME(RD(TL_DOCS_JSONL, "text", "{\"text\":\"a\""),
	    "!t:1: expected ',' or '}'");
	SAME(RD(TL_DOCS_JSONL, "text", "{\"text\":\"a"),
	    "!t:1: string not closed");

	/* a document longer than any buffer comes in bounded pieces */
	strcpy(big, "{\"text\":\"");
	for (i = strlen(big); i < sizeof(big) - 8; i++)
		big[i] = 'a' + i % 26;
	strcpy(big + i, "\"}\n");
	{
		static struct got g;
		char err[TL_ERRLEN];
		tl_docfmt fmt = { TL_DOCS_JSONL, "text" };
		FILE *f = fmemopen(big, strlen(big), "rb");

		CHECK(tl_docs_read(f, "t", &fmt, piece, &g, err) == 0);
		CHECK(g.maxpiece <= 65536 && g.total == sizeof(big) - 8 - 9 + 1);
		fclose(f);
	}
}

static void
test_csv(void)
{
	SAME(RD(TL_DOCS_CSV, "b", "a,b\n1,x\n2,\"y,\"\"z\"\"\n\"\n"),
	    "x|y,\"z\"\n|");
	SAME(RD(TL_DOCS_CSV, "2", "a,b\r\n1,x\r\n\r\n2,\"\"\r\n3,\"q\r\nr\""),
	    "x||q\r\nr|");
	SAME(RD(TL_DOCS_CSV, "b", "a,b,c\n1,x\r2,\n"), "x\r2|");
	SAME(RD(TL_DOCS_CSV, "1", "2,1\nx,y\n"), "y|");	/* a name first */
	SAME(RD(TL_DOCS_CSV, "3", "a,b\nx,y\n"),
	    "!t:1: no column \"3\" in the header (2 fields)");
	SAME(RD(TL_DOCS_CSV, "b", "a,b\nx,y\nz\n"),
	    "!t:3: no column 2 (the row has 1 field)");
	SAME(RD(TL_DOCS_CSV, "b", "a,b\nx,\"y\n\n"),
	    "!t:3: quote opened on line 2 is not closed");
	SAME(RD(TL_DOCS_CSV, "b", "a,b\nx,\"y"),
	    "!t:2: quote opened on line 2 is not closed");
	SAME(RD(TL_DOCS_CSV, "b", ""), "");
	SAME(RD(TL_DOCS_CSV, "b", "\n\na,b\n\n1,2"), "2|");
	SAME(RD(TL_DOCS_CSV, "b", "\xef\xbb\xbf" "b\n\xc3\xa9\n"), "\xc3\xa9|");
}

/* Lines are counted across the input buffer, inside quoted fields. */
static void
test_lines(void)
{
	static char big[200000];
	size_t n;
	int i;

	n = (size_t)sprintf(big, "a,b\n1,\"");
	for (i = 0; i < 40000; i++)
		n += (size_t)sprintf(big + n, "x\n");
	n += (size_t)sprintf(big + n, "\"\n2\n");
	SAME(rd(TL_DOCS_CSV, "b", big, n),
	    "!t:40003: no column 2 (the row has 1 field)");
	n = 0;
	for (i = 0; i < 9000; i++)
		n += (size_t)sprintf(big + n, "{\"text\":\"a\\nb\"}\n");
	n += (size_t)sprintf(big + n, "{\"text\":\"a\"");
	SAME(rd(TL_DOCS_JSONL, "text", big, n), "!t:9001: expected ',' or '}'");
}

static void
test_sep(void)
{
	SAME(RD(TL_DOCS_SEP, "--", "a--b--"), "a|b|");
	SAME(RD(TL_DOCS_SEP, "--", "a--b"), "a|b|");
	SAME(RD(TL_DOCS_SEP, "--", "--a----"), "|a||");
	SAME(RD(TL_DOCS_SEP, "--", "a-b-"), "a-b-|");
	SAME(RD(TL_DOCS_SEP, "aab", "aaabaaaab"), "a|aa|");
	SAME(RD(TL_DOCS_SEP, "abab", "ababab"), "|ab|");
	SAME(RD(TL_DOCS_SEP, "abab", "abababab"), "||");
	SAME(RD(TL_DOCS_SEP, "x", ""), "");
	SAME(RD(TL_DOCS_TEXT, NULL, "all\none"), "all\none|");
}

/* Write the documents of "a|b|" with kind and arg. */
static const char *
wr(int kind, const char *arg, const char *docs)
{
	static char out[1024];
	char err[TL_ERRLEN];
	const char *p, *q;
	tl_docfmt fmt = { kind, arg };
	tl_docw w;
	FILE *f = fmemopen(out, sizeof(out), "w");
	int rc = 0;

	tl_docw_init(&w, f, &fmt);
	for (p = docs; *p && rc == 0; p = q + 1) {
		q = strchr(p, '|');
		if (q == NULL)
			q = p + strlen(p) - 1;	/* no EOT at the end */
		rc = tl_docw_put(&w, (const unsigned char *)p,
		    (size_t)(q - p) + (*q != '|'), err);
		if (rc == 0 && *q == '|')
			rc = tl_docw_end(&w, err);
	}
	if (rc == 0)
		rc = tl_docw_finish(&w, err);
	fclose(f);
	if (rc != 0)
		snprintf(out, sizeof(out), "!%s", err);
	return out;
}

static void
test_write(void)
{
	SAME(wr(TL_DOCS_JSONL, "k\"", "a\"\\\n\x01\xc3\xa9|"),
	    "{\"k\\\"\":\"a\\\"\\\\\\n\\u0001\xc3\xa9\"}\n");
	SAME(wr(TL_DOCS_CSV, "t\"x", "a\"b|c\nd|"),
	    "\"t\"\"x\"\n\"a\"\"b\"\n\"c\nd\"\n");
	SAME(wr(TL_DOCS_CSV, "t", ""), "\"t\"\n");
	SAME(wr(TL_DOCS_SEP, "--", "a|b|"), "a--b");
	SAME(wr(TL_DOCS_SEP, "--", "a||"), "a----");
	SAME(wr(TL_DOCS_SEP, "--", "a|b"), "a--b");
	SAME(wr(TL_DOCS_TEXT, NULL, "a|b|"), "ab");
	SAME(wr(TL_DOCS_JSONL, "t", "\xc3|"), "!document 1 is not UTF-8 text "
	    "(it ends inside a character)");
	SAME(wr(TL_DOCS_CSV, "t", "ok|\xff|"), "!document 2 is not UTF-8 text");
}

static void
test_learn(void)
{
	char err[TL_ERRLEN];
	const unsigned char *ab = (const unsigned char *)"ab";
	tl_learner *l;
	tl_tok t;
	int i, docs;

	/* "ab" four times: as four documents only (a, b) can merge */
	for (docs = 1; docs >= 0; docs--) {
		CHECK((l = tl_learner_new(TL_TOK_BPE, err)) != NULL);
		for (i = 0; i < 4; i++) {
			CHECK(tl_learner_feed(l, ab, 2, err) == 0);
			if (docs)
				CHECK(tl_learner_doc(l, err) == 0);
		}
		CHECK(tl_learner_finish(l, 300, &t, err) == 0);
		tl_learner_free(l);
		if (docs)
			CHECK(tl_tok_nmerges(&t) == 1 && t.merges[0] == 'a' &&
			    t.merges[1] == 'b');
		else
			CHECK(tl_tok_nmerges(&t) > 1);
		tl_tok_free(&t);
	}
}

int
main(void)
{
	test_eot();
	test_jsonl();
	test_csv();
	test_lines();
	test_sep();
	test_write();
	test_learn();
	return unit_done("test_docs");
}
