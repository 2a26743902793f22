/*
 * test_procfs_maps.c - maps and smaps (and smaps_rollup) against fixtures
 * captured from a process with a deleted file, a memfd and an rwx mapping.
 */
#include "procfs.h"
#include "t.h"

/* Load samples/procfs/<name> into a buffer of exactly its size (no NUL), so
 * ASan catches any read past the end. */

static void maps_fixture(void)
{
	size_t len, pos = 0;
	char *b = t_load_sample("maps.fixture", &len);
	struct ps_map m;
	int n = 0, r, saw_deleted = 0, saw_memfd = 0, saw_rwx = 0;
	while ((r = ps_maps_next(b, len, &pos, &m)) != 0) {
		CHECK_INT(r, 1);
		if (n == 0) {
			CHECK_U64(m.start, 0x558873ae0000ULL);
			CHECK_U64(m.end, 0x558873ae1000ULL);
			CHECK_STR(m.perms, "r--p");
			CHECK_U64(m.offset, 0);
			CHECK_INT(m.dev_major, 0xfe);
			CHECK_INT(m.dev_minor, 0);
			CHECK_U64(m.inode, 10952981);
			CHECK_MEM(m.path.p, m.path.len, "/tmp/fix/mkfix");
		}
		if (m.start == 0x7f067da82000ULL) {
			saw_deleted = 1;
			CHECK_STR(m.perms, "rw-s");
			CHECK_U64(m.inode, 10952978);
			CHECK_MEM(m.path.p, m.path.len, "/tmp/ps fixture (x).bin (deleted)");
		}
		if (m.start == 0x7f067da81000ULL) {
			saw_memfd = 1;
			CHECK_INT(m.dev_major, 0);
			CHECK_INT(m.dev_minor, 1);
			CHECK_MEM(m.path.p, m.path.len, "/memfd:ps-memfd (deleted)");
		}
		if (strcmp(m.perms, "rwxp") == 0) {
			saw_rwx = 1;
			CHECK_U64(m.end - m.start, 3 * 4096);
			CHECK_INT(m.path.len, 0);
		}
		if (m.start == 0x7f067da8c000ULL)
			CHECK_MEM(m.path.p, m.path.len, "[vdso]");
		n++;
	}
	CHECK_INT(n, 31);
	CHECK(saw_deleted && saw_memfd && saw_rwx);
	CHECK_U64(m.start, PS_U64_UNKNOWN); /* reset at the end */
	CHECK_U64(pos, len);
	/* the last line is vsyscall */
	struct ps_map last = {0};
	pos = 0;
	while (ps_maps_next(b, len, &pos, &m) == 1)
		last = m;
	CHECK_U64(last.start, 0xffffffffff600000ULL);
	CHECK_STR(last.perms, "--xp");
	CHECK_MEM(last.path.p, last.path.len, "[vsyscall]");
	free(b);
}

static void maps_edge(void)
{
	size_t len, pos = 0;
	char *b = t_load_sample("maps.edge", &len);
	struct ps_map m;
	CHECK_INT(ps_maps_next(b, len, &pos, &m), 1);
	CHECK_U64(m.start, 0x400000);
	CHECK_INT(m.dev_major, 8);
	CHECK_INT(m.dev_minor, 2);
	CHECK_MEM(m.path.p, m.path.len, "/usr/bin/dbus daemon");
	CHECK_INT(ps_maps_next(b, len, &pos, &m), 1);
	CHECK_U64(m.offset, 0x51000);
	CHECK_MEM(m.path.p, m.path.len, "/tmp/with  two  spaces (deleted)");
	CHECK_INT(ps_maps_next(b, len, &pos, &m), 1); /* no path, trailing blank */
	CHECK_STR(m.perms, "---p");
	CHECK_INT(m.path.len, 0);
	CHECK_INT(ps_maps_next(b, len, &pos, &m), -1); /* "not a maps line" */
	CHECK_INT(ps_maps_next(b, len, &pos, &m), -1); /* start > end */
	CHECK_INT(ps_maps_next(b, len, &pos, &m), 1);
	CHECK_MEM(m.path.p, m.path.len, "/dev/zero (deleted)");
	CHECK_INT(m.dev_minor, 5);
	CHECK_INT(ps_maps_next(b, len, &pos, &m), 1); /* no final newline */
	CHECK_MEM(m.path.p, m.path.len, "/odd\\012name");
	char name[32];
	CHECK_INT(ps_unescape_octal(name, sizeof(name), m.path), 9);
	CHECK_STR(name, "/odd\nname");
	CHECK_INT(ps_maps_next(b, len, &pos, &m), 0);
	CHECK_INT(ps_maps_next(b, len, &pos, &m), 0);
	free(b);

	pos = 0;
	CHECK_INT(ps_maps_next("", 0, &pos, &m), 0);
	const char *bad[] = {
	    "1-2 rwxp 0 0:0",			      /* no inode */
	    "1-2 rwx 0 0:0 0",			      /* short perms */
	    "10000000000000000-2 rw-p 0 0:0 0",	      /* 17 hex digits */
	    "1-2 rw-p 0 100000000:0 0",		      /* major > 32 bits */
	    "1-2 rw-p 0 0:0 99999999999999999999 /x", /* inode overflow */
	    "1-2 rw-p 0 00 0",			      /* dev without ':' */
	    "-2 rw-p 0 0:0 0",
	    "1- rw-p 0 0:0 0",
	    "1-2 rw-p 0x10 0:0 0",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (ps_map_parse(bad[i], strlen(bad[i]), &m) != -1) {
			fprintf(stderr, "accepted: %s\n", bad[i]);
			t_failures++;
		}
	}
	CHECK_INT(ps_map_parse("1-2 rw-p 0 0:0 0", 16, &m), 0);
	CHECK_U64(m.end, 2);
}

static void smaps_fixture(void)
{
	size_t len, pos = 0;
	char *b = t_load_sample("smaps.fixture", &len);
	struct ps_smaps s;
	int n = 0, r, saw_heap = 0, saw_deleted = 0;
	while ((r = ps_smaps_next(b, len, &pos, &s)) != 0) {
		CHECK_INT(r, 1);
		CHECK(s.size != PS_U64_UNKNOWN);
		CHECK(s.vm_flags.len > 0);
		CHECK_U64(s.kernel_page_size, 4);
		if (ps_str_eq(s.map.path, "[heap]")) {
			saw_heap = 1;
			CHECK_U64(s.map.start, 0x5588ac26d000ULL);
			CHECK_U64(s.size, 132);
			CHECK_U64(s.mmu_page_size, 4);
			CHECK_U64(s.rss, 8);
			CHECK_U64(s.pss, 8);
			CHECK_U64(s.pss_dirty, 8);
			CHECK_U64(s.private_dirty, 8);
			CHECK_U64(s.anonymous, 8);
			CHECK_U64(s.swap, 0);
			CHECK_U64(s.ksm, 0);
			CHECK_U64(s.thp_eligible, 0);
			CHECK_U64(s.pss_anon, PS_U64_UNKNOWN); /* rollup only */
			CHECK_U64(s.protection_key, PS_U64_UNKNOWN);
			CHECK_MEM(s.vm_flags.p, s.vm_flags.len, "rd wr mr mw me ac");
		}
		if (ps_str_eq(s.map.path, "/tmp/ps fixture (x).bin (deleted)")) {
			saw_deleted = 1;
			CHECK_U64(s.size, 8);
			CHECK_U64(s.private_dirty, 8);
			CHECK_MEM(s.vm_flags.p, s.vm_flags.len, "rd wr sh mr mw me ms");
		}
		n++;
	}
	CHECK_INT(n, 31);
	CHECK(saw_heap && saw_deleted);
	free(b);

	b = t_load_sample("smaps_rollup.fixture", &len);
	pos = 0;
	CHECK_INT(ps_smaps_next(b, len, &pos, &s), 1);
	CHECK_MEM(s.map.path.p, s.map.path.len, "[rollup]");
	CHECK_U64(s.map.start, 0x558873ae0000ULL);
	CHECK_U64(s.size, PS_U64_UNKNOWN);
	CHECK_U64(s.rss, 1732);
	CHECK_U64(s.pss, 427);
	CHECK_U64(s.pss_anon, 132);
	CHECK_U64(s.pss_file, 291);
	CHECK_U64(s.pss_shmem, 4);
	CHECK_U64(s.shared_clean, 1528);
	CHECK_U64(s.locked, 0);
	CHECK_INT(s.vm_flags.len, 0);
	CHECK_INT(ps_smaps_next(b, len, &pos, &s), 0);
	free(b);
}

static void smaps_malformed(void)
{
	const char in[] = "Rss: 4 kB\n" /* orphan field */
			  "1000-2000 rw-p 00000000 00:00 0\n"
			  "Size: 4 kB\nRss: x kB\nFuture_Field: 1 kB\n" /* bad Rss */
			  "zzzz\n"					/* junk header */
			  "Size: 8 kB\n"
			  "3000-4000 r--p 00000000 00:00 0 /a b\n"
			  "Size: 99999999999999999999 kB\n"
			  "Swap: 3 kB\n"
			  "4000-5000 r--p 00000000 00:00 0\n"
			  "ProtectionKey:         2\nNew-Field: 1 kB\nVmFlags: rd";
	size_t pos = 0;
	struct ps_smaps s;
	CHECK_INT(ps_smaps_next(in, sizeof(in) - 1, &pos, &s), -1);
	CHECK_U64(s.map.start, PS_U64_UNKNOWN);
	CHECK_INT(ps_smaps_next(in, sizeof(in) - 1, &pos, &s), -1);
	CHECK_U64(s.map.start, 0x1000);
	CHECK_U64(s.size, 4);
	CHECK_U64(s.rss, PS_U64_UNKNOWN);
	CHECK_INT(ps_smaps_next(in, sizeof(in) - 1, &pos, &s), -1);
	CHECK_U64(s.size, 8);
	CHECK_INT(ps_smaps_next(in, sizeof(in) - 1, &pos, &s), -1);
	CHECK_MEM(s.map.path.p, s.map.path.len, "/a b");
	CHECK_U64(s.size, PS_U64_UNKNOWN);
	CHECK_U64(s.swap, 3);
	CHECK_INT(ps_smaps_next(in, sizeof(in) - 1, &pos, &s), 1);
	CHECK_U64(s.protection_key, 2);
	CHECK_MEM(s.vm_flags.p, s.vm_flags.len, "rd");
	CHECK_INT(ps_smaps_next(in, sizeof(in) - 1, &pos, &s), 0);
	pos = 0;
	CHECK_INT(ps_smaps_next("", 0, &pos, &s), 0);
}

static const struct t_case cases[] = {
    T(maps_fixture), T(maps_edge), T(smaps_fixture), T(smaps_malformed), {0, 0}};
T_MAIN(cases)
