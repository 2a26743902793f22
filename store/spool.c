/*
 * spool.c - the manifest spool of the writer (writer.c): the manifest's
 * lines, compressed as they come into zstd frames of frame_size bytes, made
 * as the writer's compressor makes the archive's (same level, checksum, one
 * ZSTD_compress2 call each), so that at the end they are copied into the
 * archive as they are instead of being compressed a second time after the
 * walk (the manifest is 29 MB at N=2,000, ~145 MB at N=10,000).
 *
 * The frames stay in memory up to SPOOL_MEM_MAX, then go to an unlinked
 * O_TMPFILE in the spill directory (beside the output) when there is one:
 * memory stays bounded however large the capture.  A spill file that cannot
 * be made leaves the frames in memory, as before there was one.
 */
#include "store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#define SPOOL_MEM_MAX (1u << 20)

void ps_frametab_push(struct ps_frametab *t, size_t c, size_t d)
{
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 256;
		t->c = ps_xrealloc(t->c, t->cap * sizeof(*t->c));
		t->d = ps_xrealloc(t->d, t->cap * sizeof(*t->d));
	}
	t->c[t->n] = (uint32_t)c;
	t->d[t->n] = (uint32_t)d;
	t->n++;
}

void ps_frametab_release(struct ps_frametab *t)
{
	free(t->c);
	free(t->d);
	memset(t, 0, sizeof(*t));
}

ZSTD_CCtx *ps_frame_cctx(int level)
{
	ZSTD_CCtx *c = ZSTD_createCCtx();
	if (c) {
		ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, level);
		ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 1);
	}
	return c;
}

int ps_spool_init(struct ps_spool *s, int level, size_t frame_size, int spill_dirfd)
{
	memset(s, 0, sizeof(*s));
	s->frame_size = frame_size;
	s->spill_dirfd = spill_dirfd;
	s->spill_fd = -1;
	ps_buf_init(&s->plain);
	ps_buf_init(&s->z);
	s->cctx = ps_frame_cctx(level);
	return s->cctx ? 0 : ENOMEM;
}

/* The first n bytes of plain into a frame, and the frames to the spill file
 * once they are large (made then if it can be).  0 or an errno. */
static int spool_frame(struct ps_spool *s, size_t n)
{
	size_t bound = ZSTD_compressBound(n);
	ps_buf_grow(&s->z, bound + 1);
	size_t c = ZSTD_compress2(s->cctx, s->z.buf + s->z.len, bound, s->plain.buf, n);
	if (ZSTD_isError(c) || c > UINT32_MAX)
		return EIO;
	ps_frametab_push(&s->fr, c, n);
	s->z.len += c;
	s->z.buf[s->z.len] = '\0';
	memmove(s->plain.buf, s->plain.buf + n, s->plain.len - n);
	s->plain.len -= n;
	if (s->z.len < SPOOL_MEM_MAX)
		return 0;
	if (s->spill_fd < 0 && s->spill_dirfd >= 0)
		s->spill_fd = openat(s->spill_dirfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (s->spill_fd < 0)
		return 0;
	int e = ps_write_all(s->spill_fd, s->z.buf, s->z.len);
	if (e)
		return e;
	s->spilled += s->z.len;
	ps_buf_reset(&s->z);
	return 0;
}

int ps_spool_add(struct ps_spool *s, const char *p, size_t n)
{
	ps_buf_add(&s->plain, p, n);
	s->len += n;
	while (s->plain.len >= s->frame_size) {
		int e = spool_frame(s, s->frame_size);
		if (e)
			return e;
	}
	return 0;
}

int ps_spool_end(struct ps_spool *s)
{
	int e = s->plain.len ? spool_frame(s, s->plain.len) : 0;
	if (e)
		return e;
	if (s->spill_fd >= 0 && lseek(s->spill_fd, 0, SEEK_SET) < 0)
		return errno;
	s->next = 0;
	s->mem_pos = 0;
	s->spill_left = s->spilled;
	return 0;
}

int ps_spool_next(struct ps_spool *s, struct ps_buf *f, size_t *plain)
{
	if (s->next == s->fr.n)
		return s->spill_left || s->mem_pos != s->z.len ? -EIO : 0;
	size_t c = s->fr.c[s->next];
	ps_buf_reset(f);
	ps_buf_grow(f, c);
	if (s->spill_left) {
		size_t got = 0;
		while (c <= s->spill_left && got < c) {
			ssize_t n = read(s->spill_fd, f->buf + got, c - got);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			got += (size_t)n;
		}
		if (got != c)
			return -EIO;
		s->spill_left -= c;
	} else {
		if (c > s->z.len - s->mem_pos)
			return -EIO;
		memcpy(f->buf, s->z.buf + s->mem_pos, c);
		s->mem_pos += c;
	}
	f->len = c;
	f->buf[c] = '\0';
	*plain = s->fr.d[s->next++];
	return 1;
}

void ps_spool_release(struct ps_spool *s)
{
	ZSTD_freeCCtx(s->cctx);
	s->cctx = NULL;
	if (s->spill_fd >= 0)
		close(s->spill_fd);
	s->spill_fd = -1;
	ps_buf_release(&s->plain);
	ps_buf_release(&s->z);
	ps_frametab_release(&s->fr);
}
