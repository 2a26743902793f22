/*
 * fetch.c - random access by tar offset to an archive of any shape.
 *
 * With a seek table, a fetcher keeps the table and the last decompressed
 * frame, so a caller that asks in ascending tar offset order (diff) has each
 * frame decompressed at most once, and frames holding nothing asked for not
 * at all.  Without one (a tar.zst made by zstd or tar, frames without the
 * trailer) it decompresses in sequence: from the last frame start it knows
 * before the offset (checkpoints, learnt as it goes and from the streaming
 * reader), or onwards from where the previous request ended when requests
 * ascend.  A plain tar is read with pread.  Input is hostile: lengths are
 * checked against PS_MEMBER_MAX and the file, every failure is one line.
 */
#include "store.h"
#include "store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

/* At most this many checkpoints are kept (16 bytes each); past it every
 * other one is dropped and the spacing doubles. */
#define CKPT_MAX  4096
#define CKPT_STEP ((uint64_t)1 << 20)

struct ps_fetch {
	int fd;
	char *path;
	uint64_t fsize;
	int zstd;
	struct ps_seektable st; /* st.n == 0: no usable seek table */
	ZSTD_DCtx *dc;
	unsigned char *in;
	size_t incap;
	char *frame; /* decompressed frame cur (seek table) */
	size_t framecap;
	size_t cur;
	int have_cur;
	uint64_t frames_decompressed;
	/* sequential decoding (no seek table) */
	ZSTD_DStream *ds;
	int seq_ok;	       /* ds is positioned at (seq_c, seq_t) */
	uint64_t seq_c, seq_t; /* next compressed byte to feed, next tar byte out */
	int seq_at_frame;      /* seq_c is a frame start */
	uint64_t *ck_c, *ck_t;
	size_t nck;
	uint64_t ck_step;
	char *sout;
	size_t soutcap;
	size_t sout_len; /* sout[0, sout_len) is tar [seq_t - sout_len, seq_t) */
};

static int detect_zstd(int fd, uint64_t fsize, int *is_zstd)
{
	unsigned char m[4];
	if (fsize < 4 || pread(fd, m, 4, 0) != 4) {
		*is_zstd = 0;
		return 0;
	}
	uint32_t v = ps_le32(m);
	*is_zstd = v == PS_ZSTD_MAGIC || (v & PS_ZSTD_SKIP_MASK) == PS_ZSTD_SKIP_MAGIC;
	return 0;
}

int ps_fetch_open_fd(int fd, const char *name, const struct ps_seektable *st, int is_zstd,
		     struct ps_fetch **fp, struct ps_err *err)
{
	struct stat sb;
	if (fstat(fd, &sb) < 0)
		return ps_err_set(err, errno, "%s: %s", name, strerror(errno));
	struct ps_fetch *f = ps_xcalloc(1, sizeof(*f));
	f->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (f->fd < 0) {
		free(f);
		return ps_err_set(err, errno, "%s: %s", name, strerror(errno));
	}
	f->path = ps_xstrdup(name);
	f->fsize = (uint64_t)sb.st_size;
	f->zstd = is_zstd;
	if (st && st->n) {
		f->st.n = st->n;
		f->st.max_dsize = st->max_dsize;
		f->st.coff = ps_xmalloc((st->n + 1) * sizeof(uint64_t));
		f->st.toff = ps_xmalloc((st->n + 1) * sizeof(uint64_t));
		memcpy(f->st.coff, st->coff, (st->n + 1) * sizeof(uint64_t));
		memcpy(f->st.toff, st->toff, (st->n + 1) * sizeof(uint64_t));
	}
	f->ck_step = CKPT_STEP;
	f->dc = ZSTD_createDCtx();
	if (!f->dc) {
		ps_fetch_close(f);
		return ps_err_set(err, ENOMEM, "cannot set up a zstd context");
	}
	ZSTD_DCtx_setParameter(f->dc, ZSTD_d_windowLogMax, PS_ZSTD_WINDOW_LOG_MAX);
	*fp = f;
	return 0;
}

int ps_fetch_open(const char *archive_path, struct ps_fetch **fp, struct ps_err *err)
{
	int fd = open(archive_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ps_err_set(err, errno, "%s: %s", archive_path, strerror(errno));
	struct stat sb;
	struct ps_seektable st;
	int is_zstd = 0, rc = -1;
	memset(&st, 0, sizeof(st));
	if (fstat(fd, &sb) < 0) {
		ps_err_set(err, errno, "%s: %s", archive_path, strerror(errno));
		goto out;
	}
	detect_zstd(fd, (uint64_t)sb.st_size, &is_zstd);
	if (is_zstd && ps_seektable_load(fd, (uint64_t)sb.st_size, &st, err) < 0) {
		ps_err_prefix(err, "%s", archive_path);
		goto out;
	}
	rc = ps_fetch_open_fd(fd, archive_path, &st, is_zstd, fp, err);
out:
	ps_seektable_free(&st);
	close(fd);
	return rc;
}

static int pread_full(struct ps_fetch *f, void *buf, size_t n, uint64_t off, struct ps_err *err)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = pread(f->fd, (char *)buf + got, n - got, (off_t)(off + got));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return ps_err_set(err, errno, "%s: read: %s", f->path, strerror(errno));
		if (r == 0)
			return ps_err_set(err, EIO, "%s: truncated archive", f->path);
		got += (size_t)r;
	}
	return 0;
}

/* ---- with a seek table ---------------------------------------------------- */

/* Make frame i the current one. */
static int load_frame(struct ps_fetch *f, size_t i, struct ps_err *err)
{
	if (f->have_cur && f->cur == i)
		return 0;
	f->have_cur = 0;
	uint64_t c = f->st.coff[i + 1] - f->st.coff[i], d = f->st.toff[i + 1] - f->st.toff[i];
	/* ps_seektable_load bounds d by PS_FRAME_MAX; a frame compresses to at
	 * most ZSTD_compressBound of it, or it is corrupt. */
	if (d > PS_FRAME_MAX || c > ZSTD_compressBound((size_t)d) + 64)
		return ps_err_set(err, EINVAL, "%s: corrupt seek table (frame %zu)", f->path, i);
	if (c > f->incap) {
		f->in = ps_xrealloc(f->in, (size_t)c);
		f->incap = (size_t)c;
	}
	if (d > f->framecap) {
		f->frame = ps_xrealloc(f->frame, (size_t)d);
		f->framecap = (size_t)d;
	}
	if (pread_full(f, f->in, (size_t)c, f->st.coff[i], err) < 0)
		return -1;
	size_t got = ZSTD_decompressDCtx(f->dc, f->frame, (size_t)d, f->in, (size_t)c);
	if (ZSTD_isError(got) || got != d)
		return ps_err_set(err, EIO, "%s: corrupt zstd frame %zu (file bytes %llu-%llu): %s",
				  f->path, i, (unsigned long long)f->st.coff[i],
				  (unsigned long long)f->st.coff[i + 1],
				  ZSTD_isError(got) ? ZSTD_getErrorName(got) : "wrong size");
	f->cur = i;
	f->have_cur = 1;
	f->frames_decompressed++;
	return 0;
}

static int read_seek(struct ps_fetch *f, uint64_t off, uint64_t len, struct ps_buf *out,
		     struct ps_err *err)
{
	size_t i = ps_seektable_find(&f->st, off);
	for (; i < f->st.n && out->len < len; i++) {
		if (load_frame(f, i, err) < 0)
			return -1;
		uint64_t d = f->st.toff[i + 1] - f->st.toff[i];
		uint64_t from = off + out->len - f->st.toff[i];
		if (from >= d)
			continue;
		uint64_t take = d - from;
		if (take > len - out->len)
			take = len - out->len;
		ps_buf_add(out, f->frame + from, (size_t)take);
	}
	return 0;
}

/* ---- in sequence (no seek table) ------------------------------------------ */

void ps_fetch_checkpoint(struct ps_fetch *f, uint64_t c_off, uint64_t t_off)
{
	if (!f || f->st.n)
		return;
	if (f->nck) {
		if (t_off < f->ck_t[f->nck - 1] + f->ck_step)
			return; /* keep them sparse, and ascending */
	} else if (t_off != 0 || c_off != 0) {
		/* the start of the file is always the first checkpoint */
		ps_fetch_checkpoint(f, 0, 0);
		if (t_off < f->ck_step)
			return;
	}
	if (!f->ck_c) {
		f->ck_c = ps_xmalloc(CKPT_MAX * sizeof(uint64_t));
		f->ck_t = ps_xmalloc(CKPT_MAX * sizeof(uint64_t));
	}
	if (f->nck == CKPT_MAX) {
		size_t k = 0;
		for (size_t i = 0; i < f->nck; i += 2, k++) {
			f->ck_c[k] = f->ck_c[i];
			f->ck_t[k] = f->ck_t[i];
		}
		f->nck = k;
		f->ck_step *= 2;
		if (t_off < f->ck_t[f->nck - 1] + f->ck_step)
			return;
	}
	f->ck_c[f->nck] = c_off;
	f->ck_t[f->nck] = t_off;
	f->nck++;
}

/* Position the stream decoder at the best start for tar offset off. */
static void seq_seek(struct ps_fetch *f, uint64_t off)
{
	uint64_t c = 0, t = 0;
	for (size_t lo = 0, hi = f->nck; lo < hi;) { /* last checkpoint with t <= off */
		size_t mid = lo + (hi - lo) / 2;
		if (f->ck_t[mid] <= off) {
			c = f->ck_c[mid];
			t = f->ck_t[mid];
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	if (f->seq_ok && f->seq_t <= off && f->seq_t >= t)
		return; /* go on from where the last request ended */
	ZSTD_DCtx_reset(f->ds, ZSTD_reset_session_only);
	f->seq_c = c;
	f->seq_t = t;
	f->seq_at_frame = 1;
	f->seq_ok = 1;
	f->sout_len = 0;
}

static int read_seq(struct ps_fetch *f, uint64_t off, uint64_t len, struct ps_buf *out,
		    struct ps_err *err)
{
	if (!f->ds) {
		f->ds = ZSTD_createDStream();
		if (!f->ds)
			return ps_err_set(err, ENOMEM, "cannot set up a zstd context");
		ZSTD_DCtx_setParameter(f->ds, ZSTD_d_windowLogMax, PS_ZSTD_WINDOW_LOG_MAX);
		f->incap = ZSTD_DStreamInSize();
		f->in = ps_xrealloc(f->in, f->incap);
		f->soutcap = ZSTD_DStreamOutSize();
		f->sout = ps_xmalloc(f->soutcap);
	}
	/* A request that starts in the last block decoded (the next piece of
	 * a member read in pieces) takes it from there: decoding again from
	 * the frame's start made reading a member of one long frame in
	 * pieces quadratic (900 MiB: 55 s). */
	if (f->seq_ok && f->sout_len && off < f->seq_t && off >= f->seq_t - f->sout_len) {
		uint64_t from = off - (f->seq_t - f->sout_len), take = f->seq_t - off;
		if (take > len)
			take = len;
		ps_buf_add(out, f->sout + from, (size_t)take);
	}
	if (out->len < len)
		seq_seek(f, off + out->len);
	while (out->len < len) {
		if (f->seq_at_frame)
			ps_fetch_checkpoint(f, f->seq_c, f->seq_t);
		uint64_t left = f->fsize - f->seq_c;
		size_t n = left < f->incap ? (size_t)left : f->incap;
		if (n && pread_full(f, f->in, n, f->seq_c, err) < 0) {
			f->seq_ok = 0;
			return -1;
		}
		ZSTD_inBuffer ib = {f->in, n, 0};
		int progress = 0;
		/* with no input left, the decoder may still hold output */
		do {
			ZSTD_outBuffer ob = {f->sout, f->soutcap, 0};
			size_t z = ZSTD_decompressStream(f->ds, &ob, &ib);
			if (ZSTD_isError(z)) {
				f->seq_ok = 0;
				return ps_err_set(err, EIO,
						  "%s: corrupt zstd data near file offset %llu: %s",
						  f->path, (unsigned long long)(f->seq_c + ib.pos),
						  ZSTD_getErrorName(z));
			}
			/* the part of [seq_t, seq_t + ob.pos) that was asked for */
			uint64_t want = off + out->len;
			if (want >= f->seq_t && want < f->seq_t + ob.pos) {
				uint64_t from = want - f->seq_t, take = ob.pos - from;
				if (take > len - out->len)
					take = len - out->len;
				ps_buf_add(out, f->sout + from, (size_t)take);
			}
			progress |= ob.pos != 0 || ib.pos != 0;
			f->seq_t += ob.pos;
			if (ob.pos)
				f->sout_len = ob.pos;
			f->seq_at_frame = z == 0;
			if (z == 0) {
				f->frames_decompressed++;
				ps_fetch_checkpoint(f, f->seq_c + ib.pos, f->seq_t);
			}
			if (ob.pos < ob.size && ib.pos == ib.size)
				break;
		} while (out->len < len);
		f->seq_c += ib.pos;
		if (!progress) {
			f->seq_ok = 0;
			return ps_err_set(err, EIO, "%s: member beyond the end of the archive",
					  f->path);
		}
	}
	return 0;
}

/* ---- the API -------------------------------------------------------------- */

int ps_fetch_read(struct ps_fetch *f, uint64_t off, uint64_t len, struct ps_buf *out,
		  struct ps_err *err)
{
	ps_buf_reset(out);
	if (len > PS_MEMBER_MAX)
		return ps_err_set(err, EFBIG, "%s: member of %llu bytes, more than %llu MiB",
				  f->path, (unsigned long long)len,
				  (unsigned long long)(PS_MEMBER_MAX >> 20));
	if (len == 0)
		return 0;
	if (off > UINT64_MAX - len)
		return ps_err_set(err, EINVAL, "%s: bad offset", f->path);
	if (!f->zstd) {
		if (off + len > f->fsize)
			return ps_err_set(err, EIO, "%s: member beyond the end of the archive",
					  f->path);
		ps_buf_grow(out, (size_t)len);
		if (pread_full(f, out->buf, (size_t)len, off, err) < 0)
			return -1;
		out->len = (size_t)len;
		out->buf[len] = '\0';
		return 0;
	}
	if (f->st.n) {
		if (off + len > f->st.toff[f->st.n])
			return ps_err_set(err, EIO, "%s: member beyond the end of the archive",
					  f->path);
		ps_buf_grow(out, (size_t)len);
		if (read_seek(f, off, len, out, err) < 0)
			return -1;
	} else if (read_seq(f, off, len, out, err) < 0) {
		return -1;
	}
	if (out->len != len)
		return ps_err_set(err, EIO, "%s: member beyond the end of the archive", f->path);
	return 0;
}

int ps_fetch_pieces(struct ps_fetch *f, uint64_t off, uint64_t len, uint64_t piece,
		    struct ps_buf *buf, int (*put)(void *ctx, const void *p, size_t n), void *ctx,
		    unsigned char h[16], struct ps_err *err)
{
	XXH3_state_t *x = XXH3_createState();
	if (!x)
		return ps_err_set(err, ENOMEM, "%s: out of memory", f->path);
	XXH3_128bits_reset(x);
	int rc = 0;
	for (uint64_t at = 0; rc == 0 && at < len; at += piece) {
		uint64_t n = len - at < piece ? len - at : piece;
		if (ps_fetch_read(f, off + at, n, buf, err) < 0) {
			rc = -1;
			break;
		}
		XXH3_128bits_update(x, buf->buf, buf->len);
		if (put)
			rc = put(ctx, buf->buf, buf->len);
	}
	ps_xxh3_128_digest(x, h);
	XXH3_freeState(x);
	return rc;
}

uint64_t ps_fetch_frames_decompressed(const struct ps_fetch *f)
{
	return f ? f->frames_decompressed : 0;
}

void ps_fetch_close(struct ps_fetch *f)
{
	if (!f)
		return;
	if (f->fd >= 0)
		close(f->fd);
	ZSTD_freeDCtx(f->dc);
	ZSTD_freeDStream(f->ds);
	ps_seektable_free(&f->st);
	free(f->path);
	free(f->in);
	free(f->frame);
	free(f->sout);
	free(f->ck_c);
	free(f->ck_t);
	free(f);
}

int ps_archive_read_at(const char *archive_path, uint64_t off, uint64_t len, struct ps_buf *out,
		       struct ps_err *err)
{
	struct ps_fetch *f;
	if (ps_fetch_open(archive_path, &f, err) < 0)
		return -1;
	int rc = ps_fetch_read(f, off, len, out, err);
	ps_fetch_close(f);
	return rc;
}
