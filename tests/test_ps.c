/*
 * test_ps.c - `procsnap ps` (issue 13, item 1).
 *
 * On a capture of samples/proc-fixture (pid 1 with children 42 and 4242,
 * kthreadd 2; 4242 has a second thread): the default columns, --tree,
 * -L, -o with known and raw columns, --sort, JSON, bad columns.  On a live
 * victim run under a hostile name (<script>, quotes, an ESC byte): its row,
 * its threads, and no control byte on the output.
 */
#include "t.h"
#include "tutil.h"

#include <sys/stat.h>
#include <unistd.h>

#define FIXTURE PS_SOURCE_DIR "/samples/proc-fixture"
#define VICTIM	PS_BINARY_DIR "/tests/victim"

static char fx[600], live[600], evil_exe[600];
static int fx_ok, live_ok;
static struct tu_victim v;
static struct ps_buf out = PS_BUF_INIT;

static int ps(const char *snap, const char *args)
{
	ps_buf_reset(&out);
	return tu_sh(&out, "%s ps %s %s 2>&1", tu_procsnap(), args, snap);
}

static void setup(void)
{
	const char *d = tu_tmpdir();
	snprintf(fx, sizeof(fx), "%s/fx.tar.zst", d);
	fx_ok = tu_sh(NULL, "%s capture -q --root %s -o %s 2>/dev/null", tu_procsnap(), FIXTURE,
		      fx) == 0;
	/* the victim, copied under a hostile file name: comm and cmdline carry it */
	snprintf(live, sizeof(live), "%s/live.tar.zst", d);
	if (tu_hostile_victim(d, evil_exe, sizeof(evil_exe)) != 0)
		return;
	tu_victim_bin = evil_exe;
	static const char *const env[] = {"PATH=/bin", NULL};
	static const char *const args[] = {"arg one", NULL};
	if (tu_victim_start(&v, VICTIM, args, env) != 0)
		return;
	live_ok = tu_sh(NULL, "%s capture -q --pid %d -o %s 2>/dev/null", tu_procsnap(), (int)v.pid,
			live) == 0;
}

static void teardown(void)
{
	tu_victim_stop(&v);
	ps_buf_release(&out);
	tu_cleanup();
}

static void fixture_default(void)
{
	if (!fx_ok)
		T_SKIP_CASE("fixture capture failed");
	CHECK_INT(ps(fx, ""), 0);
	/* ps aux's columns; the fixture's processes started in 2025 */
	CHECK_STR(out.buf,
		  "UID  PID PPID %CPU %MEM   VSZ   RSS TTY STAT START     TIME COMMAND\n"
		  "  0    1    0  0.0  0.0 40608 11412 ?   Ss   2025  00:00:01 /sbin/init splash\n"
		  "  0    2    0  0.0    -     -     - ?   Ss   2025  00:00:01 [kthreadd]\n"
		  "  0   42    1  0.0  0.0 40608 11412 ?   Ss   2025  00:00:01 ./evil --quiet\n"
		  "  0 4242    1  0.0  0.0 40608 11412 ?   Ssl  2025  00:00:01 /usr/bin/python3 "
		  "/opt/my app/serve.py --name=caf\xc3\xa9\\xff\\xfe\n");
}

static void fixture_tree(void)
{
	if (!fx_ok)
		T_SKIP_CASE("fixture capture failed");
	CHECK_INT(ps(fx, "--tree -o pid,ppid,comm"), 0);
	CHECK_STR(out.buf, " PID PPID COMMAND\n"
			   "   1    0 systemd\n"
			   "  42    1  \\_ my (evil) prog\n"
			   "4242    1  \\_ my server\n"
			   "   2    0 kthreadd\n");
	/* siblings in --sort order */
	CHECK_INT(ps(fx, "--tree --sort=-pid -o pid,comm"), 0);
	CHECK_STR(out.buf, " PID COMMAND\n"
			   "   2 kthreadd\n"
			   "   1 systemd\n"
			   "4242  \\_ my server\n"
			   "  42  \\_ my (evil) prog\n");
}

/* A crafted index whose parents loop (1 -> 42 -> 1): every process is
 * still printed once, the loop started from its lowest pid. */
static void parent_loop(void)
{
	if (!fx_ok)
		T_SKIP_CASE("fixture capture failed");
	char src[700], db[700];
	snprintf(src, sizeof(src), "%s.db", fx);
	CHECK_INT(tu_crafted_index(src, "loop.db", "UPDATE processes SET parent = 42 WHERE pid = 1",
				   db, sizeof(db)),
		  0);
	CHECK_INT(ps(db, "--tree -o pid,ppid,comm"), 0);
	CHECK_STR(out.buf, " PID PPID COMMAND\n"
			   "   2    0 kthreadd\n"
			   "   1   42 systemd\n"
			   "  42    1  \\_ my (evil) prog\n"
			   "4242    1  \\_ my server\n");
}

static void fixture_threads(void)
{
	if (!fx_ok)
		T_SKIP_CASE("fixture capture failed");
	CHECK_INT(ps(fx, "-L -o pid,lwp,comm,state"), 0);
	CHECK_STR(out.buf, " PID  LWP COMMAND        S\n"
			   "   1    1 systemd        S\n"
			   "   2    2 kthreadd       S\n"
			   "  42   42 my (evil) prog S\n"
			   "4242 4242 my server      S\n"
			   "4242 4250 worker 1       S\n");
	/* -L --tree: threads under their process's row, same branch */
	CHECK_INT(ps(fx, "-L --tree -o pid,lwp,comm"), 0);
	CHECK_STR(out.buf, " PID  LWP COMMAND\n"
			   "   1    1 systemd\n"
			   "  42   42  \\_ my (evil) prog\n"
			   "4242 4242  \\_ my server\n"
			   "4242 4250  \\_ worker 1\n"
			   "   2    2 kthreadd\n");
}

static void fixture_columns(void)
{
	if (!fx_ok)
		T_SKIP_CASE("fixture capture failed");
	/* known, aliased and raw processes columns; descending sort */
	CHECK_INT(ps(fx, "-o pid,args,oom_score_adj,exe_deleted --sort=-pid"), 0);
	CHECK(strncmp(out.buf, " PID COMMAND", 12) == 0);
	CHECK(strstr(out.buf, "OOM_SCORE_ADJ EXE_DELETED\n") != NULL);
	const char *l1 = strchr(out.buf, '\n');
	CHECK(l1 && strncmp(l1 + 1, "4242 ", 5) == 0);
	CHECK_INT(ps(fx, "-o pid --sort=-rss,pid"), 0);
	CHECK_STR(out.buf, " PID\n   1\n  42\n4242\n   2\n");
	CHECK_INT(ps(fx, "-o pid,lstart,etimes,tty,nlwp --sort=pid"), 0);
	CHECK(strstr(out.buf, "4242 ") && strstr(out.buf, "STARTED"));
	/* errors: exit 2 and one line naming the column */
	CHECK_INT(ps(fx, "-o pid,nosuch"), 2);
	CHECK(strstr(out.buf, "unknown column 'nosuch'") != NULL);
	CHECK_INT(ps(fx, "-o 'pid;drop table processes'"), 2);
	CHECK_INT(ps(fx, "--sort=,pid"), 2);
	CHECK_INT(ps(fx, "--format xml"), 2);
	CHECK_INT(ps(fx, "--snapshot 7"), 2);
	CHECK(strstr(out.buf, "no snapshot 7") != NULL);
}

static void fixture_json(void)
{
	if (!fx_ok)
		T_SKIP_CASE("fixture capture failed");
	CHECK_INT(ps(fx, "--tree -f json -o pid,rss,time,tty,comm"), 0);
	CHECK_STR(out.buf,
		  "[\n"
		  "{\"pid\":1,\"rss\":11412,\"time\":1.650,\"tty\":null,\"comm\":\"systemd\","
		  "\"depth\":0},\n"
		  "{\"pid\":42,\"rss\":11412,\"time\":1.650,\"tty\":null,\"comm\":\"my (evil) "
		  "prog\",\"depth\":1},\n"
		  "{\"pid\":4242,\"rss\":11412,\"time\":1.650,\"tty\":null,\"comm\":\"my "
		  "server\",\"depth\":1},\n"
		  "{\"pid\":2,\"rss\":null,\"time\":1.650,\"tty\":null,\"comm\":\"kthreadd\","
		  "\"depth\":0}\n"
		  "]\n");
}

/* No byte below 0x20 but newline, no DEL, no C1 (as UTF-8 or raw). */
static int term_clean(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c < 0x20 && c != '\n') || c == 0x7f)
			return 0;
		if (c == 0xc2 && i + 1 < n && (unsigned char)s[i + 1] >= 0x80 &&
		    (unsigned char)s[i + 1] <= 0x9f)
			return 0;
	}
	return 1;
}

static void live_hostile(void)
{
	if (!live_ok)
		T_SKIP_CASE("live victim capture failed");
	char want[128];
	CHECK_INT(ps(live, "-o pid,comm"), 0);
	snprintf(want, sizeof(want), "%d <script>x\"'\\x1b\n", (int)v.pid);
	CHECK(strstr(out.buf, want) != NULL);
	CHECK(term_clean(out.buf, out.len));
	CHECK_INT(ps(live, ""), 0);
	CHECK(strstr(out.buf, "/<script>x\"'\\x1b " VICTIM " arg one\n") != NULL);
	CHECK(term_clean(out.buf, out.len));
	/* the victim's 4 threads (main + 3) */
	CHECK_INT(ps(live, "-L -o lwp"), 0);
	size_t lines = 0;
	for (size_t i = 0; i < out.len; i++)
		lines += out.buf[i] == '\n';
	CHECK_INT(lines, 5);
	/* JSON keeps the bytes as JSON escapes */
	CHECK_INT(ps(live, "-f json -o comm"), 0);
	CHECK(strstr(out.buf, "\"comm\":\"<script>x\\\"'\\u001b\"") != NULL);
}

static const struct t_case t_cases[] = {T(fixture_default), T(fixture_tree),	T(parent_loop),
					T(fixture_threads), T(fixture_columns), T(fixture_json),
					T(live_hostile),    {NULL, NULL}};
T_MAIN_SETUP(t_cases, setup, teardown)
