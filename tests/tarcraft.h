/*
 * tarcraft.h - build tar and tar.zst archives by hand for the reader tests
 * (crafted headers, manifests that disagree with the members, frames with or
 * without a seek table), and run procsnap measuring its peak RSS.
 * Header-only: static functions, one copy per test executable.
 */
#ifndef PS_TARCRAFT_H
#define PS_TARCRAFT_H

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

#include "common.h"
#include "store.h"

/* The test's scratch directory, /tmp/ps-<program>-XXXXXX: made by
 * tc_scratch (T_MAIN_SETUP's setup), removed by tc_rmscratch unless
 * PS_TEST_KEEP is set. */
static char tc_dir[256];

static inline void tc_scratch(void)
{
	snprintf(tc_dir, sizeof(tc_dir), "/tmp/ps-%s-XXXXXX", program_invocation_short_name);
	if (!mkdtemp(tc_dir)) {
		perror("mkdtemp");
		exit(2);
	}
}

static inline void tc_rmscratch(void)
{
	char cmd[300];
	if (getenv("PS_TEST_KEEP"))
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tc_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cleanup failed\n");
}

/* SHA-256 of a file as 64 hex digits. */
static inline void tc_sha256_file(const char *path, char hex[65])
{
	FILE *f = fopen(path, "rb");
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	unsigned char buf[65536], h[32];
	unsigned int hl = 0;
	size_t n;
	EVP_DigestInit_ex(c, EVP_sha256(), NULL);
	while (f && (n = fread(buf, 1, sizeof(buf), f)) > 0)
		EVP_DigestUpdate(c, buf, n);
	EVP_DigestFinal_ex(c, h, &hl);
	EVP_MD_CTX_free(c);
	if (f)
		fclose(f);
	ps_hex(hex, h, 32);
}

/* One ustar header block.  size above 8 GiB is written base-256 as GNU tar
 * and libarchive do. */
static inline void tc_header(struct ps_buf *b, const char *name, uint64_t size, char type,
			     const char *link)
{
	unsigned char h[512];
	memset(h, 0, sizeof(h));
	snprintf((char *)h, 100, "%s", name);
	memcpy(h + 100, type == '5' ? "0000755" : "0000644", 8);
	memcpy(h + 108, "0000000", 8);
	memcpy(h + 116, "0000000", 8);
	if (size < ((uint64_t)1 << 33)) {
		char s[13];
		snprintf(s, sizeof(s), "%011llo", (unsigned long long)size);
		memcpy(h + 124, s, 12);
	} else {
		h[124] = 0x80;
		for (int i = 0; i < 8; i++)
			h[135 - i] = (unsigned char)(size >> (8 * i));
	}
	memcpy(h + 136, "14000000000", 12);
	h[156] = (unsigned char)type;
	if (link)
		snprintf((char *)h + 157, 100, "%s", link);
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	memset(h + 148, ' ', 8);
	unsigned sum = 0;
	for (int i = 0; i < 512; i++)
		sum += h[i];
	char cs[8];
	snprintf(cs, sizeof(cs), "%06o", sum);
	memcpy(h + 148, cs, 7);
	h[155] = ' ';
	ps_buf_add(b, h, 512);
}

static inline void tc_pad(struct ps_buf *b)
{
	static const char zero[512];
	if (b->len % 512)
		ps_buf_add(b, zero, 512 - b->len % 512);
}

static inline void tc_file(struct ps_buf *b, const char *name, const void *data, size_t len)
{
	tc_header(b, name, len, '0', NULL);
	ps_buf_add(b, data, len);
	tc_pad(b);
}

/* A pax extended header ('x') holding the given records verbatim. */
static inline void tc_pax(struct ps_buf *b, const char *records, size_t len)
{
	tc_header(b, "PaxHeader/x", len, 'x', NULL);
	ps_buf_add(b, records, len);
	tc_pad(b);
}

static inline void tc_end(struct ps_buf *b)
{
	static const char zero[1024];
	ps_buf_add(b, zero, sizeof(zero));
}

/* One manifest line for content (path kind size xxh3 read_ns errno). */
static inline void tc_line(struct ps_buf *man, const char *path, const char *kind, const void *data,
			   size_t len)
{
	unsigned char h[16];
	char hex[33];
	ps_xxh3_128(data, len, h);
	ps_hex(hex, h, 16);
	ps_buf_addf(man, "%s\t%s\t%zu\t%s\t0\t-\n", path, kind, len, hex);
}

/* Deterministic, poorly compressible bytes. */
static inline void tc_fill(char *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (char)(seed >> 16);
	}
}

#define TC_META "{\"format_version\":1,\"hostname\":\"crafted\",\"start_ns\":1}"

/*
 * A small procsnap-shaped tar: meta.json, n files proc/sys/t/<i> of `size`
 * pseudo-random bytes, the manifest, the end marker.  With a pax header
 * (pax, plen) before meta.json if given.
 */
static inline void tc_mini(struct ps_buf *tar, int n, size_t size, const char *pax, size_t plen)
{
	struct ps_buf man = PS_BUF_INIT;
	char *data = malloc(size ? size : 1);
	if (!data)
		abort();
	if (pax)
		tc_pax(tar, pax, plen);
	tc_file(tar, PS_META_PATH, TC_META, strlen(TC_META));
	tc_line(&man, PS_META_PATH, "file", TC_META, strlen(TC_META));
	for (int i = 0; i < n; i++) {
		char p[64];
		snprintf(p, sizeof(p), "proc/sys/t/%d", i);
		tc_fill(data, size, (unsigned)i + 1);
		tc_file(tar, p, data, size);
		tc_line(&man, p, "file", data, size);
	}
	tc_file(tar, PS_MANIFEST_PATH, man.buf, man.len);
	tc_end(tar);
	free(data);
	ps_buf_release(&man);
}

static inline int tc_write(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	int e = ps_write_all(fd, data, len);
	close(fd);
	return e ? -1 : 0;
}

static inline void tc_le32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

/*
 * Compress tar bytes into path: frames of `frame` bytes (0: one frame), and
 * a seekable-format trailer when seektable is set.  0 or -1.
 */
static inline int tc_write_zstd(const char *path, const void *tar, size_t len, size_t frame,
				int seektable)
{
	struct ps_buf out = PS_BUF_INIT, tab = PS_BUF_INIT;
	size_t n = 0, fs = frame ? frame : len;
	for (size_t off = 0; off < len || (len == 0 && n == 0); off += fs, n++) {
		size_t k = len - off < fs ? len - off : fs;
		size_t cap = ZSTD_compressBound(k);
		ps_buf_grow(&out, cap);
		size_t c = ZSTD_compress(out.buf + out.len, cap, (const char *)tar + off, k, 3);
		if (ZSTD_isError(c))
			return -1;
		out.len += c;
		unsigned char e[8];
		tc_le32(e, (uint32_t)c);
		tc_le32(e + 4, (uint32_t)k);
		ps_buf_add(&tab, e, 8);
		if (len == 0)
			break;
	}
	if (seektable) {
		unsigned char h[8], f[9];
		tc_le32(h, 0x184D2A5E);
		tc_le32(h + 4, (uint32_t)(tab.len + 9));
		tc_le32(f, (uint32_t)n);
		f[4] = 0;
		tc_le32(f + 5, 0x8F92EAB1);
		ps_buf_add(&out, h, 8);
		ps_buf_add(&out, tab.buf, tab.len);
		ps_buf_add(&out, f, 9);
	}
	int r = tc_write(path, out.buf, out.len);
	ps_buf_release(&out);
	ps_buf_release(&tab);
	return r;
}

static inline int tc_feed(ZSTD_CCtx *cc, int fd, char *ob, size_t ocap, const void *src, size_t k,
			  ZSTD_EndDirective end)
{
	ZSTD_inBuffer in = {src, k, 0};
	for (;;) {
		ZSTD_outBuffer o = {ob, ocap, 0};
		size_t r = ZSTD_compressStream2(cc, &o, &in, end);
		if (ZSTD_isError(r) || ps_write_all(fd, ob, o.pos))
			return -1;
		if (end == ZSTD_e_end ? r == 0 : in.pos == in.size)
			return 0;
	}
}

/* Write prefix, `total` bytes of c, suffix as one zstd frame (content size
 * in its header unless unsized, windowLog wlog or 0 for the level's) into
 * fd: a bomb, tiny file and huge content.  0 or -1. */
static inline int tc_zstd_bomb(int fd, const void *prefix, size_t plen, uint64_t total, char c,
			       const void *suffix, size_t slen, int unsized, int wlog)
{
	ZSTD_CCtx *cc = ZSTD_createCCtx();
	size_t chunk = 1 << 20, ocap = ZSTD_CStreamOutSize();
	char *fill = malloc(chunk), *ob = malloc(ocap);
	int rc = -1;
	if (!cc || !fill || !ob)
		goto out;
	ZSTD_CCtx_setParameter(cc, ZSTD_c_compressionLevel, 1);
	ZSTD_CCtx_setParameter(cc, ZSTD_c_checksumFlag, 1);
	if (wlog)
		ZSTD_CCtx_setParameter(cc, ZSTD_c_windowLog, wlog);
	if (!unsized)
		ZSTD_CCtx_setPledgedSrcSize(cc, plen + total + slen);
	memset(fill, c, chunk);
	if (tc_feed(cc, fd, ob, ocap, prefix, plen, ZSTD_e_continue))
		goto out;
	for (uint64_t left = total; left;) {
		size_t k = left < chunk ? (size_t)left : chunk;
		if (tc_feed(cc, fd, ob, ocap, fill, k, ZSTD_e_continue))
			goto out;
		left -= k;
	}
	if (tc_feed(cc, fd, ob, ocap, suffix, slen, ZSTD_e_continue) ||
	    tc_feed(cc, fd, ob, ocap, NULL, 0, ZSTD_e_end))
		goto out;
	rc = 0;
out:
	ZSTD_freeCCtx(cc);
	free(fill);
	free(ob);
	return rc;
}

/* A procsnap archive at path from the real writer (frame_size 0: the
 * default), meta.json added; *fd is to be closed after ps_writer_finish.
 * NULL if it cannot be started. */
static inline struct ps_writer *tc_writer(const char *path, size_t frame_size, int level, int *fd)
{
	struct ps_writer *w = NULL;
	struct ps_err err = {0, ""};
	struct ps_writer_opts o = {.level = level, .frame_size = frame_size, .spill_dirfd = -1};
	struct ps_member m = {.path = PS_META_PATH,
			      .kind = PS_M_FILE,
			      .mode = 0100444,
			      .data = TC_META,
			      .len = strlen(TC_META)};
	*fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (*fd < 0 || ps_writer_open(&w, *fd, &o, &err) < 0 || ps_writer_add(w, &m, &err) < 0) {
		fprintf(stderr, "%s: %s\n", path, err.msg);
		ps_writer_free(w);
		return NULL;
	}
	return w;
}

/* A finished procsnap run. */
struct tc_run {
	int status;	 /* exit status, or 128 + signal */
	long maxrss_kib; /* peak RSS (wait4) */
	double secs;
	struct ps_buf out, err;
};

static inline void tc_slurp(const char *path, struct ps_buf *b)
{
	ps_buf_reset(b);
	FILE *f = fopen(path, "rb");
	if (!f)
		return;
	char buf[65536];
	size_t n;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		ps_buf_add(b, buf, n);
	fclose(f);
}

/* Run $PROCSNAP with argv (NULL-terminated, argv[0] ignored) in dir, stdin
 * from in_path (or /dev/null).  0, or -1 if it could not be started. */
static inline int tc_run(struct tc_run *r, const char *dir, const char *in_path,
			 const char *const *argv)
{
	const char *bin = getenv("PROCSNAP");
	char o[600], e[600];
	snprintf(o, sizeof(o), "%s/run.out", dir);
	snprintf(e, sizeof(e), "%s/run.err", dir);
	if (!bin)
		return -1;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int i = open(in_path ? in_path : "/dev/null", O_RDONLY);
		int fo = open(o, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int fe = open(e, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (i < 0 || fo < 0 || fe < 0)
			_exit(127);
		dup2(i, 0);
		dup2(fo, 1);
		dup2(fe, 2);
		execv(bin, (char *const *)argv);
		_exit(127);
	}
	int st;
	struct rusage ru;
	if (wait4(pid, &st, 0, &ru) != pid)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	r->maxrss_kib = ru.ru_maxrss;
	r->secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	tc_slurp(o, &r->out);
	tc_slurp(e, &r->err);
	return 0;
}

static inline int tc_one_line(const struct ps_buf *b)
{
	return b->len > 0 && memchr(b->buf, '\n', b->len) == b->buf + b->len - 1;
}

#endif
