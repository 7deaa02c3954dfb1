#!/usr/bin/env bats
# Every program has a man page, every page is clean under mandoc -Tlint,
# and each page's SYNOPSIS lists the options and the allowed values its
# program's usage (-h) does, each of them described in the page.

bats_require_minimum_version 1.5.0

load helper

# items: the options of a synopsis (text on stdin), one a line, sorted:
# "-k", "--steps", or with the values it lists, "--norm rmsnorm|subln";
# grouped flags ("-hjV") one letter a line.
items() {
	tr -d '[]' | tr ' \t' '\n\n' | awk '
		function flush() { if (opt != "") print opt; opt = "" }
		$0 == "" || $0 == "|" { next }
		/^--/ { flush(); opt = $0; next }
		/^-/ {
			flush()
			if (length($0) > 2)
				for (i = 2; i <= length($0); i++)
					print "-" substr($0, i, 1)
			else
				opt = $0
			next
		}
		/\|/ && opt != "" { print opt " " $0; opt = ""; next }
		{ flush() }
		END { flush() }' | sort -u
}

# usage_items PROG: the options of PROG's usage: what -h prints up to
# its first empty line.
usage_items() {
	"$TOP/bin/$1" -h | sed '/^$/q' | items
}

# man_items PROG: the options of the SYNOPSIS of man/PROG.1, its mdoc
# read as the usage's text.
man_items() {
	sed -n '/^\.Sh SYNOPSIS/,/^\.Sh DESCRIPTION/p' "$TOP/man/$1.1" |
	    sed -e '/^\.Sh/d' -e 's/^\.Op //' -e 's/^\.//' \
		-e 's/Fl Fl /--/g' -e 's/Fl \\-/--/g' -e 's/Fl /-/g' \
		-e 's/ Ns | Ns Cm /|/g' -e 's/Cm //g' -e 's/ | /|/g' \
		-e 's/Ar //g' -e 's/^Nm$//' | items
}

@test "docs: every program in cmd/ has a man page" {
	for c in "$TOP"/cmd/tl-*; do
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

@test "docs: each usage lists the options and values of its man page's SYNOPSIS" {
	local c n
	for c in "$TOP"/cmd/tl-*; do
		n=$(basename "$c" .c)
		diff -u <(usage_items "$n") <(man_items "$n") ||
			{ echo "$n -h (-) and man/$n.1 SYNOPSIS (+) differ"; false; }
	done
}

@test "docs: each usage option is described in its man page (.It Fl)" {
	local c n o
	cd "$BATS_TEST_TMPDIR"
	for c in "$TOP"/cmd/tl-*; do
		n=$(basename "$c" .c)
		# the page with its continued lines joined
		sed -e :a -e '/\\$/N; s/\\\n//; ta' "$TOP/man/$n.1" >page
		for o in $(usage_items "$n" | cut -d' ' -f1); do
			case $o in
			--*) grep -qE -- "^\.It .*Fl (Fl |\\\\-)${o#--}( |$)" page ;;
			*) grep -qE -- "^\.It .*Fl ${o#-}( |$)" page ;;
			esac || { echo "man/$n.1 describes no $o"; false; }
		done
	done
}

@test "docs: tl-init -h lists every norm, and the items of a usage and a page agree" {
	cd "$BATS_TEST_TMPDIR"
	run -0 tl-init -h
	[[ "$output" == *"--norm rmsnorm|layernorm|subln"* ]]
	printf '%s\n' "usage: tl-x [-hjV] [-k topk] [--norm a|b] [--steps N] -m model [file]" |
	    items > got
	printf '%s\n' -V -h -j -k "--norm a|b" --steps -m | sort > want
	diff -u want got
}

@test "docs: every program: -h the usage on stdout, -V the version, bad usage one line naming the reason, status 2" {
	local c n
	for c in "$TOP"/cmd/tl-*; do
		n=$(basename "$c" .c)
		run -0 --separate-stderr "$n" -h
		[[ "$output" == "usage: $n "* ]] && [ -z "$stderr" ]
		run -0 "$n" -V
		[[ "$output" == "$n "[0-9]* ]]
		run -2 "$n" --foo
		[ "$output" = "$n: unknown option --foo" ]
		run -2 "$n" -x -h
		[ "$output" = "$n: unknown option -x" ]
	done
	for n in tl-train tl-gen tl-eval tl-quantize; do
		run -2 "$n" </dev/null
		[ "$output" = "$n: -m is required" ]
	done
	run -2 tl-init
	[ "$output" = "tl-init: -o is required" ]
	run -2 tl-quantize -m x
	[ "$output" = "tl-quantize: -o is required" ]
	run -2 tl-gen -m x extra
	[ "$output" = "tl-gen: unexpected argument 'extra'" ]
	run -2 tl-train -m x --steps
	[ "$output" = "tl-train: option --steps needs an argument" ]
	run -2 tl-quantize -m x -o y -q q3
	[ "$output" = "tl-quantize: -q q3: not f32, tq2, tq1, q8 or q4" ]
}
