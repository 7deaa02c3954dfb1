#!/bin/sh
# gen-speed.sh: generation speed of tl-gen on a packed model, in tokens
# per second, min/median/max over repeated runs, with the bytes of
# weights each token reads.  The model is an untrained one of the given
# shape, by default the reference one (common.sh's packed_model); each
# run generates from an empty prompt until the context is full
# (ctx - 1 new tokens), greedily.
#
# usage: scripts/gen-speed.sh [-c] [-q format] [-r runs] [-t threads] [-x "dirs"] [-- tl-init flags]
#   -c  also time the checkpoint itself (fp32 ternary weights)
#   -x  the folders of the tl-gen programs to time (default: this
#       tree's bin), one line each, their runs interleaved so that the
#       machine's load falls alike on all (two builds side by side)
# TL_SIMD=scalar|sse|sse2|... in the environment picks the kernel
# path.  The figures are wall-clock tokens per second of the generation
# loop (tl-gen --stats), so a busy machine lowers them: the load
# average is printed alongside, and the CPU-time rate too.
set -eu
. "$(dirname "$0")/common.sh"
runs=3 threads=1 fmt=tq2 ckpt=0 dirs=$bin
opts "$0 [-c] [-q format] [-r runs] [-t threads] [-x dirs] [-- tl-init flags]" - \
    c=ckpt=1 q=fmt r=runs t=threads x=dirs -- "$@"
shift $((OPTIND - 1))
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
packed_model "$tmp" "$fmt" "$@"
# let the checkpoint's pages reach the disk before timing anything
sync
sleep 1
models="m.tlq"
[ "$ckpt" = 1 ] && models="m.tlq m.tl"
for m in $models; do
	k=0
	for d in $dirs; do
		: > "$tmp/rates.$k"
		k=$((k + 1))
	done
	i=0
	while [ $i -lt "$runs" ]; do
		k=0
		for d in $dirs; do
			"$d/tl-gen" -m "$tmp/$m" -p "" -n $((ctx - 1)) --greedy \
			    -t "$threads" --stats > /dev/null 2> "$tmp/err"
			sed -n 's/.* \([0-9.]*\) tokens\/s (\([0-9.]*\) per CPU second); \([0-9]*\) bytes.*; \([a-z0-9]*\) path, .*/\1 \2 \3 \4/p' \
			    "$tmp/err" >> "$tmp/rates.$k"
			k=$((k + 1))
		done
		i=$((i + 1))
	done
	[ "$m" = m.tl ] && what=checkpoint || what="packed $fmt"
	k=0
	for d in $dirs; do
		[ "$d" = "$bin" ] && who= || who=" ($d)"
		sort -n "$tmp/rates.$k" | awk -v what="$what$who" -v th="$threads" -v sh="$shape" \
		    -v n=$((ctx - 1)) -v load="$(cut -d ' ' -f 1-3 /proc/loadavg 2>/dev/null || echo ?)" '
		    { r[NR] = $1; c[NR] = $2; b = $3; path = $4 }
		    END {
			m = int((NR + 1) / 2)
			printf "tl-gen %s, %s, %d tokens, %d threads, %s path: min %.0f median %.0f max %.0f tokens/s (%d runs; median %.0f per CPU second); %d bytes of weights per token; load %s\n",
			    what, sh, n, th, path, r[1], r[m], r[NR], NR, c[m], b, load }'
		k=$((k + 1))
	done
done
