#!/usr/bin/env bats
# Every source file compiles without a warning under gcc and clang with
# the project's flags.

load helper

warnings() {
	local cc=$1 f
	command -v "$cc" >/dev/null || skip "$cc not installed"
	for f in "$TOP"/lib/*.c "$TOP"/cmd/*.c "$TOP"/tests/unit/*.c; do
		"$cc" -std=c99 -Wall -Wextra -Werror -fsyntax-only \
			-D_POSIX_C_SOURCE=200809L -D_FILE_OFFSET_BITS=64 \
			-I"$TOP/lib" -I"$TOP/tests/unit" "$f" || return 1
	done
}

@test "no warnings under gcc" {
	warnings gcc
}

@test "no warnings under clang" {
	warnings clang
}
