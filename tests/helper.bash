# helper.bash: common setup for the bats tests.  Programs come from
# bin/ and unit tests from build/ of this checkout (built by make).
#
# TL_EXEC, when set, is a command that runs every program and unit test
# (for example "qemu-i386 -cpu pentium3" for an i686 build on a machine
# that cannot run 32-bit programs itself): wrappers in a temporary
# directory take the programs' places in PATH and UNIT.

TOP="$(cd "$BATS_TEST_DIRNAME/.." && pwd)"
PATH="$TOP/bin:$PATH"
DATA="$TOP/tests/data"
UNIT="$TOP/build"

if [ -n "${TL_EXEC:-}" ]; then
	_wrap="$BATS_RUN_TMPDIR/tl-exec"
	if [ ! -d "$_wrap" ]; then
		mkdir -p "$_wrap.$$"
		for _p in "$TOP"/bin/tl-* "$TOP"/build/test_*; do
			[ -x "$_p" ] || continue
			printf '#!/bin/sh\nexec %s "%s" "$@"\n' "$TL_EXEC" "$_p" \
				> "$_wrap.$$/${_p##*/}"
			chmod +x "$_wrap.$$/${_p##*/}"
		done
		mv "$_wrap.$$" "$_wrap" 2>/dev/null || rm -rf "$_wrap.$$"
	fi
	PATH="$_wrap:$PATH"
	UNIT="$_wrap"
fi

# one_line TEXT: true when TEXT (an error message) is exactly one line.
one_line() {
	[ "$(printf '%s\n' "$1" | wc -l)" -eq 1 ]
}

# small_corpus: in the test's own directory, corpus.txt (the first
# 30000 bytes of data/tinyshakespeare.txt) and its byte tokens,
# corpus.tok.
small_corpus() {
	cd "$BATS_TEST_TMPDIR"
	head -c 30000 "$TOP/data/tinyshakespeare.txt" >corpus.txt
	tl-tokenize <corpus.txt >corpus.tok
}

# wait_nonempty FILE: wait until FILE has something in it (a program
# started in the background is under way), 10 s at the most.
wait_nonempty() {
	local i

	for i in $(seq 1 200); do
		[ -s "$1" ] && break
		sleep 0.05
	done
}

# version_help PROG: PROG -V prints its name and version and PROG -h
# its usage ("usage: PROG ..."), both with status 0.
version_help() {
	run "$1" -V
	[ "$status" -eq 0 ]
	[[ "$output" == "$1 "* ]]
	run "$1" -h
	[ "$status" -eq 0 ]
	[[ "$output" == "usage: $1 "* ]]
}

# unmeasured: true where peak memory says nothing about the program:
# a sanitizer build (shadow memory, quarantine) or a run under an
# emulator (TL_EXEC).
unmeasured() {
	[ -n "${TL_EXEC:-}" ] || grep -q fsanitize "$TOP/build/flags" 2>/dev/null
}
