/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Sinks: where finished timelines go. main builds one struct sink_set
 * from the options; the correlator's timeline callback hands each
 * timeline to sink_set_emit(), which gives it to every sink.
 *
 * A sink that writes to a local stream (text, JSON) is called right
 * there, on the reader's thread. A sink whose ops say it may block (an
 * exporter talking to the network) gets a bounded queue and a thread of
 * its own (sink_queue.h): emitting copies the timeline into the queue
 * and never waits, and a timeline that finds the queue full is dropped
 * and counted, so a slow collector costs timelines, never records.
 *
 * A new sink is one new folder, src/sink/NAME/, whose .c file defines
 * a const struct sink_ops, plus one line in the sink_table[] of
 * src/sink/sink.c.
 */
#ifndef HTTPTRACE_SINK_H
#define HTTPTRACE_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sink/output.h"
#include "timeline/timeline.h"

/* What a sink is opened with; the same for every sink of a set. */
struct sink_config {
	/* where a stream sink writes (stdout); exporters ignore it */
	FILE *out;
	/* the sink's own argument, e.g. an exporter's endpoint; NULL for
	 * text and JSON */
	const char *arg;
	/* what every output shares, copied by the sinks that use it; what
	 * only one needs (the text's colors) is its own */
	struct output_opts opts;
	/* a queued sink: timelines it holds at most, the one being
	 * emitted included; 0 = SINK_QUEUE_DEFAULT */
	uint32_t queue_capacity;
	/* an exporter at close: how long what it still holds may take
	 * to go out before it is dropped; 0 = SINK_DRAIN_DEFAULT_MS */
	uint32_t drain_ms;
	/* the sink's own settings, a struct its header names (the OTLP
	 * exporter's struct otlp_config); NULL for text and JSON */
	const void *params;
};

struct sink_counters;
struct sink_stats;

struct sink_ops {
	const char *name;               /* "text", "json" */
	/*
	 * Makes the sink's state from cfg. Returns 0, or a negative errno
	 * with the reason in err (the caller adds the sink's name).
	 */
	int (*open)(void **state, const struct sink_config *cfg, char *err,
		    size_t err_size);
	/*
	 * Takes one timeline, only valid during the call. Returns 0, or a
	 * negative errno: the sink failed and is not called again (its
	 * later timelines count as not_written).
	 */
	int (*emit)(void *state, const struct timeline *tl);
	/* Writes out what is buffered: on sink_set_flush() (main: after
	 * each ring-buffer poll, and once at the end), and for a queued
	 * sink before close. NULL = nothing to do. Returns 0 or a
	 * negative errno as emit. */
	int (*flush)(void *state);
	/* Frees the state; NULL is not passed. */
	void (*close)(void *state);
	/* At close, before it. A queued sink's is called on the closing
	 * thread while emit or flush may run on the sink's (thread-safe):
	 * stop waiting (a retry's backoff), send what is held once within
	 * the drain time. An own_thread sink's: send what it holds within
	 * the drain time, drop and count the rest, end its thread. NULL =
	 * nothing to do. */
	void (*stop)(void *state);
	/* An exporter's own counters (sent, send_failed; dropped for an
	 * own_thread sink) into st. A queued sink's is called on its
	 * thread after each emit and flush, with the queue's lock held;
	 * an own_thread sink's on the set's thread, whenever
	 * sink_set_stats() asks. NULL = none. */
	void (*counters)(void *state, struct sink_stats *st);
	/* emit may wait on something outside the process (a network
	 * peer): the sink gets a queue and a thread of its own, and emit,
	 * flush and close are called on that thread only */
	bool may_block;
	/* emit never waits: the sink queues what it sends, in its own
	 * form, for a thread of its own (an exporter whose queue holds
	 * encoded batches, far smaller than timelines); emit, flush, stop
	 * and close are called on the set's thread. An exporter, as a
	 * may_block sink is. */
	bool own_thread;
	/* Takes the daemon's counters (sink_set_publish()); NULL = not
	 * wanted. A synchronous sink's only, on the set's thread. */
	void (*publish)(void *state, const struct sink_counters *c);
};

/* Per sink; the counters only grow. */
struct sink_stats {
	uint64_t emitted;     /* timelines the sink took */
	uint64_t dropped;     /* an exporter: its queue was full, or still
			       * held them when the drain time was over */
	uint64_t not_written; /* came after the sink failed */
	/* an exporter: what it sent to its peer (spans), and what it gave
	 * up on after its retries; 0 for a sink that sends nothing */
	uint64_t sent;
	uint64_t send_failed;
	int err;              /* the first error (a positive errno), 0 */
};

/* Called once per sink when it first fails (a positive errno), on the
 * thread that calls the set: a queued sink's failure on its own thread
 * is told on the next sink_set_emit(), sink_set_flush() or
 * sink_set_close(). */
typedef void (*sink_failed_fn)(void *user, const char *name, int err);

/* more than a run has reason to open at once */
#define SINK_SET_MAX 8

/*
 * The daemon's own counters, for a sink that exports them (Prometheus
 * serves them from a thread of its own). Nothing on another thread
 * reads the correlator or the set: the session fills in its part after
 * each ring-buffer poll and calls sink_set_publish(), which adds every
 * sink's counters and hands the snapshot to each synchronous sink with
 * a publish op, on the set's thread; that sink copies it under its own
 * lock. Every count only grows.
 */
struct sink_counters {
	uint64_t records_lost;         /* the kernel could not send them */
	uint64_t timelines;            /* requests reported */
	uint64_t timelines_incomplete; /* ...of which complete == false */
	uint64_t tls_not_decoded;      /* TLS connections not decoded */
	/* filled in by sink_set_publish(): every sink of the set */
	size_t n_sinks;
	struct sink_counters_sink {
		const char *name;      /* the sink's ops name: static */
		bool queued;           /* an exporter (sink_set_queued) */
		struct sink_stats st;
	} sinks[SINK_SET_MAX];
};

struct sink_set;

/* NULL on allocation failure. failed may be NULL. */
struct sink_set *sink_set_new(sink_failed_fn failed, void *user);
/*
 * Opens the registered sink called name and adds it. Returns 0, or a
 * negative errno with the reason in err: -ENOENT for an unknown name.
 */
int sink_set_add(struct sink_set *set, const char *name,
		 const struct sink_config *cfg, char *err, size_t err_size);
/* The same for a sink that is not in the table (tests). */
int sink_set_add_ops(struct sink_set *set, const struct sink_ops *ops,
		     const struct sink_config *cfg, char *err,
		     size_t err_size);
/* Gives tl to every sink; never waits on a queued sink. */
void sink_set_emit(struct sink_set *set, const struct timeline *tl);
/* Every synchronous sink writes out what it buffers; a queued sink
 * does when it has caught up. */
void sink_set_flush(struct sink_set *set);
/*
 * Drains the queues (each for at most its drain time) and closes every
 * sink; the counters stay readable, and emit and flush do nothing more.
 * A synchronous sink is not flushed here: what its last
 * sink_set_flush() did not write is its close's to handle.
 */
void sink_set_close(struct sink_set *set);
/* sink_set_close() if not done, then frees the set. NULL is fine. */
void sink_set_free(struct sink_set *set);

size_t sink_set_count(const struct sink_set *set);
const char *sink_set_name(const struct sink_set *set, size_t i);
/* Adds every sink's counters to c and gives c to the sinks that take
 * it (their publish op). */
void sink_set_publish(struct sink_set *set, struct sink_counters *c);
/* Whether sink i queues what it exports (may_block or own_thread): an
 * exporter whose queue may drop. */
bool sink_set_queued(const struct sink_set *set, size_t i);
/* A snapshot of sink i's counters; safe while its thread runs. */
void sink_set_stats(const struct sink_set *set, size_t i,
		    struct sink_stats *st);

/* The registered sink called name, or NULL. */
const struct sink_ops *sink_find(const char *name);

/*
 * For sinks that write a stdio stream: writes out what out buffers,
 * and sees a reader gone (POLLERR on a pipe nobody reads any more)
 * without waiting for the next timeline. Returns 0 or a negative
 * errno.
 */
int sink_stream_flush(FILE *out);
/* After writing to out: -errno (-EIO if none is set) when stdio could
 * not write, else 0. stdio drops a buffer it could not write. */
int sink_stream_error(FILE *out);

#endif /* HTTPTRACE_SINK_H */
