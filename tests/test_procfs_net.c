/*
 * test_procfs_net.c - /proc/net/{tcp,tcp6,udp,udp6,raw,raw6,unix}.
 * Fixtures were captured while the fixture process listened on
 * 127.0.0.1:47123 (tcp), [::1]:47124 (tcp6), *:47125 (udp6), *:47126 (udp)
 * and bound unix sockets "/tmp/ps sock" and "@ps-abstract".
 */
#include <arpa/inet.h>
#include <sys/socket.h>

#include "procfs.h"
#include "t.h"

/* Load samples/procfs/<name> into a buffer of exactly its size (no NUL), so
 * ASan catches any read past the end. */

static void tcp_fixture(void)
{
	/* the fixtures were captured on little-endian x86-64 (see procfs.h) */
	if (htonl(1) == 1)
		T_SKIP_CASE("address fixtures are little-endian");
	size_t len, pos = 0;
	char *b = t_load_sample("net_tcp", &len);
	struct ps_inet_sock s;
	CHECK_INT(ps_inet_next(b, len, &pos, &s), 1);
	CHECK_U64(s.sl, 0);
	CHECK_INT(s.family, AF_INET);
	CHECK_STR(s.local_text, "0.0.0.0");
	CHECK_INT(s.local_port, 2024);
	CHECK_INT(s.state, 0x0A);
	CHECK_STR(ps_tcp_state_name(s.state), "LISTEN");
	CHECK_U64(s.uid, 0);
	CHECK_U64(s.inode, 1045);
	CHECK_INT(ps_inet_next(b, len, &pos, &s), 1);
	CHECK_STR(s.local_text, "127.0.0.1");
	CHECK(s.local_addr[0] == 127 && s.local_addr[3] == 1);
	CHECK_INT(s.local_port, 47123);
	CHECK_STR(s.remote_text, "0.0.0.0");
	CHECK_U64(s.rx_queue, 1);
	CHECK_U64(s.inode, 7270);
	CHECK_INT(ps_inet_next(b, len, &pos, &s), 1);
	CHECK_STR(s.remote_text, "127.0.0.1");
	CHECK_INT(s.remote_port, 47123);
	CHECK_STR(ps_tcp_state_name(s.state), "ESTABLISHED");
	CHECK_U64(s.inode, 7272);
	CHECK_INT(ps_inet_next(b, len, &pos, &s), 1);
	CHECK_U64(s.inode, 0); /* accepted by the kernel, not yet by the process */
	CHECK_INT(ps_inet_next(b, len, &pos, &s), 0);
	free(b);
}

static void tcp6_udp_raw(void)
{
	size_t len, pos = 0;
	char *b = t_load_sample("net_tcp6", &len);
	struct ps_inet_sock s;
	CHECK_INT(ps_inet_next(b, len, &pos, &s), 1);
	CHECK_INT(s.family, AF_INET6);
	CHECK_STR(s.local_text, "::1");
	CHECK_INT(s.local_addr[15], 1);
	CHECK_INT(s.local_port, 47124);
	CHECK_STR(s.remote_text, "::");
	CHECK_U64(s.inode, 7271);
	CHECK_INT(ps_inet_next(b, len, &pos, &s), 0);
	free(b);

	b = t_load_sample("net_udp", &len);
	pos = 0;
	CHECK_INT(ps_inet_next(b, len, &pos, &s), 1);
	CHECK_U64(s.sl, 7556);
	CHECK_STR(s.local_text, "0.0.0.0");
	CHECK_INT(s.local_port, 47126);
	CHECK_INT(s.state, 7);
	CHECK_STR(ps_tcp_state_name(s.state), "CLOSE");
	CHECK_U64(s.inode, 7274);
	CHECK_INT(ps_inet_next(b, len, &pos, &s), 0);
	free(b);

	b = t_load_sample("net_udp6", &len);
	pos = 0;
	CHECK_INT(ps_inet_next(b, len, &pos, &s), 1);
	CHECK_STR(s.local_text, "::");
	CHECK_INT(s.local_port, 47125);
	CHECK_U64(s.inode, 7273);
	CHECK_INT(ps_inet_next(b, len, &pos, &s), 0);
	free(b);

	const char *hdr_only[] = {"net_raw", "net_raw6"};
	for (int i = 0; i < 2; i++) {
		b = t_load_sample(hdr_only[i], &len);
		pos = 0;
		CHECK_INT(ps_inet_next(b, len, &pos, &s), 0);
		free(b);
	}
}

static void tcp6_edge(void)
{
	size_t len, pos = 0;
	char *b = t_load_sample("net_tcp6.edge", &len);
	struct ps_inet_sock s;
	CHECK_INT(ps_inet_next(b, len, &pos, &s), 1);
	CHECK_STR(s.local_text, "2001:db8::1");
	CHECK_INT(s.local_port, 443);
	CHECK_STR(s.remote_text, "::ffff:127.0.0.1");
	CHECK_INT(s.remote_port, 54321);
	CHECK_U64(s.tx_queue, 10);
	CHECK_U64(s.rx_queue, 20);
	CHECK_U64(s.uid, 1000);
	CHECK_U64(s.inode, 55555);
	CHECK_INT(ps_inet_next(b, len, &pos, &s), 1);
	CHECK_INT(s.local_port, 22);
	CHECK_U64(s.inode, 777);
	CHECK_INT(ps_inet_next(b, len, &pos, &s), 0);
	free(b);

	const char *bad[] = {
	    "0: 0100007F:0016 00000000:0000",						 /* short */
	    "0: 0100007F:0016 00000000000000000000000000000000:0000 0A 0:0 0:0 0 0 0 1", /* mixed */
	    "0: 0100007:0016 00000000:0000 0A 0:0 0:0 0 0 0 1",	  /* 7 digits */
	    "0: 0100007F:10000 00000000:0000 0A 0:0 0:0 0 0 0 1", /* port > 16 bits */
	    "0: 0100007F:0016 00000000:0000 100 0:0 0:0 0 0 0 1", /* state > 0xff */
	    "0 0100007F:0016 00000000:0000 0A 0:0 0:0 0 0 0 1",	  /* no ':' after sl */
	    "0: 0100007F:0016 00000000:0000 0A 0:0 0:0 0 0 0 99999999999999999999",
	    "0: 0100007G:0016 00000000:0000 0A 0:0 0:0 0 0 0 1",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		pos = 0;
		if (ps_inet_next(bad[i], strlen(bad[i]), &pos, &s) != -1) {
			fprintf(stderr, "accepted: %s\n", bad[i]);
			t_failures++;
		}
	}
	const char ok[] = "0: 0100007F:0016 00000000:0000 0A 0:0 0:0 0 0 0 1";
	pos = 0;
	CHECK_INT(ps_inet_next(ok, sizeof(ok) - 1, &pos, &s), 1);
	CHECK_INT(s.local_port, 22);
	CHECK_U64(s.inode, 1);
}

static void tcp_states(void)
{
	CHECK_STR(ps_tcp_state_name(1), "ESTABLISHED");
	CHECK_STR(ps_tcp_state_name(2), "SYN_SENT");
	CHECK_STR(ps_tcp_state_name(6), "TIME_WAIT");
	CHECK_STR(ps_tcp_state_name(8), "CLOSE_WAIT");
	CHECK_STR(ps_tcp_state_name(0x0A), "LISTEN");
	CHECK_STR(ps_tcp_state_name(0x0B), "CLOSING");
	CHECK_STR(ps_tcp_state_name(0x0C), "NEW_SYN_RECV");
	CHECK_STR(ps_tcp_state_name(0), "UNKNOWN");
	CHECK_STR(ps_tcp_state_name(0xff), "UNKNOWN");
	CHECK_STR(ps_tcp_state_name(~0u), "UNKNOWN");
}

static void unix_fixture(void)
{
	size_t len, pos = 0;
	char *b = t_load_sample("net_unix", &len);
	struct ps_unix_sock u;
	CHECK_INT(ps_unix_next(b, len, &pos, &u), 1);
	CHECK_U64(u.num, 0xcb13c544ULL);
	CHECK_U64(u.refcount, 2);
	CHECK_U64(u.flags, 0x10000);
	CHECK_U64(u.type, 1);
	CHECK_U64(u.st, 1);
	CHECK_U64(u.inode, 7275);
	CHECK_MEM(u.path.p, u.path.len, "/tmp/ps sock");
	CHECK_INT(ps_unix_next(b, len, &pos, &u), 1);
	CHECK_U64(u.st, 3);
	CHECK_U64(u.inode, 651);
	CHECK_INT(u.path.len, 0);
	CHECK_INT(ps_unix_next(b, len, &pos, &u), 1);
	CHECK_INT(ps_unix_next(b, len, &pos, &u), 1);
	CHECK_U64(u.type, 2);
	CHECK_U64(u.inode, 7276);
	CHECK_MEM(u.path.p, u.path.len, "@ps-abstract");
	CHECK_INT(ps_unix_next(b, len, &pos, &u), 0);
	free(b);

	b = t_load_sample("net_unix.edge", &len);
	pos = 0;
	CHECK_INT(ps_unix_next(b, len, &pos, &u), 1);
	CHECK_U64(u.type, 5);
	CHECK_MEM(u.path.p, u.path.len, "/run/my socket dir/s p");
	CHECK_INT(ps_unix_next(b, len, &pos, &u), 1);
	CHECK_MEM(u.path.p, u.path.len, "@@x@y");
	CHECK_INT(ps_unix_next(b, len, &pos, &u), 1); /* no newline, no path */
	CHECK_U64(u.inode, 99003);
	CHECK_INT(u.path.len, 0);
	CHECK_INT(ps_unix_next(b, len, &pos, &u), 0);
	free(b);
	const char bad[] = "0000: 1 2 3 4 5\n\n0: 1 2 3 4 5 x\n";
	pos = 0;
	CHECK_INT(ps_unix_next(bad, sizeof(bad) - 1, &pos, &u), -1);
	CHECK_INT(ps_unix_next(bad, sizeof(bad) - 1, &pos, &u), -1);
	CHECK_INT(ps_unix_next(bad, sizeof(bad) - 1, &pos, &u), -1);
	CHECK_INT(ps_unix_next(bad, sizeof(bad) - 1, &pos, &u), 0);
}

static const struct t_case cases[] = {T(tcp_fixture), T(tcp6_udp_raw), T(tcp6_edge),
				      T(tcp_states),  T(unix_fixture), {0, 0}};
T_MAIN(cases)
