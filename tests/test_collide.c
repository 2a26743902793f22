/*
 * test_collide.c - contents made to collide under XXH3-128 are not taken
 * for one another (store_int.h, PS_KEY_SECRET).
 *
 * XXH3 with its public default secret is no proof of equal bytes: for an
 * input of 97 to 128 bytes its first step mixes the 16-byte block at 48 as
 * (lo ^ s_lo) * (hi ^ s_hi), zero whenever lo equals the secret's word, and
 * adds the block at len-64 to the other half only as the sum of its two
 * words.  Two inputs that differ there, with the words of that block
 * summing alike and the block at 48 compensating the other half's product,
 * have the same XXH3-128 (checked below with libxxhash itself).
 *
 * A process can put such bytes in its own command line (argv rewritten in
 * place) or in the names of files it opens.  The archive must still hold
 * each process's own bytes (the writer's dedup once made the second a
 * hardlink to the first), and the index each fd's own target (its
 * contents dictionary once gave the second the first's row).
 */
#define XXH_INLINE_ALL
#include <xxhash.h>

#include "t.h"
#include "tutil.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LEN 128 /* XXH3_len_17to128_128b, all four rounds */

static struct ps_buf out = PS_BUF_INIT;

static uint64_t rd64(const unsigned char *p)
{
	uint64_t v;
	memcpy(&v, p, 8); /* little-endian machines only, as XXH_readLE64 there */
	return v;
}

static void wr64(unsigned char *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

static uint64_t fold(uint64_t a, uint64_t b)
{
	unsigned __int128 m = (unsigned __int128)a * b;
	return (uint64_t)m ^ (uint64_t)(m >> 64);
}

/* mix16B of the block at q with the secret at s (seed 0) */
static uint64_t mix16(const unsigned char *q, const unsigned char *s)
{
	return fold(rd64(q) ^ rd64(s), rd64(q + 8) ^ rd64(s + 8));
}

static int byte_ok(unsigned char c, int path)
{
	return !path || (c != 0 && c != '/' && c != '\n'); /* a victim command line */
}

static int block_ok(const unsigned char *p, size_t n, int path)
{
	for (size_t i = 0; i < n; i++)
		if (!byte_ok(p[i], path))
			return 0;
	return 1;
}

/*
 * a and b: LEN bytes, equal on entry; change them where the first round
 * reads (blocks 48 and 64) so that they differ and collide.  path: every
 * changed byte neither NUL nor '/'.  0, or -1 when no such pair was found.
 */
static int make_collision(unsigned char *a, unsigned char *b, int path)
{
	const unsigned char *sec = XXH3_kSecret;
	unsigned char *pa = a + 48, *qa = a + LEN - 64, *pb = b + 48, *qb = b + LEN - 64;
	uint64_t s96 = rd64(sec + 96);
	if (!block_ok(sec + 96, 8, path))
		return -1;
	for (uint64_t t = 1; t < 100000; t++) {
		uint64_t x = 0x4141414141414141ull + t * 0x0101010101ull;
		uint64_t qlo = 0x6161616161616161ull + t, qhi = 0x6262626262626262ull;
		wr64(pa, s96);
		wr64(pa + 8, x);
		wr64(qa, qlo);
		wr64(qa + 8, qhi);
		wr64(pb, s96);
		wr64(qb, qlo + 1); /* the two words sum alike */
		wr64(qb + 8, qhi - 1);
		uint64_t xb = ((mix16(qa, sec + 112) ^ (s96 + x)) ^ mix16(qb, sec + 112)) - s96;
		wr64(pb + 8, xb);
		if (block_ok(pa, 16, path) && block_ok(qa, 16, path) && block_ok(pb, 16, path) &&
		    block_ok(qb, 16, path))
			return 0;
	}
	return -1;
}

static int same_xxh3(const unsigned char *a, const unsigned char *b, size_t n)
{
	XXH128_hash_t x = XXH3_128bits(a, n), y = XXH3_128bits(b, n);
	return x.low64 == y.low64 && x.high64 == y.high64;
}

static void hex(const unsigned char *p, size_t n, char *h)
{
	for (size_t i = 0; i < n; i++)
		sprintf(h + 2 * i, "%02x", p[i]);
}

/* procsnap cat SNAP PATH into out; its exit status */
static int cat(const char *snap, const char *path)
{
	return tu_sh(&out, "%s cat %s %s", tu_procsnap(), snap, path);
}

/* Two processes whose command lines collide: each keeps its own. */
static void test_cmdline(void)
{
	const char *d = tu_tmpdir();
	char file[600], pad[LEN + 1];
	snprintf(file, sizeof(file), "%s/f", d);
	CHECK_INT(tu_sh(NULL, "head -c 4096 /dev/zero > %s", file), 0);
	const char *bin = PS_BINARY_DIR "/tests/victim";
	long npad = (long)LEN - (long)(strlen(bin) + 1 + strlen(file) + 1) - 1;
	if (npad < 1)
		T_SKIP_CASE("the victim's path and file leave no room for a 128-byte command line");
	memset(pad, 'p', (size_t)npad);
	pad[npad] = '\0';
	const char *args[] = {pad, NULL};
	const char *env[] = {"PATH=/usr/bin:/bin", NULL};
	struct tu_victim va, vb;
	CHECK_INT(tu_victim_start(&va, file, args, env), 0);
	CHECK_INT(tu_victim_start(&vb, file, args, env), 0);

	unsigned char ca[LEN], cb[LEN];
	memset(ca, 'c', sizeof(ca));
	ca[LEN - 1] = '\0';
	memcpy(cb, ca, sizeof(cb));
	CHECK_INT(make_collision(ca, cb, 0), 0);
	CHECK(memcmp(ca, cb, LEN) != 0);
	CHECK(same_xxh3(ca, cb, LEN)); /* the premise: XXH3-128 cannot tell them apart */

	char h[2 * LEN + 1], reply[64];
	hex(ca, LEN, h);
	CHECK_INT(tu_victim_cmd(&va, reply, sizeof(reply), "argv %s", h), 0);
	CHECK_STR(reply, "ok");
	hex(cb, LEN, h);
	CHECK_INT(tu_victim_cmd(&vb, reply, sizeof(reply), "argv %s", h), 0);
	CHECK_STR(reply, "ok");
	char p[64];
	struct ps_buf live = PS_BUF_INIT;
	snprintf(p, sizeof(p), "/proc/%d/cmdline", (int)vb.pid);
	CHECK_INT(tu_slurp(p, &live), 0);
	CHECK(live.len == LEN && memcmp(live.buf, cb, LEN) == 0);
	ps_buf_release(&live);

	char snap[700];
	snprintf(snap, sizeof(snap), "%s/c.tar.zst", d);
	CHECK_INT(tu_sh(NULL, "%s capture -q -o %s 2>/dev/null", tu_procsnap(), snap), 0);
	/* the archive, through the index's keys, and as stored */
	snprintf(p, sizeof(p), "proc/%d/cmdline", (int)va.pid);
	CHECK_INT(cat(snap, p), 0);
	CHECK(out.len == LEN && memcmp(out.buf, ca, LEN) == 0);
	snprintf(p, sizeof(p), "proc/%d/cmdline", (int)vb.pid);
	CHECK_INT(cat(snap, p), 0);
	CHECK(out.len == LEN && memcmp(out.buf, cb, LEN) == 0);
	/* neither member is a hardlink: each holds its own bytes */
	CHECK_INT(tu_sh(&out, "tar --zstd -tvf %s proc/%d/cmdline proc/%d/cmdline | grep -c '^h'",
			snap, (int)va.pid, (int)vb.pid),
		  1); /* grep -c finds none: status 1 */
	CHECK_STR(out.buf, "0\n");
	CHECK_INT(tu_sh(NULL, "%s verify %s >/dev/null", tu_procsnap(), snap), 0);
	tu_victim_stop(&va);
	tu_victim_stop(&vb);
}

/* Two files whose absolute paths collide, open in one process: each fd
 * keeps its own target in the index. */
static void test_link_targets(void)
{
	const char *d = tu_tmpdir();
	size_t pl = strlen(d) + 1;
	if (pl > 48)
		T_SKIP_CASE("the scratch directory's path is over 47 bytes");
	unsigned char ta[LEN + 1], tb[LEN + 1];
	memset(ta, 'n', LEN);
	memcpy(ta, d, pl - 1);
	ta[pl - 1] = '/';
	ta[LEN] = '\0';
	memcpy(tb, ta, sizeof(tb));
	if (make_collision(ta, tb, 1) < 0)
		T_SKIP_CASE("no colliding pair of file names found");
	CHECK(same_xxh3(ta, tb, LEN));
	CHECK(strcmp((char *)ta, (char *)tb) != 0);
	for (int k = 0; k < 2; k++) {
		int fd = open(k ? (char *)tb : (char *)ta, O_WRONLY | O_CREAT | O_EXCL, 0600);
		CHECK(fd >= 0);
		if (fd >= 0)
			close(fd);
	}
	char file[600];
	snprintf(file, sizeof(file), "%s/f", d);
	CHECK_INT(tu_sh(NULL, "head -c 4096 /dev/zero > %s", file), 0);
	const char *env[] = {"PATH=/usr/bin:/bin", NULL};
	struct tu_victim v;
	CHECK_INT(tu_victim_start(&v, file, NULL, env), 0);
	char reply[64];
	int fda = -1, fdb = -1;
	CHECK_INT(tu_victim_cmd(&v, reply, sizeof(reply), "open %s", (char *)ta), 0);
	CHECK(sscanf(reply, "ok fd=%d", &fda) == 1 && fda >= 0);
	CHECK_INT(tu_victim_cmd(&v, reply, sizeof(reply), "open %s", (char *)tb), 0);
	CHECK(sscanf(reply, "ok fd=%d", &fdb) == 1 && fdb >= 0);

	char snap[700], db[720];
	snprintf(snap, sizeof(snap), "%s/l.tar.zst", d);
	snprintf(db, sizeof(db), "%s.db", snap);
	CHECK_INT(tu_sh(NULL, "%s capture -q -o %s 2>/dev/null", tu_procsnap(), snap), 0);
	for (int k = 0; k < 2; k++) {
		const char *want = k ? (char *)tb : (char *)ta;
		int fd = k ? fdb : fda;
		CHECK_INT(tu_sh(&out,
				"sqlite3 %s \"SELECT link_target FROM files WHERE path = "
				"'proc/%d/fd/%d'\"",
				db, (int)v.pid, fd),
			  0);
		CHECK(out.len == LEN + 1 && memcmp(out.buf, want, LEN) == 0);
		CHECK_INT(tu_sh(&out,
				"sqlite3 %s \"SELECT path FROM process_open_files WHERE pid = %d "
				"AND fd = %d\"",
				db, (int)v.pid, fd),
			  0);
		CHECK(out.len == LEN + 1 && memcmp(out.buf, want, LEN) == 0);
	}
	/* procsnap index of the archive makes the same rows */
	char rdb[600];
	snprintf(rdb, sizeof(rdb), "%s/r.db", d);
	CHECK_INT(tu_sh(NULL, "%s index -o %s %s 2>/dev/null", tu_procsnap(), rdb, snap), 0);
	CHECK_INT(tu_index_same(db, rdb), 0);
	tu_victim_stop(&v);
}

static void teardown(void)
{
	ps_buf_release(&out);
	tu_cleanup();
}

static const struct t_case t_cases[] = {T(test_cmdline), T(test_link_targets), {0, 0}};
T_MAIN_SETUP(t_cases, NULL, teardown)
