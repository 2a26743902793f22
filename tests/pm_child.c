/*
 * pm_child.c - a process with known pages for the pagemap tests, linked
 * statically (tests/pagemap.cmake) so it shares no file page with any
 * other process: its pagemap entries, including the "exclusive" bit (56,
 * which reflects how many processes map a page), then depend on nothing but
 * itself, and two captures of it while stopped must be byte-identical.
 *
 * It maps 64 anonymous pages between two PROT_NONE guard pages (so the
 * kernel cannot merge the vma with a neighbour) and touches exactly pages
 * 0, 3 and 7; then a 100000-page reservation, also guarded, with 50 pages
 * touched (every 2000th), and a 1000000-page (4 GiB) MAP_NORESERVE one with
 * 2 pages touched (first and last).  It prints
 * "map=0xADDR big=0xADDR huge=0xADDR\n" and pauses until killed.
 */
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

static char *guarded(long pg, long n)
{
	char *g =
	    mmap(NULL, (size_t)(n + 2) * (size_t)pg, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (g == MAP_FAILED || mprotect(g + pg, (size_t)n * (size_t)pg, PROT_READ | PROT_WRITE))
		return NULL;
	return g + pg;
}

int main(void)
{
	long pg = sysconf(_SC_PAGESIZE);
	char *m = guarded(pg, 64), *big = guarded(pg, 100000);
	char *huge = mmap(NULL, 1000000 * (size_t)pg, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (!m || !big || huge == MAP_FAILED)
		return 3;
	m[0] = m[3 * pg] = m[7 * pg] = 1;
	for (long i = 0; i < 50; i++)
		big[i * 2000 * pg] = 1;
	huge[0] = huge[999999 * pg] = 1;
	char line[160];
	int n = snprintf(line, sizeof(line), "map=%p big=%p huge=%p\n", (void *)m, (void *)big,
			 (void *)huge);
	if (write(1, line, (size_t)n) != n)
		return 3;
	close(1);
	for (;;)
		pause();
}
