#!/bin/sh
# layers.sh: check that lib/ is layered.  Each folder of lib/ is a
# layer, listed here from the bottom up; a file may include the public
# header of its own layer or of one below it (as "layer/layer.h"), and
# its own folder's headers by bare name, never a header of a layer
# above its own or another folder's internal header.  Programs in cmd/
# include lib/'s public headers only and never one another.  Prints
# one line per breach; exits 1 if there is any.
#
# usage: scripts/layers.sh [top]
top=${1:-$(cd "$(dirname "$0")/.." && pwd)}
layers="util kernels tok model train formats"
rank() {
	i=0
	for l in $layers; do
		[ "$l" = "$1" ] && { echo $i; return; }
		i=$((i + 1))
	done
	echo -1
}
bad=0
for d in "$top"/lib/*/; do
	own=$(basename "$d")
	r=$(rank "$own")
	if [ "$r" -lt 0 ]; then
		echo "lib/$own: not a layer of scripts/layers.sh"
		bad=1
		continue
	fi
	for f in "$d"*.[ch]; do
		set -f	# the names are words, not patterns
		for inc in $(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f"); do
			case $inc in
			*/*)
				l=${inc%%/*} h=${inc#*/}
				lr=$(rank "$l")
				if [ "$lr" -lt 0 ] || [ "$lr" -gt "$r" ]; then
					echo "lib/$own/${f##*/}: includes $inc, a layer above $own"
					bad=1
				elif [ "$h" != "$l.h" ]; then
					echo "lib/$own/${f##*/}: includes $inc, internal to lib/$l"
					bad=1
				fi ;;
			*)
				[ -f "$d$inc" ] || {
					echo "lib/$own/${f##*/}: includes $inc, not in lib/$own"
					bad=1
				} ;;
			esac
		done
		set +f
	done
done
for f in "$top"/cmd/*.c "$top"/cmd/*/*.[ch]; do
	[ -f "$f" ] || continue
	dir=$(dirname "$f")
	set -f
	for inc in $(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f"); do
		case $inc in
		*/*)
			l=${inc%%/*} h=${inc#*/}
			if [ "$(rank "$l")" -lt 0 ] || [ "$h" != "$l.h" ]; then
				echo "${f#$top/}: includes $inc, not a public header of lib/"
				bad=1
			fi ;;
		*)
			# a multi-file program's own headers, in its folder
			if [ "$dir" = "$top/cmd" ] || [ ! -f "$dir/$inc" ]; then
				echo "${f#$top/}: includes $inc, not a public header of lib/"
				bad=1
			fi ;;
		esac
	done
	set +f
done
exit $bad
