#!/bin/sh
# tok-speed.sh: tl-tokenize on a large text: encoding speed and peak
# memory with byte tokens and with a BPE vocabulary, and the time and
# peak memory of learning that vocabulary, min/median/max over runs.
#
# usage: scripts/tok-speed.sh [-r runs] [-s GiB] [-l MB] [-n ids]
#                             [-k kind] [-x text] DIR
# DIR receives big.txt (-s GiB of text, default 1: the file -x, default
# data/tinyshakespeare.txt, over and over; kept for later runs) and
# learn.txt (its first -l MB, default 100).  An -n id vocabulary
# (default 4096) of kind -k (default words) is learned from learn.txt,
# then big.txt is encoded with byte tokens and with it, on one thread,
# the output going to /dev/null.  Speeds are tl-tokenize's own (--stats:
# bytes of text per second of its run); peak memory is /usr/bin/time's.
set -eu
. "$(dirname "$0")/common.sh"
runs=3 gib=1 mb=100 nid=4096 kind=words text=$top/data/tinyshakespeare.txt
opts "$0 [-r runs] [-s GiB] [-l MB] [-n ids] [-k kind] [-x text] DIR" 1 \
    r=runs s=gib l=mb n=nid k=kind x=text -- "$@"
shift $((OPTIND - 1))
dir=$1
mkdir -p "$dir"
if [ ! -s "$dir/big.txt" ]; then
	while :; do cat "$text"; done | head -c $((gib << 30)) > "$dir/big.txt"
fi
head -c $((mb * 1000000)) "$dir/big.txt" > "$dir/learn.txt"
# summary NAME UNIT: min/median/max of the first column of $dir/v
# (in UNIT) and of the second (peak KiB, shown in MiB)
summary() {
	printf '%s: %s %s; peak RSS %s MiB (%d runs)\n' "$1" \
	    "$(cut -d' ' -f1 "$dir/v" | mmm)" "$2" \
	    "$(cut -d' ' -f2 "$dir/v" | mmm 1024)" "$runs"
}
: > "$dir/v"
i=0
while [ $i -lt "$runs" ]; do
	rm -f "$dir/v.tlv"
	/usr/bin/time -f '%e %M' -o "$dir/time" "$bin/tl-tokenize" \
	    --train-bpe "$nid" --bpe-kind "$kind" -o "$dir/v.tlv" "$dir/learn.txt"
	awk '{ print $1, $2 }' "$dir/time" >> "$dir/v"
	i=$((i + 1))
done
summary "learning $nid ids ($kind) from $(wc -c < "$dir/learn.txt") bytes" s
for v in bytes bpe; do
	: > "$dir/v"
	vflag=
	[ $v = bpe ] && vflag="-v $dir/v.tlv"
	i=0
	while [ $i -lt "$runs" ]; do
		/usr/bin/time -f '%M' -o "$dir/time" "$bin/tl-tokenize" --stats \
		    $vflag "$dir/big.txt" 2> "$dir/err" > /dev/null
		rate=$(sed -n 's/.*s, \([0-9.]*\) MB\/s$/\1/p' "$dir/err")
		echo "$rate $(cat "$dir/time")" >> "$dir/v"
		i=$((i + 1))
	done
	summary "encoding $(wc -c < "$dir/big.txt") bytes, $v tokens" MB/s
done
rm -f "$dir/time" "$dir/err" "$dir/v"
