/*
 * kernels_sse.h: the first include of the sse path's files
 * (kernels_sse.c, tkernels_sse.c), which it compiles for SSE and MMX
 * without SSE2: with gcc by the pragma below, which must come before
 * every other include (the intrinsics then take its options); with
 * other compilers by the target attributes SSE and MMX alone.  On
 * x86-64, whose baseline has SSE2, the path is then a Pentium III's
 * very instructions (real MMX rather than MMX emulated on xmm
 * registers, doubles on x87), as tl-bench measures them.
 *
 * MMX shares the x87 registers: every function of the path that
 * touches an mm register is an MMX function, never inlined, that does
 * no x87 arithmetic and ends with emms; the x87 work (the float sums
 * of a block's integers on i686) comes after it, in its caller
 * (tests/85-legacy.bats checks the i686 binaries for both).
 */
#ifndef TL_KERNELS_SSE_H
#define TL_KERNELS_SSE_H

#if defined(__GNUC__) && !defined(__clang__) && \
    (defined(__i386__) || defined(__x86_64__))
#pragma GCC target("mmx,sse,no-sse2")
#endif

#include "kernels_impl.h"

#ifdef TL_X86
#include <xmmintrin.h>

#define SSE __attribute__((target("mmx,sse")))
#define MMX __attribute__((target("mmx,sse"), noinline))
#endif

#endif
