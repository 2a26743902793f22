/*
 * test_procfs_packet_shm.c - the /proc/net/packet and /proc/sysvipc/shm
 * parsers (procfs/net.c): rows as the kernel prints them, the header
 * skipped, a malformed row reported (-1) and the next one still read,
 * sysvipc/shm of a kernel before rss/swap.
 */
#include "t.h"

#include "procfs.h"

static void test_packet(void)
{
	static const char txt[] =
	    "sk       RefCnt Type Proto  Iface R Rmem   User   Inode\n"
	    "0000000000000000 3      3    0003   0     1 0      0      123456\n"
	    "ffff8b0c1d2e3f40 3      2    0800   2     0 1280   101    77\n"
	    "garbage line\n"
	    "0000000000000000 3      3    88cc   4     1 0      0      9\n";
	size_t pos = 0;
	struct ps_packet_sock k;
	CHECK_INT(ps_packet_next(txt, sizeof(txt) - 1, &pos, &k), 1);
	CHECK_U64(k.type, 3);
	CHECK_U64(k.proto, 3);
	CHECK_INT(k.ifindex, 0);
	CHECK_U64(k.running, 1);
	CHECK_U64(k.inode, 123456);
	CHECK_INT(ps_packet_next(txt, sizeof(txt) - 1, &pos, &k), 1);
	CHECK_U64(k.type, 2);
	CHECK_U64(k.proto, 0x800);
	CHECK_INT(k.ifindex, 2);
	CHECK_U64(k.rmem, 1280);
	CHECK_U64(k.uid, 101);
	CHECK_U64(k.inode, 77);
	CHECK_INT(ps_packet_next(txt, sizeof(txt) - 1, &pos, &k), -1);
	CHECK_U64(k.inode, PS_U64_UNKNOWN);
	CHECK_INT(ps_packet_next(txt, sizeof(txt) - 1, &pos, &k), 1);
	CHECK_U64(k.proto, 0x88cc);
	CHECK_INT(ps_packet_next(txt, sizeof(txt) - 1, &pos, &k), 0);
	/* a protocol wider than 16 bits is not a packet row */
	static const char bad[] = "0 3 3 10000 0 1 0 0 5\n";
	pos = 0;
	CHECK_INT(ps_packet_next(bad, sizeof(bad) - 1, &pos, &k), -1);
}

static void test_shm(void)
{
	static const char txt[] =
	    "       key      shmid perms                  size  cpid  lpid nattch   uid   gid  "
	    "cuid "
	    " cgid      atime      dtime      ctime                   rss                  swap\n"
	    "         0          5  1600                  8192  4242  4242      1     0     0     "
	    "0 "
	    "    0 1700000000          0 1700000001                  4096                     0\n"
	    "-559038737         32   640                  4096   100   101      0  1000  1000  "
	    "1000 "
	    " 1000          0          0 1700000002                     0                     0\n"
	    "         1          2  999                  1 1 1 1 1 1 1 1 0 0 0 0 0\n";
	size_t pos = 0;
	struct ps_shm m;
	CHECK_INT(ps_shm_next(txt, sizeof(txt) - 1, &pos, &m), 1);
	CHECK_INT(m.key, 0);
	CHECK_U64(m.shmid, 5);
	CHECK_U64(m.perms, 01600);
	CHECK_U64(m.size, 8192);
	CHECK_U64(m.cpid, 4242);
	CHECK_U64(m.nattch, 1);
	CHECK_U64(m.atime, 1700000000);
	CHECK_U64(m.ctime, 1700000001);
	CHECK_U64(m.rss, 4096);
	CHECK_INT(ps_shm_next(txt, sizeof(txt) - 1, &pos, &m), 1);
	CHECK_INT(m.key, -559038737);
	CHECK_U64(m.perms, 0640);
	CHECK_U64(m.uid, 1000);
	CHECK_U64(m.cgid, 1000);
	/* "999" is not octal */
	CHECK_INT(ps_shm_next(txt, sizeof(txt) - 1, &pos, &m), -1);
	CHECK_INT(ps_shm_next(txt, sizeof(txt) - 1, &pos, &m), 0);
	/* before 2.6.28: no rss, no swap */
	static const char old[] = "  7  9  600  4096  1  2  0  0  0  0  0  0  0  5\n";
	pos = 0;
	CHECK_INT(ps_shm_next(old, sizeof(old) - 1, &pos, &m), 1);
	CHECK_U64(m.ctime, 5);
	CHECK_U64(m.rss, PS_U64_UNKNOWN);
	CHECK_U64(m.swap, PS_U64_UNKNOWN);
}

static const struct t_case t_cases[] = {T(test_packet), T(test_shm), {0, 0}};
T_MAIN(t_cases)
