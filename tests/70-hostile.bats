#!/usr/bin/env bats
# Hostile input: files that lie about their sizes, token ids outside
# the vocabulary, damaged and odd files given to every program, bad
# flag values, and the fuzz harnesses replayed on the seeds and on
# every regression input tests/data/crash-* (each one an input that
# once crashed or hung a program; see scripts/fuzz.sh).  Whatever the
# input: exit status 0, 1 or 2 (never a signal), and a failure is one
# line on stderr.

bats_require_minimum_version 1.5.0

load helper

SHAPE="--layers 1 --dim 16 --heads 2 --ffn 32 --ctx 16"

setup() {
	cd "$BATS_TEST_TMPDIR"
}

# Little-endian fields on stdout.
le16() {
	printf "$(printf '\\%03o\\%03o' $(($1 & 255)) $(($1 >> 8 & 255)))"
}
le32() {
	le16 $(($1 & 65535))
	le16 $(($1 >> 16 & 65535))
}
le64() {
	le32 $(($1 & 4294967295))
	le32 $(($1 >> 32 & 4294967295))
}
# crc FILE: the CRC-32 of FILE (zlib's, as tl-tokens(5)) as 4 bytes:
# gzip's trailer holds it.
crc() {
	gzip -c <"$1" | tail -c 8 | head -c 4
}
# chunk ID...: a stream chunk holding the ids, with its CRC.
chunk() {
	local f=$BATS_TEST_TMPDIR/chunk.$$ id
	{
		le32 $#
		for id; do le16 "$id"; done
	} >"$f"
	cat "$f"
	crc "$f"
	rm -f "$f"
}
# end TOTAL: the end chunk.
end_chunk() {
	local f=$BATS_TEST_TMPDIR/end.$$
	{ le32 0; le64 "$1"; } >"$f"
	cat "$f"
	crc "$f"
	rm -f "$f"
}
# put32 FILE OFFSET N: overwrite 4 bytes of FILE.
put32() {
	le32 "$3" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}
# recrc FILE: make the last 4 bytes of a checkpoint its CRC again.
recrc() {
	head -c -4 "$1" >"$1.body"
	{ cat "$1.body"; crc "$1.body"; } >"$1"
	rm -f "$1.body"
}
# huge FILE: the header of checkpoint or packed model FILE claims the
# largest model allowed (64 layers, width 4096, 64 heads, FFN 16384,
# context 4096: 17e9 parameters), its CRC made right again.
huge() {
	put32 "$1" 16 64	# layers
	put32 "$1" 20 4096	# dim
	put32 "$1" 24 64	# heads
	put32 "$1" 28 16384	# ffn
	put32 "$1" 32 4096	# ctx
	recrc "$1"
}
# gen_toklen SRC FILE OFFSET: tl-gen (under lowmem, status 2) on FILE,
# a copy of the model SRC whose tokenizer length (at OFFSET) claims
# 4294967295 bytes.
gen_toklen() {
	cp "$1" "$2"
	put32 "$2" "$3" 4294967295
	run -2 lowmem tl-gen -m "$2" -p x
}
# sanitized: the programs were built with SAN=1.
sanitized() {
	grep -q fsanitize "$TOP/build/flags" 2>/dev/null
}
# lowmem CMD...: run CMD where an allocation of more than about 256 MiB
# fails (ulimit -v; under ASan, which reserves terabytes of address
# space, its own limit on one allocation; under TL_EXEC, taken to be
# qemu-user, whose own address space is no guide, a guest address space
# of 400 MiB: its -R).
lowmem() {
	if sanitized; then
		ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}allocator_may_return_null=1:max_allocation_size_mb=256 "$@"
	elif [ -n "${TL_EXEC:-}" ]; then
		QEMU_RESERVED_VA=400M "$@"
	else
		(ulimit -v 400000 && "$@")
	fi
}
# sane: $status and $output are those of a program that did not crash:
# 0, or 1 or 2 with one line.
sane() {
	[ "$status" -le 2 ] || { echo "status $status: $output"; return 1; }
	[ "$status" -eq 0 ] || one_line "$output" ||
		{ echo "more than one line: $output"; return 1; }
}

@test "hostile: fuzz harnesses replay every seed and crash input in tests/data" {
	local r n
	n=0
	for r in "$TOP"/build/replay_*; do
		run ${TL_EXEC:-} "$r" "$DATA"/*
		echo "$r: $output"
		[ "$status" -eq 0 ]
		[ -z "$output" ]
		n=$((n + 1))
	done
	[ "$n" -ge 6 ]
	ls "$DATA"/crash-* >/dev/null
}

@test "hostile: the fuzz harnesses and scripts/fuzz.sh have no warnings" {
	local cc f
	for cc in gcc clang; do
		command -v $cc >/dev/null || continue
		for f in "$TOP"/tests/fuzz/*.c; do
			$cc -std=c99 -Wall -Wextra -Werror -fsyntax-only \
				-D_POSIX_C_SOURCE=200809L -D_FILE_OFFSET_BITS=64 \
				-I"$TOP/lib" -I"$TOP/tests/fuzz" "$f"
		done
	done
	bash -n "$TOP/scripts/fuzz.sh"
}

@test "hostile: a token id outside the vocabulary is an error naming its position" {
	head -c 24 "$DATA/v1-bytes.tok" >bad.tok	# header, byte tokenizer
	{ chunk 65 66; chunk 67 300; end_chunk 4; } >>bad.tok
	# (the ids of the chunk before it went out: stdout is a stream)
	run -2 --separate-stderr tl-tokenize -d bad.tok
	[ "$stderr" = "tl-tokenize: bad.tok: token id 300 at position 3 out of range (vocabulary 256)" ]
	[ "$output" = AB ]
	run -2 --separate-stderr tl-tokenize -d --ids <bad.tok
	[ "$stderr" = "tl-tokenize: stdin: token id 300 at position 3 out of range (vocabulary 256)" ]
	tl-init -o m.tl $SHAPE
	run -2 tl-eval -m m.tl bad.tok
	[ "$output" = "tl-eval: bad.tok: token id 300 at position 3 out of range (vocabulary 256)" ]
	# tl-train reads a file in place and finds it when a window reads
	# its chunk (every window of 3 does), a pipe at once as it spools it
	run -2 tl-train -m t.tl --steps 1 --ctx 2 bad.tok
	[ "${lines[-1]}" = "tl-train: bad.tok: token id 300 at position 3 out of range (vocabulary 256)" ]
	[ ! -e t.tl ]
	run -2 sh -c "cat bad.tok | tl-train -m t.tl --steps 1"
	[ "$output" = "tl-train: stdin: token id 300 at position 3 out of range (vocabulary 256)" ]
	[ ! -e t.tl ]
	# the same stream with the id in range reads
	head -c 24 "$DATA/v1-bytes.tok" >good.tok
	{ chunk 65 66; chunk 67 255; end_chunk 4; } >>good.tok
	run -0 tl-tokenize -d --ids good.tok
	[ "$(echo $output)" = "65 66 67 255" ]
	# BPE: 300 ids, so 300 is one past the last
	n=$((24 + 8 * 44))
	head -c $n "$DATA/v1-bpe.tok" >bpe.tok
	{ chunk 299 300; end_chunk 2; } >>bpe.tok
	run -2 --separate-stderr tl-tokenize -d bpe.tok
	[ "$stderr" = "tl-tokenize: bpe.tok: token id 300 at position 1 out of range (vocabulary 300)" ]
}

@test "hostile: a stream header that claims more than the file holds is refused before allocating it" {
	{ printf TLTS; le32 1; le32 4294967295; printf 'xxxxxxxx'; } >huge.tok
	run -2 lowmem tl-tokenize -d huge.tok
	[ "$output" = "tl-tokenize: huge.tok: bad tokenizer length 4294967295 (8 to 522248)" ]
	{ printf TLTS; le32 1; le32 522249; } >over.tok
	run -2 lowmem tl-tokenize -d over.tok
	[[ "$output" == *"bad tokenizer length 522249"* ]]
	# the largest length allowed, in a file of 20 bytes
	{ printf TLTS; le32 1; le32 522248; printf 'xxxxxxxx'; } >short.tok
	run -2 lowmem tl-tokenize -d short.tok
	[ "$output" = "tl-tokenize: short.tok: truncated stream" ]
	run -2 lowmem tl-tokenize -d <short.tok
	[ "$output" = "tl-tokenize: stdin: truncated stream" ]
	# a chunk that claims 2^32-1 ids, or the most allowed and ends
	head -c 24 "$DATA/v1-bytes.tok" >chunk.tok
	cp chunk.tok chunk2.tok
	le32 4294967295 >>chunk.tok
	printf 'AAAA' >>chunk.tok
	run -2 lowmem tl-tokenize -d chunk.tok
	[ "$output" = "tl-tokenize: chunk.tok: bad size 4294967295 of chunk 1 (max 65536 ids)" ]
	le32 65536 >>chunk2.tok
	printf 'AAAA' >>chunk2.tok
	run -2 lowmem tl-tokenize -d chunk2.tok
	[ "$output" = "tl-tokenize: chunk2.tok: truncated stream" ]
	# the same through the readers of tl-train and tl-eval, from a pipe
	tl-init -o m.tl $SHAPE
	run -2 lowmem sh -c 'tl-train -m t.tl --steps 1 <huge.tok'
	[ "$output" = "tl-train: stdin: bad tokenizer length 4294967295 (8 to 522248)" ]
	run -2 lowmem sh -c 'tl-eval -m m.tl <chunk.tok'
	[ "$output" = "tl-eval: stdin: bad size 4294967295 of chunk 1 (max 65536 ids)" ]
	# a vocabulary file
	{ printf TLVO; le32 1; le32 4294967295; } >huge.tlv
	run -2 lowmem tl-tokenize -v huge.tlv -d "$DATA/v1-bytes.tok"
	[ "$output" = "tl-tokenize: huge.tlv: bad tokenizer length 4294967295 (8 to 522248)" ]
}

@test "hostile: a checkpoint header that claims more than the file holds is refused before allocating it" {
	cp "$DATA/v1-tiny.tl" big.tl
	# the largest model allowed: 17e9 parameters in a file of 12 KiB
	huge big.tl
	for p in "tl-gen -m big.tl -p x" "tl-eval -m big.tl $DATA/v1-bytes.tok" \
	    "tl-train -m big.tl $DATA/v1-bytes.tok" "tl-tokenize -v big.tl $DATA/v1.txt"; do
		run -2 lowmem $p
		echo "$p: $output"
		one_line "$output"
		[[ "$output" == *": big.tl: truncated checkpoint (12796 of "*" bytes)" ]]
	done
	gen_toklen "$DATA/v1-tiny.tl" tok.tl 52
	[ "$output" = "tl-gen: tok.tl: size 12796 does not match its header" ]
	# dimensions beyond the documented maximums
	for f in "16 65" "20 4097" "24 65" "28 16385" "32 4097" "12 65537" "12 1"; do
		cp "$DATA/v1-tiny.tl" dim.tl
		put32 dim.tl $f
		run -2 lowmem tl-gen -m dim.tl -p x
		echo "$f: $output"
		[[ "$output" == "tl-gen: dim.tl: bad configuration: "* ]]
	done
	# a model whose activations cannot be had (batch 65536 of a context
	# of 256, 2^24 rows): an error, not a crash
	tl-init -o wide.tl --layers 1 --dim 2 --heads 1 --ffn 1 --ctx 256
	put32 wide.tl $((56 + 8 + 16)) 65536	# batch
	recrc wide.tl
	run lowmem tl-train -m wide.tl "$DATA/v1-bytes.tok"
	# (ASan warns of the allocation it refused, on a line of its own)
	output=$(printf '%s\n' "$output" |
		grep -v '^==[0-9]*==WARNING: AddressSanitizer failed to allocate')
	sane
	[ "$status" -ne 0 ]
	[[ "$output" == "tl-train: $DATA/v1-bytes.tok: out of memory"* ]]
}

@test "hostile: a packed model header that claims more than the file holds is refused before allocating it" {
	cp "$DATA/v1.tlq" big.tlq
	huge big.tlq
	for p in "tl-gen -m big.tlq -p x" "tl-eval -m big.tlq $DATA/v1-bytes.tok" \
	    "tl-tokenize -v big.tlq $DATA/v1.txt"; do
		run -2 lowmem $p
		echo "$p: $output"
		[[ "$output" == *": big.tlq: truncated packed model ($(wc -c <big.tlq) of "*" bytes)" ]]
	done
	gen_toklen "$DATA/v1.tlq" tok.tlq 64
	one_line "$output"
	[[ "$output" == "tl-gen: tok.tlq: tokenizer length 4294967295 out of range" ]]
}

@test "hostile: non-finite weights are refused; huge ones run without undefined behaviour" {
	# crash-ckpt-nan-weight: found by fuzz_ckpt, a NaN that reached a
	# float to int8 conversion in the ternary products
	run -2 tl-gen -m "$DATA/crash-ckpt-nan-weight" -p x
	[ "$output" = "tl-gen: $DATA/crash-ckpt-nan-weight: bad value in the weight of parameter 1036" ]
	run -2 tl-eval -m "$DATA/crash-ckpt-nan-weight" "$DATA/v1-bytes.tok"
	one_line "$output"
	# crash-ckpt-huge-weights: weights of 1e38, finite, whose
	# activations overflow to NaN; every path, the scalar one too
	for p in scalar ""; do
		TL_SIMD=$p run -0 --separate-stderr tl-gen -m "$DATA/crash-ckpt-huge-weights" -p hello -n 3 -s 1
		[ "${output:0:5}" = hello ]
		TL_SIMD=$p run -0 tl-eval -j -m "$DATA/crash-ckpt-huge-weights" "$DATA/v1-bytes.tok"
		[[ "$output" == '{"loss":null,'* ]]
		TL_SIMD=$p run -0 tl-quantize -m "$DATA/crash-ckpt-huge-weights" -o q.tlq
		TL_SIMD=$p run -0 --separate-stderr tl-gen -m q.tlq -p hi -n 3 -s 1
		cp "$DATA/crash-ckpt-huge-weights" h.tl
		TL_SIMD=$p run -1 tl-train -m h.tl --steps 5 "$DATA/v1-bytes.tok"
		[[ "$output" == *"tl-train: h.tl: training diverged"* ]]
		cmp h.tl "$DATA/crash-ckpt-huge-weights"
	done
}

@test "hostile: a checkpoint's training state that no run can go on from is refused" {
	# crash-ckpt-zero-rng made tl-train hang where no signal stopped it
	cp "$DATA/crash-ckpt-zero-rng" z.tl
	run -2 timeout -s KILL 60 tl-train -m z.tl --steps 10 "$DATA/v1-bytes.tok"
	[ "$output" = "tl-train: z.tl: bad training state: random generator state is zero" ]
	cmp z.tl "$DATA/crash-ckpt-zero-rng"
	cp "$DATA/crash-ckpt-nan-elapsed" n.tl
	run -2 timeout -s KILL 60 tl-train -m n.tl "$DATA/v1-bytes.tok"
	[ "$output" = "tl-train: n.tl: bad training state: elapsed time nan" ]
	run -2 tl-gen -m n.tl -p x
	one_line "$output"
	# hyperparameters beyond the flags' ranges
	cp "$DATA/v1-tiny.tl" t.tl
	put32 t.tl $((56 + 8 + 12)) 2139095040	# time = +inf
	recrc t.tl
	run -2 tl-train -m t.tl "$DATA/v1-bytes.tok"
	[ "$output" = "tl-train: t.tl: hyperparameter out of range" ]
}

@test "hostile: every program refuses damaged, cut, odd and crash files in one line" {
	local f p n
	tl-init -o m.tl $SHAPE
	mkdir dir
	mkfifo fifo
	# cut anywhere in the header, the first chunk or the end chunk
	for n in 0 3 4 11 12 20 23 24 375 376 379 380 1000 2331 2347; do
		head -c $n "$DATA/v1-bpe.tok" >"cut-bpe-$n.tok"
	done
	for n in 7 55 60 230 12795; do
		head -c $n "$DATA/v1-tiny.tl" >"cut-$n.tl"
	done
	for n in 11 100 375; do
		head -c $n "$DATA/v1.tlv" >"cut-$n.tlv"
	done
	for n in 8 71 72 500 34947; do
		head -c $n "$DATA/v1.tlq" >"cut-$n.tlq"
	done
	for f in "$DATA"/* cut-* dir /dev/null; do
		for p in "tl-tokenize -d $f" "tl-tokenize -v $f $DATA/hello.txt" \
		    "tl-gen -m $f -p x -n 3" "tl-eval -m $f $DATA/v1-bytes.tok" \
		    "tl-eval -m m.tl $f"; do
			run --separate-stderr timeout -s KILL 60 $p
			echo "$p: $status $stderr"
			[ "$status" -le 2 ]
			[ "$status" -eq 0 ] || one_line "$stderr"
		done
		cp m.tl t.tl
		run timeout -s KILL 60 tl-train -m t.tl --steps 2 --batch 1 $f
		sane
		run timeout -s KILL 60 tl-quantize -m $f -o q.tlq
		sane
		rm -f q.tlq
	done
	# a FIFO with nothing behind it
	(exec 3<>fifo; sleep 0.2; exec 3>&-) &
	run -2 timeout -s KILL 60 tl-tokenize -d fifo
	wait
	one_line "$output"
	# a model that is a device or a directory
	run -2 tl-gen -m /dev/zero -p x
	one_line "$output"
	run -2 tl-train -m dir --steps 1 "$DATA/v1-bytes.tok"
	one_line "$output"
	# endless input where the program needs its end
	run -2 timeout -s KILL 60 sh -c 'tl-gen -m m.tl -n 1 </dev/zero'
	[ "$output" = "tl-gen: stdin: prompt longer than 1048576 bytes" ]
	run -2 timeout -s KILL 60 tl-tokenize -d /dev/zero
	[ "$output" = "tl-tokenize: /dev/zero: bad magic (not a tl token stream)" ]
}

@test "hostile: bad flag values are one line and status 2, never a crash" {
	local big p o v
	tl-init -o m.tl $SHAPE
	big=$(head -c 5000 /dev/zero | tr '\0' 9)
	for v in "" -1 1e999 99999999999999999999 nan inf "3 " "$big"; do
		for p in "tl-gen -m m.tl -p x -n 2 -n" "tl-gen -m m.tl -p x -n 2 -s" \
		    "tl-gen -m m.tl -p x -n 2 -T" "tl-gen -m m.tl -p x -n 2 -t" \
		    "tl-gen -m m.tl -p x -n 2 -k" "tl-gen -m m.tl -p x -n 2 --top-p" \
		    "tl-eval -m m.tl -b" "tl-eval -m m.tl -n" \
		    "tl-init -o i.tl --dim" "tl-init -o i.tl --seed" \
		    "tl-tokenize --train-bpe" "tl-tokenize -v" \
		    "tl-quantize -m m.tl -o q.tlq -q" "tl-quantize -m m.tl -o q.tlq -s"; do
			run timeout -s KILL 60 $p "$v" </dev/null
			echo "$p '$v': $status"
			sane
			rm -f i.tl
		done
		for o in steps batch lr time save-every val-frac seed ctx; do
			run timeout -s KILL 60 tl-train -m t.tl --$o "$v" </dev/null
			echo "tl-train --$o '$v': $status"
			sane
			[ "$status" -ne 0 ]
			[ ! -e t.tl ]
		done
	done
}

@test "hostile: a short pipeline under valgrind: no errors, no leaks" {
	command -v valgrind >/dev/null || skip "valgrind not installed"
	! sanitized || skip "a sanitizer build (valgrind needs a plain one)"
	[ -z "${TL_EXEC:-}" ] || skip "TL_EXEC runs the programs"
	# success: nothing left allocated at all at exit
	local vg="valgrind -q --error-exitcode=99 --leak-check=full"
	local ok="$vg --show-leak-kinds=all --errors-for-leak-kinds=all"
	# failure (exit in tl_die): memory still reachable, and the thread
	# stacks of a pool still running ("possibly lost"), are no leak
	local bad="$vg --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect"
	head -c 3000 "$TOP/data/tinyshakespeare.txt" >s.txt
	$ok tl-tokenize <s.txt >s.tok
	$ok tl-tokenize --train-bpe 300 -o s.bpe s.txt
	$ok tl-tokenize -v s.bpe s.txt >b.tok
	$ok tl-tokenize -d b.tok | cmp - s.txt
	$ok tl-tokenize --ids -d s.tok >/dev/null
	$ok tl-init -o m.tl $SHAPE -v s.bpe
	$ok tl-train -m m.tl --steps 3 --batch 2 --eval-every 2 --eval-tokens 50 b.tok 2>/dev/null
	$ok tl-gen -m m.tl -p "ROMEO:" -n 10 -s 1 >/dev/null
	printf 'ab' | $ok tl-gen -m m.tl -n 40 --slide -s 1 >/dev/null
	$ok tl-eval -m m.tl -j b.tok >/dev/null
	head -c 500 b.tok >cut.tok
	run -2 $bad tl-tokenize -d cut.tok
	run -2 $bad tl-train -m m.tl --steps 5 cut.tok
	run -2 $bad tl-eval -m m.tl s.tok
	run -2 $bad tl-gen -m "$DATA/crash-ckpt-zero-rng" -p x
	run -1 sh -c "$bad tl-gen -m m.tl -p x -n 3 >/dev/full"
	one_line "$output"
}
