/*
 * ahead.c - procsnap's own executable and the files it maps executable,
 * hashed ahead on a thread of their own (issue 9).
 *
 * A capture hashes every file a captured process maps executable (hash.c),
 * procsnap itself included: with Debian's libarchive that brings libxml2 and
 * ICU, about 55 MB (31 MB of it libicudata), 0.15-0.2 s of the walk's CPU in
 * every capture, a third of the read floor at N=500.  Those files are known
 * before the walk starts (/proc/self/maps) and the walk reaches procsnap's
 * own pid late (pids ascend), so a thread started with the capture digests
 * them on the other core while the walk reads /proc; the walk takes the
 * digests when it gets there, for the file with the same device, inode,
 * mtime and size (hash.c's identity of a file, from an fstat of the opened
 * file on both sides).
 *
 * The walk never waits for this thread: a file it reaches first (libc,
 * mapped by pid 1 as well) is claimed and skipped here; one being read here
 * when the walk reaches it is read by the walk too.  Files are taken largest
 * first, at most the hash budget of bytes.
 *
 * The end: ps_ahead_stop asks the thread to stop and waits for it (it looks
 * between chunks: a few ms), but at most STOP_WAIT: the thread reads only
 * files procsnap runs from, yet a read can still block (a hung network file
 * system), and the capture must not.  Every OpenSSL call of the thread is
 * made under cmu after checking that it was not told to stop (to free its
 * contexts: that it was not given up on), so none runs once ps_ahead_stop
 * has returned, when the process may be exiting and OpenSSL's atexit
 * cleanup freeing what those calls use.  The state is freed by whichever of
 * the two lets go last.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "capture.h"
#include "capture_int.h"

#define CHUNK	  ((size_t)1 << 20)
#define STOP_WAIT 2   /* seconds ps_ahead_stop waits for the thread */
#define FILES_MAX 256 /* executable files of procsnap itself (a few dozen) */

enum { A_NEW, A_KEYED, A_RUNNING, A_DONE, A_CLAIMED, A_FAILED };

struct aent {
	struct ps_cap_item it; /* as the walk lists it (hash.c), below /proc/self */
	char *path;	       /* the maps name: opened when map_files is refused */
	int fd;
	struct ps_cap_fid id; /* the file, from fstat once opened (hash.c's identity) */
	int state;	      /* A_*; under mu */
	unsigned char md5[16], sha1[20], sha256[32];
};

struct ps_ahead {
	pthread_mutex_t mu; /* the entries' states */
	atomic_int refs, done;
	/* the end (and every OpenSSL call of the thread) */
	pthread_mutex_t cmu;
	pthread_cond_t ccv;
	int stop, exited, abandoned;
	struct aent *v;
	size_t n;
	uint64_t budget;
};

static void put(struct ps_ahead *a)
{
	if (atomic_fetch_sub(&a->refs, 1) != 1)
		return;
	for (size_t i = 0; i < a->n; i++) {
		free(a->v[i].path);
		if (a->v[i].fd >= 0)
			close(a->v[i].fd);
	}
	free(a->v);
	pthread_mutex_destroy(&a->mu);
	pthread_mutex_destroy(&a->cmu);
	pthread_cond_destroy(&a->ccv);
	free(a);
}

/* Open e's file as the walk does (ps_cap_open_item) and key it by its
 * fstat. */
static void open_one(int selffd, struct aent *e)
{
	struct stat sb;
	e->fd = ps_cap_open_item(selffd, &e->it, e->path ? e->path : "", &sb);
	if (e->fd >= 0)
		ps_cap_fid_of(&sb, &e->id);
}

static int stopped(struct ps_ahead *a)
{
	pthread_mutex_lock(&a->cmu);
	int s = a->stop;
	pthread_mutex_unlock(&a->cmu);
	return s;
}

enum { D_BEGIN, D_UPDATE, D_END };

/* One OpenSSL step, unless told to stop: 0, or -1. */
static int crypto(struct ps_ahead *a, int op, void *ctx[3], const void *p, size_t n, struct aent *e)
{
	int rc = -1;
	pthread_mutex_lock(&a->cmu);
	if (!a->stop) {
		rc = 0;
		if (op == D_BEGIN)
			rc = ps_digests_begin(ctx);
		else if (op == D_UPDATE)
			ps_digests_update(ctx, p, n);
		else
			ps_digests_end(ctx, e->md5, e->sha1, e->sha256);
	}
	pthread_mutex_unlock(&a->cmu);
	return rc;
}

/* Read e's file whole into the digests; 0, or -1 (error, stopped, or not
 * the size its fstat gave: the walk then reads it itself). */
static int digest_one(struct ps_ahead *a, struct aent *e, void *ctx[3], char *buf)
{
	if (crypto(a, D_BEGIN, ctx, NULL, 0, e) < 0)
		return -1;
	uint64_t off = 0;
	for (;;) {
		ssize_t n = pread(e->fd, buf, CHUNK, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		if (crypto(a, D_UPDATE, ctx, buf, (size_t)n, e) < 0)
			return -1;
		off += (uint64_t)n;
	}
	if (off != e->id.size)
		return -1;
	return crypto(a, D_END, ctx, NULL, 0, e);
}

static int by_size_desc(const void *x, const void *y)
{
	const struct aent *const *a = x, *const *b = y;
	return (*a)->id.size < (*b)->id.size ? 1 : (*a)->id.size > (*b)->id.size ? -1 : 0;
}

static void *ahead_main(void *arg)
{
	struct ps_ahead *a = arg;
	pthread_setname_np(pthread_self(), "ps-ahead"); /* for perf and top */
	int selffd = open("/proc/self", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct aent **order = ps_xmalloc((a->n ? a->n : 1) * sizeof(*order));
	for (size_t i = 0; i < a->n; i++) {
		struct aent *e = &a->v[i];
		open_one(selffd, e);
		order[i] = e;
		pthread_mutex_lock(&a->mu);
		if (e->fd >= 0)
			e->state = A_KEYED;
		pthread_mutex_unlock(&a->mu);
	}
	if (selffd >= 0)
		close(selffd);
	qsort(order, a->n, sizeof(*order), by_size_desc);
	void *ctx[3] = {NULL, NULL, NULL};
	char *buf = ps_xmalloc(CHUNK);
	uint64_t left = a->budget;
	for (size_t i = 0; i < a->n && !stopped(a); i++) {
		struct aent *e = order[i];
		pthread_mutex_lock(&a->mu);
		int go = e->state == A_KEYED && e->id.size <= left;
		if (go)
			e->state = A_RUNNING;
		pthread_mutex_unlock(&a->mu);
		if (!go)
			continue;
		int rc = digest_one(a, e, ctx, buf);
		left -= e->id.size;
		pthread_mutex_lock(&a->mu);
		e->state = rc == 0 ? A_DONE : A_FAILED;
		pthread_mutex_unlock(&a->mu);
	}
	free(buf);
	free(order);
	atomic_store(&a->done, 1);
	pthread_mutex_lock(&a->cmu);
	if (!a->abandoned)
		ps_digests_free(ctx);
	a->exited = 1;
	pthread_cond_broadcast(&a->ccv);
	pthread_mutex_unlock(&a->cmu);
	put(a);
	return NULL;
}

struct ps_ahead *ps_ahead_start(uint64_t budget)
{
	struct ps_buf maps = PS_BUF_INIT, exe = PS_BUF_INIT;
	if (ps_read_at(AT_FDCWD, "/proc/self/maps", &maps, (size_t)16 << 20, NULL) != 0 ||
	    ps_cap_read_link(AT_FDCWD, "/proc/self/exe", &exe) != 0) {
		ps_buf_release(&maps);
		ps_buf_release(&exe);
		return NULL;
	}
	/* the exe, then each executable file mapping once: the walk's list */
	struct ps_cap_item *items = NULL;
	size_t cap = 0;
	size_t n = ps_cap_exec_items(maps.buf, maps.len, exe.buf, exe.len, &items, &cap);
	struct ps_ahead *a = ps_xcalloc(1, sizeof(*a));
	a->n = n < FILES_MAX ? n : FILES_MAX;
	a->v = ps_xcalloc(a->n ? a->n : 1, sizeof(*a->v));
	a->budget = budget;
	for (size_t i = 0; i < a->n; i++) {
		struct aent *e = &a->v[i];
		e->it = items[i];
		e->fd = -1;
		if (!e->it.exe) {
			e->path = ps_xmalloc(e->it.plen + 1);
			memcpy(e->path, maps.buf + e->it.poff, e->it.plen);
			e->path[e->it.plen] = '\0';
		}
	}
	free(items);
	ps_buf_release(&maps);
	ps_buf_release(&exe);
	pthread_mutex_init(&a->mu, NULL);
	pthread_mutex_init(&a->cmu, NULL);
	ps_cap_cond_init_mono(&a->ccv);
	atomic_init(&a->refs, 2);
	atomic_init(&a->done, 0);
	if (ps_cap_spawn_detached(ahead_main, a, NULL) != 0) {
		atomic_store(&a->refs, 1);
		put(a);
		return NULL;
	}
	return a;
}

int ps_ahead_take(struct ps_ahead *a, const struct ps_cap_fid *id, unsigned char md5[16],
		  unsigned char sha1[20], unsigned char sha256[32])
{
	if (!a)
		return 0;
	int got = 0;
	pthread_mutex_lock(&a->mu);
	for (size_t i = 0; i < a->n; i++) {
		struct aent *e = &a->v[i];
		if (e->state == A_NEW || e->id.dev != id->dev || e->id.ino != id->ino ||
		    e->id.mtime_ns != id->mtime_ns || e->id.size != id->size)
			continue;
		if (e->state == A_DONE) {
			memcpy(md5, e->md5, 16);
			memcpy(sha1, e->sha1, 20);
			memcpy(sha256, e->sha256, 32);
			got = 1;
		} else if (e->state == A_KEYED) {
			e->state = A_CLAIMED; /* the walk reads it now: not here too */
			got = -1;
		}
		break;
	}
	pthread_mutex_unlock(&a->mu);
	return got;
}

int ps_ahead_done(struct ps_ahead *a)
{
	return a && atomic_load(&a->done);
}

int ps_ahead_stop(struct ps_ahead *a)
{
	if (!a)
		return 0;
	pthread_mutex_lock(&a->cmu);
	a->stop = 1;
	int left = !ps_cap_wait_set(&a->ccv, &a->cmu, &a->exited, STOP_WAIT);
	if (left)
		a->abandoned = 1; /* blocked in a read: it will call OpenSSL no more */
	pthread_mutex_unlock(&a->cmu);
	put(a);
	return left;
}
