/*
 * sysmod.c - sys/module/ beside the proc root: the second view of loaded
 * kernel modules (issue 11 item 6; volatility's hidden_modules compares the
 * module list with sysfs kobjects in a memory image).
 *
 * A rootkit module typically unlinks itself from the module list, which
 * /proc/modules prints, and sometimes from sysfs too; a loadable module has
 * a /sys/module/<name>/initstate ("live", "coming", "going") and, when it
 * taints the kernel, taint ("OE"...), built-in modules have neither.  So the
 * capture records, as extra archive members:
 *   sys/module               directory
 *   sys/module/<name>        directory, one per entry (built-in ones too)
 *   sys/module/<name>/initstate, sys/module/<name>/taint   when present
 * and triage compares them with proc/modules (rule module-hidden).
 *
 * Where: the "sys" directory next to the proc root (/proc -> /sys,
 * /host/proc -> /host/sys, a test tree's proc -> its sys).  For a live
 * procfs root it must be a sysfs; for an ordinary tree, any directory.
 * Nothing is written when there is none.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "capture_int.h"

#define DENTS_SZ  (64 * 1024)
#define NAMES_MAX 65536 /* entries taken from sys/module (there are a few hundred) */
#define VALUE_MAX 4096

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names of the directory open at fd, sorted; NULL-terminated. */
static char **list_names(int fd, size_t *n)
{
	char *dents = ps_xmalloc(DENTS_SZ);
	char **v = NULL;
	*n = 0;
	for (;;) {
		ssize_t got = getdents64(fd, dents, DENTS_SZ);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		for (ssize_t off = 0; off < got && *n < NAMES_MAX;) {
			const struct dirent64 *d = (const struct dirent64 *)(dents + off);
			off += d->d_reclen;
			if (d->d_name[0] == '.' || strchr(d->d_name, '/'))
				continue;
			v = ps_xrealloc(v, (*n + 1) * sizeof(*v));
			v[(*n)++] = ps_xstrdup(d->d_name);
		}
	}
	free(dents);
	if (*n > 1)
		qsort(v, *n, sizeof(*v), cmp_str);
	return v;
}

static void one_file(struct walker *w, int mfd, const char *mod, const char *file, struct ps_buf *b,
		     struct ps_buf *path)
{
	struct stat sb;
	if (fstatat(mfd, file, &sb, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(sb.st_mode))
		return; /* a built-in module: no such file */
	ps_buf_reset(path);
	ps_buf_addf(path, "sys/module/%s/%s", mod, file);
	int trunc = 0;
	int e = ps_read_at(mfd, file, b, VALUE_MAX, &trunc);
	if (e && b->len == 0)
		ps_cap_emit_at(w, path->buf, PS_KIND_ABSENT, &sb, NULL, 0, e);
	else
		ps_cap_emit_at(w, path->buf, PS_KIND_FILE, &sb, b->buf, b->len, e);
}

void ps_cap_sysmod(struct walker *w, const char *root)
{
	char *rp = realpath(root, NULL);
	if (!rp)
		return;
	struct statfs rfs;
	int live = statfs(rp, &rfs) == 0 && rfs.f_type == PROC_SUPER_MAGIC;
	char *slash = strrchr(rp, '/');
	if (!slash) {
		free(rp);
		return;
	}
	*slash = '\0';
	struct ps_buf path = PS_BUF_INIT, b = PS_BUF_INIT;
	ps_buf_addf(&path, "%s/sys/module", rp);
	free(rp);
	int fd = open(path.buf, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	struct statfs sfs;
	struct stat sb;
	if (fd < 0 || fstat(fd, &sb) != 0 ||
	    (live && (fstatfs(fd, &sfs) != 0 || sfs.f_type != SYSFS_MAGIC))) {
		if (fd >= 0)
			close(fd);
		ps_buf_release(&path);
		return;
	}
	ps_cap_emit_at(w, "sys/module", PS_KIND_DIR, &sb, NULL, 0, 0);
	size_t n;
	char **names = list_names(fd, &n);
	for (size_t i = 0; i < n && !ps_cap_aborted(w); i++) {
		ps_buf_reset(&path);
		ps_buf_addf(&path, "sys/module/%s", names[i]);
		if (fstatat(fd, names[i], &sb, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(sb.st_mode))
			continue;
		int mfd = openat(fd, names[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
		ps_cap_emit_at(w, path.buf, PS_KIND_DIR, &sb, NULL, 0, mfd < 0 ? errno : 0);
		if (mfd < 0)
			continue;
		one_file(w, mfd, names[i], "initstate", &b, &path);
		one_file(w, mfd, names[i], "taint", &b, &path);
		close(mfd);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	close(fd);
	ps_buf_release(&path);
	ps_buf_release(&b);
}
