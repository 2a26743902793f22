/*
 * common.h - shared primitives for every procsnap module.
 *
 * Nothing here knows about /proc, archives or SQL: a growable byte buffer with
 * strbuf's invariants, an error record that gathers context as it travels up,
 * errno names, reading a whole file relative to a directory fd, path escaping,
 * and clocks.  No mutable globals.
 */
#ifndef PS_COMMON_H
#define PS_COMMON_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/*
 * struct ps_buf - growable, binary-safe byte buffer.
 * Invariants (as git's strbuf): buf is never NULL, buf[len] == '\0' always,
 * cap == 0 means buf points at a shared static "" and nothing is owned.
 * ps_buf_detach() is the only way to hand the memory over.
 */
struct ps_buf {
	char *buf;
	size_t len;
	size_t cap;
};
extern char ps_buf_empty[];
#define PS_BUF_INIT                                                                                \
	{                                                                                          \
		ps_buf_empty, 0, 0                                                                 \
	}

void ps_buf_init(struct ps_buf *b);
void ps_buf_release(struct ps_buf *b);
/* Ensure room for `extra` more bytes (+ NUL).  Aborts only on OOM. */
void ps_buf_grow(struct ps_buf *b, size_t extra);
void ps_buf_reset(struct ps_buf *b);
void ps_buf_add(struct ps_buf *b, const void *data, size_t len);
void ps_buf_adds(struct ps_buf *b, const char *s);
void ps_buf_addc(struct ps_buf *b, char c);
void ps_buf_addf(struct ps_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ps_buf_vaddf(struct ps_buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/* Hand the buffer to the caller (must free()); b is left empty. */
char *ps_buf_detach(struct ps_buf *b, size_t *len);
/* Append s as a JSON string literal, quotes included; bytes that are not
 * valid UTF-8 are written as \u00XX escapes of the byte value. */
void ps_buf_add_json(struct ps_buf *b, const char *s, size_t len);

/* xmalloc family: abort with a message on OOM (the only abort we allow). */
void *ps_xmalloc(size_t n);
void *ps_xcalloc(size_t n, size_t size);
void *ps_xrealloc(void *p, size_t n);
char *ps_xstrdup(const char *s);
char *ps_xstrndup(const char *s, size_t n);

/*
 * struct ps_err - error context.  ps_err_set() writes "msg" and returns -1 so a
 * failing function can `return ps_err_set(err, ...)`.  err may be NULL.
 * ps_err_prefix() prepends "what: " as the error travels up.
 */
struct ps_err {
	int code; /* errno if one applies, else 0 */
	char msg[1024];
};
int ps_err_set(struct ps_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int ps_err_prefix(struct ps_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "EACCES" for EACCES; "E<number>" for unknown values; "-" for 0. */
const char *ps_errno_name(int e);
/* Inverse of ps_errno_name ("EACCES" -> 13, "-" -> 0); -1 if unknown. */
int ps_errno_parse(const char *name);

/*
 * Read a whole file relative to dirfd, following the /proc rules: open with
 * O_RDONLY|O_NONBLOCK|O_CLOEXEC|O_NOFOLLOW, one large first read (>= 64 KiB,
 * the seq_file consistency unit), read until read() returns 0 (a short read
 * is not EOF), retry EINTR.  At most `max` bytes are kept (0 = no limit);
 * *truncated is set when more were available.  out is reset first.
 * Returns 0 or a positive errno (EAGAIN when the file would block).
 */
int ps_read_at(int dirfd, const char *name, struct ps_buf *out, size_t max, int *truncated);
/* Same on an open fd. */
int ps_read_fd(int fd, struct ps_buf *out, size_t max, int *truncated);
/*
 * The same read, for content that must not be held whole: whenever out
 * holds flush_at bytes or more they are handed to flush(ctx, p, n) (which
 * returns 0 or an errno) and out is emptied; what is left at the end stays
 * in out.  max counts every byte read.  *total (if not NULL) gets the
 * length of the whole content.  Returns 0 or an errno (of read or flush).
 */
int ps_read_fd_flush(int fd, struct ps_buf *out, size_t max, int *truncated, size_t flush_at,
		     int (*flush)(void *ctx, const void *p, size_t n), void *ctx, uint64_t *total);
/* Write all bytes; returns 0 or errno. */
int ps_write_all(int fd, const void *data, size_t len);

/* Clocks in ns. */
uint64_t ps_mono_ns(void);
uint64_t ps_real_ns(void);

/*
 * Manifest path escaping (DESIGN 2): backslash, tab, newline and bytes
 * outside 0x20..0x7e become \\, \t, \n, \xHH.  ps_unescape reverses it and
 * returns 0, or -1 on a malformed escape.
 */
void ps_escape(struct ps_buf *out, const char *s, size_t len);
int ps_unescape(struct ps_buf *out, const char *s, size_t len);

/* Value of one hex digit (either case), or -1. */
int ps_hexval(char c);

/* Lowercase hex of n bytes into out (2n+1 bytes incl. NUL). */
void ps_hex(char *out, const void *data, size_t n);
/* Parse exactly 2n hex digits; returns 0 or -1. */
int ps_unhex(void *out, const char *hex, size_t n);

/* Human-readable byte count ("12.3 MiB") into out. */
void ps_human_bytes(char *out, size_t outlen, uint64_t n);

/* Parse a decimal unsigned integer that must fill [s, s+len); 0 or -1. */
int ps_parse_u64(const char *s, size_t len, uint64_t *out);

/*
 * struct ps_hmap - the one open-addressing hash table (hmap.c): 64-bit keys
 * that are already hashes (XXH3 of a name, an inode number) to 64-bit values
 * (an id, an offset).  Several entries may share a key: callers that need
 * exactness keep the hashed bytes and compare on each hit (ps_hmap_next).
 * max_entries bounds memory (0 = unbounded): ps_hmap_put then fails (-1)
 * and the caller goes on without the entry.  Grows by doubling, 16 bytes
 * per slot, at most half full.
 */
struct ps_hmap {
	uint64_t *keys; /* 0 = empty slot */
	uint64_t *vals;
	size_t cap, n, max;
};
void ps_hmap_init(struct ps_hmap *m, size_t max_entries);
void ps_hmap_release(struct ps_hmap *m); /* frees, keeps max; reusable */
/* Add key -> val (duplicates allowed).  0, or -1 when max_entries is reached. */
int ps_hmap_put(struct ps_hmap *m, uint64_t key, uint64_t val);
/* First value stored under key: 1 and *val, or 0. */
int ps_hmap_get(const struct ps_hmap *m, uint64_t key, uint64_t *val);
/* Iterate the values stored under key: *it = 0 to start; 1 and *val per
 * value, 0 at the end.  The map must not change while iterating. */
int ps_hmap_next(const struct ps_hmap *m, uint64_t key, size_t *it, uint64_t *val);
/* Remove the entry key -> val; 1 if it was there. */
int ps_hmap_del(struct ps_hmap *m, uint64_t key, uint64_t val);

#endif
