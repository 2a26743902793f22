/*
 * seektable.c - the zstd seekable-format trailer, read side (the writer's
 * write_seektable() uses the same magic numbers from store_int.h).
 *
 * The trailer is hostile input like the rest of the archive: the frame count
 * is checked against the bytes the file holds before anything is allocated,
 * the compressed sizes must add up to exactly the bytes before the trailer,
 * and a table procsnap would not use (frames larger than PS_FRAME_MAX, more
 * than PS_SEEK_FRAMES_MAX of them, as other seekable writers may make) is
 * ignored rather than trusted: the archive is then read in sequence.
 */
#include "store.h"
#include "store_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

static int pread_all(int fd, void *buf, size_t n, uint64_t off)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = pread(fd, (char *)buf + got, n - got, (off_t)(off + got));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

int ps_seektable_load(int fd, uint64_t fsize, struct ps_seektable *st, struct ps_err *err)
{
	unsigned char foot[PS_SEEK_FOOTER_LEN];
	memset(st, 0, sizeof(*st));
	if (fsize < 8 + PS_SEEK_FOOTER_LEN)
		return 0;
	if (pread_all(fd, foot, sizeof(foot), fsize - sizeof(foot)) < 0)
		return ps_err_set(err, EIO, "cannot read the seek table footer: %s",
				  strerror(errno ? errno : EIO));
	if (ps_le32(foot + 5) != PS_SEEK_FOOTER_MAGIC)
		return 0; /* no trailer: read in sequence */
	uint64_t n = ps_le32(foot);
	if (foot[4] & 0x7c)
		return ps_err_set(err, EINVAL, "corrupt seek table: reserved descriptor bits set");
	uint64_t esz = (foot[4] & 0x80) ? 12 : 8;
	/* Does the table fit the file?  (n < 2^32, so no overflow here.) */
	uint64_t body = n * esz + PS_SEEK_FOOTER_LEN;
	if (body + 8 > fsize)
		return ps_err_set(err, EINVAL,
				  "corrupt seek table: %llu frames do not fit a file of %llu bytes",
				  (unsigned long long)n, (unsigned long long)fsize);
	uint64_t at = fsize - body - 8; /* where the skippable frame starts */
	unsigned char hdr[8];
	if (pread_all(fd, hdr, 8, at) < 0)
		return ps_err_set(err, EIO, "cannot read the seek table");
	if (ps_le32(hdr) != PS_SEEK_SKIPPABLE_MAGIC || ps_le32(hdr + 4) != body)
		return ps_err_set(err, EINVAL, "corrupt seek table: bad skippable frame header");
	if (n > PS_SEEK_FRAMES_MAX)
		return 0; /* consistent, but more than we hold in memory: sequential */
	/* Read the entries in bounded pieces; the prefix sums are all we keep. */
	st->coff = malloc((size_t)(n + 1) * sizeof(uint64_t));
	st->toff = malloc((size_t)(n + 1) * sizeof(uint64_t));
	if (!st->coff || !st->toff) {
		ps_seektable_free(st);
		return ps_err_set(err, ENOMEM, "seek table: out of memory");
	}
	st->coff[0] = st->toff[0] = 0;
	unsigned char buf[12 * 1024];
	uint64_t per = sizeof(buf) / esz, i = 0;
	int use = 1;
	while (i < n) {
		uint64_t k = n - i < per ? n - i : per;
		if (pread_all(fd, buf, (size_t)(k * esz), at + 8 + i * esz) < 0) {
			ps_seektable_free(st);
			return ps_err_set(err, EIO, "cannot read the seek table");
		}
		for (uint64_t j = 0; j < k; j++, i++) {
			uint64_t c = ps_le32(buf + j * esz), d = ps_le32(buf + j * esz + 4);
			st->coff[i + 1] = st->coff[i] + c;
			st->toff[i + 1] = st->toff[i] + d;
			if (d > st->max_dsize)
				st->max_dsize = d;
			if (d <= PS_FRAME_MAX && c > ZSTD_compressBound((size_t)d) + 64) {
				ps_seektable_free(st);
				return ps_err_set(err, EINVAL,
						  "corrupt seek table: frame %llu claims %llu "
						  "compressed bytes for %llu",
						  (unsigned long long)i, (unsigned long long)c,
						  (unsigned long long)d);
			}
			if (c == 0 && d != 0) {
				ps_seektable_free(st);
				return ps_err_set(err, EINVAL,
						  "corrupt seek table: frame %llu is empty but "
						  "claims %llu bytes",
						  (unsigned long long)i, (unsigned long long)d);
			}
		}
	}
	if (st->coff[n] != at) {
		uint64_t sum = st->coff[n];
		ps_seektable_free(st);
		return ps_err_set(
		    err, EINVAL,
		    "corrupt seek table: frame sizes add up to %llu bytes, the frames "
		    "take %llu",
		    (unsigned long long)sum, (unsigned long long)at);
	}
	if (st->max_dsize > PS_FRAME_MAX)
		use = 0; /* another writer's large frames: sequential */
	st->n = (size_t)n;
	if (!use) {
		ps_seektable_free(st);
		return 0;
	}
	return 1;
}

void ps_seektable_free(struct ps_seektable *st)
{
	if (!st)
		return;
	free(st->coff);
	free(st->toff);
	memset(st, 0, sizeof(*st));
}

size_t ps_seektable_find(const struct ps_seektable *st, uint64_t off)
{
	if (st->n == 0 || off >= st->toff[st->n])
		return st->n;
	size_t lo = 0, hi = st->n; /* toff[lo] <= off < toff[hi] */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (st->toff[mid] <= off)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

int ps_tar_header_ok(const unsigned char *b)
{
	if (memcmp(b + 257, "ustar", 5) != 0)
		return 0;
	/* chksum (148, 8 bytes): octal, NUL/space terminated; computed with the
	 * field as spaces, as unsigned (POSIX) or signed (old tars) bytes. */
	uint64_t want = 0;
	int digits = 0;
	size_t i = 148;
	while (i < 156 && b[i] == ' ')
		i++;
	for (; i < 156 && b[i] >= '0' && b[i] <= '7'; i++, digits++)
		want = want * 8 + (uint64_t)(b[i] - '0');
	if (!digits || (i < 156 && b[i] != ' ' && b[i] != '\0'))
		return 0;
	uint64_t us = 0;
	int64_t ss = 0;
	for (size_t k = 0; k < 512; k++) {
		unsigned char c = k >= 148 && k < 156 ? ' ' : b[k];
		us += c;
		ss += (signed char)c;
	}
	return us == want || (ss >= 0 && (uint64_t)ss == want);
}
