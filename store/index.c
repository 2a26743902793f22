/*
 * index.c - `procsnap index`: the index of an archive, from the archive alone.
 *
 * The index builder (ibuild.c) consumes pipeline records; a live capture
 * makes them from what it reads, this file makes the same records from an
 * archive: its members in tar order, merged with its manifest (read by a
 * second reader that starts at the manifest's zstd frame, so nothing is
 * spooled), and handed to the builder's thread in batches.  The result is
 * the index the capture built, row for row.
 *
 * The merge is also the archive's verification: a member whose bytes do not
 * match the manifest's XXH3 is marked `mismatch`; a manifest line with no
 * member `missing`; a member the manifest does not list `unlisted`
 * (files.damage).  Hardlinked members carry no bytes of their own: their
 * hash and offset are the target's (remembered, bounded), their content for
 * the parsed tables comes from a bounded cache or a seek into the archive.
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
#include <xxhash.h>

int ps_sql_err(struct ps_err *err, sqlite3 *db, const char *what)
{
	return ps_err_set(err, EIO, "sqlite: %s: %s", what,
			  db ? sqlite3_errmsg(db) : "no database");
}

int ps_schema_apply(sqlite3 *db, int post_load, struct ps_err *err)
{
	for (const struct ps_sql_file *f = ps_schema_files; f->name; f++) {
		if (!ps_schema_file_runs(f->name, post_load))
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

#define BATCH_BYTES  (1u << 20)
#define BATCH_CAP    (BATCH_BYTES + 64 * 1024) /* a batch's buffer (the pool keeps these) */
/* The first batches are small, so the builder starts at once (a first
 * batch of 1 MiB kept it idle for the merge's first ~40 ms at N=2,000). */
#define BATCH_FIRST (64u << 10)
#define LINE_MAX_LEN (1u << 20) /* a manifest line: an escaped path and five fields */
#define WINDOW_BYTES (8u << 20) /* manifest lines read ahead to resynchronise */
/* Hardlink targets remembered: what the writer's dedup table can hold
 * (store/writer.c DEDUP_MAX, DEDUP_MIN): the first 2^17 regular members of
 * at least 64 bytes that were not spilled and not themselves hardlinks.
 * Remembering exactly those (no more: the small ones would crowd out the
 * later targets of a large capture) resolves every hardlink of a procsnap
 * archive in 2^17 entries (~8 MiB). */
#define TARGETS_MAX (1u << 17)
#define TARGET_MIN  PS_DEDUP_MIN
/* the largest content a writer deduplicated: capture spilled (and so never
 * hardlinked) content over 4 MiB until it spilled over 1 MiB */
#define TARGET_MAX   ((size_t)4 << 20)
#define MAN_SCAN_MAX 4096 /* frames examined, from the end, for the manifest */

/* ---- content cache for hardlinked members the tables want ------------------------ */

/*
 * The parsed tables need the bytes of a hardlink (an environ shared by a
 * hundred workers...), which the tar stream holds only under the first
 * path.  Members the tables want are kept here, bounded in bytes, CLOCK
 * eviction (popular content stays); a miss seeks into the archive.  4 MiB:
 * at N=2,000 and 10,000 the rebuild took as long as with 8 (0.82-0.87 s,
 * 4.0-4.1 s), and its peak RSS at 10,000 stays under DESIGN's 64 MiB.
 */
#define CACHE_BYTES (4u << 20)
#define CACHE_SLOTS 8192
/* Content is cached as it goes by only up to this size; larger content
 * only once a hardlink has had to read it from the archive.  The targets
 * of hardlinks are small (status, environ, mountinfo: a few KiB); what the
 * tables want that is large (smaps, 53 of the 85 MB the cache copied at
 * N=2,000, pagemap.sections, maps) is almost never one, and copying it
 * cost the merge ~0.1 s of its ~0.65 s. */
#define CACHE_EAGER_MAX ((size_t)16 << 10)

struct cache_ent {
	char *path;
	char *data;
	size_t len;
	int ref;
};

struct content_cache {
	struct cache_ent ring[CACHE_SLOTS];
	size_t head, count, bytes;
	struct ps_hmap idx; /* XXH3 of the path -> ring slot */
};

static uint64_t path_key(const char *p)
{
	return XXH3_64bits(p, strlen(p));
}

static void cache_drop_oldest(struct content_cache *c)
{
	struct cache_ent *e = &c->ring[c->head];
	ps_hmap_del(&c->idx, path_key(e->path), c->head);
	c->bytes -= e->len;
	free(e->path);
	free(e->data);
	e->path = e->data = NULL;
	c->head = (c->head + 1) % CACHE_SLOTS;
	c->count--;
}

static void cache_evict_one(struct content_cache *c)
{
	for (;;) {
		struct cache_ent *e = &c->ring[c->head];
		if (!e->ref) {
			cache_drop_oldest(c);
			return;
		}
		/* second chance: move it to the tail */
		e->ref = 0;
		size_t tail = (c->head + c->count) % CACHE_SLOTS;
		if (tail != c->head) {
			uint64_t k = path_key(e->path);
			ps_hmap_del(&c->idx, k, c->head);
			c->ring[tail] = *e;
			e->path = e->data = NULL;
			e->len = 0;
			ps_hmap_put(&c->idx, k, tail);
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
	ps_hmap_put(&c->idx, path_key(path), slot);
}

static const struct cache_ent *cache_get(struct content_cache *c, const char *path)
{
	size_t it = 0;
	uint64_t slot;
	while (ps_hmap_next(&c->idx, path_key(path), &it, &slot)) {
		struct cache_ent *e = &c->ring[slot];
		if (strcmp(e->path, path) == 0) {
			e->ref = 1;
			return e;
		}
	}
	return NULL;
}

static void cache_free(struct content_cache *c)
{
	if (!c)
		return;
	while (c->count)
		cache_drop_oldest(c);
	ps_hmap_release(&c->idx);
	free(c);
}

/* ---- the rebuild ---------------------------------------------------------------- */

/* A regular member that a later hardlink may name. */
struct target {
	unsigned char h[16];
	uint64_t data_off, size;
};

/* A manifest line read ahead, parsed. */
struct mline {
	size_t path_off; /* unescaped path in rb->win */
	struct ps_manifest_line ml;
};

struct rebuild {
	const char *archive;
	struct ps_reader *r;  /* members, from the start */
	struct ps_reader *mr; /* the manifest (NULL: none found) */
	int have_man;	      /* mr is positioned in the manifest's data */
	struct ps_ibuild *ib;
	struct ps_pool pool;
	struct ps_buf batch;
	size_t batch_limit; /* handed over at this size: BATCH_FIRST, doubling to BATCH_BYTES */
	/* manifest lines: the stream, and a window of lines read ahead */
	const char *chunk;
	size_t chunk_len, chunk_pos;
	int man_eof;
	struct ps_buf line, pathbuf;
	struct ps_buf win; /* unescaped paths of the window's lines, NUL-terminated */
	struct mline *wl;
	size_t wn, wcap, whead;
	/* the member stream */
	struct ps_rmember m;
	int have_m, members_done;
	/* hardlinks */
	struct ps_hmap targets; /* XXH3 of the path -> index into tents */
	struct target *tents;
	size_t ntents, captents;
	struct content_cache *cache;
	struct ps_buf linkdata;
	uint64_t damaged;
	/* salvage: damage met since the last member that matched its manifest
	 * line (the lines in between were lost with it, not missing) */
	int after_damage;
	uint64_t stretches; /* damaged stretches the reader reported */
	struct ps_buf first_damage;
	const struct ps_reader_opts *ro;
	char *spill_dir; /* the index's directory: large content goes to a temporary file there */
};

/* Content over PS_SPILL_MIN for the builder: in an unlinked temporary file
 * beside the index, as capture hands it (the batch stays small, the
 * builder parses it in pieces).  The fd, or -1 with err. */
static int spill_open(struct rebuild *rb)
{
	int fd = open(rb->spill_dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0) {
		struct ps_buf t = PS_BUF_INIT;
		ps_buf_addf(&t, "%s/.procsnap-spill-XXXXXX", rb->spill_dir);
		fd = mkostemp(t.buf, O_CLOEXEC);
		if (fd >= 0)
			unlink(t.buf);
		ps_buf_release(&t);
	}
	return fd;
}

static int spill_fail(struct rebuild *rb, int fd, const char *path, int e, struct ps_err *err)
{
	if (fd >= 0)
		close(fd);
	return ps_err_set(err, e, "%s: cannot spill %s to %s: %s", rb->archive, path, rb->spill_dir,
			  strerror(e));
}

static int spill(struct rebuild *rb, const char *path, const void *data, size_t len,
		 struct ps_err *err)
{
	int fd = spill_open(rb);
	int e = fd < 0 ? errno : ps_write_all(fd, data, len);
	return e ? spill_fail(rb, fd, path, e, err) : fd;
}

static int put_fd(void *ctx, const void *p, size_t n)
{
	return ps_write_all(*(const int *)ctx, p, n);
}

/* A member the reader did not hold (larger than a batch) that the tables
 * parse: its bytes, read again from the archive a piece at a time, go to a
 * spill file, as capture hands them over (a 60k-mapping smaps is tens of
 * MB).  They must be the bytes the reader hashed. */
static int spill_fetch(struct rebuild *rb, const struct ps_rmember *m, struct ps_err *err)
{
	int fd = spill_open(rb);
	if (fd < 0)
		return spill_fail(rb, fd, m->path, errno, err);
	unsigned char h[16];
	int e = ps_fetch_pieces(ps_reader_fetcher(rb->r), m->data_off, m->len, BATCH_BYTES,
				&rb->linkdata, put_fd, &fd, h, err);
	int rc = e < 0 ? -1 : 0;
	if (e > 0)
		rc = spill_fail(rb, -1, m->path, e, err);
	else if (e == 0 && memcmp(h, m->xxh3, 16) != 0)
		rc = ps_err_set(err, EIO, "%s: %s changed while it was read", rb->archive, m->path);
	if (rb->linkdata.cap > 2 * (size_t)BATCH_BYTES)
		ps_buf_release(&rb->linkdata);
	if (rc < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Append one record to the batch (handing it to the builder when full). */
static int emit(struct rebuild *rb, const struct ps_wrec *r0, const char *path, const char *target,
		const void *data, struct ps_err *err)
{
	struct ps_wrec r = *r0;
	r.path_len = (uint32_t)strlen(path);
	r.target_len = target ? (uint32_t)strlen(target) : 0;
	r.has_target = target != NULL;
	size_t total = PS_WREC_SIZE((size_t)r.path_len, (size_t)r.target_len, (size_t)r.data_len);
	/* A record that does not fit goes into the next batch: batches keep
	 * their size (one record larger than a batch has one of its own). */
	if (rb->batch.len && rb->batch.len + total > BATCH_CAP) {
		if (ps_ibuild_submit(rb->ib, ps_chunk_from(&rb->batch), err) < 0)
			return -1;
		ps_pool_get(&rb->pool, &rb->batch, BATCH_CAP);
	}
	ps_buf_grow(&rb->batch, total);
	char *p = rb->batch.buf + rb->batch.len, *end = p + total;
	memcpy(p, &r, sizeof(r));
	p += sizeof(r);
	memcpy(p, path, r.path_len);
	p += r.path_len;
	*p++ = '\0';
	if (r.target_len)
		memcpy(p, target, r.target_len);
	p += r.target_len;
	*p++ = '\0';
	if (r.data_len)
		memcpy(p, data, (size_t)r.data_len);
	p += r.data_len;
	memset(p, 0, (size_t)(end - p)); /* the padding: batches hold no stale bytes */
	rb->batch.len += total;
	if (r.damage)
		rb->damaged++;
	if (rb->batch.len >= rb->batch_limit) {
		if (ps_ibuild_submit(rb->ib, ps_chunk_from(&rb->batch), err) < 0)
			return -1;
		ps_pool_get(&rb->pool, &rb->batch, BATCH_CAP);
		if (rb->batch_limit < BATCH_BYTES)
			rb->batch_limit *= 2;
	}
	return 0;
}

/* Next member (skipping nothing); sets members_done at the manifest or the
 * end.  0 or -1. */
static int next_member(struct rebuild *rb, struct ps_err *err)
{
	rb->have_m = 0;
	if (rb->members_done)
		return 0;
	int st;
	while ((st = ps_reader_next(rb->r, &rb->m, err)) == PS_READER_DAMAGED) {
		/* Salvage: what the damaged stretch held is lost; reading goes
		 * on after it.  The manifest lines up to the next member found
		 * are marked lost (merge). */
		const struct ps_rdamage *d = ps_reader_damage(rb->r);
		if (!rb->stretches++)
			ps_buf_adds(&rb->first_damage, d->msg ? d->msg : "damaged");
		rb->after_damage = 1;
	}
	if (st < 0)
		return -1;
	if (st == 0 || strcmp(rb->m.path, PS_MANIFEST_PATH) == 0) {
		rb->members_done = 1;
		return 0;
	}
	rb->have_m = 1;
	return 0;
}

/* Next raw manifest line from the manifest stream into rb->line; 1, 0 at
 * the end, -1. */
static int read_line(struct rebuild *rb, struct ps_err *err)
{
	ps_buf_reset(&rb->line);
	for (;;) {
		if (rb->chunk_pos == rb->chunk_len) {
			/* a line cut by a damaged stretch is dropped (its members
			 * are unlisted); one cut by the member's own end is not a
			 * manifest procsnap writes */
			if (rb->man_eof)
				return rb->line.len && !ps_reader_stream_cut(rb->mr)
					   ? ps_err_set(err, EINVAL, "%s: truncated manifest",
							rb->archive)
					   : 0;
			const void *p;
			size_t n;
			int st = ps_reader_stream(rb->mr, &p, &n, err);
			if (st < 0)
				return -1;
			if (st == 0) {
				rb->man_eof = 1;
				continue;
			}
			rb->chunk = p;
			rb->chunk_len = n;
			rb->chunk_pos = 0;
		}
		const char *s = rb->chunk + rb->chunk_pos;
		size_t avail = rb->chunk_len - rb->chunk_pos;
		const char *nl = memchr(s, '\n', avail);
		size_t take = nl ? (size_t)(nl - s) : avail;
		if (rb->line.len + take > LINE_MAX_LEN)
			return ps_err_set(err, EINVAL, "%s: corrupt manifest: a line over %u bytes",
					  rb->archive, LINE_MAX_LEN);
		ps_buf_add(&rb->line, s, take);
		rb->chunk_pos += take + (nl != NULL);
		if (nl)
			return 1;
	}
}

/* Read one more manifest line into the window; 1, 0 at the end, -1. */
static int window_fill(struct rebuild *rb, struct ps_err *err)
{
	if (!rb->have_man)
		return 0;
	int st = read_line(rb, err);
	if (st <= 0)
		return st;
	if (rb->whead == rb->wn) { /* empty window: reuse its memory */
		rb->whead = rb->wn = 0;
		ps_buf_reset(&rb->win);
	}
	PS_XGROW(rb->wl, rb->wn, rb->wcap, 64);
	struct mline *l = &rb->wl[rb->wn];
	if (ps_manifest_parse_line(rb->line.buf, rb->line.len, &rb->pathbuf, &l->ml) < 0)
		return ps_err_set(err, EINVAL, "%s: corrupt manifest line: %.80s", rb->archive,
				  rb->line.buf);
	l->path_off = rb->win.len;
	ps_buf_add(&rb->win, rb->pathbuf.buf, rb->pathbuf.len + 1);
	rb->wn++;
	return 1;
}

static const char *wpath(const struct rebuild *rb, size_t i)
{
	return rb->win.buf + rb->wl[i].path_off;
}

/* The record of a manifest line with no member to go with it. */
static int emit_line(struct rebuild *rb, const struct mline *l, const char *path, unsigned damage,
		     struct ps_err *err)
{
	struct ps_wrec r = {0};
	r.kind = l->ml.kind;
	r.size = l->ml.size;
	r.read_ns = l->ml.read_ns;
	r.err = l->ml.err;
	r.has_hash = l->ml.has_hash;
	memcpy(r.xxh3, l->ml.xxh3, 16);
	r.data_off = UINT64_MAX; /* no bytes in the archive */
	r.damage = l->ml.kind == PS_M_ABSENT ? PS_DAMAGE_NONE : damage;
	return emit(rb, &r, path, NULL, NULL, err);
}

/* The member's content, its hash and offset (a hardlink: its target's).
 * *data is NULL when the bytes are not at hand (then *len is the size). */
static int member_content(struct rebuild *rb, const struct ps_rmember *m, int want,
			  const void **data, size_t *len, unsigned char h[16], uint64_t *off,
			  int *known, struct ps_err *err)
{
	*known = 1;
	if (m->kind == PS_M_LINK) {
		*data = NULL;
		*len = m->target ? strlen(m->target) : 0;
		memcpy(h, m->xxh3, 16);
		*off = 0;
		return 0;
	}
	if (!m->hardlink) {
		*data = m->data;
		*len = m->len;
		memcpy(h, m->xxh3, 16);
		*off = m->data_off;
		if (m->len >= TARGET_MIN && m->len <= TARGET_MAX && rb->ntents < TARGETS_MAX &&
		    ps_hmap_put(&rb->targets, path_key(m->path), rb->ntents) == 0) {
			if (rb->ntents == rb->captents) {
				rb->captents = rb->captents ? rb->captents * 2 : 1024;
				rb->tents =
				    ps_xrealloc(rb->tents, rb->captents * sizeof(*rb->tents));
			}
			struct target *t = &rb->tents[rb->ntents++];
			memcpy(t->h, m->xxh3, 16);
			t->data_off = m->data_off;
			t->size = m->len;
		}
		/* what the writer may have made a hardlink target (ps_dedup) */
		if (want && m->data && m->len >= TARGET_MIN && m->len <= CACHE_EAGER_MAX)
			cache_put(rb->cache, m->path, m->data, m->len);
		return 0;
	}
	/* A hardlink: what the target had. */
	uint64_t i;
	if (!ps_hmap_get(&rb->targets, path_key(m->hardlink), &i)) {
		*known = 0; /* not a target we remembered: cannot be checked */
		*data = NULL;
		*len = 0;
		*off = UINT64_MAX;
		return 0;
	}
	const struct target *t = &rb->tents[i];
	memcpy(h, t->h, 16);
	*off = t->data_off;
	*len = (size_t)t->size;
	*data = NULL;
	if (!want)
		return 0;
	const struct cache_ent *e = cache_get(rb->cache, m->hardlink);
	if (e) {
		*data = e->data;
		*len = e->len;
		return 0;
	}
	if (ps_reader_fetch(rb->r, t->data_off, t->size, &rb->linkdata, err) < 0)
		return -1;
	/* the next hardlink to it finds it here */
	cache_put(rb->cache, m->hardlink, rb->linkdata.buf, rb->linkdata.len);
	*data = rb->linkdata.buf;
	*len = rb->linkdata.len;
	return 0;
}

/* procsnap's own records: carried whole to the builder, damaged or not */
static int own_record(const char *path)
{
	return strncmp(path, "procsnap/", 9) == 0;
}

/* What the reader holds however large (up to PS_MEMBER_MAX): procsnap's
 * own records, parsed from memory (crossview.json by SQLite), but
 * hashes.tsv.  Any other member larger than a batch is hashed as it goes
 * by, and read again from the archive if the tables parse it. */
static int held(const char *path)
{
	return own_record(path) && strcmp(path, PS_HASHES_PATH) != 0;
}

/* A member with its manifest line (l) or without one (unlisted). */
static int emit_member(struct rebuild *rb, const struct mline *l, struct ps_err *err)
{
	const struct ps_rmember *m = &rb->m;
	/* The builder reads meta.json, summary.json and processes.tsv, the
	 * tables what they parse: only that content is carried. */
	int own = own_record(m->path);
	int want = m->kind == PS_M_FILE && (own || ps_tables_wants(m->path));
	const void *data;
	size_t len;
	unsigned char h[16];
	uint64_t off;
	int known;
	if (member_content(rb, m, want, &data, &len, h, &off, &known, err) < 0)
		return -1;
	struct ps_wrec r = {0};
	r.kind = m->kind;
	r.mode = m->mode;
	/* A pax hardlink header carries no file type; the capture's lstat did. */
	if (!(r.mode & S_IFMT))
		r.mode |= m->kind == PS_M_LINK ? S_IFLNK : m->kind == PS_M_DIR ? S_IFDIR : S_IFREG;
	r.uid = m->uid;
	r.gid = m->gid;
	r.mtime = m->mtime;
	r.data_off = m->kind == PS_M_FILE ? off : 0;
	if (m->kind != PS_M_DIR) {
		r.size = len;
		r.has_hash = known;
		memcpy(r.xxh3, h, 16);
	}
	/* short content too: the builder tells such contents apart by their
	 * bytes (ibuild.c content_disc), as capture's builder does */
	if ((want || len < PS_DEDUP_MIN) && data)
		r.data_len = len;
	if (!l) {
		r.damage = PS_DAMAGE_UNLISTED;
	} else {
		const struct ps_manifest_line *ml = &l->ml;
		r.read_ns = ml->read_ns;
		r.err = ml->err;
		/* The manifest is the record of what was read: its hash is what
		 * the bytes must match (cat checks them against it). */
		int bad = ml->kind != m->kind || (m->kind != PS_M_DIR && ml->size != r.size) ||
			  (ml->has_hash && (!known || memcmp(ml->xxh3, h, 16) != 0)) ||
			  (!ml->has_hash && m->kind != PS_M_DIR);
		if (bad)
			/* a hardlink to content lost in a damaged stretch is lost too */
			r.damage = m->hardlink && !known && rb->stretches ? PS_DAMAGE_LOST
									  : PS_DAMAGE_MISMATCH;
		r.kind = ml->kind == PS_M_ABSENT ? m->kind : ml->kind;
		if (m->kind != PS_M_DIR) {
			r.size = ml->size;
			r.has_hash = ml->has_hash;
			memcpy(r.xxh3, ml->xxh3, 16);
		}
		/* Do not parse bytes that are not what was read; the snapshot's
		 * own records are kept (the builder reads them defensively). */
		if (bad && r.data_len && !own) {
			data = NULL;
			r.data_len = 0;
		}
	}
	/* procsnap's own records are read whole, but hashes.tsv (a row per
	 * body, 5 MB at N=10,000), parsed in pieces as in capture; content
	 * the reader did not hold is read again, into the spill file (one of
	 * procsnap's own even when damaged, as above) */
	if (want && !data && m->unloaded && !m->hardlink && (r.damage == PS_DAMAGE_NONE || own) &&
	    m->data_off != PS_OFF_UNKNOWN) {
		int fd = spill_fetch(rb, m, err);
		if (fd < 0)
			return -1;
		r.spilled = 1;
		r.spill_fd = fd;
		r.data_len = 0;
	} else if (r.data_len > PS_SPILL_MIN && !held(m->path)) {
		int fd = spill(rb, m->path, data, (size_t)r.data_len, err);
		if (fd < 0)
			return -1;
		r.spilled = 1;
		r.spill_fd = fd;
		r.data_len = 0;
	}
	return emit(rb, &r, m->path, m->kind == PS_M_LINK ? m->target : NULL,
		    r.data_len ? data : NULL, err);
}

/* Merge the member stream with the manifest, in manifest order. */
static int merge(struct rebuild *rb, struct ps_err *err)
{
	if (next_member(rb, err) < 0)
		return -1;
	for (;;) {
		if (rb->whead == rb->wn) {
			int st = window_fill(rb, err);
			if (st < 0)
				return -1;
			if (st == 0)
				break;
		}
		const struct mline *l = &rb->wl[rb->whead];
		const char *lp = wpath(rb, rb->whead);
		if (l->ml.kind == PS_M_ABSENT || !rb->have_m) {
			if (emit_line(rb, l, lp,
				      rb->after_damage ? PS_DAMAGE_LOST : PS_DAMAGE_MISSING,
				      err) < 0)
				return -1;
			rb->whead++;
			continue;
		}
		if (strcmp(lp, rb->m.path) == 0) {
			rb->after_damage = 0;
			if (emit_member(rb, l, err) < 0 || next_member(rb, err) < 0)
				return -1;
			rb->whead++;
			continue;
		}
		/* Out of step: is the member listed further on?  Then the lines
		 * before it have no member; else the member is not listed. */
		size_t k = rb->whead + 1;
		int found = 0;
		for (;;) {
			if (k == rb->wn) {
				if (rb->win.len > WINDOW_BYTES)
					break;
				int st = window_fill(rb, err);
				if (st < 0)
					return -1;
				if (st == 0)
					break;
			}
			if (strcmp(wpath(rb, k), rb->m.path) == 0) {
				found = 1;
				break;
			}
			k++;
		}
		if (found) {
			for (; rb->whead < k; rb->whead++)
				if (emit_line(rb, &rb->wl[rb->whead], wpath(rb, rb->whead),
					      rb->after_damage ? PS_DAMAGE_LOST : PS_DAMAGE_MISSING,
					      err) < 0)
					return -1;
		} else if (emit_member(rb, NULL, err) < 0 || next_member(rb, err) < 0) {
			return -1;
		}
	}
	while (rb->have_m)
		if (emit_member(rb, NULL, err) < 0 || next_member(rb, err) < 0)
			return -1;
	return 0;
}

/* ---- finding the manifest ---------------------------------------------------------- */

/* Does this tar block start the manifest member (a ustar header named
 * procsnap/manifest.tsv, with the name split into prefix/name or not)? */
static int is_manifest_header(const unsigned char *blk)
{
	if (memcmp(blk + 257, "ustar", 5) != 0 || (blk[156] != '0' && blk[156] != '\0'))
		return 0;
	char name[101], prefix[156];
	memcpy(name, blk, 100);
	name[100] = '\0';
	memcpy(prefix, blk + 345, 155);
	prefix[155] = '\0';
	if (prefix[0])
		return strcmp(prefix, "procsnap") == 0 && strcmp(name, "manifest.tsv") == 0;
	return strcmp(name, PS_MANIFEST_PATH) == 0;
}

/* Does frame f start with the manifest's header?  A pax extended header
 * may come first (up to two blocks).  Its compressed offset, else -1
 * (*failed set when it could not be read). */
static int64_t manifest_at(struct rebuild *rb, const struct ps_frame *f, struct ps_buf *out,
			   int *failed)
{
	struct ps_err e2;
	ps_buf_reset(out);
	if (ps_reader_fetch(rb->r, f->t_off, f->t_size < 1536 ? f->t_size : 1536, out, &e2) < 0) {
		*failed = 1;
		return -1;
	}
	for (size_t b = 0; b + 512 <= out->len; b += 512)
		if (is_manifest_header((const unsigned char *)out->buf + b))
			return (int64_t)f->c_off;
	return -1;
}

/* The compressed offset of the zstd frame where the manifest member starts
 * (the writer starts a frame there), found from the end through the seek
 * table (the reader's: none for a tar.zst without one, or a plain tar);
 * -1 if there is none.  The writer makes the manifest's header a frame of
 * its own, after which come its data's ~1 MiB frames (29 at N=2,000, 145
 * at N=10,000): the frames of at most 1,536 bytes are looked at first, so
 * that those are not decompressed for nothing (27 ms at N=2,000); then, for
 * an archive written otherwise, every frame from the end. */
static int64_t find_manifest_frame(struct rebuild *rb)
{
	struct ps_frame f;
	size_t n = 0;
	while (ps_reader_frame(rb->r, n, &f))
		n++;
	struct ps_buf out = PS_BUF_INIT;
	int64_t found = -1;
	for (int small = 1; small >= 0 && found < 0; small--) {
		int failed = 0;
		for (size_t k = 0, seen = 0; k < n && seen < MAN_SCAN_MAX && found < 0 && !failed;
		     k++) {
			if (!ps_reader_frame(rb->r, n - 1 - k, &f) || (small && f.t_size > 1536))
				continue;
			seen++;
			found = manifest_at(rb, &f, &out, &failed);
		}
	}
	ps_buf_release(&out);
	return found;
}

/* Position rb->mr in the manifest's data: from its own frame when the seek
 * table says where, else by reading the archive a second time.  No manifest
 * at all is not an error here (the members are then all unlisted). */
static int open_manifest(struct rebuild *rb, struct ps_err *err)
{
	int64_t at = find_manifest_frame(rb);
	struct ps_err e2 = {0, ""};
	if (at >= 0 && ps_reader_reopen(rb->r, (uint64_t)at, &rb->mr, &e2) == 0) {
		struct ps_rmember mm;
		if (ps_reader_next(rb->mr, &mm, &e2) == 1 && mm.streaming &&
		    strcmp(mm.path, PS_MANIFEST_PATH) == 0) {
			rb->have_man = 1;
			return 0;
		}
		ps_reader_close(rb->mr);
		rb->mr = NULL;
	}
	if (ps_reader_reopen(rb->r, 0, &rb->mr, err) < 0)
		return -1;
	struct ps_rmember mm;
	int st;
	while ((st = ps_reader_next(rb->mr, &mm, &e2)) == 1) {
		if (strcmp(mm.path, PS_MANIFEST_PATH) == 0 && mm.streaming) {
			rb->have_man = 1;
			return 0;
		}
	}
	return 0; /* the member stream will tell what is wrong, if anything */
}

/* The merge's memory (content cache, hardlink targets, manifest window),
 * given back once the merge is over or when the rebuild ends. */
static void merge_release(struct rebuild *rb)
{
	cache_free(rb->cache);
	rb->cache = NULL;
	ps_hmap_release(&rb->targets);
	free(rb->tents);
	rb->tents = NULL;
	rb->ntents = rb->captents = 0;
	free(rb->wl);
	rb->wl = NULL;
	rb->wn = rb->wcap = rb->whead = 0;
	ps_buf_release(&rb->win);
	ps_buf_release(&rb->linkdata);
}

static int rebuild_run(struct rebuild *rb, const char *db_path, int force, struct ps_err *err)
{
	struct ps_reader_opts ro = {.tmpdir = rb->ro ? rb->ro->tmpdir : NULL,
				    .salvage = 1,
				    .unload_over = BATCH_BYTES,
				    .no_sha256 = 1,
				    .keep = held};
	if (ps_reader_open_with(&rb->r, rb->archive, &ro, err) < 0 || open_manifest(rb, err) < 0)
		return -1;
	if (ps_ibuild_open(&rb->ib, db_path, force, &rb->pool, err) < 0)
		return -1;
	ps_pool_get(&rb->pool, &rb->batch, BATCH_CAP);
	if (merge(rb, err) < 0)
		return -1;
	/* What is left is the builder's: the merge's memory goes back first. */
	merge_release(rb);
	/* No manifest (cut off, or in a damaged stretch): every member read
	 * is in the index as unlisted; what failed to be read is not known. */
	if (!rb->have_man && !rb->stretches++)
		ps_buf_adds(&rb->first_damage, "no manifest (the archive is cut or damaged)");
	/* The manifest itself cut by damage (read by its own reader, which the
	 * member stream never reaches): its later lines are unknown, so the
	 * members they listed are unlisted.  A stretch of its own. */
	if (rb->have_man && rb->mr && ps_reader_stream_cut(rb->mr) && !rb->stretches++)
		ps_buf_adds(&rb->first_damage, "the manifest is cut by a damaged stretch");
	if (rb->batch.len && ps_ibuild_submit(rb->ib, ps_chunk_from(&rb->batch), err) < 0)
		return -1;

	const char *base = strrchr(rb->archive, '/');
	/* the seek table's frames, as the reader read it (none without one) */
	struct ps_frame f;
	size_t n = 0;
	while (ps_reader_frame(rb->r, n, &f))
		n++;
	uint32_t *c = ps_xmalloc((n ? n : 1) * sizeof(*c)),
		 *d = ps_xmalloc((n ? n : 1) * sizeof(*d));
	uint64_t tar = 0;
	for (size_t i = 0; i < n && ps_reader_frame(rb->r, i, &f); i++) {
		c[i] = (uint32_t)f.c_size;
		d[i] = (uint32_t)f.t_size;
		tar += f.t_size;
	}
	struct ps_ibuild_end ie = {
	    /* No archive_sha256: the SHA-256 of the file as it is now would
	     * vouch for nothing (verify would call any archive rebuilt this
	     * way a match).  Only a capture records one; verify --sha256
	     * compares with the one capture printed. */
	    .sha256 = NULL,
	    .archive_name = base ? base + 1 : rb->archive,
	    .archive_size = (int64_t)ps_reader_file_size(rb->r),
	    .tar_bytes = tar,
	    .csize = c,
	    .dsize = d,
	    .nframes = n,
	};
	int rc = ps_ibuild_finish(rb->ib, &ie, err);
	free(c);
	free(d);
	if (rc < 0)
		return ps_err_prefix(err, "%s", rb->archive);
	return ps_ibuild_publish(rb->ib, err);
}

int ps_index_build(const char *archive_path, const char *db_path, int force, struct ps_err *err)
{
	return ps_index_build_with(archive_path, db_path, force, NULL, err);
}

int ps_index_build_with(const char *archive_path, const char *db_path, int force,
			const struct ps_reader_opts *ro, struct ps_err *err)
{
	struct rebuild rb;
	memset(&rb, 0, sizeof(rb));
	rb.archive = archive_path;
	rb.ro = ro;
	const char *slash = strrchr(db_path, '/');
	rb.spill_dir = slash ? strndup(db_path, slash == db_path ? 1 : (size_t)(slash - db_path))
			     : strdup(".");
	if (!rb.spill_dir)
		return ps_err_set(err, ENOMEM, "out of memory");
	ps_buf_init(&rb.first_damage);
	ps_pool_init(&rb.pool, BATCH_CAP);
	ps_pool_keep(&rb.pool, PS_BQ_SLOTS + 2);
	rb.batch_limit = BATCH_FIRST;
	ps_buf_init(&rb.batch);
	ps_buf_init(&rb.line);
	ps_buf_init(&rb.pathbuf);
	ps_buf_init(&rb.win);
	ps_buf_init(&rb.linkdata);
	ps_hmap_init(&rb.targets, TARGETS_MAX);
	rb.cache = ps_xcalloc(1, sizeof(*rb.cache));
	ps_hmap_init(&rb.cache->idx, 0);

	int rc = rebuild_run(&rb, db_path, force, err);
	if (rc == 0 && (rb.damaged || rb.stretches)) {
		rc = 1;
		ps_err_set(err, EIO,
			   "%llu paths marked in files.damage; %llu damaged stretch%s%s%s",
			   (unsigned long long)rb.damaged, (unsigned long long)rb.stretches,
			   rb.stretches == 1 ? "" : "es", rb.stretches ? ", the first: " : "",
			   rb.first_damage.buf);
	}
	ps_buf_release(&rb.first_damage);
	ps_ibuild_free(rb.ib); /* joins its thread; removes the temporary file on failure */
	ps_reader_close(rb.r);
	ps_reader_close(rb.mr);
	merge_release(&rb);
	ps_buf_release(&rb.batch);
	ps_buf_release(&rb.line);
	ps_buf_release(&rb.pathbuf);
	ps_pool_destroy(&rb.pool);
	free(rb.spill_dir);
	return rc;
}
