/*
 * cmd_read.c - commands that read one snapshot: index, info, ls, cat.
 * SNAP may name the archive or its index (store.h ps_snap_open).
 */
#include "cli.h"

#include "common.h"
#include "store.h"

#include <errno.h>
#include <getopt.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static const char index_help[] =
    "usage: procsnap index [-o DB] [--force] ARCHIVE|-\n"
    "Rebuild the SQLite index of ARCHIVE from the archive alone (default\n"
    "ARCHIVE.db; - reads standard input and needs -o).  Any tar or tar.zst\n"
    "is read; without a seek table, in sequence.  An existing index is\n"
    "replaced only with --force.\n";

int cmd_index(const struct ps_cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {{"output", required_argument, NULL, 'o'},
						 {"force", no_argument, NULL, 'f'},
						 {"help", no_argument, NULL, 'h'},
						 {NULL, 0, NULL, 0}};
	const char *db = NULL;
	int force = 0, c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:fh", longopts, NULL)) != -1) {
		if (c == 'o')
			db = optarg;
		else if (c == 'f')
			force = 1;
		else if (c == 'h') {
			fputs(index_help, stdout);
			return 0;
		} else
			return cli_bad_option("index", "o:fh", longopts, argv);
	}
	if (argc - optind != 1)
		return cli_usage("index", "expects one ARCHIVE");
	const char *archive = argv[optind];
	if (!db && strcmp(archive, "-") == 0)
		return cli_usage("index", "reading standard input needs -o DB");
	struct ps_buf def = PS_BUF_INIT;
	if (!db) {
		ps_buf_addf(&def, "%s.db", archive);
		db = def.buf;
	}
	/* the archive itself, never its index's place */
	struct stat ast, dst;
	if (stat(archive, &ast) == 0 && stat(db, &dst) == 0 && ast.st_dev == dst.st_dev &&
	    ast.st_ino == dst.st_ino) {
		ps_buf_release(&def);
		return cli_fail("index", "%s is the archive it would index: refusing to replace it",
				db);
	}
	/* The work runs in a child; a signal removes DB.tmp.PID (supervise.c). */
	int rc = cli_supervise("index");
	if (rc >= 0) {
		ps_buf_release(&def);
		return rc;
	}
	struct ps_err err = {0, ""};
	uint64_t t0 = ps_mono_ns();
	const char *tmpdir = getenv("TMPDIR");
	struct ps_reader_opts ro = {.tmpdir = tmpdir && *tmpdir ? tmpdir : NULL, .salvage = 1};
	cli_tmp_index(db, 1);
	rc = ps_index_build_with(archive, db, force, &ro, &err);
	cli_tmp_index(db, 0);
	if (rc < 0) {
		rc = cli_fail("index", "%s", err.msg);
	} else if (rc == 1) {
		/* Damage is salvaged: what survives is indexed, the rest marked. */
		struct ps_buf m = PS_BUF_INIT;
		ps_buf_adds(&m, "warning: ");
		ps_buf_adds(&m, db);
		ps_buf_adds(&m, " written from what survives of the archive: ");
		ps_buf_adds(&m, err.msg);
		ps_buf_adds(&m, " (see files.damage; procsnap verify names every path)");
		cli_fail("index", "%s", m.buf);
		ps_buf_release(&m);
	} else if (cli->verbosity) {
		fprintf(stderr, "procsnap: index %s written in %.2f s\n", db,
			(double)(ps_mono_ns() - t0) / 1e9);
	}
	ps_buf_release(&def);
	return rc;
}

static int open_snap(const char *cmd, const char *path, struct ps_snap **s)
{
	struct ps_err err = {0, ""};
	if (ps_snap_open(path, s, &err) < 0)
		return cli_fail(cmd, "%s", err.msg);
	return 0;
}

static const char info_help[] = "usage: procsnap info SNAP\n"
				"Show a snapshot's metadata (host, kernel, case fields, times),\n"
				"its counts and errors by errno, and the archive's SHA-256.\n";

static void print_time(const char *label, sqlite3_stmt *q, int col)
{
	if (sqlite3_column_type(q, col) == SQLITE_NULL) {
		printf("%-16s -\n", label);
		return;
	}
	int64_t ns = sqlite3_column_int64(q, col);
	time_t t = (time_t)(ns / 1000000000);
	struct tm tm;
	char buf[64];
	gmtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	printf("%-16s %s.%03dZ\n", label, buf, (int)((ns / 1000000) % 1000));
}

int cmd_info(const struct ps_cli *cli, int argc, char **argv)
{
	(void)cli;
	if (cli_want_help(argc, argv, info_help))
		return 0;
	if (cli_no_options("info", argc, argv))
		return 2;
	if (argc != 2)
		return cli_usage("info", "expects one SNAP");
	struct ps_snap *s;
	if (open_snap("info", argv[1], &s))
		return 2;
	sqlite3 *db = ps_snap_db(s);
	sqlite3_stmt *q;
	static const char *const cols[] = {
	    "snapshot_id",  "hostname",	    "kernel_release", "kernel_version",
	    "boot_id",	    "machine_id",   "proc_root",      "uid",
	    "cap_eff",	    "case_id",	    "examiner",	      "evidence",
	    "note",	    "tool_version", "format_version", "n_processes",
	    "n_threads",    "n_files",	    "n_links",	      "n_dirs",
	    "n_absent",	    "n_errors",	    "raw_bytes",      "tar_bytes",
	    "archive_name", "archive_size", "archive_sha256", "hash_mismatches",
	    "n_damaged",    "page_size",    "clock_ticks",    "start_ns",
	    "end_ns",
	};
	const size_t ncols = sizeof(cols) / sizeof(cols[0]);
	struct ps_buf sql = PS_BUF_INIT;
	ps_buf_adds(&sql, "SELECT ");
	for (size_t i = 0; i < ncols; i++)
		ps_buf_addf(&sql, "%s%s", i ? "," : "", cols[i]);
	ps_buf_adds(&sql, ", (SELECT count(*) FROM frames f WHERE f.snapshot_id = "
			  "snapshots.snapshot_id) FROM snapshots ORDER BY snapshot_id");
	int rc = 0;
	if (sqlite3_prepare_v2(db, sql.buf, -1, &q, NULL) != SQLITE_OK) {
		rc = cli_fail("info", "%s", sqlite3_errmsg(db));
		goto out;
	}
	struct ps_buf t = PS_BUF_INIT;
	int r;
	while ((r = sqlite3_step(q)) == SQLITE_ROW) {
		for (size_t i = 0; i < ncols - 2; i++) {
			/* Values come from the snapshot (a hostile hostname,
			 * case field...): escaped for the terminal. */
			const char *v = (const char *)sqlite3_column_text(q, (int)i);
			ps_buf_reset(&t);
			if (v)
				ps_buf_add_term(&t, v, (size_t)sqlite3_column_bytes(q, (int)i));
			else
				ps_buf_adds(&t, "-");
			printf("%-16s %s\n", cols[i], t.buf);
		}
		printf("%-16s %lld\n", "frames", (long long)sqlite3_column_int64(q, (int)ncols));
		print_time("start", q, (int)ncols - 2);
		print_time("end", q, (int)ncols - 1);
		if (sqlite3_column_type(q, (int)ncols - 1) != SQLITE_NULL &&
		    sqlite3_column_type(q, (int)ncols - 2) != SQLITE_NULL)
			printf("%-16s %.3f s\n", "duration",
			       (double)(sqlite3_column_int64(q, (int)ncols - 1) -
					sqlite3_column_int64(q, (int)ncols - 2)) /
				   1e9);
		sqlite3_stmt *e;
		if (sqlite3_prepare_v2(db, ps_files_errno_counts_sql(), -1, &e, NULL) !=
		    SQLITE_OK) {
			r = SQLITE_ERROR;
			break;
		}
		sqlite3_bind_int64(e, 1, sqlite3_column_int64(q, 0));
		printf("%-16s", "errors");
		int any = 0, re;
		while ((re = sqlite3_step(e)) == SQLITE_ROW) {
			ps_buf_reset(&t);
			ps_buf_add_term(&t, (const char *)sqlite3_column_text(e, 0),
					(size_t)sqlite3_column_bytes(e, 0));
			printf(" %s=%lld", t.buf, (long long)sqlite3_column_int64(e, 1));
			any = 1;
		}
		printf("%s\n", any ? "" : " none");
		sqlite3_finalize(e);
		if (re != SQLITE_DONE) {
			r = re;
			break;
		}
	}
	if (r != SQLITE_ROW && r != SQLITE_DONE)
		rc = cli_fail("info", "%s", sqlite3_errmsg(db));
	sqlite3_finalize(q);
	ps_buf_release(&t);
out:
	ps_buf_release(&sql);
	ps_snap_close(s);
	return rc;
}

static const char ls_help[] =
    "usage: procsnap ls [-l] SNAP [GLOB]\n"
    "List captured paths in capture order, optionally those matching GLOB\n"
    "(SQLite GLOB: '*' also matches '/').  -l adds kind, size, errno and the\n"
    "link target.  Control characters, bidi controls and invalid UTF-8 are\n"
    "printed escaped (\\n, \\t, \\\\, \\xHH).\n";

int cmd_ls(const struct ps_cli *cli, int argc, char **argv)
{
	(void)cli;
	int longfmt = 0, c;
	static const struct option longopts[] = {
	    {"long", no_argument, NULL, 'l'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
	optind = 1;
	while ((c = getopt_long(argc, argv, "lh", longopts, NULL)) != -1) {
		if (c == 'l')
			longfmt = 1;
		else if (c == 'h') {
			fputs(ls_help, stdout);
			return 0;
		} else
			return cli_bad_option("ls", "lh", longopts, argv);
	}
	if (argc - optind < 1 || argc - optind > 2)
		return cli_usage("ls", "expects SNAP [GLOB]");
	struct ps_snap *s;
	if (open_snap("ls", argv[optind], &s))
		return 2;
	sqlite3 *db = ps_snap_db(s);
	sqlite3_stmt *q;
	int rc = 0;
	/* A glob through files_glob() (store/globvt.c): each pid's range looked
	 * up for the names the pattern can end with, or the keys where the
	 * pattern has a literal pid or name; in capture order.  Without -l only
	 * the path is asked for, which the lookup gives without the joins. */
	struct ps_buf full = PS_BUF_INIT;
	ps_buf_addf(&full, "SELECT %s FROM %s",
		    longfmt ? "path, kind, size, errno, link_target" : "path",
		    argc - optind == 2 ? "files_glob(?1)" : "files ORDER BY snapshot_id, path_id");
	int prc = sqlite3_prepare_v2(db, full.buf, -1, &q, NULL);
	ps_buf_release(&full);
	if (prc != SQLITE_OK) {
		rc = cli_fail("ls", "%s", sqlite3_errmsg(db));
		goto out;
	}
	if (argc - optind == 2)
		sqlite3_bind_text(q, 1, argv[optind + 1], -1, SQLITE_STATIC);
	struct ps_buf line = PS_BUF_INIT;
	int r;
	while ((r = sqlite3_step(q)) == SQLITE_ROW) {
		/* Every column comes from the snapshot: escaped for the terminal. */
		ps_buf_reset(&line);
		if (longfmt) {
			const char *e = (const char *)sqlite3_column_text(q, 3);
			size_t w = ps_buf_add_terms(&line, (const char *)sqlite3_column_text(q, 1));
			ps_buf_addf(&line, "%*s %10lld ", w < 6 ? (int)(6 - w) : 0, "",
				    (long long)sqlite3_column_int64(q, 2));
			w = ps_buf_add_terms(&line, e ? e : "-");
			ps_buf_addf(&line, "%*s ", w < 7 ? (int)(7 - w) : 0, "");
		}
		ps_buf_add_term(&line, (const char *)sqlite3_column_text(q, 0),
				(size_t)sqlite3_column_bytes(q, 0));
		if (longfmt && sqlite3_column_type(q, 4) != SQLITE_NULL) {
			ps_buf_adds(&line, " -> ");
			ps_buf_add_term(&line, (const char *)sqlite3_column_text(q, 4),
					(size_t)sqlite3_column_bytes(q, 4));
		}
		ps_buf_addc(&line, '\n');
		fwrite(line.buf, 1, line.len, stdout);
	}
	if (r != SQLITE_DONE)
		rc = cli_fail("ls", "%s", sqlite3_errmsg(db));
	ps_buf_release(&line);
	sqlite3_finalize(q);
out:
	ps_snap_close(s);
	return rc;
}

static const char cat_help[] =
    "usage: procsnap cat SNAP PATH\n"
    "Print the exact bytes captured for PATH (e.g. proc/1/cmdline); a symlink\n"
    "prints its target and a newline.  Content is checked against its XXH3\n"
    "before it is printed (a member over 1 MiB: read twice, in pieces).\n";

static int put_stdout(void *ctx, const void *p, size_t n)
{
	(void)ctx;
	return fwrite(p, 1, n, stdout) == n ? 0 : errno ? errno : EIO;
}

int cmd_cat(const struct ps_cli *cli, int argc, char **argv)
{
	(void)cli;
	if (cli_want_help(argc, argv, cat_help))
		return 0;
	if (cli_no_options("cat", argc, argv))
		return 2;
	if (argc != 3)
		return cli_usage("cat", "expects SNAP PATH");
	struct ps_snap *s;
	if (open_snap("cat", argv[1], &s))
		return 2;
	struct ps_err err = {0, ""};
	int kind = -1, rc = 0;
	const char *path = argv[2];
	while (path[0] == '/')
		path++; /* accept /proc/1/stat as well */
	if (ps_snap_cat(s, path, put_stdout, NULL, &kind, &err) < 0)
		rc = cli_fail("cat", "%s", err.msg);
	else if (kind == PS_M_LINK)
		putchar('\n');
	else if (kind == PS_M_DIR)
		rc = cli_fail("cat", "%s is a directory (procsnap ls SNAP '%s/*' lists it)", path,
			      path);
	if (fflush(stdout) != 0 && !rc)
		rc = cli_fail("cat", "write: %s", strerror(errno));
	ps_snap_close(s);
	return rc;
}
