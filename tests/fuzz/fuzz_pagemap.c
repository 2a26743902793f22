/*
 * fuzz_pagemap.c - libFuzzer harness for the pagemap.sections parser
 * (procfs/pagemap.c), with its own corpus: the input is the member itself
 * (no selector byte), seeded with pagemap.sections members of real
 * captures.  The checks are fuzz_procfs.c's (FZ_PAGEMAP): sections within
 * the input, ascending and page-aligned, counts consistent, iterators that
 * make progress.
 *
 * tests/test_fuzz_regress.c includes this file with PS_FUZZ_DRIVER_ONLY.
 */
#ifndef PS_FUZZ_DRIVER_ONLY
#define PS_FUZZ_DRIVER_ONLY
#define FZ_PAGEMAP_ENTRY
#endif
#include "fuzz_procfs.c"

static int fz_pagemap_one(const uint8_t *data, size_t size)
{
	fz_drive(FZ_PAGEMAP, (const char *)data, size);
	return 0;
}

#ifdef FZ_PAGEMAP_ENTRY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fz_pagemap_one(data, size);
}
#endif
