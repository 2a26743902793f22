/*
 * diff_int.h - private to diff/: the result model shared by the engine
 * (diff.c, procs.c, sysfiles.c) and the writers (render.c).
 *
 * A result is a flat list of items.  Each item belongs to a group (process
 * started, exited, a changed process, a system file), a section, and holds a
 * few named fields (the names are the JSON field names, documented in
 * schema/diff.schema.json).  Writers sort nothing: the engine sorts once.
 */
#ifndef PS_DIFF_INT_H
#define PS_DIFF_INT_H

#include "diff.h"

#include <sqlite3.h>

struct ps_fetch;
struct ps_snap;

enum dv_type { DV_NULL = 0, DV_INT, DV_STR, DV_BOOL };

struct dval {
	enum dv_type t;
	int64_t i;
	char *s; /* DV_STR: owned, NUL-terminated, may hold NULs (n) */
	size_t n;
};

struct dfield {
	const char *name; /* static */
	struct dval v;
};

enum dgroup { G_STARTED = 0, G_EXITED, G_PROC, G_SYS };

/* Sections of a changed process, in output order. */
enum dsec {
	S_IDENTITY = 0,
	S_MEMORY,
	S_FDS,
	S_MAPS,
	S_PAGES,
	S_THREADS,
	S_ENV,
	S_LIMITS,
	S_COUNTERS,
	S_NOTES,
	S__N
};
extern const char *const ps_dsec_json[S__N];

/* How a system file is compared. */
enum dftype { FT_FILE = 0, FT_KV, FT_TABLE, FT_TEXT };
extern const char *const ps_dftype_json[4];

#define DI_MAXF 16

struct ditem {
	enum dgroup group;
	int64_t pid;	  /* processes: pid; system: -1 */
	int sec;	  /* enum dsec (G_PROC) */
	char *file;	  /* G_SYS: display path ("meminfo", "net/tcp"); owned */
	int ftype;	  /* G_SYS: enum dftype */
	const char *tkey; /* FT_TABLE: name of the key column(s) */
	size_t seq;	  /* creation order, the last sort key */
	int nf;
	struct dfield f[DI_MAXF];
};

/* Header facts of one changed process. */
struct dproc {
	int64_t pid, starttime;
	char *name, *exe;
	int partial_a, partial_b;
};

struct snapinfo {
	char *label;   /* as given on the command line */
	char *archive; /* NULL when only the index is available */
	char *index;
	int64_t sid; /* snapshot_id used */
	char *hostname, *boot_id, *kernel_release;
	int64_t start_ns, n_processes, page_size, clock_ticks, archive_size;
	int64_t capture_pid, capture_ppid; /* procsnap's own process (-1: unknown) */
	int have_start, have_nproc;
	char *sha256;
};

/* What the default output leaves out (counted, shown with --counters or
 * --all). */
struct dhidden {
	uint64_t counter_files;	 /* changed files of class counters */
	uint64_t volatile_files; /* changed files of class volatile */
	uint64_t volatile_rows;	 /* socket table rows that are not listeners */
	uint64_t dropped_files;	 /* state files that differ only in dropped lines */
	uint64_t workers;	 /* kernel worker threads started or exited */
	uint64_t worker_names;	 /* kworker workqueue suffixes that changed */
	uint64_t page_ranges;	 /* page ranges below PS_DIFF_PAGES_MIN_BYTES */
};

/* A process of procsnap's own capture, left out of started/exited. */
struct downp {
	int side; /* 0: in A (exited), 1: in B (started) */
	int64_t pid;
	const char *role; /* "capture" or "parent" */
	char *name, *cmdline;
};

struct ps_diff {
	struct snapinfo a, b;
	int same_boot;
	int counters, all, context, scope;
	struct dhidden hid;
	struct downp *own;
	size_t nown;
	struct ditem *items;
	size_t n, cap;
	struct dproc *procs;
	size_t np, capp;
	struct ps_diff_stats st;
};

/* ---- building items --------------------------------------------------- */

struct ditem *ps_di_new(struct ps_diff *d, enum dgroup g, int64_t pid, int sec);
struct ditem *ps_di_sys(struct ps_diff *d, const char *file, enum dftype t);
void ps_di_int(struct ditem *it, const char *name, int64_t v);
void ps_di_str(struct ditem *it, const char *name, const char *s, size_t n);
void ps_di_cstr(struct ditem *it, const char *name, const char *s); /* NULL -> null */
void ps_di_bool(struct ditem *it, const char *name, int v);
void ps_di_null(struct ditem *it, const char *name);
const struct dval *ps_di_get(const struct ditem *it, const char *name); /* NULL if absent */
/* Register the header facts of a changed process (once per pid). */
struct dproc *ps_dp_get(struct ps_diff *d, int64_t pid);
/* Sort items into output order (group, pid, section, file, seq). */
void ps_di_sort(struct ps_diff *d);

/* ---- the engine's state ----------------------------------------------- */

/* One member content asked for, fetched in tar-offset order. */
struct dreq {
	int side; /* 0 = A, 1 = B */
	int64_t off, size;
	char hash[33];
	struct ps_buf *data; /* filled by fetch; shared by requests of one offset */
	int owner;
};

/* A changed path (a row of the files comparison), with its content slots. */
struct dpath {
	char *path;	  /* archive path */
	int64_t pid, tid; /* -1 when none */
	char *kind[2], *hash[2], *link[2], *err[2];
	int64_t off[2], size[2];
	int req[2];    /* index into reqs + 1 when content was asked for, else 0 */
	int role;      /* what the engine does with it (procs.c / sysfiles.c) */
	char *label;   /* system: display path */
	int ns_scoped; /* net/... or mountinfo compared per namespace */
};

struct dctx {
	const struct ps_diff_opts *o;
	struct ps_diff *d;
	struct ps_snap *snap[2];
	sqlite3 *db; /* in-memory; a and b attached read-only */
	struct dreq *reqs;
	size_t nreq, capreq;
	struct dpath *paths;
	size_t npaths, cappaths;
	int have_pids;			   /* the work table pids holds the --pid filter */
	struct ps_diff_classes *cls;	   /* diff/sysclass.conf */
	struct ps_buf tmpdir[2], tmpdb[2]; /* an index built for a side (open_side) */
	int built[2];
	struct procs_state *ps; /* procs.c */
	struct ps_err *err;
};

/* Content of a requested member (after fetch), or NULL. */
const struct ps_buf *ps_dx_content(const struct dctx *c, const struct dpath *p, int side);
/* Ask for the content of p's side (no-op if it is not a regular file). */
void ps_dx_want(struct dctx *c, struct dpath *p, int side);
/* Ask for content by offset; returns the request index + 1, or 0. */
int ps_dx_want_raw(struct dctx *c, int side, int64_t off, int64_t size, const char *hash);
const struct ps_buf *ps_dx_req_content(const struct dctx *c, int req);
/* Is the relative path ("meminfo", "42/maps") selected by --path? */
int ps_dx_path_ok(const struct dctx *c, const char *rel);
/* Run SQL with no result; -1 with err. */
int ps_dx_exec(struct dctx *c, const char *sql);
int ps_dx_prep(struct dctx *c, sqlite3_stmt **st, const char *sql);
/* Copy a text column (NULL stays NULL). */
char *ps_dx_col_dup(sqlite3_stmt *q, int col);
/* An integer column; -1 for NULL. */
int64_t ps_dx_col_i64(sqlite3_stmt *q, int col);

/* paths.c: the paths whose kind, XXH3, link target or errno differ (system
 * files, net/ and mountinfo per namespace, the members of matched processes
 * that procs_relevant keeps) into c->paths, sorted by path.  0 or -1. */
int ps_dx_changed_paths(struct dctx *c);
struct dpath *ps_dx_path_new(struct dctx *c);
void ps_dx_path_free(struct dpath *p);

/* procs.c: per-process sections */
/* Can a change of this member (path relative to proc/<pid>/) show in a
 * section?  The others (schedstat, task/N/..., smaps...) are never read. */
int ps_dx_procs_relevant(const char *rel);
void ps_dx_procs_classify(struct dctx *c, struct dpath *p);
/* After classification, before the fetch: ask for what the started, exited
 * and changed processes' headers need. */
int ps_dx_procs_want(struct dctx *c);
int ps_dx_procs_report(struct dctx *c);
void ps_dx_procs_free(struct dctx *c);

/* procs.c: the item of a changed process (registers its header) */
struct ditem *ps_dx_pitem(struct dctx *c, int64_t pid, int sec);

/* pages.c: page-level changes of pid from its two pagemap.sections members
 * (items of S_PAGES; a note if one is malformed).  0 or -1 (sqlite). */
int ps_dx_pages_report(struct dctx *c, int64_t pid, const struct ps_buf *a, const struct ps_buf *b);

/* classes.c: does a drop rule apply to rel?  Copy in to out without the
 * lines drop rules leave out; returns how many were left out. */
int ps_dx_has_drops(const struct ps_diff_classes *c, const char *rel);
size_t ps_dx_drop_lines(const struct ps_diff_classes *c, const char *rel, const struct ps_buf *in,
			struct ps_buf *out);

/* sysfiles.c: system files */
void ps_dx_sys_classify(struct dctx *c, struct dpath *p);
int ps_dx_sys_report(struct dctx *c);

/* textdiff.c: unified diff of a and b (lines), context lines; appends the
 * hunks ("@@ -l,n +l,n @@" and " ", "-", "+" lines) to out.  Returns the
 * number of changed lines (0: equal). */
size_t ps_textdiff(const char *a, size_t alen, const char *b, size_t blen, int context,
		   struct ps_buf *out);

/* cmdline bytes -> argv joined by single spaces, blanks trimmed at both
 * ends (as the processes table's cmdline column); appended to out. */
void ps_dx_argv_text(struct ps_buf *out, const char *s, size_t n);

#endif
