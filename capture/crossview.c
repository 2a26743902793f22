/*
 * crossview.c - independent views of the process table, masked pids, and
 * the per-process cross-checks of issue 11 (crossview.h, schema/crossview.md).
 *
 * Volatility compares the kernel's pid hash table with the task list
 * (pidhashtable, psxview) in a memory image; this is the live /proc
 * translation.  The views are cheap and all kernel-side:
 *   - the root listing read with raw getdents64 (libc's readdir, which an
 *     LD_PRELOAD'ed library can filter, is never used anywhere in capture);
 *   - direct lookups (openat/fstatat of /proc/N), which a readdir hook does
 *     not affect;
 *   - every thread group's task/ listing;
 *   - the link count of the root: proc_root_getattr() reports
 *     proc_root.nlink + nr_processes(), and nr_processes() sums the per-cpu
 *     process_counts that copy_process()/__unhash_process() keep for thread
 *     group leaders (kernel threads and zombies included, every pid
 *     namespace); proc_root.nlink is 2 plus one per directory registered in
 *     the root (proc_mkdir, proc_create_mount_point), i.e. the non-pid
 *     directories of the listing.  So thread groups = st_nlink - 2 - (non-pid
 *     directories listed) - checked on 6.18 (README, "census");
 *   - loadavg field 4 after '/': nr_threads, every task (threads, kernel
 *     threads), against the sum of the task/ link counts
 *     (proc_task_getattr(): 2 + get_nr_threads());
 *   - task/<tid>/children of every thread, and the parent (stat field 4)
 *     of every captured process.
 * The counts are global (all pid namespaces), so they are compared only
 * when the root is the initial pid namespace's procfs.
 */
#include "crossview.h"
#include "capture_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <linux/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "procfs.h"

#define DENTS_SZ     (64 * 1024)
#define CENSUS_TRIES 5
#define ARGV0_MAX    4096

/* fsopen/fsconfig/fsmount (5.2+): Debian 12's libc has no wrappers. */
#ifndef FSOPEN_CLOEXEC
#define FSOPEN_CLOEXEC 0x00000001
#endif
#ifndef FSCONFIG_CMD_CREATE
#define FSCONFIG_CMD_CREATE 6
#endif
#ifndef FSMOUNT_CLOEXEC
#define FSMOUNT_CLOEXEC 0x00000001
#endif

struct census {
	int taken;	/* counts read */
	int comparable; /* the root is the initial pid namespace's procfs */
	int stable;	/* the counts did not move during the pre-pass */
	int attempts;
	int64_t nlink, nlink_base, tg_nlink, tg_listed;
	int64_t threads_loadavg, threads_task;
	int64_t sweep_to;
	uint64_t sweep_ns, sweep_found, sweep_answered;
	int sweep_full, swept, sweep_sched;
	struct ps_buf root_options; /* the root's mount options (hidepid=...) */
};

struct masked {
	int pid;
	char how[16];	     /* "mount", "device", "identity" */
	char route[24];	     /* "private-procfs" or "none" */
	struct ps_buf mount; /* mount point and fs type, when found in mountinfo */
};

/* A pid named by another process (a children file, or a parent link) before
 * any lookup reached it: re-checked at the end. */
struct child_note {
	int pid;	 /* the pid named */
	int named_by;	 /* the process that names it */
	int tid;	 /* children view: the thread whose children file named it */
	int parent_view; /* 1: named as named_by's parent (stat field 4) */
};

/* One socket fd; its protocol name is an index into ps_xv.protos (the
 * kernel has a few dozen: a name per socket was two thirds of the note). */
struct sock_note {
	int pid, fd;
	uint64_t inode;
	uint32_t proto;
};
#define PROTOS_MAX 256

struct ps_xv {
	int rootfd;
	int listfd; /* our own fd of the root for listings (the walk's offset is its own) */
	struct ps_buf rootpath; /* realpath of the root, for mountinfo */
	/* pid -> view bits, open addressing (key 0 = empty) */
	uint32_t *ids;
	uint8_t *bits;
	size_t cap, n;
	struct census c;
	struct ps_buf mountinfo; /* our own, read once */
	struct masked *mk;
	size_t nmk, capmk;
	int priv_tried, privfd; /* private procfs root, -1 none */
	struct child_note *ch;
	size_t nch, capch;
	struct sock_note *sk;
	size_t nsk, capsk;
	char protos[PROTOS_MAX][PS_XV_PROTO_MAX];
	uint32_t nprotos;
	int32_t (*a0)[2]; /* pid, argv0 names the exe: 1 / 0 */
	size_t na0, capa0;
	int a0_pid;
	struct ps_buf argv0;
	struct ps_buf scratch;
	char *dents;
};

/* ---- the id map ------------------------------------------------------------- */

static size_t slot(const struct ps_xv *xv, uint32_t id)
{
	size_t mask = xv->cap - 1;
	size_t i = (size_t)(id * 0x9e3779b97f4a7c15ull) & mask;
	while (xv->ids[i] && xv->ids[i] != id)
		i = (i + 1) & mask;
	return i;
}

void ps_xv_see(struct ps_xv *xv, int64_t id, unsigned view)
{
	if (!xv || id <= 0 || id > INT32_MAX)
		return;
	if (2 * (xv->n + 1) > xv->cap) {
		size_t ocap = xv->cap;
		uint32_t *oids = xv->ids;
		uint8_t *obits = xv->bits;
		xv->cap = ocap ? ocap * 2 : 1024;
		xv->ids = ps_xcalloc(xv->cap, sizeof(*xv->ids));
		xv->bits = ps_xcalloc(xv->cap, sizeof(*xv->bits));
		for (size_t i = 0; i < ocap; i++) {
			if (!oids[i])
				continue;
			size_t j = slot(xv, oids[i]);
			xv->ids[j] = oids[i];
			xv->bits[j] = obits[i];
		}
		free(oids);
		free(obits);
	}
	size_t i = slot(xv, (uint32_t)id);
	if (!xv->ids[i]) {
		xv->ids[i] = (uint32_t)id;
		xv->n++;
	}
	xv->bits[i] |= (uint8_t)view;
}

static unsigned seen(const struct ps_xv *xv, int64_t id)
{
	if (!xv->cap || id <= 0 || id > INT32_MAX)
		return 0;
	size_t i = slot(xv, (uint32_t)id);
	return xv->ids[i] ? xv->bits[i] : 0;
}

/* ---- small readers ------------------------------------------------------------ */

static int64_t loadavg_total(struct ps_xv *xv)
{
	struct ps_loadavg la;
	if (ps_read_at(xv->rootfd, "loadavg", &xv->scratch, 4096, NULL) != 0 ||
	    ps_loadavg_parse(xv->scratch.buf, xv->scratch.len, &la) != 0 || la.total < 0)
		return -1;
	return la.total;
}

static int64_t root_nlink(const struct ps_xv *xv)
{
	struct stat sb;
	return fstat(xv->rootfd, &sb) == 0 ? (int64_t)sb.st_nlink : -1;
}

/* One census pass: counts before, a raw listing with each pid's task/ link
 * count, counts after.  Returns 1 when nothing moved in between. */
static int census_pass(struct ps_xv *xv)
{
	struct census *c = &xv->c;
	int64_t n0 = root_nlink(xv), l0 = loadavg_total(xv);
	int64_t dirs = 0, pids = 0, threads = 0;
	if (xv->listfd < 0 || lseek(xv->listfd, 0, SEEK_SET) < 0)
		return 0;
	for (;;) {
		ssize_t n = getdents64(xv->listfd, xv->dents, DENTS_SZ);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		for (ssize_t off = 0; off < n;) {
			const struct dirent64 *d = (const struct dirent64 *)(xv->dents + off);
			off += d->d_reclen;
			int id = ps_cap_parse_id(d->d_name);
			if (id > 0) {
				char name[32];
				struct stat sb;
				pids++;
				ps_xv_see(xv, id, PS_XV_CENSUS);
				snprintf(name, sizeof(name), "%d/task", id);
				if (fstatat(xv->rootfd, name, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
				    sb.st_nlink >= 2)
					threads += (int64_t)sb.st_nlink - 2;
			} else if (d->d_type == DT_DIR && strcmp(d->d_name, ".") != 0 &&
				   strcmp(d->d_name, "..") != 0) {
				dirs++;
			}
		}
	}
	int64_t n1 = root_nlink(xv), l1 = loadavg_total(xv);
	c->attempts++;
	c->nlink = n1;
	c->nlink_base = 2 + dirs;
	c->tg_nlink = n1 >= 0 ? n1 - c->nlink_base : -1;
	c->tg_listed = pids;
	c->threads_loadavg = l1;
	c->threads_task = threads;
	c->taken = n1 >= 0;
	return n0 == n1 && l0 == l1;
}

/* Are we in the initial pid namespace?  Its ns inode is fixed:
 * PROC_PID_INIT_INO, 0xEFFFFFFC (include/linux/proc_ns.h).  The root is our
 * own pid namespace's procfs (ps_xv_create checked "self"), so then the
 * kernel's global counts and its listing describe the same pids.  (Not pid
 * 2's PF_KTHREAD: hidepid hides it from an unprivileged capture; not NSpid:
 * through our own procfs it has one entry in any namespace.) */
static int initial_pid_ns(int rootfd)
{
	char l[64];
	ssize_t n = readlinkat(rootfd, "self/ns/pid", l, sizeof(l) - 1);
	if (n <= 0)
		return 0;
	l[n] = '\0';
	return strcmp(l, "pid:[4026531836]") == 0;
}

static void census(struct ps_xv *xv)
{
	struct census *c = &xv->c;
	c->comparable = initial_pid_ns(xv->rootfd);
	for (int i = 0; i < CENSUS_TRIES; i++) {
		c->stable = census_pass(xv);
		if (c->stable && c->tg_nlink == c->tg_listed &&
		    c->threads_loadavg == c->threads_task)
			break;
	}
}

/* ---- create / free ------------------------------------------------------------ */

/* The root's mount options (hidepid=, subset=) from our mountinfo. */
static void root_options(struct ps_xv *xv)
{
	size_t pos = 0;
	struct ps_mountinfo mi;
	int r;
	while ((r = ps_mountinfo_next(xv->mountinfo.buf, xv->mountinfo.len, &pos, &mi)) != 0) {
		if (r < 0)
			continue;
		char mp[4096];
		size_t n = ps_unescape_octal(mp, sizeof(mp), mi.mount_point);
		if (n != xv->rootpath.len || memcmp(mp, xv->rootpath.buf, n) != 0)
			continue;
		/* the last mount at that point is the one on top */
		ps_buf_reset(&xv->c.root_options);
		ps_buf_add(&xv->c.root_options, mi.options.p, mi.options.len);
		ps_buf_addc(&xv->c.root_options, ',');
		ps_buf_add(&xv->c.root_options, mi.super_options.p, mi.super_options.len);
	}
}

struct ps_xv *ps_xv_create(int rootfd, const char *root)
{
	struct statfs sfs;
	if (fstatfs(rootfd, &sfs) != 0 || sfs.f_type != PROC_SUPER_MAGIC)
		return NULL;
	/* Our own pid namespace's procfs?  Its "self" names us. */
	char self[32], want[32];
	ssize_t n = readlinkat(rootfd, "self", self, sizeof(self) - 1);
	snprintf(want, sizeof(want), "%d", (int)getpid());
	if (n <= 0 || (size_t)n != strlen(want) || memcmp(self, want, (size_t)n) != 0)
		return NULL;
	struct ps_xv *xv = ps_xcalloc(1, sizeof(*xv));
	xv->rootfd = rootfd;
	xv->listfd = openat(rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	xv->privfd = -1;
	ps_buf_init(&xv->rootpath);
	ps_buf_init(&xv->mountinfo);
	ps_buf_init(&xv->argv0);
	ps_buf_init(&xv->scratch);
	ps_buf_init(&xv->c.root_options);
	xv->dents = ps_xmalloc(DENTS_SZ);
	char *rp = realpath(root, NULL);
	ps_buf_adds(&xv->rootpath, rp ? rp : root);
	free(rp);
	if (ps_read_at(rootfd, "self/mountinfo", &xv->mountinfo, 64u << 20, NULL) != 0)
		ps_buf_reset(&xv->mountinfo);
	root_options(xv);
	xv->c.sweep_to = -1;
	census(xv);
	return xv;
}

void ps_xv_free(struct ps_xv *xv)
{
	if (!xv)
		return;
	for (size_t i = 0; i < xv->nmk; i++)
		ps_buf_release(&xv->mk[i].mount);
	free(xv->mk);
	if (xv->privfd >= 0)
		close(xv->privfd);
	if (xv->listfd >= 0)
		close(xv->listfd);
	free(xv->ids);
	free(xv->bits);
	free(xv->ch);
	free(xv->sk);
	free(xv->a0);
	ps_buf_release(&xv->rootpath);
	ps_buf_release(&xv->mountinfo);
	ps_buf_release(&xv->argv0);
	ps_buf_release(&xv->scratch);
	ps_buf_release(&xv->c.root_options);
	free(xv->dents);
	free(xv);
}

/* ---- sweep --------------------------------------------------------------------- */

int ps_xv_full_sweep(const struct ps_xv *xv)
{
	if (!xv || !xv->c.taken || !xv->c.comparable)
		return 0;
	/* Churn alone (counts that moved during every pass but agreed in the
	 * last) is no reason: only a disagreement is. */
	return xv->c.tg_nlink != xv->c.tg_listed || xv->c.threads_loadavg != xv->c.threads_task;
}

int ps_xv_census_agrees(const struct ps_xv *xv)
{
	return xv && xv->c.taken && xv->c.comparable && !ps_xv_full_sweep(xv);
}

void ps_xv_sweep_done(struct ps_xv *xv, int64_t limit, uint64_t ns, uint64_t found, int sched,
		      uint64_t answered)
{
	if (!xv)
		return;
	xv->c.swept = 1;
	xv->c.sweep_sched = sched;
	xv->c.sweep_answered = answered;
	xv->c.sweep_full = ps_xv_full_sweep(xv);
	xv->c.sweep_to = limit;
	xv->c.sweep_ns = ns;
	xv->c.sweep_found = found;
}

/* ---- masked pids ------------------------------------------------------------------ */

/* A mount at <root>/<pid> or below it, from our mountinfo: its mount point
 * and fs type into out.  1 if found. */
static int mount_over(struct ps_xv *xv, int pid, struct ps_buf *out)
{
	char pfx[4200];
	int pl = snprintf(pfx, sizeof(pfx), "%s/%d", xv->rootpath.buf, pid);
	if (pl <= 0 || (size_t)pl >= sizeof(pfx))
		return 0;
	size_t pos = 0;
	struct ps_mountinfo mi;
	int r, found = 0;
	while ((r = ps_mountinfo_next(xv->mountinfo.buf, xv->mountinfo.len, &pos, &mi)) != 0) {
		if (r < 0)
			continue;
		char mp[4200];
		size_t n = ps_unescape_octal(mp, sizeof(mp), mi.mount_point);
		if (n < (size_t)pl || memcmp(mp, pfx, (size_t)pl) != 0 ||
		    (mp[pl] != '\0' && mp[pl] != '/'))
			continue;
		if (found)
			ps_buf_adds(out, "; ");
		ps_buf_add(out, mp, n < sizeof(mp) ? n : sizeof(mp) - 1);
		ps_buf_adds(out, " (");
		ps_buf_add(out, mi.fstype.p, mi.fstype.len);
		ps_buf_adds(out, " ");
		ps_buf_add(out, mi.source.p, mi.source.len);
		ps_buf_adds(out, " ");
		ps_buf_add(out, mi.root.p, mi.root.len);
		ps_buf_adds(out, ")");
		found = 1;
	}
	return found;
}

/* Does dirfd/stat name pid in its field 1? */
static int stat_names(struct ps_xv *xv, int dirfd, int pid)
{
	struct ps_stat s;
	if (ps_read_at(dirfd, "stat", &xv->scratch, 0, NULL) != 0)
		return -1; /* unreadable: no verdict */
	ps_stat_parse(xv->scratch.buf, xv->scratch.len, &s);
	if (!PS_STAT_HAS(&s, 1))
		return 0;
	return s.pid == pid;
}

int ps_xv_masked(struct ps_xv *xv, int pid, int pidfd, dev_t rootdev)
{
	if (!xv)
		return 0;
	struct ps_buf mnt = PS_BUF_INIT;
	const char *how = NULL;
	struct stat sb;
	if (mount_over(xv, pid, &mnt))
		how = "mount";
	else if (fstat(pidfd, &sb) == 0 && sb.st_dev != rootdev)
		how = "device";
	else if (stat_names(xv, pidfd, pid) == 0)
		how = "identity";
	if (!how) {
		ps_buf_release(&mnt);
		return 0;
	}
	PS_XGROW(xv->mk, xv->nmk, xv->capmk, 4);
	struct masked *m = &xv->mk[xv->nmk++];
	memset(m, 0, sizeof(*m));
	m->pid = pid;
	snprintf(m->how, sizeof(m->how), "%s", how);
	snprintf(m->route, sizeof(m->route), "none");
	m->mount = mnt;
	return 1;
}

/* A procfs instance of our pid namespace, created for us and attached
 * nowhere (no move_mount): only we can see it, through this fd, and it
 * goes away when the fd is closed.  Nothing on the host is unmounted or
 * mounted.  Needs CAP_SYS_ADMIN over our user namespace. */
static int private_procfs(void)
{
	int fs = (int)syscall(SYS_fsopen, "proc", FSOPEN_CLOEXEC);
	if (fs < 0)
		return -1;
	int mnt = -1;
	if (syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) == 0)
		mnt = (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC,
				   MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
				       MOUNT_ATTR_NOEXEC);
	close(fs);
	if (mnt < 0)
		return -1;
	int dir = openat(mnt, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	close(mnt);
	return dir;
}

int ps_xv_route(struct ps_xv *xv, int pid)
{
	if (!xv || !xv->nmk || xv->mk[xv->nmk - 1].pid != pid)
		return -1;
	struct masked *m = &xv->mk[xv->nmk - 1];
	if (!xv->priv_tried) {
		xv->priv_tried = 1;
		xv->privfd = private_procfs();
		/* the instance must be of our pid namespace, like the root */
		char self[32], want[32];
		snprintf(want, sizeof(want), "%d", (int)getpid());
		ssize_t n =
		    xv->privfd >= 0 ? readlinkat(xv->privfd, "self", self, sizeof(self) - 1) : -1;
		if (xv->privfd >= 0 &&
		    (n <= 0 || (size_t)n != strlen(want) || memcmp(self, want, (size_t)n) != 0)) {
			close(xv->privfd);
			xv->privfd = -1;
		}
	}
	if (xv->privfd < 0)
		return -1;
	char name[16];
	snprintf(name, sizeof(name), "%d", pid);
	int fd = openat(xv->privfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (stat_names(xv, fd, pid) == 0) {
		close(fd);
		return -1;
	}
	snprintf(m->route, sizeof(m->route), "private-procfs");
	ps_xv_see(xv, pid, PS_XV_PRIVATE);
	return fd;
}

/* ---- per-process checks ------------------------------------------------------------ */

/* A pid nobody has reached yet (had: its views so far): remember who named it. */
static void note(struct ps_xv *xv, unsigned had, int pid, int named_by, int tid, int parent_view)
{
	if (had & (PS_XV_LISTED | PS_XV_OPENED | PS_XV_CENSUS))
		return;
	PS_XGROW(xv->ch, xv->nch, xv->capch, 16);
	struct child_note *c = &xv->ch[xv->nch++];
	c->pid = pid;
	c->named_by = named_by;
	c->tid = tid;
	c->parent_view = parent_view;
}

void ps_xv_parent(struct ps_xv *xv, int pid, int64_t ppid)
{
	if (!xv || ppid <= 0 || ppid > INT32_MAX)
		return;
	unsigned had = seen(xv, ppid);
	ps_xv_see(xv, ppid, PS_XV_PARENT);
	note(xv, had, (int)ppid, pid, pid, 1);
}

void ps_xv_children(struct ps_xv *xv, int pid, int tid, const char *data, size_t len)
{
	if (!xv)
		return;
	for (size_t i = 0; i < len;) {
		while (i < len && (data[i] < '0' || data[i] > '9'))
			i++;
		uint64_t v = 0;
		size_t j = i;
		while (j < len && data[j] >= '0' && data[j] <= '9' && j - i < 10)
			v = v * 10 + (uint64_t)(data[j++] - '0');
		if (j > i && v > 0 && v <= INT32_MAX) {
			unsigned had = seen(xv, (int64_t)v);
			ps_xv_see(xv, (int64_t)v, PS_XV_CHILDREN);
			note(xv, had, (int)v, pid, tid, 0);
		}
		while (j < len && data[j] >= '0' && data[j] <= '9')
			j++;
		i = j;
	}
}

void ps_xv_argv0(struct ps_xv *xv, int pid, const char *cmdline, size_t len)
{
	if (!xv)
		return;
	const char *nul = memchr(cmdline, '\0', len);
	size_t n = nul ? (size_t)(nul - cmdline) : len;
	ps_buf_reset(&xv->argv0);
	xv->a0_pid = pid;
	if (n && n < ARGV0_MAX)
		ps_buf_add(&xv->argv0, cmdline, n);
}

int ps_xv_argv0_check(struct ps_xv *xv, int pid, struct ps_buf *rel)
{
	if (!xv || xv->a0_pid != pid || xv->argv0.len == 0)
		return 0;
	xv->a0_pid = 0;
	const char *a = xv->argv0.buf;
	if (a[0] != '/' || strchr(a, ' ') || strncmp(a, "/proc/", 6) == 0)
		return 0; /* a bare name (PATH search), a relative path, a rewritten
			     title or /proc/self/exe (that would resolve to us): not
			     resolved (and a cwd may sit on a hung mount) */
	/* An absolute argv[0] resolved in the process's own root, as
	 * exe_on_disk() resolves the exe, never reading anything: two stat()s
	 * (the walk makes them, under its read timeout: either may land on a
	 * hung file system), compared by device and inode. */
	ps_buf_reset(rel);
	ps_buf_adds(rel, "root");
	ps_buf_adds(rel, a);
	return 1;
}

void ps_xv_argv0_result(struct ps_xv *xv, int pid, int same)
{
	if (!xv)
		return;
	PS_XGROW(xv->a0, xv->na0, xv->capa0, 64);
	xv->a0[xv->na0][0] = pid;
	xv->a0[xv->na0][1] = same;
	xv->na0++;
}

size_t ps_xv_sockproto(int pidfd, int fd, uint64_t inode, char *proto)
{
	char rel[32], path[64];
	snprintf(rel, sizeof(rel), "fd/%d", fd);
	/* O_PATH follows the magic link without opening the file (no fs open
	 * method runs); fstat proves it is still a socket before anything else
	 * is asked of it (a getxattr of a FUSE file goes to its daemon). */
	int o = openat(pidfd, rel, O_PATH | O_CLOEXEC);
	if (o < 0)
		return 0;
	struct stat sb;
	ssize_t n = -1;
	if (fstat(o, &sb) == 0 && S_ISSOCK(sb.st_mode) && (uint64_t)sb.st_ino == inode) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", o);
		n = getxattr(path, "system.sockprotoname", proto, PS_XV_PROTO_MAX - 1);
	}
	close(o);
	if (n <= 0)
		return 0;
	proto[n] = '\0';
	return (size_t)n;
}

void ps_xv_socket(struct ps_xv *xv, int pid, int fd, uint64_t inode, const char *proto, size_t n)
{
	if (!xv || n == 0 || n >= PS_XV_PROTO_MAX)
		return;
	uint32_t k = 0;
	while (k < xv->nprotos && strcmp(xv->protos[k], proto) != 0)
		k++;
	if (k == xv->nprotos) {
		if (k == PROTOS_MAX)
			return; /* more names than the kernel has: not a real socket */
		memcpy(xv->protos[k], proto, (size_t)n + 1);
		xv->nprotos++;
	}
	PS_XGROW(xv->sk, xv->nsk, xv->capsk, 64);
	struct sock_note *s = &xv->sk[xv->nsk++];
	s->pid = pid;
	s->fd = fd;
	s->inode = inode;
	s->proto = k;
}

/* ---- the member ----------------------------------------------------------------------- */

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

/* Is the pid still named the same way (the same thread's children file, or
 * the same process's parent link), and still not found by a lookup?  Then
 * churn does not explain it. */
static int unreachable(struct ps_xv *xv, int rootfd, const struct child_note *c)
{
	char name[64];
	struct stat sb;
	snprintf(name, sizeof(name), "%d", c->pid);
	if (fstatat(rootfd, name, &sb, AT_SYMLINK_NOFOLLOW) == 0 || errno != ENOENT)
		return 0;
	if (c->parent_view) {
		struct ps_stat st;
		snprintf(name, sizeof(name), "%d/stat", c->named_by);
		if (ps_read_at(rootfd, name, &xv->scratch, 0, NULL) != 0)
			return 0;
		ps_stat_parse(xv->scratch.buf, xv->scratch.len, &st);
		return PS_STAT_HAS(&st, 4) && st.ppid == c->pid;
	}
	snprintf(name, sizeof(name), "%d/task/%d/children", c->named_by, c->tid);
	if (ps_read_at(rootfd, name, &xv->scratch, 1u << 20, NULL) != 0)
		return 0;
	snprintf(name, sizeof(name), "%d", c->pid);
	size_t nl = strlen(name);
	for (size_t i = 0; i + nl <= xv->scratch.len; i++)
		if ((i == 0 || xv->scratch.buf[i - 1] == ' ') &&
		    memcmp(xv->scratch.buf + i, name, nl) == 0 &&
		    (i + nl == xv->scratch.len || xv->scratch.buf[i + nl] == ' ' ||
		     xv->scratch.buf[i + nl] == '\n'))
			return 1;
	return 0;
}

static void add_num(struct ps_buf *b, const char *key, int64_t v)
{
	ps_buf_addf(b, "\"%s\":", key);
	if (v < 0)
		ps_buf_adds(b, "null");
	else
		ps_buf_addf(b, "%lld", (long long)v);
}

void ps_xv_finish(struct ps_xv *xv, int rootfd, struct ps_buf *out)
{
	ps_buf_reset(out);
	if (!xv)
		return;
	const struct census *c = &xv->c;
	ps_buf_adds(out, "{\"version\":1,\n\"views\":{\"listed\":1,\"opened\":2,\"task\":4,"
			 "\"swept\":8,\"census\":16,\"children\":32,\"parent\":64,"
			 "\"private\":128},\n\"census\":{");
	ps_buf_addf(out, "\"comparable\":%s,\"stable\":%s,\"attempts\":%d,",
		    c->comparable ? "true" : "false", c->stable ? "true" : "false", c->attempts);
	add_num(out, "nlink", c->nlink);
	ps_buf_addc(out, ',');
	add_num(out, "nlink_base", c->nlink_base);
	ps_buf_addc(out, ',');
	add_num(out, "thread_groups_nlink", c->tg_nlink);
	ps_buf_addc(out, ',');
	add_num(out, "thread_groups_listed", c->tg_listed);
	ps_buf_addc(out, ',');
	add_num(out, "threads_loadavg", c->threads_loadavg);
	ps_buf_addc(out, ',');
	add_num(out, "threads_task", c->threads_task);
	ps_buf_adds(out, ",\"root_options\":");
	ps_buf_add_json(out, c->root_options.buf ? c->root_options.buf : "", c->root_options.len);
	ps_buf_addf(out, ",\"sweep\":%s,\"sweep_full\":%s,", c->swept ? "true" : "false",
		    c->sweep_full ? "true" : "false");
	add_num(out, "sweep_to", c->sweep_to);
	ps_buf_addf(out,
		    ",\"sweep_ns\":%llu,\"sweep_found\":%llu,\"sweep_probe\":\"%s\","
		    "\"sweep_answered\":%llu},\n\"processes\":[",
		    (unsigned long long)c->sweep_ns, (unsigned long long)c->sweep_found,
		    c->sweep_sched ? "sched" : "stat", (unsigned long long)c->sweep_answered);

	/* every id some view saw, but the threads only a task/ listing saw */
	uint32_t *v = ps_xmalloc((xv->n ? xv->n : 1) * sizeof(*v));
	size_t nv = 0;
	for (size_t i = 0; i < xv->cap; i++)
		if (xv->ids[i] && xv->bits[i] != PS_XV_TASK)
			v[nv++] = xv->ids[i];
	qsort(v, nv, sizeof(*v), cmp_u32);
	for (size_t i = 0; i < nv; i++)
		ps_buf_addf(out, "%s[%u,%u]", i ? "," : "", v[i], seen(xv, v[i]));
	free(v);

	ps_buf_adds(out, "],\n\"masked\":[");
	for (size_t i = 0; i < xv->nmk; i++) {
		const struct masked *m = &xv->mk[i];
		ps_buf_addf(out, "%s{\"pid\":%d,\"how\":\"%s\",\"route\":\"%s\",\"mount\":",
			    i ? "," : "", m->pid, m->how, m->route);
		if (m->mount.len)
			ps_buf_add_json(out, m->mount.buf, m->mount.len);
		else
			ps_buf_adds(out, "null");
		ps_buf_addc(out, '}');
	}
	ps_buf_adds(out, "],\n\"unreachable\":[");
	int first = 1;
	for (size_t i = 0; i < xv->nch; i++) {
		const struct child_note *ch = &xv->ch[i];
		if (seen(xv, ch->pid) &
		    (PS_XV_LISTED | PS_XV_OPENED | PS_XV_SWEPT | PS_XV_CENSUS | PS_XV_PRIVATE))
			continue;
		int dup = 0;
		for (size_t j = 0; j < i && !dup; j++)
			dup = xv->ch[j].pid == ch->pid;
		if (dup || !unreachable(xv, rootfd, ch))
			continue;
		ps_buf_addf(out, "%s{\"pid\":%d,\"named_by\":%d,\"tid\":%d,\"view\":\"%s\"}",
			    first ? "" : ",", ch->pid, ch->named_by, ch->tid,
			    ch->parent_view ? "parent" : "children");
		first = 0;
	}
	ps_buf_adds(out, "],\n\"argv0\":[");
	for (size_t i = 0; i < xv->na0; i++)
		ps_buf_addf(out, "%s[%d,%d]", i ? "," : "", xv->a0[i][0], xv->a0[i][1]);
	ps_buf_adds(out, "],\n\"sockets\":[");
	for (size_t i = 0; i < xv->nsk; i++) {
		const struct sock_note *s = &xv->sk[i];
		ps_buf_addf(out, "%s[%d,%d,%llu,", i ? "," : "", s->pid, s->fd,
			    (unsigned long long)s->inode);
		ps_buf_add_json(out, xv->protos[s->proto], strlen(xv->protos[s->proto]));
		ps_buf_addc(out, ']');
	}
	ps_buf_adds(out, "]}\n");
}
