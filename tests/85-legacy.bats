#!/usr/bin/env bats
# Old machines: the reference shape trains in 64 MiB and generates in
# 8 MiB; the i686 programs pick their kernel path from the CPU that
# qemu-i386 emulates: sse on a Pentium III (SSE and MMX but no SSE2),
# scalar on a Pentium II (MMX, no SSE), ssse3 on a Core 2, and run a
# whole pipeline on it; on the Pentium III the sse path gives what the
# scalar path gives.  The i686 binaries use SIMD instructions only in
# the paths that CPUID chose (tests/isa.awk reads their code: qemu-i386
# runs SSE2 instructions even as a Pentium III).

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
	    bin/tl-quantize bin/tl-gen bin/tl-eval bin/tl-bench \
	    > "$BATS_FILE_TMPDIR/make.log" 2>&1 ||
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
# generate and evaluate with the i686 programs under qemu-i386 -cpu CPU
# (and TL_SIMD as the caller sets it), in files named *.PATH.*, and
# check that training and generation took the kernel path PATH.
pipeline() {
	local q="qemu-i386 -cpu $1" b="$I686/bin" p=$2

	command -v qemu-i386 >/dev/null || skip "qemu-i386 not installed"
	[ -x "$b/tl-eval" ] || skip "gcc -m32 cannot build (gcc-multilib)"
	head -c 20000 "$TOP/data/tinyshakespeare.txt" > c.txt
	$q "$b/tl-tokenize" < c.txt > c.tok
	$q "$b/tl-tokenize" -d < c.tok | cmp - c.txt
	$q "$b/tl-train" -m m.$p.tl --layers 2 --dim 16 --heads 2 --ffn 32 \
	    --ctx 16 --batch 2 --micro 1 --recompute --steps 5 --eval-every 0 \
	    --save-every 0 c.tok 2> train.$p.err
	cat train.$p.err
	grep -q "^m.$p.tl: new model, 12368 parameters, $p path, " train.$p.err
	grep -q "^m.$p.tl: step 5, " train.$p.err
	$q "$b/tl-quantize" -m m.$p.tl -o m.$p.tlq
	$q "$b/tl-gen" -m m.$p.tlq -p "ROMEO:" -n 10 -s 1 --stats > gen.$p.out \
	    2> gen.$p.err
	cat gen.$p.err
	grep -q "^tl-gen: .* tokens/s .*; $p path, " gen.$p.err
	[ "$(head -c 6 gen.$p.out)" = "ROMEO:" ]
	$q "$b/tl-eval" -m m.$p.tlq -j c.tok > eval.$p.json
	cat eval.$p.json
	grep -q '^{"loss":[0-9.]*,.*"tokens":19999,' eval.$p.json
}

# field NAME FILE: the number after "NAME" (a log's "loss 5.51" or a
# JSON "loss":5.51) in FILE.
field() {
	sed -n "s/.*[\" ]$1[\": ]*\([0-9.]*\).*/\1/p" "$2" | tail -n 1
}

# close A B TOL: |A - B| <= TOL.
close() {
	awk -v a="$1" -v b="$2" -v t="$3" \
	    'BEGIN { d = a - b; exit !(a != "" && (d < 0 ? -d : d) <= t) }'
}

@test "legacy: i686 on a Pentium III (qemu): the sse path, equal to the scalar path's results, SSE2 refused" {
	local q="qemu-i386 -cpu pentium3" b="$I686/bin"

	pipeline pentium3 sse
	TL_SIMD=scalar pipeline pentium3 scalar
	# fp32 training: the same loss to 0.001 (rounding differs)
	close "$(field loss train.sse.err)" "$(field loss train.scalar.err)" 0.001
	# the integer kernels are exact: the sse path quantizes the scalar
	# path's model to the same file, and generates from it and from
	# the tq1, q8 and q4 files the same text
	TL_SIMD=sse $q "$b/tl-quantize" -m m.scalar.tl -o m.x.tlq
	cmp m.x.tlq m.scalar.tlq
	for f in tq1 q8 q4; do
		TL_SIMD=scalar $q "$b/tl-quantize" -q $f -m m.scalar.tl -o m.$f.tlq
		for p in sse scalar; do
			TL_SIMD=$p $q "$b/tl-gen" -m m.$f.tlq -p "ROMEO:" -n 10 \
			    -s 1 > gen.$f.$p.out 2> /dev/null
		done
		cmp gen.$f.sse.out gen.$f.scalar.out
	done
	TL_SIMD=sse $q "$b/tl-gen" -m m.scalar.tlq -p "ROMEO:" -n 10 -s 1 \
	    > gen.x.out 2> /dev/null
	cmp gen.x.out gen.scalar.out
	# evaluation through the fp32 norms and softmax: to 1e-4
	TL_SIMD=sse $q "$b/tl-eval" -m m.scalar.tlq -j c.tok > eval.x.json
	close "$(field loss eval.x.json)" "$(field loss eval.scalar.json)" 0.0001
	run env TL_SIMD=sse2 $q "$b/tl-gen" -m m.sse.tlq -n 1
	[ "$status" -eq 2 ]
	[[ "$output" == *"tl-gen: TL_SIMD=sse2: not supported by this CPU" ]]
}

@test "legacy: i686 on a Pentium II (qemu): the scalar path, SSE refused" {
	pipeline pentium2 scalar
	run env TL_SIMD=sse qemu-i386 -cpu pentium2 "$I686/bin/tl-gen" \
	    -m m.scalar.tlq -n 1
	[ "$status" -eq 2 ]
	[[ "$output" == *"tl-gen: TL_SIMD=sse: not supported by this CPU" ]]
}

# isa OBJECT-OR-PROGRAM DEFAULT [NAME=CLASS ...]: what tests/isa.awk
# finds that each function's class forbids (DEFAULT for the unnamed).
isa() {
	local f=$1 d=$2

	shift 2
	objdump -d --no-show-raw-insn "$f" |
	    awk -v file="${f#$I686/}" -v def="$d" -v modes="$*" -f "$TOP/tests/isa.awk"
}

@test "legacy: the i686 code: no SIMD outside the SIMD paths, no SSE2 in sse, no x87 with MMX" {
	local o b bad=""

	command -v objdump >/dev/null || skip "objdump not installed"
	[ -x "$I686/bin/tl-bench" ] || skip "gcc -m32 cannot build (gcc-multilib)"
	# the library, object by object: sse2 and above may use anything
	for o in "$I686"/build/lib/*/*.o; do
		b=${o##*/}
		case ${b%.o} in
		*_sse2 | *_ssse3 | *_sse41 | *_avx2) ;;
		*_sse) bad="$bad$(isa "$o" sse)" ;;
		*) bad="$bad$(isa "$o" none)" ;;
		esac
	done
	# the programs' own code (the library's functions are checked
	# above); tl-bench's peaks are of each path's mix
	for b in "$I686"/bin/tl-*; do
		bad="$bad$(isa "$b" none $(nm "$I686/build/libcore.a" |
		    awk '$2 ~ /^[tT]$/ { printf "%s=any ", $3 }') \
		    peak_sse=sse mmx_chains=sse peak_fma=any \
		    peak_pmaddwd=any peak_pmaddubsw=any peak_vpmaddubsw=any)"
	done
	[ -z "$bad" ] || { echo "$bad"; false; }
	# the sse path of this build too (on x86-64, real MMX and no SSE2
	# either), unless sanitizers call out of its MMX code
	if ! grep -q sanitize "$TOP/build/flags" 2>/dev/null; then
		for o in "$TOP"/build/lib/kernels/*_sse.o; do
			bad="$bad$(isa "$o" sse)"
		done
	fi
	[ -z "$bad" ] || { echo "$bad"; false; }
	# and the check sees what it looks for
	[ -n "$(isa "$I686/build/lib/kernels/kernels_sse2.o" sse)" ]
	[ -n "$(isa "$I686/build/lib/kernels/kernels_sse.o" none)" ]
}

@test "legacy: i686 on a Core 2 Duo (qemu): the ssse3 path" {
	pipeline core2duo ssse3
}
