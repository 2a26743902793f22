/*
 * stat.c - /proc/PID/stat.
 *
 * proc(5): "%d (%s) %c %d %d ..." - 52 fields since Linux 3.5.  comm is
 * user-controlled (prctl(PR_SET_NAME), up to 15 bytes, any byte but NUL), so
 * like procps and htop we take the text between the first '(' and the LAST
 * ')'; everything after that ')' is kernel-generated numbers.
 */
#include <stddef.h>

#include "procfs.h"
#include "scan.h"

enum { K_NONE, K_I64, K_U64 };

/* Where each numeric field (4..52) goes and whether the kernel prints it
 * signed (%d, %ld) or unsigned (%u, %lu, %llu). */
static const struct {
	unsigned short off;
	unsigned char kind;
} fields[PS_STAT_MAXFIELD + 1] = {
#define I(n, f) [n] = {offsetof(struct ps_stat, f), K_I64}
#define U(n, f) [n] = {offsetof(struct ps_stat, f), K_U64}
    I(4, ppid),		I(5, pgrp),	    I(6, session),
    I(7, tty_nr),	I(8, tpgid),	    U(9, flags),
    U(10, minflt),	U(11, cminflt),	    U(12, majflt),
    U(13, cmajflt),	U(14, utime),	    U(15, stime),
    I(16, cutime),	I(17, cstime),	    I(18, priority),
    I(19, nice),	I(20, num_threads), I(21, itrealvalue),
    U(22, starttime),	U(23, vsize),	    I(24, rss),
    U(25, rsslim),	U(26, startcode),   U(27, endcode),
    U(28, startstack),	U(29, kstkesp),	    U(30, kstkeip),
    U(31, signal),	U(32, blocked),	    U(33, sigignore),
    U(34, sigcatch),	U(35, wchan),	    U(36, nswap),
    U(37, cnswap),	I(38, exit_signal), I(39, processor),
    U(40, rt_priority), U(41, policy),	    U(42, delayacct_blkio_ticks),
    U(43, guest_time),	I(44, cguest_time), U(45, start_data),
    U(46, end_data),	U(47, start_brk),   U(48, arg_start),
    U(49, arg_end),	U(50, env_start),   U(51, env_end),
    I(52, exit_code),
#undef I
#undef U
};

static void stat_init(struct ps_stat *st, const char *buf)
{
	memset(st, 0, sizeof(*st));
	st->pid = PS_I64_UNKNOWN;
	st->comm.p = buf;
	for (int n = 4; n <= PS_STAT_MAXFIELD; n++) {
		char *f = (char *)st + fields[n].off;
		if (fields[n].kind == K_I64) {
			int64_t v = PS_I64_UNKNOWN;
			memcpy(f, &v, sizeof(v));
		} else {
			uint64_t v = PS_U64_UNKNOWN;
			memcpy(f, &v, sizeof(v));
		}
	}
}

int ps_stat_parse(const char *buf, size_t len, struct ps_stat *out)
{
	int bad = 0;
	stat_init(out, buf);
	if (!buf || len == 0)
		return -1;
	const char *e = buf + len;
	const char *lp = memchr(buf, '(', len);
	if (!lp)
		return -1;

	/* field 1: pid, before the '(' */
	const char *ps = skip_blanks(buf, lp);
	const char *pe = rtrim(ps, lp);
	out->nfields = 1;
	if (dec_i64(ps, pe, &out->pid) == 0)
		out->present |= 1u << 1;
	else
		bad = 1;

	/* field 2: comm, up to the last ')' */
	const char *rp = NULL;
	for (const char *q = e; q > lp + 1; q--) {
		if (q[-1] == ')') {
			rp = q - 1;
			break;
		}
	}
	if (!rp) {
		out->comm = mkstr(lp + 1, e);
		return -1;
	}
	out->comm = mkstr(lp + 1, rp);
	out->present |= 1u << 2;
	out->nfields = 2;

	/* fields 3..: one line of blank-separated tokens */
	const char *p = rp + 1;
	const char *nl = memchr(p, '\n', (size_t)(e - p));
	const char *le = nl ? nl : e;
	struct ps_str tok;
	int n = 3;
	while (next_tok(&p, le, &tok)) {
		out->nfields = n;
		if (n == 3) {
			if (tok.len == 1) {
				out->state = tok.p[0];
				out->present |= 1u << 3;
			} else {
				bad = 1;
			}
		} else if (n <= PS_STAT_MAXFIELD) {
			char *f = (char *)out + fields[n].off;
			if (fields[n].kind == K_I64) {
				int64_t v;
				if (tok_i64(tok, &v) == 0) {
					memcpy(f, &v, sizeof(v));
					out->present |= (uint64_t)1 << n;
				} else {
					bad = 1;
				}
			} else {
				uint64_t v;
				if (tok_u64(tok, &v) == 0) {
					memcpy(f, &v, sizeof(v));
					out->present |= (uint64_t)1 << n;
				} else {
					bad = 1;
				}
			}
		}
		if (n < 1000000)
			n++;
	}
	/* fields 1..22 make the identity (pid, starttime): required */
	uint64_t need = (((uint64_t)1 << 23) - 1) & ~(uint64_t)1;
	if ((out->present & need) != need)
		bad = 1;
	return bad ? -1 : 0;
}
