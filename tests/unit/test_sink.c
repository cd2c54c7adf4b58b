// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The sink set and the queue in front of a sink that may block: order,
 * exact drop counts, draining at shutdown, failures, and that the text
 * and JSON sinks write what output_text() and output_json() write.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "unit.h"
#include "sink/sink.h"
#include "sink/sink_queue.h"
#include "sink/json/output_json.h"
#include "sink/text/output_text.h"

#define MAX_GOT 4096

/* A sink that notes the pid of each timeline; it can be held shut
 * (emit waits for the gate), slowed, or made to fail. */
struct fake_sink {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool gated;           /* emit waits while set */
	int entered;          /* emits started */
	unsigned int sleep_us;/* each emit takes this long */
	int fail_at;          /* emit number (from 1) that fails, 0 none */
	int fail_err;
	uint32_t got[MAX_GOT];
	size_t n_got;
	int flushes, closes;
};

static void fake_init(struct fake_sink *f)
{
	memset(f, 0, sizeof(*f));
	pthread_mutex_init(&f->lock, NULL);
	pthread_cond_init(&f->cond, NULL);
}

static void fake_destroy(struct fake_sink *f)
{
	pthread_cond_destroy(&f->cond);
	pthread_mutex_destroy(&f->lock);
}

/* the fake_sink the next open takes */
static struct fake_sink *fake_next;

static int fake_open(void **state, const struct sink_config *cfg, char *err,
		     size_t err_size)
{
	*state = fake_next;
	return 0;
}

static int fake_emit(void *state, const struct timeline *tl)
{
	struct fake_sink *f = state;
	int ret = 0;

	pthread_mutex_lock(&f->lock);
	f->entered++;
	pthread_cond_broadcast(&f->cond);
	while (f->gated)
		pthread_cond_wait(&f->cond, &f->lock);
	if (f->fail_at && f->entered == f->fail_at) {
		ret = -f->fail_err;
	} else if (f->n_got < MAX_GOT) {
		f->got[f->n_got++] = tl->pid;
	}
	pthread_mutex_unlock(&f->lock);
	if (f->sleep_us)
		usleep(f->sleep_us);
	return ret;
}

static int fake_flush(void *state)
{
	struct fake_sink *f = state;

	pthread_mutex_lock(&f->lock);
	f->flushes++;
	pthread_mutex_unlock(&f->lock);
	return 0;
}

static void fake_close(void *state)
{
	struct fake_sink *f = state;

	pthread_mutex_lock(&f->lock);
	f->closes++;
	pthread_mutex_unlock(&f->lock);
}

static const struct sink_ops fake_sync_ops = {
	.name = "fake",
	.open = fake_open,
	.emit = fake_emit,
	.flush = fake_flush,
	.close = fake_close,
};

static const struct sink_ops fake_queued_ops = {
	.name = "fake-queued",
	.open = fake_open,
	.emit = fake_emit,
	.flush = fake_flush,
	.close = fake_close,
	.may_block = true,
};

static void wait_entered(struct fake_sink *f, int n)
{
	pthread_mutex_lock(&f->lock);
	while (f->entered < n)
		pthread_cond_wait(&f->cond, &f->lock);
	pthread_mutex_unlock(&f->lock);
}

static void open_gate(struct fake_sink *f)
{
	pthread_mutex_lock(&f->lock);
	f->gated = false;
	pthread_cond_broadcast(&f->cond);
	pthread_mutex_unlock(&f->lock);
}

static struct timeline tl_pid(uint32_t pid)
{
	struct timeline tl;

	memset(&tl, 0, sizeof(tl));
	tl.pid = pid;
	return tl;
}

static bool push_pid(struct sink_queue *q, uint32_t pid)
{
	struct timeline tl = tl_pid(pid);

	return sink_queue_push(q, &tl);
}

static uint64_t ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- the queue ---------------------------------------------------------- */

static void test_queue_keeps_order(void)
{
	struct fake_sink f;
	struct sink_queue *q;
	struct sink_stats st;
	uint32_t i;

	fake_init(&f);
	CHECK_INT(sink_queue_new(&q, &fake_queued_ops, &f, 300, 0), 0);
	for (i = 0; i < 300; i++)
		CHECK(push_pid(q, i));
	sink_queue_free(q, &st);
	CHECK_INT(st.emitted, 300);
	CHECK_INT(st.dropped, 0);
	CHECK_INT(f.n_got, 300);
	for (i = 0; i < f.n_got; i++)
		if (f.got[i] != i) {
			CHECK_INT(f.got[i], i);
			break;
		}
	CHECK_INT(f.closes, 1);
	CHECK(f.flushes >= 1); /* the one at the end at least */
	fake_destroy(&f);
}

/* The sink held inside its first emit: the queue takes capacity - 1
 * more (the slot being emitted stays taken) and counts every other
 * one as dropped, exactly; what it took comes out in order. */
static void test_queue_full_drops_counted(void)
{
	enum { CAP = 8, EXTRA = 13 };
	struct fake_sink f;
	struct sink_queue *q;
	struct sink_stats st;
	int taken = 0;
	uint32_t i;

	fake_init(&f);
	f.gated = true;
	CHECK_INT(sink_queue_new(&q, &fake_queued_ops, &f, CAP, 0), 0);
	CHECK(push_pid(q, 0));
	wait_entered(&f, 1);
	for (i = 1; i <= CAP - 1 + EXTRA; i++)
		taken += push_pid(q, i);
	CHECK_INT(taken, CAP - 1);
	sink_queue_stats(q, &st);
	CHECK_INT(st.dropped, EXTRA);
	CHECK_INT(st.emitted, 0);
	open_gate(&f);
	sink_queue_free(q, &st);
	CHECK_INT(st.emitted, CAP);
	CHECK_INT(st.dropped, EXTRA);
	CHECK_INT(f.n_got, CAP);
	for (i = 0; i < f.n_got; i++)
		CHECK_INT(f.got[i], i);
	CHECK_INT(f.closes, 1);
	fake_destroy(&f);
}

/* A slow sink under a producer that does not wait: every timeline is
 * either emitted or counted dropped, and those emitted keep their
 * order. */
static void test_queue_slow_sink(void)
{
	enum { N = 2000 };
	struct fake_sink f;
	struct sink_queue *q;
	struct sink_stats st;
	uint64_t taken = 0, t0;
	uint32_t i;

	fake_init(&f);
	f.sleep_us = 1000;
	CHECK_INT(sink_queue_new(&q, &fake_queued_ops, &f, 16, 10000), 0);
	t0 = ms_now();
	for (i = 0; i < N; i++)
		taken += push_pid(q, i);
	/* 2000 pushes against a 1 ms sink: the producer never waited */
	CHECK(ms_now() - t0 < 1000);
	sink_queue_free(q, &st);
	CHECK_INT(st.emitted, taken);
	CHECK_INT(st.emitted + st.dropped, N);
	CHECK(st.dropped > 0);
	CHECK_INT(f.n_got, taken);
	for (i = 1; i < f.n_got; i++)
		if (f.got[i] <= f.got[i - 1]) {
			CHECK(f.got[i] > f.got[i - 1]);
			break;
		}
	fake_destroy(&f);
}

/* Shutdown emits what is queued; past the drain time the rest is
 * dropped and counted, and shutdown does not wait for it. */
static void test_queue_shutdown_drains(void)
{
	struct fake_sink f;
	struct sink_queue *q;
	struct sink_stats st;
	uint64_t t0;
	uint32_t i;

	fake_init(&f);
	f.gated = true;
	CHECK_INT(sink_queue_new(&q, &fake_queued_ops, &f, 64, 5000), 0);
	for (i = 0; i < 64; i++)
		CHECK(push_pid(q, i));
	open_gate(&f);
	sink_queue_free(q, &st);
	CHECK_INT(st.emitted, 64);
	CHECK_INT(st.dropped, 0);
	CHECK_INT(f.closes, 1);
	fake_destroy(&f);

	fake_init(&f);
	f.gated = true;
	f.sleep_us = 20000;
	CHECK_INT(sink_queue_new(&q, &fake_queued_ops, &f, 64, 100), 0);
	for (i = 0; i < 64; i++)
		CHECK(push_pid(q, i));
	open_gate(&f);
	t0 = ms_now();
	sink_queue_free(q, &st);
	CHECK(ms_now() - t0 < 1000);
	CHECK(st.emitted >= 1 && st.emitted < 64);
	CHECK_INT(st.emitted + st.dropped, 64);
	CHECK_INT(f.closes, 1);
	fake_destroy(&f);
}

/* A sink that fails takes nothing more; what came later is counted. */
static void test_queue_sink_fails(void)
{
	struct fake_sink f;
	struct sink_queue *q;
	struct sink_stats st;
	uint32_t i;

	fake_init(&f);
	f.fail_at = 3;
	f.fail_err = ECONNREFUSED;
	CHECK_INT(sink_queue_new(&q, &fake_queued_ops, &f, 4, 0), 0);
	for (i = 0; i < 3; i++)
		CHECK(push_pid(q, i));
	wait_entered(&f, 3);
	/* the failure is noted just after the third emit returns */
	for (i = 0; i < 1000; i++) {
		sink_queue_stats(q, &st);
		if (st.err)
			break;
		usleep(1000);
	}
	CHECK_INT(st.err, ECONNREFUSED);
	CHECK(!push_pid(q, 3));
	CHECK(!push_pid(q, 4));
	sink_queue_free(q, &st);
	CHECK_INT(st.emitted, 2);
	CHECK_INT(st.not_written, 2);
	CHECK_INT(st.dropped, 0);
	CHECK_INT(f.closes, 1);
	fake_destroy(&f);
}

/* ---- the set ------------------------------------------------------------ */

struct failures {
	int n;
	char name[32];
	int err;
};

static void note_failure(void *user, const char *name, int err)
{
	struct failures *fl = user;

	fl->n++;
	snprintf(fl->name, sizeof(fl->name), "%s", name);
	fl->err = err;
}

static void test_set_fans_out(void)
{
	struct fake_sink a, b, c;
	struct sink_config cfg = { 0 };
	struct sink_stats st;
	struct sink_set *set;
	char err[128];
	uint32_t i;

	fake_init(&a);
	fake_init(&b);
	fake_init(&c);
	set = sink_set_new(NULL, NULL);
	CHECK(set != NULL);
	fake_next = &a;
	CHECK_INT(sink_set_add_ops(set, &fake_sync_ops, &cfg, err,
				   sizeof(err)), 0);
	fake_next = &b;
	CHECK_INT(sink_set_add_ops(set, &fake_queued_ops, &cfg, err,
				   sizeof(err)), 0);
	fake_next = &c;
	CHECK_INT(sink_set_add_ops(set, &fake_sync_ops, &cfg, err,
				   sizeof(err)), 0);
	CHECK_INT(sink_set_count(set), 3);
	CHECK(!sink_set_queued(set, 0));
	CHECK(sink_set_queued(set, 1));
	CHECK_STR(sink_set_name(set, 1), "fake-queued");
	for (i = 0; i < 10; i++) {
		struct timeline tl = tl_pid(100 + i);

		sink_set_emit(set, &tl);
	}
	sink_set_flush(set);
	CHECK_INT(a.n_got, 10);
	CHECK_INT(c.n_got, 10);
	CHECK(a.flushes == 1 && c.flushes == 1);
	sink_set_close(set);
	sink_set_stats(set, 1, &st);
	CHECK_INT(st.emitted, 10);
	CHECK_INT(b.n_got, 10);
	for (i = 0; i < 10; i++) {
		CHECK_INT(a.got[i], 100 + i);
		CHECK_INT(b.got[i], 100 + i);
		CHECK_INT(c.got[i], 100 + i);
	}
	sink_set_stats(set, 0, &st);
	CHECK_INT(st.emitted, 10);
	/* closed: nothing more reaches the sinks */
	{
		struct timeline tl = tl_pid(1);

		sink_set_emit(set, &tl);
	}
	CHECK_INT(a.n_got, 10);
	sink_set_free(set);
	CHECK(a.closes == 1 && b.closes == 1 && c.closes == 1);
	fake_destroy(&a);
	fake_destroy(&b);
	fake_destroy(&c);
}

/* One sink fails: told once, left out from then on (counted), the
 * others go on. */
static void test_set_failure(void)
{
	struct fake_sink a, b;
	struct sink_config cfg = { 0 };
	struct failures fl = { 0 };
	struct sink_stats st;
	struct sink_set *set;
	char err[128];
	uint32_t i;

	fake_init(&a);
	fake_init(&b);
	a.fail_at = 2;
	a.fail_err = EPIPE;
	set = sink_set_new(note_failure, &fl);
	fake_next = &a;
	CHECK_INT(sink_set_add_ops(set, &fake_sync_ops, &cfg, err,
				   sizeof(err)), 0);
	fake_next = &b;
	CHECK_INT(sink_set_add_ops(set, &fake_sync_ops, &cfg, err,
				   sizeof(err)), 0);
	for (i = 0; i < 5; i++) {
		struct timeline tl = tl_pid(i);

		sink_set_emit(set, &tl);
	}
	sink_set_flush(set);
	CHECK_INT(fl.n, 1);
	CHECK_STR(fl.name, "fake");
	CHECK_INT(fl.err, EPIPE);
	CHECK_INT(a.entered, 2);
	CHECK_INT(a.flushes, 0);
	CHECK_INT(b.n_got, 5);
	CHECK_INT(b.flushes, 1);
	sink_set_stats(set, 0, &st);
	CHECK_INT(st.emitted, 1);
	CHECK_INT(st.not_written, 3);
	CHECK_INT(st.err, EPIPE);
	sink_set_free(set);
	CHECK_INT(a.closes, 1);
	fake_destroy(&a);
	fake_destroy(&b);
}

static void test_set_unknown_name(void)
{
	struct sink_config cfg = { .out = stdout };
	struct sink_set *set = sink_set_new(NULL, NULL);
	char err[128] = "";

	CHECK_INT(sink_set_add(set, "carrier-pigeon", &cfg, err, sizeof(err)),
		  -ENOENT);
	CHECK_STR(err, "no output called \"carrier-pigeon\"");
	CHECK_INT(sink_set_count(set), 0);
	CHECK(sink_find("text") != NULL);
	CHECK(sink_find("json") != NULL);
	CHECK(!sink_find("text")->may_block && !sink_find("json")->may_block);
	sink_set_free(set);
}

/* ---- text and JSON through the set -------------------------------------- */

static struct timeline sample(uint64_t end_ms)
{
	struct timeline tl = tl_pid(4242);

	tl.start_ns = 1000000000ULL;
	tl.end_ns = end_ms * 1000000ULL;
	snprintf(tl.comm, sizeof(tl.comm), "curl");
	snprintf(tl.method, sizeof(tl.method), "GET");
	snprintf(tl.host, sizeof(tl.host), "example.test");
	snprintf(tl.target, sizeof(tl.target), "/a?token=secret");
	snprintf(tl.version, sizeof(tl.version), "HTTP/1.1");
	tl.status = 200;
	tl.idle_us = -1;
	tl.complete = true;
	for (int i = 0; i < TL_PHASE_COUNT; i++)
		tl.phase_us[i] = -1;
	tl.phase_us[TL_PHASE_WAIT] = 1500;
	tl.phase_us[TL_PHASE_TOTAL] = 2000;
	return tl;
}

static char *slurp(FILE *f)
{
	long n;
	char *buf;

	fflush(f);
	n = ftell(f);
	buf = calloc(1, (size_t)n + 1);
	rewind(f);
	if (fread(buf, 1, (size_t)n, f) != (size_t)n)
		buf[0] = '\0';
	fclose(f);
	return buf;
}

/* The sink writes what the function writes, the text sink's stamps
 * never going back included (the second timeline ended earlier). */
static void check_same_as_direct(const char *name,
				 void (*direct)(FILE *,
						const struct timeline *,
						const struct output_opts *))
{
	struct timeline tl[2] = { sample(3000), sample(2500) };
	struct output_opts o = { .mono_to_realtime_ns = 1700000000000000000LL };
	struct sink_config cfg = { .opts = o };
	struct sink_ops queued = *sink_find(name);
	struct sink_set *set = sink_set_new(NULL, NULL);
	FILE *want_f = tmpfile(), *got_f = tmpfile(), *queued_f = tmpfile();
	char err[128], *want, *got, *got_queued;

	/* the same sink behind a queue, as an exporter would be */
	queued.may_block = true;
	cfg.out = got_f;
	CHECK_INT(sink_set_add(set, name, &cfg, err, sizeof(err)), 0);
	cfg.out = queued_f;
	CHECK_INT(sink_set_add_ops(set, &queued, &cfg, err, sizeof(err)), 0);
	sink_set_emit(set, &tl[0]);
	sink_set_emit(set, &tl[1]);
	sink_set_flush(set);
	sink_set_free(set);
	direct(want_f, &tl[0], &o);
	direct(want_f, &tl[1], &o);
	want = slurp(want_f);
	got = slurp(got_f);
	got_queued = slurp(queued_f);
	CHECK(want[0] != '\0');
	CHECK_STR(got, want);
	CHECK_STR(got_queued, want);
	free(want);
	free(got);
	free(got_queued);
}

/* output_text() as the text sink calls it: one state for the stream,
 * with stamps kept in order (the colors are a terminal's only). */
static struct output_text_state text_state;

static void output_text_ordered(FILE *out, const struct timeline *tl,
				const struct output_opts *opts)
{
	output_text(out, tl, opts, &text_state);
}

static void test_text_sink_writes_output_text(void)
{
	text_state = (struct output_text_state){ .ordered_stamps = true };
	check_same_as_direct("text", output_text_ordered);
}

static void test_json_sink_writes_output_json(void)
{
	check_same_as_direct("json", output_json);
}

int main(int argc, char **argv)
{
	unit_args(argc, argv);
	RUN(test_queue_keeps_order);
	RUN(test_queue_full_drops_counted);
	RUN(test_queue_slow_sink);
	RUN(test_queue_shutdown_drains);
	RUN(test_queue_sink_fails);
	RUN(test_set_fans_out);
	RUN(test_set_failure);
	RUN(test_set_unknown_name);
	RUN(test_text_sink_writes_output_text);
	RUN(test_json_sink_writes_output_json);
	return unit_done("sink");
}
