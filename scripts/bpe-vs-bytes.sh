#!/bin/sh
# bpe-vs-bytes.sh: the same default model trained for the same time on
# byte tokens and on a BPE vocabulary learned from the training text,
# compared by tl-eval's bits per byte on the held-out last 10% of
# data/tinyshakespeare.txt.  The two runs go side by side, one thread
# each, so that they see the same machine.
#
# usage: scripts/bpe-vs-bytes.sh [seconds [vocab-size]]   (default 600 512)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
bin=$top/bin
secs=${1:-600}
nv=${2:-512}
dir=${TMPDIR:-/tmp}/bpe-vs-bytes.$$
mkdir -p "$dir"
cd "$dir"
head -c 1003854 "$top/data/tinyshakespeare.txt" > train.txt
tail -c 111540 "$top/data/tinyshakespeare.txt" > val.txt
"$bin/tl-tokenize" --train-bpe "$nv" -o v.bpe < train.txt
"$bin/tl-tokenize" < train.txt > bytes.tok
"$bin/tl-tokenize" -v v.bpe < train.txt > bpe.tok
"$bin/tl-train" -t 1 -m bytes.tl --time "$secs" bytes.tok 2> bytes.err &
"$bin/tl-train" -t 1 -m bpe.tl --time "$secs" bpe.tok 2> bpe.err &
wait
for m in bytes bpe; do
	if [ $m = bytes ]; then "$bin/tl-tokenize" < val.txt; else "$bin/tl-tokenize" -v v.bpe < val.txt; fi |
	    "$bin/tl-eval" -m $m.tl -j > $m.json
	printf '%-5s %s\n' $m "$(cat $m.json)"
	tail -n 1 $m.err
done
echo "files in $dir"
