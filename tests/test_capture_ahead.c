/*
 * test_capture_ahead.c - procsnap's own files hashed ahead (capture/ahead.c).
 *
 * This test process is the "procsnap" here: ahead.c reads its /proc/self.
 *   - every file it maps executable, and its exe, are read whole and their
 *     digests are the files' own (against sha256sum, sha1sum, md5sum);
 *   - a file is found by device, inode, mtime and size: another size, or
 *     another file, is not taken;
 *   - a file claimed by the walk before the thread came to it is skipped by
 *     the thread (the walk reads it itself); the budget bounds what is read;
 *   - ps_ahead_stop waits for the thread (briefly), says nothing is left
 *     behind, and frees all (ASan's leak check).
 */
#include "t.h"

#include "capture_int.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

/* The file's identity computed here from stat(2), not by ps_cap_fid_of. */
static int key_of(const char *path, struct ps_cap_fid *k)
{
	struct stat sb;
	if (stat(path, &sb) < 0)
		return -1;
	k->dev = (uint64_t)major(sb.st_dev) << 20 | minor(sb.st_dev);
	k->ino = (uint64_t)sb.st_ino;
	k->size = (uint64_t)sb.st_size;
	k->mtime_ns = (int64_t)sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec;
	return 0;
}

static void hex(const unsigned char *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
}

/* `tool file` -> its hex digest */
static void tool_digest(const char *tool, const char *file, char *d, size_t n)
{
	char cmd[PATH_MAX + 64];
	d[0] = '\0';
	snprintf(cmd, sizeof(cmd), "%s '%s'", tool, file);
	FILE *f = popen(cmd, "r");
	if (!f)
		return;
	if (fgets(d, (int)n, f))
		d[strcspn(d, " \n")] = '\0';
	pclose(f);
}

static void wait_done(struct ps_ahead *a)
{
	for (int i = 0; i < 2000 && !ps_ahead_done(a); i++) {
		struct timespec ts = {0, 10 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	CHECK(ps_ahead_done(a));
}

/* The file of the first executable mapping of /proc/self/maps named by a
 * path containing `part`, into out. */
static int mapped(const char *part, char *out, size_t n)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[PATH_MAX + 128];
	int found = 0;
	while (f && !found && fgets(line, sizeof(line), f)) {
		char perms[8];
		int off = 0;
		if (sscanf(line, "%*s %7s %*s %*s %*s %n", perms, &off) == 1 && perms[2] == 'x' &&
		    off > 0 && line[off] == '/' && strstr(line + off, part)) {
			line[strcspn(line, "\n")] = '\0';
			snprintf(out, n, "%s", line + off);
			found = 1;
		}
	}
	if (f)
		fclose(f);
	return found;
}

static void check_taken(struct ps_ahead *a, const char *path)
{
	struct ps_cap_fid k;
	unsigned char md5[16], sha1[20], sha256[32];
	char got[65], want[200];
	CHECK_INT(key_of(path, &k), 0);
	CHECK_INT(ps_ahead_take(a, &k, md5, sha1, sha256), 1);
	hex(sha256, 32, got);
	tool_digest("sha256sum", path, want, sizeof(want));
	CHECK_STR(got, want);
	hex(sha1, 20, got);
	tool_digest("sha1sum", path, want, sizeof(want));
	CHECK_STR(got, want);
	hex(md5, 16, got);
	tool_digest("md5sum", path, want, sizeof(want));
	CHECK_STR(got, want);
	/* another size, or another inode: not this file */
	struct ps_cap_fid bigger = k, other = k;
	bigger.size++;
	other.ino++;
	CHECK_INT(ps_ahead_take(a, &bigger, md5, sha1, sha256), 0);
	CHECK_INT(ps_ahead_take(a, &other, md5, sha1, sha256), 0);
}

static void own_files_digested(void)
{
	char exe[PATH_MAX], libc[PATH_MAX];
	CHECK(realpath("/proc/self/exe", exe) != NULL);
	CHECK(mapped("libc.so", libc, sizeof(libc)));
	struct ps_ahead *a = ps_ahead_start(UINT64_MAX);
	CHECK(a != NULL);
	if (!a)
		return;
	wait_done(a);
	check_taken(a, exe);
	check_taken(a, libc);
	CHECK_INT(ps_ahead_stop(a), 0); /* it ended: nothing left behind */
}

static void claimed_and_budget(void)
{
	char exe[PATH_MAX];
	struct ps_cap_fid k;
	unsigned char md5[16], sha1[20], sha256[32];
	CHECK(realpath("/proc/self/exe", exe) != NULL);
	CHECK_INT(key_of(exe, &k), 0);
	/* a budget smaller than the exe: the exe is not read ahead (-1: the
	 * caller's to read) */
	struct ps_ahead *a = ps_ahead_start(k.size - 1);
	CHECK(a != NULL);
	if (!a)
		return;
	wait_done(a);
	CHECK_INT(ps_ahead_take(a, &k, md5, sha1, sha256), -1);
	CHECK_INT(ps_ahead_stop(a), 0); /* it ended: nothing left behind */
	/* claimed first: the thread leaves it (taken again: still not read) */
	a = ps_ahead_start(UINT64_MAX);
	CHECK(a != NULL);
	if (!a)
		return;
	int rc = 0;
	for (int i = 0; i < 20000 && rc == 0 && !ps_ahead_done(a); i++) {
		/* 0 until the thread has opened the file (then -1: ours now), or
		 * 1 when it was quicker and read it already */
		rc = ps_ahead_take(a, &k, md5, sha1, sha256);
		struct timespec ts = {0, 50 * 1000};
		nanosleep(&ts, NULL);
	}
	wait_done(a);
	if (rc == -1) /* claimed: never read there */
		CHECK_INT(ps_ahead_take(a, &k, md5, sha1, sha256), 0);
	else
		printf("(the thread read the exe before it could be claimed: rc %d)\n", rc);
	CHECK_INT(ps_ahead_stop(a), 0); /* it ended: nothing left behind */
	/* stopped at once: no wait, nothing left behind */
	a = ps_ahead_start(UINT64_MAX);
	CHECK_INT(ps_ahead_stop(a), 0); /* it ended: nothing left behind */
}

static const struct t_case t_cases[] = {T(own_files_digested), T(claimed_and_budget), {0, 0}};
T_MAIN(t_cases)
