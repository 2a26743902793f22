/*
 * cmd_query.c - SQL over snapshots: `query` (read-only, one or many
 * snapshots) and the command line of `merge` (store.h ps_index_merge).
 *
 * Every index is opened as hostile input by store/indexdb.c (defensive,
 * immutable, schema checked).  One SNAP is queried as `main`, opened by
 * ps_snap_open.  Several are attached (ps_index_attach) to a defensive
 * in-memory database (ps_index_open_memory), and TEMP views named like
 * each table UNION ALL them, shifting snapshot_id so that every (file,
 * snapshot) pair keeps a distinct id; a TEMP `snapshots` view adds the file
 * each id came from.  PRAGMA query_only then forbids any write, and each
 * statement is checked with sqlite3_stmt_readonly before it runs.
 */
#include "cli.h"

#include "common.h"
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char query_help[] =
    "usage: procsnap query [--format table|csv|json] [--] SNAP... SQL\n"
    "       procsnap query [--format table|csv|json] -f FILE|- [--] SNAP...\n"
    "Run SQL (SELECT, WITH, EXPLAIN...) over one or more snapshots, each named by\n"
    "its archive or its index, opened read-only: a statement that would write\n"
    "(INSERT, UPDATE, DROP...) is refused.  With several snapshots every table\n"
    "is a view over all of them; snapshot_id tells them apart and the\n"
    "`snapshots` view has a `file` column naming the index each id came from.\n"
    "Options come first: the first SNAP ends them (so does `--`, also right\n"
    "after a SNAP).  The last operand is the SQL, whatever it starts with\n"
    "(`-- a comment` too); every operand before it is a SNAP.  With -f, the SQL\n"
    "is read from FILE (`-`: stdin) and every operand is a SNAP.\n"
    "  -F, --format FMT  table (aligned, default), csv (RFC 4180) or json (an\n"
    "                    array of objects per statement)\n"
    "  -f, --file FILE   read the SQL from FILE, or from stdin with -\n"
    "osquery's SQL functions (regex_match, split, concat_ws, sha256...) are there.\n"
    "Text from a snapshot is escaped for the terminal (CSV only when stdout is one).\n"
    "An index whose schema is not procsnap's own is refused.\n"
    "Tables and columns: schema/README.md.  Exit 0 (also for zero rows), 2 on error.\n";

static const char merge_help[] =
    "usage: procsnap merge [--force] OUT.db SNAP...\n"
    "Write one index holding every snapshot of the SNAPs (archives or indexes),\n"
    "each under a new snapshot_id, in procsnap's own schema (rows are copied; no\n"
    "SQL of an input runs).  OUT.db is written under a temporary name, mode 0600,\n"
    "and renamed; an existing OUT.db is replaced only with --force.\n";

/* ---- output ---------------------------------------------------------------- */

struct table_out {
	int ncol;
	/* the escaped cells (no NUL in one), each NUL-terminated, back to back
	 * in row order, row 0 the header: printing walks them in turn */
	struct ps_buf text;
	uint32_t *cellw; /* (nrows + 1) * ncol display widths */
	size_t *widths;
	size_t nrows, cap;
	int *numeric; /* column holds only numbers (right-aligned) */
};

/* A cell escaped for a terminal (ps_buf_add_term), so a value can neither
 * break the layout nor reach the terminal raw; one buffer for every cell
 * (not an allocation each: 170,000 cells for 10,000 rows of `files`). */
static void table_add(struct table_out *t, size_t row, int col, const unsigned char *s, size_t n)
{
	size_t idx = row * (size_t)t->ncol + (size_t)col;
	size_t w = ps_buf_add_term(&t->text, (const char *)s, n);
	ps_buf_addc(&t->text, '\0');
	/* clamped, and the column's width taken from what is kept, so that
	 * widths - cellw never wraps (SQLITE_LIMIT_LENGTH keeps a cell far
	 * below 4 Gi columns on an index connection) */
	t->cellw[idx] = w > UINT32_MAX ? UINT32_MAX : (uint32_t)w;
	if (t->cellw[idx] > t->widths[col])
		t->widths[col] = t->cellw[idx];
}

static void table_grow(struct table_out *t)
{
	if (t->nrows + 1 < t->cap)
		return;
	t->cap = t->cap ? t->cap * 2 : 64;
	t->cellw = ps_xrealloc(t->cellw, t->cap * (size_t)t->ncol * sizeof(*t->cellw));
}

static void spaces(size_t n)
{
	static const char sp[64] = "                                                               ";
	for (; n > 0; n -= n < 63 ? n : 63)
		fwrite(sp, 1, n < 63 ? n : 63, stdout);
}

static void table_print(const struct table_out *t)
{
	const char *cell = t->text.buf;
	for (size_t r = 0; r <= t->nrows; r++) {
		for (int c = 0; c < t->ncol; c++) {
			size_t idx = r * (size_t)t->ncol + (size_t)c;
			size_t pad = t->widths[c] - t->cellw[idx];
			int right = r > 0 && t->numeric[c];
			if (c)
				fputs("  ", stdout);
			if (right)
				spaces(pad);
			fputs(cell, stdout);
			cell += strlen(cell) + 1;
			if (!right && c + 1 < t->ncol)
				spaces(pad);
		}
		fputc('\n', stdout);
		if (r == 0) {
			for (int c = 0; c < t->ncol; c++) {
				if (c)
					fputs("  ", stdout);
				for (size_t i = 0; i < t->widths[c]; i++)
					fputc('-', stdout);
			}
			fputc('\n', stdout);
		}
	}
}

static void table_free(struct table_out *t)
{
	ps_buf_release(&t->text);
	free(t->cellw);
	free(t->widths);
	free(t->numeric);
}

/* A cell for an aligned table (`ps`'s), escaped for a terminal
 * (ps_buf_add_term) so a value can neither break the layout nor reach the
 * terminal raw; *width = its display columns. */
char *cli_table_cell(const unsigned char *s, size_t n, size_t *width)
{
	struct ps_buf b = PS_BUF_INIT;
	*width = ps_buf_add_term(&b, (const char *)s, n);
	return ps_buf_detach(&b, NULL);
}

/* RFC 4180: quote a field holding a comma, quote, CR or LF; double quotes.
 * term: stdout is a terminal, so the field is first escaped for it
 * (ps_buf_add_term); piped or redirected, CSV carries the bytes verbatim. */
static void csv_field(const char *s, size_t n, int term)
{
	struct ps_buf e = PS_BUF_INIT;
	if (term) {
		ps_buf_add_term(&e, s, n);
		s = e.buf;
		n = e.len;
	}
	int q = 0;
	for (size_t i = 0; i < n && !q; i++)
		q = s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n';
	if (!q) {
		fwrite(s, 1, n, stdout);
	} else {
		fputc('"', stdout);
		for (size_t i = 0; i < n; i++) {
			if (s[i] == '"')
				fputc('"', stdout);
			fputc(s[i], stdout);
		}
		fputc('"', stdout);
	}
	ps_buf_release(&e);
}

void cli_csv_field(const char *s, size_t n, int term)
{
	csv_field(s, n, term);
}

/* Column c of the current row as a JSON value: NULL, a number, or a string
 * (ps_buf_add_json's escaping). */
static void json_value(struct ps_json *j, struct sqlite3_stmt *st, int c)
{
	switch (sqlite3_column_type(st, c)) {
	case SQLITE_NULL:
		ps_json_null(j);
		break;
	case SQLITE_INTEGER:
		ps_json_int(j, sqlite3_column_int64(st, c));
		break;
	case SQLITE_FLOAT:
		ps_json_double(j, sqlite3_column_double(st, c));
		break;
	default: {
		const char *s = (const char *)sqlite3_column_blob(st, c);
		ps_json_str(j, s ? s : "", (size_t)sqlite3_column_bytes(st, c));
		break;
	}
	}
}

int cli_parse_format(const char *s, enum fmt *out)
{
	static const char *const names[] = {"table", "csv", "json"};
	for (int i = 0; i < 3; i++) {
		if (strcmp(s, names[i]) == 0) {
			*out = (enum fmt)i;
			return 0;
		}
	}
	return -1;
}

void cli_json_row(struct ps_buf *b, struct sqlite3_stmt *st)
{
	struct ps_json j;
	ps_json_init(&j, b);
	ps_json_obj(&j);
	for (int c = 0; c < sqlite3_column_count(st); c++) {
		const char *name = sqlite3_column_name(st, c);
		ps_json_key(&j, name ? name : "");
		json_value(&j, st, c);
	}
	ps_json_obj_end(&j);
}

/* Run one prepared statement and print its rows.  0 or -1 (message printed). */
static int run_stmt(sqlite3 *db, sqlite3_stmt *st, enum fmt fmt, int *first_set)
{
	int ncol = sqlite3_column_count(st);
	int term = fmt == FMT_CSV && isatty(STDOUT_FILENO);
	struct table_out t;
	struct ps_buf jb = PS_BUF_INIT;
	memset(&t, 0, sizeof(t));
	if (ncol > 0 && fmt == FMT_TABLE) {
		t.ncol = ncol;
		t.widths = ps_xcalloc((size_t)ncol, sizeof(*t.widths));
		t.numeric = ps_xcalloc((size_t)ncol, sizeof(*t.numeric));
		table_grow(&t);
		for (int c = 0; c < ncol; c++) {
			const char *name = sqlite3_column_name(st, c);
			table_add(&t, 0, c, (const unsigned char *)(name ? name : ""),
				  name ? strlen(name) : 0);
			t.numeric[c] = 1;
		}
	} else if (ncol > 0 && fmt == FMT_CSV) {
		if (!*first_set)
			fputs("\r\n", stdout);
		for (int c = 0; c < ncol; c++) {
			const char *name = sqlite3_column_name(st, c);
			if (c)
				fputc(',', stdout);
			csv_field(name ? name : "", name ? strlen(name) : 0, term);
		}
		fputs("\r\n", stdout);
	} else if (ncol > 0) {
		fputc('[', stdout);
	}
	int r, nrow = 0;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		if (fmt == FMT_TABLE) {
			table_grow(&t);
			t.nrows++;
			for (int c = 0; c < ncol; c++) {
				int ty = sqlite3_column_type(st, c);
				const unsigned char *s = sqlite3_column_text(st, c);
				size_t n = (size_t)sqlite3_column_bytes(st, c);
				if (ty != SQLITE_NULL && ty != SQLITE_INTEGER && ty != SQLITE_FLOAT)
					t.numeric[c] = 0;
				table_add(&t, t.nrows, c, s ? s : (const unsigned char *)"",
					  s ? n : 0);
			}
		} else if (fmt == FMT_CSV) {
			for (int c = 0; c < ncol; c++) {
				const char *s = (const char *)sqlite3_column_text(st, c);
				if (c)
					fputc(',', stdout);
				if (s)
					csv_field(s, (size_t)sqlite3_column_bytes(st, c), term);
			}
			fputs("\r\n", stdout);
		} else {
			ps_buf_reset(&jb);
			ps_buf_adds(&jb, nrow ? ",\n" : "\n");
			cli_json_row(&jb, st);
			fwrite(jb.buf, 1, jb.len, stdout);
		}
		nrow++;
	}
	int rc = 0;
	if (r != SQLITE_DONE) {
		rc = -1;
		cli_fail("query", "%s", sqlite3_errmsg(db));
	}
	if (ncol > 0 && fmt == FMT_TABLE) {
		if (rc == 0) {
			if (!*first_set)
				fputc('\n', stdout);
			table_print(&t);
		}
		table_free(&t);
	} else if (ncol > 0 && fmt == FMT_JSON) {
		fputs(nrow ? "\n]\n" : "]\n", stdout);
	}
	if (ncol > 0)
		*first_set = 0;
	ps_buf_release(&jb);
	return rc;
}

/* Run every statement of sql.  0 or -1. */
static int run_sql(sqlite3 *db, const char *sql, enum fmt fmt, int files_vtab)
{
	const char *tail = sql;
	int first_set = 1;
	while (tail && *tail) {
		sqlite3_stmt *st = NULL;
		const char *start = tail, *why = NULL;
		ps_db_guard(db, 1, &why);
		int prc = sqlite3_prepare_v2(db, start, -1, &st, &tail);
		ps_db_guard(db, 0, NULL);
		if (prc != SQLITE_OK) {
			cli_fail("query", "%s", why ? why : sqlite3_errmsg(db));
			return -1;
		}
		if (!st)
			continue; /* blank or comment */
		if (files_vtab && !ps_files_vtab_plan_ok(db, sqlite3_sql(st))) {
			/* the view serves this statement better: back to it */
			struct ps_err err = {0, ""};
			sqlite3_finalize(st);
			files_vtab = 0;
			if (ps_index_files_vtab_drop(db, &err) < 0) {
				cli_fail("query", "%s", err.msg);
				return -1;
			}
			tail = start;
			continue;
		}
		if (!sqlite3_stmt_readonly(st)) {
			size_t n = (size_t)(tail - start);
			while (n && (start[0] == ' ' || start[0] == '\n' || start[0] == '\t')) {
				start++;
				n--;
			}
			cli_fail("query",
				 "refused: snapshots are opened read-only and this statement "
				 "would write: %.*s",
				 (int)(n > 60 ? 60 : n), start);
			sqlite3_finalize(st);
			return -1;
		}
		int rc = run_stmt(db, st, fmt, &first_set);
		sqlite3_finalize(st);
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* ---- several snapshots ------------------------------------------------------ */

static int exec(sqlite3 *db, const char *cmd, const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		cli_fail(cmd, "%s", msg ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

/* Largest snapshot_id in schema `name` (0 if none, -1 on error). */
static int64_t max_snapshot(sqlite3 *db, const char *name)
{
	sqlite3_stmt *st;
	int64_t v = -1;
	char *sql =
	    sqlite3_mprintf("SELECT coalesce(max(snapshot_id), 0) FROM \"%w\".snapshots", name);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			v = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	sqlite3_free(sql);
	return v;
}

/* Column list of `schema`.`table` with snapshot_id shifted by `off`:
 * "(snapshot_id + 3) AS snapshot_id, "pid", ..." (off < 0: no shift). */
static int select_list(sqlite3 *db, const char *schema, const char *table, int64_t off,
		       struct ps_buf *out)
{
	sqlite3_stmt *st;
	ps_buf_reset(out);
	if (sqlite3_prepare_v2(db, "SELECT name FROM pragma_table_info(?1, ?2)", -1, &st, NULL) !=
	    SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, schema, -1, SQLITE_STATIC);
	int n = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *c = (const char *)sqlite3_column_text(st, 0);
		if (!c)
			continue;
		char *q = sqlite3_mprintf("\"%w\"", c);
		if (n++)
			ps_buf_adds(out, ", ");
		if (off >= 0 && strcmp(c, "snapshot_id") == 0)
			ps_buf_addf(out, "(snapshot_id + %lld) AS snapshot_id", (long long)off);
		else
			ps_buf_adds(out, q);
		sqlite3_free(q);
	}
	sqlite3_finalize(st);
	return n > 0 ? 0 : -1;
}

/* Names of the tables and views of schema `name` (NULL-terminated, malloc'ed). */
static char **schema_objects(sqlite3 *db, const char *name, const char *types)
{
	sqlite3_stmt *st;
	char **v = ps_xcalloc(1, sizeof(*v));
	size_t n = 0;
	char *sql = sqlite3_mprintf("SELECT name FROM \"%w\".sqlite_master WHERE type IN (%s) AND "
				    "name NOT LIKE 'sqlite_%%' ORDER BY rowid",
				    name, types);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
		while (sqlite3_step(st) == SQLITE_ROW) {
			const char *t = (const char *)sqlite3_column_text(st, 0);
			v = ps_xrealloc(v, (n + 2) * sizeof(*v));
			v[n++] = ps_xstrdup(t ? t : "");
			v[n] = NULL;
		}
		sqlite3_finalize(st);
	}
	sqlite3_free(sql);
	return v;
}

static void free_names(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

/* Index file behind an opened snapshot. */
static const char *snap_index_path(struct ps_snap *s)
{
	const char *f = sqlite3_db_filename(ps_snap_db(s), "main");
	return f && *f ? f : NULL;
}

/* A snapshot of the attached s<i+1> (by its UUID) that an earlier input
 * brought already: its path and UUID are named (one line) and -1, or
 * every count over the union would take it twice.  0 when none. */
static int dup_input(sqlite3 *db, const char *cmd, int i, const char *path)
{
	struct ps_buf sql = PS_BUF_INIT;
	ps_buf_addf(&sql, "SELECT snapshot_uuid FROM s%d.snapshots WHERE snapshot_uuid IN (",
		    i + 1);
	for (int k = 0; k < i; k++)
		ps_buf_addf(&sql, "%sSELECT snapshot_uuid FROM s%d.snapshots",
			    k ? " UNION ALL " : "", k + 1);
	ps_buf_adds(&sql, ") LIMIT 1");
	sqlite3_stmt *q;
	int rc = 0;
	if (sqlite3_prepare_v2(db, sql.buf, -1, &q, NULL) != SQLITE_OK) {
		rc = -1;
		cli_fail(cmd, "%s: %s", path, sqlite3_errmsg(db));
	} else if (sqlite3_step(q) == SQLITE_ROW) {
		rc = -1;
		cli_fail(cmd,
			 "%s: snapshot %s is already among the inputs (each snapshot is taken "
			 "once)",
			 path, (const char *)sqlite3_column_text(q, 0));
	}
	sqlite3_finalize(q);
	ps_buf_release(&sql);
	return rc;
}

/* An in-memory main with every snapshot attached and the union views. */
static sqlite3 *open_union(const char *cmd, struct ps_snap **snaps, int n)
{
	sqlite3 *db = NULL;
	struct ps_err err = {0, ""};
	if (ps_index_open_memory(&db, &err) < 0) {
		cli_fail(cmd, "%s", err.msg);
		return NULL;
	}
	int max = sqlite3_limit(db, SQLITE_LIMIT_ATTACHED, -1);
	if (n > max) {
		cli_fail(cmd,
			 "at most %d snapshots at once (this SQLite's attach limit); "
			 "combine them first with procsnap merge",
			 max);
		sqlite3_close(db);
		return NULL;
	}
	int64_t *off = ps_xcalloc((size_t)n, sizeof(*off));
	char name[32];
	int64_t next = 0;
	for (int i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "s%d", i + 1);
		const char *path = snap_index_path(snaps[i]);
		if (!path)
			goto fail;
		if (ps_index_attach(db, path, name, &err) < 0) {
			cli_fail(cmd, "%s", err.msg);
			goto fail;
		}
		if (i && dup_input(db, cmd, i, path) < 0)
			goto fail;
		int64_t mx = max_snapshot(db, name);
		if (mx < 0) {
			cli_fail(cmd, "%s: no snapshots table", path);
			goto fail;
		}
		off[i] = next;
		next += mx;
	}
	char **objs = schema_objects(db, "s1", "'table','view'");
	struct ps_buf sql = PS_BUF_INIT, cols = PS_BUF_INIT;
	int ok = 1;
	for (size_t k = 0; ok && objs[k]; k++) {
		int snaps_view = strcmp(objs[k], "snapshots") == 0;
		char *q = sqlite3_mprintf("\"%w\"", objs[k]);
		ps_buf_reset(&sql);
		ps_buf_addf(&sql, "CREATE TEMP VIEW %s AS ", q);
		for (int i = 0; ok && i < n; i++) {
			snprintf(name, sizeof(name), "s%d", i + 1);
			if (select_list(db, name, objs[k], off[i], &cols) < 0) {
				cli_fail(cmd, "%s: no table %s (snapshots of different schemas?)",
					 snap_index_path(snaps[i]), objs[k]);
				ok = 0;
				break;
			}
			if (i)
				ps_buf_adds(&sql, " UNION ALL ");
			ps_buf_addf(&sql, "SELECT %s", cols.buf);
			if (snaps_view) {
				char *f =
				    sqlite3_mprintf(", %Q AS file, snapshot_id AS file_snapshot_id",
						    snap_index_path(snaps[i]));
				ps_buf_adds(&sql, f);
				sqlite3_free(f);
			}
			ps_buf_addf(&sql, " FROM %s.%s", name, q);
		}
		sqlite3_free(q);
		if (ok && exec(db, cmd, sql.buf) < 0)
			ok = 0;
	}
	free_names(objs);
	ps_buf_release(&sql);
	ps_buf_release(&cols);
	if (!ok)
		goto fail;
	free(off);
	return db;
fail:
	free(off);
	sqlite3_close(db);
	return NULL;
}

int cli_snaps_open(const char *cmd, int n, char **paths, struct cli_snaps *out)
{
	return cli_snaps_open_with(cmd, 0, n, paths, out);
}

int cli_snaps_open_with(const char *cmd, unsigned flags, int n, char **paths, struct cli_snaps *out)
{
	struct ps_err err = {0, ""};
	out->n = n;
	out->snaps = ps_xcalloc((size_t)(n > 0 ? n : 1), sizeof(*out->snaps));
	out->db = NULL;
	for (int i = 0; i < n; i++) {
		if (ps_snap_open_with(paths[i], flags, &out->snaps[i], &err) < 0) {
			cli_fail(cmd, "%s", err.msg);
			goto fail;
		}
	}
	out->db = n == 1 ? ps_snap_db(out->snaps[0]) : open_union(cmd, out->snaps, n);
	if (out->db && exec(out->db, cmd, "PRAGMA query_only = 1") == 0)
		return 0;
fail:
	cli_snaps_close(out);
	return 2;
}

void cli_snaps_close(struct cli_snaps *s)
{
	if (s->n > 1 && s->db)
		sqlite3_close(s->db);
	for (int i = 0; s->snaps && i < s->n; i++)
		ps_snap_close(s->snaps[i]);
	free(s->snaps);
	s->snaps = NULL;
	s->db = NULL;
	s->n = 0;
}

/* Largest SQL file (-f): SQLite's own limit on a statement text (indexdb.c). */
#define SQL_FILE_MAX (1u << 20)

/* The SQL of -f FILE ("-": stdin) into b.  0, or 2 with one line printed. */
static int read_sql_file(const char *path, struct ps_buf *b)
{
	int truncated = 0, e = 0;
	/* a plain blocking open: FILE may be a symlink or a pipe (<(...)) */
	int fd = strcmp(path, "-") == 0 ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		e = errno;
	else
		e = ps_read_fd(fd, b, SQL_FILE_MAX + 1, &truncated);
	if (fd > STDIN_FILENO)
		close(fd);
	if (e)
		return cli_fail("query", "%s: %s", path, strerror(e));
	if (truncated || b->len > SQL_FILE_MAX)
		return cli_fail("query", "%s: more than %u bytes of SQL", path, SQL_FILE_MAX);
	if (memchr(b->buf, '\0', b->len))
		return cli_fail("query", "%s: not SQL text (holds a NUL byte)", path);
	return 0;
}

/*
 * Operands: options come first (getopt stops at the first operand, "+"), so
 * SQL that starts with "-" ("-- a comment", "-1") is never taken for one.
 * One "--" among the operands is the end-of-options marker too (`query SNAP
 * -- SQL`) and is dropped.  Without -f the last operand is the SQL and the
 * others are SNAPs; with -f every operand is a SNAP.
 */
int cmd_query(const struct ps_cli *cli, int argc, char **argv)
{
	(void)cli;
	static const struct option longopts[] = {{"format", required_argument, NULL, 'F'},
						 {"file", required_argument, NULL, 'f'},
						 {"help", no_argument, NULL, 'h'},
						 {NULL, 0, NULL, 0}};
	enum fmt fmt = FMT_TABLE;
	const char *file = NULL;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+F:f:h", longopts, NULL)) != -1) {
		if (c == 'F') {
			if (cli_parse_format(optarg, &fmt) < 0)
				return cli_usage("query", "unknown format '%s' (table, csv, json)",
						 optarg);
		} else if (c == 'f') {
			file = optarg;
		} else if (c == 'h') {
			fputs(query_help, stdout);
			return 0;
		} else {
			return cli_bad_option("query", "+F:f:h", longopts, argv);
		}
	}
	int nops = argc - optind;
	char **ops = ps_xcalloc((size_t)(nops > 0 ? nops : 1), sizeof(*ops));
	int n = 0, dashdash = 0;
	for (int i = optind; i < argc; i++) {
		/* the last operand is the SQL: a "--" there is SQL (an empty comment) */
		if (!dashdash && strcmp(argv[i], "--") == 0 && (file || i + 1 < argc)) {
			dashdash = 1;
			continue;
		}
		ops[n++] = argv[i];
	}
	struct ps_buf sqlbuf = PS_BUF_INIT;
	const char *sql;
	int nsnap, rc = 2;
	if (file) {
		nsnap = n;
		if (nsnap < 1) {
			rc = cli_usage("query", "expects SNAP... (the SQL comes from -f %s)", file);
			goto out;
		}
		if ((rc = read_sql_file(file, &sqlbuf)) != 0)
			goto out;
		sql = sqlbuf.buf;
	} else {
		nsnap = n - 1;
		if (nsnap < 1) {
			rc = cli_usage("query", "expects SNAP... and SQL (or -f FILE)");
			goto out;
		}
		sql = ops[n - 1];
	}
	struct cli_snaps ss;
	rc = 2;
	if (cli_snaps_open("query", nsnap, ops, &ss) != 0)
		goto out;
	/* one index: `files` is the virtual table that takes a path GLOB */
	struct ps_err err = {0, ""};
	if (nsnap == 1 && ps_index_files_vtab(ss.db, &err) < 0)
		cli_fail("query", "%s", err.msg);
	else
		rc = run_sql(ss.db, sql, fmt, nsnap == 1) == 0 ? 0 : 2;
	cli_snaps_close(&ss);
out:
	ps_buf_release(&sqlbuf);
	free(ops);
	return rc;
}

/* ---- merge (store/merge.c) ------------------------------------------------- */

int cmd_merge(const struct ps_cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {{"force", no_argument, NULL, 'f'},
						 {"help", no_argument, NULL, 'h'},
						 {NULL, 0, NULL, 0}};
	int force = 0, c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "fh", longopts, NULL)) != -1) {
		if (c == 'f')
			force = 1;
		else if (c == 'h') {
			fputs(merge_help, stdout);
			return 0;
		} else
			return cli_bad_option("merge", "fh", longopts, argv);
	}
	if (argc - optind < 2)
		return cli_usage("merge", "expects OUT.db and at least one SNAP");
	const char *out = argv[optind];
	int nsrc = argc - optind - 1;
	if (cli_refuse_input("merge", out, argv + optind + 1, nsrc))
		return 2;
	/* The work runs in a child; a signal removes OUT.tmp.PID (supervise.c). */
	int src = cli_supervise("merge");
	if (src >= 0)
		return src;
	struct ps_err err = {0, ""};
	cli_tmp_index(out, 1);
	int mr = ps_index_merge(out, (const char *const *)(argv + optind + 1), nsrc, force, &err);
	cli_tmp_index(out, 0);
	if (mr < 0)
		return cli_fail("merge", "%s", err.msg);
	if (cli->verbosity)
		fprintf(stderr, "procsnap: merge: %s written from %d snapshot files\n", out, nsrc);
	return 0;
}
