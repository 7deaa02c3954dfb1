/*
 * pool.c: a pool of persistent worker threads for data-parallel loops.
 *
 * tl_pool_for(p, n, fn, ctx) runs fn(ctx, i) for every i in [0, n) on
 * the caller and the workers.  The threads claim the items in chunks
 * from a shared counter, so that a thread the system stops (when the
 * machine runs other work) leaves the rest of the job to the others
 * instead of holding them up, and items of unequal cost even out.  A
 * job of at most OWNED_MAX items (generation's products and attention:
 * runs of rows, or heads) gives thread t of T (the caller is 0) items
 * tn/T to (t+1)n/T - 1 first, in order, and then takes what is left of
 * the others' from their ends: a thread gets the same rows of the
 * weights, and the same heads' cache, every token, while they are
 * still in its caches, and one that runs late (the machine's other
 * work) has its last items done by the others.
 * Every call writes disjoint memory and computes its item the same way
 * whoever runs it, so results do not depend on who ran what.
 *
 * The protocol, with gen the job generation (odd while a job is being
 * set up, even while it runs):
 *
 *   caller                           worker
 *   gen = odd (closed)               wait until gen is even and new
 *   wait until no worker is inside   inside++
 *   write the job, next = 0          if gen changed: inside--, retry
 *   gen = even (open), wake sleepers claim chunks of next, run them,
 *   claim chunks, run them             finished += their count
 *   wait until finished == n         inside--
 *
 * A worker reads the job's fields only while counted inside and after
 * seeing gen unchanged, and the caller writes them only after closing
 * gen and seeing nobody inside (all of it sequentially consistent), so
 * a late worker never mixes two jobs.  The caller waits for the items
 * to finish, never for a worker that claimed none.  A training step
 * makes about a hundred short calls, so a sleeping thread's wake-up
 * (tens of microseconds) would dominate: workers and caller first spin
 * a little, and sleep on the condition variables only after that.  A
 * call takes no lock unless a thread sleeps: a call of two items on
 * two threads took 1.4 us with the mutex and a broadcast every time,
 * 0.9 us without (generation makes about 60 a token at 12 x 768).
 *
 * Without GCC-style atomic builtins, every shared counter is read and
 * written under the mutex, without spinning.  A call from inside a
 * job (or from a second thread while a job is in flight) runs serially
 * on its caller, so nesting cannot deadlock.
 */
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/kernels.h"
#include "util/util.h"

#if defined(__ATOMIC_SEQ_CST)
#define ATOMICS		1
#define SPIN		2000	/* polls before sleeping: ~10-100 us */
#else
#define ATOMICS		0
#define SPIN		0
#endif

#if SPIN && (defined(__i386__) || defined(__x86_64__))
#define RELAX()		__asm__ __volatile__("pause" ::: "memory")
#else
#define RELAX()		((void)0)
#endif

/* Jobs of at most this many items give each thread a run of them first
 * (see tl_pool_for). */
#define OWNED_MAX 64

struct worker_arg {
	struct tl_pool *p;
	int id;			/* 1 .. n-1; the caller is 0 */
};

struct tl_pool {
	int n;			/* threads, the caller included */
	pthread_t *tid;		/* n - 1 workers */
	pthread_mutex_t mu;
	pthread_cond_t go;	/* a new job or quit: workers wake */
	pthread_cond_t done;	/* the job's last item finished */
	unsigned long gen;	/* odd: a job is being set up */
	int busy;		/* a job is in flight */
	int quit;
	int spin;		/* polls before sleeping: 0 if oversubscribed */
	int inside;		/* workers inside the current job */
	int sleeping;		/* the caller waits on done */
	int nsleep;		/* workers waiting on go (under mu) */
	struct worker_arg *args;	/* n - 1: each worker's pool and index */
	int taken[OWNED_MAX];	/* a job of few items: item i claimed */
	/* the current job */
	void (*fn)(void *ctx, int i);
	void *ctx;
	int items;
	int chunk;		/* items per claim */
	int next;		/* the first unclaimed item */
	int finished;		/* items done */
};

/* With the mutex held. */
#if ATOMICS
#define RD(x)		__atomic_load_n(&(x), __ATOMIC_SEQ_CST)
#define WR(x, v)	__atomic_store_n(&(x), (v), __ATOMIC_SEQ_CST)
#else
#define RD(x)		(x)
#define WR(x, v)	((x) = (v))
#endif

/* Shared counters: sequentially consistent atomics, or the mutex. */
static int
get(tl_pool *p, int *x)
{
#if ATOMICS
	(void)p;
	return __atomic_load_n(x, __ATOMIC_SEQ_CST);
#else
	int v;

	pthread_mutex_lock(&p->mu);
	v = *x;
	pthread_mutex_unlock(&p->mu);
	return v;
#endif
}

/* *x += v; returns the old value. */
static int
add(tl_pool *p, int *x, int v)
{
#if ATOMICS
	(void)p;
	return __atomic_fetch_add(x, v, __ATOMIC_SEQ_CST);
#else
	int o;

	pthread_mutex_lock(&p->mu);
	o = *x;
	*x += v;
	pthread_mutex_unlock(&p->mu);
	return o;
#endif
}

static unsigned long
get_gen(tl_pool *p)
{
#if ATOMICS
	return __atomic_load_n(&p->gen, __ATOMIC_SEQ_CST);
#else
	unsigned long v;

	pthread_mutex_lock(&p->mu);
	v = p->gen;
	pthread_mutex_unlock(&p->mu);
	return v;
#endif
}


/* Item i of a job of few items, if nobody has claimed it: run it and
 * count it finished. */
static void
run_owned(tl_pool *p, int i)
{
	int n = p->items;

#if ATOMICS
	/* a load first: taking the line to write it costs more */
	if (RD(p->taken[i]) ||
	    __atomic_exchange_n(&p->taken[i], 1, __ATOMIC_SEQ_CST))
		return;
#else
	pthread_mutex_lock(&p->mu);
	if (p->taken[i]) {
		pthread_mutex_unlock(&p->mu);
		return;
	}
	p->taken[i] = 1;
	pthread_mutex_unlock(&p->mu);
#endif
	p->fn(p->ctx, i);
	if (add(p, &p->finished, 1) + 1 == n && get(p, &p->sleeping)) {
		pthread_mutex_lock(&p->mu);
		pthread_cond_signal(&p->done);
		pthread_mutex_unlock(&p->mu);
	}
}

/* Run the current job as thread id: a job of few items, thread id's
 * share first and then whatever is left; else claim chunks until none
 * are left. */
static void
run_job(tl_pool *p, int id)
{
	void (*fn)(void *, int) = p->fn;
	void *ctx = p->ctx;
	int n = p->items, k = p->chunk, lo, hi, i;

	if (n <= OWNED_MAX) {
		int t, lo_t, hi_t;

		/* its own run of items front to back, then the others'
		 * from their back, away from where their owners work */
		for (i = id * n / p->n; i < (id + 1) * n / p->n; i++)
			run_owned(p, i);
		for (t = 1; t < p->n; t++) {
			lo_t = (id + t) % p->n * n / p->n;
			hi_t = ((id + t) % p->n + 1) * n / p->n;
			for (i = hi_t - 1; i >= lo_t; i--)
				run_owned(p, i);
		}
		return;
	}
	while ((lo = add(p, &p->next, k)) < n) {
		hi = n - lo < k ? n : lo + k;
		for (i = lo; i < hi; i++)
			fn(ctx, i);
		/* the thread that finishes the last item wakes the caller,
		 * if it sleeps */
		if (add(p, &p->finished, hi - lo) + (hi - lo) == n &&
		    get(p, &p->sleeping)) {
			pthread_mutex_lock(&p->mu);
			pthread_cond_signal(&p->done);
			pthread_mutex_unlock(&p->mu);
		}
	}
}

static void *
worker(void *arg)
{
	tl_pool *p = ((struct worker_arg *)arg)->p;
	int id = ((struct worker_arg *)arg)->id;
	unsigned long seen = 0, g = 0;
	int spin;

	for (;;) {
		/* a job newer than the last one seen, and open */
		for (spin = 0; spin < p->spin; spin++) {
			g = get_gen(p);
			if (g != seen && !(g & 1))
				break;
			RELAX();
		}
		if (spin == p->spin) {
			pthread_mutex_lock(&p->mu);
			WR(p->nsleep, RD(p->nsleep) + 1);
			while ((RD(p->gen) == seen || (RD(p->gen) & 1)) &&
			    !RD(p->quit))
				pthread_cond_wait(&p->go, &p->mu);
			WR(p->nsleep, RD(p->nsleep) - 1);
			g = p->gen;
			pthread_mutex_unlock(&p->mu);
		}
		if (get(p, &p->quit))
			return NULL;
		add(p, &p->inside, 1);
		if (get_gen(p) == g) {
			seen = g;
			run_job(p, id);
		}
		add(p, &p->inside, -1);
	}
}

/* Stop and join the first k workers, then free everything. */
static void
pool_destroy(tl_pool *p, int k)
{
	int i;

	pthread_mutex_lock(&p->mu);
	WR(p->quit, 1);
	WR(p->gen, p->gen + 2);
	pthread_cond_broadcast(&p->go);
	pthread_mutex_unlock(&p->mu);
	for (i = 0; i < k; i++)
		pthread_join(p->tid[i], NULL);
	pthread_cond_destroy(&p->done);
	pthread_cond_destroy(&p->go);
	pthread_mutex_destroy(&p->mu);
	free(p->tid);
	free(p->args);
	free(p);
}

tl_pool *
tl_pool_new(int nthreads)
{
	tl_pool *p;
	int i;

	if ((p = calloc(1, sizeof *p)) == NULL)
		return NULL;
	p->n = nthreads > 0 ? nthreads : tl_ncpu();
	if (p->n < 1)
		p->n = 1;
	/* Spinning threads that outnumber the CPUs would only steal time
	 * from the ones with work to do. */
	p->spin = p->n <= tl_ncpu() ? SPIN : 0;
	if ((p->tid = calloc(p->n, sizeof *p->tid)) == NULL ||
	    (p->args = calloc(p->n, sizeof *p->args)) == NULL) {
		free(p->tid);
		free(p);
		return NULL;
	}
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->go, NULL);
	pthread_cond_init(&p->done, NULL);
	for (i = 0; i < p->n - 1; i++) {
		p->args[i].p = p;
		p->args[i].id = i + 1;
		if (pthread_create(&p->tid[i], NULL, worker, &p->args[i]) != 0) {
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
	int spin, i, nested;

	if (n <= 0)
		return;
	if (p == NULL || p->n == 1 || n == 1) {
		for (i = 0; i < n; i++)
			fn(ctx, i);
		return;
	}
#if ATOMICS
	nested = __atomic_exchange_n(&p->busy, 1, __ATOMIC_SEQ_CST);
#else
	pthread_mutex_lock(&p->mu);
	nested = p->busy;
	p->busy = 1;
	pthread_mutex_unlock(&p->mu);
#endif
	if (nested) {
		/* Nested or concurrent call: run it here. */
		for (i = 0; i < n; i++)
			fn(ctx, i);
		return;
	}
	/* close the last job and wait for its workers to leave it */
	WR(p->gen, p->gen + 1);
	for (spin = 0; get(p, &p->inside) > 0; spin++)
		if (spin < p->spin)
			RELAX();
		else
			sched_yield();

	p->fn = fn;
	p->ctx = ctx;
	p->items = n;
	/* about eight chunks per thread: few claims, yet a thread that
	 * stalls holds up little */
	p->chunk = n / (8 * p->n) > 1 ? n / (8 * p->n) : 1;
	p->next = 0;
	p->finished = 0;
	p->sleeping = 0;
	if (n <= OWNED_MAX)
		memset(p->taken, 0, n * sizeof p->taken[0]);
	/* open it; wake the workers that sleep (a worker counts itself in
	 * nsleep before it looks at gen, and the caller looks at nsleep
	 * after it opened gen: one of them sees the other) */
#if ATOMICS
	WR(p->gen, p->gen + 1);
	if (RD(p->nsleep) > 0) {
		pthread_mutex_lock(&p->mu);
		pthread_cond_broadcast(&p->go);
		pthread_mutex_unlock(&p->mu);
	}
#else
	pthread_mutex_lock(&p->mu);
	WR(p->gen, p->gen + 1);
	pthread_cond_broadcast(&p->go);
	pthread_mutex_unlock(&p->mu);
#endif

	run_job(p, 0);

	for (spin = 0; spin < p->spin && get(p, &p->finished) < n; spin++)
		RELAX();
	if (get(p, &p->finished) < n) {
		pthread_mutex_lock(&p->mu);
		WR(p->sleeping, 1);
		while (RD(p->finished) < n)
			pthread_cond_wait(&p->done, &p->mu);
		pthread_mutex_unlock(&p->mu);
	}
#if ATOMICS
	WR(p->busy, 0);
#else
	pthread_mutex_lock(&p->mu);
	p->busy = 0;
	pthread_mutex_unlock(&p->mu);
#endif
}
