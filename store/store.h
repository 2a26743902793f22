/*
 * store.h - the snapshot archive (.tar.zst) and its SQLite index.
 *
 * Writer: pax tar through libarchive (format only), cut into independent
 * zstd frames of about 1 MiB at member boundaries by a compressor thread,
 * followed by a zstd seekable-format trailer.  Every member is hashed with
 * XXH3-128 as it passes; identical content becomes a tar hardlink; the
 * manifest (procsnap/manifest.tsv) is the last member.
 *
 * Reader: a streaming member iterator over an archive (hostile input: every
 * malformation is an error, never a crash), and random access to one member
 * through the frame table.
 *
 * Index: ps_index_build() rebuilds the SQLite index from an archive alone;
 * capture uses the same function, so both indexes are identical.
 */
#ifndef PS_STORE_H
#define PS_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"

#define PS_FORMAT_VERSION 1
#define PS_META_PATH	  "procsnap/meta.json"
#define PS_SUMMARY_PATH	  "procsnap/summary.json"
#define PS_PROCS_PATH	  "procsnap/processes.tsv"
#define PS_MANIFEST_PATH  "procsnap/manifest.tsv"
#define PS_HASHES_PATH	  "procsnap/hashes.tsv"
/* Content larger than this is never held in memory by the pipeline: capture
 * reads it into an unlinked temporary file, the index builder parses it in
 * pieces from there (and `index` of an archive does the same). */
#define PS_SPILL_MIN ((size_t)1 << 20)

/* Member kinds, as in the manifest ("file", "link", "dir", "absent"). */
enum ps_member_kind { PS_M_FILE = 0, PS_M_LINK = 1, PS_M_DIR = 2, PS_M_ABSENT = 3 };
const char *ps_member_kind_name(enum ps_member_kind k);
int ps_member_kind_parse(const char *s, size_t len); /* -1 if unknown */

/* ---- writer ------------------------------------------------------------ */

struct ps_writer;

struct ps_writer_opts {
	int level;	   /* zstd level, default 1 */
	size_t frame_size; /* target tar bytes per frame, default 1 MiB */
	int spill_dirfd;   /* directory for an O_TMPFILE manifest spool, or -1: memory only */
	/* Build the SQLite index in the same pipeline, from the same members
	 * (issue 9): written to a temporary name beside index_path, finished by
	 * ps_writer_finish, put in place by ps_writer_index_publish. */
	const char *index_path;	  /* NULL: no index */
	int index_force;	  /* an existing index_path may be replaced */
	const char *archive_name; /* recorded in the index (snapshots.archive_name) */
};

struct ps_writer_stats {
	uint64_t members, hardlinks, raw_bytes, tar_bytes, out_bytes, frames;
	uint64_t files, links, dirs, absent;
	uint64_t errors[160]; /* per errno (last = other) */
	unsigned char sha256[32];
};

/* One path to store.  Borrowed for the call. */
struct ps_member {
	const char *path; /* relative archive path */
	enum ps_member_kind kind;
	uint32_t mode, uid, gid;
	int64_t mtime;
	const char *target; /* PS_M_LINK */
	const void *data;   /* PS_M_FILE */
	size_t len;
	int err; /* errno recorded in the manifest */
	uint64_t read_ns;
	/* PS_M_FILE content too large for memory: in the file spill_fd (len
	 * bytes from offset 0) instead of data.  ps_writer_add takes the fd
	 * (closed when the archive and the index are done with it). */
	int spilled;
	int spill_fd;
};

/*
 * ps_writer_open - start an archive on out_fd (a file or a pipe; the writer
 * does not close it).  Returns 0, or -1 with err.
 */
int ps_writer_open(struct ps_writer **wp, int out_fd, const struct ps_writer_opts *opts,
		   struct ps_err *err);
/* Add one member (PS_M_ABSENT: manifest only).  The member is copied and
 * written asynchronously; a failure (output full, ...) is reported by a
 * later call or by ps_writer_finish.  0 or -1 with err (the archive is
 * then unusable). */
int ps_writer_add(struct ps_writer *w, const struct ps_member *m, struct ps_err *err);
/* Write the manifest, end the tar, flush frames, write the seek table.
 * Fills stats (incl. SHA-256 of every byte written).  0 or -1. */
int ps_writer_finish(struct ps_writer *w, struct ps_writer_stats *stats, struct ps_err *err);
/* The index (opts.index_path), once ps_writer_finish succeeded: rename it
 * into place (refused if it exists, unless index_force).  0 or -1. */
int ps_writer_index_publish(struct ps_writer *w, struct ps_err *err);
/* The index's temporary file name while it is being built (NULL if none):
 * what a signal handler removes. */
const char *ps_writer_index_tmp(const struct ps_writer *w);
/* Totals of everything added so far (waits for the formatter thread). */
const struct ps_writer_stats *ps_writer_peek(struct ps_writer *w);
void ps_writer_free(struct ps_writer *w);

/* ---- reader ------------------------------------------------------------ */

/*
 * The reader takes any tar or tar.zst: procsnap's own (zstd frames and a
 * seekable-format trailer), one made by zstd or tar (one frame, or frames
 * without a trailer: read in sequence), a plain tar, or standard input
 * ("-", spooled to an unlinked temporary file so it can be read again).
 * Input is hostile: sizes are checked against the limits in store_int.h
 * (a member holds at most 256 MiB) and against the file before anything is
 * allocated by them; a violation is an error (-1), never an abort.
 *
 * Damage (a zstd frame that does not decode or fails its checksum, a tar
 * header whose checksum fails, bytes missing at the end, an end-of-archive
 * marker with members after it) is an error too, unless the reader was
 * opened with salvage: then ps_reader_next returns PS_READER_DAMAGED once
 * per lost stretch, describes it in ps_reader_damage(), resynchronises at
 * the next tar header it can read and goes on.
 */
struct ps_reader;

struct ps_reader_opts {
	const char *tmpdir; /* where "-" is spooled (O_TMPFILE); NULL: /tmp */
	int salvage;	    /* report damage (PS_READER_DAMAGED) and go on */
	/* A regular member of more than unload_over bytes (0: PS_MEMBER_MAX)
	 * that keep() does not want comes back unloaded: hashed as it goes
	 * by, never held (procsnap index: a 40 MiB exe.body it does not
	 * parse).  keep NULL: none is wanted.  Only where reading it again
	 * is cheap (ps_reader_fetch): a seek table, or a plain tar; a zstd
	 * archive without one (tar --zstd writes one frame) is read as ever. */
	uint64_t unload_over;
	int (*keep)(const char *path);
	/* The caller never reads an unloaded member again (verify needs its
	 * hash only): unload_over applies to any archive. */
	int hash_only;
	/* No SHA-256 of the file (ps_reader_sha256 gives zeros): procsnap
	 * index records none, and it cost its main thread ~15 ms at N=2,000. */
	int no_sha256;
};

#define PS_READER_DAMAGED 2
#define PS_OFF_UNKNOWN	  UINT64_MAX

/* One member as read back.  Pointers valid until the next ps_reader_next. */
struct ps_rmember {
	const char *path;
	enum ps_member_kind kind; /* FILE, LINK or DIR (never ABSENT) */
	uint32_t mode, uid, gid;
	int64_t mtime;
	const char *target;   /* symlink target, or NULL */
	const char *hardlink; /* hardlink: path of the member holding the data, else NULL */
	const void *data;     /* FILE content (hardlink: empty) */
	size_t len;
	uint64_t header_off;	/* tar offset of the member's first header block */
	uint64_t data_off;	/* tar offset of its data; both PS_OFF_UNKNOWN after
				 * damage whose length is not known (no seek table) */
	unsigned char xxh3[16]; /* XXH3-128 of data (a link: of its target) */
	int unloaded;		/* FILE larger than a member may be in memory
				 * (256 MiB, or the reader's unload_over): data
				 * NULL, len its size, xxh3 computed as it went by */
	int streaming;		/* data not loaded (the manifest): read it with
				 * ps_reader_stream or ps_reader_stream_line; len is
				 * its size, data_off 0 */
};

/* A stretch of the archive that could not be read (salvage mode). */
struct ps_rdamage {
	uint64_t tar_from, tar_to;   /* lost tar bytes [from, to), or PS_OFF_UNKNOWN */
	uint64_t file_from, file_to; /* archive file bytes involved, or PS_OFF_UNKNOWN */
	const char *path;	     /* member whose header was read but not its data,
				      * or NULL (members whose headers were lost are
				      * unknown here: compare with the manifest) */
	const char *msg;	     /* one line: what happened */
	uint64_t members_before;     /* members returned before this damage */
	int at_end;		     /* nothing could be read after it */
};

/* Open an archive ("-": standard input).  The SHA-256 of every byte of the
 * file is computed as it is read (ps_reader_sha256).  0, or -1 with err
 * (cannot read; not a tar or tar.zst; corrupt seek table). */
int ps_reader_open(struct ps_reader **rp, const char *path, struct ps_err *err);
int ps_reader_open_with(struct ps_reader **rp, const char *path, const struct ps_reader_opts *o,
			struct ps_err *err);
/* The same, starting at byte c_off of the file: a zstd frame (or, in a plain
 * tar, a block) that begins with a tar header.  The SHA-256 then covers the
 * bytes from there only, and tar offsets are known only if the seek table
 * says where that frame starts. */
int ps_reader_open_at(struct ps_reader **rp, const char *path, uint64_t c_off, struct ps_err *err);
/* A second reader of the same file as r (for standard input: of its spooled
 * copy), with r's options, starting at byte c_off as ps_reader_open_at. */
int ps_reader_reopen(struct ps_reader *r, uint64_t c_off, struct ps_reader **r2,
		     struct ps_err *err);
/* 1 and *m filled; PS_READER_DAMAGED (salvage only: see ps_reader_damage;
 * call again to go on); 0 at the end; -1 with err (damage when not
 * salvaging, a hostile size or a malformed header, I/O). */
int ps_reader_next(struct ps_reader *r, struct ps_rmember *m, struct ps_err *err);
/* The damage just reported; valid until the next ps_reader_next. */
const struct ps_rdamage *ps_reader_damage(const struct ps_reader *r);
/* Did a streamed member's data end early, cut by a stretch that could not be
 * read (salvage)?  1 or 0. */
int ps_reader_stream_cut(const struct ps_reader *r);
/* Chunks of a streaming member's data: 1 and (*p, *n) valid until the next
 * call, 0 at its end (salvage: also when damage cut it; the damage is the
 * next ps_reader_next), -1 with err. */
int ps_reader_stream(struct ps_reader *r, const void **p, size_t *n, struct ps_err *err);
/* Lines of a streaming member, without the newline: 1 and (*line, *len)
 * valid until the next call, 0 at its end, -1 with err (a line longer than
 * PS_MANIFEST_LINE_MAX, a last line without its newline).  A line cut by
 * damage (salvage) is dropped. */
int ps_reader_stream_line(struct ps_reader *r, const char **line, size_t *len, struct ps_err *err);
/* len bytes at tar offset off (a member's data_off), however the archive is
 * compressed: through the seek table, by decompressing in sequence from the
 * nearest frame start seen, or by pread of a plain tar.  For hardlinked
 * content read earlier.  0, or -1 with err. */
int ps_reader_fetch(struct ps_reader *r, uint64_t off, uint64_t len, struct ps_buf *out,
		    struct ps_err *err);
/* Frame i of the seek table: 1 and *f, 0 past the last (or no seek table
 * used: the archive is read in sequence). */
struct ps_frame {
	uint64_t c_off, c_size, t_off, t_size;
};
int ps_reader_frame(const struct ps_reader *r, size_t i, struct ps_frame *f);
/* Size of the archive file (of the spooled copy for "-"). */
uint64_t ps_reader_file_size(const struct ps_reader *r);
/* SHA-256 of the whole file (reads what the iteration did not need). */
void ps_reader_sha256(struct ps_reader *r, unsigned char out[32]);
void ps_reader_close(struct ps_reader *r); /* NULL ok */

/* Parse one manifest line (without its newline).  path is unescaped into
 * pathbuf.  0 or -1. */
struct ps_manifest_line {
	enum ps_member_kind kind;
	uint64_t size;
	int has_hash;
	unsigned char xxh3[16];
	uint64_t read_ns;
	int err;
};
int ps_manifest_parse_line(const char *line, size_t len, struct ps_buf *pathbuf,
			   struct ps_manifest_line *out);

/* Read `len` bytes at tar offset `off` from an archive file, however it is
 * compressed (as ps_reader_fetch).  0 or -1. */
int ps_archive_read_at(const char *archive_path, uint64_t off, uint64_t len, struct ps_buf *out,
		       struct ps_err *err);

/* ---- index ------------------------------------------------------------- */

#define PS_SCHEMA_VERSION 10

/*
 * ps_index_build - read archive_path and write a fresh SQLite index to
 * db_path (temporary name db_path.tmp.PID, then rename; an existing db_path
 * is refused unless force).  The records are the ones a capture's own index is built
 * from (the same builder): the index is the same.  Returns 0; 1 when the
 * index was written but parts of the archive cannot be trusted (paths marked
 * in files.damage: mismatch, missing, unlisted); or -1 with err (not a
 * procsnap archive, I/O).
 */
int ps_index_build(const char *archive_path, const char *db_path, int force, struct ps_err *err);
/* The same with reader options (tmpdir: where "-" is spooled).  Damage is
 * always salvaged: what survives is indexed, what was lost is marked
 * (files.damage 'lost'; members read without their manifest line
 * 'unlisted'), and 1 is returned with err saying how much. */
int ps_index_build_with(const char *archive_path, const char *db_path, int force,
			const struct ps_reader_opts *ro, struct ps_err *err);

/*
 * ps_index_merge - write one index at out_path holding every snapshot of
 * the n inputs (archives or indexes, each opened as ps_index_attach does),
 * each under a new snapshot_id, in order.  The output is made from
 * procsnap's own schema and the rows of its tables are copied; no SQL text
 * of an input is ever run.  Created as ps_index_build creates its output
 * (out_path.tmp.PID, renamed).
 * 0, or -1 with a one-line err (an input that is not a procsnap index of
 * this schema names itself and the object that differs).
 */
int ps_index_merge(const char *out_path, const char *const *inputs, int n, int force,
		   struct ps_err *err);

/* ---- opening indexes (hostile input) ----------------------------------- */

struct sqlite3;

/*
 * Every index procsnap reads is opened by one of these (store/indexdb.c):
 * read-only and immutable (no lock, no journal, nothing created beside the
 * file), SQLite's defensive mode on, trusted_schema off, triggers off,
 * no memory-mapped I/O, a fixed page cache, strings and blobs capped at
 * 32 MiB and SQL texts at 1 MiB.  Its schema must be procsnap's own (the
 * embedded SQL of schema/, same user_version, same objects with the same
 * SQL up to comments and spacing): any other trigger, view, table, index
 * or definition refuses the file with one line naming it.
 */
/* Open the index at path.  0 (*dbp owned by the caller: sqlite3_close) or -1. */
int ps_index_open(const char *path, struct sqlite3 **dbp, struct ps_err *err);
/* SQL that is not procsnap's own (query's statements, pack files, triage
 * rules from files): while on, preparing it refuses ATTACH and DETACH (an
 * attached file would skip the schema check) and a PRAGMA that would change
 * a protection above (trusted_schema, writable_schema, cell_size_check,
 * mmap_size, query_only, cache_size...: any PRAGMA given a value, but the
 * ones that only read a table's description).  *why, when not NULL, gets a
 * static one-line reason after a refusal. */
void ps_db_guard(struct sqlite3 *db, int on, const char **why);
/* An empty in-memory database with the same protections, to attach indexes to. */
int ps_index_open_memory(struct sqlite3 **dbp, struct ps_err *err);
/* ATTACH the index at path to db as `schema` and check it; detached again on
 * failure.  0 or -1. */
int ps_index_attach(struct sqlite3 *db, const char *path, const char *schema, struct ps_err *err);

/* ---- opened snapshot (archive or index) -------------------------------- */

struct ps_snap;

/* Open a snapshot by either name: an archive (its index is <archive>.db) or
 * an index (its archive is the index path without ".db", or the path
 * recorded in it).  The index is opened with ps_index_open.  0 or -1 with a
 * one-line err. */
int ps_snap_open(const char *path, struct ps_snap **sp, struct ps_err *err);
/* The same; the archive beside an index of one snapshot must have the size
 * the index records (else it is another archive's index, or the archive was
 * cut or changed since: an error naming both), unless flags has
 * PS_SNAP_ANY_ARCHIVE (verify, which checks the archive itself). */
#define PS_SNAP_ANY_ARCHIVE 1u
int ps_snap_open_with(const char *path, unsigned flags, struct ps_snap **sp, struct ps_err *err);
struct sqlite3 *ps_snap_db(struct ps_snap *s);
const char *ps_snap_archive(struct ps_snap *s); /* may be NULL */
/* Exact bytes of a member (a symlink: its target; a hardlink: the data it
 * points to).  kind_out gets the member kind.  0, or -1 (not found, I/O). */
int ps_snap_read(struct ps_snap *s, const char *path, struct ps_buf *out, int *kind_out,
		 struct ps_err *err);
/* The same bytes handed to put (0 or an errno) in pieces, whatever the
 * member's size: one over 1 MiB is read twice, checked against its XXH3
 * before the first byte is put and again as it is put.  0, or -1. */
int ps_snap_cat(struct ps_snap *s, const char *path, int (*put)(void *ctx, const void *p, size_t n),
		void *ctx, int *kind_out, struct ps_err *err);
void ps_snap_close(struct ps_snap *s);

/*
 * One path's row of `files` (schema.files, snapshot sid), fast: through the
 * path's structure and the tables' keys, never by computing every path.
 * ps_files_lookup_sql gives the malloc'ed SQL selecting the columns `cols`
 * (among snapshot_id, path, kind, size, xxh3, link_target, errno, pid,
 * tid, data_off, path_id) of its row, at most one; the caller prepares it
 * and ps_files_lookup_bind(q, path) resets it and binds the path.
 */
struct sqlite3_stmt;
char *ps_files_lookup_sql(const char *schema, int64_t sid, const char *cols);
void ps_files_lookup_bind(struct sqlite3_stmt *q, const char *path);
/*
 * SQL selecting `cols` (any of the view's columns) of the files whose path matches a
 * GLOB pattern, bound as ?1; through the keys when the pattern has a
 * literal pid or a literal piece of file name, else a scan.  malloc'ed.
 */
char *ps_files_glob_sql(const char *schema, const char *cols, const char *pattern);
/* A probed row's own columns of `paths` and its pid's pid_reads.base_us:
 * v[] = stat_id, content_id, read_delta_8us, base_us; bit i of nulls set
 * when v[i] is NULL. */
struct ps_glob_ids {
	int64_t v[4];
	unsigned nulls;
};
/* The rows ps_files_glob_probe found: their paths (each NUL-terminated, in
 * capture order) and keys, for ps_files_key_sql. */
struct ps_glob_rows {
	struct ps_buf paths;
	int64_t *pid;		 /* per row: its pid, -1 for a path not below a pid directory */
	int64_t *key;		 /* per row: paths.seq, or sys_paths.path_id when pid is -1 */
	int64_t *path_id;	 /* per row: files.path_id (its manifest line) */
	struct ps_glob_ids *ids; /* per row: its ids, when pid is not -1 */
	size_t n;
	int64_t snapshot_id;
};
#define PS_GLOB_ROWS_INIT                                                                          \
	{                                                                                          \
		PS_BUF_INIT, NULL, NULL, NULL, NULL, 0, 0                                          \
	}
void ps_glob_rows_release(struct ps_glob_rows *g);
/*
 * The paths of a one-snapshot index that match a GLOB pattern, in capture
 * order, without reading every `paths` row: the names the pattern can end
 * with (as ps_files_glob_sql) are looked for in each pid's range at the
 * seq most of their rows have (name_stats.usual_seq), a pid where one is
 * not there is read for it, and the rows found must be as many as
 * name_stats.uses.  1 with the rows in *out (released first); 0 when the
 * pattern or the index does not allow it (a name below task/ too, or in
 * under 90% of the pids, many names, several snapshots: the caller runs
 * ps_files_glob_sql); -1 with err.
 */
int ps_files_glob_probe(struct sqlite3 *db, const char *pattern, struct ps_glob_rows *out,
			struct ps_err *err);

/*
 * `files` as a virtual table on this connection (temp.files, in front of
 * the view main.files; globvt.c): a `path GLOB` or `path =` constraint goes
 * through files_glob's rows, any other statement through the view.  Only
 * where main is a procsnap index and temp has no `files` (the union of
 * several snapshots); otherwise nothing is done.  Lifts a PRAGMA
 * query_only for the statement that creates it and sets it again.
 * 0, or -1 with err.
 */
int ps_index_files_vtab(struct sqlite3 *db, struct ps_err *err);
/* Drop it again (temp.files; query_only as for its creation).  0 or -1. */
int ps_index_files_vtab_drop(struct sqlite3 *db, struct ps_err *err);
/*
 * Is the virtual table the better way for statement sql (one statement)?
 * 1 when its plan does not use `files`, or when some loop over `files`
 * takes a path constraint (files_glob's rows) and every loop that goes to
 * the view has a pid for its key; 0 otherwise: a loop over the view without
 * a key, run once per row of another loop, would scan the view each time
 * (SQLite indexes a view's rows for such a join, never a virtual table's),
 * and with no path constraint the view gives the same for less.
 */
int ps_files_vtab_plan_ok(struct sqlite3 *db, const char *sql);
/*
 * SQL selecting `cols` of `files` for one row the probe found (ps_glob_rows),
 * through the view's own joins; ?2 its snapshot_id.  below_pid: a row below
 * a pid directory, ?1 its pid, ?3-?6 its ps_glob_ids (stat_id, content_id,
 * read_delta_8us, base_us; `paths` is not read again), and not its path,
 * tid or path_id (the probe has them); else a system path, ?1 NULL, ?3 its
 * path_id (a key lookup in `sys_paths`).  Free with free().
 */
char *ps_files_key_sql(const char *schema, const char *cols, int below_pid);
/*
 * SQL selecting `cols` (as above, and damage) of snapshot ?1's file `name`
 * directly below each pid directory (proc/<pid>/<name>, not below task/),
 * by pid: through the name's id, never computing every path.  malloc'ed.
 */
char *ps_files_each_pid_sql(const char *schema, const char *cols, const char *name);
/* The same for snapshot ?1's paths with a damage (files.damage), in
 * manifest order (the first `limit`, unless 0), through the few stats rows
 * that have one.  malloc'ed. */
char *ps_files_damaged_sql(const char *schema, const char *cols, int limit);
/*
 * SQL giving (errno, count) of the paths of snapshot ?1 that have one, most
 * frequent first (then by name): what `SELECT errno, count(*) FROM files
 * ... GROUP BY errno` gives, counted through the few `stats` rows that carry
 * an errno instead of the view's every row (1.1 s -> 0.18 s at N=10,000).
 * A constant string.
 */
const char *ps_files_errno_counts_sql(void);

/* XXH3-128 in canonical byte order (what xxhsum -H2 prints). */
void ps_xxh3_128(const void *data, size_t len, unsigned char out[16]);

/* ---- output files ------------------------------------------------------ */

/*
 * outfile.c - an output file (an index, a report) created without a check-then-rename race: a
 * temporary file beside the final name (O_CREAT|O_EXCL, mode 0600), renamed
 * into place with RENAME_NOREPLACE unless force (a link() where the file
 * system lacks it), the directory fsync'ed.  create: 0 or -1 (an existing
 * path without force is refused early, with the message users see);
 * o->tmp is the name to write.  commit: fsync, rename; 0 or -1 (the
 * temporary file is then removed).  abort: remove it (after a failure;
 * also safe after commit or a failed create).
 */
struct ps_outfile {
	char *path; /* final name */
	char *tmp;  /* temporary name in the same directory */
	int dirfd;
	int force;
};
int ps_out_create(struct ps_outfile *o, const char *path, int force, struct ps_err *err);
/* The same with the temporary name given (it must be in path's directory). */
int ps_out_create_as(struct ps_outfile *o, const char *path, const char *tmp, int force,
		     struct ps_err *err);
int ps_out_commit(struct ps_outfile *o, struct ps_err *err);
void ps_out_abort(struct ps_outfile *o);

/* ---- sequential fetch (used by diff) ----------------------------------- */

/*
 * A fetcher reads many members of one archive by tar offset (files.data_off
 * and files.size of the index) with the seek table read once and the last
 * decompressed zstd frame kept: asked in ascending offset order, each frame
 * is decompressed at most once, and frames holding nothing asked for are
 * never decompressed.  Any order works (a frame may then be decompressed
 * again).  Without a seek table it decompresses in sequence (ascending
 * requests go on from where the last ended) and a plain tar is pread.  The
 * caller checks the content against its XXH3 if it wants to.
 */
struct ps_fetch;
/* 0, or -1 with err (cannot open; corrupt seek table). */
int ps_fetch_open(const char *archive_path, struct ps_fetch **fp, struct ps_err *err);
/* len bytes at tar offset off into out (reset first).  0 or -1 with err. */
int ps_fetch_read(struct ps_fetch *f, uint64_t off, uint64_t len, struct ps_buf *out,
		  struct ps_err *err);
/* How many frames were decompressed so far (tests, -v). */
uint64_t ps_fetch_frames_decompressed(const struct ps_fetch *f);
void ps_fetch_close(struct ps_fetch *f); /* NULL ok */

#endif
