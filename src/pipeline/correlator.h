/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The correlator turns ring-buffer records (include/httptrace_events.h)
 * into one timeline per HTTP request (timeline.h).
 *
 *   correlator_push()   each raw record as read from the ring buffer
 *   correlator_tick()   now and then, with the monotonic clock
 *   correlator_note_lost()  when the kernel's drop counters grow
 *   correlator_flush()  at exit; then correlator_free()
 *
 * Records wait in a reorder buffer for reorder_window_ns so that records
 * from different CPUs are handled in timestamp order. Timelines go to the
 * sink as soon as a request is over; the sink must not call back into the
 * correlator, and the timeline it gets is only valid during the call.
 *
 * Not thread-safe: one correlator per reader thread. No global state.
 */
#ifndef HTTPTRACE_CORRELATOR_H
#define HTTPTRACE_CORRELATOR_H

#include <stddef.h>
#include <stdint.h>

#include "httptrace_events.h"
#include "timeline/timeline.h"

struct container_table;

/* Zero in any field means the default shown. */
struct correlator_config {
	uint64_t reorder_window_ns;  /* 5 ms */
	uint32_t max_buffered;       /* records held for reordering: 65536 */
	uint64_t max_buffered_bytes; /* bytes held for reordering: 64 MiB */
	uint32_t max_conns;          /* connections tracked: 8192 */
	uint32_t max_procs;          /* processes with state: 8192 */
	uint32_t max_pipeline;       /* requests awaiting a response, per
				      * connection: 16 */
	uint32_t dns_per_proc;       /* DNS results kept per process: 16 */
	uint64_t dns_ttl_ns;         /* a DNS result is used within: 60 s */
	/* the containers of cgroup ids (container/container_table.h),
	 * looked up when a connection's connect or accept record comes;
	 * NULL: timelines carry the cgroup id alone */
	const struct container_table *containers;
};

struct correlator_stats {
	uint64_t records;          /* valid records pushed */
	uint64_t requests;         /* timelines emitted */
	uint64_t incomplete;       /* ... of which complete == false */
	uint64_t bad_records;      /* push() returned -EINVAL */
	uint64_t stale_records;    /* older generation, or a sequence number
				    * already passed: dropped */
	uint64_t gaps;             /* sequence jumps (records lost) */
	uint64_t reordered_by_seq; /* records taken before older-stamped
				    * ones of their connection, by number */
	uint64_t non_http_conns;   /* connections ignored: not HTTP/1.x */
	uint64_t tls_not_decoded;  /* TLS connections whose plaintext no
				    * hooked library carried: reported as
				    * such, not counted in requests */
	uint64_t not_http_after_http; /* messages that were not HTTP/1.x on
				    * a connection that had carried HTTP:
				    * no timeline */
	uint64_t late_records;     /* arrived after a newer record was
				    * processed (beyond the window) */
	uint64_t reorder_overflow; /* processed early: buffer was full */
	uint64_t evicted_conns;    /* dropped to stay within max_conns */
	uint64_t evicted_procs;    /* dropped to stay within max_procs */
	uint64_t orphan_responses; /* responses with no request seen */
	uint64_t pipeline_overflow;/* requests given up: max_pipeline, or
				    * HTTP/2 streams beyond the 256 open
				    * at once on a connection */
	uint64_t h2_frames_lost;   /* an HTTP/2 direction lost where its
				    * frames begin (bytes not captured,
				    * records lost): streams opened before
				    * it found them again are not reported */
	uint64_t dns_unmatched;    /* DNS results that expired unused */
	uint64_t dns_wire_messages;/* DNS messages read from the wire */
	uint64_t dns_wire_bad;     /* ...that could not be parsed */
	uint64_t dns_wire_unmatched; /* answers to no query seen */
	uint64_t dns_wire_covered; /* wire lookups getaddrinfo reported */
	uint64_t dns_wire_failed;  /* wire lookups shown as failed */
	uint64_t lost[HT_DROP_KIND_COUNT]; /* from correlator_note_lost() */
	/* gauges */
	uint64_t conns;            /* connections tracked now */
	uint64_t procs;            /* processes with state now */
	uint64_t buffered;         /* records in the reorder buffer now */
	uint64_t held_bytes;       /* connections, requests (spares kept for
				    * reuse included), processes, DNS and TLS
				    * state allocated now; the reorder buffer
				    * and the fixed tables not counted */
};

typedef void (*timeline_sink_fn)(void *user, const struct timeline *tl);

/* cfg may be NULL for all defaults. NULL on allocation failure. */
struct correlator *correlator_new(const struct correlator_config *cfg,
				  timeline_sink_fn sink, void *user);
/* Frees everything without emitting; call correlator_flush() first to
 * get the pending requests out. NULL is fine. */
void correlator_free(struct correlator *c);

/*
 * One raw ring-buffer record; it is copied. Any bytes are safe: a record
 * that is too short, of unknown type or inconsistent (captured_len beyond
 * the record, ...) returns -EINVAL and counts in bad_records. 0 otherwise.
 */
int correlator_push(struct correlator *c, const void *record, size_t size);

/* Processes buffered records older than now - reorder window and expires
 * old DNS results. now_mono_ns: CLOCK_MONOTONIC, as the records' ts_ns. */
void correlator_tick(struct correlator *c, uint64_t now_mono_ns);

/* The kernel could not reserve new_drops records of this kind: every
 * open request may miss some, so they are all marked incomplete. */
void correlator_note_lost(struct correlator *c, enum ht_drop_kind kind,
			  uint64_t new_drops);

/* Processes every buffered record, then emits every pending request as
 * incomplete ("tracer stopped before the request finished") and forgets
 * all connections. The correlator stays usable. */
void correlator_flush(struct correlator *c);

const struct correlator_stats *correlator_stats(const struct correlator *c);

#endif /* HTTPTRACE_CORRELATOR_H */
