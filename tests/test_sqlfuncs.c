/*
 * test_sqlfuncs.c - osquery's SQL functions (store/sqlfuncs.c, issue 12
 * item 4) on the connections procsnap reads indexes through: the values of
 * osquery's documented examples, its NULL and error rules, the regex
 * dialect (PCRE2), and that every function is usable where
 * trusted_schema=OFF forbids the non-innocuous ones (a view).  One query
 * through `procsnap query` proves they are there for users.
 */
#include "t.h"
#include "tutil.h"

#include "store.h"

#include <sqlite3.h>
#include <string.h>

#define FIXTURE PS_SOURCE_DIR "/samples/proc-fixture"

static sqlite3 *db;

static void setup(void)
{
	struct ps_err err = {0, ""};
	if (ps_index_open_memory(&db, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		t_failures++;
	}
}

static void teardown(void)
{
	sqlite3_close(db);
	tu_cleanup();
}

/* The single value of sql as text ("NULL" for NULL, "ERR: msg" for an
 * error), into a static buffer. */
static const char *v(const char *sql)
{
	static char out[512];
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		snprintf(out, sizeof(out), "ERR: %s", sqlite3_errmsg(db));
		return out;
	}
	int r = sqlite3_step(st);
	if (r != SQLITE_ROW)
		snprintf(out, sizeof(out), "ERR: %s", sqlite3_errmsg(db));
	else if (sqlite3_column_type(st, 0) == SQLITE_NULL)
		snprintf(out, sizeof(out), "NULL");
	else
		snprintf(out, sizeof(out), "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return out;
}

static void test_string(void)
{
	/* osquery's docs, "SQL additions" */
	CHECK_STR(v("SELECT concat('hello', NULL, ' ', 'world')"), "hello world");
	CHECK_STR(v("SELECT concat_ws(' ', 'hello', NULL, 'world')"), "hello world");
	/* its separator rule: after every argument but the last, NULL ones too */
	CHECK_STR(v("SELECT concat_ws('-', 'a', NULL)"), "a-");
	CHECK_STR(v("SELECT concat_ws('-', NULL, 'b')"), "b");
	CHECK_STR(v("SELECT concat_ws(NULL, 'a', 'b')"), "ab");
	CHECK_STR(v("SELECT concat()"), "NULL");
	CHECK_STR(v("SELECT concat(1, 2.5, 'x')"), "12.5x");
	CHECK(strncmp(v("SELECT concat_ws()"), "ERR: Missing separator", 22) == 0);
	CHECK_STR(v("SELECT split('192.168.0.1', '.', 1)"), "168");
	CHECK_STR(v("SELECT split('192.168.0.1', '.0', 0)"), "192");
	CHECK_STR(v("SELECT split(500, 1, 0)"), "500");
	CHECK_STR(v("SELECT split(1001, 1, 0)"), "00");
	/* empty pieces dropped, pieces trimmed */
	CHECK_STR(v("SELECT split('a,,b', ',', 1)"), "b");
	CHECK_STR(v("SELECT split(' a , b ', ',', 1)"), "b");
	CHECK_STR(v("SELECT split('a,b', ',', 2)"), "NULL");
	CHECK_STR(v("SELECT split('a,b', ',', -1)"), "NULL");
	CHECK_STR(v("SELECT split(NULL, ',', 0)"), "NULL");
	CHECK_STR(v("SELECT split('a', '', 0)"), "ERR: Invalid input to split function");
	CHECK_STR(v("SELECT inet_aton('1.0.1.5')"), "16777477");
	CHECK_STR(v("SELECT inet_aton('::1')"), "NULL");
	CHECK_STR(v("SELECT inet_aton('1.2.3')"), "NULL");
	CHECK_STR(v("SELECT parent_directory('/usr/bin/ls')"), "/usr/bin");
	CHECK_STR(v("SELECT parent_directory('/ls')"), "");
	CHECK_STR(v("SELECT parent_directory('ls')"), "NULL");
	CHECK(strncmp(v("SELECT parent_directory(1)"), "ERR: Invalid inputs", 19) == 0);
}

static void test_regex(void)
{
	CHECK_STR(v("SELECT regex_match('hello world. Goodbye', '(\\w+) \\w+', 0)"), "hello world");
	CHECK_STR(v("SELECT regex_match('hello world. Goodbye', '(\\w+) \\w+', 1)"), "hello");
	CHECK_STR(v("SELECT regex_match('hello world', '(\\w+) \\w+', 2)"), "NULL");
	CHECK_STR(v("SELECT regex_match('hello', 'x', 0)"), "NULL");
	CHECK_STR(v("SELECT regex_match('ab', 'a(x)?b', 1)"), ""); /* a group that took no part */
	CHECK_STR(v("SELECT regex_match('/tmp/.x/a.so', '^/tmp/(\\.[^/]+)/', 1)"), ".x");
	CHECK_STR(v("SELECT regex_match('v1.22', '\\d+\\.(\\d+)', 1)"), "22"); /* \d (ECMAScript) */
	CHECK_STR(v("SELECT regex_match(NULL, 'a', 0)"), "NULL");
	CHECK_STR(v("SELECT regex_match('a', '(', 0)"), "ERR: Invalid regex");
	CHECK_STR(v("SELECT regex_match('a', printf('%.300c', 'a'), 0)"),
		  "ERR: Invalid regex: too big, max size is 256 bytes");
	/* catastrophic backtracking ends with an error, not a hang */
	CHECK(strncmp(v("SELECT regex_match(printf('%.40c', 'a') || 'b', '(a+)+$', 0)"),
		      "ERR:", 4) == 0);
	CHECK_STR(v("SELECT regex_split('192.168.0.1', '\\.0', 0)"), "192.168");
	CHECK_STR(v("SELECT regex_split('192.168.0.1', '\\.0', 1)"), ".1");
	CHECK_STR(v("SELECT regex_split('1001', '[1-5]', 0)"), "");
	CHECK_STR(v("SELECT regex_split('1001', '[1-5]', 1)"), "00");
	CHECK_STR(v("SELECT regex_split('1001', '[1-5]', 2)"), "NULL"); /* no empty last piece */
	CHECK_STR(v("SELECT regex_split('a,,b', ',', 1)"), "");
	CHECK_STR(v("SELECT regex_split('a', '', 0)"), "ERR: Invalid input to split function");
	CHECK_STR(v("SELECT regex_split(NULL, '', 0)"), "NULL");
	CHECK_STR(v("SELECT regex_split('abc', 'x', 0)"), "abc");
	/* empty matches move on by one: "", "a", "b", "c" as std::regex gives */
	CHECK_STR(v("SELECT regex_split('abc', 'x*', 0)"), "");
	CHECK_STR(v("SELECT regex_split('abc', 'x*', 2)"), "b");
	CHECK_STR(v("SELECT regex_split('abc', 'x*', 4)"), "NULL");
	/* a pattern from a column: compiled per row, each row its own */
	CHECK_STR(v("SELECT group_concat(regex_match(s, p, 0), '|') FROM (SELECT 'a1' s, '\\d' p "
		    "UNION ALL SELECT 'b2', '[a-z]')"),
		  "1|b");
}

static void test_encoding_hashes(void)
{
	CHECK_STR(v("SELECT to_base64('CPU0')"), "Q1BVMA==");
	CHECK_STR(v("SELECT to_base64('')"), "");
	CHECK_STR(v("SELECT from_base64('Q1BVMA==')"), "CPU0");
	CHECK_STR(v("SELECT from_base64('Q1BV\nMA')"), "CPU0");
	CHECK_STR(v("SELECT from_base64('not base64!')"), "");
	CHECK_STR(v("SELECT from_base64(NULL)"), "NULL");
	CHECK_STR(v("SELECT conditional_to_base64('CPU0')"), "CPU0");
	CHECK_STR(v("SELECT conditional_to_base64('CPU0' || char(183))"), "Q1BVMMK3");
	CHECK_STR(v("SELECT conditional_to_base64('a' || char(9))"), "YQk=");
	CHECK_STR(v("SELECT sha1('Guest')"), "face83ee3014bdc8f98203cc94e2e89222452e90");
	CHECK_STR(v("SELECT md5('')"), "d41d8cd98f00b204e9800998ecf8427e");
	CHECK_STR(v("SELECT sha256('abc')"),
		  "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	CHECK_STR(v("SELECT md5(NULL)"), "NULL");
	/* osquery's examples */
	CHECK_STR(v("SELECT community_id_v1('66.35.250.204', '128.232.110.120', 80, 34855, 6)"),
		  "1:LQU9qZlK+B5F3KDmev6m5PMibrg=");
	CHECK_STR(v("SELECT community_id_v1('66.35.250.204', '2001:0:3238:DFE1:63::FEFB', 80, "
		    "2347, 6)"),
		  "1:rxU6O+b2d9kbSWjRmVDoBbowx6g=");
	CHECK_STR(v("SELECT community_id_v1('66.35.250.204', '2001:0:3238:DFE1:63::FEFB', 80, "
		    "2347, 6, 37)"),
		  "1:jmJ2ORP31di4mtsQPIKzyoEb3yo=");
	/* the same flow seen from the other end */
	CHECK_STR(v("SELECT community_id_v1('128.232.110.120', '66.35.250.204', 34855, 80, 6)"),
		  "1:LQU9qZlK+B5F3KDmev6m5PMibrg=");
	CHECK_STR(v("SELECT community_id_v1('', '1.2.3.4', 1, 2, 6)"), "NULL");
	CHECK_STR(v("SELECT community_id_v1_strict('', '1.2.3.4', 1, 2, 6)"),
		  "ERR: Community ID saddr cannot be parsed as IP");
	CHECK_STR(v("SELECT community_id_v1_strict('1.2.3.4', '1.2.3.5', 70000, 2, 6)"),
		  "ERR: Community ID ports must fit in 2 bytes");
}

static void test_network_math(void)
{
	CHECK_STR(v("SELECT in_cidr_block('10.0.0.0/26', '10.0.0.24')"), "1");
	CHECK_STR(v("SELECT in_cidr_block('10.0.0.0/26', '10.0.0.64')"), "0");
	CHECK_STR(v("SELECT in_cidr_block('2001:db8::/48', '2001:db8:0:ffff:ffff:ffff:ffff:ffff')"),
		  "1");
	CHECK_STR(v("SELECT in_cidr_block('2001:db8::/48', '2001:db9::1')"), "0");
	CHECK_STR(v("SELECT in_cidr_block('0.0.0.0/0', '8.8.8.8')"), "1");
	CHECK_STR(v("SELECT in_cidr_block('10.0.0.0/26', '::1')"),
		  "ERR: CIDR for IP address v6 cannot be parsed");
	CHECK_STR(v("SELECT in_cidr_block('10.0.0.0/26', 'x')"),
		  "ERR: IP address cannot be parsed");
	CHECK_STR(v("SELECT in_cidr_block(1, '1.2.3.4')"), "ERR: CIDR must be a string");
	CHECK_STR(v("SELECT sqrt(16)"), "4.0");
	CHECK_STR(v("SELECT log(1)"), "0.0"); /* natural, as osquery (SQLite's is base 10) */
	CHECK_STR(v("SELECT log10(1000)"), "3.0");
	CHECK_STR(v("SELECT power(2, 10)"), "1024.0");
	CHECK_STR(v("SELECT ceil(1.2)"), "2");
	CHECK_STR(v("SELECT floor(-1.2)"), "-2");
	CHECK_STR(v("SELECT ceil(7)"), "7");
	CHECK_STR(v("SELECT ceil(NULL)"), "NULL");
	CHECK_STR(v("SELECT round(degrees(pi()), 6)"), "180.0");
	CHECK_STR(v("SELECT round(radians(180) - pi(), 9)"), "0.0");
	CHECK_STR(v("SELECT round(sin(0) + cos(0) + tan(0) + asin(0) + acos(1) + atan(0), 9)"),
		  "1.0");
	CHECK_STR(v("SELECT round(cot(1), 6)"), "0.642093");
	CHECK(strncmp(v("SELECT sqrt(-1)"), "ERR:", 4) == 0); /* EDOM, as osquery */
	CHECK(strncmp(v("SELECT log(0)"), "ERR:", 4) == 0);   /* ERANGE */
}

static void null_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	(void)argv;
	sqlite3_result_null(ctx);
}

/* trusted_schema is off: only innocuous functions may run from a view. */
static void test_innocuous(void)
{
	static const char *const calls[] = {
	    "split('a', 'b', 0)",
	    "regex_split('a', 'b', 0)",
	    "regex_match('a', 'a', 0)",
	    "inet_aton('1.2.3.4')",
	    "concat('a')",
	    "concat_ws('a', 'b')",
	    "to_base64('a')",
	    "from_base64('YQ==')",
	    "conditional_to_base64('a')",
	    "md5('a')",
	    "sha1('a')",
	    "sha256('a')",
	    "community_id_v1('1.2.3.4', '1.2.3.5', 1, 2, 6)",
	    "community_id_v1('1.2.3.4', '1.2.3.5', 1, 2, 6, 1)",
	    "community_id_v1_strict('1.2.3.4', '1.2.3.5', 1, 2, 6)",
	    "community_id_v1_strict('1.2.3.4', '1.2.3.5', 1, 2, 6, 1)",
	    "in_cidr_block('1.2.3.0/24', '1.2.3.4')",
	    "parent_directory('/a/b')",
	    "sqrt(4)",
	    "acos(1)",
	    "asin(0)",
	    "atan(0)",
	    "cos(0)",
	    "sin(0)",
	    "tan(0)",
	    "cot(1)",
	    "exp(0)",
	    "log(1)",
	    "log10(1)",
	    "power(2, 2)",
	    "ceil(1.5)",
	    "floor(1.5)",
	    "degrees(1)",
	    "radians(1)",
	    "pi()",
	};
	char sql[256];
	CHECK_STR(v("PRAGMA trusted_schema"), "0");
	sqlite3_exec(db, "ATTACH ':memory:' AS aux", NULL, NULL, NULL);
	for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
		snprintf(sql, sizeof(sql), "CREATE VIEW aux.f%zu AS SELECT %s AS x", i, calls[i]);
		CHECK_INT(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
		snprintf(sql, sizeof(sql), "SELECT x IS NOT NULL FROM aux.f%zu", i);
		if (strcmp(v(sql), "1") != 0) {
			fprintf(stderr, "%s from a view: %s\n", calls[i], v(sql));
			t_failures++;
		}
	}
	/* the check itself works: a function registered without the flag fails */
	CHECK_INT(
	    sqlite3_create_function(db, "not_innocuous", 0, SQLITE_UTF8, NULL, null_fn, NULL, NULL),
	    SQLITE_OK);
	sqlite3_exec(db, "CREATE VIEW aux.bad AS SELECT not_innocuous() AS x", NULL, NULL, NULL);
	CHECK(strstr(v("SELECT x FROM aux.bad"), "unsafe use") != NULL);
}

/* Through the command: a snapshot's rows fed to the functions. */
static void test_query(void)
{
	struct ps_buf out = PS_BUF_INIT;
	char snap[512];
	snprintf(snap, sizeof(snap), "%s/a.tar.zst", tu_tmpdir());
	if (tu_sh(NULL, "%s capture -q --root %s -o %s 2>/dev/null", tu_procsnap(), FIXTURE,
		  snap) != 0)
		T_SKIP_CASE("no capture");
	CHECK_INT(
	    tu_sh(&out,
		  "%s query -F csv %s \"SELECT concat_ws(':', pid, split(cmdline, ' ', 0)) AS "
		  "x, regex_match(path, '([^/]+)$', 1) AS base FROM processes WHERE pid = 1\"",
		  tu_procsnap(), snap),
	    0);
	CHECK_STR(out.buf, "x,base\r\n1:/sbin/init,systemd\r\n");
	ps_buf_release(&out);
}

static const struct t_case t_cases[] = {
    T(test_string), T(test_regex), T(test_encoding_hashes), T(test_network_math), T(test_innocuous),
    T(test_query),  {0, 0}};
T_MAIN_SETUP(t_cases, setup, teardown)
