// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "kernel/event_reader.h"

/* How often a read looks at the clock, in records. */
#define CLOCK_EVERY 512

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/*
 * libbpf reads the ring until it finds it empty, re-reading the producer
 * position after every pass: under a steady stream (a load test on the
 * host) one poll never returns, and a stop request or the tick waits
 * with it. A negative return ends the read after this record.
 */
static int on_record(void *ctx, void *data, size_t size)
{
	struct event_reader *r = ctx;
	uint64_t ts;

	/* a bad record is counted by the consumer, never fatal */
	r->fn(r->user, data, size);
	if (r->until_ts && size >= sizeof(ts)) {
		memcpy(&ts, data, sizeof(ts));
		if (ts > r->until_ts)
			return -ECANCELED; /* caught up with the end */
	}
	if (r->stop && *r->stop)
		return -EINTR;
	if (++r->since_check >= CLOCK_EVERY) {
		r->since_check = 0;
		if (mono_ns() > r->until_ns) {
			r->cut = 1;
			return -EAGAIN;
		}
	}
	return 0;
}

static bool read_ended_early(int ret)
{
	return ret == -EINTR || ret == -EAGAIN || ret == -ECANCELED;
}

int event_reader_open(struct event_reader *r, int events_fd, int drops_fd,
		      event_fn fn, void *user)
{
	memset(r, 0, sizeof(*r));
	r->drops_fd = drops_fd;
	r->fn = fn;
	r->user = user;
	r->ncpus = libbpf_num_possible_cpus();
	if (r->ncpus <= 0)
		return r->ncpus ? r->ncpus : -EINVAL;
	r->per_cpu = calloc(r->ncpus, sizeof(*r->per_cpu));
	if (!r->per_cpu)
		return -ENOMEM;
	r->rb = ring_buffer__new(events_fd, on_record, r, NULL);
	if (!r->rb) {
		int err = -errno;

		free(r->per_cpu);
		r->per_cpu = NULL;
		return err;
	}
	return 0;
}

int event_reader_poll(struct event_reader *r, int timeout_ms)
{
	int n, m;

	r->until_ns = mono_ns() + 2ULL * (unsigned)timeout_ms * 1000000ULL;
	r->until_ts = 0;
	r->cut = 0;
	n = ring_buffer__poll(r->rb, timeout_ms);
	if (n < 0 && !read_ended_early(n))
		return n;
	if (n < 0 || r->cut)
		return 0;
	/* The BPF side wakes us only when much is waiting (wakeup_bytes):
	 * what came since without a wakeup is read here, on the timer. */
	m = ring_buffer__consume(r->rb);
	if (m < 0)
		return read_ended_early(m) ? n : m;
	return n + m;
}

int event_reader_drain(struct event_reader *r, uint64_t ts_ns, int max_ms)
{
	const volatile sig_atomic_t *stop = r->stop;
	int n;

	r->stop = NULL;
	r->until_ns = mono_ns() + (uint64_t)max_ms * 1000000ULL;
	r->until_ts = ts_ns;
	r->cut = 0;
	n = ring_buffer__consume(r->rb);
	r->stop = stop;
	r->until_ts = 0;
	if (n < 0 && !read_ended_early(n))
		return n;
	return r->cut;
}

int event_reader_drops(struct event_reader *r,
		       uint64_t added[HT_DROP_KIND_COUNT])
{
	uint64_t *per_cpu = r->per_cpu;

	for (__u32 kind = 0; kind < HT_DROP_KIND_COUNT; kind++) {
		uint64_t total = 0;

		added[kind] = 0;
		if (bpf_map_lookup_elem(r->drops_fd, &kind, per_cpu))
			continue;
		for (int cpu = 0; cpu < r->ncpus; cpu++)
			total += per_cpu[cpu];
		added[kind] = total - r->drops[kind];
		r->drops[kind] = total;
	}
	return 0;
}

void event_reader_close(struct event_reader *r)
{
	ring_buffer__free(r->rb);
	r->rb = NULL;
	free(r->per_cpu);
	r->per_cpu = NULL;
}
