#!/usr/bin/env bats
# tl-init and tl-train as a user runs them: pipelines, reproducibility,
# resuming, and bad input.

load helper

SHAPE="--layers 1 --dim 16 --heads 2 --ffn 32 --ctx 16"
SHAPE2="--layers 2 --dim 16 --heads 2 --ffn 32 --ctx 16"
RUN="--steps 30 --batch 2 --warmup 3 --eval-every 10 --eval-tokens 200 --save-every 0"

setup() {
	small_corpus
}

@test "train: tokenize | train creates a model that learns" {
	run sh -c "tl-tokenize < corpus.txt | tl-train -m m.tl $SHAPE $RUN --lr 0.01 --log m.log"
	echo "$output"
	[ "$status" -eq 0 ]
	[ -s m.tl ]
	[[ "$output" == *"new model, 10288 parameters"* ]]
	# the loss falls from about ln(256) = 5.5
	last=$(tail -n 1 m.log)
	[[ "$last" == *'"step":30,'* ]]
	loss=$(echo "$last" | sed 's/.*"loss":\([0-9.]*\).*/\1/')
	awk -v l="$loss" 'BEGIN { exit !(l < 4.0) }'
	for k in step tokens loss val lr gnorm tok_s elapsed rss_mib; do
		grep -q "\"$k\":" m.log
	done
}

@test "train: stream as a file argument equals stdin" {
	tl-train -m a.tl $SHAPE $RUN corpus.tok 2>/dev/null
	tl-train -m b.tl $SHAPE $RUN < corpus.tok 2>/dev/null
	cmp a.tl b.tl
}

@test "train: same seed gives the same checkpoint, another seed does not" {
	tl-train -m a.tl $SHAPE $RUN --seed 7 < corpus.tok 2>/dev/null
	tl-train -m b.tl $SHAPE $RUN --seed 7 < corpus.tok 2>/dev/null
	tl-train -m c.tl $SHAPE $RUN --seed 8 < corpus.tok 2>/dev/null
	cmp a.tl b.tl
	! cmp -s a.tl c.tl || false
}

@test "train: -t 1 and -t 2 give byte-identical checkpoints" {
	for q in ternary fp32; do
		for mem in "" "--micro 1 --recompute"; do
			tl-train -t 1 -m a.tl $SHAPE2 $RUN --quant $q $mem < corpus.tok 2>/dev/null
			tl-train -t 2 -m b.tl $SHAPE2 $RUN --quant $q $mem < corpus.tok 2>/dev/null
			cmp a.tl b.tl
			rm a.tl b.tl
		done
	done
}

@test "train: on the sse path (MMX tiles of 4 x 2) too, -t 1 and -t 3 give byte-identical checkpoints" {
	TL_SIMD=sse "$UNIT/test_kernels" -p > /dev/null 2>&1 || skip "no SSE"
	TL_SIMD=sse tl-train -t 1 -m a.tl $SHAPE2 $RUN < corpus.tok 2>/dev/null
	TL_SIMD=sse tl-train -t 3 -m b.tl $SHAPE2 $RUN < corpus.tok 2>/dev/null
	cmp a.tl b.tl
}

@test "train: --recompute gives the same checkpoint, --micro the same training up to rounding" {
	for q in ternary fp32; do
		tl-train -m a.tl $SHAPE2 $RUN --quant $q --log a.log < corpus.tok 2>/dev/null
		tl-train -m b.tl $SHAPE2 $RUN --quant $q --recompute < corpus.tok 2>b.err
		grep -q "2 sequences per pass, recomputing;" b.err
		cmp a.tl b.tl
		tl-train -m c.tl $SHAPE2 $RUN --quant $q --micro 1 --log c.log < corpus.tok 2>c.err
		grep -q "1 sequence per pass;" c.err
		# every logged loss, validation loss and gradient norm within
		# 1e-3 (relative)
		paste -d' ' a.log c.log | tr -d '{}"' | tr ',' ' ' | awk '
		    { n = 0; for (i = 1; i <= NF; i++) if ($i ~ /^(loss|val|gnorm):[0-9]/) v[++n] = substr($i, index($i, ":") + 1)
		      if (n != 6 && n != 4) exit 1
		      for (i = 1; i <= n / 2; i++) { d = (v[i] - v[i + n / 2]) / v[i]; if (d > 1e-3 || d < -1e-3) exit 1 }
		      k++ }
		    END { exit k < 3 }'
		rm a.tl b.tl c.tl a.log c.log
	done
}

@test "train: a run interrupted by SIGINT and resumed equals one never stopped" {
	tl-train -m t.tl $SHAPE $RUN --quant fp32 < corpus.tok 2>/dev/null
	for mem in "" "--micro 1 --recompute" "--dropout 0.2" "--teacher t.tl --distill 0.3"; do
		run="$SHAPE2 --steps 4000 --batch 2 --eval-every 50 --eval-tokens 200 --save-every 0 $mem"
		tl-train -m a.tl $run < corpus.tok 2>/dev/null
		tl-train -m b.tl $run --log b.log < corpus.tok 2>b.err &
		pid=$!
		# interrupt once it is under way (and before it ends)
		wait_nonempty b.log
		kill -INT $pid
		wait $pid
		cat b.err
		grep -q "interrupted, saved" b.err
		! cmp -s a.tl b.tl || false
		tl-train -m b.tl $run < corpus.tok 2>/dev/null
		cmp a.tl b.tl
		rm a.tl b.tl b.log
	done
}

@test "train: --dropout: the same bytes for any thread count and with --recompute; kept by the model; it changes training" {
	for q in ternary fp32; do
		tl-train -t 1 -m a.tl $SHAPE2 $RUN --quant $q --dropout 0.2 < corpus.tok 2>/dev/null
		tl-train -t 2 -m b.tl $SHAPE2 $RUN --quant $q --dropout 0.2 < corpus.tok 2>/dev/null
		tl-train -t 3 -m c.tl $SHAPE2 $RUN --quant $q --dropout 0.2 --recompute < corpus.tok 2>/dev/null
		tl-train -t 2 -m d.tl $SHAPE2 $RUN --quant $q < corpus.tok 2>/dev/null
		cmp a.tl b.tl
		cmp a.tl c.tl
		! cmp -s a.tl d.tl || false
		rm a.tl b.tl c.tl d.tl
	done
	# the rate is stored: resuming without the flag goes on with it
	tl-train -m m.tl $SHAPE $RUN --steps 10 --dropout 0.3 corpus.tok 2>/dev/null
	cp m.tl n.tl
	cp m.tl o.tl
	tl-train -m m.tl --steps 20 corpus.tok 2>/dev/null
	tl-train -m n.tl --steps 20 --dropout 0.3 corpus.tok 2>/dev/null
	tl-train -m o.tl --steps 20 --dropout 0 corpus.tok 2>/dev/null
	cmp m.tl n.tl
	! cmp -s m.tl o.tl || false
	run tl-train -m m.tl --dropout 1 corpus.tok
	[ "$status" -eq 2 ]
	[[ "$output" == "tl-train: --dropout"* ]]
}

@test "train: --teacher: the same bytes for any thread count; the weight is kept; bad teachers are refused" {
	tl-train -m t.tl $SHAPE $RUN --quant fp32 < corpus.tok 2>/dev/null
	for q in ternary fp32; do
		tl-train -t 1 -m a.tl $SHAPE2 $RUN --quant $q --teacher t.tl < corpus.tok 2>a.err
		tl-train -t 2 -m b.tl $SHAPE2 $RUN --quant $q --teacher t.tl --distill 0.5 < corpus.tok 2>/dev/null
		tl-train -t 2 -m c.tl $SHAPE2 $RUN --quant $q --teacher t.tl --distill 0.8 < corpus.tok 2>/dev/null
		tl-train -t 2 -m d.tl $SHAPE2 $RUN --quant $q < corpus.tok 2>/dev/null
		grep -q "a.tl: learning from t.tl (10288 parameters) at weight 0.5" a.err
		cmp a.tl b.tl
		! cmp -s a.tl c.tl || false
		! cmp -s a.tl d.tl || false
		rm a.tl b.tl c.tl d.tl
	done
	# the weight is kept: resuming needs the teacher again (resumed
	# after a SIGINT: the test above)
	tl-train -m a.tl $SHAPE $RUN --steps 10 --teacher t.tl --distill 0.3 < corpus.tok 2>/dev/null
	cp a.tl b.tl
	run tl-train -m a.tl --steps 20 < corpus.tok
	[ "$status" -eq 2 ]
	[ "$output" = "tl-train: a.tl learns from a teacher (--distill 0.3): name it with --teacher, or give --distill 0" ]
	tl-train -m a.tl --steps 20 --teacher t.tl < corpus.tok 2>/dev/null
	tl-train -m b.tl --steps 20 --teacher t.tl --distill 0.3 < corpus.tok 2>/dev/null
	cmp a.tl b.tl
	# refused: no teacher, a weight of 0, a shorter context, another
	# tokenizer, a damaged teacher; no model is left behind
	run tl-train -m n.tl $SHAPE $RUN --distill 0.5 < corpus.tok
	[ "$status" -eq 2 ]
	[ "$output" = "tl-train: --distill 0.5: name the teacher (--teacher)" ]
	run tl-train -m n.tl $SHAPE $RUN --teacher t.tl --distill 0 < corpus.tok
	[ "$status" -eq 2 ]
	[ "$output" = "tl-train: --teacher t.tl with --distill 0: the teacher would not count" ]
	run tl-train -m n.tl ${SHAPE/--ctx 16/--ctx 32} $RUN --teacher t.tl < corpus.tok
	[ "$status" -eq 2 ]
	[ "$output" = "tl-train: t.tl: the teacher's context (16) is shorter than the model's (32)" ]
	tl-tokenize --train-bpe 300 -o v.bpe < corpus.txt
	tl-tokenize -v v.bpe < corpus.txt > bpe.tok
	run tl-train -m n.tl $SHAPE $RUN --teacher t.tl < bpe.tok
	[ "$status" -eq 2 ]
	[ "$output" = "tl-train: t.tl: tokenizer differs from n.tl's" ]
	head -c 1000 t.tl > bad.tl
	run tl-train -m n.tl $SHAPE $RUN --teacher bad.tl < corpus.tok
	[ "$status" -eq 2 ]
	[[ "$output" == "tl-train: bad.tl: truncated checkpoint"* ]]
	[ ! -e n.tl ]
}

@test "train: resuming keeps training to the total --steps" {
	tl-train -m a.tl $SHAPE $RUN < corpus.tok 2>/dev/null
	cp a.tl b.tl
	run tl-train -m b.tl $RUN < corpus.tok
	[ "$status" -eq 0 ]
	cmp a.tl b.tl	# already at its budget: nothing more to do
	run tl-train -m b.tl --steps 40 < corpus.tok
	[ "$status" -eq 0 ]
	[[ "$output" == *"step 40,"* ]]
}

@test "train: shape flags cannot change an existing model" {
	tl-train -m a.tl $SHAPE $RUN < corpus.tok 2>/dev/null
	run tl-train -m a.tl --dim 32 $RUN < corpus.tok
	[ "$status" -eq 2 ]
	one_line "$output"
	[[ "$output" == "tl-train: --dim 32: a.tl has another shape"* ]]
	run tl-train -m a.tl --seed 99 $RUN < corpus.tok
	[ "$status" -eq 2 ]
}

@test "train: bad input is one line, status 2, and no model file" {
	run sh -c "echo hello | tl-train -m m.tl $RUN"
	[ "$status" -eq 2 ]
	one_line "$output"
	[[ "$output" == "tl-train: stdin: "* ]]
	[ ! -e m.tl ]
	head -c 100 corpus.tok > trunc.tok
	run tl-train -m m.tl $RUN trunc.tok
	[ "$status" -eq 2 ]
	one_line "$output"
	[[ "$output" == *"trunc.tok"*"truncated"* ]]
	[ ! -e m.tl ]
	run tl-train -m m.tl $RUN missing.tok
	[ "$status" -eq 1 ]
	one_line "$output"
	[ ! -e m.tl ]
	for bad in "--steps abc" "--lr -1" "--bogus" "--dim 7 --heads 2" "--quant int3" \
	    "--micro 0" "--micro 3" "--micro 32" "--recompute=1"; do
		run tl-train -m m.tl $bad < corpus.tok
		echo "$bad: $output"
		[ "$status" -eq 2 ]
		one_line "$output"
		[ ! -e m.tl ]
	done
	run tl-train < corpus.tok
	[ "$status" -eq 2 ]
}

@test "train: a damaged model is refused and left as it was" {
	tl-train -m m.tl $SHAPE $RUN < corpus.tok 2>/dev/null
	cp m.tl orig.tl
	size=$(wc -c < m.tl)
	# one flipped byte in the middle
	printf '\377' | dd of=m.tl bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
	cp m.tl flipped.tl
	run tl-train -m m.tl --steps 40 < corpus.tok
	[ "$status" -eq 2 ]
	one_line "$output"
	[[ "$output" == "tl-train: m.tl: checksum mismatch"* ]]
	cmp m.tl flipped.tl
	head -c $((size - 10)) orig.tl > m.tl
	run tl-train -m m.tl --steps 40 < corpus.tok
	[ "$status" -eq 2 ]
	[[ "$output" == *"truncated"* ]]
	echo "not a model" > m.tl
	run tl-train -m m.tl --steps 40 < corpus.tok
	[ "$status" -eq 2 ]
	[[ "$output" == "tl-train: m.tl: bad magic (not a tl checkpoint)" ]]
}

@test "train: a stream made with another tokenizer is refused" {
	tl-tokenize --train-bpe 300 -o v.bpe < corpus.txt
	tl-tokenize -v v.bpe < corpus.txt > bpe.tok
	tl-train -m m.tl $SHAPE $RUN < corpus.tok 2>/dev/null
	cp m.tl orig.tl
	run tl-train -m m.tl --steps 40 < bpe.tok
	[ "$status" -eq 2 ]
	one_line "$output"
	[[ "$output" == "tl-train: stdin: tokenizer differs from m.tl's" ]]
	cmp m.tl orig.tl
}

@test "init: writes the configured model; tl-train resumes it" {
	run tl-init -o i.tl $SHAPE --quant fp32 --norm layernorm --pos sinusoidal --act swiglu --seed 3
	[ "$status" -eq 0 ]
	[ "$(head -c 7 i.tl)" = "tl-ckpt" ]
	run tl-train -m i.tl $RUN < corpus.tok
	[ "$status" -eq 0 ]
	# swiglu doubles w1; layernorm adds biases
	[[ "$output" == *"resumed model, 10848 parameters"* ]]
	tl-init -o j.tl $SHAPE --seed 3
	tl-init -o k.tl $SHAPE --seed 3
	cmp j.tl k.tl
}

@test "init: bad flags are refused with one line and no file" {
	for bad in "--dim 0" "--heads 3" "--layers 1000" "--pos xyz" "--ctx 99999" "--seed -1" "-x" "--dim"; do
		run tl-init -o i.tl $bad
		echo "$bad: $output"
		[ "$status" -eq 2 ]
		one_line "$output"
		[ ! -e i.tl ]
	done
	run tl-init
	[ "$status" -eq 2 ]
	run tl-init -o /nonexistent/dir/i.tl
	[ "$status" -eq 1 ]
	one_line "$output"
}

@test "train: --exact-sums: the same bytes for any thread count; a step of one pass is unchanged, of several not" {
	tl-train -m a.tl $SHAPE $RUN -t 1 --micro 1 --exact-sums corpus.tok 2>/dev/null
	tl-train -m b.tl $SHAPE $RUN -t 2 --micro 1 --exact-sums corpus.tok 2>/dev/null
	cmp a.tl b.tl
	tl-train -m c.tl $SHAPE $RUN -t 2 --micro 1 corpus.tok 2>/dev/null
	! cmp -s a.tl c.tl || false
	tl-train -m d.tl $SHAPE $RUN --exact-sums corpus.tok 2>/dev/null
	tl-train -m e.tl $SHAPE $RUN corpus.tok 2>/dev/null
	cmp d.tl e.tl
}

@test "train: SIGTERM and SIGUSR2 also save and exit 0; the saved model loads and resumes" {
	local sig
	run="$SHAPE --steps 4000 --batch 2 --eval-every 0 --save-every 0"
	for sig in TERM USR2; do
		rm -f b.tl b.log
		tl-train -m b.tl $run --log b.log < corpus.tok 2>b.err &
		pid=$!
		wait_nonempty b.log
		kill -$sig $pid
		wait $pid
		grep -q "interrupted, saved" b.err
		run tl-train -m b.tl $run < corpus.tok
		[ "$status" -eq 0 ]
		[[ "$output" == *"resumed model"*"step 4000,"* ]]
	done
}

@test "init: -v takes the vocabulary of a vocabulary file, stream or model" {
	tl-tokenize --train-bpe 270 -o v.bpe < corpus.txt
	tl-init -o a.tl $SHAPE -v v.bpe
	tl-tokenize -v v.bpe < corpus.txt > bpe.tok
	tl-init -o b.tl $SHAPE -v bpe.tok
	tl-init -o c.tl $SHAPE -v a.tl
	cmp a.tl b.tl
	cmp a.tl c.tl
	run tl-train -m a.tl $RUN bpe.tok
	[ "$status" -eq 0 ]
	run tl-init -o d.tl -v missing.bpe
	[ "$status" -ne 0 ]
	one_line "$output"
	echo "not a vocabulary" > bad.bpe
	run tl-init -o d.tl -v bad.bpe
	[ "$status" -eq 2 ]
	one_line "$output"
	[ ! -e d.tl ]
}

@test "train: --sched two-stage is kept by the model; version 1 and 2 checkpoints resume as version 3" {
	tl-train -m m.tl $SHAPE $RUN --steps 10 --sched two-stage corpus.tok 2>/dev/null
	# the schedule is stored: resuming without the flag goes on with it,
	# and equals a run that named it again
	cp m.tl n.tl
	tl-train -m m.tl --steps 20 --log m.log --log-every 1 corpus.tok 2>/dev/null
	tl-train -m n.tl --steps 20 --sched two-stage corpus.tok 2>/dev/null
	cmp m.tl n.tl
	# after mid-training the rate is a quarter of the peak and falling
	lr=$(sed -n 's/.*"step":15,.*"lr":\([0-9.e-]*\).*/\1/p' m.log)
	awk -v l="$lr" 'BEGIN { exit !(l < 0.003 * 0.25 && l > 0.003 * 0.1) }'
	run tl-train -m m.tl --sched linear corpus.tok
	[ "$status" -eq 2 ]
	[ "$output" = "tl-train: --sched linear: not cosine or two-stage" ]
	# version 1 (no schedule field) loads as cosine, version 2 (no
	# dropout field) without dropout, and both are saved as 3
	tl-tokenize < corpus.txt > c.tok
	for v in 1 2; do
		cp "$DATA/v$v-tiny.tl" old.tl
		od -A n -t u4 -j 8 -N 4 old.tl | grep -qw $v
		tl-train -m old.tl --steps 2000000 --time 1 c.tok 2>/dev/null
		od -A n -t u4 -j 8 -N 4 old.tl | grep -qw 3
	done
}

# started: run tl-train with $@ in the background, stderr to t.err, and
# interrupt it once it reports its shape; its status in $st
started() {
	tl-train "$@" < corpus.tok 2> t.err &
	pid=$!
	for i in $(seq 1 400); do
		grep -q "new model" t.err && break
		sleep 0.05
	done
	kill -INT $pid
	st=0
	wait $pid || st=$?
	cat t.err
}

@test "train: --time alone picks the size for the budget; size flags and --steps keep theirs" {
	# under a few minutes: 2 layers (tl-train(1)); under 20, 4 at context
	# 256; longer, the default
	started -m a.tl --time 60 --eval-every 0 --quant fp32
	[ "$st" -eq 0 ]
	grep -q "a.tl: new model, 459392 parameters" t.err
	grep -q "the shape for 60 s of training: 2 layers, width 128, 4 heads, FFN 512, context 64, batch 16" t.err
	started -m e.tl --time 600 --eval-every 0
	grep -q "the shape for 600 s of training: 4 layers, width 128, 4 heads, FFN 512, context 256, batch 8" t.err
	started -m b.tl --time 3600 --eval-every 0 --batch 4
	grep -q "b.tl: new model, 853120 parameters" t.err
	grep -q "the shape for 3600 s of training: 4 layers, .*, context 64, batch 4$" t.err
	started -m c.tl --time 60 --eval-every 0 --dim 64
	grep -q "c.tl: new model, 361024 parameters" t.err
	! grep -q "the shape for" t.err || false
	started -m d.tl --time 60 --steps 100000 --eval-every 0
	grep -q "d.tl: new model, 853120 parameters" t.err
	! grep -q "the shape for" t.err || false
	# resumed, a model keeps its shape
	started -m a.tl --time 3600 --eval-every 0
	grep -q "a.tl: resumed model, 459392 parameters" t.err
}

@test "unit: token streams read at random from a file (fixed and varying chunks, damage, spool)" {
	run "$UNIT/test_sfile"
	echo "$output"
	[ "$status" -eq 0 ]
}

@test "train: a piped stream gives the file's checkpoint and leaves no file behind" {
	mkdir a b
	tl-train -m a/m.tl $SHAPE $RUN corpus.tok 2>/dev/null
	cat corpus.tok | tl-train -m b/m.tl $SHAPE $RUN 2>/dev/null
	cmp a/m.tl b/m.tl
	[ "$(ls -A b)" = "m.tl" ]
	# resumed from a pipe, as from the file
	tl-train -m a/m.tl --steps 40 corpus.tok 2>/dev/null
	cat corpus.tok | tl-train -m b/m.tl --steps 40 2>/dev/null
	cmp a/m.tl b/m.tl
	[ "$(ls -A b)" = "m.tl" ]
}

@test "train: a chunk damaged in the file ends the run in one line, status 2" {
	cp corpus.tok bad.tok
	# a byte of chunk 1's ids (the header of byte tokens is 24 bytes):
	# found only when a training window reads it
	printf '\377' | dd of=bad.tok bs=1 seek=1028 conv=notrunc 2>/dev/null
	run tl-train -m m.tl $SHAPE $RUN --log m.log bad.tok
	[ "$status" -eq 2 ]
	# the run's first line, then the error
	[ "${#lines[@]}" -eq 2 ]
	[[ "${lines[0]}" == "m.tl: new model"* ]]
	[[ "${lines[1]}" == "tl-train: bad.tok: checksum mismatch in chunk 1" ]]
	[ ! -e m.tl ]
	# through a pipe the spool checks it before training
	run sh -c "cat bad.tok | tl-train -m m.tl $SHAPE $RUN"
	[ "$status" -eq 2 ]
	[[ "$output" == "tl-train: stdin: checksum mismatch in chunk 1" ]]
	[ "$(ls -A | grep -c spool)" = 0 ]
}

@test "train: --val holds out another stream; it trains on all of the first" {
	# the first 27000 and the last 3000 tokens: --val-frac 0.1's split
	head -c 27000 corpus.txt | tl-tokenize > t.tok
	tail -c 3000 corpus.txt | tl-tokenize > v.tok
	tl-train -m a.tl $SHAPE $RUN corpus.tok 2>/dev/null
	tl-train -m b.tl $SHAPE $RUN --val v.tok t.tok 2>b.err
	grep -q "27000 training and 3000 held-out tokens" b.err
	cmp a.tl b.tl
	cat t.tok | tl-train -m c.tl $SHAPE $RUN --val v.tok 2>/dev/null
	cmp a.tl c.tl
	run tl-train -m d.tl $SHAPE $RUN --val v.tok --val-frac 0.2 t.tok
	[ "$status" -eq 2 ]
	one_line "$output"
	tl-tokenize --train-bpe 300 -o v.bpe < corpus.txt
	tail -c 3000 corpus.txt | tl-tokenize -v v.bpe > vb.tok
	run tl-train -m d.tl $SHAPE $RUN --val vb.tok t.tok
	[ "$status" -eq 2 ]
	one_line "$output"
	[[ "$output" == "tl-train: vb.tok: tokenizer differs from t.tok's" ]]
	run tl-train -m d.tl $SHAPE $RUN --val missing.tok t.tok
	[ "$status" -eq 1 ]
	one_line "$output"
	[ ! -e d.tl ]
}

@test "train: validation scores at most --eval-tokens held-out tokens, also at the end" {
	tl-init -o m.tl $SHAPE
	cp m.tl e.tl
	tl-train -m m.tl --steps 1 --batch 2 --eval-every 0 --eval-tokens 200 --save-every 0 corpus.tok 2>/dev/null
	# the same first 200 held-out targets, through tl-eval
	tail -c 3000 corpus.txt | tl-tokenize > v.tok
	val=$(tl-eval -m m.tl -n 200 -j v.tok | sed 's/.*"loss":\([0-9.]*\).*/\1/')
	run tl-train -m m.tl --steps 1 corpus.tok
	[[ "$output" == *"val loss $(printf '%.4f' "$val") (200 held-out tokens)"* ]]
}

# A shape whose activations outweigh its weights, so that each choice
# of --mem is far from the next (estimates, -t 1: micro 8 13.7 MiB,
# recomputing 11.3; micro 4 8.9, 7.7; micro 2 6.6, 6.0; micro 1 5.4,
# 5.1).
MEMSHAPE="-t 1 --layers 2 --dim 32 --heads 2 --ffn 64 --ctx 128 --batch 8 --steps 2 --eval-every 0 --save-every 0"

# mem_picks SIZE FLAGS... CHOICE: tl-train --mem SIZE with FLAGS prints
# CHOICE ("micro 8" or "micro 8, recomputing") and, a real run on a
# plain build, peaks within SIZE MiB.
mem_picks() {
	local size=$1 want=${!#} peak
	set -- "${@:2:$#-2}"
	rm -f m.tl
	run tl-train -m m.tl $MEMSHAPE --mem ${size}M "$@" corpus.tok
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"m.tl: --mem ${size}M: $want, an estimated "* ]]
	unmeasured && return
	peak=$(echo "$output" | sed -n 's/.*peak memory \([0-9.]*\) MiB.*/\1/p')
	awk -v p="$peak" -v s="$size" 'BEGIN { exit !(p > 0 && p <= s) }'
}

@test "train: --mem estimates are what the model and trainer allocate (test_mem)" {
	run "$UNIT/test_mem"
	echo "$output" | tail -5
	[ "$status" -eq 0 ]
	[[ "$output" == *" 0 failed"* ]]
}

@test "train: --mem picks the fewest passes, then no recomputing, within the budget" {
	mem_picks 20 "micro 8"
	mem_picks 12 "micro 8, recomputing"
	mem_picks 9 "micro 4"
	mem_picks 5.5 "micro 1"
	# --micro and --recompute fix their part of the choice
	mem_picks 9 --micro 2 "micro 2"
	mem_picks 9 --recompute "micro 4, recomputing"
	mem_picks 12 --micro 4 --recompute "micro 4, recomputing"
}

@test "train: --mem that no run fits is one line, status 2, and no model file" {
	run tl-train -m m.tl $MEMSHAPE --mem 4M corpus.tok
	echo "$output"
	[ "$status" -eq 2 ]
	one_line "$output"
	[[ "$output" == "tl-train: --mem 4M: the smallest run needs 5."*" MiB (micro 1, recomputing)" ]]
	[ ! -e m.tl ]
	run tl-train -m m.tl $MEMSHAPE --mem 5M --micro 2 corpus.tok
	[ "$status" -eq 2 ]
	[[ "$output" == "tl-train: --mem 5M: the smallest run needs 6."*" MiB (micro 2, recomputing)" ]]
	[ ! -e m.tl ]
	for s in 0 12Q M 1.5X -3K 2T; do
		run tl-train -m m.tl $MEMSHAPE --mem "$s" corpus.tok
		[ "$status" -eq 2 ]
		one_line "$output"
		[[ "$output" == "tl-train: --mem $s: not a size"* ]]
	done
	[ ! -e m.tl ]
}

@test "train: a run under --mem equals the same --micro and --recompute given" {
	tl-train -m a.tl $MEMSHAPE --mem 12M corpus.tok 2>/dev/null
	tl-train -m b.tl $MEMSHAPE --micro 8 --recompute corpus.tok 2>/dev/null
	cmp a.tl b.tl
	tl-train -m c.tl $MEMSHAPE --mem 5.5M corpus.tok 2>/dev/null
	tl-train -m d.tl $MEMSHAPE --micro 1 corpus.tok 2>/dev/null
	cmp c.tl d.tl
	! cmp -s a.tl c.tl || false
}
