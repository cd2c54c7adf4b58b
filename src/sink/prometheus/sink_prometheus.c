// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The "prometheus" sink: --metrics-addr HOST:PORT serves /metrics.
 *
 * Synchronous: emit counts the timeline into the histograms on the
 * reader's thread, which takes a lock and a few table look-ups. The
 * HTTP server is libmicrohttpd's, on a thread of its own; a scrape
 * holds the same lock only while it copies the counts, and writes the
 * text from the copy. Expiry runs from flush (after each ring-buffer
 * poll), so the tables stay bounded whether anyone scrapes or not.
 *
 * The listening socket is made at open, before tracing starts: an
 * address that cannot be had is an error then, not a silent
 * non-export.
 *
 * Built with PROM_NO_MHD (no libmicrohttpd: the static build), opening
 * the sink fails and says why.
 */
#include <errno.h>
#ifndef PROM_NO_MHD
#include "sink/prometheus/prom_mhd.h"
#endif
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "sink/prometheus/prom_addr.h"
#include "sink/prometheus/prom_metrics.h"
#include "sink/sink.h"
#include "util/log.h"
#include "util/thread.h"

#define EXPIRE_EVERY_NS (10ULL * 1000000000ULL)
/* scrapers at once; a stuck one is let go after the timeout */
#define CONNECTION_LIMIT 16
#define CONNECTION_TIMEOUT_S 10

#define CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct prom_sink {
	pthread_mutex_t lock;
	struct prom_metrics *m;
#ifndef PROM_NO_MHD
	const struct prom_mhd *mhd;
	struct MHD_Daemon *daemon;
	pthread_t server;
	bool server_running;
	atomic_bool stopping;
#endif
	uint64_t last_expire_ns;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

#ifndef PROM_NO_MHD
static int listen_on(int family, const struct sockaddr *sa, socklen_t len)
{
	int one = 1, zero = 0;
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* every address: IPv4 too, through the IPv6 socket */
	if (family == AF_INET6 &&
	    IN6_IS_ADDR_UNSPECIFIED(
		    &((const struct sockaddr_in6 *)sa)->sin6_addr))
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (bind(fd, sa, len) || listen(fd, 64)) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

/* The listening socket for addr, or a negative errno with the reason
 * in err. */
static int open_listener(const char *addr, char *err, size_t err_size)
{
	struct addrinfo hints = {
		.ai_family = AF_UNSPEC,
		.ai_socktype = SOCK_STREAM,
		.ai_flags = AI_PASSIVE | AI_NUMERICSERV,
	};
	struct addrinfo *res, *ai;
	char host[PROM_HOST_MAX], service[8];
	const char *why;
	uint16_t port;
	int fd = -EADDRNOTAVAIL, ret;

	why = prom_addr_parse(addr, host, &port);
	if (why) {
		snprintf(err, err_size, "--metrics-addr %s: %s", addr, why);
		return -EINVAL;
	}
	snprintf(service, sizeof(service), "%u", port);
	if (!host[0]) {
		struct sockaddr_in6 any6 = { .sin6_family = AF_INET6,
					     .sin6_port = htons(port),
					     .sin6_addr = IN6ADDR_ANY_INIT };
		struct sockaddr_in any4 = { .sin_family = AF_INET,
					    .sin_port = htons(port),
					    .sin_addr.s_addr = INADDR_ANY };

		fd = listen_on(AF_INET6, (struct sockaddr *)&any6,
			       sizeof(any6));
		/* a host without IPv6 */
		if (fd == -EAFNOSUPPORT)
			fd = listen_on(AF_INET, (struct sockaddr *)&any4,
				       sizeof(any4));
	} else {
		ret = getaddrinfo(host, service, &hints, &res);
		if (ret) {
			snprintf(err, err_size, "--metrics-addr %s: %s", addr,
				 gai_strerror(ret));
			return -EADDRNOTAVAIL;
		}
		for (ai = res; ai; ai = ai->ai_next) {
			int r = listen_on(ai->ai_family, ai->ai_addr,
					  ai->ai_addrlen);

			/* the first address's error is the one to tell */
			if (r >= 0 || ai == res)
				fd = r;
			if (r >= 0)
				break;
		}
		freeaddrinfo(res);
	}
	if (fd < 0)
		snprintf(err, err_size, "cannot listen on %s: %s", addr,
			 strerror(-fd));
	return fd;
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned int code,
			     char *body, size_t len, enum MHD_ResponseMemoryMode mode)
{
	/* loaded: the server runs */
	const struct prom_mhd *mhd = prom_mhd(NULL, 0);
	struct MHD_Response *r =
		mhd->create_response_from_buffer(len, body, mode);
	enum MHD_Result ret;

	if (!r) {
		if (mode == MHD_RESPMEM_MUST_FREE)
			free(body);
		return MHD_NO;
	}
	mhd->add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
				code == MHD_HTTP_OK ? CONTENT_TYPE :
						      "text/plain");
	if (code == MHD_HTTP_METHOD_NOT_ALLOWED)
		mhd->add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = mhd->queue_response(conn, code, r);
	mhd->destroy_response(r);
	return ret;
}

static enum MHD_Result serve(void *cls, struct MHD_Connection *conn,
			     const char *url, const char *method,
			     const char *version, const char *upload_data,
			     size_t *upload_data_size, void **req_cls)
{
	static char not_found[] = "not found: the metrics are at /metrics\n";
	static char not_allowed[] = "only GET and HEAD\n";
	struct prom_sink *s = cls;
	struct prom_snapshot *snap;
	size_t len = 0;
	char *body;

	if (strcmp(url, "/metrics"))
		return reply(conn, MHD_HTTP_NOT_FOUND, not_found,
			     sizeof(not_found) - 1, MHD_RESPMEM_PERSISTENT);
	if (strcmp(method, MHD_HTTP_METHOD_GET) &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD))
		return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, not_allowed,
			     sizeof(not_allowed) - 1, MHD_RESPMEM_PERSISTENT);
	/* the reader waits only for the copy, not for the text */
	pthread_mutex_lock(&s->lock);
	snap = prom_metrics_snapshot(s->m);
	pthread_mutex_unlock(&s->lock);
	body = snap ? prom_snapshot_text(snap, &len) : NULL;
	prom_snapshot_free(snap);
	if (!body)
		return MHD_NO;
	return reply(conn, MHD_HTTP_OK, body, len, MHD_RESPMEM_MUST_FREE);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[256];
	size_t n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n && msg[n - 1] == '\n')
		msg[--n] = '\0';
	log_verbose("metrics server: %s", msg);
}

/* How long the server's thread waits for a scraper before it looks at
 * whether it should stop: the longest the tracer's exit waits on it. */
#define SERVER_WAIT_MS 100

/*
 * libmicrohttpd driven from a thread of ours rather than its own: the
 * tracer drops its capabilities after attaching (kernel/privileges.c)
 * through libpsx, which reaches only the threads the program itself
 * started, and the one that answers the network is the last that may
 * keep them.
 */
static void *server_thread(void *arg)
{
	struct prom_sink *s = arg;

	while (!atomic_load(&s->stopping))
		s->mhd->run_wait(s->daemon, SERVER_WAIT_MS);
	return NULL;
}

/* Serves /metrics from listening socket fd (taken). */
static int start_server(struct prom_sink *s, int fd, const char *addr,
			char *err, size_t err_size)
{
	int ret;

	s->mhd = prom_mhd(err, err_size);
	if (!s->mhd) {
		close(fd);
		return -ELIBACC;
	}
	s->daemon = s->mhd->start_daemon(
		MHD_USE_ERROR_LOG, 0, NULL, NULL, serve, s,
		MHD_OPTION_LISTEN_SOCKET, fd,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned int)CONNECTION_LIMIT,
		MHD_OPTION_CONNECTION_TIMEOUT,
		(unsigned int)CONNECTION_TIMEOUT_S,
		MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, MHD_OPTION_END);
	if (!s->daemon) {
		close(fd);
		snprintf(err, err_size, "cannot start the HTTP server on %s",
			 addr);
		return -EIO;
	}
	ret = thread_start_quiet(&s->server, server_thread, s);
	if (ret) {
		s->mhd->stop_daemon(s->daemon);
		s->daemon = NULL;
		snprintf(err, err_size, "cannot start the HTTP server's "
			 "thread: %s", strerror(ret));
		return -ret;
	}
	s->server_running = true;
	return 0;
}

static void stop_server(struct prom_sink *s)
{
	if (s->server_running) {
		atomic_store(&s->stopping, true);
		pthread_join(s->server, NULL);
		s->server_running = false;
	}
	if (s->daemon)
		s->mhd->stop_daemon(s->daemon);
	s->daemon = NULL;
}
#else
static int open_listener(const char *addr, char *err, size_t err_size)
{
	snprintf(err, err_size, "this build has no HTTP server (it was "
		 "made without libmicrohttpd)");
	return -ENOTSUP;
}

static int start_server(struct prom_sink *s, int fd, const char *addr,
			char *err, size_t err_size)
{
	return -ENOTSUP;
}

static void stop_server(struct prom_sink *s)
{
}
#endif

static void prom_close(void *state)
{
	struct prom_sink *s = state;

	stop_server(s);
	prom_metrics_free(s->m);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

static int prom_open(void **state, const struct sink_config *cfg, char *err,
		     size_t err_size)
{
	struct prom_limits lim = {
		.max_values = PROM_MAX_VALUES_DEFAULT,
		.max_series = PROM_MAX_SERIES_DEFAULT,
		.expire_ns = PROM_EXPIRE_DEFAULT_NS,
	};
	struct prom_sink *s;
	int fd, ret;

	if (!cfg->arg) {
		snprintf(err, err_size, "no address to serve /metrics on");
		return -EINVAL;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, err_size, "out of memory");
		return -ENOMEM;
	}
	pthread_mutex_init(&s->lock, NULL);
	ret = prom_metrics_new(&s->m, &lim);
	if (ret) {
		snprintf(err, err_size, "out of memory");
		prom_close(s);
		return ret;
	}
	fd = open_listener(cfg->arg, err, err_size);
	if (fd < 0) {
		prom_close(s);
		return fd;
	}
	ret = start_server(s, fd, cfg->arg, err, err_size);
	if (ret) {
		prom_close(s);
		return ret;
	}
	s->last_expire_ns = mono_ns();
	log_info("serving metrics on http://%s/metrics", cfg->arg);
	*state = s;
	return 0;
}

static int prom_emit(void *state, const struct timeline *tl)
{
	struct prom_sink *s = state;
	uint64_t now = mono_ns();

	pthread_mutex_lock(&s->lock);
	prom_metrics_add(s->m, tl, now);
	pthread_mutex_unlock(&s->lock);
	return 0;
}

static int prom_flush(void *state)
{
	struct prom_sink *s = state;
	uint64_t now = mono_ns();

	if (now - s->last_expire_ns < EXPIRE_EVERY_NS)
		return 0;
	s->last_expire_ns = now;
	pthread_mutex_lock(&s->lock);
	prom_metrics_expire(s->m, now);
	pthread_mutex_unlock(&s->lock);
	return 0;
}

static void prom_publish(void *state, const struct sink_counters *c)
{
	struct prom_sink *s = state;

	pthread_mutex_lock(&s->lock);
	prom_metrics_set_counters(s->m, c);
	pthread_mutex_unlock(&s->lock);
}

const struct sink_ops sink_prometheus_ops = {
	.name = "prometheus",
	.open = prom_open,
	.emit = prom_emit,
	.flush = prom_flush,
	.close = prom_close,
	.publish = prom_publish,
};
