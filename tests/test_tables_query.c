/*
 * test_tables_query.c - `procsnap query` over one and several snapshots
 * (rows from both, told apart by snapshot_id; the snapshots view names the
 * file), the three output formats (aligned table, RFC 4180 CSV, JSON), writes
 * refused with exit 2, `merge` (both snapshots in one index, new ids, no
 * overwrite without --force), and an index of another schema version refused
 * with a message that says to run `procsnap index`.
 */
#include "t.h"
#include "tutil.h"

#include "store.h"

#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#define FIXTURE PS_SOURCE_DIR "/samples/proc-fixture"

static char a[512], b[512];
static struct ps_buf out = PS_BUF_INIT;
static int ok;

static void setup(void)
{
	const char *d = tu_tmpdir();
	snprintf(a, sizeof(a), "%s/a.tar.zst", d);
	snprintf(b, sizeof(b), "%s/b.tar.zst", d);
	/* two snapshots: the fixture, and one live process (this test) */
	ok = tu_sh(NULL, "%s capture -q --root %s -o %s", tu_procsnap(), FIXTURE, a) == 0 &&
	     tu_sh(NULL, "%s capture -q --pid %d -o %s", tu_procsnap(), (int)getpid(), b) == 0;
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

/* procsnap query ... into out (stderr to err.txt); returns the exit status. */
static int q(const char *args)
{
	return tu_sh(&out, "%s query %s 2>%s/err.txt", tu_procsnap(), args, tu_tmpdir());
}

static void err_text(struct ps_buf *e)
{
	char p[600];
	snprintf(p, sizeof(p), "%s/err.txt", tu_tmpdir());
	tu_slurp(p, e);
}

static void test_one_snapshot_formats(void)
{
	char args[2048];
	if (!ok)
		return;
	snprintf(args, sizeof(args),
		 "--format csv %s \"SELECT pid, name FROM processes ORDER BY pid\"", a);
	CHECK_INT(q(args), 0);
	CHECK_STR(out.buf, "pid,name\r\n1,systemd\r\n2,kthreadd\r\n42,my (evil) prog\r\n4242,my "
			   "server\r\n");
	/* RFC 4180 quoting */
	snprintf(args, sizeof(args),
		 "-F csv %s \"SELECT 'a,b' AS x, 'say \\\"hi\\\"' AS y, 'l1' || char(10) || 'l2' "
		 "AS z, NULL AS n, 7 AS i\"",
		 a);
	CHECK_INT(q(args), 0);
	CHECK_STR(out.buf, "x,y,z,n,i\r\n\"a,b\",\"say \"\"hi\"\"\",\"l1\nl2\",,7\r\n");
	/* JSON: an array of objects, typed values */
	snprintf(args, sizeof(args),
		 "--format=json %s \"SELECT pid, name, 1.5 AS f, NULL AS n FROM processes WHERE "
		 "pid IN (1, 42) ORDER BY pid\"",
		 a);
	CHECK_INT(q(args), 0);
	CHECK_STR(out.buf, "[\n{\"pid\":1,\"name\":\"systemd\",\"f\":1.5,\"n\":null},\n{\"pid\":42,"
			   "\"name\":\"my (evil) prog\",\"f\":1.5,\"n\":null}\n]\n");
	/* python's json module agrees */
	CHECK_INT(tu_sh(NULL,
			"%s query --format json %s 'SELECT * FROM processes' | /usr/bin/python3 -c "
			"'import json,sys; r=json.load(sys.stdin); sys.exit(0 if len(r)==4 and "
			"r[0][\"snapshot_id\"]==1 else 1)'",
			tu_procsnap(), a),
		  0);
	/* zero rows: still success */
	snprintf(args, sizeof(args), "-F json %s \"SELECT * FROM processes WHERE pid = -5\"", a);
	CHECK_INT(q(args), 0);
	CHECK_STR(out.buf, "[]\n");
	/* the aligned table: header, dashes, numbers right-aligned */
	snprintf(args, sizeof(args),
		 "%s \"SELECT pid, name FROM processes WHERE pid IN (2, 4242) ORDER BY pid\"", a);
	CHECK_INT(q(args), 0);
	CHECK_STR(out.buf, "pid   name\n----  ---------\n   2  kthreadd\n4242  my server\n");
	/* by the index name too */
	snprintf(args, sizeof(args), "%s.db \"SELECT count(*) FROM threads\"", a);
	CHECK_INT(q(args), 0);
	CHECK(strstr(out.buf, "5") != NULL);
}

static void test_two_snapshots(void)
{
	char args[2048];
	if (!ok)
		return;
	snprintf(args, sizeof(args),
		 "-F csv %s %s \"SELECT snapshot_id, count(*) FROM processes GROUP BY 1 ORDER BY "
		 "1\"",
		 a, b);
	CHECK_INT(q(args), 0);
	CHECK_STR(out.buf, "snapshot_id,count(*)\r\n1,4\r\n2,1\r\n");
	/* rows of both, told apart by snapshot_id */
	snprintf(args, sizeof(args),
		 "-F csv %s %s \"SELECT snapshot_id, pid FROM processes WHERE pid IN (42, %d) "
		 "ORDER BY 1\"",
		 a, b, (int)getpid());
	CHECK_INT(q(args), 0);
	char want[1400];
	snprintf(want, sizeof(want), "snapshot_id,pid\r\n1,42\r\n2,%d\r\n", (int)getpid());
	CHECK_STR(out.buf, want);
	/* the snapshots view says which file each id came from */
	snprintf(args, sizeof(args),
		 "-F csv %s %s \"SELECT snapshot_id, file, file_snapshot_id FROM snapshots ORDER "
		 "BY 1\"",
		 a, b);
	CHECK_INT(q(args), 0);
	snprintf(want, sizeof(want),
		 "snapshot_id,file,file_snapshot_id\r\n1,%s.db,1\r\n2,%s.db,1\r\n", a, b);
	CHECK_STR(out.buf, want);
	/* a join across tables stays within one snapshot */
	snprintf(args, sizeof(args),
		 "-F csv %s %s \"SELECT p.snapshot_id, count(*) FROM processes p JOIN threads t "
		 "ON t.snapshot_id = p.snapshot_id AND t.pid = p.pid GROUP BY 1 ORDER BY 1\"",
		 a, b);
	CHECK_INT(q(args), 0);
	CHECK_STR(out.buf, "snapshot_id,count(*)\r\n1,5\r\n2,1\r\n");
	/* writes are refused there too */
	snprintf(args, sizeof(args), "%s %s \"DELETE FROM processes\"", a, b);
	CHECK_INT(q(args), 2);
}

static void test_writes_refused(void)
{
	char args[2048];
	struct ps_buf e = PS_BUF_INIT;
	if (!ok)
		return;
	const char *writes[] = {"INSERT INTO processes(snapshot_id, pid) VALUES (1, 99)",
				"DROP TABLE processes",
				"UPDATE processes SET pid = 0",
				"CREATE TABLE x(a)",
				"PRAGMA user_version = 7",
				NULL};
	for (int i = 0; writes[i]; i++) {
		snprintf(args, sizeof(args), "%s \"%s\"", a, writes[i]);
		CHECK_INT(q(args), 2);
		err_text(&e);
		CHECK(strstr(e.buf, "read-only") != NULL || strstr(e.buf, "readonly") != NULL);
		CHECK(memchr(e.buf, '\n', e.len) == e.buf + e.len - 1); /* one line */
	}
	/* nor can SQL undo the connection's protections, or attach a file
	 * that skipped the schema check */
	const char *guards[] = {"PRAGMA trusted_schema = 1",
				"PRAGMA writable_schema = 1",
				"PRAGMA cell_size_check = 0",
				"PRAGMA mmap_size = 1000000000",
				"PRAGMA query_only = 0",
				"SELECT 1; PRAGMA main.cache_size = 100000",
				"ATTACH '/etc/passwd' AS x",
				"DETACH main",
				NULL};
	for (int i = 0; guards[i]; i++) {
		snprintf(args, sizeof(args), "%s \"%s\"", a, guards[i]);
		CHECK_INT(q(args), 2);
		err_text(&e);
		if (!strstr(e.buf, "procsnap: query: refused: snapshots are opened read-only"))
			fprintf(stderr, "%s: %s", guards[i], e.buf);
		CHECK(strstr(e.buf, "procsnap: query: refused: snapshots are opened read-only") ==
		      e.buf);
		CHECK(memchr(e.buf, '\n', e.len) == e.buf + e.len - 1);
	}
	/* what only reads a description or a setting still runs */
	snprintf(args, sizeof(args), "%s \"PRAGMA table_info(processes); PRAGMA trusted_schema\"",
		 a);
	CHECK_INT(q(args), 0);
	char db[600];
	snprintf(db, sizeof(db), "%s.db", a);
	CHECK_INT(tu_sql_int(db, "SELECT count(*) FROM processes"), 4);
	CHECK_INT(tu_sql_int(db, "PRAGMA user_version"), PS_SCHEMA_VERSION);
	/* bad SQL: exit 2 with SQLite's message */
	snprintf(args, sizeof(args), "%s \"SELECT nope FROM processes\"", a);
	CHECK_INT(q(args), 2);
	err_text(&e);
	CHECK(strstr(e.buf, "no such column") != NULL);
	ps_buf_release(&e);
}

static void test_merge(void)
{
	char m[600], args[2048];
	struct ps_buf e = PS_BUF_INIT;
	if (!ok)
		return;
	snprintf(m, sizeof(m), "%s/merged.db", tu_tmpdir());
	CHECK_INT(tu_sh(NULL, "%s -q merge %s %s %s", tu_procsnap(), m, a, b), 0);
	struct stat st;
	CHECK_INT(stat(m, &st), 0);
	CHECK_INT(st.st_mode & 0777, 0600);
	CHECK_INT(tu_sql_int(m, "PRAGMA user_version"), PS_SCHEMA_VERSION);
	CHECK_INT(tu_sql_int(m, "SELECT count(*) FROM snapshots"), 2);
	CHECK_INT(tu_sql_int(m, "SELECT count(*) FROM processes WHERE snapshot_id = 1"), 4);
	CHECK_INT(tu_sql_int(m, "SELECT count(*) FROM processes WHERE snapshot_id = 2"), 1);
	char bdb[600];
	snprintf(bdb, sizeof(bdb), "%s.db", b);
	CHECK_INT(tu_sql_int(m, "SELECT count(*) FROM files WHERE snapshot_id = 2"),
		  tu_sql_int(bdb, "SELECT count(*) FROM files"));
	CHECK_INT(tu_sql_int(m, "SELECT count(*) FROM process_memory_map WHERE snapshot_id = 2"),
		  tu_sql_int(bdb, "SELECT count(*) FROM process_memory_map"));
	CHECK_INT(tu_sql_int(m,
			     "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = "
			     "'processes_pid'"),
		  1);
	/* no overwrite without --force */
	CHECK_INT(tu_sh(NULL, "%s -q merge %s %s 2>/dev/null", tu_procsnap(), m, a), 2);
	CHECK_INT(tu_sql_int(m, "SELECT count(*) FROM snapshots"), 2);
	char m2[600], c[600];
	snprintf(m2, sizeof(m2), "%s/merged2.db", tu_tmpdir());
	/* a snapshot already in it (by its UUID) is refused: counted twice */
	CHECK_INT(tu_sh(&e, "%s -q merge %s %s %s 2>&1", tu_procsnap(), m2, m, a), 2);
	CHECK(strstr(e.buf, "is already in the merge (each snapshot goes in once)") != NULL);
	CHECK_INT(tu_sh(NULL, "test -e %s", m2), 1);
	/* a merged index and a third snapshot (the fixture captured again) */
	snprintf(c, sizeof(c), "%s/c.tar.zst", tu_tmpdir());
	CHECK_INT(tu_sh(NULL, "%s capture -q --root %s -o %s", tu_procsnap(), FIXTURE, c), 0);
	CHECK_INT(tu_sh(NULL, "%s -q merge %s %s %s", tu_procsnap(), m2, m, c), 0);
	CHECK_INT(tu_sql_int(m2, "SELECT count(*) FROM snapshots"), 3);
	char t[256];
	CHECK_INT(
	    tu_sql(m2, t, sizeof(t),
		   "SELECT group_concat(c) FROM (SELECT snapshot_id || ':' || count(*) AS c FROM "
		   "processes GROUP BY snapshot_id ORDER BY snapshot_id)"),
	    0);
	CHECK_STR(t, "1:4,2:1,3:4");
	/* query accepts the merged index, alone or with others; not with a
	 * snapshot it holds already (b) */
	snprintf(args, sizeof(args),
		 "-F csv %s %s \"SELECT snapshot_id, file_snapshot_id FROM snapshots ORDER BY 1\"",
		 m, c);
	CHECK_INT(q(args), 0);
	CHECK_STR(out.buf, "snapshot_id,file_snapshot_id\r\n1,1\r\n2,2\r\n3,1\r\n");
	snprintf(args, sizeof(args), "%s %s \"SELECT 1\"", m, b);
	CHECK_INT(q(args), 2);
	/* --force replaces */
	CHECK_INT(tu_sh(NULL, "%s -q merge --force %s %s", tu_procsnap(), m, b), 0);
	CHECK_INT(tu_sql_int(m, "SELECT count(*) FROM snapshots"), 1);
	CHECK_INT(tu_sql_int(m, "SELECT count(*) FROM processes"), 1);
	ps_buf_release(&e);
}

static void test_old_schema_refused(void)
{
	char old[600], args[1024];
	struct ps_buf e = PS_BUF_INIT;
	if (!ok)
		return;
	snprintf(old, sizeof(old), "%s/old.db", tu_tmpdir());
	CHECK_INT(tu_sh(NULL, "cp %s.db %s", a, old), 0);
	sqlite3 *d;
	CHECK_INT(sqlite3_open(old, &d), SQLITE_OK);
	CHECK_INT(sqlite3_exec(d, "PRAGMA user_version = 1", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(d);
	snprintf(args, sizeof(args), "%s \"SELECT 1\"", old);
	CHECK_INT(q(args), 2);
	err_text(&e);
	CHECK(strstr(e.buf, "procsnap index") != NULL);
	CHECK(strstr(e.buf, "version 1") != NULL);
	CHECK_STR(out.buf, "");
	/* merge refuses it too */
	char m[600];
	snprintf(m, sizeof(m), "%s/m-old.db", tu_tmpdir());
	CHECK_INT(tu_sh(NULL, "%s -q merge %s %s 2>/dev/null", tu_procsnap(), m, old), 2);
	CHECK(access(m, F_OK) != 0);
	ps_buf_release(&e);
}

static const struct t_case t_cases[] = {T(test_one_snapshot_formats), T(test_two_snapshots),
					T(test_writes_refused),	      T(test_merge),
					T(test_old_schema_refused),   {NULL, NULL}};
T_MAIN_SETUP(t_cases, setup, teardown)
