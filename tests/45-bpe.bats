#!/usr/bin/env bats
# A model on a learned BPE vocabulary: the vocabulary travels with the
# stream and the checkpoint, training and generation use it, and
# tl-eval counts bits per byte of text, not per token; tl-tokenize
# --bpe learns and encodes in one step.

bats_require_minimum_version 1.5.0

load helper

setup() {
	cd "$BATS_TEST_TMPDIR"
	head -c 40000 "$TOP/data/tinyshakespeare.txt" > corpus.txt
	tl-tokenize --train-bpe 320 -o v.bpe < corpus.txt
	tl-tokenize -v v.bpe < corpus.txt > corpus.tok
}

@test "bpe: train and generate on a learned vocabulary" {
	run tl-train -m m.tl --layers 1 --dim 16 --heads 2 --ffn 32 --ctx 16 \
		--steps 20 --batch 2 --save-every 0 corpus.tok
	echo "$output"
	[ "$status" -eq 0 ]
	# the model carries the vocabulary: a stream encoded with it is
	# byte-identical to one encoded with the vocabulary file
	tl-tokenize -v m.tl < corpus.txt | cmp - corpus.tok
	run tl-gen -m m.tl -p "ROMEO:" -n 40 -s 3
	[ "$status" -eq 0 ]
	[[ "$output" == "ROMEO:"* ]]
	[ "${#output}" -gt 46 ]	# 40 tokens of one or more bytes
	# decoding needs nothing but the stream
	tl-tokenize -d < corpus.tok | cmp - corpus.txt
}

@test "bpe: tl-eval bits per byte count the text's bytes" {
	tl-train -m m.tl --layers 1 --dim 16 --heads 2 --ffn 32 --ctx 16 \
		--steps 5 --batch 2 --save-every 0 corpus.tok 2>/dev/null
	run tl-eval -m m.tl -j corpus.tok
	echo "$output"
	[ "$status" -eq 0 ]
	bytes=$(echo "$output" | sed 's/.*"bytes":\([0-9]*\).*/\1/')
	tokens=$(echo "$output" | sed 's/.*"tokens":\([0-9]*\).*/\1/')
	[ "$bytes" -gt "$tokens" ]
	# every byte but those of the first token is predicted once
	[ "$bytes" -le 40000 ]
	[ "$bytes" -ge $((40000 - 300)) ]
}

@test "bpe: --bpe-dropout: longer streams of the same text, the same for a seed from a file or a pipe, words BPE too; refused without merges" {
	tl-tokenize -v v.bpe --bpe-dropout 0.2 --seed 3 corpus.txt > a.tok
	cat corpus.txt | tl-tokenize -v v.bpe --bpe-dropout 0.2 --seed 3 > b.tok
	tl-tokenize -v v.bpe --bpe-dropout 0.2 --seed 4 corpus.txt > c.tok
	tl-tokenize -v v.bpe --bpe-dropout 0 corpus.txt | cmp - corpus.tok
	cmp a.tok b.tok
	! cmp -s a.tok c.tok || false
	tl-tokenize -d < a.tok | cmp - corpus.txt
	[ "$(stat -c %s a.tok)" -gt "$(stat -c %s corpus.tok)" ]
	# the same tokenizer: the stream trains the model of corpus.tok
	tl-train -m m.tl --layers 1 --dim 16 --heads 2 --ffn 32 --ctx 16 \
		--steps 2 --batch 2 --save-every 0 corpus.tok 2>/dev/null
	tl-train -m m.tl --steps 4 a.tok 2>/dev/null
	tl-tokenize --train-bpe 320 --bpe-kind words -o w.bpe < corpus.txt
	tl-tokenize -v w.bpe --bpe-dropout 0.2 corpus.txt > w1.tok
	cat corpus.txt | tl-tokenize -v w.bpe --bpe-dropout 0.2 > w2.tok
	cmp w1.tok w2.tok
	tl-tokenize -d < w1.tok | cmp - corpus.txt
	! tl-tokenize -v w.bpe corpus.txt | cmp -s - w1.tok || false
	run tl-tokenize --bpe-dropout 0.1 corpus.txt
	[ "$status" -eq 2 ]
	[ "$output" = "tl-tokenize: --bpe-dropout: the byte tokenizer has no BPE merges to skip" ]
	run tl-tokenize -v v.bpe --seed 2 corpus.txt
	[ "$status" -eq 2 ]
	[ "$output" = "tl-tokenize: --seed needs --bpe-dropout" ]
	run tl-tokenize -d --bpe-dropout 0.1 -v v.bpe < a.tok
	[ "$status" -eq 2 ]
	run tl-tokenize -v v.bpe --bpe-dropout 1 corpus.txt
	[ "$status" -eq 2 ]
}

# same_as_two_steps IN ARGS...: tl-tokenize --bpe 320 ARGS of the file
# IN, and of IN through a pipe, are byte-identical to the stream of
# --train-bpe 320 into a vocabulary file followed by -v with it, each
# given its share of ARGS: the learning options (--bpe-kind, --sample)
# to the first, the document format to both, the rest to -v.
same_as_two_steps() {
	local in=$1 learn=() docs=() enc=()
	shift
	while [ $# -gt 0 ]; do
		case $1 in
		--bpe-kind|--sample) learn+=("$1" "$2"); shift 2 ;;
		--csv|--jsonl|--sep) docs+=("$1" "$2"); shift 2 ;;
		*) enc+=("$1"); shift ;;
		esac
	done
	tl-tokenize --train-bpe 320 "${learn[@]}" "${docs[@]}" -o two.bpe "$in"
	tl-tokenize -v two.bpe "${docs[@]}" "${enc[@]}" "$in" >two.tok
	tl-tokenize --bpe 320 "${learn[@]}" "${docs[@]}" "${enc[@]}" "$in" |
		cmp - two.tok
	cat "$in" |
		tl-tokenize --bpe 320 "${learn[@]}" "${docs[@]}" "${enc[@]}" |
		cmp - two.tok
}

@test "bpe: --bpe n: the stream of --train-bpe n then -v, from a file or a pipe, to stdout or -o" {
	tl-tokenize --bpe 320 corpus.txt | cmp - corpus.tok
	cat corpus.txt | tl-tokenize --bpe 320 | cmp - corpus.tok
	tl-tokenize --bpe 320 -o b.tok < corpus.txt
	cmp b.tok corpus.tok
	# learned, not the bytes: fewer ids than bytes, and it decodes
	[ "$(stat -c %s corpus.tok)" -lt 60000 ]
	tl-tokenize -d b.tok | cmp - corpus.txt
	same_as_two_steps corpus.txt --ids
	same_as_two_steps corpus.txt --bpe-dropout 0.2 --seed 3
	# --stats: the learning's line, then the encoding's
	run tl-tokenize --bpe 320 --stats -o s.tok corpus.txt
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "tl-tokenize: corpus.txt: learned 320 ids from 40000 bytes"* ]]
	[[ "${lines[1]}" == "tl-tokenize: corpus.txt: 40000 bytes to "* ]]
	cmp s.tok corpus.tok
}

@test "bpe: --bpe with --bpe-kind words and --sample: a pipe sampled as the file it is copied to" {
	same_as_two_steps corpus.txt --bpe-kind words
	same_as_two_steps corpus.txt --bpe-kind words --sample 10k
	# two pieces of 600 KiB, the second from the middle of the file,
	# where the text is hex: not the first 1200 KiB that a pipe gives
	# --train-bpe
	{ cat "$TOP/data/tinyshakespeare.txt"
	  head -c 300000 /dev/urandom | od -An -tx1; } >big.txt
	same_as_two_steps big.txt --bpe-kind words --sample 1200k
	head -c 1228800 big.txt |
		tl-tokenize --train-bpe 320 --bpe-kind words -o h.bpe
	! cmp -s h.bpe two.bpe || false
}

@test "bpe: --bpe with documents: the end-of-text token is one of the n ids" {
	sep=$'\n\n'
	same_as_two_steps corpus.txt --sep "$sep"
	same_as_two_steps corpus.txt --sep "$sep" --bpe-kind words --ids
	tl-tokenize --bpe 320 --sep "$sep" corpus.txt |
		tl-tokenize -d --sep "$sep" | cmp - corpus.txt
	# 319 is the EOT, once per paragraph (the text has no "\n\n" at its end)
	docs=$(tl-tokenize --bpe 320 --sep "$sep" --ids corpus.txt | grep -cx 319)
	[ "$docs" -eq $(( $(grep -c '^$' corpus.txt) + 1 )) ]
}

@test "bpe: --bpe refusals: one line, status 2, no output file" {
	run -2 tl-tokenize --bpe 320 --train-bpe 320 -o x.tok corpus.txt
	[ "$output" = "tl-tokenize: --bpe takes none of --train-bpe, -d, -v" ]
	run -2 tl-tokenize --bpe 320 -d -o x.tok corpus.tok
	[ "$output" = "tl-tokenize: --bpe takes none of --train-bpe, -d, -v" ]
	run -2 tl-tokenize --bpe 320 -v v.bpe -o x.tok corpus.txt
	[ "$output" = "tl-tokenize: --bpe takes none of --train-bpe, -d, -v" ]
	run -2 tl-tokenize --sample 1M -o x.tok corpus.txt
	[ "$output" = "tl-tokenize: --bpe-kind and --sample need --train-bpe or --bpe" ]
	run -2 tl-tokenize --bpe-kind words -o x.tok corpus.txt
	[ "$output" = "tl-tokenize: --bpe-kind and --sample need --train-bpe or --bpe" ]
	run -2 tl-tokenize --bpe 256 --sep x -o x.tok corpus.txt
	[ "$output" = "tl-tokenize: --bpe with documents needs n >= 257 (one id is the end-of-text token)" ]
	run -2 tl-tokenize --bpe 255 -o x.tok corpus.txt
	one_line "$output"
	run -2 tl-tokenize --bpe 65537 -o x.tok corpus.txt
	one_line "$output"
	# nothing learned, nothing for dropout to skip
	run -2 tl-tokenize --bpe 300 --bpe-dropout 0.1 -o x.tok < /dev/null
	[ "${lines[1]}" = "tl-tokenize: --bpe-dropout: the vocabulary learned from stdin has no BPE merges to skip" ]
	# the copy of a pipe cannot be written (a file size limit)
	run -1 bash -c 'trap "" XFSZ; ulimit -f 16
		cat corpus.txt | tl-tokenize --bpe 300 -o x.tok'
	[ "$output" = "tl-tokenize: stdin: writing a temporary copy: File too large" ]
	[ ! -e x.tok ]
	[ -z "$(ls -A | grep -v -e '^corpus\.t[xo][tk]$' -e '^v\.bpe$')" ]
}
