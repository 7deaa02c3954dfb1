#!/usr/bin/env bats
# Runs across processes (make MPI=1): K ranks of tl-train make the
# checkpoint one process makes, stop together on a signal, and end
# together when one of them dies.  The ranks run on this machine,
# oversubscribed, and talk over TCP on the loopback interface only.

load helper
bats_require_minimum_version 1.5.0

# tl-train built with MPI=1 from a copy of the sources and of this
# build (its flags, SAN=1 among them, and its objects) in build/mpi:
# bin/ stays as it is, and bin/tl-train is the one process to compare
# with.  make's variables from an outer make check are not passed on.
MPIDIR="$TOP/build/mpi"
MPITRAIN="$MPIDIR/bin/tl-train"

setup_file() {
	command -v mpicc >/dev/null && command -v mpirun >/dev/null || return 0
	[ -z "${TL_EXEC:-}" ] || return 0
	mkdir -p "$MPIDIR/build"
	rm -rf "$MPIDIR/lib" "$MPIDIR/cmd" "$MPIDIR/build/lib" "$MPIDIR/bin"
	cp -pR "$TOP/Makefile" "$TOP/lib" "$TOP/cmd" "$MPIDIR/"
	cp -pR "$TOP/build/lib" "$TOP/build/libcore.a" "$TOP/build/flags" \
	    "$MPIDIR/build/"
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$MPIDIR" MPI=1 \
	    SAN=$(grep -q fsanitize "$TOP/build/flags" && echo 1) \
	    bin/tl-train > "$BATS_FILE_TMPDIR/make.log" 2>&1 ||
		{ cat "$BATS_FILE_TMPDIR/make.log" >&3; return 1; }
}

setup() {
	command -v mpicc >/dev/null && command -v mpirun >/dev/null ||
		skip "no MPI (openmpi-bin, libopenmpi-dev)"
	[ -z "${TL_EXEC:-}" ] || skip "TL_EXEC: the ranks would run natively"
	small_corpus
	# Open MPI refuses root unless told; its leaks at exit are its
	# own (LeakSanitizer, under SAN=1)
	export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
	export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
}

# mpi K ARGS...: tl-train ARGS on K ranks over loopback TCP.
mpi() {
	local k=$1
	shift
	mpirun -np "$k" --oversubscribe --mca btl self,tcp \
	    --mca btl_tcp_if_include lo --mca oob_tcp_if_include lo \
	    "$MPITRAIN" "$@"
}

# A step of 12 passes (batch 6, 1 sequence a pass, accumulation 2).
RUN="-t 1 --layers 2 --dim 32 --heads 2 --ffn 64 --ctx 32 --batch 6 --accum 2 --micro 1 --eval-every 2 --eval-tokens 256 --save-every 0 --exact-sums"

# said_by STATUS MESSAGE COMMAND...: COMMAND fails with STATUS (any
# non-zero status for "nonzero") at every try, and MESSAGE is in its
# output in at least one of three tries: mpirun can end a job before it
# forwards the last lines of a rank that exited at once (seen in CI
# runs; not tl's doing).
said_by() {
	local want=$1 msg=$2 try

	shift 2
	for try in 1 2 3; do
		run "$@"
		echo "$output"
		if [ "$want" = nonzero ]; then
			[ "$status" -ne 0 ]
		else
			[ "$status" -eq "$want" ]
		fi
		[[ "$output" == *"$msg"* ]] && return 0
	done
	return 1
}

@test "mpi: -V names the MPI build; the plain build names none" {
	run -0 "$MPITRAIN" -V
	[[ "$output" == "tl-train "*" (MPI "*")" ]]
	run -0 tl-train -V
	[[ "$output" != *MPI* ]]
}

@test "mpi: 1, 2, 3, 4 and 5 ranks make one process's checkpoint, and resume it" {
	tl-train -m one.tl $RUN --steps 3 corpus.tok 2>one.err
	for k in 1 2 3 4 5; do
		mpi $k -m k$k.tl $RUN --steps 3 --log k$k.log corpus.tok 2>k$k.err
		cmp one.tl k$k.tl
	done
	# rank 0's display and log: one start, one end, each rank's times
	grep -q "k3.tl: 3 ranks share each step's 12 passes" k3.err
	[ "$(grep -c "new model" k3.err)" -eq 1 ]
	[ "$(grep -c '"step":2,' k3.log)" -eq 1 ]
	grep -q '"ranks":\[{"compute":[0-9.]*,"comm":[0-9.]*},{' k3.log
	# a run resumed on other ranks goes on as one process would
	tl-train -m one.tl $RUN --steps 5 corpus.tok 2>/dev/null
	mpi 3 -m k2.tl $RUN --steps 5 corpus.tok 2>/dev/null
	cmp one.tl k2.tl
}

@test "mpi: under --dropout and --teacher, 3 ranks make one process's checkpoint" {
	tl-train -m t.tl ${RUN/--exact-sums/} --quant fp32 --steps 3 corpus.tok 2>/dev/null
	for f in "--dropout 0.2" "--teacher t.tl"; do
		tl-train -m one.tl $RUN --steps 3 $f corpus.tok 2>/dev/null
		mpi 3 -m k.tl $RUN --steps 3 $f corpus.tok 2>/dev/null
		cmp one.tl k.tl
		tl-train -m no.tl $RUN --steps 3 corpus.tok 2>/dev/null
		! cmp -s one.tl no.tl || false
		rm one.tl k.tl no.tl
	done
}

@test "mpi: without --micro, a team's passes split the batch among its ranks" {
	run="${RUN/--micro 1/} --accum 1 --steps 2"
	mpi 3 -m k.tl $run corpus.tok 2>k.err
	grep -q "2 sequences per pass" k.err
	tl-train -m one.tl $run --micro 2 corpus.tok 2>/dev/null
	cmp one.tl k.tl
}

@test "mpi: ranks without --exact-sums, fewer passes than ranks, stdin, or another stream on a rank are refused" {
	said_by 2 "tl-train: 2 ranks: give --exact-sums (and to one process to compare: it then makes the same run)" \
	    mpi 2 -m m.tl ${RUN/--exact-sums/} --steps 1 corpus.tok
	said_by 2 "tl-train: m.tl: 2 ranks need as many passes a step; a step has 1 (batch 6, 6 sequences per pass, accumulation 1)" \
	    mpi 2 -m m.tl ${RUN/--micro 1/--micro 6} --accum 1 --steps 1 corpus.tok
	[ ! -e m.tl ]
	said_by 2 "tl-train: 2 ranks: each reads the stream from a file; name it" \
	    mpi 2 -m m.tl $RUN --steps 1 < corpus.tok
	head -c 20000 corpus.txt | tl-tokenize > other.tok
	said_by 2 "bytes on rank 1, " \
	    mpirun -np 1 --oversubscribe --mca btl self,tcp --mca btl_tcp_if_include lo \
	    --mca oob_tcp_if_include lo "$MPITRAIN" -m m.tl $RUN --steps 1 corpus.tok : \
	    -np 1 "$MPITRAIN" -m m.tl $RUN --steps 1 other.tok
	[[ "$output" == *"tl-train: other.tok: "*" bytes on rank 1, "*" on rank 0: give every rank the same file"* ]]
	[ ! -e m.tl ]
}

@test "mpi: --send-windows: ranks with no copy of the stream train on rank 0's windows, from a file or stdin" {
	tl-train -m one.tl $RUN --steps 3 corpus.tok 2>/dev/null
	mpirun -np 1 --oversubscribe --mca btl self,tcp --mca btl_tcp_if_include lo \
	    --mca oob_tcp_if_include lo "$MPITRAIN" -m k.tl $RUN --steps 3 \
	    --send-windows corpus.tok : -np 2 "$MPITRAIN" -m k.tl $RUN \
	    --steps 3 --send-windows missing.tok 2>/dev/null
	cmp one.tl k.tl
	mpi 3 -m s.tl $RUN --steps 3 --send-windows < corpus.tok 2>/dev/null
	cmp one.tl s.tl
	# without it, a rank with no copy stops the run
	said_by nonzero "tl-train: missing.tok: No such file or directory" \
	    mpirun -np 1 --oversubscribe --mca btl self,tcp --mca btl_tcp_if_include lo \
	    --mca oob_tcp_if_include lo "$MPITRAIN" -m m.tl $RUN --steps 3 \
	    corpus.tok : -np 1 "$MPITRAIN" -m m.tl $RUN --steps 3 missing.tok
	# one process has nobody to send them to
	run tl-train -m m.tl $RUN --steps 3 --send-windows corpus.tok
	[ "$status" -eq 2 ]
	[ "$output" = "tl-train: --send-windows: this tl-train runs alone; runs across machines need a build with MPI (make MPI=1)" ]
	[ ! -e m.tl ]
}

# A run of 1000 steps (about 2.5 s here on 2 ranks), stopped early.
LONG="$RUN --eval-every 0 --steps 1000"

# start_run K MODEL: LONG on K ranks in the background (pid in $pid),
# once its first checkpoint is on disk.
start_run() {
	mpi $1 -m $2 $LONG --save-every 0.2 corpus.tok 2>$2.err &
	pid=$!
	wait_nonempty $2
}

# rank_pids MODEL: the ranks' process ids, rank 0's first.
rank_pids() {
	pgrep -f "^$MPITRAIN -m $1 " | sort -n
}

# resumes MODEL [FLAGS]: MODEL, stopped before its end, resumed alone
# is the run never stopped (of FLAGS, by default LONG).
resumes() {
	local run=${2:-$LONG}
	run tl-train -m $1 $run corpus.tok
	[[ "$output" == *"resumed model"* ]]
	tl-train -m whole.tl $run corpus.tok 2>/dev/null
	cmp whole.tl $1
}

@test "mpi: SIGTERM to a rank stops all after the same step; rank 0 saves; status 0" {
	start_run 2 s.tl
	kill -TERM $(rank_pids s.tl | tail -1)
	wait $pid
	grep -q "interrupted, saved" s.tl.err
	# stopped before its end
	[ "$(sed -n 's/.*: step \([0-9]*\), .*/\1/p' s.tl.err)" -lt 1000 ]
	resumes s.tl
}

# Open MPI's mpirun passes a SIGTERM of its own on to the ranks as a
# SIGTERM, odls_base_sigkill_timeout seconds later, and a SIGKILL as
# long after that; it exits non-zero itself (tl-train(1)).  A run long
# enough to outlast the delay.
@test "mpi: SIGTERM to mpirun reaches the ranks, which stop after the same step and save" {
	local run="${LONG/--steps 1000/--steps 2000}"
	mpirun -np 2 --oversubscribe --mca btl self,tcp --mca btl_tcp_if_include lo \
	    --mca oob_tcp_if_include lo --mca odls_base_sigkill_timeout 2 \
	    "$MPITRAIN" -m t.tl $run --save-every 0.2 corpus.tok 2>t.tl.err &
	pid=$!
	wait_nonempty t.tl
	kill -TERM $pid
	wait $pid || true
	cat t.tl.err
	grep -q "interrupted, saved" t.tl.err
	[ "$(sed -n 's/.*: step \([0-9]*\), .*/\1/p' t.tl.err)" -lt 2000 ]
	resumes t.tl "$run"
}

# tl-mpirun turns a SIGINT or SIGTERM into the SIGUSR2 mpirun passes
# on, so that the run ends as tl-train alone does: saved, status 0.
# launched SIGNAL TARGET MODEL: LONG on 2 ranks through tl-mpirun, sent
# SIGNAL (to tl-mpirun, or to its process group as a Ctrl-C at a
# terminal is) once the first checkpoint is on disk; the run stops
# before its end, saved, with status 0, and resumes to the bytes of a
# run never stopped.
launched() {
	local rc=0
	set -m	# tl-mpirun in a process group of its own, as at a terminal
	tl-mpirun mpirun -np 2 --oversubscribe --mca btl self,tcp \
	    --mca btl_tcp_if_include lo --mca oob_tcp_if_include lo \
	    "$MPITRAIN" -m $3 $LONG --save-every 0.2 corpus.tok 2>$3.err &
	pid=$!
	set +m
	wait_nonempty $3
	if [ "$2" = group ]; then
		kill -$1 -- -$pid
	else
		kill -$1 $pid
	fi
	wait $pid || rc=$?
	cat $3.err
	[ $rc -eq 0 ]
	grep -q "interrupted, saved" $3.err
	[ "$(sed -n 's/.*: step \([0-9]*\), .*/\1/p' $3.err)" -lt 1000 ]
	resumes $3
}

@test "mpi: SIGTERM to tl-mpirun: the ranks stop after the same step, rank 0 saves, status 0" {
	launched TERM launcher l.tl
}

@test "mpi: SIGINT to tl-mpirun's process group (a Ctrl-C): saved, status 0" {
	launched INT group g.tl
}

@test "mpi: a rank killed (SIGKILL) ends the others within 30 s, non-zero; the checkpoint resumes" {
	local t0 rc
	start_run 3 k.tl
	t0=$(date +%s)
	kill -KILL $(rank_pids k.tl | sed -n 2p)
	rc=0
	wait $pid || rc=$?
	[ $rc -ne 0 ]
	[ $(($(date +%s) - t0)) -lt 30 ]
	[ -z "$(rank_pids k.tl)" ]
	resumes k.tl
}
