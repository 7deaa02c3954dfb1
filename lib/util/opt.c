/*
 * opt.c: one skeleton for every program's command line (util.h): the
 * getopt_long tables, the usage synopsis, the value lists and the
 * one-line usage errors, all from the program's option table.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

/* Keys that getopt_long returns for the long options: row i's. */
#define LONGVAL 0x10000

char *
tl_opt_list(char *buf, size_t len, const char *const *names, int n)
{
	size_t k = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; i < n && k < len; i++)
		k += (size_t)snprintf(buf + k, len - k, "%s%s",
		    i == 0 ? "" : i == n - 1 ? " or " : ", ", names[i]);
	return buf;
}

/* Is row r given by its letter (-k) too? */
static int
isshort(const tl_opt *r)
{
	return r->name == NULL || (r->flags & TL_OPT_SHORT);
}

/* style(9)'s order of option letters: h before V before v. */
static int
letter_rank(int c)
{
	return tolower(c) * 2 + (islower(c) != 0);
}

static int
cmp_rows(const void *a, const void *b)
{
	const tl_opt *x = *(const tl_opt *const *)a;
	const tl_opt *y = *(const tl_opt *const *)b;

	/* short options before long ones, each sorted */
	if ((x->name == NULL) != (y->name == NULL))
		return x->name == NULL ? -1 : 1;
	if (x->name == NULL)
		return letter_rank(x->key) - letter_rank(y->key);
	return strcmp(x->name, y->name);
}

/* The usage's item for row r: "-k topk", "--norm a|b|c". */
static void
item(char *b, size_t n, const tl_opt *r)
{
	size_t k;
	int i;

	if (r->name)
		k = (size_t)snprintf(b, n, "--%s", r->name);
	else
		k = (size_t)snprintf(b, n, "-%c", r->key);
	if (r->vals)
		for (i = 0; i < r->nvals && k < n; i++)
			k += (size_t)snprintf(b + k, n - k, "%c%s",
			    i ? '|' : ' ', r->vals[i]);
	else if (r->arg && k < n)
		snprintf(b + k, n - k, " %s", r->arg);
}

/* Print word w on f, wrapping before column 80 to the indent. */
static void
put_word(FILE *f, const char *w, int *col, int indent)
{
	int len = (int)strlen(w);

	if (*col + 1 + len > 79 && *col > indent) {
		fprintf(f, "\n%*s", indent, "");
		*col = indent;
	} else if (*col > 0) {
		fputc(' ', f);
		(*col)++;
	}
	fputs(w, f);
	*col += len;
}

void
tl_opt_usage(FILE *f, const tl_cmd *cmd)
{
	const tl_opt *rows[TL_OPT_MAX];
	char flags[TL_OPT_MAX + 3] = "hV", w[256];
	int n = 0, nf = 2, i, t, col, indent, pass;

	for (t = 0; t < 3 && cmd->tabs[t]; t++)
		for (i = 0; cmd->tabs[t][i].key && n < TL_OPT_MAX; i++)
			rows[n++] = &cmd->tabs[t][i];
	qsort(rows, (size_t)n, sizeof rows[0], cmp_rows);
	/* the flags of one letter, together: [-hjV] */
	for (i = 0; i < n; i++)
		if (rows[i]->name == NULL && rows[i]->arg == NULL)
			flags[nf++] = (char)rows[i]->key;
	for (i = 1; i < nf; i++)
		for (t = i; t > 0 && letter_rank(flags[t - 1]) >
		    letter_rank(flags[t]); t--) {
			char c = flags[t];

			flags[t] = flags[t - 1];
			flags[t - 1] = c;
		}
	flags[nf] = '\0';
	col = fprintf(f, "usage: %s", tl_prog());
	indent = col + 1;
	snprintf(w, sizeof w, "[-%s]", flags);
	put_word(f, w, &col, indent);
	/* the optional ones, then the required ones */
	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < n; i++) {
			if ((rows[i]->name == NULL && rows[i]->arg == NULL) ||
			    !(rows[i]->flags & TL_OPT_REQ) != !pass)
				continue;
			item(w + 1, sizeof w - 2, rows[i]);
			if (pass == 0) {
				w[0] = '[';
				strcat(w, "]");
				put_word(f, w, &col, indent);
			} else
				put_word(f, w + 1, &col, indent);
		}
	if (cmd->operands)
		put_word(f, cmd->operands, &col, indent);
	fputc('\n', f);
	if (cmd->more)
		fputs(cmd->more, f);
}

void
tl_opt_begin(tl_optparse *op, const tl_cmd *cmd, int argc, char **argv)
{
	const tl_opt *r;
	char *s;
	int t, nl = 0;

	memset(op, 0, sizeof *op);
	op->cmd = cmd;
	op->argc = argc;
	op->argv = argv;
	tl_setprog(argv[0]);
	s = op->shorts;
	*s++ = ':';
	*s++ = 'h';
	*s++ = 'V';
	for (t = 0; t < 3 && cmd->tabs[t]; t++)
		for (r = cmd->tabs[t]; r->key; r++) {
			if (op->n == TL_OPT_MAX)
				tl_die(1, "too many options");
			op->row[op->n] = r;
			if (r->name) {
				op->lo[nl].name = r->name;
				op->lo[nl].has_arg = r->arg ? required_argument :
				    no_argument;
				op->lo[nl].flag = NULL;
				op->lo[nl++].val = LONGVAL + op->n;
			}
			if (isshort(r)) {
				*s++ = (char)r->key;
				if (r->arg)
					*s++ = ':';
			}
			op->n++;
		}
	*s = '\0';
	op->lo[nl].name = "help";
	op->lo[nl].has_arg = no_argument;
	op->lo[nl++].val = 'h';
	op->lo[nl].name = "version";
	op->lo[nl].has_arg = no_argument;
	op->lo[nl++].val = 'V';
	opterr = 0;
	optind = 1;
}

/* After the last option: the operands and the required options. */
static int
finish(tl_optparse *op)
{
	int i;

	op->args = op->argv + optind;
	op->nargs = op->argc - optind;
	if (op->nargs > op->cmd->maxargs)
		tl_die(2, "unexpected argument '%s'",
		    op->args[op->cmd->maxargs]);
	for (i = 0; i < op->n; i++)
		if ((op->row[i]->flags & TL_OPT_REQ) && !op->seen[i]) {
			if (op->row[i]->name)
				tl_die(2, "--%s is required", op->row[i]->name);
			tl_die(2, "-%c is required", op->row[i]->key);
		}
	return -1;
}

/* -h and -V, and getopt's complaints ('?' and ':'). */
static void
special(tl_optparse *op, int ch)
{
	const char *arg = optind > 0 ? op->argv[optind - 1] : "?", *b;

	switch (ch) {
	case 'h':
		tl_opt_usage(stdout, op->cmd);
		if (op->cmd->help)
			printf("\n%s", op->cmd->help);
		tl_fshut(stdout, "stdout");
		exit(0);
	case 'V':
		b = op->cmd->build;
		printf("%s %s%s%s\n", tl_prog(), TL_VERSION,
		    b && *b ? " " : "", b ? b : "");
		tl_fshut(stdout, "stdout");
		exit(0);
	case ':':
		tl_die(2, "option %s needs an argument", arg);
		break;
	default:
		if (optopt > 0 && optopt < 128 && strncmp(arg, "--", 2) != 0)
			tl_die(2, "unknown option -%c", optopt);
		tl_die(2, "unknown option %s", arg);
	}
}

int
tl_opt_next(tl_optparse *op)
{
	const tl_opt *r;
	char list[256];
	int ch, i;

	ch = getopt_long(op->argc, op->argv, op->shorts, op->lo, NULL);
	if (ch == -1)
		return finish(op);
	if (ch >= LONGVAL)
		i = ch - LONGVAL;
	else {
		for (i = 0; i < op->n; i++)
			if (isshort(op->row[i]) && op->row[i]->key == ch)
				break;
		if (i == op->n)
			special(op, ch);
	}
	r = op->opt = op->row[i];
	op->seen[i] = 1;
	op->arg = optarg;
	op->val = -1;
	if (ch >= LONGVAL)
		snprintf(op->namebuf, sizeof op->namebuf, "--%s", r->name);
	else
		snprintf(op->namebuf, sizeof op->namebuf, "-%c", ch);
	op->name = op->namebuf;
	if (r->vals) {
		for (i = 0; i < r->nvals; i++)
			if (strcmp(optarg, r->vals[i]) == 0)
				op->val = i;
		if (op->val < 0)
			tl_die(2, "%s %s: not %s", op->name, optarg,
			    tl_opt_list(list, sizeof list, r->vals, r->nvals));
	}
	return r->key;
}

int
tl_opt_given(const tl_optparse *op, int key)
{
	int i;

	for (i = 0; i < op->n; i++)
		if (op->row[i]->key == key && op->seen[i])
			return 1;
	return 0;
}
