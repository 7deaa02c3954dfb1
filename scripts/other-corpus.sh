#!/bin/sh
# other-corpus.sh: the README's first command on another English text
# of tinyshakespeare's size, to show that the defaults are not tuned to
# one text: the fortune cookies of Debian's fortunes package (quotations,
# jokes, definitions and verse in modern English), fetched with
# apt-get download (no root needed, nothing installed).
#
# usage: scripts/other-corpus.sh [-d dir] [seconds]
#
# The corpus is dir/fortunes.txt: the package's fortune files in name
# order (backspace overstrikes removed), cut to tinyshakespeare's
# 1,115,394 bytes.  tl-train holds out its last 10% by itself; tl-eval
# scores the last 111,540 bytes.  Prints the loss beside two yardsticks
# for the same bytes, each in nats per character: a model that knows
# only the bytes' frequencies (order-0 entropy) and the one at the
# start of training (ln 256 = 5.545), then a sample of generated text.
# seconds defaults to 600; dir to exp/ in the tree.
set -eu
. "$(dirname "$0")/common.sh"
dir=$top/exp
opts "$0 [-d dir] [seconds]" - d=dir -- "$@"
shift $((OPTIND - 1))
secs=${1:-600}
mkdir -p "$dir"
cd "$dir"
if [ ! -s fortunes.txt ]; then
	src=/usr/share/games/fortunes
	if [ ! -s "$src/people" ]; then
		rm -rf fortunes-deb && mkdir fortunes-deb
		(cd fortunes-deb && apt-get download fortunes >/dev/null &&
		    dpkg-deb -x fortunes_*.deb x)
		src=fortunes-deb/x/usr/share/games/fortunes
	fi
	# the fortune files: those without a suffix (not .dat, .u8),
	# without the pictures and the untranslated ones
	for f in "$src"/*; do
		case $(basename "$f") in
		*.*|ascii-art|art|translate-me) ;;
		*) cat "$f" ;;
		esac
	done | sed 's/.\x08//g; s/\x08//g' | head -c 1115394 > fortunes.tmp
	mv fortunes.tmp fortunes.txt
fi
tail -c 111540 fortunes.txt > fortunes-val.txt
rm -f fortunes.tl
"$bin/tl-tokenize" < fortunes.txt | "$bin/tl-train" -m fortunes.tl \
    --time "$secs" 2> fortunes.err
cat fortunes.err
"$bin/tl-tokenize" < fortunes-val.txt | "$bin/tl-eval" -m fortunes.tl
od -An -v -tu1 fortunes-val.txt | awk '
	{ for (i = 1; i <= NF; i++) { c[$i]++; n++ } }
	END { for (b in c) h -= c[b] / n * log(c[b] / n)
	      printf "order-0 entropy of the same bytes: %.4f nats/char; " \
	          "untrained: %.4f\n", h, log(256) }'
echo "--- tl-gen -m fortunes.tl -p \"A \" -n 400 -s 1 --slide"
"$bin/tl-gen" -m fortunes.tl -p "A " -n 400 -s 1 --slide
echo
