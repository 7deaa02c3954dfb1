/*
 * replay.c: the main of build/replay_NAME: run the harness of
 * tests/fuzz/fuzz_NAME.c once on each file named on the command line,
 * as libFuzzer does when given files.  Exits 0 when every input ran
 * through; a failed check or a sanitizer report ends it early.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

int
main(int argc, char **argv)
{
	int i;

	LLVMFuzzerInitialize(&argc, &argv);
	for (i = 1; i < argc; i++) {
		FILE *f = fopen(argv[i], "rb");
		uint8_t *buf = NULL, *b;
		size_t n = 0, cap = 0, got;

		if (f == NULL) {
			perror(argv[i]);
			return 2;
		}
		do {
			if (cap - n < 65536) {
				cap = cap ? 2 * cap : 65536;
				if ((b = realloc(buf, cap)) == NULL) {
					fprintf(stderr, "%s: out of memory\n",
					    argv[i]);
					return 2;
				}
				buf = b;
			}
			got = fread(buf + n, 1, cap - n, f);
			n += got;
		} while (got > 0);
		if (ferror(f)) {
			perror(argv[i]);
			return 2;
		}
		fclose(f);
		/* exactly n bytes, so that ASan sees a read past them */
		b = malloc(n ? n : 1);
		if (b == NULL) {
			fprintf(stderr, "%s: out of memory\n", argv[i]);
			return 2;
		}
		if (n)
			memcpy(b, buf, n);
		free(buf);
		LLVMFuzzerTestOneInput(b, n);
		free(b);
	}
	return 0;
}
