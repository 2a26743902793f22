/*
 * paths.c - which paths changed between A and B: the core of the diff.
 *
 * The base tables are read directly, never the files view (which joins the
 * strings, stats and contents of every one of its rows and builds its path
 * text in SQL); files_stmt holds the queries:
 *   1. each side's `strings` (a small table) is read once into memory; the
 *      ids of the names that can matter - procs_relevant's members, the
 *      namespace-scoped files, and '' (a task/N directory itself) - go to a
 *      work table per side;
 *   2. both sides' `paths` are read at once in primary-key order (by pid),
 *      only the rows whose name_id is in that table (the per-thread files,
 *      schedstat, smaps and the like are filtered out by SQLite, as
 *      integers), each joined with its `contents` row by key;
 *   3. the path text is built in C for the rows kept; the rows of one pid
 *      on both sides are sorted by path and merged, comparing the fields
 *      themselves (kind, the raw XXH3 bytes, link target, errno).  The
 *      system files (sys_paths, and rows of a negative pid) are one more
 *      group.
 * Memory: the two string tables, the rows of one pid, one row per
 * namespace-scoped file and namespace, the changed paths - not a row per
 * process.  The paths that matter: every system file, and for the
 * processes in both snapshots only the members a section is built from
 * (procs_relevant).  The result is what a FULL JOIN by path of the two
 * files views would give (tests/test_diff_paths.c checks it against one).
 *
 * net/ (captured once per network namespace) and mountinfo (per process)
 * are compared per namespace, as system files: rows of proc/<pid>/net/...,
 * proc/<pid>/mountinfo and the ns/net and ns/mnt links are gathered during
 * the same scans, the lowest pid's row kept per file and namespace.
 */
#include "diff_int.h"

#include "store.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* One row of files, whole (namespace-scoped rows). */
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

/* A side's strings: str_id -> text (NUL-terminated in text, len bytes). */
struct str {
	int64_t id;
	size_t off, len;
};

struct strtab {
	struct str *v;
	size_t n, cap;
	struct ps_buf text;
};

#define NONE SIZE_MAX

/* A kept row of one side: texts are offsets in its group's arena (NONE:
 * NULL); the link target points into the side's strtab. */
struct row {
	int64_t pid, tid, off, size;
	size_t path, pathlen, err, errlen;
	size_t hash, hashlen; /* the XXH3 bytes (none: 0 bytes) */
	const char *link;
	size_t linklen;
	int kind; /* 0 file, 1 link, 2 dir, 3 absent (as the files view names them) */
};

/* The rows of one pid (or the system files) of one side. */
struct group {
	struct row *v;
	size_t n, cap;
	struct ps_buf arena;
};

/* A namespace-scoped file of one side: the row of the lowest pid that has
 * it, keyed by (rel, namespace). */
struct nsent {
	char *ns; /* "net:[4026531840]", or "pid N" when the link is unknown */
	struct frow row;
};

struct nsside {
	struct nsent *v;
	size_t n, cap;
	struct ps_hmap seen; /* hash of rel NUL ns -> index in v */
	char *init[2];	     /* pid 1's ns/net and ns/mnt targets (NULL: "pid 1") */
};

enum { U_SKIP = 0, U_FILE = 1, U_NS = 2 };

struct scan {
	struct dctx *c;
	const int64_t *pm; /* matched pids, sorted */
	size_t npm;
	struct strtab st[2];
	struct group g[2];
	struct ps_buf path;   /* scratch: the path of the current row */
	struct frows pend[2]; /* the current pid's namespace-scoped rows */
	struct nsside nss[2]; /* the namespace-scoped files (ns_collect) */
};

static const char *const kind_text[4] = {"file", "link", "dir", "absent"};

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

static char *arena_dup(const struct group *g, size_t off, size_t len)
{
	return off == NONE ? NULL : ps_xstrndup(g->arena.buf + off, len);
}

/* The XXH3 column as the files view gives it: lower-case hex. */
static char *hash_hex(const struct group *g, const struct row *r)
{
	char *h = ps_xmalloc(2 * r->hashlen + 1);
	ps_hex(h, g->arena.buf + r->hash, r->hashlen);
	return h;
}

/* x: the row r of group g, whole (its own copies of the texts; rel unset). */
static void frow_of(struct frow *x, const struct group *g, const struct row *r)
{
	x->path = arena_dup(g, r->path, r->pathlen);
	x->kind = ps_xstrdup(kind_text[r->kind]);
	x->hash = hash_hex(g, r);
	x->link = r->link ? ps_xstrndup(r->link, r->linklen) : NULL;
	x->err = arena_dup(g, r->err, r->errlen);
	x->pid = r->pid;
	x->tid = r->tid;
	x->off = r->off;
	x->size = r->size;
	x->rel = NULL;
}

/* A namespace-scoped row, kept whole (its group is reset per pid). */
static void frows_add(struct frows *f, const struct group *g, const struct row *r)
{
	PS_XGROW(f->v, f->n, f->cap, 256);
	struct frow *x = &f->v[f->n++];
	frow_of(x, g, r);
	/* a pid's row (row_use): "proc/<pid>/rel" */
	const char *s = x->path + 5;
	while (*s >= '0' && *s <= '9')
		s++;
	x->rel = *s == '/' ? s + 1 : s;
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

/* A member (path relative to proc/<pid>/) compared per namespace. */
static int ns_rel(const char *rel)
{
	return strncmp(rel, "net/", 4) == 0 || strcmp(rel, "mountinfo") == 0 ||
	       strcmp(rel, "ns/net") == 0 || strcmp(rel, "ns/mnt") == 0;
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
	if (scope != PS_DIFF_PROCESSES && tid < 0 && ns_rel(rel))
		use |= U_NS;
	if (scope != PS_DIFF_SYSTEM && in_pm(s, pid) && ps_dx_procs_relevant(rel))
		use |= U_FILE;
	return use;
}

/* ---- the strings of a side ------------------------------------------------------ */

static int str_cmp(const void *x, const void *y)
{
	const struct str *a = x, *b = y;
	return a->id < b->id ? -1 : a->id > b->id;
}

/* The text of the id in column col of q (NULL: none, as an inner join). */
static const char *str_of(const struct strtab *t, sqlite3_stmt *q, int col, size_t *len)
{
	if (sqlite3_column_type(q, col) != SQLITE_INTEGER)
		return NULL;
	struct str key = {sqlite3_column_int64(q, col), 0, 0};
	/* the builder numbers strings densely: try the id's place first */
	const struct str *e = NULL;
	uint64_t at = t->n ? (uint64_t)key.id - (uint64_t)t->v[0].id : 0;
	if (t->n && key.id >= t->v[0].id && at < t->n && t->v[at].id == key.id)
		e = &t->v[at];
	else
		e = bsearch(&key, t->v, t->n, sizeof(*t->v), str_cmp);
	if (!e)
		return NULL;
	*len = e->len;
	return t->text.buf + e->off;
}

/* Which names can give a row that row_use keeps: N_NAME of a row of the
 * process itself (tid NULL: the name is its rel), N_TASK of a thread's
 * row (only the task/N directory, name '', can be kept). */
enum { N_NAME = 1, N_TASK = 2 };

static int name_use(const struct scan *s, const char *name)
{
	int scope = s->c->o->scope, use = 0;
	if ((scope != PS_DIFF_SYSTEM && ps_dx_procs_relevant(name)) ||
	    (scope != PS_DIFF_PROCESSES && ns_rel(name)))
		use |= N_NAME;
	if (scope != PS_DIFF_SYSTEM && !*name)
		use |= N_TASK;
	return use;
}

/*
 * Read side's strings into s->st[side] and fill the work tables dx_names_<x>
 * and dx_tasks_<x> (x: a or b) with the ids of the names name_use keeps.
 */
static int load_strings(struct scan *s, int side)
{
	struct dctx *c = s->c;
	struct strtab *t = &s->st[side];
	const char *x = side ? "b" : "a";
	long long sid = side ? c->d->b.sid : c->d->a.sid;
	struct ps_buf sql = PS_BUF_INIT;
	sqlite3_stmt *q = NULL, *ins[2] = {NULL, NULL};
	int rc = -1, r, sorted = 1;
	ps_buf_addf(&sql,
		    "DROP TABLE IF EXISTS dx_names_%s; DROP TABLE IF EXISTS dx_tasks_%s; "
		    "CREATE TABLE dx_names_%s(id INTEGER PRIMARY KEY); "
		    "CREATE TABLE dx_tasks_%s(id INTEGER PRIMARY KEY);",
		    x, x, x, x);
	if (ps_dx_exec(c, sql.buf) < 0)
		goto out;
	ps_buf_reset(&sql);
	ps_buf_addf(&sql, "INSERT OR IGNORE INTO dx_names_%s VALUES (?)", x);
	if (ps_dx_prep(c, &ins[0], sql.buf) < 0)
		goto out;
	ps_buf_reset(&sql);
	ps_buf_addf(&sql, "INSERT OR IGNORE INTO dx_tasks_%s VALUES (?)", x);
	if (ps_dx_prep(c, &ins[1], sql.buf) < 0)
		goto out;
	ps_buf_reset(&sql);
	ps_buf_addf(&sql, "SELECT str_id, text FROM %s.strings WHERE snapshot_id = %lld", x, sid);
	if (ps_dx_prep(c, &q, sql.buf) < 0)
		goto out;
	while ((r = sqlite3_step(q)) == SQLITE_ROW) {
		if (sqlite3_column_type(q, 0) != SQLITE_INTEGER ||
		    sqlite3_column_type(q, 1) == SQLITE_NULL)
			continue;
		int64_t id = sqlite3_column_int64(q, 0);
		const char *text = (const char *)sqlite3_column_text(q, 1);
		size_t len = (size_t)sqlite3_column_bytes(q, 1);
		if (!text)
			continue;
		PS_XGROW(t->v, t->n, t->cap, 4096);
		if (t->n && t->v[t->n - 1].id >= id)
			sorted = 0;
		t->v[t->n++] = (struct str){id, t->text.len, len};
		ps_buf_add(&t->text, text, len);
		ps_buf_addc(&t->text, '\0');
		int use = name_use(s, text);
		for (int k = 0; k < 2; k++) {
			if (!(use & (k ? N_TASK : N_NAME)))
				continue;
			sqlite3_bind_int64(ins[k], 1, id);
			if (sqlite3_step(ins[k]) != SQLITE_DONE)
				r = SQLITE_ERROR;
			sqlite3_reset(ins[k]);
		}
		if (r != SQLITE_ROW)
			break;
	}
	if (r != SQLITE_DONE) {
		ps_err_set(c->err, EIO, "sqlite: %s", sqlite3_errmsg(c->db));
		goto out;
	}
	/* the key's order, unless the index was crafted */
	if (!sorted && t->n)
		qsort(t->v, t->n, sizeof(*t->v), str_cmp);
	rc = 0;
out:
	sqlite3_finalize(q);
	sqlite3_finalize(ins[0]);
	sqlite3_finalize(ins[1]);
	ps_buf_release(&sql);
	return rc;
}

/* ---- the rows ------------------------------------------------------------------- */

/*
 * files_stmt - the queries over side's base tables (columns: pid, tid,
 * name_id, kind, errno, xxh3, size, data_off, target_id):
 *   what 0: the rows below a pid directory whose name can matter
 *           (load_strings), by pid;
 *   what 1: the system files (pid and tid NULL: name_id is the path);
 *   what 2: rows of a negative pid (only a crafted index has them: the
 *           files view makes them system files).
 */
static int files_stmt(struct dctx *c, int side, int what, sqlite3_stmt **q)
{
	static const char cols[] = "s.kind, s.errno, c.xxh3, c.size, c.data_off, c.target_id";
	const char *x = side ? "b" : "a";
	long long sid = side ? c->d->b.sid : c->d->a.sid;
	struct ps_buf sql = PS_BUF_INIT;
	if (what == 1)
		ps_buf_addf(&sql, "SELECT NULL, NULL, p.name_id, %s FROM %s.sys_paths p", cols, x);
	else
		ps_buf_addf(&sql, "SELECT p.pid, p.pid + p.tid_off, p.name_id, %s FROM %s.paths p",
			    cols, x);
	ps_buf_addf(
	    &sql,
	    " LEFT JOIN %s.stats s ON s.snapshot_id = p.snapshot_id AND "
	    "s.stat_id = p.stat_id LEFT JOIN %s.contents c ON c.snapshot_id = p.snapshot_id "
	    "AND c.content_id = p.content_id WHERE p.snapshot_id = %lld",
	    x, x, sid);
	if (what == 0)
		/* '+': a filter, never a way in (the scan stays in pid order) */
		ps_buf_addf(&sql,
			    " AND p.pid >= 0 AND CASE WHEN p.tid_off IS NULL THEN +p.name_id IN "
			    "dx_names_%s ELSE +p.name_id IN dx_tasks_%s END ORDER BY p.pid",
			    x, x);
	else if (what == 2)
		ps_buf_adds(&sql, " AND p.pid < 0");
	int rc = ps_dx_prep(c, q, sql.buf);
	ps_buf_release(&sql);
	return rc;
}

/* s.kind as the files view names it: CASE kind WHEN 0 .. 2, else absent. */
static int kind_of(sqlite3_stmt *q, int col)
{
	if (sqlite3_column_type(q, col) != SQLITE_INTEGER)
		return 3;
	int64_t k = sqlite3_column_int64(q, col);
	return k >= 0 && k <= 2 ? (int)k : 3;
}

static size_t arena_add(struct group *g, const void *p, size_t n)
{
	size_t off = g->arena.len;
	ps_buf_add(&g->arena, p, n);
	ps_buf_addc(&g->arena, '\0');
	return off;
}

/*
 * The current row of q (files_stmt's columns) on side: its path is built as
 * the files view builds it; kept in g when it is compared by path, in
 * s->pend[side] when it is namespace-scoped.
 */
static void add_row(struct scan *s, int side, sqlite3_stmt *q, struct group *g)
{
	size_t nlen = 0;
	const char *name = str_of(&s->st[side], q, 2, &nlen);
	if (!name)
		return; /* the view's inner join with strings */
	struct ps_buf *pb = &s->path;
	ps_buf_reset(pb);
	if (sqlite3_column_type(q, 0) == SQLITE_NULL) {
		ps_buf_add(pb, name, nlen);
	} else {
		/* 'proc/' || pid || '/task/' || tid || '/' || name, as SQLite
		 * renders the numbers */
		ps_buf_adds(pb, "proc/");
		const unsigned char *t = sqlite3_column_text(q, 0);
		ps_buf_add(pb, t, (size_t)sqlite3_column_bytes(q, 0));
		if (sqlite3_column_type(q, 1) != SQLITE_NULL) {
			ps_buf_adds(pb, "/task/");
			t = sqlite3_column_text(q, 1);
			ps_buf_add(pb, t, (size_t)sqlite3_column_bytes(q, 1));
		}
		if (*name) {
			ps_buf_addc(pb, '/');
			ps_buf_add(pb, name, nlen);
		}
	}
	int64_t pid = ps_dx_col_i64(q, 0), tid = ps_dx_col_i64(q, 1);
	int use = row_use(s, pb->buf, pid, tid);
	if (!use)
		return;
	PS_XGROW(g->v, g->n, g->cap, 256);
	struct row *r = &g->v[g->n];
	size_t mark = g->arena.len;
	r->pid = pid;
	r->tid = tid;
	r->kind = kind_of(q, 3);
	r->pathlen = pb->len;
	r->path = arena_add(g, pb->buf, pb->len);
	r->err = NONE;
	r->errlen = 0;
	if (sqlite3_column_type(q, 4) != SQLITE_NULL) {
		const unsigned char *t = sqlite3_column_text(q, 4);
		r->errlen = (size_t)sqlite3_column_bytes(q, 4);
		r->err = arena_add(g, t, r->errlen);
	}
	/* lower(hex(xxh3)): hex reads its argument as a blob, and gives '' for
	 * NULL (a directory, an absent path) */
	const void *h = sqlite3_column_blob(q, 5);
	r->hashlen = (size_t)sqlite3_column_bytes(q, 5);
	r->hash = arena_add(g, h, r->hashlen);
	r->size = sqlite3_column_type(q, 6) == SQLITE_NULL ? 0 : sqlite3_column_int64(q, 6);
	r->off = r->kind == 0 ? ps_dx_col_i64(q, 7) : -1;
	r->linklen = 0;
	r->link = str_of(&s->st[side], q, 8, &r->linklen);
	if (use & U_NS)
		frows_add(&s->pend[side], g, r);
	if (use & U_FILE)
		g->n++;
	else
		g->arena.len = mark;
}

static int opt_eq(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

static const char *row_text(const struct group *g, size_t off)
{
	return off == NONE ? NULL : g->arena.buf + off;
}

/* The comparison of the files view's texts: kind, xxh3 (hex: equal when the
 * bytes are; NULL is ''), link_target and errno (C strings; NULL differs
 * from ""). */
static int row_same(const struct group *ga, const struct row *a, const struct group *gb,
		    const struct row *b)
{
	if (a->kind != b->kind || a->hashlen != b->hashlen ||
	    memcmp(ga->arena.buf + a->hash, gb->arena.buf + b->hash, a->hashlen) != 0)
		return 0;
	return opt_eq(a->link, b->link) && opt_eq(row_text(ga, a->err), row_text(gb, b->err));
}

/* Move the fields of a namespace-scoped row into side s of p. */
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

/* Copy the fields of a row into side s of p. */
static void take_row(struct dpath *p, int s, const struct group *g, const struct row *r)
{
	struct frow x;
	frow_of(&x, g, r);
	take(p, s, &x);
	frow_free(&x); /* its path, when p had one */
}

static int row_cmp(const void *x, const void *y, void *arena)
{
	const char *base = arena;
	return strcmp(base + ((const struct row *)x)->path, base + ((const struct row *)y)->path);
}

static int frow_same(const struct frow *a, const struct frow *b)
{
	return opt_eq(a->kind, b->kind) && opt_eq(a->hash, b->hash) && opt_eq(a->link, b->link) &&
	       opt_eq(a->err, b->err);
}

/* ---- per namespace ------------------------------------------------------------ */

static uint64_t hash64(const void *p, size_t n)
{
	unsigned char h[16];
	ps_xxh3_128(p, n, h);
	uint64_t v;
	memcpy(&v, h, sizeof(v));
	return v;
}

/*
 * The namespace-scoped rows of one pid (s->pend[side], gathered by add_row)
 * into the side's entries.  The pids come in ascending order, so the first
 * row of a (rel, namespace) is the lowest pid's; the others are dropped at
 * once (memory: one entry per file per namespace, not per process).
 */
static void ns_collect(struct scan *s, int side)
{
	struct frows *f = &s->pend[side];
	struct nsside *x = &s->nss[side];
	const char *link[2] = {NULL, NULL}; /* this pid's net, mnt */
	int known = 0;
	for (size_t i = 0; i < f->n; i++) {
		int w = strcmp(f->v[i].rel, "ns/net") == 0   ? 0
			: strcmp(f->v[i].rel, "ns/mnt") == 0 ? 1
							     : -1;
		if (w < 0)
			continue;
		known = 1;
		if (f->v[i].link)
			link[w] = f->v[i].link;
	}
	if (f->n && f->v[0].pid == 1 && known) {
		for (int w = 0; w < 2; w++) {
			free(x->init[w]);
			x->init[w] = link[w] ? ps_xstrdup(link[w]) : NULL;
		}
	}
	struct ps_buf key = PS_BUF_INIT;
	for (size_t i = 0; i < f->n; i++) {
		struct frow *r = &f->v[i];
		int mi = strcmp(r->rel, "mountinfo") == 0;
		if (!mi && strncmp(r->rel, "net/", 4) != 0)
			continue;
		const char *l = link[mi];
		/* mountinfo repeats for every process: only a mount namespace
		 * known by its link (or pid 1's) is one */
		if (mi && (!r->kind || strcmp(r->kind, "file") != 0 || (!l && r->pid != 1)))
			continue;
		ps_buf_reset(&key);
		ps_buf_adds(&key, r->rel);
		ps_buf_addc(&key, '\0');
		size_t nsoff = key.len;
		if (l)
			ps_buf_adds(&key, l);
		else
			ps_buf_addf(&key, "pid %lld", (long long)r->pid);
		uint64_t h = hash64(key.buf, key.len), idx;
		size_t it = 0;
		int dup = 0;
		while (!dup && ps_hmap_next(&x->seen, h, &it, &idx))
			dup = strcmp(x->v[idx].row.rel, r->rel) == 0 &&
			      strcmp(x->v[idx].ns, key.buf + nsoff) == 0;
		if (dup)
			continue;
		PS_XGROW(x->v, x->n, x->cap, 64);
		x->v[x->n] = (struct nsent){ps_xstrdup(key.buf + nsoff), *r};
		memset(r, 0, sizeof(*r)); /* moved */
		ps_hmap_put(&x->seen, h, x->n++);
	}
	ps_buf_release(&key);
	for (size_t i = 0; i < f->n; i++)
		frow_free(&f->v[i]);
	f->n = 0;
}

/* (rel, ns): the key two sides are merged by */
static int nsent_cmp(const void *x, const void *y)
{
	const struct nsent *a = x, *b = y;
	int r = strcmp(a->row.rel, b->row.rel);
	return r ? r : strcmp(a->ns, b->ns);
}

static void ns_compare(struct scan *s)
{
	for (int side = 0; side < 2; side++)
		if (s->nss[side].n > 1)
			qsort(s->nss[side].v, s->nss[side].n, sizeof(struct nsent), nsent_cmp);
	struct nsside *a = &s->nss[0], *b = &s->nss[1];
	size_t i = 0, j = 0;
	while (i < a->n || j < b->n) {
		int r = i >= a->n ? 1 : j >= b->n ? -1 : nsent_cmp(&a->v[i], &b->v[j]);
		if (r == 0 && frow_same(&a->v[i].row, &b->v[j].row)) {
			i++;
			j++;
			continue;
		}
		const struct nsent *e = r <= 0 ? &a->v[i] : &b->v[j];
		const char *init =
		    s->nss[r <= 0 ? 0 : 1].init[strcmp(e->row.rel, "mountinfo") == 0];
		struct ps_buf lab = PS_BUF_INIT;
		ps_buf_adds(&lab, e->row.rel);
		if (strcmp(e->ns, init ? init : "pid 1") != 0)
			ps_buf_addf(&lab, " (%s)", e->ns);
		struct dpath *p = ps_dx_path_new(s->c);
		if (r <= 0)
			take(p, 0, &a->v[i++].row);
		if (r >= 0)
			take(p, 1, &b->v[j++].row);
		p->label = ps_buf_detach(&lab, NULL);
		p->ns_scoped = 1;
		p->pid = -1; /* a system file now */
		p->tid = -1;
		s->c->d->st.changed_paths++;
	}
}

static void nsside_free(struct nsside *x)
{
	for (size_t i = 0; i < x->n; i++) {
		free(x->v[i].ns);
		frow_free(&x->v[i].row);
	}
	free(x->v);
	ps_hmap_release(&x->seen);
	free(x->init[0]);
	free(x->init[1]);
}

/* Sort the two groups by path and merge them into c->paths; empty them. */
static void merge_groups(struct scan *s)
{
	struct group *a = &s->g[0], *b = &s->g[1];
	if (a->n > 1)
		qsort_r(a->v, a->n, sizeof(*a->v), row_cmp, a->arena.buf);
	if (b->n > 1)
		qsort_r(b->v, b->n, sizeof(*b->v), row_cmp, b->arena.buf);
	size_t i = 0, j = 0;
	while (i < a->n || j < b->n) {
		int r = i >= a->n ? 1
			: j >= b->n
			    ? -1
			    : strcmp(a->arena.buf + a->v[i].path, b->arena.buf + b->v[j].path);
		if (r == 0 && row_same(a, &a->v[i], b, &b->v[j])) {
			i++;
			j++;
			continue;
		}
		struct dpath *p = ps_dx_path_new(s->c);
		if (r <= 0)
			take_row(p, 0, a, &a->v[i++]);
		if (r >= 0)
			take_row(p, 1, b, &b->v[j++]);
		s->c->d->st.changed_paths++;
	}
	a->n = b->n = 0;
	ps_buf_reset(&a->arena);
	ps_buf_reset(&b->arena);
	ns_collect(s, 0);
	ns_collect(s, 1);
}

static int step(struct dctx *c, sqlite3_stmt *q, int *more)
{
	int r = sqlite3_step(q);
	*more = r == SQLITE_ROW;
	if (r == SQLITE_ROW || r == SQLITE_DONE)
		return 0;
	return ps_err_set(c->err, EIO, "sqlite: %s", sqlite3_errmsg(c->db));
}

/* The system files of both sides: one group each. */
static int compare_system(struct scan *s)
{
	for (int side = 0; side < 2; side++) {
		for (int what = 1; what <= 2; what++) {
			sqlite3_stmt *q;
			int more;
			if (files_stmt(s->c, side, what, &q) < 0)
				return -1;
			int rc = step(s->c, q, &more);
			while (rc == 0 && more) {
				add_row(s, side, q, &s->g[side]);
				rc = step(s->c, q, &more);
			}
			sqlite3_finalize(q);
			if (rc < 0)
				return -1;
		}
	}
	merge_groups(s);
	return 0;
}

/* The rows below pid directories: both sides at once, one pid at a time. */
static int compare_pids(struct scan *s)
{
	sqlite3_stmt *q[2] = {NULL, NULL};
	int more[2] = {0, 0}, rc = -1;
	for (int side = 0; side < 2; side++)
		if (files_stmt(s->c, side, 0, &q[side]) < 0 || step(s->c, q[side], &more[side]) < 0)
			goto out;
	while (more[0] || more[1]) {
		int64_t pa = more[0] ? sqlite3_column_int64(q[0], 0) : INT64_MAX;
		int64_t pb = more[1] ? sqlite3_column_int64(q[1], 0) : INT64_MAX;
		int64_t pid = pa < pb ? pa : pb;
		for (int side = 0; side < 2; side++) {
			while (more[side] && sqlite3_column_int64(q[side], 0) == pid) {
				add_row(s, side, q[side], &s->g[side]);
				if (step(s->c, q[side], &more[side]) < 0)
					goto out;
			}
		}
		merge_groups(s);
	}
	rc = 0;
out:
	sqlite3_finalize(q[0]);
	sqlite3_finalize(q[1]);
	return rc;
}

/* ---- the whole comparison ------------------------------------------------------ */

struct dpath *ps_dx_path_new(struct dctx *c)
{
	PS_XGROW(c->paths, c->npaths, c->cappaths, 1024);
	struct dpath *p = &c->paths[c->npaths++];
	memset(p, 0, sizeof(*p));
	p->pid = p->tid = -1;
	return p;
}

void ps_dx_path_free(struct dpath *p)
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

static int dpath_cmp(const void *x, const void *y)
{
	return strcmp(((const struct dpath *)x)->path, ((const struct dpath *)y)->path);
}

int ps_dx_changed_paths(struct dctx *c)
{
	struct scan s;
	memset(&s, 0, sizeof(s));
	for (int side = 0; side < 2; side++) {
		ps_buf_init(&s.st[side].text);
		ps_buf_init(&s.g[side].arena);
	}
	ps_buf_init(&s.path);
	for (int side = 0; side < 2; side++)
		ps_hmap_init(&s.nss[side].seen, 0);
	s.c = c;
	int rc = -1;
	int64_t *pm = NULL;
	size_t npm = 0, cap = 0, first = c->npaths;
	sqlite3_stmt *q;
	if (ps_dx_prep(c, &q, "SELECT pid FROM pm ORDER BY pid") < 0)
		return -1;
	while (sqlite3_step(q) == SQLITE_ROW) {
		PS_XGROW(pm, npm, cap, 1024);
		pm[npm++] = sqlite3_column_int64(q, 0);
	}
	sqlite3_finalize(q);
	s.pm = pm;
	s.npm = npm;
	if (load_strings(&s, 0) < 0 || load_strings(&s, 1) < 0)
		goto out;
	if (c->o->scope != PS_DIFF_PROCESSES && compare_system(&s) < 0)
		goto out;
	if (compare_pids(&s) < 0)
		goto out;
	/* in path order, as the classification expects (a directory before
	 * its entries) */
	if (c->npaths - first > 1)
		qsort(c->paths + first, c->npaths - first, sizeof(*c->paths), dpath_cmp);
	if (c->o->scope != PS_DIFF_PROCESSES)
		ns_compare(&s);
	rc = 0;
out:
	for (int side = 0; side < 2; side++) {
		frows_free(&s.pend[side]);
		nsside_free(&s.nss[side]);
		free(s.st[side].v);
		ps_buf_release(&s.st[side].text);
		free(s.g[side].v);
		ps_buf_release(&s.g[side].arena);
	}
	ps_buf_release(&s.path);
	free(pm);
	if (rc == 0 && ps_dx_exec(c, "DROP TABLE dx_names_a; DROP TABLE dx_tasks_a; "
				     "DROP TABLE dx_names_b; DROP TABLE dx_tasks_b;") < 0)
		rc = -1;
	return rc;
}
