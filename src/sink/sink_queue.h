/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A bounded queue of timeline copies in front of a sink that may block,
 * and the thread that feeds the sink from it. The producer (the
 * reader's thread) copies a timeline into a free slot and goes on; when
 * there is none the timeline is dropped and counted. The slots are
 * allocated once, at the start.
 */
#ifndef HTTPTRACE_SINK_QUEUE_H
#define HTTPTRACE_SINK_QUEUE_H

#include <stdbool.h>
#include <stdint.h>

#include "sink/sink.h"
#include "timeline/timeline.h"

#define SINK_QUEUE_DEFAULT 256
#define SINK_DRAIN_DEFAULT_MS 2000

struct sink_queue;

/*
 * A queue of capacity timelines (the one being emitted included) whose
 * thread calls ops->emit and ops->flush with state; it owns state from
 * here on and closes it in sink_queue_free(), on that thread. The
 * thread blocks every signal, so that a signal meant to interrupt the
 * main thread's writes reaches that thread. Returns 0, or a negative
 * errno (state is then closed too).
 */
int sink_queue_new(struct sink_queue **q, const struct sink_ops *ops,
		   void *state, uint32_t capacity, uint32_t drain_ms);
/* Copies tl in; false when the queue was full or its sink has failed
 * (counted). Never waits for the sink. */
bool sink_queue_push(struct sink_queue *q, const struct timeline *tl);
/* Asks the thread to flush the sink once it holds nothing more. */
void sink_queue_flush(struct sink_queue *q);
/*
 * Lets the thread emit what the queue holds for at most the drain time
 * (the emit under way is always waited for), drops and counts the rest,
 * flushes and closes the sink, joins the thread and frees the queue.
 * last gets the final counters (NULL: not wanted). NULL q is fine.
 */
void sink_queue_free(struct sink_queue *q, struct sink_stats *last);
/* A snapshot of the counters. */
void sink_queue_stats(struct sink_queue *q, struct sink_stats *st);

#endif /* HTTPTRACE_SINK_QUEUE_H */
