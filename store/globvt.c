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
 * looked up through the ids the probe read with each row (its stat,
 * content, read time: `paths` is not read twice).  Otherwise (a merged
 * index, the union of several snapshots, a pattern the probe does not
 * take) the rows come from ps_files_glob_sql: through the keys where the
 * pattern has a literal pid or name, else a scan of the view.  Either way
 * only the columns the statement uses (xBestIndex's colUsed) are computed.
 *
 * An eponymous-only virtual table: nothing is created in the index, and it
 * reads nothing but the connection's own tables.
 *
 * The same module, declared without the hidden argument, is `files` itself
 * on the connection of `procsnap query` over one index (ps_index_files_vtab:
 * temp.files, in front of the view main.files): a `path GLOB` constraint is
 * taken as files_glob's pattern, a `path =` as the pattern of that one path;
 * any other statement is the view's, with the comparisons SQLite hands over
 * (=, <, <=, >, >=, IS on any column) in its WHERE, so that `pid = ?` keeps
 * the view's keyed plan.  Every constraint is checked again by SQLite
 * (omit = 0): the rows given are never more than a superset.
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
/* `files` (the module's aux): how the rows are found */
#define PLAN_EQ_PATH (1 << 24) /* argv[0] is a path, not a pattern */
#define PLAN_SQL     (1 << 25) /* the view, idxStr its statement */
#define PLAN_FILES   (1 << 26) /* a plan of `files` (not files_glob) */
/* the columns the probe gives itself (ps_glob_rows) */
#define PROBED (1u << C_SID | 1u << C_PATH | 1u << C_PID | 1u << C_TID | 1u << C_PATH_ID)

struct gvt {
	sqlite3_vtab base;
	sqlite3 *db;
	int files; /* temp.files, not files_glob() */
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
	/* `files` through the view (PLAN_SQL): kept from one filter to the
	 * next (a join asks for each outer row's), with its text */
	sqlite3_stmt *dq;
	char *dsql;
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
	(void)argc;
	(void)argv;
	(void)errp;
	char *names = col_list(ALL_USED);
	char *decl = sqlite3_mprintf(
	    aux ? "CREATE TABLE x(%s)" : "CREATE TABLE x(%s, pattern HIDDEN)", names);
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
	t->files = aux != NULL;
	*out = &t->base;
	return SQLITE_OK;
}

static int gvt_disconnect(sqlite3_vtab *v)
{
	sqlite3_free(v);
	return SQLITE_OK;
}

/* The columns the statement uses (a bit each), and snapshot_id and path_id
 * always: the scan's order and rowid. */
static unsigned used_cols(const sqlite3_index_info *info)
{
	return (unsigned)(info->colUsed & ALL_USED) | 1u << C_SID | 1u << C_PATH_ID;
}

/* A comparison the view can be given as SQL: its operator, else NULL. */
static const char *sql_op(sqlite3_index_info *info, int i)
{
	const struct sqlite3_index_constraint *c = &info->aConstraint[i];
	const char *coll = sqlite3_vtab_collation(info, i);
	if (!c->usable || c->iColumn < 0 || c->iColumn >= NCOLS ||
	    (coll && sqlite3_stricmp(coll, "BINARY") != 0))
		return NULL;
	switch (c->op) {
	case SQLITE_INDEX_CONSTRAINT_EQ:
		return "=";
	case SQLITE_INDEX_CONSTRAINT_GT:
		return ">";
	case SQLITE_INDEX_CONSTRAINT_LE:
		return "<=";
	case SQLITE_INDEX_CONSTRAINT_LT:
		return "<";
	case SQLITE_INDEX_CONSTRAINT_GE:
		return ">=";
	case SQLITE_INDEX_CONSTRAINT_IS:
		return "IS";
	default:
		return NULL;
	}
}

/* `files`: a pattern on path (GLOB, or = one path) through files_glob's
 * rows, unless a pid is given; else the view with the comparisons it can
 * take.  The costs say a pid's rows are fewer than a pattern's, and those
 * fewer than the whole view. */
static int files_best_index(sqlite3_index_info *info)
{
	int glob = -1, eq_path = -1, eq_pid = -1;
	for (int i = 0; i < info->nConstraint; i++) {
		const struct sqlite3_index_constraint *c = &info->aConstraint[i];
		if (!c->usable)
			continue;
		if (c->iColumn == C_PATH && c->op == SQLITE_INDEX_CONSTRAINT_GLOB)
			glob = i;
		else if (c->iColumn == C_PATH && c->op == SQLITE_INDEX_CONSTRAINT_EQ &&
			 sql_op(info, i))
			eq_path = i;
		else if (c->iColumn == C_PID && c->op == SQLITE_INDEX_CONSTRAINT_EQ &&
			 sql_op(info, i))
			eq_pid = i;
	}
	unsigned used = used_cols(info);
	int at = eq_pid >= 0 ? -1 : eq_path >= 0 ? eq_path : glob;
	if (at >= 0) {
		info->aConstraintUsage[at].argvIndex = 1;
		info->idxNum =
		    (int)(used << USED_SHIFT) | PLAN_FILES | (at == eq_path ? PLAN_EQ_PATH : 0);
		info->estimatedCost = at == eq_path ? 10 : 1000;
		info->estimatedRows = at == eq_path ? 1 : 1000;
		return SQLITE_OK;
	}
	char *names = col_list(used);
	struct ps_buf b = PS_BUF_INIT;
	ps_buf_addf(&b, "SELECT %s FROM main.files WHERE 1", names);
	free(names);
	int n = 0;
	for (int i = 0; i < info->nConstraint; i++) {
		const char *op = sql_op(info, i);
		if (!op)
			continue;
		info->aConstraintUsage[i].argvIndex = ++n;
		ps_buf_addf(&b, " AND %s %s ?%d", cols[info->aConstraint[i].iColumn], op, n);
	}
	char *sql = sqlite3_mprintf("%s", b.buf);
	ps_buf_release(&b);
	if (!sql)
		return SQLITE_NOMEM;
	info->idxNum = (int)(used << USED_SHIFT) | PLAN_FILES | PLAN_SQL;
	info->idxStr = sql;
	info->needToFreeIdxStr = 1;
	info->estimatedCost = eq_pid >= 0 ? 100 : 2e6;
	info->estimatedRows = eq_pid >= 0 ? 100 : 2000000;
	return SQLITE_OK;
}

/* The pattern is required (an equality on the hidden column): one that is
 * not usable yet (a join's other side first) makes SQLite try another
 * order; none at all gets a plan whose filter says what is missing. */
static int gvt_best_index(sqlite3_vtab *v, sqlite3_index_info *info)
{
	if (((struct gvt *)v)->files)
		return files_best_index(info);
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
	unsigned used = used_cols(info);
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
	if (c->q != c->dq)
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
	sqlite3_finalize(c->dq);
	free(c->dsql);
	sqlite3_free(c);
	return SQLITE_OK;
}

static int fail(struct gcur *c, const char *msg)
{
	sqlite3_vtab *v = c->base.pVtab;
	sqlite3_free(v->zErrMsg);
	v->zErrMsg =
	    sqlite3_mprintf("%s: %s", ((struct gvt *)v)->files ? "files" : "files_glob", msg);
	return SQLITE_ERROR;
}

/* The current probe row's other columns, when the statement wants any: a
 * system path by its key, a pid's path by the ids the probe read. */
static int fetch_row(struct gcur *c)
{
	if (!c->kq[0])
		return SQLITE_OK;
	struct gvt *t = (struct gvt *)c->base.pVtab;
	int below = c->g.pid[c->i] >= 0;
	sqlite3_stmt *k = c->row = c->kq[below];
	sqlite3_reset(k);
	sqlite3_bind_int64(k, 2, c->g.snapshot_id);
	if (below) {
		const struct ps_glob_ids *d = &c->g.ids[c->i];
		sqlite3_bind_int64(k, 1, c->g.pid[c->i]);
		for (int j = 0; j < 4; j++)
			if (d->nulls >> j & 1)
				sqlite3_bind_null(k, 3 + j);
			else
				sqlite3_bind_int64(k, 3 + j, d->v[j]);
	} else {
		sqlite3_bind_null(k, 1);
		sqlite3_bind_int64(k, 3, c->g.key[c->i]);
	}
	int r = sqlite3_step(k);
	if (r == SQLITE_ROW)
		return SQLITE_OK;
	return fail(c, r == SQLITE_DONE ? "a row the probe found is not there again"
					: sqlite3_errmsg(t->db));
}

/* The scan's next row (c->q): SQLITE_OK (eof set at its end) or the error. */
static int scan_step(struct gcur *c)
{
	int r = sqlite3_step(c->q);
	if (r != SQLITE_ROW && r != SQLITE_DONE)
		return fail(c, sqlite3_errmsg(((struct gvt *)c->base.pVtab)->db));
	c->eof = r == SQLITE_DONE;
	return SQLITE_OK;
}

/* A GLOB pattern that matches exactly the text s: each of * ? [ in
 * brackets. */
static char *glob_literal(const char *s)
{
	struct ps_buf b = PS_BUF_INIT;
	for (; *s; s++) {
		if (*s == '*' || *s == '?' || *s == '[')
			ps_buf_addf(&b, "[%c]", *s);
		else
			ps_buf_addc(&b, *s);
	}
	return ps_buf_detach(&b, NULL);
}

/* `files` through the view: the statement best_index wrote, its
 * parameters the constraints' values. */
static int view_filter(struct gcur *c, const char *sql, int argc, sqlite3_value **argv)
{
	struct gvt *t = (struct gvt *)c->base.pVtab;
	if (c->dq && strcmp(c->dsql, sql) == 0) {
		sqlite3_reset(c->dq);
	} else {
		sqlite3_finalize(c->dq);
		free(c->dsql);
		c->dsql = NULL;
		if (sqlite3_prepare_v2(t->db, sql, -1, &c->dq, NULL) != SQLITE_OK) {
			c->dq = NULL;
			return fail(c, sqlite3_errmsg(t->db));
		}
		c->dsql = ps_xstrdup(sql);
	}
	for (int i = 0; i < argc; i++)
		sqlite3_bind_value(c->dq, i + 1, argv[i]);
	c->q = c->row = c->dq;
	return scan_step(c);
}

static int gvt_filter(sqlite3_vtab_cursor *cur, int idx, const char *idxstr, int argc,
		      sqlite3_value **argv)
{
	struct gcur *c = (struct gcur *)cur;
	struct gvt *t = (struct gvt *)cur->pVtab;
	cur_reset(c);
	if (idx & NO_PATTERN)
		return fail(c, "takes a GLOB pattern: files_glob('proc/*/exe')");
	if (idx & PLAN_SQL)
		return view_filter(c, idxstr, argc, argv);
	const char *pattern = argc > 0 ? (const char *)sqlite3_value_text(argv[0]) : NULL;
	if (!pattern)
		return SQLITE_OK; /* GLOB with NULL matches nothing */
	char *lit = NULL;
	if (idx & PLAN_EQ_PATH)
		pattern = lit = glob_literal(pattern);
	struct ps_err err = {0, ""};
	int pr = ps_files_glob_probe(t->db, pattern, &c->g, &err);
	if (pr < 0) {
		free(lit);
		return fail(c, err.msg);
	}
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
	unsigned used = (unsigned)idx >> USED_SHIFT & ALL_USED; /* not the PLAN_ bits */
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
	if (rc == SQLITE_OK && !c->probed)
		sqlite3_bind_text(c->q, 1, pattern, -1, SQLITE_TRANSIENT);
	free(lit);
	if (rc != SQLITE_OK)
		return rc;
	if (!c->probed)
		return scan_step(c);
	c->eof = c->g.n == 0;
	return c->eof ? SQLITE_OK : fetch_row(c);
}

static int gvt_next(sqlite3_vtab_cursor *cur)
{
	struct gcur *c = (struct gcur *)cur;
	if (!c->probed)
		return scan_step(c);
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
	if ((col == C_PID || col == C_TID) && pid < 0) { /* a system path */
		sqlite3_result_null(ctx);
		return SQLITE_OK;
	}
	switch (col) {
	case C_SID:
		sqlite3_result_int64(ctx, c->g.snapshot_id);
		break;
	case C_PATH:
		sqlite3_result_text(ctx, path, -1, SQLITE_TRANSIENT);
		break;
	case C_PID:
		sqlite3_result_int64(ctx, pid);
		break;
	case C_TID:
		result_tid(ctx, path);
		break;
	case C_PATH_ID:
		sqlite3_result_int64(ctx, c->g.path_id[c->i]);
		break;
	}
	return SQLITE_OK;
}

static int gvt_rowid(sqlite3_vtab_cursor *cur, sqlite3_int64 *rowid)
{
	/* the row's identity across filters: snapshot and path number */
	struct gcur *c = (struct gcur *)cur;
	int64_t sid = c->probed ? c->g.snapshot_id : sqlite3_column_int64(c->q, C_SID);
	int64_t pid = c->probed ? c->g.path_id[c->i] : sqlite3_column_int64(c->q, C_PATH_ID);
	*rowid = (sqlite3_int64)((uint64_t)sid << 40 | (uint64_t)pid);
	return SQLITE_OK;
}

/* One module under two names: files_glob(), eponymous (aux NULL), and
 * ps_files, created as temp.files (aux non-NULL).  Both can be created
 * (xCreate): every connection that has them is read-only by then. */
static const sqlite3_module files_module = {
    .iVersion = 0,
    .xCreate = gvt_connect,
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
	static const int files_aux = 1;
	if (sqlite3_create_module(db, "files_glob", &files_module, NULL) != SQLITE_OK ||
	    sqlite3_create_module(db, "ps_files", &files_module, (void *)&files_aux) != SQLITE_OK)
		return ps_sql_err(err, db, "files_glob");
	return 0;
}

/* Lift query_only (when set) for one statement that writes temp, and set it
 * again. */
static int exec_in_temp(struct sqlite3 *db, const char *sql, struct ps_err *err)
{
	sqlite3_stmt *q = NULL;
	int ro = 0;
	if (sqlite3_prepare_v2(db, "PRAGMA query_only", -1, &q, NULL) == SQLITE_OK &&
	    sqlite3_step(q) == SQLITE_ROW)
		ro = sqlite3_column_int(q, 0);
	sqlite3_finalize(q);
	int rc = (!ro || ps_db_exec(db, "PRAGMA query_only = 0", err) == 0) &&
			 ps_db_exec(db, sql, err) == 0
		     ? 0
		     : -1;
	if (ro && ps_db_exec(db, "PRAGMA query_only = 1", rc < 0 ? NULL : err) < 0)
		rc = -1;
	return rc;
}

int ps_index_files_vtab(struct sqlite3 *db, struct ps_err *err)
{
	sqlite3_stmt *q = NULL;
	int wanted = 0;
	/* a procsnap index in main (its paths), and no union view in temp */
	if (sqlite3_prepare_v2(db,
			       "SELECT EXISTS (SELECT 1 FROM main.sqlite_schema WHERE name = "
			       "'paths') AND NOT EXISTS (SELECT 1 FROM temp.sqlite_schema WHERE "
			       "name = 'files')",
			       -1, &q, NULL) == SQLITE_OK &&
	    sqlite3_step(q) == SQLITE_ROW)
		wanted = sqlite3_column_int(q, 0);
	sqlite3_finalize(q);
	if (!wanted)
		return 0;
	return exec_in_temp(db, "CREATE VIRTUAL TABLE temp.files USING ps_files", err);
}

int ps_index_files_vtab_drop(struct sqlite3 *db, struct ps_err *err)
{
	return exec_in_temp(db, "DROP TABLE IF EXISTS temp.files", err);
}

int ps_files_vtab_plan_ok(struct sqlite3 *db, const char *sql)
{
	char *eqp = sqlite3_mprintf("EXPLAIN QUERY PLAN %s", sql);
	sqlite3_stmt *q = NULL;
	int loops = 0, by_path = 0, unkeyed = 0;
	if (eqp && sqlite3_prepare_v2(db, eqp, -1, &q, NULL) == SQLITE_OK) {
		while (sqlite3_step(q) == SQLITE_ROW) {
			/* "SCAN f VIRTUAL TABLE INDEX <idxNum>:<idxStr>" */
			static const char vt[] = "VIRTUAL TABLE INDEX ";
			const char *d = (const char *)sqlite3_column_text(q, 3);
			const char *at = d ? strstr(d, vt) : NULL;
			if (!at)
				continue;
			char *end;
			long idx = strtol(at + sizeof(vt) - 1, &end, 10);
			if (!(idx & PLAN_FILES))
				continue; /* files_glob() */
			loops++;
			if (!(idx & PLAN_SQL))
				by_path = 1;
			else if (!strstr(end, " AND pid = ?"))
				unkeyed = 1;
		}
	}
	sqlite3_finalize(q);
	sqlite3_free(eqp);
	return loops == 0 || (by_path && !unkeyed);
}
