/*
 * test_diff_text.c - the unified text diff of diff/textdiff.c: exact output
 * on small cases (as `diff -u` prints its hunks), and on random inputs the
 * hunks applied to A give B and change no more lines than the shortest
 * edit script (n + m - 2 * LCS).
 */
#include "t.h"

#include "diff_int.h"

#include <stdint.h>

static struct ps_buf out = PS_BUF_INIT;

static void check_diff(const char *a, const char *b, int ctx, const char *want)
{
	ps_buf_reset(&out);
	ps_textdiff(a, strlen(a), b, strlen(b), ctx, &out);
	CHECK_STR(out.buf, want);
}

static void test_exact(void)
{
	check_diff("a\nb\nc\n", "a\nb\nc\n", 3, "");
	check_diff("a\nb\nc\n", "a\nB\nc\n", 3, "@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n");
	check_diff("a\nb\nc\n", "a\nB\nc\n", 0, "@@ -2 +2 @@\n-b\n+B\n");
	check_diff("", "x\n", 3, "@@ -0,0 +1 @@\n+x\n");
	check_diff("x\n", "", 3, "@@ -1 +0,0 @@\n-x\n");
	check_diff("a\nb", "a\nb\n", 3,
		   "@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+b\n");
	/* two changes far apart: two hunks; close together: one */
	check_diff("1\n2\n3\n4\n5\n6\n7\n8\n9\n", "X\n2\n3\n4\n5\n6\n7\n8\nY\n", 1,
		   "@@ -1,2 +1,2 @@\n-1\n+X\n 2\n@@ -8,2 +8,2 @@\n 8\n-9\n+Y\n");
	check_diff("1\n2\n3\n4\n5\n", "X\n2\n3\n4\nY\n", 2,
		   "@@ -1,5 +1,5 @@\n-1\n+X\n 2\n 3\n 4\n-5\n+Y\n");
}

static uint64_t rng = 88172645463325252ull;
static unsigned rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

/* Apply unified hunks to a; 0 and the result in res, or -1. */
static int apply(const char *a, const char *hunks, struct ps_buf *res)
{
	/* split a into lines */
	const char *al[256];
	size_t alen[256], na = 0;
	for (const char *p = a; *p && na < 256;) {
		const char *nl = strchr(p, '\n');
		al[na] = p;
		alen[na] = nl ? (size_t)(nl - p) + 1 : strlen(p);
		na++;
		p += alen[na - 1];
	}
	ps_buf_reset(res);
	size_t ia = 0;
	const char *h = hunks;
	while (*h) {
		unsigned long la, ca = 1, lb, cb = 1;
		if (sscanf(h, "@@ -%lu,%lu +%lu,%lu @@", &la, &ca, &lb, &cb) < 2 &&
		    sscanf(h, "@@ -%lu +%lu,%lu @@", &la, &lb, &cb) < 2)
			return -1;
		size_t start = ca ? la - 1 : la;
		while (ia < start)
			ps_buf_add(res, al[ia], alen[ia]), ia++;
		h = strchr(h, '\n') + 1;
		while (*h && *h != '@') {
			const char *nl = strchr(h, '\n');
			size_t n = (size_t)(nl - h);
			if (*h == ' ' || *h == '-') {
				if (ia >= na || alen[ia] < n - 1 ||
				    memcmp(al[ia], h + 1, n - 1) != 0)
					return -1;
				if (*h == ' ')
					ps_buf_add(res, al[ia], alen[ia]);
				ia++;
			} else if (*h == '+') {
				ps_buf_add(res, h + 1, n);
			} else {
				return -1;
			}
			h = nl + 1;
		}
	}
	while (ia < na)
		ps_buf_add(res, al[ia], alen[ia]), ia++;
	return 0;
}

static size_t lcs(char **x, size_t n, char **y, size_t m)
{
	static size_t t[65][65];
	for (size_t i = 0; i <= n; i++)
		for (size_t j = 0; j <= m; j++)
			t[i][j] = !i || !j			    ? 0
				  : strcmp(x[i - 1], y[j - 1]) == 0 ? t[i - 1][j - 1] + 1
				  : t[i - 1][j] > t[i][j - 1]	    ? t[i - 1][j]
								    : t[i][j - 1];
	return t[n][m];
}

static void test_random(void)
{
	static const char *const words[] = {"a\n", "b\n", "c\n", "d\n"};
	struct ps_buf a = PS_BUF_INIT, b = PS_BUF_INIT, res = PS_BUF_INIT;
	for (int iter = 0; iter < 3000; iter++) {
		char *x[64] = {0}, *y[64] = {0};
		size_t n = rnd(40), m = rnd(40);
		ps_buf_reset(&a);
		ps_buf_reset(&b);
		for (size_t i = 0; i < n; i++) {
			x[i] = (char *)words[rnd(4)];
			ps_buf_adds(&a, x[i]);
		}
		for (size_t i = 0; i < m; i++) {
			/* B mostly A with edits, sometimes unrelated */
			y[i] = (char *)(i < n && rnd(3) ? x[i] : words[rnd(4)]);
			ps_buf_adds(&b, y[i]);
		}
		ps_buf_reset(&out);
		size_t changed = ps_textdiff(a.buf, a.len, b.buf, b.len, (int)rnd(4), &out);
		CHECK_INT(changed, n + m - 2 * lcs(x, n, y, m));
		if (apply(a.buf, out.buf, &res) != 0 || res.len != b.len ||
		    memcmp(res.buf, b.buf, b.len) != 0) {
			fprintf(stderr, "iteration %d: hunks do not turn A into B:\n%s", iter,
				out.buf);
			t_failures++;
			break;
		}
	}
	ps_buf_release(&a);
	ps_buf_release(&b);
	ps_buf_release(&res);
}

static void test_large(void)
{
	/* far apart files: the capped search still gives a correct diff */
	struct ps_buf a = PS_BUF_INIT, b = PS_BUF_INIT, res = PS_BUF_INIT;
	for (int i = 0; i < 6000; i++) {
		ps_buf_addf(&a, "line %d\n", i);
		ps_buf_addf(&b, "other %d\n", i);
	}
	ps_buf_reset(&out);
	size_t changed = ps_textdiff(a.buf, a.len, b.buf, b.len, 3, &out);
	CHECK_INT(changed, 12000);
	CHECK(strncmp(out.buf, "@@ -1,6000 +1,6000 @@\n-line 0\n", 29) == 0);
	ps_buf_release(&a);
	ps_buf_release(&b);
	ps_buf_release(&res);
}

static void test_deep(void)
{
	/* an edit distance near the cap (400 lines replaced: D = 800): the
	 * backtrack through the compact per-round V arrays stays minimal */
	struct ps_buf a = PS_BUF_INIT, b = PS_BUF_INIT, res = PS_BUF_INIT;
	for (int i = 0; i < 2000; i++) {
		ps_buf_addf(&a, "line %d\n", i);
		if (i % 5 == 2)
			ps_buf_addf(&b, "changed %d\n", i);
		else
			ps_buf_addf(&b, "line %d\n", i);
	}
	ps_buf_reset(&out);
	size_t changed = ps_textdiff(a.buf, a.len, b.buf, b.len, 3, &out);
	CHECK_INT(changed, 800);
	/* one hunk (the changes are 4 lines apart), each change in place */
	const char *want =
	    "@@ -1,2000 +1,2000 @@\n line 0\n line 1\n-line 2\n+changed 2\n line 3\n";
	CHECK(strncmp(out.buf, want, strlen(want)) == 0);
	size_t minus = 0, plus = 0;
	for (const char *p = out.buf; (p = strchr(p, '\n')) != NULL; p++) {
		minus += strncmp(p + 1, "-line ", 6) == 0;
		plus += strncmp(p + 1, "+changed ", 9) == 0;
	}
	CHECK_INT(minus, 400);
	CHECK_INT(plus, 400);
	CHECK(strstr(out.buf, "\n-line 1997\n+changed 1997\n line 1998\n line 1999\n") != NULL);
	ps_buf_release(&a);
	ps_buf_release(&b);
	ps_buf_release(&res);
}

static void teardown(void)
{
	ps_buf_release(&out);
}

static const struct t_case t_cases[] = {
    T(test_exact), T(test_random), T(test_large), T(test_deep), {0, 0}};
T_MAIN_SETUP(t_cases, NULL, teardown)
