/*
 * test_store.c - the archive writer, reader, seek table and index, without
 * capture: a synthetic member list with duplicates, links, dirs, absent
 * paths, tricky names, and enough data to cut several frames.
 */
#include "t.h"

#include "store.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <string.h>
#include <fcntl.h>
#include <limits.h>
#include <sqlite3.h>
#include <zstd.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[256];

static void mkscratch(void)
{
	snprintf(dir, sizeof(dir), "/tmp/ps-test-store-XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		exit(2);
	}
}

#define STATUS "Name:\tx\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t42\nNgid:\t0\nPid:\t42\n"

/* Deterministic pseudo-random bytes (poorly compressible). */
static void fill(char *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (char)(seed >> 16);
	}
}

static const char *tricky = "proc/42/fd/a name\twith\ttabs\nand newline\\ \xff\xfe";

/* Write the test archive; returns its path (static). */
static const char *write_archive(int frames_small)
{
	static char path[300];
	snprintf(path, sizeof(path), "%s/a.tar.zst", dir);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0);
	struct ps_writer *w = NULL;
	struct ps_err err = {0, ""};
	struct ps_writer_opts o = {
	    .level = 3, .frame_size = frames_small ? 4096 : 0, .spill_dirfd = -1};
	CHECK_INT(ps_writer_open(&w, fd, &o, &err), 0);
	const char *meta = "{\"format_version\":1,\"hostname\":\"testhost\",\"start_ns\":5,"
			   "\"options\":{\"pids\":[]}}";
	struct ps_member m = {.path = PS_META_PATH,
			      .kind = PS_M_FILE,
			      .mode = 0100444,
			      .data = meta,
			      .len = strlen(meta)};
	CHECK_INT(ps_writer_add(w, &m, &err), 0);
	struct ps_member d = {.path = "proc/42", .kind = PS_M_DIR, .mode = 040555};
	CHECK_INT(ps_writer_add(w, &d, &err), 0);
	struct ps_member f1 = {.path = "proc/42/status",
			       .kind = PS_M_FILE,
			       .mode = 0100444,
			       .uid = 1000,
			       .gid = 1000,
			       .data = STATUS,
			       .len = sizeof(STATUS) - 1,
			       .read_ns = 123456};
	CHECK_INT(ps_writer_add(w, &f1, &err), 0);
	struct ps_member f2 = f1;
	f2.path = "proc/42/task/42/status"; /* same bytes: becomes a hardlink */
	CHECK_INT(ps_writer_add(w, &f2, &err), 0);
	struct ps_member l = {.path = "proc/42/exe",
			      .kind = PS_M_LINK,
			      .mode = 0120777,
			      .target = "/usr/bin/x (deleted)"};
	CHECK_INT(ps_writer_add(w, &l, &err), 0);
	struct ps_member l2 = {
	    .path = tricky, .kind = PS_M_LINK, .mode = 0120700, .target = "socket:[123]"};
	CHECK_INT(ps_writer_add(w, &l2, &err), 0);
	struct ps_member a = {
	    .path = "proc/42/environ", .kind = PS_M_ABSENT, .err = EACCES, .read_ns = 9};
	CHECK_INT(ps_writer_add(w, &a, &err), 0);
	static char big[300000];
	fill(big, sizeof(big), 7);
	struct ps_member b = {.path = "proc/42/smaps",
			      .kind = PS_M_FILE,
			      .mode = 0100444,
			      .data = big,
			      .len = sizeof(big)};
	CHECK_INT(ps_writer_add(w, &b, &err), 0);
	for (int i = 0; i < 50; i++) {
		char p[64], data[2000];
		snprintf(p, sizeof(p), "proc/sys/x/%d", i);
		fill(data, sizeof(data), (unsigned)i + 100);
		struct ps_member x = {.path = p,
				      .kind = PS_M_FILE,
				      .mode = 0100644,
				      .data = data,
				      .len = sizeof(data)};
		CHECK_INT(ps_writer_add(w, &x, &err), 0);
	}
	struct ps_member e = {.path = "proc/42/empty", .kind = PS_M_FILE, .mode = 0100444};
	CHECK_INT(ps_writer_add(w, &e, &err), 0);
	/* tiny repeats are stored again, not hardlinked (a link costs as much) */
	struct ps_member t1 = {
	    .path = "proc/42/oom_adj", .kind = PS_M_FILE, .mode = 0100644, .data = "0\n", .len = 2};
	CHECK_INT(ps_writer_add(w, &t1, &err), 0);
	t1.path = "proc/42/oom_score_adj";
	CHECK_INT(ps_writer_add(w, &t1, &err), 0);
	struct ps_writer_stats st;
	CHECK_INT(ps_writer_finish(w, &st, &err), 0);
	if (err.msg[0])
		fprintf(stderr, "err: %s\n", err.msg);
	ps_writer_free(w);
	close(fd);
	CHECK_U64(st.hardlinks, 1);
	CHECK_U64(st.files, 57);
	CHECK_U64(st.links, 2);
	CHECK_U64(st.absent, 1);
	CHECK_U64(st.errors[EACCES], 1);
	if (frames_small)
		CHECK(st.frames > 10);
	return path;
}

static int run(const char *cmd)
{
	int r = system(cmd);
	return WIFEXITED(r) ? WEXITSTATUS(r) : -1;
}

static void test_roundtrip(void)
{
	const char *path = write_archive(1);
	struct ps_reader *r;
	struct ps_err err = {0, ""};
	CHECK_INT(ps_reader_open(&r, path, &err), 0);
	struct ps_rmember m;
	int n = 0, saw_hl = 0, saw_tricky = 0, saw_manifest = 0;
	const char *first = NULL;
	char firstbuf[64] = "";
	while (ps_reader_next(r, &m, &err) == 1) {
		if (n++ == 0) {
			snprintf(firstbuf, sizeof(firstbuf), "%s", m.path);
			first = firstbuf;
		}
		if (strcmp(m.path, "proc/42/task/42/status") == 0) {
			CHECK_STR(m.hardlink, "proc/42/status");
			saw_hl = 1;
		}
		if (strcmp(m.path, tricky) == 0) {
			CHECK_STR(m.target, "socket:[123]");
			CHECK_INT(m.kind, PS_M_LINK);
			saw_tricky = 1;
		}
		if (strcmp(m.path, "proc/42/status") == 0) {
			CHECK_MEM(m.data, m.len, STATUS);
			CHECK_INT(m.uid, 1000);
			CHECK_INT(m.mode & 07777, 0444);
		}
		if (strcmp(m.path, PS_MANIFEST_PATH) == 0) {
			saw_manifest = 1;
			/* streamed, not loaded; every line parses; the absent path is
			 * listed with its errno */
			CHECK(m.streaming && m.data == NULL);
			struct ps_buf all = PS_BUF_INIT;
			const void *chunk;
			size_t cn;
			while (ps_reader_stream(r, &chunk, &cn, &err) == 1)
				ps_buf_add(&all, chunk, cn);
			CHECK_U64(all.len, m.len);
			const char *p = all.buf, *end = p + all.len;
			struct ps_buf pb = PS_BUF_INIT;
			int lines = 0, absent_ok = 0;
			while (p < end) {
				const char *nl = memchr(p, '\n', (size_t)(end - p));
				struct ps_manifest_line ml;
				CHECK_INT(ps_manifest_parse_line(p, (size_t)(nl - p), &pb, &ml), 0);
				if (strcmp(pb.buf, "proc/42/environ") == 0)
					absent_ok = ml.kind == PS_M_ABSENT && ml.err == EACCES &&
						    ml.read_ns == 9 && !ml.has_hash;
				if (strcmp(pb.buf, tricky) == 0)
					CHECK_INT(ml.kind, PS_M_LINK);
				lines++;
				p = nl + 1;
			}
			CHECK_INT(lines, 61); /* meta + 60 captured paths */
			CHECK(absent_ok);
			ps_buf_release(&pb);
			ps_buf_release(&all);
		}
	}
	CHECK(err.msg[0] == '\0');
	CHECK_STR(first, PS_META_PATH);
	CHECK(saw_hl && saw_tricky && saw_manifest);
	ps_reader_close(r);

	/* stock tools read it: tar lists it, zstd -t accepts the frames + trailer */
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), "tar --zstd -tvf %s > %s/list.txt", path, dir);
	CHECK_INT(run(cmd), 0);
	snprintf(cmd, sizeof(cmd), "head -1 %s/list.txt | grep -q 'procsnap/meta.json$'", dir);
	CHECK_INT(run(cmd), 0);
	snprintf(cmd, sizeof(cmd), "tail -1 %s/list.txt | grep -q 'procsnap/manifest.tsv$'", dir);
	CHECK_INT(run(cmd), 0);
	snprintf(cmd, sizeof(cmd),
		 "grep -q 'proc/42/task/42/status link to proc/42/status' %s/list.txt", dir);
	CHECK_INT(run(cmd), 0);
	snprintf(cmd, sizeof(cmd), "zstd -tq %s", path);
	CHECK_INT(run(cmd), 0);
}

static int keep_sys_1(const char *path)
{
	return strcmp(path, "proc/sys/x/1") == 0;
}

/* unload_over: a member larger than that which keep() does not want comes
 * back unloaded (no data, its XXH3 computed as it went by); the others as
 * ever.  The reader goes on reading past it. */
/* One pass over an archive with unload_over = 1999 and keep_sys_1: how
 * many of the 2000-byte proc/sys/x/N members came back unloaded and held,
 * each with the right XXH3; smaps (300,000 bytes) likewise. */
static void unload_pass(const char *path, int *unloaded, int *held, int *smaps_unloaded)
{
	struct ps_reader_opts o = {.unload_over = 1999, .keep = keep_sys_1};
	struct ps_reader *r;
	struct ps_err err = {0, ""};
	CHECK_INT(ps_reader_open_with(&r, path, &o, &err), 0);
	struct ps_rmember m;
	static char big[300000];
	fill(big, sizeof(big), 7);
	unsigned char hbig[16], hsys[16];
	ps_xxh3_128(big, sizeof(big), hbig);
	int small = 0;
	*unloaded = *held = 0;
	*smaps_unloaded = -1;
	while (ps_reader_next(r, &m, &err) == 1) {
		if (strcmp(m.path, "proc/42/smaps") == 0) {
			CHECK_U64(m.len, sizeof(big));
			CHECK(memcmp(m.xxh3, hbig, 16) == 0);
			CHECK(m.unloaded ? m.data == NULL
					 : m.data && memcmp(m.data, big, sizeof(big)) == 0);
			*smaps_unloaded = m.unloaded;
		} else if (strncmp(m.path, "proc/sys/x/", 11) == 0) {
			/* 2000 bytes each: over 1999, kept for x/1 only */
			char data[2000];
			fill(data, sizeof(data), (unsigned)atoi(m.path + 11) + 100);
			ps_xxh3_128(data, sizeof(data), hsys);
			CHECK(memcmp(m.xxh3, hsys, 16) == 0);
			CHECK_U64(m.len, sizeof(data));
			if (m.unloaded) {
				CHECK(m.data == NULL && strcmp(m.path, "proc/sys/x/1") != 0);
				(*unloaded)++;
			} else {
				CHECK(memcmp(m.data, data, sizeof(data)) == 0);
				(*held)++;
			}
		} else if (strcmp(m.path, "proc/42/status") == 0) {
			CHECK(!m.unloaded);
			CHECK_MEM(m.data, m.len, STATUS);
			small = 1;
		}
	}
	CHECK(err.msg[0] == '\0');
	CHECK(small);
	ps_reader_close(r);
}

/* unload_over: a member larger than that which keep() does not want comes
 * back unloaded (no data, its XXH3 computed as it went by), where reading
 * it again is cheap: procsnap's archive (a seek table) or a plain tar, not a
 * single-frame tar.zst (as tar --zstd writes), which is read as ever. */
static void test_unload(void)
{
	const char *path = write_archive(1);
	int unloaded, held, smaps;
	unload_pass(path, &unloaded, &held, &smaps);
	CHECK_INT(unloaded, 49);
	CHECK_INT(held, 1);
	CHECK_INT(smaps, 1);
	char plain[320], one[320], cmd[1100];
	snprintf(plain, sizeof(plain), "%s/plain.tar", dir);
	snprintf(one, sizeof(one), "%s/oneframe.tar.zst", dir);
	snprintf(cmd, sizeof(cmd), "zstd -dcq %s > %s && zstd -qc %s > %s", path, plain, plain,
		 one);
	CHECK_INT(run(cmd), 0);
	unload_pass(plain, &unloaded, &held, &smaps);
	CHECK_INT(unloaded, 49);
	CHECK_INT(held, 1);
	CHECK_INT(smaps, 1);
	unload_pass(one, &unloaded, &held, &smaps);
	CHECK_INT(unloaded, 0);
	CHECK_INT(held, 50);
	CHECK_INT(smaps, 0);
}

static void test_seek_and_index(void)
{
	const char *path = write_archive(1);
	char db[320];
	snprintf(db, sizeof(db), "%s.db", path);
	unlink(db);
	struct ps_err err = {0, ""};
	CHECK_INT(ps_index_build(path, db, 0, &err), 0);
	if (err.msg[0])
		fprintf(stderr, "%s\n", err.msg);
	/* refuses to overwrite */
	CHECK_INT(ps_index_build(path, db, 0, &err), -1);
	CHECK(strstr(err.msg, "exists") != NULL);

	struct ps_snap *s;
	CHECK_INT(ps_snap_open(path, &s, &err), 0);
	struct ps_buf out = PS_BUF_INIT;
	int kind;
	CHECK_INT(ps_snap_read(s, "proc/42/task/42/status", &out, &kind, &err), 0);
	CHECK_MEM(out.buf, out.len, STATUS);
	CHECK_INT(kind, PS_M_FILE);
	CHECK_INT(ps_snap_read(s, "proc/42/exe", &out, &kind, &err), 0);
	CHECK_MEM(out.buf, out.len, "/usr/bin/x (deleted)");
	CHECK_INT(ps_snap_read(s, "proc/42/smaps", &out, &kind, &err), 0);
	static char big[300000];
	fill(big, sizeof(big), 7);
	CHECK(out.len == sizeof(big) && memcmp(out.buf, big, sizeof(big)) == 0);
	CHECK_INT(ps_snap_read(s, "proc/sys/x/49", &out, &kind, &err), 0);
	CHECK_INT(out.len, 2000);
	CHECK_INT(ps_snap_read(s, "proc/42/environ", &out, &kind, &err), -1);
	CHECK(strstr(err.msg, "EACCES") != NULL);

	sqlite3 *d = ps_snap_db(s);
	sqlite3_stmt *q;
	CHECK_INT(sqlite3_prepare_v2(d,
				     "SELECT kind, size, errno, pid, tid, xxh3, read_ns, uid FROM "
				     "files WHERE path = ?",
				     -1, &q, NULL),
		  SQLITE_OK);
	sqlite3_bind_text(q, 1, "proc/42/task/42/status", -1, SQLITE_STATIC);
	CHECK_INT(sqlite3_step(q), SQLITE_ROW);
	CHECK_STR((const char *)sqlite3_column_text(q, 0), "file");
	CHECK_INT(sqlite3_column_int(q, 1), (int)sizeof(STATUS) - 1);
	CHECK_INT(sqlite3_column_type(q, 2), SQLITE_NULL);
	CHECK_INT(sqlite3_column_int(q, 3), 42);
	CHECK_INT(sqlite3_column_int(q, 4), 42);
	unsigned char h[16];
	char hex[33];
	ps_xxh3_128(STATUS, sizeof(STATUS) - 1, h);
	ps_hex(hex, h, 16);
	CHECK_STR((const char *)sqlite3_column_text(q, 5), hex);
	/* the index keeps 8 us steps after the pid's first read (proc/42, at
	 * 0): 123456 ns is 120 us */
	CHECK_INT(sqlite3_column_int(q, 6), 120000);
	CHECK_INT(sqlite3_column_int(q, 7), 1000);
	sqlite3_finalize(q);
	CHECK_INT(sqlite3_prepare_v2(d,
				     "SELECT hostname, n_files, n_links, n_absent, n_errors, "
				     "hash_mismatches, archive_sha256 FROM snapshots",
				     -1, &q, NULL),
		  SQLITE_OK);
	CHECK_INT(sqlite3_step(q), SQLITE_ROW);
	CHECK_STR((const char *)sqlite3_column_text(q, 0), "testhost");
	CHECK_INT(sqlite3_column_int(q, 1), 57); /* incl. meta.json */
	CHECK_INT(sqlite3_column_int(q, 2), 2);
	CHECK_INT(sqlite3_column_int(q, 3), 1);
	CHECK_INT(sqlite3_column_int(q, 4), 1);
	CHECK_INT(sqlite3_column_int(q, 5), 0);
	/* a rebuild records no SHA-256: only a capture can vouch for one */
	CHECK_INT(sqlite3_column_type(q, 6), SQLITE_NULL);
	sqlite3_finalize(q);
	char cmd[512];
	/* manifest XXH3 agrees with xxhsum -H2 on an extracted file */
	snprintf(cmd, sizeof(cmd),
		 "cd %s && mkdir -p x && tar --zstd -xf a.tar.zst -C x proc/sys/x/3 && "
		 "xxhsum -H2 x/proc/sys/x/3 | cut -d' ' -f1 > h.txt",
		 dir);
	CHECK_INT(run(cmd), 0);
	CHECK_INT(ps_snap_read(s, "proc/sys/x/3", &out, &kind, &err), 0);
	ps_xxh3_128(out.buf, out.len, h);
	ps_hex(hex, h, 16);
	snprintf(cmd, sizeof(cmd), "grep -q '^%s$' %s/h.txt", hex, dir);
	CHECK_INT(run(cmd), 0);
	ps_buf_release(&out);
	ps_snap_close(s);
}

/* Truncated and corrupt archives give errors, never crashes. */
static void test_corrupt(void)
{
	const char *path = write_archive(1);
	struct stat st;
	CHECK_INT(stat(path, &st), 0);
	int fd = open(path, O_RDONLY);
	char *all = malloc((size_t)st.st_size);
	CHECK(read(fd, all, (size_t)st.st_size) == st.st_size);
	close(fd);
	char bad[320], db[340];
	snprintf(bad, sizeof(bad), "%s/bad.tar.zst", dir);
	snprintf(db, sizeof(db), "%s.db", bad);
	off_t cuts[] = {0, 1, 17, st.st_size / 3, st.st_size / 2, st.st_size - 40, st.st_size - 1};
	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		fd = open(bad, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		CHECK(write(fd, all, (size_t)cuts[i]) == cuts[i]);
		close(fd);
		struct ps_err err = {0, ""};
		int r = ps_index_build(bad, db, 1, &err);
		if (cuts[i] >= st.st_size - 40) {
			/* Only the seek-table trailer is cut: every member and the
			 * manifest are intact, and readable in sequence. */
			CHECK(r >= 0);
			unlink(db);
			continue;
		}
		CHECK(err.msg[0] != '\0');
		if (cuts[i] < 512) {
			/* nothing of meta.json: not a procsnap archive */
			CHECK_INT(r, -1);
			CHECK(access(db, F_OK) != 0);
		} else {
			/* what survives is indexed, the rest marked (salvage) */
			CHECK_INT(r, 1);
			CHECK(strstr(err.msg, "damaged stretch") != NULL);
			CHECK_INT(access(db, F_OK), 0);
			unlink(db);
		}
	}
	/* flip bytes in the middle */
	for (int k = 0; k < 20; k++) {
		char *copy = malloc((size_t)st.st_size);
		memcpy(copy, all, (size_t)st.st_size);
		for (int j = 0; j < 8; j++)
			copy[((size_t)k * 7919 + (size_t)j * 104729) % (size_t)st.st_size] ^= 0x5a;
		fd = open(bad, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		CHECK(write(fd, copy, (size_t)st.st_size) == st.st_size);
		close(fd);
		free(copy);
		struct ps_err err = {0, ""};
		(void)ps_index_build(bad, db, 1, &err); /* must not crash */
		unlink(db);
	}
	free(all);
}

static void test_escape(void)
{
	struct ps_buf b = PS_BUF_INIT, u = PS_BUF_INIT;
	const char s[] = "a\tb\nc\\d\x01\xff e";
	ps_escape(&b, s, sizeof(s) - 1);
	CHECK_STR(b.buf, "a\\tb\\nc\\\\d\\x01\\xff e");
	CHECK_INT(ps_unescape(&u, b.buf, b.len), 0);
	CHECK(u.len == sizeof(s) - 1 && memcmp(u.buf, s, u.len) == 0);
	ps_buf_reset(&u);
	CHECK_INT(ps_unescape(&u, "bad\\", 4), -1);
	CHECK_INT(ps_unescape(&u, "bad\\x4", 6), -1);
	CHECK_INT(ps_unescape(&u, "bad\\q", 5), -1);
	ps_buf_release(&b);
	ps_buf_release(&u);
}

/* ---- tar headers: the writer's own against libarchive's ------------------------ */

/*
 * The reference: the same members through libarchive's restricted pax
 * writer alone, one fresh entry each, as the writer did before it gave most
 * members to libarchive's ustar writer (which writes the same header
 * without the pax writer's per-entry clone).  The writer's semantics are
 * repeated here: absent members are manifest lines only; default modes;
 * content of 64 bytes or more seen before (not spilled) is a hardlink to
 * its first path.
 */
struct ref {
	struct archive *a;
	struct ps_buf tar;
	char *first_path[512];
	const void *first_data[512];
	size_t first_len[512], nfirst;
	uint64_t hardlinks;
	const char *spill_path;
};
static struct ref ref;

static la_ssize_t ref_cb(struct archive *a, void *ctx, const void *buf, size_t n)
{
	(void)a;
	(void)ctx;
	ps_buf_add(&ref.tar, buf, n);
	return (la_ssize_t)n;
}

static void ref_open(const char *spill_path)
{
	memset(&ref, 0, sizeof(ref));
	ref.spill_path = spill_path;
	ref.a = archive_write_new();
	CHECK_INT(archive_write_set_format_pax_restricted(ref.a), ARCHIVE_OK);
	CHECK_INT(archive_write_set_bytes_per_block(ref.a, 0), ARCHIVE_OK);
	CHECK_INT(archive_write_set_bytes_in_last_block(ref.a, 1), ARCHIVE_OK);
	CHECK_INT(archive_write_open2(ref.a, NULL, NULL, ref_cb, NULL, NULL), ARCHIVE_OK);
}

static void ref_entry(const char *path, mode_t type, unsigned perm, uint32_t uid, uint32_t gid,
		      int64_t mtime, const char *hardlink, const char *symlink, const void *data,
		      size_t len)
{
	struct archive_entry *e = archive_entry_new();
	archive_entry_copy_pathname(e, path);
	archive_entry_set_uid(e, uid);
	archive_entry_set_gid(e, gid);
	archive_entry_set_mtime(e, (time_t)mtime, 0);
	archive_entry_set_filetype(e, type);
	archive_entry_set_perm(e, perm);
	if (hardlink)
		archive_entry_copy_hardlink(e, hardlink);
	if (symlink)
		archive_entry_copy_symlink(e, symlink);
	if (type == AE_IFREG)
		archive_entry_set_size(e, hardlink ? 0 : (la_int64_t)len);
	CHECK(archive_write_header(ref.a, e) >= ARCHIVE_WARN);
	if (type == AE_IFREG && !hardlink && len)
		CHECK_INT((int)archive_write_data(ref.a, data, len), (int)len);
	CHECK_INT(archive_write_finish_entry(ref.a), ARCHIVE_OK);
	archive_entry_free(e);
}

static void ref_add(const struct ps_member *m)
{
	if (m->kind == PS_M_ABSENT)
		return;
	unsigned perm = m->mode & 07777;
	if (m->kind == PS_M_LINK) {
		ref_entry(m->path, AE_IFLNK, perm ? perm : 0777, m->uid, m->gid, m->mtime, NULL,
			  m->target ? m->target : "", NULL, 0);
		return;
	}
	if (m->kind == PS_M_DIR) {
		ref_entry(m->path, AE_IFDIR, perm ? perm : 0555, m->uid, m->gid, m->mtime, NULL,
			  NULL, NULL, 0);
		return;
	}
	struct ps_buf sb = PS_BUF_INIT;
	const void *data = m->data;
	if (m->spilled) {
		CHECK_INT(ps_read_at(AT_FDCWD, ref.spill_path, &sb, 0, NULL), 0);
		CHECK_INT((int)sb.len, (int)m->len);
		data = sb.buf;
	}
	const char *hardlink = NULL;
	if (m->len >= 64 && !m->spilled) {
		for (size_t i = 0; i < ref.nfirst && !hardlink; i++)
			if (ref.first_len[i] == m->len &&
			    memcmp(ref.first_data[i], data, m->len) == 0)
				hardlink = ref.first_path[i];
		if (!hardlink) {
			CHECK(ref.nfirst < 512);
			ref.first_path[ref.nfirst] = strdup(m->path);
			ref.first_data[ref.nfirst] = data;
			ref.first_len[ref.nfirst++] = m->len;
		}
	}
	ref.hardlinks += hardlink != NULL;
	ref_entry(m->path, AE_IFREG, perm, m->uid, m->gid, m->mtime, hardlink, NULL, data, m->len);
	ps_buf_release(&sb);
}

/* The writer's archive as one tar stream (every zstd frame decompressed;
 * the seek table is a skippable frame). */
static void tar_of(const char *path, struct ps_buf *tar)
{
	struct ps_buf z = PS_BUF_INIT;
	CHECK_INT(ps_read_at(AT_FDCWD, path, &z, 0, NULL), 0);
	ZSTD_DStream *ds = ZSTD_createDStream();
	ZSTD_inBuffer in = {z.buf, z.len, 0};
	char out[65536];
	while (in.pos < in.size) {
		ZSTD_outBuffer ob = {out, sizeof(out), 0};
		size_t r = ZSTD_decompressStream(ds, &ob, &in);
		CHECK(!ZSTD_isError(r));
		ps_buf_add(tar, out, ob.pos);
	}
	ZSTD_freeDStream(ds);
	ps_buf_release(&z);
}

/* The reference ends like the writer's archive: its manifest (the bytes,
 * mode and mtime the writer gave it), then the end-of-archive blocks. */
static void ref_finish(const struct ps_buf *tar)
{
	struct archive *rd = archive_read_new();
	archive_read_support_format_tar(rd);
	CHECK_INT(archive_read_open_memory(rd, tar->buf, tar->len), ARCHIVE_OK);
	struct archive_entry *e;
	int found = 0;
	while (archive_read_next_header(rd, &e) >= ARCHIVE_WARN) {
		const char *pn = archive_entry_pathname(e); /* NULL: not ASCII, in the C locale */
		if (!pn || strcmp(pn, PS_MANIFEST_PATH) != 0)
			continue;
		size_t len = (size_t)archive_entry_size(e);
		char *man = ps_xmalloc(len + 1);
		CHECK_INT((int)archive_read_data(rd, man, len), (int)len);
		ref_entry(PS_MANIFEST_PATH, AE_IFREG, 0444, 0, 0, archive_entry_mtime(e), NULL,
			  NULL, man, len);
		free(man);
		found = 1;
	}
	archive_read_free(rd);
	CHECK(found);
	CHECK_INT(archive_write_close(ref.a), ARCHIVE_OK);
	archive_write_free(ref.a);
	for (size_t i = 0; i < ref.nfirst; i++)
		free(ref.first_path[i]);
}

static void put(struct ps_writer *w, const struct ps_member *m)
{
	struct ps_err err = {0, ""};
	CHECK_INT(ps_writer_add(w, m, &err), 0);
	ref_add(m);
}

/* One member list with every case of the header rules: name lengths at the
 * ustar limits (name 100, prefix 155), no '/' to split at, non-ASCII and
 * control bytes, link targets at 100/101 bytes, hardlinks (repeated
 * content), ids at 2^18, mtimes out of range, sizes around 512, odd modes,
 * a spilled member.  Written by the writer and by the reference. */
static void edge_members(struct ps_writer *w, const char *spill_path)
{
	char p[400], t[256];
	static char data[2000];
	fill(data, sizeof(data), 3);
	const size_t lens[] = {1, 99, 100, 101, 154, 155, 156, 157, 200, 255, 256, 257, 300};
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		for (int shape = 0; shape < 4; shape++) {
			/* shape 0: a slash every 10 bytes; 1: one slash after
			 * byte k (prefix of exactly 155 or 156...); 2: no slash;
			 * 3: leading slash then none */
			size_t n = lens[i];
			memset(p, 'a' + (int)(i % 26), n);
			p[n] = '\0';
			if (shape == 0)
				for (size_t k = 9; k < n; k += 10)
					p[k] = '/';
			else if (shape == 1 && n > 1)
				p[n > 101 ? n - 101 : n / 2] = '/';
			else if (shape == 3)
				p[0] = '/';
			struct ps_member f = {.path = p,
					      .kind = PS_M_FILE,
					      .mode = 0100444,
					      .data = data + shape, /* no hardlinks here */
					      .len = (lens[i] * 7) % 1100,
					      .mtime = 1700000000};
			put(w, &f);
			struct ps_member d = {.path = p, .kind = PS_M_DIR, .mode = 040555};
			put(w, &d);
			if (n > 200)
				continue;
			memset(t, 'T', n);
			t[n] = '\0';
			struct ps_member l = {
			    .path = "proc/1/fd/3", .kind = PS_M_LINK, .target = t};
			put(w, &l);
		}
	}
	const char *names[] = {
	    "proc/1/dir/",    "x",	    "proc/\xc3\xa9t\xc3\xa9", "proc/1/a\tb\nc",
	    "proc/1/bad\xff", "proc/1/fd/4"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct ps_member d = {.path = names[i], .kind = PS_M_DIR};
		put(w, &d);
		struct ps_member l = {.path = names[i], .kind = PS_M_LINK, .target = names[i]};
		put(w, &l);
		struct ps_member n = {.path = names[i], .kind = PS_M_LINK};
		put(w, &n);
		struct ps_member t2 = {
		    .path = "proc/1/fd/5", .kind = PS_M_LINK, .target = names[i]};
		put(w, &t2);
	}
	const uint32_t ids[] = {0, 1000, 262143, 262144, 0xffffffffu};
	const int64_t mt[] = {-1, 0, 0x7ffffffe, 0x7fffffff, (int64_t)1 << 40};
	const uint32_t modes[] = {0, 0100644, 0104755, 0107777, 0100000};
	const size_t sizes[] = {0, 1, 63, 64, 511, 512, 513, 1024, 1100};
	for (size_t i = 0; i < 5; i++) {
		snprintf(p, sizeof(p), "proc/1/ids%zu", i);
		struct ps_member f = {.path = p,
				      .kind = PS_M_FILE,
				      .mode = modes[i],
				      .uid = ids[i],
				      .gid = ids[4 - i],
				      .mtime = mt[i],
				      .data = data + i,
				      .len = 100};
		put(w, &f);
		f.kind = PS_M_LINK;
		f.target = "t";
		put(w, &f);
		f.kind = PS_M_DIR;
		put(w, &f);
	}
	for (size_t i = 0; i < 5; i++) {
		/* each value at the edge alone: uid, gid, mtime */
		for (int k = 0; k < 3; k++) {
			snprintf(p, sizeof(p), "proc/1/edge%zu.%d", i, k);
			struct ps_member f = {.path = p,
					      .kind = PS_M_LINK,
					      .mode = 0120777,
					      .uid = k == 0 ? ids[i] : 0,
					      .gid = k == 1 ? ids[i] : 0,
					      .mtime = k == 2 ? mt[i] : 1700000000,
					      .target = "t"};
			put(w, &f);
		}
	}
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		/* twice each: the second a hardlink to the first (>= 64 bytes),
		 * the link name long enough for a pax header in one case */
		for (int k = 0; k < 2; k++) {
			if (i == 8 && k == 0)
				snprintf(p, sizeof(p), "proc/%0110zu/first", i);
			else
				snprintf(p, sizeof(p), "proc/1/size%zu.%d", i, k);
			struct ps_member f = {.path = p,
					      .kind = PS_M_FILE,
					      .mode = 0100444,
					      .data = data + 500,
					      .len = sizes[i]};
			put(w, &f);
		}
	}
	int sfd = open(spill_path, O_RDONLY | O_CLOEXEC);
	CHECK(sfd >= 0);
	struct ps_member sp = {.path = "proc/1/smaps",
			       .kind = PS_M_FILE,
			       .mode = 0100444,
			       .len = 5000,
			       .spilled = 1,
			       .spill_fd = sfd};
	put(w, &sp);
	struct ps_member ab = {.path = "proc/1/absent", .kind = PS_M_ABSENT, .err = EACCES};
	put(w, &ab);
}

/* Members at every edge of the tar format (names at ustar's 100/155 limits
 * and past them, non-ASCII names, long link targets, hardlinks, large ids,
 * mtimes out of ustar's range, spilled content): the archive is byte for
 * byte the one libarchive's pax writer alone writes (pax extensions where
 * ustar cannot hold a value), and GNU tar lists every member. */
static void test_edge_members(void)
{
	char spill[300], path[300];
	snprintf(spill, sizeof(spill), "%s/spill", dir);
	int fd = open(spill, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0);
	static char sdata[5000];
	fill(sdata, sizeof(sdata), 11);
	CHECK_INT((int)write(fd, sdata, sizeof(sdata)), (int)sizeof(sdata));
	close(fd);
	snprintf(path, sizeof(path), "%s/edge.tar.zst", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0);
	struct ps_writer *w = NULL;
	struct ps_err err = {0, ""};
	struct ps_writer_opts o = {.level = 1, .frame_size = 8192, .spill_dirfd = -1};
	CHECK_INT(ps_writer_open(&w, fd, &o, &err), 0);
	ref_open(spill);
	edge_members(w, spill);
	struct ps_writer_stats st;
	CHECK_INT(ps_writer_finish(w, &st, &err), 0);
	ps_writer_free(w);
	close(fd);
	/* the sizes >= 64 twice each, one a link past 100 bytes */
	CHECK_U64(st.hardlinks, 6);
	CHECK_U64(ref.hardlinks, 6);
	struct ps_buf tar = PS_BUF_INIT;
	tar_of(path, &tar);
	ref_finish(&tar);
	size_t same = 0;
	while (same < tar.len && same < ref.tar.len && tar.buf[same] == ref.tar.buf[same])
		same++;
	if (same != tar.len || same != ref.tar.len)
		fprintf(stderr,
			"tar differs from libarchive's pax at byte %zu (block %zu) of %zu/%zu\n",
			same, same / 512, tar.len, ref.tar.len);
	CHECK_U64(same, ref.tar.len);
	CHECK_U64(tar.len, ref.tar.len);
	CHECK(tar.len > 100 * 512);
	ps_buf_release(&tar);
	ps_buf_release(&ref.tar);
	/* GNU tar reads every member */
	char cmd[1400];
	snprintf(cmd, sizeof(cmd), "zstd -dcq %s | tar -tf - | wc -l > %s/edge.count", path, dir);
	CHECK_INT(run(cmd), 0);
	snprintf(cmd, sizeof(cmd), "%s/edge.count", dir);
	struct ps_buf b = PS_BUF_INIT;
	CHECK_INT(ps_read_at(AT_FDCWD, cmd, &b, 0, NULL), 0);
	CHECK_U64(strtoull(b.buf, NULL, 10), st.members + 1); /* + the manifest */
	ps_buf_release(&b);
}

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Is a fd of this process an O_TMPFILE in dir (the writer's spill)? */
static int spill_open_in(const char *d)
{
	char want[300], l[PATH_MAX], p[64];
	snprintf(want, sizeof(want), "%s/#", d);
	int found = 0;
	for (int fd = 0; fd < 1024 && !found; fd++) {
		snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
		ssize_t n = readlink(p, l, sizeof(l) - 1);
		if (n > 0) {
			l[n] = '\0';
			found = strncmp(l, want, strlen(want)) == 0 && strstr(l, "(deleted)");
		}
	}
	return found;
}

/* The manifest's data is the spool's frames, copied into the archive as
 * they are (not compressed again at the end): a frame starts where the
 * data starts and one where it ends, each of frame_size tar bytes but the
 * last; the archive stays one zstd stream and one tar, whose manifest is
 * a line per member.  With a spill directory and a spool over 1 MiB, the
 * frames come back from the spill file. */
/* Write meta.json and n absent members with poorly compressible names (the
 * manifest is most of the archive; 25,000 of them spool more than 1 MiB)
 * to path, spilling into spill_dir if not NULL; ps_writer_finish's result,
 * its message in err. */
static int write_absents(const char *path, const char *spill_dir, int n, struct ps_writer_stats *st,
			 struct ps_err *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0);
	int dfd = spill_dir ? open(spill_dir, O_RDONLY | O_DIRECTORY) : -1;
	struct ps_writer *w = NULL;
	struct ps_writer_opts o = {.level = 1, .frame_size = 4096, .spill_dirfd = dfd};
	CHECK_INT(ps_writer_open(&w, fd, &o, err), 0);
	const char *meta = "{\"format_version\":1,\"hostname\":\"h\",\"start_ns\":5}";
	struct ps_member m = {.path = PS_META_PATH,
			      .kind = PS_M_FILE,
			      .mode = 0100444,
			      .data = meta,
			      .len = strlen(meta)};
	CHECK_INT(ps_writer_add(w, &m, err), 0);
	for (int i = 0; i < n; i++) {
		char rnd[40], p[128];
		fill(rnd, sizeof(rnd), (unsigned)i * 7919u + 1);
		int k = snprintf(p, sizeof(p), "proc/sys/r/");
		for (size_t j = 0; j < sizeof(rnd); j++)
			k += snprintf(p + k, sizeof(p) - (size_t)k, "%02x", (unsigned char)rnd[j]);
		struct ps_member a = {.path = p,
				      .kind = PS_M_ABSENT,
				      .err = EACCES,
				      .read_ns =
					  (uint64_t)(unsigned char)rnd[0] << 24 | (unsigned)i};
		CHECK_INT(ps_writer_add(w, &a, err), 0);
	}
	/* the formatter thread spools what ps_writer_add handed it: the spill
	 * file opens when it gets there (it had not, once in CI) */
	if (spill_dir) {
		int open_in = 0;
		for (int i = 0; i < 500 && !(open_in = spill_open_in(spill_dir)); i++)
			usleep(10000);
		CHECK(open_in);
	}
	int r = ps_writer_finish(w, st, err);
	ps_writer_free(w);
	close(fd);
	if (dfd >= 0)
		close(dfd);
	return r;
}

/* The seek table of the archive in z: (csize, dsize) per frame, frame
 * count, descriptor, magic.  The number of frames, their table in *t. */
static uint32_t seek_table(const struct ps_buf *z, const unsigned char **t)
{
	CHECK(z->len > 17);
	const unsigned char *e = (const unsigned char *)z->buf + z->len;
	uint32_t nf = le32(e - 9);
	CHECK_U64(le32(e - 4), 0x8F92EAB1u);
	CHECK(z->len >= 17 + (size_t)nf * 8);
	*t = e - 9 - (size_t)nf * 8;
	return z->len >= 17 + (size_t)nf * 8 ? nf : 0;
}

/* The manifest's data is the spool's frames, copied into the archive as
 * they are (not compressed again at the end): a frame starts where the
 * data starts and one where it ends, each of frame_size tar bytes but the
 * last; the archive stays one zstd stream and one tar, whose manifest is
 * a line per member.  With a spill directory and a spool over 1 MiB, the
 * frames come back from the spill file. */
static void manifest_frames(int spill)
{
	char path[300];
	snprintf(path, sizeof(path), "%s/man%d.tar.zst", dir, spill);
	struct ps_err err = {0, ""};
	struct ps_writer_stats st;
	int n = spill ? 25000 : 500;
	CHECK_INT(write_absents(path, spill ? dir : NULL, n, &st, &err), 0);
	if (err.msg[0])
		fprintf(stderr, "err: %s\n", err.msg);

	/* the manifest, as GNU tar extracts it */
	char cmd[800], mpath[320];
	snprintf(mpath, sizeof(mpath), "%s/man%d.tsv", dir, spill);
	snprintf(cmd, sizeof(cmd), "zstd -dcq %s | tar -xOf - %s > %s", path, PS_MANIFEST_PATH,
		 mpath);
	CHECK_INT(run(cmd), 0);
	struct ps_buf man = PS_BUF_INIT, tar = PS_BUF_INIT, z = PS_BUF_INIT;
	CHECK_INT(ps_read_at(AT_FDCWD, mpath, &man, 0, NULL), 0);
	size_t lines = 0;
	for (size_t i = 0; i < man.len; i++)
		lines += man.buf[i] == '\n';
	CHECK_U64(lines, (uint64_t)n + 1);
	CHECK(man.len > (spill ? 2000000u : 20000u));
	/* where its data is in the tar stream: its first line names meta.json */
	tar_of(path, &tar);
	const char *first =
	    memmem(tar.buf, tar.len, PS_META_PATH "\tfile\t", strlen(PS_META_PATH) + 6);
	CHECK(first != NULL);
	uint64_t x = first ? (uint64_t)(first - tar.buf) : 0;
	CHECK(x + man.len <= tar.len && memcmp(tar.buf + x, man.buf, man.len) == 0);
	CHECK_INT(ps_read_at(AT_FDCWD, path, &z, 0, NULL), 0);
	const unsigned char *t;
	uint32_t nf = seek_table(&z, &t);
	CHECK_U64(nf, st.frames);
	uint64_t toff = 0, coff = 0;
	int at_start = 0, at_end = 0;
	size_t in_data = 0, short_ones = 0;
	for (uint32_t i = 0; i < nf; i++) {
		uint32_t c = le32(t + i * 8), d = le32(t + i * 8 + 4);
		/* every frame is a zstd frame of that many bytes */
		CHECK_U64(ZSTD_findFrameCompressedSize(z.buf + coff, c), c);
		at_start |= toff == x;
		at_end |= toff == x + man.len;
		if (toff >= x && toff < x + man.len) {
			in_data++;
			short_ones += d != 4096;
			CHECK(toff + d <= x + man.len);
		}
		toff += d;
		coff += c;
	}
	CHECK_U64(toff, tar.len);
	CHECK(at_start && at_end);
	CHECK_U64(in_data, (man.len + 4095) / 4096);
	CHECK(short_ones <= 1);
	/* and verify reads it back: every line matches its member, the file its hash */
	const char *procsnap = getenv("PROCSNAP");
	snprintf(cmd, sizeof(cmd), "%s -q verify --sha256 \"$(sha256sum < %s | cut -c1-64)\" %s",
		 procsnap ? procsnap : PS_BINARY_DIR "/cli/procsnap", path, path);
	CHECK_INT(run(cmd), 0);
	ps_buf_release(&man);
	ps_buf_release(&tar);
	ps_buf_release(&z);
}

static void test_manifest_frames(void)
{
	manifest_frames(0);
}

static void test_manifest_frames_spilled(void)
{
	manifest_frames(1);
}

/* A file system that fills while the manifest's frames are copied in (the
 * members and the spill fit, the copy does not): ps_writer_finish fails
 * with ENOSPC's message, and the spill file's space comes back. */
static void test_manifest_full_disk(void)
{
	if (geteuid() != 0)
		T_SKIP_CASE("needs root to mount a small tmpfs");
	/* the sizes, from the same archive written where there is room */
	char path[400], full[300], cmd[800];
	snprintf(path, sizeof(path), "%s/ref.tar.zst", dir);
	struct ps_err err = {0, ""};
	struct ps_writer_stats st;
	CHECK_INT(write_absents(path, dir, 25000, &st, &err), 0);
	struct ps_buf z = PS_BUF_INIT, tar = PS_BUF_INIT;
	CHECK_INT(ps_read_at(AT_FDCWD, path, &z, 0, NULL), 0);
	tar_of(path, &tar);
	const char *first =
	    memmem(tar.buf, tar.len, PS_META_PATH "\tfile\t", strlen(PS_META_PATH) + 6);
	CHECK(first != NULL);
	uint64_t x = first ? (uint64_t)(first - tar.buf) : 0, before = 0, man = 0, toff = 0;
	const unsigned char *t;
	uint32_t nf = seek_table(&z, &t);
	for (uint32_t i = 0; i < nf; i++) {
		if (toff < x)
			before += le32(t + i * 8);
		else
			man += le32(t + i * 8);
		toff += le32(t + i * 8 + 4);
	}
	ps_buf_release(&z);
	ps_buf_release(&tar);
	CHECK(man > (1u << 20)); /* the spool went to its spill file */
	unsigned long long kib = (before + man + man / 2) / 1024 + 1;
	snprintf(full, sizeof(full), "%s/full", dir);
	snprintf(cmd, sizeof(cmd), "mkdir -p %s && mount -t tmpfs -o size=%lluk tmpfs %s", full,
		 kib, full);
	if (run(cmd) != 0)
		T_SKIP_CASE("cannot mount a tmpfs here");
	snprintf(path, sizeof(path), "%s/x.tar.zst", full);
	memset(&err, 0, sizeof(err));
	CHECK_INT(write_absents(path, full, 25000, &st, &err), -1);
	CHECK(strstr(err.msg, "No space left on device") != NULL);
	if (!strstr(err.msg, "No space left on device"))
		fprintf(stderr, "err: %s\n", err.msg);
	/* the output holds what fitted; with it gone the file system is empty */
	struct stat sb;
	CHECK_INT(stat(path, &sb), 0);
	CHECK((uint64_t)sb.st_size > before);
	CHECK_INT(unlink(path), 0);
	snprintf(cmd, sizeof(cmd),
		 "test \"$(df --output=used -B1 %s | tail -1 | tr -d ' ')\" -eq 0", full);
	CHECK_INT(run(cmd), 0);
	snprintf(cmd, sizeof(cmd), "umount %s && rmdir %s", full, full);
	CHECK_INT(run(cmd), 0);
}

static const struct t_case cases[] = {T(test_escape),
				      T(test_roundtrip),
				      T(test_unload),
				      T(test_seek_and_index),
				      T(test_corrupt),
				      T(test_edge_members),
				      T(test_manifest_frames),
				      T(test_manifest_frames_spilled),
				      T(test_manifest_full_disk),
				      {0, 0}};

static void cleanup(void)
{
	char cmd[300];
	if (getenv("PS_TEST_KEEP"))
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cleanup failed\n");
}

T_MAIN_SETUP(cases, mkscratch, cleanup)
