/*
 * test_capture_fixture.c - ps_capture_run over samples/proc-fixture (--root):
 * the exact record list, identity, policy (never-read files, per-thread
 * files only, net/ once per netns), options, determinism, errors.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_capture_rec.h"

static char fixture[4096];

static void opts_init(struct ps_capture_opts *o, const char *root)
{
	memset(o, 0, sizeof(*o));
	snprintf(fixture, sizeof(fixture), "%s/samples/proc-fixture", t_srcdir);
	o->root = root ? root : fixture;
	o->start_ns = ps_mono_ns();
	/* The golden lists predate pagemap.sections: an ordinary tree records
	 * it as ABSENT (EOPNOTSUPP) per pid, checked in test_pagemap_live.c (fixture_root). */
	o->no_pagemap = 1;
}

/* Every record of a default walk, in order: kind, path, link target.  The
 * order is the sorted one (names, then numbers numerically), so it does not
 * depend on the filesystem the fixture was checked out on. */
static const char *const golden[] = {
    "D proc",
    "F proc/README.md",
    "D proc/driver",
    "F proc/driver/name with spaces",
    "F proc/loadavg",
    "F proc/meminfo",
    "F proc/modules",
    "L proc/mounts -> self/mounts",
    "L proc/net -> self/net",
    "L proc/self -> 4242",
    "F proc/stat",
    "D proc/sys",
    "D proc/sys/kernel",
    "F proc/sys/kernel/hostname",
    "F proc/sys/kernel/pid_max",
    "D proc/sys/kernel/random",
    "F proc/sys/kernel/random/boot_id",
    "F proc/sys/kernel/tainted",
    "L proc/thread-self -> 4242/task/4242",
    "F proc/uptime",
    "F proc/version",
    "D proc/1",
    "F proc/1/stat",
    "F proc/1/cgroup",
    "F proc/1/cmdline",
    "F proc/1/comm",
    "L proc/1/cwd -> /",
    "F proc/1/environ",
    "L proc/1/exe -> /usr/lib/systemd/systemd",
    "D proc/1/fd",
    "L proc/1/fd/0 -> /dev/null",
    "L proc/1/fd/1 -> /dev/null",
    "L proc/1/fd/3 -> socket:[12345]",
    "L proc/1/fd/4 -> anon_inode:[eventfd]",
    "D proc/1/fdinfo",
    "F proc/1/fdinfo/0",
    "F proc/1/fdinfo/3",
    "F proc/1/io",
    "F proc/1/limits",
    "F proc/1/maps",
    "F proc/1/mountinfo",
    "D proc/1/net",
    "F proc/1/net/dev",
    "F proc/1/net/tcp",
    "F proc/1/net/unix",
    "D proc/1/ns",
    "L proc/1/ns/mnt -> mnt:[4026531841]",
    "L proc/1/ns/net -> net:[4026531840]",
    "L proc/1/ns/pid -> pid:[4026531836]",
    "L proc/1/root -> /",
    "F proc/1/status",
    "D proc/1/task",
    "D proc/1/task/1",
    "F proc/1/task/1/comm",
    "F proc/1/task/1/stat",
    "F proc/1/task/1/status",
    "D proc/2",
    "F proc/2/stat",
    "F proc/2/cmdline",
    "F proc/2/comm",
    "L proc/2/cwd -> /",
    "D proc/2/ns",
    "L proc/2/ns/net -> net:[4026531840]",
    "L proc/2/root -> /",
    "F proc/2/status",
    "D proc/2/task",
    "D proc/2/task/2",
    "F proc/2/task/2/comm",
    "F proc/2/task/2/stat",
    "F proc/2/task/2/status",
    "D proc/42",
    "F proc/42/stat",
    "F proc/42/cmdline",
    "F proc/42/comm",
    "L proc/42/cwd -> /tmp/.x",
    "F proc/42/environ",
    "L proc/42/exe -> /tmp/.x/evil (deleted)",
    "D proc/42/fd",
    "L proc/42/fd/0 -> /dev/null",
    "L proc/42/fd/5 -> /tmp/a file (deleted)",
    "D proc/42/fdinfo",
    "F proc/42/fdinfo/5",
    "F proc/42/maps",
    "D proc/42/net",
    "F proc/42/net/dev",
    "F proc/42/net/tcp",
    "D proc/42/ns",
    "L proc/42/ns/net -> net:[4026532999]",
    "L proc/42/root -> /",
    "F proc/42/status",
    "D proc/42/task",
    "D proc/42/task/42",
    "F proc/42/task/42/comm",
    "F proc/42/task/42/stat",
    "F proc/42/task/42/status",
    "D proc/4242",
    "F proc/4242/stat",
    "F proc/4242/cmdline",
    "F proc/4242/comm",
    "L proc/4242/cwd -> /opt/my app",
    "F proc/4242/environ",
    "L proc/4242/exe -> /usr/bin/python3.11",
    "D proc/4242/fd",
    "L proc/4242/fd/0 -> /dev/null",
    "L proc/4242/fd/1 -> pipe:[777]",
    "L proc/4242/fd/2 -> pipe:[777]",
    "L proc/4242/fd/3 -> socket:[23456]",
    "L proc/4242/fd/4 -> /tmp/a file (deleted)",
    "L proc/4242/fd/5 -> /var/log/my app.log",
    "D proc/4242/fdinfo",
    "F proc/4242/fdinfo/3",
    "F proc/4242/fdinfo/4",
    "F proc/4242/limits",
    "F proc/4242/maps",
    "F proc/4242/mountinfo",
    "D proc/4242/ns",
    "L proc/4242/ns/mnt -> mnt:[4026531841]",
    "L proc/4242/ns/net -> net:[4026531840]",
    "L proc/4242/root -> /",
    "F proc/4242/smaps",
    "F proc/4242/status",
    "D proc/4242/task",
    "D proc/4242/task/4242",
    "F proc/4242/task/4242/comm",
    "F proc/4242/task/4242/stat",
    "F proc/4242/task/4242/status",
    "D proc/4242/task/4250",
    "F proc/4242/task/4250/comm",
    "F proc/4242/task/4250/stat",
    "F proc/4242/task/4250/status",
};

static void fmt_rec(const struct rec *r, char *out, size_t n)
{
	static const char k[] = "FLDA";
	if (r->target)
		snprintf(out, n, "%c %s -> %s", k[r->kind], r->path, r->target);
	else
		snprintf(out, n, "%c %s", k[r->kind], r->path);
}

static void fixture_records(void)
{
	struct ps_capture_opts o;
	opts_init(&o, NULL);
	struct recorder rc = {.keep_data = 1};
	struct ps_capture_stats st;
	CHECK_INT(rec_run(&rc, &o, &st), 0);

	size_t ng = sizeof(golden) / sizeof(golden[0]);
	CHECK_INT(rc.n, ng);
	char line[8192];
	for (size_t i = 0; i < rc.n && i < ng; i++) {
		fmt_rec(&rc.r[i], line, sizeof(line));
		CHECK_STR(line, golden[i]);
		CHECK_INT(rc.r[i].err, 0);
	}

	/* Content is the exact bytes, NULs and invalid UTF-8 included. */
	const struct rec *r = rec_find(&rc, "proc/4242/cmdline");
	static const char cmd[] =
	    "/usr/bin/python3\0/opt/my app/serve.py\0--name=caf\xc3\xa9\xff\xfe";
	CHECK(r && r->len == sizeof(cmd) && memcmp(r->data, cmd, sizeof(cmd)) == 0);
	r = rec_find(&rc, "proc/4242/environ");
	static const char env[] = "PATH=/usr/bin:/bin\0LANG=C.UTF-8\0GREETING=hello world";
	CHECK(r && r->len == sizeof(env) && memcmp(r->data, env, sizeof(env)) == 0);
	r = rec_find(&rc, "proc/42/status");
	CHECK(r && r->data && strncmp(r->data, "Name:\tmy (evil) prog\nUmask:", 27) == 0);
	r = rec_find(&rc, "proc/42/stat");
	CHECK(r && r->data && strncmp(r->data, "42 (my (evil) prog) S 1 ", 24) == 0);
	r = rec_find(&rc, "proc/2/cmdline");
	CHECK(r && r->kind == PS_KIND_FILE && r->len == 0);
	r = rec_find(&rc, "proc/sys/kernel/tainted");
	CHECK(r && r->len == 5 && memcmp(r->data, "4096\n", 5) == 0);
	r = rec_find(&rc, "proc/1/limits");
	const struct rec *r2 = rec_find(&rc, "proc/4242/limits");
	CHECK(r && r2 && r->len == r2->len && r->len > 0 && memcmp(r->data, r2->data, r->len) == 0);

	/* Modes come from lstat. */
	r = rec_find(&rc, "proc/4242/fd/3");
	CHECK(r && S_ISLNK(r->mode));
	r = rec_find(&rc, "proc/4242/task");
	CHECK(r && S_ISDIR(r->mode));
	r = rec_find(&rc, "proc/meminfo");
	CHECK(r && S_ISREG(r->mode));

	/* Nothing that must not be read was read, no duplicate netns, no
	 * per-process file under task/. */
	for (size_t i = 0; i < rc.n; i++) {
		const struct rec *x = &rc.r[i];
		if (x->data && strcmp(x->path, "proc/README.md") != 0) {
			CHECK(!strstr(x->data, "MUST NOT BE READ"));
			CHECK(!strstr(x->data, "DUPLICATE NETNS"));
			CHECK(!strstr(x->data, "per-process file under task/"));
		}
	}
	CHECK(!rec_find(&rc, "proc/kmsg"));
	CHECK(!rec_find(&rc, "proc/kcore"));
	CHECK(!rec_find(&rc, "proc/4242/numa_maps"));
	CHECK(!rec_find(&rc, "proc/4242/net"));
	CHECK(rec_find(&rc, "proc/42/net/tcp") != NULL); /* its own netns */

	/* read_ns is monotonic in walk order. */
	for (size_t i = 1; i < rc.n; i++)
		CHECK(rc.r[i].read_ns >= rc.r[i - 1].read_ns);

	/* Stats: 4 never-read system files, 1/{mem,clear_refs,pagemap},
	 * 4242/{mem,pagemap,numa_maps}. */
	CHECK_U64(st.skipped, 10);
	CHECK_U64(st.excluded, 0);
	CHECK_U64(st.procs, 4);
	CHECK_U64(st.threads, 5);
	CHECK_U64(st.absent, 0);
	CHECK_U64(st.hidden_procs, 0);
	CHECK_U64(st.partial_procs, 0);
	CHECK_U64(st.files + st.links + st.dirs + st.absent, rc.n);
	uint64_t bytes = 0;
	for (size_t i = 0; i < rc.n; i++)
		bytes += rc.r[i].len;
	CHECK_U64(st.bytes, bytes);
	CHECK(rc.progress_calls >= 1);
	CHECK_INT(rc.last_done, 4);
	CHECK_INT(rc.last_total, 4);
	rec_free(&rc);
}

static void fixture_processes(void)
{
	struct ps_capture_opts o;
	opts_init(&o, NULL);
	struct recorder rc = {0};
	struct ps_capture_stats st;
	CHECK_INT(rec_run(&rc, &o, &st), 0);
	CHECK_INT(rc.np, 4);
	static const struct {
		int pid;
		uint64_t starttime;
		int nthreads;
	} want[] = {{1, 23, 1}, {2, 23, 1}, {42, 4200, 1}, {4242, 12345, 2}};
	for (size_t i = 0; i < 4 && i < rc.np; i++) {
		CHECK_INT(rc.p[i].pid, want[i].pid);
		CHECK_U64(rc.p[i].starttime, want[i].starttime);
		CHECK_INT(rc.p[i].nthreads, want[i].nthreads);
		CHECK_INT(rc.p[i].partial, 0);
		/* 4250 is a thread of 4242, not a listed pid: not hidden. */
		CHECK_INT(rc.p[i].hidden, 0);
	}
	const struct ps_capture_proc *p = rec_proc(&rc, 42);
	CHECK(p && p->on_disk == 0); /* exe "... (deleted)" */
	p = rec_proc(&rc, 2);
	CHECK(p && p->on_disk == -1); /* kernel thread: no exe */
	/* Each process event comes right after its own records. */
	size_t i42 = 0;
	for (size_t i = 0; i < rc.n; i++)
		if (strncmp(rc.r[i].path, "proc/42/", 8) == 0)
			i42 = i;
	CHECK(i42 > 0 && i42 + 1 < rc.n && strcmp(rc.r[i42 + 1].path, "proc/4242") == 0);
	rec_free(&rc);
}

static void fixture_deterministic(void)
{
	struct ps_capture_opts o;
	opts_init(&o, NULL);
	struct recorder a = {.keep_data = 1}, b = {.keep_data = 1};
	struct ps_capture_stats st;
	CHECK_INT(rec_run(&a, &o, &st), 0);
	CHECK_INT(rec_run(&b, &o, &st), 0);
	CHECK_INT(a.n, b.n);
	for (size_t i = 0; i < a.n && i < b.n; i++) {
		CHECK_STR(a.r[i].path, b.r[i].path);
		CHECK_INT(a.r[i].kind, b.r[i].kind);
		CHECK_INT(a.r[i].len, b.r[i].len);
		CHECK(a.r[i].len == b.r[i].len &&
		      (a.r[i].len == 0 || memcmp(a.r[i].data, b.r[i].data, a.r[i].len) == 0));
		CHECK(
		    (!a.r[i].target && !b.r[i].target) ||
		    (a.r[i].target && b.r[i].target && strcmp(a.r[i].target, b.r[i].target) == 0));
	}
	rec_free(&a);
	rec_free(&b);
}

static void fixture_options(void)
{
	struct ps_capture_opts o;
	struct ps_capture_stats st;
	struct recorder rc = {0};

	opts_init(&o, NULL);
	o.no_threads = 1;
	CHECK_INT(rec_run(&rc, &o, &st), 0);
	CHECK(rec_find(&rc, "proc/4242/task") != NULL);
	CHECK_INT(rec_count_prefix(&rc, "proc/4242/task/"), 0);
	CHECK_U64(st.threads, 0);
	const struct ps_capture_proc *p = rec_proc(&rc, 4242);
	CHECK(p && p->nthreads == 2); /* task/ is still listed */
	CHECK_U64(st.hidden_procs, 0);
	rec_free(&rc);

	opts_init(&o, NULL);
	o.no_smaps = 1;
	o.numa_maps = 1;
	CHECK_INT(rec_run(&rc, &o, &st), 0);
	CHECK(!rec_find(&rc, "proc/4242/smaps"));
	CHECK(rec_find(&rc, "proc/4242/numa_maps") != NULL);
	CHECK_U64(st.skipped, 10);
	rec_free(&rc);

	/* Excluded paths are omitted (no record); an excluded dir is not
	 * descended; fnmatch without flags: '*' crosses '/'. */
	static const char *const ex[] = {"proc/*/environ", "proc/4242/fd", "proc/sys/*"};
	opts_init(&o, NULL);
	o.excludes = ex;
	o.nexcludes = 3;
	CHECK_INT(rec_run(&rc, &o, &st), 0);
	CHECK_INT(rec_count_prefix(&rc, "proc/1/environ"), 0);
	CHECK_INT(rec_count_prefix(&rc, "proc/4242/environ"), 0);
	CHECK(!rec_find(&rc, "proc/4242/fd"));
	CHECK_INT(rec_count_prefix(&rc, "proc/4242/fd/"), 0);
	CHECK(rec_find(&rc, "proc/4242/fdinfo") != NULL);
	CHECK(rec_find(&rc, "proc/sys") != NULL);
	CHECK_INT(rec_count_prefix(&rc, "proc/sys/"), 0);
	/* 3 environ + 4242/fd + sys/kernel */
	CHECK_U64(st.excluded, 5);
	rec_free(&rc);
}

static void fixture_pids(void)
{
	/* Only the pids asked for, in that order; an absent one is an ABSENT
	 * record with its errno; a repeat is captured once; no sweep. */
	static const int pids[] = {4242, 999999, 42, 4242};
	struct ps_capture_opts o;
	opts_init(&o, NULL);
	o.pids = pids;
	o.npids = 4;
	struct recorder rc = {0};
	struct ps_capture_stats st;
	CHECK_INT(rec_run(&rc, &o, &st), 0);
	CHECK_INT(rc.np, 2);
	if (rc.np == 2) {
		CHECK_INT(rc.p[0].pid, 4242);
		CHECK_INT(rc.p[1].pid, 42);
	}
	const struct rec *r = rec_find(&rc, "proc/999999");
	CHECK(r && r->kind == PS_KIND_ABSENT && r->err == ENOENT);
	CHECK_INT(rec_count(&rc, "proc/4242"), 1);
	CHECK(!rec_find(&rc, "proc/1"));
	CHECK(rec_find(&rc, "proc/meminfo") != NULL); /* system files still */
	CHECK_U64(st.errors[ENOENT], 1);
	CHECK_U64(st.absent, 1);
	/* pid 1 is not captured, so 4242 is the first in net:[4026531840] */
	CHECK(rec_find(&rc, "proc/4242/net/tcp") != NULL);
	/* ... in walk order: 4242 before 999999 before 42 */
	size_t a = 0, b = 0, c = 0;
	for (size_t i = 0; i < rc.n; i++) {
		if (!strcmp(rc.r[i].path, "proc/4242"))
			a = i;
		if (!strcmp(rc.r[i].path, "proc/999999"))
			b = i;
		if (!strcmp(rc.r[i].path, "proc/42"))
			c = i;
	}
	CHECK(a < b && b < c);
	rec_free(&rc);
}

/* cp -a the fixture into a fresh temp dir; returns 0. */
static int copy_fixture(char *dir, size_t n)
{
	snprintf(dir, n, "/tmp/ps-capture-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	char cmd[8192];
	snprintf(cmd, sizeof(cmd), "cp -a '%s/samples/proc-fixture/.' '%s/'", t_srcdir, dir);
	if (chmod(dir, 0755) != 0)
		return -1;
	return system(cmd) == 0 ? 0 : -1;
}

static void remove_tree(const char *dir)
{
	char cmd[8192];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "warning: could not remove %s\n", dir);
}

static void write_file(const char *path, const char *data, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	CHECK(fd >= 0);
	if (fd < 0)
		return;
	CHECK(write(fd, data, strlen(data)) == (ssize_t)strlen(data));
	close(fd);
	CHECK(chmod(path, mode) == 0);
}

static void fixture_odd_files(void)
{
	char dir[256], path[512];
	if (copy_fixture(dir, sizeof(dir)) != 0) {
		CHECK(!"copy fixture");
		return;
	}
	/* Write-only: never opened, no record, counted as skipped. */
	snprintf(path, sizeof(path), "%s/sys/vm", dir);
	CHECK(mkdir(path, 0755) == 0);
	snprintf(path, sizeof(path), "%s/sys/vm/drop_caches", dir);
	write_file(path, "MUST NOT BE READ\n", 0200);
	/* A FIFO would block a reader that waits: never opened, but listed
	 * (absent, ENODEV, its mode kept). */
	snprintf(path, sizeof(path), "%s/driver/fifo", dir);
	CHECK(mkfifo(path, 0644) == 0);
	/* Any byte in a name is passed through: newline, tab, invalid UTF-8. */
	snprintf(path, sizeof(path), "%s/driver/odd\nname\t\xff\xfe", dir);
	write_file(path, "odd\n", 0444);
	/* No permission bits at all is not write-only: it is tried (root
	 * reads it; see fixture_eacces for everyone else). */
	snprintf(path, sizeof(path), "%s/driver/nomode", dir);
	write_file(path, "x\n", 0);
	/* A pid directory in a --root tree holding a symlink to a directory:
	 * recorded as a link, never followed. */
	snprintf(path, sizeof(path), "%s/42/attr", dir);
	CHECK(symlink("/etc", path) == 0);

	struct ps_capture_opts o;
	opts_init(&o, dir);
	struct recorder rc = {.keep_data = 1};
	struct ps_capture_stats st;
	CHECK_INT(rec_run(&rc, &o, &st), 0);
	CHECK(!rec_find(&rc, "proc/sys/vm/drop_caches"));
	CHECK(rec_find(&rc, "proc/sys/vm") != NULL);
	const struct rec *fifo = rec_find(&rc, "proc/driver/fifo");
	CHECK(fifo && fifo->kind == PS_KIND_ABSENT && fifo->err == ENODEV && S_ISFIFO(fifo->mode) &&
	      fifo->len == 0);
	const struct rec *r = rec_find(&rc, "proc/driver/odd\nname\t\xff\xfe");
	CHECK(r && r->kind == PS_KIND_FILE && r->len == 4);
	r = rec_find(&rc, "proc/42/attr");
	CHECK(r && r->kind == PS_KIND_LINK && r->target && strcmp(r->target, "/etc") == 0);
	CHECK_INT(rec_count_prefix(&rc, "proc/42/attr/"), 0);
	r = rec_find(&rc, "proc/driver/nomode");
	if (geteuid() == 0)
		CHECK(r && r->kind == PS_KIND_FILE && r->len == 2);
	else
		CHECK(r && r->kind == PS_KIND_ABSENT && r->err == EACCES);
	CHECK_U64(st.skipped, 11);
	for (size_t i = 0; i < rc.n; i++)
		CHECK(!rc.r[i].data || !strcmp(rc.r[i].path, "proc/README.md") ||
		      !strstr(rc.r[i].data, "MUST NOT BE READ"));
	rec_free(&rc);
	remove_tree(dir);
}

/* A pid directory created while the walk runs (after the root listing)
 * is a process started during the capture, not a hidden one. */
static char late_dir[512];
static void late_hook(struct recorder *rc, const struct rec *r)
{
	(void)rc;
	if (strcmp(r->path, "proc/4242/stat") == 0 && late_dir[0]) {
		CHECK(mkdir(late_dir, 0555) == 0);
		late_dir[0] = '\0';
	}
}

static void fixture_late_pid(void)
{
	char dir[256];
	if (copy_fixture(dir, sizeof(dir)) != 0) {
		CHECK(!"copy fixture");
		return;
	}
	snprintf(late_dir, sizeof(late_dir), "%s/4299", dir);
	struct ps_capture_opts o;
	opts_init(&o, dir);
	struct recorder rc = {.hook = late_hook};
	struct ps_capture_stats st;
	CHECK_INT(rec_run(&rc, &o, &st), 0);
	CHECK(late_dir[0] == '\0'); /* the hook ran */
	CHECK_U64(st.hidden_procs, 0);
	CHECK(!rec_find(&rc, "proc/4299"));
	CHECK_INT(rc.np, 4);
	rec_free(&rc);
	remove_tree(dir);
}

/* EACCES: as root, DAC is bypassed, so drop to nobody in a child. */
static void fixture_eacces(void)
{
	char dir[256], path[512];
	if (copy_fixture(dir, sizeof(dir)) != 0) {
		CHECK(!"copy fixture");
		return;
	}
	snprintf(path, sizeof(path), "%s/4242/environ", dir);
	CHECK(chown(path, 0, 0) == 0 || geteuid() != 0);
	/* root's own 0400: EACCES for nobody; not root: mode 000 for us */
	CHECK(chmod(path, geteuid() == 0 ? 0400 : 0) == 0);
	snprintf(path, sizeof(path), "%s/4242/fdinfo", dir);
	CHECK(chmod(path, geteuid() == 0 ? 0700 : 0) == 0);
	snprintf(path, sizeof(path), "%s/4242/limits", dir);
	CHECK(chmod(path, 0) == 0);
	pid_t pid = fork();
	if (pid == 0) {
		if (geteuid() == 0 &&
		    (setgroups(0, NULL) != 0 || setresgid(65534, 65534, 65534) != 0 ||
		     setresuid(65534, 65534, 65534) != 0))
			_exit(3);
		static const int pids[] = {4242};
		struct ps_capture_opts o;
		opts_init(&o, dir);
		o.pids = pids;
		o.npids = 1;
		struct recorder rc = {0};
		struct ps_capture_stats st;
		if (rec_run(&rc, &o, &st) != 0)
			_exit(4);
		const struct rec *r = rec_find(&rc, "proc/4242/environ");
		if (!r || r->kind != PS_KIND_ABSENT || r->err != EACCES)
			_exit(5);
		/* A directory that cannot be listed: DIR record with err. */
		r = rec_find(&rc, "proc/4242/fdinfo");
		if (!r || r->kind != PS_KIND_DIR || r->err != EACCES)
			_exit(6);
		if (rec_count_prefix(&rc, "proc/4242/fdinfo/") != 0)
			_exit(7);
		const struct ps_capture_proc *p = rec_proc(&rc, 4242);
		r = rec_find(&rc, "proc/4242/limits");
		if (!r || r->kind != PS_KIND_ABSENT || r->err != EACCES)
			_exit(8);
		if (!p || p->partial || st.errors[EACCES] != 3 || st.absent != 2)
			_exit(9);
		_exit(0);
	}
	int status = 0;
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status));
	CHECK_INT(WEXITSTATUS(status), 0);
	snprintf(path, sizeof(path), "%s/4242/fdinfo", dir);
	CHECK(chmod(path, 0755) == 0);
	remove_tree(dir);
}

/* Mount points inside the root are recorded, never descended: a system dir
 * (binfmt_misc, nfsd...) and a pid directory with something mounted over it
 * (a way to hide a process). Needs CAP_SYS_ADMIN: skipped otherwise. */
static void fixture_mounts(void)
{
	char dir[256], a[512], b[512];
	if (copy_fixture(dir, sizeof(dir)) != 0) {
		CHECK(!"copy fixture");
		return;
	}
	snprintf(a, sizeof(a), "%s/sys/kernel/random", dir);
	snprintf(b, sizeof(b), "%s/42", dir);
	pid_t pid = fork();
	if (pid == 0) {
		if (unshare(CLONE_NEWNS) != 0 ||
		    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
		    mount("none", a, "tmpfs", 0, NULL) != 0 ||
		    mount("none", b, "tmpfs", 0, NULL) != 0)
			_exit(77);
		char f[600];
		snprintf(f, sizeof(f), "%s/stat", b);
		int fd = open(f, O_WRONLY | O_CREAT, 0644); /* fake content over 42 */
		if (fd < 0 || write(fd, "42 (fake) S 1", 13) != 13)
			_exit(2);
		close(fd);
		struct ps_capture_opts o;
		opts_init(&o, dir);
		struct recorder rc = {0};
		struct ps_capture_stats st;
		if (rec_run(&rc, &o, &st) != 0)
			_exit(3);
		const struct rec *r = rec_find(&rc, "proc/sys/kernel/random");
		if (!r || r->kind != PS_KIND_DIR || r->err != 0 ||
		    rec_count_prefix(&rc, "proc/sys/kernel/random/") != 0)
			_exit(4);
		r = rec_find(&rc, "proc/42");
		if (!r || r->kind != PS_KIND_DIR || r->err != EXDEV ||
		    rec_count_prefix(&rc, "proc/42/") != 0 || rec_proc(&rc, 42))
			_exit(5);
		if (st.skipped != 11 || rc.np != 3)
			_exit(6);
		_exit(0);
	}
	int status = 0;
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status));
	remove_tree(dir);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 77)
		T_SKIP_CASE("cannot mount here (needs CAP_SYS_ADMIN for a mount namespace)");
	CHECK_INT(WEXITSTATUS(status), 0);
}

static void fixture_root_errors(void)
{
	struct ps_capture_opts o;
	opts_init(&o, "/nonexistent/procsnap-root");
	struct recorder rc = {0};
	struct ps_capture_sink sink = {&rc, rec_record, rec_process, NULL, NULL};
	struct ps_err err;
	memset(&err, 0, sizeof(err));
	CHECK_INT(ps_capture_run(&o, &sink, NULL, &err), -1);
	CHECK_INT(err.code, ENOENT);
	CHECK(strstr(err.msg, "/nonexistent/procsnap-root") != NULL);
	CHECK_INT(rc.n, 0);
	rec_free(&rc);
}

/* A sink that fails stops the walk: -1 and its message. */
static int abort_after(void *ctx, const struct ps_capture_record *r, struct ps_err *err)
{
	int *left = ctx;
	(void)r;
	if (--*left > 0)
		return 0;
	return ps_err_set(err, EIO, "sink: disk full");
}

static void fixture_sink_abort(void)
{
	struct ps_capture_opts o;
	opts_init(&o, NULL);
	int left = 5;
	struct ps_capture_sink sink = {&left, abort_after, NULL, NULL, NULL};
	struct ps_capture_stats st;
	struct ps_err err;
	memset(&err, 0, sizeof(err));
	CHECK_INT(ps_capture_run(&o, &sink, &st, &err), -1);
	CHECK(strstr(err.msg, "disk full") != NULL);
	CHECK_U64(st.files + st.links + st.dirs + st.absent, 5);
}

static void fixture_host_facts(void)
{
	struct ps_capture_opts o;
	opts_init(&o, NULL);
	struct ps_buf b = PS_BUF_INIT;
	ps_capture_host_facts(fixture, &b);
	CHECK(strstr(b.buf, "\"boot_id\": \"0d6c1c3e-5b7a-4f7e-9a51-2b9c6f1e4a42\",\n") != NULL);
	CHECK(strstr(b.buf, "\"hostname\": \"") != NULL);
	CHECK(strstr(b.buf, "\"kernel_release\": \"") != NULL);
	CHECK(strstr(b.buf, "\"machine_id\": ") != NULL);
	CHECK(strstr(b.buf, "\"clock_ticks\": ") != NULL);
	char want[64];
	snprintf(want, sizeof(want), "\"page_size\": %ld,\n", sysconf(_SC_PAGESIZE));
	CHECK(strstr(b.buf, want) != NULL);
	snprintf(want, sizeof(want), "\"euid\": %u,\n", (unsigned)geteuid());
	CHECK(strstr(b.buf, want) != NULL);
	CHECK(strstr(b.buf, "\"cap_eff\": \"") != NULL);
	CHECK(strstr(b.buf, "\"proc_root\": \"") != NULL);
	/* Members only, each ending in ",\n", so the caller can wrap them. */
	CHECK(b.len > 2 && b.buf[0] == '"' && b.buf[b.len - 2] == ',' && b.buf[b.len - 1] == '\n');
	ps_buf_release(&b);
	ps_capture_host_facts("/nonexistent", &b);
	CHECK(strstr(b.buf, "\"boot_id\": null,\n") != NULL);
	ps_buf_release(&b);
}

static const struct t_case t_cases[] = {T(fixture_records),
					T(fixture_processes),
					T(fixture_deterministic),
					T(fixture_options),
					T(fixture_pids),
					T(fixture_odd_files),
					T(fixture_late_pid),
					T(fixture_eacces),
					T(fixture_mounts),
					T(fixture_root_errors),
					T(fixture_sink_abort),
					T(fixture_host_facts),
					{0, 0}};
T_MAIN(t_cases)
