/*
 * fetch.c - sequential random access to many members of one archive.
 *
 * ps_archive_read_at() opens the file, reads the seek table and decompresses
 * from the first frame it needs, for every call: right for `cat`, wasteful
 * for `diff`, which needs the content of hundreds of changed members.  A
 * fetcher reads the seek table once, keeps the file open and keeps the last
 * decompressed frame, so a caller that asks in ascending tar offset order
 * decompresses each frame at most once, and frames holding no requested
 * member not at all.  Requests out of order still work (the frame is simply
 * decompressed again).  Input is hostile: sizes are checked against the
 * seek table and PS_MEMBER_MAX, every failure is a one-line error.
 */
#include "store.h"
#include "store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

struct ps_fetch {
	int fd;
	char *path;
	uint32_t *csize, *dsize;
	uint64_t *coff, *toff; /* per frame: offset in the file, in the tar stream */
	size_t nframes;
	ZSTD_DCtx *dc;
	unsigned char *in;
	size_t incap;
	char *frame; /* decompressed frame cur (or NULL) */
	size_t framecap;
	size_t cur;
	int have_cur;
	uint64_t frames_decompressed;
};

int ps_fetch_open(const char *archive_path, struct ps_fetch **fp, struct ps_err *err)
{
	struct ps_fetch *f = ps_xcalloc(1, sizeof(*f));
	f->fd = open(archive_path, O_RDONLY | O_CLOEXEC);
	if (f->fd < 0) {
		ps_err_set(err, errno, "%s: %s", archive_path, strerror(errno));
		free(f);
		return -1;
	}
	f->path = ps_xstrdup(archive_path);
	if (ps_seektable_read(f->fd, &f->csize, &f->dsize, &f->nframes, err) < 0) {
		ps_err_prefix(err, "%s: corrupt or truncated archive", archive_path);
		ps_fetch_close(f);
		return -1;
	}
	size_t n = f->nframes ? f->nframes : 1;
	f->coff = ps_xmalloc(n * sizeof(*f->coff));
	f->toff = ps_xmalloc(n * sizeof(*f->toff));
	uint64_t co = 0, to = 0;
	for (size_t i = 0; i < f->nframes; i++) {
		f->coff[i] = co;
		f->toff[i] = to;
		co += f->csize[i];
		to += f->dsize[i];
	}
	f->dc = ZSTD_createDCtx();
	ZSTD_DCtx_setParameter(f->dc, ZSTD_d_windowLogMax, 27);
	*fp = f;
	return 0;
}

/* Make frame i the current one. */
static int load_frame(struct ps_fetch *f, size_t i, struct ps_err *err)
{
	if (f->have_cur && f->cur == i)
		return 0;
	f->have_cur = 0;
	if (f->csize[i] > f->incap) {
		f->in = ps_xrealloc(f->in, f->csize[i]);
		f->incap = f->csize[i];
	}
	if (f->dsize[i] > f->framecap) {
		f->frame = ps_xrealloc(f->frame, f->dsize[i]);
		f->framecap = f->dsize[i];
	}
	ssize_t n = pread(f->fd, f->in, f->csize[i], (off_t)f->coff[i]);
	if (n != (ssize_t)f->csize[i])
		return ps_err_set(err, EIO, "%s: truncated archive (frame %zu)", f->path, i);
	size_t got = ZSTD_decompressDCtx(f->dc, f->frame, f->dsize[i], f->in, f->csize[i]);
	if (ZSTD_isError(got) || got != f->dsize[i])
		return ps_err_set(err, EIO, "%s: corrupt frame %zu", f->path, i);
	f->cur = i;
	f->have_cur = 1;
	f->frames_decompressed++;
	return 0;
}

int ps_fetch_read(struct ps_fetch *f, uint64_t off, uint64_t len, struct ps_buf *out,
		  struct ps_err *err)
{
	ps_buf_reset(out);
	if (len > PS_MEMBER_MAX)
		return ps_err_set(err, EFBIG, "%s: member too large", f->path);
	if (len == 0)
		return 0;
	/* binary search: last frame with toff <= off */
	size_t lo = 0, hi = f->nframes;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (f->toff[mid] <= off)
			lo = mid;
		else
			hi = mid;
	}
	if (f->nframes == 0 || f->toff[lo] > off)
		return ps_err_set(err, EIO, "%s: member beyond the end of the archive", f->path);
	ps_buf_grow(out, (size_t)len);
	for (size_t i = lo; i < f->nframes && out->len < len; i++) {
		if (load_frame(f, i, err) < 0)
			return -1;
		uint64_t from = off + out->len - f->toff[i];
		if (from >= f->dsize[i])
			continue;
		uint64_t take = f->dsize[i] - from;
		if (take > len - out->len)
			take = len - out->len;
		ps_buf_add(out, f->frame + from, (size_t)take);
	}
	if (out->len != len)
		return ps_err_set(err, EIO, "%s: member beyond the end of the archive", f->path);
	return 0;
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
	free(f->path);
	free(f->csize);
	free(f->dsize);
	free(f->coff);
	free(f->toff);
	free(f->in);
	free(f->frame);
	free(f);
}
