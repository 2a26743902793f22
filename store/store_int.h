/*
 * store_int.h - private to store/: shared between writer, reader and index.
 */
#ifndef PS_STORE_INT_H
#define PS_STORE_INT_H

#include <stdint.h>

/*
 * Limits on what an archive may claim (README "Threat model").  Every size
 * read from an archive is checked against these and against what the file
 * can hold before anything is allocated by it.
 */
/* Largest member the reader holds in memory; a larger one is refused (the
 * manifest is streamed and exempt). */
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
int ps_src_open(struct ps_src *s, int fd, const char *name, struct ps_err *err);
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

/* Is this 512-byte block a tar header (ustar magic, valid checksum)? */
int ps_tar_header_ok(const unsigned char *blk);

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

#endif
