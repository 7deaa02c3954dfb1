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
