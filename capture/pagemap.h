/*
 * pagemap.h - private to capture/: build a process's pagemap.sections member
 * (schema/pagemap.md) from its maps text and its /proc/PID/pagemap.
 */
#ifndef PS_CAPTURE_PAGEMAP_H
#define PS_CAPTURE_PAGEMAP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "common.h"

struct ps_pm;

/* Per-run state: buffers, and whether PAGEMAP_SCAN is used.  no_scan forces
 * plain reads; soft_dirty (1, 0, -1 unknown) goes into every header.  The
 * scan is only used when soft-dirty is known to be absent (see pagemap.c). */
struct ps_pm *ps_pm_create(int no_scan, int soft_dirty);
void ps_pm_free(struct ps_pm *pm); /* NULL ok */
/* Progress: tick(ctx) after every pread chunk (256 KiB of entries) and every
 * PAGEMAP_SCAN call, so that a long but progressing read is not taken for a
 * stuck one (watch.c). */
void ps_pm_set_tick(struct ps_pm *pm, void (*tick)(void *ctx), void *ctx);

/* What one ps_pm_read did. */
struct ps_pm_result {
	int opened;	     /* pagemap was opened: sb is valid */
	int got_data;	     /* out holds a member (maybe cut short, see err) */
	int truncated;	     /* stopped at max_bytes */
	int scanned;	     /* PAGEMAP_SCAN found the runs */
	uint64_t bytes_read; /* entry bytes pread */
	struct stat sb;	     /* fstat of the pagemap fd */
};

/*
 * ps_pm_read - the member of the process whose /proc directory is pidfd,
 * for the mappings in maps (its maps text), into out (reset first).
 * max_bytes caps the mapped range examined, 8 bytes per page (0: no cap).
 * Returns 0, or an errno: open failed (res->got_data 0: record ABSENT) or a
 * read failed part way (res->got_data 1: out is a valid member flagged
 * INCOMPLETE; record it as a FILE with that errno).
 */
int ps_pm_read(struct ps_pm *pm, int pidfd, const char *maps, size_t maps_len, uint64_t max_bytes,
	       struct ps_buf *out, struct ps_pm_result *res);

#endif
