/*
 * test_index_malformed.c - robustness of index opening without libFuzzer.
 * Runs the fuzz driver (tests/fuzz/fuzz_index.c: ps_index_open, then every
 * row of snapshots and processes) over a real index built from
 * samples/proc-fixture, every truncation of it at and around page
 * boundaries, and deterministic byte mutations concentrated on the header
 * and the schema page.  Meant for the ASan/UBSan build; it also runs in a
 * plain one.  The intact index must open; every other input either opens
 * or is refused with a message - never a crash, an abort or a leak.
 */
#define PS_FUZZ_DRIVER_ONLY
#include "fuzz/fuzz_index.c"

#include "t.h"
#include "tutil.h"

#define FIXTURE PS_SOURCE_DIR "/samples/proc-fixture"

static struct ps_buf idx = PS_BUF_INIT;

static void setup(void)
{
	char snap[600], db[620];
	snprintf(snap, sizeof(snap), "%s/fx.tar.zst", tu_tmpdir());
	snprintf(db, sizeof(db), "%s.db", snap);
	if (tu_sh(NULL, "%s capture -q --root %s -o %s 2>/dev/null", tu_procsnap(), FIXTURE,
		  snap) != 0 ||
	    tu_slurp(db, &idx) != 0 || idx.len < 4096) {
		fprintf(stderr, "cannot build the fixture index\n");
		t_failures++;
	}
}

static void teardown(void)
{
	ps_buf_release(&idx);
	tu_cleanup();
}

static void intact(void)
{
	CHECK_INT(fz_index_one((const uint8_t *)idx.buf, idx.len), 0);
}

static void truncated(void)
{
	int opened = 0, refused = 0;
	for (size_t cut = 0; cut < idx.len; cut += cut < 200 ? 1 : 2048) {
		if (fz_index_one((const uint8_t *)idx.buf, cut) == 0)
			opened++;
		else
			refused++;
	}
	CHECK(refused > 100);
	printf("truncated: %d opened, %d refused\n", opened, refused);
}

/* xorshift: the same mutations on every run */
static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void mutated(void)
{
	struct ps_buf m = PS_BUF_INIT;
	int opened = 0, refused = 0;
	for (int i = 0; i < 600; i++) {
		ps_buf_reset(&m);
		ps_buf_add(&m, idx.buf, idx.len);
		int nflips = 1 + (int)(next() % 4);
		for (int k = 0; k < nflips; k++) {
			uint64_t r = next();
			/* a third in the 100-byte header, a third in page 1 (the
			 * schema), a third anywhere */
			size_t off = i % 3 == 0 ? r % 100 : i % 3 == 1 ? r % 4096 : r % m.len;
			unsigned char v = (unsigned char)(next() >> 24);
			m.buf[off] =
			    (char)(i & 1 ? v : (unsigned char)m.buf[off] ^ (1u << (v & 7)));
		}
		if (fz_index_one((const uint8_t *)m.buf, m.len) == 0)
			opened++;
		else
			refused++;
	}
	CHECK(opened + refused == 600);
	printf("mutated: %d opened, %d refused\n", opened, refused);
	ps_buf_release(&m);
}

static const struct t_case t_cases[] = {T(intact), T(truncated), T(mutated), {NULL, NULL}};
T_MAIN_SETUP(t_cases, setup, teardown)
