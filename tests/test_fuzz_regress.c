/*
 * test_fuzz_regress.c - replay the fuzzers' findings in the normal build.
 * Every file under tests/fuzz/regress/<harness>/ (a crash, timeout or leak
 * the fuzzer once found, fixed since) goes through that harness's driver
 * (tests/fuzz/fuzz_<harness>.c, compiled here without libFuzzer), and the
 * committed sample archive through the reader's.  A contract violation
 * aborts; a hang is caught by the CTest timeout; the ASan build catches
 * memory errors.
 */
#define PS_FUZZ_DRIVER_ONLY
#include "fuzz/fuzz_manifest.c"
#include "fuzz/fuzz_pagemap.c"
#include "fuzz/fuzz_reader.c"

#include <dirent.h>
#include <time.h>

#include "t.h"

static void slurp(const char *path, struct ps_buf *b)
{
	FILE *f = fopen(path, "rb");
	char buf[65536];
	size_t n;
	CHECK(f != NULL);
	if (!f)
		return;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		ps_buf_add(b, buf, n);
	fclose(f);
}

static int replay(const char *harness, int (*one)(const uint8_t *, size_t))
{
	char d[4096];
	snprintf(d, sizeof(d), "%s/tests/fuzz/regress/%s", t_srcdir, harness);
	DIR *dp = opendir(d);
	int n = 0;
	if (!dp)
		return 0;
	struct dirent *de;
	while ((de = readdir(dp)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		char p[8192];
		snprintf(p, sizeof(p), "%s/%s", d, de->d_name);
		struct ps_buf b = PS_BUF_INIT;
		slurp(p, &b);
		/* an exact-size copy, so ASan sees any over-read */
		uint8_t *copy = malloc(b.len ? b.len : 1);
		CHECK(copy != NULL);
		if (!copy)
			break;
		memcpy(copy, b.buf, b.len);
		struct timespec t0, t1;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		one(copy, b.len);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		double s =
		    (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
		printf("  %-8s %-48s %.3f s\n", harness, de->d_name, s);
		free(copy);
		ps_buf_release(&b);
		n++;
	}
	closedir(dp);
	return n;
}

static void test_regress(void)
{
	int n = replay("reader", fz_reader_one);
	n += replay("manifest", fz_manifest_json_one);
	n += replay("pagemap", fz_pagemap_one);
	CHECK(n > 0);
}

/* The committed real snapshot through the reader's driver, whole and cut. */
static void test_sample(void)
{
	char p[4096];
	snprintf(p, sizeof(p), "%s/samples/real/minimal.tar.zst", t_srcdir);
	struct ps_buf b = PS_BUF_INIT;
	slurp(p, &b);
	CHECK(b.len > 1000);
	fz_reader_one((const uint8_t *)b.buf, b.len);
	fz_reader_one((const uint8_t *)b.buf, b.len / 2);
	ps_buf_release(&b);
}

static const struct t_case cases[] = {T(test_regress), T(test_sample), {0, 0}};

T_MAIN(cases)
