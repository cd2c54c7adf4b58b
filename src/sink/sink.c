// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The sink table and the fan-out. A sink that fails is left out from
 * then on; the others go on.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "sink/sink.h"
#include "sink/sink_queue.h"

/*
 * Every sink there is: X(NAME) for the struct sink_ops sink_NAME_ops
 * that src/sink/NAME/ defines. A new sink is one more line here.
 */
#define SINK_TABLE(X) \
	X(text)       \
	X(json)       \
	X(prometheus) \
	X(otlp)

#define SINK_DECLARE(name) extern const struct sink_ops sink_##name##_ops;
#define SINK_ENTRY(name) &sink_##name##_ops,

SINK_TABLE(SINK_DECLARE)

static const struct sink_ops *const sink_table[] = {
	SINK_TABLE(SINK_ENTRY)
};

struct sink_entry {
	const struct sink_ops *ops;
	void *state;              /* a synchronous sink's */
	struct sink_queue *queue; /* a sink that may block: owns its state */
	/* a synchronous sink's; a queued one's once closed */
	struct sink_stats stats;
	bool failure_told;
};

struct sink_set {
	struct sink_entry sinks[SINK_SET_MAX];
	size_t n;
	bool closed;
	sink_failed_fn failed;
	void *user;
};

const struct sink_ops *sink_find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(sink_table) / sizeof(sink_table[0]); i++)
		if (!strcmp(sink_table[i]->name, name))
			return sink_table[i];
	return NULL;
}

struct sink_set *sink_set_new(sink_failed_fn failed, void *user)
{
	struct sink_set *set = calloc(1, sizeof(*set));

	if (!set)
		return NULL;
	set->failed = failed;
	set->user = user;
	return set;
}

int sink_set_add_ops(struct sink_set *set, const struct sink_ops *ops,
		     const struct sink_config *cfg, char *err,
		     size_t err_size)
{
	struct sink_entry *e;
	void *state = NULL;
	int ret;

	if (set->closed)
		return -EINVAL;
	if (set->n >= SINK_SET_MAX) {
		snprintf(err, err_size, "more than %d outputs", SINK_SET_MAX);
		return -E2BIG;
	}
	e = &set->sinks[set->n];
	memset(e, 0, sizeof(*e));
	ret = ops->open(&state, cfg, err, err_size);
	if (ret)
		return ret;
	e->ops = ops;
	if (ops->may_block) {
		ret = sink_queue_new(&e->queue, ops, state,
				     cfg->queue_capacity, cfg->drain_ms);
		if (ret) {
			snprintf(err, err_size, "cannot start its thread: %s",
				 strerror(-ret));
			return ret;
		}
	} else {
		e->state = state;
	}
	set->n++;
	return 0;
}

int sink_set_add(struct sink_set *set, const char *name,
		 const struct sink_config *cfg, char *err, size_t err_size)
{
	const struct sink_ops *ops = sink_find(name);

	if (!ops) {
		snprintf(err, err_size, "no output called \"%s\"", name);
		return -ENOENT;
	}
	return sink_set_add_ops(set, ops, cfg, err, err_size);
}

static void tell_failure(struct sink_set *set, struct sink_entry *e, int err)
{
	if (e->failure_told || !err)
		return;
	e->failure_told = true;
	if (set->failed)
		set->failed(set->user, e->ops->name, err);
}

/* A synchronous sink's result: the first error stops it. */
static void sync_result(struct sink_set *set, struct sink_entry *e, int ret)
{
	if (!ret || e->stats.err)
		return;
	e->stats.err = ret < 0 ? -ret : ret;
	tell_failure(set, e, e->stats.err);
}

/* A queued sink fails on its own thread: told on this one. */
static void check_queue(struct sink_set *set, struct sink_entry *e)
{
	struct sink_stats st;

	if (e->failure_told)
		return;
	sink_queue_stats(e->queue, &st);
	tell_failure(set, e, st.err);
}

void sink_set_emit(struct sink_set *set, const struct timeline *tl)
{
	size_t i;

	if (set->closed)
		return;
	for (i = 0; i < set->n; i++) {
		struct sink_entry *e = &set->sinks[i];

		if (e->queue) {
			sink_queue_push(e->queue, tl);
			check_queue(set, e);
		} else if (e->stats.err) {
			e->stats.not_written++;
		} else {
			int ret = e->ops->emit(e->state, tl);

			if (!ret)
				e->stats.emitted++;
			sync_result(set, e, ret);
		}
	}
}

void sink_set_flush(struct sink_set *set)
{
	size_t i;

	if (set->closed)
		return;
	for (i = 0; i < set->n; i++) {
		struct sink_entry *e = &set->sinks[i];

		if (e->queue) {
			sink_queue_flush(e->queue);
			check_queue(set, e);
		} else if (!e->stats.err && e->ops->flush) {
			sync_result(set, e, e->ops->flush(e->state));
		}
	}
}

void sink_set_close(struct sink_set *set)
{
	size_t i;

	if (set->closed)
		return;
	set->closed = true;
	for (i = 0; i < set->n; i++) {
		struct sink_entry *e = &set->sinks[i];

		if (e->queue) {
			sink_queue_free(e->queue, &e->stats);
			e->queue = NULL;
			tell_failure(set, e, e->stats.err);
		} else {
			if (e->ops->stop)
				e->ops->stop(e->state);
			if (e->ops->counters)
				e->ops->counters(e->state, &e->stats);
			e->ops->close(e->state);
			e->state = NULL;
		}
	}
}

void sink_set_free(struct sink_set *set)
{
	if (!set)
		return;
	sink_set_close(set);
	free(set);
}

void sink_set_publish(struct sink_set *set, struct sink_counters *c)
{
	size_t i;

	c->n_sinks = set->n;
	for (i = 0; i < set->n; i++) {
		c->sinks[i].name = set->sinks[i].ops->name;
		c->sinks[i].queued = sink_set_queued(set, i);
		sink_set_stats(set, i, &c->sinks[i].st);
	}
	if (set->closed)
		return;
	for (i = 0; i < set->n; i++) {
		struct sink_entry *e = &set->sinks[i];

		if (!e->queue && !e->stats.err && e->ops->publish)
			e->ops->publish(e->state, c);
	}
}

size_t sink_set_count(const struct sink_set *set)
{
	return set->n;
}

const char *sink_set_name(const struct sink_set *set, size_t i)
{
	return i < set->n ? set->sinks[i].ops->name : NULL;
}

bool sink_set_queued(const struct sink_set *set, size_t i)
{
	return i < set->n && (set->sinks[i].ops->may_block ||
			      set->sinks[i].ops->own_thread);
}

void sink_set_stats(const struct sink_set *set, size_t i,
		    struct sink_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (i >= set->n)
		return;
	if (set->sinks[i].queue) {
		sink_queue_stats(set->sinks[i].queue, st);
	} else {
		*st = set->sinks[i].stats;
		if (set->sinks[i].state && set->sinks[i].ops->counters)
			set->sinks[i].ops->counters(set->sinks[i].state, st);
	}
}

int sink_stream_error(FILE *out)
{
	if (!ferror(out))
		return 0;
	return errno ? -errno : -EIO;
}

int sink_stream_flush(FILE *out)
{
	struct pollfd pfd = { .fd = fileno(out) };

	if (fflush(out) == EOF || ferror(out))
		return errno ? -errno : -EIO;
	if (pfd.fd >= 0 && poll(&pfd, 1, 0) == 1 &&
	    (pfd.revents & (POLLERR | POLLNVAL)))
		return pfd.revents & POLLNVAL ? -EBADF : -EPIPE;
	return 0;
}
