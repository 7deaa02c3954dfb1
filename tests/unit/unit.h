/*
 * unit.h: a tiny harness for the C unit tests of lib/.  Each test
 * program prints one line per failed check and exits 1 if any failed;
 * the bats files in tests/ run them.
 */
#ifndef TL_UNIT_H
#define TL_UNIT_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static int unit_failed;
static int unit_checks;

#define CHECK(cond) do { \
	unit_checks++; \
	if (!(cond)) { \
		unit_failed++; \
		fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, \
		    __LINE__, #cond); \
	} \
} while (0)

/* |a - b| <= atol + rtol * |b| */
#define CHECK_CLOSE(a, b, atol, rtol) do { \
	double ua_ = (a), ub_ = (b); \
	unit_checks++; \
	if (!(fabs(ua_ - ub_) <= (atol) + (rtol) * fabs(ub_))) { \
		unit_failed++; \
		fprintf(stderr, "%s:%d: %s = %.9g, want %s = %.9g\n", \
		    __FILE__, __LINE__, #a, ua_, #b, ub_); \
	} \
} while (0)

static int
unit_done(const char *name)
{
	printf("%s: %d checks, %d failed\n", name, unit_checks, unit_failed);
	return unit_failed ? 1 : 0;
}

#endif
