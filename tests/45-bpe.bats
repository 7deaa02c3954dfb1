#!/usr/bin/env bats
# A model on a learned BPE vocabulary: the vocabulary travels with the
# stream and the checkpoint, training and generation use it, and
# tl-eval counts bits per byte of text, not per token.

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
