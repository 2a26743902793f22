/*
 * kv.c - key/value files (meminfo, vmstat, io, /proc/stat...), NUL-separated
 * lists (cmdline, environ), and the small one-line files (statm, loadavg,
 * uptime, tainted).
 */
#include <math.h>

#include "procfs.h"
#include "scan.h"

int ps_kv_next(const char *buf, size_t len, size_t *pos, struct ps_kv *out)
{
	const char *ls, *le;
	memset(out, 0, sizeof(*out));
	out->num = PS_U64_UNKNOWN;
	if (!next_line(buf, len, pos, &ls, &le))
		return 0;
	le = rtrim(ls, le);
	const char *p = skip_blanks(ls, le), *ks = p;
	while (p < le && *p != ':' && !is_blank(*p))
		p++;
	out->key = mkstr(ks, p);
	out->value = out->unit = mkstr(p, p);
	if (p == ks)
		return -1;
	if (p < le && *p == ':') {
		p++;
	} else {
		/* sched(7)-style "se.exec_start    :   12.3" */
		const char *q = skip_blanks(p, le);
		if (q < le && *q == ':')
			p = q + 1;
	}
	p = skip_blanks(p, le);
	out->value = mkstr(p, le);
	struct ps_str t;
	if (next_tok(&p, le, &t) && tok_u64(t, &out->num) == 0)
		out->has_num = 1;
	else
		out->num = PS_U64_UNKNOWN;
	out->unit = mkstr(p, p);
	if (next_tok(&p, le, &t))
		out->unit = t;
	return 1;
}

int ps_nul_next(const char *buf, size_t len, size_t *pos, struct ps_str *item)
{
	if (!buf || *pos >= len) {
		item->p = buf;
		item->len = 0;
		return 0;
	}
	const char *s = buf + *pos;
	const char *z = memchr(s, '\0', len - *pos);
	const char *e = z ? z : buf + len;
	*item = mkstr(s, e);
	*pos = z ? (size_t)(z - buf) + 1 : len;
	return 1;
}

int ps_env_split(struct ps_str item, struct ps_str *key, struct ps_str *val)
{
	const char *eq = item.p ? memchr(item.p, '=', item.len) : NULL;
	if (!eq) {
		*key = item;
		val->p = item.p ? item.p + item.len : NULL;
		val->len = 0;
		return -1;
	}
	*key = mkstr(item.p, eq);
	*val = mkstr(eq + 1, item.p + item.len);
	return 0;
}

/* First line of buf, trailing blanks trimmed. */
static void first_line(const char *buf, size_t len, const char **s, const char **e)
{
	size_t pos = 0;
	if (!next_line(buf, len, &pos, s, e)) {
		*s = *e = buf;
		return;
	}
	*e = rtrim(*s, *e);
}

int ps_statm_parse(const char *buf, size_t len, struct ps_statm *out)
{
	uint64_t *f[] = {&out->size, &out->resident, &out->shared, &out->text,
			 &out->lib,  &out->data,     &out->dt};
	const char *p, *e;
	struct ps_str t;
	int bad = 0;
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		*f[i] = PS_U64_UNKNOWN;
	first_line(buf, len, &p, &e);
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		if (!next_tok(&p, e, &t) || tok_u64(t, f[i]) < 0) {
			*f[i] = PS_U64_UNKNOWN;
			bad = 1;
		}
	}
	if (next_tok(&p, e, &t))
		bad = 1;
	return bad ? -1 : 0;
}

int ps_io_parse(const char *buf, size_t len, struct ps_io *out)
{
	static const struct {
		const char *key;
		size_t off;
	} keys[] = {
	    {"rchar", offsetof(struct ps_io, rchar)},
	    {"wchar", offsetof(struct ps_io, wchar)},
	    {"syscr", offsetof(struct ps_io, syscr)},
	    {"syscw", offsetof(struct ps_io, syscw)},
	    {"read_bytes", offsetof(struct ps_io, read_bytes)},
	    {"write_bytes", offsetof(struct ps_io, write_bytes)},
	    {"cancelled_write_bytes", offsetof(struct ps_io, cancelled_write_bytes)},
	};
	const size_t nkeys = sizeof(keys) / sizeof(keys[0]);
	unsigned seen = 0;
	int bad = 0, r;
	size_t pos = 0;
	struct ps_kv kv;
	uint64_t unknown = PS_U64_UNKNOWN;
	for (size_t i = 0; i < nkeys; i++)
		memcpy((char *)out + keys[i].off, &unknown, sizeof(unknown));
	while ((r = ps_kv_next(buf, len, &pos, &kv)) != 0) {
		if (r < 0) {
			bad = 1;
			continue;
		}
		for (size_t i = 0; i < nkeys; i++) {
			if (!ps_str_eq(kv.key, keys[i].key))
				continue;
			uint64_t v;
			if (ps_str_u64(kv.value, &v) == 0) {
				memcpy((char *)out + keys[i].off, &v, sizeof(v));
				seen |= 1u << i;
			} else {
				bad = 1;
			}
			break;
		}
	}
	return bad || seen != (1u << nkeys) - 1 ? -1 : 0;
}

/*
 * A decimal with optional '-' and fraction, as the kernel prints with
 * "%lu.%02lu".  No strtod: the input is not NUL-terminated and strtod is
 * locale-dependent.  Up to 19 significant digits are divided once by a
 * power of ten, which is exact rounding for what the kernel prints.
 */
static int dec_double(const char *s, const char *e, double *out)
{
	int neg = 0, digits = 0, frac = 0, dot = 0;
	uint64_t mant = 0;
	double big = 0;
	if (s < e && *s == '-') {
		neg = 1;
		s++;
	}
	for (; s < e; s++) {
		if (*s == '.' && !dot) {
			dot = 1;
			continue;
		}
		if (!is_digit(*s))
			return -1;
		digits++;
		if (dot)
			frac++;
		if (mant <= (UINT64_MAX - 9) / 10 && big == 0)
			mant = mant * 10 + (unsigned)(*s - '0');
		else {
			if (big == 0)
				big = (double)mant;
			big = big * 10 + (*s - '0');
		}
	}
	if (!digits)
		return -1;
	double v = big != 0 ? big : (double)mant;
	double p10 = 1;
	for (int i = 0; i < frac && i < 400; i++)
		p10 *= 10;
	v /= p10;
	*out = neg ? -v : v;
	return 0;
}

int ps_loadavg_parse(const char *buf, size_t len, struct ps_loadavg *out)
{
	double *d[] = {&out->load1, &out->load5, &out->load15};
	const char *p, *e;
	struct ps_str t;
	int bad = 0;
	out->load1 = out->load5 = out->load15 = NAN;
	out->running = out->total = out->last_pid = PS_I64_UNKNOWN;
	first_line(buf, len, &p, &e);
	for (int i = 0; i < 3; i++) {
		if (!next_tok(&p, e, &t) || dec_double(t.p, t.p + t.len, d[i]) < 0) {
			*d[i] = NAN;
			bad = 1;
		}
	}
	if (next_tok(&p, e, &t)) {
		const char *sl = memchr(t.p, '/', t.len);
		if (!sl || dec_i64(t.p, sl, &out->running) < 0 ||
		    dec_i64(sl + 1, t.p + t.len, &out->total) < 0) {
			out->running = out->total = PS_I64_UNKNOWN;
			bad = 1;
		}
	} else {
		bad = 1;
	}
	if (!next_tok(&p, e, &t) || tok_i64(t, &out->last_pid) < 0) {
		out->last_pid = PS_I64_UNKNOWN;
		bad = 1;
	}
	return bad ? -1 : 0;
}

int ps_uptime_parse(const char *buf, size_t len, struct ps_uptime *out)
{
	const char *p, *e;
	struct ps_str t;
	int bad = 0;
	out->uptime = out->idle = NAN;
	first_line(buf, len, &p, &e);
	if (!next_tok(&p, e, &t) || dec_double(t.p, t.p + t.len, &out->uptime) < 0) {
		out->uptime = NAN;
		bad = 1;
	}
	if (!next_tok(&p, e, &t) || dec_double(t.p, t.p + t.len, &out->idle) < 0) {
		out->idle = NAN;
		bad = 1;
	}
	return bad ? -1 : 0;
}

int ps_u64_file_parse(const char *buf, size_t len, uint64_t *out)
{
	const char *p, *e;
	*out = PS_U64_UNKNOWN;
	first_line(buf, len, &p, &e);
	p = skip_blanks(p, e);
	if (dec_u64(p, e, out) < 0) {
		*out = PS_U64_UNKNOWN;
		return -1;
	}
	return 0;
}
