#!/usr/bin/env bats
# lib/util: CRC-32 and the progress meter (in tl-tokenize and tl-eval);
# scripts/corpus.sh on fake packages (it fetches nothing here).

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

# fake_deb NAME DIR: a package NAME 1.0 of the files under DIR, in
# debs/ of the corpus directory (so that scripts/corpus.sh fetches
# nothing).
fake_deb() {
	mkdir -p "$2/DEBIAN" corp/debs
	printf 'Package: %s\nVersion: 1.0\nArchitecture: all\nMaintainer: t <t@t>\nDescription: test\n' \
	    "$1" > "$2/DEBIAN/control"
	dpkg-deb -b "$2" "corp/debs/$1_1.0_all.deb" > /dev/null
}

# fake_dict NAME: a dictd dictionary of three entries: the database's
# own, one with GCIDE's markup, one with a quote, backslash and tab.
fake_dict() {
	local d="p/$1/usr/share/dictd" a b
	mkdir -p "$d"
	printf '00-database-short\n   Not text\n' > "$d/x"
	a=$(wc -c < "$d/x")
	printf 'Coagulate \\Co*ag"u*late\\ (k[o^]*ag"[-u]*l[=a]t), v. t.\n   To curdle; see {Clot}.\n   [1913 Webster]\n\n' >> "$d/x"
	b=$(wc -c < "$d/x")
	printf 'Quote\n   He said "hi" \\ then\tleft.\n' >> "$d/x"
	printf '00-database-short\tA\tB\nCoagulate\t%s\tB\nQuote\t%s\tB\n' \
	    "$(b64 "$a")" "$(b64 "$b")" > "$d/$1.index"
	gzip -9n < "$d/x" > "$d/$1.dict.dz"
	rm "$d/x"
	fake_deb "dict-$1" "p/$1"
}

# b64 N: N (below 4096) in dictd's base64 digits
b64() {
	local B=ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/
	if [ "$1" -ge 64 ]; then
		echo "${B:$(($1 / 64)):1}${B:$(($1 % 64)):1}"
	else
		echo "${B:$1:1}"
	fi
}

@test "corpus.sh: documents from (fake) packages, as text and JSON Lines" {
	command -v dpkg-deb >/dev/null || skip "no dpkg-deb"
	run "$TOP/scripts/corpus.sh" -x
	[ "$status" -eq 2 ]
	[[ "$output" == *"usage: "* ]]
	cd "$BATS_TEST_TMPDIR"
	mkdir -p p/bible/usr/bin p/text/usr/lib p/fortunes/usr/share/games/fortunes
	printf '#!/bin/sh\nprintf "Ge1:1 In the beginning.\\nGe1:2 And so on.\\nGe2:1 Thus.\\n"\n' \
	    > p/bible/usr/bin/bible
	chmod +x p/bible/usr/bin/bible
	fake_deb bible-kjv p/bible
	echo data > p/text/usr/lib/bible.data
	fake_deb bible-kjv-text p/text
	for d in gcide foldoc jargon devil; do
		fake_dict $d
	done
	printf 'One fortune.\n%%\n_\bT_\bw_\bo\n  lines.\n%%\n' \
	    > p/fortunes/usr/share/games/fortunes/wit
	echo skipped > p/fortunes/usr/share/games/fortunes/wit.dat
	fake_deb fortunes p/fortunes

	run "$TOP/scripts/corpus.sh" -d corp
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"12 documents"* ]]
	[[ "$output" == *"dict-gcide 1.0"* ]]
	cd corp
	# 2 chapters, 4 dictionaries of 2 entries, 2 fortunes
	[ "$(wc -l < corpus.jsonl)" -eq 12 ]
	grep -qx '{"text":"In the beginning.\\nAnd so on."}' corpus.jsonl
	grep -qx '{"text":"Quote\\nHe said \\"hi\\" \\\\ then\\tleft."}' \
	    corpus.jsonl
	grep -qx '{"text":"Coagulate, v. t.\\nTo curdle; see Clot."}' \
	    corpus.jsonl
	grep -qx '{"text":"Two\\n  lines."}' corpus.jsonl
	! grep -q "Not text\|skipped" corpus.txt || false
	grep -qx "He said \"hi\" \\\\ then	left." corpus.txt
	# every document and a blank line, the held-out tail its last 10%
	[ "$(grep -c '^$' corpus.txt)" -eq 12 ]
	n=$(wc -c < corpus.txt)
	[ "$(wc -c < corpus-val.txt)" -eq $((n / 10)) ]
	tail -c $((n / 10)) corpus.txt | cmp - corpus-val.txt
	sha256sum -c --quiet < <(grep '  corpus' SOURCES)
	# the same again
	cp corpus.jsonl first.jsonl
	"$TOP/scripts/corpus.sh" -d . > /dev/null
	cmp corpus.jsonl first.jsonl
}
