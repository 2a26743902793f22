/*
 * test_diff_fixture.c - `procsnap diff` on two hand-made proc trees
 * (samples/diff-a, samples/diff-b; what differs is listed in
 * samples/diff-golden/README.md): the output equals the golden files, with
 * the parsed index tables and with the raw members alike; a reused pid is an
 * exit and a start; a snapshot against itself is no difference; the filters;
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
	for (int raw = 0; raw < 2; raw++) {
		char cmd[512];
		snprintf(cmd, sizeof(cmd), "%s", args);
		int st = tu_sh(&out, "cd %s && %s %s diff %s a.tar.zst b.tar.zst 2>err.txt", dir,
			       raw ? "PROCSNAP_DIFF_RAW=1" : "", tu_procsnap(), cmd);
		CHECK_INT(st, 1);
		strip_volatile(&out, json);
		char path[512];
		snprintf(path, sizeof(path), "%s/%s", GOLDEN, name);
		if (getenv("PS_UPDATE_GOLDEN") && !raw) {
			FILE *f = fopen(path, "w");
			CHECK(f != NULL);
			if (f) {
				fwrite(out.buf, 1, out.len, f);
				fclose(f);
			}
		}
		CHECK_INT(tu_slurp(path, &want), 0);
		if (out.len != want.len || memcmp(out.buf, want.buf, out.len) != 0) {
			fprintf(stderr, "%s (%s): output differs from the golden file:\n", name,
				raw ? "raw members" : "index tables");
			FILE *f = fopen("/tmp/procsnap-diff-got.txt", "w");
			if (f) {
				fwrite(out.buf, 1, out.len, f);
				fclose(f);
			}
			tu_sh(NULL, "diff -u '%s' /tmp/procsnap-diff-got.txt >&2", path);
			t_failures++;
		}
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

/* Validate a JSON output against schema/diff.schema.json (when python3 has
 * the jsonschema module; otherwise only well-formedness is checked). */
static void validate(const char *args)
{
	CHECK_INT(tu_sh(NULL, "cd %s && %s diff --json %s > v.json 2>err.txt", dir, tu_procsnap(),
			args) == 2,
		  0);
	int st =
	    tu_sh(&out,
		  "cd %s && /usr/bin/python3 -c 'import json,sys\n"
		  "d=json.load(open(\"v.json\"))\n"
		  "try:\n import jsonschema\n"
		  "except ImportError:\n print(\"OK\"); sys.exit(0)\n"
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
		"--system-only",
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
		"\"modules\",\"mountinfo (mnt:[4026532000])\"], sorted(f)\n"
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

static void test_page_counts(void)
{
	/* Page counts per mapping come from the index (pagemap columns of
	 * process_memory_map); give copies of the indexes some and check the
	 * deltas: present +3, swapped +1, soft_dirty unknown on one side (never
	 * read as 0), and the present count of an added mapping. */
	CHECK_INT(
	    tu_sh(
		NULL,
		"cd %s && cp a.tar.zst p1.tar.zst && cp a.tar.zst.db p1.tar.zst.db && "
		"cp b.tar.zst p2.tar.zst && cp b.tar.zst.db p2.tar.zst.db && "
		"sqlite3 p1.tar.zst.db \"UPDATE maps SET pages = 1, present = 0, "
		"swapped = 0, soft_dirty = 0 WHERE pid = 4242 AND start_addr = 0x55d4c0000000\" && "
		"sqlite3 p2.tar.zst.db \"UPDATE maps SET pages = 1, present = 3, "
		"swapped = 1, soft_dirty = NULL WHERE pid = 4242 AND start_addr = 0x55d4c0000000; "
		"UPDATE maps SET present = 7 WHERE pid = 4242 AND path_id = "
		"(SELECT str_id FROM strings WHERE text = '')\"",
		dir),
	    0);
	CHECK_INT(
	    tu_sh(&out,
		  "cd %s && %s diff --json --pid 4242 p1.tar.zst p2.tar.zst | /usr/bin/python3 -c '"
		  "import json,sys\n"
		  "c=json.load(sys.stdin)[\"processes\"][\"changed\"][0]\n"
		  "assert [(p[\"start\"],p.get(\"present_delta\"),p.get(\"swapped_delta\"),"
		  "\"soft_dirty_delta\" in p) for p in c[\"pages\"]]=="
		  "[(\"0x55d4c0000000\",3,1,False)], c[\"pages\"]\n"
		  "a=[m for m in c[\"mappings\"] if m[\"change\"]==\"added\"]\n"
		  "assert a[0][\"present\"]==7, a\n"
		  "print(\"OK\")'",
		  dir, tu_procsnap()),
	    0);
	CHECK_STR(out.buf, "OK\n");
	CHECK_INT(
	    tu_sh(&out, "cd %s && %s diff --pid 4242 p1.tar.zst p2.tar.zst", dir, tu_procsnap()),
	    1);
	CHECK(strstr(out.buf, "~ pages 55d4c0000000-55d4c0001000 r--p 4.0 KiB /usr/bin/python3.11"
			      "  present +3  swapped +1\n") != NULL);
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

static void teardown(void)
{
	ps_buf_release(&out);
	ps_buf_release(&want);
	tu_cleanup();
}

static const struct t_case t_cases[] = {T(test_golden_text),
					T(test_golden_json),
					T(test_golden_counters),
					T(test_schema),
					T(test_pid_reuse),
					T(test_system_rows),
					T(test_filters),
					T(test_page_counts),
					T(test_same),
					T(test_other_boot),
					T(test_color),
					T(test_trouble),
					{0, 0}};
T_MAIN_SETUP(t_cases, setup, teardown)
