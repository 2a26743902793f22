/*
 * supervise.c - keep a command answerable to SIGINT/SIGTERM/SIGHUP while
 * it writes files, and leave none of its temporary files behind when one
 * of them ends it (DESIGN 3: "SIGINT/SIGTERM end a capture within 1 s with
 * no temporary file left"; the same for every command that writes).
 *
 * A thread blocked in a FUSE request that the daemon has already read
 * cannot be killed: fs/fuse/dev.c request_wait_answer() waits for the answer
 * uninterruptibly once a fatal signal is pending, and a process is not
 * reaped while one of its threads is alive.  So however the capture
 * abandons such a thread, the process that holds it cannot end on time.
 * Hence two processes:
 *   - the parent (the one the shell started and waits for) forks, then only
 *     waits: for the child's result, or for a signal;
 *   - the child does the work with SIGINT/SIGTERM/SIGHUP blocked (its
 *     threads inherit the mask), registers its temporary files in a page
 *     shared with the parent (cli_tmp_add), and reports its exit status.
 * On a signal the parent kills the child (SIGKILL), removes the registered
 * paths, waits up to 100 ms for the child to be reaped (a thread inside an
 * open(O_CREAT) finishes that call first), removes them again, prints one
 * line and exits 2.  No signal handler runs: the parent reads the signal
 * from a signalfd, and what it removes was registered before it existed
 * (removal uses system calls only, no allocation).  When the child finishes
 * with threads still stuck, it closes its standard streams, writes its exit
 * status into a pipe and _exit()s; the parent exits with that status at
 * once, and the child is reaped by init whenever the file system answers.
 * A child killed by SIGPIPE (its reader went away) ends the parent the same
 * way, silently, as a command that was never forked would end.
 */
#include "cli.h"

#include "common.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TMP_SLOTS 8

/* Shared between parent and child (MAP_SHARED): paths to remove. */
struct tmp_reg {
	atomic_int used[TMP_SLOTS];
	char path[TMP_SLOTS][PATH_MAX];
};

static struct tmp_reg *reg; /* NULL until cli_supervise or the first cli_tmp_add */
static int report_fd = -1;  /* child: write end of the status pipe */
static int supervised;	    /* child of cli_supervise */

static struct tmp_reg *reg_get(void)
{
	if (!reg) {
		void *p = mmap(NULL, sizeof(*reg), PROT_READ | PROT_WRITE,
			       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return NULL;
		reg = p;
	}
	return reg;
}

int cli_tmp_add(const char *path)
{
	struct tmp_reg *r = reg_get();
	if (!r || strlen(path) >= PATH_MAX)
		return -1;
	for (int i = 0; i < TMP_SLOTS; i++) {
		if (atomic_load(&r->used[i]))
			continue;
		memcpy(r->path[i], path, strlen(path) + 1);
		atomic_store(&r->used[i], 1);
		return 0;
	}
	return -1;
}

void cli_tmp_del(const char *path)
{
	if (!reg)
		return;
	for (int i = 0; i < TMP_SLOTS; i++)
		if (atomic_load(&reg->used[i]) && strcmp(reg->path[i], path) == 0)
			atomic_store(&reg->used[i], 0);
}

/* Remove name (relative to dirfd): a file or a symbolic link, or a
 * directory with everything in it, never following a link and at most
 * TREE_DEPTH levels down (what procsnap creates in its private directories
 * is two).  System calls only: the parent runs it right after killing the
 * child, and the listing buffer is on the stack. */
#define TREE_DEPTH 4
static void remove_at(int dirfd, const char *name, int depth)
{
	if (unlinkat(dirfd, name, 0) == 0 || errno != EISDIR || depth >= TREE_DEPTH)
		return;
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return;
	/* entries removed while listing may shift the rest: list again until
	 * a pass finds nothing to remove */
	for (int pass = 0, removed = 1; removed && pass < 8; pass++) {
		char buf[4096] __attribute__((aligned(8)));
		ssize_t n;
		removed = 0;
		lseek(fd, 0, SEEK_SET);
		while ((n = getdents64(fd, buf, sizeof(buf))) > 0) {
			for (ssize_t off = 0; off < n;) {
				struct dirent64 *d = (struct dirent64 *)(void *)(buf + off);
				off += d->d_reclen;
				if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
					continue;
				remove_at(fd, d->d_name, depth + 1);
				removed = 1;
			}
		}
	}
	close(fd);
	unlinkat(dirfd, name, AT_REMOVEDIR);
}

void cli_tmp_remove(const char *path)
{
	remove_at(AT_FDCWD, path, 0);
	cli_tmp_del(path);
}

static void remove_all(void)
{
	if (!reg)
		return;
	for (int i = 0; i < TMP_SLOTS; i++)
		if (atomic_load(&reg->used[i]))
			remove_at(AT_FDCWD, reg->path[i], 0);
}

void cli_tmp_index(const char *db, int add)
{
	static const char *const sfx[] = {"", "-journal", "-wal", "-shm", ".work"};
	struct ps_buf b = PS_BUF_INIT;
	for (size_t i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		ps_buf_reset(&b);
		ps_buf_addf(&b, "%s.tmp.%d%s", db, (int)getpid(), sfx[i]);
		if (add)
			cli_tmp_add(b.buf);
		else
			cli_tmp_del(b.buf);
	}
	ps_buf_release(&b);
}

const char *cli_tmp_dir(const char *cmd, struct ps_buf *dir)
{
	const char *t = getenv("TMPDIR");
	if (!t || !*t)
		t = "/tmp";
	/* mkdtemp's name, drawn here: it must be registered before it exists */
	for (int tries = 0; tries < 100; tries++) {
		unsigned char r[6];
		char hex[13];
		ps_random_bytes(r, sizeof(r));
		ps_hex(hex, r, sizeof(r));
		ps_buf_reset(dir);
		ps_buf_addf(dir, "%s/procsnap-%s-%s", t, cmd, hex);
		if (cli_tmp_add(dir->buf) < 0)
			break;
		if (mkdir(dir->buf, 0700) == 0)
			return dir->buf;
		int e = errno;
		cli_tmp_del(dir->buf);
		if (e != EEXIST)
			break;
	}
	ps_buf_reset(dir); /* not ours */
	return t;
}

/* Reap the child if it is gone within ms milliseconds; 1 if reaped. */
static int reap(pid_t pid, int *status, int ms)
{
	struct timespec ts = {0, 10 * 1000 * 1000};
	for (int i = 0;; i++) {
		pid_t r = waitpid(pid, status, WNOHANG);
		if (r == pid)
			return 1;
		if (r < 0 && errno != EINTR)
			return 0;
		if (i * 10 >= ms)
			return 0;
		nanosleep(&ts, NULL);
	}
}

static int parent(const char *cmd, pid_t pid, int sfd, int rfd)
{
	struct pollfd pf[2] = {{sfd, POLLIN, 0}, {rfd, POLLIN, 0}};
	int status = 0;
	for (;;) {
		if (poll(pf, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pf[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (read(sfd, &si, sizeof(si)) != (ssize_t)sizeof(si))
				continue;
			kill(pid, SIGKILL);
			remove_all();
			reap(pid, &status, 100);
			remove_all();
			const char *name = sigabbrev_np((int)si.ssi_signo);
			return cli_fail(cmd, "interrupted by SIG%s", name ? name : "?");
		}
		if (pf[1].revents) {
			unsigned char b;
			ssize_t n = read(rfd, &b, 1);
			if (n == 1)
				return b; /* done, with threads still stuck: do not wait */
			if (n < 0 && errno == EINTR)
				continue;
			break; /* EOF: the child is gone */
		}
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	remove_all();
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGPIPE) {
		/* the reader of stdout went away: end as the worker did */
		sigset_t pipe_set;
		sigemptyset(&pipe_set);
		sigaddset(&pipe_set, SIGPIPE);
		signal(SIGPIPE, SIG_DFL);
		sigprocmask(SIG_UNBLOCK, &pipe_set, NULL);
		raise(SIGPIPE);
	}
	return cli_fail(cmd, "worker process killed by signal %d",
			WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

int cli_supervise(const char *cmd)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0 || !reg_get())
		return cli_fail(cmd, "cannot set up signal handling: %s", strerror(errno));
	int sfd = signalfd(-1, &set, SFD_CLOEXEC);
	int p[2];
	if (sfd < 0 || pipe2(p, O_CLOEXEC) < 0)
		return cli_fail(cmd, "cannot set up signal handling: %s", strerror(errno));
	fflush(NULL);
	pid_t parent_pid = getpid();
	pid_t pid = fork();
	if (pid < 0)
		return cli_fail(cmd, "fork: %s", strerror(errno));
	if (pid == 0) {
		close(sfd);
		close(p[0]);
		report_fd = p[1];
		supervised = 1;
		/* Do not outlive a parent killed by SIGKILL. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent_pid)
			_exit(2);
		return -1;
	}
	close(p[1]);
	int rc = parent(cmd, pid, sfd, p[0]);
	close(sfd);
	close(p[0]);
	return rc;
}

int cli_supervise_done(int rc, int stuck)
{
	if (!supervised || !stuck)
		return rc;
	/* Threads stuck in the kernel keep this process (and its open files)
	 * alive: release the standard streams, so that a reader of stdout sees
	 * EOF, and let the parent exit now. */
	fflush(NULL);
	close(STDIN_FILENO);
	close(STDOUT_FILENO);
	close(STDERR_FILENO);
	unsigned char b = (unsigned char)rc;
	if (write(report_fd, &b, 1) != 1) {
		/* the parent is gone: nothing left to tell */
	}
	_exit(rc);
}
