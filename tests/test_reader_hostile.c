/*
 * test_reader_hostile.c - crafted archives whose sizes lie (issue 8 item 2):
 * a tar header claiming 100 GiB, a zstd bomb member of 900 MiB, a manifest
 * without a newline, seek tables that do not fit the file or claim 1 GiB
 * frames, pax headers with absurd records, a zstd window beyond the limit,
 * and files that are no archive at all.  `index`, `verify` (and `cat` where
 * an index exists) must refuse each quickly with exit 2 and one line on
 * stderr, within the memory budget (peak RSS from wait4); what is only
 * foreign (a seek table with large frames) must be read.
 */
#include "t.h"

#include "tarcraft.h"
#include "tutil.h"

#include <sys/stat.h>
#include <xxhash.h>

static const char *const dir = tc_dir;

/* The reader's budget: 64 MiB (README); sanitizers add their shadow. */
#if defined(__SANITIZE_ADDRESS__)
#define RSS_BUDGET_KIB (3L * 64 * 1024)
#else
#define RSS_BUDGET_KIB (64L * 1024)
#endif

/* dir/name in one of 8 rotating buffers: keep what must outlive that. */
static const char *path_in(const char *name)
{
	static char p[8][400];
	static int k;
	k = (k + 1) % 8;
	snprintf(p[k], sizeof(p[k]), "%s/%s", dir, name);
	return p[k];
}

/* Run one command; it must fail with exit 2, one stderr line holding
 * `needle`, quickly and within the budget. */
/* A member over cat's 1 MiB piece whose bytes differ from its manifest
 * line: cat says so and writes nothing (the whole member is checked before
 * the first byte goes out); one under it likewise. */
static void test_cat_mismatch(void)
{
	static char a[(3 << 20) + 123], b[sizeof(a)];
	tc_fill(a, sizeof(a), 7);
	memcpy(b, a, sizeof(b));
	b[sizeof(b) - 5] ^= 1; /* the last piece differs */
	struct ps_buf t = PS_BUF_INIT, man = PS_BUF_INIT;
	tc_file(&t, PS_META_PATH, TC_META, strlen(TC_META));
	tc_line(&man, PS_META_PATH, "file", TC_META, strlen(TC_META));
	tc_file(&t, "proc/sys/big", a, sizeof(a));
	tc_line(&man, "proc/sys/big", "file", b, sizeof(b));
	tc_file(&t, "proc/sys/small", a, 1000);
	tc_line(&man, "proc/sys/small", "file", b + sizeof(b) - 1000, 1000);
	tc_file(&t, "proc/sys/good", a, sizeof(a));
	tc_line(&man, "proc/sys/good", "file", a, sizeof(a));
	tc_file(&t, PS_MANIFEST_PATH, man.buf, man.len);
	tc_end(&t);
	char path[400];
	snprintf(path, sizeof(path), "%s", path_in("catmis.tar.zst"));
	CHECK_INT(tc_write_zstd(path, t.buf, t.len, 1 << 20, 1), 0);
	struct tc_run r = {0, 0, 0, PS_BUF_INIT, PS_BUF_INIT};
	const char *ix[] = {"procsnap", "index", "--force", path, NULL};
	CHECK_INT(tc_run(&r, dir, NULL, ix), 0);
	const char *names[] = {"proc/sys/big", "proc/sys/small"};
	for (int i = 0; i < 2; i++) {
		const char *cat[] = {"procsnap", "cat", path, names[i], NULL};
		CHECK_INT(tc_run(&r, dir, NULL, cat), 0);
		CHECK_INT(r.status, 2);
		CHECK_INT((long long)r.out.len, 0);
		CHECK(strstr(r.err.buf, "does not match its XXH3") != NULL);
	}
	const char *good[] = {"procsnap", "cat", path, "proc/sys/good", NULL};
	CHECK_INT(tc_run(&r, dir, NULL, good), 0);
	CHECK_INT(r.status, 0);
	CHECK_INT((long long)r.out.len, (long long)sizeof(a));
	CHECK(r.out.len == sizeof(a) && memcmp(r.out.buf, a, sizeof(a)) == 0);
	/* the same as one zstd frame without a seek table: the pieces come in
	 * sequence, each going on from the last (index reads proc/sys/ members
	 * again in pieces and checks their XXH3; cat gives the exact bytes) */
	CHECK_INT(tc_write_zstd(path, t.buf, t.len, 0, 0), 0);
	CHECK_INT(tc_run(&r, dir, NULL, ix), 0);
	CHECK_INT(r.status, 1); /* the two members that differ from the manifest */
	CHECK(strstr(r.err.buf, "changed while it was read") == NULL);
	CHECK_INT(tc_run(&r, dir, NULL, good), 0);
	CHECK_INT(r.status, 0);
	CHECK(r.out.len == sizeof(a) && memcmp(r.out.buf, a, sizeof(a)) == 0);
	ps_buf_release(&r.out);
	ps_buf_release(&r.err);
	ps_buf_release(&t);
	ps_buf_release(&man);
}

static void expect_refusal(const char *what, const char *const *argv, const char *needle)
{
	struct tc_run r = {0, 0, 0, PS_BUF_INIT, PS_BUF_INIT};
	CHECK_INT(tc_run(&r, dir, NULL, argv), 0);
	if (r.status != 2 || !tc_one_line(&r.err) || !strstr(r.err.buf, needle) ||
	    r.maxrss_kib >= RSS_BUDGET_KIB || r.secs > 30)
		fprintf(stderr, "%s: status %d, %ld KiB, %.2f s, stderr: %s", what, r.status,
			r.maxrss_kib, r.secs, r.err.buf);
	CHECK_INT(r.status, 2);
	CHECK(tc_one_line(&r.err));
	CHECK(strstr(r.err.buf, needle) != NULL);
	CHECK(r.maxrss_kib < RSS_BUDGET_KIB);
	CHECK(r.secs < 30);
	printf("  %-40s exit %d, peak RSS %ld KiB, %.2f s\n", what, r.status, r.maxrss_kib, r.secs);
	ps_buf_release(&r.out);
	ps_buf_release(&r.err);
}

/* index and verify both refuse the file (index may say it its own way). */
static void refuse_both2(const char *file, const char *ix_needle, const char *needle);
static void refuse_both(const char *file, const char *needle)
{
	refuse_both2(file, needle, needle);
}

static void refuse_both2(const char *file, const char *ix_needle, const char *needle)
{
	const char *db = path_in("refused.db");
	const char *ix[] = {"procsnap", "index", "-o", db, "--force", file, NULL};
	const char *vf[] = {"procsnap", "verify", file, NULL};
	char w[300];
	snprintf(w, sizeof(w), "index %s", strrchr(file, '/') + 1);
	expect_refusal(w, ix, ix_needle);
	CHECK(access(db, F_OK) != 0);
	snprintf(w, sizeof(w), "verify %s", strrchr(file, '/') + 1);
	expect_refusal(w, vf, needle);
}

/* A tiny archive whose first header claims 100 GiB. */
static void test_huge_header(void)
{
	struct ps_buf t = PS_BUF_INIT;
	tc_file(&t, PS_META_PATH, TC_META, strlen(TC_META));
	tc_header(&t, "proc/sys/huge", (uint64_t)100 << 30, '0', NULL);
	ps_buf_add(&t, "{}", 2);
	tc_pad(&t);
	CHECK_INT(tc_write(path_in("huge.tar"), t.buf, t.len), 0);
	CHECK_INT(tc_write_zstd(path_in("huge.tar.zst"), t.buf, t.len, 0, 0), 0);
	refuse_both(path_in("huge.tar"),
		    "member proc/sys/huge claims 107374182400 bytes, more than the rest of the "
		    "archive can hold");
	refuse_both(path_in("huge.tar.zst"), "more than the rest of the archive can hold");
	/* meta.json has a lower limit */
	ps_buf_reset(&t);
	tc_header(&t, PS_META_PATH, (uint64_t)100 << 30, '0', NULL);
	ps_buf_add(&t, "{}", 2);
	tc_pad(&t);
	CHECK_INT(tc_write_zstd(path_in("hugemeta.tar.zst"), t.buf, t.len, 0, 0), 0);
	refuse_both(path_in("hugemeta.tar.zst"),
		    "procsnap/meta.json claims 107374182400 bytes, more than 1048576");
	ps_buf_release(&t);
}

/* Members larger than the 256 MiB a member may hold in memory: 900 MiB of
 * zeros in one zstd frame (a file of a few hundred KiB) is hashed as it
 * goes by, never held: verify checks it against the manifest, index indexes
 * it, both within the memory budget.  (Trusting sizes up to 1 GiB, procsnap
 * used to hold it all: 900 MiB of RSS.) */
static void test_zero_bomb(void)
{
	struct ps_buf pre = PS_BUF_INIT, man = PS_BUF_INIT, post = PS_BUF_INIT;
	uint64_t big = (uint64_t)900 << 20;
	tc_file(&pre, PS_META_PATH, TC_META, strlen(TC_META));
	tc_line(&man, PS_META_PATH, "file", TC_META, strlen(TC_META));
	tc_header(&pre, "proc/sys/t/zero", big, '0', NULL);
	/* the manifest line of 900 MiB of zeros */
	XXH3_state_t *x = XXH3_createState();
	static char zeros[1 << 20];
	XXH3_128bits_reset(x);
	for (uint64_t i = 0; i < big; i += sizeof(zeros))
		XXH3_128bits_update(x, zeros, sizeof(zeros));
	XXH128_canonical_t c;
	XXH128_canonicalFromHash(&c, XXH3_128bits_digest(x));
	XXH3_freeState(x);
	char hex[33];
	ps_hex(hex, c.digest, 16);
	ps_buf_addf(&man, "proc/sys/t/zero\tfile\t%llu\t%s\t0\t-\n", (unsigned long long)big, hex);
	tc_file(&post, PS_MANIFEST_PATH, man.buf, man.len);
	tc_end(&post);
	char path[400], sha[65];
	snprintf(path, sizeof(path), "%s", path_in("bomb.tar.zst"));
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0);
	CHECK_INT(tc_zstd_bomb(fd, pre.buf, pre.len, big, 0, post.buf, post.len, 0, 0), 0);
	close(fd);
	struct stat st;
	CHECK_INT(stat(path, &st), 0);
	CHECK(st.st_size < (1 << 20));
	tc_sha256_file(path, sha);
	struct tc_run r = {0, 0, 0, PS_BUF_INIT, PS_BUF_INIT};
	const char *vf[] = {"procsnap", "verify", "--sha256", sha, path, NULL};
	CHECK_INT(tc_run(&r, dir, NULL, vf), 0);
	CHECK_INT(r.status, 0);
	CHECK(strstr(r.out.buf, "OK ") != NULL);
	CHECK(r.maxrss_kib < RSS_BUDGET_KIB);
	printf("  %-40s exit %d, peak RSS %ld KiB, %.2f s\n", "verify bomb.tar.zst", r.status,
	       r.maxrss_kib, r.secs);
	const char *ix[] = {"procsnap", "index", "--force", path, NULL};
	CHECK_INT(tc_run(&r, dir, NULL, ix), 0);
	CHECK_INT(r.status, 0);
	CHECK(r.maxrss_kib < RSS_BUDGET_KIB);
	/* it parses the member (proc/sys/: sysctls), reading it again in
	 * pieces from the one frame: each piece goes on from the last (from
	 * the frame's start each time, this took 56 s) */
	CHECK(r.secs < 30);
	printf("  %-40s exit %d, peak RSS %ld KiB, %.2f s\n", "index bomb.tar.zst", r.status,
	       r.maxrss_kib, r.secs);
	/* cat streams it (checked whole, then written while checked again),
	 * never holding it */
	char *cat[] = {(char *)tu_procsnap(), "cat", path, "proc/sys/t/zero", NULL};
	long kib = 0;
	double secs = 0;
	CHECK_INT(tu_run_rss(cat, &kib, &secs), 0);
	CHECK(kib < RSS_BUDGET_KIB);
	CHECK(secs < 30); /* twice through 900 MiB in pieces: 110 s when quadratic */
	printf("  %-40s peak RSS %ld KiB, %.2f s\n", "cat bomb.tar.zst (900 MiB out)", kib, secs);
	ps_buf_release(&r.out);
	ps_buf_release(&r.err);
	ps_buf_release(&pre);
	ps_buf_release(&man);
	ps_buf_release(&post);
}

/* A manifest of 100 MiB without a newline. */
static void test_manifest_no_newline(void)
{
	struct ps_buf pre = PS_BUF_INIT;
	uint64_t big = (uint64_t)100 << 20;
	tc_file(&pre, PS_META_PATH, TC_META, strlen(TC_META));
	tc_header(&pre, PS_MANIFEST_PATH, big, '0', NULL);
	char end[1024];
	memset(end, 0, sizeof(end));
	int fd = open(path_in("noline.tar.zst"), O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0);
	CHECK_INT(tc_zstd_bomb(fd, pre.buf, pre.len, big, 'a', end, sizeof(end), 0, 0), 0);
	close(fd);
	refuse_both2(path_in("noline.tar.zst"), "corrupt manifest: a line over",
		     "is longer than 65536 bytes");
	/* a short last line without its newline is malformed too */
	struct ps_buf t = PS_BUF_INIT;
	tc_file(&t, PS_META_PATH, TC_META, strlen(TC_META));
	tc_file(&t, PS_MANIFEST_PATH, "procsnap/meta.json\tfile", 23);
	tc_end(&t);
	CHECK_INT(tc_write_zstd(path_in("noline2.tar.zst"), t.buf, t.len, 0, 0), 0);
	refuse_both2(path_in("noline2.tar.zst"), "truncated manifest", "ends without a newline");
	ps_buf_release(&pre);
	ps_buf_release(&t);
}

static void rewrite_u32(const char *path, long from_end, uint32_t v)
{
	int fd = open(path, O_RDWR);
	CHECK(fd >= 0);
	struct stat st;
	CHECK_INT(fstat(fd, &st), 0);
	unsigned char b[4];
	tc_le32(b, v);
	CHECK(pwrite(fd, b, 4, st.st_size - from_end) == 4);
	close(fd);
}

/* Seek tables: one claiming 2^27 frames (cannot fit the file) is refused
 * by index, verify and cat; one whose frames claim 1 GiB each is foreign,
 * not used: the archive is read in sequence. */
static void test_seektable(void)
{
	struct ps_buf t = PS_BUF_INIT;
	tc_mini(&t, 40, 3000, NULL, 0);
	char good[400], db[410], many[400], gib[400];
	snprintf(good, sizeof(good), "%s", path_in("st.tar.zst"));
	snprintf(db, sizeof(db), "%s.db", good);
	snprintf(many, sizeof(many), "%s", path_in("many.tar.zst"));
	snprintf(gib, sizeof(gib), "%s", path_in("gib.tar.zst"));
	CHECK_INT(tc_write_zstd(good, t.buf, t.len, 16384, 1), 0);
	char cmd[2000];
	const char *ix[] = {"procsnap", "index", "--force", good, NULL};
	struct tc_run r = {0, 0, 0, PS_BUF_INIT, PS_BUF_INIT};
	CHECK_INT(tc_run(&r, dir, NULL, ix), 0);
	CHECK_INT(r.status, 0);

	/* 2^27 frames: the footer's count */
	snprintf(cmd, sizeof(cmd), "cp %s %s && cp %s %s.db", good, many, db, many);
	CHECK_INT(system(cmd), 0);
	rewrite_u32(many, 9, 1u << 27);
	refuse_both(many, "corrupt seek table: 134217728 frames do not fit");
	/* cat goes through the seek table too (the index beside is a good one) */
	snprintf(cmd, sizeof(cmd), "cp %s %s.db", db, many);
	CHECK_INT(system(cmd), 0);
	const char *cat[] = {"procsnap", "cat", many, "proc/sys/t/7", NULL};
	expect_refusal("cat many.tar.zst", cat, "corrupt seek table");

	/* every frame claims 1 GiB: consistent, but not a table procsnap uses */
	snprintf(cmd, sizeof(cmd), "cp %s %s", good, gib);
	CHECK_INT(system(cmd), 0);
	size_t nframes = (t.len + 16383) / 16384;
	for (size_t i = 0; i < nframes; i++)
		rewrite_u32(gib, (long)(9 + (nframes - i) * 8 - 4), 1u << 30);
	const char *ix2[] = {"procsnap", "index", "--force", gib, NULL};
	CHECK_INT(tc_run(&r, dir, NULL, ix2), 0);
	CHECK_INT(r.status, 0);
	CHECK(r.maxrss_kib < RSS_BUDGET_KIB);
	const char *info[] = {"procsnap", "info", gib, NULL};
	CHECK_INT(tc_run(&r, dir, NULL, info), 0);
	CHECK(strstr(r.out.buf, "\nframes           0\n") != NULL);
	const char *cat2[] = {"procsnap", "cat", gib, "proc/sys/t/39", NULL};
	CHECK_INT(tc_run(&r, dir, NULL, cat2), 0);
	CHECK_INT(r.status, 0);
	char want[3000];
	tc_fill(want, sizeof(want), 40);
	CHECK(r.out.len == sizeof(want) && memcmp(r.out.buf, want, sizeof(want)) == 0);
	CHECK(r.maxrss_kib < RSS_BUDGET_KIB);
	ps_buf_release(&r.out);
	ps_buf_release(&r.err);
	ps_buf_release(&t);
}

/* pax headers: a record claiming a huge length (libarchive ignores it with
 * a warning: we refuse), and a pax header of 200 MiB. */
static void test_pax(void)
{
	struct ps_buf t = PS_BUF_INIT;
	const char rec[] = "99999999999999 path=proc/sys/t/evil\n";
	tc_mini(&t, 3, 100, rec, sizeof(rec) - 1);
	CHECK_INT(tc_write_zstd(path_in("paxrec.tar.zst"), t.buf, t.len, 0, 0), 0);
	refuse_both(path_in("paxrec.tar.zst"), "malformed archive: Rejecting pax extended");

	struct ps_buf pre = PS_BUF_INIT;
	uint64_t big = (uint64_t)200 << 20;
	tc_header(&pre, "PaxHeader/x", big, 'x', NULL);
	int fd = open(path_in("paxbig.tar.zst"), O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0);
	CHECK_INT(tc_zstd_bomb(fd, pre.buf, pre.len, big, '1', NULL, 0, 0, 0), 0);
	close(fd);
	refuse_both(path_in("paxbig.tar.zst"), "Special header too large");
	ps_buf_release(&t);
	ps_buf_release(&pre);
}

/* A pax header naming a member in UTF-8 (python's tarfile, GNU tar
 * --format=pax, bsdtar write them): libarchive warns that it cannot convert
 * the name to the C locale, and the archive is read all the same. */
static void test_pax_utf8_name(void)
{
	struct ps_buf t = PS_BUF_INIT, man = PS_BUF_INIT;
	const char name[] = "proc/sys/caf\xc3\xa9";
	char rec[64];
	snprintf(rec, sizeof(rec), "%zu path=%s\n", strlen(name) + 9, name);
	CHECK_INT(strlen(rec), strlen(name) + 9);
	tc_file(&t, PS_META_PATH, TC_META, strlen(TC_META));
	tc_line(&man, PS_META_PATH, "file", TC_META, strlen(TC_META));
	tc_pax(&t, rec, strlen(rec));
	tc_file(&t, "proc/sys/cafe", "x\n", 2); /* the pax path wins */
	tc_line(&man, "proc/sys/caf\\xc3\\xa9", "file", "x\n", 2);
	tc_file(&t, PS_MANIFEST_PATH, man.buf, man.len);
	tc_end(&t);
	char path[400], sha[65];
	snprintf(path, sizeof(path), "%s", path_in("utf8.tar.zst"));
	CHECK_INT(tc_write_zstd(path, t.buf, t.len, 0, 0), 0);
	tc_sha256_file(path, sha);
	struct tc_run r = {0, 0, 0, PS_BUF_INIT, PS_BUF_INIT};
	const char *vf[] = {"procsnap", "verify", "--sha256", sha, path, NULL};
	CHECK_INT(tc_run(&r, dir, NULL, vf), 0);
	CHECK_INT(r.status, 0);
	CHECK(strncmp(r.out.buf, "OK ", 3) == 0);
	const char *ix[] = {"procsnap", "index", "--force", path, NULL};
	CHECK_INT(tc_run(&r, dir, NULL, ix), 0);
	CHECK_INT(r.status, 0);
	const char *cat[] = {"procsnap", "cat", path, name, NULL};
	CHECK_INT(tc_run(&r, dir, NULL, cat), 0);
	CHECK_INT(r.status, 0);
	CHECK(r.out.len == 2 && memcmp(r.out.buf, "x\n", 2) == 0);
	ps_buf_release(&r.out);
	ps_buf_release(&r.err);
	ps_buf_release(&t);
	ps_buf_release(&man);
}

/* A frame of unknown size needing a 128 MiB window (zstd --long). */
static void test_window(void)
{
	struct ps_buf t = PS_BUF_INIT;
	tc_mini(&t, 3, 100, NULL, 0);
	int fd = open(path_in("long.tar.zst"), O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0);
	CHECK_INT(tc_zstd_bomb(fd, t.buf, t.len, 0, 0, NULL, 0, 1, 27), 0);
	close(fd);
	refuse_both(path_in("long.tar.zst"), "needs a 128 MiB window");
	ps_buf_release(&t);
}

static void test_not_an_archive(void)
{
	char junk[4096];
	tc_fill(junk, sizeof(junk), 3);
	CHECK_INT(tc_write(path_in("junk.bin"), junk, sizeof(junk)), 0);
	refuse_both(path_in("junk.bin"), "not a tar or tar.zst archive");
	CHECK_INT(tc_write(path_in("empty.bin"), "", 0), 0);
	refuse_both(path_in("empty.bin"), "empty file, not a tar or tar.zst archive");
	/* zstd holding something that is not a tar */
	CHECK_INT(tc_write_zstd(path_in("junk.zst"), junk, sizeof(junk), 0, 0), 0);
	refuse_both(path_in("junk.zst"), "not a tar or tar.zst archive");
}

/* A pipe that never ends, spooled to $TMPDIR: stopped while 5% of the file
 * system is still free, in one line, exit 2 (a 48 MiB tmpfs in a mount
 * namespace of its own). */
static void test_endless_pipe(void)
{
	if (geteuid() != 0 || tu_sh(NULL, "command -v unshare >/dev/null") != 0)
		T_SKIP_CASE("needs root and unshare for a small tmpfs");
	char d[600];
	snprintf(d, sizeof(d), "%s/small", dir);
	CHECK_INT(mkdir(d, 0700), 0);
	struct ps_buf out = PS_BUF_INIT;
	int rc = tu_sh(&out,
		       "unshare -m sh -c 'mount -t tmpfs -o size=48m none %s || exit 77; "
		       "head -c 200M /dev/zero | TMPDIR=%s \"$PROCSNAP\" verify - 2>&1 >/dev/null; "
		       "echo \"rc=$?\"; df -k --output=avail %s | tail -1'",
		       d, d, d);
	if (rc == 77) {
		rmdir(d);
		ps_buf_release(&out);
		T_SKIP_CASE("cannot mount a tmpfs here");
	}
	CHECK_INT(rc, 0);
	char msg[400];
	long long avail = -1; /* KiB free once verify is gone */
	CHECK(sscanf(out.buf, "%399[^\n]\nrc=2\n%lld", msg, &avail) == 2);
	char want[700];
	snprintf(want, sizeof(want), "procsnap: verify: standard input: cannot spool to %s: ", d);
	CHECK(strncmp(msg, want, strlen(want)) == 0);
	CHECK(strstr(msg, "MiB copied and it would leave less than 5% of its file system free "
			  "(set TMPDIR to a larger one)") != NULL);
	CHECK(avail == 48 * 1024); /* nothing left behind */
	/* stopped with at least 5% of the 48 MiB free, not much earlier */
	const char *c = strstr(msg, ": cannot spool to ");
	c = c ? strchr(c + 18, ':') : NULL;
	unsigned long long mib = 0;
	CHECK(c && sscanf(c, ": %llu MiB copied", &mib) == 1);
	CHECK(mib >= 36 && mib <= 45);
	rmdir(d);
	ps_buf_release(&out);
}

static const struct t_case cases[] = {T(test_huge_header),
				      T(test_zero_bomb),
				      T(test_endless_pipe),
				      T(test_cat_mismatch),
				      T(test_manifest_no_newline),
				      T(test_seektable),
				      T(test_pax),
				      T(test_pax_utf8_name),
				      T(test_window),
				      T(test_not_an_archive),
				      {0, 0}};

T_MAIN_SETUP(cases, tc_scratch, tc_rmscratch)
