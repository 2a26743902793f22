/*
 * net.c - /proc/net/{tcp,tcp6,udp,udp6,raw,raw6,udplite,udplite6} and
 * /proc/net/unix, /proc/net/packet, and /proc/sysvipc/shm (a table of the
 * same shape).
 *
 * IPv4 rows (net/ipv4/tcp_ipv4.c get_tcp4_sock):
 *   "%4d: %08X:%04X %08X:%04X %02X %08X:%08X %02X:%08lX %08X %5u %8d %lu ..."
 * IPv6 rows print the address as four "%08X" words.  Each word is a __be32
 * read as a host u32, so its digits are in the capturing host's byte order:
 * 127.0.0.1 shows as "0100007F" on little-endian machines.
 */
#include <arpa/inet.h>
#include <sys/socket.h>

#include "procfs.h"
#include "scan.h"

/* "HEXADDR:HEXPORT" with 8 or 32 address digits; returns the family or -1. */
static int inet_endpoint(struct ps_str t, uint8_t addr[16], uint16_t *port, char *text)
{
	const char *colon = memchr(t.p, ':', t.len);
	uint64_t v;
	if (!colon)
		return -1;
	size_t n = (size_t)(colon - t.p);
	if (n != 8 && n != 32)
		return -1;
	memset(addr, 0, 16);
	for (size_t i = 0; i < n / 8; i++) {
		if (hex_u64(t.p + 8 * i, t.p + 8 * i + 8, &v) < 0)
			return -1;
		uint32_t w = (uint32_t)v;
		memcpy(addr + 4 * i, &w, 4); /* host order, see above */
	}
	if (hex_u64(colon + 1, t.p + t.len, &v) < 0 || v > 0xffff)
		return -1;
	*port = (uint16_t)v;
	int af = n == 8 ? AF_INET : AF_INET6;
	if (!inet_ntop(af, addr, text, PS_INET_ADDRSTRLEN))
		text[0] = '\0';
	return af;
}

/* "HEX:HEX" */
static int hex_pair(struct ps_str t, uint64_t *a, uint64_t *b)
{
	const char *colon = memchr(t.p, ':', t.len);
	if (!colon || hex_u64(t.p, colon, a) < 0 || hex_u64(colon + 1, t.p + t.len, b) < 0)
		return -1;
	return 0;
}

static void inet_init(struct ps_inet_sock *s)
{
	memset(s, 0, sizeof(*s));
	s->sl = s->tx_queue = s->rx_queue = s->uid = s->inode = PS_U64_UNKNOWN;
	s->family = -1;
	s->state = 0;
}

static int inet_row(const char *p, const char *le, struct ps_inet_sock *out)
{
	struct ps_str t;
	uint64_t v, w;
	int af;
	/* "sl:" */
	if (!next_tok(&p, le, &t) || t.len < 2 || t.p[t.len - 1] != ':' ||
	    dec_u64(t.p, t.p + t.len - 1, &out->sl) < 0) {
		out->sl = PS_U64_UNKNOWN;
		return -1;
	}
	if (!next_tok(&p, le, &t) ||
	    (af = inet_endpoint(t, out->local_addr, &out->local_port, out->local_text)) < 0)
		return -1;
	out->family = af;
	if (!next_tok(&p, le, &t) ||
	    inet_endpoint(t, out->remote_addr, &out->remote_port, out->remote_text) != af)
		return -1;
	if (!next_tok(&p, le, &t) || tok_hex(t, &v) < 0 || v > 0xff)
		return -1;
	out->state = (unsigned)v;
	if (!next_tok(&p, le, &t) || hex_pair(t, &v, &w) < 0)
		return -1;
	out->tx_queue = v;
	out->rx_queue = w;
	/* tr:tm->when, retrnsmt */
	if (!next_tok(&p, le, &t) || hex_pair(t, &v, &w) < 0)
		return -1;
	if (!next_tok(&p, le, &t) || tok_hex(t, &v) < 0)
		return -1;
	if (!next_tok(&p, le, &t) || tok_u64(t, &out->uid) < 0) {
		out->uid = PS_U64_UNKNOWN;
		return -1;
	}
	/* timeout: %8d, may be negative on old kernels */
	int64_t to;
	if (!next_tok(&p, le, &t) || tok_i64(t, &to) < 0)
		return -1;
	if (!next_tok(&p, le, &t) || tok_u64(t, &out->inode) < 0) {
		out->inode = PS_U64_UNKNOWN;
		return -1;
	}
	return 0; /* refcount, pointer, cwnd... follow; not needed */
}

int ps_inet_next(const char *buf, size_t len, size_t *pos, struct ps_inet_sock *out)
{
	const char *ls, *le;
	for (;;) {
		inet_init(out);
		if (!next_line(buf, len, pos, &ls, &le))
			return 0;
		const char *p = ls;
		struct ps_str t;
		if (next_tok(&p, le, &t) && ps_str_eq(t, "sl"))
			continue; /* header */
		return inet_row(ls, le, out) == 0 ? 1 : -1;
	}
}

const char *ps_tcp_state_name(unsigned state)
{
	/* include/net/tcp_states.h */
	static const char *const names[] = {
	    NULL,	 "ESTABLISHED", "SYN_SENT",	"SYN_RECV",	  "FIN_WAIT1",
	    "FIN_WAIT2", "TIME_WAIT",	"CLOSE",	"CLOSE_WAIT",	  "LAST_ACK",
	    "LISTEN",	 "CLOSING",	"NEW_SYN_RECV", "BOUND_INACTIVE",
	};
	if (state < sizeof(names) / sizeof(names[0]) && names[state])
		return names[state];
	return "UNKNOWN";
}

/*
 * net/unix/af_unix.c unix_seq_show:
 *   "%pK: %08X %08X %08X %04X %02X %5lu" then, if bound, ' ' and the path
 *   (an abstract name starts with '@', its NULs shown as '@').
 */
int ps_unix_next(const char *buf, size_t len, size_t *pos, struct ps_unix_sock *out)
{
	const char *ls, *le;
	for (;;) {
		memset(out, 0, sizeof(*out));
		out->num = out->refcount = out->protocol = out->flags = PS_U64_UNKNOWN;
		out->type = out->st = out->inode = PS_U64_UNKNOWN;
		out->path.p = buf;
		if (!next_line(buf, len, pos, &ls, &le))
			return 0;
		const char *p = ls;
		struct ps_str t;
		if (!next_tok(&p, le, &t))
			return -1;
		if (ps_str_eq(t, "Num"))
			continue; /* header */
		if (t.len < 2 || t.p[t.len - 1] != ':' ||
		    hex_u64(t.p, t.p + t.len - 1, &out->num) < 0) {
			out->num = PS_U64_UNKNOWN;
			return -1;
		}
		uint64_t *hex[] = {&out->refcount, &out->protocol, &out->flags, &out->type,
				   &out->st};
		for (size_t i = 0; i < sizeof(hex) / sizeof(hex[0]); i++) {
			if (!next_tok(&p, le, &t) || tok_hex(t, hex[i]) < 0) {
				*hex[i] = PS_U64_UNKNOWN;
				return -1;
			}
		}
		if (!next_tok(&p, le, &t) || tok_u64(t, &out->inode) < 0) {
			out->inode = PS_U64_UNKNOWN;
			return -1;
		}
		/* one ' ', then the path as is (it may start with or hold blanks) */
		if (p < le && *p == ' ')
			p++;
		out->path = mkstr(p, le);
		return 1;
	}
}

/*
 * net/packet/af_packet.c packet_seq_show:
 *   "%pK %-6d %-4d %04x   %-5d %1d %-6u %-6u %-6lu"
 * (sk, refcount, type, ntohs(num), ifindex, running, rmem, uid, inode).
 */
int ps_packet_next(const char *buf, size_t len, size_t *pos, struct ps_packet_sock *out)
{
	const char *ls, *le;
	for (;;) {
		memset(out, 0, sizeof(*out));
		out->refcount = out->type = out->proto = out->running = PS_U64_UNKNOWN;
		out->rmem = out->uid = out->inode = PS_U64_UNKNOWN;
		out->ifindex = PS_I64_UNKNOWN;
		if (!next_line(buf, len, pos, &ls, &le))
			return 0;
		const char *p = ls;
		struct ps_str t;
		uint64_t sk;
		if (!next_tok(&p, le, &t))
			return -1;
		if (ps_str_eq(t, "sk"))
			continue; /* header */
		if (tok_hex(t, &sk) < 0 || !next_tok(&p, le, &t) ||
		    tok_u64(t, &out->refcount) < 0 || !next_tok(&p, le, &t) ||
		    tok_u64(t, &out->type) < 0 || !next_tok(&p, le, &t) ||
		    tok_hex(t, &out->proto) < 0 || out->proto > 0xffff || !next_tok(&p, le, &t) ||
		    tok_i64(t, &out->ifindex) < 0 || !next_tok(&p, le, &t) ||
		    tok_u64(t, &out->running) < 0 || !next_tok(&p, le, &t) ||
		    tok_u64(t, &out->rmem) < 0 || !next_tok(&p, le, &t) ||
		    tok_u64(t, &out->uid) < 0 || !next_tok(&p, le, &t) ||
		    tok_u64(t, &out->inode) < 0) {
			out->inode = PS_U64_UNKNOWN;
			return -1;
		}
		return 1;
	}
}

/*
 * ipc/shm.c sysvipc_shm_proc_show:
 *   "%10d %10d  %4o %21lu %5u %5u  %5lu %5u %5u %5u %5u %10llu %10llu %10llu
 *    %21lu %21lu" (key, shmid, mode, size, cpid, lpid, nattch, uid, gid,
 * cuid, cgid, atime, dtime, ctime, rss, swap; the last two since 2.6.28).
 */
int ps_shm_next(const char *buf, size_t len, size_t *pos, struct ps_shm *out)
{
	const char *ls, *le;
	for (;;) {
		memset(out, 0, sizeof(*out));
		uint64_t *num[] = {&out->shmid,	 &out->perms, &out->size,  &out->cpid, &out->lpid,
				   &out->nattch, &out->uid,   &out->gid,   &out->cuid, &out->cgid,
				   &out->atime,	 &out->dtime, &out->ctime, &out->rss,  &out->swap};
		const size_t nnum = sizeof(num) / sizeof(num[0]);
		for (size_t i = 0; i < nnum; i++)
			*num[i] = PS_U64_UNKNOWN;
		out->key = PS_I64_UNKNOWN;
		if (!next_line(buf, len, pos, &ls, &le))
			return 0;
		const char *p = ls;
		struct ps_str t;
		if (!next_tok(&p, le, &t))
			return -1;
		if (ps_str_eq(t, "key"))
			continue; /* header */
		if (tok_i64(t, &out->key) < 0) {
			out->key = PS_I64_UNKNOWN;
			return -1;
		}
		for (size_t i = 0; i < nnum; i++) {
			int r = !next_tok(&p, le, &t) ? -2
				: i == 1	      ? oct_u64(t.p, t.p + t.len, num[i])
						      : tok_u64(t, num[i]);
			if (r == -2 && i >= 13)
				break; /* rss and swap: older kernels */
			if (r != 0) {
				*num[i] = PS_U64_UNKNOWN;
				return -1;
			}
		}
		return 1;
	}
}
