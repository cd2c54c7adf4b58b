/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Reads records from the BPF ring buffer and the per-CPU drop counters. */
#ifndef HTTPTRACE_EVENT_READER_H
#define HTTPTRACE_EVENT_READER_H

#include <stddef.h>
#include <stdint.h>

#include "httptrace_events.h"

typedef int (*event_fn)(void *user, const void *record, size_t size);

struct ring_buffer;

struct event_reader {
	struct ring_buffer *rb;
	int drops_fd;
	int ncpus;
	uint64_t drops[HT_DROP_KIND_COUNT]; /* totals read last time */
	uint64_t *per_cpu;                  /* lookup buffer, ncpus values */
	event_fn fn;
	void *user;
};

int event_reader_open(struct event_reader *r, int events_fd, int drops_fd,
		      event_fn fn, void *user);
/* Waits up to timeout_ms; returns records consumed or -errno. */
int event_reader_poll(struct event_reader *r, int timeout_ms);
/* Reads the drop counters; `added` gets what is new since the last call. */
int event_reader_drops(struct event_reader *r,
		       uint64_t added[HT_DROP_KIND_COUNT]);
void event_reader_close(struct event_reader *r);

#endif /* HTTPTRACE_EVENT_READER_H */
