/*
 * sysfiles.c - the system part of the diff: files outside the pid
 * directories, plus net/ and mountinfo compared per namespace.
 *
 * Its class (diff/sysclass.conf, classes.c) decides whether a changed file
 * is shown: state always, counters with --counters, volatile with --all;
 * the hidden ones are counted and never read.  A shown regular file is
 * compared by what it is:
 *   key/value  (meminfo, vmstat, stat, loadavg, uptime, one-value files
 *              under sys/, net/snmp, net/netstat, net/snmp6, net/sockstat,
 *              pressure/..., and every counters file: net/dev, diskstats,
 *              net/stat/ tables, softirqs by column, "key n n n" as key[i]):
 *              per-key changes with numeric deltas;
 *   table      (modules, mounts, mountinfo, net/{tcp,udp,raw}[6],
 *              net/udplite[6], net/unix, net/packet, net/ipv6_route, swaps,
 *              cgroups, devices, filesystems, partitions, interrupts): rows
 *              added, removed or changed, keyed by their natural key (moving
 *              columns such as queue sizes, reference counts, "Used" or
 *              interrupt counts are left out of the row); socket rows that
 *              are connections, not listeners, only with --all;
 *   anything else: a unified text diff (binary content: its hashes).
 * Lines a drop rule names (cpuinfo's "cpu MHz") are left out first, unless
 * --all.
 * Paths present on one side only, links retargeted and files that became
 * (un)readable are reported as file events; the entries under a directory
 * that was added or removed are not listed one by one.
 */
#include "diff_int.h"

#include "procfs.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

enum srole { SR_IGNORE = 0, SR_FILE, SR_KV, SR_TABLE, SR_TEXT };

/* Display path ("meminfo", "net/tcp (net:[4026532999])") and the path the
 * --path globs see ("meminfo", "net/tcp"). */
static const char *sys_label(const struct dpath *p)
{
	if (p->label)
		return p->label;
	return strncmp(p->path, "proc/", 5) == 0 ? p->path + 5 : p->path;
}

static const char *sys_rel(const struct dpath *p)
{
	if (!p->ns_scoped)
		return sys_label(p);
	const char *r = p->path + 5;
	while (*r >= '0' && *r <= '9')
		r++;
	return *r == '/' ? r + 1 : r;
}

static int match(const char *rel, const char *const *names)
{
	for (; *names; names++)
		if (strcmp(rel, *names) == 0)
			return 1;
	return 0;
}

static const char *const kv_files[] = {"meminfo",      "vmstat",	"stat",	       "loadavg",
				       "uptime",       "net/snmp",	"net/netstat", "net/snmp6",
				       "net/sockstat", "net/sockstat6", NULL};
static const char *const inet_files[] = {"net/tcp",	"net/tcp6",	"net/udp",
					 "net/udp6",	"net/raw",	"net/raw6",
					 "net/udplite", "net/udplite6", NULL};
static const char *const table_files[] = {
    "modules",	   "mounts",	 "mountinfo",  "net/unix",   "swaps",	       "cgroups", "devices",
    "filesystems", "partitions", "interrupts", "net/packet", "net/ipv6_route", NULL};

static int is_kind(const struct dpath *p, int side, const char *k)
{
	return p->kind[side] && strcmp(p->kind[side], k) == 0;
}

/*
 * The class of the file (diff/sysclass.conf) decides whether it is shown:
 * counters only with --counters or --all, volatile only with --all (the
 * hidden ones are counted, never read).  How it is compared follows from
 * what it is: a table, a key/value file (every counters file is one, with
 * a generic "key n n n" reading), or text.
 */
void ps_dx_sys_classify(struct dctx *c, struct dpath *p)
{
	const char *rel = sys_rel(p);
	p->role = SR_IGNORE;
	if (!*rel || strcmp(p->path, "proc") == 0 || !ps_dx_path_ok(c, rel))
		return;
	enum ps_diff_class cls = ps_diff_class_of(c->cls, rel);
	if (cls == PS_DIFF_COUNTERS && !c->o->counters && !c->o->all) {
		c->d->hid.counter_files++;
		return;
	}
	if (cls == PS_DIFF_VOLATILE && !c->o->all) {
		c->d->hid.volatile_files++;
		return;
	}
	if (is_kind(p, 0, "file") && is_kind(p, 1, "file")) {
		if (match(rel, inet_files) || match(rel, table_files))
			p->role = SR_TABLE;
		else if (match(rel, kv_files) || strncmp(rel, "pressure/", 9) == 0 ||
			 strncmp(rel, "sys/", 4) == 0 || cls == PS_DIFF_COUNTERS)
			p->role = SR_KV;
		else
			p->role = SR_TEXT;
		ps_dx_want(c, p, 0);
		ps_dx_want(c, p, 1);
	} else {
		p->role = SR_FILE;
	}
}

/* ---- key/value files ------------------------------------------------------- */

struct kv {
	char *key;
	char *val;  /* as printed, trimmed */
	char *unit; /* "kB" or NULL */
	int num;    /* 1 integer, 2 decimal, 0 not a number */
	int vol;    /* table row that changes by itself (a connection): --all only */
	int64_t i;
	double d;
	size_t ord;
};

struct kvs {
	struct kv *v;
	size_t n, cap;
};

static void kv_free(struct kvs *k)
{
	for (size_t i = 0; i < k->n; i++) {
		free(k->v[i].key);
		free(k->v[i].val);
		free(k->v[i].unit);
	}
	free(k->v);
	memset(k, 0, sizeof(*k));
}

/* Classify a value: an integer, a decimal number, or text. */
static void kv_num(struct kv *e)
{
	const char *s = e->val;
	char *end;
	if (!*s)
		return;
	int neg = *s == '-';
	uint64_t u;
	size_t n = strlen(s + neg);
	if (ps_parse_u64(s + neg, n, &u) == 0 && u <= INT64_MAX) {
		e->num = 1;
		e->i = neg ? -(int64_t)u : (int64_t)u;
		e->d = (double)e->i;
		return;
	}
	double d = strtod(s, &end);
	if (end != s && *end == '\0' && isfinite(d) && strchr(s, '.')) {
		e->num = 2;
		e->d = d;
	}
}

static void kv_add(struct kvs *k, const char *key, size_t klen, const char *val, size_t vlen,
		   const char *unit, size_t ulen)
{
	PS_XGROW(k->v, k->n, k->cap, 64);
	struct kv *e = &k->v[k->n];
	memset(e, 0, sizeof(*e));
	e->key = ps_xstrndup(key, klen);
	while (vlen && (val[vlen - 1] == ' ' || val[vlen - 1] == '\t' || val[vlen - 1] == '\n'))
		vlen--;
	while (vlen && (*val == ' ' || *val == '\t')) {
		val++;
		vlen--;
	}
	e->val = ps_xstrndup(val, vlen);
	e->unit = ulen ? ps_xstrndup(unit, ulen) : NULL;
	e->ord = k->n++;
	kv_num(e);
}

static const char *const cpu_cols[] = {"user", "nice",	  "system", "idle",  "iowait",
				       "irq",  "softirq", "steal",  "guest", "guest_nice"};

/* net/dev columns after "iface:" (net/core/net-procfs.c dev_seq_printf_stats) */
static const char *const dev_cols[] = {"rx_bytes", "rx_packets", "rx_errs",	  "rx_drop",
				       "rx_fifo",  "rx_frame",	 "rx_compressed", "rx_multicast",
				       "tx_bytes", "tx_packets", "tx_errs",	  "tx_drop",
				       "tx_fifo",  "tx_colls",	 "tx_carrier",	  "tx_compressed"};

/* diskstats columns after "major minor name" (admin-guide/iostats.rst) */
static const char *const disk_cols[] = {
    "reads",	      "reads_merged",	 "sectors_read",    "ms_reading",	 "writes",
    "writes_merged",  "sectors_written", "ms_writing",	    "ios_in_progress",	 "ms_io",
    "weighted_ms_io", "discards",	 "discards_merged", "sectors_discarded", "ms_discarding",
    "flushes",	      "ms_flushing"};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* key.name or key[i] for the i-th number of a line */
static void kv_col(struct kvs *k, struct ps_str key, const char *const *cols, size_t ncols,
		   size_t i, uint64_t v)
{
	struct ps_buf kk = PS_BUF_INIT;
	char num[32];
	ps_buf_add(&kk, key.p, key.len);
	if (i < ncols)
		ps_buf_addf(&kk, ".%s", cols[i]);
	else
		ps_buf_addf(&kk, "[%zu]", i);
	int nl = snprintf(num, sizeof(num), "%" PRIu64, v);
	kv_add(k, kk.buf, kk.len, num, (size_t)nl, NULL, 0);
	ps_buf_release(&kk);
}

enum kvmode { KV_PLAIN = 0, KV_STAT, KV_DEV };

/* "key: v unit", "key v", /proc/stat's "cpu  1 2 3 ..." (one key per
 * column), and "key n n n" (key[0], key[1]... or named columns). */
static void kv_lines(struct kvs *k, const struct ps_buf *b, enum kvmode mode)
{
	int is_stat = mode == KV_STAT;
	size_t pos = 0;
	struct ps_kv e;
	int r;
	while ((r = ps_kv_next(b->buf, b->len, &pos, &e)) != 0) {
		if (r < 0)
			continue;
		size_t np = 0, cnt = 0;
		uint64_t v;
		while (ps_nums_next(e.value, &np, &v) == 1)
			cnt++;
		if (is_stat && cnt > 1) {
			/* cpu lines: one key per column; intr, softirq: the total */
			np = 0;
			int isc = e.key.len >= 3 && memcmp(e.key.p, "cpu", 3) == 0;
			for (size_t i = 0; ps_nums_next(e.value, &np, &v) == 1; i++) {
				if (isc) {
					kv_col(k, e.key, cpu_cols, NELEM(cpu_cols), i, v);
					continue;
				}
				char num[32];
				int nl = snprintf(num, sizeof(num), "%" PRIu64, v);
				kv_add(k, e.key.p, e.key.len, num, (size_t)nl, NULL, 0);
				break;
			}
			continue;
		}
		size_t nw = 0, wp = 0;
		struct ps_str w;
		while (ps_words_next(e.value, &wp, &w))
			nw++;
		if (!is_stat && cnt > 1 && cnt == nw) {
			np = 0;
			for (size_t i = 0; ps_nums_next(e.value, &np, &v) == 1; i++)
				kv_col(k, e.key, mode == KV_DEV ? dev_cols : NULL,
				       mode == KV_DEV ? NELEM(dev_cols) : 0, i, v);
			continue;
		}
		if (e.has_num && e.unit.len &&
		    e.value.len == (size_t)(e.unit.p + e.unit.len - e.value.p)) {
			/* "24684084 kB": number and unit */
			size_t vl = (size_t)(e.unit.p - e.value.p);
			kv_add(k, e.key.p, e.key.len, e.value.p, vl, e.unit.p, e.unit.len);
		} else {
			kv_add(k, e.key.p, e.key.len, e.value.p, e.value.len, NULL, 0);
		}
	}
}

/* Split a line into blank-separated words (at most max). */
static size_t words(const char *s, size_t n, struct ps_str *w, size_t max)
{
	struct ps_str line = {s, n};
	size_t pos = 0, k = 0;
	struct ps_str t;
	while (k < max && ps_words_next(line, &pos, &t))
		w[k++] = t;
	return k;
}

static int next_line(const struct ps_buf *b, size_t *pos, const char **s, size_t *n)
{
	if (*pos >= b->len)
		return 0;
	const char *p = b->buf + *pos;
	const char *nl = memchr(p, '\n', b->len - *pos);
	size_t len = nl ? (size_t)(nl - p) : b->len - *pos;
	*s = p;
	*n = len;
	*pos += len + (nl ? 1 : 0);
	return 1;
}

#define MAXW 512

/* net/snmp, net/netstat: "Ip: Forwarding DefaultTTL ..." then "Ip: 1 64 ...";
 * net/sockstat: "TCP: inuse 5 orphan 0 ..."; pressure: "some avg10=0.00 ..." */
static void kv_words(struct kvs *k, const struct ps_buf *b)
{
	struct ps_str *w1 = ps_xmalloc(MAXW * sizeof(*w1)), *w2 = ps_xmalloc(MAXW * sizeof(*w2));
	size_t pos = 0, n1, n2;
	const char *s;
	size_t n;
	struct ps_buf kk = PS_BUF_INIT;
	while (next_line(b, &pos, &s, &n)) {
		n1 = words(s, n, w1, MAXW);
		if (!n1)
			continue;
		struct ps_str pre = w1[0];
		if (pre.len && pre.p[pre.len - 1] == ':')
			pre.len--;
		/* header/value line pair? */
		size_t save = pos;
		const char *s2;
		size_t l2;
		if (next_line(b, &pos, &s2, &l2) && (n2 = words(s2, l2, w2, MAXW)) == n1 &&
		    w2[0].len == w1[0].len && memcmp(w2[0].p, w1[0].p, w1[0].len) == 0) {
			for (size_t i = 1; i < n1; i++) {
				ps_buf_reset(&kk);
				ps_buf_add(&kk, pre.p, pre.len);
				ps_buf_addc(&kk, '.');
				ps_buf_add(&kk, w1[i].p, w1[i].len);
				kv_add(k, kk.buf, kk.len, w2[i].p, w2[i].len, NULL, 0);
			}
			continue;
		}
		pos = save;
		for (size_t i = 1; i < n1; i++) {
			const char *eq = memchr(w1[i].p, '=', w1[i].len);
			ps_buf_reset(&kk);
			ps_buf_add(&kk, pre.p, pre.len);
			ps_buf_addc(&kk, '.');
			if (eq) {
				ps_buf_add(&kk, w1[i].p, (size_t)(eq - w1[i].p));
				kv_add(k, kk.buf, kk.len, eq + 1,
				       (size_t)(w1[i].p + w1[i].len - eq - 1), NULL, 0);
			} else if (i + 1 < n1) {
				ps_buf_add(&kk, w1[i].p, w1[i].len);
				kv_add(k, kk.buf, kk.len, w1[i + 1].p, w1[i + 1].len, NULL, 0);
				i++;
			}
		}
	}
	ps_buf_release(&kk);
	free(w1);
	free(w2);
}

static void kv_loadavg(struct kvs *k, const struct ps_buf *b)
{
	struct ps_loadavg l;
	char v[64];
	int n;
	ps_loadavg_parse(b->buf, b->len, &l);
	const double dv[3] = {l.load1, l.load5, l.load15};
	static const char *const dn[3] = {"load1", "load5", "load15"};
	for (int i = 0; i < 3; i++) {
		if (isnan(dv[i]))
			continue;
		n = snprintf(v, sizeof(v), "%.2f", dv[i]);
		kv_add(k, dn[i], strlen(dn[i]), v, (size_t)n, NULL, 0);
	}
	const int64_t iv[3] = {l.running, l.total, l.last_pid};
	static const char *const in[3] = {"running", "total", "last_pid"};
	for (int i = 0; i < 3; i++) {
		if (iv[i] == PS_I64_UNKNOWN)
			continue;
		n = snprintf(v, sizeof(v), "%" PRId64, iv[i]);
		kv_add(k, in[i], strlen(in[i]), v, (size_t)n, NULL, 0);
	}
}

static void kv_uptime(struct kvs *k, const struct ps_buf *b)
{
	struct ps_uptime u;
	char v[64];
	ps_uptime_parse(b->buf, b->len, &u);
	if (!isnan(u.uptime)) {
		int n = snprintf(v, sizeof(v), "%.2f", u.uptime);
		kv_add(k, "uptime", 6, v, (size_t)n, NULL, 0);
	}
	if (!isnan(u.idle)) {
		int n = snprintf(v, sizeof(v), "%.2f", u.idle);
		kv_add(k, "idle", 4, v, (size_t)n, NULL, 0);
	}
}

/* diskstats: "major minor name n n n ...": name.reads ... */
static void kv_diskstats(struct kvs *k, const struct ps_buf *b)
{
	size_t pos = 0, n;
	const char *s;
	struct ps_str w[24];
	uint64_t v;
	while (next_line(b, &pos, &s, &n)) {
		size_t nw = words(s, n, w, 24);
		for (size_t i = 3; i < nw; i++)
			if (ps_parse_u64(w[i].p, w[i].len, &v) == 0)
				kv_col(k, w[2], disk_cols, NELEM(disk_cols), i - 3, v);
	}
}

/* net/stat/<table>: a header of column names, then one row of hex numbers
 * per CPU: cpuN.name. */
static void kv_hexrows(struct kvs *k, const struct ps_buf *b)
{
	size_t pos = 0, n, nh = 0;
	const char *s;
	struct ps_str *h = ps_xmalloc(64 * sizeof(*h)), *w = ps_xmalloc(64 * sizeof(*w));
	struct ps_buf kk = PS_BUF_INIT;
	char num[32];
	for (size_t row = 0; next_line(b, &pos, &s, &n);) {
		if (!nh) {
			nh = words(s, n, h, 64);
			continue;
		}
		size_t nw = words(s, n, w, 64);
		for (size_t i = 0; i < nw && i < nh; i++) {
			uint64_t v = 0;
			int ok = w[i].len > 0 && w[i].len <= 16;
			for (size_t j = 0; ok && j < w[i].len; j++) {
				int d = ps_hexval(w[i].p[j]);
				ok = d >= 0;
				v = v << 4 | (uint64_t)(d < 0 ? 0 : d);
			}
			if (!ok)
				continue;
			ps_buf_reset(&kk);
			ps_buf_addf(&kk, "cpu%zu.%.*s", row, (int)h[i].len, h[i].p);
			int nl = snprintf(num, sizeof(num), "%" PRIu64, v);
			kv_add(k, kk.buf, kk.len, num, (size_t)nl, NULL, 0);
		}
		row++;
	}
	ps_buf_release(&kk);
	free(h);
	free(w);
}

/* softirqs: "CPU0 CPU1 ..." then "NAME: n n ...": NAME.CPU0 ... */
static void kv_cpucols(struct kvs *k, const struct ps_buf *b)
{
	size_t pos = 0, n, nh = 0;
	const char *s;
	struct ps_str *h = ps_xmalloc(MAXW * sizeof(*h)), *w = ps_xmalloc(MAXW * sizeof(*w));
	struct ps_buf kk = PS_BUF_INIT;
	while (next_line(b, &pos, &s, &n)) {
		if (!nh) {
			nh = words(s, n, h, MAXW);
			continue;
		}
		size_t nw = words(s, n, w, MAXW);
		if (!nw)
			continue;
		struct ps_str key = w[0];
		if (key.len && key.p[key.len - 1] == ':')
			key.len--;
		for (size_t i = 1; i < nw && i - 1 < nh; i++) {
			ps_buf_reset(&kk);
			ps_buf_addf(&kk, "%.*s.%.*s", (int)key.len, key.p, (int)h[i - 1].len,
				    h[i - 1].p);
			kv_add(k, kk.buf, kk.len, w[i].p, w[i].len, NULL, 0);
		}
	}
	ps_buf_release(&kk);
	free(h);
	free(w);
}

/* Parse a key/value file; returns 0, or -1 if it is not one after all (a
 * multi-line file under sys/): then it is shown as text. */
static int kv_parse(const char *rel, const struct ps_buf *b, struct kvs *k)
{
	if (strcmp(rel, "loadavg") == 0) {
		kv_loadavg(k, b);
	} else if (strcmp(rel, "uptime") == 0) {
		kv_uptime(k, b);
	} else if (strcmp(rel, "net/snmp") == 0 || strcmp(rel, "net/netstat") == 0 ||
		   strcmp(rel, "net/sockstat") == 0 || strcmp(rel, "net/sockstat6") == 0 ||
		   strncmp(rel, "pressure/", 9) == 0) {
		kv_words(k, b);
	} else if (strncmp(rel, "sys/", 4) == 0) {
		size_t n = b->len;
		while (n && b->buf[n - 1] == '\n')
			n--;
		if (memchr(b->buf, '\n', n) || memchr(b->buf, '\0', n))
			return -1;
		/* one value, or several numbers ("file-nr": 1234 0 9223...):
		 * then one key each, "file-nr[0]"... */
		const char *base = strrchr(rel, '/') + 1;
		struct ps_str w[16];
		size_t nw = words(b->buf, n, w, 16), nnum = 0;
		uint64_t v;
		for (size_t i = 0; i < nw; i++)
			nnum += ps_parse_u64(w[i].p, w[i].len, &v) == 0;
		if (nw > 1 && nw < 16 && nnum == nw) {
			struct ps_buf kk = PS_BUF_INIT;
			for (size_t i = 0; i < nw; i++) {
				ps_buf_reset(&kk);
				ps_buf_addf(&kk, "%s[%zu]", base, i);
				kv_add(k, kk.buf, kk.len, w[i].p, w[i].len, NULL, 0);
			}
			ps_buf_release(&kk);
		} else {
			kv_add(k, base, strlen(base), b->buf, n, NULL, 0);
		}
	} else if (strcmp(rel, "diskstats") == 0) {
		kv_diskstats(k, b);
	} else if (strncmp(rel, "net/stat/", 9) == 0) {
		kv_hexrows(k, b);
	} else if (strcmp(rel, "softirqs") == 0) {
		kv_cpucols(k, b);
	} else {
		kv_lines(k, b,
			 strcmp(rel, "stat") == 0      ? KV_STAT
			 : strcmp(rel, "net/dev") == 0 ? KV_DEV
						       : KV_PLAIN);
	}
	return 0;
}

static int kv_cmp_key(const void *x, const void *y)
{
	const struct kv *a = *(struct kv *const *)x, *b = *(struct kv *const *)y;
	int r = strcmp(a->key, b->key);
	if (r)
		return r;
	return a->ord < b->ord ? -1 : a->ord > b->ord;
}

/* First entry of key in the sorted index, or NULL. */
static struct kv *kv_find(struct kv **idx, size_t n, const char *key)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int r = strcmp(idx[mid]->key, key);
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && strcmp(idx[lo]->key, key) == 0 ? idx[lo] : NULL;
}

static struct kv **kv_index(struct kvs *k)
{
	struct kv **idx = ps_xmalloc((k->n ? k->n : 1) * sizeof(*idx));
	for (size_t i = 0; i < k->n; i++)
		idx[i] = &k->v[i];
	if (k->n)
		qsort(idx, k->n, sizeof(*idx), kv_cmp_key);
	return idx;
}

static void kv_item_val(struct ditem *it, const char *name, const struct kv *e)
{
	if (!e)
		ps_di_null(it, name);
	else if (e->num == 1)
		ps_di_int(it, name, e->i);
	else
		ps_di_cstr(it, name, e->val);
}

static void kv_report(struct dctx *c, const char *label, struct kvs *ka, struct kvs *kb)
{
	struct kv **ia = kv_index(ka), **ib = kv_index(kb);
	/* B's order, then the keys that are only in A (in A's order) */
	for (size_t i = 0; i < kb->n; i++) {
		struct kv *y = &kb->v[i];
		if (kv_find(ib, kb->n, y->key) != y)
			continue; /* a repeated key: the first one counts */
		struct kv *x = kv_find(ia, ka->n, y->key);
		if (x && strcmp(x->val, y->val) == 0 &&
		    strcmp(x->unit ? x->unit : "", y->unit ? y->unit : "") == 0)
			continue;
		struct ditem *it = ps_di_sys(c->d, label, FT_KV);
		ps_di_cstr(it, "key", y->key);
		ps_di_cstr(it, "change", x ? "changed" : "added");
		kv_item_val(it, "a", x);
		kv_item_val(it, "b", y);
		int64_t d;
		if (x && x->num == 1 && y->num == 1) {
			if (!__builtin_sub_overflow(y->i, x->i, &d))
				ps_di_int(it, "delta", d);
		} else if (x && x->num && y->num) {
			char v[64];
			snprintf(v, sizeof(v), "%+.2f", y->d - x->d);
			ps_di_cstr(it, "delta", v);
		}
		if (y->unit)
			ps_di_cstr(it, "unit", y->unit);
	}
	for (size_t i = 0; i < ka->n; i++) {
		struct kv *x = &ka->v[i];
		if (kv_find(ia, ka->n, x->key) != x || kv_find(ib, kb->n, x->key))
			continue;
		struct ditem *it = ps_di_sys(c->d, label, FT_KV);
		ps_di_cstr(it, "key", x->key);
		ps_di_cstr(it, "change", "removed");
		kv_item_val(it, "a", x);
		ps_di_null(it, "b");
		if (x->unit)
			ps_di_cstr(it, "unit", x->unit);
	}
	free(ia);
	free(ib);
}

/* ---- tables ------------------------------------------------------------------ */

/* Rows reuse struct kv: key = natural key, val = the compared columns. */

static void row_add(struct kvs *k, struct ps_buf *key, struct ps_buf *row)
{
	kv_add(k, key->buf, key->len, row->buf, row->len, NULL, 0);
	k->v[k->n - 1].num = 0; /* rows are text */
}

static void add_str(struct ps_buf *b, struct ps_str s)
{
	if (s.len)
		ps_buf_add(b, s.p, s.len);
}

static void inet_addr(struct ps_buf *b, int family, const char *text, unsigned port)
{
	if (family == AF_INET6)
		ps_buf_addf(b, "[%s]:%u", text, port);
	else
		ps_buf_addf(b, "%s:%u", text, port);
}

/* Append "label w[idx]" for each pair (labels carry their own spacing). */
static void add_labeled(struct ps_buf *row, const struct ps_str *w, const char *const *labels,
			const int *idx, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		ps_buf_adds(row, labels[i]);
		add_str(row, w[idx[i]]);
	}
}

/* Returns the name of the key column(s). */
static const char *table_parse(const char *rel, const struct ps_buf *b, struct kvs *k)
{
	struct ps_buf key = PS_BUF_INIT, row = PS_BUF_INIT;
	size_t pos = 0;
	int r;
	const char *tkey = "line";
	if (strcmp(rel, "modules") == 0) {
		struct ps_module m;
		tkey = "name";
		while ((r = ps_modules_next(b->buf, b->len, &pos, &m)) != 0) {
			if (r < 0)
				continue;
			ps_buf_reset(&key);
			ps_buf_reset(&row);
			add_str(&key, m.name);
			ps_buf_addf(&row, "size %" PRIu64 " used %" PRId64 " by ", m.size,
				    m.refcount == PS_I64_UNKNOWN ? -1 : m.refcount);
			add_str(&row, m.used_by);
			ps_buf_adds(&row, " ");
			add_str(&row, m.state);
			if (m.taint.len) {
				ps_buf_adds(&row, " (");
				add_str(&row, m.taint);
				ps_buf_adds(&row, ")");
			}
			row_add(k, &key, &row);
		}
	} else if (strcmp(rel, "mountinfo") == 0) {
		struct ps_mountinfo m;
		tkey = "mount_point";
		while ((r = ps_mountinfo_next(b->buf, b->len, &pos, &m)) != 0) {
			if (r < 0)
				continue;
			ps_buf_reset(&key);
			ps_buf_reset(&row);
			add_str(&key, m.mount_point);
			add_str(&row, m.fstype);
			ps_buf_adds(&row, " ");
			add_str(&row, m.source);
			ps_buf_adds(&row, " ");
			add_str(&row, m.options);
			ps_buf_adds(&row, " ");
			add_str(&row, m.super_options);
			ps_buf_adds(&row, " root=");
			add_str(&row, m.root);
			if (m.optional.len) {
				ps_buf_adds(&row, " ");
				add_str(&row, m.optional);
			}
			row_add(k, &key, &row);
		}
	} else if (match(rel, inet_files)) {
		struct ps_inet_sock s;
		const char *proto = rel + 4;
		int tcp = strncmp(proto, "tcp", 3) == 0;
		tkey = "local,remote";
		while ((r = ps_inet_next(b->buf, b->len, &pos, &s)) != 0) {
			if (r < 0)
				continue;
			ps_buf_reset(&key);
			ps_buf_reset(&row);
			ps_buf_addf(&key, "%s ", proto);
			inet_addr(&key, s.family, s.local_text, s.local_port);
			ps_buf_adds(&key, " ");
			inet_addr(&key, s.family, s.remote_text, s.remote_port);
			if (tcp)
				ps_buf_addf(&row, "%s", ps_tcp_state_name(s.state));
			else
				ps_buf_addf(&row, "st %02X", s.state);
			ps_buf_addf(&row, " uid %" PRIu64 " inode %" PRIu64, s.uid, s.inode);
			row_add(k, &key, &row);
			/* listeners are state: TCP LISTEN (0x0A); udp, raw and
			 * udplite sockets not connected to a peer (TCP_CLOSE,
			 * 0x07).  Connections come and go by themselves. */
			k->v[k->n - 1].vol = tcp ? s.state != 0x0A : s.state != 0x07;
		}
	} else if (strcmp(rel, "net/unix") == 0) {
		struct ps_unix_sock s;
		tkey = "inode";
		while ((r = ps_unix_next(b->buf, b->len, &pos, &s)) != 0) {
			if (r < 0)
				continue;
			ps_buf_reset(&key);
			ps_buf_reset(&row);
			ps_buf_addf(&key, "%" PRIu64, s.inode);
			ps_buf_addf(&row, "type %" PRIu64 " st %" PRIu64 " flags %05" PRIx64 " ",
				    s.type, s.st, s.flags);
			add_str(&row, s.path);
			row_add(k, &key, &row);
			/* listening (__SO_ACCEPTCON) sockets are state, the others
			 * (connections, anonymous datagram sockets) come and go */
			k->v[k->n - 1].vol = !(s.flags & 0x10000);
		}
	} else {
		/* whitespace tables parsed here: key column(s), compared columns */
		const char *s;
		size_t n;
		struct ps_str w[64];
		char section[32] = "";
		int first = 1;
		while (next_line(b, &pos, &s, &n)) {
			size_t nw = words(s, n, w, 64);
			int head = first;
			first = 0;
			ps_buf_reset(&key);
			ps_buf_reset(&row);
			if (!nw)
				continue;
			if (strcmp(rel, "mounts") == 0) {
				/* "src mnt fstype opts 0 0" */
				tkey = "mount_point";
				if (nw < 4)
					continue;
				add_str(&key, w[1]);
				for (size_t i = 0; i < nw; i++) {
					if (i == 1)
						continue;
					if (row.len)
						ps_buf_addc(&row, ' ');
					add_str(&row, w[i]);
				}
			} else if (strcmp(rel, "swaps") == 0) {
				/* "Filename Type Size Used Priority": Used is volatile */
				tkey = "filename";
				if (head || nw < 5)
					continue;
				add_str(&key, w[0]);
				add_str(&row, w[1]);
				ps_buf_addc(&row, ' ');
				add_str(&row, w[2]);
				ps_buf_adds(&row, " prio ");
				add_str(&row, w[4]);
			} else if (strcmp(rel, "cgroups") == 0) {
				/* "subsys hierarchy num_cgroups enabled": the number
				 * of cgroups moves with every session */
				tkey = "subsys_name";
				if ((w[0].len && w[0].p[0] == '#') || nw < 4)
					continue;
				add_str(&key, w[0]);
				static const char *const cl[] = {"hierarchy ", " enabled "};
				static const int ci[] = {1, 3};
				add_labeled(&row, w, cl, ci, 2);
			} else if (strcmp(rel, "net/packet") == 0) {
				/* "sk RefCnt Type Proto Iface R Rmem User Inode": a
				 * packet socket (a sniffer, a DHCP client) by inode;
				 * RefCnt, R and Rmem move */
				tkey = "inode";
				if (head || nw < 9)
					continue;
				add_str(&key, w[8]);
				static const char *const pl[] = {"type ", " proto ", " iface ",
								 " user "};
				static const int pi[] = {2, 3, 4, 7};
				add_labeled(&row, w, pl, pi, 4);
			} else if (strcmp(rel, "net/ipv6_route") == 0) {
				/* "dst plen src plen nexthop metric refcnt use flags
				 * dev": refcnt and use move with traffic */
				tkey = "dst,src,dev";
				if (nw < 10)
					continue;
				static const char *const kl[] = {"", "/", " ", "/", " "};
				static const int ki[] = {0, 1, 2, 3, 9};
				add_labeled(&key, w, kl, ki, 5);
				static const char *const rl[] = {"via ", " metric ", " flags "};
				static const int ri[] = {4, 5, 8};
				add_labeled(&row, w, rl, ri, 3);
			} else if (strcmp(rel, "devices") == 0) {
				/* "Character devices:" / "Block devices:" sections */
				tkey = "section,major";
				if (nw == 2 && w[1].len == 8 &&
				    memcmp(w[1].p, "devices:", 8) == 0) {
					snprintf(section, sizeof(section), "%.*s",
						 (int)(w[0].len < 16 ? w[0].len : 16), w[0].p);
					continue;
				}
				ps_buf_addf(&key, "%s ", section);
				add_str(&key, w[0]);
				for (size_t i = 1; i < nw; i++) {
					if (row.len)
						ps_buf_addc(&row, ' ');
					add_str(&row, w[i]);
				}
			} else if (strcmp(rel, "filesystems") == 0) {
				tkey = "name";
				add_str(&key, w[nw - 1]);
				if (nw > 1)
					add_str(&row, w[0]);
			} else if (strcmp(rel, "partitions") == 0) {
				tkey = "name";
				if (head || nw < 4)
					continue;
				add_str(&key, w[3]);
				add_str(&row, w[0]);
				ps_buf_addc(&row, ':');
				add_str(&row, w[1]);
				ps_buf_adds(&row, " blocks ");
				add_str(&row, w[2]);
			} else if (strcmp(rel, "interrupts") == 0) {
				/* "  0:  12  34  IO-APIC 2-edge timer": counts are volatile */
				tkey = "irq";
				if (head)
					continue;
				struct ps_str k0 = w[0];
				if (k0.len && k0.p[k0.len - 1] == ':')
					k0.len--;
				add_str(&key, k0);
				size_t i = 1;
				uint64_t v;
				while (i < nw && ps_parse_u64(w[i].p, w[i].len, &v) == 0)
					i++;
				for (; i < nw; i++) {
					if (row.len)
						ps_buf_addc(&row, ' ');
					add_str(&row, w[i]);
				}
			}
			row_add(k, &key, &row);
		}
	}
	/* Repeated keys (stacked mounts, TIME_WAIT pairs): number them in order. */
	struct kv **idx = kv_index(k);
	for (size_t i = 1, run = 1; i < k->n; i++) {
		if (strcmp(idx[i]->key, idx[i - 1]->key) != 0) {
			run = 1;
			continue;
		}
		run++;
		struct ps_buf nk = PS_BUF_INIT;
		ps_buf_addf(&nk, "%s #%zu", idx[i]->key, run);
		free(idx[i]->key);
		idx[i]->key = ps_buf_detach(&nk, NULL);
	}
	free(idx);
	ps_buf_release(&key);
	ps_buf_release(&row);
	return tkey;
}

static void table_report(struct dctx *c, const char *label, const char *tkey, struct kvs *ka,
			 struct kvs *kb)
{
	struct kv **ia = kv_index(ka), **ib = kv_index(kb);
	/* removed (A's order), then added and changed (B's order) */
	for (size_t i = 0; i < ka->n; i++) {
		struct kv *x = &ka->v[i];
		if (kv_find(ib, kb->n, x->key))
			continue;
		if (x->vol && !c->o->all) {
			c->d->hid.volatile_rows++;
			continue;
		}
		struct ditem *it = ps_di_sys(c->d, label, FT_TABLE);
		it->tkey = tkey;
		ps_di_cstr(it, "change", "removed");
		ps_di_cstr(it, "key", x->key);
		ps_di_cstr(it, "a", x->val);
		ps_di_null(it, "b");
	}
	for (size_t i = 0; i < kb->n; i++) {
		struct kv *y = &kb->v[i];
		struct kv *x = kv_find(ia, ka->n, y->key);
		if (x && strcmp(x->val, y->val) == 0)
			continue;
		if (y->vol && (!x || x->vol) && !c->o->all) {
			c->d->hid.volatile_rows++;
			continue;
		}
		struct ditem *it = ps_di_sys(c->d, label, FT_TABLE);
		it->tkey = tkey;
		ps_di_cstr(it, "change", x ? "changed" : "added");
		ps_di_cstr(it, "key", y->key);
		ps_di_cstr(it, "a", x ? x->val : NULL);
		ps_di_cstr(it, "b", y->val);
	}
	free(ia);
	free(ib);
}

/* ---- text and file events ------------------------------------------------------ */

static int binary(const struct ps_buf *b)
{
	return memchr(b->buf, '\0', b->len) != NULL;
}

static void text_report(struct dctx *c, const char *label, const struct ps_buf *a,
			const struct ps_buf *b, const struct dpath *p)
{
	if (binary(a) || binary(b)) {
		struct ditem *it = ps_di_sys(c->d, label, FT_FILE);
		ps_di_cstr(it, "change", "content");
		ps_di_cstr(it, "a", p->hash[0]);
		ps_di_cstr(it, "b", p->hash[1]);
		ps_di_int(it, "a_size", (int64_t)a->len);
		ps_di_int(it, "b_size", (int64_t)b->len);
		return;
	}
	struct ps_buf out = PS_BUF_INIT;
	size_t n = ps_textdiff(a->buf, a->len, b->buf, b->len, c->d->context, &out);
	if (n) {
		struct ditem *it = ps_di_sys(c->d, label, FT_TEXT);
		ps_di_str(it, "diff", out.buf, out.len);
		ps_di_int(it, "lines", (int64_t)n);
	}
	ps_buf_release(&out);
}

static void side_desc(struct ditem *it, const char *name, const struct dpath *p, int side)
{
	if (!p->kind[side]) {
		ps_di_null(it, name);
		return;
	}
	struct ps_buf t = PS_BUF_INIT;
	if (strcmp(p->kind[side], "link") == 0)
		ps_buf_addf(&t, "-> %s", p->link[side] ? p->link[side] : "");
	else if (strcmp(p->kind[side], "absent") == 0)
		ps_buf_addf(&t, "unreadable (%s)", p->err[side] ? p->err[side] : "?");
	else if (strcmp(p->kind[side], "file") == 0)
		ps_buf_addf(&t, "file, %lld bytes", (long long)p->size[side]);
	else
		ps_buf_adds(&t, p->kind[side]);
	ps_di_str(it, name, t.buf, t.len);
	ps_buf_release(&t);
}

static void file_report(struct dctx *c, const char *label, const struct dpath *p)
{
	struct ditem *it = ps_di_sys(c->d, label, FT_FILE);
	const char *change;
	if (!p->kind[0])
		change = "added";
	else if (!p->kind[1])
		change = "removed";
	else if (is_kind(p, 0, "absent") && is_kind(p, 1, "absent"))
		change = "errno";
	else if (is_kind(p, 1, "absent"))
		change = "unreadable";
	else if (is_kind(p, 0, "absent"))
		change = "readable";
	else if (strcmp(p->kind[0], p->kind[1]) != 0)
		change = "type";
	else if (is_kind(p, 0, "link"))
		change = "target";
	else
		change = "metadata";
	ps_di_cstr(it, "change", change);
	side_desc(it, "a", p, 0);
	side_desc(it, "b", p, 1);
}

int ps_dx_sys_report(struct dctx *c)
{
	struct ps_buf gone = PS_BUF_INIT; /* a directory added or removed: skip below it */
	for (size_t i = 0; i < c->npaths; i++) {
		struct dpath *p = &c->paths[i];
		if (p->pid >= 0 || p->role == SR_IGNORE)
			continue;
		const char *label = sys_label(p), *rel = sys_rel(p);
		if (gone.len && strncmp(label, gone.buf, gone.len) == 0 && !p->ns_scoped)
			continue;
		ps_buf_reset(&gone);
		const struct ps_buf *a = ps_dx_content(c, p, 0), *b = ps_dx_content(c, p, 1);
		if (p->role == SR_FILE) {
			file_report(c, label, p);
			if ((!p->kind[0] && is_kind(p, 1, "dir")) ||
			    (!p->kind[1] && is_kind(p, 0, "dir")))
				ps_buf_addf(&gone, "%s/", label);
			continue;
		}
		if (!a || !b)
			continue;
		/* lines that move by themselves inside a state file (drop rules) */
		struct ps_buf fa = PS_BUF_INIT, fb = PS_BUF_INIT;
		if (!c->o->all && ps_dx_has_drops(c->cls, rel)) {
			size_t na = ps_dx_drop_lines(c->cls, rel, a, &fa);
			size_t nb = ps_dx_drop_lines(c->cls, rel, b, &fb);
			a = &fa;
			b = &fb;
			if ((na || nb) && a->len == b->len && memcmp(a->buf, b->buf, a->len) == 0)
				c->d->hid.dropped_files++;
		}
		struct kvs ka = {0}, kb = {0};
		if (p->role == SR_KV) {
			if (kv_parse(rel, a, &ka) == 0 && kv_parse(rel, b, &kb) == 0 &&
			    (ka.n || kb.n))
				kv_report(c, label, &ka, &kb);
			else
				text_report(c, label, a, b, p);
		} else if (p->role == SR_TABLE) {
			const char *tkey = table_parse(rel, a, &ka);
			table_parse(rel, b, &kb);
			table_report(c, label, tkey, &ka, &kb);
		} else {
			text_report(c, label, a, b, p);
		}
		kv_free(&ka);
		kv_free(&kb);
		ps_buf_release(&fa);
		ps_buf_release(&fb);
	}
	ps_buf_release(&gone);
	return 0;
}
