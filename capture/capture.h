/*
 * capture.h - walk a proc tree and emit one record per path into a sink.
 *
 * capture knows nothing of archives or SQL: the cli connects a sink (the
 * store's writer) to it.  Every path the walk meets is emitted exactly once,
 * in walk order: regular files with the exact bytes read, symlinks with their
 * readlink() text (never followed), directories, and paths that could not be
 * read as ABSENT with their errno.  Nothing is dropped silently.
 */
#ifndef PS_CAPTURE_H
#define PS_CAPTURE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "common.h"

enum ps_kind {
	PS_KIND_FILE = 0,  /* regular file: data = bytes read (maybe partial, see err) */
	PS_KIND_LINK = 1,  /* symlink: target = readlink text */
	PS_KIND_DIR = 2,   /* directory */
	PS_KIND_ABSENT = 3 /* could not be read at all: err says why */
};

/* One captured path, as handed to the sink.  All pointers are borrowed for
 * the duration of the callback only. */
struct ps_capture_record {
	const char *path; /* archive path, relative: "proc/42/status" */
	enum ps_kind kind;
	uint32_t mode;	    /* lstat st_mode (type and permission bits); 0 if unknown */
	uint32_t uid, gid;  /* lstat owner */
	int64_t mtime;	    /* lstat st_mtime, seconds */
	const char *target; /* PS_KIND_LINK: readlink text; else NULL */
	const void *data;   /* PS_KIND_FILE: content */
	size_t len;
	int err;	  /* errno of the failed open/read/readlink, 0 if none */
	int truncated;	  /* content cut at a size cap */
	uint64_t read_ns; /* ns since capture start when the read finished */
	/* Large content (over opts->spill_min) is not in data: it is in an
	 * unlinked temporary file, spill_fd, len bytes from offset 0.  The sink
	 * owns spill_fd from the call on (it must close it, even on error). */
	int spilled;
	int spill_fd;
};

/* Per-process facts gathered during the walk (emitted after its files). */
struct ps_capture_proc {
	int pid;
	uint64_t starttime; /* stat field 22; 0 if unknown */
	int partial;	    /* the process exited (ESRCH/ENOENT) mid-capture */
	int hidden;	    /* absent from the /proc listing but reachable */
	int nthreads;	    /* task/ entries captured */
	int on_disk;	    /* exe exists inside the process's mount ns: 1, 0, -1 unknown */
	int on_disk_err;    /* on_disk is -1 because the check timed out: ETIMEDOUT; else 0 */
};

/*
 * One executable hashed (opts->no_hash off): the exe of a process, a file
 * mapped executable by it, or a recovered body (exe.body, fd/N.body), with
 * SHA-256, SHA-1 and MD5 of its bytes.  One per distinct (file, path): a
 * file is read once per capture, identified by (dev, ino, mtime); later
 * paths of the same file reuse its hashes.  Borrowed for the callback.
 */
struct ps_capture_hash {
	const char *path;   /* as the process names it: exe target or maps pathname,
			       without " (deleted)" */
	const char *member; /* a body: its archive path ("proc/42/exe.body"); else NULL */
	const char *source; /* "exe", "map" or "body" */
	int pid;	    /* the process it was first read through */
	uint64_t dev;	    /* st_dev as major << 20 | minor (the maps encoding) */
	uint64_t ino;
	int64_t mtime_ns; /* st_mtim */
	uint64_t size;	  /* st_size (a body: the bytes kept) */
	int have_hash;	  /* the digests are set */
	unsigned char md5[16], sha1[20], sha256[32];
	/* NULL: hashed whole; "budget" (over --hash-max, not read), "changed"
	 * (the file at that path is not the one mapped), "truncated" (a body cut
	 * at --exe-body-max: hashes of the bytes kept), or an errno name
	 * (ETIMEDOUT for a read that did not return in time). */
	const char *status;
};

struct ps_capture_sink {
	void *ctx;
	/* Return 0 to go on, <0 to abort the capture (err filled by the sink). */
	int (*record)(void *ctx, const struct ps_capture_record *rec, struct ps_err *err);
	int (*process)(void *ctx, const struct ps_capture_proc *proc, struct ps_err *err);
	/* Optional: progress, called about every 100 ms. */
	void (*progress)(void *ctx, int procs_done, int procs_total, uint64_t files,
			 uint64_t bytes);
	/* Optional: one executable hashed (struct ps_capture_hash). */
	int (*hash)(void *ctx, const struct ps_capture_hash *h, struct ps_err *err);
};

enum ps_exe_bodies { PS_EXE_BODIES_NONE, PS_EXE_BODIES_DELETED, PS_EXE_BODIES_ALL };

/* Archive path of the cross-view facts (schema/crossview.md), emitted last
 * by a capture of a live procfs. */
#define PS_CROSSVIEW_PATH "procsnap/crossview.json"
/* Default --hash-max: bytes read to hash executables, per capture. */
#define PS_HASH_MAX_DEFAULT ((uint64_t)512 << 20)
/* --suspicious-pages default budget: page bytes read per capture. */
#define PS_SUSPICIOUS_MAX_DEFAULT ((uint64_t)16 << 20)

struct ps_capture_opts {
	const char *root; /* proc root to walk, default "/proc" */
	const int *pids;  /* only these pids (NULL/0 = all) */
	size_t npids;
	const char *const *excludes; /* fnmatch globs against archive paths ("proc/ * /environ") */
	size_t nexcludes;
	int no_threads;	      /* skip task/<tid>/ */
	int no_smaps;	      /* skip smaps (smaps_rollup stays) */
	int no_pagemap;	      /* skip pagemap.sections */
	int numa_maps;	      /* also read numa_maps (costly) */
	uint64_t pagemap_max; /* per-process cap on pagemap entry bytes: the mapped range
				 examined, 8 bytes per page (0 = no cap) */
	int no_pagemap_scan;  /* never use PAGEMAP_SCAN (cli: env PROCSNAP_NO_PAGEMAP_SCAN=1) */
	enum ps_exe_bodies exe_bodies;
	uint64_t exe_body_max;
	/* --suspicious-pages (issue 11): read the pages the in-memory tampering
	 * rules flag into proc/<pid>/mem.sections (schema/mem-sections.md), at
	 * most suspicious_max bytes per capture (0: the default, 16 MiB) and a
	 * sixteenth of that per process.  Needs pagemap. */
	int suspicious_pages;
	uint64_t suspicious_max;
	/* Hashes of what runs (issue 12): every distinct exe and executable file
	 * mapping of a captured process is read (through exe and map_files/, or
	 * the process's root/) and hashed, at most hash_max bytes per capture (0:
	 * PS_HASH_MAX_DEFAULT; a file that does not fit is listed, not read),
	 * and every body kept; the results go to sink->hash.  Live procfs only. */
	int no_hash;
	uint64_t hash_max;
	uint64_t start_ns; /* ps_mono_ns() at capture start: read_ns is relative to it */
	/* Never hang (DESIGN 3): every open, read, readlink, stat and listing of
	 * the walk that has not returned after read_timeout_ns (0: 5 s) is
	 * abandoned, its path recorded ABSENT with ETIMEDOUT, and the walk goes
	 * on after it.  deadline_ns (0: none), counted from start_ns, ends the
	 * walk: the operation in flight is recorded ETIMEDOUT, the process being
	 * walked gets its process record, and every pid not reached is recorded
	 * ABSENT ("proc/<pid>") with ETIMEDOUT. */
	uint64_t read_timeout_ns;
	uint64_t deadline_ns;
	/* Content larger than spill_min bytes (a 60k-mapping smaps, an exe body)
	 * is read into an unlinked temporary file in spill_dirfd instead of
	 * memory (record.spilled); spill_min 0: never. */
	size_t spill_min;
	int spill_dirfd;
	/* Read the next pids' files ahead on a thread of their own
	 * (capture/prefetch.c); off with excludes, and with this. */
	int no_read_ahead;
};

/* Totals of one run (the sink may keep its own). */
struct ps_capture_stats {
	uint64_t procs, threads, files, links, dirs, absent;
	uint64_t bytes; /* raw bytes read */
	uint64_t partial_procs, hidden_procs;
	uint64_t skipped;     /* paths not read by policy: never-read names (kcore, mem...),
				 write-only files, FIFOs/devices, mount points not descended */
	uint64_t excluded;    /* paths matching opts->excludes (omitted, no record) */
	uint64_t errors[160]; /* count per errno value (index = errno, last = other) */
	/* pagemap.sections (issue 4) */
	uint64_t pagemap_members;    /* members written (FILE records) */
	uint64_t pagemap_scanned;    /* of those, built with PAGEMAP_SCAN */
	uint64_t pagemap_truncated;  /* stopped at pagemap_max */
	uint64_t pagemap_bytes_read; /* entry bytes pread from pagemap */
	int soft_dirty;		     /* CONFIG_MEM_SOFT_DIRTY: 1, 0, -1 unknown/not probed */
	/* never hang */
	uint64_t timeouts;     /* operations abandoned (read timeout or deadline) */
	int deadline_reached;  /* the walk was ended by opts->deadline_ns */
	uint64_t not_captured; /* pids recorded ABSENT/ETIMEDOUT at the deadline */
	uint64_t stuck;	       /* threads left blocked at the end (workers, ahead.c, prefetch.c) */
	/* mem.sections (--suspicious-pages) */
	uint64_t mem_members, mem_bytes, mem_truncated;
	/* hashes */
	uint64_t hash_files; /* files read and hashed (bodies included) */
	uint64_t hash_ahead; /* of those, procsnap's own, hashed ahead (ahead.c) */
	uint64_t hash_bytes; /* bytes hashed */
	uint64_t hash_over;  /* files over the budget, not read */
	uint64_t hash_ns;    /* time spent reading and hashing */
	/* prefetch.c: files of pid and task/<tid>/ directories the walk took
	 * from the read-ahead instead of reading them itself */
	uint64_t read_ahead;
	/* the hidden-pid sweep */
	int sweep_sched;	 /* ids were first asked of the scheduler (census agreed) */
	uint64_t sweep_answered; /* unknown ids that answered (threads and processes
				    started during the walk, hidden ones) */
};

/*
 * ps_capture_run - walk opts->root and emit every record into sink.
 * Order: system files (everything in root that is not a pid directory),
 * sys/module/ beside the root (capture/crossview.c), then each pid (dirs,
 * files, links, task/<tid>/...), then the hidden-pid sweep, then (live
 * procfs only) procsnap/crossview.json.  Returns 0, or -1 with err filled
 * when the sink aborted or the root itself cannot be opened.  Per-path
 * errors are records, not failures.
 *
 * Threads: the walk runs in a worker thread and the calling thread watches
 * it (read_timeout_ns, deadline_ns).  The sink is called from one thread at
 * a time, not always the same one.  A worker stuck in the kernel is
 * abandoned and may outlive this call (blocked; it touches nothing of the
 * caller's when it wakes): stats->timeouts > 0 says so.  Block the signals
 * the caller handles before calling: workers inherit the mask.
 */
int ps_capture_run(const struct ps_capture_opts *opts, const struct ps_capture_sink *sink,
		   struct ps_capture_stats *stats, struct ps_err *err);

/*
 * ps_capture_soft_dirty - does the running kernel track soft-dirty bits
 * (CONFIG_MEM_SOFT_DIRTY)?  Detected passively, never by writing clear_refs:
 * every new vma is soft-dirty on such a kernel, so the pagemap entry of a
 * fresh, untouched page of our own has bit 55 set; failing that,
 * /boot/config-<release> is consulted.  1, 0, or -1 when unknown.
 */
int ps_capture_soft_dirty(void);

/*
 * ps_capture_open_regular - open dirfd/name for reading (O_NONBLOCK,
 * O_CLOEXEC, O_NOCTTY, plus flags such as O_NOFOLLOW), then fstat the open
 * file into sb and refuse anything that is not a regular file: a FIFO or a
 * device swapped in after the caller's stat is never read.  Returns the fd,
 * or -1 with errno set (ENODEV: opened, but not a regular file).
 */
int ps_capture_open_regular(int dirfd, const char *name, int flags, struct stat *sb);

/* Facts about the capturing host for meta.json, read from opts->root and
 * uname/getuid: appended as JSON members ("key": value,) to out. */
void ps_capture_host_facts(const char *root, struct ps_buf *out);

/*
 * ps_capture_self_facts - procsnap's own integrity (issue 11): the "self"
 * member of meta.json (loader variables of our environment,
 * /etc/ld.so.preload, static or not, our TracerPid, loaded objects outside
 * the executable's DT_NEEDED closure, executable mappings outside every
 * loaded object), appended as `"self": {...},` to out.  Always about this
 * process, whatever the proc root.  Called by ps_capture_host_facts.
 */
void ps_capture_self_facts(struct ps_buf *out);

#endif
