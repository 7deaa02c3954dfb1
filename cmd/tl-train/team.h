/*
 * team.h: the processes of one tl-train run.  alone.c is one process
 * (the default build, free of any dependency); mpi.c the ranks of an
 * MPI job (make MPI=1, built by mpicc), which share every step's
 * passes (tl_team) and otherwise follow rank 0: it owns the
 * checkpoint, the display and the log.  A function that fails dies
 * with a message, and the MPI launcher ends the other ranks.
 */
#ifndef TEAM_H
#define TEAM_H

#include "train/train.h"

typedef struct {
	int rank, size;
	tl_team train;		/* the trainer's share of the steps */
	double comm;		/* seconds in train.sum so far */
	double bytes;		/* bytes train.sum summed so far */
} team;

/* Block the signals that stop a run (tl-train.c) in the calling thread
 * and the threads it starts. */
void block_stops(void);

/* What -V adds to the version: the build's variant, or "". */
extern const char team_build[];

/* Join the run (with argc and argv as main has them). */
void team_start(team *tm, int *argc, char ***argv);
/* Leave it, after the last step. */
void team_end(team *tm);
/* Rank 0's n bytes at buf, copied into every rank's buf. */
void team_bcast(team *tm, void *buf, size_t n);
/* The largest x of all the ranks, on every rank (a flag set on any
 * rank: team_max(tm, flag) > 0). */
double team_max(team *tm, double x);
/* x (n doubles) of every rank in rank order into all (size x n), on
 * rank 0; all unused elsewhere. */
void team_gather(team *tm, const double *x, int n, double *all);
/* file's size and CRC-32 are rank 0's: else this rank dies (status 2)
 * naming the file. */
void team_same(team *tm, const char *file, uint64_t size, uint32_t crc);

#endif
