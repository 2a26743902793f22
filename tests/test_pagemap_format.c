/*
 * test_pagemap_format.c - the pagemap.sections reader (procfs/pagemap.c):
 * entry decoding, sections, counts per mapping, run compaction, and
 * rejection of truncated or crafted members (bad magic, version, page size,
 * counts overflowing the member or the address space, overlapping
 * sections) with an error, never a crash.  Members are built here byte by
 * byte, plus the real one in samples/procfs/pagemap.sections.
 */
#include "t.h"

#include "common.h"
#include "procfs.h"

#define PS 4096u
#define P  PS_PME_PRESENT
#define SW PS_PME_SWAPPED
#define X  PS_PME_EXCLUSIVE
#define F  PS_PME_FILE
#define SD PS_PME_SOFT_DIRTY

static void le32(struct ps_buf *b, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		ps_buf_addc(b, (char)(v >> (8 * i)));
}

static void le64(struct ps_buf *b, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		ps_buf_addc(b, (char)(v >> (8 * i)));
}

/* Header with nskip skipped ranges taken from skips[2*i], skips[2*i+1]. */
static void hdr_skips(struct ps_buf *b, uint32_t page_size, uint32_t flags, const uint64_t *skips,
		      uint64_t nskip)
{
	ps_buf_reset(b);
	ps_buf_adds(b, "PSPM");
	le32(b, 1);
	le32(b, page_size);
	le32(b, flags);
	le64(b, nskip);
	for (uint64_t i = 0; i < 2 * nskip; i++)
		le64(b, skips[i]);
}

static void hdr(struct ps_buf *b, uint32_t page_size, uint32_t flags)
{
	hdr_skips(b, page_size, flags, NULL, 0);
}

static void sect(struct ps_buf *b, uint64_t start, const uint64_t *e, uint64_t n)
{
	le64(b, start);
	le64(b, n);
	for (uint64_t i = 0; i < n; i++)
		le64(b, e[i]);
}

/* A process: mapping A [0x10000, 0x10000+64p) with pages 0,3,7 present;
 * mapping B [0x200000, +16p) with 2 swapped pages and 4 present file pages
 * with consecutive PFNs; mapping C [0x300000, +8p) empty. */
#define A 0x10000ull
#define B 0x200000ull
#define C 0x300000ull
static void sample(struct ps_buf *b, uint32_t flags)
{
	hdr(b, PS, flags);
	uint64_t a0[] = {P | X | 0x100};
	uint64_t a3[] = {P | X | 0x200};
	uint64_t a7[] = {P | X | 0x300 | SD};
	sect(b, A, a0, 1);
	sect(b, A + 3 * PS, a3, 1);
	sect(b, A + 7 * PS, a7, 1);
	uint64_t bb[] = {SW | (5ull << 5 | 1), SW | (6ull << 5 | 1), P | F | 0x1000,
			 P | F | 0x1001,       P | F | 0x1002,	     P | F | 0x1003};
	sect(b, B + 2 * PS, bb, 6);
}

static void entry_decode(void)
{
	struct ps_pme e;
	ps_pme_decode(P | X | SD | 0x12345, &e);
	CHECK(e.present && e.exclusive && e.soft_dirty && !e.swapped && !e.file);
	CHECK_U64(e.pfn, 0x12345);
	ps_pme_decode(SW | F | (77ull << 5) | 3, &e);
	CHECK(!e.present && e.swapped && e.file);
	CHECK_U64(e.swap_type, 3);
	CHECK_U64(e.swap_offset, 77);
	CHECK_U64(e.pfn, 0);
	ps_pme_decode(PS_PME_UFFD_WP | PS_PME_GUARD, &e);
	CHECK(e.uffd_wp && e.guard && !e.present && !e.swapped);
	ps_pme_decode(PS_PME_PFN_MASK | P, &e);
	CHECK_U64(e.pfn, (1ull << 55) - 1);
}

static void sections(void)
{
	struct ps_buf b = PS_BUF_INIT;
	sample(&b, PS_PAGEMAP_F_PFN_VISIBLE | PS_PAGEMAP_F_SD_KNOWN);
	struct ps_pagemap_hdr h;
	CHECK_INT(ps_pagemap_open(b.buf, b.len, &h), 0);
	CHECK_U64(h.version, 1);
	CHECK_U64(h.page_size, PS);
	CHECK_U64(h.flags, PS_PAGEMAP_F_PFN_VISIBLE | PS_PAGEMAP_F_SD_KNOWN);
	CHECK_U64(h.nskip, 0);
	struct ps_pagemap_section s;
	static const uint64_t starts[] = {A, A + 3 * PS, A + 7 * PS, B + 2 * PS};
	static const uint64_t counts[] = {1, 1, 1, 6};
	int n = 0;
	while (ps_pagemap_next(&h, &s) == 1) {
		if (n < 4) {
			CHECK_U64(s.start, starts[n]);
			CHECK_U64(s.npages, counts[n]);
		}
		n++;
	}
	CHECK_INT(n, 4);
	CHECK_INT(ps_pagemap_next(&h, &s), 0);
	CHECK_INT(ps_pagemap_check(b.buf, b.len), 0);
	/* A header alone is a valid, empty member. */
	hdr(&b, PS, 0);
	CHECK_INT(ps_pagemap_check(b.buf, b.len), 0);
	ps_buf_release(&b);
}

static void counts(void)
{
	struct ps_buf b = PS_BUF_INIT;
	sample(&b, PS_PAGEMAP_F_PFN_VISIBLE | PS_PAGEMAP_F_SD_KNOWN);
	struct ps_pagemap_cursor c;
	struct ps_pagemap_counts k;
	CHECK_INT(ps_pagemap_cursor_init(&c, b.buf, b.len), 0);
	CHECK_INT(ps_pagemap_count(&c, A, A + 64 * PS, &k), 0);
	CHECK_U64(k.pages, 64);
	CHECK_U64(k.present, 3);
	CHECK_U64(k.swapped, 0);
	CHECK_U64(k.exclusive, 3);
	CHECK_U64(k.file_or_shared, 0);
	CHECK_U64(k.soft_dirty, 1);
	CHECK_INT(k.soft_dirty_valid, 0); /* known, but not available: unknown, not clean */
	CHECK_INT(k.pfn_visible, 1);
	CHECK_INT(k.complete, 1);
	CHECK_INT(ps_pagemap_count(&c, B, B + 16 * PS, &k), 0);
	CHECK_U64(k.pages, 16);
	CHECK_U64(k.present, 4);
	CHECK_U64(k.swapped, 2);
	CHECK_U64(k.file_or_shared, 4);
	CHECK_U64(k.exclusive, 0);
	CHECK_INT(ps_pagemap_count(&c, C, C + 8 * PS, &k), 0);
	CHECK_U64(k.pages, 8);
	CHECK_U64(k.present + k.swapped, 0);
	CHECK_INT(k.pfn_visible, 0);
	/* Backwards: the cursor rewinds. */
	CHECK_INT(ps_pagemap_count(&c, A + 3 * PS, A + 4 * PS, &k), 0);
	CHECK_U64(k.present, 1);
	/* A range cutting a section in two, then the rest of it. */
	CHECK_INT(ps_pagemap_count(&c, B, B + 5 * PS, &k), 0);
	CHECK_U64(k.swapped, 2);
	CHECK_U64(k.present, 1);
	CHECK_INT(ps_pagemap_count(&c, B + 5 * PS, B + 16 * PS, &k), 0);
	CHECK_U64(k.present, 3);
	CHECK_U64(k.swapped, 0);

	/* Soft-dirty available: the count is valid. */
	sample(&b, PS_PAGEMAP_F_SD_KNOWN | PS_PAGEMAP_F_SD_AVAIL);
	CHECK_INT(ps_pagemap_cursor_init(&c, b.buf, b.len), 0);
	CHECK_INT(ps_pagemap_count(&c, A, A + 64 * PS, &k), 0);
	CHECK_INT(k.soft_dirty_valid, 1);
	CHECK_U64(k.soft_dirty, 1);
	CHECK_INT(k.pfn_visible, 1); /* from the entries, not the header flag */

	/* Skipped: B from page 4 on (a read error), and all of C: A complete,
	 * B partly examined, C not at all (unknown, not empty). */
	uint64_t sk[] = {B + 4 * PS, B + 16 * PS, C, C + 8 * PS};
	hdr_skips(&b, PS, PS_PAGEMAP_F_INCOMPLETE, sk, 2);
	uint64_t one[] = {P};
	sect(&b, B + 1 * PS, one, 1);
	CHECK_INT(ps_pagemap_check(b.buf, b.len), 0);
	struct ps_pagemap_hdr h;
	uint64_t sa = 0, se = 0;
	CHECK_INT(ps_pagemap_open(b.buf, b.len, &h), 0);
	CHECK_U64(h.nskip, 2);
	CHECK_INT(ps_pagemap_skip(&h, 1, &sa, &se), 0);
	CHECK_U64(sa, C);
	CHECK_U64(se, C + 8 * PS);
	CHECK_INT(ps_pagemap_skip(&h, 2, &sa, &se), -1);
	CHECK_INT(ps_pagemap_cursor_init(&c, b.buf, b.len), 0);
	CHECK_INT(ps_pagemap_count(&c, A, A + 64 * PS, &k), 0);
	CHECK_INT(k.complete, 1);
	CHECK_INT(ps_pagemap_count(&c, B, B + 16 * PS, &k), 0);
	CHECK_INT(k.complete, 0);
	CHECK_U64(k.examined, 4);
	CHECK_U64(k.present, 1);
	CHECK_INT(ps_pagemap_count(&c, C, C + 8 * PS, &k), 0);
	CHECK_U64(k.examined, 0);
	CHECK_INT(k.complete, 0);
	/* a mapping between two skipped ranges is complete */
	CHECK_INT(ps_pagemap_count(&c, B + 16 * PS, C, &k), 0);
	CHECK_INT(k.complete, 1);
	ps_buf_release(&b);
}

static void runs(void)
{
	struct ps_buf b = PS_BUF_INIT;
	hdr(&b, PS, 0);
	uint64_t e[] = {P | X | 10, P | X | 11, P | X | 12, P | X | 20, P | X | SD | 21,
			SW | 5,	    SW | 9,	P,	    P,		P | F | 1};
	sect(&b, A, e, 10);
	struct ps_pagemap_hdr h;
	struct ps_pagemap_section s;
	CHECK_INT(ps_pagemap_open(b.buf, b.len, &h), 0);
	CHECK_INT(ps_pagemap_next(&h, &s), 1);
	struct ps_pagemap_run r;
	uint64_t i = 0;
	static const struct {
		uint64_t page, n, pfn;
		uint64_t flags;
	} want[] = {
	    {0, 3, 10, P | X},	    /* PFNs 10..12 */
	    {3, 1, 20, P | X},	    /* PFN 20: not 13 */
	    {4, 1, 21, P | X | SD}, /* flags differ */
	    {5, 2, 0, SW},	    /* swap slots are not compacted by value */
	    {7, 2, 0, P},	    /* present, PFNs hidden (non-root): both 0 */
	    {9, 1, 1, P | F},
	};
	size_t n = 0;
	while (ps_pagemap_run_next(&s, PS, &i, &r) == 1) {
		if (n < 6) {
			CHECK_U64(r.start, A + want[n].page * PS);
			CHECK_U64(r.npages, want[n].n);
			CHECK_U64(r.pfn, want[n].pfn);
			CHECK_U64(r.flags, want[n].flags);
		}
		n++;
	}
	CHECK_INT(n, 6);
	CHECK_U64(i, 10);
	ps_buf_release(&b);
}

/* Every way a crafted member can lie: each is an error, never a crash. */
static void crafted(void)
{
	struct ps_buf b = PS_BUF_INIT;
	struct ps_pagemap_hdr h;
	struct ps_pagemap_section s;
	struct ps_pagemap_cursor c;
	struct ps_pagemap_counts k;
	uint64_t one[] = {P};

	CHECK_INT(ps_pagemap_open(NULL, 0, &h), -1);
	CHECK_INT(ps_pagemap_open("PSP", 3, &h), -1);
	hdr(&b, PS, 0);
	b.buf[0] = 'X'; /* bad magic */
	CHECK_INT(ps_pagemap_open(b.buf, b.len, &h), -1);
	CHECK_INT(ps_pagemap_check(b.buf, b.len), -1);
	CHECK_INT(ps_pagemap_cursor_init(&c, b.buf, b.len), -1);
	CHECK_INT(ps_pagemap_count(&c, 0, 4096, &k), -1);
	hdr(&b, PS, 0);
	b.buf[4] = 2; /* version 2 */
	CHECK_INT(ps_pagemap_open(b.buf, b.len, &h), -1);
	hdr(&b, 3000, 0); /* not a power of two */
	CHECK_INT(ps_pagemap_open(b.buf, b.len, &h), -1);
	hdr(&b, 0, 0);
	CHECK_INT(ps_pagemap_open(b.buf, b.len, &h), -1);
	hdr(&b, 1u << 31, 0);
	CHECK_INT(ps_pagemap_open(b.buf, b.len, &h), -1);
	hdr(&b, PS, 0);
	CHECK_INT(ps_pagemap_open(b.buf, b.len - 1, &h), -1); /* header cut */

	/* Skipped-range lists that lie. */
	static const uint64_t bad_skips[][4] = {
	    {A, A, 0, 0},		/* empty */
	    {A + 1, A + PS, 0, 0},	/* unaligned */
	    {A + PS, A, 0, 0},		/* reversed */
	    {B, B + PS, A, A + PS},	/* out of order */
	    {A, A + 2 * PS, A + PS, B}, /* overlapping */
	};
	for (size_t i = 0; i < sizeof(bad_skips) / sizeof(bad_skips[0]); i++) {
		hdr_skips(&b, PS, 0, bad_skips[i], bad_skips[i][2] ? 2 : 1);
		CHECK_INT(ps_pagemap_open(b.buf, b.len, &h), -1);
		CHECK_INT(ps_pagemap_check(b.buf, b.len), -1);
	}
	/* nskip larger than the member */
	static const uint64_t many[] = {3, 1000, UINT64_MAX / 16 + 1, UINT64_MAX};
	for (size_t i = 0; i < sizeof(many) / sizeof(many[0]); i++) {
		uint64_t two_ok[] = {A, A + PS, B, B + PS};
		hdr_skips(&b, PS, 0, two_ok, 2);
		for (int j = 0; j < 8; j++)
			b.buf[16 + j] = (char)(many[i] >> (8 * j));
		CHECK_INT(ps_pagemap_open(b.buf, b.len, &h), -1);
		CHECK_INT(ps_pagemap_cursor_init(&c, b.buf, b.len), -1);
	}

	/* npages larger than the member: the classic overflow. */
	static const uint64_t lies[] = {2, 1000, UINT64_MAX / 8 + 1, UINT64_MAX, 1ull << 61, 0};
	for (size_t i = 0; i < sizeof(lies) / sizeof(lies[0]); i++) {
		hdr(&b, PS, 0);
		le64(&b, A);
		le64(&b, lies[i]);
		le64(&b, P);
		CHECK_INT(ps_pagemap_check(b.buf, b.len), -1);
		CHECK_INT(ps_pagemap_open(b.buf, b.len, &h), 0);
		CHECK_INT(ps_pagemap_next(&h, &s), -1);
		CHECK_INT(ps_pagemap_next(&h, &s), 0); /* no resync after a bad count */
		CHECK_INT(ps_pagemap_cursor_init(&c, b.buf, b.len), 0);
		CHECK_INT(ps_pagemap_count(&c, 0, UINT64_MAX, &k), -1);
		CHECK_U64(k.present, 0); /* zeroed: store NULLs */
	}
	/* The end of a section past 2^64. */
	hdr(&b, PS, 0);
	sect(&b, UINT64_MAX - PS + 1, one, 1);
	CHECK_INT(ps_pagemap_check(b.buf, b.len), -1);
	hdr(&b, PS, 0);
	sect(&b, UINT64_MAX - 2 * PS + 1, one, 1); /* ends at 2^64 - PS: fine */
	CHECK_INT(ps_pagemap_check(b.buf, b.len), 0);
	/* Not page-aligned. */
	hdr(&b, PS, 0);
	sect(&b, A + 1, one, 1);
	CHECK_INT(ps_pagemap_check(b.buf, b.len), -1);
	/* Overlapping and out-of-order sections. */
	uint64_t two[] = {P, P};
	hdr(&b, PS, 0);
	sect(&b, A, two, 2);
	sect(&b, A + PS, one, 1);
	CHECK_INT(ps_pagemap_check(b.buf, b.len), -1);
	hdr(&b, PS, 0);
	sect(&b, B, one, 1);
	sect(&b, A, one, 1);
	CHECK_INT(ps_pagemap_check(b.buf, b.len), -1);
	/* Adjacent is fine. */
	hdr(&b, PS, 0);
	sect(&b, A, two, 2);
	sect(&b, A + 2 * PS, one, 1);
	CHECK_INT(ps_pagemap_check(b.buf, b.len), 0);

	/* Every truncation of a valid member: an error unless the cut falls
	 * exactly between sections (a shorter but well-formed member). */
	sample(&b, 0);
	size_t bounds[] = {24, 24 + 24, 24 + 48, 24 + 72, b.len};
	for (size_t cut = 0; cut <= b.len; cut++) {
		char *copy = malloc(cut ? cut : 1);
		memcpy(copy, b.buf, cut);
		int want = -1;
		for (size_t j = 0; j < 5; j++)
			if (cut == bounds[j])
				want = 0;
		CHECK_INT(ps_pagemap_check(copy, cut), want);
		if (ps_pagemap_cursor_init(&c, copy, cut) == 0)
			(void)ps_pagemap_count(&c, 0, UINT64_MAX, &k);
		free(copy);
	}
	ps_buf_release(&b);
}

/* The real member in samples/procfs/: well-formed, ascending, counts add up. */
static void real_sample(void)
{
	struct ps_buf b = PS_BUF_INIT;
	char path[4096];
	snprintf(path, sizeof(path), "%s/samples/procfs/pagemap.sections", t_srcdir);
	FILE *f = fopen(path, "rb");
	CHECK(f != NULL);
	if (!f)
		return;
	char tmp[65536];
	size_t n = fread(tmp, 1, sizeof(tmp), f);
	fclose(f);
	ps_buf_add(&b, tmp, n);
	CHECK_INT(ps_pagemap_check(b.buf, b.len), 0);
	struct ps_pagemap_hdr h;
	struct ps_pagemap_section s;
	CHECK_INT(ps_pagemap_open(b.buf, b.len, &h), 0);
	uint64_t entries = 0, present = 0, nonzero = 0;
	while (ps_pagemap_next(&h, &s) == 1) {
		entries += s.npages;
		for (uint64_t i = 0; i < s.npages; i++) {
			uint64_t e = ps_pagemap_entry(&s, i);
			nonzero += e != 0;
			present += (e & P) != 0;
		}
	}
	CHECK_U64(h.pos, b.len);
	CHECK(entries > 0);
	CHECK_U64(nonzero, entries); /* sections hold non-zero entries only */
	struct ps_pagemap_cursor c;
	struct ps_pagemap_counts k;
	CHECK_INT(ps_pagemap_cursor_init(&c, b.buf, b.len), 0);
	CHECK_INT(ps_pagemap_count(&c, 0, UINT64_MAX - 4095, &k), 0);
	CHECK_U64(k.present, present);
	ps_buf_release(&b);
}

static const struct t_case t_cases[] = {T(entry_decode), T(sections),	 T(counts), T(runs),
					T(crafted),	 T(real_sample), {0, 0}};
T_MAIN(t_cases)
