/*
 * fuzz_csv.c: the CSV reader (tl-tokenize --csv COLUMN): any input
 * reads or fails with a message naming its line, in bounded memory,
 * and what reads is written back (tl-tokenize -d --csv) and read again
 * to the same documents.  The input's length picks the column (by name or
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

	fmt.kind = TL_DOCS_CSV;
	fmt.arg = cols[size % 4];
	fuzz_docs(data, size, &fmt);
	fmt.kind = TL_DOCS_SEP;
	fmt.arg = seps[size / 4 % 4];
	fuzz_docs(data, size, &fmt);
	return 0;
}
