/*
 * workload.c - the standard bench population (DESIGN 8): N processes, each
 * with 4 threads, about 20 fds and several mappings, kept alive until
 * SIGTERM/SIGINT.
 *
 *   workload [-n N] [-p PIDFILE] [-d DIR]
 *
 * Per child:
 *   threads   the main thread + 3 pthreads (64 KiB stacks) sleeping in pause();
 *   fds       0-1 on /dev/null, 2 the caller's stderr; regular files (the
 *             data file twice, /etc/passwd, an O_TMPFILE, i.e. a deleted
 *             file); 2 pipes; a unix socketpair;
 *             a bound 127.0.0.1 UDP socket; a listening 127.0.0.1 TCP socket
 *             on every 5th child (an unconnected unix socket on the others);
 *             an eventfd, a memfd, an epoll, a timerfd and a signalfd (not
 *             inotify: 128 instances per user by default);
 *   mappings  256 KiB anonymous with 8 pages touched, a 64 KiB shared file
 *             mapping of the data file (2 pages touched), a 64 KiB memfd
 *             mapping (4 pages touched), a 16 KiB PROT_NONE region, plus the
 *             thread stacks and the usual binary/libc/ld.so mappings.
 * Each child stays small: about 330 KiB of machine memory at N=600.
 *
 * The workload leads its own process group.  Once every child has reported
 * ready it writes their pids, one a line, to PIDFILE (written to a temporary
 * name and renamed, so its existence means "all up").  On SIGTERM or SIGINT
 * it signals the whole group, reaps every child, removes its scratch
 * directory and the pid file, and exits 0.  Children also die with the parent
 * (PR_SET_PDEATHSIG), so a SIGKILLed workload leaves nothing behind.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#define THREADS_EXTRA 3
#define DATA_SIZE     (64 * 1024)
#define ANON_SIZE     (256 * 1024)
#define MEMFD_SIZE    (64 * 1024)

static void die(const char *what)
{
	fprintf(stderr, "workload: %s: %s\n", what, strerror(errno));
	exit(2);
}

static void *sleeper(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

static void touch(char *p, size_t len, size_t step)
{
	long pg = sysconf(_SC_PAGESIZE);
	for (size_t off = 0; off < len; off += step * (size_t)pg)
		p[off] = (char)(off >> 12);
}

/* A child's setup failed: say what on stderr (the caller's), exit 3. */
static void cfail(int idx, const char *what)
{
	fprintf(stderr, "workload: child %d: %s: %s\n", idx, what, strerror(errno));
	_exit(3);
}

/* The child's body: build its fds, mappings and threads, report ready on
 * readyfd, then sleep until a signal kills it.  Any setup failure exits 3
 * after one line on stderr (the parent then reports the shortfall). */
static void child(int idx, int readyfd, const char *dir, pid_t parent)
{
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		_exit(3);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	/* Only our own fds: 0 and 1 on /dev/null, 2 kept for cfail(), nothing
	 * else inherited from the caller (readyfd is moved to a fixed slot and
	 * closed once ready). */
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null < 0 || dup2(readyfd, 63) < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0)
		cfail(idx, "stdio");
	readyfd = 63;
	close_range(3, 62, 0);
	close_range(64, ~0U, 0);

	char path[4200];
	snprintf(path, sizeof(path), "%s/data", dir);
	int data_ro = open(path, O_RDONLY | O_CLOEXEC);
	int data_rw = open(path, O_RDWR | O_APPEND | O_CLOEXEC);
	int passwd = open("/etc/passwd", O_RDONLY | O_CLOEXEC);
	int tmpf = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (data_ro < 0 || data_rw < 0 || passwd < 0 || tmpf < 0)
		cfail(idx, "open regular files");
	if (write(tmpf, "deleted\n", 8) != 8)
		cfail(idx, "write tmpfile");
	lseek(data_ro, (off_t)idx % DATA_SIZE, SEEK_SET);

	int p1[2], p2[2], sp[2];
	if (pipe(p1) < 0 || pipe2(p2, O_NONBLOCK | O_CLOEXEC) < 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0)
		cfail(idx, "pipe/socketpair");
	if (write(p1[1], "x", 1) != 1)
		cfail(idx, "write pipe");

	struct sockaddr_in lo;
	memset(&lo, 0, sizeof(lo));
	lo.sin_family = AF_INET;
	lo.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (udp < 0 || bind(udp, (struct sockaddr *)&lo, sizeof(lo)) < 0)
		cfail(idx, "udp socket");
	int s5;
	if (idx % 5 == 0) {
		s5 = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (s5 < 0 || bind(s5, (struct sockaddr *)&lo, sizeof(lo)) < 0 || listen(s5, 4) < 0)
			cfail(idx, "tcp listen");
	} else {
		s5 = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (s5 < 0)
			cfail(idx, "unix socket");
	}

	int efd = eventfd((unsigned)idx, EFD_CLOEXEC);
	int mfd = memfd_create("bench-memfd", MFD_CLOEXEC);
	int epfd = epoll_create1(EPOLL_CLOEXEC);
	int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	sigset_t usr1;
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	int sfd = signalfd(-1, &usr1, SFD_CLOEXEC);
	if (efd < 0 || mfd < 0 || epfd < 0 || tfd < 0 || sfd < 0)
		cfail(idx, "eventfd/memfd/epoll/timerfd/signalfd");
	if (ftruncate(mfd, MEMFD_SIZE) < 0)
		cfail(idx, "ftruncate memfd");
	struct epoll_event ev = {.events = EPOLLIN, .data = {.fd = efd}};
	epoll_ctl(epfd, EPOLL_CTL_ADD, efd, &ev);
	struct itimerspec its = {.it_value = {.tv_sec = 3600}};
	timerfd_settime(tfd, 0, &its, NULL);

	char *anon =
	    mmap(NULL, ANON_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *fmap = mmap(NULL, DATA_SIZE, PROT_READ, MAP_SHARED, data_ro, 0);
	char *mmap_mfd = mmap(NULL, MEMFD_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	void *guard = mmap(NULL, 16384, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (anon == MAP_FAILED || fmap == MAP_FAILED || mmap_mfd == MAP_FAILED ||
	    guard == MAP_FAILED)
		cfail(idx, "mmap");
	touch(anon, ANON_SIZE, 8);
	volatile char sink = 0;
	sink += fmap[0];
	sink += fmap[DATA_SIZE / 2];
	(void)sink;
	touch(mmap_mfd, MEMFD_SIZE, 4);

	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	for (int i = 0; i < THREADS_EXTRA; i++) {
		pthread_t t;
		int e = pthread_create(&t, &attr, sleeper, NULL);
		if (e != 0) {
			errno = e;
			cfail(idx, "pthread_create");
		}
	}
	pthread_attr_destroy(&attr);

	char ok = 'r';
	if (write(readyfd, &ok, 1) != 1)
		cfail(idx, "report ready");
	close(readyfd);
	for (;;)
		pause();
}

static void usage(void)
{
	fputs("usage: workload [-n N] [-p PIDFILE] [-d DIR]\n"
	      "  -n N        processes to start (default 500), each with 4 threads\n"
	      "  -p PIDFILE  where to write their pids once all are up (default workload.pids)\n"
	      "  -d DIR      parent of the scratch directory (default /tmp)\n"
	      "Runs until SIGTERM or SIGINT, then kills and reaps every child.\n",
	      stderr);
}

static char scratch[4096];

static void cleanup_scratch(void)
{
	char p[4200];
	snprintf(p, sizeof(p), "%s/data", scratch);
	unlink(p);
	rmdir(scratch);
}

int main(int argc, char **argv)
{
	long n = 500;
	const char *pidfile = "workload.pids";
	const char *parent_dir = "/tmp";
	int c;
	while ((c = getopt(argc, argv, "n:p:d:h")) != -1) {
		switch (c) {
		case 'n': {
			char *end;
			n = strtol(optarg, &end, 10);
			if (*end || n < 1 || n > 1000000) {
				usage();
				return 2;
			}
			break;
		}
		case 'p':
			pidfile = optarg;
			break;
		case 'd':
			parent_dir = optarg;
			break;
		case 'h':
			usage();
			return 0;
		default:
			usage();
			return 2;
		}
	}

	/* Our own process group: one kill(-pgid) reaches every child. */
	if (getpgrp() != getpid() && setpgid(0, 0) < 0)
		die("setpgid");
	/* SIGTERM/SIGINT are taken with sigwait; children unblock them. */
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	sigprocmask(SIG_BLOCK, &stop, NULL);

	snprintf(scratch, sizeof(scratch), "%s/procsnap-workload.XXXXXX", parent_dir);
	if (!mkdtemp(scratch))
		die("mkdtemp");
	char path[4200];
	snprintf(path, sizeof(path), "%s/data", scratch);
	int dfd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (dfd < 0)
		die("create data file");
	char block[4096];
	for (size_t i = 0; i < sizeof(block); i++)
		block[i] = (char)('a' + i % 26);
	for (int i = 0; i < DATA_SIZE / (int)sizeof(block); i++)
		if (write(dfd, block, sizeof(block)) != (ssize_t)sizeof(block))
			die("write data file");
	close(dfd);

	int ready[2];
	if (pipe2(ready, O_CLOEXEC) < 0)
		die("pipe");
	pid_t self = getpid();
	pid_t *pids = calloc((size_t)n, sizeof(*pids));
	if (!pids)
		die("calloc");
	long started = 0;
	int rc = 0;
	for (; started < n; started++) {
		pid_t pid = fork();
		if (pid < 0) {
			fprintf(stderr, "workload: fork after %ld children: %s\n", started,
				strerror(errno));
			rc = 2;
			break;
		}
		if (pid == 0) {
			close(ready[0]);
			child((int)started, ready[1], scratch, self);
		}
		pids[started] = pid;
	}
	close(ready[1]);

	/* Wait for one byte per child; EOF early means a child failed. */
	long up = 0;
	while (rc == 0 && up < started) {
		char buf[512];
		ssize_t r = read(ready[0], buf, sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			fprintf(stderr, "workload: only %ld of %ld children came up\n", up, n);
			rc = 2;
			break;
		}
		up += r;
	}
	close(ready[0]);

	if (rc == 0) {
		char tmp[4200];
		snprintf(tmp, sizeof(tmp), "%s.tmp", pidfile);
		FILE *f = fopen(tmp, "w");
		if (!f)
			die("open pid file");
		for (long i = 0; i < started; i++)
			fprintf(f, "%d\n", (int)pids[i]);
		if (fclose(f) != 0 || rename(tmp, pidfile) < 0)
			die("write pid file");
		fprintf(stderr, "workload: %ld processes up (pgid %d)\n", up, (int)self);
		int sig;
		sigwait(&stop, &sig);
	}

	/* Stop: the whole group (our own SIGTERM stays blocked), then reap. */
	kill(-self, SIGTERM);
	long reaped = 0;
	while (reaped < started) {
		pid_t w = waitpid(-1, NULL, 0);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		reaped++;
	}
	unlink(pidfile);
	cleanup_scratch();
	free(pids);
	return rc;
}
