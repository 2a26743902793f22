/*
 * mempages.h - private to capture/: proc/<pid>/mem.sections, the bytes of
 * the pages the in-memory tampering rules flag (--suspicious-pages, issue 11
 * item 5; format: schema/mem-sections.md).
 */
#ifndef PS_CAPTURE_MEMPAGES_H
#define PS_CAPTURE_MEMPAGES_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "common.h"

/* Why a page was read (a section's reason field). */
#define PS_MEM_COW	1u /* private page of an executable file mapping (code patched in place) */
#define PS_MEM_ANON_X	2u /* present page of an executable anonymous mapping */
#define PS_MEM_FILELESS 3u /* present page of an executable memfd or deleted-file mapping */

struct ps_mp_result {
	int flagged;	/* pages flagged (0: no member at all) */
	int opened;	/* mem was opened: sb is valid */
	int got_data;	/* out holds a member */
	int truncated;	/* flagged pages left out for the budget */
	uint64_t bytes; /* page bytes read */
	struct stat sb; /* fstat of the mem fd */
};

/*
 * ps_mp_read - read, through pidfd's "mem" opened read-only, the pages that
 * maps (the process's maps text) and pm (its pagemap.sections member) flag,
 * in priority order (PS_MEM_COW, then ANON_X, then FILELESS), at most
 * proc_max bytes for this process and never more than *budget (decremented)
 * into out (reset first).  exe (the exe link text, may be NULL) names a
 * mapping whose FILELESS pages are not read: exe.body already holds that
 * file (its COW pages still are).  Returns 0, or an errno: opening mem failed
 * (res->got_data 0), or a read failed part way (res->got_data 1: out is a
 * valid member flagged INCOMPLETE).  res->flagged 0: nothing to read, no
 * member.
 */
int ps_mp_read(int pidfd, const char *maps, size_t maps_len, const void *pm, size_t pm_len,
	       const char *exe, size_t exe_len, uint64_t *budget, uint64_t proc_max,
	       struct ps_buf *out, struct ps_mp_result *res);

#endif
