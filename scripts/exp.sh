#!/bin/sh
# exp.sh: one training experiment on data/tinyshakespeare.txt, the way
# the results in README were made: a new model trained for a wall-clock
# budget on the first 90% of the bytes (tl-train holds out the last
# 10% itself), its validation loss logged as it goes, then tl-eval on
# the last 111,540 bytes.
#
# usage: scripts/exp.sh [-d dir] [-t threads] name budget [tl-train flags]
#
# The budget is seconds of training (--time), or steps:N (--steps N),
# whose result does not depend on the machine's load.
#
# Writes dir/name.log (tl-train --log, JSON lines), dir/name.err,
# dir/name.json (tl-eval -j) and appends a line to dir/results.tsv:
#   name budget threads steps parameters val-loss tokens/s flags
# The model itself is dir/name.tl.  dir defaults to exp/ in the tree.
set -eu
. "$(dirname "$0")/common.sh"
dir=$top/exp threads=""
opts "$0 [-d dir] [-t threads] name seconds [flags]" 2- d=dir t=threads -- "$@"
shift $((OPTIND - 1))
# -t N goes on to tl-train as it is
threads=${threads:+-t $threads}
name=$1 secs=$2
shift 2
case $secs in
steps:*) budget="--steps ${secs#steps:}" ;;
*) budget="--time $secs" ;;
esac
mkdir -p "$dir"
# made atomically (tl-tokenize -o), as runs of sweep.sh start together
[ -s "$dir/bytes.tok" ] || "$bin/tl-tokenize" -o "$dir/bytes.tok" "$top/data/tinyshakespeare.txt"
[ -s "$dir/val.txt" ] || { tail -c 111540 "$top/data/tinyshakespeare.txt" > "$dir/val.$$" &&
    mv "$dir/val.$$" "$dir/val.txt"; }
tok=$dir/bytes.tok
# a BPE run names its vocabulary with -v FILE before the tl-train flags
case "${1:-}" in
-v)	voc=$2
	shift 2
	tok=$dir/$(basename "$voc").tok
	[ -s "$tok" ] || "$bin/tl-tokenize" -v "$voc" -o "$tok" "$top/data/tinyshakespeare.txt" ;;
*)	voc="" ;;
esac
rm -f "$dir/$name.tl" "$dir/$name.log"
"$bin/tl-train" $threads -m "$dir/$name.tl" $budget --log "$dir/$name.log" \
    --log-every 10 "$@" "$tok" 2> "$dir/$name.err"
if [ -n "$voc" ]; then "$bin/tl-tokenize" -v "$voc"; else "$bin/tl-tokenize"; fi \
    < "$dir/val.txt" | "$bin/tl-eval" -m "$dir/$name.tl" -j > "$dir/$name.json"
steps=$(tail -n 1 "$dir/$name.log" | sed 's/.*"step":\([0-9]*\).*/\1/')
params=$(sed -n 's/.*new model, \([0-9]*\) parameters.*/\1/p' "$dir/$name.err")
loss=$(sed 's/.*"loss":\([0-9.]*\).*/\1/' "$dir/$name.json")
# training tokens per second over the run (validation excluded)
tps=$(awk -F'[:,]' '{ for (k = 1; k < NF; k++) { if ($k == "\"tok_s\"") { s += $(k+1); n++ } } }
    END { printf "%.0f", n ? s / n : 0 }' "$dir/$name.log")
printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$secs" "${threads#-t }" "$steps" \
    "$params" "$loss" "$tps" "$*" | tee -a "$dir/results.tsv"
