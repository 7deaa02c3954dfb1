/*
 * progress.c: a progress line on a terminal for long work (done of
 * total, rate, time left), redrawn in place with \r at most four times
 * a second and ended by a summary and a newline; nothing at all when
 * stderr is not a terminal.  Also the one formatter of durations.
 */
#include <sys/stat.h>

#include <string.h>
#include <unistd.h>

#include "util/util.h"

#define REDRAW 0.25		/* seconds between lines */

void
tl_fmt_time(char *b, size_t n, double s)
{
	long t = s < 0 || !(s == s) ? 0 : s > 1e9 ? 1000000000L :
	    (long)(s + 0.5);

	if (t >= 3600)
		snprintf(b, n, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
	else
		snprintf(b, n, "%ld:%02ld", t / 60, t % 60);
}

/* An amount in the unit, with an SI prefix from k on: "45.2 MB" for
 * bytes, "45.2k tokens" for anything else ("45.2k" if bare). */
static void
fmt_amount(char *b, size_t n, double v, const char *unit, int bare)
{
	static const char pre[] = " kMGTPE";
	int bytes = strcmp(unit, "bytes") == 0, k = 0;

	while (v >= 999.95 && k < 6) {
		v /= 1000;
		k++;
	}
	if (bytes)
		snprintf(b, n, k ? "%.1f %cB" : "%.0f B", v, pre[k]);
	else if (k == 0)
		snprintf(b, n, "%.0f%s%s", v, bare ? "" : " ", bare ? "" : unit);
	else
		snprintf(b, n, "%.1f%c%s%s", v, pre[k], bare ? "" : " ",
		    bare ? "" : unit);
}

void
tl_progress_begin(tl_progress *p, const char *what, uint64_t total,
    const char *unit)
{
	memset(p, 0, sizeof *p);
	p->what = what;
	p->unit = unit;
	p->total = total;
	p->on = isatty(2);
	p->t0 = p->tlast = tl_now();
}

int
tl_progress_file(tl_progress *p, const char *what, FILE *f, const char *unit)
{
	struct stat st;
	uint64_t total = 0;

	if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) &&
	    st.st_size > 0)
		total = (uint64_t)st.st_size;
	tl_progress_begin(p, what, total, total ? "bytes" : unit);
	return total > 0;
}

void
tl_progress_line(const tl_progress *p, double now, int final, char *b,
    size_t n)
{
	char d[32], t[32], r[40], tm[32];
	double dt = now - p->t0, rate = dt > 0 ? p->done / dt : 0;

	fmt_amount(d, sizeof d, (double)p->done, p->unit, !final &&
	    p->total > 0);
	fmt_amount(r, sizeof r, rate, p->unit, 0);
	if (final) {
		tl_fmt_time(tm, sizeof tm, dt);
		snprintf(b, n, "%s: %s in %s, %s/s", p->what, d, tm, r);
	} else if (p->total > 0) {
		fmt_amount(t, sizeof t, (double)p->total, p->unit, 0);
		tl_fmt_time(tm, sizeof tm, rate > 0 && p->done < p->total ?
		    (p->total - p->done) / rate : 0);
		snprintf(b, n, "%s: %s of %s (%.0f%%), %s/s, %s left", p->what,
		    d, t, p->done < p->total ? 100.0 * p->done / p->total :
		    100.0, r, tm);
	} else {
		tl_fmt_time(tm, sizeof tm, dt);
		snprintf(b, n, "%s: %s, %s/s, %s", p->what, d, r, tm);
	}
}

/* The line over the last one, spaces over what is left of it. */
static void
draw(tl_progress *p, double now, int final)
{
	char b[160];
	size_t len;

	tl_progress_line(p, now, final, b, sizeof b);
	len = strlen(b);
	fprintf(stderr, "\r%s%*s%s", b, p->width > len ?
	    (int)(p->width - len) : 0, "", final ? "\n" : "");
	fflush(stderr);
	p->width = len;
	p->tlast = now;
}

void
tl_progress_update(tl_progress *p, uint64_t done)
{
	double now;

	p->done = done;
	if (!p->on)
		return;
	now = tl_now();
	if (now - p->tlast >= REDRAW)
		draw(p, now, 0);
}

void
tl_progress_add(tl_progress *p, uint64_t n)
{
	tl_progress_update(p, p->done + n);
}

void
tl_progress_end(tl_progress *p)
{
	if (p->on)
		draw(p, tl_now(), 1);
	p->on = isatty(2);
}
