/*
 * peak.h: the machine's arithmetic peak for the instruction mixes of
 * the kernels, measured by chains of independent operations that never
 * touch memory (peak.c).  tl-bench divides each kernel's rate by the
 * peak of its mix to give its percentage of peak.
 */
#ifndef TL_PEAK_H
#define TL_PEAK_H

enum {
	TL_MIX_F32,		/* mulss + addss (x87 on i686): scalar */
	TL_MIX_SSE,		/* mulps + addps */
	TL_MIX_FMA,		/* vfmadd231ps on ymm */
	TL_MIX_I32,		/* imul + add: scalar integers */
	TL_MIX_PMADDWD,		/* pmaddwd + paddd: int16 pairs */
	TL_MIX_PMADDUBSW,	/* pmaddubsw + paddw: bytes */
	TL_MIX_VPMADDUBSW,	/* vpmaddubsw + vpaddw on ymm */
	TL_MIX_N
};

/* "mulps+addps" and so on. */
const char *tl_mix_name(int mix);
/* Whether this CPU runs the mix (through tl_simd_supported). */
int tl_mix_supported(int mix);
/* Run n iterations of the mix's chains and return the operations done
 * (a multiply and an add count two, as in FLOP counts; a fused
 * multiply-add and each product and sum of pmadd* count their parts). */
double tl_peak_run(int mix, long n);

#endif
