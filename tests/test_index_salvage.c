/*
 * test_index_salvage.c - `procsnap index` of a damaged archive indexes what
 * survives, marks what was lost in files.damage, warns and exits 1 (issue 8
 * item 4): a byte flipped in a middle zstd frame of a live capture, and the
 * same archive cut in the middle.
 */
#include "t.h"
#include "tutil.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *dir;
static char snap[512];

static void setup(void)
{
	dir = tu_tmpdir();
	snprintf(snap, sizeof(snap), "%s/a.tar.zst", dir);
	if (tu_sh(NULL, "%s capture -q -o %s 2>/dev/null", tu_procsnap(), snap) != 0)
		t_failures++;
}

static void teardown(void)
{
	tu_cleanup();
}

/* A copy of the capture as dir/name with the byte in the middle of frame
 * `frame` of the intact index's seek table inverted (set to 0xff it was
 * unchanged when it already was: one capture in 256 saw no damage). */
static void damaged_copy(const char *name, long long frame)
{
	char db0[600], path[600];
	snprintf(db0, sizeof(db0), "%s.db", snap);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	long long off =
	    tu_sql_int(db0, "SELECT c_off + c_size / 2 FROM frames WHERE frame = %lld", frame);
	CHECK(off > 0);
	CHECK_INT(tu_sh(NULL, "cp %s %s", snap, path), 0);
	int fd = open(path, O_RDWR | O_CLOEXEC);
	unsigned char c = 0;
	CHECK(fd >= 0 && pread(fd, &c, 1, (off_t)off) == 1);
	c = (unsigned char)~c;
	CHECK(fd >= 0 && pwrite(fd, &c, 1, (off_t)off) == 1);
	if (fd >= 0)
		close(fd);
}

static void test_flipped_byte(void)
{
	struct ps_buf out = PS_BUF_INIT;
	/* the middle frame of the seek table (frames of the intact index) */
	char db0[600];
	snprintf(db0, sizeof(db0), "%s.db", snap);
	long long nframes = tu_sql_int(db0, "SELECT count(*) FROM frames");
	CHECK(nframes >= 3);
	damaged_copy("b.tar.zst", nframes / 2);
	/* index: exit 1, one warning line naming the damage, an index written */
	CHECK_INT(tu_sh(&out, "%s index -o %s/b.db %s/b.tar.zst 2>&1", tu_procsnap(), dir, dir), 1);
	CHECK(strstr(out.buf, "written from what survives") != NULL);
	CHECK(strstr(out.buf, "damaged stretch") != NULL);
	char db[600];
	snprintf(db, sizeof(db), "%s/b.db", dir);
	long long lost = tu_sql_int(db, "SELECT count(*) FROM files WHERE damage = 'lost'");
	CHECK(lost > 0);
	CHECK_INT(tu_sql_int(db, "SELECT count(*) FROM files WHERE damage IS NOT NULL AND "
				 "damage != 'lost'"),
		  0);
	/* exactly what verify names DAMAGED */
	CHECK_INT(tu_sh(&out, "%s verify %s/b.tar.zst | grep -c '^DAMAGED '", tu_procsnap(), dir),
		  0);
	CHECK_INT(atoll(out.buf), lost);
	/* every path is there, and every one not lost is as in the intact index */
	CHECK_INT(tu_sql_int(db, "SELECT count(*) FROM files"), tu_sql_int(db0, "SELECT count(*) "
										"FROM files"));
	CHECK_INT(
	    tu_sh(&out,
		  "sqlite3 %s \"ATTACH '%s' AS o; SELECT count(*) FROM files f JOIN o.files g "
		  "ON g.path_id = f.path_id WHERE f.damage IS NULL AND (f.path IS NOT g.path OR "
		  "f.xxh3 IS NOT g.xxh3 OR f.kind IS NOT g.kind OR f.errno IS NOT g.errno)\"",
		  db, db0),
	    0);
	CHECK_INT(atoll(out.buf), 0);
	/* the parsed tables are there for what survived */
	CHECK(tu_sql_int(db, "SELECT count(*) FROM processes") > 0);
	/* the snapshot says how many paths cannot be trusted */
	CHECK_INT(tu_sql_int(db, "SELECT n_damaged FROM snapshots"), lost);
	/* report lists the first damaged paths, in manifest order (found
	 * through the stats rows with a damage, store.h ps_files_damaged_sql) */
	char first[512], last[600];
	CHECK_INT(
	    tu_sql(db, first, sizeof(first),
		   "SELECT path FROM files WHERE damage IS NOT NULL ORDER BY path_id LIMIT 1"),
	    0);
	CHECK_INT(
	    tu_sql(db, last, sizeof(last),
		   "SELECT path FROM (SELECT path, path_id FROM files WHERE damage IS NOT NULL "
		   "ORDER BY path_id LIMIT 100) ORDER BY path_id DESC LIMIT 1"),
	    0);
	CHECK_INT(tu_sh(&out, "%s report -o - %s 2>/dev/null", tu_procsnap(), db), 0);
	const char *dp = strstr(out.buf, "\"damaged_paths\"");
	CHECK(dp != NULL);
	CHECK(dp && strstr(dp, first) != NULL);
	CHECK(dp && strstr(dp, last) != NULL);
	ps_buf_release(&out);
}

static void test_cut_in_the_middle(void)
{
	struct ps_buf out = PS_BUF_INIT;
	/* cut in the middle of the frame after the one holding pid 1's last
	 * content: the system files come first and their share of the archive
	 * depends on the host, so half the file may hold no process at all */
	char db0[600];
	snprintf(db0, sizeof(db0), "%s.db", snap);
	long long k = tu_sql_int(db0, "SELECT max(f.frame) FROM frames f WHERE f.t_off <= "
				      "(SELECT max(c.data_off) FROM paths p JOIN contents c "
				      "USING (snapshot_id, content_id) WHERE p.pid = 1)");
	long long nframes = tu_sql_int(db0, "SELECT count(*) FROM frames");
	CHECK(k >= 0 && k + 1 < nframes);
	long long cut =
	    tu_sql_int(db0, "SELECT c_off + c_size / 2 FROM frames WHERE frame = %lld", k + 1);
	CHECK_INT(tu_sh(NULL, "head -c %lld %s > %s/c.tar.zst", cut, snap, dir), 0);
	CHECK_INT(tu_sh(&out, "%s index -o %s/c.db %s/c.tar.zst 2>&1", tu_procsnap(), dir, dir), 1);
	CHECK(strstr(out.buf, "written from what survives") != NULL);
	char db[600];
	snprintf(db, sizeof(db), "%s/c.db", dir);
	/* the manifest went with the end: what was read is there, unlisted */
	long long n = tu_sql_int(db, "SELECT count(*) FROM files");
	CHECK(n > 100);
	CHECK_INT(tu_sql_int(db, "SELECT count(*) FROM files WHERE damage = 'unlisted'"), n);
	CHECK(tu_sql_int(db, "SELECT count(*) FROM processes") > 0);
	ps_buf_release(&out);
}

/* A byte flipped in the first frame, which holds meta.json: the snapshot's
 * facts are unknown (NULL), everything after the frame is indexed as usual. */
static void test_first_frame(void)
{
	struct ps_buf out = PS_BUF_INIT;
	char db0[600], db[600];
	snprintf(db0, sizeof(db0), "%s.db", snap);
	snprintf(db, sizeof(db), "%s/f.db", dir);
	CHECK(tu_sql_int(db0, "SELECT count(*) FROM frames") >= 3);
	damaged_copy("f.tar.zst", 0);
	CHECK_INT(tu_sh(&out, "%s index -o %s %s/f.tar.zst 2>&1", tu_procsnap(), db, dir), 1);
	CHECK(strstr(out.buf, "written from what survives") != NULL);
	CHECK(strstr(out.buf, "zstd frame 0") != NULL);
	CHECK_INT(tu_sql_int(db, "SELECT damage = 'lost' FROM files WHERE path = "
				 "'procsnap/meta.json'"),
		  1);
	CHECK_INT(tu_sql_int(db, "SELECT hostname IS NULL AND boot_id IS NULL AND page_size IS "
				 "NULL FROM snapshots"),
		  1);
	long long lost = tu_sql_int(db, "SELECT count(*) FROM files WHERE damage = 'lost'");
	CHECK(lost > 0);
	CHECK_INT(tu_sql_int(db, "SELECT n_damaged FROM snapshots"), lost);
	/* the rest as in the intact index, the parsed tables there */
	CHECK_INT(
	    tu_sh(&out,
		  "sqlite3 %s \"ATTACH '%s' AS o; SELECT count(*), sum(f.path IS NOT g.path OR "
		  "f.xxh3 IS NOT g.xxh3 OR f.kind IS NOT g.kind) FROM files f JOIN o.files g "
		  "ON g.path_id = f.path_id WHERE f.damage IS NULL\"",
		  db, db0),
	    0);
	long long intact = tu_sql_int(db0, "SELECT count(*) FROM files") - lost;
	char want[64];
	snprintf(want, sizeof(want), "%lld|0\n", intact);
	CHECK_STR(out.buf, want);
	CHECK(tu_sql_int(db, "SELECT count(*) FROM processes") > 0);
	/* info says what it does not know, and how much was lost */
	CHECK_INT(tu_sh(&out, "%s info %s", tu_procsnap(), db), 0);
	CHECK(strstr(out.buf, "\nhostname         -\n") != NULL);
	snprintf(want, sizeof(want), "\nn_damaged        %lld\n", lost);
	CHECK(strstr(out.buf, want) != NULL);
	CHECK(strstr(out.buf, "\nduration") == NULL);
	ps_buf_release(&out);
}

/* A byte flipped in the manifest's last data frame (the member stream never
 * reads it; the manifest's own reader does): the lines it held are unknown,
 * their members unlisted, and the warning names the stretch. */
static void test_manifest_frame(void)
{
	struct ps_buf out = PS_BUF_INIT;
	char db0[600], db[600];
	snprintf(db0, sizeof(db0), "%s.db", snap);
	snprintf(db, sizeof(db), "%s/m.db", dir);
	long long nframes = tu_sql_int(db0, "SELECT count(*) FROM frames");
	CHECK(nframes >= 3);
	/* the frame holding the manifest's last bytes: the one before the
	 * frame of the tar's end (two zero blocks) */
	damaged_copy("m.tar.zst", nframes - 2);
	CHECK_INT(tu_sh(&out, "%s index -o %s %s/m.tar.zst 2>&1", tu_procsnap(), db, dir), 1);
	CHECK(strstr(out.buf, "1 damaged stretch, the first: the manifest is cut by a damaged "
			      "stretch") != NULL);
	long long unlisted = tu_sql_int(db, "SELECT count(*) FROM files WHERE damage = 'unlisted'");
	CHECK(unlisted > 0);
	CHECK_INT(tu_sql_int(db, "SELECT n_damaged FROM snapshots"), unlisted);
	/* verify names the manifest damaged too */
	CHECK_INT(tu_sh(&out, "%s verify %s/m.tar.zst | grep -c '^DAMAGED procsnap/manifest.tsv$'",
			tu_procsnap(), dir),
		  0);
	CHECK_STR(out.buf, "1\n");
	ps_buf_release(&out);
}

/* The frame of the manifest's tar header (a frame of its own, right after
 * the last member's data): no manifest is read at all.  Both index and
 * verify account for every member: the index marks them 'unlisted', verify
 * prints each UNLISTED (the same number) and the manifest DAMAGED. */
static void test_manifest_header_frame(void)
{
	struct ps_buf out = PS_BUF_INIT;
	char db0[600], db[600];
	snprintf(db0, sizeof(db0), "%s.db", snap);
	snprintf(db, sizeof(db), "%s/h.db", dir);
	long long f = tu_sql_int(db0, "SELECT frame FROM frames WHERE t_off = (SELECT "
				      "(max(data_off + size) + 511) / 512 * 512 FROM files WHERE "
				      "data_off IS NOT NULL)");
	CHECK(f > 0);
	damaged_copy("h.tar.zst", f);
	CHECK_INT(tu_sh(&out, "%s index -o %s %s/h.tar.zst 2>&1", tu_procsnap(), db, dir), 1);
	long long unlisted = tu_sql_int(db, "SELECT count(*) FROM files WHERE damage = 'unlisted'");
	CHECK(unlisted > 100);
	CHECK_INT(tu_sh(&out, "%s verify %s/h.tar.zst", tu_procsnap(), dir), 1);
	CHECK(strstr(out.buf, "\nDAMAGED procsnap/manifest.tsv\n") != NULL);
	char want[160];
	snprintf(want, sizeof(want), ": 1 damaged, 0 mismatched, 0 missing, %lld unlisted, ",
		 unlisted);
	CHECK(strstr(out.buf, want) != NULL);
	ps_buf_release(&out);
}

static const struct t_case t_cases[] = {T(test_flipped_byte),	       T(test_cut_in_the_middle),
					T(test_first_frame),	       T(test_manifest_frame),
					T(test_manifest_header_frame), {0, 0}};
T_MAIN_SETUP(t_cases, setup, teardown)
