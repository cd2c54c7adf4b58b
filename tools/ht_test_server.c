/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * ht_test_server: a small HTTP/1.1 server for the end-to-end tests.
 *
 *   ht_test_server [--listen ADDR] [--port N] [--port-file PATH]
 *                  [--max-seconds N] [--max-conns N] [--verbose]
 *
 * One thread per connection. Keep-alive, pipelining (responses in order),
 * request bodies with Content-Length or chunked, Expect: 100-continue and
 * HEAD are handled. What the response looks like depends on the path:
 *
 *   /                  200, body "hello\n" (also every unknown path)
 *   /size/N            200, N body bytes
 *   /delay/MS          sleep MS milliseconds, then 200 "hello\n"
 *   /chunked/N         200, N body bytes sent chunked, several chunks
 *   /close             200 with Connection: close, no Content-Length,
 *                      the body, then close
 *   /status/N          status N (200..599); 204 and 304 without body
 *   /reset             status line and part of the headers, then a reset
 *                      (SO_LINGER {1,0} + close)
 *   /early-close       read the request, close without responding
 *
 * Garbage (a request line or header that is not HTTP/1.x, control bytes,
 * oversized header section, bad Content-Length or chunk size) gets
 * 400 Bad Request and the connection is closed.
 *
 * Only libc and pthread, so it also links with -static.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "ht_fixture.h"

#define BUF_SIZE (64 * 1024)      /* per-connection read buffer */
#define MAX_HEADER_BYTES (16 * 1024)
#define MAX_LINE 8192
#define MAX_DELAY_MS 60000
#define MAX_SIZE_BYTES (1ULL << 32) /* 4 GiB, more than any test wants */
#define IDLE_TIMEOUT_S 30
#define BODY_PATTERN "abcdefghijklmnopqrstuvwxyz0123456789\n"

static bool verbose;
static const char *prog = "ht_test_server";

static pthread_mutex_t active_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t active_cv = PTHREAD_COND_INITIALIZER;
static int active_conns;

static void logv(const char *fmt, ...)
{
	va_list ap;

	if (!verbose)
		return;
	va_start(ap, fmt);
	fprintf(stderr, "%s[%d]: ", prog, (int)getpid());
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "%s: ", prog);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static void on_alarm(int sig)
{
	static const char msg[] = "ht_test_server: --max-seconds reached, exiting\n";
	ssize_t r;

	(void)sig;
	r = write(2, msg, sizeof(msg) - 1);
	(void)r;
	_exit(0);
}

/* ---- connection I/O -------------------------------------------------- */

struct conn {
	int fd;
	char buf[BUF_SIZE];
	size_t off, len; /* unread bytes are buf[off .. off+len) */
	bool eof;
	bool err;
};


/* Read more into the buffer; returns bytes read, 0 on EOF, -1 on error or
 * when the buffer is full. */
static ssize_t conn_fill(struct conn *c)
{
	ssize_t r;

	if (c->off > 0 && c->len > 0 && c->off + c->len == BUF_SIZE) {
		memmove(c->buf, c->buf + c->off, c->len);
		c->off = 0;
	} else if (c->len == 0) {
		c->off = 0;
	}
	if (c->off + c->len >= BUF_SIZE)
		return -1;
	do {
		r = recv(c->fd, c->buf + c->off + c->len,
			 BUF_SIZE - c->off - c->len, 0);
	} while (r < 0 && errno == EINTR);
	if (r == 0)
		c->eof = true;
	if (r < 0)
		c->err = true;
	if (r > 0)
		c->len += (size_t)r;
	return r;
}

static void conn_consume(struct conn *c, size_t n)
{
	c->off += n;
	c->len -= n;
	if (c->len == 0)
		c->off = 0;
}

/* Discard exactly n body bytes; 0 on success, -1 if the peer went away. */
static int conn_discard(struct conn *c, uint64_t n)
{
	while (n > 0) {
		if (c->len == 0 && conn_fill(c) <= 0)
			return -1;
		size_t take = c->len < n ? c->len : (size_t)n;

		conn_consume(c, take);
		n -= take;
	}
	return 0;
}

/* One line (without CRLF or LF) into out; 1 ok, 0 eof/error, -1 too long */
static int conn_getline(struct conn *c, char *out, size_t outsz)
{
	for (;;) {
		char *nl = memchr(c->buf + c->off, '\n', c->len);

		if (nl) {
			size_t n = (size_t)(nl - (c->buf + c->off));
			size_t copy = n;

			if (copy > 0 && c->buf[c->off + copy - 1] == '\r')
				copy--;
			if (copy >= outsz)
				return -1;
			memcpy(out, c->buf + c->off, copy);
			out[copy] = '\0';
			conn_consume(c, n + 1);
			return 1;
		}
		if (c->len >= MAX_LINE)
			return -1;
		if (conn_fill(c) <= 0)
			return 0;
	}
}

/* ---- request parsing ------------------------------------------------- */

struct request {
	char method[32];
	char target[2048];
	int minor;             /* HTTP/1.minor */
	bool has_cl;
	uint64_t content_length;
	bool chunked;
	bool expect_continue;
	bool conn_close;
	bool conn_keepalive;
};

static bool is_tchar(int ch)
{
	return isalnum(ch) || strchr("!#$%&'*+-.^_`|~", ch) != NULL;
}

/* Bytes that can never appear in a request head. Lets garbage be refused
 * as soon as it arrives instead of waiting for a blank line. */
static bool head_has_bad_bytes(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)p[i];

		if (ch == '\r' || ch == '\n' || ch == '\t')
			continue;
		if (ch < 0x20 || ch == 0x7f)
			return true;
	}
	return false;
}


static bool parse_u64(const char *s, int base, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!*s || !isxdigit((unsigned char)*s))
		return false;
	if (base == 10 && !isdigit((unsigned char)*s))
		return false;
	errno = 0;
	v = strtoull(s, &end, base);
	if (errno || *end || v > max)
		return false;
	*out = v;
	return true;
}


/* Parse a request head. Returns 1 ok, 0 clean EOF before any byte,
 * -1 peer went away mid-head, -2 bad request. */
static int read_request(struct conn *c, struct request *rq)
{
	char line[MAX_LINE];
	size_t head_bytes = 0;
	int r;

	memset(rq, 0, sizeof(*rq));

	/* Wait for the request line; skip empty lines before it (RFC 9112
	 * 2.2). Refuse binary garbage without waiting for a newline. */
	for (;;) {
		while (c->len > 0 && (c->buf[c->off] == '\r' ||
				      c->buf[c->off] == '\n'))
			conn_consume(c, 1);
		if (c->len > 0) {
			char *nl = memchr(c->buf + c->off, '\n', c->len);
			size_t scan = nl ? (size_t)(nl - (c->buf + c->off)) : c->len;

			if (head_has_bad_bytes(c->buf + c->off, scan))
				return -2;
			if (nl)
				break;
			if (c->len >= MAX_LINE)
				return -2;
		}
		r = (int)conn_fill(c);
		if (r == 0 && c->len == 0)
			return 0;
		if (r <= 0)
			return c->len == 0 ? 0 : -1;
	}

	r = conn_getline(c, line, sizeof(line));
	if (r != 1)
		return r == 0 ? -1 : -2;
	head_bytes += strlen(line) + 2;

	/* METHOD SP TARGET SP HTTP/1.x */
	{
		char *sp1 = strchr(line, ' ');
		char *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
		const char *ver;

		if (!sp1 || !sp2 || strchr(sp2 + 1, ' '))
			return -2;
		*sp1 = '\0';
		*sp2 = '\0';
		ver = sp2 + 1;
		if (!*line || strlen(line) >= sizeof(rq->method))
			return -2;
		for (const char *p = line; *p; p++)
			if (!is_tchar((unsigned char)*p))
				return -2;
		if (!sp1[1] || strlen(sp1 + 1) >= sizeof(rq->target))
			return -2;
		if (strncmp(ver, "HTTP/1.", 7) != 0 ||
		    !isdigit((unsigned char)ver[7]) || ver[8] != '\0')
			return -2;
		snprintf(rq->method, sizeof(rq->method), "%s", line);
		snprintf(rq->target, sizeof(rq->target), "%s", sp1 + 1);
		rq->minor = ver[7] - '0';
	}

	for (;;) {
		char *colon, *name, *value;

		r = conn_getline(c, line, sizeof(line));
		if (r == 0)
			return -1;
		if (r < 0)
			return -2;
		head_bytes += strlen(line) + 2;
		if (head_bytes > MAX_HEADER_BYTES)
			return -2;
		if (head_has_bad_bytes(line, strlen(line)))
			return -2;
		if (line[0] == '\0')
			break;
		if (line[0] == ' ' || line[0] == '\t')
			return -2; /* obsolete line folding */
		colon = strchr(line, ':');
		if (!colon || colon == line)
			return -2;
		*colon = '\0';
		name = line;
		for (const char *p = name; *p; p++)
			if (!is_tchar((unsigned char)*p))
				return -2;
		value = trim(colon + 1);

		if (strcasecmp(name, "Content-Length") == 0) {
			uint64_t v;

			if (!parse_u64(value, 10, UINT64_MAX / 2, &v))
				return -2;
			if (rq->has_cl && v != rq->content_length)
				return -2;
			rq->has_cl = true;
			rq->content_length = v;
		} else if (strcasecmp(name, "Transfer-Encoding") == 0) {
			if (header_has_token(value, "chunked"))
				rq->chunked = true;
			else
				return -2; /* only chunked is understood */
		} else if (strcasecmp(name, "Expect") == 0) {
			if (strcasecmp(value, "100-continue") == 0)
				rq->expect_continue = true;
		} else if (strcasecmp(name, "Connection") == 0) {
			if (header_has_token(value, "close"))
				rq->conn_close = true;
			if (header_has_token(value, "keep-alive"))
				rq->conn_keepalive = true;
		}
	}
	if (rq->chunked && rq->has_cl)
		return -2; /* request smuggling shape: refuse */
	return 1;
}

/* Read and drop the request body. 0 ok, -1 peer gone, -2 bad framing. */
static int read_body(struct conn *c, const struct request *rq)
{
	char line[MAX_LINE];
	int r;

	if (rq->has_cl)
		return conn_discard(c, rq->content_length);
	if (!rq->chunked)
		return 0;
	for (;;) {
		uint64_t size;
		char *semi;

		r = conn_getline(c, line, sizeof(line));
		if (r == 0)
			return -1;
		if (r < 0)
			return -2;
		semi = strchr(line, ';'); /* chunk extensions */
		if (semi)
			*semi = '\0';
		if (!parse_u64(trim(line), 16, UINT64_MAX / 2, &size))
			return -2;
		if (size == 0)
			break;
		if (conn_discard(c, size) < 0)
			return -1;
		r = conn_getline(c, line, sizeof(line));
		if (r == 0)
			return -1;
		if (r < 0 || line[0] != '\0')
			return -2;
	}
	/* trailer section up to the empty line */
	for (int n = 0;; n++) {
		r = conn_getline(c, line, sizeof(line));
		if (r == 0)
			return -1;
		if (r < 0 || n > 100)
			return -2;
		if (line[0] == '\0')
			return 0;
	}
}

/* ---- responses ------------------------------------------------------- */

static const char *reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 206: return "Partial Content";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 408: return "Request Timeout";
	case 418: return "I'm a teapot";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default: return "Status";
	}
}

static char pattern_block[16384];

static void init_pattern(void)
{
	const size_t pl = sizeof(BODY_PATTERN) - 1;

	for (size_t i = 0; i < sizeof(pattern_block); i++)
		pattern_block[i] = BODY_PATTERN[i % pl];
}

static int send_body_bytes(int fd, uint64_t n)
{
	while (n > 0) {
		size_t k = n < sizeof(pattern_block) ? (size_t)n
						     : sizeof(pattern_block);

		if (write_all(fd, pattern_block, k) < 0)
			return -1;
		n -= k;
	}
	return 0;
}

static int send_simple(int fd, int status, const char *body, bool head,
		       bool close_after, bool http10_keepalive)
{
	char hdr[512];
	size_t blen = strlen(body);
	int n;

	n = snprintf(hdr, sizeof(hdr),
		     "HTTP/1.1 %d %s\r\n"
		     "Server: ht_test_server\r\n"
		     "Content-Type: text/plain\r\n"
		     "Content-Length: %zu\r\n"
		     "%s"
		     "\r\n",
		     status, reason(status), blen,
		     close_after ? "Connection: close\r\n"
				 : (http10_keepalive ? "Connection: keep-alive\r\n"
						     : ""));
	if (head || blen == 0)
		return write_all(fd, hdr, (size_t)n);
	/* one write for head + small body, like most servers do */
	{
		char out[1024];

		if ((size_t)n + blen <= sizeof(out)) {
			memcpy(out, hdr, (size_t)n);
			memcpy(out + n, body, blen);
			return write_all(fd, out, (size_t)n + blen);
		}
	}
	if (write_all(fd, hdr, (size_t)n) < 0)
		return -1;
	return write_all(fd, body, blen);
}

/* Close politely: stop sending, drain what the peer still sends (bounded)
 * so the kernel does not answer unread data with a reset, then close. */
static void graceful_close(struct conn *c)
{
	struct timeval tv = { .tv_sec = 1, .tv_usec = 0 };
	char junk[4096];

	shutdown(c->fd, SHUT_WR);
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	for (int i = 0; i < 256; i++) {
		ssize_t r = recv(c->fd, junk, sizeof(junk), 0);

		if (r <= 0 && !(r < 0 && errno == EINTR))
			break;
	}
	close(c->fd);
	c->fd = -1;
}

static void reset_close(struct conn *c)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(c->fd);
	c->fd = -1;
}

static void bad_request(struct conn *c)
{
	send_simple(c->fd, 400, "bad request\n", false, true, false);
	graceful_close(c);
}

static bool path_arg(const char *target, const char *prefix, uint64_t max,
		     uint64_t *out)
{
	size_t pl = strlen(prefix);
	char num[32];
	size_t i = 0;

	if (strncmp(target, prefix, pl) != 0)
		return false;
	target += pl;
	while (target[i] && target[i] != '?' && target[i] != '/' &&
	       i < sizeof(num) - 1) {
		num[i] = target[i];
		i++;
	}
	num[i] = '\0';
	return parse_u64(num, 10, max, out);
}

static bool path_is(const char *target, const char *path)
{
	size_t n = strlen(path);

	return strncmp(target, path, n) == 0 &&
	       (target[n] == '\0' || target[n] == '?');
}

/* Answer one request. Returns true if the connection stays open. */
static bool respond(struct conn *c, const struct request *rq)
{
	bool head = strcmp(rq->method, "HEAD") == 0;
	bool close_after = rq->conn_close ||
			   (rq->minor == 0 && !rq->conn_keepalive);
	bool ka10 = rq->minor == 0 && !close_after;
	const char *t = rq->target;
	uint64_t arg;

	/* absolute-form: skip scheme://authority */
	if (strncmp(t, "http://", 7) == 0) {
		const char *slash = strchr(t + 7, '/');

		t = slash ? slash : "/";
	}

	if (path_is(t, "/early-close")) {
		logv("fd %d: %s %s -> early close", c->fd, rq->method, t);
		graceful_close(c);
		return false;
	}
	if (path_is(t, "/reset")) {
		static const char part[] = "HTTP/1.1 200 OK\r\n"
					   "Server: ht_test_server\r\n"
					   "Content-Type: te";

		logv("fd %d: %s %s -> reset", c->fd, rq->method, t);
		write_all(c->fd, part, sizeof(part) - 1);
		/* let the partial head reach the peer before the RST */
		usleep(20 * 1000);
		reset_close(c);
		return false;
	}
	if (path_is(t, "/close")) {
		static const char hdr[] = "HTTP/1.1 200 OK\r\n"
					  "Server: ht_test_server\r\n"
					  "Content-Type: text/plain\r\n"
					  "Connection: close\r\n"
					  "\r\n";

		logv("fd %d: %s %s -> 200 close-delimited", c->fd, rq->method, t);
		if (write_all(c->fd, hdr, sizeof(hdr) - 1) == 0 && !head)
			write_all(c->fd, "hello\n", 6);
		graceful_close(c);
		return false;
	}
	if (path_arg(t, "/delay/", MAX_DELAY_MS, &arg)) {
		struct timespec ts = { .tv_sec = (time_t)(arg / 1000),
				       .tv_nsec = (long)(arg % 1000) * 1000000L };

		logv("fd %d: %s %s -> delay %llu ms", c->fd, rq->method, t,
		     (unsigned long long)arg);
		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
		return send_simple(c->fd, 200, "hello\n", head, close_after,
				   ka10) == 0 && !close_after;
	}
	if (path_arg(t, "/size/", MAX_SIZE_BYTES, &arg)) {
		char hdr[512];
		int n = snprintf(hdr, sizeof(hdr),
				 "HTTP/1.1 200 OK\r\n"
				 "Server: ht_test_server\r\n"
				 "Content-Type: application/octet-stream\r\n"
				 "Content-Length: %llu\r\n%s\r\n",
				 (unsigned long long)arg,
				 close_after ? "Connection: close\r\n"
					     : (ka10 ? "Connection: keep-alive\r\n" : ""));

		logv("fd %d: %s %s -> 200 size %llu", c->fd, rq->method, t,
		     (unsigned long long)arg);
		if (write_all(c->fd, hdr, (size_t)n) < 0)
			return false;
		if (!head && send_body_bytes(c->fd, arg) < 0)
			return false;
		return !close_after;
	}
	if (path_arg(t, "/chunked/", MAX_SIZE_BYTES, &arg)) {
		char hdr[512];
		uint64_t left = arg, piece;
		int n;

		if (rq->minor == 0) {
			/* HTTP/1.0 has no chunked coding: close-delimit */
			n = snprintf(hdr, sizeof(hdr),
				     "HTTP/1.1 200 OK\r\nServer: ht_test_server\r\n"
				     "Connection: close\r\n\r\n");
			if (write_all(c->fd, hdr, (size_t)n) == 0 && !head)
				send_body_bytes(c->fd, arg);
			graceful_close(c);
			return false;
		}
		n = snprintf(hdr, sizeof(hdr),
			     "HTTP/1.1 200 OK\r\n"
			     "Server: ht_test_server\r\n"
			     "Content-Type: application/octet-stream\r\n"
			     "Transfer-Encoding: chunked\r\n%s\r\n",
			     close_after ? "Connection: close\r\n" : "");
		logv("fd %d: %s %s -> 200 chunked %llu", c->fd, rq->method, t,
		     (unsigned long long)arg);
		if (write_all(c->fd, hdr, (size_t)n) < 0)
			return false;
		if (head)
			return !close_after;
		/* about four chunks, each at most 16 KiB, each its own write */
		piece = (arg + 3) / 4;
		if (piece == 0)
			piece = 1;
		if (piece > sizeof(pattern_block))
			piece = sizeof(pattern_block);
		while (left > 0) {
			uint64_t k = left < piece ? left : piece;
			char sz[32];
			int sl = snprintf(sz, sizeof(sz), "%llx\r\n",
					  (unsigned long long)k);

			if (write_all(c->fd, sz, (size_t)sl) < 0 ||
			    send_body_bytes(c->fd, k) < 0 ||
			    write_all(c->fd, "\r\n", 2) < 0)
				return false;
			left -= k;
		}
		if (write_all(c->fd, "0\r\n\r\n", 5) < 0)
			return false;
		return !close_after;
	}
	if (path_arg(t, "/status/", 999, &arg) && arg >= 200 && arg <= 599) {
		int st = (int)arg;

		logv("fd %d: %s %s -> %d", c->fd, rq->method, t, st);
		if (st == 204 || st == 304) {
			char hdr[256];
			int n = snprintf(hdr, sizeof(hdr),
					 "HTTP/1.1 %d %s\r\nServer: ht_test_server\r\n%s\r\n",
					 st, reason(st),
					 close_after ? "Connection: close\r\n" : "");

			return write_all(c->fd, hdr, (size_t)n) == 0 &&
			       !close_after;
		}
		return send_simple(c->fd, st, "hello\n", head, close_after,
				   ka10) == 0 && !close_after;
	}
	logv("fd %d: %s %s -> 200", c->fd, rq->method, t);
	return send_simple(c->fd, 200, "hello\n", head, close_after, ka10) == 0 &&
	       !close_after;
}

static void *conn_thread(void *arg)
{
	struct conn *c = arg;
	struct request rq;
	struct timeval tv = { .tv_sec = IDLE_TIMEOUT_S, .tv_usec = 0 };
	int one = 1;

	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

	for (int nreq = 0; c->fd >= 0; nreq++) {
		int r = read_request(c, &rq);

		if (r == 0) { /* clean end of a keep-alive connection */
			logv("fd %d: peer closed after %d requests", c->fd, nreq);
			break;
		}
		if (r == -1) {
			logv("fd %d: peer went away mid-request", c->fd);
			break;
		}
		if (r == -2) {
			logv("fd %d: bad request -> 400", c->fd);
			bad_request(c);
			break;
		}
		/* 100 Continue only when a body is really coming (RFC 9110
		 * 10.1.1) and the client speaks HTTP/1.1 */
		if (rq.expect_continue && rq.minor >= 1 &&
		    (rq.chunked || (rq.has_cl && rq.content_length > 0))) {
			static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";

			logv("fd %d: 100 Continue", c->fd);
			if (write_all(c->fd, cont, sizeof(cont) - 1) < 0)
				break;
		}
		r = read_body(c, &rq);
		if (r == -1) {
			logv("fd %d: peer went away mid-body", c->fd);
			break;
		}
		if (r == -2) {
			logv("fd %d: bad body framing -> 400", c->fd);
			bad_request(c);
			break;
		}
		if (!respond(c, &rq)) {
			if (c->fd >= 0)
				graceful_close(c);
			break;
		}
	}
	if (c->fd >= 0)
		close(c->fd);
	free(c);

	pthread_mutex_lock(&active_mu);
	active_conns--;
	pthread_cond_broadcast(&active_cv);
	pthread_mutex_unlock(&active_mu);
	return NULL;
}

/* ---- main ------------------------------------------------------------ */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: %s [--listen ADDR] [--port N] [--port-file PATH]\n"
		"          [--max-seconds N] [--max-conns N] [--verbose]\n"
		"  --listen ADDR     IPv4 or IPv6 literal (default 127.0.0.1)\n"
		"  --port N          0 picks a free port (default 0)\n"
		"  --port-file PATH  write the chosen port (atomically) to PATH\n"
		"  --max-seconds N   exit after N seconds (default 60; 0 = never)\n"
		"  --max-conns N     exit after N connections were served\n"
		"  --verbose         one line per request on stderr\n"
		"paths: / /size/N /delay/MS /chunked/N /close /status/N /reset\n"
		"       /early-close\n",
		prog);
}

static long parse_num_opt(const char *opt, const char *v, long min, long max)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || *end || end == v || n < min || n > max)
		die("%s: bad number '%s'", opt, v);
	return n;
}

static void write_port_file(const char *path, int port)
{
	char tmp[PATH_MAX];
	FILE *f;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >=
	    (int)sizeof(tmp))
		die("--port-file: path too long");
	f = fopen(tmp, "w");
	if (!f)
		die("%s: %s", tmp, strerror(errno));
	fprintf(f, "%d\n", port);
	if (fclose(f) != 0)
		die("%s: %s", tmp, strerror(errno));
	if (rename(tmp, path) != 0) {
		unlink(tmp);
		die("rename %s -> %s: %s", tmp, path, strerror(errno));
	}
}

int main(int argc, char **argv)
{
	const char *listen_addr = "127.0.0.1";
	const char *port_file = NULL;
	long port = 0, max_seconds = 60, max_conns = 0;
	struct sockaddr_storage ss;
	socklen_t sslen = 0;
	int lfd, one = 1;
	long served = 0;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(a, "--verbose") || !strcmp(a, "-v")) {
			verbose = true;
			continue;
		}
		if (!v) {
			usage(stderr);
			die("%s: missing value", a);
		}
		if (!strcmp(a, "--listen"))
			listen_addr = v;
		else if (!strcmp(a, "--port"))
			port = parse_num_opt(a, v, 0, 65535);
		else if (!strcmp(a, "--port-file"))
			port_file = v;
		else if (!strcmp(a, "--max-seconds"))
			max_seconds = parse_num_opt(a, v, 0, 86400 * 365);
		else if (!strcmp(a, "--max-conns"))
			max_conns = parse_num_opt(a, v, 0, LONG_MAX);
		else {
			usage(stderr);
			die("unknown option '%s'", a);
		}
		i++;
	}

	init_pattern();
	signal(SIGPIPE, SIG_IGN);
	signal(SIGALRM, on_alarm);
	if (max_seconds > 0)
		alarm((unsigned)max_seconds);

	memset(&ss, 0, sizeof(ss));
	{
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		char a6[INET6_ADDRSTRLEN + 2];
		const char *la = listen_addr;

		/* accept "[::1]" as well as "::1" */
		if (la[0] == '[' && strlen(la) < sizeof(a6) &&
		    la[strlen(la) - 1] == ']') {
			snprintf(a6, sizeof(a6), "%.*s", (int)strlen(la) - 2, la + 1);
			la = a6;
		}
		if (inet_pton(AF_INET, la, &s4->sin_addr) == 1) {
			s4->sin_family = AF_INET;
			s4->sin_port = htons((uint16_t)port);
			sslen = sizeof(*s4);
		} else if (inet_pton(AF_INET6, la, &s6->sin6_addr) == 1) {
			s6->sin6_family = AF_INET6;
			s6->sin6_port = htons((uint16_t)port);
			sslen = sizeof(*s6);
		} else {
			die("--listen: '%s' is not an IPv4 or IPv6 address",
			    listen_addr);
		}
	}

	lfd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0)
		die("socket: %s", strerror(errno));
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		setsockopt(lfd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)&ss, sslen) < 0)
		die("bind %s port %ld: %s", listen_addr, port, strerror(errno));
	if (listen(lfd, 128) < 0)
		die("listen: %s", strerror(errno));
	sslen = sizeof(ss);
	if (getsockname(lfd, (struct sockaddr *)&ss, &sslen) < 0)
		die("getsockname: %s", strerror(errno));
	port = ntohs(ss.ss_family == AF_INET
			     ? ((struct sockaddr_in *)&ss)->sin_port
			     : ((struct sockaddr_in6 *)&ss)->sin6_port);
	if (port_file)
		write_port_file(port_file, (int)port);
	fprintf(stderr, "%s: pid %d listening on %s port %ld\n", prog,
		(int)getpid(), listen_addr, port);

	for (;;) {
		pthread_t th;
		pthread_attr_t attr;
		struct conn *c;
		int cfd;

		cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (cfd < 0) {
			if (errno == EINTR || errno == ECONNABORTED ||
			    errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM) {
				if (errno != EINTR && errno != ECONNABORTED)
					usleep(10 * 1000);
				continue;
			}
			die("accept: %s", strerror(errno));
		}
		c = calloc(1, sizeof(*c));
		if (!c) {
			close(cfd);
			continue;
		}
		c->fd = cfd;
		pthread_mutex_lock(&active_mu);
		active_conns++;
		pthread_mutex_unlock(&active_mu);
		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		pthread_attr_setstacksize(&attr, 256 * 1024);
		if (pthread_create(&th, &attr, conn_thread, c) != 0) {
			close(cfd);
			free(c);
			pthread_mutex_lock(&active_mu);
			active_conns--;
			pthread_mutex_unlock(&active_mu);
		}
		pthread_attr_destroy(&attr);
		served++;
		if (max_conns > 0 && served >= max_conns)
			break;
	}

	/* --max-conns reached: stop accepting, let the last ones finish */
	close(lfd);
	pthread_mutex_lock(&active_mu);
	while (active_conns > 0)
		pthread_cond_wait(&active_cv, &active_mu);
	pthread_mutex_unlock(&active_mu);
	fprintf(stderr, "%s: served %ld connections, exiting\n", prog, served);
	return 0;
}
