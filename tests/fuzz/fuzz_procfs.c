/*
 * fuzz_procfs.c - one libFuzzer harness for every procfs parser.
 *
 * The first input byte selects the parser (modulo FZ_NPARSERS), the rest is
 * the file content.  Besides "no crash, no sanitizer report", the driver
 * checks the contracts of procfs.h: every returned slice lies inside the
 * input, iterators always make progress and stay within [0, len], text
 * fields are NUL-terminated.  A violation aborts.
 *
 * tests/test_procfs_malformed.c includes this file with
 * PS_FUZZ_DRIVER_ONLY defined to run the same driver over samples/procfs/
 * without libFuzzer.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "procfs.h"

enum {
	FZ_STAT,
	FZ_MAPS,
	FZ_SMAPS,
	FZ_KV,
	FZ_STATM,
	FZ_STATUS,
	FZ_IO,
	FZ_NUL,
	FZ_LIMITS,
	FZ_CGROUP,
	FZ_FDINFO,
	FZ_LINK,
	FZ_MOUNTINFO,
	FZ_INET,
	FZ_UNIX,
	FZ_MODULES,
	FZ_LOADAVG,
	FZ_UPTIME,
	FZ_U64FILE,
	FZ_WORDS,
	FZ_UNESCAPE,
	FZ_PAGEMAP, /* procsnap's own pagemap.sections member (binary) */
	FZ_NPARSERS
};

static const char *const fz_names[FZ_NPARSERS] = {
    "stat",    "maps",	 "smaps",   "kv",    "statm",	  "status",  "io",   "nul",
    "limits",  "cgroup", "fdinfo",  "link",  "mountinfo", "inet",    "unix", "modules",
    "loadavg", "uptime", "u64file", "words", "unescape",  "pagemap",
};

static void fz_fail(const char *parser, const char *what)
{
	fprintf(stderr, "procfs contract violated: %s: %s\n", parser, what);
	abort();
}

/* A slice must lie within [buf, buf+len]; an empty one may also be NULL. */
static void fz_slice(const char *parser, const char *buf, size_t len, struct ps_str s)
{
	uintptr_t b = (uintptr_t)buf, p = (uintptr_t)s.p;
	if (s.len == 0 && !s.p)
		return;
	if (p < b || p > b + len || s.len > len || p - b > len - s.len)
		fz_fail(parser, "slice outside the input");
}

static void fz_cstr(const char *parser, const char *s, size_t cap)
{
	if (!memchr(s, '\0', cap))
		fz_fail(parser, "text field not NUL-terminated");
}

/* Iterator step check: returns 1 to go on. */
static int fz_step(const char *parser, int r, size_t before, size_t after, size_t len)
{
	if (r < -1 || r > 1)
		fz_fail(parser, "return value not in {-1, 0, 1}");
	if (after > len)
		fz_fail(parser, "pos beyond len");
	if (r == 0)
		return 0;
	if (after <= before)
		fz_fail(parser, "iterator made no progress");
	return 1;
}

static void fz_drive(unsigned sel, const char *buf, size_t len)
{
	const char *nm = fz_names[sel % FZ_NPARSERS];
	size_t pos = 0, before;
	int r;
	switch (sel % FZ_NPARSERS) {
	case FZ_STAT: {
		struct ps_stat st;
		r = ps_stat_parse(buf, len, &st);
		if (r != 0 && r != -1)
			fz_fail(nm, "bad return");
		fz_slice(nm, buf, len, st.comm);
		if (r == 0 && (!PS_STAT_HAS(&st, 22) || st.nfields < 22))
			fz_fail(nm, "success without starttime");
		break;
	}
	case FZ_MAPS: {
		struct ps_map m;
		do {
			before = pos;
			r = ps_maps_next(buf, len, &pos, &m);
			fz_slice(nm, buf, len, m.path);
			fz_cstr(nm, m.perms, sizeof(m.perms));
			if (r == 1 && m.start > m.end)
				fz_fail(nm, "start > end accepted");
		} while (fz_step(nm, r, before, pos, len));
		break;
	}
	case FZ_SMAPS: {
		struct ps_smaps s;
		do {
			before = pos;
			r = ps_smaps_next(buf, len, &pos, &s);
			fz_slice(nm, buf, len, s.map.path);
			fz_slice(nm, buf, len, s.vm_flags);
			fz_cstr(nm, s.map.perms, sizeof(s.map.perms));
		} while (fz_step(nm, r, before, pos, len));
		break;
	}
	case FZ_KV: {
		struct ps_kv kv;
		do {
			before = pos;
			r = ps_kv_next(buf, len, &pos, &kv);
			fz_slice(nm, buf, len, kv.key);
			fz_slice(nm, buf, len, kv.value);
			fz_slice(nm, buf, len, kv.unit);
			if (r == 1) {
				size_t np = 0, nb;
				uint64_t v;
				int rr;
				do {
					nb = np;
					rr = ps_nums_next(kv.value, &np, &v);
				} while (fz_step(nm, rr, nb, np, kv.value.len));
			}
		} while (fz_step(nm, r, before, pos, len));
		break;
	}
	case FZ_STATM: {
		struct ps_statm sm;
		(void)ps_statm_parse(buf, len, &sm);
		break;
	}
	case FZ_STATUS: {
		struct ps_status s;
		(void)ps_status_parse(buf, len, &s);
		fz_slice(nm, buf, len, s.name);
		fz_slice(nm, buf, len, s.groups);
		break;
	}
	case FZ_IO: {
		struct ps_io io;
		(void)ps_io_parse(buf, len, &io);
		break;
	}
	case FZ_NUL: {
		struct ps_str it, k, v;
		do {
			before = pos;
			r = ps_nul_next(buf, len, &pos, &it);
			fz_slice(nm, buf, len, it);
			if (r == 1) {
				(void)ps_env_split(it, &k, &v);
				fz_slice(nm, buf, len, k);
				fz_slice(nm, buf, len, v);
			}
		} while (fz_step(nm, r, before, pos, len));
		break;
	}
	case FZ_LIMITS: {
		struct ps_limit l;
		do {
			before = pos;
			r = ps_limits_next(buf, len, &pos, &l);
			fz_slice(nm, buf, len, l.name);
			fz_slice(nm, buf, len, l.units);
		} while (fz_step(nm, r, before, pos, len));
		break;
	}
	case FZ_CGROUP: {
		struct ps_cgroup c;
		do {
			before = pos;
			r = ps_cgroup_next(buf, len, &pos, &c);
			fz_slice(nm, buf, len, c.controllers);
			fz_slice(nm, buf, len, c.path);
		} while (fz_step(nm, r, before, pos, len));
		break;
	}
	case FZ_FDINFO: {
		struct ps_fdinfo fi;
		(void)ps_fdinfo_parse(buf, len, &fi);
		break;
	}
	case FZ_LINK: {
		/* each line as one readlink result, and the whole input too */
		struct ps_link l;
		struct ps_str it;
		(void)ps_link_parse(buf, len, &l);
		fz_slice(nm, buf, len, l.name);
		(void)ps_link_type_name(l.type);
		while (pos < len) {
			const char *s = buf + pos;
			const char *e = memchr(s, '\n', len - pos);
			it.p = s;
			it.len = e ? (size_t)(e - s) : len - pos;
			pos += it.len + 1;
			(void)ps_link_parse(it.p, it.len, &l);
			fz_slice(nm, buf, len, l.name);
		}
		break;
	}
	case FZ_MOUNTINFO: {
		struct ps_mountinfo m;
		char tmp[8];
		do {
			before = pos;
			r = ps_mountinfo_next(buf, len, &pos, &m);
			struct ps_str all[] = {m.root,	 m.mount_point, m.options,	m.optional,
					       m.fstype, m.source,	m.super_options};
			for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
				fz_slice(nm, buf, len, all[i]);
				if (ps_unescape_octal(tmp, sizeof(tmp), all[i]) > all[i].len)
					fz_fail(nm, "unescape grew the text");
				fz_cstr(nm, tmp, sizeof(tmp));
			}
		} while (fz_step(nm, r, before, pos, len));
		break;
	}
	case FZ_INET: {
		struct ps_inet_sock s;
		do {
			before = pos;
			r = ps_inet_next(buf, len, &pos, &s);
			fz_cstr(nm, s.local_text, sizeof(s.local_text));
			fz_cstr(nm, s.remote_text, sizeof(s.remote_text));
			fz_cstr(nm, ps_tcp_state_name(s.state), 32);
		} while (fz_step(nm, r, before, pos, len));
		break;
	}
	case FZ_UNIX: {
		struct ps_unix_sock u;
		do {
			before = pos;
			r = ps_unix_next(buf, len, &pos, &u);
			fz_slice(nm, buf, len, u.path);
		} while (fz_step(nm, r, before, pos, len));
		break;
	}
	case FZ_MODULES: {
		struct ps_module m;
		do {
			before = pos;
			r = ps_modules_next(buf, len, &pos, &m);
			fz_slice(nm, buf, len, m.name);
			fz_slice(nm, buf, len, m.used_by);
			fz_slice(nm, buf, len, m.state);
			fz_slice(nm, buf, len, m.taint);
		} while (fz_step(nm, r, before, pos, len));
		break;
	}
	case FZ_LOADAVG: {
		struct ps_loadavg la;
		(void)ps_loadavg_parse(buf, len, &la);
		break;
	}
	case FZ_UPTIME: {
		struct ps_uptime up;
		(void)ps_uptime_parse(buf, len, &up);
		break;
	}
	case FZ_U64FILE: {
		uint64_t v;
		(void)ps_u64_file_parse(buf, len, &v);
		break;
	}
	case FZ_WORDS: {
		struct ps_str s = {buf, len}, w;
		uint64_t v;
		int64_t i;
		do {
			before = pos;
			r = ps_words_next(s, &pos, &w);
			fz_slice(nm, buf, len, w);
			if (r == 1) {
				(void)ps_str_u64(w, &v);
				(void)ps_str_i64(w, &i);
				(void)ps_str_hex(w, &v);
			}
		} while (fz_step(nm, r, before, pos, len));
		pos = 0;
		do {
			before = pos;
			r = ps_nums_next(s, &pos, &v);
		} while (fz_step(nm, r, before, pos, len));
		break;
	}
	case FZ_UNESCAPE: {
		struct ps_str s = {buf, len};
		char small[3], big[256];
		size_t n = ps_unescape_octal(small, sizeof(small), s);
		if (n > len || ps_unescape_octal(NULL, 0, s) != n)
			fz_fail(nm, "unescape length");
		fz_cstr(nm, small, sizeof(small));
		if (len < sizeof(big)) {
			if (ps_unescape_octal(big, sizeof(big), s) != n || big[n] != '\0')
				fz_fail(nm, "unescape not terminated");
		}
		break;
	}
	case FZ_PAGEMAP: {
		/* Every section inside the input, ascending, counts consistent;
		 * counting and run compaction agree with the sections. */
		struct ps_pagemap_hdr h;
		struct ps_pagemap_section sec;
		if (ps_pagemap_open(buf, len, &h) != 0) {
			struct ps_pagemap_cursor c0;
			if (ps_pagemap_check(buf, len) != -1 ||
			    ps_pagemap_cursor_init(&c0, buf, len) != -1)
				fz_fail(nm, "bad header accepted elsewhere");
			break;
		}
		uint64_t prev_end = 0, total = 0, sa, se;
		int bad = 0;
		if (h.pos > len || h.pos != PS_PAGEMAP_HDR_LEN + h.nskip * 16)
			fz_fail(nm, "skipped ranges outside the input");
		for (uint64_t i = 0; i < h.nskip; i++) {
			if (ps_pagemap_skip(&h, i, &sa, &se) != 0 || sa >= se || sa < prev_end ||
			    sa % h.page_size || se % h.page_size)
				fz_fail(nm, "bad skipped range accepted");
			prev_end = se;
		}
		if (ps_pagemap_skip(&h, h.nskip, &sa, &se) != -1)
			fz_fail(nm, "skipped range past nskip");
		prev_end = 0;
		for (;;) {
			before = h.pos;
			r = ps_pagemap_next(&h, &sec);
			if (h.pos > len)
				fz_fail(nm, "pos beyond len");
			if (r == 0)
				break;
			if (r < 0) {
				bad = 1;
				if (ps_pagemap_next(&h, &sec) != 0)
					fz_fail(nm, "no end after a malformed section");
				break;
			}
			if (h.pos <= before)
				fz_fail(nm, "iterator made no progress");
			uintptr_t b = (uintptr_t)buf, e = (uintptr_t)sec.entries;
			if (sec.npages == 0 || e < b || e > b + len ||
			    sec.npages > (b + len - e) / 8)
				fz_fail(nm, "section entries outside the input");
			if (sec.start < prev_end || sec.start % h.page_size)
				fz_fail(nm, "section out of order or unaligned");
			prev_end = sec.start + sec.npages * h.page_size;
			uint64_t i = 0, covered = 0;
			struct ps_pagemap_run run;
			while (ps_pagemap_run_next(&sec, h.page_size, &i, &run) == 1) {
				if (run.npages == 0 ||
				    run.start != sec.start + covered * h.page_size)
					fz_fail(nm, "runs do not tile the section");
				covered += run.npages;
			}
			if (covered != sec.npages || i != sec.npages)
				fz_fail(nm, "runs do not cover the section");
			total += sec.npages;
		}
		if ((ps_pagemap_check(buf, len) != 0) != bad)
			fz_fail(nm, "check disagrees with the iteration");
		/* Whole address space, then each section's range, through a cursor. */
		struct ps_pagemap_cursor c;
		struct ps_pagemap_counts cnt;
		if (ps_pagemap_cursor_init(&c, buf, len) != 0)
			fz_fail(nm, "cursor refused a good header");
		r = ps_pagemap_count(&c, 0, UINT64_MAX, &cnt);
		if (r == 0 && !bad && cnt.present + cnt.swapped > 2 * total)
			fz_fail(nm, "counted more pages than stored");
		if ((r != 0) != bad)
			fz_fail(nm, "count disagrees with the iteration");
		if (ps_pagemap_open(buf, len, &h) == 0)
			while (ps_pagemap_next(&h, &sec) == 1)
				(void)ps_pagemap_count(&c, sec.start,
						       sec.start + h.page_size * 3 / 2, &cnt);
		struct ps_pme pme;
		for (size_t k = 0; k + 8 <= len && k < 64; k += 8) {
			uint64_t v;
			memcpy(&v, buf + k, 8);
			ps_pme_decode(v, &pme);
		}
		break;
	}
	default:
		break;
	}
}

#ifndef PS_FUZZ_DRIVER_ONLY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	fz_drive(data[0], (const char *)data + 1, size - 1);
	return 0;
}
#endif
