/*
 * docs.c: documents in text files, read and written as streams: text
 * with a separator, JSON Lines (one object per line, the document the
 * string member KEY) and CSV (RFC 4180, the document one column).
 *
 * The readers are push parsers over a buffered byte source: they hand
 * each document's bytes to the caller as they are decoded, through a
 * fixed output buffer, so memory does not depend on the length of a
 * line, a field or a document.  The only other state is the nesting of
 * JSON values being skipped (at most TL_DOCS_DEPTH levels).
 */
#include <stdlib.h>
#include <string.h>

#include "tok/tok.h"
#include "util/util.h"

#define IBUF 65536
#define OBUF 65536
#define END (-1)		/* end of input */

struct rd {
	FILE *f;
	const char *name;
	const tl_docfmt *fmt;
	size_t alen;
	tl_docs_fn fn;
	void *ctx;
	char *err;
	int back;		/* a byte given back, or -2 */
	unsigned long line;	/* of the next byte */
	unsigned long rline;	/* where the current record began */
	size_t ipos, ilen;
	int eof;
	int lastnl;		/* the last byte read was a newline */
	int mode;		/* what string bytes are for: */
#define DROP 0
#define EMIT 1
#define MATCH 2
	int match;		/* MATCH: still equal to arg */
	size_t mpos;		/* MATCH: bytes compared */
	size_t olen;
	int depth;
	unsigned char stack[TL_DOCS_DEPTH];
	unsigned char ibuf[IBUF];
	unsigned char obuf[OBUF];
};

/* Fail with "name:line: message" (line of the current record). */
static int
bad(struct rd *r, const char *msg)
{
	return tl_err(r->err, "%s:%lu: %s", r->name, r->rline, msg);
}

static int
next(struct rd *r)
{
	int c;

	if (r->back != -2) {
		c = r->back;
		r->back = -2;
	} else {
		if (r->ipos == r->ilen) {
			if (r->eof)
				return END;
			r->ilen = fread(r->ibuf, 1, IBUF, r->f);
			r->ipos = 0;
			if (r->ilen < IBUF) {
				if (ferror(r->f))
					return -3;
				r->eof = 1;
			}
			if (r->ilen == 0)
				return END;
		}
		c = r->ibuf[r->ipos++];
	}
	if (c == '\n')
		r->line++;
	r->lastnl = c == '\n';
	return c;
}

static void
unget(struct rd *r, int c)
{
	if (c == '\n')
		r->line--;
	r->back = c;
}

static int
flush(struct rd *r)
{
	int rc = 0;

	if (r->olen > 0)
		rc = r->fn(r->ctx, r->obuf, r->olen, r->err);
	r->olen = 0;
	return rc;
}

/* A byte of a string or field, to the document, the key match or
 * nowhere. */
static int
put(struct rd *r, int c)
{
	if (r->mode == EMIT) {
		if (r->olen == OBUF && flush(r) != 0)
			return -1;
		r->obuf[r->olen++] = (unsigned char)c;
	} else if (r->mode == MATCH) {
		if (r->mpos >= r->alen ||
		    (unsigned char)r->fmt->arg[r->mpos] != c)
			r->match = 0;
		r->mpos++;
	}
	return 0;
}

/*
 * The fast path: a run of bytes that need no decoding (plain[c] set;
 * only ASCII) goes from the input buffer to put() in one piece.
 */
enum { JSON_PLAIN = 1, CSVQ_PLAIN = 2, CSV_PLAIN = 4 };
static unsigned char plain[256];

static void
plain_init(void)
{
	int c;

	for (c = 0; c < 0x80; c++) {
		plain[c] = CSVQ_PLAIN;
		if (c >= 0x20 && c != '"' && c != '\\')
			plain[c] |= JSON_PLAIN;
		if (c != ',' && c != '\n' && c != '\r')
			plain[c] |= CSV_PLAIN;
	}
	plain['"'] = 0;
}

static int
run(struct rd *r, int kind)
{
	const unsigned char *p;
	size_t i, k, n;

	if (r->back != -2)
		return 0;
	p = r->ibuf + r->ipos;
	for (i = r->ipos; i < r->ilen && plain[r->ibuf[i]] & kind; i++)
		if (r->ibuf[i] == '\n')
			r->line++;
	n = i - r->ipos;
	if (n == 0)
		return 0;
	r->ipos = i;
	r->lastnl = p[n - 1] == '\n';
	if (r->mode == EMIT)
		for (; n > 0; n -= k, p += k) {
			if (r->olen == OBUF && flush(r) != 0)
				return -1;
			k = OBUF - r->olen < n ? OBUF - r->olen : n;
			memcpy(r->obuf + r->olen, p, k);
			r->olen += k;
		}
	else
		while (n-- > 0)
			if (put(r, *p++) != 0)
				return -1;
	return 0;
}

static int
doc_end(struct rd *r)
{
	if (flush(r) != 0)
		return -1;
	return r->fn(r->ctx, NULL, 0, r->err);
}

static int
read_error(struct rd *r)
{
	return tl_err(r->err, "%s: read error", r->name);
}

/*
 * The rest of a UTF-8 sequence whose lead byte is c: checked (no
 * overlong form, no surrogate, nothing above U+10FFFF) and put.
 */
static int
utf8(struct rd *r, int c)
{
	int n, lo = 0x80, hi = 0xbf;

	if (c >= 0xc2 && c <= 0xdf)
		n = 1;
	else if (c >= 0xe0 && c <= 0xef) {
		n = 2;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 3;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else
		return bad(r, "invalid UTF-8");
	if (put(r, c) != 0)
		return -1;
	while (n-- > 0) {
		c = next(r);
		if (c < lo || c > hi) {
			if (c == -3)
				return read_error(r);
			return bad(r, "invalid UTF-8");
		}
		if (put(r, c) != 0)
			return -1;
		lo = 0x80;
		hi = 0xbf;
	}
	return 0;
}

/* A code point as UTF-8. */
static int
put_cp(struct rd *r, unsigned long cp)
{
	unsigned char b[4];
	int n, i;

	if (cp < 0x80) {
		b[0] = (unsigned char)cp;
		n = 1;
	} else if (cp < 0x800) {
		b[0] = (unsigned char)(0xc0 | cp >> 6);
		b[1] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = (unsigned char)(0xe0 | cp >> 12);
		b[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
		b[2] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		b[0] = (unsigned char)(0xf0 | cp >> 18);
		b[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3f));
		b[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
		b[3] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	for (i = 0; i < n; i++)
		if (put(r, b[i]) != 0)
			return -1;
	return 0;
}

/* Four hex digits after \u; -1 if they are not. */
static long
hex4(struct rd *r)
{
	long v = 0;
	int i, c;

	for (i = 0; i < 4; i++) {
		c = next(r);
		if (c >= '0' && c <= '9')
			v = v * 16 + (c - '0');
		else if (c >= 'a' && c <= 'f')
			v = v * 16 + (c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v = v * 16 + (c - 'A' + 10);
		else
			return -1;
	}
	return v;
}

/* A \u escape and its four hex digits (the \u read), with a
 * surrogate pair's second half. */
static int
json_u(struct rd *r)
{
	long hi, lo;

	if ((hi = hex4(r)) < 0)
		return bad(r, "\\u needs four hex digits");
	if (hi >= 0xdc00 && hi <= 0xdfff)
		return bad(r, "lone low surrogate in \\u escape");
	if (hi < 0xd800 || hi > 0xdbff)
		return put_cp(r, (unsigned long)hi);
	if (next(r) != '\\' || next(r) != 'u')
		return bad(r, "lone high surrogate in \\u escape");
	if ((lo = hex4(r)) < 0)
		return bad(r, "\\u needs four hex digits");
	if (lo < 0xdc00 || lo > 0xdfff)
		return bad(r, "lone high surrogate in \\u escape");
	return put_cp(r, 0x10000 + ((unsigned long)(hi - 0xd800) << 10) +
	    (unsigned long)(lo - 0xdc00));
}

/* A JSON string, its opening quote read; its bytes go to put(). */
static int
json_string(struct rd *r)
{
	static const char esc[] = "\"\\/bfnrt", val[] = "\"\\/\b\f\n\r\t";
	const char *e;
	int c;

	for (;;) {
		if (run(r, JSON_PLAIN) != 0)
			return -1;
		c = next(r);
		if (c == '"')
			return 0;
		if (c == END || c == '\n')
			return bad(r, "string not closed");
		if (c == -3)
			return read_error(r);
		if (c < 0x20)
			return bad(r, "control character in a string");
		if (c >= 0x80) {
			if (utf8(r, c) != 0)
				return -1;
			continue;
		}
		if (c != '\\') {
			if (put(r, c) != 0)
				return -1;
			continue;
		}
		c = next(r);
		if (c == 'u') {
			if (json_u(r) != 0)
				return -1;
		} else if (c > 0 && (e = strchr(esc, c)) != NULL) {
			if (put(r, val[e - esc]) != 0)
				return -1;
		} else
			return bad(r, "bad escape in a string");
	}
}

/* Skip JSON white space on the line; the next byte. */
static int
ws(struct rd *r)
{
	int c;

	while ((c = next(r)) == ' ' || c == '\t' || c == '\r')
		;
	return c;
}

/* A literal (true, false, null) after its first byte. */
static int
json_word(struct rd *r, const char *w)
{
	for (w++; *w; w++)
		if (next(r) != *w)
			return bad(r, "expected a value");
	return 0;
}

static int
digits(struct rd *r, int *c)
{
	if (*c < '0' || *c > '9')
		return bad(r, "bad number");
	while (*c >= '0' && *c <= '9')
		*c = next(r);
	return 0;
}

/* A number starting with c; the byte after it is given back. */
static int
json_number(struct rd *r, int c)
{
	if (c == '-')
		c = next(r);
	if (c == '0')
		c = next(r);
	else if (digits(r, &c) != 0)
		return -1;
	if (c == '.') {
		c = next(r);
		if (digits(r, &c) != 0)
			return -1;
	}
	if (c == 'e' || c == 'E') {
		c = next(r);
		if (c == '+' || c == '-')
			c = next(r);
		if (digits(r, &c) != 0)
			return -1;
	}
	unget(r, c);
	return 0;
}

/* A scalar or the opening of a container, starting with c. */
static int
json_open(struct rd *r, int c)
{
	switch (c) {
	case '"':
		return json_string(r);
	case 't':
		return json_word(r, "true");
	case 'f':
		return json_word(r, "false");
	case 'n':
		return json_word(r, "null");
	case '{':
	case '[':
		if (r->depth == TL_DOCS_DEPTH)
			return bad(r, "values nested too deep");
		r->stack[r->depth++] = (unsigned char)c;
		return 0;
	}
	if (c == '-' || (c >= '0' && c <= '9'))
		return json_number(r, c);
	return bad(r, "expected a value");
}

/* A member's name and colon, after the opening quote of the name. */
static int
json_key(struct rd *r)
{
	if (json_string(r) != 0)
		return -1;
	if (ws(r) != ':')
		return bad(r, "expected ':'");
	return 0;
}

/*
 * Skip a value starting with c (nested values through r->stack), its
 * bytes dropped.  opened: the innermost container was just opened, so
 * it may close at once and needs no comma before its first value.
 */
static int
json_skip(struct rd *r, int c)
{
	int base = r->depth, top, close, opened, d;

	r->mode = DROP;
	if (json_open(r, c) != 0)
		return -1;
	opened = r->depth > base;
	while (r->depth > base) {
		top = r->stack[r->depth - 1];
		close = top == '{' ? '}' : ']';
		c = ws(r);
		if (c == close) {
			r->depth--;
			opened = 0;
			continue;
		}
		if (!opened) {
			if (c != ',')
				return bad(r, top == '{' ?
				    "expected ',' or '}'" : "expected ',' or ']'");
			c = ws(r);
		}
		if (top == '{') {
			if (c != '"')
				return bad(r, "expected a member name");
			if (json_key(r) != 0)
				return -1;
			c = ws(r);
		}
		d = r->depth;
		if (json_open(r, c) != 0)
			return -1;
		opened = r->depth > d;
	}
	return 0;
}

/* One member of the line's object, after the opening quote of its
 * name; *found counts the document members. */
static int
json_member(struct rd *r, int *found)
{
	int c;

	r->mode = MATCH;
	r->match = 1;
	r->mpos = 0;
	if (json_key(r) != 0)
		return -1;
	c = ws(r);
	if (!r->match || r->mpos != r->alen)
		return json_skip(r, c);
	if (*found)
		return tl_err(r->err, "%s:%lu: member \"%s\" appears twice",
		    r->name, r->rline, r->fmt->arg);
	if (c != '"')
		return tl_err(r->err, "%s:%lu: member \"%s\" is not a string",
		    r->name, r->rline, r->fmt->arg);
	*found = 1;
	r->mode = EMIT;
	return json_string(r);
}

/* One line: an object, or only white space (skipped).  1 at the end
 * of the input. */
static int
json_line(struct rd *r)
{
	int c, found = 0;

	r->rline = r->line;
	c = ws(r);
	if (c == END)
		return 1;
	if (c == '\n')
		return 0;
	if (c == -3)
		return read_error(r);
	if (c != '{')
		return bad(r, "expected '{'");
	c = ws(r);
	if (c != '}')
		for (;;) {
			if (c != '"')
				return bad(r, "expected a member name");
			if (json_member(r, &found) != 0)
				return -1;
			c = ws(r);
			if (c == '}')
				break;
			if (c != ',')
				return bad(r, "expected ',' or '}'");
			c = ws(r);
		}
	c = ws(r);
	if (c != '\n' && c != END)
		return bad(r, c == -3 ? "read error" :
		    "more after the object (one object per line)");
	if (!found)
		return tl_err(r->err, "%s:%lu: no string member \"%s\"",
		    r->name, r->rline, r->fmt->arg);
	return doc_end(r);
}

/*
 * CSV: one field, starting with c; *c gets the byte that ends it
 * (',', '\n' or END).
 */
static int
csv_field(struct rd *r, int *cp)
{
	unsigned long qline;
	int c = *cp;

	if (c == '"') {
		qline = r->line;
		for (;;) {
			if (run(r, CSVQ_PLAIN) != 0)
				return -1;
			c = next(r);
			if (c == '"' && (c = next(r)) != '"')
				break;
			if (c == END)
				return tl_err(r->err, "%s:%lu: quote opened on "
				    "line %lu is not closed", r->name,
				    r->line - (r->line > qline && r->lastnl),
				    qline);
			if (c == -3)
				return read_error(r);
			if (c >= 0x80 ? utf8(r, c) : put(r, c))
				return -1;
		}
		if (c == '\r' && (c = next(r)) != '\n')
			return bad(r, "text after a closing quote");
		if (c != ',' && c != '\n' && c != END)
			return bad(r, c == -3 ? "read error" :
			    "text after a closing quote");
		*cp = c;
		return 0;
	}
	for (;; c = next(r)) {
		if (c == ',' || c == '\n' || c == END)
			break;
		if (c == -3)
			return read_error(r);
		if (c == '"')
			return bad(r, "quote inside an unquoted field");
		if (c == '\r') {
			if ((c = next(r)) == '\n')
				break;
			unget(r, c);
			c = '\r';
		}
		if ((c >= 0x80 ? utf8(r, c) : put(r, c)) ||
		    run(r, CSV_PLAIN) != 0)
			return -1;
	}
	*cp = c;
	return 0;
}

/*
 * One record; *nf gets its number of fields.  col (0-based) is the
 * field emitted, or -1 for the header, whose fields are matched
 * against the argument (*hit gets the 1-based column of the first
 * match).  1 at the end of the input.
 */
static int
csv_record(struct rd *r, long col, long *nf, long *hit)
{
	int c;
	long f;

	*nf = 0;
	r->rline = r->line;
	c = next(r);
	if (c == '\r') {
		if ((c = next(r)) != '\n') {
			unget(r, c);
			c = '\r';
		}
	}
	if (c == END)
		return 1;
	if (c == '\n')		/* an empty line is no record */
		return 0;
	for (f = 0;; f++) {
		r->mode = f == col ? EMIT : col < 0 ? MATCH : DROP;
		r->match = 1;
		r->mpos = 0;
		if (csv_field(r, &c) != 0)
			return -1;
		if (col < 0 && *hit == 0 && r->match && r->mpos == r->alen)
			*hit = f + 1;
		if (c != ',')
			break;
		c = next(r);
	}
	*nf = f + 1;
	return 0;
}

/* The column the argument names, from the header. */
static int
csv_header(struct rd *r, long *col)
{
	const char *a = r->fmt->arg;
	long nf = 0, hit = 0;
	int rc;
	char *end;

	do
		if ((rc = csv_record(r, -1, &nf, &hit)) != 0)
			return rc;
	while (nf == 0);
	if (hit == 0 && *a >= '1' && *a <= '9') {
		hit = strtol(a, &end, 10);
		if (*end != '\0' || hit > nf)
			hit = 0;
	}
	if (hit == 0)
		return tl_err(r->err, "%s:%lu: no column \"%s\" in the header "
		    "(%ld field%s)", r->name, r->rline, a, nf,
		    nf == 1 ? "" : "s");
	*col = hit - 1;
	return 0;
}

static int
csv_read(struct rd *r)
{
	long col = 0, nf, hit;
	int rc;

	if ((rc = csv_header(r, &col)) != 0)
		return rc < 0 ? -1 : 0;
	for (;;) {
		if ((rc = csv_record(r, col, &nf, &hit)) != 0)
			return rc < 0 ? -1 : 0;
		if (nf == 0)	/* empty line */
			continue;
		if (nf <= col) {
			r->olen = 0;
			return tl_err(r->err, "%s:%lu: no column %ld (the row "
			    "has %ld field%s)", r->name, r->rline, col + 1,
			    nf, nf == 1 ? "" : "s");
		}
		if (doc_end(r) != 0)
			return -1;
	}
}

static int
jsonl_read(struct rd *r)
{
	int rc;

	while ((rc = json_line(r)) == 0)
		;
	return rc < 0 ? -1 : 0;
}

/*
 * Text with a separator: the bytes matching a prefix of it are held
 * back (they are sep[0..m)); on a mismatch the longest held suffix
 * that is still a prefix stays (Knuth-Morris-Pratt) and the rest goes
 * out.
 */
static int
sep_read(struct rd *r)
{
	const unsigned char *s = (const unsigned char *)r->fmt->arg;
	size_t n = r->alen, m = 0, k, *fail;
	int c, any = 0, rc = -1;

	if ((fail = malloc(n * sizeof(*fail))) == NULL)
		return tl_err(r->err, "out of memory");
	for (fail[0] = 0, k = 0, m = 1; m < n; m++) {
		while (k > 0 && s[m] != s[k])
			k = fail[k - 1];
		if (s[m] == s[k])
			k++;
		fail[m] = k;
	}
	r->mode = EMIT;
	for (m = 0; (c = next(r)) >= 0;) {
		while (m > 0 && s[m] != c) {
			for (k = 0; k < m - fail[m - 1]; k++)
				if (put(r, s[k]) != 0)
					goto out;
			m = fail[m - 1];
			any = 1;
		}
		if (s[m] != c) {
			if (put(r, c) != 0)
				goto out;
			any = 1;
		} else if (++m == n) {
			m = 0;
			any = 0;
			if (doc_end(r) != 0)
				goto out;
		}
	}
	if (c == -3) {
		read_error(r);
		goto out;
	}
	for (k = 0; k < m; k++)
		if (put(r, s[k]) != 0)
			goto out;
	rc = (any || m > 0) ? doc_end(r) : 0;
out:
	free(fail);
	return rc;
}

/* The whole input one document (none if it is empty). */
static int
text_read(struct rd *r)
{
	int c, any = 0;

	r->mode = EMIT;
	while ((c = next(r)) >= 0) {
		if (put(r, c) != 0)
			return -1;
		any = 1;
	}
	if (c == -3)
		return read_error(r);
	return any ? doc_end(r) : 0;
}

int
tl_docs_read(FILE *f, const char *name, const tl_docfmt *fmt, tl_docs_fn fn,
    void *ctx, char *err)
{
	struct rd *r;
	int c, rc;

	if ((fmt->kind == TL_DOCS_SEP || fmt->kind == TL_DOCS_JSONL ||
	    fmt->kind == TL_DOCS_CSV) && (fmt->arg == NULL || *fmt->arg == 0))
		return tl_err(err, "empty separator, key or column");
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return tl_err(err, "out of memory");
	r->f = f;
	r->name = name;
	r->fmt = fmt;
	r->alen = fmt->arg ? strlen(fmt->arg) : 0;
	r->fn = fn;
	r->ctx = ctx;
	r->err = err;
	r->back = -2;
	r->line = r->rline = 1;
	if (plain['a'] == 0)
		plain_init();
	if (fmt->kind != TL_DOCS_TEXT && fmt->kind != TL_DOCS_SEP) {
		/* a byte order mark is no text */
		if ((c = next(r)) == 0xef && next(r) == 0xbb &&
		    next(r) == 0xbf)
			;
		else
			r->ipos = 0, r->back = -2, r->line = 1;
	}
	switch (fmt->kind) {
	case TL_DOCS_JSONL:
		rc = jsonl_read(r);
		break;
	case TL_DOCS_CSV:
		rc = csv_read(r);
		break;
	case TL_DOCS_SEP:
		rc = sep_read(r);
		break;
	default:
		rc = text_read(r);
		break;
	}
	free(r);
	return rc;
}

/*
 * Writing documents back out.  JSON Lines and CSV hold UTF-8 text, so
 * each document is checked as it goes (as utf8() above does, one byte
 * at a time): a document that is not UTF-8 cannot be written in them
 * without loss, and is refused.
 */
void
tl_docw_init(tl_docw *w, FILE *f, const tl_docfmt *fmt)
{
	memset(w, 0, sizeof(*w));
	w->f = f;
	w->fmt = fmt;
}

static void
json_esc(FILE *f, const unsigned char *p, size_t n)
{
	size_t i, j;
	int c;

	for (i = 0; i < n; i++) {
		/* a run that needs no escape goes out whole */
		for (j = i; j < n && p[j] >= 0x20 && p[j] != '"' &&
		    p[j] != '\\'; j++)
			;
		if (j > i) {
			fwrite(p + i, 1, j - i, f);
			if ((i = j) == n)
				break;
		}
		c = p[i];
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c == '\r')
			fputs("\\r", f);
		else if (c == '\t')
			fputs("\\t", f);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", (unsigned)c);
		else
			putc(c, f);
	}
}

/* Check p[0..n) as the continuation of the document's UTF-8. */
static int
docw_utf8(tl_docw *w, const unsigned char *p, size_t n)
{
	size_t i;
	int c;

	for (i = 0; i < n; i++) {
		c = p[i];
		if (w->need > 0) {
			if (c < w->lo || c > w->hi)
				return -1;
			w->need--;
			w->lo = 0x80;
			w->hi = 0xbf;
			continue;
		}
		if (c < 0x80)
			continue;
		w->lo = 0x80;
		w->hi = 0xbf;
		if (c >= 0xc2 && c <= 0xdf)
			w->need = 1;
		else if (c >= 0xe0 && c <= 0xef) {
			w->need = 2;
			if (c == 0xe0)
				w->lo = 0xa0;
			else if (c == 0xed)
				w->hi = 0x9f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			w->need = 3;
			if (c == 0xf0)
				w->lo = 0x90;
			else if (c == 0xf4)
				w->hi = 0x8f;
		} else
			return -1;
	}
	return 0;
}

static void
docw_open(tl_docw *w)
{
	const tl_docfmt *fmt = w->fmt;

	if (w->open)
		return;
	w->open = 1;
	w->any = 0;
	if (fmt->kind == TL_DOCS_SEP && w->pend)
		fputs(fmt->arg, w->f);
	w->pend = 0;
	if (fmt->kind == TL_DOCS_JSONL) {
		fputs("{\"", w->f);
		json_esc(w->f, (const unsigned char *)fmt->arg,
		    strlen(fmt->arg));
		fputs("\":\"", w->f);
	} else if (fmt->kind == TL_DOCS_CSV) {
		if (w->ndoc == 0 && !w->header)
			tl_docw_header(w);
		putc('"', w->f);
	}
}

void
tl_docw_header(tl_docw *w)
{
	const char *a;

	if (w->fmt->kind != TL_DOCS_CSV || w->header)
		return;
	w->header = 1;
	putc('"', w->f);
	for (a = w->fmt->arg; *a; a++) {
		if (*a == '"')
			putc('"', w->f);
		putc(*a, w->f);
	}
	fputs("\"\n", w->f);
}

int
tl_docw_put(tl_docw *w, const unsigned char *p, size_t n, char *err)
{
	size_t i, k;

	if (n == 0)
		return 0;
	docw_open(w);
	w->any = 1;
	switch (w->fmt->kind) {
	case TL_DOCS_JSONL:
	case TL_DOCS_CSV:
		if (docw_utf8(w, p, n) != 0)
			return tl_err(err, "document %llu is not UTF-8 text",
			    w->ndoc + 1);
		if (w->fmt->kind == TL_DOCS_JSONL) {
			json_esc(w->f, p, n);
			break;
		}
		for (i = 0; i < n; i = k + 1) {
			const unsigned char *q = memchr(p + i, '"', n - i);

			k = q ? (size_t)(q - p) : n;
			fwrite(p + i, 1, k - i, w->f);
			if (q)
				fputs("\"\"", w->f);
		}
		break;
	default:
		fwrite(p, 1, n, w->f);
	}
	return 0;
}

int
tl_docw_end(tl_docw *w, char *err)
{
	docw_open(w);
	if (w->need > 0)
		return tl_err(err, "document %llu is not UTF-8 text (it ends "
		    "inside a character)", w->ndoc + 1);
	switch (w->fmt->kind) {
	case TL_DOCS_JSONL:
		fputs("\"}\n", w->f);
		break;
	case TL_DOCS_CSV:
		fputs("\"\n", w->f);
		break;
	case TL_DOCS_SEP:
		w->pend = 1;	/* written before the next document */
		break;
	}
	w->open = 0;
	w->ndoc++;
	return 0;
}

/*
 * The separator goes between documents, and after the last one only
 * when that is empty: the text reads back as the same documents
 * whether or not the original ended with a separator, and whatever
 * the last document ends with (text after the last separator is a
 * document, an empty one only when a separator ends it).
 */
int
tl_docw_finish(tl_docw *w, char *err)
{
	tl_docw_header(w);
	if (w->open && tl_docw_end(w, err) != 0)
		return -1;
	if (w->fmt->kind == TL_DOCS_SEP && w->pend && !w->any)
		fputs(w->fmt->arg, w->f);
	w->pend = 0;
	return 0;
}
