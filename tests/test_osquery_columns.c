/*
 * test_osquery_columns.c - every table procsnap shares a name with osquery
 * has osquery's Linux columns (issue 12 item 2).  tests/data/
 * osquery_columns.tsv lists them (from osquery's specs); each must be a
 * column of that table or view in the index, unless the line says why it
 * is absent.  The differences are printed: the absent columns with their
 * reason, and procsnap's extra columns per table.
 */
#include "t.h"
#include "tutil.h"

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#define FIXTURE PS_SOURCE_DIR "/samples/proc-fixture"
#define COLUMNS PS_SOURCE_DIR "/tests/data/osquery_columns.tsv"

static char db[600];
static int ok;

static void setup(void)
{
	char snap[512];
	snprintf(snap, sizeof(snap), "%s/a.tar.zst", tu_tmpdir());
	snprintf(db, sizeof(db), "%s.db", snap);
	ok = tu_sh(NULL, "%s capture -q --root %s -o %s 2>/dev/null", tu_procsnap(), FIXTURE,
		   snap) == 0;
	if (!ok) {
		fprintf(stderr, "capture failed\n");
		t_failures++;
	}
}

static void teardown(void)
{
	tu_cleanup();
}

/* Is `col` a column of table or view `tbl`?  1, 0, or -1 if no such table. */
static int has_column(sqlite3 *h, const char *tbl, const char *col)
{
	sqlite3_stmt *st;
	int ncol = 0, found = 0;
	if (sqlite3_prepare_v2(h, "SELECT name FROM pragma_table_info(?1)", -1, &st, NULL) !=
	    SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, tbl, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		ncol++;
		found |= strcmp((const char *)sqlite3_column_text(st, 0), col) == 0;
	}
	sqlite3_finalize(st);
	return ncol ? found : -1;
}

/* procsnap's columns of tbl that osquery's list (the file) does not name. */
static void extras(sqlite3 *h, const char *tbl, const struct ps_buf *listed)
{
	sqlite3_stmt *st;
	struct ps_buf x = PS_BUF_INIT;
	if (sqlite3_prepare_v2(h, "SELECT name FROM pragma_table_info(?1)", -1, &st, NULL) !=
	    SQLITE_OK)
		return;
	sqlite3_bind_text(st, 1, tbl, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		char key[256];
		snprintf(key, sizeof(key), "\n%s\t%s\n", tbl, sqlite3_column_text(st, 0));
		if (!strstr(listed->buf, key))
			ps_buf_addf(&x, " %s", sqlite3_column_text(st, 0));
	}
	sqlite3_finalize(st);
	printf("  %-20s procsnap's own:%s\n", tbl, x.len ? x.buf : " (none)");
	ps_buf_release(&x);
}

static void test_columns(void)
{
	if (!ok)
		T_SKIP_CASE("no snapshot");
	struct ps_buf f = PS_BUF_INIT, listed = PS_BUF_INIT, tables = PS_BUF_INIT;
	CHECK_INT(tu_slurp(COLUMNS, &f), 0);
	sqlite3 *h = NULL;
	CHECK_INT(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	ps_buf_addc(&listed, '\n');
	int nlines = 0, nabsent = 0;
	printf("osquery columns procsnap does not have:\n");
	for (char *line = strtok(f.buf, "\n"); line; line = strtok(NULL, "\n")) {
		if (line[0] == '#' || line[0] == '\0')
			continue;
		char *tbl = line, *col = strchr(line, '\t');
		CHECK(col != NULL);
		if (!col)
			continue;
		*col++ = '\0';
		char *why = strchr(col, '\t');
		if (why)
			*why++ = '\0';
		nlines++;
		ps_buf_addf(&listed, "%s\t%s\n", tbl, col);
		char key[256];
		snprintf(key, sizeof(key), "\n%s\n", tbl);
		if (!strstr(tables.buf ? tables.buf : "", key)) {
			if (!tables.len)
				ps_buf_addc(&tables, '\n');
			ps_buf_addf(&tables, "%s\n", tbl);
		}
		int have = has_column(h, tbl, col);
		if (have < 0) {
			fprintf(stderr, "osquery table %s is not in the index\n", tbl);
			t_failures++;
		} else if (why) {
			CHECK(strncmp(why, "absent: ", 8) == 0);
			printf("  %s.%s: %s\n", tbl, col, why + 8);
			nabsent++;
			if (have) {
				fprintf(stderr, "%s.%s is marked absent but the index has it\n",
					tbl, col);
				t_failures++;
			}
		} else if (!have) {
			fprintf(stderr,
				"%s.%s: osquery's column is missing (add it, or say why "
				"in tests/data/osquery_columns.tsv)\n",
				tbl, col);
			t_failures++;
		}
	}
	if (!nabsent)
		printf("  (none)\n");
	printf("procsnap's extra columns (snapshot_id: which snapshot a row is of):\n");
	for (char *t = strtok(tables.buf ? tables.buf : "", "\n"); t; t = strtok(NULL, "\n"))
		extras(h, t, &listed);
	CHECK(nlines > 100);
	sqlite3_close(h);
	ps_buf_release(&f);
	ps_buf_release(&listed);
	ps_buf_release(&tables);
}

static const struct t_case t_cases[] = {T(test_columns), {0, 0}};
T_MAIN_SETUP(t_cases, setup, teardown)
