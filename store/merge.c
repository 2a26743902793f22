/*
 * merge.c - many snapshots into one index (`procsnap merge`).
 *
 * The output is built from procsnap's own schema (the embedded SQL of schema/,
 * as ps_index_build does), never from an input's sqlite_master: an input is
 * only attached (ps_index_attach: read-only, defensive, its schema checked
 * against procsnap's) and its rows copied, table by table, with
 * INSERT INTO main.t(cols) SELECT cols FROM src.t and snapshot_id shifted.
 * The tables are those the embedded schema creates, listed generically, so
 * a schema change needs no change here.  Contract with the schema: every
 * table has a snapshot_id column and its keys are scoped by it.
 */
#include "store.h"
#include "store_int.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Page cache of the output while rows are copied, KiB. */
#define MERGE_CACHE_KIB 16384

/* One table of the output: its name and two column lists, the target and
 * the source with snapshot_id replaced by "snapshot_id + ?1". */
struct mtable {
	char *name;
	char *cols;
	char *src_cols;
};

/* The tables procsnap's schema created in main, with their columns. */
static int list_tables(sqlite3 *db, struct mtable **out, size_t *nout, struct ps_err *err)
{
	sqlite3_stmt *q = NULL, *c = NULL;
	struct mtable *v = NULL;
	size_t n = 0;
	int r = -1;
	if (sqlite3_prepare_v2(db,
			       "SELECT name FROM main.sqlite_master WHERE type = 'table' AND "
			       "name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY rowid",
			       -1, &q, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "SELECT name FROM pragma_table_info(?1, 'main') ORDER BY cid",
			       -1, &c, NULL) != SQLITE_OK) {
		ps_sql_err(err, db, "schema");
		goto out;
	}
	while (sqlite3_step(q) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(q, 0);
		struct ps_buf cols = PS_BUF_INIT, src = PS_BUF_INIT;
		int has_snap = 0, k = 0;
		sqlite3_bind_text(c, 1, t, -1, SQLITE_TRANSIENT);
		while (sqlite3_step(c) == SQLITE_ROW) {
			const char *col = (const char *)sqlite3_column_text(c, 0);
			char *qc = sqlite3_mprintf("\"%w\"", col ? col : "");
			if (k++) {
				ps_buf_adds(&cols, ", ");
				ps_buf_adds(&src, ", ");
			}
			ps_buf_adds(&cols, qc);
			if (col && strcmp(col, "snapshot_id") == 0) {
				has_snap = 1;
				ps_buf_adds(&src, "snapshot_id + ?1");
			} else {
				ps_buf_adds(&src, qc);
			}
			sqlite3_free(qc);
		}
		sqlite3_reset(c);
		if (!has_snap) {
			ps_err_set(err, EINVAL,
				   "schema: table %s has no snapshot_id column: cannot merge", t);
			ps_buf_release(&cols);
			ps_buf_release(&src);
			goto out;
		}
		v = ps_xrealloc(v, (n + 1) * sizeof(*v));
		v[n].name = ps_xstrdup(t);
		v[n].cols = ps_buf_detach(&cols, NULL);
		v[n].src_cols = ps_buf_detach(&src, NULL);
		n++;
	}
	r = 0;
out:
	sqlite3_finalize(q);
	sqlite3_finalize(c);
	if (r < 0) {
		for (size_t i = 0; i < n; i++) {
			free(v[i].name);
			free(v[i].cols);
			free(v[i].src_cols);
		}
		free(v);
		v = NULL;
		n = 0;
	}
	*out = v;
	*nout = n;
	return r;
}

/* Copy every table of the attached `src` (the file `label`) into main,
 * snapshot ids shifted by off.  0 or -1. */
static int copy_rows(sqlite3 *db, const struct mtable *t, size_t nt, int64_t off, const char *label,
		     struct ps_err *err)
{
	if (ps_db_exec(db, "BEGIN", err) < 0)
		return -1;
	for (size_t i = 0; i < nt; i++) {
		sqlite3_stmt *q = NULL;
		char *sql = sqlite3_mprintf("INSERT INTO main.\"%w\"(%s) SELECT %s FROM src.\"%w\"",
					    t[i].name, t[i].cols, t[i].src_cols, t[i].name);
		int ok = sqlite3_prepare_v2(db, sql, -1, &q, NULL) == SQLITE_OK;
		if (ok) {
			sqlite3_bind_int64(q, 1, off);
			ok = sqlite3_step(q) == SQLITE_DONE;
		}
		if (!ok)
			ps_err_set(err, EIO, "%s: table %s: sqlite: %s", label, t[i].name,
				   sqlite3_errmsg(db));
		sqlite3_finalize(q);
		sqlite3_free(sql);
		if (!ok) {
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
			return -1;
		}
	}
	return ps_db_exec(db, "COMMIT", err);
}

/* SQLite's structural check of the attached `src` (b-trees, free list,
 * cell sizes; not index content: merge rebuilds its own indexes).  A merge
 * reads every row anyway, so the check costs about as much again, once, on
 * a file that is about to become new evidence.  0 or -1. */
static int quick_check(sqlite3 *db, const char *label, struct ps_err *err)
{
	sqlite3_stmt *q = NULL;
	int r = -1;
	if (sqlite3_prepare_v2(db, "PRAGMA src.quick_check(1)", -1, &q, NULL) == SQLITE_OK &&
	    sqlite3_step(q) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(q, 0);
		if (t && strcmp(t, "ok") == 0) {
			r = 0;
		} else {
			/* (the cli escapes messages for the terminal) */
			ps_err_set(err, EINVAL, "%s: corrupt index: %s", label, t ? t : "?");
			for (char *c = err ? err->msg : NULL; c && *c; c++)
				if (*c == '\n')
					*c = ' ';
		}
	} else {
		ps_err_set(err, EINVAL, "%s: corrupt index: %s", label, sqlite3_errmsg(db));
	}
	sqlite3_finalize(q);
	return r;
}

/* A snapshot (by its UUID) that an earlier input already brought: refused,
 * or a fleet's merge would count it twice.  0 or -1. */
static int dup_check(sqlite3 *db, const char *path, struct ps_err *err)
{
	sqlite3_stmt *q;
	if (sqlite3_prepare_v2(
		db,
		"SELECT s.snapshot_uuid FROM src.snapshots s WHERE s.snapshot_uuid IN "
		"(SELECT snapshot_uuid FROM main.snapshots) LIMIT 1",
		-1, &q, NULL) != SQLITE_OK)
		return ps_sql_err(err, db, path);
	int rc = 0;
	if (sqlite3_step(q) == SQLITE_ROW)
		rc = ps_err_set(
		    err, EINVAL,
		    "%s: snapshot %s is already in the merge (each snapshot goes in once)", path,
		    (const char *)sqlite3_column_text(q, 0));
	sqlite3_finalize(q);
	return rc;
}

/* Largest snapshot_id of the attached `src` (0 if none), or -1. */
static int64_t max_snapshot(sqlite3 *db, const char *label, struct ps_err *err)
{
	sqlite3_stmt *q = NULL;
	int64_t v = -1;
	if (sqlite3_prepare_v2(db, "SELECT coalesce(max(snapshot_id), 0) FROM src.snapshots", -1,
			       &q, NULL) == SQLITE_OK &&
	    sqlite3_step(q) == SQLITE_ROW)
		v = sqlite3_column_int64(q, 0);
	if (v < 0 || v > INT64_MAX / 4)
		ps_err_set(err, EINVAL, "%s: snapshots: no usable snapshot_id (%s)", label,
			   sqlite3_errmsg(db));
	sqlite3_finalize(q);
	return v > INT64_MAX / 4 ? -1 : v;
}

int ps_index_merge(const char *out_path, const char *const *inputs, int n, int force,
		   struct ps_err *err)
{
	struct ps_outfile of;
	sqlite3 *db = NULL;
	struct mtable *t = NULL;
	size_t nt = 0;
	char **idx = ps_xcalloc((size_t)(n > 0 ? n : 1), sizeof(*idx));
	int rc = -1, of_open = 0;

	/* Every input resolves to an index before anything is written. */
	for (int i = 0; i < n; i++) {
		char *archive = NULL;
		int r = ps_snap_resolve(inputs[i], &idx[i], &archive, err);
		free(archive);
		if (r < 0)
			goto out;
	}
	/* OUT.tmp.PID, as the index builder names its file: a name the caller
	 * can know before it exists (cli registers it for a signal). */
	struct ps_buf tmp = PS_BUF_INIT;
	ps_buf_addf(&tmp, "%s.tmp.%d", out_path, (int)getpid());
	int cr0 = ps_out_create_as(&of, out_path, tmp.buf, force, err);
	ps_buf_release(&tmp);
	if (cr0 < 0)
		goto out;
	of_open = 1;
	if (sqlite3_open_v2(of.tmp, &db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_URI,
			    NULL) != SQLITE_OK) {
		ps_sql_err(err, db, of.tmp);
		goto out;
	}
	char pragmas[160];
	/* journal_mode=OFF is refused by the defensive flag; a fresh file
	 * journals next to nothing in memory anyway. */
	snprintf(pragmas, sizeof(pragmas),
		 "PRAGMA journal_mode = MEMORY; PRAGMA synchronous = OFF; "
		 "PRAGMA main.cache_size = -%d",
		 MERGE_CACHE_KIB);
	if (ps_db_harden(db, 1, err) < 0 || ps_db_exec(db, pragmas, err) < 0 ||
	    ps_db_exec(db, "BEGIN", err) < 0 || ps_schema_apply(db, 0, err) < 0 ||
	    ps_db_exec(db, "COMMIT", err) < 0 || list_tables(db, &t, &nt, err) < 0)
		goto out;
	int64_t next = 0;
	for (int i = 0; i < n; i++) {
		if (ps_index_attach(db, idx[i], "src", err) < 0)
			goto out;
		int64_t mx = quick_check(db, idx[i], err) < 0 || dup_check(db, idx[i], err) < 0
				 ? -1
				 : max_snapshot(db, idx[i], err);
		int r = mx < 0 ? -1 : copy_rows(db, t, nt, next, idx[i], err);
		if (ps_db_exec(db, "DETACH src", r < 0 ? NULL : err) < 0)
			r = -1;
		if (r < 0)
			goto out;
		next += mx;
	}
	char ver[64];
	snprintf(ver, sizeof(ver), "PRAGMA user_version = %d", PS_SCHEMA_VERSION);
	if (ps_db_exec(db, "BEGIN", err) < 0 || ps_schema_apply(db, 1, err) < 0 ||
	    ps_db_exec(db, ver, err) < 0 || ps_db_exec(db, "COMMIT", err) < 0)
		goto out;
	int cr = sqlite3_close(db);
	db = NULL;
	if (cr != SQLITE_OK) {
		ps_err_set(err, EIO, "sqlite: cannot close %s", of.tmp);
		goto out;
	}
	of_open = 0;
	if (ps_out_commit(&of, err) < 0)
		goto out;
	rc = 0;
out:
	sqlite3_close(db);
	if (of_open)
		ps_out_abort(&of);
	for (size_t i = 0; i < nt; i++) {
		free(t[i].name);
		free(t[i].cols);
		free(t[i].src_cols);
	}
	free(t);
	for (int i = 0; i < n; i++)
		free(idx[i]);
	free(idx);
	return rc;
}
