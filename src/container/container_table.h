/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The containers of the cgroups seen so far, by cgroup id: what a cgroup
 * path said (container_path.h), kept so a path is resolved once. Pure
 * and deterministic: what is in the table follows from the sequence of
 * container_table_put() calls alone (a lookup changes nothing), so a
 * replay that puts what the live run put, in the same order, sees the
 * same table at every step.
 *
 * Bounded: CONTAINER_TABLE_SETS sets of CONTAINER_TABLE_WAYS entries; a
 * put into a full set replaces the entry put there first. A cgroup id is
 * not reused while the system runs (64-bit kernfs ids), so an entry
 * never goes stale; one replaced is resolved again when next seen.
 */
#ifndef HTTPTRACE_CONTAINER_TABLE_H
#define HTTPTRACE_CONTAINER_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "timeline/timeline.h"

#define CONTAINER_TABLE_SETS 512   /* a power of two */
#define CONTAINER_TABLE_WAYS 4

struct container_table;

struct container_table *container_table_new(void);
void container_table_free(struct container_table *t);

/*
 * The entry of cgroup_id, or NULL when there is none (never put, or
 * replaced since). An entry's cgroup_id is the id; its id, runtime and
 * pod_uid are what the path said, all "" for a cgroup that is no
 * container or whose path was not known.
 */
const struct tl_container *container_table_get(const struct container_table *t,
					       uint64_t cgroup_id);
/*
 * Enters cgroup_id with what path (len bytes) says; path NULL: it could
 * not be resolved. A second put of an id replaces its entry in place.
 * Id 0 (not known) is never entered. Returns the entry (NULL for id 0).
 */
const struct tl_container *container_table_put(struct container_table *t,
					       uint64_t cgroup_id,
					       const char *path, size_t len);

/*
 * What a timeline of cgroup_id gets: the entry, or the id alone when
 * there is none (or t is NULL).
 */
void container_table_fill(const struct container_table *t, uint64_t cgroup_id,
			  struct tl_container *out);

#endif /* HTTPTRACE_CONTAINER_TABLE_H */
