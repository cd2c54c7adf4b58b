// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Reorder buffer: an in-order run plus a binary min-heap of record
 * copies; see reorder.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "httptrace_events.h"
#include "pipeline/reorder.h"

/*
 * Block sizes: small classes for connection/DNS records and short data
 * chunks; the large ones leave room for the data record's header on top
 * of the 4 KiB default and 16 KiB maximum capture.
 */
static const uint32_t class_size[REORDER_CLASSES] = {
	128, 256, 512, 1024, 2048, 4096 + 256, 8192 + 256,
	HT_MAX_CAPTURE + 256,
};

/* Free blocks kept for reuse beyond this are given back to malloc. */
#define REORDER_CACHE_BYTES (8u << 20)

size_t reorder_max_record(void)
{
	return class_size[REORDER_CLASSES - 1];
}

/* The classes up to SMALL_CLASS_MAX are the powers of two from 128: their
 * index comes from the bit length, not from a walk along the table, as
 * it is asked twice per record (reorder_full(), reorder_push()). */
#define SMALL_CLASSES 5
#define SMALL_CLASS_MAX 2048u

static int size_class(size_t size)
{
	int i;

	_Static_assert(128u << (SMALL_CLASSES - 1) == SMALL_CLASS_MAX,
		       "the small classes are 128, 256, .. SMALL_CLASS_MAX");
	if (size <= 128)
		return 0;
	if (size <= SMALL_CLASS_MAX)
		return 64 - __builtin_clzll((unsigned long long)size - 1) - 7;
	for (i = SMALL_CLASSES; i < REORDER_CLASSES; i++)
		if (size <= class_size[i])
			return i;
	return -1;
}

/* A ring index i < 2 * max_records brought below max_records: a compare
 * rather than a division per record. */
static uint32_t ring_wrap(const struct reorder *r, uint32_t i)
{
	return i < r->max_records ? i : i - r->max_records;
}

int reorder_init(struct reorder *r, uint32_t max_records, uint64_t max_bytes)
{
	memset(r, 0, sizeof(*r));
	if (max_records == 0)
		max_records = 1;
	r->heap = calloc(max_records, sizeof(*r->heap));
	r->run = calloc(max_records, sizeof(*r->run));
	if (!r->heap || !r->run) {
		free(r->heap);
		free(r->run);
		return -ENOMEM;
	}
	r->max_records = max_records;
	r->max_bytes = max_bytes;
	return 0;
}

void reorder_fini(struct reorder *r)
{
	uint32_t i;
	int k;

	for (i = 0; i < r->heap_n; i++)
		free(r->heap[i].rec);
	for (i = 0; i < r->run_n; i++)
		free(r->run[ring_wrap(r, r->run_head + i)].rec);
	for (k = 0; k < REORDER_CLASSES; k++) {
		void *b = r->free_blocks[k];

		while (b) {
			void *next = *(void **)b;

			free(b);
			b = next;
		}
	}
	free(r->heap);
	free(r->run);
	memset(r, 0, sizeof(*r));
}

bool reorder_full(const struct reorder *r, size_t size)
{
	int k = size_class(size);
	uint64_t need = k < 0 ? 0 : class_size[k];

	if (r->n == 0)
		return false;
	return r->n >= r->max_records || r->bytes + need > r->max_bytes;
}

static bool item_before(const struct reorder_item *a,
			const struct reorder_item *b)
{
	if (a->ts_ns != b->ts_ns)
		return a->ts_ns < b->ts_ns;
	return a->arrival < b->arrival;
}

static void sift_up(struct reorder *r, uint32_t i)
{
	struct reorder_item it = r->heap[i];

	while (i > 0) {
		uint32_t parent = (i - 1) / 2;

		if (!item_before(&it, &r->heap[parent]))
			break;
		r->heap[i] = r->heap[parent];
		i = parent;
	}
	r->heap[i] = it;
}

static void sift_down(struct reorder *r, uint32_t i)
{
	struct reorder_item it = r->heap[i];

	for (;;) {
		uint32_t child = 2 * i + 1;

		if (child >= r->heap_n)
			break;
		if (child + 1 < r->heap_n &&
		    item_before(&r->heap[child + 1], &r->heap[child]))
			child++;
		if (!item_before(&r->heap[child], &it))
			break;
		r->heap[i] = r->heap[child];
		i = child;
	}
	r->heap[i] = it;
}

int reorder_push(struct reorder *r, uint64_t ts_ns, const void *rec,
		 size_t size)
{
	struct reorder_item *it;
	int k = size_class(size);
	bool in_order;
	void *block;

	if (k < 0)
		return -E2BIG;
	if (r->n >= r->max_records)
		return -ENOMEM;
	block = r->free_blocks[k];
	if (block) {
		r->free_blocks[k] = *(void **)block;
		r->cached_bytes -= class_size[k];
	} else {
		block = malloc(class_size[k]);
		if (!block)
			return -ENOMEM;
	}
	memcpy(block, rec, size);
	in_order = r->run_n == 0 ||
		   ts_ns >= r->run[ring_wrap(r, r->run_head + r->run_n - 1)]
				    .ts_ns;
	if (in_order)
		it = &r->run[ring_wrap(r, r->run_head + r->run_n++)];
	else
		it = &r->heap[r->heap_n];
	it->ts_ns = ts_ns;
	it->arrival = r->arrival++;
	it->rec = block;
	it->size = (uint32_t)size;
	it->size_class = (uint32_t)k;
	r->bytes += class_size[k];
	if (!in_order)
		sift_up(r, r->heap_n++);
	r->n++;
	return 0;
}

const struct reorder_item *reorder_peek(const struct reorder *r)
{
	const struct reorder_item *run_top = &r->run[r->run_head];

	if (!r->heap_n)
		return r->run_n ? run_top : NULL;
	if (r->run_n && !item_before(&r->heap[0], run_top))
		return run_top;
	return &r->heap[0];
}

/* Takes top, which reorder_peek() returned, out into *out. */
static void take(struct reorder *r, const struct reorder_item *top,
		 struct reorder_item *out)
{
	*out = *top;
	r->bytes -= class_size[out->size_class];
	r->n--;
	if (r->run_n && top == &r->run[r->run_head]) {
		r->run_head = ring_wrap(r, r->run_head + 1);
		r->run_n--;
		return;
	}
	r->heap[0] = r->heap[--r->heap_n];
	if (r->heap_n)
		sift_down(r, 0);
}

bool reorder_pop(struct reorder *r, struct reorder_item *out)
{
	const struct reorder_item *top = reorder_peek(r);

	if (!top)
		return false;
	take(r, top, out);
	return true;
}

bool reorder_pop_before(struct reorder *r, uint64_t ts_ns,
			struct reorder_item *out)
{
	const struct reorder_item *top = reorder_peek(r);

	if (!top || top->ts_ns >= ts_ns)
		return false;
	take(r, top, out);
	return true;
}

void reorder_release(struct reorder *r, struct reorder_item *item)
{
	uint32_t k = item->size_class;

	if (!item->rec)
		return;
	if (r->cached_bytes + class_size[k] <= REORDER_CACHE_BYTES) {
		*(void **)item->rec = r->free_blocks[k];
		r->free_blocks[k] = item->rec;
		r->cached_bytes += class_size[k];
	} else {
		free(item->rec);
	}
	item->rec = NULL;
}

struct reorder_item *reorder_find(struct reorder *r,
				  bool (*fn)(const struct reorder_item *it,
					     void *ctx),
				  void *ctx)
{
	uint32_t i;

	for (i = 0; i < r->run_n; i++) {
		struct reorder_item *it = &r->run[ring_wrap(r, r->run_head + i)];

		if (fn(it, ctx))
			return it;
	}
	for (i = 0; i < r->heap_n; i++)
		if (fn(&r->heap[i], ctx))
			return &r->heap[i];
	return NULL;
}
