#!/usr/bin/env bash
# scripts/fuzz.sh: run each libFuzzer harness of tests/fuzz for a given
# time and report, per harness, the executions run and the crashes
# found, with the command that ran it.
#
#   scripts/fuzz.sh [-j jobs] [-t seconds] [harness ...]
#
# -t: seconds per harness (default 60); -j: harnesses run at once
# (default 1); harnesses: names such as stream or fuzz_stream (default:
# every tests/fuzz/fuzz_*.c).  Builds them first (make fuzz, clang with
# libFuzzer, ASan and UBSan).
#
# Each harness starts from a corpus of seeds: the real small files of
# tests/data that it reads (see seeds() below; packed models are also
# made from its checkpoints with bin/tl-quantize when it is built) and
# every regression input tests/data/crash-NAME-* found by earlier runs.  The corpus grows
# in build/fuzz/corpus/NAME (kept between runs).  A crash, leak,
# sanitizer report, hang over 10 s or allocation over 2 GiB stops that
# harness and leaves its input in build/fuzz/crash/NAME/; turn it into
# a regression test by copying it to tests/data/crash-NAME-WHAT (the
# bats tests replay those) and fixing the bug.
#
# The last line is "N passed, N failed", counting harnesses; the status
# is 1 if any harness found a crash or could not run.
set -u
. "$(dirname "$0")/common.sh"
cd "$top" || exit 1

secs=60
jobs=1
opts "scripts/fuzz.sh [-j jobs] [-t seconds] [harness ...]" - j=jobs t=secs -- "$@"
shift $((OPTIND - 1))

if [ $# -eq 0 ]; then
	set -- $(ls tests/fuzz/fuzz_*.c | sed 's,.*/fuzz_,,; s,\.c$,,')
fi
names=""
for h in "$@"; do
	h=${h#fuzz_}
	[ -f "tests/fuzz/fuzz_$h.c" ] || { echo "fuzz: no harness tests/fuzz/fuzz_$h.c" >&2; exit 2; }
	names="$names $h"
done

make -s fuzz >/dev/null || { echo "fuzz: make fuzz failed" >&2; exit 1; }

# seeds NAME: the files of tests/data that harness NAME reads.
seeds() {
	local d=tests/data
	case $1 in
	stream) ls $d/*.tok ;;
	sfile) ls $d/*.tok ;;
	vocab) ls $d/*.tlv $d/*.tok $d/*.tl ;;
	ckpt) ls $d/*.tl ;;
	encode) ls $d/*.tlv $d/*.tok ;;
	text) ls $d/*.txt $d/*.bin ;;
	prompt) ls $d/*.txt $d/*.bin ;;
	pack) ls $d/*.tlq ;;
	jsonl) ls $d/*.jsonl ;;
	csv) ls $d/*.csv $d/*.txt ;;
	esac
	ls $d/crash-"$1"-* 2>/dev/null
}

# opts NAME: libFuzzer flags of harness NAME: those that run a model
# or learn a vocabulary per input get shorter inputs, to run more.
opts() {
	case $1 in
	prompt) echo -max_len=512 ;;
	text) echo -max_len=4096 ;;
	esac
}

# run NAME: fuzz one harness; its report goes to build/fuzz/NAME.report
run() {
	local h=$1 corpus=build/fuzz/corpus/$1 crash=build/fuzz/crash/$1/
	local log=build/fuzz/$1.log cmd runs s crashes st
	mkdir -p "$corpus" "$crash"
	for f in $(seeds "$h"); do
		cp "$f" "$corpus/seed-$(basename "$f")"
	done
	# packed models in every format, of the checkpoints in tests/data
	if [ "$h" = pack ] && [ -x bin/tl-quantize ]; then
		for f in tests/data/*.tl; do
			for q in tq2 tq1 q8 q4 f32; do
				bin/tl-quantize -q $q -m "$f" \
				    -o "$corpus/seed-$(basename "$f" .tl)-$q.tlq" ||
				    echo "fuzz: cannot quantize $f to $q" >&2
			done
		done
	fi
	cmd="build/fuzz/fuzz_$h $(opts "$h") -max_total_time=$secs -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=2048 -print_final_stats=1 -artifact_prefix=$crash $corpus"
	$cmd >"$log" 2>&1
	st=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	s=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
	crashes=$(grep -cE '^(==[0-9]+==ERROR|SUMMARY: |.*fuzz check failed)' "$log")
	[ "$st" -ne 0 ] && [ "$crashes" -eq 0 ] && crashes=1
	{
		echo "fuzz_$h: ${runs:-0} executions in ${s:-?} s, $crashes crash(es), corpus $(ls "$corpus" | wc -l) inputs"
		echo "  command: $cmd"
		if [ "$st" -ne 0 ]; then
			grep -E '^(==[0-9]+==ERROR|SUMMARY|.*fuzz check failed|artifact_prefix|Test unit written)' "$log" | head -5 | sed 's/^/  /'
		fi
	} >"build/fuzz/$h.report"
	return "$st"
}

pids=""
for h in $names; do
	run "$h" &
	pids="$pids $!"
	while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do
		sleep 1
	done
done
wait

pass=0
fail=0
for h in $names; do
	cat "build/fuzz/$h.report"
	if grep -q ' 0 crash(es)' "build/fuzz/$h.report"; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
	fi
done
echo "fuzz: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
