/*
 * bigproc.c - a process that is large where a capture is most likely to
 * hold too much (issue 9): NMAPS separate mappings (alternating protections
 * so the kernel cannot merge them; every 8th page touched), its command
 * line as long as the test makes it, and its executable as large as the
 * test made it (the test deletes the file once this is running).
 *
 *   bigproc NMAPS ARG...   prints "ready <pid>" and waits for stdin to close
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	long n = atol(argv[1]);
	long pg = sysconf(_SC_PAGESIZE);
	/* one region, every other page made read-only: n mappings that cannot
	 * merge (a hole between them would be a mapping of its own) */
	char *base = mmap(NULL, (size_t)n * (size_t)pg, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (base == MAP_FAILED)
		return 3;
	for (long i = 0; i < n; i += 8)
		base[i * pg] = 1;
	for (long i = 1; i < n; i += 2)
		if (mprotect(base + i * pg, (size_t)pg, PROT_READ) < 0)
			return 4;
	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	char c;
	while (read(0, &c, 1) > 0)
		;
	return 0;
}
