/*
 * source.c - the tar stream inside an archive file (store_int.h ps_src).
 *
 * A plain tar is the file.  A tar.zst is decoded frame by frame: through
 * the seek table when it has a usable one, else by walking the frame
 * headers (skippable frames, such as the trailer, are skipped).  A frame
 * whose size is known and at most PS_FRAME_MAX is decoded whole before any
 * of it is handed out, so a frame that fails its checksum gives nothing; a
 * larger one (or one of unknown size: `zstd` from a pipe) is decoded as a
 * stream, within PS_ZSTD_WINDOW_LOG_MAX.  A frame that does not decode is a
 * gap: its tar range (exact with a seek table or the frame header's content
 * size, else unknown from there on) and file range are reported, and the
 * source goes on at the next frame (without a seek table: the next zstd
 * magic number that starts a frame header).
 *
 * Input is read through one window buffer with pread; every byte of the
 * file is hashed (SHA-256) once, in file order, as it is first read, and
 * what decoding never needs (the trailer) at the end.
 */
#include "store.h"
#include "store_int.h"

#include <errno.h>
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

#define IN_CHUNK     ((size_t)1 << 20)
#define STREAM_NEED  ((size_t)128 << 10)
#define ZSTD_MAX_HDR 18 /* ZSTD_FRAMEHEADERSIZE_MAX */

/* ---- input ------------------------------------------------------------------ */

/* Hash [off, off + n) if it extends what is hashed, reading any skipped
 * bytes first, so the digest covers every byte of the file in order. */
static void sha_feed(struct ps_src *s, uint64_t off, const unsigned char *p, size_t n)
{
	unsigned char buf[65536];
	if (s->no_sha)
		return;
	while (s->sha_pos < off) {
		uint64_t want = off - s->sha_pos;
		size_t k = want < sizeof(buf) ? (size_t)want : sizeof(buf);
		ssize_t got = pread(s->fd, buf, k, (off_t)s->sha_pos);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			s->ioerr = 1;
			return;
		}
		EVP_DigestUpdate(s->sha, buf, (size_t)got);
		s->sha_pos += (uint64_t)got;
	}
	if (off + n > s->sha_pos) {
		size_t skip = (size_t)(s->sha_pos - off);
		EVP_DigestUpdate(s->sha, p + skip, n - skip);
		s->sha_pos = off + n;
	}
}

/* Make at least min(need, what the file has from off) bytes at off
 * available in the window: *p and *avail (which may exceed need).  -1 on a
 * read error (s->err). */
static int in_get(struct ps_src *s, uint64_t off, size_t need, const unsigned char **p,
		  size_t *avail)
{
	if (off > s->fsize)
		off = s->fsize;
	if (need > s->fsize - off)
		need = (size_t)(s->fsize - off);
	if (off < s->in_off || off > s->in_off + s->in_len) {
		s->in_off = off;
		s->in_len = 0;
	}
	size_t have = (size_t)(s->in_off + s->in_len - off);
	if (have < need) {
		memmove(s->in, s->in + (off - s->in_off), have);
		s->in_off = off;
		s->in_len = have;
		if (need > s->incap) {
			s->in = ps_xrealloc(s->in, need);
			s->incap = need;
		}
		while (s->in_len < need) {
			uint64_t at = s->in_off + s->in_len;
			size_t room = s->incap - s->in_len;
			if (room > s->fsize - at)
				room = (size_t)(s->fsize - at);
			ssize_t n = pread(s->fd, s->in + s->in_len, room, (off_t)at);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				snprintf(s->err, sizeof(s->err), "read: %s", strerror(errno));
				s->ioerr = 1;
				return -1;
			}
			if (n == 0) { /* the file shrank under us */
				s->fsize = at;
				break;
			}
			sha_feed(s, at, s->in + s->in_len, (size_t)n);
			s->in_len += (size_t)n;
		}
	}
	*p = s->in + (off - s->in_off);
	*avail = (size_t)(s->in_off + s->in_len - off);
	return 0;
}

/* ---- the tar stream --------------------------------------------------------- */

static void set_gap(struct ps_src *s, uint64_t t_from, uint64_t t_to, uint64_t c_from,
		    uint64_t c_to, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static void set_gap(struct ps_src *s, uint64_t t_from, uint64_t t_to, uint64_t c_from,
		    uint64_t c_to, const char *fmt, ...)
{
	va_list ap;
	s->gap.t_from = t_from;
	s->gap.t_to = t_to;
	s->gap.c_from = c_from;
	s->gap.c_to = c_to;
	va_start(ap, fmt);
	vsnprintf(s->gap.msg, sizeof(s->gap.msg), fmt, ap);
	va_end(ap);
}

uint64_t ps_src_tcur(const struct ps_src *s)
{
	return s->tknown ? s->tpos : PS_OFF_UNKNOWN;
}

/* Next file offset >= from where a zstd frame header parses, or fsize. */
static uint64_t scan_magic(struct ps_src *s, uint64_t from)
{
	while (from + 4 <= s->fsize) {
		const unsigned char *p;
		size_t n;
		if (in_get(s, from, IN_CHUNK, &p, &n) < 0)
			return s->fsize;
		if (n < 4)
			break;
		for (size_t i = 0; i + 4 <= n; i++) {
			if (p[i] != 0x28 || ps_le32(p + i) != PS_ZSTD_MAGIC)
				continue;
			const unsigned char *q;
			size_t m;
			if (in_get(s, from + i, ZSTD_MAX_HDR, &q, &m) < 0)
				return s->fsize;
			ZSTD_frameHeader fh;
			if (ZSTD_getFrameHeader(&fh, q, m) == 0)
				return from + i;
			if (in_get(s, from, IN_CHUNK, &p, &n) < 0) /* window moved */
				return s->fsize;
		}
		from += n - 3;
	}
	return s->fsize;
}

static void chunk_set(struct ps_src *s, const char *p, size_t n, uint64_t t)
{
	s->chunk = p;
	s->chunk_len = n;
	s->chunk_pos = 0;
	s->chunk_t = t;
	s->chunk_tknown = s->tknown;
	s->chunk_s = s->spos;
	s->spos += n;
}

/* After a gap, headers are 512-aligned from the next known tar offset, or
 * (offset unknown) from the next byte out. */
static void realign(struct ps_src *s)
{
	s->align_s = s->spos - (s->tknown ? s->tpos % 512 : 0);
}

/*
 * One step of a frame decoded as a stream: 1 chunk, 0 frame done (no
 * output), 2 gap, -1 error.  libzstd withholds the last block of a frame
 * whose checksum fails, so the checksum is checked here (XXH64 of the
 * content, RFC 8878 3.1.1) and everything decoded is handed out: members
 * read from such a frame are then judged by their own hashes.
 */
static int stream_step(struct ps_src *s)
{
	const unsigned char *p;
	size_t n;
	if (in_get(s, s->cpos, STREAM_NEED, &p, &n) < 0)
		return -1;
	ZSTD_inBuffer ib = {p, n, 0};
	ZSTD_outBuffer ob = {s->out, s->outcap, 0};
	size_t z = ZSTD_decompressStream(s->ds, &ob, &ib);
	uint64_t c0 = s->cpos;
	s->cpos += ib.pos;
	if (ZSTD_isError(z)) {
		/* the next frame starts after this one's first byte at least */
		uint64_t next =
		    scan_magic(s, c0 + ib.pos > s->frame_c0 ? c0 + ib.pos : s->frame_c0 + 1);
		set_gap(s, ps_src_tcur(s), PS_OFF_UNKNOWN, c0, next,
			"corrupt zstd data at file offset %llu: %s", (unsigned long long)c0,
			ZSTD_getErrorName(z));
		s->cpos = next;
		s->in_frame = 0;
		s->tknown = 0;
		return 2;
	}
	if (ob.pos)
		XXH64_update(s->xxh, s->out, ob.pos);
	int bad = 0;
	if (z == 0) {
		s->in_frame = 0;
		if (s->frame_ck) {
			const unsigned char *q;
			size_t m;
			if (s->cpos < s->frame_c0 + 4 || in_get(s, s->cpos - 4, 4, &q, &m) < 0 ||
			    m < 4)
				return -1;
			bad = ps_le32(q) != (uint32_t)XXH64_digest(s->xxh);
		}
	}
	if (bad)
		set_gap(s, s->frame_t0,
			ps_src_tcur(s) == PS_OFF_UNKNOWN ? PS_OFF_UNKNOWN : s->tpos + ob.pos,
			s->frame_c0, s->cpos,
			"the zstd frame at file offset %llu fails its checksum (read in "
			"sequence: members read from it are only as good as their hashes)",
			(unsigned long long)s->frame_c0);
	if (ob.pos) {
		chunk_set(s, s->out, ob.pos, s->tpos);
		s->tpos += ob.pos;
		s->gap_pending = bad;
		return 1;
	}
	if (bad)
		return 2;
	if (z == 0)
		return 0;
	if (n == 0 || (ib.pos == 0 && s->cpos >= s->fsize)) {
		set_gap(s, ps_src_tcur(s), PS_OFF_UNKNOWN, c0, s->fsize,
			"truncated: the archive ends inside a zstd frame");
		s->cpos = s->fsize;
		s->in_frame = 0;
		return 2;
	}
	return 0;
}

/* Next frame through the seek table. */
static int seek_frame(struct ps_src *s)
{
	while (s->fi < s->st.n) {
		size_t i = s->fi++;
		uint64_t c0 = s->st.coff[i], c = s->st.coff[i + 1] - c0;
		uint64_t t0 = s->st.toff[i], d = s->st.toff[i + 1] - t0;
		const unsigned char *p;
		size_t n;
		if (in_get(s, c0, (size_t)c, &p, &n) < 0)
			return -1;
		s->cpos = c0 + c;
		s->tpos = t0 + d;
		s->tknown = 1;
		if (n < c) {
			set_gap(s, t0, t0 + d, c0, c0 + c, "truncated: zstd frame %zu is cut short",
				i);
			return 2;
		}
		size_t got = ZSTD_decompressDCtx(s->dc, s->out, (size_t)d, p, (size_t)c);
		if (ZSTD_isError(got) || got != d) {
			set_gap(s, t0, t0 + d, c0, c0 + c, "zstd frame %zu: %s", i,
				ZSTD_isError(got) ? ZSTD_getErrorName(got) : "wrong size");
			return 2;
		}
		if (d) {
			chunk_set(s, s->out, (size_t)d, t0);
			return 1;
		}
	}
	s->eof = 1;
	return 0;
}

/* Next frame found by its header (no seek table). */
static int walk_frame(struct ps_src *s)
{
	for (;;) {
		if (s->in_frame) {
			int st = stream_step(s);
			if (st != 0)
				return st;
			continue;
		}
		if (s->cpos >= s->fsize) {
			s->eof = 1;
			return 0;
		}
		const unsigned char *p;
		size_t n;
		uint64_t c0 = s->cpos;
		if (in_get(s, c0, ZSTD_MAX_HDR, &p, &n) < 0)
			return -1;
		uint32_t magic = n >= 4 ? ps_le32(p) : 0;
		if (n >= 8 && (magic & PS_ZSTD_SKIP_MASK) == PS_ZSTD_SKIP_MAGIC) {
			uint64_t skip = 8 + (uint64_t)ps_le32(p + 4);
			if (skip > s->fsize - c0) {
				set_gap(s, ps_src_tcur(s), ps_src_tcur(s), c0, s->fsize,
					"truncated: a skippable frame is cut short");
				s->cpos = s->fsize;
				return 2;
			}
			s->cpos += skip;
			continue;
		}
		ZSTD_frameHeader fh;
		size_t hr = magic == PS_ZSTD_MAGIC ? ZSTD_getFrameHeader(&fh, p, n) : 1;
		if (hr != 0) {
			uint64_t next = scan_magic(s, c0 + 1);
			set_gap(
			    s, ps_src_tcur(s), PS_OFF_UNKNOWN, c0, next, "%s at file offset %llu",
			    n < 4 || c0 + n == s->fsize ? "truncated zstd data" : "no zstd frame",
			    (unsigned long long)c0);
			s->cpos = next;
			s->tknown = 0;
			return 2;
		}
		uint64_t fcs = fh.frameContentSize;
		if (fcs == ZSTD_CONTENTSIZE_UNKNOWN || fcs == ZSTD_CONTENTSIZE_ERROR ||
		    fcs > PS_FRAME_MAX) {
			/* decoded as a stream: bounded by the window */
			if (fh.windowSize > ((uint64_t)1 << PS_ZSTD_WINDOW_LOG_MAX)) {
				snprintf(s->err, sizeof(s->err),
					 "a zstd frame needs a %llu MiB window, more than the "
					 "%llu MiB procsnap allows (recompress without --long "
					 "or --ultra)",
					 (unsigned long long)(fh.windowSize >> 20),
					 (unsigned long long)1 << (PS_ZSTD_WINDOW_LOG_MAX - 20));
				return -1;
			}
			if (!s->ds) {
				s->ds = ZSTD_createDStream();
				if (!s->ds) {
					snprintf(s->err, sizeof(s->err), "out of memory");
					return -1;
				}
				ZSTD_DCtx_setParameter(s->ds, ZSTD_d_windowLogMax,
						       PS_ZSTD_WINDOW_LOG_MAX);
				ZSTD_DCtx_setParameter(s->ds, ZSTD_d_forceIgnoreChecksum,
						       ZSTD_d_ignoreChecksum);
			}
			ZSTD_DCtx_reset(s->ds, ZSTD_reset_session_only);
			if (s->tknown)
				ps_fetch_checkpoint(s->fetch, c0, s->tpos);
			s->in_frame = 1;
			s->frame_c0 = c0;
			s->frame_t0 = ps_src_tcur(s);
			s->frame_ck = fh.checksumFlag;
			XXH64_reset(s->xxh, 0);
			continue;
		}
		/* Small enough to decode whole: nothing of it is used unless
		 * all of it decodes and its checksum holds. */
		size_t cmax = ZSTD_compressBound((size_t)fcs) + 64;
		if (in_get(s, c0, cmax, &p, &n) < 0)
			return -1;
		size_t csz = ZSTD_findFrameCompressedSize(p, n < cmax ? n : cmax);
		if (ZSTD_isError(csz)) {
			uint64_t next = scan_magic(s, c0 + 1);
			set_gap(s, ps_src_tcur(s), PS_OFF_UNKNOWN, c0, next,
				"%s zstd frame at file offset %llu: %s",
				c0 + n == s->fsize ? "truncated or corrupt" : "corrupt",
				(unsigned long long)c0, ZSTD_getErrorName(csz));
			s->cpos = next;
			s->tknown = 0;
			return 2;
		}
		if (fcs > s->outcap) {
			s->out = ps_xrealloc(s->out, (size_t)fcs);
			s->outcap = (size_t)fcs;
		}
		size_t got = ZSTD_decompressDCtx(s->dc, s->out, (size_t)fcs, p, csz);
		uint64_t t0 = s->tpos;
		s->cpos = c0 + csz;
		if (ZSTD_isError(got) || got != fcs) {
			/* the frame's extent is known from its header and blocks */
			set_gap(s, ps_src_tcur(s), s->tknown ? t0 + fcs : PS_OFF_UNKNOWN, c0,
				c0 + csz, "zstd frame at file offset %llu: %s",
				(unsigned long long)c0,
				ZSTD_isError(got) ? ZSTD_getErrorName(got) : "wrong size");
			s->tpos = t0 + fcs;
			return 2;
		}
		if (s->tknown)
			ps_fetch_checkpoint(s->fetch, c0, t0);
		s->tpos = t0 + fcs;
		if (fcs) {
			chunk_set(s, s->out, (size_t)fcs, t0);
			return 1;
		}
	}
}

/* The next chunk of the tar stream: 1 (s->chunk...), 0 at the end, 2 a gap
 * (s->gap; the source has moved past it), -1 an error (s->err). */
int ps_src_next(struct ps_src *s)
{
	if (s->gap_pending) {
		s->gap_pending = 0;
		return 2;
	}
	if (s->eof)
		return 0;
	if (!s->zstd) {
		if (s->cpos >= s->fsize) {
			s->eof = 1;
			return 0;
		}
		const unsigned char *p;
		size_t n;
		if (in_get(s, s->cpos, IN_CHUNK, &p, &n) < 0)
			return -1;
		if (n > IN_CHUNK)
			n = IN_CHUNK;
		if (n == 0) {
			s->eof = 1;
			return 0;
		}
		s->tpos = s->cpos;
		chunk_set(s, (const char *)p, n, s->cpos);
		s->cpos += n;
		s->tpos = s->cpos;
		return 1;
	}
	int st = s->st.n ? seek_frame(s) : walk_frame(s);
	if (st == 2)
		realign(s);
	return st;
}

/* ---- set up ----------------------------------------------------------------- */

int ps_src_open(struct ps_src *s, int fd, const char *name, int no_sha, struct ps_err *err)
{
	struct stat sb;
	memset(s, 0, sizeof(*s));
	s->no_sha = no_sha;
	s->fd = fd;
	s->tknown = 1;
	if (fstat(fd, &sb) < 0)
		return ps_err_set(err, errno, "%s: %s", name, strerror(errno));
	s->fsize = (uint64_t)sb.st_size;
	s->incap = IN_CHUNK;
	s->in = ps_xmalloc(s->incap);
	s->outcap = ZSTD_DStreamOutSize();
	s->out = ps_xmalloc(s->outcap);
	s->dc = ZSTD_createDCtx();
	s->sha = EVP_MD_CTX_new();
	s->xxh = XXH64_createState();
	if (!s->dc || !s->sha || !s->xxh || !EVP_DigestInit_ex(s->sha, EVP_sha256(), NULL))
		return ps_err_set(err, ENOMEM, "cannot set up zstd/sha256 contexts");
	ZSTD_DCtx_setParameter(s->dc, ZSTD_d_windowLogMax, PS_ZSTD_WINDOW_LOG_MAX);
	/* zstd (a frame or a skippable frame first), a tar (ustar magic), or
	 * neither. */
	const unsigned char *p;
	size_t n;
	if (in_get(s, 0, 512, &p, &n) < 0)
		return ps_err_set(err, EIO, "%s: %s", name, s->err);
	uint32_t magic = n >= 4 ? ps_le32(p) : 0;
	if (magic == PS_ZSTD_MAGIC || (magic & PS_ZSTD_SKIP_MASK) == PS_ZSTD_SKIP_MAGIC)
		s->zstd = 1;
	else if (n < 512 || memcmp(p + 257, "ustar", 5) != 0)
		return ps_err_set(err, EINVAL, "%s: %s", name,
				  n == 0 ? "empty file, not a tar or tar.zst archive"
					 : "not a tar or tar.zst archive");
	if (!s->zstd)
		return 0;
	if (ps_seektable_load(fd, s->fsize, &s->st, err) < 0)
		return ps_err_prefix(err, "%s", name);
	if (s->st.max_dsize > s->outcap) {
		s->out = ps_xrealloc(s->out, (size_t)s->st.max_dsize);
		s->outcap = (size_t)s->st.max_dsize;
	}
	return 0;
}

int ps_src_start(struct ps_src *s, uint64_t c_off, struct ps_err *err)
{
	if (c_off >= s->fsize)
		return ps_err_set(err, EINVAL, "offset %llu is past the end of the file",
				  (unsigned long long)c_off);
	s->cpos = c_off;
	s->in_off = s->in_len = 0;
	s->sha_pos = c_off; /* hash from there */
	EVP_DigestInit_ex(s->sha, EVP_sha256(), NULL);
	if (!s->zstd) {
		if (c_off % 512)
			return ps_err_set(err, EINVAL, "offset %llu is not a tar block",
					  (unsigned long long)c_off);
		s->tpos = c_off;
		s->tknown = 1;
	} else if (s->st.n) {
		size_t lo = 0, hi = s->st.n; /* the frame starting at c_off */
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (s->st.coff[mid] < c_off)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo == s->st.n || s->st.coff[lo] != c_off)
			return ps_err_set(err, EINVAL, "offset %llu is not a zstd frame",
					  (unsigned long long)c_off);
		s->fi = lo;
		s->tpos = s->st.toff[lo];
		s->tknown = 1;
	} else {
		s->tpos = 0;
		s->tknown = 0;
	}
	realign(s);
	return 0;
}

void ps_src_sha256(struct ps_src *s, unsigned char out[32])
{
	if (s->no_sha) {
		memset(out, 0, 32);
		return;
	}
	sha_feed(s, s->fsize, NULL, 0);
	unsigned int len = 0;
	EVP_DigestFinal_ex(s->sha, out, &len);
	EVP_DigestInit_ex(s->sha, EVP_sha256(), NULL);
	s->sha_pos = 0;
}

void ps_src_close(struct ps_src *s)
{
	ps_seektable_free(&s->st);
	ZSTD_freeDCtx(s->dc);
	ZSTD_freeDStream(s->ds);
	EVP_MD_CTX_free(s->sha);
	XXH64_freeState(s->xxh);
	free(s->in);
	free(s->out);
	memset(s, 0, sizeof(*s));
	s->fd = -1;
}
