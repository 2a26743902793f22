/*
 * bulk_int.h - private to store/: rows inserted many per statement.
 *
 * The index builder inserts ~10 rows per captured path.  One INSERT per row
 * costs a statement run each (cursor opened, b-tree descended from the
 * root, statement reset): ~1.2 us a row.  A statement of PS_BULK_ROWS rows
 * ("INSERT INTO t VALUES (...), (...), ...") keeps one cursor for all of
 * them, and appending in key order then skips the descent: ~0.6 us a row
 * (measured on `paths`).  Rows are kept in a small array until there are
 * enough for one statement; ps_bulk_flush inserts the rest one by one.
 * Whoever reads the table before the end (an UPDATE, a join) flushes first.
 */
#ifndef PS_BULK_INT_H
#define PS_BULK_INT_H

#include <sqlite3.h>
#include <stdint.h>

#include "common.h"

#define PS_BULK_ROWS 32 /* rows per statement (fewer if SQLite's variable limit says so) */

enum { PS_BV_NULL, PS_BV_INT, PS_BV_COPY, PS_BV_BLOB };

struct ps_bulk_val {
	int64_t i;  /* PS_BV_INT: the value; PS_BV_COPY, PS_BV_BLOB: offset in text */
	uint32_t n; /* text or blob bytes */
	uint8_t type;
};

struct ps_bulk {
	sqlite3 *db;
	const char *what; /* the table, for errors */
	sqlite3_stmt *many, *one;
	int ncols, per, n;     /* columns, rows per `many`, complete rows held */
	int ignore;	       /* INSERT OR IGNORE: a row whose key is taken is dropped */
	struct ps_bulk_val *v; /* per rows of ncols values, the row being made after them */
	struct ps_buf text;    /* copies of texts and blobs, for the rows held */
};

/*
 * Prepare the inserts of table for the NULL-terminated column list (values
 * given as columns 1..n, snapshot_id set to 1 before them), OR IGNORE when
 * ignore (a crafted archive may repeat a key: that row is then dropped);
 * 0 or -1 with err.  The row being made starts all NULL.
 */
int ps_bulk_open(struct ps_bulk *b, sqlite3 *db, const char *table, const char *const *cols,
		 int ignore, struct ps_err *err);
/* Column col (1-based) of the row being made. */
static inline void ps_bulk_i64(struct ps_bulk *b, int col, int64_t v)
{
	struct ps_bulk_val *x = &b->v[(size_t)b->n * (size_t)b->ncols + (size_t)col - 1];
	x->type = PS_BV_INT;
	x->i = v;
}
/* A text, a blob, copied now. */
void ps_bulk_text(struct ps_bulk *b, int col, const char *s, size_t n);
void ps_bulk_blob(struct ps_bulk *b, int col, const void *p, size_t n);
/* The row being made is complete (inserted with the next full statement);
 * the next one starts all NULL.  0 or -1 with err. */
int ps_bulk_row(struct ps_bulk *b, struct ps_err *err);
/* Insert every complete row held.  0 or -1 with err. */
int ps_bulk_flush(struct ps_bulk *b, struct ps_err *err);
/* Finalize (rows still held are dropped: flush first). */
void ps_bulk_close(struct ps_bulk *b);

#endif
