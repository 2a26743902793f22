/*
 * test_capture_hang.c - capture never hangs (issue 8.1, DESIGN 3).
 *
 * A FUSE file system made for the test (tests/hangfs.c) blocks every
 * getattr, open and read of its files once switched (SIGUSR1), and does not
 * even answer the kernel's interrupts: a thread stuck in it cannot be killed.
 * A victim process runs an executable that lives on it (or holds a file of
 * it open), and `procsnap capture` must:
 *   - time out hashing that executable once and hash the rest;
 *   - finish within its read timeout plus a margin, recording the stuck
 *     exe.body ABSENT with ETIMEDOUT and capturing what comes after it;
 *   - end within a second, status 2, no temporary file left, on SIGTERM
 *     and SIGINT while stuck;
 *   - stop at --deadline with a valid archive that says so;
 *   - never read a FIFO swapped in behind fd/N between its stat and open.
 * Skipped (77) only when /dev/fuse cannot be opened.
 */
#include "t.h"
#include "tutil.h"

#include "capture.h"
#include "capture_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define HANGFS PS_BINARY_DIR "/tests/hangfs"
/* The machine is shared: margins are generous, but every wait is bounded. */
#define MARGIN_S 10.0
/* Leaves the system files (/proc/sys, net...) out: the walk reaches the
 * victim at once, however loaded the machine (pids start with a digit). */
#define NO_SYS "-x", "proc/[a-z]*"

static char dir[512], mnt[600], ctl[600];
static pid_t daemon_pid;
static struct ps_buf out = PS_BUF_INIT;

/* ---- the file system ------------------------------------------------------------ */

static void block(int on)
{
	char mark[700], ack[700];
	snprintf(mark, sizeof(mark), "%s/blocked", ctl);
	snprintf(ack, sizeof(ack), "%s/on", ctl);
	if (on)
		unlink(mark);
	kill(daemon_pid, on ? SIGUSR1 : SIGUSR2);
	/* the daemon says when it has switched (CTLDIR/on): a fixed 50 ms was
	 * not always enough on a loaded machine, and a capture then read the
	 * exe before it blocked */
	for (double end = tu_now_s() + 10; (access(ack, F_OK) == 0) != on && tu_now_s() < end;)
		tu_sleep_ms(2);
	if ((access(ack, F_OK) == 0) != on) {
		fprintf(stderr, "hangfs did not switch %s\n", on ? "on" : "off");
		t_failures++;
	}
}

/* Has a request started to block (hangfs creates CTLDIR/blocked)? */
static int wait_blocked(double secs)
{
	char mark[700];
	snprintf(mark, sizeof(mark), "%s/blocked", ctl);
	for (double end = tu_now_s() + secs; tu_now_s() < end; tu_sleep_ms(20))
		if (access(mark, F_OK) == 0)
			return 1;
	return 0;
}

/* A field ("Tgid:", "PPid:") of /proc/<pid>/status, or -1. */
static int status_field(int pid, const char *key)
{
	char p[64], line[256];
	int v = -1;
	snprintf(p, sizeof(p), "/proc/%d/status", pid);
	FILE *f = fopen(p, "r");
	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, key, strlen(key)) == 0)
			v = atoi(line + strlen(key));
	if (f)
		fclose(f);
	return v;
}

/* Is the thread tid one of capture process cap's, or of its child (the
 * supervised worker, cli/supervise.c)? */
static int of_capture(int tid, pid_t cap)
{
	int tgid = status_field(tid, "Tgid:");
	return tid == (int)cap || tgid == (int)cap ||
	       (tgid > 0 && status_field(tgid, "PPid:") == (int)cap);
}

/* Requests of capture process cap (and its worker) that have started to
 * block so far (CTLDIR/blocked.N hold the requesting thread): not those of
 * the victim (the kernel may still be reading its executable ahead when
 * the switch goes on) nor of another test's capture of every pid, which
 * also reads the victim's files. */
static int nblocked(pid_t cap)
{
	int n = 0;
	DIR *d = opendir(ctl);
	for (struct dirent *e; d && (e = readdir(d));) {
		if (strncmp(e->d_name, "blocked.", 8) != 0 || strstr(e->d_name, ".tmp"))
			continue;
		char p[1400];
		int tid = 0;
		snprintf(p, sizeof(p), "%s/%s", ctl, e->d_name);
		FILE *f = fopen(p, "r");
		if (f) {
			if (fscanf(f, "%d", &tid) != 1)
				tid = 0;
			fclose(f);
		}
		n += tid > 0 && of_capture(tid, cap);
	}
	if (d)
		closedir(d);
	return n;
}

/* Reap capture processes orphaned while stuck (we are their subreaper). */
static void reap_orphans(void)
{
	for (double end = tu_now_s() + 5; tu_now_s() < end; tu_sleep_ms(20)) {
		pid_t p = waitpid(-1, NULL, WNOHANG);
		if (p < 0)
			return; /* no child left */
	}
}

static void setup(void)
{
	int fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		char why[128];
		snprintf(why, sizeof(why), "/dev/fuse: %s", strerror(errno));
		T_SKIP(why);
	}
	close(fd);
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	snprintf(dir, sizeof(dir), "%s", tu_tmpdir());
	snprintf(mnt, sizeof(mnt), "%s/mnt", dir);
	snprintf(ctl, sizeof(ctl), "%s/ctl", dir);
	mkdir(mnt, 0755);
	mkdir(ctl, 0755);
	struct stat before;
	stat(mnt, &before);
	daemon_pid = fork();
	if (daemon_pid == 0) {
		int nul = open("/dev/null", O_WRONLY);
		dup2(nul, 1);
		dup2(nul, 2);
		execl(HANGFS, HANGFS, mnt, ctl, (char *)NULL);
		_exit(127);
	}
	for (double end = tu_now_s() + 10; tu_now_s() < end; tu_sleep_ms(20)) {
		struct stat sb;
		if (stat(mnt, &sb) == 0 && sb.st_dev != before.st_dev)
			return;
	}
	fprintf(stderr, "hangfs did not mount on %s\n", mnt);
	t_failures++;
}

static void teardown(void)
{
	if (daemon_pid > 0) {
		kill(daemon_pid, SIGUSR2); /* release whatever is stuck */
		tu_sleep_ms(100);
		tu_sh(NULL, "fusermount3 -uz %s 2>/dev/null", mnt);
		kill(daemon_pid, SIGTERM);
		waitpid(daemon_pid, NULL, 0);
	}
	reap_orphans();
	ps_buf_release(&out);
	tu_cleanup();
}

/* ---- processes -------------------------------------------------------------------- */

struct victim {
	pid_t pid;
	FILE *in, *out;
	int memfd, fd;
};

/* exe victim [file]: exe is "<mnt>/exe" (on the file system) or hangfs. */
static int victim_start(struct victim *v, const char *exe, const char *file)
{
	int in[2], o[2];
	memset(v, 0, sizeof(*v));
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(o, O_CLOEXEC) < 0)
		return -1;
	v->pid = fork();
	if (v->pid == 0) {
		dup2(in[0], 0);
		dup2(o[1], 1);
		execl(exe, exe, "victim", file, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(o[1]);
	v->in = fdopen(in[1], "w");
	v->out = fdopen(o[0], "r");
	char line[256];
	int pid;
	if (!fgets(line, sizeof(line), v->out) ||
	    sscanf(line, "ready pid=%d memfd=%d fd=%d", &pid, &v->memfd, &v->fd) != 3 ||
	    pid != v->pid)
		return -1;
	return 0;
}

static void victim_stop(struct victim *v)
{
	if (v->pid > 0) {
		kill(v->pid, SIGKILL);
		waitpid(v->pid, NULL, 0);
	}
	if (v->in)
		fclose(v->in);
	if (v->out)
		fclose(v->out);
	memset(v, 0, sizeof(*v));
}

/* A stuck thread dies only once the file system answers. */
static void release_daemon(void)
{
	kill(daemon_pid, SIGUSR2);
}

/* Wait for pid at most secs; its exit status, or -1 (then it is killed). */
static int wait_for(pid_t pid, double secs, double *took)
{
	return tu_wait_for(pid, secs, release_daemon, took);
}

/* Temporary files (".NAME.PID.tmp", "NAME.db.tmp.PID...") left in dir. */
static int tmp_files(void)
{
	int n = 0;
	DIR *d = opendir(dir);
	for (struct dirent *e; d && (e = readdir(d));)
		if (strstr(e->d_name, ".tmp")) {
			fprintf(stderr, "left behind: %s/%s\n", dir, e->d_name);
			n++;
		}
	if (d)
		closedir(d);
	return n;
}

static const char *summary(const char *snap)
{
	tu_sh(&out, "%s cat %s procsnap/summary.json", tu_procsnap(), snap);
	return out.buf;
}

/* One scenario: a victim running the file system's exe (or HANGFS with
 * FILE open), the switch on, and the paths NAME.tar.zst(.db) and NAME.err. */
struct scene {
	struct victim v;
	char snap[700], db[710], err[700], vp[16], self[16];
};

static void scene_start(struct scene *c, const char *name, const char *file)
{
	char exe[700];
	snprintf(exe, sizeof(exe), "%s/exe", mnt);
	CHECK_INT(victim_start(&c->v, file ? HANGFS : exe, file), 0);
	block(1);
	snprintf(c->snap, sizeof(c->snap), "%s/%s.tar.zst", dir, name);
	snprintf(c->db, sizeof(c->db), "%s.db", c->snap);
	snprintf(c->err, sizeof(c->err), "%s/%s.err", dir, name);
	snprintf(c->vp, sizeof(c->vp), "%d", (int)c->v.pid);
	snprintf(c->self, sizeof(c->self), "%d", (int)getpid());
}

/* "kind errno" of proc/<victim>/<rel> in the scene's index. */
static const char *state(struct scene *c, const char *rel)
{
	static char t[256];
	if (tu_sql(c->db, t, sizeof(t),
		   "SELECT kind || ' ' || errno FROM files WHERE path = 'proc/%d/%s'",
		   (int)c->v.pid, rel) < 0)
		snprintf(t, sizeof(t), "(no row)");
	return t;
}

static void scene_end(struct scene *c)
{
	block(0);
	victim_stop(&c->v);
	reap_orphans();
}

/* ---- tests -------------------------------------------------------------------------- */

/* An executable on a hung file system: exe.body and the on-disk check time
 * out (1 s each), the memfd body after them and the next pid are captured. */
static void hang_timeout(void)
{
	struct scene c;
	scene_start(&c, "t1", NULL);
	/* (the hashes of the exe time out too: hang_hash) */
	const char *argv[] = {
	    "procsnap",	 "capture",	   NO_SYS, "-q",    "-o", c.snap,  "--exe-bodies", "all",
	    "--no-hash", "--read-timeout", "1",	   "--pid", c.vp, "--pid", c.self,	   NULL};
	double took;
	int rc = wait_for(tu_spawn(NULL, c.err, argv), 3 * 1.0 + MARGIN_S, &took);
	CHECK_INT(rc, 0);
	CHECK(took >= 2.9);
	fprintf(stderr, "capture with three 1 s timeouts took %.2f s\n", took);
	CHECK_STR(state(&c, "exe.body"), "absent ETIMEDOUT");
	/* After the stuck body: the memfd's body, the process record, the next pid. */
	CHECK_INT(tu_sh(&out, "%s cat %s proc/%d/fd/%d.body", tu_procsnap(), c.snap, (int)c.v.pid,
			c.v.memfd),
		  0);
	CHECK_STR(out.buf, "memfd body\n");
	CHECK_INT(
	    tu_sql_int(c.db, "SELECT on_disk FROM capture_processes WHERE pid = %d", (int)c.v.pid),
	    -1);
	CHECK_INT(tu_sql_int(c.db,
			     "SELECT count(*) FROM files WHERE path = 'proc/%d/status' AND "
			     "kind = 'file'",
			     (int)getpid()),
		  1);
	CHECK_INT(tu_sql_int(c.db, "SELECT count(*) FROM files WHERE errno = 'ETIMEDOUT'"), 1);
	const char *s = summary(c.snap);
	/* exe.body, the on-disk check and the argv[0] check (both stat the exe) */
	CHECK(strstr(s, "\"timeouts\":3,") != NULL);
	char want[128];
	snprintf(want, sizeof(want), "\"timed_out\":[\"proc/%d/exe.body\"]", (int)c.v.pid);
	CHECK(strstr(s, want) != NULL);
	snprintf(want, sizeof(want), "\"on_disk_timed_out\":[%d]", (int)c.v.pid);
	CHECK(strstr(s, want) != NULL);
	CHECK(strstr(s, "\"deadline_reached\":false") != NULL);
	tu_sh(&out, "%s cat %s procsnap/meta.json", tu_procsnap(), c.snap);
	CHECK(strstr(out.buf, "\"read_timeout_ms\":1000,\"deadline_ms\":null") != NULL);
	CHECK_INT(tmp_files(), 0);
	scene_end(&c);
}

/* Hashing an executable on a hung file system: its read times out (1 s),
 * once - the mapping of the same file is not tried again - it is listed with
 * status ETIMEDOUT, and what comes after is hashed (the victim's libc) and
 * captured (the next pid). */
static void hang_hash(void)
{
	struct scene c;
	scene_start(&c, "hh", NULL);
	const char *argv[] = {"procsnap", "capture",	    NO_SYS, "-q",    "-o",
			      c.snap,	  "--read-timeout", "1",    "--pid", c.vp,
			      "--pid",	  c.self,	    NULL};
	double took;
	int rc = wait_for(tu_spawn(NULL, c.err, argv), 3 * 1.0 + MARGIN_S, &took);
	CHECK_INT(rc, 0);
	fprintf(stderr, "capture with a hung exe to hash took %.2f s\n", took);
	char exe[700], t[800];
	snprintf(exe, sizeof(exe), "%s/exe", mnt);
	CHECK_INT(tu_sql(c.db, t, sizeof(t),
			 "SELECT group_concat(source || ' ' || coalesce(status, '-') || ' ' || "
			 "coalesce(sha256, '-'), '|') FROM hash WHERE pid = %d AND path = '%s'",
			 (int)c.v.pid, exe),
		  0);
	CHECK_STR(t, "exe ETIMEDOUT -");
	/* the rest of the process's executables: read and hashed */
	CHECK(tu_sql_int(c.db, "SELECT count(*) FROM hash WHERE path GLOB '*/libc.so*' AND "
			       "length(sha256) = 64 AND status IS NULL") == 1);
	CHECK_INT(tu_sql_int(c.db, "SELECT count(*) FROM hash WHERE status = 'ETIMEDOUT'"), 1);
	/* the hash read, the on-disk and the argv[0] checks: one timeout each */
	CHECK(strstr(summary(c.snap), "\"timeouts\":3,") != NULL);
	CHECK_INT(tu_sql_int(c.db,
			     "SELECT count(*) FROM files WHERE path = 'proc/%d/status' AND "
			     "kind = 'file'",
			     (int)getpid()),
		  1);
	CHECK_INT(tmp_files(), 0);
	scene_end(&c);
}

/* The stuck operation returns while the capture goes on: the abandoned
 * worker must vanish without a trace (no second exe.body record), and the
 * replacement's own blocked operation (the on-disk check) completes. */
static void hang_release(void)
{
	struct scene c;
	scene_start(&c, "rel", NULL);
	const char *argv[] = {
	    "procsnap", "capture",	  NO_SYS, "-q",	   "-o", c.snap, "--exe-bodies",
	    "all",	"--read-timeout", "1",	  "--pid", c.vp, NULL};
	pid_t p = tu_spawn(NULL, c.err, argv);
	/* exe.body blocks, times out after 1 s; then the on-disk check blocks:
	 * release both now. */
	for (double end = tu_now_s() + 30; nblocked(p) < 2 && tu_now_s() < end;)
		tu_sleep_ms(10);
	CHECK_INT(nblocked(p), 2);
	block(0);
	double took;
	CHECK_INT(wait_for(p, MARGIN_S, &took), 0);
	CHECK_INT(tu_sql_int(c.db, "SELECT count(*) FROM files WHERE path = 'proc/%d/exe.body'",
			     (int)c.v.pid),
		  1);
	CHECK_STR(state(&c, "exe.body"), "absent ETIMEDOUT");
	CHECK_INT(
	    tu_sql_int(c.db, "SELECT on_disk FROM capture_processes WHERE pid = %d", (int)c.v.pid),
	    1);
	CHECK_INT(tu_sh(&out, "%s cat %s proc/%d/fd/%d.body", tu_procsnap(), c.snap, (int)c.v.pid,
			c.v.memfd),
		  0);
	CHECK_STR(out.buf, "memfd body\n");
	CHECK(strstr(summary(c.snap), "\"timeouts\":1,") != NULL);
	CHECK_INT(tu_sh(&out, "%s verify %s", tu_procsnap(), c.snap), 0);
	scene_end(&c);
}

/* SIGTERM / SIGINT while stuck: status 2 within a second, one line, no
 * temporary file, no archive. */
static void hang_signal_one(int sig, const char *name)
{
	struct scene c;
	scene_start(&c, "sig", NULL);
	/* The default read timeout (5 s) is far away. */
	const char *argv[] = {"procsnap",     "capture", NO_SYS,  "-o", c.snap,
			      "--exe-bodies", "all",	 "--pid", c.vp, NULL};
	pid_t p = tu_spawn(NULL, c.err, argv);
	CHECK(wait_blocked(30));
	tu_sleep_ms(200);
	/* Something to clean up: the archive's temporary file. */
	tu_sh(&out, "ls -a %s | grep -c '^\\.sig\\.tar\\.zst\\..*\\.tmp$'", dir);
	CHECK_STR(out.buf, "1\n");
	kill(p, sig);
	double took;
	int rc = wait_for(p, 1.0 + MARGIN_S, &took);
	fprintf(stderr, "%s: capture ended %.3f s after the signal\n", name, took);
	CHECK_INT(rc, 2);
	CHECK(took < 1.0 + 1.0); /* 1 s, plus one for a loaded machine */
	CHECK_INT(tu_slurp(c.err, &out), 0);
	char want[64];
	snprintf(want, sizeof(want), "procsnap: capture: interrupted by %s\n", name);
	CHECK_STR(out.buf, want);
	CHECK_INT(tmp_files(), 0);
	CHECK(access(c.snap, F_OK) != 0);
	scene_end(&c);
}

static void hang_signal(void)
{
	hang_signal_one(SIGTERM, "SIGTERM");
	hang_signal_one(SIGINT, "SIGINT");
}

/* --deadline 3 with a read stuck for longer: ends near 3 s, verifies, says so;
 * the pid not reached is recorded absent ETIMEDOUT. */
static void hang_deadline(void)
{
	struct scene c;
	scene_start(&c, "dl", NULL);
	const char *argv[] = {
	    "procsnap",	    "capture", NO_SYS,		 "-q",	 "-o",	       c.snap,
	    "--exe-bodies", "all",     "--read-timeout", "30",	 "--deadline", "3",
	    "--pid",	    c.vp,      "--pid",		 c.self, NULL};
	double took;
	int rc = wait_for(tu_spawn(NULL, c.err, argv), 3.0 + MARGIN_S, &took);
	fprintf(stderr, "capture with --deadline 3 took %.2f s\n", took);
	CHECK_INT(rc, 0);
	CHECK(took >= 2.9);
	CHECK_INT(tu_sh(&out, "%s verify %s", tu_procsnap(), c.snap), 0);
	CHECK(strncmp(out.buf, "OK ", 3) == 0);
	const char *s = summary(c.snap);
	CHECK(strstr(s, "\"deadline_reached\":true") != NULL);
	CHECK(strstr(s, "\"not_captured\":1,") != NULL);
	char t[256];
	CHECK_STR(state(&c, "exe.body"), "absent ETIMEDOUT");
	CHECK_INT(tu_sql(c.db, t, sizeof(t),
			 "SELECT kind || ' ' || errno FROM files WHERE path = 'proc/%d'",
			 (int)getpid()),
		  0);
	CHECK_STR(t, "absent ETIMEDOUT");
	/* The process being walked keeps its record. */
	CHECK_INT(
	    tu_sql_int(c.db, "SELECT count(*) FROM capture_processes WHERE pid = %d", (int)c.v.pid),
	    1);
	tu_sh(&out, "%s cat %s procsnap/meta.json", tu_procsnap(), c.snap);
	CHECK(strstr(out.buf, "\"read_timeout_ms\":30000,\"deadline_ms\":3000") != NULL);
	CHECK_INT(tmp_files(), 0);
	scene_end(&c);
}

/* fd/N of a victim names a file that looks deleted (its body is wanted); the
 * body's stat blocks, the victim puts a FIFO over fd N meanwhile, then the
 * stat returns "regular file": the open finds the FIFO, which must be
 * refused (ENODEV), not read. */
static void swap_stat_open(void)
{
	char file[700], fifo[700];
	snprintf(file, sizeof(file), "%s/swap (deleted)", mnt);
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	CHECK_INT(mkfifo(fifo, 0600), 0);
	struct scene c;
	scene_start(&c, "sw", file);
	const char *argv[] = {"procsnap",	"capture", NO_SYS,  "-q", "-o", c.snap,
			      "--read-timeout", "30",	   "--pid", c.vp, NULL};
	pid_t p = tu_spawn(NULL, c.err, argv);
	CHECK(wait_blocked(30));
	fprintf(c.v.in, "swap %s\n", fifo);
	fflush(c.v.in);
	char line[256] = "";
	CHECK(fgets(line, sizeof(line), c.v.out) != NULL);
	CHECK_STR(line, "ok\n");
	block(0);
	double took;
	CHECK_INT(wait_for(p, MARGIN_S, &took), 0);
	char t[256];
	char rel[32];
	snprintf(rel, sizeof(rel), "fd/%d.body", c.v.fd);
	CHECK_STR(state(&c, rel), "absent ENODEV");
	CHECK_INT(tu_sql(c.db, t, sizeof(t),
			 "SELECT link_target FROM files WHERE path = 'proc/%d/fd/%d'", (int)c.v.pid,
			 c.v.fd),
		  0);
	CHECK_STR(t, file);
	scene_end(&c);
	unlink(fifo);
}

/* The helper itself: whatever sits at the path, only a regular file comes back. */
static void open_regular(void)
{
	char fifo[700], reg[700];
	snprintf(fifo, sizeof(fifo), "%s/fifo2", dir);
	snprintf(reg, sizeof(reg), "%s/reg", dir);
	CHECK_INT(mkfifo(fifo, 0600), 0);
	CHECK_INT(tu_sh(NULL, "printf abc > %s", reg), 0);
	struct stat sb;
	double t0 = tu_now_s();
	errno = 0;
	CHECK_INT(ps_capture_open_regular(AT_FDCWD, fifo, 0, &sb), -1);
	CHECK_INT(errno, ENODEV);
	CHECK(tu_now_s() - t0 < 1.0); /* never blocks on the FIFO */
	errno = 0;
	CHECK_INT(ps_capture_open_regular(AT_FDCWD, "/dev/null", 0, &sb), -1);
	CHECK_INT(errno, ENODEV);
	int fd = ps_capture_open_regular(AT_FDCWD, reg, O_NOFOLLOW, &sb);
	CHECK(fd >= 0);
	CHECK(S_ISREG(sb.st_mode));
	CHECK_INT(sb.st_size, 3);
	if (fd >= 0)
		close(fd);
	unlink(fifo);
	unlink(reg);
}

/* Is a thread of this process named ps-prefetch? */
static int prefetch_running(void)
{
	struct ps_buf l = PS_BUF_INIT;
	int r = tu_sh(&l, "cat /proc/%d/task/*/comm | grep -cx ps-prefetch", (int)getpid()) == 0;
	ps_buf_release(&l);
	return r;
}

/* The read-ahead (capture/prefetch.c) with a read that does not return:
 * its thread blocks in 7/data, a file of a "pid directory" on the file
 * system.  The walk's claims come back at once (nothing read for that pid,
 * nothing for the next), ps_pf_stop reports the thread stuck after its
 * wait instead of waiting for it, and once the file system answers the
 * thread ends and frees what is left (ASan's leak check). */
static void hang_prefetch(void)
{
	int root = open(mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct stat rsb, sb7;
	CHECK(root >= 0 && fstat(root, &rsb) == 0 && fstatat(root, "7", &sb7, 0) == 0);
	if (root < 0)
		return;
	int pids[] = {7, 8};
	struct ps_pf *pf = ps_pf_start(root, rsb.st_dev, pids, 2);
	CHECK(pf != NULL);
	if (!pf) {
		close(root);
		return;
	}
	block(1);
	static const char *const names[] = {"data"};
	struct ps_pf_names nm = {.pid = names, .npid = 1};
	ps_pf_names(pf, 0, &nm);
	CHECK(wait_blocked(10));
	double t0 = tu_now_s();
	CHECK(ps_pf_claim(pf, 0, 7, sb7.st_dev, sb7.st_ino) == NULL);
	CHECK(ps_pf_claim(pf, 1, 8, sb7.st_dev, 0) == NULL);
	CHECK(tu_now_s() - t0 < 0.5);
	CHECK(prefetch_running());
	t0 = tu_now_s();
	CHECK_INT(ps_pf_stop(pf), 1);
	double waited = tu_now_s() - t0;
	CHECK(waited > 1.5 && waited < 5);
	block(0);
	for (double end = tu_now_s() + 10; prefetch_running() && tu_now_s() < end;)
		tu_sleep_ms(10);
	CHECK(!prefetch_running());
	close(root);
}

static const struct t_case t_cases[] = {T(open_regular),   T(hang_timeout),  T(hang_hash),
					T(hang_release),   T(hang_signal),   T(hang_deadline),
					T(swap_stat_open), T(hang_prefetch), {0, 0}};
T_MAIN_SETUP(t_cases, setup, teardown)
