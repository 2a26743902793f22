/*
 * test_pagemap_live.c - pagemap.sections end to end (issue 4).
 *
 * A child of ours maps M = 64 anonymous pages between two PROT_NONE guard
 * pages (so the kernel cannot merge it with a neighbour) and touches exactly
 * K = 3 of them (0, 3, 7); it is captured with `procsnap capture --pid`, and
 * the snapshot must say present = 3 for that mapping (procfs counts on the
 * member, `procsnap pagemap --format json`, and the index once
 * process_memory_map is filled) and name exactly those pages as present
 * runs.  Also: PFNs as root, --no-pagemap, --pagemap-max truncation,
 * PAGEMAP_SCAN vs forced plain reads byte for byte on stopped processes, a
 * 1 GiB reservation stored as 3 entries, kernel threads (ESRCH), capture as
 * an unprivileged user (no PFNs), and an ordinary --root tree (absent).
 */
#include "t.h"
#include "tutil.h"

#include "capture.h"
#include "procfs.h"
#include "store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#define M 64
static const int touched[] = {0, 3, 7};
#define K 3

static struct ps_buf out = PS_BUF_INIT;
static long pgsz;

/* ---- an isolated mapping ------------------------------------------------------ */

struct child {
	pid_t pid;
	uint64_t addr; /* 64 pages, 0, 3 and 7 touched */
	uint64_t big;  /* 100000 pages, 50 touched */
	uint64_t huge; /* 1000000 pages, 2 touched */
};

/* tests/pm_child: static, so it shares no page with anyone (see there). */
static int child_start(struct child *c)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	c->pid = fork();
	if (c->pid < 0)
		return -1;
	if (c->pid == 0) {
		dup2(p[1], 1);
		char *const argv[] = {(char *)"pm_child", NULL};
		char *const envp[] = {NULL};
		execve(PS_BINARY_DIR "/tests/pm_child", argv, envp);
		_exit(127);
	}
	close(p[1]);
	char line[160];
	ssize_t n = read(p[0], line, sizeof(line) - 1);
	close(p[0]);
	if (n <= 0)
		return -1;
	line[n] = '\0';
	unsigned long a = 0, b = 0, h = 0;
	if (sscanf(line, "map=%lx big=%lx huge=%lx", &a, &b, &h) != 3)
		return -1;
	c->addr = a;
	c->big = b;
	c->huge = h;
	return 0;
}

static void child_stop(struct child *c)
{
	if (c->pid > 0) {
		kill(c->pid, SIGKILL);
		waitpid(c->pid, NULL, 0);
	}
	c->pid = 0;
}

/* ---- snapshot helpers -------------------------------------------------------------- */

static int capture(const char *snap, const char *env, const char *opts)
{
	return tu_sh(NULL, "%s %s capture -q -f -o '%s' %s 2>>%s/capture.err", env ? env : "",
		     tu_procsnap(), snap, opts, tu_tmpdir());
}

/* Member bytes into b; 0, or -1 when not a captured file. */
static int member(const char *snap, const char *path, struct ps_buf *b)
{
	struct ps_snap *s;
	struct ps_err err = {0, ""};
	int kind = -1;
	if (ps_snap_open(snap, &s, &err) < 0)
		return -1;
	int r = ps_snap_read(s, path, b, &kind, &err);
	ps_snap_close(s);
	return r == 0 && kind == PS_M_FILE ? 0 : -1;
}

static int sections_of(const char *snap, int pid, struct ps_buf *b)
{
	char p[64];
	snprintf(p, sizeof(p), "proc/%d/pagemap.sections", pid);
	return member(snap, p, b);
}

/* The manifest line of a path ("" if none). */
static void manifest_line(const char *snap, const char *path, char *line, size_t n)
{
	line[0] = '\0';
	if (tu_sh(&out, "tar --zstd -xOf '%s' procsnap/manifest.tsv | grep '^%s\t'", snap, path) ==
	    0) {
		out.buf[strcspn(out.buf, "\n")] = '\0';
		snprintf(line, n, "%s", out.buf);
	}
}

/* Counts of [a, b) in a member; -1 if malformed. */
static int count(const struct ps_buf *sec, uint64_t a, uint64_t b, struct ps_pagemap_counts *k)
{
	struct ps_pagemap_cursor c;
	if (ps_pagemap_cursor_init(&c, sec->buf, sec->len) < 0)
		return -1;
	return ps_pagemap_count(&c, a, b, k);
}

/* The page index (from base) of every page of every run whose "state" is
 * present, from --format json. */
static int json_present_pages(const char *json, uint64_t base, uint64_t *pages, int max,
			      int *other_runs)
{
	int n = 0;
	*other_runs = 0;
	const char *r = strstr(json, "\"runs\":[");
	for (const char *p = r; p && (p = strstr(p, "{\"start\":\"")) != NULL; p++) {
		const char *np = strstr(p, "\"pages\":"), *st = strstr(p, "\"state\":\"");
		if (!np || !st)
			break;
		uint64_t start = strtoull(p + 10, NULL, 16), cnt = strtoull(np + 8, NULL, 10);
		if (strncmp(st + 9, "present", 7) != 0) {
			(*other_runs)++;
			continue;
		}
		for (uint64_t i = 0; i < cnt && n < max; i++)
			pages[n++] = (start - base) / (uint64_t)pgsz + i;
	}
	return n;
}

static int kernel_at_least(int maj, int min)
{
	struct utsname u;
	int a = 0, b = 0;
	if (uname(&u) != 0 || sscanf(u.release, "%d.%d", &a, &b) != 2)
		return 0;
	return a > maj || (a == maj && b >= min);
}

/* ---- tests ------------------------------------------------------------------------- */

static void present_runs(void)
{
	struct child c;
	CHECK_INT(child_start(&c), 0);
	char snap[512], db[520], opt[64];
	snprintf(snap, sizeof(snap), "%s/iso.tar.zst", tu_tmpdir());
	snprintf(db, sizeof(db), "%s.db", snap);
	snprintf(opt, sizeof(opt), "--pid %d", (int)c.pid);
	CHECK_INT(capture(snap, NULL, opt), 0);

	/* procfs counts on the member, for the mapping as maps lists it */
	struct ps_buf sec = PS_BUF_INIT, maps = PS_BUF_INIT;
	char p[64];
	snprintf(p, sizeof(p), "proc/%d/maps", (int)c.pid);
	CHECK_INT(member(snap, p, &maps), 0);
	CHECK_INT(sections_of(snap, c.pid, &sec), 0);
	CHECK_INT(ps_pagemap_check(sec.buf, sec.len), 0);
	size_t pos = 0;
	struct ps_map m;
	int found = 0, r;
	while ((r = ps_maps_next(maps.buf, maps.len, &pos, &m)) != 0) {
		if (r > 0 && m.start == c.addr) {
			found = 1;
			break;
		}
	}
	CHECK(found);
	CHECK_U64(m.end, c.addr + M * (uint64_t)pgsz); /* not merged: its own vma */
	struct ps_pagemap_counts k;
	CHECK_INT(count(&sec, m.start, m.end, &k), 0);
	CHECK_U64(k.pages, M);
	CHECK_U64(k.present, K);
	CHECK_U64(k.swapped, 0);
	CHECK_U64(k.exclusive, K);
	CHECK_U64(k.file_or_shared, 0);
	CHECK_INT(k.complete, 1);
	/* the guard pages around it: nothing */
	CHECK_INT(count(&sec, m.start - (uint64_t)pgsz, m.start, &k), 0);
	CHECK_U64(k.present + k.swapped, 0);

	/* The sections themselves: exactly the touched pages, one each. */
	struct ps_pagemap_hdr h;
	struct ps_pagemap_section s;
	CHECK_INT(ps_pagemap_open(sec.buf, sec.len, &h), 0);
	int nsec = 0;
	while (ps_pagemap_next(&h, &s) == 1) {
		if (s.start + s.npages * (uint64_t)pgsz <= m.start || s.start >= m.end)
			continue;
		CHECK_U64(s.npages, 1);
		if (nsec < K)
			CHECK_U64(s.start, m.start + (uint64_t)touched[nsec] * (uint64_t)pgsz);
		uint64_t e = ps_pagemap_entry(&s, 0);
		CHECK(e & PS_PME_PRESENT);
		if (geteuid() == 0)
			CHECK((e & PS_PME_PFN_MASK) != 0); /* root sees PFNs */
		nsec++;
	}
	CHECK_INT(nsec, K);
	if (geteuid() == 0)
		CHECK(h.flags & PS_PAGEMAP_F_PFN_VISIBLE);

	/* procsnap pagemap --mapping ADDR --format json: the runs */
	CHECK_INT(tu_sh(&out, "%s pagemap '%s' %d --mapping 0x%llx --format json", tu_procsnap(),
			snap, (int)c.pid, (unsigned long long)c.addr),
		  0);
	uint64_t pages[16];
	int other = 0;
	int n = json_present_pages(out.buf, c.addr, pages, 16, &other);
	CHECK_INT(n, K);
	for (int i = 0; i < n && i < K; i++)
		CHECK_U64(pages[i], (uint64_t)touched[i]);
	CHECK_INT(other, 0);
	CHECK(strstr(out.buf, "\"pages\":64,\"present\":3,") != NULL);
	if (geteuid() == 0) {
		CHECK(strstr(out.buf, "\"pfn_first\":null") == NULL);
		CHECK(strstr(out.buf, "\"pfn_visible\":true") != NULL);
	}
	/* an address inside the mapping finds it too; table format; summary */
	CHECK_INT(tu_sh(&out, "%s pagemap '%s' %d --mapping %llx", tu_procsnap(), snap, (int)c.pid,
			(unsigned long long)(c.addr + 5 * (uint64_t)pgsz)),
		  0);
	CHECK(strstr(out.buf, "64 pages: 3 present, 0 swapped") != NULL);
	CHECK_INT(tu_sh(&out, "%s pagemap '%s' %d", tu_procsnap(), snap, (int)c.pid), 0);
	char want[128];
	snprintf(want, sizeof(want), "%012llx %012llx rw-p       64        3        0",
		 (unsigned long long)m.start, (unsigned long long)m.end);
	CHECK(strstr(out.buf, want) != NULL);
	CHECK_INT(tu_sh(&out, "%s pagemap '%s' %d --format json", tu_procsnap(), snap, (int)c.pid),
		  0);
	snprintf(want, sizeof(want),
		 "{\"start\":\"0x%llx\",\"end\":\"0x%llx\",\"perms\":\"rw-p\","
		 "\"path\":\"\",\"pages\":64,\"present\":3,\"swapped\":0,",
		 (unsigned long long)m.start, (unsigned long long)m.end);
	CHECK(strstr(out.buf, want) != NULL);
	/* no mapping at 0x1000, no such pid, bad format: exit 2 */
	CHECK_INT(tu_sh(&out, "%s pagemap '%s' %d --mapping 0x1000 2>/dev/null", tu_procsnap(),
			snap, (int)c.pid),
		  2);
	CHECK_INT(tu_sh(&out, "%s pagemap '%s' 999999 2>/dev/null", tu_procsnap(), snap), 2);
	CHECK_INT(tu_sh(&out, "%s pagemap '%s' %d --format xml 2>/dev/null", tu_procsnap(), snap,
			(int)c.pid),
		  2);

	/* The index: process_memory_map carries the pagemap counts. */
	char t[64];
	CHECK_INT(
	    tu_sql(db, t, sizeof(t),
		   "SELECT present FROM process_memory_map WHERE pid = %d AND start_addr = %llu",
		   (int)c.pid, (unsigned long long)m.start),
	    0);
	CHECK_STR(t, "3");
	CHECK_INT(tu_sql_int(db,
			     "SELECT pages FROM process_memory_map WHERE pid = %d AND "
			     "start_addr = %llu",
			     (int)c.pid, (unsigned long long)m.start),
		  M);
	CHECK_INT(tu_sql_int(db,
			     "SELECT pfn_visible FROM process_memory_map WHERE pid = %d AND "
			     "start_addr = %llu",
			     (int)c.pid, (unsigned long long)m.start),
		  geteuid() == 0);
	/* totals per process: every present entry of the member */
	long long all = 0;
	CHECK_INT(ps_pagemap_open(sec.buf, sec.len, &h), 0);
	while (ps_pagemap_next(&h, &s) == 1)
		for (uint64_t i = 0; i < s.npages; i++)
			all += (ps_pagemap_entry(&s, i) & PS_PME_PRESENT) != 0;
	CHECK(all >= K);
	CHECK_INT(
	    tu_sql_int(db, "SELECT present FROM process_pagemap_totals WHERE pid = %d", (int)c.pid),
	    all);
	CHECK_INT(tu_sql_int(db,
			     "SELECT mappings - mappings_counted FROM process_pagemap_totals "
			     "WHERE pid = %d",
			     (int)c.pid),
		  0);
	if (ps_capture_soft_dirty() == 0)
		CHECK_INT(tu_sql_int(db,
				     "SELECT count(*) FROM process_memory_map WHERE pid = %d "
				     "AND soft_dirty IS NOT NULL",
				     (int)c.pid),
			  0);
	ps_buf_release(&sec);
	ps_buf_release(&maps);
	child_stop(&c);
}

/* The standard victim (tests/victim.c): its 64-page mapping may be merged
 * with a neighbour by the kernel, so count exactly [map, map + 64 pages). */
static void victim_range(void)
{
	struct tu_victim v;
	char file[512], snap[512], opt[64];
	snprintf(file, sizeof(file), "%s/vfile", tu_tmpdir());
	snprintf(snap, sizeof(snap), "%s/victim.tar.zst", tu_tmpdir());
	CHECK_INT(tu_sh(NULL, "echo x > '%s'", file), 0);
	const char *env[] = {"PATH=/usr/bin:/bin", NULL};
	CHECK_INT(tu_victim_start(&v, file, NULL, env), 0);
	/* A 1 GiB reservation with 3 touched pages is stored as 3 entries. */
	char reply[256];
	CHECK_INT(tu_victim_cmd(&v, reply, sizeof(reply), "map 262144 3"), 0);
	unsigned long big = 0;
	CHECK(sscanf(reply, "ok map=%lx", &big) == 1);
	snprintf(opt, sizeof(opt), "--pid %d", (int)v.pid);
	CHECK_INT(capture(snap, NULL, opt), 0);
	struct ps_buf sec = PS_BUF_INIT;
	CHECK_INT(sections_of(snap, v.pid, &sec), 0);
	struct ps_pagemap_counts k;
	CHECK_INT(count(&sec, v.map, v.map + M * (uint64_t)pgsz, &k), 0);
	CHECK_U64(k.present, K);
	CHECK_INT(count(&sec, big, big + 262144ull * (uint64_t)pgsz, &k), 0);
	CHECK_U64(k.pages, 262144);
	CHECK_U64(k.present, 3);
	struct ps_pagemap_hdr h;
	struct ps_pagemap_section s;
	uint64_t stored = 0;
	CHECK_INT(ps_pagemap_open(sec.buf, sec.len, &h), 0);
	while (ps_pagemap_next(&h, &s) == 1)
		if (s.start >= big && s.start < big + 262144ull * (uint64_t)pgsz)
			stored += s.npages;
	CHECK_U64(stored, 3);
	CHECK(sec.len < 64 * 1024); /* not 2 MiB of zero entries */

	/* --mapping at the victim's map: pages 0, 3, 7 among the first 64. */
	CHECK_INT(tu_sh(&out, "%s pagemap '%s' %d --mapping 0x%lx --format json", tu_procsnap(),
			snap, (int)v.pid, v.map),
		  0);
	uint64_t pages[256];
	int other = 0, n = json_present_pages(out.buf, v.map, pages, 256, &other), j = 0;
	for (int i = 0; i < n; i++) {
		if (pages[i] >= M)
			continue; /* a merged neighbour's pages (wrapped below 0 too) */
		if (j < K)
			CHECK_U64(pages[i], (uint64_t)touched[j]);
		j++;
	}
	CHECK_INT(j, K);
	ps_buf_release(&sec);
	tu_victim_stop(&v);
}

static void no_pagemap(void)
{
	struct child c;
	CHECK_INT(child_start(&c), 0);
	char snap[512], opt[64], line[512], path[64];
	snprintf(snap, sizeof(snap), "%s/nopm.tar.zst", tu_tmpdir());
	snprintf(opt, sizeof(opt), "--no-pagemap --pid %d", (int)c.pid);
	CHECK_INT(capture(snap, NULL, opt), 0);
	struct ps_buf sec = PS_BUF_INIT;
	CHECK_INT(sections_of(snap, c.pid, &sec), -1);
	snprintf(path, sizeof(path), "proc/%d/pagemap.sections", (int)c.pid);
	manifest_line(snap, path, line, sizeof(line));
	CHECK_STR(line, ""); /* not even an absent line */
	CHECK_INT(tu_sh(&out, "tar --zstd -tf '%s' | grep -c pagemap", snap), 1); /* count 0 */
	CHECK_STR(out.buf, "0\n");
	CHECK_INT(tu_sh(&out, "tar --zstd -xOf '%s' procsnap/meta.json", snap), 0);
	CHECK(strstr(out.buf, "\"pagemap\":false") != NULL);
	CHECK_INT(tu_sh(NULL, "%s pagemap '%s' %d 2>/dev/null", tu_procsnap(), snap, (int)c.pid),
		  2);
	ps_buf_release(&sec);
	child_stop(&c);
}

/* A recorder sink that keeps the pagemap.sections records. */
struct keep {
	struct ps_buf bytes[4];
	int pids[4];
	int n;
};

static int keep_record(void *ctx, const struct ps_capture_record *r, struct ps_err *err)
{
	(void)err;
	struct keep *k = ctx;
	const char *x = strstr(r->path, "/pagemap.sections");
	if (!x || x[17] != '\0' || k->n >= 4)
		return 0;
	k->pids[k->n] = atoi(r->path + 5);
	ps_buf_init(&k->bytes[k->n]);
	if (r->kind == PS_KIND_FILE)
		ps_buf_add(&k->bytes[k->n], r->data, r->len);
	k->n++;
	return 0;
}

static void run_lib(const int *pids, size_t npids, int no_scan, uint64_t max, struct keep *k,
		    struct ps_capture_stats *st)
{
	struct ps_capture_opts o;
	memset(&o, 0, sizeof(o));
	o.root = "/proc";
	o.pids = pids;
	o.npids = npids;
	o.no_threads = 1;
	o.pagemap_max = max;
	o.no_pagemap_scan = no_scan;
	o.start_ns = ps_mono_ns();
	memset(k, 0, sizeof(*k));
	struct ps_capture_sink sink = {k, keep_record, NULL, NULL, NULL};
	struct ps_err err = {0, ""};
	CHECK_INT(ps_capture_run(&o, &sink, st, &err), 0);
}

/* On a mismatch, say where: the first differing section. */
static void dump_diff(int round, int pid, const struct ps_buf *x, const struct ps_buf *y)
{
	struct ps_pagemap_hdr hx, hy;
	struct ps_pagemap_section sx, sy;
	fprintf(stderr, "round %d pid %d: scan %zu bytes, plain %zu bytes\n", round, pid, x->len,
		y->len);
	if (ps_pagemap_open(x->buf, x->len, &hx) < 0 || ps_pagemap_open(y->buf, y->len, &hy) < 0)
		return;
	fprintf(stderr, "  flags %x/%x skipped %llu/%llu\n", hx.flags, hy.flags,
		(unsigned long long)hx.nskip, (unsigned long long)hy.nskip);
	for (;;) {
		int a = ps_pagemap_next(&hx, &sx), b = ps_pagemap_next(&hy, &sy);
		if (a != 1 || b != 1) {
			fprintf(stderr, "  end %d/%d\n", a, b);
			break;
		}
		if (sx.start != sy.start || sx.npages != sy.npages ||
		    memcmp(sx.entries, sy.entries, sx.npages * 8) != 0) {
			fprintf(stderr, "  scan %llx+%llu e0=%llx, plain %llx+%llu e0=%llx\n",
				(unsigned long long)sx.start, (unsigned long long)sx.npages,
				(unsigned long long)ps_pagemap_entry(&sx, 0),
				(unsigned long long)sy.start, (unsigned long long)sy.npages,
				(unsigned long long)ps_pagemap_entry(&sy, 0));
			for (uint64_t i = 0; i < sx.npages && i < sy.npages; i++)
				if (ps_pagemap_entry(&sx, i) != ps_pagemap_entry(&sy, i))
					fprintf(stderr, "  page %llu: %llx vs %llx\n",
						(unsigned long long)i,
						(unsigned long long)ps_pagemap_entry(&sx, i),
						(unsigned long long)ps_pagemap_entry(&sy, i));
			break;
		}
	}
}

static void keep_free(struct keep *k)
{
	for (int i = 0; i < k->n; i++)
		ps_buf_release(&k->bytes[i]);
}

static int same_bytes(const struct ps_buf *x, const struct ps_buf *y)
{
	return x->len == y->len && memcmp(x->buf, y->buf, x->len) == 0;
}

/* Same sections (start, npages) and same entries but for bit 56. */
static int same_layout(const struct ps_buf *x, const struct ps_buf *y)
{
	struct ps_pagemap_hdr hx, hy;
	struct ps_pagemap_section sx, sy;
	if (ps_pagemap_open(x->buf, x->len, &hx) < 0 || ps_pagemap_open(y->buf, y->len, &hy) < 0)
		return 0;
	for (;;) {
		int a = ps_pagemap_next(&hx, &sx), b = ps_pagemap_next(&hy, &sy);
		if (a != b)
			return 0;
		if (a != 1)
			return a == 0;
		if (sx.start != sy.start || sx.npages != sy.npages)
			return 0;
		for (uint64_t i = 0; i < sx.npages; i++)
			if ((ps_pagemap_entry(&sx, i) ^ ps_pagemap_entry(&sy, i)) &
			    ~PS_PME_EXCLUSIVE)
				return 0;
	}
}

/* PAGEMAP_SCAN and forced plain reads give byte-identical members for the
 * same stopped process: through the library (where the stats prove which
 * path ran), uncapped and capped, and through the CLI
 * (PROCSNAP_NO_PAGEMAP_SCAN=1).  The strict check uses the static pm_child;
 * an ordinary dynamic process (the victim) shares libc pages with the rest
 * of the system, whose activity may flip its pages' "exclusive" bit between
 * two captures, so for it the layout must always agree and the bytes in one
 * of a few attempts. */
static void scan_vs_plain(void)
{
	struct child c;
	CHECK_INT(child_start(&c), 0);
	CHECK_INT(kill(c.pid, SIGSTOP), 0);
	usleep(20000);
	int pid = c.pid;
	struct keep a, b;
	struct ps_capture_stats sa, sb;
	for (int round = 0; round < 2; round++) {
		/* round 1: capped at 2 MiB of entries (262144 pages): the 4 GiB
		 * reservation is skipped, the rest examined: the cut must agree */
		uint64_t max = round ? 2 * 1024 * 1024 : 0;
		run_lib(&pid, 1, 0, max, &a, &sa);
		run_lib(&pid, 1, 1, max, &b, &sb);
		CHECK_INT(a.n, 1);
		CHECK_INT(b.n, 1);
		if (a.n == 1 && b.n == 1) {
			CHECK(a.bytes[0].len > PS_PAGEMAP_HDR_LEN);
			CHECK(same_bytes(&a.bytes[0], &b.bytes[0]));
			if (!same_bytes(&a.bytes[0], &b.bytes[0]))
				dump_diff(round, pid, &a.bytes[0], &b.bytes[0]);
			struct ps_pagemap_counts k;
			CHECK_INT(count(&a.bytes[0], c.big, c.big + 100000ull * (uint64_t)pgsz, &k),
				  0);
			CHECK_U64(k.present, 50);
			CHECK_INT(k.complete, 1);
			CHECK_INT(count(&a.bytes[0], c.addr, c.addr + M * (uint64_t)pgsz, &k), 0);
			CHECK_U64(k.present, K);
			CHECK_INT(k.complete, 1);
			CHECK_INT(
			    count(&a.bytes[0], c.huge, c.huge + 1000000ull * (uint64_t)pgsz, &k),
			    0);
			CHECK_U64(k.present, round ? 0 : 2);
			CHECK_U64(k.examined, round ? 0 : 1000000);
		}
		CHECK_U64(sb.pagemap_scanned, 0);
		CHECK_U64(sb.pagemap_members, 1);
		CHECK_U64(sa.pagemap_truncated, round);
		CHECK_U64(sb.pagemap_truncated, round);
		if (sa.soft_dirty == 0 && kernel_at_least(6, 7)) {
			CHECK_U64(sa.pagemap_scanned, 1); /* the scan really ran */
			CHECK(sa.pagemap_bytes_read < sb.pagemap_bytes_read);
		} else {
			printf("note: PAGEMAP_SCAN not used here (soft-dirty %d, kernel < 6.7?)\n",
			       sa.soft_dirty);
		}
		keep_free(&a);
		keep_free(&b);
	}

	/* The CLI, fallback forced by the environment. */
	char s1[512], s2[512], opt[64];
	snprintf(s1, sizeof(s1), "%s/scan.tar.zst", tu_tmpdir());
	snprintf(s2, sizeof(s2), "%s/plain.tar.zst", tu_tmpdir());
	snprintf(opt, sizeof(opt), "--pid %d", pid);
	CHECK_INT(capture(s1, NULL, opt), 0);
	CHECK_INT(capture(s2, "PROCSNAP_NO_PAGEMAP_SCAN=1", opt), 0);
	struct ps_buf x = PS_BUF_INIT, y = PS_BUF_INIT;
	CHECK_INT(sections_of(s1, pid, &x), 0);
	CHECK_INT(sections_of(s2, pid, &y), 0);
	CHECK(x.len > PS_PAGEMAP_HDR_LEN && same_bytes(&x, &y));
	ps_buf_release(&x);
	ps_buf_release(&y);
	kill(c.pid, SIGCONT);
	child_stop(&c);

	/* A dynamic process. */
	struct tu_victim v;
	char file[512], reply[256];
	snprintf(file, sizeof(file), "%s/vfile2", tu_tmpdir());
	CHECK_INT(tu_sh(NULL, "echo x > '%s'", file), 0);
	const char *env[] = {"PATH=/usr/bin:/bin", NULL};
	CHECK_INT(tu_victim_start(&v, file, NULL, env), 0);
	CHECK_INT(tu_victim_cmd(&v, reply, sizeof(reply), "map 100000 50"), 0);
	CHECK_INT(kill(v.pid, SIGSTOP), 0);
	usleep(20000);
	pid = v.pid;
	int identical = 0;
	for (int attempt = 0; attempt < 5 && !identical; attempt++) {
		run_lib(&pid, 1, 0, 0, &a, &sa);
		run_lib(&pid, 1, 1, 0, &b, &sb);
		if (a.n == 1 && b.n == 1) {
			CHECK(same_layout(&a.bytes[0], &b.bytes[0]));
			identical = same_bytes(&a.bytes[0], &b.bytes[0]);
			if (!identical)
				printf("note: victim attempt %d: the exclusive bit moved\n",
				       attempt);
		}
		keep_free(&a);
		keep_free(&b);
	}
	CHECK(identical);
	kill(v.pid, SIGCONT);
	tu_victim_stop(&v);
}

/* --pagemap-max: mappings that do not fit in what is left of the budget are
 * skipped whole and listed; the walk goes on with the next ones. */
static void pagemap_max(void)
{
	struct tu_victim v;
	char file[512], snap[512], db[520], opt[96];
	snprintf(file, sizeof(file), "%s/vfile3", tu_tmpdir());
	snprintf(snap, sizeof(snap), "%s/cap.tar.zst", tu_tmpdir());
	snprintf(db, sizeof(db), "%s.db", snap);
	CHECK_INT(tu_sh(NULL, "echo x > '%s'", file), 0);
	const char *env[] = {"PATH=/usr/bin:/bin", NULL};
	CHECK_INT(tu_victim_start(&v, file, NULL, env), 0);
	/* 8 KiB of entries = 1024 pages: the 8 MiB thread stacks (2048 pages)
	 * do not fit, the victim's 64-page mapping (after them) does */
	snprintf(opt, sizeof(opt), "--pagemap-max 8K --pid %d", (int)v.pid);
	CHECK_INT(capture(snap, NULL, opt), 0);
	struct ps_buf sec = PS_BUF_INIT, maps = PS_BUF_INIT;
	char p[64];
	snprintf(p, sizeof(p), "proc/%d/maps", (int)v.pid);
	CHECK_INT(member(snap, p, &maps), 0);
	CHECK_INT(sections_of(snap, v.pid, &sec), 0);
	struct ps_pagemap_hdr h;
	struct ps_pagemap_section s;
	CHECK_INT(ps_pagemap_open(sec.buf, sec.len, &h), 0);
	CHECK(h.flags & PS_PAGEMAP_F_TRUNCATED);
	CHECK(!(h.flags & PS_PAGEMAP_F_INCOMPLETE));
	CHECK(h.nskip >= 3); /* at least the three thread stacks */
	uint64_t first_skip = 0, a, e;
	CHECK_INT(ps_pagemap_skip(&h, 0, &first_skip, &e), 0);
	CHECK(first_skip < v.map); /* a skipped stack lies before the mapping */
	/* no section inside a skipped range */
	while (ps_pagemap_next(&h, &s) == 1)
		for (uint64_t i = 0; ps_pagemap_skip(&h, i, &a, &e) == 0; i++)
			CHECK(s.start + s.npages * (uint64_t)pgsz <= a || s.start >= e);
	/* every maps line is either examined whole or skipped whole; the
	 * examined ones fit the budget */
	struct ps_pagemap_cursor c;
	struct ps_pagemap_counts k;
	struct ps_map m;
	size_t pos = 0;
	uint64_t examined = 0, skipped_lines = 0;
	int r;
	CHECK_INT(ps_pagemap_cursor_init(&c, sec.buf, sec.len), 0);
	while ((r = ps_maps_next(maps.buf, maps.len, &pos, &m)) != 0) {
		if (r < 0 || ps_str_eq(m.path, "[vsyscall]"))
			continue;
		CHECK_INT(ps_pagemap_count(&c, m.start, m.end, &k), 0);
		CHECK(k.examined == 0 || k.complete);
		examined += k.examined;
		skipped_lines += k.examined == 0;
	}
	CHECK(examined <= 1024);
	CHECK(skipped_lines >= 3);
#if !defined(__SANITIZE_ADDRESS__) /* an ASan victim spends 1024 pages before it */
	CHECK_INT(count(&sec, v.map, v.map + M * (uint64_t)pgsz, &k), 0);
	CHECK_INT(k.complete, 1);
	CHECK_U64(k.present, K);
#endif
	CHECK_INT(tu_sh(&out, "%s pagemap '%s' %d", tu_procsnap(), snap, (int)v.pid), 0);
	CHECK(strstr(out.buf, "not examined (--pagemap-max)") != NULL);
	CHECK(strstr(out.buf, "[not fully examined]") != NULL);
	CHECK_INT(tu_sh(&out, "%s pagemap '%s' %d --format json", tu_procsnap(), snap, (int)v.pid),
		  0);
	CHECK(strstr(out.buf, "\"truncated\":true,\"incomplete\":false,\"unexamined\":[{") != NULL);
	/* the index: NULL counts for the skipped mappings, never zeros */
	CHECK_INT(tu_sql_int(db,
			     "SELECT count(*) FROM process_memory_map WHERE pid = %d AND pages IS "
			     "NULL",
			     (int)v.pid),
		  (long long)skipped_lines);
#if !defined(__SANITIZE_ADDRESS__)
	CHECK_INT(
	    tu_sql_int(db,
		       "SELECT count(*) FROM process_memory_map WHERE pid = %d AND start_addr "
		       "<= %lld AND end_addr > %lld AND present >= 3",
		       (int)v.pid, (long long)v.map, (long long)v.map),
	    1);
#endif
	/* The default cap does not truncate the victim; an ASan victim's
	 * terabytes of shadow are skipped, and its mapping is still counted. */
	snprintf(opt, sizeof(opt), "--pid %d", (int)v.pid);
	CHECK_INT(capture(snap, NULL, opt), 0);
	CHECK_INT(sections_of(snap, v.pid, &sec), 0);
	CHECK_INT(ps_pagemap_open(sec.buf, sec.len, &h), 0);
#if defined(__SANITIZE_ADDRESS__)
	CHECK(h.flags & PS_PAGEMAP_F_TRUNCATED);
	printf("note: ASan victim: %llu ranges skipped by the default cap\n",
	       (unsigned long long)h.nskip);
#else
	CHECK(!(h.flags & PS_PAGEMAP_F_TRUNCATED));
	CHECK_U64(h.nskip, 0);
#endif
	CHECK_INT(count(&sec, v.map, v.map + M * (uint64_t)pgsz, &k), 0);
	CHECK_INT(k.complete, 1);
	CHECK_U64(k.present, K);
	ps_buf_release(&sec);
	ps_buf_release(&maps);
	tu_victim_stop(&v);
}

/* A kernel thread has no mm: pagemap.sections is absent with ESRCH. */
static void kernel_thread(void)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	int kt = 0;
	while (d && (de = readdir(d)) && !kt) {
		int pid = atoi(de->d_name);
		if (pid <= 0)
			continue;
		char p[64];
		snprintf(p, sizeof(p), "/proc/%d/stat", pid);
		struct ps_buf b = PS_BUF_INIT;
		struct ps_stat st;
		if (tu_slurp(p, &b) == 0 && ps_stat_parse(b.buf, b.len, &st) == 0 &&
		    PS_STAT_HAS(&st, 9) && (st.flags & 0x00200000)) /* PF_KTHREAD */
			kt = pid;
		ps_buf_release(&b);
	}
	if (d)
		closedir(d);
	if (!kt)
		T_SKIP_CASE("no kernel thread visible (a container?)");
	char snap[512], opt[64], path[64], line[512];
	snprintf(snap, sizeof(snap), "%s/kt.tar.zst", tu_tmpdir());
	snprintf(opt, sizeof(opt), "--no-threads --pid %d", kt);
	CHECK_INT(capture(snap, NULL, opt), 0);
	snprintf(path, sizeof(path), "proc/%d/pagemap.sections", kt);
	manifest_line(snap, path, line, sizeof(line));
	const char *tab = strrchr(line, '\t');
	CHECK(strstr(line, "\tabsent\t") != NULL);
	CHECK(tab && strcmp(tab + 1, "ESRCH") == 0);
	CHECK_INT(tu_sh(&out, "%s pagemap '%s' %d 2>&1", tu_procsnap(), snap, kt), 2);
	CHECK(strstr(out.buf, "ESRCH") != NULL);
}

/* Unprivileged capture of an unprivileged process: works, PFNs hidden. */
static void non_root(void)
{
	if (geteuid() != 0 || tu_sh(NULL, "command -v setpriv >/dev/null") != 0)
		T_SKIP_CASE("needs root and setpriv to run a victim as uid 65534");
	const char *d = tu_tmpdir();
	char file[600], snap[600], dir[512];
	snprintf(dir, sizeof(dir), "%s/nobody", d);
	snprintf(file, sizeof(file), "%s/f", dir);
	snprintf(snap, sizeof(snap), "%s/u.tar.zst", dir);
	CHECK_INT(tu_sh(NULL,
			"mkdir -p %s && chmod 777 %s && chmod 755 %s && echo x > %s && "
			"chmod 644 %s",
			dir, dir, d, file, file),
		  0);
	struct tu_victim v;
	const char *env[] = {"PATH=/usr/bin:/bin", NULL};
	CHECK_INT(tu_victim_start_as(&v, 65534, 65534, file, NULL, env), 0);
	CHECK_INT(tu_sh(NULL,
			"setpriv --reuid=65534 --regid=65534 --clear-groups %s capture -q -o %s "
			"--pid %d 2>/dev/null",
			tu_procsnap(), snap, (int)v.pid),
		  0);
	struct ps_buf sec = PS_BUF_INIT;
	CHECK_INT(sections_of(snap, v.pid, &sec), 0);
	struct ps_pagemap_hdr h;
	struct ps_pagemap_section s;
	CHECK_INT(ps_pagemap_open(sec.buf, sec.len, &h), 0);
	CHECK(!(h.flags & PS_PAGEMAP_F_PFN_VISIBLE));
	int present = 0;
	while (ps_pagemap_next(&h, &s) == 1)
		for (uint64_t i = 0; i < s.npages; i++) {
			uint64_t e = ps_pagemap_entry(&s, i);
			present += (e & PS_PME_PRESENT) != 0;
			CHECK_U64(e & PS_PME_PFN_MASK & ((e & PS_PME_PRESENT) ? ~0ull : 0), 0);
		}
	CHECK(present > 0);
	struct ps_pagemap_counts k;
	CHECK_INT(count(&sec, v.map, v.map + M * (uint64_t)pgsz, &k), 0);
	CHECK_U64(k.present, K);
	CHECK_INT(k.pfn_visible, 0);
	CHECK_INT(tu_sh(&out, "%s pagemap '%s' %d --mapping 0x%lx", tu_procsnap(), snap, (int)v.pid,
			v.map),
		  0);
	CHECK(strstr(out.buf, "PFNs not visible") != NULL);
	/* root's process from nobody: EACCES, recorded */
	char snap2[600], path[64], line[512];
	snprintf(snap2, sizeof(snap2), "%s/u2.tar.zst", dir);
	CHECK_INT(tu_sh(NULL,
			"setpriv --reuid=65534 --regid=65534 --clear-groups %s capture -q -o %s "
			"--pid 1 --no-threads 2>/dev/null",
			tu_procsnap(), snap2),
		  0);
	snprintf(path, sizeof(path), "proc/1/pagemap.sections");
	manifest_line(snap2, path, line, sizeof(line));
	CHECK(strstr(line, "\tabsent\t") != NULL);
	CHECK(strstr(line, "\tEACCES") != NULL || strstr(line, "\tEPERM") != NULL);
	ps_buf_release(&sec);
	tu_victim_stop(&v);
}

/* An ordinary tree has no pagemap: every pid records the member as absent
 * (EOPNOTSUPP) and the tree's own "pagemap" file is never opened. */
static int fixture_rec(void *ctx, const struct ps_capture_record *r, struct ps_err *err)
{
	(void)err;
	int *n = ctx;
	if (r->kind == PS_KIND_FILE && r->data && strcmp(r->path, "proc/README.md") != 0 &&
	    memmem(r->data, r->len, "MUST NOT BE READ", 16))
		n[2]++;
	const char *x = strstr(r->path, "/pagemap.sections");
	if (x && x[17] == '\0') {
		n[0]++;
		if (r->kind == PS_KIND_ABSENT && r->err == EOPNOTSUPP)
			n[1]++;
	}
	return 0;
}

static void fixture_root(void)
{
	struct ps_capture_opts o;
	memset(&o, 0, sizeof(o));
	char root[4096];
	snprintf(root, sizeof(root), "%s/samples/proc-fixture", t_srcdir);
	o.root = root;
	o.start_ns = ps_mono_ns();
	int n[3] = {0, 0, 0};
	struct ps_capture_sink sink = {n, fixture_rec, NULL, NULL, NULL};
	struct ps_capture_stats st;
	struct ps_err err = {0, ""};
	CHECK_INT(ps_capture_run(&o, &sink, &st, &err), 0);
	CHECK_INT(n[0], 4); /* pids 1, 2, 42, 4242 */
	CHECK_INT(n[1], 4);
	CHECK_INT(n[2], 0);
	CHECK_INT(st.soft_dirty, -1); /* not a live kernel's procfs */
	o.no_pagemap = 1;
	memset(n, 0, sizeof(n));
	CHECK_INT(ps_capture_run(&o, &sink, &st, &err), 0);
	CHECK_INT(n[0], 0);
	/* meta.json: soft_dirty null for a tree, the kernel's answer for /proc */
	struct ps_buf b = PS_BUF_INIT;
	ps_capture_host_facts(root, &b);
	CHECK(strstr(b.buf, "\"soft_dirty\": null,\n") != NULL);
	ps_buf_reset(&b);
	ps_capture_host_facts("/proc", &b);
	int sd = ps_capture_soft_dirty();
	CHECK(strstr(b.buf, sd < 0 ? "\"soft_dirty\": null,\n"
			    : sd   ? "\"soft_dirty\": true,\n"
				   : "\"soft_dirty\": false,\n") != NULL);
	ps_buf_release(&b);
}

/* The snapshot records soft-dirty availability: meta.json and the header. */
static void soft_dirty_recorded(void)
{
	struct child c;
	CHECK_INT(child_start(&c), 0);
	char snap[512], opt[64];
	snprintf(snap, sizeof(snap), "%s/sd.tar.zst", tu_tmpdir());
	snprintf(opt, sizeof(opt), "--pid %d", (int)c.pid);
	CHECK_INT(capture(snap, NULL, opt), 0);
	int sd = ps_capture_soft_dirty();
	CHECK(sd == 0 || sd == 1); /* known on a live kernel */
	CHECK_INT(tu_sh(&out, "tar --zstd -xOf '%s' procsnap/meta.json", snap), 0);
	CHECK(strstr(out.buf, sd ? "\"soft_dirty\": true" : "\"soft_dirty\": false") != NULL);
	struct ps_buf sec = PS_BUF_INIT;
	struct ps_pagemap_hdr h;
	CHECK_INT(sections_of(snap, c.pid, &sec), 0);
	CHECK_INT(ps_pagemap_open(sec.buf, sec.len, &h), 0);
	CHECK(h.flags & PS_PAGEMAP_F_SD_KNOWN);
	CHECK_INT(!!(h.flags & PS_PAGEMAP_F_SD_AVAIL), sd);
	if (!sd) {
		/* never "clean": the JSON says null, the table "-" */
		CHECK_INT(tu_sh(&out, "%s pagemap '%s' %d --format json", tu_procsnap(), snap,
				(int)c.pid),
			  0);
		CHECK(strstr(out.buf, "\"soft_dirty_available\":false") != NULL);
		CHECK(strstr(out.buf, "\"soft_dirty\":0") == NULL);
		CHECK(strstr(out.buf, "\"soft_dirty\":null") != NULL);
	}
	ps_buf_release(&sec);
	child_stop(&c);
}

static void setup(void)
{
	pgsz = sysconf(_SC_PAGESIZE);
}

static void teardown(void)
{
	ps_buf_release(&out);
	tu_cleanup();
}

static const struct t_case t_cases[] = {
    T(present_runs),  T(victim_range), T(no_pagemap),	T(scan_vs_plain),	T(pagemap_max),
    T(kernel_thread), T(non_root),     T(fixture_root), T(soft_dirty_recorded), {0, 0}};
T_MAIN_SETUP(t_cases, setup, teardown)
