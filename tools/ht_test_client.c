/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * ht_test_client: a raw HTTP/1.1 client for the odd cases of the
 * end-to-end tests (pipelining, one-byte writes, killed mid-request, ...).
 *
 *   ht_test_client [--connect HOST:PORT] [--resolve NAME] [-H 'K: V']...
 *                  [--timeout SECONDS] [--verbose] --mode MODE ARGS...
 *
 *   --connect HOST:PORT  where to connect (default 127.0.0.1:80); HOST is
 *                        an IPv4 literal, [IPv6] literal, or a name looked
 *                        up with getaddrinfo(3)
 *   --resolve NAME       look NAME up with getaddrinfo(3) and connect to
 *                        its first address at PORT of --connect; NAME is
 *                        also what the Host header carries
 *   -H 'Name: value'     extra request header (repeatable); with post,
 *                        'Expect: 100-continue' makes the client wait (up
 *                        to 1 s) for "100 Continue" before the body
 *   --timeout SECONDS    give up on a response after this long (default 10)
 *
 * Modes:
 *   single PATH          one GET
 *   keepalive PATH N     N sequential GETs on one connection
 *   pipeline PATH N      N GETs written with ONE write(), then N responses
 *
 * In keepalive and pipeline, "{status}" in PATH becomes a status that
 * differs from its neighbours' for each request (200, 201, ... 599,
 * without 204 and 304, then again): with the fixture server's
 * /status/{status}, a timeline that shows another request's status
 * shows a status that its target does not name.
 *   split PATH           one GET written one byte per write()
 *   head PATH            one HEAD
 *   post PATH BYTES      one POST with a BYTES-long body (Content-Length)
 *   hang PATH            write a GET, print "sent", sleep forever
 *   garbage              write 64 bytes of binary, read until close or 1 s
 *
 * For every final response one line on stdout:
 *   status=200 bytes=6 connect_us=123 first_byte_us=456 total_us=789
 * bytes is the body length; connect_us is how long connect() took (the
 * same value on every response of the connection); first_byte_us and
 * total_us run from just before the request was written (for pipeline:
 * the single write of all requests) to the first response byte and to the
 * last byte of that response. Interim 1xx responses are not printed
 * (--verbose shows them on stderr).
 *
 * Exit status: 0 all responses read; 1 an error (message on stderr, e.g.
 * "ht_test_client: connect: Connection refused"); 2 usage.
 * Only libc, so it links with -static (literal addresses need no NSS).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ht_fixture.h"

#define BUF_SIZE (64 * 1024)
#define MAX_LINE 8192
#define MAX_HEADERS_BYTES (64 * 1024)
#define MAX_EXTRA_HEADERS 16
#define MAX_REQUESTS 1000

static const char *prog = "ht_test_client";
static bool verbose;
static int timeout_ms = 10000;

static void vmsg(const char *fmt, va_list ap)
{
	fflush(stdout);
	fprintf(stderr, "%s: ", prog);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

static __attribute__((noreturn, format(printf, 1, 2))) void fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
	exit(1);
}

static __attribute__((format(printf, 1, 2))) void logv(const char *fmt, ...)
{
	va_list ap;

	if (!verbose)
		return;
	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
}

static __attribute__((noreturn)) void usage(int code)
{
	fprintf(code ? stderr : stdout,
		"usage: %s [--connect HOST:PORT] [--resolve NAME] [-H 'K: V']...\n"
		"          [--timeout SECONDS] [--verbose] --mode MODE ARGS...\n"
		"modes: single PATH | keepalive PATH N | pipeline PATH N |\n"
		"       split PATH | head PATH | post PATH BYTES | hang PATH |\n"
		"       garbage\n",
		prog);
	exit(code);
}

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* ---- connection ------------------------------------------------------ */

struct conn {
	int fd;
	char buf[BUF_SIZE];
	size_t off, len;
	bool eof;
	uint64_t first_byte_at; /* time of the first byte of the current
				   response; 0 = none yet */
};


/* Read more; > 0 bytes read, 0 EOF; on error or timeout exits with a
 * message, since every caller would do just that. */
static ssize_t conn_fill(struct conn *c, const char *what)
{
	struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
	ssize_t r;
	int pr;

	if (c->len == 0)
		c->off = 0;
	if (c->off + c->len == BUF_SIZE) {
		if (c->off == 0)
			fail("%s: line or header section too long", what);
		memmove(c->buf, c->buf + c->off, c->len);
		c->off = 0;
	}
	do {
		pr = poll(&pfd, 1, timeout_ms);
	} while (pr < 0 && errno == EINTR);
	if (pr < 0)
		fail("poll: %s", strerror(errno));
	if (pr == 0)
		fail("%s: timed out after %d ms", what, timeout_ms);
	do {
		r = recv(c->fd, c->buf + c->off + c->len,
			 BUF_SIZE - c->off - c->len, 0);
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		fail("%s: recv: %s", what, strerror(errno));
	if (r == 0)
		c->eof = true;
	if (r > 0 && c->first_byte_at == 0)
		c->first_byte_at = now_us();
	c->len += (size_t)(r > 0 ? r : 0);
	return r;
}

static void conn_consume(struct conn *c, size_t n)
{
	c->off += n;
	c->len -= n;
	if (c->len == 0)
		c->off = 0;
}

/* Next line without CRLF; false on EOF before a full line. */
static bool conn_getline(struct conn *c, char *out, size_t outsz,
			 const char *what)
{
	for (;;) {
		char *nl = memchr(c->buf + c->off, '\n', c->len);

		if (nl) {
			size_t n = (size_t)(nl - (c->buf + c->off));
			size_t copy = n;

			if (copy > 0 && c->buf[c->off + copy - 1] == '\r')
				copy--;
			if (copy >= outsz)
				fail("%s: line too long", what);
			memcpy(out, c->buf + c->off, copy);
			out[copy] = '\0';
			conn_consume(c, n + 1);
			return true;
		}
		if (c->len >= MAX_LINE)
			fail("%s: line too long", what);
		if (conn_fill(c, what) == 0)
			return false;
	}
}

/* Skip n body bytes; false on EOF first. */
static bool conn_skip(struct conn *c, uint64_t n, uint64_t *got,
		      const char *what)
{
	while (n > 0) {
		if (c->len == 0 && conn_fill(c, what) == 0)
			return false;
		size_t k = c->len < n ? c->len : (size_t)n;

		conn_consume(c, k);
		n -= k;
		*got += k;
	}
	return true;
}

/* ---- response parsing ------------------------------------------------ */

struct response {
	int status;
	uint64_t body_bytes;
	bool conn_close;   /* the server will close after this one */
};



static bool parse_u64(const char *s, int base, uint64_t *out)
{
	char *end;

	if (!*s || !isxdigit((unsigned char)*s) ||
	    (base == 10 && !isdigit((unsigned char)*s)))
		return false;
	errno = 0;
	*out = strtoull(s, &end, base);
	return errno == 0 && *end == '\0';
}

/*
 * Read one response head. Returns the status; fills *cl / *chunked /
 * *close. A 1xx head is returned like any other; the caller loops.
 * eof_ok: EOF before the first byte returns 0 instead of failing.
 */
static int read_head(struct conn *c, bool *has_cl, uint64_t *cl, bool *chunked,
		     bool *close_hdr, bool *http10, const char *what)
{
	char line[MAX_LINE];
	size_t total = 0;
	int status;

	*has_cl = *chunked = *close_hdr = *http10 = false;
	*cl = 0;
	if (!conn_getline(c, line, sizeof(line), what)) {
		if (c->len == 0)
			fail("%s: connection closed by server before a response",
			     what);
		fail("%s: connection closed inside the status line", what);
	}
	if (strncmp(line, "HTTP/1.", 7) != 0 || !isdigit((unsigned char)line[7]) ||
	    line[8] != ' ' || !isdigit((unsigned char)line[9]) ||
	    !isdigit((unsigned char)line[10]) || !isdigit((unsigned char)line[11]) ||
	    (line[12] != ' ' && line[12] != '\0'))
		fail("%s: bad status line '%.80s'", what, line);
	*http10 = line[7] == '0';
	status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
	for (;;) {
		char *colon, *value;

		if (!conn_getline(c, line, sizeof(line), what))
			fail("%s: connection closed inside the response headers "
			     "(status %d)", what, status);
		total += strlen(line) + 2;
		if (total > MAX_HEADERS_BYTES)
			fail("%s: response headers too long", what);
		if (line[0] == '\0')
			break;
		colon = strchr(line, ':');
		if (!colon)
			fail("%s: bad header line '%.80s'", what, line);
		*colon = '\0';
		value = trim(colon + 1);
		if (strcasecmp(line, "Content-Length") == 0) {
			if (!parse_u64(value, 10, cl))
				fail("%s: bad Content-Length '%s'", what, value);
			*has_cl = true;
		} else if (strcasecmp(line, "Transfer-Encoding") == 0) {
			if (header_has_token(value, "chunked"))
				*chunked = true;
		} else if (strcasecmp(line, "Connection") == 0) {
			if (header_has_token(value, "close"))
				*close_hdr = true;
		}
	}
	return status;
}

static void read_chunked(struct conn *c, uint64_t *got, const char *what)
{
	char line[MAX_LINE];

	for (;;) {
		uint64_t size;
		char *semi;

		if (!conn_getline(c, line, sizeof(line), what))
			fail("%s: connection closed inside a chunk size line", what);
		semi = strchr(line, ';');
		if (semi)
			*semi = '\0';
		if (!parse_u64(trim(line), 16, &size))
			fail("%s: bad chunk size '%.40s'", what, line);
		if (size == 0)
			break;
		if (!conn_skip(c, size, got, what))
			fail("%s: connection closed inside a chunk", what);
		if (!conn_getline(c, line, sizeof(line), what))
			fail("%s: connection closed after a chunk", what);
		if (line[0] != '\0')
			fail("%s: chunk not followed by CRLF", what);
	}
	for (int i = 0;; i++) { /* trailers */
		if (!conn_getline(c, line, sizeof(line), what))
			fail("%s: connection closed inside the trailers", what);
		if (line[0] == '\0')
			break;
		if (i > 100)
			fail("%s: too many trailers", what);
	}
}

/* Read a whole final response (skipping 1xx). */
static void read_response(struct conn *c, bool head_req, struct response *rs,
			  const char *what)
{
	bool has_cl, chunked, close_hdr, http10;
	uint64_t cl;
	int status;

	memset(rs, 0, sizeof(*rs));
	for (int n = 0;; n++) {
		status = read_head(c, &has_cl, &cl, &chunked, &close_hdr, &http10,
				   what);
		if (status >= 200 || status == 101)
			break;
		logv("%s: interim response %d", what, status);
		if (n > 20)
			fail("%s: too many 1xx responses", what);
	}
	rs->status = status;
	rs->conn_close = close_hdr || http10;
	if (head_req || status == 204 || status == 304 || status == 101 ||
	    (status >= 100 && status < 200))
		return;
	if (chunked) {
		read_chunked(c, &rs->body_bytes, what);
	} else if (has_cl) {
		if (!conn_skip(c, cl, &rs->body_bytes, what))
			fail("%s: connection closed after %llu of %llu body bytes",
			     what, (unsigned long long)rs->body_bytes,
			     (unsigned long long)cl);
	} else {
		/* delimited by close */
		rs->conn_close = true;
		for (;;) {
			if (c->len > 0) {
				rs->body_bytes += c->len;
				conn_consume(c, c->len);
			}
			if (conn_fill(c, what) == 0)
				break;
		}
	}
}

/* ---- main ------------------------------------------------------------ */

struct target {
	char host[256];      /* for the Host header (no brackets) */
	int port;
	struct sockaddr_storage ss;
	socklen_t sslen;
	char addr_str[INET6_ADDRSTRLEN];
};

static void resolve_target(struct target *t, const char *connect,
			   const char *resolve_name)
{
	const char *colon;
	char host[256];
	long port;
	char *end;

	if (connect[0] == '[') {
		const char *rb = strchr(connect, ']');

		if (!rb || rb[1] != ':' || (size_t)(rb - connect - 1) >= sizeof(host))
			fail("--connect: expected [IPv6]:PORT, got '%s'", connect);
		snprintf(host, sizeof(host), "%.*s", (int)(rb - connect - 1),
			 connect + 1);
		colon = rb + 1;
	} else {
		colon = strrchr(connect, ':');
		if (!colon || (size_t)(colon - connect) >= sizeof(host) ||
		    colon == connect)
			fail("--connect: expected HOST:PORT, got '%s'", connect);
		snprintf(host, sizeof(host), "%.*s", (int)(colon - connect),
			 connect);
		if (strchr(host, ':'))
			fail("--connect: write IPv6 as [ADDR]:PORT");
	}
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (errno || *end || end == colon + 1 || port < 1 || port > 65535)
		fail("--connect: bad port in '%s'", connect);
	t->port = (int)port;
	if (resolve_name)
		snprintf(host, sizeof(host), "%s", resolve_name);
	snprintf(t->host, sizeof(t->host), "%s", host);

	memset(&t->ss, 0, sizeof(t->ss));
	{
		struct sockaddr_in *s4 = (struct sockaddr_in *)&t->ss;
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&t->ss;

		if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
			s4->sin_family = AF_INET;
			s4->sin_port = htons((uint16_t)port);
			t->sslen = sizeof(*s4);
		} else if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
			s6->sin6_family = AF_INET6;
			s6->sin6_port = htons((uint16_t)port);
			t->sslen = sizeof(*s6);
		} else {
			struct addrinfo hints = { .ai_family = AF_UNSPEC,
						  .ai_socktype = SOCK_STREAM };
			struct addrinfo *res = NULL;
			int rc = getaddrinfo(host, NULL, &hints, &res);

			if (rc != 0)
				fail("getaddrinfo %s: %s", host,
				     rc == EAI_SYSTEM ? strerror(errno)
						      : gai_strerror(rc));
			if (!res || res->ai_addrlen > sizeof(t->ss))
				fail("getaddrinfo %s: no usable address", host);
			memcpy(&t->ss, res->ai_addr, res->ai_addrlen);
			t->sslen = res->ai_addrlen;
			if (t->ss.ss_family == AF_INET)
				s4->sin_port = htons((uint16_t)port);
			else
				s6->sin6_port = htons((uint16_t)port);
			freeaddrinfo(res);
		}
	}
	inet_ntop(t->ss.ss_family,
		  t->ss.ss_family == AF_INET
			  ? (void *)&((struct sockaddr_in *)&t->ss)->sin_addr
			  : (void *)&((struct sockaddr_in6 *)&t->ss)->sin6_addr,
		  t->addr_str, sizeof(t->addr_str));
}

static int do_connect(const struct target *t, uint64_t *connect_us)
{
	int fd, one = 1;
	uint64_t t0;

	fd = socket(t->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		fail("socket: %s", strerror(errno));
	t0 = now_us();
	if (connect(fd, (const struct sockaddr *)&t->ss, t->sslen) < 0)
		fail("connect: %s", strerror(errno));
	*connect_us = now_us() - t0;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	logv("connected to %s port %d in %llu us", t->addr_str, t->port,
	     (unsigned long long)*connect_us);
	return fd;
}

/* Build one request head into out; returns its length. */
/* PATH with "{status}" replaced by request k's status (see the top). */
static const char *path_for(const char *path, long k, char *buf, size_t size)
{
	const char *at = strstr(path, "{status}");
	int st = 200 + (int)(k % 398);

	if (!at)
		return path;
	/* 200..599 without 204 and 304: 398 statuses */
	if (st >= 204)
		st++;
	if (st >= 304)
		st++;
	if (snprintf(buf, size, "%.*s%d%s", (int)(at - path), path, st,
		     at + 8) >= (int)size)
		fail("path too long");
	return buf;
}

static size_t build_request(char *out, size_t outsz, const char *method,
			    const char *path, const struct target *t,
			    const char **extra, int n_extra, long long body_len)
{
	bool v6 = strchr(t->host, ':') != NULL;
	int n;

	n = snprintf(out, outsz,
		     "%s %s HTTP/1.1\r\n"
		     "Host: %s%s%s:%d\r\n"
		     "User-Agent: ht_test_client\r\n"
		     "Accept: */*\r\n",
		     method, path, v6 ? "[" : "", t->host, v6 ? "]" : "",
		     t->port);
	if (n < 0 || (size_t)n >= outsz)
		fail("request too long");
	if (body_len >= 0) {
		n += snprintf(out + n, outsz - (size_t)n,
			      "Content-Length: %lld\r\n", body_len);
		if ((size_t)n >= outsz)
			fail("request too long");
	}
	for (int i = 0; i < n_extra; i++) {
		n += snprintf(out + n, outsz - (size_t)n, "%s\r\n", extra[i]);
		if ((size_t)n >= outsz)
			fail("request too long");
	}
	n += snprintf(out + n, outsz - (size_t)n, "\r\n");
	if ((size_t)n >= outsz)
		fail("request too long");
	return (size_t)n;
}

static void print_result(const struct response *rs, uint64_t connect_us,
			 uint64_t t_write, uint64_t t_first, uint64_t t_end)
{
	printf("status=%d bytes=%llu connect_us=%llu first_byte_us=%llu "
	       "total_us=%llu\n",
	       rs->status, (unsigned long long)rs->body_bytes,
	       (unsigned long long)connect_us,
	       (unsigned long long)(t_first >= t_write ? t_first - t_write : 0),
	       (unsigned long long)(t_end - t_write));
	fflush(stdout);
}

static long parse_count(const char *what, const char *v, long min, long max)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || *end || end == v || n < min || n > max) {
		fprintf(stderr, "%s: %s: bad number '%s' (%ld..%ld)\n", prog,
			what, v, min, max);
		exit(2);
	}
	return n;
}

/* Wait up to ms for readable data; true if some is there. */
static bool wait_readable(int fd, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int r;

	do {
		r = poll(&pfd, 1, ms);
	} while (r < 0 && errno == EINTR);
	return r > 0;
}

static int mode_garbage(const struct target *t)
{
	static const unsigned char junk[64] = {
		0x16, 0x03, 0x01, 0x00, 0x00, 0xff, 0xfe, 0x00,
		0x01, 0x02, 0x03, 0x04, 0x80, 0x81, 0x82, 0x83,
		0xde, 0xad, 0xbe, 0xef, 0x00, 0x00, 0x00, 0x00,
		0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x01, 0x00,
		0x90, 0x90, 0x90, 0x90, 0xcc, 0xcc, 0xcc, 0xcc,
		0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x10, 0x20, 0x30,
		0xa5, 0x5a, 0xa5, 0x5a, 0xff, 0xff, 0xff, 0xff,
		0x01, 0x00, 0x01, 0x00, 0x0d, 0x0a, 0x0d, 0x0a,
	};
	uint64_t connect_us, t0;
	unsigned long long got = 0;
	char buf[4096];
	bool closed = false, reset = false;
	int fd = do_connect(t, &connect_us);

	if (write_all(fd, junk, sizeof(junk)) < 0)
		fail("write: %s", strerror(errno));
	t0 = now_us();
	for (;;) {
		int64_t left = 1000 - (int64_t)((now_us() - t0) / 1000);
		ssize_t r;

		if (left <= 0 || !wait_readable(fd, (int)left))
			break;
		r = recv(fd, buf, sizeof(buf), 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			reset = true;
			break;
		}
		if (r == 0) {
			closed = true;
			break;
		}
		got += (unsigned long long)r;
	}
	close(fd);
	printf("garbage sent=64 received=%llu %s connect_us=%llu\n", got,
	       reset ? "reset" : closed ? "closed" : "timeout",
	       (unsigned long long)connect_us);
	return 0;
}

int main(int argc, char **argv)
{
	const char *connect_arg = "127.0.0.1:80";
	const char *resolve_name = NULL;
	const char *mode = NULL;
	const char *extra[MAX_EXTRA_HEADERS];
	int n_extra = 0;
	bool expect_continue = false;
	struct target t;
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "-h") || !strcmp(a, "--help"))
			usage(0);
		if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
			verbose = true;
			continue;
		}
		if (!v) {
			fprintf(stderr, "%s: %s needs a value\n", prog, a);
			usage(2);
		}
		if (!strcmp(a, "--connect")) {
			connect_arg = v;
		} else if (!strcmp(a, "--resolve")) {
			resolve_name = v;
		} else if (!strcmp(a, "-H") || !strcmp(a, "--header")) {
			if (n_extra >= MAX_EXTRA_HEADERS || !strchr(v, ':') ||
			    strpbrk(v, "\r\n")) {
				fprintf(stderr, "%s: bad or too many -H '%s'\n",
					prog, v);
				exit(2);
			}
			if (strncasecmp(v, "Expect:", 7) == 0 &&
			    strcasestr(v, "100-continue"))
				expect_continue = true;
			extra[n_extra++] = v;
		} else if (!strcmp(a, "--timeout")) {
			timeout_ms = (int)parse_count("--timeout", v, 1, 3600) * 1000;
		} else if (!strcmp(a, "--mode")) {
			mode = v;
			i += 2;
			break;
		} else {
			fprintf(stderr, "%s: unknown option '%s'\n", prog, a);
			usage(2);
		}
		i++;
	}
	if (!mode)
		usage(2);
	/* argv[i ..] are the mode's arguments */
	int nargs = argc - i;
	char **args = argv + i;

#define NEED(n)                                                               \
	do {                                                                  \
		if (nargs != (n)) {                                           \
			fprintf(stderr, "%s: mode %s takes %d argument(s)\n", \
				prog, mode, (n));                             \
			usage(2);                                             \
		}                                                             \
	} while (0)

	if (!strcmp(mode, "garbage")) {
		NEED(0);
	} else if (!strcmp(mode, "single") || !strcmp(mode, "split") ||
		   !strcmp(mode, "head") || !strcmp(mode, "hang")) {
		NEED(1);
	} else if (!strcmp(mode, "keepalive") || !strcmp(mode, "pipeline") ||
		   !strcmp(mode, "post")) {
		NEED(2);
	} else {
		fprintf(stderr, "%s: unknown mode '%s'\n", prog, mode);
		usage(2);
	}
	if (nargs >= 1 && args[0][0] != '/' && strcmp(mode, "garbage")) {
		fprintf(stderr, "%s: PATH must start with '/'\n", prog);
		exit(2);
	}
	for (int k = 0; k < nargs; k++)
		if (strpbrk(args[k], " \r\n")) {
			fprintf(stderr, "%s: argument '%s' has spaces\n", prog,
				args[k]);
			exit(2);
		}

	resolve_target(&t, connect_arg, resolve_name);

	if (!strcmp(mode, "garbage"))
		return mode_garbage(&t);

	{
		static struct conn c;
		static char req[8192];
		const char *path = args[0];
		bool head = !strcmp(mode, "head");
		long n_req = 1;
		long long body_len = -1;
		uint64_t connect_us, t_write;
		struct response rs;
		size_t rl;

		if (!strcmp(mode, "keepalive") || !strcmp(mode, "pipeline"))
			n_req = parse_count(mode, args[1], 1, MAX_REQUESTS);
		if (!strcmp(mode, "post"))
			body_len = parse_count("post BYTES", args[1], 0,
					       1L << 34);

		c.fd = do_connect(&t, &connect_us);
		rl = build_request(req, sizeof(req),
				   head ? "HEAD" : body_len >= 0 ? "POST" : "GET",
				   path, &t, extra, n_extra, body_len);

		if (!strcmp(mode, "pipeline")) {
			size_t total = 0;
			char *all = malloc(sizeof(req) * (size_t)n_req);

			if (!all)
				fail("out of memory");
			for (long k = 0; k < n_req; k++) {
				char p[1024];

				rl = build_request(
					req, sizeof(req),
					head ? "HEAD" : "GET",
					path_for(path, k, p, sizeof(p)), &t,
					extra, n_extra, -1);
				memcpy(all + total, req, rl);
				total += rl;
			}
			t_write = now_us();
			/* ONE write() for all of them */
			ssize_t w = write(c.fd, all, total);

			if (w < 0)
				fail("write: %s", strerror(errno));
			if ((size_t)w != total)
				fail("write: short write %zd of %zu (pipeline "
				     "must be one write)", w, total);
			free(all);
			for (long k = 0; k < n_req; k++) {
				char what[64];

				snprintf(what, sizeof(what), "response %ld", k + 1);
				c.first_byte_at = 0;
				if (c.len > 0)
					c.first_byte_at = now_us();
				read_response(&c, false, &rs, what);
				print_result(&rs, connect_us, t_write,
					     c.first_byte_at, now_us());
				if (rs.conn_close && k + 1 < n_req)
					fail("server closed the connection after "
					     "%ld of %ld responses", k + 1, n_req);
			}
			close(c.fd);
			return 0;
		}

		for (long k = 0; k < n_req; k++) {
			char what[64];

			snprintf(what, sizeof(what), "response %ld", k + 1);
			if (c.len > 0)
				fail("%s: %zu unexpected bytes before the "
				     "request was sent", what, c.len);
			if (strstr(path, "{status}")) {
				char p[1024];

				rl = build_request(
					req, sizeof(req),
					head ? "HEAD" : body_len >= 0 ? "POST" : "GET",
					path_for(path, k, p, sizeof(p)), &t,
					extra, n_extra, body_len);
			}
			c.first_byte_at = 0;
			t_write = now_us();
			if (!strcmp(mode, "split")) {
				for (size_t b = 0; b < rl; b++)
					if (write_all(c.fd, req + b, 1) < 0)
						fail("write: %s", strerror(errno));
			} else if (write_all(c.fd, req, rl) < 0) {
				fail("write: %s", strerror(errno));
			}
			if (!strcmp(mode, "hang")) {
				printf("sent\n");
				fflush(stdout);
				for (;;)
					pause();
			}
			if (body_len > 0) {
				static char chunk[16384];
				long long left = body_len;

				if (expect_continue) {
					if (wait_readable(c.fd, 1000)) {
						bool a, b, d, e;
						uint64_t x;
						int st = read_head(&c, &a, &x, &b,
								   &d, &e, what);

						if (st != 100) {
							/* final answer without
							 * the body: report it */
							logv("%s: %d instead of "
							     "100 Continue", what, st);
							fail("%s: got %d before "
							     "sending the body", what,
							     st);
						}
						logv("%s: 100 Continue", what);
					} else {
						logv("%s: no 100 Continue in 1 s, "
						     "sending the body", what);
					}
				}
				memset(chunk, 'p', sizeof(chunk));
				while (left > 0) {
					size_t n = left < (long long)sizeof(chunk)
							   ? (size_t)left
							   : sizeof(chunk);

					if (write_all(c.fd, chunk, n) < 0)
						fail("write body: %s",
						     strerror(errno));
					left -= (long long)n;
				}
			}
			if (c.len > 0 && c.first_byte_at == 0)
				c.first_byte_at = now_us();
			read_response(&c, head, &rs, what);
			print_result(&rs, connect_us, t_write, c.first_byte_at, now_us());
			if (rs.conn_close && k + 1 < n_req)
				fail("server closed the connection after %ld of "
				     "%ld responses", k + 1, n_req);
		}
		close(c.fd);
	}
	return 0;
}
