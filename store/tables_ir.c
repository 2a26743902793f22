/*
 * tables_ir.c - the incident-response tables of issue 11 (schema/20_ir.sql):
 * pid_census, masked_pids, socket_inodes, bpf_objects, sys_modules,
 * process_cow_pages, process_mem_sections, and the columns they add to
 * processes (seen_by, argv0_is_exe), fds (protocol: process_open_files).
 *
 * Hooks (tables.c calls them; each is self-contained):
 *   ps_ir_wants            members whose content these tables need;
 *   ps_ir_other_member     procsnap/crossview.json, sys/module/...;
 *   ps_ir_fdinfo           fdinfo/N of an fd whose link is a bpf object;
 *   ps_ir_net_member       net/<file> of the current process: socket inodes;
 *   ps_ir_mem_sections     proc/<pid>/mem.sections;
 *   ps_ir_proc_flush       end of a process: COW'd code pages, socket inodes.
 * Hostile input: a member that does not parse gives no row, never an error;
 * only SQLite failures stop the build.
 */
#include "store.h"
#include "store_int.h"
#include "tables_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CROSSVIEW_PATH "procsnap/crossview.json" /* capture.h PS_CROSSVIEW_PATH */

struct pending_inode {
	uint64_t inode;
	const char *source; /* static string */
};

struct ps_ir {
	sqlite3_stmt *ins_bpf, *ins_sock, *ins_cow, *ins_mem, *ins_mod, *upd_mod;
	struct pending_inode *pi;
	size_t npi, cappi;
	struct ps_buf line;
};

/* clang-format off */
#define BPF_COLS(X)                                                                                \
	X(pid) X(fd) X(kind) X(prog_type) X(prog_type_name) X(prog_tag) X(prog_id) X(prog_jited)   \
	X(map_type) X(map_id) X(key_size) X(value_size) X(max_entries) X(link_type) X(link_id)     \
	X(attach_type) X(memlock) X(run_time_ns) X(run_cnt) X(verified_insns) X(fdinfo)
#define COW_COLS(X)                                                                                \
	X(pid) X(map_start) X(path) X(permissions) X(addr) X(addr_int) X(file_offset) X(swapped)
#define MEM_COLS(X) X(pid) X(start) X(start_int) X(pages) X(bytes) X(reason) X(data_off)
#define ENUM_B(n) B_##n,
#define ENUM_C(n) C_##n,
#define ENUM_MS(n) MS_##n,
#define NAME(n) #n,
enum { B_0, BPF_COLS(ENUM_B) };
enum { C_0, COW_COLS(ENUM_C) };
enum { MS_0, MEM_COLS(ENUM_MS) };
static const char *const bpf_cols[] = {BPF_COLS(NAME) NULL};
static const char *const cow_cols[] = {COW_COLS(NAME) NULL};
static const char *const mem_cols[] = {MEM_COLS(NAME) NULL};
static const char *const sock_cols[] = {"inode", "source", "net_namespace", "pid", NULL};
static const char *const mod_cols[] = {"name", "initstate", "taint", NULL};
/* clang-format on */

int ps_ir_wants(const char *path)
{
	if (strcmp(path, CROSSVIEW_PATH) == 0)
		return 1;
	if (strncmp(path, "sys/module/", 11) == 0)
		return 1;
	size_t n = strlen(path);
	return n > 13 && strncmp(path, "proc/", 5) == 0 &&
	       strcmp(path + n - 13, "/mem.sections") == 0;
}

int ps_ir_prepare(struct ps_tables *t, struct ps_err *err)
{
	struct ps_ir *ir = ps_xcalloc(1, sizeof(*ir));
	t->ir = ir;
	ps_buf_init(&ir->line);
	if (ps_tb_prepare(t, &ir->ins_bpf, "bpf_objects", bpf_cols, err) < 0 ||
	    ps_tb_prepare(t, &ir->ins_sock, "socket_inodes", sock_cols, err) < 0 ||
	    ps_tb_prepare(t, &ir->ins_cow, "process_cow_pages", cow_cols, err) < 0 ||
	    ps_tb_prepare(t, &ir->ins_mem, "process_mem_sections", mem_cols, err) < 0 ||
	    ps_tb_prepare(t, &ir->ins_mod, "sys_modules", mod_cols, err) < 0)
		return -1;
	if (sqlite3_prepare_v2(t->db,
			       "UPDATE sys_modules SET initstate = coalesce(?2, initstate), "
			       "taint = coalesce(?3, taint) WHERE snapshot_id = 1 AND name = ?1",
			       -1, &ir->upd_mod, NULL) != SQLITE_OK)
		return ps_sql_err(err, t->db, "sys_modules");
	return 0;
}

void ps_ir_finalize(struct ps_tables *t)
{
	struct ps_ir *ir = t->ir;
	if (!ir)
		return;
	sqlite3_stmt *sts[] = {ir->ins_bpf, ir->ins_sock, ir->ins_cow,
			       ir->ins_mem, ir->ins_mod,  ir->upd_mod};
	for (size_t i = 0; i < sizeof(sts) / sizeof(sts[0]); i++)
		sqlite3_finalize(sts[i]);
	free(ir->pi);
	ps_buf_release(&ir->line);
	free(ir);
	t->ir = NULL;
}

/* ---- procsnap/crossview.json -------------------------------------------------- */

/*
 * The member is read by ps_jr (common/json.c), once: a JSON text that does
 * not parse gives no rows.  Only typed values are taken (a pid must be a
 * JSON integer that fits in 64 bits), so a forged member with strings
 * where numbers belong gives no rows or NULLs, never an error; of a key
 * repeated in an object, and of a pid (a socket) listed twice, the first
 * counts.  (Through SQLite's json_each it parsed the 266 KB of N=2,000
 * seven times: ~60 ms at the end of every capture and rebuild.)
 */

/* A scalar as json_extract gives it to SQL: true 1, false 0, a container
 * its JSON text; text in cv->text at off. */
struct cv_val {
	uint32_t off, len; /* text: a member is at most 2 GiB (crossview() checks) */
	union {
		int64_t i;
		double d;
	};
	unsigned char type; /* enum ps_jtype */
};

struct cv_row {
	int64_t pid, b;	    /* processes: seen_by; argv0: same; sockets: fd */
	uint32_t seq;	    /* order in the member: the first of a pid counts */
	struct cv_val v[3]; /* unreachable: named_by, tid, view; masked: how, route,
			     * mount; sockets: proto; census: key, value */
};

enum { CV_CENSUS, CV_UNREACH, CV_MASKED, CV_ARGV0, CV_SOCK, CV_KV, CV_N };

struct cv {
	struct ps_buf text, key, str;
	size_t first_cap; /* rows a list starts with */
	struct cv_row *rows[CV_N];
	size_t n[CV_N], cap[CV_N];
};

static void cv_text(struct cv *c, struct cv_val *out, enum ps_jtype type, const char *t, size_t n)
{
	memset(out, 0, sizeof(*out));
	out->type = (unsigned char)type;
	out->off = (uint32_t)c->text.len;
	out->len = (uint32_t)n;
	ps_buf_add(&c->text, t, n);
}

/* The value at the cursor, the cursor past it. */
static void cv_take(struct cv *c, struct ps_jr *r, struct cv_val *out)
{
	struct ps_jval v;
	ps_jr_value(r, &v, &c->str);
	if (v.type == PS_JT_STR) {
		cv_text(c, out, v.type, v.s, v.n);
	} else if (v.type == PS_JT_ARR || v.type == PS_JT_OBJ) {
		cv_text(c, out, v.type, v.raw, v.raw_len);
	} else {
		memset(out, 0, sizeof(*out));
		out->type = (unsigned char)v.type;
		if (v.type == PS_JT_REAL)
			out->d = v.d;
		else
			out->i = v.type == PS_JT_TRUE ? 1 : v.i;
	}
}

static void cv_bind(sqlite3_stmt *st, int col, const struct cv *c, const struct cv_val *v)
{
	switch (v->type) {
	case PS_JT_INT:
	case PS_JT_TRUE:
	case PS_JT_FALSE:
		sqlite3_bind_int64(st, col, v->i);
		break;
	case PS_JT_REAL:
		sqlite3_bind_double(st, col, v->d);
		break;
	case PS_JT_STR:
	case PS_JT_ARR:
	case PS_JT_OBJ:
		sqlite3_bind_text(st, col, c->text.buf + v->off, (int)v->len, SQLITE_STATIC);
		break;
	default:
		sqlite3_bind_null(st, col);
		break;
	}
}

static struct cv_row *cv_add(struct cv *c, int list)
{
	if (c->n[list] == c->cap[list]) {
		c->cap[list] = c->cap[list] ? c->cap[list] * 2 : c->first_cap;
		c->rows[list] = ps_xrealloc(c->rows[list], c->cap[list] * sizeof(struct cv_row));
	}
	struct cv_row *w = &c->rows[list][c->n[list]];
	memset(w, 0, sizeof(*w));
	w->seq = (uint32_t)c->n[list]++;
	return w;
}

/* The element at the cursor, an array [a, b, ...] whose a and b are
 * integers: them, and the element at index want3 (-1: none) into *v3.
 * 0 if it is not such; the cursor past it either way. */
static int cv_tuple(struct cv *c, struct ps_jr *r, int64_t ints[2], int want3, struct cv_val *v3)
{
	if (ps_jr_peek(r) != PS_JT_ARR) {
		ps_jr_skip(r);
		return 0;
	}
	int nint = 0;
	ps_jr_enter(r);
	for (int k = 0; ps_jr_elem(r); k++) {
		if (k < 2) {
			struct ps_jval v;
			ps_jr_value(r, &v, &c->str);
			nint += v.type == PS_JT_INT;
			ints[k] = v.i;
		} else if (k == want3) {
			cv_take(c, r, v3);
		} else {
			ps_jr_skip(r);
		}
	}
	return nint == 2;
}

/* The element at the cursor, an object {"pid": integer, names[i]: ...}:
 * pid and the values of the names (NULL if absent).  0 if its pid is not
 * an integer; the cursor past it either way. */
static int cv_object(struct cv *c, struct ps_jr *r, const char *const names[3], int64_t *pid,
		     struct cv_val v[3])
{
	if (ps_jr_peek(r) != PS_JT_OBJ) {
		ps_jr_skip(r);
		return 0;
	}
	int have_pid = 0, pid_int = 0, seen[3] = {0, 0, 0};
	ps_jr_enter(r);
	while (ps_jr_key(r, &c->key)) {
		int k = -1;
		for (int i = 0; i < 3; i++)
			if (strcmp(c->key.buf, names[i]) == 0)
				k = i;
		if (!have_pid && strcmp(c->key.buf, "pid") == 0) {
			struct ps_jval pv;
			ps_jr_value(r, &pv, &c->str);
			have_pid = 1;
			pid_int = pv.type == PS_JT_INT;
			*pid = pv.i;
		} else if (k >= 0 && !seen[k]) {
			seen[k] = 1;
			cv_take(c, r, &v[k]);
		} else {
			ps_jr_skip(r);
		}
	}
	return pid_int;
}

static int cv_cmp(const void *pa, const void *pb)
{
	const struct cv_row *a = pa, *b = pb;
	if (a->pid != b->pid)
		return a->pid < b->pid ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static int cv_cmp_fd(const void *pa, const void *pb)
{
	const struct cv_row *a = pa, *b = pb;
	if (a->pid != b->pid)
		return a->pid < b->pid ? -1 : 1;
	if (a->b != b->b)
		return a->b < b->b ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* Sort a list by pid (and fd) and keep the first row of each. */
static void cv_unique(struct cv *c, int list, int by_fd)
{
	struct cv_row *w = c->rows[list];
	size_t n = c->n[list], k = 0;
	if (!n)
		return;
	qsort(w, n, sizeof(*w), by_fd ? cv_cmp_fd : cv_cmp);
	for (size_t i = 1; i < n; i++)
		if (w[i].pid != w[k].pid || (by_fd && w[i].b != w[k].b))
			w[++k] = w[i];
	c->n[list] = k + 1;
}

/* The elements (an array's, or an object's values) of the section at the
 * cursor into its list; the cursor past it. */
static void cv_section(struct cv *c, struct ps_jr *r, int s)
{
	static const char *const unr[3] = {"named_by", "tid", "view"};
	static const char *const msk[3] = {"how", "route", "mount"};
	int is_obj = ps_jr_peek(r) == PS_JT_OBJ;
	ps_jr_enter(r);
	while (is_obj ? ps_jr_key(r, &c->key) : ps_jr_elem(r)) {
		int64_t ints[2] = {0, 0}, pid = 0;
		struct cv_val v[3];
		memset(v, 0, sizeof(v));
		struct cv_row *w;
		switch (s) {
		case CV_CENSUS:
		case CV_ARGV0:
		case CV_SOCK:
			if (!cv_tuple(c, r, ints, s == CV_SOCK ? 3 : -1, &v[0]) ||
			    (s == CV_SOCK && v[0].type != PS_JT_STR))
				break;
			w = cv_add(c, s);
			w->pid = ints[0];
			w->b = ints[1];
			w->v[0] = v[0];
			break;
		case CV_UNREACH:
		case CV_MASKED:
			if (!cv_object(c, r, s == CV_UNREACH ? unr : msk, &pid, v))
				break;
			w = cv_add(c, s);
			w->pid = pid;
			memcpy(w->v, v, sizeof(v));
			break;
		default: /* census: the scalars, by key */
			if (!is_obj || ps_jr_peek(r) == PS_JT_ARR || ps_jr_peek(r) == PS_JT_OBJ) {
				ps_jr_skip(r);
				break;
			}
			w = cv_add(c, CV_KV);
			cv_text(c, &w->v[0], PS_JT_STR, c->key.buf ? c->key.buf : "", c->key.len);
			cv_take(c, r, &w->v[1]);
			break;
		}
	}
}

/* Read the member into c: 0, or -1 if it is not a JSON object. */
static int cv_read(struct cv *c, const char *data, size_t len)
{
	static const char *const secs[CV_N] = {"processes", "unreachable", "masked",
					       "argv0",	    "sockets",	   "census"};
	struct ps_jr r;
	if (ps_jr_open(&r, data, len) < 0 || ps_jr_peek(&r) != PS_JT_OBJ)
		return -1;
	int done[CV_N] = {0};
	ps_jr_enter(&r);
	while (ps_jr_key(&r, &c->key)) {
		int s = -1;
		for (int i = 0; i < CV_N; i++)
			if (strcmp(c->key.buf, secs[i]) == 0)
				s = i;
		enum ps_jtype t = ps_jr_peek(&r);
		/* of a name repeated, the first array or object is the section */
		if (s < 0 || done[s] || (t != PS_JT_ARR && t != PS_JT_OBJ)) {
			ps_jr_skip(&r);
			continue;
		}
		done[s] = 1;
		cv_section(c, &r, s == 5 ? CV_KV : s);
	}
	return 0;
}

static const char *const cv_views[] = {"listed", "opened", "task",     "swept",
				       "census", "children", "parent", "private"};

/* A statement run once per row of a list: bind(i) then step. */
static int cv_rows(struct ps_tables *t, const char *sql, struct cv *c, int list,
		   void (*bind)(sqlite3_stmt *, const struct cv *, const struct cv_row *, void *),
		   void *ctx, struct ps_err *err)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(t->db, sql, -1, &st, NULL) != SQLITE_OK)
		return ps_sql_err(err, t->db, "crossview");
	int rc = 0;
	for (size_t i = 0; i < c->n[list] && rc == 0; i++) {
		bind(st, c, &c->rows[list][i], ctx);
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = ps_sql_err(err, t->db, "crossview");
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
	}
	sqlite3_finalize(st);
	return rc;
}

/* pid_census: a census row, with what unreachable says of its pid */
static void bind_census(sqlite3_stmt *st, const struct cv *c, const struct cv_row *w, void *ctx)
{
	size_t *u = ctx; /* the next unreachable row (both lists sorted by pid) */
	char views[80] = "";
	size_t n = 0;
	for (int bit = 0; bit < 8; bit++)
		if (w->b & ((int64_t)1 << bit))
			n += (size_t)snprintf(views + n, sizeof(views) - n, "%s%s", n ? "," : "",
					      cv_views[bit]);
	sqlite3_bind_int64(st, 1, w->pid);
	sqlite3_bind_int64(st, 2, w->b);
	sqlite3_bind_text(st, 3, views, (int)n, SQLITE_TRANSIENT);
	while (*u < c->n[CV_UNREACH] && c->rows[CV_UNREACH][*u].pid < w->pid)
		(*u)++;
	const struct cv_row *x = *u < c->n[CV_UNREACH] ? &c->rows[CV_UNREACH][*u] : NULL;
	int unreachable = x && x->pid == w->pid;
	sqlite3_bind_int(st, 4, unreachable);
	for (int k = 0; k < 3 && unreachable; k++)
		cv_bind(st, 5 + k, c, &x->v[k]);
}

static void bind_masked(sqlite3_stmt *st, const struct cv *c, const struct cv_row *w, void *ctx)
{
	(void)ctx;
	sqlite3_bind_int64(st, 1, w->pid);
	for (int k = 0; k < 3; k++)
		cv_bind(st, 2 + k, c, &w->v[k]);
}

static void bind_pair(sqlite3_stmt *st, const struct cv *c, const struct cv_row *w, void *ctx)
{
	(void)ctx;
	sqlite3_bind_int64(st, 1, w->pid);
	sqlite3_bind_int64(st, 2, w->b);
	cv_bind(st, 3, c, &w->v[0]);
}

static void bind_kv(sqlite3_stmt *st, const struct cv *c, const struct cv_row *w, void *ctx)
{
	(void)ctx;
	cv_bind(st, 1, c, &w->v[0]);
	if (w->v[1].type == PS_JT_STR)
		cv_bind(st, 3, c, &w->v[1]); /* text; value NULL */
	else
		cv_bind(st, 2, c, &w->v[1]); /* text: CAST(value AS TEXT), as json_each */
}

static void cv_free(struct cv *c)
{
	ps_buf_release(&c->text);
	ps_buf_release(&c->key);
	ps_buf_release(&c->str);
	for (int i = 0; i < CV_N; i++)
		free(c->rows[i]);
}

static int crossview(struct ps_tables *t, const char *data, size_t len, struct ps_err *err)
{
	if (len > INT32_MAX)
		return 0; /* not one a capture writes: no rows */
	struct cv c;
	memset(&c, 0, sizeof(c));
	/* a list starts large enough for most of the member (an element takes
	 * 20 bytes or more): growing it by doubling faulted in fresh pages
	 * each time, which costs on a VM */
	c.first_cap = len / 32 + 64 < (1u << 18) ? len / 32 + 64 : (1u << 18);
	ps_buf_init(&c.text);
	ps_buf_init(&c.key);
	ps_buf_init(&c.str);
	if (cv_read(&c, data, len) < 0) {
		cv_free(&c);
		return 0; /* malformed: no rows */
	}
	cv_unique(&c, CV_CENSUS, 0);
	cv_unique(&c, CV_UNREACH, 0);
	cv_unique(&c, CV_ARGV0, 0);
	cv_unique(&c, CV_SOCK, 1);
	size_t u = 0;
	int rc = ps_tb_flush(t, err);
	if (rc == 0)
		rc = cv_rows(t,
			     "INSERT INTO pid_census(snapshot_id, pid, seen_by, views, unreachable, "
			     "named_by, named_by_tid, named_view) VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, "
			     "?7)",
			     &c, CV_CENSUS, bind_census, &u, err);
	if (rc == 0)
		rc = cv_rows(t,
			     "INSERT INTO masked_pids(snapshot_id, pid, how, route, mount) "
			     "VALUES (1, ?1, ?2, ?3, ?4)",
			     &c, CV_MASKED, bind_masked, NULL, err);
	/* processes.seen_by and argv0_is_exe, in one pass over processes */
	if (rc == 0)
		rc = ps_tb_exec(t,
				"CREATE TEMP TABLE ir_census(pid INTEGER PRIMARY KEY, seen_by INTEGER);"
				"CREATE TEMP TABLE ir_a0(pid INTEGER PRIMARY KEY, same INTEGER);"
				"CREATE TEMP TABLE ir_sock(pid INTEGER, fd INTEGER, proto TEXT, "
				"  PRIMARY KEY(pid, fd));",
				err);
	if (rc == 0)
		rc = cv_rows(t, "INSERT INTO temp.ir_census VALUES (?1, ?2)", &c, CV_CENSUS,
			     bind_pair, NULL, err);
	if (rc == 0)
		rc = cv_rows(t, "INSERT INTO temp.ir_a0 VALUES (?1, ?2)", &c, CV_ARGV0, bind_pair,
			     NULL, err);
	if (rc == 0)
		rc = cv_rows(t, "INSERT INTO temp.ir_sock VALUES (?1, ?2, ?3)", &c, CV_SOCK,
			     bind_pair, NULL, err);
	if (rc == 0)
		rc = cv_rows(t,
			     "INSERT INTO system_kv(snapshot_id, source, key, value, text, path) "
			     "VALUES (1, 'census', ?1, ?2, coalesce(?3, CAST(?2 AS TEXT)), "
			     "'" CROSSVIEW_PATH "')",
			     &c, CV_KV, bind_kv, NULL, err);
	cv_free(&c);
	if (rc == 0)
		rc = ps_tb_exec(
		    t,
		    "UPDATE processes SET seen_by = (SELECT seen_by FROM temp.ir_census c "
		    "  WHERE c.pid = processes.pid), argv0_is_exe = (SELECT same FROM temp.ir_a0 a "
		    "  WHERE a.pid = processes.pid) WHERE snapshot_id = 1;"
		    /* fds.protocol is NULL until here: the sockets listed are looked
		     * up by fds' key */
		    "UPDATE fds SET protocol = s.proto FROM temp.ir_sock s "
		    "  WHERE fds.pid = s.pid AND fds.snapshot_id = 1 AND fds.fd = s.fd "
		    "    AND fds.type_id IN (SELECT str_id FROM strings "
		    "    WHERE snapshot_id = 1 AND text = 'socket');"
		    "DROP TABLE temp.ir_census; DROP TABLE temp.ir_a0; DROP TABLE temp.ir_sock;",
		    err);
	return rc;
}

/* ---- sys/module ----------------------------------------------------------------- */

static int sysmod_member(struct ps_tables *t, const struct ps_rmember *m, struct ps_err *err)
{
	struct ps_ir *ir = t->ir;
	const char *name = m->path + 11; /* "sys/module/" */
	const char *slash = strchr(name, '/');
	if (!*name)
		return 0;
	if (!slash) {
		if (m->kind != PS_M_DIR)
			return 0;
		sqlite3_bind_text(ir->ins_mod, 1, name, -1, SQLITE_TRANSIENT);
		return ps_tb_step(t, ir->ins_mod, "sys_modules", err);
	}
	if (m->kind != PS_M_FILE || slash == name || strchr(slash + 1, '/'))
		return 0;
	int col = strcmp(slash + 1, "initstate") == 0 ? 2 : strcmp(slash + 1, "taint") == 0 ? 3 : 0;
	if (!col)
		return 0;
	const char *d = m->data;
	size_t n = m->len;
	while (n && (d[n - 1] == '\n' || d[n - 1] == ' '))
		n--;
	sqlite3_stmt *st = ir->upd_mod;
	sqlite3_bind_text(st, 1, name, (int)(slash - name), SQLITE_TRANSIENT);
	if (n)
		ps_tb_str(st, col, d, n);
	int r = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (r != SQLITE_DONE)
		return ps_sql_err(err, t->db, "sys_modules");
	if (sqlite3_changes(t->db) == 0) {
		/* a file without its directory member: a row of its own */
		sqlite3_bind_text(ir->ins_mod, 1, name, (int)(slash - name), SQLITE_TRANSIENT);
		if (n)
			ps_tb_str(ir->ins_mod, col, d, n);
		return ps_tb_step(t, ir->ins_mod, "sys_modules", err);
	}
	return 0;
}

int ps_ir_other_member(struct ps_tables *t, const struct ps_rmember *m, struct ps_err *err)
{
	if (m->kind == PS_M_FILE && strcmp(m->path, CROSSVIEW_PATH) == 0)
		return crossview(t, m->data, m->len, err);
	if (strncmp(m->path, "sys/module/", 11) == 0)
		return sysmod_member(t, m, err);
	return 0;
}

/* ---- bpf objects (fdinfo) -------------------------------------------------------- */

static void bind_num(sqlite3_stmt *st, int col, const struct ps_kv *kv)
{
	if (kv->has_num)
		ps_tb_u64(st, col, kv->num);
}

int ps_ir_fdinfo(struct ps_tables *t, int64_t fd, const char *target, size_t tlen, const char *data,
		 size_t len, struct ps_err *err)
{
	static const char pfx[] = "anon_inode:bpf";
	const char *kind = NULL;
	if (tlen < sizeof(pfx) || memcmp(target, pfx, sizeof(pfx) - 1) != 0)
		return 0;
	const char *k = target + sizeof(pfx) - 1;
	size_t kl = tlen - (sizeof(pfx) - 1);
	if (kl == 5 && memcmp(k, "-prog", 5) == 0)
		kind = "prog";
	else if (kl == 4 && memcmp(k, "-map", 4) == 0)
		kind = "map";
	else if (kl == 5 && (memcmp(k, "_link", 5) == 0 || memcmp(k, "-link", 5) == 0))
		kind = "link";
	if (!kind)
		return 0;
	struct ps_ir *ir = t->ir;
	sqlite3_stmt *st = ir->ins_bpf;
	ps_tb_i64(st, B_pid, t->p.pid);
	ps_tb_i64(st, B_fd, fd);
	sqlite3_bind_text(st, B_kind, kind, -1, SQLITE_STATIC);
	ps_buf_reset(&ir->line);
	size_t pos = 0;
	struct ps_kv kv;
	int r;
	while ((r = ps_kv_next(data, len, &pos, &kv)) != 0) {
		if (r < 0)
			continue;
		struct ps_str key = kv.key;
		if (ps_str_eq(key, "pos") || ps_str_eq(key, "flags") || ps_str_eq(key, "mnt_id") ||
		    ps_str_eq(key, "ino")) {
			continue;
		} else if (ps_str_eq(key, "prog_type")) {
			bind_num(st, B_prog_type, &kv);
		} else if (ps_str_eq(key, "prog_tag")) {
			ps_tb_slice(st, B_prog_tag, kv.value);
		} else if (ps_str_eq(key, "prog_id")) {
			bind_num(st, B_prog_id, &kv);
		} else if (ps_str_eq(key, "prog_jited")) {
			bind_num(st, B_prog_jited, &kv);
		} else if (ps_str_eq(key, "map_type")) {
			bind_num(st, B_map_type, &kv);
		} else if (ps_str_eq(key, "map_id")) {
			bind_num(st, B_map_id, &kv);
		} else if (ps_str_eq(key, "key_size")) {
			bind_num(st, B_key_size, &kv);
		} else if (ps_str_eq(key, "value_size")) {
			bind_num(st, B_value_size, &kv);
		} else if (ps_str_eq(key, "max_entries")) {
			bind_num(st, B_max_entries, &kv);
		} else if (ps_str_eq(key, "link_type")) {
			ps_tb_slice(st, B_link_type, kv.value);
		} else if (ps_str_eq(key, "link_id")) {
			bind_num(st, B_link_id, &kv);
		} else if (ps_str_eq(key, "attach_type")) {
			bind_num(st, B_attach_type, &kv);
		} else if (ps_str_eq(key, "memlock")) {
			bind_num(st, B_memlock, &kv);
		} else if (ps_str_eq(key, "run_time_ns")) {
			bind_num(st, B_run_time_ns, &kv);
		} else if (ps_str_eq(key, "run_cnt")) {
			bind_num(st, B_run_cnt, &kv);
		} else if (ps_str_eq(key, "verified_insns")) {
			bind_num(st, B_verified_insns, &kv);
		}
		if (ir->line.len)
			ps_buf_addc(&ir->line, '\n');
		ps_buf_add(&ir->line, key.p, key.len);
		ps_buf_adds(&ir->line, ": ");
		ps_buf_add(&ir->line, kv.value.p, kv.value.len);
	}
	ps_tb_str(st, B_fdinfo, ir->line.buf, ir->line.len);
	return ps_tb_step(t, st, "bpf_objects", err);
}

/* ---- socket inodes of the net/ tables --------------------------------------------- */

/* Socket inodes wait for the end of the process: ns/net comes after net/. */
static void pending(struct ps_ir *ir, uint64_t inode, const char *source)
{
	if (inode == PS_U64_UNKNOWN || inode == 0)
		return;
	PS_XGROW(ir->pi, ir->npi, ir->cappi, 256);
	ir->pi[ir->npi].inode = inode;
	ir->pi[ir->npi].source = source;
	ir->npi++;
}

/* The inode column of net/netlink and net/packet: the last field of each
 * line after the header. */
static void last_field_inodes(struct ps_ir *ir, const char *source, const char *data, size_t len)
{
	const char *p = data, *end = data + len;
	for (int first = 1; p < end; first = 0) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		const char *q = le;
		while (q > p && (q[-1] == ' ' || q[-1] == '\t' || q[-1] == '\r'))
			q--;
		const char *f = q;
		while (f > p && f[-1] >= '0' && f[-1] <= '9')
			f--;
		uint64_t v;
		if (!first && f < q && f > p && (f[-1] == ' ' || f[-1] == '\t') &&
		    ps_parse_u64(f, (size_t)(q - f), &v) == 0)
			pending(ir, v, source);
		p = le + 1;
	}
}

int ps_ir_net_member(struct ps_tables *t, const char *name, const char *data, size_t len)
{
	static const char *const inet[] = {"tcp",     "tcp6",	  "udp",  "udp6",  "raw", "raw6",
					   "udplite", "udplite6", "icmp", "icmp6", NULL};
	struct ps_ir *ir = t->ir;
	for (const char *const *n = inet; *n; n++) {
		if (strcmp(name, *n) != 0)
			continue;
		size_t pos = 0;
		struct ps_inet_sock s;
		int r;
		while ((r = ps_inet_next(data, len, &pos, &s)) != 0)
			if (r > 0)
				pending(ir, s.inode, *n);
		return 0;
	}
	if (strcmp(name, "unix") == 0) {
		size_t pos = 0;
		struct ps_unix_sock u;
		int r;
		while ((r = ps_unix_next(data, len, &pos, &u)) != 0)
			if (r > 0)
				pending(ir, u.inode, "unix");
		return 0;
	}
	if (strcmp(name, "netlink") == 0 || strcmp(name, "packet") == 0)
		last_field_inodes(ir, strcmp(name, "packet") == 0 ? "packet" : "netlink", data,
				  len);
	return 0;
}

/* ---- mem.sections -------------------------------------------------------------------- */

static uint64_t le64(const unsigned char *p)
{
	return (uint64_t)ps_le32(p) | (uint64_t)ps_le32(p + 4) << 32;
}

int ps_ir_mem_sections(struct ps_tables *t, const char *data, size_t len, struct ps_err *err)
{
	const unsigned char *b = (const unsigned char *)data;
	if (len < 16 || memcmp(b, "PSMS", 4) != 0 || ps_le32(b + 4) != 1)
		return 0;
	uint64_t ps = ps_le32(b + 8);
	if (ps < 512 || ps > (1u << 30) || (ps & (ps - 1)))
		return 0;
	sqlite3_stmt *st = t->ir->ins_mem;
	static const char *const reasons[] = {NULL, "cow", "anon-exec", "fileless"};
	char hex[24];
	for (size_t off = 16; off + 24 <= len;) {
		uint64_t start = le64(b + off), npages = le64(b + off + 8);
		uint32_t reason = ps_le32(b + off + 16);
		if (npages == 0 || npages > (len - off - 24) / ps || start > (uint64_t)INT64_MAX)
			break; /* malformed: the rest is not trusted */
		snprintf(hex, sizeof(hex), "0x%" PRIx64, start);
		ps_tb_i64(st, MS_pid, t->p.pid);
		sqlite3_bind_text(st, MS_start, hex, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, MS_start_int, (int64_t)start);
		sqlite3_bind_int64(st, MS_pages, (int64_t)npages);
		sqlite3_bind_int64(st, MS_bytes, (int64_t)(npages * ps));
		if (reason < sizeof(reasons) / sizeof(reasons[0]) && reasons[reason])
			sqlite3_bind_text(st, MS_reason, reasons[reason], -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, MS_data_off, (int64_t)(off + 24));
		if (ps_tb_step(t, st, "process_mem_sections", err) < 0)
			return -1;
		off += 24 + npages * ps;
	}
	return 0;
}

/* ---- end of a process ------------------------------------------------------------------ */

/* COW'd pages of the private executable file mappings: present with bit 61
 * (file page) clear, or swapped.  One merged pass over the mappings and the
 * sections (both ascending, a section inside one mapping). */
static int cow_pages(struct ps_tables *t, const char *maps, size_t mlen, const char *pm,
		     size_t plen, struct ps_err *err)
{
	struct ps_pagemap_hdr h;
	struct ps_pagemap_section s;
	if (ps_pagemap_open(pm, plen, &h) != 0)
		return 0;
	uint64_t ps = h.page_size;
	int have = ps_pagemap_next(&h, &s) == 1;
	size_t pos = 0;
	struct ps_map m;
	int rr;
	char start[24], addr[24];
	sqlite3_stmt *st = t->ir->ins_cow;
	while (have && (rr = ps_maps_next(maps, mlen, &pos, &m)) != 0) {
		if (rr < 0)
			continue;
		while (have && s.start + s.npages * ps <= m.start)
			have = ps_pagemap_next(&h, &s) == 1;
		int want =
		    m.perms[2] == 'x' && m.perms[3] == 'p' && m.path.len && m.path.p[0] == '/';
		for (; have && s.start < m.end; have = ps_pagemap_next(&h, &s) == 1) {
			for (uint64_t i = 0; want && i < s.npages; i++) {
				uint64_t a = s.start + i * ps, e = ps_pagemap_entry(&s, i);
				int cow = ((e & PS_PME_PRESENT) && !(e & PS_PME_FILE)) ||
					  (e & PS_PME_SWAPPED);
				if (!cow || a < m.start || a >= m.end || a > (uint64_t)INT64_MAX)
					continue;
				/* as process_memory_map.start: joins on it */
				snprintf(start, sizeof(start), "0x%08" PRIx64, m.start);
				snprintf(addr, sizeof(addr), "0x%" PRIx64, a);
				ps_tb_i64(st, C_pid, t->p.pid);
				sqlite3_bind_text(st, C_map_start, start, -1, SQLITE_TRANSIENT);
				ps_tb_slice(st, C_path, m.path);
				sqlite3_bind_text(st, C_permissions, m.perms, -1, SQLITE_TRANSIENT);
				sqlite3_bind_text(st, C_addr, addr, -1, SQLITE_TRANSIENT);
				sqlite3_bind_int64(st, C_addr_int, (int64_t)a);
				if (m.offset <= (uint64_t)INT64_MAX - (a - m.start))
					sqlite3_bind_int64(st, C_file_offset,
							   (int64_t)(m.offset + (a - m.start)));
				sqlite3_bind_int(st, C_swapped, (e & PS_PME_SWAPPED) != 0);
				if (ps_tb_step(t, st, "process_cow_pages", err) < 0)
					return -1;
			}
		}
	}
	return 0;
}

int ps_ir_proc_flush(struct ps_tables *t, struct ps_err *err)
{
	struct proc_state *p = &t->p;
	struct ps_ir *ir = t->ir;
	const struct ps_buf *maps = p->have_maps ? &p->maps : p->have_smaps ? &p->smaps : NULL;
	if (maps && p->have_pagemap &&
	    cow_pages(t, maps->buf, maps->len, p->pagemap.buf, p->pagemap.len, err) < 0)
		return -1;
	for (size_t i = 0; i < ir->npi; i++) {
		sqlite3_stmt *st = ir->ins_sock;
		ps_tb_u64(st, 1, ir->pi[i].inode);
		sqlite3_bind_text(st, 2, ir->pi[i].source, -1, SQLITE_STATIC);
		ps_tb_u64(st, 3, p->ns[NS_NET]);
		ps_tb_i64(st, 4, p->pid);
		if (ps_tb_step(t, st, "socket_inodes", err) < 0)
			return -1;
	}
	ir->npi = 0;
	if (ir->cappi > 65536) {
		free(ir->pi);
		ir->pi = NULL;
		ir->cappi = 0;
	}
	return 0;
}

/* After the last member: names from the reference views. */
int ps_ir_end(struct ps_tables *t, struct ps_err *err)
{
	return ps_tb_exec(
	    t,
	    "UPDATE bpf_objects SET prog_type_name = (SELECT name FROM ref_bpf_prog_types r "
	    "WHERE r.prog_type = bpf_objects.prog_type) "
	    "WHERE snapshot_id = 1 AND prog_type IS NOT NULL",
	    err);
}
