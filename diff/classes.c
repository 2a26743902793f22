/*
 * classes.c - the class of a system file (state, counters, volatile) from
 * diff/sysclass.conf, embedded in the binary (cmake/embed_text.cmake).
 *
 * The text is small (a few hundred lines) and parsed once per run; a path is
 * classified by trying the class lines in order (fnmatch, first match wins),
 * which costs nothing next to reading the indexes: only changed paths are
 * classified during a diff.
 */
#include "diff_int.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

extern const char ps_diff_sysclass_conf[];
extern const size_t ps_diff_sysclass_conf_len;

struct crule {
	int cls;      /* enum ps_diff_class, or -2 for a drop line */
	char *glob;   /* fnmatch pattern */
	char *dir;    /* glob without its trailing slash-star (the directory), or NULL */
	char *prefix; /* drop: the line prefix */
	size_t plen;
};

struct ps_diff_classes {
	struct crule *r;
	size_t n, cap;
	int have_drops;
};

#define DROP (-2)

static const char *const cls_names[] = {"state", "counters", "volatile"};

const char *ps_diff_class_name(enum ps_diff_class c)
{
	return c >= PS_DIFF_STATE && c <= PS_DIFF_VOLATILE ? cls_names[c] : "unknown";
}

static int is_blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

/* Next blank-separated word of [*p, end); NULL at the end of the line. */
static const char *word(const char **p, const char *end, size_t *n)
{
	const char *s = *p;
	while (s < end && is_blank(*s))
		s++;
	const char *e = s;
	while (e < end && !is_blank(*e))
		e++;
	*p = e;
	*n = (size_t)(e - s);
	return e > s ? s : NULL;
}

int ps_diff_classes_open(const char *text, size_t len, struct ps_diff_classes **cp,
			 struct ps_err *err)
{
	if (!text) {
		text = ps_diff_sysclass_conf;
		len = ps_diff_sysclass_conf_len;
	}
	struct ps_diff_classes *c = ps_xcalloc(1, sizeof(*c));
	const char *p = text, *end = text + len;
	for (int lineno = 1; p < end; lineno++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		const char *q = p;
		p = nl ? nl + 1 : end;
		size_t kn, gn;
		const char *kw = word(&q, le, &kn);
		if (!kw || *kw == '#')
			continue;
		const char *g = word(&q, le, &gn);
		int cls = -1;
		for (int i = 0; i < 3; i++)
			if (kn == strlen(cls_names[i]) && memcmp(kw, cls_names[i], kn) == 0)
				cls = i;
		if (kn == 4 && memcmp(kw, "drop", 4) == 0)
			cls = DROP;
		while (q < le && is_blank(*q))
			q++;
		const char *rest = q;
		size_t rn = (size_t)(le - q);
		while (rn && (is_blank(rest[rn - 1]) || rest[rn - 1] == '\r'))
			rn--;
		if (cls == -1 || !g || (cls == DROP) != (rn > 0)) {
			ps_diff_classes_close(c);
			return ps_err_set(err, EINVAL,
					  "sysclass.conf line %d: want 'state|counters|volatile "
					  "GLOB' or 'drop GLOB PREFIX'",
					  lineno);
		}
		PS_XGROW(c->r, c->n, c->cap, 256);
		struct crule *r = &c->r[c->n++];
		memset(r, 0, sizeof(*r));
		r->cls = cls;
		r->glob = ps_xstrndup(g, gn);
		if (gn > 2 && memcmp(g + gn - 2, "/*", 2) == 0)
			r->dir = ps_xstrndup(g, gn - 2);
		if (cls == DROP) {
			r->prefix = ps_xstrndup(rest, rn);
			r->plen = rn;
			c->have_drops = 1;
		}
	}
	*cp = c;
	return 0;
}

void ps_diff_classes_close(struct ps_diff_classes *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++) {
		free(c->r[i].glob);
		free(c->r[i].dir);
		free(c->r[i].prefix);
	}
	free(c->r);
	free(c);
}

static int rule_match(const struct crule *r, const char *rel)
{
	return fnmatch(r->glob, rel, 0) == 0 || (r->dir && fnmatch(r->dir, rel, 0) == 0);
}

enum ps_diff_class ps_diff_class_of(const struct ps_diff_classes *c, const char *rel)
{
	for (size_t i = 0; c && i < c->n; i++)
		if (c->r[i].cls != DROP && rule_match(&c->r[i], rel))
			return (enum ps_diff_class)c->r[i].cls;
	return PS_DIFF_CLASS_UNKNOWN;
}

int ps_dx_has_drops(const struct ps_diff_classes *c, const char *rel)
{
	if (!c || !c->have_drops)
		return 0;
	for (size_t i = 0; i < c->n; i++)
		if (c->r[i].cls == DROP && rule_match(&c->r[i], rel))
			return 1;
	return 0;
}

size_t ps_dx_drop_lines(const struct ps_diff_classes *c, const char *rel, const struct ps_buf *in,
			struct ps_buf *out)
{
	size_t dropped = 0, pos = 0;
	ps_buf_reset(out);
	while (pos < in->len) {
		const char *s = in->buf + pos;
		const char *nl = memchr(s, '\n', in->len - pos);
		size_t n = nl ? (size_t)(nl - s) + 1 : in->len - pos;
		int drop = 0;
		for (size_t i = 0; i < c->n && !drop; i++) {
			const struct crule *r = &c->r[i];
			drop = r->cls == DROP && n >= r->plen &&
			       memcmp(s, r->prefix, r->plen) == 0 && rule_match(r, rel);
		}
		if (drop)
			dropped++;
		else
			ps_buf_add(out, s, n);
		pos += n;
	}
	return dropped;
}
