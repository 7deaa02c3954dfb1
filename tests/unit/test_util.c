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

int
main(void)
{
	test_crc();
	return unit_done("test_util");
}
