// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The queue is a ring of preallocated slots. The slot at head stays
 * counted while its timeline is being emitted, without the lock held,
 * so the producer never writes into it: it writes the slot count places
 * after head, which is another one as long as count < capacity.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sink/sink_queue.h"
#include "util/thread.h"

struct sink_queue {
	const struct sink_ops *ops;
	void *state;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct timeline *slots;
	uint32_t capacity, head, count;
	uint32_t drain_ms;
	uint64_t drain_end_ns;  /* set with stopping */
	bool stopping, flush_wanted, failed;
	struct sink_stats stats;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Called with the lock held: a failed sink takes nothing more. */
static void note_result(struct sink_queue *q, int ret)
{
	/* on the sink's thread, after its call: its counters are still */
	if (q->ops->counters)
		q->ops->counters(q->state, &q->stats);
	if (!ret || q->failed)
		return;
	q->failed = true;
	q->stats.err = ret < 0 ? -ret : ret;
}

/* Called with the lock held; drops it around the call into the sink. */
static void flush_sink(struct sink_queue *q)
{
	int ret;

	q->flush_wanted = false;
	if (q->failed || !q->ops->flush)
		return;
	pthread_mutex_unlock(&q->lock);
	ret = q->ops->flush(q->state);
	pthread_mutex_lock(&q->lock);
	note_result(q, ret);
}

static void *queue_thread(void *arg)
{
	struct sink_queue *q = arg;
	int ret;

	pthread_mutex_lock(&q->lock);
	for (;;) {
		while (!q->count && !q->stopping && !q->flush_wanted)
			pthread_cond_wait(&q->wake, &q->lock);
		if (q->count && q->stopping && mono_ns() >= q->drain_end_ns) {
			q->stats.dropped += q->count;
			q->head = (q->head + q->count) % q->capacity;
			q->count = 0;
		}
		if (q->count) {
			const struct timeline *tl = &q->slots[q->head];

			if (q->failed) {
				q->stats.not_written++;
			} else {
				pthread_mutex_unlock(&q->lock);
				ret = q->ops->emit(q->state, tl);
				pthread_mutex_lock(&q->lock);
				/* the timeline that failed is neither */
				if (!ret)
					q->stats.emitted++;
				note_result(q, ret);
			}
			q->head = (q->head + 1) % q->capacity;
			q->count--;
		}
		if (q->flush_wanted || (q->stopping && !q->count))
			flush_sink(q);
		if (q->stopping && !q->count)
			break;
	}
	pthread_mutex_unlock(&q->lock);
	q->ops->close(q->state);
	return NULL;
}

int sink_queue_new(struct sink_queue **qp, const struct sink_ops *ops,
		   void *state, uint32_t capacity, uint32_t drain_ms)
{
	struct sink_queue *q;
	int ret = -ENOMEM;

	*qp = NULL;
	q = calloc(1, sizeof(*q));
	if (!q)
		goto err_close;
	q->capacity = capacity ? capacity : SINK_QUEUE_DEFAULT;
	q->drain_ms = drain_ms ? drain_ms : SINK_DRAIN_DEFAULT_MS;
	q->ops = ops;
	q->state = state;
	q->slots = calloc(q->capacity, sizeof(*q->slots));
	if (!q->slots)
		goto err_free;
	ret = -pthread_mutex_init(&q->lock, NULL);
	if (ret)
		goto err_free;
	ret = -pthread_cond_init(&q->wake, NULL);
	if (ret)
		goto err_mutex;
	ret = -thread_start_quiet(&q->thread, queue_thread, q);
	if (ret)
		goto err_cond;
	*qp = q;
	return 0;

err_cond:
	pthread_cond_destroy(&q->wake);
err_mutex:
	pthread_mutex_destroy(&q->lock);
err_free:
	free(q->slots);
	free(q);
err_close:
	ops->close(state);
	return ret;
}

bool sink_queue_push(struct sink_queue *q, const struct timeline *tl)
{
	bool taken = false;

	pthread_mutex_lock(&q->lock);
	if (q->failed) {
		q->stats.not_written++;
	} else if (q->count >= q->capacity || q->stopping) {
		q->stats.dropped++;
	} else {
		memcpy(&q->slots[(q->head + q->count) % q->capacity], tl,
		       sizeof(*tl));
		q->count++;
		taken = true;
		pthread_cond_signal(&q->wake);
	}
	pthread_mutex_unlock(&q->lock);
	return taken;
}

void sink_queue_flush(struct sink_queue *q)
{
	pthread_mutex_lock(&q->lock);
	q->flush_wanted = true;
	pthread_cond_signal(&q->wake);
	pthread_mutex_unlock(&q->lock);
}

void sink_queue_free(struct sink_queue *q, struct sink_stats *last)
{
	if (!q)
		return;
	/* the thread still runs and owns state: stop() is thread-safe */
	if (q->ops->stop)
		q->ops->stop(q->state);
	pthread_mutex_lock(&q->lock);
	q->stopping = true;
	q->drain_end_ns = mono_ns() + (uint64_t)q->drain_ms * 1000000ULL;
	pthread_cond_signal(&q->wake);
	pthread_mutex_unlock(&q->lock);
	pthread_join(q->thread, NULL);
	if (last)
		*last = q->stats;
	pthread_cond_destroy(&q->wake);
	pthread_mutex_destroy(&q->lock);
	free(q->slots);
	free(q);
}

void sink_queue_stats(struct sink_queue *q, struct sink_stats *st)
{
	pthread_mutex_lock(&q->lock);
	*st = q->stats;
	pthread_mutex_unlock(&q->lock);
}
