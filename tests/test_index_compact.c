/*
 * test_index_compact.c - the compact storage of the index (issue 9) gives
 * back exactly what was captured: mappings stored once per distinct set of
 * values (map_info) still show per process in process_memory_map, and the
 * smaps fields kept apart (maps_rare: a row only when a value differs from
 * the snapshot's usual one) come back as printed, NULL where the kernel did
 * not print the line.  A copy of samples/proc-fixture with crafted smaps.
 */
#include "t.h"
#include "tutil.h"

#include <unistd.h>

#define FIXTURE PS_SOURCE_DIR "/samples/proc-fixture"

static char tree[512], snap[600], db[610];
static int ok;

/* One smaps entry: header, then the usual lines of a 6.18 kernel with the
 * given Locked and KSM (NULL: no KSM line, as before 6.11). */
static void entry(FILE *f, const char *head, int locked, const char *ksm, int thp)
{
	fprintf(f, "%s\n", head);
	fprintf(f, "Size:                  8 kB\nKernelPageSize:        4 kB\n"
		   "MMUPageSize:           4 kB\nRss:                   8 kB\n"
		   "Pss:                   4 kB\nPss_Dirty:             0 kB\n"
		   "Shared_Clean:          8 kB\nShared_Dirty:          0 kB\n"
		   "Private_Clean:         0 kB\nPrivate_Dirty:         0 kB\n"
		   "Referenced:            8 kB\nAnonymous:             0 kB\n");
	if (ksm)
		fprintf(f, "KSM:                   %s kB\n", ksm);
	fprintf(f,
		"LazyFree:              0 kB\nAnonHugePages:         0 kB\n"
		"ShmemPmdMapped:        0 kB\nFilePmdMapped:         0 kB\n"
		"Shared_Hugetlb:        0 kB\nPrivate_Hugetlb:       0 kB\n"
		"Swap:                  0 kB\nSwapPss:               0 kB\n"
		"Locked:                %d kB\nTHPeligible:           %d\n"
		"VmFlags: rd mr mw me \n",
		locked, thp);
}

#define LIBC   "7f0000000000-7f0000002000 r--p 00000000 fe:00 100 /usr/lib/libc.so.6"
#define LIBC_X "7f0000002000-7f0000004000 r-xp 00002000 fe:00 100 /usr/lib/libc.so.6"
#define STACK  "7ffd00000000-7ffd00002000 rw-p 00000000 00:00 0 [stack]"

static int write_smaps(const char *pid, int which)
{
	char p[700];
	snprintf(p, sizeof(p), "%s/%s/smaps", tree, pid);
	FILE *f = fopen(p, "w");
	if (!f)
		return -1;
	if (which == 1) {
		entry(f, LIBC, 0, "0", 1);   /* the snapshot's first entry: the usual values */
		entry(f, LIBC_X, 8, "0", 0); /* Locked 8 kB: its own maps_rare row */
		entry(f, STACK, 0, "0", 0);
	} else {
		entry(f, LIBC, 0, "0", 1);    /* as pid 1's: the same map_info row */
		entry(f, LIBC_X, 0, NULL, 0); /* no KSM line: NULL, not 0 */
		entry(f, STACK, 0, "0", 0);   /* as pid 1's */
	}
	return fclose(f);
}

static void setup(void)
{
	snprintf(tree, sizeof(tree), "%s/proc", tu_tmpdir());
	snprintf(snap, sizeof(snap), "%s/c.tar.zst", tu_tmpdir());
	snprintf(db, sizeof(db), "%s.db", snap);
	ok = tu_sh(NULL, "cp -a '%s/.' '%s/'", FIXTURE, tree) == 0 && write_smaps("1", 1) == 0 &&
	     write_smaps("42", 2) == 0 &&
	     tu_sh(NULL, "%s capture -q --root %s -o %s", tu_procsnap(), tree, snap) == 0;
	if (!ok) {
		fprintf(stderr, "capture of the crafted fixture failed\n");
		t_failures++;
	}
}

static void teardown(void)
{
	tu_cleanup();
}

#define MAP(pid, start, col)                                                                       \
	"SELECT coalesce(" col ", 'NULL') FROM process_memory_map WHERE pid = " pid                \
	" AND start = '" start "'"

static void test_maps_shared(void)
{
	if (!ok)
		return;
	/* six mappings, two of pid 42's the same as pid 1's */
	CHECK_INT(tu_sql_int(db, "SELECT count(*) FROM process_memory_map WHERE pid IN (1, 42)"),
		  6);
	CHECK_INT(tu_sql_int(db, "SELECT count(*) FROM maps WHERE pid IN (1, 42)"), 6);
	CHECK_INT(tu_sql_int(db, "SELECT count(DISTINCT map_id) FROM maps WHERE pid IN (1, 42)"),
		  4);
	char t[1024];
	CHECK_INT(tu_sql(db, t, sizeof(t),
			 "SELECT group_concat(pid || ' ' || start || ' ' || permissions || ' ' || "
			 "path || ' ' || rss_kb || ' ' || pss_kb || ' ' || vmflags, '|') FROM "
			 "(SELECT * FROM process_memory_map WHERE pid IN (1, 42) ORDER BY pid, "
			 "start_addr)"),
		  0);
	CHECK_STR(t, "1 0x7f0000000000 r--p /usr/lib/libc.so.6 8 4 rd mr mw me|"
		     "1 0x7f0000002000 r-xp /usr/lib/libc.so.6 8 4 rd mr mw me|"
		     "1 0x7ffd00000000 rw-p [stack] 8 4 rd mr mw me|"
		     "42 0x7f0000000000 r--p /usr/lib/libc.so.6 8 4 rd mr mw me|"
		     "42 0x7f0000002000 r-xp /usr/lib/libc.so.6 8 4 rd mr mw me|"
		     "42 0x7ffd00000000 rw-p [stack] 8 4 rd mr mw me");
}

static void test_maps_rare(void)
{
	char t[64];
	if (!ok)
		return;
	/* usual values, from the snapshot's defaults row */
	CHECK_INT(tu_sql(db, t, sizeof(t), MAP("1", "0x7f0000000000", "kernel_page_size_kb")), 0);
	CHECK_STR(t, "4");
	CHECK_INT(tu_sql(db, t, sizeof(t), MAP("1", "0x7f0000000000", "locked_kb")), 0);
	CHECK_STR(t, "0");
	CHECK_INT(tu_sql(db, t, sizeof(t), MAP("1", "0x7f0000000000", "ksm_kb")), 0);
	CHECK_STR(t, "0");
	CHECK_INT(tu_sql(db, t, sizeof(t), MAP("1", "0x7f0000000000", "thp_eligible")), 0);
	CHECK_STR(t, "1");
	CHECK_INT(tu_sql(db, t, sizeof(t), MAP("1", "0x7f0000000000", "protection_key")), 0);
	CHECK_STR(t, "NULL"); /* no ProtectionKey line */
	/* the unusual ones */
	CHECK_INT(tu_sql(db, t, sizeof(t), MAP("1", "0x7f0000002000", "locked_kb")), 0);
	CHECK_STR(t, "8");
	CHECK_INT(tu_sql(db, t, sizeof(t), MAP("1", "0x7f0000002000", "mmu_page_size_kb")), 0);
	CHECK_STR(t, "4");
	CHECK_INT(tu_sql(db, t, sizeof(t), MAP("42", "0x7f0000002000", "ksm_kb")), 0);
	CHECK_STR(t, "NULL");
	CHECK_INT(tu_sql(db, t, sizeof(t), MAP("42", "0x7f0000002000", "locked_kb")), 0);
	CHECK_STR(t, "0");
	CHECK_INT(tu_sql(db, t, sizeof(t), MAP("42", "0x7ffd00000000", "swap_kb")), 0);
	CHECK_STR(t, "0");
	/* 4242's smaps prints Size, Rss, Pss, Swap only: the others are NULL */
	CHECK_INT(tu_sql(db, t, sizeof(t),
			 "SELECT coalesce(kernel_page_size_kb, 'NULL') || ' ' || swap_kb || ' ' || "
			 "rss_kb FROM process_memory_map WHERE pid = 4242 AND path = '[stack]'"),
		  0);
	CHECK_STR(t, "NULL 0 16");
	/* maps only (no smaps: pid 42's third mapping has smaps; pid 1 has both) */
	CHECK_INT(tu_sql_int(db, "SELECT count(*) FROM process_memory_map WHERE rss_kb IS NULL AND "
				 "kernel_page_size_kb IS NOT NULL"),
		  0);
	/* rows of maps_rare: the defaults, pid 1's Locked, pid 42's KSM-less, and
	 * 4242's one entry, which lacks the lines */
	CHECK_INT(tu_sql_int(db, "SELECT count(*) FROM maps_rare WHERE map_id = -1"), 1);
	CHECK_INT(tu_sql_int(db, "SELECT count(*) FROM maps_rare WHERE map_id >= 0"), 2 + 1);
}

/*
 * A path row is integers counted from its pid's first path (schema 7):
 * the view gives back the manifest line number (base_path + seq) in capture
 * order, and the tid of a thread's path (pid + tid_off); kind and errno come
 * from the few rows of stats.
 */
static void test_paths_encoding(void)
{
	if (!ok)
		return;
	struct ps_buf ls = PS_BUF_INIT, view = PS_BUF_INIT;
	/* ls lists the captured paths in capture order: path_id 0, 1, 2 ... */
	CHECK_INT(tu_sh(&ls, "%s ls %s", tu_procsnap(), snap), 0);
	CHECK_INT(tu_sh(&view, "sqlite3 %s \"SELECT path FROM files ORDER BY path_id\"", db), 0);
	CHECK(ls.len > 0);
	CHECK_STR(view.buf, ls.buf);
	CHECK_INT(tu_sql_int(db, "SELECT count(*) FROM files"),
		  tu_sql_int(db, "SELECT max(path_id) + 1 FROM files"));
	CHECK_INT(tu_sql_int(db, "SELECT count(DISTINCT path_id) FROM files"),
		  tu_sql_int(db, "SELECT count(*) FROM files"));
	/* proc/42's paths: seq 0.. from its first line */
	CHECK_INT(tu_sql_int(db, "SELECT min(seq) FROM paths WHERE pid = 42"), 0);
	CHECK_INT(tu_sql_int(db, "SELECT base_path FROM pid_reads WHERE pid = 42"),
		  tu_sql_int(db, "SELECT min(path_id) FROM files WHERE pid = 42"));
	/* threads: the main ones (tid = pid) and others (the fixture has both) */
	CHECK(tu_sql_int(db, "SELECT count(*) FROM files WHERE tid IS NOT NULL AND tid <> pid") >
	      0);
	CHECK_INT(tu_sql_int(db, "SELECT count(*) FROM files WHERE tid IS NOT NULL AND path NOT "
				 "GLOB 'proc/' || pid || '/task/' || tid || '*'"),
		  0);
	CHECK_INT(tu_sql_int(db, "SELECT count(*) FROM files WHERE tid IS NULL AND path GLOB "
				 "'proc/*/task/*'"),
		  0);
	CHECK_INT(tu_sql_int(db, "SELECT count(*) FROM paths WHERE tid_off = 0"),
		  tu_sql_int(db, "SELECT count(*) FROM files WHERE tid = pid"));
	/* kind and errno: every path has a stats row, few of them */
	CHECK_INT(tu_sql_int(db, "SELECT count(*) FROM files WHERE kind IS NULL"), 0);
	CHECK(tu_sql_int(db, "SELECT count(*) FROM stats") < 40);
	ps_buf_release(&ls);
	ps_buf_release(&view);
}

/* The index rebuilt from the archive has the same rows (but no SHA-256). */
static void test_rebuild_same_bytes(void)
{
	if (!ok)
		return;
	char db2[700];
	snprintf(db2, sizeof(db2), "%s/again.db", tu_tmpdir());
	CHECK_INT(tu_sh(NULL, "%s -q index -o %s %s", tu_procsnap(), db2, snap), 0);
	CHECK_INT(tu_index_same(db, db2), 0);
}

/* A path capture could stat but not read (EACCES as uid 65534): the
 * manifest keeps no stat for it, so neither does the index, and the
 * rebuilt index still has the same rows. */
static void test_rebuild_unreadable(void)
{
	if (!ok)
		return;
	if (geteuid() != 0 || tu_sh(NULL, "command -v setpriv >/dev/null") != 0)
		T_SKIP_CASE("needs root and setpriv to capture as uid 65534");
	const char *d = tu_tmpdir();
	char snap2[700], cdb[720], db2[720], t[128];
	snprintf(snap2, sizeof(snap2), "%s/unpriv/u.tar.zst", d);
	snprintf(cdb, sizeof(cdb), "%s.db", snap2);
	snprintf(db2, sizeof(db2), "%s/again-u.db", d);
	CHECK_INT(tu_sh(NULL,
			"chmod 000 %s/meminfo && mkdir -p %s/unpriv && chmod 777 %s/unpriv && "
			"chmod 755 %s",
			tree, d, d, d),
		  0);
	CHECK_INT(tu_sh(NULL,
			"setpriv --reuid=65534 --regid=65534 --clear-groups %s capture -q -o %s "
			"--root %s 2>/dev/null",
			tu_procsnap(), snap2, tree),
		  0);
	CHECK_INT(tu_sql(cdb, t, sizeof(t),
			 "SELECT errno || ' ' || kind || ' ' || coalesce(mode, 'NULL') FROM files "
			 "WHERE path = 'proc/meminfo'"),
		  0);
	CHECK_STR(t, "EACCES absent NULL");
	CHECK_INT(tu_sh(NULL, "%s -q index -o %s %s", tu_procsnap(), db2, snap2), 0);
	CHECK_INT(tu_index_same(cdb, db2), 0);
}

static const struct t_case t_cases[] = {T(test_maps_shared),	    T(test_maps_rare),
					T(test_paths_encoding),	    T(test_rebuild_same_bytes),
					T(test_rebuild_unreadable), {NULL, NULL}};
T_MAIN_SETUP(t_cases, setup, teardown)
