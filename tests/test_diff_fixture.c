/*
 * test_diff_fixture.c - `procsnap diff` on two hand-made proc trees
 * (samples/diff-a, samples/diff-b; what differs is listed in
 * samples/diff-golden/README.md): the output equals the golden files; a reused pid is an
 * exit and a start, and so is a reused tid (copies of samples/proc-fixture whose
 * task/4250/stat start time differs); a snapshot against itself is no difference; the filters;
 * and broken inputs (truncated archive, other schema version, no index,
 * corrupt frame) give one line and status 2.
 *
 * PS_UPDATE_GOLDEN=1 rewrites the golden files from the current output.
 */
#include "t.h"
#include "tutil.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#define GOLDEN PS_SOURCE_DIR "/samples/diff-golden"

static struct ps_buf out = PS_BUF_INIT, want = PS_BUF_INIT;
static char dir[256];

/* Run procsnap in the scratch directory (relative archive names). */
static int ps(const char *args)
{
	return tu_sh(&out, "cd %s && %s %s 2>err.txt", dir, tu_procsnap(), args);
}

static void setup(void)
{
	snprintf(dir, sizeof(dir), "%s", tu_tmpdir());
	if (tu_sh(NULL,
		  "cd %s && %s capture -q --root %s/samples/diff-a -o a.tar.zst >/dev/null 2>&1 && "
		  "%s capture -q --root %s/samples/diff-b -o b.tar.zst >/dev/null 2>&1",
		  dir, tu_procsnap(), PS_SOURCE_DIR, tu_procsnap(), PS_SOURCE_DIR) != 0) {
		fprintf(stderr, "cannot capture the fixtures\n");
		exit(1);
	}
}

/* The volatile lines (file names, capture times, hosts, hashes) removed:
 * text - the two header lines; JSON - the "a" and "b" lines. */
static void strip_volatile(struct ps_buf *b, int json)
{
	struct ps_buf r = PS_BUF_INIT;
	size_t pos = 0;
	int line = 0;
	while (pos < b->len) {
		const char *s = b->buf + pos, *nl = memchr(s, '\n', b->len - pos);
		size_t n = nl ? (size_t)(nl - s) + 1 : b->len - pos;
		int drop =
		    json ? (strncmp(s, "  \"a\": ", 7) == 0 || strncmp(s, "  \"b\": ", 7) == 0)
			 : line < 2;
		if (!drop)
			ps_buf_add(&r, s, n);
		pos += n;
		line++;
	}
	ps_buf_reset(b);
	ps_buf_add(b, r.buf, r.len);
	ps_buf_release(&r);
}

static void golden(const char *name, const char *args, int json)
{
	int st = tu_sh(&out, "cd %s && %s diff %s a.tar.zst b.tar.zst 2>err.txt", dir,
		       tu_procsnap(), args);
	CHECK_INT(st, 1);
	strip_volatile(&out, json);
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", GOLDEN, name);
	if (getenv("PS_UPDATE_GOLDEN")) {
		FILE *f = fopen(path, "w");
		CHECK(f != NULL);
		if (f) {
			fwrite(out.buf, 1, out.len, f);
			fclose(f);
		}
	}
	CHECK_INT(tu_slurp(path, &want), 0);
	if (out.len != want.len || memcmp(out.buf, want.buf, out.len) != 0) {
		fprintf(stderr, "%s: output differs from the golden file:\n", name);
		FILE *f = fopen("/tmp/procsnap-diff-got.txt", "w");
		if (f) {
			fwrite(out.buf, 1, out.len, f);
			fclose(f);
		}
		tu_sh(NULL, "diff -u '%s' /tmp/procsnap-diff-got.txt >&2", path);
		t_failures++;
	}
}

static void test_golden_text(void)
{
	golden("fixture.txt", "", 0);
}

static void test_golden_json(void)
{
	golden("fixture.json", "--json", 1);
}

static void test_golden_counters(void)
{
	golden("fixture-counters.txt", "--counters --context 1", 0);
}

/* A python3 check over the JSON document; prints OK or what is wrong. */
static int pycheck(const char *args, const char *script)
{
	if (tu_sh(NULL, "cd %s && %s diff --json %s a.tar.zst b.tar.zst > d.json 2>err.txt", dir,
		  tu_procsnap(), args) != 1)
		return -1;
	int st = tu_sh(&out, "cd %s && /usr/bin/python3 -c '%s' d.json", dir, script);
	if (st != 0 || strcmp(out.buf, "OK\n") != 0) {
		fprintf(stderr, "python check failed (%d): %s\n", st, out.buf);
		return -1;
	}
	return 0;
}

/* Validate a JSON output against schema/diff.schema.json (python3-jsonschema). */
static void validate(const char *args)
{
	CHECK_INT(tu_sh(NULL, "cd %s && %s diff --json %s > v.json 2>err.txt", dir, tu_procsnap(),
			args) == 2,
		  0);
	int st =
	    tu_sh(&out,
		  "cd %s && /usr/bin/python3 -c 'import json,sys\n"
		  "d=json.load(open(\"v.json\"))\n"
		  "import jsonschema\n"
		  "e=jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(json.load("
		  "open(sys.argv[1]))).iter_errors(d))\n"
		  "print(\"OK\" if e is None else (list(e.absolute_path), e.message))' "
		  "%s/schema/diff.schema.json 2>&1",
		  dir, PS_SOURCE_DIR);
	if (st != 0 || strcmp(out.buf, "OK\n") != 0) {
		fprintf(stderr, "diff --json %s: not valid per schema/diff.schema.json:\n%s\n",
			args, out.buf);
		t_failures++;
	}
}

static void test_schema(void)
{
	if (tu_sh(NULL, "/usr/bin/python3 -c \"import jsonschema\" 2>/dev/null") != 0)
		T_SKIP_CASE("needs python3-jsonschema to validate against schema/diff.schema.json");
	validate("a.tar.zst b.tar.zst");
	validate("--counters a.tar.zst b.tar.zst");
	validate("--system-only b.tar.zst a.tar.zst");
	validate("a.tar.zst a.tar.zst");
}

static void test_pid_reuse(void)
{
	/* pid 42: starttime 4200 "my (evil) prog" in A, 9999 "reborn" in B */
	CHECK_INT(
	    pycheck("", "import json,sys\n"
			"d=json.load(open(sys.argv[1]))\n"
			"p=d[\"processes\"]\n"
			"s=[x for x in p[\"started\"] if x[\"pid\"]==42]\n"
			"e=[x for x in p[\"exited\"] if x[\"pid\"]==42]\n"
			"assert len(s)==1 and s[0][\"starttime\"]==9999 and "
			"s[0][\"name\"]==\"reborn\" and s[0][\"exe\"]==\"/usr/bin/reborn\", s\n"
			"assert len(e)==1 and e[0][\"starttime\"]==4200 and "
			"e[0][\"name\"]==\"my (evil) prog\", e\n"
			"assert not [x for x in p[\"changed\"] if x[\"pid\"]==42], p[\"changed\"]\n"
			"assert [x[\"pid\"] for x in p[\"changed\"]]==[4242]\n"
			"print(\"OK\")\n"),
	    0);
}

static void test_system_rows(void)
{
	/* meminfo deltas, module rows, the unified diff: checked field by field */
	CHECK_INT(
	    pycheck(
		"--system-only --counters",
		"import json,sys\n"
		"d=json.load(open(sys.argv[1]))\n"
		"assert d[\"processes\"]=={\"started\":[],\"exited\":[],\"changed\":[]}\n"
		"f={x[\"path\"]:x for x in d[\"system\"]}\n"
		"m={c[\"key\"]:c for c in f[\"meminfo\"][\"changes\"]}\n"
		"assert sorted(m)==[\"Cached\",\"MemAvailable\",\"MemFree\"], m\n"
		"assert m[\"MemFree\"][\"delta\"]==-1024000 and m[\"MemFree\"][\"unit\"]==\"kB\"\n"
		"assert m[\"Cached\"][\"a\"]==436552 and m[\"Cached\"][\"b\"]==1460552\n"
		"r=f[\"modules\"]\n"
		"assert r[\"type\"]==\"table\" and r[\"key\"]==\"name\"\n"
		"assert [(c[\"change\"],c[\"key\"]) for c in r[\"changes\"]]=="
		"[(\"removed\",\"hidemod\"),(\"added\",\"newmod\")], r\n"
		"t=f[\"driver/name with spaces\"]\n"
		"assert t[\"type\"]==\"text\"\n"
		"assert \"-line 5\\n+line five, changed\\n\" in t[\"changes\"][0][\"diff\"]\n"
		"assert t[\"changes\"][0][\"diff\"].endswith(\" line 10\\n+line 11, added\\n\")\n"
		"assert sorted(f)==[\"driver/name with spaces\",\"loadavg\",\"meminfo\","
		"\"modules\",\"mountinfo (mnt:[4026532000])\",\"net/packet\",\"net/tcp\","
		"\"sys/kernel/tainted\"], sorted(f)\n"
		"n=f[\"mountinfo (mnt:[4026532000])\"]\n"
		"assert n[\"type\"]==\"file\" and n[\"changes\"][0][\"change\"]==\"added\"\n"
		"print(\"OK\")\n"),
	    0);
}

static void test_filters(void)
{
	/* --processes-only: no system; --pid: only that process */
	CHECK_INT(
	    pycheck("--processes-only --pid 4242",
		    "import json,sys\n"
		    "d=json.load(open(sys.argv[1]))\n"
		    "p=d[\"processes\"]\n"
		    "assert d[\"system\"]==[] and p[\"started\"]==[] and p[\"exited\"]==[]\n"
		    "c=p[\"changed\"][0]\n"
		    "assert c[\"pid\"]==4242 and c[\"name\"]==\"my server\"\n"
		    "assert [(f[\"fd\"],f[\"change\"]) for f in c[\"fds\"]]==[(5,\"retargeted\"),"
		    "(6,\"opened\")], c[\"fds\"]\n"
		    "assert [(m[\"change\"],m[\"start\"]) for m in c[\"mappings\"]]=="
		    "[(\"reprotected\",\"0x7f1200000000\"),(\"added\",\"0x7f1200100000\")]\n"
		    "assert c[\"mappings\"][0][\"a_perms\"]==\"r-xp\" and "
		    "c[\"mappings\"][0][\"perms\"]==\"r--p\"\n"
		    "assert [(t[\"tid\"],t[\"change\"],t[\"name\"]) for t in c[\"threads\"]]=="
		    "[(4251,\"started\",\"worker 2\")]\n"
		    "assert [(e[\"name\"],e[\"change\"]) for e in c[\"environment\"]]=="
		    "[(\"DEBUG\",\"added\"),(\"GREETING\",\"changed\")]\n"
		    "assert c[\"limits\"][0][\"b_soft\"]==\"40000\"\n"
		    "assert [(i[\"field\"],i[\"b\"]) for i in "
		    "c[\"identity\"]]==[(\"cwd\",\"/srv/new dir\"),"
		    "(\"ns/mnt\",\"mnt:[4026532000]\")], c[\"identity\"]\n"
		    "assert c[\"counters\"]==[] and c[\"memory\"]==[]\n"
		    "print(\"OK\")\n"),
	    0);
	/* --path: only the fds of 4242 */
	CHECK_INT(tu_sh(&out, "cd %s && %s diff --path '4242/fd/*' a.tar.zst b.tar.zst | sed 1,2d",
			dir, tu_procsnap()),
		  0);
	CHECK_STR(out.buf, "\nProcess 4242 my server  /usr/bin/python3.11  (start 12345)\n"
			   "    ~ fd 5 /var/log/my app.log -> /var/log/my app.log.1\n"
			   "    + fd 6 /etc/passwd\n");
	/* a filter that matches nothing: no differences, status 0 */
	CHECK_INT(tu_sh(&out, "cd %s && %s diff --path 'version' a.tar.zst b.tar.zst", dir,
			tu_procsnap()),
		  0);
	CHECK(strstr(out.buf, "No differences.") != NULL);
	/* bad usage */
	CHECK_INT(ps("diff --processes-only --system-only a.tar.zst b.tar.zst"), 2);
	CHECK_INT(ps("diff a.tar.zst"), 2);
	CHECK_INT(ps("diff --pid x a.tar.zst b.tar.zst"), 2);
}

static void test_quiet(void)
{
	/* By default: meminfo and loadavg (counters), timer_list and
	 * sys/kernel/random/uuid (volatile), cpuinfo's cpu MHz (a drop rule),
	 * cgroups' num_cgroups and ipv6_route's refcnt/use (moving columns),
	 * the new TCP connection, kworker 77 exiting and kworker 78's new
	 * workqueue suffix are counted, not shown; the new listener, the new
	 * packet socket and the taint are. */
	CHECK_INT(
	    pycheck(
		"--system-only",
		"import json,sys\n"
		"d=json.load(open(sys.argv[1]))\n"
		"assert sorted(x[\"path\"] for x in d[\"system\"])==[\"driver/name with spaces\","
		"\"modules\",\"mountinfo (mnt:[4026532000])\",\"net/packet\",\"net/tcp\","
		"\"sys/kernel/tainted\"], d[\"system\"]\n"
		"t=[x for x in d[\"system\"] if x[\"path\"]==\"net/tcp\"][0]\n"
		"assert [c[\"key\"] for c in t[\"changes\"]]==[\"tcp 0.0.0.0:8081 0.0.0.0:0\"], t\n"
		"h=d[\"hidden\"]\n"
		"assert h=={\"counter_files\":2,\"page_ranges\":0,\"volatile_files\":2,"
		"\"connections\":1,\"dropped_line_files\":1,\"kernel_workers\":0,"
		"\"kernel_worker_renames\":0}, h\n"
		"assert d[\"options\"]=={\"counters\":False,\"all\":False,\"context\":3,"
		"\"scope\":\"system\"}\n"
		"print(\"OK\")\n"),
	    0);
	CHECK_INT(pycheck("--processes-only",
			  "import json,sys\n"
			  "d=json.load(open(sys.argv[1]))\n"
			  "p=d[\"processes\"]\n"
			  "assert [x[\"pid\"] for x in p[\"exited\"]]==[42], p[\"exited\"]\n"
			  "assert [x[\"pid\"] for x in p[\"changed\"]]==[4242], p[\"changed\"]\n"
			  "h=d[\"hidden\"]\n"
			  "assert h[\"kernel_workers\"]==1 and h[\"kernel_worker_renames\"]==1, h\n"
			  "print(\"OK\")\n"),
		  0);
	CHECK_INT(ps("diff --system-only a.tar.zst b.tar.zst"), 1);
	CHECK(strstr(out.buf,
		     "\nNot shown: 2 counter files (--counters); 2 volatile files, 1 socket "
		     "connection, 1 file changed only in lines that move by themselves "
		     "(--all)\n") != NULL);
	CHECK(strstr(out.buf, "meminfo") == NULL && strstr(out.buf, "cgroups") == NULL &&
	      strstr(out.buf, "ipv6_route") == NULL && strstr(out.buf, "cpuinfo") == NULL);
	/* --all implies --counters and hides nothing */
	CHECK_INT(ps("diff --all a.tar.zst b.tar.zst"), 1);
	CHECK(strstr(out.buf, "~ MemFree: 23187700 -> 22163700 kB (-1024000)") != NULL);
	CHECK(strstr(out.buf, "\n  timer_list\n") != NULL);
	CHECK(strstr(out.buf, "\n  sys/kernel/random/uuid\n") != NULL);
	CHECK(strstr(out.buf, "-cpu MHz\\t\\t: 2394.454\n") != NULL); /* tabs escaped */
	CHECK(strstr(out.buf, "+ tcp 127.0.0.1:54321 127.0.0.1:8080  ESTABLISHED uid 1000") !=
	      NULL);
	CHECK(strstr(out.buf, "~ name: kworker/1:0-mm_percpu_wq -> kworker/1:0-events\n") != NULL);
	CHECK(strstr(out.buf, "- 77      kworker/0:1-events  uid 0 ppid 2 start 3000\n") != NULL);
	CHECK(strstr(out.buf, "cgroups") == NULL && strstr(out.buf, "ipv6_route") == NULL);
	CHECK(strstr(out.buf, "Not shown") == NULL);
	/* a snapshot against itself hides nothing and says nothing more */
	CHECK_INT(ps("diff a.tar.zst a.tar.zst"), 0);
	CHECK(strstr(out.buf, "Not shown") == NULL);
}

static void test_present_count(void)
{
	/* an added mapping carries its resident page count from the index
	 * (process_memory_map.present, stored in map_info) when the index has it */
	CHECK_INT(tu_sh(NULL,
			"cd %s && cp b.tar.zst p2.tar.zst && cp b.tar.zst.db p2.tar.zst.db && "
			"sqlite3 p2.tar.zst.db \"UPDATE map_info SET present = 7 WHERE map_id IN "
			"(SELECT map_id FROM maps WHERE pid = 4242) AND "
			"path_id IN (SELECT str_id FROM strings WHERE text = '')\"",
			dir),
		  0);
	CHECK_INT(
	    tu_sh(&out,
		  "cd %s && %s diff --json --pid 4242 a.tar.zst p2.tar.zst | /usr/bin/python3 -c '"
		  "import json,sys\n"
		  "c=json.load(sys.stdin)[\"processes\"][\"changed\"][0]\n"
		  "a=[m for m in c[\"mappings\"] if m[\"change\"]==\"added\"]\n"
		  "assert a[0][\"present\"]==7 and c[\"pages\"]==[], a\n"
		  "print(\"OK\")'",
		  dir, tu_procsnap()),
	    0);
	CHECK_STR(out.buf, "OK\n");
	CHECK_INT(ps("diff --pid 4242 a.tar.zst p2.tar.zst"), 1);
	CHECK(strstr(out.buf,
		     "+ map 7f1200100000-7f1200200000 rw-p 1.0 MiB [anon]  7 pages present\n") !=
	      NULL);
}

static void test_same(void)
{
	/* against itself, by archive and by index name: nothing, status 0 */
	CHECK_INT(ps("diff a.tar.zst a.tar.zst.db"), 0);
	CHECK(strstr(out.buf, "No differences.") != NULL);
	CHECK_INT(
	    tu_sh(NULL, "cd %s && cp a.tar.zst c.tar.zst && cp a.tar.zst.db c.tar.zst.db", dir), 0);
	CHECK_INT(ps("diff --json a.tar.zst c.tar.zst"), 0);
	CHECK(strstr(out.buf, "\"differences\": 0,") != NULL);
	CHECK(strstr(out.buf, "\"changed\": [\n    ]") != NULL);
	CHECK(strstr(out.buf, "\"system\": []") != NULL);
}

static void test_other_boot(void)
{
	/* B from another boot: no process is in both, all exit and start */
	CHECK_INT(
	    tu_sh(NULL,
		  "cd %s && cp -a %s/samples/diff-b boot-b && "
		  "echo 11111111-2222-3333-4444-555555555555 > boot-b/sys/kernel/random/boot_id && "
		  "%s capture -q --root boot-b -o boot.tar.zst >/dev/null 2>&1",
		  dir, PS_SOURCE_DIR, tu_procsnap()),
	    0);
	if (tu_sh(NULL, "cd %s && %s diff --json a.tar.zst boot.tar.zst > d.json", dir,
		  tu_procsnap()) != 1)
		t_failures++;
	CHECK_INT(tu_sh(&out,
			"cd %s && /usr/bin/python3 -c '"
			"import json,sys\n"
			"d=json.load(open(\"d.json\"))\n"
			"p=d[\"processes\"]\n"
			"assert d[\"same_boot\"] is False\n"
			"assert [x[\"pid\"] for x in p[\"started\"]]==[1,2,42,4242], p\n"
			"assert [x[\"pid\"] for x in p[\"exited\"]]==[1,2,42,4242], p\n"
			"assert p[\"changed\"]==[]\n"
			"print(\"OK\")'",
			dir),
		  0);
	CHECK_STR(out.buf, "OK\n");
	CHECK_INT(tu_sh(&out, "cd %s && %s diff --processes-only a.tar.zst boot.tar.zst", dir,
			tu_procsnap()),
		  1);
	CHECK(strstr(out.buf, "note: different boots (A 0d6c1c3e-5b7a-4f7e-9a51-2b9c6f1e4a42, B "
			      "11111111-2222-3333-4444-555555555555)") != NULL);
	CHECK(strstr(out.buf, "Processes started (4)") != NULL);
	CHECK(strstr(out.buf, "Processes exited (4)") != NULL);
	/* procsnap's own capture process (meta.json capture_pid) is set apart,
	 * its parent too - unless that is init, which a service-started
	 * capture has and two boots make start and exit */
	CHECK_INT(
	    tu_sh(NULL,
		  "cd %s && cp boot.tar.zst own.tar.zst && cp boot.tar.zst.db own.tar.zst.db && "
		  "sqlite3 own.tar.zst.db \"UPDATE snapshots SET meta_json = "
		  "json_set(meta_json, '$.capture_pid', 4242, '$.capture_ppid', 1)\"",
		  dir),
	    0);
	CHECK_INT(tu_sh(&out, "cd %s && %s diff --processes-only a.tar.zst own.tar.zst", dir,
			tu_procsnap()),
		  1);
	CHECK(strstr(out.buf, "note: procsnap's own processes left out: B 4242 my server "
			      "(capture)\n") != NULL);
	CHECK(strstr(out.buf, "Processes started (3)") != NULL);
	CHECK(strstr(out.buf, "  + 1       ") != NULL);
}

static void test_color(void)
{
	/* colour only when asked or on a terminal: never into a pipe */
	CHECK_INT(ps("diff a.tar.zst b.tar.zst"), 1);
	CHECK(strchr(out.buf, '\033') == NULL);
	CHECK_INT(ps("diff --color always a.tar.zst b.tar.zst"), 1);
	CHECK(strstr(out.buf, "\033[32m") != NULL && strstr(out.buf, "\033[31m") != NULL);
	CHECK_INT(ps("diff --json --color always a.tar.zst b.tar.zst"), 1);
	CHECK(strchr(out.buf, '\033') == NULL);
}

/* One line on stderr, status 2, the line containing `what`. */
static void check_trouble(const char *args, const char *what)
{
	CHECK_INT(ps(args), 2);
	char path[300];
	snprintf(path, sizeof(path), "%s/err.txt", dir);
	struct ps_buf e = PS_BUF_INIT;
	CHECK_INT(tu_slurp(path, &e), 0);
	size_t lines = 0;
	for (size_t i = 0; i < e.len; i++)
		lines += e.buf[i] == '\n';
	if (lines != 1 || !strstr(e.buf, what)) {
		fprintf(stderr, "diff %s: want one line with \"%s\", got: %s", args, what, e.buf);
		t_failures++;
	}
	CHECK(strncmp(e.buf, "procsnap: diff: ", 16) == 0);
	CHECK_INT(out.len, 0); /* nothing on stdout */
	ps_buf_release(&e);
}

static void test_trouble(void)
{
	/* truncated archive beside its (good) index */
	CHECK_INT(tu_sh(NULL,
			"cd %s && cp a.tar.zst t.tar.zst && cp a.tar.zst.db t.tar.zst.db && "
			"truncate -s -100 t.tar.zst",
			dir),
		  0);
	check_trouble("diff t.tar.zst b.tar.zst", "truncated");
	/* a truncated archive with no index */
	CHECK_INT(tu_sh(NULL, "cd %s && rm t.tar.zst.db", dir), 0);
	check_trouble("diff b.tar.zst t.tar.zst", "no index");
	/* an index of another schema version */
	CHECK_INT(
	    tu_sh(NULL, "cd %s && cp a.tar.zst v.tar.zst && cp a.tar.zst.db v.tar.zst.db", dir), 0);
	char db[300];
	snprintf(db, sizeof(db), "%s/v.tar.zst.db", dir);
	sqlite3 *h;
	CHECK_INT(sqlite3_open(db, &h), SQLITE_OK);
	CHECK_INT(sqlite3_exec(h, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(h);
	check_trouble("diff v.tar.zst b.tar.zst", "schema version 99");
	check_trouble("diff a.tar.zst v.tar.zst.db", "schema version 99");
	/* a corrupt frame (same size): found when content is needed */
	CHECK_INT(tu_sh(NULL,
			"cd %s && cp a.tar.zst k.tar.zst && cp a.tar.zst.db k.tar.zst.db && "
			"printf 'XXXXXXXXXXXXXXXX' | dd of=k.tar.zst bs=1 seek=2000 conv=notrunc "
			"2>/dev/null",
			dir),
		  0);
	check_trouble("diff k.tar.zst b.tar.zst", "k.tar.zst");
	/* an index whose archive is elsewhere: fine while no content is needed
	 * (the processes come from the parsed tables), one line when it is */
	CHECK_INT(tu_sh(NULL, "cd %s && cp a.tar.zst.db lonely.db", dir), 0);
	check_trouble("diff lonely.db b.tar.zst", "not beside the index");
	CHECK_INT(ps("diff --processes-only --pid 4242 lonely.db b.tar.zst"), 1);
	CHECK(strstr(out.buf, "+ fd 6 /etc/passwd") != NULL);
	/* not a snapshot at all */
	check_trouble("diff err.txt b.tar.zst", "err.txt");
	check_trouble("diff nonexistent.tar.zst b.tar.zst", "nonexistent.tar.zst");
}

static void test_archives_alone(void)
{
	/* no index beside either archive: diff builds them in $TMPDIR (a
	 * directory of its own, removed afterwards) and says the same */
	CHECK_INT(tu_sh(NULL,
			"cd %s && mkdir -p lone tmp && cp a.tar.zst b.tar.zst lone/ && "
			"%s diff a.tar.zst b.tar.zst > with.txt; "
			"TMPDIR=$PWD/tmp %s diff lone/a.tar.zst lone/b.tar.zst > alone.txt; "
			"echo $? > alone.rc",
			dir, tu_procsnap(), tu_procsnap()),
		  0);
	CHECK_INT(tu_sh(&out, "cd %s && cat alone.rc && ls -A tmp lone", dir), 0);
	CHECK_STR(out.buf, "1\nlone:\na.tar.zst\nb.tar.zst\n\ntmp:\n");
	CHECK_INT(tu_sh(&out,
			"cd %s && tail -n +3 with.txt > w && tail -n +3 alone.txt > x && "
			"cmp w x && grep -c '^Processes started' x",
			dir),
		  0);
	CHECK_STR(out.buf, "1\n");
	/* the JSON document names the archives as given */
	CHECK_INT(tu_sh(&out,
			"cd %s && TMPDIR=$PWD/tmp %s diff --json lone/a.tar.zst lone/b.tar.zst "
			"| grep -c '\"path\": \"lone/[ab].tar.zst\"'; ls -A tmp",
			dir, tu_procsnap()),
		  0);
	CHECK_STR(out.buf, "2\n");
	/* a $TMPDIR that does not exist: one line, status 2 */
	CHECK_INT(tu_sh(&out,
			"cd %s && TMPDIR=$PWD/nowhere %s diff lone/a.tar.zst b.tar.zst "
			"2>&1 >/dev/null; echo $?",
			dir, tu_procsnap()),
		  0);
	CHECK(strstr(out.buf, "lone/a.tar.zst: no index beside it, and no temporary directory") !=
	      NULL);
	CHECK(strstr(out.buf, "\n2\n") != NULL);
}

/*
 * Set stat field `field` (proc(5) numbering, >= 3: after the comm's last
 * ')') of the file at path to value; the old value goes to old.  0 or -1.
 */
static int set_stat_field(const char *path, int field, const char *value, char *old, size_t n)
{
	struct ps_buf b = PS_BUF_INIT, r = PS_BUF_INIT;
	int rc = -1;
	if (tu_slurp(path, &b) < 0)
		goto out;
	const char *p = b.buf ? memrchr(b.buf, ')', b.len) : NULL;
	if (!p)
		goto out;
	p++;
	ps_buf_add(&r, b.buf, (size_t)(p - b.buf));
	for (int f = 3; p < b.buf + b.len; f++) {
		size_t sp = strspn(p, " ");
		ps_buf_add(&r, p, sp);
		p += sp;
		size_t tok = strcspn(p, " \n");
		if (!tok)
			break;
		if (f == field) {
			snprintf(old, n, "%.*s", (int)tok, p);
			ps_buf_adds(&r, value);
			rc = 0;
		} else {
			ps_buf_add(&r, p, tok);
		}
		p += tok;
	}
	ps_buf_add(&r, p, (size_t)(b.buf + b.len - p));
	FILE *f = rc == 0 ? fopen(path, "w") : NULL;
	if (!f || fwrite(r.buf, 1, r.len, f) != r.len)
		rc = -1;
	if (f && fclose(f) != 0)
		rc = -1;
out:
	ps_buf_release(&b);
	ps_buf_release(&r);
	return rc;
}

/* A copy of samples/proc-fixture in the scratch directory (samples/ is
 * never written). */
static void thread_copy(const char *name)
{
	CHECK_INT(
	    tu_sh(NULL, "cd %s && cp -a %s/samples/proc-fixture %s", dir, PS_SOURCE_DIR, name), 0);
}

/* Field `field` of the copy's 4242/task/4250/stat set to value; it was `was`. */
static void thread_edit(const char *name, int field, const char *value, const char *was)
{
	char path[512], old[32] = "";
	snprintf(path, sizeof(path), "%s/%s/4242/task/4250/stat", dir, name);
	CHECK_INT(set_stat_field(path, field, value, old, sizeof(old)), 0);
	CHECK_STR(old, was);
}

/* The copy captured as NAME.tar.zst (and its index NAME.tar.zst.db). */
static void thread_capture(const char *name)
{
	CHECK_INT(tu_sh(NULL, "cd %s && %s capture -q --root %s -o %s.tar.zst >/dev/null 2>&1", dir,
			tu_procsnap(), name, name),
		  0);
}

/* `procsnap diff ARGS` without its two header lines; returns its status. */
static int diff_body(const char *args)
{
	return tu_sh(&out, "cd %s && %s diff %s >o.txt 2>err.txt; rc=$?; sed 1,2d o.txt; exit $rc",
		     dir, tu_procsnap(), args);
}

static void test_thread_reuse(void)
{
	/* Threads are matched by (pid, tid, starttime): tid 4250 of 4242 with
	 * start time 12350 in A and 99999 in B is a new thread that took the
	 * tid - one exited, one started, as a reused pid is. */
	thread_copy("tr-a");
	thread_capture("tr-a");
	thread_copy("tr-b");
	thread_edit("tr-b", 22, "99999", "12350");
	thread_capture("tr-b");
	static const char reuse[] = "\nProcess 4242 my server  /usr/bin/python3.11  (start 12345)\n"
				    "    - thread 4250 worker 1  start 12350\n"
				    "    + thread 4250 worker 1  start 99999\n";
	CHECK_INT(diff_body("tr-a.tar.zst tr-b.tar.zst"), 1);
	CHECK_STR(out.buf, reuse);
	CHECK_INT(diff_body("--all tr-a.tar.zst tr-b.tar.zst"), 1);
	CHECK_STR(out.buf, reuse);
	CHECK_INT(diff_body("--path '4242/task/*' tr-a.tar.zst tr-b.tar.zst"), 1);
	CHECK_STR(out.buf, reuse);
	CHECK_INT(diff_body("--processes-only --pid 4242 tr-a.tar.zst tr-b.tar.zst"), 1);
	CHECK_STR(out.buf, reuse);
	/* B to A: the thread of start 99999 exited, 12350 started */
	CHECK_INT(diff_body("tr-b.tar.zst tr-a.tar.zst"), 1);
	CHECK_STR(out.buf, "\nProcess 4242 my server  /usr/bin/python3.11  (start 12345)\n"
			   "    - thread 4250 worker 1  start 99999\n"
			   "    + thread 4250 worker 1  start 12350\n");
	/* the filters that leave it out: nothing, status 0 */
	CHECK_INT(diff_body("--path '4242/fd/*' tr-a.tar.zst tr-b.tar.zst"), 0);
	CHECK_STR(out.buf, "\nNo differences.\n");
	CHECK_INT(diff_body("--pid 42 tr-a.tar.zst tr-b.tar.zst"), 0);
	CHECK_STR(out.buf, "\nNo differences.\n");
	CHECK_INT(diff_body("--system-only tr-a.tar.zst tr-b.tar.zst"), 0);
	CHECK_STR(out.buf, "\nNo differences.\n");
	/* JSON: the two entries of the threads section, nothing else */
	CHECK_INT(tu_sh(NULL, "cd %s && %s diff --json tr-a.tar.zst tr-b.tar.zst > tr.json", dir,
			tu_procsnap()),
		  1);
	CHECK_INT(
	    tu_sh(&out,
		  "cd %s && /usr/bin/python3 -c '"
		  "import json\n"
		  "d=json.load(open(\"tr.json\"))\n"
		  "p=d[\"processes\"]\n"
		  "assert d[\"differences\"]==2 and d[\"system\"]==[], d\n"
		  "assert p[\"started\"]==[] and p[\"exited\"]==[], p\n"
		  "assert [c[\"pid\"] for c in p[\"changed\"]]==[4242], p\n"
		  "c=p[\"changed\"][0]\n"
		  "assert c[\"starttime\"]==12345\n"
		  "assert c[\"threads\"]==[{\"tid\":4250,\"starttime\":12350,"
		  "\"change\":\"exited\",\"name\":\"worker 1\"},{\"tid\":4250,"
		  "\"starttime\":99999,\"change\":\"started\",\"name\":\"worker 1\"}], c\n"
		  "assert all(c[k]==[] for k in c if isinstance(c[k],list) and k!=\"threads\")\n"
		  "print(\"OK\")'",
		  dir),
	    0);
	CHECK_STR(out.buf, "OK\n");
	if (tu_sh(NULL, "/usr/bin/python3 -c \"import jsonschema\" 2>/dev/null") == 0)
		validate("tr-a.tar.zst tr-b.tar.zst");

	/* The same start time, other fields changed (utime 120 -> 130, minflt
	 * 2311 -> 2400): the same thread, no difference, --all included. */
	thread_copy("tr-c");
	thread_edit("tr-c", 14, "130", "120");
	thread_edit("tr-c", 10, "2400", "2311");
	thread_capture("tr-c");
	char path[512];
	snprintf(path, sizeof(path), "%s/tr-c.tar.zst.db", dir);
	CHECK_INT(
	    tu_sql_int(path, "SELECT starttime * 1000000 + minflt FROM threads WHERE tid = 4250"),
	    12350002400LL);
	CHECK_INT(diff_body("tr-a.tar.zst tr-c.tar.zst"), 0);
	CHECK_STR(out.buf, "\nNo differences.\n");
	CHECK_INT(diff_body("--all tr-a.tar.zst tr-c.tar.zst"), 0);
	CHECK_STR(out.buf, "\nNo differences.\n");
	CHECK_INT(tu_sh(&out, "cd %s && %s diff --json --all tr-a.tar.zst tr-c.tar.zst", dir,
			tu_procsnap()),
		  0);
	CHECK(strstr(out.buf, "\"differences\": 0,") != NULL);

	/* A start time unknown on one side (a stat cut after field 21: the
	 * threads row has a NULL starttime) keeps the (pid, tid) match. */
	thread_copy("tr-n");
	CHECK_INT(tu_sh(NULL,
			"cd %s && printf '4250 (worker 1) S 1 4250 4250 0 -1 4194560 2311 0 3 0 "
			"120 45 0 0 20 0 2 0\\n' > tr-n/4242/task/4250/stat",
			dir),
		  0);
	thread_capture("tr-n");
	snprintf(path, sizeof(path), "%s/tr-n.tar.zst.db", dir);
	CHECK_INT(tu_sql_int(path, "SELECT count(*) FROM threads WHERE pid = 4242 AND tid = 4250 "
				   "AND starttime IS NULL"),
		  1);
	CHECK_INT(diff_body("--all tr-a.tar.zst tr-n.tar.zst"), 0);
	CHECK_STR(out.buf, "\nNo differences.\n");
	CHECK_INT(diff_body("--all tr-n.tar.zst tr-b.tar.zst"), 0);
	CHECK_STR(out.buf, "\nNo differences.\n");
}

static void teardown(void)
{
	ps_buf_release(&out);
	ps_buf_release(&want);
	tu_cleanup();
}

static const struct t_case t_cases[] = {
    T(test_golden_text),   T(test_golden_json),	   T(test_golden_counters), T(test_schema),
    T(test_pid_reuse),	   T(test_system_rows),	   T(test_filters),	    T(test_quiet),
    T(test_present_count), T(test_same),	   T(test_other_boot),	    T(test_color),
    T(test_trouble),	   T(test_archives_alone), T(test_thread_reuse),    {0, 0}};
T_MAIN_SETUP(t_cases, setup, teardown)
