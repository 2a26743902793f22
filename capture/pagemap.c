/*
 * pagemap.c - proc/<pid>/pagemap.sections (DESIGN 4, schema/pagemap.md).
 *
 * For every mapping in maps (but [vsyscall]) the 8-byte pagemap entries of
 * exactly that range are read (offset = vaddr / page_size * 8) and only the
 * maximal runs of non-zero entries inside each mapping are kept: a 1 TiB
 * reservation with 3 touched pages stores 3 entries.
 *
 * Two ways to the same bytes:
 *  - plain: pread every page of every mapping and keep the non-zero runs;
 *  - PAGEMAP_SCAN (Linux 6.7+): one ioctl walk per process lists the pages
 *    that are PRESENT or SWAPPED; only those ranges (merged across small
 *    gaps) are pread, and fed to the SAME sectioniser as the plain path.
 *    Used for processes with at least SCAN_MIN_PAGES to examine: below that
 *    the ioctl costs more than it saves (bench/RESULTS.md, "Pagemap").
 * The outputs are identical because, with soft-dirty absent, a pagemap
 * entry is non-zero only for a present pte/pmd (PAGE_IS_PRESENT) or a swap
 * pte/pmd - real swap, migration, device, or a pte marker such as uffd-wp
 * or a guard region - all of which PAGEMAP_SCAN reports as PAGE_IS_SWAPPED
 * (fs/proc/task_mmu.c: pte_to_pagemap_entry vs pagemap_page_category).  With
 * CONFIG_MEM_SOFT_DIRTY the kernel also sets bit 55 on empty ptes of a
 * VM_SOFTDIRTY vma (every new vma), which no PRESENT|SWAPPED scan sees, and
 * whole vmas become non-zero anyway: then, or when availability is unknown,
 * the plain path is used.  PROCSNAP_NO_PAGEMAP_SCAN=1 forces it.
 *
 * The --pagemap-max cap bounds the mapped range examined (8 bytes per page),
 * not the bytes a path happens to read, so both paths make the same cut:
 * mappings are taken in maps order while they fit in what is left of the
 * budget; one that does not fit is skipped whole (and listed in the header)
 * and the walk goes on, so a giant reservation (an ASan shadow, a JVM or Go
 * arena) costs its own pages, not the heap, libraries and stacks after it.
 */
#include "pagemap.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "capture.h"
#include "procfs.h"

/* include/uapi/linux/fs.h (6.7+); Debian 12's headers are 6.1, so the ABI
 * is spelled out here.  The ioctl number encodes sizeof(struct) = 96. */
struct pm_scan_region {
	uint64_t start, end, categories;
};
struct pm_scan_args {
	uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages;
	uint64_t category_inverted, category_mask, category_anyof_mask, return_mask;
};
#define PM_PAGEMAP_SCAN _IOWR('f', 16, struct pm_scan_args)
#define PM_IS_PRESENT	(1ull << 3)
#define PM_IS_SWAPPED	(1ull << 4)

#define CHUNK	  32768 /* entries per pread: 256 KiB */
#define NREGIONS  1024	/* regions per PAGEMAP_SCAN call */
#define GAP_MERGE 64	/* scan regions this many pages apart are read in one pread */
/* Below this many pages to examine, plain reads are cheaper than a scan
 * (bench/RESULTS.md, "Pagemap"): ~40 preads of a few KiB cost less than an
 * ioctl walk followed by one pread per populated run. */
#define SCAN_MIN_PAGES 16384

struct range {
	uint64_t start, end;
};

struct ps_pm {
	uint64_t ps;
	int scan;	   /* 1 try PAGEMAP_SCAN, 0 never */
	int scan_ok;	   /* a scan has succeeded in this run */
	int soft_dirty;	   /* 1, 0, -1 unknown */
	uint64_t min_scan; /* pages: below, plain reads */
	uint64_t *ent;
	struct pm_scan_region *vec;
	struct range *maps; /* mappings to examine, in maps order */
	size_t nmaps, maps_cap;
	struct range *skips; /* mapped ranges not examined */
	size_t nskips, skips_cap;
	struct ps_buf body;	 /* the sections, before the header goes in front */
	void (*tick)(void *ctx); /* called after each pread chunk and scan call */
	void *tick_ctx;
};

/* Where one process's reading got to. */
struct rd {
	uint64_t bytes; /* entry bytes pread */
	uint64_t stop;	/* read error: first vaddr not read */
	size_t map;	/* read error: in pm->maps[map] */
};

static void add_range(struct range **v, size_t *n, size_t *cap, uint64_t a, uint64_t b)
{
	if (*n == *cap) {
		*cap = *cap ? 2 * *cap : 64;
		*v = ps_xrealloc(*v, *cap * sizeof(**v));
	}
	(*v)[*n].start = a;
	(*v)[*n].end = b;
	(*n)++;
}

/* The sectioniser: both paths feed it entries in ascending order. */
struct sect {
	struct ps_buf *out;
	uint64_t ps;
	size_t cnt_off; /* offset of the open section's npages field */
	uint64_t n;	/* entries in the open section */
	uint64_t next;	/* vaddr just after the open section */
	size_t map;	/* mapping the open section belongs to */
	int open;
	uint32_t flags; /* header flags learnt from the entries */
};

static void put_le32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static void put_le64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static void add_le64(struct ps_buf *b, uint64_t v)
{
	unsigned char x[8];
	put_le64(x, v);
	ps_buf_add(b, x, 8);
}

static void sect_close(struct sect *s)
{
	if (!s->open)
		return;
	put_le64((unsigned char *)s->out->buf + s->cnt_off, s->n);
	s->open = 0;
}

/* Entries e[0..n) of mapping `map`, the first at vaddr. */
static void sect_feed(struct sect *s, size_t map, uint64_t vaddr, const uint64_t *e, size_t n)
{
	size_t i = 0;
	while (i < n) {
		if (e[i] == 0) {
			sect_close(s);
			i++;
			continue;
		}
		size_t j = i;
		while (j < n && e[j] != 0) {
			if ((e[j] & PS_PME_PRESENT) && (e[j] & PS_PME_PFN_MASK))
				s->flags |= PS_PAGEMAP_F_PFN_VISIBLE;
			j++;
		}
		uint64_t va = vaddr + i * s->ps;
		if (!s->open || s->map != map || s->next != va) {
			sect_close(s);
			add_le64(s->out, va);
			s->cnt_off = s->out->len;
			add_le64(s->out, 0);
			s->open = 1;
			s->map = map;
			s->n = 0;
		}
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
		ps_buf_add(s->out, e + i, (j - i) * 8);
#else
		for (size_t k = i; k < j; k++)
			add_le64(s->out, e[k]);
#endif
		s->n += j - i;
		s->next = va + (j - i) * s->ps;
		i = j;
	}
}

/* pread n entries from vaddr into pm->ent (n <= CHUNK).  0 or errno; a
 * read that ends early means the mm is gone (pagemap_read returns 0 once
 * the process has exited): ESRCH. */
static int read_entries(struct ps_pm *pm, int fd, uint64_t vaddr, size_t n, struct rd *rd)
{
	char *p = (char *)pm->ent;
	size_t want = n * 8, got = 0;
	off_t off = (off_t)(vaddr / pm->ps * 8);
	while (got < want) {
		ssize_t r = pread(fd, p + got, want - got, off + (off_t)got);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return errno;
		}
		if (r == 0)
			return ESRCH;
		got += (size_t)r;
		if (pm->tick)
			pm->tick(pm->tick_ctx);
	}
	rd->bytes += want;
	return 0;
}

/* Read [a, b) of mapping `map` and feed it.  0 or errno (rd->stop, rd->map
 * then say where). */
static int read_range(struct ps_pm *pm, int fd, struct sect *s, size_t map, uint64_t a, uint64_t b,
		      struct rd *rd)
{
	while (a < b) {
		uint64_t left = (b - a) / pm->ps;
		size_t n = left > CHUNK ? CHUNK : (size_t)left;
		int e = read_entries(pm, fd, a, n, rd);
		if (e) {
			rd->stop = a;
			rd->map = map;
			return e;
		}
		sect_feed(s, map, a, pm->ent, n);
		a += n * pm->ps;
	}
	return 0;
}

/* Parse maps into pm->maps (to examine) and pm->skips (left out by the
 * cap).  Returns the number of pages to examine. */
static uint64_t plan(struct ps_pm *pm, const char *maps, size_t len, uint64_t max_bytes)
{
	uint64_t left = max_bytes ? max_bytes / 8 : UINT64_MAX, total = 0;
	size_t pos = 0;
	struct ps_map m;
	int r;
	pm->nmaps = pm->nskips = 0;
	while ((r = ps_maps_next(maps, len, &pos, &m)) != 0) {
		if (r < 0 || m.start >= m.end || m.start % pm->ps || m.end % pm->ps)
			continue;
		/* [vsyscall] lies above TASK_SIZE; its pagemap reads as zeros. */
		if (ps_str_eq(m.path, "[vsyscall]"))
			continue;
		uint64_t n = (m.end - m.start) / pm->ps;
		if (n > left) {
			add_range(&pm->skips, &pm->nskips, &pm->skips_cap, m.start, m.end);
			continue;
		}
		add_range(&pm->maps, &pm->nmaps, &pm->maps_cap, m.start, m.end);
		left -= n;
		total += n;
	}
	return total;
}

static int plain(struct ps_pm *pm, int fd, struct sect *s, struct rd *rd)
{
	for (size_t i = 0; i < pm->nmaps; i++) {
		int e = read_range(pm, fd, s, i, pm->maps[i].start, pm->maps[i].end, rd);
		if (e)
			return e;
	}
	return 0;
}

/* Read the region [a, b) found by the scan: its parts inside mappings,
 * starting the mapping search at *mi (regions come in ascending order). */
static int scan_region(struct ps_pm *pm, int fd, struct sect *s, size_t *mi, uint64_t a, uint64_t b,
		       struct rd *rd)
{
	while (*mi < pm->nmaps && pm->maps[*mi].end <= a)
		(*mi)++;
	for (size_t i = *mi; i < pm->nmaps && pm->maps[i].start < b; i++) {
		uint64_t lo = a > pm->maps[i].start ? a : pm->maps[i].start;
		uint64_t hi = b < pm->maps[i].end ? b : pm->maps[i].end;
		int e = read_range(pm, fd, s, i, lo, hi, rd);
		if (e)
			return e;
	}
	return 0;
}

/*
 * The scan path.  Returns 0, an errno from a pread (*stop set), or -1 when
 * the ioctl itself failed: the caller then redoes the process with plain
 * reads (and stops trying the scan if it never worked: EINVAL/ENOTTY from
 * a kernel without it).
 */
static int scanned(struct ps_pm *pm, int fd, struct sect *s, struct rd *rd)
{
	if (pm->nmaps == 0)
		return 0;
	for (size_t i = 1; i < pm->nmaps; i++)
		if (pm->maps[i].start < pm->maps[i - 1].end)
			return -1; /* not ascending: not from a kernel; plain copes */
	uint64_t end = pm->maps[pm->nmaps - 1].end;
	uint64_t cur = pm->maps[0].start;
	uint64_t pa = 0, pb = 0; /* pending region, merged across small gaps */
	int have = 0;
	size_t mi = 0;
	while (cur < end) {
		struct pm_scan_args arg;
		memset(&arg, 0, sizeof(arg));
		arg.size = sizeof(arg);
		arg.start = cur;
		arg.end = end;
		arg.vec = (uint64_t)(uintptr_t)pm->vec;
		arg.vec_len = NREGIONS;
		arg.category_anyof_mask = PM_IS_PRESENT | PM_IS_SWAPPED;
		arg.return_mask = PM_IS_PRESENT | PM_IS_SWAPPED;
		int n = ioctl(fd, PM_PAGEMAP_SCAN, &arg);
		if (pm->tick)
			pm->tick(pm->tick_ctx);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if ((errno == EINVAL || errno == ENOTTY || errno == EOPNOTSUPP) &&
			    !pm->scan_ok)
				pm->scan = 0;
			return -1;
		}
		pm->scan_ok = 1;
		for (int k = 0; k < n && k < NREGIONS; k++) {
			uint64_t a = pm->vec[k].start, b = pm->vec[k].end;
			if (b <= a || a < cur || b > end)
				continue; /* never from a sane kernel */
			if (have && a >= pb && a - pb <= GAP_MERGE * pm->ps) {
				pb = b;
				continue;
			}
			if (have) {
				int e = scan_region(pm, fd, s, &mi, pa, pb, rd);
				if (e)
					return e;
			}
			pa = a;
			pb = b;
			have = 1;
		}
		if (arg.walk_end <= cur || arg.walk_end > end)
			break; /* no progress: done (walk_end == end) or nonsense */
		cur = arg.walk_end;
	}
	if (have)
		return scan_region(pm, fd, s, &mi, pa, pb, rd);
	return 0;
}

struct ps_pm *ps_pm_create(int no_scan, int soft_dirty)
{
	struct ps_pm *pm = ps_xcalloc(1, sizeof(*pm));
	long ps = sysconf(_SC_PAGESIZE);
	pm->ps = ps > 0 ? (uint64_t)ps : 4096;
	pm->soft_dirty = soft_dirty;
	pm->scan = !no_scan && soft_dirty == 0;
	pm->min_scan = SCAN_MIN_PAGES;
	pm->ent = ps_xmalloc(CHUNK * sizeof(*pm->ent));
	pm->vec = ps_xmalloc(NREGIONS * sizeof(*pm->vec));
	ps_buf_init(&pm->body);
	return pm;
}

void ps_pm_set_tick(struct ps_pm *pm, void (*tick)(void *ctx), void *ctx)
{
	pm->tick = tick;
	pm->tick_ctx = ctx;
}

void ps_pm_free(struct ps_pm *pm)
{
	if (!pm)
		return;
	free(pm->ent);
	free(pm->vec);
	free(pm->maps);
	free(pm->skips);
	ps_buf_release(&pm->body);
	free(pm);
}

static int cmp_range(const void *a, const void *b)
{
	const struct range *x = a, *y = b;
	return (x->start > y->start) - (x->start < y->start);
}

/* out = header + skipped ranges (sorted, merged) + pm->body. */
static void assemble(struct ps_pm *pm, uint32_t flags, struct ps_buf *out)
{
	if (pm->nskips > 1)
		qsort(pm->skips, pm->nskips, sizeof(*pm->skips), cmp_range);
	size_t n = 0;
	for (size_t i = 0; i < pm->nskips; i++) {
		if (n && pm->skips[i].start <= pm->skips[n - 1].end) {
			if (pm->skips[i].end > pm->skips[n - 1].end)
				pm->skips[n - 1].end = pm->skips[i].end;
		} else {
			pm->skips[n++] = pm->skips[i];
		}
	}
	pm->nskips = n;
	unsigned char h[PS_PAGEMAP_HDR_LEN];
	memcpy(h, PS_PAGEMAP_MAGIC, 4);
	put_le32(h + 4, PS_PAGEMAP_VERSION);
	put_le32(h + 8, (uint32_t)pm->ps);
	put_le32(h + 12, flags);
	put_le64(h + 16, n);
	ps_buf_reset(out);
	ps_buf_grow(out, sizeof(h) + 16 * n + pm->body.len);
	ps_buf_add(out, h, sizeof(h));
	for (size_t i = 0; i < n; i++) {
		add_le64(out, pm->skips[i].start);
		add_le64(out, pm->skips[i].end);
	}
	ps_buf_add(out, pm->body.buf, pm->body.len);
}

int ps_pm_read(struct ps_pm *pm, int pidfd, const char *maps, size_t maps_len, uint64_t max_bytes,
	       struct ps_buf *out, struct ps_pm_result *res)
{
	memset(res, 0, sizeof(*res));
	ps_buf_reset(out);
	/* Opened relative to the pid dirfd: a recycled pid cannot answer.  The
	 * kernel decides at open whether PFNs are shown (CAP_SYS_ADMIN). */
	int fd = openat(pidfd, "pagemap", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno;
	res->opened = 1;
	if (fstat(fd, &res->sb) < 0)
		memset(&res->sb, 0, sizeof(res->sb));

	uint64_t total = plan(pm, maps, maps_len, max_bytes);
	res->truncated = pm->nskips > 0;
	struct sect s;
	struct rd rd;
	int e = -1;
	memset(&rd, 0, sizeof(rd));
	memset(&s, 0, sizeof(s));
	s.out = &pm->body;
	s.ps = pm->ps;
	ps_buf_reset(&pm->body);
	if (pm->scan && total >= pm->min_scan) {
		e = scanned(pm, fd, &s, &rd);
		res->scanned = e >= 0;
	}
	if (e < 0) {
		/* no scan, or the ioctl failed: start over with plain reads */
		memset(&s, 0, sizeof(s));
		s.out = &pm->body;
		s.ps = pm->ps;
		ps_buf_reset(&pm->body);
		e = plain(pm, fd, &s, &rd);
	}
	close(fd);
	sect_close(&s);
	res->bytes_read = rd.bytes;

	uint32_t flags = s.flags;
	if (pm->soft_dirty >= 0)
		flags |= PS_PAGEMAP_F_SD_KNOWN;
	if (pm->soft_dirty > 0)
		flags |= PS_PAGEMAP_F_SD_AVAIL;
	if (res->truncated)
		flags |= PS_PAGEMAP_F_TRUNCATED;
	if (e) {
		/* what was not read is listed as unexamined, never as empty */
		flags |= PS_PAGEMAP_F_INCOMPLETE;
		if (rd.map < pm->nmaps && rd.stop < pm->maps[rd.map].end)
			add_range(&pm->skips, &pm->nskips, &pm->skips_cap, rd.stop,
				  pm->maps[rd.map].end);
		for (size_t i = rd.map + 1; i < pm->nmaps; i++)
			add_range(&pm->skips, &pm->nskips, &pm->skips_cap, pm->maps[i].start,
				  pm->maps[i].end);
	}
	/* A read that failed before any entry came back gives no member. */
	res->got_data = !e || rd.bytes > 0;
	if (res->got_data)
		assemble(pm, flags, out);
	return e;
}

/* ---- soft-dirty availability ------------------------------------------------------ */

/* "CONFIG_MEM_SOFT_DIRTY=y" / "# CONFIG_MEM_SOFT_DIRTY is not set" in the
 * kernel's config text; -1 if the file or the line is missing. */
static int config_soft_dirty(void)
{
	struct utsname u;
	char path[128 + sizeof(u.release)];
	if (uname(&u) != 0)
		return -1;
	snprintf(path, sizeof(path), "/boot/config-%s", u.release);
	struct ps_buf b = PS_BUF_INIT;
	int r = -1;
	if (ps_read_at(AT_FDCWD, path, &b, 0, NULL) == 0) {
		if (memmem(b.buf, b.len, "\nCONFIG_MEM_SOFT_DIRTY=y", 24))
			r = 1;
		else if (memmem(b.buf, b.len, "\n# CONFIG_MEM_SOFT_DIRTY is not set", 35))
			r = 0;
	}
	ps_buf_release(&b);
	return r;
}

int ps_capture_soft_dirty(void)
{
	/* mm/vma.c: "New (or expanded) vma always get soft dirty status", and
	 * pagemap reports VM_SOFTDIRTY on every page of such a vma, present or
	 * not.  Without CONFIG_MEM_SOFT_DIRTY, VM_SOFTDIRTY is 0: bit 55 never
	 * shows.  Our own pagemap, one never-touched page: no side effect. */
	long ps = sysconf(_SC_PAGESIZE);
	int r = -1;
	if (ps > 0) {
		void *m = mmap(NULL, (size_t)ps, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m != MAP_FAILED) {
			int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
			uint64_t e = 0;
			if (fd >= 0 &&
			    pread(fd, &e, sizeof(e), (off_t)((uintptr_t)m / (uintptr_t)ps * 8)) ==
				sizeof(e))
				r = (e & PS_PME_SOFT_DIRTY) != 0;
			if (fd >= 0)
				close(fd);
			munmap(m, (size_t)ps);
		}
	}
	return r >= 0 ? r : config_soft_dirty();
}
