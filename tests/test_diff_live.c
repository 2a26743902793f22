/*
 * test_diff_live.c - `procsnap diff` between two live captures taken here.
 *
 * Before capture A, victim 1 maps two regions without huge pages: "big"
 * (512 pages, the first 256 touched) and "small" (64 pages, none touched).
 * Between capture A and capture B:
 *   victim 1 starts a thread, maps a new 256-page region and touches 10 of
 *   its pages, opens a file, closes the read end of its pipe, changes an
 *   environment variable (in place), drops big's 256 resident pages and
 *   touches its other 256 (as many pages resident as before), and touches
 *   3 pages of small;
 *   victim 2 is started; victim 3 exits.
 * `diff --json --pid V1 --pid V2 --pid V3` must report exactly that: V2
 * started, V3 exited, and for V1 one fd opened, one closed, one thread
 * started, the new region (added, or grown into a neighbour), the new
 * thread's stack and guard (anonymous), the variable, big's 256 pages
 * resident and 256 evicted - and nothing of small (3 pages: under the
 * threshold) nor of the counters, which appear with --counters.
 * The whole default diff of A and B (the machine is otherwise idle, or
 * busy with unrelated work): no counter or volatile system file, no
 * kernel-worker rename, procsnap's own capture processes set apart and not
 * started or exited.  A snapshot against itself: status 0.
 */
#include "t.h"
#include "tutil.h"

#include <dirent.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

/* Under AddressSanitizer the victim's allocator maps, grows and merges
 * regions of its own between the captures: only the new region is checked
 * then, not that it and the thread's stack are the only mapping changes. */
#ifdef __SANITIZE_ADDRESS__
#define STRICT_MAPS 0
#else
#define STRICT_MAPS 1
#endif

#define NPAGES 256
#define NTOUCH 10

static char dir[256];
static struct ps_buf out = PS_BUF_INIT;

/* The tids of a process (at most max), from /proc/<pid>/task. */
static int tids(int pid, int *list, int max)
{
	char p[64];
	snprintf(p, sizeof(p), "/proc/%d/task", pid);
	DIR *d = opendir(p);
	int n = 0;
	struct dirent *e;
	while (d && (e = readdir(d)) && n < max)
		if (e->d_name[0] != '.')
			list[n++] = atoi(e->d_name);
	if (d)
		closedir(d);
	return n;
}

/*
 * The whole default diff of A and B: what changes by itself is not shown.
 * Nothing here depends on what else runs on the machine.
 */
static void idle_checks(void)
{
	const char *script =
	    "import json,sys\n"
	    "d=json.load(open(sys.argv[1]))\n"
	    "cap=[int(x) for x in sys.argv[2:5]]\n"
	    "noisy=set(\"timer_list slabinfo vmallocinfo zoneinfo buddyinfo pagetypeinfo "
	    "diskstats softirqs meminfo vmstat stat loadavg uptime sys/kernel/random/uuid "
	    "sys/kernel/ns_last_pid sys/fs/dentry-state sys/fs/inode-nr sys/fs/inode-state "
	    "sys/fs/file-nr self thread-self net/dev net/snmp net/netstat schedstat key-users "
	    "locks keys\".split())\n"
	    "paths=[x[\"path\"] for x in d[\"system\"]]\n"
	    "bad=[p for p in paths if p in noisy or p.startswith(\"pressure/\") or "
	    "p.startswith(\"net/stat/\") or (p.startswith(\"irq/\") and "
	    "p.endswith(\"/spurious\"))]\n"
	    "assert not bad, bad\n"
	    "assert d[\"hidden\"][\"counter_files\"]>=1, d[\"hidden\"]\n"
	    "p=d[\"processes\"]\n"
	    "for c in p[\"changed\"]:\n"
	    "  for i in c[\"identity\"]:\n"
	    "    if i[\"field\"]==\"name\" and (i[\"a\"] or \"\").startswith(\"kworker/\"):\n"
	    "      assert i[\"a\"].split(\"-\")[0].split(\"+\")[0]!="
	    "i[\"b\"].split(\"-\")[0].split(\"+\")[0], i\n"
	    "own={(o[\"snapshot\"],o[\"role\"]):o[\"pid\"] for o in d[\"own_processes\"]}\n"
	    "assert own.get((\"a\",\"capture\"))==cap[0], (own, cap)\n"
	    "assert own.get((\"b\",\"capture\"))==cap[1], (own, cap)\n"
	    "assert cap[0] not in [x[\"pid\"] for x in p[\"exited\"]]\n"
	    "assert cap[1] not in [x[\"pid\"] for x in p[\"started\"]]\n"
	    "assert own.get((\"b\",\"parent\"))==cap[2], (own, cap)\n"
	    "assert cap[2] not in [x[\"pid\"] for x in p[\"started\"]]\n"
	    "print(\"OK\")\n";
	char spath[300], db[300];
	snprintf(spath, sizeof(spath), "%s/idle.py", dir);
	FILE *f = fopen(spath, "w");
	CHECK(f != NULL);
	if (f) {
		fputs(script, f);
		fclose(f);
	}
	long long cap[2], ppid_b;
	for (int i = 0; i < 2; i++) {
		snprintf(db, sizeof(db), "%s/%c.tar.zst.db", dir, i ? 'b' : 'a');
		cap[i] = tu_sql_int(
		    db, "SELECT json_extract(meta_json, '$.capture_pid') FROM snapshots");
		CHECK(cap[i] > 0);
	}
	/* B was captured under a shell of its own (sh -c '...; true'): its parent */
	ppid_b = tu_sql_int(db, "SELECT json_extract(meta_json, '$.capture_ppid') FROM snapshots");
	CHECK(ppid_b > 1);
	CHECK_INT(tu_sh(NULL, "cd %s && %s diff --json a.tar.zst b.tar.zst > all.json", dir,
			tu_procsnap()),
		  1);
	int st = tu_sh(&out, "cd %s && python3 idle.py all.json %lld %lld %lld", dir, cap[0],
		       cap[1], ppid_b);
	if (st != 0 || strcmp(out.buf, "OK\n") != 0) {
		fprintf(stderr, "default diff of A and B: %s\n", out.buf);
		t_failures++;
	}
	/* the text form ends with what it left out; --counters shows uptime */
	CHECK_INT(
	    tu_sh(&out, "cd %s && %s diff a.tar.zst b.tar.zst | tail -n 1", dir, tu_procsnap()), 0);
	CHECK(strncmp(out.buf, "Not shown: ", 11) == 0 && strstr(out.buf, " (--counters)"));
	CHECK_INT(tu_sh(&out, "cd %s && %s diff --counters --system-only a.tar.zst b.tar.zst", dir,
			tu_procsnap()),
		  1);
	CHECK(strstr(out.buf, "\n  uptime\n    ~ uptime: ") != NULL);
	CHECK(strstr(out.buf, "timer_list") == NULL);
}

static void test_live(void)
{
	if (geteuid() != 0)
		T_SKIP("needs root (fd and maps of other processes)");
	snprintf(dir, sizeof(dir), "%s", tu_tmpdir());
	char file1[300], file2[300];
	snprintf(file1, sizeof(file1), "%s/victim file", dir);
	snprintf(file2, sizeof(file2), "%s/opened later.txt", dir);
	CHECK_INT(tu_sh(NULL, "head -c 5000 /dev/zero > '%s' && echo x > '%s'", file1, file2), 0);
	const char *env[] = {"PS_DIFF_TEST=1", "PATH=/usr/bin:/bin", NULL};
	const char *args1[] = {"one", NULL}, *args2[] = {"two", NULL}, *args3[] = {"three", NULL};
	struct tu_victim v1, v2, v3;
	memset(&v2, 0, sizeof(v2));
	CHECK_INT(tu_victim_start(&v1, file1, args1, env), 0);
	CHECK_INT(tu_victim_start(&v3, file1, args3, env), 0);
	char reply[256];
	unsigned long big = 0, small = 0;
	CHECK_INT(tu_victim_cmd(&v1, reply, sizeof(reply), "mapn 512 256"), 0);
	CHECK(sscanf(reply, "ok map=%lx", &big) == 1);
	CHECK_INT(tu_victim_cmd(&v1, reply, sizeof(reply), "mapn 64 0"), 0);
	CHECK(sscanf(reply, "ok map=%lx", &small) == 1);
	long pg = sysconf(_SC_PAGESIZE);

	CHECK_INT(
	    tu_sh(NULL, "cd %s && %s capture -q -o a.tar.zst >/dev/null 2>&1", dir, tu_procsnap()),
	    0);

	int before[64], after[64];
	int nb = tids(v1.pid, before, 64);
	/* the thread first: its stack's guard page then keeps the new region
	 * from merging with an older anonymous mapping */
	CHECK_INT(tu_victim_cmd(&v1, reply, sizeof(reply), "thread"), 0);
	CHECK_INT(tu_victim_cmd(&v1, reply, sizeof(reply), "map %d %d", NPAGES, NTOUCH), 0);
	unsigned long addr = 0;
	CHECK(sscanf(reply, "ok map=%lx", &addr) == 1);
	CHECK_INT(tu_victim_cmd(&v1, reply, sizeof(reply), "open %s", file2), 0);
	int fd2 = -1;
	CHECK(sscanf(reply, "ok fd=%d", &fd2) == 1);
	CHECK_INT(tu_victim_cmd(&v1, reply, sizeof(reply), "close %d", v1.pipe_r), 0);
	CHECK_INT(tu_victim_cmd(&v1, reply, sizeof(reply), "envset PS_DIFF_TEST=2"), 0);
	CHECK_INT(tu_victim_cmd(&v1, reply, sizeof(reply), "drop %lx 256", big), 0);
	CHECK_INT(tu_victim_cmd(&v1, reply, sizeof(reply), "write %lx 256",
				big + 256 * (unsigned long)pg),
		  0);
	CHECK_INT(tu_victim_cmd(&v1, reply, sizeof(reply), "write %lx 3", small), 0);
	int na = tids(v1.pid, after, 64);
	CHECK_INT(na, nb + 1);
	int newtid = -1;
	for (int i = 0; i < na; i++) {
		int found = 0;
		for (int j = 0; j < nb; j++)
			found |= after[i] == before[j];
		if (!found)
			newtid = after[i];
	}
	CHECK(newtid > 0);
	CHECK_INT(tu_victim_start(&v2, file1, args2, env), 0);
	CHECK_INT(tu_victim_cmd(&v3, reply, sizeof(reply), "exit"), 0);
	int v3pid = v3.pid;
	waitpid(v3.pid, NULL, 0);
	v3.pid = 0;

	CHECK_INT(tu_sh(NULL, "cd %s && sh -c '%s capture -q -o b.tar.zst >/dev/null 2>&1; true'",
			dir, tu_procsnap()),
		  0);

	/* the whole document, checked by python3 */
	char pids[128];
	snprintf(pids, sizeof(pids), "--pid %d --pid %d --pid %d", v1.pid, v2.pid, v3pid);
	CHECK_INT(tu_sh(NULL,
			"cd %s && %s diff --json --processes-only %s a.tar.zst b.tar.zst > d.json",
			dir, tu_procsnap(), pids),
		  1);
	const char *script =
	    "import json,sys\n"
	    "d=json.load(open(sys.argv[1]))\n"
	    "v1,v2,v3,fd2,pr,tid,addr,npg,ntouch=[int(x,0) for x in sys.argv[2:11]]\n"
	    "big,small,pg=[int(x,0) for x in sys.argv[14:17]]\n"
	    "file2=sys.argv[11]\n"
	    "try:\n"
	    "  import jsonschema\n"
	    "except ImportError:\n"
	    "  jsonschema=None\n"
	    "if jsonschema:\n"
	    "  v=jsonschema.Draft202012Validator(json.load(open(sys.argv[12])))\n"
	    "  e=jsonschema.exceptions.best_match(v.iter_errors(d))\n"
	    "  assert e is None, (list(e.absolute_path), e.message)\n"
	    "p=d[\"processes\"]\n"
	    "assert d[\"system\"]==[], d[\"system\"]\n"
	    "assert [x[\"pid\"] for x in p[\"started\"]]==[v2], p[\"started\"]\n"
	    "s=p[\"started\"][0]\n"
	    "assert s[\"name\"]==\"victim\" and s[\"exe\"].endswith(\"/tests/victim\") and "
	    "s[\"cmdline\"].endswith(\" two\"), s\n"
	    "assert [x[\"pid\"] for x in p[\"exited\"]]==[v3], p[\"exited\"]\n"
	    "assert p[\"exited\"][0][\"cmdline\"].endswith(\" three\")\n"
	    "assert [x[\"pid\"] for x in p[\"changed\"]]==[v1], p[\"changed\"]\n"
	    "c=p[\"changed\"][0]\n"
	    "assert c[\"name\"]==\"victim\", c\n"
	    "fds=[(f[\"fd\"],f[\"change\"]) for f in c[\"fds\"]]\n"
	    "assert sorted(fds)==sorted([(fd2,\"opened\"),(pr,\"closed\")]), c[\"fds\"]\n"
	    "o=[f for f in c[\"fds\"] if f[\"change\"]==\"opened\"][0]\n"
	    "assert o[\"b\"]==file2 and o[\"a\"] is None, o\n"
	    "k=[f for f in c[\"fds\"] if f[\"change\"]==\"closed\"][0]\n"
	    "assert k[\"a\"].startswith(\"pipe:[\") and k[\"b\"] is None, k\n"
	    "assert [(t[\"tid\"],t[\"change\"]) for t in c[\"threads\"]]==[(tid,\"started\")], "
	    "c[\"threads\"]\n"
	    "assert c[\"threads\"][0][\"name\"]==\"victim\"\n"
	    "m=c[\"mappings\"]\n"
	    "strict=int(sys.argv[13])\n"
	    "if strict:\n"
	    "  assert all(x[\"change\"] in (\"added\",\"resized\") and x[\"path\"]==\"\" "
	    "for x in m), m\n"
	    "new=[x for x in m if int(x[\"start\"],16)<=addr and "
	    "addr+npg*4096<=int(x[\"end\"],16)]\n"
	    "assert len(new)==1 or (not strict and new), (hex(addr), m)\n"
	    "n=new[0]\n"
	    "if strict and n[\"change\"]==\"added\":\n"
	    "  assert int(n[\"start\"],16)==addr and n[\"size\"]==npg*4096, n\n"
	    "  assert n.get(\"present\") in (None,ntouch), n\n"
	    "assert n[\"perms\"]==\"rw-p\", n\n"
	    "assert n[\"change\"] in (\"added\",\"resized\",\"merged\"), n\n"
	    "rest=[x for x in m if x is not n]\n"
	    "if strict:\n"
	    "  assert 1<=len(rest)<=2, rest\n"
	    "  assert sum(x[\"size\"] for x in rest)>=64*1024, rest\n"
	    "assert c[\"environment\"]==[{\"name\":\"PS_DIFF_TEST\",\"change\":\"changed\","
	    "\"a\":\"1\",\"b\":\"2\"}], c[\"environment\"]\n"
	    "inb=[x for x in c[\"pages\"] if big<=int(x[\"start\"],16)<big+512*pg]\n"
	    "assert sum(x[\"resident\"] for x in inb)==256, c[\"pages\"]\n"
	    "assert sum(x[\"evicted\"] for x in inb)==256, c[\"pages\"]\n"
	    "assert all(x[\"path\"]==\"\" and x[\"perms\"]==\"rw-p\" for x in inb), inb\n"
	    "assert not [x for x in c[\"pages\"] if small<=int(x[\"start\"],16)<small+64*pg], "
	    "c[\"pages\"]\n"
	    "for key in (\"identity\",\"memory\",\"limits\",\"counters\",\"notes\"):\n"
	    "  assert c[key]==[], (key, c[key])\n"
	    "print(\"OK\")\n";
	FILE *f = NULL;
	char spath[300];
	snprintf(spath, sizeof(spath), "%s/check.py", dir);
	f = fopen(spath, "w");
	CHECK(f != NULL);
	if (f) {
		fputs(script, f);
		fclose(f);
	}
	int st = tu_sh(&out,
		       "cd %s && python3 check.py d.json %d %d %d %d %d %d 0x%lx %d %d '%s' "
		       "%s/schema/diff.schema.json %d 0x%lx 0x%lx %ld",
		       dir, v1.pid, v2.pid, v3pid, fd2, v1.pipe_r, newtid, addr, NPAGES, NTOUCH,
		       file2, PS_SOURCE_DIR, STRICT_MAPS, big, small, pg);
	if (st != 0 || strcmp(out.buf, "OK\n") != 0) {
		fprintf(stderr, "diff --json check failed (%d): %s\n", st, out.buf);
		tu_sh(NULL, "cat %s/d.json >&2", dir);
		t_failures++;
	}

	/* --counters: V1's thread count went up by one */
	CHECK_INT(tu_sh(&out, "cd %s && %s diff --counters --pid %d a.tar.zst b.tar.zst", dir,
			tu_procsnap(), v1.pid),
		  1);
	CHECK(strstr(out.buf, "threads: ") != NULL);
	char want[512];
	snprintf(want, sizeof(want), "threads: %d -> %d (+1)", nb, na);
	CHECK(strstr(out.buf, want) != NULL);
	/* the text form names the same changes */
	CHECK_INT(tu_sh(&out, "cd %s && %s diff %s a.tar.zst b.tar.zst", dir, tu_procsnap(), pids),
		  1);
	snprintf(want, sizeof(want), "+ fd %d %s", fd2, file2);
	CHECK(strstr(out.buf, want) != NULL);
	snprintf(want, sizeof(want), "+ thread %d victim", newtid);
	CHECK(strstr(out.buf, want) != NULL);
	snprintf(want, sizeof(want), "- fd %d pipe:[", v1.pipe_r);
	CHECK(strstr(out.buf, want) != NULL);
	CHECK(strstr(out.buf, "~ env PS_DIFF_TEST: 1 -> 2\n") != NULL);
	snprintf(want, sizeof(want), "~ pages %lx-%lx 2.0 MiB in rw-p [anon] ", big,
		 big + 512 * (unsigned long)pg);
	CHECK(strstr(out.buf, want) != NULL);
	CHECK(strstr(out.buf, ": 256 resident, 256 evicted\n") != NULL);
	CHECK(strstr(out.buf, "Processes started (1)") != NULL);
	CHECK(strstr(out.buf, "Processes exited (1)") != NULL);
	CHECK(strstr(out.buf, "page range") != NULL); /* small's, counted in "Not shown" */
	/* --counters: small's 3 pages too */
	CHECK_INT(tu_sh(&out, "cd %s && %s diff --counters --pid %d a.tar.zst b.tar.zst", dir,
			tu_procsnap(), v1.pid),
		  1);
	/* (small may have merged with big: the mapping's bounds are not checked) */
	snprintf(want, sizeof(want), "~ pages %lx-%lx 12.0 KiB in rw-p [anon] ", small,
		 small + 3 * (unsigned long)pg);
	const char *line = strstr(out.buf, want);
	CHECK(line != NULL);
	const char *eol = line ? strchr(line, '\n') : NULL;
	CHECK(eol && eol - line > 12 && memcmp(eol - 12, ": 3 resident\n", 13) == 0);

	idle_checks();

	/* each archive is read at most once: no more zstd frames decompressed
	 * than it has (--all reads the most content) */
	CHECK_INT(tu_sh(&out, "cd %s && %s -v diff --all a.tar.zst b.tar.zst 2>&1 >/dev/null", dir,
			tu_procsnap()),
		  1);
	unsigned long long ma = 0, mb = 0, fa = 0, fb = 0;
	const char *v = strstr(out.buf, "; read ");
	CHECK(v && sscanf(v, "; read %llu+%llu members, %llu+%llu zstd frames", &ma, &mb, &fa,
			  &fb) == 4);
	char db[400];
	snprintf(db, sizeof(db), "%s/a.tar.zst.db", dir);
	long long na_frames = tu_sql_int(db, "SELECT count(*) FROM frames");
	snprintf(db, sizeof(db), "%s/b.tar.zst.db", dir);
	long long nb_frames = tu_sql_int(db, "SELECT count(*) FROM frames");
	CHECK(ma > 0 && mb > 0);
	CHECK(fa >= 1 && (long long)fa <= na_frames);
	CHECK(fb >= 1 && (long long)fb <= nb_frames);

	/* a live snapshot against itself */
	CHECK_INT(tu_sh(&out, "cd %s && %s diff a.tar.zst a.tar.zst", dir, tu_procsnap()), 0);
	CHECK(strstr(out.buf, "No differences.") != NULL);
	CHECK_INT(tu_sh(&out, "cd %s && %s diff --json b.tar.zst b.tar.zst.db", dir, tu_procsnap()),
		  0);
	CHECK(strstr(out.buf, "\"differences\": 0,") != NULL);

	tu_victim_stop(&v1);
	tu_victim_stop(&v2);
	tu_victim_stop(&v3);
}

static void teardown(void)
{
	ps_buf_release(&out);
	tu_cleanup();
}

static const struct t_case t_cases[] = {T(test_live), {0, 0}};
T_MAIN_SETUP(t_cases, NULL, teardown)
