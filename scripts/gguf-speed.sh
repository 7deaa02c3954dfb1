#!/bin/sh
# gguf-speed.sh: tl-gen against llama.cpp on the same model, side by
# side: tokens/s of tl-gen on the tq2 packed model (on each SIMD path
# given) and of llama.cpp (node-llama-cpp's prebuilt runtime, through
# scripts/llama.mjs) on its GGUF export (TQ2_0 where the widths allow),
# one thread each, the runs interleaved, min/median/max.  The model is
# an untrained one of the shape (common.sh's packed_model: by default
# 4 layers x 256, FFN 1024, context 256); each run generates ctx - 1
# tokens greedily, llama.cpp with its default F16 KV cache.
#
# usage: scripts/gguf-speed.sh [-p "paths"] [-r runs] [-- tl-init flags]
#   -p  the TL_SIMD paths of tl-gen (default "sse2 ssse3 default")
set -eu
. "$(dirname "$0")/common.sh"
runs=3 paths="sse2 ssse3 default"
opts "$0 [-p paths] [-r runs] [-- tl-init flags]" - p=paths r=runs -- "$@"
shift $((OPTIND - 1))
llama="node $(dirname "$0")/llama.mjs"
$llama check
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
packed_model "$tmp" tq2 "$@"
"$bin/tl-quantize" -v -f gguf -m "$tmp/m.tl" -o "$tmp/m.gguf"
sync
sleep 1
i=0
while [ $i -lt "$runs" ]; do
	for p in $paths; do
		s=$p
		[ "$p" = default ] && s=
		TL_SIMD=$s "$bin/tl-gen" -m "$tmp/m.tlq" -p "" -n $((ctx - 1)) \
		    --greedy -t 1 --stats 2>&1 > /dev/null |
		    sed -n 's/.* \([0-9.]*\) tokens\/s .*; \([a-z0-9]*\) path, .*/\1 \2/p' \
		    >> "$tmp/tl.$p"
	done
	$llama bench "$tmp/m.gguf" $((ctx - 1)) | sed -n 's/^tokens\/s //p' \
	    >> "$tmp/llama"
	i=$((i + 1))
done
load=$(cut -d ' ' -f 1-3 /proc/loadavg 2>/dev/null || echo ?)
echo "shape: $shape; $((ctx - 1)) tokens a run, $runs runs, one thread; load $load"
for p in $paths; do
	echo "tl-gen tq2, $(awk '{ print $2; exit }' "$tmp/tl.$p") path: $(cut -d ' ' -f 1 "$tmp/tl.$p" | mmm) tokens/s"
done
echo "llama.cpp TQ2_0: $(mmm < "$tmp/llama") tokens/s"
