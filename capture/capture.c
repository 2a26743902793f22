/*
 * capture.c - walk a proc root and emit one record per path (DESIGN 3).
 *
 * Shape of a run:
 *   1. open the root, list it once: numbers are pids, the rest system files;
 *   2. walk the system files (recursively, never following a symlink, never
 *      leaving the root's filesystem, never opening never_sys/never_pid);
 *   3. walk each pid through a dirfd of its own, `stat` first (identity is
 *      (pid, starttime)), task/<tid>/ with the per-thread files only, net/
 *      once per network namespace;
 *   4. sweep for hidden pids (reachable but not listed).
 *
 * Memory is bounded independent of the number of processes: one read buffer
 * (it grows to the largest file), one path buffer, one listing per directory
 * depth, the pid numbers of the root listing, a bitmap of known ids and the
 * set of network namespaces seen.  Directory fds are closed as soon as the
 * directory is done, so at most one fd per depth is open.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "capture.h"
#include "capture_int.h"
#include "crossview.h"
#include "mempages.h"
#include "pagemap.h"
#include "procfs.h"

#define MAX_DEPTH    48		       /* deeper dirs are recorded, not descended (ELOOP) */
#define FILE_MAX     ((size_t)1 << 30) /* safety cap per file; nothing sane in /proc is near */
#define LINK_MAX_LEN ((size_t)1 << 20) /* readlink results are at most a page in practice */
#define DENTS_SZ     (64 * 1024)
#define PID_LIMIT    (1 << 22)	  /* PID_MAX_LIMIT on 64-bit kernels */
#define SWEEP_SLACK  256	  /* pids handed out after loadavg was read */
#define CAND_MAX     512	  /* hidden-sweep candidates resolved per relisting */
#define PROGRESS_NS  100000000ull /* 100 ms */

/* Where an entry sits; decides which names are read, skipped or ignored. */
enum level {
	L_SYS,	  /* anything outside a pid directory */
	L_PID,	  /* directly inside proc/<pid>/ */
	L_SUB,	  /* below a subdirectory of proc/<pid>/ (fd/, ns/, net/, attr/...) */
	L_TASK,	  /* directly inside proc/<pid>/task/: the tid directories */
	L_THREAD, /* directly inside proc/<pid>/task/<tid>/ */
};

enum policy { P_VISIT, P_SKIP, P_IGNORE };

/* One directory listing: "<d_type byte><name>\0" back to back; ent[] are
 * the names, sorted; a name's d_type is ent[i][-1]. */
struct listing {
	struct ps_buf names;
	size_t *off;
	const char **ent;
	size_t n, cap;
};

/* The process being walked.  Reused for every pid. */
struct proc {
	int active;
	int pid;
	int pidfd;
	uint64_t starttime;
	int partial;
	int hidden;
	int nthreads;
	int cur_tid; /* task/<tid>/ being walked */
	int have_exe;
	struct ps_buf exe; /* readlink of exe, for on_disk */
	int *body_fds;	   /* fds whose target is deleted or a memfd (exe bodies policy) */
	size_t nbody_fds, cap_body_fds;
};

struct walker {
	const struct ps_capture_opts *o;
	const struct ps_capture_sink *sink;
	struct ps_capture_stats *st;
	struct ps_err *err;
	uint64_t start_ns;
	int rootfd;
	dev_t rootdev;
	dev_t pdev; /* device of the pid directory being walked (a private procfs
		       instance for a masked pid), rootdev otherwise */
	int aborted;
	struct ps_buf path; /* archive path being visited, "proc/..." */
	struct ps_buf data; /* the read buffer, reused for every file */
	struct ps_buf link; /* readlink results and scratch paths */
	char *dents;	    /* getdents64 buffer */
	struct listing lv[MAX_DEPTH + 1];
	/* On procfs a pid directory and a task/<tid> directory always hold the
	 * same names (the kernel's tgid_base_stuff / tid_base_stuff tables are
	 * listed whole), so they are listed once and reused: getdents on them
	 * is the most expensive call of the walk (proc_fill_cache). */
	int procfs;
	struct listing pid_tpl, tid_tpl;
	int have_pid_tpl, have_tid_tpl;
	uint64_t *known; /* bitmap: pids listed, tids walked, pids captured */
	size_t known_words;
	int64_t max_id;	 /* highest pid/tid/ppid/tracer seen, for the sweep */
	uint64_t *netns; /* open-addressing set of netns inodes (0 = empty) */
	size_t netns_cap, netns_n;
	struct proc p;
	struct ps_pm *pm;    /* pagemap.sections builder; NULL: not procfs or no_pagemap */
	struct ps_buf pmaps; /* the process's maps text, kept for pagemap.sections */
	int have_pmaps;
	struct ps_xv *xv;    /* cross-views (crossview.c); NULL unless a live procfs */
	struct ps_buf mem;   /* mem.sections being built (--suspicious-pages) */
	uint64_t mem_budget; /* bytes of pages left to read in this capture */
	int procs_done, procs_total;
	uint64_t next_progress;
	uint64_t swept_found; /* hidden pids the sweep captured */
};

/* Top-level system files never opened (DESIGN 3, anchors A1): they consume
 * state (kmsg), are physical memory (kcore, vmcore), have side effects
 * (sysrq-trigger) or are 8 bytes per PFN (kpage*). */
static const char *const never_sys[] = {"kcore",      "kmsg",	     "sysrq-trigger", "kpageflags",
					"kpagecount", "kpagecgroup", "vmcore",	      NULL};
/* Per-pid files never opened: mem (the address space), clear_refs (write
 * only, resets bits), pagemap (read only by ranges, in pagemap.sections). */
static const char *const never_pid[] = {"mem", "clear_refs", "pagemap", NULL};
/* task/<tid>/ files that differ per thread; the rest repeats the process. */
static const char *const thread_files[] = {
    "stat",	"status", "comm",   "sched",  "schedstat",   "wchan",	    "syscall", "stack",
    "children", "io",	  "cgroup", "cpuset", "personality", "arch_status", NULL};

/* A write-only file (mode 0200: drop_caches, clear_refs) is never opened:
 * opening is for reading, and some have side effects on write.  A file with
 * no permission bits at all is not write-only: it is tried, and the open
 * records why it failed (EACCES), or succeeds for root. */
static int write_only(mode_t mode)
{
	return (mode & 0444) == 0 && (mode & 0222) != 0;
}

static int in_list(const char *const *list, const char *name)
{
	for (; *list; list++)
		if (strcmp(*list, name) == 0)
			return 1;
	return 0;
}

/* A canonical decimal number (no sign, no leading zero) that fits an int. */
int ps_cap_parse_id(const char *s)
{
	if (s[0] < '1' || s[0] > '9')
		return -1;
	long v = 0;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9' || p - s >= 10)
			return -1;
		v = v * 10 + (*p - '0');
	}
	return v <= 0x7fffffff ? (int)v : -1;
}

/* ---- known-id bitmap -------------------------------------------------------- */

static void known_set(struct walker *w, int64_t id)
{
	if (id <= 0 || id >= PID_LIMIT)
		return;
	size_t word = (size_t)id / 64;
	if (word >= w->known_words) {
		size_t n = w->known_words ? w->known_words : 512;
		while (n <= word)
			n *= 2;
		w->known = ps_xrealloc(w->known, n * sizeof(*w->known));
		memset(w->known + w->known_words, 0, (n - w->known_words) * sizeof(*w->known));
		w->known_words = n;
	}
	w->known[word] |= 1ull << (id % 64);
}

static int known_has(const struct walker *w, int64_t id)
{
	if (id <= 0 || (size_t)id / 64 >= w->known_words)
		return 0;
	return (int)((w->known[id / 64] >> (id % 64)) & 1);
}

static void note_id(struct walker *w, int64_t id)
{
	if (id > w->max_id && id < PID_LIMIT)
		w->max_id = id;
}

/* ---- network namespace set ---------------------------------------------------- */

/* Returns 1 when ino was not in the set (and adds it), 0 when it was. */
static int netns_add(struct walker *w, uint64_t ino)
{
	if (ino == 0)
		return 1;
	if (2 * (w->netns_n + 1) > w->netns_cap) {
		size_t ncap = w->netns_cap ? w->netns_cap * 2 : 64;
		uint64_t *old = w->netns;
		size_t ocap = w->netns_cap;
		w->netns = ps_xcalloc(ncap, sizeof(*w->netns));
		w->netns_cap = ncap;
		w->netns_n = 0;
		for (size_t i = 0; i < ocap; i++)
			if (old[i])
				netns_add(w, old[i]);
		free(old);
	}
	size_t mask = w->netns_cap - 1;
	for (size_t i = (size_t)(ino * 0x9e3779b97f4a7c15ull) & mask;; i = (i + 1) & mask) {
		if (w->netns[i] == ino)
			return 0;
		if (w->netns[i] == 0) {
			w->netns[i] = ino;
			w->netns_n++;
			return 1;
		}
	}
}

/* ---- paths, excludes --------------------------------------------------------- */

static size_t path_push(struct walker *w, const char *name)
{
	size_t mark = w->path.len;
	ps_buf_addc(&w->path, '/');
	ps_buf_adds(&w->path, name);
	return mark;
}

static void path_pop(struct walker *w, size_t mark)
{
	w->path.len = mark;
	w->path.buf[mark] = '\0';
}

static int excluded(const struct walker *w)
{
	for (size_t i = 0; i < w->o->nexcludes; i++)
		if (w->o->excludes[i] && fnmatch(w->o->excludes[i], w->path.buf, 0) == 0)
			return 1;
	return 0;
}

/* ---- listings ----------------------------------------------------------------- */

/* Numbers (fd/, task/, pids) in numeric order after the names, names bytewise:
 * the same order on procfs and on an ordinary directory (samples/). */
static int name_cmp(const void *a, const void *b)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;
	size_t lx = strspn(x, "0123456789"), ly = strspn(y, "0123456789");
	int nx = lx > 0 && x[lx] == '\0', ny = ly > 0 && y[ly] == '\0';
	if (nx != ny)
		return nx ? 1 : -1;
	if (nx && lx != ly)
		return lx < ly ? -1 : 1;
	return strcmp(x, y);
}

/* List the directory open at fd into l, sorted.  Returns 0 or an errno (the
 * entries read before the error are kept). */
static int list_dir(struct walker *w, int fd, struct listing *l)
{
	int e = 0;
	l->n = 0;
	ps_buf_reset(&l->names);
	for (;;) {
		ssize_t n = getdents64(fd, w->dents, DENTS_SZ);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			e = errno;
			break;
		}
		if (n == 0)
			break;
		for (ssize_t off = 0; off < n;) {
			const struct dirent64 *d = (const struct dirent64 *)(w->dents + off);
			off += d->d_reclen;
			if (d->d_name[0] == '.' &&
			    (d->d_name[1] == '\0' || (d->d_name[1] == '.' && d->d_name[2] == '\0')))
				continue;
			if (l->n == l->cap) {
				l->cap = l->cap ? l->cap * 2 : 64;
				l->off = ps_xrealloc(l->off, l->cap * sizeof(*l->off));
				l->ent = ps_xrealloc(l->ent, l->cap * sizeof(*l->ent));
			}
			ps_buf_addc(&l->names, (char)d->d_type);
			l->off[l->n++] = l->names.len;
			ps_buf_add(&l->names, d->d_name, strlen(d->d_name) + 1);
		}
	}
	for (size_t i = 0; i < l->n; i++)
		l->ent[i] = l->names.buf + l->off[i];
	if (l->n > 1)
		qsort(l->ent, l->n, sizeof(*l->ent), name_cmp);
	return e;
}

/* Keep a copy of a listing (same order) as a template. */
static void listing_copy(struct listing *dst, const struct listing *src)
{
	ps_buf_reset(&dst->names);
	ps_buf_add(&dst->names, src->names.buf, src->names.len);
	if (dst->cap < src->n) {
		dst->cap = src->n;
		dst->off = ps_xrealloc(dst->off, dst->cap * sizeof(*dst->off));
		dst->ent = ps_xrealloc(dst->ent, dst->cap * sizeof(*dst->ent));
	}
	dst->n = src->n;
	for (size_t i = 0; i < src->n; i++)
		dst->ent[i] = dst->names.buf + (src->ent[i] - src->names.buf);
}

static void listing_release(struct listing *l)
{
	ps_buf_release(&l->names);
	free(l->off);
	free(l->ent);
}

static unsigned char ent_type(const char *ent)
{
	return (unsigned char)ent[-1];
}

/* ---- records -------------------------------------------------------------------- */

static void progress(struct walker *w, uint64_t now, int force)
{
	if (!w->sink->progress)
		return;
	if (!force && now < w->next_progress)
		return;
	w->next_progress = now + PROGRESS_NS;
	w->sink->progress(w->sink->ctx, w->procs_done, w->procs_total,
			  w->st->files + w->st->links + w->st->dirs + w->st->absent, w->st->bytes);
}

static void emit(struct walker *w, enum ps_kind kind, const struct stat *sb, const char *target,
		 const void *data, size_t len, int e, int truncated)
{
	if (w->aborted)
		return;
	struct ps_capture_record r;
	memset(&r, 0, sizeof(r));
	r.path = w->path.buf;
	r.kind = kind;
	if (sb) {
		r.mode = sb->st_mode;
		r.uid = sb->st_uid;
		r.gid = sb->st_gid;
		r.mtime = sb->st_mtime;
	}
	r.target = target;
	r.data = data;
	r.len = len;
	r.err = e;
	r.truncated = truncated;
	uint64_t now = ps_mono_ns();
	r.read_ns = now - w->start_ns;

	switch (kind) {
	case PS_KIND_FILE:
		w->st->files++;
		w->st->bytes += len;
		break;
	case PS_KIND_LINK:
		w->st->links++;
		break;
	case PS_KIND_DIR:
		w->st->dirs++;
		break;
	case PS_KIND_ABSENT:
		w->st->absent++;
		break;
	}
	if (e) {
		size_t n = sizeof(w->st->errors) / sizeof(w->st->errors[0]);
		w->st->errors[e > 0 && (size_t)e < n - 1 ? (size_t)e : n - 1]++;
	}
	if (w->sink->record(w->sink->ctx, &r, w->err) < 0) {
		w->aborted = 1;
		return;
	}
	progress(w, now, 0);
}

void ps_cap_emit_at(struct walker *w, const char *path, enum ps_kind kind, const struct stat *sb,
		    const void *data, size_t len, int err)
{
	struct ps_buf saved = w->path;
	ps_buf_init(&w->path);
	ps_buf_adds(&w->path, path);
	if (excluded(w))
		w->st->excluded++;
	else
		emit(w, kind, sb, NULL, data, len, err, 0);
	ps_buf_release(&w->path);
	w->path = saved;
}

int ps_cap_aborted(const struct walker *w)
{
	return w->aborted;
}

/* ESRCH/ENOENT inside a pid: did the process go away?  ENOENT also comes from
 * an fd closed between listing and readlink, ESRCH from kernel threads' mm
 * files (A2), so check that the pid directory still resolves. */
static void proc_err(struct walker *w, int e)
{
	if (!w->p.active || w->p.partial || (e != ESRCH && e != ENOENT))
		return;
	struct stat sb;
	if (fstatat(w->p.pidfd, "stat", &sb, AT_SYMLINK_NOFOLLOW) < 0 &&
	    (errno == ENOENT || errno == ESRCH))
		w->p.partial = 1;
}

/* readlinkat into b, growing it until the target fits; 0 or errno. */
static int read_link(int dfd, const char *name, struct ps_buf *b)
{
	size_t want = 256;
	for (;;) {
		ps_buf_reset(b);
		ps_buf_grow(b, want);
		ssize_t n = readlinkat(dfd, name, b->buf, b->cap - 1);
		if (n < 0)
			return errno;
		if ((size_t)n < b->cap - 1) {
			b->len = (size_t)n;
			b->buf[n] = '\0';
			return 0;
		}
		if (b->cap > LINK_MAX_LEN)
			return ENAMETOOLONG;
		want = b->cap * 2;
	}
}

static int find_u64_line(const char *buf, size_t len, const char *key, uint64_t *out)
{
	size_t kl = strlen(key);
	for (size_t i = 0; i + kl <= len;) {
		if (memcmp(buf + i, key, kl) == 0) {
			size_t j = i + kl;
			while (j < len && (buf[j] == ' ' || buf[j] == '\t'))
				j++;
			size_t k = j;
			while (k < len && buf[k] >= '0' && buf[k] <= '9')
				k++;
			return ps_parse_u64(buf + j, k - j, out);
		}
		const char *nl = memchr(buf + i, '\n', len - i);
		if (!nl)
			break;
		i = (size_t)(nl - buf) + 1;
	}
	return -1;
}

/* Facts taken from pid-level files as they pass (the data is still in the
 * read buffer): identity from stat, PPid/TracerPid for the hidden sweep. */
static void pid_file_hook(struct walker *w, const char *name)
{
	if (strcmp(name, "stat") == 0) {
		struct ps_stat s;
		ps_stat_parse(w->data.buf, w->data.len, &s);
		if (PS_STAT_HAS(&s, 22))
			w->p.starttime = s.starttime;
		if (PS_STAT_HAS(&s, 4)) {
			note_id(w, s.ppid);
			ps_xv_parent(w->xv, w->p.pid, s.ppid);
		}
	} else if (strcmp(name, "cmdline") == 0) {
		ps_xv_argv0(w->xv, w->p.pid, w->data.buf, w->data.len);
	} else if (strcmp(name, "status") == 0) {
		uint64_t v;
		if (find_u64_line(w->data.buf, w->data.len, "TracerPid:", &v) == 0 && v < PID_LIMIT)
			note_id(w, (int64_t)v);
	} else if (strcmp(name, "maps") == 0 && w->pm) {
		ps_buf_reset(&w->pmaps);
		ps_buf_add(&w->pmaps, w->data.buf, w->data.len);
		w->have_pmaps = 1;
	}
}

/* Read dfd/name.  sb is its lstat, or NULL on the fast path (a DT_REG entry
 * of a procfs pid directory, where the only write-only file, clear_refs, is
 * never opened by name): then the file is opened first and fstat()ed, which
 * saves a path lookup per file; a file without read bits is still never
 * read. */
static void do_file(struct walker *w, int dfd, const char *name, const struct stat *sb,
		    enum level lvl)
{
	int fd = openat(dfd, name, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	if (fd < 0) {
		int e = errno;
		emit(w, PS_KIND_ABSENT, sb, NULL, NULL, 0, e, 0);
		proc_err(w, e);
		return;
	}
	struct stat fsb;
	if (!sb) {
		if (fstat(fd, &fsb) < 0)
			memset(&fsb, 0, sizeof(fsb));
		sb = &fsb;
		if (!S_ISREG(fsb.st_mode) || write_only(fsb.st_mode)) {
			close(fd);
			w->st->skipped++;
			return;
		}
	}
	if (w->procfs && lvl != L_SYS && sb->st_dev && sb->st_dev != w->pdev) {
		/* A file mounted over a pid's file: its content is not the
		 * process's; recorded, never read. */
		close(fd);
		emit(w, PS_KIND_ABSENT, sb, NULL, NULL, 0, EXDEV, 0);
		return;
	}
	struct ps_buf *b = &w->data;
	int truncated = 0;
	int e = ps_read_fd(fd, b, FILE_MAX, &truncated);
	close(fd);
	if (lvl == L_PID && !e)
		pid_file_hook(w, name);
	else if (lvl == L_THREAD && !e && strcmp(name, "children") == 0)
		ps_xv_children(w->xv, w->p.pid, w->p.cur_tid, b->buf, b->len);
	/* Nothing read at all is ABSENT; some bytes then an error is a FILE
	 * holding those bytes, with err set. */
	if (e && b->len == 0)
		emit(w, PS_KIND_ABSENT, sb, NULL, NULL, 0, e, 0);
	else
		emit(w, PS_KIND_FILE, sb, NULL, b->buf, b->len, e, truncated);
	if (e)
		proc_err(w, e);
	/* One kallsyms or huge smaps must not pin its size for the whole run. */
	if (b->cap > ((size_t)4 << 20))
		ps_buf_release(b);
}

/* ---- exe and fd bodies (DESIGN 2: exe.body, fd/N.body) -------------------------- */

/* Is a link target's content to be recovered?  Yes when the file is gone
 * from the file system (" (deleted)") or never was on one (memfd); with
 * --exe-bodies all every exe is kept too (do_bodies). */
static int body_wanted(const char *t, size_t n)
{
	static const char del[] = " (deleted)";
	const size_t dl = sizeof(del) - 1;
	if (n >= dl && memcmp(t + n - dl, del, dl) == 0)
		return 1;
	return n >= 7 && memcmp(t, "/memfd:", 7) == 0;
}

/* Remember proc/<pid>/fd/<N> (the walker is in that directory now). */
static void note_body_fd(struct walker *w, const char *name)
{
	static const char fdseg[] = "/fd/";
	size_t pl = w->path.len, nl = strlen(name);
	if (pl < nl + 4 || memcmp(w->path.buf + pl - nl - 4, fdseg, 4) != 0)
		return;
	int fd = ps_cap_parse_id(name);
	if (fd < 0)
		return;
	if (w->p.nbody_fds == w->p.cap_body_fds) {
		w->p.cap_body_fds = w->p.cap_body_fds ? w->p.cap_body_fds * 2 : 8;
		w->p.body_fds = ps_xrealloc(w->p.body_fds, w->p.cap_body_fds * sizeof(int));
	}
	w->p.body_fds[w->p.nbody_fds++] = fd;
}

/* Read the content behind the magic link `rel` ("exe", "fd/3") of the
 * current process into member `name` ("exe.body", "fd/3.body").  The
 * target is stat'ed through the link first and only a regular file is
 * opened (never a device, FIFO or socket); at most exe_body_max bytes are
 * kept and a cut is flagged as truncated. */
static void do_body(struct walker *w, const char *rel, const char *name)
{
	size_t mark = path_push(w, name);
	struct stat sb;
	if (excluded(w)) {
		w->st->excluded++;
	} else if (fstatat(w->p.pidfd, rel, &sb, 0) < 0) {
		int e = errno;
		emit(w, PS_KIND_ABSENT, NULL, NULL, NULL, 0, e, 0);
		proc_err(w, e);
	} else if (S_ISREG(sb.st_mode)) {
		int fd = openat(w->p.pidfd, rel, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
		if (fd < 0) {
			int e = errno;
			emit(w, PS_KIND_ABSENT, &sb, NULL, NULL, 0, e, 0);
			proc_err(w, e);
		} else {
			/* The shared read buffer: a buffer per body, freed each time,
			 * fragmented the heap (one memfd per process on the bench
			 * workload); released after a large body as after a large file. */
			struct ps_buf *b = &w->data;
			int truncated = 0;
			uint64_t max =
			    w->o->exe_body_max ? w->o->exe_body_max : ((uint64_t)64 << 20);
			int e = ps_read_fd(fd, b, (size_t)max, &truncated);
			close(fd);
			if (e && b->len == 0)
				emit(w, PS_KIND_ABSENT, &sb, NULL, NULL, 0, e, 0);
			else
				emit(w, PS_KIND_FILE, &sb, NULL, b->buf, b->len, e, truncated);
			if (b->cap > ((size_t)4 << 20))
				ps_buf_release(b);
		}
	}
	path_pop(w, mark);
}

static void do_bodies(struct walker *w)
{
	/* Not our own: procsnap's fds include its unlinked manifest spool
	 * (O_TMPFILE), which would be read back into the archive it feeds. */
	if (w->o->exe_bodies == PS_EXE_BODIES_NONE || !w->procfs || w->p.pid == (int)getpid())
		return;
	if (w->p.have_exe && w->p.exe.len &&
	    (w->o->exe_bodies == PS_EXE_BODIES_ALL || body_wanted(w->p.exe.buf, w->p.exe.len)))
		do_body(w, "exe", "exe.body");
	char rel[32], name[40];
	for (size_t i = 0; i < w->p.nbody_fds && !w->aborted; i++) {
		snprintf(rel, sizeof(rel), "fd/%d", w->p.body_fds[i]);
		snprintf(name, sizeof(name), "fd/%d.body", w->p.body_fds[i]);
		do_body(w, rel, name);
	}
	w->p.nbody_fds = 0;
}

/* proc/<pid>/fd/<N> is a socket: its protocol, for the hidden-socket view. */
static void note_socket(struct walker *w, const char *name)
{
	static const char fdseg[] = "/fd/";
	size_t pl = w->path.len, nl = strlen(name);
	int fd = ps_cap_parse_id(name);
	struct ps_link l;
	if (fd < 0 || pl < nl + 4 || memcmp(w->path.buf + pl - nl - 4, fdseg, 4) != 0 ||
	    ps_link_parse(w->link.buf, w->link.len, &l) != 0 || l.inode == PS_U64_UNKNOWN)
		return;
	ps_xv_socket(w->xv, w->p.pid, w->p.pidfd, fd, l.inode);
}

static void do_link(struct walker *w, int dfd, const char *name, const struct stat *sb,
		    enum level lvl)
{
	int e = read_link(dfd, name, &w->link);
	if (e) {
		emit(w, PS_KIND_ABSENT, sb, NULL, NULL, 0, e, 0);
		proc_err(w, e);
		return;
	}
	if (lvl == L_PID && strcmp(name, "exe") == 0) {
		ps_buf_reset(&w->p.exe);
		ps_buf_add(&w->p.exe, w->link.buf, w->link.len);
		w->p.have_exe = 1;
	}
	if (lvl == L_SUB && w->p.active && w->o->exe_bodies != PS_EXE_BODIES_NONE &&
	    body_wanted(w->link.buf, w->link.len))
		note_body_fd(w, name);
	if (lvl == L_SUB && w->p.active && w->xv && w->link.len > 8 &&
	    memcmp(w->link.buf, "socket:[", 8) == 0)
		note_socket(w, name);
	emit(w, PS_KIND_LINK, sb, w->link.buf, NULL, 0, 0, 0);
}

/* First pid seen in its network namespace?  Two keys, both from procfs's
 * one inode-number allocator: the inode in the ns/net link text
 * ("net:[4026531840]"; readlink follows nothing and works on an ordinary
 * tree too) and the inode of net/dev, which is the namespace's own
 * proc_dir_entry (the same for every pid in the netns) and stays readable
 * when ns/net is not (a protected pid 1 gives EACCES there).  Seen if either
 * key is known.  No key at all: capture (never lose data). */
static int first_in_netns(struct walker *w)
{
	uint64_t k1 = 0, k2 = 0;
	struct ps_link l;
	struct stat sb;
	if (read_link(w->p.pidfd, "ns/net", &w->link) == 0 &&
	    ps_link_parse(w->link.buf, w->link.len, &l) == 0 && l.inode != PS_U64_UNKNOWN)
		k1 = l.inode;
	if (fstatat(w->p.pidfd, "net/dev", &sb, AT_SYMLINK_NOFOLLOW) == 0 && sb.st_dev == w->pdev)
		k2 = sb.st_ino;
	int new1 = k1 ? netns_add(w, k1) : 1;
	int new2 = k2 ? netns_add(w, k2) : 1;
	return new1 && new2;
}

static enum policy policy(const struct walker *w, enum level lvl, int depth, const char *name)
{
	switch (lvl) {
	case L_SYS:
		return depth == 1 && in_list(never_sys, name) ? P_SKIP : P_VISIT;
	case L_PID:
		if (in_list(never_pid, name))
			return P_SKIP;
		if (w->o->no_smaps && strcmp(name, "smaps") == 0)
			return P_SKIP;
		if (!w->o->numa_maps && strcmp(name, "numa_maps") == 0)
			return P_SKIP;
		return P_VISIT;
	case L_THREAD:
		/* Per-process repeats are not captured per thread, by design. */
		return in_list(thread_files, name) ? P_VISIT : P_IGNORE;
	case L_SUB:
	case L_TASK:
		break;
	}
	return P_VISIT;
}

static void visit(struct walker *w, int dfd, const char *name, unsigned char dtype, int depth,
		  enum level lvl);

/* Record the directory at dfd/name and walk its entries at level child. */
static void do_dir(struct walker *w, int dfd, const char *name, const struct stat *sb, int depth,
		   enum level child)
{
	if (sb->st_dev != w->pdev) {
		/* A mount point (binfmt_misc automount, nfsd...): opening it could
		 * trigger an automount and its content is not procfs.  Record it,
		 * do not descend. */
		emit(w, PS_KIND_DIR, sb, NULL, NULL, 0, 0, 0);
		w->st->skipped++;
		return;
	}
	if (depth >= MAX_DEPTH) {
		emit(w, PS_KIND_DIR, sb, NULL, NULL, 0, ELOOP, 0);
		return;
	}
	int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		emit(w, e == ENOENT || e == ESRCH ? PS_KIND_ABSENT : PS_KIND_DIR, sb, NULL, NULL, 0,
		     e, 0);
		proc_err(w, e);
		return;
	}
	struct listing *l = &w->lv[depth];
	int e = 0;
	if (child == L_THREAD && w->have_tid_tpl) {
		l = &w->tid_tpl;
	} else {
		e = list_dir(w, fd, l);
		if (child == L_THREAD && w->procfs && !e && l->n) {
			listing_copy(&w->tid_tpl, l);
			w->have_tid_tpl = 1;
		}
	}
	emit(w, PS_KIND_DIR, sb, NULL, NULL, 0, e, 0);
	if (e)
		proc_err(w, e);
	for (size_t i = 0; i < l->n && !w->aborted; i++)
		visit(w, fd, l->ent[i], ent_type(l->ent[i]), depth + 1, child);
	close(fd);
}

/* A task/<tid> entry: remember the tid (not hidden), and unless no_threads
 * record the thread directory and its per-thread files. */
static void do_thread_entry(struct walker *w, int dfd, const char *name, int depth)
{
	int tid = ps_cap_parse_id(name);
	if (tid > 0) {
		known_set(w, tid);
		note_id(w, tid);
		ps_xv_see(w->xv, tid, PS_XV_TASK);
		w->p.nthreads++;
		w->p.cur_tid = tid;
	}
	if (w->o->no_threads)
		return;
	if (tid > 0)
		w->st->threads++;
	visit(w, dfd, name, DT_DIR, depth, L_TASK);
}

/* One entry of a directory: stat it (never following), apply the policy,
 * then read the file, the link, or walk the directory. */
static void visit(struct walker *w, int dfd, const char *name, unsigned char dtype, int depth,
		  enum level lvl)
{
	enum policy pol = policy(w, lvl, depth, name);
	if (pol == P_IGNORE)
		return;
	size_t mark = path_push(w, name);
	if (excluded(w)) {
		w->st->excluded++;
		goto out;
	}
	if (pol == P_SKIP) {
		w->st->skipped++;
		goto out;
	}
	if (dtype == DT_REG && w->procfs && lvl != L_SYS) {
		do_file(w, dfd, name, NULL, lvl);
		goto out;
	}
	struct stat sb;
	if (fstatat(dfd, name, &sb, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT) < 0) {
		int e = errno;
		emit(w, PS_KIND_ABSENT, NULL, NULL, NULL, 0, e, 0);
		proc_err(w, e);
		goto out;
	}
	if (S_ISLNK(sb.st_mode)) {
		do_link(w, dfd, name, &sb, lvl);
	} else if (S_ISDIR(sb.st_mode)) {
		enum level child = lvl == L_SYS ? L_SYS : L_SUB;
		if (lvl == L_PID && strcmp(name, "task") == 0) {
			/* Listing task/ always runs (it tells threads from hidden
			 * pids); its children are walked unless no_threads. */
			child = L_TASK;
		} else if (lvl == L_PID && strcmp(name, "net") == 0) {
			if (!first_in_netns(w))
				goto out; /* same tables as an earlier pid: no record */
		} else if (lvl == L_TASK) {
			child = L_THREAD;
		}
		if (child == L_TASK) {
			/* Like do_dir, but the entries are tids (do_thread_entry). */
			struct listing *l = &w->lv[depth];
			int fd = -1, e;
			if (sb.st_dev != w->pdev)
				e = EXDEV;
			else if ((fd = openat(dfd, name,
					      O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
				e = errno;
			else
				e = list_dir(w, fd, l);
			emit(w,
			     fd < 0 && (e == ENOENT || e == ESRCH) ? PS_KIND_ABSENT : PS_KIND_DIR,
			     &sb, NULL, NULL, 0, e, 0);
			if (e)
				proc_err(w, e);
			for (size_t i = 0; fd >= 0 && i < l->n && !w->aborted; i++)
				do_thread_entry(w, fd, l->ent[i], depth + 1);
			if (fd >= 0)
				close(fd);
		} else {
			do_dir(w, dfd, name, &sb, depth, child);
		}
	} else if (S_ISREG(sb.st_mode)) {
		if (write_only(sb.st_mode))
			w->st->skipped++; /* drop_caches, compact_memory...: never opened */
		else
			do_file(w, dfd, name, &sb, lvl);
	} else {
		/* FIFO, socket or device in a --root tree: opening could block
		 * or have side effects. */
		w->st->skipped++;
	}
out:
	path_pop(w, mark);
}

/* ---- processes ------------------------------------------------------------------- */

/* proc/<pid>/pagemap.sections (DESIGN 4, capture/pagemap.c): after the
 * process's other files, from the maps text the walk already read.  An
 * ordinary directory tree (--root samples/...) has no pagemap to read by
 * ranges: recorded as absent (EOPNOTSUPP), its "pagemap" file never opened. */
static int do_pagemap(struct walker *w)
{
	int have = 0;
	size_t mark = path_push(w, "pagemap.sections");
	if (excluded(w)) {
		w->st->excluded++;
		goto out;
	}
	if (!w->pm) {
		emit(w, PS_KIND_ABSENT, NULL, NULL, NULL, 0, EOPNOTSUPP, 0);
		goto out;
	}
	if (!w->have_pmaps && ps_read_at(w->p.pidfd, "maps", &w->pmaps, FILE_MAX, NULL) != 0)
		ps_buf_reset(&w->pmaps); /* maps excluded or unreadable: read it for us */
	struct ps_pm_result res;
	int e = ps_pm_read(w->pm, w->p.pidfd, w->pmaps.buf, w->pmaps.len, w->o->pagemap_max,
			   &w->data, &res);
	if (!res.got_data) {
		emit(w, PS_KIND_ABSENT, res.opened ? &res.sb : NULL, NULL, NULL, 0, e, 0);
	} else {
		emit(w, PS_KIND_FILE, &res.sb, NULL, w->data.buf, w->data.len, e, res.truncated);
		have = 1;
		w->st->pagemap_members++;
		w->st->pagemap_scanned += res.scanned != 0;
		w->st->pagemap_truncated += res.truncated != 0;
	}
	w->st->pagemap_bytes_read += res.bytes_read;
	if (e)
		proc_err(w, e);
out:
	path_pop(w, mark);
	return have;
}

/* proc/<pid>/mem.sections (--suspicious-pages, capture/mempages.c): the
 * pages the tampering rules flag, from the maps text and the pagemap member
 * still in w->data.  No member when nothing is flagged. */
static void do_mempages(struct walker *w)
{
	size_t mark = path_push(w, "mem.sections");
	if (excluded(w)) {
		w->st->excluded++;
		goto out;
	}
	uint64_t max = w->o->suspicious_max ? w->o->suspicious_max : PS_SUSPICIOUS_MAX_DEFAULT;
	uint64_t proc_max = max / 16 > 65536 ? max / 16 : 65536;
	struct ps_mp_result res;
	/* the exe's own file is in exe.body when bodies are kept */
	int skip = w->p.have_exe && w->o->exe_bodies != PS_EXE_BODIES_NONE;
	int e = ps_mp_read(w->p.pidfd, w->pmaps.buf, w->pmaps.len, w->data.buf, w->data.len,
			   skip ? w->p.exe.buf : NULL, skip ? w->p.exe.len : 0, &w->mem_budget,
			   proc_max, &w->mem, &res);
	if (!res.flagged)
		goto out;
	if (!res.got_data)
		emit(w, PS_KIND_ABSENT, res.opened ? &res.sb : NULL, NULL, NULL, 0, e, 0);
	else
		emit(w, PS_KIND_FILE, &res.sb, NULL, w->mem.buf, w->mem.len, e, res.truncated);
	w->st->mem_members += res.got_data != 0;
	w->st->mem_bytes += res.bytes;
	w->st->mem_truncated += res.truncated != 0;
	if (e)
		proc_err(w, e);
	if (w->mem.cap > ((size_t)4 << 20))
		ps_buf_release(&w->mem);
out:
	path_pop(w, mark);
}

/* Does the exe target exist inside the process's own mount namespace?
 * Resolved through root/ with fstatat only (no open, no read). */
static int exe_on_disk(struct walker *w)
{
	static const char deleted[] = " (deleted)";
	const size_t dl = sizeof(deleted) - 1;
	const struct ps_buf *x = &w->p.exe;
	if (!w->p.have_exe || x->len == 0)
		return -1;
	if (x->len >= dl && memcmp(x->buf + x->len - dl, deleted, dl) == 0)
		return 0;
	if (x->buf[0] != '/')
		return -1;
	ps_buf_reset(&w->link);
	ps_buf_adds(&w->link, "root");
	ps_buf_add(&w->link, x->buf, x->len);
	struct stat sb;
	if (fstatat(w->p.pidfd, w->link.buf, &sb, 0) == 0)
		return 1;
	return errno == ENOENT || errno == ENOTDIR ? 0 : -1;
}

static void capture_pid(struct walker *w, int pid, int hidden)
{
	char name[16];
	snprintf(name, sizeof(name), "%d", pid);
	known_set(w, pid);
	note_id(w, pid);
	size_t mark = path_push(w, name);
	if (excluded(w)) {
		w->st->excluded++;
		goto out;
	}
	int pidfd = openat(w->rootfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (pidfd < 0) {
		/* Gone since the listing, or never there (--pid). */
		emit(w, PS_KIND_ABSENT, NULL, NULL, NULL, 0, errno, 0);
		goto out;
	}
	struct ps_buf exe = w->p.exe;
	int *body_fds = w->p.body_fds;
	size_t cap_body_fds = w->p.cap_body_fds;
	memset(&w->p, 0, sizeof(w->p));
	w->p.exe = exe;
	w->p.body_fds = body_fds;
	w->p.cap_body_fds = cap_body_fds;
	ps_buf_reset(&w->p.exe);
	w->p.active = 1;
	w->p.pid = pid;
	w->p.pidfd = pidfd;
	w->p.hidden = hidden;
	w->have_pmaps = 0;

	ps_xv_see(w->xv, pid, PS_XV_OPENED);
	w->pdev = w->rootdev;
	int masked = ps_xv_masked(w->xv, pid, pidfd, w->rootdev);
	if (masked) {
		/* A mount over /proc/<pid> (or a file in it) hides the process:
		 * read the real directory through a private procfs instance
		 * (crossview.c); without one, record the mask and read nothing. */
		int real = ps_xv_route(w->xv, pid);
		if (real >= 0) {
			close(pidfd);
			pidfd = w->p.pidfd = real;
			masked = 0;
		}
	}
	struct stat sb;
	int have_sb = fstat(pidfd, &sb) == 0;
	if (!have_sb)
		memset(&sb, 0, sizeof(sb));
	if (have_sb && w->xv && !masked)
		w->pdev = sb.st_dev;
	if (masked || (have_sb && sb.st_dev != w->pdev)) {
		/* Something is mounted over /proc/<pid> (a way to hide a
		 * process): record that, do not read the mounted content. */
		emit(w, PS_KIND_DIR, &sb, NULL, NULL, 0, EXDEV, 0);
		w->p.active = 0;
		w->pdev = w->rootdev;
		close(pidfd);
		goto out;
	}
	emit(w, PS_KIND_DIR, &sb, NULL, NULL, 0, 0, 0);
	/* stat first: (pid, starttime) names the process the rest belongs to. */
	visit(w, pidfd, "stat", DT_REG, 2, L_PID);

	struct listing *l = &w->lv[1];
	if (w->have_pid_tpl) {
		l = &w->pid_tpl;
	} else {
		int e = list_dir(w, pidfd, l);
		if (e)
			proc_err(w, e);
		else if (w->procfs && l->n) {
			listing_copy(&w->pid_tpl, l);
			w->have_pid_tpl = 1;
		}
	}
	for (size_t i = 0; i < l->n && !w->aborted; i++)
		if (strcmp(l->ent[i], "stat") != 0)
			visit(w, pidfd, l->ent[i], ent_type(l->ent[i]), 2, L_PID);
	int have_pm = 0;
	if (!w->aborted && !w->o->no_pagemap)
		have_pm = do_pagemap(w);
	if (!w->aborted && have_pm && w->o->suspicious_pages && w->procfs && pid != (int)getpid())
		do_mempages(w);
	if (!w->aborted)
		do_bodies(w);
	ps_xv_proc_end(w->xv, pid, pidfd);

	if (!w->aborted) {
		struct ps_capture_proc pr;
		memset(&pr, 0, sizeof(pr));
		pr.pid = pid;
		pr.starttime = w->p.starttime;
		pr.partial = w->p.partial;
		pr.hidden = hidden;
		pr.nthreads = w->p.nthreads;
		pr.on_disk = exe_on_disk(w);
		w->st->procs++;
		w->st->partial_procs += pr.partial != 0;
		w->st->hidden_procs += hidden != 0;
		if (w->sink->process && w->sink->process(w->sink->ctx, &pr, w->err) < 0)
			w->aborted = 1;
	}
	w->p.active = 0;
	w->pdev = w->rootdev;
	close(pidfd);
out:
	w->procs_done++;
	progress(w, ps_mono_ns(), 0);
	path_pop(w, mark);
}

/* ---- hidden-pid sweep ------------------------------------------------------------- */

static int64_t read_num_at(struct walker *w, const char *name, int loadavg)
{
	if (ps_read_at(w->rootfd, name, &w->data, 4096, NULL) != 0)
		return -1;
	if (loadavg) {
		struct ps_loadavg la;
		ps_loadavg_parse(w->data.buf, w->data.len, &la);
		return la.last_pid;
	}
	uint64_t v;
	return ps_u64_file_parse(w->data.buf, w->data.len, &v) == 0 && v < PID_LIMIT ? (int64_t)v
										     : -1;
}

/* Re-read the root listing: a pid missing from the first listing that shows
 * up now simply started during the capture; it is not hidden. */
static void relist(struct walker *w)
{
	struct listing *l = &w->lv[0];
	if (lseek(w->rootfd, 0, SEEK_SET) < 0 || list_dir(w, w->rootfd, l) != 0)
		return;
	for (size_t i = 0; i < l->n; i++) {
		known_set(w, ps_cap_parse_id(l->ent[i]));
		ps_xv_see(w->xv, ps_cap_parse_id(l->ent[i]), PS_XV_LISTED);
	}
}

/* Tgid of /proc/N from its status, or -1. */
static int64_t tgid_of(struct walker *w, int id)
{
	char name[32];
	snprintf(name, sizeof(name), "%d/status", id);
	uint64_t v;
	if (ps_read_at(w->rootfd, name, &w->data, 0, NULL) != 0 ||
	    find_u64_line(w->data.buf, w->data.len, "Tgid:", &v) != 0 || v >= PID_LIMIT)
		return -1;
	return (int64_t)v;
}

static void resolve(struct walker *w, const int *cand, size_t n)
{
	relist(w);
	for (size_t i = 0; i < n && !w->aborted; i++) {
		int id = cand[i];
		if (known_has(w, id))
			continue;
		int64_t tgid = tgid_of(w, id);
		char name[16];
		struct stat sb;
		snprintf(name, sizeof(name), "%d", id);
		if (tgid < 0 && fstatat(w->rootfd, name, &sb, AT_SYMLINK_NOFOLLOW) < 0)
			continue; /* gone meanwhile */
		if (tgid > 0 && tgid != id) {
			/* A thread: of a known group (started after we walked its
			 * task/) it is fine; else its group leader is hidden. */
			if (known_has(w, tgid))
				continue;
			id = (int)tgid;
		}
		w->procs_total++;
		w->swept_found++;
		ps_xv_see(w->xv, id, PS_XV_SWEPT);
		capture_pid(w, id, 1);
	}
}

/* Every unknown number up to the highest id seen (or loadavg's last_pid)
 * is probed with one fstatat; hits are resolved in batches. */
static void sweep(struct walker *w)
{
	uint64_t t0 = ps_mono_ns();
	int64_t limit = w->max_id;
	int64_t last = read_num_at(w, "loadavg", 1);
	if (last > limit && last < PID_LIMIT)
		limit = last;
	limit += SWEEP_SLACK;
	int64_t pid_max = read_num_at(w, "sys/kernel/pid_max", 0);
	/* The census counts disagree with the listing: every id up to
	 * pid_max is probed (crossview.c; cost in README, "census"). */
	if (pid_max > 0 && ps_xv_full_sweep(w->xv))
		limit = pid_max;
	if (pid_max > 0 && limit > pid_max)
		limit = pid_max;
	if (limit > PID_LIMIT)
		limit = PID_LIMIT;

	int cand[CAND_MAX];
	size_t n = 0;
	char name[16];
	for (int64_t id = 1; id < limit && !w->aborted; id++) {
		if (known_has(w, id))
			continue;
		snprintf(name, sizeof(name), "%d", (int)id);
		struct stat sb;
		if (fstatat(w->rootfd, name, &sb, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT) < 0)
			continue;
		cand[n++] = (int)id;
		if (n == CAND_MAX) {
			resolve(w, cand, n);
			n = 0;
		}
	}
	if (n)
		resolve(w, cand, n);
	ps_xv_sweep_done(w->xv, limit, ps_mono_ns() - t0, w->swept_found);
}

/* ---- run ------------------------------------------------------------------------------ */

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

int ps_capture_run(const struct ps_capture_opts *opts, const struct ps_capture_sink *sink,
		   struct ps_capture_stats *stats, struct ps_err *err)
{
	struct ps_capture_stats local;
	if (!stats)
		stats = &local;
	memset(stats, 0, sizeof(*stats));
	const char *root = opts->root ? opts->root : "/proc";
	int rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return ps_err_set(err, errno, "capture: open %s: %s", root, strerror(errno));
	struct stat rsb;
	if (fstat(rootfd, &rsb) < 0) {
		int e = errno;
		close(rootfd);
		return ps_err_set(err, e, "capture: stat %s: %s", root, strerror(e));
	}

	struct walker *w = ps_xcalloc(1, sizeof(*w));
	w->o = opts;
	w->sink = sink;
	w->st = stats;
	w->err = err;
	w->start_ns = opts->start_ns ? opts->start_ns : ps_mono_ns();
	w->rootfd = rootfd;
	w->rootdev = rsb.st_dev;
	struct statfs sfs;
	w->procfs = fstatfs(rootfd, &sfs) == 0 && sfs.f_type == PROC_SUPER_MAGIC;
	w->pdev = rsb.st_dev;
	/* Census first (crossview.c): its counts must bracket one listing,
	 * before the walk has spent seconds. */
	w->xv = w->procfs ? ps_xv_create(rootfd, root) : NULL;
	ps_buf_init(&w->mem);
	w->mem_budget = opts->suspicious_max ? opts->suspicious_max : PS_SUSPICIOUS_MAX_DEFAULT;
	ps_buf_init(&w->path);
	ps_buf_init(&w->data);
	ps_buf_init(&w->link);
	ps_buf_init(&w->p.exe);
	ps_buf_init(&w->pmaps);
	stats->soft_dirty = -1;
	if (!opts->no_pagemap && w->procfs) {
		/* Forcing plain reads: for tests (the outputs must be identical)
		 * and for measuring (bench/). */
		const char *env = getenv("PROCSNAP_NO_PAGEMAP_SCAN");
		int no_scan = opts->no_pagemap_scan || (env && *env && strcmp(env, "0") != 0);
		stats->soft_dirty = ps_capture_soft_dirty();
		w->pm = ps_pm_create(no_scan, stats->soft_dirty);
	}
	for (size_t i = 0; i <= MAX_DEPTH; i++)
		ps_buf_init(&w->lv[i].names);
	ps_buf_init(&w->pid_tpl.names);
	ps_buf_init(&w->tid_tpl.names);
	w->dents = ps_xmalloc(DENTS_SZ);
	w->next_progress = ps_mono_ns() + PROGRESS_NS;
	ps_buf_adds(&w->path, "proc");

	int *pids = NULL;
	size_t npids = 0;
	int ret = 0;
	struct listing *l0 = &w->lv[0];
	int e = list_dir(w, rootfd, l0);
	if (e) {
		ret = ps_err_set(err, e, "capture: list %s: %s", root, strerror(e));
		goto out;
	}
	/* The pid numbers of the listing: the one per-process list we keep. */
	pids = ps_xmalloc((l0->n ? l0->n : 1) * sizeof(*pids));
	for (size_t i = 0; i < l0->n; i++) {
		int id = ps_cap_parse_id(l0->ent[i]);
		if (id > 0) {
			pids[npids++] = id;
			known_set(w, id);
			note_id(w, id);
			ps_xv_see(w->xv, id, PS_XV_LISTED);
		}
	}
	qsort(pids, npids, sizeof(*pids), cmp_int);

	/* The root itself, then system files. */
	emit(w, PS_KIND_DIR, &rsb, NULL, NULL, 0, 0, 0);
	for (size_t i = 0; i < l0->n && !w->aborted; i++)
		if (ps_cap_parse_id(l0->ent[i]) < 0)
			visit(w, rootfd, l0->ent[i], ent_type(l0->ent[i]), 1, L_SYS);
	if (!w->aborted)
		ps_cap_sysmod(w, root);

	if (opts->pids && opts->npids) {
		/* Only the pids asked for, in the order given; one absent gets
		 * an ABSENT record (capture_pid does that); repeats once. */
		w->procs_total = (int)opts->npids;
		if (w->known)
			memset(w->known, 0, w->known_words * sizeof(*w->known));
		for (size_t i = 0; i < opts->npids && !w->aborted; i++) {
			if (opts->pids[i] > 0 && known_has(w, opts->pids[i]))
				continue;
			capture_pid(w, opts->pids[i], 0);
		}
	} else {
		w->procs_total = (int)npids;
		for (size_t i = 0; i < npids && !w->aborted; i++)
			capture_pid(w, pids[i], 0);
		if (!w->aborted)
			sweep(w);
	}
	if (!w->aborted && w->xv) {
		/* procsnap/crossview.json: what the views saw (crossview.c) */
		ps_xv_finish(w->xv, rootfd, &w->data);
		ps_cap_emit_at(w, PS_CROSSVIEW_PATH, PS_KIND_FILE, NULL, w->data.buf, w->data.len,
			       0);
	}
	progress(w, ps_mono_ns(), 1);
	if (w->aborted)
		ret = ps_err_prefix(err, "capture");
out:
	free(pids);
	for (size_t i = 0; i <= MAX_DEPTH; i++)
		listing_release(&w->lv[i]);
	listing_release(&w->pid_tpl);
	listing_release(&w->tid_tpl);
	ps_buf_release(&w->path);
	ps_buf_release(&w->data);
	ps_buf_release(&w->link);
	ps_buf_release(&w->p.exe);
	free(w->p.body_fds);
	ps_buf_release(&w->pmaps);
	ps_pm_free(w->pm);
	ps_xv_free(w->xv);
	ps_buf_release(&w->mem);
	free(w->dents);
	free(w->known);
	free(w->netns);
	free(w);
	close(rootfd);
	return ret;
}

/* ---- host facts ------------------------------------------------------------------------ */

static void add_key(struct ps_buf *out, const char *key)
{
	ps_buf_add_json(out, key, strlen(key));
	ps_buf_adds(out, ": ");
}

static void add_str(struct ps_buf *out, const char *key, const char *val, size_t len)
{
	add_key(out, key);
	if (val)
		ps_buf_add_json(out, val, len);
	else
		ps_buf_adds(out, "null");
	ps_buf_adds(out, ",\n");
}

static void add_num(struct ps_buf *out, const char *key, long long v)
{
	add_key(out, key);
	ps_buf_addf(out, "%lld,\n", v);
}

/* First line of a small file, without its newline; NULL if unreadable. */
static const char *first_line(int dirfd, const char *name, struct ps_buf *b, size_t *len)
{
	if (ps_read_at(dirfd, name, b, 4096, NULL) != 0 || b->len == 0)
		return NULL;
	const char *nl = memchr(b->buf, '\n', b->len);
	*len = nl ? (size_t)(nl - b->buf) : b->len;
	return b->buf;
}

void ps_capture_host_facts(const char *root, struct ps_buf *out)
{
	if (!root)
		root = "/proc";
	struct ps_buf b = PS_BUF_INIT;
	struct utsname u;
	if (uname(&u) == 0) {
		add_str(out, "hostname", u.nodename, strlen(u.nodename));
		add_str(out, "kernel_release", u.release, strlen(u.release));
		add_str(out, "kernel_version", u.version, strlen(u.version));
	} else {
		add_str(out, "hostname", NULL, 0);
		add_str(out, "kernel_release", NULL, 0);
		add_str(out, "kernel_version", NULL, 0);
	}

	size_t len = 0;
	const char *v;
	int rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	v = rootfd >= 0 ? first_line(rootfd, "sys/kernel/random/boot_id", &b, &len) : NULL;
	add_str(out, "boot_id", v, len);
	if (rootfd >= 0)
		close(rootfd);
	v = first_line(AT_FDCWD, "/etc/machine-id", &b, &len);
	add_str(out, "machine_id", v, len);

	add_num(out, "page_size", sysconf(_SC_PAGESIZE));
	add_num(out, "clock_ticks", sysconf(_SC_CLK_TCK));
	add_num(out, "uid", (long long)getuid());
	add_num(out, "euid", (long long)geteuid());

	/* Our own capabilities: always this process's /proc/self, since a
	 * --root tree's self is not us. */
	v = NULL;
	if (ps_read_at(AT_FDCWD, "/proc/self/status", &b, 0, NULL) == 0) {
		const char *p = b.buf;
		const char *end = b.buf + b.len;
		while (p < end) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			size_t ll = nl ? (size_t)(nl - p) : (size_t)(end - p);
			if (ll > 7 && memcmp(p, "CapEff:", 7) == 0) {
				v = p + 7;
				len = ll - 7;
				while (len && (*v == '\t' || *v == ' ')) {
					v++;
					len--;
				}
				break;
			}
			p += ll + 1;
		}
	}
	add_str(out, "cap_eff", v, len);
	add_str(out, "proc_root", root, strlen(root));
	/* Soft-dirty tracking is a property of the running kernel: known only
	 * when the root is a live procfs (DESIGN 4: never report zeros as clean). */
	struct statfs sfs;
	int sd = statfs(root, &sfs) == 0 && sfs.f_type == PROC_SUPER_MAGIC ? ps_capture_soft_dirty()
									   : -1;
	add_key(out, "soft_dirty");
	ps_buf_adds(out, sd < 0 ? "null,\n" : sd ? "true,\n" : "false,\n");
	ps_capture_self_facts(out);
	ps_buf_release(&b);
}
