/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* What the correlator tests read off a timeline's events. */
#ifndef HTTPTRACE_TEST_TIMELINE_HOOKS_H
#define HTTPTRACE_TEST_TIMELINE_HOOKS_H

#include <stdint.h>
#include <string.h>

#include "timeline/timeline.h"

/* "GetConn,ConnectStart,..." (one buffer, overwritten by each call) */
static inline const char *hooks(const struct timeline *tl)
{
	static char buf[1024];
	uint32_t i;

	buf[0] = '\0';
	for (i = 0; i < tl->n_events; i++) {
		if (i)
			strcat(buf, ",");
		strcat(buf, tl_hook_name(tl->events[i].hook));
	}
	return buf;
}

/* ts of the first event with this hook, 0 if none */
static inline uint64_t hook_ts(const struct timeline *tl, enum tl_hook hook)
{
	uint32_t i;

	for (i = 0; i < tl->n_events; i++)
		if (tl->events[i].hook == hook)
			return tl->events[i].ts_ns;
	return 0;
}

#endif /* HTTPTRACE_TEST_TIMELINE_HOOKS_H */
