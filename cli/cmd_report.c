/*
 * cmd_report.c - `procsnap report [-o FILE.html] SNAP [SNAP2]`: one
 * self-contained HTML file to read a snapshot in a browser, offline.
 *
 * The page is cli/report/report.html with report.css and report.js put
 * inline (embedded in the binary at build time, cmake/embed_text.cmake) and
 * the snapshot's data as one JSON document in a <script type=
 * "application/json"> block.  Nothing from a snapshot is ever written as
 * HTML: the JSON is made by common's JSON writer, then '<', '>', '&' and
 * U+2028/U+2029 are written as \uXXXX (embed_json), so no data can close
 * the block; report.js parses it with JSON.parse and builds every element
 * itself, putting data in text nodes only.  A Content-Security-Policy meta
 * tag allows no request at all and only the one inline script whose
 * SHA-256 it names.
 *
 * Size (the file stays small: <= 5 MB at 2,000 processes): the data is
 * compact JSON - tables as arrays of rows with their column names once;
 * every text column (a column whose SQL name starts with '$') as an index
 * into one table of distinct strings; the per-process tables (threads,
 * maps, fds, sockets, environment, limits, namespaces) as distinct row
 * lists shared by every process that has the same one (forked workers,
 * one environment for a whole service); the residency of each mapping as
 * page runs (schema: RES_ALPHABET below), and at most RES_CELLS cells for a
 * mapping with more runs.  Rendering is on demand: a process's details are
 * built when it is opened.
 *
 * Every query is in the block "the queries" below: the views of schema/
 * they read and the columns the page gets.  ?1 is the snapshot_id.
 */
#include "cli.h"

#include "common.h"
#include "diff.h"
#include "procfs.h"
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

extern const char ps_report_html[], ps_report_css[], ps_report_js[];
extern const size_t ps_report_html_len, ps_report_css_len, ps_report_js_len;

static const char report_help[] =
    "usage: procsnap report [-o FILE.html] [--force] [--snapshot ID] SNAP [SNAP2]\n"
    "Write one self-contained HTML file (inline CSS and JavaScript, no external\n"
    "asset, opens offline from file://) to read a snapshot: a summary (host,\n"
    "kernel, case fields, capture statistics, errors by errno, verification),\n"
    "the triage findings, the process tree (searchable), each process's identity,\n"
    "command line, environment, fds and sockets, limits, namespaces, threads and\n"
    "maps with a picture of their page residency, and the system (memory,\n"
    "listeners, modules, mounts).  With SNAP2, the page describes SNAP2 and adds\n"
    "what changed from SNAP (procsnap diff SNAP SNAP2).\n"
    "  -o, --output FILE  default: the snapshot's base name + .html in the current\n"
    "                     directory; '-' writes to stdout (not a terminal).  Mode\n"
    "                     0600 (it holds environments), an existing FILE is\n"
    "                     replaced only with --force\n"
    "      --snapshot ID  the snapshot to describe when the index holds several\n"
    "Exit 0, 2 on error.\n";

/* ---- distinct byte strings (the string table, shared row lists) ------------- */

/* Entries in order of first appearance; entry i is bytes[off[i] .. off[i+1]). */
struct dict {
	struct ps_hmap map; /* hash of the bytes -> index */
	struct ps_buf bytes;
	size_t *off;
	size_t n, cap;
};

static void dict_init(struct dict *d)
{
	memset(d, 0, sizeof(*d));
	ps_hmap_init(&d->map, 0);
	ps_buf_init(&d->bytes);
	d->off = ps_xmalloc(sizeof(*d->off));
	d->off[0] = 0;
	d->cap = 1;
}

static void dict_release(struct dict *d)
{
	ps_hmap_release(&d->map);
	ps_buf_release(&d->bytes);
	free(d->off);
}

static uint64_t hash64(const void *p, size_t n)
{
	unsigned char h[16];
	uint64_t v;
	ps_xxh3_128(p, n, h);
	memcpy(&v, h, sizeof(v));
	return v;
}

/* The index of s[0..n): an existing equal entry, else a new one. */
static size_t dict_add(struct dict *d, const char *s, size_t n)
{
	uint64_t h = hash64(s, n), v;
	size_t it = 0;
	while (ps_hmap_next(&d->map, h, &it, &v)) {
		size_t a = d->off[v], b = d->off[v + 1];
		if (b - a == n && memcmp(d->bytes.buf + a, s, n) == 0)
			return (size_t)v;
	}
	if (d->n + 2 > d->cap) {
		d->cap = d->cap * 2 + 2;
		d->off = ps_xrealloc(d->off, d->cap * sizeof(*d->off));
	}
	ps_buf_add(&d->bytes, s, n);
	d->off[d->n + 1] = d->bytes.len;
	ps_hmap_put(&d->map, h, d->n);
	return d->n++;
}

/* ---- the report being built ---------------------------------------------------- */

struct rep {
	sqlite3 *db;
	struct ps_snap *snap; /* for its archive */
	long long sid;	      /* snapshot_id described */
	struct ps_buf b;      /* the JSON document (its body) */
	struct ps_json j;
	struct dict strs; /* "S": the string table */
	struct ps_buf notes;
	int nnotes;
	/* pagemap.sections of every process (residency) */
	struct pm_member *pm;
	size_t npm;
	struct ps_fetch *fetch;
	uint64_t res_mappings, res_coarse;
};

static void note(struct rep *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(struct rep *r, const char *fmt, ...)
{
	struct ps_buf m = PS_BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	ps_buf_vaddf(&m, fmt, ap);
	va_end(ap);
	if (r->nnotes++)
		ps_buf_addc(&r->notes, ',');
	ps_buf_add_json(&r->notes, m.buf, m.len);
	ps_buf_release(&m);
}

static int sql_fail(struct rep *r, const char *what)
{
	return cli_fail("report", "%s: %s", what, sqlite3_errmsg(r->db));
}

static sqlite3_stmt *prep(struct rep *r, const char *sql)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(r->db, sql, -1, &st, NULL) != SQLITE_OK) {
		sqlite3_finalize(st);
		return NULL;
	}
	if (sqlite3_bind_parameter_count(st) >= 1)
		sqlite3_bind_int64(st, 1, r->sid);
	return st;
}

/* ---- the queries ------------------------------------------------------------- */

static const char q_snapshot[] =
    "SELECT snapshot_id, hostname, kernel_release, kernel_version, boot_id, machine_id, "
    "start_ns, end_ns, uid, cap_eff, proc_root, page_size, clock_ticks, case_id, examiner, "
    "evidence, note, tool_version, format_version, archive_name, archive_size, "
    "archive_sha256, n_files, n_links, n_dirs, n_absent, n_errors, n_processes, n_threads, "
    "raw_bytes, tar_bytes, hash_mismatches, n_damaged, options, meta_json, summary_json, "
    "(SELECT count(*) FROM frames f WHERE f.snapshot_id = s.snapshot_id) AS frames "
    "FROM snapshots s WHERE snapshot_id = ?1";
static const char q_procs[] =
    "SELECT pid, parent AS ppid, name AS \"$name\", state AS \"$state\", uid, euid, suid, gid, "
    "egid, sgid, path AS \"$exe\", cmdline AS \"$cmdline\", cwd AS \"$cwd\", root AS \"$root\", "
    "resident_size, total_size, user_time, system_time, start_time, starttime, threads, nice, "
    "tty_nr, session, pgroup, tracer_pid, seccomp, no_new_privs, cap_eff AS \"$cap_eff\", "
    "cap_prm AS \"$cap_prm\", cap_inh AS \"$cap_inh\", cap_bnd AS \"$cap_bnd\", cap_amb AS "
    "\"$cap_amb\", exe_deleted, on_disk, partial, hidden, kthread, fd_count, oom_score, "
    "oom_score_adj, cgroup_path AS \"$cgroup\", ns_pid, minflt, majflt, disk_bytes_read, "
    "disk_bytes_written, voluntary_ctxt_switches, nonvoluntary_ctxt_switches, flags, "
    "argv0_is_exe FROM processes WHERE snapshot_id = ?1 ORDER BY pid";
static const char q_threads[] =
    "SELECT pid, tid, name AS \"$name\", state AS \"$state\", user_time, system_time, "
    "starttime, processor, nice, priority, policy, tracer_pid, wchan AS \"$wchan\" "
    "FROM threads WHERE snapshot_id = ?1 ORDER BY pid, tid";
/* start as hex without 0x (addresses above 2^53 are not exact JSON numbers) */
static const char q_maps[] =
    "SELECT pid, substr(start, 3) AS start, end_addr - start_addr AS len, permissions AS "
    "\"$perms\", offset, inode, raw_path AS \"$path\", rss_kb, private_dirty_kb, swap_kb, "
    "present, swapped, file_or_shared, exclusive, soft_dirty, start_addr AS \"@start\", "
    "end_addr AS \"@end\" FROM process_memory_map WHERE snapshot_id = ?1 ORDER BY pid, "
    "start_addr";
/* A target that is just "<type>:[<inode>]" (pipe:[123], socket:[456]) is
 * not stored: syn = 1 says the page makes it from type and inode. */
#define FDS_VIEW "process_fds" /* every fd (process_open_files: paths only, as osquery) */
#define FD_SYN	 "(path IS NOT NULL AND path = type || ':[' || inode || ']')"
static const char q_fds[] =
    "SELECT pid, fd, CASE WHEN " FD_SYN " THEN NULL ELSE path END AS \"$path\", CASE WHEN " FD_SYN
    " THEN 1 END AS syn, type AS \"$type\", pos, flags, inode, deleted, protocol AS "
    "\"$protocol\" FROM " FDS_VIEW " WHERE snapshot_id = ?1 ORDER BY pid, fd";
static const char q_socks[] =
    "SELECT pid, fd, socket, family, protocol, local_address AS \"$local_address\", "
    "local_port, remote_address AS \"$remote_address\", remote_port, path AS \"$path\", "
    "state AS \"$state\", net_namespace FROM process_open_sockets WHERE snapshot_id = ?1 AND "
    "pid IS NOT NULL ORDER BY pid, fd";
static const char q_envs[] = "SELECT pid, key AS \"$key\", value AS \"$value\" FROM process_envs "
			     "WHERE snapshot_id = ?1 ORDER BY pid";
static const char q_limits[] =
    "SELECT pid, name AS \"$name\", soft_limit, hard_limit, units AS \"$units\" FROM "
    "process_limits WHERE snapshot_id = ?1 ORDER BY pid";
static const char q_ns[] =
    "SELECT pid, cgroup_namespace AS cgroup, ipc_namespace AS ipc, mnt_namespace AS mnt, "
    "net_namespace AS net, pid_namespace AS pid_ns, user_namespace AS user, uts_namespace AS "
    "uts, time_namespace AS time, pid_for_children_namespace AS pid_for_children, "
    "time_for_children_namespace AS time_for_children FROM process_namespaces WHERE "
    "snapshot_id = ?1 ORDER BY pid";
static const char q_listen[] =
    "SELECT pid, port, protocol, family, address AS \"$address\", fd, socket, path AS "
    "\"$path\", net_namespace FROM listening_ports WHERE snapshot_id = ?1 ORDER BY port, pid";
static const char q_modules[] =
    "SELECT name AS \"$name\", size, refcount, used_by AS \"$used_by\", status AS \"$status\", "
    "taint AS \"$taint\", address AS \"$address\" FROM kernel_modules WHERE snapshot_id = ?1 "
    "ORDER BY name";
static const char q_mounts[] =
    "SELECT pid, mnt_ns, device AS \"$device\", path AS \"$path\", type AS \"$type\", root AS "
    "\"$root\", options AS \"$options\", super_options AS \"$super_options\", NULL AS "
    "blocks_size, NULL AS blocks, NULL AS blocks_available FROM process_mounts WHERE "
    "snapshot_id = ?1 ORDER BY mnt_ns, mount_id";
static const char q_kv[] = "SELECT source AS \"$source\", key AS \"$key\", value, unit AS "
			   "\"$unit\" FROM system_kv WHERE snapshot_id = ?1 AND source IN "
			   "('meminfo', 'loadavg', 'uptime') ORDER BY rowid";

/* ---- rows -------------------------------------------------------------------- */

/* One value of column c: "$" columns as an index into the string table. */
static void put_value(struct rep *r, sqlite3_stmt *st, int c, int interned)
{
	int t = sqlite3_column_type(st, c);
	if (t == SQLITE_NULL) {
		ps_json_null(&r->j);
	} else if (interned) {
		const char *s = (const char *)sqlite3_column_text(st, c);
		size_t n = (size_t)sqlite3_column_bytes(st, c);
		ps_json_int(&r->j, (int64_t)dict_add(&r->strs, s ? s : "", s ? n : 0));
	} else if (t == SQLITE_INTEGER) {
		ps_json_int(&r->j, sqlite3_column_int64(st, c));
	} else if (t == SQLITE_FLOAT) {
		ps_json_double(&r->j, sqlite3_column_double(st, c));
	} else {
		const char *s = (const char *)sqlite3_column_blob(st, c);
		ps_json_str(&r->j, s ? s : "", (size_t)sqlite3_column_bytes(st, c));
	}
}

/* "c": the column names (those with '@' are left out); first: skip
 * the first column (pid, for the per-process tables). */
static void put_columns(struct rep *r, sqlite3_stmt *st, int first, const char *extra)
{
	ps_json_key(&r->j, "c");
	ps_json_arr(&r->j);
	for (int c = first; c < sqlite3_column_count(st); c++) {
		const char *nm = sqlite3_column_name(st, c);
		if (nm && nm[0] != '@')
			ps_json_strz(&r->j, nm);
	}
	if (extra)
		ps_json_strz(&r->j, extra);
	ps_json_arr_end(&r->j);
}

/* A table as {"c": [...], "r": [[...], ...]}.  0 or 2. */
static int put_table(struct rep *r, const char *key, const char *sql)
{
	sqlite3_stmt *st = prep(r, sql);
	if (!st)
		return sql_fail(r, key);
	int ncol = sqlite3_column_count(st), rc;
	ps_json_key(&r->j, key);
	ps_json_obj(&r->j);
	put_columns(r, st, 0, NULL);
	ps_json_key(&r->j, "r");
	ps_json_arr(&r->j);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		ps_json_arr(&r->j);
		for (int c = 0; c < ncol; c++) {
			const char *nm = sqlite3_column_name(st, c);
			put_value(r, st, c, nm && nm[0] == '$');
		}
		ps_json_arr_end(&r->j);
	}
	ps_json_arr_end(&r->j);
	ps_json_obj_end(&r->j);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : sql_fail(r, key);
}

/* ---- residency pictures (pagemap.sections, schema/pagemap.md) ---------------- */

/*
 * Each mapping's pages as runs "<count><class>" (count omitted when 1), the
 * class one character of RES_ALPHABET: index = present 1 | swapped 2 |
 * file page or shared anonymous 4 | exclusively mapped 8 | soft-dirty 16
 * (only when the kernel tracks it), '.' (index 0) a page that is neither
 * present nor swapped, '?' a page that was not examined (--pagemap-max, a
 * read cut short).  A mapping with more than RES_CELLS runs is drawn in
 * RES_CELLS cells instead: "~<pages per cell>:" then the cells' classes as
 * runs, a cell taking the most frequent class of its present or swapped
 * pages if it has any (so a touched page is never lost from the picture),
 * else '?' if most of it was not examined, else '.'.
 */
static const char RES_ALPHABET[] = ".ABCDEFGHIJKLMNOPQRSTUVWXYZabcde";
#define RES_UNKNOWN  '?'
#define RES_CELLS    256
#define RES_RUNS_MAX 4096 /* runs held per mapping before counting in cells */
/* Work bound per process: entries looked at (a hostile index listing
 * overlapping mappings makes the cursor rewind). */
#define RES_WORK_MAX ((uint64_t)64 << 20)

struct pm_member {
	int64_t pid;
	int kind; /* PS_M_* */
	char err[24];
	int64_t off, size;
	unsigned char xxh3[16];
	int has_hash;
};

struct run {
	int cls; /* 0..31, or -1 unknown */
	uint64_t n;
};

struct res_ctx {
	struct ps_pagemap_hdr h;
	const char *buf;
	size_t len;
	uint64_t mask; /* entry bits that make the class */
	/* cursor */
	struct ps_pagemap_hdr it;
	struct ps_pagemap_section sec;
	int have_sec, bad;
	uint64_t skip_i, last_start, work;
	/* the mapping being drawn: its runs, or (past RES_RUNS_MAX runs) page
	 * counts per class in RES_CELLS cells of `per` pages */
	struct run *runs;
	size_t nruns, cap;
	uint64_t (*cells)[33]; /* [cell][class + 1], class -1 at 0; allocated once */
	int cell_mode;
	uint64_t per, pos;
};

static int entry_class(uint64_t e, uint64_t mask)
{
	e &= mask;
	return ((e & PS_PME_PRESENT) ? 1 : 0) | ((e & PS_PME_SWAPPED) ? 2 : 0) |
	       ((e & PS_PME_FILE) ? 4 : 0) | ((e & PS_PME_EXCLUSIVE) ? 8 : 0) |
	       ((e & PS_PME_SOFT_DIRTY) ? 16 : 0);
}

/* n pages of class cls at page c->pos into the cells. */
static void cells_add(struct res_ctx *c, int cls, uint64_t n, uint64_t pos)
{
	while (n) {
		uint64_t cell = pos / c->per;
		if (cell >= RES_CELLS)
			cell = RES_CELLS - 1;
		uint64_t room = (cell + 1) * c->per - pos, take = n < room ? n : room;
		if (cell == RES_CELLS - 1)
			take = n;
		c->cells[cell][cls + 1] += take;
		pos += take;
		n -= take;
	}
}

/* The runs so far into the cells (a mapping with more runs than a picture
 * has cells, or than memory should hold). */
static void cells_from_runs(struct res_ctx *c)
{
	if (!c->cells)
		c->cells = ps_xmalloc(RES_CELLS * sizeof(*c->cells));
	memset(c->cells, 0, RES_CELLS * sizeof(*c->cells));
	uint64_t pos = 0;
	for (size_t i = 0; i < c->nruns; i++) {
		cells_add(c, c->runs[i].cls, c->runs[i].n, pos);
		pos += c->runs[i].n;
	}
	c->nruns = 0;
	c->cell_mode = 1;
}

static void run_add(struct res_ctx *c, int cls, uint64_t n)
{
	if (n == 0)
		return;
	c->pos += n;
	if (c->cell_mode) {
		cells_add(c, cls, n, c->pos - n);
		return;
	}
	if (c->nruns && c->runs[c->nruns - 1].cls == cls) {
		c->runs[c->nruns - 1].n += n;
		return;
	}
	if (c->nruns == RES_RUNS_MAX) {
		c->pos -= n;
		cells_from_runs(c);
		run_add(c, cls, n);
		return;
	}
	PS_XGROW(c->runs, c->nruns, c->cap, 64);
	c->runs[c->nruns].cls = cls;
	c->runs[c->nruns++].n = n;
}

static void res_rewind(struct res_ctx *c)
{
	ps_pagemap_open(c->buf, c->len, &c->it); /* checked by res_open */
	c->have_sec = 0;
	c->skip_i = 0;
}

/* 0, or -1 when the member is malformed. */
static int res_open(struct res_ctx *c, const char *buf, size_t len)
{
	struct run *keep = c->runs;
	uint64_t(*cells)[33] = c->cells;
	size_t cap = c->cap;
	memset(c, 0, sizeof(*c));
	c->runs = keep;
	c->cap = cap;
	c->cells = cells;
	if (ps_pagemap_check(buf, len) < 0 || ps_pagemap_open(buf, len, &c->h) < 0)
		return -1;
	c->buf = buf;
	c->len = len;
	c->mask = ~(uint64_t)0;
	if (!(c->h.flags & PS_PAGEMAP_F_SD_KNOWN) || !(c->h.flags & PS_PAGEMAP_F_SD_AVAIL))
		c->mask &= ~PS_PME_SOFT_DIRTY; /* not "clean": not tracked */
	res_rewind(c);
	return 0;
}

/* The runs of the mapping [start, end) into c->runs.  0, or -1 (the work
 * bound was reached or a section is malformed: no picture). */
static int res_runs(struct res_ctx *c, uint64_t start, uint64_t end)
{
	const uint64_t ps = c->h.page_size;
	c->nruns = 0;
	c->cell_mode = 0;
	c->pos = 0;
	if (c->bad || end <= start)
		return -1;
	start -= start % ps;
	uint64_t pages = (end - start) / ps + ((end - start) % ps != 0);
	c->per = (pages + RES_CELLS - 1) / RES_CELLS;
	if (start < c->last_start)
		res_rewind(c);
	c->last_start = start;
	uint64_t pos = start;
	while (pos < end) {
		/* the first section that ends after pos */
		while (!c->have_sec || c->sec.start + c->sec.npages * ps <= pos) {
			int r = ps_pagemap_next(&c->it, &c->sec);
			if (r < 0) {
				c->bad = 1;
				return -1;
			}
			if (r == 0) {
				c->have_sec = 0;
				break;
			}
			c->have_sec = 1;
			if (++c->work > RES_WORK_MAX) {
				c->bad = 1;
				return -1;
			}
		}
		uint64_t a, e;
		while (ps_pagemap_skip(&c->h, c->skip_i, &a, &e) == 0 && e <= pos)
			c->skip_i++;
		int in_skip = ps_pagemap_skip(&c->h, c->skip_i, &a, &e) == 0 && a <= pos;
		if (c->have_sec && c->sec.start <= pos) {
			uint64_t i = (pos - c->sec.start) / ps;
			uint64_t stop = c->sec.npages;
			if (c->sec.start + stop * ps > end)
				stop = (end - c->sec.start + ps - 1) / ps;
			if (c->work + (stop - i) > RES_WORK_MAX) {
				c->bad = 1;
				return -1;
			}
			c->work += stop - i;
			for (; i < stop; i++)
				run_add(c, entry_class(ps_pagemap_entry(&c->sec, i), c->mask), 1);
			pos = c->sec.start + stop * ps;
		} else if (in_skip) {
			uint64_t to = e < end ? e : end;
			run_add(c, -1, (to - pos + ps - 1) / ps);
			pos = to;
		} else {
			uint64_t to = end;
			if (c->have_sec && c->sec.start < to)
				to = c->sec.start;
			if (ps_pagemap_skip(&c->h, c->skip_i, &a, &e) == 0 && a > pos && a < to)
				to = a;
			run_add(c, 0, (to - pos + ps - 1) / ps);
			pos = to;
		}
	}
	return 0;
}

static void res_char(struct ps_buf *b, int cls, uint64_t n)
{
	if (n > 1)
		ps_buf_addf(b, "%" PRIu64, n);
	ps_buf_addc(b, cls < 0 ? RES_UNKNOWN : RES_ALPHABET[cls & 31]);
}

/* The picture of c->runs as text (see RES_ALPHABET). */
static void res_encode(struct rep *r, struct res_ctx *c, struct ps_buf *out)
{
	ps_buf_reset(out);
	if (!c->cell_mode && c->nruns <= RES_CELLS) {
		for (size_t i = 0; i < c->nruns; i++)
			res_char(out, c->runs[i].cls, c->runs[i].n);
		return;
	}
	if (!c->cell_mode)
		cells_from_runs(c);
	r->res_coarse++;
	ps_buf_addf(out, "~%" PRIu64 ":", c->per);
	int prev = -2;
	uint64_t prevn = 0;
	for (uint64_t cell = 0; cell < RES_CELLS && cell * c->per < c->pos; cell++) {
		const uint64_t *cnt = c->cells[cell]; /* [class + 1] */
		int best = -1;
		for (int k = 1; k < 32; k++)
			if (cnt[k + 1] && (best < 0 || cnt[k + 1] > cnt[best + 1]))
				best = k;
		if (best < 0)
			best = cnt[0] > cnt[1] ? -1 : 0;
		if (best == prev) {
			prevn++;
		} else {
			if (prevn)
				res_char(out, prev, prevn);
			prev = best;
			prevn = 1;
		}
	}
	if (prevn)
		res_char(out, prev, prevn);
}

static int pm_cmp(const void *a, const void *b)
{
	const struct pm_member *x = a, *y = b;
	return (x->pid > y->pid) - (x->pid < y->pid);
}

/* Where each process's pagemap.sections is (its row of files, found by
 * name: the view would build every path to compare it).  0 or 2. */
static int pm_load(struct rep *r)
{
	char *q = ps_files_each_pid_sql("main", "pid, kind, errno, data_off, size, xxh3",
					"pagemap.sections");
	sqlite3_stmt *st = prep(r, q);
	free(q);
	if (!st)
		return sql_fail(r, "pagemap members");
	size_t cap = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		PS_XGROW(r->pm, r->npm, cap, 256);
		struct pm_member *m = &r->pm[r->npm++];
		memset(m, 0, sizeof(*m));
		m->pid = sqlite3_column_int64(st, 0);
		const char *k = (const char *)sqlite3_column_text(st, 1);
		m->kind = k ? ps_member_kind_parse(k, strlen(k)) : -1;
		const char *e = (const char *)sqlite3_column_text(st, 2);
		snprintf(m->err, sizeof(m->err), "%s", e ? e : "");
		m->off =
		    sqlite3_column_type(st, 3) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 3);
		m->size = sqlite3_column_int64(st, 4);
		const char *hx = (const char *)sqlite3_column_text(st, 5);
		m->has_hash = hx && strlen(hx) == 32 && ps_unhex(m->xxh3, hx, 16) == 0;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return sql_fail(r, "pagemap members");
	qsort(r->pm, r->npm, sizeof(*r->pm), pm_cmp);
	return 0;
}

/* Read pid's member into buf and open it in c: 1 ready, 0 no picture
 * (*why says why, for the page). */
static int pm_read(struct rep *r, int64_t pid, struct ps_buf *buf, struct res_ctx *c,
		   const char **why)
{
	struct pm_member key, *m;
	memset(&key, 0, sizeof(key));
	key.pid = pid;
	m = bsearch(&key, r->pm, r->npm, sizeof(*r->pm), pm_cmp);
	if (!m) {
		*why = "not captured";
		return 0;
	}
	if (m->kind != PS_M_FILE) {
		*why = m->err[0] ? m->err : "not captured";
		return 0;
	}
	if (!r->fetch) {
		*why = "archive not available";
		return 0;
	}
	struct ps_err err = {0, ""};
	if (m->off < 0 || m->size <= 0 ||
	    ps_fetch_read(r->fetch, (uint64_t)m->off, (uint64_t)m->size, buf, &err) < 0) {
		*why = "unreadable";
		return 0;
	}
	unsigned char h[16];
	ps_xxh3_128(buf->buf, buf->len, h);
	if (!m->has_hash || memcmp(h, m->xxh3, 16) != 0) {
		*why = "content does not match its XXH3";
		return 0;
	}
	if (res_open(c, buf->buf, buf->len) < 0) {
		*why = "malformed member";
		return 0;
	}
	return 1;
}

/* Append a JSON array of the entries of d (raw JSON texts) as key. */
static void put_dict_raw(struct rep *r, const char *key, const struct dict *d)
{
	ps_json_key(&r->j, key);
	ps_json_arr(&r->j);
	for (size_t i = 0; i < d->n; i++) {
		ps_json_raw(&r->j, ""); /* the comma before it */
		ps_buf_add(r->j.b, d->bytes.buf + d->off[i], d->off[i + 1] - d->off[i]);
	}
	ps_json_arr_end(&r->j);
}

/*
 * A per-process table: {"c": [...], "rows": [[...], ...], "sets": [[row,
 * ...], ...], "by": [pid, set, pid, set, ...]}.  Each distinct row is stored
 * once (a forked worker's maps differ from its siblings' by a row or two),
 * each process's list of rows is a set, stored once for every process with
 * the same list.  maps: a residency column "$res" is added (a string index,
 * or null), and "pm" gives, per process, [pid, flags, page_size] of its
 * pagemap.sections, or [pid, null, why there is no picture].
 */
static int put_by_pid(struct rep *r, const char *key, const char *sql, int maps)
{
	sqlite3_stmt *st = prep(r, sql);
	if (!st)
		return sql_fail(r, key);
	int ncol = sqlite3_column_count(st), rc, c_start = -1, c_end = -1;
	for (int c = 0; c < ncol; c++) {
		const char *nm = sqlite3_column_name(st, c);
		if (nm && strcmp(nm, "@start") == 0)
			c_start = c;
		else if (nm && strcmp(nm, "@end") == 0)
			c_end = c;
	}
	struct dict rows, sets;
	dict_init(&rows);
	dict_init(&sets);
	struct ps_buf by = PS_BUF_INIT, pmb = PS_BUF_INIT, setb = PS_BUF_INIT, rowb = PS_BUF_INIT,
		      mem = PS_BUF_INIT, res = PS_BUF_INIT;
	struct res_ctx rx;
	memset(&rx, 0, sizeof(rx));
	int have_pm = 0, started = 0;
	int64_t cur = 0;
	/* a row is written by the report's writer into rowb, then interned */
	struct ps_json saved = r->j;
	for (;;) {
		rc = sqlite3_step(st);
		int64_t pid = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
		if (started && (rc != SQLITE_ROW || pid != cur)) {
			ps_buf_addc(&setb, ']');
			size_t idx = dict_add(&sets, setb.buf, setb.len);
			ps_buf_addf(&by, "%s%" PRId64 ",%zu", by.len ? "," : "", cur, idx);
			started = 0;
		}
		if (rc != SQLITE_ROW)
			break;
		if (!started) {
			cur = pid;
			started = 1;
			ps_buf_reset(&setb);
			ps_buf_addc(&setb, '[');
			if (maps) {
				const char *why = NULL;
				have_pm = pm_read(r, pid, &mem, &rx, &why);
				ps_buf_addf(&pmb, "%s[%" PRId64 ",", pmb.len ? "," : "", pid);
				if (have_pm) {
					ps_buf_addf(&pmb, "%u,%u]", (unsigned)rx.h.flags,
						    (unsigned)rx.h.page_size);
				} else {
					ps_buf_adds(&pmb, "null,");
					ps_buf_add_json(&pmb, why, strlen(why));
					ps_buf_addc(&pmb, ']');
				}
			}
		}
		ps_buf_reset(&rowb);
		ps_json_init(&r->j, &rowb);
		ps_json_arr(&r->j);
		for (int c = 1; c < ncol; c++) {
			const char *nm = sqlite3_column_name(st, c);
			if (nm && nm[0] == '@')
				continue;
			put_value(r, st, c, nm && nm[0] == '$');
		}
		if (maps) {
			uint64_t a = (uint64_t)sqlite3_column_int64(st, c_start);
			uint64_t e = (uint64_t)sqlite3_column_int64(st, c_end);
			if (have_pm && c_start >= 0 && c_end >= 0 && res_runs(&rx, a, e) == 0) {
				res_encode(r, &rx, &res);
				ps_json_int(&r->j, (int64_t)dict_add(&r->strs, res.buf, res.len));
				r->res_mappings++;
			} else {
				ps_json_null(&r->j);
			}
		}
		ps_json_arr_end(&r->j);
		ps_buf_addf(&setb, "%s%zu", setb.len > 1 ? "," : "",
			    dict_add(&rows, rowb.buf, rowb.len));
	}
	r->j = saved;
	if (rc == SQLITE_DONE) {
		sqlite3_reset(st);
		ps_json_key(&r->j, key);
		ps_json_obj(&r->j);
		put_columns(r, st, 1, maps ? "$res" : NULL);
		put_dict_raw(r, "rows", &rows);
		put_dict_raw(r, "sets", &sets);
		ps_json_key(&r->j, "by");
		ps_json_raw(&r->j, "[");
		ps_buf_add(r->j.b, by.buf, by.len);
		ps_buf_addc(r->j.b, ']');
		if (maps) {
			ps_json_key(&r->j, "pm");
			ps_json_raw(&r->j, "[");
			ps_buf_add(r->j.b, pmb.buf, pmb.len);
			ps_buf_addc(r->j.b, ']');
		}
		ps_json_obj_end(&r->j);
	}
	sqlite3_finalize(st);
	dict_release(&rows);
	dict_release(&sets);
	ps_buf_release(&by);
	ps_buf_release(&pmb);
	ps_buf_release(&setb);
	ps_buf_release(&rowb);
	ps_buf_release(&mem);
	ps_buf_release(&res);
	free(rx.runs);
	free(rx.cells);
	return rc == SQLITE_DONE ? 0 : sql_fail(r, key);
}

/* ---- summary and verification -------------------------------------------------- */

/* SHA-256 of a file; 0, or an errno. */
static int sha256_file(const char *path, unsigned char out[32], uint64_t *size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char *buf = ps_xmalloc(1 << 20);
	int rc = 0;
	*size = 0;
	if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) {
		rc = ENOMEM;
		goto out;
	}
	for (;;) {
		ssize_t n = read(fd, buf, 1 << 20);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = errno;
			goto out;
		}
		if (n == 0)
			break;
		EVP_DigestUpdate(ctx, buf, (size_t)n);
		*size += (uint64_t)n;
	}
	unsigned int len = 32;
	if (!EVP_DigestFinal_ex(ctx, out, &len))
		rc = EIO;
out:
	EVP_MD_CTX_free(ctx);
	free(buf);
	close(fd);
	return rc;
}

/* What can be verified without re-reading every member: the SHA-256 of the
 * archive beside the index against the one recorded at capture, and what
 * the index recorded of damage (hash mismatches, damaged paths). */
static int put_verify(struct rep *r, const char *recorded, int64_t mismatches, int64_t damaged)
{
	const char *archive = ps_snap_archive(r->snap);
	ps_json_key(&r->j, "verify");
	ps_json_obj(&r->j);
	ps_json_key(&r->j, "archive");
	ps_json_strz(&r->j, archive);
	ps_json_key(&r->j, "recorded");
	ps_json_strz(&r->j, recorded);
	const char *state;
	if (!archive) {
		state = "no-archive";
	} else {
		unsigned char h[32];
		char hex[65];
		uint64_t size = 0;
		int e = sha256_file(archive, h, &size);
		if (e) {
			state = "unreadable";
			ps_json_key(&r->j, "error");
			ps_json_strz(&r->j, ps_errno_name(e));
		} else {
			ps_hex(hex, h, 32);
			ps_json_key(&r->j, "computed");
			ps_json_strz(&r->j, hex);
			ps_json_key(&r->j, "size");
			ps_json_int(&r->j, (int64_t)size);
			state = !recorded		     ? "not-recorded"
				: strcmp(hex, recorded) == 0 ? "match"
							     : "mismatch";
		}
	}
	ps_json_key(&r->j, "state");
	ps_json_strz(&r->j, state);
	ps_json_key(&r->j, "hash_mismatches");
	ps_json_int(&r->j, mismatches);
	ps_json_key(&r->j, "damaged");
	ps_json_int(&r->j, damaged);
	int rc = 0;
	if (damaged > 0 || mismatches > 0) {
		char *q = ps_files_damaged_sql("main", "path, damage", 100);
		rc = put_table(r, "damaged_paths", q);
		free(q);
	}
	ps_json_obj_end(&r->j);
	return rc;
}

/* "snap": the snapshots row as an object (meta_json, summary_json and
 * options stay JSON text: the page parses them), then "verify". */
static int put_snapshot(struct rep *r)
{
	sqlite3_stmt *st = prep(r, q_snapshot);
	if (!st)
		return sql_fail(r, "snapshots");
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		return cli_fail("report", "snapshot %lld: no row in snapshots", r->sid);
	}
	char *recorded = NULL;
	int64_t mismatches = 0, damaged = 0;
	ps_json_key(&r->j, "snap");
	ps_json_obj(&r->j);
	for (int c = 0; c < sqlite3_column_count(st); c++) {
		const char *nm = sqlite3_column_name(st, c);
		ps_json_key(&r->j, nm ? nm : "?");
		put_value(r, st, c, 0);
		if (!nm)
			continue;
		if (strcmp(nm, "archive_sha256") == 0 && sqlite3_column_text(st, c))
			recorded = ps_xstrdup((const char *)sqlite3_column_text(st, c));
		else if (strcmp(nm, "hash_mismatches") == 0)
			mismatches = sqlite3_column_int64(st, c);
		else if (strcmp(nm, "n_damaged") == 0)
			damaged = sqlite3_column_int64(st, c);
	}
	ps_json_obj_end(&r->j);
	sqlite3_finalize(st);
	int rc = put_verify(r, recorded, mismatches, damaged);
	free(recorded);
	return rc;
}

/* "errors": [[errno, paths], ...]. */
static int put_errors(struct rep *r)
{
	sqlite3_stmt *st = prep(r, ps_files_errno_counts_sql());
	if (!st)
		return sql_fail(r, "errors");
	int rc;
	ps_json_key(&r->j, "errors");
	ps_json_arr(&r->j);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		ps_json_arr(&r->j);
		put_value(r, st, 0, 0);
		put_value(r, st, 1, 0);
		ps_json_arr_end(&r->j);
	}
	ps_json_arr_end(&r->j);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : sql_fail(r, "errors");
}

/* ---- triage and diff --------------------------------------------------------- */

static void put_triage(struct rep *r)
{
	struct ps_buf t = PS_BUF_INIT;
	int rc = cli_triage_json(r->db, &t);
	ps_json_key(&r->j, "triage");
	if (t.len && rc != 2)
		ps_json_raw(&r->j, t.buf);
	else
		ps_json_null(&r->j);
	if (rc == 2)
		note(r, "triage failed (see procsnap triage): no findings shown");
	ps_buf_release(&t);
}

/* "diff": procsnap diff A B's JSON document (schema/diff.schema.json). */
static int put_diff(struct rep *r, const char *a, const char *b)
{
	struct ps_diff_opts o;
	memset(&o, 0, sizeof(o));
	o.context = 3;
	/* a temporary index, if any, below a directory a signal removes */
	struct ps_buf tmp = PS_BUF_INIT;
	o.tmpdir = cli_tmp_dir("report", &tmp);
	struct ps_diff *d = NULL;
	struct ps_err err = {0, ""};
	int dr = ps_diff_compute(a, b, &o, &d, &err);
	if (tmp.len)
		cli_tmp_remove(tmp.buf);
	ps_buf_release(&tmp);
	if (dr < 0)
		return cli_fail("report", "diff: %s", err.msg);
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int rc = 0;
	if (!f) {
		rc = cli_fail("report", "diff: %s", strerror(errno));
	} else {
		int w = ps_diff_write_json(d, f);
		if (fclose(f) != 0 || w < 0 || !text)
			rc = cli_fail("report", "diff: cannot write its JSON");
	}
	if (rc == 0) {
		ps_json_key(&r->j, "diff");
		ps_json_raw(&r->j, text);
	}
	free(text);
	ps_diff_free(d);
	return rc;
}

/* ---- the page ------------------------------------------------------------------ */

/* JSON text made safe inside <script type="application/json">: '<', '>',
 * '&' and U+2028/U+2029 as \u escapes.  They can only occur inside JSON
 * strings, where the escape means the same character. */
static void embed_json(struct ps_buf *out, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '<' || c == '>' || c == '&') {
			ps_buf_addf(out, "\\u%04x", c);
		} else if (c == 0xe2 && i + 2 < n && (unsigned char)s[i + 1] == 0x80 &&
			   ((unsigned char)s[i + 2] == 0xa8 || (unsigned char)s[i + 2] == 0xa9)) {
			ps_buf_addf(out, "\\u%04x",
				    (unsigned char)s[i + 2] == 0xa8 ? 0x2028 : 0x2029);
			i += 2;
		} else {
			ps_buf_addc(out, (char)c);
		}
	}
}

/* 'sha256-<base64>' of the script, for the Content-Security-Policy. */
static void csp_hash(struct ps_buf *out, const char *s, size_t n)
{
	unsigned char h[32];
	unsigned char b64[48];
	unsigned int len = 32;
	EVP_Digest(s, n, h, &len, EVP_sha256(), NULL);
	int bl = EVP_EncodeBlock(b64, h, 32);
	ps_buf_adds(out, "'sha256-");
	ps_buf_add(out, b64, bl > 0 ? (size_t)bl : 0);
	ps_buf_addc(out, '\'');
}

/* The page goes out in pieces of about 64 KiB: the data is never copied
 * whole (at N=10,000 it is tens of MB). */
struct pout {
	int fd, err;
	struct ps_buf b;
};

static void pout_flush(struct pout *o, size_t at)
{
	if (o->b.len < at)
		return;
	if (!o->err)
		o->err = ps_write_all(o->fd, o->b.buf, o->b.len);
	ps_buf_reset(&o->b);
}

static void pout_embed(struct pout *o, const char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		size_t k = n - i < 16384 ? n - i : 16384;
		/* never cut a UTF-8 sequence (U+2028/2029 are matched whole) */
		while (i + k < n && ((unsigned char)s[i + k] & 0xc0) == 0x80)
			k++;
		embed_json(&o->b, s + i, k);
		i += k;
		pout_flush(o, 65536);
	}
}

/* The template with its four markers replaced, written to fd: the data is
 * {"S": [the strings], then the body r->b without its '{'.  0, 2 if the
 * template is not as this code expects (a build error, reported as such),
 * or an errno (> 2) of the write. */
static int page_write(int fd, const struct rep *r)
{
	static const char *const marks[] = {"@CSP_SCRIPT@", "@STYLE@", "@DATA@", "@SCRIPT@"};
	const char *t = ps_report_html;
	for (size_t k = 0; k < 4; k++) {
		const char *m = strstr(t, marks[k]);
		if (!m || strstr(m + 1, marks[k]))
			return cli_fail(
			    "report", "built-in template: marker %s missing or repeated", marks[k]);
	}
	struct pout o = {fd, 0, PS_BUF_INIT};
	struct ps_buf js = PS_BUF_INIT;
	for (size_t k = 0; k < 4; k++) {
		const char *m = strstr(t, marks[k]);
		ps_buf_add(&o.b, t, (size_t)(m - t));
		if (k == 0) {
			csp_hash(&o.b, ps_report_js, ps_report_js_len);
		} else if (k == 1) {
			ps_buf_add(&o.b, ps_report_css, ps_report_css_len);
		} else if (k == 2) {
			embed_json(&o.b, "{\"S\":[", 6);
			for (size_t i = 0; i < r->strs.n; i++) {
				ps_buf_reset(&js);
				if (i)
					ps_buf_addc(&js, ',');
				ps_buf_add_json(&js, r->strs.bytes.buf + r->strs.off[i],
						r->strs.off[i + 1] - r->strs.off[i]);
				pout_embed(&o, js.buf, js.len);
			}
			embed_json(&o.b, "],", 2);
			pout_embed(&o, r->b.buf + 1, r->b.len - 1);
		} else {
			ps_buf_add(&o.b, ps_report_js, ps_report_js_len);
		}
		pout_flush(&o, 65536);
		t = m + strlen(marks[k]);
	}
	ps_buf_adds(&o.b, t);
	pout_flush(&o, 0);
	ps_buf_release(&o.b);
	ps_buf_release(&js);
	return o.err;
}

/* Default output: the snapshot's base name without .db / .tar.zst, + .html. */
static char *default_output(const char *snap)
{
	const char *base = strrchr(snap, '/');
	base = base ? base + 1 : snap;
	size_t n = strlen(base);
	static const char *const sfx[] = {".db", ".tar.zst", ".tzst", ".tar"};
	for (size_t i = 0; i < 4; i++) {
		size_t l = strlen(sfx[i]);
		if (n > l && strcmp(base + n - l, sfx[i]) == 0)
			n -= l;
	}
	struct ps_buf b = PS_BUF_INIT;
	ps_buf_add(&b, base, n);
	ps_buf_adds(&b, ".html");
	return ps_buf_detach(&b, NULL);
}

static int write_out(const char *path, int force, const struct rep *r)
{
	if (strcmp(path, "-") == 0) {
		if (isatty(STDOUT_FILENO))
			return cli_fail("report",
					"will not write HTML to a terminal (use -o FILE)");
		fflush(stdout);
		int e = page_write(STDOUT_FILENO, r);
		return e == 2 ? 2 : e ? cli_fail("report", "standard output: %s", strerror(e)) : 0;
	}
	struct ps_outfile o;
	struct ps_err err = {0, ""};
	/* PATH.tmp.PID, as the index's: registered before it exists, so that a
	 * signal removes it (supervise.c) */
	struct ps_buf tmp = PS_BUF_INIT;
	ps_buf_addf(&tmp, "%s.tmp.%d", path, (int)getpid());
	cli_tmp_add(tmp.buf);
	int rc = 0;
	if (ps_out_create_as(&o, path, tmp.buf, force, &err) < 0) {
		rc = cli_fail("report", "%s", err.msg);
		goto out;
	}
	int fd = open(o.tmp, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOFOLLOW);
	int e = fd < 0 ? errno : page_write(fd, r);
	if (fd >= 0 && close(fd) < 0 && !e)
		e = errno;
	if (e) {
		ps_out_abort(&o);
		rc = e == 2 ? 2 : cli_fail("report", "%s: %s", path, strerror(e));
	} else if (ps_out_commit(&o, &err) < 0) {
		rc = cli_fail("report", "%s", err.msg);
	}
out:
	cli_tmp_del(tmp.buf);
	ps_buf_release(&tmp);
	return rc;
}

int cmd_report(const struct ps_cli *cli, int argc, char **argv)
{
	enum { OPT_SNAPSHOT = 256, OPT_FORCE };
	static const struct option longopts[] = {
	    {"output", required_argument, NULL, 'o'},
	    {"force", no_argument, NULL, OPT_FORCE},
	    {"snapshot", required_argument, NULL, OPT_SNAPSHOT},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0}};
	const char *out = NULL;
	int force = 0, c;
	long long want = -1;
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
		if (c == 'o') {
			out = optarg;
		} else if (c == OPT_FORCE) {
			force = 1;
		} else if (c == OPT_SNAPSHOT) {
			if (cli_snapshot_arg("report", optarg, &want))
				return 2;
		} else if (c == 'h') {
			fputs(report_help, stdout);
			return 0;
		} else {
			return cli_bad_option("report", "o:h", longopts, argv);
		}
	}
	int nsnap = argc - optind;
	if (nsnap < 1 || nsnap > 2)
		return cli_usage("report", "expects SNAP [SNAP2]");
	char *desc = argv[argc - 1];
	if (cli_refuse_input("report", out, argv + optind, nsnap))
		return 2;
	/* The work runs in a child; a signal removes the page's temporary file
	 * and a temporary index of the diff (supervise.c). */
	int src = cli_supervise("report");
	if (src >= 0)
		return src;
	char *defout = out ? NULL : default_output(desc);

	struct rep r;
	memset(&r, 0, sizeof(r));
	dict_init(&r.strs);
	ps_json_init(&r.j, &r.b);
	struct cli_snaps ss;
	/* Any archive beside it: the page's Verification compares its SHA-256
	 * with the recorded one and says "mismatch" (not a refusal). */
	int rc = cli_snaps_open_with("report", PS_SNAP_ANY_ARCHIVE, 1, &desc, &ss);
	if (rc) {
		ss.db = NULL;
		goto out;
	}
	r.db = ss.db;
	r.snap = ss.snaps[0];
	rc = cli_snapshot_pick("report", r.db, want, &r.sid);
	if (rc)
		goto out;
	const char *archive = ps_snap_archive(r.snap);
	struct ps_err err = {0, ""};
	if (!archive)
		note(&r, "the archive is not beside the index: no residency pictures, no "
			 "SHA-256 check");
	else if (ps_fetch_open(archive, &r.fetch, &err) < 0)
		note(&r, "archive: %s: no residency pictures", err.msg);

	ps_json_obj(&r.j);
	ps_json_key(&r.j, "v");
	ps_json_int(&r.j, 1);
	ps_json_key(&r.j, "tool");
	ps_json_strz(&r.j, "procsnap " PROCSNAP_VERSION);
	ps_json_key(&r.j, "made_ns");
	ps_json_int(&r.j, (int64_t)ps_real_ns());
	ps_json_key(&r.j, "sid");
	ps_json_int(&r.j, r.sid);
	if ((rc = put_snapshot(&r)) || (rc = put_errors(&r)) || (rc = put_table(&r, "P", q_procs)))
		goto out;
	if ((rc = pm_load(&r)) || (rc = put_by_pid(&r, "M", q_maps, 1)) ||
	    (rc = put_by_pid(&r, "T", q_threads, 0)) || (rc = put_by_pid(&r, "F", q_fds, 0)) ||
	    (rc = put_by_pid(&r, "K", q_socks, 0)) || (rc = put_by_pid(&r, "E", q_envs, 0)) ||
	    (rc = put_by_pid(&r, "L", q_limits, 0)) || (rc = put_by_pid(&r, "N", q_ns, 0)))
		goto out;
	if ((rc = put_table(&r, "LP", q_listen)) || (rc = put_table(&r, "MOD", q_modules)) ||
	    (rc = put_table(&r, "MNT", q_mounts)) || (rc = put_table(&r, "KV", q_kv)))
		goto out;
	put_triage(&r);
	if (nsnap == 2 && (rc = put_diff(&r, argv[optind], desc)))
		goto out;
	if (r.res_coarse)
		note(&r,
		     "%" PRIu64 " of %" PRIu64 " residency pictures have more than %d runs: "
		     "drawn in %d cells",
		     r.res_coarse, r.res_mappings, RES_CELLS, RES_CELLS);
	ps_json_key(&r.j, "notes");
	ps_json_raw(&r.j, "[");
	ps_buf_add(&r.b, r.notes.buf, r.notes.len);
	ps_buf_addc(&r.b, ']');
	ps_json_obj_end(&r.j);

	rc = write_out(out ? out : defout, force, &r);
	if (rc == 0 && cli->verbosity >= 2)
		fprintf(stderr, "procsnap: report: body %zu bytes, %zu strings\n", r.b.len,
			r.strs.n);
out:
	if (ss.db)
		cli_snaps_close(&ss);
	ps_fetch_close(r.fetch);
	free(r.pm);
	dict_release(&r.strs);
	ps_buf_release(&r.b);
	ps_buf_release(&r.notes);
	free(defout);
	return rc;
}
