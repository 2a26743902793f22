/*
 * tables.c - the parsed index tables (DESIGN 5), filled from archive members
 * as the index builder streams them (store_int.h hook contract).
 *
 * Members of one process are contiguous (proc/<pid>/..., then its
 * task/<tid>/...), so the state of exactly one process and one thread is
 * held; its rows are written when the pid (or tid) changes.  Rows whose
 * content spans many members (processes, threads, open files) are built
 * from that state; the others (envs, limits, maps) are inserted as their
 * member passes.  What needs every member first (sockets joined to fds,
 * capture facts) is done in ps_tables_end (tables_sys.c).
 *
 * Hostile input: every parser is bounded (procfs.h); a member that does not
 * parse leaves NULL columns or no row, never an error.  Only SQLite failures
 * stop the build.
 */
#include "store.h"
#include "store_int.h"
#include "tables_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

/* ---- column lists (X-macros keep the enum and the SQL in step) ---------- */

/* clang-format off */
#define PROC_COLS(X)                                                                               \
	X(pid) X(name) X(path) X(cmdline) X(state) X(cwd) X(root) X(uid) X(gid) X(euid) X(egid)    \
	X(suid) X(sgid) X(on_disk) X(wired_size) X(resident_size) X(total_size) X(user_time)       \
	X(system_time) X(disk_bytes_read) X(disk_bytes_written) X(start_time) X(parent) X(pgroup)  \
	X(threads) X(nice) X(cgroup_path) X(ppid) X(starttime) X(session) X(tty_nr) X(tracer_pid)  \
	X(seccomp) X(no_new_privs) X(cap_eff) X(cap_prm) X(cap_bnd) X(cap_inh) X(cap_amb)          \
	X(oom_score) X(oom_score_adj) X(exe_deleted) X(partial) X(hidden) X(comm) X(kthread)       \
	X(vsize) X(minflt) X(majflt) X(voluntary_ctxt_switches) X(nonvoluntary_ctxt_switches)      \
	X(fd_count) X(ns_pid) X(net_ns) X(mnt_ns) X(pid_ns) X(user_ns) X(uts_ns) X(ipc_ns)         \
	X(cgroup_ns) X(time_ns) X(env_set) X(limits_set) X(flags) X(pid_for_children_ns)         \
	X(time_for_children_ns)

#define THREAD_COLS(X)                                                                             \
	X(pid) X(tid) X(name) X(state) X(user_time) X(system_time) X(starttime) X(processor)       \
	X(nice) X(priority) X(policy) X(rt_priority) X(minflt) X(majflt)                           \
	X(voluntary_ctxt_switches) X(nonvoluntary_ctxt_switches) X(tracer_pid) X(wchan) X(flags)

#define MAP_COLS(X) X(pid) X(seq) X(map_id)

/* map_info, then maps_rare: the values of one distinct mapping, in this
 * order (INFO_COLS after map_id, then RARE_COLS after map_id). */
#define INFO_COLS(X)                                                                               \
	X(map_id) X(start_addr) X(len) X(perms_id) X(offset) X(dev) X(inode) X(path_id)            \
	X(rss_kb) X(pss_kb) X(pss_dirty_kb) X(shared_clean_kb) X(shared_dirty_kb)                  \
	X(private_clean_kb) X(private_dirty_kb) X(referenced_kb) X(anonymous_kb) X(vmflags_id)     \
	X(thp_eligible) X(protection_key) X(pages) X(present) X(swapped) X(file_or_shared)         \
	X(exclusive) X(soft_dirty) X(pfn_visible)

#define RARE_COLS(X)                                                                               \
	X(map_id) X(kernel_page_size_kb) X(mmu_page_size_kb) X(ksm_kb) X(lazy_free_kb)             \
	X(anon_huge_pages_kb) X(shmem_pmd_mapped_kb) X(file_pmd_mapped_kb) X(shared_hugetlb_kb)    \
	X(private_hugetlb_kb) X(swap_kb) X(swap_pss_kb) X(locked_kb)

#define FD_COLS(X)                                                                                 \
	X(pid) X(fd) X(open_file) X(path_id) X(type_id) X(inode) X(pos) X(flags) X(mnt_id)           \
	X(deleted)

#define ENUM_P(n) P_##n,
#define ENUM_T(n) T_##n,
#define ENUM_M(n) M_##n,
#define ENUM_I(n) I_##n,
#define ENUM_R(n) R_##n,
#define ENUM_F(n) F_##n,
#define NAME(n) #n,
enum { P_0, PROC_COLS(ENUM_P) };
enum { T_0, THREAD_COLS(ENUM_T) };
enum { M_0, MAP_COLS(ENUM_M) };
enum { I_0, INFO_COLS(ENUM_I) I_END };
enum { R_0, RARE_COLS(ENUM_R) R_END };
enum { F_0, FD_COLS(ENUM_F) };
static const char *const proc_cols[] = {PROC_COLS(NAME) NULL};
static const char *const thread_cols[] = {THREAD_COLS(NAME) NULL};
static const char *const map_cols[] = {MAP_COLS(NAME) NULL};
static const char *const info_cols[] = {INFO_COLS(NAME) NULL};
static const char *const rare_cols[] = {RARE_COLS(NAME) NULL};
static const char *const fd_cols[] = {FD_COLS(NAME) NULL};
static const char *const env_cols[] = {"set_id", "seq", "key", "value", NULL};
static const char *const limit_cols[] = {"set_id", "seq", "name", "soft_limit", "hard_limit", "units", NULL};
/* clang-format on */

/* ns/<name> links, in enum ns_kind order. */
static const char *const ns_names[NS_COUNT] = {
    "cgroup", "ipc", "mnt", "net", "pid", "pid_for_children", "time", "time_for_children",
    "user",   "uts"};

/* PF_KTHREAD in stat field 9 (flags), include/linux/sched.h. */
#define PF_KTHREAD     0x00200000u
#define DELETED_SUFFIX " (deleted)"
/* Distinct mappings remembered (map_info): 16-byte digests, ~3 MiB. */
#define MAPD_MAX (1u << 16)

/* ---- shared helpers ------------------------------------------------------- */

/* A parsed u64 the tables store: not the unknown marker, and one SQLite's
 * signed integers hold (a value past INT64_MAX stays NULL). */
static int u64_stored(uint64_t v)
{
	return v != PS_U64_UNKNOWN && v <= (uint64_t)INT64_MAX;
}

void ps_tb_u64(sqlite3_stmt *st, int col, uint64_t v)
{
	if (!u64_stored(v))
		sqlite3_bind_null(st, col);
	else
		sqlite3_bind_int64(st, col, (int64_t)v);
}

void ps_tb_i64(sqlite3_stmt *st, int col, int64_t v)
{
	if (v == PS_I64_UNKNOWN)
		sqlite3_bind_null(st, col);
	else
		sqlite3_bind_int64(st, col, v);
}

void ps_tb_str(sqlite3_stmt *st, int col, const char *p, size_t len)
{
	if (len > INT32_MAX)
		len = INT32_MAX; /* a 2 GiB string cannot come from a member (PS_MEMBER_MAX) */
	sqlite3_bind_text(st, col, p ? p : "", (int)len, SQLITE_TRANSIENT);
}

void ps_tb_slice(sqlite3_stmt *st, int col, struct ps_str s)
{
	ps_tb_str(st, col, s.p, s.len);
}

int ps_tb_step(struct ps_tables *t, sqlite3_stmt *st, const char *what, struct ps_err *err)
{
	int r = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (r != SQLITE_DONE)
		return ps_sql_err(err, t->db, what);
	return 0;
}

int ps_tb_prepare(struct ps_tables *t, sqlite3_stmt **st, const char *table,
		  const char *const *cols, struct ps_err *err)
{
	return ps_tb_prepare_as(t, st, "INSERT", table, cols, err);
}

int ps_tb_prepare_as(struct ps_tables *t, sqlite3_stmt **st, const char *verb, const char *table,
		     const char *const *cols, struct ps_err *err)
{
	struct ps_buf sql = PS_BUF_INIT;
	int n = 0;
	ps_buf_addf(&sql, "%s INTO %s(snapshot_id", verb, table);
	for (; cols[n]; n++)
		ps_buf_addf(&sql, ", \"%s\"", cols[n]);
	ps_buf_adds(&sql, ") VALUES (1");
	for (int i = 1; i <= n; i++)
		ps_buf_addf(&sql, ", ?%d", i);
	ps_buf_adds(&sql, ")");
	int rc = 0;
	if (sqlite3_prepare_v2(t->db, sql.buf, -1, st, NULL) != SQLITE_OK)
		rc = ps_sql_err(err, t->db, sql.buf);
	ps_buf_release(&sql);
	return rc;
}

int ps_tb_flush(struct ps_tables *t, struct ps_err *err)
{
	struct ps_bulk *bs[] = {&t->bk_maps, &t->bk_info, &t->bk_rare, &t->bk_fds};
	for (size_t i = 0; i < sizeof(bs) / sizeof(bs[0]); i++)
		if (ps_bulk_flush(bs[i], err) < 0)
			return -1;
	return 0;
}

int ps_tb_exec(struct ps_tables *t, const char *sql, struct ps_err *err)
{
	if (ps_tb_flush(t, err) < 0)
		return -1;
	char *msg = NULL;
	if (sqlite3_exec(t->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		ps_err_set(err, EIO, "sqlite: %.200s: %s", sql, msg ? msg : "?");
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

/* ---- which members we parse ------------------------------------------------- */

static int in_list(const char *const *list, const char *s)
{
	for (; *list; list++)
		if (strcmp(*list, s) == 0)
			return 1;
	return 0;
}

static const char *const sys_files[] = {"meminfo", "vmstat",  "stat",	     "loadavg",
					"uptime",  "modules", "sysvipc/shm", NULL};
static const char *const pid_files[] = {
    "stat",    "status",    "statm",	     "io",	  "cmdline",
    "environ", "maps",	    "smaps",	     "limits",	  "cgroup",
    "comm",    "oom_score", "oom_score_adj", "mountinfo", "pagemap.sections",
    NULL};
static const char *const tid_files[] = {"stat", "status", "wchan", NULL};

/* Path below proc/<pid>/ (and below task/<tid>/ when tid >= 0): "" for the
 * directory itself; NULL if the path is not of that shape. */
static const char *rel_path(const char *path, int64_t tid)
{
	const char *p = path + 5; /* "proc/" */
	while (*p >= '0' && *p <= '9')
		p++;
	if (tid >= 0) {
		p += 6; /* "/task/" */
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p == '\0')
		return p;
	return *p == '/' ? p + 1 : NULL;
}

int ps_tables_wants(const char *path)
{
	int64_t pid, tid;
	if (ps_ir_wants(path) || strcmp(path, PS_HASHES_PATH) == 0)
		return 1;
	if (strncmp(path, "proc/", 5) != 0)
		return 0;
	ps_path_ids(path, &pid, &tid);
	if (pid < 0)
		return in_list(sys_files, path + 5) || strncmp(path + 5, "sys/", 4) == 0;
	const char *rel = rel_path(path, tid);
	if (!rel)
		return 0;
	if (tid >= 0)
		return in_list(tid_files, rel);
	return in_list(pid_files, rel) || strncmp(rel, "fdinfo/", 7) == 0 ||
	       strncmp(rel, "net/", 4) == 0;
}

/* ---- state ---------------------------------------------------------------- */

static void thread_reset(struct thread_state *th)
{
	th->tid = -1;
	th->have_stat = th->have_status = th->have_wchan = 0;
	th->tracer_pid = PS_I64_UNKNOWN;
	th->vol = th->nonvol = PS_U64_UNKNOWN;
	ps_buf_reset(&th->name);
	ps_buf_reset(&th->wchan);
}

/* Give back buffers a huge process grew (60k mappings, 10k fds), so one
 * outlier does not pin its memory for the rest of the build. */
static void shrink(struct ps_buf *b)
{
	if (b->cap > ((size_t)1 << 20))
		ps_buf_release(b);
	else
		ps_buf_reset(b);
}

static void proc_reset(struct proc_state *p)
{
	p->pid = -1;
	p->present = 0;
	p->have_stat = p->have_status = p->have_statm = p->have_io = 0;
	p->have_cmdline = p->have_exe = p->have_cwd = p->have_root = 0;
	p->have_cgroup = p->have_comm = 0;
	p->oom_score = p->oom_score_adj = PS_I64_UNKNOWN;
	for (int i = 0; i < NS_COUNT; i++)
		p->ns[i] = PS_U64_UNKNOWN;
	p->fd_count = PS_I64_UNKNOWN;
	p->nfds = 0;
	p->fds_sorted = 1;
	if (p->capfds > 4096) {
		free(p->fds);
		p->fds = NULL;
		p->capfds = 0;
	}
	p->smaps_rows = 0;
	p->have_maps = p->have_mountinfo = p->had_net = 0;
	ps_buf_reset(&p->stat_comm);
	shrink(&p->cmdline);
	ps_buf_reset(&p->exe);
	ps_buf_reset(&p->cwd);
	ps_buf_reset(&p->root);
	ps_buf_reset(&p->cgroup);
	ps_buf_reset(&p->comm);
	shrink(&p->arena);
	shrink(&p->maps);
	shrink(&p->mountinfo);
	p->have_smaps = p->have_pagemap = 0;
	p->pagemap_seen = p->have_pc = p->streaming = 0;
	shrink(&p->carry);
	p->env_set = p->limits_set = -1;
	shrink(&p->smaps);
	shrink(&p->pagemap);
}

static void proc_release(struct proc_state *p)
{
	free(p->fds);
	p->fds = NULL;
	p->capfds = 0;
	ps_buf_release(&p->stat_comm);
	ps_buf_release(&p->cmdline);
	ps_buf_release(&p->exe);
	ps_buf_release(&p->cwd);
	ps_buf_release(&p->root);
	ps_buf_release(&p->cgroup);
	ps_buf_release(&p->comm);
	ps_buf_release(&p->arena);
	ps_buf_release(&p->maps);
	ps_buf_release(&p->mountinfo);
	ps_buf_release(&p->smaps);
	ps_buf_release(&p->pagemap);
	ps_buf_release(&p->carry);
}

static void set_buf(struct ps_buf *b, const char *p, size_t n)
{
	ps_buf_reset(b);
	ps_buf_add(b, p, n);
}

/* Strip one trailing newline (single-value files end with one). */
static size_t chomp(const char *p, size_t n)
{
	return n && p[n - 1] == '\n' ? n - 1 : n;
}

static void bind_ms(const struct ps_tables *t, sqlite3_stmt *st, int col, uint64_t ticks)
{
	if (ticks == PS_U64_UNKNOWN || t->clock_ticks <= 0 || ticks > (uint64_t)INT64_MAX / 1000)
		sqlite3_bind_null(st, col);
	else
		sqlite3_bind_int64(st, col, (int64_t)(ticks * 1000 / (uint64_t)t->clock_ticks));
}

/* Capability masks as status prints them: 16 hex digits. */
static void bind_cap(sqlite3_stmt *st, int col, uint64_t v)
{
	char hex[24];
	if (v == PS_U64_UNKNOWN) {
		/* An all-ones mask cannot be told from "unknown"; caps never
		 * have bit 63 set, so NULL is right. */
		sqlite3_bind_null(st, col);
		return;
	}
	snprintf(hex, sizeof(hex), "%016" PRIx64, v);
	sqlite3_bind_text(st, col, hex, -1, SQLITE_TRANSIENT);
}

/* kB count to bytes, NULL when unknown or absurd. */
static void bind_kb_bytes(sqlite3_stmt *st, int col, uint64_t kb)
{
	ps_tb_u64(st, col,
		  kb == PS_U64_UNKNOWN || kb > (uint64_t)INT64_MAX / 1024 ? PS_U64_UNKNOWN
									  : kb * 1024);
}

static void bind_pages_bytes(const struct ps_tables *t, sqlite3_stmt *st, int col, uint64_t pages)
{
	if (pages == PS_U64_UNKNOWN || t->page_size <= 0 ||
	    pages > (uint64_t)INT64_MAX / (uint64_t)t->page_size)
		sqlite3_bind_null(st, col);
	else
		sqlite3_bind_int64(st, col, (int64_t)(pages * (uint64_t)t->page_size));
}

/* ---- threads ------------------------------------------------------------- */

static int flush_thread(struct ps_tables *t, struct ps_err *err)
{
	struct thread_state *th = &t->th;
	if (th->tid < 0)
		return 0;
	sqlite3_stmt *st = t->ins_thread;
	const struct ps_stat *s = &th->stat;
	ps_tb_i64(st, T_pid, t->p.pid);
	ps_tb_i64(st, T_tid, th->tid);
	if (th->have_stat) {
		if (PS_STAT_HAS(s, 2))
			ps_tb_str(st, T_name, th->name.buf, th->name.len);
		if (PS_STAT_HAS(s, 3) && s->state)
			ps_tb_str(st, T_state, &s->state, 1);
		if (PS_STAT_HAS(s, 14))
			bind_ms(t, st, T_user_time, s->utime);
		if (PS_STAT_HAS(s, 15))
			bind_ms(t, st, T_system_time, s->stime);
		if (PS_STAT_HAS(s, 22))
			ps_tb_u64(st, T_starttime, s->starttime);
		if (PS_STAT_HAS(s, 39))
			ps_tb_i64(st, T_processor, s->processor);
		if (PS_STAT_HAS(s, 19))
			ps_tb_i64(st, T_nice, s->nice);
		if (PS_STAT_HAS(s, 18))
			ps_tb_i64(st, T_priority, s->priority);
		if (PS_STAT_HAS(s, 41))
			ps_tb_u64(st, T_policy, s->policy);
		if (PS_STAT_HAS(s, 40))
			ps_tb_u64(st, T_rt_priority, s->rt_priority);
		if (PS_STAT_HAS(s, 10))
			ps_tb_u64(st, T_minflt, s->minflt);
		if (PS_STAT_HAS(s, 12))
			ps_tb_u64(st, T_majflt, s->majflt);
		if (PS_STAT_HAS(s, 9))
			ps_tb_u64(st, T_flags, s->flags);
	}
	if (th->have_status) {
		ps_tb_u64(st, T_voluntary_ctxt_switches, th->vol);
		ps_tb_u64(st, T_nonvoluntary_ctxt_switches, th->nonvol);
		ps_tb_i64(st, T_tracer_pid, th->tracer_pid);
	}
	if (th->have_wchan)
		ps_tb_str(st, T_wchan, th->wchan.buf, th->wchan.len);
	thread_reset(th);
	return ps_tb_step(t, st, "threads", err);
}

static void thread_member(struct ps_tables *t, const char *rel, const struct ps_rmember *m)
{
	struct thread_state *th = &t->th;
	if (m->kind != PS_M_FILE)
		return;
	if (strcmp(rel, "stat") == 0) {
		ps_stat_parse(m->data, m->len, &th->stat);
		set_buf(&th->name, th->stat.comm.p, th->stat.comm.len);
		th->stat.comm.p = NULL;
		th->stat.comm.len = 0;
		th->have_stat = 1;
	} else if (strcmp(rel, "status") == 0) {
		struct ps_status s;
		ps_status_parse(m->data, m->len, &s);
		th->tracer_pid = s.tracer_pid;
		th->vol = s.voluntary_ctxt_switches;
		th->nonvol = s.nonvoluntary_ctxt_switches;
		th->have_status = 1;
	} else if (strcmp(rel, "wchan") == 0) {
		set_buf(&th->wchan, m->data, chomp(m->data, m->len));
		th->have_wchan = 1;
	}
}

/* ---- process_memory_map ------------------------------------------------------ */

/* Bounded as tables_int.h says: past max digests it starts afresh. */
int ps_set_find(struct set_dict *d, const void *data, size_t len, int64_t *id)
{
	XXH128_canonical_t c;
	XXH128_canonicalFromHash(&c, XXH3_128bits(data, len));
	uint64_t key, v;
	memcpy(&key, c.digest, sizeof(key));
	size_t it = 0;
	while (ps_hmap_next(&d->map, key, &it, &v))
		if (memcmp(d->keys[v].h, c.digest, 16) == 0) {
			*id = d->keys[v].id;
			return 1;
		}
	*id = d->next++;
	if (d->n == d->max) { /* start afresh: recent contents are the likely repeats */
		ps_hmap_release(&d->map);
		d->n = 0;
	}
	PS_XGROW(d->keys, d->n, d->cap, 64);
	memcpy(d->keys[d->n].h, c.digest, 16);
	d->keys[d->n].id = *id;
	ps_hmap_put(&d->map, key, d->n++);
	return 0;
}

void ps_set_init(struct set_dict *d, size_t max)
{
	memset(d, 0, sizeof(*d));
	ps_hmap_init(&d->map, 0);
	d->max = max;
}

void ps_set_free(struct set_dict *d)
{
	ps_hmap_release(&d->map);
	free(d->keys);
}

/*
 * The values of one mapping, map_info's columns then maps_rare's (map_id
 * left out), unset = NULL: hashed whole, a mapping seen before (forked
 * workers share nearly all of theirs) gets the map_id it had.
 */
#define NINFO (I_END - 2)
#define NRARE (R_END - 2)
_Static_assert(NINFO + NRARE == PS_MAPVALS, "struct mapvals holds map_info and maps_rare");

static void mv_i64(struct mapvals *mv, int i, int64_t v)
{
	mv->v[i] = v;
	mv->set |= 1ull << i;
}

/* As tb_u64: the unknown marker, or a value past INT64_MAX, stays NULL. */
static void mv_u64(struct mapvals *mv, int i, uint64_t v)
{
	if (u64_stored(v))
		mv_i64(mv, i, (int64_t)v);
}

#define IV(col) ((col)-I_start_addr)
#define RV(col) (NINFO + (col)-R_kernel_page_size_kb)

/* The str_id of a text through the strings dictionary: 1 and *id, 0 for
 * no text (p NULL: the column stays NULL), -1 on failure. */
static int str_id(struct ps_tables *t, const char *p, size_t n, int64_t *id, struct ps_err *err)
{
	if (!p)
		return 0;
	*id = t->intern(t->intern_ctx, p, n, err);
	return *id < 0 ? -1 : 1;
}

/* A text through the strings dictionary (p NULL: NULL).  0 or -1. */
static int mv_str(struct ps_tables *t, struct mapvals *mv, int i, const char *p, size_t n,
		  struct ps_err *err)
{
	int64_t id = 0;
	int r = str_id(t, p, n, &id, err);
	if (r > 0)
		mv_i64(mv, i, id);
	return r < 0 ? -1 : 0;
}

/* The pagemap counts of one mapping (issue 4, procfs.h ps_pagemap_count):
 * NULL columns when pagemap.sections was not captured, is malformed, or does
 * not cover the whole mapping (--pagemap-max); soft_dirty NULL unless the
 * kernel tracks it (never zeros reported as "clean"). */
static void pagemap_vals(struct mapvals *mv, const struct ps_map *mp, struct ps_pagemap_cursor *pc)
{
	struct ps_pagemap_counts c;
	if (!pc || ps_pagemap_count(pc, mp->start, mp->end, &c) < 0 || !c.complete)
		return;
	mv_u64(mv, IV(I_pages), c.pages);
	mv_u64(mv, IV(I_present), c.present);
	mv_u64(mv, IV(I_swapped), c.swapped);
	mv_u64(mv, IV(I_file_or_shared), c.file_or_shared);
	mv_u64(mv, IV(I_exclusive), c.exclusive);
	if (c.soft_dirty_valid)
		mv_u64(mv, IV(I_soft_dirty), c.soft_dirty);
	mv_i64(mv, IV(I_pfn_visible), c.pfn_visible);
}

/* Rows of bulk b from v[first..first+n) as columns 2.. (column 1: map_id). */
static int vals_row(struct ps_bulk *b, int64_t map_id, const struct mapvals *mv, int first, int n,
		    struct ps_err *err)
{
	ps_bulk_i64(b, 1, map_id);
	for (int i = 0; i < n; i++)
		if (mv->set >> (first + i) & 1)
			ps_bulk_i64(b, 2 + i, mv->v[first + i]);
	return ps_bulk_row(b, err);
}

/* Do the maps_rare values of mv differ from the snapshot's usual ones? */
static int rare_unusual(const struct ps_tables *t, const struct mapvals *mv)
{
	uint64_t mask = ((1ull << NRARE) - 1) << NINFO;
	if ((mv->set & mask) != (t->rare_def.set & mask))
		return 1;
	for (int i = NINFO; i < NINFO + NRARE; i++)
		if ((mv->set >> i & 1) && mv->v[i] != t->rare_def.v[i])
			return 1;
	return 0;
}

/*
 * The usual maps_rare values of this snapshot, from its first smaps entry:
 * 4 kB pages and zeros for the fields this kernel prints, NULL for those
 * it does not (KSM: came with 6.11).  Stored as the row map_id -1; a
 * mapping has its own row only when it differs.
 */
static int rare_defaults(struct ps_tables *t, const struct mapvals *first, struct ps_err *err)
{
	struct mapvals *d = &t->rare_def;
	memset(d, 0, sizeof(*d));
	for (int i = NINFO; i < NINFO + NRARE; i++)
		if (first->set >> i & 1)
			mv_i64(d, i, i < RV(R_ksm_kb) ? 4 : 0);
	t->have_rare_def = 1;
	return vals_row(&t->bk_rare, -1, d, NINFO, NRARE, err);
}

int ps_tb_str_id(struct ps_tables *t, sqlite3_stmt *st, int col, const char *p, size_t n,
		 struct ps_err *err)
{
	int64_t id = 0;
	int r = str_id(t, p, n, &id, err);
	if (r > 0)
		sqlite3_bind_int64(st, col, id);
	return r < 0 ? -1 : 0;
}

/* tb_u64 and tb_str_id for a row of a bulk insert. */
static void bk_u64(struct ps_bulk *b, int col, uint64_t v)
{
	if (u64_stored(v))
		ps_bulk_i64(b, col, (int64_t)v);
}

static int bk_str_id(struct ps_tables *t, struct ps_bulk *b, int col, const char *p, size_t n,
		     struct ps_err *err)
{
	int64_t id = 0;
	int r = str_id(t, p, n, &id, err);
	if (r > 0)
		ps_bulk_i64(b, col, id);
	return r < 0 ? -1 : 0;
}

static int insert_map(struct ps_tables *t, const struct ps_map *mp, const struct ps_smaps *sm,
		      struct ps_pagemap_cursor *pc, struct ps_err *err)
{
	struct mapvals mv;
	memset(&mv, 0, sizeof(mv));
	mv_u64(&mv, IV(I_start_addr), mp->start);
	if (mp->end >= mp->start)
		mv_u64(&mv, IV(I_len), mp->end - mp->start);
	if (mv_str(t, &mv, IV(I_perms_id), mp->perms, strlen(mp->perms), err) < 0 ||
	    mv_str(t, &mv, IV(I_path_id), mp->path.p, mp->path.len, err) < 0)
		return -1;
	mv_u64(&mv, IV(I_offset), mp->offset);
	mv_i64(&mv, IV(I_dev), ((int64_t)mp->dev_major << 20) | (int64_t)mp->dev_minor);
	mv_u64(&mv, IV(I_inode), mp->inode);
	if (sm) {
		mv_u64(&mv, IV(I_rss_kb), sm->rss);
		mv_u64(&mv, IV(I_pss_kb), sm->pss);
		mv_u64(&mv, IV(I_pss_dirty_kb), sm->pss_dirty);
		mv_u64(&mv, IV(I_shared_clean_kb), sm->shared_clean);
		mv_u64(&mv, IV(I_shared_dirty_kb), sm->shared_dirty);
		mv_u64(&mv, IV(I_private_clean_kb), sm->private_clean);
		mv_u64(&mv, IV(I_private_dirty_kb), sm->private_dirty);
		mv_u64(&mv, IV(I_referenced_kb), sm->referenced);
		mv_u64(&mv, IV(I_anonymous_kb), sm->anonymous);
		if (mv_str(t, &mv, IV(I_vmflags_id), sm->vm_flags.p, sm->vm_flags.len, err) < 0)
			return -1;
		mv_u64(&mv, IV(I_thp_eligible), sm->thp_eligible);
		mv_u64(&mv, IV(I_protection_key), sm->protection_key);
		const uint64_t rare[NRARE] = {
		    sm->kernel_page_size,
		    sm->mmu_page_size,
		    sm->ksm,
		    sm->lazy_free,
		    sm->anon_huge_pages,
		    sm->shmem_pmd_mapped,
		    sm->file_pmd_mapped,
		    sm->shared_hugetlb,
		    sm->private_hugetlb,
		    sm->swap,
		    sm->swap_pss,
		    sm->locked,
		};
		for (int i = 0; i < NRARE; i++)
			mv_u64(&mv, NINFO + i, rare[i]);
		if (!t->have_rare_def && rare_defaults(t, &mv, err) < 0)
			return -1;
	}
	pagemap_vals(&mv, mp, pc);

	int64_t map_id;
	if (!ps_set_find(&t->mapd, &mv, sizeof(mv), &map_id)) {
		if (vals_row(&t->bk_info, map_id, &mv, 0, NINFO, err) < 0)
			return -1;
		if (sm && rare_unusual(t, &mv) &&
		    vals_row(&t->bk_rare, map_id, &mv, NINFO, NRARE, err) < 0)
			return -1;
	}
	struct ps_bulk *b = &t->bk_maps;
	ps_bulk_i64(b, M_pid, t->p.pid);
	ps_bulk_i64(b, M_seq, t->map_seq++);
	ps_bulk_i64(b, M_map_id, map_id);
	return ps_bulk_row(b, err);
}

/* The pagemap cursor for a pass over this process's mappings (NULL when
 * there are no counts to give), rewound when fresh. */
static struct ps_pagemap_cursor *pagemap_cursor(struct proc_state *p, int fresh)
{
	if (fresh)
		p->have_pc = p->have_pagemap &&
			     ps_pagemap_cursor_init(&p->pc, p->pagemap.buf, p->pagemap.len) == 0;
	return p->have_pc ? &p->pc : NULL;
}

/* Rows for the whole smaps entries of data; returns the bytes parsed (all
 * of them when eof), or -1. */
static int64_t smaps_rows(struct ps_tables *t, const char *data, size_t len, int eof,
			  struct ps_err *err)
{
	size_t pos = 0, upto = eof ? len : ps_smaps_complete(data, len);
	struct ps_pagemap_cursor *pc = pagemap_cursor(&t->p, 0);
	struct ps_smaps sm;
	int r;
	while ((r = ps_smaps_next(data, upto, &pos, &sm)) != 0) {
		if (r < 0)
			continue; /* a broken entry: no row rather than a wrong one */
		if (insert_map(t, &sm.map, &sm, pc, err) < 0)
			return -1;
		t->p.smaps_rows++;
	}
	return (int64_t)upto;
}

/* smaps whole: rows now when the page counts are known (capture writes
 * pagemap.sections before smaps), else kept for the end of the process
 * (archives of earlier versions wrote it after). */
static int smaps_member(struct ps_tables *t, const char *data, size_t len, struct ps_err *err)
{
	struct proc_state *p = &t->p;
	if (p->pagemap_seen || !t->pagemap_expected) {
		pagemap_cursor(p, 1);
		return smaps_rows(t, data, len, 1, err) < 0 ? -1 : 0;
	}
	set_buf(&p->smaps, data, len);
	p->have_smaps = 1;
	return 0;
}

static int maps_rows(struct ps_tables *t, struct ps_pagemap_cursor *pc, struct ps_err *err)
{
	size_t pos = 0;
	struct ps_map mp;
	int r;
	while ((r = ps_maps_next(t->p.maps.buf, t->p.maps.len, &pos, &mp)) != 0) {
		if (r > 0 && insert_map(t, &mp, NULL, pc, err) < 0)
			return -1;
	}
	return 0;
}

/* ---- per-process members --------------------------------------------------------- */

static int env_rows(struct ps_tables *t, const char *data, size_t len, struct ps_err *err)
{
	if (ps_set_find(&t->envs, data, len, &t->p.env_set))
		return 0;
	size_t pos = 0;
	int64_t seq = 0;
	struct ps_str item, k, v;
	sqlite3_stmt *st = t->ins_env;
	while (ps_nul_next(data, len, &pos, &item) == 1) {
		if (item.len == 0)
			continue;
		sqlite3_bind_int64(st, 1, t->p.env_set);
		sqlite3_bind_int64(st, 2, seq++);
		if (ps_env_split(item, &k, &v) == 0) {
			ps_tb_slice(st, 3, k);
			ps_tb_slice(st, 4, v);
		} else {
			ps_tb_slice(st, 3, item);
		}
		if (ps_tb_step(t, st, "env_sets", err) < 0)
			return -1;
	}
	return 0;
}

static int limit_rows(struct ps_tables *t, const char *data, size_t len, struct ps_err *err)
{
	if (ps_set_find(&t->limits, data, len, &t->p.limits_set))
		return 0;
	size_t pos = 0;
	int64_t seq = 0;
	struct ps_limit l;
	int r;
	sqlite3_stmt *st = t->ins_limit;
	while ((r = ps_limits_next(data, len, &pos, &l)) != 0) {
		if (r < 0 || l.name.len == 0)
			continue;
		sqlite3_bind_int64(st, 1, t->p.limits_set);
		sqlite3_bind_int64(st, 2, seq++);
		ps_tb_slice(st, 3, l.name);
		ps_tb_i64(st, 4, l.soft);
		ps_tb_i64(st, 5, l.hard);
		if (l.units.len)
			ps_tb_slice(st, 6, l.units);
		if (ps_tb_step(t, st, "limit_sets", err) < 0)
			return -1;
	}
	return 0;
}

/* argv joined by single spaces, blanks trimmed at both ends (as osquery). */
static void join_cmdline(struct ps_buf *out, const char *data, size_t len)
{
	size_t pos = 0;
	struct ps_str item;
	ps_buf_reset(out);
	int first = 1;
	while (ps_nul_next(data, len, &pos, &item) == 1) {
		if (!first)
			ps_buf_addc(out, ' ');
		ps_buf_add(out, item.p, item.len);
		first = 0;
	}
	size_t s = 0, e = out->len;
	while (s < e && out->buf[s] == ' ')
		s++;
	while (e > s && out->buf[e - 1] == ' ')
		e--;
	if (s > 0)
		memmove(out->buf, out->buf + s, e - s);
	out->len = e - s;
	out->buf[out->len] = '\0';
}

static int64_t parse_i64_file(const char *data, size_t len)
{
	struct ps_str s = {data, chomp(data, len)};
	int64_t v;
	return ps_str_i64(s, &v) == 0 ? v : PS_I64_UNKNOWN;
}

static struct fd_ent *fd_add(struct proc_state *p, int64_t fd)
{
	PS_XGROW(p->fds, p->nfds, p->capfds, 64);
	struct fd_ent *e = &p->fds[p->nfds++];
	memset(e, 0, sizeof(*e));
	e->fd = fd;
	if (p->nfds > 1 && p->fds[p->nfds - 2].fd > fd)
		p->fds_sorted = 0;
	return e;
}

static int cmp_fd(const void *a, const void *b)
{
	int64_t x = ((const struct fd_ent *)a)->fd, y = ((const struct fd_ent *)b)->fd;
	return (x > y) - (x < y);
}

static struct fd_ent *fd_find(struct proc_state *p, int64_t fd)
{
	if (!p->fds_sorted) {
		qsort(p->fds, p->nfds, sizeof(*p->fds), cmp_fd);
		p->fds_sorted = 1;
	}
	struct fd_ent key;
	memset(&key, 0, sizeof(key));
	key.fd = fd;
	return p->nfds ? bsearch(&key, p->fds, p->nfds, sizeof(*p->fds), cmp_fd) : NULL;
}

/* "123" -> 123; -1 for anything else. */
static int64_t small_num(const char *s)
{
	uint64_t v;
	size_t n = strlen(s);
	if (ps_parse_u64(s, n, &v) < 0 || v > INT32_MAX)
		return -1;
	return (int64_t)v;
}

static void link_member(struct ps_tables *t, const char *rel, const char *target)
{
	struct proc_state *p = &t->p;
	size_t tl = strlen(target);
	if (strcmp(rel, "exe") == 0) {
		set_buf(&p->exe, target, tl);
		p->have_exe = 1;
	} else if (strcmp(rel, "cwd") == 0) {
		set_buf(&p->cwd, target, tl);
		p->have_cwd = 1;
	} else if (strcmp(rel, "root") == 0) {
		set_buf(&p->root, target, tl);
		p->have_root = 1;
	} else if (strncmp(rel, "fd/", 3) == 0) {
		int64_t fd = small_num(rel + 3);
		if (fd < 0)
			return;
		struct fd_ent *e = fd_add(p, fd);
		e->toff = p->arena.len;
		e->tlen = tl;
		e->target_id = t->target_id;
		e->has_target = 1;
		ps_buf_add(&p->arena, target, tl);
		p->fd_count = p->fd_count == PS_I64_UNKNOWN ? 1 : p->fd_count + 1;
	} else if (strncmp(rel, "ns/", 3) == 0) {
		struct ps_link l;
		for (int i = 0; i < NS_COUNT; i++) {
			if (strcmp(rel + 3, ns_names[i]) != 0)
				continue;
			if (ps_link_parse(target, tl, &l) == 0 && l.inode != PS_U64_UNKNOWN) {
				p->ns[i] = l.inode;
			}
			break;
		}
	}
}

static int file_member(struct ps_tables *t, const char *rel, const char *data, size_t len,
		       struct ps_err *err)
{
	struct proc_state *p = &t->p;
	switch (rel[0]) {
	case 'c':
		if (strcmp(rel, "cmdline") == 0) {
			join_cmdline(&p->cmdline, data, len);
			p->have_cmdline = 1;
		} else if (strcmp(rel, "cgroup") == 0) {
			size_t pos = 0;
			struct ps_cgroup cg;
			/* osquery's cgroup_path: the path of the first line */
			if (ps_cgroup_next(data, len, &pos, &cg) == 1) {
				set_buf(&p->cgroup, cg.path.p, cg.path.len);
				p->have_cgroup = 1;
			}
		} else if (strcmp(rel, "comm") == 0) {
			set_buf(&p->comm, data, chomp(data, len));
			p->have_comm = 1;
		}
		return 0;
	case 'e':
		return strcmp(rel, "environ") == 0 ? env_rows(t, data, len, err) : 0;
	case 'f':
		if (strncmp(rel, "fdinfo/", 7) == 0) {
			int64_t fd = small_num(rel + 7);
			if (fd < 0)
				return 0;
			struct fd_ent *e = fd_find(p, fd);
			if (!e)
				e = fd_add(p, fd); /* opened after fd/ was listed */
			if (ps_fdinfo_parse(data, len, &e->info) == 0)
				e->has_info = 1;
			if (e->has_target)
				return ps_ir_fdinfo(t, fd, p->arena.buf + e->toff, e->tlen, data,
						    len, err);
		}
		return 0;
	case 'i':
		if (strcmp(rel, "io") == 0) {
			ps_io_parse(data, len, &p->io);
			p->have_io = 1;
		}
		return 0;
	case 'l':
		return strcmp(rel, "limits") == 0 ? limit_rows(t, data, len, err) : 0;
	case 'm':
		if (strcmp(rel, "maps") == 0) {
			set_buf(&p->maps, data, len);
			p->have_maps = 1;
		} else if (strcmp(rel, "mountinfo") == 0) {
			set_buf(&p->mountinfo, data, len);
			p->have_mountinfo = 1;
		} else if (strcmp(rel, "mem.sections") == 0) {
			return ps_ir_mem_sections(t, data, len, err);
		}
		return 0;
	case 'n':
		if (strncmp(rel, "net/", 4) == 0) {
			p->had_net = 1;
			ps_ir_net_member(t, rel + 4, data, len);
			return ps_tb_net_member(t, rel + 4, data, len, err);
		}
		return 0;
	case 'p':
		if (strcmp(rel, "pagemap.sections") == 0) {
			set_buf(&p->pagemap, data, len);
			p->have_pagemap = 1;
			p->pagemap_seen = 1;
		}
		return 0;
	case 'o':
		if (strcmp(rel, "oom_score") == 0)
			p->oom_score = parse_i64_file(data, len);
		else if (strcmp(rel, "oom_score_adj") == 0)
			p->oom_score_adj = parse_i64_file(data, len);
		return 0;
	case 's':
		if (strcmp(rel, "stat") == 0) {
			ps_stat_parse(data, len, &p->stat);
			set_buf(&p->stat_comm, p->stat.comm.p, p->stat.comm.len);
			p->stat.comm.p = NULL;
			p->stat.comm.len = 0;
			p->have_stat = 1;
		} else if (strcmp(rel, "status") == 0) {
			ps_status_parse(data, len, &p->status);
			p->status.name.p = p->status.groups.p = NULL;
			p->status.name.len = p->status.groups.len = 0;
			p->have_status = 1;
		} else if (strcmp(rel, "statm") == 0) {
			ps_statm_parse(data, len, &p->statm);
			p->have_statm = 1;
		} else if (strcmp(rel, "smaps") == 0) {
			return smaps_member(t, data, len, err);
		}
		return 0;
	}
	return 0;
}

/* ---- the processes row and the rows built from the process state ------------ */

/* osquery's process_open_files lists an fd whose link names none of these
 * anywhere in its text (process_open_files.cpp): fds.open_file. */
static int open_file(const char *tg, size_t n)
{
	static const char *const not_files[] = {"socket:", "anon_inode:", "pipe:"};
	for (size_t i = 0; i < sizeof(not_files) / sizeof(not_files[0]); i++)
		if (memmem(tg, n, not_files[i], strlen(not_files[i])))
			return 0;
	return 1;
}

static int fd_rows(struct ps_tables *t, struct ps_err *err)
{
	struct proc_state *p = &t->p;
	struct ps_bulk *b = &t->bk_fds;
	for (size_t i = 0; i < p->nfds; i++) {
		const struct fd_ent *e = &p->fds[i];
		struct ps_link l;
		ps_bulk_i64(b, F_pid, p->pid);
		ps_bulk_i64(b, F_fd, e->fd);
		uint64_t inode = PS_U64_UNKNOWN;
		if (e->has_target) {
			const char *tg = p->arena.buf + e->toff;
			ps_bulk_i64(b, F_open_file, open_file(tg, e->tlen));
			ps_link_parse(tg, e->tlen, &l);
			const char *type = ps_link_type_name(l.type);
			if (e->target_id >= 0)
				ps_bulk_i64(b, F_path_id, e->target_id);
			else if (bk_str_id(t, b, F_path_id, tg, e->tlen, err) < 0)
				return -1;
			if (bk_str_id(t, b, F_type_id, type, strlen(type), err) < 0)
				return -1;
			ps_bulk_i64(b, F_deleted, l.deleted);
			inode = l.inode;
			if (l.type == PS_LINK_SOCKET && l.inode != PS_U64_UNKNOWN) {
				sqlite3_stmt *s2 = t->ins_sockfd;
				ps_tb_i64(s2, 1, p->pid);
				ps_tb_i64(s2, 2, e->fd);
				ps_tb_u64(s2, 3, l.inode);
				if (ps_tb_step(t, s2, "socket fds", err) < 0)
					return -1;
			}
		}
		if (e->has_info) {
			if (inode == PS_U64_UNKNOWN)
				inode = e->info.ino;
			bk_u64(b, F_pos, e->info.pos);
			bk_u64(b, F_flags, e->info.flags);
			bk_u64(b, F_mnt_id, e->info.mnt_id);
		}
		bk_u64(b, F_inode, inode);
		if (ps_bulk_row(b, err) < 0)
			return -1;
	}
	return 0;
}

static int proc_row(struct ps_tables *t, struct ps_err *err)
{
	const struct proc_state *p = &t->p;
	const struct ps_stat *s = &p->stat;
	const struct ps_status *ss = &p->status;
	sqlite3_stmt *st = t->ins_proc;
	ps_tb_i64(st, P_pid, p->pid);
	if (p->have_stat) {
		if (PS_STAT_HAS(s, 2))
			ps_tb_str(st, P_name, p->stat_comm.buf, p->stat_comm.len);
		if (PS_STAT_HAS(s, 3) && s->state)
			ps_tb_str(st, P_state, &s->state, 1);
		if (PS_STAT_HAS(s, 4)) {
			ps_tb_i64(st, P_parent, s->ppid);
			ps_tb_i64(st, P_ppid, s->ppid);
		}
		if (PS_STAT_HAS(s, 5))
			ps_tb_i64(st, P_pgroup, s->pgrp);
		if (PS_STAT_HAS(s, 6))
			ps_tb_i64(st, P_session, s->session);
		if (PS_STAT_HAS(s, 7))
			ps_tb_i64(st, P_tty_nr, s->tty_nr);
		if (PS_STAT_HAS(s, 10))
			ps_tb_u64(st, P_minflt, s->minflt);
		if (PS_STAT_HAS(s, 12))
			ps_tb_u64(st, P_majflt, s->majflt);
		if (PS_STAT_HAS(s, 14))
			bind_ms(t, st, P_user_time, s->utime);
		if (PS_STAT_HAS(s, 15))
			bind_ms(t, st, P_system_time, s->stime);
		if (PS_STAT_HAS(s, 19))
			ps_tb_i64(st, P_nice, s->nice);
		if (PS_STAT_HAS(s, 20))
			ps_tb_i64(st, P_threads, s->num_threads);
		if (PS_STAT_HAS(s, 22)) {
			ps_tb_u64(st, P_starttime, s->starttime);
			if (t->btime >= 0 && t->clock_ticks > 0 &&
			    s->starttime <= (uint64_t)INT64_MAX)
				sqlite3_bind_int64(
				    st, P_start_time,
				    t->btime + (int64_t)(s->starttime / (uint64_t)t->clock_ticks));
		}
		if (PS_STAT_HAS(s, 23))
			ps_tb_u64(st, P_vsize, s->vsize);
		if (PS_STAT_HAS(s, 9))
			ps_tb_u64(st, P_flags, s->flags);
	} else if (p->have_comm) {
		ps_tb_str(st, P_name, p->comm.buf, p->comm.len);
	}
	if (p->have_status) {
		ps_tb_u64(st, P_uid, ss->uid[0]);
		ps_tb_u64(st, P_euid, ss->uid[1]);
		ps_tb_u64(st, P_suid, ss->uid[2]);
		ps_tb_u64(st, P_gid, ss->gid[0]);
		ps_tb_u64(st, P_egid, ss->gid[1]);
		ps_tb_u64(st, P_sgid, ss->gid[2]);
		ps_tb_i64(st, P_tracer_pid, ss->tracer_pid);
		ps_tb_i64(st, P_seccomp, ss->seccomp);
		ps_tb_i64(st, P_no_new_privs, ss->no_new_privs);
		bind_cap(st, P_cap_eff, ss->cap_eff);
		bind_cap(st, P_cap_prm, ss->cap_prm);
		bind_cap(st, P_cap_bnd, ss->cap_bnd);
		bind_cap(st, P_cap_inh, ss->cap_inh);
		bind_cap(st, P_cap_amb, ss->cap_amb);
		ps_tb_u64(st, P_voluntary_ctxt_switches, ss->voluntary_ctxt_switches);
		ps_tb_u64(st, P_nonvoluntary_ctxt_switches, ss->nonvoluntary_ctxt_switches);
		ps_tb_i64(st, P_ns_pid, ss->nspid_last);
		if (!(p->have_stat && PS_STAT_HAS(s, 20)))
			ps_tb_i64(st, P_threads, ss->threads);
		bind_kb_bytes(st, P_resident_size, ss->vm_rss);
		bind_kb_bytes(st, P_total_size, ss->vm_size);
	}
	/* kernel threads have no VmRSS/VmSize lines: statm (zeros) fills in */
	if (p->have_statm && (!p->have_status || ss->vm_rss == PS_U64_UNKNOWN))
		bind_pages_bytes(t, st, P_resident_size, p->statm.resident);
	if (p->have_statm && (!p->have_status || ss->vm_size == PS_U64_UNKNOWN))
		bind_pages_bytes(t, st, P_total_size, p->statm.size);
	if (p->have_status && ss->kthread != PS_I64_UNKNOWN)
		ps_tb_i64(st, P_kthread, ss->kthread);
	else if (p->have_stat && PS_STAT_HAS(s, 9))
		sqlite3_bind_int(st, P_kthread, (s->flags & PF_KTHREAD) != 0);
	if (p->have_io) {
		ps_tb_u64(st, P_disk_bytes_read, p->io.read_bytes);
		/* osquery: write_bytes - cancelled_write_bytes */
		if (p->io.write_bytes <= (uint64_t)INT64_MAX &&
		    p->io.cancelled_write_bytes <= (uint64_t)INT64_MAX)
			sqlite3_bind_int64(st, P_disk_bytes_written,
					   (int64_t)p->io.write_bytes -
					       (int64_t)p->io.cancelled_write_bytes);
	}
	if (p->have_cmdline)
		ps_tb_str(st, P_cmdline, p->cmdline.buf, p->cmdline.len);
	if (p->have_cgroup)
		ps_tb_str(st, P_cgroup_path, p->cgroup.buf, p->cgroup.len);
	if (p->have_comm)
		ps_tb_str(st, P_comm, p->comm.buf, p->comm.len);
	if (p->have_exe) {
		size_t n = p->exe.len, dl = sizeof(DELETED_SUFFIX) - 1;
		int del = n > dl && memcmp(p->exe.buf + n - dl, DELETED_SUFFIX, dl) == 0;
		/* osquery drops the suffix from path; exe_deleted keeps the fact */
		ps_tb_str(st, P_path, p->exe.buf, del ? n - dl : n);
		sqlite3_bind_int(st, P_exe_deleted, del);
	}
	if (p->have_cwd)
		ps_tb_str(st, P_cwd, p->cwd.buf, p->cwd.len);
	if (p->have_root)
		ps_tb_str(st, P_root, p->root.buf, p->root.len);
	ps_tb_i64(st, P_oom_score, p->oom_score);
	ps_tb_i64(st, P_oom_score_adj, p->oom_score_adj);
	ps_tb_i64(st, P_fd_count, p->fd_count);
	/* capture facts (capture_processes) are joined in at the end */
	sqlite3_bind_int(st, P_on_disk, -1);
	sqlite3_bind_int(st, P_wired_size, 0); /* osquery on Linux: no such counter */
	sqlite3_bind_int(st, P_partial, 0);
	sqlite3_bind_int(st, P_hidden, 0);
	ps_tb_u64(st, P_net_ns, p->ns[NS_NET]);
	ps_tb_u64(st, P_mnt_ns, p->ns[NS_MNT]);
	ps_tb_u64(st, P_pid_ns, p->ns[NS_PID]);
	ps_tb_u64(st, P_user_ns, p->ns[NS_USER]);
	ps_tb_u64(st, P_uts_ns, p->ns[NS_UTS]);
	ps_tb_u64(st, P_ipc_ns, p->ns[NS_IPC]);
	ps_tb_u64(st, P_cgroup_ns, p->ns[NS_CGROUP]);
	ps_tb_u64(st, P_time_ns, p->ns[NS_TIME]);
	ps_tb_u64(st, P_pid_for_children_ns, p->ns[NS_PID_CHILD]);
	ps_tb_u64(st, P_time_for_children_ns, p->ns[NS_TIME_CHILD]);
	ps_tb_i64(st, P_env_set, p->env_set);
	ps_tb_i64(st, P_limits_set, p->limits_set);
	return ps_tb_step(t, st, "processes", err);
}

static int flush_process(struct ps_tables *t, struct ps_err *err)
{
	struct proc_state *p = &t->p;
	if (p->pid < 0)
		return 0;
	if (!p->present) {
		proc_reset(p);
		return 0;
	}
	if (flush_thread(t, err) < 0 || proc_row(t, err) < 0)
		return -1;
	if (fd_rows(t, err) < 0)
		return -1;
	/* Mappings kept for now (smaps of an older archive, or maps alone),
	 * with their pagemap counts: one cursor walks the sections once per
	 * pass, the mappings coming in ascending order. */
	if (p->have_smaps) {
		pagemap_cursor(p, 1);
		if (smaps_rows(t, p->smaps.buf, p->smaps.len, 1, err) < 0)
			return -1;
	}
	if (p->smaps_rows == 0 && p->have_maps && maps_rows(t, pagemap_cursor(p, 1), err) < 0)
		return -1;
	if (ps_tb_sys_proc_flush(t, err) < 0 || ps_ir_proc_flush(t, err) < 0)
		return -1;
	proc_reset(p);
	return 0;
}

/* ---- hooks ----------------------------------------------------------------- */

static void tables_free(struct ps_tables *t)
{
	if (!t)
		return;
	sqlite3_stmt *sts[] = {t->ins_proc,  t->ins_thread, t->ins_env,
			       t->ins_limit, t->ins_hash,   t->ins_digest};
	for (size_t i = 0; i < sizeof(sts) / sizeof(sts[0]); i++)
		sqlite3_finalize(sts[i]);
	ps_bulk_close(&t->bk_maps);
	ps_bulk_close(&t->bk_fds);
	ps_bulk_close(&t->bk_info);
	ps_bulk_close(&t->bk_rare);
	ps_tb_sys_finalize(t);
	ps_ir_finalize(t);
	proc_release(&t->p);
	ps_buf_release(&t->th.name);
	ps_buf_release(&t->th.wchan);
	ps_buf_release(&t->sbuf);
	free(t->mnt_seen);
	ps_set_free(&t->envs);
	ps_set_free(&t->limits);
	ps_set_free(&t->mapd);
	ps_set_free(&t->digests);
	free(t);
}

/* page_size and clock_ticks of the snapshot (meta.json, already inserted). */
static void read_meta(struct ps_tables *t)
{
	sqlite3_stmt *q;
	t->clock_ticks = -1;
	t->page_size = -1;
	if (sqlite3_prepare_v2(t->db,
			       "SELECT clock_ticks, page_size FROM snapshots WHERE snapshot_id = 1",
			       -1, &q, NULL) != SQLITE_OK)
		return;
	if (sqlite3_step(q) == SQLITE_ROW) {
		if (sqlite3_column_type(q, 0) == SQLITE_INTEGER)
			t->clock_ticks = sqlite3_column_int64(q, 0);
		if (sqlite3_column_type(q, 1) == SQLITE_INTEGER)
			t->page_size = sqlite3_column_int64(q, 1);
	}
	sqlite3_finalize(q);
	t->pagemap_expected = 1;
	if (sqlite3_prepare_v2(t->db,
			       "SELECT json_extract(meta_json, '$.options.pagemap') FROM snapshots "
			       "WHERE snapshot_id = 1",
			       -1, &q, NULL) == SQLITE_OK) {
		if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_type(q, 0) == SQLITE_INTEGER)
			t->pagemap_expected = sqlite3_column_int(q, 0) != 0;
		sqlite3_finalize(q);
	}
	/* a crafted meta.json must not make us divide by zero or overflow */
	if (t->clock_ticks <= 0 || t->clock_ticks > 1000000)
		t->clock_ticks = -1;
	if (t->page_size <= 0 || t->page_size > ((int64_t)1 << 30))
		t->page_size = -1;
}

struct ps_tables *ps_tables_begin(struct sqlite3 *db, ps_intern_fn intern, void *ctx,
				  struct ps_err *err)
{
	struct ps_tables *t = ps_xcalloc(1, sizeof(*t));
	t->db = db;
	t->intern = intern;
	t->intern_ctx = ctx;
	t->target_id = -1;
	ps_set_init(&t->envs, 1u << 16);
	ps_set_init(&t->limits, 1u << 16);
	ps_set_init(&t->mapd, MAPD_MAX);
	ps_set_init(&t->digests, 1u << 14);
	t->btime = -1;
	ps_buf_init(&t->sbuf);
	struct proc_state *p = &t->p;
	struct ps_buf *bufs[] = {&p->stat_comm, &p->cmdline,  &p->exe,	 &p->cwd,     &p->root,
				 &p->cgroup,	&p->comm,     &p->arena, &p->maps,    &p->mountinfo,
				 &t->th.name,	&t->th.wchan, &p->smaps, &p->pagemap, &p->carry};
	for (size_t i = 0; i < sizeof(bufs) / sizeof(bufs[0]); i++)
		ps_buf_init(bufs[i]);
	proc_reset(p);
	thread_reset(&t->th);
	read_meta(t);
	if (ps_tb_prepare(t, &t->ins_proc, "processes", proc_cols, err) < 0 ||
	    ps_tb_prepare_as(t, &t->ins_thread, "INSERT OR IGNORE", "threads", thread_cols, err) <
		0 ||
	    ps_bulk_open(&t->bk_maps, db, "maps", map_cols, 1, err) < 0 ||
	    ps_bulk_open(&t->bk_info, db, "map_info", info_cols, 0, err) < 0 ||
	    ps_bulk_open(&t->bk_rare, db, "maps_rare", rare_cols, 0, err) < 0 ||
	    ps_bulk_open(&t->bk_fds, db, "fds", fd_cols, 1, err) < 0 ||
	    ps_tb_prepare(t, &t->ins_env, "env_sets", env_cols, err) < 0 ||
	    ps_tb_prepare(t, &t->ins_limit, "limit_sets", limit_cols, err) < 0 ||
	    ps_tb_sys_prepare(t, err) < 0 || ps_ir_prepare(t, err) < 0 ||
	    ps_tb_hash_prepare(t, err) < 0) {
		tables_free(t);
		return NULL;
	}
	return t;
}

/* Move to the process (and thread) of path, flushing the previous one;
 * *rel is the path below proc/<pid>/[task/<tid>/], NULL outside a pid
 * directory or when the path has another shape.  0 or -1. */
static int enter(struct ps_tables *t, const char *path, const char **rel, int64_t *tid,
		 struct ps_err *err)
{
	int64_t pid;
	ps_path_ids(path, &pid, tid);
	*rel = NULL;
	if (pid != t->p.pid) {
		if (flush_process(t, err) < 0)
			return -1;
		t->p.pid = pid;
		t->map_seq = 0;
	}
	if (pid < 0)
		return 0;
	*rel = rel_path(path, *tid);
	if (!*rel)
		return 0;
	if (*tid >= 0) {
		if (*tid != t->th.tid) {
			if (flush_thread(t, err) < 0)
				return -1;
			t->th.tid = *tid;
		}
	} else if (t->th.tid >= 0 && flush_thread(t, err) < 0) {
		return -1;
	}
	return 0;
}

void ps_tables_target_id(struct ps_tables *t, int64_t str_id)
{
	t->target_id = str_id;
}

static int tables_member(struct ps_tables *t, const struct ps_rmember *m, struct ps_err *err);

int ps_tables_member(struct ps_tables *t, const struct ps_rmember *m, struct ps_err *err)
{
	int rc = tables_member(t, m, err);
	t->target_id = -1; /* for one member */
	return rc;
}

static int tables_member(struct ps_tables *t, const struct ps_rmember *m, struct ps_err *err)
{
	const char *rel;
	int64_t tid;
	if (enter(t, m->path, &rel, &tid, err) < 0)
		return -1;
	/* A pid whose directory could not be opened (--pid of a pid that does
	 * not exist, EACCES) is its absent record alone: no process. */
	if (t->p.pid >= 0 && (m->kind != PS_M_ABSENT || (rel && *rel)))
		t->p.present = 1;
	if (t->p.pid < 0) {
		if (m->kind == PS_M_FILE && strncmp(m->path, "proc/", 5) == 0)
			return ps_tb_sys_member(t, m->path + 5, m->data, m->len, err);
		if (m->kind == PS_M_ABSENT && strncmp(m->path, "proc/sys/", 9) == 0)
			return ps_tb_sys_unread(t, m->path + 5, err);
		if (m->kind == PS_M_FILE && strcmp(m->path, PS_HASHES_PATH) == 0)
			return ps_tb_hash_member(t, m->data, m->len, err);
		return ps_ir_other_member(t, m, err);
	}
	if (!rel)
		return 0;
	if (tid >= 0) {
		thread_member(t, rel, m);
		return 0;
	}
	switch (m->kind) {
	case PS_M_FILE:
		return file_member(t, rel, m->data, m->len, err);
	case PS_M_LINK:
		if (m->target)
			link_member(t, rel, m->target);
		return 0;
	case PS_M_DIR:
		if (strcmp(rel, "fd") == 0 && t->p.fd_count == PS_I64_UNKNOWN)
			t->p.fd_count = 0;
		return 0;
	case PS_M_ABSENT:
		if (strcmp(rel, "pagemap.sections") == 0)
			t->p.pagemap_seen = 1;
		return 0;
	}
	return 0;
}

int ps_tables_stream_begin(struct ps_tables *t, const char *path, struct ps_err *err)
{
	const char *rel;
	int64_t tid;
	if (enter(t, path, &rel, &tid, err) < 0)
		return -1;
	struct proc_state *p = &t->p;
	/* hashes.tsv, a row per executable body (5 MB at N=10,000), is
	 * parsed a line at a time as smaps is, not held whole */
	int hashes = p->pid < 0 && strcmp(path, PS_HASHES_PATH) == 0;
	if (!hashes && (p->pid < 0 || !rel || tid >= 0 || strcmp(rel, "smaps") != 0))
		return 0;
	p->streaming = hashes ? STREAM_HASHES : STREAM_SMAPS;
	ps_buf_reset(&p->carry);
	if (!hashes)
		pagemap_cursor(p, 1);
	return 1;
}

int ps_tables_stream_data(struct ps_tables *t, const void *data, size_t len, int eof,
			  struct ps_err *err)
{
	struct proc_state *p = &t->p;
	if (!p->streaming)
		return 0;
	ps_buf_add(&p->carry, data, len);
	int64_t used;
	if (p->streaming == STREAM_HASHES) { /* the complete lines */
		const char *nl = eof ? NULL : memrchr(p->carry.buf, '\n', p->carry.len);
		used = eof ? (int64_t)p->carry.len : nl ? nl + 1 - p->carry.buf : 0;
		if (ps_tb_hash_member(t, p->carry.buf, (size_t)used, err) < 0)
			return -1;
	} else {
		used = smaps_rows(t, p->carry.buf, p->carry.len, eof, err);
	}
	if (used < 0)
		return -1;
	/* keep the entry that may go on in the next piece */
	memmove(p->carry.buf, p->carry.buf + used, p->carry.len - (size_t)used);
	p->carry.len -= (size_t)used;
	p->carry.buf[p->carry.len] = '\0';
	if (eof) {
		p->streaming = 0;
		shrink(&p->carry);
	}
	return 0;
}

int ps_tables_end(struct ps_tables *t, struct ps_err *err)
{
	int rc = flush_process(t, err);
	if (rc == 0)
		rc = ps_tb_flush(t, err);
	if (rc == 0)
		rc = ps_ir_end(t, err);
	if (rc == 0)
		rc = ps_tb_sys_end(t, err);
	tables_free(t);
	return rc;
}

void ps_tables_abort(struct ps_tables *t)
{
	tables_free(t);
}
