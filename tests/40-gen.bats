#!/usr/bin/env bats
# tl-gen as a user runs it: the prompt and N tokens, reproducibility,
# the context limit, pipes, and bad input; and the C unit test of
# incremental inference and sampling.

load helper

SHAPE="--layers 1 --dim 16 --heads 2 --ffn 32 --ctx 32"

setup() {
	cd "$BATS_TEST_TMPDIR"
	tl-init -o m.tl $SHAPE
}

@test "infer: KV-cache steps match the batched forward; sampling; eval" {
	run "$UNIT/test_infer"
	echo "$output" | tail -5
	[ "$status" -eq 0 ]
	[[ "$output" == *"0 failed"* ]]
}

@test "gen: prints the prompt, then N tokens of the byte tokenizer" {
	tl-gen -m m.tl -p "ROMEO:" -n 20 -s 1 > out 2> err
	[ "$(wc -c < out)" -eq 26 ]	# 6 prompt bytes + 20 one-byte tokens
	[ "$(head -c 6 out)" = "ROMEO:" ]
	[ ! -s err ]
	tl-gen -m m.tl -p "ROMEO:" -n 0 > out0
	[ "$(cat out0)" = "ROMEO:" ]
}

@test "gen: the same seed gives the same text, another seed another" {
	tl-gen -m m.tl -p "ab" -n 20 -s 5 > a
	tl-gen -m m.tl -p "ab" -n 20 -s 5 > b
	tl-gen -m m.tl -p "ab" -n 20 -s 6 > c
	cmp a b
	! cmp -s a c || false
}

@test "gen: the text does not depend on the thread count" {
	tl-gen -m m.tl -p "ab" -n 20 -s 5 -t 1 > a
	tl-gen -m m.tl -p "ab" -n 20 -s 5 -t 3 > b
	cmp a b
	tl-gen -m m.tl -p "ab" -n 20 --greedy -t 1 > a
	tl-gen -m m.tl -p "ab" -n 20 --greedy -t 2 > b
	cmp a b
}

@test "gen: --greedy and -T 0 are deterministic whatever the seed" {
	tl-gen -m m.tl -p "ab" -n 20 --greedy -s 1 > a
	tl-gen -m m.tl -p "ab" -n 20 --greedy -s 2 > b
	tl-gen -m m.tl -p "ab" -n 20 -T 0 > c
	cmp a b
	cmp a c
	# top-k 1 is greedy too
	tl-gen -m m.tl -p "ab" -n 20 -k 1 -s 3 > d
	cmp a d
}

@test "gen: prompt from stdin; empty prompt" {
	printf 'ab\ncd\n' | tl-gen -m m.tl -n 5 -s 1 > a
	tl-gen -m m.tl -p "$(printf 'ab\ncd\n')" -n 5 -s 1 > b
	[ "$(wc -c < a)" -eq 11 ]
	# $(...) drops the trailing newline: the prompts differ
	[ "$(wc -c < b)" -eq 10 ]
	[ "$(head -c 6 a | od -An -c | tr -d ' ')" = 'ab\ncd\n' ]
	tl-gen -m m.tl -n 5 -s 1 < /dev/null > e
	[ "$(wc -c < e)" -eq 5 ]
	tl-gen -m m.tl -p "" -n 5 -s 1 > f
	cmp e f
}

@test "gen: stops at the context with a note, or slides past it" {
	run tl-gen -m m.tl -p "0123456789" -n 100 -s 1
	[ "$status" -eq 0 ]
	tl-gen -m m.tl -p "0123456789" -n 100 -s 1 > a 2> err
	# 10 prompt tokens leave room for 23 new ones in a context of 32
	[ "$(wc -c < a)" -eq 33 ]
	one_line "$(cat err)"
	grep -q "context of 32 tokens is full after 23 new tokens" err
	tl-gen -m m.tl -p "0123456789" -n 100 -s 1 --slide > b 2> err
	[ "$(wc -c < b)" -eq 110 ]
	[ ! -s err ]
	# the same up to the limit
	head -c 33 b > b33
	cmp a b33
	# a prompt longer than the context
	head -c 40 "$TOP/data/tinyshakespeare.txt" > long
	tl-gen -m m.tl -n 5 < long > c 2> err
	cmp long c
	grep -q "full after 0 new tokens" err
	tl-gen -m m.tl -n 5 --slide < long > d
	[ "$(wc -c < d)" -eq 45 ]
}

@test "gen: a closed pipe ends quietly" {
	tl-gen -m m.tl -p hello -n 5 -s 1 > want
	sh -c "tl-gen -m m.tl -p hello -n 100000 --slide -s 1 2>err | head -c 10 > got"
	cmp want got
	[ ! -s err ]
	# where SIGPIPE is ignored the write error ends it with status 0
	run sh -c "trap '' PIPE; tl-gen -m m.tl -p hello -n 100000 --slide -s 1 | head -c 10 > /dev/null"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	sh -c "trap '' PIPE; (tl-gen -m m.tl -p hello -n 100000 --slide -s 1; echo \$? > st) | head -c 1 > /dev/null"
	[ "$(cat st)" = 0 ]
}

@test "gen: -V and -h" {
	version_help tl-gen
}

@test "gen: bad flags are one line and status 2" {
	for args in "-x" "--bogus" "-n" "-m" "-m m.tl extra" "" \
	    "-m m.tl -n abc" "-m m.tl -k -1" "-m m.tl --top-p 0" \
	    "-m m.tl -T -1" "-m m.tl -t 0" "-m m.tl --top-p 2"; do
		run tl-gen $args -p x
		echo "$args: $output"
		[ "$status" -eq 2 ]
		one_line "$output"
		[[ "$output" == "tl-gen: "* ]]
	done
}

@test "gen: a bad model file is one line and status 2" {
	run tl-gen -m missing.tl -p x
	[ "$status" -eq 2 ]
	[ "$output" = "tl-gen: missing.tl: No such file or directory" ]
	echo "hello, world" > text.tl
	run tl-gen -m text.tl -p x
	[ "$status" -eq 2 ]
	[ "$output" = "tl-gen: text.tl: bad magic (not a tl checkpoint or packed model)" ]
	head -c 200 m.tl > short.tl
	run tl-gen -m short.tl -p x
	[ "$status" -eq 2 ]
	one_line "$output"
	[[ "$output" == "tl-gen: short.tl: truncated"* ]]
	cp m.tl flip.tl
	size=$(wc -c < m.tl)
	printf '\125' | dd of=flip.tl bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
	cmp -s m.tl flip.tl && printf '\252' |
		dd of=flip.tl bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
	run tl-gen -m flip.tl -p x
	[ "$status" -eq 2 ]
	one_line "$output"
	[[ "$output" == "tl-gen: flip.tl: "* ]]
	run tl-gen -m . -p x
	[ "$status" -eq 2 ]
	one_line "$output"
}

@test "gen: TL_SIMD forces a path; an unknown one is refused" {
	tl-gen -m m.tl -p "ab" -n 20 --greedy > a
	TL_SIMD=scalar tl-gen -m m.tl -p "ab" -n 20 --greedy > b
	[ "$(wc -c < b)" -eq 22 ]
	run env TL_SIMD=nonsense tl-gen -m m.tl -p x
	[ "$status" -eq 2 ]
	one_line "$output"
}
