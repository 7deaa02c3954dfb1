/*
 * fuzz_jsonl.c: the JSON Lines reader (tl-tokenize --jsonl KEY): any
 * input reads or fails with a message naming its line, in bounded
 * memory, and what reads is written back (tl-tokenize -d --jsonl) and
 * read again to the same documents.  The first byte picks the key.
 */
#include "docs.h"

FUZZ_INIT_NONE

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const keys[] = { "text", "a", "\xc3\xa9" };
	tl_docfmt fmt;

	if (size == 0)
		return 0;
	fmt.kind = TL_DOCS_JSONL;
	fmt.arg = keys[data[0] % 3];
	fuzz_docs(data + 1, size - 1, &fmt);
	return 0;
}
