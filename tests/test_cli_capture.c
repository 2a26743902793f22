/*
 * test_cli_capture.c - `procsnap capture` end to end: a victim process with
 * known argv, environment, fds, mapping and threads is captured and its
 * files are checked byte for byte in the archive and the index; the archive
 * opens with stock tools; hashes, hardlinks, errors, determinism, output
 * safety (no overwrite, 0600, full disk) and index identity.
 */
#include "t.h"
#include "tutil.h"

#include "store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define FIXTURE PS_SOURCE_DIR "/samples/proc-fixture"

static struct ps_buf out = PS_BUF_INIT;

/* procsnap cat SNAP PATH into out; returns exit status. */
static int cat(const char *snap, const char *path)
{
	return tu_sh(&out, "%s cat '%s' '%s'", tu_procsnap(), snap, path);
}

static void test_live_victim(void)
{
	const char *d = tu_tmpdir();
	char file[512], snap[512], db[520];
	snprintf(file, sizeof(file), "%s/known file.txt", d);
	snprintf(snap, sizeof(snap), "%s/live.tar.zst", d);
	snprintf(db, sizeof(db), "%s.db", snap);
	CHECK_INT(tu_sh(NULL, "head -c 5000 /dev/zero > '%s'", file), 0);
	struct tu_victim v;
	const char *args[] = {"arg with space", "x", NULL};
	const char *env[] = {"PS_TEST_VAR=hello world", "PATH=/usr/bin:/bin", NULL};
	CHECK_INT(tu_victim_start(&v, file, args, env), 0);

	CHECK_INT(
	    tu_sh(NULL, "%s capture -q -o %s --pid %d 2>%s/err.txt", tu_procsnap(), snap, v.pid, d),
	    0);
	struct stat st;
	CHECK_INT(stat(snap, &st), 0);
	CHECK_INT(st.st_mode & 0777, 0600);

	/* exact bytes of cmdline and environ */
	CHECK_INT(cat(snap, "proc/0/cmdline"), 2); /* not captured: an error, status 2 */
	char p[256];
	snprintf(p, sizeof(p), "proc/%d/cmdline", v.pid);
	CHECK_INT(cat(snap, p), 0);
	char want[1024];
	int wl = snprintf(want, sizeof(want), "%s/tests/victim%c%s%carg with space%cx%c",
			  PS_BINARY_DIR, 0, file, 0, 0, 0);
	CHECK(out.len == (size_t)wl && memcmp(out.buf, want, (size_t)wl) == 0);
	snprintf(p, sizeof(p), "proc/%d/environ", v.pid);
	CHECK_INT(cat(snap, p), 0);
	const char envb[] = "PS_TEST_VAR=hello world\0PATH=/usr/bin:/bin\0";
	CHECK(out.len == sizeof(envb) - 1 && memcmp(out.buf, envb, out.len) == 0);

	/* fd links */
	char t[1024];
	CHECK_INT(
	    tu_sql(db, t, sizeof(t),
		   "SELECT link_target FROM files WHERE path = 'proc/%d/fd/%d' AND kind='link'",
		   v.pid, v.file_fd),
	    0);
	CHECK_STR(t, file);
	CHECK_INT(tu_sql(db, t, sizeof(t),
			 "SELECT link_target FROM files WHERE path = 'proc/%d/fd/%d'", v.pid,
			 v.pipe_r),
		  0);
	CHECK(strncmp(t, "pipe:[", 6) == 0);
	char rl[256], lk[256];
	snprintf(lk, sizeof(lk), "/proc/%d/fd/%d", v.pid, v.sock_fd);
	ssize_t n = readlink(lk, rl, sizeof(rl) - 1);
	rl[n > 0 ? n : 0] = '\0';
	CHECK(strncmp(rl, "socket:[", 8) == 0);
	CHECK_INT(tu_sql(db, t, sizeof(t),
			 "SELECT link_target FROM files WHERE path = 'proc/%d/fd/%d'", v.pid,
			 v.sock_fd),
		  0);
	CHECK_STR(t, rl);
	/* the same link through cat */
	snprintf(p, sizeof(p), "proc/%d/fd/%d", v.pid, v.sock_fd);
	CHECK_INT(cat(snap, p), 0);
	CHECK(out.len == strlen(rl) + 1 && memcmp(out.buf, rl, strlen(rl)) == 0);

	/* exe link */
	snprintf(lk, sizeof(lk), "/proc/%d/exe", v.pid);
	n = readlink(lk, rl, sizeof(rl) - 1);
	rl[n > 0 ? n : 0] = '\0';
	CHECK_INT(tu_sql(db, t, sizeof(t),
			 "SELECT link_target FROM files WHERE path = 'proc/%d/exe'", v.pid),
		  0);
	CHECK_STR(t, rl);

	/* task/<tid>/ for all 4 threads, equal to the live listing */
	char tdir[64];
	snprintf(tdir, sizeof(tdir), "/proc/%d/task", v.pid);
	DIR *dd = opendir(tdir);
	int ntids = 0;
	struct dirent *de;
	while (dd && (de = readdir(dd))) {
		if (de->d_name[0] == '.')
			continue;
		ntids++;
		CHECK_INT(
		    tu_sql_int(db,
			       "SELECT count(*) FROM files WHERE path = 'proc/%d/task/%s' AND "
			       "kind = 'dir' AND tid = %s",
			       v.pid, de->d_name, de->d_name),
		    1);
		CHECK_INT(
		    tu_sql_int(db,
			       "SELECT count(*) FROM files WHERE path = 'proc/%d/task/%s/stat' "
			       "AND kind = 'file' AND size > 0",
			       v.pid, de->d_name),
		    1);
	}
	if (dd)
		closedir(dd);
	CHECK_INT(ntids, 4);
	CHECK_INT(tu_sql_int(db,
			     "SELECT count(*) FROM files WHERE pid = %d AND tid IS NOT NULL AND "
			     "kind = 'dir' AND path GLOB 'proc/*/task/*' AND path NOT GLOB "
			     "'proc/*/task/*/*'",
			     v.pid),
		  4);
	/* per-process repeats are not under task/ */
	CHECK_INT(
	    tu_sql_int(db,
		       "SELECT count(*) FROM files WHERE pid = %d AND (path GLOB "
		       "'proc/*/task/*/maps' OR path GLOB 'proc/*/task/*/environ' OR path GLOB "
		       "'proc/*/task/*/fd/*')",
		       v.pid),
	    0);

	/* files rows carry the XXH3 of the bytes in the archive */
	snprintf(p, sizeof(p), "proc/%d/status", v.pid);
	CHECK_INT(cat(snap, p), 0);
	unsigned char h[16];
	char hex[33];
	ps_xxh3_128(out.buf, out.len, h);
	ps_hex(hex, h, 16);
	CHECK_INT(tu_sql(db, t, sizeof(t), "SELECT xxh3 FROM files WHERE path = '%s'", p), 0);
	CHECK_STR(t, hex);
	CHECK_INT(tu_sql_int(db, "SELECT size FROM files WHERE path = '%s'", p),
		  (long long)out.len);
	CHECK(strstr(out.buf, "PPid:") != NULL);

	/* starttime (stat field 22) recorded for the identity */
	char sp[64];
	snprintf(sp, sizeof(sp), "/proc/%d/stat", v.pid);
	struct ps_buf sb = PS_BUF_INIT;
	CHECK_INT(tu_slurp(sp, &sb), 0);
	const char *rp = strrchr(sb.buf, ')');
	unsigned long long start = 0;
	int field = 2;
	for (const char *q = rp; q && *q && field < 22; q++)
		if (*q == ' ' && ++field == 22)
			start = strtoull(q + 1, NULL, 10);
	CHECK(start > 0);
	CHECK_INT(tu_sql_int(db, "SELECT starttime FROM capture_processes WHERE pid = %d", v.pid),
		  (long long)start);
	CHECK_INT(tu_sql_int(db, "SELECT partial FROM capture_processes WHERE pid = %d", v.pid), 0);
	ps_buf_release(&sb);
	pid_t vpid = v.pid;
	tu_victim_stop(&v);

	/* the same capture through `ls` */
	CHECK_INT(tu_sh(&out, "%s ls %s 'proc/*/cmdline'", tu_procsnap(), snap), 0);
	snprintf(p, sizeof(p), "proc/%d/cmdline\n", (int)vpid);
	CHECK(strstr(out.buf, p) != NULL);
}

/* Stock tools read the archive; every manifest hash matches the member's
 * bytes as extracted by GNU tar; duplicated content is a hardlink. */
static void test_stock_tools_and_hashes(void)
{
	const char *d = tu_tmpdir();
	char snap[512];
	snprintf(snap, sizeof(snap), "%s/fx.tar.zst", d);
	CHECK_INT(
	    tu_sh(NULL, "%s capture -q -o %s --root %s 2>/dev/null", tu_procsnap(), snap, FIXTURE),
	    0);
	CHECK_INT(tu_sh(&out, "tar --zstd -tvf %s 2>/dev/null", snap), 0);
	const char *first_nl = strchr(out.buf, '\n');
	CHECK(first_nl && memmem(out.buf, (size_t)(first_nl - out.buf), "procsnap/meta.json", 18));
	CHECK(out.len > 2 && strstr(out.buf, "procsnap/manifest.tsv\n") ==
				 out.buf + out.len - strlen("procsnap/manifest.tsv\n"));
	CHECK(strstr(out.buf, " link to ") != NULL); /* identical content -> hardlink */

	CHECK_INT(tu_sh(NULL, "mkdir -p %s/x && tar --zstd -xf %s -C %s/x 2>/dev/null", d, snap, d),
		  0);
	char mpath[600];
	snprintf(mpath, sizeof(mpath), "%s/x/procsnap/manifest.tsv", d);
	struct ps_buf man = PS_BUF_INIT, pb = PS_BUF_INIT, fb = PS_BUF_INIT, full = PS_BUF_INIT;
	CHECK_INT(tu_slurp(mpath, &man), 0);
	int checked = 0;
	for (char *l = man.buf; l < man.buf + man.len;) {
		char *nl = strchr(l, '\n');
		struct ps_manifest_line ml;
		CHECK_INT(ps_manifest_parse_line(l, (size_t)(nl - l), &pb, &ml), 0);
		if (ml.kind == PS_M_FILE) {
			ps_buf_reset(&full);
			ps_buf_addf(&full, "%s/x/%s", d, pb.buf);
			CHECK_INT(tu_slurp(full.buf, &fb), 0);
			unsigned char h[16];
			ps_xxh3_128(fb.buf, fb.len, h);
			CHECK(memcmp(h, ml.xxh3, 16) == 0);
			CHECK_U64(fb.len, ml.size);
			checked++;
		}
		l = nl + 1;
	}
	CHECK(checked > 20);
	ps_buf_release(&man);
	ps_buf_release(&pb);
	ps_buf_release(&fb);
	ps_buf_release(&full);
	/* xxhsum agrees on one of them (canonical order) */
	CHECK_INT(tu_sh(&out,
			"cd %s/x && xxhsum -H2 proc/meminfo | cut -d' ' -f1 | tr -d '\\n' && "
			"printf ' ' && grep '^proc/meminfo\t' procsnap/manifest.tsv | cut -f4",
			d),
		  0);
	char a[64] = "", b[64] = "";
	CHECK_INT(sscanf(out.buf, "%63s %63s", a, b), 2);
	CHECK_STR(a, b);
}

static void test_unreadable_recorded(void)
{
	const char *d = tu_tmpdir();
	char snap[512], db[520];
	snprintf(snap, sizeof(snap), "%s/dead.tar.zst", d);
	snprintf(db, sizeof(db), "%s.db", snap);
	pid_t c = fork();
	if (c == 0)
		_exit(0);
	waitpid(c, NULL, 0);
	CHECK_INT(
	    tu_sh(NULL, "%s capture -q -o %s --pid %d 2>/dev/null", tu_procsnap(), snap, (int)c),
	    0);
	char t[64];
	CHECK_INT(
	    tu_sql(db, t, sizeof(t), "SELECT errno FROM files WHERE path = 'proc/%d'", (int)c), 0);
	CHECK_STR(t, "ENOENT");
	CHECK_INT(tu_sql(db, t, sizeof(t), "SELECT kind FROM files WHERE path = 'proc/%d'", (int)c),
		  0);
	CHECK_STR(t, "absent");
	CHECK_INT(tu_sh(&out,
			"tar --zstd -xOf %s procsnap/manifest.tsv | grep -c "
			"'^proc/%d\tabsent\t0\t-\t[0-9]*\tENOENT$'",
			snap, (int)c),
		  0);
}

/* A file nobody may read, captured by an unprivileged user: EACCES. */
static void test_unreadable_unprivileged(void)
{
	const char *d = tu_tmpdir();
	char t[64];
	if (geteuid() != 0 || tu_sh(NULL, "command -v setpriv >/dev/null") != 0)
		T_SKIP_CASE("needs root and setpriv to capture as uid 65534");
	char root[512], snap2[520];
	snprintf(root, sizeof(root), "%s/fxcopy", d);
	snprintf(snap2, sizeof(snap2), "%s/unpriv/u.tar.zst", d);
	CHECK_INT(tu_sh(NULL,
			"cp -a %s %s && chmod 000 %s/meminfo && mkdir -p %s/unpriv && "
			"chmod 777 %s/unpriv && chmod 755 %s",
			FIXTURE, root, root, d, d, d),
		  0);
	CHECK_INT(tu_sh(NULL,
			"setpriv --reuid=65534 --regid=65534 --clear-groups %s capture -q "
			"-o %s --root %s 2>/dev/null",
			tu_procsnap(), snap2, root),
		  0);
	char db2[530];
	snprintf(db2, sizeof(db2), "%s.db", snap2);
	CHECK_INT(tu_sql(db2, t, sizeof(t),
			 "SELECT errno || ' ' || kind FROM files WHERE path = 'proc/meminfo'"),
		  0);
	CHECK_STR(t, "EACCES absent");
	/* info's errors by errno (counted through the stats rows with an errno,
	 * store.h ps_files_errno_counts_sql) are the view's GROUP BY errno:
	 * the system file's EACCES and the fixture's pid files' errors */
	struct ps_buf want = PS_BUF_INIT;
	CHECK_INT(tu_sh(&want,
			"%s query --format csv %s \"SELECT errno || '=' || count(*) FROM files "
			"WHERE errno IS NOT NULL GROUP BY errno ORDER BY count(*) DESC, errno\" | "
			"tail -n +2 | tr -d '\\r' | tr '\\n' ' '",
			tu_procsnap(), snap2),
		  0);
	CHECK(strstr(want.buf, "EACCES=") != NULL);
	CHECK_INT(tu_sh(&out, "%s info %s | sed -n 's/^errors *//p' | tr '\\n' ' '", tu_procsnap(),
			snap2),
		  0);
	CHECK_STR(out.buf, want.buf);
	ps_buf_release(&want);
}

/* Two captures of the fixture: same paths, kinds and hashes. */
static void test_fixture_deterministic(void)
{
	const char *d = tu_tmpdir();
	struct ps_buf a = PS_BUF_INIT;
	for (int i = 0; i < 2; i++) {
		CHECK_INT(tu_sh(NULL, "%s capture -q -f -o %s/det%d.tar.zst --root %s 2>/dev/null",
				tu_procsnap(), d, i, FIXTURE),
			  0);
		CHECK_INT(tu_sh(i ? &out : &a,
				"sqlite3 %s/det%d.tar.zst.db \"SELECT path, kind, size, xxh3, "
				"link_target, errno, mode, uid FROM files WHERE path NOT LIKE "
				"'procsnap/%%' ORDER BY path_id\"",
				d, i),
			  0);
	}
	CHECK(a.len > 100);
	CHECK(a.len == out.len && memcmp(a.buf, out.buf, a.len) == 0);
	ps_buf_release(&a);
}

/* A hardlink to content the tables parse that is larger than what the
 * rebuild caches as it goes by (index.c CACHE_EAGER_MAX, 16 KiB): the
 * first is read back from the archive, the next from the cache; every
 * process still gets its rows, as in the capture's index. */
static void test_index_large_hardlinks(void)
{
	const char *d = tu_tmpdir();
	char root[512], snap[600], cdb[700], rdb[700], t[64];
	snprintf(root, sizeof(root), "%s/bigenv-root", d);
	CHECK_INT(tu_sh(NULL, "cp -a %s %s", FIXTURE, root), 0);
	/* 400 variables, 24,400 bytes, the same in three processes */
	struct ps_buf env = PS_BUF_INIT;
	for (int i = 0; i < 400; i++) {
		ps_buf_addf(&env, "V%03d=%050d", i, i);
		ps_buf_add(&env, "", 1);
	}
	CHECK(env.len > 16384);
	static const char *const pids[] = {"1", "42", "4242"};
	for (size_t i = 0; i < 3; i++) {
		char p[600];
		snprintf(p, sizeof(p), "%s/%s/environ", root, pids[i]);
		FILE *f = fopen(p, "w");
		CHECK(f != NULL);
		if (!f)
			return;
		CHECK(fwrite(env.buf, 1, env.len, f) == env.len);
		fclose(f);
	}
	ps_buf_release(&env);
	snprintf(snap, sizeof(snap), "%s/bigenv.tar.zst", d);
	CHECK_INT(tu_sh(NULL, "%s capture -q -o %s --root %s 2>/dev/null", tu_procsnap(), snap, root),
		  0);
	/* the second and third are hardlinks in the archive */
	CHECK_INT(tu_sh(&out, "zstd -dcq %s | tar tvf - | grep -c ' link to proc/1/environ$'", snap),
		  0);
	CHECK_STR(out.buf, "2\n");
	snprintf(cdb, sizeof(cdb), "%s.db", snap);
	snprintf(rdb, sizeof(rdb), "%s/bigenv-rebuilt.db", d);
	CHECK_INT(tu_sh(NULL, "%s -q index -o %s %s", tu_procsnap(), rdb, snap), 0);
	CHECK_INT(tu_index_same(cdb, rdb), 0);
	CHECK_INT(tu_sql(rdb, t, sizeof(t),
			 "SELECT group_concat(pid || ':' || n, ' ') FROM (SELECT pid, count(*) n "
			 "FROM process_envs WHERE pid IN (1, 42, 4242) GROUP BY pid ORDER BY pid)"),
		  0);
	CHECK_STR(t, "1:400 42:400 4242:400");
	CHECK_INT(tu_sql(rdb, t, sizeof(t),
			 "SELECT value FROM process_envs WHERE pid = 4242 AND key = 'V399'"),
		  0);
	CHECK_STR(t, "00000000000000000000000000000000000000000000000399");
}

/* The index a capture writes equals the one rebuilt from the archive. */
static void test_index_identical(void)
{
	const char *d = tu_tmpdir();
	char snap[512];
	snprintf(snap, sizeof(snap), "%s/id.tar.zst", d);
	CHECK_INT(
	    tu_sh(NULL, "%s capture -q -o %s --root %s 2>/dev/null", tu_procsnap(), snap, FIXTURE),
	    0);
	CHECK_INT(tu_sh(NULL, "%s -q index -o %s/rebuilt.db %s", tu_procsnap(), d, snap), 0);
	/* Row for row, but for the SHA-256: the capture records the file's,
	 * a rebuild none (the file as it is now would vouch for nothing). */
	struct ps_buf a = PS_BUF_INIT, sha = PS_BUF_INIT;
	char cdb[600], rdb[600];
	snprintf(cdb, sizeof(cdb), "%s.db", snap);
	snprintf(rdb, sizeof(rdb), "%s/rebuilt.db", d);
	CHECK_INT(tu_index_same(cdb, rdb), 0);
	CHECK_INT(tu_sh(&sha, "sha256sum %s | cut -c1-64", snap), 0);
	CHECK_INT(tu_sh(&a, "sqlite3 %s 'SELECT archive_sha256 FROM snapshots'", cdb), 0);
	CHECK(sha.len == 65 && a.len == 65 && memcmp(a.buf, sha.buf, 65) == 0);
	/* verify beside the rebuilt index: nothing recorded to compare */
	CHECK_INT(
	    tu_sh(NULL, "cp %s %s/re.tar.zst && cp %s/rebuilt.db %s/re.tar.zst.db", snap, d, d, d),
	    0);
	CHECK_INT(tu_sh(&out, "%s verify %s/re.tar.zst", tu_procsnap(), d), 1);
	CHECK(strstr(out.buf, "SHA-256 not checked: no recorded hash") != NULL);
	sha.buf[64] = '\0';
	CHECK_INT(tu_sh(&out, "%s verify --sha256 %s %s/re.tar.zst", tu_procsnap(), sha.buf, d), 0);
	ps_buf_release(&sha);
	/* index refuses to overwrite without --force */
	CHECK_INT(tu_sh(NULL, "%s index -o %s/rebuilt.db %s 2>/dev/null", tu_procsnap(), d, snap),
		  2);
	CHECK_INT(tu_sh(NULL, "%s -q index --force -o %s/rebuilt.db %s", tu_procsnap(), d, snap),
		  0);
	/* streamed to stdout, indexed later: same files table */
	CHECK_INT(tu_sh(NULL, "%s capture -q -o - --root %s > %s/piped.tar.zst 2>/dev/null",
			tu_procsnap(), FIXTURE, d),
		  0);
	CHECK_INT(tu_sh(NULL, "%s -q index %s/piped.tar.zst", tu_procsnap(), d), 0);
	CHECK_INT(tu_sh(&a,
			"sqlite3 %s.db 'SELECT path, kind, xxh3 FROM files WHERE path NOT LIKE "
			"\"procsnap/%%\"'",
			snap),
		  0);
	CHECK_INT(tu_sh(&out,
			"sqlite3 %s/piped.tar.zst.db 'SELECT path, kind, xxh3 FROM files WHERE "
			"path NOT LIKE \"procsnap/%%\"'",
			d),
		  0);
	CHECK(a.len > 100 && a.len == out.len && memcmp(a.buf, out.buf, a.len) == 0);
	/* info shows the recorded SHA-256, which is the file's */
	CHECK_INT(tu_sh(&a, "sha256sum %s | cut -c1-64", snap), 0);
	CHECK_INT(tu_sh(&out, "%s info %s", tu_procsnap(), snap), 0);
	a.buf[64] = '\0';
	CHECK(strstr(out.buf, a.buf) != NULL);
	CHECK(strstr(out.buf, "hostname") != NULL);
	ps_buf_release(&a);
}

static void test_output_safety(void)
{
	const char *d = tu_tmpdir();
	char snap[512];
	snprintf(snap, sizeof(snap), "%s/safe.tar.zst", d);
	CHECK_INT(tu_sh(NULL, "echo precious > %s", snap), 0);
	CHECK_INT(tu_sh(&out, "%s capture -o %s --root %s 2>&1", tu_procsnap(), snap, FIXTURE), 2);
	CHECK(strstr(out.buf, "exists") != NULL);
	CHECK_INT(tu_sh(&out, "cat %s", snap), 0);
	CHECK_STR(out.buf, "precious\n");
	CHECK_INT(tu_sh(NULL, "%s capture -q --force -o %s --root %s 2>/dev/null", tu_procsnap(),
			snap, FIXTURE),
		  0);
	struct stat st;
	CHECK_INT(stat(snap, &st), 0);
	CHECK_INT(st.st_mode & 0777, 0600);
	CHECK(st.st_size > 1000);

	/* a directory that does not exist: one line, status 2 */
	CHECK_INT(tu_sh(&out, "%s capture -o %s/nope/x.tar.zst --root %s 2>&1", tu_procsnap(), d,
			FIXTURE),
		  2);
	CHECK(strchr(out.buf, '\n') == out.buf + out.len - 1);
	CHECK(strstr(out.buf, "procsnap: capture:") == out.buf);

	/* a terminal is refused for -o - ; a corrupt archive is one line + 2 */
	CHECK_INT(tu_sh(NULL, "head -c 3000 %s > %s/trunc.tar.zst", snap, d), 0);
	CHECK_INT(tu_sh(&out, "%s index %s/trunc.tar.zst 2>&1", tu_procsnap(), d), 2);
	CHECK(strchr(out.buf, '\n') == out.buf + out.len - 1);
	CHECK_INT(tu_sh(&out, "%s info %s/trunc.tar.zst 2>&1", tu_procsnap(), d), 2);
	CHECK_INT(tu_sh(&out, "echo garbage > %s/g.db; %s info %s/g.db 2>&1", d, tu_procsnap(), d),
		  2);
	CHECK(strchr(out.buf, '\n') == out.buf + out.len - 1);
}

/* A full file system: one line, status 2, nothing left behind. */
/* An index beside an archive it does not describe (another capture's, or
 * one left by an earlier capture to the same name): refused by what reads
 * through it, named by verify, never created by capture --no-index. */
static void test_wrong_index(void)
{
	const char *d = tu_tmpdir();
	const char *p = tu_procsnap();
	CHECK_INT(
	    tu_sh(NULL,
		  "cd %s && %s capture -q -o a.tar.zst --root %s 2>/dev/null && %s capture -q "
		  "--no-index -o b.tar.zst --root %s/../diff-b 2>/dev/null && cp a.tar.zst.db "
		  "b.tar.zst.db",
		  d, p, FIXTURE, p, FIXTURE),
	    0);
	const char *cmds[] = {"info b.tar.zst",
			      "ls b.tar.zst",
			      "cat b.tar.zst proc/meminfo",
			      "query b.tar.zst 'SELECT 1'",
			      "triage b.tar.zst",
			      "ps b.tar.zst",
			      "query b.tar.zst.db 'SELECT 1'"};
	for (size_t i = 0; i < sizeof(cmds) / sizeof(*cmds); i++) {
		CHECK_INT(tu_sh(&out, "cd %s && %s %s 2>&1 >/dev/null", d, p, cmds[i]), 2);
		if (!strstr(out.buf, "but its index b.tar.zst.db describes") ||
		    memchr(out.buf, '\n', out.len) != out.buf + out.len - 1)
			fprintf(stderr, "%s: %s", cmds[i], out.buf);
		CHECK(strstr(out.buf, "b.tar.zst is ") != NULL);
		CHECK(strstr(out.buf, "but its index b.tar.zst.db describes") != NULL);
	}
	/* verify reads the archive itself: the recorded SHA-256 is not its own */
	CHECK_INT(tu_sh(&out, "cd %s && %s verify b.tar.zst", d, p), 1);
	CHECK(strstr(out.buf, "SHA-256 MISMATCH: index records ") != NULL);
	/* a capture to that name with --no-index: refused, or the index removed */
	CHECK_INT(tu_sh(&out,
			"cd %s && rm b.tar.zst && %s capture -q --no-index -o b.tar.zst "
			"--root %s 2>&1",
			d, p, FIXTURE),
		  2);
	CHECK(strstr(out.buf, "b.tar.zst.db exists, an index of another archive") != NULL);
	char b[600], bdb[610];
	snprintf(b, sizeof(b), "%s/b.tar.zst", d);
	snprintf(bdb, sizeof(bdb), "%s.db", b);
	CHECK(access(b, F_OK) != 0);
	CHECK_INT(tu_sh(NULL,
			"cd %s && %s capture -q --force --no-index -o b.tar.zst --root %s "
			">/dev/null 2>&1",
			d, p, FIXTURE),
		  0);
	CHECK(access(b, F_OK) == 0);
	CHECK(access(bdb, F_OK) != 0);
	/* an index of another schema: verify says it is unusable, not absent */
	CHECK_INT(
	    tu_sh(NULL,
		  "cd %s && cp a.tar.zst c.tar.zst && cp a.tar.zst.db c.tar.zst.db && sqlite3 "
		  "c.tar.zst.db 'PRAGMA user_version = 4'",
		  d),
	    0);
	CHECK_INT(tu_sh(&out, "cd %s && %s verify c.tar.zst", d, p), 1);
	CHECK(strstr(out.buf, "SHA-256 not checked: the index is unusable (") != NULL);
	CHECK(strstr(out.buf, "no recorded hash") == NULL);
}

/* Evidence is never the output, even with --force: index, merge and report
 * refuse to replace what they read (the archive, or the index beside it). */
static void test_output_not_input(void)
{
	const char *d = tu_tmpdir();
	const char *p = tu_procsnap();
	CHECK_INT(tu_sh(NULL, "cd %s && %s capture -q -o in.tar.zst --root %s 2>/dev/null", d, p,
			FIXTURE),
		  0);
	struct ps_buf before = PS_BUF_INIT, after = PS_BUF_INIT;
	CHECK_INT(tu_sh(&before, "cd %s && md5sum in.tar.zst in.tar.zst.db", d), 0);
	static const char *const cases[][2] = {
	    {"index --force -o in.tar.zst in.tar.zst",
	     "procsnap: index: in.tar.zst is the archive it would index: refusing to replace "
	     "it\n"},
	    {"merge --force in.tar.zst.db in.tar.zst",
	     "procsnap: merge: in.tar.zst.db is read by this command: refusing to replace it\n"},
	    {"merge --force in.tar.zst in.tar.zst.db",
	     "procsnap: merge: in.tar.zst is read by this command: refusing to replace it\n"},
	    {"report --force -o in.tar.zst in.tar.zst.db",
	     "procsnap: report: in.tar.zst is read by this command: refusing to replace it\n"},
	    {"report --force -o ./in.tar.zst.db in.tar.zst",
	     "procsnap: report: ./in.tar.zst.db is in.tar.zst.db, which this command reads: "
	     "refusing to replace it\n"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		CHECK_INT(tu_sh(&out, "cd %s && %s %s 2>&1 >/dev/null", d, p, cases[i][0]), 2);
		CHECK_STR(out.buf, cases[i][1]);
	}
	CHECK_INT(tu_sh(&after, "cd %s && md5sum in.tar.zst in.tar.zst.db", d), 0);
	CHECK_STR(after.buf, before.buf);
	/* the index's own place is still replaced with --force */
	CHECK_INT(tu_sh(NULL, "cd %s && %s -q index --force in.tar.zst", d, p), 0);
	ps_buf_release(&before);
	ps_buf_release(&after);
}

/* What cannot be printed or opened says why, in one line, exit 2. */
static void test_read_errors(void)
{
	const char *d = tu_tmpdir();
	const char *p = tu_procsnap();
	CHECK_INT(tu_sh(NULL,
			"cd %s && %s capture -q -o r.tar.zst --root %s 2>/dev/null && cp "
			"r.tar.zst.db bad.db && printf 'X' | dd of=bad.db bs=1 seek=0 conv=notrunc "
			"2>/dev/null",
			d, p, FIXTURE),
		  0);
	static const char *const cases[][2] = {
	    {"cat r.tar.zst proc", "procsnap: cat: proc is a directory (procsnap ls SNAP 'proc/*' "
				   "lists it)\n"},
	    {"cat r.tar.zst proc/1/pagemap.sections",
	     "procsnap: cat: proc/1/pagemap.sections: was not captured (EOPNOTSUPP)\n"},
	    {"info bad.db", "procsnap: info: bad.db: not an SQLite database (a damaged index? "
			    "procsnap index --force rebuilds it from its archive)\n"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		CHECK_INT(tu_sh(&out, "cd %s && %s %s 2>&1 >/dev/null", d, p, cases[i][0]), 2);
		CHECK_STR(out.buf, cases[i][1]);
	}
}

/* Usage errors: one line each, naming the option and what is wrong with it. */
static void test_usage_errors(void)
{
	static const char *const cmds[] = {"capture", "index",	"info",	  "ls",	    "cat",
					   "query",   "merge",	"export", "verify", "diff",
					   "pagemap", "triage", "ps",	  "report"};
	char want[200];
	for (size_t i = 0; i < sizeof(cmds) / sizeof(*cmds); i++) {
		CHECK_INT(tu_sh(&out, "%s %s --bogus x 2>&1 >/dev/null", tu_procsnap(), cmds[i]),
			  2);
		snprintf(want, sizeof(want),
			 "procsnap: %s: unknown option '--bogus' (try 'procsnap help %s')\n",
			 cmds[i], cmds[i]);
		if (strcmp(out.buf, want) != 0)
			fprintf(stderr, "%s: got '%s'\n", cmds[i], out.buf);
		CHECK_STR(out.buf, want);
	}
	static const char *const cases[][2] = {
	    {"--bogus", "procsnap: unknown option '--bogus' (try 'procsnap help')\n"},
	    {"frob x", "procsnap: no command 'frob' (try 'procsnap help')\n"},
	    {"export -o",
	     "procsnap: export: option '-o' needs an argument (try 'procsnap help export')\n"},
	    {"verify --sha256",
	     "procsnap: verify: option '--sha256' needs an argument (try 'procsnap help "
	     "verify')\n"},
	    {"capture --force=1 -o x",
	     "procsnap: capture: option '--force' takes no argument (try 'procsnap help "
	     "capture')\n"},
	    {"index -x a", "procsnap: index: unknown option '-x' (try 'procsnap help index')\n"},
	    {"index", "procsnap: index: expects one ARCHIVE (try 'procsnap help index')\n"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		CHECK_INT(tu_sh(&out, "%s %s 2>&1 >/dev/null", tu_procsnap(), cases[i][0]), 2);
		CHECK_STR(out.buf, cases[i][1]);
	}
}

static void test_full_disk(void)
{
	const char *d = tu_tmpdir();
	if (geteuid() != 0)
		T_SKIP_CASE("needs root to mount a small tmpfs");
	if (tu_sh(NULL, "mkdir -p %s/full && mount -t tmpfs -o size=64k tmpfs %s/full 2>/dev/null",
		  d, d) != 0)
		T_SKIP_CASE("cannot mount a tmpfs here");
	CHECK_INT(tu_sh(&out, "%s capture -o %s/full/x.tar.zst 2>&1", tu_procsnap(), d), 2);
	CHECK(strstr(out.buf, "No space left on device") != NULL);
	CHECK(strchr(out.buf, '\n') == out.buf + out.len - 1);
	CHECK_INT(tu_sh(&out, "ls -A %s/full | wc -l", d), 0);
	CHECK_STR(out.buf, "0\n");
	CHECK_INT(tu_sh(NULL, "umount %s/full", d), 0);
}

/* verify: intact archive 0; a changed byte, a wrong expected SHA-256 or a
 * truncated archive 1 (what was lost is named); unreadable input 2. */
static void test_verify(void)
{
	const char *d = tu_tmpdir();
	char snap[512];
	snprintf(snap, sizeof(snap), "%s/v.tar.zst", d);
	CHECK_INT(
	    tu_sh(NULL, "%s capture -q -o %s --root %s 2>/dev/null", tu_procsnap(), snap, FIXTURE),
	    0);
	CHECK_INT(tu_sh(&out, "%s verify %s", tu_procsnap(), snap), 0);
	CHECK(strncmp(out.buf, "OK ", 3) == 0);
	CHECK(strstr(out.buf, "(matches)") != NULL);
	struct ps_buf sha = PS_BUF_INIT;
	CHECK_INT(tu_sh(&sha, "sha256sum %s | cut -c1-64 | tr -d '\\n'", snap), 0);
	CHECK_INT(tu_sh(&out, "%s verify --sha256 %s %s.db", tu_procsnap(), sha.buf, snap), 0);
	CHECK_INT(tu_sh(&out, "%s verify --sha256 %064d %s", tu_procsnap(), 0, snap), 1);
	CHECK(strstr(out.buf, "SHA-256 MISMATCH") != NULL);
	ps_buf_release(&sha);
	/* an archive whose bytes changed after capture no longer matches the
	 * SHA-256 recorded in its index (or fails its frame checksums) */
	CHECK_INT(tu_sh(NULL,
			"cp %s %s/w.tar.zst && cp %s.db %s/w.tar.zst.db && "
			"printf 'XYZ' | dd of=%s/w.tar.zst bs=1 seek=3000 conv=notrunc 2>/dev/null",
			snap, d, snap, d, d),
		  0);
	int r = tu_sh(&out, "%s verify %s/w.tar.zst 2>&1", tu_procsnap(), d);
	CHECK(r == 1 || r == 2);
	CHECK_INT(tu_sh(NULL, "head -c 5000 %s > %s/t.tar.zst", snap, d), 0);
	CHECK_INT(tu_sh(&out, "%s verify %s/t.tar.zst 2>&1", tu_procsnap(), d), 1);
	CHECK(strncmp(out.buf, "DAMAGE tar bytes ", 17) == 0);
	CHECK(strstr(out.buf, "\nDAMAGED procsnap/manifest.tsv\n") != NULL);
	CHECK_INT(tu_sh(&out, "echo garbage > %s/g.tar.zst; %s verify %s/g.tar.zst 2>&1", d,
			tu_procsnap(), d),
		  2);
	CHECK(strchr(out.buf, '\n') == out.buf + out.len - 1);
}

/* Deleted executables and deleted open files are recovered (exe.body,
 * fd/N.body) byte for byte; --exe-bodies none keeps none; a cut at
 * --exe-body-max is listed in summary.json. */
static void test_exe_bodies(void)
{
	const char *d = tu_tmpdir();
	char bin[512], file[512], snap[512], db[520];
	snprintf(bin, sizeof(bin), "%s/victim-copy", d);
	snprintf(file, sizeof(file), "%s/secret.txt", d);
	snprintf(snap, sizeof(snap), "%s/bodies.tar.zst", d);
	snprintf(db, sizeof(db), "%s.db", snap);
	CHECK_INT(tu_sh(NULL,
			"cp %s/tests/victim %s && cp %s %s/victim-orig && "
			"head -c 3000 /dev/urandom > %s && cp %s %s/secret-orig",
			PS_BINARY_DIR, bin, bin, d, file, file, d),
		  0);
	struct tu_victim v;
	const char *env[] = {"PATH=/usr/bin:/bin", NULL};
	tu_victim_bin = bin;
	int started = tu_victim_start(&v, file, NULL, env);
	tu_victim_bin = NULL;
	CHECK_INT(started, 0);
	if (started != 0)
		return;
	CHECK_INT(unlink(bin), 0);
	CHECK_INT(unlink(file), 0);
	CHECK_INT(
	    tu_sh(NULL, "%s capture -q -o %s --pid %d 2>/dev/null", tu_procsnap(), snap, v.pid), 0);
	char p[128];
	snprintf(p, sizeof(p), "proc/%d/exe.body", v.pid);
	CHECK_INT(tu_sh(NULL, "%s cat %s %s | cmp -s - %s/victim-orig", tu_procsnap(), snap, p, d),
		  0);
	snprintf(p, sizeof(p), "proc/%d/fd/%d.body", v.pid, v.file_fd);
	CHECK_INT(tu_sh(NULL, "%s cat %s %s | cmp -s - %s/secret-orig", tu_procsnap(), snap, p, d),
		  0);
	/* the pipe and the socket are not "bodies" */
	CHECK_INT(tu_sql_int(db, "SELECT count(*) FROM files WHERE pid = %d AND path GLOB '*.body'",
			     v.pid),
		  2);
	/* a cap cuts the body and says so */
	CHECK_INT(tu_sh(NULL, "%s capture -q -f --exe-body-max 1000 -o %s --pid %d 2>/dev/null",
			tu_procsnap(), snap, v.pid),
		  0);
	snprintf(p, sizeof(p), "proc/%d/exe.body", v.pid);
	CHECK_INT(tu_sql_int(db, "SELECT size FROM files WHERE path = '%s'", p), 1000);
	CHECK_INT(
	    tu_sql_int(db,
		       "SELECT count(*) FROM snapshots, json_each(summary_json, '$.truncated') j "
		       "WHERE j.value = '%s'",
		       p),
	    1);
	CHECK_INT(tu_sh(NULL, "%s capture -q -f --exe-bodies none -o %s --pid %d 2>/dev/null",
			tu_procsnap(), snap, v.pid),
		  0);
	CHECK_INT(tu_sql_int(db, "SELECT count(*) FROM files WHERE path GLOB '*.body'"), 0);
	tu_victim_stop(&v);
}

/* The committed real snapshot: indexes, verifies, and holds what it says. */
static void test_real_sample(void)
{
	const char *d = tu_tmpdir();
	char db[512];
	snprintf(db, sizeof(db), "%s/real.db", d);
	const char *a = PS_SOURCE_DIR "/samples/real/minimal.tar.zst";
	CHECK_INT(tu_sh(NULL, "%s -q index -o %s %s", tu_procsnap(), db, a), 0);
	/* no index beside it: the SHA-256 is compared only when given */
	CHECK_INT(tu_sh(&out, "%s verify %s", tu_procsnap(), a), 1);
	CHECK(strstr(out.buf, "SHA-256 not checked: no recorded hash") != NULL);
	CHECK_INT(
	    tu_sh(&out, "%s verify --sha256 $(sha256sum %s | cut -c1-64) %s", tu_procsnap(), a, a),
	    0);
	char t[256];
	CHECK_INT(tu_sql(db, t, sizeof(t), "SELECT case_id || ' ' || examiner FROM snapshots"), 0);
	CHECK_STR(t, "SAMPLE-1 procsnap-tests");
	CHECK_INT(tu_sql_int(db, "SELECT count(*) FROM processes"), 2);
	CHECK_INT(tu_sql_int(db, "SELECT count(*) FROM processes WHERE pid = 1 AND parent = 0"), 1);
	CHECK_INT(tu_sql_int(db, "SELECT hash_mismatches FROM snapshots"), 0);
	CHECK_INT(tu_sql_int(db, "SELECT count(*) FROM files WHERE path = 'proc/kallsyms'"), 0);
	CHECK(tu_sql_int(db, "SELECT count(*) FROM system_kv WHERE source = 'meminfo'") > 10);
	CHECK(tu_sql_int(db, "SELECT count(*) FROM files WHERE path GLOB 'proc/sys/*'") > 100);
}

/* ls GLOB goes through the index's keys where it can (store.h
 * ps_files_glob_sql): it must list exactly what a GLOB over files.path
 * lists, in the same order, for patterns of every shape. */
static void test_ls_glob(void)
{
	const char *d = tu_tmpdir();
	char snap[512];
	snprintf(snap, sizeof(snap), "%s/ls.tar.zst", d);
	CHECK_INT(
	    tu_sh(NULL, "%s capture -q -o %s --root %s 2>/dev/null", tu_procsnap(), snap, FIXTURE),
	    0);
	static const char *const globs[] = {
	    "proc/*/exe",
	    "proc/4242/*",
	    "proc/*/fd/*",
	    "proc/sys/*",
	    "proc/*/task/*/stat",
	    "*status",
	    "procsnap/*",
	    "proc/*/ns/n*",
	    "proc/[0-9]*/exe",
	    "proc/42",
	    "proc/*/net/*",
	    "*",
	    "proc/*/task/*",
	    "proc/4242/task/4243/*",
	    "proc/*/*name*",
	    "nothing/*",
	    /* ending with a literal: the names that end so (snap.c) */
	    "proc/*/cwd",
	    "proc/*/attr/exec",
	    "proc/*e",
	    "proc/*/ns/mnt",
	    "*/exe",
	    "proc/*/task/*/comm",
	    "proc/*]/exe",
	    "proc/*/fd/exe",
	    "proc/*?xe",
	};
	struct ps_buf a = PS_BUF_INIT;
	for (size_t i = 0; i < sizeof(globs) / sizeof(globs[0]); i++) {
		CHECK_INT(tu_sh(&a, "%s ls %s '%s'", tu_procsnap(), snap, globs[i]), 0);
		CHECK_INT(tu_sh(&out,
				"%s query --format csv %s \"SELECT path FROM files WHERE path GLOB "
				"'%s' ORDER BY snapshot_id, path_id\" | tail -n +2 | tr -d '\\r'",
				tu_procsnap(), snap, globs[i]),
			  0);
		if (a.len != out.len || memcmp(a.buf, out.buf, a.len) != 0)
			fprintf(stderr, "ls '%s' differs from GLOB over files.path\n", globs[i]);
		CHECK(a.len == out.len && memcmp(a.buf, out.buf, a.len) == 0);
	}
	CHECK_INT(tu_sh(&a, "%s ls %s 'proc/*/exe' | wc -l", tu_procsnap(), snap), 0);
	CHECK(atoi(a.buf) >= 3);
	ps_buf_release(&a);
}

static const struct t_case cases[] = {T(test_live_victim),
				      T(test_ls_glob),
				      T(test_stock_tools_and_hashes),
				      T(test_unreadable_recorded),
				      T(test_unreadable_unprivileged),
				      T(test_fixture_deterministic),
				      T(test_index_identical),
				      T(test_index_large_hardlinks),
				      T(test_output_safety),
				      T(test_wrong_index),
				      T(test_usage_errors),
				      T(test_output_not_input),
				      T(test_read_errors),
				      T(test_full_disk),
				      T(test_verify),
				      T(test_exe_bodies),
				      T(test_real_sample),
				      {0, 0}};

static void teardown(void)
{
	ps_buf_release(&out);
	tu_cleanup();
}

T_MAIN_SETUP(cases, NULL, teardown)
