/*
 * util.h: small helpers shared by the library and the programs:
 * error messages, dying, checked allocation, little-endian byte
 * access, CRC-32, and a seeded random number generator.
 */
#ifndef TL_UTIL_H
#define TL_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

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

/* Wall-clock seconds from a monotonic clock. */
double tl_now(void);
/* Peak resident set size of this process in KiB (0 if unknown). */
long tl_peak_rss_kib(void);
/* Number of online CPUs (at least 1). */
int tl_ncpu(void);

#endif
