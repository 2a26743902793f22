/*
 * diff.h - keyed, field-by-field semantic diff of two snapshots (DESIGN 6).
 *
 * A and B are archives or indexes (store.h ps_snap_open).  Processes are
 * matched by (boot_id, pid, starttime): a reused pid is one exit and one
 * start, snapshots of different boots have no process in common.  For each
 * matched process the diff reports changed identity fields, fds opened /
 * closed / retargeted, mappings added / removed / re-protected / resized,
 * per-mapping page-count deltas (when the index has them), threads started
 * and exited, environment and limit changes, counters (only when asked) and
 * memory growth above PS_DIFF_MEM_* (always).  System files are compared as
 * key/value files (numeric deltas), tables keyed by their natural key, or
 * unified text diffs.
 *
 * Quiet by default: counter system files, process counters and small page
 * ranges need --counters; volatile system files, socket connections and
 * kernel worker threads need --all (diff/sysclass.conf classes the system
 * files).  procsnap's own capture processes are set apart, not listed as
 * started or exited.
 *
 * Speed: members whose XXH3 is equal in A and B are never read; the content
 * of the others is fetched in tar-offset order, so each zstd frame of each
 * archive is decompressed at most once (store.h ps_fetch).
 *
 * Use: ps_diff_compute() does all the reading and can fail; the writers only
 * format the result (text for people, JSON per schema/diff.schema.json).
 */
#ifndef PS_DIFF_H
#define PS_DIFF_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common.h"

/* An rss or vsize change is always reported (even without --counters) when
 * it is larger than both PS_DIFF_MEM_RATIO of the old value and
 * PS_DIFF_MEM_BYTES. */
#define PS_DIFF_MEM_RATIO 0.10
#define PS_DIFF_MEM_BYTES ((uint64_t)16 << 20)

/* A range of pages whose residency changed is shown without --counters when
 * it holds at least this many bytes of changed pages (page-level deltas of
 * pagemap.sections, diff/pages.c).  Changed pages less than PS_DIFF_PAGE_GAP
 * pages apart belong to one range. */
#define PS_DIFF_PAGES_MIN_BYTES ((uint64_t)1 << 20)
#define PS_DIFF_PAGE_GAP	16

/* Version of the JSON document (schema/diff.schema.json, "procsnap_diff"). */
#define PS_DIFF_JSON_VERSION 2

enum ps_diff_scope {
	PS_DIFF_ALL = 0,       /* processes and system files */
	PS_DIFF_PROCESSES = 1, /* --processes-only */
	PS_DIFF_SYSTEM = 2,    /* --system-only */
};

/* Options; every pointer is borrowed for the duration of ps_diff_compute. */
struct ps_diff_opts {
	const int64_t *pids; /* --pid: report only these processes (npids 0: all) */
	size_t npids;
	const char *const *globs; /* --path: fnmatch(3) patterns (flags 0, so '*' also
				     matches '/') on paths relative to the proc root:
				     "meminfo", "sys/kernel/...", "42/maps", "42/fd/N";
				     a leading "/proc/" or "proc/" is ignored */
	size_t nglobs;
	enum ps_diff_scope scope;
	int counters;	    /* --counters: also counters (process counter deltas, counter
			       files, page ranges below PS_DIFF_PAGES_MIN_BYTES) */
	int all;	    /* --all: everything (implies counters): volatile files, the
			       connections in socket tables, kernel worker threads and
			       their workqueue suffixes, lines a drop rule leaves out */
	int context;	    /* --context: lines of context in text diffs (default 3) */
	const char *tmpdir; /* where a missing index is built (a private mkdtemp
			       directory, removed before return); NULL: "/tmp" */
};

struct ps_diff;

/*
 * ps_diff_compute - compare snapshot a_path (old) with b_path (new).
 * An archive without an index beside it is indexed into a temporary
 * directory under opts->tmpdir first (removed before return).
 * On success *dp is the result (free with ps_diff_free) and 0 is returned;
 * -1 with a one-line err on trouble: an input that does not open, an index
 * of another schema version, an archive that is truncated, corrupt or does
 * not match its index, a member whose content does not match its XXH3.
 */
int ps_diff_compute(const char *a_path, const char *b_path, const struct ps_diff_opts *opts,
		    struct ps_diff **dp, struct ps_err *err);

/* Number of differences found (0: the snapshots are the same under opts). */
size_t ps_diff_count(const struct ps_diff *d);

/*
 * Write the result.  Text: grouped for people (processes started and exited,
 * then each changed process, then system files); color adds ANSI colours
 * (the caller decides: only on a terminal).  JSON: one document, see
 * schema/diff.schema.json.  Return 0, or -1 if out reported a write error.
 */
int ps_diff_write_text(const struct ps_diff *d, FILE *out, int color);
int ps_diff_write_json(const struct ps_diff *d, FILE *out);

/* Work done, for -v: members fetched and zstd frames decompressed per side. */
struct ps_diff_stats {
	uint64_t changed_paths; /* paths whose hash, kind, target or errno differ */
	uint64_t fetched[2];	/* members read from A, B */
	uint64_t frames[2];	/* zstd frames decompressed in A, B */
};
void ps_diff_get_stats(const struct ps_diff *d, struct ps_diff_stats *st);

void ps_diff_free(struct ps_diff *d); /* NULL ok */

/* ---- classes of system files (diff/sysclass.conf) --------------------------- */

enum ps_diff_class {
	PS_DIFF_CLASS_UNKNOWN = -1, /* no line matches: compared as state */
	PS_DIFF_STATE = 0,	    /* shown by default */
	PS_DIFF_COUNTERS = 1,	    /* shown with --counters or --all */
	PS_DIFF_VOLATILE = 2,	    /* shown with --all */
};
struct ps_diff_classes;

/*
 * ps_diff_classes_open - parse a classification (the format of
 * diff/sysclass.conf); text NULL: the one built into procsnap.  0, or -1
 * with err naming the bad line.
 */
int ps_diff_classes_open(const char *text, size_t len, struct ps_diff_classes **cp,
			 struct ps_err *err);
/* The class of a path relative to the proc root ("meminfo", "sys/fs/file-nr",
 * "net/tcp", "mountinfo"): the first class line whose glob matches. */
enum ps_diff_class ps_diff_class_of(const struct ps_diff_classes *c, const char *rel);
const char *ps_diff_class_name(enum ps_diff_class c);  /* "state", ..., "unknown" */
void ps_diff_classes_close(struct ps_diff_classes *c); /* NULL ok */

#endif
