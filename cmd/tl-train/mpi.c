/*
 * mpi.c: a run of the ranks of an MPI job (team.h; make MPI=1): one
 * process per rank, each with its thread pool, calling MPI from its
 * main thread only.  Every rank runs every step; the gradient sums are
 * 64-bit integers (train.c), so MPI's reduction, in whatever order and
 * grouping it adds them, gives every rank the sum one process forms.
 */
#include <mpi.h>
#include <stdlib.h>
#include <string.h>

#include "team.h"

#define STR2(x) #x
#define STR(x) STR2(x)
#ifdef OMPI_MAJOR_VERSION
#define LIBRARY ", Open MPI " STR(OMPI_MAJOR_VERSION) "." \
	STR(OMPI_MINOR_VERSION) "." STR(OMPI_RELEASE_VERSION)
#else
#define LIBRARY ""
#endif

const char team_build[] = "(MPI " STR(MPI_VERSION) "."
    STR(MPI_SUBVERSION) LIBRARY ")";

/* The most elements one call moves: MPI counts are ints. */
#define MAXCOUNT (1 << 28)

static void
check(int rc, const char *what)
{
	char msg[MPI_MAX_ERROR_STRING];
	int len = 0;

	if (rc == MPI_SUCCESS)
		return;
	MPI_Error_string(rc, msg, &len);
	tl_die(1, "%s: %s", what, msg);
}

/* The trainer's sum: v (n) added over the ranks, in place. */
static int
sum(void *ctx, int64_t *v, size_t n, char *err)
{
	team *tm = ctx;
	double t0 = MPI_Wtime();
	size_t k, c;

	(void)err;
	for (k = 0; k < n; k += c) {
		c = n - k < MAXCOUNT ? n - k : MAXCOUNT;
		check(MPI_Allreduce(MPI_IN_PLACE, v + k, (int)c, MPI_INT64_T,
		    MPI_SUM, MPI_COMM_WORLD), "gradient exchange");
	}
	tm->comm += MPI_Wtime() - t0;
	tm->bytes += (double)n * sizeof *v;
	return 0;
}

/* The trainer's windows: rank 0's, to every rank. */
static int
bcast(void *ctx, void *buf, size_t n, char *err)
{
	(void)err;
	team_bcast(ctx, buf, n);
	return 0;
}

void
team_start(team *tm, int *argc, char ***argv)
{
	int got;

	/* the signals that stop a run wait for tl-train, which looks for
	 * them between steps: blocked before MPI starts its own threads,
	 * which would otherwise take them and end the process */
	block_stops();
	memset(tm, 0, sizeof *tm);
	check(MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &got),
	    "MPI_Init_thread");
	/* errors come back as codes, and check() dies on them */
	MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
	MPI_Comm_rank(MPI_COMM_WORLD, &tm->rank);
	MPI_Comm_size(MPI_COMM_WORLD, &tm->size);
	tm->train.rank = tm->rank;
	tm->train.size = tm->size;
	tm->train.sum = sum;
	tm->train.bcast = bcast;
	tm->train.ctx = tm;
}

void
team_end(team *tm)
{
	(void)tm;
	MPI_Finalize();
}

void
team_bcast(team *tm, void *buf, size_t n)
{
	size_t k, c;

	(void)tm;
	for (k = 0; k < n; k += c) {
		c = n - k < MAXCOUNT ? n - k : MAXCOUNT;
		check(MPI_Bcast((char *)buf + k, (int)c, MPI_BYTE, 0,
		    MPI_COMM_WORLD), "broadcast");
	}
}

double
team_max(team *tm, double x)
{
	double m;

	(void)tm;
	check(MPI_Allreduce(&x, &m, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD),
	    "agreement");
	return m;
}

void
team_gather(team *tm, const double *x, int n, double *all)
{
	(void)tm;
	check(MPI_Gather(x, n, MPI_DOUBLE, all, n, MPI_DOUBLE, 0,
	    MPI_COMM_WORLD), "gather");
}

void
team_same(team *tm, const char *file, uint64_t size, uint32_t crc)
{
	uint64_t mine[2] = { size, crc }, first[2];

	memcpy(first, mine, sizeof first);
	team_bcast(tm, first, sizeof first);
	if (first[0] != size)
		tl_die(2, "%s: %llu bytes on rank %d, %llu on rank 0: give "
		    "every rank the same file", file,
		    (unsigned long long)size, tm->rank,
		    (unsigned long long)first[0]);
	if (first[1] != crc)
		tl_die(2, "%s: its checksum on rank %d differs from rank 0's: "
		    "give every rank the same file", file, tm->rank);
}
