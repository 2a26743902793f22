/*
 * maps.c - /proc/PID/maps lines (also the header line of each smaps entry).
 *
 * Kernel (fs/proc/task_mmu.c show_vma_header_prefix):
 *   "%08lx-%08lx %c%c%c%c %08llx %02x:%02x %lu " then, if there is a name,
 *   padding to a fixed column and the name.  The name is printed with
 *   seq_file_path(..., "\n"): a newline in a file name becomes "\012", so one
 *   mapping is always one line.  Names may contain spaces and end in
 *   " (deleted)"; we keep the bytes as they are.
 */
#include "procfs.h"
#include "scan.h"

static void map_init(struct ps_map *m, const char *line)
{
	memset(m, 0, sizeof(*m));
	m->start = m->end = m->offset = m->inode = PS_U64_UNKNOWN;
	m->dev_major = m->dev_minor = UINT32_MAX;
	m->path.p = line;
}

int ps_map_parse(const char *line, size_t len, struct ps_map *out)
{
	map_init(out, line);
	if (!line)
		return -1;
	const char *p = line, *e = line + len;
	struct ps_str t;
	uint64_t v;

	/* field 1: start-end */
	if (!next_tok(&p, e, &t))
		return -1;
	const char *dash = memchr(t.p, '-', t.len);
	if (!dash || hex_u64(t.p, dash, &out->start) < 0 ||
	    hex_u64(dash + 1, t.p + t.len, &out->end) < 0)
		return -1;
	/* field 2: perms */
	if (!next_tok(&p, e, &t) || t.len != 4)
		return -1;
	memcpy(out->perms, t.p, 4);
	out->perms[4] = '\0';
	/* field 3: offset */
	if (!next_tok(&p, e, &t) || tok_hex(t, &out->offset) < 0)
		return -1;
	/* field 4: dev major:minor, hex */
	if (!next_tok(&p, e, &t))
		return -1;
	const char *colon = memchr(t.p, ':', t.len);
	if (!colon || hex_u64(t.p, colon, &v) < 0 || v > UINT32_MAX)
		return -1;
	out->dev_major = (uint32_t)v;
	if (hex_u64(colon + 1, t.p + t.len, &v) < 0 || v > UINT32_MAX)
		return -1;
	out->dev_minor = (uint32_t)v;
	/* field 5: inode */
	if (!next_tok(&p, e, &t) || tok_u64(t, &out->inode) < 0)
		return -1;
	/* field 6: the rest of the line after the padding, bytes as they are
	 * (a name that starts with blanks loses them: the padding is ambiguous) */
	p = skip_blanks(p, e);
	out->path = mkstr(p, e);
	if (out->start > out->end)
		return -1;
	return 0;
}

int ps_maps_next(const char *buf, size_t len, size_t *pos, struct ps_map *out)
{
	const char *ls, *le;
	if (!next_line(buf, len, pos, &ls, &le)) {
		map_init(out, buf);
		return 0;
	}
	return ps_map_parse(ls, (size_t)(le - ls), out) == 0 ? 1 : -1;
}

/*
 * smaps: each entry is a maps header line followed by "Key:   N kB" lines
 * (fs/proc/task_mmu.c show_smap / __show_smap) and, last, "VmFlags: ...".
 */
#define S(key, field)                                                                              \
	{                                                                                          \
		key, sizeof(key) - 1, offsetof(struct ps_smaps, field)                             \
	}
static const struct {
	const char *key;
	size_t len;
	size_t off;
} smaps_keys[] = {
    S("Size", size),
    S("KernelPageSize", kernel_page_size),
    S("MMUPageSize", mmu_page_size),
    S("Rss", rss),
    S("Pss", pss),
    S("Pss_Dirty", pss_dirty),
    S("Pss_Anon", pss_anon),
    S("Pss_File", pss_file),
    S("Pss_Shmem", pss_shmem),
    S("Shared_Clean", shared_clean),
    S("Shared_Dirty", shared_dirty),
    S("Private_Clean", private_clean),
    S("Private_Dirty", private_dirty),
    S("Referenced", referenced),
    S("Anonymous", anonymous),
    S("KSM", ksm),
    S("LazyFree", lazy_free),
    S("AnonHugePages", anon_huge_pages),
    S("ShmemPmdMapped", shmem_pmd_mapped),
    S("FilePmdMapped", file_pmd_mapped),
    S("Shared_Hugetlb", shared_hugetlb),
    S("Private_Hugetlb", private_hugetlb),
    S("Swap", swap),
    S("SwapPss", swap_pss),
    S("Locked", locked),
    S("THPeligible", thp_eligible),
    S("ProtectionKey", protection_key),
};
#undef S

/*
 * A field line ("Key:   value") rather than a header: the line does not
 * start with "hex-hex" and has a ':' after a non-empty first word.  Judging
 * by the address rather than by the key keeps a future field name with a
 * '-' in it from splitting an entry.  Returns the colon or NULL.
 */
static const char *field_colon(const char *s, const char *e)
{
	const char *p = s;
	while (p < e && ps_hexval(*p) >= 0)
		p++;
	if (p > s && p < e && *p == '-' && p + 1 < e && ps_hexval(p[1]) >= 0)
		return NULL; /* "start-end ...": a header */
	p = s;
	while (p < e && *p != ':' && !is_blank(*p))
		p++;
	return p > s && p < e && *p == ':' ? p : NULL;
}

static void smaps_init(struct ps_smaps *sm, const char *buf)
{
	uint64_t unknown = PS_U64_UNKNOWN;
	memset(sm, 0, sizeof(*sm));
	map_init(&sm->map, buf);
	for (size_t i = 0; i < sizeof(smaps_keys) / sizeof(smaps_keys[0]); i++)
		memcpy((char *)sm + smaps_keys[i].off, &unknown, sizeof(unknown));
	sm->vm_flags.p = buf;
}

/* *hint: where the search for the next key starts (the kernel prints them
 * in the table's order, so it is usually the one after the last found). */
static int smaps_field(struct ps_smaps *out, const char *ls, const char *colon, const char *le,
		       size_t *hint)
{
	const char *s = skip_blanks(colon + 1, le);
	const char *e = rtrim(s, le);
	struct ps_str t;
	uint64_t v;
	size_t n = sizeof(smaps_keys) / sizeof(smaps_keys[0]), kl = (size_t)(colon - ls);
	if (str_eq(ls, colon, "VmFlags")) {
		out->vm_flags = mkstr(s, e);
		return 0;
	}
	for (size_t k = 0; k < n; k++) {
		size_t i = (*hint + k) % n;
		if (smaps_keys[i].len != kl || memcmp(ls, smaps_keys[i].key, kl) != 0)
			continue;
		*hint = i + 1;
		if (!next_tok(&s, e, &t) || tok_u64(t, &v) < 0)
			return -1;
		memcpy((char *)out + smaps_keys[i].off, &v, sizeof(v));
		return 0;
	}
	return 0; /* a field this parser does not know */
}

int ps_smaps_next(const char *buf, size_t len, size_t *pos, struct ps_smaps *out)
{
	const char *ls, *le, *colon;
	int bad = 0;
	size_t hint = 0;
	smaps_init(out, buf);
	if (!next_line(buf, len, pos, &ls, &le))
		return 0;
	colon = field_colon(ls, le);
	if (colon) {
		/* fields without a header: report them as one broken entry */
		bad = 1;
		(void)smaps_field(out, ls, colon, le, &hint);
	} else if (ps_map_parse(ls, (size_t)(le - ls), &out->map) < 0) {
		bad = 1;
	}
	for (;;) {
		size_t save = *pos;
		if (!next_line(buf, len, pos, &ls, &le))
			break;
		colon = field_colon(ls, le);
		if (!colon) {
			*pos = save;
			break;
		}
		if (smaps_field(out, ls, colon, le, &hint) < 0)
			bad = 1;
	}
	return bad ? -1 : 1;
}

size_t ps_smaps_complete(const char *buf, size_t len)
{
	/* The last line start that is a header ends the complete part; the
	 * last line may itself be cut, so it does not count. */
	const char *end = buf + len;
	const char *last_nl = len ? memrchr(buf, '\n', len) : NULL;
	if (!last_nl)
		return 0;
	size_t cut = 0;
	for (const char *ls = buf; ls <= last_nl;) {
		const char *le = memchr(ls, '\n', (size_t)(end - ls));
		if (!le)
			break;
		if (ls > buf && !field_colon(ls, le))
			cut = (size_t)(ls - buf);
		ls = le + 1;
	}
	return cut;
}
