/*
 * watch.c - ps_capture_run: the walk (capture.c) in a worker thread, under
 * a watchdog that never lets one blocking operation stop the capture
 * (DESIGN 3, "never hang").
 *
 * The calling thread is the watchdog.  It wakes every tick (a quarter of the
 * read timeout, at most 50 ms) and looks at the worker's `seq`
 * (capture_int.h): odd and unchanged for --read-timeout means the worker is
 * stuck in one open/read/readlink/stat/listing (a hung FUSE or NFS file
 * behind exe or fd/N, a process in D state holding its mmap_lock...).  A
 * pagemap read ticks (guard_tick) after every chunk: long but progressing
 * is not stuck.
 * Then, under the hub lock:
 *   - it swaps `seq` for SEQ_GONE; if the operation returned meanwhile the
 *     swap fails and nothing happens;
 *   - it records the stuck path ABSENT with ETIMEDOUT (in walk order: the
 *     worker had not recorded it yet);
 *   - it builds a cursor from the stuck worker's position stack, duplicates
 *     the fds of the directories it was in, copies their listings and the
 *     process's facts so far (starttime, exe, fds with bodies, threads...),
 *     and starts a replacement worker that resumes right after the stuck
 *     step (capture.c, cur_check).
 * The stuck thread is abandoned: it stays blocked in the kernel (such waits
 * are killable or end when the file system answers).  If it ever returns,
 * guard_end sees SEQ_GONE, waits for the hub lock (the watchdog is done with
 * its state), closes its directory fds, frees its buffers and exits,
 * touching nothing shared, and calling no OpenSSL function (the process
 * may be in exit(), OpenSSL's atexit cleanup under way: its digest
 * contexts are kept, not freed, ps_cap_hash_orphan; a hash read checks
 * the watchdog before it updates them).  An abandoned worker keeps at most
 * its directory fds (one per depth, a handful), the fd of the stuck file
 * and its buffers until its operation returns: the leak is bounded by the
 * number of timeouts, each listed in the archive.
 *
 * The whole-capture deadline (opts->deadline_ns) sets `stop`: the worker
 * stops before its next step, a worker inside an operation is taken over
 * at once (its path recorded ETIMEDOUT) by a replacement that only records
 * the current process, and every pid not started is recorded ABSENT with
 * ETIMEDOUT.
 */
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include "capture.h"
#include "capture_int.h"
#include "crossview.h"

#define DEFAULT_TIMEOUT_NS (5 * 1000000000ull)
#define TICK_MAX_NS	   (50 * 1000000ull)
#define TICK_MIN_NS	   (1000000ull)

/* ---- hub and workers ------------------------------------------------------------ */

static struct hub *hub_new(void)
{
	struct hub *h = ps_xcalloc(1, sizeof(*h));
	pthread_mutex_init(&h->mu, NULL);
	atomic_init(&h->refs, 1);
	return h;
}

static void hub_put(struct hub *h)
{
	if (atomic_fetch_sub_explicit(&h->refs, 1, memory_order_acq_rel) == 1) {
		pthread_mutex_destroy(&h->mu);
		free(h);
	}
}

static void tick(void *ctx)
{
	ps_cap_guard_tick(ctx);
}

static struct walker *walker_new(struct run *r)
{
	struct walker *w = ps_xcalloc(1, sizeof(*w));
	w->r = r;
	w->o = r->o;
	w->st = r->st;
	w->hub = r->hub;
	atomic_fetch_add_explicit(&w->hub->refs, 1, memory_order_relaxed);
	atomic_init(&w->seq, 0);
	ps_buf_init(&w->path);
	ps_buf_init(&w->data);
	ps_buf_init(&w->link);
	ps_buf_init(&w->p.exe);
	ps_buf_init(&w->pmaps);
	ps_buf_init(&w->cur.names);
	for (size_t i = 0; i <= MAX_DEPTH; i++)
		ps_buf_init(&w->lv[i].names);
	ps_buf_init(&w->pid_tpl.names);
	ps_buf_init(&w->tid_tpl.names);
	for (size_t i = 0; i < MAX_DEPTH + 2; i++)
		w->dfd[i] = w->cur.fd[i] = -1;
	w->p.pidfd = -1;
	w->spill_fd = -1;
	w->hash_fd = -1;
	w->pdev = r->rootdev;
	ps_buf_init(&w->pmsec);
	ps_buf_init(&w->mem);
	w->dents = ps_xmalloc(DENTS_SZ);
	if (!r->o->no_pagemap && r->procfs) {
		w->pm = ps_pm_create(r->no_scan, r->soft_dirty);
		ps_pm_set_tick(w->pm, tick, w);
	}
	ps_buf_adds(&w->path, "proc");
	return w;
}

/* Private state only: never r (it may be gone when an abandoned worker
 * wakes up), never an fd it does not own (dfd[0] is the root's). */
static void walker_free(struct walker *w)
{
	for (size_t i = 1; i < MAX_DEPTH + 2; i++) {
		if (w->dfd[i] >= 0)
			close(w->dfd[i]);
		if (w->cur.fd[i] >= 0)
			close(w->cur.fd[i]);
	}
	for (size_t i = 0; i <= MAX_DEPTH; i++)
		ps_cap_listing_release(&w->lv[i]);
	ps_cap_listing_release(&w->pid_tpl);
	ps_cap_listing_release(&w->tid_tpl);
	ps_buf_release(&w->path);
	ps_buf_release(&w->data);
	ps_buf_release(&w->link);
	ps_buf_release(&w->p.exe);
	ps_buf_release(&w->pmaps);
	ps_buf_release(&w->cur.names);
	free(w->p.body_fds);
	ps_pm_free(w->pm);
	free(w->dents);
	if (w->spill_fd >= 0)
		close(w->spill_fd);
	ps_buf_release(&w->pmsec);
	ps_buf_release(&w->mem);
	ps_cap_hash_release(w);
	ps_pf_release(w->pfb);
	free(w);
}

void ps_cap_gone(struct walker *w)
{
	struct hub *h = w->hub;
	/* The watchdog holds the lock while it reads this worker's state. */
	pthread_mutex_lock(&h->mu);
	pthread_mutex_unlock(&h->mu);
	ps_cap_hash_orphan(w);
	walker_free(w);
	hub_put(h);
	pthread_exit(NULL);
}

static void *worker_main(void *arg)
{
	pthread_setname_np(pthread_self(), "ps-walk"); /* for perf and top */
	struct walker *w = arg;
	ps_cap_walk(w);
	pthread_mutex_lock(&w->r->wmu);
	w->finished = 1;
	pthread_cond_signal(&w->r->wcv);
	pthread_mutex_unlock(&w->r->wmu);
	return NULL;
}

/* ---- taking over from a stuck worker ------------------------------------------------ */

/* Make nw resume right after the operation w is stuck in (w is blocked in a
 * syscall: everything it published before guard_begin is stable). */
static void resume_from(struct walker *nw, const struct walker *w)
{
	struct cursor *c = &nw->cur;
	size_t off[MAX_DEPTH + 2];
	c->active = 1;
	c->n = w->depth;
	c->matched = 0;
	for (int d = 1; d <= c->n; d++) {
		off[d] = c->names.len;
		ps_buf_add(&c->names, w->pos[d].name, strlen(w->pos[d].name) + 1);
	}
	for (int d = 1; d <= c->n; d++) {
		c->comp[d].rank = w->pos[d].rank;
		c->comp[d].name = c->names.buf + off[d];
	}
	for (int d = 1; d < c->n; d++) {
		if (w->dfd[d] >= 0)
			c->fd[d] = fcntl(w->dfd[d], F_DUPFD_CLOEXEC, 0);
		if (w->lst[d])
			ps_cap_listing_copy(&nw->lv[d], w->lst[d]);
	}
	if (!w->p.active)
		return;
	/* The process's facts so far. */
	nw->p.active = 1;
	nw->p.pid = w->p.pid;
	nw->p.starttime = w->p.starttime;
	nw->p.partial = w->p.partial;
	nw->p.hidden = w->p.hidden;
	nw->p.nthreads = w->p.nthreads;
	nw->p.have_exe = w->p.have_exe;
	nw->p.on_disk_err = w->p.on_disk_err;
	nw->p.on_disk = w->p.on_disk;
	ps_buf_add(&nw->p.exe, w->p.exe.buf, w->p.exe.len);
	if (w->p.nbody_fds) {
		nw->p.cap_body_fds = nw->p.nbody_fds = w->p.nbody_fds;
		nw->p.body_fds = ps_xmalloc(w->p.nbody_fds * sizeof(int));
		memcpy(nw->p.body_fds, w->p.body_fds, w->p.nbody_fds * sizeof(int));
	}
	nw->have_pmaps = w->have_pmaps;
	if (w->have_pmaps)
		ps_buf_add(&nw->pmaps, w->pmaps.buf, w->pmaps.len);
	nw->pdev = w->pdev;
	nw->p.cur_tid = w->p.cur_tid;
	nw->have_pmsec = w->have_pmsec;
	if (w->have_pmsec)
		ps_buf_add(&nw->pmsec, w->pmsec.buf, w->pmsec.len);
}

/* w has been inside operation `seen` for too long (or the deadline passed):
 * abandon it and start a replacement.  Returns the worker to watch now: w
 * when the operation returned meanwhile, NULL when no thread could be
 * started (the run is then aborted with err filled). */
static struct walker *take_over(struct run *r, struct walker *w, uint64_t seen)
{
	struct hub *h = r->hub;
	pthread_mutex_lock(&h->mu);
	uint64_t exp = seen;
	if (!atomic_compare_exchange_strong_explicit(&w->seq, &exp, SEQ_GONE, memory_order_acq_rel,
						     memory_order_acquire)) {
		pthread_mutex_unlock(&h->mu);
		return w;
	}
	pthread_detach(w->thread);
	r->st->timeouts++;
	if (w->op_record)
		ps_cap_emit_path(r, w->path.buf, PS_KIND_ABSENT, NULL, NULL, NULL, 0, ETIMEDOUT, 0);
	struct walker *nw = walker_new(r);
	resume_from(nw, w);
	pthread_mutex_unlock(&h->mu);
	int e = pthread_create(&nw->thread, NULL, worker_main, nw);
	if (e) {
		walker_free(nw);
		hub_put(r->hub);
		r->aborted = 1;
		ps_err_set(r->err, e, "cannot start a worker thread: %s", strerror(e));
		return NULL;
	}
	return nw;
}

/* ---- the watchdog -------------------------------------------------------------------- */

/* Wait until w finished or `ns` passed; 1 when finished. */
static int wait_worker(struct run *r, struct walker *w, uint64_t ns)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	uint64_t t = (uint64_t)ts.tv_nsec + ns;
	ts.tv_sec += (time_t)(t / 1000000000u);
	ts.tv_nsec = (long)(t % 1000000000u);
	pthread_mutex_lock(&r->wmu);
	while (!w->finished && pthread_cond_timedwait(&r->wcv, &r->wmu, &ts) != ETIMEDOUT)
		;
	int done = w->finished;
	pthread_mutex_unlock(&r->wmu);
	return done;
}

/* Watch workers until the walk is over.  Returns the last worker (finished,
 * not joined yet) or NULL. */
static struct walker *watch(struct run *r, struct walker *w)
{
	uint64_t timeout = r->o->read_timeout_ns ? r->o->read_timeout_ns : DEFAULT_TIMEOUT_NS;
	uint64_t tick = timeout / 4;
	if (tick > TICK_MAX_NS)
		tick = TICK_MAX_NS;
	if (tick < TICK_MIN_NS)
		tick = TICK_MIN_NS;
	uint64_t deadline = r->o->deadline_ns ? r->start_ns + r->o->deadline_ns : 0;
	uint64_t seen = 0, since = 0;
	while (!wait_worker(r, w, tick)) {
		uint64_t now = ps_mono_ns();
		int late = deadline && now >= deadline;
		if (late)
			atomic_store_explicit(&r->stop, 1, memory_order_relaxed);
		uint64_t s = atomic_load_explicit(&w->seq, memory_order_acquire);
		if (!(s & 1)) {
			seen = 0;
			continue;
		}
		if (s != seen) {
			seen = s;
			since = now;
		}
		if (!late && now - since < timeout)
			continue;
		struct walker *nw = take_over(r, w, s);
		if (!nw)
			return NULL;
		if (nw != w)
			seen = 0;
		w = nw;
	}
	return w;
}

/* The deadline passed: every pid the walk did not reach is recorded
 * ABSENT with ETIMEDOUT (in walk order, after everything else). */
static void record_unreached(struct run *r)
{
	if (r->phase != PH_SYS && r->phase != PH_PIDS)
		return;
	char path[32];
	for (size_t i = r->phase == PH_SYS ? 0 : r->idx; i < r->npids && !r->aborted; i++) {
		int pid = r->pids[i];
		if (r->o->npids && pid > 0 && ps_cap_known_has(r, pid))
			continue; /* a repeat of --pid, or a thread walked already */
		ps_cap_known_set(r, pid);
		snprintf(path, sizeof(path), "proc/%d", pid);
		ps_cap_emit_path(r, path, PS_KIND_ABSENT, NULL, NULL, NULL, 0, ETIMEDOUT, 0);
		r->st->not_captured++;
	}
}

/* ---- run ------------------------------------------------------------------------------ */

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

int ps_cap_spawn_detached(void *(*fn)(void *), void *arg, const char *name)
{
	pthread_t t;
	pthread_attr_t at;
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	int e = pthread_create(&t, &at, fn, arg);
	pthread_attr_destroy(&at);
	if (!e && name)
		pthread_setname_np(t, name);
	return e;
}

int ps_cap_wait_set(pthread_cond_t *cv, pthread_mutex_t *mu, const int *flag, int secs)
{
	struct timespec until;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += secs;
	while (!*flag && pthread_cond_timedwait(cv, mu, &until) != ETIMEDOUT)
		;
	return *flag != 0;
}

void ps_cap_cond_init_mono(pthread_cond_t *c)
{
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(c, &ca);
	pthread_condattr_destroy(&ca);
}

int ps_capture_run(const struct ps_capture_opts *opts, const struct ps_capture_sink *sink,
		   struct ps_capture_stats *stats, struct ps_err *err)
{
	struct ps_capture_stats local;
	if (!stats)
		stats = &local;
	memset(stats, 0, sizeof(*stats));
	const char *root = opts->root ? opts->root : "/proc";
	int rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return ps_err_set(err, errno, "open %s: %s", root, strerror(errno));
	struct stat rsb;
	if (fstat(rootfd, &rsb) < 0) {
		int e = errno;
		close(rootfd);
		return ps_err_set(err, e, "stat %s: %s", root, strerror(e));
	}

	struct run *r = ps_xcalloc(1, sizeof(*r));
	r->o = opts;
	r->sink = sink;
	r->st = stats;
	r->err = err;
	r->hub = hub_new();
	r->start_ns = opts->start_ns ? opts->start_ns : ps_mono_ns();
	r->rootfd = rootfd;
	r->rootdev = rsb.st_dev;
	atomic_init(&r->stop, 0);
	pthread_mutex_init(&r->wmu, NULL);
	ps_cap_cond_init_mono(&r->wcv);
	struct statfs sfs;
	r->procfs = fstatfs(rootfd, &sfs) == 0 && sfs.f_type == PROC_SUPER_MAGIC;
	r->self = (int)getpid();
	ps_buf_init(&r->root.names);
	stats->soft_dirty = -1;
	r->soft_dirty = -1;
	if (!opts->no_pagemap && r->procfs) {
		r->no_scan = opts->no_pagemap_scan;
		stats->soft_dirty = r->soft_dirty = ps_capture_soft_dirty();
	}
	r->next_progress = ps_mono_ns() + 100000000ull;
	/* Census first (crossview.c): its counts must bracket one listing,
	 * before the walk has spent seconds. */
	r->xv = r->procfs ? ps_xv_create(rootfd, root) : NULL;
	r->mem_budget = opts->suspicious_max ? opts->suspicious_max : PS_SUSPICIOUS_MAX_DEFAULT;
	/* hashes of what runs: read through a live procfs only (exe, map_files) */
	if (!opts->no_hash && r->procfs) {
		/* our own files ahead when the walk will come to us: every pid of
		 * a procfs that shows this process ("self" resolves there) */
		char self[32];
		int ahead = !(opts->pids && opts->npids) &&
			    readlinkat(rootfd, "self", self, sizeof(self)) > 0;
		r->hashes =
		    ps_hashes_new(opts->hash_max ? opts->hash_max : PS_HASH_MAX_DEFAULT, ahead);
	}

	struct walker *w = walker_new(r);
	int ret = 0;
	struct listing *l0 = &r->root;
	int e = ps_cap_list_dir(w, rootfd, l0);
	if (e) {
		ret = ps_err_set(err, e, "list %s: %s", root, strerror(e));
		goto out;
	}
	/* The pid numbers of the listing: the one per-process list we keep. */
	r->pids = ps_xmalloc((l0->n ? l0->n : 1) * sizeof(*r->pids));
	for (size_t i = 0; i < l0->n; i++) {
		int id = ps_cap_parse_id(l0->ent[i]);
		if (id > 0) {
			r->pids[r->npids++] = id;
			ps_cap_known_set(r, id);
			ps_cap_note_id(r, id);
			ps_xv_see(r->xv, id, PS_XV_LISTED);
		}
	}
	qsort(r->pids, r->npids, sizeof(*r->pids), cmp_int);
	if (opts->pids && opts->npids) {
		/* Only the pids asked for, in the order given; one absent gets
		 * an ABSENT record (capture_pid does that); repeats once. */
		free(r->pids);
		r->pids = ps_xmalloc(opts->npids * sizeof(*r->pids));
		memcpy(r->pids, opts->pids, opts->npids * sizeof(*r->pids));
		r->npids = opts->npids;
		if (r->known)
			memset(r->known, 0, r->known_words * sizeof(*r->known));
	}
	r->procs_total = (int)r->npids;
	/* the next pids' files read ahead (prefetch.c): a live procfs, every
	 * path wanted (an --exclude glob is the walk's to apply) */
	if (r->procfs && !opts->no_read_ahead && !opts->nexcludes && r->npids > 1) {
		r->pf = ps_pf_start(rootfd, r->rootdev, r->pids, r->npids);
		ps_cap_pf_prime(w);
	}

	/* The root itself, then the walk. */
	ps_cap_emit_path(r, "proc", PS_KIND_DIR, &rsb, NULL, NULL, 0, 0, 0);
	r->phase = PH_SYS;
	e = pthread_create(&w->thread, NULL, worker_main, w);
	if (e) {
		ret = ps_err_set(err, e, "cannot start a worker thread: %s", strerror(e));
		goto out;
	}
	w = watch(r, w);
	if (w)
		pthread_join(w->thread, NULL);
	if (atomic_load(&r->stop)) {
		stats->deadline_reached = 1;
		record_unreached(r);
	}
	if (w && !r->aborted && r->xv) {
		/* procsnap/crossview.json: what the views saw (crossview.c) */
		ps_xv_finish(r->xv, rootfd, &w->data);
		ps_cap_emit_at(w, PS_CROSSVIEW_PATH, PS_KIND_FILE, NULL, w->data.buf, w->data.len,
			       0);
	}
	ps_cap_progress(r, ps_mono_ns(), 1);
	if (r->aborted)
		ret = ps_err_prefix(err, "capture");
out:
	if (w) {
		walker_free(w);
		hub_put(r->hub);
	}
	int pf_stuck = ps_pf_stop(r->pf);
	ps_xv_free(r->xv);
	/* an ahead.c thread left blocked keeps the process alive like a stuck
	 * worker (cli/supervise.c then lets the parent exit at once) */
	int ahead_stuck = ps_hashes_free(r->hashes);
	free(r->pids);
	ps_cap_listing_release(&r->root);
	free(r->known);
	free(r->netns);
	pthread_mutex_destroy(&r->wmu);
	pthread_cond_destroy(&r->wcv);
	/* What still holds the hub besides us: abandoned, still blocked. */
	stats->stuck =
	    (uint64_t)(atomic_load(&r->hub->refs) - 1) + (uint64_t)ahead_stuck + (uint64_t)pf_stuck;
	hub_put(r->hub);
	free(r);
	close(rootfd);
	return ret;
}
