#!/usr/bin/env bats
# tl-quantize and packed models: the layouts and kernels (C unit test),
# the packed forward against the checkpoint's (the same text, the same
# loss), post-training quantization of an fp32 model, the version 1
# fixture, atomic output, and bad input.

load helper

SHAPE="--layers 2 --dim 32 --heads 2 --ffn 64 --ctx 64"

# A ternary and an fp32 model trained a little on the same text, and
# the text's first and last 20000 bytes as token streams.
setup_file() {
	cd "$BATS_FILE_TMPDIR"
	head -c 100000 "$TOP/data/tinyshakespeare.txt" | tl-tokenize > train.tok
	tail -c 20000 "$TOP/data/tinyshakespeare.txt" | tl-tokenize > val.tok
	tl-train -m tern.tl $SHAPE --steps 60 --batch 8 --lr 0.01 \
	    --warmup 5 --save-every 0 train.tok 2>/dev/null
	tl-train -m fp32.tl $SHAPE --quant fp32 --steps 60 --batch 8 \
	    --lr 0.005 --warmup 5 --save-every 0 train.tok 2>/dev/null
}

setup() {
	cd "$BATS_TEST_TMPDIR"
	F="$BATS_FILE_TMPDIR"
}

# field NAME: the value of NAME in the JSON object in $output
field() {
	printf '%s\n' "$output" | sed -n "s/.*\"$1\":\([^,}]*\).*/\1/p"
}

@test "pack: layouts round-trip, kernels match on every path, forward equals the checkpoint's" {
	run "$UNIT/test_pack"
	echo "$output" | tail -5
	[ "$status" -eq 0 ]
	[[ "$output" == *", 0 failed"* ]]
}

@test "quantize: the packed model generates the checkpoint's text, 200 greedy tokens" {
	for q in tq2 tq1; do
		tl-quantize -q $q -m "$F/tern.tl" -o m.$q
		tl-gen -m "$F/tern.tl" -p "ROMEO:" -n 200 --greedy --slide > want
		tl-gen -m m.$q -p "ROMEO:" -n 200 --greedy --slide > got
		[ "$(wc -c < got)" -eq 206 ]
		cmp want got
		# sampled text too, with any thread count
		tl-gen -m "$F/tern.tl" -p "ab" -n 200 -s 9 --slide -t 1 > want
		tl-gen -m m.$q -p "ab" -n 200 -s 9 --slide -t 2 > got
		cmp want got
	done
}

@test "quantize: a subln model trains, and its packed model generates its text and loss" {
	tl-train -m s.tl $SHAPE --norm subln --steps 30 --batch 8 --lr 0.01 \
	    --warmup 5 --save-every 0 "$F/train.tok" 2> err
	# L(C + F) = 192 gains more than rmsnorm's 32,928 (tl-checkpoint(5))
	grep -q "new model, 33120 parameters" err
	tl-quantize -q tq2 -m s.tl -o s.tq2
	tl-gen -m s.tl -p "ROMEO:" -n 100 --greedy --slide > want
	tl-gen -m s.tq2 -p "ROMEO:" -n 100 --greedy --slide > got
	[ "$(wc -c < got)" -eq 106 ]
	cmp want got
	a=$(tl-eval -m s.tl "$F/val.tok" | sed -n 's/.*loss \([0-9.]*\).*/\1/p')
	b=$(tl-eval -m s.tq2 "$F/val.tok" | sed -n 's/.*loss \([0-9.]*\).*/\1/p')
	echo "$a $b"
	[ -n "$a" ] && [ "$a" = "$b" ]
}

@test "quantize: tl-eval loss of the packed model is the checkpoint's (within 0.005 nats)" {
	run tl-eval -j -m "$F/tern.tl" "$F/val.tok"
	want=$(field loss)
	for q in tq2 tq1; do
		tl-quantize -q $q -m "$F/tern.tl" -o m.$q
		run tl-eval -j -m m.$q "$F/val.tok"
		[ "$status" -eq 0 ]
		echo "$q: $(field loss) against $want"
		awk -v a="$(field loss)" -v b="$want" \
		    'BEGIN { d = a - b; exit !(d < 0.005 && d > -0.005) }'
		[ "$(field tokens)" -eq 19999 ]
	done
}

@test "quantize: tl-eval of a packed model does not depend on threads" {
	tl-quantize -m "$F/tern.tl" -o m.tlq
	tl-eval -j -m m.tlq -t 1 "$F/val.tok" > a
	tl-eval -j -m m.tlq -t 3 "$F/val.tok" > b
	tl-eval -j -m m.tlq -t 2 -n 1000 "$F/val.tok" > c
	cmp a b
	run cat c
	[ "$(field tokens)" -eq 1000 ]
}

@test "quantize: int8 post-training quantization of an fp32 model costs under 0.02 nats" {
	run tl-eval -j -m "$F/fp32.tl" "$F/val.tok"
	want=$(field loss)
	tl-quantize -q q8 -m "$F/fp32.tl" -o m.q8
	run tl-eval -j -m m.q8 "$F/val.tok"
	[ "$status" -eq 0 ]
	echo "q8: $(field loss) against $want"
	awk -v a="$(field loss)" -v b="$want" \
	    'BEGIN { d = a - b; exit !(d < 0.02 && d > -0.02) }'
	# f32 is the checkpoint's model
	tl-quantize -q f32 -m "$F/fp32.tl" -o m.f32
	run tl-eval -j -m m.f32 "$F/val.tok"
	awk -v a="$(field loss)" -v b="$want" \
	    'BEGIN { d = a - b; exit !(d < 1e-4 && d > -1e-4) }'
}

@test "quantize: every format and scheme runs; sizes in order" {
	for q in tq2 tq1 q8 q4 f32; do
		tl-quantize -q $q -m "$F/fp32.tl" -o m.$q
		tl-gen -m m.$q -p "ab" -n 10 -s 1 > out
		[ "$(wc -c < out)" -eq 12 ]
	done
	for s in absmean twn sign; do
		tl-quantize -q tq2 -s $s -m "$F/fp32.tl" -o m.$s
		run tl-eval -j -m m.$s "$F/val.tok"
		[ "$status" -eq 0 ]
	done
	size() { wc -c < "$1"; }
	[ "$(size m.tq1)" -lt "$(size m.tq2)" ]
	[ "$(size m.tq2)" -lt "$(size m.q4)" ]
	[ "$(size m.q4)" -lt "$(size m.q8)" ]
	[ "$(size m.q8)" -lt "$(size m.f32)" ]
	[ "$(size m.f32)" -lt "$(size "$F/fp32.tl")" ]
	# the same scheme on the same model gives the same bytes
	tl-quantize -q tq2 -m "$F/fp32.tl" -o again
	cmp again m.absmean
	cmp again m.tq2
}

@test "quantize: -v reports the bits per weight" {
	run tl-quantize -v -m "$F/tern.tl" -o m.tlq
	[ "$status" -eq 0 ]
	one_line "$output"
	# 2 blocks of 96 + 32 + 64 rows of 32 weights and 32 rows of 64:
	# 16384 weights; rows padded to 64 weights of 2 bits, 16 bytes
	# each (224 rows x 16 x 2 = 7168 bytes), and 8 scales of 4 bytes
	[[ "$output" == "tl-quantize: m.tlq: tq2 absmean, 16384 weights in 7200 bytes (3.5156 bits per weight), file "*" bytes" ]]
	[ ! -s "$(ls m.tlq.tmp* 2>/dev/null)" ]
}

@test "quantize: tokenizer, stats and TL_SIMD with a packed model" {
	tl-quantize -m "$F/tern.tl" -o m.tlq
	echo "hello, world" | tl-tokenize -v m.tlq | tl-tokenize -d -v m.tlq > back
	[ "$(cat back)" = "hello, world" ]
	tl-gen -m m.tlq -p "ab" -n 30 --greedy --stats 2> err > out
	one_line "$(cat err)"
	grep -q "^tl-gen: prompt 2 tokens in .* 30 tokens in .* tokens/s .* bytes of weights per token; [a-z0-9]* path, [0-9]* threads; peak memory [0-9.]* MiB$" err
	for p in scalar sse2 ssse3 sse41 avx2; do
		TL_SIMD=$p tl-gen -m m.tlq -p "ab" -n 30 --greedy > o.$p 2>/dev/null ||
			continue
		cmp out o.$p
	done
}

@test "quantize: the version 1 fixture still reads and writes the same text" {
	TL_SIMD=scalar tl-gen -m "$DATA/v1.tlq" -p "ROMEO:" -n 100 -s 3 -T 1 \
	    --slide > got
	cmp "$DATA/v1-tlq.txt" got
	head -c 3000 "$TOP/data/tinyshakespeare.txt" | tl-tokenize |
		tl-eval -j -m "$DATA/v1.tlq" > e
	grep -q '"tokens":2999' e
	printf 'x' | tl-tokenize -v "$DATA/v1.tlq" | tl-tokenize -d -v "$DATA/v1.tlq" > x
	[ "$(cat x)" = x ]
}

@test "quantize: a damaged packed model is one line and status 2" {
	tl-quantize -m "$F/tern.tl" -o m.tlq
	size=$(wc -c < m.tlq)
	head -c $((size - 1)) m.tlq > short.tlq
	head -c 50 m.tlq > shorter.tlq
	cp m.tlq flip.tlq
	printf '\125' | dd of=flip.tlq bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
	cmp -s m.tlq flip.tlq && printf '\252' |
		dd of=flip.tlq bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
	cp m.tlq ver.tlq
	printf '\002' | dd of=ver.tlq bs=1 seek=8 conv=notrunc 2>/dev/null
	for f in short shorter flip ver; do
		for prog in "tl-gen -p x -m" "tl-eval -m"; do
			run $prog $f.tlq "$F/val.tok"
			[ "$prog" = "tl-eval -m" ] || run $prog $f.tlq
			echo "$prog $f: $output"
			[ "$status" -eq 2 ]
			one_line "$output"
			[[ "$output" == "${prog%% *}: $f.tlq: "* ]]
		done
	done
	run tl-gen -m short.tlq -p x
	[[ "$output" == *"truncated packed model"* ]]
	run tl-gen -m flip.tlq -p x
	[[ "$output" == *"checksum mismatch"* ]]
	run tl-gen -m ver.tlq -p x
	[ "$output" = "tl-gen: ver.tlq: packed model version 2, this program reads version 1" ]
	run tl-tokenize -v flip.tlq < /dev/null
	[ "$status" -eq 2 ]
	one_line "$output"
}

@test "quantize: bad input and options are one line and status 2" {
	echo "hello" > text.tl
	tl-quantize -m "$F/tern.tl" -o m.tlq
	for args in "-x" "--bogus" "" "-m $F/tern.tl" "-o out" \
	    "-m $F/tern.tl -o out extra" "-q bogus -m $F/tern.tl -o out" \
	    "-s bogus -m $F/tern.tl -o out" "-q q8 -s twn -m $F/tern.tl -o out" \
	    "-q f32 -s absmean -m $F/tern.tl -o out" "-q" "-m" \
	    "-m missing.tl -o out" "-m text.tl -o out" "-m m.tlq -o out" \
	    "-m . -o out" "-f bogus -m $F/tern.tl -o out"; do
		run tl-quantize $args
		echo "$args: $output"
		[ "$status" -eq 2 ]
		one_line "$output"
		[[ "$output" == "tl-quantize: "* ]]
		[ ! -e out ]
	done
	run tl-quantize -m missing.tl -o out
	[ "$output" = "tl-quantize: missing.tl: No such file or directory" ]
	run tl-quantize -m m.tlq -o out
	[ "$output" = "tl-quantize: m.tlq: a packed model: tl-quantize reads checkpoints (or writes it as GGUF: -f gguf)" ]
}

@test "quantize: a failed write leaves nothing behind, and keeps the old file" {
	run tl-quantize -m "$F/tern.tl" -o nodir/m.tlq
	[ "$status" -eq 1 ]
	one_line "$output"
	[[ "$output" == "tl-quantize: nodir/m.tlq: "* ]]
	tl-quantize -m "$F/tern.tl" -o m.tlq
	cp m.tlq old
	run tl-quantize -m "$F/fp32.tl" -o m.tlq -q bogus
	[ "$status" -eq 2 ]
	cmp m.tlq old
	if [ -w /dev/full ] && [ "$(id -u)" != 0 ]; then :; fi
	mkdir ro && chmod 555 ro
	if ! touch ro/probe 2>/dev/null; then
		run tl-quantize -m "$F/tern.tl" -o ro/m.tlq
		[ "$status" -eq 1 ]
		one_line "$output"
		[ -z "$(ls ro)" ]
	fi
	[ -z "$(ls | grep tmp)" ]
}

@test "quantize: -V and -h" {
	version_help tl-quantize
	run sh -c 'tl-quantize -h > /dev/full'
	[ "$status" -ne 0 ]
}
