#!/usr/bin/env bats
# Old machines: the reference shape trains in 64 MiB and generates in
# 8 MiB; the i686 programs pick their kernel path from the CPU that
# qemu-i386 emulates: scalar on a Pentium III (SSE but no SSE2), ssse3
# on a Core 2, and run a whole pipeline on it.

load helper

# The i686 programs, built with gcc -m32 from a copy of the sources in
# build/i686 (bin/ stays as it is).  make's variables from an outer
# make check (SAN=1, say) are not passed on.
I686="$TOP/build/i686"

setup_file() {
	command -v qemu-i386 >/dev/null || return 0
	printf 'int main(void) { return 0; }\n' > "$BATS_FILE_TMPDIR/t.c"
	gcc -m32 -o "$BATS_FILE_TMPDIR/t" "$BATS_FILE_TMPDIR/t.c" 2>/dev/null ||
		return 0
	mkdir -p "$I686"
	rm -rf "$I686/lib" "$I686/cmd"
	cp -pR "$TOP/Makefile" "$TOP/lib" "$TOP/cmd" "$I686/"
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$I686" \
	    CC='gcc -m32' CFLAGS='-O2 -g' SAN= bin/tl-tokenize bin/tl-train \
	    bin/tl-quantize bin/tl-gen bin/tl-eval > "$BATS_FILE_TMPDIR/make.log" 2>&1 ||
		{ cat "$BATS_FILE_TMPDIR/make.log" >&3; return 1; }
}

setup() {
	cd "$BATS_TEST_TMPDIR"
}

# memory_ok: skip where the peak resident memory is not the program's.
memory_ok() {
	[ -z "${TL_EXEC:-}" ] || skip "TL_EXEC: the memory would be the emulator's"
	! grep -q sanitize "$TOP/build/flags" 2>/dev/null ||
		skip "sanitizers: shadow memory"
}

# peak FILE: the "peak memory X MiB" figure in FILE, in whole KiB.
peak() {
	sed -n 's/.*peak memory \([0-9.]*\) MiB.*/\1/p' "$1" |
	    awk '{ printf "%d\n", $1 * 1024 }'
}

@test "legacy: the reference shape trains in 64 MiB (--micro 1 --recompute), its tq2 model generates in 8 MiB" {
	memory_ok
	tl-tokenize < "$TOP/data/tinyshakespeare.txt" > c.tok
	tl-train -m m.tl --layers 4 --dim 256 --heads 4 --ffn 1024 --ctx 128 \
	    --batch 8 --micro 1 --recompute --steps 2 --eval-every 0 \
	    --val-frac 0.01 --save-every 0 --log m.log --log-every 1 c.tok 2> train.err
	cat train.err
	grep -q "new model, 3279104 parameters, .* 1 sequence per pass, recomputing;" train.err
	kib=$(peak train.err)
	echo "training peak: $kib KiB"
	[ "$kib" -gt 50000 ] && [ "$kib" -le 65536 ]
	grep -q '"rss_mib":[0-9]' m.log
	tl-quantize -q tq2 -m m.tl -o m.tlq
	tl-gen -m m.tlq -p "ROMEO:" -n 100 -s 1 --stats > out 2> gen.err
	cat gen.err
	kib=$(peak gen.err)
	echo "generation peak: $kib KiB"
	[ "$kib" -gt 0 ] && [ "$kib" -le 8192 ]
}

# pipeline CPU PATH: tokenize, train a tiny model a few steps, quantize,
# generate and evaluate with the i686 programs under qemu-i386 -cpu CPU,
# and check that training and generation took the kernel path PATH.
pipeline() {
	local q="qemu-i386 -cpu $1" b="$I686/bin"

	command -v qemu-i386 >/dev/null || skip "qemu-i386 not installed"
	[ -x "$b/tl-eval" ] || skip "gcc -m32 cannot build (gcc-multilib)"
	head -c 20000 "$TOP/data/tinyshakespeare.txt" > c.txt
	$q "$b/tl-tokenize" < c.txt > c.tok
	$q "$b/tl-tokenize" -d < c.tok | cmp - c.txt
	$q "$b/tl-train" -m m.tl --layers 2 --dim 16 --heads 2 --ffn 32 \
	    --ctx 16 --batch 2 --micro 1 --recompute --steps 5 --eval-every 0 \
	    --save-every 0 c.tok 2> train.err
	cat train.err
	grep -q "^m.tl: new model, 12368 parameters, $2 path, " train.err
	grep -q "^m.tl: step 5, " train.err
	$q "$b/tl-quantize" -m m.tl -o m.tlq
	$q "$b/tl-gen" -m m.tlq -p "ROMEO:" -n 10 -s 1 --stats > gen.out 2> gen.err
	cat gen.err
	grep -q "^tl-gen: .* tokens/s .*; $2 path, " gen.err
	[ "$(head -c 6 gen.out)" = "ROMEO:" ]
	$q "$b/tl-eval" -m m.tlq -j c.tok > eval.json
	cat eval.json
	grep -q '^{"loss":[0-9.]*,.*"tokens":19999,' eval.json
}

@test "legacy: i686 on a Pentium III (qemu): the scalar path, and SSE2 refused" {
	pipeline pentium3 scalar
	run env TL_SIMD=sse2 qemu-i386 -cpu pentium3 "$I686/bin/tl-gen" -m m.tlq -n 1
	[ "$status" -eq 2 ]
	[[ "$output" == *"tl-gen: TL_SIMD=sse2: not supported by this CPU" ]]
}

@test "legacy: i686 on a Core 2 Duo (qemu): the ssse3 path" {
	pipeline core2duo ssse3
}
