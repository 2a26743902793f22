/*
 * capture_int.h - private to capture/: what the walk (capture.c) lends the
 * helper files (sysmod.c emits records of its own, crossview.c parses ids).
 */
#ifndef PS_CAPTURE_INT_H
#define PS_CAPTURE_INT_H

#include <stddef.h>
#include <sys/stat.h>

#include "capture.h"

struct walker;

/* Emit one record at archive path `path` (the --exclude globs apply; the
 * walk's own path is left as it was).  sb may be NULL. */
void ps_cap_emit_at(struct walker *w, const char *path, enum ps_kind kind, const struct stat *sb,
		    const void *data, size_t len, int err);
/* Has the sink stopped the capture? */
int ps_cap_aborted(const struct walker *w);

/* A canonical decimal number (no sign, no leading zero) that fits an int,
 * or -1: a pid, tid or fd name. */
int ps_cap_parse_id(const char *s);

/* sys/module/ beside the proc root (sysmod.c). */
void ps_cap_sysmod(struct walker *w, const char *root);

#endif
