/*
 * test_cli_signals.c - SIGTERM, SIGINT and SIGHUP end every command that
 * writes a file with status 2, one line ("procsnap: CMD: interrupted by
 * SIGTERM") and nothing of what it was writing left behind (cli/supervise.c,
 * README "Signals").
 *
 * Each case runs a command on a capture of the live /proc (thousands of
 * members: it takes a while), polls for its temporary file, then freezes
 * the worker process writing it (SIGSTOP through a pidfd, once /proc says
 * it is the child of the command the test started), so that the file can
 * be neither finished nor renamed meanwhile, and signals the command by
 * pid.  Then: the exit status, the one line on stderr, and the listing of
 * the directories the command wrote in (the output's, and the TMPDIR set
 * for it): nothing left.  One case signals a worker that runs (not frozen).
 * A case whose command ended before its temporary file was seen is skipped
 * with the reason.
 */
#include "t.h"
#include "tutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The machine is shared and may be loaded: every wait is bounded, and
 * generously. */
#define APPEAR_S 120.0 /* for the temporary file to appear */
#define END_S	 30.0  /* for the command to end after the signal */

static char dir[512], live[600], arch_a[600], arch_b[600];
static int have_pidfd; /* pidfd_open(2): Linux 5.3 */
static struct ps_buf out = PS_BUF_INIT;

/* "<prefix><pid><suffix>": the pid, or 0. */
static pid_t match(const char *name, const char *prefix, const char *suffix)
{
	size_t pl = strlen(prefix), sl = strlen(suffix), n = strlen(name);
	if (n <= pl + sl || strncmp(name, prefix, pl) != 0 || strcmp(name + n - sl, suffix) != 0)
		return 0;
	long v = 0;
	for (size_t i = pl; i < n - sl; i++) {
		if (name[i] < '0' || name[i] > '9' || v > 10000000)
			return 0;
		v = v * 10 + (name[i] - '0');
	}
	return (pid_t)v;
}

/* Search d (and directories below it, depth levels) for "<prefix><pid>
 * <suffix>": its path into path and the pid, or 0. */
static pid_t find_tmp(const char *d, int depth, const char *prefix, const char *suffix, char *path,
		      size_t n)
{
	DIR *dh = opendir(d);
	if (!dh)
		return 0;
	pid_t pid = 0;
	struct dirent *e;
	while (!pid && (e = readdir(dh))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, n, "%s/%s", d, e->d_name);
		if ((pid = match(e->d_name, prefix, suffix)) != 0)
			break;
		if (depth > 0 && e->d_type == DT_DIR) {
			char sub[PATH_MAX];
			snprintf(sub, sizeof(sub), "%s", path);
			pid = find_tmp(sub, depth - 1, prefix, suffix, path, n);
		}
	}
	closedir(dh);
	return pid;
}

/* Field 3 (state) and 4 (ppid) of /proc/PID[/task/TID]/stat. */
static int stat_of(const char *stat_path, char *state, pid_t *ppid)
{
	struct ps_buf b = PS_BUF_INIT;
	int rc = -1;
	if (tu_slurp(stat_path, &b) == 0) {
		const char *p = strrchr(b.buf, ')'); /* comm may hold anything */
		int pp;
		if (p && sscanf(p + 1, " %c %d", state, &pp) == 2) {
			*ppid = pp;
			rc = 0;
		}
	}
	ps_buf_release(&b);
	return rc;
}

/* Is every thread of pid stopped? */
static int all_stopped(pid_t pid)
{
	char d[64];
	snprintf(d, sizeof(d), "/proc/%d/task", (int)pid);
	DIR *dh = opendir(d);
	if (!dh)
		return 0;
	int all = 1, any = 0;
	struct dirent *e;
	while ((e = readdir(dh))) {
		if (e->d_name[0] == '.')
			continue;
		char p[400], st = '?';
		pid_t pp;
		snprintf(p, sizeof(p), "%s/%s/stat", d, e->d_name);
		if (stat_of(p, &st, &pp) == 0) {
			any = 1;
			all = all && (st == 'T' || st == 't');
		}
	}
	closedir(dh);
	return any && all;
}

/* Stop worker, once it is known to be the child of cmd (or cmd itself,
 * a procsnap that does not fork): a pidfd (>= 0), or -1 if it is not (it
 * ended; its pid is someone else's). */
static int freeze(pid_t cmd, pid_t worker)
{
	int fd = (int)syscall(SYS_pidfd_open, worker, 0);
	if (fd < 0)
		return -1;
	char p[64], st = '?';
	pid_t pp = 0;
	snprintf(p, sizeof(p), "/proc/%d/stat", (int)worker);
	/* the pidfd holds the process: a pid read after it is the same one's */
	if (stat_of(p, &st, &pp) < 0 || (pp != cmd && worker != cmd) || st == 'Z' ||
	    syscall(SYS_pidfd_send_signal, fd, SIGSTOP, NULL, 0) < 0) {
		close(fd);
		return -1;
	}
	for (double end = tu_now_s() + END_S; tu_now_s() < end; tu_sleep_ms(2)) {
		if (all_stopped(worker))
			return fd;
		if (stat_of(p, &st, &pp) < 0 || st == 'Z')
			break;
	}
	syscall(SYS_pidfd_send_signal, fd, SIGCONT, NULL, 0);
	close(fd);
	return -1;
}

/* Entries of d (not . and ..), sorted, one per line, into b; their count. */
static int listing(const char *d, struct ps_buf *b)
{
	ps_buf_reset(b);
	int n = tu_sh(b, "ls -A '%s' | sort", d) == 0 ? 0 : -1;
	for (size_t i = 0; i < b->len; i++)
		n += b->buf[i] == '\n';
	return n;
}

struct run {
	const char *cmd;	 /* in the message */
	const char *const *argv; /* argv[0] "procsnap" */
	const char *tmpdir;	 /* TMPDIR for it, or NULL */
	const char *watch;	 /* where the temporary file appears */
	int depth;		 /* how many directories below watch */
	const char *prefix, *suffix;
	int sig;
	const char *signame;
	int frozen;	      /* freeze the worker before signalling */
	const char *empty[2]; /* directories left empty (NULL: none) */
};

/* Run r: 1 when the command was signalled as planned (its status and
 * message checked), 0 when the case was skipped (reason printed). */
static int run(const struct run *r)
{
	char errfile[700], tmp[PATH_MAX];
	snprintf(errfile, sizeof(errfile), "%s/%s.err", dir, r->cmd);
	double t0 = tu_now_s();
	pid_t p = tu_spawn(r->tmpdir, errfile, r->argv);
	CHECK(p > 0);
	if (p <= 0)
		return 0;
	if (r->frozen && !have_pidfd) {
		kill(p, SIGKILL);
		waitpid(p, NULL, 0);
		t_skip_case("no pidfd_open (Linux 5.3): cannot freeze the worker safely");
		return 0;
	}
	int pfd = -1, status = -2;
	pid_t worker = 0;
	while (tu_now_s() - t0 < APPEAR_S) {
		int st;
		if (waitpid(p, &st, WNOHANG) == p) {
			status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
			break;
		}
		worker = find_tmp(r->watch, r->depth, r->prefix, r->suffix, tmp, sizeof(tmp));
		if (worker && !r->frozen)
			break;
		if (worker && (pfd = freeze(p, worker)) >= 0) {
			if (access(tmp, F_OK) == 0)
				break; /* frozen while its temporary file is there */
			/* renamed or removed just before: let it go on */
			syscall(SYS_pidfd_send_signal, pfd, SIGCONT, NULL, 0);
			close(pfd);
			pfd = -1;
		}
		worker = 0;
		tu_sleep_ms(2);
	}
	if (status != -2) {
		char why[200];
		snprintf(why, sizeof(why),
			 "%s ended (status %d) after %.2f s, before its temporary file %s*%s was "
			 "seen",
			 r->cmd, status, tu_now_s() - t0, r->prefix, r->suffix);
		t_skip_case(why);
		return 0;
	}
	CHECK(worker != 0);
	if (!worker) {
		fprintf(stderr, "%s: no temporary file within %.0f s\n", r->cmd, APPEAR_S);
		kill(p, SIGKILL);
		waitpid(p, NULL, 0);
		return 0;
	}
	double ts = tu_now_s();
	kill(p, r->sig);
	/* a frozen command that did not fork gets the signal once it goes on
	 * (a supervised worker is killed by the command, frozen or not) */
	if (pfd >= 0 && worker == p)
		syscall(SYS_pidfd_send_signal, pfd, SIGCONT, NULL, 0);
	int rc = tu_wait_for(p, END_S, NULL, NULL);
	double took = tu_now_s() - ts;
	if (pfd >= 0)
		close(pfd);
	if (!r->frozen && rc == 0) {
		t_skip_case("the command finished before the signal reached it");
		return 0;
	}
	fprintf(stderr, "%s: %s %s worker %d %s; status %d %.3f s after the signal\n", r->cmd,
		r->signame, r->frozen ? "frozen" : "running", (int)worker, tmp, rc, took);
	CHECK_INT(rc, 2);
	CHECK(took < END_S);
	CHECK_INT(tu_slurp(errfile, &out), 0);
	char want[128];
	snprintf(want, sizeof(want), "procsnap: %s: interrupted by %s\n", r->cmd, r->signame);
	CHECK_STR(out.buf, want);
	for (int i = 0; i < 2; i++) {
		if (!r->empty[i])
			continue;
		CHECK_INT(listing(r->empty[i], &out), 0);
		CHECK_STR(out.buf, "");
	}
	return 1;
}

static void setup(void)
{
	snprintf(dir, sizeof(dir), "%s", tu_tmpdir());
	snprintf(live, sizeof(live), "%s/live.tar.zst", dir);
	snprintf(arch_a, sizeof(arch_a), "%s/a.tar.zst", dir);
	snprintf(arch_b, sizeof(arch_b), "%s/b.tar.zst", dir);
	int fd = (int)syscall(SYS_pidfd_open, getpid(), 0);
	have_pidfd = fd >= 0;
	if (fd >= 0)
		close(fd);
	/* the live /proc (with its index beside it), and two copies without */
	if (tu_sh(NULL, "%s capture -q -o %s 2>/dev/null", tu_procsnap(), live) != 0)
		T_SKIP("procsnap capture of the live /proc failed");
	if (tu_sh(NULL, "cp %s %s && cp %s %s", live, arch_a, live, arch_b) != 0)
		T_SKIP("cannot copy the archive");
	tu_sh(&out, "%s query %s 'SELECT count(*) FROM files'", tu_procsnap(), live);
	fprintf(stderr, "live capture: %s", out.buf);
}

static void teardown(void)
{
	ps_buf_release(&out);
	tu_cleanup();
}

static void mkdir_in(char *path, size_t n, const char *name)
{
	snprintf(path, n, "%s/%s", dir, name);
	CHECK_INT(mkdir(path, 0700), 0);
}

/* index ARCHIVE -o DB, SIGTERM while DB.tmp.PID is written: nothing left
 * beside DB. */
static void index_term(void)
{
	char d[600], db[700];
	mkdir_in(d, sizeof(d), "idx");
	snprintf(db, sizeof(db), "%s/out.db", d);
	const char *argv[] = {"procsnap", "index", "-o", db, live, NULL};
	struct run r = {"index", argv,	  NULL,	     d, 0,	  "out.db.tmp.",
			"",	 SIGTERM, "SIGTERM", 1, {d, NULL}};
	run(&r);
}

/* The same with SIGINT, the worker running: no temporary file left; the
 * index itself only if the worker renamed it before it was killed. */
static void index_int_running(void)
{
	char d[600], db[700];
	mkdir_in(d, sizeof(d), "idx2");
	snprintf(db, sizeof(db), "%s/out.db", d);
	const char *argv[] = {"procsnap", "index", "-o", db, live, NULL};
	struct run r = {"index", argv,	 NULL,	   d, 0,	   "out.db.tmp.",
			"",	 SIGINT, "SIGINT", 0, {NULL, NULL}};
	if (!run(&r))
		return;
	int n = listing(d, &out);
	CHECK(n == 0 || (n == 1 && strcmp(out.buf, "out.db\n") == 0));
	if (n)
		fprintf(stderr, "index_int_running: renamed before the signal: %s", out.buf);
}

/* export -o DIR, SIGTERM while .files.ndjson.PID.tmp (environments and
 * command lines) is written: it is gone, and so is files.ndjson; the tables
 * written before it stay, each complete. */
static void export_term(void)
{
	char d[600];
	snprintf(d, sizeof(d), "%s/ex", dir);
	const char *argv[] = {"procsnap", "export", "-q", "-o", d, live, NULL};
	struct run r = {"export", argv,	   NULL,      d, 0,	      ".files.ndjson.",
			".tmp",	  SIGTERM, "SIGTERM", 1, {NULL, NULL}};
	if (!run(&r))
		return;
	int n = listing(d, &out);
	CHECK(n > 0);
	CHECK(strstr(out.buf, "files.ndjson") == NULL);
	CHECK(strstr(out.buf, "capture_processes.ndjson\n") != NULL);
	/* nothing hidden, nothing but complete tables */
	for (const char *l = out.buf; *l; l = strchr(l, '\n') + 1) {
		size_t len = (size_t)(strchr(l, '\n') - l);
		CHECK(l[0] != '.');
		CHECK(len > 7 && memcmp(l + len - 7, ".ndjson", 7) == 0);
	}
	/* a complete table is whole: its last line ends */
	CHECK_INT(
	    tu_sh(NULL, "tail -c1 '%s/capture_processes.ndjson' | od -c | grep -q '\\\\n'", d), 0);
}

/* diff A B of two archives without indexes, SIGTERM while the temporary
 * index of A is written below $TMPDIR: $TMPDIR is left empty. */
static void diff_term(void)
{
	char t[600];
	mkdir_in(t, sizeof(t), "tmp-diff");
	const char *argv[] = {"procsnap", "diff", arch_a, arch_b, NULL};
	struct run r = {"diff", argv,	 t,	    t, 2,	 "index.db.tmp.",
			"",	SIGTERM, "SIGTERM", 1, {t, NULL}};
	if (!run(&r))
		return;
	/* neither index was written beside the archives */
	tu_sh(&out, "ls %s | grep -c '^[ab]\\.tar\\.zst'", dir);
	CHECK_STR(out.buf, "2\n");
}

/* merge OUT.db SNAP SNAP, SIGINT while OUT.db.tmp.PID is written. */
static void merge_int(void)
{
	char d[600], db[700];
	mkdir_in(d, sizeof(d), "merge");
	snprintf(db, sizeof(db), "%s/m.db", d);
	const char *argv[] = {"procsnap", "merge", db, live, live, NULL};
	struct run r = {"merge", argv, NULL, d, 0, "m.db.tmp.", "", SIGINT, "SIGINT", 1, {d, NULL}};
	run(&r);
}

/* report -o FILE A B, A an archive without its index, SIGHUP while the
 * diff's temporary index is written: $TMPDIR and FILE's directory empty. */
static void report_hup(void)
{
	char t[600], d[600], html[700];
	mkdir_in(t, sizeof(t), "tmp-report");
	mkdir_in(d, sizeof(d), "report");
	snprintf(html, sizeof(html), "%s/r.html", d);
	const char *argv[] = {"procsnap", "report", "-o", html, arch_a, live, NULL};
	struct run r = {"report", argv, t, t, 2, "index.db.tmp.", "", SIGHUP, "SIGHUP", 1, {t, d}};
	run(&r);
}

static const struct t_case t_cases[] = {T(index_term), T(index_int_running), T(export_term),
					T(diff_term),  T(merge_int),	     T(report_hup),
					{0, 0}};
T_MAIN_SETUP(t_cases, setup, teardown)
