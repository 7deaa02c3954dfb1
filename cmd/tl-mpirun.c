/*
 * tl-mpirun: run mpirun(1) (or another launcher) for tl-train, so that
 * SIGINT, SIGTERM and SIGHUP end a run across machines as SIGINT and
 * SIGTERM end tl-train alone: every rank stops after the same step,
 * rank 0 saves, and the status is 0.
 *
 * Open MPI 4.1's mpirun exits 1 after a SIGINT or SIGTERM of its own,
 * whatever its ranks return, but passes a SIGUSR2 on to every rank and
 * then exits with their status; tl-train takes SIGUSR2 as it takes
 * SIGTERM.  So the launcher runs as a child in a session of its own (a
 * Ctrl-C at the terminal reaches tl-mpirun, not mpirun), and each of
 * those signals becomes a SIGUSR2 to it.  tl-mpirun exits with the
 * launcher's status.  Needs no MPI to build: it only runs the launcher.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/util.h"

static const tl_cmd cmd = { { NULL }, "launcher [argument ...]", 0, NULL,
	"runs the launcher (mpirun) with its arguments; SIGINT, SIGTERM and\n"
	"SIGHUP become a SIGUSR2 to it, which ends a tl-train run saved\n",
	NULL };

static const int stops[] = { SIGINT, SIGTERM, SIGHUP };
#define NSTOPS (int)(sizeof stops / sizeof stops[0])

static volatile sig_atomic_t child;	/* the launcher's pid, once known */

static void
onstop(int sig)
{
	(void)sig;
	if (child > 0)
		kill((pid_t)child, SIGUSR2);
}

int
main(int argc, char **argv)
{
	struct sigaction sa;
	sigset_t set, old;
	tl_optparse op;
	pid_t pid, w;
	int k, st, i;

	/* tl-mpirun's options come before the launcher; the rest is its */
	for (k = 1; k < argc && argv[k][0] == '-'; k++)
		if (strcmp(argv[k], "--") == 0) {
			k++;
			break;
		}
	tl_opt_begin(&op, &cmd, k, argv);
	while (tl_opt_next(&op) != -1)
		;
	if (k == argc)
		tl_die(2, "name the launcher to run (mpirun and its arguments)");
	/* the signals wait until the launcher's pid is known */
	sigemptyset(&set);
	for (i = 0; i < NSTOPS; i++)
		sigaddset(&set, stops[i]);
	sigprocmask(SIG_BLOCK, &set, &old);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = onstop;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < NSTOPS; i++)
		sigaction(stops[i], &sa, NULL);
	fflush(NULL);
	if ((pid = fork()) < 0)
		tl_die(1, "cannot start %s: %s", argv[k], strerror(errno));
	if (pid == 0) {
		/* exec restores the caught signals' default actions */
		setsid();
		sigprocmask(SIG_SETMASK, &old, NULL);
		execvp(argv[k], argv + k);
		fprintf(stderr, "%s: %s: %s\n", tl_prog(), argv[k],
		    strerror(errno));
		_exit(errno == ENOENT ? 127 : 126);
	}
	child = pid;
	sigprocmask(SIG_SETMASK, &old, NULL);
	while ((w = waitpid(pid, &st, 0)) < 0 && errno == EINTR)
		;
	if (w < 0)
		tl_die(1, "%s: %s", argv[k], strerror(errno));
	/* a launcher ended by a signal: the status a shell gives */
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
