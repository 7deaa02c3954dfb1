#!/bin/sh
# golden.sh: the bytes that a restructuring must keep.  Trains small
# fixed-seed models (rmsnorm and layernorm, ternary and fp32, byte and
# BPE tokens), packs them, generates and evaluates, and writes every
# file and its SHA-256 into DIR.  Run it with the programs before and
# after a change and compare the two SHA256SUMS files.
#
# usage: scripts/golden.sh [-b bindir] DIR
# TL_SIMD in the environment picks the kernel path (the sums differ
# between paths; compare runs of one path).
set -eu
. "$(dirname "$0")/common.sh"
opts "$0 [-b bindir] DIR" 1 b=bin -- "$@"
shift $((OPTIND - 1))
out=$1
mkdir -p "$out"
head -c 60000 "$top/data/tinyshakespeare.txt" > "$out/text"
"$bin/tl-tokenize" < "$out/text" > "$out/bytes.tok"
"$bin/tl-tokenize" --train-bpe 300 -o "$out/v.bpe" < "$out/text"
"$bin/tl-tokenize" -v "$out/v.bpe" < "$out/text" > "$out/bpe.tok"
shape="--layers 2 --dim 64 --heads 2 --ffn 128 --ctx 32 --batch 4"
run() {	# name tokens flags...
	name=$1 tok=$2
	shift 2
	"$bin/tl-train" -m "$out/$name.tl" -t 2 $shape --steps 30 \
	    --eval-every 10 --eval-tokens 512 --save-every 0 "$@" \
	    "$out/$tok" 2> /dev/null
	"$bin/tl-gen" -m "$out/$name.tl" -p "ROMEO:" -n 40 -s 7 --slide \
	    > "$out/$name.gen"
	"$bin/tl-eval" -m "$out/$name.tl" -j < "$out/$tok" > "$out/$name.eval"
	for q in tq2 tq1 q8; do
		"$bin/tl-quantize" -q $q -m "$out/$name.tl" -o "$out/$name.$q" \
		    2> /dev/null || continue
		"$bin/tl-gen" -m "$out/$name.$q" -p "ROMEO:" -n 40 --greedy --slide \
		    > "$out/$name.$q.gen"
		"$bin/tl-eval" -m "$out/$name.$q" -j < "$out/$tok" \
		    > "$out/$name.$q.eval"
	done
}
run rms bytes.tok --norm rmsnorm
run layer bytes.tok --norm layernorm --act swiglu --pos sinusoidal
run fp32 bytes.tok --quant fp32 --act gelu
run bpe bpe.tok --norm rmsnorm --accum 2 --micro 2 --recompute
(cd "$out" && rm -f text && sha256sum $(ls | grep -v SHA256SUMS) > SHA256SUMS)
