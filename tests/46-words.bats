#!/usr/bin/env bats
# Words BPE and learning from large inputs: tl-tokenize --bpe-kind and
# --sample, the learners against their references (test_words), words
# vocabularies encoding and decoding, and damaged ones refused.

bats_require_minimum_version 1.5.0

load helper

setup() {
	cd "$BATS_TEST_TMPDIR"
	head -c 100000 "$TOP/data/tinyshakespeare.txt" >corpus.txt
}

# put32 FILE OFFSET N: overwrite 4 bytes of FILE, little-endian.
put32() {
	printf "$(printf '\\%03o\\%03o\\%03o\\%03o' $(($3 & 255)) \
		$(($3 >> 8 & 255)) $(($3 >> 16 & 255)) $(($3 >> 24 & 255)))" |
		dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}
# recrc FILE: make the last 4 bytes of FILE the CRC-32 of the rest
# (gzip's trailer holds it).
recrc() {
	head -c -4 "$1" >"$1.body"
	{ cat "$1.body"; gzip -c <"$1.body" | tail -c 8 | head -c 4; } >"$1"
	rm -f "$1.body"
}
# kind FILE: the kind field of a vocabulary file's tokenizer.
kind() {
	od -An -tu4 -j12 -N4 "$1" | tr -d ' '
}

@test "unit: words split, both learners against references, documents, encoding" {
	run "$UNIT/test_words" "$TOP/data/tinyshakespeare.txt"
	echo "$output"
	[ "$status" -eq 0 ]
}

@test "words: learn, encode, decode; the file says words" {
	tl-tokenize --train-bpe 800 --bpe-kind words -o w.tlv corpus.txt
	[ "$(kind w.tlv)" = 2 ]
	tl-tokenize -v w.tlv corpus.txt >c.tok
	tl-tokenize -d c.tok | cmp - corpus.txt
	# fewer ids than bytes, and no token spans a word: " the" is one
	# id, "e t" none
	[ "$(tl-tokenize -v w.tlv --ids corpus.txt | wc -l)" -lt 50000 ]
	printf ' the' | tl-tokenize -v w.tlv --ids >ids
	[ "$(wc -l <ids)" -eq 1 ]
	# a pipe in odd blocks gives the same stream
	cat corpus.txt | tl-tokenize -v w.tlv | cmp - c.tok
	# learning is deterministic and does not depend on how it is read
	cat corpus.txt | tl-tokenize --train-bpe 800 --bpe-kind words -o w2.tlv
	cmp w.tlv w2.tlv
	# any bytes come back
	head -c 20000 /dev/urandom >r.bin
	printf '\0\0\377\300 abc\0' >>r.bin
	tl-tokenize -v w.tlv r.bin | tl-tokenize -d | cmp - r.bin
}

@test "words: the exact rule stays the default" {
	tl-tokenize --train-bpe 400 -o a.tlv corpus.txt
	tl-tokenize --train-bpe 400 --bpe-kind exact -o b.tlv corpus.txt
	cmp a.tlv b.tlv
	[ "$(kind a.tlv)" = 1 ]
	tl-tokenize --train-bpe 400 --bpe-kind words -o w.tlv corpus.txt
	! cmp -s a.tlv w.tlv || false
}

@test "sample: the first bytes of a pipe, pieces spread over a file" {
	local k
	for k in exact words; do
		head -c 30000 corpus.txt |
			tl-tokenize --train-bpe 400 --bpe-kind $k -o h.tlv
		cat corpus.txt | tl-tokenize --train-bpe 400 --bpe-kind $k \
			--sample 30000 -o p.tlv
		cmp h.tlv p.tlv
		# a file no longer than the sample is read whole
		tl-tokenize --train-bpe 400 --bpe-kind $k -o a.tlv corpus.txt
		tl-tokenize --train-bpe 400 --bpe-kind $k --sample 1M \
			-o s.tlv corpus.txt
		cmp a.tlv s.tlv
	done
	# from a longer file: about size bytes, not the first ones
	for i in 1 2 3 4 5 6 7 8 9 10 11 12; do cat corpus.txt; done >big.txt
	head -c 300000 /dev/urandom | od -An -tx1 >>big.txt
	run tl-tokenize --stats --train-bpe 400 --bpe-kind words \
		--sample 2M -o s.tlv big.txt
	[ "$status" -eq 0 ]
	[[ "$output" == *"from 2097152 bytes"* ]]
	head -c 2097152 big.txt |
		tl-tokenize --train-bpe 400 --bpe-kind words -o h.tlv
	! cmp -s s.tlv h.tlv || false
}

@test "words: bad flags, and damaged words vocabularies refused" {
	run -2 tl-tokenize --train-bpe 300 --bpe-kind fast -o x.tlv corpus.txt
	one_line "$output"
	run -2 tl-tokenize --train-bpe 300 --sample 12Q -o x.tlv corpus.txt
	one_line "$output"
	run -2 tl-tokenize --train-bpe 300 --sample 0 -o x.tlv corpus.txt
	run -2 tl-tokenize --sample 1M corpus.txt
	[[ "$output" == *"need --train-bpe"* ]]
	run -2 tl-tokenize --bpe-kind words corpus.txt
	[ ! -e x.tlv ]

	tl-tokenize --train-bpe 300 --bpe-kind words -o w.tlv corpus.txt
	# merge 0 names a later id
	cp w.tlv bad.tlv
	put32 bad.tlv 20 299
	recrc bad.tlv
	run -2 tl-tokenize -v bad.tlv corpus.txt
	echo "$output"
	one_line "$output"
	[[ "$output" == *"not an earlier id"* ]]
	# merge 1 repeats merge 0
	cp w.tlv bad.tlv
	put32 bad.tlv 28 "$(od -An -tu4 -j20 -N4 w.tlv | tr -d ' ')"
	put32 bad.tlv 32 "$(od -An -tu4 -j24 -N4 w.tlv | tr -d ' ')"
	recrc bad.tlv
	run -2 tl-tokenize -v bad.tlv corpus.txt
	[[ "$output" == *"repeats merge 0"* ]]
	# an unknown kind
	cp w.tlv bad.tlv
	put32 bad.tlv 12 3
	recrc bad.tlv
	run -2 tl-tokenize -v bad.tlv corpus.txt
	[[ "$output" == *"kind"* ]]
}

@test "words: the words vocabulary of tests/data is learned again byte for byte" {
	# v1-words.tlv: tl-tokenize --train-bpe 320 --bpe-kind words
	# tests/data/v1.txt; the rule (split, counts, ties) must not drift
	tl-tokenize --train-bpe 320 --bpe-kind words -o w.tlv "$DATA/v1.txt"
	cmp w.tlv "$DATA/v1-words.tlv"
	tl-tokenize -v "$DATA/v1-words.tlv" "$DATA/v1.txt" | tl-tokenize -d |
		cmp - "$DATA/v1.txt"
}
