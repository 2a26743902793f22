/*
 * test_common_text.c - common's text primitives byte by byte: the UTF-8
 * validator (RFC 3629 edge cases), the terminal escaper (every C0, DEL, C1
 * and bidi control, invalid bytes, round trip through ps_unescape), the
 * JSON string escaper and writer, and the errno names.
 */
#include "t.h"

#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>

static size_t ulen(const char *s, size_t n)
{
	return ps_utf8_len(s, n, NULL);
}

static void utf8_valid(void)
{
	uint32_t cp = 0;
	CHECK_U64(ps_utf8_len("A", 1, &cp), 1);
	CHECK_U64(cp, 0x41);
	CHECK_U64(ps_utf8_len("\x00", 1, &cp), 1);
	CHECK_U64(cp, 0);
	CHECK_U64(ps_utf8_len("\xc2\x80", 2, &cp), 2); /* U+0080, the first 2-byte */
	CHECK_U64(cp, 0x80);
	CHECK_U64(ps_utf8_len("\xdf\xbf", 2, &cp), 2);
	CHECK_U64(cp, 0x7ff);
	CHECK_U64(ps_utf8_len("\xe0\xa0\x80", 3, &cp), 3);
	CHECK_U64(cp, 0x800);
	CHECK_U64(ps_utf8_len("\xe2\x80\xae", 3, &cp), 3);
	CHECK_U64(cp, 0x202e);
	CHECK_U64(ps_utf8_len("\xed\x9f\xbf", 3, &cp), 3); /* U+D7FF, before surrogates */
	CHECK_U64(ps_utf8_len("\xee\x80\x80", 3, &cp), 3); /* U+E000, after them */
	CHECK_U64(ps_utf8_len("\xef\xbf\xbf", 3, &cp), 3);
	CHECK_U64(cp, 0xffff);
	CHECK_U64(ps_utf8_len("\xf0\x90\x80\x80", 4, &cp), 4);
	CHECK_U64(cp, 0x10000);
	CHECK_U64(ps_utf8_len("\xf4\x8f\xbf\xbf", 4, &cp), 4);
	CHECK_U64(cp, 0x10ffff);
	CHECK_U64(ps_utf8_len("caf\xc3\xa9", 5, NULL), 1);
	CHECK_U64(ps_utf8_valid_prefix("caf\xc3\xa9", 5), 5);
}

static void utf8_invalid(void)
{
	CHECK_U64(ulen("", 0), 0);
	CHECK_U64(ulen("\x80", 1), 0);		   /* stray continuation */
	CHECK_U64(ulen("\xbf", 1), 0);		   /* stray continuation */
	CHECK_U64(ulen("\xc0\x80", 2), 0);	   /* overlong NUL */
	CHECK_U64(ulen("\xc1\xbf", 2), 0);	   /* overlong */
	CHECK_U64(ulen("\xe0\x80\x80", 3), 0);	   /* overlong 3-byte */
	CHECK_U64(ulen("\xe0\x9f\xbf", 3), 0);	   /* overlong U+07FF */
	CHECK_U64(ulen("\xf0\x80\x80\x80", 4), 0); /* overlong 4-byte */
	CHECK_U64(ulen("\xf0\x8f\xbf\xbf", 4), 0); /* overlong U+FFFF */
	CHECK_U64(ulen("\xed\xa0\x80", 3), 0);	   /* U+D800 surrogate */
	CHECK_U64(ulen("\xed\xbf\xbf", 3), 0);	   /* U+DFFF surrogate */
	CHECK_U64(ulen("\xf4\x90\x80\x80", 4), 0); /* U+110000 */
	CHECK_U64(ulen("\xf5\x80\x80\x80", 4), 0);
	CHECK_U64(ulen("\xfe", 1), 0);
	CHECK_U64(ulen("\xff", 1), 0);
	CHECK_U64(ulen("\xc3", 1), 0);		   /* truncated */
	CHECK_U64(ulen("\xe2\x80", 2), 0);	   /* truncated */
	CHECK_U64(ulen("\xf0\x90\x80", 3), 0);	   /* truncated */
	CHECK_U64(ulen("\xc3\x41", 2), 0);	   /* bad continuation */
	CHECK_U64(ulen("\xe2\x80\x41", 3), 0);	   /* bad continuation */
	CHECK_U64(ulen("\xf0\x90\x41\x80", 4), 0); /* bad continuation */
	CHECK_U64(ps_utf8_valid_prefix("ab\xffz", 4), 2);
	CHECK_U64(ps_utf8_valid_prefix("ab\xe2\x80", 4), 2);
}

static void unsafe_set(void)
{
	for (uint32_t c = 0; c < 0x20; c++)
		CHECK_INT(ps_unsafe_codepoint(c), 1);
	for (uint32_t c = 0x20; c < 0x7f; c++)
		CHECK_INT(ps_unsafe_codepoint(c), 0);
	CHECK_INT(ps_unsafe_codepoint(0x7f), 1);
	for (uint32_t c = 0x80; c <= 0x9f; c++)
		CHECK_INT(ps_unsafe_codepoint(c), 1);
	CHECK_INT(ps_unsafe_codepoint(0xa0), 0);
	CHECK_INT(ps_unsafe_codepoint(0xe9), 0);
	static const uint32_t unsafe[] = {0x061c, 0x200e, 0x200f, 0x2028, 0x2029, 0x202a, 0x202b,
					  0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069};
	for (size_t i = 0; i < sizeof(unsafe) / sizeof(unsafe[0]); i++)
		CHECK_INT(ps_unsafe_codepoint(unsafe[i]), 1);
	static const uint32_t safe[] = {0x2027, 0x2030, 0x2065, 0x206a, 0x200d, 0x4e2d, 0x1f600};
	for (size_t i = 0; i < sizeof(safe) / sizeof(safe[0]); i++)
		CHECK_INT(ps_unsafe_codepoint(safe[i]), 0);
}

/* ps_buf_add_term(s) as a C string, columns in *cols. */
static const char *term(struct ps_buf *b, const char *s, size_t n, size_t *cols)
{
	ps_buf_reset(b);
	size_t c = ps_buf_add_term(b, s, n);
	if (cols)
		*cols = c;
	return b->buf;
}

static void term_escapes(void)
{
	struct ps_buf b = PS_BUF_INIT;
	size_t w;
	CHECK_STR(term(&b, "plain text", 10, &w), "plain text");
	CHECK_U64(w, 10);
	CHECK_STR(term(&b, "a\\b\nc\td", 7, &w), "a\\\\b\\nc\\td");
	CHECK_U64(w, 10);
	CHECK_STR(term(&b, "\x1b[31mred", 8, NULL), "\\x1b[31mred");
	CHECK_STR(term(&b, "\x1b]0;title\x07", 10, NULL), "\\x1b]0;title\\x07");
	CHECK_STR(term(&b, "\r\x7f\x00", 3, NULL), "\\x0d\\x7f\\x00");
	/* C1: U+009B (CSI) and U+0085 (NEL) as their two bytes */
	CHECK_STR(term(&b,
		       "a\xc2\x9b"
		       "31mb\xc2\x85",
		       9, NULL),
		  "a\\xc2\\x9b31mb\\xc2\\x85");
	/* bidi override, isolate, mark, line separator */
	CHECK_STR(term(&b, "x\xe2\x80\xaey", 5, NULL), "x\\xe2\\x80\\xaey");
	CHECK_STR(term(&b, "\xe2\x81\xa6", 3, NULL), "\\xe2\\x81\\xa6");
	CHECK_STR(term(&b, "\xe2\x80\x8f", 3, NULL), "\\xe2\\x80\\x8f");
	CHECK_STR(term(&b, "\xe2\x80\xa8", 3, NULL), "\\xe2\\x80\\xa8");
	/* invalid bytes one by one, valid neighbours kept */
	CHECK_STR(term(&b, "caf\xc3\xa9\xff\xfe", 7, &w), "caf\xc3\xa9\\xff\\xfe");
	CHECK_U64(w, 12);
	CHECK_STR(term(&b, "\xc3(", 2, NULL), "\\xc3(");
	CHECK_STR(term(&b, "\xed\xa0\x80", 3, NULL), "\\xed\\xa0\\x80");
	CHECK_STR(term(&b, "\xe2\x80", 2, NULL), "\\xe2\\x80");
	/* printable non-ASCII stays, one column per code point */
	CHECK_STR(term(&b, "\xe4\xb8\xad\xf0\x9f\x98\x80", 7, &w), "\xe4\xb8\xad\xf0\x9f\x98\x80");
	CHECK_U64(w, 2);
	ps_buf_release(&b);
}

/* Every single byte and every two-byte string: the output holds no control
 * byte, is valid UTF-8, and ps_unescape gives the input back. */
static void term_exhaustive(void)
{
	struct ps_buf b = PS_BUF_INIT, back = PS_BUF_INIT;
	int bad = 0;
	for (int x = 0; x < 256; x++) {
		for (int y = -1; y < 256; y++) {
			char in[2] = {(char)x, (char)y};
			size_t n = y < 0 ? 1 : 2;
			term(&b, in, n, NULL);
			for (size_t i = 0; i < b.len; i++) {
				unsigned char c = (unsigned char)b.buf[i];
				if (c < 0x20 || c == 0x7f)
					bad++;
			}
			if (ps_utf8_valid_prefix(b.buf, b.len) != b.len)
				bad++;
			for (size_t i = 0; i < b.len;) {
				uint32_t cp;
				size_t k = ps_utf8_len(b.buf + i, b.len - i, &cp);
				if (!k || ps_unsafe_codepoint(cp))
					bad++;
				i += k ? k : 1;
			}
			ps_buf_reset(&back);
			if (ps_unescape(&back, b.buf, b.len) != 0 || back.len != n ||
			    memcmp(back.buf, in, n) != 0)
				bad++;
		}
	}
	CHECK_INT(bad, 0);
	ps_buf_release(&b);
	ps_buf_release(&back);
}

static void json_strings(void)
{
	struct ps_buf b = PS_BUF_INIT;
	ps_buf_add_json(&b, "a\"b\\c\nd\te", 9);
	CHECK_STR(b.buf, "\"a\\\"b\\\\c\\nd\\te\"");
	ps_buf_reset(&b);
	ps_buf_add_json(&b, "\x1b[0m\x7f", 5);
	CHECK_STR(b.buf, "\"\\u001b[0m\\u007f\"");
	ps_buf_reset(&b);
	ps_buf_add_json(&b, "\xc2\x9b\xe2\x80\xae\xe2\x81\xa9", 8);
	CHECK_STR(b.buf, "\"\\u009b\\u202e\\u2069\"");
	ps_buf_reset(&b);
	ps_buf_add_json(&b, "caf\xc3\xa9\xff", 6);
	CHECK_STR(b.buf, "\"caf\xc3\xa9\\u00ff\"");
	ps_buf_reset(&b);
	ps_buf_add_json(&b, "\x00", 1);
	CHECK_STR(b.buf, "\"\\u0000\"");
	ps_buf_release(&b);
}

static void json_writer(void)
{
	struct ps_buf b = PS_BUF_INIT;
	struct ps_json j;
	ps_json_init(&j, &b);
	ps_json_obj(&j);
	ps_json_key(&j, "n");
	ps_json_int(&j, -42);
	ps_json_key(&j, "s");
	ps_json_strz(&j, "x\ty");
	ps_json_key(&j, "null");
	ps_json_strz(&j, NULL);
	ps_json_key(&j, "a");
	ps_json_arr(&j);
	ps_json_bool(&j, 1);
	ps_json_bool(&j, 0);
	ps_json_double(&j, 1.5);
	ps_json_double(&j, 1.0 / 0.0);
	ps_json_obj(&j);
	ps_json_obj_end(&j);
	ps_json_arr(&j);
	ps_json_arr_end(&j);
	ps_json_raw(&j, "{\"k\":1}");
	ps_json_arr_end(&j);
	ps_json_key(&j, "e");
	ps_json_null(&j);
	ps_json_obj_end(&j);
	CHECK_STR(b.buf,
		  "{\"n\":-42,\"s\":\"x\\ty\",\"null\":null,\"a\":[true,false,1.5,null,{},[],"
		  "{\"k\":1}],\"e\":null}");
	ps_buf_reset(&b);
	ps_json_init(&j, &b);
	ps_json_arr_lines(&j);
	ps_json_int(&j, 1);
	ps_json_obj(&j);
	ps_json_key(&j, "x");
	ps_json_arr_lines(&j);
	ps_json_arr_end(&j);
	ps_json_obj_end(&j);
	ps_json_arr_end(&j);
	CHECK_STR(b.buf, "[\n1,\n{\"x\":[]}\n]");
	/* integers at the edges (written without printf) */
	ps_buf_reset(&b);
	ps_json_init(&j, &b);
	ps_json_arr(&j);
	ps_json_int(&j, 0);
	ps_json_int(&j, 7);
	ps_json_int(&j, -1);
	ps_json_int(&j, 1000000007);
	ps_json_int(&j, INT64_MAX);
	ps_json_int(&j, INT64_MIN);
	ps_json_arr_end(&j);
	CHECK_STR(b.buf, "[0,7,-1,1000000007,9223372036854775807,-9223372036854775808]");
	/* plain runs between escapes keep their bytes and order */
	ps_buf_reset(&b);
	ps_buf_add_json(&b, "proc/1/exe\"x\"~ \x1b]end", 20);
	CHECK_STR(b.buf, "\"proc/1/exe\\\"x\\\"~ \\u001b]end\"");
	ps_buf_release(&b);
}

static void errno_names(void)
{
	CHECK_STR(ps_errno_name(0), "-");
	CHECK_STR(ps_errno_name(EACCES), "EACCES");
	CHECK_STR(ps_errno_name(ETIMEDOUT), "ETIMEDOUT");
	CHECK_STR(ps_errno_name(EOPNOTSUPP), "EOPNOTSUPP");
	CHECK_STR(ps_errno_name(ENOMEDIUM), "ENOMEDIUM");
	CHECK_STR(ps_errno_name(99999), "E99999");
	CHECK_INT(ps_errno_parse("-"), 0);
	CHECK_INT(ps_errno_parse("EACCES"), EACCES);
	CHECK_INT(ps_errno_parse("ENOTSUP"), ENOTSUP);
	CHECK_INT(ps_errno_parse("EWOULDBLOCK"), EAGAIN);
	CHECK_INT(ps_errno_parse("E123"), 123);
	CHECK_INT(ps_errno_parse("ENOSUCHTHING"), -1);
	CHECK_INT(ps_errno_parse("EACCES "), -1);
	CHECK_INT(ps_errno_parse(""), -1);
	/* every name round-trips */
	for (int e = 1; e < 4096; e++)
		if (ps_errno_parse(ps_errno_name(e)) != e) {
			fprintf(stderr, "errno %d (%s) does not round-trip\n", e, ps_errno_name(e));
			t_failures++;
			break;
		}
}

/* ps_xgrow_zeroed: doubling from `first` until the index fits, what was
 * there kept, the new elements zero. */
static void grow_zeroed(void)
{
	uint32_t *v = NULL;
	size_t cap = 0;
	v = ps_xgrow_zeroed(v, &cap, 5, sizeof(*v), 4);
	CHECK_U64(cap, 8);
	for (size_t i = 0; i < cap; i++)
		CHECK_U64(v[i], 0);
	v[5] = 7;
	v = ps_xgrow_zeroed(v, &cap, 7, sizeof(*v), 4); /* fits: as it is */
	CHECK_U64(cap, 8);
	v = ps_xgrow_zeroed(v, &cap, 20, sizeof(*v), 4);
	CHECK_U64(cap, 32);
	CHECK_U64(v[5], 7);
	for (size_t i = 8; i < cap; i++)
		CHECK_U64(v[i], 0);
	free(v);
}

/* PS_XGROW: room for v[n], doubling from `first`, what was there kept; a
 * size past SIZE_MAX is the out-of-memory exit (abort), never a short array. */
static void grow(void)
{
	uint64_t *v = NULL;
	size_t n = 0, cap = 0;
	for (; n < 100; n++) {
		PS_XGROW(v, n, cap, 16);
		v[n] = n * 3;
	}
	CHECK_U64(cap, 128);
	for (size_t i = 0; i < n; i++)
		CHECK_U64(v[i], i * 3);
	PS_XGROW(v, 5, cap, 16); /* fits: as it is */
	CHECK_U64(cap, 128);
	free(v);
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		int devnull = open("/dev/null", O_WRONLY);
		dup2(devnull, STDERR_FILENO);
		size_t c = 4;
		ps_xgrow(NULL, &c, SIZE_MAX / 16, 64, 4);
		_exit(0);
	}
	int st = 0;
	CHECK(pid > 0 && waitpid(pid, &st, 0) == pid);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT);
}

/* The JSON reader: what it accepts and refuses, and a walk's values. */
static int jr_ok(const char *s)
{
	struct ps_jr r;
	return ps_jr_open(&r, s, strlen(s)) == 0;
}

static void json_reader_syntax(void)
{
	static const char *const good[] = {
	    "{}", "[]", " [ ] ", "0", "-0", "1e5", "-1.5E-3", "\"\"", "true", "false", "null",
	    "{\"a\":[1,{\"b\":null}],\"c\":\"\\u00e9\\n\"}", "[\"\\ud83d\\ude00\", \"\\/\"]",
	    "\"\xc3\xa9\""};
	static const char *const bad[] = {
	    "", " ", "{", "[1,]", "[,1]", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "{1:2}", "01",
	    "1.", ".5", "-", "1e", "+1", "tru", "nul", "[1 2]", "\"a", "\"\\x\"", "\"\\u12g4\"",
	    "\"a\nb\"", "[1]]", "[1] 2", "{\"a\":1}}", "'a'", "NaN"};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		if (!jr_ok(good[i]))
			fprintf(stderr, "refused: %s\n", good[i]);
		CHECK(jr_ok(good[i]));
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (jr_ok(bad[i]))
			fprintf(stderr, "accepted: %s\n", bad[i]);
		CHECK(!jr_ok(bad[i]));
	}
	/* nesting: PS_JR_MAXDEPTH levels, not one more */
	char deep[2 * PS_JR_MAXDEPTH + 3];
	memset(deep, '[', PS_JR_MAXDEPTH);
	memset(deep + PS_JR_MAXDEPTH, ']', PS_JR_MAXDEPTH);
	deep[2 * PS_JR_MAXDEPTH] = '\0';
	CHECK(jr_ok(deep));
	memset(deep, '[', PS_JR_MAXDEPTH + 1);
	memset(deep + PS_JR_MAXDEPTH + 1, ']', PS_JR_MAXDEPTH + 1);
	deep[2 * PS_JR_MAXDEPTH + 2] = '\0';
	CHECK(!jr_ok(deep));
	/* the text ends where its length says: no NUL needed, none read */
	struct ps_jr r;
	CHECK_INT(ps_jr_open(&r, "[1]xyz", 3), 0);
	CHECK_INT(ps_jr_open(&r, "[1]xyz", 4), -1);
}

static void json_reader_walk(void)
{
	const char *s = "{\"n\": [1, -9223372036854775808, 9223372036854775808, 2.5, true, false, "
			"null, \"a\\tb\\u00e9\\ud83d\\ude00\\ud800x\"], \"o\": {\"k\": [1, 2]}, "
			"\"n\": 7}";
	struct ps_jr r;
	struct ps_buf key = PS_BUF_INIT, str = PS_BUF_INIT;
	CHECK_INT(ps_jr_open(&r, s, strlen(s)), 0);
	CHECK_INT(ps_jr_peek(&r), PS_JT_OBJ);
	CHECK_INT(ps_jr_enter(&r), 1);
	CHECK_INT(ps_jr_key(&r, &key), 1);
	CHECK_STR(key.buf, "n");
	CHECK_INT(ps_jr_peek(&r), PS_JT_ARR);
	CHECK_INT(ps_jr_enter(&r), 1);
	struct ps_jval v;
	CHECK_INT(ps_jr_elem(&r), 1);
	ps_jr_value(&r, &v, &str);
	CHECK_INT(v.type, PS_JT_INT);
	CHECK(v.i == 1);
	CHECK_INT(ps_jr_elem(&r), 1);
	ps_jr_value(&r, &v, &str);
	CHECK_INT(v.type, PS_JT_INT);
	CHECK(v.i == INT64_MIN);
	CHECK_INT(ps_jr_elem(&r), 1);
	ps_jr_value(&r, &v, &str); /* 2^63: too large for 64 bits, a real (as SQLite) */
	CHECK_INT(v.type, PS_JT_REAL);
	CHECK(v.d == 9223372036854775808.0);
	CHECK_INT(ps_jr_elem(&r), 1);
	ps_jr_value(&r, &v, &str);
	CHECK_INT(v.type, PS_JT_REAL);
	CHECK(v.d == 2.5);
	static const enum ps_jtype lits[] = {PS_JT_TRUE, PS_JT_FALSE, PS_JT_NULL};
	for (size_t i = 0; i < 3; i++) {
		CHECK_INT(ps_jr_elem(&r), 1);
		ps_jr_value(&r, &v, &str);
		CHECK_INT(v.type, lits[i]);
	}
	CHECK_INT(ps_jr_elem(&r), 1);
	ps_jr_value(&r, &v, &str);
	CHECK_INT(v.type, PS_JT_STR);
	/* escapes decoded; a surrogate pair is one code point, a lone one U+FFFD */
	CHECK(v.n == 13 && memcmp(v.s, "a\tb\xc3\xa9\xf0\x9f\x98\x80\xef\xbf\xbdx", 13) == 0);
	CHECK_INT(ps_jr_elem(&r), 0); /* past the array */
	CHECK_INT(ps_jr_key(&r, &key), 1);
	CHECK_STR(key.buf, "o");
	ps_jr_value(&r, &v, &str); /* an object: skipped whole, its text kept */
	CHECK_INT(v.type, PS_JT_OBJ);
	CHECK(v.raw_len == strlen("{\"k\": [1, 2]}") && memcmp(v.raw, "{\"k\": [1, 2]}", v.raw_len) == 0);
	CHECK_INT(ps_jr_key(&r, &key), 1); /* a repeated key comes again: the caller picks */
	CHECK_STR(key.buf, "n");
	ps_jr_skip(&r);
	CHECK_INT(ps_jr_key(&r, &key), 0);
	CHECK(r.p == r.end);
	/* the one-character escapes */
	const char *e = "\"\\b\\f\\n\\r\\t\\\"\\\\\\/\"";
	CHECK_INT(ps_jr_open(&r, e, strlen(e)), 0);
	ps_jr_value(&r, &v, &str);
	CHECK(v.type == PS_JT_STR && v.n == 8 && memcmp(v.s, "\b\f\n\r\t\"\\/", 8) == 0);
	ps_buf_release(&key);
	ps_buf_release(&str);
}

static const struct t_case t_cases[] = {
    T(utf8_valid),	T(utf8_invalid), T(unsafe_set),	 T(term_escapes),
    T(term_exhaustive), T(json_strings), T(json_writer), T(errno_names),
    T(grow_zeroed),	T(grow),	 T(json_reader_syntax), T(json_reader_walk), {0, 0}};
T_MAIN(t_cases)
