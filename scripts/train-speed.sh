#!/bin/sh
# train-speed.sh: training throughput of tl-train, in tokens per second,
# min/median/max over repeated runs.  The default shape is the reference
# of the kernels issue: ternary, 4 layers, width 256, 4 heads, FFN 1024,
# vocabulary 256, context 64, batch 4, 2 threads.
#
# usage: scripts/train-speed.sh [-b batch] [-r runs] [-s steps] [-t threads] [-x bin]
#                               [-k ranks] [-- tl-train flags]
# TL_SIMD=scalar|sse|sse2|... in the environment picks the kernel path.
# -k runs tl-train on that many ranks of an MPI job on this machine
# over loopback TCP, -t threads each, with --exact-sums (bin, -x, then
# holds the tl-train of make MPI=1), and prints the seconds a step spends computing and
# exchanging gradients (the ranks' mean, median over the runs) and
# the bytes each rank sums a step.
# Tokens per second are taken from the --log lines between the 10th
# step and the last, so start-up and the first steps do not count.
# The 1-minute load averages seen before and after the runs are
# printed too: other work on the machine lowers the figures.
set -eu
. "$(dirname "$0")/common.sh"
batch=4 runs=3 steps=60 threads=2 ranks=0
opts "$0 [-b batch] [-r runs] [-s steps] [-t threads] [-x bin] [-k ranks] [-- flags]" - \
    b=batch r=runs s=steps t=threads x=bin k=ranks -- "$@"
shift $((OPTIND - 1))
shape="--layers 4 --dim 256 --heads 4 --ffn 1024 --ctx 64 --quant ternary"
[ $# -gt 0 ] && shape="$*"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$top/bin/tl-tokenize" < "$top/data/tinyshakespeare.txt" > "$tmp/c.tok"
launch=
exact=
[ "$ranks" -gt 0 ] && launch="mpirun -np $ranks --oversubscribe \
    --mca btl self,tcp --mca btl_tcp_if_include lo --mca oob_tcp_if_include lo" \
    exact=--exact-sums
# the machine's load, which the figures depend on: the 1-minute load
# average before and after every run (-1 without /proc/loadavg)
load() { cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo -1; }
i=0
while [ $i -lt "$runs" ]; do
	load >> "$tmp/load"
	rm -f "$tmp/m.tl" "$tmp/log"
	$launch "$bin/tl-train" -m "$tmp/m.tl" -t "$threads" $shape $exact --batch "$batch" \
	    --steps "$steps" --eval-every 0 --save-every 0 --log-every 1 \
	    --log "$tmp/log" "$tmp/c.tok" 2> "$tmp/err"
	awk -F'[:,]' '
	    { for (k = 1; k < NF; k++) { if ($k == "\"tokens\"") t = $(k+1); if ($k == "\"elapsed\"") e = $(k+1) } }
	    NR == 10 { t0 = t; e0 = e }
	    END { printf "%.1f\n", (t - t0) / (e - e0) }' "$tmp/log" >> "$tmp/rates"
	# each rank's seconds of computing and exchanging, a line a step
	[ "$ranks" -gt 0 ] && awk -F'"compute":|,"comm":|}' '
	    NR > 10 { for (k = 2; k < NF; k += 3) { c += $k; x += $(k+1); n++ } }
	    END { printf "%.4f %.4f\n", c / n, x / n }' "$tmp/log" >> "$tmp/split"
	load >> "$tmp/load"
	i=$((i + 1))
done
path=$(sed -n 's/.*parameters, \([a-z0-9]*\) path.*/\1/p' "$tmp/err" | head -1)
who="$threads threads"
[ "$ranks" -gt 0 ] && who="$ranks ranks of $threads threads"
sort -n "$tmp/rates" | awk -v path="$path" -v who="$who" -v sh="$shape" -v b="$batch" '
    { r[NR] = $1 }
    END { printf "tl-train %s, batch %d, %s, %s path: min %.0f median %.0f max %.0f tokens/s (%d runs)",
        sh, b, who, path, r[1], r[int((NR + 1) / 2)], r[NR], NR }'
sort -n "$tmp/load" | awk '{ l[NR] = $1 } END { printf "; load average %s to %s\n", l[1], l[NR] }'
if [ "$ranks" -gt 0 ]; then
	np=$(sed -n 's/.* \([0-9]*\) parameters,.*/\1/p' "$tmp/err" | head -1)
	printf 'a step: computing %s ms, exchanging %s ms; %d bytes summed by each rank\n' \
	    "$(cut -d' ' -f1 "$tmp/split" | mmm 0.001)" \
	    "$(cut -d' ' -f2 "$tmp/split" | mmm 0.001)" $(((np + 1) * 8))
fi
