/*
 * text.c - the one UTF-8 validator and the one terminal-escaping routine.
 *
 * Every string that comes from a snapshot (hostname, comm, paths, cmdline,
 * meta fields, messages that name a path) may hold terminal escape
 * sequences, C1 controls, bidirectional overrides or bytes that are not
 * UTF-8.  ps_buf_add_term() is the only way such a string reaches a
 * terminal as text; ps_buf_add_json() (json.c) the only way it reaches JSON.
 */
#include "common.h"

#include <string.h>

size_t ps_utf8_len(const char *s, size_t n, uint32_t *cp_out)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t need;
	uint32_t cp, min;
	if (n == 0)
		return 0;
	if (u[0] < 0x80) {
		need = 1;
		cp = u[0];
		min = 0;
	} else if (u[0] >= 0xc2 && u[0] <= 0xdf) {
		need = 2;
		cp = u[0] & 0x1f;
		min = 0x80;
	} else if (u[0] >= 0xe0 && u[0] <= 0xef) {
		need = 3;
		cp = u[0] & 0x0f;
		min = 0x800;
	} else if (u[0] >= 0xf0 && u[0] <= 0xf4) {
		need = 4;
		cp = u[0] & 0x07;
		min = 0x10000;
	} else {
		return 0; /* continuation byte, 0xc0/0xc1 (overlong), 0xf5..0xff */
	}
	if (need > n)
		return 0;
	for (size_t i = 1; i < need; i++) {
		if ((u[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (u[i] & 0x3f);
	}
	/* Overlong forms, UTF-16 surrogates and code points past U+10FFFF
	 * are not UTF-8 (RFC 3629 section 3). */
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	if (cp_out)
		*cp_out = cp;
	return need;
}

size_t ps_utf8_valid_prefix(const char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		size_t k = ps_utf8_len(s + i, n - i, NULL);
		if (k == 0)
			break;
		i += k;
	}
	return i;
}

int ps_unsafe_codepoint(uint32_t cp)
{
	if (cp < 0x20 || cp == 0x7f)
		return 1; /* C0 controls (ESC starts ANSI sequences), DEL */
	if (cp >= 0x80 && cp <= 0x9f)
		return 1; /* C1 controls: U+009B is a one-character CSI */
	switch (cp) {
	case 0x061c: /* ARABIC LETTER MARK */
	case 0x200e: /* LEFT-TO-RIGHT MARK */
	case 0x200f: /* RIGHT-TO-LEFT MARK */
	case 0x2028: /* LINE SEPARATOR: a line break to some renderers */
	case 0x2029: /* PARAGRAPH SEPARATOR */
		return 1;
	default:
		break;
	}
	/* Bidirectional embeddings/overrides and isolates ("Trojan Source",
	 * CVE-2021-42574): they reorder what follows them on the line. */
	return (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

size_t ps_buf_add_term(struct ps_buf *b, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t cols = 0;
	ps_buf_grow(b, len);
	for (size_t i = 0; i < len;) {
		/* a run of printable ASCII other than '\\': as it is, at once */
		size_t r = i;
		while (r < len && (unsigned char)s[r] >= 0x20 && (unsigned char)s[r] < 0x7f &&
		       s[r] != '\\')
			r++;
		if (r > i) {
			ps_buf_add(b, s + i, r - i);
			cols += r - i;
			i = r;
			continue;
		}
		unsigned char c = (unsigned char)s[i];
		uint32_t cp = 0;
		size_t k = ps_utf8_len(s + i, len - i, &cp);
		if (c == '\\' || c == '\n' || c == '\t') {
			char e[2] = {'\\', c == '\\' ? '\\' : c == '\n' ? 'n' : 't'};
			ps_buf_add(b, e, 2);
			cols += 2;
			i++;
		} else if (k == 0 || ps_unsafe_codepoint(cp)) {
			/* Every byte of an unsafe character or of a byte that is
			 * not UTF-8: \xHH, so the original stays recoverable
			 * (ps_unescape) and nothing reaches the terminal raw. */
			size_t m = k ? k : 1;
			for (size_t j = 0; j < m; j++) {
				unsigned char x = (unsigned char)s[i + j];
				char e[4] = {'\\', 'x', hex[x >> 4], hex[x & 15]};
				ps_buf_add(b, e, 4);
				cols += 4;
			}
			i += m;
		} else {
			ps_buf_add(b, s + i, k);
			cols++;
			i += k;
		}
	}
	return cols;
}

size_t ps_buf_add_terms(struct ps_buf *b, const char *s)
{
	if (!s)
		s = "";
	return ps_buf_add_term(b, s, strlen(s));
}
