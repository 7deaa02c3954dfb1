#!/bin/sh
# mpi-scaling.sh: what K machines would gain from training together
# (tl-train(1), "Runs across machines"), computed from a step's
# time measured here and the bytes a step exchanges.
#
# usage: scripts/mpi-scaling.sh [-b batch] [-s steps] [-t threads] [-- tl-train shape flags]
#
# One process of -t threads (default 2: one machine like this one)
# times its steps, with --exact-sums as the machines would, at
# accumulations of 2 and 6 micro-batches of the batch (the mean of the steps after the 3rd), which gives a step's time
# as fixed + A x per-micro-batch (the fixed part, the update and the
# fixed-point conversions, is every rank's whatever K).  K machines,
# each computing A/K micro-batches a step, then take
#   fixed + (A/K) x per-micro-batch + exchange,
# the exchange being a ring all-reduce of the 8 (parameters + 1) bytes
# of the fixed-point sum: 2 (K - 1) / K of them sent and received by
# every machine at the link's rate (latency left out: a few round
# trips of tens of microseconds against tens of milliseconds).  The
# table gives the tokens per second of K machines over 100 Mbit/s and
# 1 Gbit/s Ethernet, and their speed-up over one machine running the
# same step, for A = K, 4K and 16K micro-batches a step.
set -eu
. "$(dirname "$0")/common.sh"
batch=16 steps=12 threads=2
opts "$0 [-b batch] [-s steps] [-t threads] [-- flags]" - b=batch s=steps \
    t=threads -- "$@"
shift $((OPTIND - 1))
shape="--layers 4 --dim 128 --heads 4 --ffn 512 --ctx 64"
[ $# -gt 0 ] && shape="$*"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$bin/tl-tokenize" < "$top/data/tinyshakespeare.txt" > "$tmp/c.tok"
# step A: the mean seconds of a step of A micro-batches, after the 3rd
step() {
	rm -f "$tmp/m.tl" "$tmp/log"
	"$bin/tl-train" -m "$tmp/m.tl" -t "$threads" $shape --batch "$batch" \
	    --accum "$1" --exact-sums --steps "$steps" --eval-every 0 --save-every 0 \
	    --log-every 1 --log "$tmp/log" "$tmp/c.tok" 2> "$tmp/err"
	sed -n 's/.*"elapsed":\([0-9.]*\).*/\1/p' "$tmp/log" |
	    awk 'NR == 3 { e = $1; n = NR } END { print ($1 - e) / (NR - n) }'
}
t2=$(step 2)
t6=$(step 6)
np=$(sed -n 's/.* \([0-9]*\) parameters,.*/\1/p' "$tmp/err" | head -1)
ctx=$(echo "$shape" | sed -n 's/.*--ctx \([0-9]*\).*/\1/p')
awk -v t2="$t2" -v t6="$t6" -v np="$np" -v B="$batch" -v T="${ctx:-64}" \
    -v sh="$shape" -v th="$threads" 'BEGIN {
	per = (t6 - t2) / 4
	fix = t2 - 2 * per
	if (fix < 0)
		fix = 0
	bytes = 8 * (np + 1)
	printf "%s, batch %d, %d parameters, %d threads a machine: %.4f s a micro-batch, %.4f s a step besides; %.1f MB exchanged a step\n",
	    sh, B, np, th, per, fix, bytes / 1e6
	printf "| K | A | 1 machine tok/s | 100 Mbit/s tok/s | speed-up | 1 Gbit/s tok/s | speed-up |\n"
	printf "|---|---|---|---|---|---|---|\n"
	for (K = 2; K <= 16; K *= 2)
		for (m = 1; m <= 16; m *= 4) {
			A = m * K
			one = A * B * T / (fix + A * per)
			line = sprintf("| %d | %d | %.0f", K, A, one)
			for (r = 0; r < 2; r++) {
				bw = (r == 0 ? 100e6 : 1e9) / 8
				x = 2 * (K - 1) / K * bytes / bw
				tk = A * B * T / (fix + m * per + x)
				line = line sprintf(" | %.0f | %.2f", tk, tk / one)
			}
			print line " |"
		}
}'
