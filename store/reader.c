/*
 * reader.c - read any tar or tar.zst back, member by member, treating it as
 * hostile and salvaging what survives damage.
 *
 * The file (standard input is first spooled to an unlinked temporary file)
 * becomes a tar stream in source.c: zstd frames decoded one at a time, or a
 * plain tar, with gaps where a frame does not decode.  Here libarchive
 * parses tar headers from that stream through a read callback.  A gap makes
 * the callback fail, which kills the libarchive context: the member being
 * read is reported cut, and a fresh context starts at the next 512-byte
 * block after the gap that is a tar header (ustar magic, valid checksum).
 * A header block whose checksum fails makes libarchive skip it
 * (ARCHIVE_RETRY); the run of skipped blocks is one damage.  An end-of-
 * archive marker is checked too: without its 1024 zero bytes the archive
 * was truncated, and members after it (zeros in damaged data look like
 * one) are read, after a damage.
 *
 * Why not libarchive's zstd filter: it cannot say which frame failed or go
 * on after one, and our frames are independent precisely so that one bad
 * byte loses one frame.
 *
 * Damage is reported (salvage mode) once per lost stretch, when the reader
 * has resynchronised or reached the end; without salvage it is an error.
 * Limits (store_int.h) are errors in both modes: they are not damage but a
 * crafted or foreign archive.  So is a header libarchive rejects or only
 * half understands (ARCHIVE_WARN, but for names it cannot convert to the
 * locale) although its checksum holds.
 */
#include "store.h"
#include "store_int.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include <xxhash.h>

#define SPOOL_CHUNK ((size_t)1 << 20)
/* Spooling stops before the file system it writes to is this full: a
 * pipe that never ends (/dev/zero) must not fill the responder's /tmp. */
#define SPOOL_KEEP_PCT 5
#define SPOOL_CHECK    ((uint64_t)4 << 20) /* bytes between two looks */

void ps_xxh3_128(const void *data, size_t len, unsigned char out[16])
{
	XXH128_canonical_t c;
	XXH128_canonicalFromHash(&c, XXH3_128bits(data, len));
	memcpy(out, c.digest, 16);
}

void ps_xxh3_128_digest(XXH3_state_t *x, unsigned char out[16])
{
	XXH128_canonical_t c;
	XXH128_canonicalFromHash(&c, XXH3_128bits_digest(x));
	memcpy(out, c.digest, 16);
}

struct ps_reader {
	char *name; /* for messages */
	int fd;
	struct ps_reader_opts o; /* as opened (tmpdir is used by the opening only) */
	struct ps_src src;	 /* the tar stream */
	struct ps_fetch *fetch;	 /* ps_reader_fetch */
	/* a header block found by resynchronising, handed out first */
	unsigned char blk[512];
	size_t blk_len, blk_pos;
	uint64_t blk_t;
	int blk_tknown;

	/* libarchive context: fed from tar offset a_base */
	struct archive *a;
	uint64_t a_base, a_fed;
	int a_base_known, a_gap, a_hard;
	int last_is_chunk; /* last buffer fed: a chunk (from last_pos0) or blk */
	uint64_t last_fed0;
	size_t last_pos0;
	uint64_t last_end; /* context offset just past the last member's data */
	char zerr[300];

	/* damage */
	int dmg_open, dmg_ready, need_resync, blk_ready, started, done;
	struct ps_rdamage dmg;
	char dmg_msg[512];
	char *dmg_path;
	uint64_t nmembers;
	struct archive_entry *held; /* a header read, to return after the damage */
	int fail_pending;	    /* the context failed after a whole member */
	uint64_t fail_from;

	/* the member returned */
	int streaming, stream_cut;
	uint64_t cur_hoff;
	struct ps_buf data;
	XXH3_state_t *x3; /* hashing a member too large to hold */
	/* the member being read: its path, link target and hardlink target (kept
	 * from member to member, so that no member costs an allocation) */
	struct ps_buf cur_path, cur_target, cur_hardlink;
	int has_target, has_hardlink;
	/* ps_reader_stream_line */
	struct ps_buf line;
	const char *lchunk;
	size_t llen, lpos;
	int line_used;
};

/* ---- damage ------------------------------------------------------------- */

static void dmg_begin(struct ps_reader *r, uint64_t t_from, const char *path, const char *msg)
{
	if (r->dmg_open) {
		if (!r->dmg_path && path)
			r->dmg_path = ps_xstrdup(path);
		return;
	}
	r->dmg_open = 1;
	memset(&r->dmg, 0, sizeof(r->dmg));
	r->dmg.tar_from = t_from;
	r->dmg.tar_to = PS_OFF_UNKNOWN;
	r->dmg.file_from = r->dmg.file_to = PS_OFF_UNKNOWN;
	r->dmg.members_before = r->nmembers;
	free(r->dmg_path);
	r->dmg_path = path ? ps_xstrdup(path) : NULL;
	snprintf(r->dmg_msg, sizeof(r->dmg_msg), "%s", msg);
}

/* Fold the source's last gap into the open damage. */
static void dmg_gap(struct ps_reader *r, uint64_t t_from, const char *path)
{
	int was = r->dmg_open;
	dmg_begin(r, t_from != PS_OFF_UNKNOWN ? t_from : r->src.gap.t_from, path, r->src.gap.msg);
	if (!was || r->dmg.file_from == PS_OFF_UNKNOWN)
		r->dmg.file_from = r->src.gap.c_from;
	r->dmg.file_to = r->src.gap.c_to;
}

static void dmg_close(struct ps_reader *r, uint64_t t_to, int at_end)
{
	r->dmg_open = 0;
	r->dmg_ready = 1;
	r->dmg.tar_to = t_to;
	r->dmg.at_end = at_end;
	r->dmg.path = r->dmg_path;
	r->dmg.msg = r->dmg_msg;
}

static void fmt_off(char *buf, size_t n, uint64_t v)
{
	if (v == PS_OFF_UNKNOWN)
		snprintf(buf, n, "?");
	else
		snprintf(buf, n, "%llu", (unsigned long long)v);
}

/* The damage as an error (not salvaging). */
static int dmg_error(struct ps_reader *r, struct ps_err *err)
{
	char a[24], b[24];
	fmt_off(a, sizeof(a), r->dmg.tar_from);
	fmt_off(b, sizeof(b), r->dmg.tar_to);
	r->done = 1;
	return ps_err_set(err, EIO, "%s: damaged archive: %s (tar bytes %s-%s%s%s)", r->name,
			  r->dmg_msg, a, b, r->dmg_path ? ", member " : "",
			  r->dmg_path ? r->dmg_path : "");
}

/* ---- tar: libarchive over the source -------------------------------------- */

static la_ssize_t rd_cb(struct archive *a, void *ctx, const void **buf)
{
	(void)a;
	struct ps_reader *r = ctx;
	if (r->blk_pos < r->blk_len) {
		*buf = r->blk + r->blk_pos;
		size_t n = r->blk_len - r->blk_pos;
		r->blk_pos = r->blk_len;
		r->last_is_chunk = 0;
		r->last_fed0 = r->a_fed;
		r->a_fed += n;
		return (la_ssize_t)n;
	}
	if (r->src.chunk_pos >= r->src.chunk_len) {
		int st = ps_src_next(&r->src);
		if (st == 0)
			return 0;
		if (st == 2) {
			r->a_gap = 1;
			archive_set_error(a, EIO, "%s", r->src.gap.msg);
			return -1;
		}
		if (st < 0) {
			r->a_hard = 1;
			archive_set_error(a, EIO, "%s", r->src.err);
			return -1;
		}
	}
	*buf = r->src.chunk + r->src.chunk_pos;
	size_t n = r->src.chunk_len - r->src.chunk_pos;
	r->last_is_chunk = 1;
	r->last_fed0 = r->a_fed;
	r->last_pos0 = r->src.chunk_pos;
	r->src.chunk_pos = r->src.chunk_len;
	r->a_fed += n;
	return (la_ssize_t)n;
}

/* Tar offset of context offset rel. */
static uint64_t ctx_t(const struct ps_reader *r, int64_t rel)
{
	return r->a_base_known && rel >= 0 ? r->a_base + (uint64_t)rel : PS_OFF_UNKNOWN;
}

static void ctx_free(struct ps_reader *r)
{
	if (r->a)
		archive_read_free(r->a);
	r->a = NULL;
	r->held = NULL;
}

/*
 * Find the next tar header in the source from where it stands: 512-byte
 * blocks aligned as headers are (realign).  1 (r->blk holds it), 0 at the
 * end, -1 error.  Gaps met on the way join the open damage.
 */
static int tar_resync(struct ps_reader *r)
{
	size_t have = 0;
	uint64_t b_t = 0;
	int b_tknown = 0;
	for (;;) {
		if (r->src.chunk_pos >= r->src.chunk_len) {
			int st = ps_src_next(&r->src);
			if (st == 0)
				return 0;
			if (st < 0)
				return -1;
			if (st == 2) {
				dmg_gap(r, PS_OFF_UNKNOWN, NULL);
				have = 0;
				continue;
			}
		}
		if (have == 0) {
			uint64_t s = r->src.chunk_s + r->src.chunk_pos;
			uint64_t mis = (s - r->src.align_s) % 512;
			if (mis) {
				size_t skip = 512 - (size_t)mis;
				size_t left = r->src.chunk_len - r->src.chunk_pos;
				r->src.chunk_pos += skip < left ? skip : left;
				continue;
			}
			b_t = r->src.chunk_t + r->src.chunk_pos;
			b_tknown = r->src.chunk_tknown;
		}
		size_t take = 512 - have, left = r->src.chunk_len - r->src.chunk_pos;
		if (take > left)
			take = left;
		memcpy(r->blk + have, r->src.chunk + r->src.chunk_pos, take);
		r->src.chunk_pos += take;
		have += take;
		if (have < 512)
			continue;
		have = 0;
		if (ps_tar_header_ok(r->blk)) {
			r->blk_len = 512;
			r->blk_pos = 0;
			r->blk_t = b_t;
			r->blk_tknown = b_tknown;
			return 1;
		}
	}
}

/*
 * Start a libarchive context at the start of the tar, or at the header
 * tar_resync found.  After a resync the damage is closed and returned first
 * (r->blk_ready: the context opens on the next call).  0, -1 error.
 */
static int ctx_start(struct ps_reader *r, struct ps_err *err)
{
	if (r->need_resync) {
		int st = tar_resync(r);
		if (st < 0)
			return ps_err_set(err, EIO, "%s: %s", r->name, r->src.err);
		r->need_resync = 0;
		if (st == 0) {
			if (r->dmg_open)
				dmg_close(r, ps_src_tcur(&r->src), 1);
			r->done = 1;
			return 0;
		}
		r->blk_ready = 1;
		if (r->dmg_open) {
			dmg_close(r, r->blk_tknown ? r->blk_t : PS_OFF_UNKNOWN, 0);
			return 0;
		}
	}
	int first = !r->started;
	if (r->blk_ready) {
		r->blk_ready = 0;
		r->a_base = r->blk_t;
		r->a_base_known = r->blk_tknown;
	} else {
		r->a_base = 0;
		r->a_base_known = 1;
	}
	r->started = 1;
	r->a = archive_read_new();
	if (!r->a)
		return ps_err_set(err, ENOMEM, "%s: out of memory", r->name);
	archive_read_support_format_tar(r->a);
	r->a_fed = 0;
	r->a_gap = r->a_hard = 0;
	r->last_end = 0;
	if (archive_read_open2(r->a, r, NULL, rd_cb, NULL, NULL) == ARCHIVE_OK)
		return 0;
	if (r->a_hard || r->src.ioerr)
		return ps_err_set(err, EIO, "%s: %s", r->name, r->src.err);
	if (r->a_gap) {
		dmg_gap(r, ctx_t(r, 0), NULL);
		ctx_free(r);
		r->need_resync = 1;
		return 0;
	}
	if (first) {
		int rc =
		    ps_err_set(err, EINVAL, "%s: %s", r->name,
			       r->src.spos == 0 ? "empty archive" : "not a tar or tar.zst archive");
		ctx_free(r);
		r->done = 1;
		return rc;
	}
	/* a resync block that libarchive refused: skip it */
	dmg_begin(r, ctx_t(r, 0), NULL, "unreadable tar header");
	ctx_free(r);
	r->need_resync = 1;
	return 0;
}

/*
 * libarchive failed: a gap (damage: the member being read, if any, is cut;
 * resynchronise after it), the end of the input (truncation), or a header
 * it rejects although its checksum holds (crafted: an error).
 */
static int ctx_failed(struct ps_reader *r, uint64_t from, const char *cut, struct ps_err *err)
{
	if (r->a_hard || r->src.ioerr)
		return ps_err_set(err, EIO, "%s: %s", r->name, r->src.err);
	if (r->a_gap) {
		dmg_gap(r, from, cut);
		ctx_free(r);
		r->need_resync = 1;
		return 0;
	}
	if (r->src.eof) {
		char m[160];
		snprintf(m, sizeof(m), "truncated: the archive ends %s",
			 cut ? "inside a member" : "inside a tar header");
		dmg_begin(r, from, cut, m);
		ctx_free(r);
		dmg_close(r, ps_src_tcur(&r->src), 1);
		r->done = 1;
		return 0;
	}
	int rc = ps_err_set(err, EINVAL, "%s: malformed archive%s%s: %s", r->name,
			    cut ? ": member " : "", cut ? cut : "", archive_error_string(r->a));
	ctx_free(r);
	r->done = 1;
	return rc;
}

/*
 * libarchive saw the end-of-archive marker.  Without 1024 zero bytes after
 * the last member it is a truncation; members after the marker (a zero
 * stretch in damaged data looks like one) are damage too, and are read.
 */
static int at_eof(struct ps_reader *r, struct ps_err *err)
{
	int64_t pos = archive_filter_bytes(r->a, -1);
	uint64_t end_t = ctx_t(r, pos);
	int marker = pos >= 0 && (uint64_t)pos >= r->last_end + 1024;
	/* Go on from where libarchive stopped, inside the last chunk it had. */
	if (pos >= 0 && r->last_is_chunk) {
		/* (if it stopped in the chunk before, that one is gone: scan this
		 * one whole) */
		uint64_t back = r->last_pos0 +
				((uint64_t)pos > r->last_fed0 ? (uint64_t)pos - r->last_fed0 : 0);
		if (back < r->src.chunk_len)
			r->src.chunk_pos = (size_t)back;
	}
	ctx_free(r);
	if (!marker)
		dmg_begin(r, ctx_t(r, (int64_t)r->last_end), NULL,
			  "truncated: no end-of-archive marker");
	int st = tar_resync(r);
	if (st < 0)
		return ps_err_set(err, EIO, "%s: %s", r->name, r->src.err);
	if (st == 0) {
		if (r->dmg_open)
			dmg_close(r, ps_src_tcur(&r->src), 1);
		r->done = 1;
		return 0;
	}
	dmg_begin(r, end_t, NULL, "tar members after the end-of-archive marker");
	dmg_close(r, r->blk_tknown ? r->blk_t : PS_OFF_UNKNOWN, 0);
	r->blk_ready = 1; /* ctx_start takes the block found */
	return 0;
}

/* ---- members ------------------------------------------------------------ */

static int hostile(struct ps_reader *r, struct ps_err *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int hostile(struct ps_reader *r, struct ps_err *err, const char *fmt, ...)
{
	char m[600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(m, sizeof(m), fmt, ap);
	va_end(ap);
	ctx_free(r);
	r->done = 1;
	return ps_err_set(err, EINVAL, "%s: %s", r->name, m);
}

/*
 * Upper bound of the tar bytes left from tar offset t: exact for a plain
 * tar or through the seek table, else what the compressed bytes left can
 * decode to (a zstd block of 128 KiB takes at least 4 bytes: a ratio of
 * 32768 at most), plus what is decoded but not yet read.
 */
static uint64_t room(const struct ps_reader *r, uint64_t t)
{
	const struct ps_src *s = &r->src;
	if (t != PS_OFF_UNKNOWN && !s->zstd)
		return t < s->fsize ? s->fsize - t : 0;
	if (t != PS_OFF_UNKNOWN && s->st.n)
		return t < s->st.toff[s->st.n] ? s->st.toff[s->st.n] - t : 0;
	uint64_t left = s->cpos < s->fsize ? s->fsize - s->cpos : 0;
	return left * 32768 + (s->chunk_len - s->chunk_pos) + PS_FRAME_MAX + ((uint64_t)16 << 20);
}

/*
 * The member whose header libarchive just read: its data (loaded, or left
 * for ps_reader_stream), offsets and hash.  1 with *m, 0 when damage cut it
 * (reported later), -1 error.
 */
/* Can a member be read again without decompressing from the start of a
 * long frame?  A seek table (procsnap's ~1 MiB frames) or no compression:
 * unload_over applies only then (a tar.zst made by tar is one frame). */
static int cheap_again(const struct ps_reader *r)
{
	return r->src.st.n > 0 || !r->src.zstd;
}

static int take_member(struct ps_reader *r, struct archive_entry *e, struct ps_rmember *m,
		       struct ps_err *err)
{
	const char *name = archive_entry_pathname(e);
	if (!name || !*name)
		return hostile(r, err, "malformed archive: a member without a name");
	uint64_t hpos = ctx_t(r, archive_read_header_position(r->a));
	/* tar stores directories as "dir/": report the path as captured */
	size_t pl = strlen(name);
	while (pl > 1 && name[pl - 1] == '/')
		pl--;
	ps_buf_reset(&r->cur_path);
	ps_buf_add(&r->cur_path, name, pl);
	const char *t = archive_entry_symlink(e);
	ps_buf_reset(&r->cur_target);
	if ((r->has_target = t != NULL))
		ps_buf_adds(&r->cur_target, t);
	const char *h = archive_entry_hardlink(e);
	ps_buf_reset(&r->cur_hardlink);
	if ((r->has_hardlink = h != NULL))
		ps_buf_adds(&r->cur_hardlink, h);
	unsigned ft = archive_entry_filetype(e);
	if (h)
		ft = AE_IFREG; /* a pax hardlink header may carry no file type */
	la_int64_t size = archive_entry_size(e);
	if (size < 0)
		return hostile(r, err, "malformed archive: member %s has a negative size",
			       r->cur_path.buf);
	if (ft != AE_IFREG && ft != AE_IFLNK && ft != AE_IFDIR)
		return hostile(r, err, "not a procsnap archive: unexpected type of member %s",
			       r->cur_path.buf);
	memset(m, 0, sizeof(*m));
	m->path = r->cur_path.buf;
	m->kind = ft == AE_IFLNK ? PS_M_LINK : ft == AE_IFDIR ? PS_M_DIR : PS_M_FILE;
	m->mode = archive_entry_mode(e);
	m->uid = (uint32_t)archive_entry_uid(e);
	m->gid = (uint32_t)archive_entry_gid(e);
	m->mtime = archive_entry_mtime(e);
	m->target = r->has_target ? r->cur_target.buf : NULL;
	m->hardlink = r->has_hardlink ? r->cur_hardlink.buf : NULL;
	m->header_off = hpos;
	r->cur_hoff = hpos;
	int load = ft == AE_IFREG && !h;
	if (load && strcmp(r->cur_path.buf, PS_MANIFEST_PATH) == 0) {
		/* The manifest can be hundreds of MiB: it is streamed. */
		r->streaming = 1;
		r->stream_cut = 0;
		r->nmembers++;
		m->streaming = 1;
		m->data = NULL;
		m->len = (size_t)size;
		return 1;
	}
	if (load && strcmp(r->cur_path.buf, PS_META_PATH) == 0 && (uint64_t)size > PS_META_MAX)
		return hostile(r, err, "%s claims %llu bytes, more than %llu", PS_META_PATH,
			       (unsigned long long)size, (unsigned long long)PS_META_MAX);
	/* Larger than a member may be in memory (or than the caller keeps of
	 * a member it does not want): hashed as it goes by, not kept; first,
	 * it must fit in what the rest of the archive holds. */
	int big = load && ((uint64_t)size > PS_MEMBER_MAX ||
			   (r->o.unload_over && (uint64_t)size > r->o.unload_over &&
			    (r->o.hash_only || cheap_again(r)) &&
			    !(r->o.keep && r->o.keep(r->cur_path.buf))));
	if (big && (uint64_t)size > room(r, hpos))
		return hostile(r, err,
			       "member %s claims %llu bytes, more than the rest of the archive "
			       "can hold",
			       r->cur_path.buf, (unsigned long long)size);
	if (big && !r->x3 && !(r->x3 = XXH3_createState()))
		return hostile(r, err, "out of memory");
	if (big)
		XXH3_128bits_reset(r->x3);
	/* The data grows as it arrives, never by the size the header claims. */
	ps_buf_reset(&r->data);
	uint64_t got = 0;
	int64_t first = -1; /* context offset of the data */
	for (;;) {
		const void *b;
		size_t n;
		la_int64_t off;
		int rr = archive_read_data_block(r->a, &b, &n, &off);
		if (rr == ARCHIVE_EOF)
			break;
		if (rr < ARCHIVE_WARN && load && first >= 0 && got == (uint64_t)size &&
		    (r->a_gap || r->src.eof)) {
			/* All of the data arrived, only the padding after it did
			 * not: the member is whole, the damage starts after it. */
			r->fail_pending = 1;
			r->fail_from = ctx_t(r, first + size);
			break;
		}
		if (rr < ARCHIVE_WARN)
			return ctx_failed(r, hpos, r->cur_path.buf, err) < 0 ? -1 : 0;
		if (!load || !n)
			continue;
		if (first < 0) /* libarchive consumes a block on the next call */
			first = archive_filter_bytes(r->a, -1) - off;
		if (off < 0 || (uint64_t)off != got || got + n > (uint64_t)size)
			return hostile(r, err, "malformed archive: sparse or oversized data in %s",
				       r->cur_path.buf);
		if (big) {
			XXH3_128bits_update(r->x3, b, n);
		} else {
			/* doubling, but never past what the header claims (got + n
			 * <= size was checked): a 40 MiB member takes 40 MiB */
			if (r->data.len + n + 1 > r->data.cap) {
				size_t want = r->data.cap * 2;
				if (want < r->data.len + n + 1)
					want = r->data.len + n + 1;
				if (want > (size_t)size + 1)
					want = (size_t)size + 1;
				ps_buf_reserve(&r->data, want);
			}
			ps_buf_add(&r->data, b, n);
		}
		got += n;
	}
	if (load && got != (uint64_t)size)
		return hostile(r, err, "malformed archive: short data in %s", r->cur_path.buf);
	int64_t end = archive_filter_bytes(r->a, -1);
	r->last_end = end > 0 ? (uint64_t)end : 0;
	m->data_off = ctx_t(r, first >= 0 ? first : end);
	m->data = load ? r->data.buf : "";
	m->len = load ? r->data.len : 0;
	if (big) {
		ps_xxh3_128_digest(r->x3, m->xxh3);
		m->data = NULL;
		m->len = (size_t)size;
		m->unloaded = 1;
	} else if (m->kind == PS_M_FILE)
		ps_xxh3_128(m->data, m->len, m->xxh3);
	else if (m->kind == PS_M_LINK && m->target)
		ps_xxh3_128(m->target, strlen(m->target), m->xxh3);
	r->nmembers++;
	return 1;
}

/*
 * libarchive warns when a name (path, link, user, group) in UTF-8 cannot be
 * converted to the locale's charset; procsnap runs in the C locale, so every
 * non-ASCII name in a pax header does that, and the name comes back as
 * stored.  That warning is harmless; any other is about a header libarchive
 * ignored part of.
 */
static int charset_warning(struct archive *a)
{
	const char *w = archive_error_string(a);
	return w && strstr(w, " can't be converted from ") != NULL;
}

int ps_reader_next(struct ps_reader *r, struct ps_rmember *m, struct ps_err *err)
{
	if (r->streaming) { /* the caller left part of a streamed member */
		const void *p;
		size_t n;
		int st;
		while ((st = ps_reader_stream(r, &p, &n, err)) == 1)
			;
		if (st < 0)
			return -1;
	}
	for (;;) {
		if (r->dmg_ready) {
			r->dmg_ready = 0;
			if (!r->o.salvage)
				return dmg_error(r, err);
			return PS_READER_DAMAGED;
		}
		if (r->done)
			return 0;
		if (r->fail_pending) {
			r->fail_pending = 0;
			if (ctx_failed(r, r->fail_from, NULL, err) < 0)
				return -1;
			continue;
		}
		if (!r->a) {
			if (ctx_start(r, err) < 0)
				return -1;
			continue;
		}
		struct archive_entry *e = r->held;
		int st = ARCHIVE_OK;
		r->held = NULL;
		if (!e)
			st = archive_read_next_header(r->a, &e);
		if (st == ARCHIVE_WARN && !charset_warning(r->a)) {
			/* libarchive ignored part of a header whose checksum holds
			 * (a pax record it rejects): crafted, not damaged */
			char w[300];
			snprintf(w, sizeof(w), "%s", archive_error_string(r->a));
			return hostile(r, err, "malformed archive: %s", w);
		}
		if (st == ARCHIVE_OK || st == ARCHIVE_WARN) {
			if (r->dmg_open) {
				/* a run of bad header blocks ended here */
				dmg_close(r, ctx_t(r, archive_read_header_position(r->a)), 0);
				r->held = e;
				continue;
			}
			int rr = take_member(r, e, m, err);
			if (rr != 0)
				return rr;
			continue;
		}
		if (st == ARCHIVE_RETRY) {
			/* a header block whose checksum fails: libarchive skipped it */
			int64_t pos = archive_filter_bytes(r->a, -1);
			dmg_begin(r, ctx_t(r, pos >= 512 ? pos - 512 : 0), NULL,
				  "tar header blocks with a bad checksum");
			continue;
		}
		if (st == ARCHIVE_EOF) {
			if (at_eof(r, err) < 0)
				return -1;
			continue;
		}
		if (ctx_failed(r, ctx_t(r, archive_read_header_position(r->a)), NULL, err) < 0)
			return -1;
	}
}

const struct ps_rdamage *ps_reader_damage(const struct ps_reader *r)
{
	return &r->dmg;
}

int ps_reader_stream_cut(const struct ps_reader *r)
{
	return r->stream_cut;
}

int ps_reader_stream(struct ps_reader *r, const void **p, size_t *n, struct ps_err *err)
{
	if (!r->streaming)
		return 0;
	for (;;) {
		la_int64_t off;
		int rr = archive_read_data_block(r->a, p, n, &off);
		if (rr == ARCHIVE_EOF) {
			r->streaming = 0;
			int64_t end = archive_filter_bytes(r->a, -1);
			r->last_end = end > 0 ? (uint64_t)end : 0;
			return 0;
		}
		if (rr < ARCHIVE_WARN) {
			r->streaming = 0;
			r->stream_cut = 1;
			if (ctx_failed(r, r->cur_hoff, r->cur_path.buf, err) < 0)
				return -1;
			if (!r->o.salvage && r->dmg_ready) {
				r->dmg_ready = 0;
				return dmg_error(r, err);
			}
			return 0;
		}
		if (*n)
			return 1;
	}
}

/* A malformed streamed member ends the reading. */
static void stream_bad(struct ps_reader *r)
{
	r->streaming = 0;
	r->done = 1;
	ctx_free(r);
}

int ps_reader_stream_line(struct ps_reader *r, const char **line, size_t *len, struct ps_err *err)
{
	if (r->line_used) {
		ps_buf_reset(&r->line);
		r->line_used = 0;
	}
	for (;;) {
		if (r->lpos < r->llen) {
			const char *p = r->lchunk + r->lpos;
			size_t left = r->llen - r->lpos;
			const char *nl = memchr(p, '\n', left);
			size_t k = nl ? (size_t)(nl - p) : left;
			if (r->line.len + k > PS_MANIFEST_LINE_MAX)
				return stream_bad(r),
				       ps_err_set(err, EINVAL,
						  "%s: malformed archive: a line of %s is longer "
						  "than %zu bytes",
						  r->name,
						  r->cur_path.len ? r->cur_path.buf : "a member",
						  PS_MANIFEST_LINE_MAX);
			r->lpos += k + (nl != NULL);
			if (!nl) {
				ps_buf_add(&r->line, p, k);
				continue;
			}
			if (r->line.len) {
				ps_buf_add(&r->line, p, k);
				*line = r->line.buf;
				*len = r->line.len;
				r->line_used = 1;
			} else {
				*line = p;
				*len = k;
			}
			return 1;
		}
		const void *c;
		size_t n;
		int st = ps_reader_stream(r, &c, &n, err);
		if (st < 0)
			return -1;
		if (st == 1) {
			r->lchunk = c;
			r->llen = n;
			r->lpos = 0;
			continue;
		}
		r->lchunk = NULL;
		r->llen = r->lpos = 0;
		if (r->line.len && !r->stream_cut) {
			ps_buf_reset(&r->line);
			stream_bad(r);
			return ps_err_set(err, EINVAL,
					  "%s: malformed archive: %s ends without a newline",
					  r->name, r->cur_path.len ? r->cur_path.buf : "a member");
		}
		ps_buf_reset(&r->line);
		return 0;
	}
}

/* ---- open, random access, close ---------------------------------------- */

/* Copy standard input (or a pipe) to an unlinked temporary file. */
static int spool(int in, const char *tmpdir, const char *name, struct ps_err *err)
{
	const char *dir = tmpdir && *tmpdir ? tmpdir : "/tmp";
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0) {
		struct ps_buf t = PS_BUF_INIT;
		ps_buf_addf(&t, "%s/procsnap-in-XXXXXX", dir);
		fd = mkostemp(t.buf, O_CLOEXEC);
		if (fd >= 0)
			unlink(t.buf);
		ps_buf_release(&t);
		if (fd < 0)
			return ps_err_set(err, errno, "%s: cannot spool to %s: %s", name, dir,
					  strerror(errno));
	}
	char *buf = ps_xmalloc(SPOOL_CHUNK);
	uint64_t since = SPOOL_CHECK, total = 0;
	for (;;) {
		struct statvfs vs;
		if (since >= SPOOL_CHECK && fstatvfs(fd, &vs) == 0 && vs.f_blocks) {
			since = 0;
			if (vs.f_bavail < vs.f_blocks / 100 * SPOOL_KEEP_PCT +
					      (SPOOL_CHECK + SPOOL_CHUNK) / vs.f_frsize) {
				ps_err_set(
				    err, ENOSPC,
				    "%s: cannot spool to %s: %llu MiB copied and it would "
				    "leave less than %d%% of its file system free (set TMPDIR "
				    "to a larger one)",
				    name, dir, (unsigned long long)(total >> 20), SPOOL_KEEP_PCT);
				goto fail;
			}
		}
		ssize_t n = read(in, buf, SPOOL_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ps_err_set(err, errno, "%s: read: %s", name, strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;
		int e = ps_write_all(fd, buf, (size_t)n);
		if (e) {
			ps_err_set(err, e, "%s: cannot spool to %s: %s", name, dir, strerror(e));
			goto fail;
		}
		since += (uint64_t)n;
		total += (uint64_t)n;
	}
	free(buf);
	return fd;
fail:
	free(buf);
	close(fd);
	return -1;
}

/* A reader on fd (taken), from byte c_off. */
static int open_fd(struct ps_reader **rp, int fd, const char *name, const struct ps_reader_opts *o,
		   uint64_t c_off, struct ps_err *err)
{
	struct ps_reader *r = ps_xcalloc(1, sizeof(*r));
	r->fd = fd;
	r->name = ps_xstrdup(name);
	if (o)
		r->o = *o;
	r->o.tmpdir = NULL;
	ps_buf_init(&r->data);
	ps_buf_init(&r->line);
	ps_buf_init(&r->cur_path);
	ps_buf_init(&r->cur_target);
	ps_buf_init(&r->cur_hardlink);
	if (ps_src_open(&r->src, fd, name, r->o.no_sha256, err) < 0 ||
	    (c_off && ps_src_start(&r->src, c_off, err) < 0) ||
	    ps_fetch_open_fd(fd, name, &r->src.st, r->src.zstd, &r->fetch, err) < 0) {
		ps_reader_close(r);
		return -1;
	}
	r->src.fetch = r->fetch;
	*rp = r;
	return 0;
}

/* Open path ("-": standard input) as a regular file, spooling a pipe. */
static int open_file(const char *path, const char *tmpdir, const char **name, struct ps_err *err)
{
	int is_stdin = strcmp(path, "-") == 0;
	*name = is_stdin ? "standard input" : path;
	int fd = is_stdin ? fcntl(0, F_DUPFD_CLOEXEC, 0) : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ps_err_set(err, errno, "%s: %s", *name, strerror(errno));
	struct stat sb;
	if (fstat(fd, &sb) < 0) {
		int e = errno;
		close(fd);
		return ps_err_set(err, e, "%s: %s", *name, strerror(e));
	}
	if (!S_ISREG(sb.st_mode)) { /* a pipe: keep a copy to read again */
		int t = spool(fd, tmpdir, *name, err);
		close(fd);
		return t;
	}
	return fd;
}

int ps_reader_open(struct ps_reader **rp, const char *path, struct ps_err *err)
{
	return ps_reader_open_with(rp, path, NULL, err);
}

int ps_reader_open_with(struct ps_reader **rp, const char *path, const struct ps_reader_opts *o,
			struct ps_err *err)
{
	const char *name;
	int fd = open_file(path, o ? o->tmpdir : NULL, &name, err);
	return fd < 0 ? -1 : open_fd(rp, fd, name, o, 0, err);
}

int ps_reader_open_at(struct ps_reader **rp, const char *path, uint64_t c_off, struct ps_err *err)
{
	const char *name;
	int fd = open_file(path, NULL, &name, err);
	return fd < 0 ? -1 : open_fd(rp, fd, name, NULL, c_off, err);
}

int ps_reader_reopen(struct ps_reader *r, uint64_t c_off, struct ps_reader **r2, struct ps_err *err)
{
	int fd = fcntl(r->fd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		return ps_err_set(err, errno, "%s: %s", r->name, strerror(errno));
	return open_fd(r2, fd, r->name, &r->o, c_off, err);
}

struct ps_fetch *ps_reader_fetcher(struct ps_reader *r)
{
	return r->fetch;
}

int ps_reader_fetch(struct ps_reader *r, uint64_t off, uint64_t len, struct ps_buf *out,
		    struct ps_err *err)
{
	if (off == PS_OFF_UNKNOWN)
		return ps_err_set(err, EINVAL, "%s: the member's offset is not known (damage)",
				  r->name);
	return ps_fetch_read(r->fetch, off, len, out, err);
}

int ps_reader_frame(const struct ps_reader *r, size_t i, struct ps_frame *f)
{
	const struct ps_seektable *st = &r->src.st;
	if (i >= st->n)
		return 0;
	f->c_off = st->coff[i];
	f->c_size = st->coff[i + 1] - st->coff[i];
	f->t_off = st->toff[i];
	f->t_size = st->toff[i + 1] - st->toff[i];
	return 1;
}

uint64_t ps_reader_file_size(const struct ps_reader *r)
{
	return r->src.fsize;
}

void ps_reader_sha256(struct ps_reader *r, unsigned char out[32])
{
	ps_src_sha256(&r->src, out);
}

void ps_reader_close(struct ps_reader *r)
{
	if (!r)
		return;
	ctx_free(r);
	ps_fetch_close(r->fetch);
	ps_src_close(&r->src);
	if (r->fd >= 0)
		close(r->fd);
	free(r->name);
	ps_buf_release(&r->cur_path);
	ps_buf_release(&r->cur_target);
	ps_buf_release(&r->cur_hardlink);
	free(r->dmg_path);
	XXH3_freeState(r->x3);
	ps_buf_release(&r->data);
	ps_buf_release(&r->line);
	free(r);
}

/* ---- manifest ---------------------------------------------------------- */

int ps_manifest_parse_line(const char *line, size_t len, struct ps_buf *pathbuf,
			   struct ps_manifest_line *out)
{
	const char *f[6];
	size_t fl[6];
	const char *p = line, *end = line + len;
	for (size_t nf = 0; nf < 6; nf++) {
		const char *tab = memchr(p, '\t', (size_t)(end - p));
		if ((tab != NULL) != (nf < 5)) /* five tabs, six fields */
			return -1;
		f[nf] = p;
		fl[nf] = (size_t)((tab ? tab : end) - p);
		p = tab ? tab + 1 : end;
	}
	ps_buf_reset(pathbuf);
	if (fl[0] == 0 || ps_unescape(pathbuf, f[0], fl[0]) < 0)
		return -1;
	int k = ps_member_kind_parse(f[1], fl[1]);
	if (k < 0)
		return -1;
	out->kind = (enum ps_member_kind)k;
	if (ps_parse_u64(f[2], fl[2], &out->size) < 0)
		return -1;
	if (fl[3] == 1 && f[3][0] == '-') {
		out->has_hash = 0;
		memset(out->xxh3, 0, 16);
	} else if (fl[3] == 32 && ps_unhex(out->xxh3, f[3], 16) == 0) {
		out->has_hash = 1;
	} else {
		return -1;
	}
	if (ps_parse_u64(f[4], fl[4], &out->read_ns) < 0)
		return -1;
	char en[32];
	if (fl[5] == 0 || fl[5] >= sizeof(en))
		return -1;
	memcpy(en, f[5], fl[5]);
	en[fl[5]] = '\0';
	out->err = ps_errno_parse(en);
	if (out->err < 0)
		return -1;
	return 0;
}
