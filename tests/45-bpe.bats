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

@test "bpe: --bpe-dropout: longer streams of the same text, the same for a seed from a file or a pipe, words BPE too; refused without merges" {
	tl-tokenize -v v.bpe --bpe-dropout 0.2 --seed 3 corpus.txt > a.tok
	cat corpus.txt | tl-tokenize -v v.bpe --bpe-dropout 0.2 --seed 3 > b.tok
	tl-tokenize -v v.bpe --bpe-dropout 0.2 --seed 4 corpus.txt > c.tok
	tl-tokenize -v v.bpe --bpe-dropout 0 corpus.txt | cmp - corpus.tok
	cmp a.tok b.tok
	! cmp -s a.tok c.tok
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
	! tl-tokenize -v w.bpe corpus.txt | cmp -s - w1.tok
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
