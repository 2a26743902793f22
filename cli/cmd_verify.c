/*
 * cmd_verify.c - procsnap verify: read an archive through, re-hash every
 * member, compare each with its manifest line, and compare the SHA-256 of
 * the file with the one recorded at capture time.
 *
 * The archive is read in salvage mode: a damaged stretch is reported (DAMAGE
 * lines) and reading goes on at the next tar header, so every member that
 * survives is still checked.  Members and manifest lines are put in a
 * temporary SQLite database in a private directory of $TMPDIR (disk, not
 * memory: a 2-million-path snapshot stays within the memory budget) and
 * compared there; it does not depend on the index's tables.
 *
 * A manifest entry whose member was not seen is DAMAGED when it was lost
 * in a damaged stretch (the reader names a member it cut; for members whose
 * headers were lost, the manifest's order tells: the manifest lists paths in
 * the order they were written, so an entry between the members read just
 * before and just after a damage was lost in it), MISSING otherwise.
 */
#include "cli.h"

#include "common.h"
#include "store.h"

#include <errno.h>
#include <sys/stat.h>
#include <getopt.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

static const char help[] =
    "usage: procsnap verify [--sha256 HEX] SNAP|-\n"
    "Read the archive of SNAP (archive or index; - reads standard input) through,\n"
    "re-hash every member and compare it with the manifest, and compare the\n"
    "archive's SHA-256 with the one in its index and with HEX if given (the line\n"
    "capture printed).  Damaged parts are reported and skipped; everything that\n"
    "survives is checked.  Lines: DAMAGE (a damaged stretch), DAMAGED, MISMATCH,\n"
    "MISSING, UNLISTED (path), SHA-256 MISMATCH, SHA-256 not checked.\n"
    "Exit status: 0 everything checked and intact, 1 any finding, 2 unreadable.\n";

struct vstate {
	sqlite3 *db;
	sqlite3_stmt *ins_m, *ins_mf, *ins_d;
	struct ps_buf path, esc;
	uint64_t members, lines, bad_lines, damages;
	int saw_manifest;
	uint64_t *hit; /* bit per member (seq): matched by a manifest line */
	uint64_t nhit;
};

/* A path's key in the temporary tables: its XXH3-64 as a signed integer.
 * Lookups go through an index of these and then compare the path itself,
 * so equal keys of different paths only cost a comparison. */
static int64_t path_key(const void *p, size_t n)
{
	uint64_t h = XXH3_64bits(p, n);
	int64_t k;
	memcpy(&k, &h, sizeof(k));
	return k;
}

static int vexec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		int rc = cli_fail("verify", "sqlite: %s", msg ? msg : sql);
		sqlite3_free(msg);
		return rc;
	}
	return 0;
}

static int vprep(sqlite3 *db, const char *sql, sqlite3_stmt **st)
{
	if (sqlite3_prepare_v2(db, sql, -1, st, NULL) != SQLITE_OK)
		return cli_fail("verify", "sqlite: %s", sqlite3_errmsg(db));
	return 0;
}

static int vstep(sqlite3 *db, sqlite3_stmt *st)
{
	int r = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (r != SQLITE_DONE)
		return cli_fail("verify", "sqlite: %s", sqlite3_errmsg(db));
	return 0;
}

static void print_path(struct vstate *v, const char *what, const void *p, size_t n)
{
	ps_buf_reset(&v->esc);
	ps_escape(&v->esc, p, n);
	printf("%s %s\n", what, v->esc.buf);
}

/* The manifest: one row per line. */
static int load_manifest(struct vstate *v, struct ps_reader *r, struct ps_err *err)
{
	const char *line;
	size_t len;
	int st;
	v->saw_manifest = 1;
	while ((st = ps_reader_stream_line(r, &line, &len, err)) == 1) {
		struct ps_manifest_line ml;
		v->lines++;
		if (ps_manifest_parse_line(line, len, &v->path, &ml) < 0) {
			/* a finding, not trouble: say which line */
			printf("MALFORMED manifest line %llu\n", (unsigned long long)v->lines);
			v->bad_lines++;
			continue;
		}
		sqlite3_stmt *s = v->ins_mf;
		sqlite3_bind_blob(s, 1, v->path.buf, (int)v->path.len, SQLITE_STATIC);
		sqlite3_bind_int64(s, 5, path_key(v->path.buf, v->path.len));
		sqlite3_bind_int(s, 2, (int)ml.kind);
		sqlite3_bind_int64(s, 3, (int64_t)ml.size);
		if (ml.has_hash)
			sqlite3_bind_blob(s, 4, ml.xxh3, 16, SQLITE_STATIC);
		if (vstep(v->db, s))
			return 2;
	}
	return st < 0 ? -1 : 0;
}

static int add_member(struct vstate *v, const struct ps_rmember *m)
{
	sqlite3_stmt *s = v->ins_m;
	size_t size = m->kind == PS_M_LINK && m->target ? strlen(m->target) : m->len;
	v->members++;
	size_t pn = strlen(m->path);
	sqlite3_bind_int64(s, 1, (int64_t)v->members);
	sqlite3_bind_blob(s, 2, m->path, (int)pn, SQLITE_STATIC);
	sqlite3_bind_int64(s, 7, path_key(m->path, pn));
	sqlite3_bind_int(s, 3, (int)m->kind);
	sqlite3_bind_int64(s, 4, (int64_t)size);
	if (m->hardlink) {
		size_t ln = strlen(m->hardlink);
		sqlite3_bind_blob(s, 6, m->hardlink, (int)ln, SQLITE_STATIC);
		sqlite3_bind_int64(s, 8, path_key(m->hardlink, ln));
	} else if (m->kind != PS_M_DIR)
		sqlite3_bind_blob(s, 5, m->xxh3, 16, SQLITE_STATIC);
	return vstep(v->db, s);
}

static void fmt_off(char *buf, size_t n, uint64_t v)
{
	if (v == PS_OFF_UNKNOWN)
		snprintf(buf, n, "?");
	else
		snprintf(buf, n, "%llu", (unsigned long long)v);
}

static int add_damage(struct vstate *v, const struct ps_rdamage *d)
{
	char a[24], b[24], c[24], e[24];
	fmt_off(a, sizeof(a), d->tar_from);
	fmt_off(b, sizeof(b), d->tar_to);
	fmt_off(c, sizeof(c), d->file_from);
	fmt_off(e, sizeof(e), d->file_to);
	ps_buf_reset(&v->esc);
	ps_escape(&v->esc, d->msg, strlen(d->msg));
	printf("DAMAGE tar bytes %s-%s", a, b);
	if (d->file_from != PS_OFF_UNKNOWN)
		printf(" (archive bytes %s-%s)", c, e);
	printf(": %s\n", v->esc.buf);
	v->damages++;
	sqlite3_stmt *s = v->ins_d;
	sqlite3_bind_int64(s, 1, (int64_t)d->members_before);
	if (d->path)
		sqlite3_bind_blob(s, 2, d->path, (int)strlen(d->path), SQLITE_STATIC);
	return vstep(v->db, s);
}

struct counts {
	uint64_t checked, damaged, mismatch, missing, unlisted;
};

/* A member as compare() sees it. */
struct vmem {
	int found;
	int64_t seq;
	int kind;
	int64_t size;
	const void *hash; /* 16 bytes or NULL */
	int hashn;
	int is_link;	   /* a hardlink: then thash/tsize are its target's */
	const void *thash; /* NULL: the target was not read */
	int thashn;
	int64_t tsize;
};

/* The first member with path p (key k) into x (columns valid until q is
 * stepped or reset again); x->found 0 when none.  q: the by-key lookup. */
static int lookup(sqlite3_stmt *q, const void *p, size_t pn, int64_t k, struct vmem *x)
{
	sqlite3_reset(q);
	sqlite3_bind_int64(q, 1, k);
	sqlite3_bind_blob(q, 2, p, (int)pn, SQLITE_STATIC);
	int r = sqlite3_step(q);
	x->found = r == SQLITE_ROW;
	return r == SQLITE_ROW || r == SQLITE_DONE ? 0 : -1;
}

/* Columns of a member row (seq, kind, size, hash, link, lkey) at col. */
static void vmem_of(sqlite3_stmt *q, struct vmem *x)
{
	x->found = 1;
	x->seq = sqlite3_column_int64(q, 0);
	x->kind = sqlite3_column_int(q, 1);
	x->size = sqlite3_column_int64(q, 2);
	x->hash = sqlite3_column_blob(q, 3);
	x->hashn = sqlite3_column_bytes(q, 3);
	x->is_link = sqlite3_column_type(q, 4) != SQLITE_NULL;
	x->thash = NULL;
	x->thashn = 0;
	x->tsize = 0;
}

/* After the manifest's lines (or without a manifest): members cut by damage
 * that no line names (the manifest itself, say), then members no line
 * matched.  0, or 2 (printed). */
static int unmatched(struct vstate *v, struct counts *c)
{
	sqlite3_stmt *unl = NULL;
	int rc = 2;
	if (vprep(v->db,
		  "SELECT DISTINCT path FROM d WHERE path IS NOT NULL AND path NOT IN "
		  "(SELECT path FROM mf)",
		  &unl))
		goto out;
	while (sqlite3_step(unl) == SQLITE_ROW) {
		print_path(v, "DAMAGED", sqlite3_column_blob(unl, 0),
			   (size_t)sqlite3_column_bytes(unl, 0));
		c->damaged++;
	}
	sqlite3_finalize(unl);
	unl = NULL;
	/* members no manifest line matched (none, usually: then not read) */
	if (v->nhit < v->members) {
		if (vprep(v->db, "SELECT seq, path FROM m ORDER BY seq", &unl))
			goto out;
		while (sqlite3_step(unl) == SQLITE_ROW) {
			uint64_t seq = (uint64_t)sqlite3_column_int64(unl, 0);
			if (seq <= v->members && v->hit[seq / 64] >> (seq % 64) & 1)
				continue;
			print_path(v, "UNLISTED", sqlite3_column_blob(unl, 1),
				   (size_t)sqlite3_column_bytes(unl, 1));
			c->unlisted++;
		}
	}
	rc = 0;
out:
	sqlite3_finalize(unl);
	return rc;
}

/*
 * Walk the manifest in order against the members.  The writer puts them in
 * the same order, so when no path has two members the walk is a merge: the
 * next member is the manifest line's, and only a line whose member is
 * elsewhere (or nowhere) and a hardlink's target are looked up, through an
 * index of path keys.  With repeated paths every line is looked up (the
 * first member of the path counts).  Random lookups for every line cost
 * 5 s at N=10,000, the merge a fraction of that.
 */
static int compare(struct vstate *v, struct counts *c)
{
	/* Two statements of it: a line's member (byk) and that member's
	 * hardlink target (tgt), whose columns are read side by side. */
	static const char first_member[] =
	    "SELECT seq, kind, size, hash, link, lkey FROM m WHERE pkey = ?1 AND path = ?2 "
	    "ORDER BY seq LIMIT 1";
	sqlite3_stmt *qf = NULL, *qm = NULL, *byk = NULL, *tgt = NULL, *dmg_after = NULL,
		     *cut = NULL, *dup = NULL;
	int rc = 2;
	if (vexec(v->db, "CREATE INDEX m_key ON m(pkey); CREATE INDEX d_after ON d(after);"
			 "CREATE INDEX d_path ON d(path)") ||
	    vprep(v->db, "SELECT path, kind, size, hash, pkey FROM mf ORDER BY line", &qf) ||
	    vprep(v->db, "SELECT seq, kind, size, hash, link, lkey, path FROM m ORDER BY seq",
		  &qm) ||
	    vprep(v->db, first_member, &byk) || vprep(v->db, first_member, &tgt) ||
	    vprep(v->db, "SELECT 1 FROM m GROUP BY pkey HAVING count(*) > 1 LIMIT 1", &dup) ||
	    vprep(v->db, "SELECT 1 FROM d WHERE after = ?", &dmg_after) ||
	    vprep(v->db, "SELECT 1 FROM d WHERE path = ?", &cut))
		goto out;
	int r = sqlite3_step(dup);
	if (r != SQLITE_ROW && r != SQLITE_DONE)
		goto fail;
	int merge = r == SQLITE_DONE;			 /* no two members share a path key */
	int mr = merge ? sqlite3_step(qm) : SQLITE_DONE; /* the next member, in order */
	int64_t last = 0; /* seq of the last member matched, in manifest order */
	while ((r = sqlite3_step(qf)) == SQLITE_ROW) {
		const void *p = sqlite3_column_blob(qf, 0);
		size_t pn = (size_t)sqlite3_column_bytes(qf, 0);
		int kind = sqlite3_column_int(qf, 1);
		struct vmem x;
		sqlite3_stmt *src; /* the statement x's columns are in */
		if (mr == SQLITE_ROW && (size_t)sqlite3_column_bytes(qm, 6) == pn &&
		    memcmp(sqlite3_column_blob(qm, 6), p, pn) == 0) {
			vmem_of(qm, &x);
			src = qm;
		} else {
			if (lookup(byk, p, pn, sqlite3_column_int64(qf, 4), &x) < 0)
				goto fail;
			if (x.found)
				vmem_of(byk, &x);
			src = byk;
			/* a member further on: the merge goes on after it */
			while (x.found && mr == SQLITE_ROW && sqlite3_column_int64(qm, 0) < x.seq)
				mr = sqlite3_step(qm);
		}
		if (!x.found) {
			if (kind == PS_M_ABSENT) {
				c->checked++;
				continue;
			}
			sqlite3_bind_blob(cut, 1, p, (int)pn, SQLITE_STATIC);
			sqlite3_bind_int64(dmg_after, 1, last);
			int lost = sqlite3_step(cut) == SQLITE_ROW ||
				   sqlite3_step(dmg_after) == SQLITE_ROW;
			sqlite3_reset(cut);
			sqlite3_reset(dmg_after);
			print_path(v, lost ? "DAMAGED" : "MISSING", p, pn);
			if (lost)
				c->damaged++;
			else
				c->missing++;
			continue;
		}
		if (x.is_link) {
			struct vmem t;
			if (lookup(tgt, sqlite3_column_blob(src, 4),
				   (size_t)sqlite3_column_bytes(src, 4),
				   sqlite3_column_int64(src, 5), &t) < 0)
				goto fail;
			if (t.found) {
				x.thash = sqlite3_column_blob(tgt, 3);
				x.thashn = sqlite3_column_bytes(tgt, 3);
				x.tsize = sqlite3_column_int64(tgt, 2);
			}
		}
		last = x.seq;
		if (x.seq >= 1 && (uint64_t)x.seq <= v->members &&
		    !(v->hit[(uint64_t)x.seq / 64] >> ((uint64_t)x.seq % 64) & 1)) {
			v->hit[(uint64_t)x.seq / 64] |= (uint64_t)1 << ((uint64_t)x.seq % 64);
			v->nhit++;
		}
		const void *mh = sqlite3_column_blob(qf, 3);
		const void *h = x.is_link ? x.thash : x.hash;
		int hn = x.is_link ? x.thashn : x.hashn;
		int64_t size = x.is_link ? x.tsize : x.size;
		int ok = kind == x.kind;
		if (ok && kind != PS_M_DIR)
			ok = mh && h && hn == 16 && memcmp(mh, h, 16) == 0 &&
			     sqlite3_column_int64(qf, 2) == size;
		if (ok) {
			c->checked++;
		} else if (x.is_link && !h && v->damages) {
			/* a hardlink whose data was lost with its target */
			print_path(v, "DAMAGED", p, pn);
			c->damaged++;
		} else {
			print_path(v, "MISMATCH", p, pn);
			c->mismatch++;
		}
		if (src == qm)
			mr = sqlite3_step(qm);
	}
	if (r != SQLITE_DONE || (mr != SQLITE_ROW && mr != SQLITE_DONE))
		goto fail;
	rc = unmatched(v, c);
	goto out;
fail:
	cli_fail("verify", "sqlite: %s", sqlite3_errmsg(v->db));
out:
	sqlite3_finalize(qf);
	sqlite3_finalize(qm);
	sqlite3_finalize(byk);
	sqlite3_finalize(tgt);
	sqlite3_finalize(dup);
	sqlite3_finalize(dmg_after);
	sqlite3_finalize(cut);
	return rc;
}

/* Is the manifest among the paths cut by damage (unmatched() names it)? */
static int manifest_cut(struct vstate *v)
{
	sqlite3_stmt *q;
	int r = 0;
	if (sqlite3_prepare_v2(v->db, "SELECT 1 FROM d WHERE path = ?1", -1, &q, NULL) ==
	    SQLITE_OK) {
		sqlite3_bind_blob(q, 1, PS_MANIFEST_PATH, (int)strlen(PS_MANIFEST_PATH),
				  SQLITE_STATIC);
		r = sqlite3_step(q) == SQLITE_ROW;
	}
	sqlite3_finalize(q);
	return r;
}

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

/* Read the archive into the temporary database.  0, or 2 (printed). */
static int read_archive(struct vstate *v, const char *archive, const char *tmpdir,
			unsigned char sha[32])
{
	/* Members are hashed as they go by, none held over 1 MiB: a 64 MiB
	 * exe.body or a 40 MiB smaps would take verify past DESIGN's 64 MiB. */
	struct ps_reader_opts o = {
	    .tmpdir = tmpdir, .salvage = 1, .unload_over = (uint64_t)1 << 20, .hash_only = 1};
	struct ps_reader *r = NULL;
	struct ps_err err = {0, ""};
	struct ps_rmember m;
	int st, rc = 2;
	if (ps_reader_open_with(&r, archive, &o, &err) < 0)
		return cli_fail("verify", "%s", err.msg);
	if (vexec(v->db, "BEGIN"))
		goto out;
	while ((st = ps_reader_next(r, &m, &err)) > 0) {
		if (st == PS_READER_DAMAGED) {
			if (add_damage(v, ps_reader_damage(r)))
				goto out;
		} else if (m.streaming && strcmp(m.path, PS_MANIFEST_PATH) == 0 &&
			   !v->saw_manifest) {
			int e = load_manifest(v, r, &err);
			if (e == 2)
				goto out;
			if (e < 0) {
				st = -1;
				break;
			}
		} else if (add_member(v, &m)) {
			goto out;
		}
	}
	if (st < 0) {
		cli_fail("verify", "%s", err.msg);
		goto out;
	}
	if (vexec(v->db, "COMMIT"))
		goto out;
	ps_reader_sha256(r, sha);
	rc = 0;
out:
	ps_reader_close(r);
	return rc;
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
			return cli_bad_option("verify", "h", longopts, argv);
	}
	if (argc - optind != 1)
		return cli_usage("verify", "expects one SNAP");
	const char *arg = argv[optind];
	if (want_sha && (strlen(want_sha) != 64 || ps_unhex((char[32]){0}, want_sha, 32) < 0))
		return cli_usage("verify", "--sha256 takes 64 hex digits");

	/* The archive, and the SHA-256 recorded in the index beside it. */
	char recorded[80] = "";
	struct ps_buf archive = PS_BUF_INIT, unusable = PS_BUF_INIT;
	struct stat ast;
	if (strcmp(arg, "-") == 0) {
		ps_buf_adds(&archive, "-");
	} else if (stat(arg, &ast) == 0 && !S_ISREG(ast.st_mode)) {
		/* a pipe (<(...), /dev/stdin): read as standard input is, no
		 * index beside it (looking for one would eat its first bytes) */
		ps_buf_adds(&archive, arg);
	} else {
		struct ps_snap *s = NULL;
		struct ps_err err = {0, ""};
		if (ps_snap_open_with(arg, PS_SNAP_ANY_ARCHIVE, &s, &err) == 0) {
			sql1(ps_snap_db(s),
			     "SELECT archive_sha256 FROM snapshots ORDER BY snapshot_id", recorded,
			     sizeof(recorded));
			if (ps_snap_archive(s))
				ps_buf_adds(&archive, ps_snap_archive(s));
			ps_snap_close(s);
		} else if (err.code != ENOENT) {
			/* an index is there but cannot be used: say why, not "none" */
			ps_buf_adds(&unusable, err.msg);
		}
		if (!archive.len) {
			size_t l = strlen(arg);
			if (l > 3 && strcmp(arg + l - 3, ".db") == 0)
				ps_buf_add(&archive, arg, l - 3);
			else
				ps_buf_adds(&archive, arg);
		}
	}

	const char *tmp = getenv("TMPDIR");
	tmp = tmp && *tmp ? tmp : "/tmp";
	struct vstate v;
	memset(&v, 0, sizeof(v));
	ps_buf_init(&v.path);
	ps_buf_init(&v.esc);
	struct counts cnt = {0, 0, 0, 0, 0};
	unsigned char sha[32];
	char shahex[65];
	int rc = 2;
	/* SQLite's private temporary database (""): a file in $TMPDIR that is
	 * unlinked as soon as it is opened, so nothing is left behind however
	 * verify ends (a signal, a closed pipe). */
	if (sqlite3_open_v2("", &v.db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	    SQLITE_OK) {
		rc = cli_fail("verify", "sqlite: cannot open a temporary database in %s: %s", tmp,
			      sqlite3_errmsg(v.db));
		goto out;
	}
	/* On disk, in bounded memory: 8 MiB of page cache, sorts spill to
	 * temporary files. */
	if (vexec(v.db, "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; "
			"PRAGMA cache_size=-8192; PRAGMA temp_store=FILE; PRAGMA mmap_size=0; "
			"PRAGMA locking_mode=EXCLUSIVE;"
			"CREATE TABLE m(seq INTEGER PRIMARY KEY, path BLOB NOT NULL, kind INT, "
			"size INT, hash BLOB, link BLOB, pkey INT, lkey INT);"
			"CREATE TABLE mf(line INTEGER PRIMARY KEY, path BLOB NOT NULL, kind INT, "
			"size INT, hash BLOB, pkey INT);"
			"CREATE TABLE d(id INTEGER PRIMARY KEY, after INT, path BLOB)") ||
	    vprep(v.db, "INSERT INTO m VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)", &v.ins_m) ||
	    vprep(v.db, "INSERT INTO mf(path, kind, size, hash, pkey) VALUES (?1, ?2, ?3, ?4, ?5)",
		  &v.ins_mf) ||
	    vprep(v.db, "INSERT INTO d(after, path) VALUES (?1, ?2)", &v.ins_d))
		goto out;
	if (read_archive(&v, archive.buf, tmp, sha))
		goto out;
	/* a bit per member (a million members: 128 KiB) */
	v.hit = ps_xcalloc(v.members / 64 + 1, sizeof(*v.hit));
	ps_hex(shahex, sha, 32);
	rc = 0;
	if (!v.saw_manifest) {
		/* Nothing to check the members against: each one read is
		 * UNLISTED (as when the manifest is cut short), so the counts
		 * account for every member, as the index's files.damage does. */
		if (!manifest_cut(&v)) {
			print_path(&v, v.damages ? "DAMAGED" : "MISSING", PS_MANIFEST_PATH,
				   strlen(PS_MANIFEST_PATH));
			if (v.damages)
				cnt.damaged++;
			else
				cnt.missing++;
		}
		if (unmatched(&v, &cnt)) {
			rc = 2;
			goto out;
		}
	} else if (compare(&v, &cnt)) {
		rc = 2;
		goto out;
	}
	int findings =
	    cnt.damaged || cnt.mismatch || cnt.missing || cnt.unlisted || v.damages || v.bad_lines;
	if (findings)
		rc = 1;
	int sha_checked = 0;
	if (recorded[0]) {
		sha_checked = 1;
		if (strcasecmp(recorded, shahex) != 0) {
			printf("SHA-256 MISMATCH: index records %s, file is %s\n", recorded,
			       shahex);
			rc = 1;
		}
	}
	if (want_sha) {
		sha_checked = 1;
		if (strcasecmp(want_sha, shahex) != 0) {
			printf("SHA-256 MISMATCH: expected %s, file is %s\n", want_sha, shahex);
			rc = 1;
		}
	}
	if (!sha_checked) {
		if (unusable.len) {
			ps_buf_reset(&v.esc);
			ps_escape(&v.esc, unusable.buf, unusable.len);
			printf(
			    "SHA-256 not checked: the index is unusable (%s); pass --sha256 HEX; "
			    "file is %s\n",
			    v.esc.buf, shahex);
		} else {
			printf("SHA-256 not checked: no recorded hash (pass --sha256 HEX); file is "
			       "%s\n",
			       shahex);
		}
		rc = 1;
	}
	ps_buf_reset(&v.esc);
	ps_escape(&v.esc, archive.buf, archive.len);
	if (rc == 0 && cli->verbosity)
		printf("OK %s: %llu manifest entries checked, %llu members re-hashed, sha256 %s "
		       "(matches)\n",
		       v.esc.buf, (unsigned long long)cnt.checked, (unsigned long long)v.members,
		       shahex);
	else if (rc == 1 && !findings && !sha_checked && v.saw_manifest)
		printf("INCOMPLETE %s: %llu manifest entries checked and intact, %llu members "
		       "re-hashed; the file's SHA-256 was not checked\n",
		       v.esc.buf, (unsigned long long)cnt.checked, (unsigned long long)v.members);
	else if (rc == 1)
		printf("FAILED %s: %llu damaged, %llu mismatched, %llu missing, %llu unlisted, "
		       "%llu damaged stretches; %llu manifest entries checked and intact\n",
		       v.esc.buf, (unsigned long long)cnt.damaged, (unsigned long long)cnt.mismatch,
		       (unsigned long long)cnt.missing, (unsigned long long)cnt.unlisted,
		       (unsigned long long)v.damages, (unsigned long long)cnt.checked);
out:
	sqlite3_finalize(v.ins_m);
	sqlite3_finalize(v.ins_mf);
	sqlite3_finalize(v.ins_d);
	if (v.db)
		sqlite3_close(v.db);
	ps_buf_release(&v.path);
	ps_buf_release(&v.esc);
	ps_buf_release(&archive);
	ps_buf_release(&unusable);
	free(v.hit);
	return rc;
}
