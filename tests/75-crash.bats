#!/usr/bin/env bats
# Crash safety: tl-train killed with SIGKILL at random moments, during
# its checkpoint writes too, always leaves a checkpoint that loads and
# resumes (to the very bytes of a run never killed); a full disk is one
# line and leaves the previous checkpoint or output as it was; a closed
# output pipe ends a program quietly.

bats_require_minimum_version 1.5.0

load helper

SMALL="--layers 1 --dim 16 --heads 2 --ffn 32 --ctx 16"
RUN="--steps 30 --batch 2 --warmup 3 --eval-every 10 --eval-tokens 200 --save-every 0"

setup() {
	small_corpus
}

teardown() {
	if [ -n "${MOUNTED:-}" ]; then
		umount "$MOUNTED" 2>/dev/null || umount -l "$MOUNTED" 2>/dev/null || true
	fi
}

# step_of FILE: the step a checkpoint of the byte tokenizer is at: after
# the prefix, the tokenizer and the hyperparameters, 72 bytes in version
# 1, 76 in version 2 and 84 from version 3 (tl-checkpoint(5)).
step_of() {
	local v
	v=$(od -An -tu4 -j 8 -N 4 "$1" | tr -d ' ')
	od -An -tu8 -j $((56 + 8 + (v == 1 ? 72 : v == 2 ? 76 : 84))) -N 8 "$1" | tr -d ' '
}

# small_fs DIR KIB: a file system of KIB KiB at DIR: a tmpfs where
# mounting is allowed (root), else false.
small_fs() {
	mkdir -p "$1"
	command -v mount >/dev/null || return 1
	mount -t tmpfs -o size="$2"k tl-test "$1" 2>/dev/null || return 1
	MOUNTED=$1
}

@test "crash: SIGKILL at random moments, during saves too: the checkpoint always loads and resumes" {
	local shape="--layers 2 --dim 32 --heads 4 --ffn 128 --ctx 32"
	# saves every 20 ms, so that they take much of the time and many
	# kills land in one
	local run="--steps 300 --batch 2 --eval-every 0 --save-every 0.02"
	local kills=0 insave=0 loads=0 resumed=0 done=0 prev=0 st step ms pid
	tl-init -o start.tl $shape
	cp start.tl ref.tl
	cp start.tl m.tl
	# the same run never killed
	tl-train -m ref.tl $run corpus.tok 2>/dev/null
	# finished: m.tl ended by itself; it must equal the run never
	# killed; start again
	finished() {
		cmp m.tl ref.tl
		! ls m.tl.tmp* 2>/dev/null || false
		done=$((done + 1))
		cp start.tl m.tl
		prev=0
	}
	while [ $kills -lt 50 ] || { [ $insave -lt 5 ] && [ $kills -lt 200 ]; }; do
		tl-train -m m.tl $run corpus.tok 2>run.err &
		pid=$!
		ms=$((RANDOM % 400 + 10))
		sleep "$((ms / 1000)).$(printf %03d $((ms % 1000)))"
		kill -KILL $pid 2>/dev/null || true
		st=0
		wait $pid || st=$?
		if [ $st -ne 137 ]; then
			# the run ended before the kill: it must have finished
			[ $st -eq 0 ] || { cat run.err; false; }
			! grep -q "m.tl: resumed model" run.err || resumed=$((resumed + 1))
			finished
			continue
		fi
		kills=$((kills + 1))
		! grep -q "m.tl: resumed model" run.err || resumed=$((resumed + 1))
		# a temporary file left behind: killed while saving
		if ls m.tl.tmp* >/dev/null 2>&1; then
			insave=$((insave + 1))
			rm -f m.tl.tmp*
		fi
		# the checkpoint on disk loads (checksum and all) ...
		tl-tokenize -v m.tl </dev/null >/dev/null
		loads=$((loads + 1))
		# ... and has lost no saved step
		step=$(step_of m.tl)
		[ "$step" -ge "$prev" ]
		prev=$step
	done
	# the last run resumes and finishes
	run tl-train -m m.tl $run corpus.tok
	[ "$status" -eq 0 ]
	[[ "$output" == "m.tl: resumed model"* ]]
	resumed=$((resumed + 1))
	[ "$(step_of m.tl)" -eq 300 ]
	finished
	echo "kills $kills ($insave during a save), the checkpoint loaded after each: $loads; runs that resumed: $resumed; finished runs identical to one never killed: $done" >&3
	[ $kills -ge 50 ]
	[ $insave -ge 1 ]
	[ $loads -eq $kills ]
}

@test "crash: a full disk during a save is one line and leaves the previous checkpoint" {
	local err
	tl-train -m m.tl $SMALL $RUN corpus.tok 2>/dev/null
	# room for one checkpoint (123 KiB) but not for a second beside it
	if small_fs small 200; then
		cp m.tl small/m.tl
		cp m.tl before.tl
		run -1 --separate-stderr tl-train -m small/m.tl --steps 40 corpus.tok
		echo "$stderr"
		# the progress line, then the error
		[ "$(echo "$stderr" | tail -1)" = "tl-train: small/m.tl: write failed: No space left on device" ]
		[ "$(echo "$stderr" | grep -c tl-train:)" -eq 1 ]
		cmp small/m.tl before.tl
		[ "$(ls small)" = m.tl ]
		# periodic saves too
		run -1 --separate-stderr tl-train -m small/m.tl --steps 1000 --save-every 0.01 corpus.tok
		[ "$(echo "$stderr" | tail -1)" = "tl-train: small/m.tl: write failed: No space left on device" ]
		[ "$(echo "$stderr" | grep -c tl-train:)" -eq 1 ]
		cmp small/m.tl before.tl
		[ "$(ls small)" = m.tl ]
		# the atomic outputs of tl-tokenize and tl-init
		head -c 180000 /dev/urandom >big.txt
		run -1 tl-tokenize -o small/x.tok big.txt
		one_line "$output"
		[[ "$output" == "tl-tokenize: small/x.tok: "*"No space left on device" ]]
		[ "$(ls small)" = m.tl ]
		run -1 tl-init -o small/i.tl $SMALL
		one_line "$output"
		[[ "$output" == "tl-init: small/i.tl: write failed: No space left on device" ]]
		[ "$(ls small)" = m.tl ]
	else
		# no mount here: a file size limit fails the writes instead
		# (EFBIG; SIGXFSZ ignored so that write(2) reports it)
		cp m.tl before.tl
		run -1 --separate-stderr sh -c "trap '' XFSZ; ulimit -f 100; exec tl-train -m m.tl --steps 40 corpus.tok"
		echo "$stderr"
		[[ "$(echo "$stderr" | tail -1)" == "tl-train: m.tl: write failed: "* ]]
		[ "$(echo "$stderr" | grep -c tl-train:)" -eq 1 ]
		cmp m.tl before.tl
		[ "$(ls m.tl*)" = m.tl ]
	fi
}

@test "crash: a full stdout is one line and status 1, for every program" {
	local p
	tl-init -o m.tl $SMALL
	for p in "tl-tokenize corpus.txt" "tl-tokenize -d corpus.tok" \
	    "tl-tokenize --ids corpus.txt" "tl-gen -m m.tl -p hello -n 20" \
	    "tl-eval -m m.tl corpus.tok" "tl-eval -j -m m.tl corpus.tok" \
	    "tl-tokenize -h" "tl-tokenize -V" "tl-gen -h" "tl-gen -V" \
	    "tl-eval -h" "tl-eval -V" "tl-train -h" "tl-train -V" \
	    "tl-init -h" "tl-init -V"; do
		run -1 sh -c "$p >/dev/full"
		echo "$p: $output"
		one_line "$output"
		[[ "$output" == *": stdout: write error: No space left on device" ]]
	done
}

@test "crash: a closed output pipe ends a program quietly" {
	local p st
	tl-init -o m.tl $SMALL
	cat corpus.txt corpus.txt corpus.txt corpus.txt >big.txt
	tl-tokenize big.txt >big.tok
	for p in "tl-gen -m m.tl -p hello -n 100000 --slide" \
	    "tl-tokenize big.txt" "tl-tokenize -d big.tok" \
	    "tl-tokenize --ids big.txt" "tl-tokenize -d --ids big.tok"; do
		# SIGPIPE as it comes, and ignored (then EPIPE)
		sh -c "$p 2>err; echo \$? >st" | head -c 10 >/dev/null
		st=$(cat st)
		echo "$p: status $st: $(cat err)"
		[ ! -s err ]
		[ "$st" -eq 0 ] || [ "$st" -eq 141 ]
		sh -c "trap '' PIPE; $p 2>err; echo \$? >st" | head -c 10 >/dev/null
		st=$(cat st)
		echo "$p (SIGPIPE ignored): status $st: $(cat err)"
		[ ! -s err ]
		[ "$st" -eq 0 ] || [ "$st" -eq 141 ]
	done
}

@test "crash: tl-tokenize -o killed midway leaves no output file" {
	local sig pid wpid
	cat corpus.txt corpus.txt corpus.txt corpus.txt >big.txt
	mkfifo in
	for sig in KILL INT TERM; do
		# a pipe that never ends: the signal comes while it writes
		tl-tokenize -o "out-$sig.tok" <in &
		pid=$!
		(while cat big.txt 2>/dev/null; do :; done) >in &
		wpid=$!
		sleep 0.5
		kill -$sig $pid
		wait $pid || true
		wait $wpid || true
		[ ! -e "out-$sig.tok" ]
		# caught signals remove the temporary file too
		[ $sig = KILL ] || [ -z "$(ls "out-$sig.tok".* 2>/dev/null)" ]
	done
}
