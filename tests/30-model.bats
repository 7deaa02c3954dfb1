#!/usr/bin/env bats
# The model's gradients and forward pass against references, and the
# checkpoint format (C unit tests of lib/).

load helper

@test "model: gradients match finite differences, forward matches the reference" {
	run "$UNIT/test_model"
	echo "$output" | tail -5
	[ "$status" -eq 0 ]
	[[ "$output" == *"0 failed"* ]]
}

@test "checkpoints: save/load/save identity, damage refused, training thread-independent" {
	run "$UNIT/test_ckpt" "$BATS_TEST_TMPDIR"
	echo "$output" | tail -5
	[ "$status" -eq 0 ]
}
