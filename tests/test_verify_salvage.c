/*
 * test_verify_salvage.c - damaged evidence is salvaged (issue 8 item 4):
 * one flipped byte in a middle zstd frame loses exactly the members in that
 * frame, and the reader (salvage mode) and `procsnap verify` go on and check
 * everything else; a bad tar header in a plain tar loses that member only;
 * a truncated archive says what was lost at the end; manifest and members
 * that disagree give MISMATCH, MISSING and UNLISTED; no recorded SHA-256 is
 * said, not passed over.
 */
#include "t.h"

#include "tarcraft.h"

#include <limits.h>

#include <sys/stat.h>

static const char *const dir = tc_dir;

#define NFILES 150

/* A procsnap archive from the real writer, cut in ~4 KiB frames: files of
 * 1000 pseudo-random bytes, every 10th repeated under a second path (a
 * hardlink), links, dirs, an absent path.  Returns the number of manifest
 * entries. */
static int write_archive(const char *path)
{
	int fd;
	struct ps_err err = {0, ""};
	struct ps_writer *w = tc_writer(path, 4096, 3, &fd);
	CHECK(w != NULL);
	if (!w)
		return 0;
	int n = 0;
	n++;
	struct ps_member d = {.path = "proc/sys", .kind = PS_M_DIR, .mode = 040555};
	CHECK_INT(ps_writer_add(w, &d, &err), 0);
	n++;
	for (int i = 0; i < NFILES; i++) {
		char p[64], data[1000];
		snprintf(p, sizeof(p), "proc/sys/f/%d", i);
		tc_fill(data, sizeof(data), (unsigned)i + 7);
		struct ps_member f = {.path = p,
				      .kind = PS_M_FILE,
				      .mode = 0100444,
				      .data = data,
				      .len = sizeof(data)};
		CHECK_INT(ps_writer_add(w, &f, &err), 0);
		n++;
		if (i % 10 == 0) {
			snprintf(p, sizeof(p), "proc/sys/dup/%d", i);
			CHECK_INT(ps_writer_add(w, &f, &err), 0); /* a hardlink */
			n++;
		}
		if (i % 25 == 0) {
			snprintf(p, sizeof(p), "proc/sys/l/%d", i);
			struct ps_member l = {
			    .path = p, .kind = PS_M_LINK, .mode = 0120777, .target = "socket:[1]"};
			CHECK_INT(ps_writer_add(w, &l, &err), 0);
			n++;
		}
	}
	struct ps_member a = {.path = "proc/sys/absent", .kind = PS_M_ABSENT, .err = EACCES};
	CHECK_INT(ps_writer_add(w, &a, &err), 0);
	n++;
	struct ps_writer_stats st;
	CHECK_INT(ps_writer_finish(w, &st, &err), 0);
	ps_writer_free(w);
	close(fd);
	CHECK(st.frames > 20);
	return n;
}

/* Members as the reader sees them in an intact archive. */
struct mem {
	char path[64], hardlink[64];
	uint64_t from, to; /* tar extent: first header block to end of data */
};

static int read_members(const char *path, struct mem *ms, int max)
{
	struct ps_reader *r;
	struct ps_err err = {0, ""};
	struct ps_rmember m;
	int n = 0, st;
	CHECK_INT(ps_reader_open(&r, path, &err), 0);
	while ((st = ps_reader_next(r, &m, &err)) == 1 && n < max) {
		snprintf(ms[n].path, sizeof(ms[n].path), "%s", m.path);
		snprintf(ms[n].hardlink, sizeof(ms[n].hardlink), "%s",
			 m.hardlink ? m.hardlink : "");
		ms[n].from = m.header_off;
		ms[n].to = m.data_off + (m.streaming ? 0 : m.len);
		n++;
	}
	CHECK_INT(st, 0);
	ps_reader_close(r);
	return n;
}

static void flip(const char *path, uint64_t off)
{
	int fd = open(path, O_RDWR);
	unsigned char c;
	CHECK(fd >= 0 && pread(fd, &c, 1, (off_t)off) == 1);
	c ^= 0x5a;
	CHECK(pwrite(fd, &c, 1, (off_t)off) == 1);
	close(fd);
}

/* Does the verify output hold exactly these lines with this prefix? */
static int count_prefix(const char *out, const char *prefix)
{
	int n = 0;
	size_t pl = strlen(prefix);
	for (const char *p = out; *p;) {
		if (strncmp(p, prefix, pl) == 0)
			n++;
		const char *nl = strchr(p, '\n');
		if (!nl)
			break;
		p = nl + 1;
	}
	return n;
}

static int has_line(const char *out, const char *line)
{
	size_t l = strlen(line);
	for (const char *p = out; (p = strstr(p, line)) != NULL; p++)
		if ((p == out || p[-1] == '\n') && p[l] == '\n')
			return 1;
	return 0;
}

/* One byte flipped in the middle frame: exactly the members whose bytes lie
 * in it are lost (and hardlinks to them); everything else is read and
 * checked. */
static void test_flip_middle_frame(void)
{
	char a[400], bad[400], badix[420], cmd[1400];
	snprintf(a, sizeof(a), "%s/a.tar.zst", dir);
	snprintf(bad, sizeof(bad), "%s/bad.tar.zst", dir);
	snprintf(badix, sizeof(badix), "%s.db", bad);
	int nman = write_archive(a);
	struct ps_err err = {0, ""};
	CHECK_INT(ps_index_build(a, badix, 1, &err), 0);
	/* as a capture would have: the intact archive's SHA-256 (a rebuild
	 * records none) */
	char intact[65], setsha[700];
	tc_sha256_file(a, intact);
	snprintf(setsha, sizeof(setsha),
		 "sqlite3 %s \"UPDATE snapshots SET archive_sha256 = '%s'\"", badix, intact);
	CHECK_INT(system(setsha), 0);
	static struct mem ms[400];
	int n = read_members(a, ms, 400);
	CHECK(n > NFILES);

	/* the middle frame */
	struct ps_reader *r;
	CHECK_INT(ps_reader_open(&r, a, &err), 0);
	struct ps_frame f, fr;
	size_t nf = 0;
	while (ps_reader_frame(r, nf, &f))
		nf++;
	CHECK(nf > 20);
	CHECK_INT(ps_reader_frame(r, nf / 2, &fr), 1);
	ps_reader_close(r);
	snprintf(cmd, sizeof(cmd), "cp %s %s", a, bad);
	CHECK_INT(system(cmd), 0);
	flip(bad, fr.c_off + fr.c_size / 2);

	/* expected: members overlapping the frame, and hardlinks to them */
	static char lost[400];
	int nlost = 0;
	memset(lost, 0, sizeof(lost));
	for (int i = 0; i < n; i++)
		if (ms[i].from < fr.t_off + fr.t_size && ms[i].to > fr.t_off)
			lost[i] = 1;
	for (int i = 0; i < n; i++)
		for (int j = 0; j < n && ms[i].hardlink[0]; j++)
			if (lost[j] && strcmp(ms[i].hardlink, ms[j].path) == 0)
				lost[i] = 2;
	for (int i = 0; i < n; i++)
		nlost += lost[i] != 0;
	CHECK(nlost >= 1);

	/* the reader, salvaging: one damage, the frame's ranges, every other
	 * member returned, the SHA-256 of every byte */
	struct ps_reader_opts o = {.tmpdir = dir, .salvage = 1};
	CHECK_INT(ps_reader_open_with(&r, bad, &o, &err), 0);
	struct ps_rmember m;
	int st, got = 0, damages = 0, k = 0;
	while ((st = ps_reader_next(r, &m, &err)) > 0) {
		if (st == PS_READER_DAMAGED) {
			const struct ps_rdamage *dm = ps_reader_damage(r);
			damages++;
			CHECK_U64(dm->file_from, fr.c_off);
			CHECK_U64(dm->file_to, fr.c_off + fr.c_size);
			CHECK(dm->tar_from <= fr.t_off && dm->tar_to >= fr.t_off + fr.t_size);
			CHECK(strstr(dm->msg, "zstd frame") != NULL);
			CHECK(!dm->at_end);
			continue;
		}
		while (k < n && lost[k] == 1) /* members lost are skipped */
			k++;
		CHECK(k < n && strcmp(m.path, ms[k].path) == 0);
		k++;
		got++;
	}
	CHECK_INT(st, 0);
	CHECK_INT(damages, 1);
	int nlost_hdr = 0;
	for (int i = 0; i < n; i++)
		nlost_hdr += lost[i] == 1;
	CHECK_INT(got, n - nlost_hdr);
	unsigned char sha[32];
	char shahex[65], want[65];
	ps_reader_sha256(r, sha);
	ps_hex(shahex, sha, 32);
	tc_sha256_file(bad, want);
	CHECK_STR(shahex, want);
	ps_reader_close(r);

	/* without salvage it is an error naming the damage */
	CHECK_INT(ps_reader_open(&r, bad, &err), 0);
	while ((st = ps_reader_next(r, &m, &err)) == 1)
		;
	CHECK_INT(st, -1);
	CHECK(strstr(err.msg, "damaged archive: zstd frame") != NULL);
	ps_reader_close(r);

	/* verify: DAMAGED for exactly those, the rest checked, exit 1 */
	struct tc_run run = {0, 0, 0, PS_BUF_INIT, PS_BUF_INIT};
	const char *argv[] = {"procsnap", "verify", bad, NULL};
	CHECK_INT(tc_run(&run, dir, NULL, argv), 0);
	CHECK_INT(run.status, 1);
	CHECK_INT(run.err.len, 0);
	CHECK_INT(count_prefix(run.out.buf, "DAMAGED "), nlost);
	for (int i = 0; i < n; i++) {
		char line[100];
		snprintf(line, sizeof(line), "DAMAGED %.63s", ms[i].path);
		if (has_line(run.out.buf, line) != (lost[i] != 0))
			fprintf(stderr, "%s: expected %s\n", ms[i].path,
				lost[i] ? "DAMAGED" : "intact");
		CHECK_INT(has_line(run.out.buf, line), lost[i] != 0);
	}
	CHECK_INT(count_prefix(run.out.buf, "DAMAGE tar bytes "), 1);
	CHECK_INT(count_prefix(run.out.buf, "MISMATCH "), 0);
	CHECK_INT(count_prefix(run.out.buf, "MISSING "), 0);
	CHECK_INT(count_prefix(run.out.buf, "UNLISTED "), 0);
	CHECK_INT(count_prefix(run.out.buf, "SHA-256 MISMATCH: index records "), 1);
	char fin[200];
	snprintf(fin, sizeof(fin),
		 "%d damaged, 0 mismatched, 0 missing, 0 unlisted, 1 damaged "
		 "stretches; %d manifest entries checked and intact",
		 nlost, nman - nlost);
	CHECK(strstr(run.out.buf, fin) != NULL);
	/* the same from standard input */
	const char *argv2[] = {"procsnap", "verify", "-", NULL};
	struct tc_run run2 = {0, 0, 0, PS_BUF_INIT, PS_BUF_INIT};
	CHECK_INT(tc_run(&run2, dir, bad, argv2), 0);
	CHECK_INT(run2.status, 1);
	CHECK_INT(count_prefix(run2.out.buf, "DAMAGED "), nlost);
	CHECK(strstr(run2.out.buf, fin) != NULL);
	ps_buf_release(&run.out);
	ps_buf_release(&run.err);
	ps_buf_release(&run2.out);
	ps_buf_release(&run2.err);
}

/* A plain tar: a header block whose checksum fails loses that member only;
 * a changed data byte is a MISMATCH. */
static void test_plain_tar(void)
{
	char a[400], t[400], cmd[1000];
	snprintf(a, sizeof(a), "%s/p.tar.zst", dir);
	snprintf(t, sizeof(t), "%s/p.tar", dir);
	write_archive(a);
	static struct mem ms[400];
	int n = read_members(a, ms, 400);
	snprintf(cmd, sizeof(cmd), "zstd -qdc %s > %s", a, t);
	CHECK_INT(system(cmd), 0);
	int victim = -1, other = -1;
	for (int i = 0; i < n && (victim < 0 || other < 0); i++) {
		if (strcmp(ms[i].path, "proc/sys/f/77") == 0)
			victim = i;
		if (strcmp(ms[i].path, "proc/sys/f/101") == 0)
			other = i;
	}
	CHECK(victim >= 0 && other >= 0);
	if (victim < 0 || other < 0)
		return;
	flip(t, ms[victim].from + 3); /* in the name: the checksum fails */
	flip(t, ms[other].to - 10);   /* in the data */
	struct tc_run run = {0, 0, 0, PS_BUF_INIT, PS_BUF_INIT};
	const char *argv[] = {"procsnap", "verify", t, NULL};
	CHECK_INT(tc_run(&run, dir, NULL, argv), 0);
	CHECK_INT(run.status, 1);
	CHECK_INT(count_prefix(run.out.buf, "DAMAGE tar bytes "), 1);
	char line[200];
	snprintf(line, sizeof(line),
		 "DAMAGE tar bytes %llu-%llu: tar header blocks with a bad "
		 "checksum",
		 (unsigned long long)ms[victim].from, (unsigned long long)ms[victim + 1].from);
	CHECK(has_line(run.out.buf, line));
	CHECK_INT(count_prefix(run.out.buf, "DAMAGED "), 1);
	CHECK(has_line(run.out.buf, "DAMAGED proc/sys/f/77"));
	CHECK_INT(count_prefix(run.out.buf, "MISMATCH "), 1);
	CHECK(has_line(run.out.buf, "MISMATCH proc/sys/f/101"));
	CHECK_INT(count_prefix(run.out.buf, "UNLISTED "), 0);
	CHECK_INT(count_prefix(run.out.buf, "MISSING "), 0);
	ps_buf_release(&run.out);
	ps_buf_release(&run.err);
}

/* Truncated: what was lost at the end is named. */
static void test_truncated(void)
{
	char a[400], t[400], cmd[1000];
	snprintf(a, sizeof(a), "%s/tr.tar.zst", dir);
	snprintf(t, sizeof(t), "%s/cut.tar.zst", dir);
	write_archive(a);
	struct stat st;
	CHECK_INT(stat(a, &st), 0);
	snprintf(cmd, sizeof(cmd), "head -c %lld %s > %s", (long long)st.st_size * 2 / 3, a, t);
	CHECK_INT(system(cmd), 0);
	struct ps_reader *r;
	struct ps_err err = {0, ""};
	struct ps_reader_opts o = {.tmpdir = dir, .salvage = 1};
	CHECK_INT(ps_reader_open_with(&r, t, &o, &err), 0);
	struct ps_rmember m;
	int s, members = 0, damages = 0, at_end = 0;
	while ((s = ps_reader_next(r, &m, &err)) > 0) {
		if (s == PS_READER_DAMAGED) {
			damages++;
			at_end = ps_reader_damage(r)->at_end;
			CHECK(strstr(ps_reader_damage(r)->msg, "truncated") != NULL);
		} else {
			members++;
		}
	}
	CHECK_INT(s, 0);
	CHECK_INT(damages, 1);
	CHECK(at_end);
	CHECK(members > 50);
	ps_reader_close(r);
	struct tc_run run = {0, 0, 0, PS_BUF_INIT, PS_BUF_INIT};
	const char *argv[] = {"procsnap", "verify", t, NULL};
	CHECK_INT(tc_run(&run, dir, NULL, argv), 0);
	CHECK_INT(run.status, 1);
	CHECK(strstr(run.out.buf, ": truncated") != NULL);
	CHECK(has_line(run.out.buf, "DAMAGED procsnap/manifest.tsv"));
	ps_buf_release(&run.out);
	ps_buf_release(&run.err);
}

/* End the tar t with manifest man, write it to path a as tar.zst and run
 * verify on it (with --sha256 of the file when sha). */
static void verify_crafted(struct tc_run *run, const char *a, struct ps_buf *t,
			   const struct ps_buf *man, int sha)
{
	tc_file(t, PS_MANIFEST_PATH, man->buf, man->len);
	tc_end(t);
	CHECK_INT(tc_write_zstd(a, t->buf, t->len, 0, 0), 0);
	char hex[65];
	tc_sha256_file(a, hex);
	const char *with[] = {"procsnap", "verify", "--sha256", hex, a, NULL};
	const char *without[] = {"procsnap", "verify", a, NULL};
	CHECK_INT(tc_run(run, dir, NULL, sha ? with : without), 0);
}

/* Manifest and members disagree: a member missing from the manifest is
 * UNLISTED, a manifest line with no member MISSING, other content a
 * MISMATCH; with no recorded SHA-256, verify says so and fails. */
static void test_manifest_disagrees(void)
{
	char a[400], ok[400];
	snprintf(a, sizeof(a), "%s/m.tar.zst", dir);
	snprintf(ok, sizeof(ok), "%s/ok.tar.zst", dir);
	struct ps_buf t = PS_BUF_INIT, man = PS_BUF_INIT, tok = PS_BUF_INIT;
	char d1[500], d2[500], d3[500];
	tc_fill(d1, sizeof(d1), 1);
	tc_fill(d2, sizeof(d2), 2);
	tc_fill(d3, sizeof(d3), 3);
	tc_file(&t, PS_META_PATH, TC_META, strlen(TC_META));
	tc_line(&man, PS_META_PATH, "file", TC_META, strlen(TC_META));
	tc_file(&t, "proc/sys/a", d1, sizeof(d1));
	tc_line(&man, "proc/sys/a", "file", d1, sizeof(d1));
	tc_file(&t, "proc/sys/unlisted", d2, sizeof(d2));	   /* no manifest line */
	tc_line(&man, "proc/sys/missing", "file", d3, sizeof(d3)); /* no member */
	tc_file(&t, "proc/sys/changed", d2, sizeof(d2));
	tc_line(&man, "proc/sys/changed", "file", d3, sizeof(d3)); /* other bytes */
	ps_buf_addf(&man, "proc/sys/gone\tabsent\t0\t-\t0\tEACCES\n");
	struct tc_run run = {0, 0, 0, PS_BUF_INIT, PS_BUF_INIT};
	verify_crafted(&run, a, &t, &man, 0);
	CHECK_INT(run.status, 1);
	CHECK(has_line(run.out.buf, "UNLISTED proc/sys/unlisted"));
	CHECK(has_line(run.out.buf, "MISSING proc/sys/missing"));
	CHECK(has_line(run.out.buf, "MISMATCH proc/sys/changed"));
	CHECK_INT(count_prefix(run.out.buf, "UNLISTED "), 1);
	CHECK_INT(count_prefix(run.out.buf, "MISSING "), 1);
	CHECK_INT(count_prefix(run.out.buf, "MISMATCH "), 1);
	CHECK_INT(count_prefix(run.out.buf, "DAMAGE"), 0);
	CHECK_INT(
	    count_prefix(run.out.buf, "SHA-256 not checked: no recorded hash (pass --sha256 HEX)"),
	    1);
	CHECK(strstr(run.out.buf, "0 damaged, 1 mismatched, 1 missing, 1 unlisted, 0 damaged "
				  "stretches; 3 manifest entries checked and intact") != NULL);

	/* consistent: no recorded hash is still not OK; with --sha256 it is */
	tc_file(&tok, PS_META_PATH, TC_META, strlen(TC_META));
	ps_buf_reset(&man);
	tc_line(&man, PS_META_PATH, "file", TC_META, strlen(TC_META));
	tc_file(&tok, "proc/sys/a", d1, sizeof(d1));
	tc_line(&man, "proc/sys/a", "file", d1, sizeof(d1));
	tc_file(&tok, PS_MANIFEST_PATH, man.buf, man.len);
	tc_end(&tok);
	CHECK_INT(tc_write_zstd(ok, tok.buf, tok.len, 0, 0), 0);
	const char *argv2[] = {"procsnap", "verify", ok, NULL};
	CHECK_INT(tc_run(&run, dir, NULL, argv2), 0);
	CHECK_INT(run.status, 1);
	CHECK(strstr(run.out.buf, "\nINCOMPLETE ") != NULL);
	CHECK(strstr(run.out.buf, ": 2 manifest entries checked and intact, 2 members re-hashed; "
				  "the file's SHA-256 was not checked\n") != NULL);
	CHECK(strncmp(run.out.buf, "SHA-256 not checked: no recorded hash (pass --sha256 HEX)",
		      57) == 0);
	char sha[65];
	tc_sha256_file(ok, sha);
	const char *argv3[] = {"procsnap", "verify", "--sha256", sha, ok, NULL};
	CHECK_INT(tc_run(&run, dir, NULL, argv3), 0);
	CHECK_INT(run.status, 0);
	CHECK(strncmp(run.out.buf, "OK ", 3) == 0);
	CHECK(strstr(run.out.buf, ": 2 manifest entries checked, 2 members re-hashed") != NULL);
	ps_buf_release(&run.out);
	ps_buf_release(&run.err);
	ps_buf_release(&t);
	ps_buf_release(&tok);
	ps_buf_release(&man);
}

/* verify's comparison is a merge of the manifest with the members when no
 * path repeats, with lookups for what is out of order (and a hardlink's
 * target); with a repeated path every line is looked up.  Both give the
 * same answers: lines out of order, a hardlink, and (second archive) a
 * path stored twice, whose first member counts and whose second is
 * UNLISTED. */
static void test_order_and_repeats(void)
{
	char d1[300], d2[700], d3[100];
	tc_fill(d1, sizeof(d1), 4);
	tc_fill(d2, sizeof(d2), 5);
	tc_fill(d3, sizeof(d3), 6);
	for (int repeat = 0; repeat < 2; repeat++) {
		char a[400];
		snprintf(a, sizeof(a), "%s/order%d.tar.zst", dir, repeat);
		struct ps_buf t = PS_BUF_INIT, man = PS_BUF_INIT;
		tc_file(&t, PS_META_PATH, TC_META, strlen(TC_META));
		tc_file(&t, "proc/sys/a", d1, sizeof(d1));
		tc_file(&t, "proc/sys/b", d2, sizeof(d2));
		tc_header(&t, "proc/sys/h", 0, '1', "proc/sys/a"); /* hardlink to a */
		tc_file(&t, "proc/sys/c", d3, sizeof(d3));
		if (repeat)
			tc_file(&t, "proc/sys/a", d2, sizeof(d2)); /* a again, other bytes */
		tc_line(&man, PS_META_PATH, "file", TC_META, strlen(TC_META));
		tc_line(&man, "proc/sys/c", "file", d3, sizeof(d3)); /* ahead of its place */
		tc_line(&man, "proc/sys/b", "file", d2, sizeof(d2));
		tc_line(&man, "proc/sys/a", "file", d1, sizeof(d1));
		tc_line(&man, "proc/sys/h", "file", d1, sizeof(d1));
		struct tc_run run = {0, 0, 0, PS_BUF_INIT, PS_BUF_INIT};
		verify_crafted(&run, a, &t, &man, 1);
		CHECK_INT(run.status, repeat ? 1 : 0);
		CHECK_INT(count_prefix(run.out.buf, "MISMATCH "), 0);
		CHECK_INT(count_prefix(run.out.buf, "MISSING "), 0);
		CHECK_INT(count_prefix(run.out.buf, "UNLISTED "), repeat);
		if (repeat)
			CHECK(has_line(run.out.buf, "UNLISTED proc/sys/a"));
		CHECK(strstr(run.out.buf,
			     repeat ? "5 manifest entries checked and intact" : "OK ") != NULL);
		ps_buf_release(&run.out);
		ps_buf_release(&run.err);
		ps_buf_release(&t);
		ps_buf_release(&man);
	}
	/* A merge would reach the second copy of a (after c, listed twice) and
	 * take it; the first member of a path is the one that counts. */
	char a[400];
	snprintf(a, sizeof(a), "%s/order2.tar.zst", dir);
	struct ps_buf t = PS_BUF_INIT, man = PS_BUF_INIT;
	tc_file(&t, PS_META_PATH, TC_META, strlen(TC_META));
	tc_file(&t, "proc/sys/a", d2, sizeof(d2));
	tc_file(&t, "proc/sys/b", d2, sizeof(d2));
	tc_file(&t, "proc/sys/c", d3, sizeof(d3));
	tc_file(&t, "proc/sys/a", d1, sizeof(d1));
	tc_line(&man, PS_META_PATH, "file", TC_META, strlen(TC_META));
	tc_line(&man, "proc/sys/b", "file", d2, sizeof(d2));
	tc_line(&man, "proc/sys/c", "file", d3, sizeof(d3));
	tc_line(&man, "proc/sys/c", "file", d3, sizeof(d3));
	tc_line(&man, "proc/sys/a", "file", d1, sizeof(d1));
	struct tc_run run = {0, 0, 0, PS_BUF_INIT, PS_BUF_INIT};
	verify_crafted(&run, a, &t, &man, 0);
	CHECK_INT(run.status, 1);
	CHECK(has_line(run.out.buf, "MISMATCH proc/sys/a"));
	CHECK_INT(count_prefix(run.out.buf, "MISMATCH "), 1);
	CHECK(has_line(run.out.buf, "UNLISTED proc/sys/a"));
	CHECK_INT(count_prefix(run.out.buf, "UNLISTED "), 1);
	ps_buf_release(&run.out);
	ps_buf_release(&run.err);
	ps_buf_release(&t);
	ps_buf_release(&man);
}

/* ASan's quarantine keeps what SQLite frees: no RSS figure means anything
 * there. */
#if defined(__SANITIZE_ADDRESS__)
#define RSS_BUDGET_KIB LONG_MAX
#else
#define RSS_BUDGET_KIB (64L * 1024)
#endif

/* Many members: verify's comparison lives on disk, its memory does not grow
 * with them (2 million measured by hand: README). */
static void test_many_members(void)
{
	char a[400], sha[65];
	snprintf(a, sizeof(a), "%s/many.tar.zst", dir);
	int fd;
	struct ps_err err = {0, ""};
	struct ps_writer *w = tc_writer(a, 0, 1, &fd);
	CHECK(w != NULL);
	if (!w)
		return;
	enum { N = 200000 };
	for (int i = 0; i < N; i++) {
		char p[64], d[24];
		snprintf(p, sizeof(p), "proc/%d/task/%d/x", i / 100, i);
		int k = snprintf(d, sizeof(d), "%d\n", i);
		struct ps_member f = {
		    .path = p, .kind = PS_M_FILE, .mode = 0100444, .data = d, .len = (size_t)k};
		if (ps_writer_add(w, &f, &err) < 0) {
			CHECK(0);
			break;
		}
	}
	struct ps_writer_stats st;
	CHECK_INT(ps_writer_finish(w, &st, &err), 0);
	ps_writer_free(w);
	close(fd);
	tc_sha256_file(a, sha);
	struct tc_run run = {0, 0, 0, PS_BUF_INIT, PS_BUF_INIT};
	const char *argv[] = {"procsnap", "verify", "--sha256", sha, a, NULL};
	CHECK_INT(tc_run(&run, dir, NULL, argv), 0);
	CHECK_INT(run.status, 0);
	CHECK(strstr(run.out.buf, ": 200001 manifest entries checked, 200001 members re-hashed") !=
	      NULL);
	printf("  verify of %d members: peak RSS %ld KiB, %.2f s\n", N + 1, run.maxrss_kib,
	       run.secs);
	CHECK(run.maxrss_kib < RSS_BUDGET_KIB);
	ps_buf_release(&run.out);
	ps_buf_release(&run.err);
}

static const struct t_case cases[] = {T(test_flip_middle_frame),
				      T(test_plain_tar),
				      T(test_truncated),
				      T(test_manifest_disagrees),
				      T(test_order_and_repeats),
				      T(test_many_members),
				      {0, 0}};

T_MAIN_SETUP(cases, tc_scratch, tc_rmscratch)
