/*
 * textdiff.c - unified diff of two texts, line by line.
 *
 * Myers' O(ND) greedy algorithm (E. Myers, "An O(ND) Difference Algorithm
 * and Its Variations", 1986) on the lines left after the common prefix and
 * suffix are trimmed, keeping the part of each round's V array that round
 * wrote (2d + 1 entries) for the backtrack: 8 (D + 1)^2 bytes for an edit
 * distance D.  The distance explored is capped (MAX_D, so at most 8 MiB):
 * beyond it the middle is shown as all removed then all added - still a
 * correct diff, just not a minimal one.
 * Output is the hunk part of `diff -u`: "@@ -l,n +l,n @@" headers and " ",
 * "-", "+" lines, "\ No newline at end of file" where it applies.
 */
#include "diff_int.h"

#include <stdlib.h>
#include <string.h>

#define MAX_D 1000

struct line {
	const char *p;
	size_t n; /* without the newline */
	int nl;	  /* ended by a newline */
	uint64_t h;
};

static struct line *split(const char *s, size_t len, size_t *count)
{
	size_t n = 0, cap = 64;
	struct line *l = ps_xmalloc(cap * sizeof(*l));
	size_t pos = 0;
	while (pos < len) {
		const char *p = s + pos;
		const char *e = memchr(p, '\n', len - pos);
		size_t k = e ? (size_t)(e - p) : len - pos;
		if (n == cap) {
			cap *= 2;
			l = ps_xrealloc(l, cap * sizeof(*l));
		}
		uint64_t h = 1469598103934665603ull;
		for (size_t i = 0; i < k; i++)
			h = (h ^ (unsigned char)p[i]) * 1099511628211ull;
		l[n].p = p;
		l[n].n = k;
		l[n].nl = e != NULL;
		l[n].h = h ^ (uint64_t)l[n].nl;
		n++;
		pos += k + (e ? 1 : 0);
	}
	*count = n;
	return l;
}

static int eq(const struct line *a, const struct line *b)
{
	return a->h == b->h && a->n == b->n && a->nl == b->nl && memcmp(a->p, b->p, a->n) == 0;
}

/* Edit script over the middle parts: ops[] of '=', '-', '+' (in order).
 * Returns the number of ops. */
static size_t myers(const struct line *a, size_t n, const struct line *b, size_t m, char **opsp)
{
	size_t maxops = n + m;
	char *ops = ps_xmalloc(maxops ? maxops : 1);
	*opsp = ops;
	long N = (long)n, M = (long)m, max = N + M;
	long dmax = max < MAX_D ? max : MAX_D;
	long off = dmax + 1;
	long width = 2 * dmax + 3;
	long *v = ps_xcalloc((size_t)width, sizeof(long));
	long **trace = ps_xcalloc((size_t)dmax + 1, sizeof(long *));
	long found = -1;
	for (long d = 0; d <= dmax && found < 0; d++) {
		for (long k = -d; k <= d; k += 2) {
			long x;
			if (k == -d || (k != d && v[off + k - 1] < v[off + k + 1]))
				x = v[off + k + 1];
			else
				x = v[off + k - 1] + 1;
			long y = x - k;
			while (x < N && y < M && eq(&a[x], &b[y])) {
				x++;
				y++;
			}
			v[off + k] = x;
			if (x >= N && y >= M) {
				found = d;
				break;
			}
		}
		/* round d wrote V[-d..d]; the backtrack reads nothing else */
		trace[d] = ps_xmalloc((size_t)(2 * d + 1) * sizeof(long));
		memcpy(trace[d], v + off - d, (size_t)(2 * d + 1) * sizeof(long));
	}
	size_t nops = 0;
	if (found < 0) {
		/* too different: everything removed, then everything added */
		for (long i = 0; i < N; i++)
			ops[nops++] = '-';
		for (long i = 0; i < M; i++)
			ops[nops++] = '+';
	} else {
		/* backtrack from (N, M), writing ops from the end; trace[d - 1]
		 * is V as round d found it */
		size_t w = maxops;
		long x = N, y = M;
		for (long d = found; d > 0; d--) {
			/* trace[d - 1] is V[-(d - 1)..d - 1]: V[k] at pv[k + d - 1] */
			const long *pv = trace[d - 1];
			long k = x - y, pk;
			if (k == -d || (k != d && pv[k - 1 + d - 1] < pv[k + 1 + d - 1]))
				pk = k + 1; /* came down: an insertion */
			else
				pk = k - 1; /* came right: a deletion */
			long px = pv[pk + d - 1], py = px - pk;
			while (x > px && y > py) {
				ops[--w] = '=';
				x--;
				y--;
			}
			ops[--w] = x == px ? '+' : '-';
			x = px;
			y = py;
		}
		while (x > 0 && y > 0) {
			ops[--w] = '=';
			x--;
			y--;
		}
		nops = maxops - w;
		memmove(ops, ops + w, nops);
	}
	for (long d = 0; d <= dmax && trace[d]; d++)
		free(trace[d]);
	free(trace);
	free(v);
	return nops;
}

static void emit(struct ps_buf *out, char tag, const struct line *l)
{
	ps_buf_addc(out, tag);
	ps_buf_add(out, l->p, l->n);
	ps_buf_addc(out, '\n');
	if (!l->nl)
		ps_buf_adds(out, "\\ No newline at end of file\n");
}

size_t ps_textdiff(const char *a, size_t alen, const char *b, size_t blen, int context,
		   struct ps_buf *out)
{
	size_t n, m;
	struct line *la = split(a, alen, &n), *lb = split(b, blen, &m);
	if (context < 0)
		context = 0;
	size_t pre = 0;
	while (pre < n && pre < m && eq(&la[pre], &lb[pre]))
		pre++;
	size_t suf = 0;
	while (suf < n - pre && suf < m - pre && eq(&la[n - 1 - suf], &lb[m - 1 - suf]))
		suf++;
	char *mid = NULL;
	size_t nmid = myers(la + pre, n - pre - suf, lb + pre, m - pre - suf, &mid);
	/* whole script: prefix '=', middle, suffix '=' */
	size_t total = pre + nmid + suf;
	char *ops = ps_xmalloc(total ? total : 1);
	memset(ops, '=', pre);
	memcpy(ops + pre, mid, nmid);
	memset(ops + pre + nmid, '=', suf);
	free(mid);
	size_t changed = 0;
	for (size_t i = 0; i < total; i++)
		changed += ops[i] != '=';
	/* hunks: runs of changes joined when at most 2*context equal lines apart */
	size_t i = 0;
	size_t ia = 0, ib = 0; /* line numbers (0-based) at op i */
	while (changed && i < total) {
		if (ops[i] == '=') {
			i++;
			ia++;
			ib++;
			continue;
		}
		/* start of a hunk: back up context lines */
		size_t back = (size_t)context;
		if (back > ia)
			back = ia;
		if (back > ib)
			back = ib;
		size_t hs = i - back, ha = ia - back, hb = ib - back;
		/* find the end: the last change followed by > 2*context equals */
		size_t j = i, last = i;
		while (j < total) {
			if (ops[j] != '=') {
				last = j++;
				continue;
			}
			size_t run = 0;
			while (j + run < total && ops[j + run] == '=')
				run++;
			if (j + run >= total || run > 2 * (size_t)context)
				break;
			j += run;
		}
		size_t he = last + 1 + (size_t)context;
		if (he > total)
			he = total;
		/* count the hunk's lines */
		size_t ca = 0, cb = 0;
		for (size_t k = hs; k < he; k++) {
			if (ops[k] != '+')
				ca++;
			if (ops[k] != '-')
				cb++;
		}
		ps_buf_addf(out, "@@ -%zu", ca ? ha + 1 : ha);
		if (ca != 1)
			ps_buf_addf(out, ",%zu", ca);
		ps_buf_addf(out, " +%zu", cb ? hb + 1 : hb);
		if (cb != 1)
			ps_buf_addf(out, ",%zu", cb);
		ps_buf_adds(out, " @@\n");
		size_t xa = ha, xb = hb;
		for (size_t k = hs; k < he; k++) {
			if (ops[k] == '=') {
				emit(out, ' ', &la[xa]);
				xa++;
				xb++;
			} else if (ops[k] == '-') {
				emit(out, '-', &la[xa++]);
			} else {
				emit(out, '+', &lb[xb++]);
			}
		}
		i = he;
		ia = xa;
		ib = xb;
	}
	free(ops);
	free(la);
	free(lb);
	return changed;
}
