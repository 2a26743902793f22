/*
 * test_store_anytar.c - any tar or tar.zst is readable (issue 8 item 3).
 * One procsnap archive in every shape a user may hand us: as written (zstd
 * frames + seek table), recompressed as one frame by `zstd` (from a pipe:
 * no content size; and from a file: with it), its frames without the
 * trailer, decompressed to a plain tar, re-made by `tar --zstd -c` from its
 * extracted files, and on standard input.  index, info, ls, cat and verify
 * give the same answers for each; the reader's random access returns the
 * same bytes in any order.
 */
#include "t.h"

#include "tarcraft.h"

#include <sys/stat.h>

static const char *const dir = tc_dir;

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	int r = system(cmd);
	return WIFEXITED(r) ? WEXITSTATUS(r) : -1;
}

#define BIG 2500000

/* The archive: small frames, a member spanning many of them, hardlinks,
 * symlinks, directories, an absent path. */
static void write_archive(const char *path)
{
	int fd;
	struct ps_err err = {0, ""};
	struct ps_writer *w = tc_writer(path, 8192, 3, &fd);
	CHECK(w != NULL);
	if (!w)
		return;
	const char *dirs[] = {"proc", "proc/sys", "proc/sys/f"};
	for (int i = 0; i < 3; i++) {
		struct ps_member d = {.path = dirs[i], .kind = PS_M_DIR, .mode = 040555};
		CHECK_INT(ps_writer_add(w, &d, &err), 0);
	}
	static char big[BIG];
	tc_fill(big, sizeof(big), 99);
	for (int i = 0; i < 80; i++) {
		char p[64], data[1500];
		snprintf(p, sizeof(p), "proc/sys/f/%d", i);
		tc_fill(data, sizeof(data), (unsigned)i + 1);
		struct ps_member f = {.path = p,
				      .kind = PS_M_FILE,
				      .mode = 0100444,
				      .uid = 7,
				      .gid = 8,
				      .data = data,
				      .len = sizeof(data)};
		CHECK_INT(ps_writer_add(w, &f, &err), 0);
		if (i % 20 == 5) { /* stored again: a hardlink to proc/sys/f/<i> */
			snprintf(p, sizeof(p), "proc/sys/f/%d.dup", i);
			CHECK_INT(ps_writer_add(w, &f, &err), 0);
		}
		if (i == 40) {
			struct ps_member b = {.path = "proc/sys/f/big",
					      .kind = PS_M_FILE,
					      .mode = 0100444,
					      .data = big,
					      .len = sizeof(big)};
			CHECK_INT(ps_writer_add(w, &b, &err), 0);
			struct ps_member l = {.path = "proc/sys/f/link",
					      .kind = PS_M_LINK,
					      .mode = 0120777,
					      .target = "/usr/bin/x (deleted)"};
			CHECK_INT(ps_writer_add(w, &l, &err), 0);
			/* UTF-8 names go in pax headers; read in the C locale,
			 * libarchive warns that it cannot convert them */
			struct ps_member u = {.path = "proc/sys/f/caf\xc3\xa9",
					      .kind = PS_M_LINK,
					      .mode = 0120777,
					      .target = "/tmp/\xd0\x94\xd0\xb0 (deleted)"};
			CHECK_INT(ps_writer_add(w, &u, &err), 0);
		}
	}
	struct ps_member a = {.path = "proc/sys/f/absent", .kind = PS_M_ABSENT, .err = EACCES};
	CHECK_INT(ps_writer_add(w, &a, &err), 0);
	struct ps_writer_stats st;
	CHECK_INT(ps_writer_finish(w, &st, &err), 0);
	ps_writer_free(w);
	close(fd);
	CHECK(st.frames > 20);
	CHECK_U64(st.hardlinks, 4);
}

static int argc_last(const char *const *argv)
{
	int i = 0;
	while (argv[i + 1])
		i++;
	return i;
}

static void run_ok(struct tc_run *r, const char *in, const char *const *argv)
{
	CHECK_INT(tc_run(r, dir, in, argv), 0);
	if (r->status != 0)
		fprintf(stderr, "%s %s: exit %d: %s", argv[1], argv[argc_last(argv)], r->status,
			r->err.buf);
	CHECK_INT(r->status, 0);
}

/* Reader: every member's bytes again by tar offset, backwards (each one a
 * seek back without a seek table) and then forwards. */
static void check_fetch(const char *path)
{
	struct ps_reader *r;
	struct ps_err err = {0, ""};
	struct ps_reader_opts o = {.tmpdir = dir, .salvage = 0};
	CHECK_INT(ps_reader_open_with(&r, path, &o, &err), 0);
	static struct {
		uint64_t off, len;
		unsigned char h[16];
	} ms[200];
	int n = 0, st;
	struct ps_rmember m;
	while ((st = ps_reader_next(r, &m, &err)) == 1) {
		if (m.kind != PS_M_FILE || m.hardlink || m.streaming || n == 200)
			continue;
		ms[n].off = m.data_off;
		ms[n].len = m.len;
		memcpy(ms[n].h, m.xxh3, 16);
		n++;
	}
	CHECK_INT(st, 0);
	CHECK(n > 80);
	struct ps_buf out = PS_BUF_INIT;
	int bad = 0;
	for (int pass = 0; pass < 2; pass++)
		for (int k = 0; k < n; k++) {
			int i = pass ? k : n - 1 - k;
			unsigned char h[16];
			if (ps_reader_fetch(r, ms[i].off, ms[i].len, &out, &err) < 0) {
				fprintf(stderr, "%s: fetch %d: %s\n", path, i, err.msg);
				bad++;
				continue;
			}
			ps_xxh3_128(out.buf, out.len, h);
			bad += out.len != ms[i].len || memcmp(h, ms[i].h, 16) != 0;
		}
	CHECK_INT(bad, 0);
	ps_buf_release(&out);
	ps_reader_close(r);
}

/* What `procsnap` says about the original, to compare every shape with. */
static struct ps_buf want_ls, want_big, want_dup, want_link;
static char want_files[64];

static void check_shape(const char *name, const char *path, int frames)
{
	char db[500], sha[65], line[100];
	snprintf(db, sizeof(db), "%s.db", path);
	struct tc_run r = {0, 0, 0, PS_BUF_INIT, PS_BUF_INIT};
	printf("  %s\n", name);
	const char *ix[] = {"procsnap", "index", "--force", path, NULL};
	run_ok(&r, NULL, ix);
	const char *info[] = {"procsnap", "info", path, NULL};
	run_ok(&r, NULL, info);
	CHECK(strstr(r.out.buf, want_files) != NULL);
	snprintf(line, sizeof(line), "\nframes           %d\n", frames);
	if (frames >= 0)
		CHECK(strstr(r.out.buf, line) != NULL);
	const char *ls[] = {"procsnap", "ls", "-l", path, NULL};
	run_ok(&r, NULL, ls);
	CHECK(r.out.len == want_ls.len && memcmp(r.out.buf, want_ls.buf, r.out.len) == 0);
	const char *c1[] = {"procsnap", "cat", path, "proc/sys/f/big", NULL};
	run_ok(&r, NULL, c1);
	CHECK(r.out.len == want_big.len && memcmp(r.out.buf, want_big.buf, r.out.len) == 0);
	const char *c2[] = {"procsnap", "cat", path, "proc/sys/f/65.dup", NULL};
	run_ok(&r, NULL, c2);
	CHECK(r.out.len == want_dup.len && memcmp(r.out.buf, want_dup.buf, r.out.len) == 0);
	const char *c3[] = {"procsnap", "cat", path, "proc/sys/f/link", NULL};
	run_ok(&r, NULL, c3);
	CHECK(r.out.len == want_link.len && memcmp(r.out.buf, want_link.buf, r.out.len) == 0);
	tc_sha256_file(path, sha);
	const char *vf[] = {"procsnap", "verify", "--sha256", sha, path, NULL};
	run_ok(&r, NULL, vf);
	CHECK(strncmp(r.out.buf, "OK ", 3) == 0);
	check_fetch(path);
	ps_buf_release(&r.out);
	ps_buf_release(&r.err);
}

static void test_every_shape(void)
{
	char a[400], p[600], t[600];
	snprintf(a, sizeof(a), "%s/a.tar.zst", dir);
	write_archive(a);
	struct tc_run r = {0, 0, 0, PS_BUF_INIT, PS_BUF_INIT};
	const char *ix[] = {"procsnap", "index", a, NULL};
	run_ok(&r, NULL, ix);
	const char *info[] = {"procsnap", "info", a, NULL};
	run_ok(&r, NULL, info);
	const char *nf = strstr(r.out.buf, "\nn_files ");
	CHECK(nf != NULL);
	if (nf)
		snprintf(want_files, sizeof(want_files), "%.*s", (int)strcspn(nf + 1, "\n") + 2,
			 nf);
	const char *ls[] = {"procsnap", "ls", "-l", a, NULL};
	run_ok(&r, NULL, ls);
	ps_buf_add(&want_ls, r.out.buf, r.out.len);
	CHECK(strstr(want_ls.buf, "proc/sys/f/absent") != NULL);
	/* ls prints valid UTF-8 as it is */
	CHECK(strstr(want_ls.buf, "proc/sys/f/caf\xc3\xa9 -> /tmp/\xd0\x94\xd0\xb0 (deleted)") !=
	      NULL);
	const char *c1[] = {"procsnap", "cat", a, "proc/sys/f/big", NULL};
	run_ok(&r, NULL, c1);
	ps_buf_add(&want_big, r.out.buf, r.out.len);
	CHECK_INT(want_big.len, BIG);
	const char *c2[] = {"procsnap", "cat", a, "proc/sys/f/65.dup", NULL};
	run_ok(&r, NULL, c2);
	ps_buf_add(&want_dup, r.out.buf, r.out.len);
	CHECK_INT(want_dup.len, 1500);
	const char *c3[] = {"procsnap", "cat", a, "proc/sys/f/link", NULL};
	run_ok(&r, NULL, c3);
	ps_buf_add(&want_link, r.out.buf, r.out.len);

	check_shape("as written", a, -1);
	snprintf(p, sizeof(p), "%s/one-pipe.tar.zst", dir);
	CHECK_INT(sh("zstd -qdc %s | zstd -qc > %s", a, p), 0);
	check_shape("one frame, no content size", p, 0);
	snprintf(t, sizeof(t), "%s/plain.tar", dir);
	CHECK_INT(sh("zstd -qdc %s > %s", a, t), 0);
	check_shape("plain tar", t, 0);
	snprintf(p, sizeof(p), "%s/one-file.tar.zst", dir);
	CHECK_INT(sh("zstd -qc %s > %s", t, p), 0);
	check_shape("one frame with its content size", p, 0);
	/* the frames without the trailer */
	snprintf(p, sizeof(p), "%s/notrailer.tar.zst", dir);
	struct ps_reader *rd;
	struct ps_err err = {0, ""};
	CHECK_INT(ps_reader_open(&rd, a, &err), 0);
	struct ps_frame f;
	size_t i = 0;
	uint64_t end = 0;
	while (ps_reader_frame(rd, i++, &f))
		end = f.c_off + f.c_size;
	ps_reader_close(rd);
	CHECK(i > 20);
	CHECK_INT(sh("head -c %llu %s > %s", (unsigned long long)end, a, p), 0);
	check_shape("frames without the seek table", p, 0);
	/* re-made by tar from the extracted files, in the same order */
	snprintf(p, sizeof(p), "%s/remade.tar.zst", dir);
	CHECK_INT(sh("cd %s && mkdir -p x && tar --zstd -xf a.tar.zst -C x && "
		     "tar --zstd -tf a.tar.zst > list && "
		     "tar --zstd -cf remade.tar.zst -C x --no-recursion -T list",
		     dir),
		  0);
	check_shape("re-made by tar --zstd -c", p, 0);

	/* standard input: index (needs -o) and verify */
	char db[500], sha[65], q[700];
	snprintf(db, sizeof(db), "%s/stdin.db", dir);
	const char *six[] = {"procsnap", "index", "-o", db, "-", NULL};
	run_ok(&r, a, six);
	const char *six2[] = {"procsnap", "index", "-", NULL};
	CHECK_INT(tc_run(&r, dir, a, six2), 0);
	CHECK_INT(r.status, 2);
	CHECK(strstr(r.err.buf, "needs -o DB") != NULL);
	tc_sha256_file(a, sha);
	snprintf(q, sizeof(q),
		 "sqlite3 %s 'SELECT archive_sha256 IS NULL FROM snapshots' | grep -qx 1", db);
	CHECK_INT(sh("%s", q), 0);
	snprintf(q, sizeof(q), "sqlite3 %s 'SELECT count(*) FROM frames' | grep -qx 0", db);
	CHECK(sh("%s", q) != 0); /* the seek table was read from the spooled copy */
	const char *sv[] = {"procsnap", "verify", "--sha256", sha, "-", NULL};
	run_ok(&r, a, sv);
	CHECK(strncmp(r.out.buf, "OK -: ", 6) == 0);
	/* a pipe named as a file (/dev/stdin, <(...), a FIFO): verify reads it
	 * as standard input (looking for an index beside it would eat its
	 * first bytes); a command that needs an index names the mistake */
	snprintf(
	    q, sizeof(q),
	    "cat %s | \"$PROCSNAP\" verify --sha256 %s /dev/stdin | grep -q '^OK /dev/stdin: '", a,
	    sha);
	CHECK_INT(sh("%s", q), 0);
	snprintf(
	    q, sizeof(q),
	    "cat %s | \"$PROCSNAP\" info /dev/stdin 2>&1 >/dev/null | grep -qx 'procsnap: info: "
	    "/dev/stdin: not a regular file (name a snapshot.s file; an archive on a pipe is "
	    "read by verify - and index -o DB -)'",
	    db);
	CHECK_INT(sh("%s", q), 0);
	ps_buf_release(&r.out);
	ps_buf_release(&r.err);
}

static const struct t_case cases[] = {T(test_every_shape), {0, 0}};

T_MAIN_SETUP(cases, tc_scratch, tc_rmscratch)
