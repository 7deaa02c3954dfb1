#!/bin/sh
# plot-loss.sh: validation loss against wall-clock time for a set of
# training runs, as a PNG, from their tl-train --log files (JSON lines;
# the lines with a "val" field are plotted).  The title of each curve
# is the log's file name without .log.  gnuplot is installed with
# apt-get when it is missing.
#
# usage: scripts/plot-loss.sh [-y ymax] out.png run.log [run.log ...]
# ymax, the top of the loss axis, defaults to 3 (nats per byte token;
# a BPE model's nats per token are higher).
set -eu
. "$(dirname "$0")/common.sh"
ymax=3
opts "$0 [-y ymax] out.png run.log [run.log ...]" 2- y=ymax -- "$@"
shift $((OPTIND - 1))
out=$1
shift
if ! command -v gnuplot >/dev/null 2>&1; then
	apt-get install -y -qq gnuplot-nox >/dev/null 2>&1 ||
	    { apt-get update -qq && apt-get install -y -qq gnuplot-nox >/dev/null; } ||
	    { echo "$0: cannot install gnuplot" >&2; exit 1; }
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
plot=""
for f in "$@"; do
	n=$(basename "$f" .log)
	# elapsed seconds, val loss
	sed -n 's/.*"val":\([0-9.]*\).*"elapsed":\([0-9.]*\).*/\2 \1/p' "$f" > "$tmp/$n.dat"
	[ -s "$tmp/$n.dat" ] || { echo "$0: $f: no validation loss in the log" >&2; exit 1; }
	plot="$plot${plot:+, }'$tmp/$n.dat' using (\$1/60):2 with linespoints lw 2 pt 7 ps 0.6 title '$n'"
done
gnuplot <<G
set terminal pngcairo size 900,600 noenhanced
set output '$out'
set xlabel 'wall-clock minutes'
set ylabel 'validation loss (nats per token)'
set xrange [0:]
set yrange [:$ymax]
set grid
set key top right
plot $plot
G
echo "$out"
