/*
 * outfile.c - create an output file (an index, a merged index) the way the
 * archive is created: under a temporary name in the target directory, mode
 * 0600, renamed into place only when complete, never over an existing file
 * unless forced.  The "exists" check before the work is only there to fail
 * early; what guarantees no file is replaced is RENAME_NOREPLACE at the end.
 */
#include "store.h"
#include "store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Directory part of path ("." if none) and the base name (both malloc'ed). */
static void split(const char *path, char **dir, char **base)
{
	const char *slash = strrchr(path, '/');
	if (!slash) {
		*dir = ps_xstrdup(".");
		*base = ps_xstrdup(path);
	} else {
		*dir = slash == path ? ps_xstrdup("/") : ps_xstrndup(path, (size_t)(slash - path));
		*base = ps_xstrdup(slash + 1);
	}
}

int ps_out_create(struct ps_outfile *o, const char *path, int force, struct ps_err *err)
{
	return ps_out_create_as(o, path, NULL, force, err);
}

int ps_out_create_as(struct ps_outfile *o, const char *path, const char *tmp, int force,
		     struct ps_err *err)
{
	struct stat st;
	char *dir = NULL, *base = NULL;
	memset(o, 0, sizeof(*o));
	o->dirfd = -1;
	if (!force && fstatat(AT_FDCWD, path, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return ps_err_set(err, EEXIST, "%s exists (use --force to replace it)", path);
	split(path, &dir, &base);
	if (!*base) {
		ps_err_set(err, EISDIR, "%s: names a directory, not a file", path);
		goto fail;
	}
	o->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (o->dirfd < 0) {
		ps_err_set(err, errno, "cannot write to %s: %s", dir, strerror(errno));
		goto fail;
	}
	struct ps_buf t = PS_BUF_INIT;
	int fd;
	if (tmp) {
		/* A name known in advance (a signal handler may have to remove
		 * it before this call returns); it must be in the same directory. */
		ps_buf_adds(&t, tmp);
		fd = open(t.buf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	} else {
		ps_buf_addf(&t, "%s/.%s.XXXXXX.tmp", dir, base);
		/* mkostemps: O_CREAT|O_EXCL, mode 0600, a name nobody else holds. */
		fd = mkostemps(t.buf, 4, O_CLOEXEC);
	}
	if (fd < 0) {
		ps_err_set(err, errno, "cannot create a temporary file in %s: %s", dir,
			   strerror(errno));
		ps_buf_release(&t);
		goto fail;
	}
	close(fd);
	o->tmp = ps_buf_detach(&t, NULL);
	o->path = ps_xstrdup(path);
	o->force = force;
	free(dir);
	free(base);
	return 0;
fail:
	free(dir);
	free(base);
	ps_out_abort(o);
	return -1;
}

/* Base name of a path inside o's directory. */
static const char *base_of(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

int ps_out_commit(struct ps_outfile *o, struct ps_err *err)
{
	int fd = open(o->tmp, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || fsync(fd) < 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		ps_err_set(err, e, "%s: cannot sync: %s", o->tmp, strerror(e));
		goto fail;
	}
	close(fd);
	const char *from = base_of(o->tmp), *to = base_of(o->path);
	if (renameat2(o->dirfd, from, o->dirfd, to, o->force ? 0 : RENAME_NOREPLACE) < 0) {
		int e = errno;
		/* A file system without RENAME_NOREPLACE (EINVAL): link(2)
		 * also refuses an existing name, atomically. */
		if (e == EINVAL && !o->force && linkat(o->dirfd, from, o->dirfd, to, 0) == 0) {
			unlinkat(o->dirfd, from, 0);
		} else {
			if (e == EINVAL && !o->force)
				e = errno;
			if (e == EEXIST)
				ps_err_set(err, e,
					   "%s appeared meanwhile (use --force to replace it)",
					   o->path);
			else
				ps_err_set(err, e, "%s: cannot rename into place: %s", o->path,
					   strerror(e));
			goto fail;
		}
	}
	fsync(o->dirfd);
	free(o->tmp);
	o->tmp = NULL;
	ps_out_abort(o);
	return 0;
fail:
	ps_out_abort(o);
	return -1;
}

void ps_out_abort(struct ps_outfile *o)
{
	if (o->tmp && o->dirfd >= 0)
		unlinkat(o->dirfd, base_of(o->tmp), 0);
	if (o->dirfd >= 0)
		close(o->dirfd);
	free(o->tmp);
	free(o->path);
	o->tmp = NULL;
	o->path = NULL;
	o->dirfd = -1;
}
