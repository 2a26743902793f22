/*
 * queue.c - the hand-over between the pipeline's threads: a bounded queue of
 * byte chunks and a pool that recycles their buffers.
 *
 * Batches of members and tar chunks pass between threads about once per
 * MiB; freeing and reallocating them made the kernel zero fresh pages for
 * every one (clear_page was a fifth of the capture profile), so buffers of
 * the ordinary size go back to a small pool.  The pool makes them at exactly
 * the size asked, so that they fit what it keeps.
 */
#include "store_int.h"

#include <stdlib.h>
#include <string.h>

void ps_pool_init(struct ps_pool *p, size_t keep_max)
{
	memset(p, 0, sizeof(*p));
	pthread_mutex_init(&p->mu, NULL);
	p->keep_max = keep_max;
	p->max_n = 2;
}

void ps_pool_keep(struct ps_pool *p, size_t n)
{
	pthread_mutex_lock(&p->mu);
	p->max_n = n < PS_POOL_MAX ? n : PS_POOL_MAX;
	pthread_mutex_unlock(&p->mu);
}

void ps_pool_trim(struct ps_pool *p)
{
	pthread_mutex_lock(&p->mu);
	for (size_t i = 0; i < p->n; i++)
		free(p->free[i].data);
	p->n = 0;
	pthread_mutex_unlock(&p->mu);
}

void ps_pool_destroy(struct ps_pool *p)
{
	ps_pool_trim(p);
	pthread_mutex_destroy(&p->mu);
}

void ps_pool_get(struct ps_pool *p, struct ps_buf *b, size_t cap)
{
	ps_buf_release(b);
	pthread_mutex_lock(&p->mu);
	for (size_t i = 0; i < p->n; i++) {
		if (p->free[i].cap >= cap) {
			b->buf = p->free[i].data;
			b->cap = p->free[i].cap;
			p->free[i] = p->free[--p->n];
			break;
		}
	}
	pthread_mutex_unlock(&p->mu);
	b->len = 0;
	/* exactly cap, not ps_buf_grow's next power of two: a buffer the pool
	 * made must be one it takes back (keep_max is a multiple of cap) */
	ps_buf_reserve(b, cap);
	b->buf[0] = '\0';
}

void ps_pool_put(struct ps_pool *p, struct ps_chunk c)
{
	pthread_mutex_lock(&p->mu);
	/* Keep ordinary buffers only: one grown by a large member goes back to
	 * the allocator, or the pool would hold the peak for the whole run. */
	if (p->n < p->max_n && c.cap && c.cap <= p->keep_max) {
		p->free[p->n++] = c;
		c.data = NULL;
	}
	pthread_mutex_unlock(&p->mu);
	free(c.data);
}

struct ps_chunk ps_chunk_from(struct ps_buf *b)
{
	struct ps_chunk c = {b->buf, b->len, b->cap, 0};
	if (!b->cap)
		c.data = NULL; /* the shared empty buffer is not ours */
	ps_buf_init(b);
	return c;
}

void ps_bq_init(struct ps_bq *b)
{
	memset(b, 0, sizeof(*b));
	pthread_mutex_init(&b->mu, NULL);
	pthread_cond_init(&b->can_put, NULL);
	pthread_cond_init(&b->can_take, NULL);
	pthread_cond_init(&b->idle, NULL);
}

void ps_bq_destroy(struct ps_bq *b)
{
	while (b->count) {
		free(b->q[b->head].data);
		b->head = (b->head + 1) % PS_BQ_SLOTS;
		b->count--;
	}
	pthread_mutex_destroy(&b->mu);
	pthread_cond_destroy(&b->can_put);
	pthread_cond_destroy(&b->can_take);
	pthread_cond_destroy(&b->idle);
}

void ps_bq_put(struct ps_bq *b, struct ps_chunk c)
{
	pthread_mutex_lock(&b->mu);
	while (b->count == PS_BQ_SLOTS)
		pthread_cond_wait(&b->can_put, &b->mu);
	b->q[(b->head + b->count) % PS_BQ_SLOTS] = c;
	b->count++;
	b->put++;
	pthread_cond_signal(&b->can_take);
	pthread_mutex_unlock(&b->mu);
}

int ps_bq_take(struct ps_bq *b, struct ps_chunk *c)
{
	pthread_mutex_lock(&b->mu);
	while (b->count == 0 && !b->done)
		pthread_cond_wait(&b->can_take, &b->mu);
	int got = b->count > 0;
	if (got) {
		*c = b->q[b->head];
		b->head = (b->head + 1) % PS_BQ_SLOTS;
		b->count--;
		pthread_cond_signal(&b->can_put);
	}
	pthread_mutex_unlock(&b->mu);
	return got;
}

void ps_bq_handled(struct ps_bq *b)
{
	pthread_mutex_lock(&b->mu);
	b->done_n++;
	pthread_cond_broadcast(&b->idle);
	pthread_mutex_unlock(&b->mu);
}

void ps_bq_drain(struct ps_bq *b)
{
	pthread_mutex_lock(&b->mu);
	while (b->done_n != b->put)
		pthread_cond_wait(&b->idle, &b->mu);
	pthread_mutex_unlock(&b->mu);
}

void ps_bq_close(struct ps_bq *b)
{
	pthread_mutex_lock(&b->mu);
	b->done = 1;
	pthread_cond_broadcast(&b->can_take);
	pthread_mutex_unlock(&b->mu);
}
