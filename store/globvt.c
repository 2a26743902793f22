/*
 * globvt.c - files_glob(PATTERN), a table-valued function: the rows of the
 * view `files` whose path matches a GLOB pattern, without building every
 * path's text to compare it.
 *
 *   SELECT path, size FROM files_glob(:pattern);
 *
 * gives what `SELECT path, size FROM files WHERE path GLOB :pattern` gives,
 * in capture order (snapshot_id, path_id); `ls SNAP GLOB` is this.  A
 * one-snapshot index goes through ps_files_glob_probe: each pid's range is
 * looked up for the names the pattern can end with; the columns other than
 * path, pid, tid, snapshot_id and path_id, when the statement uses any, are
 * looked up by each row's key.  Otherwise (a merged index, the union of
 * several snapshots, a pattern the probe does not take) the rows come from
 * ps_files_glob_sql: through the keys where the pattern has a literal pid
 * or name, else a scan of the view.  Either way only the columns the
 * statement uses (xBestIndex's colUsed) are computed.
 *
 * An eponymous-only virtual table: nothing is created in the index, and it
 * reads nothing but the connection's own tables.
 */
#include "store.h"
#include "store_int.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

/* The view's columns, in its order, then the hidden argument. */
static const char *const cols[] = {"snapshot_id", "path",   "kind", "mode",	   "uid",
				   "gid",	  "size",   "xxh3", "link_target", "errno",
				   "read_ns",	  "pid",    "tid",  "data_off",	   "mtime",
				   "damage",	  "path_id"};
enum { C_SID = 0, C_PATH = 1, C_PID = 11, C_TID = 12, C_PATH_ID = 16, C_PATTERN = 17 };
#define NCOLS ((int)(sizeof(cols) / sizeof(cols[0])))

/* idxNum bits */
#define NO_PATTERN 1 /* called without one: an error, said by gvt_filter */
#define USED_SHIFT 1 /* then a bit per column the statement uses */
#define ALL_USED   ((1u << NCOLS) - 1)
/* the columns the probe gives itself (ps_glob_rows) */
#define PROBED (1u << C_SID | 1u << C_PATH | 1u << C_PID | 1u << C_TID | 1u << C_PATH_ID)

struct gvt {
	sqlite3_vtab base;
	sqlite3 *db;
};

struct gcur {
	sqlite3_vtab_cursor base;
	struct ps_glob_rows g; /* the probe's rows (probed = 1) */
	int probed;
	size_t i, off;	     /* the current probe row, its path's offset */
	sqlite3_stmt *q;     /* the scan (probed = 0) */
	sqlite3_stmt *kq[2]; /* probed: a system path, a pid's row by key */
	sqlite3_stmt *row;   /* the statement whose columns are the row's */
	int eof;
};

/* The columns, NULL in place of those not in used (a bit per column): what
 * the statement does not read is not computed, nor its join made. */
static char *col_list(unsigned used)
{
	struct ps_buf b = PS_BUF_INIT;
	for (int i = 0; i < NCOLS; i++)
		ps_buf_addf(&b, "%s%s", i ? ", " : "", used >> i & 1 ? cols[i] : "NULL");
	return ps_buf_detach(&b, NULL);
}

static int gvt_connect(sqlite3 *db, void *aux, int argc, const char *const *argv,
		       sqlite3_vtab **out, char **errp)
{
	(void)aux;
	(void)argc;
	(void)argv;
	(void)errp;
	char *names = col_list(ALL_USED);
	char *decl = sqlite3_mprintf("CREATE TABLE x(%s, pattern HIDDEN)", names);
	free(names);
	int rc = decl ? sqlite3_declare_vtab(db, decl) : SQLITE_NOMEM;
	sqlite3_free(decl);
	if (rc != SQLITE_OK)
		return rc;
	struct gvt *t = sqlite3_malloc(sizeof(*t));
	if (!t)
		return SQLITE_NOMEM;
	memset(t, 0, sizeof(*t));
	t->db = db;
	*out = &t->base;
	return SQLITE_OK;
}

static int gvt_disconnect(sqlite3_vtab *v)
{
	sqlite3_free(v);
	return SQLITE_OK;
}

/* The pattern is required (an equality on the hidden column): one that is
 * not usable yet (a join's other side first) makes SQLite try another
 * order; none at all gets a plan whose filter says what is missing. */
static int gvt_best_index(sqlite3_vtab *v, sqlite3_index_info *info)
{
	(void)v;
	int at = -1;
	for (int i = 0; i < info->nConstraint; i++) {
		const struct sqlite3_index_constraint *c = &info->aConstraint[i];
		if (c->iColumn != C_PATTERN || c->op != SQLITE_INDEX_CONSTRAINT_EQ)
			continue;
		if (!c->usable)
			return SQLITE_CONSTRAINT;
		at = i;
		break;
	}
	if (at < 0) {
		info->idxNum = NO_PATTERN;
		info->estimatedCost = 1e12;
		return SQLITE_OK;
	}
	info->aConstraintUsage[at].argvIndex = 1;
	info->aConstraintUsage[at].omit = 1;
	/* snapshot_id and path_id always: the scan's order and rowid */
	unsigned used = (unsigned)(info->colUsed & ALL_USED) | 1u << C_SID | 1u << C_PATH_ID;
	info->idxNum = (int)(used << USED_SHIFT);
	info->estimatedCost = 1000;
	info->estimatedRows = 1000;
	return SQLITE_OK;
}

static int gvt_open(sqlite3_vtab *v, sqlite3_vtab_cursor **out)
{
	(void)v;
	struct gcur *c = sqlite3_malloc(sizeof(*c));
	if (!c)
		return SQLITE_NOMEM;
	memset(c, 0, sizeof(*c));
	c->g = (struct ps_glob_rows)PS_GLOB_ROWS_INIT;
	*out = &c->base;
	return SQLITE_OK;
}

static void cur_reset(struct gcur *c)
{
	ps_glob_rows_release(&c->g);
	sqlite3_finalize(c->q);
	sqlite3_finalize(c->kq[0]);
	sqlite3_finalize(c->kq[1]);
	c->q = c->kq[0] = c->kq[1] = c->row = NULL;
	c->probed = 0;
	c->i = c->off = 0;
	c->eof = 1;
}

static int gvt_close(sqlite3_vtab_cursor *cur)
{
	struct gcur *c = (struct gcur *)cur;
	cur_reset(c);
	sqlite3_free(c);
	return SQLITE_OK;
}

static int fail(struct gcur *c, const char *msg)
{
	sqlite3_vtab *v = c->base.pVtab;
	sqlite3_free(v->zErrMsg);
	v->zErrMsg = sqlite3_mprintf("files_glob: %s", msg);
	return SQLITE_ERROR;
}

/* The current probe row by its key, when its other columns are wanted. */
static int fetch_row(struct gcur *c)
{
	if (!c->kq[0])
		return SQLITE_OK;
	struct gvt *t = (struct gvt *)c->base.pVtab;
	sqlite3_stmt *k = c->row = c->kq[c->g.pid[c->i] >= 0];
	sqlite3_reset(k);
	if (c->g.pid[c->i] >= 0)
		sqlite3_bind_int64(k, 1, c->g.pid[c->i]);
	else
		sqlite3_bind_null(k, 1);
	sqlite3_bind_int64(k, 2, c->g.snapshot_id);
	sqlite3_bind_int64(k, 3, c->g.key[c->i]);
	int r = sqlite3_step(k);
	if (r == SQLITE_ROW)
		return SQLITE_OK;
	return fail(c, r == SQLITE_DONE ? "a row the probe found is not there again"
					: sqlite3_errmsg(t->db));
}

static int gvt_filter(sqlite3_vtab_cursor *cur, int idx, const char *idxstr, int argc,
		      sqlite3_value **argv)
{
	(void)idxstr;
	struct gcur *c = (struct gcur *)cur;
	struct gvt *t = (struct gvt *)cur->pVtab;
	cur_reset(c);
	if (idx & NO_PATTERN)
		return fail(c, "takes a GLOB pattern: files_glob('proc/*/exe')");
	const char *pattern = argc > 0 ? (const char *)sqlite3_value_text(argv[0]) : NULL;
	if (!pattern)
		return SQLITE_OK; /* GLOB with NULL matches nothing */
	struct ps_err err = {0, ""};
	int pr = ps_files_glob_probe(t->db, pattern, &c->g, &err);
	if (pr < 0)
		return fail(c, err.msg);
	/* an index's own tables, or the union views of several (in temp) */
	const char *schema = "main";
	sqlite3_stmt *m = NULL;
	if (sqlite3_prepare_v2(t->db, "SELECT 1 FROM main.sqlite_schema WHERE name = 'paths'", -1,
			       &m, NULL) == SQLITE_OK &&
	    sqlite3_step(m) != SQLITE_ROW)
		schema = "temp";
	sqlite3_finalize(m);
	c->probed = pr > 0;
	/* probed: the key lookups give only what the probe does not */
	unsigned used = (unsigned)idx >> USED_SHIFT;
	char *names = col_list(c->probed ? used & ~PROBED : used);
	int rc = SQLITE_OK;
	for (int b = 0; c->probed && (used & ~PROBED) && rc == SQLITE_OK && b < 2; b++) {
		char *sql = ps_files_key_sql(schema, names, b);
		if (!sql || sqlite3_prepare_v2(t->db, sql, -1, &c->kq[b], NULL) != SQLITE_OK)
			rc = fail(c, sqlite3_errmsg(t->db));
		free(sql);
	}
	if (!c->probed) {
		char *inner = ps_files_glob_sql(schema, names, pattern);
		struct ps_buf b = PS_BUF_INIT;
		ps_buf_addf(&b, "SELECT %s FROM (%s) ORDER BY snapshot_id, path_id", names, inner);
		free(inner);
		if (sqlite3_prepare_v2(t->db, b.buf, -1, &c->q, NULL) != SQLITE_OK)
			rc = fail(c, sqlite3_errmsg(t->db));
		c->row = c->q;
		ps_buf_release(&b);
	}
	free(names);
	if (rc != SQLITE_OK)
		return rc;
	if (!c->probed) {
		sqlite3_bind_text(c->q, 1, pattern, -1, SQLITE_TRANSIENT);
		int r = sqlite3_step(c->q);
		if (r != SQLITE_ROW && r != SQLITE_DONE)
			return fail(c, sqlite3_errmsg(t->db));
		c->eof = r == SQLITE_DONE;
		return SQLITE_OK;
	}
	c->eof = c->g.n == 0;
	return c->eof ? SQLITE_OK : fetch_row(c);
}

static int gvt_next(sqlite3_vtab_cursor *cur)
{
	struct gcur *c = (struct gcur *)cur;
	struct gvt *t = (struct gvt *)cur->pVtab;
	if (!c->probed) {
		int r = sqlite3_step(c->q);
		if (r != SQLITE_ROW && r != SQLITE_DONE)
			return fail(c, sqlite3_errmsg(t->db));
		c->eof = r == SQLITE_DONE;
		return SQLITE_OK;
	}
	c->off += strlen(c->g.paths.buf + c->off) + 1;
	if (++c->i >= c->g.n) {
		c->eof = 1;
		return SQLITE_OK;
	}
	return fetch_row(c);
}

static int gvt_eof(sqlite3_vtab_cursor *cur)
{
	return ((struct gcur *)cur)->eof;
}

/* tid of a probe row's path: the number after "/task/", or NULL. */
static void result_tid(sqlite3_context *ctx, const char *path)
{
	const char *t = strstr(path, "/task/");
	if (!t) {
		sqlite3_result_null(ctx);
		return;
	}
	sqlite3_result_int64(ctx, strtoll(t + 6, NULL, 10));
}

static int gvt_column(sqlite3_vtab_cursor *cur, sqlite3_context *ctx, int col)
{
	struct gcur *c = (struct gcur *)cur;
	if (col >= NCOLS) {
		sqlite3_result_null(ctx);
		return SQLITE_OK;
	}
	if (!c->probed || !(PROBED >> col & 1)) {
		if (c->row)
			sqlite3_result_value(ctx, sqlite3_column_value(c->row, col));
		else /* not used by the statement (gvt_best_index) */
			sqlite3_result_null(ctx);
		return SQLITE_OK;
	}
	const char *path = c->g.paths.buf + c->off;
	int64_t pid = c->g.pid[c->i];
	switch (col) {
	case C_SID:
		sqlite3_result_int64(ctx, c->g.snapshot_id);
		break;
	case C_PATH:
		sqlite3_result_text(ctx, path, -1, SQLITE_TRANSIENT);
		break;
	case C_PID:
		if (pid >= 0)
			sqlite3_result_int64(ctx, pid);
		else
			sqlite3_result_null(ctx);
		break;
	case C_TID:
		if (pid >= 0)
			result_tid(ctx, path);
		else
			sqlite3_result_null(ctx);
		break;
	case C_PATH_ID:
		sqlite3_result_int64(ctx, c->g.path_id[c->i]);
		break;
	}
	return SQLITE_OK;
}

static int gvt_rowid(sqlite3_vtab_cursor *cur, sqlite3_int64 *rowid)
{
	struct gcur *c = (struct gcur *)cur;
	*rowid = c->probed ? (sqlite3_int64)c->i : sqlite3_column_int64(c->q, C_PATH_ID);
	return SQLITE_OK;
}

static const sqlite3_module files_glob_module = {
    .iVersion = 0,
    .xCreate = NULL, /* eponymous only */
    .xConnect = gvt_connect,
    .xBestIndex = gvt_best_index,
    .xDisconnect = gvt_disconnect,
    .xDestroy = gvt_disconnect,
    .xOpen = gvt_open,
    .xClose = gvt_close,
    .xFilter = gvt_filter,
    .xNext = gvt_next,
    .xEof = gvt_eof,
    .xColumn = gvt_column,
    .xRowid = gvt_rowid,
};

int ps_globvt_register(struct sqlite3 *db, struct ps_err *err)
{
	if (sqlite3_create_module(db, "files_glob", &files_glob_module, NULL) != SQLITE_OK)
		return ps_sql_err(err, db, "files_glob");
	return 0;
}
