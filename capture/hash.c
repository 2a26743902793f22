/*
 * hash.c - SHA-256, SHA-1 and MD5 of what runs (issue 12): the exe of every
 * captured process, every file it maps executable, and every body kept
 * (exe.body, fd/N.body), for osquery's `hash` table.
 *
 * A file is read through the process itself - its `exe` link, or
 * `map_files/<start>-<end>` (which names the mapped file even when it was
 * deleted or lives in another mount namespace) - and, where map_files is
 * refused (it needs CAP_SYS_ADMIN), through the process's `root/` plus the
 * maps pathname, accepted only when that file is the mapped one (same
 * device and inode).  It is identified by (st_dev, st_ino, st_mtim) and read
 * once per capture: a later process mapping it under the same name adds
 * nothing, under another name adds a row with the same hashes.  Bytes read
 * are bounded by a budget per capture (--hash-max); a file that does not fit
 * is listed with status "budget", never hashed in part.
 *
 * Every open, stat and read leaves procfs: each runs under the watchdog
 * (guard_begin/guard_end, a tick per chunk read), as steps of the pid
 * directory of rank R_HASH named "0", "1"... in a fixed order (the exe,
 * then the executable mappings in maps order), so a replacement worker
 * resumes after a stuck one and lists that file with status ETIMEDOUT; the
 * files of the same device after it are then listed ETIMEDOUT unread (a
 * hung file system costs one read timeout, not one per file).
 * Shared state (the set of files read, the budget) is touched only between
 * guarded operations, as the rest of the walk does (capture_int.h).
 */
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <xxhash.h>

#include "capture.h"
#include "capture_int.h"
#include "procfs.h"

#define CHUNK	   ((size_t)1 << 20)  /* bytes per read(); the watchdog ticks per chunk */
#define FILES_MAX  (1u << 16)	      /* files remembered; past it a file may be read again */
#define ROWS_MAX   (1u << 18)	      /* (file, path) rows remembered; past it rows repeat */
#define SUMS_MAX   (1u << 14)	      /* contents remembered by SHA-256 (bodies) */
#define RECENT_N   16		      /* bodies kept to compare byte for byte ... */
#define RECENT_MAX ((size_t)64 << 10) /* ... when at most this long (1 MiB in all) */
#define DELETED	   " (deleted)"
#define DELETED_SZ (sizeof(DELETED) - 1)

/* A file read, by (dev, ino, mtime). */
struct hfile {
	struct ps_cap_fid id;
	int have_hash;
	unsigned char md5[16], sha1[20], sha256[32];
};

/* The three digests of one content, found again by its SHA-256. */
struct sums {
	unsigned char sha256[32], md5[16], sha1[20];
};

static void sums_of(struct sums *s, const struct hfile *f)
{
	memcpy(s->sha256, f->sha256, 32);
	memcpy(s->md5, f->md5, 16);
	memcpy(s->sha1, f->sha1, 20);
}

/* f's digests are s's */
static void sums_to(struct hfile *f, const struct sums *s)
{
	memcpy(f->sha256, s->sha256, 32);
	memcpy(f->md5, s->md5, 16);
	memcpy(f->sha1, s->sha1, 20);
	f->have_hash = 1;
}

struct ps_hashes {
	uint64_t budget;	/* bytes left to read */
	struct ps_ahead *ahead; /* procsnap's own files (ahead.c), or NULL */
	struct ps_hmap sums;	/* SHA-256 prefix -> index in sv */
	struct sums *sv;
	size_t nsums;
	struct ps_hmap files; /* key -> index in v */
	struct hfile *v;
	size_t n, cap;
	struct ps_hmap rows; /* XXH3(file, path) -> offset in names */
	struct ps_buf names; /* "path\0" back to back */
	uint64_t hung[16];   /* devices (maps encoding) a read timed out on */
	size_t nhung;
	/* The last few small bodies, bytes kept, for digests_mem. */
	struct recent {
		unsigned char xxh[16];
		size_t len;
		char *bytes;
		struct sums sm;
	} recent[RECENT_N];
	size_t recent_next;
};

static int hung(const struct ps_hashes *h, uint64_t dev)
{
	for (size_t i = 0; i < h->nhung; i++)
		if (h->hung[i] == dev)
			return 1;
	return 0;
}

struct ps_hashes *ps_hashes_new(uint64_t budget, int ahead)
{
	struct ps_hashes *h = ps_xcalloc(1, sizeof(*h));
	h->budget = budget;
	h->ahead = ahead ? ps_ahead_start(budget) : NULL;
	ps_hmap_init(&h->files, FILES_MAX);
	ps_hmap_init(&h->rows, ROWS_MAX);
	ps_hmap_init(&h->sums, SUMS_MAX);
	ps_buf_init(&h->names);
	return h;
}

int ps_hashes_free(struct ps_hashes *h)
{
	if (!h)
		return 0;
	int stuck = ps_ahead_stop(h->ahead);
	ps_hmap_release(&h->files);
	ps_hmap_release(&h->rows);
	ps_hmap_release(&h->sums);
	ps_buf_release(&h->names);
	free(h->v);
	free(h->sv);
	for (size_t i = 0; i < RECENT_N; i++)
		free(h->recent[i].bytes);
	free(h);
	return stuck;
}

void ps_cap_hash_release(struct walker *w)
{
	ps_digests_free(w->hctx);
	free(w->hbuf);
	w->hbuf = NULL;
	free(w->hit);
	w->hit = NULL;
	w->have_hit = 0;
	if (w->hash_fd >= 0)
		close(w->hash_fd);
	w->hash_fd = -1;
}

/* The hashes' identity of a file: (dev, ino, mtime); the size is not part
 * of it (a body's is what was read). */
static uint64_t file_key(const struct ps_cap_fid *id)
{
	uint64_t k[3] = {id->dev, id->ino, (uint64_t)id->mtime_ns};
	return XXH3_64bits(k, sizeof(k));
}

static struct hfile *file_find(struct ps_hashes *h, const struct ps_cap_fid *id)
{
	size_t it = 0;
	uint64_t v;
	while (ps_hmap_next(&h->files, file_key(id), &it, &v)) {
		struct hfile *f = &h->v[v];
		if (f->id.dev == id->dev && f->id.ino == id->ino && f->id.mtime_ns == id->mtime_ns)
			return f;
	}
	return NULL;
}

static struct hfile *file_add(struct ps_hashes *h, const struct hfile *f)
{
	if (h->n == h->cap) {
		if (h->cap >= FILES_MAX)
			return NULL;
		h->cap = h->cap ? h->cap * 2 : 256;
		h->v = ps_xrealloc(h->v, h->cap * sizeof(*h->v));
	}
	if (ps_hmap_put(&h->files, file_key(&f->id), h->n) < 0)
		return NULL;
	h->v[h->n] = *f;
	return &h->v[h->n++];
}

/* Has (file, path) been listed?  Marks it listed when not. */
static int row_seen(struct ps_hashes *h, const struct hfile *f, const char *path)
{
	uint64_t k[4] = {f->id.dev, f->id.ino, (uint64_t)f->id.mtime_ns,
			 XXH3_64bits(path, strlen(path))};
	uint64_t key = XXH3_64bits(k, sizeof(k)), off;
	size_t it = 0;
	while (ps_hmap_next(&h->rows, key, &it, &off))
		if (strcmp(h->names.buf + off, path) == 0)
			return 1;
	if (ps_hmap_put(&h->rows, key, h->names.len) == 0) {
		ps_buf_adds(&h->names, path);
		ps_buf_addc(&h->names, '\0');
	}
	return 0;
}

uint64_t ps_cap_dev_code(dev_t d)
{
	return (uint64_t)major(d) << 20 | minor(d);
}

void ps_cap_fid_of(const struct stat *sb, struct ps_cap_fid *id)
{
	id->dev = ps_cap_dev_code(sb->st_dev);
	id->ino = (uint64_t)sb->st_ino;
	id->mtime_ns = (int64_t)sb->st_mtim.tv_sec * 1000000000 + sb->st_mtim.tv_nsec;
	id->size = sb->st_size > 0 ? (uint64_t)sb->st_size : 0;
}

static void file_from_stat(struct hfile *f, const struct stat *sb)
{
	memset(f, 0, sizeof(*f));
	ps_cap_fid_of(sb, &f->id);
}

static void report(struct walker *w, const struct hfile *f, const char *path, const char *member,
		   const char *source, const char *status)
{
	struct run *r = w->r;
	if (r->aborted || !r->sink->hash)
		return;
	struct ps_capture_hash h;
	memset(&h, 0, sizeof(h));
	h.path = path;
	h.member = member;
	h.source = source;
	h.pid = w->p.pid;
	if (f) {
		h.dev = f->id.dev;
		h.ino = f->id.ino;
		h.mtime_ns = f->id.mtime_ns;
		h.size = f->id.size;
		h.have_hash = f->have_hash;
		memcpy(h.md5, f->md5, sizeof(h.md5));
		memcpy(h.sha1, f->sha1, sizeof(h.sha1));
		memcpy(h.sha256, f->sha256, sizeof(h.sha256));
	}
	h.status = status;
	if (r->sink->hash(r->sink->ctx, &h, r->err) < 0)
		r->aborted = 1;
}

/* ---- digests (each thread its own contexts; an abandoned worker's are kept) ---- */

int ps_digests_begin(void *ctx[3])
{
	const EVP_MD *md[3] = {EVP_md5(), EVP_sha1(), EVP_sha256()};
	for (int i = 0; i < 3; i++) {
		if (!ctx[i] && !(ctx[i] = EVP_MD_CTX_new()))
			return -1;
		if (!EVP_DigestInit_ex(ctx[i], md[i], NULL))
			return -1;
	}
	return 0;
}

void ps_digests_update(void *ctx[3], const void *p, size_t n)
{
	for (int i = 0; i < 3; i++)
		EVP_DigestUpdate(ctx[i], p, n);
}

void ps_digests_end(void *ctx[3], unsigned char md5[16], unsigned char sha1[20],
		    unsigned char sha256[32])
{
	unsigned int n;
	EVP_DigestFinal_ex(ctx[0], md5, &n);
	EVP_DigestFinal_ex(ctx[1], sha1, &n);
	EVP_DigestFinal_ex(ctx[2], sha256, &n);
}

void ps_digests_free(void *ctx[3])
{
	for (int i = 0; i < 3; i++) {
		if (ctx[i]) /* none at all into OpenSSL for an orphan's (below) */
			EVP_MD_CTX_free(ctx[i]);
		ctx[i] = NULL;
	}
}

/* A worker given up on makes no OpenSSL call when it wakes (ps_cap_gone):
 * the process may be exiting by then, with OpenSSL's atexit cleanup
 * freeing what EVP_MD_CTX_free would touch.  Its contexts are kept here,
 * reachable: a few hundred bytes per timeout, each listed in the archive. */
struct orphan {
	void *ctx[3];
	struct orphan *next;
};
static struct orphan *orphans;
static pthread_mutex_t orphans_mu = PTHREAD_MUTEX_INITIALIZER;

void ps_cap_hash_orphan(struct walker *w)
{
	if (!w->hctx[0] && !w->hctx[1] && !w->hctx[2])
		return;
	struct orphan *o = malloc(sizeof(*o));
	if (o) {
		memcpy(o->ctx, w->hctx, sizeof(o->ctx));
		pthread_mutex_lock(&orphans_mu);
		o->next = orphans;
		orphans = o;
		pthread_mutex_unlock(&orphans_mu);
	}
	memset(w->hctx, 0, sizeof(w->hctx));
}

static int digests_begin(struct walker *w)
{
	return ps_digests_begin(w->hctx);
}

static void digests_end(struct walker *w, struct hfile *f)
{
	ps_digests_end(w->hctx, f->md5, f->sha1, f->sha256);
	f->have_hash = 1;
}

/* Read fd to its end into the digests, ticking the watchdog per chunk;
 * *bytes gets the count.  0 or an errno.  Called inside a guard. */
static int hash_fd(struct walker *w, int fd, uint64_t off, uint64_t *bytes)
{
	if (!w->hbuf)
		w->hbuf = ps_xmalloc(CHUNK);
	*bytes = 0;
	for (;;) {
		ssize_t n = pread(fd, w->hbuf, CHUNK, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		int e = n < 0 ? errno : 0;
		/* The watchdog first: a worker given up on while in pread
		 * leaves here (ps_cap_gone) before another OpenSSL call. */
		ps_cap_guard_tick(w);
		if (n <= 0)
			return e;
		ps_digests_update(w->hctx, w->hbuf, (size_t)n);
		off += (uint64_t)n;
		*bytes += (uint64_t)n;
	}
}

static void strip_deleted(struct ps_buf *b)
{
	if (b->len > DELETED_SZ && memcmp(b->buf + b->len - DELETED_SZ, DELETED, DELETED_SZ) == 0) {
		b->len -= DELETED_SZ;
		b->buf[b->len] = '\0';
	}
}

/* ---- bodies ------------------------------------------------------------------- */

/* The digests of a body held in memory.  Identical bodies are common (the
 * same memfd or deleted file held by every process of a kind): the SHA-256
 * comes first and, when that content was seen before, its MD5 and SHA-1 are
 * taken from then instead of computed again (SHA-256 runs at about 1.4 GB/s
 * with SHA-NI, MD5 at 0.6).  A collision-resistant key: equal SHA-256
 * means equal bytes.  0, or -1 when a digest context cannot be made. */
static int digests_mem(struct walker *w, const void *p, size_t n, struct hfile *f)
{
	struct ps_hashes *h = w->r->hashes;
	unsigned int len;
	/* A small body equal, byte for byte, to one of the last few (found by
	 * its XXH3-128, then compared whole): its digests are those. */
	unsigned char xxh[16];
	if (n <= RECENT_MAX) {
		XXH128_hash_t x = XXH3_128bits(p, n);
		memcpy(xxh, &x.low64, 8);
		memcpy(xxh + 8, &x.high64, 8);
		for (size_t i = 0; i < RECENT_N; i++) {
			const struct recent *c = &h->recent[i];
			if (c->bytes && c->len == n && memcmp(c->xxh, xxh, 16) == 0 &&
			    memcmp(c->bytes, p, n) == 0) {
				sums_to(f, &c->sm);
				return 0;
			}
		}
	}
	if (digests_begin(w) < 0 || !EVP_DigestUpdate(w->hctx[2], p, n) ||
	    !EVP_DigestFinal_ex(w->hctx[2], f->sha256, &len))
		return -1;
	uint64_t key, v;
	memcpy(&key, f->sha256, sizeof(key));
	key |= 1; /* 0 is the map's empty slot */
	size_t it = 0;
	int known = 0;
	while (!known && ps_hmap_next(&h->sums, key, &it, &v)) {
		if (memcmp(h->sv[v].sha256, f->sha256, 32) == 0) {
			sums_to(f, &h->sv[v]);
			known = 1;
		}
	}
	if (!known) {
		EVP_DigestUpdate(w->hctx[0], p, n);
		EVP_DigestUpdate(w->hctx[1], p, n);
		EVP_DigestFinal_ex(w->hctx[0], f->md5, &len);
		EVP_DigestFinal_ex(w->hctx[1], f->sha1, &len);
		if (h->nsums < SUMS_MAX && ps_hmap_put(&h->sums, key, h->nsums) == 0) {
			if (h->nsums % 256 == 0)
				h->sv = ps_xrealloc(h->sv, (h->nsums + 256) * sizeof(*h->sv));
			sums_of(&h->sv[h->nsums++], f);
		}
	}
	f->have_hash = 1;
	if (n <= RECENT_MAX) {
		/* round robin: a content that keeps coming back stays */
		struct recent *c = &h->recent[h->recent_next++ % RECENT_N];
		c->bytes = ps_xrealloc(c->bytes, n ? n : 1);
		memcpy(c->bytes, p, n);
		c->len = n;
		memcpy(c->xxh, xxh, 16);
		sums_of(&c->sm, f);
	}
	return 0;
}

/* ---- the executables of a process ------------------------------------------------- */

size_t ps_cap_exec_items(const char *maps, size_t len, const char *exe, size_t exelen,
			 struct ps_cap_item **vp, size_t *capp)
{
	size_t n = 0, cap = *capp, pos = 0;
	struct ps_cap_item *v = *vp;
	if (cap < 16) {
		cap = 16;
		v = ps_xrealloc(v, cap * sizeof(*v));
	}
	struct ps_map m;
	int rc, has_exe = exe && exelen, exe_found = 0;
	if (has_exe) {
		memset(&v[n], 0, sizeof(v[n]));
		v[n].exe = 1;
		n++;
	}
	while ((rc = ps_maps_next(maps, len, &pos, &m)) != 0) {
		if (rc < 0 || m.inode == 0 || m.inode == PS_U64_UNKNOWN)
			continue;
		uint64_t dev = (uint64_t)m.dev_major << 20 | m.dev_minor;
		if (has_exe && !exe_found && m.path.len == exelen &&
		    memcmp(m.path.p, exe, m.path.len) == 0) {
			exe_found = 1;
			v[0].dev = dev;
			v[0].ino = m.inode;
		}
		if (m.perms[2] != 'x' || m.path.len == 0 || m.path.p[0] != '/')
			continue;
		int dup = 0;
		for (size_t i = (size_t)has_exe; i < n && !dup; i++)
			dup = v[i].dev == dev && v[i].ino == m.inode;
		if (dup)
			continue;
		if (n == cap) {
			cap *= 2;
			v = ps_xrealloc(v, cap * sizeof(*v));
		}
		struct ps_cap_item *it = &v[n++];
		memset(it, 0, sizeof(*it));
		snprintf(it->range, sizeof(it->range), "%llx-%llx", (unsigned long long)m.start,
			 (unsigned long long)m.end);
		it->dev = dev;
		it->ino = m.inode;
		it->poff = (size_t)(m.path.p - maps);
		it->plen = m.path.len;
	}
	if (has_exe && v[0].ino) {
		/* mappings of the exe's own file come after it as one */
		size_t k = 1;
		for (size_t i = 1; i < n; i++)
			if (!(v[i].dev == v[0].dev && v[i].ino == v[0].ino))
				v[k++] = v[i];
		n = k;
	}
	*vp = v;
	*capp = cap;
	return n;
}

/* The items of w->pmaps: the same list on every pass over this process, one
 * pass over maps kept for the process (w->hit) until its maps text changes
 * (ps_cap_hash_forget). */
static const struct ps_cap_item *items_of(struct walker *w, size_t *np)
{
	if (!w->have_hit) {
		int exe = w->p.have_exe && w->p.exe.len;
		w->nhit = ps_cap_exec_items(w->pmaps.buf, w->pmaps.len, exe ? w->p.exe.buf : NULL,
					    exe ? w->p.exe.len : 0, &w->hit, &w->caphit);
		w->have_hit = 1;
	}
	*np = w->nhit;
	return w->hit;
}

void ps_cap_hash_forget(struct walker *w)
{
	w->have_hit = 0;
}

/* Does the process map (dev, ino) executable (its maps text)? */
static int mapped_exec(struct walker *w, uint64_t dev, uint64_t ino)
{
	if (!w->have_pmaps)
		return 0;
	size_t n;
	const struct ps_cap_item *v = items_of(w, &n);
	for (size_t i = 0; i < n; i++)
		if (v[i].ino && v[i].dev == dev && v[i].ino == ino)
			return 1;
	return 0;
}

void ps_cap_hash_body(struct walker *w, const char *rel, const struct stat *sb, int truncated)
{
	struct run *r = w->r;
	if (!r->hashes || !r->sink->hash)
		return;
	struct hfile f;
	struct ps_buf path = PS_BUF_INIT;
	file_from_stat(&f, sb);
	uint64_t t0 = ps_mono_ns(), bytes = 0;
	int e = 0;
	/* the body's name: the link as the process sees it */
	if (strcmp(rel, "exe") == 0) {
		ps_buf_add(&path, w->p.exe.buf, w->p.exe.len);
	} else {
		ps_cap_guard_begin(w, 0);
		e = ps_cap_read_link(w->p.pidfd, rel, &path);
		ps_cap_guard_end(w);
		if (e)
			ps_buf_reset(&path);
	}
	strip_deleted(&path);
	if (w->spill_fd < 0) {
		bytes = w->data.len;
		if (digests_mem(w, w->data.buf, w->data.len, &f) < 0)
			e = ENOMEM;
	} else if (digests_begin(w) == 0) {
		/* our own spill file: local, but under the watchdog too */
		ps_cap_guard_begin(w, 0);
		e = hash_fd(w, w->spill_fd, 0, &bytes);
		ps_cap_guard_end(w);
		if (!e)
			digests_end(w, &f);
	} else {
		e = ENOMEM;
	}
	f.id.size = bytes;
	w->st->hash_files++;
	w->st->hash_bytes += bytes;
	w->st->hash_ns += ps_mono_ns() - t0;
	/* a whole body is the file: the exe step then reads nothing again
	 * (the exe's, or an fd's that the process maps executable: a data
	 * file's would only fill the set, one per process on some hosts) */
	if (f.have_hash && !truncated && sb->st_size >= 0 && bytes == (uint64_t)sb->st_size &&
	    (strcmp(rel, "exe") == 0 || mapped_exec(w, f.id.dev, f.id.ino)) &&
	    !file_find(r->hashes, &f.id))
		file_add(r->hashes, &f);
	/* w->path is the member's: proc/<pid>/exe.body */
	report(w, &f, path.buf ? path.buf : "", w->path.buf, "body",
	       e	   ? ps_errno_name(e)
	       : truncated ? "truncated"
			   : NULL);
	ps_buf_release(&path);
}

/* The item's link below its process's directory: "exe" or "map_files/<range>". */
static void item_rel(const struct ps_cap_item *it, char rel[64])
{
	snprintf(rel, 64, "%s%s", it->exe ? "exe" : "map_files/", it->exe ? "" : it->range);
}

int ps_cap_open_item(int dirfd, const struct ps_cap_item *it, const char *path, struct stat *sb)
{
	char rel[64];
	struct stat lsb;
	item_rel(it, rel);
	/* stat through the link first: never trigger an automount, never open
	 * anything but a regular file */
	if (fstatat(dirfd, rel, &lsb, AT_NO_AUTOMOUNT) == 0) {
		if (!S_ISREG(lsb.st_mode)) {
			errno = ENODEV;
			return -1;
		}
		int fd = ps_capture_open_regular(dirfd, rel, 0, sb);
		if (fd >= 0 || it->exe || (errno != EPERM && errno != EACCES))
			return fd;
	} else if (it->exe || (errno != EPERM && errno != EACCES)) {
		return -1;
	}
	/* map_files refused: the process's root and the maps pathname */
	struct ps_buf b = PS_BUF_INIT;
	ps_buf_adds(&b, "root");
	ps_buf_adds(&b, path);
	int fd = -1, e;
	if (fstatat(dirfd, b.buf, &lsb, AT_NO_AUTOMOUNT) < 0)
		e = errno;
	else if (!S_ISREG(lsb.st_mode))
		e = ENODEV;
	else
		e = (fd = ps_capture_open_regular(dirfd, b.buf, 0, sb)) < 0 ? errno : 0;
	ps_buf_release(&b);
	if (fd >= 0 &&
	    (ps_cap_dev_code(sb->st_dev) != it->dev || (uint64_t)sb->st_ino != it->ino)) {
		close(fd);
		fd = -1;
		e = ESTALE;
	}
	errno = e;
	return fd;
}

static void hash_item(struct walker *w, const struct ps_cap_item *it, const char *path)
{
	struct run *r = w->r;
	struct ps_hashes *h = r->hashes;
	const char *source = it->exe ? "exe" : "map";
	struct stat sb;
	struct hfile f;
	uint64_t t0 = ps_mono_ns();
	/* A file read before (the same libc in every process) is known from
	 * a stat through the link alone: no open, fstat and close. */
	char rel[64];
	item_rel(it, rel);
	ps_cap_guard_begin(w, 0);
	int pre = fstatat(w->p.pidfd, rel, &sb, AT_NO_AUTOMOUNT) == 0 && S_ISREG(sb.st_mode);
	ps_cap_guard_end(w);
	if (pre) {
		file_from_stat(&f, &sb);
		struct hfile *known = file_find(h, &f.id);
		if (known) {
			f = *known;
			if (!row_seen(h, &f, path))
				report(w, &f, path, NULL, source, NULL);
			return;
		}
	}
	ps_cap_guard_begin(w, 0);
	w->hash_fd = ps_cap_open_item(w->p.pidfd, it, path, &sb);
	int e = w->hash_fd < 0 ? errno : 0;
	ps_cap_guard_end(w);
	if (w->hash_fd < 0) {
		memset(&f, 0, sizeof(f));
		f.id.dev = it->dev;
		f.id.ino = it->ino;
		report(w, it->exe ? NULL : &f, path, NULL, source,
		       e == ESTALE ? "changed" : ps_errno_name(e));
		return;
	}
	file_from_stat(&f, &sb);
	struct hfile *known = file_find(h, &f.id);
	if (known) {
		f = *known; /* read before: same bytes */
	} else if (f.id.size > h->budget) {
		w->st->hash_over++;
		if (!row_seen(h, &f, path))
			report(w, &f, path, NULL, source, "budget");
		goto out;
	} else {
		uint64_t bytes = 0;
		if (ps_ahead_take(h->ahead, &f.id, f.md5, f.sha1, f.sha256) > 0) {
			/* one of procsnap's own, read whole by ahead.c: counted as read */
			f.have_hash = 1;
			bytes = f.id.size;
			w->st->hash_ahead++;
		} else {
			ps_cap_guard_begin(w, 0);
			e = digests_begin(w) < 0 ? ENOMEM : hash_fd(w, w->hash_fd, 0, &bytes);
			if (!e)
				digests_end(w, &f);
			ps_cap_guard_end(w);
		}
		h->budget -= bytes < h->budget ? bytes : h->budget;
		w->st->hash_files++;
		w->st->hash_bytes += bytes;
		w->st->hash_ns += ps_mono_ns() - t0;
		if (e) {
			report(w, &f, path, NULL, source, ps_errno_name(e));
			goto out;
		}
		file_add(h, &f);
	}
	if (!row_seen(h, &f, path))
		report(w, &f, path, NULL, source, NULL);
out:
	close(w->hash_fd);
	w->hash_fd = -1;
}

void ps_cap_hash_process(struct walker *w)
{
	if (!w->r->sink->hash)
		return;
	/* maps excluded or unreadable: read it for the mappings (a step of its
	 * own, before the numbered ones: names sort before numbers) */
	int stuck = 0;
	if (!w->have_pmaps && ps_cap_step(w, R_HASH, "maps", &stuck)) {
		ps_cap_guard_begin(w, 0);
		if (ps_read_at(w->p.pidfd, "maps", &w->pmaps, (size_t)1 << 30, NULL) != 0)
			ps_buf_reset(&w->pmaps);
		ps_cap_guard_end(w);
		w->have_pmaps = 1;
		ps_cap_hash_forget(w);
	}
	size_t n;
	const struct ps_cap_item *v = items_of(w, &n);
	struct ps_buf path = PS_BUF_INIT;
	char name[24];
	for (size_t i = 0; i < n && !ps_cap_halted(w); i++) {
		const struct ps_cap_item *it = &v[i];
		ps_buf_reset(&path);
		if (it->exe)
			ps_buf_add(&path, w->p.exe.buf, w->p.exe.len);
		else
			ps_buf_add(&path, w->pmaps.buf + it->poff, it->plen);
		strip_deleted(&path);
		snprintf(name, sizeof(name), "%zu", i);
		stuck = 0;
		struct ps_hashes *h = w->r->hashes;
		int go = ps_cap_step(w, R_HASH, name, &stuck);
		if (go && !(it->ino && hung(h, it->dev))) {
			hash_item(w, it, path.buf);
		} else if (go || stuck) {
			/* timed out, or on a device a read timed out on */
			if (stuck && it->ino && !hung(h, it->dev) &&
			    h->nhung < sizeof(h->hung) / sizeof(h->hung[0]))
				h->hung[h->nhung++] = it->dev;
			struct hfile f;
			memset(&f, 0, sizeof(f));
			f.id.dev = it->dev;
			f.id.ino = it->ino;
			report(w, it->ino ? &f : NULL, path.buf, NULL, it->exe ? "exe" : "map",
			       "ETIMEDOUT");
		}
	}
	ps_buf_release(&path);
}
