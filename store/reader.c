/*
 * reader.c - read any tar or tar.zst back, member by member, treating it as
 * hostile and salvaging what survives damage.
 *
 * Three layers:
 *  - input: the file (standard input is first spooled to an unlinked
 *    temporary file), read through one window buffer with pread; every byte
 *    is hashed (SHA-256) once, in file order, as it is first read.
 *  - source: the tar stream.  A plain tar is the file.  A tar.zst is
 *    decoded frame by frame: through the seek table when it has one, else by
 *    walking the frame headers (skippable frames, such as the trailer, are
 *    skipped).  A frame whose size is known and at most PS_FRAME_MAX is
 *    decoded whole before any of it is used, so a frame that fails its
 *    checksum gives nothing; a larger one is decoded as a stream.  A frame
 *    that does not decode is a gap: its tar range (exact with a seek table or
 *    a frame header's content size, else unknown from there on) and its file
 *    range are recorded, and the source goes on at the next frame (without
 *    a seek table, the next zstd magic number that starts a frame header).
 *  - tar: libarchive parses headers from the source through a read callback.
 *    A gap makes the callback fail, which kills the libarchive context: the
 *    member being read is reported cut, and a fresh context starts at the
 *    next 512-byte block after the gap that is a tar header (ustar magic,
 *    valid checksum).  A header block whose checksum fails makes libarchive
 *    skip it (ARCHIVE_RETRY); the run of skipped blocks is one damage.
 *
 * Why not libarchive's zstd filter: it cannot say which frame failed or go
 * on after one, and our frames are independent precisely so that one bad
 * byte loses one frame.
 *
 * Damage is reported (salvage mode) once per lost stretch, when the reader
 * has resynchronised or reached the end; without salvage it is an error.
 * Limits (store_int.h) are errors in both modes: they are not damage but a
 * crafted or foreign archive.
 */
#include "store.h"
#include "store_int.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>
/* ZSTD_getFrameHeader (frame content size, window) is in the stable part
 * of libzstd's ABI since 1.3 but declared among the experimental API. */
#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>
#include <zstd_errors.h>

void ps_xxh3_128(const void *data, size_t len, unsigned char out[16])
{
	XXH128_canonical_t c;
	XXH128_canonicalFromHash(&c, XXH3_128bits(data, len));
	memcpy(out, c.digest, 16);
}

#define IN_CHUNK     ((size_t)1 << 20)
#define STREAM_NEED  ((size_t)128 << 10)
#define ZSTD_MAX_HDR 18 /* ZSTD_FRAMEHEADERSIZE_MAX */

/* A gap in the tar stream, as the source found it. */
struct gap {
	uint64_t t_from, t_to; /* PS_OFF_UNKNOWN if not known */
	uint64_t c_from, c_to;
	char msg[256];
};

struct ps_reader {
	char *name; /* for messages */
	int fd;
	uint64_t fsize;
	int zstd, salvage;
	struct ps_seektable st; /* st.n == 0: frames found by walking headers */
	struct ps_fetch *fetch; /* ps_reader_fetch */

	/* input: window [in_off, in_off + in_len) of the file */
	EVP_MD_CTX *sha;
	uint64_t sha_pos; /* bytes [0, sha_pos) hashed */
	unsigned char *in;
	size_t incap, in_len;
	uint64_t in_off;
	int ioerr;

	/* source */
	uint64_t cpos; /* next file byte to decode */
	size_t fi;     /* next frame (seek table) */
	uint64_t tpos; /* tar offset of the next byte out, if tknown */
	int tknown;
	uint64_t spos; /* tar bytes yielded so far (gaps excluded) */
	ZSTD_DCtx *dc;
	ZSTD_DStream *ds;
	int in_frame; /* a frame is being decoded as a stream, from: */
	uint64_t frame_c0, frame_t0;
	int frame_ck; /* it has a checksum: XXH64 of its content so far */
	XXH64_state_t *xxh;
	int gap_pending; /* r->gap is to be reported after the chunk out */
	char *out;
	size_t outcap;
	int src_eof;
	struct gap gap;
	/* the chunk being handed out: chunk[chunk_pos, chunk_len) */
	const char *chunk;
	size_t chunk_len, chunk_pos;
	uint64_t chunk_t, chunk_s; /* tar offset (if chunk_tknown), stream offset */
	int chunk_tknown;
	uint64_t align_s; /* tar headers start at stream offsets = align_s mod 512 */
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
	char *cur_path, *cur_target, *cur_hardlink;
	/* ps_reader_stream_line */
	struct ps_buf line;
	const char *lchunk;
	size_t llen, lpos;
	int line_used;
};

/* ---- input ------------------------------------------------------------------ */

/* Hash [off, off + n) if it extends what is hashed, reading any skipped
 * bytes first, so the digest covers every byte of the file in order. */
static void sha_feed(struct ps_reader *r, uint64_t off, const unsigned char *p, size_t n)
{
	unsigned char buf[65536];
	while (r->sha_pos < off) {
		uint64_t want = off - r->sha_pos;
		size_t k = want < sizeof(buf) ? (size_t)want : sizeof(buf);
		ssize_t got = pread(r->fd, buf, k, (off_t)r->sha_pos);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			r->ioerr = 1;
			return;
		}
		EVP_DigestUpdate(r->sha, buf, (size_t)got);
		r->sha_pos += (uint64_t)got;
	}
	if (off + n > r->sha_pos) {
		size_t skip = (size_t)(r->sha_pos - off);
		EVP_DigestUpdate(r->sha, p + skip, n - skip);
		r->sha_pos = off + n;
	}
}

/* Make at least min(need, what the file has from off) bytes at off
 * available in the window: *p and *avail (which may exceed need).  -1 on a
 * read error (r->zerr). */
static int in_get(struct ps_reader *r, uint64_t off, size_t need, const unsigned char **p,
		  size_t *avail)
{
	if (off > r->fsize)
		off = r->fsize;
	if (need > r->fsize - off)
		need = (size_t)(r->fsize - off);
	if (off < r->in_off || off > r->in_off + r->in_len) {
		r->in_off = off;
		r->in_len = 0;
	}
	size_t have = (size_t)(r->in_off + r->in_len - off);
	if (have < need) {
		memmove(r->in, r->in + (off - r->in_off), have);
		r->in_off = off;
		r->in_len = have;
		if (need > r->incap) {
			r->in = ps_xrealloc(r->in, need);
			r->incap = need;
		}
		while (r->in_len < need) {
			uint64_t at = r->in_off + r->in_len;
			size_t room = r->incap - r->in_len;
			if (room > r->fsize - at)
				room = (size_t)(r->fsize - at);
			ssize_t n = pread(r->fd, r->in + r->in_len, room, (off_t)at);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				snprintf(r->zerr, sizeof(r->zerr), "read: %s", strerror(errno));
				r->ioerr = 1;
				return -1;
			}
			if (n == 0) { /* the file shrank under us */
				r->fsize = at;
				break;
			}
			sha_feed(r, at, r->in + r->in_len, (size_t)n);
			r->in_len += (size_t)n;
		}
	}
	*p = r->in + (off - r->in_off);
	*avail = (size_t)(r->in_off + r->in_len - off);
	return 0;
}

/* ---- source: the tar stream --------------------------------------------- */

static void set_gap(struct ps_reader *r, uint64_t t_from, uint64_t t_to, uint64_t c_from,
		    uint64_t c_to, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static void set_gap(struct ps_reader *r, uint64_t t_from, uint64_t t_to, uint64_t c_from,
		    uint64_t c_to, const char *fmt, ...)
{
	va_list ap;
	r->gap.t_from = t_from;
	r->gap.t_to = t_to;
	r->gap.c_from = c_from;
	r->gap.c_to = c_to;
	va_start(ap, fmt);
	vsnprintf(r->gap.msg, sizeof(r->gap.msg), fmt, ap);
	va_end(ap);
}

static uint64_t tcur(const struct ps_reader *r)
{
	return r->tknown ? r->tpos : PS_OFF_UNKNOWN;
}

/* Next file offset >= from where a zstd frame header parses, or fsize. */
static uint64_t scan_magic(struct ps_reader *r, uint64_t from)
{
	while (from + 4 <= r->fsize) {
		const unsigned char *p;
		size_t n;
		if (in_get(r, from, IN_CHUNK, &p, &n) < 0)
			return r->fsize;
		if (n < 4)
			break;
		for (size_t i = 0; i + 4 <= n; i++) {
			if (p[i] != 0x28 || ps_le32(p + i) != PS_ZSTD_MAGIC)
				continue;
			const unsigned char *q;
			size_t m;
			if (in_get(r, from + i, ZSTD_MAX_HDR, &q, &m) < 0)
				return r->fsize;
			ZSTD_frameHeader fh;
			if (ZSTD_getFrameHeader(&fh, q, m) == 0)
				return from + i;
			if (in_get(r, from, IN_CHUNK, &p, &n) < 0) /* window moved */
				return r->fsize;
		}
		from += n - 3;
	}
	return r->fsize;
}

static void chunk_set(struct ps_reader *r, const char *p, size_t n, uint64_t t)
{
	r->chunk = p;
	r->chunk_len = n;
	r->chunk_pos = 0;
	r->chunk_t = t;
	r->chunk_tknown = r->tknown;
	r->chunk_s = r->spos;
	r->spos += n;
}

/* After a gap, headers are 512-aligned from the next known tar offset, or
 * (offset unknown) from the next byte out. */
static void realign(struct ps_reader *r)
{
	r->align_s = r->spos - (r->tknown ? r->tpos % 512 : 0);
}

/*
 * One step of a frame decoded as a stream: 1 chunk, 0 frame done (no
 * output), 2 gap, -1 error.  libzstd withholds the last block of a frame
 * whose checksum fails, so the checksum is checked here (XXH64 of the
 * content, RFC 8878 3.1.1) and everything decoded is handed out: members
 * read from such a frame are then judged by their own hashes.
 */
static int stream_step(struct ps_reader *r)
{
	const unsigned char *p;
	size_t n;
	if (in_get(r, r->cpos, STREAM_NEED, &p, &n) < 0)
		return -1;
	ZSTD_inBuffer ib = {p, n, 0};
	ZSTD_outBuffer ob = {r->out, r->outcap, 0};
	size_t z = ZSTD_decompressStream(r->ds, &ob, &ib);
	uint64_t c0 = r->cpos;
	r->cpos += ib.pos;
	if (ZSTD_isError(z)) {
		/* the next frame starts after this one's first byte at least */
		uint64_t next =
		    scan_magic(r, c0 + ib.pos > r->frame_c0 ? c0 + ib.pos : r->frame_c0 + 1);
		set_gap(r, tcur(r), PS_OFF_UNKNOWN, c0, next,
			"corrupt zstd data at file offset %llu: %s", (unsigned long long)c0,
			ZSTD_getErrorName(z));
		r->cpos = next;
		r->in_frame = 0;
		r->tknown = 0;
		return 2;
	}
	if (ob.pos)
		XXH64_update(r->xxh, r->out, ob.pos);
	int bad = 0;
	if (z == 0) {
		r->in_frame = 0;
		if (r->frame_ck) {
			const unsigned char *q;
			size_t m;
			if (r->cpos < r->frame_c0 + 4 || in_get(r, r->cpos - 4, 4, &q, &m) < 0 ||
			    m < 4)
				return -1;
			bad = ps_le32(q) != (uint32_t)XXH64_digest(r->xxh);
		}
	}
	if (bad)
		set_gap(r, r->frame_t0,
			tcur(r) == PS_OFF_UNKNOWN ? PS_OFF_UNKNOWN : r->tpos + ob.pos, r->frame_c0,
			r->cpos,
			"the zstd frame at file offset %llu fails its checksum (read in "
			"sequence: members read from it are only as good as their hashes)",
			(unsigned long long)r->frame_c0);
	if (ob.pos) {
		chunk_set(r, r->out, ob.pos, r->tpos);
		r->tpos += ob.pos;
		r->gap_pending = bad;
		return 1;
	}
	if (bad)
		return 2;
	if (z == 0)
		return 0;
	if (n == 0 || (ib.pos == 0 && r->cpos >= r->fsize)) {
		set_gap(r, tcur(r), PS_OFF_UNKNOWN, c0, r->fsize,
			"truncated: the archive ends inside a zstd frame");
		r->cpos = r->fsize;
		r->in_frame = 0;
		return 2;
	}
	return 0;
}

/* Next frame through the seek table. */
static int seek_frame(struct ps_reader *r)
{
	while (r->fi < r->st.n) {
		size_t i = r->fi++;
		uint64_t c0 = r->st.coff[i], c = r->st.coff[i + 1] - c0;
		uint64_t t0 = r->st.toff[i], d = r->st.toff[i + 1] - t0;
		const unsigned char *p;
		size_t n;
		if (in_get(r, c0, (size_t)c, &p, &n) < 0)
			return -1;
		r->cpos = c0 + c;
		r->tpos = t0 + d;
		r->tknown = 1;
		if (n < c) {
			set_gap(r, t0, t0 + d, c0, c0 + c, "truncated: zstd frame %zu is cut short",
				i);
			return 2;
		}
		size_t got = ZSTD_decompressDCtx(r->dc, r->out, (size_t)d, p, (size_t)c);
		if (ZSTD_isError(got) || got != d) {
			set_gap(r, t0, t0 + d, c0, c0 + c, "zstd frame %zu: %s", i,
				ZSTD_isError(got) ? ZSTD_getErrorName(got) : "wrong size");
			return 2;
		}
		if (d) {
			chunk_set(r, r->out, (size_t)d, t0);
			return 1;
		}
	}
	r->src_eof = 1;
	return 0;
}

/* Next frame found by its header (no seek table). */
static int walk_frame(struct ps_reader *r)
{
	for (;;) {
		if (r->in_frame) {
			int st = stream_step(r);
			if (st != 0)
				return st;
			continue;
		}
		if (r->cpos >= r->fsize) {
			r->src_eof = 1;
			return 0;
		}
		const unsigned char *p;
		size_t n;
		uint64_t c0 = r->cpos;
		if (in_get(r, c0, ZSTD_MAX_HDR, &p, &n) < 0)
			return -1;
		uint32_t magic = n >= 4 ? ps_le32(p) : 0;
		if (n >= 8 && (magic & PS_ZSTD_SKIP_MASK) == PS_ZSTD_SKIP_MAGIC) {
			uint64_t skip = 8 + (uint64_t)ps_le32(p + 4);
			if (skip > r->fsize - c0) {
				set_gap(r, tcur(r), tcur(r), c0, r->fsize,
					"truncated: a skippable frame is cut short");
				r->cpos = r->fsize;
				return 2;
			}
			r->cpos += skip;
			continue;
		}
		ZSTD_frameHeader fh;
		size_t hr = magic == PS_ZSTD_MAGIC ? ZSTD_getFrameHeader(&fh, p, n) : 1;
		if (hr != 0) {
			uint64_t next = scan_magic(r, c0 + 1);
			set_gap(r, tcur(r), PS_OFF_UNKNOWN, c0, next, "%s at file offset %llu",
				n < 4 || c0 + n == r->fsize ? "truncated zstd data"
							    : "no zstd frame",
				(unsigned long long)c0);
			r->cpos = next;
			r->tknown = 0;
			return 2;
		}
		uint64_t fcs = fh.frameContentSize;
		if (fcs == ZSTD_CONTENTSIZE_UNKNOWN || fcs == ZSTD_CONTENTSIZE_ERROR ||
		    fcs > PS_FRAME_MAX) {
			/* decoded as a stream: bounded by the window */
			if (fh.windowSize > ((uint64_t)1 << PS_ZSTD_WINDOW_LOG_MAX)) {
				snprintf(r->zerr, sizeof(r->zerr),
					 "a zstd frame needs a %llu MiB window, more than the "
					 "%llu MiB procsnap allows (recompress without --long "
					 "or --ultra)",
					 (unsigned long long)(fh.windowSize >> 20),
					 (unsigned long long)1 << (PS_ZSTD_WINDOW_LOG_MAX - 20));
				return -1;
			}
			if (!r->ds) {
				r->ds = ZSTD_createDStream();
				if (!r->ds) {
					snprintf(r->zerr, sizeof(r->zerr), "out of memory");
					return -1;
				}
				ZSTD_DCtx_setParameter(r->ds, ZSTD_d_windowLogMax,
						       PS_ZSTD_WINDOW_LOG_MAX);
				ZSTD_DCtx_setParameter(r->ds, ZSTD_d_forceIgnoreChecksum,
						       ZSTD_d_ignoreChecksum);
			}
			ZSTD_DCtx_reset(r->ds, ZSTD_reset_session_only);
			if (r->tknown)
				ps_fetch_checkpoint(r->fetch, c0, r->tpos);
			r->in_frame = 1;
			r->frame_c0 = c0;
			r->frame_t0 = tcur(r);
			r->frame_ck = fh.checksumFlag;
			XXH64_reset(r->xxh, 0);
			continue;
		}
		/* Small enough to decode whole: nothing of it is used unless
		 * all of it decodes and its checksum holds. */
		size_t cmax = ZSTD_compressBound((size_t)fcs) + 64;
		if (in_get(r, c0, cmax, &p, &n) < 0)
			return -1;
		size_t csz = ZSTD_findFrameCompressedSize(p, n < cmax ? n : cmax);
		if (ZSTD_isError(csz)) {
			uint64_t next = scan_magic(r, c0 + 1);
			set_gap(r, tcur(r), PS_OFF_UNKNOWN, c0, next,
				"%s zstd frame at file offset %llu: %s",
				c0 + n == r->fsize ? "truncated or corrupt" : "corrupt",
				(unsigned long long)c0, ZSTD_getErrorName(csz));
			r->cpos = next;
			r->tknown = 0;
			return 2;
		}
		if (fcs > r->outcap) {
			r->out = ps_xrealloc(r->out, (size_t)fcs);
			r->outcap = (size_t)fcs;
		}
		size_t got = ZSTD_decompressDCtx(r->dc, r->out, (size_t)fcs, p, csz);
		uint64_t t0 = r->tpos;
		r->cpos = c0 + csz;
		if (ZSTD_isError(got) || got != fcs) {
			/* the frame's extent is known from its header and blocks */
			set_gap(r, tcur(r), r->tknown ? t0 + fcs : PS_OFF_UNKNOWN, c0, c0 + csz,
				"zstd frame at file offset %llu: %s", (unsigned long long)c0,
				ZSTD_isError(got) ? ZSTD_getErrorName(got) : "wrong size");
			r->tpos = t0 + fcs;
			return 2;
		}
		if (r->tknown)
			ps_fetch_checkpoint(r->fetch, c0, t0);
		r->tpos = t0 + fcs;
		if (fcs) {
			chunk_set(r, r->out, (size_t)fcs, t0);
			return 1;
		}
	}
}

/* The next chunk of the tar stream: 1 (r->chunk...), 0 at the end, 2 a gap
 * (r->gap; the source has moved past it), -1 an error (r->zerr). */
static int src_next(struct ps_reader *r)
{
	if (r->gap_pending) {
		r->gap_pending = 0;
		return 2;
	}
	if (r->src_eof)
		return 0;
	if (!r->zstd) {
		if (r->cpos >= r->fsize) {
			r->src_eof = 1;
			return 0;
		}
		const unsigned char *p;
		size_t n;
		if (in_get(r, r->cpos, IN_CHUNK, &p, &n) < 0)
			return -1;
		if (n > IN_CHUNK)
			n = IN_CHUNK;
		if (n == 0) {
			r->src_eof = 1;
			return 0;
		}
		r->tpos = r->cpos;
		chunk_set(r, (const char *)p, n, r->cpos);
		r->cpos += n;
		r->tpos = r->cpos;
		return 1;
	}
	int st = r->st.n ? seek_frame(r) : walk_frame(r);
	if (st == 2)
		realign(r);
	return st;
}

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
	dmg_begin(r, t_from != PS_OFF_UNKNOWN ? t_from : r->gap.t_from, path, r->gap.msg);
	if (!was || r->dmg.file_from == PS_OFF_UNKNOWN)
		r->dmg.file_from = r->gap.c_from;
	r->dmg.file_to = r->gap.c_to;
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
	if (r->chunk_pos >= r->chunk_len) {
		int st = src_next(r);
		if (st == 0)
			return 0;
		if (st == 2) {
			r->a_gap = 1;
			archive_set_error(a, EIO, "%s", r->gap.msg);
			return -1;
		}
		if (st < 0) {
			r->a_hard = 1;
			archive_set_error(a, EIO, "%s", r->zerr);
			return -1;
		}
	}
	*buf = r->chunk + r->chunk_pos;
	size_t n = r->chunk_len - r->chunk_pos;
	r->last_is_chunk = 1;
	r->last_fed0 = r->a_fed;
	r->last_pos0 = r->chunk_pos;
	r->chunk_pos = r->chunk_len;
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
		if (r->chunk_pos >= r->chunk_len) {
			int st = src_next(r);
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
			uint64_t s = r->chunk_s + r->chunk_pos;
			uint64_t mis = (s - r->align_s) % 512;
			if (mis) {
				size_t skip = 512 - (size_t)mis;
				size_t left = r->chunk_len - r->chunk_pos;
				r->chunk_pos += skip < left ? skip : left;
				continue;
			}
			b_t = r->chunk_t + r->chunk_pos;
			b_tknown = r->chunk_tknown;
		}
		size_t take = 512 - have, left = r->chunk_len - r->chunk_pos;
		if (take > left)
			take = left;
		memcpy(r->blk + have, r->chunk + r->chunk_pos, take);
		r->chunk_pos += take;
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
			return ps_err_set(err, EIO, "%s: %s", r->name, r->zerr);
		r->need_resync = 0;
		if (st == 0) {
			if (r->dmg_open)
				dmg_close(r, tcur(r), 1);
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
	if (r->a_hard || r->ioerr)
		return ps_err_set(err, EIO, "%s: %s", r->name, r->zerr);
	if (r->a_gap) {
		dmg_gap(r, ctx_t(r, 0), NULL);
		ctx_free(r);
		r->need_resync = 1;
		return 0;
	}
	if (first) {
		int rc =
		    ps_err_set(err, EINVAL, "%s: %s", r->name,
			       r->spos == 0 ? "empty archive" : "not a tar or tar.zst archive");
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
	if (r->a_hard || r->ioerr)
		return ps_err_set(err, EIO, "%s: %s", r->name, r->zerr);
	if (r->a_gap) {
		dmg_gap(r, from, cut);
		ctx_free(r);
		r->need_resync = 1;
		return 0;
	}
	if (r->src_eof) {
		char m[160];
		snprintf(m, sizeof(m), "truncated: the archive ends %s",
			 cut ? "inside a member" : "inside a tar header");
		dmg_begin(r, from, cut, m);
		ctx_free(r);
		dmg_close(r, tcur(r), 1);
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
		if (back < r->chunk_len)
			r->chunk_pos = (size_t)back;
	}
	ctx_free(r);
	if (!marker)
		dmg_begin(r, ctx_t(r, (int64_t)r->last_end), NULL,
			  "truncated: no end-of-archive marker");
	int st = tar_resync(r);
	if (st < 0)
		return ps_err_set(err, EIO, "%s: %s", r->name, r->zerr);
	if (st == 0) {
		if (r->dmg_open)
			dmg_close(r, tcur(r), 1);
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
 * The member whose header libarchive just read: its data (loaded, or left
 * for ps_reader_stream), offsets and hash.  1 with *m, 0 when damage cut it
 * (reported later), -1 error.
 */
static int take_member(struct ps_reader *r, struct archive_entry *e, struct ps_rmember *m,
		       struct ps_err *err)
{
	const char *name = archive_entry_pathname(e);
	if (!name || !*name)
		return hostile(r, err, "malformed archive: a member without a name");
	uint64_t hpos = ctx_t(r, archive_read_header_position(r->a));
	free(r->cur_path);
	free(r->cur_target);
	free(r->cur_hardlink);
	r->cur_path = ps_xstrdup(name);
	/* tar stores directories as "dir/": report the path as captured */
	size_t pl = strlen(r->cur_path);
	while (pl > 1 && r->cur_path[pl - 1] == '/')
		r->cur_path[--pl] = '\0';
	const char *t = archive_entry_symlink(e);
	r->cur_target = t ? ps_xstrdup(t) : NULL;
	const char *h = archive_entry_hardlink(e);
	r->cur_hardlink = h ? ps_xstrdup(h) : NULL;
	unsigned ft = archive_entry_filetype(e);
	if (h)
		ft = AE_IFREG; /* a pax hardlink header may carry no file type */
	la_int64_t size = archive_entry_size(e);
	if (size < 0)
		return hostile(r, err, "malformed archive: member %s has a negative size",
			       r->cur_path);
	if (ft != AE_IFREG && ft != AE_IFLNK && ft != AE_IFDIR)
		return hostile(r, err, "not a procsnap archive: unexpected type of member %s",
			       r->cur_path);
	memset(m, 0, sizeof(*m));
	m->path = r->cur_path;
	m->kind = ft == AE_IFLNK ? PS_M_LINK : ft == AE_IFDIR ? PS_M_DIR : PS_M_FILE;
	m->mode = archive_entry_mode(e);
	m->uid = (uint32_t)archive_entry_uid(e);
	m->gid = (uint32_t)archive_entry_gid(e);
	m->mtime = archive_entry_mtime(e);
	m->target = r->cur_target;
	m->hardlink = r->cur_hardlink;
	m->header_off = hpos;
	r->cur_hoff = hpos;
	int load = ft == AE_IFREG && !h;
	if (load && strcmp(r->cur_path, PS_MANIFEST_PATH) == 0) {
		/* The manifest can be hundreds of MiB: it is streamed. */
		r->streaming = 1;
		r->stream_cut = 0;
		r->nmembers++;
		m->streaming = 1;
		m->data = NULL;
		m->len = (size_t)size;
		return 1;
	}
	if (load && (uint64_t)size > PS_MEMBER_MAX)
		return hostile(r, err,
			       "member %s claims %llu bytes, more than the %llu MiB a member "
			       "may hold",
			       r->cur_path, (unsigned long long)size,
			       (unsigned long long)(PS_MEMBER_MAX >> 20));
	if (load && strcmp(r->cur_path, PS_META_PATH) == 0 && (uint64_t)size > PS_META_MAX)
		return hostile(r, err, "%s claims %llu bytes, more than %llu", PS_META_PATH,
			       (unsigned long long)size, (unsigned long long)PS_META_MAX);
	/* The data grows as it arrives, never by the size the header claims. */
	ps_buf_reset(&r->data);
	int64_t first = -1; /* context offset of the data */
	for (;;) {
		const void *b;
		size_t n;
		la_int64_t off;
		int rr = archive_read_data_block(r->a, &b, &n, &off);
		if (rr == ARCHIVE_EOF)
			break;
		if (rr < ARCHIVE_WARN && load && first >= 0 && r->data.len == (uint64_t)size &&
		    (r->a_gap || r->src_eof)) {
			/* All of the data arrived, only the padding after it did
			 * not: the member is whole, the damage starts after it. */
			r->fail_pending = 1;
			r->fail_from = ctx_t(r, first + size);
			break;
		}
		if (rr < ARCHIVE_WARN)
			return ctx_failed(r, hpos, r->cur_path, err) < 0 ? -1 : 0;
		if (!load || !n)
			continue;
		if (first < 0) /* libarchive consumes a block on the next call */
			first = archive_filter_bytes(r->a, -1) - off;
		if (off < 0 || (uint64_t)off != r->data.len ||
		    (uint64_t)r->data.len + n > (uint64_t)size)
			return hostile(r, err, "malformed archive: sparse or oversized data in %s",
				       r->cur_path);
		ps_buf_add(&r->data, b, n);
	}
	if (load && r->data.len != (uint64_t)size)
		return hostile(r, err, "malformed archive: short data in %s", r->cur_path);
	int64_t end = archive_filter_bytes(r->a, -1);
	r->last_end = end > 0 ? (uint64_t)end : 0;
	m->data_off = ctx_t(r, first >= 0 ? first : end);
	m->data = load ? r->data.buf : "";
	m->len = load ? r->data.len : 0;
	if (m->kind == PS_M_FILE)
		ps_xxh3_128(m->data, m->len, m->xxh3);
	else if (m->kind == PS_M_LINK && m->target)
		ps_xxh3_128(m->target, strlen(m->target), m->xxh3);
	r->nmembers++;
	return 1;
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
			if (!r->salvage)
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
		if (st == ARCHIVE_WARN) {
			/* libarchive ignored part of a header whose checksum holds
			 * (a pax record it rejects): crafted, not damaged */
			char w[300];
			snprintf(w, sizeof(w), "%s", archive_error_string(r->a));
			return hostile(r, err, "malformed archive: %s", w);
		}
		if (st == ARCHIVE_OK) {
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
			if (ctx_failed(r, r->cur_hoff, r->cur_path, err) < 0)
				return -1;
			if (!r->salvage && r->dmg_ready) {
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
						  r->name, r->cur_path ? r->cur_path : "a member",
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
					  r->name, r->cur_path ? r->cur_path : "a member");
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
	char *buf = ps_xmalloc(IN_CHUNK);
	for (;;) {
		ssize_t n = read(in, buf, IN_CHUNK);
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
	}
	free(buf);
	return fd;
fail:
	free(buf);
	close(fd);
	return -1;
}

int ps_reader_open(struct ps_reader **rp, const char *path, struct ps_err *err)
{
	return ps_reader_open_with(rp, path, NULL, err);
}

int ps_reader_open_with(struct ps_reader **rp, const char *path, const struct ps_reader_opts *o,
			struct ps_err *err)
{
	int is_stdin = strcmp(path, "-") == 0;
	const char *name = is_stdin ? "standard input" : path;
	int fd = is_stdin ? dup(0) : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ps_err_set(err, errno, "%s: %s", name, strerror(errno));
	struct stat sb;
	if (fstat(fd, &sb) < 0) {
		int e = errno;
		close(fd);
		return ps_err_set(err, e, "%s: %s", name, strerror(e));
	}
	if (!S_ISREG(sb.st_mode)) { /* a pipe: keep a copy to read again */
		int t = spool(fd, o ? o->tmpdir : NULL, name, err);
		close(fd);
		if (t < 0)
			return -1;
		fd = t;
		if (fstat(fd, &sb) < 0) {
			int e = errno;
			close(fd);
			return ps_err_set(err, e, "%s: %s", name, strerror(e));
		}
	}
	struct ps_reader *r = ps_xcalloc(1, sizeof(*r));
	r->fd = fd;
	r->name = ps_xstrdup(name);
	r->fsize = (uint64_t)sb.st_size;
	r->salvage = o && o->salvage;
	r->tknown = 1;
	ps_buf_init(&r->data);
	ps_buf_init(&r->line);
	r->incap = IN_CHUNK;
	r->in = ps_xmalloc(r->incap);
	r->outcap = ZSTD_DStreamOutSize();
	r->out = ps_xmalloc(r->outcap);
	r->dc = ZSTD_createDCtx();
	r->sha = EVP_MD_CTX_new();
	r->xxh = XXH64_createState();
	if (!r->dc || !r->sha || !r->xxh || !EVP_DigestInit_ex(r->sha, EVP_sha256(), NULL)) {
		ps_reader_close(r);
		return ps_err_set(err, ENOMEM, "cannot set up zstd/sha256 contexts");
	}
	ZSTD_DCtx_setParameter(r->dc, ZSTD_d_windowLogMax, PS_ZSTD_WINDOW_LOG_MAX);
	/* zstd (a frame or a skippable frame first), a tar (ustar magic), or
	 * neither. */
	const unsigned char *p;
	size_t n;
	if (in_get(r, 0, 512, &p, &n) < 0) {
		ps_err_set(err, EIO, "%s: %s", name, r->zerr);
		goto fail;
	}
	uint32_t magic = n >= 4 ? ps_le32(p) : 0;
	if (magic == PS_ZSTD_MAGIC || (magic & PS_ZSTD_SKIP_MASK) == PS_ZSTD_SKIP_MAGIC) {
		r->zstd = 1;
	} else if (n < 512 || memcmp(p + 257, "ustar", 5) != 0) {
		ps_err_set(err, EINVAL, "%s: %s", name,
			   n == 0 ? "empty file, not a tar or tar.zst archive"
				  : "not a tar or tar.zst archive");
		goto fail;
	}
	if (r->zstd) {
		if (ps_seektable_load(fd, r->fsize, &r->st, err) < 0) {
			ps_err_prefix(err, "%s", name);
			goto fail;
		}
		if (r->st.max_dsize > r->outcap) {
			r->out = ps_xrealloc(r->out, (size_t)r->st.max_dsize);
			r->outcap = (size_t)r->st.max_dsize;
		}
	}
	if (ps_fetch_open_fd(fd, name, &r->st, r->zstd, &r->fetch, err) < 0)
		goto fail;
	*rp = r;
	return 0;
fail:
	ps_reader_close(r);
	return -1;
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
	if (i >= r->st.n)
		return 0;
	f->c_off = r->st.coff[i];
	f->c_size = r->st.coff[i + 1] - r->st.coff[i];
	f->t_off = r->st.toff[i];
	f->t_size = r->st.toff[i + 1] - r->st.toff[i];
	return 1;
}

uint64_t ps_reader_file_size(const struct ps_reader *r)
{
	return r->fsize;
}

void ps_reader_sha256(struct ps_reader *r, unsigned char out[32])
{
	/* Hash what the iteration did not need (the end, the seek table). */
	sha_feed(r, r->fsize, NULL, 0);
	unsigned int len = 0;
	EVP_DigestFinal_ex(r->sha, out, &len);
	EVP_DigestInit_ex(r->sha, EVP_sha256(), NULL);
	r->sha_pos = 0;
}

void ps_reader_close(struct ps_reader *r)
{
	if (!r)
		return;
	ctx_free(r);
	ps_fetch_close(r->fetch);
	ps_seektable_free(&r->st);
	ZSTD_freeDCtx(r->dc);
	ZSTD_freeDStream(r->ds);
	EVP_MD_CTX_free(r->sha);
	XXH64_freeState(r->xxh);
	if (r->fd >= 0)
		close(r->fd);
	free(r->in);
	free(r->out);
	free(r->name);
	free(r->cur_path);
	free(r->cur_target);
	free(r->cur_hardlink);
	free(r->dmg_path);
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
	size_t nf = 0, start = 0;
	for (size_t i = 0; i <= len; i++) {
		if (i == len || line[i] == '\t') {
			if (nf == 6)
				return -1;
			f[nf] = line + start;
			fl[nf] = i - start;
			nf++;
			start = i + 1;
		}
	}
	if (nf != 6)
		return -1;
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
