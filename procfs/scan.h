/*
 * scan.h - private lexing helpers shared by the procfs parsers.
 * All static inline: not part of the API, never installed.  Every helper
 * works on a half-open range [s, e) and never looks outside it.
 */
#ifndef PS_PROCFS_SCAN_H
#define PS_PROCFS_SCAN_H

#include <stdint.h>
#include <string.h>

#include "common.h"
#include "procfs.h"

static inline int is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static inline int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static inline struct ps_str mkstr(const char *s, const char *e)
{
	struct ps_str r = {s, (size_t)(e - s)};
	return r;
}

/*
 * Next line from *pos: [*ls, *le) without the '\n'.  The last line may lack
 * its newline.  Returns 0 at the end (also when *pos is beyond len).
 */
static inline int next_line(const char *buf, size_t len, size_t *pos, const char **ls,
			    const char **le)
{
	if (!buf || *pos >= len)
		return 0;
	const char *s = buf + *pos;
	const char *nl = memchr(s, '\n', len - *pos);
	*ls = s;
	*le = nl ? nl : buf + len;
	*pos = nl ? (size_t)(nl - buf) + 1 : len;
	return 1;
}

static inline const char *skip_blanks(const char *s, const char *e)
{
	while (s < e && is_blank(*s))
		s++;
	return s;
}

static inline const char *rtrim(const char *s, const char *e)
{
	while (e > s && (is_blank(e[-1]) || e[-1] == '\r'))
		e--;
	return e;
}

/* Next blank-separated token from *s; 0 if none left. */
static inline int next_tok(const char **s, const char *e, struct ps_str *tok)
{
	const char *p = skip_blanks(*s, e);
	const char *q = p;
	if (p >= e)
		return 0;
	while (q < e && !is_blank(*q))
		q++;
	*tok = mkstr(p, q);
	*s = q;
	return 1;
}

static inline int dec_u64(const char *s, const char *e, uint64_t *out)
{
	uint64_t v = 0;
	if (s >= e)
		return -1;
	for (; s < e; s++) {
		if (!is_digit(*s))
			return -1;
		unsigned d = (unsigned)(*s - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

static inline int dec_i64(const char *s, const char *e, int64_t *out)
{
	int neg = 0;
	uint64_t u;
	if (s < e && *s == '-') {
		neg = 1;
		s++;
	}
	if (dec_u64(s, e, &u) < 0 || u > (uint64_t)INT64_MAX)
		return -1;
	*out = neg ? -(int64_t)u : (int64_t)u;
	return 0;
}

static inline int hex_u64(const char *s, const char *e, uint64_t *out)
{
	uint64_t v = 0;
	if (s >= e)
		return -1;
	for (; s < e; s++) {
		int d = ps_hexval(*s);
		if (d < 0 || v > (UINT64_MAX >> 4))
			return -1;
		v = (v << 4) | (unsigned)d;
	}
	*out = v;
	return 0;
}

static inline int oct_u64(const char *s, const char *e, uint64_t *out)
{
	uint64_t v = 0;
	if (s >= e)
		return -1;
	for (; s < e; s++) {
		if (*s < '0' || *s > '7' || v > (UINT64_MAX >> 3))
			return -1;
		v = (v << 3) | (unsigned)(*s - '0');
	}
	*out = v;
	return 0;
}

static inline int tok_u64(struct ps_str t, uint64_t *out)
{
	return dec_u64(t.p, t.p + t.len, out);
}

static inline int tok_i64(struct ps_str t, int64_t *out)
{
	return dec_i64(t.p, t.p + t.len, out);
}

static inline int tok_hex(struct ps_str t, uint64_t *out)
{
	return hex_u64(t.p, t.p + t.len, out);
}

static inline int str_eq(const char *s, const char *e, const char *lit)
{
	size_t n = strlen(lit);
	return (size_t)(e - s) == n && memcmp(s, lit, n) == 0;
}

#endif
