/*
 * test_procfs_misc.c - limits, cgroup, fdinfo, readlink targets, mountinfo,
 * modules.
 */
#include "procfs.h"
#include "t.h"

/* Load samples/procfs/<name> into a buffer of exactly its size (no NUL), so
 * ASan catches any read past the end. */

static void limits_fixture(void)
{
	size_t len, pos = 0;
	char *b = t_load_sample("limits.fixture", &len);
	struct ps_limit l;
	int n = 0, r;
	while ((r = ps_limits_next(b, len, &pos, &l)) != 0) {
		CHECK_INT(r, 1);
		if (n == 0) {
			CHECK_MEM(l.name.p, l.name.len, "Max cpu time");
			CHECK_INT(l.soft, PS_LIMIT_UNLIMITED);
			CHECK_INT(l.hard, PS_LIMIT_UNLIMITED);
			CHECK_MEM(l.units.p, l.units.len, "seconds");
		}
		if (ps_str_eq(l.name, "Max stack size")) {
			CHECK_INT(l.soft, 8388608);
			CHECK_INT(l.hard, PS_LIMIT_UNLIMITED);
			CHECK_MEM(l.units.p, l.units.len, "bytes");
		}
		if (ps_str_eq(l.name, "Max open files")) {
			CHECK_INT(l.soft, 20000);
			CHECK_INT(l.hard, 20000);
			CHECK_MEM(l.units.p, l.units.len, "files");
		}
		if (ps_str_eq(l.name, "Max processes"))
			CHECK_INT(l.soft, 96365);
		if (ps_str_eq(l.name, "Max nice priority")) {
			CHECK_INT(l.soft, 0);
			CHECK_INT(l.units.len, 0);
		}
		if (ps_str_eq(l.name, "Max realtime timeout"))
			CHECK_MEM(l.units.p, l.units.len, "us");
		n++;
	}
	CHECK_INT(n, 16);
	free(b);

	b = t_load_sample("limits.edge", &len);
	pos = 0;
	CHECK_INT(ps_limits_next(b, len, &pos, &l), 1);
	CHECK_INT(l.soft, 10);
	CHECK_INT(ps_limits_next(b, len, &pos, &l), 1);
	CHECK_MEM(l.name.p, l.name.len, "Max nice priority");
	CHECK_INT(ps_limits_next(b, len, &pos, &l), -1); /* 20-digit soft limit */
	CHECK_MEM(l.name.p, l.name.len, "Max file size");
	CHECK_INT(l.soft, PS_I64_UNKNOWN);
	CHECK_INT(l.hard, PS_LIMIT_UNLIMITED);
	CHECK_INT(ps_limits_next(b, len, &pos, &l), -1); /* "Max broken" */
	CHECK_INT(ps_limits_next(b, len, &pos, &l), 0);
	free(b);
}

static void cgroup_fixture(void)
{
	size_t len, pos = 0;
	char *b = t_load_sample("cgroup.fixture", &len);
	struct ps_cgroup c;
	int n = 0;
	while (ps_cgroup_next(b, len, &pos, &c) == 1) {
		if (n == 0) {
			CHECK_INT(c.hierarchy_id, 9);
			CHECK_MEM(c.controllers.p, c.controllers.len, "name=systemd");
			CHECK_MEM(c.path.p, c.path.len, "/");
		}
		if (c.hierarchy_id == 4) {
			CHECK_MEM(c.controllers.p, c.controllers.len, "memory");
			CHECK_MEM(c.path.p, c.path.len,
				  "/process_api/a5b82035c9035b9bbe784b915a24f439");
		}
		if (c.hierarchy_id == 0) {
			CHECK_INT(c.controllers.len, 0);
			CHECK_MEM(c.path.p, c.path.len, "/");
		}
		n++;
	}
	CHECK_INT(n, 10);
	free(b);

	const char in[] = "0::/a:b c\nx:cpu:/\n3:cpu\n";
	pos = 0;
	CHECK_INT(ps_cgroup_next(in, sizeof(in) - 1, &pos, &c), 1);
	CHECK_MEM(c.path.p, c.path.len, "/a:b c");
	CHECK_INT(ps_cgroup_next(in, sizeof(in) - 1, &pos, &c), -1);
	CHECK_MEM(c.controllers.p, c.controllers.len, "cpu");
	CHECK_INT(ps_cgroup_next(in, sizeof(in) - 1, &pos, &c), -1);
	CHECK_INT(ps_cgroup_next(in, sizeof(in) - 1, &pos, &c), 0);
}

static void fdinfo_fixture(void)
{
	size_t len;
	char *b = t_load_sample("fdinfo.3", &len);
	struct ps_fdinfo fi;
	CHECK_INT(ps_fdinfo_parse(b, len, &fi), 0);
	CHECK_U64(fi.pos, 4096);
	CHECK_U64(fi.flags, 0100002); /* O_LARGEFILE | O_RDWR */
	CHECK_U64(fi.mnt_id, 27);
	CHECK_U64(fi.ino, 10952978); /* same inode as in maps */
	free(b);
	b = t_load_sample("fdinfo.6", &len);
	CHECK_INT(ps_fdinfo_parse(b, len, &fi), 0);
	CHECK_U64(fi.flags, 0);
	CHECK_U64(fi.ino, 1038);
	free(b);
	b = t_load_sample("fdinfo.eventfd", &len);
	CHECK_INT(ps_fdinfo_parse(b, len, &fi), 0);
	CHECK_U64(fi.pos, 12);
	CHECK_U64(fi.flags, 02004002);
	CHECK_U64(fi.ino, 3081);
	free(b);
	CHECK_INT(ps_fdinfo_parse("pos:\t1\nflags:\t09\n", 17, &fi), -1); /* not octal */
	CHECK_U64(fi.pos, 1);
	CHECK_U64(fi.flags, PS_U64_UNKNOWN);
	CHECK_INT(ps_fdinfo_parse("", 0, &fi), -1);
	CHECK_U64(fi.ino, PS_U64_UNKNOWN);
}

static void links(void)
{
	size_t len;
	char *b = t_load_sample("fdlinks.fixture", &len); /* "FD TARGET" lines */
	struct ps_link l;
	const char *ls = b, *e = b + len;
	int n = 0;
	while (ls < e) {
		const char *nl = memchr(ls, '\n', (size_t)(e - ls));
		const char *le = nl ? nl : e;
		const char *sp = memchr(ls, ' ', (size_t)(le - ls));
		CHECK(sp != NULL);
		if (!sp)
			break;
		int fd = atoi(ls);
		CHECK_INT(ps_link_parse(sp + 1, (size_t)(le - sp - 1), &l), 0);
		switch (fd) {
		case 0:
			CHECK_INT(l.type, PS_LINK_PATH);
			CHECK_MEM(l.name.p, l.name.len, "/dev/null");
			CHECK_INT(l.deleted, 0);
			break;
		case 3:
			CHECK_INT(l.type, PS_LINK_PATH);
			CHECK_MEM(l.name.p, l.name.len, "/tmp/ps fixture (x).bin");
			CHECK_INT(l.deleted, 1);
			break;
		case 4:
			CHECK_INT(l.type, PS_LINK_MEMFD);
			CHECK_MEM(l.name.p, l.name.len, "ps-memfd");
			CHECK_INT(l.deleted, 1);
			break;
		case 5:
			CHECK_INT(l.type, PS_LINK_ANON_INODE);
			CHECK_MEM(l.name.p, l.name.len, "eventfd");
			break;
		case 6:
			CHECK_INT(l.type, PS_LINK_ANON_INODE);
			CHECK_MEM(l.name.p, l.name.len, "inotify");
			CHECK_U64(l.inode, PS_U64_UNKNOWN);
			break;
		case 8:
			CHECK_INT(l.type, PS_LINK_PIPE);
			CHECK_U64(l.inode, 7269);
			break;
		case 11:
			CHECK_INT(l.type, PS_LINK_SOCKET);
			CHECK_U64(l.inode, 7270);
			CHECK_MEM(l.name.p, l.name.len, "socket");
			break;
		}
		n++;
		ls = le + 1;
	}
	CHECK_INT(n, 15);
	free(b);

	b = t_load_sample("nslinks.fixture", &len);
	ls = b;
	e = b + len;
	n = 0;
	while (ls < e) {
		const char *nl = memchr(ls, '\n', (size_t)(e - ls));
		const char *le = nl ? nl : e;
		CHECK_INT(ps_link_parse(ls, (size_t)(le - ls), &l), 0);
		CHECK_INT(l.type, PS_LINK_NS);
		if (n == 3) {
			CHECK_MEM(l.name.p, l.name.len, "net");
			CHECK_U64(l.inode, 4026531833ULL);
		}
		n++;
		ls = le + 1;
	}
	CHECK_INT(n, 10);
	free(b);

	CHECK_INT(ps_link_parse("", 0, &l), -1);
	CHECK_INT(l.type, PS_LINK_UNKNOWN);
	CHECK_INT(ps_link_parse("socket:[abc]", 12, &l), -1);
	CHECK_INT(l.type, PS_LINK_UNKNOWN);
	CHECK_INT(ps_link_parse("socket:[99999999999999999999]", 29, &l), -1);
	CHECK_INT(ps_link_parse("socket:[]", 9, &l), -1);
	CHECK_INT(ps_link_parse("socket:[", 8, &l), 0);
	CHECK_INT(l.type, PS_LINK_OTHER);
	CHECK_INT(ps_link_parse("/ (deleted)", 11, &l), 0);
	CHECK_MEM(l.name.p, l.name.len, "/");
	CHECK_INT(l.deleted, 1);
	CHECK_INT(ps_link_parse("/memfd:a (deleted) (deleted)", 28, &l), 0);
	CHECK_MEM(l.name.p, l.name.len, "a (deleted)");
	CHECK_INT(ps_link_parse("/memfd:", 7, &l), 0);
	CHECK_INT(l.type, PS_LINK_MEMFD);
	CHECK_INT(l.name.len, 0);
	CHECK_INT(ps_link_parse("(deleted)", 9, &l), 0);
	CHECK_INT(l.type, PS_LINK_OTHER);
	CHECK_INT(ps_link_parse("anon_inode:", 11, &l), 0);
	CHECK_INT(l.type, PS_LINK_ANON_INODE);
	CHECK_INT(ps_link_parse("mnt:[4026531832]", 16, &l), 0);
	CHECK_STR(ps_link_type_name(l.type), "ns");
	CHECK_STR(ps_link_type_name(PS_LINK_MEMFD), "memfd");
	CHECK_STR(ps_link_type_name((enum ps_link_type)99), "unknown");
}

static void mountinfo_fixture(void)
{
	size_t len, pos = 0;
	char *b = t_load_sample("mountinfo.fixture", &len);
	struct ps_mountinfo m;
	int n = 0, r;
	while ((r = ps_mountinfo_next(b, len, &pos, &m)) != 0) {
		CHECK_INT(r, 1);
		if (n == 0) {
			CHECK_U64(m.mount_id, 22);
			CHECK_U64(m.parent_id, 27);
			CHECK_INT(m.major, 0);
			CHECK_INT(m.minor, 21);
			CHECK_MEM(m.root.p, m.root.len, "/");
			CHECK_MEM(m.mount_point.p, m.mount_point.len, "/proc");
			CHECK_MEM(m.options.p, m.options.len, "rw,relatime");
			CHECK_INT(m.optional.len, 0);
			CHECK_MEM(m.fstype.p, m.fstype.len, "proc");
			CHECK_MEM(m.source.p, m.source.len, "proc");
			CHECK_MEM(m.super_options.p, m.super_options.len, "rw");
		}
		if (m.mount_id == 27) {
			CHECK_INT(m.major, 254);
			CHECK_MEM(m.mount_point.p, m.mount_point.len, "/");
			CHECK_MEM(m.fstype.p, m.fstype.len, "ext4");
			CHECK_MEM(m.source.p, m.source.len, "/dev/vda");
		}
		n++;
	}
	CHECK_INT(n, 19);
	free(b);

	b = t_load_sample("mountinfo.edge", &len);
	pos = 0;
	char path[64];
	CHECK_INT(ps_mountinfo_next(b, len, &pos, &m), 1);
	CHECK_MEM(m.mount_point.p, m.mount_point.len, "/mnt/with\\040space");
	CHECK_INT(ps_unescape_octal(path, sizeof(path), m.mount_point), 15);
	CHECK_STR(path, "/mnt/with space");
	CHECK_MEM(m.optional.p, m.optional.len, "shared:1 master:2");
	CHECK_MEM(m.fstype.p, m.fstype.len, "ext4");
	CHECK_MEM(m.super_options.p, m.super_options.len, "rw,errors=remount-ro");
	CHECK_INT(ps_mountinfo_next(b, len, &pos, &m), 1);
	ps_unescape_octal(path, sizeof(path), m.root);
	CHECK_STR(path, "/a\\b");
	CHECK_MEM(m.fstype.p, m.fstype.len, "fuse.sshfs");
	CHECK_MEM(m.source.p, m.source.len, "user@host:/dir");
	CHECK_INT(ps_mountinfo_next(b, len, &pos, &m), -1); /* no source */
	CHECK_INT(ps_mountinfo_next(b, len, &pos, &m), 0);
	free(b);
	const char nosep[] = "1 2 3:4 / /x rw a b c\n";
	pos = 0;
	CHECK_INT(ps_mountinfo_next(nosep, sizeof(nosep) - 1, &pos, &m), -1);
}

static void modules_sample(void)
{
	size_t len, pos = 0;
	char *b = t_load_sample("modules.sample", &len);
	struct ps_module m;
	CHECK_INT(ps_modules_next(b, len, &pos, &m), 1);
	CHECK_MEM(m.name.p, m.name.len, "nf_tables");
	CHECK_U64(m.size, 249856);
	CHECK_INT(m.refcount, 3);
	CHECK_MEM(m.used_by.p, m.used_by.len, "nft_chain_nat,nft_compat,");
	CHECK_MEM(m.state.p, m.state.len, "Live");
	CHECK_U64(m.address, 0xffffffffc0a00000ULL);
	CHECK_INT(m.taint.len, 0);
	CHECK_INT(ps_modules_next(b, len, &pos, &m), 1);
	CHECK_MEM(m.name.p, m.name.len, "vboxdrv");
	CHECK_U64(m.address, 0);
	CHECK_MEM(m.taint.p, m.taint.len, "OE");
	CHECK_INT(ps_modules_next(b, len, &pos, &m), 1);
	CHECK_MEM(m.used_by.p, m.used_by.len, "-");
	CHECK_MEM(m.state.p, m.state.len, "Loading");
	CHECK_MEM(m.taint.p, m.taint.len, "O");
	CHECK_INT(ps_modules_next(b, len, &pos, &m), 1);
	CHECK_INT(m.refcount, PS_I64_UNKNOWN); /* "-": no CONFIG_MODULE_UNLOAD */
	CHECK_INT(ps_modules_next(b, len, &pos, &m), 0);
	free(b);
	const char bad[] = "x 1 0 - Live 0xzz\ny 1 0 - Live 0x1 OE\n";
	pos = 0;
	CHECK_INT(ps_modules_next(bad, sizeof(bad) - 1, &pos, &m), -1);
	CHECK_INT(ps_modules_next(bad, sizeof(bad) - 1, &pos, &m), -1);
	CHECK_U64(m.address, 1);
}

static const struct t_case cases[] = {T(limits_fixture),
				      T(cgroup_fixture),
				      T(fdinfo_fixture),
				      T(links),
				      T(mountinfo_fixture),
				      T(modules_sample),
				      {0, 0}};
T_MAIN(cases)
