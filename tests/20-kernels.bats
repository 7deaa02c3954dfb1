#!/usr/bin/env bats
# 20-kernels.bats: the kernel layer (SIMD paths against the scalar
# reference, sgemm, attention, the thread pool) through its C unit
# test, and the TL_SIMD switch.

load helper

@test "kernels: every path matches the reference; threads change no bits" {
	run "$UNIT/test_kernels"
	[ "$status" -eq 0 ]
	[[ "$output" == *", 0 failed"* ]]
}

@test "kernels: TL_SIMD=scalar forces the scalar path" {
	TL_SIMD=scalar run "$UNIT/test_kernels" -p
	[ "$status" -eq 0 ]
	[ "$output" = scalar ]
}

@test "kernels: without TL_SIMD the best supported path is taken" {
	TL_SIMD= run "$UNIT/test_kernels" -p
	[ "$status" -eq 0 ]
	case "$output" in scalar|sse2|ssse3|sse41|avx2) ;; *) false ;; esac
}

@test "kernels: an unknown TL_SIMD path is an error" {
	TL_SIMD=altivec run "$UNIT/test_kernels" -p
	[ "$status" -eq 2 ]
	[[ "$output" == *"TL_SIMD=altivec: unknown path"* ]]
	one_line "$output"
}

@test "kernels: a forced path is used or refused, never ignored" {
	for p in sse sse2 ssse3 sse41 avx2; do
		TL_SIMD=$p run "$UNIT/test_kernels" -p
		if [ "$status" -eq 0 ]; then
			[ "$output" = "$p" ]
		else
			[ "$status" -eq 2 ]
			[[ "$output" == *"TL_SIMD=$p: not supported by this CPU"* ]]
		fi
	done
}
