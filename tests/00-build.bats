#!/usr/bin/env bats
# Every source file compiles without a warning under gcc and clang with
# the project's flags.

load helper

# (cmd/tl-train/mpi.c, of make MPI=1, with MPI's headers where mpicc
# names them; without them it is left out)
warnings() {
	local cc=$1 f mpi
	command -v "$cc" >/dev/null || skip "$cc not installed"
	mpi=$(mpicc --showme:compile 2>/dev/null) || mpi=
	for f in "$TOP"/lib/*/*.c "$TOP"/cmd/*.c "$TOP"/cmd/*/*.c "$TOP"/tests/unit/*.c; do
		if [ "${f##*/}" = mpi.c ]; then
			[ -n "$mpi" ] || continue
			set -- $mpi
		else
			set --
		fi
		"$cc" -std=c99 -Wall -Wextra -Werror -fsyntax-only \
			-D_POSIX_C_SOURCE=200809L -D_FILE_OFFSET_BITS=64 \
			-I"$TOP/lib" -I"$TOP/tests/unit" "$@" "$f" || return 1
	done
}

@test "no warnings under gcc" {
	warnings gcc
}

@test "no warnings under clang" {
	warnings clang
}

# A machine without what the tests need: scripts/test-deps.sh (make
# check's first step) names the Debian packages in one line and fails;
# -n keeps it from installing them when the tests run as root.
@test "build: test-deps.sh with no bats in PATH names bats in one line, status 1" {
	local d="$BATS_TEST_TMPDIR/path" p
	mkdir "$d"
	# every command of PATH but bats, the first of each name
	local IFS=:
	for p in $PATH; do
		[ -d "$p" ] && ln -s "$p"/* "$d"/ 2>/dev/null || true
	done
	unset IFS
	rm -f "$d/bats"
	PATH="$d" run "$TOP/scripts/test-deps.sh" -n
	echo "$output"
	[ "$status" -eq 1 ]
	one_line "$output"
	[[ "$output" == "test-deps: missing "*bats* ]]
}

@test "build: test-deps.sh on a machine with nothing names every package" {
	PATH=/nonexistent run /bin/sh "$TOP/scripts/test-deps.sh" -n -f
	echo "$output"
	[ "$status" -eq 1 ]
	one_line "$output"
	for p in bats make gcc clang mandoc valgrind jq qemu-user gcc-multilib openmpi-bin libopenmpi-dev nodejs npm libclang-rt-dev; do
		[[ "$output" == *" $p"[\ :]* ]]
	done
}

# lib/ is layered: util, kernels, tok, model, train, formats from the
# bottom up; a file includes only its own layer's headers and the public
# header of a layer below (scripts/layers.sh); programs include public
# headers only, and never one another.
@test "layers: no file includes a header of a layer above its own" {
	run "$TOP/scripts/layers.sh" "$TOP"
	echo "$output"
	[ "$status" -eq 0 ]
	# and the check can fail: a model file that reached formats
	mkdir -p "$BATS_TEST_TMPDIR/t"
	cp -r "$TOP/lib" "$TOP/cmd" "$BATS_TEST_TMPDIR/t/"
	printf '#include "formats/formats.h"\n' >> "$BATS_TEST_TMPDIR/t/lib/model/eval.c"
	printf '#include "kernels/kernels_impl.h"\n' >> "$BATS_TEST_TMPDIR/t/cmd/tl-gen.c"
	run "$TOP/scripts/layers.sh" "$BATS_TEST_TMPDIR/t"
	[ "$status" -eq 1 ]
	[[ "$output" == *"lib/model/eval.c: includes formats/formats.h, a layer above model"* ]]
	[[ "$output" == *"cmd/tl-gen.c: includes kernels/kernels_impl.h, not a public header of lib/"* ]]
}
