#!/bin/sh
# default-runs.sh: the default command on data/tinyshakespeare.txt, as
# issue 17's figures are measured, for several seeds:
#
#   tl-tokenize --bpe 512 < data/tinyshakespeare.txt |
#       tl-train -m DIR/NAME-sN.tl --time SECS --seed N [flags]
#   tail -c 111540 data/tinyshakespeare.txt | tl-tokenize -v DIR/NAME-sN.tl |
#       tl-eval -m DIR/NAME-sN.tl -j
#
# tl-train is given the whole file and holds out the last 10% of the
# text itself; tl-eval scores the last 111,540 bytes.  One run at a
# time, on all cores (tl-train's default), the path as TL_SIMD says.
#
# usage: scripts/default-runs.sh [-d dir] [-s "1 2 3"] name secs [tl-train flags]
#
# Writes DIR/NAME-sN.{tl,log,err,json}, appends to DIR/runs.tsv one line
# per run (name seed path steps nats/char bits/byte flags) and prints
# min/median/max of the seeds' nats per character.  dir defaults to
# exp/ in the tree.
set -eu
. "$(dirname "$0")/common.sh"
dir=$top/exp seeds="1 2 3"
opts "$0 [-d dir] [-s seeds] name secs [flags]" 2- d=dir s=seeds -- "$@"
shift $((OPTIND - 1))
name=$1 secs=$2
shift 2
mkdir -p "$dir"
path=${TL_SIMD:-default}
for s in $seeds; do
	m=$dir/$name-s$s
	rm -f "$m.tl" "$m.log"
	"$bin/tl-tokenize" --bpe 512 < "$top/data/tinyshakespeare.txt" |
	    "$bin/tl-train" -m "$m.tl" --time "$secs" --seed "$s" \
	    --log "$m.log" --log-every 10 "$@" 2> "$m.err"
	tail -c 111540 "$top/data/tinyshakespeare.txt" |
	    "$bin/tl-tokenize" -v "$m.tl" | "$bin/tl-eval" -m "$m.tl" -j > "$m.json"
	steps=$(tail -n 1 "$m.log" | sed 's/.*"step":\([0-9]*\).*/\1/')
	bpb=$(sed 's/.*"bits_per_byte":\([0-9.]*\).*/\1/' "$m.json")
	nc=$(awk -v b="$bpb" 'BEGIN { printf "%.4f", b * log(2) }')
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$s" "$path" "$steps" \
	    "$nc" "$bpb" "$*" | tee -a "$dir/runs.tsv"
	echo "$nc" >> "$dir/$name.nc"
done
sort -n "$dir/$name.nc" | awk '{ v[NR] = $1 }
    END { printf "nats/char min/median/max: %s / %s / %s (%d runs)\n",
        v[1], v[int((NR + 1) / 2)], v[NR], NR }'
