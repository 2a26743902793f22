/*
 * snap.c - open a snapshot by either of its names (archive or index) and
 * read members through the index's offsets and the archive's seek table.
 */
#include "store.h"
#include "store_int.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct ps_snap {
	sqlite3 *db;
	char *archive;
	char *index;
};

static int ends_with(const char *s, const char *suf)
{
	size_t n = strlen(s), m = strlen(suf);
	return n >= m && strcmp(s + n - m, suf) == 0;
}

/* Is this file an SQLite database?  (16-byte magic) */
static int is_sqlite(const char *path)
{
	FILE *f = fopen(path, "rb");
	char magic[16];
	int r = 0;
	if (!f)
		return 0;
	if (fread(magic, 1, 16, f) == 16 && memcmp(magic, "SQLite format 3", 16) == 0)
		r = 1;
	fclose(f);
	return r;
}

int ps_snap_resolve(const char *path, char **index, char **archive, struct ps_err *err)
{
	struct stat st;
	*index = *archive = NULL;
	if (stat(path, &st) < 0)
		return ps_err_set(err, errno, "%s: %s", path, strerror(errno));
	/* A pipe would lose the bytes read to tell an index from an archive,
	 * and an index is a file: a snapshot is named by a file. */
	if (!S_ISREG(st.st_mode))
		return ps_err_set(err, EINVAL,
				  "%s: not a regular file (name a snapshot's file; an archive on "
				  "a pipe is read by verify - and index -o DB -)",
				  path);
	if (is_sqlite(path)) {
		*index = ps_xstrdup(path);
		if (ends_with(path, ".db"))
			*archive = ps_xstrndup(path, strlen(path) - 3);
		return 0;
	}
	if (ends_with(path, ".db"))
		return ps_err_set(err, EINVAL,
				  "%s: not an SQLite database (a damaged index? procsnap index "
				  "--force rebuilds it from its archive)",
				  path);
	struct ps_buf b = PS_BUF_INIT;
	ps_buf_addf(&b, "%s.db", path);
	if (access(b.buf, F_OK) != 0) {
		ps_buf_release(&b);
		return ps_err_set(err, ENOENT, "%s: no index beside it (run: procsnap index %s)",
				  path, path);
	}
	*index = ps_buf_detach(&b, NULL);
	*archive = ps_xstrdup(path);
	return 0;
}

/* Is the archive beside an index of one snapshot the size it records? */
static int archive_matches(struct ps_snap *s, struct ps_err *err)
{
	struct stat st;
	sqlite3_stmt *q;
	int64_t want = -1;
	int n = 0;
	if (!s->archive || stat(s->archive, &st) != 0 || !S_ISREG(st.st_mode) ||
	    sqlite3_prepare_v2(s->db, "SELECT archive_size FROM snapshots LIMIT 2", -1, &q, NULL) !=
		SQLITE_OK)
		return 0;
	while (sqlite3_step(q) == SQLITE_ROW) {
		n++;
		if (sqlite3_column_type(q, 0) == SQLITE_INTEGER)
			want = sqlite3_column_int64(q, 0);
	}
	sqlite3_finalize(q);
	if (n != 1 || want < 0 || want == (int64_t)st.st_size)
		return 0;
	return ps_err_set(err, EINVAL,
			  "%s is %lld bytes but its index %s describes %lld: truncated or "
			  "replaced, or another archive's index (procsnap verify checks it; "
			  "procsnap index --force indexes it as it is)",
			  s->archive, (long long)st.st_size, s->index, (long long)want);
}

int ps_snap_open(const char *path, struct ps_snap **sp, struct ps_err *err)
{
	return ps_snap_open_with(path, 0, sp, err);
}

int ps_snap_open_with(const char *path, unsigned flags, struct ps_snap **sp, struct ps_err *err)
{
	struct ps_snap *s = ps_xcalloc(1, sizeof(*s));
	sqlite3_stmt *q;
	if (ps_snap_resolve(path, &s->index, &s->archive, err) < 0 ||
	    ps_index_open(s->index, &s->db, err) < 0)
		goto fail;
	if (sqlite3_prepare_v2(s->db, "SELECT count(*) FROM snapshots", -1, &q, NULL) !=
		SQLITE_OK ||
	    sqlite3_step(q) != SQLITE_ROW) {
		sqlite3_finalize(q);
		ps_err_set(err, EINVAL, "%s: not a procsnap index (%s)", s->index,
			   sqlite3_errmsg(s->db));
		goto fail;
	}
	sqlite3_finalize(q);
	if (s->archive && access(s->archive, R_OK) != 0) {
		free(s->archive);
		s->archive = NULL;
	}
	if (!(flags & PS_SNAP_ANY_ARCHIVE) && archive_matches(s, err) < 0)
		goto fail;
	*sp = s;
	return 0;
fail:
	ps_snap_close(s);
	return -1;
}

struct sqlite3 *ps_snap_db(struct ps_snap *s)
{
	return s->db;
}

const char *ps_snap_archive(struct ps_snap *s)
{
	return s->archive;
}

/* The view's columns of a path below a pid directory, from p (its `paths`
 * row), N.text (its name), s, c, t (its stat, content, link target) and
 * R.base_path, R.base_us (its pid's pid_reads).  N and R: "n." and "r.", or
 * "p." where p has those columns too (one table of bound values: a join of
 * several is materialized each time). */
#define FILES_PID_COLS(N, R)                                                                       \
	"p.snapshot_id AS snapshot_id, "                                                           \
	"'proc/' || p.pid || CASE WHEN p.tid_off IS NULL THEN '' ELSE '/task/' || "                \
	"(p.pid + p.tid_off) END || CASE " N "text WHEN '' THEN '' ELSE '/' || " N "text END AS "  \
	"path, "                                                                                   \
	"CASE s.kind WHEN 0 THEN 'file' WHEN 1 THEN 'link' WHEN 2 THEN 'dir' ELSE 'absent' END "   \
	"AS kind, coalesce(c.size, 0) AS size, lower(hex(c.xxh3)) AS xxh3, t.text AS "             \
	"link_target, s.errno AS errno, p.pid AS pid, p.pid + p.tid_off AS tid, "                  \
	"CASE s.kind WHEN 0 THEN c.data_off END AS data_off, " R "base_path + p.seq AS path_id, "  \
	"s.damage AS damage, s.mode AS mode, s.uid AS uid, s.gid AS gid, s.mtime AS mtime, "       \
	"(" R "base_us + p.read_delta_8us * 8) * 1000 AS read_ns "
/* ... and the joins from p to s, c and t */
#define FILES_PID_JOINS                                                                            \
	"LEFT JOIN \"%w\".stats s ON s.snapshot_id = p.snapshot_id AND s.stat_id = p.stat_id "     \
	"LEFT JOIN \"%w\".contents c ON c.snapshot_id = p.snapshot_id AND c.content_id = "         \
	"p.content_id "                                                                            \
	"LEFT JOIN \"%w\".strings t ON t.snapshot_id = c.snapshot_id AND t.str_id = "              \
	"c.target_id "

/*
 * The view `files` over the base tables of schema, as a subquery with the
 * view's column names, each
 * arm with a WHERE of its own: a term on a computed column of the view
 * (path_id is pid_reads.base_path + seq, tid is pid + tid_off) cannot reach
 * the tables' keys, one on the base columns can.  sys_where NULL: the
 * paths below pid directories alone.
 */
static void files_base_sql(struct ps_buf *sql, const char *schema, const char *pid_where,
			   const char *sys_where)
{
	char *q = sqlite3_mprintf(
	    "(SELECT " FILES_PID_COLS("n.", "r.")
	    "FROM \"%w\".paths p JOIN \"%w\".strings n ON n.snapshot_id = p.snapshot_id AND "
	    "n.str_id = p.name_id " FILES_PID_JOINS
	    "LEFT JOIN \"%w\".pid_reads r ON r.pid = p.pid AND r.snapshot_id = p.snapshot_id "
	    "WHERE %s",
	    schema, schema, schema, schema, schema, schema, pid_where);
	ps_buf_adds(sql, q ? q : "");
	sqlite3_free(q);
	if (!sys_where) {
		ps_buf_addc(sql, ')');
		return;
	}
	q = sqlite3_mprintf(
	    /* the other paths: few, their name is the whole path */
	    " UNION ALL SELECT p.snapshot_id, n.text, "
	    "CASE s.kind WHEN 0 THEN 'file' WHEN 1 THEN 'link' WHEN 2 THEN 'dir' ELSE 'absent' "
	    "END, coalesce(c.size, 0), lower(hex(c.xxh3)), t.text, s.errno, NULL, NULL, "
	    "CASE s.kind WHEN 0 THEN c.data_off END, p.path_id, s.damage, s.mode, s.uid, s.gid, "
	    "s.mtime, p.read_us * 1000 "
	    "FROM \"%w\".sys_paths p JOIN \"%w\".strings n ON n.snapshot_id = p.snapshot_id AND "
	    "n.str_id = p.name_id "
	    "LEFT JOIN \"%w\".stats s ON s.snapshot_id = p.snapshot_id AND s.stat_id = p.stat_id "
	    "LEFT JOIN \"%w\".contents c ON c.snapshot_id = p.snapshot_id AND c.content_id = "
	    "p.content_id "
	    "LEFT JOIN \"%w\".strings t ON t.snapshot_id = c.snapshot_id AND t.str_id = "
	    "c.target_id WHERE %s)",
	    schema, schema, schema, schema, schema, sys_where);
	ps_buf_adds(sql, q ? q : "");
	sqlite3_free(q);
}

/*
 * One row of `files` by its path, found through the path's structure: the
 * text of its name in `strings` (indexed, a constant of the query) gives
 * name_id, looked for in the pid's range of `paths` (or in `sys_paths`).
 * Asking the view for `path = ?` would compute every path to compare it.
 */
char *ps_files_lookup_sql(const char *schema, int64_t sid, const char *cols)
{
	struct ps_buf sql = PS_BUF_INIT;
	/* `+`: through strings_text (the partial index of names), not a scan
	 * of the snapshot's strings by primary key, which the planner picks
	 * without it (12 ms at N=10,000, against 0.1) */
	char *name = sqlite3_mprintf("(SELECT str_id FROM \"%w\".strings WHERE text = ?3 AND "
				     "+snapshot_id = %lld AND is_name = 1)",
				     schema, (long long)sid);
	char *pw = sqlite3_mprintf("p.pid = ?1 AND p.snapshot_id = %lld AND p.tid_off IS ?2 - ?1 "
				   "AND p.name_id = %s",
				   (long long)sid, name ? name : "NULL");
	char *sw = sqlite3_mprintf("?1 IS NULL AND p.snapshot_id = %lld AND p.name_id = %s",
				   (long long)sid, name ? name : "NULL");
	ps_buf_addf(&sql, "SELECT %s FROM ", cols);
	files_base_sql(&sql, schema, pw ? pw : "0", sw ? sw : "0");
	ps_buf_adds(&sql, " LIMIT 1");
	sqlite3_free(name);
	sqlite3_free(pw);
	sqlite3_free(sw);
	return ps_buf_detach(&sql, NULL);
}

char *ps_files_key_sql(const char *schema, const char *cols, int below_pid)
{
	struct ps_buf sql = PS_BUF_INIT;
	ps_buf_addf(&sql, "SELECT %s FROM ", cols);
	if (below_pid) {
		/* the row's `paths` columns are the probe's: bound, not read
		 * again (its name and tid are the probe's too: not asked) */
		char *q = sqlite3_mprintf(
		    "(SELECT " FILES_PID_COLS("p.", "p.")
		    "FROM (SELECT ?2 AS snapshot_id, ?1 AS pid, NULL AS tid_off, NULL AS seq, "
		    "?3 AS stat_id, ?4 AS content_id, ?5 AS read_delta_8us, NULL AS text, "
		    "NULL AS base_path, ?6 AS base_us) p " FILES_PID_JOINS ")",
		    schema, schema, schema);
		ps_buf_adds(&sql, q ? q : "");
		sqlite3_free(q);
	} else {
		files_base_sql(&sql, schema, "0",
			       "?1 IS NULL AND p.snapshot_id = ?2 AND p.path_id = ?3");
	}
	return ps_buf_detach(&sql, NULL);
}

/* The longest part of a GLOB pattern with no wildcard in it. */
static void longest_literal(const char *pat, struct ps_buf *out)
{
	ps_buf_reset(out);
	const char *best = pat, *p = pat;
	size_t bestn = 0;
	while (*p) {
		const char *q = p;
		while (*q && *q != '*' && *q != '?' && *q != '[')
			q++;
		if ((size_t)(q - p) > bestn) {
			best = p;
			bestn = (size_t)(q - p);
		}
		if (!*q)
			break;
		if (*q == '[') { /* skip the class */
			q++;
			if (*q == ']')
				q++;
			while (*q && *q != ']')
				q++;
			if (*q)
				q++;
		} else {
			q++;
		}
		p = q;
	}
	ps_buf_add(out, best, bestn);
}

/* Can a literal piece of a pattern come from a file's name (or the '/'
 * before it) only?  At least 2 bytes, no digit, no "proc" or "task": what
 * precedes a name ("proc/<pid>/", ".../task/<tid>/") holds those. */
static int name_literal(const char *s)
{
	return strlen(s) >= 2 && !strpbrk(s, "0123456789") && !strstr(s, "proc") &&
	       !strstr(s, "task");
}

/* The condition on a `strings` row (its `text`) that it is a name a path
 * matching pattern can end with: through the longest literal of the
 * pattern after "proc/", when it holds no digit and no "proc"/"task" (it
 * can then only come from the name, or from the '/' before it), and when
 * the pattern ends with such a literal, only the names that end with it
 * (after a '/': what comes before a name ends with a digit and '/').  NULL
 * when the pattern allows none of it (sqlite3_free the result). */
static char *glob_name_cond(const char *pattern)
{
	if (strncmp(pattern, "proc/", 5) != 0)
		return NULL;
	struct ps_buf lit = PS_BUF_INIT;
	longest_literal(pattern + 5, &lit);
	char *cond = NULL;
	if (name_literal(lit.buf)) {
		const char *tail = pattern + strlen(pattern);
		while (tail > pattern && !strchr("*?[]", tail[-1]))
			tail--;
		char *ends =
		    name_literal(tail)
			? sqlite3_mprintf(" AND substr('/' || text, -length(%Q)) = %Q", tail, tail)
			: NULL;
		cond = sqlite3_mprintf("instr('/' || text, %Q) > 0%s", lit.buf, ends ? ends : "");
		sqlite3_free(ends);
	}
	ps_buf_release(&lit);
	return cond;
}

/*
 * The rows of files whose path matches a GLOB pattern, through the keys
 * when the pattern allows: a literal pid ("proc/42/...") reads that pid's
 * range; otherwise the names the pattern can end with (glob_name_cond, in
 * the small `strings` table) are selected before `paths` is read, as
 * integers.  Any other pattern reads everything.  The GLOB itself is
 * always checked last.
 * Parameters: ?1 the pattern.
 */
char *ps_files_glob_sql(const char *schema, const char *cols, const char *pattern)
{
	struct ps_buf sql = PS_BUF_INIT;
	const char *p = pattern;
	int64_t pid = -1;
	if (strncmp(p, "proc/", 5) == 0 && p[5] >= '1' && p[5] <= '9') {
		const char *e = p + 5;
		int64_t v = 0;
		while (*e >= '0' && *e <= '9' && v <= INT32_MAX)
			v = v * 10 + (*e++ - '0');
		if ((*e == '/' || *e == '\0') && v <= INT32_MAX)
			pid = v;
	}
	char *cond = pid >= 0 ? NULL : glob_name_cond(pattern);
	if (pid >= 0 || !cond) {
		char *q = pid >= 0
			      ? sqlite3_mprintf("SELECT %s FROM \"%w\".files WHERE pid = %lld "
						"AND path GLOB ?1",
						cols, schema, (long long)pid)
			      : sqlite3_mprintf("SELECT %s FROM \"%w\".files WHERE path GLOB ?1",
						cols, schema);
		ps_buf_adds(&sql, q ? q : "");
		sqlite3_free(q);
		return ps_buf_detach(&sql, NULL);
	}
	char *in = sqlite3_mprintf("p.name_id IN (SELECT str_id FROM \"%w\".strings WHERE "
				   "is_name = 1 AND %s)",
				   schema, cond);
	sqlite3_free(cond);
	ps_buf_addf(&sql, "SELECT %s FROM ", cols);
	files_base_sql(&sql, schema, in ? in : "0", "1");
	ps_buf_adds(&sql, " WHERE path GLOB ?1");
	sqlite3_free(in);
	return ps_buf_detach(&sql, NULL);
}

/* A path of the probe's result: its manifest line and where its text is. */
struct probe_row {
	int64_t path_id, pid, key; /* pid -1: a system path (key: path_id; else seq) */
	struct ps_glob_ids ids;	   /* pid >= 0 */
	size_t off;
};

struct probe {
	const char *pattern;
	struct ps_buf text; /* the paths kept, NUL-terminated */
	struct probe_row *v;
	size_t n, cap;
};

/* Keep the path if it matches (GLOB's own matching: sqlite3_strglob). */
static void probe_keep(struct probe *pr, int64_t path_id, int64_t pid, int64_t key,
		       const struct ps_glob_ids *ids, const char *path)
{
	if (sqlite3_strglob(pr->pattern, path) != 0)
		return;
	PS_XGROW(pr->v, pr->n, pr->cap, 1024);
	pr->v[pr->n++] = (struct probe_row){path_id, pid, key, *ids, pr->text.len};
	ps_buf_add(&pr->text, path, strlen(path) + 1);
}

/* Id i of ids from column col of q. */
static void take_id(struct ps_glob_ids *ids, int i, sqlite3_stmt *q, int col)
{
	ids->v[i] = sqlite3_column_int64(q, col);
	if (sqlite3_column_type(q, col) == SQLITE_NULL)
		ids->nulls |= 1u << i;
}

/* A row of q: its tid_off in column tcol, then stat_id, content_id and
 * read_delta_8us; its pid's base_us in column 7 of pq (the probe). */
static void probe_path(struct probe *pr, struct ps_buf *b, int64_t pid, sqlite3_stmt *q, int tcol,
		       const char *name, int64_t base, int64_t seq, sqlite3_stmt *pq)
{
	ps_buf_reset(b);
	ps_buf_addf(b, "proc/%lld", (long long)pid);
	if (sqlite3_column_type(q, tcol) != SQLITE_NULL)
		ps_buf_addf(b, "/task/%lld", (long long)(pid + sqlite3_column_int64(q, tcol)));
	if (*name)
		ps_buf_addf(b, "/%s", name);
	struct ps_glob_ids ids = {{0, 0, 0, 0}, 0};
	for (int i = 0; i < 3; i++)
		take_id(&ids, i, q, tcol + 1 + i);
	take_id(&ids, 3, pq, 7);
	probe_keep(pr, base + seq, pid, seq, &ids, b->buf);
}

static int probe_cmp(const void *a, const void *b)
{
	int64_t x = ((const struct probe_row *)a)->path_id,
		y = ((const struct probe_row *)b)->path_id;
	return (x > y) - (x < y);
}

void ps_glob_rows_release(struct ps_glob_rows *g)
{
	ps_buf_release(&g->paths);
	free(g->pid);
	free(g->key);
	free(g->path_id);
	free(g->ids);
	g->pid = g->key = g->path_id = NULL;
	g->ids = NULL;
	g->n = 0;
}

int ps_files_glob_probe(struct sqlite3 *db, const char *pattern, struct ps_glob_rows *out,
			struct ps_err *err)
{
	ps_glob_rows_release(out);
	char *cond = glob_name_cond(pattern);
	if (!cond)
		return 0;
	struct probe pr = {.pattern = pattern, .text = PS_BUF_INIT};
	struct cand {
		int64_t id, uses, seq;
		size_t off;
	} *cv = NULL; /* the names with their stats */
	struct ps_buf path = PS_BUF_INIT, names = PS_BUF_INIT;
	sqlite3_stmt *q = NULL, *probe = NULL, *miss = NULL;
	char *sql = NULL;
	int rc = -1, cache_set = 0;
	int64_t cache = 0;
	/* one snapshot (merged: the snapshots' order is the scan's business),
	 * its paths and pids */
	int64_t sid = 0;
	double total = 0, npids = 0;
	if (sqlite3_prepare_v2(db,
			       "SELECT count(*), min(snapshot_id), (SELECT total(uses) FROM "
			       "name_stats), (SELECT count(*) FROM pid_reads) FROM snapshots",
			       -1, &q, NULL) != SQLITE_OK ||
	    sqlite3_step(q) != SQLITE_ROW) {
		ps_sql_err(err, db, "ls");
		goto out;
	}
	int one = sqlite3_column_int64(q, 0) == 1;
	sid = sqlite3_column_int64(q, 1);
	total = sqlite3_column_double(q, 2);
	npids = (double)sqlite3_column_int64(q, 3);
	sqlite3_finalize(q);
	q = NULL;
	if (!one) {
		rc = 0;
		goto out;
	}
	/* Each pid's range is a page or so, read once: a small page cache
	 * spares faulting in a large one (16 MiB, indexdb.c); the caller's is
	 * put back at the end. */
	if (sqlite3_prepare_v2(db, "PRAGMA main.cache_size", -1, &q, NULL) != SQLITE_OK ||
	    sqlite3_step(q) != SQLITE_ROW) {
		ps_sql_err(err, db, "ls");
		goto out;
	}
	cache = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	q = NULL;
	if (ps_db_exec(db, "PRAGMA main.cache_size = -1024", err) < 0)
		goto out;
	cache_set = 1;
	/* the names, with their stats: through the partial index of names
	 * (strings_text, a few pages), not a scan of every string (`+` keeps
	 * the planner off the primary key: 9 ms of `ls` at N=10,000) */
	sql = sqlite3_mprintf("SELECT s.str_id, s.text, n.name_id IS NOT NULL, n.uses, "
			      "n.usual_seq, EXISTS (SELECT 1 FROM sys_paths y WHERE y.snapshot_id "
			      "= s.snapshot_id AND y.name_id = s.str_id) FROM strings s LEFT JOIN "
			      "name_stats n ON n.snapshot_id = s.snapshot_id AND n.name_id = "
			      "s.str_id WHERE +s.snapshot_id = %lld AND s.is_name = 1 AND %s",
			      (long long)sid, cond);
	if (!sql || sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(
		db,
		"SELECT r.pid, r.base_path, p.seq, p.tid_off, p.stat_id, p.content_id, "
		"p.read_delta_8us, r.base_us FROM pid_reads r LEFT JOIN paths p ON p.pid = "
		"r.pid AND p.snapshot_id = r.snapshot_id AND p.seq = ?2 AND p.name_id = ?3 "
		"WHERE r.snapshot_id = ?1",
		-1, &probe, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db,
			       "SELECT seq, tid_off, stat_id, content_id, read_delta_8us FROM paths "
			       "WHERE pid = ?1 AND snapshot_id = ?2 AND name_id = ?3",
			       -1, &miss, NULL) != SQLITE_OK) {
		ps_sql_err(err, db, "ls");
		goto out;
	}
	/* The names first (the statements below reuse nothing of q's). */
	size_t nc = 0, cc = 0;
	int r, ok = 1;
	while (ok && (r = sqlite3_step(q)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(q, 0);
		if (!sqlite3_column_int(q, 2)) {
			/* no stats: a system file's name (the scan of sys_paths below
			 * has it), else a name not counted (an id past the counted
			 * ones, or stats missing): the usual way */
			if (!sqlite3_column_int(q, 5) || id >= (int64_t)PS_NAME_STATS_MAX)
				ok = 0;
			continue;
		}
		/* Not counted; more rows than pids (below task/ too); or in few
		 * pids, where each pid without it would be read whole. */
		double uses = (double)sqlite3_column_int64(q, 3);
		if (sqlite3_column_type(q, 3) == SQLITE_NULL ||
		    sqlite3_column_type(q, 4) == SQLITE_NULL || uses > npids ||
		    uses < 0.9 * npids) {
			ok = 0;
			break;
		}
		PS_XGROW(cv, nc, cc, 16);
		cv[nc++] = (struct cand){id, sqlite3_column_int64(q, 3), sqlite3_column_int64(q, 4),
					 names.len};
		const char *t = (const char *)sqlite3_column_text(q, 1);
		ps_buf_add(&names, t ? t : "", strlen(t ? t : "") + 1);
	}
	if (ok && r != SQLITE_ROW && r != SQLITE_DONE) {
		ps_sql_err(err, db, "ls");
		goto out;
	}
	/* a probe per pid and name: worth it while that is well under a scan */
	if (!ok || (double)nc * npids * 4 > total) {
		rc = 0;
		goto out;
	}
	/* The rows found are as many as the names' uses (checked below): room
	 * for them at once, not by doubling, which touched twice the memory
	 * (10,000 rows: 1.4 MiB, 340 page faults, each 10-18 us on this VM). */
	size_t want = 64;
	for (size_t i = 0; i < nc; i++)
		want += (size_t)cv[i].uses;
	if (want > ((size_t)1 << 22))
		want = (size_t)1 << 22;
	pr.v = ps_xmalloc(want * sizeof(*pr.v));
	pr.cap = want;
	ps_buf_reserve(&pr.text, want * 16);
	for (size_t i = 0; ok && i < nc; i++) {
		const char *name = names.buf + cv[i].off;
		int64_t found = 0;
		sqlite3_reset(probe);
		sqlite3_bind_int64(probe, 1, sid);
		sqlite3_bind_int64(probe, 2, cv[i].seq);
		sqlite3_bind_int64(probe, 3, cv[i].id);
		while ((r = sqlite3_step(probe)) == SQLITE_ROW) {
			int64_t pid = sqlite3_column_int64(probe, 0),
				base = sqlite3_column_int64(probe, 1);
			if (sqlite3_column_type(probe, 2) != SQLITE_NULL) {
				probe_path(&pr, &path, pid, probe, 3, name, base,
					   sqlite3_column_int64(probe, 2), probe);
				found++;
				continue;
			}
			/* not at the usual seq: this pid's range, for the name */
			sqlite3_reset(miss);
			sqlite3_bind_int64(miss, 1, pid);
			sqlite3_bind_int64(miss, 2, sid);
			sqlite3_bind_int64(miss, 3, cv[i].id);
			while ((r = sqlite3_step(miss)) == SQLITE_ROW) {
				probe_path(&pr, &path, pid, miss, 1, name, base,
					   sqlite3_column_int64(miss, 0), probe);
				found++;
			}
			if (r != SQLITE_DONE)
				break;
		}
		if (r != SQLITE_DONE) {
			ps_sql_err(err, db, "ls");
			goto out;
		}
		/* rows elsewhere in a pid where one was at the usual seq (a name
		 * below task/ too): the scan's business */
		ok = found == cv[i].uses;
	}
	if (!ok) {
		rc = 0;
		goto out;
	}
	/* the other paths (system files, procsnap's): few, their name is the path */
	sqlite3_finalize(q);
	if (sqlite3_prepare_v2(db,
			       "SELECT p.path_id, n.text FROM sys_paths p JOIN strings n ON "
			       "n.snapshot_id = p.snapshot_id AND n.str_id = p.name_id WHERE "
			       "p.snapshot_id = ?1 AND n.text GLOB ?2",
			       -1, &q, NULL) != SQLITE_OK) {
		q = NULL;
		ps_sql_err(err, db, "ls");
		goto out;
	}
	sqlite3_bind_int64(q, 1, sid);
	sqlite3_bind_text(q, 2, pattern, -1, SQLITE_STATIC);
	while ((r = sqlite3_step(q)) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(q, 1);
		/* a system path has no ids (fetch_row looks it up by key) */
		static const struct ps_glob_ids none = {{0, 0, 0, 0}, 0xf};
		if (t) /* NOT NULL in procsnap's schema; a crafted index aside */
			probe_keep(&pr, sqlite3_column_int64(q, 0), -1, sqlite3_column_int64(q, 0),
				   &none, t);
	}
	if (r != SQLITE_DONE) {
		ps_sql_err(err, db, "ls");
		goto out;
	}
	if (pr.n)
		qsort(pr.v, pr.n, sizeof(*pr.v), probe_cmp);
	out->pid = ps_xmalloc((pr.n ? pr.n : 1) * sizeof(*out->pid));
	out->key = ps_xmalloc((pr.n ? pr.n : 1) * sizeof(*out->key));
	out->path_id = ps_xmalloc((pr.n ? pr.n : 1) * sizeof(*out->path_id));
	out->ids = ps_xmalloc((pr.n ? pr.n : 1) * sizeof(*out->ids));
	ps_buf_reserve(&out->paths, out->paths.len + pr.text.len + 1);
	for (size_t i = 0; i < pr.n; i++) {
		const char *t = pr.text.buf + pr.v[i].off;
		ps_buf_add(&out->paths, t, strlen(t) + 1);
		out->pid[i] = pr.v[i].pid;
		out->key[i] = pr.v[i].key;
		out->path_id[i] = pr.v[i].path_id;
		out->ids[i] = pr.v[i].ids;
	}
	out->n = pr.n;
	out->snapshot_id = sid;
	rc = 1;
out:
	sqlite3_free(cond);
	free(cv);
	sqlite3_free(sql);
	sqlite3_finalize(q);
	sqlite3_finalize(probe);
	sqlite3_finalize(miss);
	if (cache_set) {
		char *back = sqlite3_mprintf("PRAGMA main.cache_size = %lld", (long long)cache);
		struct ps_err e2 = {0, ""};
		if (ps_db_exec(db, back ? back : "SELECT 1", &e2) < 0 && rc >= 0) {
			*err = e2;
			rc = -1;
		}
		sqlite3_free(back);
	}
	ps_buf_release(&path);
	ps_buf_release(&names);
	ps_buf_release(&pr.text);
	free(pr.v);
	return rc;
}

char *ps_files_each_pid_sql(const char *schema, const char *cols, const char *name)
{
	struct ps_buf sql = PS_BUF_INIT;
	char *pw = sqlite3_mprintf("p.snapshot_id = ?1 AND p.tid_off IS NULL AND p.name_id = "
				   "(SELECT str_id FROM \"%w\".strings WHERE +snapshot_id = ?1 AND "
				   "is_name = 1 AND text = %Q)",
				   schema, name);
	ps_buf_addf(&sql, "SELECT %s FROM ", cols);
	files_base_sql(&sql, schema, pw ? pw : "0", "0");
	ps_buf_adds(&sql, " ORDER BY pid");
	sqlite3_free(pw);
	return ps_buf_detach(&sql, NULL);
}

char *ps_files_damaged_sql(const char *schema, const char *cols, int limit)
{
	struct ps_buf sql = PS_BUF_INIT;
	char *in = sqlite3_mprintf("p.snapshot_id = ?1 AND p.stat_id IN (SELECT stat_id FROM "
				   "\"%w\".stats WHERE snapshot_id = ?1 AND damage IS NOT NULL)",
				   schema);
	ps_buf_addf(&sql, "SELECT %s FROM ", cols);
	files_base_sql(&sql, schema, in ? in : "0", in ? in : "0");
	ps_buf_adds(&sql, " ORDER BY path_id");
	if (limit > 0)
		ps_buf_addf(&sql, " LIMIT %d", limit);
	sqlite3_free(in);
	return ps_buf_detach(&sql, NULL);
}

const char *ps_files_errno_counts_sql(void)
{
	return "SELECT s.errno, sum(c.n) FROM (SELECT stat_id, count(*) AS n FROM paths WHERE "
	       "snapshot_id = ?1 AND stat_id IN (SELECT stat_id FROM stats WHERE snapshot_id = ?1 "
	       "AND errno IS NOT NULL) GROUP BY stat_id UNION ALL SELECT stat_id, count(*) FROM "
	       "sys_paths WHERE snapshot_id = ?1 AND stat_id IN (SELECT stat_id FROM stats WHERE "
	       "snapshot_id = ?1 AND errno IS NOT NULL) GROUP BY stat_id) c JOIN stats s ON "
	       "s.snapshot_id = ?1 AND s.stat_id = c.stat_id GROUP BY s.errno ORDER BY 2 DESC, 1";
}

void ps_files_lookup_bind(sqlite3_stmt *q, const char *path)
{
	int64_t pid, tid;
	const char *rest;
	ps_path_split(path, &pid, &tid, &rest);
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	if (pid >= 0)
		sqlite3_bind_int64(q, 1, pid);
	if (tid >= 0)
		sqlite3_bind_int64(q, 2, tid);
	sqlite3_bind_text(q, 3, rest, -1, SQLITE_TRANSIENT);
}

/* Content at most this big is read whole and checked before a byte of it is
 * written; a larger member is read twice in pieces of this size (ps_snap_cat). */
#define CAT_PIECE ((uint64_t)1 << 20)

/* Does the hex XXH3-128 hx (the index's) equal digest h?  hx NULL: nothing
 * to compare, yes. */
static int hash_is(const char *hx, const unsigned char h[16])
{
	char hex[33];
	ps_hex(hex, h, 16);
	return !hx || strcmp(hex, hx) == 0;
}

static int not_matching(struct ps_err *err, const char *path)
{
	return ps_err_set(err, EIO,
			  "%s: content does not match its XXH3 in the manifest (archive corrupt?)",
			  path);
}

/*
 * The member at path: its bytes into out when it holds at most `whole`
 * bytes (a link: its target); a larger FILE is left to the caller with its
 * tar offset, size and hex XXH3 (*big set, hx malloc'ed).  0 or -1.
 */
static int snap_lookup(struct ps_snap *s, const char *path, uint64_t whole, struct ps_buf *out,
		       int *kind_out, int *big, uint64_t *off, uint64_t *size, char **hx,
		       struct ps_err *err)
{
	sqlite3_stmt *q = NULL;
	int rc = -1;
	*big = 0;
	*hx = NULL;
	/* the first snapshot of the index that has the path */
	char *sql =
	    ps_files_lookup_sql("main", 1, "kind, size, link_target, data_off, errno, xxh3");
	int prc = sqlite3_prepare_v2(s->db, sql, -1, &q, NULL);
	free(sql);
	if (prc != SQLITE_OK)
		return ps_sql_err(err, s->db, "files");
	ps_files_lookup_bind(q, path);
	if (sqlite3_step(q) != SQLITE_ROW) {
		ps_err_set(err, ENOENT, "%s: not in the snapshot", path);
		goto out;
	}
	const char *kind = (const char *)sqlite3_column_text(q, 0);
	int k = kind ? ps_member_kind_parse(kind, strlen(kind)) : -1;
	if (kind_out)
		*kind_out = k;
	ps_buf_reset(out);
	if (k == PS_M_LINK) {
		const char *t = (const char *)sqlite3_column_text(q, 2);
		ps_buf_add(out, t ? t : "", t ? (size_t)sqlite3_column_bytes(q, 2) : 0);
		rc = 0;
	} else if (k == PS_M_DIR) {
		rc = 0;
	} else if (k == PS_M_ABSENT) {
		const char *e = (const char *)sqlite3_column_text(q, 4);
		ps_err_set(err, ENOENT, "%s: was not captured (%s)", path, e ? e : "?");
	} else if (k == PS_M_FILE) {
		int64_t sz = sqlite3_column_int64(q, 1);
		const char *h = (const char *)sqlite3_column_text(q, 5);
		if (sz == 0) {
			rc = 0;
		} else if (!s->archive) {
			ps_err_set(err, ENOENT, "%s: the archive is not beside the index", path);
		} else if (sqlite3_column_type(q, 3) == SQLITE_NULL || sz < 0) {
			ps_err_set(err, EINVAL, "%s: its bytes are not in the archive", path);
		} else if ((uint64_t)sz > whole) {
			*big = 1;
			*off = (uint64_t)sqlite3_column_int64(q, 3);
			*size = (uint64_t)sz;
			*hx = h ? ps_xstrdup(h) : NULL;
			rc = 0;
		} else {
			rc = ps_archive_read_at(s->archive, (uint64_t)sqlite3_column_int64(q, 3),
						(uint64_t)sz, out, err);
			unsigned char d[16];
			if (rc == 0 && h) {
				ps_xxh3_128(out->buf, out->len, d);
				if (!hash_is(h, d))
					rc = not_matching(err, path);
			}
		}
	} else {
		ps_err_set(err, EINVAL, "%s: unknown kind in the index", path);
	}
out:
	sqlite3_finalize(q);
	return rc;
}

int ps_snap_read(struct ps_snap *s, const char *path, struct ps_buf *out, int *kind_out,
		 struct ps_err *err)
{
	int big;
	uint64_t off, size;
	char *hx;
	/* whole: what one member may be in memory (ps_fetch_read refuses more) */
	int rc = snap_lookup(s, path, UINT64_MAX, out, kind_out, &big, &off, &size, &hx, err);
	free(hx);
	return rc;
}

int ps_snap_cat(struct ps_snap *s, const char *path, int (*put)(void *ctx, const void *p, size_t n),
		void *ctx, int *kind_out, struct ps_err *err)
{
	struct ps_buf b = PS_BUF_INIT;
	int big, e;
	uint64_t off = 0, size = 0;
	char *hx = NULL;
	int rc = snap_lookup(s, path, CAT_PIECE, &b, kind_out, &big, &off, &size, &hx, err);
	if (rc == 0 && !big) {
		if (b.len && (e = put(ctx, b.buf, b.len)) != 0)
			rc = ps_err_set(err, e, "write: %s", strerror(e));
	} else if (rc == 0) {
		/* Checked whole first, then written while checked again: no
		 * byte goes out before the member is known to be intact, and
		 * memory stays at one piece whatever its size. */
		struct ps_fetch *f = NULL;
		unsigned char d[16];
		if (ps_fetch_open(s->archive, &f, err) < 0 ||
		    ps_fetch_pieces(f, off, size, CAT_PIECE, &b, NULL, NULL, d, err) < 0)
			rc = -1;
		else if (!hash_is(hx, d))
			rc = not_matching(err, path);
		else if ((e = ps_fetch_pieces(f, off, size, CAT_PIECE, &b, put, ctx, d, err)) != 0)
			rc = e < 0 ? -1 : ps_err_set(err, e, "write: %s", strerror(e));
		else if (!hash_is(hx, d))
			rc = ps_err_set(
			    err, EIO, "%s: changed while it was written (archive modified?)", path);
		ps_fetch_close(f);
	}
	free(hx);
	ps_buf_release(&b);
	return rc;
}

void ps_snap_close(struct ps_snap *s)
{
	if (!s)
		return;
	sqlite3_close(s->db);
	free(s->archive);
	free(s->index);
	free(s);
}
