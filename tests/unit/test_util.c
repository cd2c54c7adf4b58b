// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* util/: the intrusive list and the hash table in LRU order. */
#include <stdlib.h>

#include "util/list.h"
#include "util/lru_table.h"
#include "util/reset.h"
#include "unit.h"

struct item {
	int v;
	struct list link;
	struct lru_node node;
};

/* The values in the list, first to last, as a string of digits. */
static const char *order(struct list *head)
{
	static char buf[64];
	struct item *it;
	size_t n = 0;

	list_for_each_entry(it, head, link)
		if (n < sizeof(buf) - 1)
			buf[n++] = (char)('0' + it->v);
	buf[n] = '\0';
	return buf;
}

static void test_list_order(void)
{
	struct item it[4] = { { .v = 0 }, { .v = 1 }, { .v = 2 }, { .v = 3 } };
	struct list head;

	list_init(&head);
	CHECK(list_empty(&head));
	CHECK(list_first(&head) == NULL);
	CHECK(list_first_entry(&head, struct item, link) == NULL);
	list_add_tail(&head, &it[1].link);
	list_add_tail(&head, &it[2].link);
	list_add_head(&head, &it[0].link);
	list_add_tail(&head, &it[3].link);
	CHECK_STR(order(&head), "0123");
	CHECK(list_first_entry(&head, struct item, link) == &it[0]);
	CHECK(list_last_entry(&head, struct item, link) == &it[3]);
	CHECK(list_next(&head, &it[3].link) == NULL);
	CHECK(list_next(&head, &it[1].link) == &it[2].link);
	list_del(&it[2].link);
	CHECK_STR(order(&head), "013");
	/* a deleted link is a list of its own: deleting it again is fine */
	list_del(&it[2].link);
	CHECK(list_empty(&it[2].link));
	CHECK_STR(order(&head), "013");
	list_del(&it[0].link);
	list_del(&it[3].link);
	CHECK_STR(order(&head), "1");
	list_del(&it[1].link);
	CHECK(list_empty(&head));
}

static void test_list_remove_while_walking(void)
{
	struct item it[6];
	struct item *pos, *tmp;
	struct list head;
	int i;

	list_init(&head);
	for (i = 0; i < 6; i++) {
		it[i].v = i;
		list_add_tail(&head, &it[i].link);
	}
	list_for_each_entry_safe(pos, tmp, &head, link)
		if (pos->v % 2)
			list_del(&pos->link);
	CHECK_STR(order(&head), "024");
}

struct evict_log {
	struct lru_table *t;
	int evicted[8];
	int n;
};

static void evict_item(void *user, struct lru_node *oldest)
{
	struct evict_log *log = user;
	struct item *it = container_of(oldest, struct item, node);

	if (log->n < 8)
		log->evicted[log->n++] = it->v;
	lru_table_remove(log->t, oldest);
}

/* The table's values, newest first. */
static const char *lru_order(const struct lru_table *t)
{
	static char buf[64];
	struct lru_node *n;
	size_t k = 0;

	for (n = lru_table_newest(t); n && k < sizeof(buf) - 1;
	     n = lru_table_older(t, n))
		buf[k++] = (char)('0' + container_of(n, struct item, node)->v);
	buf[k] = '\0';
	return buf;
}

static void test_lru_table_find_touch_evict(void)
{
	struct lru_table t;
	struct evict_log log = { .t = &t };
	struct item it[5];
	int i;

	CHECK_INT(lru_table_init(&t, 3, evict_item, &log), 0);
	CHECK(lru_table_newest(&t) == NULL && lru_table_oldest(&t) == NULL);
	for (i = 0; i < 3; i++) {
		it[i].v = i;
		lru_table_make_room(&t);
		lru_table_insert(&t, &it[i].node, 1000 + (uint64_t)i);
	}
	CHECK_INT(log.n, 0);
	CHECK_INT(t.n, 3);
	CHECK_STR(lru_order(&t), "210");
	CHECK(lru_table_find(&t, 1000) == &it[0].node);
	CHECK(lru_table_find(&t, 1003) == NULL);
	/* finding does not reorder; touching does */
	CHECK_STR(lru_order(&t), "210");
	lru_table_touch(&t, &it[0].node);
	CHECK_STR(lru_order(&t), "021");
	lru_table_touch(&t, &it[0].node);
	CHECK_STR(lru_order(&t), "021");
	/* full: the least recently used (1) goes */
	it[3].v = 3;
	lru_table_make_room(&t);
	CHECK_INT(log.n, 1);
	CHECK_INT(log.evicted[0], 1);
	CHECK(lru_table_find(&t, 1001) == NULL);
	lru_table_insert(&t, &it[3].node, 1003);
	CHECK_STR(lru_order(&t), "302");
	CHECK(lru_table_oldest(&t) == &it[2].node);
	/* not full after a removal: no eviction */
	lru_table_remove(&t, &it[0].node);
	lru_table_make_room(&t);
	CHECK_INT(log.n, 1);
	CHECK_STR(lru_order(&t), "32");
	CHECK_INT(t.n, 2);
	lru_table_fini(&t);
}

/* Many keys into few buckets: every one found, removals in any order. */
static void test_lru_table_collisions(void)
{
	enum { N = 200 };
	struct item *it = calloc(N, sizeof(*it));
	struct lru_table t;
	int i, found = 0;

	if (!it)
		return;
	CHECK_INT(lru_table_init(&t, N, NULL, NULL), 0);
	for (i = 0; i < N; i++) {
		it[i].v = i % 10;
		/* keys that differ only in the high half: a conn_key's tgid */
		lru_table_insert(&t, &it[i].node, (uint64_t)i << 32 | 7);
	}
	for (i = 0; i < N; i++)
		found += lru_table_find(&t, (uint64_t)i << 32 | 7) ==
			 &it[i].node;
	CHECK_INT(found, N);
	for (i = 0; i < N; i += 2)
		lru_table_remove(&t, &it[i].node);
	found = 0;
	for (i = 0; i < N; i++)
		found += lru_table_find(&t, (uint64_t)i << 32 | 7) ==
			 (i % 2 ? &it[i].node : NULL);
	CHECK_INT(found, N);
	CHECK_INT(t.n, N / 2);
	CHECK(lru_table_oldest(&t) == &it[1].node);
	CHECK(lru_table_newest(&t) == &it[N - 1].node);
	lru_table_fini(&t);
	free(it);
}

struct resettable {
	int a;
	char name[16];
	long b;          /* a member no one lists: reset all the same */
	char slots[32];
	short c;
};

static void test_reset_except(void)
{
	static const struct reset_keep keep[] = {
		RESET_KEEP(struct resettable, name),
		RESET_KEEP(struct resettable, slots),
	};
	struct resettable r;
	size_t i;
	int kept = 0;

	memset(&r, 0x5a, sizeof(r));
	reset_except(&r, sizeof(r), keep, RESET_N(keep));
	CHECK_INT(r.a, 0);
	CHECK_INT(r.b, 0);
	CHECK_INT(r.c, 0);
	for (i = 0; i < sizeof(r.name); i++)
		kept += r.name[i] == 0x5a;
	for (i = 0; i < sizeof(r.slots); i++)
		kept += r.slots[i] == 0x5a;
	CHECK_INT(kept, sizeof(r.name) + sizeof(r.slots));
}

int main(int argc, char **argv)
{
	unit_args(argc, argv);
	RUN(test_list_order);
	RUN(test_list_remove_while_walking);
	RUN(test_lru_table_find_touch_evict);
	RUN(test_lru_table_collisions);
	RUN(test_reset_except);
	return unit_done("util");
}
