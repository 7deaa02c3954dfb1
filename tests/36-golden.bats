#!/usr/bin/env bats
# Behaviour kept: scripts/golden.sh (fixed-seed training of rmsnorm,
# layernorm, fp32 and BPE models, their packed forms, generated text and
# evaluations) makes, on the SSE2 path, the bytes recorded in
# tests/data/golden-sse2.sha256 before lib/ was restructured.  A change
# meant to alter what training or inference computes records the new
# sums in the same commit, and says why.

load helper

@test "golden: training, packing, generation and evaluation give the recorded bytes (SSE2 path)" {
	[ -z "${TL_EXEC:-}" ] || skip "the record is of x86-64 builds"
	[ "$(uname -m)" = x86_64 ] || skip "the record is of x86-64 builds"
	TL_SIMD=sse2 "$TOP/scripts/golden.sh" -b "$TOP/bin" "$BATS_TEST_TMPDIR/g"
	diff -u "$DATA/golden-sse2.sha256" "$BATS_TEST_TMPDIR/g/SHA256SUMS"
}
