/*
 * test_util: lib/util's CRC-32 against a bit-at-a-time reference on
 * known vectors and random data of every alignment and split, and the
 * progress meter's time formatting and lines.
 */
#include <stdint.h>
#include <string.h>

#include "util/util.h"
#include "unit.h"

/* One bit at a time, straight from the definition. */
static uint32_t
crc_ref(uint32_t crc, const unsigned char *p, size_t n)
{
	int k;

	crc = ~crc;
	while (n--) {
		crc ^= *p++;
		for (k = 0; k < 8; k++)
			crc = crc & 1 ? (crc >> 1) ^ 0xedb88320u : crc >> 1;
	}
	return ~crc;
}

static void
test_crc(void)
{
	static unsigned char b[4096 + 16];
	tl_rng r;
	size_t i, off, n, cut, bad = 0;

	CHECK(tl_crc32(0, "", 0) == 0);
	CHECK(tl_crc32(0, "a", 1) == 0xe8b7be43u);
	CHECK(tl_crc32(0, "123456789", 9) == 0xcbf43926u);
	CHECK(tl_crc32(0, "The quick brown fox jumps over the lazy dog",
	    43) == 0x414fa339u);
	memset(b, 0, 32);
	CHECK(tl_crc32(0, b, 32) == 0x190a55adu);
	memset(b, 0xff, 32);
	CHECK(tl_crc32(0, b, 32) == 0xff6cab0bu);

	tl_rng_seed(&r, 14);
	for (i = 0; i < sizeof(b); i++)
		b[i] = (unsigned char)tl_rng_u32(&r);
	for (off = 0; off < 16; off++)
		for (n = 0; n < 80; n++)
			bad += tl_crc32(0, b + off, n) != crc_ref(0, b + off, n);
	for (i = 0; i < 200; i++) {
		off = tl_rng_u32(&r) % 16;
		n = tl_rng_u32(&r) % 4097;
		cut = n ? tl_rng_u32(&r) % n : 0;
		bad += tl_crc32(0, b + off, n) != crc_ref(0, b + off, n);
		/* in two calls: the running value carries over */
		bad += tl_crc32(tl_crc32(0, b + off, cut), b + off + cut,
		    n - cut) != crc_ref(0, b + off, n);
		bad += tl_crc32(0x12345678u, b + off, n) !=
		    crc_ref(0x12345678u, b + off, n);
	}
	CHECK_NONE_BAD(bad, "%zu CRCs differ from the reference\n", bad);
}

/* The lines of the meter at a given time, and its duration format. */
static void
test_progress(void)
{
	char b[160];
	tl_progress p;

	tl_fmt_time(b, sizeof b, 0);
	CHECK(strcmp(b, "0:00") == 0);
	tl_fmt_time(b, sizeof b, 59.6);
	CHECK(strcmp(b, "1:00") == 0);
	tl_fmt_time(b, sizeof b, 3725);
	CHECK(strcmp(b, "1:02:05") == 0);
	tl_fmt_time(b, sizeof b, -3);
	CHECK(strcmp(b, "0:00") == 0);

	memset(&p, 0, sizeof p);
	p.what = "tl-x";
	p.unit = "bytes";
	p.total = 100000000;
	p.done = 25000000;
	p.t0 = 10;
	tl_progress_line(&p, 12, 0, b, sizeof b);
	CHECK(strcmp(b, "tl-x: 25.0 MB of 100.0 MB (25%), 12.5 MB/s, "
	    "0:06 left") == 0);
	tl_progress_line(&p, 12, 1, b, sizeof b);
	CHECK(strcmp(b, "tl-x: 25.0 MB in 0:02, 12.5 MB/s") == 0);
	p.total = 0;
	p.unit = "tokens";
	p.done = 900;
	tl_progress_line(&p, 13, 0, b, sizeof b);
	CHECK(strcmp(b, "tl-x: 900 tokens, 300 tokens/s, 0:03") == 0);
	p.total = 4000;
	tl_progress_line(&p, 13, 0, b, sizeof b);
	CHECK(strcmp(b, "tl-x: 900 of 4.0k tokens (22%), 300 tokens/s, "
	    "0:10 left") == 0);
	/* a total that was an estimate: never past 100%, no time left */
	p.done = 5000;
	tl_progress_line(&p, 15, 0, b, sizeof b);
	CHECK(strcmp(b, "tl-x: 5.0k of 4.0k tokens (100%), 1.0k tokens/s, "
	    "0:00 left") == 0);

	/* off (stderr is no terminal here, or a zeroed meter): counts
	 * only */
	memset(&p, 0, sizeof p);
	tl_progress_add(&p, 7);
	tl_progress_add(&p, 5);
	CHECK(p.done == 12);
	tl_progress_end(&p);
}

int
main(void)
{
	test_crc();
	test_progress();
	return unit_done("test_util");
}
