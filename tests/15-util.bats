#!/usr/bin/env bats
# lib/util: CRC-32 and the progress meter.

load helper

@test "test_util: CRC-32 against a bitwise reference, progress meter" {
	run "$UNIT/test_util"
	echo "$output"
	[ "$status" -eq 0 ]
}
