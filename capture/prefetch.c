/*
 * prefetch.c - the files of the next processes, read ahead on a thread of
 * their own (issue 9).
 *
 * The walk is one thread and its time is the kernel's: generating status,
 * smaps, sched, stack... for every process and thread, a read at a time.  On
 * two cores the other core had the index builder, the formatter and zstd,
 * and time to spare.  This thread reads, for the pids after the one the walk
 * is in, the regular files of proc/<pid>/ the walk will read (the names
 * published before the walk: ps_pf_names), those of fdinfo/ and those of
 * every task/<tid>/, into a batch per pid.  When the walk comes to a pid it
 * claims that pid's batch (ps_pf_claim), as far as it got, and takes a
 * file's content and stat from it instead of opening the file; whatever the
 * batch does not hold (not reached yet, an error, a file over ITEM_MAX, a
 * name that is not a regular file of this procfs) the walk reads itself, as
 * it always did.  So the walk never waits for this thread, and a file read
 * here is recorded exactly as the walk would have recorded it: the same
 * open flags, fstat, read loop (ps_read_fd) and checks (a regular file with
 * a read bit, on the pid directory's device: a file mounted over is left to
 * the walk, which records it EXDEV).
 *
 * Identity: a batch is used only for the pid directory the walk opened
 * itself, the same device and inode (a procfs pid directory's inode is
 * that process's: a pid reused by another process is a new inode).
 *
 * Bounds: at most AHEAD batches wait, HOLD_MAX bytes of content in all,
 * each at most BATCH_MAX bytes (the thread starts while the walk reads the
 * system files, so it can be well ahead when the walk comes to the pids).  When
 * the walk claims a pid it passes every earlier batch (freed) and the one
 * being filled, if it is that pid's, stops where it is.
 *
 * Never hang: this thread's reads are not watched.  One that blocks (a
 * process stuck in the kernel) stops the read-ahead there and nothing else:
 * the walk claims what the batch holds and reads the rest itself under its
 * own timeout.  ps_pf_stop waits for the thread at most STOP_WAIT (it looks
 * between files) and says whether it was left blocked; the state is freed
 * by whichever of the two lets go last (as ahead.c does), and a claimed
 * batch belongs to the walker that claimed it.
 */
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "capture_int.h"

#define AHEAD	  64		      /* batches ready at most */
#define HOLD_MAX  ((size_t)8 << 20)   /* content bytes of the ready batches */
#define ITEM_MAX  ((size_t)256 << 10) /* a larger file is left to the walk */
#define BATCH_MAX ((size_t)4 << 20)   /* content bytes of one batch */
#define LINK_BUF  4096		      /* a link target this long or longer is left to the walk */
#define NAMES_MAX 65536		      /* entries of one fd/, ns/ or map_files/ read ahead */
#define TIDS_MAX  4096		      /* entries of one fdinfo/ or task/ read ahead */
#define STOP_WAIT 2 /* seconds ps_pf_stop waits for the thread (it looks between files) */

struct pf_item {
	size_t key;  /* offset in arena: "status", "task/123/stat" */
	size_t data; /* offset in arena */
	size_t len;
	struct stat sb;
	uint64_t read_at; /* ps_mono_ns() when the read ended */
};

struct ps_pf_batch {
	struct ps_pf_batch *next;
	size_t idx; /* in the walk's pid list */
	int pid;
	dev_t dev; /* the pid directory read: its device and inode */
	ino_t ino;
	struct ps_buf arena;
	struct pf_item *it;
	size_t n, cap;
	struct ps_hmap keys; /* XXH3 of a key -> item index (made at claim) */
};

struct ps_pf {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	atomic_int refs;
	int stop, exited;
	int rootfd;
	dev_t rootdev;
	int *pids;
	size_t npids;
	size_t claimed;		     /* the walk is at pids[claimed - 1]: start after it */
	struct ps_pf_batch *ready;   /* filled, in idx order */
	size_t nready, held;	     /* ready batches, their content bytes */
	struct ps_pf_batch *filling; /* the batch this thread appends to; NULL once claimed */
	int named;		     /* the walk published the names */
	struct ps_buf names;	     /* pid names, "\0", then tid names, NUL-separated */
	size_t npid, ntid, nlink, nldir;
	int fdinfo; /* read fdinfo/<fd> too */
};

static void batch_free(struct ps_pf_batch *b)
{
	if (!b)
		return;
	ps_buf_release(&b->arena);
	free(b->it);
	ps_hmap_release(&b->keys);
	free(b);
}

static void put(struct ps_pf *pf)
{
	if (atomic_fetch_sub(&pf->refs, 1) != 1)
		return;
	for (struct ps_pf_batch *b = pf->ready, *nx; b; b = nx) {
		nx = b->next;
		batch_free(b);
	}
	batch_free(pf->filling);
	ps_buf_release(&pf->names);
	free(pf->pids);
	close(pf->rootfd);
	pthread_mutex_destroy(&pf->mu);
	pthread_cond_destroy(&pf->cv);
	free(pf);
}

/* Keep what was read of prefix + name (got: 1; its bytes or target in buf,
 * its stat in sb) in b.  0: go on; -1: b was claimed or the thread is told
 * to stop (then b is left alone: a claim may have freed it). */
static int keep(struct ps_pf *pf, struct ps_pf_batch *b, int got, const char *prefix,
		const char *name, const struct ps_buf *buf, const struct stat *sb)
{
	uint64_t at = ps_mono_ns();
	pthread_mutex_lock(&pf->mu);
	int mine = !pf->stop && pf->filling == b;
	if (mine && got && b->arena.len + buf->len <= BATCH_MAX) {
		PS_XGROW(b->it, b->n, b->cap, 64);
		struct pf_item *it = &b->it[b->n++];
		it->key = b->arena.len;
		ps_buf_adds(&b->arena, prefix);
		ps_buf_adds(&b->arena, name);
		ps_buf_add(&b->arena, "", 1);
		it->data = b->arena.len;
		ps_buf_add(&b->arena, buf->buf, buf->len);
		it->len = buf->len;
		it->sb = *sb;
		it->read_at = at;
	}
	pthread_mutex_unlock(&pf->mu);
	return mine ? 0 : -1;
}

/* Read dfd/name whole into buf, as the walk reads it (do_file); 0 with *sb,
 * or -1 when the walk should read it itself. */
static int read_one(int dfd, const char *name, dev_t dev, struct ps_buf *buf, struct stat *sb)
{
	int fd = openat(dfd, name, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	if (fd < 0)
		return -1;
	int truncated = 0, ok = fstat(fd, sb) == 0 && S_ISREG(sb->st_mode) &&
				(sb->st_mode & 0444) != 0 && sb->st_dev == dev;
	if (ok)
		ok = ps_read_fd(fd, buf, ITEM_MAX, &truncated) == 0 && !truncated;
	close(fd);
	return ok ? 0 : -1;
}

/* Read the file dfd/name (key: prefix + name) into b.  As keep(). */
static int add(struct ps_pf *pf, struct ps_pf_batch *b, dev_t dev, int dfd, const char *prefix,
	       const char *name, struct ps_buf *buf)
{
	struct stat sb;
	int got = read_one(dfd, name, dev, buf, &sb) == 0;
	return keep(pf, b, got, prefix, name, buf, &sb);
}

/* Read the link dfd/name (key: prefix + name) into b: its lstat and target,
 * as the walk reads them (visit_at, do_link).  As keep(). */
static int add_link(struct ps_pf *pf, struct ps_pf_batch *b, dev_t dev, int dfd, const char *prefix,
		    const char *name, struct ps_buf *buf)
{
	struct stat sb;
	ps_buf_reset(buf);
	ps_buf_grow(buf, LINK_BUF);
	ssize_t n = -1;
	if (fstatat(dfd, name, &sb, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT) == 0 &&
	    S_ISLNK(sb.st_mode) && sb.st_dev == dev)
		n = readlinkat(dfd, name, buf->buf, LINK_BUF);
	/* a target of LINK_BUF bytes may be longer: the walk's */
	int got = n >= 0 && n < (ssize_t)LINK_BUF;
	buf->len = got ? (size_t)n : 0;
	return keep(pf, b, got, prefix, name, buf, &sb);
}

/* The entries of directory dfd/name but . and .. (at most max),
 * NUL-separated into out. */
static size_t list_names(int dfd, const char *name, struct ps_buf *out, size_t max)
{
	ps_buf_reset(out);
	int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	size_t n = 0;
	struct dirent *de;
	while (n < max && (de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		ps_buf_add(out, de->d_name, strlen(de->d_name) + 1);
		n++;
	}
	closedir(d);
	return n;
}

/* Every entry of dfd/dir (at most max) into b, as a file or (link) as a
 * link.  As keep(). */
static int add_dir(struct ps_pf *pf, struct ps_pf_batch *b, dev_t dev, int dfd, const char *dir,
		   size_t max, int link, struct ps_buf *buf, struct ps_buf *names)
{
	size_t n = list_names(dfd, dir, names, max);
	int fd = n ? openat(dfd, dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) : -1;
	char prefix[300];
	snprintf(prefix, sizeof(prefix), "%s/", dir);
	const char *q = names->buf;
	int r = 0;
	for (size_t k = 0; r == 0 && fd >= 0 && k < n; k++, q += strlen(q) + 1)
		r = link ? add_link(pf, b, dev, fd, prefix, q, buf)
			 : add(pf, b, dev, fd, prefix, q, buf);
	if (fd >= 0)
		close(fd);
	return r;
}

/* Fill b (pid `pid`) with the published names.  b is touched only under
 * the lock, while it is still pf->filling (a claim may free it). */
static void fill(struct ps_pf *pf, struct ps_pf_batch *b, int pid, struct ps_buf *buf,
		 struct ps_buf *lnbuf)
{
	char name[32];
	snprintf(name, sizeof(name), "%d", pid);
	int dfd = openat(pf->rootfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct stat sb;
	if (dfd < 0)
		return;
	if (fstat(dfd, &sb) != 0 || sb.st_dev != pf->rootdev) {
		close(dfd);
		return;
	}
	pthread_mutex_lock(&pf->mu);
	int mine = pf->filling == b;
	if (mine) {
		b->dev = sb.st_dev;
		b->ino = sb.st_ino;
	}
	pthread_mutex_unlock(&pf->mu);
	/* names is written once, before named is set, and never again */
	const char *p = pf->names.buf;
	for (size_t i = 0; mine && i < pf->npid; i++, p += strlen(p) + 1)
		mine = add(pf, b, sb.st_dev, dfd, "", p, buf) == 0;
	const char *tnames = p;
	const char *lnames = tnames;
	for (size_t i = 0; i < pf->ntid; i++)
		lnames += strlen(lnames) + 1;
	p = lnames;
	for (size_t i = 0; mine && i < pf->nlink; i++, p += strlen(p) + 1)
		mine = add_link(pf, b, sb.st_dev, dfd, "", p, buf) == 0;
	/* fd/, ns/, map_files/ (their links) and fdinfo/, task/: listed here
	 * too (the walk lists them itself) */
	for (size_t i = 0; mine && i < pf->nldir; i++, p += strlen(p) + 1)
		mine = add_dir(pf, b, sb.st_dev, dfd, p, NAMES_MAX, 1, buf, lnbuf) == 0;
	if (mine && pf->fdinfo)
		mine = add_dir(pf, b, sb.st_dev, dfd, "fdinfo", TIDS_MAX, 0, buf, lnbuf) == 0;
	size_t nt = mine && pf->ntid ? list_names(dfd, "task", lnbuf, TIDS_MAX) : 0;
	const char *q = lnbuf->buf;
	for (size_t t = 0; mine && t < nt; t++, q += strlen(q) + 1) {
		char prefix[300];
		snprintf(prefix, sizeof(prefix), "task/%s/", q);
		int tdfd = openat(dfd, prefix, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (tdfd < 0)
			continue;
		p = tnames;
		for (size_t i = 0; mine && i < pf->ntid; i++, p += strlen(p) + 1)
			mine = add(pf, b, sb.st_dev, tdfd, prefix, p, buf) == 0;
		close(tdfd);
	}
	close(dfd);
}

static void *pf_main(void *arg)
{
	struct ps_pf *pf = arg;
	struct ps_buf buf = PS_BUF_INIT, lnbuf = PS_BUF_INIT;
	size_t idx = 0;
	pthread_mutex_lock(&pf->mu);
	for (;;) {
		while (!pf->stop &&
		       (!pf->named || pf->nready >= AHEAD || pf->held + BATCH_MAX > HOLD_MAX))
			pthread_cond_wait(&pf->cv, &pf->mu);
		if (idx < pf->claimed)
			idx = pf->claimed;
		if (pf->stop || idx >= pf->npids)
			break;
		struct ps_pf_batch *b = ps_xcalloc(1, sizeof(*b));
		int pid = pf->pids[idx];
		b->idx = idx;
		b->pid = pid;
		ps_buf_init(&b->arena);
		ps_hmap_init(&b->keys, 0);
		pf->filling = b;
		pthread_mutex_unlock(&pf->mu);
		fill(pf, b, pid, &buf, &lnbuf);
		pthread_mutex_lock(&pf->mu);
		if (pf->filling == b) {
			/* not claimed meanwhile: it waits, in idx order */
			pf->filling = NULL;
			struct ps_pf_batch **pp = &pf->ready;
			while (*pp)
				pp = &(*pp)->next;
			*pp = b;
			pf->nready++;
			pf->held += b->arena.len;
		}
		idx++;
	}
	pf->exited = 1;
	pthread_cond_broadcast(&pf->cv);
	pthread_mutex_unlock(&pf->mu);
	ps_buf_release(&buf);
	ps_buf_release(&lnbuf);
	put(pf);
	return NULL;
}

struct ps_pf *ps_pf_start(int rootfd, dev_t rootdev, const int *pids, size_t npids)
{
	struct ps_pf *pf = ps_xcalloc(1, sizeof(*pf));
	pf->rootfd = fcntl(rootfd, F_DUPFD_CLOEXEC, 3);
	if (pf->rootfd < 0 || !npids) {
		if (pf->rootfd >= 0)
			close(pf->rootfd);
		free(pf);
		return NULL;
	}
	pthread_mutex_init(&pf->mu, NULL);
	ps_cap_cond_init_mono(&pf->cv);
	atomic_init(&pf->refs, 2);
	pf->rootdev = rootdev;
	pf->pids = ps_xmalloc(npids * sizeof(*pids));
	memcpy(pf->pids, pids, npids * sizeof(*pids));
	pf->npids = npids;
	ps_buf_init(&pf->names);
	if (ps_cap_spawn_detached(pf_main, pf, "ps-prefetch") != 0) {
		atomic_store(&pf->refs, 1);
		put(pf);
		return NULL;
	}
	return pf;
}

void ps_pf_names(struct ps_pf *pf, size_t from, const struct ps_pf_names *nm)
{
	struct ps_buf b = PS_BUF_INIT;
	for (size_t i = 0; i < nm->npid; i++)
		ps_buf_add(&b, nm->pid[i], strlen(nm->pid[i]) + 1);
	for (size_t i = 0; i < nm->ntid; i++)
		ps_buf_add(&b, nm->tid[i], strlen(nm->tid[i]) + 1);
	for (size_t i = 0; i < nm->nlink; i++)
		ps_buf_add(&b, nm->link[i], strlen(nm->link[i]) + 1);
	for (size_t i = 0; i < nm->nldir; i++)
		ps_buf_add(&b, nm->ldir[i], strlen(nm->ldir[i]) + 1);
	pthread_mutex_lock(&pf->mu);
	if (!pf->named) {
		if (pf->claimed < from)
			pf->claimed = from;
		pf->names = b;
		pf->npid = nm->npid;
		pf->ntid = nm->ntid;
		pf->nlink = nm->nlink;
		pf->nldir = nm->nldir;
		pf->fdinfo = nm->fdinfo;
		pf->named = 1;
		pthread_cond_broadcast(&pf->cv);
	} else {
		ps_buf_release(&b);
	}
	pthread_mutex_unlock(&pf->mu);
}

int ps_pf_named(struct ps_pf *pf)
{
	pthread_mutex_lock(&pf->mu);
	int n = pf->named;
	pthread_mutex_unlock(&pf->mu);
	return n;
}

struct ps_pf_batch *ps_pf_claim(struct ps_pf *pf, size_t idx, int pid, dev_t dev, ino_t ino)
{
	struct ps_pf_batch *take = NULL, *drop = NULL;
	pthread_mutex_lock(&pf->mu);
	if (pf->claimed < idx + 1)
		pf->claimed = idx + 1;
	while (pf->ready && pf->ready->idx <= idx) {
		struct ps_pf_batch *b = pf->ready;
		pf->ready = b->next;
		pf->nready--;
		pf->held -= b->arena.len;
		if (b->idx == idx && !take) {
			take = b;
		} else {
			b->next = drop;
			drop = b;
		}
	}
	if (pf->filling && pf->filling->idx <= idx) {
		/* the thread leaves it alone from here (add, pf_main) */
		struct ps_pf_batch *b = pf->filling;
		pf->filling = NULL;
		if (b->idx == idx && !take) {
			take = b;
		} else {
			b->next = drop;
			drop = b;
		}
	}
	pthread_cond_broadcast(&pf->cv);
	pthread_mutex_unlock(&pf->mu);
	while (drop) {
		struct ps_pf_batch *nx = drop->next;
		batch_free(drop);
		drop = nx;
	}
	/* another pid, another directory (a pid reused: another inode), or empty */
	if (take && (take->pid != pid || take->dev != dev || take->ino != ino || !take->n)) {
		batch_free(take);
		take = NULL;
	}
	if (!take)
		return NULL;
	for (size_t i = 0; i < take->n; i++) {
		const char *k = take->arena.buf + take->it[i].key;
		ps_hmap_put(&take->keys, XXH3_64bits(k, strlen(k)), i);
	}
	return take;
}

const void *ps_pf_find(const struct ps_pf_batch *b, const char *key, size_t *len, struct stat *sb,
		       uint64_t *read_at)
{
	if (!b)
		return NULL;
	size_t at = 0;
	uint64_t i;
	while (ps_hmap_next(&b->keys, XXH3_64bits(key, strlen(key)), &at, &i)) {
		const struct pf_item *it = &b->it[i];
		if (strcmp(b->arena.buf + it->key, key) == 0) {
			*len = it->len;
			*sb = it->sb;
			*read_at = it->read_at;
			return b->arena.buf + it->data;
		}
	}
	return NULL;
}

void ps_pf_release(struct ps_pf_batch *b)
{
	batch_free(b);
}

int ps_pf_stop(struct ps_pf *pf)
{
	if (!pf)
		return 0;
	pthread_mutex_lock(&pf->mu);
	pf->stop = 1;
	pthread_cond_broadcast(&pf->cv);
	int stuck = !ps_cap_wait_set(&pf->cv, &pf->mu, &pf->exited, STOP_WAIT);
	pthread_mutex_unlock(&pf->mu);
	put(pf);
	return stuck;
}
