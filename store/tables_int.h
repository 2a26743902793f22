/*
 * tables_int.h - private to store/tables*.c: the state of one parsed-table
 * build and the helpers its files share.
 *
 * tables.c      dispatch, per-process and per-thread state, the per-process
 *               tables (processes, threads, maps, fds, envs, limits, ns)
 * tables_sys.c  system files (system_kv, sysctls, shared_memory,
 *               kernel_modules), mounts, sockets, and the joins run once
 *               every member has been seen
 * tables_hash.c hashes (procsnap/hashes.tsv)
 */
#ifndef PS_TABLES_INT_H
#define PS_TABLES_INT_H

#include <sqlite3.h>
#include <stdint.h>

#include "bulk_int.h"
#include "common.h"
#include "procfs.h"
#include "store_int.h"

/* A namespace kind, in the order of the ns/ links we record. */
enum ns_kind {
	NS_CGROUP,
	NS_IPC,
	NS_MNT,
	NS_NET,
	NS_PID,
	NS_PID_CHILD,
	NS_TIME,
	NS_TIME_CHILD,
	NS_USER,
	NS_UTS,
	NS_COUNT
};

/* proc_state.streaming: what arrives in pieces (0: nothing) */
enum { STREAM_SMAPS = 1, STREAM_HASHES = 2 };

/* One fd of the current process: fd/N link plus fdinfo/N. */
struct fd_ent {
	int64_t fd;
	size_t toff, tlen; /* link target in proc_state.arena */
	int64_t target_id; /* its str_id, when the builder gave it; else -1 */
	int has_target;
	int has_info;
	struct ps_fdinfo info;
};

/* The thread being read (task/<tid>/...). */
struct thread_state {
	int64_t tid; /* -1: none */
	int have_stat;
	struct ps_stat stat; /* comm slice cleared: the name is in `name` */
	struct ps_buf name;
	int have_status;
	int64_t tracer_pid;
	uint64_t vol, nonvol;
	int have_wchan;
	struct ps_buf wchan;
};

/* The process being read: everything the processes row needs, kept until
 * the pid changes.  Only this one process is ever held. */
struct proc_state {
	int64_t pid; /* -1: none */
	int present; /* a member below it, or its directory read: else no processes row */
	int have_stat;
	struct ps_stat stat;
	struct ps_buf stat_comm;
	int have_status;
	struct ps_status status; /* string slices cleared */
	int have_statm;
	struct ps_statm statm;
	int have_io;
	struct ps_io io;
	int have_cmdline, have_exe, have_cwd, have_root, have_cgroup, have_comm;
	struct ps_buf cmdline, exe, cwd, root, cgroup, comm;
	int64_t oom_score, oom_score_adj;
	uint64_t ns[NS_COUNT]; /* PS_U64_UNKNOWN when the link was not seen */
	int64_t fd_count;
	struct fd_ent *fds;
	size_t nfds, capfds;
	int fds_sorted;
	struct ps_buf arena; /* fd link targets */
	int smaps_rows;	     /* mappings inserted from smaps */
	int have_maps;
	struct ps_buf maps; /* used when smaps gave nothing */
	int have_mountinfo;
	struct ps_buf mountinfo;
	int have_smaps; /* smaps rows wait for pagemap.sections, which follows */
	struct ps_buf smaps;
	int have_pagemap;
	struct ps_buf pagemap;	     /* proc/<pid>/pagemap.sections (issue 4) */
	int had_net;		     /* net/ of its namespace was captured under this pid */
	int64_t env_set, limits_set; /* env_sets / limit_sets ids, -1 none */
	int pagemap_seen;	     /* pagemap.sections (or its absent record) passed */
	struct ps_pagemap_cursor pc; /* over `pagemap`, for the smaps rows */
	int have_pc;
	int streaming;	     /* STREAM_*: a member arriving in pieces (ps_tables_stream_*) */
	struct ps_buf carry; /* the part of the last piece not parsed yet */
};

/* Contents stored once (env_sets, limit_sets, map_info): XXH3-128 -> id.
 * Bounded: when max digests are held it starts afresh (a repeat is then
 * stored again: bigger, never wrong). */
struct set_dict {
	struct ps_hmap map; /* first 8 bytes of the digest -> index in keys */
	struct set_key {
		unsigned char h[16];
		int64_t id;
	} * keys;
	size_t n, cap, max;
	int64_t next;
};

/* The values of one mapping (tables.c: map_info's columns, then
 * maps_rare's), unset = NULL. */
#define PS_MAPVALS 38
struct mapvals {
	int64_t v[PS_MAPVALS];
	uint64_t set; /* bit i: v[i] holds a value */
};

struct ps_tables {
	sqlite3 *db;
	ps_intern_fn intern; /* the builder's strings dictionary */
	void *intern_ctx;
	int64_t target_id;    /* ps_tables_target_id, for the next link member */
	int64_t map_seq;      /* maps.seq: order in the current process's maps */
	int pagemap_expected; /* the capture wrote pagemap.sections (meta options) */
	struct set_dict envs, limits, mapd, digests;
	struct mapvals rare_def; /* the snapshot's usual maps_rare values (map_id -1) */
	int have_rare_def;
	int64_t clock_ticks, page_size;
	int64_t btime; /* proc/stat btime, -1 unknown */
	struct proc_state p;
	struct thread_state th;
	struct ps_buf sbuf; /* scratch */
	/* prepared inserts */
	sqlite3_stmt *ins_proc, *ins_thread, *ins_env, *ins_limit;
	struct ps_bulk bk_maps, bk_info, bk_rare, bk_fds;
	sqlite3_stmt *ins_kv, *ins_module, *ins_mount, *ins_sock, *ins_sockfd, *ins_netsrc;
	sqlite3_stmt *ins_shm, *ins_sysctl, *ins_hash, *ins_digest;
	/* namespaces whose mounts were recorded: mnt ns inodes, or content
	 * hashes when the ns link was unreadable; grows with namespaces only */
	uint64_t *mnt_seen;
	size_t nmnt_seen, capmnt_seen;
	struct ps_ir *ir; /* tables_ir.c */
};

/* ---- shared helpers (tables.c) ---- */

/* Bind NULL for the unknown markers, else the value; u64 above INT64_MAX is
 * stored NULL (no such real value in /proc counters we store). */
void ps_tb_u64(sqlite3_stmt *st, int col, uint64_t v);
void ps_tb_i64(sqlite3_stmt *st, int col, int64_t v);
void ps_tb_str(sqlite3_stmt *st, int col, const char *p, size_t len);
void ps_tb_slice(sqlite3_stmt *st, int col, struct ps_str s);
/* Step an insert, reset it; 0 or -1 with err. */
int ps_tb_step(struct ps_tables *t, sqlite3_stmt *st, const char *what, struct ps_err *err);
/*
 * Prepare "INSERT INTO table(snapshot_id, c1..cn) VALUES (1, ?1..?n)" for
 * the NULL-terminated column list; 0 or -1 with err.
 */
int ps_tb_prepare(struct ps_tables *t, sqlite3_stmt **st, const char *table,
		  const char *const *cols, struct ps_err *err);
/* The same with another verb ("INSERT OR IGNORE": a key a crafted archive
 * repeats keeps its first row). */
int ps_tb_prepare_as(struct ps_tables *t, sqlite3_stmt **st, const char *verb, const char *table,
		     const char *const *cols, struct ps_err *err);
/* Run SQL (rows held for bulk inserts are inserted first).  0 or -1. */
int ps_tb_exec(struct ps_tables *t, const char *sql, struct ps_err *err);
/* Insert the rows held for bulk inserts (before SQL reads the tables). */
int ps_tb_flush(struct ps_tables *t, struct ps_err *err);
/* A text column through the strings dictionary (p NULL: NULL).  0 or -1. */
int ps_tb_str_id(struct ps_tables *t, sqlite3_stmt *st, int col, const char *p, size_t n,
		 struct ps_err *err);

/* The id of content (data, len) in dict: 1 and *id when it was stored
 * before, 0 and a new *id when its rows must be inserted now. */
int ps_set_find(struct set_dict *d, const void *data, size_t len, int64_t *id);
void ps_set_init(struct set_dict *d, size_t max); /* remembering up to max */
void ps_set_free(struct set_dict *d);

/* ---- tables_hash.c ---- */

int ps_tb_hash_prepare(struct ps_tables *t, struct ps_err *err);
/* procsnap/hashes.tsv */
int ps_tb_hash_member(struct ps_tables *t, const char *data, size_t len, struct ps_err *err);

/* ---- tables_sys.c ---- */

int ps_tb_sys_prepare(struct ps_tables *t, struct ps_err *err);
/* A proc/<name> member (not a pid); rel is the path after "proc/". */
int ps_tb_sys_member(struct ps_tables *t, const char *rel, const char *data, size_t len,
		     struct ps_err *err);
/* A proc/sys/ file recorded but not read (or its content not carried):
 * its sysctls row, without a value.  rel is the path after "proc/". */
int ps_tb_sys_unread(struct ps_tables *t, const char *rel, struct ps_err *err);
/* proc/<pid>/net/<name> of the current process. */
int ps_tb_net_member(struct ps_tables *t, const char *name, const char *data, size_t len,
		     struct ps_err *err);
/* At the end of a process: its mounts (once per mount namespace), its
 * socket fds and its network namespace for the socket join. */
int ps_tb_sys_proc_flush(struct ps_tables *t, struct ps_err *err);
/* After the last member: sockets, listening ports, capture facts. */
int ps_tb_sys_end(struct ps_tables *t, struct ps_err *err);
void ps_tb_sys_finalize(struct ps_tables *t);

/* ---- tables_ir.c (issue 11: cross-views, tampering) ---- */

struct ps_rmember;
/* Members whose content the IR tables need (besides those tables.c wants). */
int ps_ir_wants(const char *path);
int ps_ir_prepare(struct ps_tables *t, struct ps_err *err);
void ps_ir_finalize(struct ps_tables *t);
/* A member outside proc/ (procsnap/crossview.json, sys/module/...). */
int ps_ir_other_member(struct ps_tables *t, const struct ps_rmember *m, struct ps_err *err);
/* fdinfo/<fd> of the current process, whose fd/<fd> link is target. */
int ps_ir_fdinfo(struct ps_tables *t, int64_t fd, const char *target, size_t tlen, const char *data,
		 size_t len, struct ps_err *err);
/* net/<name> of the current process. */
int ps_ir_net_member(struct ps_tables *t, const char *name, const char *data, size_t len);
/* proc/<pid>/mem.sections of the current process. */
int ps_ir_mem_sections(struct ps_tables *t, const char *data, size_t len, struct ps_err *err);
/* End of the current process (its state still whole). */
int ps_ir_proc_flush(struct ps_tables *t, struct ps_err *err);
/* After the last member. */
int ps_ir_end(struct ps_tables *t, struct ps_err *err);

#endif
