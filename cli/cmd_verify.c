/*
 * cmd_verify.c - procsnap verify: re-read an archive, re-hash every member
 * against the manifest (and the zstd frame checksums), and compare the
 * SHA-256 of the file with the one recorded at capture time.
 */
#include "cli.h"

#include "common.h"
#include "store.h"

#include <errno.h>
#include <getopt.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char help[] =
    "usage: procsnap verify [--sha256 HEX] SNAP\n"
    "Re-read the archive of SNAP (archive or index), re-hash every member and\n"
    "compare it with the manifest, check the zstd frame checksums, and compare\n"
    "the archive's SHA-256 with the one in its index (and with HEX if given,\n"
    "e.g. the line capture printed).  Nothing is written beside the archive.\n"
    "Exit status: 0 intact, 1 mismatch, 2 unreadable or corrupt.\n";

/* First column of the first row, as text, into out; "" if none. */
static void sql1(sqlite3 *db, const char *sql, char *out, size_t n)
{
	sqlite3_stmt *q;
	out[0] = '\0';
	if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) == SQLITE_OK &&
	    sqlite3_step(q) == SQLITE_ROW && sqlite3_column_text(q, 0))
		snprintf(out, n, "%s", (const char *)sqlite3_column_text(q, 0));
	sqlite3_finalize(q);
}

int cmd_verify(const struct ps_cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {{"sha256", required_argument, NULL, 's'},
						 {"help", no_argument, NULL, 'h'},
						 {NULL, 0, NULL, 0}};
	const char *want_sha = NULL;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (c == 's')
			want_sha = optarg;
		else if (c == 'h') {
			fputs(help, stdout);
			return 0;
		} else
			return cli_usage("verify", "bad option");
	}
	if (argc - optind != 1)
		return cli_usage("verify", "expects one SNAP");
	const char *arg = argv[optind];

	/* The archive, and the index recorded beside it (if any). */
	char recorded[80] = "";
	struct ps_buf archive = PS_BUF_INIT;
	struct ps_snap *s = NULL;
	struct ps_err err = {0, ""};
	if (ps_snap_open(arg, &s, &err) == 0) {
		sql1(ps_snap_db(s), "SELECT archive_sha256 FROM snapshots ORDER BY snapshot_id",
		     recorded, sizeof(recorded));
		if (ps_snap_archive(s))
			ps_buf_adds(&archive, ps_snap_archive(s));
		ps_snap_close(s);
	}
	if (!archive.len) {
		size_t l = strlen(arg);
		if (l > 3 && strcmp(arg + l - 3, ".db") == 0)
			ps_buf_add(&archive, arg, l - 3);
		else
			ps_buf_adds(&archive, arg);
	}

	/* Rebuild an index in a private temporary directory: the builder
	 * re-hashes every member and compares it with the manifest. */
	const char *tmp = getenv("TMPDIR");
	struct ps_buf dir = PS_BUF_INIT, db = PS_BUF_INIT;
	ps_buf_addf(&dir, "%s/procsnap-verify-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	int rc = 2;
	if (!mkdtemp(dir.buf)) {
		rc = cli_fail("verify", "cannot create a temporary directory: %s", strerror(errno));
		goto out;
	}
	ps_buf_addf(&db, "%s/v.db", dir.buf);
	if (ps_index_build(archive.buf, db.buf, 0, &err) < 0) {
		rc = cli_fail("verify", "%s", err.msg);
		goto out;
	}
	sqlite3 *d = NULL;
	if (sqlite3_open_v2(db.buf, &d, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		rc = cli_fail("verify", "%s", sqlite3_errmsg(d));
		sqlite3_close(d);
		goto out;
	}
	char sha[80], mism[32], nfiles[32], nmem[32];
	sql1(d, "SELECT archive_sha256 FROM snapshots", sha, sizeof(sha));
	sql1(d, "SELECT n_damaged FROM snapshots", mism, sizeof(mism));
	sql1(d, "SELECT count(*) FROM paths", nfiles, sizeof(nfiles));
	sql1(d, "SELECT count(*) FROM paths WHERE kind != 3 AND damage IS NULL", nmem,
	     sizeof(nmem));
	rc = 0;
	if (atoll(mism) != 0) {
		rc = 1;
		sqlite3_stmt *q;
		if (sqlite3_prepare_v2(
			d,
			"SELECT upper(damage), path FROM files WHERE damage IS NOT NULL "
			"ORDER BY path_id",
			-1, &q, NULL) == SQLITE_OK) {
			struct ps_buf esc = PS_BUF_INIT;
			while (sqlite3_step(q) == SQLITE_ROW) {
				ps_buf_reset(&esc);
				ps_escape(&esc, (const char *)sqlite3_column_text(q, 1),
					  (size_t)sqlite3_column_bytes(q, 1));
				printf("%s %s\n", (const char *)sqlite3_column_text(q, 0), esc.buf);
			}
			ps_buf_release(&esc);
		}
		sqlite3_finalize(q);
	}
	if (recorded[0] && strcmp(recorded, sha) != 0) {
		printf("SHA-256 MISMATCH: index records %s, file is %s\n", recorded, sha);
		rc = 1;
	}
	if (want_sha && strcasecmp(want_sha, sha) != 0) {
		printf("SHA-256 MISMATCH: expected %s, file is %s\n", want_sha, sha);
		rc = 1;
	}
	sqlite3_close(d);
	if (rc == 0 && cli->verbosity)
		printf("OK %s: %s manifest entries, %s members re-hashed, sha256 %s%s\n",
		       archive.buf, nfiles, nmem, sha, recorded[0] || want_sha ? " (matches)" : "");
	else if (rc == 1)
		printf("FAILED %s: %s member(s) differ from the manifest\n", archive.buf, mism);
out:
	if (db.len)
		unlink(db.buf);
	if (dir.len)
		rmdir(dir.buf);
	ps_buf_release(&dir);
	ps_buf_release(&db);
	ps_buf_release(&archive);
	return rc;
}
