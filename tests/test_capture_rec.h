/*
 * test_capture_rec.h - a recording sink for the capture tests: every record
 * and process event is copied into memory, in order, so a test can look at
 * the whole walk afterwards.  Hooks let a test act in the middle of a walk
 * (kill a process after its stat record, start a thread...).
 */
#ifndef PS_TEST_CAPTURE_REC_H
#define PS_TEST_CAPTURE_REC_H

#include <stdlib.h>
#include <string.h>

#include "capture.h"
#include "t.h"

struct rec {
	char *path;
	enum ps_kind kind;
	uint32_t mode, uid;
	char *target;
	char *data;
	size_t len;
	int err;
	uint64_t read_ns;
};

struct recorder {
	struct rec *r;
	size_t n, cap;
	struct ps_capture_proc *p;
	size_t np, pcap;
	int keep_data; /* copy FILE bytes (off for a full live walk) */
	int progress_calls;
	int last_done, last_total;
	void (*hook)(struct recorder *rc, const struct rec *r);
	void (*phook)(struct recorder *rc, const struct ps_capture_proc *p);
	void *arg;
};

static char *rec_dup(const void *p, size_t n)
{
	char *s = malloc(n + 1);
	if (!s)
		abort();
	if (n)
		memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

static int rec_record(void *ctx, const struct ps_capture_record *in, struct ps_err *err)
{
	struct recorder *rc = ctx;
	(void)err;
	if (rc->n == rc->cap) {
		rc->cap = rc->cap ? rc->cap * 2 : 256;
		rc->r = realloc(rc->r, rc->cap * sizeof(*rc->r));
		if (!rc->r)
			abort();
	}
	struct rec *r = &rc->r[rc->n++];
	memset(r, 0, sizeof(*r));
	r->path = rec_dup(in->path, strlen(in->path));
	r->kind = in->kind;
	r->mode = in->mode;
	r->uid = in->uid;
	r->target = in->target ? rec_dup(in->target, strlen(in->target)) : NULL;
	r->len = in->len;
	r->data = rc->keep_data && in->kind == PS_KIND_FILE ? rec_dup(in->data, in->len) : NULL;
	r->err = in->err;
	r->read_ns = in->read_ns;
	if (rc->hook)
		rc->hook(rc, r);
	return 0;
}

static int rec_process(void *ctx, const struct ps_capture_proc *in, struct ps_err *err)
{
	struct recorder *rc = ctx;
	(void)err;
	if (rc->np == rc->pcap) {
		rc->pcap = rc->pcap ? rc->pcap * 2 : 64;
		rc->p = realloc(rc->p, rc->pcap * sizeof(*rc->p));
		if (!rc->p)
			abort();
	}
	rc->p[rc->np++] = *in;
	if (rc->phook)
		rc->phook(rc, in);
	return 0;
}

static void rec_progress(void *ctx, int done, int total, uint64_t files, uint64_t bytes)
{
	struct recorder *rc = ctx;
	(void)files;
	(void)bytes;
	rc->progress_calls++;
	rc->last_done = done;
	rc->last_total = total;
}

static void rec_free(struct recorder *rc)
{
	for (size_t i = 0; i < rc->n; i++) {
		free(rc->r[i].path);
		free(rc->r[i].target);
		free(rc->r[i].data);
	}
	free(rc->r);
	free(rc->p);
	rc->r = NULL;
	rc->p = NULL;
	rc->n = rc->cap = rc->np = rc->pcap = 0;
}

/* Run one capture into rc (which must be zeroed or freed first, hooks set). */
static int rec_run(struct recorder *rc, const struct ps_capture_opts *o,
		   struct ps_capture_stats *st)
{
	struct ps_capture_sink sink = {rc, rec_record, rec_process, rec_progress, NULL};
	struct ps_err err;
	memset(&err, 0, sizeof(err));
	int r = ps_capture_run(o, &sink, st, &err);
	if (r != 0)
		fprintf(stderr, "capture failed: %s\n", err.msg);
	return r;
}

static inline const struct rec *rec_find(const struct recorder *rc, const char *path)
{
	for (size_t i = 0; i < rc->n; i++)
		if (strcmp(rc->r[i].path, path) == 0)
			return &rc->r[i];
	return NULL;
}

static inline size_t rec_count(const struct recorder *rc, const char *path)
{
	size_t n = 0;
	for (size_t i = 0; i < rc->n; i++)
		n += strcmp(rc->r[i].path, path) == 0;
	return n;
}

static inline const struct ps_capture_proc *rec_proc(const struct recorder *rc, int pid)
{
	for (size_t i = 0; i < rc->np; i++)
		if (rc->p[i].pid == pid)
			return &rc->p[i];
	return NULL;
}

/* Records whose path starts with prefix. */
static inline size_t rec_count_prefix(const struct recorder *rc, const char *prefix)
{
	size_t n = 0, pl = strlen(prefix);
	for (size_t i = 0; i < rc->n; i++)
		n += strncmp(rc->r[i].path, prefix, pl) == 0;
	return n;
}

#endif
