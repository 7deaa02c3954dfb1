/*
 * opt.h: the programs' command lines.  A program declares its options
 * once, as a table (names, argument, allowed values, required or not);
 * getopt_long's tables, the usage synopsis, the one-line usage errors
 * and the lists of allowed values all come from it, and -h (usage on
 * stdout, status 0) and -V (version) are handled here, not in each
 * main.  Programs only: errors die with status 2.
 */
#ifndef TL_OPT_H
#define TL_OPT_H

#include <getopt.h>
#include <stdio.h>

#include "util.h"

enum {
	TL_OPT_REQ = 1,		/* required: "-m model", not "[-m model]" */
	TL_OPT_SHORT = 2	/* a long option whose key letter is also
				 * its short form (--seed and -s) */
};

/* Keys of long options that have no short form start here. */
#define TL_OPT_LONG 256
/* The key every row of tl_shape_opts returns. */
#define TL_OPT_SHAPE 255

typedef struct {
	int key;		/* returned by tl_opt_next: the letter of a
				 * short option, else >= TL_OPT_LONG */
	const char *name;	/* long name without dashes, or NULL for a
				 * short option */
	const char *arg;	/* the argument's name in the usage, or NULL
				 * for a flag */
	const char *const *vals;	/* the allowed values (nvals), or NULL */
	int nvals;
	int flags;		/* TL_OPT_REQ, TL_OPT_SHORT */
} tl_opt;

/* A program's command line: up to three option tables (each ended by a
 * row whose key is 0), the operands as the usage shows them, and how
 * many there may be. */
typedef struct {
	const tl_opt *tabs[3];
	const char *operands;	/* "[stream]", or NULL */
	int maxargs;
	const char *more;	/* further synopsis lines, or NULL */
	const char *help;	/* what -h prints after the synopsis, or NULL */
} tl_cmd;

#define TL_OPT_MAX 64
typedef struct {
	const tl_cmd *cmd;
	int argc;
	char **argv;
	/* the option just returned by tl_opt_next */
	const tl_opt *opt;
	const char *name;	/* its name for messages: "--norm", "-m" */
	const char *arg;	/* its argument, or NULL */
	int val;		/* the index of arg in opt->vals */
	/* after the last option: the operands */
	char **args;
	int nargs;
	/* getopt_long's tables, built from the cmd */
	struct option lo[TL_OPT_MAX + 3];
	const tl_opt *row[TL_OPT_MAX];
	int seen[TL_OPT_MAX];
	int n;
	char namebuf[40];
	char shorts[3 * TL_OPT_MAX + 8];
} tl_optparse;

/* Start parsing argv (also sets the program's name for messages). */
void tl_opt_begin(tl_optparse *op, const tl_cmd *cmd, int argc,
    char **argv);
/* The key of the next option (arg, val and name in op), or -1 after
 * the last, once the required options and the count of operands are
 * checked.  -h and -V exit here; every usage error dies with one line
 * and status 2. */
int tl_opt_next(tl_optparse *op);
/* Was the option of key given? */
int tl_opt_given(const tl_optparse *op, int key);
/* The usage synopsis on f. */
void tl_opt_usage(FILE *f, const tl_cmd *cmd);
/* "a, b or c" from names (n of them), into buf of size len. */
char *tl_opt_list(char *buf, size_t len, const char *const *names, int n);

#endif
