/*
 * tables_hash.c - the `hashes` table (view `hash`, osquery's) from
 * procsnap/hashes.tsv, written by capture (capture/hash.c, cmd_capture.c):
 *   path member source pid dev ino mtime_ns size md5 sha1 sha256 status
 * tab-separated, texts escaped as the manifest's paths, '-' for none.  A
 * line that does not parse gives no row (hostile input).
 */
#include "store.h"
#include "store_int.h"
#include "tables_int.h"

#include <stdio.h>
#include <string.h>

#define HASH_FIELDS 12

static const char *const hash_cols[] = {"path_id", "member_id", "source",   "pid",
					"dev",	   "inode",	"mtime_ns", "size",
					"status",  "digest_id", NULL};
static const char *const digest_cols[] = {"digest_id", "md5", "sha1", "sha256", NULL};

int ps_tb_hash_prepare(struct ps_tables *t, struct ps_err *err)
{
	return ps_tb_prepare(t, &t->ins_hash, "hashes", hash_cols, err) < 0 ||
		       ps_tb_prepare(t, &t->ins_digest, "digests", digest_cols, err) < 0
		   ? -1
		   : 0;
}

/* A number field: 0 and *v, or -1 ('-' or not a number). */
static int num(struct ps_str f, int64_t *v)
{
	return ps_str_i64(f, v);
}

/* The digests of one line: md5, sha1, sha256 back to back, and which are
 * there (bit 0 md5...). */
struct digests {
	unsigned char b[16 + 20 + 32];
	unsigned have;
};

/* A digest field of n bytes in hex into out, or none for '-'; -1 when
 * malformed. */
static int digest(struct digests *d, unsigned bit, unsigned char *out, struct ps_str f, size_t n)
{
	if (f.len == 1 && f.p[0] == '-')
		return 0;
	if (f.len != 2 * n || ps_unhex(out, f.p, n) < 0)
		return -1;
	d->have |= bit;
	return 0;
}

/* digest_id of the line's digests (its digests row inserted on first
 * sight), or none when the line has none.  0 or -1. */
static int digest_row(struct ps_tables *t, const struct digests *d, struct ps_err *err)
{
	int64_t id;
	if (!d->have)
		return 0;
	if (!ps_set_find(&t->digests, d, sizeof(*d), &id)) {
		sqlite3_stmt *st = t->ins_digest;
		sqlite3_bind_int64(st, 1, id);
		static const size_t off[] = {0, 16, 36}, len[] = {16, 20, 32};
		for (int i = 0; i < 3; i++)
			if (d->have & (1u << i))
				sqlite3_bind_blob(st, 2 + i, d->b + off[i], (int)len[i],
						  SQLITE_TRANSIENT);
		if (ps_tb_step(t, st, "digests", err) < 0)
			return -1;
	}
	sqlite3_bind_int64(t->ins_hash, 10, id);
	return 0;
}

/* An escaped text field into its strings id; '-' is NULL.  prefix: dropped
 * from the text when it starts with it (a body's "proc/<pid>/", so the id
 * is the one `paths` has for "exe.body").  0, 1 malformed, -1 error. */
static int text_id(struct ps_tables *t, sqlite3_stmt *st, int col, struct ps_str f,
		   const char *prefix, struct ps_err *err)
{
	if (f.len == 1 && f.p[0] == '-')
		return 0;
	ps_buf_reset(&t->sbuf);
	if (ps_unescape(&t->sbuf, f.p, f.len) < 0)
		return 1; /* malformed: no row */
	size_t skip = prefix ? strlen(prefix) : 0;
	if (!skip || t->sbuf.len <= skip || memcmp(t->sbuf.buf, prefix, skip) != 0)
		skip = 0;
	return ps_tb_str_id(t, st, col, t->sbuf.buf + skip, t->sbuf.len - skip, err) < 0 ? -1 : 0;
}

static int hash_line(struct ps_tables *t, const char *p, const char *e, struct ps_err *err)
{
	struct ps_str f[HASH_FIELDS];
	int n = 0;
	for (const char *s = p;; s++) {
		if (s == e || *s == '\t') {
			if (n == HASH_FIELDS)
				return 0; /* too many fields */
			f[n].p = p;
			f[n++].len = (size_t)(s - p);
			p = s + 1;
			if (s == e)
				break;
		}
	}
	if (n != HASH_FIELDS)
		return 0;
	sqlite3_stmt *st = t->ins_hash;
	int64_t v[5] = {0, 0, 0, 0, 0};
	int source = ps_str_eq(f[2], "exe")    ? 0
		     : ps_str_eq(f[2], "map")  ? 1
		     : ps_str_eq(f[2], "body") ? 2
					       : -1;
	int bad = source < 0;
	for (int i = 0; i < 5 && !bad; i++)
		bad = num(f[3 + i], &v[i]) < 0;
	struct digests d;
	memset(&d, 0, sizeof(d));
	if (!bad)
		bad = digest(&d, 1, d.b, f[8], 16) < 0 || digest(&d, 2, d.b + 16, f[9], 20) < 0 ||
		      digest(&d, 4, d.b + 36, f[10], 32) < 0;
	char prefix[32];
	snprintf(prefix, sizeof(prefix), "proc/%lld/", bad ? 0LL : (long long)v[0]);
	int r = bad ? 1 : text_id(t, st, 1, f[0], NULL, err);
	if (r == 0)
		r = text_id(t, st, 2, f[1], prefix, err);
	if (r != 0) {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		return r < 0 ? -1 : 0;
	}
	sqlite3_bind_int(st, 3, source);
	for (int i = 0; i < 5; i++)
		sqlite3_bind_int64(st, 4 + i, v[i]);
	if (!(f[11].len == 1 && f[11].p[0] == '-'))
		ps_tb_slice(st, 9, f[11]);
	if (digest_row(t, &d, err) < 0) {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		return -1;
	}
	return ps_tb_step(t, st, "hashes", err);
}

int ps_tb_hash_member(struct ps_tables *t, const char *data, size_t len, struct ps_err *err)
{
	const char *p = data, *end = data + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			nl = end;
		if (nl > p && *p != '#' && hash_line(t, p, nl, err) < 0)
			return -1;
		p = nl + 1;
	}
	return 0;
}
