/*
 * hangfs.c - a FUSE file system whose operations block on command, for the
 * capture-never-hangs tests (tests/test_capture_hang.c).
 *
 *   hangfs MOUNTPOINT CTLDIR   mount (foreground) and serve until unmounted
 *   hangfs victim [FILE]       run as a victim process (below)
 *
 * The file system holds one directory with three regular files:
 *   /exe             the bytes of this very program (mode 0755): a victim
 *                    exec()s it, so its /proc/PID/exe lives here
 *   /data            4096 bytes 'h'
 *   /swap (deleted)  5 bytes "swap\n"; its name makes the fd/N link text of
 *                    a process holding it look deleted (a body is wanted)
 * and, not listed, /7/data (as /data): a "pid directory" for the
 * read-ahead's test (capture/prefetch.c reads <root>/<pid>/<name>).
 * Attribute and entry caching are off (attr_timeout=0, entry_timeout=0,
 * negative_timeout=0) and every open is direct_io, so every stat, open and
 * read of them reaches the daemon.
 *
 * SIGUSR1 flips the switch on (CTLDIR/on is created once it is, and removed
 * once SIGUSR2 flips it off): from then on getattr, open and read of those
 * files block (sleeping in 10 ms steps; CTLDIR/blocked and CTLDIR/blocked.N,
 * N counting from 1 over the daemon's life, holding the requesting thread,
 * are created when one starts to)
 * until SIGUSR2 flips it off.  Interrupt requests from the kernel
 * are ignored, as a hung daemon's are: a reader stuck here stays stuck (and
 * is not even killable: the kernel waits for the answer once the request was
 * read).
 *
 * Victim mode: creates a memfd holding "memfd body\n", opens FILE if given,
 * prints "ready pid=P memfd=M fd=F" (F -1 without FILE) and answers stdin
 * lines: "swap PATH" opens PATH (O_RDWR|O_NONBLOCK: a FIFO) over fd F and
 * prints "ok".  EOF, or its parent's death (PR_SET_PDEATHSIG), ends it.
 */
#define FUSE_USE_VERSION 31
#include <errno.h>
#include <fcntl.h>
#include <fuse.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t blocking;
static char *self_bytes;
static size_t self_len;
static char data_bytes[4096];
static const char *ctldir;
static const char swap_name[] = "/swap (deleted)";
static const char pid_data[] = "/7/data";

static char on_mark[4096]; /* CTLDIR/on: exists while the switch is on */

/* The switch, acknowledged by CTLDIR/on (open and unlink are
 * async-signal-safe): the test waits for it, not for a guessed delay. */
static void on_usr(int sig)
{
	int e = errno;
	blocking = sig == SIGUSR1;
	if (blocking) {
		int fd = open(on_mark, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
		if (fd >= 0)
			close(fd);
	} else {
		unlink(on_mark);
	}
	errno = e;
}

/* Sleep while the switch is on. */
static void maybe_block(const char *path)
{
	if (!blocking || (strcmp(path, "/exe") != 0 && strcmp(path, "/data") != 0 &&
			  strcmp(path, swap_name) != 0 && strcmp(path, pid_data) != 0))
		return;
	static int nblocked;
	char mark[4096], tmp[4200], who[32];
	/* blocked.N holds the pid the kernel gives for the request (written
	 * under another name, then renamed: never seen empty) */
	snprintf(mark, sizeof(mark), "%s/blocked.%d", ctldir,
		 __atomic_add_fetch(&nblocked, 1, __ATOMIC_SEQ_CST));
	snprintf(tmp, sizeof(tmp), "%s.tmp", mark);
	int n = snprintf(who, sizeof(who), "%d\n", (int)fuse_get_context()->pid);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd >= 0) {
		if (write(fd, who, (size_t)n) != n) {
			/* the count still sees the file, with no pid */
		}
		close(fd);
		rename(tmp, mark);
	}
	snprintf(mark, sizeof(mark), "%s/blocked", ctldir);
	fd = open(mark, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd >= 0)
		close(fd);
	struct timespec ts = {0, 10 * 1000 * 1000};
	while (blocking)
		nanosleep(&ts, NULL);
}

static void *hf_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
	(void)conn;
	cfg->attr_timeout = 0;
	cfg->entry_timeout = 0;
	cfg->negative_timeout = 0;
	cfg->direct_io = 1;
	cfg->kernel_cache = 0;
	return NULL;
}

static int hf_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
	(void)fi;
	memset(st, 0, sizeof(*st));
	st->st_nlink = 1;
	st->st_uid = 0;
	st->st_gid = 0;
	if (strcmp(path, "/") == 0 || strcmp(path, "/7") == 0) {
		st->st_mode = S_IFDIR | 0755;
		st->st_nlink = 2;
		return 0;
	}
	maybe_block(path);
	if (strcmp(path, "/exe") == 0) {
		st->st_mode = S_IFREG | 0755;
		st->st_size = (off_t)self_len;
	} else if (strcmp(path, "/data") == 0 || strcmp(path, pid_data) == 0) {
		st->st_mode = S_IFREG | 0644;
		st->st_size = sizeof(data_bytes);
	} else if (strcmp(path, swap_name) == 0) {
		st->st_mode = S_IFREG | 0644;
		st->st_size = 5;
	} else {
		return -ENOENT;
	}
	return 0;
}

static int hf_readdir(const char *path, void *buf, fuse_fill_dir_t fill, off_t off,
		      struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
	(void)off;
	(void)fi;
	(void)flags;
	if (strcmp(path, "/") != 0)
		return -ENOENT;
	fill(buf, ".", NULL, 0, 0);
	fill(buf, "..", NULL, 0, 0);
	fill(buf, "data", NULL, 0, 0);
	fill(buf, "exe", NULL, 0, 0);
	fill(buf, swap_name + 1, NULL, 0, 0);
	return 0;
}

static int hf_open(const char *path, struct fuse_file_info *fi)
{
	maybe_block(path);
	if (strcmp(path, "/exe") != 0 && strcmp(path, "/data") != 0 &&
	    strcmp(path, swap_name) != 0 && strcmp(path, pid_data) != 0)
		return -ENOENT;
	if ((fi->flags & O_ACCMODE) != O_RDONLY)
		return -EACCES;
	fi->direct_io = 1;
	return 0;
}

static int hf_read(const char *path, char *buf, size_t size, off_t off, struct fuse_file_info *fi)
{
	(void)fi;
	maybe_block(path);
	const char *src;
	size_t len;
	if (strcmp(path, "/exe") == 0) {
		src = self_bytes;
		len = self_len;
	} else if (strcmp(path, "/data") == 0 || strcmp(path, pid_data) == 0) {
		src = data_bytes;
		len = sizeof(data_bytes);
	} else if (strcmp(path, swap_name) == 0) {
		src = "swap\n";
		len = 5;
	} else {
		return -ENOENT;
	}
	if (off < 0 || (size_t)off >= len)
		return 0;
	if (size > len - (size_t)off)
		size = len - (size_t)off;
	memcpy(buf, src + off, size);
	return (int)size;
}

static const struct fuse_operations ops = {
    .init = hf_init,
    .getattr = hf_getattr,
    .readdir = hf_readdir,
    .open = hf_open,
    .read = hf_read,
};

static int victim(const char *file)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	int fd = memfd_create("hangfs-victim", MFD_CLOEXEC);
	static const char body[] = "memfd body\n";
	if (fd < 0 || write(fd, body, sizeof(body) - 1) != (ssize_t)sizeof(body) - 1) {
		perror("memfd");
		return 3;
	}
	int ffd = file ? open(file, O_RDONLY | O_CLOEXEC) : -1;
	if (file && ffd < 0) {
		perror(file);
		return 3;
	}
	printf("ready pid=%d memfd=%d fd=%d\n", (int)getpid(), fd, ffd);
	fflush(stdout);
	char line[4096];
	while (fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\n")] = '\0';
		if (strncmp(line, "swap ", 5) == 0) {
			int nfd = open(line + 5, O_RDWR | O_NONBLOCK | O_CLOEXEC);
			if (nfd < 0 || dup2(nfd, ffd) < 0) {
				printf("error %s\n", strerror(errno));
			} else {
				close(nfd);
				printf("ok\n");
			}
		} else {
			printf("error unknown command\n");
		}
		fflush(stdout);
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "victim") == 0)
		return victim(argc > 2 ? argv[2] : NULL);
	if (argc != 3) {
		fprintf(stderr, "usage: hangfs MOUNTPOINT CTLDIR | hangfs victim [FILE]\n");
		return 2;
	}
	ctldir = argv[2];
	snprintf(on_mark, sizeof(on_mark), "%s/on", ctldir);
	/* The bytes served as /exe: this program. */
	FILE *f = fopen("/proc/self/exe", "rb");
	if (!f) {
		perror("/proc/self/exe");
		return 2;
	}
	size_t cap = 0;
	for (;;) {
		if (self_len + 65536 > cap) {
			cap = cap ? cap * 2 : 1 << 20;
			self_bytes = realloc(self_bytes, cap);
			if (!self_bytes)
				return 2;
		}
		size_t n = fread(self_bytes + self_len, 1, cap - self_len, f);
		if (n == 0)
			break;
		self_len += n;
	}
	fclose(f);
	memset(data_bytes, 'h', sizeof(data_bytes));

	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr;
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	prctl(PR_SET_PDEATHSIG, SIGTERM);

	char *fargv[] = {argv[0], "-f", "-o", "fsname=hangfs,allow_other", argv[1], NULL};
	return fuse_main(5, fargv, &ops, NULL);
}
