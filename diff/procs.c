/*
 * procs.c - the process part of the diff: started, exited, and for each
 * process in both snapshots its changed identity, fds, mappings, page
 * counts, threads, environment, limits and counters.
 *
 * Every structured comparison is one SQL join keyed by (pid, key) between
 * the A rows (side 0) and the B rows (side 1) of a work table in the
 * in-memory database: ident(pid, field), fds(pid, fd), maps(pid, start),
 * thr(pid, tid, starttime), env(pid, name), limits(pid, name).  Which
 * processes and keys are compared is decided by the files comparison: only
 * members whose XXH3, kind or link target changed (and that pass --path)
 * count - and the threads whose start time changed (a reused tid changes no
 * member the files comparison reads: want_reused_threads).  The rows
 * come from the parsed index tables (processes, process_namespaces,
 * process_fds, process_memory_map, threads, process_envs,
 * process_limits) - INSERT ... SELECT from a.<table> and b.<table> joined
 * with the changed members (work table src) - except the one-value files
 * (loginuid, oom_score_adj...), whose content is fetched and compared.
 */
#include "diff_int.h"

#include "procfs.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* What a changed path means for its process. */
enum role {
	R_IGNORE = 0,
	R_STAT,	   /* identity, counters */
	R_STATUS,  /* uids, gids, caps, seccomp, tracer, ctx switches, rss */
	R_CMDLINE, /* identity: cmdline */
	R_CGROUP,  /* identity: cgroup_path */
	R_IO,	   /* counters */
	R_SMALL,   /* identity: a small one-value file (loginuid, oom_score_adj...) */
	R_LINKID,  /* identity: exe, cwd, root link targets */
	R_NS,	   /* identity: ns/<type> link targets */
	R_ENV,
	R_LIMITS,
	R_MAPS,
	R_PAGES, /* pagemap.sections: page-level changes (pages.c), and the maps */
	R_FD,
	R_THREAD,
	R_NOTE, /* readable on one side only */
};

/* Small per-process files whose one value is part of a process's identity
 * (always read raw: the tables do not have them all). */
static const char *const small_files[] = {
    "loginuid",	 "sessionid", "oom_score_adj", "attr/current", "attr/exec", "personality",
    "setgroups", "uid_map",   "gid_map",       "projid_map",   "cpuset",    "timens_offsets",
    NULL};

/* Subdirectories whose entries are compared one by one. */
static const char *const listed_dirs[] = {"fd", "ns", "task", NULL};

/* Header facts of a process in both snapshots with a changed path. */
struct phdr {
	int64_t pid, starttime;
	int partial[2];
	char *exe[2];
	char *name; /* from the processes table */
};

/* A started or exited process. */
struct pse {
	int side; /* 1: started (facts from B), 0: exited (from A) */
	int64_t pid, starttime;
	int partial, hidden;
	char *exe; /* from the processes table */
	char *name, *cmdline;
	int64_t ppid, uid;
};

struct procs_state {
	struct phdr *h;
	size_t nh, caph;
	struct pse *se;
	size_t nse, capse;
	int64_t *chp; /* pids with a classified path (sorted, unique after procs_want) */
	size_t nchp, capchp;
	char *supp; /* a directory prefix whose entries are not compared */
	size_t supplen;
	sqlite3_stmt *ins_src;
	int have_work;
};

static struct procs_state *state(struct dctx *c)
{
	if (!c->ps)
		c->ps = ps_xcalloc(1, sizeof(*c->ps));
	return c->ps;
}

void ps_dx_procs_free(struct dctx *c)
{
	struct procs_state *s = c->ps;
	if (!s)
		return;
	for (size_t i = 0; i < s->nh; i++) {
		free(s->h[i].exe[0]);
		free(s->h[i].exe[1]);
		free(s->h[i].name);
	}
	free(s->h);
	for (size_t i = 0; i < s->nse; i++) {
		free(s->se[i].exe);
		free(s->se[i].name);
		free(s->se[i].cmdline);
	}
	free(s->se);
	free(s->chp);
	free(s->supp);
	sqlite3_finalize(s->ins_src);
	free(s);
	c->ps = NULL;
}

static int in_list(const char *const *l, const char *s)
{
	for (; *l; l++)
		if (strcmp(*l, s) == 0)
			return 1;
	return 0;
}

static int is_kind(const struct dpath *p, int side, const char *k)
{
	return p->kind[side] && strcmp(p->kind[side], k) == 0;
}

/* "proc/<pid>/rel" -> rel ("" for the pid directory itself). */
static const char *rel_of(const struct dpath *p)
{
	const char *r = p->path + 5;
	while (*r >= '0' && *r <= '9')
		r++;
	return *r == '/' ? r + 1 : r;
}

static void note_pid(struct procs_state *s, int64_t pid)
{
	if (s->nchp && s->chp[s->nchp - 1] == pid)
		return;
	PS_XGROW(s->chp, s->nchp, s->capchp, 256);
	s->chp[s->nchp++] = pid;
}

/* The work tables, created before classification (src is filled by it). */
static int create_work_tables(struct dctx *c)
{
	struct procs_state *s = state(c);
	if (s->have_work)
		return 0;
	s->have_work = 1;
	if (ps_dx_exec(c, "CREATE TABLE src(pid INT, rel TEXT, PRIMARY KEY (pid, rel));"
			  "CREATE TABLE ident(side INT, pid INT, ord INT, field TEXT, value TEXT, "
			  "num INT, cls INT);"
			  "CREATE TABLE fds(side INT, pid INT, fd INT, target TEXT);"
			  "CREATE TABLE thr(side INT, pid INT, tid INT, starttime INT, name TEXT);"
			  "CREATE TABLE maps(side INT, pid INT, start TEXT, end TEXT, perms TEXT, "
			  "offset INT, inode INT, path TEXT, present INT, swapped INT, "
			  "soft_dirty INT);"
			  "CREATE TABLE env(side INT, pid INT, name TEXT, value TEXT);"
			  "CREATE TABLE limits(side INT, pid INT, name TEXT, soft TEXT, hard TEXT, "
			  "units TEXT);") < 0)
		return -1;
	return ps_dx_prep(c, &s->ins_src, "INSERT OR IGNORE INTO src VALUES (?, ?)");
}

/* Is this role's section served by the parsed tables?  All but the
 * one-value files are (every index of this schema has the tables). */
static int tabled(int role)
{
	return role != R_SMALL && role != R_NOTE && role != R_IGNORE;
}

/* A changed member whose section the tables serve: remember (pid, rel). */
static void add_src(struct dctx *c, int64_t pid, const char *rel)
{
	struct procs_state *s = state(c);
	if (!s->ins_src)
		return;
	sqlite3_bind_int64(s->ins_src, 1, pid);
	sqlite3_bind_text(s->ins_src, 2, rel, -1, SQLITE_TRANSIENT);
	sqlite3_step(s->ins_src);
	sqlite3_reset(s->ins_src);
}

int ps_dx_procs_relevant(const char *rel)
{
	static const char *const files[] = {
	    "stat", "status",		"cmdline", "cgroup", "io",   "environ", "limits",
	    "maps", "pagemap.sections", "exe",	   "cwd",    "root", NULL};
	/* called for every member of every matched process: the per-thread
	 * files (task/N/...), most of them, go first */
	const char *slash = strchr(rel, '/');
	if (slash) {
		if (strchr(slash + 1, '/'))
			return 0;
		size_t n = (size_t)(slash - rel);
		if ((n == 2 && (memcmp(rel, "fd", 2) == 0 || memcmp(rel, "ns", 2) == 0)) ||
		    (n == 4 && memcmp(rel, "task", 4) == 0))
			return slash[1] != '\0';
		return in_list(small_files, rel); /* attr/current, attr/exec */
	}
	return in_list(files, rel) || in_list(small_files, rel) || in_list(listed_dirs, rel);
}

void ps_dx_procs_classify(struct dctx *c, struct dpath *p)
{
	struct procs_state *s = state(c);
	p->role = R_IGNORE;
	/* the index is input too: a pid column must agree with its path */
	char pre[40];
	int n = snprintf(pre, sizeof(pre), "proc/%lld/", (long long)p->pid);
	if (strncmp(p->path, pre, (size_t)n) != 0)
		return;
	const char *rel = rel_of(p);
	if (!*rel || create_work_tables(c) < 0)
		return;
	if (s->supp && strncmp(p->path, s->supp, s->supplen) == 0) {
		/* inside a directory present on one side only */
		return;
	}
	struct ps_buf relp = PS_BUF_INIT;
	ps_buf_addf(&relp, "%lld/%s", (long long)p->pid, rel);
	int ok = ps_dx_path_ok(c, relp.buf);
	ps_buf_release(&relp);
	/* A listed directory present on one side only (or unreadable on one):
	 * its entries would all look opened or closed; say so once instead. */
	int dir0 = is_kind(p, 0, "dir"), dir1 = is_kind(p, 1, "dir");
	if (dir0 != dir1) {
		free(s->supp);
		struct ps_buf b = PS_BUF_INIT;
		ps_buf_addf(&b, "%s/", p->path);
		s->supplen = b.len;
		s->supp = ps_buf_detach(&b, NULL);
		if (p->tid >= 0 && strncmp(rel, "task/", 5) == 0 && !strchr(rel + 5, '/')) {
			if ((!p->kind[0] || !p->kind[1]) && ok)
				p->role = R_THREAD;
		} else if (in_list(listed_dirs, rel) && p->kind[0] && p->kind[1] && ok) {
			p->role = R_NOTE;
		}
	} else if (!ok) {
		return;
	} else {
		int f0 = is_kind(p, 0, "file"), f1 = is_kind(p, 1, "file");
		int l0 = is_kind(p, 0, "link"), l1 = is_kind(p, 1, "link");
		int a0 = is_kind(p, 0, "absent"), a1 = is_kind(p, 1, "absent");
		if (strncmp(rel, "fd/", 3) == 0 && !strchr(rel + 3, '/')) {
			/* opened (B only), closed (A only), retargeted (both links) */
			if ((l0 && l1) || (l0 && !p->kind[1]) || (l1 && !p->kind[0]))
				p->role = R_FD;
		} else if (strcmp(rel, "exe") == 0 || strcmp(rel, "cwd") == 0 ||
			   strcmp(rel, "root") == 0 ||
			   (strncmp(rel, "ns/", 3) == 0 && !strchr(rel + 3, '/'))) {
			if (l0 && l1)
				p->role = rel[0] == 'n' ? R_NS : R_LINKID;
			else if ((l0 && a1) || (a0 && l1))
				p->role = R_NOTE;
		} else if (f0 && f1) {
			if (strcmp(rel, "stat") == 0)
				p->role = R_STAT;
			else if (strcmp(rel, "status") == 0)
				p->role = R_STATUS;
			else if (strcmp(rel, "cmdline") == 0)
				p->role = R_CMDLINE;
			else if (strcmp(rel, "cgroup") == 0)
				p->role = R_CGROUP;
			else if (strcmp(rel, "io") == 0 && c->o->counters)
				p->role = R_IO;
			else if (strcmp(rel, "environ") == 0)
				p->role = R_ENV;
			else if (strcmp(rel, "limits") == 0)
				p->role = R_LIMITS;
			else if (strcmp(rel, "maps") == 0)
				p->role = R_MAPS;
			else if (strcmp(rel, "pagemap.sections") == 0)
				p->role = R_PAGES;
			else if (in_list(small_files, rel))
				p->role = R_SMALL;
		} else if ((f0 && a1) || (a0 && f1)) {
			if (strcmp(rel, "stat") == 0 || strcmp(rel, "status") == 0 ||
			    strcmp(rel, "cmdline") == 0 || strcmp(rel, "environ") == 0 ||
			    strcmp(rel, "maps") == 0 || strcmp(rel, "limits") == 0 ||
			    strcmp(rel, "cgroup") == 0)
				p->role = R_NOTE;
		}
	}
	if (p->role == R_IGNORE)
		return;
	note_pid(s, p->pid);
	if (tabled(p->role))
		add_src(c, p->pid, rel);
	if (p->role == R_SMALL || p->role == R_PAGES) {
		ps_dx_want(c, p, 0);
		ps_dx_want(c, p, 1);
	}
}

/* ---- headers, started and exited processes ------------------------------------ */

static int i64_cmp(const void *x, const void *y)
{
	int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
	return a < b ? -1 : a > b;
}

/* exe as the link reads: the processes table keeps path without the
 * " (deleted)" suffix and the fact in exe_deleted. */
#define EXE_EXPR "t.path || CASE WHEN t.exe_deleted THEN ' (deleted)' ELSE '' END"

/* Started (side 1) or exited (side 0) processes and what names them. */
static int want_se(struct dctx *c, int side)
{
	struct procs_state *s = state(c);
	const char *me = side ? "b" : "a", *my = side ? "pb" : "pa";
	long long sid = (long long)(side ? c->d->b.sid : c->d->a.sid);
	struct ps_buf sql = PS_BUF_INIT;
	ps_buf_addf(&sql,
		    "SELECT p.pid, p.starttime, p.partial, p.hidden, t.name, t.ppid, "
		    "t.uid, " EXE_EXPR ", t.cmdline FROM %s p LEFT JOIN %s.processes t ON "
		    "t.snapshot_id = %lld AND t.pid = p.pid "
		    "WHERE p.pid NOT IN (SELECT pid FROM pm) GROUP BY p.pid ORDER BY p.pid",
		    my, me, sid);
	sqlite3_stmt *q;
	int rc = ps_dx_prep(c, &q, sql.buf);
	ps_buf_release(&sql);
	if (rc < 0)
		return -1;
	while (sqlite3_step(q) == SQLITE_ROW) {
		int64_t pid = sqlite3_column_int64(q, 0);
		if (c->o->nglobs) {
			char pd[32];
			snprintf(pd, sizeof(pd), "%lld", (long long)pid);
			if (!ps_dx_path_ok(c, pd))
				continue;
		}
		PS_XGROW(s->se, s->nse, s->capse, 64);
		struct pse *e = &s->se[s->nse++];
		memset(e, 0, sizeof(*e));
		e->side = side;
		e->pid = pid;
		e->starttime =
		    sqlite3_column_type(q, 1) == SQLITE_NULL ? -1 : sqlite3_column_int64(q, 1);
		e->partial = sqlite3_column_int(q, 2);
		e->hidden = sqlite3_column_int(q, 3);
		e->ppid = e->uid = -1;
		e->name = ps_dx_col_dup(q, 4);
		if (sqlite3_column_type(q, 5) != SQLITE_NULL)
			e->ppid = sqlite3_column_int64(q, 5);
		if (sqlite3_column_type(q, 6) != SQLITE_NULL)
			e->uid = sqlite3_column_int64(q, 6);
		e->exe = ps_dx_col_dup(q, 7);
		e->cmdline = ps_dx_col_dup(q, 8);
	}
	sqlite3_finalize(q);
	return 0;
}

/* For each matched process with a classified path: its name (stat, or the
 * processes table) and its exe link. */
static int want_headers(struct dctx *c)
{
	struct procs_state *s = state(c);
	if (!s->nchp)
		return 0;
	qsort(s->chp, s->nchp, sizeof(*s->chp), i64_cmp);
	size_t u = 0;
	for (size_t i = 0; i < s->nchp; i++)
		if (!u || s->chp[u - 1] != s->chp[i])
			s->chp[u++] = s->chp[i];
	s->nchp = u;
	if (ps_dx_exec(c, "CREATE TABLE chp(pid INTEGER PRIMARY KEY)") < 0)
		return -1;
	sqlite3_stmt *q;
	if (ps_dx_prep(c, &q, "INSERT OR IGNORE INTO chp VALUES (?)") < 0)
		return -1;
	for (size_t i = 0; i < s->nchp; i++) {
		sqlite3_bind_int64(q, 1, s->chp[i]);
		sqlite3_step(q);
		sqlite3_reset(q);
	}
	sqlite3_finalize(q);
	struct ps_buf sql = PS_BUF_INIT;
	long long sa = (long long)c->d->a.sid, sb = (long long)c->d->b.sid;
	ps_buf_addf(&sql,
		    "SELECT pm.pid, pm.starttime, pm.partial_a, pm.partial_b, "
		    "coalesce((SELECT name FROM b.processes t WHERE t.snapshot_id = %lld AND "
		    "t.pid = pm.pid), (SELECT name FROM a.processes t WHERE t.snapshot_id = "
		    "%lld AND t.pid = pm.pid)), "
		    "(SELECT " EXE_EXPR " FROM a.processes t WHERE t.snapshot_id = %lld AND "
		    "t.pid = pm.pid), "
		    "(SELECT " EXE_EXPR " FROM b.processes t WHERE t.snapshot_id = %lld AND "
		    "t.pid = pm.pid) FROM chp JOIN pm USING (pid) ORDER BY pm.pid",
		    sb, sa, sa, sb);
	int rc = ps_dx_prep(c, &q, sql.buf);
	ps_buf_release(&sql);
	if (rc < 0)
		return -1;
	while (sqlite3_step(q) == SQLITE_ROW) {
		PS_XGROW(s->h, s->nh, s->caph, 64);
		struct phdr *h = &s->h[s->nh++];
		memset(h, 0, sizeof(*h));
		h->pid = sqlite3_column_int64(q, 0);
		h->starttime = sqlite3_column_int64(q, 1);
		h->partial[0] = sqlite3_column_int(q, 2);
		h->partial[1] = sqlite3_column_int(q, 3);
		h->name = ps_dx_col_dup(q, 4);
		h->exe[0] = ps_dx_col_dup(q, 5);
		h->exe[1] = ps_dx_col_dup(q, 6);
	}
	sqlite3_finalize(q);
	return 0;
}

/*
 * Threads are matched as processes are, by (pid, tid, starttime) (task stat
 * field 22): a tid that a new thread of the same process took between the
 * captures is one thread exited and one started.  Its task/<tid> directory
 * is in both snapshots and its per-thread files are never compared by path,
 * so the files comparison cannot see it: one join of the two threads tables
 * over the matched processes (their primary key, (pid, snapshot_id, tid))
 * finds the tids whose start time is known on both sides and differs, and
 * adds them to src as a task/<tid> directory present on one side would be.
 * An unknown start time (NULL) on either side keeps the (pid, tid) match.
 */
static int want_reused_threads(struct dctx *c)
{
	struct procs_state *s = state(c);
	struct ps_buf sql = PS_BUF_INIT;
	ps_buf_addf(&sql,
		    "SELECT x.pid, x.tid FROM pm CROSS JOIN a.threads x ON x.pid = pm.pid AND "
		    "x.snapshot_id = %lld CROSS JOIN b.threads y ON y.pid = x.pid AND "
		    "y.snapshot_id = %lld AND y.tid = x.tid WHERE x.starttime IS NOT NULL AND "
		    "y.starttime IS NOT NULL AND x.starttime <> y.starttime",
		    (long long)c->d->a.sid, (long long)c->d->b.sid);
	sqlite3_stmt *q;
	int rc = ps_dx_prep(c, &q, sql.buf);
	ps_buf_release(&sql);
	if (rc < 0)
		return -1;
	char rel[48], relp[72];
	while (sqlite3_step(q) == SQLITE_ROW) {
		int64_t pid = sqlite3_column_int64(q, 0), tid = sqlite3_column_int64(q, 1);
		snprintf(rel, sizeof(rel), "task/%lld", (long long)tid);
		snprintf(relp, sizeof(relp), "%lld/%s", (long long)pid, rel);
		if (!ps_dx_path_ok(c, relp))
			continue;
		note_pid(s, pid);
		add_src(c, pid, rel);
	}
	sqlite3_finalize(q);
	return 0;
}

int ps_dx_procs_want(struct dctx *c)
{
	if (create_work_tables(c) < 0 || want_reused_threads(c) < 0 || want_se(c, 0) < 0 ||
	    want_se(c, 1) < 0)
		return -1;
	return want_headers(c);
}

static const struct phdr *find_hdr(const struct procs_state *s, int64_t pid)
{
	size_t lo = 0, hi = s->nh;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->h[mid].pid == pid)
			return &s->h[mid];
		if (s->h[mid].pid < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* The item of a changed process; registers its header. */
struct ditem *ps_dx_pitem(struct dctx *c, int64_t pid, int sec)
{
	ps_dp_get(c->d, pid);
	return ps_di_new(c->d, G_PROC, pid, sec);
}

static struct ditem *pitem(struct dctx *c, int64_t pid, int sec)
{
	return ps_dx_pitem(c, pid, sec);
}

/* argv joined by single spaces, blanks trimmed at both ends - as the
 * processes table's cmdline column (osquery's). */
void ps_dx_argv_text(struct ps_buf *out, const char *s, size_t n)
{
	size_t pos = 0, start = out->len;
	struct ps_str item;
	int first = 1;
	while (ps_nul_next(s, n, &pos, &item) == 1) {
		if (!first)
			ps_buf_addc(out, ' ');
		if (item.len)
			ps_buf_add(out, item.p, item.len);
		first = 0;
	}
	size_t a = start, e = out->len;
	while (a < e && out->buf[a] == ' ')
		a++;
	while (e > a && out->buf[e - 1] == ' ')
		e--;
	memmove(out->buf + start, out->buf + a, e - a);
	out->len = start + (e - a);
	out->buf[out->len] = '\0';
}

static const char *side_name(int side)
{
	return side ? "B" : "A";
}

/*
 * A kernel worker thread (a child of kthreadd named kworker/...; no exe):
 * the workqueue pools start and reap them by themselves, so one started or
 * exited, or the workqueue suffix of its name ("kworker/1:1-mm_percpu_wq" ->
 * "kworker/1:1-events"), is shown only with --all.  A user process cannot
 * pose as one: its parent is never kthreadd (pid 2) and it has an exe.
 */
static int is_kworker_name(const char *name)
{
	return name && strncmp(name, "kworker/", 8) == 0;
}

/* Length of a kworker name without its "-wq" or "+wq" suffix. */
static size_t kworker_base(const char *name)
{
	return strcspn(name + 8, "-+") + 8;
}

static int kworker_rename(const char *a, const char *b)
{
	if (!is_kworker_name(a) || !is_kworker_name(b))
		return 0;
	size_t n = kworker_base(a);
	return n == kworker_base(b) && memcmp(a, b, n) == 0;
}

/* procsnap's own capture process, or the process that started it if it
 * was started (or exited) with it: "capture", "parent", or NULL. */
static const char *own_role(const struct dctx *c, const struct pse *e)
{
	const struct snapinfo *si = e->side ? &c->d->b : &c->d->a;
	if (si->capture_pid > 0 && e->pid == si->capture_pid)
		return "capture";
	/* init (a capture started by a service) is never a wrapper, even
	 * when two boots make it exit and start */
	if (si->capture_ppid > 1 && e->pid == si->capture_ppid)
		return "parent";
	return NULL;
}

/* ---- rows from the parsed tables --------------------------------------------------- */

enum { CLS_ID = 0, CLS_COUNTER = 1, CLS_MEM = 2 };

/* Identity and counter fields: the name in the output, the member it
 * comes from, its expression over the processes table (t) and its class. */
struct fdef {
	const char *field, *rel, *expr;
	int cls;
};
static const struct fdef fdefs[] = {
    {"name", "stat", "t.name", CLS_ID},
    {"exe", "exe", EXE_EXPR, CLS_ID},
    {"cmdline", "cmdline", "t.cmdline", CLS_ID},
    {"cwd", "cwd", "t.cwd", CLS_ID},
    {"root", "root", "t.root", CLS_ID},
    {"ppid", "stat", "t.ppid", CLS_ID},
    {"pgroup", "stat", "t.pgroup", CLS_ID},
    {"session", "stat", "t.session", CLS_ID},
    {"tty_nr", "stat", "t.tty_nr", CLS_ID},
    {"nice", "stat", "t.nice", CLS_ID},
    {"uid", "status", "t.uid", CLS_ID},
    {"euid", "status", "t.euid", CLS_ID},
    {"suid", "status", "t.suid", CLS_ID},
    {"gid", "status", "t.gid", CLS_ID},
    {"egid", "status", "t.egid", CLS_ID},
    {"sgid", "status", "t.sgid", CLS_ID},
    {"cap_inh", "status", "t.cap_inh", CLS_ID},
    {"cap_prm", "status", "t.cap_prm", CLS_ID},
    {"cap_eff", "status", "t.cap_eff", CLS_ID},
    {"cap_bnd", "status", "t.cap_bnd", CLS_ID},
    {"cap_amb", "status", "t.cap_amb", CLS_ID},
    {"no_new_privs", "status", "t.no_new_privs", CLS_ID},
    {"seccomp", "status", "t.seccomp", CLS_ID},
    {"tracer_pid", "status", "t.tracer_pid", CLS_ID},
    {"cgroup_path", "cgroup", "t.cgroup_path", CLS_ID},
    {"resident_size", "status", "t.resident_size", CLS_MEM},
    {"total_size", "status", "t.total_size", CLS_MEM},
    {"user_time", "stat", "t.user_time", CLS_COUNTER},
    {"system_time", "stat", "t.system_time", CLS_COUNTER},
    {"minflt", "stat", "t.minflt", CLS_COUNTER},
    {"majflt", "stat", "t.majflt", CLS_COUNTER},
    {"threads", "stat", "t.threads", CLS_COUNTER},
    {"voluntary_ctxt_switches", "status", "t.voluntary_ctxt_switches", CLS_COUNTER},
    {"nonvoluntary_ctxt_switches", "status", "t.nonvoluntary_ctxt_switches", CLS_COUNTER},
    {"disk_bytes_read", "io", "t.disk_bytes_read", CLS_COUNTER},
    {"disk_bytes_written", "io", "t.disk_bytes_written", CLS_COUNTER},
};
#define NFDEFS (sizeof(fdefs) / sizeof(fdefs[0]))

static const char *const ns_names[] = {"cgroup",
				       "ipc",
				       "mnt",
				       "net",
				       "pid",
				       "user",
				       "uts",
				       "time",
				       "pid_for_children",
				       "time_for_children",
				       NULL};

/* expr with its table alias t renamed to x */
static void expr_as(struct ps_buf *b, const char *expr, char x)
{
	for (const char *e = expr; *e; e++) {
		int word_start = e == expr || !((e[-1] >= 'a' && e[-1] <= 'z') || e[-1] == '_');
		if (*e == 't' && e[1] == '.' && word_start)
			ps_buf_addc(b, x);
		else
			ps_buf_addc(b, *e);
	}
}

/*
 * The processes whose rows of the processes table differ in a field that
 * can be reported (identity; memory beyond the PS_DIFF_MEM_* threshold;
 * counters with --counters): table pdiff.  Only their fields are compared
 * one by one - a status that changed in its counters alone (most of them,
 * between two snapshots) costs one row comparison.
 */
static int find_pdiff(struct dctx *c)
{
	struct ps_buf sql = PS_BUF_INIT;
	ps_buf_addf(&sql,
		    "CREATE TABLE pdiff(pid INTEGER PRIMARY KEY);"
		    "INSERT OR IGNORE INTO pdiff SELECT s.pid FROM src s "
		    "JOIN a.processes x ON x.snapshot_id = %lld AND x.pid = s.pid "
		    "JOIN b.processes y ON y.snapshot_id = %lld AND y.pid = s.pid WHERE s.rel IN "
		    "('stat', 'status', 'cmdline', 'cgroup', 'io', 'exe', 'cwd', 'root') AND (0",
		    (long long)c->d->a.sid, (long long)c->d->b.sid);
	for (size_t i = 0; i < NFDEFS; i++) {
		const struct fdef *f = &fdefs[i];
		if (f->cls == CLS_COUNTER && !c->o->counters)
			continue;
		ps_buf_adds(&sql, " OR (");
		expr_as(&sql, f->expr, 'x');
		ps_buf_adds(&sql, ") IS NOT (");
		expr_as(&sql, f->expr, 'y');
		ps_buf_adds(&sql, ")");
		if (f->cls == CLS_MEM && !c->o->counters) {
			/* mem_worth(), in SQL */
			ps_buf_adds(&sql, " AND abs(");
			expr_as(&sql, f->expr, 'y');
			ps_buf_adds(&sql, " - ");
			expr_as(&sql, f->expr, 'x');
			ps_buf_addf(&sql, ") > max(%llu, %g * max(",
				    (unsigned long long)PS_DIFF_MEM_BYTES, PS_DIFF_MEM_RATIO);
			expr_as(&sql, f->expr, 'x');
			ps_buf_adds(&sql, ", 0))");
		}
	}
	ps_buf_adds(&sql, ");");
	int rc = ps_dx_exec(c, sql.buf);
	ps_buf_release(&sql);
	return rc;
}

static int fill_from_tables(struct dctx *c)
{
	static const char *const sch[2] = {"a", "b"};
	long long sid[2] = {(long long)c->d->a.sid, (long long)c->d->b.sid};
	struct ps_buf sql = PS_BUF_INIT;
	int rc = find_pdiff(c);
	for (int side = 0; side < 2 && rc == 0; side++) {
		const char *x = sch[side];
		ps_buf_reset(&sql);
		for (size_t i = 0; i < NFDEFS; i++) {
			const struct fdef *f = &fdefs[i];
			ps_buf_addf(&sql,
				    "INSERT INTO ident SELECT %d, t.pid, %zu, '%s', CAST((%s) "
				    "AS TEXT), %s, %d FROM pdiff p CROSS JOIN src s ON s.pid = "
				    "p.pid AND s.rel = '%s' CROSS JOIN %s.processes t ON "
				    "t.snapshot_id = %lld AND t.pid = s.pid WHERE (%s) IS NOT "
				    "NULL;\n",
				    side, i, f->field, f->expr, f->cls ? f->expr : "NULL", f->cls,
				    f->rel, x, sid[side], f->expr);
		}
		for (const char *const *n = ns_names; *n; n++)
			ps_buf_addf(&sql,
				    "INSERT INTO ident SELECT %d, t.pid, 100, 'ns/%s', '%s:[' "
				    "|| t.%s_namespace || ']', NULL, 0 FROM src s CROSS JOIN "
				    "%s.process_namespaces t ON t.snapshot_id = %lld AND "
				    "t.pid = s.pid WHERE s.rel = 'ns/%s' AND t.%s_namespace IS "
				    "NOT NULL;\n",
				    side, *n,
				    strncmp(*n, "pid_", 4) == 0	   ? "pid"
				    : strncmp(*n, "time_", 5) == 0 ? "time"
								   : *n,
				    *n, x, sid[side], *n, *n);
		ps_buf_addf(&sql,
			    "INSERT INTO fds SELECT %d, t.pid, t.fd, t.path FROM src s CROSS JOIN "
			    "%s.process_fds t ON t.snapshot_id = %lld AND t.pid = "
			    "s.pid AND s.rel = 'fd/' || t.fd WHERE s.rel GLOB 'fd/*';\n",
			    side, x, sid[side]);
		ps_buf_addf(&sql,
			    "INSERT INTO thr SELECT %d, t.pid, t.tid, t.starttime, t.name FROM src "
			    "s CROSS JOIN %s.threads t ON t.snapshot_id = %lld AND t.pid = s.pid "
			    "AND s.rel = 'task/' || t.tid WHERE s.rel GLOB 'task/*';\n",
			    side, x, sid[side]);
		/* start/end as 16 hex digits, so text order is address order */
		ps_buf_addf(
		    &sql,
		    "INSERT INTO maps SELECT %d, t.pid, "
		    "substr('0000000000000000' || substr(t.start, 3), -16, 16), "
		    "substr('0000000000000000' || substr(t.\"end\", 3), -16, 16), "
		    "t.permissions, t.offset, t.inode, coalesce(t.raw_path, ''), t.present, "
		    "t.swapped, t.soft_dirty "
		    "FROM (SELECT DISTINCT pid FROM src WHERE rel IN ('maps', "
		    "'pagemap.sections')) s CROSS JOIN %s.process_memory_map t ON "
		    "t.snapshot_id = %lld AND t.pid = s.pid ORDER BY t.rowid;\n",
		    side, x, sid[side]);
		ps_buf_addf(&sql,
			    "INSERT INTO env SELECT %d, t.pid, t.key, t.value FROM src s "
			    "CROSS JOIN %s.process_envs t ON t.snapshot_id = %lld AND t.pid = "
			    "s.pid WHERE s.rel = 'environ' ORDER BY t.rowid;\n",
			    side, x, sid[side]);
		ps_buf_addf(&sql,
			    "INSERT INTO limits SELECT %d, t.pid, t.name, "
			    "CASE WHEN t.soft_limit = -1 THEN 'unlimited' ELSE "
			    "coalesce(CAST(t.soft_limit AS TEXT), '?') END, "
			    "CASE WHEN t.hard_limit = -1 THEN 'unlimited' ELSE "
			    "coalesce(CAST(t.hard_limit AS TEXT), '?') END, "
			    "coalesce(t.units, '') FROM src s CROSS JOIN %s.process_limits t ON "
			    "t.snapshot_id = %lld AND t.pid = s.pid WHERE s.rel = 'limits' "
			    "ORDER BY t.rowid;\n",
			    side, x, sid[side]);
		rc = ps_dx_exec(c, sql.buf);
	}
	ps_buf_release(&sql);
	return rc;
}

/* ---- one-value files (the tables do not have them) --------------------------------- */

/* Text of a one-value file: trailing newlines dropped, inner newlines shown
 * as "; " so one field stays one line. */
static void small_text(struct ps_buf *t, const struct ps_buf *b)
{
	size_t n = b->len;
	while (n && (b->buf[n - 1] == '\n' || b->buf[n - 1] == '\0'))
		n--;
	for (size_t i = 0; i < n; i++) {
		if (b->buf[i] == '\n')
			ps_buf_adds(t, "; ");
		else
			ps_buf_addc(t, b->buf[i]);
	}
}

static int fill_small(struct dctx *c)
{
	sqlite3_stmt *q;
	if (ps_dx_prep(c, &q, "INSERT INTO ident VALUES (?, ?, 100, ?, ?, NULL, 0)") < 0)
		return -1;
	struct ps_buf t = PS_BUF_INIT;
	for (size_t i = 0; i < c->npaths; i++) {
		const struct dpath *p = &c->paths[i];
		if (p->pid < 0 || p->role != R_SMALL)
			continue;
		for (int side = 0; side < 2; side++) {
			const struct ps_buf *b = ps_dx_content(c, p, side);
			if (!b)
				continue;
			ps_buf_reset(&t);
			small_text(&t, b);
			sqlite3_bind_int(q, 1, side);
			sqlite3_bind_int64(q, 2, p->pid);
			sqlite3_bind_text(q, 3, rel_of(p), -1, SQLITE_TRANSIENT);
			sqlite3_bind_text(q, 4, t.buf ? t.buf : "", (int)t.len, SQLITE_TRANSIENT);
			sqlite3_step(q);
			sqlite3_reset(q);
		}
	}
	ps_buf_release(&t);
	sqlite3_finalize(q);
	return 0;
}

/* ---- comparisons ----------------------------------------------------------------- */

static int64_t sat_sub(int64_t b, int64_t a)
{
	int64_t d;
	if (__builtin_sub_overflow(b, a, &d))
		return b > a ? INT64_MAX : INT64_MIN;
	return d;
}

static int mem_worth(int64_t a, int64_t b)
{
	int64_t d = sat_sub(b, a);
	uint64_t ad = d < 0 ? (uint64_t)(-(d + 1)) + 1 : (uint64_t)d;
	return ad > PS_DIFF_MEM_BYTES && (double)ad > PS_DIFF_MEM_RATIO * (double)(a > 0 ? a : 0);
}

static int compare_ident(struct dctx *c)
{
	sqlite3_stmt *q;
	if (ps_dx_exec(c, "CREATE INDEX ident_k ON ident(side, pid, field)") < 0 ||
	    ps_dx_prep(
		c, &q,
		"SELECT x.pid, x.field, x.value, y.value, x.num, y.num, x.cls "
		"FROM ident x JOIN ident y ON y.side = 1 AND y.pid = x.pid AND y.field = x.field "
		"WHERE x.side = 0 AND x.value IS NOT y.value "
		"GROUP BY x.pid, x.field ORDER BY x.pid, x.ord, x.field") < 0)
		return -1;
	while (sqlite3_step(q) == SQLITE_ROW) {
		int64_t pid = sqlite3_column_int64(q, 0);
		const char *field = (const char *)sqlite3_column_text(q, 1);
		int cls = sqlite3_column_int(q, 6);
		int nums = sqlite3_column_type(q, 4) != SQLITE_NULL &&
			   sqlite3_column_type(q, 5) != SQLITE_NULL;
		int64_t na = sqlite3_column_int64(q, 4), nb = sqlite3_column_int64(q, 5);
		struct ditem *it = NULL;
		if (cls == CLS_ID && strcmp(field, "name") == 0 && !c->o->all &&
		    kworker_rename((const char *)sqlite3_column_text(q, 2),
				   (const char *)sqlite3_column_text(q, 3))) {
			c->d->hid.worker_names++;
			continue;
		}
		if (cls == CLS_ID)
			it = pitem(c, pid, S_IDENTITY);
		else if (cls == CLS_MEM && nums && mem_worth(na, nb))
			it = pitem(c, pid, S_MEMORY);
		else if (c->o->counters && nums)
			it = pitem(c, pid, S_COUNTERS);
		if (!it)
			continue;
		ps_di_cstr(it, "field", field);
		if (cls == CLS_ID) {
			ps_di_str(it, "a", (const char *)sqlite3_column_text(q, 2),
				  (size_t)sqlite3_column_bytes(q, 2));
			ps_di_str(it, "b", (const char *)sqlite3_column_text(q, 3),
				  (size_t)sqlite3_column_bytes(q, 3));
		} else {
			ps_di_int(it, "a", na);
			ps_di_int(it, "b", nb);
			ps_di_int(it, "delta", sat_sub(nb, na));
		}
	}
	sqlite3_finalize(q);
	return 0;
}

/* fds opened, closed, retargeted: keyed by (pid, fd). */
static int compare_fds(struct dctx *c)
{
	sqlite3_stmt *q;
	if (ps_dx_prep(
		c, &q,
		"SELECT x.pid, x.fd, x.target, y.target FROM fds x LEFT JOIN fds y ON "
		"y.side = 1 AND y.pid = x.pid AND y.fd = x.fd WHERE x.side = 0 AND "
		"(y.fd IS NULL OR x.target IS NOT y.target) "
		"UNION ALL SELECT y.pid, y.fd, NULL, y.target FROM fds y WHERE y.side = 1 AND "
		"NOT EXISTS (SELECT 1 FROM fds x WHERE x.side = 0 AND x.pid = y.pid AND "
		"x.fd = y.fd) ORDER BY 1, 2") < 0)
		return -1;
	while (sqlite3_step(q) == SQLITE_ROW) {
		int ina = sqlite3_column_type(q, 2) != SQLITE_NULL;
		int inb = sqlite3_column_type(q, 3) != SQLITE_NULL;
		struct ditem *it = pitem(c, sqlite3_column_int64(q, 0), S_FDS);
		ps_di_int(it, "fd", sqlite3_column_int64(q, 1));
		ps_di_cstr(it, "change", !ina ? "opened" : !inb ? "closed" : "retargeted");
		ps_di_cstr(it, "a", ina ? (const char *)sqlite3_column_text(q, 2) : NULL);
		ps_di_cstr(it, "b", inb ? (const char *)sqlite3_column_text(q, 3) : NULL);
	}
	sqlite3_finalize(q);
	return 0;
}

/* The same thread on both sides: (pid, tid, starttime), a start time
 * unknown on either side matching any (want_reused_threads). */
#define THR_SAME                                                                                   \
	"x.pid = y.pid AND x.tid = y.tid AND (x.starttime IS NULL OR y.starttime IS NULL OR "      \
	"x.starttime = y.starttime)"

/* threads started and exited: keyed by (pid, tid, starttime); a reused
 * tid's old thread comes first. */
static int compare_threads(struct dctx *c)
{
	sqlite3_stmt *q;
	if (ps_dx_prep(
		c, &q,
		"SELECT x.pid, x.tid, x.name, 0, x.starttime FROM thr x WHERE x.side = 0 "
		"AND NOT EXISTS (SELECT 1 FROM thr y WHERE y.side = 1 AND " THR_SAME ") "
		"UNION ALL SELECT y.pid, y.tid, y.name, 1, y.starttime FROM thr y WHERE "
		"y.side = 1 AND NOT EXISTS (SELECT 1 FROM thr x WHERE x.side = 0 AND " THR_SAME
		") ORDER BY 1, 2, 4") < 0)
		return -1;
	while (sqlite3_step(q) == SQLITE_ROW) {
		struct ditem *it = pitem(c, sqlite3_column_int64(q, 0), S_THREADS);
		ps_di_int(it, "tid", sqlite3_column_int64(q, 1));
		if (sqlite3_column_type(q, 4) == SQLITE_NULL)
			ps_di_null(it, "starttime");
		else
			ps_di_int(it, "starttime", sqlite3_column_int64(q, 4));
		ps_di_cstr(it, "change", sqlite3_column_int(q, 3) ? "started" : "exited");
		ps_di_cstr(it, "name", (const char *)sqlite3_column_text(q, 2));
	}
	sqlite3_finalize(q);
	return 0;
}

static void map_fields(struct ditem *it, sqlite3_stmt *q, int base)
{
	char b[24];
	const char *s = (const char *)sqlite3_column_text(q, base);
	const char *e = (const char *)sqlite3_column_text(q, base + 1);
	uint64_t vs = s ? strtoull(s, NULL, 16) : 0, ve = e ? strtoull(e, NULL, 16) : 0;
	snprintf(b, sizeof(b), "0x%" PRIx64, vs);
	ps_di_cstr(it, "start", b);
	snprintf(b, sizeof(b), "0x%" PRIx64, ve);
	ps_di_cstr(it, "end", b);
	ps_di_int(it, "size", ve > vs && ve - vs <= INT64_MAX ? (int64_t)(ve - vs) : 0);
	ps_di_str(it, "perms", (const char *)sqlite3_column_text(q, base + 2),
		  (size_t)sqlite3_column_bytes(q, base + 2));
	ps_di_int(it, "offset", sqlite3_column_int64(q, base + 3));
	ps_di_int(it, "inode", sqlite3_column_int64(q, base + 4));
	ps_di_str(it, "path", (const char *)sqlite3_column_text(q, base + 5),
		  (size_t)sqlite3_column_bytes(q, base + 5));
	if (sqlite3_column_type(q, base + 6) != SQLITE_NULL)
		ps_di_int(it, "present", sqlite3_column_int64(q, base + 6));
}

static int col_eq(sqlite3_stmt *q, int x, int y)
{
	int tx = sqlite3_column_type(q, x), ty = sqlite3_column_type(q, y);
	if (tx == SQLITE_NULL || ty == SQLITE_NULL)
		return tx == ty;
	if (tx == SQLITE_INTEGER && ty == SQLITE_INTEGER)
		return sqlite3_column_int64(q, x) == sqlite3_column_int64(q, y);
	const char *a = (const char *)sqlite3_column_text(q, x);
	const char *b = (const char *)sqlite3_column_text(q, y);
	return a && b && strcmp(a, b) == 0;
}

/* a_start, a_end, a_perms: the A side of a changed mapping */
static void map_was(struct ditem *it, sqlite3_stmt *q)
{
	char b[24];
	for (int k = 0; k < 2; k++) {
		const char *v = (const char *)sqlite3_column_text(q, 1 + k);
		snprintf(b, sizeof(b), "0x%" PRIx64, v ? (uint64_t)strtoull(v, NULL, 16) : 0);
		ps_di_cstr(it, k ? "a_end" : "a_start", b);
	}
	ps_di_str(it, "a_perms", (const char *)sqlite3_column_text(q, 3),
		  (size_t)sqlite3_column_bytes(q, 3));
}

/* Columns of each side in the maps comparison: start end perms offset inode
 * path present swapped soft_dirty */
#define MC 9

/* Mappings are paired by (pid, start); what is left is paired by (pid, end,
 * path, inode, perms) - a mapping that grew downwards keeps its end.  A pair
 * whose file, inode or offset differ, or whose range and permissions both
 * changed, is one removal and one addition; otherwise a new start or end is
 * "resized", new permissions "reprotected".  A mapping
 * of A left unpaired but inside a B mapping of the same file and
 * permissions was "merged" into it (a neighbour filled the gap); any other
 * unpaired one was "removed", an unpaired B mapping "added".  Page counts
 * are compared only when both sides have them (a NULL never reads as "zero
 * pages"). */
static int compare_maps(struct dctx *c)
{
	sqlite3_stmt *q;
	if (ps_dx_exec(
		c, "CREATE INDEX maps_s ON maps(side, pid, start);"
		   "CREATE INDEX maps_e ON maps(side, pid, end);"
		   "CREATE TABLE mpair(xr INTEGER PRIMARY KEY, yr INT UNIQUE);"
		   "INSERT OR IGNORE INTO mpair SELECT x.rowid, y.rowid FROM maps x JOIN maps y "
		   "ON y.side = 1 AND y.pid = x.pid AND y.start = x.start WHERE x.side = 0;"
		   "INSERT OR IGNORE INTO mpair SELECT x.rowid, y.rowid FROM maps x JOIN maps y "
		   "ON y.side = 1 AND y.pid = x.pid AND y.end = x.end AND y.path = x.path AND "
		   "y.inode IS x.inode AND y.perms = x.perms WHERE x.side = 0 AND x.rowid NOT IN "
		   "(SELECT xr FROM "
		   "mpair) AND y.rowid NOT IN (SELECT yr FROM mpair WHERE yr IS NOT NULL);") < 0 ||
	    ps_dx_prep(
		c, &q,
		"SELECT x.pid, x.start, x.end, x.perms, x.offset, x.inode, x.path, x.present, "
		"x.swapped, x.soft_dirty, y.start, y.end, y.perms, y.offset, y.inode, y.path, "
		"y.present, y.swapped, y.soft_dirty, y.start AS k, 0 "
		"FROM mpair p JOIN maps x ON x.rowid = p.xr JOIN maps y ON y.rowid = p.yr "
		"WHERE x.start IS NOT y.start OR x.end IS NOT y.end OR x.perms IS NOT y.perms "
		"OR x.offset IS NOT y.offset OR x.inode IS NOT y.inode OR x.path IS NOT y.path "
		"UNION ALL "
		"SELECT x.pid, x.start, x.end, x.perms, x.offset, x.inode, x.path, x.present, "
		"x.swapped, x.soft_dirty, y.start, y.end, y.perms, y.offset, y.inode, y.path, "
		"y.present, y.swapped, y.soft_dirty, x.start, 1 FROM maps x "
		"LEFT JOIN maps y ON y.rowid = (SELECT z.rowid FROM maps z WHERE z.side = 1 AND "
		"z.pid = x.pid AND z.start <= x.start AND z.end >= x.end AND z.perms = x.perms "
		"AND z.path = x.path AND z.inode IS x.inode LIMIT 1) "
		"WHERE x.side = 0 AND x.rowid NOT IN (SELECT xr FROM mpair) "
		"UNION ALL "
		"SELECT y.pid, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, y.start, "
		"y.end, y.perms, y.offset, y.inode, y.path, y.present, y.swapped, "
		"y.soft_dirty, y.start, 2 FROM maps y WHERE y.side = 1 AND y.rowid NOT IN "
		"(SELECT yr FROM mpair WHERE yr IS NOT NULL) "
		"ORDER BY 1, 20, 21") < 0)
		return -1;
	while (sqlite3_step(q) == SQLITE_ROW) {
		int64_t pid = sqlite3_column_int64(q, 0);
		int kind = sqlite3_column_int(q, 20);
		int inb = sqlite3_column_type(q, 1 + MC) != SQLITE_NULL;
		if (kind != 0) {
			struct ditem *it = pitem(c, pid, S_MAPS);
			ps_di_cstr(it, "change", kind == 2 ? "added" : inb ? "merged" : "removed");
			map_fields(it, q, kind == 2 || inb ? 1 + MC : 1);
			if (kind == 1 && inb)
				map_was(it, q);
			continue;
		}
		/* one mapping changed in place: the same file, and either its
		 * range or its permissions changed, not both */
		int moved = !col_eq(q, 1, 1 + MC), grown = !col_eq(q, 2, 2 + MC);
		int same_obj = col_eq(q, 5, 5 + MC) && col_eq(q, 6, 6 + MC) &&
			       (moved || col_eq(q, 4, 4 + MC)) &&
			       (!(moved || grown) || col_eq(q, 3, 3 + MC));
		if (!same_obj) {
			struct ditem *it = pitem(c, pid, S_MAPS);
			ps_di_cstr(it, "change", "removed");
			map_fields(it, q, 1);
			it = pitem(c, pid, S_MAPS);
			ps_di_cstr(it, "change", "added");
			map_fields(it, q, 1 + MC);
			continue;
		}
		int resized = moved || grown, reprot = !col_eq(q, 3, 3 + MC);
		if (resized || reprot) {
			struct ditem *it = pitem(c, pid, S_MAPS);
			ps_di_cstr(it, "change", resized ? "resized" : "reprotected");
			map_fields(it, q, 1 + MC);
			map_was(it, q);
		}
	}
	sqlite3_finalize(q);
	return 0;
}

static int compare_env(struct dctx *c)
{
	sqlite3_stmt *q;
	/* A name set twice in one environ keeps its first value (getenv's view). */
	if (ps_dx_exec(c, "CREATE TABLE envu AS SELECT side, pid, name, value FROM env WHERE rowid "
			  "IN (SELECT min(rowid) FROM env GROUP BY side, pid, name);"
			  "CREATE INDEX envu_k ON envu(side, pid, name)") < 0 ||
	    ps_dx_prep(c, &q,
		       "SELECT x.pid, x.name, x.value, y.value, x.name AS k FROM envu x "
		       "LEFT JOIN envu y ON y.side = 1 AND y.pid = x.pid AND y.name = x.name "
		       "WHERE x.side = 0 AND x.value IS NOT y.value "
		       "UNION ALL SELECT y.pid, y.name, NULL, y.value, y.name FROM envu y "
		       "WHERE y.side = 1 AND NOT EXISTS (SELECT 1 FROM envu x WHERE x.side = 0 AND "
		       "x.pid = y.pid AND x.name = y.name) ORDER BY 1, 5") < 0)
		return -1;
	while (sqlite3_step(q) == SQLITE_ROW) {
		struct ditem *it = pitem(c, sqlite3_column_int64(q, 0), S_ENV);
		int ina = sqlite3_column_type(q, 2) != SQLITE_NULL;
		int inb = sqlite3_column_type(q, 3) != SQLITE_NULL;
		ps_di_str(it, "name", (const char *)sqlite3_column_text(q, 1),
			  (size_t)sqlite3_column_bytes(q, 1));
		ps_di_cstr(it, "change", !ina ? "added" : !inb ? "removed" : "changed");
		ps_di_str(it, "a", ina ? (const char *)sqlite3_column_text(q, 2) : NULL,
			  (size_t)sqlite3_column_bytes(q, 2));
		ps_di_str(it, "b", inb ? (const char *)sqlite3_column_text(q, 3) : NULL,
			  (size_t)sqlite3_column_bytes(q, 3));
	}
	sqlite3_finalize(q);
	return 0;
}

static int compare_limits(struct dctx *c)
{
	sqlite3_stmt *q;
	if (ps_dx_prep(
		c, &q,
		"SELECT x.pid, x.name, x.soft, x.hard, y.soft, y.hard, coalesce(nullif(y.units, "
		"''), x.units) FROM limits x JOIN limits y ON y.side = 1 AND y.pid = x.pid AND "
		"y.name = x.name WHERE x.side = 0 AND (x.soft IS NOT y.soft OR x.hard IS NOT "
		"y.hard) GROUP BY x.pid, x.name ORDER BY x.pid, min(x.rowid)") < 0)
		return -1;
	while (sqlite3_step(q) == SQLITE_ROW) {
		struct ditem *it = pitem(c, sqlite3_column_int64(q, 0), S_LIMITS);
		static const char *const nm[] = {"name",   "a_soft", "a_hard",
						 "b_soft", "b_hard", "units"};
		for (int k = 0; k < 6; k++)
			ps_di_str(it, nm[k], (const char *)sqlite3_column_text(q, 1 + k),
				  (size_t)sqlite3_column_bytes(q, 1 + k));
	}
	sqlite3_finalize(q);
	return 0;
}

/* Members readable on one side only, and listed directories that vanished. */
static void report_notes(struct dctx *c)
{
	struct procs_state *s = state(c);
	for (size_t i = 0; i < c->npaths; i++) {
		const struct dpath *p = &c->paths[i];
		if (p->pid < 0 || p->role != R_NOTE)
			continue;
		const struct phdr *h = find_hdr(s, p->pid);
		int bad = p->kind[0] && strcmp(p->kind[0], "absent") == 0 ? 0 : 1;
		if (h && h->partial[bad])
			continue; /* the process was exiting: said once in its header */
		struct ditem *it = pitem(c, p->pid, S_NOTES);
		struct ps_buf t = PS_BUF_INIT;
		ps_buf_addf(&t, "%s: not readable in %s (%s)", rel_of(p), side_name(bad),
			    p->err[bad] ? p->err[bad] : "absent");
		ps_di_str(it, "note", t.buf, t.len);
		ps_buf_release(&t);
	}
}

static void report_se(struct dctx *c)
{
	struct procs_state *s = state(c);
	for (size_t i = 0; i < s->nse; i++) {
		struct pse *e = &s->se[i];
		const char *role = own_role(c, e);
		if (role) {
			struct ps_diff *d = c->d;
			d->own = ps_xrealloc(d->own, (d->nown + 1) * sizeof(*d->own));
			struct downp *o = &d->own[d->nown++];
			o->side = e->side;
			o->pid = e->pid;
			o->role = role;
			o->name = e->name ? ps_xstrdup(e->name) : NULL;
			o->cmdline = e->cmdline ? ps_xstrdup(e->cmdline) : NULL;
			continue;
		}
		if (!c->o->all && e->ppid == 2 && !e->exe && is_kworker_name(e->name)) {
			c->d->hid.workers++;
			continue;
		}
		struct ditem *it = ps_di_new(c->d, e->side ? G_STARTED : G_EXITED, e->pid, 0);
		ps_di_int(it, "pid", e->pid);
		if (e->starttime >= 0)
			ps_di_int(it, "starttime", e->starttime);
		else
			ps_di_null(it, "starttime");
		ps_di_cstr(it, "name", e->name);
		if (e->ppid >= 0)
			ps_di_int(it, "ppid", e->ppid);
		else
			ps_di_null(it, "ppid");
		if (e->uid >= 0)
			ps_di_int(it, "uid", e->uid);
		else
			ps_di_null(it, "uid");
		ps_di_cstr(it, "exe", e->exe);
		ps_di_cstr(it, "cmdline", e->cmdline);
		ps_di_bool(it, "partial", e->partial);
		ps_di_bool(it, "hidden", e->hidden);
	}
}

static void fill_headers(struct dctx *c)
{
	struct procs_state *s = state(c);
	for (size_t i = 0; i < c->d->np; i++) {
		struct dproc *d = &c->d->procs[i];
		const struct phdr *h = find_hdr(s, d->pid);
		if (!h)
			continue;
		d->starttime = h->starttime;
		d->partial_a = h->partial[0];
		d->partial_b = h->partial[1];
		d->name = h->name ? ps_xstrdup(h->name) : NULL;
		const char *exe = h->exe[1] ? h->exe[1] : h->exe[0];
		d->exe = exe ? ps_xstrdup(exe) : NULL;
	}
}

int ps_dx_procs_report(struct dctx *c)
{
	if (create_work_tables(c) < 0 || fill_from_tables(c) < 0 || fill_small(c) < 0)
		return -1;
	report_se(c);
	if (compare_ident(c) < 0 || compare_fds(c) < 0 || compare_maps(c) < 0 ||
	    compare_threads(c) < 0 || compare_env(c) < 0 || compare_limits(c) < 0)
		return -1;
	for (size_t i = 0; i < c->npaths; i++) {
		const struct dpath *p = &c->paths[i];
		const struct ps_buf *a, *b;
		if (p->pid >= 0 && p->role == R_PAGES && (a = ps_dx_content(c, p, 0)) &&
		    (b = ps_dx_content(c, p, 1)) && ps_dx_pages_report(c, p->pid, a, b) < 0)
			return -1;
	}
	report_notes(c);
	fill_headers(c);
	return 0;
}
