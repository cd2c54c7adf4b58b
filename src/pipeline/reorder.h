/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Reorder buffer: ring-buffer records from different CPUs arrive slightly
 * out of order, so they wait here, copied, in a min-heap keyed by their
 * kernel timestamp until the caller decides they are old enough. Equal
 * timestamps come out in arrival order.
 *
 * Copies live in blocks of a few size classes that are recycled through
 * free lists, so a steady stream of records costs no malloc() per record.
 */
#ifndef HTTPTRACE_REORDER_H
#define HTTPTRACE_REORDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define REORDER_CLASSES 8

struct reorder_item {
	uint64_t ts_ns;
	uint64_t arrival;   /* tie-breaker: arrival order */
	void *rec;          /* the copy; 16-byte aligned */
	uint32_t size;
	uint32_t size_class;
};

struct reorder {
	/*
	 * Records mostly arrive in order: those not older than the newest
	 * in `run` append to it, a FIFO ring, in O(1); only stragglers go
	 * through the heap. The oldest is the older of the two heads.
	 */
	struct reorder_item *run;
	uint32_t run_head, run_n;
	struct reorder_item *heap;
	uint32_t heap_n;
	uint32_t n, max_records;         /* n = run_n + heap_n */
	uint64_t arrival;
	uint64_t bytes, max_bytes;       /* block bytes held */
	void *free_blocks[REORDER_CLASSES];
	uint64_t cached_bytes;           /* block bytes held by free lists */
};

/* Largest record reorder_push() accepts. */
size_t reorder_max_record(void);

int reorder_init(struct reorder *r, uint32_t max_records, uint64_t max_bytes);
void reorder_fini(struct reorder *r);

/* Whether pushing a record of `size` bytes would exceed the bounds: the
 * caller then takes the oldest out first. */
bool reorder_full(const struct reorder *r, size_t size);

/* Copies the record in. 0, -E2BIG (too large) or -ENOMEM. */
int reorder_push(struct reorder *r, uint64_t ts_ns, const void *rec,
		 size_t size);

/* The oldest record, or NULL when empty. */
const struct reorder_item *reorder_peek(const struct reorder *r);

/* Takes the oldest record out into *out; false when empty. The copy stays
 * valid until reorder_release(r, out). */
bool reorder_pop(struct reorder *r, struct reorder_item *out);
/* reorder_pop() if the oldest record's timestamp is below ts_ns. */
bool reorder_pop_before(struct reorder *r, uint64_t ts_ns,
			struct reorder_item *out);
void reorder_release(struct reorder *r, struct reorder_item *item);
/*
 * Calls fn on every record held, in no particular order, until it
 * returns true; returns that item, or NULL. The item stays held: fn
 * may change its record's bytes, not its place.
 */
struct reorder_item *reorder_find(struct reorder *r,
				  bool (*fn)(const struct reorder_item *it,
					     void *ctx),
				  void *ctx);

#endif /* HTTPTRACE_REORDER_H */
