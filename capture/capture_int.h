/*
 * capture_int.h - private to capture/: the state of a run, shared between
 * the walk (capture.c) and the watchdog that keeps it from hanging (watch.c).
 *
 * Threads.  The walk runs in a worker thread; the thread that called
 * ps_capture_run is the watchdog.  Every operation of the walk that can
 * block (an open, read, readlink, stat or listing) is bracketed by
 * guard_begin/guard_end, which move the worker's `seq` from even to odd and
 * back.  The watchdog samples `seq` every tick; an odd value that has not
 * changed for the read timeout is a stuck operation.  The watchdog then
 * swaps it (compare-and-swap) for SEQ_GONE: if that wins, the worker is
 * abandoned (guard_end's own compare-and-swap fails when the operation
 * returns, and the worker frees its private state and exits without touching
 * anything shared); a replacement worker resumes the walk right after the
 * stuck operation (watch.c, struct cursor).  No lock is taken per operation.
 *
 * Ownership of the shared state (struct run: the sink, stats, the known-id
 * bitmap, the netns set, the phase) is by baton: the active worker owns it
 * whenever it is outside a guarded operation; the watchdog owns it while no
 * worker runs, and from the moment its compare-and-swap wins until the
 * replacement starts (pthread_create orders the two).  So the walk's code
 * touches shared state exactly as a single-threaded walk would.
 */
#ifndef PS_CAPTURE_INT_H
#define PS_CAPTURE_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "capture.h"
#include "pagemap.h"

#define MAX_DEPTH 48 /* deeper dirs are recorded, not descended (ELOOP) */
#define SEQ_GONE  UINT64_MAX
#define DENTS_SZ  (64 * 1024) /* getdents64 buffer */

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
	int have_exe;
	int cur_tid;	   /* task/<tid>/ being walked */
	ino_t dir_ino;	   /* the pid directory opened (prefetch.c's identity) */
	int on_disk_err;   /* the on-disk check timed out (ETIMEDOUT) */
	int on_disk;	   /* its result (1, 0, -1 unknown) */
	struct ps_buf exe; /* readlink of exe, for on_disk */
	int *body_fds;	   /* fds whose target is deleted or a memfd (exe bodies policy) */
	size_t nbody_fds, cap_body_fds;
};

enum phase { PH_SYS, PH_PIDS, PH_SWEEP, PH_DONE };

/* A step of the walk, for resuming: its depth below proc/ is its index in
 * the position stack.  Below a pid, the steps of the pid directory itself
 * come in this order (rank): stat, the listing of the directory, the listed
 * entries (pagemap.sections among them, in name order: after pagemap,
 * before smaps), mem.sections, exe.body, fd/N.body, the hashes, the on-disk
 * check, the argv[0] check;
 * everywhere else rank is 0 and entries follow the listing order
 * (name_order). */
enum rank {
	R_STAT,
	R_LIST,
	R_ENTRY,
	R_MEM,
	R_EXE_BODY,
	R_FD_BODY,
	R_HASH, /* the executables to hash, named "0", "1"... (hash.c) */
	R_ON_DISK,
	R_ARGV0
};
struct pos {
	int rank;
	const char *name;
};

/* Where a replacement worker resumes: the position of the stuck operation
 * (comp[1..n]), and for each ancestor directory (depth 1..n-1) a duplicate
 * of the stuck worker's fd and a copy of its listing, so that resuming
 * re-reads nothing.  The walk skips every step before comp (already
 * recorded), enters its ancestors without recording them again, skips the
 * stuck step itself (the watchdog recorded it) and goes on normally after. */
struct cursor {
	int active;  /* still before or inside the stuck step */
	int n;	     /* depth of the stuck step (1: a pid directory itself) */
	int matched; /* depth up to which the walk is inside its ancestors */
	struct pos comp[MAX_DEPTH + 2];
	struct ps_buf names; /* storage of comp[].name */
	int fd[MAX_DEPTH + 2];
};

/* Hand-off lock and reference count: outlives the run while abandoned
 * workers may still wake up and check in. */
struct hub {
	pthread_mutex_t mu;
	atomic_int refs;
};

struct run {
	const struct ps_capture_opts *o;
	const struct ps_capture_sink *sink;
	struct ps_capture_stats *st;
	struct ps_err *err;
	struct hub *hub;
	uint64_t start_ns;
	int rootfd;
	dev_t rootdev;
	int procfs;
	int self;	 /* procsnap's own pid (getpid() is a system call) */
	int aborted;	 /* the sink failed: stop, report err */
	atomic_int stop; /* the deadline passed: stop walking, finish */
	int soft_dirty, no_scan;
	struct listing root; /* the root listing (read only once workers run) */
	int *pids;	     /* pid numbers of the listing, sorted, or opts->pids */
	size_t npids;
	enum phase phase; /* where the walk is */
	size_t idx;	  /* PH_PIDS: index in pids */
	int sweep_pid;	  /* PH_SWEEP: the hidden pid being captured, or 0 */
	uint64_t *known;  /* bitmap: pids listed, tids walked, pids captured */
	size_t known_words;
	int64_t max_id;	 /* highest pid/tid/ppid/tracer seen, for the sweep */
	uint64_t *netns; /* open-addressing set of netns inodes (0 = empty) */
	size_t netns_cap, netns_n;
	int procs_done, procs_total;
	uint64_t next_progress;
	struct ps_xv *xv;	  /* cross-views (crossview.c); NULL unless a live procfs */
	struct ps_hashes *hashes; /* hash.c: files hashed so far, budget; NULL: off */
	uint64_t mem_budget;	  /* --suspicious-pages: page bytes left to read */
	uint64_t swept_found;	  /* hidden pids the sweep captured */
	struct ps_pf *pf;	  /* prefetch.c, or NULL; its names published (pf_named) */
	int pf_named;
	pthread_mutex_t wmu; /* guards walker.finished */
	pthread_cond_t wcv;  /* signalled when a worker finishes */
};

/* A worker: everything here is private to its thread (the watchdog reads
 * it only after taking over, while the thread is blocked in a syscall). */
struct walker {
	struct run *r;
	const struct ps_capture_opts *o; /* = r->o */
	struct ps_capture_stats *st;	 /* = r->st */
	struct hub *hub;
	pthread_t thread;
	int finished;	      /* ps_cap_walk() returned (under r->wmu) */
	_Atomic uint64_t seq; /* even: between operations; odd: in one; SEQ_GONE */
	int op_record;	      /* the operation in flight has no record yet */
	int depth;	      /* depth of the step in flight */
	struct pos pos[MAX_DEPTH + 2];
	int dfd[MAX_DEPTH + 2];		    /* open directory at each depth (-1) */
	struct listing *lst[MAX_DEPTH + 2]; /* its listing */
	struct cursor cur;
	struct ps_buf path; /* archive path being visited, "proc/..." */
	struct ps_buf data; /* the read buffer, reused for every file */
	struct ps_buf link; /* readlink results and scratch paths */
	char *dents;	    /* getdents64 buffer */
	struct listing lv[MAX_DEPTH + 1];
	/* On procfs a pid directory and a task/<tid> directory always hold the
	 * same names (the kernel's tgid_base_stuff / tid_base_stuff tables are
	 * listed whole), so they are listed once and reused: getdents on them
	 * is the most expensive call of the walk (proc_fill_cache). */
	struct listing pid_tpl, tid_tpl;
	int have_pid_tpl, have_tid_tpl;
	struct proc p;
	struct ps_pf_batch *pfb; /* the pid's files read ahead (prefetch.c), or NULL */
	uint64_t read_at;	 /* the next record's read time (ps_mono_ns), if read ahead */
	size_t pf_off;		 /* w->path.buf + pf_off: the path below proc/<pid>/ */
	struct ps_pm *pm;	 /* pagemap.sections builder; NULL: not procfs or no_pagemap */
	struct ps_buf pmaps;	 /* the process's maps text, kept for pagemap.sections */
	int have_pmaps;
	dev_t pdev;	     /* device of the pid directory being walked (a private procfs
				instance for a masked pid), rootdev otherwise */
	struct ps_buf pmsec; /* --suspicious-pages: the pagemap member, for mem.sections */
	int have_pmsec;
	struct ps_buf mem; /* mem.sections being built */
	int spill_fd;	   /* the content read last went to this file (read_content) */
	uint64_t spill_len;
	/* hash.c: digests and read buffer of the file being hashed, its fd */
	void *hctx[3];
	char *hbuf;
	int hash_fd;
	struct ps_cap_item *hit; /* the executables of the process (hash.c items_of) */
	size_t nhit, caphit;
	int have_hit;
};

/* capture.c */
void ps_cap_walk(struct walker *w); /* run the phases from r->phase on */
/* Before the walk: the pid directories' names (listed in "self") to
 * prefetch.c, which can then read the first pids while the walk reads the
 * system files. */
void ps_cap_pf_prime(struct walker *w);
void ps_cap_emit_path(struct run *r, const char *path, enum ps_kind kind, const struct stat *sb,
		      const char *target, const void *data, size_t len, int e, int truncated);
/* The same, the content being in spill_fd (len bytes) when it is >= 0: the
 * sink owns the fd from here (closed here if the run was aborted); read at
 * ps_mono_ns() time read_at (0: now, as it is emitted). */
void ps_cap_emit_rec(struct run *r, const char *path, enum ps_kind kind, const struct stat *sb,
		     const char *target, const void *data, size_t len, int e, int truncated,
		     int spill_fd, uint64_t read_at);
void ps_cap_progress(struct run *r, uint64_t now, int force);
void ps_cap_listing_copy(struct listing *dst, const struct listing *src);
void ps_cap_listing_release(struct listing *l);
int ps_cap_list_dir(struct walker *w, int fd, struct listing *l);
void ps_cap_known_set(struct run *r, int64_t id);
int ps_cap_known_has(const struct run *r, int64_t id);
void ps_cap_note_id(struct run *r, int64_t id);

/* watch.c */
void ps_cap_gone(struct walker *w); /* abandoned: free private state, exit the thread */

static inline int ps_cap_halted(const struct walker *w)
{
	return w->r->aborted || atomic_load_explicit(&w->r->stop, memory_order_relaxed);
}

/* Enter a blocking operation: the walk's position (pos, depth, path,
 * op_record) is published with it. */
static inline void ps_cap_guard_begin(struct walker *w, int record)
{
	w->op_record = record;
	uint64_t s = atomic_load_explicit(&w->seq, memory_order_relaxed);
	atomic_store_explicit(&w->seq, s + 1, memory_order_release);
}

/* Still inside it, but making progress (a chunk of a long read): the
 * watchdog's clock restarts.  Abandoned meanwhile: never returns. */
static inline void ps_cap_guard_tick(struct walker *w)
{
	uint64_t s = atomic_load_explicit(&w->seq, memory_order_relaxed);
	if (s == SEQ_GONE || !atomic_compare_exchange_strong_explicit(
				 &w->seq, &s, s + 2, memory_order_acq_rel, memory_order_acquire))
		ps_cap_gone(w);
}

/* Leave it: unless the watchdog took over meanwhile (then this thread is
 * abandoned and never returns from here). */
static inline void ps_cap_guard_end(struct walker *w)
{
	uint64_t s = atomic_load_explicit(&w->seq, memory_order_relaxed);
	if (s == SEQ_GONE || !atomic_compare_exchange_strong_explicit(
				 &w->seq, &s, s + 1, memory_order_acq_rel, memory_order_acquire))
		ps_cap_gone(w);
}

/* ---- for the cross-view helpers (crossview.c, sysmod.c, mempages.c) ---- */

/* Emit one record at archive path `path` (the --exclude globs apply; the
 * walk's own path is left as it was).  sb may be NULL. */
void ps_cap_emit_at(struct walker *w, const char *path, enum ps_kind kind, const struct stat *sb,
		    const void *data, size_t len, int err);
/* Has the sink stopped the capture? */
int ps_cap_aborted(const struct walker *w);

/* A canonical decimal number (no sign, no leading zero) that fits an int,
 * or -1: a pid, tid or fd name. */
int ps_cap_parse_id(const char *s);

/* sys/module/ beside the proc root (sysmod.c). */
void ps_cap_sysmod(struct walker *w, const char *root);

/* A step of the pid directory at (rank, name): 1 to run it now; 0 to skip
 * it (done before a resume, or halted), with *stuck set when it is the
 * step a replacement worker resumes after (its operation timed out). */
int ps_cap_step(struct walker *w, int rank, const char *name, int *stuck);
/* readlinkat into b (grown as needed): 0 or an errno. */
int ps_cap_read_link(int dfd, const char *name, struct ps_buf *b);
/* Keep the maps text of the process for later steps (pagemap, hashes). */
int ps_cap_wants_maps(const struct walker *w);

/* A condition variable whose timed waits use CLOCK_MONOTONIC (watch.c). */
void ps_cap_cond_init_mono(pthread_cond_t *c);
/* Holding mu, wait on cv (made by ps_cap_cond_init_mono) until *flag is
 * set, at most secs seconds: 1 if it is set. */
int ps_cap_wait_set(pthread_cond_t *cv, pthread_mutex_t *mu, const int *flag, int secs);
/* Run fn(arg) on a detached thread, named name unless NULL: 0 or an errno. */
int ps_cap_spawn_detached(void *(*fn)(void *), void *arg, const char *name);

/* ---- hash.c: hashes of what runs ---- */
struct ps_hashes;
/* budget: bytes to read; ahead: procsnap's own files are hashed ahead
 * (ahead.c; a capture of every pid of the live /proc, which includes us). */
struct ps_hashes *ps_hashes_new(uint64_t budget, int ahead);
/* Free h; 1 when its ahead.c thread was left blocked in a read, else 0. */
int ps_hashes_free(struct ps_hashes *h);
/* One executable file of a process: its exe, or a file it maps executable. */
struct ps_cap_item {
	int exe;	   /* the exe link, else a mapping */
	char range[48];	   /* "start-end" of maps */
	uint64_t dev, ino; /* maps device (major << 20 | minor) and inode */
	size_t poff, plen; /* pathname in the maps text */
};
/* The items of a process from its maps text: the exe first when exe is
 * given (its link text; device and inode those of the first mapping of the
 * same name, 0 when none), then one per (device, inode) of the executable
 * file mappings in maps order, the exe's own file left out.  Into *v (grown,
 * its size in *cap); the count. */
size_t ps_cap_exec_items(const char *maps, size_t len, const char *exe, size_t exelen,
			 struct ps_cap_item **v, size_t *cap);
/* Open an item's file through its process's directory dirfd: "exe" or
 * "map_files/<range>", else (map_files refused, CAP_SYS_ADMIN) "root" +
 * path when that is the mapped file.  Only a regular file, never an
 * automount.  The fd and its fstat, or -1 with errno (ESTALE: the file at
 * that path is another one). */
int ps_cap_open_item(int dirfd, const struct ps_cap_item *it, const char *path, struct stat *sb);
/* st_dev in the maps encoding: major << 20 | minor. */
uint64_t ps_cap_dev_code(dev_t d);
/* A file as the hashes know it (hash.c, ahead.c): device in the maps
 * encoding, inode, mtime and size, from an fstat of the opened file. */
struct ps_cap_fid {
	uint64_t dev, ino, size;
	int64_t mtime_ns;
};
void ps_cap_fid_of(const struct stat *sb, struct ps_cap_fid *id);
/* MD5, SHA-1 and SHA-256 at once, in three contexts of the caller's
 * (created by begin when NULL; begin returns 0 or -1). */
int ps_digests_begin(void *ctx[3]);
void ps_digests_update(void *ctx[3], const void *p, size_t n);
void ps_digests_end(void *ctx[3], unsigned char md5[16], unsigned char sha1[20],
		    unsigned char sha256[32]);
void ps_digests_free(void *ctx[3]);

/* ---- prefetch.c: the next pids' files, read ahead on a thread of their own ---- */
struct ps_pf;
struct ps_pf_batch;
/* Start reading ahead the pids of the walk (rootfd is duplicated); NULL if
 * no thread could start. */
struct ps_pf *ps_pf_start(int rootfd, dev_t rootdev, const int *pids, size_t npids);
/* What to read ahead, as the walk reads it: the regular files of a pid
 * directory (pid) and of a task/<tid>/ directory (tid), the links of a pid
 * directory (link: exe, cwd...) and every link of some of its directories
 * (ldir: fd, ns, map_files), and (fdinfo) every file of fdinfo/. */
struct ps_pf_names {
	const char *const *pid, *const *tid, *const *link, *const *ldir;
	size_t npid, ntid, nlink, nldir;
	int fdinfo;
};
/* Publish the names: nothing is read before, and then from pids[from] on. */
void ps_pf_names(struct ps_pf *pf, size_t from, const struct ps_pf_names *nm);
int ps_pf_named(struct ps_pf *pf);
/* The walk is at pids[idx], whose directory it opened has this device and
 * inode: its batch if it was read from that directory (as far as it got;
 * the caller owns it: ps_pf_release), or NULL.  Every earlier one is
 * dropped. */
struct ps_pf_batch *ps_pf_claim(struct ps_pf *pf, size_t idx, int pid, dev_t dev, ino_t ino);
/* The content of key ("status", "task/<tid>/stat") in b, its length and
 * fstat; for a link ("fd/3", "exe"), its target and lstat (S_ISLNK); and
 * when it was read (ps_mono_ns); NULL if b does not hold it. */
const void *ps_pf_find(const struct ps_pf_batch *b, const char *key, size_t *len, struct stat *sb,
		       uint64_t *read_at);
void ps_pf_release(struct ps_pf_batch *b);
/* Stop reading ahead: 1 when the thread was left blocked in a read (it
 * frees what is left when it returns), else 0. */
int ps_pf_stop(struct ps_pf *pf);

/* ---- ahead.c: procsnap's own files, hashed on a thread of their own ---- */
struct ps_ahead;
/* Start the thread (NULL: nothing to do, or it could not start). */
struct ps_ahead *ps_ahead_start(uint64_t budget);
/* The digests of the file id when read ahead: 1.  Else read it yourself:
 * -1 when it is one of ours not read yet (from now on left to the caller),
 * 0 when not one of ours (or not yet opened there) or being read. */
int ps_ahead_take(struct ps_ahead *a, const struct ps_cap_fid *id, unsigned char md5[16],
		  unsigned char sha1[20], unsigned char sha256[32]);
/* Has the thread gone through its list?  (For tests: the walk never waits.) */
int ps_ahead_done(struct ps_ahead *a);
/* The capture is over: the thread stops at its next chunk; waited for at
 * most STOP_WAIT.  1 when it is left behind, blocked in a read (a thread the
 * process cannot end without: counted as stuck), else 0. */
int ps_ahead_stop(struct ps_ahead *a);
/* The hash steps of the current process (its exe, its executable file
 * mappings from w->pmaps). */
void ps_cap_hash_process(struct walker *w);
/* A body just read by do_body for member `rel` ("exe", "fd/3"): its
 * content is w->data, or the spill file w->spill_fd (w->spill_len bytes). */
void ps_cap_hash_body(struct walker *w, const char *rel, const struct stat *sb, int truncated);
/* Free a walker's hashing state (hctx, hbuf, hash_fd, hit). */
void ps_cap_hash_release(struct walker *w);
/* A worker given up on: its digest contexts are kept, not freed (no
 * OpenSSL call from it; hash.c). */
void ps_cap_hash_orphan(struct walker *w);
/* The process's maps text (w->pmaps) changed: its executables again. */
void ps_cap_hash_forget(struct walker *w);

/* capture.c: does sched_getscheduler(id) find id in
 * procsnap's pid namespace (the hidden-pid sweep's cheap probe)? */
int ps_cap_sched_knows(int id);

#endif
