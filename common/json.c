/*
 * json.c - the one JSON string escaper and a small writer that tracks
 * commas, so no emitter hand-pastes separators.
 */
#include "common.h"

#include <math.h>
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
