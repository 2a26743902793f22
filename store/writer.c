/*
 * writer.c - the archive writer: pax tar (libarchive, format only) cut into
 * independent zstd frames by a compressor thread, a seekable-format trailer,
 * XXH3-128 per member, hardlinks for repeated content, the manifest last
 * (its lines compressed ahead into frames by spool.c, copied in as they are).
 *
 * Why libzstd directly: libarchive 3.6.2 (Debian 12) writes its zstd filter
 * as one frame, so nothing could seek.  We give libarchive a write callback
 * with blocking disabled, collect the tar bytes of whole members into a
 * chunk, and hand each ~1 MiB chunk to a thread that compresses it as one
 * frame and writes it out, hashing (SHA-256) the bytes it writes.
 *
 * Three threads: the caller's (reading /proc) only copies each member into
 * a batch; a formatter thread hashes, deduplicates, formats the tar headers
 * and writes the manifest lines; a
 * compressor thread compresses and writes frames.  Both queues hold a few
 * ~1 MiB items, so memory stays bounded.  A failure in either thread is
 * reported by the next ps_writer_add() or by ps_writer_finish().
 *
 * Two libarchive writers share the output: the restricted pax writer takes
 * the members a ustar header cannot hold (and the manifest, and ends the
 * archive); libarchive's ustar writer takes every other member, writing the
 * same header the pax writer would, without its clone of every entry.
 */
#include "store.h"
#include "store_int.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>
#include <zstd.h>

/* Members travel from the walk to the formatter and on to the index builder
 * in batches of about this size: the builder is the slowest stage, so its
 * queue and the formatter's stay full and memory is a dozen batches. */
#define BATCH_BYTES (256u << 10)
#define BATCH_CAP   (BATCH_BYTES + 64 * 1024) /* a batch's buffer: one member past the size */
/* Entries; the table is at most 3/4 full, so it stays at 131,072 slots of
 * 32 bytes (4 MiB) plus the first copies' paths (about 3 MiB). */
#define DEDUP_MAX   (3u << 15)
#define DEDUP_MIN   PS_DEDUP_MIN /* store_int.h */
#define SPILL_CHUNK (1u << 20)

struct dedup_ent {
	unsigned char h[16]; /* XXH3-128 keyed with dd_secret (not the manifest's) */
	uint64_t data_off;   /* tar offset of the first copy's data */
	uint32_t path_off;   /* into dedup_paths; 0 = empty slot (offset 0 is a NUL) */
	uint32_t used;
};

struct ps_writer {
	int out_fd;
	struct ps_writer_opts opts;
	struct archive *a;   /* pax (restricted): the members ustar cannot hold, the manifest */
	struct archive *u;   /* ustar: every other member (ustar_fits) */
	int u_closing;	     /* u's end-of-archive blocks are not ours to keep */
	struct ps_buf hpath; /* the member's path as the tar header holds it */
	/* tar side (main thread) */
	struct ps_buf cur;	     /* tar bytes not yet handed to the worker */
	uint64_t tar_off;	     /* total tar bytes produced */
	int aerr;		     /* callback saw a worker failure */
	struct archive_entry *entry; /* reused for every member */
	struct ps_pool pool;	     /* tar chunk buffers */
	struct ps_pool bpool;	     /* batch buffers (the index builder returns them here) */
	/* caller side */
	struct ps_buf batch; /* members not yet handed to the formatter */
	/* formatter thread */
	pthread_t fthread;
	int fthread_started;
	struct ps_bq fq;
	_Atomic int f_failed; /* set after f_err is written */
	struct ps_err f_err;
	/* compressor thread */
	pthread_t thread;
	int thread_started;
	struct ps_bq cq;
	_Atomic int w_errno; /* write failure in the compressor (set after w_msg) */
	char w_msg[256];
	ZSTD_CCtx *cctx;
	EVP_MD_CTX *sha;
	struct ps_frametab fr; /* the archive's frames (worker-owned until join) */
	uint64_t out_bytes;
	/* dedup */
	struct dedup_ent *dd;
	size_t dd_cap, dd_count;
	struct ps_buf dd_paths;
	struct ps_tail tail;			/* dedup over once it is reached (dedup_drop) */
	unsigned char dd_secret[PS_KEY_SECRET]; /* the dedup hash's key (store_int.h) */
	/* the manifest: its lines (formatter), in frames made ahead (spool.c) */
	struct ps_buf man_line;
	struct ps_spool man;
	uint64_t skip_left; /* tar bytes the callback drops: the manifest's, in man */
	struct ps_writer_stats st;
	int finished;
	struct ps_ibuild *ib; /* the index built alongside (opts.index_path) */
	char *spill_buf;      /* formatter: pieces of spilled members */
};

const char *ps_member_kind_name(enum ps_member_kind k)
{
	switch (k) {
	case PS_M_FILE:
		return "file";
	case PS_M_LINK:
		return "link";
	case PS_M_DIR:
		return "dir";
	case PS_M_ABSENT:
		return "absent";
	}
	return "?";
}

int ps_member_kind_parse(const char *s, size_t len)
{
	static const char *const names[] = {"file", "link", "dir", "absent"};
	for (int i = 0; i < 4; i++)
		if (strlen(names[i]) == len && memcmp(names[i], s, len) == 0)
			return i;
	return -1;
}

/* ---- compressor thread ------------------------------------------------- */

static int worker_write(struct ps_writer *w, const void *p, size_t n)
{
	int e = ps_write_all(w->out_fd, p, n);
	if (e)
		return e;
	EVP_DigestUpdate(w->sha, p, n);
	w->out_bytes += n;
	return 0;
}

static void *worker_main(void *arg)
{
	pthread_setname_np(pthread_self(), "ps-zstd"); /* for perf and top */
	struct ps_writer *w = arg;
	void *dst = NULL;
	size_t dst_cap = 0;
	struct ps_chunk c;
	while (ps_bq_take(&w->cq, &c)) {
		if (!w->w_errno && c.plain) {
			/* a frame made ahead: copied as it is */
			int e = worker_write(w, c.data, c.len);
			if (e) {
				snprintf(w->w_msg, sizeof(w->w_msg), "write: %s", strerror(e));
				w->w_errno = e;
			} else {
				ps_frametab_push(&w->fr, c.len, c.plain);
			}
		} else if (!w->w_errno) {
			size_t bound = ZSTD_compressBound(c.len);
			if (bound > dst_cap) {
				free(dst);
				dst_cap = bound;
				dst = ps_xmalloc(dst_cap);
			}
			size_t n = ZSTD_compress2(w->cctx, dst, dst_cap, c.data, c.len);
			int e = 0;
			if (ZSTD_isError(n)) {
				snprintf(w->w_msg, sizeof(w->w_msg), "zstd: %s",
					 ZSTD_getErrorName(n));
				e = EIO;
			} else if (n > UINT32_MAX || c.len > UINT32_MAX) {
				snprintf(w->w_msg, sizeof(w->w_msg), "frame too large");
				e = EFBIG;
			} else if ((e = worker_write(w, dst, n)) != 0) {
				snprintf(w->w_msg, sizeof(w->w_msg), "write: %s", strerror(e));
			} else {
				ps_frametab_push(&w->fr, n, c.len);
			}
			if (e)
				w->w_errno = e;
		}
		ps_pool_put(&w->pool, c);
		ps_bq_handled(&w->cq);
	}
	free(dst);
	return NULL;
}

/* Hand the current tar chunk to the compressor (blocks while its queue is
 * full).  -1 once the compressor has failed. */
static int submit_chunk(struct ps_writer *w)
{
	if (w->cur.len == 0)
		return w->w_errno ? -1 : 0;
	ps_bq_put(&w->cq, ps_chunk_from(&w->cur));
	ps_pool_get(&w->pool, &w->cur, w->opts.frame_size + 64 * 1024);
	return w->w_errno ? -1 : 0;
}

/* Append tar bytes to the current chunk.  A large member (a 60k-mapping
 * smaps, kallsyms, the manifest) spans frames: a chunk is handed over when
 * it is full, so chunk buffers keep their pooled size instead of growing
 * with the member (and leaving a fragmented heap behind).  0, or -1 once
 * the compressor has failed. */
static int tar_emit(struct ps_writer *w, const void *buf, size_t n)
{
	const char *p = buf;
	size_t left = n;
	if (w->w_errno)
		return -1;
	while (left) {
		size_t room = w->cur.cap > w->cur.len + 1 ? w->cur.cap - w->cur.len - 1 : 0;
		if (room == 0 && w->cur.len >= w->opts.frame_size) {
			if (submit_chunk(w) < 0)
				return -1;
			continue;
		}
		size_t take = room && room < left ? room : left;
		ps_buf_add(&w->cur, p, take);
		p += take;
		left -= take;
	}
	w->tar_off += n;
	return 0;
}

static la_ssize_t tar_write_cb(struct archive *a, void *ctx, const void *buf, size_t n)
{
	(void)a;
	struct ps_writer *w = ctx;
	/* A failure is reported through w->aerr, which every caller checks,
	 * and the bytes are taken: a callback error puts libarchive in its
	 * fatal state, where archive_write_free skips the close that frees
	 * its output state (LeakSanitizer: a full disk leaked 33 bytes). */
	const char *p = buf;
	size_t k = 0;
	if (w->skip_left) { /* the manifest's data: already in frames (write_manifest) */
		k = n < w->skip_left ? n : (size_t)w->skip_left;
		w->skip_left -= k;
		w->tar_off += k;
	}
	if (!w->aerr && n > k && tar_emit(w, p + k, n - k) < 0)
		w->aerr = 1;
	return (la_ssize_t)n;
}

/* The ustar writer's output: the same stream, except its end-of-archive
 * blocks (the pax writer ends the archive, after the manifest). */
static la_ssize_t tar_write_cb_u(struct archive *a, void *ctx, const void *buf, size_t n)
{
	struct ps_writer *w = ctx;
	return w->u_closing ? (la_ssize_t)n : tar_write_cb(a, ctx, buf, n);
}

static struct archive *tar_writer(struct ps_writer *w, int ustar)
{
	struct archive *a = archive_write_new();
	if (a &&
	    (ustar ? archive_write_set_format_ustar(a)
		   : archive_write_set_format_pax_restricted(a)) == ARCHIVE_OK &&
	    archive_write_set_bytes_per_block(a, 0) == ARCHIVE_OK &&
	    archive_write_set_bytes_in_last_block(a, 1) == ARCHIVE_OK &&
	    archive_write_open2(a, w, NULL, ustar ? tar_write_cb_u : tar_write_cb, NULL, NULL) ==
		ARCHIVE_OK)
		return a;
	if (a)
		archive_write_free(a);
	return NULL;
}

/* ---- dedup ------------------------------------------------------------- */

static const struct dedup_ent *dedup_find(struct ps_writer *w, const unsigned char h[16])
{
	if (!w->dd_cap)
		return NULL;
	size_t mask = w->dd_cap - 1, i;
	memcpy(&i, h, sizeof(i));
	for (i &= mask; w->dd[i].used; i = (i + 1) & mask)
		if (memcmp(w->dd[i].h, h, 16) == 0)
			return &w->dd[i];
	return NULL;
}

/*
 * procsnap's own last members (crossview.json, processes.tsv, hashes.tsv)
 * repeat no earlier content, and the index builder's largest moment comes
 * with them: the dedup table (up to 7 MiB with its paths) is freed when
 * the first of them follows the processes, and nothing is deduplicated
 * from there on (so no hardlink can point before that member).
 */
static void dedup_drop(struct ps_writer *w)
{
	free(w->dd);
	w->dd = NULL;
	w->dd_cap = w->dd_count = 0;
	ps_buf_release(&w->dd_paths);
}

static void dedup_add(struct ps_writer *w, const unsigned char h[16], const char *path,
		      uint64_t data_off)
{
	if (w->dd_count >= DEDUP_MAX || w->dd_paths.len > UINT32_MAX - 4096)
		return; /* bounded: later repeats are stored again, still correct */
	if ((w->dd_count + 1) * 4 > w->dd_cap * 3) {
		size_t ncap = w->dd_cap ? w->dd_cap * 2 : 4096;
		struct dedup_ent *nd = ps_xcalloc(ncap, sizeof(*nd));
		for (size_t j = 0; j < w->dd_cap; j++) {
			if (!w->dd[j].used)
				continue;
			size_t i;
			memcpy(&i, w->dd[j].h, sizeof(i));
			for (i &= ncap - 1; nd[i].used; i = (i + 1) & (ncap - 1))
				;
			nd[i] = w->dd[j];
		}
		free(w->dd);
		w->dd = nd;
		w->dd_cap = ncap;
	}
	size_t mask = w->dd_cap - 1, i;
	memcpy(&i, h, sizeof(i));
	for (i &= mask; w->dd[i].used; i = (i + 1) & mask)
		;
	memcpy(w->dd[i].h, h, 16);
	w->dd[i].data_off = data_off;
	w->dd[i].path_off = (uint32_t)w->dd_paths.len;
	w->dd[i].used = 1;
	ps_buf_add(&w->dd_paths, path, strlen(path) + 1);
	w->dd_count++;
}

/* ---- public API -------------------------------------------------------- */

static void *formatter_main(void *arg);

int ps_writer_open(struct ps_writer **wp, int out_fd, const struct ps_writer_opts *opts,
		   struct ps_err *err)
{
	struct ps_writer *w = ps_xcalloc(1, sizeof(*w));
	w->man.spill_fd = -1; /* ps_writer_free before ps_spool_init: nothing to close */
	w->out_fd = out_fd;
	/* without the kernel's randomness, bytes from the clocks: hard to
	 * guess to the nanosecond, though not secret */
	(void)ps_random_bytes(w->dd_secret, sizeof(w->dd_secret));
	w->opts.level = 1;
	w->opts.frame_size = 1 << 20;
	w->opts.spill_dirfd = -1;
	if (opts) {
		if (opts->level)
			w->opts.level = opts->level;
		if (opts->frame_size)
			w->opts.frame_size = opts->frame_size;
		w->opts.spill_dirfd = opts->spill_dirfd;
		w->opts.archive_name = opts->archive_name;
	}
	ps_buf_init(&w->cur);
	ps_buf_init(&w->dd_paths);
	ps_buf_init(&w->man_line);
	ps_buf_init(&w->batch);
	ps_buf_init(&w->hpath);
	ps_buf_grow(&w->cur, w->opts.frame_size + 64 * 1024);
	ps_buf_grow(&w->batch, BATCH_CAP);
	ps_bq_init(&w->fq);
	ps_bq_init(&w->cq);
	ps_pool_init(&w->pool, 2 * w->opts.frame_size + 128 * 1024);
	ps_pool_init(&w->bpool, 2 * BATCH_CAP);
	ps_pool_keep(&w->bpool, PS_BQ_SLOTS + 2);
	w->entry = archive_entry_new();

	w->cctx = ps_frame_cctx(w->opts.level);
	w->sha = EVP_MD_CTX_new();
	if (!w->cctx || !w->sha || !EVP_DigestInit_ex(w->sha, EVP_sha256(), NULL) ||
	    ps_spool_init(&w->man, w->opts.level, w->opts.frame_size, w->opts.spill_dirfd) != 0) {
		ps_writer_free(w);
		return ps_err_set(err, ENOMEM, "cannot set up zstd/sha256 contexts");
	}

	w->a = tar_writer(w, 0);
	w->u = tar_writer(w, 1);
	if (!w->a || !w->u) {
		ps_writer_free(w);
		return ps_err_set(err, EIO, "libarchive: cannot set up the tar writers");
	}
	if (opts && opts->index_path &&
	    ps_ibuild_open(&w->ib, opts->index_path, opts->index_force, &w->bpool, err) < 0) {
		ps_writer_free(w);
		return -1;
	}
	if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
		ps_writer_free(w);
		return ps_err_set(err, EAGAIN, "cannot start the compressor thread");
	}
	w->thread_started = 1;
	if (pthread_create(&w->fthread, NULL, formatter_main, w) != 0) {
		ps_writer_free(w);
		return ps_err_set(err, EAGAIN, "cannot start the formatter thread");
	}
	w->fthread_started = 1;
	*wp = w;
	return 0;
}

static int worker_error(struct ps_writer *w, struct ps_err *err)
{
	return ps_err_set(err, w->w_errno, "archive output: %s", w->w_msg);
}

/* Decimal digits of v appended to l (the manifest's sizes and times: a
 * printf per field was a sixth of the formatter). */
static void add_u64(struct ps_buf *l, uint64_t v)
{
	char d[20];
	int n = 0;
	do {
		d[sizeof(d) - 1 - n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	ps_buf_add(l, d + sizeof(d) - n, (size_t)n);
}

static void manifest_line(struct ps_writer *w, const struct ps_member *m, const unsigned char *h)
{
	struct ps_buf *l = &w->man_line;
	ps_buf_reset(l);
	ps_escape(l, m->path, strlen(m->path));
	ps_buf_addc(l, '\t');
	ps_buf_adds(l, ps_member_kind_name(m->kind));
	ps_buf_addc(l, '\t');
	uint64_t size = m->kind == PS_M_FILE		    ? m->len
			: m->kind == PS_M_LINK && m->target ? strlen(m->target)
							    : 0;
	add_u64(l, size);
	ps_buf_addc(l, '\t');
	if (h) {
		char hex[33];
		ps_hex(hex, h, 16);
		ps_buf_add(l, hex, 32);
	} else {
		ps_buf_addc(l, '-');
	}
	ps_buf_addc(l, '\t');
	add_u64(l, m->read_ns);
	ps_buf_addc(l, '\t');
	ps_buf_adds(l, ps_errno_name(m->err));
	ps_buf_addc(l, '\n');
}

/* The content of a spilled member, from its file to the archive in 1 MiB
 * pieces, hashed as it passes (its tar header is written: the size is
 * known).  A file that gives fewer bytes than announced is an error. */
static int stream_spill(struct ps_writer *w, struct archive *a, const struct ps_member *m,
			unsigned char h[16], struct ps_err *err)
{
	XXH3_state_t *x = XXH3_createState();
	if (!x)
		return ps_err_set(err, ENOMEM, "xxh3 state");
	XXH3_128bits_reset(x);
	if (!w->spill_buf)
		w->spill_buf = ps_xmalloc(SPILL_CHUNK);
	int rc = 0;
	for (uint64_t off = 0; rc == 0 && off < m->len;) {
		size_t want = m->len - off < SPILL_CHUNK ? (size_t)(m->len - off) : SPILL_CHUNK;
		ssize_t n = pread(m->spill_fd, w->spill_buf, want, (off_t)off);
		if (n <= 0) {
			rc = ps_err_set(err, n < 0 ? errno : EIO, "%s: spill file: %s", m->path,
					n < 0 ? strerror(errno) : "short");
			break;
		}
		XXH3_128bits_update(x, w->spill_buf, (size_t)n);
		la_ssize_t wn = archive_write_data(a, w->spill_buf, (size_t)n);
		if (wn < 0 || (size_t)wn != (size_t)n || w->aerr)
			rc = w->w_errno ? worker_error(w, err)
					: ps_err_set(err, EIO, "libarchive: %s: %s", m->path,
						     archive_error_string(a));
		off += (uint64_t)n;
	}
	ps_xxh3_128_digest(x, h);
	XXH3_freeState(x);
	return rc;
}

static int all_ascii(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] >= 0x80)
			return 0;
	return 1;
}

/*
 * Would libarchive's restricted pax writer give this member a bare ustar
 * header, with no extended header before it?  Then its ustar writer, given
 * the same entry, writes the same bytes, without the pax writer's clone of
 * every entry, its conversion of every name to UTF-8 and the frees (a third
 * of the formatter's time).  The conditions are those of libarchive's
 * archive_write_set_format_pax.c: an ASCII path of at most 100 bytes, or one
 * split at a '/' into at most 155 and 100; an ASCII link of at most 100;
 * uid and gid below 2^18; a size below 2^33; an mtime in [0, 2^31 - 1).
 * test_store's test_edge_members holds the archive, byte for byte, to the one
 * the pax writer alone writes.
 */
static int ustar_fits(const char *path, size_t plen, const char *link, uint32_t uid, uint32_t gid,
		      int64_t mtime, uint64_t size)
{
	if (!all_ascii(path, plen) || uid >= (1u << 18) || gid >= (1u << 18) || mtime < 0 ||
	    mtime >= 0x7fffffff || size >= ((uint64_t)1 << 33))
		return 0;
	if (link) {
		size_t ll = strlen(link);
		if (ll > 100 || !all_ascii(link, ll))
			return 0;
	}
	if (plen <= 100)
		return 1;
	const char *s = memchr(path + plen - 101, '/', 101);
	if (s == path)
		s = memchr(s + 1, '/', (size_t)(path + plen - s - 1));
	return s && s + 1 < path + plen && s - path <= 155;
}

/* One member through libarchive: header, data (from memory or its spill
 * file), padding; *data_off where its data starts in the tar.  The entry is
 * reused and every field set each time (clearing it freed its strings). */
static int write_archive(struct ps_writer *w, const struct ps_member *m, unsigned perm,
			 const char *hardlink, unsigned char h[16], uint64_t *data_off,
			 struct ps_err *err)
{
	struct archive_entry *e = w->entry;
	/* a directory's name ends with '/', as both writers would make it */
	struct ps_buf *hp = &w->hpath;
	ps_buf_reset(hp);
	ps_buf_adds(hp, m->path);
	if (m->kind == PS_M_DIR && hp->len && hp->buf[hp->len - 1] != '/')
		ps_buf_addc(hp, '/');
	archive_entry_copy_pathname(e, hp->buf);
	archive_entry_set_uid(e, m->uid);
	archive_entry_set_gid(e, m->gid);
	archive_entry_set_mtime(e, m->mtime, 0);
	archive_entry_set_perm(e, perm);
	const char *symlink = m->kind == PS_M_LINK ? (m->target ? m->target : "") : NULL;
	if (m->kind == PS_M_FILE && hardlink)
		archive_entry_copy_hardlink(e, hardlink);
	else
		archive_entry_copy_hardlink(e, NULL);
	archive_entry_copy_symlink(e, symlink);
	uint64_t size = m->kind == PS_M_FILE && !hardlink ? m->len : 0;
	archive_entry_set_size(e, (la_int64_t)size);
	archive_entry_set_filetype(e, m->kind == PS_M_FILE   ? AE_IFREG
				      : m->kind == PS_M_LINK ? AE_IFLNK
							     : AE_IFDIR);
	struct archive *a = ustar_fits(hp->buf, hp->len, hardlink ? hardlink : symlink, m->uid,
				       m->gid, m->mtime, size)
				? w->u
				: w->a;
	int r = archive_write_header(a, e);
	if (r < ARCHIVE_WARN || w->aerr)
		goto fail;
	/* Blocking is off: the header has reached tar_write_cb, so the
	 * data starts here. */
	*data_off = w->tar_off;
	if (m->kind == PS_M_FILE && !hardlink && m->spilled && stream_spill(w, a, m, h, err) < 0)
		return -1;
	if (size && !m->spilled) {
		la_ssize_t n = archive_write_data(a, m->data, m->len);
		if (n < 0 || (size_t)n != m->len || w->aerr)
			goto fail;
	}
	if (archive_write_finish_entry(a) < ARCHIVE_WARN || w->aerr)
		goto fail;
	return 0;
fail:
	if (w->w_errno)
		return worker_error(w, err);
	return ps_err_set(err, EIO, "libarchive: %s: %s", m->path, archive_error_string(a));
}

/* Hash, deduplicate, format and spool one member (formatter thread); the
 * record's annotation (hash, data offset) is filled in for the index. */
static int format_member(struct ps_writer *w, const struct ps_member *m, struct ps_wrec *ann,
			 struct ps_err *err)
{
	unsigned char h[16];
	const unsigned char *hp = NULL;
	const char *hardlink = NULL;
	uint64_t data_off = 0;

	if (w->w_errno)
		return worker_error(w, err);
	if (m->kind == PS_M_FILE && m->spilled) {
		hp = h; /* hashed below, as the bytes pass to the archive */
	} else if (m->kind == PS_M_FILE) {
		ps_xxh3_128(m->data, m->len, h);
		hp = h;
	} else if (m->kind == PS_M_LINK && m->target) {
		ps_xxh3_128(m->target, strlen(m->target), h);
		hp = h;
	}
	if (ps_tail_begins(&w->tail, m->path))
		dedup_drop(w);
	if (m->kind != PS_M_ABSENT) {
		/* Cut a frame at this member boundary once the chunk is big enough. */
		if (w->cur.len >= w->opts.frame_size && submit_chunk(w) < 0)
			return worker_error(w, err);
		const struct dedup_ent *dup = NULL;
		unsigned char dk[16]; /* the keyed hash that finds identical content */
		int dedup =
		    m->kind == PS_M_FILE && m->len >= DEDUP_MIN && !m->spilled && !w->tail.reached;
		if (dedup) {
			XXH128_canonicalFromHash((XXH128_canonical_t *)dk,
						 XXH3_128bits_withSecret(m->data, m->len,
									 w->dd_secret,
									 sizeof(w->dd_secret)));
			dup = dedup_find(w, dk);
			if (dup) {
				hardlink = w->dd_paths.buf + dup->path_off;
				data_off = dup->data_off;
			}
		}
		unsigned perm = m->mode & 07777;
		if (m->kind == PS_M_LINK && !perm)
			perm = 0777;
		else if (m->kind == PS_M_DIR && !perm)
			perm = 0555;
		uint64_t off = 0;
		if (write_archive(w, m, perm, hardlink, h, &off, err) < 0)
			return -1;
		if (m->kind == PS_M_FILE && !hardlink) {
			data_off = off;
			if (dedup)
				dedup_add(w, dk, m->path, data_off);
		}
		w->st.members++;
		if (hardlink)
			w->st.hardlinks++;
	}
	switch (m->kind) {
	case PS_M_FILE:
		w->st.files++;
		w->st.raw_bytes += m->len;
		break;
	case PS_M_LINK:
		w->st.links++;
		break;
	case PS_M_DIR:
		w->st.dirs++;
		break;
	case PS_M_ABSENT:
		w->st.absent++;
		break;
	}
	if (m->err)
		w->st.errors[m->err > 0 && m->err < 159 ? m->err : 159]++;
	manifest_line(w, m, hp);
	if (ann) {
		ann->has_hash = hp != NULL;
		if (hp)
			memcpy(ann->xxh3, hp, 16);
		ann->data_off = data_off;
	}
	int e = ps_spool_add(&w->man, w->man_line.buf, w->man_line.len);
	if (e)
		return ps_err_set(err, e, "manifest spool: %s", strerror(e));
	return 0;
}

static void *formatter_main(void *arg)
{
	pthread_setname_np(pthread_self(), "ps-format"); /* for perf and top */
	struct ps_writer *w = arg;
	struct ps_chunk c;
	while (ps_bq_take(&w->fq, &c)) {
		for (size_t off = 0; !w->f_failed && off < c.len;) {
			/* The annotation is written into the batch in place. */
			struct ps_wrec *r = (struct ps_wrec *)(void *)(c.data + off);
			const char *p = c.data + off + sizeof(*r);
			struct ps_member m = {
			    .path = p,
			    .kind = (enum ps_member_kind)r->kind,
			    .mode = r->mode,
			    .uid = r->uid,
			    .gid = r->gid,
			    .mtime = r->mtime,
			    .target = r->has_target ? p + r->path_len + 1 : NULL,
			    .data = p + r->path_len + 1 + r->target_len + 1,
			    .len = (size_t)r->data_len,
			    .err = r->err,
			    .read_ns = r->read_ns,
			    .spilled = r->spilled,
			    .spill_fd = r->spill_fd,
			};
			if (r->spilled)
				m.len = (size_t)r->size;
			if (format_member(w, &m, r, &w->f_err) < 0)
				w->f_failed = 1;
			/* Without an index the spill file's last reader is here. */
			if (r->spilled && (!w->ib || w->f_failed)) {
				close(r->spill_fd);
				r->spilled = 0;
			}
			off += PS_WREC_SIZE((size_t)r->path_len, (size_t)r->target_len,
					    (size_t)r->data_len);
		}
		/* The index builder takes the batch from here (its records
		 * carry the content the parsed tables need), else it is done. */
		if (w->ib && !w->f_failed) {
			if (ps_ibuild_submit(w->ib, c, &w->f_err) < 0)
				w->f_failed = 1;
		} else {
			ps_pool_put(&w->bpool, c);
		}
		ps_bq_handled(&w->fq);
	}
	return NULL;
}

static int formatter_error(struct ps_writer *w, struct ps_err *err)
{
	if (err)
		*err = w->f_err;
	return -1;
}

/* Hand the current batch to the formatter. */
static void submit_batch(struct ps_writer *w)
{
	if (w->batch.len == 0)
		return;
	ps_bq_put(&w->fq, ps_chunk_from(&w->batch));
	ps_pool_get(&w->bpool, &w->batch, BATCH_CAP);
}

/* Wait until the formatter has handled everything added so far. */
static void sync_formatter(struct ps_writer *w)
{
	submit_batch(w);
	ps_bq_drain(&w->fq);
}

int ps_writer_add(struct ps_writer *w, const struct ps_member *m, struct ps_err *err)
{
	int spilled = m->kind == PS_M_FILE && m->spilled;
	if (m->spilled && !spilled)
		close(m->spill_fd);
	if (w->finished || w->f_failed) {
		if (spilled)
			close(m->spill_fd);
		if (w->f_failed)
			return formatter_error(w, err);
		return ps_err_set(err, EINVAL, "writer already finished");
	}
	size_t pl = strlen(m->path), tl = m->target ? strlen(m->target) : 0;
	size_t dl = m->kind == PS_M_FILE && !spilled ? m->len : 0;
	if (pl > UINT32_MAX / 2 || tl > UINT32_MAX / 2) {
		if (spilled)
			close(m->spill_fd);
		return ps_err_set(err, ENAMETOOLONG, "%s: name too long", m->path);
	}
	struct ps_wrec r = {
	    .spilled = spilled,
	    .spill_fd = spilled ? m->spill_fd : -1,
	    .size = m->kind == PS_M_FILE ? m->len : tl,
	    .data_len = dl,
	    .read_ns = m->read_ns,
	    .mtime = m->mtime,
	    .path_len = (uint32_t)pl,
	    .target_len = (uint32_t)tl,
	    .kind = (uint32_t)m->kind,
	    .mode = m->mode,
	    .uid = m->uid,
	    .gid = m->gid,
	    .err = m->err,
	    .has_target = m->target != NULL,
	};
	size_t total = PS_WREC_SIZE(pl, tl, dl);
	ps_buf_grow(&w->batch, total);
	char *p = w->batch.buf + w->batch.len;
	memcpy(p, &r, sizeof(r));
	p += sizeof(r);
	memcpy(p, m->path, pl + 1);
	p += pl + 1;
	if (tl)
		memcpy(p, m->target, tl);
	p[tl] = '\0';
	p += tl + 1;
	if (dl)
		memcpy(p, m->data, dl);
	w->batch.len += total;
	if (w->batch.len >= BATCH_BYTES)
		submit_batch(w);
	return 0;
}

const struct ps_writer_stats *ps_writer_peek(struct ps_writer *w)
{
	sync_formatter(w);
	return &w->st;
}

/* Write the spooled manifest as the last member.  Its header is a frame of
 * its own, and its data the spool's frames, copied into the archive as
 * they are: libarchive is given the data's length in zeros, which the
 * callback drops (skip_left), so that the tar offsets and the entry's
 * padding stay libarchive's. */
static int write_manifest(struct ps_writer *w, struct ps_err *err)
{
	int se = ps_spool_end(&w->man);
	if (se)
		return ps_err_set(err, se, "manifest spool: %s", strerror(se));
	/* The manifest starts a frame of its own: `procsnap index` finds it
	 * there through the seek table and reads it beside the members. */
	if (w->cur.len && submit_chunk(w) < 0)
		return worker_error(w, err);
	struct archive_entry *e = archive_entry_new();
	archive_entry_copy_pathname(e, PS_MANIFEST_PATH);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0444);
	archive_entry_set_mtime(e, (time_t)(ps_real_ns() / 1000000000u), 0);
	archive_entry_set_size(e, (la_int64_t)w->man.len);
	int r = archive_write_header(w->a, e);
	archive_entry_free(e);
	if (r < ARCHIVE_WARN || w->aerr)
		return ps_err_set(err, EIO, "libarchive: manifest: %s", archive_error_string(w->a));
	if (submit_chunk(w) < 0)
		return worker_error(w, err);

	/* the data: the spool's frames, each through an ordinary chunk buffer
	 * (compressBound(frame_size) fits it), from and back to the pool */
	uint64_t plain = 0;
	for (;;) {
		struct ps_buf f = PS_BUF_INIT;
		ps_pool_get(&w->pool, &f, w->opts.frame_size + 64 * 1024);
		size_t d = 0;
		int nr = ps_spool_next(&w->man, &f, &d);
		if (nr <= 0) {
			ps_buf_release(&f);
			if (nr < 0)
				return ps_err_set(err, -nr, "manifest spool: %s", strerror(-nr));
			break;
		}
		struct ps_chunk ch = ps_chunk_from(&f);
		ch.plain = d;
		plain += d;
		ps_bq_put(&w->cq, ch);
		if (w->w_errno)
			return worker_error(w, err);
	}
	if (plain != w->man.len)
		return ps_err_set(err, EIO, "manifest spool: %llu of %llu bytes",
				  (unsigned long long)plain, (unsigned long long)w->man.len);
	static const char zeros[64 * 1024];
	w->skip_left = w->man.len;
	for (uint64_t left = w->man.len; left && !w->aerr;) {
		size_t n = left < sizeof(zeros) ? (size_t)left : sizeof(zeros);
		la_ssize_t k = archive_write_data(w->a, zeros, n);
		if (k <= 0 || (size_t)k > n)
			break;
		left -= (uint64_t)k;
	}
	if (w->skip_left || w->aerr) {
		w->skip_left = 0;
		return w->w_errno ? worker_error(w, err)
				  : ps_err_set(err, EIO, "libarchive: manifest: %s",
					       archive_error_string(w->a));
	}
	if (archive_write_finish_entry(w->a) < ARCHIVE_WARN || w->aerr)
		return ps_err_set(err, EIO, "libarchive: manifest: %s", archive_error_string(w->a));
	return 0;
}

static void put_le32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

/* zstd seekable format v0.1 trailer: a skippable frame holding (csize,
 * dsize) per frame, then frame count, descriptor, magic (store_int.h; read
 * by seektable.c). */
static int write_seektable(struct ps_writer *w)
{
	size_t body = w->fr.n * 8 + 9;
	size_t total = 8 + body;
	unsigned char *t = ps_xmalloc(total);
	put_le32(t, PS_SEEK_SKIPPABLE_MAGIC);
	put_le32(t + 4, (uint32_t)body);
	for (size_t i = 0; i < w->fr.n; i++) {
		put_le32(t + 8 + i * 8, w->fr.c[i]);
		put_le32(t + 12 + i * 8, w->fr.d[i]);
	}
	put_le32(t + 8 + w->fr.n * 8, (uint32_t)w->fr.n);
	t[12 + w->fr.n * 8] = 0; /* descriptor: no checksums */
	put_le32(t + 13 + w->fr.n * 8, PS_SEEK_FOOTER_MAGIC);
	int e = worker_write(w, t, total);
	free(t);
	return e;
}

static void stop_formatter(struct ps_writer *w)
{
	if (!w->fthread_started)
		return;
	ps_bq_close(&w->fq);
	pthread_join(w->fthread, NULL);
	w->fthread_started = 0;
}

static void stop_worker(struct ps_writer *w)
{
	stop_formatter(w);
	if (!w->thread_started)
		return;
	ps_bq_close(&w->cq);
	pthread_join(w->thread, NULL);
	w->thread_started = 0;
}

int ps_writer_finish(struct ps_writer *w, struct ps_writer_stats *stats, struct ps_err *err)
{
	if (w->finished)
		return ps_err_set(err, EINVAL, "writer already finished");
	w->finished = 1;
	submit_batch(w);
	stop_formatter(w); /* from here on, this thread owns libarchive */
	if (w->f_failed) {
		stop_worker(w);
		return formatter_error(w, err);
	}
	if (write_manifest(w, err) < 0) {
		stop_worker(w);
		return -1;
	}
	if (archive_write_close(w->a) != ARCHIVE_OK || w->aerr) {
		int r = w->w_errno
			    ? worker_error(w, err)
			    : ps_err_set(err, EIO, "libarchive: %s", archive_error_string(w->a));
		stop_worker(w);
		return r;
	}
	int r = submit_chunk(w);
	stop_worker(w);
	if (r < 0 || w->w_errno)
		return worker_error(w, err);
	int e = write_seektable(w);
	if (e)
		return ps_err_set(err, e, "archive output: write: %s", strerror(e));
	/* The archive is whole: its write-back starts now, while the index is
	 * finished (packed, synced), so the caller's fsync finds it mostly
	 * done (EINVAL, ESPIPE: a pipe, nothing to start). */
	(void)sync_file_range(w->out_fd, 0, 0, SYNC_FILE_RANGE_WRITE);
	unsigned int n = 0;
	EVP_DigestFinal_ex(w->sha, w->st.sha256, &n);
	w->st.tar_bytes = w->tar_off;
	w->st.out_bytes = w->out_bytes;
	w->st.frames = w->fr.n;
	if (w->ib) {
		struct ps_ibuild_end ie = {
		    .sha256 = w->st.sha256,
		    .archive_name = w->opts.archive_name ? w->opts.archive_name : "",
		    .archive_size = (int64_t)w->out_bytes,
		    .tar_bytes = w->tar_off,
		    .csize = w->fr.c,
		    .dsize = w->fr.d,
		    .nframes = w->fr.n,
		};
		if (ps_ibuild_finish(w->ib, &ie, err) < 0)
			return ps_err_prefix(err, "index");
	}
	if (stats)
		*stats = w->st;
	return 0;
}

int ps_writer_index_publish(struct ps_writer *w, struct ps_err *err)
{
	if (!w->ib)
		return ps_err_set(err, EINVAL, "no index was built");
	return ps_ibuild_publish(w->ib, err);
}

const char *ps_writer_index_tmp(const struct ps_writer *w)
{
	return w->ib ? ps_ibuild_tmp_path(w->ib) : NULL;
}

void ps_writer_free(struct ps_writer *w)
{
	if (!w)
		return;
	stop_worker(w);
	ps_bq_destroy(&w->fq);
	ps_bq_destroy(&w->cq);
	ps_ibuild_free(w->ib);
	ps_pool_destroy(&w->pool);
	ps_pool_destroy(&w->bpool);
	if (w->a)
		archive_write_free(w->a);
	w->u_closing = 1;
	if (w->u)
		archive_write_free(w->u);
	if (w->entry)
		archive_entry_free(w->entry);
	ps_buf_release(&w->batch);
	ps_buf_release(&w->hpath);
	ZSTD_freeCCtx(w->cctx);
	EVP_MD_CTX_free(w->sha);
	ps_spool_release(&w->man);
	ps_buf_release(&w->cur);
	ps_buf_release(&w->dd_paths);
	ps_buf_release(&w->man_line);
	free(w->dd);
	ps_frametab_release(&w->fr);
	free(w->spill_buf);
	free(w);
}
