#!/usr/bin/env bats
# GGUF export (tl-quantize -f gguf) against the real llama.cpp: the
# prebuilt CPU runtime of the npm package node-llama-cpp, through
# scripts/llama.mjs, which also reads the files with the independent
# GGUF reader @huggingface/gguf.  scripts/test-deps.sh installs the
# packages; without them (or Node.js) the tests that run llama.cpp skip.
#
# Tolerances (tl-quantize(1)): every logit within 2e-2 of tl's where
# every linear layer is TQ2_0 and 256 wide, so that llama.cpp's int8
# blocks of 256 are tl's rows; within 0.15 otherwise.

load helper

llama() {
	node "$TOP/scripts/llama.mjs" "$@"
}

need_llama() {
	command -v node >/dev/null || skip "no Node.js"
	[ "$(uname -m)" = x86_64 ] || skip "the prebuilt llama.cpp is x86-64's"
	llama check || skip "npm packages missing (scripts/test-deps.sh)"
}

# The models, trained for a few steps so that their logits have the
# spread of a real model's: ternary squared ReLU 256 wide (every layer
# TQ2_0), the default width 128 (F32 layers), SwiGLU 256 wide (llama),
# and fp32.
setup_file() {
	cd "$BATS_FILE_TMPDIR"
	head -c 100000 "$TOP/data/tinyshakespeare.txt" | tl-tokenize > c.tok
	T="--layers 2 --ctx 96 --batch 4 --steps 120 --warmup 10 --eval-every 0 --save-every 0 -t 2"
	tl-train -m r256.tl $T --dim 256 --heads 4 --ffn 256 c.tok 2>/dev/null
	tl-train -m r128.tl $T c.tok 2>/dev/null
	tl-train -m swi.tl $T --dim 256 --heads 4 --ffn 256 --act swiglu c.tok 2>/dev/null
	tl-train -m f32.tl $T --quant fp32 c.tok 2>/dev/null
	for m in r256 r128 swi f32; do
		tl-quantize -f gguf -m $m.tl -o $m.gguf
	done
	# a 64-token text: the first 64 bytes of the held-out part
	tail -c 111540 "$TOP/data/tinyshakespeare.txt" | head -c 64 |
	    tl-tokenize --ids > text.ids
}

setup() {
	cd "$BATS_FILE_TMPDIR"
}

# maxdiff A B: the largest |a - b| over two files of rows of numbers
# (the same number of rows, and of numbers in each).
maxdiff() {
	[ "$(wc -l < "$1")" -eq "$(wc -l < "$2")" ] || return 1
	paste -d' ' "$1" "$2" | awk '
	    NF % 2 { bad = 1 }
	    { n = NF / 2; for (i = 1; i <= n; i++) {
		d = $i - $(i + n); if (d < 0) d = -d; if (d > m) m = d } }
	    END { if (bad) exit 1; printf "%.6f\n", m }'
}

# logits_match MODEL TOL: tl's and llama.cpp's logits after each id of
# text.ids differ by at most TOL.
logits_match() {
	"$UNIT/test_gguf" "$1.tl" < text.ids > "$1.tl.logits"
	llama logits "$1.gguf" text.ids > "$1.ll.logits"
	[ "$(wc -l < "$1.tl.logits")" -eq 64 ]
	d=$(maxdiff "$1.tl.logits" "$1.ll.logits")
	echo "$1: largest difference $d (tolerance $2)"
	awk -v d="$d" -v t="$2" 'BEGIN { exit !(d <= t) }'
}

# greedy_match MODEL TOL: llama.cpp continues the first 16 ids of
# text.ids greedily for 48 ids; at each step tl's logit of the id it
# picked is within TOL of tl's largest.
greedy_match() {
	head -16 text.ids > prompt.ids
	llama greedy "$1.gguf" prompt.ids 48 > "$1.greedy"
	[ "$(wc -l < "$1.greedy")" -eq 64 ]
	"$UNIT/test_gguf" "$1.tl" < "$1.greedy" > "$1.greedy.logits"
	awk -v P=16 -v tol="$2" '
	    NR == FNR { id[NR - 1] = $1; n = NR; next }
	    { p = FNR - 1; if (p < P - 1 || p + 1 >= n) next
	      mx = $1; for (i = 2; i <= NF; i++) if ($i > mx) mx = $i
	      d = mx - $(id[p + 1] + 1); steps++
	      if (d > tol) { bad++; print "step " p ": " d } }
	    END { print steps " steps, " bad + 0 " beyond " tol
	      exit !(steps == 48 && bad == 0) }' "$1.greedy" "$1.greedy.logits"
}

@test "gguf: llama.cpp's logits match tl's at every position (2e-2 at width 256 in TQ2_0, 0.15 otherwise)" {
	need_llama
	logits_match r256 0.02
	logits_match swi 0.02
	logits_match r128 0.15
	logits_match f32 0.15
}

@test "gguf: llama.cpp's greedy picks are tl's largest logits within the tolerance" {
	need_llama
	greedy_match r256 0.02
	greedy_match swi 0.02
	greedy_match r128 0.15
}

@test "gguf: the comparison fails on a model that is not the same" {
	need_llama
	# r256's weights under swi's name: the logits must disagree
	cp r256.gguf other.gguf
	"$UNIT/test_gguf" swi.tl < text.ids > a
	llama logits other.gguf text.ids > b
	d=$(maxdiff a b)
	echo "difference $d"
	awk -v d="$d" 'BEGIN { exit !(d > 0.15) }'
}

@test "gguf: the independent reader sees the architecture, the metadata and the tensors" {
	need_llama
	llama info r256.gguf > r256.info
	grep -qx 'kv general.architecture arcee' r256.info
	grep -qx 'kv arcee.block_count 2' r256.info
	grep -qx 'kv arcee.embedding_length 256' r256.info
	grep -qx 'kv arcee.context_length 96' r256.info
	grep -qx 'kv tokenizer.ggml.model llama' r256.info
	grep -qx 'kv tokenizer.ggml.add_bos_token false' r256.info
	grep -qx 'kv tokenizer.ggml.tokens \[256\]' r256.info
	grep -qx 'tensor blk.1.attn_qkv.weight 35 256x768' r256.info
	grep -qx 'tensor blk.1.attn_qkv.scale 0 1' r256.info
	grep -qx 'tensor blk.1.ffn_down.weight 35 256x256' r256.info
	! grep -q 'ffn_down.scale' r256.info || false	# folded into ffn_norm
	[ "$(grep -c '^tensor ' r256.info)" -eq 19 ]
	llama info swi.gguf > swi.info
	grep -qx 'kv general.architecture llama' swi.info
	grep -qx 'tensor blk.0.ffn_gate.weight 35 256x256' swi.info
	grep -qx 'tensor blk.0.ffn_down.scale 0 1' swi.info
	llama info r128.gguf > r128.info
	grep -qx 'tensor blk.0.attn_qkv.weight 0 128x384' r128.info
	! grep -q '\.scale ' r128.info || false
}

# tok_match VOCAB: llama.cpp's tokenizer of a model with VOCAB gives
# tl's ids for the last 100 KB of tinyshakespeare.
tok_match() {
	tl-init -v "$1" -o v.tl --layers 1 --dim 32 --heads 2 --ffn 32 --ctx 16
	tl-quantize -f gguf -m v.tl -o v.gguf
	tail -c 100000 "$TOP/data/tinyshakespeare.txt" > t.txt
	tl-tokenize -v v.tl --ids < t.txt > tl.ids
	llama tokenize v.gguf < t.txt > ll.ids
	echo "$1: $(wc -l < tl.ids) ids"
	cmp tl.ids ll.ids
}

@test "gguf: llama.cpp's tokenizer gives tl's ids for 100 KB (bytes, BPE, words BPE, with an end of text)" {
	need_llama
	head -c 300000 "$TOP/data/tinyshakespeare.txt" > learn.txt
	tl-tokenize --train-bpe 768 -o bpe.tlv < learn.txt 2>/dev/null
	tl-tokenize --bpe-kind words --train-bpe 768 -o words.tlv < learn.txt 2>/dev/null
	printf '{"t":"a"}\n' | tl-tokenize -v bpe.tlv --jsonl t > eot.tok
	tok_match r256.tl
	tok_match bpe.tlv
	tok_match words.tlv
	tok_match eot.tok
	llama info v.gguf > v.info
	grep -qx 'kv tokenizer.ggml.eos_token_id 768' v.info
	grep -qx 'kv tokenizer.ggml.tokens \[769\]' v.info
}

@test "gguf: a packed model exports as its checkpoint does (tq2, tq1), f32 packed runs" {
	tl-quantize -q tq2 -m r256.tl -o r256.tq2
	tl-quantize -q tq1 -m r256.tl -o r256.tq1
	tl-quantize -f gguf -m r256.tq2 -o p2.gguf
	tl-quantize -f gguf -m r256.tq1 -o p1.gguf
	cmp r256.gguf p2.gguf
	cmp r256.gguf p1.gguf
	tl-quantize -f gguf -q tq1 -m r256.tl -o q1.gguf
	cmp r256.gguf q1.gguf
	need_llama
	tl-quantize -q f32 -m r256.tl -o r256.f32
	tl-quantize -f gguf -m r256.f32 -o pf.gguf
	"$UNIT/test_gguf" r256.f32 < text.ids > a
	llama logits pf.gguf text.ids > b
	d=$(maxdiff a b)
	echo "f32 packed: $d"
	awk -v d="$d" 'BEGIN { exit !(d <= 0.15) }'
}

# refused OUT WHY MODEL [FLAGS]: tl-quantize -f gguf refuses MODEL with
# status 2 and one line naming WHY, and leaves nothing behind.
refused() {
	local out=$1 why=$2 model=$3

	shift 3
	mkdir -p out
	run tl-quantize -f gguf "$@" -m "$model" -o "out/$out"
	echo "$output"
	[ "$status" -eq 2 ]
	one_line "$output"
	[[ "$output" == *"$why"* ]]
	[ -z "$(ls -A out)" ]
}

@test "gguf: models llama.cpp cannot run are refused in one line, no file left behind" {
	I="--layers 1 --dim 32 --heads 2 --ffn 32 --ctx 16"
	tl-init $I --norm layernorm -o ln.tl
	tl-init $I --norm subln -o sub.tl
	tl-init $I --pos sinusoidal -o sin.tl
	tl-init $I --act gelu -o gelu.tl
	tl-init $I --act relu -o relu.tl
	refused a.gguf "LayerNorm" ln.tl
	refused a.gguf "SubLN" sub.tl
	refused a.gguf "sinusoidal positions" sin.tl
	refused a.gguf "GELU" gelu.tl
	refused a.gguf "plain ReLU" relu.tl
	tl-quantize -q q8 -m r256.tl -o r256.q8
	refused a.gguf "q8 weights" r256.q8
	refused a.gguf "q4 weights" r256.tl -q q4
	refused a.gguf "-q applies to a checkpoint" r256.q8 -q tq2
	refused a.gguf "No such file" missing.tl
	printf 'not a model' > junk
	refused a.gguf "bad magic" junk
}
