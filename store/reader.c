/*
 * reader.c - read an archive back: a streaming member iterator (zstd frames
 * decompressed here, tar parsed by libarchive), the seek table, random access
 * by tar offset, and manifest lines.  Input is hostile: every size is
 * checked, every failure is a one-line error.
 */
#include "store.h"
#include "store_int.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>
#include <zstd.h>

void ps_xxh3_128(const void *data, size_t len, unsigned char out[16])
{
	XXH128_canonical_t c;
	XXH128_canonicalFromHash(&c, XXH3_128bits(data, len));
	memcpy(out, c.digest, 16);
}

#define IN_CHUNK (1 << 20)

struct ps_reader {
	int fd;
	char *path;
	struct archive *a;
	EVP_MD_CTX *sha;
	ZSTD_DStream *ds;
	unsigned char *in;
	ZSTD_inBuffer ib;
	int in_eof;
	char *out;
	size_t outcap;
	uint64_t tar_total; /* decompressed bytes handed to libarchive */
	size_t last_z;	    /* last ZSTD_decompressStream hint: 0 = at a frame end */
	int any_in;
	char zerr[256];
	/* one-member lookahead: data_off of a member is known once the next
	 * header's position is */
	struct archive_entry *pend; /* clone of the pending header */
	uint64_t pend_pos;
	struct ps_buf pend_data;
	int pend_valid, at_end;
	int pend_stream; /* the pending member's data is left for ps_reader_stream */
	int streaming;	 /* the current member is being streamed */
	/* returned member storage */
	struct ps_buf cur_data;
	char *cur_path, *cur_target, *cur_hardlink;
};

static la_ssize_t rd_cb(struct archive *a, void *ctx, const void **buf)
{
	(void)a;
	struct ps_reader *r = ctx;
	for (;;) {
		if (r->ib.pos == r->ib.size) {
			if (r->in_eof)
				return 0;
			ssize_t n = read(r->fd, r->in, IN_CHUNK);
			if (n < 0) {
				if (errno == EINTR)
					continue;
				snprintf(r->zerr, sizeof(r->zerr), "read: %s", strerror(errno));
				return -1;
			}
			if (n == 0) {
				r->in_eof = 1;
				if (r->any_in && r->last_z != 0) {
					snprintf(r->zerr, sizeof(r->zerr), "truncated zstd frame");
					return -1;
				}
				return 0;
			}
			r->any_in = 1;
			EVP_DigestUpdate(r->sha, r->in, (size_t)n);
			r->ib.src = r->in;
			r->ib.size = (size_t)n;
			r->ib.pos = 0;
		}
		ZSTD_outBuffer ob = {r->out, r->outcap, 0};
		size_t z = ZSTD_decompressStream(r->ds, &ob, &r->ib);
		r->last_z = z;
		if (ZSTD_isError(z)) {
			snprintf(r->zerr, sizeof(r->zerr), "zstd: %s", ZSTD_getErrorName(z));
			return -1;
		}
		if (ob.pos) {
			r->tar_total += ob.pos;
			*buf = r->out;
			return (la_ssize_t)ob.pos;
		}
	}
}

int ps_reader_open(struct ps_reader **rp, const char *path, struct ps_err *err)
{
	return ps_reader_open_at(rp, path, 0, err);
}

int ps_reader_open_at(struct ps_reader **rp, const char *path, uint64_t c_off, struct ps_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ps_err_set(err, errno, "%s: %s", path, strerror(errno));
	if (c_off && lseek(fd, (off_t)c_off, SEEK_SET) < 0) {
		int e = errno;
		close(fd);
		return ps_err_set(err, e, "%s: %s", path, strerror(e));
	}
	struct ps_reader *r = ps_xcalloc(1, sizeof(*r));
	r->fd = fd;
	r->path = ps_xstrdup(path);
	ps_buf_init(&r->pend_data);
	ps_buf_init(&r->cur_data);
	r->in = ps_xmalloc(IN_CHUNK);
	r->outcap = ZSTD_DStreamOutSize();
	r->out = ps_xmalloc(r->outcap);
	r->ds = ZSTD_createDStream();
	r->sha = EVP_MD_CTX_new();
	if (!r->ds || !r->sha || !EVP_DigestInit_ex(r->sha, EVP_sha256(), NULL)) {
		ps_reader_close(r);
		return ps_err_set(err, ENOMEM, "cannot set up zstd/sha256 contexts");
	}
	/* Bound the decoder window: we write frames with small windows. */
	ZSTD_DCtx_setParameter(r->ds, ZSTD_d_windowLogMax, 27);
	r->a = archive_read_new();
	archive_read_support_format_tar(r->a);
	if (archive_read_open2(r->a, r, NULL, rd_cb, NULL, NULL) != ARCHIVE_OK) {
		ps_err_set(err, EIO, "%s: not a procsnap archive: %s", path,
			   r->zerr[0] ? r->zerr : archive_error_string(r->a));
		ps_reader_close(r);
		return -1;
	}
	*rp = r;
	return 0;
}

static int bad(struct ps_reader *r, struct ps_err *err, const char *what)
{
	const char *why = r->zerr[0] ? r->zerr : archive_error_string(r->a);
	return ps_err_set(err, EIO, "%s: corrupt or truncated archive: %s%s%s", r->path, what,
			  why ? ": " : "", why ? why : "");
}

/* Read the next header into r->pend (and its data into pend_data).
 * 1 ok, 0 end, -1 error. */
static int read_pending(struct ps_reader *r, struct ps_err *err)
{
	struct archive_entry *e;
	int st = archive_read_next_header(r->a, &e);
	if (st == ARCHIVE_EOF)
		return 0;
	if (st < ARCHIVE_WARN)
		return bad(r, err, "header");
	if (archive_entry_pathname(e) == NULL)
		return bad(r, err, "member without a name");
	r->pend_pos = (uint64_t)archive_read_header_position(r->a);
	if (r->pend)
		archive_entry_free(r->pend);
	r->pend = archive_entry_clone(e);
	ps_buf_reset(&r->pend_data);
	/* The manifest can be tens of MiB: it is streamed, not loaded. */
	r->pend_stream = archive_entry_filetype(e) == AE_IFREG && !archive_entry_hardlink(e) &&
			 strcmp(archive_entry_pathname(e), PS_MANIFEST_PATH) == 0;
	if (r->pend_stream) {
		la_int64_t size = archive_entry_size(e);
		if (size < 0)
			return bad(r, err, "member size out of range");
	} else if (archive_entry_filetype(e) == AE_IFREG && !archive_entry_hardlink(e)) {
		la_int64_t size = archive_entry_size(e);
		if (size < 0 || (uint64_t)size > PS_MEMBER_MAX)
			return bad(r, err, "member size out of range");
		ps_buf_grow(&r->pend_data, (size_t)size);
		for (;;) {
			const void *b;
			size_t n;
			la_int64_t off;
			int rr = archive_read_data_block(r->a, &b, &n, &off);
			if (rr == ARCHIVE_EOF)
				break;
			if (rr < ARCHIVE_WARN)
				return bad(r, err, archive_entry_pathname(r->pend));
			if (off < 0 || (uint64_t)off != r->pend_data.len ||
			    r->pend_data.len + n > (size_t)size)
				return bad(r, err, "sparse or oversized member data");
			ps_buf_add(&r->pend_data, b, n);
		}
		if (r->pend_data.len != (size_t)size)
			return bad(r, err, "short member data");
	}
	return 1;
}

int ps_reader_next(struct ps_reader *r, struct ps_rmember *m, struct ps_err *err)
{
	if (r->at_end)
		return 0;
	if (!r->pend_valid) {
		int st = read_pending(r, err);
		if (st <= 0) {
			r->at_end = 1;
			if (st == 0 && r->cur_path)
				return 0; /* after a streamed last member */
			if (st == 0)
				return bad(r, err, "empty archive");
			return -1;
		}
		r->pend_valid = 1;
	}
	/* Take the pending member. */
	struct archive_entry *e = r->pend;
	r->pend = NULL;
	struct ps_buf tmp = r->cur_data;
	r->cur_data = r->pend_data;
	r->pend_data = tmp;
	uint64_t hpos = r->pend_pos;
	uint64_t size = r->cur_data.len;

	free(r->cur_path);
	free(r->cur_target);
	free(r->cur_hardlink);
	r->cur_path = ps_xstrdup(archive_entry_pathname(e));
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
	memset(m, 0, sizeof(*m));
	m->path = r->cur_path;
	m->kind = ft == AE_IFLNK ? PS_M_LINK : ft == AE_IFDIR ? PS_M_DIR : PS_M_FILE;
	m->mode = archive_entry_mode(e);
	m->uid = (uint32_t)archive_entry_uid(e);
	m->gid = (uint32_t)archive_entry_gid(e);
	m->mtime = archive_entry_mtime(e);
	m->target = r->cur_target;
	m->hardlink = r->cur_hardlink;
	m->data = r->cur_data.buf;
	m->len = r->cur_data.len;
	m->header_off = hpos;
	la_int64_t esize = archive_entry_size(e);
	archive_entry_free(e);
	if (r->pend_stream) {
		/* No lookahead: the caller reads the data with ps_reader_stream;
		 * the next ps_reader_next looks for what follows. */
		r->pend_stream = 0;
		r->streaming = 1;
		r->pend_valid = 0;
		m->streaming = 1;
		m->data = NULL;
		m->len = (size_t)esize;
		return 1;
	}
	if (ft != AE_IFREG && ft != AE_IFLNK && ft != AE_IFDIR) {
		r->at_end = 1;
		return ps_err_set(err, EINVAL,
				  "%s: not a procsnap archive: unexpected type of member %s",
				  r->path, m->path);
	}

	/* Look ahead to learn where this member's data ended. */
	int st = read_pending(r, err);
	if (st < 0) {
		r->at_end = 1;
		return -1;
	}
	uint64_t next = st == 1 ? r->pend_pos : r->tar_total >= 1024 ? r->tar_total - 1024 : 0;
	uint64_t padded = (size + 511) & ~(uint64_t)511;
	m->data_off = next >= padded + hpos ? next - padded : hpos;
	if (st == 0)
		r->at_end = 1;
	r->pend_valid = st == 1;
	if (m->kind == PS_M_FILE)
		ps_xxh3_128(m->data, m->len, m->xxh3);
	else if (m->kind == PS_M_LINK && m->target)
		ps_xxh3_128(m->target, strlen(m->target), m->xxh3);
	return 1;
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
			return 0;
		}
		if (rr < ARCHIVE_WARN) {
			r->streaming = 0;
			r->at_end = 1;
			return bad(r, err, r->cur_path ? r->cur_path : "member data");
		}
		if (*n)
			return 1;
	}
}

void ps_reader_sha256(struct ps_reader *r, unsigned char out[32])
{
	/* Hash whatever libarchive did not need (end blocks, seek table). */
	unsigned char buf[65536];
	ssize_t n;
	while ((n = read(r->fd, buf, sizeof(buf))) > 0)
		EVP_DigestUpdate(r->sha, buf, (size_t)n);
	if (r->ib.pos < r->ib.size) {
		/* already hashed when read */
	}
	unsigned int len = 0;
	EVP_DigestFinal_ex(r->sha, out, &len);
	EVP_DigestInit_ex(r->sha, EVP_sha256(), NULL);
}

void ps_reader_close(struct ps_reader *r)
{
	if (!r)
		return;
	if (r->a)
		archive_read_free(r->a);
	if (r->pend)
		archive_entry_free(r->pend);
	ZSTD_freeDStream(r->ds);
	EVP_MD_CTX_free(r->sha);
	if (r->fd >= 0)
		close(r->fd);
	free(r->in);
	free(r->out);
	free(r->path);
	free(r->cur_path);
	free(r->cur_target);
	free(r->cur_hardlink);
	ps_buf_release(&r->pend_data);
	ps_buf_release(&r->cur_data);
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

/* ---- seek table and random access -------------------------------------- */

int ps_seektable_read(int fd, uint32_t **csizes, uint32_t **dsizes, size_t *nframes,
		      struct ps_err *err)
{
	struct stat st;
	unsigned char foot[9];
	if (fstat(fd, &st) < 0)
		return ps_err_set(err, errno, "stat: %s", strerror(errno));
	if (!S_ISREG(st.st_mode) || st.st_size < 17)
		return ps_err_set(err, EINVAL, "no seek table (not a regular file or too small)");
	if (pread(fd, foot, 9, st.st_size - 9) != 9)
		return ps_err_set(err, EIO, "cannot read the seek table footer");
	if (ps_le32(foot + 5) != 0x8F92EAB1)
		return ps_err_set(err, EINVAL, "no seek table (bad seekable magic)");
	uint32_t n = ps_le32(foot);
	int has_ck = (foot[4] & 0x80) != 0;
	if (foot[4] & 0x7c)
		return ps_err_set(err, EINVAL, "seek table: reserved bits set");
	uint64_t esz = has_ck ? 12 : 8;
	uint64_t body = (uint64_t)n * esz + 9;
	if (n > 0x8000000u || body + 8 > (uint64_t)st.st_size)
		return ps_err_set(err, EINVAL, "seek table: frame count %u does not fit the file",
				  n);
	unsigned char *t = ps_xmalloc((size_t)body + 8);
	off_t at = st.st_size - (off_t)(body + 8);
	if (pread(fd, t, (size_t)body + 8, at) != (ssize_t)(body + 8)) {
		free(t);
		return ps_err_set(err, EIO, "cannot read the seek table");
	}
	if (ps_le32(t) != 0x184D2A5E || ps_le32(t + 4) != body) {
		free(t);
		return ps_err_set(err, EINVAL, "seek table: bad skippable frame header");
	}
	uint32_t *c = ps_xmalloc(sizeof(*c) * (n ? n : 1));
	uint32_t *d = ps_xmalloc(sizeof(*d) * (n ? n : 1));
	uint64_t csum = 0;
	for (uint32_t i = 0; i < n; i++) {
		c[i] = ps_le32(t + 8 + i * esz);
		d[i] = ps_le32(t + 12 + i * esz);
		csum += c[i];
	}
	free(t);
	if (csum != (uint64_t)at) {
		free(c);
		free(d);
		return ps_err_set(err, EINVAL, "seek table: frame sizes do not add up to the file");
	}
	*csizes = c;
	*dsizes = d;
	*nframes = n;
	return 0;
}

int ps_archive_read_at(const char *archive_path, uint64_t off, uint64_t len, struct ps_buf *out,
		       struct ps_err *err)
{
	uint32_t *c = NULL, *d = NULL;
	size_t n = 0;
	int rc = -1;
	ZSTD_DCtx *dc = NULL;
	unsigned char *in = NULL;
	char *tmp = NULL;
	int fd = open(archive_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ps_err_set(err, errno, "%s: %s", archive_path, strerror(errno));
	if (ps_seektable_read(fd, &c, &d, &n, err) < 0) {
		ps_err_prefix(err, "%s", archive_path);
		goto out;
	}
	if (len > PS_MEMBER_MAX) {
		ps_err_set(err, EFBIG, "%s: member too large", archive_path);
		goto out;
	}
	uint64_t coff = 0, toff = 0;
	size_t i = 0;
	while (i < n && toff + d[i] <= off) {
		coff += c[i];
		toff += d[i];
		i++;
	}
	ps_buf_reset(out);
	ps_buf_grow(out, (size_t)len);
	dc = ZSTD_createDCtx();
	ZSTD_DCtx_setParameter(dc, ZSTD_d_windowLogMax, 27);
	for (; i < n && out->len < len; i++) {
		in = ps_xrealloc(in, c[i] ? c[i] : 1);
		if (pread(fd, in, c[i], (off_t)coff) != (ssize_t)c[i]) {
			ps_err_set(err, EIO, "%s: truncated archive", archive_path);
			goto out;
		}
		tmp = ps_xrealloc(tmp, d[i] ? d[i] : 1);
		size_t got = ZSTD_decompressDCtx(dc, tmp, d[i], in, c[i]);
		if (ZSTD_isError(got) || got != d[i]) {
			ps_err_set(err, EIO, "%s: corrupt frame %zu", archive_path, i);
			goto out;
		}
		uint64_t from = off > toff ? off - toff : 0;
		uint64_t take = d[i] - from;
		if (take > len - out->len)
			take = len - out->len;
		if (from < d[i])
			ps_buf_add(out, tmp + from, (size_t)take);
		coff += c[i];
		toff += d[i];
	}
	if (out->len != len) {
		ps_err_set(err, EIO, "%s: member beyond the end of the archive", archive_path);
		goto out;
	}
	rc = 0;
out:
	ZSTD_freeDCtx(dc);
	free(in);
	free(tmp);
	free(c);
	free(d);
	close(fd);
	return rc;
}
