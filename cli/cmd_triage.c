/*
 * cmd_triage.c - `procsnap triage`: the incident-response rule pack over one
 * or more snapshots.
 *
 * The rules are schema/rules/<id>.sql, embedded in the binary with the
 * schema (cmake/embed.cmake: ps_schema_files, names "rules/...").  Each
 * starts with "-- key: value" headers (id, severity, title, description,
 * attack: MITRE ATT&CK ids or "none", optional reference; an indented
 * "--   text" line continues the previous one), then ONE read-only SELECT
 * whose rows are the findings, with at least the columns snapshot_id, pid
 * (NULL for a system finding) and detail, and optionally name; other columns
 * are kept in the JSON output.
 *
 * The snapshots are opened exactly as `query` opens them (cli_snaps_open),
 * so a rule sees one index, a merged index or the UNION ALL views of several
 * indexes alike; rules join on snapshot_id as well as pid.
 */
#include "cli.h"

#include "common.h"
#include "store.h"

#include <getopt.h>
#include <math.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct ps_sql_file {
	const char *name;
	const char *sql;
};
extern const struct ps_sql_file ps_schema_files[];

enum { SEV_INFO, SEV_LOW, SEV_MEDIUM, SEV_HIGH, SEV_N };
static const char *const sev_names[SEV_N] = {"info", "low", "medium", "high"};

static const char triage_help[] =
    "usage: procsnap triage [--format table|csv|json] [--rule ID]... [--min-severity LEVEL]\n"
    "                       SNAP...\n"
    "       procsnap triage --list [--format table|csv|json]\n"
    "Run the incident-response rule pack (deleted and memfd executables, code in temp\n"
    "dirs, rwx anonymous memory, LD_PRELOAD, ptrace, disguised names, hidden pids, kernel\n"
    "taint and modules, listeners, cross-views of the process table, masked pids, code\n"
    "patched in place, hidden sockets and modules, eBPF...) over one or more snapshots\n"
    "(archives or indexes, opened read-only, as `query` does), and print the findings\n"
    "grouped by rule, most severe first, then a one-line summary.  Every rule names the\n"
    "MITRE ATT&CK techniques it detects.\n"
    "  -f, --format FMT        table (default), csv (one row per finding; the summary\n"
    "                          goes to stderr) or json (one document)\n"
    "  -r, --rule ID           run only this rule (repeatable)\n"
    "  -s, --min-severity LVL  info, low (default), medium or high: rules below LVL are\n"
    "                          not run.  info rules (context: partial captures, exposed\n"
    "                          listeners) always run and are printed, but count only\n"
    "                          with --min-severity info\n"
    "  -l, --list              print the rules (id, severity, MITRE ATT&CK ids, title)\n"
    "                          and exit\n"
    "procsnap -v triage also prints each rule's description and the rules that found\n"
    "nothing.  Exit 0 no counted finding, 1 findings, 2 trouble.\n";

struct rule {
	const char *file; /* "rules/<id>.sql" */
	const char *sql;
	char *id, *title, *description, *reference;
	char *attack; /* MITRE ATT&CK technique ids, "T1055, T1620", or "none" */
	int sev;
};

struct finding {
	long long snapshot_id;
	int has_pid;
	long long pid;
	char *name;   /* NULL if none */
	char *detail; /* never NULL */
	char *json;   /* the whole row as a JSON object */
};

/* ---- the rule pack ---------------------------------------------------------- */

static int sev_parse(const char *s)
{
	for (int i = 0; i < SEV_N; i++)
		if (strcmp(s, sev_names[i]) == 0)
			return i;
	return -1;
}

static void rule_free(struct rule *r)
{
	free(r->id);
	free(r->title);
	free(r->description);
	free(r->reference);
	free(r->attack);
}

/* "-- attack:" is "none" or technique ids ("T1055" or "T1055.008")
 * separated by ", ".  1 if well formed. */
static int attack_ok(const char *a)
{
	if (strcmp(a, "none") == 0)
		return 1;
	for (const char *p = a;;) {
		if (p[0] != 'T' || strspn(p + 1, "0123456789") != 4)
			return 0;
		p += 5;
		if (p[0] == '.') {
			if (strspn(p + 1, "0123456789") != 3)
				return 0;
			p += 4;
		}
		if (!*p)
			return 1;
		if (p[0] != ',' || p[1] != ' ')
			return 0;
		p += 2;
	}
}

/* The technique ids of r as a JSON array. */
static void attack_json(struct ps_json *j, const struct rule *r)
{
	ps_json_arr(j);
	if (strcmp(r->attack, "none") != 0) {
		for (const char *p = r->attack; *p;) {
			size_t n = strcspn(p, ",");
			ps_json_str(j, p, n);
			p += n;
			while (*p == ',' || *p == ' ')
				p++;
		}
	}
	ps_json_arr_end(j);
}

/* Parse the header comments of one rule file into r.  0, or -1 with msg. */
static int rule_parse(struct rule *r, const char *file, const char *sql, struct ps_buf *msg)
{
	static const char *const keys[] = {"id",	  "severity",  "title",
					   "description", "reference", "attack"};
	enum { NKEYS = sizeof(keys) / sizeof(keys[0]) };
	struct ps_buf val[NKEYS];
	int have[NKEYS] = {0}, cur = -1, rc = -1;
	for (int k = 0; k < NKEYS; k++)
		ps_buf_init(&val[k]);
	memset(r, 0, sizeof(*r));
	r->file = file;
	r->sql = sql;
	for (const char *p = sql; *p;) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		const char *next = eol ? eol + 1 : p + len;
		if (len == 0 || (len == 1 && p[0] == '\r')) {
			p = next;
			continue;
		}
		if (len < 2 || p[0] != '-' || p[1] != '-')
			break;
		const char *c = p + 2, *end = p + len;
		while (end > c && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
			end--;
		size_t indent = 0;
		while (c + indent < end && c[indent] == ' ')
			indent++;
		int k = -1;
		if (indent == 1) {
			for (int i = 0; i < NKEYS; i++) {
				size_t kl = strlen(keys[i]);
				if ((size_t)(end - c - 1) > kl &&
				    strncmp(c + 1, keys[i], kl) == 0 && c[1 + kl] == ':') {
					k = i;
					c += 2 + kl;
					break;
				}
			}
		}
		while (c < end && (*c == ' ' || *c == '\t'))
			c++;
		if (k >= 0) {
			if (have[k]) {
				ps_buf_addf(msg, "%s: header '%s' given twice", file, keys[k]);
				goto out;
			}
			have[k] = 1;
			cur = k;
			ps_buf_add(&val[k], c, (size_t)(end - c));
		} else if (indent >= 2 && cur >= 0 && c < end) {
			ps_buf_addc(&val[cur], ' ');
			ps_buf_add(&val[cur], c, (size_t)(end - c));
		} else {
			cur = -1;
		}
		p = next;
	}
	for (int k = 0; k < NKEYS; k++) {
		if (k != 4 && (!have[k] || val[k].len == 0)) { /* reference is optional */
			ps_buf_addf(msg, "%s: no '-- %s:' header", file, keys[k]);
			goto out;
		}
	}
	if (!attack_ok(val[5].buf)) {
		ps_buf_addf(msg, "%s: attack '%s' is not 'none' or ATT&CK ids (T1055, T1055.008)",
			    file, val[5].buf);
		goto out;
	}
	r->sev = sev_parse(val[1].buf);
	if (r->sev < 0) {
		ps_buf_addf(msg, "%s: severity '%s' is not one of info, low, medium, high", file,
			    val[1].buf);
		goto out;
	}
	/* The id names the file: `--rule ID` and the file agree. */
	const char *base = file + 6;
	size_t bl = strlen(base);
	if (bl < 5 || strcmp(base + bl - 4, ".sql") != 0 || bl - 4 != val[0].len ||
	    strncmp(base, val[0].buf, val[0].len) != 0 ||
	    strspn(val[0].buf, "abcdefghijklmnopqrstuvwxyz0123456789-") != val[0].len) {
		ps_buf_addf(msg, "%s: id '%s' must be the file name, in [a-z0-9-]", file,
			    val[0].buf);
		goto out;
	}
	r->id = ps_buf_detach(&val[0], NULL);
	r->title = ps_buf_detach(&val[2], NULL);
	r->description = ps_buf_detach(&val[3], NULL);
	r->reference = have[4] ? ps_buf_detach(&val[4], NULL) : NULL;
	r->attack = ps_buf_detach(&val[5], NULL);
	rc = 0;
out:
	for (int k = 0; k < NKEYS; k++)
		ps_buf_release(&val[k]);
	return rc;
}

static int rule_cmp(const void *a, const void *b)
{
	const struct rule *x = a, *y = b;
	if (x->sev != y->sev)
		return y->sev - x->sev;
	return strcmp(x->id, y->id);
}

/* Every embedded rule, most severe first.  NULL on a malformed rule. */
static struct rule *rules_load(size_t *n)
{
	struct rule *v = ps_xcalloc(1, sizeof(*v));
	struct ps_buf msg = PS_BUF_INIT;
	*n = 0;
	for (const struct ps_sql_file *f = ps_schema_files; f->name; f++) {
		if (strncmp(f->name, "rules/", 6) != 0)
			continue;
		v = ps_xrealloc(v, (*n + 1) * sizeof(*v));
		if (rule_parse(&v[*n], f->name, f->sql, &msg) < 0) {
			cli_fail("triage", "built-in rule %s", msg.buf);
			goto fail;
		}
		(*n)++;
	}
	qsort(v, *n, sizeof(*v), rule_cmp);
	for (size_t i = 1; i < *n; i++) {
		if (strcmp(v[i - 1].id, v[i].id) == 0) {
			cli_fail("triage", "built-in rule id %s given twice", v[i].id);
			goto fail;
		}
	}
	ps_buf_release(&msg);
	return v;
fail:
	for (size_t i = 0; i < *n; i++)
		rule_free(&v[i]);
	free(v);
	ps_buf_release(&msg);
	return NULL;
}

/* ---- running a rule --------------------------------------------------------- */

static char *column_dup(sqlite3_stmt *st, int c)
{
	if (c < 0 || sqlite3_column_type(st, c) == SQLITE_NULL)
		return NULL;
	const char *s = (const char *)sqlite3_column_text(st, c);
	return s ? ps_xstrndup(s, (size_t)sqlite3_column_bytes(st, c)) : NULL;
}

static void findings_free(struct finding *f, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(f[i].name);
		free(f[i].detail);
		free(f[i].json);
	}
	free(f);
}

/* Run rule r; its rows into *out.  0, or -1 (message printed). */
static int rule_run(sqlite3 *db, const struct rule *r, struct finding **out, size_t *nout)
{
	sqlite3_stmt *st = NULL, *extra = NULL;
	const char *tail = NULL;
	*out = NULL;
	*nout = 0;
	const char *why = NULL;
	ps_db_guard(db, 1, &why);
	int prc = sqlite3_prepare_v2(db, r->sql, -1, &st, &tail);
	if (prc != SQLITE_OK || !st) {
		ps_db_guard(db, 0, NULL);
		cli_fail("triage", "rule %s: %s", r->id,
			 why		    ? why
			 : st		    ? sqlite3_errmsg(db)
			 : prc != SQLITE_OK ? sqlite3_errmsg(db)
					    : "no statement");
		sqlite3_finalize(st);
		return -1;
	}
	/* exactly one statement, and one that cannot write */
	int more =
	    tail && *tail && sqlite3_prepare_v2(db, tail, -1, &extra, NULL) == SQLITE_OK && extra;
	ps_db_guard(db, 0, NULL);
	sqlite3_finalize(extra);
	if (more || !sqlite3_stmt_readonly(st)) {
		cli_fail("triage", "rule %s: must be one read-only SELECT", r->id);
		sqlite3_finalize(st);
		return -1;
	}
	int ncol = sqlite3_column_count(st), c_snap = -1, c_pid = -1, c_name = -1, c_detail = -1;
	for (int c = 0; c < ncol; c++) {
		const char *nm = sqlite3_column_name(st, c);
		if (!nm)
			continue;
		if (strcmp(nm, "snapshot_id") == 0 && c_snap < 0)
			c_snap = c;
		else if (strcmp(nm, "pid") == 0 && c_pid < 0)
			c_pid = c;
		else if (strcmp(nm, "name") == 0 && c_name < 0)
			c_name = c;
		else if (strcmp(nm, "detail") == 0 && c_detail < 0)
			c_detail = c;
	}
	if (c_snap < 0 || c_pid < 0 || c_detail < 0) {
		cli_fail("triage", "rule %s: needs the columns snapshot_id, pid and detail", r->id);
		sqlite3_finalize(st);
		return -1;
	}
	struct finding *v = NULL;
	size_t n = 0, cap = 0;
	struct ps_buf jb = PS_BUF_INIT;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		PS_XGROW(v, n, cap, 16);
		struct finding *f = &v[n++];
		f->snapshot_id = sqlite3_column_int64(st, c_snap);
		f->has_pid = sqlite3_column_type(st, c_pid) != SQLITE_NULL;
		f->pid = f->has_pid ? sqlite3_column_int64(st, c_pid) : 0;
		f->name = column_dup(st, c_name);
		f->detail = column_dup(st, c_detail);
		if (!f->detail)
			f->detail = ps_xstrdup("");
		ps_buf_reset(&jb);
		cli_json_row(&jb, st);
		f->json = ps_xstrndup(jb.buf, jb.len);
	}
	ps_buf_release(&jb);
	if (rc != SQLITE_DONE) {
		cli_fail("triage", "rule %s: %s", r->id, sqlite3_errmsg(db));
		sqlite3_finalize(st);
		findings_free(v, n);
		return -1;
	}
	sqlite3_finalize(st);
	*out = v;
	*nout = n;
	return 0;
}

/* ---- output ----------------------------------------------------------------- */

struct cell {
	char *s;
	size_t w;
};

static struct cell mkcell(const char *s)
{
	struct cell c;
	c.s = cli_table_cell((const unsigned char *)s, strlen(s), &c.w);
	return c;
}

static void pad(size_t n)
{
	for (size_t i = 0; i < n; i++)
		fputc(' ', stdout);
}

static void print_rule_table(const struct rule *r, const struct finding *f, size_t n, int verbose)
{
	printf("[%s] %s - %s: ", sev_names[r->sev], r->id, r->title);
	if (n == 0)
		printf("none\n");
	else
		printf("%zu finding%s\n", n, n == 1 ? "" : "s");
	if (verbose >= 2)
		printf("  %s\n  ATT&CK: %s\n", r->description, r->attack);
	if (n == 0) {
		if (verbose >= 2)
			fputc('\n', stdout);
		return;
	}
	struct cell *cells = ps_xcalloc(4 * (n + 1), sizeof(*cells));
	size_t w[4] = {0, 0, 0, 0};
	const char *hdr[4] = {"snapshot", "pid", "name", "detail"};
	char num[32];
	for (int k = 0; k < 4; k++)
		cells[k] = mkcell(hdr[k]);
	for (size_t i = 0; i < n; i++) {
		struct cell *row = &cells[4 * (i + 1)];
		snprintf(num, sizeof(num), "%lld", f[i].snapshot_id);
		row[0] = mkcell(num);
		if (f[i].has_pid)
			snprintf(num, sizeof(num), "%lld", f[i].pid);
		else
			snprintf(num, sizeof(num), "-");
		row[1] = mkcell(num);
		row[2] = mkcell(f[i].name ? f[i].name : "-");
		row[3] = mkcell(f[i].detail);
	}
	for (size_t i = 0; i <= n; i++)
		for (int k = 0; k < 4; k++)
			if (cells[4 * i + k].w > w[k])
				w[k] = cells[4 * i + k].w;
	for (size_t i = 0; i <= n; i++) {
		const struct cell *row = &cells[4 * i];
		fputs("  ", stdout);
		for (int k = 0; k < 4; k++) {
			if (k < 2) { /* numbers: right-aligned */
				pad(w[k] - row[k].w);
				fputs(row[k].s, stdout);
				fputs("  ", stdout);
			} else if (k == 2) {
				fputs(row[k].s, stdout);
				pad(w[k] - row[k].w + 2);
			} else {
				fputs(row[k].s, stdout);
			}
		}
		fputc('\n', stdout);
	}
	fputc('\n', stdout);
	for (size_t i = 0; i < 4 * (n + 1); i++)
		free(cells[i].s);
	free(cells);
}

static void print_rule_csv(const struct rule *r, const struct finding *f, size_t n, int term)
{
	for (size_t i = 0; i < n; i++) {
		printf("%s,%s,%lld,", r->id, sev_names[r->sev], f[i].snapshot_id);
		if (f[i].has_pid)
			printf("%lld", f[i].pid);
		fputc(',', stdout);
		if (f[i].name)
			cli_csv_field(f[i].name, strlen(f[i].name), term);
		fputc(',', stdout);
		cli_csv_field(f[i].detail, strlen(f[i].detail), term);
		fputs("\r\n", stdout);
	}
}

/* The rule's fields, inside an open object. */
static void json_rule_head(struct ps_json *j, const struct rule *r)
{
	ps_json_key(j, "id");
	ps_json_strz(j, r->id);
	ps_json_key(j, "severity");
	ps_json_strz(j, sev_names[r->sev]);
	ps_json_key(j, "title");
	ps_json_strz(j, r->title);
	ps_json_key(j, "description");
	ps_json_strz(j, r->description);
	ps_json_key(j, "reference");
	ps_json_strz(j, r->reference);
	ps_json_key(j, "attack");
	attack_json(j, r);
}

static void print_rule_json(struct ps_json *j, const struct rule *r, const struct finding *f,
			    size_t n)
{
	ps_json_obj(j);
	json_rule_head(j, r);
	ps_json_key(j, "findings");
	ps_json_arr_lines(j);
	for (size_t i = 0; i < n; i++)
		ps_json_raw(j, f[i].json);
	ps_json_arr_end(j);
	ps_json_obj_end(j);
}

static int list_rules(const struct rule *v, size_t n, enum fmt fmt)
{
	if (fmt == FMT_JSON) {
		struct ps_buf b = PS_BUF_INIT;
		struct ps_json j;
		ps_json_init(&j, &b);
		ps_json_arr_lines(&j);
		for (size_t i = 0; i < n; i++) {
			ps_json_obj(&j);
			json_rule_head(&j, &v[i]);
			ps_json_obj_end(&j);
		}
		ps_json_arr_end(&j);
		ps_buf_addc(&b, '\n');
		fwrite(b.buf, 1, b.len, stdout);
		ps_buf_release(&b);
		return 0;
	}
	if (fmt == FMT_CSV) {
		fputs("id,severity,title,description,reference,attack\r\n", stdout);
		for (size_t i = 0; i < n; i++) {
			printf("%s,%s,", v[i].id, sev_names[v[i].sev]);
			cli_csv_field(v[i].title, strlen(v[i].title), 0);
			fputc(',', stdout);
			cli_csv_field(v[i].description, strlen(v[i].description), 0);
			fputc(',', stdout);
			if (v[i].reference)
				cli_csv_field(v[i].reference, strlen(v[i].reference), 0);
			fputc(',', stdout);
			cli_csv_field(v[i].attack, strlen(v[i].attack), 0);
			fputs("\r\n", stdout);
		}
		return 0;
	}
	size_t wid = 2, aw = 6;
	for (size_t i = 0; i < n; i++) {
		if (strlen(v[i].id) > wid)
			wid = strlen(v[i].id);
		if (strlen(v[i].attack) > aw)
			aw = strlen(v[i].attack);
	}
	printf("%-*s  %-8s  %-*s  %s\n", (int)wid, "id", "severity", (int)aw, "attack", "title");
	for (size_t i = 0; i < n; i++)
		printf("%-*s  %-8s  %-*s  %s\n", (int)wid, v[i].id, sev_names[v[i].sev], (int)aw,
		       v[i].attack, v[i].title);
	return 0;
}

/* Snapshot ids, archive names and hosts: a legend (table), or a JSON array. */
static int snapshots_out(sqlite3 *db, enum fmt fmt, struct ps_json *j)
{
	sqlite3_stmt *st;
	int n = 0;
	if (sqlite3_prepare_v2(db,
			       "SELECT snapshot_id, archive_name, hostname FROM snapshots "
			       "ORDER BY snapshot_id",
			       -1, &st, NULL) != SQLITE_OK) {
		cli_fail("triage", "%s", sqlite3_errmsg(db));
		return -1;
	}
	struct ps_buf legend = PS_BUF_INIT;
	ps_json_arr(j);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *a = (const char *)sqlite3_column_text(st, 1);
		const char *h = (const char *)sqlite3_column_text(st, 2);
		long long id = sqlite3_column_int64(st, 0);
		ps_json_obj(j);
		ps_json_key(j, "snapshot_id");
		ps_json_int(j, id);
		ps_json_key(j, "archive_name");
		ps_json_strz(j, a);
		ps_json_key(j, "hostname");
		ps_json_strz(j, h);
		ps_json_obj_end(j);
		ps_buf_addf(&legend, "snapshot %lld: ", id);
		ps_buf_add_terms(&legend, a ? a : "?");
		ps_buf_adds(&legend, " (host ");
		ps_buf_add_terms(&legend, h ? h : "?");
		ps_buf_adds(&legend, ")\n");
		n++;
	}
	ps_json_arr_end(j);
	sqlite3_finalize(st);
	if (fmt == FMT_TABLE && n > 1)
		printf("%s\n", legend.buf);
	ps_buf_release(&legend);
	return n;
}

/*
 * Run the rules marked in run[] over db and print their findings in fmt,
 * grouped by rule, then the summary.  JSON is built in *jb: with stream it
 * is written to stdout as each rule finishes, else the whole document is
 * left in *jb.  Returns the exit status: 0, 1 (findings at or above
 * min_sev), 2 (a rule failed).
 */
static int run_pack(sqlite3 *db, const struct rule *rules, size_t nrules, const char *run,
		    int min_sev, enum fmt fmt, int verbosity, struct ps_buf *jb, int stream)
{
	/* JSON: one document, {"snapshots": [...], "rules": [...], "summary":
	 * {...}}. */
	struct ps_json j;
	ps_json_init(&j, jb);
	ps_json_obj_lines(&j);
	ps_json_key(&j, "snapshots");
	int nsnapshots = snapshots_out(db, fmt, &j);
	if (nsnapshots < 0)
		return 2;
	ps_json_key(&j, "rules");
	ps_json_arr_lines(&j);
	int term = fmt == FMT_CSV && isatty(STDOUT_FILENO); /* see cli_csv_field */
	if (fmt == FMT_CSV)
		fputs("rule,severity,snapshot_id,pid,name,detail\r\n", stdout);

	size_t per_sev[SEV_N] = {0, 0, 0, 0}, total = 0, counted = 0, nrun = 0;
	int failed = 0;
	for (size_t i = 0; i < nrules; i++) {
		if (!run[i])
			continue;
		const struct rule *r = &rules[i];
		struct finding *f;
		size_t n;
		nrun++;
		if (rule_run(db, r, &f, &n) < 0) {
			failed = 1;
			continue;
		}
		per_sev[r->sev] += n;
		total += n;
		if (r->sev >= min_sev)
			counted += n;
		if (fmt == FMT_TABLE && (n > 0 || verbosity >= 2))
			print_rule_table(r, f, n, verbosity);
		else if (fmt == FMT_CSV)
			print_rule_csv(r, f, n, term);
		else if (fmt == FMT_JSON)
			print_rule_json(&j, r, f, n);
		if (fmt == FMT_JSON && stream) {
			fwrite(jb->buf, 1, jb->len, stdout);
			ps_buf_reset(jb);
		}
		findings_free(f, n);
	}
	struct ps_buf sum = PS_BUF_INIT;
	if (total)
		ps_buf_addf(&sum, "%zu finding%s (%zu high, %zu medium, %zu low, %zu info)", total,
			    total == 1 ? "" : "s", per_sev[SEV_HIGH], per_sev[SEV_MEDIUM],
			    per_sev[SEV_LOW], per_sev[SEV_INFO]);
	else
		ps_buf_adds(&sum, "no findings");
	ps_buf_addf(&sum, " from %zu rule%s over %d snapshot%s; %zu at or above %s", nrun,
		    nrun == 1 ? "" : "s", nsnapshots, nsnapshots == 1 ? "" : "s", counted,
		    sev_names[min_sev]);
	if (failed)
		ps_buf_adds(&sum, "; some rules FAILED");
	if (fmt == FMT_TABLE)
		printf("%s\n", sum.buf);
	else if (fmt == FMT_CSV && verbosity >= 1)
		fprintf(stderr, "procsnap: triage: %s\n", sum.buf);
	if (fmt == FMT_JSON) {
		ps_json_arr_end(&j);
		ps_json_key(&j, "summary");
		ps_json_obj(&j);
		static const char *const keys[SEV_N] = {"info", "low", "medium", "high"};
		ps_json_key(&j, "findings");
		ps_json_int(&j, (int64_t)total);
		for (int k = SEV_N - 1; k >= 0; k--) {
			ps_json_key(&j, keys[k]);
			ps_json_int(&j, (int64_t)per_sev[k]);
		}
		ps_json_key(&j, "counted");
		ps_json_int(&j, (int64_t)counted);
		ps_json_key(&j, "min_severity");
		ps_json_strz(&j, sev_names[min_sev]);
		ps_json_key(&j, "rules");
		ps_json_int(&j, (int64_t)nrun);
		ps_json_key(&j, "snapshots");
		ps_json_int(&j, nsnapshots);
		ps_json_key(&j, "failed");
		ps_json_bool(&j, failed);
		ps_json_obj_end(&j);
		ps_json_obj_end(&j);
		ps_buf_addc(jb, '\n');
		if (stream)
			fwrite(jb->buf, 1, jb->len, stdout);
	}
	ps_buf_release(&sum);
	return failed ? 2 : counted ? 1 : 0;
}

int cli_triage_json(sqlite3 *db, struct ps_buf *out)
{
	size_t nrules;
	struct rule *rules = rules_load(&nrules);
	if (!rules)
		return 2;
	char *run = ps_xmalloc(nrules ? nrules : 1);
	memset(run, 1, nrules ? nrules : 1);
	int rc = run_pack(db, rules, nrules, run, SEV_LOW, FMT_JSON, 1, out, 0);
	for (size_t i = 0; i < nrules; i++)
		rule_free(&rules[i]);
	free(rules);
	free(run);
	return rc;
}

/* ---- the command ------------------------------------------------------------ */

int cmd_triage(const struct ps_cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {{"format", required_argument, NULL, 'f'},
						 {"rule", required_argument, NULL, 'r'},
						 {"min-severity", required_argument, NULL, 's'},
						 {"list", no_argument, NULL, 'l'},
						 {"help", no_argument, NULL, 'h'},
						 {NULL, 0, NULL, 0}};
	enum fmt fmt = FMT_TABLE;
	int list = 0, min_sev = SEV_LOW, c;
	char **want = NULL;
	size_t nwant = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "f:r:s:lh", longopts, NULL)) != -1) {
		if (c == 'f') {
			if (cli_parse_format(optarg, &fmt) < 0) {
				free(want);
				return cli_usage("triage", "unknown format '%s' (table, csv, json)",
						 optarg);
			}
		} else if (c == 'r') {
			want = ps_xrealloc(want, (nwant + 1) * sizeof(*want));
			want[nwant++] = optarg;
		} else if (c == 's') {
			min_sev = sev_parse(optarg);
			if (min_sev < 0) {
				free(want);
				return cli_usage("triage",
						 "unknown severity '%s' (info, low, medium, high)",
						 optarg);
			}
		} else if (c == 'l') {
			list = 1;
		} else if (c == 'h') {
			free(want);
			fputs(triage_help, stdout);
			return 0;
		} else {
			free(want);
			return cli_bad_option("triage", "f:r:s:lh", longopts, argv);
		}
	}
	int nsnap = argc - optind;
	if (!list && nsnap < 1) {
		free(want);
		return cli_usage("triage", "expects SNAP...");
	}
	if (list && nsnap > 0) {
		free(want);
		return cli_usage("triage", "--list takes no SNAP");
	}
	size_t nrules;
	struct rule *rules = rules_load(&nrules);
	if (!rules) {
		free(want);
		return 2;
	}
	int rc = 2;
	char *run = ps_xcalloc(nrules ? nrules : 1, 1);
	for (size_t i = 0; i < nrules; i++)
		run[i] = nwant == 0;
	for (size_t k = 0; k < nwant; k++) {
		size_t i = 0;
		while (i < nrules && strcmp(rules[i].id, want[k]) != 0)
			i++;
		if (i == nrules) {
			cli_usage("triage", "no rule '%s' (procsnap triage --list)", want[k]);
			goto out;
		}
		run[i] = 1;
	}
	if (list) {
		rc = list_rules(rules, nrules, fmt);
		goto out;
	}
	for (size_t i = 0; i < nrules; i++)
		if (rules[i].sev != SEV_INFO && rules[i].sev < min_sev)
			run[i] = 0;

	struct cli_snaps ss;
	if (cli_snaps_open("triage", nsnap, argv + optind, &ss) != 0)
		goto out;
	struct ps_buf jb = PS_BUF_INIT;
	rc = run_pack(ss.db, rules, nrules, run, min_sev, fmt, cli->verbosity, &jb, 1);
	ps_buf_release(&jb);
	cli_snaps_close(&ss);
out:
	for (size_t i = 0; i < nrules; i++)
		rule_free(&rules[i]);
	free(rules);
	free(run);
	free(want);
	return rc;
}
