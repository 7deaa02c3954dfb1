#!/bin/sh
# sweep.sh: the experiments behind tl-train's defaults (README,
# "Choosing the defaults"): sets of training runs of scripts/exp.sh
# that differ in one thing, for the same budget.  Runs go
# two at a time, one thread each, so that the two of a pair see the
# same machine; with -j 1 one at a time on every core.
#
# usage: scripts/sweep.sh [-d dir] [-j 1|2] set budget [base flags]
#   budget: seconds, or steps:N (see exp.sh)
#   set: shape (four shapes), short (the default against smaller ones:
#   for short budgets), wide (the default against 192 wide with its
#   context and batch: for long budgets), recipe (one change at a time from the base
#   flags: rate, schedule, norm (and SubLN), FFN activation, positions, context),
#   seed (seeds 2 and 3: the noise of the others), twin (ternary and fp32)
# The base flags (a shape, say) go before each run's own, which win.
# Results: dir/results.tsv (see exp.sh); plot with scripts/plot-loss.sh.
set -eu
. "$(dirname "$0")/common.sh"
dir=$top/exp jobs=2
opts "$0 [-d dir] [-j 1|2] set seconds [flags]" 2- d=dir j=jobs -- "$@"
shift $((OPTIND - 1))
set_=$1 secs=$2
shift 2
base="$*"
case $set_ in
shape) runs="
	l4d128|--layers 4 --dim 128 --heads 4 --ffn 512 --ctx 64 --batch 16
	l4d192|--layers 4 --dim 192 --heads 4 --ffn 768 --ctx 128 --batch 8
	l4d256|--layers 4 --dim 256 --heads 4 --ffn 1024 --ctx 128 --batch 8
	l6d192|--layers 6 --dim 192 --heads 4 --ffn 768 --ctx 128 --batch 8" ;;
short) runs="
	l4d128|--layers 4 --dim 128 --heads 4 --ffn 512 --ctx 64 --batch 16
	l2d128|--layers 2 --dim 128 --heads 4 --ffn 512 --ctx 64 --batch 16
	l3d128|--layers 3 --dim 128 --heads 4 --ffn 512 --ctx 64 --batch 16
	l4d96|--layers 4 --dim 96 --heads 4 --ffn 384 --ctx 64 --batch 16" ;;
wide) runs="
	l4d128|--layers 4 --dim 128 --heads 4 --ffn 512 --ctx 64 --batch 16
	l4d192|--layers 4 --dim 192 --heads 4 --ffn 768 --ctx 64 --batch 16" ;;
recipe) runs="
	base|
	lr1.5e-3|--lr 0.0015
	lr6e-3|--lr 0.006
	two-stage|--sched two-stage
	layernorm|--norm layernorm
	subln|--norm subln
	swiglu|--act swiglu
	relu|--act relu
	sinusoidal|--pos sinusoidal
	ctx128|--ctx 128 --batch 8" ;;
seed) runs="
	seed2|--seed 2
	seed3|--seed 3" ;;
twin) runs="
	ternary|--quant ternary
	fp32|--quant fp32" ;;
*) echo "$0: unknown set $set_" >&2; exit 2 ;;
esac
threads=$((2 / jobs))
[ "$threads" -ge 1 ] || threads=1
echo "$runs" | sed '/^[[:space:]]*$/d' > "${TMPDIR:-/tmp}/sweep.$$"
n=0
while IFS='|' read -r name flags; do
	name=$(echo "$name" | tr -d '[:space:]')
	# shellcheck disable=SC2086
	"$top/scripts/exp.sh" -d "$dir" -t "$threads" "$set_-$name-$(echo "$secs" | tr -d :)" "$secs" $base $flags &
	n=$((n + 1))
	[ $((n % jobs)) -ne 0 ] || wait
done < "${TMPDIR:-/tmp}/sweep.$$"
wait
rm -f "${TMPDIR:-/tmp}/sweep.$$"
