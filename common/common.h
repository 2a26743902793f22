/*
 * common.h - shared primitives for every procsnap module.
 *
 * Nothing here knows about /proc, archives or SQL: a growable byte buffer with
 * strbuf's invariants, an error record that gathers context as it travels up,
 * errno names, reading a whole file relative to a directory fd, manifest path
 * escaping, the UTF-8 validator and terminal escaper (text.c), the JSON
 * writer (json.c), and clocks.  No mutable globals.
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
/* Room for at least cap - 1 bytes (and the NUL); when it must grow, to exactly
 * cap, not to the next power of two (a buffer whose final size is known). */
void ps_buf_reserve(struct ps_buf *b, size_t cap);
void ps_buf_reset(struct ps_buf *b);
void ps_buf_add(struct ps_buf *b, const void *data, size_t len);
void ps_buf_adds(struct ps_buf *b, const char *s);
void ps_buf_addc(struct ps_buf *b, char c);
void ps_buf_addf(struct ps_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ps_buf_vaddf(struct ps_buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/* Hand the buffer to the caller (must free()); b is left empty. */
char *ps_buf_detach(struct ps_buf *b, size_t *len);

/* xmalloc family: abort with a message on OOM (the only abort we allow). */
void *ps_xmalloc(size_t n);
void *ps_xcalloc(size_t n, size_t size);
void *ps_xrealloc(void *p, size_t n);
char *ps_xstrdup(const char *s);
/* Grow the array p of *cap elements of `size` bytes (zeroed) so that index i
 * is in it: doubling from `first`, the new elements zeroed.  Returns p as
 * it is now (*cap updated). */
void *ps_xgrow_zeroed(void *p, size_t *cap, size_t i, size_t size, size_t first);
/* The same, the new elements left as they are.  PS_XGROW(v, n, cap, first)
 * makes room for v[n] (cap a size_t lvalue): the array idiom of the tree;
 * the test that it fits is inline, as it was at each place. */
void *ps_xgrow(void *p, size_t *cap, size_t i, size_t size, size_t first);
#define PS_XGROW(p, n, cap, first)                                                                 \
	((void)((n) < (cap) || ((p) = ps_xgrow((p), &(cap), (n), sizeof(*(p)), (first)))))
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

/* "EACCES" for EACCES (glibc's strerrorname_np); "E<number>" for values
 * it does not name; "-" for 0. */
const char *ps_errno_name(int e);
/* Inverse of ps_errno_name ("EACCES" -> 13, "E123" -> 123, "-" -> 0; the
 * aliases EWOULDBLOCK, ENOTSUP, EDEADLOCK too); -1 if unknown. */
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

/* The splitmix64 step: x plus the golden-ratio increment, then its
 * finaliser (a weak 64-bit key spread over all bits). */
uint64_t ps_mix64(uint64_t x);

/* n unpredictable bytes (the kernel's getrandom); 0, or an errno when the
 * kernel gives none (then buf is filled from clocks and the pid: distinct
 * per run, not secret). */
int ps_random_bytes(void *buf, size_t n);

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

/* ---- text: the one UTF-8 validator and terminal escaper (text.c) ------- */

/*
 * ps_utf8_len - length (1..4) of the well-formed UTF-8 sequence that starts
 * s[0..n), or 0 if there is none (stray continuation byte, overlong form,
 * UTF-16 surrogate, code point past U+10FFFF, truncated sequence).  The
 * code point goes to *cp when cp is not NULL and the result is not 0.
 */
size_t ps_utf8_len(const char *s, size_t n, uint32_t *cp);
/* Bytes of s[0..n) that form well-formed UTF-8 from the start. */
size_t ps_utf8_valid_prefix(const char *s, size_t n);
/*
 * ps_unsafe_codepoint - 1 for a character that must never reach a terminal
 * raw: C0 controls U+0000..U+001F, DEL U+007F, C1 controls U+0080..U+009F,
 * the bidirectional embeddings, overrides and isolates U+202A..U+202E and
 * U+2066..U+2069, the direction marks U+200E, U+200F, U+061C, and the line
 * and paragraph separators U+2028, U+2029.
 */
int ps_unsafe_codepoint(uint32_t cp);
/*
 * ps_buf_add_term - append s[0..len) as text for a terminal: printable
 * valid UTF-8 as is; backslash, newline and tab as \\, \n, \t; every byte
 * of an unsafe character (ps_unsafe_codepoint) and every byte that is not
 * UTF-8 as \xHH.  The result holds no control byte and is reversible with
 * ps_unescape.  Returns the display columns added, counting one per code
 * point (escapes count their characters).
 */
size_t ps_buf_add_term(struct ps_buf *b, const char *s, size_t len);
/* Same for a NUL-terminated string (NULL: nothing). */
size_t ps_buf_add_terms(struct ps_buf *b, const char *s);

/* ---- JSON (json.c) ------------------------------------------------------- */

/* Append s as a JSON string literal, quotes included.  Valid UTF-8 is kept
 * except unsafe characters (ps_unsafe_codepoint), written \uXXXX; a byte
 * that is not UTF-8 is written \u00XX (its value as a code point). */
void ps_buf_add_json(struct ps_buf *b, const char *s, size_t len);

/*
 * struct ps_json - a JSON writer over a ps_buf that places the commas:
 * open a container, write keys and values in order, close it.  Nesting
 * deeper than PS_JSON_MAXDEPTH is written but no longer comma-tracked.
 * The writer borrows b; it owns nothing and needs no release.
 */
#define PS_JSON_MAXDEPTH 16
struct ps_json {
	struct ps_buf *b;
	unsigned depth;
	int after_key;
	unsigned count[PS_JSON_MAXDEPTH];
	unsigned char lines[PS_JSON_MAXDEPTH];
};
void ps_json_init(struct ps_json *j, struct ps_buf *b);
/* Open an object or array; the _lines forms put each element on its own
 * line (for people reading the output; the JSON is the same). */
void ps_json_obj(struct ps_json *j);
void ps_json_obj_lines(struct ps_json *j);
void ps_json_obj_end(struct ps_json *j);
void ps_json_arr(struct ps_json *j);
void ps_json_arr_lines(struct ps_json *j);
void ps_json_arr_end(struct ps_json *j);
void ps_json_key(struct ps_json *j, const char *name);
void ps_json_str(struct ps_json *j, const char *s, size_t len);
void ps_json_strz(struct ps_json *j, const char *s); /* NULL: null */
void ps_json_int(struct ps_json *j, int64_t v);
void ps_json_double(struct ps_json *j, double v); /* not finite: null */
void ps_json_bool(struct ps_json *j, int v);
void ps_json_null(struct ps_json *j);
/* A value already formatted as JSON (a nested document, a number). */
void ps_json_raw(struct ps_json *j, const char *text);

/*
 * struct ps_jr - a reader of one JSON text (RFC 8259), for a member a
 * capture wrote and a forged archive may hold anything in.  ps_jr_open
 * checks the whole text first (nesting at most PS_JR_MAXDEPTH), so a walk
 * never meets a syntax error; the walk then goes value by value, building
 * nothing.  The reader borrows the text; it owns nothing.
 */
#define PS_JR_MAXDEPTH 64
enum ps_jtype {
	PS_JT_END, /* no value here: the end of a container or of the text */
	PS_JT_NULL,
	PS_JT_FALSE,
	PS_JT_TRUE,
	PS_JT_INT, /* no fraction or exponent, and fits in 64 bits */
	PS_JT_REAL,
	PS_JT_STR,
	PS_JT_ARR,
	PS_JT_OBJ,
};
struct ps_jr {
	const char *p, *end;
};
struct ps_jval {
	enum ps_jtype type;
	int64_t i;	     /* INT */
	double d;	     /* REAL (an INT too large for 64 bits is one) */
	const char *s;	     /* STR, decoded (in the buffer ps_jr_value was given) */
	size_t n;
	const char *raw;     /* the value's text as it stands (an array, an object) */
	size_t raw_len;
};
/* 0 and the cursor at the text's value, or -1: not JSON. */
int ps_jr_open(struct ps_jr *r, const char *s, size_t n);
/* The type of the value at the cursor (END at a container's end). */
enum ps_jtype ps_jr_peek(const struct ps_jr *r);
/* Into the array or object at the cursor: 1, or 0 if it is neither. */
int ps_jr_enter(struct ps_jr *r);
/* In an array: 1 and the cursor at the next element, or 0 and the cursor
 * past the array. */
int ps_jr_elem(struct ps_jr *r);
/* In an object: 1, the next key decoded into key and the cursor at its
 * value, or 0 and the cursor past the object. */
int ps_jr_key(struct ps_jr *r, struct ps_buf *key);
/* Past the value at the cursor. */
void ps_jr_skip(struct ps_jr *r);
/* The value at the cursor (a string decoded into buf, which v->s then
 * borrows), the cursor past it.  An array or object is skipped whole:
 * v->raw holds its text. */
void ps_jr_value(struct ps_jr *r, struct ps_jval *v, struct ps_buf *buf);

/* Value of one hex digit (either case), or -1.  Inline: ps_unhex parses a
 * 32-digit hash per manifest line with it. */
static inline int ps_hexval(char ch)
{
	unsigned char c = (unsigned char)ch;
	if ((unsigned)(c - '0') < 10u)
		return c - '0';
	c |= 0x20; /* 'A'-'F' -> 'a'-'f' */
	return (unsigned)(c - 'a') < 6u ? c - 'a' + 10 : -1;
}

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
