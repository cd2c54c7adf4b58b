// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* A hash table of intrusive nodes in LRU order; see lru_table.h. */
#include <errno.h>
#include <stdlib.h>

#include "util/lru_table.h"

static uint32_t pow2_at_least(uint32_t n)
{
	uint32_t p = 16;

	while (p < n && p < (1u << 30))
		p <<= 1;
	return p;
}

int lru_table_init(struct lru_table *t, uint32_t capacity, lru_evict_fn evict,
		   void *user)
{
	if (!capacity)
		capacity = 1;
	t->capacity = capacity;
	t->mask = pow2_at_least(capacity * 2u) - 1;
	t->n = 0;
	t->evict = evict;
	t->user = user;
	list_init(&t->lru);
	t->buckets = calloc((size_t)t->mask + 1, sizeof(*t->buckets));
	return t->buckets ? 0 : -ENOMEM;
}

void lru_table_fini(struct lru_table *t)
{
	free(t->buckets);
	t->buckets = NULL;
}

static struct lru_node **bucket_slot(const struct lru_table *t, uint64_t key)
{
	struct lru_node **pp = &t->buckets[lru_hash(key) & t->mask];

	while (*pp && (*pp)->key != key)
		pp = &(*pp)->hnext;
	return pp;
}

struct lru_node *lru_table_find(const struct lru_table *t, uint64_t key)
{
	return *bucket_slot(t, key);
}

void lru_table_insert(struct lru_table *t, struct lru_node *node,
		      uint64_t key)
{
	struct lru_node **pp = &t->buckets[lru_hash(key) & t->mask];

	node->key = key;
	node->hnext = *pp;
	*pp = node;
	list_add_head(&t->lru, &node->lru);
	t->n++;
}

void lru_table_remove(struct lru_table *t, struct lru_node *node)
{
	struct lru_node **pp = bucket_slot(t, node->key);

	if (*pp == node) {
		*pp = node->hnext;
		t->n--;
	}
	list_del(&node->lru);
}

void lru_table_touch(struct lru_table *t, struct lru_node *node)
{
	if (t->lru.next == &node->lru)
		return;
	list_del(&node->lru);
	list_add_head(&t->lru, &node->lru);
}

void lru_table_make_room(struct lru_table *t)
{
	struct lru_node *oldest = lru_table_oldest(t);

	if (t->n >= t->capacity && oldest && t->evict)
		t->evict(t->user, oldest);
}
