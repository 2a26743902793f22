/*
 * str.c - helpers on struct ps_str slices: numbers, tokens, octal escapes.
 */
#include "procfs.h"
#include "scan.h"

int ps_str_eq(struct ps_str s, const char *lit)
{
	size_t n = strlen(lit);
	return s.len == n && (n == 0 || memcmp(s.p, lit, n) == 0);
}

int ps_str_u64(struct ps_str s, uint64_t *out)
{
	if (!s.p)
		return -1;
	return dec_u64(s.p, s.p + s.len, out);
}

int ps_str_i64(struct ps_str s, int64_t *out)
{
	if (!s.p)
		return -1;
	return dec_i64(s.p, s.p + s.len, out);
}

int ps_str_hex(struct ps_str s, uint64_t *out)
{
	if (!s.p)
		return -1;
	const char *p = s.p, *e = s.p + s.len;
	if (e - p > 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
		p += 2;
	return hex_u64(p, e, out);
}

int ps_words_next(struct ps_str s, size_t *pos, struct ps_str *tok)
{
	tok->p = s.p ? s.p + s.len : NULL;
	tok->len = 0;
	if (!s.p || *pos >= s.len) {
		*pos = s.len;
		return 0;
	}
	const char *p = s.p + *pos, *e = s.p + s.len;
	int r = next_tok(&p, e, tok);
	*pos = r ? (size_t)(p - s.p) : s.len;
	return r;
}

int ps_nums_next(struct ps_str s, size_t *pos, uint64_t *out)
{
	struct ps_str t;
	*out = PS_U64_UNKNOWN;
	if (!ps_words_next(s, pos, &t))
		return 0;
	return tok_u64(t, out) == 0 ? 1 : -1;
}

size_t ps_unescape_octal(char *dst, size_t dstlen, struct ps_str s)
{
	size_t n = 0;
	for (size_t i = 0; s.p && i < s.len; i++) {
		unsigned char c = (unsigned char)s.p[i];
		if (c == '\\' && s.len - i >= 4 && s.p[i + 1] >= '0' && s.p[i + 1] <= '3' &&
		    s.p[i + 2] >= '0' && s.p[i + 2] <= '7' && s.p[i + 3] >= '0' &&
		    s.p[i + 3] <= '7') {
			c = (unsigned char)(((s.p[i + 1] - '0') << 6) | ((s.p[i + 2] - '0') << 3) |
					    (s.p[i + 3] - '0'));
			i += 3;
		}
		if (dst && n + 1 < dstlen)
			dst[n] = (char)c;
		n++;
	}
	if (dst && dstlen > 0)
		dst[n < dstlen ? n : dstlen - 1] = '\0';
	return n;
}
