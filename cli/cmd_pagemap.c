/*
 * cmd_pagemap.c - procsnap pagemap SNAP PID [--mapping ADDR] [--format table|json]
 *
 * Page-level residency of one captured process, from its maps member and
 * its pagemap.sections member (schema/pagemap.md): a summary per mapping,
 * or with --mapping the page runs of the mapping holding ADDR, compacted
 * (same state and flags, consecutive PFNs).  The members are read back
 * through store.h and parsed with procfs.h: a malformed member is an error
 * (exit 2), never a crash.
 */
#include "cli.h"

#include "common.h"
#include "procfs.h"
#include "store.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static const char help[] =
    "usage: procsnap pagemap SNAP PID [--mapping ADDR] [--format table|json]\n"
    "Page residency of process PID from its pagemap sections: per mapping,\n"
    "pages, present, swapped, file/shared, exclusive, soft-dirty (\"-\" when\n"
    "the kernel does not track it) and whether PFNs were visible (root).\n\n"
    "  -m, --mapping ADDR   the mapping holding ADDR (hex): its page runs\n"
    "                       (state, flags, PFN ranges when visible)\n"
    "  -f, --format FMT     table (default) or json\n\n"
    "Exit status: 0 ok, 2 trouble (no such process or mapping, malformed member).\n";

struct pm_view {
	struct ps_pagemap_hdr h;
	const char *sec; /* member bytes */
	size_t sec_len;
	const char *maps;
	size_t maps_len;
};

static const char *sd_text(uint32_t flags)
{
	if (!(flags & PS_PAGEMAP_F_SD_KNOWN))
		return "unknown";
	return (flags & PS_PAGEMAP_F_SD_AVAIL) ? "available" : "unavailable";
}

static void json_sd_avail(struct ps_buf *b, uint32_t flags)
{
	ps_buf_adds(b, !(flags & PS_PAGEMAP_F_SD_KNOWN)	 ? "null"
		       : (flags & PS_PAGEMAP_F_SD_AVAIL) ? "true"
							 : "false");
}

static void json_counts(struct ps_buf *b, const struct ps_pagemap_counts *c)
{
	ps_buf_addf(b,
		    "\"pages\":%" PRIu64 ",\"present\":%" PRIu64 ",\"swapped\":%" PRIu64
		    ",\"file_or_shared\":%" PRIu64 ",\"exclusive\":%" PRIu64 ",\"soft_dirty\":",
		    c->pages, c->present, c->swapped, c->file_or_shared, c->exclusive);
	if (c->soft_dirty_valid)
		ps_buf_addf(b, "%" PRIu64, c->soft_dirty);
	else
		ps_buf_adds(b, "null");
	ps_buf_addf(b, ",\"pfn_visible\":%s,\"complete\":%s", c->pfn_visible ? "true" : "false",
		    c->complete ? "true" : "false");
}

static void json_map(struct ps_buf *b, const struct ps_map *m, const struct ps_pagemap_counts *c)
{
	ps_buf_addf(b,
		    "{\"start\":\"0x%" PRIx64 "\",\"end\":\"0x%" PRIx64 "\",\"perms\":", m->start,
		    m->end);
	ps_buf_add_json(b, m->perms, strlen(m->perms));
	ps_buf_adds(b, ",\"path\":");
	ps_buf_add_json(b, m->path.p ? m->path.p : "", m->path.len);
	ps_buf_addc(b, ',');
	json_counts(b, c);
	ps_buf_addc(b, '}');
}

static void json_head(struct ps_buf *b, long pid, const struct ps_pagemap_hdr *h)
{
	ps_buf_addf(
	    b, "{\"pid\":%ld,\"page_size\":%u,\"pfn_visible\":%s,\"soft_dirty_available\":", pid,
	    (unsigned)h->page_size, (h->flags & PS_PAGEMAP_F_PFN_VISIBLE) ? "true" : "false");
	json_sd_avail(b, h->flags);
	ps_buf_addf(b, ",\"truncated\":%s,\"incomplete\":%s,\"unexamined\":[",
		    (h->flags & PS_PAGEMAP_F_TRUNCATED) ? "true" : "false",
		    (h->flags & PS_PAGEMAP_F_INCOMPLETE) ? "true" : "false");
	uint64_t a, e;
	for (uint64_t i = 0; ps_pagemap_skip(h, i, &a, &e) == 0; i++)
		ps_buf_addf(b, "%s{\"start\":\"0x%" PRIx64 "\",\"end\":\"0x%" PRIx64 "\"}",
			    i ? "," : "", a, e);
	ps_buf_addc(b, ']');
}

static void table_head(long pid, const struct ps_pagemap_hdr *h)
{
	printf("pid %ld: page size %u, PFNs %s, soft-dirty %s", pid, (unsigned)h->page_size,
	       (h->flags & PS_PAGEMAP_F_PFN_VISIBLE) ? "visible" : "not visible",
	       sd_text(h->flags));
	if (h->nskip)
		printf(", %" PRIu64 " range%s not examined (%s)", h->nskip,
		       h->nskip == 1 ? "" : "s",
		       (h->flags & PS_PAGEMAP_F_INCOMPLETE) ? "read error" : "--pagemap-max");
	putchar('\n');
}

static void sd_cell(char *out, size_t n, const struct ps_pagemap_counts *c)
{
	if (c->soft_dirty_valid)
		snprintf(out, n, "%" PRIu64, c->soft_dirty);
	else
		snprintf(out, n, "-");
}

static void add_counts(struct ps_pagemap_counts *t, const struct ps_pagemap_counts *c)
{
	t->pages += c->pages;
	t->examined += c->examined;
	t->present += c->present;
	t->swapped += c->swapped;
	t->file_or_shared += c->file_or_shared;
	t->exclusive += c->exclusive;
	t->soft_dirty += c->soft_dirty;
	t->soft_dirty_valid = c->soft_dirty_valid;
	t->pfn_visible |= c->pfn_visible;
	t->complete = t->examined == t->pages;
}

static int summary(const struct pm_view *v, long pid, int json)
{
	struct ps_pagemap_cursor cur;
	struct ps_pagemap_counts c, tot;
	struct ps_map m;
	size_t pos = 0;
	int r, first = 1;
	if (ps_pagemap_cursor_init(&cur, v->sec, v->sec_len) < 0)
		return cli_fail("pagemap", "pid %ld: malformed pagemap sections header", pid);
	memset(&tot, 0, sizeof(tot));
	tot.complete = 1;
	struct ps_buf b = PS_BUF_INIT;
	if (json) {
		json_head(&b, pid, &v->h);
		ps_buf_adds(&b, ",\"mappings\":[");
	} else {
		table_head(pid, &v->h);
		printf("%-12s %-12s %-4s %8s %8s %8s %8s %8s %9s %-3s %s\n", "START", "END", "PERM",
		       "PAGES", "PRESENT", "SWAPPED", "FILE", "EXCL", "SOFTDIRTY", "PFN", "PATH");
	}
	while ((r = ps_maps_next(v->maps, v->maps_len, &pos, &m)) != 0) {
		if (r < 0)
			continue;
		if (ps_pagemap_count(&cur, m.start, m.end, &c) < 0) {
			ps_buf_release(&b);
			return cli_fail("pagemap", "pid %ld: malformed pagemap sections", pid);
		}
		if (ps_str_eq(m.path, "[vsyscall]"))
			c.examined = c.pages, c.complete = 1; /* never read by design */
		add_counts(&tot, &c);
		if (json) {
			if (!first)
				ps_buf_addc(&b, ',');
			json_map(&b, &m, &c);
		} else {
			char sd[32];
			struct ps_buf perms = PS_BUF_INIT, path = PS_BUF_INIT;
			sd_cell(sd, sizeof(sd), &c);
			/* perms and path come from the captured maps member. */
			ps_buf_add_terms(&perms, m.perms);
			ps_buf_add_term(&path, m.path.p ? m.path.p : "", m.path.len);
			printf("%012" PRIx64 " %012" PRIx64 " %-4s %8" PRIu64 " %8" PRIu64
			       " %8" PRIu64 " %8" PRIu64 " %8" PRIu64 " %9s %-3s %s%s\n",
			       m.start, m.end, perms.buf, c.pages, c.present, c.swapped,
			       c.file_or_shared, c.exclusive, sd, c.pfn_visible ? "yes" : "-",
			       path.buf, c.complete ? "" : " [not fully examined]");
			ps_buf_release(&perms);
			ps_buf_release(&path);
		}
		first = 0;
	}
	tot.soft_dirty_valid =
	    (v->h.flags & PS_PAGEMAP_F_SD_KNOWN) && (v->h.flags & PS_PAGEMAP_F_SD_AVAIL);
	if (json) {
		ps_buf_adds(&b, "],\"totals\":{");
		json_counts(&b, &tot);
		ps_buf_adds(&b, "}}\n");
		fwrite(b.buf, 1, b.len, stdout);
	} else {
		char sd[32];
		sd_cell(sd, sizeof(sd), &tot);
		printf("%-12s %-12s %-4s %8" PRIu64 " %8" PRIu64 " %8" PRIu64 " %8" PRIu64
		       " %8" PRIu64 " %9s %-3s\n",
		       "total", "", "", tot.pages, tot.present, tot.swapped, tot.file_or_shared,
		       tot.exclusive, sd, tot.pfn_visible ? "yes" : "-");
	}
	ps_buf_release(&b);
	return 0;
}

static const char *run_state(uint64_t flags)
{
	if (flags & PS_PME_PRESENT)
		return "present";
	if (flags & PS_PME_SWAPPED)
		return "swapped";
	return "none";
}

static void run_flags(char *out, uint64_t flags)
{
	/* d soft-dirty, x exclusive, f file/shared anon, w uffd-wp, g guard */
	out[0] = (flags & PS_PME_SOFT_DIRTY) ? 'd' : '-';
	out[1] = (flags & PS_PME_EXCLUSIVE) ? 'x' : '-';
	out[2] = (flags & PS_PME_FILE) ? 'f' : '-';
	out[3] = (flags & PS_PME_UFFD_WP) ? 'w' : '-';
	out[4] = (flags & PS_PME_GUARD) ? 'g' : '-';
	out[5] = '\0';
}

static int runs(const struct pm_view *v, long pid, uint64_t addr, int json)
{
	struct ps_map m;
	size_t pos = 0;
	int r, found = 0;
	while ((r = ps_maps_next(v->maps, v->maps_len, &pos, &m)) != 0) {
		if (r > 0 && m.start <= addr && addr < m.end) {
			found = 1;
			break;
		}
	}
	if (!found)
		return cli_fail("pagemap", "pid %ld: no mapping holds 0x%" PRIx64, pid, addr);

	struct ps_pagemap_cursor cur;
	struct ps_pagemap_counts c;
	if (ps_pagemap_cursor_init(&cur, v->sec, v->sec_len) < 0 ||
	    ps_pagemap_count(&cur, m.start, m.end, &c) < 0)
		return cli_fail("pagemap", "pid %ld: malformed pagemap sections", pid);

	const uint64_t ps = v->h.page_size;
	struct ps_buf b = PS_BUF_INIT;
	if (json) {
		json_head(&b, pid, &v->h);
		ps_buf_adds(&b, ",\"mapping\":");
		json_map(&b, &m, &c);
		ps_buf_adds(&b, ",\"runs\":[");
	} else {
		char sd[32];
		sd_cell(sd, sizeof(sd), &c);
		struct ps_buf perms = PS_BUF_INIT, path = PS_BUF_INIT;
		ps_buf_add_terms(&perms, m.perms);
		ps_buf_add_term(&path, m.path.p ? m.path.p : "", m.path.len);
		table_head(pid, &v->h);
		printf("mapping %012" PRIx64 "-%012" PRIx64 " %s %s\n", m.start, m.end, perms.buf,
		       path.buf);
		ps_buf_release(&perms);
		ps_buf_release(&path);
		printf("  %" PRIu64 " pages: %" PRIu64 " present, %" PRIu64 " swapped, %" PRIu64
		       " file/shared, %" PRIu64 " exclusive, soft-dirty %s%s\n",
		       c.pages, c.present, c.swapped, c.file_or_shared, c.exclusive, sd,
		       c.complete ? "" : " (not fully examined)");
		printf("%8s %-12s %8s %-8s %-5s %s\n", "PAGE", "ADDRESS", "PAGES", "STATE", "FLAGS",
		       "PFN");
	}

	/* The sections overlapping the mapping, clipped to it. */
	struct ps_pagemap_hdr h;
	struct ps_pagemap_section s;
	int first = 1;
	ps_pagemap_open(v->sec, v->sec_len, &h);
	while ((r = ps_pagemap_next(&h, &s)) == 1) {
		uint64_t s_end = s.start + s.npages * ps;
		if (s_end <= m.start)
			continue;
		if (s.start >= m.end)
			break;
		uint64_t i0 = s.start < m.start ? (m.start - s.start) / ps : 0;
		uint64_t i1 = s_end > m.end ? (m.end - s.start + ps - 1) / ps : s.npages;
		struct ps_pagemap_section sub = {s.start + i0 * ps, i1 - i0, s.entries + i0 * 8};
		struct ps_pagemap_run run;
		uint64_t i = 0;
		while (ps_pagemap_run_next(&sub, (uint32_t)ps, &i, &run) == 1) {
			uint64_t page = (run.start - m.start) / ps;
			char fl[6];
			run_flags(fl, run.flags);
			if (json) {
				ps_buf_addf(&b,
					    "%s{\"start\":\"0x%" PRIx64 "\",\"page\":%" PRIu64
					    ",\"pages\":%" PRIu64
					    ",\"state\":\"%s\",\"soft_dirty\":%s,"
					    "\"exclusive\":%s,\"file_or_shared\":%s,\"uffd_wp\":%s,"
					    "\"guard\":%s,\"pfn_first\":",
					    first ? "" : ",", run.start, page, run.npages,
					    run_state(run.flags), fl[0] != '-' ? "true" : "false",
					    fl[1] != '-' ? "true" : "false",
					    fl[2] != '-' ? "true" : "false",
					    fl[3] != '-' ? "true" : "false",
					    fl[4] != '-' ? "true" : "false");
				if (run.pfn)
					ps_buf_addf(
					    &b, "\"0x%" PRIx64 "\",\"pfn_last\":\"0x%" PRIx64 "\"}",
					    run.pfn, run.pfn + run.npages - 1);
				else
					ps_buf_adds(&b, "null,\"pfn_last\":null}");
			} else {
				char pfn[64] = "-";
				if (run.pfn && run.npages > 1)
					snprintf(pfn, sizeof(pfn), "0x%" PRIx64 "-0x%" PRIx64,
						 run.pfn, run.pfn + run.npages - 1);
				else if (run.pfn)
					snprintf(pfn, sizeof(pfn), "0x%" PRIx64, run.pfn);
				printf("%8" PRIu64 " %012" PRIx64 " %8" PRIu64 " %-8s %-5s %s\n",
				       page, run.start, run.npages, run_state(run.flags), fl, pfn);
			}
			first = 0;
		}
	}
	if (r < 0) {
		ps_buf_release(&b);
		return cli_fail("pagemap", "pid %ld: malformed pagemap sections", pid);
	}
	if (json) {
		ps_buf_adds(&b, "]}\n");
		fwrite(b.buf, 1, b.len, stdout);
	}
	ps_buf_release(&b);
	return 0;
}

int cmd_pagemap(const struct ps_cli *cli, int argc, char **argv)
{
	(void)cli;
	static const struct option longopts[] = {{"mapping", required_argument, NULL, 'm'},
						 {"format", required_argument, NULL, 'f'},
						 {"help", no_argument, NULL, 'h'},
						 {NULL, 0, NULL, 0}};
	const char *mapping = NULL, *format = "table";
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "m:f:h", longopts, NULL)) != -1) {
		if (c == 'm')
			mapping = optarg;
		else if (c == 'f')
			format = optarg;
		else if (c == 'h') {
			fputs(help, stdout);
			return 0;
		} else
			return cli_bad_option("pagemap", "m:f:h", longopts, argv);
	}
	if (argc - optind != 2)
		return cli_usage("pagemap", "expects SNAP PID");
	int json = strcmp(format, "json") == 0;
	if (!json && strcmp(format, "table") != 0)
		return cli_usage("pagemap", "--format is table or json, not '%s'", format);
	char *end;
	errno = 0;
	long pid = strtol(argv[optind + 1], &end, 10);
	if (errno || *end || pid <= 0 || pid > 0x7fffffff)
		return cli_usage("pagemap", "bad PID '%s'", argv[optind + 1]);
	uint64_t addr = 0;
	if (mapping) {
		const char *p = mapping;
		if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
			p += 2;
		errno = 0;
		unsigned long long a = strtoull(p, &end, 16);
		if (errno || *end || end == p)
			return cli_usage("pagemap", "bad address '%s' (hex)", mapping);
		addr = a;
	}

	struct ps_snap *s = NULL;
	struct ps_err err = {0, ""};
	struct ps_buf maps = PS_BUF_INIT, sec = PS_BUF_INIT, path = PS_BUF_INIT;
	int rc = 2, kind = -1;
	if (ps_snap_open(argv[optind], &s, &err) < 0) {
		rc = cli_fail("pagemap", "%s", err.msg);
		goto out;
	}
	ps_buf_addf(&path, "proc/%ld/pagemap.sections", pid);
	if (ps_snap_read(s, path.buf, &sec, &kind, &err) < 0) {
		rc = cli_fail("pagemap", "%s", err.msg);
		goto out;
	}
	if (kind != PS_M_FILE) {
		rc = cli_fail("pagemap", "%s: not a file in the snapshot", path.buf);
		goto out;
	}
	ps_buf_reset(&path);
	ps_buf_addf(&path, "proc/%ld/maps", pid);
	if (ps_snap_read(s, path.buf, &maps, &kind, &err) < 0) {
		rc = cli_fail("pagemap", "%s", err.msg);
		goto out;
	}
	struct pm_view v;
	memset(&v, 0, sizeof(v));
	if (ps_pagemap_check(sec.buf, sec.len) < 0 || ps_pagemap_open(sec.buf, sec.len, &v.h) < 0) {
		rc = cli_fail("pagemap",
			      "proc/%ld/pagemap.sections: malformed member (bad magic, "
			      "version, or section counts)",
			      pid);
		goto out;
	}
	v.sec = sec.buf;
	v.sec_len = sec.len;
	v.maps = maps.buf;
	v.maps_len = maps.len;
	rc = mapping ? runs(&v, pid, addr, json) : summary(&v, pid, json);
out:
	ps_snap_close(s);
	ps_buf_release(&maps);
	ps_buf_release(&sec);
	ps_buf_release(&path);
	return rc;
}
