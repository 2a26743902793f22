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
	if (is_sqlite(path)) {
		*index = ps_xstrdup(path);
		if (ends_with(path, ".db"))
			*archive = ps_xstrndup(path, strlen(path) - 3);
		return 0;
	}
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

int ps_snap_open(const char *path, struct ps_snap **sp, struct ps_err *err)
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

/*
 * One row of `files` by its path, found through the path's structure: the
 * text of its name in `strings` (indexed) gives the path_id inside the pid's
 * range of `paths` (or in `sys_paths`), and the view is asked for that row
 * only (`pid` and `path_id` reach the base tables' keys).  Asking the view
 * for `path = ?` would compute every path to compare it.
 */
char *ps_files_lookup_id_sql(const char *schema, int64_t sid)
{
	char *q = sqlite3_mprintf(
	    "SELECT p.path_id FROM \"%w\".strings n JOIN \"%w\".paths p "
	    "ON p.pid = ?1 AND p.snapshot_id = n.snapshot_id AND p.name_id = n.str_id "
	    "AND p.tid IS ?2 WHERE n.text = ?3 AND n.snapshot_id = %lld AND n.is_name = 1 "
	    "UNION ALL SELECT p.path_id FROM \"%w\".strings n JOIN \"%w\".sys_paths p "
	    "ON p.snapshot_id = n.snapshot_id AND p.name_id = n.str_id "
	    "WHERE ?1 IS NULL AND n.text = ?3 AND n.snapshot_id = %lld AND n.is_name = 1 LIMIT 1",
	    schema, schema, (long long)sid, schema, schema, (long long)sid);
	char *r = ps_xstrdup(q ? q : "");
	sqlite3_free(q);
	return r;
}

/* The path_id is a bound value, not a subquery: SQLite pushes a plain term
 * down into both arms of the files view (their primary keys), never one
 * with a subquery in it (then every sys_paths row and every row of the pid
 * would be read per lookup: 0.5 ms instead of 20 us). */
char *ps_files_lookup_sql(const char *schema, int64_t sid, const char *cols)
{
	char *q = sqlite3_mprintf("SELECT %s FROM \"%w\".files WHERE snapshot_id = %lld AND "
				  "pid IS ?1 AND path_id = ?2",
				  cols, schema, (long long)sid);
	char *r = ps_xstrdup(q ? q : "");
	sqlite3_free(q);
	return r;
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

/*
 * The rows of files whose path matches a GLOB pattern, through the keys
 * when the pattern allows: a literal pid ("proc/42/...") reads that pid's
 * range; otherwise a literal piece of the pattern that cannot reach into
 * "proc/<pid>/" or "task/<tid>/" selects the names that can match (in the
 * small `strings` table) before `paths` is read, as integers.  Any other
 * pattern reads everything.  The GLOB itself is always checked last.
 * Parameters: ?1 the pattern.
 */
char *ps_files_glob_sql(const char *schema, const char *cols, const char *pattern)
{
	struct ps_buf lit = PS_BUF_INIT, sql = PS_BUF_INIT;
	char *q;
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
	if (pid >= 0) {
		q = sqlite3_mprintf("SELECT %s FROM \"%w\".files WHERE pid = %lld AND path GLOB ?1",
				    cols, schema, (long long)pid);
		goto out;
	}
	/* The part after "proc/" (pid rows' names follow "proc/<pid>/" or
	 * ".../task/<tid>/"): a literal with no digit and no "proc"/"task" can
	 * only come from the name, or from the '/' before it. */
	longest_literal(strncmp(p, "proc/", 5) == 0 ? p + 5 : p, &lit);
	int usable = lit.len >= 2 && strncmp(p, "proc/", 5) == 0 &&
		     !strpbrk(lit.buf, "0123456789") && !strstr(lit.buf, "proc") &&
		     !strstr(lit.buf, "task");
	if (!usable) {
		q = sqlite3_mprintf("SELECT %s FROM \"%w\".files WHERE path GLOB ?1", cols, schema);
		goto out;
	}
	q = sqlite3_mprintf(
	    "SELECT %s FROM (SELECT p.snapshot_id AS snapshot_id, "
	    "'proc/' || p.pid || CASE WHEN p.tid IS NULL THEN '' ELSE '/task/' || p.tid END || "
	    "CASE n.text WHEN '' THEN '' ELSE '/' || n.text END AS path, "
	    "CASE p.kind WHEN 0 THEN 'file' WHEN 1 THEN 'link' WHEN 2 THEN 'dir' ELSE 'absent' END "
	    "AS kind, coalesce(c.size, 0) AS size, lower(hex(c.xxh3)) AS xxh3, t.text AS "
	    "link_target, p.errno AS errno, p.pid AS pid, p.tid AS tid, p.path_id AS path_id "
	    "FROM \"%w\".paths p JOIN \"%w\".strings n ON n.snapshot_id = p.snapshot_id AND "
	    "n.str_id = p.name_id "
	    "LEFT JOIN \"%w\".contents c ON c.snapshot_id = p.snapshot_id AND c.content_id = "
	    "p.content_id "
	    "LEFT JOIN \"%w\".strings t ON t.snapshot_id = c.snapshot_id AND t.str_id = "
	    "c.target_id "
	    "WHERE p.name_id IN (SELECT str_id FROM \"%w\".strings WHERE is_name = 1 AND "
	    "instr('/' || text, %Q) > 0) "
	    /* the other paths: few, their name is the whole path */
	    "UNION ALL SELECT p.snapshot_id, n.text, "
	    "CASE p.kind WHEN 0 THEN 'file' WHEN 1 THEN 'link' WHEN 2 THEN 'dir' ELSE 'absent' "
	    "END, "
	    "coalesce(c.size, 0), lower(hex(c.xxh3)), t.text, p.errno, NULL, NULL, p.path_id "
	    "FROM \"%w\".sys_paths p JOIN \"%w\".strings n ON n.snapshot_id = p.snapshot_id AND "
	    "n.str_id = p.name_id "
	    "LEFT JOIN \"%w\".contents c ON c.snapshot_id = p.snapshot_id AND c.content_id = "
	    "p.content_id "
	    "LEFT JOIN \"%w\".strings t ON t.snapshot_id = c.snapshot_id AND t.str_id = "
	    "c.target_id) WHERE path GLOB ?1",
	    cols, schema, schema, schema, schema, schema, lit.buf, schema, schema, schema, schema);
out:
	ps_buf_adds(&sql, q ? q : "");
	sqlite3_free(q);
	ps_buf_release(&lit);
	return ps_buf_detach(&sql, NULL);
}

int ps_files_lookup_bind(sqlite3_stmt *id_q, sqlite3_stmt *q, const char *path)
{
	int64_t pid, tid;
	const char *rest;
	ps_path_split(path, &pid, &tid, &rest);
	sqlite3_reset(id_q);
	sqlite3_clear_bindings(id_q);
	if (pid >= 0)
		sqlite3_bind_int64(id_q, 1, pid);
	if (tid >= 0)
		sqlite3_bind_int64(id_q, 2, tid);
	sqlite3_bind_text(id_q, 3, rest, -1, SQLITE_TRANSIENT);
	int st = sqlite3_step(id_q);
	sqlite3_reset(q);
	sqlite3_clear_bindings(q); /* path_id NULL: no row */
	if (pid >= 0)
		sqlite3_bind_int64(q, 1, pid);
	if (st == SQLITE_ROW)
		sqlite3_bind_int64(q, 2, sqlite3_column_int64(id_q, 0));
	sqlite3_reset(id_q);
	return st == SQLITE_ROW ? 1 : st == SQLITE_DONE ? 0 : -1;
}

int ps_snap_read(struct ps_snap *s, const char *path, struct ps_buf *out, int *kind_out,
		 struct ps_err *err)
{
	sqlite3_stmt *q = NULL, *id_q = NULL;
	int rc = -1;
	/* the first snapshot of the index that has the path */
	char *sql =
	    ps_files_lookup_sql("main", 1, "kind, size, link_target, data_off, errno, xxh3");
	char *id_sql = ps_files_lookup_id_sql("main", 1);
	int prc = sqlite3_prepare_v2(s->db, sql, -1, &q, NULL);
	if (prc == SQLITE_OK)
		prc = sqlite3_prepare_v2(s->db, id_sql, -1, &id_q, NULL);
	free(sql);
	free(id_sql);
	if (prc != SQLITE_OK) {
		sqlite3_finalize(q);
		return ps_sql_err(err, s->db, "files");
	}
	int found = ps_files_lookup_bind(id_q, q, path);
	sqlite3_finalize(id_q);
	if (found < 0) {
		ps_sql_err(err, s->db, "files");
		goto out;
	}
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
		int64_t size = sqlite3_column_int64(q, 1);
		if (size == 0) {
			rc = 0;
		} else if (!s->archive) {
			ps_err_set(err, ENOENT, "%s: the archive is not beside the index", path);
		} else if (sqlite3_column_type(q, 3) == SQLITE_NULL || size < 0) {
			ps_err_set(err, EINVAL, "%s: its bytes are not in the archive", path);
		} else {
			rc = ps_archive_read_at(s->archive, (uint64_t)sqlite3_column_int64(q, 3),
						(uint64_t)size, out, err);
			const char *hx = (const char *)sqlite3_column_text(q, 5);
			unsigned char h[16];
			char hex[33];
			if (rc == 0 && hx) {
				ps_xxh3_128(out->buf, out->len, h);
				ps_hex(hex, h, 16);
				if (strcmp(hex, hx) != 0)
					rc =
					    ps_err_set(err, EIO,
						       "%s: content does not match its XXH3 in the "
						       "manifest (archive corrupt?)",
						       path);
			}
		}
	} else {
		ps_err_set(err, EINVAL, "%s: unknown kind in the index", path);
	}
out:
	sqlite3_finalize(q);
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
