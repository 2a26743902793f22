/*
 * test_osquery_suite.c - a suite of osquery-style queries (tests/osquery_suite/
 * *.sql, written for procsnap from osquery's documented table examples:
 * the specs' examples() and the tables an incident responder queries) runs
 * unchanged on a real snapshot (issue 12 item 7): each through `procsnap
 * query -f FILE` as written, comments first, its columns and the rows it
 * must return for the victim (tests/victim.c) checked by
 * tests/osquery_suite/run.py.
 */
#include "t.h"
#include "tutil.h"

#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SUITE  PS_SOURCE_DIR "/tests/osquery_suite"
#define VICTIM PS_BINARY_DIR "/tests/victim"

static struct tu_victim v;
static char d_file[512], snap[512], exe[PATH_MAX];
static int ok;
static struct ps_buf out = PS_BUF_INIT;

static void setup(void)
{
	const char *d = tu_tmpdir();
	chmod(d, 0755);
	snprintf(d_file, sizeof(d_file), "%s/suite-file.txt", d);
	snprintf(snap, sizeof(snap), "%s/suite.tar.zst", d);
	if (getuid() != 0)
		T_SKIP("needs root (the victim's maps, exe and fds)");
	if (!realpath(VICTIM, exe) || tu_sh(NULL, "echo suite > '%s'", d_file) != 0)
		return;
	/* the victim inherits nothing of ours but stdin/stdout/stderr (a test
	 * runner may leave its own files open without FD_CLOEXEC) */
	for (int fd = 3; fd < 1024; fd++)
		fcntl(fd, F_SETFD, FD_CLOEXEC);
	const char *args[] = {"--mark=suite", NULL};
	const char *env[] = {"PATH=/usr/bin:/bin", "PS_SUITE_MARK=osquery suite", NULL};
	if (tu_victim_start(&v, d_file, args, env) != 0) {
		fprintf(stderr, "victim did not start\n");
		t_failures++;
		return;
	}
	ok = tu_sh(NULL, "%s capture -q -o %s --pid 1 --pid %d 2>/dev/null", tu_procsnap(), snap,
		   v.pid) == 0;
	if (!ok) {
		fprintf(stderr, "capture failed\n");
		t_failures++;
	}
}

static void teardown(void)
{
	if (v.pid)
		tu_victim_stop(&v);
	ps_buf_release(&out);
	tu_cleanup();
}

static void test_suite(void)
{
	if (!ok)
		T_SKIP_CASE("no snapshot");
	struct ps_buf sha = PS_BUF_INIT, pidmax = PS_BUF_INIT;
	CHECK_INT(tu_sh(&sha, "sha256sum '%s' | cut -d' ' -f1 | tr -d '\\n'", exe), 0);
	CHECK_INT(tu_slurp("/proc/sys/kernel/pid_max", &pidmax), 0);
	while (pidmax.len && pidmax.buf[pidmax.len - 1] == '\n')
		pidmax.buf[--pidmax.len] = '\0';
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%.*s", (int)(strrchr(exe, '/') - exe), exe);
	int rc = tu_sh(&out,
		       "/usr/bin/python3 %s/run.py %s %s pid=%d port=%d file_fd=%d pipe_r=%d "
		       "pipe_w=%d sock_fd=%d 'file=%s' 'exe=%s' 'exe_dir=%s' exe_sha256=%s "
		       "pid_max=%s 2>&1",
		       SUITE, tu_procsnap(), snap, v.pid, v.port, v.file_fd, v.pipe_r, v.pipe_w,
		       v.sock_fd, d_file, exe, dir, sha.buf, pidmax.buf);
	fputs(out.buf, stdout);
	CHECK_INT(rc, 0);
	CHECK(strstr(out.buf, "20 queries, 0 failed") != NULL);
	ps_buf_release(&sha);
	ps_buf_release(&pidmax);
}

static const struct t_case t_cases[] = {T(test_suite), {0, 0}};
T_MAIN_SETUP(t_cases, setup, teardown)
