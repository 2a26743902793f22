/*
 * test_export.c - `procsnap export` (issue 12 item 6): the tables of two
 * snapshots as one file per table, NDJSON and CSV, plain and zstd, every row
 * with the snapshot's UUID (meta.json snapshot_uuid, snapshots.snapshot_uuid)
 * as snapshot_id and the host name; no file replaced without --force; a
 * stable UUID-shaped id for a snapshot made before UUIDs; and a real engine,
 * DuckDB (npm @duckdb/node-api, installed into the build tree by .ci/run),
 * reading the export of both snapshots in one query.
 */
#include "t.h"
#include "tutil.h"

#include "store.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#define FIXTURE	      PS_SOURCE_DIR "/samples/proc-fixture"
#define NPM_DIR	      PS_BINARY_DIR "/npm"
#define DUCKDB_SCRIPT PS_SOURCE_DIR "/tests/export_duckdb.cjs"

static char a[512], b[512], ua[64], ub[64];
static int ok;
static struct ps_buf out = PS_BUF_INIT;

static void uuid_of(const char *snap, char *u, size_t n)
{
	u[0] = '\0';
	char db[600];
	snprintf(db, sizeof(db), "%s.db", snap);
	tu_sql(db, u, n, "SELECT snapshot_uuid FROM snapshots");
}

static void setup(void)
{
	const char *d = tu_tmpdir();
	snprintf(a, sizeof(a), "%s/a.tar.zst", d);
	snprintf(b, sizeof(b), "%s/b.tar.zst", d);
	ok = tu_sh(NULL, "%s capture -q --root %s -o %s 2>/dev/null", tu_procsnap(), FIXTURE, a) ==
		 0 &&
	     tu_sh(NULL, "%s capture -q --pid %d -o %s 2>/dev/null", tu_procsnap(), (int)getpid(),
		   b) == 0;
	if (!ok) {
		fprintf(stderr, "captures failed\n");
		t_failures++;
		return;
	}
	uuid_of(a, ua, sizeof(ua));
	uuid_of(b, ub, sizeof(ub));
}

static void teardown(void)
{
	ps_buf_release(&out);
	tu_cleanup();
}

static int is_uuid4(const char *u)
{
	static const char shape[] = "xxxxxxxx-xxxx-4xxx-Vxxx-xxxxxxxxxxxx";
	if (strlen(u) != 36)
		return 0;
	for (int i = 0; i < 36; i++) {
		char c = u[i];
		int hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
		if (shape[i] == '-'   ? c != '-'
		    : shape[i] == '4' ? c != '4'
		    : shape[i] == 'V' ? !strchr("89ab", c)
				      : !hex)
			return 0;
	}
	return 1;
}

static void test_uuid(void)
{
	if (!ok)
		T_SKIP_CASE("no captures");
	CHECK(is_uuid4(ua));
	CHECK(is_uuid4(ub));
	CHECK(strcmp(ua, ub) != 0);
	/* in meta.json, as minted */
	CHECK_INT(tu_sh(&out, "%s cat %s procsnap/meta.json | grep -c '\"snapshot_uuid\":\"%s\"'",
			tu_procsnap(), a, ua),
		  0);
}

static void test_ndjson(void)
{
	if (!ok)
		T_SKIP_CASE("no captures");
	char dir[600];
	snprintf(dir, sizeof(dir), "%s/nd", tu_tmpdir());
	CHECK_INT(tu_sh(&out, "%s export -o %s %s %s 2>&1", tu_procsnap(), dir, a, b), 0);
	CHECK(strstr(out.buf, "rows of 2 snapshot file(s)") != NULL);
	/* one file per table and view; storage tables are not there */
	CHECK_INT(tu_sh(&out, "cd %s && ls | tr '\\n' ' '", dir), 0);
	static const char *const want[] = {"processes.ndjson",
					   "process_open_files.ndjson",
					   "process_fds.ndjson",
					   "process_memory_map.ndjson",
					   "listening_ports.ndjson",
					   "files.ndjson",
					   "snapshots.ndjson",
					   "hash.ndjson",
					   "time.ndjson",
					   "mounts.ndjson"};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		CHECK(strstr(out.buf, want[i]) != NULL);
	CHECK(strstr(out.buf, "paths.ndjson") == NULL);
	CHECK(strstr(out.buf, "strings.ndjson") == NULL);
	CHECK(strstr(out.buf, " fds.ndjson") == NULL);
	/* every line of every file is JSON with the snapshot's UUID and host */
	CHECK_INT(tu_sh(&out,
			"/usr/bin/python3 -c '\n"
			"import json, os, sys\n"
			"d, ua, ub = sys.argv[1:]\n"
			"n = {}\n"
			"for f in os.listdir(d):\n"
			"    for line in open(os.path.join(d, f), encoding=\"utf-8\"):\n"
			"        r = json.loads(line)\n"
			"        assert r[\"snapshot_id\"] in (ua, ub), (f, r)\n"
			"        assert r[\"hostname\"], f\n"
			"        if f == \"processes.ndjson\":\n"
			"            n[r[\"snapshot_id\"]] = n.get(r[\"snapshot_id\"], 0) + 1\n"
			"print(n[ua], n[ub])' %s %s %s",
			dir, ua, ub),
		  0);
	CHECK_STR(out.buf, "4 1\n");
	/* an existing file is not replaced without --force */
	CHECK_INT(tu_sh(&out, "%s export -q -o %s %s 2>&1", tu_procsnap(), dir, a), 2);
	CHECK(strstr(out.buf, "exists (use --force") != NULL);
	CHECK_INT(tu_sh(&out, "%s export -q -f -o %s %s 2>&1", tu_procsnap(), dir, a), 0);
	CHECK_INT(tu_sh(&out, "wc -l < %s/processes.ndjson", dir), 0);
	CHECK_STR(out.buf, "4\n");
	CHECK_INT(tu_sh(&out, "ls -a %s | grep -c tmp", dir), 1); /* no temporary file left */
	CHECK_STR(out.buf, "0\n");
}

static void test_csv_zstd(void)
{
	if (!ok)
		T_SKIP_CASE("no captures");
	char dir[600];
	snprintf(dir, sizeof(dir), "%s/cz", tu_tmpdir());
	CHECK_INT(tu_sh(NULL, "%s export -q -F csv -z zstd -o %s %s %s", tu_procsnap(), dir, a, b),
		  0);
	CHECK_INT(tu_sh(&out,
			"zstd -t -q %s/*.zst && zstd -dc %s/processes.csv.zst | head -1 | "
			"cut -d, -f1-4",
			dir, dir),
		  0);
	CHECK_STR(out.buf, "snapshot_id,hostname,pid,name\n");
	/* valid UTF-8 even where a snapshot holds other bytes (the fixture's
	 * environment), quoted fields kept whole */
	CHECK_INT(tu_sh(&out,
			"zstd -dc %s/process_envs.csv.zst | /usr/bin/python3 -c 'import csv, sys; "
			"r = list(csv.reader(sys.stdin)); print(len(r[0]), all(len(x) == len(r[0]) "
			"for x in r))'",
			dir),
		  0);
	CHECK_STR(out.buf, "5 True\n");
}

/* A snapshot from before snapshot_uuid: a stable, UUID-shaped id. */
static void test_legacy_id(void)
{
	char arc[600], db[700], dir[600];
	struct ps_err err = {0, ""};
	snprintf(arc, sizeof(arc), "%s/old.tar.zst", tu_tmpdir());
	snprintf(db, sizeof(db), "%s.db", arc);
	int fd = open(arc, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	struct ps_writer *w = NULL;
	struct ps_writer_opts o = {.level = 1, .frame_size = 0, .spill_dirfd = -1};
	CHECK_INT(ps_writer_open(&w, fd, &o, &err), 0);
	static const char meta[] = "{\"format_version\":1,\"hostname\":\"old\",\"start_ns\":5}";
	struct ps_member m = {.path = PS_META_PATH,
			      .kind = PS_M_FILE,
			      .mode = 0100444,
			      .data = meta,
			      .len = sizeof(meta) - 1};
	CHECK_INT(ps_writer_add(w, &m, &err), 0);
	struct ps_writer_stats st;
	CHECK_INT(ps_writer_finish(w, &st, &err), 0);
	ps_writer_free(w);
	close(fd);
	CHECK_INT(ps_index_build(arc, db, 1, &err), 0);
	char id1[128] = "", id2[128] = "";
	snprintf(dir, sizeof(dir), "%s/old", tu_tmpdir());
	for (int i = 0; i < 2; i++) {
		CHECK_INT(tu_sh(&out,
				"%s export -q -f -o %s %s && /usr/bin/python3 -c 'import json,sys; "
				"print(json.loads(open(sys.argv[1]).readline())[\"snapshot_id\"])' "
				"%s/snapshots.ndjson",
				tu_procsnap(), dir, arc, dir),
			  0);
		out.buf[strcspn(out.buf, "\n")] = '\0';
		snprintf(i ? id2 : id1, 128, "%s", out.buf);
	}
	CHECK_INT((int)strlen(id1), 36);
	CHECK_STR(id1, id2);
}

/* DuckDB reads the export of both snapshots in one query, in each format. */
static void test_duckdb(void)
{
	if (!ok)
		T_SKIP_CASE("no captures");
	if (access(NPM_DIR "/node_modules/@duckdb/node-api/package.json", R_OK) != 0 ||
	    tu_sh(NULL, "command -v node >/dev/null") != 0)
		T_SKIP_CASE("DuckDB not installed (.ci/run: npm install --prefix BUILD/npm "
			    "@duckdb/node-api)");
	char nd[600], cz[600], nz[600];
	snprintf(nd, sizeof(nd), "%s/dnd", tu_tmpdir());
	snprintf(cz, sizeof(cz), "%s/dcz", tu_tmpdir());
	snprintf(nz, sizeof(nz), "%s/dnz", tu_tmpdir());
	CHECK_INT(tu_sh(NULL,
			"%s export -q -o %s %s %s && %s export -q -F csv -z zstd -o %s %s %s && "
			"%s export -q -z zstd -o %s %s %s",
			tu_procsnap(), nd, a, b, tu_procsnap(), cz, a, b, tu_procsnap(), nz, a, b),
		  0);
	CHECK_INT(tu_sh(&out, "node %s %s %s %s %s", DUCKDB_SCRIPT, NPM_DIR, nd, cz, nz), 0);
	/* per snapshot: its id, its host, its processes (b: 1, the fixture: 4) */
	char host[256] = "";
	gethostname(host, sizeof(host) - 1);
	struct ps_buf per = PS_BUF_INIT;
	ps_buf_addf(&per,
		    "[{\"snapshot_id\":\"%s\",\"hostname\":\"%s\",\"processes\":1},"
		    "{\"snapshot_id\":\"%s\",\"hostname\":\"%s\",\"processes\":4}]",
		    ub, host, ua, host);
	struct ps_buf wb = PS_BUF_INIT;
	ps_buf_addf(&wb, "\"ndjson\":%s,\"csv_zst\":%s,\"ndjson_zst\":%s", per.buf, per.buf,
		    per.buf);
	char want[256];
	CHECK(strstr(out.buf, wb.buf) != NULL);
	if (!strstr(out.buf, wb.buf))
		fprintf(stderr, "duckdb: %s\nwant: %s\n", out.buf, wb.buf);
	ps_buf_release(&per);
	ps_buf_release(&wb);
	/* the fixture's listener, joined to its process */
	snprintf(want, sizeof(want),
		 "\"listeners\":[{\"snapshot_id\":\"%s\",\"port\":8080,\"name\":\"systemd\"}", ua);
	CHECK(strstr(out.buf, want) != NULL);
}

/* The output directory: made with its parents (0700); never left behind by
 * a failed export that made it. */
static void test_output_dir(void)
{
	if (!ok)
		T_SKIP_CASE("setup failed");
	const char *d = tu_tmpdir();
	/* a snapshot that is not there: nothing made */
	CHECK_INT(tu_sh(&out, "%s export -q -o %s/x1 %s/nosuch.tar.zst 2>&1", tu_procsnap(), d, d),
		  2);
	CHECK_INT(tu_sh(NULL, "test -e %s/x1", d), 1);
	/* parents made, owner only */
	CHECK_INT(tu_sh(NULL, "%s export -q -o %s/p/q/r %s", tu_procsnap(), d, a), 0);
	CHECK_INT(
	    tu_sh(&out, "stat -c %%a %s/p %s/p/q %s/p/q/r && ls %s/p/q/r | wc -l", d, d, d, d), 0);
	CHECK(strncmp(out.buf, "700\n700\n700\n", 12) == 0);
	CHECK(atoi(out.buf + 12) > 10);
	/* an index that fails midway (a damaged page: two tables are written,
	 * then `files` cannot be read): the directory it made goes, with them */
	CHECK_INT(tu_sh(NULL,
			"cp %s.db %s/bad.db && python3 -c \"import sys; p = sys.argv[1]; d = "
			"bytearray(open(p, 'rb').read()); d[8192:8256] = bytes(x ^ 0x5a for x in "
			"d[8192:8256]); open(p, 'wb').write(d)\" %s/bad.db",
			a, d, d),
		  0);
	CHECK_INT(tu_sh(&out, "%s export -q -o %s/x2 %s/bad.db 2>&1", tu_procsnap(), d, d), 2);
	CHECK(strncmp(out.buf, "procsnap: export: ", 18) == 0 && strstr(out.buf, "malformed"));
	CHECK_INT(tu_sh(NULL, "test -e %s/x2", d), 1);
}

static const struct t_case t_cases[] = {
    T(test_uuid),   T(test_ndjson), T(test_csv_zstd), T(test_legacy_id), T(test_output_dir),
    T(test_duckdb), {0, 0}};
T_MAIN_SETUP(t_cases, setup, teardown)
