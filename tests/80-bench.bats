#!/usr/bin/env bats
# tl-bench: the table and the JSON are well formed, every path the CPU
# supports is measured, TL_SIMD and -p choose paths, bad flags are one
# line and status 2.  Tiny shapes and one short repetition: no figure
# is checked, only that it is there.

load helper

TINY="--layers 1 --dim 16 --heads 2 --ffn 32 --ctx 8 --batch 2 -r 1 --time 0"

# The paths this CPU supports, as test_kernels -p reports them.
supported() {
	for p in scalar sse sse2 ssse3 sse41 avx2; do
		TL_SIMD=$p "$UNIT/test_kernels" -p >/dev/null 2>&1 && echo "$p"
	done
}

# json_ok FILE: FILE is one JSON object with the expected members.
json_ok() {
	if command -v jq >/dev/null; then
		jq -e '(.version | type == "string") and (.threads >= 1) and
		    (.peak | type == "array") and (.results | length > 0) and
		    all(.results[]; (.name | type == "string") and
		        (.median | type == "number") and (.min <= .median) and
		        (.median <= .max) and (.unit | type == "string"))' \
		    "$1" >/dev/null
	elif command -v python3 >/dev/null; then
		python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert isinstance(d["version"], str) and d["threads"] >= 1
assert isinstance(d["peak"], list) and d["results"]
for r in d["results"]:
    assert r["min"] <= r["median"] <= r["max"], r
' "$1"
	else
		skip "neither jq nor python3 to parse JSON"
	fi
}

# paths_in FILE: the distinct paths of the results, one per line.
paths_in() {
	grep -o '"path":"[a-z0-9]*"' "$1" | sed 's/.*:"\(.*\)"/\1/' | sort -u
}

setup() {
	cd "$BATS_TEST_TMPDIR"
}

@test "bench: -h prints the usage on stdout, -V the version" {
	run tl-bench -h
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "usage: tl-bench "* ]]
	run tl-bench -V
	[ "$status" -eq 0 ]
	[[ "$output" == "tl-bench "[0-9]* ]]
}

@test "bench: the table lists peaks, kernels and end-to-end rates for every supported path" {
	TL_SIMD= tl-bench $TINY -t 2 > out.txt
	grep -q '^tl-bench .*load average' out.txt
	grep -q '^peak ' out.txt
	grep -q '^mulss+addss ' out.txt
	grep -q '^kernel ' out.txt
	grep -q '^end to end ' out.txt
	for p in $(supported); do
		for k in "sgemm x.W^T" "sgemm dY.W" "sgemm dY^T.X" "tgemm x.W^T" \
		    "attention fwd" "attention bwd" "model forward" softmax dot \
		    axpy absmax abssum quant quant_i8 adamw "tq2 matvec" \
		    "tq1 matvec" "q8 matvec" "q4 matvec" gemv_t train generate \
		    "generate tq2"; do
			grep -qE "^$(printf '%s' "$k" | sed 's/[.^]/\\&/g') +$p " out.txt ||
				{ echo "no $k on $p"; false; }
		done
	done
	# every kernel line ends in its rates, unit, %peak and speedup
	awk '/^kernel /,/^$/' out.txt | grep -v '^kernel ' | grep -v '^$' |
	    awk '{ if ($(NF-2) !~ /^GF?L?OP\/s$/ || $(NF-1) !~ /^[0-9.]+$/ ||
	        $NF !~ /^[0-9.]+x$/) bad++ } END { exit bad > 0 }'
}

@test "bench: -j prints one JSON object with every supported path" {
	TL_SIMD= tl-bench $TINY -j > out.json
	[ "$(wc -l < out.json)" -eq 1 ]
	json_ok out.json
	supported | sort > want
	paths_in out.json > got
	diff -u want got
	grep -q '"name":"train"' out.json
	grep -q '"name":"generate"' out.json
	grep -q '"unit":"tokens/s"' out.json
	grep -q '"speedup":' out.json
	grep -q '"peak_pct":' out.json
}

@test "bench: TL_SIMD and -p choose the paths" {
	TL_SIMD=scalar tl-bench $TINY -j > s.json
	json_ok s.json
	[ "$(paths_in s.json)" = scalar ]
	grep -q '"default_path":"scalar"' s.json
	last=$(supported | tail -n 1)
	tl-bench $TINY -j -p "scalar,$last" --kernels-only -k dot > p.json
	json_ok p.json
	[ "$(paths_in p.json | tr '\n' ' ')" = "$(printf '%s\n' scalar "$last" | sort -u | tr '\n' ' ')" ]
	TL_SIMD=altivec run tl-bench $TINY
	[ "$status" -eq 2 ]
	[[ "$output" == *"TL_SIMD=altivec: unknown path"* ]]
	one_line "$output"
}

@test "bench: --kernels-only, --e2e-only and -k" {
	tl-bench $TINY -j -p scalar --kernels-only > k.json
	json_ok k.json
	! grep -q '"unit":"tokens/s"' k.json || false
	tl-bench $TINY -j -p scalar --e2e-only > e.json
	json_ok e.json
	[ "$(grep -o '"name":"[^"]*"' e.json | sort -u | wc -l)" -eq 3 ]
	for n in train generate "generate tq2"; do
		grep -q "\"name\":\"$n\"" e.json
	done
	# generation against the bandwidth bound; kernels alone measure none
	grep -q '"read_bandwidth":\[{"threads":1,"unit":"GB/s","min":[0-9.e+]*,' e.json
	[ "$(grep -o '"name":"generate[^}]*"bytes_per_token":[0-9]*,"bound_pct":[0-9.]*[,}]' e.json | wc -l)" -eq 2 ]
	! grep -q read_bandwidth k.json || false
	tl-bench $TINY -j -p scalar --kernels-only -k sgemm > g.json
	[ "$(grep -o '"name":"[^"]*"' g.json | sort -u | wc -l)" -eq 3 ]
}

@test "bench: -m takes the shape from a model" {
	tl-init -o m.tl --layers 1 --dim 16 --heads 2 --ffn 24 --ctx 8 2>/dev/null
	tl-bench -m m.tl -r 1 --time 0 -p scalar --e2e-only -j > m.json
	json_ok m.json
	grep -q '"model":"ternary, 1 layers, width 16, 2 heads, FFN 24' m.json
	run tl-bench -m m.tl --dim 32 -r 1
	[ "$status" -eq 2 ]
	one_line "$output"
	run tl-bench -m missing.tl -r 1
	[ "$status" -eq 2 ]
	one_line "$output"
}

@test "bench: bad flags are one line and status 2" {
	for args in "--bogus" "-x" "-r" "-r 0" "-r 65" "-t 0" "--time -1" \
	    "--dim 0" "--quant sixbit" "-p altivec" "-p ," "-k nosuchkernel" \
	    "--e2e-only --kernels-only" "--heads 3"; do
		run tl-bench $args
		[ "$status" -eq 2 ] || { echo "$args: status $status"; false; }
		one_line "$output" || { echo "$args: $output"; false; }
		[[ "$output" == "tl-bench: "* ]]
	done
}
