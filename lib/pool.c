/*
 * pool.c: the thread pool.
 */
#include <stdlib.h>

#include "kernels.h"
#include "util.h"

struct tl_pool {
	int n;
};

tl_pool *
tl_pool_new(int nthreads)
{
	tl_pool *p = malloc(sizeof *p);

	if (p == NULL)
		return NULL;
	p->n = nthreads > 0 ? nthreads : tl_ncpu();
	return p;
}

void
tl_pool_free(tl_pool *p)
{
	free(p);
}

int
tl_pool_threads(const tl_pool *p)
{
	return p ? p->n : 1;
}

void
tl_pool_for(tl_pool *p, int n, void (*fn)(void *ctx, int i), void *ctx)
{
	int i;

	(void)p;
	for (i = 0; i < n; i++)
		fn(ctx, i);
}
