/*
 * test_tables_victim.c - the parsed tables against a process with known
 * properties: tests/victim run as uid/gid 65534 with a known argv and
 * environment, a file open at offset 1234, a listening TCP socket on
 * 127.0.0.1, a 64-page anonymous mapping with 3 touched pages and 3 extra
 * threads.  `procsnap capture --pid` it, then every table's rows for it
 * must hold exactly those values (and what the live /proc says for the
 * rest: namespaces, limits, exe, cwd, starttime).
 */
#include "t.h"
#include "tutil.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#define NOBODY 65534

static struct tu_victim v;
/* A second 64-page mapping with 3 touched pages, made after the threads:
 * the first one (v.map) may be merged by the kernel with an adjacent
 * anonymous VMA of the same flags, this one sits under a thread stack's
 * PROT_NONE guard page and stays a VMA of its own. */
static unsigned long map2;
static char d_file[512], d_snap[512], d_db[520];
static int captured;

/* readlink /proc/PID/NAME into out ("" on failure). */
static void rl(int pid, const char *name, char *out, size_t n)
{
	char p[128];
	snprintf(p, sizeof(p), "/proc/%d/%s", pid, name);
	ssize_t r = readlink(p, out, n - 1);
	out[r > 0 ? r : 0] = '\0';
}

/* stat field 22 of a live process, or -1. */
static long long live_starttime(int pid)
{
	char p[64];
	struct ps_buf b = PS_BUF_INIT;
	long long st = -1;
	snprintf(p, sizeof(p), "/proc/%d/stat", pid);
	if (tu_slurp(p, &b) == 0) {
		const char *q = strrchr(b.buf, ')');
		int field = 2;
		for (; q && *q; q++) {
			if (*q == ' ' && ++field == 22) {
				st = strtoll(q + 1, NULL, 10);
				break;
			}
		}
	}
	ps_buf_release(&b);
	return st;
}

/* The victim's rlimit: prlimit(2) on it, or (where a sandbox forbids that)
 * ours, which it inherited through fork, setuid and exec unchanged. */
static void victim_rlimit(int res, struct rlimit *r)
{
	if (prlimit(v.pid, (enum __rlimit_resource)res, NULL, r) != 0)
		CHECK_INT(getrlimit((enum __rlimit_resource)res, r), 0);
}

static long long lim(rlim_t x)
{
	return x == RLIM_INFINITY ? -1 : (long long)x;
}

static void setup(void)
{
	const char *d = tu_tmpdir();
	/* the victim runs as nobody: it must reach its file */
	chmod(d, 0755);
	snprintf(d_file, sizeof(d_file), "%s/known file.txt", d);
	snprintf(d_snap, sizeof(d_snap), "%s/victim.tar.zst", d);
	snprintf(d_db, sizeof(d_db), "%s.db", d_snap);
	if (tu_sh(NULL, "head -c 5000 /dev/zero > '%s' && chmod 0644 '%s'", d_file, d_file) != 0)
		return;
	const char *args[] = {"arg with space", "x", NULL};
	const char *env[] = {"PS_TEST_VAR=hello world", "PATH=/usr/bin:/bin", NULL};
	if (getuid() != 0)
		T_SKIP("needs root (runs the victim as uid 65534)");
	if (tu_victim_start_as(&v, NOBODY, NOBODY, d_file, args, env) != 0) {
		fprintf(stderr, "victim did not start\n");
		t_failures++;
		return;
	}
	char reply[128];
	if (tu_victim_cmd(&v, reply, sizeof(reply), "map 64 3") != 0 ||
	    sscanf(reply, "ok map=%lx", &map2) != 1) {
		fprintf(stderr, "victim: map: %s\n", reply);
		t_failures++;
	}
	captured = tu_sh(NULL, "%s capture -q -o %s --pid %d", tu_procsnap(), d_snap, v.pid) == 0;
	if (!captured) {
		fprintf(stderr, "capture failed\n");
		t_failures++;
	}
}

static void teardown(void)
{
	tu_victim_stop(&v);
	tu_cleanup();
}

static void test_processes_row(void)
{
	if (!captured)
		return;
	char t[2048], want[2048];
	CHECK_INT(tu_sql_int(d_db, "SELECT count(*) FROM processes WHERE pid = %d", v.pid), 1);
	CHECK_INT(tu_sql(d_db, t, sizeof(t), "SELECT name FROM processes WHERE pid = %d", v.pid),
		  0);
	CHECK_STR(t, "victim");
	CHECK_INT(tu_sql(d_db, t, sizeof(t), "SELECT comm FROM processes WHERE pid = %d", v.pid),
		  0);
	CHECK_STR(t, "victim");
	snprintf(want, sizeof(want), "%s/tests/victim %s arg with space x", PS_BINARY_DIR, d_file);
	CHECK_INT(tu_sql(d_db, t, sizeof(t), "SELECT cmdline FROM processes WHERE pid = %d", v.pid),
		  0);
	CHECK_STR(t, want);
	const char *ids[] = {"uid", "euid", "suid", "gid", "egid", "sgid"};
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		CHECK_INT(
		    tu_sql_int(d_db, "SELECT %s FROM processes WHERE pid = %d", ids[i], v.pid),
		    NOBODY);
	CHECK_INT(tu_sql_int(d_db, "SELECT threads FROM processes WHERE pid = %d", v.pid), 4);
	CHECK_INT(tu_sql_int(d_db, "SELECT parent FROM processes WHERE pid = %d", v.pid), getpid());
	CHECK_INT(tu_sql_int(d_db, "SELECT ppid FROM processes WHERE pid = %d", v.pid), getpid());
	rl(v.pid, "exe", want, sizeof(want));
	CHECK_INT(tu_sql(d_db, t, sizeof(t), "SELECT path FROM processes WHERE pid = %d", v.pid),
		  0);
	CHECK_STR(t, want);
	rl(v.pid, "cwd", want, sizeof(want));
	CHECK_INT(tu_sql(d_db, t, sizeof(t), "SELECT cwd FROM processes WHERE pid = %d", v.pid), 0);
	CHECK_STR(t, want);
	CHECK_INT(tu_sql(d_db, t, sizeof(t), "SELECT root FROM processes WHERE pid = %d", v.pid),
		  0);
	CHECK_STR(t, "/");
	CHECK_INT(tu_sql(d_db, t, sizeof(t), "SELECT state FROM processes WHERE pid = %d", v.pid),
		  0);
	CHECK(strcmp(t, "S") == 0 || strcmp(t, "R") == 0);
	long long st = live_starttime(v.pid);
	CHECK(st > 0);
	CHECK_INT(tu_sql_int(d_db, "SELECT starttime FROM processes WHERE pid = %d", v.pid), st);
	long long tck = sysconf(_SC_CLK_TCK);
	CHECK_INT(
	    tu_sql_int(d_db,
		       "SELECT start_time - (SELECT value FROM system_kv WHERE source = 'stat' "
		       "AND key = 'btime') FROM processes WHERE pid = %d",
		       v.pid),
	    st / tck);
	CHECK_INT(tu_sql_int(d_db, "SELECT on_disk FROM processes WHERE pid = %d", v.pid), 1);
	CHECK_INT(tu_sql_int(d_db, "SELECT exe_deleted FROM processes WHERE pid = %d", v.pid), 0);
	CHECK_INT(tu_sql_int(d_db,
			     "SELECT partial + hidden + kthread FROM processes WHERE pid = %d",
			     v.pid),
		  0);
	CHECK_INT(tu_sql(d_db, t, sizeof(t), "SELECT cap_eff FROM processes WHERE pid = %d", v.pid),
		  0);
	CHECK_STR(t, "0000000000000000"); /* setuid to nobody drops every capability */
	CHECK_INT(tu_sql_int(d_db, "SELECT tracer_pid FROM processes WHERE pid = %d", v.pid), 0);
	/* 0 1 2 + file, pipe r/w, socket (+ nothing else: the pipes to us are dup2'ed) */
	int nfd = 0;
	char fdd[64];
	snprintf(fdd, sizeof(fdd), "/proc/%d/fd", v.pid);
	DIR *dd = opendir(fdd);
	struct dirent *de;
	while (dd && (de = readdir(dd)))
		nfd += de->d_name[0] != '.';
	if (dd)
		closedir(dd);
	CHECK_INT(tu_sql_int(d_db, "SELECT fd_count FROM processes WHERE pid = %d", v.pid), nfd);
	long pg = sysconf(_SC_PAGESIZE);
	/* VmRSS in bytes: at least the 3 touched pages of the mapping */
	CHECK(tu_sql_int(d_db, "SELECT resident_size FROM processes WHERE pid = %d", v.pid) >=
	      3 * pg);
	CHECK(tu_sql_int(d_db, "SELECT total_size FROM processes WHERE pid = %d", v.pid) >=
	      64 * pg);
	CHECK(tu_sql_int(d_db, "SELECT user_time FROM processes WHERE pid = %d", v.pid) >= 0);
}

static void test_threads_envs_limits(void)
{
	if (!captured)
		return;
	char t[1024];
	CHECK_INT(tu_sql_int(d_db, "SELECT count(*) FROM threads WHERE pid = %d", v.pid), 4);
	CHECK_INT(tu_sql_int(d_db, "SELECT count(DISTINCT tid) FROM threads WHERE pid = %d", v.pid),
		  4);
	CHECK_INT(tu_sql_int(d_db, "SELECT count(*) FROM threads WHERE pid = %d AND tid = %d",
			     v.pid, v.pid),
		  1);
	CHECK_INT(tu_sql_int(d_db,
			     "SELECT count(*) FROM threads WHERE pid = %d AND name = 'victim' AND "
			     "starttime IS NOT NULL AND state IS NOT NULL",
			     v.pid),
		  4);
	/* every tid of the live task/ listing is there */
	char td[64];
	snprintf(td, sizeof(td), "/proc/%d/task", v.pid);
	DIR *dd = opendir(td);
	struct dirent *de;
	while (dd && (de = readdir(dd))) {
		if (de->d_name[0] == '.')
			continue;
		CHECK_INT(tu_sql_int(d_db,
				     "SELECT count(*) FROM threads WHERE pid = %d AND tid = %s",
				     v.pid, de->d_name),
			  1);
	}
	if (dd)
		closedir(dd);

	CHECK_INT(tu_sql_int(d_db, "SELECT count(*) FROM process_envs WHERE pid = %d", v.pid), 2);
	CHECK_INT(tu_sql(d_db, t, sizeof(t),
			 "SELECT value FROM process_envs WHERE pid = %d AND key = 'PS_TEST_VAR'",
			 v.pid),
		  0);
	CHECK_STR(t, "hello world");
	CHECK_INT(tu_sql(d_db, t, sizeof(t),
			 "SELECT value FROM process_envs WHERE pid = %d AND key = 'PATH'", v.pid),
		  0);
	CHECK_STR(t, "/usr/bin:/bin");

	struct rlimit r;
	victim_rlimit(RLIMIT_NOFILE, &r);
	CHECK_INT(tu_sql_int(d_db,
			     "SELECT soft_limit FROM process_limits WHERE pid = %d AND name = 'Max "
			     "open files'",
			     v.pid),
		  lim(r.rlim_cur));
	CHECK_INT(tu_sql_int(d_db,
			     "SELECT hard_limit FROM process_limits WHERE pid = %d AND name = 'Max "
			     "open files'",
			     v.pid),
		  lim(r.rlim_max));
	CHECK_INT(
	    tu_sql(d_db, t, sizeof(t),
		   "SELECT units FROM process_limits WHERE pid = %d AND name = 'Max open files'",
		   v.pid),
	    0);
	CHECK_STR(t, "files");
	victim_rlimit(RLIMIT_STACK, &r);
	CHECK_INT(tu_sql_int(d_db,
			     "SELECT soft_limit FROM process_limits WHERE pid = %d AND name = 'Max "
			     "stack size'",
			     v.pid),
		  lim(r.rlim_cur));
	victim_rlimit(RLIMIT_CPU, &r);
	CHECK_INT(tu_sql_int(d_db,
			     "SELECT hard_limit FROM process_limits WHERE pid = %d AND name = 'Max "
			     "cpu time'",
			     v.pid),
		  lim(r.rlim_max));
	CHECK_INT(tu_sql_int(d_db, "SELECT count(*) FROM process_limits WHERE pid = %d", v.pid),
		  16);
}

static void test_files_and_sockets(void)
{
	if (!captured)
		return;
	char t[1024];
	CHECK_INT(tu_sql(d_db, t, sizeof(t),
			 "SELECT path FROM process_open_files WHERE pid = %d AND fd = %d", v.pid,
			 v.file_fd),
		  0);
	CHECK_STR(t, d_file);
	CHECK_INT(tu_sql_int(d_db, "SELECT pos FROM process_open_files WHERE pid = %d AND fd = %d",
			     v.pid, v.file_fd),
		  1234);
	CHECK_INT(tu_sql_int(d_db,
			     "SELECT flags & 3 FROM process_open_files WHERE pid = %d AND fd = %d",
			     v.pid, v.file_fd),
		  O_RDONLY);
	struct stat sb;
	CHECK_INT(stat(d_file, &sb), 0);
	CHECK_INT(tu_sql_int(d_db,
			     "SELECT inode FROM process_open_files WHERE pid = %d AND fd = %d",
			     v.pid, v.file_fd),
		  (long long)sb.st_ino);
	CHECK_INT(tu_sql(d_db, t, sizeof(t),
			 "SELECT type || ' ' || deleted FROM process_open_files WHERE pid = %d AND "
			 "fd = %d",
			 v.pid, v.file_fd),
		  0);
	CHECK_STR(t, "path 0");
	CHECK_INT(tu_sql(d_db, t, sizeof(t),
			 "SELECT type FROM process_fds WHERE pid = %d AND fd = %d", v.pid,
			 v.pipe_r),
		  0);
	CHECK_STR(t, "pipe");
	CHECK_INT(tu_sql(d_db, t, sizeof(t),
			 "SELECT type FROM process_fds WHERE pid = %d AND fd = %d", v.pid,
			 v.sock_fd),
		  0);
	CHECK_STR(t, "socket");
	char lk[64], tg[256];
	snprintf(lk, sizeof(lk), "fd/%d", v.sock_fd);
	rl(v.pid, lk, tg, sizeof(tg));
	long long sock_ino = strtoll(tg + 8, NULL, 10); /* "socket:[N]" */
	CHECK(sock_ino > 0);

	/* listening_ports: the port, TCP (6), IPv4 (2), 127.0.0.1, our pid and fd.  Other
	 * tests run at the same time and may listen on the same port number (another
	 * address or protocol): the victim's row is the one of its pid. */
	CHECK_INT(tu_sql_int(d_db,
			     "SELECT count(*) FROM listening_ports WHERE port = %d AND pid = %d",
			     v.port, (int)v.pid),
		  1);
	CHECK_INT(tu_sql_int(d_db,
			     "SELECT protocol FROM listening_ports WHERE port = %d AND pid = %d",
			     v.port, (int)v.pid),
		  6);
	CHECK_INT(tu_sql_int(d_db,
			     "SELECT family FROM listening_ports WHERE port = %d AND pid = %d",
			     v.port, (int)v.pid),
		  2);
	CHECK_INT(tu_sql(d_db, t, sizeof(t),
			 "SELECT address FROM listening_ports WHERE port = %d AND socket = %lld",
			 v.port, sock_ino),
		  0);
	CHECK_STR(t, "127.0.0.1");
	CHECK_INT(tu_sql_int(d_db, "SELECT pid FROM listening_ports WHERE port = %d AND pid = %d",
			     v.port, (int)v.pid),
		  v.pid);
	CHECK_INT(tu_sql_int(d_db, "SELECT fd FROM listening_ports WHERE port = %d AND pid = %d",
			     v.port, (int)v.pid),
		  v.sock_fd);
	CHECK_INT(tu_sql_int(d_db,
			     "SELECT socket FROM listening_ports WHERE port = %d AND pid = %d",
			     v.port, (int)v.pid),
		  sock_ino);
	char nsl[256];
	rl(v.pid, "ns/net", nsl, sizeof(nsl));
	CHECK_INT(
	    tu_sql_int(d_db,
		       "SELECT net_namespace FROM listening_ports WHERE port = %d AND pid = %d",
		       v.port, (int)v.pid),
	    strtoll(nsl + 5, NULL, 10));
	/* the same socket in process_open_sockets */
	CHECK_INT(tu_sql(d_db, t, sizeof(t),
			 "SELECT state || ' ' || local_address || ' ' || local_port || ' ' || "
			 "remote_port || ' ' || pid || ' ' || fd FROM process_open_sockets WHERE "
			 "socket = %lld",
			 sock_ino),
		  0);
	char want[256];
	snprintf(want, sizeof(want), "LISTEN 127.0.0.1 %d 0 %d %d", v.port, v.pid, v.sock_fd);
	CHECK_STR(t, want);
}

/* The live VMA of the victim holding addr: [start, end) from its maps. */
static int live_vma(unsigned long addr, unsigned long *start, unsigned long *end)
{
	char p[64];
	struct ps_buf b = PS_BUF_INIT;
	int found = 0;
	snprintf(p, sizeof(p), "/proc/%d/maps", v.pid);
	if (tu_slurp(p, &b) == 0) {
		for (char *l = b.buf; l && *l && !found;) {
			unsigned long s, e;
			if (sscanf(l, "%lx-%lx", &s, &e) == 2 && s <= addr && addr < e) {
				*start = s;
				*end = e;
				found = 1;
			}
			l = strchr(l, '\n');
			l = l ? l + 1 : NULL;
		}
	}
	ps_buf_release(&b);
	return found;
}

static void test_memory_map(void)
{
	if (!captured)
		return;
	long pg = sysconf(_SC_PAGESIZE);
	unsigned long vs = 0, ve = 0;
	CHECK(live_vma(map2, &vs, &ve));
#if defined(__SANITIZE_ADDRESS__)
	/* ASan's allocator keeps rw anonymous regions next to each other and
	 * the kernel merges them with ours: check the row of the merged VMA */
	if (vs != map2 || ve != map2 + 64 * (unsigned long)pg) {
		printf("note: mapping merged into %lx-%lx (sanitizer build)\n", vs, ve);
		CHECK_INT(tu_sql_int(d_db,
				     "SELECT count(*) FROM process_memory_map WHERE pid = %d AND "
				     "start_addr = %lld AND end_addr = %lld AND size_kb = %lld AND "
				     "rss_kb >= %ld",
				     v.pid, (long long)vs, (long long)ve,
				     (long long)(ve - vs) / 1024, 3 * pg / 1024),
			  1);
		return;
	}
#endif
	/* a VMA of its own, exactly the 64 pages asked for */
	CHECK_U64(vs, map2);
	CHECK_U64(ve, map2 + 64 * (unsigned long)pg);
	long long m = (long long)map2;
	char t[256], want[64];
	CHECK_INT(
	    tu_sql_int(d_db,
		       "SELECT count(*) FROM process_memory_map WHERE pid = %d AND start_addr = "
		       "%lld",
		       v.pid, m),
	    1);
	CHECK_INT(
	    tu_sql_int(d_db,
		       "SELECT end_addr - start_addr FROM process_memory_map WHERE pid = %d AND "
		       "start_addr = %lld",
		       v.pid, m),
	    64 * pg);
	CHECK_INT(
	    tu_sql_int(d_db,
		       "SELECT size_kb FROM process_memory_map WHERE pid = %d AND start_addr = "
		       "%lld",
		       v.pid, m),
	    64 * pg / 1024);
	/* exactly the 3 touched pages are resident, anonymous and private dirty */
	const char *cols[] = {"rss_kb", "anonymous_kb", "private_dirty_kb"};
	for (size_t i = 0; i < sizeof(cols) / sizeof(cols[0]); i++)
		CHECK_INT(tu_sql_int(d_db,
				     "SELECT %s FROM process_memory_map WHERE pid = %d AND "
				     "start_addr = %lld",
				     cols[i], v.pid, m),
			  3 * pg / 1024);
	CHECK_INT(
	    tu_sql(d_db, t, sizeof(t),
		   "SELECT permissions || '|' || path || '|' || inode || '|' || pseudo || '|' "
		   "|| offset || '|' || device || '|' || start || '|' || \"end\" FROM "
		   "process_memory_map WHERE pid = %d AND start_addr = %lld",
		   v.pid, m),
	    0);
	snprintf(want, sizeof(want), "rw-p||0|0|0|00:00|0x%08lx|0x%08lx", map2,
		 map2 + 64 * (unsigned long)pg);
	CHECK_STR(t, want);
	CHECK_INT(tu_sql(d_db, t, sizeof(t),
			 "SELECT vmflags FROM process_memory_map WHERE pid = %d AND start_addr = "
			 "%lld",
			 v.pid, m),
		  0);
	CHECK(strstr(t, "rd") && strstr(t, "wr"));
	/* the pagemap columns, from pagemap.sections (issue 4): 64 pages, the
	 * same 3 present; soft_dirty NULL where the kernel does not track it */
	CHECK_INT(
	    tu_sql_int(d_db,
		       "SELECT count(*) FROM process_memory_map WHERE pid = %d AND start_addr = "
		       "%lld AND pages = 64 AND present = 3 AND swapped = 0 AND exclusive = 3",
		       v.pid, m),
	    1);
	/* the first mapping: inside one row of at least 64 pages, 3+ resident */
	CHECK_INT(
	    tu_sql_int(d_db,
		       "SELECT count(*) FROM process_memory_map WHERE pid = %d AND start_addr "
		       "<= %lld AND end_addr >= %lld + %ld AND size_kb >= %ld AND rss_kb >= %ld",
		       v.pid, (long long)v.map, (long long)v.map, 64 * pg, 64 * pg / 1024,
		       3 * pg / 1024),
	    1);
	/* one row per live maps line */
	char mp[64];
	struct ps_buf b = PS_BUF_INIT;
	snprintf(mp, sizeof(mp), "/proc/%d/maps", v.pid);
	int lines = 0;
	if (tu_slurp(mp, &b) == 0)
		for (size_t i = 0; i < b.len; i++)
			lines += b.buf[i] == '\n';
	ps_buf_release(&b);
	CHECK_INT(tu_sql_int(d_db, "SELECT count(*) FROM process_memory_map WHERE pid = %d", v.pid),
		  lines);
}

static void test_namespaces_mounts_system(void)
{
	if (!captured)
		return;
	static const char *const ns[][2] = {
	    {"cgroup", "cgroup_namespace"}, {"ipc", "ipc_namespace"},  {"mnt", "mnt_namespace"},
	    {"net", "net_namespace"},	    {"pid", "pid_namespace"},  {"user", "user_namespace"},
	    {"uts", "uts_namespace"},	    {"time", "time_namespace"}};
	CHECK_INT(tu_sql_int(d_db, "SELECT count(*) FROM process_namespaces WHERE pid = %d", v.pid),
		  1);
	for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
		char p[128];
		struct stat sb;
		snprintf(p, sizeof(p), "/proc/%d/ns/%s", v.pid, ns[i][0]);
		if (stat(p, &sb) != 0)
			continue; /* kernel without this namespace */
		CHECK_INT(tu_sql_int(d_db, "SELECT %s FROM process_namespaces WHERE pid = %d",
				     ns[i][1], v.pid),
			  (long long)sb.st_ino);
	}
	struct stat sb;
	char p[64];
	snprintf(p, sizeof(p), "/proc/%d/ns/net", v.pid);
	CHECK_INT(stat(p, &sb), 0);
	CHECK_INT(tu_sql_int(d_db, "SELECT net_ns FROM processes WHERE pid = %d", v.pid),
		  (long long)sb.st_ino);
	snprintf(p, sizeof(p), "/proc/%d/ns/mnt", v.pid);
	CHECK_INT(stat(p, &sb), 0);
	/* mounts: the victim's mount namespace, once, with its root mount */
	CHECK(tu_sql_int(d_db, "SELECT count(*) FROM mounts WHERE mnt_ns = %lld",
			 (long long)sb.st_ino) > 0);
	CHECK_INT(tu_sql_int(d_db, "SELECT count(*) FROM mounts WHERE mnt_ns = %lld AND path = '/'",
			     (long long)sb.st_ino),
		  1);
	CHECK(tu_sql_int(d_db,
			 "SELECT count(*) FROM mounts WHERE mnt_ns = %lld AND path = "
			 "'/proc' AND type = 'proc'",
			 (long long)sb.st_ino) >= 1);

	/* system_kv: values equal to the live single-value files */
	struct ps_buf b = PS_BUF_INIT;
	CHECK_INT(tu_slurp("/proc/sys/kernel/pid_max", &b), 0);
	CHECK_INT(tu_sql_int(d_db, "SELECT value FROM system_kv WHERE source = 'sys' AND key = "
				   "'kernel/pid_max'"),
		  strtoll(b.buf, NULL, 10));
	CHECK_INT(tu_slurp("/proc/sys/kernel/tainted", &b), 0);
	CHECK_INT(tu_sql_int(d_db, "SELECT value FROM system_kv WHERE path = "
				   "'proc/sys/kernel/tainted'"),
		  strtoll(b.buf, NULL, 10));
	CHECK(tu_sql_int(d_db, "SELECT value FROM system_kv WHERE source = 'meminfo' AND key = "
			       "'MemTotal' AND unit = 'kB'") > 0);
	CHECK(tu_sql_int(d_db, "SELECT count(*) FROM system_kv WHERE source = 'vmstat'") > 10);
	CHECK_INT(tu_sql_int(d_db, "SELECT count(*) FROM system_kv WHERE source = 'loadavg'"), 6);
	CHECK(tu_sql_int(d_db, "SELECT value > 0 FROM system_kv WHERE source = 'uptime' AND key = "
			       "'uptime'") == 1);
	CHECK(tu_sql_int(d_db, "SELECT value FROM system_kv WHERE source = 'stat' AND key = "
			       "'cpu.user'") > 0);
	/* kernel_modules: one row per /proc/modules line */
	int lines = 0;
	if (tu_slurp("/proc/modules", &b) == 0)
		for (size_t i = 0; i < b.len; i++)
			lines += b.buf[i] == '\n';
	CHECK_INT(tu_sql_int(d_db, "SELECT count(*) FROM kernel_modules"), lines);
	ps_buf_release(&b);
}

static const struct t_case t_cases[] = {
    T(test_processes_row), T(test_threads_envs_limits),	     T(test_files_and_sockets),
    T(test_memory_map),	   T(test_namespaces_mounts_system), {NULL, NULL}};
T_MAIN_SETUP(t_cases, setup, teardown)
