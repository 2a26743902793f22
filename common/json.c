/*
 * json.c - the one JSON string escaper and a small writer that tracks
 * commas, so no emitter hand-pastes separators.
 */
#include "common.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void ps_buf_add_json(struct ps_buf *b, const char *s, size_t len)
{
	ps_buf_grow(b, len + 2);
	ps_buf_addc(b, '"');
	for (size_t i = 0; i < len;) {
		/* A run of printable ASCII but '"' and '\\' goes as it is, in one
		 * copy (export writes a GB of this at N=10,000). */
		size_t j = i;
		while (j < len && (unsigned char)s[j] >= 0x20 && (unsigned char)s[j] < 0x7f &&
		       s[j] != '"' && s[j] != '\\')
			j++;
		if (j > i) {
			ps_buf_add(b, s + i, j - i);
			i = j;
			continue;
		}
		unsigned char c = (unsigned char)s[i];
		uint32_t cp = 0;
		size_t k = ps_utf8_len(s + i, len - i, &cp);
		if (c == '"' || c == '\\') {
			char e[2] = {'\\', (char)c};
			ps_buf_add(b, e, 2);
			i++;
		} else if (c == '\n') {
			ps_buf_add(b, "\\n", 2);
			i++;
		} else if (c == '\t') {
			ps_buf_add(b, "\\t", 2);
			i++;
		} else if (k == 0) {
			/* Not UTF-8: the byte value as a code point (lossless for
			 * ASCII; documented in schema/diff.schema.json and README). */
			ps_buf_addf(b, "\\u%04x", c);
			i++;
		} else if (ps_unsafe_codepoint(cp)) {
			/* Controls and bidi overrides as \uXXXX: the same text for a
			 * JSON reader, nothing raw for a terminal showing the JSON. */
			ps_buf_addf(b, "\\u%04x", (unsigned)cp);
			i += k;
		} else {
			ps_buf_add(b, s + i, k);
			i += k;
		}
	}
	ps_buf_addc(b, '"');
}

void ps_json_init(struct ps_json *j, struct ps_buf *b)
{
	memset(j, 0, sizeof(*j));
	j->b = b;
}

/* Before a value or a key: the comma if this container already holds one,
 * and a line break in a container written one element per line. */
static void sep(struct ps_json *j)
{
	if (j->after_key) {
		j->after_key = 0;
		return;
	}
	if (j->depth > 0 && j->depth <= PS_JSON_MAXDEPTH) {
		unsigned d = j->depth - 1;
		if (j->count[d]++)
			ps_buf_addc(j->b, ',');
		if (j->lines[d])
			ps_buf_addc(j->b, '\n');
	}
}

static void open_(struct ps_json *j, char c, int lines)
{
	sep(j);
	ps_buf_addc(j->b, c);
	if (j->depth < PS_JSON_MAXDEPTH) {
		j->count[j->depth] = 0;
		j->lines[j->depth] = (unsigned char)(lines != 0);
	}
	j->depth++;
}

static void close_(struct ps_json *j, char c)
{
	if (j->depth) {
		j->depth--;
		if (j->depth < PS_JSON_MAXDEPTH && j->lines[j->depth] && j->count[j->depth])
			ps_buf_addc(j->b, '\n');
	}
	ps_buf_addc(j->b, c);
}

void ps_json_obj(struct ps_json *j)
{
	open_(j, '{', 0);
}

void ps_json_obj_lines(struct ps_json *j)
{
	open_(j, '{', 1);
}

void ps_json_obj_end(struct ps_json *j)
{
	close_(j, '}');
}

void ps_json_arr(struct ps_json *j)
{
	open_(j, '[', 0);
}

void ps_json_arr_lines(struct ps_json *j)
{
	open_(j, '[', 1);
}

void ps_json_arr_end(struct ps_json *j)
{
	close_(j, ']');
}

void ps_json_key(struct ps_json *j, const char *name)
{
	sep(j);
	ps_buf_add_json(j->b, name, strlen(name));
	ps_buf_addc(j->b, ':');
	j->after_key = 1;
}

void ps_json_str(struct ps_json *j, const char *s, size_t len)
{
	sep(j);
	ps_buf_add_json(j->b, s, len);
}

void ps_json_strz(struct ps_json *j, const char *s)
{
	if (!s) {
		ps_json_null(j);
		return;
	}
	ps_json_str(j, s, strlen(s));
}

void ps_json_int(struct ps_json *j, int64_t v)
{
	sep(j);
	/* digits backwards, without printf's machinery */
	char t[24];
	size_t n = sizeof(t);
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
	do {
		t[--n] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		t[--n] = '-';
	ps_buf_add(j->b, t + n, sizeof(t) - n);
}

void ps_json_double(struct ps_json *j, double v)
{
	sep(j);
	if (isfinite(v))
		ps_buf_addf(j->b, "%.17g", v);
	else
		ps_buf_adds(j->b, "null"); /* JSON has no NaN or Infinity */
}

void ps_json_bool(struct ps_json *j, int v)
{
	sep(j);
	ps_buf_adds(j->b, v ? "true" : "false");
}

void ps_json_null(struct ps_json *j)
{
	sep(j);
	ps_buf_adds(j->b, "null");
}

void ps_json_raw(struct ps_json *j, const char *text)
{
	sep(j);
	ps_buf_adds(j->b, text);
}

/* ---- reading (struct ps_jr) ----------------------------------------------- */

static const char *jr_ws(const char *p, const char *e)
{
	while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

/* The end of the string literal at p (*p == '"'), or NULL if it is not one.
 * Bytes from 0x80 are taken as they are (as SQLite's json_valid does). */
static const char *jr_str_end(const char *p, const char *e)
{
	for (p++; p < e;) {
		unsigned char c = (unsigned char)*p;
		if (c == '"')
			return p + 1;
		if (c < 0x20)
			return NULL;
		if (c != '\\') {
			p++;
			continue;
		}
		if (++p >= e)
			return NULL;
		if (*p == 'u') {
			if (e - p < 5)
				return NULL;
			for (int i = 1; i <= 4; i++)
				if (ps_hexval(p[i]) < 0)
					return NULL;
			p += 5;
		} else if (strchr("\"\\/bfnrt", *p) && *p) {
			p++;
		} else {
			return NULL;
		}
	}
	return NULL;
}

static const char *jr_digits(const char *p, const char *e)
{
	const char *q = p;
	while (q < e && *q >= '0' && *q <= '9')
		q++;
	return q > p ? q : NULL;
}

/* The end of the number at p (RFC 8259 grammar), or NULL; *integer: no
 * fraction and no exponent. */
static const char *jr_num_end(const char *p, const char *e, int *integer)
{
	*integer = 1;
	if (p < e && *p == '-')
		p++;
	if (p < e && *p == '0')
		p++;
	else if (!(p = jr_digits(p, e)))
		return NULL;
	if (p < e && *p == '.') {
		*integer = 0;
		if (!(p = jr_digits(p + 1, e)))
			return NULL;
	}
	if (p < e && (*p == 'e' || *p == 'E')) {
		*integer = 0;
		p++;
		if (p < e && (*p == '+' || *p == '-'))
			p++;
		if (!(p = jr_digits(p, e)))
			return NULL;
	}
	return p;
}

static const char *jr_lit_end(const char *p, const char *e, const char *lit)
{
	size_t n = strlen(lit);
	return (size_t)(e - p) >= n && memcmp(p, lit, n) == 0 ? p + n : NULL;
}

/* The end of the scalar at p, or NULL if there is none. */
static const char *jr_scalar_end(const char *p, const char *e)
{
	int integer;
	switch (*p) {
	case '"':
		return jr_str_end(p, e);
	case 't':
		return jr_lit_end(p, e, "true");
	case 'f':
		return jr_lit_end(p, e, "false");
	case 'n':
		return jr_lit_end(p, e, "null");
	default:
		return jr_num_end(p, e, &integer);
	}
}

/* Past an object member's key and its ':' (and the blanks after), or NULL. */
static const char *jr_member_key(const char *p, const char *e)
{
	if (p >= e || *p != '"' || !(p = jr_str_end(p, e)))
		return NULL;
	p = jr_ws(p, e);
	return p < e && *p == ':' ? jr_ws(p + 1, e) : NULL;
}

int ps_jr_open(struct ps_jr *r, const char *s, size_t n)
{
	const char *p = s, *e = s + n;
	char stack[PS_JR_MAXDEPTH];
	int d = 0;
	r->p = r->end = s;
	p = jr_ws(p, e);
	for (;;) {
		/* at a value */
		if (p >= e)
			return -1;
		if (*p == '{' || *p == '[') {
			if (d == PS_JR_MAXDEPTH)
				return -1;
			char close = *p == '{' ? '}' : ']';
			stack[d++] = close;
			p = jr_ws(p + 1, e);
			if (p < e && *p == close) {
				d--;
				p++;
			} else {
				if (close == '}' && !(p = jr_member_key(p, e))) /* a key first */
					return -1;
				continue;
			}
		} else if (!(p = jr_scalar_end(p, e))) {
			return -1;
		}
		/* after a value: closers, then a comma or the end */
		for (;;) {
			p = jr_ws(p, e);
			if (!d) {
				if (p != e)
					return -1;
				r->p = jr_ws(s, e);
				r->end = e;
				return 0;
			}
			if (p >= e)
				return -1;
			if (*p != stack[d - 1])
				break;
			d--;
			p++;
		}
		if (*p != ',')
			return -1;
		p = jr_ws(p + 1, e);
		if (stack[d - 1] == '}' && !(p = jr_member_key(p, e)))
			return -1;
	}
}

enum ps_jtype ps_jr_peek(const struct ps_jr *r)
{
	if (r->p >= r->end)
		return PS_JT_END;
	switch (*r->p) {
	case '{':
		return PS_JT_OBJ;
	case '[':
		return PS_JT_ARR;
	case '"':
		return PS_JT_STR;
	case 't':
		return PS_JT_TRUE;
	case 'f':
		return PS_JT_FALSE;
	case 'n':
		return PS_JT_NULL;
	case ']':
	case '}':
	case ',':
		return PS_JT_END;
	default: {
		int integer;
		const char *q = jr_num_end(r->p, r->end, &integer);
		return !q ? PS_JT_END : integer ? PS_JT_INT : PS_JT_REAL;
	}
	}
}

int ps_jr_enter(struct ps_jr *r)
{
	enum ps_jtype t = ps_jr_peek(r);
	if (t != PS_JT_ARR && t != PS_JT_OBJ)
		return 0;
	r->p = jr_ws(r->p + 1, r->end);
	return 1;
}

/* Past a ',' before the next member, or past the closer (0). */
static int jr_more(struct ps_jr *r, char close)
{
	r->p = jr_ws(r->p, r->end);
	if (r->p < r->end && *r->p == ',')
		r->p = jr_ws(r->p + 1, r->end);
	if (r->p >= r->end || *r->p == close) {
		if (r->p < r->end)
			r->p++;
		r->p = jr_ws(r->p, r->end);
		return 0;
	}
	return 1;
}

int ps_jr_elem(struct ps_jr *r)
{
	return jr_more(r, ']');
}

/* Decode the string literal at p..q (quotes included) into out. */
static void jr_unescape(const char *p, const char *q, struct ps_buf *out)
{
	ps_buf_reset(out);
	for (p++, q--; p < q;) {
		const char *run = p;
		while (p < q && *p != '\\')
			p++;
		ps_buf_add(out, run, (size_t)(p - run));
		if (p >= q)
			break;
		p++; /* the backslash; the literal was checked whole */
		char c = *p++;
		static const char from[] = "bfnrt", to[] = "\b\f\n\r\t";
		const char *k = c ? strchr(from, c) : NULL;
		if (c != 'u') { /* " \ / stand for themselves */
			ps_buf_addc(out, k ? to[k - from] : c);
			continue;
		}
		uint32_t cp = 0;
		for (int i = 0; i < 4; i++)
			cp = cp << 4 | (uint32_t)ps_hexval(p[i]);
		p += 4;
		if (cp >= 0xd800 && cp < 0xdc00 && q - p >= 6 && p[0] == '\\' && p[1] == 'u') {
			uint32_t lo = 0;
			int ok = 1;
			for (int i = 2; i < 6; i++) {
				int h = ps_hexval(p[i]);
				ok &= h >= 0;
				lo = lo << 4 | (uint32_t)(h & 15);
			}
			if (ok && lo >= 0xdc00 && lo < 0xe000) {
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				p += 6;
			}
		}
		if (cp >= 0xd800 && cp < 0xe000)
			cp = 0xfffd; /* a lone surrogate */
		char u[4];
		size_t n;
		if (cp < 0x80) {
			u[0] = (char)cp;
			n = 1;
		} else if (cp < 0x800) {
			u[0] = (char)(0xc0 | cp >> 6);
			u[1] = (char)(0x80 | (cp & 0x3f));
			n = 2;
		} else if (cp < 0x10000) {
			u[0] = (char)(0xe0 | cp >> 12);
			u[1] = (char)(0x80 | (cp >> 6 & 0x3f));
			u[2] = (char)(0x80 | (cp & 0x3f));
			n = 3;
		} else {
			u[0] = (char)(0xf0 | cp >> 18);
			u[1] = (char)(0x80 | (cp >> 12 & 0x3f));
			u[2] = (char)(0x80 | (cp >> 6 & 0x3f));
			u[3] = (char)(0x80 | (cp & 0x3f));
			n = 4;
		}
		ps_buf_add(out, u, n);
	}
}

int ps_jr_key(struct ps_jr *r, struct ps_buf *key)
{
	if (!jr_more(r, '}'))
		return 0;
	const char *q = r->p < r->end && *r->p == '"' ? jr_str_end(r->p, r->end) : NULL;
	if (!q) { /* not at a key: a misuse (inside an array); end the walk */
		r->p = r->end;
		return 0;
	}
	jr_unescape(r->p, q, key);
	r->p = jr_ws(q, r->end);
	if (r->p < r->end && *r->p == ':')
		r->p = jr_ws(r->p + 1, r->end);
	return 1;
}

void ps_jr_skip(struct ps_jr *r)
{
	const char *p = r->p, *e = r->end;
	if (p >= e)
		return;
	if (*p != '[' && *p != '{') {
		const char *q = jr_scalar_end(p, e);
		r->p = jr_ws(q ? q : e, e);
		return;
	}
	size_t d = 0;
	while (p < e) {
		char c = *p;
		if (c == '"') {
			const char *q = jr_str_end(p, e);
			p = q ? q : e;
			continue;
		}
		p++;
		if (c == '[' || c == '{')
			d++;
		else if ((c == ']' || c == '}') && --d == 0)
			break;
	}
	r->p = jr_ws(p, e);
}

/* The number at p (checked) as a double. */
static double jr_real(const char *p, const char *e, struct ps_buf *buf)
{
	int integer;
	const char *q = jr_num_end(p, e, &integer);
	size_t n = q ? (size_t)(q - p) : 0;
	char t[64];
	if (n < sizeof(t)) {
		memcpy(t, p, n);
		t[n] = '\0';
		return strtod(t, NULL);
	}
	ps_buf_reset(buf); /* 64 characters or more */
	ps_buf_add(buf, p, n);
	ps_buf_addc(buf, '\0');
	return strtod(buf->buf, NULL);
}

void ps_jr_value(struct ps_jr *r, struct ps_jval *v, struct ps_buf *buf)
{
	memset(v, 0, sizeof(*v));
	v->type = ps_jr_peek(r);
	const char *p = r->p;
	switch (v->type) {
	case PS_JT_STR: {
		const char *q = jr_str_end(p, r->end);
		jr_unescape(p, q, buf);
		v->s = buf->buf ? buf->buf : "";
		v->n = buf->len;
		break;
	}
	case PS_JT_INT: {
		/* digits that fit in 64 bits; more is a real, as SQLite reads it */
		int neg = *p == '-';
		uint64_t u = 0, lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
		for (const char *q = p + neg; q < r->end && *q >= '0' && *q <= '9'; q++) {
			unsigned dgt = (unsigned)(*q - '0');
			if (u > (lim - dgt) / 10) {
				v->type = PS_JT_REAL;
				break;
			}
			u = u * 10 + dgt;
		}
		if (v->type == PS_JT_INT)
			v->i = neg ? (int64_t)(0 - u) : (int64_t)u;
		else
			v->d = jr_real(p, r->end, buf);
		break;
	}
	case PS_JT_REAL:
		v->d = jr_real(p, r->end, buf);
		break;
	case PS_JT_END:
		return; /* at a closer: nothing to read */
	default:
		break;
	}
	v->raw = p;
	ps_jr_skip(r);
	v->raw_len = (size_t)(r->p - p);
	while (v->raw_len && strchr(" \t\n\r", p[v->raw_len - 1]))
		v->raw_len--;
}
