#!/usr/bin/env bats
# lib/util: CRC-32 and the progress meter.

load helper

@test "test_util: CRC-32 against a bitwise reference, progress meter" {
	run "$UNIT/test_util"
	echo "$output"
	[ "$status" -eq 0 ]
}

# on_tty CMD: run CMD (a shell command) with stderr, stdin and stdout on
# a new terminal (script(1) of util-linux); $output is what the terminal
# showed.
on_tty() {
	command -v script >/dev/null || skip "no script(1)"
	run script -qec "$1" /dev/null </dev/null
}

@test "progress: a line on a terminal, nothing when stderr is not one" {
	cd "$BATS_TEST_TMPDIR"
	head -c 300000 "$TOP/data/tinyshakespeare.txt" > c.txt
	tl-tokenize -o c.tok c.txt 2> err
	tl-tokenize -d -o d.txt c.tok 2>> err
	tl-tokenize --train-bpe 300 -o v.voc c.txt 2>> err
	cat c.tok | tl-tokenize -d > e.txt 2>> err
	[ ! -s err ]

	on_tty "tl-tokenize -o c2.tok c.txt"
	[ "$status" -eq 0 ]
	[[ "$output" == *"tl-tokenize: 300.0 kB in "*", "*"B/s"* ]]
	cmp c.tok c2.tok
	on_tty "tl-tokenize -d -o d2.txt c.tok"
	[ "$status" -eq 0 ]
	[[ "$output" == *"tl-tokenize: "*" kB in "* ]]
	cmp c.txt d2.txt
	on_tty "cat c.tok | tl-tokenize -d > e2.txt"
	[ "$status" -eq 0 ]
	[[ "$output" == *"tl-tokenize: 300.0k tokens in "* ]]
	cmp c.txt e2.txt
	on_tty "tl-tokenize --train-bpe 300 -o v2.voc c.txt"
	[ "$status" -eq 0 ]
	[[ "$output" == *"tl-tokenize: learning: 44 merges in "* ]]
	cmp v.voc v2.voc
	# text decoded to the terminal itself is left alone
	on_tty "tl-tokenize -d c.tok"
	[[ "$output" != *"B/s"* ]]
}

@test "progress: tl-eval on a terminal, nothing when stderr is not one" {
	cd "$BATS_TEST_TMPDIR"
	tl-init -o m.tl --layers 1 --dim 16 --heads 2 --ffn 32 --ctx 32
	head -c 5000 "$TOP/data/tinyshakespeare.txt" | tl-tokenize > c.tok
	tl-eval -m m.tl c.tok > out 2> err
	[ ! -s err ]
	on_tty "tl-eval -m m.tl -n 3000 c.tok"
	[ "$status" -eq 0 ]
	[[ "$output" == *"tl-eval: 3.0k tokens in "*" tokens/s"* ]]
	[[ "$output" == *"m.tl on c.tok: 3000 tokens"* ]]
}
