/*
 * test_capture_live.c - ps_capture_run on the live /proc.
 *
 * A child is started by re-executing this binary with an exact argv and
 * environment (PS_CAPTURE_TEST_CHILD selects "child mode" in a constructor,
 * before main): it holds a regular file (fd 5, name with spaces), a pipe, a
 * listening 127.0.0.1 TCP socket, an anonymous and a file mapping, and 3
 * extra threads, then reports its port on fd 9 and waits to be killed.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "capture_int.h"
#include "procfs.h"
#include "test_capture_rec.h"

/* ---- child mode ---------------------------------------------------------------- */

static void *child_thread(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

__attribute__((constructor)) static void child_mode(void)
{
	if (!getenv("PS_CAPTURE_TEST_CHILD"))
		return;
	int p[2];
	if (pipe(p) != 0)
		_exit(10);
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t al = sizeof(a);
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(s, 4) != 0 ||
	    getsockname(s, (struct sockaddr *)&a, &al) != 0)
		_exit(11);
	char *anon =
	    mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	void *file = mmap(NULL, 4096, PROT_READ, MAP_SHARED, 5, 0);
	if (anon == MAP_FAILED || file == MAP_FAILED)
		_exit(12);
	memset(anon, 0x5a, 3 * 4096);
	for (int i = 0; i < 3; i++) {
		pthread_t t;
		if (pthread_create(&t, NULL, child_thread, NULL) != 0)
			_exit(13);
	}
	uint16_t port = ntohs(a.sin_port);
	if (write(9, &port, sizeof(port)) != sizeof(port))
		_exit(14);
	close(9);
	for (;;)
		pause();
}

/* ---- parent side ------------------------------------------------------------------ */

struct child {
	pid_t pid;
	uint16_t port;
	char file[64];
};

static char *const child_argv[] = {"ps-capture-child", "serve", "arg with space", "caf\xc3\xa9\xff",
				   NULL};
static char *const child_envp[] = {"PS_CAPTURE_TEST_CHILD=1", "GREETING=hello world", NULL};
static const char child_cmdline[] = "ps-capture-child\0serve\0arg with space\0caf\xc3\xa9\xff";
static const char child_environ[] = "PS_CAPTURE_TEST_CHILD=1\0GREETING=hello world";

static int start_child(struct child *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->file, sizeof(c->file), "/tmp/ps capture live XXXXXX");
	int fd = mkstemp(c->file);
	if (fd < 0)
		return -1;
	if (write(fd, "procsnap test file\n", 19) != 19)
		return -1;
	int rdy[2];
	if (pipe2(rdy, O_CLOEXEC) != 0)
		return -1;
	c->pid = fork();
	if (c->pid == 0) {
		/* Move both out of the way first: either may already be 5 or 9. */
		int f = fcntl(fd, F_DUPFD, 20), r = fcntl(rdy[1], F_DUPFD, 20);
		if (f < 0 || r < 0 || dup2(f, 5) < 0 || dup2(r, 9) < 0)
			_exit(126);
		close(f);
		close(r);
		execve("/proc/self/exe", child_argv, child_envp);
		_exit(127);
	}
	close(rdy[1]);
	close(fd);
	ssize_t n = read(rdy[0], &c->port, sizeof(c->port));
	close(rdy[0]);
	return c->pid > 0 && n == (ssize_t)sizeof(c->port) ? 0 : -1;
}

static void stop_child(struct child *c)
{
	if (c->pid > 0) {
		kill(c->pid, SIGKILL);
		waitpid(c->pid, NULL, 0);
	}
	if (c->file[0])
		unlink(c->file);
	c->pid = 0;
}

static void opts_live(struct ps_capture_opts *o, const int *pids, size_t npids)
{
	memset(o, 0, sizeof(*o));
	o->root = "/proc";
	o->pids = pids;
	o->npids = npids;
	o->start_ns = ps_mono_ns();
}

/* starttime (stat field 22) read independently of capture. */
static uint64_t read_starttime(pid_t pid)
{
	char path[64], buf[4096];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof(buf));
	close(fd);
	struct ps_stat st;
	if (n <= 0 || ps_stat_parse(buf, (size_t)n, &st) != 0)
		return 0;
	return st.starttime;
}

static int is_digits(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

static void live_child(void)
{
	struct child c;
	if (start_child(&c) != 0) {
		CHECK(!"start child");
		stop_child(&c);
		return;
	}
	int pids[] = {c.pid};
	struct ps_capture_opts o;
	opts_live(&o, pids, 1);
	struct recorder rc = {.keep_data = 1};
	struct ps_capture_stats st;
	CHECK_INT(rec_run(&rc, &o, &st), 0);

	char pfx[64], path[256];
	snprintf(pfx, sizeof(pfx), "proc/%d", (int)c.pid);
	size_t pl = strlen(pfx);

	/* argv and environment, byte for byte. */
	snprintf(path, sizeof(path), "%s/cmdline", pfx);
	const struct rec *r = rec_find(&rc, path);
	CHECK(r && r->kind == PS_KIND_FILE && r->len == sizeof(child_cmdline) &&
	      memcmp(r->data, child_cmdline, sizeof(child_cmdline)) == 0);
	snprintf(path, sizeof(path), "%s/environ", pfx);
	r = rec_find(&rc, path);
	CHECK(r && r->kind == PS_KIND_FILE && r->len == sizeof(child_environ) &&
	      memcmp(r->data, child_environ, sizeof(child_environ)) == 0);
	snprintf(path, sizeof(path), "%s/status", pfx);
	r = rec_find(&rc, path);
	CHECK(r && r->data && strstr(r->data, "\nThreads:\t4\n") != NULL);
	CHECK(r && S_ISREG(r->mode) && (r->mode & 0444) == 0444 && r->uid == geteuid());

	/* fds: the file (by name), both pipe ends (same pipe, modes say which
	 * end: l-wx for the write end), the socket. */
	snprintf(path, sizeof(path), "%s/fd/5", pfx);
	r = rec_find(&rc, path);
	CHECK(r && r->kind == PS_KIND_LINK && r->target && strcmp(r->target, c.file) == 0);
	/* fds 0-2 are inherited (maybe pipes of the test runner): look for a
	 * read end (lr-x) and a write end (l-wx) of the same pipe. */
	const struct rec *sock = NULL;
	int pipe_pair = 0;
	snprintf(path, sizeof(path), "%s/fd/", pfx);
	for (size_t i = 0; i < rc.n; i++) {
		const struct rec *x = &rc.r[i];
		if (strncmp(x->path, path, strlen(path)) != 0 || !x->target)
			continue;
		if (strncmp(x->target, "socket:[", 8) == 0)
			sock = x;
		if (strncmp(x->target, "pipe:[", 6) != 0 || (x->mode & 0777) != 0500)
			continue;
		for (size_t j = 0; j < rc.n; j++)
			if (strncmp(rc.r[j].path, path, strlen(path)) == 0 && rc.r[j].target &&
			    strcmp(rc.r[j].target, x->target) == 0 && (rc.r[j].mode & 0777) == 0300)
				pipe_pair = 1;
	}
	CHECK(pipe_pair);
	CHECK(sock != NULL);
	uint64_t sock_ino = sock ? strtoull(sock->target + 8, NULL, 10) : 0;

	/* net/ is captured for the first pid of its netns: the listener is in
	 * net/tcp with the socket's inode and our port. */
	snprintf(path, sizeof(path), "%s/net/tcp", pfx);
	r = rec_find(&rc, path);
	CHECK(r && r->kind == PS_KIND_FILE);
	int found = 0;
	if (r && r->data) {
		size_t pos = 0;
		struct ps_inet_sock is;
		int k;
		while ((k = ps_inet_next(r->data, r->len, &pos, &is)) != 0) {
			if (k == 1 && is.inode == sock_ino && is.state == 0x0A &&
			    is.local_port == c.port && strcmp(is.local_text, "127.0.0.1") == 0)
				found = 1;
		}
	}
	CHECK(found);

	/* The file mapping: in maps, and as a map_files/ link. */
	snprintf(path, sizeof(path), "%s/maps", pfx);
	r = rec_find(&rc, path);
	CHECK(r && r->data && strstr(r->data, c.file) != NULL);
	int mapped = 0;
	snprintf(path, sizeof(path), "%s/map_files/", pfx);
	for (size_t i = 0; i < rc.n; i++)
		if (strncmp(rc.r[i].path, path, strlen(path)) == 0 && rc.r[i].target &&
		    strcmp(rc.r[i].target, c.file) == 0)
			mapped = 1;
	CHECK(mapped);

	/* 4 threads, each a task/<tid> dir with per-thread files only. */
	int ntask = 0, nstat = 0, repeats = 0;
	snprintf(path, sizeof(path), "%s/task/", pfx);
	size_t tl = strlen(path);
	for (size_t i = 0; i < rc.n; i++) {
		const char *p = rc.r[i].path;
		if (strncmp(p, path, tl) != 0)
			continue;
		const char *rest = p + tl, *sl = strchr(rest, '/');
		if (!sl && is_digits(rest) && rc.r[i].kind == PS_KIND_DIR)
			ntask++;
		else if (sl && strcmp(sl, "/stat") == 0 && rc.r[i].kind == PS_KIND_FILE)
			nstat++;
		else if (sl && (!strcmp(sl, "/maps") || !strcmp(sl, "/environ") ||
				!strncmp(sl, "/fd", 3) || !strncmp(sl, "/net", 4)))
			repeats++;
	}
	CHECK_INT(ntask, 4);
	CHECK_INT(nstat, 4);
	CHECK_INT(repeats, 0);

	/* exe as readlink sees it; identity as stat says it. */
	char exe[4096];
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)c.pid);
	ssize_t n = readlink(path, exe, sizeof(exe) - 1);
	CHECK(n > 0);
	exe[n > 0 ? n : 0] = '\0';
	snprintf(path, sizeof(path), "%s/exe", pfx);
	r = rec_find(&rc, path);
	CHECK(r && r->kind == PS_KIND_LINK && r->target && strcmp(r->target, exe) == 0);

	CHECK_INT(rc.np, 1);
	const struct ps_capture_proc *p = rec_proc(&rc, c.pid);
	CHECK(p != NULL);
	if (p) {
		CHECK_U64(p->starttime, read_starttime(c.pid));
		CHECK(p->starttime > 0);
		CHECK_INT(p->nthreads, 4);
		CHECK_INT(p->partial, 0);
		CHECK_INT(p->hidden, 0);
		CHECK_INT(p->on_disk, 1);
	}

	/* Never read, never recorded. */
	for (size_t i = 0; i < rc.n; i++) {
		const char *x = rc.r[i].path;
		if (strncmp(x, pfx, pl) != 0 || x[pl] != '/')
			continue;
		CHECK(strcmp(x + pl, "/mem") != 0);
		CHECK(strcmp(x + pl, "/pagemap") != 0);
		CHECK(strcmp(x + pl, "/clear_refs") != 0);
		CHECK(strcmp(x + pl, "/numa_maps") != 0);
	}
	CHECK(!rec_find(&rc, "proc/kmsg"));
	CHECK(!rec_find(&rc, "proc/kpageflags"));
	r = rec_find(&rc, "proc/self");
	CHECK(r && r->kind == PS_KIND_LINK);
	r = rec_find(&rc, "proc/sys/kernel/pid_max");
	CHECK(r && r->kind == PS_KIND_FILE && r->len > 1);
	CHECK_U64(st.hidden_procs, 0);
	rec_free(&rc);
	stop_child(&c);
}

static void live_exited_pid(void)
{
	pid_t pid = fork();
	if (pid == 0)
		_exit(0);
	CHECK(waitpid(pid, NULL, 0) == pid);
	int pids[] = {pid};
	struct ps_capture_opts o;
	opts_live(&o, pids, 1);
	struct recorder rc = {0};
	struct ps_capture_stats st;
	CHECK_INT(rec_run(&rc, &o, &st), 0);
	char path[64];
	snprintf(path, sizeof(path), "proc/%d", (int)pid);
	const struct rec *r = rec_find(&rc, path);
	CHECK(r && r->kind == PS_KIND_ABSENT && r->err == ENOENT);
	CHECK_INT(rc.np, 0);
	CHECK_U64(st.procs, 0);
	rec_free(&rc);
}

/* Kill (and reap) the child as soon as its stat record has arrived. */
static pid_t victim;
static void kill_after_stat(struct recorder *rc, const struct rec *r)
{
	(void)rc;
	char path[64];
	snprintf(path, sizeof(path), "proc/%d/stat", (int)victim);
	if (victim > 0 && strcmp(r->path, path) == 0) {
		kill(victim, SIGKILL);
		waitpid(victim, NULL, 0);
		victim = 0;
	}
}

static void live_partial(void)
{
	struct child c;
	if (start_child(&c) != 0) {
		CHECK(!"start child");
		stop_child(&c);
		return;
	}
	uint64_t start = read_starttime(c.pid);
	victim = c.pid;
	int pids[] = {c.pid};
	struct ps_capture_opts o;
	opts_live(&o, pids, 1);
	struct recorder rc = {.hook = kill_after_stat};
	struct ps_capture_stats st;
	CHECK_INT(rec_run(&rc, &o, &st), 0);
	CHECK_INT(victim, 0); /* the hook ran */
	const struct ps_capture_proc *p = rec_proc(&rc, c.pid);
	CHECK(p != NULL);
	if (p) {
		CHECK_INT(p->partial, 1);
		CHECK_U64(p->starttime, start);
	}
	CHECK_U64(st.partial_procs, 1);
	char path[64];
	snprintf(path, sizeof(path), "proc/%d/stat", (int)c.pid);
	const struct rec *r = rec_find(&rc, path);
	CHECK(r && r->kind == PS_KIND_FILE && r->len > 0);
	rec_free(&rc);
	c.pid = 0; /* already reaped */
	stop_child(&c);
}

/* During a full walk: start a thread in this process after our own pid
 * was walked, and a new process; neither may be reported hidden. */
static pthread_t late_thread;
static int late_thread_started;
static int late_pipe[2] = {-1, -1};
static pid_t late_child;
static void *late_fn(void *arg)
{
	char c;
	(void)arg;
	/* Lives until the test closes the write end (after the capture). */
	while (read(late_pipe[0], &c, 1) < 0 && errno == EINTR)
		;
	return NULL;
}
static void churn_hook(struct recorder *rc, const struct ps_capture_proc *p)
{
	(void)rc;
	if (!late_child) {
		late_child = fork();
		if (late_child == 0) {
			close(late_pipe[1]);
			pause();
			_exit(0);
		}
	}
	if (p->pid == getpid() && !late_thread_started)
		late_thread_started = pthread_create(&late_thread, NULL, late_fn, NULL) == 0;
}

static void live_full(void)
{
	struct child c;
	if (start_child(&c) != 0) {
		CHECK(!"start child");
		stop_child(&c);
		return;
	}
	CHECK(pipe(late_pipe) == 0);
	struct ps_capture_opts o;
	opts_live(&o, NULL, 0);
	struct recorder rc = {.phook = churn_hook};
	struct ps_capture_stats st;
	CHECK_INT(rec_run(&rc, &o, &st), 0);
	CHECK(late_thread_started);
	CHECK(late_child > 0);
	CHECK_U64(st.hidden_procs, 0);
	for (size_t i = 0; i < rc.np; i++)
		if (rc.p[i].hidden)
			fprintf(stderr, "reported hidden: %d\n", rc.p[i].pid);
	CHECK(st.procs >= 3);
	CHECK_U64(st.procs, rc.np);
	const struct ps_capture_proc *p = rec_proc(&rc, c.pid);
	CHECK(p && p->nthreads == 4 && !p->partial);
	p = rec_proc(&rc, getpid());
	CHECK(p && p->on_disk == 1);
	CHECK(rec_proc(&rc, 1) != NULL);
	/* Exactly one net/ per network namespace: this run sees at least one. */
	CHECK(rec_find(&rc, "proc/net") != NULL); /* the top-level link */
	size_t nnet = 0;
	for (size_t i = 0; i < rc.n; i++) {
		int pid;
		char tail[8];
		if (rc.r[i].kind == PS_KIND_DIR &&
		    sscanf(rc.r[i].path, "proc/%d/%7s", &pid, tail) == 2 &&
		    strcmp(tail, "net") == 0)
			nnet++;
	}
	CHECK(nnet >= 1);
	/* The sweep met the late child and the late thread (unknown to the
	 * walk, alive), whichever probe it used: the scheduler when the census
	 * agreed (the usual case), an fstatat of every id when it did not. */
	printf("sweep: probe %s, %llu unknown ids answered\n", st.sweep_sched ? "sched" : "stat",
	       (unsigned long long)st.sweep_answered);
	CHECK(st.sweep_answered >= 2);
	CHECK(rc.progress_calls >= 1);
	CHECK_INT(rc.last_done, rc.last_total);
	rec_free(&rc);
	close(late_pipe[1]);
	if (late_thread_started)
		pthread_join(late_thread, NULL);
	close(late_pipe[0]);
	if (late_child > 0) {
		kill(late_child, SIGKILL);
		waitpid(late_child, NULL, 0);
	}
	stop_child(&c);
}

/* The sweep's cheap probe against what procfs says of the same ids. */
static int lookup_knows(int id)
{
	char name[32];
	struct stat sb;
	snprintf(name, sizeof(name), "/proc/%d", id);
	return lstat(name, &sb) == 0;
}

static void *idle_fn(void *arg)
{
	int *fd = arg;
	char c;
	while (read(*fd, &c, 1) < 0 && errno == EINTR)
		;
	return NULL;
}

static void live_sched_knows(void)
{
	CHECK_INT(ps_cap_sched_knows(getpid()), 1);
	CHECK_INT(ps_cap_sched_knows(1), 1);
	CHECK_INT(ps_cap_sched_knows(0), 0);
	CHECK_INT(ps_cap_sched_knows(-1), 0);
	/* a thread's id (procfs answers /proc/<tid> too) */
	int pfd[2];
	CHECK(pipe(pfd) == 0);
	pthread_t t;
	CHECK(pthread_create(&t, NULL, idle_fn, &pfd[0]) == 0);
	int tid = 0; /* the task of ours that is not the main thread */
	DIR *d = opendir("/proc/self/task");
	struct dirent *de;
	while (d && (de = readdir(d)) != NULL) {
		char *e;
		long v = strtol(de->d_name, &e, 10);
		if (*e == '\0' && v > 0 && v != getpid())
			tid = (int)v;
	}
	if (d)
		closedir(d);
	CHECK(tid > 0);
	CHECK_INT(ps_cap_sched_knows(tid), 1);
	CHECK_INT(lookup_knows(tid), 1);
	close(pfd[1]);
	pthread_join(t, NULL);
	close(pfd[0]);
	/* a zombie is known to both; once reaped, to neither */
	pid_t z = fork();
	if (z == 0)
		_exit(0);
	CHECK(z > 0);
	siginfo_t si;
	CHECK(waitid(P_PID, (id_t)z, &si, WEXITED | WNOWAIT) == 0);
	CHECK_INT(ps_cap_sched_knows(z), 1);
	CHECK_INT(lookup_knows(z), 1);
	CHECK(waitpid(z, NULL, 0) == z);
	CHECK_INT(ps_cap_sched_knows(z), 0);
	CHECK_INT(lookup_knows(z), 0);
	/* no id at or past pid_max is ever given out */
	struct ps_buf f = PS_BUF_INIT;
	uint64_t pid_max = 0;
	CHECK(ps_read_at(AT_FDCWD, "/proc/sys/kernel/pid_max", &f, 0, NULL) == 0 &&
	      ps_u64_file_parse(f.buf, f.len, &pid_max) == 0);
	CHECK_INT(ps_cap_sched_knows((int)pid_max), 0);
	CHECK_INT(ps_cap_sched_knows((int)pid_max + 1000), 0);
	ps_buf_release(&f);
}

/* ---- the read-ahead (capture/prefetch.c) ------------------------------------------ */

/* Is a thread of this process named ps-prefetch? */
static int prefetch_running(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *de;
	int found = 0;
	char path[300], comm[32];
	while (d && !found && (de = readdir(d))) {
		if (!is_digits(de->d_name))
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/comm", de->d_name);
		FILE *f = fopen(path, "r");
		if (f && fgets(comm, sizeof(comm), f) && strcmp(comm, "ps-prefetch\n") == 0)
			found = 1;
		if (f)
			fclose(f);
	}
	if (d)
		closedir(d);
	return found;
}

/* Wait (at most 10 s) until no ps-prefetch thread runs: it has read every
 * pid of its list and ended. */
static void prefetch_wait(void)
{
	for (int i = 0; i < 1000 && prefetch_running(); i++)
		usleep(10000);
}

static pid_t ra_first;
/* Once the walk is past the first pid's listing (its status comes after
 * it), let the read-ahead finish the other pids before the walk goes on. */
static void ra_hook(struct recorder *rc, const struct rec *r)
{
	(void)rc;
	char path[64];
	snprintf(path, sizeof(path), "proc/%d/status", (int)ra_first);
	if (ra_first > 0 && strcmp(r->path, path) == 0) {
		prefetch_wait();
		ra_first = 0;
	}
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The live content of path (a comm: stable) equals p[0..len)? */
static int live_equals(const char *path, const void *p, size_t len)
{
	struct ps_buf f = PS_BUF_INIT;
	int eq = p && ps_read_at(AT_FDCWD, path, &f, 0, NULL) == 0 && f.len == len &&
		 memcmp(f.buf, p, len) == 0;
	ps_buf_release(&f);
	return eq;
}

/* The records below proc/<pid>/ of rc as "path kind mode uid err target" lines,
 * sorted (the content aside: counters move between two runs). */
static void rec_shape(const struct recorder *rc, pid_t pid, struct ps_buf *out)
{
	char pfx[32];
	int pl = snprintf(pfx, sizeof(pfx), "proc/%d/", (int)pid);
	char **v = calloc(rc->n + 1, sizeof(*v));
	size_t n = 0;
	for (size_t i = 0; v && i < rc->n; i++) {
		const struct rec *r = &rc->r[i];
		if (strncmp(r->path, pfx, (size_t)pl) != 0)
			continue;
		struct ps_buf l = PS_BUF_INIT;
		ps_buf_addf(&l, "%s %d %o %u %d %s", r->path + pl, (int)r->kind, r->mode, r->uid,
			    r->err, r->target ? r->target : "-");
		v[n++] = ps_buf_detach(&l, NULL);
	}
	qsort(v, n, sizeof(*v), cmp_str);
	ps_buf_reset(out);
	for (size_t i = 0; i < n; i++) {
		ps_buf_addf(out, "%s\n", v[i]);
		free(v[i]);
	}
	free(v);
}

/* Three children captured by pid: the second and third are read ahead
 * whole while the walk waits in the first (a hook).  Their records are the
 * ones a capture without the read-ahead makes (same paths, kinds, modes,
 * owners, errors), with the exact cmdline and environ; the read-ahead
 * served at least their pid files and every thread's; off, none. */
static void live_read_ahead(void)
{
	struct child c[3];
	int ok = 1;
	for (int i = 0; i < 3; i++)
		ok &= start_child(&c[i]) == 0;
	if (!ok) {
		CHECK(!"start children");
		for (int i = 0; i < 3; i++)
			stop_child(&c[i]);
		return;
	}
	int pids[] = {c[0].pid, c[1].pid, c[2].pid};
	struct ps_capture_opts o;
	struct ps_capture_stats st, st0;
	struct recorder ra = {.keep_data = 1, .hook = ra_hook}, plain = {.keep_data = 1};
	opts_live(&o, pids, 3);
	ra_first = c[0].pid;
	CHECK_INT(rec_run(&ra, &o, &st), 0);
	CHECK_INT(ra_first, 0); /* the hook ran */
	opts_live(&o, pids, 3);
	o.no_read_ahead = 1;
	CHECK_INT(rec_run(&plain, &o, &st0), 0);
	CHECK_U64(st0.read_ahead, 0);
	/* per child: its pid files but stat (~40) and 4 threads x ~12 */
	CHECK(st.read_ahead >= 2 * 60);
	CHECK(st.read_ahead <= st.files);
	struct ps_buf a = PS_BUF_INIT, b = PS_BUF_INIT;
	for (int i = 1; i < 3; i++) {
		rec_shape(&ra, c[i].pid, &a);
		rec_shape(&plain, c[i].pid, &b);
		CHECK(a.len > 1000);
		CHECK_STR(a.buf, b.buf);
		char path[96];
		snprintf(path, sizeof(path), "proc/%d/cmdline", (int)c[i].pid);
		const struct rec *r = rec_find(&ra, path);
		CHECK(r && r->len == sizeof(child_cmdline) &&
		      memcmp(r->data, child_cmdline, r->len) == 0);
		/* its read time is the read-ahead's: before the walk read the
		 * pid's stat itself (the hook held the walk until then) */
		char sp[64];
		snprintf(sp, sizeof(sp), "proc/%d/stat", (int)c[i].pid);
		const struct rec *st1 = rec_find(&ra, sp);
		CHECK(r && st1 && r->read_ns < st1->read_ns);
		snprintf(path, sizeof(path), "proc/%d/environ", (int)c[i].pid);
		r = rec_find(&ra, path);
		CHECK(r && r->len == sizeof(child_environ) &&
		      memcmp(r->data, child_environ, r->len) == 0);
		snprintf(path, sizeof(path), "proc/%d/task/%d/comm", (int)c[i].pid, (int)c[i].pid);
		r = rec_find(&ra, path);
		char live[100];
		snprintf(live, sizeof(live), "/%s", path);
		CHECK(r && live_equals(live, r->data, r->len));
		snprintf(path, sizeof(path), "proc/%d/maps", (int)c[i].pid);
		r = rec_find(&ra, path);
		CHECK(r && r->data && strstr(r->data, c[i].file) != NULL);
	}
	ps_buf_release(&a);
	ps_buf_release(&b);
	rec_free(&ra);
	rec_free(&plain);
	for (int i = 0; i < 3; i++)
		stop_child(&c[i]);
}

/* prefetch.c alone: a batch is the pid's own, found by key, from the pid
 * directory read (device and inode); another pid's claim gets nothing. */
static void live_prefetch_batch(void)
{
	struct child c;
	if (start_child(&c) != 0) {
		CHECK(!"start child");
		stop_child(&c);
		return;
	}
	int root = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct stat rsb, dsb;
	char dir[64];
	snprintf(dir, sizeof(dir), "/proc/%d", (int)c.pid);
	CHECK(root >= 0 && fstat(root, &rsb) == 0 && stat(dir, &dsb) == 0);
	static const char *const pn[] = {"cmdline", "environ", "no-such-file", "clear_refs"};
	static const char *const tn[] = {"comm"}, *const ln[] = {"fd"};
	int pids[] = {c.pid};
	for (int round = 0; round < 3; round++) {
		uint64_t t0 = ps_mono_ns();
		struct ps_pf *pf = ps_pf_start(root, rsb.st_dev, pids, 1);
		CHECK(pf != NULL);
		if (!pf)
			break;
		struct ps_pf_names nm = {.pid = pn,
					 .npid = 4,
					 .tid = tn,
					 .ntid = 1,
					 .ldir = ln,
					 .nldir = 1,
					 .fdinfo = 1};
		ps_pf_names(pf, 0, &nm);
		CHECK_INT(ps_pf_named(pf), 1);
		prefetch_wait();
		/* round 0: claimed as another pid, round 1 as another directory
		 * of that pid (another inode: a reused pid): dropped */
		struct ps_pf_batch *bt = ps_pf_claim(pf, 0, round ? c.pid : c.pid + 1, dsb.st_dev,
						     round == 1 ? dsb.st_ino + 1 : dsb.st_ino);
		if (round < 2) {
			CHECK(bt == NULL);
		} else {
			CHECK(bt != NULL);
			size_t len = 0;
			uint64_t at = 0;
			struct stat sb;
			const char *p = ps_pf_find(bt, "cmdline", &len, &sb, &at);
			CHECK(p && len == sizeof(child_cmdline) &&
			      memcmp(p, child_cmdline, len) == 0);
			CHECK(S_ISREG(sb.st_mode) && sb.st_dev == rsb.st_dev);
			/* read by the thread, after it started, before the claim */
			CHECK(at > t0 && at < ps_mono_ns());
			CHECK(ps_pf_find(bt, "environ", &len, &sb, &at) != NULL);
			CHECK_INT(sb.st_mode & 0777, 0400);
			/* absent, and write-only (never read): not held */
			CHECK(ps_pf_find(bt, "no-such-file", &len, &sb, &at) == NULL);
			CHECK(ps_pf_find(bt, "clear_refs", &len, &sb, &at) == NULL);
			CHECK(ps_pf_find(bt, "stat", &len, &sb, &at) == NULL);
			/* fd/5: the link, its lstat and target */
			p = ps_pf_find(bt, "fd/5", &len, &sb, &at);
			CHECK(p && S_ISLNK(sb.st_mode) && len == strlen(c.file) &&
			      memcmp(p, c.file, len) == 0);
			/* fdinfo/<fd>, fd 0 included: the child's file at 5 */
			p = ps_pf_find(bt, "fdinfo/5", &len, &sb, &at);
			CHECK(p && len > 5 && memcmp(p, "pos:", 4) == 0);
			char fd0[64];
			snprintf(fd0, sizeof(fd0), "/proc/%d/fdinfo/0", (int)c.pid);
			if (access(fd0, F_OK) == 0)
				CHECK(ps_pf_find(bt, "fdinfo/0", &len, &sb, &at) != NULL);
			char key[300], live[340];
			int nt = 0;
			snprintf(dir, sizeof(dir), "/proc/%d/task", (int)c.pid);
			DIR *d = opendir(dir);
			struct dirent *de;
			while (d && (de = readdir(d))) {
				if (!is_digits(de->d_name))
					continue;
				snprintf(key, sizeof(key), "task/%s/comm", de->d_name);
				snprintf(live, sizeof(live), "/proc/%d/%s", (int)c.pid, key);
				p = ps_pf_find(bt, key, &len, &sb, &at);
				CHECK(p && len > 1 && live_equals(live, p, len));
				nt++;
			}
			if (d)
				closedir(d);
			CHECK(nt >= 4); /* 4 threads (and ThreadSanitizer's own, under it) */
			ps_pf_release(bt);
		}
		CHECK_INT(ps_pf_stop(pf), 0);
	}
	if (root >= 0)
		close(root);
	stop_child(&c);
}

static void live_host_facts(void)
{
	struct ps_buf b = PS_BUF_INIT, f = PS_BUF_INIT;
	ps_capture_host_facts(NULL, &b);
	if (ps_read_at(AT_FDCWD, "/proc/sys/kernel/random/boot_id", &f, 0, NULL) == 0 &&
	    f.len > 1) {
		char want[128];
		snprintf(want, sizeof(want), "\"boot_id\": \"%.*s\",\n", (int)f.len - 1, f.buf);
		CHECK(strstr(b.buf, want) != NULL);
	}
	CHECK(strstr(b.buf, "\"proc_root\": \"/proc\",\n") != NULL);
	CHECK(strstr(b.buf, "\"cap_eff\": \"") != NULL);
	ps_buf_release(&b);
	ps_buf_release(&f);
}

static const struct t_case t_cases[] = {
    T(live_child),	    T(live_exited_pid),	 T(live_partial),
    T(live_full),	    T(live_sched_knows), T(live_read_ahead),
    T(live_prefetch_batch), T(live_host_facts),	 {0, 0}};
T_MAIN(t_cases)
