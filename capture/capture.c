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
 * The walk runs in a worker thread watched by watch.c: every operation that
 * may block is bracketed by guard_begin/guard_end (capture_int.h), and the
 * walk can resume right after any of them in a replacement worker (struct
 * cursor, cur_check below).  With no timeout the records and their order
 * are exactly those of a plain single-threaded walk.
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
#include <sched.h>
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

#define FILE_MAX     ((size_t)1 << 30) /* safety cap per file; nothing sane in /proc is near */
#define LINK_MAX_LEN ((size_t)1 << 20) /* readlink results are at most a page in practice */
#define PID_LIMIT    (1 << 22)	       /* PID_MAX_LIMIT on 64-bit kernels */
#define SWEEP_SLACK  256	       /* pids handed out after loadavg was read */
#define CAND_MAX     512	       /* hidden-sweep candidates resolved per relisting */
#define PROGRESS_NS  100000000ull      /* 100 ms */
/* The read buffer, grown past this by one large file (kallsyms, a huge
 * smaps), is freed after it: content over opts->spill_min goes on into a
 * spill file, so the buffer reaches about twice that at most. */
#define BUF_KEEP ((size_t)2 << 20)

/* Where an entry sits; decides which names are read, skipped or ignored. */
enum level {
	L_SYS,	  /* anything outside a pid directory */
	L_PID,	  /* directly inside proc/<pid>/ */
	L_SUB,	  /* below a subdirectory of proc/<pid>/ (fd/, ns/, net/, attr/...) */
	L_TASK,	  /* directly inside proc/<pid>/task/: the tid directories */
	L_THREAD, /* directly inside proc/<pid>/task/<tid>/ */
};

enum policy { P_VISIT, P_SKIP, P_IGNORE };

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

int ps_capture_open_regular(int dirfd, const char *name, int flags, struct stat *sb)
{
	int fd = openat(dirfd, name, flags | O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -1;
	if (fstat(fd, sb) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	if (!S_ISREG(sb->st_mode)) {
		close(fd);
		errno = ENODEV;
		return -1;
	}
	return fd;
}

/* ---- known-id bitmap -------------------------------------------------------- */

void ps_cap_known_set(struct run *r, int64_t id)
{
	if (id <= 0 || id >= PID_LIMIT)
		return;
	size_t word = (size_t)id / 64;
	r->known = ps_xgrow_zeroed(r->known, &r->known_words, word, sizeof(*r->known), 512);
	r->known[word] |= 1ull << (id % 64);
}

int ps_cap_known_has(const struct run *r, int64_t id)
{
	if (id <= 0 || (size_t)id / 64 >= r->known_words)
		return 0;
	return (int)((r->known[id / 64] >> (id % 64)) & 1);
}

void ps_cap_note_id(struct run *r, int64_t id)
{
	if (id > r->max_id && id < PID_LIMIT)
		r->max_id = id;
}

/* ---- network namespace set ---------------------------------------------------- */

/* Returns 1 when ino was not in the set (and adds it), 0 when it was. */
static int netns_add(struct run *r, uint64_t ino)
{
	if (ino == 0)
		return 1;
	if (2 * (r->netns_n + 1) > r->netns_cap) {
		size_t ncap = r->netns_cap ? r->netns_cap * 2 : 64;
		uint64_t *old = r->netns;
		size_t ocap = r->netns_cap;
		r->netns = ps_xcalloc(ncap, sizeof(*r->netns));
		r->netns_cap = ncap;
		r->netns_n = 0;
		for (size_t i = 0; i < ocap; i++)
			if (old[i])
				netns_add(r, old[i]);
		free(old);
	}
	size_t mask = r->netns_cap - 1;
	for (size_t i = (size_t)(ino * 0x9e3779b97f4a7c15ull) & mask;; i = (i + 1) & mask) {
		if (r->netns[i] == ino)
			return 0;
		if (r->netns[i] == 0) {
			r->netns[i] = ino;
			r->netns_n++;
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
static int name_order(const char *x, const char *y)
{
	size_t lx = strspn(x, "0123456789"), ly = strspn(y, "0123456789");
	int nx = lx > 0 && x[lx] == '\0', ny = ly > 0 && y[ly] == '\0';
	if (nx != ny)
		return nx ? 1 : -1;
	if (nx && lx != ly)
		return lx < ly ? -1 : 1;
	return strcmp(x, y);
}

static int name_cmp(const void *a, const void *b)
{
	return name_order(*(const char *const *)a, *(const char *const *)b);
}

/* Room for n entries in l's off and ent. */
static void listing_reserve(struct listing *l, size_t n)
{
	if (l->cap < n) {
		l->cap = n;
		l->off = ps_xrealloc(l->off, l->cap * sizeof(*l->off));
		l->ent = ps_xrealloc(l->ent, l->cap * sizeof(*l->ent));
	}
}

/* List the directory open at fd into l, sorted.  Returns 0 or an errno (the
 * entries read before the error are kept). */
int ps_cap_list_dir(struct walker *w, int fd, struct listing *l)
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
			if (l->n == l->cap)
				listing_reserve(l, l->cap ? l->cap * 2 : 64);
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
void ps_cap_listing_copy(struct listing *dst, const struct listing *src)
{
	ps_buf_reset(&dst->names);
	ps_buf_add(&dst->names, src->names.buf, src->names.len);
	listing_reserve(dst, src->n);
	dst->n = src->n;
	for (size_t i = 0; i < src->n; i++)
		dst->ent[i] = dst->names.buf + (src->ent[i] - src->names.buf);
}

/* A template of a task/<tid>/ listing: only the per-thread files, in the
 * same order (every other name would be ignored by policy() for each of
 * thousands of threads, a dozen strcmp()s each). */
static void listing_keep(struct listing *dst, const struct listing *src, const char *const *keep)
{
	ps_buf_reset(&dst->names);
	listing_reserve(dst, src->n);
	dst->n = 0;
	for (size_t i = 0; i < src->n; i++) {
		if (!in_list(keep, src->ent[i]))
			continue;
		ps_buf_addc(&dst->names, src->ent[i][-1]);
		dst->off[dst->n++] = dst->names.len;
		ps_buf_add(&dst->names, src->ent[i], strlen(src->ent[i]) + 1);
	}
	/* the names are all in: their buffer no longer moves */
	for (size_t i = 0; i < dst->n; i++)
		dst->ent[i] = dst->names.buf + dst->off[i];
}

void ps_cap_listing_release(struct listing *l)
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

void ps_cap_progress(struct run *r, uint64_t now, int force)
{
	if (!r->sink->progress)
		return;
	if (!force && now < r->next_progress)
		return;
	r->next_progress = now + PROGRESS_NS;
	r->sink->progress(r->sink->ctx, r->procs_done, r->procs_total,
			  r->st->files + r->st->links + r->st->dirs + r->st->absent, r->st->bytes);
}

void ps_cap_emit_path(struct run *r, const char *path, enum ps_kind kind, const struct stat *sb,
		      const char *target, const void *data, size_t len, int e, int truncated)
{
	ps_cap_emit_rec(r, path, kind, sb, target, data, len, e, truncated, -1, 0);
}

void ps_cap_emit_rec(struct run *r, const char *path, enum ps_kind kind, const struct stat *sb,
		     const char *target, const void *data, size_t len, int e, int truncated,
		     int spill_fd, uint64_t read_at)
{
	if (r->aborted) {
		if (spill_fd >= 0)
			close(spill_fd);
		return;
	}
	struct ps_capture_record rec;
	memset(&rec, 0, sizeof(rec));
	rec.path = path;
	rec.kind = kind;
	if (sb) {
		rec.mode = sb->st_mode;
		rec.uid = sb->st_uid;
		rec.gid = sb->st_gid;
		rec.mtime = sb->st_mtime;
	}
	rec.target = target;
	rec.data = data;
	rec.len = len;
	rec.err = e;
	rec.truncated = truncated;
	rec.spilled = spill_fd >= 0;
	rec.spill_fd = spill_fd;
	uint64_t now = ps_mono_ns();
	rec.read_ns = (read_at > r->start_ns ? read_at : now) - r->start_ns;

	struct ps_capture_stats *st = r->st;
	switch (kind) {
	case PS_KIND_FILE:
		st->files++;
		st->bytes += len;
		break;
	case PS_KIND_LINK:
		st->links++;
		break;
	case PS_KIND_DIR:
		st->dirs++;
		break;
	case PS_KIND_ABSENT:
		st->absent++;
		break;
	}
	if (e) {
		size_t n = sizeof(st->errors) / sizeof(st->errors[0]);
		st->errors[e > 0 && (size_t)e < n - 1 ? (size_t)e : n - 1]++;
	}
	if (r->sink->record(r->sink->ctx, &rec, r->err) < 0) {
		r->aborted = 1;
		return;
	}
	ps_cap_progress(r, now, 0);
}

static void emit(struct walker *w, enum ps_kind kind, const struct stat *sb, const char *target,
		 const void *data, size_t len, int e, int truncated)
{
	/* Content read into a spill file (read_content) goes with this record. */
	int fd = w->spill_fd;
	if (fd >= 0) {
		len = (size_t)w->spill_len;
		w->spill_fd = -1;
	}
	/* a read-ahead path was read when prefetch.c read it */
	uint64_t at = w->read_at;
	w->read_at = 0;
	ps_cap_emit_rec(w->r, w->path.buf, kind, sb, target, data, len, e, truncated, fd, at);
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
	return w->r->aborted;
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

/* ---- resuming after a stuck operation (struct cursor) ------------------------------ */

enum cc {
	CC_GO,	  /* not concerned: walk it normally */
	CC_DONE,  /* before the stuck step: recorded already, skip it */
	CC_STUCK, /* the stuck step itself: recorded by the watchdog, skip it */
	CC_ENTER  /* an ancestor of the stuck step: go in without recording it */
};

/* Where does the step (depth, rank, name) stand against the cursor?  Steps
 * come in walk order, so once one compares greater, the cursor is passed. */
static enum cc cur_check(struct walker *w, int depth, int rank, const char *name)
{
	struct cursor *c = &w->cur;
	if (!c->active || c->matched != depth - 1)
		return CC_GO;
	const struct pos *p = &c->comp[depth];
	int d = rank != p->rank ? (rank < p->rank ? -1 : 1) : name_order(name, p->name);
	if (d < 0)
		return CC_DONE;
	if (d > 0) {
		c->active = 0;
		return CC_GO;
	}
	if (depth == c->n) {
		c->active = 0;
		return CC_STUCK;
	}
	c->matched = depth;
	return CC_ENTER;
}

/* Publish the step about to run (read by the watchdog on a timeout). */
static void at(struct walker *w, int depth, int rank, const char *name)
{
	w->pos[depth].rank = rank;
	w->pos[depth].name = name;
	w->depth = depth;
}

/* A step of the pid directory (pagemap, bodies, on-disk check): to run? */
static int step(struct walker *w, int rank, const char *name, enum cc *cc)
{
	enum cc c = cur_check(w, 2, rank, name);
	if (cc)
		*cc = c;
	if (c != CC_GO || ps_cap_halted(w))
		return 0;
	at(w, 2, rank, name);
	return 1;
}

int ps_cap_step(struct walker *w, int rank, const char *name, int *stuck)
{
	enum cc c;
	int go = step(w, rank, name, &c);
	*stuck = c == CC_STUCK;
	return go;
}

int ps_cap_wants_maps(const struct walker *w)
{
	return w->pm || w->r->hashes;
}

/* ---- files and links ------------------------------------------------------------ */

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

int ps_cap_read_link(int dfd, const char *name, struct ps_buf *b)
{
	return read_link(dfd, name, b);
}

/* Content over opts->spill_min goes on into an unlinked temporary file. */
static int spill_flush(void *ctx, const void *p, size_t n)
{
	struct walker *w = ctx;
	if (w->spill_fd < 0) {
		w->spill_fd = openat(w->o->spill_dirfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
		if (w->spill_fd < 0)
			return errno;
	}
	return ps_write_all(w->spill_fd, p, n);
}

/*
 * Read fd to its end (ps_read_fd's rules) into w->data, or, once the content
 * passes opts->spill_min, into a spill file: then w->spill_fd holds all of
 * it (w->spill_len bytes), w->data is empty and the next emit() hands the
 * file to the sink.  Memory stays at spill_min whatever the file's size
 * (issue 9: one 60k-mapping smaps is tens of MB).
 */
static int read_content(struct walker *w, int fd, size_t max, int *truncated)
{
	size_t at = w->o->spill_min;
	w->spill_fd = -1;
	w->spill_len = 0;
	int e = ps_read_fd_flush(fd, &w->data, max, truncated, at ? at : SIZE_MAX,
				 at ? spill_flush : NULL, w, &w->spill_len);
	if (w->spill_fd >= 0) {
		int e2 = w->data.len ? ps_write_all(w->spill_fd, w->data.buf, w->data.len) : 0;
		ps_buf_reset(&w->data);
		if (e2) {
			close(w->spill_fd);
			w->spill_fd = -1;
			w->spill_len = 0;
			return e2;
		}
	}
	return e;
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
			ps_cap_note_id(w->r, s.ppid);
			ps_xv_parent(w->r->xv, w->p.pid, s.ppid);
		}
	} else if (strcmp(name, "cmdline") == 0) {
		ps_xv_argv0(w->r->xv, w->p.pid, w->data.buf, w->data.len);
	} else if (strcmp(name, "status") == 0) {
		uint64_t v;
		if (find_u64_line(w->data.buf, w->data.len, "TracerPid:", &v) == 0 && v < PID_LIMIT)
			ps_cap_note_id(w->r, (int64_t)v);
	} else if (strcmp(name, "maps") == 0 && ps_cap_wants_maps(w)) {
		ps_buf_reset(&w->pmaps);
		ps_buf_add(&w->pmaps, w->data.buf, w->data.len);
		w->have_pmaps = 1;
		ps_cap_hash_forget(w);
	}
}

/* Read dfd/name.  sb is its lstat, or NULL on the fast path (a DT_REG entry
 * of a procfs pid directory, where the only write-only file, clear_refs, is
 * never opened by name): then the file is opened first and fstat()ed, which
 * saves a path lookup per file; a file without read bits is still never
 * read.  Outside procfs the opened file is fstat()ed again and must still be
 * a regular file (a swap for a FIFO or a device between the lstat and the
 * open is recorded ABSENT with ENODEV, never read). */
static void do_file(struct walker *w, int dfd, const char *name, const struct stat *sb,
		    enum level lvl)
{
	struct stat fsb;
	int e = 0, truncated = 0, skip = 0, mounted = 0;
	struct ps_buf *b = &w->data;
	ps_buf_reset(b);
	size_t plen;
	uint64_t at;
	const void *pre = !sb && w->pfb && (lvl == L_PID || lvl == L_THREAD || lvl == L_SUB)
			      ? ps_pf_find(w->pfb, w->path.buf + w->pf_off, &plen, &fsb, &at)
			      : NULL;
	if (pre && S_ISREG(fsb.st_mode)) {
		w->read_at = at; /* its record says when it was read */
		/* read ahead (prefetch.c): as the code below reads it, from the
		 * same pid directory; a regular file with a read bit, not
		 * mounted over */
		ps_buf_add(b, pre, plen);
		w->spill_fd = -1;
		w->st->read_ahead++;
		sb = &fsb;
		goto have;
	}
	ps_cap_guard_begin(w, 1);
	int fd;
	if (!sb || w->r->procfs) {
		fd = openat(dfd, name, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
		if (fd >= 0 && !sb) {
			if (fstat(fd, &fsb) < 0)
				memset(&fsb, 0, sizeof(fsb));
			skip = !S_ISREG(fsb.st_mode) || write_only(fsb.st_mode);
		}
	} else {
		fd = ps_capture_open_regular(dfd, name, O_NOFOLLOW, &fsb);
	}
	/* A file mounted over a pid's file (issue 11): its content is not the
	 * process's; recorded, never read. */
	const struct stat *xs = sb ? sb : &fsb;
	if (fd >= 0 && !skip && w->r->procfs && lvl != L_SYS && xs->st_dev && xs->st_dev != w->pdev)
		mounted = 1;
	if (fd < 0)
		e = errno;
	else if (!skip && !mounted)
		e = read_content(w, fd, FILE_MAX, &truncated);
	if (fd >= 0)
		close(fd);
	ps_cap_guard_end(w);
	if (fd < 0 || mounted) {
		emit(w, PS_KIND_ABSENT, fd < 0 ? sb : xs, NULL, NULL, 0, fd < 0 ? e : EXDEV, 0);
		if (fd < 0)
			proc_err(w, e);
		return;
	}
	if (skip) {
		w->st->skipped++;
		return;
	}
	if (!sb)
		sb = &fsb;
have:
	if (lvl == L_PID && !e && w->spill_fd < 0)
		pid_file_hook(w, name);
	else if (lvl == L_THREAD && !e && w->spill_fd < 0 && strcmp(name, "children") == 0)
		ps_xv_children(w->r->xv, w->p.pid, w->p.cur_tid, b->buf, b->len);
	/* Nothing read at all is ABSENT; some bytes then an error is a FILE
	 * holding those bytes, with err set. */
	if (e && b->len == 0 && w->spill_fd < 0)
		emit(w, PS_KIND_ABSENT, sb, NULL, NULL, 0, e, 0);
	else
		emit(w, PS_KIND_FILE, sb, NULL, b->buf, b->len, e, truncated);
	if (e)
		proc_err(w, e);
	/* One kallsyms or huge smaps must not pin its size for the whole run. */
	if (b->cap > BUF_KEEP)
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
 * target is stat'ed through the link first (never triggering an automount)
 * and only a regular file is opened (never a device, FIFO or socket); the
 * opened file is checked again (the fd behind fd/N may have been replaced
 * between the stat and the open: anything but a regular file is then
 * recorded ABSENT with ENODEV).  At most exe_body_max bytes are kept and a
 * cut is flagged as truncated.  The stat, open and read leave procfs: they
 * run under the read timeout like everything else. */
static void do_body(struct walker *w, const char *rel, const char *name)
{
	size_t mark = path_push(w, name);
	struct stat sb, fsb;
	if (excluded(w)) {
		w->st->excluded++;
		goto out;
	}
	/* The shared read buffer: a buffer per body, freed each time,
	 * fragmented the heap (one memfd per process on the bench workload);
	 * released after a large body as after a large file. */
	struct ps_buf *b = &w->data;
	ps_buf_reset(b);
	int e = 0, fd = -1, truncated = 0, stat_ok;
	uint64_t max = w->o->exe_body_max ? w->o->exe_body_max : ((uint64_t)64 << 20);
	ps_cap_guard_begin(w, 1);
	stat_ok = fstatat(w->p.pidfd, rel, &sb, AT_NO_AUTOMOUNT) == 0;
	if (!stat_ok)
		e = errno;
	else if (S_ISREG(sb.st_mode) &&
		 (fd = ps_capture_open_regular(w->p.pidfd, rel, 0, &fsb)) < 0)
		e = errno;
	else if (fd >= 0)
		e = read_content(w, fd, (size_t)max, &truncated);
	if (fd >= 0)
		close(fd);
	ps_cap_guard_end(w);
	if (!stat_ok) {
		emit(w, PS_KIND_ABSENT, NULL, NULL, NULL, 0, e, 0);
		proc_err(w, e);
	} else if (!S_ISREG(sb.st_mode)) {
		/* a device, FIFO or socket: no body */
	} else if (fd < 0) {
		emit(w, PS_KIND_ABSENT, &sb, NULL, NULL, 0, e, 0);
		proc_err(w, e);
	} else {
		if (e && b->len == 0 && w->spill_fd < 0) {
			emit(w, PS_KIND_ABSENT, &sb, NULL, NULL, 0, e, 0);
		} else {
			/* its hashes while the bytes are at hand (hash.c) */
			if (!e)
				ps_cap_hash_body(w, rel, &sb, truncated);
			emit(w, PS_KIND_FILE, &sb, NULL, b->buf, b->len, e, truncated);
		}
		if (b->cap > BUF_KEEP)
			ps_buf_release(b);
	}
out:
	path_pop(w, mark);
}

static void do_bodies(struct walker *w)
{
	/* Not our own: procsnap's fds include its unlinked manifest spool
	 * (O_TMPFILE), which would be read back into the archive it feeds. */
	if (w->o->exe_bodies == PS_EXE_BODIES_NONE || !w->r->procfs || w->p.pid == w->r->self)
		return;
	if (w->p.have_exe && w->p.exe.len &&
	    (w->o->exe_bodies == PS_EXE_BODIES_ALL || body_wanted(w->p.exe.buf, w->p.exe.len)) &&
	    step(w, R_EXE_BODY, "exe.body", NULL))
		do_body(w, "exe", "exe.body");
	char num[16], rel[32], name[40];
	for (size_t i = 0; i < w->p.nbody_fds && !ps_cap_halted(w); i++) {
		snprintf(num, sizeof(num), "%d", w->p.body_fds[i]);
		if (!step(w, R_FD_BODY, num, NULL))
			continue;
		snprintf(rel, sizeof(rel), "fd/%d", w->p.body_fds[i]);
		snprintf(name, sizeof(name), "fd/%d.body", w->p.body_fds[i]);
		do_body(w, rel, name);
	}
	w->p.nbody_fds = 0;
}

/* proc/<pid>/fd/<N> is a socket: its protocol, for the hidden-socket view
 * (crossview.c). */
static void note_socket(struct walker *w, const char *name)
{
	static const char fdseg[] = "/fd/";
	size_t pl = w->path.len, nl = strlen(name);
	int fd = ps_cap_parse_id(name);
	struct ps_link l;
	if (fd < 0 || pl < nl + 4 || memcmp(w->path.buf + pl - nl - 4, fdseg, 4) != 0 ||
	    ps_link_parse(w->link.buf, w->link.len, &l) != 0 || l.inode == PS_U64_UNKNOWN)
		return;
	/* what the link names may have changed since it was read: under the
	 * read timeout, and only the result handed to crossview.c */
	char proto[PS_XV_PROTO_MAX];
	ps_cap_guard_begin(w, 0);
	size_t n = ps_xv_sockproto(w->p.pidfd, fd, l.inode, proto);
	ps_cap_guard_end(w);
	ps_xv_socket(w->r->xv, w->p.pid, fd, l.inode, proto, n);
}

static void link_read(struct walker *w, const char *name, const struct stat *sb, enum level lvl);

static void do_link(struct walker *w, int dfd, const char *name, const struct stat *sb,
		    enum level lvl)
{
	ps_cap_guard_begin(w, 1);
	int e = read_link(dfd, name, &w->link);
	ps_cap_guard_end(w);
	if (e) {
		emit(w, PS_KIND_ABSENT, sb, NULL, NULL, 0, e, 0);
		proc_err(w, e);
		return;
	}
	link_read(w, name, sb, lvl);
}

/* The link's target is in w->link (read here or ahead): record it. */
static void link_read(struct walker *w, const char *name, const struct stat *sb, enum level lvl)
{
	if (lvl == L_PID && strcmp(name, "exe") == 0) {
		ps_buf_reset(&w->p.exe);
		ps_buf_add(&w->p.exe, w->link.buf, w->link.len);
		w->p.have_exe = 1;
	}
	if (lvl == L_SUB && w->p.active && w->o->exe_bodies != PS_EXE_BODIES_NONE &&
	    body_wanted(w->link.buf, w->link.len))
		note_body_fd(w, name);
	emit(w, PS_KIND_LINK, sb, w->link.buf, NULL, 0, 0, 0);
	/* after the link's record: a worker abandoned in the probe has
	 * recorded it (the next worker resumes after this entry) */
	if (lvl == L_SUB && w->p.active && w->r->xv && w->link.len > 8 &&
	    memcmp(w->link.buf, "socket:[", 8) == 0)
		note_socket(w, name);
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
	ps_cap_guard_begin(w, 1);
	int le = read_link(w->p.pidfd, "ns/net", &w->link);
	int se = fstatat(w->p.pidfd, "net/dev", &sb, AT_SYMLINK_NOFOLLOW);
	ps_cap_guard_end(w);
	if (le == 0 && ps_link_parse(w->link.buf, w->link.len, &l) == 0 &&
	    l.inode != PS_U64_UNKNOWN)
		k1 = l.inode;
	if (se == 0 && sb.st_dev == w->pdev)
		k2 = sb.st_ino;
	int new1 = k1 ? netns_add(w->r, k1) : 1;
	int new2 = k2 ? netns_add(w->r, k2) : 1;
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

/* ---- directories ------------------------------------------------------------------ */

static void visit(struct walker *w, int dfd, const char *name, unsigned char dtype, int depth,
		  enum level lvl);
static void visit_at(struct walker *w, int dfd, const char *name, unsigned char dtype, int depth,
		     enum level lvl, enum policy pol, int rank, int enter);

/* Walk the entries of the directory open at fd (depth), listed in l. */
static void walk_dir(struct walker *w, int fd, struct listing *l, int depth, enum level child,
		     int enter)
{
	w->dfd[depth] = fd;
	w->lst[depth] = l;
	for (size_t i = 0; i < l->n && !ps_cap_halted(w); i++)
		visit(w, fd, l->ent[i], ent_type(l->ent[i]), depth + 1, child);
	if (enter)
		w->cur.active = 0; /* whatever follows comes after the stuck step */
	w->dfd[depth] = -1;
	w->lst[depth] = NULL;
}

/* Record the directory at dfd/name and walk its entries at level child.
 * enter: resuming inside it (fd and listing from the cursor, no record). */
static void do_dir(struct walker *w, int dfd, const char *name, const struct stat *sb, int depth,
		   enum level child, int enter)
{
	struct listing *l = &w->lv[depth];
	int fd;
	if (enter) {
		fd = w->cur.fd[depth];
		w->cur.fd[depth] = -1;
		walk_dir(w, fd, l, depth, child, 1);
		close(fd);
		return;
	}
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
	int e = 0, tpl = child == L_THREAD && w->have_tid_tpl;
	ps_cap_guard_begin(w, 1);
	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		e = errno;
	else if (!tpl)
		e = ps_cap_list_dir(w, fd, l);
	ps_cap_guard_end(w);
	if (fd < 0) {
		emit(w, e == ENOENT || e == ESRCH ? PS_KIND_ABSENT : PS_KIND_DIR, sb, NULL, NULL, 0,
		     e, 0);
		proc_err(w, e);
		return;
	}
	if (tpl) {
		l = &w->tid_tpl;
	} else if (child == L_THREAD && w->r->procfs && !e && l->n) {
		listing_keep(&w->tid_tpl, l, thread_files);
		w->have_tid_tpl = 1;
	}
	emit(w, PS_KIND_DIR, sb, NULL, NULL, 0, e, 0);
	if (e)
		proc_err(w, e);
	walk_dir(w, fd, l, depth, child, 0);
	close(fd);
}

/* A task/<tid> entry: remember the tid (not hidden), and unless no_threads
 * record the thread directory and its per-thread files. */
static void do_thread_entry(struct walker *w, int dfd, const char *name, int depth)
{
	enum cc cc = cur_check(w, depth, 0, name);
	if (cc == CC_DONE || cc == CC_STUCK)
		return; /* counted already */
	int tid = ps_cap_parse_id(name);
	if (tid > 0)
		w->p.cur_tid = tid;
	if (cc == CC_GO) {
		if (tid > 0) {
			ps_cap_known_set(w->r, tid);
			ps_cap_note_id(w->r, tid);
			ps_xv_see(w->r->xv, tid, PS_XV_TASK);
			w->p.nthreads++;
		}
		if (w->o->no_threads)
			return;
		if (tid > 0)
			w->st->threads++;
	}
	visit_at(w, dfd, name, DT_DIR, depth, L_TASK, P_VISIT, 0, cc == CC_ENTER);
}

/* proc/<pid>/task: like do_dir, but the entries are tids (do_thread_entry). */
static void do_task(struct walker *w, int dfd, const char *name, const struct stat *sb, int depth,
		    int enter)
{
	struct listing *l = &w->lv[depth];
	int fd = -1, e = 0;
	if (enter) {
		fd = w->cur.fd[depth];
		w->cur.fd[depth] = -1;
	} else {
		if (sb->st_dev != w->pdev) {
			e = EXDEV;
		} else {
			ps_cap_guard_begin(w, 1);
			fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (fd < 0)
				e = errno;
			else
				e = ps_cap_list_dir(w, fd, l);
			ps_cap_guard_end(w);
		}
		emit(w, fd < 0 && (e == ENOENT || e == ESRCH) ? PS_KIND_ABSENT : PS_KIND_DIR, sb,
		     NULL, NULL, 0, e, 0);
		if (e)
			proc_err(w, e);
	}
	if (fd < 0)
		return;
	w->dfd[depth] = fd;
	w->lst[depth] = l;
	for (size_t i = 0; i < l->n && !ps_cap_halted(w); i++)
		do_thread_entry(w, fd, l->ent[i], depth + 1);
	if (enter)
		w->cur.active = 0;
	w->dfd[depth] = -1;
	w->lst[depth] = NULL;
	close(fd);
}

/* One entry of a directory: check it against the cursor, then visit_at. */
static void visit(struct walker *w, int dfd, const char *name, unsigned char dtype, int depth,
		  enum level lvl)
{
	if (ps_cap_halted(w))
		return;
	enum policy pol = policy(w, lvl, depth, name);
	if (pol == P_IGNORE)
		return;
	int rank = lvl != L_PID ? 0 : strcmp(name, "stat") == 0 ? R_STAT : R_ENTRY;
	enum cc cc = cur_check(w, depth, rank, name);
	if (cc == CC_DONE || cc == CC_STUCK)
		return;
	visit_at(w, dfd, name, dtype, depth, lvl, pol, rank, cc == CC_ENTER);
}

/* Stat the entry (never following), apply the policy, then read the file,
 * the link, or walk the directory.  enter: resume inside this directory. */
static void visit_at(struct walker *w, int dfd, const char *name, unsigned char dtype, int depth,
		     enum level lvl, enum policy pol, int rank, int enter)
{
	size_t mark = path_push(w, name);
	at(w, depth, rank, name);
	struct stat sb;
	memset(&sb, 0, sizeof(sb));
	if (!enter) {
		if (excluded(w)) {
			w->st->excluded++;
			goto out;
		}
		if (pol == P_SKIP) {
			w->st->skipped++;
			goto out;
		}
		if (dtype == DT_REG && w->r->procfs && lvl != L_SYS) {
			do_file(w, dfd, name, NULL, lvl);
			goto out;
		}
		size_t tl;
		uint64_t at;
		const void *t = dtype == DT_LNK && w->pfb && (lvl == L_PID || lvl == L_SUB)
				    ? ps_pf_find(w->pfb, w->path.buf + w->pf_off, &tl, &sb, &at)
				    : NULL;
		if (t && S_ISLNK(sb.st_mode)) {
			w->read_at = at; /* its record says when it was read */
			/* read ahead (prefetch.c): its lstat and target */
			ps_buf_reset(&w->link);
			ps_buf_add(&w->link, t, tl);
			w->st->read_ahead++;
			link_read(w, name, &sb, lvl);
			goto out;
		}
		ps_cap_guard_begin(w, 1);
		int rc = fstatat(dfd, name, &sb, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT);
		int e = errno;
		ps_cap_guard_end(w);
		if (rc < 0) {
			emit(w, PS_KIND_ABSENT, NULL, NULL, NULL, 0, e, 0);
			proc_err(w, e);
			goto out;
		}
		if (S_ISLNK(sb.st_mode)) {
			do_link(w, dfd, name, &sb, lvl);
			goto out;
		}
		if (S_ISREG(sb.st_mode)) {
			if (write_only(sb.st_mode))
				w->st->skipped++; /* drop_caches, compact_memory...: never opened */
			else
				do_file(w, dfd, name, &sb, lvl);
			goto out;
		}
		if (!S_ISDIR(sb.st_mode)) {
			/* FIFO, socket or device in a --root tree: never opened
			 * (opening could block or have side effects), but
			 * listed: ABSENT with ENODEV, like one swapped in after
			 * the lstat (do_file). */
			emit(w, PS_KIND_ABSENT, &sb, NULL, NULL, 0, ENODEV, 0);
			goto out;
		}
	}
	enum level child = lvl == L_SYS ? L_SYS : L_SUB;
	if (lvl == L_PID && strcmp(name, "task") == 0) {
		/* Listing task/ always runs (it tells threads from hidden pids);
		 * its children are walked unless no_threads. */
		do_task(w, dfd, name, &sb, depth, enter);
		goto out;
	}
	if (lvl == L_PID && strcmp(name, "net") == 0 && !enter && !first_in_netns(w))
		goto out; /* same tables as an earlier pid: no record */
	if (lvl == L_TASK)
		child = L_THREAD;
	do_dir(w, dfd, name, &sb, depth, child, enter);
out:
	path_pop(w, mark);
}

/* ---- processes ------------------------------------------------------------------- */

/* proc/<pid>/pagemap.sections (DESIGN 4, capture/pagemap.c): in name order
 * among the pid's entries (after maps, whose text it reads ranges from;
 * before smaps, so the index has the page counts when the smaps rows stream
 * past, issue 9).  An
 * ordinary directory tree (--root samples/...) has no pagemap to read by
 * ranges: recorded as absent (EOPNOTSUPP), its "pagemap" file never opened. */
static void do_pagemap(struct walker *w)
{
	size_t mark = path_push(w, "pagemap.sections");
	if (excluded(w)) {
		w->st->excluded++;
		goto out;
	}
	if (!w->pm) {
		emit(w, PS_KIND_ABSENT, NULL, NULL, NULL, 0, EOPNOTSUPP, 0);
		goto out;
	}
	struct ps_pm_result res;
	ps_cap_guard_begin(w, 1);
	if (!w->have_pmaps && ps_read_at(w->p.pidfd, "maps", &w->pmaps, FILE_MAX, NULL) != 0)
		ps_buf_reset(&w->pmaps); /* maps excluded or unreadable: read it for us */
	if (!w->have_pmaps)
		ps_cap_hash_forget(w);
	int e = ps_pm_read(w->pm, w->p.pidfd, w->pmaps.buf, w->pmaps.len, w->o->pagemap_max,
			   &w->data, &res);
	ps_cap_guard_end(w);
	if (!res.got_data) {
		emit(w, PS_KIND_ABSENT, res.opened ? &res.sb : NULL, NULL, NULL, 0, e, 0);
	} else {
		/* --suspicious-pages reads the pages it flags after the walk of
		 * the pid's entries (do_mempages): keep the member for it. */
		if (w->o->suspicious_pages) {
			ps_buf_reset(&w->pmsec);
			ps_buf_add(&w->pmsec, w->data.buf, w->data.len);
			w->have_pmsec = 1;
		}
		/* A large member (many pages present) is not kept in memory while
		 * it travels on: the same spill as a large file. */
		w->spill_fd = -1;
		if (w->o->spill_min && w->data.len > w->o->spill_min &&
		    spill_flush(w, w->data.buf, w->data.len) == 0) {
			w->spill_len = w->data.len;
			ps_buf_release(&w->data);
		} else if (w->spill_fd >= 0) {
			close(w->spill_fd); /* could not write it: keep it in memory */
			w->spill_fd = -1;
		}
		emit(w, PS_KIND_FILE, &res.sb, NULL, w->data.buf, w->data.len, e, res.truncated);
		w->st->pagemap_members++;
		w->st->pagemap_scanned += res.scanned != 0;
		w->st->pagemap_truncated += res.truncated != 0;
	}
	w->st->pagemap_bytes_read += res.bytes_read;
	if (e)
		proc_err(w, e);
out:
	path_pop(w, mark);
}

/* proc/<pid>/mem.sections (--suspicious-pages, capture/mempages.c): the
 * pages the tampering rules flag, from the maps text and the pagemap member
 * kept by do_pagemap.  No member when nothing is flagged.  Reading mem
 * takes the process's mmap lock: under the read timeout like the rest. */
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
	ps_cap_guard_begin(w, 1);
	int e = ps_mp_read(w->p.pidfd, w->pmaps.buf, w->pmaps.len, w->pmsec.buf, w->pmsec.len,
			   skip ? w->p.exe.buf : NULL, skip ? w->p.exe.len : 0, &w->r->mem_budget,
			   proc_max, &w->mem, &res);
	ps_cap_guard_end(w);
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
 * Resolved through root/ with fstatat only (no open, no read, no
 * automount); it leaves procfs, so it runs under the read timeout. */
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
	ps_cap_guard_begin(w, 0);
	int rc = fstatat(w->p.pidfd, w->link.buf, &sb, AT_NO_AUTOMOUNT);
	int e = errno;
	ps_cap_guard_end(w);
	if (rc == 0)
		return 1;
	return e == ENOENT || e == ENOTDIR ? 0 : -1;
}

/* Does argv[0] (an absolute path) name the running executable (issue 11,
 * masquerading)?  Two fstatat() through the process's own root and exe
 * link: they leave procfs, so under the read timeout, and only the result
 * is handed to crossview.c (a worker abandoned here never touches it). */
static void argv0_check(struct walker *w, int pidfd)
{
	struct run *r = w->r;
	if (!ps_xv_argv0_check(r->xv, w->p.pid, &w->link))
		return;
	struct stat sx, sa;
	ps_cap_guard_begin(w, 0);
	int rx = fstatat(pidfd, "exe", &sx, AT_NO_AUTOMOUNT);
	int ra = rx == 0 ? fstatat(pidfd, w->link.buf, &sa, AT_NO_AUTOMOUNT) : -1;
	int e = errno;
	ps_cap_guard_end(w);
	if (rx != 0)
		return;
	if (ra == 0)
		ps_xv_argv0_result(r->xv, w->p.pid,
				   sa.st_dev == sx.st_dev && sa.st_ino == sx.st_ino);
	else if (e == ENOENT || e == ENOTDIR)
		ps_xv_argv0_result(r->xv, w->p.pid, 0);
}

/* Open proc/<pid> and record it.  Returns its fd, or -1 when the walk of
 * this pid ends here (recorded ABSENT, or something mounted over it). */
static int open_pid(struct walker *w, const char *name, int pid, int hidden)
{
	struct run *r = w->r;
	struct stat sb;
	ps_cap_guard_begin(w, 1);
	int pidfd = openat(r->rootfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	int e = errno;
	int have_sb = pidfd >= 0 && fstat(pidfd, &sb) == 0;
	ps_cap_guard_end(w);
	if (pidfd < 0) {
		/* Gone since the listing, or never there (--pid). */
		emit(w, PS_KIND_ABSENT, NULL, NULL, NULL, 0, e, 0);
		return -1;
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
	ps_cap_hash_forget(w);
	w->have_pmsec = 0;
	ps_xv_see(r->xv, pid, PS_XV_OPENED);
	w->p.on_disk = -1;
	w->pdev = r->rootdev;
	/* procfs and mountinfo only: nothing here can block on a file system */
	int masked = ps_xv_masked(r->xv, pid, pidfd, r->rootdev);
	if (masked) {
		/* A mount over /proc/<pid> (or a file in it) hides the process:
		 * read the real directory through a private procfs instance
		 * (crossview.c); without one, record the mask and read nothing. */
		int real = ps_xv_route(r->xv, pid);
		if (real >= 0) {
			close(pidfd);
			pidfd = w->p.pidfd = real;
			masked = 0;
			have_sb = fstat(pidfd, &sb) == 0;
		}
	}
	if (!have_sb)
		memset(&sb, 0, sizeof(sb));
	if (have_sb && r->xv && !masked)
		w->pdev = sb.st_dev;
	w->p.dir_ino = have_sb ? sb.st_ino : 0;
	if (masked || (have_sb && sb.st_dev != w->pdev)) {
		/* Something is mounted over /proc/<pid> (a way to hide a
		 * process) and no other route reaches it: record that, do not
		 * read the mounted content. */
		emit(w, PS_KIND_DIR, &sb, NULL, NULL, 0, EXDEV, 0);
		w->p.active = 0;
		w->pdev = r->rootdev;
		close(pidfd);
		return -1;
	}
	emit(w, PS_KIND_DIR, &sb, NULL, NULL, 0, 0, 0);
	return pidfd;
}

/* The listing of the pid directory at pidfd (its template on procfs). */
static struct listing *list_pid(struct walker *w, int pidfd)
{
	struct listing *l = &w->lv[1];
	enum cc cc = cur_check(w, 2, R_LIST, "");
	if (cc == CC_DONE)
		return l; /* resuming: the cursor brought the listing */
	if (cc == CC_STUCK) {
		l->n = 0; /* the listing itself timed out */
		return l;
	}
	if (w->have_pid_tpl)
		return &w->pid_tpl;
	at(w, 2, R_LIST, "");
	ps_cap_guard_begin(w, 0);
	int e = ps_cap_list_dir(w, pidfd, l);
	ps_cap_guard_end(w);
	if (e) {
		proc_err(w, e);
	} else if (w->r->procfs && l->n) {
		ps_cap_listing_copy(&w->pid_tpl, l);
		w->have_pid_tpl = 1;
	}
	return l;
}

/* The walk is at pid `name` (opened, r->idx): take what prefetch.c read of
 * it, if it read the same directory (a pid rerouted through another procfs
 * instance, w->pdev, never matches: prefetch.c reads the root's). */
static void claim(struct walker *w, const char *name)
{
	struct run *r = w->r;
	w->pfb = ps_pf_claim(r->pf, r->idx, w->p.pid, w->pdev, w->p.dir_ino);
	/* keys are paths below proc/<pid>/ */
	w->pf_off = strlen("proc/") + strlen(name) + 1;
}

/* Tell prefetch.c what the walk reads in a pid directory (its regular
 * files by policy, stat aside: the walk reads it first, itself) and in
 * task/<tid>/. */
static void publish_names(struct walker *w, size_t from)
{
	const struct listing *t = &w->pid_tpl;
	const char **v = ps_xmalloc((t->n ? t->n : 1) * 3 * sizeof(*v));
	const char **pn = v, **ln = v + t->n, **dn = v + 2 * t->n;
	struct ps_pf_names nm = {.pid = pn, .tid = thread_files, .link = ln, .ldir = dn};
	for (size_t i = 0; i < t->n; i++) {
		const char *e = t->ent[i];
		if (policy(w, L_PID, 2, e) != P_VISIT)
			continue;
		if (ent_type(e) == DT_REG && strcmp(e, "stat") != 0)
			pn[nm.npid++] = e;
		else if (ent_type(e) == DT_LNK)
			ln[nm.nlink++] = e;
		else if (ent_type(e) == DT_DIR && strcmp(e, "fdinfo") == 0)
			nm.fdinfo = 1;
		else if (ent_type(e) == DT_DIR && (strcmp(e, "fd") == 0 || strcmp(e, "ns") == 0 ||
						   strcmp(e, "map_files") == 0))
			dn[nm.nldir++] = e;
	}
	if (!w->o->no_threads)
		while (thread_files[nm.ntid])
			nm.ntid++;
	struct run *r = w->r;
	ps_pf_names(r->pf, from, &nm);
	free(v);
	r->pf_named = 1;
}

void ps_cap_pf_prime(struct walker *w)
{
	struct run *r = w->r;
	if (!r->pf || r->pf_named || w->have_pid_tpl)
		return;
	/* procfs names the same files in every pid directory: ours will do */
	int fd = openat(r->rootfd, "self", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return;
	struct listing *l = &w->lv[1];
	if (ps_cap_list_dir(w, fd, l) == 0 && l->n) {
		ps_cap_listing_copy(&w->pid_tpl, l);
		w->have_pid_tpl = 1;
		publish_names(w, 0);
	}
	close(fd);
}

static void capture_pid(struct walker *w, int pid, int hidden)
{
	struct run *r = w->r;
	char name[16];
	snprintf(name, sizeof(name), "%d", pid);
	ps_cap_known_set(r, pid);
	ps_cap_note_id(r, pid);
	enum cc cc = cur_check(w, 1, 0, name);
	size_t mark = path_push(w, name);
	int pidfd;
	if (cc == CC_DONE || cc == CC_STUCK)
		goto out;
	at(w, 1, 0, name);
	w->lst[1] = NULL;
	if (cc == CC_ENTER) {
		/* Resuming: the facts so far came with the cursor. */
		pidfd = w->cur.fd[1];
		w->cur.fd[1] = -1;
		w->p.pidfd = pidfd;
	} else {
		if (excluded(w)) {
			w->st->excluded++;
			goto out;
		}
		if ((pidfd = open_pid(w, name, pid, hidden)) < 0)
			goto out;
		if (r->pf && !hidden && r->phase == PH_PIDS && r->pf_named)
			claim(w, name);
	}
	w->dfd[1] = pidfd;
	/* stat first: (pid, starttime) names the process the rest belongs to. */
	visit(w, pidfd, "stat", DT_REG, 2, L_PID);
	struct listing *l = list_pid(w, pidfd);
	w->lst[1] = l;
	if (r->pf && !r->pf_named && w->have_pid_tpl) /* from the pid after this one */
		publish_names(w, r->phase == PH_PIDS ? r->idx + 1 : r->npids);
	static const char pm_name[] = "pagemap.sections";
	int pm_done = w->o->no_pagemap;
	for (size_t i = 0; i < l->n && !ps_cap_halted(w); i++) {
		if (!pm_done && name_order(l->ent[i], pm_name) > 0) {
			if (step(w, R_ENTRY, pm_name, NULL))
				do_pagemap(w);
			pm_done = 1;
		}
		if (strcmp(l->ent[i], "stat") != 0)
			visit(w, pidfd, l->ent[i], ent_type(l->ent[i]), 2, L_PID);
	}
	if (!pm_done && !ps_cap_halted(w) && step(w, R_ENTRY, pm_name, NULL))
		do_pagemap(w);
	if (w->have_pmsec && w->o->suspicious_pages && r->procfs && pid != r->self &&
	    step(w, R_MEM, "mem.sections", NULL))
		do_mempages(w);
	if (!ps_cap_halted(w))
		do_bodies(w);
	if (!ps_cap_halted(w) && r->hashes)
		ps_cap_hash_process(w);

	if (!r->aborted) {
		struct ps_capture_proc pr;
		memset(&pr, 0, sizeof(pr));
		pr.pid = pid;
		pr.starttime = w->p.starttime;
		pr.partial = w->p.partial;
		pr.hidden = w->p.hidden;
		pr.nthreads = w->p.nthreads;
		enum cc dc;
		if (step(w, R_ON_DISK, "", &dc))
			w->p.on_disk = exe_on_disk(w);
		else if (dc == CC_STUCK)
			w->p.on_disk_err = ETIMEDOUT;
		if (step(w, R_ARGV0, "", NULL))
			argv0_check(w, pidfd);
		pr.on_disk = w->p.on_disk;
		pr.on_disk_err = w->p.on_disk_err;
		w->st->procs++;
		w->st->partial_procs += pr.partial != 0;
		w->st->hidden_procs += pr.hidden != 0;
		if (r->sink->process && r->sink->process(r->sink->ctx, &pr, r->err) < 0)
			r->aborted = 1;
	}
	w->p.active = 0;
	w->pdev = r->rootdev;
	w->have_pmsec = 0;
	w->dfd[1] = -1;
	w->lst[1] = NULL;
	close(pidfd);
out:
	ps_pf_release(w->pfb);
	w->pfb = NULL;
	w->cur.active = 0;
	r->procs_done++;
	ps_cap_progress(r, ps_mono_ns(), 0);
	path_pop(w, mark);
}

/* ---- hidden-pid sweep ------------------------------------------------------------- */

static int64_t read_num_at(struct walker *w, const char *name, int loadavg)
{
	if (ps_read_at(w->r->rootfd, name, &w->data, 4096, NULL) != 0)
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
	if (lseek(w->r->rootfd, 0, SEEK_SET) < 0 || ps_cap_list_dir(w, w->r->rootfd, l) != 0)
		return;
	for (size_t i = 0; i < l->n; i++) {
		ps_cap_known_set(w->r, ps_cap_parse_id(l->ent[i]));
		ps_xv_see(w->r->xv, ps_cap_parse_id(l->ent[i]), PS_XV_LISTED);
	}
}

/* Tgid of /proc/N from its status, or -1. */
static int64_t tgid_of(struct walker *w, int id)
{
	char name[32];
	snprintf(name, sizeof(name), "%d/status", id);
	uint64_t v;
	if (ps_read_at(w->r->rootfd, name, &w->data, 0, NULL) != 0 ||
	    find_u64_line(w->data.buf, w->data.len, "Tgid:", &v) != 0 || v >= PID_LIMIT)
		return -1;
	return (int64_t)v;
}

static void resolve(struct walker *w, const int *cand, size_t n)
{
	struct run *r = w->r;
	relist(w);
	for (size_t i = 0; i < n && !ps_cap_halted(w); i++) {
		int id = cand[i];
		if (ps_cap_known_has(r, id))
			continue;
		int64_t tgid = tgid_of(w, id);
		char name[16];
		struct stat sb;
		snprintf(name, sizeof(name), "%d", id);
		if (tgid < 0 && fstatat(r->rootfd, name, &sb, AT_SYMLINK_NOFOLLOW) < 0)
			continue; /* gone meanwhile */
		if (tgid > 0 && tgid != id) {
			/* A thread: of a known group (started after we walked its
			 * task/) it is fine; else its group leader is hidden. */
			if (ps_cap_known_has(r, tgid))
				continue;
			id = (int)tgid;
		}
		r->procs_total++;
		r->swept_found++;
		ps_xv_see(r->xv, id, PS_XV_SWEPT);
		r->sweep_pid = id;
		capture_pid(w, id, 1);
		r->sweep_pid = 0;
	}
}

/* Does the scheduler know id?  sched_getscheduler(id) looks the id up in
 * procsnap's own pid namespace, not through procfs (0.12 us an id on this
 * project's VM, against 1.1 us for an fstatat of /proc/N that fails);
 * anything but ESRCH is a yes.  Not kill(id, 0), as fast: hosts that audit
 * kill() (process-termination rules) would log one record per id, millions
 * near systemd's pid_max, and rotate older audit records away. */
int ps_cap_sched_knows(int id)
{
	if (id <= 0)
		return 0;
	return sched_getscheduler(id) >= 0 || errno != ESRCH;
}

/* Every unknown number up to the highest id seen (or loadavg's last_pid)
 * is probed; hits are resolved in batches.  The probe is one fstatat of
 * root/N, except when the census vouched for the listing (the kernel's own
 * counts, taken in the initial pid namespace, agree with it): then only ids
 * the scheduler knows are stat'ed, which takes a sweep to a pid counter
 * near systemd's pid_max (4194304) from 4.2 to about 0.6 s.  When the
 * counts disagree, or cannot be compared, every id is stat'ed, to pid_max. */
static void sweep(struct walker *w)
{
	struct run *r = w->r;
	uint64_t t0 = ps_mono_ns();
	int sched = ps_xv_census_agrees(r->xv);
	w->st->sweep_sched = sched;
	w->st->sweep_answered = 0;
	int64_t limit = r->max_id;
	int64_t last = read_num_at(w, "loadavg", 1);
	if (last > limit && last < PID_LIMIT)
		limit = last;
	limit += SWEEP_SLACK;
	int64_t pid_max = read_num_at(w, "sys/kernel/pid_max", 0);
	/* The census counts disagree with the listing: every id up to
	 * pid_max is probed (crossview.c; cost in README, "census"). */
	if (pid_max > 0 && ps_xv_full_sweep(r->xv))
		limit = pid_max;
	if (pid_max > 0 && limit > pid_max)
		limit = pid_max;
	if (limit > PID_LIMIT)
		limit = PID_LIMIT;

	int cand[CAND_MAX];
	size_t n = 0;
	char name[16];
	for (int64_t id = 1; id < limit && !ps_cap_halted(w); id++) {
		if (ps_cap_known_has(r, id) || (sched && !ps_cap_sched_knows((int)id)))
			continue;
		snprintf(name, sizeof(name), "%d", (int)id);
		struct stat sb;
		if (fstatat(r->rootfd, name, &sb, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT) < 0)
			continue;
		w->st->sweep_answered++;
		cand[n++] = (int)id;
		if (n == CAND_MAX) {
			resolve(w, cand, n);
			n = 0;
		}
	}
	if (n)
		resolve(w, cand, n);
	ps_xv_sweep_done(r->xv, limit, ps_mono_ns() - t0, r->swept_found, sched,
			 w->st->sweep_answered);
}

/* ---- the phases --------------------------------------------------------------------- */

void ps_cap_walk(struct walker *w)
{
	struct run *r = w->r;
	if (r->phase == PH_SYS) {
		/* The root itself was recorded by ps_capture_run; system files. */
		w->dfd[0] = r->rootfd;
		for (size_t i = 0; i < r->root.n && !ps_cap_halted(w); i++)
			if (ps_cap_parse_id(r->root.ent[i]) < 0)
				visit(w, r->rootfd, r->root.ent[i], ent_type(r->root.ent[i]), 1,
				      L_SYS);
		w->dfd[0] = -1;
		w->cur.active = 0;
		if (ps_cap_halted(w))
			return;
		ps_cap_sysmod(w, r->o->root ? r->o->root : "/proc");
		r->phase = PH_PIDS;
		r->idx = 0;
	}
	if (r->phase == PH_PIDS) {
		/* A pid being resumed gets its process record even when the
		 * deadline has passed (cur.active). */
		for (; r->idx < r->npids && (w->cur.active || !ps_cap_halted(w)); r->idx++) {
			/* --pid: each once (and not a thread already walked) */
			int pid = r->pids[r->idx];
			if (r->o->npids && !w->cur.active && pid > 0 && ps_cap_known_has(r, pid))
				continue;
			capture_pid(w, pid, 0);
		}
		if (ps_cap_halted(w))
			return;
		r->phase = r->o->npids ? PH_DONE : PH_SWEEP;
	}
	if (r->phase == PH_SWEEP) {
		if (r->sweep_pid > 0) {
			/* resuming a hidden pid, then the sweep again (what was
			 * captured is known now, so it is not captured twice) */
			capture_pid(w, r->sweep_pid, 1);
			r->sweep_pid = 0;
		}
		if (!ps_cap_halted(w))
			sweep(w);
		if (!ps_cap_halted(w))
			r->phase = PH_DONE;
	}
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
