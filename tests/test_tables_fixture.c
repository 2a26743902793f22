/*
 * test_tables_fixture.c - the parsed tables of samples/proc-fixture (see its
 * README for what each pid holds): exact values for the tricky cases
 * (comm with parentheses, deleted exe, kernel thread, invalid UTF-8 in
 * cmdline, a thread whose tid is not listed, sockets joined through another
 * pid's net/, mounts once per namespace, octal escapes, module taint), and
 * an index rebuilt from the archive equal to the capture's.
 */
#include "t.h"
#include "tutil.h"

#define FIXTURE PS_SOURCE_DIR "/samples/proc-fixture"

static char snap[512], db[520];
static int ok;

static void setup(void)
{
	snprintf(snap, sizeof(snap), "%s/fx.tar.zst", tu_tmpdir());
	snprintf(db, sizeof(db), "%s.db", snap);
	ok = tu_sh(NULL, "%s capture -q --root %s -o %s", tu_procsnap(), FIXTURE, snap) == 0;
	if (!ok) {
		fprintf(stderr, "capture of the fixture failed\n");
		t_failures++;
	}
}

static void teardown(void)
{
	tu_cleanup();
}

static void test_processes(void)
{
	char t[1024];
	if (!ok)
		return;
	CHECK_INT(tu_sql_int(db, "SELECT count(*) FROM processes"), 4);
	CHECK_INT(tu_sql(db, t, sizeof(t), "SELECT name FROM processes WHERE pid = 42"), 0);
	CHECK_STR(t, "my (evil) prog");
	CHECK_INT(
	    tu_sql(db, t, sizeof(t),
		   "SELECT path || '|' || exe_deleted || '|' || on_disk || '|' || tracer_pid "
		   "|| '|' || starttime || '|' || net_ns || '|' || parent FROM processes WHERE "
		   "pid = 42"),
	    0);
	CHECK_STR(t, "/tmp/.x/evil|1|0|4242|4200|4026532999|1");
	/* kernel thread: no exe, empty argv, PF_KTHREAD */
	CHECK_INT(tu_sql(db, t, sizeof(t),
			 "SELECT coalesce(path, 'NULL') || '|' || on_disk || '|' || kthread || '|' "
			 "|| cmdline FROM processes WHERE pid = 2"),
		  0);
	CHECK_STR(t, "NULL|-1|1|");
	CHECK_INT(tu_sql_int(db, "SELECT kthread FROM processes WHERE pid = 1"), 0);
	/* argv with a space and invalid UTF-8, bytes kept */
	CHECK_INT(tu_sql(db, t, sizeof(t), "SELECT hex(cmdline) FROM processes WHERE pid = 4242"),
		  0);
	const char *want = "/usr/bin/python3 /opt/my app/serve.py --name=caf\xc3\xa9\xff\xfe";
	char hx[256];
	for (size_t i = 0; want[i]; i++)
		snprintf(hx + 2 * i, 3, "%02X", (unsigned char)want[i]);
	CHECK_STR(t, hx);
	CHECK_INT(tu_sql(db, t, sizeof(t), "SELECT cwd FROM processes WHERE pid = 4242"), 0);
	CHECK_STR(t, "/opt/my app");
	/* units: utime 120 ticks at 100 Hz = 1200 ms; VmRSS kB -> bytes */
	CHECK_INT(tu_sql_int(db, "SELECT user_time FROM processes WHERE pid = 42"), 1200);
	CHECK_INT(tu_sql_int(db, "SELECT system_time FROM processes WHERE pid = 42"), 450);
	CHECK_INT(tu_sql_int(db, "SELECT start_time FROM processes WHERE pid = 4242"),
		  1763769600 + 12345 / 100);
	CHECK_INT(tu_sql_int(db, "SELECT ppid = parent FROM processes WHERE pid = 4242"), 1);
	CHECK_INT(tu_sql_int(db, "SELECT fd_count FROM processes WHERE pid = 4242"), 6);
	CHECK_INT(tu_sql(db, t, sizeof(t), "SELECT cgroup_path FROM processes WHERE pid = 1"), 0);
	CHECK_STR(t, "/init.scope");
}

static void test_threads(void)
{
	char t[256];
	if (!ok)
		return;
	CHECK_INT(tu_sql_int(db, "SELECT count(*) FROM threads WHERE pid = 4242"), 2);
	CHECK_INT(tu_sql(db, t, sizeof(t),
			 "SELECT name || '|' || starttime FROM threads WHERE pid = 4242 AND tid = "
			 "4250"),
		  0);
	CHECK_STR(t, "worker 1|12350");
	CHECK_INT(tu_sql_int(db, "SELECT count(*) FROM threads WHERE tid = 4250 AND pid != 4242"),
		  0);
}

static void test_files_sockets(void)
{
	char t[256];
	if (!ok)
		return;
	CHECK_INT(
	    tu_sql(db, t, sizeof(t),
		   "SELECT path || '|' || deleted || '|' || pos || '|' || flags || '|' || "
		   "inode || '|' || mnt_id FROM process_open_files WHERE pid = 42 AND fd = 5"),
	    0);
	CHECK_STR(t, "/tmp/a file (deleted)|1|17|32770|7777|27"); /* flags 0100002 octal */
	CHECK_INT(
	    tu_sql(db, t, sizeof(t),
		   "SELECT type || '|' || inode FROM process_fds WHERE pid = 4242 AND fd = 1"),
	    0);
	CHECK_STR(t, "pipe|777");
	/* 127.0.0.1:8080 from 1/net/tcp, held by pid 1 fd 3 */
	CHECK_INT(tu_sql(db, t, sizeof(t),
			 "SELECT pid || '|' || fd || '|' || address || '|' || protocol || '|' || "
			 "family || '|' || socket FROM listening_ports WHERE port = 8080"),
		  0);
	CHECK_STR(t, "1|3|127.0.0.1|6|2|12345");
	/* the unix socket listed in 1/net/unix, held by 4242 (same netns, whose
	 * own net/ was not captured) */
	CHECK_INT(tu_sql(db, t, sizeof(t),
			 "SELECT pid || '|' || fd || '|' || family || '|' || net_namespace FROM "
			 "listening_ports WHERE path = '/run/my app.sock'"),
		  0);
	CHECK_STR(t, "4242|3|1|4026531840");
	CHECK_INT(tu_sql_int(db, "SELECT count(*) FROM process_open_sockets WHERE source = 'tcp' "
				 "AND source_pid = 4242"),
		  0);
	/* envs, maps */
	CHECK_INT(tu_sql(db, t, sizeof(t),
			 "SELECT value FROM process_envs WHERE pid = 42 AND key = 'LD_PRELOAD'"),
		  0);
	CHECK_STR(t, "/tmp/.x/libhide.so");
	CHECK_INT(tu_sql_int(db, "SELECT count(*) FROM process_memory_map WHERE pid = 42 AND "
				 "permissions = 'rwxp' AND inode = 0 AND path = ''"),
		  1);
	CHECK_INT(tu_sql_int(db, "SELECT count(*) FROM process_memory_map WHERE pid = 42 AND "
				 "deleted = 1"),
		  2);
	CHECK_INT(tu_sql_int(db, "SELECT count(*) FROM process_memory_map WHERE pid = 42"), 3);
}

static void test_system(void)
{
	char t[256];
	if (!ok)
		return;
	/* limits and mountinfo of 4242 are hardlinks to pid 1's: same rows */
	CHECK_INT(tu_sql_int(db, "SELECT count(*) FROM process_limits WHERE pid = 4242"),
		  tu_sql_int(db, "SELECT count(*) FROM process_limits WHERE pid = 1"));
	CHECK(tu_sql_int(db, "SELECT count(*) FROM process_limits WHERE pid = 1") >= 10);
	CHECK_INT(tu_sql_int(db, "SELECT soft_limit FROM process_limits WHERE pid = 4242 AND name "
				 "= 'Max open files'"),
		  20000);
	CHECK_INT(tu_sql_int(db, "SELECT soft_limit FROM process_limits WHERE pid = 4242 AND name "
				 "= 'Max cpu time'"),
		  -1);
	/* one mount set per mount namespace (1 and 4242 share one) */
	CHECK_INT(tu_sql_int(db, "SELECT count(*) FROM mounts WHERE mnt_ns = 4026531841"), 3);
	CHECK_INT(tu_sql_int(db, "SELECT count(*) FROM mounts WHERE path = '/opt/my app' AND type "
				 "= 'tmpfs'"),
		  1);
	CHECK_INT(
	    tu_sql(db, t, sizeof(t),
		   "SELECT device || '|' || flags || '|' || mount_id || '|' || parent_id FROM "
		   "mounts WHERE path = '/'"),
	    0);
	CHECK_STR(t, "/dev/vda|rw,relatime|27|1");
	CHECK_INT(
	    tu_sql(db, t, sizeof(t), "SELECT taint FROM kernel_modules WHERE name = 'hidemod'"), 0);
	CHECK_STR(t, "OE");
	CHECK_INT(tu_sql_int(db, "SELECT count(*) FROM kernel_modules"), 2);
	CHECK_INT(tu_sql_int(db, "SELECT value FROM system_kv WHERE key = 'kernel/tainted'"), 4096);
	CHECK_INT(tu_sql_int(db, "SELECT value FROM system_kv WHERE key = 'last_pid'"), 4300);
	CHECK_INT(tu_sql_int(db, "SELECT value FROM system_kv WHERE key = 'btime'"), 1763769600);
	CHECK_INT(tu_sql_int(db, "SELECT count(*) FROM process_namespaces"), 4);
	CHECK_INT(tu_sql_int(db, "SELECT net_namespace FROM process_namespaces WHERE pid = 42"),
		  4026532999LL);
}

/* The index rebuilt from the archive holds the same rows as capture's. */
static void test_rebuild_identical(void)
{
	if (!ok)
		return;
	struct ps_buf a = PS_BUF_INIT, b = PS_BUF_INIT;
	char db2[600];
	snprintf(db2, sizeof(db2), "%s/again.db", tu_tmpdir());
	CHECK_INT(tu_sh(NULL, "%s -q index -o %s %s", tu_procsnap(), db2, snap), 0);
#define DUMP                                                                                       \
	"for t in processes threads process_memory_map process_open_files process_envs "           \
	"process_limits process_open_sockets listening_ports mounts kernel_modules "               \
	"process_namespaces system_kv; do %s query --format csv %s \"SELECT * FROM $t\"; done"
	CHECK_INT(tu_sh(&a, DUMP, tu_procsnap(), db), 0);
	CHECK_INT(tu_sh(&b, DUMP, tu_procsnap(), db2), 0);
	CHECK(a.len > 1000);
	CHECK(a.len == b.len && memcmp(a.buf, b.buf, a.len) == 0);
	ps_buf_release(&a);
	ps_buf_release(&b);
}

/* --pid of a pid that is not there: its absent record, no process row */
static void test_absent_pid(void)
{
	char s2[600], d2[610], t[64];
	snprintf(s2, sizeof(s2), "%s/absent.tar.zst", tu_tmpdir());
	snprintf(d2, sizeof(d2), "%s.db", s2);
	CHECK_INT(tu_sh(NULL, "%s capture -q --root %s --pid 42 --pid 7777 -o %s 2>/dev/null",
			tu_procsnap(), FIXTURE, s2),
		  0);
	CHECK_INT(tu_sql(d2, t, sizeof(t), "SELECT group_concat(pid) FROM processes"), 0);
	CHECK_STR(t, "42");
	CHECK_INT(tu_sql(d2, t, sizeof(t),
			 "SELECT kind || ' ' || errno FROM files WHERE path = 'proc/7777'"),
		  0);
	CHECK_STR(t, "absent ENOENT");
	CHECK_INT(tu_sql_int(d2, "SELECT count(*) FROM files WHERE pid = 7777"), 1);
}

static const struct t_case t_cases[] = {
    T(test_processes), T(test_threads),		  T(test_absent_pid), T(test_files_sockets),
    T(test_system),    T(test_rebuild_identical), {NULL, NULL}};
T_MAIN_SETUP(t_cases, setup, teardown)
