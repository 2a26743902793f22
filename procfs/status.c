/*
 * status.c - /proc/PID/status (fs/proc/array.c proc_pid_status).
 *
 * "Key:\tvalue\n" lines; the set of keys grows with kernel versions and
 * some depend on the config, so the parser is table driven and ignores keys
 * it does not know.
 */
#include "procfs.h"
#include "scan.h"

enum kind {
	K_I64,	  /* signed decimal */
	K_U64,	  /* unsigned decimal */
	K_KB,	  /* unsigned decimal followed by " kB" */
	K_HEX,	  /* 16 hex digits (signal and capability masks) */
	K_OCT,	  /* Umask */
	K_NAME,	  /* raw slice */
	K_STATE,  /* "S (sleeping)" */
	K_IDS,	  /* Uid/Gid: four decimals */
	K_GROUPS, /* slice */
	K_NS,	  /* NStgid...: first and last of a list */
	K_SIGQ,	  /* "queued/limit" */
};

#define F(key, kind, field)                                                                        \
	{                                                                                          \
		key, sizeof(key) - 1, kind, offsetof(struct ps_status, field)                      \
	}
static const struct {
	const char *key;
	size_t len;
	enum kind kind;
	size_t off;
} keys[] = {
    F("Name", K_NAME, name),
    F("Umask", K_OCT, umask),
    F("State", K_STATE, state),
    F("Tgid", K_I64, tgid),
    F("Ngid", K_I64, ngid),
    F("Pid", K_I64, pid),
    F("PPid", K_I64, ppid),
    F("TracerPid", K_I64, tracer_pid),
    F("Uid", K_IDS, uid),
    F("Gid", K_IDS, gid),
    F("FDSize", K_U64, fd_size),
    F("Groups", K_GROUPS, groups),
    F("NStgid", K_NS, nstgid_first),
    F("NSpid", K_NS, nspid_first),
    F("NSpgid", K_NS, nspgid_first),
    F("NSsid", K_NS, nssid_first),
    F("Kthread", K_I64, kthread),
    F("VmPeak", K_KB, vm_peak),
    F("VmSize", K_KB, vm_size),
    F("VmLck", K_KB, vm_lck),
    F("VmPin", K_KB, vm_pin),
    F("VmHWM", K_KB, vm_hwm),
    F("VmRSS", K_KB, vm_rss),
    F("RssAnon", K_KB, rss_anon),
    F("RssFile", K_KB, rss_file),
    F("RssShmem", K_KB, rss_shmem),
    F("VmData", K_KB, vm_data),
    F("VmStk", K_KB, vm_stk),
    F("VmExe", K_KB, vm_exe),
    F("VmLib", K_KB, vm_lib),
    F("VmPTE", K_KB, vm_pte),
    F("VmSwap", K_KB, vm_swap),
    F("HugetlbPages", K_KB, hugetlb_pages),
    F("CoreDumping", K_I64, core_dumping),
    F("Threads", K_I64, threads),
    F("SigQ", K_SIGQ, sigq_queued),
    F("SigPnd", K_HEX, sig_pnd),
    F("ShdPnd", K_HEX, shd_pnd),
    F("SigBlk", K_HEX, sig_blk),
    F("SigIgn", K_HEX, sig_ign),
    F("SigCgt", K_HEX, sig_cgt),
    F("CapInh", K_HEX, cap_inh),
    F("CapPrm", K_HEX, cap_prm),
    F("CapEff", K_HEX, cap_eff),
    F("CapBnd", K_HEX, cap_bnd),
    F("CapAmb", K_HEX, cap_amb),
    F("NoNewPrivs", K_I64, no_new_privs),
    F("Seccomp", K_I64, seccomp),
    F("Seccomp_filters", K_I64, seccomp_filters),
    F("voluntary_ctxt_switches", K_U64, voluntary_ctxt_switches),
    F("nonvoluntary_ctxt_switches", K_U64, nonvoluntary_ctxt_switches),
};
#undef F

static void status_init(struct ps_status *st, const char *buf)
{
	memset(st, 0, sizeof(*st));
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		char *f = (char *)st + keys[i].off;
		int64_t si = PS_I64_UNKNOWN;
		uint64_t u = PS_U64_UNKNOWN;
		switch (keys[i].kind) {
		case K_I64:
			memcpy(f, &si, sizeof(si));
			break;
		case K_NS:
			memcpy(f, &si, sizeof(si));
			memcpy(f + sizeof(si), &si, sizeof(si));
			break;
		case K_U64:
		case K_KB:
		case K_HEX:
		case K_OCT:
			memcpy(f, &u, sizeof(u));
			break;
		case K_SIGQ:
			memcpy(f, &u, sizeof(u));
			memcpy(f + sizeof(u), &u, sizeof(u));
			break;
		case K_IDS:
			for (int j = 0; j < 4; j++)
				memcpy(f + j * sizeof(u), &u, sizeof(u));
			break;
		case K_NAME:
		case K_GROUPS:
		case K_STATE:
			break;
		}
	}
	st->name.p = st->groups.p = buf;
}

/* Parse value [s, e) (blanks trimmed) into field f; 0 or -1. */
static int set_field(enum kind kind, char *f, const char *s, const char *e)
{
	struct ps_str t;
	uint64_t u;
	int64_t si;
	switch (kind) {
	case K_I64:
		if (dec_i64(s, e, &si) < 0)
			return -1;
		memcpy(f, &si, sizeof(si));
		return 0;
	case K_U64:
		if (dec_u64(s, e, &u) < 0)
			return -1;
		memcpy(f, &u, sizeof(u));
		return 0;
	case K_KB:
		if (!next_tok(&s, e, &t) || tok_u64(t, &u) < 0)
			return -1;
		memcpy(f, &u, sizeof(u));
		return 0;
	case K_HEX:
		if (hex_u64(s, e, &u) < 0)
			return -1;
		memcpy(f, &u, sizeof(u));
		return 0;
	case K_OCT:
		if (oct_u64(s, e, &u) < 0)
			return -1;
		memcpy(f, &u, sizeof(u));
		return 0;
	case K_STATE:
		if (s >= e)
			return -1;
		*f = *s;
		return 0;
	case K_GROUPS:
		t = mkstr(s, e);
		memcpy(f, &t, sizeof(t));
		return 0;
	case K_IDS: {
		uint64_t ids[4];
		for (int j = 0; j < 4; j++)
			if (!next_tok(&s, e, &t) || tok_u64(t, &ids[j]) < 0)
				return -1;
		if (next_tok(&s, e, &t))
			return -1;
		memcpy(f, ids, sizeof(ids));
		return 0;
	}
	case K_NS: {
		int64_t first, last;
		if (!next_tok(&s, e, &t) || tok_i64(t, &first) < 0)
			return -1;
		last = first;
		while (next_tok(&s, e, &t))
			if (tok_i64(t, &last) < 0)
				return -1;
		memcpy(f, &first, sizeof(first));
		memcpy(f + sizeof(first), &last, sizeof(last));
		return 0;
	}
	case K_SIGQ: {
		const char *sl = memchr(s, '/', (size_t)(e - s));
		uint64_t q[2];
		if (!sl || dec_u64(s, sl, &q[0]) < 0 || dec_u64(sl + 1, e, &q[1]) < 0)
			return -1;
		memcpy(f, q, sizeof(q));
		return 0;
	}
	case K_NAME:
		break;
	}
	return -1;
}

int ps_status_parse(const char *buf, size_t len, struct ps_status *out)
{
	const char *ls, *le;
	size_t pos = 0;
	int bad = 0, have_pid = 0;
	/* The kernel prints the keys in the table's order: the search starts
	 * after the last one found. */
	size_t hint = 0, nk = sizeof(keys) / sizeof(keys[0]);
	status_init(out, buf);
	while (next_line(buf, len, &pos, &ls, &le)) {
		const char *colon = memchr(ls, ':', (size_t)(le - ls));
		if (!colon)
			continue;
		size_t kl = (size_t)(colon - ls);
		for (size_t k = 0; k < nk; k++) {
			size_t i = (hint + k) % nk;
			if (keys[i].len != kl || memcmp(ls, keys[i].key, kl) != 0)
				continue;
			hint = i + 1;
			char *f = (char *)out + keys[i].off;
			const char *s = colon + 1;
			if (keys[i].kind == K_NAME) {
				/* "Name:\t%s\n": keep the name's own blanks */
				if (s < le && *s == '\t')
					s++;
				out->name = mkstr(s, le);
				break;
			}
			s = skip_blanks(s, le);
			if (set_field(keys[i].kind, f, s, rtrim(s, le)) < 0)
				bad = 1;
			else if (keys[i].kind == K_I64 && f == (char *)&out->pid)
				have_pid = 1;
			break;
		}
	}
	return bad || !have_pid ? -1 : 0;
}
