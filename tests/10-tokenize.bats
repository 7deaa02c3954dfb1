#!/usr/bin/env bats
# tl-tokenize: round trips, --ids, BPE vocabularies, the version 1
# fixtures, and bad input (one-line errors, exit status 2, no output
# file left behind).
#
# Fixtures in tests/data: short texts (empty.txt, hello.txt, nonl.txt,
# utf8.txt, binary.bin with NUL bytes and invalid UTF-8, v1.txt), and
# format version 1 files made from v1.txt: v1-bytes.tok (byte
# tokenizer), v1.tlv (a 300-id BPE vocabulary learned from v1.txt) and
# v1-bpe.tok (v1.txt encoded with it).

bats_require_minimum_version 1.5.0

load helper

# flip FILE OFFSET: invert the bits of one byte in place.
flip() {
	local v
	v=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
	printf "\\$(printf %03o $((v ^ 255)))" |
		dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# hello_tok: the byte tokens of hello.txt in $BATS_TEST_TMPDIR/h.tok;
# prints their size in bytes.
hello_tok() {
	tl-tokenize <"$DATA/hello.txt" >"$BATS_TEST_TMPDIR/h.tok" || return
	wc -c <"$BATS_TEST_TMPDIR/h.tok"
}

# undecodable FILE: tl-tokenize -d refuses FILE, status 2, with one line
# on stderr (text decoded before the damage may be on stdout).
undecodable() {
	run -2 --separate-stderr tl-tokenize -d "$1"
	one_line "$stderr"
}

# only_files DIR NAMES: DIR holds exactly NAMES (sorted, each followed
# by a space).
only_files() {
	local dir=$1
	shift
	[ "$(cd "$dir" && ls -A | sort | tr '\n' ' ')" = "$*" ]
}

@test "unit: tokenizer, BPE learner against the reference, streams" {
	run "$UNIT/test_tokenizer" "$TOP/data/tinyshakespeare.txt"
	echo "$output"
	[ "$status" -eq 0 ]
}

@test "decode(encode(x)) == x for every file in tests/data" {
	local f
	for f in "$DATA"/*; do
		tl-tokenize "$f" >"$BATS_TEST_TMPDIR/x.tok"
		tl-tokenize -d "$BATS_TEST_TMPDIR/x.tok" | cmp - "$f"
		tl-tokenize <"$f" | tl-tokenize -d | cmp - "$f"
	done
}

@test "decode(encode(x)) == x for random bytes, bytes and BPE" {
	local t=$BATS_TEST_TMPDIR
	head -c 300000 /dev/urandom >"$t/r"
	tl-tokenize <"$t/r" | tl-tokenize -d | cmp - "$t/r"
	tl-tokenize --train-bpe 400 -o "$t/v" "$DATA/v1.txt"
	tl-tokenize -v "$t/v" <"$t/r" | tl-tokenize -d | cmp - "$t/r"
	# a vocabulary learned from random bytes, on text
	tl-tokenize --train-bpe 600 -o "$t/vr" "$t/r"
	tl-tokenize -v "$t/vr" "$DATA/v1.txt" | tl-tokenize -d |
		cmp - "$DATA/v1.txt"
}

@test "BPE round trip for every file in tests/data, also through -v stream" {
	local t=$BATS_TEST_TMPDIR f
	head -c 200000 "$TOP/data/tinyshakespeare.txt" >"$t/train"
	tl-tokenize --train-bpe 1000 -o "$t/v.tlv" "$t/train"
	for f in "$DATA"/* "$t/train"; do
		tl-tokenize -v "$t/v.tlv" "$f" >"$t/x.tok"
		tl-tokenize -d "$t/x.tok" | cmp - "$f"
		tl-tokenize -d -v "$t/v.tlv" "$t/x.tok" | cmp - "$f"
		# the vocabulary of a token stream
		tl-tokenize -v "$t/x.tok" "$f" | cmp - "$t/x.tok"
	done
	# BPE is shorter than bytes on text like its training text
	tl-tokenize -v "$t/v.tlv" --ids "$t/train" >"$t/ids"
	[ "$(wc -l <"$t/ids")" -lt 100000 ]
}

@test "--ids prints decimal ids, reading text or (-d) a stream" {
	run tl-tokenize --ids <<<"ab"
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf '97\n98\n10')" ]
	run tl-tokenize --ids "$DATA/empty.txt"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	tl-tokenize "$DATA/binary.bin" | tl-tokenize -d --ids >"$BATS_TEST_TMPDIR/a"
	tl-tokenize --ids "$DATA/binary.bin" | diff -u - "$BATS_TEST_TMPDIR/a"
	[ "$(head -4 "$BATS_TEST_TMPDIR/a" | tr '\n' ' ')" = "110 117 108 0 " ]
}

@test "BPE hand example: aaabdaaabac with 259 ids is 258 100 258 97 99" {
	local t=$BATS_TEST_TMPDIR
	printf aaabdaaabac >"$t/a"
	tl-tokenize --train-bpe 259 -o "$t/v" "$t/a"
	run tl-tokenize -v "$t/v" --ids "$t/a"
	[ "$status" -eq 0 ]
	[ "$(echo $output)" = "258 100 258 97 99" ]
	# asking for more than the text supports stops early, with a note
	run tl-tokenize --train-bpe 1000 -o "$t/v2" "$t/a"
	[ "$status" -eq 0 ]
	[[ "$output" == *"the vocabulary has 259 ids"* ]]
	cmp "$t/v" "$t/v2"
}

@test "empty input gives a valid empty stream" {
	tl-tokenize <"$DATA/empty.txt" >"$BATS_TEST_TMPDIR/e.tok"
	[ -s "$BATS_TEST_TMPDIR/e.tok" ]
	run tl-tokenize -d "$BATS_TEST_TMPDIR/e.tok"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	tl-tokenize --train-bpe 300 -o "$BATS_TEST_TMPDIR/v" <"$DATA/empty.txt"
	tl-tokenize -v "$BATS_TEST_TMPDIR/v" <"$DATA/hello.txt" |
		tl-tokenize -d | cmp - "$DATA/hello.txt"
}

@test "format version 1 fixtures still read and encode the same" {
	tl-tokenize -d "$DATA/v1-bytes.tok" | cmp - "$DATA/v1.txt"
	tl-tokenize -d "$DATA/v1-bpe.tok" | cmp - "$DATA/v1.txt"
	tl-tokenize "$DATA/v1.txt" | cmp - "$DATA/v1-bytes.tok"
	tl-tokenize -v "$DATA/v1.tlv" "$DATA/v1.txt" | cmp - "$DATA/v1-bpe.tok"
	tl-tokenize --train-bpe 300 "$DATA/v1.txt" -o "$BATS_TEST_TMPDIR/v"
	cmp "$BATS_TEST_TMPDIR/v" "$DATA/v1.tlv"
}

@test "-o writes the file only when complete" {
	local t=$BATS_TEST_TMPDIR
	mkdir "$t/o"
	tl-tokenize -o "$t/o/x.tok" "$DATA/v1.txt"
	tl-tokenize -d -o "$t/o/x.txt" "$t/o/x.tok"
	cmp "$t/o/x.txt" "$DATA/v1.txt"
	only_files "$t/o" "x.tok x.txt "
	printf 'garbage' >"$t/bad.tok"
	run -2 tl-tokenize -d -o "$t/o/y.txt" "$t/bad.tok"
	one_line "$output"
	only_files "$t/o" "x.tok x.txt "
	# a stream cut short after some text was decoded
	head -c 2000 "$DATA/v1-bytes.tok" >"$t/cut.tok"
	run -2 tl-tokenize -d -o "$t/o/y.txt" "$t/cut.tok"
	one_line "$output"
	[[ "$output" == *"truncated stream"* ]]
	only_files "$t/o" "x.tok x.txt "
	run -2 tl-tokenize --train-bpe 300 -o "$t/o/v" "$t/missing"
	only_files "$t/o" "x.tok x.txt "
}

@test "bad magic, empty stream, wrong kind of file" {
	run -2 tl-tokenize -d <<<"hello there"
	one_line "$output"
	[ "$output" = "tl-tokenize: stdin: bad magic (not a tl token stream)" ]
	run -2 tl-tokenize -d "$DATA/empty.txt"
	one_line "$output"
	[[ "$output" == *"empty.txt: empty input"* ]]
	run -2 tl-tokenize -d "$DATA/v1.tlv"
	one_line "$output"
	[[ "$output" == *"bad magic"* ]]
	run -2 tl-tokenize -v "$DATA/v1.txt" <"$DATA/hello.txt"
	one_line "$output"
	[[ "$output" == *"v1.txt: not a vocabulary file"* ]]
}

# test_tokenizer tries every prefix and every flipped bit of a small
# stream; here a few of each go through the program.  Text decoded
# before the damage is on stdout, so the error is looked for on stderr.
@test "truncated streams are errors" {
	local t=$BATS_TEST_TMPDIR n i
	n=$(hello_tok)
	for i in 2 11 20 30 $((n - 1)); do
		head -c "$i" "$t/h.tok" >"$t/p.tok"
		undecodable "$t/p.tok"
	done
	# without its end chunk
	head -c $((n - 16)) "$t/h.tok" >"$t/p.tok"
	run -2 --separate-stderr tl-tokenize -d <"$t/p.tok"
	[ "$stderr" = "tl-tokenize: stdin: truncated stream" ]
	# and with something after it
	cat "$t/h.tok" "$DATA/hello.txt" >"$t/p.tok"
	undecodable "$t/p.tok"
	[[ "$stderr" == *"data after the end chunk"* ]]
}

@test "one flipped byte in a stream or vocabulary is an error" {
	local t=$BATS_TEST_TMPDIR n i
	n=$(hello_tok)
	# magic, version, blob length, blob, header CRC, count, id, chunk
	# CRC, end chunk
	for i in 0 5 9 13 22 24 35 58 $((n - 8)) $((n - 1)); do
		cp "$t/h.tok" "$t/f.tok"
		flip "$t/f.tok" "$i"
		undecodable "$t/f.tok"
	done
	cp "$t/h.tok" "$t/f.tok"
	flip "$t/f.tok" 30
	run -2 tl-tokenize -d "$t/f.tok"
	[ "$output" = "tl-tokenize: $t/f.tok: checksum mismatch in chunk 1" ]
	n=$(wc -c <"$DATA/v1.tlv")
	for i in 0 6 10 100 $((n - 1)); do
		cp "$DATA/v1.tlv" "$t/f.tlv"
		flip "$t/f.tlv" "$i"
		run -2 tl-tokenize -v "$t/f.tlv" "$DATA/hello.txt"
		one_line "$output"
	done
}

@test "a newer format version is refused, naming both versions" {
	cp "$DATA/v1-bytes.tok" "$BATS_TEST_TMPDIR/n.tok"
	printf '\002' | dd of="$BATS_TEST_TMPDIR/n.tok" bs=1 seek=4 \
		conv=notrunc status=none
	run -2 tl-tokenize -d "$BATS_TEST_TMPDIR/n.tok"
	one_line "$output"
	[[ "$output" == *"format version 2 is newer than this program's 1"* ]]
}

@test "-v takes the tokenizer of a checkpoint" {
	local t=$BATS_TEST_TMPDIR
	[ -x "$TOP/bin/tl-init" ] || skip "no tl-init"
	tl-tokenize -v "$DATA/v1.tlv" "$DATA/v1.txt" >"$t/s.tok"
	tl-init -v "$DATA/v1.tlv" -o "$t/m.tl" --layers 1 --dim 16 --heads 2 \
		--ffn 32 --ctx 16
	tl-tokenize -v "$t/m.tl" "$DATA/v1.txt" | cmp - "$t/s.tok"
	tl-tokenize -d -v "$t/m.tl" "$t/s.tok" | cmp - "$DATA/v1.txt"
}

@test "a stream made with another tokenizer is refused by -d -v" {
	run -2 tl-tokenize -d -v "$DATA/v1.tlv" "$DATA/v1-bytes.tok"
	one_line "$output"
	[[ "$output" == *"tokenizer is not the one in"* ]]
}

@test "usage errors: one line, status 2" {
	run -2 tl-tokenize --bogus
	one_line "$output"
	[[ "$output" == "tl-tokenize: unknown option --bogus"* ]]
	run -2 tl-tokenize -x
	one_line "$output"
	run -2 tl-tokenize --train-bpe
	one_line "$output"
	run -2 tl-tokenize --train-bpe 100 -o "$BATS_TEST_TMPDIR/v"
	one_line "$output"
	run -2 tl-tokenize --train-bpe 65537 -o "$BATS_TEST_TMPDIR/v"
	one_line "$output"
	run -2 tl-tokenize --train-bpe abc -o "$BATS_TEST_TMPDIR/v"
	one_line "$output"
	run -2 tl-tokenize --train-bpe 300
	one_line "$output"
	run -2 tl-tokenize --train-bpe 300 -d -o "$BATS_TEST_TMPDIR/v"
	one_line "$output"
	run -2 tl-tokenize a b
	one_line "$output"
	run -2 tl-tokenize -v
	one_line "$output"
	[ ! -e "$BATS_TEST_TMPDIR/v" ]
}

@test "missing files: one line naming the file, status 2" {
	run -2 tl-tokenize "$BATS_TEST_TMPDIR/nosuch"
	one_line "$output"
	[ "$output" = "tl-tokenize: $BATS_TEST_TMPDIR/nosuch: No such file or directory" ]
	run -2 tl-tokenize -d "$BATS_TEST_TMPDIR/nosuch"
	one_line "$output"
	run -2 tl-tokenize -v "$BATS_TEST_TMPDIR/nosuch" <"$DATA/hello.txt"
	one_line "$output"
	[[ "$output" == *nosuch* ]]
}

@test "-h and -V" {
	run -0 tl-tokenize -h
	[[ "$output" == "usage: tl-tokenize [-dhV] [-o file] [-v vocab] "*"[--ids]"*"[--stats]"* ]]
	run -0 --separate-stderr tl-tokenize --stats "$DATA/hello.txt"
	[[ "$stderr" == *"14 bytes to 14 ids"* ]]
	run -0 tl-tokenize -V
	[[ "$output" == "tl-tokenize "[0-9]* ]]
}

@test "a closed stdout pipe ends quietly" {
	local t=$BATS_TEST_TMPDIR
	head -c 3000000 /dev/urandom >"$t/r"
	tl-tokenize <"$t/r" >"$t/r.tok"
	tl-tokenize <"$t/r" 2>"$t/err1" | head -c 10 >/dev/null
	tl-tokenize -d "$t/r.tok" 2>"$t/err2" | head -c 10 >/dev/null
	tl-tokenize --ids <"$t/r" 2>"$t/err3" | head -n 1 >/dev/null
	[ ! -s "$t/err1" ] && [ ! -s "$t/err2" ] && [ ! -s "$t/err3" ]
}

@test "tokenize: -o a pipe or device writes into it, never renames a file over it" {
	cd "$BATS_TEST_TMPDIR"
	mkfifo p
	timeout 10 cat p > got &
	echo "hello" | tl-tokenize -o p
	wait
	[ -p p ]
	echo "hello" | tl-tokenize > want
	cmp got want
}
