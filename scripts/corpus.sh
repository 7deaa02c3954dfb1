#!/bin/sh
# corpus.sh: a larger English corpus for experiments (about 55 MB of
# UTF-8 text), built from Debian packages of main that ship text,
# fetched with apt-get download (no root needed, nothing installed;
# run apt-get update first if the package lists are missing):
#
#   bible-kjv-text  the King James Bible (read with bible-kjv's bible)
#   dict-gcide      the Collaborative International Dictionary of English
#   dict-foldoc     the Free On-line Dictionary of Computing
#   dict-jargon     the Jargon File
#   dict-devil      Ambrose Bierce's The Devil's Dictionary
#   fortunes        fortune cookies: quotations, jokes, verse
#
# usage: scripts/corpus.sh [-d dir]
#
# Writes, in dir (default exp/corpus in the tree):
#   corpus.txt      every document, each followed by a blank line
#   corpus.jsonl    the same documents in the same order, one JSON
#                   object {"text": ...} a line
#   corpus-val.txt  the held-out part: the last 10% of corpus.txt's
#                   bytes (tl-train's default --val-frac holds out the
#                   last 10% of the tokens of the whole file)
#   SOURCES         the packages and versions used, and the SHA-256
#                   of the three files
# and keeps the packages in dir/debs (delete it to fetch again).
#
# A document is a dictionary entry (its markup removed: pronunciations,
# braces of cross-references, source tags, dates), a chapter of the
# Bible, or a fortune.  Documents are ordered by a fixed permutation of
# their index (Fibonacci hashing), so that the held-out tail mixes all
# sources; the same package versions give the same bytes.
set -eu
. "$(dirname "$0")/common.sh"
export LC_ALL=C
dir=$top/exp/corpus
opts "$0 [-d dir]" 0 d=dir -- "$@"
shift $((OPTIND - 1))
pkgs="bible-kjv bible-kjv-text dict-gcide dict-foldoc dict-jargon
dict-devil fortunes"
t0=$(date +%s)
mkdir -p "$dir/debs"
cd "$dir"

# ---- the packages, unpacked in debs/x/PACKAGE ----
for p in $pkgs; do
	set -- debs/${p}_*.deb
	if [ ! -s "$1" ]; then
		(cd debs && apt-get download "$p" >/dev/null 2>&1) || {
			echo "$0: apt-get download $p failed (run" \
			    "apt-get update first?)" >&2
			exit 1
		}
		set -- debs/${p}_*.deb
	fi
	rm -rf "debs/x/$p"
	mkdir -p "debs/x/$p"
	dpkg-deb -x "$1" "debs/x/$p"
done

# ---- each source: one document a line, its newlines as \002 ----

# esc: awk functions. clean(s) removes control characters but newline
# and tab, trailing blanks of lines and blank lines at either end, and
# squeezes runs of blank lines; emit(s) prints it on one line.
esc='
function clean(s) {
	gsub(/[\001-\010\013-\037\177]/, "", s)
	gsub(/[ \t]+\n/, "\n", s)
	sub(/[ \t]+$/, "", s)
	gsub(/\n\n\n+/, "\n\n", s)
	sub(/^\n+/, "", s)
	sub(/\n+$/, "", s)
	return s
}
function emit(s) {
	s = clean(s)
	if (s != "") {
		gsub(/\n/, "\002", s)
		print s
	}
}'

# The Bible, a chapter a document: bible -f prints "Ge1:1 text" lines.
bible_docs() {
	debs/x/bible-kjv/usr/bin/bible -f \
	    -p "$PWD/debs/x/bible-kjv-text/usr/lib" gen1:1-rev22:21 |
	awk "$esc"'
	{
		ch = $1
		sub(/:.*/, "", ch)
		if (ch != last && doc != "") {
			emit(doc)
			doc = ""
		}
		last = ch
		sub(/^[^ ]* /, "")
		doc = doc $0 "\n"
	}
	END { emit(doc) }'
}

# A dictd dictionary, an entry a document: the index (headword, base64
# offset, base64 length) gives where entries start; the database's own
# entries (00-database-...) are left out.  gcide=1 strips GCIDE's
# markup, foldoc=1 FOLDOC's date lines.
dict_docs() {
	d=debs/x/dict-$1/usr/share/dictd
	{ cat "$d/$1.index"; echo "%%"; gzip -dc "$d/$1.dict.dz"; } |
	awk -v gcide="$2" -v foldoc="$3" "$esc"'
	function b64(s,    i, v) {
		v = 0
		for (i = 1; i <= length(s); i++)
			v = v * 64 + index(B, substr(s, i, 1)) - 1
		return v
	}
	BEGIN {
		B = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		B = B "0123456789+/"
	}
	!indict && $0 == "%%" { indict = 1; pos = 0; next }
	!indict {
		split($0, f, "\t")
		o = b64(f[2])
		start[o] = 1
		if (f[1] ~ /^00-?database/)
			meta[o] = 1
		next
	}
	{
		if (pos in start) {
			emit(doc)
			doc = ""
			skip = pos in meta
		}
		pos += length($0) + 1
		if (skip)
			next
		if (gcide) {
			# sources, pronunciations \Co*ag"u*late\ and
			# (k[o^]*ag"[-u]*l[=a]t)
			was = $0 ~ /[^ \t]/
			gsub(/ ?\[(1913 Webster|Webster 1913|WordNet|PJC)[^]]*\]/,
			    "")
			gsub(/ ?\\[^\\]*\\/, "")
			gsub(/ ?\([^()]*\[[^] ][^] ]?[^] ]?[^] ]?\][^()]*\)/, "")
			gsub(/ +,/, ",")
			if (was && $0 !~ /[^ \t]/)
				next
		}
		if (foldoc && $0 ~ /^[ \t]*\([0-9-]+\)[ \t]*$/)
			next
		gsub(/[{}]/, "")
		sub(/^[ \t]+/, "")
		doc = doc $0 "\n"
	}
	END { emit(doc) }'
}

# The fortune files (not the pictures, nor the untranslated ones), in
# name order; a line "%" ends a fortune; backspace overstrikes go.
fortune_docs() {
	for f in debs/x/fortunes/usr/share/games/fortunes/*; do
		case ${f##*/} in
		*.*|art|ascii-art|translate-me) ;;
		*) cat "$f"; echo "%" ;;
		esac
	done | awk "$esc"'
	{ gsub(/.\010/, "") }
	$0 == "%" { emit(doc); doc = ""; next }
	{ doc = doc $0 "\n" }
	END { emit(doc) }'
}

# ---- mixed, then written as text and as JSON Lines ----
{
	bible_docs
	dict_docs gcide 1 0
	dict_docs foldoc 0 1
	dict_docs jargon 0 0
	dict_docs devil 0 0
	fortune_docs
} | iconv -c -f UTF-8 -t UTF-8 |
awk '{ printf "%010.0f %s\n", (NR * 2654435761) % 4294967296, $0 }' |
sort -k1,1 | cut -c12- |
awk '
# s with every a (one character, taken literally) replaced by b
function rep(s, a, b,    n, p, i, r) {
	n = split(s, p, a)
	r = p[1]
	for (i = 2; i <= n; i++)
		r = r b p[i]
	return r
}
BEGIN { bs = sprintf("%c", 92) }
{
	printf "%s\n\n", rep($0, "\002", "\n") > "corpus.txt.tmp"
	# JSON: the rest is valid UTF-8 with no other control character
	s = rep($0, bs, bs bs)
	s = rep(s, "\"", bs "\"")
	s = rep(s, "\t", bs "t")
	s = rep(s, "\002", bs "n")
	print "{\"text\":\"" s "\"}" > "corpus.jsonl.tmp"
	n++
}
END { print n " documents" }'
mv corpus.jsonl.tmp corpus.jsonl
mv corpus.txt.tmp corpus.txt
size=$(wc -c < corpus.txt)
val=$((size / 10))
tail -c "$val" corpus.txt > corpus-val.txt

{
	for p in $pkgs; do
		set -- debs/${p}_*.deb
		echo "$p $(dpkg-deb -f "$1" Version)"
	done
	sha256sum corpus.txt corpus.jsonl corpus-val.txt
} > SOURCES
cat SOURCES
echo "corpus.txt: $size bytes; held out: its last $val bytes" \
    "(corpus-val.txt); $(($(date +%s) - t0)) s"
