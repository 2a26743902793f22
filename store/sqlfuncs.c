/*
 * sqlfuncs.c - osquery's SQL functions (its docs, "SQL additions", and
 * osquery/sql/sqlite_{string,encoding,hashing,network,math,filesystem}.cpp),
 * registered on every connection that reads an index (indexdb.c), so the
 * queries written for osquery run on snapshots unchanged.
 *
 * Each behaves as osquery's does, NULLs and errors included; the
 * differences are documented in README "SQL functions": regular
 * expressions are PCRE2 (Perl syntax) where osquery uses std::regex's
 * ECMAScript, in_cidr_block counts a network's own and broadcast
 * addresses as inside it.  Not registered: the ones that read the
 * analyst's own file system or have side effects (find_file_path_in_cmd,
 * is_path_deterministic, carve, sleep).
 *
 * Every function here is a pure function of its arguments: registered
 * SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS (usable under trusted_schema=OFF).
 */
#include "store.h"
#include "store_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <openssl/evp.h>
#include <pcre2.h>

/* osquery's --regex_max_size default: longer patterns are an error. */
#define REGEX_MAX 256
/* Backtracking bounds: a pathological pattern fails instead of spinning. */
#define REGEX_MATCH_LIMIT 10000000u
#define REGEX_DEPTH_LIMIT 100000u

#define PURE (SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS)

static int is_null(sqlite3_value *v)
{
	return sqlite3_value_type(v) == SQLITE_NULL;
}

/* ---- split -------------------------------------------------------------------- */

/* Blank as boost::algorithm::trim sees it in the C locale. */
static int blank(char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

/*
 * split(COLUMN, TOKENS, INDEX): osquery::split - cut at every byte that is
 * one of TOKENS, drop the empty pieces, trim each piece; the INDEX-th, or
 * NULL.  An empty TOKENS is an error.
 */
static void fn_split(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	if (is_null(argv[0]) || is_null(argv[1]) || is_null(argv[2])) {
		sqlite3_result_null(ctx);
		return;
	}
	const char *in = (const char *)sqlite3_value_text(argv[0]);
	const char *tok = (const char *)sqlite3_value_text(argv[1]);
	size_t n = (size_t)sqlite3_value_bytes(argv[0]);
	if (!in || !tok || !*tok) {
		sqlite3_result_error(ctx, "Invalid input to split function", -1);
		return;
	}
	/* osquery casts the index to size_t: a negative one is out of range */
	int idx = sqlite3_value_int(argv[2]);
	int k = 0;
	for (size_t i = 0; i <= n;) {
		size_t j = i;
		while (j < n && !strchr(tok, in[j]))
			j++;
		if (j > i) { /* a non-empty piece */
			if (k++ == idx) {
				size_t s = i, e = j;
				while (s < e && blank(in[s]))
					s++;
				while (e > s && blank(in[e - 1]))
					e--;
				sqlite3_result_text(ctx, in + s, (int)(e - s), SQLITE_TRANSIENT);
				return;
			}
		}
		i = j + 1;
	}
	sqlite3_result_null(ctx);
}

/* ---- regular expressions (PCRE2) ------------------------------------------------ */

/* The compiled pattern of argument `arg`: SQLite keeps it for the next row
 * as long as the argument is the same constant (sqlite3_get_auxdata); a
 * fresh one is handed to SQLite by rx_close, after its last use (SQLite
 * may free it at once). */
struct rx {
	sqlite3_context *ctx;
	int arg;
	pcre2_code *re;
	int fresh; /* compiled here: rx_close hands it to SQLite */
	pcre2_match_data *md;
	pcre2_match_context *mc;
};

static int rx_open(struct rx *x, sqlite3_context *ctx, sqlite3_value **argv, int arg)
{
	memset(x, 0, sizeof(*x));
	x->ctx = ctx;
	x->arg = arg;
	x->re = sqlite3_get_auxdata(ctx, arg);
	if (!x->re) {
		const char *pat = (const char *)sqlite3_value_text(argv[arg]);
		size_t n = (size_t)sqlite3_value_bytes(argv[arg]);
		if (!pat) {
			sqlite3_result_error_nomem(ctx);
			return -1;
		}
		if (n >= REGEX_MAX) {
			sqlite3_result_error(ctx, "Invalid regex: too big, max size is 256 bytes",
					     -1);
			return -1;
		}
		int ecode;
		PCRE2_SIZE eoff;
		x->re = pcre2_compile((PCRE2_SPTR)pat, n, 0, &ecode, &eoff, NULL);
		if (!x->re) {
			sqlite3_result_error(ctx, "Invalid regex", -1);
			return -1;
		}
		x->fresh = 1;
	}
	x->md = pcre2_match_data_create_from_pattern(x->re, NULL);
	x->mc = pcre2_match_context_create(NULL);
	if (!x->md || !x->mc) {
		sqlite3_result_error_nomem(ctx);
		return -1;
	}
	pcre2_set_match_limit(x->mc, REGEX_MATCH_LIMIT);
	pcre2_set_depth_limit(x->mc, REGEX_DEPTH_LIMIT);
	return 0;
}

static void rx_close(struct rx *x)
{
	pcre2_match_data_free(x->md);
	pcre2_match_context_free(x->mc);
	if (x->fresh)
		sqlite3_set_auxdata(x->ctx, x->arg, x->re, (void (*)(void *))pcre2_code_free);
}

/* pcre2_match: >0 a match, 0 none (PCRE2_ERROR_NOMATCH), <0 an error set. */
static int rx_match(struct rx *x, sqlite3_context *ctx, const char *s, size_t n, size_t off,
		    uint32_t opts)
{
	int r = pcre2_match(x->re, (PCRE2_SPTR)s, n, off, opts, x->md, x->mc);
	if (r == PCRE2_ERROR_NOMATCH)
		return 0;
	if (r < 0) {
		sqlite3_result_error(ctx, "regex: match limit reached", -1);
		return -1;
	}
	return r > 0 ? r : 1;
}

/* (COLUMN, PATTERN, INDEX) of regex_match and regex_split: the text, its
 * length, the index and the compiled pattern (x, closed by the caller); -1
 * when the result is set already (NULL for a NULL argument, or an error). */
static int rx_args(struct rx *x, sqlite3_context *ctx, sqlite3_value **argv, const char **s,
		   size_t *n, int *idx)
{
	if (is_null(argv[0]) || is_null(argv[1]) || is_null(argv[2])) {
		sqlite3_result_null(ctx);
		return -1;
	}
	*s = (const char *)sqlite3_value_text(argv[0]);
	*n = (size_t)sqlite3_value_bytes(argv[0]);
	*idx = sqlite3_value_int(argv[2]);
	if (!*s) {
		sqlite3_result_error_nomem(ctx);
		return -1;
	}
	if (rx_open(x, ctx, argv, 1) < 0) {
		rx_close(x);
		return -1;
	}
	return 0;
}

/*
 * regex_match(COLUMN, PATTERN, INDEX): search PATTERN in COLUMN; group
 * INDEX of the first match (0 the whole match), '' for a group that took no
 * part, NULL without a match or past the last group.
 */
static void fn_regex_match(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	struct rx x;
	const char *s;
	size_t n;
	int idx;
	if (rx_args(&x, ctx, argv, &s, &n, &idx) < 0)
		return;
	int r = rx_match(&x, ctx, s, n, 0, 0);
	if (r > 0) {
		uint32_t ngroups = pcre2_get_ovector_count(x.md);
		PCRE2_SIZE *ov = pcre2_get_ovector_pointer(x.md);
		uint32_t groups = 0;
		pcre2_pattern_info(x.re, PCRE2_INFO_CAPTURECOUNT, &groups);
		if (idx < 0 || (uint32_t)idx > groups || (uint32_t)idx >= ngroups)
			sqlite3_result_null(ctx);
		else if (ov[2 * idx] == PCRE2_UNSET)
			sqlite3_result_text(ctx, "", 0, SQLITE_STATIC);
		else
			sqlite3_result_text(ctx, s + ov[2 * idx],
					    (int)(ov[2 * idx + 1] - ov[2 * idx]), SQLITE_TRANSIENT);
	} else if (r == 0) {
		sqlite3_result_null(ctx);
	}
	rx_close(&x);
}

/*
 * regex_split(COLUMN, PATTERN, INDEX): the pieces between the matches of
 * PATTERN (std::sregex_token_iterator with -1: empty pieces between two
 * matches or before the first are kept, an empty last piece is not); the
 * INDEX-th, or NULL.
 */
static void fn_regex_split(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	struct rx x;
	const char *s;
	size_t n;
	int idx;
	/* (NULL arguments first: NULL, as osquery) */
	if (!is_null(argv[0]) && !is_null(argv[1]) && !is_null(argv[2]) &&
	    sqlite3_value_bytes(argv[1]) == 0) {
		sqlite3_result_error(ctx, "Invalid input to split function", -1);
		return;
	}
	if (rx_args(&x, ctx, argv, &s, &n, &idx) < 0)
		return;
	size_t start = 0, off = 0;
	int k = 0, done = 0;
	while (!done) {
		int r = off <= n ? rx_match(&x, ctx, s, n, off, 0) : 0;
		if (r < 0)
			goto out;
		size_t ms = n, me = n;
		if (r > 0) {
			PCRE2_SIZE *ov = pcre2_get_ovector_pointer(x.md);
			ms = ov[0];
			me = ov[1];
		} else {
			done = 1;
			if (start == n)
				break; /* no empty last piece */
		}
		if (k++ == idx) {
			sqlite3_result_text(ctx, s + start, (int)(ms - start), SQLITE_TRANSIENT);
			goto out;
		}
		start = me;
		off = me > ms ? me : me + 1; /* an empty match moves on by one */
	}
	sqlite3_result_null(ctx);
out:
	rx_close(&x);
}

/* ---- concat, concat_ws ---------------------------------------------------------- */

/* osquery's concatFunc: the non-NULL arguments from `first`, each followed
 * by sep unless it is the last argument (NULL ones included). */
static void concat_from(sqlite3_context *ctx, const char *sep, size_t seplen, int first, int argc,
			sqlite3_value **argv)
{
	if (argc - first == 0)
		return; /* NULL */
	struct ps_buf b = PS_BUF_INIT;
	ps_buf_grow(&b, 64);
	for (int i = first; i < argc; i++) {
		if (is_null(argv[i]))
			continue;
		const unsigned char *t = sqlite3_value_text(argv[i]);
		if (t)
			ps_buf_add(&b, t, (size_t)sqlite3_value_bytes(argv[i]));
		if (seplen && i + 1 < argc)
			ps_buf_add(&b, sep, seplen);
	}
	if (b.len > INT32_MAX)
		sqlite3_result_error(ctx, "Too much data for concat_ws", -1);
	else
		sqlite3_result_text(ctx, b.buf, (int)b.len, SQLITE_TRANSIENT);
	ps_buf_release(&b);
}

static void fn_concat(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	concat_from(ctx, "", 0, 0, argc, argv);
}

static void fn_concat_ws(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	if (argc == 0) {
		sqlite3_result_error(ctx, "Missing separator to concat_ws", -1);
		return;
	}
	const char *sep = is_null(argv[0]) ? "" : (const char *)sqlite3_value_text(argv[0]);
	size_t seplen = is_null(argv[0]) ? 0 : (size_t)sqlite3_value_bytes(argv[0]);
	concat_from(ctx, sep ? sep : "", sep ? seplen : 0, 1, argc, argv);
}

/* ---- inet_aton ----------------------------------------------------------------------- */

static void fn_inet_aton(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	const char *a = (const char *)sqlite3_value_text(argv[0]);
	struct in_addr in;
	if (is_null(argv[0]) || !a || strchr(a, ':') || inet_pton(AF_INET, a, &in) != 1)
		sqlite3_result_null(ctx);
	else
		sqlite3_result_int64(ctx, (sqlite3_int64)ntohl(in.s_addr));
}

/* ---- base64 -------------------------------------------------------------------------- */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void b64_encode(struct ps_buf *out, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		ps_buf_addc(out, b64[v >> 18 & 63]);
		ps_buf_addc(out, b64[v >> 12 & 63]);
		ps_buf_addc(out, i + 1 < n ? b64[v >> 6 & 63] : '=');
		ps_buf_addc(out, i + 2 < n ? b64[v & 63] : '=');
	}
}

/* osquery's base64::decode: newlines dropped, trailing '=' ignored, any
 * other byte outside the alphabet makes the whole result ''; a last group
 * of 2 or 3 characters gives 1 or 2 bytes. */
static void b64_decode(struct ps_buf *out, const unsigned char *p, size_t n)
{
	while (n && p[n - 1] == '=')
		n--;
	uint32_t acc = 0;
	int bits = 0;
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\n' || p[i] == '\r')
			continue;
		const char *c = p[i] ? strchr(b64, p[i]) : NULL;
		if (!c) {
			ps_buf_reset(out);
			return;
		}
		acc = acc << 6 | (uint32_t)(c - b64);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			ps_buf_addc(out, (char)(acc >> bits & 0xff));
		}
	}
}

/* ASCII 0x20..0x7e only (osquery's isPrintable). */
static int printable(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] < 0x20 || p[i] > 0x7e)
			return 0;
	return 1;
}

/* What a base64 function does: its user data. */
enum b64_mode { B64_COND, B64_ENC, B64_DEC };
static const enum b64_mode b64_cond = B64_COND, b64_enc = B64_ENC, b64_dec = B64_DEC;

/* to_base64, from_base64, conditional_to_base64 (user data: the mode). */
static void fn_base64(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	enum b64_mode how = *(const enum b64_mode *)sqlite3_user_data(ctx);
	if (is_null(argv[0])) {
		sqlite3_result_null(ctx);
		return;
	}
	const unsigned char *p = sqlite3_value_text(argv[0]);
	size_t n = (size_t)sqlite3_value_bytes(argv[0]);
	struct ps_buf b = PS_BUF_INIT;
	if (!p)
		p = (const unsigned char *)"";
	if (how == B64_COND && printable(p, n))
		ps_buf_add(&b, p, n);
	else if (how == B64_DEC)
		b64_decode(&b, p, n);
	else
		b64_encode(&b, p, n);
	sqlite3_result_text(ctx, b.len ? b.buf : "", (int)b.len, SQLITE_TRANSIENT);
	ps_buf_release(&b);
}

/* ---- hashes --------------------------------------------------------------------------- */

/* md5/sha1/sha256(TEXT): lowercase hex of the text up to its first NUL
 * (osquery hashes strlen() bytes).  User data: the EVP_MD getter. */
struct digest {
	const EVP_MD *(*md)(void);
};
static const struct digest d_md5 = {EVP_md5}, d_sha1 = {EVP_sha1}, d_sha256 = {EVP_sha256};

static void fn_digest(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	const struct digest *d = sqlite3_user_data(ctx);
	const char *t = (const char *)sqlite3_value_text(argv[0]);
	if (is_null(argv[0]) || !t) {
		sqlite3_result_null(ctx);
		return;
	}
	unsigned char h[EVP_MAX_MD_SIZE];
	unsigned int hl = 0;
	char hex[2 * EVP_MAX_MD_SIZE + 1];
	if (!EVP_Digest(t, strlen(t), h, &hl, d->md(), NULL)) {
		sqlite3_result_error(ctx, "hash failed", -1);
		return;
	}
	ps_hex(hex, h, hl);
	sqlite3_result_text(ctx, hex, (int)(2 * hl), SQLITE_TRANSIENT);
}

/* ---- community_id_v1 (github.com/corelight/community-id-spec) ---------------------------- */

struct ipaddr {
	int v6;
	unsigned char b[16];
};

static int ip_parse(const char *s, struct ipaddr *a)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, a->b) == 1)
		return 0;
	a->v6 = 1;
	return inet_pton(AF_INET6, s, a->b) == 1 ? 0 : -1;
}

/* boost::asio::ip::address order: every v4 before every v6, then bytes. */
static int ip_cmp(const struct ipaddr *x, const struct ipaddr *y)
{
	if (x->v6 != y->v6)
		return x->v6 - y->v6;
	return memcmp(x->b, y->b, x->v6 ? 16 : 4);
}

/* strict: an error for bad input; else NULL (osquery logs a warning). */
static void community_id(sqlite3_context *ctx, int argc, sqlite3_value **argv, int strict)
{
	const char *why = NULL;
	int64_t seed = 0;
	struct ipaddr sa, da;
	if (argc == 6) {
		if (sqlite3_value_type(argv[5]) != SQLITE_INTEGER)
			why = "Community ID seed must be an integer";
		else if ((seed = sqlite3_value_int64(argv[5])) < INT16_MIN || seed > INT16_MAX)
			why = "Community ID seed must fit in 2 bytes";
	}
	if (!why && (sqlite3_value_type(argv[0]) != SQLITE_TEXT ||
		     sqlite3_value_type(argv[1]) != SQLITE_TEXT))
		why = "Community ID IPs must be strings";
	if (!why && ip_parse((const char *)sqlite3_value_text(argv[0]), &sa) < 0)
		why = "Community ID saddr cannot be parsed as IP";
	if (!why && ip_parse((const char *)sqlite3_value_text(argv[1]), &da) < 0)
		why = "Community ID daddr cannot be parsed as IP";
	int64_t sp = 0, dp = 0, proto = 0;
	if (!why && (sqlite3_value_type(argv[2]) != SQLITE_INTEGER ||
		     sqlite3_value_type(argv[3]) != SQLITE_INTEGER))
		why = "Community ID ports must be integers";
	if (!why) {
		sp = sqlite3_value_int64(argv[2]);
		dp = sqlite3_value_int64(argv[3]);
		if (sp < 0 || sp > 65535 || dp < 0 || dp > 65535)
			why = "Community ID ports must fit in 2 bytes";
	}
	if (!why && sqlite3_value_type(argv[4]) != SQLITE_INTEGER)
		why = "Community ID protocol must be an integer";
	if (!why && ((proto = sqlite3_value_int64(argv[4])) < 0 || proto > 255))
		why = "Community ID protocol must fit in 1 byte";
	if (why) {
		if (strict)
			sqlite3_result_error(ctx, why, -1);
		else
			sqlite3_result_null(ctx);
		return;
	}
	int c = ip_cmp(&sa, &da);
	if (!(c < 0 || (c == 0 && sp < dp))) {
		struct ipaddr t = sa;
		sa = da;
		da = t;
		int64_t tp = sp;
		sp = dp;
		dp = tp;
	}
	/* seed . saddr . daddr . proto . 0 . sport . dport, network order */
	unsigned char m[2 + 16 + 16 + 2 + 4];
	size_t n = 0;
	m[n++] = (unsigned char)((uint16_t)seed >> 8);
	m[n++] = (unsigned char)(uint16_t)seed;
	memcpy(m + n, sa.b, sa.v6 ? 16 : 4);
	n += sa.v6 ? 16 : 4;
	memcpy(m + n, da.b, da.v6 ? 16 : 4);
	n += da.v6 ? 16 : 4;
	m[n++] = (unsigned char)proto;
	m[n++] = 0;
	m[n++] = (unsigned char)(sp >> 8);
	m[n++] = (unsigned char)sp;
	m[n++] = (unsigned char)(dp >> 8);
	m[n++] = (unsigned char)dp;
	unsigned char h[EVP_MAX_MD_SIZE];
	unsigned int hl = 0;
	struct ps_buf b = PS_BUF_INIT;
	ps_buf_adds(&b, "1:");
	if (EVP_Digest(m, n, h, &hl, EVP_sha1(), NULL))
		b64_encode(&b, h, hl);
	sqlite3_result_text(ctx, b.buf, (int)b.len, SQLITE_TRANSIENT);
	ps_buf_release(&b);
}

static const int lenient = 0, strict = 1;

/* community_id_v1[_strict] (user data: strict). */
static void fn_community_id(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	community_id(ctx, argc, argv, *(const int *)sqlite3_user_data(ctx));
}

/* ---- in_cidr_block ------------------------------------------------------------------- */

/* "ADDR/LEN" of the family v6: the network bytes and the prefix length. */
static int cidr_parse(const char *s, int v6, unsigned char net[16], int *len)
{
	const char *slash = strchr(s, '/');
	char a[64];
	if (!slash || (size_t)(slash - s) >= sizeof(a))
		return -1;
	memcpy(a, s, (size_t)(slash - s));
	a[slash - s] = '\0';
	uint64_t l;
	if (ps_parse_u64(slash + 1, strlen(slash + 1), &l) < 0 || l > (v6 ? 128u : 32u))
		return -1;
	*len = (int)l;
	memset(net, 0, 16);
	return inet_pton(v6 ? AF_INET6 : AF_INET, a, net) == 1 ? 0 : -1;
}

static void fn_in_cidr_block(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	if (sqlite3_value_type(argv[0]) != SQLITE_TEXT) {
		sqlite3_result_error(ctx, "CIDR must be a string", -1);
		return;
	}
	if (sqlite3_value_type(argv[1]) != SQLITE_TEXT) {
		sqlite3_result_error(ctx, "IP address must be a string", -1);
		return;
	}
	struct ipaddr ip;
	unsigned char net[16];
	int len;
	if (ip_parse((const char *)sqlite3_value_text(argv[1]), &ip) < 0) {
		sqlite3_result_error(ctx, "IP address cannot be parsed", -1);
		return;
	}
	if (cidr_parse((const char *)sqlite3_value_text(argv[0]), ip.v6, net, &len) < 0) {
		sqlite3_result_error(ctx,
				     ip.v6 ? "CIDR for IP address v6 cannot be parsed"
					   : "CIDR for IP address v4 cannot be parsed",
				     -1);
		return;
	}
	int in = 1;
	for (int i = 0; i < len && in; i++)
		in = ((ip.b[i / 8] ^ net[i / 8]) & (0x80 >> (i % 8))) == 0;
	sqlite3_result_int(ctx, in);
}

/* ---- math ------------------------------------------------------------------------------- */

/* A double -> double function: the user data of the math functions. */
struct math {
	double (*f)(double);
};

static double cot(double x)
{
	return 1.0 / tan(x);
}

static double degrees(double x)
{
	return 180.0 * x / M_PI;
}

static double radians(double x)
{
	return x * M_PI / 180.0;
}

static const struct math m_sqrt = {sqrt}, m_acos = {acos}, m_asin = {asin}, m_atan = {atan},
			 m_cos = {cos}, m_sin = {sin}, m_tan = {tan}, m_cot = {cot}, m_exp = {exp},
			 m_log = {log}, m_log10 = {log10}, m_degrees = {degrees},
			 m_radians = {radians}, m_ceil = {ceil}, m_floor = {floor};

/* osquery's callDoubleFunc: NULL stays NULL; a domain or range error (errno)
 * is an SQL error. */
static void fn_math(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	const struct math *m = sqlite3_user_data(ctx);
	if (is_null(argv[0])) {
		sqlite3_result_null(ctx);
		return;
	}
	errno = 0;
	double v = m->f(sqlite3_value_double(argv[0]));
	if (errno)
		sqlite3_result_error(ctx, strerror(errno), -1);
	else
		sqlite3_result_double(ctx, v);
}

static void fn_power(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	if (is_null(argv[0]) || is_null(argv[1])) {
		sqlite3_result_null(ctx);
		return;
	}
	errno = 0;
	double v = pow(sqlite3_value_double(argv[0]), sqlite3_value_double(argv[1]));
	if (errno)
		sqlite3_result_error(ctx, strerror(errno), -1);
	else
		sqlite3_result_double(ctx, v);
}

/* ceil/floor: an integer as is, anything else rounded and returned as an
 * integer (osquery's callCastedDoubleFunc).  User data: ceil or floor. */
static void fn_rounded(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	const struct math *m = sqlite3_user_data(ctx);
	switch (sqlite3_value_type(argv[0])) {
	case SQLITE_INTEGER:
		sqlite3_result_int64(ctx, sqlite3_value_int64(argv[0]));
		break;
	case SQLITE_NULL:
		sqlite3_result_null(ctx);
		break;
	default: {
		double v = m->f(sqlite3_value_double(argv[0]));
		/* out of int64's range: NULL rather than undefined behaviour */
		if (!(v >= -9223372036854775808.0 && v < 9223372036854775808.0))
			sqlite3_result_null(ctx);
		else
			sqlite3_result_int64(ctx, (sqlite3_int64)v);
	}
	}
}

static void fn_pi(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	(void)argv;
	sqlite3_result_double(ctx, M_PI);
}

/* ---- parent_directory ---------------------------------------------------------------------- */

/* The text before the last '/' ('' for "/x"), NULL without one; an error
 * for anything but text. */
static void fn_parent_directory(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	if (sqlite3_value_type(argv[0]) != SQLITE_TEXT) {
		sqlite3_result_error(ctx, "Invalid inputs to parent_directory, TEXT was expected",
				     -1);
		return;
	}
	const char *p = (const char *)sqlite3_value_text(argv[0]);
	const char *slash = p ? strrchr(p, '/') : NULL;
	if (!slash)
		sqlite3_result_null(ctx);
	else
		sqlite3_result_text(ctx, p, (int)(slash - p), SQLITE_TRANSIENT);
}

/* ---- registration ---------------------------------------------------------------------------- */

struct fn {
	const char *name;
	int nargs;
	void (*f)(sqlite3_context *, int, sqlite3_value **);
	const void *data; /* sqlite3_user_data */
};

static const struct fn fns[] = {
    {"split", 3, fn_split, NULL},
    {"regex_split", 3, fn_regex_split, NULL},
    {"regex_match", 3, fn_regex_match, NULL},
    {"inet_aton", 1, fn_inet_aton, NULL},
    {"concat", -1, fn_concat, NULL},
    {"concat_ws", -1, fn_concat_ws, NULL},
    {"to_base64", 1, fn_base64, &b64_enc},
    {"from_base64", 1, fn_base64, &b64_dec},
    {"conditional_to_base64", 1, fn_base64, &b64_cond},
    {"md5", 1, fn_digest, &d_md5},
    {"sha1", 1, fn_digest, &d_sha1},
    {"sha256", 1, fn_digest, &d_sha256},
    {"community_id_v1", 5, fn_community_id, &lenient},
    {"community_id_v1", 6, fn_community_id, &lenient},
    {"community_id_v1_strict", 5, fn_community_id, &strict},
    {"community_id_v1_strict", 6, fn_community_id, &strict},
    {"in_cidr_block", 2, fn_in_cidr_block, NULL},
    {"parent_directory", 1, fn_parent_directory, NULL},
    {"sqrt", 1, fn_math, &m_sqrt},
    {"acos", 1, fn_math, &m_acos},
    {"asin", 1, fn_math, &m_asin},
    {"atan", 1, fn_math, &m_atan},
    {"cos", 1, fn_math, &m_cos},
    {"sin", 1, fn_math, &m_sin},
    {"tan", 1, fn_math, &m_tan},
    {"cot", 1, fn_math, &m_cot},
    {"exp", 1, fn_math, &m_exp},
    {"log", 1, fn_math, &m_log},
    {"log10", 1, fn_math, &m_log10},
    {"power", 2, fn_power, NULL},
    {"ceil", 1, fn_rounded, &m_ceil},
    {"floor", 1, fn_rounded, &m_floor},
    {"degrees", 1, fn_math, &m_degrees},
    {"radians", 1, fn_math, &m_radians},
    {"pi", 0, fn_pi, NULL},
};

int ps_sqlfuncs_register(sqlite3 *db, struct ps_err *err)
{
	for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++)
		if (sqlite3_create_function(db, fns[i].name, fns[i].nargs, PURE,
					    (void *)fns[i].data, fns[i].f, NULL, NULL) != SQLITE_OK)
			return ps_sql_err(err, db, fns[i].name);
	return 0;
}
