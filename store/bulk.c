/*
 * bulk.c - rows inserted many per statement (bulk_int.h).
 */
#include "bulk_int.h"
#include "store_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int prepare(struct ps_bulk *b, sqlite3_stmt **st, const char *table, const char *const *cols,
		   int rows, struct ps_err *err)
{
	struct ps_buf sql = PS_BUF_INIT;
	ps_buf_addf(&sql, "INSERT%s INTO %s(snapshot_id", b->ignore ? " OR IGNORE" : "", table);
	for (int c = 0; c < b->ncols; c++)
		ps_buf_addf(&sql, ", \"%s\"", cols[c]);
	ps_buf_adds(&sql, ") VALUES ");
	for (int r = 0; r < rows; r++) {
		ps_buf_adds(&sql, r ? ", (1" : "(1");
		for (int c = 0; c < b->ncols; c++)
			ps_buf_addf(&sql, ", ?%d", r * b->ncols + c + 1);
		ps_buf_addc(&sql, ')');
	}
	int rc = 0;
	if (sqlite3_prepare_v3(b->db, sql.buf, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) !=
	    SQLITE_OK)
		rc = ps_sql_err(err, b->db, table);
	ps_buf_release(&sql);
	return rc;
}

static void clear_row(struct ps_bulk *b)
{
	struct ps_bulk_val *x = &b->v[(size_t)b->n * (size_t)b->ncols];
	for (int c = 0; c < b->ncols; c++)
		x[c].type = PS_BV_NULL;
}

int ps_bulk_open(struct ps_bulk *b, sqlite3 *db, const char *table, const char *const *cols,
		 int ignore, struct ps_err *err)
{
	memset(b, 0, sizeof(*b));
	b->db = db;
	b->ignore = ignore;
	b->what = table;
	ps_buf_init(&b->text);
	while (cols[b->ncols])
		b->ncols++;
	int lim = sqlite3_limit(db, SQLITE_LIMIT_VARIABLE_NUMBER, -1);
	b->per = PS_BULK_ROWS;
	if (b->per * b->ncols > lim)
		b->per = lim / b->ncols > 0 ? lim / b->ncols : 1;
	b->v = ps_xcalloc((size_t)(b->per + 1) * (size_t)b->ncols, sizeof(*b->v));
	if (prepare(b, &b->one, table, cols, 1, err) < 0 ||
	    (b->per > 1 && prepare(b, &b->many, table, cols, b->per, err) < 0)) {
		ps_bulk_close(b);
		return -1;
	}
	return 0;
}

void ps_bulk_text(struct ps_bulk *b, int col, const char *s, size_t n)
{
	struct ps_bulk_val *x = &b->v[(size_t)b->n * (size_t)b->ncols + (size_t)col - 1];
	if (n > INT32_MAX)
		n = INT32_MAX; /* a 2 GiB text cannot come from a member */
	x->type = PS_BV_COPY;
	x->i = (int64_t)b->text.len;
	x->n = (uint32_t)n;
	ps_buf_add(&b->text, s ? s : "", n);
}

void ps_bulk_blob(struct ps_bulk *b, int col, const void *p, size_t n)
{
	ps_bulk_text(b, col, p, n);
	b->v[(size_t)b->n * (size_t)b->ncols + (size_t)col - 1].type = PS_BV_BLOB;
}

static void bind(struct ps_bulk *b, sqlite3_stmt *st, int first, const struct ps_bulk_val *x)
{
	for (int c = 0; c < b->ncols; c++) {
		switch (x[c].type) {
		case PS_BV_INT:
			sqlite3_bind_int64(st, first + c, x[c].i);
			break;
		case PS_BV_COPY:
			sqlite3_bind_text(st, first + c, b->text.buf + x[c].i, (int)x[c].n,
					  SQLITE_STATIC);
			break;
		case PS_BV_BLOB:
			sqlite3_bind_blob(st, first + c, b->text.buf + x[c].i, (int)x[c].n,
					  SQLITE_STATIC);
			break;
		default:
			sqlite3_bind_null(st, first + c);
			break;
		}
	}
}

static int run(struct ps_bulk *b, sqlite3_stmt *st, struct ps_err *err)
{
	int r = sqlite3_step(st);
	sqlite3_reset(st);
	if (r != SQLITE_DONE)
		return ps_sql_err(err, b->db, b->what);
	return 0;
}

/* Move the row being made to the front after the held rows were inserted. */
static void restart(struct ps_bulk *b)
{
	struct ps_bulk_val *cur = &b->v[(size_t)b->n * (size_t)b->ncols];
	if (b->n)
		memmove(b->v, cur, (size_t)b->ncols * sizeof(*b->v));
	b->n = 0;
	ps_buf_reset(&b->text);
}

int ps_bulk_row(struct ps_bulk *b, struct ps_err *err)
{
	b->n++;
	if (b->n < b->per) {
		clear_row(b);
		return 0;
	}
	sqlite3_stmt *st = b->many ? b->many : b->one;
	for (int r = 0; r < b->n; r++)
		bind(b, st, r * b->ncols + 1, &b->v[(size_t)r * (size_t)b->ncols]);
	int rc = run(b, st, err);
	restart(b);
	clear_row(b);
	return rc;
}

int ps_bulk_flush(struct ps_bulk *b, struct ps_err *err)
{
	int rc = 0;
	for (int r = 0; rc == 0 && r < b->n; r++) {
		bind(b, b->one, 1, &b->v[(size_t)r * (size_t)b->ncols]);
		rc = run(b, b->one, err);
	}
	restart(b);
	return rc;
}

void ps_bulk_close(struct ps_bulk *b)
{
	sqlite3_finalize(b->many);
	sqlite3_finalize(b->one);
	free(b->v);
	ps_buf_release(&b->text);
	memset(b, 0, sizeof(*b));
}
