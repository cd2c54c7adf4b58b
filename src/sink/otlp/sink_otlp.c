// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <zlib.h>

#include "sink/otlp/otlp_config.h"
#include "sink/otlp/otlp_encode.h"
#include "sink/otlp/sink_otlp.h"
#include "util/log.h"
#include "util/thread.h"

#ifdef OTLP_NO_CURL
/* The static build (the kernel matrix's): Debian's static libcurl needs
 * static archives of its TLS and compression libraries that are not
 * packaged, so this build has no HTTP client and says so at open. */
static int otlp_open_unsupported(void **state, const struct sink_config *cfg,
				 char *err, size_t err_size)
{
	snprintf(err, err_size, "this build has no HTTP client (it was made "
		 "without libcurl)");
	return -ENOTSUP;
}

static int otlp_emit_unsupported(void *state, const struct timeline *tl)
{
	return -ENOTSUP;
}

static void otlp_close_unsupported(void *state)
{
}

const struct sink_ops sink_otlp_ops = {
	.name = "otlp",
	.open = otlp_open_unsupported,
	.emit = otlp_emit_unsupported,
	.close = otlp_close_unsupported,
	.own_thread = true,
};
#else
#include "sink/otlp/otlp_curl.h"

/* what is kept of a response body: an ExportTraceServiceResponse is a
 * few bytes, an error's Status a sentence */
#define RESPONSE_MAX 65536
/* a collector that stays away is said once per this, not per batch */
#define WARN_EVERY_NS (10 * 1000000000ULL)

enum post_result {
	POST_OK,
	POST_RETRY,     /* 429, 502, 503, 504, or no connection */
	POST_FAIL,      /* anything else: retrying would not help */
};

struct otlp_batch {
	struct pb_buf body;         /* an ExportTraceServiceRequest */
	size_t n_spans;
};

/*
 * Two threads: the set's (emit, flush, stop, close) encodes each span
 * into the batch being filled and seals it into pending; the sender
 * gzips and posts the oldest sealed batch, with its retries. pending
 * is a ring under lock: the sender keeps pending[head] counted while it
 * posts it, so the set's thread writes the slot count places after
 * head, a free one as long as count < OTLP_PENDING_MAX.
 */
struct otlp_sink {
	struct otlp_config cfg;
	struct otlp_span_opts span_opts;
	uint32_t drain_ms;

	/* the set's thread: the spans of each process since the last seal */
	struct otlp_group *groups;
	size_t n_groups, cap_groups;
	size_t n_spans;             /* timelines in it */
	uint64_t batch_start_ns;
	struct pb_buf resource;
	bool oom_said;

	/* under lock */
	struct otlp_batch pending[OTLP_PENDING_MAX];
	size_t head, count;
	pthread_t sender;
	bool sender_started;

	/* the sender's */
	struct pb_buf gz, response;
	const struct otlp_curl *cu;
	CURL *curl;
	struct curl_slist *headers;
	char curl_err[CURL_ERROR_SIZE];
	int64_t retry_after_ms;     /* of the last response; -1 = none */
	z_stream zs;
	bool zs_ready;

	/* sink_stats' sent, send_failed and dropped (pending was full, or
	 * still held spans when the drain time was over): read by any
	 * thread */
	_Atomic uint64_t sent, send_failed, dropped;

	pthread_mutex_t lock;
	pthread_cond_t wake;        /* CLOCK_MONOTONIC */
	atomic_bool stopping;
	_Atomic uint64_t drain_end_ns;

	/* saying it in words, not too often */
	bool failing;
	uint64_t last_warn_ns, failed_unsaid;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static size_t on_body(char *data, size_t size, size_t n, void *user)
{
	struct otlp_sink *s = user;
	size_t len = size * n;

	if (s->response.len < RESPONSE_MAX)
		pb_raw(&s->response, data,
		       len < RESPONSE_MAX - s->response.len ?
			       len : RESPONSE_MAX - s->response.len);
	return len;
}

static size_t on_header(char *data, size_t size, size_t n, void *user)
{
	struct otlp_sink *s = user;
	size_t len = size * n;
	static const char name[] = "retry-after:";
	char value[128];
	uint64_t ms;

	/* a new status line: a new response (after a redirect) */
	if (len >= 5 && !strncmp(data, "HTTP/", 5))
		s->retry_after_ms = -1;
	if (len > sizeof(name) - 1 &&
	    !strncasecmp(data, name, sizeof(name) - 1)) {
		size_t vlen = len - (sizeof(name) - 1);

		if (vlen >= sizeof(value))
			vlen = sizeof(value) - 1;
		memcpy(value, data + sizeof(name) - 1, vlen);
		value[vlen] = '\0';
		if (!otlp_retry_after_ms(value, time(NULL), &ms))
			s->retry_after_ms = (int64_t)ms;
	}
	return len;
}

/* Ends a transfer under way once the drain time is over. */
static int on_progress(void *user, curl_off_t dltotal, curl_off_t dlnow,
		       curl_off_t ultotal, curl_off_t ulnow)
{
	struct otlp_sink *s = user;

	(void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
	return atomic_load(&s->stopping) &&
	       mono_ns() >= atomic_load(&s->drain_end_ns);
}

static int setup_curl(struct otlp_sink *s, char *err, size_t err_size)
{
	static const char *const fixed[] = {
		"Content-Type: application/x-protobuf",
		/* no 100-continue round trip before each batch */
		"Expect:",
	};
	CURL *c;

	s->curl = c = s->cu->easy_init();
	if (!c) {
		snprintf(err, err_size, "libcurl could not start");
		return -ENOMEM;
	}
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		s->headers = s->cu->slist_append(s->headers, fixed[i]);
	if (s->cfg.gzip)
		s->headers = s->cu->slist_append(s->headers,
					       "Content-Encoding: gzip");
	for (size_t i = 0; i < s->cfg.n_headers; i++)
		s->headers = s->cu->slist_append(s->headers, s->cfg.headers[i]);
	if (!s->headers) {
		snprintf(err, err_size, "out of memory");
		return -ENOMEM;
	}
	s->cu->easy_setopt(c, CURLOPT_URL, s->cfg.url);
	s->cu->easy_setopt(c, CURLOPT_HTTPHEADER, s->headers);
	s->cu->easy_setopt(c, CURLOPT_POST, 1L);
	s->cu->easy_setopt(c, CURLOPT_USERAGENT,
			 "httptrace-bpf/" HTTPTRACE_VERSION);
	/* a thread of its own: no SIGALRM for name lookups */
	s->cu->easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	s->cu->easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	s->cu->easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	s->cu->easy_setopt(c, CURLOPT_WRITEDATA, s);
	s->cu->easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	s->cu->easy_setopt(c, CURLOPT_HEADERDATA, s);
	s->cu->easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	s->cu->easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
	s->cu->easy_setopt(c, CURLOPT_XFERINFODATA, s);
	s->cu->easy_setopt(c, CURLOPT_ERRORBUFFER, s->curl_err);
	return 0;
}

static void otlp_close(void *state);
static void *sender_main(void *arg);

static int start_sender(struct otlp_sink *s, char *err, size_t err_size)
{
	int ret = thread_start_quiet(&s->sender, sender_main, s);

	if (ret) {
		snprintf(err, err_size, "cannot start its thread: %s",
			 strerror(ret));
		return -ret;
	}
	s->sender_started = true;
	return 0;
}

static int otlp_open(void **state, const struct sink_config *cfg, char *err,
		     size_t err_size)
{
	const struct otlp_config *oc = cfg->params;
	const struct otlp_curl *cu;
	struct otlp_sink *s;
	pthread_condattr_t ca;
	int ret;

	if (!oc) {
		snprintf(err, err_size, "no endpoint configured");
		return -EINVAL;
	}
	cu = otlp_curl(err, err_size);
	if (!cu)
		return -ELIBACC;
	s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, err_size, "out of memory");
		return -ENOMEM;
	}
	s->cu = cu;
	s->cfg = *oc;
	s->span_opts.mono_to_realtime_ns = cfg->opts.mono_to_realtime_ns;
	s->span_opts.phase_spans = oc->phase_spans;
	s->drain_ms = cfg->drain_ms ? cfg->drain_ms : 2000;
	s->retry_after_ms = -1;
	pthread_mutex_init(&s->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->wake, &ca);
	pthread_condattr_destroy(&ca);
	ret = setup_curl(s, err, err_size);
	if (!ret && s->cfg.gzip) {
		/* 15 + 16: a gzip wrapper, as Content-Encoding: gzip says.
		 * The fastest level: a batch's spans repeat their keys, so
		 * it already shrinks them about sevenfold, and at tens of
		 * thousands of spans a second the default level's CPU
		 * would be the agent's largest cost. */
		if (deflateInit2(&s->zs, Z_BEST_SPEED, Z_DEFLATED,
				 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
			snprintf(err, err_size, "zlib could not start");
			ret = -ENOMEM;
		} else {
			s->zs_ready = true;
		}
	}
	if (!ret)
		ret = start_sender(s, err, err_size);
	if (ret) {
		otlp_close(s);
		return ret;
	}
	*state = s;
	return 0;
}

/* body gzipped into s->gz; false when zlib or memory failed */
static bool gzip_body(struct otlp_sink *s, const struct pb_buf *body)
{
	uLong bound = deflateBound(&s->zs, (uLong)body->len);

	pb_reset(&s->gz);
	if (deflateReset(&s->zs) != Z_OK)
		return false;
	/* room first, then deflate into it in one call */
	if (s->gz.cap < bound) {
		uint8_t *p = realloc(s->gz.p, bound);

		if (!p)
			return false;
		s->gz.p = p;
		s->gz.cap = bound;
	}
	s->zs.next_in = body->p;
	s->zs.avail_in = (uInt)body->len;
	s->zs.next_out = s->gz.p;
	s->zs.avail_out = (uInt)bound;
	if (deflate(&s->zs, Z_FINISH) != Z_STREAM_END)
		return false;
	s->gz.len = bound - s->zs.avail_out;
	return true;
}

/* The errors of a collector that is not there (yet): worth a retry. */
static bool curl_retryable(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
		return true;
	default:
		return false;
	}
}

static enum post_result post(struct otlp_sink *s, const struct pb_buf *body,
			     uint64_t deadline_ns, int64_t *rejected,
			     char *why, size_t why_size)
{
	uint64_t now = mono_ns();
	long timeout_ms = deadline_ns > now ?
				  (long)((deadline_ns - now) / 1000000) : 0;
	long status = 0;
	CURLcode rc;

	*rejected = 0;
	s->cu->easy_setopt(s->curl, CURLOPT_POSTFIELDS, body->p);
	s->cu->easy_setopt(s->curl, CURLOPT_POSTFIELDSIZE_LARGE,
			 (curl_off_t)body->len);
	s->cu->easy_setopt(s->curl, CURLOPT_TIMEOUT_MS,
			 timeout_ms > 0 ? timeout_ms : 1L);
	pb_reset(&s->response);
	s->retry_after_ms = -1;
	s->curl_err[0] = '\0';
	rc = s->cu->easy_perform(s->curl);
	if (rc != CURLE_OK) {
		snprintf(why, why_size, "%s", s->curl_err[0] ? s->curl_err :
					      s->cu->easy_strerror(rc));
		return curl_retryable(rc) ? POST_RETRY : POST_FAIL;
	}
	s->cu->easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &status);
	if (status >= 200 && status < 300) {
		if (otlp_decode_response(s->response.p, s->response.len,
					 rejected) || *rejected < 0)
			*rejected = 0;
		return POST_OK;
	}
	snprintf(why, why_size, "HTTP status %ld", status);
	return otlp_status_retryable(status) ? POST_RETRY : POST_FAIL;
}

/* Waits until mono time t, or until stop(). */
static void sleep_until(struct otlp_sink *s, uint64_t t)
{
	struct timespec ts = {
		.tv_sec = (time_t)(t / 1000000000ULL),
		.tv_nsec = (long)(t % 1000000000ULL),
	};

	pthread_mutex_lock(&s->lock);
	while (!atomic_load(&s->stopping) && mono_ns() < t)
		if (pthread_cond_timedwait(&s->wake, &s->lock, &ts) ==
		    ETIMEDOUT)
			break;
	pthread_mutex_unlock(&s->lock);
}

static void note_sent(struct otlp_sink *s)
{
	if (s->failing)
		log_info("OTLP: the collector at %s takes spans again",
			 s->cfg.url);
	s->failing = false;
}

static void note_given_up(struct otlp_sink *s, size_t n, const char *why,
			  unsigned int attempts)
{
	uint64_t now = mono_ns();

	s->failed_unsaid += n;
	if (s->failing && now - s->last_warn_ns < WARN_EVERY_NS)
		return;
	log_warn("OTLP: %llu span%s not sent to %s after %u attempt%s: %s",
		 (unsigned long long)s->failed_unsaid,
		 s->failed_unsaid == 1 ? "" : "s", s->cfg.url, attempts,
		 attempts == 1 ? "" : "s", why);
	s->failing = true;
	s->last_warn_ns = now;
	s->failed_unsaid = 0;
}

/* The set's thread: the batch being filled starts again. */
static void reset_batch(struct otlp_sink *s)
{
	for (size_t i = 0; i < s->n_groups; i++) {
		pb_reset(&s->groups[i].resource);
		pb_reset(&s->groups[i].spans);
	}
	s->n_groups = 0;
	s->n_spans = 0;
}

/* The sender: posts b, retrying within the time one batch may take. */
static void send_batch(struct otlp_sink *s, const struct otlp_batch *b)
{
	size_t n = b->n_spans;
	const struct pb_buf *body = &b->body;
	uint64_t deadline;
	unsigned int attempt;
	char why[CURL_ERROR_SIZE + 32] = "out of memory";
	uint32_t rnd;

	if (s->cfg.gzip) {
		if (!gzip_body(s, body)) {
			atomic_fetch_add(&s->send_failed, n);
			note_given_up(s, n, why, 0);
			return;
		}
		body = &s->gz;
	}
	deadline = mono_ns() + (uint64_t)s->cfg.timeout_ms * 1000000ULL;
	for (attempt = 0;; attempt++) {
		bool stopping = atomic_load(&s->stopping);
		int64_t rejected, wait_ms;
		enum post_result r;
		uint64_t now;

		if (stopping && atomic_load(&s->drain_end_ns) < deadline)
			deadline = atomic_load(&s->drain_end_ns);
		r = post(s, body, deadline, &rejected, why, sizeof(why));
		if (r == POST_OK) {
			if ((uint64_t)rejected > n)
				rejected = (int64_t)n;
			atomic_fetch_add(&s->sent, n - (size_t)rejected);
			atomic_fetch_add(&s->send_failed, (size_t)rejected);
			if (rejected)
				note_given_up(s, (size_t)rejected,
					      "the collector rejected them",
					      attempt + 1);
			else
				note_sent(s);
			break;
		}
		now = mono_ns();
		if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
			rnd = (uint32_t)now;
		wait_ms = s->retry_after_ms >= 0 ?
				  s->retry_after_ms :
				  (int64_t)otlp_backoff_ms(attempt, rnd);
		/* a wait that ends past the deadline would only end in
		 * giving up; once stopping, one try is all there is */
		if (r == POST_FAIL || stopping ||
		    now + (uint64_t)wait_ms * 1000000ULL >= deadline) {
			atomic_fetch_add(&s->send_failed, n);
			note_given_up(s, n, why, attempt + 1);
			break;
		}
		/* stop() ends the wait: the next try is the last */
		sleep_until(s, now + (uint64_t)wait_ms * 1000000ULL);
	}
}

/* The sender thread: the oldest sealed batch, until stopped with
 * nothing left or the drain time over. */
static void *sender_main(void *arg)
{
	struct otlp_sink *s = arg;

	pthread_mutex_lock(&s->lock);
	for (;;) {
		while (!s->count && !atomic_load(&s->stopping))
			pthread_cond_wait(&s->wake, &s->lock);
		if (!s->count)
			break;
		if (atomic_load(&s->stopping) &&
		    mono_ns() >= atomic_load(&s->drain_end_ns)) {
			for (; s->count; s->count--) {
				atomic_fetch_add(&s->dropped,
						 s->pending[s->head].n_spans);
				s->head = (s->head + 1) % OTLP_PENDING_MAX;
			}
			break;
		}
		pthread_mutex_unlock(&s->lock);
		send_batch(s, &s->pending[s->head]);
		pthread_mutex_lock(&s->lock);
		s->head = (s->head + 1) % OTLP_PENDING_MAX;
		s->count--;
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

/* The set's thread: n spans failed for want of memory; said once (at
 * tens of thousands of spans a second a line each would flood the
 * log), counted always. */
static void note_oom(struct otlp_sink *s, size_t n)
{
	atomic_fetch_add(&s->send_failed, n);
	if (s->oom_said)
		return;
	s->oom_said = true;
	log_warn("OTLP: spans not sent to %s: out of memory (said once; "
		 "the summary at exit counts them)", s->cfg.url);
}

/* The set's thread: the batch being filled goes to the sender, or is
 * dropped and counted when OTLP_PENDING_MAX batches already wait. */
static void seal_batch(struct otlp_sink *s)
{
	struct otlp_batch *b;
	bool full;

	if (!s->n_spans)
		return;
	pthread_mutex_lock(&s->lock);
	full = s->count == OTLP_PENDING_MAX;
	b = &s->pending[(s->head + s->count) % OTLP_PENDING_MAX];
	pthread_mutex_unlock(&s->lock);
	if (full) {
		atomic_fetch_add(&s->dropped, s->n_spans);
		reset_batch(s);
		return;
	}
	/* not the sender's until count says so */
	pb_reset(&b->body);
	otlp_encode_request(&b->body, s->groups, s->n_groups);
	b->n_spans = s->n_spans;
	reset_batch(s);
	if (b->body.oom) {
		note_oom(s, b->n_spans);
		return;
	}
	pthread_mutex_lock(&s->lock);
	s->count++;
	pthread_cond_broadcast(&s->wake);
	pthread_mutex_unlock(&s->lock);
}

static struct otlp_group *group_for(struct otlp_sink *s,
				    const struct pb_buf *resource)
{
	struct otlp_group *g;

	for (size_t i = 0; i < s->n_groups; i++) {
		g = &s->groups[i];
		if (g->resource.len == resource->len &&
		    !memcmp(g->resource.p, resource->p, resource->len))
			return g;
	}
	if (s->n_groups == s->cap_groups) {
		size_t cap = s->cap_groups ? s->cap_groups * 2 : 16;

		g = realloc(s->groups, cap * sizeof(*g));
		if (!g)
			return NULL;
		memset(g + s->cap_groups, 0,
		       (cap - s->cap_groups) * sizeof(*g));
		s->groups = g;
		s->cap_groups = cap;
	}
	g = &s->groups[s->n_groups];
	pb_reset(&g->resource);
	pb_reset(&g->spans);
	pb_raw(&g->resource, resource->p, resource->len);
	if (g->resource.oom)
		return NULL;
	s->n_groups++;
	return g;
}

static int otlp_emit(void *state, const struct timeline *tl)
{
	struct otlp_sink *s = state;
	struct sink_attrs attrs;
	struct otlp_group *g;

	if (!otlp_timeline_exported(tl))
		return 0;
	sink_attrs_of(&attrs, tl);
	pb_reset(&s->resource);
	otlp_encode_resource(&s->resource, &attrs, &s->cfg);
	g = s->resource.oom ? NULL : group_for(s, &s->resource);
	if (!g) {
		note_oom(s, 1);
		return 0;
	}
	otlp_encode_spans(&g->spans, tl, &attrs, &s->span_opts);
	if (!s->n_spans)
		s->batch_start_ns = mono_ns();
	s->n_spans++;
	if (s->n_spans >= OTLP_BATCH_MAX)
		seal_batch(s);
	return 0;
}

/* Only what is due: main calls this after every poll. */
static int otlp_flush(void *state)
{
	struct otlp_sink *s = state;

	if (s->n_spans &&
	    mono_ns() - s->batch_start_ns >= OTLP_BATCH_MS * 1000000ULL)
		seal_batch(s);
	return 0;
}

/* At close: what is held goes out within the drain time, the rest is
 * dropped and counted; the sender is gone on return. */
static void otlp_stop(void *state)
{
	struct otlp_sink *s = state;

	seal_batch(s);
	pthread_mutex_lock(&s->lock);
	atomic_store(&s->drain_end_ns,
		     mono_ns() + (uint64_t)s->drain_ms * 1000000ULL);
	atomic_store(&s->stopping, true);
	pthread_cond_broadcast(&s->wake);
	pthread_mutex_unlock(&s->lock);
	if (s->sender_started)
		pthread_join(s->sender, NULL);
	s->sender_started = false;
}

static void otlp_counters(void *state, struct sink_stats *st)
{
	struct otlp_sink *s = state;

	st->sent = atomic_load(&s->sent);
	st->send_failed = atomic_load(&s->send_failed);
	st->dropped = atomic_load(&s->dropped);
}

static void otlp_close(void *state)
{
	struct otlp_sink *s = state;

	otlp_stop(s);
	if (s->curl)
		s->cu->easy_cleanup(s->curl);
	s->cu->slist_free_all(s->headers);
	if (s->zs_ready)
		deflateEnd(&s->zs);
	for (size_t i = 0; i < s->cap_groups; i++) {
		pb_free(&s->groups[i].resource);
		pb_free(&s->groups[i].spans);
	}
	free(s->groups);
	for (size_t i = 0; i < OTLP_PENDING_MAX; i++)
		pb_free(&s->pending[i].body);
	pb_free(&s->resource);
	pb_free(&s->gz);
	pb_free(&s->response);
	pthread_cond_destroy(&s->wake);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

const struct sink_ops sink_otlp_ops = {
	.name = "otlp",
	.open = otlp_open,
	.emit = otlp_emit,
	.flush = otlp_flush,
	.close = otlp_close,
	.stop = otlp_stop,
	.counters = otlp_counters,
	.own_thread = true,
};
#endif /* OTLP_NO_CURL */
