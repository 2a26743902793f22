/*
 * paths.c - which paths changed between A and B: the core of the diff.
 *
 * One sequential scan of each index's files and a merge in C, instead of a
 * join of two 300k-row tables by path (files_stmt holds the only queries
 * over files, to point at faster tables):
 *   1. scan A: keep, per path that matters, its path and a fingerprint (a
 *      64-bit hash of the path, a 64-bit hash of kind, XXH3, link target,
 *      errno), sorted by path hash;
 *   2. scan B: a path whose fingerprint is in A, equal, is unchanged (marked
 *      seen); any other is kept whole (a candidate);
 *   3. look up in A by path the paths not seen (changed or gone);
 *   4. sort the two candidate lists by path and merge them, comparing the
 *      fields themselves (a hash collision costs a comparison, never a
 *      missed change).
 * Memory: about 25 bytes plus the path per path that matters of A, plus the
 * changed paths.  The paths that matter: every system file, and for the
 * processes in both snapshots only the members a section is built from
 * (procs_relevant): not the per-thread files, schedstat and the like.
 *
 * net/ (captured once per network namespace) and mountinfo (per process)
 * are compared per namespace, as system files: rows of proc/<pid>/net/...,
 * proc/<pid>/mountinfo and the ns/net and ns/mnt links are gathered during
 * the same scans and grouped here by namespace.
 */
#include "diff_int.h"

#include "store.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* One row of files, whole. */
struct frow {
	char *path;
	int64_t pid, tid;
	char *kind, *hash, *link, *err;
	int64_t off, size;
	const char *rel; /* inside path: after "proc/<pid>/" (ns rows) */
};

struct frows {
	struct frow *v;
	size_t n, cap;
};

struct fp {
	uint64_t ph, ch;
	size_t path; /* offset in scan.arena */
};

enum { U_SKIP = 0, U_FILE = 1, U_NS = 2 };

struct scan {
	struct dctx *c;
	const int64_t *pm; /* matched pids, sorted */
	size_t npm;
	struct fp *fp; /* A's fingerprints, sorted by ph */
	size_t nfp, capfp;
	unsigned char *seen; /* per fp: 1 unchanged in B, 2 candidate */
	struct ps_buf arena; /* A's paths that matter, NUL-separated */
	struct frows cand[2], ns[2];
};

static uint64_t hash64(const void *p, size_t n)
{
	unsigned char h[16];
	ps_xxh3_128(p, n, h);
	uint64_t v;
	memcpy(&v, h, sizeof(v));
	return v;
}

static void frow_free(struct frow *r)
{
	free(r->path);
	free(r->kind);
	free(r->hash);
	free(r->link);
	free(r->err);
}

static void frows_free(struct frows *f)
{
	for (size_t i = 0; i < f->n; i++)
		frow_free(&f->v[i]);
	free(f->v);
	memset(f, 0, sizeof(*f));
}

/* Columns of files_stmt: path kind xxh3 link_target errno pid tid data_off size */
static struct frow *frows_add(struct frows *f, sqlite3_stmt *q)
{
	if (f->n == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 256;
		f->v = ps_xrealloc(f->v, f->cap * sizeof(*f->v));
	}
	struct frow *r = &f->v[f->n++];
	r->path = dx_col_dup(q, 0);
	r->kind = dx_col_dup(q, 1);
	r->hash = dx_col_dup(q, 2);
	r->link = dx_col_dup(q, 3);
	r->err = dx_col_dup(q, 4);
	r->pid = dx_col_i64(q, 5);
	r->tid = dx_col_i64(q, 6);
	r->off = dx_col_i64(q, 7);
	r->size = dx_col_i64(q, 8);
	r->rel = NULL;
	if (r->pid >= 0 && r->path) {
		const char *s = r->path + 5;
		while (*s >= '0' && *s <= '9')
			s++;
		r->rel = *s == '/' ? s + 1 : s;
	}
	return r;
}

/* The content fingerprint: kind, XXH3, link target, errno (NULL != ""),
 * each as a tag byte, its text and a NUL.  b: scratch, reused. */
static uint64_t content_hash(sqlite3_stmt *q, struct ps_buf *b)
{
	ps_buf_reset(b);
	for (int col = 1; col <= 4; col++) {
		const unsigned char *t = sqlite3_column_text(q, col);
		size_t n = (size_t)sqlite3_column_bytes(q, col);
		ps_buf_grow(b, n + 2);
		b->buf[b->len++] = t ? '\002' : '\001';
		if (t && n)
			memcpy(b->buf + b->len, t, n);
		b->len += t ? n : 0;
		b->buf[b->len++] = '\0';
	}
	b->buf[b->len] = '\0';
	return hash64(b->buf, b->len);
}

static int in_pm(const struct scan *s, int64_t pid)
{
	size_t lo = 0, hi = s->npm;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->pm[mid] == pid)
			return 1;
		if (s->pm[mid] < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

/* What a row is to the diff: U_FILE (compared by path), U_NS (gathered for
 * the per-namespace comparison; may also be U_FILE), or nothing. */
static int row_use(const struct scan *s, const char *path, int64_t pid, int64_t tid)
{
	int scope = s->c->o->scope;
	if (strncmp(path, "procsnap/", 9) == 0)
		return U_SKIP;
	if (pid < 0)
		return scope == PS_DIFF_PROCESSES ? U_SKIP : U_FILE;
	/* the index is input too: the pid column must agree with the path */
	if (strncmp(path, "proc/", 5) != 0)
		return U_SKIP;
	const char *rel = path + 5;
	int64_t v = 0;
	while (*rel >= '0' && *rel <= '9' && v <= INT32_MAX)
		v = v * 10 + (*rel++ - '0');
	if (v != pid || *rel != '/' || rel == path + 5)
		return U_SKIP;
	rel++;
	int use = U_SKIP;
	if (scope != PS_DIFF_PROCESSES && tid < 0 &&
	    (strncmp(rel, "net/", 4) == 0 || strcmp(rel, "mountinfo") == 0 ||
	     strcmp(rel, "ns/net") == 0 || strcmp(rel, "ns/mnt") == 0))
		use |= U_NS;
	if (scope != PS_DIFF_SYSTEM && in_pm(s, pid) && procs_relevant(rel))
		use |= U_FILE;
	return use;
}

static int fp_cmp(const void *x, const void *y)
{
	const struct fp *a = x, *b = y;
	return a->ph < b->ph ? -1 : a->ph > b->ph;
}

/* Index of the first fingerprint with path hash ph, or nfp. */
static size_t fp_find(const struct scan *s, uint64_t ph)
{
	size_t lo = 0, hi = s->nfp;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->fp[mid].ph < ph)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < s->nfp && s->fp[lo].ph == ph ? lo : s->nfp;
}

/* Two paths of A with the same path hash: never "unchanged" by hash alone. */
static int fp_dup(const struct scan *s, size_t i)
{
	return (i > 0 && s->fp[i - 1].ph == s->fp[i].ph) ||
	       (i + 1 < s->nfp && s->fp[i + 1].ph == s->fp[i].ph);
}

/*
 * files_stmt - the queries over side's files, the only ones in the diff
 * that read it whole: every row in table order (by_path 0), or the row of
 * one path (by_path 1; by_path 2 the statement that finds its path_id).
 */
static int files_stmt(struct dctx *c, int side, int by_path, sqlite3_stmt **q)
{
	static const char cols[] = "path, kind, xxh3, link_target, errno, pid, tid, data_off, size";
	const char *schema = side ? "b" : "a";
	long long sid = side ? c->d->b.sid : c->d->a.sid;
	if (by_path) {
		/* one row by its path, through the base tables' keys (store.h):
		 * by_path 1 the row's statement, 2 the path_id's; bind both with
		 * ps_files_lookup_bind */
		char *sql = by_path == 2 ? ps_files_lookup_id_sql(schema, sid)
					 : ps_files_lookup_sql(schema, sid, cols);
		int rc = dx_prep(c, q, sql);
		free(sql);
		return rc;
	}
	struct ps_buf sql = PS_BUF_INIT;
	ps_buf_addf(&sql, "SELECT %s FROM %s.files WHERE snapshot_id = %lld", cols, schema, sid);
	int rc = dx_prep(c, q, sql.buf);
	ps_buf_release(&sql);
	return rc;
}

/* Scan side's files.  pass 0 (A): the fingerprints; pass 1 (B): against them. */
static int scan_files(struct scan *s, int side, int pass)
{
	struct dctx *c = s->c;
	sqlite3_stmt *q;
	if (files_stmt(c, side, 0, &q) < 0)
		return -1;
	int r;
	struct ps_buf hb = PS_BUF_INIT; /* content_hash's, reused */
	while ((r = sqlite3_step(q)) == SQLITE_ROW) {
		const char *path = (const char *)sqlite3_column_text(q, 0);
		if (!path)
			continue;
		int use = row_use(s, path, dx_col_i64(q, 5), dx_col_i64(q, 6));
		if (use & U_NS)
			frows_add(&s->ns[side], q);
		if (!(use & U_FILE))
			continue;
		uint64_t ph = hash64(path, (size_t)sqlite3_column_bytes(q, 0));
		if (pass == 0) {
			if (s->nfp == s->capfp) {
				s->capfp = s->capfp ? s->capfp * 2 : 4096;
				s->fp = ps_xrealloc(s->fp, s->capfp * sizeof(*s->fp));
			}
			s->fp[s->nfp++] = (struct fp){ph, content_hash(q, &hb), s->arena.len};
			ps_buf_add(&s->arena, path, (size_t)sqlite3_column_bytes(q, 0) + 1);
			continue;
		}
		size_t i = fp_find(s, ph);
		if (i < s->nfp && !fp_dup(s, i) && s->fp[i].ch == content_hash(q, &hb)) {
			s->seen[i] = 1;
			continue;
		}
		if (i < s->nfp)
			for (size_t k = i; k < s->nfp && s->fp[k].ph == ph; k++)
				s->seen[k] = 2;
		frows_add(&s->cand[1], q);
	}
	sqlite3_finalize(q);
	ps_buf_release(&hb);
	if (r != SQLITE_DONE)
		return ps_err_set(c->err, EIO, "diff: sqlite: %s", sqlite3_errmsg(c->db));
	return 0;
}

static int frow_path_cmp(const void *x, const void *y)
{
	return strcmp(((const struct frow *)x)->path, ((const struct frow *)y)->path);
}

static int str_eq(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

static int frow_same(const struct frow *a, const struct frow *b)
{
	return str_eq(a->kind, b->kind) && str_eq(a->hash, b->hash) && str_eq(a->link, b->link) &&
	       str_eq(a->err, b->err);
}

/* Move the fields of a row into side s of p (the row keeps nothing). */
static void take(struct dpath *p, int s, struct frow *r)
{
	if (!p->path) {
		p->path = r->path;
		r->path = NULL;
		p->pid = r->pid;
		p->tid = r->tid;
	}
	p->kind[s] = r->kind;
	p->hash[s] = r->hash;
	p->link[s] = r->link;
	p->err[s] = r->err;
	p->off[s] = r->off;
	p->size[s] = r->size;
	r->kind = r->hash = r->link = r->err = NULL;
}

/* Merge the candidates of A and B by path into c->paths. */
static void merge(struct scan *s)
{
	struct frows *a = &s->cand[0], *b = &s->cand[1];
	if (a->n)
		qsort(a->v, a->n, sizeof(*a->v), frow_path_cmp);
	if (b->n)
		qsort(b->v, b->n, sizeof(*b->v), frow_path_cmp);
	size_t i = 0, j = 0;
	while (i < a->n || j < b->n) {
		int r = i >= a->n ? 1 : j >= b->n ? -1 : strcmp(a->v[i].path, b->v[j].path);
		if (r == 0 && frow_same(&a->v[i], &b->v[j])) {
			i++;
			j++;
			continue;
		}
		struct dpath *p = dx_path_new(s->c);
		if (r <= 0)
			take(p, 0, &a->v[i++]);
		if (r >= 0)
			take(p, 1, &b->v[j++]);
		s->c->d->st.changed_paths++;
	}
}

/* A's rows of the paths not seen unchanged in B, by path. */
static int lookup_a(struct scan *s)
{
	sqlite3_stmt *q, *id_q;
	if (files_stmt(s->c, 0, 1, &q) < 0)
		return -1;
	if (files_stmt(s->c, 0, 2, &id_q) < 0) {
		sqlite3_finalize(q);
		return -1;
	}
	int rc = 0;
	for (size_t i = 0; i < s->nfp && rc == 0; i++) {
		if (s->seen[i] == 1)
			continue;
		if (ps_files_lookup_bind(id_q, q, s->arena.buf + s->fp[i].path) < 0) {
			rc = ps_err_set(s->c->err, EIO, "diff: sqlite: %s",
					sqlite3_errmsg(s->c->db));
			break;
		}
		while (sqlite3_step(q) == SQLITE_ROW)
			frows_add(&s->cand[0], q);
	}
	sqlite3_finalize(q);
	sqlite3_finalize(id_q);
	return rc;
}

/* ---- per namespace ------------------------------------------------------------ */

/* A namespace-scoped file: (namespace, rel) and the row of its first pid. */
struct nsent {
	char *ns; /* "net:[4026531840]", or "pid N" when the link is unknown */
	const char *rel;
	struct frow *row;
};

struct pidns {
	int64_t pid;
	const char *net, *mnt;
};

static int pidns_cmp(const void *x, const void *y)
{
	const struct pidns *a = x, *b = y;
	return a->pid < b->pid ? -1 : a->pid > b->pid;
}

static int nsent_cmp(const void *x, const void *y)
{
	const struct nsent *a = x, *b = y;
	int r = strcmp(a->rel, b->rel);
	if (r)
		return r;
	r = strcmp(a->ns, b->ns);
	if (r)
		return r;
	return a->row->pid < b->row->pid ? -1 : a->row->pid > b->row->pid;
}

/* (rel, ns): the key two sides are merged by */
static int nsent_cmp_key(const struct nsent *a, const struct nsent *b)
{
	int r = strcmp(a->rel, b->rel);
	return r ? r : strcmp(a->ns, b->ns);
}

static const struct pidns *pidns_find(const struct pidns *v, size_t n, int64_t pid)
{
	struct pidns key = {pid, NULL, NULL};
	return bsearch(&key, v, n, sizeof(*v), pidns_cmp);
}

/* The namespace-scoped entries of one side, sorted by (rel, ns), one per
 * key (the lowest pid's).  *init_net / *init_mnt: pid 1's namespaces. */
static struct nsent *ns_entries(struct frows *f, size_t *nout, char **init_net, char **init_mnt)
{
	struct pidns *pn = ps_xmalloc((f->n ? f->n : 1) * sizeof(*pn));
	size_t npn = 0;
	for (size_t i = 0; i < f->n; i++) {
		struct frow *r = &f->v[i];
		int net = strcmp(r->rel, "ns/net") == 0, mnt = strcmp(r->rel, "ns/mnt") == 0;
		if (!net && !mnt)
			continue;
		pn[npn++] = (struct pidns){r->pid, net ? r->link : NULL, mnt ? r->link : NULL};
	}
	if (npn)
		qsort(pn, npn, sizeof(*pn), pidns_cmp);
	/* fold the two rows of a pid into one */
	size_t u = 0;
	for (size_t i = 0; i < npn; i++) {
		if (u && pn[u - 1].pid == pn[i].pid) {
			if (pn[i].net)
				pn[u - 1].net = pn[i].net;
			if (pn[i].mnt)
				pn[u - 1].mnt = pn[i].mnt;
		} else {
			pn[u++] = pn[i];
		}
	}
	npn = u;
	const struct pidns *one = pidns_find(pn, npn, 1);
	*init_net = ps_xstrdup(one && one->net ? one->net : "pid 1");
	*init_mnt = ps_xstrdup(one && one->mnt ? one->mnt : "pid 1");
	struct nsent *v = ps_xmalloc((f->n ? f->n : 1) * sizeof(*v));
	size_t n = 0;
	for (size_t i = 0; i < f->n; i++) {
		struct frow *r = &f->v[i];
		int mi = strcmp(r->rel, "mountinfo") == 0;
		if (!mi && strncmp(r->rel, "net/", 4) != 0)
			continue;
		const struct pidns *x = pidns_find(pn, npn, r->pid);
		const char *link = x ? (mi ? x->mnt : x->net) : NULL;
		/* mountinfo repeats for every process: only a mount namespace
		 * known by its link (or pid 1's) is one */
		if (mi && (!r->kind || strcmp(r->kind, "file") != 0 || (!link && r->pid != 1)))
			continue;
		struct ps_buf ns = PS_BUF_INIT;
		if (link)
			ps_buf_adds(&ns, link);
		else
			ps_buf_addf(&ns, "pid %lld", (long long)r->pid);
		v[n++] = (struct nsent){ps_buf_detach(&ns, NULL), r->rel, r};
	}
	if (n)
		qsort(v, n, sizeof(*v), nsent_cmp);
	u = 0;
	for (size_t i = 0; i < n; i++) {
		if (u && strcmp(v[u - 1].rel, v[i].rel) == 0 && strcmp(v[u - 1].ns, v[i].ns) == 0) {
			free(v[i].ns);
			continue;
		}
		v[u++] = v[i];
	}
	free(pn);
	*nout = u;
	return v;
}

static void ns_compare(struct scan *s)
{
	size_t n[2];
	char *init[2][2];
	struct nsent *e[2];
	for (int side = 0; side < 2; side++)
		e[side] = ns_entries(&s->ns[side], &n[side], &init[side][0], &init[side][1]);
	size_t i = 0, j = 0;
	while (i < n[0] || j < n[1]) {
		int r = i >= n[0] ? 1 : j >= n[1] ? -1 : nsent_cmp_key(&e[0][i], &e[1][j]);
		if (r == 0 && frow_same(e[0][i].row, e[1][j].row)) {
			i++;
			j++;
			continue;
		}
		const struct nsent *x = r <= 0 ? &e[0][i] : &e[1][j];
		int side = r <= 0 ? 0 : 1;
		int w = strcmp(x->rel, "mountinfo") == 0;
		struct ps_buf lab = PS_BUF_INIT;
		ps_buf_adds(&lab, x->rel);
		if (strcmp(x->ns, init[side][w]) != 0)
			ps_buf_addf(&lab, " (%s)", x->ns);
		struct dpath *p = dx_path_new(s->c);
		if (r <= 0)
			take(p, 0, e[0][i++].row);
		if (r >= 0)
			take(p, 1, e[1][j++].row);
		p->label = ps_buf_detach(&lab, NULL);
		p->ns_scoped = 1;
		p->pid = -1; /* a system file now */
		p->tid = -1;
		s->c->d->st.changed_paths++;
	}
	for (int side = 0; side < 2; side++) {
		for (size_t k = 0; k < n[side]; k++)
			free(e[side][k].ns);
		free(e[side]);
		free(init[side][0]);
		free(init[side][1]);
	}
}

/* ---- the whole comparison ------------------------------------------------------ */

struct dpath *dx_path_new(struct dctx *c)
{
	if (c->npaths == c->cappaths) {
		c->cappaths = c->cappaths ? c->cappaths * 2 : 1024;
		c->paths = ps_xrealloc(c->paths, c->cappaths * sizeof(*c->paths));
	}
	struct dpath *p = &c->paths[c->npaths++];
	memset(p, 0, sizeof(*p));
	p->pid = p->tid = -1;
	return p;
}

void dx_path_free(struct dpath *p)
{
	free(p->path);
	free(p->label);
	for (int s = 0; s < 2; s++) {
		free(p->kind[s]);
		free(p->hash[s]);
		free(p->link[s]);
		free(p->err[s]);
	}
}

int dx_changed_paths(struct dctx *c)
{
	struct scan s;
	memset(&s, 0, sizeof(s));
	ps_buf_init(&s.arena);
	s.c = c;
	int rc = -1;
	int64_t *pm = NULL;
	size_t npm = 0, cap = 0;
	sqlite3_stmt *q;
	if (dx_prep(c, &q, "SELECT pid FROM pm ORDER BY pid") < 0)
		return -1;
	while (sqlite3_step(q) == SQLITE_ROW) {
		if (npm == cap) {
			cap = cap ? cap * 2 : 1024;
			pm = ps_xrealloc(pm, cap * sizeof(*pm));
		}
		pm[npm++] = sqlite3_column_int64(q, 0);
	}
	sqlite3_finalize(q);
	s.pm = pm;
	s.npm = npm;
	if (scan_files(&s, 0, 0) < 0)
		goto out;
	if (s.nfp)
		qsort(s.fp, s.nfp, sizeof(*s.fp), fp_cmp);
	s.seen = ps_xcalloc(s.nfp ? s.nfp : 1, 1);
	if (scan_files(&s, 1, 1) < 0 || lookup_a(&s) < 0)
		goto out;
	merge(&s);
	if (c->o->scope != PS_DIFF_PROCESSES)
		ns_compare(&s);
	rc = 0;
out:
	for (int side = 0; side < 2; side++) {
		frows_free(&s.cand[side]);
		frows_free(&s.ns[side]);
	}
	free(s.fp);
	free(s.seen);
	ps_buf_release(&s.arena);
	free(pm);
	return rc;
}
