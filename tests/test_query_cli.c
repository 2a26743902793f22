/*
 * test_query_cli.c - how `procsnap query` tells snapshots from SQL (issue
 * 12 item 1): options first, the last operand is the SQL whatever it
 * starts with (an SQL comment `-- ...` too), `--` as the end-of-options
 * marker before or after the SNAPs, -f FILE and -f - (stdin) for the SQL,
 * -F/--format for the output, and the usage errors.
 */
#include "t.h"
#include "tutil.h"

#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#define FIXTURE PS_SOURCE_DIR "/samples/proc-fixture"

static char snap[512];
static struct ps_buf out = PS_BUF_INIT;
static int ok;

static void setup(void)
{
	snprintf(snap, sizeof(snap), "%s/a.tar.zst", tu_tmpdir());
	ok = tu_sh(NULL, "%s capture -q --root %s -o %s", tu_procsnap(), FIXTURE, snap) == 0;
	if (!ok) {
		fprintf(stderr, "capture failed\n");
		t_failures++;
	}
}

static void teardown(void)
{
	ps_buf_release(&out);
	tu_cleanup();
}

/* procsnap query ARGS; the exit status */
__attribute__((format(printf, 1, 2))) static int q(const char *fmt, ...)
{
	struct ps_buf cmd = PS_BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	ps_buf_vaddf(&cmd, fmt, ap);
	va_end(ap);
	int rc = tu_sh(&out, "%s query %s 2>%s/err.txt", tu_procsnap(), cmd.buf, tu_tmpdir());
	ps_buf_release(&cmd);
	return rc;
}

static void test_sql_starting_with_a_comment(void)
{
	if (!ok)
		T_SKIP_CASE("no snapshot");
	/* one public detection kit starts every query with a comment line */
	CHECK_INT(
	    q("-F csv %s \"-- how many processes\nSELECT count(*) AS n FROM processes\"", snap), 0);
	CHECK_STR(out.buf, "n\r\n4\r\n");
	/* the whole SQL a comment: no statement, no output, success */
	CHECK_INT(q("%s '-- nothing'", snap), 0);
	CHECK_INT((int)out.len, 0);
	/* an SQL text that is a lone "-" sign expression */
	CHECK_INT(q("-F csv %s '-1 + 2'", snap), 2); /* not a statement: SQLite's error */
}

static void test_dashdash(void)
{
	if (!ok)
		T_SKIP_CASE("no snapshot");
	CHECK_INT(q("-F csv -- %s 'SELECT 7 AS x'", snap), 0);
	CHECK_STR(out.buf, "x\r\n7\r\n");
	/* after the SNAPs too: the usual marker, dropped */
	CHECK_INT(q("-F csv %s -- '-- c\nSELECT 8 AS x'", snap), 0);
	CHECK_STR(out.buf, "x\r\n8\r\n");
	/* the last operand is the SQL even when it is "--": an empty comment */
	CHECK_INT(q("%s --", snap), 0);
	CHECK_INT((int)out.len, 0);
	/* options after the first SNAP are operands (SNAPs): refused as such */
	CHECK_INT(q("%s -F csv 'SELECT 1'", snap), 2);
}

static void test_sql_from_file(void)
{
	if (!ok)
		T_SKIP_CASE("no snapshot");
	char f[600], args[1400];
	snprintf(f, sizeof(f), "%s/q.sql", tu_tmpdir());
	FILE *fp = fopen(f, "w");
	CHECK(fp != NULL);
	if (!fp)
		return;
	fputs("-- osquery-style pack entry\nSELECT pid, name FROM processes\n"
	      "WHERE pid = 42; -- trailing comment\n",
	      fp);
	fclose(fp);
	snprintf(args, sizeof(args), "--format csv -f %s %s", f, snap);
	CHECK_INT(q("%s", args), 0);
	CHECK_STR(out.buf, "pid,name\r\n42,my (evil) prog\r\n");
	snprintf(args, sizeof(args), "--format=json -f - %s < %s", snap, f);
	CHECK_INT(q("%s", args), 0);
	CHECK_STR(out.buf, "[\n{\"pid\":42,\"name\":\"my (evil) prog\"}\n]\n");
	/* with -f every operand is a SNAP: a second one that is SQL is refused */
	snprintf(args, sizeof(args), "-f %s %s 'SELECT 1'", f, snap);
	CHECK_INT(q("%s", args), 2);
	snprintf(args, sizeof(args), "-f %s/missing.sql %s", tu_tmpdir(), snap);
	CHECK_INT(q("%s", args), 2);
}

static void test_usage(void)
{
	CHECK_INT(q("%s", "'SELECT 1'"), 2); /* no SNAP */
	CHECK_INT(q("-f %s", "/dev/null"), 2);
	CHECK_INT(q("--format xml %s 'SELECT 1'", snap), 2);
	CHECK_INT(q("%s", "--help"), 0);
	CHECK(strstr(out.buf, "-f, --file FILE") != NULL);
}

static const struct t_case t_cases[] = {T(test_sql_starting_with_a_comment),
					T(test_dashdash),
					T(test_sql_from_file),
					T(test_usage),
					{0, 0}};
T_MAIN_SETUP(t_cases, setup, teardown)
