/*
 * hmap.c - one open-addressing hash table for the whole project: 64-bit keys
 * (already hashes: XXH3 of a name, an inode number...) to 64-bit values,
 * linear probing, backward-shift deletion (no tombstones), growth by
 * doubling up to an optional entry limit.  The callers that need exactness
 * keep the hashed bytes themselves and compare on a hit.
 */
#include "common.h"

#include <stdlib.h>
#include <string.h>

/* Keys are hashes already, but a weak one (an inode number) must still
 * spread: mix before taking the low bits (the splitmix64 finaliser). */
static size_t home(const struct ps_hmap *m, uint64_t key)
{
	return (size_t)ps_mix64(key) & (m->cap - 1);
}

void ps_hmap_init(struct ps_hmap *m, size_t max_entries)
{
	memset(m, 0, sizeof(*m));
	m->max = max_entries;
}

void ps_hmap_release(struct ps_hmap *m)
{
	free(m->keys);
	free(m->vals);
	size_t max = m->max;
	ps_hmap_init(m, max);
}

/* Key 0 marks an empty slot: store it as 1 (a collision the callers
 * resolve like any other). */
static uint64_t fix(uint64_t key)
{
	return key ? key : 1;
}

static void grow(struct ps_hmap *m)
{
	size_t ocap = m->cap;
	uint64_t *ok = m->keys, *ov = m->vals;
	m->cap = ocap ? ocap * 2 : 64;
	m->keys = ps_xcalloc(m->cap, sizeof(*m->keys));
	m->vals = ps_xmalloc(m->cap * sizeof(*m->vals));
	m->n = 0;
	for (size_t i = 0; i < ocap; i++) {
		if (!ok[i])
			continue;
		size_t j = home(m, ok[i]);
		while (m->keys[j])
			j = (j + 1) & (m->cap - 1);
		m->keys[j] = ok[i];
		m->vals[j] = ov[i];
		m->n++;
	}
	free(ok);
	free(ov);
}

int ps_hmap_put(struct ps_hmap *m, uint64_t key, uint64_t val)
{
	key = fix(key);
	if (m->max && m->n >= m->max)
		return -1;
	if (2 * (m->n + 1) > m->cap)
		grow(m);
	size_t i = home(m, key);
	while (m->keys[i])
		i = (i + 1) & (m->cap - 1);
	m->keys[i] = key;
	m->vals[i] = val;
	m->n++;
	return 0;
}

int ps_hmap_next(const struct ps_hmap *m, uint64_t key, size_t *it, uint64_t *val)
{
	if (!m->cap)
		return 0;
	key = fix(key);
	size_t i = *it ? *it : home(m, key) + 1;
	/* *it holds the slot after the last one returned (+1, so 0 = start). */
	for (i = i - 1; m->keys[i]; i = (i + 1) & (m->cap - 1)) {
		if (m->keys[i] == key) {
			*val = m->vals[i];
			*it = ((i + 1) & (m->cap - 1)) + 1;
			return 1;
		}
	}
	return 0;
}

int ps_hmap_get(const struct ps_hmap *m, uint64_t key, uint64_t *val)
{
	size_t it = 0;
	return ps_hmap_next(m, key, &it, val);
}

int ps_hmap_del(struct ps_hmap *m, uint64_t key, uint64_t val)
{
	if (!m->cap)
		return 0;
	key = fix(key);
	size_t mask = m->cap - 1, i = home(m, key);
	while (m->keys[i] && !(m->keys[i] == key && m->vals[i] == val))
		i = (i + 1) & mask;
	if (!m->keys[i])
		return 0;
	/* Backward shift: move later entries of the run into the hole unless
	 * their home lies cyclically in (hole, j]. */
	for (;;) {
		m->keys[i] = 0;
		size_t j = i;
		for (;;) {
			j = (j + 1) & mask;
			if (!m->keys[j]) {
				m->n--;
				return 1;
			}
			size_t h = home(m, m->keys[j]);
			if (i <= j ? (h <= i || h > j) : (h <= i && h > j))
				break;
		}
		m->keys[i] = m->keys[j];
		m->vals[i] = m->vals[j];
		i = j;
	}
}
