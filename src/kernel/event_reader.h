/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Reads records from the BPF ring buffer and the per-CPU drop counters. */
#ifndef HTTPTRACE_EVENT_READER_H
#define HTTPTRACE_EVENT_READER_H

#include <signal.h>
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
	/* Set (by a signal handler): a poll returns after the record in
	 * hand rather than reading on while records keep coming. */
	const volatile sig_atomic_t *stop;
	/* the current read: when it must give way, records since the last
	 * clock check, and whether it gave way (more may be waiting) */
	uint64_t until_ns, until_ts;
	unsigned int since_check;
	int cut;
};

int event_reader_open(struct event_reader *r, int events_fd, int drops_fd,
		      event_fn fn, void *user);
/* Waits up to timeout_ms, then reads what is there for at most about
 * as long again (a steady stream never keeps it from returning);
 * returns records consumed or -errno. */
int event_reader_poll(struct event_reader *r, int timeout_ms);
/* At the end: reads the records stamped up to ts_ns (monotonic), for at
 * most max_ms. Returns 0 when it caught up, 1 when max_ms ran out with
 * older records still coming, or -errno. */
int event_reader_drain(struct event_reader *r, uint64_t ts_ns, int max_ms);
/* Reads the drop counters; `added` gets what is new since the last call. */
int event_reader_drops(struct event_reader *r,
		       uint64_t added[HT_DROP_KIND_COUNT]);
void event_reader_close(struct event_reader *r);

#endif /* HTTPTRACE_EVENT_READER_H */
