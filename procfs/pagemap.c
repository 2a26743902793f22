/*
 * pagemap.c - reader of procsnap's pagemap.sections member (schema/pagemap.md)
 * and decoding of /proc/PID/pagemap entries (proc_pid_pagemap(5)).
 *
 * The member comes from an archive, so it is hostile input: every count is
 * checked against the bytes that are left before anything is read, sizes
 * are compared by division (never by a multiplication that could wrap), and
 * a malformed section ends the iteration.
 */
#include "procfs.h"

#include <string.h>

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const unsigned char *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

void ps_pme_decode(uint64_t e, struct ps_pme *out)
{
	memset(out, 0, sizeof(*out));
	out->present = (e & PS_PME_PRESENT) != 0;
	out->swapped = (e & PS_PME_SWAPPED) != 0;
	out->file = (e & PS_PME_FILE) != 0;
	out->exclusive = (e & PS_PME_EXCLUSIVE) != 0;
	out->soft_dirty = (e & PS_PME_SOFT_DIRTY) != 0;
	out->uffd_wp = (e & PS_PME_UFFD_WP) != 0;
	out->guard = (e & PS_PME_GUARD) != 0;
	if (out->present) {
		out->pfn = e & PS_PME_PFN_MASK;
	} else if (out->swapped) {
		out->swap_type = (unsigned)(e & 0x1f);
		out->swap_offset = (e & PS_PME_PFN_MASK) >> 5;
	}
}

int ps_pagemap_open(const void *buf, size_t len, struct ps_pagemap_hdr *hdr)
{
	const unsigned char *b = buf;
	if (!b || len < PS_PAGEMAP_HDR_LEN || memcmp(b, PS_PAGEMAP_MAGIC, 4) != 0)
		return -1;
	uint32_t version = le32(b + 4), ps = le32(b + 8);
	if (version != PS_PAGEMAP_VERSION)
		return -1;
	if (ps < 512 || ps > (1u << 30) || (ps & (ps - 1)) != 0)
		return -1;
	uint64_t nskip = le64(b + 16);
	if (nskip > (len - PS_PAGEMAP_HDR_LEN) / 16)
		return -1; /* more ranges than bytes */
	const unsigned char *sk = b + PS_PAGEMAP_HDR_LEN;
	uint64_t prev = 0;
	for (uint64_t i = 0; i < nskip; i++) {
		uint64_t a = le64(sk + 16 * i), e = le64(sk + 16 * i + 8);
		if (a >= e || a % ps || e % ps || a < prev)
			return -1;
		prev = e;
	}
	memset(hdr, 0, sizeof(*hdr));
	hdr->version = version;
	hdr->page_size = ps;
	hdr->flags = le32(b + 12);
	hdr->nskip = nskip;
	hdr->skips = sk;
	hdr->buf = b;
	hdr->len = len;
	hdr->pos = PS_PAGEMAP_HDR_LEN + (size_t)nskip * 16;
	return 0;
}

int ps_pagemap_skip(const struct ps_pagemap_hdr *h, uint64_t i, uint64_t *start, uint64_t *end)
{
	if (!h->skips || i >= h->nskip)
		return -1;
	*start = le64(h->skips + 16 * i);
	*end = le64(h->skips + 16 * i + 8);
	return 0;
}

int ps_pagemap_next(struct ps_pagemap_hdr *h, struct ps_pagemap_section *out)
{
	memset(out, 0, sizeof(*out));
	if (!h->buf || h->pos >= h->len)
		return 0;
	size_t left = h->len - h->pos;
	const unsigned char *p = h->buf + h->pos;
	/* From here on, any failure leaves nothing to resynchronise on. */
	h->pos = h->len;
	if (left < PS_PAGEMAP_SECT_HDR_LEN)
		return -1;
	uint64_t start = le64(p), n = le64(p + 8);
	left -= PS_PAGEMAP_SECT_HDR_LEN;
	if (n == 0 || n > left / 8)
		return -1;
	if (start % h->page_size != 0 || start < h->prev_end)
		return -1;
	if (n > (UINT64_MAX - start) / h->page_size)
		return -1; /* the section's end would not fit 64 bits */
	out->start = start;
	out->npages = n;
	out->entries = p + PS_PAGEMAP_SECT_HDR_LEN;
	h->prev_end = start + n * h->page_size;
	h->pos = (size_t)(out->entries - h->buf) + (size_t)n * 8;
	return 1;
}

uint64_t ps_pagemap_entry(const struct ps_pagemap_section *s, uint64_t i)
{
	return i < s->npages ? le64(s->entries + i * 8) : 0;
}

int ps_pagemap_check(const void *buf, size_t len)
{
	struct ps_pagemap_hdr h;
	struct ps_pagemap_section s;
	int r;
	if (ps_pagemap_open(buf, len, &h) < 0)
		return -1;
	while ((r = ps_pagemap_next(&h, &s)) == 1)
		;
	return r;
}

/* ---- counts per mapping ----------------------------------------------------- */

int ps_pagemap_cursor_init(struct ps_pagemap_cursor *c, const void *buf, size_t len)
{
	memset(c, 0, sizeof(*c));
	return ps_pagemap_open(buf, len, &c->h);
}

static void rewind_cursor(struct ps_pagemap_cursor *c)
{
	c->h.pos = PS_PAGEMAP_HDR_LEN + (size_t)c->h.nskip * 16;
	c->h.prev_end = 0;
	c->have_cur = 0;
	c->skip_i = 0;
}

static uint64_t pages_in(uint64_t start, uint64_t end, uint32_t ps)
{
	if (end <= start)
		return 0;
	uint64_t d = end - start;
	return d / ps + (d % ps != 0);
}

int ps_pagemap_count(struct ps_pagemap_cursor *c, uint64_t start, uint64_t end,
		     struct ps_pagemap_counts *out)
{
	memset(out, 0, sizeof(*out));
	if (!c->h.buf)
		return -1;
	const uint64_t ps = c->h.page_size;
	if (start < c->last_start)
		rewind_cursor(c);
	c->last_start = start;

	out->pages = pages_in(start, end, (uint32_t)ps);
	/* Pages in skipped ranges are unknown: examined excludes them. */
	uint64_t skipped = 0, sa, se;
	while (ps_pagemap_skip(&c->h, c->skip_i, &sa, &se) == 0 && se <= start)
		c->skip_i++;
	for (uint64_t i = c->skip_i; ps_pagemap_skip(&c->h, i, &sa, &se) == 0 && sa < end; i++) {
		uint64_t lo = sa > start ? sa : start, hi = se < end ? se : end;
		skipped += pages_in(lo, hi, (uint32_t)ps);
	}
	out->examined = skipped < out->pages ? out->pages - skipped : 0;
	out->complete = out->examined == out->pages;
	out->soft_dirty_valid =
	    (c->h.flags & PS_PAGEMAP_F_SD_KNOWN) && (c->h.flags & PS_PAGEMAP_F_SD_AVAIL);

	for (;;) {
		if (!c->have_cur) {
			int r = ps_pagemap_next(&c->h, &c->cur);
			if (r < 0) {
				memset(out, 0, sizeof(*out));
				return -1;
			}
			if (r == 0)
				break;
			c->have_cur = 1;
		}
		const struct ps_pagemap_section *s = &c->cur;
		uint64_t s_end = s->start + s->npages * ps; /* checked by ps_pagemap_next */
		if (s_end <= start) {
			c->have_cur = 0;
			continue;
		}
		if (s->start >= end)
			break; /* belongs to a later mapping */
		uint64_t lo = start > s->start ? start : s->start;
		uint64_t hi = end < s_end ? end : s_end;
		uint64_t i0 = (lo - s->start) / ps, i1 = pages_in(s->start, hi, (uint32_t)ps);
		for (uint64_t i = i0; i < i1; i++) {
			uint64_t e = ps_pagemap_entry(s, i);
			out->present += (e & PS_PME_PRESENT) != 0;
			out->swapped += (e & PS_PME_SWAPPED) != 0;
			out->file_or_shared += (e & PS_PME_FILE) != 0;
			out->exclusive += (e & PS_PME_EXCLUSIVE) != 0;
			out->soft_dirty += (e & PS_PME_SOFT_DIRTY) != 0;
			if ((e & PS_PME_PRESENT) && (e & PS_PME_PFN_MASK))
				out->pfn_visible = 1;
		}
		if (s_end > end)
			break; /* the rest of it may belong to the next mapping */
		c->have_cur = 0;
	}
	return 0;
}

/* ---- runs ----------------------------------------------------------------------- */

int ps_pagemap_run_next(const struct ps_pagemap_section *s, uint32_t page_size, uint64_t *i,
			struct ps_pagemap_run *out)
{
	memset(out, 0, sizeof(*out));
	if (*i >= s->npages)
		return 0;
	uint64_t first = ps_pagemap_entry(s, *i);
	uint64_t flags = first & PS_PME_FLAGS;
	/* PFNs matter for present pages only; a swapped entry's low bits are
	 * a swap slot, not compacted. */
	uint64_t pfn = (first & PS_PME_PRESENT) ? first & PS_PME_PFN_MASK : 0;
	uint64_t n = 1;
	while (*i + n < s->npages) {
		uint64_t e = ps_pagemap_entry(s, *i + n);
		if ((e & PS_PME_FLAGS) != flags)
			break;
		if (flags & PS_PME_PRESENT) {
			uint64_t p = e & PS_PME_PFN_MASK;
			if (pfn ? p != pfn + n : p != 0)
				break;
		}
		n++;
	}
	out->start = s->start + *i * page_size;
	out->npages = n;
	out->flags = flags;
	out->pfn = pfn;
	*i += n;
	return 1;
}
