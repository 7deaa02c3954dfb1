#!/bin/sh
# bpe-dropout.sh: BPE-dropout measured.  A BPE vocabulary learned from
# the first 90% of data/tinyshakespeare.txt; the same model trained for
# the same time on that text encoded once as it is, and on k copies of
# it encoded one after another under tl-tokenize --bpe-dropout (each
# copy in other segmentations); both validated on the last 10% encoded
# without dropout (--val) and compared by tl-eval's bits per byte on
# it.  The two runs go side by side, one thread each, so that they see
# the same machine.
#
# usage: scripts/bpe-dropout.sh [-k copies] [-p rate] [-d dir] seconds vocab-size [tl-train flags]
#   (defaults: 8 copies, rate 0.1, dir $TMPDIR/bpe-dropout.PID)
set -eu
. "$(dirname "$0")/common.sh"
k=8 p=0.1 dir=${TMPDIR:-/tmp}/bpe-dropout.$$
opts "$0 [-k copies] [-p rate] [-d dir] seconds vocab-size [flags]" 2- \
    k=k p=p d=dir -- "$@"
shift $((OPTIND - 1))
secs=$1 nv=$2
shift 2
mkdir -p "$dir"
cd "$dir"
head -c 1003854 "$top/data/tinyshakespeare.txt" > train.txt
tail -c 111540 "$top/data/tinyshakespeare.txt" > val.txt
"$bin/tl-tokenize" --train-bpe "$nv" -o v.bpe < train.txt
"$bin/tl-tokenize" -v v.bpe < train.txt > plain.tok
"$bin/tl-tokenize" -v v.bpe < val.txt > val.tok
i=0
while [ $i -lt "$k" ]; do cat train.txt; i=$((i + 1)); done |
    "$bin/tl-tokenize" -v v.bpe --bpe-dropout "$p" --stats > drop.tok 2> drop.stats
rm -f plain.tl drop.tl
for m in plain drop; do
	"$bin/tl-train" -t 1 -m $m.tl --time "$secs" --val val.tok --log $m.log \
	    "$@" $m.tok 2> $m.err &
done
wait
printf 'run\tsteps\tval-loss\tbits/byte\n'
for m in plain drop; do
	"$bin/tl-eval" -m $m.tl -j < val.tok > $m.json
	printf '%s\t%s\t%s\t%s\n' $m \
	    "$(tail -n 1 $m.log | sed 's/.*"step":\([0-9]*\).*/\1/')" \
	    "$(sed 's/.*"loss":\([0-9.]*\).*/\1/' $m.json)" \
	    "$(sed 's/.*"bits_per_byte":\([0-9.]*\).*/\1/' $m.json)"
done
cat drop.stats
echo "files in $dir"
