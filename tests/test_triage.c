/*
 * test_triage.c - `procsnap triage` (DESIGN 7): which rules fire, for which
 * pids, exactly.
 *
 *  - the fixture tree (samples/proc-fixture): pid 42 trips most process
 *    rules, the kernel is tainted (4096) and one module is (OE);
 *  - crafted copies of its index: one made to trip the rules no live process
 *    or fixture can (hidden pid, memfd exe, fake kernel thread, partial
 *    capture, exposed and suspicious listeners, more taint bits), one with
 *    every finding removed (nothing fires, exit 0);
 *  - live victims (tests/victim.c) captured together, each made to trip its
 *    rules, against a clean victim that trips none: a copy run from /tmp and
 *    deleted, listening on 0.0.0.0 in its own network namespace (so nothing
 *    is exposed on the host); a clean one listening there too; LD_PRELOAD of
 *    a harmless library copied to /tmp; an rwx anonymous mapping; one under
 *    ptrace (PTRACE_SEIZE by this test); one exec'ed through a symlink with a
 *    different name and argv[0] "[kworker/1:2]";
 *  - the same findings through several SNAPs (union views) and a merged index;
 *    options, exit status, --list, CSV and JSON.
 * When the build tree itself is under /tmp, every victim's exe is, so
 * exe-in-tmp is expected for each of them (a true finding).
 */
#include "t.h"
#include "tutil.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/ioctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define FIXTURE PS_SOURCE_DIR "/samples/proc-fixture"
#define VICTIM	PS_BINARY_DIR "/tests/victim"

enum { V_CLEAN, V_TMP, V_NET, V_PRELOAD, V_RWX, V_TRACED, V_DISGUISED, V_N };
static struct tu_victim vics[V_N];
static int started[V_N];
static int have_netns = 1, have_ptrace, bin_in_tmp, tmp_port;
static char d_file[512], d_fx[512], d_vic[512], d_tmpexe[512], d_lib[512];
static int fx_ok, vic_ok;
static struct ps_buf out = PS_BUF_INIT;

/* Every rule, in the order triage runs them (severity, then id). */
static const char all_rules[] =
    "code-patched high\ndeleted-exe high\nexe-in-tmp high\nexec-map-memfd high\n"
    "fake-kthread high\nhidden-pid high\nld-so-preload high\n"
    "listener-suspicious high\nmasked-pid high\nmemfd-exe high\nmodule-hidden high\n"
    "pid-unreachable high\nself-preload high\nself-traced high\n"
    "stat-flags-undefined high\nargv0-masquerade medium\nbpf-tracing-prog medium\n"
    "census-mismatch medium\nexec-anon-mapping medium\nexec-map-tmp medium\n"
    "kernel-tainted medium\nld-preload medium\nmodule-unsigned medium\n"
    "rwx-anon-mapping medium\nsocket-hidden medium\ntraced medium\n"
    "comm-exe-mismatch low\ncwd-in-tmp low\nexec-map-deleted low\n"
    "jit-exec-memory info\nlistener-exposed info\npartial-capture info";

/* What fires on the fixture ("rule pid", '-' for a system finding). */
static const char fixture_rows[] =
    "comm-exe-mismatch 42\ncwd-in-tmp 42\ndeleted-exe 42\nexe-in-tmp 42\nexec-map-deleted 42\n"
    "exec-map-tmp 42\nkernel-tainted -\nld-preload 42\nmodule-unsigned -\nrwx-anon-mapping 42\n"
    "traced 42";

/* ---- helpers ------------------------------------------------------------------ */

static int triage(const char *args)
{
	return tu_sh(&out, "%s triage %s 2>/dev/null", tu_procsnap(), args);
}

/* "rule pid" lines for a space-separated list of rule ids, sorted; plus
 * exe-in-tmp when the build tree is under a temp dir. */
static void expect(const char *ids, int pid, struct ps_buf *res)
{
	char *copy = ps_xstrdup(ids), *save = NULL;
	int tmp = 0;
	ps_buf_reset(res);
	for (char *t = strtok_r(copy, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
		ps_buf_addf(res, "%s%s %d", res->len ? "\n" : "", t, pid);
		tmp |= strcmp(t, "exe-in-tmp") == 0;
	}
	if (bin_in_tmp && !tmp)
		ps_buf_addf(res, "%sexe-in-tmp %d", res->len ? "\n" : "", pid);
	free(copy);
	tu_sort_lines(res);
}

/* In the victim's child before exec: a network namespace of its own, lo up;
 * 125 when none can be made. */
static int newnet(void)
{
	struct ifreq ifr;
	int s;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (unshare(CLONE_NEWNET) < 0 || (s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0 ||
	    ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		return 125;
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
		return 125;
	close(s);
	return 0;
}

/* Start tests/victim as exe with argv {argv0, d_file}, envp env, cwd /, and
 * optionally in a new network namespace with lo up.  0, -1, or 125 when no
 * network namespace could be made. */
static int start(struct tu_victim *v, const char *exe, const char *argv0, const char *const *env,
		 int newnet_ns)
{
	const char *argv[] = {argv0, d_file, NULL};
	char line[512];
	int st = 0, rpid = -1;
	if (tu_victim_exec(v, exe, argv, env, newnet_ns ? newnet : NULL, line, sizeof(line), &st) <
	    0)
		return WIFEXITED(st) && WEXITSTATUS(st) == 125 ? 125 : -1;
	if (sscanf(
		line,
		"ready pid=%d port=%d file_fd=%d pipe_r=%d pipe_w=%d sock_fd=%d map=%lx pages=%d",
		&rpid, &v->port, &v->file_fd, &v->pipe_r, &v->pipe_w, &v->sock_fd, &v->map,
		&v->pages) != 8 ||
	    rpid != v->pid)
		return -1;
	return 0;
}

static void must(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "setup: %s failed\n", what);
		t_failures++;
	}
}

static void setup(void)
{
	const char *d = tu_tmpdir();
	char rp[PATH_MAX], reply[128];
	snprintf(d_file, sizeof(d_file), "%s/known file.txt", d);
	snprintf(d_fx, sizeof(d_fx), "%s/fx.tar.zst", d);
	snprintf(d_vic, sizeof(d_vic), "%s/vic.tar.zst", d);
	snprintf(d_tmpexe, sizeof(d_tmpexe), "%s/bin/victim", d);
	snprintf(d_lib, sizeof(d_lib), "%s/lib/libtriage.so", d);
	bin_in_tmp = realpath(VICTIM, rp) && tu_under_tmp(rp);
	must(tu_sh(NULL, "head -c 5000 /dev/zero > '%s'", d_file) == 0, "file");
	fx_ok = tu_sh(NULL, "%s capture -q --root %s -o %s", tu_procsnap(), FIXTURE, d_fx) == 0;
	must(fx_ok, "capture of the fixture");
	must(tu_under_tmp(d), "tmpdir under /tmp");

	const char *env[] = {"PATH=/usr/bin:/bin", NULL};
	char preload[600];
	snprintf(preload, sizeof(preload), "LD_PRELOAD=%s", d_lib);
	/* an ASan victim refuses a library preloaded before its runtime */
	const char *env_pre[] = {"PATH=/usr/bin:/bin", preload,
				 "ASAN_OPTIONS=verify_asan_link_order=0", NULL};
	must(tu_sh(NULL, "mkdir -p %s/bin %s/lib && cp %s %s && cp %s %s", d, d, VICTIM, d_tmpexe,
		   TRIAGE_PRELOAD, d_lib) == 0,
	     "copies");
	char link[600];
	snprintf(link, sizeof(link), "%s/sysupdate", d);
	must(symlink(VICTIM, link) == 0, "symlink");

	started[V_CLEAN] = start(&vics[V_CLEAN], VICTIM, VICTIM, env, 0) == 0;
	int r = start(&vics[V_TMP], d_tmpexe, d_tmpexe, env, 1);
	if (r == 125) {
		have_netns = 0;
		printf("note: no network namespace here: listener checks skipped\n");
		r = start(&vics[V_TMP], d_tmpexe, d_tmpexe, env, 0);
	}
	started[V_TMP] = r == 0;
	if (started[V_TMP] && have_netns) {
		must(tu_victim_cmd(&vics[V_TMP], reply, sizeof(reply), "listen 0.0.0.0") == 0 &&
			 sscanf(reply, "ok port=%d", &tmp_port) == 1,
		     "listen");
	}
	must(unlink(d_tmpexe) == 0, "unlink");
	if (have_netns) {
		started[V_NET] = start(&vics[V_NET], VICTIM, VICTIM, env, 1) == 0;
		must(started[V_NET] && tu_victim_cmd(&vics[V_NET], NULL, 0, "listen 0.0.0.0") == 0,
		     "listen");
	}
	started[V_PRELOAD] = start(&vics[V_PRELOAD], VICTIM, VICTIM, env_pre, 0) == 0;
	started[V_RWX] = start(&vics[V_RWX], VICTIM, VICTIM, env, 0) == 0;
	must(started[V_RWX] && tu_victim_cmd(&vics[V_RWX], NULL, 0, "mapx 4") == 0, "mapx");
	started[V_TRACED] = start(&vics[V_TRACED], VICTIM, VICTIM, env, 0) == 0;
	if (started[V_TRACED]) {
		have_ptrace = ptrace(PTRACE_SEIZE, vics[V_TRACED].pid, NULL, NULL) == 0;
		if (!have_ptrace)
			printf("note: ptrace not allowed here (%s): traced check skipped\n",
			       strerror(errno));
	}
	started[V_DISGUISED] = start(&vics[V_DISGUISED], link, "[kworker/1:2]", env, 0) == 0;

	struct ps_buf cmd = PS_BUF_INIT;
	ps_buf_addf(&cmd, "%s capture -q --no-pagemap -o %s", tu_procsnap(), d_vic);
	for (int i = 0; i < V_N; i++) {
		if (i != V_NET || have_netns)
			must(started[i], "victim start");
		if (started[i])
			ps_buf_addf(&cmd, " --pid %d", vics[i].pid);
	}
	vic_ok = tu_sh(NULL, "%s", cmd.buf) == 0;
	must(vic_ok, "capture of the victims");
	ps_buf_release(&cmd);
}

static void teardown(void)
{
	for (int i = 0; i < V_N; i++)
		if (started[i])
			tu_victim_stop(&vics[i]);
	ps_buf_release(&out);
	tu_cleanup();
}

/* ---- tests -------------------------------------------------------------------- */

static void test_list(void)
{
	struct ps_buf got = PS_BUF_INIT;
	CHECK_INT(triage("--list -f csv"), 0);
	/* "id severity" of each row, in order */
	for (const char *p = strstr(out.buf, "\r\n"); p && p[2]; p = strstr(p + 2, "\r\n")) {
		const char *c1 = strchr(p + 2, ','), *c2 = c1 ? strchr(c1 + 1, ',') : NULL;
		if (!c2)
			break;
		if (got.len)
			ps_buf_addc(&got, '\n');
		ps_buf_add(&got, p + 2, (size_t)(c1 - p - 2));
		ps_buf_addc(&got, ' ');
		ps_buf_add(&got, c1 + 1, (size_t)(c2 - c1 - 1));
	}
	CHECK_STR(got.buf, all_rules);
	CHECK_INT(triage("--list"), 0);
	CHECK(strstr(out.buf, "deleted-exe ") && strstr(out.buf, "partial-capture "));
	CHECK_INT(tu_sh(&out,
			"%s triage --list -f json | python3 -c 'import json,sys; "
			"print(len(json.load(sys.stdin)))'",
			tu_procsnap()),
		  0);
	CHECK_STR(out.buf, "32\n");
	CHECK_INT(triage("--list /nonexistent"), 2);
	ps_buf_release(&got);
}

static void test_fixture(void)
{
	if (!fx_ok)
		return;
	struct ps_buf got = PS_BUF_INIT;
	char args[700], d[512];
	snprintf(args, sizeof(args), "-f csv %s", d_fx);
	CHECK_INT(triage(args), 1);
	CHECK(strncmp(out.buf, "rule,severity,snapshot_id,pid,name,detail\r\n", 43) == 0);
	tu_triage_rows(out.buf, 0, 0, &got);
	CHECK_STR(got.buf, fixture_rows);
	tu_triage_detail(out.buf, "kernel-tainted", 0, d, sizeof(d));
	CHECK_STR(d, "tainted = 4096: O out-of-tree module");
	tu_triage_detail(out.buf, "traced", 42, d, sizeof(d));
	CHECK_STR(d, "traced by pid 4242 (my server)");
	tu_triage_detail(out.buf, "deleted-exe", 42, d, sizeof(d));
	CHECK_STR(d, "/tmp/.x/evil (deleted)");
	tu_triage_detail(out.buf, "exec-map-tmp", 42, d, sizeof(d));
	CHECK_STR(d, "/tmp/.x/libhide.so (deleted)");
	tu_triage_detail(out.buf, "ld-preload", 42, d, sizeof(d));
	CHECK_STR(d, "LD_PRELOAD=/tmp/.x/libhide.so");
	tu_triage_detail(out.buf, "module-unsigned", 0, d, sizeof(d));
	CHECK_STR(d, "module hidemod (OE): out-of-tree unsigned, size 16384, used by -");
	tu_triage_detail(out.buf, "rwx-anon-mapping", 42, d, sizeof(d));
	CHECK_STR(d, "1 rwx anonymous mapping, 4 kB, first at 0x7f0000000000");
	/* the index, the table format and its summary */
	snprintf(args, sizeof(args), "%s.db", d_fx);
	CHECK_INT(triage(args), 1);
	CHECK(strstr(out.buf, "[high] deleted-exe - Running executable deleted from disk: "
			      "1 finding\n") != NULL);
	CHECK(strstr(out.buf, "\n11 findings (2 high, 6 medium, 3 low, 0 info) from 32 rules "
			      "over 1 snapshot; 11 at or above low\n") != NULL);
	CHECK(strstr(out.buf, "snapshot 1:") == NULL); /* legend only for several */
	/* JSON is one document with every rule that ran */
	CHECK_INT(
	    tu_sh(&out,
		  "%s triage -f json %s | python3 -c 'import json,sys; d=json.load(sys.stdin); "
		  "print(len(d[\"rules\"]), sum(len(r[\"findings\"]) for r in d[\"rules\"]), "
		  "d[\"summary\"][\"counted\"], [r for r in d[\"rules\"] if r[\"id\"] == "
		  "\"deleted-exe\"][0][\"findings\"][0][\"exe\"])'",
		  tu_procsnap(), d_fx),
	    0);
	CHECK_STR(out.buf, "32 11 11 /tmp/.x/evil\n");
	ps_buf_release(&got);
}

static void test_options(void)
{
	if (!fx_ok)
		return;
	struct ps_buf got = PS_BUF_INIT;
	char args[700];
	snprintf(args, sizeof(args), "-f csv --rule traced --rule kernel-tainted %s", d_fx);
	CHECK_INT(triage(args), 1);
	tu_triage_rows(out.buf, 0, 0, &got);
	CHECK_STR(got.buf, "kernel-tainted -\ntraced 42");
	snprintf(args, sizeof(args), "-f csv --min-severity high %s", d_fx);
	CHECK_INT(triage(args), 1);
	tu_triage_rows(out.buf, 0, 0, &got);
	CHECK_STR(got.buf, "deleted-exe 42\nexe-in-tmp 42");
	snprintf(args, sizeof(args), "-f csv -s medium %s", d_fx);
	CHECK_INT(triage(args), 1);
	tu_triage_rows(out.buf, 0, 0, &got);
	CHECK(strstr(got.buf, "traced 42") && !strstr(got.buf, "cwd-in-tmp"));
	/* a rule below the threshold is not run: nothing counted */
	snprintf(args, sizeof(args), "-f csv -s high --rule cwd-in-tmp %s", d_fx);
	CHECK_INT(triage(args), 0);
	tu_triage_rows(out.buf, 0, 0, &got);
	CHECK_STR(got.buf, "");
	snprintf(args, sizeof(args), "-f csv --rule partial-capture %s", d_fx);
	CHECK_INT(triage(args), 0);
	snprintf(args, sizeof(args), "--rule no-such-rule %s", d_fx);
	CHECK_INT(triage(args), 2);
	snprintf(args, sizeof(args), "--min-severity severe %s", d_fx);
	CHECK_INT(triage(args), 2);
	snprintf(args, sizeof(args), "--format xml %s", d_fx);
	CHECK_INT(triage(args), 2);
	CHECK_INT(triage(""), 2);
	CHECK_INT(triage("/nonexistent.tar.zst"), 2);
	CHECK_INT(triage("--help"), 0);
	CHECK(strstr(out.buf, "usage: procsnap triage") != NULL);
	ps_buf_release(&got);
}

/* A writable copy of the fixture index with `sql` applied; path into db. */
static int crafted(const char *name, const char *sql, char *db, size_t n)
{
	char src[600];
	snprintf(src, sizeof(src), "%s.db", d_fx);
	return tu_crafted_index(src, name, sql, db, n);
}

static void test_crafted(void)
{
	if (!fx_ok)
		return;
	char db[600], args[700], d[512];
	struct ps_buf got = PS_BUF_INIT;
	CHECK_INT(
	    crafted("crafted.db",
		    "UPDATE capture_processes SET hidden = 1 WHERE pid = 4242;"
		    "UPDATE processes SET hidden = 1, path = '/memfd:payload', exe_deleted = 1,"
		    " on_disk = 0 WHERE pid = 4242;"
		    "UPDATE capture_processes SET partial = 1 WHERE pid = 1;"
		    "UPDATE processes SET partial = 1 WHERE pid = 1;"
		    "UPDATE processes SET kthread = 0 WHERE pid = 2;"
		    "UPDATE process_open_sockets SET local_address = '0.0.0.0'"
		    " WHERE local_port = 8080;"
		    "INSERT INTO process_open_sockets (snapshot_id, pid, local_port, protocol,"
		    " family, local_address, fd, socket, net_namespace, remote_port)"
		    " VALUES (1, 42, 4444, 6, 2, '0.0.0.0', 7, 999, 4026532999, 0),"
		    " (1, 42, 4445, 6, 10, '::1', 8, 998, 4026532999, 0),"
		    " (1, -1, 53, 17, 10, '::', -1, 997, 4026531840, 0);"
		    "UPDATE system_kv SET value = 1099511636481, text = '1099511636481'"
		    " WHERE key = 'kernel/tainted';"
		    "UPDATE kernel_modules SET taint = NULL;",
		    db, sizeof(db)),
	    0);
	snprintf(args, sizeof(args), "-f csv %s", db);
	CHECK_INT(triage(args), 1);
	tu_triage_rows(out.buf, 0, 0, &got);
	CHECK_STR(got.buf, "comm-exe-mismatch 42\ncwd-in-tmp 42\ndeleted-exe 42\nexe-in-tmp 42\n"
			   "exec-map-deleted 42\nexec-map-tmp 42\nfake-kthread 2\nhidden-pid "
			   "4242\nkernel-tainted -\n"
			   "ld-preload 42\nlistener-exposed -\nlistener-exposed 1\n"
			   "listener-exposed 42\nlistener-suspicious 42\nmemfd-exe 4242\n"
			   "partial-capture 1\nrwx-anon-mapping 42\ntraced 42");
	tu_triage_detail(out.buf, "kernel-tainted", 0, d, sizeof(d));
	CHECK_STR(d, "tainted = 1099511636481: P proprietary module, W kernel warning, "
		     "E unsigned module, bit 40");
	tu_triage_detail(out.buf, "listener-suspicious", 42, d, sizeof(d));
	CHECK_STR(d, "tcp 0.0.0.0:4444, exe /tmp/.x/evil (deleted)");
	tu_triage_detail(out.buf, "listener-exposed", 1, d, sizeof(d));
	CHECK_STR(d, "tcp 0.0.0.0:8080, exe /usr/lib/systemd/systemd");
	CHECK(strstr(out.buf, "listener-exposed,info,1,,,udp [::]:53 (no captured process holds "
			      "it)\r\n") != NULL);
	tu_triage_detail(out.buf, "memfd-exe", 4242, d, sizeof(d));
	CHECK_STR(d, "/memfd:payload (deleted)");
	tu_triage_detail(out.buf, "fake-kthread", 2, d, sizeof(d));
	CHECK_STR(d, "not a kernel thread: name 'kthreadd', cmdline ''");
	/* info findings count only with --min-severity info */
	snprintf(args, sizeof(args), "--rule listener-exposed --rule partial-capture %s", db);
	CHECK_INT(triage(args), 0);
	CHECK(strstr(out.buf, "4 findings (0 high, 0 medium, 0 low, 4 info)") != NULL);
	snprintf(args, sizeof(args), "-s info --rule listener-exposed %s", db);
	CHECK_INT(triage(args), 1);

	/* nothing left to find: no output rows, exit 0 */
	CHECK_INT(crafted("clean.db",
			  "DELETE FROM processes WHERE pid = 42;"
			  "DELETE FROM capture_processes WHERE pid = 42;"
			  "DELETE FROM threads WHERE pid = 42 OR tracer_pid != 0;"
			  "UPDATE processes SET env_set = NULL WHERE pid = 42;"
			  "DELETE FROM maps WHERE pid = 42;"
			  "UPDATE system_kv SET value = 0, text = '0' WHERE key = 'kernel/tainted';"
			  "UPDATE kernel_modules SET taint = NULL;",
			  db, sizeof(db)),
		  0);
	snprintf(args, sizeof(args), "-f csv -s info %s", db);
	CHECK_INT(triage(args), 0);
	CHECK_STR(out.buf, "rule,severity,snapshot_id,pid,name,detail\r\n");
	snprintf(args, sizeof(args), "%s", db);
	CHECK_INT(triage(args), 0);
	CHECK(strstr(out.buf, "no findings from 32 rules over 1 snapshot; 0 at or above low\n") !=
	      NULL);
	ps_buf_release(&got);
}

static void check_victim(const char *csv, int which, const char *ids)
{
	struct ps_buf got = PS_BUF_INIT, want = PS_BUF_INIT;
	tu_triage_rows(csv, 0, vics[which].pid, &got);
	expect(ids, vics[which].pid, &want);
	if (strcmp(got.buf, want.buf) != 0)
		fprintf(stderr, "victim %d (pid %d):\n", which, vics[which].pid);
	CHECK_STR(got.buf, want.buf);
	ps_buf_release(&got);
	ps_buf_release(&want);
}

static void test_victims(void)
{
	if (!vic_ok)
		return;
	char args[700], d[10000], want[10000];
	snprintf(args, sizeof(args), "-f csv -s info %s", d_vic);
	CHECK(triage(args) != 2);
	check_victim(out.buf, V_CLEAN, "");
	check_victim(out.buf, V_TMP,
		     have_netns ? "deleted-exe exe-in-tmp listener-suspicious listener-exposed"
				: "deleted-exe exe-in-tmp");
	if (have_netns) {
		/* a build tree under /tmp makes the clean listener's exe a temp-dir one */
		check_victim(out.buf, V_NET,
			     bin_in_tmp ? "listener-exposed listener-suspicious"
					: "listener-exposed");
		tu_triage_detail(out.buf, "listener-suspicious", vics[V_TMP].pid, d, sizeof(d));
		snprintf(want, sizeof(want), "tcp 0.0.0.0:%d, exe %s (deleted)", tmp_port,
			 d_tmpexe);
		CHECK_STR(d, want);
	}
	tu_triage_detail(out.buf, "deleted-exe", vics[V_TMP].pid, d, sizeof(d));
	snprintf(want, sizeof(want), "%s (deleted)", d_tmpexe);
	CHECK_STR(d, want);
	check_victim(out.buf, V_PRELOAD, "ld-preload exec-map-tmp");
	tu_triage_detail(out.buf, "ld-preload", vics[V_PRELOAD].pid, d, sizeof(d));
	snprintf(want, sizeof(want), "LD_PRELOAD=%s", d_lib);
	CHECK_STR(d, want);
	tu_triage_detail(out.buf, "exec-map-tmp", vics[V_PRELOAD].pid, d, sizeof(d));
	CHECK_STR(d, d_lib);
	check_victim(out.buf, V_RWX, "rwx-anon-mapping");
	tu_triage_detail(out.buf, "rwx-anon-mapping", vics[V_RWX].pid, d, sizeof(d));
	CHECK(strncmp(d, "1 rwx anonymous mapping, 16 kB, first at 0x", 43) == 0 ||
	      sysconf(_SC_PAGESIZE) != 4096);
	if (have_ptrace) {
		check_victim(out.buf, V_TRACED, "traced");
		tu_triage_detail(out.buf, "traced", vics[V_TRACED].pid, d, sizeof(d));
		snprintf(want, sizeof(want), "traced by pid %d (not captured)", (int)getpid());
		CHECK_STR(d, want);
	} else {
		check_victim(out.buf, V_TRACED, "");
	}
	check_victim(out.buf, V_DISGUISED, "fake-kthread comm-exe-mismatch");
	tu_triage_detail(out.buf, "comm-exe-mismatch", vics[V_DISGUISED].pid, d, sizeof(d));
	char rp[PATH_MAX];
	CHECK(realpath(VICTIM, rp) != NULL);
	snprintf(want, sizeof(want), "name 'sysupdate', exe %s", rp);
	CHECK_STR(d, want);
	tu_triage_detail(out.buf, "fake-kthread", vics[V_DISGUISED].pid, d, sizeof(d));
	snprintf(want, sizeof(want),
		 "not a kernel thread: name 'sysupdate', cmdline '[kworker/1:2] %s', exe %s",
		 d_file, rp);
	CHECK_STR(d, want);
}

static void test_multi(void)
{
	if (!fx_ok || !vic_ok)
		return;
	struct ps_buf u = PS_BUF_INIT, got = PS_BUF_INIT, want = PS_BUF_INIT;
	char args[1200], merged[600];
	/* several SNAPs: union views, snapshot ids 1 and 2 */
	snprintf(args, sizeof(args), "-f csv -s info %s %s", d_fx, d_vic);
	CHECK_INT(triage(args), 1);
	ps_buf_add(&u, out.buf, out.len);
	tu_triage_rows(u.buf, 1, 0, &got);
	CHECK_STR(got.buf, fixture_rows);
	snprintf(args, sizeof(args), "-f csv -s info %s", d_vic);
	triage(args);
	tu_triage_rows(out.buf, 1, 0, &want);
	tu_triage_rows(u.buf, 2, 0, &got);
	CHECK_STR(got.buf, want.buf);
	tu_triage_rows(u.buf, 2, vics[V_TMP].pid, &got);
	CHECK(strstr(got.buf, "deleted-exe") != NULL);
	/* a merged index: the same output, byte for byte */
	snprintf(merged, sizeof(merged), "%s/merged.db", tu_tmpdir());
	CHECK_INT(tu_sh(NULL, "%s merge %s %s %s", tu_procsnap(), merged, d_fx, d_vic), 0);
	snprintf(args, sizeof(args), "-f csv -s info %s", merged);
	CHECK_INT(triage(args), 1);
	CHECK_STR(out.buf, u.buf);
	/* the same snapshot twice is refused in one line (each is taken once) */
	CHECK_INT(tu_sh(&out, "%s triage -f csv %s %s.db 2>&1", tu_procsnap(), d_fx, d_fx), 2);
	CHECK(strstr(out.buf, "is already among the inputs") != NULL);
	CHECK(strchr(out.buf, '\n') == out.buf + out.len - 1);
	/* the fixture and its twin (a copy of its index under another UUID):
	 * every finding twice, one per snapshot */
	char twin[600];
	snprintf(twin, sizeof(twin), "%s/twin.db", tu_tmpdir());
	CHECK_INT(tu_sh(NULL,
			"cp %s.db %s && sqlite3 %s \"UPDATE snapshots SET snapshot_uuid = "
			"'00000000-0000-4000-8000-000000000003'\"",
			d_fx, twin, twin),
		  0);
	snprintf(args, sizeof(args), "-f csv %s %s", d_fx, twin);
	CHECK_INT(triage(args), 1);
	tu_triage_rows(out.buf, 2, 0, &got);
	CHECK_STR(got.buf, fixture_rows);
	tu_triage_rows(out.buf, 0, 42, &got);
	CHECK_INT(strlen(got.buf) > 0, 1);
	snprintf(args, sizeof(args), "%s %s", twin, merged);
	CHECK_INT(triage(args), 1);
	CHECK(strstr(out.buf, "snapshot 1: fx.tar.zst (host ") == out.buf);
	CHECK(strstr(out.buf, "\nsnapshot 3: vic.tar.zst (host ") != NULL);
	CHECK(strstr(out.buf, " from 32 rules over 3 snapshots; ") != NULL);
	ps_buf_release(&u);
	ps_buf_release(&got);
	ps_buf_release(&want);
}

static const struct t_case t_cases[] = {T(test_list),	 T(test_fixture), T(test_options),
					T(test_crafted), T(test_victims), T(test_multi),
					{0, 0}};
T_MAIN_SETUP(t_cases, setup, teardown)
