// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * libFuzzer target for the --replay file reader: any bytes, read as a
 * recording. Invariants: every item handed out fits the reader's buffer
 * and its limits, a lost item names a known drop kind, an error comes
 * with words, and the reader stops (no item after an error or the end).
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "httptrace_events.h"
#include "record/recording.h"

static struct recording_reader rd;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum recording_item_kind kind;
	const void *item;
	char err[256];
	size_t len;
	FILE *f;
	int r;

	if (!size)
		return 0;
	f = fmemopen((void *)data, size, "rb");
	if (!f)
		return 0;
	err[0] = 0;
	if (recording_open_stream(&rd, f, err, sizeof(err))) {
		if (!err[0])
			abort();
		return 0; /* the reader closed f */
	}
	while ((r = recording_next(&rd, &kind, &item, &len, err,
				   sizeof(err))) > 0) {
		if (len > RECORDING_MAX_ITEM || item != (const void *)rd.buf)
			abort();
		if (kind == RECORDING_LOST) {
			const struct recording_lost *l = item;

			if (len != sizeof(*l) || l->kind >= HT_DROP_KIND_COUNT)
				abort();
		} else if (kind == RECORDING_TICK) {
			if (len != sizeof(uint64_t))
				abort();
		} else if (kind == RECORDING_CGROUP) {
			/* an id and a path without NUL, not too long: what
			 * the container table is given */
			if (rd.version < 4 ||
			    len < sizeof(struct recording_cgroup) ||
			    len > sizeof(struct recording_cgroup) +
					  RECORDING_CGROUP_PATH_MAX ||
			    memchr((const char *)item +
					   sizeof(struct recording_cgroup),
				   0, len - sizeof(struct recording_cgroup)))
				abort();
		} else if (kind != RECORDING_RECORD) {
			abort();
		}
		if (rd.offset > size)
			abort();
	}
	if (r < 0 && !err[0])
		abort();
	recording_close_reader(&rd);
	return 0;
}
