// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "event_reader.h"

static int on_record(void *ctx, void *data, size_t size)
{
	struct event_reader *r = ctx;

	r->fn(r->user, data, size);
	return 0; /* a bad record is counted by the consumer, never fatal */
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
	int n = ring_buffer__poll(r->rb, timeout_ms);
	int m;

	if (n < 0 && n != -EINTR)
		return n;
	/* The BPF side wakes us only when much is waiting (wakeup_bytes):
	 * what came since without a wakeup is read here, on the timer. */
	m = ring_buffer__consume(r->rb);
	if (m < 0)
		return m;
	return (n > 0 ? n : 0) + m;
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
