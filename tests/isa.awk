# isa.awk (tests/85-legacy.bats): the instructions of each function of an objdump -d listing
# that its class forbids.  mode[name] (from -v modes="name=mode ...",
# else def): none (no SIMD register or instruction: any x86 since the
# Pentium Pro), sse (a Pentium III: SSE and MMX, no SSE2; a function
# that touches mm registers does no x87 arithmetic and runs emms before
# it returns or calls), any (not checked).
BEGIN {
	n = split(modes, m, " ")
	for (i = 1; i <= n; i++) {
		split(m[i], kv, "=")
		mode[kv[1]] = kv[2]
	}
}
function flush() {
	if (fn != "" && cls == "sse" && usedmm && usedx87)
		print file ": " fn ": MMX and x87 in one function"
}
/^[0-9a-f]+ <[^>]*>:$/ {
	flush()
	fn = $2
	gsub(/[<>:]/, "", fn)
	base = fn
	sub(/\..*/, "", base)
	cls = (base in mode) ? mode[base] : def
	dirty = usedmm = usedx87 = 0
	next
}
/^ *[0-9a-f]+:\t/ {
	if (cls == "any")
		next
	line = $0
	sub(/^ *[0-9a-f]+:\t/, "", line)
	mn = line
	sub(/[ \t].*/, "", mn)
	simd = line ~ /%[xyz]?mm[0-9]/ ||
	    mn ~ /^(ldmxcsr|stmxcsr|emms|sfence|lfence|mfence|prefetch|movnt|clflush|maskmov|fxsave|fxrstor)/
	sse2 = line ~ /%[yz]mm/ || (line ~ /%xmm/ && mn ~ /^(p|movq|movd)/) ||
	    mn ~ /^(movdq|cvt(dq|pd|sd|tpd|tsd|ps2dq|tps2dq|ps2pd|ss2sd|si2sd)|maskmovdqu|movnti|movntdq|movntpd|clflush|lfence|mfence|v)/ ||
	    (line ~ /%xmm/ && mn ~ /(pd|sd)$/)
	if (cls == "none" && simd)
		print file ": " fn ": " line
	if (cls == "sse" && sse2)
		print file ": " fn ": SSE2: " line
	if (cls != "sse")
		next
	if (mn ~ /^f/)
		usedx87 = 1
	if (mn == "emms")
		dirty = 0
	else if (line ~ /%mm[0-7]/)
		dirty = usedmm = 1
	if (dirty && mn ~ /^(ret|call)/)
		print file ": " fn ": " mn " without emms after MMX"
}
END { flush() }
