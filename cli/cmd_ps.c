/*
 * cmd_ps.c - `procsnap ps`: the processes of a snapshot as ps(1) shows a
 * live system.  `ps aux`-like by default, children under their parent with
 * --tree (`ps auxf`), one row per thread with -L, any column of the
 * processes table (and of threads, with -L) with -o, ordered with --sort.
 *
 * Everything comes from the index, read through the `processes` and
 * `threads` tables: the SQL of every column is in the table `cols` below,
 * so a column rename in schema/ is one line here.  Values from a snapshot
 * are escaped for the terminal (cli_table_cell, i.e. ps_buf_add_term).
 *
 * What a single snapshot cannot give: an instantaneous %CPU (that needs two
 * samples; %CPU here is ps(1)'s own definition, the CPU time used divided
 * by the time the process has been running, at the capture) and user
 * names (the snapshot does not hold /etc/passwd, and the examiner's own
 * would lie: UID is numeric).
 */
#include "cli.h"

#include "common.h"
#include "store.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char ps_help[] =
    "usage: procsnap ps [--tree] [-L] [-o COLUMNS] [--sort KEYS] [--format table|json]\n"
    "                   [--snapshot ID] SNAP\n"
    "The processes of a snapshot (archive or index), as ps(1) shows a live system.\n"
    "  -t, --tree          children under their parent (ps auxf): siblings in --sort\n"
    "                      order, a process whose parent was not captured at the top\n"
    "  -L, --threads       one row per thread (columns of the threads table too)\n"
    "  -o, --columns LIST  comma-separated columns (default\n"
    "                      uid,pid,ppid,pcpu,pmem,vsz,rss,tty,stat,start,time,command;\n"
    "                      with -L uid,pid,lwp,ppid,pcpu,stat,time,comm,command):\n"
    "                      pid ppid lwp nlwp uid euid suid gid egid pgid sid tty stat\n"
    "                      state ni pri psr rss vsz pcpu pmem start lstart etime\n"
    "                      etimes time comm command exe cwd root cgroup wchan tracer\n"
    "                      caps fds maj_flt min_flt, or any column of the processes\n"
    "                      table (with -L: of threads first, then processes)\n"
    "  -s, --sort KEYS     comma-separated columns, '-' before one for descending\n"
    "                      (default pid)\n"
    "  -f, --format FMT    table (default) or json (an array of objects, values in\n"
    "                      the table's units; --tree adds depth)\n"
    "      --snapshot ID   the snapshot to show when the index holds several\n"
    "From one snapshot: %CPU is ps(1)'s definition, CPU time over the time the\n"
    "process had been running when captured (not a rate between two samples),\n"
    "%MEM is RSS over MemTotal, START and TIME are UTC and [DD-]HH:MM:SS.  UID is\n"
    "numeric: the snapshot has no user names.  Text is escaped for the terminal.\n"
    "Exit 0, 2 on error.\n";

/* How a column's value is shown. */
enum kind {
	K_INT,	  /* integer */
	K_TEXT,	  /* text (escaped for the terminal) */
	K_KIB,	  /* bytes, shown in KiB as ps does */
	K_TIME,	  /* cumulative CPU ms, [DD-]HH:MM:SS */
	K_START,  /* epoch seconds, HH:MM within a day of the capture, else MmmDD / YYYY */
	K_LSTART, /* epoch seconds, YYYY-MM-DD HH:MM:SS (UTC) */
	K_ETIME,  /* seconds, [[DD-]HH:]MM:SS */
	K_TTY,	  /* tty_nr (stat field 7), as a device name */
	K_PCT,	  /* a percentage, one decimal */
};

/*
 * The columns.  SQL over `p` (processes) and, with -L, `t` (threads, joined
 * on snapshot_id and pid); bound parameters: ?2 the capture start (epoch
 * seconds), ?3 clock ticks per second, ?4 MemTotal in kB (NULL if unknown).
 * thread == NULL: the same expression in both modes.
 */
#define MAIN_THREAD(col)                                                                           \
	"(SELECT m." col " FROM threads m WHERE m.snapshot_id = p.snapshot_id AND m.pid = p.pid "  \
	"AND m.tid = p.pid)"
#define STAT(st)                                                                                   \
	st " || CASE WHEN p.nice < 0 THEN '<' WHEN p.nice > 0 THEN 'N' ELSE '' END || "            \
	   "CASE WHEN p.session = p.pid THEN 's' ELSE '' END || "                                  \
	   "CASE WHEN p.threads > 1 THEN 'l' ELSE '' END"
#define T_START "(p.start_time + (t.starttime - p.starttime) / ?3)"
struct col {
	const char *names; /* "name" or "name|alias|..." */
	const char *header;
	enum kind kind;
	const char *proc, *thread;
	int art; /* --tree draws its branches in this column */
};
static const struct col cols[] = {
    {"pid|tgid", "PID", K_INT, "p.pid", NULL, 0},
    {"ppid", "PPID", K_INT, "p.parent", NULL, 0},
    {"lwp|tid|spid", "LWP", K_INT, "p.pid", "t.tid", 0},
    {"nlwp|thcount", "NLWP", K_INT, "p.threads", NULL, 0},
    {"uid|user|ruid", "UID", K_INT, "p.uid", NULL, 0},
    {"euid", "EUID", K_INT, "p.euid", NULL, 0},
    {"suid", "SUID", K_INT, "p.suid", NULL, 0},
    {"gid|group|rgid", "GID", K_INT, "p.gid", NULL, 0},
    {"egid", "EGID", K_INT, "p.egid", NULL, 0},
    {"pgid|pgrp", "PGID", K_INT, "p.pgroup", NULL, 0},
    {"sid|sess", "SID", K_INT, "p.session", NULL, 0},
    {"tty|tt|tname", "TTY", K_TTY, "p.tty_nr", NULL, 0},
    {"stat", "STAT", K_TEXT, STAT("p.state"), STAT("t.state"), 0},
    {"state|s", "S", K_TEXT, "p.state", "t.state", 0},
    {"ni|nice", "NI", K_INT, "p.nice", "t.nice", 0},
    {"pri|priority", "PRI", K_INT, MAIN_THREAD("priority"), "t.priority", 0},
    {"psr|processor", "PSR", K_INT, MAIN_THREAD("processor"), "t.processor", 0},
    {"rss|rssize", "RSS", K_KIB, "p.resident_size", NULL, 0},
    {"vsz|vsize", "VSZ", K_KIB, "p.total_size", NULL, 0},
    {"pcpu|%cpu|c", "%CPU", K_PCT,
     "(p.user_time + p.system_time) / 10.0 / max(1, ?2 - p.start_time)",
     "(t.user_time + t.system_time) / 10.0 / max(1, ?2 - " T_START ")", 0},
    {"pmem|%mem", "%MEM", K_PCT, "p.resident_size / 10.24 / ?4", NULL, 0},
    {"start|stime|start_time", "START", K_START, "p.start_time", T_START, 0},
    {"lstart", "STARTED", K_LSTART, "p.start_time", T_START, 0},
    {"etime", "ELAPSED", K_ETIME, "?2 - p.start_time", "?2 - " T_START, 0},
    {"etimes", "ELAPSED", K_INT, "CAST(?2 - p.start_time AS INTEGER)",
     "CAST(?2 - " T_START " AS INTEGER)", 0},
    {"time|cputime", "TIME", K_TIME, "p.user_time + p.system_time", "t.user_time + t.system_time",
     0},
    {"comm|ucomm|ucmd|name", "COMMAND", K_TEXT, "p.name", "t.name", 1},
    {"command|args|cmd|cmdline", "COMMAND", K_TEXT,
     "CASE WHEN p.cmdline IS NULL OR p.cmdline = '' THEN '[' || p.name || ']' "
     "ELSE p.cmdline END",
     NULL, 1},
    {"exe|path", "EXE", K_TEXT, "p.path", NULL, 0},
    {"cwd", "CWD", K_TEXT, "p.cwd", NULL, 0},
    {"root", "ROOT", K_TEXT, "p.root", NULL, 0},
    {"cgroup|cgroup_path", "CGROUP", K_TEXT, "p.cgroup_path", NULL, 0},
    {"wchan", "WCHAN", K_TEXT, MAIN_THREAD("wchan"), "t.wchan", 0},
    {"tracer|tracer_pid", "TRACER", K_INT, "p.tracer_pid", "t.tracer_pid", 0},
    {"caps|cap_eff", "CAPEFF", K_TEXT, "p.cap_eff", NULL, 0},
    {"fds|fd_count", "FDS", K_INT, "p.fd_count", NULL, 0},
    {"maj_flt|majflt", "MAJFL", K_INT, "p.majflt", "t.majflt", 0},
    {"min_flt|minflt", "MINFL", K_INT, "p.minflt", "t.minflt", 0},
};
#define NCOLS (sizeof(cols) / sizeof(cols[0]))

static const char def_cols[] = "uid,pid,ppid,pcpu,pmem,vsz,rss,tty,stat,start,time,command";
static const char def_cols_threads[] = "uid,pid,lwp,ppid,pcpu,stat,time,comm,command";

/* One column asked for (-o or --sort): a known one, or a raw column of
 * processes / threads. */
struct want {
	const struct col *c; /* NULL: raw */
	char *name;	     /* as given (JSON key) */
	char *header;
	char *expr; /* SQL */
	enum kind kind;
	int desc; /* --sort: descending */
};

/* One value of a row. */
struct val {
	int type; /* SQLITE_INTEGER, SQLITE_FLOAT, SQLITE_TEXT or SQLITE_NULL */
	int64_t i;
	double d;
	char *s;
	size_t n;
};

struct row {
	int64_t pid, ppid, tid;
	int has_ppid;
	size_t rank;   /* position in the sorted order (tree_order) */
	struct val *v; /* the shown columns, then the sort keys */
};

struct ps_ctx {
	sqlite3 *db;
	long long snap;
	double now;	 /* capture start, epoch seconds */
	int64_t ticks;	 /* clock ticks per second */
	double memtotal; /* kB, 0 if unknown */
	int threads;	 /* -L */
};

/* ---- snapshot choice (shared with report) ---------------------------------- */

int cli_snapshot_pick(const char *cmd, struct sqlite3 *db, long long want, long long *id)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, "SELECT snapshot_id FROM snapshots ORDER BY snapshot_id", -1,
			       &st, NULL) != SQLITE_OK)
		return cli_fail(cmd, "%s", sqlite3_errmsg(db));
	int n = 0, found = 0;
	long long first = 0;
	struct ps_buf ids = PS_BUF_INIT;
	while (sqlite3_step(st) == SQLITE_ROW) {
		long long v = sqlite3_column_int64(st, 0);
		if (n++ == 0)
			first = v;
		ps_buf_addf(&ids, "%s%lld", ids.len ? ", " : "", v);
		if (want >= 0 && v == want)
			found = 1;
	}
	sqlite3_finalize(st);
	int rc = 0;
	if (n == 0)
		rc = cli_fail(cmd, "the index holds no snapshot");
	else if (want >= 0 && !found)
		rc = cli_fail(cmd, "no snapshot %lld in the index (it holds %s)", want, ids.buf);
	else if (want < 0 && n > 1)
		rc = cli_usage(cmd, "the index holds %d snapshots (%s): choose one with --snapshot",
			       n, ids.buf);
	else
		*id = want >= 0 ? want : first;
	ps_buf_release(&ids);
	return rc;
}

int cli_snapshot_arg(const char *cmd, const char *arg, long long *want)
{
	char *end;
	errno = 0;
	long long v = strtoll(arg, &end, 10);
	if (errno || *end || end == arg || v < 0)
		return cli_usage(cmd, "bad snapshot id '%s'", arg);
	*want = v;
	return 0;
}

/* ---- columns ------------------------------------------------------------------ */

static int names_match(const char *names, const char *s)
{
	size_t n = strlen(s);
	for (const char *p = names; *p;) {
		size_t l = strcspn(p, "|");
		if (l == n && strncmp(p, s, n) == 0)
			return 1;
		p += l;
		if (*p)
			p++;
	}
	return 0;
}

/* Is `name` a column of table (PRAGMA table_info)?  Names are compared
 * exactly; the caller quotes the name only after this said yes. */
static int has_column(sqlite3 *db, const char *table, const char *name)
{
	sqlite3_stmt *st;
	char sql[96];
	snprintf(sql, sizeof(sql), "SELECT 1 FROM pragma_table_info('%s') WHERE name = ?1", table);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return 0;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	int r = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return r;
}

/* Resolve one column name into w.  0, or 2 (message printed). */
static int want_resolve(const struct ps_ctx *x, const char *name, struct want *w)
{
	memset(w, 0, sizeof(*w));
	for (size_t i = 0; i < NCOLS; i++) {
		if (names_match(cols[i].names, name)) {
			w->c = &cols[i];
			w->name = ps_xstrdup(name);
			w->header = ps_xstrdup(cols[i].header);
			w->expr = ps_xstrdup(x->threads && cols[i].thread ? cols[i].thread
									  : cols[i].proc);
			w->kind = cols[i].kind;
			return 0;
		}
	}
	const char *table = NULL;
	if (strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_") == strlen(name) && *name) {
		if (x->threads && has_column(x->db, "threads", name))
			table = "t";
		else if (has_column(x->db, "processes", name))
			table = "p";
	}
	if (!table)
		return cli_usage("ps", "unknown column '%s'", name);
	struct ps_buf b = PS_BUF_INIT;
	ps_buf_addf(&b, "%s.\"%s\"", table, name);
	w->expr = ps_buf_detach(&b, NULL);
	w->name = ps_xstrdup(name);
	w->header = ps_xstrdup(name);
	for (char *p = w->header; *p; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
	w->kind = K_INT; /* shown as the value's own type (see fmt_val) */
	return 0;
}

static void wants_free(struct want *w, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(w[i].name);
		free(w[i].header);
		free(w[i].expr);
	}
	free(w);
}

/* Split a comma-separated list and resolve each.  sort: allow '-' / '+'.
 * 0 or 2. */
static int wants_parse(const struct ps_ctx *x, const char *list, int sort, struct want **out,
		       size_t *nout)
{
	struct want *v = NULL;
	size_t n = 0;
	*out = NULL;
	*nout = 0;
	for (const char *p = list;;) {
		size_t l = strcspn(p, ",");
		char *name = ps_xstrndup(p, l);
		int desc = 0;
		char *nm = name;
		if (sort && (*nm == '-' || *nm == '+')) {
			desc = *nm == '-';
			nm++;
		}
		v = ps_xrealloc(v, (n + 1) * sizeof(*v));
		int rc = *nm ? want_resolve(x, nm, &v[n])
			     : cli_usage("ps", "empty column name in '%s'", list);
		free(name);
		if (rc) {
			wants_free(v, n);
			return rc;
		}
		v[n++].desc = desc;
		p += l;
		if (!*p)
			break;
		p++;
	}
	*out = v;
	*nout = n;
	return 0;
}

/* ---- rows --------------------------------------------------------------------- */

static void val_get(struct val *v, sqlite3_stmt *st, int c)
{
	memset(v, 0, sizeof(*v));
	v->type = sqlite3_column_type(st, c);
	if (v->type == SQLITE_INTEGER) {
		v->i = sqlite3_column_int64(st, c);
		v->d = (double)v->i;
	} else if (v->type == SQLITE_FLOAT) {
		v->d = sqlite3_column_double(st, c);
	} else if (v->type != SQLITE_NULL) {
		const char *s = (const char *)sqlite3_column_blob(st, c);
		v->n = (size_t)sqlite3_column_bytes(st, c);
		v->s = ps_xstrndup(s ? s : "", v->n);
		v->type = SQLITE_TEXT;
	}
}

static int val_cmp(const struct val *a, const struct val *b)
{
	if (a->type == SQLITE_NULL || b->type == SQLITE_NULL)
		return (a->type != SQLITE_NULL) - (b->type != SQLITE_NULL);
	int at = a->type == SQLITE_TEXT, bt = b->type == SQLITE_TEXT;
	if (at != bt)
		return at - bt; /* numbers before text, as SQLite orders them */
	if (at) {
		size_t n = a->n < b->n ? a->n : b->n;
		int c = memcmp(a->s, b->s, n);
		return c ? c : (a->n > b->n) - (a->n < b->n);
	}
	if (a->type == SQLITE_INTEGER && b->type == SQLITE_INTEGER)
		return (a->i > b->i) - (a->i < b->i);
	return (a->d > b->d) - (a->d < b->d);
}

struct sort_keys {
	const struct want *keys;
	size_t nkeys, first; /* the keys are row values first .. first+nkeys */
};

static int row_cmp(const void *pa, const void *pb, void *ctx)
{
	const struct row *a = pa, *b = pb;
	const struct sort_keys *k = ctx;
	for (size_t i = 0; i < k->nkeys; i++) {
		int c = val_cmp(&a->v[k->first + i], &b->v[k->first + i]);
		if (c)
			return k->keys[i].desc ? -c : c;
	}
	if (a->pid != b->pid)
		return (a->pid > b->pid) - (a->pid < b->pid);
	return (a->tid > b->tid) - (a->tid < b->tid);
}

/* By the keys, then pid, then tid (no keys: by pid, tid). */
static void rows_sort(struct row *r, size_t n, const struct want *keys, size_t nkeys, size_t first)
{
	struct sort_keys k = {keys, nkeys, first};
	qsort_r(r, n, sizeof(*r), row_cmp, &k);
}

static void rows_free(struct row *r, size_t n, size_t nv)
{
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < nv; k++)
			free(r[i].v[k].s);
		free(r[i].v);
	}
	free(r);
}

/* Run the SELECT of every wanted column (shown ones, then sort keys). */
static int rows_load(const struct ps_ctx *x, const struct want *w, size_t nw, struct row **out,
		     size_t *nout)
{
	struct ps_buf sql = PS_BUF_INIT;
	ps_buf_adds(&sql, "SELECT p.pid, p.parent, ");
	ps_buf_adds(&sql, x->threads ? "t.tid" : "p.pid");
	for (size_t i = 0; i < nw; i++)
		ps_buf_addf(&sql, ", %s", w[i].expr);
	ps_buf_adds(&sql, " FROM processes p");
	if (x->threads)
		ps_buf_adds(&sql,
			    " JOIN threads t ON t.snapshot_id = p.snapshot_id AND t.pid = p.pid");
	ps_buf_adds(&sql, " WHERE p.snapshot_id = ?1");
	sqlite3_stmt *st = NULL;
	struct row *v = NULL;
	size_t n = 0, cap = 0;
	int rc = 2, r;
	if (sqlite3_prepare_v2(x->db, sql.buf, -1, &st, NULL) != SQLITE_OK) {
		cli_fail("ps", "%s", sqlite3_errmsg(x->db));
		goto out;
	}
	sqlite3_bind_int64(st, 1, x->snap);
	sqlite3_bind_double(st, 2, x->now);
	sqlite3_bind_int64(st, 3, x->ticks > 0 ? x->ticks : 100);
	if (x->memtotal > 0)
		sqlite3_bind_double(st, 4, x->memtotal);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		PS_XGROW(v, n, cap, 256);
		struct row *row = &v[n++];
		row->pid = sqlite3_column_int64(st, 0);
		row->has_ppid = sqlite3_column_type(st, 1) != SQLITE_NULL;
		row->ppid = sqlite3_column_int64(st, 1);
		row->tid = sqlite3_column_int64(st, 2);
		row->v = ps_xcalloc(nw ? nw : 1, sizeof(*row->v));
		for (size_t i = 0; i < nw; i++)
			val_get(&row->v[i], st, (int)i + 3);
	}
	if (r != SQLITE_DONE) {
		cli_fail("ps", "%s", sqlite3_errmsg(x->db));
		rows_free(v, n, nw);
		goto out;
	}
	*out = v;
	*nout = n;
	rc = 0;
out:
	sqlite3_finalize(st);
	ps_buf_release(&sql);
	return rc;
}

/* ---- the tree ---------------------------------------------------------------- */

/* Rows sorted by the sort keys come out in this order: each process (its
 * rows together: the main thread's first, then by tid) under its parent,
 * siblings in the order of their first row.  order[] gets row indexes,
 * depth[] each row's depth. */
struct group {
	size_t first, n; /* rows[first .. first+n) */
	int64_t pid, ppid;
	int has_ppid;
	size_t rank; /* position of its first row in the sorted order */
	size_t *kids, nkids;
	int seen;
};

static int group_pid_cmp(const void *a, const void *b)
{
	const struct group *x = a, *y = b;
	return (x->pid > y->pid) - (x->pid < y->pid);
}

static int rank_cmp(const void *a, const void *b)
{
	const struct group *const *x = a, *const *y = b;
	return ((*x)->rank > (*y)->rank) - ((*x)->rank < (*y)->rank);
}

static void tree_order(struct row *rows, size_t n, size_t *order, int *depth)
{
	/* rows are in sort order: remember it, then group a copy by (pid, tid) */
	for (size_t i = 0; i < n; i++)
		rows[i].rank = i;
	struct row *byid = ps_xmalloc((n ? n : 1) * sizeof(*byid));
	memcpy(byid, rows, n * sizeof(*rows));
	rows_sort(byid, n, NULL, 0, 0);
	struct group *g = ps_xcalloc(n ? n : 1, sizeof(*g));
	size_t ng = 0;
	for (size_t i = 0; i < n; i++) {
		size_t r = byid[i].rank;
		if (ng == 0 || g[ng - 1].pid != byid[i].pid) {
			g[ng].first = i;
			g[ng].pid = byid[i].pid;
			g[ng].ppid = byid[i].ppid;
			g[ng].has_ppid = byid[i].has_ppid;
			g[ng].rank = r;
			ng++;
		}
		g[ng - 1].n++;
		if (r < g[ng - 1].rank)
			g[ng - 1].rank = r;
	}
	/* children, in rank order */
	struct group **byrank = ps_xmalloc((ng ? ng : 1) * sizeof(*byrank));
	for (size_t i = 0; i < ng; i++)
		byrank[i] = &g[i];
	qsort(byrank, ng, sizeof(*byrank), rank_cmp);
	size_t *roots = ps_xmalloc((ng ? ng : 1) * sizeof(*roots)), nroots = 0;
	for (size_t k = 0; k < ng; k++) {
		struct group *c = byrank[k];
		struct group key, *par = NULL;
		memset(&key, 0, sizeof(key));
		key.pid = c->ppid;
		if (c->has_ppid && c->ppid != c->pid)
			par = bsearch(&key, g, ng, sizeof(*g), group_pid_cmp);
		size_t ci = (size_t)(c - g);
		if (par) {
			par->kids = ps_xrealloc(par->kids, (par->nkids + 1) * sizeof(*par->kids));
			par->kids[par->nkids++] = ci;
		} else {
			roots[nroots++] = ci;
		}
	}
	/* depth-first, iterative (a hostile index may nest 4 million deep);
	 * groups on a parent cycle are reached from none of the roots and are
	 * started from afterwards, in rank order */
	size_t *stack = ps_xmalloc((ng ? ng : 1) * sizeof(*stack));
	int *sdepth = ps_xmalloc((ng ? ng : 1) * sizeof(*sdepth));
	size_t out = 0;
	for (size_t pass = 0; pass < 2; pass++) {
		size_t nstart = pass == 0 ? nroots : ng;
		for (size_t s = 0; s < nstart; s++) {
			size_t start = pass == 0 ? roots[s] : (size_t)(byrank[s] - g);
			if (g[start].seen)
				continue;
			size_t sp = 0;
			stack[sp] = start;
			sdepth[sp++] = 0;
			g[start].seen = 1;
			while (sp) {
				sp--;
				struct group *cur = &g[stack[sp]];
				int d = sdepth[sp];
				for (size_t i = 0; i < cur->n; i++) {
					order[out] = byid[cur->first + i].rank;
					depth[out++] = d;
				}
				for (size_t k = cur->nkids; k-- > 0;) {
					size_t kid = cur->kids[k];
					if (g[kid].seen)
						continue;
					g[kid].seen = 1;
					stack[sp] = kid;
					sdepth[sp++] = d + 1;
				}
			}
		}
	}
	for (size_t i = 0; i < ng; i++)
		free(g[i].kids);
	free(g);
	free(byrank);
	free(roots);
	free(stack);
	free(sdepth);
	free(byid);
}

/* ---- formatting --------------------------------------------------------------- */

static void fmt_tty(struct ps_buf *b, int64_t nr)
{
	/* stat field 7: minor in bits 0-7 and 20-31, major in bits 8-19 */
	unsigned maj = (unsigned)((nr >> 8) & 0xfff);
	unsigned min = (unsigned)((nr & 0xff) | ((nr >> 12) & 0xfff00));
	if (nr == 0)
		ps_buf_adds(b, "?");
	else if (maj >= 136 && maj <= 143)
		ps_buf_addf(b, "pts/%u", (maj - 136) * 256 + min);
	else if (maj == 4 && min < 64)
		ps_buf_addf(b, "tty%u", min);
	else if (maj == 4)
		ps_buf_addf(b, "ttyS%u", min - 64);
	else if (maj == 5 && min == 1)
		ps_buf_adds(b, "console");
	else
		ps_buf_addf(b, "%u:%u", maj, min);
}

static void fmt_dhms(struct ps_buf *b, int64_t s, int always_hours)
{
	if (s < 0)
		s = 0;
	int64_t d = s / 86400, h = s / 3600 % 24, m = s / 60 % 60, sec = s % 60;
	if (d)
		ps_buf_addf(b, "%" PRId64 "-", d);
	if (d || h || always_hours)
		ps_buf_addf(b, "%02" PRId64 ":", h);
	ps_buf_addf(b, "%02" PRId64 ":%02" PRId64, m, sec);
}

static void fmt_start(struct ps_buf *b, int64_t t, double now, int full)
{
	static const char *const mon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
					  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	time_t tt = (time_t)t, tn = (time_t)now;
	struct tm tm, tmn;
	if (!gmtime_r(&tt, &tm) || !gmtime_r(&tn, &tmn)) {
		ps_buf_adds(b, "?");
		return;
	}
	if (full)
		ps_buf_addf(b, "%04d-%02d-%02d %02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1,
			    tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	else if (now - (double)t < 86400 && (double)t <= now + 60)
		ps_buf_addf(b, "%02d:%02d", tm.tm_hour, tm.tm_min);
	else if (tm.tm_year == tmn.tm_year)
		ps_buf_addf(b, "%s%02d", mon[tm.tm_mon % 12], tm.tm_mday);
	else
		ps_buf_addf(b, "%d", tm.tm_year + 1900);
}

/* The table text of one value (escaped for the terminal). */
static void fmt_val(struct ps_buf *b, const struct val *v, enum kind k, double now)
{
	if (v->type == SQLITE_NULL) {
		ps_buf_adds(b, "-");
		return;
	}
	if (v->type == SQLITE_TEXT) {
		ps_buf_add_term(b, v->s, v->n);
		return;
	}
	int64_t i = v->type == SQLITE_INTEGER ? v->i : (int64_t)v->d;
	switch (k) {
	case K_KIB:
		ps_buf_addf(b, "%" PRId64, i / 1024);
		break;
	case K_TIME:
		fmt_dhms(b, i / 1000, 1);
		break;
	case K_START:
	case K_LSTART:
		fmt_start(b, i, now, k == K_LSTART);
		break;
	case K_ETIME:
		fmt_dhms(b, i, 0);
		break;
	case K_TTY:
		fmt_tty(b, i);
		break;
	case K_PCT:
		ps_buf_addf(b, "%.1f", v->d);
		break;
	default:
		if (v->type == SQLITE_FLOAT)
			ps_buf_addf(b, "%g", v->d);
		else
			ps_buf_addf(b, "%" PRId64, i);
	}
}

/* The JSON value: numbers in the table's units, text as text. */
static void json_val(struct ps_json *j, const struct val *v, enum kind k)
{
	if (v->type == SQLITE_NULL) {
		ps_json_null(j);
		return;
	}
	if (v->type == SQLITE_TEXT) {
		ps_json_str(j, v->s, v->n);
		return;
	}
	int64_t i = v->type == SQLITE_INTEGER ? v->i : (int64_t)v->d;
	struct ps_buf t = PS_BUF_INIT;
	switch (k) {
	case K_KIB:
		ps_json_int(j, i / 1024);
		break;
	case K_TIME: /* seconds, ms resolution */
		ps_buf_addf(&t, "%" PRId64 ".%03d", i / 1000, (int)((i < 0 ? -i : i) % 1000));
		ps_json_raw(j, t.buf);
		break;
	case K_TTY:
		if (i == 0) {
			ps_json_null(j);
			break;
		}
		fmt_tty(&t, i);
		ps_json_str(j, t.buf, t.len);
		break;
	case K_PCT:
		if (v->d != v->d || v->d > 1e15 || v->d < -1e15) { /* NaN, absurd */
			ps_json_null(j);
			break;
		}
		ps_buf_addf(&t, "%.1f", v->d);
		ps_json_raw(j, t.buf);
		break;
	default:
		if (v->type == SQLITE_FLOAT)
			ps_json_double(j, v->d);
		else
			ps_json_int(j, i);
	}
	ps_buf_release(&t);
}

static int numeric_kind(const struct want *w)
{
	return w->kind != K_TEXT && !(w->kind == K_TTY) && !(w->kind == K_START) &&
	       !(w->kind == K_LSTART);
}

/* " \_ " branches as ps f draws them. */
static void tree_prefix(struct ps_buf *b, int depth)
{
	for (int i = 1; i < depth; i++)
		ps_buf_adds(b, "    ");
	if (depth > 0)
		ps_buf_adds(b, " \\_ ");
}

static void print_table(const struct ps_ctx *x, const struct want *w, size_t nw,
			const struct row *rows, const size_t *order, const int *depth, size_t n)
{
	char **cell = ps_xcalloc((n + 1) * (nw ? nw : 1), sizeof(*cell));
	size_t *cw = ps_xcalloc((n + 1) * (nw ? nw : 1), sizeof(*cw));
	size_t *width = ps_xcalloc(nw ? nw : 1, sizeof(*width));
	int art = -1;
	for (size_t c = 0; c < nw && depth; c++)
		if (w[c].c && w[c].c->art) {
			art = (int)c;
			break;
		}
	struct ps_buf t = PS_BUF_INIT;
	for (size_t c = 0; c < nw; c++) {
		cell[c] =
		    cli_table_cell((const unsigned char *)w[c].header, strlen(w[c].header), &cw[c]);
		width[c] = cw[c];
	}
	for (size_t i = 0; i < n; i++) {
		const struct row *r = &rows[order[i]];
		for (size_t c = 0; c < nw; c++) {
			ps_buf_reset(&t);
			if ((int)c == art)
				tree_prefix(&t, depth[i]);
			fmt_val(&t, &r->v[c], w[c].kind, x->now);
			size_t k = (i + 1) * nw + c;
			/* display width: the escaped text is valid UTF-8
			 * without controls; one column per code point, as
			 * ps_buf_add_term counts */
			size_t wd = 0;
			for (size_t p = 0; p < t.len;) {
				size_t l = ps_utf8_len(t.buf + p, t.len - p, NULL);
				p += l ? l : 1;
				wd++;
			}
			cw[k] = wd;
			cell[k] = ps_xstrndup(t.buf, t.len);
			if (wd > width[c])
				width[c] = wd;
		}
	}
	for (size_t i = 0; i <= n; i++) {
		ps_buf_reset(&t);
		for (size_t c = 0; c < nw; c++) {
			size_t k = i * nw + c, pad = width[c] - cw[k];
			int right = numeric_kind(&w[c]);
			if (c)
				ps_buf_addc(&t, ' ');
			if (right)
				for (size_t p = 0; p < pad; p++)
					ps_buf_addc(&t, ' ');
			ps_buf_adds(&t, cell[k]);
			if (!right && c + 1 < nw)
				for (size_t p = 0; p < pad; p++)
					ps_buf_addc(&t, ' ');
		}
		while (t.len && t.buf[t.len - 1] == ' ')
			t.len--;
		t.buf[t.len] = '\0';
		puts(t.buf);
	}
	ps_buf_release(&t);
	for (size_t i = 0; i < (n + 1) * nw; i++)
		free(cell[i]);
	free(cell);
	free(cw);
	free(width);
}

static void print_json(const struct want *w, size_t nw, const struct row *rows, const size_t *order,
		       const int *depth, size_t n)
{
	struct ps_buf b = PS_BUF_INIT;
	struct ps_json j;
	ps_json_init(&j, &b);
	ps_json_arr_lines(&j);
	for (size_t i = 0; i < n; i++) {
		const struct row *r = &rows[order[i]];
		ps_json_obj(&j);
		for (size_t c = 0; c < nw; c++) {
			ps_json_key(&j, w[c].name);
			json_val(&j, &r->v[c], w[c].kind);
		}
		if (depth) {
			ps_json_key(&j, "depth");
			ps_json_int(&j, depth[i]);
		}
		ps_json_obj_end(&j);
		if (b.len > 65536) {
			fwrite(b.buf, 1, b.len, stdout);
			ps_buf_reset(&b);
		}
	}
	ps_json_arr_end(&j);
	ps_buf_addc(&b, '\n');
	fwrite(b.buf, 1, b.len, stdout);
	ps_buf_release(&b);
}

/* Capture start, clock ticks and MemTotal of the snapshot. */
static int ctx_load(struct ps_ctx *x)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(x->db,
			       "SELECT start_ns, clock_ticks, (SELECT value FROM system_kv k WHERE "
			       "k.snapshot_id = s.snapshot_id AND k.source = 'meminfo' AND k.key "
			       "= 'MemTotal') FROM snapshots s WHERE snapshot_id = ?1",
			       -1, &st, NULL) != SQLITE_OK)
		return cli_fail("ps", "%s", sqlite3_errmsg(x->db));
	sqlite3_bind_int64(st, 1, x->snap);
	if (sqlite3_step(st) == SQLITE_ROW) {
		x->now = (double)sqlite3_column_int64(st, 0) / 1e9;
		x->ticks = sqlite3_column_int64(st, 1);
		x->memtotal = sqlite3_column_double(st, 2);
	}
	sqlite3_finalize(st);
	return 0;
}

int cmd_ps(const struct ps_cli *cli, int argc, char **argv)
{
	(void)cli;
	enum { OPT_SNAPSHOT = 256 };
	static const struct option longopts[] = {
	    {"tree", no_argument, NULL, 't'},
	    {"forest", no_argument, NULL, 't'},
	    {"threads", no_argument, NULL, 'L'},
	    {"columns", required_argument, NULL, 'o'},
	    {"sort", required_argument, NULL, 's'},
	    {"format", required_argument, NULL, 'f'},
	    {"snapshot", required_argument, NULL, OPT_SNAPSHOT},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0}};
	const char *colspec = NULL, *sortspec = "pid";
	int tree = 0, json = 0, c;
	long long want_snap = -1;
	struct ps_ctx x;
	memset(&x, 0, sizeof(x));
	optind = 1;
	while ((c = getopt_long(argc, argv, "tLo:s:f:h", longopts, NULL)) != -1) {
		if (c == 't') {
			tree = 1;
		} else if (c == 'L') {
			x.threads = 1;
		} else if (c == 'o') {
			colspec = optarg;
		} else if (c == 's') {
			sortspec = optarg;
		} else if (c == 'f') {
			if (strcmp(optarg, "json") == 0)
				json = 1;
			else if (strcmp(optarg, "table") != 0)
				return cli_usage("ps", "--format is table or json, not '%s'",
						 optarg);
		} else if (c == OPT_SNAPSHOT) {
			if (cli_snapshot_arg("ps", optarg, &want_snap))
				return 2;
		} else if (c == 'h') {
			fputs(ps_help, stdout);
			return 0;
		} else {
			return cli_bad_option("ps", "tLo:s:f:h", longopts, argv);
		}
	}
	if (argc - optind != 1)
		return cli_usage("ps", "expects one SNAP");
	if (!colspec)
		colspec = x.threads ? def_cols_threads : def_cols;

	struct cli_snaps ss;
	if (cli_snaps_open("ps", 1, argv + optind, &ss) != 0)
		return 2;
	x.db = ss.db;
	struct want *w = NULL, *keys = NULL;
	size_t nw = 0, nkeys = 0, n = 0;
	struct row *rows = NULL;
	size_t *order = NULL;
	int *depth = NULL;
	int rc = cli_snapshot_pick("ps", x.db, want_snap, &x.snap);
	if (rc == 0)
		rc = ctx_load(&x);
	if (rc == 0)
		rc = wants_parse(&x, colspec, 0, &w, &nw);
	if (rc == 0)
		rc = wants_parse(&x, sortspec, 1, &keys, &nkeys);
	if (rc)
		goto out;
	/* fetch the shown columns, then the sort keys */
	struct want *all = ps_xcalloc(nw + nkeys, sizeof(*all));
	memcpy(all, w, nw * sizeof(*w));
	memcpy(all + nw, keys, nkeys * sizeof(*keys));
	rc = rows_load(&x, all, nw + nkeys, &rows, &n);
	free(all);
	if (rc)
		goto out;
	rows_sort(rows, n, keys, nkeys, nw);
	order = ps_xmalloc((n ? n : 1) * sizeof(*order));
	if (tree) {
		depth = ps_xmalloc((n ? n : 1) * sizeof(*depth));
		tree_order(rows, n, order, depth);
	} else {
		for (size_t i = 0; i < n; i++)
			order[i] = i;
	}
	if (json)
		print_json(w, nw, rows, order, depth, n);
	else
		print_table(&x, w, nw, rows, order, depth, n);
out:
	rows_free(rows, n, nw + nkeys);
	wants_free(w, nw);
	wants_free(keys, nkeys);
	free(order);
	free(depth);
	cli_snaps_close(&ss);
	return rc;
}
