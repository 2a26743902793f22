/*
 * readfloor.c - the read floor (DESIGN 8): read exactly the files a capture
 * reads, in one thread, and throw the bytes away.  No capture can be faster,
 * so capture time is reported as a ratio to this, measured in the same run.
 *
 *   readfloor [--root DIR] [--no-threads] [--pagemap] [--pagemap-max BYTES]
 *             [--no-smaps] [--numa-maps] [--list]
 *
 * The selection mirrors capture/capture.c (keep the two in step):
 *   - top level: every non-pid entry, recursively, never following a symlink
 *     (readlink instead), never entering a directory on another device
 *     (binfmt_misc automount), never opening kcore kmsg sysrq-trigger
 *     kpageflags kpagecount kpagecgroup vmcore, nor a file with no read bit;
 *   - per pid: every entry except mem clear_refs pagemap (and numa_maps unless
 *     --numa-maps, smaps with --no-smaps); subdirectories (fd/ fdinfo/ ns/
 *     attr/ map_files/ ...) recursively; links are readlink()ed;
 *   - task/ is always listed; unless --no-threads each task/<tid>/ gets its
 *     per-thread files only (stat status comm sched schedstat wchan syscall
 *     stack children io cgroup cpuset personality arch_status);
 *   - net/ once per network namespace (keyed by the ns/net inode);
 *   - --pagemap: after maps, pagemap is pread() for each mapped range, at
 *     most --pagemap-max bytes per process (default 256 MiB, as capture);
 *   - bodies (capture's --exe-bodies, default deleted): the content behind
 *     exe and every fd/N whose link text ends in " (deleted)" or starts with
 *     "/memfd:", read through the link when it is a regular file, at most
 *     --exe-body-max bytes each (default 64 MiB);
 *   - what capture hashes (unless --no-hash): the exe and every executable
 *     file mapping of maps (through map_files/<range>), each distinct file
 *     (device and inode) read once per run, a body read whole counting as
 *     its file, at most --hash-max bytes in all (default 512 MiB; a file
 *     that does not fit is not read, as capture).
 * Not done (they are capture's own work, not reading): the hidden-pid sweep,
 * metadata (fstat/lstat per entry; --stat adds them, to measure what they
 * cost: an fstat after each open, an lstat of each link and directory),
 * parsing, hashing, compression, output.
 *
 * Like capture, a procfs pid directory and a task/<tid> directory are listed
 * once and the listing reused (the kernel lists its fixed tables whole).
 *
 * Everything goes through one 64 KiB buffer; each file is read until read()
 * returns 0.  Prints one line of key=value counts on stdout.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#define BUF_SZ	  (64 * 1024)
#define MAX_DEPTH 48
#define MAX_ENTS  512 /* per template listing; pid dirs have ~60 entries */

enum bodies { BODIES_NONE, BODIES_DELETED, BODIES_ALL };

struct opts {
	const char *root;
	int no_threads, pagemap, no_smaps, numa_maps, list, no_hash, stat;
	enum bodies bodies;
	unsigned long long pagemap_max; /* per-process cap on pagemap bytes */
	unsigned long long body_max;	/* per body */
	unsigned long long hash_max;	/* per run */
};

struct counts {
	uint64_t files, links, dirs, errors, bytes, pagemap_bytes;
	uint64_t bodies, body_bytes, hashed, hash_bytes;
};

/* A listing kept for reuse: names and d_types. */
struct tpl {
	int n;
	char *name[MAX_ENTS];
	unsigned char type[MAX_ENTS];
};

/* A growable copy of one file (maps, for --pagemap). */
struct keep {
	char *p;
	size_t len, cap;
};

static void keep_add(struct keep *k, const char *data, size_t n)
{
	if (k->len + n + 1 > k->cap) {
		while (k->len + n + 1 > k->cap)
			k->cap = k->cap ? k->cap * 2 : BUF_SZ;
		k->p = realloc(k->p, k->cap);
		if (!k->p)
			abort();
	}
	memcpy(k->p + k->len, data, n);
	k->len += n;
	k->p[k->len] = '\0';
}

static char buf[BUF_SZ];
static char dents[BUF_SZ];
static struct counts ct;
static struct opts o;
static dev_t rootdev;
static uint64_t *netns;
static size_t netns_n, netns_cap;

static const char *const never_sys[] = {"kcore",      "kmsg",	     "sysrq-trigger", "kpageflags",
					"kpagecount", "kpagecgroup", "vmcore",	      NULL};
static const char *const never_pid[] = {"mem", "clear_refs", "pagemap", NULL};
static const char *const thread_files[] = {
    "stat",	"status", "comm",   "sched",  "schedstat",   "wchan",	    "syscall", "stack",
    "children", "io",	  "cgroup", "cpuset", "personality", "arch_status", NULL};

/* --list only: the archive-style path of the entry being visited. */
static char path[16384] = "proc";
static size_t plen = 4;

static size_t enter(const char *name)
{
	size_t mark = plen;
	if (o.list) {
		size_t n = strlen(name);
		if (plen + n + 2 < sizeof(path)) {
			path[plen++] = '/';
			memcpy(path + plen, name, n + 1);
			plen += n;
		}
	}
	return mark;
}

static void leave(size_t mark)
{
	plen = mark;
	path[mark] = '\0';
}

/* --list: one line per entry: kind (F file, L link, D dir, E error), path,
 * bytes read (links: target length). */
static void note(char kind, uint64_t n)
{
	if (o.list)
		printf("%c %s %llu\n", kind, path, (unsigned long long)n);
}

static int in_list(const char *const *l, const char *s)
{
	for (; *l; l++)
		if (strcmp(*l, s) == 0)
			return 1;
	return 0;
}

static int is_dots(const char *s)
{
	return s[0] == '.' && (s[1] == '\0' || (s[1] == '.' && s[2] == '\0'));
}

static int is_pid(const char *s)
{
	if (*s < '1' || *s > '9')
		return 0;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

/* Read dfd/name fully, 64 KiB at a time, and discard it.  Counted as a file
 * when opened and not failing before the first byte (as capture records it).
 * keep: if not NULL, the bytes are also collected there (maps, for --pagemap). */
static void read_file(int dfd, const char *name, struct keep *keep)
{
	size_t mark = enter(name);
	if (keep)
		keep->len = 0;
	int fd = openat(dfd, name, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	if (fd < 0) {
		ct.errors++;
		note('E', 0);
		leave(mark);
		return;
	}
	struct stat sb;
	if (o.stat)
		(void)fstat(fd, &sb);
	uint64_t total = 0;
	int err = 0;
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = 1;
			break;
		}
		if (n == 0)
			break;
		total += (uint64_t)n;
		if (keep)
			keep_add(keep, buf, (size_t)n);
	}
	close(fd);
	ct.errors += (uint64_t)err;
	ct.files += !err || total > 0;
	ct.bytes += total;
	note(!err || total > 0 ? 'F' : 'E', total);
	leave(mark);
}

static void do_file(int dfd, const char *name)
{
	read_file(dfd, name, NULL);
}

/* readlink into buf; the length, or -1. */
static ssize_t do_link(int dfd, const char *name)
{
	size_t mark = enter(name);
	struct stat sb;
	if (o.stat)
		(void)fstatat(dfd, name, &sb, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT);
	ssize_t n = readlinkat(dfd, name, buf, sizeof(buf));
	if (n < 0)
		ct.errors++;
	else
		ct.links++;
	note(n < 0 ? 'E' : 'L', n < 0 ? 0 : (uint64_t)n);
	leave(mark);
	return n;
}

/* Open the directory dfd/name (counted, noted); -1 on error. */
static int open_dir(int dfd, const char *name)
{
	struct stat sb;
	if (o.stat)
		(void)fstatat(dfd, name, &sb, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT);
	int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	ct.dirs++;
	if (fd < 0)
		ct.errors++;
	note(fd < 0 ? 'E' : 'D', 0);
	return fd;
}

/* Call fn(dfd, name, d_type, arg) for each entry of the directory at dfd. */
static void each_entry(int dfd, void (*fn)(int, const char *, unsigned char, void *), void *arg)
{
	/* Names are consumed before the next getdents64, but fn may recurse
	 * and reuse dents: copy each batch first. */
	for (;;) {
		ssize_t n = getdents64(dfd, dents, sizeof(dents));
		if (n < 0) {
			ct.errors++;
			return;
		}
		if (n == 0)
			return;
		char *batch = malloc((size_t)n);
		if (!batch)
			abort();
		memcpy(batch, dents, (size_t)n);
		for (ssize_t off = 0; off < n;) {
			const struct dirent64 *d = (const struct dirent64 *)(batch + off);
			off += d->d_reclen;
			if (!is_dots(d->d_name))
				fn(dfd, d->d_name, d->d_type, arg);
		}
		free(batch);
	}
}

/* ---- top level (system files) ------------------------------------------------- */

static void sys_entry(int dfd, const char *name, unsigned char type, void *arg);

static void sys_entry(int dfd, const char *name, unsigned char type, void *arg)
{
	int depth = (int)(intptr_t)arg;
	(void)type;
	if (depth == 1 && (is_pid(name) || in_list(never_sys, name)))
		return;
	/* lstat, never automounting: mode (write-only files) and device. */
	struct stat sb;
	if (fstatat(dfd, name, &sb, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT) < 0) {
		ct.errors++;
		return;
	}
	if (S_ISLNK(sb.st_mode)) {
		do_link(dfd, name);
	} else if (S_ISREG(sb.st_mode)) {
		if (sb.st_mode & 0444)
			do_file(dfd, name);
	} else if (S_ISDIR(sb.st_mode)) {
		size_t mark = enter(name);
		if (sb.st_dev != rootdev || depth >= MAX_DEPTH) {
			ct.dirs++;
			note('D', 0);
		} else {
			int fd = open_dir(dfd, name);
			if (fd >= 0) {
				each_entry(fd, sys_entry, (void *)(intptr_t)(depth + 1));
				close(fd);
			}
		}
		leave(mark);
	}
}

/* ---- per pid ------------------------------------------------------------------ */

/* Below a subdirectory of a pid (fd/ fdinfo/ ns/ attr/ net/ ...): all. */
static void sub_entry(int dfd, const char *name, unsigned char type, void *arg)
{
	int depth = (int)(intptr_t)arg;
	if (type == DT_REG) {
		do_file(dfd, name);
	} else if (type == DT_LNK) {
		do_link(dfd, name);
	} else if (type == DT_DIR && depth < MAX_DEPTH) {
		size_t mark = enter(name);
		int fd = open_dir(dfd, name);
		if (fd >= 0) {
			each_entry(fd, sub_entry, (void *)(intptr_t)(depth + 1));
			close(fd);
		}
		leave(mark);
	}
}

static void tpl_add(int dfd, const char *name, unsigned char type, void *arg)
{
	(void)dfd;
	struct tpl *t = arg;
	if (t->n == MAX_ENTS)
		return;
	t->name[t->n] = strdup(name);
	t->type[t->n] = type;
	t->n++;
}

static struct tpl pid_tpl, tid_tpl;
static struct keep maps_copy;
static int have_pid_tpl, have_tid_tpl;

/* The names of a task/<tid>/ directory worth reading (thread_files that
 * exist), from the first thread listed. */
static void walk_thread(int taskfd, const char *tid)
{
	size_t mark = enter(tid);
	int fd = open_dir(taskfd, tid);
	if (fd < 0) {
		leave(mark);
		return;
	}
	if (!have_tid_tpl) {
		struct tpl all = {0};
		each_entry(fd, tpl_add, &all);
		for (int i = 0; i < all.n; i++) {
			if (in_list(thread_files, all.name[i]))
				tpl_add(fd, all.name[i], all.type[i], &tid_tpl);
			free(all.name[i]);
		}
		have_tid_tpl = all.n > 0;
	}
	for (int i = 0; i < tid_tpl.n; i++)
		do_file(fd, tid_tpl.name[i]);
	close(fd);
	leave(mark);
}

static void task_entry(int dfd, const char *name, unsigned char type, void *arg)
{
	(void)type;
	(void)arg;
	if (!o.no_threads)
		walk_thread(dfd, name);
}

/* 1 if this pid's network namespace was not seen yet (or has no key). */
static int first_in_netns(int pidfd)
{
	char l[256];
	ssize_t n = readlinkat(pidfd, "ns/net", l, sizeof(l) - 1);
	if (n <= 0)
		return 1;
	l[n] = '\0';
	const char *b = strchr(l, '[');
	uint64_t ino = b ? strtoull(b + 1, NULL, 10) : 0;
	if (ino == 0)
		return 1;
	for (size_t i = 0; i < netns_n; i++)
		if (netns[i] == ino)
			return 0;
	if (netns_n == netns_cap) {
		netns_cap = netns_cap ? netns_cap * 2 : 16;
		netns = realloc(netns, netns_cap * sizeof(*netns));
		if (!netns)
			abort();
	}
	netns[netns_n++] = ino;
	return 1;
}

/* pagemap for each range in maps (8 bytes per page), in 64 KiB preads, at
 * most pagemap_max bytes per process (capture's --pagemap-max, same default:
 * an ASan or Go process reserves terabytes of address space). */
static void read_pagemap(int pidfd, const struct keep *maps)
{
	if (maps->len == 0)
		return;
	const char *m = maps->p;
	int pm = openat(pidfd, "pagemap", O_RDONLY | O_CLOEXEC);
	if (pm < 0) {
		ct.errors++;
		return;
	}
	long pg = sysconf(_SC_PAGESIZE);
	unsigned long long left = o.pagemap_max;
	for (const char *line = m; *line && left;) {
		const char *nl = strchr(line, '\n');
		char *end;
		unsigned long long lo = strtoull(line, &end, 16);
		unsigned long long hi = *end == '-' ? strtoull(end + 1, NULL, 16) : lo;
		for (unsigned long long off = lo / (unsigned long long)pg * 8,
					last = hi / (unsigned long long)pg * 8;
		     off < last && left;) {
			size_t want = last - off < sizeof(buf) ? (size_t)(last - off) : sizeof(buf);
			if (want > left)
				want = (size_t)left;
			ssize_t n = pread(pm, buf, want, (off_t)off);
			if (n <= 0) {
				if (n < 0)
					ct.errors++;
				break;
			}
			ct.pagemap_bytes += (uint64_t)n;
			off += (unsigned long long)n;
			left -= (unsigned long long)n;
		}
		if (!nl)
			break;
		line = nl + 1;
	}
	close(pm);
}

/* ---- bodies and hashed files (capture's --exe-bodies and hash.c) ---------------- */

/* The current pid's exe link text, and its fds whose target is to be kept. */
static char exe_text[4096];
static ssize_t exe_len = -1;
static int *body_fds;
static size_t nbody_fds, cap_body_fds;
/* Files read whole so far (device as maps writes it, inode): read once. */
static uint64_t (*seen)[2];
static size_t seen_n, seen_cap;
static unsigned long long hash_left;

static int body_wanted(const char *t, size_t n)
{
	static const char del[] = " (deleted)";
	const size_t dl = sizeof(del) - 1;
	return (n >= dl && memcmp(t + n - dl, del, dl) == 0) ||
	       (n >= 7 && memcmp(t, "/memfd:", 7) == 0);
}

static uint64_t dev_code(dev_t d)
{
	return (uint64_t)major(d) << 20 | minor(d);
}

static int seen_has(uint64_t dev, uint64_t ino)
{
	for (size_t i = 0; i < seen_n; i++)
		if (seen[i][0] == dev && seen[i][1] == ino)
			return 1;
	return 0;
}

static void seen_add(uint64_t dev, uint64_t ino)
{
	if (seen_has(dev, ino))
		return;
	if (seen_n == seen_cap) {
		seen_cap = seen_cap ? seen_cap * 2 : 64;
		seen = realloc(seen, seen_cap * sizeof(*seen));
		if (!seen)
			abort();
	}
	seen[seen_n][0] = dev;
	seen[seen_n][1] = ino;
	seen_n++;
}

/* Read fd to its end (at most max bytes), discarding; the byte count. */
static uint64_t drain(int fd, unsigned long long max)
{
	uint64_t total = 0;
	while (total < max) {
		size_t want = max - total < sizeof(buf) ? (size_t)(max - total) : sizeof(buf);
		ssize_t n = read(fd, buf, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ct.errors++;
			break;
		}
		if (n == 0)
			break;
		total += (uint64_t)n;
	}
	return total;
}

/* The content behind the magic link rel ("exe", "fd/3"), as capture reads
 * a body: stat through the link, a regular file only, at most body_max. */
static void read_body(int pidfd, const char *rel)
{
	struct stat sb;
	if (fstatat(pidfd, rel, &sb, AT_NO_AUTOMOUNT) < 0 || !S_ISREG(sb.st_mode))
		return;
	int fd = openat(pidfd, rel, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		ct.errors++;
		return;
	}
	uint64_t n = drain(fd, o.body_max);
	close(fd);
	ct.bodies++;
	ct.body_bytes += n;
	char name[40];
	snprintf(name, sizeof(name), "%s.body", rel);
	size_t mark = enter(name);
	note('F', n);
	leave(mark);
	/* a body read whole is its file: hashing reads nothing again */
	if (!o.no_hash && sb.st_size >= 0 && n == (uint64_t)sb.st_size)
		seen_add(dev_code(sb.st_dev), (uint64_t)sb.st_ino);
}

static void read_bodies(int pidfd)
{
	if (o.bodies == BODIES_NONE)
		return;
	if (exe_len > 0 && (o.bodies == BODIES_ALL || body_wanted(exe_text, (size_t)exe_len)))
		read_body(pidfd, "exe");
	char rel[32];
	for (size_t i = 0; i < nbody_fds; i++) {
		snprintf(rel, sizeof(rel), "fd/%d", body_fds[i]);
		read_body(pidfd, rel);
	}
}

/* Read one file to hash (capture's hash.c): whole, within the budget. */
static void read_hashed(int pidfd, const char *rel, uint64_t dev, uint64_t ino)
{
	if (ino && seen_has(dev, ino))
		return;
	int fd = openat(pidfd, rel, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return;
	struct stat sb;
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode) ||
	    seen_has(dev_code(sb.st_dev), (uint64_t)sb.st_ino) ||
	    (unsigned long long)sb.st_size > hash_left) {
		close(fd);
		return;
	}
	uint64_t n = drain(fd, UINT64_MAX);
	close(fd);
	hash_left -= n < hash_left ? n : hash_left;
	ct.hashed++;
	ct.hash_bytes += n;
	seen_add(dev_code(sb.st_dev), (uint64_t)sb.st_ino);
}

/* One line of maps: "lo-hi perms offset major:minor inode   path". */
struct mline {
	unsigned long long lo, hi, ino;
	uint64_t dev;
	int x;
	const char *path;
};

static unsigned long long hexnum(const char **p)
{
	unsigned long long v = 0;
	for (;; (*p)++) {
		char c = **p;
		int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
		if (d < 0)
			return v;
		v = v * 16 + (unsigned)d;
	}
}

/* 1 when the line has an inode (a file mapping), filled into ml. */
static int maps_line(const char *p, struct mline *ml)
{
	ml->lo = hexnum(&p);
	if (*p++ != '-')
		return 0;
	ml->hi = hexnum(&p);
	if (*p++ != ' ' || !p[0] || !p[1] || !p[2])
		return 0;
	ml->x = p[2] == 'x';
	p += 4;
	if (*p++ != ' ')
		return 0;
	hexnum(&p); /* offset */
	if (*p++ != ' ')
		return 0;
	unsigned long long maj = hexnum(&p);
	if (*p++ != ':')
		return 0;
	unsigned long long min = hexnum(&p);
	if (*p++ != ' ')
		return 0;
	ml->dev = (uint64_t)maj << 20 | min;
	ml->ino = 0;
	for (; *p >= '0' && *p <= '9'; p++)
		ml->ino = ml->ino * 10 + (unsigned)(*p - '0');
	while (*p == ' ')
		p++;
	ml->path = p;
	return ml->ino != 0;
}

/* The exe and the executable file mappings of maps (one per device and
 * inode), as capture's hash step reads them. */
static void read_hashes(int pidfd, const struct keep *maps)
{
	if (o.no_hash)
		return;
	const char *m = maps->len ? maps->p : "";
	uint64_t xdev = 0, xino = 0;
	char rel[80];
	for (int pass = 0; pass < 2; pass++) {
		if (pass == 1 && exe_len > 0)
			read_hashed(pidfd, "exe", xdev, xino);
		for (const char *line = m; *line;) {
			const char *nl = strchr(line, '\n');
			struct mline ml;
			if (maps_line(line, &ml)) {
				const char *pth = ml.path;
				size_t pn = nl ? (size_t)(nl - pth) : strlen(pth);
				if (pass == 0 && exe_len > 0 && pn == (size_t)exe_len &&
				    memcmp(pth, exe_text, pn) == 0 && !xino) {
					xdev = ml.dev;
					xino = ml.ino;
				} else if (pass == 1 && ml.x && pn && pth[0] == '/') {
					snprintf(rel, sizeof(rel), "map_files/%llx-%llx", ml.lo,
						 ml.hi);
					read_hashed(pidfd, rel, ml.dev, ml.ino);
				}
			}
			if (!nl)
				break;
			line = nl + 1;
		}
	}
}

/* fd/<N>: readlink, and note the fds whose content is a body to keep. */
static void fd_entry(int dfd, const char *name, unsigned char type, void *arg)
{
	(void)arg;
	if (type != DT_LNK) {
		sub_entry(dfd, name, type, (void *)(intptr_t)4);
		return;
	}
	ssize_t n = do_link(dfd, name);
	if (n <= 0 || o.bodies == BODIES_NONE || !body_wanted(buf, (size_t)n))
		return;
	if (nbody_fds == cap_body_fds) {
		cap_body_fds = cap_body_fds ? cap_body_fds * 2 : 16;
		body_fds = realloc(body_fds, cap_body_fds * sizeof(*body_fds));
		if (!body_fds)
			abort();
	}
	body_fds[nbody_fds++] = atoi(name);
}

static void walk_pid(int rootfd, const char *pid)
{
	size_t pmark = enter(pid);
	int pidfd = open_dir(rootfd, pid);
	if (pidfd < 0) {
		leave(pmark);
		return;
	}
	if (!have_pid_tpl) {
		each_entry(pidfd, tpl_add, &pid_tpl);
		have_pid_tpl = pid_tpl.n > 0;
	}
	exe_len = -1;
	nbody_fds = 0;
	maps_copy.len = 0;
	for (int i = 0; i < pid_tpl.n; i++) {
		const char *name = pid_tpl.name[i];
		unsigned char type = pid_tpl.type[i];
		if (in_list(never_pid, name) || (o.no_smaps && strcmp(name, "smaps") == 0) ||
		    (!o.numa_maps && strcmp(name, "numa_maps") == 0))
			continue;
		if (type == DT_REG) {
			if ((o.pagemap || !o.no_hash) && strcmp(name, "maps") == 0) {
				read_file(pidfd, name, &maps_copy);
				if (o.pagemap)
					read_pagemap(pidfd, &maps_copy);
			} else {
				do_file(pidfd, name);
			}
		} else if (type == DT_LNK) {
			ssize_t n = do_link(pidfd, name);
			if (strcmp(name, "exe") == 0 && n < (ssize_t)sizeof(exe_text)) {
				exe_len = n;
				if (n >= 0)
					memcpy(exe_text, buf, (size_t)n);
			}
		} else if (type == DT_DIR) {
			if (strcmp(name, "net") == 0 && !first_in_netns(pidfd))
				continue;
			size_t mark = enter(name);
			int fd = open_dir(pidfd, name);
			if (fd >= 0) {
				if (strcmp(name, "task") == 0)
					each_entry(fd, task_entry, NULL);
				else if (strcmp(name, "fd") == 0)
					each_entry(fd, fd_entry, NULL);
				else
					each_entry(fd, sub_entry, (void *)(intptr_t)3);
				close(fd);
			}
			leave(mark);
		}
	}
	read_bodies(pidfd);
	read_hashes(pidfd, &maps_copy);
	close(pidfd);
	leave(pmark);
}

static void pid_entry(int dfd, const char *name, unsigned char type, void *arg)
{
	(void)type;
	(void)arg;
	if (is_pid(name))
		walk_pid(dfd, name);
}

static void usage(FILE *f)
{
	fputs("usage: readfloor [--root DIR] [--no-threads] [--pagemap] [--pagemap-max BYTES]\n"
	      "                 [--no-smaps] [--numa-maps] [--exe-bodies none|deleted|all]\n"
	      "                 [--exe-body-max BYTES] [--no-hash] [--hash-max BYTES] [--list]\n"
	      "                 [--stat]\n"
	      "Read every file procsnap capture reads under DIR (default /proc), discard\n"
	      "the bytes, print files= links= dirs= errors= bytes= pagemap_bytes= bodies=\n"
	      "body_bytes= hashed= hash_bytes= seconds=.\n"
	      "--list also prints each entry (F file, L link, D dir, E error, path, bytes):\n"
	      "for checking the selection against 'procsnap ls -l', not for timing.\n"
	      "--stat adds capture's metadata calls (an fstat after each open, an lstat of\n"
	      "each link and directory), to measure what they cost; the floor has none.\n",
	      f);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {{"root", required_argument, NULL, 'r'},
					   {"no-threads", no_argument, NULL, 't'},
					   {"pagemap", no_argument, NULL, 'p'},
					   {"no-smaps", no_argument, NULL, 's'},
					   {"numa-maps", no_argument, NULL, 'n'},
					   {"list", no_argument, NULL, 'l'},
					   {"pagemap-max", required_argument, NULL, 'm'},
					   {"exe-bodies", required_argument, NULL, 'b'},
					   {"exe-body-max", required_argument, NULL, 'B'},
					   {"no-hash", no_argument, NULL, 'H'},
					   {"stat", no_argument, NULL, 'S'},
					   {"hash-max", required_argument, NULL, 'M'},
					   {"help", no_argument, NULL, 'h'},
					   {NULL, 0, NULL, 0}};
	o.root = "/proc";
	o.pagemap_max = 256ull << 20;
	o.bodies = BODIES_DELETED;
	o.body_max = 64ull << 20;
	o.hash_max = 512ull << 20;
	int c;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'r':
			o.root = optarg;
			break;
		case 'S':
			o.stat = 1;
			break;
		case 't':
			o.no_threads = 1;
			break;
		case 'p':
			o.pagemap = 1;
			break;
		case 's':
			o.no_smaps = 1;
			break;
		case 'n':
			o.numa_maps = 1;
			break;
		case 'l':
			o.list = 1;
			break;
		case 'm':
		case 'B':
		case 'M': {
			char *end;
			unsigned long long v = strtoull(optarg, &end, 10);
			if (*end || optarg[0] == '-') {
				usage(stderr);
				return 2;
			}
			*(c == 'm' ? &o.pagemap_max : c == 'B' ? &o.body_max : &o.hash_max) = v;
			break;
		}
		case 'b':
			if (strcmp(optarg, "none") == 0) {
				o.bodies = BODIES_NONE;
			} else if (strcmp(optarg, "deleted") == 0) {
				o.bodies = BODIES_DELETED;
			} else if (strcmp(optarg, "all") == 0) {
				o.bodies = BODIES_ALL;
			} else {
				usage(stderr);
				return 2;
			}
			break;
		case 'H':
			o.no_hash = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}

	hash_left = o.hash_max;
	o.no_hash |= o.hash_max == 0;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int rootfd = open(o.root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct stat rsb;
	if (rootfd < 0 || fstat(rootfd, &rsb) < 0) {
		fprintf(stderr, "readfloor: %s: %s\n", o.root, strerror(errno));
		return 2;
	}
	rootdev = rsb.st_dev;
	/* Capture walks the system files first, then the pids. */
	each_entry(rootfd, sys_entry, (void *)(intptr_t)1);
	lseek(rootfd, 0, SEEK_SET);
	each_entry(rootfd, pid_entry, NULL);
	close(rootfd);
	clock_gettime(CLOCK_MONOTONIC, &t1);

	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("files=%llu links=%llu dirs=%llu errors=%llu bytes=%llu pagemap_bytes=%llu "
	       "bodies=%llu body_bytes=%llu hashed=%llu hash_bytes=%llu seconds=%.3f\n",
	       (unsigned long long)ct.files, (unsigned long long)ct.links,
	       (unsigned long long)ct.dirs, (unsigned long long)ct.errors,
	       (unsigned long long)ct.bytes, (unsigned long long)ct.pagemap_bytes,
	       (unsigned long long)ct.bodies, (unsigned long long)ct.body_bytes,
	       (unsigned long long)ct.hashed, (unsigned long long)ct.hash_bytes, secs);
	return 0;
}
