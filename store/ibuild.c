/*
 * ibuild.c - the index builder (DESIGN 5, issue 9).
 *
 * It consumes batches of pipeline records (store_int.h struct ps_wrec) on a
 * thread of its own and writes the SQLite index: one `paths` row per record
 * with its text parts interned in dictionaries (strings, contents, stats),
 * and the parsed tables (tables.c) fed with the content of the members they
 * want.  A live capture feeds it from the writer's formatter thread while
 * the archive is being written; `procsnap index` feeds it the same records
 * made from an archive and its manifest (index.c).  One transaction,
 * prepared statements, secondary indexes after the load.
 *
 * Memory: the dictionaries are bounded hash tables (past the bound a repeat
 * is simply stored again: the index is then bigger, never wrong); the
 * SQLite page cache is bounded; one batch is held while it is consumed.
 */
#include "bulk_int.h"
#include "store.h"
#include "store_int.h"

#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#define STR_MAX	      (1u << 18) /* dictionary entries remembered */
#define STR_BYTES_MAX (8u << 20) /* bytes of their text remembered */
#define CONTENT_MAX   (1u << 17)
#define STAT_MAX      (1u << 16)
#define LOAD_CHUNK    (1u << 20)  /* pieces of a spilled member */
#define LOAD_MAX      (16u << 20) /* a spilled member other than smaps is parsed up to this */

struct ps_ibuild {
	sqlite3 *db;
	struct ps_outfile out; /* the index file, under its temporary name */
	int created, finished, published;
	struct ps_pool *pool;
	/* thread */
	pthread_t thread;
	int thread_started;
	struct ps_bq q;
	_Atomic int failed; /* set after ferr is written */
	struct ps_err ferr;
	/* statements */
	sqlite3_stmt *ins_str, *ins_stat, *ins_proc, *ins_base, *get_base;
	/* pid_reads of the pid being read (base_pid -1: none) */
	int64_t base_pid, base_us, base_path;
	struct ps_bulk bk_paths, bk_sys, bk_contents;
	/* dictionaries: key = hash, value = id; bytes kept for exact compare */
	struct ps_hmap strs;
	struct ps_buf str_text; /* the texts, back to back */
	struct str_ref {
		uint32_t off, len, name, id;
	} * str_off; /* the remembered strings: text in str_text, str_id */
	size_t nstr_off, cap_str_off;
	int64_t next_str;
	struct ps_hmap contents;
	struct content_key {
		unsigned char h[16];
		uint64_t size_link; /* size << 1 | a link's target */
		uint64_t disc;	    /* content_disc() */
		int64_t target_id;  /* a link's: its target's str_id (40 bytes an entry) */
	} * ckeys;
	size_t nckeys, cap_ckeys;
	int64_t next_content;
	struct ps_hmap stats;
	struct stat_key {
		uint32_t mode, uid, gid;
		uint16_t stated; /* 0: never stat'ed (mode...mtime NULL) */
		uint16_t damage; /* PS_DAMAGE_* */
		int64_t mtime;
		int32_t kind, err; /* enum ps_member_kind, errno (0: none) */
	} * skeys;
	size_t nskeys, cap_skeys;
	int64_t next_stat;
	int64_t path_id; /* manifest line number of the next record */
	/* name_stats: per name_id below PS_NAME_STATS_MAX, its `paths` rows and
	 * the seq most of them have (a majority vote); uses UINT32_MAX: a row
	 * could not be counted (a row of NULLs then) */
	struct name_stat {
		uint32_t uses, cand, votes;
	} * nst;
	size_t nst_cap;
	/* special members and the parsed tables */
	int saw_meta;
	struct ps_tail tail;		  /* contents dictionary freed once reached */
	unsigned char key[PS_KEY_SECRET]; /* content_disc's hash key, drawn per build */
	struct ps_tables *tables;
	struct ps_rmember rm;
	struct ps_buf load; /* a spilled member's content, read back */
	/* totals */
	uint64_t nfiles, nlinks, ndirs, nabsent, nerrors, raw_bytes, mismatches, damaged;
};

const char *ps_damage_name(unsigned d)
{
	static const char *const names[] = {NULL, "mismatch", "lost", "missing", "unlisted"};
	return d < sizeof(names) / sizeof(names[0]) ? names[d] : "unknown";
}

/* ---- paths ------------------------------------------------------------------ */

/* Count a `paths` row of name_id at seq (Boyer-Moore majority vote of its
 * seqs: the candidate is the majority when there is one). */
static void name_stat_add(struct ps_ibuild *b, int64_t name_id, int64_t seq)
{
	if (name_id < 0 || name_id >= (int64_t)PS_NAME_STATS_MAX)
		return;
	size_t i = (size_t)name_id;
	b->nst = ps_xgrow_zeroed(b->nst, &b->nst_cap, i, sizeof(*b->nst), 1024);
	struct name_stat *n = &b->nst[i];
	if (n->uses == UINT32_MAX)
		return;
	if (seq < 0 || seq >= UINT32_MAX || n->uses == UINT32_MAX - 1) {
		n->uses = UINT32_MAX;
		return;
	}
	n->uses++;
	if (n->votes == 0) {
		n->cand = (uint32_t)seq;
		n->votes = 1;
	} else {
		n->votes += n->cand == (uint32_t)seq ? 1 : (uint32_t)-1;
	}
}

/* Columns of the rows inserted in bulk (bulk_int.h), numbered from 1. */
enum { PA_pid = 1, PA_seq, PA_tid_off, PA_name_id, PA_stat_id, PA_content_id, PA_read_delta_8us };
static const char *const path_cols[] = {"pid",	   "seq",	 "tid_off",	   "name_id",
					"stat_id", "content_id", "read_delta_8us", NULL};
static const char *const sys_cols[] = {"path_id",    "name_id", "stat_id",
				       "content_id", "read_us", NULL};
enum { SY_path_id = 1, SY_name_id, SY_stat_id, SY_content_id, SY_read_us };
enum { CO_content_id = 1, CO_xxh3, CO_size, CO_data_off, CO_target_id };
static const char *const content_cols[] = {"content_id", "xxh3",      "size",
					   "data_off",	 "target_id", NULL};

/* A canonical decimal id at s (no sign, no leading zero, <= INT32_MAX)
 * ending at '/' or NUL: its value and *end, or -1. */
static int64_t canon_id(const char *s, const char **end)
{
	if (*s < '1' || *s > '9')
		return -1;
	int64_t v = 0;
	const char *p = s;
	for (; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (*p - '0');
		if (v > INT32_MAX)
			return -1;
	}
	if (*p != '/' && *p != '\0')
		return -1;
	*end = p;
	return v;
}

void ps_path_split(const char *path, int64_t *pid, int64_t *tid, const char **rest)
{
	*pid = *tid = -1;
	*rest = path;
	if (strncmp(path, "proc/", 5) != 0)
		return;
	const char *e;
	int64_t p = canon_id(path + 5, &e);
	if (p < 0)
		return;
	*pid = p;
	if (*e == '\0') {
		*rest = e;
		return;
	}
	*rest = e + 1;
	if (strncmp(e, "/task/", 6) != 0)
		return;
	const char *e2;
	int64_t t = canon_id(e + 6, &e2);
	if (t < 0)
		return;
	*tid = t;
	*rest = *e2 ? e2 + 1 : e2;
}

void ps_path_ids(const char *path, int64_t *pid, int64_t *tid)
{
	const char *rest;
	ps_path_split(path, pid, tid, &rest);
}

/* ---- SQL helpers -------------------------------------------------------------- */

static int step(struct ps_ibuild *b, sqlite3_stmt *st, const char *what, struct ps_err *err)
{
	int r = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (r != SQLITE_DONE)
		return ps_sql_err(err, b->db, what);
	return 0;
}

static int exec(sqlite3 *db, const char *sql, struct ps_err *err)
{
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		ps_err_set(err, EIO, "sqlite: %s", msg ? msg : sql);
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

static int prep(struct ps_ibuild *b, sqlite3_stmt **st, const char *sql, struct ps_err *err)
{
	if (sqlite3_prepare_v3(b->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) != SQLITE_OK)
		return ps_sql_err(err, b->db, sql);
	return 0;
}

/* ---- dictionaries ------------------------------------------------------------- */

/* "type:[digits]": a link to an anonymous kernel object (socket, pipe). */
static int anon_object(const char *s, size_t n)
{
	const char *c = memchr(s, ':', n);
	if (!c || c == s || (size_t)(c - s) + 3 >= n || c[1] != '[' || s[n - 1] != ']')
		return 0;
	for (const char *p = c + 2; p < s + n - 1; p++)
		if (*p < '0' || *p > '9')
			return 0;
	return 1;
}

/* str_id of text (inserted on first sight); -1 on SQLite failure.  The
 * names of paths (name 1) are entries of their own, marked is_name: only
 * they are indexed by text (strings_text), the texts looked up. */
static int64_t intern_str(struct ps_ibuild *b, const char *s, size_t n, int name,
			  struct ps_err *err)
{
	uint64_t h = XXH3_64bits(s, n) ^ (uint64_t)name, v;
	size_t it = 0;
	while (ps_hmap_next(&b->strs, h, &it, &v)) {
		const struct str_ref *t = &b->str_off[v];
		if (t->len == n && t->name == (uint32_t)name &&
		    memcmp(b->str_text.buf + t->off, s, n) == 0)
			return (int64_t)t->id;
	}
	int64_t id = b->next_str++;
	sqlite3_bind_int64(b->ins_str, 1, id);
	sqlite3_bind_text(b->ins_str, 2, s, (int)n, SQLITE_STATIC);
	if (name)
		sqlite3_bind_int(b->ins_str, 3, 1);
	if (step(b, b->ins_str, "strings", err) < 0)
		return -1;
	/* Remember it while the bounds allow, but for the target of a link to
	 * an anonymous object (socket:[N], pipe:[N]): one text per object
	 * (60,000 at N=10,000), whose repeats on_record finds by content. */
	if ((name || !anon_object(s, n)) && id <= UINT32_MAX &&
	    b->str_text.len + n + 1 <= STR_BYTES_MAX &&
	    ps_hmap_put(&b->strs, h, (uint64_t)b->nstr_off) == 0) {
		PS_XGROW(b->str_off, b->nstr_off, b->cap_str_off, 1024);
		struct str_ref *t = &b->str_off[b->nstr_off++];
		t->off = (uint32_t)b->str_text.len;
		t->len = (uint32_t)n;
		t->name = (uint32_t)name;
		t->id = (uint32_t)id;
		ps_buf_add(&b->str_text, s, n);
	}
	return id;
}

static uint64_t le64(const unsigned char *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/*
 * What tells apart contents of one XXH3 and size, the manifest's hash being
 * no proof of equal bytes (store_int.h, PS_KEY_SECRET): a link's target and a
 * file shorter than PS_DEDUP_MIN by their bytes, hashed with this build's own
 * key; any other file by where the archive holds its bytes (the writer made
 * a hardlink of identical ones, so they share that place).  Both capture and
 * procsnap index have these bytes (index.c carries the short ones), so both
 * make the same rows.
 */
static uint64_t content_disc(const struct ps_ibuild *b, const struct ps_wrec *r, const char *target,
			     const char *data)
{
	if (r->kind == PS_M_LINK)
		return XXH3_64bits_withSecret(target, r->target_len, b->key, sizeof(b->key));
	if (r->size < PS_DEDUP_MIN && r->data_len == r->size)
		return XXH3_64bits_withSecret(data ? data : "", (size_t)r->size, b->key,
					      sizeof(b->key));
	return r->data_off;
}

static uint64_t content_hkey(const unsigned char h[16], uint64_t size, int link, uint64_t disc)
{
	return le64(h) ^ size ^ (uint64_t)link ^ disc;
}

/* content_id of a remembered (hash, size, link or file, disc), or -1. */
static int64_t content_find(const struct ps_ibuild *b, const unsigned char h[16], uint64_t size,
			    int link, uint64_t disc)
{
	uint64_t v;
	size_t it = 0;
	while (ps_hmap_next(&b->contents, content_hkey(h, size, link, disc), &it, &v)) {
		const struct content_key *k = &b->ckeys[v];
		if (k->size_link == (size << 1 | (uint64_t)link) && k->disc == disc &&
		    memcmp(k->h, h, 16) == 0)
			return (int64_t)v;
	}
	return -1;
}

/* A new content row of (hash, size, disc): a file's bytes at data_off, or a
 * link's target (target_id >= 0), remembered while the bounds allow; its
 * content_id, or -1 on SQLite failure. */
static int64_t content_add(struct ps_ibuild *b, const unsigned char h[16], uint64_t size,
			   uint64_t disc, uint64_t data_off, int64_t target_id, struct ps_err *err)
{
	int link = target_id >= 0;
	int64_t id = b->next_content++;
	struct ps_bulk *bk = &b->bk_contents;
	ps_bulk_i64(bk, CO_content_id, id);
	ps_bulk_blob(bk, CO_xxh3, h, 16);
	ps_bulk_i64(bk, CO_size, (int64_t)size);
	if (!link)
		ps_bulk_i64(bk, CO_data_off, (int64_t)data_off);
	else
		ps_bulk_i64(bk, CO_target_id, target_id);
	if (ps_bulk_row(bk, err) < 0)
		return -1;
	if ((size_t)id == b->nckeys &&
	    ps_hmap_put(&b->contents, content_hkey(h, size, link, disc), (uint64_t)id) == 0) {
		PS_XGROW(b->ckeys, b->nckeys, b->cap_ckeys, 1024);
		struct content_key *k = &b->ckeys[b->nckeys++];
		memcpy(k->h, h, 16);
		k->size_link = size << 1 | (uint64_t)link;
		k->disc = disc;
		k->target_id = target_id;
	}
	return id;
}

/* stat_id of the path's kind and errno, its (mode, uid, gid, mtime) when
 * stat'ed, and its damage mark; -1 on SQLite failure. */
static int64_t intern_stat(struct ps_ibuild *b, const struct ps_wrec *r, int stated, uint32_t mode,
			   struct ps_err *err)
{
	struct stat_key s;
	memset(&s, 0, sizeof(s)); /* hashed whole: no stray padding bytes */
	if (stated) {
		s.mode = mode;
		s.uid = r->uid;
		s.gid = r->gid;
		s.mtime = r->mtime;
		s.stated = 1;
	}
	s.damage = (uint16_t)r->damage;
	s.kind = (int32_t)r->kind;
	s.err = (int32_t)r->err;
	uint64_t key = XXH3_64bits(&s, sizeof(s)), v;
	size_t it = 0;
	while (ps_hmap_next(&b->stats, key, &it, &v))
		if (memcmp(&b->skeys[v], &s, sizeof(s)) == 0)
			return (int64_t)v;
	int64_t id = b->next_stat++;
	sqlite3_stmt *st = b->ins_stat;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, s.kind);
	const char *en = r->err ? ps_errno_name(r->err) : NULL;
	if (en)
		sqlite3_bind_text(st, 3, en, -1, SQLITE_TRANSIENT);
	if (stated) {
		sqlite3_bind_int64(st, 4, s.mode);
		sqlite3_bind_int64(st, 5, s.uid);
		sqlite3_bind_int64(st, 6, s.gid);
		sqlite3_bind_int64(st, 7, s.mtime);
	}
	const char *dmg = ps_damage_name(r->damage);
	if (dmg)
		sqlite3_bind_text(st, 8, dmg, -1, SQLITE_STATIC);
	if (step(b, st, "stats", err) < 0)
		return -1;
	if ((size_t)id == b->nskeys && ps_hmap_put(&b->stats, key, (uint64_t)id) == 0) {
		PS_XGROW(b->skeys, b->nskeys, b->cap_skeys, 256);
		b->skeys[b->nskeys++] = s;
	}
	return id;
}

static int64_t tables_intern(void *ctx, const char *s, size_t n, struct ps_err *err)
{
	return intern_str(ctx, s, n, 0, err);
}

/*
 * The names every process and thread has, interned first: SQLite stores an
 * integer below 128 in one byte (0 and 1 in none), so the commonest names
 * cost a path row one byte where a later id costs two.  Most frequent
 * first (a thread's files are in every task/<tid>/ too); the other names
 * get ids as they come.  Only the size depends on this list.
 */
static const char *const common_names[] = {
    /* proc/<pid>/ and proc/<pid>/task/<tid>/ (Linux 6.x) */
    "", "stat", "status", "comm", "cgroup", "io", "sched", "schedstat", "stack", "syscall", "wchan",
    "personality", "cpuset", "arch_status", "children",
    /* proc/<pid>/ */
    "attr", "attr/current", "attr/exec", "attr/fscreate", "attr/keycreate", "attr/prev",
    "attr/sockcreate", "autogroup", "auxv", "cmdline", "coredump_filter", "cwd", "environ", "exe",
    "fd", "fdinfo", "gid_map", "ksm_merging_pages", "ksm_stat", "limits", "loginuid", "map_files",
    "maps", "mountinfo", "mounts", "mountstats", "ns", "ns/cgroup", "ns/ipc", "ns/mnt", "ns/net",
    "ns/pid", "ns/pid_for_children", "ns/time", "ns/time_for_children", "ns/user", "ns/uts",
    "oom_adj", "oom_score", "oom_score_adj", "pagemap.sections", "projid_map", "root", "sessionid",
    "setgroups", "smaps", "smaps_rollup", "statm", "task", "timens_offsets", "timers",
    "timerslack_ns", "uid_map", "net", "numa_maps", "fd/24",
    /* the first fds */
    "fd/0", "fdinfo/0", "fd/1", "fdinfo/1", "fd/2", "fdinfo/2", "fd/3", "fdinfo/3", "fd/4",
    "fdinfo/4", "fd/5", "fdinfo/5", "fd/6", "fdinfo/6", "fd/7", "fdinfo/7", "fd/8", "fdinfo/8",
    "fd/9", "fdinfo/9", "fd/10", "fdinfo/10", "fd/11", "fdinfo/11", "fd/12", "fdinfo/12", "fd/13",
    "fdinfo/13", "fd/14", "fdinfo/14", "fd/15", "fdinfo/15", "fd/16", "fdinfo/16", "fd/17",
    "fdinfo/17", "fd/18", "fdinfo/18", "fd/19", "fdinfo/19", "fd/20", "fdinfo/20", "fd/21",
    "fdinfo/21", "fd/22", "fdinfo/22", "fd/23", "fdinfo/23"};

/* ---- special members ---------------------------------------------------------- */

/* Run sql once with the member's text (a JSON document) as ?1; a failure
 * is the member's: "corrupt <what>". */
static int json_row(struct ps_ibuild *b, const char *sql, const char *data, size_t len,
		    const char *what, struct ps_err *err)
{
	sqlite3_stmt *st;
	if (prep(b, &st, sql, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, data, (int)len, SQLITE_STATIC);
	int r = sqlite3_step(st);
	sqlite3_finalize(st);
	if (r != SQLITE_DONE)
		return ps_err_set(err, EINVAL, "corrupt %s: %s", what, sqlite3_errmsg(b->db));
	return 0;
}

static int meta_row(struct ps_ibuild *b, const char *data, size_t len, struct ps_err *err)
{
	/* json_extract raises "malformed JSON" on a crafted meta.json. */
	return json_row(
	    b,
	    "INSERT INTO snapshots(snapshot_id, meta_json, format_version, tool_version, "
	    "hostname, kernel_release, kernel_version, boot_id, machine_id, start_ns, uid, "
	    "cap_eff, proc_root, page_size, clock_ticks, case_id, examiner, evidence, note, "
	    "options, snapshot_uuid, local_timezone) SELECT 1, ?1, "
	    "json_extract(j,'$.format_version'), "
	    "json_extract(j,'$.tool_version'), json_extract(j,'$.hostname'), "
	    "json_extract(j,'$.kernel_release'), json_extract(j,'$.kernel_version'), "
	    "json_extract(j,'$.boot_id'), json_extract(j,'$.machine_id'), "
	    "json_extract(j,'$.start_ns'), json_extract(j,'$.uid'), "
	    "json_extract(j,'$.cap_eff'), json_extract(j,'$.proc_root'), "
	    "json_extract(j,'$.page_size'), json_extract(j,'$.clock_ticks'), "
	    "json_extract(j,'$.case_id'), json_extract(j,'$.examiner'), "
	    "json_extract(j,'$.evidence'), json_extract(j,'$.note'), "
	    "json(json_extract(j,'$.options')), json_extract(j,'$.snapshot_uuid'), "
	    "json_extract(j,'$.local_timezone') FROM (SELECT CASE WHEN json_valid(?1) THEN ?1 "
	    "ELSE '{}' END AS j)",
	    data, len, "meta.json", err);
}

static int summary_row(struct ps_ibuild *b, const char *data, size_t len, struct ps_err *err)
{
	return json_row(
	    b,
	    "UPDATE snapshots SET summary_json = ?1, end_ns = json_extract(?1,'$.end_ns'), "
	    "n_processes = json_extract(?1,'$.processes'), "
	    "n_threads = json_extract(?1,'$.threads') WHERE snapshot_id = 1",
	    data, len, "summary.json", err);
}

/* procsnap/processes.tsv: pid starttime partial hidden nthreads on_disk */
static int procs_rows(struct ps_ibuild *b, const char *data, size_t len, struct ps_err *err)
{
	const char *p = data, *end = data + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			nl = end;
		if (nl == p || *p == '#') {
			p = nl + 1;
			continue;
		}
		int64_t v[6];
		int nv = 0;
		const char *f = p;
		for (const char *q = p; q <= nl && nv < 6; q++) {
			if (q == nl || *q == '\t') {
				uint64_t u;
				int neg = f < q && *f == '-';
				if (ps_parse_u64(f + neg, (size_t)(q - f - neg), &u) < 0 ||
				    u > INT64_MAX)
					return ps_err_set(err, EINVAL, "corrupt %s", PS_PROCS_PATH);
				v[nv++] = neg ? -(int64_t)u : (int64_t)u;
				f = q + 1;
			}
		}
		if (nv != 6)
			return ps_err_set(err, EINVAL, "corrupt %s", PS_PROCS_PATH);
		for (int i = 0; i < 6; i++)
			sqlite3_bind_int64(b->ins_proc, i + 1, v[i]);
		if (step(b, b->ins_proc, "capture_processes", err) < 0)
			return -1;
		p = nl + 1;
	}
	return 0;
}

/* ---- one record --------------------------------------------------------------- */

/*
 * Content that came in a spill file (too large to be held: a 60k-mapping
 * smaps, an exe body).  smaps is parsed in pieces; another member the
 * tables want is read whole up to LOAD_MAX, past that it is not parsed (its
 * rows are missing, the archive has it whole).
 */
static int spilled_member(struct ps_ibuild *b, const struct ps_wrec *r, const char *path,
			  struct ps_err *err)
{
	int want = r->kind == PS_M_FILE && ps_tables_wants(path);
	int st = want ? ps_tables_stream_begin(b->tables, path, err) : 0;
	if (st < 0)
		return -1;
	if (!b->load.cap)
		ps_buf_grow(&b->load, LOAD_CHUNK);
	if (st == 1) {
		for (uint64_t off = 0;;) {
			size_t want_n =
			    r->size - off < LOAD_CHUNK ? (size_t)(r->size - off) : LOAD_CHUNK;
			ssize_t n =
			    want_n ? pread(r->spill_fd, b->load.buf, want_n, (off_t)off) : 0;
			if (n < 0)
				return ps_err_set(err, errno, "%s: spill file: %s", path,
						  strerror(errno));
			off += (uint64_t)n;
			int eof = n == 0 || off >= r->size;
			if (ps_tables_stream_data(b->tables, b->load.buf, (size_t)n, eof, err) < 0)
				return -1;
			if (eof)
				return 0;
		}
	}
	struct ps_rmember *m = &b->rm;
	memset(m, 0, sizeof(*m));
	m->path = path;
	m->kind = PS_M_ABSENT; /* not parsed unless read below */
	if (want && r->size <= LOAD_MAX) {
		ps_buf_reset(&b->load);
		ps_buf_grow(&b->load, (size_t)r->size);
		ssize_t n = pread(r->spill_fd, b->load.buf, (size_t)r->size, 0);
		if (n == (ssize_t)r->size) {
			b->load.len = (size_t)n;
			m->kind = PS_M_FILE;
			m->data = b->load.buf;
			m->len = b->load.len;
		}
	}
	int rc = ps_tables_member(b->tables, m, err);
	if (b->load.cap > 2 * LOAD_CHUNK)
		ps_buf_release(&b->load);
	return rc;
}

/*
 * After the processes come procsnap's own last members (crossview.json,
 * processes.tsv, hashes.tsv: their parsing is the builder's largest
 * moment, a JSON of 1.4 MB at N=10,000 parsed by SQLite), and nothing much
 * to deduplicate: the contents dictionary (up to 7 MiB) is freed first.
 * The strings stay: hashes.tsv names each executable thousands of times.
 * Ids go on; a content repeated after this point is stored again.
 */
static void drop_dicts(struct ps_ibuild *b)
{
	ps_hmap_release(&b->contents);
	free(b->ckeys);
	b->ckeys = NULL;
	b->nckeys = b->cap_ckeys = 0;
}

/*
 * The pid_reads base of pid: the read time and manifest line of its first
 * path, inserted when the records move to a new pid (b->base_us,
 * b->base_path); a pid met again (only in a crafted archive: a process's
 * paths are contiguous) keeps the base it had, its later lines a larger seq.
 */
static int pid_base(struct ps_ibuild *b, int64_t pid, int64_t read_us, struct ps_err *err)
{
	if (pid == b->base_pid)
		return 0;
	sqlite3_bind_int64(b->ins_base, 1, pid);
	sqlite3_bind_int64(b->ins_base, 2, read_us);
	sqlite3_bind_int64(b->ins_base, 3, b->path_id);
	if (step(b, b->ins_base, "pid_reads", err) < 0)
		return -1;
	b->base_us = read_us;
	b->base_path = b->path_id;
	if (sqlite3_changes(b->db) == 0) {
		sqlite3_bind_int64(b->get_base, 1, pid);
		if (sqlite3_step(b->get_base) == SQLITE_ROW) {
			b->base_us = sqlite3_column_int64(b->get_base, 0);
			b->base_path = sqlite3_column_int64(b->get_base, 1);
		}
		sqlite3_reset(b->get_base);
	}
	b->base_pid = pid;
	return 0;
}

static int on_record(struct ps_ibuild *b, const struct ps_wrec *r, const char *path,
		     const char *target, const char *data, struct ps_err *err)
{
	int64_t target_id = -1; /* the str_id of a link's target, for its fds row */
	if (!b->saw_meta) {
		/* meta.json lost in a damaged stretch (the manifest names it):
		 * the snapshot's facts are unknown, everything else is indexed */
		int is_meta = strcmp(path, PS_META_PATH) == 0;
		int lost = is_meta && r->damage != PS_DAMAGE_NONE;
		if (!is_meta)
			return ps_err_set(err, EINVAL,
					  "not a procsnap archive (its first member is %s, not %s)",
					  path, PS_META_PATH);
		if (!lost && (r->kind != PS_M_FILE || r->data_len != r->size))
			return ps_err_set(err, EINVAL, "not a procsnap archive (%s is not a file)",
					  PS_META_PATH);
		if (meta_row(b, lost ? "{}" : data, lost ? 2 : (size_t)r->data_len, err) < 0)
			return -1;
		b->saw_meta = 1;
		b->tables = ps_tables_begin(b->db, tables_intern, b, err);
		if (!b->tables)
			return -1;
	}
	if (ps_tail_begins(&b->tail, path))
		drop_dicts(b);
	int64_t pid, tid;
	const char *rest;
	ps_path_split(path, &pid, &tid, &rest);
	int64_t name_id = intern_str(b, rest, strlen(rest), 1, err);
	if (name_id < 0)
		return -1;
	int64_t content_id = -1;
	/* What the archive can give back, so that `procsnap index` rebuilds
	 * this very index: no stat for an absent path (the manifest has none,
	 * though capture may have stat'ed it), and a mode with its file type
	 * (a tar header may hold the permission bits only). */
	int stated = r->kind != PS_M_ABSENT;
	uint32_t mode = r->mode;
	if (stated && !(mode & S_IFMT))
		mode |= r->kind == PS_M_LINK ? S_IFLNK : r->kind == PS_M_DIR ? S_IFDIR : S_IFREG;
	int64_t stat_id = intern_stat(b, r, stated, mode, err);
	if (stat_id < 0)
		return -1;
	if (r->kind == PS_M_FILE && r->has_hash) {
		uint64_t disc = content_disc(b, r, target, data);
		content_id = content_find(b, r->xxh3, r->size, 0, disc);
		if (content_id < 0)
			content_id = content_add(b, r->xxh3, r->size, disc, r->data_off, -1, err);
		if (content_id < 0)
			return -1;
	} else if (r->kind == PS_M_LINK && r->has_target) {
		uint64_t disc = content_disc(b, r, target, data);
		/* A target seen before is its content's: its text is not looked
		 * up (the pipe and socket ends forked workers share: their texts
		 * are not remembered, intern_str), and the tables' row of this
		 * link (fds) gets the same str_id (ps_tables_target_id). */
		content_id = content_find(b, r->xxh3, r->size, 1, disc);
		if (content_id >= 0) {
			target_id = b->ckeys[content_id].target_id;
		} else {
			target_id = intern_str(b, target, r->target_len, 0, err);
			if (target_id < 0)
				return -1;
			content_id = content_add(b, r->xxh3, r->size, disc, 0, target_id, err);
			if (content_id < 0)
				return -1;
		}
	}

	/* Below a pid directory: `paths`, clustered by pid; else `sys_paths`. */
	if (pid >= 0) {
		if (pid_base(b, pid, (int64_t)(r->read_ns / 1000), err) < 0)
			return -1;
		struct ps_bulk *bk = &b->bk_paths;
		ps_bulk_i64(bk, PA_pid, pid);
		int64_t seq = b->path_id - b->base_path;
		ps_bulk_i64(bk, PA_seq, seq);
		name_stat_add(b, name_id, seq);
		if (tid >= 0)
			ps_bulk_i64(bk, PA_tid_off, tid - pid);
		ps_bulk_i64(bk, PA_name_id, name_id);
		ps_bulk_i64(bk, PA_stat_id, stat_id);
		if (content_id >= 0)
			ps_bulk_i64(bk, PA_content_id, content_id);
		/* 8 us units: a process is read in about a ms, so one byte */
		ps_bulk_i64(bk, PA_read_delta_8us, ((int64_t)(r->read_ns / 1000) - b->base_us) / 8);
		if (ps_bulk_row(bk, err) < 0)
			return -1;
	} else {
		struct ps_bulk *bk = &b->bk_sys;
		ps_bulk_i64(bk, SY_path_id, b->path_id);
		ps_bulk_i64(bk, SY_name_id, name_id);
		ps_bulk_i64(bk, SY_stat_id, stat_id);
		if (content_id >= 0)
			ps_bulk_i64(bk, SY_content_id, content_id);
		ps_bulk_i64(bk, SY_read_us, (int64_t)(r->read_ns / 1000));
		if (ps_bulk_row(bk, err) < 0)
			return -1;
	}
	b->path_id++;

	switch (r->kind) {
	case PS_M_FILE:
		b->nfiles++;
		b->raw_bytes += r->size;
		break;
	case PS_M_LINK:
		b->nlinks++;
		break;
	case PS_M_DIR:
		b->ndirs++;
		break;
	default:
		b->nabsent++;
		break;
	}
	if (r->err)
		b->nerrors++;
	if (r->damage)
		b->damaged++;
	if (r->damage == PS_DAMAGE_MISMATCH)
		b->mismatches++;

	/* What the members say: the special ones, then the parsed tables. */
	if (r->kind == PS_M_FILE && r->data_len == r->size && pid < 0) {
		if (strcmp(path, PS_SUMMARY_PATH) == 0)
			return summary_row(b, data, (size_t)r->data_len, err);
		if (strcmp(path, PS_PROCS_PATH) == 0)
			return procs_rows(b, data, (size_t)r->data_len, err);
	}
	if (r->damage == PS_DAMAGE_LOST || r->damage == PS_DAMAGE_MISSING)
		return 0;
	if (r->spilled)
		return spilled_member(b, r, path, err);
	struct ps_rmember *m = &b->rm;
	memset(m, 0, sizeof(*m));
	m->path = path;
	m->kind = (enum ps_member_kind)r->kind;
	m->mode = r->mode;
	m->uid = r->uid;
	m->gid = r->gid;
	m->mtime = r->mtime;
	m->target = r->has_target ? target : NULL;
	/* Content the tables parse is carried whole; anything else is not. */
	if (r->kind == PS_M_FILE && r->data_len != r->size)
		m->kind = PS_M_ABSENT;
	m->data = data;
	m->len = (size_t)r->data_len;
	ps_tables_target_id(b->tables, target_id);
	return ps_tables_member(b->tables, m, err);
}

/* ---- thread ------------------------------------------------------------------- */

static int consume(struct ps_ibuild *b, const struct ps_chunk *c, struct ps_err *err)
{
	for (size_t off = 0; off < c->len;) {
		struct ps_wrec r;
		if (c->len - off < sizeof(r))
			return ps_err_set(err, EINVAL, "index: short record");
		memcpy(&r, c->data + off, sizeof(r));
		size_t total =
		    PS_WREC_SIZE((size_t)r.path_len, (size_t)r.target_len, (size_t)r.data_len);
		if (total > c->len - off)
			return ps_err_set(err, EINVAL, "index: short record");
		const char *p = c->data + off + sizeof(r);
		const char *target = p + r.path_len + 1;
		const char *data = target + r.target_len + 1;
		int rc = on_record(b, &r, p, target, data, err);
		if (r.spilled)
			close(r.spill_fd); /* the last reader of the spill file */
		if (rc < 0)
			return -1;
		off += total;
	}
	return 0;
}

static void *builder_main(void *arg)
{
	pthread_setname_np(pthread_self(), "ps-index"); /* for perf and top */
	struct ps_ibuild *b = arg;
	struct ps_chunk c;
	while (ps_bq_take(&b->q, &c)) {
		if (!b->failed && consume(b, &c, &b->ferr) < 0)
			b->failed = 1;
		if (b->pool)
			ps_pool_put(b->pool, c);
		else
			free(c.data);
		ps_bq_handled(&b->q);
	}
	return NULL;
}

/* ---- API ------------------------------------------------------------------------ */

int ps_ibuild_open(struct ps_ibuild **bp, const char *db_path, int force, struct ps_pool *pool,
		   struct ps_err *err)
{
	struct ps_ibuild *b = ps_xcalloc(1, sizeof(*b));
	/* without the kernel's randomness, bytes from the clocks: hard to
	 * guess to the nanosecond, though not secret */
	(void)ps_random_bytes(b->key, sizeof(b->key));
	b->pool = pool;
	ps_buf_init(&b->str_text);
	ps_buf_init(&b->load);
	ps_hmap_init(&b->strs, STR_MAX);
	ps_hmap_init(&b->contents, CONTENT_MAX);
	ps_hmap_init(&b->stats, STAT_MAX);
	ps_bq_init(&b->q);

	/* DB.tmp.PID: a name the caller can know before it exists (cli
	 * registers it, cli_tmp_index, so that a signal removes it). */
	struct ps_buf tmp = PS_BUF_INIT;
	ps_buf_addf(&tmp, "%s.tmp.%d", db_path, (int)getpid());
	int rc = ps_out_create_as(&b->out, db_path, tmp.buf, force, err);
	ps_buf_release(&tmp);
	if (rc < 0)
		goto fail;
	b->created = 1;
	/* The rows go into a work file beside it, unlinked as soon as SQLite
	 * holds it open (nothing to clean up after a crash or a signal); at the
	 * end it is copied, packed, into DB.tmp.PID (finish).  One thread uses
	 * the connection at a time (the builder's, then the caller's in
	 * finish): no SQLite mutexes.  Its name, DB.tmp.PID.work, is known in
	 * advance too: a signal may end the process before the unlink. */
	struct ps_buf work = PS_BUF_INIT;
	ps_buf_addf(&work, "%s.work", b->out.tmp);
	int wfd = open(work.buf, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (wfd < 0) {
		ps_err_set(err, errno, "cannot create a work file beside %s: %s", b->out.tmp,
			   strerror(errno));
		ps_buf_release(&work);
		goto fail;
	}
	close(wfd);
	rc = sqlite3_open_v2(work.buf, &b->db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW,
			     NULL);
	unlink(work.buf);
	ps_buf_release(&work);
	if (rc != SQLITE_OK) {
		ps_sql_err(err, b->db, b->out.tmp);
		goto fail;
	}
	/* 8 KiB pages: half the page writes and reads of 4 KiB ones (the work
	 * file's spills, VACUUM INTO's copy): ~45 ms less of a rebuild at
	 * N=2,000, for an index 0.7% larger (16 KiB: 3% larger, no faster). */
	if (exec(b->db,
		 "PRAGMA page_size=8192; PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; "
		 "PRAGMA cache_size=-2048; PRAGMA locking_mode=EXCLUSIVE; BEGIN",
		 err) < 0 ||
	    ps_schema_apply(b->db, 0, err) < 0)
		goto fail;
	b->base_pid = -1;
	if (prep(b, &b->ins_str, "INSERT INTO strings VALUES (1, ?1, ?2, ?3)", err) < 0 ||
	    prep(b, &b->ins_base, "INSERT OR IGNORE INTO pid_reads VALUES (?1, 1, ?2, ?3)", err) <
		0 ||
	    prep(b, &b->get_base,
		 "SELECT base_us, base_path FROM pid_reads WHERE pid = ?1 AND snapshot_id = 1",
		 err) < 0 ||
	    prep(b, &b->ins_stat, "INSERT INTO stats VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
		 err) < 0 ||
	    ps_bulk_open(&b->bk_paths, b->db, "paths", path_cols, 0, err) < 0 ||
	    ps_bulk_open(&b->bk_sys, b->db, "sys_paths", sys_cols, 0, err) < 0 ||
	    ps_bulk_open(&b->bk_contents, b->db, "contents", content_cols, 0, err) < 0 ||
	    prep(b, &b->ins_proc, "INSERT INTO capture_processes VALUES (1, ?, ?, ?, ?, ?, ?)",
		 err) < 0)
		goto fail;
	for (size_t i = 0; i < sizeof(common_names) / sizeof(common_names[0]); i++)
		if (intern_str(b, common_names[i], strlen(common_names[i]), 1, err) < 0)
			goto fail;
	if (pthread_create(&b->thread, NULL, builder_main, b) != 0) {
		ps_err_set(err, EAGAIN, "cannot start the index thread");
		goto fail;
	}
	b->thread_started = 1;
	*bp = b;
	return 0;
fail:
	ps_ibuild_free(b);
	return -1;
}

int ps_ibuild_submit(struct ps_ibuild *b, struct ps_chunk batch, struct ps_err *err)
{
	if (b->failed) {
		if (b->pool)
			ps_pool_put(b->pool, batch);
		else
			free(batch.data);
		if (err)
			*err = b->ferr;
		return -1;
	}
	ps_bq_put(&b->q, batch);
	return 0;
}

static void finalize_all(struct ps_ibuild *b)
{
	sqlite3_stmt **sts[] = {&b->ins_str, &b->ins_stat, &b->ins_proc, &b->ins_base,
				&b->get_base};
	for (size_t i = 0; i < sizeof(sts) / sizeof(sts[0]); i++) {
		sqlite3_finalize(*sts[i]);
		*sts[i] = NULL;
	}
	ps_bulk_close(&b->bk_paths);
	ps_bulk_close(&b->bk_sys);
	ps_bulk_close(&b->bk_contents);
}

static void stop_thread(struct ps_ibuild *b)
{
	if (!b->thread_started)
		return;
	ps_bq_close(&b->q);
	pthread_join(b->thread, NULL);
	b->thread_started = 0;
}

static int frames_rows(struct ps_ibuild *b, const struct ps_ibuild_end *e, struct ps_err *err)
{
	sqlite3_stmt *st;
	if (prep(b, &st, "INSERT INTO frames VALUES (1, ?, ?, ?, ?, ?)", err) < 0)
		return -1;
	uint64_t co = 0, to = 0;
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < e->nframes; i++) {
		sqlite3_bind_int64(st, 1, (int64_t)i);
		sqlite3_bind_int64(st, 2, (int64_t)co);
		sqlite3_bind_int64(st, 3, e->csize[i]);
		sqlite3_bind_int64(st, 4, (int64_t)to);
		sqlite3_bind_int64(st, 5, e->dsize[i]);
		rc = step(b, st, "frames", err);
		co += e->csize[i];
		to += e->dsize[i];
	}
	sqlite3_finalize(st);
	return rc;
}

/* The name_stats rows (name_stat_add). */
static int name_stats_rows(struct ps_ibuild *b, struct ps_err *err)
{
	sqlite3_stmt *st;
	if (prep(b, &st, "INSERT INTO name_stats VALUES (1, ?, ?, ?)", err) < 0)
		return -1;
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < b->nst_cap; i++) {
		const struct name_stat *n = &b->nst[i];
		if (n->uses == 0)
			continue;
		sqlite3_bind_int64(st, 1, (int64_t)i);
		if (n->uses == UINT32_MAX) { /* counted no more: known, not usable */
			sqlite3_bind_null(st, 2);
			sqlite3_bind_null(st, 3);
		} else {
			sqlite3_bind_int64(st, 2, n->uses);
			sqlite3_bind_int64(st, 3, n->cand);
		}
		rc = step(b, st, "name_stats", err);
	}
	sqlite3_finalize(st);
	return rc;
}

int ps_ibuild_finish(struct ps_ibuild *b, const struct ps_ibuild_end *e, struct ps_err *err)
{
	stop_thread(b);
	/* no batch comes any more: the spare ones go before the finish's peak */
	if (b->pool)
		ps_pool_trim(b->pool);
	if (b->failed) {
		if (err)
			*err = b->ferr;
		return -1;
	}
	if (!b->saw_meta)
		return ps_err_set(err, EINVAL, "not a procsnap archive (no meta.json)");
	struct ps_tables *t = b->tables;
	b->tables = NULL;
	if (ps_tables_end(t, err) < 0 || ps_bulk_flush(&b->bk_paths, err) < 0 ||
	    ps_bulk_flush(&b->bk_sys, err) < 0 || ps_bulk_flush(&b->bk_contents, err) < 0 ||
	    frames_rows(b, e, err) < 0 || name_stats_rows(b, err) < 0)
		return -1;
	char shahex[65] = "";
	if (e->sha256)
		ps_hex(shahex, e->sha256, 32);
	sqlite3_stmt *u;
	if (prep(b, &u,
		 "UPDATE snapshots SET archive_name=?1, archive_size=?2, archive_sha256=?3, "
		 "n_files=?4, n_links=?5, n_dirs=?6, n_absent=?7, n_errors=?8, raw_bytes=?9, "
		 "hash_mismatches=?10, n_damaged=?11, tar_bytes=?12 WHERE snapshot_id=1",
		 err) < 0)
		return -1;
	sqlite3_bind_text(u, 1, e->archive_name, -1, SQLITE_STATIC);
	if (e->archive_size >= 0)
		sqlite3_bind_int64(u, 2, e->archive_size);
	if (e->sha256)
		sqlite3_bind_text(u, 3, shahex, 64, SQLITE_STATIC);
	sqlite3_bind_int64(u, 4, (int64_t)b->nfiles);
	sqlite3_bind_int64(u, 5, (int64_t)b->nlinks);
	sqlite3_bind_int64(u, 6, (int64_t)b->ndirs);
	sqlite3_bind_int64(u, 7, (int64_t)b->nabsent);
	sqlite3_bind_int64(u, 8, (int64_t)b->nerrors);
	sqlite3_bind_int64(u, 9, (int64_t)b->raw_bytes);
	sqlite3_bind_int64(u, 10, (int64_t)b->mismatches);
	sqlite3_bind_int64(u, 11, (int64_t)b->damaged);
	sqlite3_bind_int64(u, 12, (int64_t)e->tar_bytes);
	int rr = sqlite3_step(u);
	sqlite3_finalize(u);
	if (rr != SQLITE_DONE)
		return ps_sql_err(err, b->db, "snapshots");
	if (ps_schema_apply(b->db, 1, err) < 0)
		return -1;
	char pragma[64];
	snprintf(pragma, sizeof(pragma), "PRAGMA user_version=%d", PS_SCHEMA_VERSION);
	if (exec(b->db, pragma, err) < 0 || exec(b->db, "COMMIT", err) < 0)
		return -1;
	/* The b-trees were filled in key order, and SQLite splits a full page
	 * in two, so pages end up ~88% full; a copy (VACUUM INTO, the xfer
	 * bulk load) packs them full: ~10% smaller for ~0.1 s at N=2000. */
	sqlite3_stmt *v;
	/* The copy's page cache is the source's size: both small now (the
	 * source is read in order, from the OS's cache). */
	if (exec(b->db, "PRAGMA cache_size=-1024", err) < 0 ||
	    prep(b, &v, "VACUUM INTO ?1", err) < 0)
		return -1;
	sqlite3_bind_text(v, 1, b->out.tmp, -1, SQLITE_STATIC);
	int vr = sqlite3_step(v);
	sqlite3_finalize(v);
	if (vr != SQLITE_DONE)
		return ps_sql_err(err, b->db, b->out.tmp);
	finalize_all(b);
	int rc = sqlite3_close(b->db);
	b->db = NULL;
	if (rc != SQLITE_OK)
		return ps_err_set(err, EIO, "sqlite: cannot close %s", b->out.tmp);
	b->finished = 1;
	return 0;
}

int ps_ibuild_publish(struct ps_ibuild *b, struct ps_err *err)
{
	if (!b->finished)
		return ps_err_set(err, EINVAL, "index not finished");
	b->published = 1; /* committed or removed: ps_out_commit does either */
	return ps_out_commit(&b->out, err);
}

const char *ps_ibuild_tmp_path(const struct ps_ibuild *b)
{
	return b && b->created ? b->out.tmp : NULL;
}

void ps_ibuild_free(struct ps_ibuild *b)
{
	if (!b)
		return;
	stop_thread(b);
	if (b->tables)
		ps_tables_abort(b->tables);
	finalize_all(b);
	if (b->db)
		sqlite3_close(b->db);
	if (b->created && !b->published)
		ps_out_abort(&b->out);
	ps_bq_destroy(&b->q);
	ps_hmap_release(&b->strs);
	ps_hmap_release(&b->contents);
	ps_hmap_release(&b->stats);
	ps_buf_release(&b->str_text);
	ps_buf_release(&b->load);
	free(b->str_off);
	free(b->ckeys);
	free(b->skeys);
	free(b->nst);
	free(b);
}
