/*
 * test_osquery_tables.c - osquery's semantics where procsnap shares a name
 * (issue 12 items 2 and 3), on a live capture of the victim (tests/victim.c)
 * and of this test process:
 *   process_open_files lists paths only, process_fds every fd;
 *   process_memory_map.path without " (deleted)" (raw_path keeps it);
 *   mounts is one mount namespace (pid 1's, or the lowest captured pid's),
 *   process_mounts all of them (a victim in a namespace of its own);
 *   process_open_sockets: state names, '' not NULL, packet sockets;
 *   listening_ports as osquery's rule; process_open_pipes partners;
 *   shared_memory from sysvipc/shm; system_controls; uptime; time.
 */
#include "t.h"
#include "tutil.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static struct tu_victim v, ns_victim;
static int have_ns_victim;
static char d_file[256], d_map[256], d_snap[256], d_db[300], d_sock[100], d_odd[256];
static int captured, odd_fd = -1, udp_fd = -1, unix_fd = -1, packet_fd = -1, shm_dest = -1,
		     shm_keep = -1;
static int udp_port;
static void *mapped;
static double up_before, up_after;

static double read_uptime(void)
{
	double u = -1;
	FILE *f = fopen("/proc/uptime", "r");
	if (f) {
		if (fscanf(f, "%lf", &u) != 1)
			u = -1;
		fclose(f);
	}
	return u;
}

/* A victim in a mount namespace of its own, with a tmpfs mounted there
 * ("psnap-ns-test"): it is in process_mounts, not in mounts. */
static void start_ns_victim(void)
{
	char cmd[1200], line[256];
	snprintf(cmd, sizeof(cmd),
		 "mount -t tmpfs psnap-ns-test /mnt && exec '%s/tests/victim' '%s'", t_bindir,
		 d_file);
	const char *argv[] = {"unshare", "-m", "--propagation", "private", "sh", "-c", cmd, NULL};
	const char *env[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL};
	if (access("/usr/bin/unshare", X_OK) != 0 ||
	    tu_victim_exec(&ns_victim, "/usr/bin/unshare", argv, env, NULL, line, sizeof(line),
			   NULL) != 0)
		return;
	have_ns_victim = strncmp(line, "ready pid=", 10) == 0;
}

static void setup(void)
{
	const char *d = tu_tmpdir();
	chmod(d, 0755);
	snprintf(d_file, sizeof(d_file), "%s/known file.txt", d);
	snprintf(d_map, sizeof(d_map), "%s/mapped.bin", d);
	snprintf(d_sock, sizeof(d_sock), "%s/osq.sock", d);
	snprintf(d_odd, sizeof(d_odd), "%s/not a pipe:[1]", d);
	snprintf(d_snap, sizeof(d_snap), "%s/snap.tar.zst", d);
	snprintf(d_db, sizeof(d_db), "%s.db", d_snap);
	if (tu_sh(NULL, "head -c 5000 /dev/zero > '%s' && head -c 8192 /dev/zero > '%s'", d_file,
		  d_map) != 0)
		return;
	if (getuid() != 0)
		T_SKIP("needs root (mount namespaces, packet sockets)");
	const char *args[] = {NULL};
	const char *env[] = {"PATH=/usr/bin:/bin", NULL};
	if (tu_victim_start(&v, d_file, args, env) != 0) {
		fprintf(stderr, "victim did not start\n");
		t_failures++;
		return;
	}
	start_ns_victim();
	/* this process: a mapping of a deleted file, UDP, unix, packet sockets,
	 * two shared memory segments (one marked for destruction) */
	int fd = open(d_map, O_RDONLY);
	mapped = fd >= 0 ? mmap(NULL, 8192, PROT_READ, MAP_PRIVATE, fd, 0) : MAP_FAILED;
	if (fd >= 0)
		close(fd);
	unlink(d_map);
	/* a file whose name holds "pipe:": osquery tests the substring anywhere */
	odd_fd = open(d_odd, O_RDWR | O_CREAT, 0600);
	udp_fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t al = sizeof(a);
	if (udp_fd >= 0 && bind(udp_fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(udp_fd, (struct sockaddr *)&a, &al) == 0)
		udp_port = ntohs(a.sin_port);
	unix_fd = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un u;
	memset(&u, 0, sizeof(u));
	u.sun_family = AF_UNIX;
	memcpy(u.sun_path, d_sock, strlen(d_sock) + 1);
	if (unix_fd >= 0 &&
	    (bind(unix_fd, (struct sockaddr *)&u, sizeof(u)) != 0 || listen(unix_fd, 1) != 0)) {
		close(unix_fd);
		unix_fd = -1;
	}
	packet_fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	shm_dest = shmget(IPC_PRIVATE, 8192, IPC_CREAT | 0600);
	shm_keep = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0640);
	if (shm_dest >= 0) {
		void *p = shmat(shm_dest, NULL, 0);
		(void)p;
		shmctl(shm_dest, IPC_RMID, NULL); /* attached: marked SHM_DEST */
	}
	up_before = read_uptime();
	captured = tu_sh(NULL, "%s capture -q -o %s --pid 1 --pid %d --pid %d%s%d 2>/dev/null",
			 tu_procsnap(), d_snap, (int)getpid(), v.pid,
			 have_ns_victim ? " --pid " : "", have_ns_victim ? ns_victim.pid : 0) == 0;
	up_after = read_uptime();
	if (!captured) {
		fprintf(stderr, "capture failed\n");
		t_failures++;
	}
}

static void teardown(void)
{
	if (v.pid)
		tu_victim_stop(&v);
	if (have_ns_victim)
		tu_victim_stop(&ns_victim);
	if (shm_keep >= 0)
		shmctl(shm_keep, IPC_RMID, NULL);
	if (mapped && mapped != MAP_FAILED)
		munmap(mapped, 8192);
	tu_cleanup();
}

static void test_open_files(void)
{
	if (!captured)
		T_SKIP_CASE("no capture");
	/* the file is a path: in both; the pipe and the socket only in process_fds */
	CHECK_INT(tu_sql_int(d_db,
			     "SELECT count(*) FROM process_open_files WHERE pid = %d AND "
			     "fd = %d AND path = '%s'",
			     v.pid, v.file_fd, d_file),
		  1);
	int fds[] = {v.pipe_r, v.pipe_w, v.sock_fd};
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		CHECK_INT(tu_sql_int(d_db,
				     "SELECT count(*) FROM process_open_files WHERE pid = %d AND "
				     "fd = %d",
				     v.pid, fds[i]),
			  0);
		CHECK_INT(tu_sql_int(d_db,
				     "SELECT count(*) FROM process_fds WHERE pid = %d AND fd = %d",
				     v.pid, fds[i]),
			  1);
	}
	/* a file named "not a pipe:[1]" is left out, as osquery leaves it out */
	CHECK(odd_fd >= 0);
	CHECK_INT(tu_sql_int(d_db,
			     "SELECT count(*) FROM process_fds WHERE pid = %d AND fd = %d AND "
			     "type = 'path' AND path = '%s'",
			     (int)getpid(), odd_fd, d_odd),
		  1);
	CHECK_INT(tu_sql_int(d_db,
			     "SELECT count(*) FROM process_open_files WHERE pid = %d AND fd = %d",
			     (int)getpid(), odd_fd),
		  0);
	/* process_fds says which: open_file 1 for the known file, 0 for the odd one */
	CHECK_INT(tu_sql_int(d_db, "SELECT open_file FROM process_fds WHERE pid = %d AND fd = %d",
			     v.pid, v.file_fd),
		  1);
	CHECK_INT(tu_sql_int(d_db, "SELECT open_file FROM process_fds WHERE pid = %d AND fd = %d",
			     (int)getpid(), odd_fd),
		  0);
	/* nothing osquery would leave out, and everything else kept */
	CHECK_INT(tu_sql_int(d_db,
			     "SELECT count(*) FROM process_open_files WHERE path GLOB "
			     "'*socket:*' OR path GLOB '*pipe:*' OR path GLOB '*anon_inode:*'"),
		  0);
	CHECK_INT(tu_sql_int(d_db, "SELECT (SELECT count(*) FROM process_fds WHERE path NOT GLOB "
				   "'*socket:*' AND path NOT GLOB '*pipe:*' AND path NOT GLOB "
				   "'*anon_inode:*') = (SELECT count(*) FROM process_open_files)"),
		  1);
	/* fds_open (the partial index of the open files) holds exactly the
	 * rows open_file = 1 marks, per pid too, and the join of processes to
	 * process_open_files the bench times reads it, not the table */
	CHECK(tu_sql_int(d_db, "SELECT count(*) FROM fds NOT INDEXED WHERE open_file = 1") > 0);
	CHECK_INT(
	    tu_sql_int(d_db,
		       "SELECT (SELECT count(*) FROM fds INDEXED BY fds_open WHERE open_file = "
		       "1) = (SELECT count(*) FROM fds NOT INDEXED WHERE open_file = 1)"),
	    1);
	CHECK_INT(
	    tu_sql_int(d_db,
		       "SELECT count(*) FROM fds INDEXED BY fds_open WHERE open_file = 1 AND "
		       "pid = %d",
		       v.pid),
	    tu_sql_int(d_db, "SELECT count(*) FROM process_open_files WHERE pid = %d", v.pid));
	struct ps_buf plan = PS_BUF_INIT;
	CHECK_INT(tu_sh(&plan,
			"sqlite3 %s 'EXPLAIN QUERY PLAN SELECT p.name, count(*) FROM processes p "
			"JOIN process_open_files f ON f.snapshot_id = p.snapshot_id AND f.pid = "
			"p.pid GROUP BY p.name'",
			d_db),
		  0);
	CHECK(plan.buf && strstr(plan.buf, "COVERING INDEX fds_open") != NULL);
	/* ... and processes in name order (processes_name), so the GROUP BY
	 * needs no sort of the joined rows; the counts are the ones a scan of
	 * the table gives */
	CHECK(plan.buf && strstr(plan.buf, "COVERING INDEX processes_name") != NULL);
	CHECK(plan.buf && strstr(plan.buf, "TEMP B-TREE") == NULL);
	ps_buf_release(&plan);
	char by_index[4096], by_table[4096];
#define GROUPED                                                                                    \
	"SELECT group_concat(n || '=' || c, ',') FROM (SELECT p.name AS n, count(*) AS c FROM "     \
	"processes p %s JOIN process_open_files f ON f.snapshot_id = p.snapshot_id AND f.pid = "     \
	"p.pid GROUP BY p.name ORDER BY 1)"
	CHECK_INT(tu_sql(d_db, by_index, sizeof(by_index), GROUPED, ""), 0);
	CHECK_INT(tu_sql(d_db, by_table, sizeof(by_table), GROUPED, "NOT INDEXED"), 0);
#undef GROUPED
	CHECK_STR(by_index, by_table);
	CHECK(strstr(by_index, "=") != NULL);
}

static void test_memory_map_path(void)
{
	char t[1024], want[600];
	if (!captured || mapped == MAP_FAILED)
		T_SKIP_CASE("no capture or no mapping");
	CHECK_INT(tu_sql(d_db, t, sizeof(t),
			 "SELECT path || '|' || raw_path || '|' || deleted FROM process_memory_map "
			 "WHERE pid = %d AND start_addr = %llu",
			 (int)getpid(), (unsigned long long)(uintptr_t)mapped),
		  0);
	snprintf(want, sizeof(want), "%s|%s (deleted)|1", d_map, d_map);
	CHECK_STR(t, want);
	/* no path keeps the suffix; anonymous mappings have '' as osquery */
	CHECK_INT(tu_sql_int(d_db, "SELECT count(*) FROM process_memory_map WHERE path GLOB "
				   "'* (deleted)'"),
		  0);
	CHECK_INT(tu_sql_int(d_db, "SELECT count(*) FROM process_memory_map WHERE path IS NULL"),
		  0);
	/* (the kernel may have merged it with a neighbour: the one holding it) */
	CHECK_INT(tu_sql_int(d_db,
			     "SELECT count(*) FROM process_memory_map WHERE pid = %d AND "
			     "start_addr <= %lu AND end_addr > %lu AND path = '' AND pseudo = 0",
			     v.pid, v.map, v.map),
		  1);
}

static void test_mounts(void)
{
	if (!captured)
		T_SKIP_CASE("no capture");
	/* mounts: one namespace, pid 1's if captured, else the lowest pid's */
	CHECK_INT(tu_sql_int(d_db, "SELECT count(DISTINCT pid) FROM mounts"), 1);
	CHECK_INT(tu_sql_int(d_db, "SELECT (SELECT min(pid) FROM process_mounts) = (SELECT "
				   "min(pid) FROM mounts)"),
		  1);
	CHECK_INT(tu_sql_int(d_db, "SELECT (SELECT count(*) FROM process_mounts WHERE pid = "
				   "(SELECT min(pid) FROM process_mounts)) = (SELECT count(*) FROM "
				   "mounts)"),
		  1);
	CHECK(tu_sql_int(d_db, "SELECT count(*) FROM mounts WHERE path = '/'") >= 1);
	CHECK_INT(tu_sql_int(d_db, "SELECT count(*) FROM mounts WHERE blocks IS NOT NULL OR "
				   "device_alias IS NOT NULL"),
		  0);
	if (!have_ns_victim)
		T_SKIP_CASE("no mount namespace (unshare)");
	CHECK_INT(tu_sql_int(d_db,
			     "SELECT count(*) FROM process_mounts WHERE device = 'psnap-ns-test' "
			     "AND type = 'tmpfs' AND path = '/mnt' AND pid = %d",
			     ns_victim.pid),
		  1);
	CHECK_INT(tu_sql_int(d_db, "SELECT count(*) FROM mounts WHERE device = 'psnap-ns-test'"),
		  0);
	CHECK(tu_sql_int(d_db, "SELECT count(DISTINCT mnt_ns) FROM process_mounts") >= 2);
}

static void test_sockets(void)
{
	char t[1024];
	if (!captured)
		T_SKIP_CASE("no capture");
	CHECK(strlen(d_sock) < 100);
	/* TCP: osquery's state name, '' path, the namespace inode */
	CHECK_INT(tu_sql(d_db, t, sizeof(t),
			 "SELECT state || '|' || quote(path) || '|' || family || '|' || protocol "
			 "FROM process_open_sockets WHERE pid = %d AND fd = %d",
			 v.pid, v.sock_fd),
		  0);
	CHECK_STR(t, "LISTEN|''|2|6");
	/* UDP: no state, '' (not NULL) */
	if (udp_port > 0) {
		CHECK_INT(
		    tu_sql(d_db, t, sizeof(t),
			   "SELECT quote(state) || '|' || quote(path) || '|' || local_port || "
			   "'|' || remote_port || '|' || protocol FROM process_open_sockets "
			   "WHERE pid = %d AND fd = %d",
			   (int)getpid(), udp_fd),
		    0);
		snprintf(t + 512, 512, "''|''|%d|0|17", udp_port);
		CHECK_STR(t, t + 512);
		CHECK_INT(
		    tu_sql_int(d_db,
			       "SELECT count(*) FROM listening_ports WHERE pid = %d AND fd = %d "
			       "AND port = %d AND address = '127.0.0.1' AND path IS NULL",
			       (int)getpid(), udp_fd, udp_port),
		    1);
		/* a number written as text, as some published queries do */
		CHECK_INT(
		    tu_sql_int(d_db,
			       "SELECT count(*) FROM listening_ports WHERE pid = %d AND port = "
			       "'%d' AND family = '2'",
			       (int)getpid(), udp_port),
		    1);
	}
	/* unix: family 1, protocol 0, '' addresses and state, our state kept */
	if (unix_fd >= 0) {
		CHECK_INT(
		    tu_sql(d_db, t, sizeof(t),
			   "SELECT family || '|' || protocol || '|' || quote(local_address) || "
			   "'|' || quote(state) || '|' || unix_state || '|' || path FROM "
			   "process_open_sockets WHERE pid = %d AND fd = %d",
			   (int)getpid(), unix_fd),
		    0);
		snprintf(t + 512, 512, "1|0|''|''|LISTEN|%s", d_sock);
		CHECK_STR(t, t + 512);
		/* listening_ports: port 0, socket 0, the path, no address */
		CHECK_INT(
		    tu_sql(d_db, t, sizeof(t),
			   "SELECT port || '|' || socket || '|' || quote(address) || '|' || path "
			   "FROM listening_ports WHERE pid = %d AND fd = %d",
			   (int)getpid(), unix_fd),
		    0);
		snprintf(t + 512, 512, "0|0|NULL|%s", d_sock);
		CHECK_STR(t, t + 512);
	}
	/* never NULL where osquery gives '' */
	CHECK_INT(tu_sql_int(d_db, "SELECT count(*) FROM process_open_sockets WHERE state IS NULL "
				   "OR path IS NULL OR local_address IS NULL OR remote_address IS "
				   "NULL OR net_namespace IS NULL"),
		  0);
	CHECK_INT(tu_sql_int(d_db, "SELECT count(*) FROM process_open_sockets WHERE protocol = 6 "
				   "AND state NOT IN ('ESTABLISHED', 'SYN_SENT', 'SYN_RECV', "
				   "'FIN_WAIT1', 'FIN_WAIT2', 'TIME_WAIT', 'CLOSED', 'CLOSE_WAIT', "
				   "'LAST_ACK', 'LISTEN', 'CLOSING', 'UNKNOWN')"),
		  0);
	/* a packet socket: family 17, the ethertype, state NONE */
	if (packet_fd < 0)
		T_SKIP_CASE("no packet socket (CAP_NET_RAW)");
	CHECK_INT(
	    tu_sql(d_db, t, sizeof(t),
		   "SELECT family || '|' || protocol || '|' || state || '|' || "
		   "quote(local_address) || '|' || local_port FROM process_open_sockets WHERE "
		   "pid = %d AND fd = %d",
		   (int)getpid(), packet_fd),
	    0);
	CHECK_STR(t, "17|3|NONE|''|0");
	CHECK_INT(tu_sql_int(d_db,
			     "SELECT count(*) FROM listening_ports WHERE pid = %d AND fd = %d AND "
			     "family = 17 AND port = 0",
			     (int)getpid(), packet_fd),
		  1);
}

static void test_pipes(void)
{
	char t[512], want[512];
	if (!captured)
		T_SKIP_CASE("no capture");
	/* the victim holds both ends of its pipe: each end's partner is the other */
	CHECK_INT(
	    tu_sql(d_db, t, sizeof(t),
		   "SELECT group_concat(fd || mode || '>' || partner_pid || ':' || partner_fd "
		   "|| partner_mode || ':' || type, ' ') FROM (SELECT * FROM "
		   "process_open_pipes WHERE pid = %d AND fd IN (%d, %d) ORDER BY fd)",
		   v.pid, v.pipe_r, v.pipe_w),
	    0);
	snprintf(want, sizeof(want), "%dr>%d:%dw:anonymous %dw>%d:%dr:anonymous", v.pipe_r, v.pid,
		 v.pipe_w, v.pipe_w, v.pid, v.pipe_r);
	CHECK_STR(t, want);
	CHECK_INT(tu_sql_int(
		      d_db, "SELECT count(*) FROM process_open_pipes p JOIN process_fds f ON "
			    "f.snapshot_id = p.snapshot_id AND f.pid = p.pid AND f.fd = p.fd WHERE "
			    "f.type != 'pipe' OR f.inode != p.inode"),
		  0);
}

static void test_shared_memory(void)
{
	char t[512], want[512];
	if (!captured || shm_dest < 0 || shm_keep < 0)
		T_SKIP_CASE("no capture or no segments");
	CHECK_INT(
	    tu_sql(d_db, t, sizeof(t),
		   "SELECT permissions || '|' || size || '|' || attached || '|' || status || "
		   "'|' || locked || '|' || creator_pid || '|' || pid || '|' || owner_uid FROM "
		   "shared_memory WHERE shmid = %d",
		   shm_dest),
	    0);
	snprintf(want, sizeof(want), "1600|8192|1|dest|0|%d|%d|%d", (int)getpid(), (int)getpid(),
		 (int)getuid());
	CHECK_STR(t, want);
	CHECK_INT(tu_sql(d_db, t, sizeof(t),
			 "SELECT permissions || '|' || size || '|' || attached || '|' || "
			 "quote(status) || '|' || key FROM shared_memory WHERE shmid = %d",
			 shm_keep),
		  0);
	CHECK_STR(t, "0640|4096|0|''|0");
}

static void test_system_controls(void)
{
	char t[512];
	struct ps_buf b = PS_BUF_INIT;
	if (!captured)
		T_SKIP_CASE("no capture");
	CHECK_INT(tu_slurp("/proc/sys/kernel/pid_max", &b), 0);
	while (b.len && b.buf[b.len - 1] == '\n')
		b.buf[--b.len] = '\0';
	CHECK_INT(
	    tu_sql(d_db, t, sizeof(t),
		   "SELECT subsystem || '|' || current_value || '|' || type || '|' || "
		   "quote(oid) || '|' || quote(config_value) FROM system_controls WHERE name = "
		   "'kernel.pid_max'"),
	    0);
	char want[600];
	snprintf(want, sizeof(want), "kernel|%s|string|NULL|NULL", b.buf);
	CHECK_STR(t, want);
	CHECK(tu_sql_int(d_db, "SELECT count(*) FROM system_controls WHERE subsystem IN ('net', "
			       "'vm', 'fs')") > 50);
	/* trimmed at both ends, tabs inside kept */
	CHECK_INT(tu_sql_int(d_db, "SELECT count(*) FROM system_controls WHERE current_value GLOB "
				   "'*[ \n]' OR current_value GLOB '[ \n]*'"),
		  0);
	ps_buf_release(&b);
}

static void test_uptime_time(void)
{
	if (!captured)
		T_SKIP_CASE("no capture");
	long long total = tu_sql_int(d_db, "SELECT total_seconds FROM uptime");
	CHECK(total >= (long long)up_before - 1 && total <= (long long)up_after + 1);
	CHECK_INT(tu_sql_int(d_db, "SELECT days * 86400 + hours * 3600 + minutes * 60 + seconds "
				   "FROM uptime"),
		  total);
	CHECK_INT(tu_sql_int(d_db, "SELECT count(*) FROM uptime WHERE hours > 23 OR minutes > 59 "
				   "OR seconds > 59"),
		  0);
	long long ut = tu_sql_int(d_db, "SELECT unix_time FROM time");
	CHECK_INT(ut, tu_sql_int(d_db, "SELECT start_ns / 1000000000 FROM snapshots"));
	time_t tt = (time_t)ut;
	struct tm g;
	gmtime_r(&tt, &g);
	char want[128], got[256], as[64];
	strftime(want, sizeof(want), "%Y-%m-%dT%H:%M:%SZ", &g);
	CHECK_INT(tu_sql(d_db, got, sizeof(got), "SELECT iso_8601 FROM time"), 0);
	CHECK_STR(got, want);
	/* timestamp: asctime(3) of UTC and " UTC", as osquery */
	asctime_r(&g, as);
	as[strcspn(as, "\n")] = '\0';
	snprintf(want, sizeof(want), "%s UTC", as);
	CHECK_INT(tu_sql(d_db, got, sizeof(got), "SELECT timestamp FROM time"), 0);
	CHECK_STR(got, want);
	strftime(want, sizeof(want), "%A|%Y|%m|%d|%H|%M|%S", &g);
	CHECK_INT(tu_sql(d_db, got, sizeof(got),
			 "SELECT weekday || '|' || year || '|' || printf('%%02d', month) || '|' || "
			 "printf('%%02d', day) || '|' || printf('%%02d', hour) || '|' || "
			 "printf('%%02d', minutes) || '|' || printf('%%02d', seconds) FROM time"),
		  0);
	CHECK_STR(got, want);
	CHECK_INT(tu_sql(d_db, got, sizeof(got), "SELECT timezone FROM time"), 0);
	CHECK_STR(got, "UTC");
}

static const struct t_case t_cases[] = {
    T(test_open_files),	     T(test_memory_map_path), T(test_mounts),
    T(test_sockets),	     T(test_pipes),	      T(test_shared_memory),
    T(test_system_controls), T(test_uptime_time),     {0, 0}};
T_MAIN_SETUP(t_cases, setup, teardown)
