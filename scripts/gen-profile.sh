#!/bin/sh
# gen-profile.sh: where a generated token's time goes, per function,
# with perf(1).  Makes an untrained model of the shape, by default the
# reference one (common.sh's packed_model), runs tl-gen over the whole
# context (ctx - 1 greedy tokens from an empty prompt) RUNS times under
# `perf record`, and prints tl-gen's own rate and the functions with at
# least 0.5% of the samples.  The samples cover the whole process, so
# loading the model (tl_crc32, tl_packed_open, memmove) is in them; on
# a small shape raise -r so that the generation loop dominates.
#
# usage: scripts/gen-profile.sh [-q format] [-r runs] [-t threads] [-- tl-init flags]
# TL_SIMD=scalar|sse|sse2|... in the environment picks the kernel path.
set -eu
. "$(dirname "$0")/common.sh"
runs=3 threads=1 fmt=tq2
opts "$0 [-q format] [-r runs] [-t threads] [-- tl-init flags]" - \
    q=fmt r=runs t=threads -- "$@"
shift $((OPTIND - 1))
command -v perf > /dev/null || { echo "$0: perf(1) is not installed" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
packed_model "$tmp" "$fmt" "$@"
rm -f "$tmp/m.tl"	# only the packed model runs; the checkpoint is 800 MB at 12 x 768
cat > "$tmp/run.sh" <<EOF
i=0
while [ \$i -lt $runs ]; do
	"$bin/tl-gen" -m "$tmp/m.tlq" -p "" -n $((ctx - 1)) --greedy \
	    -t $threads --stats > /dev/null 2>> "$tmp/err"
	i=\$((i + 1))
done
EOF
perf record -q -F 2000 -o "$tmp/perf.data" -- sh "$tmp/run.sh" 2> /dev/null
path=$(sed -n 's/.*; \([a-z0-9]*\) path,.*/\1/p' "$tmp/err" | head -n 1)
echo "$shape, $fmt, $path path, $threads threads: $(sed -n 's/.* \([0-9.]*\) tokens\/s.*/\1/p' "$tmp/err" | mmm) tokens/s ($runs runs)"
perf report -i "$tmp/perf.data" --comm tl-gen --sort sym --stdio 2> /dev/null |
    awk '/^ +[0-9.]+%/ { v = $1; sub("%", "", v); if (v + 0 >= 0.5) print }'
