/*
 * common.c - see common.h.
 */
#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

char ps_buf_empty[1];

static _Noreturn void out_of_memory(void)
{
	fputs("procsnap: out of memory\n", stderr);
	abort();
}

void *ps_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		out_of_memory();
	return p;
}

void *ps_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		out_of_memory();
	return p;
}

void *ps_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		out_of_memory();
	return q;
}

void *ps_xgrow(void *p, size_t *cap, size_t i, size_t size, size_t first)
{
	if (i < *cap)
		return p;
	/* doubled from `first` (or from cap) until i fits; past SIZE_MAX the
	 * out-of-memory exit, never a short array */
	size_t n = *cap ? *cap : first ? first : 1;
	while (n <= i) {
		if (n > SIZE_MAX / 2)
			out_of_memory();
		n *= 2;
	}
	if (size && n > SIZE_MAX / size)
		out_of_memory();
	p = ps_xrealloc(p, n * size);
	*cap = n;
	return p;
}

void *ps_xgrow_zeroed(void *p, size_t *cap, size_t i, size_t size, size_t first)
{
	size_t old = *cap;
	p = ps_xgrow(p, cap, i, size, first);
	if (*cap > old)
		memset((char *)p + old * size, 0, (*cap - old) * size);
	return p;
}

char *ps_xstrdup(const char *s)
{
	return ps_xstrndup(s, strlen(s));
}

char *ps_xstrndup(const char *s, size_t n)
{
	char *p = ps_xmalloc(n + 1);
	if (n)
		memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

void ps_buf_init(struct ps_buf *b)
{
	b->buf = ps_buf_empty;
	b->len = 0;
	b->cap = 0;
}

void ps_buf_release(struct ps_buf *b)
{
	if (b->cap)
		free(b->buf);
	ps_buf_init(b);
}

void ps_buf_grow(struct ps_buf *b, size_t extra)
{
	if (extra >= SIZE_MAX / 2 - b->len) {
		fputs("procsnap: buffer size overflow\n", stderr);
		abort();
	}
	size_t need = b->len + extra + 1;
	if (need <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap * 2;
	ps_buf_reserve(b, cap);
}

void ps_buf_reserve(struct ps_buf *b, size_t cap)
{
	if (cap <= b->cap)
		return;
	if (b->cap) {
		b->buf = ps_xrealloc(b->buf, cap);
	} else {
		b->buf = ps_xmalloc(cap);
		b->buf[0] = '\0';
	}
	b->cap = cap;
}

void ps_buf_reset(struct ps_buf *b)
{
	b->len = 0;
	if (b->cap) /* the shared "" is never written: threads reset theirs at once */
		b->buf[0] = '\0';
}

void ps_buf_add(struct ps_buf *b, const void *data, size_t len)
{
	if (!len)
		return;
	ps_buf_grow(b, len);
	memcpy(b->buf + b->len, data, len);
	b->len += len;
	b->buf[b->len] = '\0';
}

void ps_buf_adds(struct ps_buf *b, const char *s)
{
	ps_buf_add(b, s, strlen(s));
}

void ps_buf_addc(struct ps_buf *b, char c)
{
	ps_buf_grow(b, 1);
	b->buf[b->len++] = c;
	b->buf[b->len] = '\0';
}

void ps_buf_vaddf(struct ps_buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	va_copy(cp, ap);
	ps_buf_grow(b, 64);
	int n = vsnprintf(b->buf + b->len, b->cap - b->len, fmt, cp);
	va_end(cp);
	if (n < 0)
		return;
	if ((size_t)n >= b->cap - b->len) {
		ps_buf_grow(b, (size_t)n);
		vsnprintf(b->buf + b->len, b->cap - b->len, fmt, ap);
	}
	b->len += (size_t)n;
}

void ps_buf_addf(struct ps_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	ps_buf_vaddf(b, fmt, ap);
	va_end(ap);
}

char *ps_buf_detach(struct ps_buf *b, size_t *len)
{
	char *p;
	if (len)
		*len = b->len;
	if (b->cap) {
		p = b->buf;
	} else {
		p = ps_xmalloc(1);
		p[0] = '\0';
	}
	ps_buf_init(b);
	return p;
}

int ps_err_set(struct ps_err *err, int code, const char *fmt, ...)
{
	if (err) {
		va_list ap;
		va_start(ap, fmt);
		err->code = code;
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return -1;
}

int ps_err_prefix(struct ps_err *err, const char *fmt, ...)
{
	if (err) {
		char pre[sizeof(err->msg)];
		char old[sizeof(err->msg)];
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(pre, sizeof(pre), fmt, ap);
		va_end(ap);
		memcpy(old, err->msg, sizeof(old));
		/* Truncation is fine: the message just gets cut. */
		size_t n = strlen(pre);
		if (n > sizeof(err->msg) - 3)
			n = sizeof(err->msg) - 3;
		memcpy(err->msg, pre, n);
		memcpy(err->msg + n, ": ", 2);
		size_t room = sizeof(err->msg) - n - 3;
		size_t ol = strnlen(old, room);
		memcpy(err->msg + n + 2, old, ol);
		err->msg[n + 2 + ol] = '\0';
	}
	return -1;
}

const char *ps_errno_name(int e)
{
	static __thread char other[16];
	if (e == 0)
		return "-";
	/* glibc's own table (2.32+): every errno the kernel can return. */
	const char *n = e > 0 ? strerrorname_np(e) : NULL;
	if (n)
		return n;
	snprintf(other, sizeof(other), "E%d", e);
	return other;
}

int ps_errno_parse(const char *name)
{
	if (strcmp(name, "-") == 0)
		return 0;
	if (name[0] != 'E')
		return -1;
	uint64_t v; /* "E123": a value glibc had no name for (E2BIG is a name) */
	if (ps_parse_u64(name + 1, strlen(name + 1), &v) == 0)
		return v < 100000 ? (int)v : -1;
	/* Linux errno values are below 4096 (MAX_ERRNO, include/linux/err.h).
	 * Aliases (EWOULDBLOCK, ENOTSUP, EDEADLOCK) share a value with the
	 * name strerrorname_np gives, so they are accepted here too. */
	static const struct {
		const char *alias;
		int e;
	} aliases[] = {
	    {"EWOULDBLOCK", EWOULDBLOCK}, {"ENOTSUP", ENOTSUP}, {"EDEADLOCK", EDEADLOCK}};
	for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++)
		if (strcmp(name, aliases[i].alias) == 0)
			return aliases[i].e;
	for (int e = 1; e < 4096; e++) {
		const char *n = strerrorname_np(e);
		if (n && strcmp(n, name) == 0)
			return e;
	}
	return -1;
}

int ps_read_fd(int fd, struct ps_buf *out, size_t max, int *truncated)
{
	return ps_read_fd_flush(fd, out, max, truncated, 0, NULL, NULL, NULL);
}

int ps_read_fd_flush(int fd, struct ps_buf *out, size_t max, int *truncated, size_t flush_at,
		     int (*flush)(void *ctx, const void *p, size_t n), void *ctx, uint64_t *total)
{
	/* The first read asks for 64 KiB: a seq_file is only consistent within
	 * one read() (Documentation/filesystems/proc.rst on maps).  Later reads
	 * ask for twice as much each time, up to 1 MiB, whatever the buffer has
	 * grown to: /proc/sys handlers kvzalloc() and zero the whole count
	 * (proc_sys_call_handler; a 1 MiB ask per sysctl was a sixth of a
	 * capture's CPU) and fail with ENOMEM from KMALLOC_MAX_SIZE (4 MiB). */
	const size_t first = 64 * 1024, most = 1024 * 1024;
	size_t step = first;
	uint64_t done = 0; /* bytes handed to flush */
	int e = 0;
	ps_buf_reset(out);
	if (truncated)
		*truncated = 0;
	for (;;) {
		if (flush && out->len >= flush_at) {
			if ((e = flush(ctx, out->buf, out->len)) != 0)
				break;
			done += out->len;
			ps_buf_reset(out);
		}
		size_t want = out->cap - out->len > 1 ? out->cap - out->len - 1 : 0;
		if (want < step) {
			ps_buf_grow(out, step);
			want = out->cap - out->len - 1;
		}
		if (want > step)
			want = step;
		if (step < most)
			step *= 2;
		if (max && done + out->len + want > max)
			want = max - (size_t)done - out->len;
		if (want == 0) {
			/* At the cap: probe one byte to know whether more exists. */
			char c;
			ssize_t n = read(fd, &c, 1);
			if (n > 0 && truncated)
				*truncated = 1;
			break;
		}
		ssize_t n = read(fd, out->buf + out->len, want);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			e = errno;
			out->buf[out->len] = '\0';
			break;
		}
		if (n == 0)
			break;
		out->len += (size_t)n;
		out->buf[out->len] = '\0';
	}
	if (total)
		*total = done + out->len;
	return e;
}

int ps_read_at(int dirfd, const char *name, struct ps_buf *out, size_t max, int *truncated)
{
	ps_buf_reset(out);
	if (truncated)
		*truncated = 0;
	int fd = openat(dirfd, name, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	if (fd < 0)
		return errno;
	int e = ps_read_fd(fd, out, max, truncated);
	close(fd);
	return e;
}

int ps_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int ps_random_bytes(void *buf, size_t n)
{
	unsigned char *p = buf;
	size_t got = 0;
	while (got < n) {
		ssize_t r = getrandom(p + got, n - got, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	if (got == n)
		return 0;
	int e = errno ? errno : EIO;
	/* splitmix64 over the clocks and the pid */
	uint64_t x = ps_mono_ns() ^ ps_real_ns() ^ ((uint64_t)getpid() << 32);
	for (size_t i = got; i < n; i++, x += 0x9e3779b97f4a7c15ull)
		p[i] = (unsigned char)ps_mix64(x);
	return e;
}

uint64_t ps_mix64(uint64_t x)
{
	uint64_t z = x + 0x9e3779b97f4a7c15ull;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

uint64_t ps_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t ps_real_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void ps_escape(struct ps_buf *out, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	/* Runs of plain bytes are copied whole: a byte at a time was a third
	 * of capture's manifest formatting. */
	for (size_t i = 0; i < len;) {
		size_t j = i;
		while (j < len && (unsigned char)s[j] >= 0x20 && (unsigned char)s[j] <= 0x7e &&
		       s[j] != '\\')
			j++;
		ps_buf_add(out, s + i, j - i);
		if (j == len)
			break;
		unsigned char c = (unsigned char)s[j];
		if (c == '\\') {
			ps_buf_add(out, "\\\\", 2);
		} else if (c == '\t') {
			ps_buf_add(out, "\\t", 2);
		} else if (c == '\n') {
			ps_buf_add(out, "\\n", 2);
		} else {
			char e[4] = {'\\', 'x', hex[c >> 4], hex[c & 15]};
			ps_buf_add(out, e, 4);
		}
		i = j + 1;
	}
}

int ps_unescape(struct ps_buf *out, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] != '\\') {
			/* the run up to the next backslash, at once */
			const char *bs = memchr(s + i, '\\', len - i);
			size_t run = bs ? (size_t)(bs - (s + i)) : len - i;
			ps_buf_add(out, s + i, run);
			i += run - 1;
			continue;
		}
		if (++i >= len)
			return -1;
		switch (s[i]) {
		case '\\':
			ps_buf_addc(out, '\\');
			break;
		case 't':
			ps_buf_addc(out, '\t');
			break;
		case 'n':
			ps_buf_addc(out, '\n');
			break;
		case 'x': {
			if (i + 2 >= len)
				return -1;
			int h = ps_hexval(s[i + 1]), l = ps_hexval(s[i + 2]);
			if (h < 0 || l < 0)
				return -1;
			ps_buf_addc(out, (char)(h << 4 | l));
			i += 2;
			break;
		}
		default:
			return -1;
		}
	}
	return 0;
}

void ps_hex(char *out, const void *data, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = data;
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex[p[i] >> 4];
		out[2 * i + 1] = hex[p[i] & 15];
	}
	out[2 * n] = '\0';
}

/* One more than each byte's value as a hex digit, 0 for a byte that is not
 * one: a table, because `procsnap index` reads a 32-digit hash per manifest
 * line (380,000 lines at N=2,000). */
static const unsigned char hex_digit1[256] = {
    ['0'] = 1,	['1'] = 2,  ['2'] = 3,	['3'] = 4,  ['4'] = 5,	['5'] = 6,  ['6'] = 7,	['7'] = 8,
    ['8'] = 9,	['9'] = 10, ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
    ['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
};

int ps_unhex(void *out, const char *hex, size_t n)
{
	unsigned char *p = out;
	const unsigned char *h = (const unsigned char *)hex;
	int bad = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned hi = hex_digit1[h[2 * i]], lo = hex_digit1[h[2 * i + 1]];
		bad |= hi == 0 || lo == 0;
		p[i] = (unsigned char)((hi - 1) << 4 | ((lo - 1) & 15));
	}
	return bad ? -1 : 0;
}

void ps_human_bytes(char *out, size_t outlen, uint64_t n)
{
	static const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	double v = (double)n;
	size_t u = 0;
	while (v >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(out, outlen, "%llu B", (unsigned long long)n);
	else
		snprintf(out, outlen, "%.1f %s", v, units[u]);
}

int ps_parse_u64(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;
	if (len == 0)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		unsigned d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}
