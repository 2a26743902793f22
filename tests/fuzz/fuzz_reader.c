/*
 * fuzz_reader.c - libFuzzer harness for the archive reader (store/reader.c,
 * fetch.c, seektable.c): the input is an archive file, anything at all
 * (tar, tar.zst with or without a seek table, garbage).  It is read through
 * twice, salvaging and strict, every member's data and every manifest line
 * consumed, members fetched back by tar offset, the SHA-256 finished.
 *
 * Besides "no crash, no sanitizer report, no leak", the driver checks the
 * reader's contracts and aborts on a violation: every failure carries a
 * message; damage is only ever reported when salvaging; a member's XXH3 is
 * that of its data; manifest lines hold no newline and stay within
 * PS_MANIFEST_LINE_MAX; the iteration ends; bytes fetched back by offset
 * are the member's.  The salvaging pass unloads members over 64 bytes but
 * procsnap's own (as procsnap index does over 1 MiB): an unloaded member
 * has no data, is over that size, and its bytes fetched back by offset
 * hash to its XXH3.
 *
 * tests/test_fuzz_regress.c includes this file with PS_FUZZ_DRIVER_ONLY to
 * replay tests/fuzz/regress/reader/ in the normal build.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "store.h"
#include "store_int.h"

static void fzr_fail(const char *what, const char *detail)
{
	fprintf(stderr, "reader contract violated: %s%s%s\n", what, detail ? ": " : "",
		detail ? detail : "");
	abort();
}

struct fzr_seen {
	uint64_t off, len;
	unsigned char h[16];
};

static int fzr_keep(const char *path)
{
	return strncmp(path, "procsnap/", 9) == 0;
}

#define FZR_UNLOAD 64

static void fzr_pass(const char *path, int salvage)
{
	struct ps_reader_opts o = {.tmpdir = NULL,
				   .salvage = salvage,
				   .unload_over = salvage ? FZR_UNLOAD : 0,
				   .keep = salvage ? fzr_keep : NULL};
	struct ps_reader *r = NULL;
	struct ps_err err = {0, ""};
	if (ps_reader_open_with(&r, path, &o, &err) < 0) {
		if (!err.msg[0])
			fzr_fail("open failed without a message", NULL);
		return;
	}
	struct fzr_seen seen[8];
	int nseen = 0, st;
	uint64_t steps = 0;
	struct ps_rmember m;
	while ((st = ps_reader_next(r, &m, &err)) > 0) {
		if (++steps > 10000000)
			fzr_fail("the iteration does not end", NULL);
		if (st == PS_READER_DAMAGED) {
			const struct ps_rdamage *d = ps_reader_damage(r);
			if (!salvage)
				fzr_fail("damage reported without salvage", NULL);
			if (!d->msg || !d->msg[0])
				fzr_fail("damage without a message", NULL);
			if (d->tar_from != PS_OFF_UNKNOWN && d->tar_to != PS_OFF_UNKNOWN &&
			    d->tar_from > d->tar_to)
				fzr_fail("damage range reversed", d->msg);
			continue;
		}
		if (st != 1)
			fzr_fail("ps_reader_next returned", "not -1, 0, 1 or 2");
		if (!m.path || !m.path[0])
			fzr_fail("member without a path", NULL);
		if (m.streaming) {
			const char *line;
			size_t len;
			int ls;
			while ((ls = ps_reader_stream_line(r, &line, &len, &err)) == 1) {
				if (len > PS_MANIFEST_LINE_MAX || memchr(line, '\n', len))
					fzr_fail("bad manifest line", m.path);
				struct ps_buf pb = PS_BUF_INIT;
				struct ps_manifest_line ml;
				(void)ps_manifest_parse_line(line, len, &pb, &ml);
				ps_buf_release(&pb);
			}
			if (ls < 0) {
				if (!err.msg[0])
					fzr_fail("stream failed without a message", NULL);
				break;
			}
			continue;
		}
		if (m.unloaded && (m.data || m.len <= (salvage ? FZR_UNLOAD : PS_MEMBER_MAX)))
			fzr_fail("unloaded member with data or under the cap", m.path);
		if (m.unloaded && fzr_keep(m.path) && m.len <= PS_MEMBER_MAX)
			fzr_fail("a kept member unloaded", m.path);
		if (m.unloaded && nseen < 8 && m.data_off != PS_OFF_UNKNOWN &&
		    m.len <= (1u << 20)) {
			seen[nseen].off = m.data_off;
			seen[nseen].len = m.len;
			memcpy(seen[nseen].h, m.xxh3, 16);
			nseen++;
		}
		if (m.kind == PS_M_FILE && !m.hardlink && !m.unloaded) {
			unsigned char h[16];
			if (m.len && !m.data)
				fzr_fail("file without data", m.path);
			if (m.len > PS_MEMBER_MAX)
				fzr_fail("member above the cap", m.path);
			ps_xxh3_128(m.data, m.len, h);
			if (memcmp(h, m.xxh3, 16) != 0)
				fzr_fail("XXH3 is not that of the data", m.path);
			if (nseen < 8 && m.data_off != PS_OFF_UNKNOWN) {
				seen[nseen].off = m.data_off;
				seen[nseen].len = m.len;
				memcpy(seen[nseen].h, h, 16);
				nseen++;
			}
		}
	}
	if (st < 0 && !err.msg[0])
		fzr_fail("failure without a message", NULL);
	/* Back by offset, last first: what comes back is the member's. */
	struct ps_buf out = PS_BUF_INIT;
	for (int i = nseen - 1; i >= 0; i--) {
		err.msg[0] = '\0';
		if (ps_reader_fetch(r, seen[i].off, seen[i].len, &out, &err) < 0) {
			if (!err.msg[0])
				fzr_fail("fetch failed without a message", NULL);
			continue;
		}
		unsigned char h[16];
		ps_xxh3_128(out.buf, out.len, h);
		if (out.len != seen[i].len || memcmp(h, seen[i].h, 16) != 0)
			fzr_fail("fetched bytes differ from the member's", NULL);
	}
	ps_buf_release(&out);
	unsigned char sha[32];
	ps_reader_sha256(r, sha);
	ps_reader_close(r);
}

/* One input: 0 (libFuzzer's convention). */
static int fz_reader_one(const uint8_t *data, size_t size)
{
	int fd = memfd_create("fuzz-archive", MFD_CLOEXEC);
	if (fd < 0)
		return 0;
	if (ps_write_all(fd, data, size) != 0) {
		close(fd);
		return 0;
	}
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	fzr_pass(path, 1);
	fzr_pass(path, 0);
	/* random access from scratch, at an offset taken from the input */
	struct ps_buf out = PS_BUF_INIT;
	struct ps_err err = {0, ""};
	uint64_t off = size >= 8 ? ps_le32(data) % (4 * size + 1) : 0;
	(void)ps_archive_read_at(path, off, size % 4096, &out, &err);
	ps_buf_release(&out);
	close(fd);
	return 0;
}

#ifndef PS_FUZZ_DRIVER_ONLY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fz_reader_one(data, size);
}
#endif
