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
char *ps_files_lookup_sql(const char *schema, int64_t sid, const char *cols)
{
	char *q = sqlite3_mprintf(
	    "SELECT %s FROM \"%w\".files f WHERE f.snapshot_id = %lld AND f.pid IS ?1 AND "
	    "f.path_id = (SELECT p.path_id FROM \"%w\".strings n JOIN \"%w\".paths p "
	    "ON p.pid = ?1 AND p.snapshot_id = n.snapshot_id AND p.name_id = n.str_id "
	    "AND p.tid IS ?2 WHERE n.text = ?3 AND n.snapshot_id = %lld "
	    "UNION ALL SELECT p.path_id FROM \"%w\".strings n JOIN \"%w\".sys_paths p "
	    "ON p.snapshot_id = n.snapshot_id AND p.name_id = n.str_id "
	    "WHERE ?1 IS NULL AND n.text = ?3 AND n.snapshot_id = %lld LIMIT 1)",
	    cols, schema, (long long)sid, schema, schema, (long long)sid, schema, schema,
	    (long long)sid);
	char *r = ps_xstrdup(q ? q : "");
	sqlite3_free(q);
	return r;
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

int ps_snap_read(struct ps_snap *s, const char *path, struct ps_buf *out, int *kind_out,
		 struct ps_err *err)
{
	sqlite3_stmt *q;
	int rc = -1;
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
