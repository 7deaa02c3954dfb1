/*
 * peak.h: the machine's arithmetic peak for the instruction mixes of
 * the kernels, measured by chains of independent operations that never
 * touch memory (peak.c).  tl-bench divides each kernel's rate by the
 * peak of its mix to give its percentage of peak.
 */
#ifndef TL_PEAK_H
#define TL_PEAK_H

#include "kernels/kernels.h"	/* the mixes: TL_MIX_*, tl_mix_name */

/* Whether this CPU runs the mix: whether a path it runs uses it. */
int tl_mix_supported(int mix);
/* Run n iterations of the mix's chains and return the operations done
 * (a multiply and an add count two, as in FLOP counts; a fused
 * multiply-add and each product and sum of pmadd* count their parts). */
double tl_peak_run(int mix, long n);

#endif
