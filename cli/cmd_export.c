/*
 * cmd_export.c - procsnap export: the tables of one or many snapshots as
 * files for the engines a fleet outgrows SQLite into (DuckDB, ClickHouse,
 * Spark): one file per table, NDJSON or CSV, optionally zstd-compressed.
 *
 * The snapshots are opened as `query` opens them (cli_snaps_open: read-only,
 * defensive; several through UNION ALL views).  Every table and view with a
 * snapshot_id is written, except the compact storage tables a view already
 * presents (paths, strings, maps, fds...): `files`, `process_memory_map`,
 * `process_fds` and the others carry their rows.  In every row snapshot_id
 * becomes the snapshot's UUID (minted at capture, snapshots.snapshot_uuid),
 * so rows of many hosts and captures never share an id, and `hostname` is
 * added.  Files are written under a temporary name and renamed; the
 * temporary one is removed if a signal ends the export (cli_supervise).
 */
#include "cli.h"

#include "common.h"
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

static const char help[] =
    "usage: procsnap export [--format ndjson|csv] [--compress zstd] [--force] -o DIR SNAP...\n"
    "Write the tables of the SNAPs (archives or indexes) into DIR, one file per table\n"
    "(DIR/processes.ndjson, DIR/hash.csv.zst...), for DuckDB, ClickHouse, Spark.\n"
    "snapshot_id in every row is the snapshot's UUID, unique across hosts and\n"
    "captures, and a hostname column is added; join the tables on snapshot_id.\n"
    "  -F, --format FMT     ndjson (one JSON object per line, default) or csv\n"
    "                       (RFC 4180, a header line, NULL as an empty field)\n"
    "  -z, --compress zstd  compress each file (FILE.zst)\n"
    "  -o, --output DIR     created if missing (mode 0700)\n"
    "  -f, --force          replace files that exist in DIR\n"
    "  -q, --quiet          no summary line\n"
    "Exit 0, 2 on error.\n";

/* Storage tables a view presents (schema/ files): not written, their view is. */
static const char *const storage[] = {"strings",    "contents", "stats",     "paths",	"sys_paths",
				      "maps",	    "map_info", "maps_rare", "fds",	"env_sets",
				      "limit_sets", "hashes",	"digests",   "sysctls", "pid_reads",
				      "name_stats", NULL};

struct out {
	FILE *f;
	ZSTD_CCtx *z;
	struct ps_buf zbuf;
	uint64_t rows;
};

/* The snapshot's id across hosts: its UUID; for a snapshot captured before
 * procsnap minted one, a UUID-shaped SHA-256 of its meta.json (which holds
 * the host, boot id and start time: the same snapshot always gets the same). */
static const char uuid_sql[] =
    "coalesce(s.snapshot_uuid, (SELECT substr(h, 1, 8) || '-' || substr(h, 9, 4) || '-' || "
    "substr(h, 13, 4) || '-' || substr(h, 17, 4) || '-' || substr(h, 21, 12) FROM (SELECT "
    "sha256(coalesce(s.meta_json, s.archive_sha256, s.snapshot_id)) AS h)))";

static int emit(struct out *o, const void *p, size_t n)
{
	if (!o->z)
		return fwrite(p, 1, n, o->f) == n ? 0 : -1;
	ZSTD_inBuffer in = {p, n, 0};
	while (in.pos < in.size) {
		ZSTD_outBuffer ob = {o->zbuf.buf, o->zbuf.cap, 0};
		size_t r = ZSTD_compressStream2(o->z, &ob, &in, ZSTD_e_continue);
		if (ZSTD_isError(r) || fwrite(o->zbuf.buf, 1, ob.pos, o->f) != ob.pos)
			return -1;
	}
	return 0;
}

static int emit_end(struct out *o)
{
	if (!o->z)
		return 0;
	for (;;) {
		ZSTD_inBuffer in = {NULL, 0, 0};
		ZSTD_outBuffer ob = {o->zbuf.buf, o->zbuf.cap, 0};
		size_t r = ZSTD_compressStream2(o->z, &ob, &in, ZSTD_e_end);
		if (ZSTD_isError(r) || fwrite(o->zbuf.buf, 1, ob.pos, o->f) != ob.pos)
			return -1;
		if (r == 0)
			return 0;
	}
}

/* RFC 4180 field (quoted when it holds , " CR LF), into b, as UTF-8: a byte
 * that is not part of well-formed UTF-8 becomes the character of the same
 * value (U+0080..U+00FF), as the JSON writer's \u00XX does - engines refuse
 * a file that is not UTF-8. */
static void csv_add(struct ps_buf *b, const char *s, size_t n)
{
	int q = 0;
	for (size_t i = 0; i < n && !q; i++)
		q = s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n';
	if (q)
		ps_buf_addc(b, '"');
	for (size_t i = 0; i < n;) {
		size_t l = ps_utf8_len(s + i, n - i, NULL);
		if (l == 0) {
			unsigned char c = (unsigned char)s[i++];
			ps_buf_addc(b, (char)(0xc0 | c >> 6));
			ps_buf_addc(b, (char)(0x80 | (c & 0x3f)));
			continue;
		}
		if (q && s[i] == '"')
			ps_buf_addc(b, '"');
		ps_buf_add(b, s + i, l);
		i += l;
	}
	if (q)
		ps_buf_addc(b, '"');
}

/* Does table (or view) `name` of schema have a snapshot_id column? */
static int has_snapshot_id(sqlite3 *db, const char *schema, const char *name)
{
	sqlite3_stmt *st;
	int found = 0;
	if (sqlite3_prepare_v2(db,
			       "SELECT 1 FROM pragma_table_info(?1, ?2) WHERE name = "
			       "'snapshot_id'",
			       -1, &st, NULL) != SQLITE_OK)
		return 0;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, schema, -1, SQLITE_STATIC);
	found = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return found;
}

/* "SELECT <uuid> AS snapshot_id, s.hostname AS hostname, t."c"... FROM "name" t
 * LEFT JOIN snapshots s USING the numeric id" into sql. */
static int select_sql(sqlite3 *db, const char *schema, const char *name, struct ps_buf *sql)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, "SELECT name FROM pragma_table_info(?1, ?2)", -1, &st, NULL) !=
	    SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, schema, -1, SQLITE_STATIC);
	int snaps = strcmp(name, "snapshots") == 0;
	ps_buf_reset(sql);
	ps_buf_addf(sql, "SELECT %s AS snapshot_id", uuid_sql);
	if (!snaps)
		ps_buf_adds(sql, ", s.hostname AS hostname");
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *c = (const char *)sqlite3_column_text(st, 0);
		if (!c || strcmp(c, "snapshot_id") == 0 || (!snaps && strcmp(c, "hostname") == 0))
			continue;
		char *q = sqlite3_mprintf(", t.\"%w\" AS \"%w\"", c, c);
		ps_buf_adds(sql, q);
		sqlite3_free(q);
	}
	sqlite3_finalize(st);
	char *q = sqlite3_mprintf(" FROM \"%w\".\"%w\" t LEFT JOIN \"%w\".snapshots s ON "
				  "s.snapshot_id = t.snapshot_id",
				  schema, name, schema);
	ps_buf_adds(sql, q);
	sqlite3_free(q);
	return 0;
}

struct opts {
	int csv, zstd, force, quiet;
	const char *dir;
};

/* One table into DIR/name.ndjson[.zst] (or .csv).  Rows written into *rows.
 * 0, or 2 with one line printed. */
/* mkdir -p with mode 0700 (evidence: owner only).  1 if the last component
 * was made here, 0 if it was there, -1 with errno. */
static int make_dirs(const char *dir)
{
	if (mkdir(dir, 0700) == 0)
		return 1;
	if (errno == EEXIST)
		return 0;
	if (errno != ENOENT)
		return -1;
	char *parent = ps_xstrdup(dir);
	char *slash = strrchr(parent, '/');
	while (slash && slash > parent && slash[1] == '\0') { /* trailing slashes */
		*slash = '\0';
		slash = strrchr(parent, '/');
	}
	int r = -1;
	if (slash && slash > parent) {
		*slash = '\0';
		r = make_dirs(parent);
	}
	free(parent);
	if (r < 0)
		return -1;
	if (mkdir(dir, 0700) == 0)
		return 1;
	return errno == EEXIST ? 0 : -1;
}

static int export_table(sqlite3 *db, const char *schema, const char *name, const struct opts *o,
			int dirfd, uint64_t *rows)
{
	struct ps_buf sql = PS_BUF_INIT, path = PS_BUF_INIT, tmp = PS_BUF_INIT, line = PS_BUF_INIT,
		      reg = PS_BUF_INIT;
	struct out out = {NULL, NULL, PS_BUF_INIT, 0};
	sqlite3_stmt *st = NULL;
	int rc = 2, fd = -1;
	ps_buf_addf(&path, "%s.%s%s", name, o->csv ? "csv" : "ndjson", o->zstd ? ".zst" : "");
	ps_buf_addf(&tmp, ".%s.%d.tmp", path.buf, (int)getpid());
	if (!o->force && faccessat(dirfd, path.buf, F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
		cli_fail("export", "%s/%s exists (use --force to replace it)", o->dir, path.buf);
		goto out;
	}
	if (select_sql(db, schema, name, &sql) < 0 ||
	    sqlite3_prepare_v2(db, sql.buf, -1, &st, NULL) != SQLITE_OK) {
		cli_fail("export", "%s: %s", name, sqlite3_errmsg(db));
		goto out;
	}
	/* DIR/.NAME.PID.tmp, registered before it exists: a signal removes it */
	ps_buf_addf(&reg, "%s/%s", o->dir, tmp.buf);
	cli_tmp_add(reg.buf);
	fd = openat(dirfd, tmp.buf, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || !(out.f = fdopen(fd, "w"))) {
		cli_fail("export", "%s/%s: %s", o->dir, tmp.buf, strerror(errno));
		if (fd < 0) {
			/* not ours (EEXIST), or not there: nothing to remove */
			cli_tmp_del(reg.buf);
			ps_buf_reset(&tmp);
		}
		goto out;
	}
	fd = -1;
	if (o->zstd) {
		out.z = ZSTD_createCCtx();
		ps_buf_grow(&out.zbuf, ZSTD_CStreamOutSize());
		if (!out.z ||
		    ZSTD_isError(ZSTD_CCtx_setParameter(out.z, ZSTD_c_compressionLevel, 3)))
			goto werr;
	}
	int ncol = sqlite3_column_count(st);
	if (o->csv) {
		ps_buf_reset(&line);
		for (int c = 0; c < ncol; c++) {
			const char *n = sqlite3_column_name(st, c);
			if (c)
				ps_buf_addc(&line, ',');
			csv_add(&line, n ? n : "", n ? strlen(n) : 0);
		}
		ps_buf_adds(&line, "\r\n");
		if (emit(&out, line.buf, line.len) < 0)
			goto werr;
	}
	int r;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		ps_buf_reset(&line);
		if (o->csv) {
			for (int c = 0; c < ncol; c++) {
				if (c)
					ps_buf_addc(&line, ',');
				if (sqlite3_column_type(st, c) == SQLITE_NULL)
					continue;
				const char *s = (const char *)sqlite3_column_text(st, c);
				csv_add(&line, s ? s : "", (size_t)sqlite3_column_bytes(st, c));
			}
			ps_buf_adds(&line, "\r\n");
		} else {
			cli_json_row(&line, st);
			ps_buf_addc(&line, '\n');
		}
		if (emit(&out, line.buf, line.len) < 0)
			goto werr;
		out.rows++;
	}
	if (r != SQLITE_DONE) {
		cli_fail("export", "%s: %s", name, sqlite3_errmsg(db));
		goto out;
	}
	if (emit_end(&out) < 0 || fflush(out.f) != 0 || fsync(fileno(out.f)) != 0)
		goto werr;
	if (fclose(out.f) != 0) {
		out.f = NULL;
		goto werr;
	}
	out.f = NULL;
	/* the check above is a courtesy; this is the guarantee */
	if (renameat2(dirfd, tmp.buf, dirfd, path.buf, o->force ? 0 : RENAME_NOREPLACE) < 0)
		goto werr;
	cli_tmp_del(reg.buf);
	ps_buf_reset(&tmp);
	*rows = out.rows;
	rc = 0;
	goto out;
werr:
	cli_fail("export", "%s/%s: %s", o->dir, path.buf, errno ? strerror(errno) : "write error");
out:
	if (out.f)
		fclose(out.f);
	if (fd >= 0)
		close(fd);
	if (tmp.len) {
		unlinkat(dirfd, tmp.buf, 0);
		cli_tmp_del(reg.buf);
	}
	ZSTD_freeCCtx(out.z);
	ps_buf_release(&out.zbuf);
	sqlite3_finalize(st);
	ps_buf_release(&sql);
	ps_buf_release(&path);
	ps_buf_release(&tmp);
	ps_buf_release(&line);
	ps_buf_release(&reg);
	return rc;
}

static int in_list(const char *const *l, const char *s)
{
	for (; *l; l++)
		if (strcmp(*l, s) == 0)
			return 1;
	return 0;
}

int cmd_export(const struct ps_cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {{"format", required_argument, NULL, 'F'},
						 {"compress", required_argument, NULL, 'z'},
						 {"output", required_argument, NULL, 'o'},
						 {"force", no_argument, NULL, 'f'},
						 {"quiet", no_argument, NULL, 'q'},
						 {"help", no_argument, NULL, 'h'},
						 {NULL, 0, NULL, 0}};
	struct opts o = {0, 0, 0, cli->verbosity == 0, NULL};
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "F:z:o:fqh", longopts, NULL)) != -1) {
		switch (c) {
		case 'F':
			if (strcmp(optarg, "csv") == 0)
				o.csv = 1;
			else if (strcmp(optarg, "ndjson") == 0 || strcmp(optarg, "json") == 0)
				o.csv = 0;
			else
				return cli_usage("export", "unknown format '%s' (ndjson, csv)",
						 optarg);
			break;
		case 'z':
			if (strcmp(optarg, "zstd") != 0)
				return cli_usage("export", "unknown compression '%s' (zstd)",
						 optarg);
			o.zstd = 1;
			break;
		case 'o':
			o.dir = optarg;
			break;
		case 'f':
			o.force = 1;
			break;
		case 'q':
			o.quiet = 1;
			break;
		case 'h':
			fputs(help, stdout);
			return 0;
		default:
			return cli_bad_option("export", "F:z:o:fqh", longopts, argv);
		}
	}
	if (!o.dir)
		return cli_usage("export", "expects -o DIR");
	if (argc - optind < 1)
		return cli_usage("export", "expects SNAP...");
	/* The work runs in a child; a signal removes the file being written
	 * (supervise.c).  Tables already renamed into place stay. */
	int src = cli_supervise("export");
	if (src >= 0)
		return src;
	/* The snapshots first: a bad one leaves no directory behind. */
	struct cli_snaps ss;
	if (cli_snaps_open("export", argc - optind, argv + optind, &ss) != 0)
		return 2;
	int made = make_dirs(o.dir);
	if (made < 0) {
		cli_snaps_close(&ss);
		return cli_fail("export", "cannot create %s: %s", o.dir, strerror(errno));
	}
	int dirfd = open(o.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		cli_snaps_close(&ss);
		return cli_fail("export", "%s: %s", o.dir, strerror(errno));
	}
	/* one snapshot: its index is main; several: the TEMP union views */
	const char *schema = ss.n > 1 ? "temp" : "main";
	sqlite3_stmt *st = NULL;
	char **names = NULL;
	size_t n = 0;
	int rc = 2;
	if (sqlite3_prepare_v2(ss.db,
			       "SELECT name FROM pragma_table_list WHERE schema = ?1 AND type IN "
			       "('table', 'view') AND name NOT LIKE 'sqlite_%' ORDER BY name",
			       -1, &st, NULL) != SQLITE_OK) {
		cli_fail("export", "%s", sqlite3_errmsg(ss.db));
		goto out;
	}
	sqlite3_bind_text(st, 1, schema, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(st, 0);
		if (!t || in_list(storage, t) || !has_snapshot_id(ss.db, schema, t))
			continue;
		names = ps_xrealloc(names, (n + 1) * sizeof(*names));
		names[n++] = ps_xstrdup(t);
	}
	sqlite3_finalize(st);
	uint64_t total = 0;
	for (size_t i = 0; i < n; i++) {
		uint64_t rows = 0;
		if (export_table(ss.db, schema, names[i], &o, dirfd, &rows) != 0)
			goto out;
		total += rows;
	}
	if (!o.quiet)
		fprintf(stderr,
			"procsnap: export: %zu tables, %llu rows of %d snapshot file(s) in %s\n", n,
			(unsigned long long)total, ss.n, o.dir);
	rc = 0;
out:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	cli_snaps_close(&ss);
	close(dirfd);
	/* a directory this run made holds nothing but its partial output */
	if (rc && made)
		cli_tmp_remove(o.dir);
	return rc;
}
