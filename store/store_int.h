/*
 * store_int.h - private to store/: shared between writer, reader and index.
 */
#ifndef PS_STORE_INT_H
#define PS_STORE_INT_H

#include <stdint.h>

/* Largest member the reader loads into memory (hostile sizes are refused). */
#define PS_MEMBER_MAX ((uint64_t)1 << 30)

/* Little-endian u32 at p. */
static inline uint32_t ps_le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

struct sqlite3;
struct ps_err;
struct ps_rmember;

/* index.c */
int ps_sql_err(struct ps_err *err, struct sqlite3 *db, const char *what);
/* Run the schema files: the table files (post_load 0) or the 9x index files (1). */
int ps_schema_apply(struct sqlite3 *db, int post_load, struct ps_err *err);
/* pid/tid from proc/<pid>/task/<tid>/...; -1 when absent. */
void ps_path_ids(const char *path, int64_t *pid, int64_t *tid);

/*
 * tables.c - the parsed tables (processes, threads, process_memory_map...).
 * The index builder calls begin once (after meta.json), member for every
 * member in archive order (members of one process are contiguous), end
 * after the last member (frees), or abort on failure (frees).
 */
struct ps_tables;
/* Does the parser need the content of this member?  (Hardlinked content is
 * then resolved before ps_tables_member sees it.) */
int ps_tables_wants(const char *path);
struct ps_tables *ps_tables_begin(struct sqlite3 *db, struct ps_err *err);
int ps_tables_member(struct ps_tables *t, const struct ps_rmember *m, struct ps_err *err);
int ps_tables_end(struct ps_tables *t, struct ps_err *err);
void ps_tables_abort(struct ps_tables *t);

/* indexdb.c: make a connection defensive (see ps_index_open); writable keeps
 * triggers on, for procsnap's own output.  0 or -1. */
int ps_db_harden(struct sqlite3 *db, int writable, struct ps_err *err);
/* sqlite3_exec with SQLite's message in err ("sqlite: ...").  0 or -1. */
int ps_db_exec(struct sqlite3 *db, const char *sql, struct ps_err *err);

/* snap.c: the index file of a snapshot named by its archive or its index
 * (malloc'ed into *index), and its archive if it can be told (*archive,
 * malloc'ed, or NULL).  0 or -1 with err. */
int ps_snap_resolve(const char *path, char **index, char **archive, struct ps_err *err);

/*
 * outfile.c - an output file created without a check-then-rename race: a
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
int ps_out_commit(struct ps_outfile *o, struct ps_err *err);
void ps_out_abort(struct ps_outfile *o);

#endif
