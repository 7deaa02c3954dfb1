#!/bin/sh
# funclen.sh: the functions of the C files under the given folders that
# are longer than N lines (from the line of the opening brace, in
# column 0 as in this tree's style, to the closing one), one line each:
# "file: function lines".  Exits 1 if there is any.
#
# usage: scripts/funclen.sh N folder...
[ $# -ge 2 ] || { echo "usage: $0 N folder..." >&2; exit 2; }
n=$1
shift
find "$@" -name '*.c' | sort | xargs awk -v N="$n" '
FNR == 1 { start = 0 }
/^[a-zA-Z_][a-zA-Z0-9_]*\(/ { name = $0; sub(/\(.*/, "", name) }
/^\{/ { start = FNR }
/^\}/ {
	if (start && FNR - start + 1 > N) {
		print FILENAME ": " name " " FNR - start + 1
		bad = 1
	}
	start = 0
}
END { exit bad }'
