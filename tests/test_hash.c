/*
 * test_hash.c - hashes of what runs (issue 12 item 5): at capture, SHA-256,
 * SHA-1 and MD5 of every distinct executable and executable file mapping of
 * the captured processes, and of the bodies kept, in procsnap/hashes.tsv and
 * osquery's `hash` table:
 *   - the victim's exe and libc hashed right (against sha256sum & co), the
 *     join osquery queries use (processes.path = hash.path) works;
 *   - one row per (file, name): two victims of one exe give one row;
 *   - a deleted exe: its body's row and the exe's, with the same hashes,
 *     the file read once;
 *   - device and inode as process_memory_map gives them;
 *   - --hash-max: files over the budget listed, not read; --no-hash: none;
 *   - bodies of the same content in two processes (MD5 and SHA-1 taken from
 *     the first by SHA-256) and of another content: each row right;
 *   - a thousand bodies: hashes.tsv outgrows memory into a spill file, and
 *     comes back whole (every row in the table, verify intact);
 *   - a capture of every pid hashes procsnap's own exe and libraries ahead
 *     (capture/ahead.c): their rows are right; a --pid capture does not.
 */
#include "t.h"
#include "tutil.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define VICTIM PS_BINARY_DIR "/tests/victim"

static struct tu_victim v1, v2, vdel;
static char d_file[512], d_copy[512], snap[512], db[600], vexe[PATH_MAX];
static int started, deleted_ok;
static struct ps_buf out = PS_BUF_INIT;

/* `tool file` (sha256sum...) -> the hex digest, into d. */
static void digest(const char *tool, const char *file, char *d, size_t n)
{
	d[0] = '\0';
	if (tu_sh(&out, "%s '%s' | cut -d' ' -f1", tool, file) == 0 && out.len > 1) {
		out.buf[strcspn(out.buf, "\n")] = '\0';
		snprintf(d, n, "%s", out.buf);
	}
}

/* `tool path` gives what column col of path's row of hash holds (and: more
 * of the WHERE). */
static void check_digest(const char *tool, const char *col, const char *path, const char *and)
{
	char want[200], t[200];
	digest(tool, path, want, sizeof(want));
	CHECK_INT(
	    tu_sql(db, t, sizeof(t), "SELECT %s FROM hash WHERE path = '%s'%s", col, path, and), 0);
	CHECK_STR(t, want);
}

static void setup(void)
{
	const char *d = tu_tmpdir();
	chmod(d, 0755);
	snprintf(d_file, sizeof(d_file), "%s/f.txt", d);
	snprintf(d_copy, sizeof(d_copy), "%s/victim-copy", d);
	snprintf(snap, sizeof(snap), "%s/h.tar.zst", d);
	snprintf(db, sizeof(db), "%s.db", snap);
	if (getuid() != 0)
		T_SKIP("needs root (reads other processes' exe and map_files)");
	if (!realpath(VICTIM, vexe) ||
	    tu_sh(NULL, "echo x > '%s' && cp '%s' '%s'", d_file, VICTIM, d_copy) != 0)
		return;
	const char *args[] = {NULL};
	const char *env[] = {"PATH=/usr/bin:/bin", NULL};
	started = tu_victim_start(&v1, d_file, args, env) == 0 &&
		  tu_victim_start(&v2, d_file, args, env) == 0;
	/* a copy of the victim, started then deleted: " (deleted)" exe */
	tu_victim_bin = d_copy;
	deleted_ok = tu_victim_start(&vdel, d_file, args, env) == 0 && unlink(d_copy) == 0;
	tu_victim_bin = NULL;
	if (!started)
		fprintf(stderr, "victims did not start\n");
}

static void teardown(void)
{
	if (v1.pid)
		tu_victim_stop(&v1);
	if (v2.pid)
		tu_victim_stop(&v2);
	if (vdel.pid)
		tu_victim_stop(&vdel);
	ps_buf_release(&out);
	tu_cleanup();
}

static int capture(const char *opts)
{
	unlink(db);
	unlink(snap);
	return tu_sh(NULL, "%s capture -q -f -o %s %s --pid %d --pid %d%s%d 2>/dev/null",
		     tu_procsnap(), snap, opts, v1.pid, v2.pid, deleted_ok ? " --pid " : "",
		     deleted_ok ? vdel.pid : 0);
}

static void test_exe_and_libs(void)
{
	char t[512], want[200];
	if (!started)
		T_SKIP_CASE("no victims");
	CHECK_INT(capture(""), 0);
	/* the exe: one row for both victims (one file, one name), first pid */
	CHECK_INT(tu_sql_int(db, "SELECT count(*) FROM hash WHERE path = '%s'", vexe), 1);
	CHECK_INT(tu_sql_int(db, "SELECT pid FROM hash WHERE path = '%s'", vexe),
		  v1.pid < v2.pid ? v1.pid : v2.pid);
	digest("sha256sum", vexe, want, sizeof(want));
	CHECK_INT(tu_sql(db, t, sizeof(t),
			 "SELECT sha256 || ' ' || source || ' ' || quote(status) || ' ' || "
			 "directory FROM hash WHERE path = '%s'",
			 vexe),
		  0);
	char w2[1200];
	snprintf(w2, sizeof(w2), "%s exe NULL %.*s", want, (int)(strrchr(vexe, '/') - vexe), vexe);
	CHECK_STR(t, w2);
	check_digest("sha1sum", "sha1", vexe, "");
	check_digest("md5sum", "md5", vexe, "");
	/* the join published queries use */
	CHECK_INT(tu_sql_int(db,
			     "SELECT count(*) FROM processes p JOIN hash h ON h.path = p.path "
			     "WHERE p.pid IN (%d, %d) AND length(h.sha256) = 64",
			     v1.pid, v2.pid),
		  2);
	/* libc, an executable mapping: its hashes, and the device and inode
	 * process_memory_map shows for it */
	CHECK_INT(tu_sql(db, t, sizeof(t),
			 "SELECT path FROM process_memory_map WHERE pid = %d AND path GLOB "
			 "'*/libc.so*' AND permissions GLOB '??x?' LIMIT 1",
			 v1.pid),
		  0);
	char libc[512];
	snprintf(libc, sizeof(libc), "%s", t);
	digest("sha256sum", libc, want, sizeof(want));
	CHECK_INT(tu_sql(db, t, sizeof(t),
			 "SELECT sha256 || ' ' || source FROM hash WHERE path = '%s'", libc),
		  0);
	snprintf(w2, sizeof(w2), "%s map", want);
	CHECK_STR(t, w2);
	CHECK_INT(tu_sql_int(db,
			     "SELECT count(*) FROM hash h JOIN process_memory_map m ON m.pid = %d "
			     "AND m.path = h.path AND m.device = h.device AND m.inode = h.inode "
			     "WHERE h.path = '%s'",
			     v1.pid, libc) > 0,
		  1);
	/* every executable file mapping of the victim has its row */
	CHECK_INT(tu_sql_int(db,
			     "SELECT count(*) FROM process_memory_map m WHERE m.pid = %d AND "
			     "m.permissions GLOB '??x?' AND m.inode != 0 AND NOT EXISTS (SELECT 1 "
			     "FROM hash h WHERE h.path = m.path AND h.sha256 IS NOT NULL)",
			     v1.pid),
		  0);
	tu_sh(&out, "%s cat %s procsnap/summary.json", tu_procsnap(), snap);
	CHECK(strstr(out.buf, "\"hash\":{\"rows\":") != NULL);
	tu_sh(&out, "%s cat %s procsnap/meta.json", tu_procsnap(), snap);
	CHECK(strstr(out.buf, "\"hash\":true,\"hash_max\":536870912") != NULL);
}

static void test_deleted_exe(void)
{
	char t[512], want[200];
	if (!started || !deleted_ok)
		T_SKIP_CASE("no deleted victim");
	CHECK_INT(capture(""), 0);
	digest("sha256sum", vexe, want, sizeof(want)); /* the copy had the same bytes */
	/* the body (kept by default for a deleted exe) and the exe itself: the
	 * same hashes, the name without " (deleted)" */
	CHECK_INT(tu_sql(db, t, sizeof(t),
			 "SELECT group_concat(source || ' ' || coalesce(member, '-') || ' ' || "
			 "sha256, '|') FROM (SELECT * FROM hash WHERE path = '%s' ORDER BY source)",
			 d_copy),
		  0);
	char w2[1200];
	snprintf(w2, sizeof(w2), "body proc/%d/exe.body %s|exe - %s", vdel.pid, want, want);
	CHECK_STR(t, w2);
	CHECK_INT(tu_sql_int(db,
			     "SELECT count(*) FROM processes p JOIN hash h ON h.path = p.path AND "
			     "h.source = 'exe' WHERE p.pid = %d AND p.exe_deleted = 1",
			     vdel.pid),
		  1);
}

static void test_budget(void)
{
	char t[512];
	if (!started)
		T_SKIP_CASE("no victims");
	/* 1 KiB: nothing fits; each file is listed, none read */
	CHECK_INT(capture("--hash-max 1K"), 0);
	CHECK_INT(tu_sql(db, t, sizeof(t),
			 "SELECT status || ' ' || quote(sha256) || ' ' || (size > 1024) FROM hash "
			 "WHERE path = '%s'",
			 vexe),
		  0);
	CHECK_STR(t, "budget NULL 1");
	/* (the deleted exe's hashes come from its body: known, not read) */
	CHECK_INT(tu_sql_int(db,
			     "SELECT count(*) FROM hash WHERE source != 'body' AND sha256 IS NOT "
			     "NULL AND path != '%s'",
			     d_copy),
		  0);
	tu_sh(&out, "%s cat %s procsnap/summary.json", tu_procsnap(), snap);
	CHECK(strstr(out.buf, "\"over_budget\":0") == NULL);
	/* --no-hash: no member, an empty table */
	CHECK_INT(capture("--no-hash"), 0);
	CHECK_INT(tu_sql_int(db, "SELECT count(*) FROM hash"), 0);
	CHECK_INT(tu_sql_int(db, "SELECT count(*) FROM files WHERE path = 'procsnap/hashes.tsv'"),
		  0);
	tu_sh(&out, "%s cat %s procsnap/meta.json", tu_procsnap(), snap);
	CHECK(strstr(out.buf, "\"hash\":false") != NULL);
}

/* Deleted files held open: two with the same bytes (v1, v2), one other
 * (v1).  Every body row has the digests of its own bytes. */
static void test_identical_bodies(void)
{
	char t[512], f[3][600], keep[3][600], want[3][3][200], reply[200];
	const char *tools[3] = {"md5sum", "sha1sum", "sha256sum"};
	if (!started)
		T_SKIP_CASE("no victims");
	const char *d = tu_tmpdir();
	for (int i = 0; i < 3; i++) {
		snprintf(f[i], sizeof(f[i]), "%s/body%d", d, i);
		snprintf(keep[i], sizeof(keep[i]), "%s/keep%d", d, i);
		CHECK_INT(tu_sh(NULL, "head -c 3000 /dev/urandom > '%s'", keep[i == 1 ? 0 : i]), 0);
		CHECK_INT(tu_sh(NULL, "cp '%s' '%s'", keep[i == 1 ? 0 : i], f[i]), 0);
		for (int k = 0; k < 3; k++)
			digest(tools[k], keep[i == 1 ? 0 : i], want[i][k], sizeof(want[i][k]));
	}
	int fd[3];
	struct tu_victim *who[3] = {&v1, &v2, &v1};
	for (int i = 0; i < 3; i++) {
		CHECK_INT(tu_victim_cmd(who[i], reply, sizeof(reply), "open %s", f[i]), 0);
		const char *p = strstr(reply, "fd=");
		CHECK(p != NULL);
		fd[i] = atoi(p + 3);
		CHECK_INT(unlink(f[i]), 0);
	}
	CHECK_INT(capture(""), 0);
	for (int i = 0; i < 3; i++) {
		CHECK_INT(
		    tu_sql(db, t, sizeof(t),
			   "SELECT md5 || ' ' || sha1 || ' ' || sha256 || ' ' || size FROM hash "
			   "WHERE member = 'proc/%d/fd/%d.body'",
			   who[i]->pid, fd[i]),
		    0);
		char w2[2000];
		snprintf(w2, sizeof(w2), "%s %s %s 3000", want[i][0], want[i][1], want[i][2]);
		CHECK_STR(t, w2);
	}
	for (int i = 0; i < 3; i++)
		tu_victim_cmd(who[i], NULL, 0, "close %d", fd[i]);
}

/* 520 deleted fds in each of two victims: over 256 KiB of hashes.tsv rows,
 * which capture spools into a file rather than memory. */
static void test_many_bodies(void)
{
	char f[1200], reply[200];
	if (!started)
		T_SKIP_CASE("no victims");
	/* a path of ~850 bytes: 1,040 lines of hashes.tsv make more than
	 * 1 MiB, which capture hands to the index builder through a spill
	 * file and the builder parses a piece at a time */
	char seg[201];
	memset(seg, 'd', 200);
	seg[200] = '\0';
	int fl = snprintf(f, sizeof(f), "%s", tu_tmpdir());
	for (int i = 0; i < 4; i++) {
		fl += snprintf(f + fl, sizeof(f) - (size_t)fl, "/%s", seg);
		CHECK_INT(mkdir(f, 0700), 0);
	}
	snprintf(f + fl, sizeof(f) - (size_t)fl, "/many-bodies");
	CHECK_INT(tu_sh(NULL, "head -c 100 /dev/urandom > '%s'", f), 0);
	struct tu_victim *who[2] = {&v1, &v2};
	int first[2] = {-1, -1}, last[2] = {-1, -1};
	for (int k = 0; k < 2; k++) {
		for (int i = 0; i < 520; i++) {
			CHECK_INT(tu_victim_cmd(who[k], reply, sizeof(reply), "open %s", f), 0);
			const char *p = strstr(reply, "fd=");
			CHECK(p != NULL);
			last[k] = atoi(p + 3);
			if (first[k] < 0)
				first[k] = last[k];
		}
	}
	CHECK_INT(unlink(f), 0);
	CHECK_INT(capture(""), 0);
	CHECK_INT(tu_sql_int(db,
			     "SELECT count(*) FROM hash WHERE source = 'body' AND path = '%s' AND "
			     "length(sha256) = 64 AND pid IN (%d, %d)",
			     f, v1.pid, v2.pid),
		  1040);
	tu_sh(&out, "%s cat %s procsnap/hashes.tsv | wc -lc", tu_procsnap(), snap);
	long lines = 0, bytes = 0;
	CHECK_INT(sscanf(out.buf, "%ld %ld", &lines, &bytes), 2);
	CHECK(lines > 1040 && bytes > (1 << 20));
	CHECK_INT(tu_sh(NULL, "%s verify %s >/dev/null 2>&1", tu_procsnap(), snap), 0);
	for (int k = 0; k < 2; k++)
		for (int fd = first[k]; fd <= last[k]; fd++)
			tu_victim_cmd(who[k], NULL, 0, "close %d", fd);
}

/* A capture of every pid: procsnap's own files were digested ahead, and
 * every executable file the capturing procsnap maps has its right SHA-256
 * (whichever thread read it). */
static void test_own_files_ahead(void)
{
	char self[PATH_MAX];
	CHECK(realpath(tu_procsnap(), self) != NULL);
	unlink(db);
	unlink(snap);
	CHECK_INT(tu_sh(NULL, "%s capture -q -f -o %s 2>/dev/null", tu_procsnap(), snap), 0);
	tu_sh(&out, "%s cat %s procsnap/summary.json", tu_procsnap(), snap);
	const char *a = strstr(out.buf, "\"ahead\":");
	CHECK(a != NULL);
	if (a)
		printf("%.40s\n", a);
	check_digest("sha256sum", "sha256", self, " AND source = 'exe' AND sha256 IS NOT NULL");
	/* each executable file mapped by a procsnap process of the capture is
	 * hashed right (the same device and inode: a process of another mount
	 * namespace may map another file under the same name; rows without
	 * digests are other processes' failures, a victim of another test that
	 * exited between its maps and its map_files) */
	CHECK_INT(tu_sh(&out,
			"%s query --format csv %s \"SELECT DISTINCT h.path, h.sha256 FROM hash h "
			"JOIN process_memory_map m ON m.path = h.path AND m.device = h.device AND "
			"m.inode = h.inode WHERE m.pid IN (SELECT pid FROM processes WHERE path = "
			"'%s') AND m.permissions GLOB '??x?' AND h.sha256 IS NOT NULL\" | tr -d "
			"'\\r' | tail -n +2 | while "
			"IFS=, read -r p h; do "
			"[ \"$(sha256sum \"$p\" | cut -d' ' -f1)\" = \"$h\" ] && echo ok || echo "
			"\"bad $p\"; done",
			tu_procsnap(), snap, self),
		  0);
	CHECK(strstr(out.buf, "ok\n") != NULL);
	CHECK(strstr(out.buf, "bad") == NULL);
	if (strstr(out.buf, "bad"))
		fprintf(stderr, "%s", out.buf);
	/* some pids only: nothing ahead */
	if (!started)
		return;
	CHECK_INT(capture(""), 0);
	tu_sh(&out, "%s cat %s procsnap/summary.json", tu_procsnap(), snap);
	CHECK(strstr(out.buf, "\"ahead\":0,") != NULL);
}

static const struct t_case t_cases[] = {
    T(test_exe_and_libs), T(test_deleted_exe),	   T(test_budget), T(test_identical_bodies),
    T(test_many_bodies),  T(test_own_files_ahead), {0, 0}};
T_MAIN_SETUP(t_cases, setup, teardown)
