// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The containers of cgroup ids; see container_table.h. */
#include <stdlib.h>
#include <string.h>

#include "container/container_path.h"
#include "container/container_table.h"

_Static_assert((CONTAINER_TABLE_SETS & (CONTAINER_TABLE_SETS - 1)) == 0,
	       "CONTAINER_TABLE_SETS is a power of two");

struct container_set {
	struct tl_container e[CONTAINER_TABLE_WAYS]; /* cgroup_id 0: free */
	unsigned int next; /* the way the next new entry replaces */
};

struct container_table {
	struct container_set sets[CONTAINER_TABLE_SETS];
};

struct container_table *container_table_new(void)
{
	return calloc(1, sizeof(struct container_table));
}

void container_table_free(struct container_table *t)
{
	free(t);
}

static struct container_set *set_of(const struct container_table *t,
				    uint64_t cgroup_id)
{
	/* ids are handed out in order: Fibonacci hashing spreads them */
	uint64_t h = cgroup_id * 0x9e3779b97f4a7c15ull;

	return (struct container_set *)&t->sets[h >> 40 &
						(CONTAINER_TABLE_SETS - 1)];
}

const struct tl_container *container_table_get(const struct container_table *t,
					       uint64_t cgroup_id)
{
	const struct container_set *set;
	unsigned int i;

	if (!t || !cgroup_id)
		return NULL;
	set = set_of(t, cgroup_id);
	for (i = 0; i < CONTAINER_TABLE_WAYS; i++)
		if (set->e[i].cgroup_id == cgroup_id)
			return &set->e[i];
	return NULL;
}

const struct tl_container *container_table_put(struct container_table *t,
					       uint64_t cgroup_id,
					       const char *path, size_t len)
{
	struct container_set *set;
	struct tl_container *e = NULL;
	unsigned int i;

	if (!cgroup_id)
		return NULL;
	set = set_of(t, cgroup_id);
	for (i = 0; i < CONTAINER_TABLE_WAYS && !e; i++)
		if (set->e[i].cgroup_id == cgroup_id)
			e = &set->e[i];
	if (!e) {
		e = &set->e[set->next];
		set->next = (set->next + 1) % CONTAINER_TABLE_WAYS;
	}
	container_from_cgroup_path(path, path ? len : 0, e);
	e->cgroup_id = cgroup_id;
	return e;
}

void container_table_fill(const struct container_table *t, uint64_t cgroup_id,
			  struct tl_container *out)
{
	const struct tl_container *e = container_table_get(t, cgroup_id);

	if (e) {
		*out = *e;
		return;
	}
	memset(out, 0, sizeof(*out));
	out->cgroup_id = cgroup_id;
}
