/*
 * render.c - write a diff result as text (for people) or JSON (one document,
 * schema/diff.schema.json).  The items are already in output order; this
 * file only formats.  Everything that came from a snapshot is escaped on the
 * way out: control bytes and bytes that are not UTF-8 never reach a terminal
 * raw (a hostile comm or file could otherwise carry escape sequences).
 */
#include "diff_int.h"

#include <inttypes.h>
#include <string.h>
#include <time.h>

/* ---- shared --------------------------------------------------------------------- */

/* Printable text: common's terminal escaping (ps_buf_add_term). */
static void tx(struct ps_buf *b, const char *s, size_t n)
{
	ps_buf_add_term(b, s, n);
}

static void txs(struct ps_buf *b, const char *s)
{
	if (s)
		tx(b, s, strlen(s));
	else
		ps_buf_adds(b, "-");
}

static void txv(struct ps_buf *b, const struct dval *v)
{
	if (!v || v->t == DV_NULL)
		ps_buf_adds(b, "-");
	else if (v->t == DV_INT)
		ps_buf_addf(b, "%" PRId64, v->i);
	else if (v->t == DV_BOOL)
		ps_buf_adds(b, v->i ? "true" : "false");
	else
		tx(b, v->s, v->n);
}

static const char *sv(const struct ditem *it, const char *name)
{
	const struct dval *v = ps_di_get(it, name);
	return v && v->t == DV_STR ? v->s : NULL;
}

static int64_t iv(const struct ditem *it, const char *name, int64_t dflt)
{
	const struct dval *v = ps_di_get(it, name);
	return v && v->t == DV_INT ? v->i : dflt;
}

static int flush(FILE *out, struct ps_buf *b)
{
	if (b->len && fwrite(b->buf, 1, b->len, out) != b->len)
		return -1;
	ps_buf_reset(b);
	return 0;
}

static void when(char *out, size_t n, const struct snapinfo *s)
{
	if (!s->have_start) {
		snprintf(out, n, "?");
		return;
	}
	time_t t = (time_t)(s->start_ns / 1000000000);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ---- text ------------------------------------------------------------------------- */

struct colors {
	const char *add, *del, *chg, *head, *dim, *off;
};

static void text_header(struct ps_buf *b, const struct ps_diff *d, const struct colors *k)
{
	const struct snapinfo *s[2] = {&d->a, &d->b};
	for (int i = 0; i < 2; i++) {
		char w[64];
		when(w, sizeof(w), s[i]);
		ps_buf_addf(b, "%s%s %s: ", k->head, i ? "+++" : "---", i ? "B" : "A");
		txs(b, s[i]->label);
		ps_buf_adds(b, "  (host ");
		txs(b, s[i]->hostname);
		ps_buf_addf(b, ", %s", w);
		if (s[i]->have_nproc)
			ps_buf_addf(b, ", %" PRId64 " processes", s[i]->n_processes);
		ps_buf_addf(b, ")%s\n", k->off);
	}
	if (!d->same_boot) {
		ps_buf_addf(b, "%snote: different boots (A ", k->chg);
		txs(b, d->a.boot_id);
		ps_buf_adds(b, ", B ");
		txs(b, d->b.boot_id);
		ps_buf_addf(b,
			    "): no process is in both; all are reported as exited and "
			    "started%s\n",
			    k->off);
	}
	if (d->nown) {
		ps_buf_adds(b, "note: procsnap's own processes left out:");
		for (size_t i = 0; i < d->nown; i++) {
			const struct downp *o = &d->own[i];
			ps_buf_addf(b, "%s %s %" PRId64 " ", i ? "," : "", o->side ? "B" : "A",
				    o->pid);
			txs(b, o->name);
			ps_buf_addf(b, " (%s)", o->role);
		}
		ps_buf_addc(b, '\n');
	}
}

/* "N thing" or "N things" */
static void count_of(struct ps_buf *b, int *first, uint64_t n, const char *one, const char *many)
{
	if (!n)
		return;
	ps_buf_addf(b, "%s%" PRIu64 " %s", *first ? "" : ", ", n, n == 1 ? one : many);
	*first = 0;
}

/* The last lines: what the options left out. */
static void text_hidden(struct ps_buf *b, const struct ps_diff *d)
{
	const struct dhidden *h = &d->hid;
	int first = 1;
	count_of(b, &first, h->counter_files, "counter file", "counter files");
	count_of(b, &first, h->page_ranges, "page range under the threshold",
		 "page ranges under the threshold");
	if (!first)
		ps_buf_adds(b, " (--counters)");
	int f2 = 1;
	struct ps_buf t = PS_BUF_INIT;
	count_of(&t, &f2, h->volatile_files, "volatile file", "volatile files");
	count_of(&t, &f2, h->volatile_rows, "socket connection", "socket connections");
	count_of(&t, &f2, h->dropped_files, "file changed only in lines that move by themselves",
		 "files changed only in lines that move by themselves");
	count_of(&t, &f2, h->workers, "kernel worker thread started or exited",
		 "kernel worker threads started or exited");
	count_of(&t, &f2, h->worker_names, "kernel worker renamed", "kernel workers renamed");
	if (!f2) {
		if (!first)
			ps_buf_adds(b, "; ");
		ps_buf_add(b, t.buf, t.len);
		ps_buf_adds(b, " (--all)");
	}
	ps_buf_release(&t);
}

static void text_se(struct ps_buf *b, const struct ditem *it, const struct colors *k)
{
	int start = it->group == G_STARTED;
	ps_buf_addf(b, "  %s%c %-7" PRId64 "%s ", start ? k->add : k->del, start ? '+' : '-',
		    iv(it, "pid", -1), k->off);
	txs(b, sv(it, "name"));
	ps_buf_adds(b, "  uid ");
	txv(b, ps_di_get(it, "uid"));
	ps_buf_adds(b, " ppid ");
	txv(b, ps_di_get(it, "ppid"));
	ps_buf_adds(b, " start ");
	txv(b, ps_di_get(it, "starttime"));
	if (sv(it, "exe")) {
		ps_buf_adds(b, "  ");
		txs(b, sv(it, "exe"));
	}
	const char *cl = sv(it, "cmdline");
	if (cl && *cl) {
		ps_buf_adds(b, "  [");
		const struct dval *v = ps_di_get(it, "cmdline");
		tx(b, v->s, v->n > 160 ? 160 : v->n);
		ps_buf_adds(b, v->n > 160 ? "...]" : "]");
	}
	if (ps_di_get(it, "partial") && ps_di_get(it, "partial")->i)
		ps_buf_adds(b, "  (partial)");
	if (ps_di_get(it, "hidden") && ps_di_get(it, "hidden")->i)
		ps_buf_adds(b, "  (HIDDEN)");
	ps_buf_addc(b, '\n');
}

static void human(struct ps_buf *b, int64_t v)
{
	char h[32];
	uint64_t a = v < 0 ? (uint64_t)(-(v + 1)) + 1 : (uint64_t)v;
	ps_human_bytes(h, sizeof(h), a);
	ps_buf_addf(b, "%s%s", v < 0 ? "-" : "", h);
}

/* A mapping's file, or [anon]. */
static void map_path(struct ps_buf *b, const struct ditem *it)
{
	const char *p = sv(it, "path");
	if (p && *p)
		txs(b, p);
	else
		ps_buf_adds(b, "[anon]");
}

static void text_map(struct ps_buf *b, const struct ditem *it)
{
	ps_buf_addf(b, "%s-%s ", sv(it, "start") ? sv(it, "start") + 2 : "?",
		    sv(it, "end") ? sv(it, "end") + 2 : "?");
	txs(b, sv(it, "perms"));
	ps_buf_adds(b, " ");
	human(b, iv(it, "size", 0));
	ps_buf_adds(b, " ");
	map_path(b, it);
}

static void text_proc_item(struct ps_buf *b, const struct ditem *it, const struct colors *k)
{
	const char *ch = sv(it, "change");
	switch (it->sec) {
	case S_IDENTITY:
		ps_buf_addf(b, "    %s~ %s%s: ", k->chg, sv(it, "field"), k->off);
		txv(b, ps_di_get(it, "a"));
		ps_buf_adds(b, " -> ");
		txv(b, ps_di_get(it, "b"));
		break;
	case S_MEMORY:
		ps_buf_addf(b, "    %s~ %s%s: ", k->chg, sv(it, "field"), k->off);
		human(b, iv(it, "a", 0));
		ps_buf_adds(b, " -> ");
		human(b, iv(it, "b", 0));
		ps_buf_adds(b, " (");
		if (iv(it, "delta", 0) >= 0)
			ps_buf_addc(b, '+');
		human(b, iv(it, "delta", 0));
		ps_buf_adds(b, ")");
		break;
	case S_FDS:
		if (ch && strcmp(ch, "opened") == 0) {
			ps_buf_addf(b, "    %s+ fd %" PRId64 "%s ", k->add, iv(it, "fd", -1),
				    k->off);
			txs(b, sv(it, "b"));
		} else if (ch && strcmp(ch, "closed") == 0) {
			ps_buf_addf(b, "    %s- fd %" PRId64 "%s ", k->del, iv(it, "fd", -1),
				    k->off);
			txs(b, sv(it, "a"));
		} else {
			ps_buf_addf(b, "    %s~ fd %" PRId64 "%s ", k->chg, iv(it, "fd", -1),
				    k->off);
			txs(b, sv(it, "a"));
			ps_buf_adds(b, " -> ");
			txs(b, sv(it, "b"));
		}
		break;
	case S_MAPS: {
		int add = ch && strcmp(ch, "added") == 0, del = ch && strcmp(ch, "removed") == 0;
		ps_buf_addf(b, "    %s%c map%s ",
			    add	  ? k->add
			    : del ? k->del
				  : k->chg,
			    add	  ? '+'
			    : del ? '-'
				  : '~',
			    k->off);
		text_map(b, it);
		if (!add && !del) {
			ps_buf_addf(b, "  (%s, was ", ch ? ch : "?");
			if (ch && (strcmp(ch, "resized") == 0 || strcmp(ch, "merged") == 0)) {
				txs(b, sv(it, "a_start") ? sv(it, "a_start") + 2 : NULL);
				ps_buf_adds(b, "-");
				txs(b, sv(it, "a_end") ? sv(it, "a_end") + 2 : NULL);
				ps_buf_adds(b, " ");
			}
			txs(b, sv(it, "a_perms"));
			ps_buf_adds(b, ")");
		}
		if (ps_di_get(it, "present"))
			ps_buf_addf(b, "  %" PRId64 " pages present", iv(it, "present", 0));
		break;
	}
	case S_PAGES: {
		/* "~ pages START-END SIZE in rw-p [anon] MAPSTART-MAPEND: 64 resident, ..." */
		ps_buf_addf(b, "    %s~ pages%s %s-%s ", k->chg, k->off,
			    sv(it, "start") ? sv(it, "start") + 2 : "?",
			    sv(it, "end") ? sv(it, "end") + 2 : "?");
		human(b, iv(it, "size", 0));
		ps_buf_adds(b, " in ");
		txs(b, sv(it, "perms"));
		ps_buf_adds(b, " ");
		map_path(b, it);
		ps_buf_addf(b, " %s-%s:", sv(it, "map_start") ? sv(it, "map_start") + 2 : "?",
			    sv(it, "map_end") ? sv(it, "map_end") + 2 : "?");
		static const char *const pk[] = {"resident", "evicted", "swapped_out", "swapped_in",
						 "dirtied"};
		static const char *const pt[] = {"resident", "evicted", "swapped out", "swapped in",
						 "dirtied"};
		int first = 1;
		for (int i = 0; i < 5; i++) {
			int64_t v = iv(it, pk[i], 0);
			if (!v)
				continue;
			ps_buf_addf(b, "%s %" PRId64 " %s", first ? "" : ",", v, pt[i]);
			first = 0;
		}
		break;
	}
	case S_THREADS: {
		int add = ch && strcmp(ch, "started") == 0;
		ps_buf_addf(b, "    %s%c thread %" PRId64 "%s ", add ? k->add : k->del,
			    add ? '+' : '-', iv(it, "tid", -1), k->off);
		txs(b, sv(it, "name"));
		ps_buf_adds(b, "  start ");
		txv(b, ps_di_get(it, "starttime"));
		break;
	}
	case S_ENV: {
		int add = ch && strcmp(ch, "added") == 0, del = ch && strcmp(ch, "removed") == 0;
		ps_buf_addf(b, "    %s%c env%s ",
			    add	  ? k->add
			    : del ? k->del
				  : k->chg,
			    add	  ? '+'
			    : del ? '-'
				  : '~',
			    k->off);
		txs(b, sv(it, "name"));
		if (add || del) {
			ps_buf_adds(b, "=");
			txs(b, sv(it, add ? "b" : "a"));
		} else {
			ps_buf_adds(b, ": ");
			txs(b, sv(it, "a"));
			ps_buf_adds(b, " -> ");
			txs(b, sv(it, "b"));
		}
		break;
	}
	case S_LIMITS:
		ps_buf_addf(b, "    %s~ limit%s ", k->chg, k->off);
		txs(b, sv(it, "name"));
		ps_buf_adds(b, ": ");
		txs(b, sv(it, "a_soft"));
		ps_buf_adds(b, "/");
		txs(b, sv(it, "a_hard"));
		ps_buf_adds(b, " -> ");
		txs(b, sv(it, "b_soft"));
		ps_buf_adds(b, "/");
		txs(b, sv(it, "b_hard"));
		if (sv(it, "units") && *sv(it, "units")) {
			ps_buf_adds(b, " ");
			txs(b, sv(it, "units"));
		}
		break;
	case S_COUNTERS:
		ps_buf_addf(b, "    %s  %s%s: %" PRId64 " -> %" PRId64 " (%+" PRId64 ")", k->dim,
			    sv(it, "field"), k->off, iv(it, "a", 0), iv(it, "b", 0),
			    iv(it, "delta", 0));
		break;
	default:
		ps_buf_addf(b, "    %s! ", k->chg);
		txs(b, sv(it, "note"));
		ps_buf_adds(b, k->off);
		break;
	}
	ps_buf_addc(b, '\n');
}

static const struct dproc *find_proc(const struct ps_diff *d, int64_t pid)
{
	size_t lo = 0, hi = d->np;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (d->procs[mid].pid == pid)
			return &d->procs[mid];
		if (d->procs[mid].pid < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static void text_sys_item(struct ps_buf *b, const struct ditem *it, const struct colors *k)
{
	const char *ch = sv(it, "change");
	int add = ch && strcmp(ch, "added") == 0, del = ch && strcmp(ch, "removed") == 0;
	const char *col = add ? k->add : del ? k->del : k->chg;
	char tag = add ? '+' : del ? '-' : '~';
	switch (it->ftype) {
	case FT_KV:
		ps_buf_addf(b, "    %s%c %s", col, tag, k->off);
		txs(b, sv(it, "key"));
		ps_buf_adds(b, ": ");
		txv(b, ps_di_get(it, "a"));
		ps_buf_adds(b, " -> ");
		txv(b, ps_di_get(it, "b"));
		if (sv(it, "unit")) {
			ps_buf_adds(b, " ");
			txs(b, sv(it, "unit"));
		}
		if (ps_di_get(it, "delta")) {
			ps_buf_adds(b, " (");
			const struct dval *v = ps_di_get(it, "delta");
			if (v->t == DV_INT)
				ps_buf_addf(b, "%+" PRId64, v->i);
			else
				txv(b, v);
			ps_buf_adds(b, ")");
		}
		break;
	case FT_TABLE:
		ps_buf_addf(b, "    %s%c %s", col, tag, k->off);
		txs(b, sv(it, "key"));
		ps_buf_adds(b, "  ");
		if (add || del) {
			txs(b, sv(it, add ? "b" : "a"));
		} else {
			txs(b, sv(it, "a"));
			ps_buf_adds(b, " -> ");
			txs(b, sv(it, "b"));
		}
		break;
	case FT_TEXT: {
		const struct dval *v = ps_di_get(it, "diff");
		const char *s = v && v->s ? v->s : "";
		size_t n = v ? v->n : 0, pos = 0;
		while (pos < n) {
			const char *nl = memchr(s + pos, '\n', n - pos);
			size_t len = nl ? (size_t)(nl - (s + pos)) : n - pos;
			const char *c = s[pos] == '+'	? k->add
					: s[pos] == '-' ? k->del
					: s[pos] == '@' ? k->head
							: "";
			ps_buf_addf(b, "    %s", c);
			tx(b, s + pos, len);
			ps_buf_addf(b, "%s\n", *c ? k->off : "");
			pos += len + 1;
		}
		return;
	}
	default:
		ps_buf_addf(b, "    %s%c %s%s ", col, tag, ch ? ch : "?", k->off);
		if (!add) {
			txv(b, ps_di_get(it, "a"));
			if (!del)
				ps_buf_adds(b, " -> ");
		}
		if (!del)
			txv(b, ps_di_get(it, "b"));
		break;
	}
	ps_buf_addc(b, '\n');
}

int ps_diff_write_text(const struct ps_diff *d, FILE *out, int color)
{
	static const struct colors none = {"", "", "", "", "", ""};
	static const struct colors ansi = {"\033[32m", "\033[31m", "\033[33m",
					   "\033[1m",  "\033[2m",  "\033[0m"};
	const struct colors *k = color ? &ansi : &none;
	struct ps_buf b = PS_BUF_INIT;
	int rc = 0;
	text_header(&b, d, k);
	int group = -1;
	int64_t pid = -2;
	const char *file = NULL;
	size_t counts[4] = {0, 0, 0, 0};
	for (size_t i = 0; i < d->n; i++)
		counts[d->items[i].group]++;
	for (size_t i = 0; i < d->n && rc == 0; i++) {
		const struct ditem *it = &d->items[i];
		if ((int)it->group != group) {
			group = (int)it->group;
			if (group == G_STARTED)
				ps_buf_addf(&b, "\n%sProcesses started (%zu)%s\n", k->head,
					    counts[G_STARTED], k->off);
			else if (group == G_EXITED)
				ps_buf_addf(&b, "\n%sProcesses exited (%zu)%s\n", k->head,
					    counts[G_EXITED], k->off);
			else if (group == G_SYS)
				ps_buf_addf(&b, "\n%sSystem%s\n", k->head, k->off);
			pid = -2;
			file = NULL;
		}
		if (group == G_STARTED || group == G_EXITED) {
			text_se(&b, it, k);
		} else if (group == G_PROC) {
			if (it->pid != pid) {
				pid = it->pid;
				const struct dproc *p = find_proc(d, pid);
				ps_buf_addf(&b, "\n%sProcess %" PRId64 " ", k->head, pid);
				txs(&b, p ? p->name : NULL);
				ps_buf_addf(&b, "%s", k->off);
				if (p && p->exe) {
					ps_buf_adds(&b, "  ");
					txs(&b, p->exe);
				}
				if (p && p->starttime >= 0)
					ps_buf_addf(&b, "  (start %" PRId64 ")", p->starttime);
				if (p && (p->partial_a || p->partial_b))
					ps_buf_addf(&b, "  (partial in %s)",
						    p->partial_a && p->partial_b ? "A and B"
						    : p->partial_a		 ? "A"
										 : "B");
				ps_buf_addc(&b, '\n');
			}
			text_proc_item(&b, it, k);
		} else {
			if (!file || strcmp(file, it->file) != 0) {
				file = it->file;
				ps_buf_addf(&b, "  %s", k->head);
				txs(&b, file);
				if (it->ftype == FT_TABLE && it->tkey)
					ps_buf_addf(&b, "%s  (rows by %s)", k->off, it->tkey);
				ps_buf_addf(&b, "%s\n", k->off);
			}
			text_sys_item(&b, it, k);
		}
		if (b.len > 65536)
			rc = flush(out, &b);
	}
	if (rc == 0) {
		if (!d->n)
			ps_buf_adds(&b, "\nNo differences.\n");
		size_t mark = b.len;
		ps_buf_adds(&b, "\nNot shown: ");
		size_t start = b.len;
		text_hidden(&b, d);
		if (b.len == start) {
			b.len = mark;
			b.buf[mark] = '\0';
		} else {
			ps_buf_addc(&b, '\n');
		}
		rc = flush(out, &b);
	}
	ps_buf_release(&b);
	return rc;
}

/* ---- JSON -------------------------------------------------------------------------- */

static void js(struct ps_buf *b, const char *s)
{
	if (s)
		ps_buf_add_json(b, s, strlen(s));
	else
		ps_buf_adds(b, "null");
}

static void jv(struct ps_buf *b, const struct dval *v)
{
	if (!v || v->t == DV_NULL)
		ps_buf_adds(b, "null");
	else if (v->t == DV_INT)
		ps_buf_addf(b, "%" PRId64, v->i);
	else if (v->t == DV_BOOL)
		ps_buf_adds(b, v->i ? "true" : "false");
	else
		ps_buf_add_json(b, v->s, v->n);
}

static void jitem(struct ps_buf *b, const struct ditem *it)
{
	ps_buf_addc(b, '{');
	for (int i = 0; i < it->nf; i++) {
		if (i)
			ps_buf_adds(b, ", ");
		js(b, it->f[i].name);
		ps_buf_adds(b, ": ");
		jv(b, &it->f[i].v);
	}
	ps_buf_addc(b, '}');
}

static void jsnap(struct ps_buf *b, const char *name, const struct snapinfo *s)
{
	ps_buf_addf(b, "  \"%s\": {\"path\": ", name);
	js(b, s->label);
	ps_buf_adds(b, ", \"hostname\": ");
	js(b, s->hostname);
	ps_buf_adds(b, ", \"kernel_release\": ");
	js(b, s->kernel_release);
	ps_buf_adds(b, ", \"boot_id\": ");
	js(b, s->boot_id);
	ps_buf_adds(b, ", \"start_ns\": ");
	if (s->have_start)
		ps_buf_addf(b, "%" PRId64, s->start_ns);
	else
		ps_buf_adds(b, "null");
	ps_buf_adds(b, ", \"processes\": ");
	if (s->have_nproc)
		ps_buf_addf(b, "%" PRId64, s->n_processes);
	else
		ps_buf_adds(b, "null");
	ps_buf_adds(b, ", \"archive_sha256\": ");
	js(b, s->sha256);
	ps_buf_adds(b, "},\n");
}

static void jprocess_open(struct ps_buf *b, const struct ps_diff *d, int64_t pid, int first)
{
	const struct dproc *p = find_proc(d, pid);
	ps_buf_addf(b, "%s    {\"pid\": %" PRId64 ", \"starttime\": ", first ? "" : ",\n", pid);
	if (p && p->starttime >= 0)
		ps_buf_addf(b, "%" PRId64, p->starttime);
	else
		ps_buf_adds(b, "null");
	ps_buf_adds(b, ", \"name\": ");
	js(b, p ? p->name : NULL);
	ps_buf_adds(b, ", \"exe\": ");
	js(b, p ? p->exe : NULL);
	ps_buf_addf(b, ", \"partial_a\": %s, \"partial_b\": %s",
		    p && p->partial_a ? "true" : "false", p && p->partial_b ? "true" : "false");
}

int ps_diff_write_json(const struct ps_diff *d, FILE *out)
{
	struct ps_buf b = PS_BUF_INIT;
	static const char *const scopes[] = {"all", "processes", "system"};
	ps_buf_addf(&b, "{\n  \"procsnap_diff\": %d,\n", PS_DIFF_JSON_VERSION);
	jsnap(&b, "a", &d->a);
	jsnap(&b, "b", &d->b);
	ps_buf_addf(&b,
		    "  \"same_boot\": %s,\n  \"options\": {\"counters\": %s, \"all\": %s, "
		    "\"context\": %d, \"scope\": \"%s\"},\n  \"differences\": %zu,\n",
		    d->same_boot ? "true" : "false", d->counters ? "true" : "false",
		    d->all ? "true" : "false", d->context,
		    scopes[d->scope >= 0 && d->scope <= 2 ? d->scope : 0], d->n);
	const struct dhidden *hd = &d->hid;
	ps_buf_addf(&b,
		    "  \"hidden\": {\"counter_files\": %" PRIu64 ", \"page_ranges\": %" PRIu64
		    ", \"volatile_files\": %" PRIu64 ", \"connections\": %" PRIu64
		    ", \"dropped_line_files\": %" PRIu64 ", \"kernel_workers\": %" PRIu64
		    ", \"kernel_worker_renames\": %" PRIu64 "},\n  \"own_processes\": [",
		    hd->counter_files, hd->page_ranges, hd->volatile_files, hd->volatile_rows,
		    hd->dropped_files, hd->workers, hd->worker_names);
	for (size_t k = 0; k < d->nown; k++) {
		const struct downp *o = &d->own[k];
		ps_buf_addf(&b, "%s\n    {\"snapshot\": \"%s\", \"pid\": %" PRId64 ", \"role\": ",
			    k ? "," : "", o->side ? "b" : "a", o->pid);
		js(&b, o->role);
		ps_buf_adds(&b, ", \"name\": ");
		js(&b, o->name);
		ps_buf_adds(&b, ", \"cmdline\": ");
		js(&b, o->cmdline);
		ps_buf_adds(&b, "}");
	}
	ps_buf_adds(&b, d->nown ? "\n  ],\n  \"processes\": {\n" : "],\n  \"processes\": {\n");
	size_t i = 0;
	/* started, exited */
	static const char *const gname[2] = {"started", "exited"};
	for (int g = G_STARTED; g <= G_EXITED; g++) {
		ps_buf_addf(&b, "    \"%s\": [", gname[g]);
		int first = 1;
		for (; i < d->n && (int)d->items[i].group == g; i++) {
			ps_buf_adds(&b, first ? "\n      " : ",\n      ");
			jitem(&b, &d->items[i]);
			first = 0;
		}
		ps_buf_adds(&b, first ? "],\n" : "\n    ],\n");
	}
	/* changed processes: one object each, every section present */
	ps_buf_adds(&b, "    \"changed\": [\n");
	int firstp = 1;
	while (i < d->n && d->items[i].group == G_PROC) {
		int64_t pid = d->items[i].pid;
		jprocess_open(&b, d, pid, firstp);
		firstp = 0;
		for (int sec = 0; sec < S__N; sec++) {
			ps_buf_addf(&b, ",\n      \"%s\": [", ps_dsec_json[sec]);
			int first = 1;
			for (; i < d->n && d->items[i].group == G_PROC && d->items[i].pid == pid &&
			       d->items[i].sec == sec;
			     i++) {
				ps_buf_adds(&b, first ? "\n        " : ",\n        ");
				jitem(&b, &d->items[i]);
				first = 0;
			}
			ps_buf_adds(&b, first ? "]" : "\n      ]");
		}
		ps_buf_adds(&b, "}");
		if (b.len > 65536 && flush(out, &b) < 0)
			goto fail;
	}
	ps_buf_adds(&b, firstp ? "    ]\n  },\n" : "\n    ]\n  },\n");
	/* system files: one object per file */
	ps_buf_adds(&b, "  \"system\": [");
	int firstf = 1;
	while (i < d->n) {
		const struct ditem *h = &d->items[i];
		ps_buf_adds(&b, firstf ? "\n    {\"path\": " : ",\n    {\"path\": ");
		firstf = 0;
		js(&b, h->file);
		ps_buf_addf(&b, ", \"type\": \"%s\"", ps_dftype_json[h->ftype]);
		if (h->ftype == FT_TABLE) {
			ps_buf_adds(&b, ", \"key\": ");
			js(&b, h->tkey);
		}
		ps_buf_adds(&b, ", \"changes\": [");
		int first = 1;
		for (; i < d->n && strcmp(d->items[i].file, h->file) == 0; i++) {
			ps_buf_adds(&b, first ? "\n      " : ",\n      ");
			jitem(&b, &d->items[i]);
			first = 0;
		}
		ps_buf_adds(&b, "\n    ]}");
		if (b.len > 65536 && flush(out, &b) < 0)
			goto fail;
	}
	ps_buf_adds(&b, firstf ? "]\n}\n" : "\n  ]\n}\n");
	if (flush(out, &b) < 0)
		goto fail;
	ps_buf_release(&b);
	return 0;
fail:
	ps_buf_release(&b);
	return -1;
}
