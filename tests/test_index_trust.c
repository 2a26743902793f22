/*
 * test_index_trust.c - an index is data, never code (issue 8, item 5).
 *
 * Crafted copies of a real index - a table whose sqlite_master text carries
 * extra statements, an extra trigger or view, a changed view or table
 * definition, a WAL-mode header, a huge value - given to merge, query (one
 * and several snapshots), info, ls, triage and diff: refused with one line
 * and exit 2 (or, for WAL, read without creating anything beside the file),
 * and the canary statements never run.  Merge still copies every row of
 * every table, into procsnap's own schema.  Outputs are never created over
 * an existing file, even one that appears while the output is written.
 */
#include "t.h"
#include "tutil.h"

#include "store.h"
#include "store_int.h"

#include <errno.h>
#include <stdarg.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#define FIXTURE PS_SOURCE_DIR "/samples/proc-fixture"

static char dir[512], a[600], b[600], adb[620], bdb[620];
static struct ps_buf out = PS_BUF_INIT;
static int ok;

static void setup(void)
{
	snprintf(dir, sizeof(dir), "%s", tu_tmpdir());
	snprintf(a, sizeof(a), "%s/a.tar.zst", dir);
	snprintf(b, sizeof(b), "%s/b.tar.zst", dir);
	snprintf(adb, sizeof(adb), "%s.db", a);
	snprintf(bdb, sizeof(bdb), "%s.db", b);
	ok = tu_sh(NULL, "%s capture -q --root %s -o %s 2>/dev/null", tu_procsnap(), FIXTURE, a) ==
		 0 &&
	     tu_sh(NULL, "%s capture -q --pid %d -o %s 2>/dev/null", tu_procsnap(), (int)getpid(),
		   b) == 0;
	if (!ok) {
		fprintf(stderr, "captures failed\n");
		t_failures++;
	}
}

static void teardown(void)
{
	ps_buf_release(&out);
	tu_cleanup();
}

/* Copy adb to dir/name and run sql on the copy with writable_schema on (as
 * an attacker would, with the stock sqlite3 library).  Path into path. */
static int craft(const char *name, const char *sql, char *path, size_t n)
{
	snprintf(path, n, "%s/%s", dir, name);
	if (tu_sh(NULL, "cp %s %s", adb, path) != 0)
		return -1;
	sqlite3 *d;
	char *msg = NULL;
	int rc = -1;
	if (sqlite3_open(path, &d) == SQLITE_OK &&
	    sqlite3_exec(d, "PRAGMA writable_schema = ON", NULL, NULL, NULL) == SQLITE_OK &&
	    sqlite3_exec(d, sql, NULL, NULL, &msg) == SQLITE_OK)
		rc = 0;
	if (msg)
		fprintf(stderr, "craft %s: %s\n", name, msg);
	sqlite3_free(msg);
	sqlite3_close(d);
	return rc;
}

/* Run procsnap with args, in dir (stderr into out too); the exit status. */
static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int run(const char *fmt, ...)
{
	struct ps_buf args = PS_BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	ps_buf_vaddf(&args, fmt, ap);
	va_end(ap);
	int rc = tu_sh(&out, "cd %s && timeout 60 %s %s 2>&1", dir, tu_procsnap(), args.buf);
	ps_buf_release(&args);
	return rc;
}

static int one_line(void)
{
	return out.len > 0 && memchr(out.buf, '\n', out.len) == out.buf + out.len - 1;
}

/* No file in dir whose name contains `part`. */
static int no_file_like(const char *part)
{
	struct ps_buf l = PS_BUF_INIT;
	tu_sh(&l, "ls -A %s", dir);
	int found = strstr(l.buf, part) != NULL;
	if (found)
		fprintf(stderr, "unexpected file matching '%s' in:\n%s", part, l.buf);
	ps_buf_release(&l);
	return !found;
}

/* Every reader refuses the index at `evil` with one line naming `what`. */
static void all_refuse(const char *evil, const char *what)
{
	char m[700];
	snprintf(m, sizeof(m), "%s/m-%d.db", dir, (int)getpid());
	CHECK_INT(run("merge %s %s", m, evil), 2);
	CHECK(one_line());
	CHECK(strstr(out.buf, what) != NULL);
	CHECK(access(m, F_OK) != 0);
	CHECK(no_file_like(".tmp"));
	CHECK_INT(run("merge %s %s", m, adb), 0); /* the good one alone merges */
	unlink(m);
	CHECK_INT(run("query %s \"SELECT count(*) FROM processes\"%s", evil, ""), 2);
	CHECK(one_line());
	CHECK(strstr(out.buf, what) != NULL);
	/* attached as the second of several */
	char args[1400];
	snprintf(args, sizeof(args), "%s %s", adb, evil);
	CHECK_INT(run("query %s \"SELECT count(*) FROM processes\"%s", args, ""), 2);
	CHECK(strstr(out.buf, what) != NULL);
	CHECK_INT(run("info %s%s", evil, ""), 2);
	CHECK(one_line());
	CHECK_INT(run("ls %s%s", evil, ""), 2);
	CHECK_INT(run("triage %s%s", evil, ""), 2);
	CHECK_INT(run("diff %s %s", adb, evil), 2);
	CHECK(strstr(out.buf, what) != NULL);
}

/* sqlite_master text with statements after the CREATE TABLE: SQLite loads
 * only the first, the old merge ran all of them (a table and a trigger
 * that forged rows in the merged index). */
static void trailing_statements(void)
{
	char evil[700], m[700];
	if (!ok)
		return;
	CHECK_INT(craft("trailing.db",
			"UPDATE sqlite_master SET sql = sql || '; CREATE TABLE pwned(x); "
			"CREATE TRIGGER forge AFTER INSERT ON processes BEGIN INSERT INTO pwned "
			"VALUES (new.pid); END' WHERE name = 'system_kv'",
			evil, sizeof(evil)),
		  0);
	/* the crafted file still opens for the stock library */
	CHECK_INT(tu_sql_int(evil, "SELECT count(*) FROM processes"), 4);
	snprintf(m, sizeof(m), "%s/trailing-merged.db", dir);
	CHECK_INT(run("merge %s %s", m, evil), 2);
	CHECK(strstr(out.buf, "system_kv") != NULL);
	CHECK(access(m, F_OK) != 0);
	all_refuse(evil, "table 'system_kv'");
}

static void extra_trigger(void)
{
	char evil[700];
	if (!ok)
		return;
	CHECK_INT(craft("trigger.db",
			"CREATE TRIGGER wipe AFTER INSERT ON frames BEGIN DELETE FROM processes; "
			"END",
			evil, sizeof(evil)),
		  0);
	all_refuse(evil, "trigger 'wipe'");
}

/* A view that never ends: refused before it can run. */
static void extra_view(void)
{
	char evil[700];
	if (!ok)
		return;
	CHECK_INT(craft("view.db",
			"CREATE VIEW hog AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT "
			"x + 1 FROM c) SELECT x FROM c",
			evil, sizeof(evil)),
		  0);
	CHECK_INT(run("query %s \"SELECT count(*) FROM hog\"%s", evil, ""), 2);
	CHECK(strstr(out.buf, "view 'hog'") != NULL);
	all_refuse(evil, "view 'hog'");
}

/* procsnap's own view, redefined: the name is right, the text is not. */
static void changed_view(void)
{
	char evil[700];
	if (!ok)
		return;
	CHECK_INT(craft("changed-view.db",
			"UPDATE sqlite_master SET sql = 'CREATE VIEW process_pagemap_totals AS "
			"WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT x "
			"AS pid FROM c' WHERE name = 'process_pagemap_totals'",
			evil, sizeof(evil)),
		  0);
	CHECK_INT(run("query %s \"SELECT count(*) FROM process_pagemap_totals\"%s", evil, ""), 2);
	CHECK(strstr(out.buf, "differs") != NULL);
	all_refuse(evil, "view 'process_pagemap_totals'");
}

/* A table whose definition gains a generated column (code run on read). */
static void changed_table(void)
{
	char evil[700];
	if (!ok)
		return;
	CHECK_INT(craft("changed-table.db",
			"UPDATE sqlite_master SET sql = replace(sql, 'hash_mismatches INTEGER,', "
			"'hash_mismatches INTEGER AS (length(zeroblob(1000000000))),') WHERE name "
			"= 'snapshots'",
			evil, sizeof(evil)),
		  0);
	all_refuse(evil, "table 'snapshots'");
}

/* Not an index at all, or an empty SQLite file: one line, exit 2. */
static void not_an_index(void)
{
	char p[700];
	if (!ok)
		return;
	snprintf(p, sizeof(p), "%s/empty.db", dir);
	CHECK_INT(tu_sh(NULL, "sqlite3 %s 'CREATE TABLE t(x)'", p), 0);
	CHECK_INT(run("query %s \"SELECT 1\"%s", p, ""), 2);
	CHECK(one_line());
	CHECK(strstr(out.buf, "version 0") != NULL);
	CHECK_INT(tu_sh(NULL, "sqlite3 %s 'PRAGMA user_version = %d'", p, PS_SCHEMA_VERSION), 0);
	CHECK_INT(run("query %s \"SELECT 1\"%s", p, ""), 2);
	CHECK(one_line());
	CHECK(strstr(out.buf, "not part of procsnap's schema") != NULL ||
	      strstr(out.buf, "is missing") != NULL);
}

/* A WAL-mode header: read-only and immutable, nothing is created beside it. */
static void wal_header(void)
{
	char p[700], sub[700];
	if (!ok)
		return;
	snprintf(sub, sizeof(sub), "%s/wal", dir);
	snprintf(p, sizeof(p), "%s/wal/w.db", dir);
	CHECK_INT(tu_sh(NULL,
			"mkdir -p %s && cp %s %s && sqlite3 %s \"UPDATE snapshots SET "
			"snapshot_uuid = '00000000-0000-4000-8000-000000000004'; PRAGMA "
			"journal_mode = WAL\" >/dev/null",
			sub, adb, p, p),
		  0);
	CHECK_INT(tu_sh(&out, "od -An -tu1 -j18 -N2 %s", p), 0);
	CHECK(strstr(out.buf, "2   2") != NULL); /* the header says WAL */
	CHECK_INT(run("query --format csv %s \"SELECT count(*) FROM processes\"%s", p, ""), 0);
	CHECK_STR(out.buf, "count(*)\r\n4\r\n");
	CHECK_INT(tu_sh(&out, "ls -A %s", sub), 0);
	CHECK_STR(out.buf, "w.db\n");
	/* also through ATTACH (several snapshots: the copy has another UUID) */
	char args[1400];
	snprintf(args, sizeof(args), "%s %s", adb, p);
	CHECK_INT(run("query --format csv %s \"SELECT count(*) FROM processes\"%s", args, ""), 0);
	CHECK_STR(out.buf, "count(*)\r\n8\r\n");
	CHECK_INT(tu_sh(&out, "ls -A %s", sub), 0);
	CHECK_STR(out.buf, "w.db\n");
	/* the same snapshot twice would count it twice: refused, one line */
	CHECK_INT(run("query %s %s \"SELECT count(*) FROM processes\"", adb, adb), 2);
	CHECK(one_line());
	CHECK(strstr(out.buf, "is already among the inputs (each snapshot is taken once)") != NULL);
}

/* A value past the 32 MiB limit is an error, not an allocation. */
static void huge_value(void)
{
	char p[700];
	if (!ok)
		return;
	CHECK_INT(craft("huge.db", "UPDATE snapshots SET note = zeroblob(40 * 1024 * 1024)", p,
			sizeof(p)),
		  0);
	CHECK_INT(run("info %s%s", p, ""), 2);
	CHECK(one_line());
	CHECK(strstr(out.buf, "too big") != NULL);
	CHECK_INT(run("query %s \"SELECT note FROM snapshots\"%s", p, ""), 2);
	CHECK(strstr(out.buf, "too big") != NULL);
	/* its length is known without reading it; the other columns stay readable */
	CHECK_INT(run("query --format csv %s \"SELECT length(note) FROM snapshots\"%s", p, ""), 0);
	CHECK_STR(out.buf, "length(note)\r\n41943040\r\n");
	CHECK_INT(
	    run("query --format csv %s \"SELECT hostname IS NOT NULL FROM snapshots\"%s", p, ""),
	    0);
	CHECK_STR(out.buf, "hostname IS NOT NULL\r\n1\r\n");
}

/* Merge: every row of every table of each input, snapshot_id shifted, in
 * procsnap's own schema (the same sqlite_master as a fresh index). */
static void merge_rows(void)
{
	char m[700];
	if (!ok)
		return;
	snprintf(m, sizeof(m), "%s/rows.db", dir);
	CHECK_INT(run("-q merge %s %s", m, "a.tar.zst b.tar.zst"), 0);
	sqlite3 *d;
	CHECK_INT(sqlite3_open_v2(m, &d, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	char *sql = sqlite3_mprintf("ATTACH %Q AS a; ATTACH %Q AS b", adb, bdb);
	CHECK_INT(sqlite3_exec(d, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_free(sql);
	/* same schema objects as an index built by `procsnap index` */
	sqlite3_stmt *q;
	CHECK_INT(
	    sqlite3_prepare_v2(d,
			       "SELECT count(*) FROM (SELECT type, name, tbl_name, sql FROM "
			       "main.sqlite_master EXCEPT SELECT type, name, tbl_name, sql FROM "
			       "a.sqlite_master) ",
			       -1, &q, NULL),
	    SQLITE_OK);
	CHECK_INT(sqlite3_step(q), SQLITE_ROW);
	CHECK_INT(sqlite3_column_int(q, 0), 0);
	sqlite3_finalize(q);
	CHECK_INT(sqlite3_prepare_v2(d,
				     "SELECT (SELECT count(*) FROM main.sqlite_master), (SELECT "
				     "count(*) FROM a.sqlite_master)",
				     -1, &q, NULL),
		  SQLITE_OK);
	CHECK_INT(sqlite3_step(q), SQLITE_ROW);
	CHECK_INT(sqlite3_column_int(q, 0), sqlite3_column_int(q, 1));
	sqlite3_finalize(q);
	/* each table: the rows of a as snapshot 1 and of b as snapshot 2 */
	CHECK_INT(sqlite3_prepare_v2(d,
				     "SELECT name FROM main.sqlite_master WHERE type = 'table' AND "
				     "name NOT LIKE 'sqlite%'",
				     -1, &q, NULL),
		  SQLITE_OK);
	int tables = 0, rows = 0;
	while (sqlite3_step(q) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(q, 0);
		/* column list without snapshot_id */
		struct ps_buf cols = PS_BUF_INIT;
		sqlite3_stmt *c;
		CHECK_INT(
		    sqlite3_prepare_v2(d, "SELECT name FROM pragma_table_info(?1)", -1, &c, NULL),
		    SQLITE_OK);
		sqlite3_bind_text(c, 1, t, -1, SQLITE_TRANSIENT);
		while (sqlite3_step(c) == SQLITE_ROW) {
			const char *col = (const char *)sqlite3_column_text(c, 0);
			if (strcmp(col, "snapshot_id") == 0)
				continue;
			char *qc = sqlite3_mprintf("%s\"%w\"", cols.len ? ", " : "", col);
			ps_buf_adds(&cols, qc);
			sqlite3_free(qc);
		}
		sqlite3_finalize(c);
		for (int s = 1; s <= 2; s++) {
			const char *src = s == 1 ? "a" : "b";
			char *cmp = sqlite3_mprintf(
			    "SELECT (SELECT count(*) FROM main.\"%w\" WHERE snapshot_id = %d), "
			    "(SELECT count(*) FROM %s.\"%w\"), "
			    "(SELECT count(*) FROM (SELECT %s FROM main.\"%w\" WHERE snapshot_id = "
			    "%d EXCEPT SELECT %s FROM %s.\"%w\")), "
			    "(SELECT count(*) FROM (SELECT %s FROM %s.\"%w\" EXCEPT SELECT %s FROM "
			    "main.\"%w\" WHERE snapshot_id = %d))",
			    t, s, src, t, cols.buf, t, s, cols.buf, src, t, cols.buf, src, t,
			    cols.buf, t, s);
			sqlite3_stmt *x;
			CHECK_INT(sqlite3_prepare_v2(d, cmp, -1, &x, NULL), SQLITE_OK);
			CHECK_INT(sqlite3_step(x), SQLITE_ROW);
			if (sqlite3_column_int(x, 0) != sqlite3_column_int(x, 1) ||
			    sqlite3_column_int(x, 2) || sqlite3_column_int(x, 3)) {
				fprintf(stderr,
					"table %s, snapshot %d: %d rows vs %d, %d/%d differ\n", t,
					s, sqlite3_column_int(x, 0), sqlite3_column_int(x, 1),
					sqlite3_column_int(x, 2), sqlite3_column_int(x, 3));
				t_failures++;
			}
			rows += sqlite3_column_int(x, 0);
			sqlite3_finalize(x);
			sqlite3_free(cmp);
		}
		ps_buf_release(&cols);
		tables++;
	}
	sqlite3_finalize(q);
	sqlite3_close(d);
	CHECK(tables >= 15);
	CHECK(rows > 1000);
}

/* Merge checks each input's structure first (quick_check): a page with a
 * broken b-tree header refuses the input before any row is copied. */
static void merge_corrupt(void)
{
	char p[700], m[700];
	if (!ok)
		return;
	snprintf(p, sizeof(p), "%s/corrupt.db", dir);
	snprintf(m, sizeof(m), "%s/corrupt-merged.db", dir);
	CHECK_INT(tu_sh(NULL,
			"cp %s %s && printf '\\377\\377\\377' | dd of=%s bs=1 seek=$((4096 * 30 "
			"+ 1)) conv=notrunc 2>/dev/null",
			adb, p, p),
		  0);
	CHECK_INT(run("merge %s %s", m, p), 2);
	CHECK(one_line());
	CHECK(strstr(out.buf, "corrupt index") != NULL);
	CHECK(access(m, F_OK) != 0);
	CHECK(no_file_like(".tmp"));
}

/* The output helper: a file that appears while the output is written is
 * never replaced; --force replaces; the temporary file is 0600 and goes. */
static void output_race(void)
{
	char p[700];
	struct ps_outfile o;
	struct ps_err err = {0, ""};
	snprintf(p, sizeof(p), "%s/race.db", dir);
	CHECK_INT(ps_out_create(&o, p, 0, &err), 0);
	struct stat st;
	CHECK_INT(stat(o.tmp, &st), 0);
	CHECK_INT(st.st_mode & 0777, 0600);
	CHECK(strncmp(o.tmp, dir, strlen(dir)) == 0); /* beside the output */
	CHECK_INT(tu_sh(NULL, "echo ours > %s", o.tmp), 0);
	CHECK_INT(tu_sh(NULL, "echo precious > %s", p), 0); /* the racer */
	char tmp[700];
	snprintf(tmp, sizeof(tmp), "%s", o.tmp);
	CHECK_INT(ps_out_commit(&o, &err), -1);
	CHECK_INT(err.code, EEXIST);
	CHECK_INT(tu_sh(&out, "cat %s", p), 0);
	CHECK_STR(out.buf, "precious\n");
	CHECK(access(tmp, F_OK) != 0);
	/* an existing file without force: refused before anything is made */
	CHECK_INT(ps_out_create(&o, p, 0, &err), -1);
	CHECK(strstr(err.msg, "exists") != NULL);
	/* with force: replaced */
	CHECK_INT(ps_out_create(&o, p, 1, &err), 0);
	CHECK_INT(tu_sh(NULL, "echo ours > %s", o.tmp), 0);
	CHECK_INT(ps_out_commit(&o, &err), 0);
	CHECK_INT(tu_sh(&out, "cat %s", p), 0);
	CHECK_STR(out.buf, "ours\n");
	CHECK_INT(stat(p, &st), 0);
	CHECK_INT(st.st_mode & 0777, 0600);
	/* abort removes the temporary file */
	CHECK_INT(ps_out_create(&o, p, 1, &err), 0);
	snprintf(tmp, sizeof(tmp), "%s", o.tmp);
	ps_out_abort(&o);
	CHECK(access(tmp, F_OK) != 0);
	CHECK(no_file_like(".tmp"));
	/* index and merge: an existing output is left alone */
	if (ok) {
		CHECK_INT(tu_sh(NULL, "echo precious > %s", p), 0);
		CHECK_INT(run("index -o %s %s", p, a), 2);
		CHECK(strstr(out.buf, "exists") != NULL);
		CHECK_INT(run("merge %s %s", p, a), 2);
		CHECK_INT(tu_sh(&out, "cat %s", p), 0);
		CHECK_STR(out.buf, "precious\n");
		CHECK(no_file_like(".tmp"));
	}
}

static const struct t_case t_cases[] = {T(trailing_statements), T(extra_trigger), T(extra_view),
					T(changed_view),	T(changed_table), T(not_an_index),
					T(wal_header),		T(huge_value),	  T(merge_rows),
					T(merge_corrupt),	T(output_race),	  {NULL, NULL}};
T_MAIN_SETUP(t_cases, setup, teardown)
