/*
 * misc.c - limits, cgroup, fdinfo, readlink targets, mountinfo, modules.
 */
#include "procfs.h"
#include "scan.h"

/* ---- limits (fs/proc/base.c proc_pid_limits) ---------------------------- */

static int limit_value(struct ps_str t, int64_t *out)
{
	if (ps_str_eq(t, "unlimited")) {
		*out = PS_LIMIT_UNLIMITED;
		return 0;
	}
	return tok_i64(t, out) == 0 && *out >= 0 ? 0 : -1;
}

static int is_limit_value(struct ps_str t)
{
	return ps_str_eq(t, "unlimited") || (t.len && is_digit(t.p[0]));
}

/*
 * "%-25s %-20s %-20s %-10s\n": we split on blanks rather than trust the
 * column widths - the name is every token before the first value.
 */
int ps_limits_next(const char *buf, size_t len, size_t *pos, struct ps_limit *out)
{
	const char *ls, *le;
	for (;;) {
		memset(out, 0, sizeof(*out));
		out->soft = out->hard = PS_I64_UNKNOWN;
		out->name.p = out->units.p = buf;
		if (!next_line(buf, len, pos, &ls, &le))
			return 0;
		le = rtrim(ls, le);
		const char *p = skip_blanks(ls, le), *name_end = p;
		const char *name_start = p;
		struct ps_str t;
		int found = 0;
		while (next_tok(&p, le, &t)) {
			if (is_limit_value(t)) {
				found = 1;
				break;
			}
			name_end = t.p + t.len;
		}
		out->name = mkstr(name_start, name_end);
		out->units.p = le;
		if (!found) {
			if (out->name.len >= 5 && memcmp(out->name.p, "Limit", 5) == 0)
				continue; /* the header line */
			return -1;
		}
		int bad = out->name.len == 0;
		if (limit_value(t, &out->soft) < 0) {
			out->soft = PS_I64_UNKNOWN;
			bad = 1;
		}
		if (!next_tok(&p, le, &t) || limit_value(t, &out->hard) < 0) {
			out->hard = PS_I64_UNKNOWN;
			bad = 1;
		}
		p = skip_blanks(p, le);
		out->units = mkstr(p, le);
		return bad ? -1 : 1;
	}
}

/* ---- cgroup: "hierarchy-ID:controller-list:cgroup-path" ----------------- */

int ps_cgroup_next(const char *buf, size_t len, size_t *pos, struct ps_cgroup *out)
{
	const char *ls, *le;
	memset(out, 0, sizeof(*out));
	out->hierarchy_id = PS_I64_UNKNOWN;
	out->controllers.p = out->path.p = buf;
	if (!next_line(buf, len, pos, &ls, &le))
		return 0;
	const char *c1 = memchr(ls, ':', (size_t)(le - ls));
	if (!c1)
		return -1;
	const char *c2 = memchr(c1 + 1, ':', (size_t)(le - c1 - 1));
	if (!c2)
		return -1;
	out->controllers = mkstr(c1 + 1, c2);
	out->path = mkstr(c2 + 1, le);
	if (dec_i64(ls, c1, &out->hierarchy_id) < 0) {
		out->hierarchy_id = PS_I64_UNKNOWN;
		return -1;
	}
	return 1;
}

/* ---- fdinfo (fs/proc/fd.c seq_show) ------------------------------------- */

int ps_fdinfo_parse(const char *buf, size_t len, struct ps_fdinfo *out)
{
	struct ps_kv kv;
	size_t pos = 0;
	int r, bad = 0, seen = 0;
	out->pos = out->flags = out->mnt_id = out->ino = PS_U64_UNKNOWN;
	while ((r = ps_kv_next(buf, len, &pos, &kv)) != 0) {
		uint64_t *f = NULL;
		int octal = 0;
		if (r < 0)
			continue;
		if (ps_str_eq(kv.key, "pos"))
			f = &out->pos;
		else if (ps_str_eq(kv.key, "flags")) {
			f = &out->flags;
			octal = 1; /* "flags:\t0%o" */
		} else if (ps_str_eq(kv.key, "mnt_id"))
			f = &out->mnt_id;
		else if (ps_str_eq(kv.key, "ino"))
			f = &out->ino;
		if (!f || *f != PS_U64_UNKNOWN)
			continue; /* other lines, or a repeated key (e.g. in tfd lines) */
		const char *s = kv.value.p, *e = s + kv.value.len;
		if ((octal ? oct_u64(s, e, f) : dec_u64(s, e, f)) < 0) {
			*f = PS_U64_UNKNOWN;
			bad = 1;
		} else if (f == &out->pos || f == &out->flags) {
			seen++;
		}
	}
	return bad || seen != 2 ? -1 : 0;
}

/* ---- readlink targets ------------------------------------------------------ */

static int has_prefix(const char *s, const char *e, const char *lit)
{
	size_t n = strlen(lit);
	return (size_t)(e - s) >= n && memcmp(s, lit, n) == 0;
}

int ps_link_parse(const char *buf, size_t len, struct ps_link *out)
{
	static const char deleted[] = " (deleted)";
	const size_t dlen = sizeof(deleted) - 1;
	out->type = PS_LINK_UNKNOWN;
	out->inode = PS_U64_UNKNOWN;
	out->name.p = buf;
	out->name.len = buf ? len : 0;
	out->deleted = 0;
	if (!buf || len == 0)
		return -1;
	const char *s = buf, *e = buf + len;
	if (*s == '/') {
		/* d_path(): " (deleted)" is appended to an unlinked file's path */
		if (len > dlen && memcmp(e - dlen, deleted, dlen) == 0) {
			out->deleted = 1;
			e -= dlen;
		}
		if (has_prefix(s, e, "/memfd:")) {
			out->type = PS_LINK_MEMFD;
			s += 7;
		} else {
			out->type = PS_LINK_PATH;
		}
		out->name = mkstr(s, e);
		return 0;
	}
	const char *colon = memchr(s, ':', len);
	if (!colon) {
		out->type = PS_LINK_OTHER;
		return 0;
	}
	const char *r = colon + 1;
	if (str_eq(s, colon, "anon_inode")) {
		/* "anon_inode:[eventfd]", "anon_inode:inotify" */
		out->type = PS_LINK_ANON_INODE;
		if (e - r >= 2 && *r == '[' && e[-1] == ']')
			out->name = mkstr(r + 1, e - 1);
		else
			out->name = mkstr(r, e);
		return 0;
	}
	if (e - r < 2 || *r != '[' || e[-1] != ']') {
		out->type = PS_LINK_OTHER;
		return 0;
	}
	/* "type:[inode]" from a pseudo filesystem's d_dname */
	if (dec_u64(r + 1, e - 1, &out->inode) < 0) {
		out->inode = PS_U64_UNKNOWN;
		return -1;
	}
	out->name = mkstr(s, colon);
	if (str_eq(s, colon, "socket"))
		out->type = PS_LINK_SOCKET;
	else if (str_eq(s, colon, "pipe"))
		out->type = PS_LINK_PIPE;
	else
		out->type = PS_LINK_NS;
	return 0;
}

const char *ps_link_type_name(enum ps_link_type t)
{
	switch (t) {
	case PS_LINK_UNKNOWN:
		break;
	case PS_LINK_PATH:
		return "path";
	case PS_LINK_SOCKET:
		return "socket";
	case PS_LINK_PIPE:
		return "pipe";
	case PS_LINK_ANON_INODE:
		return "anon_inode";
	case PS_LINK_NS:
		return "ns";
	case PS_LINK_MEMFD:
		return "memfd";
	case PS_LINK_OTHER:
		return "other";
	}
	return "unknown";
}

/* ---- mountinfo (fs/proc_namespace.c show_mountinfo) ---------------------- */

int ps_mountinfo_next(const char *buf, size_t len, size_t *pos, struct ps_mountinfo *out)
{
	const char *ls, *le;
	struct ps_str t;
	uint64_t v;
	memset(out, 0, sizeof(*out));
	out->mount_id = out->parent_id = PS_U64_UNKNOWN;
	out->major = out->minor = UINT32_MAX;
	out->root.p = out->mount_point.p = out->options.p = out->optional.p = buf;
	out->fstype.p = out->source.p = out->super_options.p = buf;
	if (!next_line(buf, len, pos, &ls, &le))
		return 0;
	le = rtrim(ls, le);
	const char *p = ls;
	if (!next_tok(&p, le, &t) || tok_u64(t, &v) < 0)
		return -1;
	out->mount_id = v;
	if (!next_tok(&p, le, &t) || tok_u64(t, &v) < 0)
		return -1;
	out->parent_id = v;
	if (!next_tok(&p, le, &t))
		return -1;
	const char *colon = memchr(t.p, ':', t.len);
	if (!colon || dec_u64(t.p, colon, &v) < 0 || v > UINT32_MAX)
		return -1;
	out->major = (uint32_t)v;
	if (dec_u64(colon + 1, t.p + t.len, &v) < 0 || v > UINT32_MAX)
		return -1;
	out->minor = (uint32_t)v;
	if (!next_tok(&p, le, &out->root) || !next_tok(&p, le, &out->mount_point) ||
	    !next_tok(&p, le, &out->options))
		return -1;
	/* optional fields up to the lone "-" */
	const char *ostart = skip_blanks(p, le), *oend = ostart;
	int sep = 0;
	while (next_tok(&p, le, &t)) {
		if (ps_str_eq(t, "-")) {
			sep = 1;
			break;
		}
		oend = t.p + t.len;
	}
	out->optional = mkstr(ostart, oend);
	if (!sep || !next_tok(&p, le, &out->fstype) || !next_tok(&p, le, &out->source))
		return -1;
	p = skip_blanks(p, le);
	out->super_options = mkstr(p, le);
	return 1;
}

/* ---- modules (kernel/module/procfs.c m_show) ----------------------------- */

int ps_modules_next(const char *buf, size_t len, size_t *pos, struct ps_module *out)
{
	const char *ls, *le;
	struct ps_str t;
	int bad = 0;
	memset(out, 0, sizeof(*out));
	out->size = out->address = PS_U64_UNKNOWN;
	out->refcount = PS_I64_UNKNOWN;
	out->name.p = out->used_by.p = out->state.p = out->taint.p = buf;
	if (!next_line(buf, len, pos, &ls, &le))
		return 0;
	le = rtrim(ls, le);
	const char *p = ls;
	if (!next_tok(&p, le, &out->name))
		return -1;
	if (!next_tok(&p, le, &t) || tok_u64(t, &out->size) < 0) {
		out->size = PS_U64_UNKNOWN;
		return -1;
	}
	/* " %i " refcount, or "-" without CONFIG_MODULE_UNLOAD */
	if (!next_tok(&p, le, &t))
		return -1;
	if (!ps_str_eq(t, "-") && tok_i64(t, &out->refcount) < 0) {
		out->refcount = PS_I64_UNKNOWN;
		bad = 1;
	}
	if (!next_tok(&p, le, &out->used_by) || !next_tok(&p, le, &out->state))
		return -1;
	if (!next_tok(&p, le, &t) || ps_str_hex(t, &out->address) < 0) {
		out->address = PS_U64_UNKNOWN;
		return -1;
	}
	out->taint.p = p;
	if (next_tok(&p, le, &t)) {
		if (t.len < 2 || t.p[0] != '(' || t.p[t.len - 1] != ')')
			bad = 1;
		else
			out->taint = mkstr(t.p + 1, t.p + t.len - 1);
	}
	return bad ? -1 : 1;
}
