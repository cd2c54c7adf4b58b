/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Resetting a struct whose large members are cleared their own way (a
 * string by its first byte, a slot array by its count): every byte is
 * zeroed but those of the members kept, so a member added later is
 * reset without anyone remembering to.
 *
 *   static const struct reset_keep keep[] = {
 *           RESET_KEEP(struct s, name),    // name[0] = '\0' below
 *           RESET_KEEP(struct s, slots),   // n_slots = 0 is enough
 *   };
 *   reset_except(s, sizeof(*s), keep, RESET_N(keep));
 *   s->name[0] = '\0';
 */
#ifndef HTTPTRACE_RESET_H
#define HTTPTRACE_RESET_H

#include <assert.h>
#include <stddef.h>
#include <string.h>

struct reset_keep {
	size_t offset, size;
};

#define RESET_KEEP(type, member) \
	{ offsetof(type, member), sizeof(((type *)0)->member) }
#define RESET_N(keep) (sizeof(keep) / sizeof((keep)[0]))

/* Zeroes [0, size) of obj but the members in keep, listed in the order
 * of the struct. */
static inline void reset_except(void *obj, size_t size,
				const struct reset_keep *keep, size_t n)
{
	char *p = obj;
	size_t at = 0, i;

	for (i = 0; i < n; i++) {
		/* in the struct's order, not overlapping */
		assert(keep[i].offset >= at &&
		       keep[i].offset + keep[i].size <= size);
		memset(p + at, 0, keep[i].offset - at);
		at = keep[i].offset + keep[i].size;
	}
	memset(p + at, 0, size - at);
}

#endif /* HTTPTRACE_RESET_H */
