/*
 * util.c: error messages, dying, checked allocation, atomic files,
 * byte helpers, CRC-32, the random number generator, clocks.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "util/util.h"

static const char *progname = "tl";

int
tl_err(char *err, const char *fmt, ...)
{
	va_list ap;

	if (err) {
		va_start(ap, fmt);
		vsnprintf(err, TL_ERRLEN, fmt, ap);
		va_end(ap);
	}
	return -1;
}

void
tl_setprog(const char *argv0)
{
	const char *p;

	if (argv0 == NULL)
		return;
	p = strrchr(argv0, '/');
	progname = p ? p + 1 : argv0;
}

const char *
tl_prog(void)
{
	return progname;
}

static void
vwarn(const char *fmt, va_list ap)
{
	size_t n = strlen(fmt);
	int e = errno;

	fprintf(stderr, "%s: ", progname);
	vfprintf(stderr, fmt, ap);
	if (n > 0 && fmt[n - 1] == ':')
		fprintf(stderr, " %s", strerror(e));
	fputc('\n', stderr);
}

void
tl_die(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn(fmt, ap);
	va_end(ap);
	exit(status);
}

void
tl_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn(fmt, ap);
	va_end(ap);
}

void *
tl_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		tl_die(1, "out of memory (%zu bytes)", n);
	return p;
}

void *
tl_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (p == NULL)
		tl_die(1, "out of memory (%zu x %zu bytes)", n, size);
	return p;
}

void
tl_fshut(FILE *f, const char *name)
{
	int bad = fflush(f) != 0 || ferror(f);

	if (fclose(f) != 0)
		bad = 1;
	if (bad)
		tl_die(1, "%s: write error:", name);
}

long
tl_atol(const char *s, const char *what, long lo, long hi)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno == ERANGE)
		tl_die(2, "%s: not a number: '%s'", what, s);
	if (v < lo || v > hi)
		tl_die(2, "%s: %ld is out of range [%ld, %ld]", what, v, lo, hi);
	return v;
}

double
tl_atof(const char *s, const char *what, double lo, double hi)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (*s == '\0' || *end != '\0' || errno == ERANGE || v != v)
		tl_die(2, "%s: not a number: '%s'", what, s);
	if (v < lo || v > hi)
		tl_die(2, "%s: %g is out of range [%g, %g]", what, v, lo, hi);
	return v;
}

uint64_t
tl_atosize(const char *s, const char *what)
{
	static const char units[] = "KMG";
	const char *u;
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (end != s && *end != '\0' && end[1] == '\0' &&
	    (u = strchr(units, toupper((unsigned char)*end))) != NULL) {
		v *= (double)(1UL << 10 * (u - units + 1));
		end++;
	}
	if (end == s || *end != '\0' || errno != 0 || !(v >= 1) ||
	    v > (double)(1ULL << 40) || v > (double)((size_t)-1))
		tl_die(2, "%s %s: not a size (bytes, or a number with K, M "
		    "or G)", what, s);
	return (uint64_t)v;
}

void
tl_put_u16(unsigned char *p, uint16_t v)
{
	p[0] = v & 0xff;
	p[1] = v >> 8;
}

void
tl_put_u32(unsigned char *p, uint32_t v)
{
	p[0] = v & 0xff;
	p[1] = (v >> 8) & 0xff;
	p[2] = (v >> 16) & 0xff;
	p[3] = v >> 24;
}

void
tl_put_u64(unsigned char *p, uint64_t v)
{
	tl_put_u32(p, (uint32_t)v);
	tl_put_u32(p + 4, (uint32_t)(v >> 32));
}

void
tl_put_f32(unsigned char *p, float v)
{
	uint32_t u;

	memcpy(&u, &v, 4);
	tl_put_u32(p, u);
}

uint16_t
tl_get_u16(const unsigned char *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

uint32_t
tl_get_u32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

uint64_t
tl_get_u64(const unsigned char *p)
{
	return (uint64_t)tl_get_u32(p) | (uint64_t)tl_get_u32(p + 4) << 32;
}

float
tl_get_f32(const unsigned char *p)
{
	uint32_t u = tl_get_u32(p);
	float v;

	memcpy(&v, &u, 4);
	return v;
}

/*
 * CRC-32, reflected polynomial 0xedb88320, slicing by 16: tab[0] is
 * the classic byte table and tab[k][b] the CRC of byte b followed by k
 * zero bytes, so sixteen input bytes cost sixteen independent lookups
 * instead of sixteen dependent steps (16 KB of tables, within L1).  The
 * tables are built once (pthread_once: worker threads may checksum
 * too) rather than spelled out as 4096 constants.  Words are put
 * together from bytes, so the result is the same on any byte order.
 */
static uint32_t crc_tab[16][256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void
crc_init(void)
{
	uint32_t c;
	int b, i, k;

	for (b = 0; b < 256; b++) {
		c = (uint32_t)b;
		for (i = 0; i < 8; i++)
			c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
		crc_tab[0][b] = c;
	}
	for (b = 0; b < 256; b++)
		for (k = 1; k < 16; k++) {
			c = crc_tab[k - 1][b];
			crc_tab[k][b] = (c >> 8) ^ crc_tab[0][c & 0xff];
		}
}

uint32_t
tl_crc32(uint32_t crc, const void *buf, size_t len)
{
	const uint32_t (*t)[256] = crc_tab;
	const unsigned char *p = buf;
	uint32_t a, b, c, d;

	pthread_once(&crc_once, crc_init);
	crc = ~crc;
	for (; len >= 16; len -= 16, p += 16) {
		a = crc ^ tl_get_u32(p);
		b = tl_get_u32(p + 4);
		c = tl_get_u32(p + 8);
		d = tl_get_u32(p + 12);
		crc = t[15][a & 0xff] ^ t[14][(a >> 8) & 0xff] ^
		    t[13][(a >> 16) & 0xff] ^ t[12][a >> 24] ^
		    t[11][b & 0xff] ^ t[10][(b >> 8) & 0xff] ^
		    t[9][(b >> 16) & 0xff] ^ t[8][b >> 24] ^
		    t[7][c & 0xff] ^ t[6][(c >> 8) & 0xff] ^
		    t[5][(c >> 16) & 0xff] ^ t[4][c >> 24] ^
		    t[3][d & 0xff] ^ t[2][(d >> 8) & 0xff] ^
		    t[1][(d >> 16) & 0xff] ^ t[0][d >> 24];
	}
	while (len--)
		crc = (crc >> 8) ^ t[0][(crc ^ *p++) & 0xff];
	return ~crc;
}

uint64_t
tl_hash64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

uint64_t
tl_hash2(uint64_t a, uint64_t b)
{
	return tl_hash64(tl_hash64(a) + b * 0x9e3779b97f4a7c15ULL);
}

static uint64_t
splitmix64(uint64_t *x)
{
	return tl_hash64(*x += 0x9e3779b97f4a7c15ULL);
}

tl_drop
tl_drop_make(float p, uint64_t key, uint64_t row0)
{
	tl_drop d;

	d.thr = p > 0 ? (uint32_t)(p * 256.0f + 0.5f) : 0;
	if (d.thr > 255)
		d.thr = 255;
	d.scale = 256.0f / (float)(256 - d.thr);
	d.key = key;
	d.row0 = row0;
	return d;
}

tl_drop
tl_drop_site(const tl_drop *d, int s, int l)
{
	tl_drop e = *d;

	e.key = tl_hash2(tl_hash2(d->key, (uint64_t)s), (uint64_t)l);
	return e;
}

uint64_t
tl_drop_stream(const tl_drop *d, uint64_t seq, uint64_t a, uint64_t t)
{
	return tl_hash2(tl_hash2(tl_hash2(d->key, d->row0 + seq), a), t);
}

/* Element k of a group: x times 0 or the scale by its 8 bits of h, + 0
 * so that a dropped element is +0 (no branch: at a rate of one half,
 * half of them would be mispredicted). */
#define DROP1(k) (x[i + (k)] * ((uint32_t)(h >> 8 * (k) & 0xff) < d->thr ? \
	0.0f : d->scale) + 0.0f)

void
tl_drop_row(const tl_drop *d, uint64_t s, float *y, const float *x, int n)
{
	uint64_t h;
	int i, k;

	for (i = 0; i < n; i += 8) {
		h = tl_hash64(s + (uint64_t)(i >> 3) * 0x9e3779b97f4a7c15ULL);
		if (i + 8 <= n) {
			y[i] = DROP1(0);
			y[i + 1] = DROP1(1);
			y[i + 2] = DROP1(2);
			y[i + 3] = DROP1(3);
			y[i + 4] = DROP1(4);
			y[i + 5] = DROP1(5);
			y[i + 6] = DROP1(6);
			y[i + 7] = DROP1(7);
		} else
			for (k = 0; i + k < n; k++)
				y[i + k] = DROP1(k);
	}
}
#undef DROP1

void
tl_rng_seed(tl_rng *r, uint64_t seed)
{
	uint64_t a = splitmix64(&seed), b = splitmix64(&seed);

	r->s[0] = (uint32_t)a;
	r->s[1] = (uint32_t)(a >> 32);
	r->s[2] = (uint32_t)b;
	r->s[3] = (uint32_t)(b >> 32);
	if ((r->s[0] | r->s[1] | r->s[2] | r->s[3]) == 0)
		r->s[0] = 1;
}

static uint32_t
rotl(uint32_t x, int k)
{
	return (x << k) | (x >> (32 - k));
}

uint32_t
tl_rng_u32(tl_rng *r)
{
	uint32_t *s = r->s;
	uint32_t res = rotl(s[1] * 5, 7) * 9, t = s[1] << 9;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 11);
	return res;
}

uint32_t
tl_rng_below(tl_rng *r, uint32_t n)
{
	/* Rejection keeps the distribution exactly uniform. */
	uint32_t lim = (uint32_t)(-n) % n, x;

	do
		x = tl_rng_u32(r);
	while (x < lim);
	return x % n;
}

float
tl_rng_float(tl_rng *r)
{
	return (tl_rng_u32(r) >> 8) * (1.0f / 16777216.0f);
}

float
tl_rng_normal(tl_rng *r)
{
	/* Box-Muller; the second value is dropped so that the state
	 * holds nothing but the four words. */
	double u1 = (tl_rng_u32(r) + 1.0) / 4294967297.0;
	double u2 = tl_rng_u32(r) / 4294967296.0;

	return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}

double
tl_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

long
tl_peak_rss_kib(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) != 0)
		return 0;
	return ru.ru_maxrss;	/* KiB on Linux */
}

int
tl_ncpu(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > 64 ? 64 : (int)n;
}

/* ---- atomic files ---- */

/* The open atomic files, for the signal handler (programs only). */
#define MAXAFILE 8
static tl_afile *volatile afiles[MAXAFILE];

static void
afile_track(tl_afile *a, int on)
{
	int i;

	for (i = 0; i < MAXAFILE; i++)
		if (on ? afiles[i] == NULL : afiles[i] == a) {
			afiles[i] = on ? a : NULL;
			return;
		}
}

static void
afile_onsignal(int sig)
{
	int i;

	for (i = 0; i < MAXAFILE; i++)
		if (afiles[i] && afiles[i]->tmp)
			unlink(afiles[i]->tmp);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void
afile_atexit(void)
{
	int i;

	for (i = 0; i < MAXAFILE; i++)
		if (afiles[i] && afiles[i]->tmp)
			unlink(afiles[i]->tmp);
}

void
tl_afile_signals(void)
{
	atexit(afile_atexit);
	signal(SIGINT, afile_onsignal);
	signal(SIGTERM, afile_onsignal);
	signal(SIGHUP, afile_onsignal);
}

int
tl_afile_open(tl_afile *a, const char *path, char *err)
{
	size_t k = strlen(path);
	struct stat st;
	mode_t mask;
	int fd;

	memset(a, 0, sizeof *a);
	if ((a->tmp = malloc(k + 11)) == NULL ||
	    (a->path = malloc(k + 1)) == NULL) {
		free(a->tmp);
		return tl_err(err, "%s: out of memory", path);
	}
	strcpy(a->path, path);
	/* A device or pipe (-o /dev/null) is written in place: renaming a
	 * file over it would replace the device. */
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		free(a->tmp);
		a->tmp = NULL;
		if ((a->f = fopen(path, "wb")) != NULL)
			return 0;
		tl_err(err, "%s: %s", path, strerror(errno));
		free(a->path);
		a->path = NULL;
		return -1;
	}
	/* path.tmp and six characters that mkstemp(3) fills in */
	sprintf(a->tmp, "%s.tmp", path);
	memset(a->tmp + k + 4, 'X', 6);
	a->tmp[k + 10] = '\0';
	if ((fd = mkstemp(a->tmp)) < 0) {
		tl_err(err, "%s: cannot create a temporary file: %s", path,
		    strerror(errno));
		free(a->tmp);
		free(a->path);
		return -1;
	}
	afile_track(a, 1);
	mask = umask(0);
	umask(mask);
	fchmod(fd, 0666 & ~mask);
	if ((a->f = fdopen(fd, "wb")) == NULL) {
		tl_err(err, "%s: %s", path, strerror(errno));
		close(fd);
		tl_afile_abort(a);
		return -1;
	}
	return 0;
}

static void
afile_done(tl_afile *a)
{
	afile_track(a, 0);
	free(a->tmp);
	free(a->path);
	memset(a, 0, sizeof *a);
}

void
tl_afile_abort(tl_afile *a)
{
	if (a->f)
		fclose(a->f);
	if (a->tmp)
		unlink(a->tmp);
	afile_done(a);
}

/* Make a rename durable: fsync the directory that holds path. */
static void
sync_dir(const char *path)
{
	const char *sl = strrchr(path, '/');
	char *dir;
	int fd;

	if (sl == NULL)
		dir = strdup(".");
	else if ((dir = strdup(path)) != NULL)
		dir[sl == path ? 1 : sl - path] = '\0';
	if (dir && (fd = open(dir, O_RDONLY)) >= 0) {
		fsync(fd);
		close(fd);
	}
	free(dir);
}

int
tl_afile_commit(tl_afile *a, char *err)
{
	int ok = fflush(a->f) == 0 && !ferror(a->f) && (a->tmp == NULL ||
	    fsync(fileno(a->f)) == 0);
	int e = errno;

	if (fclose(a->f) != 0 && ok) {
		ok = 0;
		e = errno;
	}
	a->f = NULL;
	if (ok && a->tmp && rename(a->tmp, a->path) != 0) {
		ok = 0;
		e = errno;
	}
	if (!ok) {
		tl_err(err, "%s: write failed: %s", a->path, strerror(e ? e :
		    EIO));
		tl_afile_abort(a);
		return -1;
	}
	if (a->tmp)
		sync_dir(a->path);
	afile_done(a);
	return 0;
}
