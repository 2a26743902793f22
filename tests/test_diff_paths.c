/*
 * test_diff_paths.c - the changed paths of diff/paths.c, which reads the
 * base tables (strings, paths, sys_paths, contents) and merges per pid in C,
 * are exactly those of a slow reference written over the `files` view: a
 * FULL JOIN by path of both sides' rows that matter, and the net/ and
 * mountinfo rows grouped per namespace with window functions.  Every field
 * of every changed path is compared (path, pid, tid, label, and per side
 * kind, xxh3, link target, errno, data offset, size), in order, for each
 * scope (all, --processes-only, --system-only).
 *
 * Pairs: the fixture trees (samples/diff-a, diff-b); a live capture (pid 1,
 * this test, and a child in its own network and mount namespaces) against
 * a copy of its index crafted with many changes of every kind - hashes
 * changed, emptied and shortened, link targets changed and cleared, kinds
 * and errnos changed, rows gone and added (fds, thread directories and
 * per-thread files, system files, a row of a negative pid), unmatched
 * processes, and every id renumbered so that nothing matches by id.
 * PS_DIFF_REF_PAIR=A.db:B.db adds a pair (the bench captures, say).
 */
#include "t.h"
#include "tutil.h"

#include "diff_int.h"
#include "store.h"

#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

static struct ps_buf got = PS_BUF_INIT, want = PS_BUF_INIT;

/* ref_use(path, pid, tid, in_pm, scope): what the diff compares, as its
 * documentation says - 1 a path compared by path (a system file, or a member
 * of a matched process that procs_relevant keeps), 2 a namespace-scoped row
 * (net/..., mountinfo, ns/net, ns/mnt of a process), 0 nothing; procsnap/
 * never. */
static void ref_use(sqlite3_context *ctx, int argc, sqlite3_value **v)
{
	const char *path = (const char *)sqlite3_value_text(v[0]);
	int scope = sqlite3_value_int(v[4]), use = 0;
	(void)argc;
	if (!path || strncmp(path, "procsnap/", 9) == 0) {
		sqlite3_result_int(ctx, 0);
		return;
	}
	if (sqlite3_value_type(v[1]) == SQLITE_NULL || sqlite3_value_int64(v[1]) < 0) {
		sqlite3_result_int(ctx, scope == PS_DIFF_PROCESSES ? 0 : 1);
		return;
	}
	char pre[64];
	int n = snprintf(pre, sizeof(pre), "proc/%lld/", (long long)sqlite3_value_int64(v[1]));
	if (strncmp(path, pre, (size_t)n) == 0) {
		const char *rel = path + n;
		if (scope != PS_DIFF_PROCESSES && sqlite3_value_type(v[2]) == SQLITE_NULL &&
		    (strncmp(rel, "net/", 4) == 0 || strcmp(rel, "mountinfo") == 0 ||
		     strcmp(rel, "ns/net") == 0 || strcmp(rel, "ns/mnt") == 0))
			use |= 2;
		if (scope != PS_DIFF_SYSTEM && sqlite3_value_int(v[3]) && ps_dx_procs_relevant(rel))
			use |= 1;
	}
	sqlite3_result_int(ctx, use);
}

static void add_field(struct ps_buf *b, const char *s)
{
	ps_buf_adds(b, s ? s : "\\N");
	ps_buf_addc(b, '|');
}

/* One side of a changed path, as a line piece ("-" when absent). */
static void add_side(struct ps_buf *b, const char *kind, const char *hash, const char *link,
		     const char *err, long long off, long long size)
{
	if (!kind) {
		ps_buf_adds(b, "-|");
		return;
	}
	add_field(b, kind);
	add_field(b, hash);
	add_field(b, link);
	add_field(b, err);
	ps_buf_addf(b, "%lld|%lld|", off, size);
}

static void add_dpath(struct ps_buf *b, const struct dpath *p)
{
	ps_buf_addf(b, "%s|%lld|%lld|", p->path, (long long)p->pid, (long long)p->tid);
	add_field(b, p->label);
	for (int s = 0; s < 2; s++)
		add_side(b, p->kind[s], p->hash[s], p->link[s], p->err[s], (long long)p->off[s],
			 (long long)p->size[s]);
	ps_buf_addc(b, '\n');
}

static const char *col(sqlite3_stmt *q, int i)
{
	return (const char *)sqlite3_column_text(q, i);
}

static long long col_i(sqlite3_stmt *q, int i)
{
	return sqlite3_column_type(q, i) == SQLITE_NULL ? -1 : sqlite3_column_int64(q, i);
}

/* Rows of the reference: path, pid, tid, label, then per side kind, xxh3,
 * link_target, errno, data_off, size. */
static void add_ref_rows(sqlite3 *db, const char *sql, struct ps_buf *b)
{
	sqlite3_stmt *q = NULL;
	if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK) {
		fprintf(stderr, "reference: %s\n", sqlite3_errmsg(db));
		t_failures++;
		return;
	}
	while (sqlite3_step(q) == SQLITE_ROW) {
		ps_buf_addf(b, "%s|%lld|%lld|", col(q, 0), col_i(q, 1), col_i(q, 2));
		add_field(b, col(q, 3));
		for (int s = 0; s < 2; s++) {
			int k = 4 + 6 * s;
			add_side(b, col(q, k), col(q, k + 1), col(q, k + 2), col(q, k + 3),
				 col_i(q, k + 4), col_i(q, k + 5));
		}
		ps_buf_addc(b, '\n');
	}
	sqlite3_finalize(q);
}

static void exec_ref(sqlite3 *db, const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		fprintf(stderr, "reference: %s\n", msg ? msg : "?");
		t_failures++;
	}
	sqlite3_free(msg);
}

/* The two sides' rows (tables r_a, r_b: rel, ns, path, kind, xxh3,
 * link_target, errno, data_off, size; indexed by key) joined on key; the
 * rows that differ, in key order. */
static void join_ref(sqlite3 *db, const char *key, const char *label, const char *order,
		     struct ps_buf *b)
{
	struct ps_buf sql = PS_BUF_INIT;
	ps_buf_addf(
	    &sql,
	    "SELECT coalesce(x.path, y.path), coalesce(x.pid, y.pid), coalesce(x.tid, y.tid), "
	    "%s, x.kind, x.xxh3, x.link_target, x.errno, x.data_off, x.size, "
	    "y.kind, y.xxh3, y.link_target, y.errno, y.data_off, y.size "
	    "FROM r_a x FULL JOIN r_b y ON %s "
	    "WHERE x.path IS NULL OR y.path IS NULL OR x.kind IS NOT y.kind OR "
	    "x.xxh3 IS NOT y.xxh3 OR x.link_target IS NOT y.link_target OR "
	    "x.errno IS NOT y.errno ORDER BY %s",
	    label, key, order);
	add_ref_rows(db, sql.buf, b);
	ps_buf_release(&sql);
	exec_ref(db, "DROP TABLE r_a; DROP TABLE r_b");
}

/* The paths compared by path, per the reference: the rows of the files
 * views that matter, joined on path. */
static void reference_paths(sqlite3 *db, int scope, long long sa, long long sb, struct ps_buf *b)
{
	struct ps_buf sql = PS_BUF_INIT;
	for (int s = 0; s < 2; s++) {
		const char *x = s ? "b" : "a";
		ps_buf_addf(
		    &sql,
		    "CREATE TEMP TABLE r_%s AS SELECT path, kind, xxh3, link_target, errno, "
		    "pid, tid, data_off, size FROM %s.files WHERE snapshot_id = %lld AND "
		    "ref_use(path, pid, tid, pid IN (SELECT pid FROM pm), %d) & 1; "
		    "CREATE INDEX r_%s_key ON r_%s(path);",
		    x, x, s ? sb : sa, scope, x, x);
	}
	exec_ref(db, sql.buf);
	ps_buf_release(&sql);
	join_ref(db, "y.path = x.path", "NULL", "1", b);
}

/* The namespace-scoped files per the reference: a process's net/... and
 * mountinfo rows keyed by (rel, the target of its ns/net or ns/mnt link, or
 * "pid N"), the lowest pid's row per key (mountinfo only where the
 * namespace is known, or of pid 1), labelled with the namespace unless it
 * is pid 1's. */
static void reference_ns(sqlite3 *db, int scope, long long sa, long long sb, struct ps_buf *b)
{
	if (scope == PS_DIFF_PROCESSES)
		return;
	struct ps_buf sql = PS_BUF_INIT;
	for (int s = 0; s < 2; s++) {
		const char *x = s ? "b" : "a";
		ps_buf_addf(
		    &sql,
		    "CREATE TEMP TABLE e_%s AS SELECT path, pid, kind, xxh3, link_target, errno, "
		    "data_off, size, substr(path, length(pid) + 7) AS rel FROM %s.files "
		    "WHERE snapshot_id = %lld AND ref_use(path, pid, tid, 0, %d) & 2; "
		    "CREATE TEMP TABLE l_%s AS SELECT pid, "
		    "max(CASE rel WHEN 'ns/net' THEN link_target END) AS net, "
		    "max(CASE rel WHEN 'ns/mnt' THEN link_target END) AS mnt FROM e_%s "
		    "WHERE rel IN ('ns/net', 'ns/mnt') GROUP BY pid; "
		    "CREATE INDEX l_%s_pid ON l_%s(pid); "
		    "CREATE TEMP TABLE i_%s AS SELECT "
		    "coalesce((SELECT net FROM l_%s WHERE pid = 1), 'pid 1') AS net, "
		    "coalesce((SELECT mnt FROM l_%s WHERE pid = 1), 'pid 1') AS mnt; "
		    "CREATE TEMP TABLE r_%s AS SELECT path, NULL AS pid, NULL AS tid, kind, xxh3, "
		    "link_target, errno, data_off, size, rel, ns, rel || CASE WHEN ns <> (SELECT "
		    "CASE WHEN k.rel = 'mountinfo' THEN mnt ELSE net END FROM i_%s) THEN ' (' || "
		    "ns || ')' ELSE '' END AS label FROM (SELECT *, row_number() OVER (PARTITION "
		    "BY rel, ns ORDER BY pid) AS r FROM (SELECT e.*, coalesce(CASE WHEN e.rel = "
		    "'mountinfo' THEN l.mnt ELSE l.net END, 'pid ' || e.pid) AS ns, CASE WHEN "
		    "e.rel = 'mountinfo' THEN l.mnt ELSE l.net END AS lk FROM e_%s e LEFT JOIN "
		    "l_%s l USING (pid) WHERE e.rel GLOB 'net/*' OR e.rel = 'mountinfo') "
		    "WHERE rel <> 'mountinfo' OR (kind = 'file' AND (lk IS NOT NULL OR pid = 1))) "
		    "k "
		    "WHERE r = 1; "
		    "CREATE INDEX r_%s_key ON r_%s(rel, ns); "
		    "DROP TABLE e_%s; DROP TABLE l_%s; DROP TABLE i_%s;",
		    x, x, s ? sb : sa, scope, x, x, x, x, x, x, x, x, x, x, x, x, x, x, x, x);
	}
	exec_ref(db, sql.buf);
	ps_buf_release(&sql);
	/* a path present in A is labelled as A names its namespaces */
	join_ref(db, "y.rel = x.rel AND y.ns = x.ns", "coalesce(x.label, y.label)",
		 "coalesce(x.rel, y.rel), coalesce(x.ns, y.ns)", b);
}

static long long first_sid(sqlite3 *db, const char *schema)
{
	char sql[128];
	sqlite3_stmt *q = NULL;
	long long sid = -1;
	snprintf(sql, sizeof(sql), "SELECT min(snapshot_id) FROM %s.snapshots", schema);
	if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW)
		sid = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	return sid;
}

static void show_first_difference(const char *what)
{
	size_t i = 0, line = 1, start = 0;
	while (i < got.len && i < want.len && got.buf[i] == want.buf[i]) {
		if (got.buf[i] == '\n') {
			line++;
			start = i + 1;
		}
		i++;
	}
	const char *g = got.buf + start, *w = want.buf + start;
	fprintf(stderr, "%s: line %zu differs\n  diff:      %.*s\n  reference: %.*s\n", what, line,
		(int)strcspn(g, "\n"), g, (int)strcspn(w, "\n"), w);
}

/*
 * The changed paths of dx_changed_paths and of the reference, for A and B
 * (indexes) in one scope; returns how many there were, *labelled (may be
 * NULL) how many of them are namespace-scoped with a namespace label.
 */
static size_t compare_pair(const char *a, const char *b, int scope, size_t *labelled)
{
	struct ps_diff_opts o;
	memset(&o, 0, sizeof(o));
	o.scope = (enum ps_diff_scope)scope;
	struct ps_err err = {0, ""};
	struct dctx c;
	memset(&c, 0, sizeof(c));
	c.o = &o;
	c.err = &err;
	c.d = ps_xcalloc(1, sizeof(*c.d));
	size_t n = 0;
	if (ps_index_open_memory(&c.db, &err) < 0 || ps_index_attach(c.db, a, "a", &err) < 0 ||
	    ps_index_attach(c.db, b, "b", &err) < 0) {
		fprintf(stderr, "%s %s: %s\n", a, b, err.msg);
		t_failures++;
		goto out;
	}
	c.d->a.sid = first_sid(c.db, "a");
	c.d->b.sid = first_sid(c.db, "b");
	/* the processes in both (diff.c's match_processes: none under
	 * --system-only) */
	char sql[512];
	snprintf(sql, sizeof(sql),
		 "CREATE TABLE pm(pid INTEGER PRIMARY KEY, starttime INT, partial_a INT, "
		 "partial_b INT); INSERT INTO pm(pid) SELECT pid FROM a.capture_processes x "
		 "WHERE snapshot_id = %lld AND %d AND EXISTS (SELECT 1 FROM b.capture_processes y "
		 "WHERE y.snapshot_id = %lld AND y.pid = x.pid AND y.starttime = x.starttime)",
		 (long long)c.d->a.sid, scope != PS_DIFF_SYSTEM, (long long)c.d->b.sid);
	CHECK_INT(sqlite3_exec(c.db, sql, NULL, NULL, NULL), SQLITE_OK);
	CHECK_INT(sqlite3_create_function(c.db, "ref_use", 5, SQLITE_UTF8 | SQLITE_DETERMINISTIC,
					  NULL, ref_use, NULL, NULL),
		  SQLITE_OK);
	CHECK_INT(ps_dx_changed_paths(&c), 0);
	ps_buf_reset(&got);
	ps_buf_reset(&want);
	for (size_t i = 0; i < c.npaths; i++)
		if (!c.paths[i].ns_scoped)
			add_dpath(&got, &c.paths[i]);
	for (size_t i = 0; i < c.npaths; i++)
		if (c.paths[i].ns_scoped)
			add_dpath(&got, &c.paths[i]);
	reference_paths(c.db, scope, c.d->a.sid, c.d->b.sid, &want);
	reference_ns(c.db, scope, c.d->a.sid, c.d->b.sid, &want);
	if (got.len != want.len || memcmp(got.buf, want.buf, got.len) != 0) {
		char what[1024];
		snprintf(what, sizeof(what), "%s %s scope %d", a, b, scope);
		show_first_difference(what);
		t_failures++;
	}
	/* the stats count the same */
	CHECK_U64(c.d->st.changed_paths, c.npaths);
	n = c.npaths;
	for (size_t i = 0; i < c.npaths; i++) {
		if (labelled && c.paths[i].label && strstr(c.paths[i].label, " ("))
			++*labelled;
		ps_dx_path_free(&c.paths[i]);
	}
	free(c.paths);
out:
	sqlite3_close(c.db);
	ps_diff_free(c.d);
	return n;
}

static char dir[256];

static void test_fixture(void)
{
	if (tu_sh(
		NULL,
		"cd %s && %s capture -q --root %s/samples/diff-a -o fa.tar.zst >/dev/null 2>&1 && "
		"%s capture -q --root %s/samples/diff-b -o fb.tar.zst >/dev/null 2>&1",
		dir, tu_procsnap(), PS_SOURCE_DIR, tu_procsnap(), PS_SOURCE_DIR) != 0) {
		CHECK(!"cannot capture the fixtures");
		return;
	}
	char a[512], b[512];
	snprintf(a, sizeof(a), "%s/fa.tar.zst.db", dir);
	snprintf(b, sizeof(b), "%s/fb.tar.zst.db", dir);
	/* samples/diff-golden/README.md: changes of every section, net/ and
	 * mountinfo in two namespaces */
	size_t labelled = 0;
	CHECK(compare_pair(a, b, PS_DIFF_ALL, &labelled) >= 10);
	CHECK(labelled >= 1); /* mountinfo (mnt:[4026532000]) */
	compare_pair(b, a, PS_DIFF_ALL, NULL);
	compare_pair(a, b, PS_DIFF_PROCESSES, NULL);
	compare_pair(a, b, PS_DIFF_SYSTEM, NULL);
	CHECK_INT(compare_pair(a, a, PS_DIFF_ALL, NULL), 0);
}

/* Many changes of every kind, made in the base tables of a copy of A. */
static const char crafted_sql[] =
    /* every id renumbered: nothing may match by id */
    "UPDATE strings SET str_id = str_id + 1000000;"
    "UPDATE paths SET name_id = name_id + 1000000, seq = 5000000 - seq, "
    "  content_id = content_id + 7000000;"
    "UPDATE sys_paths SET name_id = name_id + 1000000, path_id = 5000000 - path_id, "
    "  content_id = content_id + 7000000;"
    "UPDATE contents SET content_id = content_id + 7000000, target_id = target_id + 1000000;"
    /* contents: hashes changed, emptied, shortened */
    "UPDATE contents SET xxh3 = randomblob(16) WHERE content_id % 5 = 0;"
    "UPDATE contents SET xxh3 = NULL WHERE content_id % 23 = 0;"
    "UPDATE contents SET xxh3 = x'0011' WHERE content_id % 29 = 0;"
    /* link targets: another text, none */
    "INSERT INTO strings VALUES (1, 4000000, 'socket:[999999]', NULL);"
    "UPDATE contents SET target_id = 4000000 WHERE target_id IS NOT NULL AND content_id % 3 = 0;"
    "UPDATE contents SET target_id = NULL WHERE target_id IS NOT NULL AND content_id % 7 = 0;"
    /* kinds and errnos: a path points to a variant of its stats row (a
     * kind changed: + 100000; errno EACCES: + 200000, none: + 300000, '':
     * + 400000, EIO: + 500000) */
    "INSERT INTO stats SELECT snapshot_id, stat_id + 100000, (kind + 1) % 4, errno, mode, uid, "
    "  gid, mtime, damage FROM stats WHERE stat_id < 100000;"
    "INSERT INTO stats SELECT snapshot_id, stat_id + 200000, kind, 'EACCES', mode, uid, gid, "
    "  mtime, damage FROM stats WHERE stat_id < 100000;"
    "INSERT INTO stats SELECT snapshot_id, stat_id + 300000, kind, NULL, mode, uid, gid, mtime, "
    "  damage FROM stats WHERE stat_id < 100000;"
    "INSERT INTO stats SELECT snapshot_id, stat_id + 400000, kind, '', mode, uid, gid, mtime, "
    "  damage FROM stats WHERE stat_id < 100000;"
    "INSERT INTO stats SELECT snapshot_id, stat_id + 500000, kind, 'EIO', mode, uid, gid, mtime, "
    "  damage FROM stats WHERE stat_id < 100000;"
    "UPDATE paths SET stat_id = stat_id + 100000 WHERE seq % 11 = 0;"
    "UPDATE paths SET stat_id = stat_id + 200000 WHERE stat_id < 100000 AND seq % 13 = 0;"
    "UPDATE paths SET stat_id = stat_id + 300000 WHERE stat_id < 100000 AND seq % 2 = 0 AND "
    "  stat_id IN (SELECT stat_id FROM stats WHERE errno IS NOT NULL);"
    "UPDATE paths SET stat_id = stat_id + 400000 WHERE stat_id < 100000 AND seq % 37 = 0;"
    "UPDATE sys_paths SET stat_id = stat_id + 100000 WHERE path_id % 7 = 0;"
    "UPDATE sys_paths SET stat_id = stat_id + 500000 WHERE stat_id < 100000 AND path_id % 9 = 0;"
    /* rows gone */
    "DELETE FROM paths WHERE seq % 17 = 0;"
    "DELETE FROM sys_paths WHERE path_id % 19 = 0;"
    /* rows added: an fd of every pid, a thread directory and its files, a
     * system file, a row of a negative pid (a crafted index's: a system
     * file to the files view); stats 900000 + kind, 900003 absent ESRCH */
    "INSERT INTO stats(snapshot_id, stat_id, kind, mode) VALUES (1, 900000, 0, 33060), "
    "  (1, 900001, 1, 41471), (1, 900002, 2, 16749);"
    "INSERT INTO stats(snapshot_id, stat_id, kind, errno) VALUES (1, 900003, 3, 'ESRCH');"
    "INSERT INTO strings VALUES (1, 4000001, 'fd/12345', 1), (1, 4000002, 'proc/added-file', 1), "
    "  (1, 4000003, 'net/added', 1);"
    "INSERT INTO paths(pid, snapshot_id, seq, tid_off, name_id, stat_id, content_id) "
    "  SELECT pid, 1, 6000000 + pid, NULL, 4000001, 900001, "
    "  (SELECT max(content_id) FROM contents WHERE target_id IS NOT NULL) "
    "  FROM (SELECT DISTINCT pid FROM paths);"
    "INSERT INTO paths(pid, snapshot_id, seq, tid_off, name_id, stat_id, content_id) "
    "  SELECT pid, 1, 6100000 + pid, NULL, 4000003, 900000, "
    "  (SELECT max(content_id) FROM contents WHERE xxh3 IS NOT NULL) "
    "  FROM (SELECT DISTINCT pid FROM paths);"
    "INSERT INTO paths(pid, snapshot_id, seq, tid_off, name_id, stat_id, content_id) "
    "  SELECT pid, 1, 6200000 + pid, 999999 - pid, (SELECT str_id FROM strings WHERE text = ''), "
    "  900002, NULL FROM (SELECT DISTINCT pid FROM paths);"
    "INSERT INTO paths(pid, snapshot_id, seq, tid_off, name_id, stat_id, content_id) "
    "  SELECT pid, 1, 6300000 + pid, 999999 - pid, (SELECT str_id FROM strings WHERE text = "
    "  'stat'), 900000, (SELECT max(content_id) FROM contents WHERE xxh3 IS NOT NULL) "
    "  FROM (SELECT DISTINCT pid FROM paths);"
    "INSERT INTO paths(pid, snapshot_id, seq, tid_off, name_id, stat_id) "
    "  VALUES (-5, 1, 1, NULL, (SELECT str_id FROM strings WHERE text = 'stat'), 900003);"
    "INSERT INTO sys_paths(snapshot_id, path_id, name_id, stat_id, content_id) "
    "  VALUES (1, 8000000, 4000002, 900000, (SELECT min(content_id) FROM contents));"
    /* a process that is no longer the same (another starttime) */
    "UPDATE capture_processes SET starttime = starttime + 1 WHERE pid = "
    "  (SELECT max(pid) FROM capture_processes);";

static void test_crafted(void)
{
	if (geteuid() != 0)
		T_SKIP_CASE("needs root: a child in its own network and mount namespaces");
	/* a child with its own net/ and mountinfo */
	pid_t child = fork();
	if (child == 0) {
		execlp("unshare", "unshare", "-n", "-m", "--propagation", "private", "sleep", "600",
		       (char *)NULL);
		_exit(127);
	}
	CHECK(child > 0);
	usleep(300 * 1000);
	int st =
	    tu_sh(NULL, "cd %s && %s capture -q -p 1 -p %d -p %d -o live.tar.zst >/dev/null 2>&1",
		  dir, tu_procsnap(), (int)getpid(), (int)child);
	if (child > 0) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
	}
	CHECK_INT(st, 0);
	char a[512], b[512];
	snprintf(a, sizeof(a), "%s/live.tar.zst.db", dir);
	/* the capture has what the crafted changes need */
	CHECK(tu_sql_int(a, "SELECT count(DISTINCT pid) FROM paths") >= 3);
	CHECK(tu_sql_int(a, "SELECT count(*) FROM files WHERE path GLOB 'proc/*/net/*'") > 0);
	CHECK(tu_sql_int(a, "SELECT count(DISTINCT link_target) FROM files "
			    "WHERE path GLOB 'proc/*/ns/net'") >= 2);
	if (tu_crafted_index(a, "crafted.db", crafted_sql, b, sizeof(b)) < 0) {
		CHECK(!"cannot craft the copy");
		return;
	}
	size_t labelled = 0, n = compare_pair(a, b, PS_DIFF_ALL, &labelled);
	CHECK(n >= 200);
	CHECK(labelled >= 2); /* net/... of the child's namespace */
	compare_pair(b, a, PS_DIFF_ALL, NULL);
	compare_pair(a, b, PS_DIFF_PROCESSES, NULL);
	compare_pair(a, b, PS_DIFF_SYSTEM, NULL);
	CHECK_INT(compare_pair(b, b, PS_DIFF_ALL, NULL), 0);
}

/* PS_DIFF_REF_PAIR=A.db:B.db: one more pair (indexes), all three scopes. */
static void test_env_pair(void)
{
	const char *p = getenv("PS_DIFF_REF_PAIR");
	if (!p || !strchr(p, ':'))
		T_SKIP_CASE("PS_DIFF_REF_PAIR=A.db:B.db not set");
	char a[1024];
	snprintf(a, sizeof(a), "%.*s", (int)(strchr(p, ':') - p), p);
	const char *b = strchr(p, ':') + 1;
	for (int scope = 0; scope < 3; scope++)
		fprintf(stderr, "%s %s scope %d: %zu changed paths\n", a, b, scope,
			compare_pair(a, b, scope, NULL));
}

static void setup(void)
{
	snprintf(dir, sizeof(dir), "%s", tu_tmpdir());
}

static void teardown(void)
{
	ps_buf_release(&got);
	ps_buf_release(&want);
	tu_cleanup();
}

static const struct t_case t_cases[] = {T(test_fixture), T(test_crafted), T(test_env_pair), {0, 0}};
T_MAIN_SETUP(t_cases, setup, teardown)
