#!/bin/sh
# distill.sh: distillation measured on data/tinyshakespeare.txt.  A
# teacher (by default the fp32 twin of the model) trained for S
# seconds, then a ternary student trained for S seconds with
# --teacher, against ternary models trained alone for S seconds (equal
# student time) and for 2 S seconds (equal total time: the teacher's
# training counted), all evaluated by tl-eval on the last 111,540
# bytes.  Runs go two at a time, one thread each:
#   teacher (S) and alone-2S (2 S) start together; the student (S)
#   starts when the teacher ends; then alone-S beside a second student
#   with weight -a.
#
# usage: scripts/distill.sh [-a weight2] [-d dir] [-T "teacher flags"] S [model flags]
#   (defaults: -a 0.8, dir exp/, -T "--quant fp32"; the students use
#   the default weight 0.5 and the second -a).  Give the model's shape
#   in the flags: a time budget alone would pick other shapes for S
#   and 2 S (tl-train(1), "Shape for a time budget").
set -eu
. "$(dirname "$0")/common.sh"
a2=0.8 dir=$top/exp tf="--quant fp32"
opts "$0 [-a weight2] [-d dir] [-T teacher-flags] S [flags]" 1- a=a2 d=dir \
    T=tf -- "$@"
shift $((OPTIND - 1))
s=$1
shift
x() { "$top/scripts/exp.sh" -d "$dir" -t 1 "$@" > /dev/null; }
x teacher "$s" $tf "$@" &
tp=$!
x alone2 $((2 * s)) "$@" &
wait $tp
x student "$s" --teacher "$dir/teacher.tl" "$@" &
wait
x alone "$s" "$@" &
x student2 "$s" --teacher "$dir/teacher.tl" --distill "$a2" "$@" &
wait
printf 'run\tsecs\tsteps\tval-loss\n'
for m in teacher student student2 alone alone2; do
	awk -F'\t' -v m=$m '$1 == m { r = $2 "\t" $4 "\t" $6 } END { print m "\t" r }' "$dir/results.tsv"
done
