/*
 * util.h: the bottom layer of lib/: error messages, dying, checked
 * allocation, atomic files, byte helpers, CRC-32, random numbers,
 * clocks (util.c), and the programs' command lines (opt.c).
 */
#ifndef TL_UTIL_H
#define TL_UTIL_H

#include <getopt.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ======== util.c ======== */

/*
 * util.c: small helpers shared by the library and the programs:
 * error messages, dying, checked allocation, little-endian byte
 * access, CRC-32, and a seeded random number generator.
 */

#define TL_VERSION "0.1.0"

/* Library functions that can fail return 0 on success and -1 on
 * failure, leaving a one-line message (no program name, no newline)
 * in the caller's buffer of TL_ERRLEN bytes. */
#define TL_ERRLEN 256
int tl_err(char *err, const char *fmt, ...);	/* fills err, returns -1 */

/* Programs only: "tl-NAME: message" on stderr, then exit(status).
 * A format ending in ':' appends strerror(errno). */
void tl_setprog(const char *argv0);
const char *tl_prog(void);
void tl_die(int status, const char *fmt, ...);
void tl_warn(const char *fmt, ...);
void *tl_xmalloc(size_t n);		/* dies on failure */
void *tl_xcalloc(size_t n, size_t size);

/* Atomic files: every file tl writes is written under a temporary
 * name beside its target (mode 0666 less the umask), flushed to disk,
 * renamed over the target and its directory synced, so that a crash
 * or kill never leaves a half-written file under the target's name;
 * on any failure the temporary is removed. */
typedef struct {
	FILE *f;		/* write here between open and commit */
	char *path, *tmp;
} tl_afile;
int tl_afile_open(tl_afile *a, const char *path, char *err);
/* Flush, fsync, close and rename; -1 with a message on failure. */
int tl_afile_commit(tl_afile *a, char *err);
/* Close and remove the temporary (after a failed write). */
void tl_afile_abort(tl_afile *a);
/* Programs, once: remove the temporaries of open atomic files when the
 * process exits (tl_die) or SIGINT, SIGTERM or SIGHUP ends it. */
void tl_afile_signals(void);
/* Flush and close stdout; die if anything was lost (full disk, closed
 * pipe is reported by the caller's choice of SIGPIPE handling). */
void tl_fshut(FILE *f, const char *name);
/* Parse a whole decimal number in [lo, hi] or die with status 2. */
long tl_atol(const char *s, const char *what, long lo, long hi);
double tl_atof(const char *s, const char *what, double lo, double hi);
/* A size: bytes, or a number (decimals allowed) of KiB, MiB or GiB with
 * K, M or G; 1 byte to 1 TiB, and what size_t holds; else die with
 * status 2. */
uint64_t tl_atosize(const char *s, const char *what);

/* Little-endian fixed-width fields. */
void tl_put_u16(unsigned char *p, uint16_t v);
void tl_put_u32(unsigned char *p, uint32_t v);
void tl_put_u64(unsigned char *p, uint64_t v);
void tl_put_f32(unsigned char *p, float v);
uint16_t tl_get_u16(const unsigned char *p);
uint32_t tl_get_u32(const unsigned char *p);
uint64_t tl_get_u64(const unsigned char *p);
float tl_get_f32(const unsigned char *p);

/* CRC-32 (IEEE 802.3, as zlib): start with crc = 0. */
uint32_t tl_crc32(uint32_t crc, const void *buf, size_t len);

/* Random numbers: xoshiro128** state seeded with splitmix64. The
 * state is four words so that checkpoints can store it exactly. */
typedef struct { uint32_t s[4]; } tl_rng;
void tl_rng_seed(tl_rng *r, uint64_t seed);
uint32_t tl_rng_u32(tl_rng *r);
uint32_t tl_rng_below(tl_rng *r, uint32_t n);	/* uniform in [0, n) */
float tl_rng_float(tl_rng *r);			/* uniform in [0, 1) */
float tl_rng_normal(tl_rng *r);			/* standard normal */

/* A 64-bit hash of x (splitmix64's finaliser): random bits that are a
 * function of a counter, for draws that must not depend on the order
 * in which threads make them. */
uint64_t tl_hash64(uint64_t x);
/* The hash of the pair (a, b). */
uint64_t tl_hash2(uint64_t a, uint64_t b);

/*
 * Dropout as a function of indices, so that a mask is the same for
 * any thread count, any split of a step into passes and after a
 * resume, and a backward pass can make its forward's mask again.  An
 * element of a row is dropped when its 8 bits are below thr (rate
 * thr / 256), else multiplied by scale = 256 / (256 - thr).  A row is
 * named by a stream, tl_drop_stream of the step's key and the row's
 * indices; its elements are numbered from 0, eight to a hash.
 */
typedef struct {
	uint32_t thr;		/* 0: no dropout */
	float scale;
	uint64_t key;		/* the step's, with the site's folded in */
	uint64_t row0;		/* a pass's first sequence in its step */
} tl_drop;
/* The dropout of rate p (in [0, 1), rounded to a multiple of 1/256)
 * under key. */
tl_drop tl_drop_make(float p, uint64_t key, uint64_t row0);
/* The same rate and rows, the key of site s of layer l. */
tl_drop tl_drop_site(const tl_drop *d, int s, int l);
/* The stream of row (seq, a, t) of the pass: seq its sequence in the
 * pass (d->row0 is added), a a further index (a head, or 0), t its
 * position. */
uint64_t tl_drop_stream(const tl_drop *d, uint64_t seq, uint64_t a,
    uint64_t t);
/* y[i] = x[i] * scale, or 0 where dropped, for elements [0, n) of
 * the row of stream s; y may be x. */
void tl_drop_row(const tl_drop *d, uint64_t s, float *y, const float *x,
    int n);

/* Wall-clock seconds from a monotonic clock. */
double tl_now(void);
/* Peak resident set size of this process in KiB (0 if unknown). */
long tl_peak_rss_kib(void);
/* Number of online CPUs (at least 1). */
int tl_ncpu(void);

/* ======== progress.c ======== */

/*
 * progress.c: a progress line on stderr for long work, only when
 * stderr is a terminal: done of total (when known), rate and time left,
 * redrawn in place at most four times a second; tl_progress_end draws
 * the summary (done, time, mean rate) and a newline.  A zeroed
 * tl_progress is off: update, add and end do nothing.
 */
typedef struct {
	const char *what;	/* the line's first word: "tl-eval" */
	const char *unit;	/* "bytes" (shown as B, kB, MB), "tokens" */
	uint64_t total;		/* 0: unknown */
	uint64_t done;
	double t0, tlast;	/* begin, the last line drawn */
	size_t width;		/* of the last line drawn */
	int on;			/* stderr is a terminal */
} tl_progress;
void tl_progress_begin(tl_progress *p, const char *what, uint64_t total,
    const char *unit);
/* Begin on the input f: its bytes when f is a regular file (the caller
 * updates with ftello), else an unknown total in unit.  True if bytes. */
int tl_progress_file(tl_progress *p, const char *what, FILE *f,
    const char *unit);
void tl_progress_update(tl_progress *p, uint64_t done);
void tl_progress_add(tl_progress *p, uint64_t n);	/* done += n */
void tl_progress_end(tl_progress *p);
/* The text of the line at time now (tl_now), the summary if final. */
void tl_progress_line(const tl_progress *p, double now, int final, char *b,
    size_t n);
/* Seconds as m:ss, or h:mm:ss from an hour. */
void tl_fmt_time(char *b, size_t n, double s);

/* ======== opt.c ======== */

/*
 * opt.c: the programs' command lines.  A program declares its options
 * once, as a table (names, argument, allowed values, required or not);
 * getopt_long's tables, the usage synopsis, the one-line usage errors
 * and the lists of allowed values all come from it, and -h (usage on
 * stdout, status 0) and -V (version) are handled here, not in each
 * main.  Programs only: errors die with status 2.
 */

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
	const char *build;	/* what -V prints after the version (a
				 * build's variant), or NULL or "" */
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
