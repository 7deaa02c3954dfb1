#!/bin/sh
# test-deps.sh: what the test suite needs beyond a C compiler and make,
# checked, and installed through apt-get when it can be (as root on
# Debian); otherwise one line naming the Debian packages to install and
# status 1.  `make check` and .ci/run call it: this is the one list.
#
# usage: scripts/test-deps.sh [-fn]
#   -f  also what scripts/fuzz.sh needs (libFuzzer's runtime)
#   -n  never install: only name what is missing
#
# Each row: a Debian package, and the shell test that is true when what
# it gives is there.  Tests that lack a tool skip; this makes sure none
# has to.
set -u

fuzz=0
install=1
while getopts fn o; do
	case $o in
	f) fuzz=1 ;;
	n) install=0 ;;
	*) echo "usage: scripts/test-deps.sh [-fn]" >&2; exit 2 ;;
	esac
done

has() {
	command -v "$1" >/dev/null 2>&1
}

# m32: gcc builds and links a 32-bit program (tests/85-legacy.bats).
m32() {
	has gcc || return 1
	t=$(mktemp -d) || return 1
	printf 'int main(void) { return 0; }\n' >"$t/t.c"
	gcc -m32 -o "$t/t" "$t/t.c" >/dev/null 2>&1
	r=$?
	rm -rf "$t"
	return $r
}

# The npm packages of tests/62-gguf.bats: the real llama.cpp (the
# prebuilt CPU runtime of node-llama-cpp, never built or downloaded at
# run time) and an independent GGUF reader, installed without their
# install scripts into the cache folder that scripts/llama.mjs names.
llama() {
	node "$(dirname "$0")/llama.mjs" "$@" 2>/dev/null
}

npmdir() {
	llama dir
}

# npmpkgs: those packages are in the cache (x86-64 Linux only: where
# the prebuilt runtime is another machine's, 62-gguf skips).
npmpkgs() {
	[ "$(uname -m)" = x86_64 ] || return 0
	has node || return 1
	llama check >/dev/null
}

# fuzzrt: clang and libFuzzer's runtime (scripts/fuzz.sh, make fuzz).
fuzzrt() {
	has clang &&
	    [ -f "$(clang -print-runtime-dir 2>/dev/null)/libclang_rt.fuzzer-x86_64.a" ]
}

missing() {
	need=""
	has bats || need="$need bats"			# everything
	has make || need="$need make"			# .ci/run
	has gcc || need="$need gcc"			# 00-build, 85-legacy
	has clang || need="$need clang"			# 00-build, 70-hostile
	has mandoc || need="$need mandoc"		# 90-docs
	has valgrind || need="$need valgrind"		# 70-hostile
	has jq || need="$need jq"			# 80-bench (or python3)
	has qemu-i386 || need="$need qemu-user"		# 85-legacy
	m32 || need="$need gcc-multilib"		# 85-legacy
	has node || need="$need nodejs"			# 62-gguf
	has npm || need="$need npm"			# 62-gguf
	has mpirun || need="$need openmpi-bin"		# 37-mpi
	has mpicc || need="$need libopenmpi-dev"	# 37-mpi, 00-build
	[ $fuzz -eq 0 ] || fuzzrt || need="$need libclang-rt-dev"
	need=${need# }
}

# installnpm: the npm packages into the cache, when missing.
installnpm() {
	npmpkgs && return 0
	NPMPKGS=$(llama packages)
	if [ $install -eq 0 ] || ! has npm; then
		echo "test-deps: missing the npm packages $NPMPKGS in $(npmdir): install them (npm install --prefix DIR --ignore-scripts --omit=optional ...)" >&2
		return 1
	fi
	echo "test-deps: installing $NPMPKGS" >&2
	# shellcheck disable=SC2086
	npm install --prefix "$(npmdir)" --no-audit --no-fund \
	    --ignore-scripts --omit=optional $NPMPKGS >/dev/null 2>&1 &&
	    npmpkgs || {
		echo "test-deps: npm could not install $NPMPKGS" >&2
		return 1
	}
}

missing
[ -n "$need" ] || { installnpm; exit; }
if [ $install -eq 0 ] || [ "$(id -u)" -ne 0 ] || ! has apt-get; then
	echo "test-deps: missing $need: install them (apt-get install $need), or run make check as root on Debian" >&2
	exit 1
fi
echo "test-deps: installing $need" >&2
# the list is unquoted on purpose: one word per package
# shellcheck disable=SC2086
if ! { DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need; } >/dev/null 2>&1; then
	echo "test-deps: apt-get could not install $need" >&2
	exit 1
fi
missing
if [ -n "$need" ]; then
	echo "test-deps: still missing after apt-get: $need" >&2
	exit 1
fi
installnpm
