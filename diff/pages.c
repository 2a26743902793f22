/*
 * pages.c - page-level residency changes of one process, from the
 * proc/<pid>/pagemap.sections members of A and B (schema/pagemap.md).
 *
 * Counting pages per mapping and subtracting the counts hides exactly what
 * matters: 64 pages paged in while 64 others were dropped leave the count
 * unchanged.  So the two members are walked page by page, in address order,
 * over the address ranges mapped in both snapshots by the same object (same
 * path and inode) and examined in both (outside either side's skipped
 * ranges).  Only pages present in a section on either side can differ - a
 * page in no section is neither present nor swapped - so the walk costs the
 * sections' size, not the address space's.
 *
 * Each page whose entry changed is one of:
 *   resident     not present in A, present in B (paged in, first touched)
 *   evicted      present in A, gone in B without going to swap (reclaimed,
 *                MADV_DONTNEED), or a swap entry in A that is gone in B
 *   swapped_out  not swapped in A, swapped in B
 *   swapped_in   swapped in A, present in B
 *   dirtied      present in both, soft-dirty set in B only (only when both
 *                captures knew the kernel tracks soft-dirty)
 * Changed pages of one mapping less than PS_DIFF_PAGE_GAP pages apart form
 * one range (an item of the "pages" section); a range with fewer than
 * PS_DIFF_PAGES_MIN_BYTES of changed pages is shown only with --counters.
 */
#include "diff_int.h"

#include "procfs.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* A mapping of one side, from the maps work table. */
struct pmap {
	uint64_t start, end;
	int64_t offset, inode;
	char *perms, *path;
};

/* A range to walk: mapped in both by the same object; m is B's mapping. */
struct span {
	uint64_t lo, hi;
	size_t m;
};

/* Forward-only iterator over the pages of one member's sections. */
struct pit {
	struct ps_pagemap_hdr h;
	struct ps_pagemap_section s;
	uint64_t i;
	int have, bad;
};

static void pit_next_section(struct pit *t)
{
	int r = ps_pagemap_next(&t->h, &t->s);
	t->have = r == 1;
	t->bad |= r < 0;
	t->i = 0;
}

static uint64_t pit_addr(const struct pit *t)
{
	return t->have ? t->s.start + t->i * t->h.page_size : UINT64_MAX;
}

static void pit_step(struct pit *t)
{
	if (++t->i >= t->s.npages)
		pit_next_section(t);
}

/* Move to the first page at or above addr. */
static void pit_seek(struct pit *t, uint64_t addr)
{
	while (t->have && t->s.start + t->s.npages * t->h.page_size <= addr)
		pit_next_section(t);
	if (t->have && addr > pit_addr(t))
		t->i = (addr - t->s.start) / t->h.page_size;
}

enum { PC_RESIDENT = 0, PC_EVICTED, PC_SWAPPED_OUT, PC_SWAPPED_IN, PC_DIRTIED, PC__N };
static const char *const pc_json[PC__N] = {"resident", "evicted", "swapped_out", "swapped_in",
					   "dirtied"};

/* The kind of change of one page, or -1. */
static int page_change(uint64_t ea, uint64_t eb, int sd)
{
	int pa = (ea & PS_PME_PRESENT) != 0, pb = (eb & PS_PME_PRESENT) != 0;
	int sa = (ea & PS_PME_SWAPPED) != 0, sb = (eb & PS_PME_SWAPPED) != 0;
	if (!pa && pb)
		return sa ? PC_SWAPPED_IN : PC_RESIDENT;
	if (pa && !pb)
		return sb ? PC_SWAPPED_OUT : PC_EVICTED;
	if (!pa && !pb && sa != sb)
		return sb ? PC_SWAPPED_OUT : PC_EVICTED;
	if (pa && pb && sd && !(ea & PS_PME_SOFT_DIRTY) && (eb & PS_PME_SOFT_DIRTY))
		return PC_DIRTIED;
	return -1;
}

struct prun {
	int open;
	uint64_t start, end; /* first changed page, last changed page + page size */
	uint64_t n[PC__N], total;
	size_t m;
};

struct pctx {
	struct dctx *c;
	int64_t pid;
	uint64_t page_size;
	int sd;
	const struct pmap *maps; /* B's */
};

static void hex_field(struct ditem *it, const char *name, uint64_t v)
{
	char b[24];
	snprintf(b, sizeof(b), "0x%" PRIx64, v);
	ps_di_cstr(it, name, b);
}

static void run_flush(struct pctx *x, struct prun *r)
{
	if (!r->open)
		return;
	r->open = 0;
	uint64_t bytes = r->total * x->page_size;
	if (bytes < PS_DIFF_PAGES_MIN_BYTES && !x->c->o->counters) {
		x->c->d->hid.page_ranges++;
		return;
	}
	const struct pmap *m = &x->maps[r->m];
	struct ditem *it = ps_dx_pitem(x->c, x->pid, S_PAGES);
	hex_field(it, "start", r->start);
	hex_field(it, "end", r->end);
	ps_di_int(it, "size", (int64_t)(r->end - r->start));
	ps_di_cstr(it, "perms", m->perms);
	ps_di_int(it, "offset", m->offset);
	ps_di_int(it, "inode", m->inode);
	ps_di_cstr(it, "path", m->path);
	hex_field(it, "map_start", m->start);
	hex_field(it, "map_end", m->end);
	for (int k = 0; k < PC__N; k++)
		if (k != PC_DIRTIED || x->sd)
			ps_di_int(it, pc_json[k], (int64_t)r->n[k]);
}

static void maps_free(struct pmap *m, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(m[i].perms);
		free(m[i].path);
	}
	free(m);
}

/* Both sides' mappings of pid, by start (maps work table: 16-hex text). */
static int load_maps(struct dctx *c, int64_t pid, struct pmap *m[2], size_t n[2])
{
	sqlite3_stmt *q;
	if (ps_dx_prep(
		c, &q,
		"SELECT side, start, end, offset, inode, perms, path FROM maps WHERE pid = ? "
		"ORDER BY side, start") < 0)
		return -1;
	sqlite3_bind_int64(q, 1, pid);
	size_t cap[2] = {0, 0};
	while (sqlite3_step(q) == SQLITE_ROW) {
		int s = sqlite3_column_int(q, 0) ? 1 : 0;
		PS_XGROW(m[s], n[s], cap[s], 64);
		struct pmap *p = &m[s][n[s]++];
		const char *st = (const char *)sqlite3_column_text(q, 1);
		const char *en = (const char *)sqlite3_column_text(q, 2);
		p->start = st ? strtoull(st, NULL, 16) : 0;
		p->end = en ? strtoull(en, NULL, 16) : 0;
		p->offset = sqlite3_column_int64(q, 3);
		p->inode = sqlite3_column_int64(q, 4);
		p->perms = ps_dx_col_dup(q, 5);
		p->path = ps_dx_col_dup(q, 6);
		if (!p->path)
			p->path = ps_xstrdup("");
	}
	sqlite3_finalize(q);
	return 0;
}

/* Skipped ranges of one member, appended to (*r, *n). */
static void add_skips(const struct ps_pagemap_hdr *h, uint64_t (**r)[2], size_t *n)
{
	for (uint64_t i = 0; i < h->nskip; i++) {
		uint64_t s, e;
		if (ps_pagemap_skip(h, i, &s, &e) < 0)
			break;
		*r = ps_xrealloc(*r, (*n + 1) * sizeof(**r));
		(*r)[*n][0] = s;
		(*r)[(*n)++][1] = e;
	}
}

static int range_cmp(const void *x, const void *y)
{
	const uint64_t *a = x, *b = y;
	return a[0] < b[0] ? -1 : a[0] > b[0];
}

/* The ranges mapped in both by the same object, minus the skipped ranges. */
static struct span *spans(struct pmap *ma, size_t na, struct pmap *mb, size_t nb,
			  uint64_t (*skip)[2], size_t nskip, size_t *nout)
{
	struct span *v = NULL;
	size_t n = 0, cap = 0, i = 0, j = 0, k = 0;
	while (i < na && j < nb) {
		const struct pmap *a = &ma[i], *b = &mb[j];
		uint64_t lo = a->start > b->start ? a->start : b->start;
		uint64_t hi = a->end < b->end ? a->end : b->end;
		if (lo < hi && a->inode == b->inode && strcmp(a->path, b->path) == 0) {
			/* cut out the skipped ranges (sorted by start; they may
			 * overlap, since they come from both sides) */
			while (k < nskip && skip[k][1] <= lo)
				k++;
			uint64_t at = lo;
			for (size_t q = k; q < nskip && skip[q][0] < hi && at < hi; q++) {
				if (skip[q][1] <= at)
					continue;
				if (skip[q][0] > at) {
					PS_XGROW(v, n, cap, 64);
					v[n++] = (struct span){at, skip[q][0], j};
				}
				at = skip[q][1];
			}
			if (at < hi) {
				PS_XGROW(v, n, cap, 64);
				v[n++] = (struct span){at, hi, j};
			}
		}
		if (a->end <= b->end)
			i++;
		else
			j++;
	}
	*nout = n;
	return v;
}

int ps_dx_pages_report(struct dctx *c, int64_t pid, const struct ps_buf *a, const struct ps_buf *b)
{
	struct pit ta, tb;
	memset(&ta, 0, sizeof(ta));
	memset(&tb, 0, sizeof(tb));
	struct pmap *m[2] = {NULL, NULL};
	size_t nm[2] = {0, 0}, nskip = 0, nsp = 0;
	uint64_t(*skip)[2] = NULL;
	struct span *sp = NULL;
	int rc = 0;
	const char *bad = NULL;
	if (ps_pagemap_open(a->buf, a->len, &ta.h) < 0)
		bad = "A";
	else if (ps_pagemap_open(b->buf, b->len, &tb.h) < 0)
		bad = "B";
	else if (ta.h.page_size != tb.h.page_size)
		bad = "A and B (page sizes differ)";
	if (bad)
		goto out;
	if (load_maps(c, pid, m, nm) < 0) {
		rc = -1;
		goto out;
	}
	add_skips(&ta.h, &skip, &nskip);
	add_skips(&tb.h, &skip, &nskip);
	if (nskip)
		qsort(skip, nskip, sizeof(*skip), range_cmp);
	sp = spans(m[0], nm[0], m[1], nm[1], skip, nskip, &nsp);

	uint32_t sdf = PS_PAGEMAP_F_SD_KNOWN | PS_PAGEMAP_F_SD_AVAIL;
	struct pctx x = {c, pid, tb.h.page_size,
			 (ta.h.flags & sdf) == sdf && (tb.h.flags & sdf) == sdf, m[1]};
	struct prun r;
	memset(&r, 0, sizeof(r));
	pit_next_section(&ta);
	pit_next_section(&tb);
	for (size_t s = 0; s < nsp; s++) {
		pit_seek(&ta, sp[s].lo);
		pit_seek(&tb, sp[s].lo);
		for (;;) {
			uint64_t pa = pit_addr(&ta), pb = pit_addr(&tb);
			uint64_t at = pa < pb ? pa : pb;
			if (at >= sp[s].hi)
				break;
			uint64_t ea = pa == at ? ps_pagemap_entry(&ta.s, ta.i) : 0;
			uint64_t eb = pb == at ? ps_pagemap_entry(&tb.s, tb.i) : 0;
			if (pa == at)
				pit_step(&ta);
			if (pb == at)
				pit_step(&tb);
			int k = page_change(ea, eb, x.sd);
			if (k < 0)
				continue;
			if (r.open &&
			    (r.m != sp[s].m || (at - r.end) / x.page_size >= PS_DIFF_PAGE_GAP))
				run_flush(&x, &r);
			if (!r.open) {
				memset(&r, 0, sizeof(r));
				r.open = 1;
				r.start = at;
				r.m = sp[s].m;
			}
			r.end = at + x.page_size;
			r.n[k]++;
			r.total++;
		}
	}
	run_flush(&x, &r);
	if (ta.bad || tb.bad)
		bad = ta.bad ? "A" : "B";
out:
	if (bad) {
		struct ditem *it = ps_dx_pitem(c, pid, S_NOTES);
		struct ps_buf t = PS_BUF_INIT;
		ps_buf_addf(&t, "pagemap.sections: malformed in %s; page changes not compared",
			    bad);
		ps_di_str(it, "note", t.buf, t.len);
		ps_buf_release(&t);
	}
	maps_free(m[0], nm[0]);
	maps_free(m[1], nm[1]);
	free(skip);
	free(sp);
	return rc;
}
