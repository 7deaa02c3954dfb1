/*
 * fuzz_csv.c: the CSV reader (tl-tokenize --csv COLUMN): any input
 * reads or fails with a message naming its line, in bounded memory,
 * and what reads is written back (tl-tokenize -d --csv) and read again
 * to the same documents.  The first byte picks the column (by name or
 * number); it also runs the separator reader (--sep) on the input.
 */
#include "docs.h"

FUZZ_INIT_NONE

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const cols[] = { "text", "1", "2", "a" };
	static const char *const seps[] = { "\n", ",", "aab", "\n\n" };
	tl_docfmt fmt;

	if (size == 0)
		return 0;
	fmt.kind = TL_DOCS_CSV;
	fmt.arg = cols[data[0] % 4];
	fuzz_docs(data + 1, size - 1, &fmt);
	fmt.kind = TL_DOCS_SEP;
	fmt.arg = seps[data[0] / 4 % 4];
	fuzz_docs(data + 1, size - 1, &fmt);
	return 0;
}
