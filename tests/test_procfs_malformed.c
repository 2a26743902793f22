/*
 * test_procfs_malformed.c - CTest "procfs_malformed": robustness without
 * libFuzzer.  Runs the fuzz driver (tests/fuzz/fuzz_procfs.c: every parser,
 * with contract checks) over every file in samples/procfs/, over every
 * prefix of it (each copied to a buffer of exactly that size, so ASan sees
 * any over-read) and over deterministic mutations: flipped bytes, injected
 * separators, huge numbers, deleted and duplicated ranges.  Meant for the
 * ASan/UBSan build (-DPROCSNAP_SANITIZE=ON); it also runs in a plain build.
 */
#define PS_FUZZ_DRIVER_ONLY
#include "fuzz/fuzz_procfs.c"

#include <dirent.h>

#include "t.h"

/* The parsers a sample is meant for, by file name prefix. */
static const struct {
	const char *prefix;
	unsigned parsers[3];
	int n;
} owners[] = {
    {"stat.", {FZ_STAT}, 1},
    {"statm", {FZ_STATM}, 1},
    {"status", {FZ_STATUS, FZ_KV}, 2},
    {"smaps", {FZ_SMAPS}, 1},
    {"maps", {FZ_MAPS, FZ_UNESCAPE}, 2},
    {"io", {FZ_IO, FZ_KV}, 2},
    {"cmdline", {FZ_NUL}, 1},
    {"environ", {FZ_NUL}, 1},
    {"limits", {FZ_LIMITS}, 1},
    {"cgroup", {FZ_CGROUP}, 1},
    {"fdinfo", {FZ_FDINFO, FZ_KV}, 2},
    {"fdlinks", {FZ_LINK}, 1},
    {"nslinks", {FZ_LINK}, 1},
    {"mountinfo", {FZ_MOUNTINFO}, 1},
    {"net_unix", {FZ_UNIX}, 1},
    {"net_", {FZ_INET}, 1},
    {"modules", {FZ_MODULES}, 1},
    {"loadavg", {FZ_LOADAVG}, 1},
    {"uptime", {FZ_UPTIME}, 1},
    {"tainted", {FZ_U64FILE}, 1},
    {"meminfo", {FZ_KV, FZ_WORDS}, 2},
    {"vmstat", {FZ_KV, FZ_WORDS}, 2},
    {"proc_stat", {FZ_KV, FZ_WORDS}, 2},
    {"pagemap", {FZ_PAGEMAP}, 1},
};

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint64_t next_rand(void)
{
	/* xorshift64: deterministic, so a failure reproduces */
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static size_t nruns;

/* Run parser sel over a private exact-size copy of [p, p+n). */
static void run(unsigned sel, const char *p, size_t n)
{
	char *copy = malloc(n ? n : 1);
	if (n)
		memcpy(copy, p, n);
	/* n == 0: pass a pointer to a zero-sized region at the end of a block */
	fz_drive(sel, n ? copy : copy + 1, n);
	free(copy);
	nruns++;
}

static void run_all(const char *p, size_t n)
{
	for (unsigned sel = 0; sel < FZ_NPARSERS; sel++)
		run(sel, p, n);
}

static const char *const inserts[] = {
    "99999999999999999999",
    "18446744073709551616",
    "18446744073709551615",
    "-9223372036854775808",
    "9223372036854775808",
    "ffffffffffffffffff",
    "\n",
    "\0",
    " ",
    "\t",
    ":",
    "(",
    ")",
    ") (",
    "-",
    "\\",
    "\\0",
    "\\777",
    "0x",
    "\xff\xfe",
    " (deleted)",
    "[",
    "]",
    "socket:[",
    "/",
    "=",
    " - ",
    "kB",
};

/* One random mutation of src into dst (capacity cap); returns the length. */
static size_t mutate(const char *src, size_t n, char *dst, size_t cap)
{
	size_t at = n ? (size_t)(next_rand() % (n + 1)) : 0;
	switch (next_rand() % 5) {
	case 0: /* flip bits of a byte */
		memcpy(dst, src, n);
		if (n)
			dst[at % n] ^= (char)(1u << (next_rand() % 8));
		return n;
	case 1: /* overwrite a byte with a separator */
		memcpy(dst, src, n);
		if (n)
			dst[at % n] = "\n\0 :()-\\\t/"[next_rand() % 11];
		return n;
	case 2: { /* insert a token */
		const char *ins = inserts[next_rand() % (sizeof(inserts) / sizeof(inserts[0]))];
		size_t il = ins[0] ? strlen(ins) : 1;
		if (n + il > cap)
			il = 0;
		memcpy(dst, src, at);
		memcpy(dst + at, ins, il);
		memcpy(dst + at + il, src + at, n - at);
		return n + il;
	}
	case 3: { /* delete a range */
		size_t dl = n - at ? (size_t)(next_rand() % (n - at + 1)) % 64 : 0;
		memcpy(dst, src, at);
		memcpy(dst + at, src + at + dl, n - at - dl);
		return n - dl;
	}
	default: { /* duplicate a range */
		size_t dl = n - at ? (size_t)(next_rand() % (n - at + 1)) % 200 : 0;
		if (n + dl > cap)
			dl = 0;
		memcpy(dst, src, at + dl);
		memcpy(dst + at + dl, src + at, n - at);
		return n + dl;
	}
	}
}

static void one_sample(const char *name, const char *data, size_t n)
{
	unsigned own[3];
	int nown = 0;
	for (size_t i = 0; i < sizeof(owners) / sizeof(owners[0]); i++) {
		if (strncmp(name, owners[i].prefix, strlen(owners[i].prefix)) == 0) {
			memcpy(own, owners[i].parsers, sizeof(own));
			nown = owners[i].n;
			break;
		}
	}
	/* every parser on the whole file */
	run_all(data, n);
	/* every prefix: for the owning parsers (all parsers for hand-made junk);
	 * every parser on a sample of prefixes, so the total stays O(n) */
	size_t stride = n / 64 + 1;
	for (size_t k = 0; k <= n; k++) {
		if (nown) {
			for (int j = 0; j < nown; j++)
				run(own[j], data, k);
		}
		if (!nown || k % stride == 0 || k + 1 >= n)
			run_all(data, k);
	}
	/* mutations: up to three stacked per variant */
	size_t cap = n + 4096;
	char *a = malloc(cap), *b = malloc(cap);
	for (int v = 0; v < 300; v++) {
		size_t len = n;
		memcpy(a, data, n);
		int depth = 1 + (int)(next_rand() % 3);
		for (int d = 0; d < depth; d++) {
			len = mutate(a, len, b, cap);
			char *t = a;
			a = b;
			b = t;
		}
		if (nown && v % 10)
			for (int j = 0; j < nown; j++)
				run(own[j], a, len);
		else
			run_all(a, len);
	}
	free(a);
	free(b);
}

static void all_samples(void)
{
	char dir[4096];
	snprintf(dir, sizeof(dir), "%s/samples/procfs", t_srcdir);
	DIR *d = opendir(dir);
	CHECK(d != NULL);
	if (!d)
		return;
	struct dirent *de;
	int files = 0;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		char path[8192];
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		FILE *f = fopen(path, "rb");
		if (!f)
			continue;
		static char data[65536];
		size_t n = fread(data, 1, sizeof(data), f);
		CHECK(feof(f)); /* fixtures stay under 64 KiB */
		fclose(f);
		one_sample(de->d_name, data, n);
		files++;
	}
	closedir(d);
	CHECK(files >= 40);
	printf("procfs_malformed: %d files, %zu parser runs\n", files, nruns);
}

/* Inputs that once needed care, kept as fixed regressions. */
static void edge_inputs(void)
{
	static const char *const cases[] = {
	    "",
	    "\n",
	    "\0",
	    "(",
	    ")",
	    "()",
	    ")(",
	    "1 (",
	    "1 ()",
	    "1 () R",
	    "1 (x) R 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19",
	    "-",
	    "1-",
	    "-1",
	    "1-2",
	    ":",
	    "::",
	    ":::",
	    "a:b:c",
	    "\\",
	    "\\0",
	    "\\01",
	    "\\012",
	    "socket:[",
	    "socket:[]",
	    "/ (deleted)",
	    " (deleted)",
	    "sl",
	    "Num",
	    "Limit",
	    "0: :",
	    "0: 0:0 0:0 0 0:0 0:0",
	    "x 1 - - Live 0x1 (",
	    "x 1 - - Live 0x1 ()",
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_all(cases[i], strlen(cases[i]));
	run_all("\0\0\0", 3);
}

static const struct t_case t_cases[] = {T(edge_inputs), T(all_samples), {0, 0}};
T_MAIN(t_cases)
