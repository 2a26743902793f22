/*
 * ir_victim.c - a process that makes itself look compromised, one command at
 * a time, for the incident-response tests (tests/test_ir.c, issue 11).
 *
 *   ir_victim [ARGS...]      (argv[0] is whatever the test chose)
 *
 * Starts 2 sleeping threads, prints "ready pid=P", then answers one line per
 * command ("ok ..." or "error ..."):
 *   patch          write one byte of its own code in place (the same value):
 *                  mprotect the page rwx, write, mprotect it back r-x.  The
 *                  page is now an anonymous copy (pagemap bit 61 clear,
 *                  smaps Anonymous > 0).  Prints page=0xADDR.
 *   anonx          an anonymous page filled with MARKER, made r-x with
 *                  mprotect.  Prints map=0xADDR.
 *   memfdx         a memfd holding MARKER pages, mapped r-x (private); the
 *                  memfd fd is closed.  Prints map=0xADDR.
 *   delx PATH      write PATH, map it r-x, delete it.  Prints map=0xADDR.
 *   bpf            load a kprobe eBPF program ("r0 = 0; exit"), keep its fd.
 *                  Prints fd=N or "error bpf ERRNO".
 *   netns-sock     listen on TCP in a new network namespace, then go back to
 *                  the original one: the socket lives in a namespace no
 *                  process is in.  Prints fd=N inode=I.
 *   comm NAME      prctl(PR_SET_NAME)
 *   exit
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MARKER "PROCSNAP-IR-MARKER"

static void *sleeper(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

/* Never called: its page is the one patched. */
__attribute__((noinline, aligned(4096))) int ir_patch_target(int x)
{
	return x * 7 + 3;
}

static void fill(unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i += 64)
		memcpy(p + i, MARKER, sizeof(MARKER) - 1);
	p[0] = 0xc3; /* ret */
}

static void patch(long pg)
{
	uintptr_t fn = (uintptr_t)&ir_patch_target;
	unsigned char *page = (unsigned char *)(fn & ~(uintptr_t)(pg - 1));
	if (mprotect(page, (size_t)pg, PROT_READ | PROT_WRITE | PROT_EXEC) != 0) {
		printf("error mprotect %d\n", errno);
		return;
	}
	volatile unsigned char *b = (volatile unsigned char *)fn;
	*b = *b;
	if (mprotect(page, (size_t)pg, PROT_READ | PROT_EXEC) != 0) {
		printf("error mprotect back %d\n", errno);
		return;
	}
	printf("ok page=%p\n", (void *)page);
}

static void anonx(long pg)
{
	unsigned char *p =
	    mmap(NULL, (size_t)pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		printf("error mmap %d\n", errno);
		return;
	}
	fill(p, (size_t)pg);
	if (mprotect(p, (size_t)pg, PROT_READ | PROT_EXEC) != 0)
		printf("error mprotect %d\n", errno);
	else
		printf("ok map=%p\n", (void *)p);
}

static void map_fd_rx(int fd, long pg, const char *what)
{
	unsigned char *buf = malloc((size_t)pg);
	fill(buf, (size_t)pg);
	if (write(fd, buf, (size_t)pg) != pg) {
		printf("error write %s %d\n", what, errno);
		free(buf);
		return;
	}
	free(buf);
	void *p = mmap(NULL, (size_t)pg, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED) {
		printf("error mmap %s %d\n", what, errno);
		return;
	}
	/* touch it, so its page is present */
	volatile unsigned char c = *(volatile unsigned char *)p;
	(void)c;
	printf("ok map=%p\n", p);
}

static void bpf_load(void)
{
	struct bpf_insn insns[2];
	memset(insns, 0, sizeof(insns));
	insns[0].code = BPF_ALU64 | BPF_MOV | BPF_K; /* r0 = 0 */
	insns[0].dst_reg = 0;
	insns[1].code = BPF_JMP | BPF_EXIT;
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_KPROBE;
	a.insns = (uintptr_t)insns;
	a.insn_cnt = 2;
	a.license = (uintptr_t) "GPL";
	int fd = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &a, sizeof(a));
	if (fd < 0)
		printf("error bpf %d\n", errno);
	else
		printf("ok fd=%d\n", fd);
}

static void netns_sock(void)
{
	int orig = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (orig < 0 || unshare(CLONE_NEWNET) != 0) {
		printf("error unshare %d\n", errno);
		if (orig >= 0)
			close(orig);
		return;
	}
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	int ok = s >= 0 && bind(s, (struct sockaddr *)&a, sizeof(a)) == 0 && listen(s, 1) == 0;
	int e = errno;
	if (setns(orig, CLONE_NEWNET) != 0) {
		printf("error setns %d\n", errno);
		exit(3); /* half-moved: not a state a test can use */
	}
	close(orig);
	struct stat sb;
	if (!ok || fstat(s, &sb) != 0)
		printf("error socket %d\n", e);
	else
		printf("ok fd=%d inode=%llu\n", s, (unsigned long long)sb.st_ino);
}

int main(void)
{
	long pg = sysconf(_SC_PAGESIZE);
	pthread_t t;
	for (int i = 0; i < 2; i++)
		if (pthread_create(&t, NULL, sleeper, NULL) == 0)
			pthread_detach(t);
	printf("ready pid=%d\n", (int)getpid());
	fflush(stdout);
	char line[4096], arg[4000];
	while (fgets(line, sizeof(line), stdin)) {
		if (strncmp(line, "patch", 5) == 0) {
			patch(pg);
		} else if (strncmp(line, "anonx", 5) == 0) {
			anonx(pg);
		} else if (strncmp(line, "memfdx", 6) == 0) {
			int fd = (int)syscall(SYS_memfd_create, "irtest", 0u);
			if (fd < 0) {
				printf("error memfd %d\n", errno);
			} else {
				map_fd_rx(fd, pg, "memfd");
				close(fd);
			}
		} else if (sscanf(line, "delx %3999[^\n]", arg) == 1) {
			int fd = open(arg, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0700);
			if (fd < 0) {
				printf("error open %d\n", errno);
			} else {
				map_fd_rx(fd, pg, "file");
				close(fd);
				unlink(arg);
			}
		} else if (strncmp(line, "bpf", 3) == 0) {
			bpf_load();
		} else if (strncmp(line, "netns-sock", 10) == 0) {
			netns_sock();
		} else if (sscanf(line, "comm %15s", arg) == 1) {
			printf(prctl(PR_SET_NAME, arg) == 0 ? "ok\n" : "error prctl\n");
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
