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

/* Version of the JSON document (schema/diff.schema.json, "procsnap_diff"). */
#define PS_DIFF_JSON_VERSION 1

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
	int counters; /* --counters: show counter deltas of matched processes */
	int context;  /* --context: lines of context in text diffs (default 3) */
};

struct ps_diff;

/*
 * ps_diff_compute - compare snapshot a_path (old) with b_path (new).
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
	int used_tables;	/* bit per section served by the parsed index tables */
};
void ps_diff_get_stats(const struct ps_diff *d, struct ps_diff_stats *st);

void ps_diff_free(struct ps_diff *d); /* NULL ok */

#endif
