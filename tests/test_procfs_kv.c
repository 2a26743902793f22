/*
 * test_procfs_kv.c - key/value lines (meminfo, vmstat, /proc/stat), NUL
 * separated lists (cmdline, environ) and the slice helpers.
 */
#include "procfs.h"
#include "t.h"

/* Load samples/procfs/<name> into a buffer of exactly its size (no NUL), so
 * ASan catches any read past the end. */

static void kv_meminfo(void)
{
	size_t len, pos = 0;
	char *b = t_load_sample("meminfo", &len);
	struct ps_kv kv;
	int n = 0, r, seen = 0;
	while ((r = ps_kv_next(b, len, &pos, &kv)) != 0) {
		CHECK_INT(r, 1);
		CHECK(kv.has_num);
		if (n == 0) {
			CHECK_MEM(kv.key.p, kv.key.len, "MemTotal");
			CHECK_MEM(kv.value.p, kv.value.len, "24684084 kB");
			CHECK_U64(kv.num, 24684084);
			CHECK_MEM(kv.unit.p, kv.unit.len, "kB");
			seen++;
		}
		if (ps_str_eq(kv.key, "Active(anon)")) {
			CHECK_U64(kv.num, 1528);
			seen++;
		}
		if (ps_str_eq(kv.key, "Hugepagesize")) {
			CHECK_U64(kv.num, 2048);
			seen++;
		}
		if (ps_str_eq(kv.key, "HugePages_Total"))
			CHECK_INT(kv.unit.len, 0);
		n++;
	}
	CHECK_INT(seen, 3);
	CHECK(n > 40);
	free(b);
}

static void kv_vmstat(void)
{
	size_t len, pos = 0;
	char *b = t_load_sample("vmstat", &len);
	struct ps_kv kv;
	int seen = 0;
	CHECK_INT(ps_kv_next(b, len, &pos, &kv), 1);
	CHECK_MEM(kv.key.p, kv.key.len, "nr_free_pages");
	CHECK_U64(kv.num, 1017771);
	CHECK_INT(kv.unit.len, 0);
	while (ps_kv_next(b, len, &pos, &kv) == 1) {
		if (ps_str_eq(kv.key, "pgfault")) {
			CHECK_U64(kv.num, 920796);
			seen = 1;
		}
	}
	CHECK(seen);
	free(b);
}

static void kv_proc_stat(void)
{
	size_t len, pos = 0, np;
	char *b = t_load_sample("proc_stat", &len);
	struct ps_kv kv;
	uint64_t v, vals[16] = {0};
	int n;
	CHECK_INT(ps_kv_next(b, len, &pos, &kv), 1);
	CHECK_MEM(kv.key.p, kv.key.len, "cpu");
	CHECK_MEM(kv.value.p, kv.value.len, "1423 0 1040 86594 278 0 31 9 0 0");
	np = 0;
	n = 0;
	while (ps_nums_next(kv.value, &np, &v) == 1 && n < 16)
		vals[n++] = v;
	CHECK_INT(n, 10);
	CHECK_U64(vals[0], 1423);  /* user */
	CHECK_U64(vals[2], 1040);  /* system */
	CHECK_U64(vals[3], 86594); /* idle */
	CHECK_U64(vals[4], 278);   /* iowait */
	int seen = 0;
	while (ps_kv_next(b, len, &pos, &kv) == 1) {
		if (ps_str_eq(kv.key, "cpu1")) {
			CHECK_U64(kv.num, 1092);
			seen++;
		} else if (ps_str_eq(kv.key, "intr")) {
			np = 0;
			n = 0;
			uint64_t total = 0;
			CHECK_INT(ps_nums_next(kv.value, &np, &total), 1);
			while (ps_nums_next(kv.value, &np, &v) == 1)
				n++;
			CHECK_U64(total, 107427);
			CHECK(n > 10);
			seen++;
		} else if (ps_str_eq(kv.key, "btime")) {
			CHECK_U64(kv.num, 1795305842);
			seen++;
		} else if (ps_str_eq(kv.key, "processes")) {
			CHECK_U64(kv.num, 3794);
			seen++;
		}
	}
	CHECK_INT(seen, 4);
	free(b);
}

static void kv_forms(void)
{
	const char in[] = "se.exec_start      :     12345.678\n"
			  "\n"
			  ":nokey\n"
			  "  spaced: 7 pages extra\r\n"
			  "bare\n"
			  "big 99999999999999999999\n"
			  "neg -5\n"
			  "last: 3";
	size_t pos = 0;
	struct ps_kv kv;
	CHECK_INT(ps_kv_next(in, sizeof(in) - 1, &pos, &kv), 1);
	CHECK_MEM(kv.key.p, kv.key.len, "se.exec_start");
	CHECK_MEM(kv.value.p, kv.value.len, "12345.678");
	CHECK_INT(kv.has_num, 0);
	CHECK_U64(kv.num, PS_U64_UNKNOWN);
	CHECK_INT(ps_kv_next(in, sizeof(in) - 1, &pos, &kv), -1); /* blank line */
	CHECK_INT(ps_kv_next(in, sizeof(in) - 1, &pos, &kv), -1); /* ":nokey" */
	CHECK_INT(ps_kv_next(in, sizeof(in) - 1, &pos, &kv), 1);
	CHECK_MEM(kv.key.p, kv.key.len, "spaced");
	CHECK_MEM(kv.value.p, kv.value.len, "7 pages extra");
	CHECK_U64(kv.num, 7);
	CHECK_MEM(kv.unit.p, kv.unit.len, "pages");
	CHECK_INT(ps_kv_next(in, sizeof(in) - 1, &pos, &kv), 1);
	CHECK_MEM(kv.key.p, kv.key.len, "bare");
	CHECK_INT(kv.value.len, 0);
	CHECK_INT(kv.has_num, 0);
	CHECK_INT(ps_kv_next(in, sizeof(in) - 1, &pos, &kv), 1);
	CHECK_INT(kv.has_num, 0); /* overflow */
	CHECK_INT(ps_kv_next(in, sizeof(in) - 1, &pos, &kv), 1);
	CHECK_INT(kv.has_num, 0);
	int64_t i;
	CHECK_INT(ps_str_i64(kv.value, &i), 0);
	CHECK_INT(i, -5);
	CHECK_INT(ps_kv_next(in, sizeof(in) - 1, &pos, &kv), 1);
	CHECK_U64(kv.num, 3);
	CHECK_INT(ps_kv_next(in, sizeof(in) - 1, &pos, &kv), 0);
	CHECK_INT(ps_kv_next(in, sizeof(in) - 1, &pos, &kv), 0);
	pos = 0;
	CHECK_INT(ps_kv_next("", 0, &pos, &kv), 0);
}

static void nul_cmdline_environ(void)
{
	size_t len, pos = 0;
	char *b = t_load_sample("cmdline.fixture", &len);
	struct ps_str it;
	const char *want[] = {"./mkfix", "arg one", "", "arg\"3"};
	int n = 0;
	while (ps_nul_next(b, len, &pos, &it) == 1) {
		if (n < 4)
			CHECK_MEM(it.p, it.len, want[n]);
		n++;
	}
	CHECK_INT(n, 4);
	/* without the final NUL the last item is still returned */
	pos = 0;
	n = 0;
	while (ps_nul_next(b, len - 1, &pos, &it) == 1)
		n++;
	CHECK_INT(n, 4);
	CHECK_MEM(it.p, it.len, "");
	free(b);

	b = t_load_sample("environ.fixture", &len);
	struct ps_str k, v;
	pos = 0;
	n = 0;
	while (ps_nul_next(b, len, &pos, &it) == 1) {
		CHECK_INT(ps_env_split(it, &k, &v), 0);
		if (ps_str_eq(k, "PS_VAR"))
			CHECK_MEM(v.p, v.len, "a=b c");
		if (ps_str_eq(k, "EMPTY"))
			CHECK_INT(v.len, 0);
		if (n == 1) {
			CHECK_MEM(k.p, k.len, "PATH");
			CHECK_MEM(v.p, v.len, "/usr/bin:/bin");
		}
		n++;
	}
	CHECK_INT(n, 5);
	free(b);

	struct ps_str noeq = {"JUNK", 4};
	CHECK_INT(ps_env_split(noeq, &k, &v), -1);
	CHECK_MEM(k.p, k.len, "JUNK");
	CHECK_INT(v.len, 0);
	pos = 0;
	CHECK_INT(ps_nul_next("", 0, &pos, &it), 0);
	pos = 0;
	CHECK_INT(ps_nul_next("\0\0", 2, &pos, &it), 1); /* two empty items */
	CHECK_INT(ps_nul_next("\0\0", 2, &pos, &it), 1);
	CHECK_INT(ps_nul_next("\0\0", 2, &pos, &it), 0);
}

static void str_helpers(void)
{
	uint64_t u;
	int64_t i;
	struct ps_str s = {"18446744073709551615", 20};
	CHECK_INT(ps_str_u64(s, &u), 0);
	CHECK_U64(u, UINT64_MAX);
	s.p = "18446744073709551616";
	CHECK_INT(ps_str_u64(s, &u), -1);
	s.p = "99999999999999999999";
	CHECK_INT(ps_str_u64(s, &u), -1);
	s = (struct ps_str){"9223372036854775807", 19};
	CHECK_INT(ps_str_i64(s, &i), 0);
	CHECK_INT(i, INT64_MAX);
	s = (struct ps_str){"-9223372036854775807", 20};
	CHECK_INT(ps_str_i64(s, &i), 0);
	CHECK_INT(i, -INT64_MAX);
	s = (struct ps_str){"-9223372036854775808", 20};
	CHECK_INT(ps_str_i64(s, &i), -1);
	s = (struct ps_str){"-", 1};
	CHECK_INT(ps_str_i64(s, &i), -1);
	s = (struct ps_str){"+1", 2};
	CHECK_INT(ps_str_u64(s, &u), -1);
	s = (struct ps_str){"1 ", 2};
	CHECK_INT(ps_str_u64(s, &u), -1);
	s = (struct ps_str){"", 0};
	CHECK_INT(ps_str_u64(s, &u), -1);
	s = (struct ps_str){"0xffffffffc0a00000", 18};
	CHECK_INT(ps_str_hex(s, &u), 0);
	CHECK_U64(u, 0xffffffffc0a00000ULL);
	s = (struct ps_str){"1ffffffffffffffff", 17};
	CHECK_INT(ps_str_hex(s, &u), -1);
	s = (struct ps_str){"0000000000000000000000000001", 28}; /* leading zeros fine */
	CHECK_INT(ps_str_hex(s, &u), 0);
	CHECK_U64(u, 1);
	s = (struct ps_str){"0x", 2};
	CHECK_INT(ps_str_hex(s, &u), -1);

	s = (struct ps_str){" 1\t22  x 99999999999999999999 3 ", 32};
	size_t pos = 0;
	CHECK_INT(ps_nums_next(s, &pos, &u), 1);
	CHECK_U64(u, 1);
	CHECK_INT(ps_nums_next(s, &pos, &u), 1);
	CHECK_U64(u, 22);
	CHECK_INT(ps_nums_next(s, &pos, &u), -1);
	CHECK_U64(u, PS_U64_UNKNOWN);
	CHECK_INT(ps_nums_next(s, &pos, &u), -1);
	CHECK_INT(ps_nums_next(s, &pos, &u), 1);
	CHECK_U64(u, 3);
	CHECK_INT(ps_nums_next(s, &pos, &u), 0);
	CHECK_INT(ps_nums_next(s, &pos, &u), 0);

	struct ps_str w;
	s = (struct ps_str){"rd wr  mr ", 10};
	pos = 0;
	CHECK_INT(ps_words_next(s, &pos, &w), 1);
	CHECK_MEM(w.p, w.len, "rd");
	CHECK_INT(ps_words_next(s, &pos, &w), 1);
	CHECK_INT(ps_words_next(s, &pos, &w), 1);
	CHECK_MEM(w.p, w.len, "mr");
	CHECK_INT(ps_words_next(s, &pos, &w), 0);

	CHECK(ps_str_eq((struct ps_str){"abc", 3}, "abc"));
	CHECK(!ps_str_eq((struct ps_str){"abc", 2}, "abc"));
	CHECK(ps_str_eq((struct ps_str){NULL, 0}, ""));
}

static void unescape_octal(void)
{
	char d[16];
	struct ps_str s = {"/mnt/a\\040b\\011\\134\\012", 23};
	CHECK_INT(ps_unescape_octal(d, sizeof(d), s), 11);
	CHECK_STR(d, "/mnt/a b\t\\\n");
	/* truncation: snprintf-like result, NUL always written */
	CHECK_INT(ps_unescape_octal(d, 4, s), 11);
	CHECK_STR(d, "/mn");
	CHECK_INT(ps_unescape_octal(NULL, 0, s), 11);
	/* not escapes: kept as is */
	s = (struct ps_str){"a\\9\\07\\400\\", 11};
	CHECK_INT(ps_unescape_octal(d, sizeof(d), s), 11);
	CHECK_STR(d, "a\\9\\07\\400\\");
	s = (struct ps_str){"x\\000y", 6};
	CHECK_INT(ps_unescape_octal(d, sizeof(d), s), 3);
	CHECK(d[0] == 'x' && d[1] == '\0' && d[2] == 'y' && d[3] == '\0');
	d[0] = 'z';
	CHECK_INT(ps_unescape_octal(d, 1, s), 3);
	CHECK_INT(d[0], 0);
}

static const struct t_case cases[] = {
    T(kv_meminfo),	    T(kv_vmstat),   T(kv_proc_stat),   T(kv_forms),
    T(nul_cmdline_environ), T(str_helpers), T(unescape_octal), {0, 0}};
T_MAIN(cases)
