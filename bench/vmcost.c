/*
 * vmcost: what the machine charges for the things a procsnap command does
 * many of, so that bench runs on different VMs (or on one VM at different
 * moments) can be compared.  One line on stdout:
 *
 *   vmcost touch_us=T syscall_us=S spawn_ms=P loop_ns=L
 *
 *   touch_us    the first write to a fresh anonymous 4 KiB page (the page
 *               fault), median of 3 passes over 32 MiB
 *   syscall_us  one getppid(), median of 3 x 100,000
 *   spawn_ms    fork + exec of /bin/true + wait, median of 21
 *   loop_ns     one step of a fixed integer loop (CPU speed), median of 3
 *
 * On the 2-core VMs of bench/RESULTS.md a first touch of a page took
 * 10-18 us on one kernel (kernel and hypervisor page tables: shadow
 * paging), against ~0.3 us on bare metal; every short command pays it for
 * each page it touches.  Standalone: no project code is linked.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_us(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static double touch_us(void)
{
	const size_t pages = 8192, pg = 4096;
	char *p = mmap(NULL, pages * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
		       0);
	if (p == MAP_FAILED)
		return -1;
	double t0 = now_us();
	for (size_t i = 0; i < pages; i++)
		p[i * pg] = 1;
	double t = (now_us() - t0) / (double)pages;
	munmap(p, pages * pg);
	return t;
}

static double syscall_us(void)
{
	const int n = 100000;
	double t0 = now_us();
	for (int i = 0; i < n; i++)
		(void)getppid();
	return (now_us() - t0) / n;
}

static double spawn_ms(void)
{
	double t0 = now_us();
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		execl("/bin/true", "true", (char *)NULL);
		_exit(127);
	}
	int st;
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return -1;
	return (now_us() - t0) / 1e3;
}

static double loop_ns(void)
{
	const uint64_t n = 50000000;
	volatile uint64_t sink;
	uint64_t x = 88172645463325252ull;
	double t0 = now_us();
	for (uint64_t i = 0; i < n; i++) { /* xorshift64: no memory, no branches */
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
	}
	sink = x;
	(void)sink;
	return (now_us() - t0) * 1e3 / (double)n;
}

int main(void)
{
	double t[3], s[3], l[3], p[21];
	for (int i = 0; i < 3; i++) {
		t[i] = touch_us();
		s[i] = syscall_us();
		l[i] = loop_ns();
	}
	for (int i = 0; i < 21; i++)
		p[i] = spawn_ms();
	for (int i = 0; i < 3; i++)
		if (t[i] < 0)
			return fprintf(stderr, "vmcost: mmap failed\n"), 1;
	for (int i = 0; i < 21; i++)
		if (p[i] < 0)
			return fprintf(stderr, "vmcost: cannot run /bin/true\n"), 1;
	printf("vmcost touch_us=%.2f syscall_us=%.3f spawn_ms=%.2f loop_ns=%.3f\n", median(t, 3),
	       median(s, 3), median(p, 21), median(l, 3));
	return 0;
}
