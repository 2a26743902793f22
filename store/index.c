/*
 * index.c - build the SQLite index of a snapshot from its archive alone.
 *
 * capture calls this same function on the archive it has just written, so a
 * capture's index and a rebuilt one are identical by construction.  One
 * transaction, prepared statements, secondary indexes after the load
 * (reference: storage-perf-anchors B4).
 */
#include "store.h"
#include "store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct ps_sql_file {
	const char *name;
	const char *sql;
};
extern const struct ps_sql_file ps_schema_files[];

int ps_sql_err(struct ps_err *err, sqlite3 *db, const char *what)
{
	return ps_err_set(err, EIO, "sqlite: %s: %s", what,
			  db ? sqlite3_errmsg(db) : "no database");
}

int ps_schema_apply(sqlite3 *db, int post_load, struct ps_err *err)
{
	for (const struct ps_sql_file *f = ps_schema_files; f->name; f++) {
		if (strncmp(f->name, "rules/", 6) == 0)
			continue;
		int is_post = f->name[0] == '9';
		if (is_post != post_load)
			continue;
		char *msg = NULL;
		if (sqlite3_exec(db, f->sql, NULL, NULL, &msg) != SQLITE_OK) {
			ps_err_set(err, EIO, "schema/%s: %s", f->name, msg ? msg : "?");
			sqlite3_free(msg);
			return -1;
		}
	}
	return 0;
}

/* pid and tid from an archive path: proc/<pid>/... and proc/<pid>/task/<tid>/... */
void ps_path_ids(const char *path, int64_t *pid, int64_t *tid)
{
	*pid = -1;
	*tid = -1;
	if (strncmp(path, "proc/", 5) != 0)
		return;
	const char *p = path + 5, *q = p;
	while (*q >= '0' && *q <= '9')
		q++;
	uint64_t v;
	if (q == p || (*q != '/' && *q != '\0') || ps_parse_u64(p, (size_t)(q - p), &v) < 0 ||
	    v > INT32_MAX)
		return;
	*pid = (int64_t)v;
	if (strncmp(q, "/task/", 6) != 0)
		return;
	p = q + 6;
	q = p;
	while (*q >= '0' && *q <= '9')
		q++;
	if (q == p || (*q != '/' && *q != '\0') || ps_parse_u64(p, (size_t)(q - p), &v) < 0 ||
	    v > INT32_MAX)
		return;
	*tid = (int64_t)v;
}

/*
 * Content cache for hardlinked members: the parsed tables need the bytes of
 * a hardlink (e.g. task/<tid>/stat stored as a link to proc/<pid>/stat, or
 * an environ shared by a hundred workers), which the tar stream holds only
 * under the first path.  Members the tables want are kept here, FIFO,
 * bounded in bytes; a miss falls back to a seek into the archive.
 */
#define CACHE_BYTES (16u << 20)
#define CACHE_SLOTS 8192

struct cache_ent {
	char *path;
	char *data;
	size_t len;
	int ref; /* read since it was last passed over (second chance) */
};

struct content_cache {
	struct cache_ent ring[CACHE_SLOTS];
	size_t head, count, bytes;
	/* open-addressing index: path hash -> ring slot + 1 (0 = empty) */
	uint32_t idx[CACHE_SLOTS * 2];
};

static uint64_t path_hash(const char *p)
{
	uint64_t h = 1469598103934665603ull;
	for (; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ull;
	return h;
}

#define IDX_MASK (CACHE_SLOTS * 2 - 1)

/* Remove ring slot `slot` from the open-addressing index (linear probing
 * with backward-shift deletion, so no tombstones accumulate). */
static void cache_unindex(struct content_cache *c, size_t slot)
{
	size_t i = path_hash(c->ring[slot].path) & IDX_MASK;
	while (c->idx[i] != slot + 1)
		i = (i + 1) & IDX_MASK;
	for (;;) {
		size_t j = i;
		c->idx[i] = 0;
		for (;;) {
			j = (j + 1) & IDX_MASK;
			if (!c->idx[j])
				return;
			size_t home = path_hash(c->ring[c->idx[j] - 1].path) & IDX_MASK;
			/* move j back to i unless its home lies cyclically in (i, j] */
			if (i <= j ? (home <= i || home > j) : (home <= i && home > j))
				break;
		}
		c->idx[i] = c->idx[j];
		i = j;
	}
}

static void cache_drop_oldest(struct content_cache *c)
{
	struct cache_ent *e = &c->ring[c->head];
	cache_unindex(c, c->head);
	c->bytes -= e->len;
	free(e->path);
	free(e->data);
	e->path = e->data = NULL;
	c->head = (c->head + 1) % CACHE_SLOTS;
	c->count--;
}

static void cache_index(struct content_cache *c, size_t slot)
{
	size_t i = path_hash(c->ring[slot].path) & IDX_MASK;
	while (c->idx[i])
		i = (i + 1) & IDX_MASK;
	c->idx[i] = (uint32_t)slot + 1;
}

/* Evict one entry, giving entries read since their last pass a second
 * chance (CLOCK): popular content (a limits or environ shared by hundreds
 * of processes) stays, one-off content goes. */
static void cache_evict_one(struct content_cache *c)
{
	for (;;) {
		struct cache_ent *e = &c->ring[c->head];
		if (!e->ref) {
			cache_drop_oldest(c);
			return;
		}
		e->ref = 0;
		size_t tail = (c->head + c->count) % CACHE_SLOTS;
		if (tail != c->head) {
			cache_unindex(c, c->head);
			c->ring[tail] = *e;
			e->path = e->data = NULL;
			e->len = 0;
			cache_index(c, tail);
		}
		c->head = (c->head + 1) % CACHE_SLOTS;
	}
}

static void cache_put(struct content_cache *c, const char *path, const void *data, size_t len)
{
	if (len > CACHE_BYTES / 4)
		return;
	while (c->count && (c->count == CACHE_SLOTS || c->bytes + len > CACHE_BYTES))
		cache_evict_one(c);
	size_t slot = (c->head + c->count) % CACHE_SLOTS;
	c->ring[slot].path = ps_xstrdup(path);
	c->ring[slot].data = ps_xmalloc(len ? len : 1);
	memcpy(c->ring[slot].data, data, len);
	c->ring[slot].len = len;
	c->ring[slot].ref = 0;
	c->count++;
	c->bytes += len;
	cache_index(c, slot);
}

static const struct cache_ent *cache_get(struct content_cache *c, const char *path)
{
	size_t i = path_hash(path) & (CACHE_SLOTS * 2 - 1);
	while (c->idx[i]) {
		struct cache_ent *e = &c->ring[c->idx[i] - 1];
		if (strcmp(e->path, path) == 0) {
			e->ref = 1;
			return e;
		}
		i = (i + 1) & (CACHE_SLOTS * 2 - 1);
	}
	return NULL;
}

static void cache_free(struct content_cache *c)
{
	if (!c)
		return;
	while (c->count)
		cache_drop_oldest(c);
	free(c);
}

struct builder {
	sqlite3 *db;
	const char *archive;
	sqlite3_stmt *ins_member, *ins_file, *get_member, *ins_proc, *upd_hardlink;
	sqlite3_stmt *seq; /* members in archive order, merged with the manifest */
	int seq_started, seq_row;
	struct ps_tables *tables;
	struct content_cache *cache;
	struct ps_fetch *fetch; /* cache misses: seek into the archive */
	struct ps_buf linkdata;
	sqlite3_stmt *get_off;
	struct ps_buf path;
	struct ps_buf line;
	uint64_t mismatches, nfiles, nlinks, ndirs, nabsent, nerrors, raw_bytes;
	int saw_meta, saw_manifest, saw_summary;
};

static int prep(struct builder *b, sqlite3_stmt **st, const char *sql, struct ps_err *err)
{
	if (sqlite3_prepare_v2(b->db, sql, -1, st, NULL) != SQLITE_OK)
		return ps_sql_err(err, b->db, sql);
	return 0;
}

static int step_done(struct builder *b, sqlite3_stmt *st, struct ps_err *err, const char *what)
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

static int meta_row(struct builder *b, const struct ps_rmember *m, struct ps_err *err)
{
	sqlite3_stmt *st;
	/* json_extract raises "malformed JSON" on a crafted meta.json. */
	if (prep(b, &st,
		 "INSERT INTO snapshots(snapshot_id, meta_json, format_version, tool_version, "
		 "hostname, kernel_release, kernel_version, boot_id, machine_id, start_ns, uid, "
		 "cap_eff, proc_root, page_size, clock_ticks, case_id, examiner, evidence, note, "
		 "options) SELECT 1, j, json_extract(j,'$.format_version'), "
		 "json_extract(j,'$.tool_version'), json_extract(j,'$.hostname'), "
		 "json_extract(j,'$.kernel_release'), json_extract(j,'$.kernel_version'), "
		 "json_extract(j,'$.boot_id'), json_extract(j,'$.machine_id'), "
		 "json_extract(j,'$.start_ns'), json_extract(j,'$.uid'), "
		 "json_extract(j,'$.cap_eff'), json_extract(j,'$.proc_root'), "
		 "json_extract(j,'$.page_size'), json_extract(j,'$.clock_ticks'), "
		 "json_extract(j,'$.case_id'), json_extract(j,'$.examiner'), "
		 "json_extract(j,'$.evidence'), json_extract(j,'$.note'), "
		 "json(json_extract(j,'$.options')) FROM (SELECT ? AS j)",
		 err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, m->data, (int)m->len, SQLITE_TRANSIENT);
	int r = sqlite3_step(st);
	sqlite3_finalize(st);
	if (r != SQLITE_DONE)
		return ps_err_set(err, EINVAL, "%s: corrupt meta.json: %s", b->archive,
				  sqlite3_errmsg(b->db));
	return 0;
}

static int summary_row(struct builder *b, const struct ps_rmember *m, struct ps_err *err)
{
	sqlite3_stmt *st;
	if (prep(b, &st,
		 "UPDATE snapshots SET summary_json = ?1, end_ns = json_extract(?1,'$.end_ns'), "
		 "n_processes = json_extract(?1,'$.processes'), "
		 "n_threads = json_extract(?1,'$.threads') WHERE snapshot_id = 1",
		 err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, m->data, (int)m->len, SQLITE_TRANSIENT);
	int r = sqlite3_step(st);
	sqlite3_finalize(st);
	if (r != SQLITE_DONE)
		return ps_err_set(err, EINVAL, "%s: corrupt summary.json: %s", b->archive,
				  sqlite3_errmsg(b->db));
	return 0;
}

/* procsnap/processes.tsv: pid starttime partial hidden nthreads on_disk */
static int procs_rows(struct builder *b, const struct ps_rmember *m, struct ps_err *err)
{
	const char *p = m->data, *end = p + m->len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			nl = end;
		int64_t v[6];
		int nv = 0;
		const char *f = p;
		if (nl == p || *p == '#') {
			p = nl + 1;
			continue;
		}
		for (const char *q = p; q <= nl && nv < 6; q++) {
			if (q == nl || *q == '\t') {
				uint64_t u;
				int neg = f < q && *f == '-';
				if (ps_parse_u64(f + neg, (size_t)(q - f - neg), &u) < 0 ||
				    u > INT64_MAX)
					return ps_err_set(err, EINVAL, "%s: corrupt %s", b->archive,
							  PS_PROCS_PATH);
				v[nv++] = neg ? -(int64_t)u : (int64_t)u;
				f = q + 1;
			}
		}
		if (nv != 6)
			return ps_err_set(err, EINVAL, "%s: corrupt %s", b->archive, PS_PROCS_PATH);
		for (int i = 0; i < 6; i++)
			sqlite3_bind_int64(b->ins_proc, i + 1, v[i]);
		if (step_done(b, b->ins_proc, err, "capture_processes") < 0)
			return -1;
		p = nl + 1;
	}
	return 0;
}

static int member_row(struct builder *b, const struct ps_rmember *m, struct ps_err *err)
{
	sqlite3_stmt *st = b->ins_member;
	char hex[33];
	const char *type = m->hardlink ? "hardlink" : ps_member_kind_name(m->kind);
	sqlite3_bind_text(st, 1, m->path, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, type, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, m->mode);
	sqlite3_bind_int64(st, 4, m->uid);
	sqlite3_bind_int64(st, 5, m->gid);
	sqlite3_bind_int64(st, 6, m->mtime);
	if (m->hardlink) {
		/* size, hash and data offset are the target's */
		sqlite3_bind_text(st, 10, m->hardlink, -1, SQLITE_STATIC);
	} else {
		sqlite3_bind_int64(st, 7,
				   m->kind == PS_M_FILE ? (int64_t)m->len
				   : m->target		? (int64_t)strlen(m->target)
							: 0);
		if (m->kind != PS_M_DIR) {
			ps_hex(hex, m->xxh3, 16);
			sqlite3_bind_text(st, 8, hex, 32, SQLITE_TRANSIENT);
		}
		sqlite3_bind_int64(st, 12, (int64_t)m->data_off);
	}
	if (m->target)
		sqlite3_bind_text(st, 9, m->target, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 11, (int64_t)m->header_off);
	int r = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (r == SQLITE_CONSTRAINT)
		return ps_err_set(err, EINVAL, "%s: corrupt archive: member %s appears twice",
				  b->archive, m->path);
	if (r != SQLITE_DONE)
		return ps_sql_err(err, b->db, "members");
	if (m->hardlink) {
		/* Resolve the hardlink to its target's size/hash/offset (the
		 * target must come earlier, as tar requires). */
		sqlite3_stmt *u = b->upd_hardlink;
		sqlite3_bind_text(u, 1, m->path, -1, SQLITE_STATIC);
		sqlite3_bind_text(u, 2, m->hardlink, -1, SQLITE_STATIC);
		if (step_done(b, u, err, "members hardlink") < 0)
			return -1;
	}
	return 0;
}

/* One manifest line -> one files row, joined with the member's tar facts. */
static int manifest_row(struct builder *b, const char *line, size_t len, struct ps_err *err)
{
	struct ps_manifest_line ml;
	if (ps_manifest_parse_line(line, len, &b->path, &ml) < 0)
		return ps_err_set(err, EINVAL, "%s: corrupt manifest line: %.80s", b->archive,
				  line);
	/* The manifest lists members in the order they were written, so walk
	 * both in step; look a path up only when they disagree (a crafted
	 * archive). */
	sqlite3_stmt *g = NULL;
	if (ml.kind != PS_M_ABSENT) {
		if (!b->seq_started) {
			b->seq_started = 1;
			b->seq_row = sqlite3_step(b->seq) == SQLITE_ROW;
		}
		const char *sp = b->seq_row ? (const char *)sqlite3_column_text(b->seq, 6) : NULL;
		if (sp && strcmp(sp, b->path.buf) == 0) {
			g = b->seq;
		} else {
			sqlite3_bind_text(b->get_member, 1, b->path.buf, (int)b->path.len,
					  SQLITE_STATIC);
			if (sqlite3_step(b->get_member) == SQLITE_ROW)
				g = b->get_member;
		}
	}
	int have = g != NULL;
	sqlite3_stmt *st = b->ins_file;
	char hex[33];
	int64_t pid, tid;
	ps_path_ids(b->path.buf, &pid, &tid);
	sqlite3_bind_text(st, 1, b->path.buf, (int)b->path.len, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, ps_member_kind_name(ml.kind), -1, SQLITE_STATIC);
	if (have) {
		sqlite3_bind_int64(st, 3, sqlite3_column_int64(g, 0));
		sqlite3_bind_int64(st, 4, sqlite3_column_int64(g, 1));
		sqlite3_bind_int64(st, 5, sqlite3_column_int64(g, 2));
		if (sqlite3_column_type(g, 5) != SQLITE_NULL)
			sqlite3_bind_int64(st, 13, sqlite3_column_int64(g, 5));
		const unsigned char *mx = sqlite3_column_text(g, 4);
		if (ml.has_hash && (!mx || strlen((const char *)mx) != 32 ||
				    (ps_hex(hex, ml.xxh3, 16), strcmp(hex, (const char *)mx) != 0)))
			b->mismatches++;
		if (ml.kind == PS_M_LINK && sqlite3_column_type(g, 3) != SQLITE_NULL)
			sqlite3_bind_text(st, 9, (const char *)sqlite3_column_text(g, 3), -1,
					  SQLITE_TRANSIENT);
	} else if (ml.kind != PS_M_ABSENT) {
		b->mismatches++; /* listed as stored, but no member */
	}
	sqlite3_bind_int64(st, 6, (int64_t)ml.size);
	if (ml.has_hash) {
		ps_hex(hex, ml.xxh3, 16);
		sqlite3_bind_text(st, 7, hex, 32, SQLITE_TRANSIENT);
	}
	if (ml.err)
		sqlite3_bind_text(st, 8, ps_errno_name(ml.err), -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 10, (int64_t)ml.read_ns);
	if (pid >= 0)
		sqlite3_bind_int64(st, 11, pid);
	if (tid >= 0)
		sqlite3_bind_int64(st, 12, tid);
	if (g == b->seq)
		b->seq_row = sqlite3_step(b->seq) == SQLITE_ROW;
	sqlite3_reset(b->get_member);
	if (step_done(b, st, err, "files") < 0)
		return -1;
	switch (ml.kind) {
	case PS_M_FILE:
		b->nfiles++;
		b->raw_bytes += ml.size;
		break;
	case PS_M_LINK:
		b->nlinks++;
		break;
	case PS_M_DIR:
		b->ndirs++;
		break;
	case PS_M_ABSENT:
		b->nabsent++;
		break;
	}
	if (ml.err)
		b->nerrors++;
	return 0;
}

/* The manifest, streamed: lines may straddle chunks. */
static int manifest_rows(struct builder *b, struct ps_reader *r, struct ps_err *err)
{
	const void *chunk;
	size_t n;
	int st;
	ps_buf_reset(&b->line);
	while ((st = ps_reader_stream(r, &chunk, &n, err)) == 1) {
		const char *p = chunk, *end = p + n;
		while (p < end) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			if (!nl) {
				ps_buf_add(&b->line, p, (size_t)(end - p));
				break;
			}
			if (b->line.len) {
				ps_buf_add(&b->line, p, (size_t)(nl - p));
				if (manifest_row(b, b->line.buf, b->line.len, err) < 0)
					return -1;
				ps_buf_reset(&b->line);
			} else if (manifest_row(b, p, (size_t)(nl - p), err) < 0) {
				return -1;
			}
			p = nl + 1;
		}
	}
	if (st < 0)
		return -1;
	if (b->line.len)
		return ps_err_set(err, EINVAL, "%s: truncated manifest", b->archive);
	return 0;
}

static int frames_rows(struct builder *b, struct ps_err *err)
{
	int fd = open(b->archive, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ps_err_set(err, errno, "%s: %s", b->archive, strerror(errno));
	uint32_t *c, *d;
	size_t n;
	struct ps_err e2;
	if (ps_seektable_read(fd, &c, &d, &n, &e2) < 0) {
		close(fd);
		return ps_err_set(err, EINVAL, "%s: corrupt archive: %s", b->archive, e2.msg);
	}
	close(fd);
	sqlite3_stmt *st;
	int rc = prep(b, &st, "INSERT INTO frames VALUES (1, ?, ?, ?, ?, ?)", err);
	uint64_t co = 0, to = 0;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		sqlite3_bind_int64(st, 1, (int64_t)i);
		sqlite3_bind_int64(st, 2, (int64_t)co);
		sqlite3_bind_int64(st, 3, c[i]);
		sqlite3_bind_int64(st, 4, (int64_t)to);
		sqlite3_bind_int64(st, 5, d[i]);
		rc = step_done(b, st, err, "frames");
		co += c[i];
		to += d[i];
	}
	sqlite3_finalize(st);
	free(c);
	free(d);
	return rc;
}

/* Hand a member to the parsed tables, with a hardlink's content resolved. */
static int tables_member(struct builder *b, struct ps_rmember *m, struct ps_err *err)
{
	if (m->kind != PS_M_FILE || !ps_tables_wants(m->path))
		return ps_tables_member(b->tables, m, err);
	if (!m->hardlink) {
		cache_put(b->cache, m->path, m->data, m->len);
		return ps_tables_member(b->tables, m, err);
	}
	const struct cache_ent *e = cache_get(b->cache, m->hardlink);
	if (e) {
		m->data = e->data;
		m->len = e->len;
	} else {
		sqlite3_stmt *q = b->get_off;
		sqlite3_bind_text(q, 1, m->hardlink, -1, SQLITE_STATIC);
		int ok = sqlite3_step(q) == SQLITE_ROW && sqlite3_column_type(q, 0) != SQLITE_NULL;
		int64_t off = ok ? sqlite3_column_int64(q, 0) : 0,
			size = ok ? sqlite3_column_int64(q, 1) : 0;
		sqlite3_reset(q);
		if (!ok || size < 0)
			return ps_err_set(err, EINVAL,
					  "%s: corrupt archive: hardlink %s to unknown %s",
					  b->archive, m->path, m->hardlink);
		if (!b->fetch && ps_fetch_open(b->archive, &b->fetch, err) < 0)
			return -1;
		if (ps_fetch_read(b->fetch, (uint64_t)off, (uint64_t)size, &b->linkdata, err) < 0)
			return -1;
		m->data = b->linkdata.buf;
		m->len = b->linkdata.len;
	}
	return ps_tables_member(b->tables, m, err);
}

static int build(struct builder *b, struct ps_reader *r, struct ps_err *err)
{
	struct ps_rmember m;
	int st;
	if (exec(b->db,
		 "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-16384; BEGIN",
		 err) < 0)
		return -1;
	if (ps_schema_apply(b->db, 0, err) < 0)
		return -1;
	if (prep(b, &b->ins_member,
		 "INSERT INTO members(snapshot_id, path, type, mode, uid, gid, mtime, size, xxh3, "
		 "link_target, hardlink_to, header_off, data_off) "
		 "VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
		 err) < 0 ||
	    prep(b, &b->ins_file,
		 "INSERT INTO files(snapshot_id, path, kind, mode, uid, gid, size, xxh3, errno, "
		 "link_target, read_ns, pid, tid, data_off) "
		 "VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
		 err) < 0 ||
	    prep(b, &b->get_member,
		 "SELECT mode, uid, gid, link_target, xxh3, data_off FROM members "
		 "WHERE snapshot_id = 1 AND path = ?1",
		 err) < 0 ||
	    prep(b, &b->seq,
		 "SELECT mode, uid, gid, link_target, xxh3, data_off, path FROM members "
		 "WHERE snapshot_id = 1 ORDER BY rowid",
		 err) < 0 ||
	    prep(b, &b->ins_proc, "INSERT INTO capture_processes VALUES (1, ?, ?, ?, ?, ?, ?)",
		 err) < 0 ||
	    prep(b, &b->upd_hardlink,
		 "UPDATE members SET (size, xxh3, data_off) = (SELECT size, xxh3, data_off "
		 "FROM members t WHERE t.snapshot_id = 1 AND t.path = ?2 AND "
		 "t.type = 'file') WHERE snapshot_id = 1 AND path = ?1",
		 err) < 0 ||
	    prep(b, &b->get_off,
		 "SELECT data_off, size FROM members WHERE snapshot_id = 1 AND path = ?1 AND "
		 "type = 'file'",
		 err) < 0)
		return -1;
	b->cache = ps_xcalloc(1, sizeof(*b->cache));
	while ((st = ps_reader_next(r, &m, err)) == 1) {
		if (!b->saw_meta) {
			if (strcmp(m.path, PS_META_PATH) != 0 || m.kind != PS_M_FILE)
				return ps_err_set(err, EINVAL,
						  "%s: not a procsnap archive (first member is %s)",
						  b->archive, m.path);
			if (meta_row(b, &m, err) < 0)
				return -1;
			b->saw_meta = 1;
			b->tables = ps_tables_begin(b->db, err);
			if (!b->tables)
				return -1;
		}
		if (b->saw_manifest)
			return ps_err_set(err, EINVAL,
					  "%s: corrupt archive: member after the manifest",
					  b->archive);
		if (strcmp(m.path, PS_MANIFEST_PATH) == 0) {
			b->saw_manifest = 1;
			if (manifest_rows(b, r, err) < 0)
				return -1;
			continue;
		}
		if (member_row(b, &m, err) < 0)
			return -1;
		if (strcmp(m.path, PS_SUMMARY_PATH) == 0) {
			b->saw_summary = 1;
			if (summary_row(b, &m, err) < 0)
				return -1;
		} else if (strcmp(m.path, PS_PROCS_PATH) == 0) {
			if (procs_rows(b, &m, err) < 0)
				return -1;
		} else if (tables_member(b, &m, err) < 0) {
			return -1;
		}
	}
	if (st < 0)
		return -1;
	if (!b->saw_manifest)
		return ps_err_set(err, EINVAL, "%s: truncated archive: no manifest", b->archive);
	struct ps_tables *t = b->tables;
	b->tables = NULL;
	if (ps_tables_end(t, err) < 0)
		return -1;
	if (frames_rows(b, err) < 0)
		return -1;

	unsigned char sha[32];
	char shahex[65];
	ps_reader_sha256(r, sha);
	ps_hex(shahex, sha, 32);
	struct stat sb;
	const char *base = strrchr(b->archive, '/');
	base = base ? base + 1 : b->archive;
	sqlite3_stmt *u;
	if (prep(
		b, &u,
		"UPDATE snapshots SET archive_name=?, archive_size=?, archive_sha256=?, n_files=?, "
		"n_links=?, n_dirs=?, n_absent=?, n_errors=?, raw_bytes=?, hash_mismatches=?, "
		"tar_bytes=(SELECT sum(t_size) FROM frames) WHERE snapshot_id=1",
		err) < 0)
		return -1;
	sqlite3_bind_text(u, 1, base, -1, SQLITE_STATIC);
	sqlite3_bind_int64(u, 2, stat(b->archive, &sb) == 0 ? (int64_t)sb.st_size : -1);
	sqlite3_bind_text(u, 3, shahex, 64, SQLITE_STATIC);
	sqlite3_bind_int64(u, 4, (int64_t)b->nfiles);
	sqlite3_bind_int64(u, 5, (int64_t)b->nlinks);
	sqlite3_bind_int64(u, 6, (int64_t)b->ndirs);
	sqlite3_bind_int64(u, 7, (int64_t)b->nabsent);
	sqlite3_bind_int64(u, 8, (int64_t)b->nerrors);
	sqlite3_bind_int64(u, 9, (int64_t)b->raw_bytes);
	sqlite3_bind_int64(u, 10, (int64_t)b->mismatches);
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
	return 0;
}

int ps_index_build(const char *archive_path, const char *db_path, int force, struct ps_err *err)
{
	struct builder b;
	struct ps_reader *r = NULL;
	int rc = -1;
	memset(&b, 0, sizeof(b));
	b.archive = archive_path;
	ps_buf_init(&b.path);
	ps_buf_init(&b.line);
	ps_buf_init(&b.linkdata);

	struct ps_outfile of;
	if (ps_out_create(&of, db_path, force, err) < 0)
		return -1;
	if (ps_reader_open(&r, archive_path, err) < 0)
		goto out;
	if (sqlite3_open_v2(of.tmp, &b.db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW, NULL) !=
	    SQLITE_OK) {
		ps_sql_err(err, b.db, of.tmp);
		goto out;
	}
	if (build(&b, r, err) < 0)
		goto out;
	rc = 0;
out:
	if (b.tables && rc < 0)
		ps_tables_abort(b.tables);
	sqlite3_finalize(b.ins_member);
	sqlite3_finalize(b.ins_file);
	sqlite3_finalize(b.get_member);
	sqlite3_finalize(b.seq);
	sqlite3_finalize(b.ins_proc);
	sqlite3_finalize(b.upd_hardlink);
	sqlite3_finalize(b.get_off);
	cache_free(b.cache);
	ps_fetch_close(b.fetch);
	ps_buf_release(&b.linkdata);
	if (b.db && sqlite3_close(b.db) != SQLITE_OK && rc == 0)
		rc = ps_err_set(err, EIO, "sqlite: cannot close %s", of.tmp);
	ps_reader_close(r);
	if (rc == 0)
		rc = ps_out_commit(&of, err);
	else
		ps_out_abort(&of);
	ps_buf_release(&b.path);
	ps_buf_release(&b.line);
	return rc;
}
