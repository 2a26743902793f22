/*
 * timeit.c - run a command, report its wall time and peak RSS.
 *
 *   timeit [-o FILE] COMMAND [ARG]...
 *
 * Prints one line on stderr (or appends it to FILE) after the command ends:
 *   timeit wall=SECONDS maxrss_kib=N user=SECONDS sys=SECONDS status=N
 * wall is CLOCK_MONOTONIC around fork..wait4 (microsecond resolution, which
 * GNU time's %e does not have: the point-query budget is 10 ms); maxrss_kib
 * is wait4's ru_maxrss of the command (the largest RSS it reached, in KiB;
 * children it waited for are not included).  The command's own stdout and
 * stderr pass through.  Exit status: the command's (128+signal if killed),
 * 127 if it could not be run.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double ts(const struct timespec *t)
{
	return (double)t->tv_sec + (double)t->tv_nsec / 1e9;
}

static double tv(const struct timeval *t)
{
	return (double)t->tv_sec + (double)t->tv_usec / 1e6;
}

int main(int argc, char **argv)
{
	const char *outfile = NULL;
	if (argc > 2 && strcmp(argv[1], "-o") == 0) {
		outfile = argv[2];
		argv += 2;
		argc -= 2;
	}
	if (argc < 2 || strcmp(argv[1], "--help") == 0) {
		fputs("usage: timeit [-o FILE] COMMAND [ARG]...\n"
		      "Runs COMMAND; prints 'timeit wall= maxrss_kib= user= sys= status=' on\n"
		      "stderr, or appends it to FILE.\n",
		      argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	FILE *out = stderr;
	if (outfile && !(out = fopen(outfile, "a"))) {
		fprintf(stderr, "timeit: %s: %s\n", outfile, strerror(errno));
		return 127;
	}
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid_t pid = fork();
	if (pid < 0) {
		fprintf(stderr, "timeit: fork: %s\n", strerror(errno));
		return 127;
	}
	if (pid == 0) {
		execvp(argv[1], argv + 1);
		fprintf(stderr, "timeit: %s: %s\n", argv[1], strerror(errno));
		_exit(127);
	}
	int st = 0;
	struct rusage ru;
	memset(&ru, 0, sizeof(ru));
	while (wait4(pid, &st, 0, &ru) < 0) {
		if (errno != EINTR) {
			fprintf(stderr, "timeit: wait4: %s\n", strerror(errno));
			return 127;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	int rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	fprintf(out, "timeit wall=%.6f maxrss_kib=%ld user=%.3f sys=%.3f status=%d\n",
		ts(&t1) - ts(&t0), ru.ru_maxrss, tv(&ru.ru_utime), tv(&ru.ru_stime), rc);
	if (out != stderr && fclose(out) != 0) {
		fprintf(stderr, "timeit: %s: %s\n", outfile, strerror(errno));
		return 127;
	}
	return rc;
}
