#!/bin/sh
# mem-run.sh: peak memory of tl-train under a memory budget on a small
# and a large token file: the issue of corpora of any size asks that a
# run of the reference configuration (4 blocks, width 256, FFN 1024,
# context 128, batch 8) with --mem 64M stays under 64 MiB on a 2 GiB
# token file, and within 1 MiB of the same run on a 2 MiB file.
#
# usage: scripts/mem-run.sh [-r runs] [-s steps] [-g GiB] [-m budget] DIR
# DIR receives small.tok (2 MiB) and big.tok (-g GiB, default 2; made
# once from data/tinyshakespeare.txt repeated, and kept for later runs:
# about 2 GiB of disk).  Each run trains a new model for -s steps
# (default 20) with validation every 10 steps, then prints the peak
# resident memory that /usr/bin/time reports, min/median/max over -r
# runs (default 3).
set -eu
. "$(dirname "$0")/common.sh"
runs=3 steps=20 gib=2 budget=64M
opts "$0 [-r runs] [-s steps] [-g GiB] [-m budget] DIR" 1 r=runs s=steps \
    g=gib m=budget -- "$@"
shift $((OPTIND - 1))
dir=$1
mkdir -p "$dir"
# text of n bytes: the corpus over and over
text() {
	while :; do cat "$top/data/tinyshakespeare.txt"; done | head -c "$1"
}
[ -s "$dir/small.tok" ] || text $((1 << 20)) | "$bin/tl-tokenize" -o "$dir/small.tok"
[ -s "$dir/big.tok" ] || text $((gib << 29)) | "$bin/tl-tokenize" -o "$dir/big.tok"
ref="--layers 4 --dim 256 --heads 4 --ffn 1024 --ctx 128 --batch 8"
for f in small big; do
	: > "$dir/rss"
	i=0
	while [ $i -lt "$runs" ]; do
		rm -f "$dir/m.tl"
		/usr/bin/time -f %M -o "$dir/time" "$bin/tl-train" -m "$dir/m.tl" \
		    --mem "$budget" $ref --steps "$steps" --eval-every 10 \
		    --save-every 0 "$dir/$f.tok" 2> "$dir/err"
		cat "$dir/time" >> "$dir/rss"
		i=$((i + 1))
	done
	printf 'tl-train --mem %s, reference shape, %s steps, %s.tok (%s bytes): peak RSS %s MiB (%s runs)\n' \
	    "$budget" "$steps" "$f" "$(wc -c < "$dir/$f.tok")" \
	    "$(mmm 1024 < "$dir/rss")" "$runs"
	grep -m1 -i 'mem' "$dir/err" || true
done
rm -f "$dir/m.tl" "$dir/time" "$dir/rss" "$dir/err"
