# helper.bash: common setup for the bats tests.  Programs come from
# bin/ and unit tests from build/ of this checkout (built by make).

TOP="$(cd "$BATS_TEST_DIRNAME/.." && pwd)"
PATH="$TOP/bin:$PATH"
DATA="$TOP/tests/data"
UNIT="$TOP/build"

# one_line TEXT: true when TEXT (an error message) is exactly one line.
one_line() {
	[ "$(printf '%s\n' "$1" | wc -l)" -eq 1 ]
}
