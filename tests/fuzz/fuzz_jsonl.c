/*
 * fuzz_jsonl.c: the JSON Lines reader (tl-tokenize --jsonl KEY): any
 * input reads or fails with a message naming its line, in bounded
 * memory, and what reads is written back (tl-tokenize -d --jsonl) and
 * read again to the same documents.  The input's length picks the key.
 */
#include "docs.h"

FUZZ_INIT_NONE

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const keys[] = { "text", "a", "\xc3\xa9" };
	tl_docfmt fmt;

	fmt.kind = TL_DOCS_JSONL;
	fmt.arg = keys[size % 3];
	fuzz_docs(data, size, &fmt);
	return 0;
}
