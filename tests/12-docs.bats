#!/usr/bin/env bats
# Documents: the end-of-text token (EOT) in tokenizers, tl-tokenize
# --jsonl, --csv and --sep (each document followed by the EOT) and -d
# back to those formats, BPE learned from documents, and tl-gen
# stopping at the end of a document; the C unit test of the readers.

load helper

setup() {
	cd "$BATS_TEST_TMPDIR"
}

# The documents of tests/data/docs.jsonl and docs.csv, each followed by
# a line "--".
jsonl_docs() {
	printf 'Line one\nline two\n--\n'
	printf 'quotes "inside" and a backslash \\ here\n--\n'
	printf 'caf\303\251 and \360\237\230\200, tab\there\n--\n'
	printf 'CRLF line\n--\n'
	printf 'raw caf\303\251 \360\237\230\200 / / slash\n--\n'
	printf '\n--\n'
}

csv_docs() {
	printf 'Line one\nline two\n--\n'
	printf 'quotes "inside", and a comma\n--\n'
	printf 'plain caf\303\251 \360\237\230\200\n--\n'
	printf 'two\r\nlines with CRLF\n--\n'
	printf '\n--\n'
}

@test "docs: the readers and writers (C unit test)" {
	run "$UNIT/test_docs"
	echo "$output" | tail -5
	[ "$status" -eq 0 ]
	[[ "$output" == *"0 failed"* ]]
}

@test "docs: JSON Lines round-trip to the same documents and stream" {
	tl-tokenize --jsonl text -o a.tok "$DATA/docs.jsonl"
	tl-tokenize -d --sep $'\n--\n' a.tok > got
	jsonl_docs > want
	# the separator goes between documents, and after an empty last one
	diff -u want got
	tl-tokenize -d --jsonl text a.tok > b.jsonl
	[ "$(wc -l < b.jsonl)" -eq 6 ]
	head -1 b.jsonl | grep -qx '{"text":"Line one\\nline two"}'
	tl-tokenize --jsonl text -o b.tok b.jsonl
	cmp a.tok b.tok
	# the EOT is id 256 of bytes+EOT, after each document
	[ "$(tl-tokenize --jsonl text --ids "$DATA/docs.jsonl" | grep -cx 256)" -eq 6 ]
	[ "$(tl-tokenize --jsonl text --ids "$DATA/docs.jsonl" | tail -1)" = 256 ]
}

@test "docs: CSV round-trips to the same documents and stream" {
	tl-tokenize --csv text -o a.tok "$DATA/docs.csv"
	tl-tokenize -d --sep $'\n--\n' a.tok > got
	csv_docs > want
	diff -u want got
	tl-tokenize --csv 2 "$DATA/docs.csv" | cmp - a.tok
	tl-tokenize -d --csv text a.tok > b.csv
	[ "$(head -1 b.csv)" = '"text"' ]
	tl-tokenize --csv text -o b.tok b.csv
	cmp a.tok b.tok
	# and across formats
	tl-tokenize -d --jsonl body a.tok | tl-tokenize --jsonl body | cmp - a.tok
}

@test "docs: --sep splits text, and -d --sep gives it back" {
	printf 'one\n\ntwo\n\nthree\n' > t.txt
	tl-tokenize --sep $'\n\n' -o t.tok t.txt
	[ "$(tl-tokenize --sep $'\n\n' --ids t.txt | grep -cx 256)" -eq 3 ]
	tl-tokenize -d --sep $'\n\n' t.tok | cmp - t.txt
	# a separator that overlaps itself, ending the text, empty documents
	printf 'abaXabaabaYaba' > o.txt
	tl-tokenize --sep aba o.txt > o.tok
	[ "$(tl-tokenize --sep aba --ids o.txt | grep -cx 256)" -eq 4 ]
	tl-tokenize -d --sep '|' o.tok > got
	[ "$(cat got)" = "|X||Y" ]
	tl-tokenize -d --sep aba o.tok | tl-tokenize --sep aba | cmp - o.tok
	# plain -d writes the EOT as nothing
	[ "$(tl-tokenize -d o.tok)" = XY ]
}

@test "docs: without a document flag nothing changes (no EOT)" {
	tl-tokenize -o p.tok "$DATA/hello.txt"
	cmp <(head -c 24 p.tok) <(head -c 24 "$DATA/v1-bytes.tok")
	tl-tokenize --sep zzz "$DATA/hello.txt" > s.tok
	! cmp -s p.tok s.tok || false
	tl-tokenize -d s.tok | cmp - "$DATA/hello.txt"
}

# err FILE FLAGS... : tokenizing FILE fails with status 2, one line,
# and leaves no -o file
err() {
	local f=$1
	shift
	run tl-tokenize "$@" -o out.tok "$f"
	echo "$output"
	[ "$status" -eq 2 ]
	one_line "$output"
	[ ! -e out.tok ]
	# nor a temporary file
	[ -z "$(ls -A | grep -v '^x\.')" ]
}

@test "docs: bad JSON Lines: one line naming file and line, status 2, no output" {
	printf '{"text":"a"}\n{"text":"b"}\n{"text":"c" "d"}\n' > x.jsonl
	err x.jsonl --jsonl text
	[ "$output" = "tl-tokenize: x.jsonl:3: expected ',' or '}'" ]
	printf '{"text":"a"}\n{"title":"b","n":[1,{}]}\n' > x.jsonl
	err x.jsonl --jsonl text
	[ "$output" = 'tl-tokenize: x.jsonl:2: no string member "text"' ]
	printf '{"text":3}\n' > x.jsonl
	err x.jsonl --jsonl text
	[ "$output" = 'tl-tokenize: x.jsonl:1: member "text" is not a string' ]
	printf '\n{"text":"\\ud83d x"}\n' > x.jsonl
	err x.jsonl --jsonl text
	[ "$output" = 'tl-tokenize: x.jsonl:2: lone high surrogate in \u escape' ]
	printf '{"text":"a\\ude00"}\n' > x.jsonl
	err x.jsonl --jsonl text
	[ "$output" = 'tl-tokenize: x.jsonl:1: lone low surrogate in \u escape' ]
	printf '{"text":"ok"}\n{"text":"caf\351"}\n' > x.jsonl
	err x.jsonl --jsonl text
	[ "$output" = "tl-tokenize: x.jsonl:2: invalid UTF-8" ]
	printf '{"text":"\xed\xa0\x80"}\n' > x.jsonl	# a surrogate in UTF-8
	err x.jsonl --jsonl text
	[ "$output" = "tl-tokenize: x.jsonl:1: invalid UTF-8" ]
	printf '{"text":"a\nb"}\n' > x.jsonl
	err x.jsonl --jsonl text
	[ "$output" = "tl-tokenize: x.jsonl:1: string not closed" ]
	printf '{"text":"a"} {"text":"b"}\n' > x.jsonl
	err x.jsonl --jsonl text
	[[ "$output" == "tl-tokenize: x.jsonl:1: more after the object"* ]]
	printf '{"n":[1,2,]}\n' > x.jsonl
	err x.jsonl --jsonl text
	[ "$output" = "tl-tokenize: x.jsonl:1: expected a value" ]
	printf '{"n":[1 2]}\n' > x.jsonl
	err x.jsonl --jsonl text
	[ "$output" = "tl-tokenize: x.jsonl:1: expected ',' or ']'" ]
	printf '{"text":"a","text":"b"}\n' > x.jsonl
	err x.jsonl --jsonl text
	[ "$output" = 'tl-tokenize: x.jsonl:1: member "text" appears twice' ]
	printf '{"text":"\\x"}\n' > x.jsonl
	err x.jsonl --jsonl text
	[ "$output" = 'tl-tokenize: x.jsonl:1: bad escape in a string' ]
	awk 'BEGIN { s = ""; for (i = 0; i < 600; i++) s = s "["; print "{\"a\":" s }' > x.jsonl
	err x.jsonl --jsonl text
	[ "$output" = 'tl-tokenize: x.jsonl:1: values nested too deep' ]
}

@test "docs: bad CSV: one line naming file and line, status 2, no output" {
	printf 'a,b\n1,x\n2,"open\nmore\n\n' > x.csv
	err x.csv --csv b
	[ "$output" = "tl-tokenize: x.csv:5: quote opened on line 3 is not closed" ]
	printf 'a,b,c,d\n1,2,3,4\n1,2\n' > x.csv
	err x.csv --csv 4
	[ "$output" = "tl-tokenize: x.csv:3: no column 4 (the row has 2 fields)" ]
	printf 'a,b\n1,2\n' > x.csv
	err x.csv --csv text
	[ "$output" = 'tl-tokenize: x.csv:1: no column "text" in the header (2 fields)' ]
	printf 'a,b\n1,"x"y\n' > x.csv
	err x.csv --csv b
	[ "$output" = "tl-tokenize: x.csv:2: text after a closing quote" ]
	printf 'a,b\n1,x"y\n' > x.csv
	err x.csv --csv b
	[ "$output" = "tl-tokenize: x.csv:2: quote inside an unquoted field" ]
	printf 'a,b\n1,\377\n' > x.csv
	err x.csv --csv b
	[ "$output" = "tl-tokenize: x.csv:2: invalid UTF-8" ]
}

@test "docs: usage: one document format at a time, not with -d --ids" {
	run tl-tokenize --jsonl text --csv 1 "$DATA/docs.csv"
	[ "$status" -eq 2 ]
	one_line "$output"
	tl-tokenize --jsonl text -o a.tok "$DATA/docs.jsonl"
	run tl-tokenize -d --ids --jsonl text a.tok
	[ "$status" -eq 2 ]
	run tl-tokenize --sep '' "$DATA/hello.txt"
	[ "$status" -eq 2 ]
	run tl-tokenize --train-bpe 256 --jsonl text -o v.tlv "$DATA/docs.jsonl"
	[ "$status" -eq 2 ]
	[ ! -e v.tlv ]
}

@test "docs: -d --jsonl and --csv refuse a document that is not UTF-8" {
	printf 'ok|\377bad' | tl-tokenize --sep '|' > a.tok
	run tl-tokenize -d --jsonl text -o out a.tok
	[ "$status" -eq 2 ]
	[ "$output" = "tl-tokenize: a.tok: document 2 is not UTF-8 text" ]
	[ ! -e out ]
	run tl-tokenize -d --csv text a.tok
	[ "$status" -eq 2 ]
	tl-tokenize -d --sep , a.tok | od -c | grep -q 'o   k   , 377   b   a   d'
	# control characters are escaped
	printf 'a\001b\n' | tl-tokenize --sep , | tl-tokenize -d --jsonl t > j
	grep -qx '{"t":"a\\u0001b\\n"}' j
}

@test "docs: a vocabulary without an EOT gets one; old files still read" {
	tl-tokenize -v "$DATA/v1-bpe.tok" --jsonl text -o a.tok "$DATA/docs.jsonl"
	tl-tokenize -d --jsonl text a.tok | tl-tokenize -v a.tok --jsonl text | cmp - a.tok
	tl-tokenize -d --sep $'\n--\n' a.tok > got
	jsonl_docs | diff -u - got
	# the v1 vocabulary itself is unchanged and still reads
	tl-tokenize -v "$DATA/v1-bpe.tok" < "$DATA/v1.txt" | cmp - "$DATA/v1-bpe.tok"
	tl-tokenize -d "$DATA/v1-bytes.tok" | cmp - "$DATA/v1.txt"
	# a stream with an EOT in its tokenizer is not the v1 vocabulary's
	run tl-tokenize -d -v "$DATA/v1-bpe.tok" a.tok
	[ "$status" -eq 2 ]
}

# names: many short documents, one name per line of JSON Lines
names() {
	local n
	for n in $(seq 1 40); do
		printf '{"text":"anna"}\n{"text":"bob"}\n{"text":"carl"}\n'
	done
}

@test "docs: BPE from documents: no merge across a document end" {
	for i in $(seq 1 100); do printf '{"text":"ab"}\n'; done > ab.jsonl
	tl-tokenize --train-bpe 300 --jsonl text -o v.tlv ab.jsonl 2> err
	# one merge (a, b), then the EOT: 258 ids
	[ "$(tl-tokenize -v v.tlv --jsonl text --ids ab.jsonl | sort -u | tr '\n' ' ')" = "256 257 " ]
	[ "$(printf 'abab' | tl-tokenize -v v.tlv --ids | tr '\n' ' ')" = "256 256 " ]
	[ "$(printf 'ba' | tl-tokenize -v v.tlv --ids | wc -l)" -eq 2 ]
	# the same text as one document does merge across
	for i in $(seq 1 100); do printf 'ab'; done > ab.txt
	tl-tokenize --train-bpe 300 -o w.tlv ab.txt 2> /dev/null
	[ "$(printf 'abab' | tl-tokenize -v w.tlv --ids | wc -l)" -eq 1 ]
	# names: no token holds the end of one name and the start of another
	names > n.jsonl
	tl-tokenize --train-bpe 280 --jsonl text -o n.tlv n.jsonl 2> /dev/null
	tl-tokenize -v n.tlv --jsonl text -o n.tok n.jsonl
	tl-tokenize -d --sep '|' n.tok | tr '|' '\n' | sort -u > got
	printf 'anna\nbob\ncarl\n' | diff -u - got
	[ "$(tl-tokenize -v n.tlv --jsonl text --ids n.jsonl | sort -un | tail -1)" -lt 280 ]
	[ "$(printf 'annabob' | tl-tokenize -v n.tlv --ids | wc -l)" -eq 2 ]
}

@test "docs: the EOT survives training, checkpoints and packed models" {
	names > n.jsonl
	tl-tokenize --jsonl text -o n.tok n.jsonl
	tl-train -m m.tl --layers 1 --dim 16 --heads 2 --ffn 32 --ctx 16 \
	    --steps 2 n.tok 2> /dev/null
	tl-quantize -m m.tl -o m.tlq
	tl-tokenize -v m.tl --jsonl text n.jsonl | cmp - n.tok
	tl-tokenize -v m.tlq --jsonl text n.jsonl | cmp - n.tok
	tl-tokenize -v m.tlq -d n.tok > /dev/null
}

@test "docs: a model trained on documents stops at the end of a document" {
	names > n.jsonl
	tl-tokenize --jsonl text -o n.tok n.jsonl
	tl-train -m m.tl --layers 1 --dim 32 --heads 2 --ffn 64 --ctx 32 \
	    --quant fp32 --lr 0.01 --steps 150 --val-frac 0.05 n.tok 2> /dev/null
	for s in 1 2 3; do
		tl-gen -m m.tl -n 200 -s $s --stats > out 2> err
		cat out err
		grep -qE '^tl-gen: prompt 1 tokens .* [0-9]+ tokens \(then the end of the text\)' err
		# a whole name, and nothing after it
		grep -qxE 'anna|bob|carl' <(cat out; echo)
	done
	tl-gen -m m.tl -n 200 -s 1 -p bo > out
	[ "$(cat out)" = bob ]
	# --no-stop goes on past the end of the document
	tl-gen -m m.tl -n 200 -s 1 --no-stop --slide --stats > out 2> err
	grep -q ' 200 tokens in ' err
	[ "$(wc -c < out)" -gt 20 ]
}

@test "docs: a document longer than any buffer streams in bounded memory" {
	command -v /usr/bin/time > /dev/null || skip "no /usr/bin/time"
	awk 'BEGIN { printf "{\"n\":1,\"text\":\""; for (i = 0; i < 400000; i++) printf "0123456789\\u00e9\\n\\\"abcdefghij"; print "\"}" }' > big.jsonl
	/usr/bin/time -f %M -o rss tl-tokenize --jsonl text -o big.tok big.jsonl
	echo "peak $(cat rss) KiB"
	unmeasured || [ "$(cat rss)" -lt 8192 ]
	tl-tokenize -d --jsonl text -o big2.jsonl big.tok
	/usr/bin/time -f %M -o rss tl-tokenize -d --csv text -o big.csv big.tok
	unmeasured || [ "$(cat rss)" -lt 8192 ]
	tl-tokenize --csv text big.csv | cmp - big.tok
	tl-tokenize --jsonl text big2.jsonl | cmp - big.tok
}
