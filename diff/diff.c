/*
 * diff.c - open two snapshots, find what differs, fetch what is needed.
 *
 * Shape of a run (DESIGN 6):
 *   1. open A and B (ps_snap_open checks the index schema version; an
 *      archive without its index is indexed into a temporary directory), check
 *      that each archive is the one its index describes (size), attach both
 *      indexes read-only to one in-memory SQLite connection as `a` and `b`;
 *   2. match processes by (boot_id, pid, starttime) from capture_processes;
 *   3. paths.c: one scan of each index's base tables (paths by pid, both
 *      sides at once, only the names that matter) keeps the paths whose
 *      kind, XXH3, link target or errno differ, for system files and the
 *      members of matched processes that matter - equal files are never
 *      read; namespace-scoped files (net/..., mountinfo) are compared by
 *      namespace;
 *   4. each changed path is classified (procs.c, sysfiles.c), which asks for
 *      the content it needs; all contents are then fetched per archive in
 *      tar-offset order (store.h ps_fetch: each zstd frame decompressed at
 *      most once) and checked against their XXH3;
 *   5. procs.c and sysfiles.c turn them into items; the items are sorted.
 */
#include "diff_int.h"

#include "store.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *const ps_dsec_json[S__N] = {"identity", "memory",	   "fds",    "mappings", "pages",
					"threads",  "environment", "limits", "counters", "notes"};
const char *const ps_dftype_json[4] = {"file", "kv", "table", "text"};

/* ---- items ---------------------------------------------------------------- */

struct ditem *ps_di_new(struct ps_diff *d, enum dgroup g, int64_t pid, int sec)
{
	PS_XGROW(d->items, d->n, d->cap, 256);
	struct ditem *it = &d->items[d->n];
	memset(it, 0, sizeof(*it));
	it->group = g;
	it->pid = pid;
	it->sec = sec;
	it->seq = d->n++;
	return it;
}

struct ditem *ps_di_sys(struct ps_diff *d, const char *file, enum dftype t)
{
	struct ditem *it = ps_di_new(d, G_SYS, -1, 0);
	it->file = ps_xstrdup(file);
	it->ftype = (int)t;
	return it;
}

static struct dfield *di_add(struct ditem *it, const char *name)
{
	if (it->nf >= DI_MAXF)
		return NULL; /* a programming error; the field is dropped */
	struct dfield *f = &it->f[it->nf++];
	memset(f, 0, sizeof(*f));
	f->name = name;
	return f;
}

void ps_di_int(struct ditem *it, const char *name, int64_t v)
{
	struct dfield *f = di_add(it, name);
	if (f) {
		f->v.t = DV_INT;
		f->v.i = v;
	}
}

void ps_di_bool(struct ditem *it, const char *name, int v)
{
	struct dfield *f = di_add(it, name);
	if (f) {
		f->v.t = DV_BOOL;
		f->v.i = v != 0;
	}
}

void ps_di_null(struct ditem *it, const char *name)
{
	di_add(it, name);
}

void ps_di_str(struct ditem *it, const char *name, const char *s, size_t n)
{
	struct dfield *f = di_add(it, name);
	if (!f)
		return;
	if (!s) {
		f->v.t = DV_NULL;
		return;
	}
	f->v.t = DV_STR;
	f->v.s = ps_xmalloc(n + 1);
	memcpy(f->v.s, s, n);
	f->v.s[n] = '\0';
	f->v.n = n;
}

void ps_di_cstr(struct ditem *it, const char *name, const char *s)
{
	ps_di_str(it, name, s, s ? strlen(s) : 0);
}

const struct dval *ps_di_get(const struct ditem *it, const char *name)
{
	for (int i = 0; i < it->nf; i++)
		if (strcmp(it->f[i].name, name) == 0)
			return &it->f[i].v;
	return NULL;
}

struct dproc *ps_dp_get(struct ps_diff *d, int64_t pid)
{
	/* a few hundred processes at most change between two snapshots; the
	 * most recent one is the likeliest: search backwards */
	for (size_t i = d->np; i > 0; i--)
		if (d->procs[i - 1].pid == pid)
			return &d->procs[i - 1];
	PS_XGROW(d->procs, d->np, d->capp, 64);
	struct dproc *p = &d->procs[d->np++];
	memset(p, 0, sizeof(*p));
	p->pid = pid;
	p->starttime = -1;
	return p;
}

static int item_cmp(const void *x, const void *y)
{
	const struct ditem *a = x, *b = y;
	if (a->group != b->group)
		return a->group < b->group ? -1 : 1;
	if (a->pid != b->pid)
		return a->pid < b->pid ? -1 : 1;
	if (a->sec != b->sec)
		return a->sec < b->sec ? -1 : 1;
	if (a->file || b->file) {
		int r = strcmp(a->file ? a->file : "", b->file ? b->file : "");
		if (r)
			return r;
	}
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static int dproc_cmp(const void *x, const void *y)
{
	const struct dproc *a = x, *b = y;
	return a->pid < b->pid ? -1 : a->pid > b->pid;
}

void ps_di_sort(struct ps_diff *d)
{
	if (d->n)
		qsort(d->items, d->n, sizeof(*d->items), item_cmp);
	if (d->np)
		qsort(d->procs, d->np, sizeof(*d->procs), dproc_cmp);
}

size_t ps_diff_count(const struct ps_diff *d)
{
	return d ? d->n : 0;
}

void ps_diff_get_stats(const struct ps_diff *d, struct ps_diff_stats *st)
{
	*st = d->st;
}

static void snapinfo_free(struct snapinfo *s)
{
	free(s->label);
	free(s->archive);
	free(s->index);
	free(s->hostname);
	free(s->boot_id);
	free(s->kernel_release);
	free(s->sha256);
}

void ps_diff_free(struct ps_diff *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n; i++) {
		free(d->items[i].file);
		for (int k = 0; k < d->items[i].nf; k++)
			free(d->items[i].f[k].v.s);
	}
	free(d->items);
	for (size_t i = 0; i < d->np; i++) {
		free(d->procs[i].name);
		free(d->procs[i].exe);
	}
	free(d->procs);
	for (size_t i = 0; i < d->nown; i++) {
		free(d->own[i].name);
		free(d->own[i].cmdline);
	}
	free(d->own);
	snapinfo_free(&d->a);
	snapinfo_free(&d->b);
	free(d);
}

/* ---- SQL helpers ------------------------------------------------------------ */

int ps_dx_exec(struct dctx *c, const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(c->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		ps_err_set(c->err, EIO, "sqlite: %s", msg ? msg : "?");
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

int ps_dx_prep(struct dctx *c, sqlite3_stmt **st, const char *sql)
{
	if (sqlite3_prepare_v2(c->db, sql, -1, st, NULL) != SQLITE_OK)
		return ps_err_set(c->err, EIO, "sqlite: %s", sqlite3_errmsg(c->db));
	return 0;
}

char *ps_dx_col_dup(sqlite3_stmt *q, int col)
{
	if (sqlite3_column_type(q, col) == SQLITE_NULL)
		return NULL;
	const char *t = (const char *)sqlite3_column_text(q, col);
	return ps_xstrndup(t ? t : "", (size_t)sqlite3_column_bytes(q, col));
}

int64_t ps_dx_col_i64(sqlite3_stmt *q, int col)
{
	return sqlite3_column_type(q, col) == SQLITE_NULL ? -1 : sqlite3_column_int64(q, col);
}

/* ---- filters ------------------------------------------------------------------ */

int ps_dx_path_ok(const struct dctx *c, const char *rel)
{
	if (!c->o->nglobs)
		return 1;
	for (size_t i = 0; i < c->o->nglobs; i++) {
		const char *g = c->o->globs[i];
		if (strncmp(g, "/proc/", 6) == 0)
			g += 6;
		else if (strncmp(g, "proc/", 5) == 0)
			g += 5;
		if (fnmatch(g, rel, 0) == 0)
			return 1;
	}
	return 0;
}

/* ---- content requests and fetching -------------------------------------------- */

int ps_dx_want_raw(struct dctx *c, int side, int64_t off, int64_t size, const char *hash)
{
	if (off < 0 || size < 0)
		return 0;
	PS_XGROW(c->reqs, c->nreq, c->capreq, 256);
	struct dreq *r = &c->reqs[c->nreq];
	memset(r, 0, sizeof(*r));
	r->side = side;
	r->off = off;
	r->size = size;
	if (hash && strlen(hash) == 32)
		memcpy(r->hash, hash, 33);
	return (int)++c->nreq;
}

void ps_dx_want(struct dctx *c, struct dpath *p, int side)
{
	if (p->req[side] || !p->kind[side] || strcmp(p->kind[side], "file") != 0)
		return;
	p->req[side] = ps_dx_want_raw(c, side, p->off[side], p->size[side], p->hash[side]);
}

const struct ps_buf *ps_dx_req_content(const struct dctx *c, int req)
{
	if (req <= 0 || (size_t)req > c->nreq)
		return NULL;
	return c->reqs[req - 1].data;
}

const struct ps_buf *ps_dx_content(const struct dctx *c, const struct dpath *p, int side)
{
	return ps_dx_req_content(c, p->req[side]);
}

static int req_cmp(const void *x, const void *y, void *ctx)
{
	const struct dctx *c = ctx;
	const struct dreq *a = &c->reqs[*(const size_t *)x];
	const struct dreq *b = &c->reqs[*(const size_t *)y];
	if (a->side != b->side)
		return a->side - b->side;
	if (a->off != b->off)
		return a->off < b->off ? -1 : 1;
	return a->size < b->size ? -1 : a->size > b->size;
}

/* Fetch every requested member, per archive in tar-offset order. */
static int fetch_all(struct dctx *c)
{
	if (!c->nreq)
		return 0;
	size_t *ord = ps_xmalloc(c->nreq * sizeof(*ord));
	for (size_t i = 0; i < c->nreq; i++)
		ord[i] = i;
	qsort_r(ord, c->nreq, sizeof(*ord), req_cmp, c);
	struct ps_fetch *f = NULL;
	int side = -1, rc = -1;
	struct dreq *prev = NULL;
	struct snapinfo *si[2] = {&c->d->a, &c->d->b};
	for (size_t k = 0; k < c->nreq; k++) {
		struct dreq *r = &c->reqs[ord[k]];
		if (r->side != side) {
			if (f)
				c->d->st.frames[side] = ps_fetch_frames_decompressed(f);
			ps_fetch_close(f);
			f = NULL;
			side = r->side;
			prev = NULL;
			if (!si[side]->archive) {
				ps_err_set(
				    c->err, ENOENT,
				    "%s: the archive is not beside the index; the diff needs "
				    "the content of changed files",
				    si[side]->label);
				goto out;
			}
			if (ps_fetch_open(si[side]->archive, &f, c->err) < 0)
				goto out;
		}
		if (prev && prev->off == r->off && prev->size == r->size) {
			r->data = prev->data;
			continue;
		}
		r->data = ps_xmalloc(sizeof(*r->data));
		ps_buf_init(r->data);
		r->owner = 1;
		if (ps_fetch_read(f, (uint64_t)r->off, (uint64_t)r->size, r->data, c->err) < 0)
			goto out;
		c->d->st.fetched[side]++;
		if (r->hash[0]) {
			unsigned char h[16];
			char hex[33];
			ps_xxh3_128(r->data->buf, r->data->len, h);
			ps_hex(hex, h, 16);
			if (strcmp(hex, r->hash) != 0) {
				ps_err_set(c->err, EIO,
					   "%s: corrupt archive: content at tar offset %lld does "
					   "not match its XXH3",
					   si[side]->label, (long long)r->off);
				goto out;
			}
		}
		prev = r;
	}
	if (f)
		c->d->st.frames[side] = ps_fetch_frames_decompressed(f);
	rc = 0;
out:
	ps_fetch_close(f);
	free(ord);
	return rc;
}

/* ---- opening -------------------------------------------------------------------- */

/*
 * procsnap's own process in this snapshot and its parent: meta.json's
 * capture_pid and capture_ppid.  An older archive of the live /proc lacks
 * them; its proc/self link names the capturing process (as that procfs
 * sees it) and the processes table its parent.  A tree captured with
 * --root has neither (its self link is part of the tree).
 */
static void capture_pids(sqlite3 *db, struct snapinfo *si)
{
	sqlite3_stmt *q = NULL;
	si->capture_pid = si->capture_ppid = -1;
	char sql[640];
	snprintf(sql, sizeof(sql),
		 "SELECT json_extract(meta_json, '$.capture_pid'), "
		 "json_extract(meta_json, '$.capture_ppid'), "
		 "json_extract(meta_json, '$.options.root') FROM snapshots "
		 "WHERE snapshot_id = %lld AND json_valid(meta_json)",
		 (long long)si->sid);
	if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK || sqlite3_step(q) != SQLITE_ROW)
		goto out;
	if (sqlite3_column_type(q, 0) == SQLITE_INTEGER) {
		si->capture_pid = sqlite3_column_int64(q, 0);
		if (sqlite3_column_type(q, 1) == SQLITE_INTEGER)
			si->capture_ppid = sqlite3_column_int64(q, 1);
		goto out;
	}
	const char *root = (const char *)sqlite3_column_text(q, 2);
	if (!root || strcmp(root, "/proc") != 0)
		goto out;
	sqlite3_finalize(q);
	snprintf(sql, sizeof(sql),
		 "SELECT CAST(f.link_target AS INTEGER), p.ppid FROM files f LEFT JOIN processes p "
		 "ON p.snapshot_id = f.snapshot_id AND p.pid = CAST(f.link_target AS INTEGER) "
		 "WHERE f.snapshot_id = %lld AND f.path = 'proc/self' AND f.kind = 'link'",
		 (long long)si->sid);
	if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK || sqlite3_step(q) != SQLITE_ROW)
		goto out;
	if (sqlite3_column_int64(q, 0) > 0)
		si->capture_pid = sqlite3_column_int64(q, 0);
	if (sqlite3_column_type(q, 1) == SQLITE_INTEGER)
		si->capture_ppid = sqlite3_column_int64(q, 1);
out:
	sqlite3_finalize(q);
}

static int snap_info(struct dctx *c, int side, const char *label)
{
	struct snapinfo *si = side ? &c->d->b : &c->d->a;
	sqlite3 *db = ps_snap_db(c->snap[side]);
	sqlite3_stmt *q = NULL;
	si->label = ps_xstrdup(label);
	/* an index built by open_side: the archive is the one given */
	const char *arch = c->built[side] ? label : ps_snap_archive(c->snap[side]);
	si->archive = arch ? ps_xstrdup(arch) : NULL;
	const char *ix = sqlite3_db_filename(db, "main");
	si->index = ps_xstrdup(ix ? ix : "");
	if (sqlite3_prepare_v2(db,
			       "SELECT snapshot_id, hostname, boot_id, kernel_release, start_ns, "
			       "n_processes, page_size, clock_ticks, archive_size, archive_sha256 "
			       "FROM snapshots ORDER BY snapshot_id LIMIT 1",
			       -1, &q, NULL) != SQLITE_OK ||
	    sqlite3_step(q) != SQLITE_ROW) {
		ps_err_set(c->err, EINVAL, "%s: not a procsnap index (no snapshot: %s)", label,
			   sqlite3_errmsg(db));
		sqlite3_finalize(q);
		return -1;
	}
	si->sid = sqlite3_column_int64(q, 0);
	si->hostname = ps_dx_col_dup(q, 1);
	si->boot_id = ps_dx_col_dup(q, 2);
	si->kernel_release = ps_dx_col_dup(q, 3);
	si->have_start = sqlite3_column_type(q, 4) != SQLITE_NULL;
	si->start_ns = sqlite3_column_int64(q, 4);
	si->have_nproc = sqlite3_column_type(q, 5) != SQLITE_NULL;
	si->n_processes = sqlite3_column_int64(q, 5);
	si->page_size = sqlite3_column_type(q, 6) == SQLITE_NULL ? 4096 : ps_dx_col_i64(q, 6);
	si->clock_ticks = sqlite3_column_type(q, 7) == SQLITE_NULL ? 100 : ps_dx_col_i64(q, 7);
	si->archive_size = ps_dx_col_i64(q, 8);
	si->sha256 = ps_dx_col_dup(q, 9);
	sqlite3_finalize(q);
	if (si->page_size <= 0 || si->page_size > (1 << 30))
		si->page_size = 4096;
	capture_pids(db, si);
	/* A truncated or replaced archive beside a good index must not pass as
	 * "no differences" just because no content had to be read. */
	struct stat st;
	if (si->archive && si->archive_size >= 0 && stat(si->archive, &st) == 0 &&
	    st.st_size != si->archive_size)
		return ps_err_set(c->err, EINVAL,
				  "%s: archive %s is %lld bytes but its index describes %lld "
				  "(truncated or replaced?)",
				  label, si->archive, (long long)st.st_size,
				  (long long)si->archive_size);
	return 0;
}

/*
 * Open one side.  An archive without its index beside it is indexed into a
 * private directory (mkdtemp under opts->tmpdir, as verify does); the
 * directory is removed when the diff ends (tmp_cleanup).  Any other failure
 * of ps_snap_open (not a snapshot, another schema version) is the error.
 */
static int open_side(struct dctx *c, int side, const char *path)
{
	struct ps_err e = {0, ""};
	if (ps_snap_open(path, &c->snap[side], &e) == 0)
		return 0;
	struct ps_buf beside = PS_BUF_INIT;
	ps_buf_addf(&beside, "%s.db", path);
	struct stat st;
	int missing = e.code == ENOENT && stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
		      access(beside.buf, F_OK) != 0;
	ps_buf_release(&beside);
	if (!missing) {
		if (c->err)
			*c->err = e;
		return -1;
	}
	const char *tmp = c->o->tmpdir && *c->o->tmpdir ? c->o->tmpdir : "/tmp";
	ps_buf_addf(&c->tmpdir[side], "%s/procsnap-diff-XXXXXX", tmp);
	if (!mkdtemp(c->tmpdir[side].buf)) {
		int en = errno;
		ps_buf_reset(&c->tmpdir[side]);
		return ps_err_set(c->err, en,
				  "%s: no index beside it, and no temporary directory in %s: %s",
				  path, tmp, strerror(en));
	}
	ps_buf_addf(&c->tmpdb[side], "%s/index.db", c->tmpdir[side].buf);
	/* A damaged archive is salvaged by the index (1), but a diff of what
	 * survived would show the damage as changes: trouble. */
	int br = ps_index_build(path, c->tmpdb[side].buf, 0, c->err);
	c->built[side] = br >= 0;
	if (br != 0) {
		ps_err_prefix(c->err, "%s: no index beside it; building one%s", path,
			      br > 0 ? " from a damaged archive" : "");
		return -1;
	}
	return ps_snap_open(c->tmpdb[side].buf, &c->snap[side], c->err);
}

/* Remove what open_side built. */
static void tmp_cleanup(struct dctx *c)
{
	for (int side = 0; side < 2; side++) {
		if (c->tmpdb[side].len)
			unlink(c->tmpdb[side].buf);
		if (c->tmpdir[side].len)
			rmdir(c->tmpdir[side].buf);
		ps_buf_release(&c->tmpdb[side]);
		ps_buf_release(&c->tmpdir[side]);
	}
}

/* A defensive memory database with both indexes attached read-only and
 * checked against procsnap's schema (store.h ps_index_attach). */
static int attach(struct dctx *c)
{
	if (ps_index_open_memory(&c->db, c->err) < 0)
		return -1;
	const char *names[2] = {"a", "b"};
	struct snapinfo *si[2] = {&c->d->a, &c->d->b};
	for (int i = 0; i < 2; i++)
		if (ps_index_attach(c->db, si[i]->index, names[i], c->err) < 0)
			return -1;
	/* The in-memory work tables; temp data stays in memory. */
	return ps_dx_exec(c, "PRAGMA temp_store = MEMORY; PRAGMA a.cache_size = -4096; "
			     "PRAGMA b.cache_size = -4096; PRAGMA a.mmap_size = 0; "
			     "PRAGMA b.mmap_size = 0;");
}

/* ---- process matching ------------------------------------------------------------ */

static int match_processes(struct dctx *c)
{
	struct ps_buf sql = PS_BUF_INIT;
	int rc;
	const char *filt = c->have_pids ? " AND pid IN (SELECT pid FROM pids)" : "";
	ps_buf_addf(
	    &sql,
	    "CREATE TABLE pa(pid INTEGER PRIMARY KEY, starttime INT, partial INT, hidden INT);"
	    "CREATE TABLE pb(pid INTEGER PRIMARY KEY, starttime INT, partial INT, hidden INT);"
	    "INSERT OR IGNORE INTO pa SELECT pid, starttime, partial, hidden FROM "
	    "a.capture_processes WHERE snapshot_id = %lld%s;"
	    "INSERT OR IGNORE INTO pb SELECT pid, starttime, partial, hidden FROM "
	    "b.capture_processes WHERE snapshot_id = %lld%s;"
	    "CREATE TABLE pm(pid INTEGER PRIMARY KEY, starttime INT, partial_a INT, "
	    "partial_b INT);",
	    (long long)c->d->a.sid, filt, (long long)c->d->b.sid, filt);
	/* Same boot: the same (pid, starttime) is the same process.  Another boot:
	 * no process is in both. */
	if (c->d->same_boot && c->o->scope != PS_DIFF_SYSTEM)
		ps_buf_adds(&sql,
			    "INSERT INTO pm SELECT pa.pid, pa.starttime, pa.partial, "
			    "pb.partial FROM pa JOIN pb USING (pid) WHERE pa.starttime IS NOT "
			    "NULL AND pa.starttime = pb.starttime;");
	rc = ps_dx_exec(c, sql.buf);
	ps_buf_release(&sql);
	return rc;
}

static int load_pid_filter(struct dctx *c)
{
	if (!c->o->npids)
		return 0;
	if (ps_dx_exec(c, "CREATE TABLE pids(pid INTEGER PRIMARY KEY)") < 0)
		return -1;
	sqlite3_stmt *q;
	if (ps_dx_prep(c, &q, "INSERT OR IGNORE INTO pids VALUES (?)") < 0)
		return -1;
	for (size_t i = 0; i < c->o->npids; i++) {
		sqlite3_bind_int64(q, 1, c->o->pids[i]);
		sqlite3_step(q);
		sqlite3_reset(q);
	}
	sqlite3_finalize(q);
	c->have_pids = 1;
	return 0;
}

int ps_diff_compute(const char *a_path, const char *b_path, const struct ps_diff_opts *opts,
		    struct ps_diff **dp, struct ps_err *err)
{
	struct dctx c;
	memset(&c, 0, sizeof(c));
	for (int side = 0; side < 2; side++) {
		ps_buf_init(&c.tmpdir[side]);
		ps_buf_init(&c.tmpdb[side]);
	}
	struct ps_diff_opts o = *opts;
	o.counters = o.counters || o.all;
	c.o = &o;
	c.err = err;
	c.d = ps_xcalloc(1, sizeof(*c.d));
	c.d->counters = o.counters;
	c.d->all = o.all;
	c.d->context = opts->context < 0 ? 3 : opts->context;
	c.d->scope = (int)opts->scope;
	int rc = -1;

	if (ps_diff_classes_open(NULL, 0, &c.cls, err) < 0)
		goto out;
	if (open_side(&c, 0, a_path) < 0 || open_side(&c, 1, b_path) < 0)
		goto out;
	if (snap_info(&c, 0, a_path) < 0 || snap_info(&c, 1, b_path) < 0)
		goto out;
	c.d->same_boot =
	    c.d->a.boot_id && c.d->b.boot_id && strcmp(c.d->a.boot_id, c.d->b.boot_id) == 0;
	if (attach(&c) < 0)
		goto out;
	if (ps_dx_exec(&c, "BEGIN") < 0 || load_pid_filter(&c) < 0 || match_processes(&c) < 0)
		goto out;
	if (ps_dx_changed_paths(&c) < 0)
		goto out;
	for (size_t i = 0; i < c.npaths; i++) {
		if (c.paths[i].pid >= 0)
			ps_dx_procs_classify(&c, &c.paths[i]);
		else
			ps_dx_sys_classify(&c, &c.paths[i]);
	}
	if (c.o->scope != PS_DIFF_SYSTEM && ps_dx_procs_want(&c) < 0)
		goto out;
	if (fetch_all(&c) < 0)
		goto out;
	if (c.o->scope != PS_DIFF_SYSTEM && ps_dx_procs_report(&c) < 0)
		goto out;
	if (c.o->scope != PS_DIFF_PROCESSES && ps_dx_sys_report(&c) < 0)
		goto out;
	ps_di_sort(c.d);
	rc = 0;
out:
	ps_dx_procs_free(&c); /* finalizes its statements: before the close */
	if (c.db) {
		sqlite3_exec(c.db, "ROLLBACK", NULL, NULL, NULL);
		sqlite3_close(c.db);
	}
	for (size_t i = 0; i < c.nreq; i++) {
		if (c.reqs[i].owner) {
			ps_buf_release(c.reqs[i].data);
			free(c.reqs[i].data);
		}
	}
	free(c.reqs);
	for (size_t i = 0; i < c.npaths; i++)
		ps_dx_path_free(&c.paths[i]);
	free(c.paths);
	ps_snap_close(c.snap[0]);
	ps_snap_close(c.snap[1]);
	tmp_cleanup(&c);
	ps_diff_classes_close(c.cls);
	if (rc == 0)
		*dp = c.d;
	else
		ps_diff_free(c.d);
	return rc;
}
