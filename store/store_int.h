/*
 * store_int.h - private to store/: shared between writer, reader and index.
 */
#ifndef PS_STORE_INT_H
#define PS_STORE_INT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <xxhash.h>

#include "common.h"

/*
 * Content shorter than this is stored again rather than hardlinked (the
 * writer: a tar hardlink header costs as much as the member, and the index
 * would resolve thousands of links to "0\n"); the index builder tells such
 * contents apart by their bytes, longer ones by where the archive holds them.
 * Identical content is found by a hash keyed with a secret drawn for each
 * run (PS_KEY_SECRET bytes): XXH3 with its public default secret is no
 * defence against contents made to collide (its mixing of a 16-byte block is
 * zero whenever half the block equals the secret's), so a process could have
 * its member stored as a hardlink to another's bytes.
 */
#define PS_DEDUP_MIN  64
#define PS_KEY_SECRET 192

/*
 * procsnap's own last members (crossview.json, processes.tsv, hashes.tsv)
 * come after the processes and repeat nothing earlier: the writer's dedup
 * table and the index builder's contents dictionary are freed when they
 * begin.  ps_tail_begins is true once, for the first procsnap/ path that
 * follows a proc/ one (meta.json, the first member, is not the tail).
 */
struct ps_tail {
	int saw_proc, reached;
};

static inline int ps_tail_begins(struct ps_tail *t, const char *path)
{
	if (t->reached)
		return 0;
	if (strncmp(path, "proc/", 5) == 0)
		t->saw_proc = 1;
	else if (t->saw_proc && strncmp(path, "procsnap/", 9) == 0)
		t->reached = 1;
	return t->reached;
}

/*
 * Limits on what an archive may claim (README "Threat model").  Every size
 * read from an archive is checked against these and against what the file
 * can hold before anything is allocated by it.
 */
/* Largest member the reader holds in memory; a larger one is hashed as it
 * goes by and returned without its data (ps_rmember.unloaded), and random
 * access refuses it. */
#ifndef PS_MEMBER_MAX /* the fuzz build lowers it to keep inputs fast */
#define PS_MEMBER_MAX ((uint64_t)256 << 20)
#endif
/* procsnap/meta.json is at most this long. */
#define PS_META_MAX ((uint64_t)1 << 20)
/* Longest manifest line (a 4096-byte path escaped as \xHH is 16 KiB). */
#define PS_MANIFEST_LINE_MAX ((size_t)64 << 10)
/* Largest zstd frame decoded whole into memory, and the largest frame a seek
 * table may describe for procsnap to use it (the writer makes ~1 MiB frames;
 * a frame holding the end of a spanning member stays within a few MiB).
 * Larger frames are decoded as a stream. */
#define PS_FRAME_MAX ((uint64_t)4 << 20)
/* Largest zstd window accepted (8 MiB: every zstd level up to 19; --long
 * and --ultra archives are refused). */
#define PS_ZSTD_WINDOW_LOG_MAX 23
/* Most seek-table entries used (16 bytes of memory each: 4 MiB); a larger
 * table is ignored and the archive read in sequence. */
#define PS_SEEK_FRAMES_MAX ((uint64_t)1 << 18)

/* zstd seekable format v0.1 (contrib/seekable_format): the trailer is a
 * skippable frame of this magic holding (csize, dsize[, checksum]) per frame,
 * then a 9-byte footer: frame count, descriptor, footer magic. */
#define PS_SEEK_SKIPPABLE_MAGIC 0x184D2A5Eu
#define PS_SEEK_FOOTER_MAGIC	0x8F92EAB1u
#define PS_SEEK_FOOTER_LEN	9
/* zstd frame magic (RFC 8878), and the skippable-frame magic range. */
#define PS_ZSTD_MAGIC	   0xFD2FB528u
#define PS_ZSTD_SKIP_MAGIC 0x184D2A50u /* low 4 bits free */
#define PS_ZSTD_SKIP_MASK  0xFFFFFFF0u

/* Little-endian u32 at p. */
static inline uint32_t ps_le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

struct sqlite3;
struct ps_err;
struct ps_rmember;
struct ps_buf;

/*
 * seektable.c - the frame table of a seekable-format trailer, as prefix
 * sums: frame i holds file bytes [coff[i], coff[i+1]) and tar bytes
 * [toff[i], toff[i+1]).
 */
struct ps_seektable {
	size_t n;
	uint64_t *coff, *toff; /* n + 1 entries each */
	uint64_t max_dsize;    /* largest frame's tar bytes */
};
/*
 * ps_seektable_load - read the trailer of the file fd (fsize bytes).
 * Returns 1 with *st filled (free with ps_seektable_free); 0 when there is
 * no trailer, or a consistent one procsnap does not use (a frame larger than
 * PS_FRAME_MAX, more than PS_SEEK_FRAMES_MAX frames); -1 with err when the
 * trailer is there but does not fit the file (corrupt or crafted).
 */
int ps_seektable_load(int fd, uint64_t fsize, struct ps_seektable *st, struct ps_err *err);
void ps_seektable_free(struct ps_seektable *st);
/* Last frame whose tar range starts at or before off (st->n when none). */
size_t ps_seektable_find(const struct ps_seektable *st, uint64_t off);

/*
 * source.c - the tar stream inside an archive file, for the reader: a plain
 * tar as it is, or zstd frames decoded one at a time (through the seek
 * table, or by walking frame headers), every byte of the file hashed
 * (SHA-256) in order as it is first read.  ps_src_next hands out the next
 * chunk of tar bytes, or reports a gap: a frame that does not decode (its
 * tar range, exact when the seek table or the frame header says, and its
 * file range), after which the source goes on at the next frame.
 */
struct ps_gap {
	uint64_t t_from, t_to; /* lost tar bytes, PS_OFF_UNKNOWN if not known */
	uint64_t c_from, c_to; /* archive file bytes */
	char msg[256];
};

struct ps_src {
	int fd; /* borrowed */
	uint64_t fsize;
	int zstd;
	struct ps_seektable st; /* st.n == 0: frames found by walking headers */
	struct ps_fetch *fetch; /* told the frame starts it meets (or NULL) */
	/* input: a window [in_off, in_off + in_len) of the file */
	void *sha;	  /* EVP_MD_CTX */
	uint64_t sha_pos; /* bytes [0, sha_pos) hashed */
	int no_sha;	  /* hash nothing (ps_reader_opts.no_sha256) */
	unsigned char *in;
	size_t incap, in_len;
	uint64_t in_off;
	int ioerr;
	/* decoding */
	uint64_t cpos; /* next file byte to decode */
	size_t fi;     /* next frame of the seek table */
	void *dc, *ds; /* ZSTD_DCtx for whole frames, ZSTD_DStream for large ones */
	int in_frame;  /* a frame is being decoded as a stream, from: */
	uint64_t frame_c0, frame_t0;
	int frame_ck;	 /* it has a checksum: XXH64 of its content so far */
	void *xxh;	 /* XXH64_state_t */
	int gap_pending; /* gap to report after the chunk handed out */
	char *out;
	size_t outcap;
	/* where the stream stands */
	uint64_t tpos; /* tar offset of the next byte out, if tknown */
	int tknown;
	uint64_t spos;	  /* tar bytes handed out so far (gaps not counted) */
	uint64_t align_s; /* tar headers start at stream offsets = align_s mod 512 */
	int eof;
	struct ps_gap gap;
	char err[300];
	/* the chunk handed out: chunk[chunk_pos, chunk_len) */
	const char *chunk;
	size_t chunk_len, chunk_pos;
	uint64_t chunk_t, chunk_s; /* its tar offset (if chunk_tknown), stream offset */
	int chunk_tknown;
};

enum { PS_SRC_ERROR = -1, PS_SRC_END = 0, PS_SRC_CHUNK = 1, PS_SRC_GAP = 2 };

/* Set up on fd (the caller keeps it): tell zstd from tar (or neither: an
 * error), read the seek table.  name is for messages.  0 or -1 with err;
 * ps_src_close in both cases. */
int ps_src_open(struct ps_src *s, int fd, const char *name, int no_sha, struct ps_err *err);
/* Start at byte c_off instead (a frame, or a block of a plain tar), before
 * the first ps_src_next; the SHA-256 then covers the file from there.  0 or
 * -1 with err. */
int ps_src_start(struct ps_src *s, uint64_t c_off, struct ps_err *err);
/* The next chunk (PS_SRC_CHUNK: s->chunk...), PS_SRC_END, PS_SRC_GAP (s->gap;
 * the source has moved past it), or PS_SRC_ERROR (s->err). */
int ps_src_next(struct ps_src *s);
/* Tar offset of the next byte out, or PS_OFF_UNKNOWN. */
uint64_t ps_src_tcur(const struct ps_src *s);
/* SHA-256 of the whole file (reads what decoding did not need). */
void ps_src_sha256(struct ps_src *s, unsigned char out[32]);
void ps_src_close(struct ps_src *s);

/* fetch.c: the random-access reader the streaming reader keeps for
 * ps_reader_fetch: it preads from fd (dup'ed), uses st if given (copied),
 * and name in messages. */
struct ps_fetch;
int ps_fetch_open_fd(int fd, const char *name, const struct ps_seektable *st, int is_zstd,
		     struct ps_fetch **fp, struct ps_err *err);
/* A zstd frame starts at file offset c_off and tar offset t_off (learnt by
 * the streaming reader): later sequential reads may start there. */
void ps_fetch_checkpoint(struct ps_fetch *f, uint64_t c_off, uint64_t t_off);
/* The len bytes at tar offset off, read in pieces of at most `piece` bytes
 * into buf, each handed to put unless it is NULL; their XXH3-128 into h.
 * Memory stays at one piece whatever len.  0; -1 with err (reading); or
 * put's errno (err untouched). */
int ps_fetch_pieces(struct ps_fetch *f, uint64_t off, uint64_t len, uint64_t piece,
		    struct ps_buf *buf, int (*put)(void *ctx, const void *p, size_t n), void *ctx,
		    unsigned char h[16], struct ps_err *err);
/* reader.c: the reader's own random-access reader (ps_reader_fetch's). */
struct ps_reader;
struct ps_fetch *ps_reader_fetcher(struct ps_reader *r);
/* reader.c: the canonical XXH3-128 of what went through x. */
void ps_xxh3_128_digest(XXH3_state_t *x, unsigned char out[16]);

/* Is this 512-byte block a tar header (ustar magic, valid checksum)? */
int ps_tar_header_ok(const unsigned char *blk);

/* index.c */
int ps_sql_err(struct ps_err *err, struct sqlite3 *db, const char *what);
/* Run the schema files: the table files (post_load 0) or the 9x index files (1). */
int ps_schema_apply(struct sqlite3 *db, int post_load, struct ps_err *err);
/* pid/tid from proc/<pid>/task/<tid>/...; -1 when absent (ps_path_split). */
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
/* intern(ctx, text, len, err): the strings.str_id of a text (the builder's
 * dictionary), or -1 on failure. */
typedef int64_t (*ps_intern_fn)(void *ctx, const char *s, size_t n, struct ps_err *err);
struct ps_tables *ps_tables_begin(struct sqlite3 *db, ps_intern_fn intern, void *ctx,
				  struct ps_err *err);
int ps_tables_member(struct ps_tables *t, const struct ps_rmember *m, struct ps_err *err);
/* The str_id the builder gave the target of the link member it passes
 * next (its fds row uses it rather than looking the text up); -1: none. */
void ps_tables_target_id(struct ps_tables *t, int64_t str_id);
/* A member too large to be held whole, in pieces (only smaps is parsed so):
 * begin returns 1 when the tables want it, 0 when not (its data is then not
 * needed); data in order, the last piece with eof. */
int ps_tables_stream_begin(struct ps_tables *t, const char *path, struct ps_err *err);
int ps_tables_stream_data(struct ps_tables *t, const void *data, size_t len, int eof,
			  struct ps_err *err);
int ps_tables_end(struct ps_tables *t, struct ps_err *err);
void ps_tables_abort(struct ps_tables *t);

/* sqlfuncs.c: osquery's SQL functions (regex_match, split, concat_ws, sha256,
 * community_id_v1, in_cidr_block, the math ones...) on db, every one
 * deterministic and innocuous.  0 or -1 with err. */
int ps_sqlfuncs_register(struct sqlite3 *db, struct ps_err *err);
/* globvt.c: the table-valued function files_glob(PATTERN) on db (the rows
 * of `files` whose path matches, found as `ls` finds them).  0 or -1. */
int ps_globvt_register(struct sqlite3 *db, struct ps_err *err);

/* The schema/ files, embedded (cmake/embed.cmake), in file-name order. */
struct ps_sql_file {
	const char *name;
	const char *sql;
};
extern const struct ps_sql_file ps_schema_files[];

/* Does schema/name make the index: the table files before the rows are
 * loaded (post_load 0), the 9x index files after (1); never rules/. */
static inline int ps_schema_file_runs(const char *name, int post_load)
{
	return strncmp(name, "rules/", 6) != 0 && (name[0] == '9') == (post_load != 0);
}

/* procsnap's schema as sqlite_master holds it once the schema/ files ran,
 * made at build time (schema_ref_gen.c); ends with a NULL type. */
struct ps_schema_obj {
	const char *type, *name, *tbl, *sql;
};
extern const struct ps_schema_obj ps_schema_ref[];

/* indexdb.c: make a connection defensive (see ps_index_open); writable keeps
 * triggers on, for procsnap's own output.  0 or -1. */
int ps_db_harden(struct sqlite3 *db, int writable, struct ps_err *err);
/* sqlite3_exec with SQLite's message in err ("sqlite: ...").  0 or -1. */
int ps_db_exec(struct sqlite3 *db, const char *sql, struct ps_err *err);

/* snap.c: the index file of a snapshot named by its archive or its index
 * (malloc'ed into *index), and its archive if it can be told (*archive,
 * malloc'ed, or NULL).  0 or -1 with err. */
int ps_snap_resolve(const char *path, char **index, char **archive, struct ps_err *err);

/* name_stats is kept for the names with an id below this (ibuild.c; snap.c's
 * probe reads a name past it the usual way): the ids a full dictionary hands
 * out, 3 MiB of counters at most. */
#define PS_NAME_STATS_MAX (1u << 18)

/* ---- spool.c: the writer's manifest, in frames made ahead ------------------ */

/* zstd frames: compressed and tar sizes (a seek table's entries). */
struct ps_frametab {
	uint32_t *c, *d;
	size_t n, cap;
};
void ps_frametab_push(struct ps_frametab *t, size_t c, size_t d);
/* The compression context of the archive's frames (level, checksums): the
 * writer's compressor and the spool make theirs alike.  NULL: no memory. */
struct ZSTD_CCtx_s *ps_frame_cctx(int level);
void ps_frametab_release(struct ps_frametab *t);

struct ps_spool {
	struct ZSTD_CCtx_s *cctx;
	size_t frame_size;
	int spill_dirfd;       /* -1: the frames stay in memory */
	struct ps_buf plain;   /* lines not yet in a frame (< frame_size bytes) */
	struct ps_buf z;       /* frames in memory */
	int spill_fd;	       /* O_TMPFILE once z is large, else -1 */
	uint64_t spilled;      /* frame bytes in the spill file */
	uint64_t len;	       /* the lines' bytes */
	struct ps_frametab fr; /* the frames */
	uint64_t spill_left;   /* reading back: frame bytes left in the spill file */
	size_t mem_pos, next;  /* reading back: in z, in fr */
};
/* Frames of frame_size bytes compressed at level, with checksums (as the
 * writer's compressor makes them); spilled into an O_TMPFILE of
 * spill_dirfd (borrowed; -1: none) past 1 MiB.  0 or ENOMEM. */
int ps_spool_init(struct ps_spool *s, int level, size_t frame_size, int spill_dirfd);
/* Append bytes; 0 or an errno. */
int ps_spool_add(struct ps_spool *s, const char *p, size_t n);
/* The last frame, and back to the first for ps_spool_next; 0 or an errno. */
int ps_spool_end(struct ps_spool *s);
/* The next frame's bytes into f, its tar bytes into *plain: 1, 0 after the
 * last, -EIO if the spool does not hold what its table says. */
int ps_spool_next(struct ps_spool *s, struct ps_buf *f, size_t *plain);
void ps_spool_release(struct ps_spool *s);

/* ---- queue.c: hand-over between the pipeline's threads --------------------- */

struct ps_chunk {
	char *data;
	size_t len, cap;
	size_t plain; /* writer: 0, tar bytes to compress; else a zstd frame made
		       * ahead (the manifest's) of this many tar bytes */
};
/* Take b's buffer as a chunk (b is left empty). */
struct ps_chunk ps_chunk_from(struct ps_buf *b);

/* Recycled buffers of the ordinary size (at most keep_max bytes each), two
 * spare ones by default: the consumer hands one back while the producer
 * fills the next.  ps_pool_keep raises that to PS_POOL_MAX for the index
 * builder's batches, whose queue holds four (PS_BQ_SLOTS): with two kept, a
 * rebuild at N=2,000 allocated ~18 fresh 1 MiB batches, whose pages the
 * kernel zeroed and mapped again each time (~2,000 page faults of its
 * 13,000, each 5-30 us on this VM).  ps_pool_trim frees what is kept, once
 * no more buffers will be asked for (the index's finish, its peak). */
#define PS_POOL_MAX 6
struct ps_pool {
	pthread_mutex_t mu;
	struct ps_chunk free[PS_POOL_MAX];
	size_t n, keep_max, max_n;
};
void ps_pool_init(struct ps_pool *p, size_t keep_max);
void ps_pool_keep(struct ps_pool *p, size_t n); /* keep up to n (<= PS_POOL_MAX) */
void ps_pool_trim(struct ps_pool *p);
void ps_pool_destroy(struct ps_pool *p);
/* Make b an empty buffer of at least cap bytes, from the pool if it can. */
void ps_pool_get(struct ps_pool *p, struct ps_buf *b, size_t cap);
void ps_pool_put(struct ps_pool *p, struct ps_chunk c);

/* A bounded single-producer single-consumer queue of chunks. */
#define PS_BQ_SLOTS 4
struct ps_bq {
	pthread_mutex_t mu;
	pthread_cond_t can_put, can_take, idle;
	struct ps_chunk q[PS_BQ_SLOTS];
	size_t head, count;
	uint64_t put, done_n; /* items put / items fully handled */
	int done;
};
void ps_bq_init(struct ps_bq *b);
void ps_bq_destroy(struct ps_bq *b);		    /* frees chunks still queued */
void ps_bq_put(struct ps_bq *b, struct ps_chunk c); /* blocks while full */
/* Next chunk (1), or 0 once the queue is closed and empty. */
int ps_bq_take(struct ps_bq *b, struct ps_chunk *c);
void ps_bq_handled(struct ps_bq *b); /* the consumer is done with one chunk */
void ps_bq_drain(struct ps_bq *b);   /* wait until every chunk put was handled */
void ps_bq_close(struct ps_bq *b);

/* ---- the member record of the pipeline ------------------------------------- */

/*
 * One member as it travels in a batch: capture -> writer (ps_writer_add
 * copies it in) -> formatter thread (hashes it, writes the tar, fills the
 * annotation) -> index builder thread.  `procsnap index` makes the same
 * records from an archive and its manifest, so the builder has one input.
 * 8-byte aligned; followed by path NUL, target NUL, data_len bytes.
 */
struct ps_wrec {
	uint64_t size;	   /* content bytes (a link: target length) */
	uint64_t data_len; /* bytes of content that follow (0: not carried) */
	uint64_t read_ns;
	int64_t mtime;
	uint64_t data_off; /* annotation: tar offset of the content (a file's, or of
			      the first copy it is a hardlink to); 0 unknown */
	uint32_t path_len, target_len, kind, mode, uid, gid;
	int32_t err, has_target;
	uint32_t has_hash; /* annotation: xxh3 is set */
	uint32_t damage;   /* PS_DAMAGE_* */
	unsigned char xxh3[16];
	/* The content is not in the batch but in this file (size bytes), which
	 * travels with the record and is closed by its last consumer. */
	int32_t spilled, spill_fd;
};
#define PS_WREC_SIZE(pl, tl, dl)                                                                   \
	((sizeof(struct ps_wrec) + (pl) + (tl) + 2 + (dl) + 7) & ~(size_t)7)

/* Why a path cannot be trusted (files.damage). */
enum {
	PS_DAMAGE_NONE = 0,
	PS_DAMAGE_MISMATCH = 1, /* member bytes differ from the manifest's XXH3 */
	PS_DAMAGE_LOST = 2,	/* its member was in a damaged part of the archive */
	PS_DAMAGE_MISSING = 3,	/* listed in the manifest, no member */
	PS_DAMAGE_UNLISTED = 4, /* a member the manifest does not list */
};
const char *ps_damage_name(unsigned d); /* NULL for PS_DAMAGE_NONE */

/* ---- ibuild.c: the index builder ------------------------------------------ */

/*
 * One builder per index: it consumes batches of ps_wrec on a thread of its
 * own and writes the SQLite index under a temporary name beside db_path.
 * The records come from a live capture (the writer's formatter) or from an
 * archive (ps_index_build): one code path.
 */
struct ps_ibuild;
/* pool: where consumed batches go back (NULL: freed). */
int ps_ibuild_open(struct ps_ibuild **bp, const char *db_path, int force, struct ps_pool *pool,
		   struct ps_err *err);
/* Hand a batch over (blocks while the builder's queue is full); the builder
 * owns it from here.  0, or -1 with err once the builder has failed. */
int ps_ibuild_submit(struct ps_ibuild *b, struct ps_chunk batch, struct ps_err *err);
/* What only the end of the archive knows. */
struct ps_ibuild_end {
	const unsigned char *sha256; /* 32 bytes, or NULL */
	const char *archive_name;    /* basename recorded in snapshots */
	int64_t archive_size;	     /* -1 unknown */
	uint64_t tar_bytes;
	const uint32_t *csize, *dsize; /* the zstd frames (may be 0 frames) */
	size_t nframes;
};
/* Wait for the builder, write the last rows and indexes, commit and close
 * the temporary database.  0, or -1 with err. */
int ps_ibuild_finish(struct ps_ibuild *b, const struct ps_ibuild_end *e, struct ps_err *err);
/* Rename the finished database into place (RENAME_NOREPLACE unless force). */
int ps_ibuild_publish(struct ps_ibuild *b, struct ps_err *err);
/* Temporary file name (for a signal handler that must remove it). */
const char *ps_ibuild_tmp_path(const struct ps_ibuild *b);
/* Stop the thread if running, remove the temporary file unless published. */
void ps_ibuild_free(struct ps_ibuild *b);

/*
 * Split an archive path: "proc/<pid>/task/<tid>/<rest>" (pid and tid in
 * canonical decimal: no sign, no leading zero, at most INT32_MAX).  *rest
 * points into path: "" for the pid or tid directory itself.  A path that is
 * not below a pid directory gives pid = tid = -1 and rest = path.
 */
void ps_path_split(const char *path, int64_t *pid, int64_t *tid, const char **rest);

#endif
