#!/usr/bin/env bats
# tl-eval as a user runs it: JSON and summary output, what is counted,
# independence of threads and rows, tokenizer checks, and bad input.

load helper

SHAPE="--layers 1 --dim 16 --heads 2 --ffn 32 --ctx 32"
JSON='^\{"loss":[0-9.]+,"ppl":[0-9.]+,"bits_per_byte":[0-9.]+,"top1":[0-9.]+,"top5":[0-9.]+,"tokens":[0-9]+,"bytes":[0-9]+\}$'

setup() {
	cd "$BATS_TEST_TMPDIR"
	tl-init -o m.tl $SHAPE
	head -c 5000 "$TOP/data/tinyshakespeare.txt" > c.txt
	tl-tokenize < c.txt > c.tok
}

# field NAME: the value of NAME in the JSON object in $output
field() {
	printf '%s\n' "$output" | sed -n "s/.*\"$1\":\([^,}]*\).*/\1/p"
}

@test "eval: -j prints one JSON object with every key" {
	run tl-eval -j -m m.tl < c.tok
	[ "$status" -eq 0 ]
	one_line "$output"
	[[ "$output" =~ $JSON ]]
	# every byte after the first is a target
	[ "$(field tokens)" -eq 4999 ]
	[ "$(field bytes)" -eq 4999 ]
	# an untrained model is close to uniform over 256 bytes
	awk -v l="$(field loss)" -v p="$(field ppl)" \
	    -v b="$(field bits_per_byte)" -v t1="$(field top1)" \
	    -v t5="$(field top5)" 'BEGIN {
		ok = l > 5.3 && l < 5.8 && (p - exp(l)) ^ 2 < 1e-6 * p * p &&
		    (b - l / log(2)) ^ 2 < 1e-10 && t1 >= 0 && t1 <= t5 &&
		    t5 <= 1
		exit !ok
	}'
}

@test "eval: the summary names the measures" {
	run tl-eval -m m.tl c.tok
	[ "$status" -eq 0 ]
	[[ "$output" == "m.tl on c.tok: 4999 tokens, 4999 bytes"* ]]
	[[ "$output" == *"nats/token"*"perplexity"*"bits/byte"* ]]
	[[ "$output" == *"top-1"*"top-5"* ]]
}

@test "eval: file argument, stdin, threads and rows agree exactly" {
	tl-eval -j -m m.tl < c.tok > a
	tl-eval -j -m m.tl c.tok > b
	tl-eval -j -m m.tl - < c.tok > c
	tl-eval -j -m m.tl -t 1 -b 1 c.tok > d
	tl-eval -j -m m.tl -t 3 -b 7 c.tok > e
	TL_SIMD=scalar tl-eval -j -m m.tl -b 2 c.tok > f
	TL_SIMD=scalar tl-eval -j -m m.tl -b 3 -t 2 c.tok > g
	cmp a b
	cmp a c
	cmp a d
	cmp a e
	cmp f g
}

@test "eval: -n scores the first tokens only" {
	run tl-eval -j -n 100 -m m.tl c.tok
	[ "$status" -eq 0 ]
	[ "$(field tokens)" -eq 100 ]
	head -c 101 c.txt | tl-tokenize > s.tok
	tl-eval -j -m m.tl s.tok > a
	[ "$output" = "$(cat a)" ]
	# a stream shorter than one window
	head -c 10 c.txt | tl-tokenize > t.tok
	run tl-eval -j -m m.tl t.tok
	[ "$status" -eq 0 ]
	[ "$(field tokens)" -eq 9 ]
}

@test "eval: a trained model scores better than an untrained one" {
	run tl-eval -j -m m.tl c.tok
	before=$(field loss)
	head -c 30000 "$TOP/data/tinyshakespeare.txt" | tl-tokenize |
		tl-train -m m.tl --steps 40 --batch 4 --lr 0.01 --warmup 3 \
		--save-every 0 2>/dev/null
	run tl-eval -j -m m.tl c.tok
	[ "$status" -eq 0 ]
	awk -v a="$before" -v b="$(field loss)" 'BEGIN { exit !(b < a - 1) }'
}

@test "eval: BPE tokens count their bytes" {
	tl-tokenize --train-bpe 300 -o v.bpe < c.txt
	tl-tokenize -v v.bpe < c.txt > b.tok
	tl-init -o mb.tl -v b.tok $SHAPE
	run tl-eval -j -m mb.tl b.tok
	[ "$status" -eq 0 ]
	[[ "$output" =~ $JSON ]]
	tokens=$(field tokens)
	bytes=$(field bytes)
	[ "$tokens" -lt 4000 ]
	[ "$bytes" -gt "$tokens" ]
	[ "$bytes" -lt 5000 ]
	awk -v l="$(field loss)" -v b="$(field bits_per_byte)" \
	    -v t="$tokens" -v n="$bytes" \
	    'BEGIN { exit !((b - l * t / n / log(2)) ^ 2 < 1e-8) }'
}

@test "eval: a stream of another tokenizer is refused" {
	tl-tokenize --train-bpe 300 -o v.bpe < c.txt
	tl-tokenize -v v.bpe < c.txt > b.tok
	run tl-eval -m m.tl < b.tok
	[ "$status" -eq 2 ]
	[ "$output" = "tl-eval: stdin: tokenizer differs from m.tl's" ]
	run tl-eval -m m.tl b.tok
	[ "$status" -eq 2 ]
	[ "$output" = "tl-eval: b.tok: tokenizer differs from m.tl's" ]
}

@test "eval: bad input is one line and status 2" {
	run tl-eval -m missing.tl c.tok
	[ "$status" -eq 2 ]
	[ "$output" = "tl-eval: missing.tl: No such file or directory" ]
	run tl-eval -m c.tok c.tok
	[ "$status" -eq 2 ]
	[ "$output" = "tl-eval: c.tok: bad magic (not a tl checkpoint or packed model)" ]
	run tl-eval -m m.tl missing.tok
	[ "$status" -eq 2 ]
	one_line "$output"
	[[ "$output" == "tl-eval: missing.tok: "* ]]
	run tl-eval -m m.tl c.txt
	[ "$status" -eq 2 ]
	one_line "$output"
	[[ "$output" == "tl-eval: c.txt: "* ]]
	head -c 100 c.tok > short.tok
	run tl-eval -m m.tl short.tok
	[ "$status" -eq 2 ]
	one_line "$output"
	head -c 1 c.txt | tl-tokenize > one.tok
	run tl-eval -m m.tl one.tok
	[ "$status" -eq 2 ]
	one_line "$output"
	head -c 300 m.tl > short.tl
	run tl-eval -m short.tl c.tok
	[ "$status" -eq 2 ]
	one_line "$output"
	for args in "-x" "-b" "-b 0" "-n -1" "-t 0" "" "c.tok c.tok"; do
		run tl-eval $args c.tok
		echo "$args: $output"
		[ "$status" -eq 2 ]
		one_line "$output"
		[[ "$output" == "tl-eval: "* ]]
	done
}

@test "eval: -V and -h" {
	version_help tl-eval
}

@test "eval: a piped stream scores as the file; memory does not grow with the stream" {
	tl-train -m t.tl --steps 5 --batch 2 --save-every 0 c.tok 2>/dev/null
	for m in m.tl t.tl; do
		tl-quantize -m $m -o $m.pk 2>/dev/null
		for x in $m $m.pk; do
			tl-eval -m $x -j c.tok > f.json
			cat c.tok | tl-eval -m $x -j > p.json
			cmp f.json p.json
			tl-eval -m $x -j -n 100 c.tok > f.json
			cat c.tok | tl-eval -m $x -j -n 100 > p.json
			cmp f.json p.json
		done
	done
	# 5000 and 600000 tokens: peak memory within 1 MiB (holding the
	# stream would take 1.2 MB more)
	for i in $(seq 120); do cat c.txt; done | tl-tokenize > big.tok
	/usr/bin/time -f %M -o small.kib tl-eval -m m.tl -j c.tok > /dev/null
	/usr/bin/time -f %M -o big.kib tl-eval -m m.tl -j big.tok > /dev/null
	echo "$(cat small.kib) $(cat big.kib)"
	unmeasured || [ $(($(cat big.kib) - $(cat small.kib))) -lt 1024 ]
}
