/*
 * victim.c - a process with known properties for capture tests.
 *
 *   victim FILE [ARGS...]
 *
 * Opens FILE read-only and seeks to offset 1234, makes a pipe, listens on
 * 127.0.0.1 (ephemeral port), maps 64 anonymous pages and touches pages 0,
 * 3 and 7 (exactly those), starts 3 extra threads, then prints one line:
 *   ready pid=P port=N file_fd=F pipe_r=R pipe_w=W sock_fd=S map=0xADDR pages=64
 * and reads commands from stdin, answering "ok ..." to each:
 *   open PATH       open another file (prints fd=N)
 *   close FD        close a descriptor
 *   map N K         map N pages, touch the first K (prints map=0xADDR)
 *   mapn N K        the same without transparent huge pages (MADV_NOHUGEPAGE),
 *                   so exactly K pages are resident
 *   drop ADDR J     MADV_DONTNEED the first J pages at ADDR (no longer resident)
 *   envset NAME=V   overwrite the environment string NAME=... in place (the
 *                   new one must have the same length): /proc/PID/environ
 *                   shows it
 *   mapx N          map N anonymous pages read+write+exec (prints map=0xADDR)
 *   listen ADDR     listen on TCP IPv4 ADDR, ephemeral port (prints port=N fd=F)
 *   write ADDR J    write to the first J pages at ADDR
 *   thread          start one more thread
 *   exit            exit(0)
 * EOF on stdin also exits.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

static void *sleeper(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

static void start_thread(void)
{
	pthread_t t;
	if (pthread_create(&t, NULL, sleeper, NULL) != 0) {
		perror("pthread_create");
		exit(3);
	}
	pthread_detach(t);
}

extern char **environ;

/* Overwrite "NAME=..." in the environment block itself (what
 * /proc/PID/environ reads), keeping its length; 0 or -1. */
static int envset(const char *nv)
{
	const char *eq = strchr(nv, '=');
	if (!eq)
		return -1;
	size_t kl = (size_t)(eq - nv) + 1;
	for (char **e = environ; *e; e++)
		if (strncmp(*e, nv, kl) == 0 && strlen(*e) == strlen(nv)) {
			memcpy(*e, nv, strlen(nv));
			return 0;
		}
	return -1;
}

/* "argv HEX": the argument area rewritten with those bytes, of its very
 * length (what /proc/<pid>/cmdline then reads back). */
static int set_argv(char **argv, int argc, const char *hex)
{
	size_t area = (size_t)(argv[argc - 1] + strlen(argv[argc - 1]) + 1 - argv[0]);
	size_t n = strlen(hex) / 2;
	if (n != area || strlen(hex) % 2)
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			return -1;
		argv[0][i] = (char)v;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: victim FILE [ARGS...]\n");
		return 2;
	}
	long pg = sysconf(_SC_PAGESIZE);
	int ffd = open(argv[1], O_RDONLY);
	if (ffd < 0 || lseek(ffd, 1234, SEEK_SET) != 1234) {
		perror(argv[1]);
		return 3;
	}
	int p[2];
	if (pipe(p) < 0)
		return 3;
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t al = sizeof(a);
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(s, 4) < 0 ||
	    getsockname(s, (struct sockaddr *)&a, &al) < 0) {
		perror("socket");
		return 3;
	}
	char *m =
	    mmap(NULL, 64 * (size_t)pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return 3;
	m[0] = 1;
	m[3 * pg] = 1;
	m[7 * pg] = 1;
	for (int i = 0; i < 3; i++)
		start_thread();
	printf("ready pid=%d port=%d file_fd=%d pipe_r=%d pipe_w=%d sock_fd=%d map=%p pages=64\n",
	       (int)getpid(), ntohs(a.sin_port), ffd, p[0], p[1], s, (void *)m);
	fflush(stdout);

	char line[4096];
	while (fgets(line, sizeof(line), stdin)) {
		char arg[4000];
		int fd;
		long n, k;
		unsigned long addr;
		if (sscanf(line, "open %3999[^\n]", arg) == 1) {
			fd = open(arg, O_RDONLY);
			printf("ok fd=%d\n", fd);
		} else if (sscanf(line, "argv %3999s", arg) == 1) {
			printf(set_argv(argv, argc, arg) == 0 ? "ok\n" : "error argv\n");
		} else if (sscanf(line, "close %d", &fd) == 1) {
			printf("ok %d\n", close(fd));
		} else if (sscanf(line, "map %ld %ld", &n, &k) == 2) {
			char *q = mmap(NULL, (size_t)n * (size_t)pg, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			for (long i = 0; q != MAP_FAILED && i < k && i < n; i++)
				q[i * pg] = 1;
			printf("ok map=%p\n", (void *)q);
		} else if (sscanf(line, "mapn %ld %ld", &n, &k) == 2) {
			char *q = mmap(NULL, (size_t)n * (size_t)pg, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (q != MAP_FAILED)
				madvise(q, (size_t)n * (size_t)pg, MADV_NOHUGEPAGE);
			for (long i = 0; q != MAP_FAILED && i < k && i < n; i++)
				q[i * pg] = 1;
			printf("ok map=%p\n", (void *)q);
		} else if (sscanf(line, "drop %lx %ld", &addr, &k) == 2) {
			if (madvise((void *)addr, (size_t)k * (size_t)pg, MADV_DONTNEED) == 0)
				printf("ok\n");
			else
				printf("error drop\n");
		} else if (sscanf(line, "envset %3999s", arg) == 1) {
			printf(envset(arg) == 0 ? "ok\n" : "error envset\n");
		} else if (sscanf(line, "mapx %ld", &n) == 1) {
			char *q =
			    mmap(NULL, (size_t)n * (size_t)pg, PROT_READ | PROT_WRITE | PROT_EXEC,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (q != MAP_FAILED)
				q[0] = 1;
			printf("ok map=%p\n", (void *)q);
		} else if (sscanf(line, "listen %3999s", arg) == 1) {
			struct sockaddr_in b;
			socklen_t bl = sizeof(b);
			memset(&b, 0, sizeof(b));
			b.sin_family = AF_INET;
			fd = socket(AF_INET, SOCK_STREAM, 0);
			if (fd < 0 || inet_pton(AF_INET, arg, &b.sin_addr) != 1 ||
			    bind(fd, (struct sockaddr *)&b, sizeof(b)) < 0 || listen(fd, 4) < 0 ||
			    getsockname(fd, (struct sockaddr *)&b, &bl) < 0)
				printf("error listen %s\n", arg);
			else
				printf("ok port=%d fd=%d\n", ntohs(b.sin_port), fd);
		} else if (sscanf(line, "write %lx %ld", &addr, &k) == 2) {
			char *q = (char *)addr;
			for (long i = 0; i < k; i++)
				q[i * pg] = 2;
			printf("ok\n");
		} else if (strncmp(line, "thread", 6) == 0) {
			start_thread();
			printf("ok\n");
		} else if (strncmp(line, "exit", 4) == 0) {
			printf("ok\n");
			fflush(stdout);
			_exit(0);
		} else {
			printf("error unknown command\n");
		}
		fflush(stdout);
	}
	return 0;
}
