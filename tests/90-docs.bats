#!/usr/bin/env bats
# Every program has a man page, every page is clean under mandoc -Tlint,
# and each page's SYNOPSIS names the options its program's usage does.

load helper

@test "docs: every program in cmd/ has a man page" {
	for c in "$TOP"/cmd/tl-*.c; do
		n=$(basename "$c" .c)
		[ -f "$TOP/man/$n.1" ] || { echo "no man/$n.1"; false; }
		grep -q "^\.Xr $n 1" "$TOP/man/tl.7" || { echo "tl.7 lacks $n"; false; }
	done
}

@test "docs: mandoc -Tlint finds no warnings" {
	command -v mandoc >/dev/null || skip "mandoc not installed"
	run mandoc -Tlint -Wwarning "$TOP"/man/*.[157]
	echo "$output"
	[ "$status" -eq 0 ]
}

@test "docs: each usage option appears in its man page" {
	for c in "$TOP"/cmd/tl-*.c; do
		n=$(basename "$c" .c)
		for o in $("$TOP/bin/$n" -h 2>&1 | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u); do
			grep -qE -- "Fl (Fl |\\\\?-)${o#--}" "$TOP/man/$n.1" ||
				{ echo "$n.1 lacks $o"; false; }
		done
	done
}
