/*
 * pool.c: a pool of persistent worker threads for data-parallel loops.
 *
 * tl_pool_for(p, n, fn, ctx) hands thread t (the caller is thread 0)
 * the contiguous range of items [n*t/T, n*(t+1)/T): the split depends
 * only on n and the pool size, never on timing.  Since every call
 * writes disjoint memory, results do not depend on the split at all;
 * the fixed split only keeps runs reproducible under a debugger.
 *
 * A job is published under the mutex with a generation number; each
 * worker runs its range and the last one to finish wakes the caller,
 * which meanwhile has run range 0 itself.  A training step makes
 * about a hundred short calls, so a sleeping thread's wake-up (tens of
 * microseconds) would dominate: with GCC-style atomic builtins, workers
 * and caller first spin a little on the generation and the pending
 * count, and sleep on the condition variables only after that.  A
 * call from inside a job (or from a second thread while a job is in
 * flight) runs serially on its caller, so nesting cannot deadlock.
 */
#include <pthread.h>
#include <stdlib.h>

#include "kernels.h"
#include "util.h"

#if defined(__ATOMIC_ACQUIRE)
#define LOAD(x)		__atomic_load_n(&(x), __ATOMIC_ACQUIRE)
#define STORE(x, v)	__atomic_store_n(&(x), (v), __ATOMIC_RELEASE)
#define DEC(x)		__atomic_sub_fetch(&(x), 1, __ATOMIC_ACQ_REL)
#define SPIN		2000	/* polls before sleeping: ~10-100 us */
#else
/* No atomics: every access below is made under the mutex. */
#define LOAD(x)		(x)
#define STORE(x, v)	((x) = (v))
#define DEC(x)		(--(x))
#define SPIN		0
#endif

#if SPIN && (defined(__i386__) || defined(__x86_64__))
#define RELAX()		__asm__ __volatile__("pause" ::: "memory")
#else
#define RELAX()		((void)0)
#endif

struct tl_pool {
	int n;			/* threads, the caller included */
	pthread_t *tid;		/* n - 1 workers */
	pthread_mutex_t mu;
	pthread_cond_t go;	/* a new job or quit: workers wake */
	pthread_cond_t done;	/* the last worker finished: caller wakes */
	unsigned long gen;	/* job generation, bumped per job */
	int pending;		/* workers still inside the current job */
	int busy;		/* a job is in flight */
	int quit;
	int spin;		/* polls before sleeping: 0 if oversubscribed */
	/* the current job */
	void (*fn)(void *ctx, int i);
	void *ctx;
	int items;
};

typedef struct {
	tl_pool *p;
	int t;			/* thread index, 1..n-1 */
} worker_arg;

/* Items [lo, hi) of thread t out of T for n items. */
static void
run_range(void (*fn)(void *, int), void *ctx, int n, int t, int T)
{
	int i, lo, hi;

	lo = (int)((long long)n * t / T);
	hi = (int)((long long)n * (t + 1) / T);
	for (i = lo; i < hi; i++)
		fn(ctx, i);
}

static void *
worker(void *arg)
{
	worker_arg *w = arg;
	tl_pool *p = w->p;
	int t = w->t;
	unsigned long seen = 0;
	int spin;

	free(w);
	for (;;) {
		/* The job's fields are written before gen is released. */
		for (spin = 0; spin < p->spin && LOAD(p->gen) == seen; spin++)
			RELAX();
		if (p->spin == 0 || LOAD(p->gen) == seen) {
			pthread_mutex_lock(&p->mu);
			while (p->gen == seen && !p->quit)
				pthread_cond_wait(&p->go, &p->mu);
			pthread_mutex_unlock(&p->mu);
		}
		if (LOAD(p->quit))
			return NULL;
		seen = LOAD(p->gen);

		run_range(p->fn, p->ctx, p->items, t, p->n);

		if (SPIN == 0)
			pthread_mutex_lock(&p->mu);
		if (DEC(p->pending) == 0) {
			if (SPIN)
				pthread_mutex_lock(&p->mu);
			pthread_cond_signal(&p->done);
			if (SPIN)
				pthread_mutex_unlock(&p->mu);
		}
		if (SPIN == 0)
			pthread_mutex_unlock(&p->mu);
	}
}

/* Stop and join the first k workers, then free everything. */
static void
pool_destroy(tl_pool *p, int k)
{
	int i;

	pthread_mutex_lock(&p->mu);
	STORE(p->quit, 1);
	STORE(p->gen, p->gen + 1);
	pthread_cond_broadcast(&p->go);
	pthread_mutex_unlock(&p->mu);
	for (i = 0; i < k; i++)
		pthread_join(p->tid[i], NULL);
	pthread_cond_destroy(&p->done);
	pthread_cond_destroy(&p->go);
	pthread_mutex_destroy(&p->mu);
	free(p->tid);
	free(p);
}

tl_pool *
tl_pool_new(int nthreads)
{
	tl_pool *p;
	worker_arg *w;
	int i;

	if ((p = calloc(1, sizeof *p)) == NULL)
		return NULL;
	p->n = nthreads > 0 ? nthreads : tl_ncpu();
	if (p->n < 1)
		p->n = 1;
	/* Spinning threads that outnumber the CPUs would only steal time
	 * from the ones with work to do. */
	p->spin = p->n <= tl_ncpu() ? SPIN : 0;
	if ((p->tid = calloc(p->n, sizeof *p->tid)) == NULL) {
		free(p);
		return NULL;
	}
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->go, NULL);
	pthread_cond_init(&p->done, NULL);
	for (i = 0; i < p->n - 1; i++) {
		if ((w = malloc(sizeof *w)) == NULL) {
			pool_destroy(p, i);
			return NULL;
		}
		w->p = p;
		w->t = i + 1;
		if (pthread_create(&p->tid[i], NULL, worker, w) != 0) {
			free(w);
			pool_destroy(p, i);
			return NULL;
		}
	}
	return p;
}

void
tl_pool_free(tl_pool *p)
{
	if (p != NULL)
		pool_destroy(p, p->n - 1);
}

int
tl_pool_threads(const tl_pool *p)
{
	return p ? p->n : 1;
}

void
tl_pool_for(tl_pool *p, int n, void (*fn)(void *ctx, int i), void *ctx)
{
	int spin;

	if (n <= 0)
		return;
	if (p == NULL || p->n == 1 || n == 1) {
		run_range(fn, ctx, n, 0, 1);
		return;
	}
	pthread_mutex_lock(&p->mu);
	if (p->busy) {
		/* Nested or concurrent call: run it here. */
		pthread_mutex_unlock(&p->mu);
		run_range(fn, ctx, n, 0, 1);
		return;
	}
	p->busy = 1;
	p->fn = fn;
	p->ctx = ctx;
	p->items = n;
	STORE(p->pending, p->n - 1);
	STORE(p->gen, p->gen + 1);
	pthread_cond_broadcast(&p->go);
	pthread_mutex_unlock(&p->mu);

	run_range(fn, ctx, n, 0, p->n);

	for (spin = 0; spin < p->spin && LOAD(p->pending) > 0; spin++)
		RELAX();
	pthread_mutex_lock(&p->mu);
	while (LOAD(p->pending) > 0)
		pthread_cond_wait(&p->done, &p->mu);
	p->busy = 0;
	pthread_mutex_unlock(&p->mu);
}
