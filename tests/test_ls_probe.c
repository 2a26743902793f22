/*
 * test_ls_probe.c - `ls SNAP GLOB` without reading every `paths` row
 * (issue 9, the path-glob shape): name_stats counts each name's rows and
 * the seq most of them have; ps_files_glob_probe looks each pid up at that
 * seq, reads a pid where the name is not there, and gives up (0) when the
 * rows found are not all of them.  Checked on a capture of eight children
 * of one shape and this process, which holds 40 more descriptors so that
 * its names after fd/ sit elsewhere: name_stats against `paths`, the probe
 * taken or refused where it should be, and its paths (and `ls`'s) exactly
 * those of the `files` view, in capture order; a merged index (two
 * snapshots) goes the usual way with the same result.
 */
#include "t.h"
#include "tutil.h"

#include "store.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static char snap[512], db[600], merged[600];
static int ok;
static int extra_fds[40];
/* Children of one shape (the extra descriptors closed), captured with this
 * process alone: other tests' processes come and go while this one runs. */
static pid_t kids[8];

static void setup(void)
{
	for (size_t i = 0; i < sizeof(extra_fds) / sizeof(extra_fds[0]); i++)
		extra_fds[i] = open("/dev/null", O_RDONLY);
	struct ps_buf pids = PS_BUF_INIT;
	for (size_t i = 0; i < sizeof(kids) / sizeof(kids[0]); i++) {
		kids[i] = fork();
		if (kids[i] == 0) {
			for (size_t j = 0; j < sizeof(extra_fds) / sizeof(extra_fds[0]); j++)
				close(extra_fds[j]);
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			for (;;)
				pause();
		}
		if (kids[i] > 0)
			ps_buf_addf(&pids, " --pid %d", (int)kids[i]);
	}
	snprintf(snap, sizeof(snap), "%s/a.tar.zst", tu_tmpdir());
	snprintf(db, sizeof(db), "%s.db", snap);
	snprintf(merged, sizeof(merged), "%s/m.db", tu_tmpdir());
	usleep(100 * 1000); /* the children at pause() */
	ok = tu_sh(NULL, "%s capture -q -o %s%s --pid %d", tu_procsnap(), snap, pids.buf,
		   (int)getpid()) == 0;
	ps_buf_release(&pids);
	if (!ok) {
		fprintf(stderr, "capture failed\n");
		t_failures++;
	}
}

static void teardown(void)
{
	for (size_t i = 0; i < sizeof(kids) / sizeof(kids[0]); i++)
		if (kids[i] > 0) {
			kill(kids[i], SIGKILL);
			waitpid(kids[i], NULL, 0);
		}
	for (size_t i = 0; i < sizeof(extra_fds) / sizeof(extra_fds[0]); i++)
		if (extra_fds[i] >= 0)
			close(extra_fds[i]);
	tu_cleanup();
}

/* The paths of `files` matching pattern in capture order, each followed by
 * a NUL (as ps_files_glob_probe gives them). */
static void view_paths(sqlite3 *d, const char *pattern, struct ps_buf *out)
{
	ps_buf_reset(out);
	sqlite3_stmt *q;
	CHECK_INT(sqlite3_prepare_v2(d,
				     "SELECT path FROM files WHERE path GLOB ?1 ORDER BY "
				     "snapshot_id, path_id",
				     -1, &q, NULL),
		  SQLITE_OK);
	sqlite3_bind_text(q, 1, pattern, -1, SQLITE_STATIC);
	while (sqlite3_step(q) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(q, 0);
		ps_buf_add(out, t, strlen(t) + 1);
	}
	sqlite3_finalize(q);
}

/* ps_files_glob_probe on the index at path; its return value, the paths in out. */
static int probe(const char *path, const char *pattern, struct ps_buf *out, struct ps_buf *want)
{
	sqlite3 *d = NULL;
	CHECK_INT(sqlite3_open_v2(path, &d, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	struct ps_err err = {0, ""};
	struct ps_glob_rows g = PS_GLOB_ROWS_INIT;
	int r = ps_files_glob_probe(d, pattern, &g, &err);
	if (r < 0)
		fprintf(stderr, "probe %s: %s\n", pattern, err.msg);
	if (want)
		view_paths(d, pattern, want);
	sqlite3_close(d);
	ps_buf_reset(out);
	ps_buf_add(out, g.paths.buf, g.paths.len);
	size_t lines = 0;
	for (size_t i = 0; i < out->len; i++)
		lines += out->buf[i] == '\0';
	CHECK_U64(lines, g.n);
	ps_glob_rows_release(&g);
	return r;
}

/* A copy of the index under another UUID (query and merge take each
 * snapshot once): db.twin, made once. */
static const char *twin(void)
{
	static char t[620];
	snprintf(t, sizeof(t), "%s.twin", db);
	if (access(t, F_OK) != 0)
		CHECK_INT(tu_sh(NULL,
				"cp %s %s && sqlite3 %s \"UPDATE snapshots SET snapshot_uuid = "
				"'00000000-0000-4000-8000-000000000002'\"",
				db, t, t),
			  0);
	return t;
}

/* The merged index: the snapshot and its twin. */
static int merge_twice(void)
{
	return tu_sh(NULL, "%s -q merge %s %s %s", tu_procsnap(), merged, db, twin());
}

/* `ls` prints exactly the view's paths, one a line. */
static void check_ls(const char *snapshot, const char *pattern, const struct ps_buf *want)
{
	struct ps_buf got = PS_BUF_INIT;
	CHECK_INT(tu_sh(&got, "%s ls %s '%s'", tu_procsnap(), snapshot, pattern), 0);
	for (size_t i = 0; i < got.len; i++)
		if (got.buf[i] == '\n')
			got.buf[i] = '\0';
	CHECK(got.len == want->len && memcmp(got.buf, want->buf, got.len) == 0);
	if (got.len != want->len)
		fprintf(stderr, "ls %s: %zu bytes, the view %zu\n", pattern, got.len, want->len);
	ps_buf_release(&got);
}

static void test_name_stats(void)
{
	if (!ok)
		T_SKIP_CASE("no snapshot");
	/* every row counted once, each name's count right */
	CHECK_INT(tu_sql_int(db, "SELECT total(uses) = (SELECT count(*) FROM paths) FROM "
				 "name_stats"),
		  1);
	CHECK_INT(tu_sql_int(db, "SELECT count(*) FROM (SELECT name_id, count(*) AS c FROM paths "
				 "GROUP BY name_id) g LEFT JOIN name_stats n ON n.name_id = "
				 "g.name_id WHERE n.uses IS NOT g.c"),
		  0);
	/* exe: one a pid, and most at the usual seq */
	CHECK_INT(tu_sql_int(db,
			     "SELECT n.uses = (SELECT count(*) FROM pid_reads) FROM "
			     "name_stats n JOIN strings s ON s.str_id = n.name_id WHERE s.text = "
			     "'exe'"),
		  1);
	CHECK_INT(tu_sql_int(db,
			     "SELECT 2 * count(*) > n.uses FROM paths p JOIN name_stats n ON "
			     "n.name_id = p.name_id JOIN strings s ON s.str_id = n.name_id WHERE "
			     "s.text = 'exe' AND p.seq = n.usual_seq"),
		  1);
	/* this process's maps comes after its 40 more fds: not at the usual seq */
	CHECK_INT(tu_sql_int(db,
			     "SELECT p.seq != n.usual_seq FROM paths p JOIN name_stats n ON "
			     "n.name_id = p.name_id JOIN strings s ON s.str_id = n.name_id WHERE "
			     "s.text = 'maps' AND p.pid = %d AND p.tid_off IS NULL",
			     (int)getpid()),
		  1);
}

static void test_probe_taken(void)
{
	if (!ok)
		T_SKIP_CASE("no snapshot");
	const char *pats[] = {"proc/*/exe",   "proc/*/cmdline",	     "proc/*/maps",
			      "proc/*/smaps", "proc/[0-9]*/environ", "proc/*/ns/net"};
	struct ps_buf got = PS_BUF_INIT, want = PS_BUF_INIT;
	for (size_t i = 0; i < sizeof(pats) / sizeof(pats[0]); i++) {
		CHECK_INT(probe(db, pats[i], &got, &want), 1);
		CHECK(got.len == want.len && memcmp(got.buf, want.buf, got.len) == 0);
		if (got.len != want.len)
			fprintf(stderr, "%s: %zu bytes, the view %zu\n", pats[i], got.len,
				want.len);
		CHECK(want.len > 0);
		check_ls(snap, pats[i], &want);
	}
	/* this process's own maps, found where it is (its pid read for it) */
	char mine[64];
	snprintf(mine, sizeof(mine), "proc/%d/maps", (int)getpid());
	CHECK_INT(probe(db, "proc/*/maps", &got, NULL), 1);
	int found = 0;
	for (size_t off = 0; off < got.len; off += strlen(got.buf + off) + 1)
		found |= strcmp(got.buf + off, mine) == 0;
	CHECK(found);
	ps_buf_release(&got);
	ps_buf_release(&want);
}

static void test_probe_refused(void)
{
	if (!ok)
		T_SKIP_CASE("no snapshot");
	/* below task/ too (more rows than pids), a literal pid (its range is
	 * read anyway), no usable literal, not below proc/: the usual way, and
	 * `ls` still gives the view's paths */
	const char *pats[] = {"proc/*/status", "proc/*/task/*/comm", "proc/1/*",
			      "proc/*",	       "procsnap/*",	     "*/exe"};
	struct ps_buf got = PS_BUF_INIT, want = PS_BUF_INIT;
	for (size_t i = 0; i < sizeof(pats) / sizeof(pats[0]); i++) {
		CHECK_INT(probe(db, pats[i], &got, &want), 0);
		CHECK_INT((int)got.len, 0);
		check_ls(snap, pats[i], &want);
	}
	/* a merged index: two snapshots */
	CHECK_INT(merge_twice(), 0);
	CHECK_INT(probe(merged, "proc/*/exe", &got, &want), 0);
	CHECK(want.len > 0);
	check_ls(merged, "proc/*/exe", &want);
	ps_buf_release(&got);
	ps_buf_release(&want);
}

/* A copy of the index, named name in the scratch directory, changed by sql
 * (sqlite3, in double quotes): its path into copy. */
static void edited_copy(char *copy, size_t n, const char *name, const char *sql)
{
	snprintf(copy, n, "%s/%s", tu_tmpdir(), name);
	CHECK_INT(tu_sh(NULL, "cp %s %s && sqlite3 %s \"%s\"", db, copy, copy, sql), 0);
}

/* Rows the probe cannot see: a pid with a second `exe` row elsewhere in its
 * range, another with none (so there are still as many as pids): the rows
 * found fall short of name_stats.uses, and the probe gives up.  A name in
 * few pids: not tried. */
static void test_probe_counts(void)
{
	if (!ok)
		T_SKIP_CASE("no snapshot");
	char copy[700];
	edited_copy(
	    copy, sizeof(copy), "c.db",
	    "CREATE TEMP TABLE x AS SELECT p.pid, p.name_id FROM paths p JOIN strings s ON "
	    "s.str_id = p.name_id WHERE s.text = 'exe' ORDER BY p.pid LIMIT 2; "
	    "DELETE FROM paths WHERE pid = (SELECT max(pid) FROM x) AND name_id = (SELECT "
	    "name_id FROM x); "
	    "INSERT INTO paths (pid, snapshot_id, seq, name_id, stat_id) SELECT min(pid), 1, "
	    "99999, name_id, 0 FROM x;");
	struct ps_buf got = PS_BUF_INIT, want = PS_BUF_INIT;
	CHECK_INT(probe(copy, "proc/*/exe", &got, &want), 0);
	CHECK_INT((int)got.len, 0);
	/* the view has both rows of the first pid */
	size_t n = 0;
	for (size_t i = 0; i < want.len; i++)
		n += want.buf[i] == '\0';
	CHECK_INT(tu_sql_int(copy, "SELECT count(*) FROM pid_reads"), (long long)n);
	/* a name in a fifth of the pids: each pid without it would be read
	 * whole, so the probe is not tried (and the view has the fifth) */
	CHECK_INT(
	    tu_sh(NULL,
		  "sqlite3 %s \"CREATE TEMP TABLE k AS SELECT pid FROM pid_reads WHERE pid %% 5 "
		  "!= 0; DELETE FROM paths WHERE pid IN (SELECT pid FROM k) AND name_id = (SELECT "
		  "str_id FROM strings WHERE text = 'cmdline' AND is_name = 1); UPDATE name_stats "
		  "SET uses = (SELECT count(*) FROM paths WHERE name_id = name_stats.name_id);\"",
		  copy),
	    0);
	CHECK_INT(probe(copy, "proc/*/cmdline", &got, &want), 0);
	CHECK_INT((int)got.len, 0);
	CHECK(want.len > 0);
	ps_buf_release(&got);
	ps_buf_release(&want);
}

/* name_stats that lie (a crafted index): a usual seq no row has makes every
 * pid a miss, read for the name, and the paths are still the view's; a
 * count of NULL, or negative, is not tried; nothing crashes. */
static void test_probe_crafted(void)
{
	if (!ok)
		T_SKIP_CASE("no snapshot");
	char copy[700], sql[600];
	const char *by_name = "name_id = (SELECT str_id FROM strings WHERE is_name = 1 AND text";
	snprintf(sql, sizeof(sql),
		 "UPDATE name_stats SET usual_seq = -5 WHERE %s = 'exe'); UPDATE name_stats SET "
		 "uses = NULL WHERE %s = 'cmdline'); UPDATE name_stats SET uses = -1 WHERE %s = "
		 "'environ');",
		 by_name, by_name, by_name);
	edited_copy(copy, sizeof(copy), "x.db", sql);
	struct ps_buf got = PS_BUF_INIT, want = PS_BUF_INIT;
	CHECK_INT(probe(copy, "proc/*/exe", &got, &want), 1);
	CHECK(want.len > 0 && got.len == want.len && memcmp(got.buf, want.buf, got.len) == 0);
	CHECK_INT(probe(copy, "proc/*/cmdline", &got, &want), 0);
	CHECK_INT(probe(copy, "proc/*/environ", &got, &want), 0);
	CHECK_INT((int)got.len, 0);
	ps_buf_release(&got);
	ps_buf_release(&want);
}

/* ls -l through the probe (each row looked up by its key) prints what it
 * prints the usual way: the same index without name_stats gives the same
 * lines, links with their targets, absent paths with their errno, and a
 * system file among them (proc/cmdline for proc/ *cmdline). */
static void test_ls_long(void)
{
	if (!ok)
		T_SKIP_CASE("no snapshot");
	char plain[700];
	edited_copy(plain, sizeof(plain), "nostats.db", "DELETE FROM name_stats");
	struct ps_buf got = PS_BUF_INIT, want = PS_BUF_INIT;
	CHECK_INT(probe(db, "proc/*cmdline", &got, &want), 1);
	CHECK(memmem(got.buf, got.len, "\0proc/cmdline\0", 14) != NULL ||
	      strncmp(got.buf, "proc/cmdline", 13) == 0);
	CHECK_INT(probe(plain, "proc/*/exe", &got, NULL), 0);
	const char *pats[] = {"proc/*/exe", "proc/*cmdline", "proc/*/maps"};
	for (size_t i = 0; i < sizeof(pats) / sizeof(pats[0]); i++) {
		CHECK_INT(tu_sh(&got, "%s ls -l %s '%s'", tu_procsnap(), db, pats[i]), 0);
		CHECK_INT(tu_sh(&want, "%s ls -l %s '%s'", tu_procsnap(), plain, pats[i]), 0);
		CHECK(want.len > 0 && got.len == want.len &&
		      memcmp(got.buf, want.buf, got.len) == 0);
		if (got.len != want.len)
			fprintf(stderr, "ls -l %s: %zu bytes, the usual way %zu\n", pats[i],
				got.len, want.len);
	}
	/* exe is a link: its target shown; some are absent with an errno */
	CHECK_INT(tu_sh(&got, "%s ls -l %s 'proc/*/exe'", tu_procsnap(), db), 0);
	CHECK(strstr(got.buf, "link ") != NULL && strstr(got.buf, " -> /") != NULL);
	ps_buf_release(&got);
	ps_buf_release(&want);
}

/* Every row of a statement as text (columns separated by '|', NULL as
 * "~"), one a line; pattern bound as ?1. */
static void rows_text(sqlite3 *d, const char *sql, const char *pattern, struct ps_buf *out)
{
	ps_buf_reset(out);
	sqlite3_stmt *q = NULL;
	int r = sqlite3_prepare_v2(d, sql, -1, &q, NULL);
	CHECK_INT(r, SQLITE_OK);
	if (r != SQLITE_OK) {
		fprintf(stderr, "%s: %s\n", sql, sqlite3_errmsg(d));
		return;
	}
	if (pattern)
		sqlite3_bind_text(q, 1, pattern, -1, SQLITE_STATIC);
	while ((r = sqlite3_step(q)) == SQLITE_ROW) {
		for (int c = 0; c < sqlite3_column_count(q); c++) {
			const char *t = (const char *)sqlite3_column_text(q, c);
			ps_buf_addf(out, "%s%s", c ? "|" : "", t ? t : "~");
		}
		ps_buf_addc(out, '\n');
	}
	CHECK_INT(r, SQLITE_DONE);
	if (r != SQLITE_DONE)
		fprintf(stderr, "%s: %s\n", sql, sqlite3_errmsg(d));
	sqlite3_finalize(q);
}

#define ALL_COLS                                                                                   \
	"snapshot_id, path, kind, mode, uid, gid, size, xxh3, link_target, errno, read_ns, pid, "  \
	"tid, data_off, mtime, damage, path_id"
#define KEY_COLS "snapshot_id, path, pid, tid, path_id"

static void plan_of(sqlite3 *d, const char *sql, struct ps_buf *out)
{
	struct ps_buf q = PS_BUF_INIT;
	ps_buf_addf(&q, "EXPLAIN QUERY PLAN %s", sql);
	ps_buf_reset(out);
	struct ps_buf rows = PS_BUF_INIT;
	rows_text(d, q.buf, NULL, &rows);
	ps_buf_adds(out, rows.buf);
	ps_buf_release(&rows);
	ps_buf_release(&q);
}

/* files_glob(P) gives the rows of `files` whose path GLOBs P, in capture
 * order, every column alike: all of them (when probed, each row's other
 * columns through the ids the probe read) and only those the probe gives;
 * through the probe, the usual way, and on a merged index. */
static void check_files_glob(const char *index, const char *const *pats, size_t n)
{
	struct ps_snap *s = NULL;
	struct ps_err err = {0, ""};
	CHECK_INT(ps_snap_open(index, &s, &err), 0);
	if (!s) {
		fprintf(stderr, "%s: %s\n", index, err.msg);
		return;
	}
	sqlite3 *d = ps_snap_db(s);
	struct ps_buf got = PS_BUF_INIT, want = PS_BUF_INIT;
	static const char *const cols[] = {ALL_COLS, KEY_COLS, "count(*), sum(size)"};
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < sizeof(cols) / sizeof(cols[0]); k++) {
			char a[400], b[400];
			snprintf(a, sizeof(a), "SELECT %s FROM files_glob(?1)", cols[k]);
			snprintf(b, sizeof(b),
				 "SELECT %s FROM files WHERE path GLOB ?1 ORDER BY snapshot_id, "
				 "path_id",
				 cols[k]);
			rows_text(d, a, pats[i], &got);
			rows_text(d, b, pats[i], &want);
			CHECK(want.len > 0 && got.len == want.len &&
			      memcmp(got.buf, want.buf, got.len) == 0);
			if (!want.len || got.len != want.len ||
			    memcmp(got.buf, want.buf, got.len) != 0)
				fprintf(stderr, "files_glob('%s') [%s]: %zu bytes, the view %zu\n",
					pats[i], cols[k], got.len, want.len);
		}
	/* a probed row's other columns come from its ids, bound: `paths` is
	 * not read again, and no table of the bound values is made per row */
	char *ks = ps_files_key_sql("main",
				    "kind, size, xxh3, link_target, errno, data_off, damage, mode, "
				    "uid, gid, mtime, read_ns",
				    1);
	plan_of(d, ks, &got);
	int bound = strstr(got.buf, "SEARCH p ") == NULL && strstr(got.buf, "SEARCH n ") == NULL &&
		    strstr(got.buf, "MATERIALIZE") == NULL;
	CHECK(bound && strstr(got.buf, "SEARCH s USING PRIMARY KEY") != NULL &&
	      strstr(got.buf, "SEARCH c USING PRIMARY KEY") != NULL);
	if (!bound)
		fprintf(stderr, "a probed row's columns: %s\n", got.buf);
	free(ks);
	ps_buf_release(&got);
	ps_buf_release(&want);
	ps_snap_close(s);
}

static void test_files_glob(void)
{
	if (!ok)
		T_SKIP_CASE("no snapshot");
	static const char *const probed[] = {"proc/*/exe", "proc/*/maps", "proc/*cmdline",
					     "proc/[0-9]*/environ", "proc/*/ns/net"};
	char one[64]; /* a literal pid: its range */
	snprintf(one, sizeof(one), "proc/%d/*", (int)kids[0]);
	const char *const usual[] = {"proc/*/task/*/comm", one, "procsnap/*", "*/exe",
				     "proc/*/status"};
	check_files_glob(db, probed, sizeof(probed) / sizeof(probed[0]));
	check_files_glob(db, usual, sizeof(usual) / sizeof(usual[0]));
	/* the merged index holds two snapshots (test_probe_refused made it) */
	if (access(merged, F_OK) != 0)
		CHECK_INT(merge_twice(), 0);
	CHECK_INT(tu_sql_int(merged, "SELECT count(*) FROM snapshots"), 2);
	check_files_glob(merged, probed, 2);

	struct ps_buf out = PS_BUF_INIT;
	/* joined, as a table-valued function: one exe a process */
	CHECK_INT(tu_sh(&out,
			"%s query --format csv %s \"SELECT count(*) = (SELECT count(*) FROM "
			"processes) FROM processes p JOIN files_glob('proc/*/exe') f ON f.pid = "
			"p.pid\"",
			tu_procsnap(), db),
		  0);
	CHECK(strstr(out.buf, "\n1\r\n") != NULL);
	/* several snapshots at once (the union of attached indexes) */
	CHECK_INT(
	    tu_sh(&out,
		  "%s query --format csv %s %s \"SELECT (SELECT count(*) FROM "
		  "files_glob('proc/*/exe')) || ' ' || (SELECT count(*) FROM files WHERE path "
		  "GLOB 'proc/*/exe')\"",
		  tu_procsnap(), db, twin()),
	    0);
	long a = 0, b = 0;
	const char *nl = strchr(out.buf, '\n');
	CHECK(nl && sscanf(nl + 1, "%ld %ld", &a, &b) == 2 && a == b && a >= 18);
	/* no pattern: an error that says so, exit 2; NULL: no rows */
	CHECK_INT(tu_sh(&out, "%s query %s 'SELECT * FROM files_glob()' 2>&1", tu_procsnap(), db),
		  2);
	CHECK(strstr(out.buf, "files_glob: takes a GLOB pattern") != NULL);
	CHECK_INT(tu_sh(&out, "%s query --format csv %s 'SELECT count(*) FROM files_glob(NULL)'",
			tu_procsnap(), db),
		  0);
	CHECK(strstr(out.buf, "\n0\r\n") != NULL);
	ps_buf_release(&out);
}

/* The same statement over temp.files (the virtual table) and main.files
 * (the view): the same rows, as text, in capture order. */
static void same_as_view(sqlite3 *d, const char *cols, const char *where, const char *pattern)
{
	char a[700], b[700];
	snprintf(a, sizeof(a), "SELECT %s FROM files WHERE %s ORDER BY snapshot_id, path_id", cols,
		 where);
	snprintf(b, sizeof(b), "SELECT %s FROM main.files WHERE %s ORDER BY snapshot_id, path_id",
		 cols, where);
	struct ps_buf got = PS_BUF_INIT, want = PS_BUF_INIT;
	rows_text(d, a, pattern, &got);
	rows_text(d, b, pattern, &want);
	CHECK(got.len == want.len && memcmp(got.buf, want.buf, got.len) == 0);
	if (got.len != want.len || memcmp(got.buf, want.buf, got.len) != 0)
		fprintf(stderr, "files WHERE %s [%s] (?1 %s): %zu bytes, the view %zu\n", where,
			cols, pattern ? pattern : "-", got.len, want.len);
	ps_buf_release(&got);
	ps_buf_release(&want);
}

/* One integer from sql on connection d, ?1 bound to arg; -1 on none. */
static long long db_int(sqlite3 *d, const char *sql, const char *arg)
{
	sqlite3_stmt *q = NULL;
	long long v = -1;
	if (sqlite3_prepare_v2(d, sql, -1, &q, NULL) == SQLITE_OK) {
		if (arg)
			sqlite3_bind_text(q, 1, arg, -1, SQLITE_STATIC);
		if (sqlite3_step(q) == SQLITE_ROW)
			v = sqlite3_column_int64(q, 0);
	}
	sqlite3_finalize(q);
	return v;
}

/* The plan SQLite chose for sql, its details joined. */

/* `files` as the virtual table of `procsnap query` over one index: what the
 * view gives, for GLOBs the probe takes and others, `path =`, a pid, ranges,
 * NOCASE and LIKE (left to SQLite), joins; the plans that make it fast; a
 * merged index; query_only kept; not made over a union. */
static void check_files_vtab(const char *index, int nprobed, const char *const *probed)
{
	struct ps_snap *s = NULL;
	struct ps_err err = {0, ""};
	CHECK_INT(ps_snap_open(index, &s, &err), 0);
	if (!s)
		return;
	sqlite3 *d = ps_snap_db(s);
	CHECK_INT(ps_index_files_vtab(d, &err), 0);
	CHECK_INT(ps_index_files_vtab(d, &err), 0); /* made once */
	CHECK_INT(db_int(d, "SELECT count(*) FROM temp.sqlite_schema WHERE name = 'files'", NULL),
		  1);
	/* still read-only */
	CHECK(sqlite3_exec(d, "CREATE TEMP TABLE x(y)", NULL, NULL, NULL) != SQLITE_OK);
	static const char *const colsets[] = {ALL_COLS, KEY_COLS, "count(*), sum(size)"};
	for (int i = 0; i < nprobed; i++)
		for (size_t k = 0; k < sizeof(colsets) / sizeof(colsets[0]); k++)
			same_as_view(d, colsets[k], "path GLOB ?1", probed[i]);
	char w[200];
	const char *const eq[] = {"status", "exe", "fd/0"};
	for (size_t i = 0; i < sizeof(eq) / sizeof(eq[0]); i++) {
		char path[100];
		snprintf(path, sizeof(path), "proc/%d/%s", (int)kids[1], eq[i]);
		same_as_view(d, ALL_COLS, "path = ?1", path);
		/* one a snapshot */
		CHECK_INT(db_int(d, "SELECT count(*) FROM files WHERE path = ?1", path),
			  db_int(d, "SELECT count(*) FROM snapshots", NULL));
	}
	same_as_view(d, ALL_COLS, "path = ?1", "proc/meminfo");
	same_as_view(d, ALL_COLS, "path = ?1", "proc/*/exe"); /* a path, not a pattern */
	same_as_view(d, ALL_COLS, "path = ?1", NULL);
	same_as_view(d, "count(*)", "path = upper(?1) COLLATE NOCASE", "proc/meminfo");
	same_as_view(d, "count(*)", "path LIKE 'PROC/%/EXE'", NULL);
	snprintf(w, sizeof(w), "pid = %d", (int)kids[2]);
	same_as_view(d, ALL_COLS, w, NULL);
	snprintf(w, sizeof(w), "pid = %d AND kind = 'link' AND path GLOB '*/fd/*'", (int)kids[2]);
	same_as_view(d, ALL_COLS, w, NULL);
	snprintf(w, sizeof(w), "pid IN (%d, %d) AND size > 0", (int)kids[0], (int)kids[3]);
	same_as_view(d, KEY_COLS, w, NULL);
	same_as_view(d, KEY_COLS, "path_id BETWEEN 40 AND 60", NULL);
	same_as_view(d, "count(*), sum(size)", "errno IS NOT NULL OR kind IS 'dir'", NULL);
	same_as_view(d, "count(*), sum(size)", "1", NULL);
	/* joins: a pid from processes, a pattern with it */
	struct ps_buf a = PS_BUF_INIT, b = PS_BUF_INIT;
	rows_text(d,
		  "SELECT p.pid, f.path, f.link_target FROM processes p JOIN files f ON f.pid = "
		  "p.pid AND f.path GLOB 'proc/*/fd/*' ORDER BY 1, 2",
		  NULL, &a);
	rows_text(d,
		  "SELECT p.pid, f.path, f.link_target FROM processes p JOIN main.files f ON "
		  "f.pid = p.pid AND f.path GLOB 'proc/*/fd/*' ORDER BY 1, 2",
		  NULL, &b);
	CHECK(a.len > 0 && a.len == b.len && memcmp(a.buf, b.buf, a.len) == 0);
	/* a count through the probe reads what files_glob's count reads: no row
	 * looked up by its key (a plan bit once passed for a used column) */
	long long pages[2];
	const char *const counts[] = {"SELECT count(*) FROM files_glob('proc/*/exe')",
				      "SELECT count(*) FROM files WHERE path GLOB 'proc/*/exe'"};
	for (int k = 0; k < 2; k++) {
		int cur, hi, hit, miss;
		sqlite3_db_status(d, SQLITE_DBSTATUS_CACHE_HIT, &cur, &hi, 1);
		sqlite3_db_status(d, SQLITE_DBSTATUS_CACHE_MISS, &cur, &hi, 1);
		CHECK(db_int(d, counts[k], NULL) > 0);
		sqlite3_db_status(d, SQLITE_DBSTATUS_CACHE_HIT, &hit, &hi, 1);
		sqlite3_db_status(d, SQLITE_DBSTATUS_CACHE_MISS, &miss, &hi, 1);
		pages[k] = (long long)hit + miss;
	}
	CHECK(pages[1] <= pages[0] + 8); /* 1 more; a key lookup a row: ~5 a row */
	if (pages[1] > pages[0] + 8)
		fprintf(stderr, "files count: %lld pages, files_glob's %lld\n", pages[1], pages[0]);
	/* which statements keep the virtual table (procsnap query asks) */
	CHECK_INT(ps_files_vtab_plan_ok(d, "SELECT * FROM files WHERE path GLOB 'proc/*/exe'"), 1);
	CHECK_INT(ps_files_vtab_plan_ok(d, "SELECT count(*) FROM processes p JOIN files f ON "
					   "f.pid = p.pid WHERE f.path GLOB 'proc/*/fd/*'"),
		  1);
	CHECK_INT(ps_files_vtab_plan_ok(d, "SELECT 1"), 1);
	CHECK_INT(ps_files_vtab_plan_ok(d, "SELECT count(*) FROM files_glob('proc/*')"), 1);
	CHECK_INT(ps_files_vtab_plan_ok(d, "SELECT * FROM files WHERE kind = 'absent'"), 0);
	CHECK_INT(ps_files_vtab_plan_ok(d, "SELECT * FROM files WHERE pid = 1"), 0);
	CHECK_INT(ps_files_vtab_plan_ok(d, "SELECT count(*) FROM files a JOIN files b ON a.xxh3 = "
					   "b.xxh3 WHERE a.path GLOB 'proc/*/exe'"),
		  0);
	/* the plans: a GLOB through the probe, a pid through the view's key */
	plan_of(d, "SELECT * FROM files WHERE path GLOB 'proc/*/exe'", &a);
	CHECK(strstr(a.buf, "VIRTUAL TABLE INDEX") != NULL && strstr(a.buf, "main.files") == NULL);
	plan_of(d, "SELECT * FROM processes p JOIN files f ON f.pid = p.pid", &a);
	CHECK(strstr(a.buf, "main.files WHERE 1 AND pid = ?1") != NULL);
	ps_buf_release(&a);
	ps_buf_release(&b);
	ps_snap_close(s);
}

static void test_files_vtab(void)
{
	if (!ok)
		T_SKIP_CASE("no snapshot");
	static const char *const pats[] = {
	    "proc/*/exe",	  "proc/*/maps", "proc/*cmdline", "proc/[0-9]*/environ",
	    "proc/*/task/*/comm", "procsnap/*",	 "*/exe",	  "proc/*/status"};
	check_files_vtab(db, (int)(sizeof(pats) / sizeof(pats[0])), pats);
	if (access(merged, F_OK) != 0)
		CHECK_INT(merge_twice(), 0);
	check_files_vtab(merged, 3, pats);
	/* through procsnap query; not over the union of several */
	struct ps_buf out = PS_BUF_INIT;
	CHECK_INT(tu_sh(&out,
			"%s query --format csv %s \"SELECT (SELECT count(*) FROM files WHERE path "
			"GLOB 'proc/*/exe') = (SELECT count(*) FROM processes), (SELECT count(*) "
			"FROM temp.sqlite_schema WHERE name = 'files' AND type = 'table')\"",
			tu_procsnap(), db),
		  0);
	CHECK(strstr(out.buf, "\n1,1\r\n") != NULL);
	CHECK_INT(tu_sh(&out,
			"%s query --format csv %s %s \"SELECT type FROM temp.sqlite_schema WHERE "
			"name = 'files'\"",
			tu_procsnap(), db, twin()),
		  0);
	CHECK(strstr(out.buf, "\nview\r\n") != NULL);
	/* a join on a column that is no key: the view (SQLite indexes its rows),
	 * for that statement and the rest; the same count either way */
	CHECK_INT(tu_sh(&out,
			"%s query --format csv %s \"SELECT count(*) FROM files WHERE path GLOB "
			"'proc/*/exe'; SELECT count(*) FROM temp.sqlite_schema WHERE name = "
			"'files'; SELECT 'n=' || count(*) FROM files a JOIN files b ON a.xxh3 = "
			"b.xxh3 WHERE a.pid = %d; SELECT 'left=' || count(*) FROM "
			"temp.sqlite_schema WHERE name = 'files'\"",
			tu_procsnap(), db, (int)kids[1]),
		  0);
	long long n = tu_sql_int(db,
				 "SELECT count(*) FROM files a JOIN files b ON a.xxh3 = b.xxh3 "
				 "WHERE a.pid = %d",
				 (int)kids[1]);
	char want[64];
	snprintf(want, sizeof(want), "\nn=%lld\r\n", n);
	CHECK(n > 0 && strstr(out.buf, want) != NULL);
	CHECK(strstr(out.buf, "\n1\r\n") != NULL && strstr(out.buf, "\nleft=0\r\n") != NULL);
	ps_buf_release(&out);
}

static const struct t_case t_cases[] = {
    T(test_name_stats),	  T(test_probe_taken),	 T(test_probe_refused),
    T(test_probe_counts), T(test_probe_crafted), T(test_ls_long),
    T(test_files_glob),	  T(test_files_vtab),	 {0, 0}};
T_MAIN_SETUP(t_cases, setup, teardown)
