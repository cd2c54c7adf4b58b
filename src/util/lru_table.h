/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A hash table of intrusive nodes keyed by a uint64, kept in LRU order,
 * with a capacity: the connection and the process tables.
 *
 * The caller embeds a struct lru_node in its element and allocates the
 * element; the table only links it. Lookups do not reorder; the caller
 * says when an element is used (lru_table_touch()). Before inserting a
 * new element the caller asks for room (lru_table_make_room()): when
 * the table is full, the evict callback gets the least recently used
 * element and must remove it (lru_table_remove()), after whatever else
 * it has to do with it.
 *
 * Chains in 2 x capacity buckets (a power of two). Not thread-safe.
 */
#ifndef HTTPTRACE_LRU_TABLE_H
#define HTTPTRACE_LRU_TABLE_H

#include <stdbool.h>
#include <stdint.h>

#include "util/list.h"

struct lru_node {
	uint64_t key;
	struct lru_node *hnext; /* next in the bucket */
	struct list lru;        /* in the table's LRU list */
};

struct lru_table;
typedef void (*lru_evict_fn)(void *user, struct lru_node *oldest);

struct lru_table {
	struct lru_node **buckets;
	uint32_t mask;          /* buckets - 1 */
	uint32_t n;             /* elements in the table */
	uint32_t capacity;
	struct list lru;        /* most recently used first */
	lru_evict_fn evict;
	void *user;
};

/* The table's hash of a key (the finalizer of MurmurHash3): also for
 * other tables keyed the same way. */
static inline uint32_t lru_hash(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	k ^= k >> 33;
	k *= 0xc4ceb9fe1a85ec53ULL;
	k ^= k >> 33;
	return (uint32_t)k;
}

/* 0, or -ENOMEM. capacity 0 is taken as 1. */
int lru_table_init(struct lru_table *t, uint32_t capacity, lru_evict_fn evict,
		   void *user);
/* Frees the buckets; the elements are the caller's. */
void lru_table_fini(struct lru_table *t);

struct lru_node *lru_table_find(const struct lru_table *t, uint64_t key);
/* Links node under key as the most recently used. The key must not be in
 * the table; room is the caller's to make. */
void lru_table_insert(struct lru_table *t, struct lru_node *node,
		      uint64_t key);
void lru_table_remove(struct lru_table *t, struct lru_node *node);
/* node becomes the most recently used. */
void lru_table_touch(struct lru_table *t, struct lru_node *node);
/* When full, evicts the least recently used element (once). */
void lru_table_make_room(struct lru_table *t);

/* LRU order: the newest, the oldest, the next older; NULL at the end. */
static inline struct lru_node *lru_table_newest(const struct lru_table *t)
{
	return list_entry_or_null(list_first(&t->lru), struct lru_node, lru);
}

static inline struct lru_node *lru_table_oldest(const struct lru_table *t)
{
	return list_entry_or_null(list_last(&t->lru), struct lru_node, lru);
}

static inline struct lru_node *lru_table_older(const struct lru_table *t,
					       const struct lru_node *node)
{
	return list_entry_or_null(list_next(&t->lru, &node->lru),
				  struct lru_node, lru);
}

#endif /* HTTPTRACE_LRU_TABLE_H */
