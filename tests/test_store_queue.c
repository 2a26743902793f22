/*
 * test_store_queue.c - the pool that recycles the pipeline's batch buffers
 * (store/queue.c).  A buffer the pool hands out must be one it takes back:
 * when ps_pool_get rounded a fresh buffer up to a power of two, every batch
 * of `procsnap index` (1 MiB + 64 KiB asked, 2 MiB made, 1 MiB + 64 KiB
 * kept at most) went back to the allocator, and each new one cost the
 * kernel fresh zeroed pages (a rebuild at N=2000 took 0.97-1.02 s instead
 * of 0.93-0.95 s).
 */
#include "t.h"

#include "store_int.h"

#define CAP ((size_t)(1u << 20) + 64 * 1024)

static void pool_recycles_its_own_buffers(void)
{
	struct ps_pool p;
	ps_pool_init(&p, CAP);
	struct ps_buf b = PS_BUF_INIT;
	ps_pool_get(&p, &b, CAP);
	CHECK_U64(b.cap, CAP);
	CHECK_U64(b.len, 0);
	CHECK_STR(b.buf, "");
	char *first = b.buf;
	ps_buf_add(&b, "batch", 5);
	ps_pool_put(&p, ps_chunk_from(&b));
	CHECK_U64(p.n, 1);
	ps_pool_get(&p, &b, CAP);
	CHECK(b.buf == first); /* the same buffer, emptied */
	CHECK_U64(b.len, 0);
	CHECK_STR(b.buf, "");
	CHECK_U64(p.n, 0);
	ps_buf_release(&b);
	ps_pool_destroy(&p);
}

static void pool_lets_a_grown_buffer_go(void)
{
	struct ps_pool p;
	ps_pool_init(&p, CAP);
	struct ps_buf b = PS_BUF_INIT;
	ps_pool_get(&p, &b, CAP);
	ps_buf_grow(&b, CAP + 1); /* a member larger than a batch */
	CHECK(b.cap > CAP);
	ps_pool_put(&p, ps_chunk_from(&b));
	CHECK_U64(p.n, 0); /* not kept: the pool would hold the peak */
	/* two are kept by default, up to ps_pool_keep's number (at most
	 * PS_POOL_MAX), and none after ps_pool_trim */
	struct ps_buf many[PS_POOL_MAX + 2];
	size_t keep[] = {0, 4, PS_POOL_MAX + 5}, want[] = {2, 4, PS_POOL_MAX};
	for (size_t k = 0; k < 3; k++) {
		if (keep[k])
			ps_pool_keep(&p, keep[k]);
		for (size_t i = 0; i < PS_POOL_MAX + 2; i++) {
			ps_buf_init(&many[i]);
			ps_pool_get(&p, &many[i], CAP);
		}
		CHECK_U64(p.n, 0);
		for (size_t i = 0; i < PS_POOL_MAX + 2; i++)
			ps_pool_put(&p, ps_chunk_from(&many[i]));
		CHECK_U64(p.n, want[k]);
	}
	ps_pool_trim(&p);
	CHECK_U64(p.n, 0);
	ps_pool_get(&p, &b, CAP); /* still a pool after a trim */
	ps_pool_put(&p, ps_chunk_from(&b));
	CHECK_U64(p.n, 1);
	ps_pool_destroy(&p);
}

static const struct t_case t_cases[] = {
    T(pool_recycles_its_own_buffers), T(pool_lets_a_grown_buffer_go), {0, 0}};
T_MAIN(t_cases)
