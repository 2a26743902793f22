/*
 * mempages.c - proc/<pid>/mem.sections: the only bytes of process memory
 * procsnap ever reads, and only with --suspicious-pages (issue 11 item 5,
 * schema/mem-sections.md).
 *
 * Which pages: those the in-memory tampering rules point at, found from the
 * maps text and the pagemap entries the capture has just read
 * (pagemap.sections), never by scanning:
 *   1. COW   - a private executable file mapping's pages whose entry is
 *              present with bit 61 (file page) clear, or swapped: the page
 *              is anonymous now, i.e. the code was written to after it was
 *              mapped (volatility's malfind looks for such private pages in
 *              a memory image; here pagemap names them exactly);
 *   2. ANON_X - present pages of an executable mapping backed by no file
 *              ([heap], [stack], anonymous; not [vdso], [vvar], [vsyscall],
 *              [uprobes]);
 *   3. FILELESS - present pages of an executable mapping of a memfd or of a
 *              deleted file.
 * They are read with pread() on <pid>/mem opened O_RDONLY relative to the
 * pid's directory fd (so a recycled pid cannot answer), COW pages first,
 * within a per-process and a per-capture budget; a page that cannot be read
 * (EIO: unmapped since) ends its section and marks the member INCOMPLETE.
 * Swapped pages are not read (that would swap them in).
 */
#include "mempages.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "procfs.h"

#define MS_MAGIC	"PSMS"
#define MS_VERSION	1u
#define MS_F_TRUNCATED	0x01u
#define MS_F_INCOMPLETE 0x02u
#define RUN_MAX_PAGES	256u /* one pread at most 1 MiB of 4 KiB pages */

struct run {
	uint64_t start, npages;
	uint32_t reason;
};

struct runs {
	struct run *v;
	size_t n, cap;
	int brk; /* the next page starts a run: a section never crosses a mapping */
};

static void run_add(struct runs *r, uint64_t addr, uint64_t ps, uint32_t reason)
{
	if (r->n && !r->brk && r->v[r->n - 1].reason == reason &&
	    r->v[r->n - 1].start + r->v[r->n - 1].npages * ps == addr &&
	    r->v[r->n - 1].npages < RUN_MAX_PAGES) {
		r->v[r->n - 1].npages++;
		return;
	}
	PS_XGROW(r->v, r->n, r->cap, 16);
	r->brk = 0;
	r->v[r->n].start = addr;
	r->v[r->n].npages = 1;
	r->v[r->n].reason = reason;
	r->n++;
}

static int has_suffix(struct ps_str s, const char *suf)
{
	size_t n = strlen(suf);
	return s.len >= n && memcmp(s.p + s.len - n, suf, n) == 0;
}

/* The reason class of a mapping, 0 when none of its pages can be flagged. */
static uint32_t map_class(const struct ps_map *m)
{
	if (m->perms[2] != 'x')
		return 0;
	struct ps_str p = m->path;
	if (p.len == 0)
		return PS_MEM_ANON_X;
	if (p.p[0] == '[') {
		static const char *const never[] = {"[vdso]",	  "[vvar]",    "[vvar_vclock]",
						    "[vsyscall]", "[uprobes]", NULL};
		for (const char *const *n = never; *n; n++)
			if (ps_str_eq(p, *n))
				return 0;
		return PS_MEM_ANON_X; /* [heap], [stack], [anon:NAME] */
	}
	if (p.p[0] != '/')
		return 0;
	if (has_suffix(p, " (deleted)") || (p.len >= 7 && memcmp(p.p, "/memfd:", 7) == 0))
		return PS_MEM_FILELESS; /* also gets COW pages, if private */
	return m->perms[3] == 'p' ? PS_MEM_COW : 0;
}

/* The flagged pages of mapping m (class cls) from section s, into r[why]. */
static void flag_section(const struct ps_pagemap_section *s, const struct ps_map *m, uint32_t cls,
			 uint64_t ps, struct runs *r)
{
	int private_file = m->perms[3] == 'p' && m->path.len && m->path.p[0] == '/';
	for (uint64_t i = 0; i < s->npages; i++) {
		uint64_t a = s->start + i * ps;
		if (a < m->start || a >= m->end)
			continue;
		uint64_t e = ps_pagemap_entry(s, i);
		if (!(e & PS_PME_PRESENT))
			continue;
		uint32_t why;
		if (private_file && !(e & PS_PME_FILE))
			why = PS_MEM_COW;
		else if (cls == PS_MEM_ANON_X || cls == PS_MEM_FILELESS)
			why = cls;
		else
			continue;
		run_add(&r[why - 1], a, ps, why);
	}
}

/* One merged pass over the mappings and the sections (both ascending; a
 * section never crosses a mapping): the flagged pages by reason. */
static void flag_pages(const char *maps, size_t maps_len, const void *pm, size_t pm_len,
		       const char *exe, size_t exe_len, uint64_t ps, struct runs *r)
{
	struct ps_pagemap_hdr h;
	struct ps_pagemap_section s;
	if (ps_pagemap_open(pm, pm_len, &h) != 0)
		return;
	int have = ps_pagemap_next(&h, &s) == 1;
	size_t pos = 0;
	struct ps_map m;
	int rr;
	while (have && (rr = ps_maps_next(maps, maps_len, &pos, &m)) != 0) {
		if (rr < 0)
			continue;
		while (have && s.start + s.npages * ps <= m.start)
			have = ps_pagemap_next(&h, &s) == 1;
		uint32_t cls = map_class(&m);
		if (cls == PS_MEM_FILELESS && exe && m.path.len == exe_len &&
		    memcmp(m.path.p, exe, exe_len) == 0)
			cls = PS_MEM_COW; /* the exe's own file is exe.body: its COW pages only */
		for (int k = 0; k < 3; k++)
			r[k].brk = 1;
		while (have && s.start < m.end) {
			if (cls)
				flag_section(&s, &m, cls, ps, r);
			have = ps_pagemap_next(&h, &s) == 1;
		}
	}
}

static void put32(struct ps_buf *b, uint32_t v)
{
	unsigned char x[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
			      (unsigned char)(v >> 24)};
	ps_buf_add(b, x, 4);
}

static void put64(struct ps_buf *b, uint64_t v)
{
	put32(b, (uint32_t)v);
	put32(b, (uint32_t)(v >> 32));
}

int ps_mp_read(int pidfd, const char *maps, size_t maps_len, const void *pm, size_t pm_len,
	       const char *exe, size_t exe_len, uint64_t *budget, uint64_t proc_max,
	       struct ps_buf *out, struct ps_mp_result *res)
{
	memset(res, 0, sizeof(*res));
	ps_buf_reset(out);
	struct ps_pagemap_hdr h;
	if (!pm || ps_pagemap_open(pm, pm_len, &h) != 0)
		return 0;
	uint64_t ps = h.page_size;
	struct runs by[3], r = {NULL, 0, 0, 0};
	memset(by, 0, sizeof(by));
	flag_pages(maps, maps_len, pm, pm_len, exe, exe_len, ps, by);
	/* COW pages first: they are the evidence; then the others */
	for (int k = 0; k < 3; k++) {
		for (size_t i = 0; i < by[k].n; i++) {
			PS_XGROW(r.v, r.n, r.cap, 16);
			r.v[r.n++] = by[k].v[i];
		}
		free(by[k].v);
	}
	for (size_t i = 0; i < r.n; i++)
		res->flagged += (int)r.v[i].npages;
	if (!r.n) {
		free(r.v);
		return 0;
	}
	int e = 0;
	int fd = openat(pidfd, "mem", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		e = errno;
		free(r.v);
		return e;
	}
	res->opened = fstat(fd, &res->sb) == 0;
	uint32_t flags = 0;
	ps_buf_add(out, MS_MAGIC, 4);
	put32(out, MS_VERSION);
	put32(out, (uint32_t)ps);
	size_t flags_at = out->len;
	put32(out, 0);
	uint64_t left = proc_max < *budget ? proc_max : *budget;
	unsigned char *page = ps_xmalloc((size_t)ps * RUN_MAX_PAGES);
	for (size_t i = 0; i < r.n; i++) {
		const struct run *x = &r.v[i];
		uint64_t want = x->npages;
		if (want * ps > left)
			want = left / ps;
		if (want < x->npages)
			flags |= MS_F_TRUNCATED;
		if (want == 0)
			continue;
		ssize_t n = pread(fd, page, (size_t)(want * ps), (off_t)x->start);
		if (n < 0) {
			e = errno;
			flags |= MS_F_INCOMPLETE;
			if (e == ESRCH)
				break; /* the process is gone: nothing more to read */
			continue;
		}
		uint64_t got = (uint64_t)n / ps;
		if (got < want)
			flags |= MS_F_INCOMPLETE;
		if (got == 0)
			continue;
		put64(out, x->start);
		put64(out, got);
		put32(out, x->reason);
		put32(out, 0);
		ps_buf_add(out, page, (size_t)(got * ps));
		left -= got * ps;
		*budget -= got * ps;
		res->bytes += got * ps;
	}
	free(page);
	close(fd);
	free(r.v);
	unsigned char *f = (unsigned char *)out->buf + flags_at;
	f[0] = (unsigned char)flags;
	res->truncated = (flags & MS_F_TRUNCATED) != 0;
	res->got_data = 1;
	return (flags & MS_F_INCOMPLETE) ? (e ? e : EIO) : 0;
}
