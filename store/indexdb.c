/*
 * indexdb.c - every SQLite connection that reads an index procsnap did not
 * just write: an index is hostile input, data and never code.
 *
 * Following SQLite's "Defense Against The Dark Arts" (security.html) for
 * untrusted database files:
 *   - SQLITE_DBCONFIG_DEFENSIVE on (no writable_schema, no journal_mode=OFF,
 *     no sqlite_dbpage writes), SQLITE_DBCONFIG_TRUSTED_SCHEMA off (functions
 *     not tagged innocuous cannot run from a view, trigger, default, CHECK or
 *     generated column), no extension loading, no fts3_tokenizer pointers;
 *     triggers off on read-only connections (a read never fires one; off,
 *     one can never fire);
 *   - PRAGMA cell_size_check=ON, mmap_size=0 (no memory-mapped I/O of a
 *     crafted file), and an explicit cache_size, which also overrides the
 *     "suggested cache size" a crafted header may carry;
 *   - lower limits: one string or blob (SQLITE_LIMIT_LENGTH) and one SQL
 *     text (SQLITE_LIMIT_SQL_LENGTH);
 *   - opened by URI with mode=ro&immutable=1: no lock, no hot-journal
 *     rollback and no -wal/-shm file is ever created beside an input.
 * Then the schema is compared with procsnap's own (what SQLite recorded for
 * the embedded SQL of schema/ at build time, schema_ref_gen.c): the same
 * objects (type, name, table) with the same
 * SQL text up to comments and white space, and the same user_version.  Any
 * extra trigger, view, table or index, or a changed definition, refuses the
 * file, so no SQL text of an input ever runs.
 *
 * Both entry points also register osquery's SQL functions (sqlfuncs.c): the
 * connections `query`, `triage`, `diff` and `export` read through.
 */
#include "store.h"
#include "store_int.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Largest string or blob: far above any value procsnap stores (a command
 * line is at most 6 MiB, 3/4 of _STK_LIM, fs/exec.c), far below memory. */
#define INDEX_LENGTH_MAX (32 << 20)
/* Largest SQL text: user queries, triage rules, schema statements. */
#define INDEX_SQL_MAX (1 << 20)
/* Page cache per attached index, KiB (PRAGMA cache_size=-N). */
#define INDEX_CACHE_KIB 16384

static int set_config(sqlite3 *db, int op, int value)
{
	int got = -1;
	return sqlite3_db_config(db, op, value, &got) == SQLITE_OK && got == value ? 0 : -1;
}

int ps_db_exec(sqlite3 *db, const char *sql, struct ps_err *err)
{
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		ps_err_set(err, EIO, "sqlite: %s", msg ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

/* Per-schema settings after it is opened or attached. */
static int schema_settings(sqlite3 *db, const char *schema, struct ps_err *err)
{
	char *sql = sqlite3_mprintf("PRAGMA \"%w\".cache_size = -%d; PRAGMA \"%w\".mmap_size = 0",
				    schema, INDEX_CACHE_KIB, schema);
	int rc = ps_db_exec(db, sql, err);
	sqlite3_free(sql);
	return rc;
}

int ps_db_harden(sqlite3 *db, int writable, struct ps_err *err)
{
	if (set_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1) < 0 ||
	    set_config(db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0) < 0 ||
	    set_config(db, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0) < 0 ||
	    set_config(db, SQLITE_DBCONFIG_ENABLE_FTS3_TOKENIZER, 0) < 0 ||
	    set_config(db, SQLITE_DBCONFIG_WRITABLE_SCHEMA, 0) < 0 ||
	    set_config(db, SQLITE_DBCONFIG_ENABLE_TRIGGER, writable ? 1 : 0) < 0)
		return ps_err_set(err, EIO, "sqlite: cannot make the connection defensive");
	sqlite3_limit(db, SQLITE_LIMIT_LENGTH, INDEX_LENGTH_MAX);
	sqlite3_limit(db, SQLITE_LIMIT_SQL_LENGTH, INDEX_SQL_MAX);
	return ps_db_exec(db, "PRAGMA trusted_schema = OFF; PRAGMA cell_size_check = ON", err);
}

/* PRAGMAs whose argument names what to describe, not a new setting. */
static const char *const describe_pragmas[] = {"table_info",  "table_xinfo", "index_info",
					       "index_xinfo", "index_list",  "foreign_key_list",
					       NULL};

static int guard_auth(void *ctx, int action, const char *a1, const char *a2, const char *db,
		      const char *trigger)
{
	const char **why = ctx;
	const char *no = NULL;
	(void)db;
	(void)trigger;
	if (action == SQLITE_ATTACH || action == SQLITE_DETACH) {
		no = "refused: snapshots are opened read-only and checked; ATTACH and DETACH are "
		     "not (name each snapshot on the command line)";
	} else if (action == SQLITE_PRAGMA && a2) {
		for (const char *const *d = describe_pragmas; *d; d++)
			if (a1 && sqlite3_stricmp(a1, *d) == 0)
				return SQLITE_OK;
		no = "refused: snapshots are opened read-only, with protections a PRAGMA given a "
		     "value would change";
	}
	if (!no)
		return SQLITE_OK;
	if (why)
		*why = no;
	return SQLITE_DENY;
}

void ps_db_guard(sqlite3 *db, int on, const char **why)
{
	if (why)
		*why = NULL;
	sqlite3_set_authorizer(db, on ? guard_auth : NULL, on ? (void *)why : NULL);
}

/* file:PATH?mode=ro&immutable=1, PATH percent-encoded (RFC 3986). */
static char *ro_uri(const char *path)
{
	struct ps_buf b = PS_BUF_INIT;
	ps_buf_adds(&b, "file:");
	for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("/-._~", *p))
			ps_buf_addc(&b, (char)*p);
		else
			ps_buf_addf(&b, "%%%02X", *p);
	}
	ps_buf_adds(&b, "?mode=ro&immutable=1");
	return ps_buf_detach(&b, NULL);
}

/* ---- the schema check -------------------------------------------------------- */

struct obj {
	char *type, *name, *tbl, *sql; /* sql normalized, NULL for automatic indexes */
};

struct objs {
	struct obj *v;
	size_t n;
};

/* SQL text without comments, white space runs as one space, trimmed:
 * the same statement however the schema file is laid out. */
static char *normalize_sql(const char *s)
{
	struct ps_buf b = PS_BUF_INIT;
	int space = 0;
	while (*s) {
		if (s[0] == '-' && s[1] == '-') {
			while (*s && *s != '\n')
				s++;
			space = 1;
		} else if (s[0] == '/' && s[1] == '*') {
			s += 2;
			while (*s && !(s[0] == '*' && s[1] == '/'))
				s++;
			if (*s)
				s += 2;
			space = 1;
		} else if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r' || *s == '\f' ||
			   *s == '\v') {
			s++;
			space = 1;
		} else {
			if (space && b.len)
				ps_buf_addc(&b, ' ');
			space = 0;
			char q = *s == '[' ? ']' : *s;
			if (q == '\'' || q == '"' || q == '`' || q == ']') {
				/* A quoted literal or name, verbatim; doubled quotes
				 * are two literals back to back, which is the same. */
				ps_buf_addc(&b, *s++);
				while (*s && *s != q)
					ps_buf_addc(&b, *s++);
				if (*s)
					ps_buf_addc(&b, *s++);
			} else {
				ps_buf_addc(&b, *s++);
			}
		}
	}
	return ps_buf_detach(&b, NULL);
}

static int obj_cmp(const void *a, const void *b)
{
	const struct obj *x = a, *y = b;
	int c = strcmp(x->type, y->type);
	return c ? c : strcmp(x->name, y->name);
}

static void objs_free(struct objs *o)
{
	for (size_t i = 0; i < o->n; i++) {
		free(o->v[i].type);
		free(o->v[i].name);
		free(o->v[i].tbl);
		free(o->v[i].sql);
	}
	free(o->v);
	o->v = NULL;
	o->n = 0;
}

static char *col_dup(sqlite3_stmt *q, int c)
{
	const char *t = (const char *)sqlite3_column_text(q, c);
	return t ? ps_xstrndup(t, (size_t)sqlite3_column_bytes(q, c)) : NULL;
}

/* Every object of `schema`, sorted.  Reading sqlite_master also makes
 * SQLite parse the schema: a malformed one fails here.  0 or -1. */
static int objs_read(sqlite3 *db, const char *schema, struct objs *o, struct ps_err *err)
{
	sqlite3_stmt *q = NULL;
	char *sql =
	    sqlite3_mprintf("SELECT type, name, tbl_name, sql FROM \"%w\".sqlite_master", schema);
	size_t cap = 0;
	int r = -1;
	o->v = NULL;
	o->n = 0;
	if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK) {
		ps_sql_err(err, db, "sqlite_master");
		goto out;
	}
	int st;
	while ((st = sqlite3_step(q)) == SQLITE_ROW) {
		PS_XGROW(o->v, o->n, cap, 64);
		struct obj *e = &o->v[o->n++];
		char *raw = col_dup(q, 3);
		e->type = col_dup(q, 0);
		e->name = col_dup(q, 1);
		e->tbl = col_dup(q, 2);
		e->sql = raw ? normalize_sql(raw) : NULL;
		free(raw);
		if (!e->type)
			e->type = ps_xstrdup("");
		if (!e->name)
			e->name = ps_xstrdup("");
	}
	if (st != SQLITE_DONE) {
		ps_sql_err(err, db, "sqlite_master");
		goto out;
	}
	qsort(o->v, o->n, sizeof(*o->v), obj_cmp);
	r = 0;
out:
	sqlite3_finalize(q);
	sqlite3_free(sql);
	if (r < 0)
		objs_free(o);
	return r;
}

static int streq_null(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* procsnap's own schema: what SQLite recorded when the build ran the
 * embedded SQL (schema_ref_gen.c), normalized and sorted as objs_read. */
static int reference(struct objs *o, struct ps_err *err)
{
	(void)err;
	size_t n = 0;
	while (ps_schema_ref[n].type)
		n++;
	o->v = ps_xcalloc(n ? n : 1, sizeof(*o->v));
	o->n = n;
	for (size_t i = 0; i < n; i++) {
		const struct ps_schema_obj *r = &ps_schema_ref[i];
		struct obj *e = &o->v[i];
		e->type = ps_xstrdup(r->type);
		e->name = ps_xstrdup(r->name ? r->name : "");
		e->tbl = r->tbl ? ps_xstrdup(r->tbl) : NULL;
		e->sql = r->sql ? normalize_sql(r->sql) : NULL;
	}
	qsort(o->v, o->n, sizeof(*o->v), obj_cmp);
	return 0;
}

/* One line naming how `schema` of db (the file `label`) differs from
 * procsnap's own schema, or 0 when it does not. */
static int check_schema(sqlite3 *db, const char *schema, const char *label, struct ps_err *err)
{
	sqlite3_stmt *q = NULL;
	char *sql = sqlite3_mprintf("PRAGMA \"%w\".user_version", schema);
	int ver = -1, r = -1;
	struct objs have = {NULL, 0}, want = {NULL, 0};
	if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW)
		ver = sqlite3_column_int(q, 0);
	sqlite3_finalize(q);
	sqlite3_free(sql);
	if (ver < 0) {
		ps_err_set(err, EINVAL, "%s: not a procsnap index (%s)", label, sqlite3_errmsg(db));
		goto out;
	}
	if (ver != PS_SCHEMA_VERSION) {
		ps_err_set(err, EINVAL,
			   "%s: index schema version %d, this procsnap reads %d; rebuild it with: "
			   "procsnap index --force ARCHIVE",
			   label, ver, PS_SCHEMA_VERSION);
		goto out;
	}
	if (objs_read(db, schema, &have, err) < 0) {
		ps_err_prefix(err, "%s: not a procsnap index", label);
		goto out;
	}
	if (reference(&want, err) < 0)
		goto out;
	size_t i = 0, j = 0;
	while (i < have.n || j < want.n) {
		int c = i == have.n ? 1 : j == want.n ? -1 : obj_cmp(&have.v[i], &want.v[j]);
		/* (names come from the file: the cli escapes the message) */
		const struct obj *e = c < 0 ? &have.v[i] : &want.v[j];
		if (c < 0)
			ps_err_set(
			    err, EINVAL,
			    "%s: refused: %s '%s' is not part of procsnap's schema (a crafted "
			    "or modified index)",
			    label, e->type, e->name);
		else if (c > 0)
			ps_err_set(err, EINVAL, "%s: not a procsnap index: %s '%s' is missing",
				   label, e->type, e->name);
		else if (!streq_null(have.v[i].tbl, want.v[j].tbl) ||
			 !streq_null(have.v[i].sql, want.v[j].sql))
			ps_err_set(err, EINVAL,
				   "%s: refused: %s '%s' differs from procsnap's schema (a crafted "
				   "or modified index)",
				   label, e->type, e->name);
		else
			c = 2;
		if (c != 2)
			goto out;
		i++;
		j++;
	}
	r = 0;
out:
	objs_free(&have);
	objs_free(&want);
	return r;
}

/* ---- the entry points ------------------------------------------------------- */

int ps_index_open_memory(sqlite3 **dbp, struct ps_err *err)
{
	sqlite3 *db = NULL;
	if (sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_URI, NULL) !=
	    SQLITE_OK) {
		ps_sql_err(err, db, "memory database");
		sqlite3_close(db);
		return -1;
	}
	if (ps_db_harden(db, 0, err) < 0 || ps_sqlfuncs_register(db, err) < 0 ||
	    ps_globvt_register(db, err) < 0) {
		sqlite3_close(db);
		return -1;
	}
	*dbp = db;
	return 0;
}

int ps_index_open(const char *path, sqlite3 **dbp, struct ps_err *err)
{
	sqlite3 *db = NULL;
	char *uri = ro_uri(path);
	int r = -1;
	if (sqlite3_open_v2(uri, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL) != SQLITE_OK) {
		ps_err_set(err, EIO, "%s: cannot open index: %s", path,
			   db ? sqlite3_errmsg(db) : "out of memory");
		goto out;
	}
	if (ps_db_harden(db, 0, err) < 0 || schema_settings(db, "main", err) < 0 ||
	    check_schema(db, "main", path, err) < 0 || ps_sqlfuncs_register(db, err) < 0 ||
	    ps_globvt_register(db, err) < 0 || ps_db_exec(db, "PRAGMA query_only = 1", err) < 0)
		goto out;
	*dbp = db;
	db = NULL;
	r = 0;
out:
	sqlite3_close(db);
	free(uri);
	return r;
}

int ps_index_attach(sqlite3 *db, const char *path, const char *schema, struct ps_err *err)
{
	sqlite3_stmt *q = NULL;
	char *uri = ro_uri(path);
	char *sql = sqlite3_mprintf("ATTACH ?1 AS \"%w\"", schema);
	int r = -1, attached = 0;
	if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) == SQLITE_OK) {
		sqlite3_bind_text(q, 1, uri, -1, SQLITE_STATIC);
		attached = sqlite3_step(q) == SQLITE_DONE;
	}
	sqlite3_finalize(q);
	sqlite3_free(sql);
	if (!attached) {
		ps_err_set(err, EIO, "%s: cannot attach the index: %s", path, sqlite3_errmsg(db));
		goto out;
	}
	if (schema_settings(db, schema, err) < 0 || check_schema(db, schema, path, err) < 0)
		goto out;
	r = 0;
out:
	if (r < 0 && attached) {
		sql = sqlite3_mprintf("DETACH \"%w\"", schema);
		sqlite3_exec(db, sql, NULL, NULL, NULL);
		sqlite3_free(sql);
	}
	free(uri);
	return r;
}
