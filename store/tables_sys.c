/*
 * tables_sys.c - system-wide parsed tables: system_kv (meminfo, vmstat,
 * stat, loadavg, uptime, one-value /proc/sys files), sysctls (every
 * /proc/sys file), shared_memory (sysvipc/shm), kernel_modules,
 * process_mounts (once per mount namespace), and the sockets, as osquery
 * reports them (osquery/filesystem/linux/proc.cpp, process_open_sockets.cpp):
 * net/ tables are captured
 * once per network namespace, under the first pid seen in it, so their rows
 * are staged in TEMP tables and joined to every process's socket fds (by
 * the inode of "socket:[N]") once all members have been read.
 */
#include "store.h"
#include "store_int.h"
#include "tables_int.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/socket.h>

/* clang-format off */
#define MOUNT_COLS(X)                                                                              \
	X(device) X(path) X(type) X(flags) X(mount_id) X(parent_id) X(major) X(minor) X(root)      \
	X(options) X(super_options) X(optional_fields) X(mnt_ns) X(pid)
#define ENUM_MT(n) MT_##n,
#define NAME(n) #n,
enum { MT_0, MOUNT_COLS(ENUM_MT) };
static const char *const mount_cols[] = {MOUNT_COLS(NAME) NULL};
/* clang-format on */
static const char *const kv_cols[] = {"source", "key", "value", "text", "unit", "path", NULL};
static const char *const module_cols[] = {"name",    "size",	 "used_by", "status",
					  "address", "refcount", "taint",   NULL};
/* clang-format off */
static const char *const shm_cols[] = {"shmid", "owner_uid", "creator_uid", "pid", "creator_pid",
	"atime", "dtime", "ctime", "permissions", "size", "attached", "status", "locked", "key",
	"gid", "creator_gid", "rss", "swap", NULL};
/* clang-format on */
static const char *const sysctl_cols[] = {"name", "current_value", NULL};

/* Staging for the socket join; TEMP, so it never reaches the index file
 * (and, with SQLite's default temp_store, spills to a temporary file rather
 * than growing in memory with the number of sockets). */
static const char staging_sql[] =
    "CREATE TEMP TABLE ps_net_sock(src_pid INTEGER, source TEXT, inode INTEGER, "
    "  family INTEGER, protocol INTEGER, local_address TEXT, remote_address TEXT, "
    "  local_port INTEGER, remote_port INTEGER, path TEXT, state TEXT, uid INTEGER, "
    "  tx_queue INTEGER, rx_queue INTEGER, type INTEGER, unix_state TEXT);"
    "CREATE TEMP TABLE ps_sock_fd(pid INTEGER, fd INTEGER, inode INTEGER);"
    "CREATE TEMP TABLE ps_netns_src(src_pid INTEGER, net_ns INTEGER);";

enum {
	S_src_pid = 1,
	S_source,
	S_inode,
	S_family,
	S_protocol,
	S_local_address,
	S_remote_address,
	S_local_port,
	S_remote_port,
	S_path,
	S_state,
	S_uid,
	S_tx_queue,
	S_rx_queue,
	S_type,
	S_unix_state
};

int ps_tb_sys_prepare(struct ps_tables *t, struct ps_err *err)
{
	if (ps_tb_exec(t, staging_sql, err) < 0 ||
	    ps_tb_prepare(t, &t->ins_kv, "system_kv", kv_cols, err) < 0 ||
	    ps_tb_prepare(t, &t->ins_module, "kernel_modules", module_cols, err) < 0 ||
	    ps_tb_prepare(t, &t->ins_mount, "process_mounts", mount_cols, err) < 0 ||
	    ps_tb_prepare(t, &t->ins_shm, "shared_memory", shm_cols, err) < 0 ||
	    ps_tb_prepare(t, &t->ins_sysctl, "sysctls", sysctl_cols, err) < 0)
		return -1;
	if (sqlite3_prepare_v2(
		t->db,
		"INSERT INTO temp.ps_net_sock VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
		"?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
		-1, &t->ins_sock, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(t->db, "INSERT INTO temp.ps_sock_fd VALUES (?1, ?2, ?3)", -1,
			       &t->ins_sockfd, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(t->db, "INSERT INTO temp.ps_netns_src VALUES (?1, ?2)", -1,
			       &t->ins_netsrc, NULL) != SQLITE_OK)
		return ps_sql_err(err, t->db, "staging");
	return 0;
}

void ps_tb_sys_finalize(struct ps_tables *t)
{
	sqlite3_finalize(t->ins_kv);
	sqlite3_finalize(t->ins_module);
	sqlite3_finalize(t->ins_mount);
	sqlite3_finalize(t->ins_shm);
	sqlite3_finalize(t->ins_sysctl);
	sqlite3_finalize(t->ins_sock);
	sqlite3_finalize(t->ins_sockfd);
	sqlite3_finalize(t->ins_netsrc);
}

/* ---- system_kv ------------------------------------------------------------- */

struct kv {
	const char *source;
	const char *path;
	struct ps_str key;
	int has_int;
	int64_t ival;
	int has_real;
	double rval;
	struct ps_str text; /* p NULL: NULL */
	struct ps_str unit;
};

static int kv_row(struct ps_tables *t, const struct kv *r, struct ps_err *err)
{
	sqlite3_stmt *st = t->ins_kv;
	sqlite3_bind_text(st, 1, r->source, -1, SQLITE_STATIC);
	ps_tb_slice(st, 2, r->key);
	if (r->has_int)
		sqlite3_bind_int64(st, 3, r->ival);
	else if (r->has_real && !isnan(r->rval))
		sqlite3_bind_double(st, 3, r->rval);
	if (r->text.p)
		ps_tb_slice(st, 4, r->text);
	if (r->unit.len)
		ps_tb_slice(st, 5, r->unit);
	sqlite3_bind_text(st, 6, r->path, -1, SQLITE_STATIC);
	return ps_tb_step(t, st, "system_kv", err);
}

static struct ps_str cstr(const char *s)
{
	struct ps_str r = {s, strlen(s)};
	return r;
}

/* "Key: value unit" / "key value" files: meminfo, vmstat. */
static int kv_file(struct ps_tables *t, const char *source, const char *path, const char *data,
		   size_t len, struct ps_err *err)
{
	size_t pos = 0;
	struct ps_kv kv;
	int r;
	while ((r = ps_kv_next(data, len, &pos, &kv)) != 0) {
		if (r < 0 || kv.key.len == 0)
			continue;
		struct kv row = {source, path, kv.key, 0, 0, 0, 0, kv.value, kv.unit};
		if (kv.has_num && kv.num <= (uint64_t)INT64_MAX) {
			row.has_int = 1;
			row.ival = (int64_t)kv.num;
		}
		if (kv_row(t, &row, err) < 0)
			return -1;
	}
	return 0;
}

/* /proc/stat: "cpu[N] user nice system idle iowait irq softirq steal guest
 * guest_nice" (ticks) become cpu.user ...; intr and softirq keep their total
 * only (the per-source counts stay in the archive); the rest are one number. */
static int stat_file(struct ps_tables *t, const char *data, size_t len, struct ps_err *err)
{
	static const char *const cpu_fields[] = {"user",   "nice",	"system",  "idle",
						 "iowait", "irq",	"softirq", "steal",
						 "guest",  "guest_nice"};
	size_t pos = 0;
	struct ps_kv kv;
	int r;
	while ((r = ps_kv_next(data, len, &pos, &kv)) != 0) {
		if (r < 0 || kv.key.len == 0)
			continue;
		struct kv row = {"stat", "proc/stat", kv.key, 0, 0, 0, 0, kv.value, {NULL, 0}};
		if (kv.key.len >= 3 && memcmp(kv.key.p, "cpu", 3) == 0) {
			size_t np = 0;
			uint64_t v;
			int k = 0, nr;
			while ((nr = ps_nums_next(kv.value, &np, &v)) != 0 &&
			       k < (int)(sizeof(cpu_fields) / sizeof(cpu_fields[0]))) {
				ps_buf_reset(&t->sbuf);
				ps_buf_add(&t->sbuf, kv.key.p, kv.key.len);
				ps_buf_addf(&t->sbuf, ".%s", cpu_fields[k++]);
				struct kv c = {"stat", "proc/stat", {t->sbuf.buf, t->sbuf.len},
					       0,      0,	    0,
					       0,      {NULL, 0},   {NULL, 0}};
				if (nr > 0 && v <= (uint64_t)INT64_MAX) {
					c.has_int = 1;
					c.ival = (int64_t)v;
				}
				if (kv_row(t, &c, err) < 0)
					return -1;
			}
			continue;
		}
		if (kv.has_num && kv.num <= (uint64_t)INT64_MAX) {
			row.has_int = 1;
			row.ival = (int64_t)kv.num;
		}
		if (ps_str_eq(kv.key, "intr") || ps_str_eq(kv.key, "softirq"))
			row.text.p = NULL;
		if (ps_str_eq(kv.key, "btime") && row.has_int)
			t->btime = row.ival;
		if (kv_row(t, &row, err) < 0)
			return -1;
	}
	return 0;
}

static int loadavg_file(struct ps_tables *t, const char *data, size_t len, struct ps_err *err)
{
	struct ps_loadavg la;
	ps_loadavg_parse(data, len, &la);
	struct {
		const char *k;
		int real;
		double d;
		int64_t i;
	} v[] = {{"load1", 1, la.load1, 0},   {"load5", 1, la.load5, 0},
		 {"load15", 1, la.load15, 0}, {"running", 0, 0, la.running},
		 {"total", 0, 0, la.total},   {"last_pid", 0, 0, la.last_pid}};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct kv row = {"loadavg", "proc/loadavg", cstr(v[i].k), 0, 0, 0,
				 0,	    {NULL, 0},	    {NULL, 0}};
		if (v[i].real) {
			row.has_real = 1;
			row.rval = v[i].d;
		} else if (v[i].i != PS_I64_UNKNOWN) {
			row.has_int = 1;
			row.ival = v[i].i;
		}
		if (kv_row(t, &row, err) < 0)
			return -1;
	}
	return 0;
}

static int uptime_file(struct ps_tables *t, const char *data, size_t len, struct ps_err *err)
{
	struct ps_uptime u;
	ps_uptime_parse(data, len, &u);
	struct kv a = {"uptime", "proc/uptime", cstr("uptime"), 0,	  0,
		       1,	 u.uptime,	{NULL, 0},	cstr("s")};
	struct kv b = {"uptime", "proc/uptime", cstr("idle"), 0,	0,
		       1,	 u.idle,	{NULL, 0},    cstr("s")};
	return kv_row(t, &a, err) < 0 || kv_row(t, &b, err) < 0 ? -1 : 0;
}

/* The sysctls row of proc/sys/<name>: name dotted as osquery does
 * ("kernel/pid_max" -> "kernel.pid_max"), the value trimmed of white space
 * at both ends (boost::trim); data NULL: not read. */
static int sysctl_row(struct ps_tables *t, const char *rel, const char *data, size_t len,
		      struct ps_err *err)
{
	sqlite3_stmt *st = t->ins_sysctl;
	ps_buf_reset(&t->sbuf);
	ps_buf_adds(&t->sbuf, rel + 4);
	for (size_t i = 0; i < t->sbuf.len; i++)
		if (t->sbuf.buf[i] == '/')
			t->sbuf.buf[i] = '.';
	ps_tb_str(st, 1, t->sbuf.buf, t->sbuf.len);
	if (data) {
		size_t s = 0, e = len;
		while (s < e && (data[s] == ' ' || (data[s] >= '\t' && data[s] <= '\r')))
			s++;
		while (e > s &&
		       (data[e - 1] == ' ' || (data[e - 1] >= '\t' && data[e - 1] <= '\r')))
			e--;
		ps_tb_str(st, 2, data + s, e - s);
	}
	return ps_tb_step(t, st, "sysctls", err);
}

int ps_tb_sys_unread(struct ps_tables *t, const char *rel, struct ps_err *err)
{
	return sysctl_row(t, rel, NULL, 0, err);
}

/* A /proc/sys file: its sysctls row, and a system_kv row when it holds one
 * number or one word (no blanks, one line, printable): key = its path
 * below proc/sys/. */
static int sys_value_file(struct ps_tables *t, const char *rel, const char *data, size_t len,
			  struct ps_err *err)
{
	if (sysctl_row(t, rel, data, len, err) < 0)
		return -1;
	if (len && data[len - 1] == '\n')
		len--;
	if (len == 0 || len > 256)
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)data[i];
		if (c <= ' ' || c == 0x7f)
			return 0;
	}
	ps_buf_reset(&t->sbuf);
	ps_buf_adds(&t->sbuf, "proc/");
	ps_buf_adds(&t->sbuf, rel);
	struct ps_str text = {data, len};
	struct kv row = {"sys", t->sbuf.buf, cstr(rel + 4), 0, 0, 0, 0, text, {NULL, 0}};
	int64_t v;
	if (ps_str_i64(text, &v) == 0) {
		row.has_int = 1;
		row.ival = v;
	}
	return kv_row(t, &row, err);
}

/* ---- kernel_modules ---------------------------------------------------------- */

static int modules_file(struct ps_tables *t, const char *data, size_t len, struct ps_err *err)
{
	size_t pos = 0;
	struct ps_module md;
	int r;
	sqlite3_stmt *st = t->ins_module;
	char addr[32];
	while ((r = ps_modules_next(data, len, &pos, &md)) != 0) {
		if (r < 0 || md.name.len == 0)
			continue;
		ps_tb_slice(st, 1, md.name);
		ps_tb_u64(st, 2, md.size);
		ps_tb_slice(st, 3, md.used_by);
		ps_tb_slice(st, 4, md.state);
		if (md.address != PS_U64_UNKNOWN) {
			/* as /proc/modules prints it (and osquery reports it) */
			snprintf(addr, sizeof(addr), "0x%016" PRIx64, md.address);
			sqlite3_bind_text(st, 5, addr, -1, SQLITE_TRANSIENT);
		}
		ps_tb_i64(st, 6, md.refcount);
		if (md.taint.len)
			ps_tb_slice(st, 7, md.taint);
		if (ps_tb_step(t, st, "kernel_modules", err) < 0)
			return -1;
	}
	return 0;
}

/* ---- shared_memory (sysvipc/shm) ------------------------------------------------------ */

/* SHM_DEST, SHM_LOCKED in ipc_perm.mode (include/uapi/linux/shm.h). */
#define SHM_DEST_BIT   01000
#define SHM_LOCKED_BIT 02000

static int shm_file(struct ps_tables *t, const char *data, size_t len, struct ps_err *err)
{
	size_t pos = 0;
	struct ps_shm m;
	int r;
	sqlite3_stmt *st = t->ins_shm;
	while ((r = ps_shm_next(data, len, &pos, &m)) != 0) {
		if (r < 0)
			continue;
		char perms[8];
		ps_tb_u64(st, 1, m.shmid);
		ps_tb_u64(st, 2, m.uid);
		ps_tb_u64(st, 3, m.cuid);
		ps_tb_u64(st, 4, m.lpid);
		ps_tb_u64(st, 5, m.cpid);
		ps_tb_u64(st, 6, m.atime);
		ps_tb_u64(st, 7, m.dtime);
		ps_tb_u64(st, 8, m.ctime);
		/* osquery's lsperms: the four low octal digits of the mode */
		snprintf(perms, sizeof(perms), "%04o", (unsigned)(m.perms & 07777));
		sqlite3_bind_text(st, 9, perms, -1, SQLITE_TRANSIENT);
		ps_tb_u64(st, 10, m.size);
		ps_tb_u64(st, 11, m.nattch);
		sqlite3_bind_text(st, 12, m.perms & SHM_DEST_BIT ? "dest" : "", -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 13, (m.perms & SHM_LOCKED_BIT) != 0);
		ps_tb_i64(st, 14, m.key);
		ps_tb_u64(st, 15, m.gid);
		ps_tb_u64(st, 16, m.cgid);
		ps_tb_u64(st, 17, m.rss);
		ps_tb_u64(st, 18, m.swap);
		if (ps_tb_step(t, st, "shared_memory", err) < 0)
			return -1;
	}
	return 0;
}

int ps_tb_sys_member(struct ps_tables *t, const char *rel, const char *data, size_t len,
		     struct ps_err *err)
{
	if (strcmp(rel, "sysvipc/shm") == 0)
		return shm_file(t, data, len, err);
	if (strcmp(rel, "meminfo") == 0)
		return kv_file(t, "meminfo", "proc/meminfo", data, len, err);
	if (strcmp(rel, "vmstat") == 0)
		return kv_file(t, "vmstat", "proc/vmstat", data, len, err);
	if (strcmp(rel, "stat") == 0)
		return stat_file(t, data, len, err);
	if (strcmp(rel, "loadavg") == 0)
		return loadavg_file(t, data, len, err);
	if (strcmp(rel, "uptime") == 0)
		return uptime_file(t, data, len, err);
	if (strcmp(rel, "modules") == 0)
		return modules_file(t, data, len, err);
	if (strncmp(rel, "sys/", 4) == 0)
		return sys_value_file(t, rel, data, len, err);
	return 0;
}

/* ---- sockets -------------------------------------------------------------------- */

/* The net/ files of process_open_sockets.  protocol is what osquery reports:
 * the IPPROTO_* its file name stands for (kLinuxProtocolNames), so icmp6 is
 * 1 like icmp; -1: unix, -2: packet (the frame's ethertype). */
struct net_file {
	const char *name;
	int protocol;
};
static const struct net_file net_files[] = {
    {"tcp", 6},	   {"tcp6", 6},	     {"udp", 17},	{"udp6", 17}, {"raw", 255},
    {"raw6", 255}, {"udplite", 136}, {"udplite6", 136}, {"icmp", 1},  {"icmp6", 1},
    {"unix", -1},  {"packet", -2},   {NULL, 0}};

static const char *unix_state(const struct ps_unix_sock *u)
{
	if (u->flags & 0x10000) /* __SO_ACCEPTCON */
		return "LISTEN";
	switch (u->st) {
	case 1:
		return "UNCONNECTED";
	case 2:
		return "CONNECTING";
	case 3:
		return "CONNECTED";
	case 4:
		return "DISCONNECTING";
	}
	return "UNKNOWN";
}

/* osquery's tcp_states (proc.h): st 1..11 by name, "CLOSED" for TCP_CLOSE,
 * "UNKNOWN" for 0 and for the states it does not list (NEW_SYN_RECV...). */
static const char *osquery_tcp_state(unsigned st)
{
	static const char *const names[] = {"UNKNOWN",	  "ESTABLISHED", "SYN_SENT",  "SYN_RECV",
					    "FIN_WAIT1",  "FIN_WAIT2",	 "TIME_WAIT", "CLOSED",
					    "CLOSE_WAIT", "LAST_ACK",	 "LISTEN",    "CLOSING"};
	return st < sizeof(names) / sizeof(names[0]) ? names[st] : "UNKNOWN";
}

/* What osquery leaves empty is '' (a string it never set), not NULL. */
static void bind_empty(sqlite3_stmt *st, int col)
{
	sqlite3_bind_text(st, col, "", 0, SQLITE_STATIC);
}

static int unix_rows(struct ps_tables *t, const char *data, size_t len, struct ps_err *err)
{
	sqlite3_stmt *st = t->ins_sock;
	size_t pos = 0;
	struct ps_unix_sock u;
	int r;
	while ((r = ps_unix_next(data, len, &pos, &u)) != 0) {
		if (r < 0)
			continue;
		ps_tb_i64(st, S_src_pid, t->p.pid);
		sqlite3_bind_text(st, S_source, "unix", -1, SQLITE_STATIC);
		ps_tb_u64(st, S_inode, u.inode);
		sqlite3_bind_int(st, S_family, AF_UNIX);
		ps_tb_u64(st, S_protocol, u.protocol); /* column Protocol, as osquery: 0 */
		bind_empty(st, S_local_address);
		bind_empty(st, S_remote_address);
		sqlite3_bind_int(st, S_local_port, 0);
		sqlite3_bind_int(st, S_remote_port, 0);
		ps_tb_slice(st, S_path, u.path);
		bind_empty(st, S_state);
		sqlite3_bind_text(st, S_unix_state, unix_state(&u), -1, SQLITE_STATIC);
		ps_tb_u64(st, S_type, u.type);
		if (ps_tb_step(t, st, "net sockets", err) < 0)
			return -1;
	}
	return 0;
}

/* AF_PACKET sockets as osquery's procGetSocketListPacket: the ethertype as
 * protocol, no addresses or ports, state "NONE". */
static int packet_rows(struct ps_tables *t, const char *data, size_t len, struct ps_err *err)
{
	sqlite3_stmt *st = t->ins_sock;
	size_t pos = 0;
	struct ps_packet_sock k;
	int r;
	while ((r = ps_packet_next(data, len, &pos, &k)) != 0) {
		if (r < 0)
			continue;
		ps_tb_i64(st, S_src_pid, t->p.pid);
		sqlite3_bind_text(st, S_source, "packet", -1, SQLITE_STATIC);
		ps_tb_u64(st, S_inode, k.inode);
		sqlite3_bind_int(st, S_family, AF_PACKET);
		ps_tb_u64(st, S_protocol, k.proto);
		bind_empty(st, S_local_address);
		bind_empty(st, S_remote_address);
		sqlite3_bind_int(st, S_local_port, 0);
		sqlite3_bind_int(st, S_remote_port, 0);
		bind_empty(st, S_path);
		sqlite3_bind_text(st, S_state, "NONE", -1, SQLITE_STATIC);
		ps_tb_u64(st, S_uid, k.uid);
		ps_tb_u64(st, S_type, k.type);
		if (ps_tb_step(t, st, "net sockets", err) < 0)
			return -1;
	}
	return 0;
}

int ps_tb_net_member(struct ps_tables *t, const char *name, const char *data, size_t len,
		     struct ps_err *err)
{
	const struct net_file *nf = net_files;
	while (nf->name && strcmp(nf->name, name) != 0)
		nf++;
	if (!nf->name)
		return 0;
	if (nf->protocol == -1)
		return unix_rows(t, data, len, err);
	if (nf->protocol == -2)
		return packet_rows(t, data, len, err);
	sqlite3_stmt *st = t->ins_sock;
	size_t pos = 0;
	int r;
	struct ps_inet_sock s;
	while ((r = ps_inet_next(data, len, &pos, &s)) != 0) {
		if (r < 0)
			continue;
		ps_tb_i64(st, S_src_pid, t->p.pid);
		sqlite3_bind_text(st, S_source, nf->name, -1, SQLITE_STATIC);
		ps_tb_u64(st, S_inode, s.inode);
		sqlite3_bind_int(st, S_family, s.family);
		sqlite3_bind_int(st, S_protocol, nf->protocol);
		sqlite3_bind_text(st, S_local_address, s.local_text, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, S_remote_address, s.remote_text, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int(st, S_local_port, s.local_port);
		sqlite3_bind_int(st, S_remote_port, s.remote_port);
		bind_empty(st, S_path);
		/* TCP states name the st column; for UDP/raw it is not a state:
		 * osquery leaves it '' */
		sqlite3_bind_text(st, S_state, nf->protocol == 6 ? osquery_tcp_state(s.state) : "",
				  -1, SQLITE_STATIC);
		ps_tb_u64(st, S_uid, s.uid);
		ps_tb_u64(st, S_tx_queue, s.tx_queue);
		ps_tb_u64(st, S_rx_queue, s.rx_queue);
		if (ps_tb_step(t, st, "net sockets", err) < 0)
			return -1;
	}
	return 0;
}

/* ---- mounts ------------------------------------------------------------------- */

/* Open-addressing set of u64 keys (mount namespace inodes, or content
 * hashes); 0 marks an empty slot, so a key 0 is stored as 1.  Returns 1 if
 * the key is new. */
static int seen_add(struct ps_tables *t, uint64_t key)
{
	if (key == 0)
		key = 1;
	if ((t->nmnt_seen + 1) * 2 > t->capmnt_seen) {
		size_t ncap = t->capmnt_seen ? t->capmnt_seen * 2 : 64;
		uint64_t *n = ps_xcalloc(ncap, sizeof(*n));
		for (size_t i = 0; i < t->capmnt_seen; i++) {
			uint64_t k = t->mnt_seen[i];
			if (!k)
				continue;
			size_t j = (size_t)(k * 0x9e3779b97f4a7c15ull) & (ncap - 1);
			while (n[j])
				j = (j + 1) & (ncap - 1);
			n[j] = k;
		}
		free(t->mnt_seen);
		t->mnt_seen = n;
		t->capmnt_seen = ncap;
	}
	size_t j = (size_t)(key * 0x9e3779b97f4a7c15ull) & (t->capmnt_seen - 1);
	while (t->mnt_seen[j]) {
		if (t->mnt_seen[j] == key)
			return 0;
		j = (j + 1) & (t->capmnt_seen - 1);
	}
	t->mnt_seen[j] = key;
	t->nmnt_seen++;
	return 1;
}

/* Bind a mountinfo path with its octal escapes decoded. */
static void bind_unescaped(struct ps_tables *t, sqlite3_stmt *st, int col, struct ps_str s)
{
	size_t n = ps_unescape_octal(NULL, 0, s);
	ps_buf_reset(&t->sbuf);
	ps_buf_grow(&t->sbuf, n + 1);
	ps_unescape_octal(t->sbuf.buf, n + 1, s);
	ps_tb_str(st, col, t->sbuf.buf, n);
}

/* osquery's flags are /proc/mounts' options: the per-mount options, then
 * the superblock's own (without its rw/ro, already said). */
static void bind_flags(struct ps_tables *t, sqlite3_stmt *st, int col,
		       const struct ps_mountinfo *mi)
{
	ps_buf_reset(&t->sbuf);
	ps_buf_add(&t->sbuf, mi->options.p, mi->options.len);
	const char *p = mi->super_options.p, *e = p + mi->super_options.len;
	while (p && p < e) {
		const char *c = memchr(p, ',', (size_t)(e - p));
		if (!c)
			c = e;
		size_t n = (size_t)(c - p);
		if (n && !(n == 2 && (memcmp(p, "rw", 2) == 0 || memcmp(p, "ro", 2) == 0))) {
			if (t->sbuf.len)
				ps_buf_addc(&t->sbuf, ',');
			ps_buf_add(&t->sbuf, p, n);
		}
		p = c + 1;
	}
	ps_tb_str(st, col, t->sbuf.buf, t->sbuf.len);
}

static int mount_rows(struct ps_tables *t, struct ps_err *err)
{
	struct proc_state *p = &t->p;
	uint64_t key;
	if (p->ns[NS_MNT] != PS_U64_UNKNOWN) {
		key = p->ns[NS_MNT];
	} else {
		/* ns/mnt unreadable: one set per distinct mountinfo content */
		unsigned char h[16];
		ps_xxh3_128(p->mountinfo.buf, p->mountinfo.len, h);
		memcpy(&key, h, sizeof(key));
		key |= (uint64_t)1 << 63; /* ns inodes are 32-bit: no clash */
	}
	if (!seen_add(t, key))
		return 0;
	sqlite3_stmt *st = t->ins_mount;
	size_t pos = 0;
	struct ps_mountinfo mi;
	int r;
	while ((r = ps_mountinfo_next(p->mountinfo.buf, p->mountinfo.len, &pos, &mi)) != 0) {
		if (r < 0)
			continue;
		bind_unescaped(t, st, MT_device, mi.source);
		bind_unescaped(t, st, MT_path, mi.mount_point);
		bind_unescaped(t, st, MT_root, mi.root);
		ps_tb_slice(st, MT_type, mi.fstype);
		bind_flags(t, st, MT_flags, &mi);
		ps_tb_u64(st, MT_mount_id, mi.mount_id);
		ps_tb_u64(st, MT_parent_id, mi.parent_id);
		sqlite3_bind_int64(st, MT_major, mi.major);
		sqlite3_bind_int64(st, MT_minor, mi.minor);
		ps_tb_slice(st, MT_options, mi.options);
		ps_tb_slice(st, MT_super_options, mi.super_options);
		ps_tb_slice(st, MT_optional_fields, mi.optional);
		ps_tb_u64(st, MT_mnt_ns, p->ns[NS_MNT]);
		ps_tb_i64(st, MT_pid, p->pid);
		if (ps_tb_step(t, st, "mounts", err) < 0)
			return -1;
	}
	return 0;
}

int ps_tb_sys_proc_flush(struct ps_tables *t, struct ps_err *err)
{
	struct proc_state *p = &t->p;
	if (p->have_mountinfo && mount_rows(t, err) < 0)
		return -1;
	if (p->had_net) {
		sqlite3_stmt *st = t->ins_netsrc;
		ps_tb_i64(st, 1, p->pid);
		ps_tb_u64(st, 2, p->ns[NS_NET]);
		if (ps_tb_step(t, st, "net namespaces", err) < 0)
			return -1;
	}
	return 0;
}

/* ---- after the last member ------------------------------------------------------- */

static const char end_sql[] =
    /* every socket of every captured namespace, once per (pid, fd) holding
     * it; sockets no captured fd holds get pid = fd = -1, and an unknown
     * network namespace 0 (as osquery) */
    "CREATE INDEX temp.ps_sock_fd_inode ON ps_sock_fd(inode);"
    "CREATE INDEX temp.ps_netns_src_pid ON ps_netns_src(src_pid);"
    "INSERT INTO process_open_sockets(snapshot_id, pid, fd, socket, family, protocol, "
    "  local_address, remote_address, local_port, remote_port, path, state, net_namespace, "
    "  source, source_pid, uid, tx_queue, rx_queue, type, unix_state) "
    "SELECT 1, coalesce(f.pid, -1), coalesce(f.fd, -1), s.inode, s.family, s.protocol, "
    "  s.local_address, s.remote_address, s.local_port, s.remote_port, s.path, s.state, "
    "  coalesce((SELECT n.net_ns FROM ps_netns_src n WHERE n.src_pid = s.src_pid LIMIT 1), 0), "
    "  s.source, s.src_pid, s.uid, s.tx_queue, s.rx_queue, s.type, s.unix_state "
    "FROM ps_net_sock s LEFT JOIN ps_sock_fd f ON f.inode = s.inode AND s.inode != 0;"
    /* what capture learned: on_disk (resolved in the process's own mount
     * namespace), hidden, partial; matched on (pid, starttime) */
    "UPDATE processes SET on_disk = coalesce(c.on_disk, -1), hidden = coalesce(c.hidden, 0), "
    "  partial = coalesce(c.partial, 0) "
    "FROM capture_processes c WHERE c.snapshot_id = 1 AND c.pid = processes.pid "
    "  AND (c.starttime IS NULL OR processes.starttime IS NULL "
    "       OR c.starttime = processes.starttime);"
    /* partial is capture's verdict alone: kernel threads answer ESRCH for
     * their mm files on every capture, so an errno is no sign of exit */
    "DROP TABLE temp.ps_net_sock; DROP TABLE temp.ps_sock_fd; DROP TABLE temp.ps_netns_src;";

int ps_tb_sys_end(struct ps_tables *t, struct ps_err *err)
{
	return ps_tb_exec(t, end_sql, err);
}
