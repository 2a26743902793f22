/*
 * tutil.h - helpers for the end-to-end tests: run commands, start the
 * victim process (tests/victim.c), read answers out of an index.
 */
#ifndef PS_TUTIL_H
#define PS_TUTIL_H

#include <stdio.h>
#include <sys/types.h>

#include "common.h"

/* Run a shell command (printf-style); stdout into *out if non-NULL.
 * Returns the exit status (or -1 if it did not exit normally). */
int tu_sh(struct ps_buf *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The procsnap binary under test ($PROCSNAP). */
const char *tu_procsnap(void);
/* Start procsnap ($PROCSNAP) with argv (argv[0] "procsnap"), stdin and
 * stdout on /dev/null, stderr into errfile, TMPDIR=tmpdir unless NULL; its
 * pid (wait for it yourself). */
pid_t tu_spawn(const char *tmp_dir, const char *errfile, const char *const *argv);
/* Wait for pid at most secs: its exit status (128 + the signal that
 * killed it), or -1 when it is still running (then it is killed with
 * SIGKILL, after release() if not NULL, and reaped).  Time waited into
 * *took if not NULL. */
int tu_wait_for(pid_t pid, double secs, void (*release)(void), double *took);
/* CLOCK_MONOTONIC in seconds; sleep ms milliseconds. */
double tu_now_s(void);
void tu_sleep_ms(int ms);
/* Run argv (argv[0] the binary), stdin, stdout and stderr on /dev/null, and
 * wait: its peak RSS (KiB) into *kib, its run time (s) into *secs if not
 * NULL.  The exit status, or -1. */
int tu_run_rss(char *const argv[], long *kib, double *secs);
/* A fresh scratch directory, removed by tu_cleanup() unless PS_TEST_KEEP is set. */
const char *tu_tmpdir(void);
void tu_cleanup(void);

struct tu_victim {
	pid_t pid;
	FILE *in, *out;
	int port, file_fd, pipe_r, pipe_w, sock_fd, pages;
	unsigned long map;
};
/* The victim binary to run instead of tests/victim (a copy, say); NULL: the default. */
extern const char *tu_victim_bin;
/* Start tests/victim with argv {victim, file, args...} and envp exactly
 * `env` (NULL-terminated).  Returns 0 when it printed its ready line. */
int tu_victim_start(struct tu_victim *v, const char *file, const char *const *args,
		    const char *const *env);
/* Same, with the victim running as uid/gid (no supplementary groups); -1
 * keeps the caller's.  FILE and the victim binary must be reachable by it. */
int tu_victim_start_as(struct tu_victim *v, int uid, int gid, const char *file,
		       const char *const *args, const char *const *env);
/* Send one command line, read the one-line answer into reply (may be NULL). */
int tu_victim_cmd(struct tu_victim *v, char *reply, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void tu_victim_stop(struct tu_victim *v);
/* Fork and exec exe with argv and envp exactly env, stdin and stdout piped
 * to v, cwd /; pre (may be NULL) runs in the child first, and its non-zero
 * return is the child's exit status.  The first line the process prints
 * goes into line.  0, or -1 (the child reaped when it printed nothing:
 * *status, if given, its wait status). */
int tu_victim_exec(struct tu_victim *v, const char *exe, const char *const *argv,
		   const char *const *env, int (*pre)(void), char *line, size_t n, int *status);
/* A copy of tests/victim in dir named TU_HOSTILE_NAME (<, >, quotes and an
 * ESC byte: what a comm and a cmdline may hold); its path into out.  0 or -1. */
#define TU_HOSTILE_NAME "<script>x\"'\x1b"
int tu_hostile_victim(const char *dir, char *out, size_t n);
/* Is path under /tmp, /var/tmp, /dev/shm or /run/shm? */
int tu_under_tmp(const char *path);

/* First column of the first row of `sql` on database `db`, as text, into
 * out (empty for NULL); -1 and an empty string if no row or error.
 * tu_sql_int: the value as an integer; -999999 on an error or no row,
 * -999998 for NULL, -999997 for a value that is not an integer, so a
 * NULL or a failed query never passes a check that expects 0. */
int tu_sql(const char *db, char *out, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
long long tu_sql_int(const char *db, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Read a whole file into b; 0 or -1. */
int tu_slurp(const char *path, struct ps_buf *b);

/* The index a capture wrote and one rebuilt from its archive by `procsnap
 * index`: the capture's records the archive's SHA-256, the rebuilt one none,
 * and in every other row they are equal (`sqlite3 .dump`).  0 when so. */
int tu_index_same(const char *captured, const char *rebuilt);

/* Sort the lines of b (no trailing newline), in place. */
void tu_sort_lines(struct ps_buf *b);
/* The findings of a `triage -f csv` output (rule,severity,snapshot_id,pid,
 * name,detail) as sorted "rule pid" lines ('-' for a system finding), only
 * the rows of snapshot snap (0: any) and pid (0: any); into res. */
void tu_triage_rows(const char *csv, long long snap, long long pid, struct ps_buf *res);
/* The detail column of the first row of rule id for pid (0: any), unquoted,
 * into d (empty when there is none). */
void tu_triage_detail(const char *csv, const char *id, long long pid, char *d, size_t n);
/* A copy of index src named `name` in the scratch directory, with sql
 * applied; its path into db.  0 or -1 (message printed). */
int tu_crafted_index(const char *src, const char *name, const char *sql, char *db, size_t n);

#endif
