// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Unit tests for the streaming HTTP/1.x parser. Byte strings are what
 * curl, nginx and friends put on the wire; every one of them is also fed
 * split at every index and byte by byte, and must give the same events at
 * the same absolute stream positions as when fed whole.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "proto/http1/http1_parser.h"
#include "unit.h"

#define MAX_EVENTS 64

/* One callback as seen by the recorder; positions are absolute in the
 * stream (offset + bytes fed before that feed() call). */
struct event {
	char type; /* 'H' on_headers, 'C' on_complete, 'E' on_error */
	uint64_t pos;
	enum h1_error err;
	enum h1_state state; /* parser state during the callback */
	struct h1_message msg;
};

struct recorder {
	struct event ev[MAX_EVENTS];
	int n;
	int overflow;
	uint64_t base;        /* stream position of the current feed() */
	const char *hints;    /* per on_headers: D(efault) N(one) T(unnel) */
	const struct h1_parser *parser;
	int headers_seen;
};

static struct event *rec_push(struct recorder *r, char type, uint64_t pos)
{
	struct event *e;

	if (r->n >= MAX_EVENTS) {
		r->overflow++;
		return NULL;
	}
	e = &r->ev[r->n++];
	memset(e, 0, sizeof(*e));
	e->type = type;
	e->pos = pos;
	e->state = r->parser ? r->parser->state : H1_ST_START;
	return e;
}

static enum h1_body_hint rec_headers(void *user, const struct h1_message *msg,
				     size_t offset)
{
	struct recorder *r = user;
	struct event *e = rec_push(r, 'H', r->base + offset);
	char hint = 'D';

	if (e)
		e->msg = *msg;
	if (r->hints && r->headers_seen < (int)strlen(r->hints))
		hint = r->hints[r->headers_seen];
	r->headers_seen++;
	return hint == 'N' ? H1_BODY_NONE :
	       hint == 'T' ? H1_BODY_TUNNEL : H1_BODY_DEFAULT;
}

static void rec_complete(void *user, const struct h1_message *msg,
			 size_t offset)
{
	struct recorder *r = user;
	struct event *e = rec_push(r, 'C', r->base + offset);

	if (e)
		e->msg = *msg;
}

static void rec_error(void *user, enum h1_error err)
{
	struct recorder *r = user;
	struct event *e = rec_push(r, 'E', 0);

	if (e)
		e->err = err;
}

static const struct h1_callbacks rec_cb = {
	.on_headers = rec_headers,
	.on_complete = rec_complete,
	.on_error = rec_error,
};

/* Callbacks from gap()/eof() report offset 0: record them at the current
 * stream position, so that they compare equal however the bytes before
 * them were split. */
static void rec_init(struct recorder *r, const char *hints)
{
	memset(r, 0, sizeof(*r));
	r->hints = hints;
}

static enum h1_state rec_feed(struct h1_parser *p, struct recorder *r,
			      const void *data, size_t len)
{
	enum h1_state st;

	r->parser = p;
	st = h1_parser_feed(p, data, len, &rec_cb, r);

	r->base += len;
	return st;
}

static enum h1_state rec_eof(struct h1_parser *p, struct recorder *r)
{
	r->parser = p;
	return h1_parser_eof(p, &rec_cb, r);
}

static enum h1_state rec_gap(struct h1_parser *p, struct recorder *r,
			     uint64_t len)
{
	enum h1_state st;

	r->parser = p;
	st = h1_parser_gap(p, len, &rec_cb, r);

	r->base += len;
	return st;
}

#define S(lit) (lit), (sizeof(lit) - 1)

static bool msg_equal(const struct h1_message *a, const struct h1_message *b)
{
	return a->kind == b->kind && a->version_minor == b->version_minor &&
	       strcmp(a->method, b->method) == 0 &&
	       strcmp(a->target, b->target) == 0 &&
	       a->target_truncated == b->target_truncated &&
	       strcmp(a->host, b->host) == 0 &&
	       a->expect_continue == b->expect_continue &&
	       a->status == b->status && strcmp(a->reason, b->reason) == 0 &&
	       a->content_length == b->content_length &&
	       a->chunked == b->chunked &&
	       a->connection_close == b->connection_close &&
	       a->upgrade == b->upgrade &&
	       a->header_count == b->header_count &&
	       a->header_bytes == b->header_bytes;
}

static bool rec_equal(const struct recorder *a, const struct recorder *b)
{
	int i;

	if (a->n != b->n || a->overflow || b->overflow)
		return false;
	for (i = 0; i < a->n; i++) {
		const struct event *x = &a->ev[i], *y = &b->ev[i];

		if (x->type != y->type || x->pos != y->pos ||
		    x->err != y->err || x->state != y->state)
			return false;
		if (x->type != 'E' && !msg_equal(&x->msg, &y->msg))
			return false;
	}
	return true;
}

static void rec_dump(const char *what, const struct recorder *r)
{
	int i;

	fprintf(stderr, "  %s:", what);
	for (i = 0; i < r->n; i++) {
		const struct event *e = &r->ev[i];

		if (e->type == 'E')
			fprintf(stderr, " E(%s)", h1_error_str(e->err));
		else
			fprintf(stderr, " %c@%" PRIu64 "(%d)", e->type, e->pos,
				e->msg.status);
	}
	fprintf(stderr, "\n");
}

struct run_result {
	struct recorder rec;
	enum h1_state state;
	uint64_t messages;
};

/* Feeds `data` in pieces cut at `cuts` (ascending, may be empty), then
 * EOF if asked. */
static void run_pieces(struct run_result *res, enum h1_kind kind,
		       const char *hints, const uint8_t *data, size_t len,
		       const size_t *cuts, size_t ncuts, bool eof)
{
	struct h1_parser p;
	size_t from = 0, i;

	h1_parser_init(&p, kind);
	rec_init(&res->rec, hints);
	for (i = 0; i <= ncuts; i++) {
		size_t to = i < ncuts ? cuts[i] : len;

		rec_feed(&p, &res->rec, data + from, to - from);
		from = to;
	}
	if (eof)
		rec_eof(&p, &res->rec);
	res->state = p.state;
	res->messages = p.messages;
}

/*
 * The core streaming property: the same bytes give the same events at
 * the same positions whether fed whole, in two pieces cut anywhere, or
 * one byte at a time. Returns the reference run for further checks.
 */
static void check_every_split(struct run_result *ref, enum h1_kind kind,
			      const char *hints, const char *bytes,
			      size_t len, bool eof)
{
	static struct run_result got;
	static size_t cuts[1 << 14];
	const uint8_t *data = (const uint8_t *)bytes;
	size_t split, i;
	int bad = 0;

	run_pieces(ref, kind, hints, data, len, NULL, 0, eof);
	for (split = 0; split <= len && bad < 3; split++) {
		run_pieces(&got, kind, hints, data, len, &split, 1, eof);
		if (!rec_equal(&ref->rec, &got.rec) ||
		    got.state != ref->state ||
		    got.messages != ref->messages) {
			fprintf(stderr, "split at %zu differs\n", split);
			rec_dump("whole", &ref->rec);
			rec_dump("split", &got.rec);
			bad++;
		}
	}
	CHECK(bad == 0);

	CHECK(len < sizeof(cuts) / sizeof(cuts[0]));
	for (i = 0; i + 1 < len; i++)
		cuts[i] = i + 1;
	run_pieces(&got, kind, hints, data, len, cuts, len ? len - 1 : 0, eof);
	if (!rec_equal(&ref->rec, &got.rec) || got.state != ref->state ||
	    got.messages != ref->messages) {
		fprintf(stderr, "byte-by-byte differs\n");
		rec_dump("whole", &ref->rec);
		rec_dump("bytes", &got.rec);
		CHECK(!"byte-by-byte feed differs from whole feed");
	}
}

/* ---- real byte strings ------------------------------------------------ */

static const char curl_get[] =
	"GET /index.html?q=1&lang=en HTTP/1.1\r\n"
	"Host: example.com\r\n"
	"User-Agent: curl/7.88.1\r\n"
	"Accept: */*\r\n"
	"\r\n";

static const char curl_post_expect[] =
	"POST /upload HTTP/1.1\r\n"
	"Host: api.example.com:8080\r\n"
	"User-Agent: curl/7.88.1\r\n"
	"Accept: */*\r\n"
	"Content-Type: application/json\r\n"
	"Content-Length: 17\r\n"
	"Expect: 100-continue\r\n"
	"\r\n"
	"{\"hello\":\"world\"}";

static const char pipelined_requests[] =
	"GET /a HTTP/1.1\r\nHost: h\r\n\r\n"
	"POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nxyz"
	"GET /c HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";

static const char chunked_request[] =
	"POST /stream HTTP/1.1\r\n"
	"host: up.example\r\n"
	"Transfer-Encoding: chunked\r\n"
	"Content-Length: 999\r\n"
	"\r\n"
	"5\r\nhello\r\n"
	"0\r\n\r\n";

static const char nginx_200[] =
	"HTTP/1.1 200 OK\r\n"
	"Server: nginx/1.22.1\r\n"
	"Date: Tue, 24 Nov 2026 10:00:00 GMT\r\n"
	"Content-Type: text/html\r\n"
	"Content-Length: 5\r\n"
	"Last-Modified: Mon, 23 Nov 2026 08:00:00 GMT\r\n"
	"Connection: keep-alive\r\n"
	"ETag: \"5f-5\"\r\n"
	"Expect: 100-continue\r\n" /* meaningless in a response */
	"Accept-Ranges: bytes\r\n"
	"\r\n"
	"hello";

/* RFC 9112 style chunked body with extensions and a trailer. */
static const char chunked_response[] =
	"HTTP/1.1 200 OK\r\n"
	"Content-Type: text/plain\r\n"
	"Transfer-Encoding: chunked\r\n"
	"Trailer: Expires\r\n"
	"\r\n"
	"4;name=value\r\nWiki\r\n"
	"5 ; foo=\"bar\"\r\npedia\r\n"
	"E\r\n in\r\n\r\nchunks.\r\n"
	"0;last\r\n"
	"Expires: Wed, 21 Oct 2015 07:28:00 GMT\r\n"
	"\r\n";

static const char continue_then_201[] =
	"HTTP/1.1 100 Continue\r\n\r\n"
	"HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok";

static const char keepalive_mixed[] =
	"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"
	"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
	"3\r\nxyz\r\n0\r\n\r\n"
	"HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n"
	"HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\nContent-Length: 99\r\n\r\n"
	"HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n"
	"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
	"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n"
	"this body runs until the server closes";

/* ---- requests ----------------------------------------------------------- */

static void test_request_simple(void)
{
	struct run_result r;
	size_t len = sizeof(curl_get) - 1;
	const struct h1_message *m;

	check_every_split(&r, H1_REQUEST, NULL, S(curl_get), false);
	CHECK_INT(r.rec.n, 2);
	CHECK_INT(r.messages, 1);
	CHECK_INT(r.state, H1_ST_START);
	CHECK(r.rec.ev[0].type == 'H' && r.rec.ev[0].pos == len);
	CHECK(r.rec.ev[1].type == 'C' && r.rec.ev[1].pos == len);
	CHECK_INT(r.rec.ev[0].state, H1_ST_HEADERS);
	CHECK_INT(r.rec.ev[1].state, H1_ST_START);
	m = &r.rec.ev[0].msg;
	CHECK_INT(m->kind, H1_REQUEST);
	CHECK_STR(m->method, "GET");
	CHECK_STR(m->target, "/index.html?q=1&lang=en");
	CHECK(!m->target_truncated);
	CHECK_STR(m->host, "example.com");
	CHECK_INT(m->version_minor, 1);
	CHECK_INT(m->content_length, -1);
	CHECK(!m->chunked && !m->connection_close && !m->expect_continue);
	CHECK_INT(m->header_count, 3);
	CHECK_INT(m->header_bytes, len);
}

static void test_request_post_expect(void)
{
	struct run_result r;
	size_t len = sizeof(curl_post_expect) - 1;
	const struct h1_message *m;

	check_every_split(&r, H1_REQUEST, NULL, S(curl_post_expect), false);
	CHECK_INT(r.rec.n, 2);
	CHECK(r.rec.ev[0].type == 'H' && r.rec.ev[0].pos == len - 17);
	CHECK(r.rec.ev[1].type == 'C' && r.rec.ev[1].pos == len);
	m = &r.rec.ev[0].msg;
	CHECK_STR(m->method, "POST");
	CHECK_STR(m->host, "api.example.com:8080");
	CHECK(m->expect_continue);
	CHECK_INT(m->content_length, 17);
	CHECK_INT(m->header_bytes, len - 17);
	CHECK_INT(r.messages, 1);
}

/* The client waits for 100 Continue before the body: the request parser
 * sits in the body until it comes. */
static void test_request_expect_waits_for_body(void)
{
	struct h1_parser p;
	struct recorder r;
	size_t len = sizeof(curl_post_expect) - 1;

	h1_parser_init(&p, H1_REQUEST);
	rec_init(&r, NULL);
	rec_feed(&p, &r, curl_post_expect, len - 17);
	CHECK_INT(r.n, 1);
	CHECK_INT(p.state, H1_ST_BODY);
	CHECK(!h1_parser_idle(&p));
	rec_feed(&p, &r, curl_post_expect + len - 17, 17);
	CHECK_INT(r.n, 2);
	CHECK(h1_parser_idle(&p));
}

static void test_request_pipelined(void)
{
	struct run_result r;
	const char *s = pipelined_requests;
	uint64_t end_a = strstr(s, "POST") - s;
	uint64_t end_b = strstr(s, "GET /c") - s;
	uint64_t end_c = sizeof(pipelined_requests) - 1;

	check_every_split(&r, H1_REQUEST, NULL, S(pipelined_requests), false);
	CHECK_INT(r.rec.n, 6);
	CHECK_INT(r.messages, 3);
	CHECK(r.rec.ev[0].type == 'H' && r.rec.ev[0].pos == end_a);
	CHECK(r.rec.ev[1].type == 'C' && r.rec.ev[1].pos == end_a);
	CHECK(r.rec.ev[2].type == 'H' && r.rec.ev[2].pos == end_b - 3);
	CHECK(r.rec.ev[3].type == 'C' && r.rec.ev[3].pos == end_b);
	CHECK(r.rec.ev[4].type == 'H' && r.rec.ev[4].pos == end_c);
	CHECK(r.rec.ev[5].type == 'C' && r.rec.ev[5].pos == end_c);
	CHECK_STR(r.rec.ev[0].msg.target, "/a");
	CHECK_STR(r.rec.ev[2].msg.method, "POST");
	CHECK_INT(r.rec.ev[2].msg.content_length, 3);
	CHECK_STR(r.rec.ev[4].msg.target, "/c");
	CHECK(r.rec.ev[4].msg.connection_close);
	CHECK(!r.rec.ev[0].msg.connection_close);
}

/* RFC 9112 6.3: a request without Content-Length or chunked has no
 * body, so the next bytes are the next request. */
static void test_request_without_length_is_bodiless(void)
{
	static const char s[] =
		"POST /x HTTP/1.1\r\nHost: a\r\n\r\n"
		"GET /y HTTP/1.0\r\n\r\n";
	struct run_result r;

	check_every_split(&r, H1_REQUEST, NULL, S(s), false);
	CHECK_INT(r.rec.n, 4);
	CHECK_INT(r.messages, 2);
	CHECK_STR(r.rec.ev[1].msg.method, "POST");
	CHECK_STR(r.rec.ev[2].msg.target, "/y");
	CHECK_INT(r.rec.ev[2].msg.version_minor, 0);
	/* HTTP/1.0 without keep-alive closes */
	CHECK(r.rec.ev[2].msg.connection_close);
}

static void test_request_chunked_wins(void)
{
	struct run_result r;

	check_every_split(&r, H1_REQUEST, NULL, S(chunked_request), false);
	CHECK_INT(r.rec.n, 2);
	CHECK(r.rec.ev[0].msg.chunked);
	CHECK_INT(r.rec.ev[0].msg.content_length, -1);
	CHECK_STR(r.rec.ev[0].msg.host, "up.example");
	CHECK_INT(r.rec.ev[1].pos, sizeof(chunked_request) - 1);
	CHECK_INT(r.state, H1_ST_START);
}

static void test_request_te_not_chunked(void)
{
	static const char s[] =
		"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\nxx";
	struct run_result r;

	check_every_split(&r, H1_REQUEST, NULL, S(s), false);
	CHECK_INT(r.rec.n, 2);
	CHECK(r.rec.ev[0].type == 'H');
	CHECK(r.rec.ev[1].type == 'E' && r.rec.ev[1].err == H1_ERR_BAD_HEADER);
	CHECK_INT(r.state, H1_ST_LOST);
	CHECK_INT(r.messages, 0);
}

static void test_headers_case_and_trim(void)
{
	static const char s[] =
		"OPTIONS * HTTP/1.1\r\n"
		"hOsT: \t example.org \t\r\n"
		"HOST: second.example\r\n"
		"EXPECT: 100-Continue\r\n"
		"connection: Keep-Alive, Upgrade\r\n"
		"content-LENGTH: 0\r\n"
		"X-Folded: a\r\n"
		"  b\r\n"
		"\n";
	struct run_result r;
	const struct h1_message *m;

	check_every_split(&r, H1_REQUEST, NULL, S(s), false);
	CHECK_INT(r.rec.n, 2);
	m = &r.rec.ev[0].msg;
	CHECK_STR(m->method, "OPTIONS");
	CHECK_STR(m->target, "*");
	CHECK_STR(m->host, "example.org");
	CHECK(m->expect_continue);
	CHECK(m->upgrade);
	CHECK(!m->connection_close);
	CHECK_INT(m->content_length, 0);
	CHECK_INT(m->header_count, 6);
	CHECK_INT(m->header_bytes, sizeof(s) - 1);
}

static void test_target_truncated(void)
{
	static char s[1024];
	char target[400];
	struct run_result r;
	int n;

	memset(target, 'a', sizeof(target) - 1);
	target[0] = '/';
	target[sizeof(target) - 1] = '\0';
	n = snprintf(s, sizeof(s), "GET %s HTTP/1.1\r\nHost: x\r\n\r\n",
		     target);
	check_every_split(&r, H1_REQUEST, NULL, s, n, false);
	CHECK_INT(r.rec.n, 2);
	CHECK(r.rec.ev[0].msg.target_truncated);
	CHECK_INT(strlen(r.rec.ev[0].msg.target), H1_TARGET_MAX - 1);
	CHECK(strncmp(r.rec.ev[0].msg.target, target, H1_TARGET_MAX - 1) == 0);
}

static void test_method_limits(void)
{
	struct h1_parser p;
	struct recorder r;

	/* 15 bytes: the longest method that fits. */
	h1_parser_init(&p, H1_REQUEST);
	rec_init(&r, NULL);
	rec_feed(&p, &r, S("ABCDEFGHIJKLMNO / HTTP/1.1\r\n\r\n"));
	CHECK_INT(r.n, 2);
	CHECK_STR(r.ev[0].msg.method, "ABCDEFGHIJKLMNO");

	h1_parser_init(&p, H1_REQUEST);
	rec_init(&r, NULL);
	rec_feed(&p, &r, S("ABCDEFGHIJKLMNOP"));
	CHECK_INT(p.state, H1_ST_NOT_HTTP);
	CHECK(r.n == 1 && r.ev[0].err == H1_ERR_NOT_HTTP);

	/* Extra spaces around the target are tolerated. */
	h1_parser_init(&p, H1_REQUEST);
	rec_init(&r, NULL);
	rec_feed(&p, &r, S("GET  /x  HTTP/1.0\r\n\r\n"));
	CHECK_INT(r.n, 2);
	CHECK_STR(r.ev[0].msg.target, "/x");

	/* Control bytes in the target are refused before the line ends. */
	h1_parser_init(&p, H1_REQUEST);
	rec_init(&r, NULL);
	rec_feed(&p, &r, S("GET /\x01"));
	CHECK_INT(p.state, H1_ST_NOT_HTTP);
	h1_parser_init(&p, H1_REQUEST);
	rec_init(&r, NULL);
	rec_feed(&p, &r, S(" GET / HTTP/1.1\r\n"));
	CHECK_INT(p.state, H1_ST_NOT_HTTP);

	/* HTTP/0.9 simple request: no version. */
	h1_parser_init(&p, H1_REQUEST);
	rec_init(&r, NULL);
	rec_feed(&p, &r, S("GET /\r\n"));
	CHECK_INT(p.state, H1_ST_NOT_HTTP);
	CHECK_INT(r.n, 1);
}

/* ---- responses --------------------------------------------------------- */

static void test_response_content_length(void)
{
	struct run_result r;
	size_t len = sizeof(nginx_200) - 1;
	const struct h1_message *m;

	check_every_split(&r, H1_RESPONSE, NULL, S(nginx_200), false);
	CHECK_INT(r.rec.n, 2);
	CHECK(r.rec.ev[0].type == 'H' && r.rec.ev[0].pos == len - 5);
	CHECK(r.rec.ev[1].type == 'C' && r.rec.ev[1].pos == len);
	m = &r.rec.ev[0].msg;
	CHECK_INT(m->kind, H1_RESPONSE);
	CHECK_INT(m->status, 200);
	CHECK_STR(m->reason, "OK");
	CHECK_INT(m->version_minor, 1);
	CHECK_INT(m->content_length, 5);
	CHECK_INT(m->header_count, 9);
	CHECK(!m->connection_close);
	CHECK(!m->expect_continue && !m->upgrade);
	CHECK_INT(r.state, H1_ST_START);
}

static void test_response_chunked_ext_trailers(void)
{
	struct run_result r;
	const struct h1_message *m;
	const char *body = strstr(chunked_response, "\r\n\r\n") + 4;

	check_every_split(&r, H1_RESPONSE, NULL, S(chunked_response), false);
	CHECK_INT(r.rec.n, 2);
	CHECK_INT(r.rec.ev[0].pos, body - chunked_response);
	CHECK_INT(r.rec.ev[1].pos, sizeof(chunked_response) - 1);
	m = &r.rec.ev[1].msg;
	CHECK(m->chunked);
	CHECK_INT(m->content_length, -1);
	CHECK_INT(r.messages, 1);
	CHECK_INT(r.state, H1_ST_START);
}

static void test_head_response(void)
{
	static const char s[] =
		"HTTP/1.1 200 OK\r\nContent-Length: 1024\r\n\r\n"
		"HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\nnop";
	struct run_result r;
	uint64_t first = strstr(s, "HTTP/1.1 404") - s;

	check_every_split(&r, H1_RESPONSE, "ND", S(s), false);
	CHECK_INT(r.rec.n, 4);
	CHECK(r.rec.ev[1].type == 'C' && r.rec.ev[1].pos == first);
	CHECK_INT(r.rec.ev[0].msg.content_length, 1024);
	CHECK_INT(r.rec.ev[2].msg.status, 404);
	CHECK_STR(r.rec.ev[2].msg.reason, "Not Found");
	CHECK(r.rec.ev[3].type == 'C' && r.rec.ev[3].pos == sizeof(s) - 1);
	CHECK_INT(r.messages, 2);
}

static void test_1xx_then_final(void)
{
	struct run_result r;
	uint64_t end_100 = strstr(continue_then_201, "HTTP/1.1 201") -
			   continue_then_201;

	/* The hint for a 1xx is ignored: 'N' must not end the exchange. */
	check_every_split(&r, H1_RESPONSE, "ND", S(continue_then_201), false);
	CHECK_INT(r.rec.n, 3);
	CHECK(r.rec.ev[0].type == 'H' && r.rec.ev[0].pos == end_100);
	CHECK_INT(r.rec.ev[0].msg.status, 100);
	CHECK_STR(r.rec.ev[0].msg.reason, "Continue");
	CHECK(r.rec.ev[1].type == 'H' && r.rec.ev[1].msg.status == 201);
	CHECK(r.rec.ev[2].type == 'C' && r.rec.ev[2].msg.status == 201);
	CHECK_INT(r.rec.ev[2].pos, sizeof(continue_then_201) - 1);
	CHECK_INT(r.messages, 1);
}

static void test_204_304(void)
{
	static const char s[] =
		"HTTP/1.1 204 No Content\r\nDate: x\r\n\r\n"
		"HTTP/1.1 304 Not Modified\r\nContent-Length: 1234\r\n\r\n"
		"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n!";
	struct run_result r;

	check_every_split(&r, H1_RESPONSE, NULL, S(s), false);
	CHECK_INT(r.rec.n, 6);
	CHECK_INT(r.messages, 3);
	CHECK(r.rec.ev[1].type == 'C' && r.rec.ev[1].msg.status == 204);
	CHECK(r.rec.ev[3].type == 'C' && r.rec.ev[3].msg.status == 304);
	CHECK_INT(r.rec.ev[3].msg.content_length, 1234);
	CHECK(r.rec.ev[5].type == 'C' && r.rec.ev[5].msg.status == 200);
	CHECK_INT(r.rec.ev[5].pos, sizeof(s) - 1);
}

static void test_keepalive_mixed_framing(void)
{
	struct run_result r;
	int i, headers = 0, completes = 0;

	check_every_split(&r, H1_RESPONSE, NULL, S(keepalive_mixed), true);
	for (i = 0; i < r.rec.n; i++) {
		headers += r.rec.ev[i].type == 'H';
		completes += r.rec.ev[i].type == 'C';
		CHECK(r.rec.ev[i].type != 'E');
	}
	CHECK_INT(headers, 7); /* 103 included */
	CHECK_INT(completes, 6);
	CHECK_INT(r.messages, 6);
	/* The close-delimited one completes at EOF. */
	CHECK_INT(r.rec.ev[r.rec.n - 1].pos, sizeof(keepalive_mixed) - 1);
	CHECK_INT(r.state, H1_ST_START);
}

static void test_close_delimited(void)
{
	static const char v10[] =
		"HTTP/1.0 200 OK\r\nServer: SimpleHTTP/0.6\r\n\r\nbody bytes";
	static const char v10_ka[] =
		"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n"
		"Content-Length: 2\r\n\r\nhi";
	struct h1_parser p;
	struct recorder r;
	struct run_result rr;

	h1_parser_init(&p, H1_RESPONSE);
	rec_init(&r, NULL);
	rec_feed(&p, &r, S(v10));
	CHECK_INT(p.state, H1_ST_BODY);
	CHECK_INT(p.body_mode, H1_BODY_UNTIL_EOF);
	CHECK_INT(r.n, 1);
	CHECK(r.ev[0].msg.connection_close);
	CHECK_INT(r.ev[0].msg.version_minor, 0);
	rec_gap(&p, &r, 100000); /* uncaptured body bytes are fine here */
	rec_feed(&p, &r, S("more"));
	CHECK_INT(p.messages, 0);
	rec_eof(&p, &r);
	CHECK_INT(r.n, 2);
	CHECK(r.ev[1].type == 'C');
	CHECK_INT(p.messages, 1);
	CHECK_INT(p.state, H1_ST_START);

	check_every_split(&rr, H1_RESPONSE, NULL, S(v10_ka), false);
	CHECK_INT(rr.rec.n, 2);
	CHECK(!rr.rec.ev[0].msg.connection_close);
}

static void test_truncated(void)
{
	struct h1_parser p;
	struct recorder r;

	/* Content-Length body cut short. */
	h1_parser_init(&p, H1_RESPONSE);
	rec_init(&r, NULL);
	rec_feed(&p, &r, S("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n"
			   "12345"));
	rec_eof(&p, &r);
	CHECK_INT(r.n, 2);
	CHECK(r.ev[1].type == 'E' && r.ev[1].err == H1_ERR_TRUNCATED);
	CHECK_INT(p.messages, 0);
	CHECK_INT(p.last_error, H1_ERR_TRUNCATED);

	/* Inside the headers. */
	h1_parser_init(&p, H1_REQUEST);
	rec_init(&r, NULL);
	rec_feed(&p, &r, S("GET / HTTP/1.1\r\nHost: exa"));
	rec_eof(&p, &r);
	CHECK(r.n == 1 && r.ev[0].err == H1_ERR_TRUNCATED);

	/* Inside a chunked body. */
	h1_parser_init(&p, H1_RESPONSE);
	rec_init(&r, NULL);
	rec_feed(&p, &r, S("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
			   "\r\n5\r\nhello\r\n"));
	rec_eof(&p, &r);
	CHECK(r.n == 2 && r.ev[1].err == H1_ERR_TRUNCATED);

	/* Between messages EOF is the normal end. */
	h1_parser_init(&p, H1_RESPONSE);
	rec_init(&r, NULL);
	rec_feed(&p, &r, S(nginx_200));
	rec_eof(&p, &r);
	CHECK_INT(r.n, 2);
	CHECK_INT(p.state, H1_ST_START);
}

/* ---- gaps and recovery ------------------------------------------------- */

static void test_gap_in_length_body(void)
{
	static const char hdr[] =
		"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n";
	struct h1_parser p;
	struct recorder r;

	h1_parser_init(&p, H1_RESPONSE);
	rec_init(&r, NULL);
	rec_feed(&p, &r, S(hdr));
	rec_feed(&p, &r, "0123456789", 10);
	rec_gap(&p, &r, 50);
	CHECK_INT(p.state, H1_ST_BODY);
	CHECK_INT(p.remaining, 40);
	rec_gap(&p, &r, 40);
	CHECK_INT(r.n, 2);
	CHECK(r.ev[1].type == 'C');
	CHECK_INT(p.messages, 1);
	CHECK(h1_parser_idle(&p));
	/* and the next message parses normally */
	rec_feed(&p, &r, S(nginx_200));
	CHECK_INT(p.messages, 2);

	/* A gap running past the body: message done, framing lost. */
	h1_parser_init(&p, H1_RESPONSE);
	rec_init(&r, NULL);
	rec_feed(&p, &r, S(hdr));
	rec_gap(&p, &r, 150);
	CHECK_INT(r.n, 3);
	CHECK(r.ev[1].type == 'C');
	CHECK(r.ev[2].type == 'E' && r.ev[2].err == H1_ERR_GAP);
	CHECK_INT(p.state, H1_ST_LOST);
	CHECK_INT(p.messages, 1);
}

static void test_gap_in_chunk_data(void)
{
	struct h1_parser p;
	struct recorder r;

	h1_parser_init(&p, H1_RESPONSE);
	rec_init(&r, NULL);
	rec_feed(&p, &r, S("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
			   "\r\n10\r\n0123"));
	rec_gap(&p, &r, 12); /* exactly the rest of the chunk */
	CHECK_INT(p.state, H1_ST_BODY);
	rec_feed(&p, &r, S("\r\n0\r\n\r\n"));
	CHECK_INT(p.messages, 1);
	CHECK_INT(r.n, 2);
}

static void test_gap_in_chunk_size_line(void)
{
	struct h1_parser p;
	struct recorder r;

	h1_parser_init(&p, H1_RESPONSE);
	rec_init(&r, NULL);
	rec_feed(&p, &r, S("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
			   "\r\na\r\n01"));
	CHECK_INT(p.remaining, 8); /* lower-case hex */
	rec_gap(&p, &r, 3);        /* partial: still counting */
	CHECK_INT(p.state, H1_ST_BODY);
	CHECK_INT(p.remaining, 5);
	rec_feed(&p, &r, S("56789\r\n1"));
	CHECK_INT(p.state, H1_ST_BODY);
	rec_gap(&p, &r, 1);        /* inside the next size line */
	CHECK_INT(p.state, H1_ST_LOST);
	CHECK(r.n == 2 && r.ev[1].err == H1_ERR_GAP);
}

/* RFC 9112 6.3: a response whose last coding is not chunked runs until
 * the connection closes. */
static void test_response_te_not_chunked(void)
{
	static const char s[] =
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n"
		"Content-Length: 4\r\n\r\n"
		"0\r\n\r\nthis is gzip, not a chunk";
	struct run_result r;

	check_every_split(&r, H1_RESPONSE, NULL, S(s), true);
	CHECK_INT(r.rec.n, 2);
	CHECK(!r.rec.ev[0].msg.chunked);
	CHECK_INT(r.rec.ev[0].msg.content_length, -1);
	CHECK(r.rec.ev[1].type == 'C' && r.rec.ev[1].pos == sizeof(s) - 1);
	CHECK_INT(r.messages, 1);
}

static void test_gap_in_framing_and_recovery(void)
{
	struct h1_parser p;
	struct recorder r;

	h1_parser_init(&p, H1_RESPONSE);
	rec_init(&r, NULL);
	rec_feed(&p, &r, S("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
			   "\r\n4\r\nab"));
	rec_gap(&p, &r, 30); /* covers chunk end and the next size line */
	CHECK_INT(p.state, H1_ST_LOST);
	CHECK(r.n == 2 && r.ev[1].err == H1_ERR_GAP);
	CHECK_INT(p.last_error, H1_ERR_GAP);

	/* Mid-body bytes, even ones containing a status line, do not
	 * resync: only the start of a feed counts. */
	rec_feed(&p, &r, S("xx\r\n0\r\n\r\nHTTP/1.1 200 OK\r\n\r\n"));
	CHECK_INT(p.state, H1_ST_LOST);
	rec_feed(&p, &r, S("HTTP/1"));
	CHECK_INT(p.state, H1_ST_LOST);
	CHECK_INT(r.n, 2);

	rec_feed(&p, &r, S("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"));
	CHECK_INT(p.state, H1_ST_START);
	CHECK_INT(r.n, 4);
	CHECK(r.ev[2].type == 'H' && r.ev[2].msg.status == 200);
	CHECK(r.ev[3].type == 'C');
	CHECK_INT(p.messages, 1);
}

static void test_gap_in_headers(void)
{
	struct h1_parser p;
	struct recorder r;

	h1_parser_init(&p, H1_REQUEST);
	rec_init(&r, NULL);
	rec_feed(&p, &r, S("GET / HTTP/1.1\r\nCookie: aaaa"));
	rec_gap(&p, &r, 4000);
	CHECK_INT(p.state, H1_ST_LOST);
	/* what was seen is reported, then the framing is lost */
	CHECK_INT(r.n, 2);
	CHECK_INT(r.ev[0].type, 'H');
	CHECK_STR(r.ev[0].msg.method, "GET");
	CHECK_STR(r.ev[0].msg.target, "/");
	CHECK(r.ev[0].msg.headers_truncated);
	CHECK(r.n == 2 && r.ev[1].err == H1_ERR_GAP);
	/* lower case is not a method we resync on */
	rec_feed(&p, &r, S("get / HTTP/1.1\r\n\r\n"));
	CHECK_INT(p.state, H1_ST_LOST);
	rec_feed(&p, &r, S("bbbb GET\r\n\r\n"));
	CHECK_INT(p.state, H1_ST_LOST);
	rec_feed(&p, &r, S("OK then\r\n\r\n"));
	rec_feed(&p, &r, S("A B\r\n\r\n"));
	rec_feed(&p, &r, S("GET"));
	CHECK_INT(p.state, H1_ST_LOST);
	CHECK_INT(r.n, 2);
	rec_feed(&p, &r, S("DELETE /item/7 HTTP/1.1\r\nHost: h\r\n\r\n"));
	CHECK_INT(p.state, H1_ST_START);
	CHECK_INT(r.n, 4);
	CHECK_STR(r.ev[2].msg.method, "DELETE");
	CHECK(!r.ev[2].msg.headers_truncated);

	/* A gap between messages also loses the framing. */
	rec_gap(&p, &r, 10);
	CHECK_INT(p.state, H1_ST_LOST);
}

static void test_join_mid_stream(void)
{
	struct h1_parser p;
	struct recorder r;

	h1_parser_init(&p, H1_RESPONSE);
	p.state = H1_ST_LOST;
	rec_init(&r, NULL);
	rec_feed(&p, &r, S("tail of some body\r\n"));
	CHECK_INT(p.state, H1_ST_LOST);
	CHECK_INT(r.n, 0);
	rec_feed(&p, &r, S(nginx_200));
	CHECK_INT(p.messages, 1);
}

static void test_garbage_after_http_is_lost(void)
{
	struct h1_parser p;
	struct recorder r;

	h1_parser_init(&p, H1_RESPONSE);
	rec_init(&r, NULL);
	rec_feed(&p, &r, S(nginx_200));
	rec_feed(&p, &r, S("ello, world\r\n"));
	CHECK_INT(p.state, H1_ST_LOST);
	CHECK(r.n == 3 && r.ev[2].err == H1_ERR_NOT_HTTP);
	rec_feed(&p, &r, S(nginx_200));
	CHECK_INT(p.messages, 2);
}

/* ---- not HTTP ---------------------------------------------------------- */

static const uint8_t tls_client_hello[] = {
	0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1, 0x03, 0x03,
	0x47, 0x45, 0x54, 0x20, 0x2f, 0x20, 0x48, 0x54, 0x54, 0x50, 0x2f,
	0x31, 0x2e, 0x31, 0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x20, 0xcc, 0xa8,
};

static void expect_not_http(enum h1_kind kind, const void *data, size_t len,
			    bool bytewise)
{
	struct h1_parser p;
	struct recorder r;
	size_t i;

	h1_parser_init(&p, kind);
	rec_init(&r, NULL);
	if (bytewise) {
		for (i = 0; i < len; i++)
			rec_feed(&p, &r, (const uint8_t *)data + i, 1);
	} else {
		rec_feed(&p, &r, data, len);
	}
	CHECK_INT(p.state, H1_ST_NOT_HTTP);
	CHECK_INT(r.n, 1);
	CHECK(r.ev[0].type == 'E' && r.ev[0].err == H1_ERR_NOT_HTTP);
	/* and it stays so, even for real HTTP afterwards */
	rec_feed(&p, &r, S(curl_get));
	rec_feed(&p, &r, S(nginx_200));
	rec_gap(&p, &r, 10);
	rec_eof(&p, &r);
	CHECK_INT(p.state, H1_ST_NOT_HTTP);
	CHECK_INT(r.n, 1);
	CHECK_INT(p.messages, 0);
}

static void test_not_http_tls(void)
{
	struct h1_parser p;
	struct recorder r;

	expect_not_http(H1_REQUEST, tls_client_hello,
			sizeof(tls_client_hello), false);
	expect_not_http(H1_RESPONSE, tls_client_hello,
			sizeof(tls_client_hello), true);
	/* Refused on the very first byte. */
	h1_parser_init(&p, H1_REQUEST);
	rec_init(&r, NULL);
	CHECK_INT(rec_feed(&p, &r, tls_client_hello, 1), H1_ST_NOT_HTTP);
}

static void test_not_http_ssh(void)
{
	static const char ssh[] = "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u1\r\n";
	struct h1_parser p;
	struct recorder r;

	expect_not_http(H1_REQUEST, S(ssh), false);
	expect_not_http(H1_REQUEST, S(ssh), true);
	expect_not_http(H1_RESPONSE, S(ssh), false);
	/* Refused before the end of the line: the method is too long. */
	h1_parser_init(&p, H1_REQUEST);
	rec_init(&r, NULL);
	CHECK_INT(rec_feed(&p, &r, ssh, 16), H1_ST_NOT_HTTP);
}

static void test_not_http_random(void)
{
	uint8_t buf[512];
	uint32_t x = 2463534242u;
	int seed, checked = 0;
	size_t i;

	for (seed = 0; seed < 200; seed++) {
		struct h1_parser p;
		struct recorder r;

		for (i = 0; i < sizeof(buf); i++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			buf[i] = (uint8_t)x;
		}
		h1_parser_init(&p, seed & 1 ? H1_RESPONSE : H1_REQUEST);
		rec_init(&r, NULL);
		rec_feed(&p, &r, buf, sizeof(buf));
		rec_eof(&p, &r);
		for (i = 0; i < (size_t)r.n; i++)
			CHECK(r.ev[i].type == 'E');
		CHECK_INT(p.state, H1_ST_NOT_HTTP);
		CHECK_INT(p.messages, 0);
		checked++;
	}
	CHECK_INT(checked, 200);
}

static void test_http2_preface(void)
{
	static const char preface[] =
		"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
		"\x00\x00\x12\x04\x00\x00\x00\x00\x00";
	static const char h2c_upgrade_then_preface[] =
		"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

	expect_not_http(H1_REQUEST, preface, sizeof(preface) - 1, false);
	expect_not_http(H1_REQUEST, preface, sizeof(preface) - 1, true);
	expect_not_http(H1_REQUEST, S(h2c_upgrade_then_preface), false);
	/* The server side of h2 starts with a binary SETTINGS frame. */
	expect_not_http(H1_RESPONSE, "\x00\x00\x06\x04\x00", 5, false);
	expect_not_http(H1_RESPONSE, S("HTTP/2 200\r\n"), false);
}

static void test_bad_status_lines(void)
{
	static const char *bad[] = {
		"HTTP/1.1 2OO OK\r\n\r\n",
		"HTTP/1.1 099 Low\r\n\r\n",
		"HTTP/1.1  200 OK\r\n\r\n",
		"HTTP/1.1 200OK\r\n\r\n",
		"HTTP/1.x 200 OK\r\n\r\n",
		"HTTP/1.1 20\r\n\r\n",
		"HTTP/1.1 200 O\x01K\r\n\r\n",
		"HTTP/1.1 200 OK\rX\n\r\n",
		"HTTPS/1.1 200 OK\r\n\r\n",
	};
	static const char *early[] = {
		"X", "HTTP/2", "HTTP/1.1 2O", "HTTP/1.1 200X", "HTTP/1.1_",
		"HTTP/1.1 200 A\x02", "HTTP/1.a",
	};
	struct h1_parser p;
	struct recorder r;
	size_t i;

	struct run_result res;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		check_every_split(&res, H1_RESPONSE, NULL, bad[i],
				  strlen(bad[i]), true);
		h1_parser_init(&p, H1_RESPONSE);
		rec_init(&r, NULL);
		rec_feed(&p, &r, bad[i], strlen(bad[i]));
		if (p.state != H1_ST_NOT_HTTP)
			fprintf(stderr, "accepted: %s\n", bad[i]);
		CHECK_INT(p.state, H1_ST_NOT_HTTP);
		CHECK(r.n == 1 && r.ev[0].type == 'E');
	}
	/* Refused as soon as the bytes stop looking like a status line,
	 * without waiting for the end of the line. */
	for (i = 0; i < sizeof(early) / sizeof(early[0]); i++) {
		h1_parser_init(&p, H1_RESPONSE);
		rec_init(&r, NULL);
		rec_feed(&p, &r, early[i], strlen(early[i]));
		if (p.state != H1_ST_NOT_HTTP)
			fprintf(stderr, "not refused early: %s\n", early[i]);
		CHECK_INT(p.state, H1_ST_NOT_HTTP);
	}
	/* ...but a plausible prefix just waits for more. */
	h1_parser_init(&p, H1_RESPONSE);
	rec_init(&r, NULL);
	rec_feed(&p, &r, S("HTTP/1.1 200 Partial reas"));
	CHECK_INT(p.state, H1_ST_HEADERS);
	CHECK_INT(r.n, 0);

	/* No reason phrase at all is fine. */
	h1_parser_init(&p, H1_RESPONSE);
	rec_init(&r, NULL);
	rec_feed(&p, &r, S("HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n"));
	CHECK_INT(p.messages, 1);
	CHECK_STR(r.ev[0].msg.reason, "");
}

static void test_bad_headers(void)
{
	static const char *bad[] = {
		"GET / HTTP/1.1\r\nNoColon\r\n\r\n",
		"GET / HTTP/1.1\r\n: empty name\r\n\r\n",
		"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n",
		"GET / HTTP/1.1\r\n folded-first: x\r\n\r\n",
	};
	struct h1_parser p;
	struct recorder r;
	size_t i;

	struct run_result res;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		h1_parser_init(&p, H1_REQUEST);
		rec_init(&r, NULL);
		rec_feed(&p, &r, bad[i], strlen(bad[i]));
		CHECK_INT(p.state, H1_ST_LOST);
		CHECK(r.n == 1 && r.ev[0].err == H1_ERR_BAD_HEADER);
		/* A bare CR must stay an error when a feed ends on it. */
		check_every_split(&res, H1_REQUEST, NULL, bad[i],
				  strlen(bad[i]), false);
	}
}

static void test_bad_chunks(void)
{
	static const char hdr[] =
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
	static const char *bad[] = {
		"zz\r\n",
		"5\r\nhelloX\r\n",
		"5x\r\nhello\r\n",
		"\r\n",
		"10000000000000000\r\n", /* 2^64: overflow */
	};
	struct h1_parser p;
	struct recorder r;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		h1_parser_init(&p, H1_RESPONSE);
		rec_init(&r, NULL);
		rec_feed(&p, &r, S(hdr));
		rec_feed(&p, &r, bad[i], strlen(bad[i]));
		CHECK_INT(p.state, H1_ST_LOST);
		CHECK(r.n == 2 && r.ev[1].err == H1_ERR_BAD_CHUNK);
	}
	/* A size line is refused at its first byte, not at its end. */
	h1_parser_init(&p, H1_RESPONSE);
	rec_init(&r, NULL);
	rec_feed(&p, &r, S(hdr));
	rec_feed(&p, &r, S("g"));
	CHECK_INT(p.state, H1_ST_LOST);

	/* Over-long size line (extensions) and trailer line. */
	for (i = 0; i < 2; i++) {
		static char big[H1_LINE_MAX + 16];

		h1_parser_init(&p, H1_RESPONSE);
		rec_init(&r, NULL);
		rec_feed(&p, &r, S(hdr));
		if (i == 1)
			rec_feed(&p, &r, S("0\r\n"));
		memset(big, 'x', sizeof(big));
		big[0] = i == 0 ? '1' : 'X';
		big[1] = i == 0 ? ';' : ':';
		rec_feed(&p, &r, big, sizeof(big));
		CHECK_INT(p.state, H1_ST_LOST);
		CHECK(r.n == 2 && r.ev[1].err == H1_ERR_LINE_TOO_LONG);
	}

	/* The largest size that fits is fine (and counts down by gaps). */
	h1_parser_init(&p, H1_RESPONSE);
	rec_init(&r, NULL);
	rec_feed(&p, &r, S(hdr));
	rec_feed(&p, &r, S("FFFFFFFFFFFFFFFF\r\n"));
	CHECK_INT(p.state, H1_ST_BODY);
	CHECK(p.remaining == UINT64_MAX);
}

/* s[0..n) fills the line buffer to the last byte; then a CR alone, and
 * more of the line after it: the parser gives up on the message. */
static void feed_full_line_then_cr(struct h1_parser *p, struct recorder *r,
				   const char *s, size_t n)
{
	h1_parser_init(p, H1_REQUEST);
	rec_init(r, NULL);
	rec_feed(p, r, s, n);
	rec_feed(p, r, S("\r"));
	CHECK_INT(p->state, H1_ST_HEADERS);
	rec_feed(p, r, S("x\r\n\r\n"));
	CHECK_INT(p->state, H1_ST_LOST);
}

static void test_long_header_line(void)
{
	static char s[H1_LINE_MAX * 2 + 128];
	struct h1_parser p;
	struct recorder r;
	size_t n, i;

	/* A value that just fits: H1_LINE_MAX - 1 bytes of line. */
	n = (size_t)snprintf(s, sizeof(s), "GET / HTTP/1.1\r\nCookie: ");
	memset(s + n, 'c', H1_LINE_MAX - 1 - 8);
	n += H1_LINE_MAX - 1 - 8;
	n += (size_t)snprintf(s + n, sizeof(s) - n, "\r\n\r\n");
	h1_parser_init(&p, H1_REQUEST);
	rec_init(&r, NULL);
	rec_feed(&p, &r, s, n);
	CHECK_INT(p.messages, 1);

	/* One byte more does not. */
	n = (size_t)snprintf(s, sizeof(s), "GET / HTTP/1.1\r\nCookie: ");
	memset(s + n, 'c', H1_LINE_MAX - 8);
	n += H1_LINE_MAX - 8;
	n += (size_t)snprintf(s + n, sizeof(s) - n, "\r\n\r\n");
	h1_parser_init(&p, H1_REQUEST);
	rec_init(&r, NULL);
	rec_feed(&p, &r, s, n);
	CHECK_INT(p.state, H1_ST_LOST);
	/* the start line was good: reported, cut short, then the error */
	CHECK(r.n == 2 && r.ev[0].type == 'H' && r.ev[0].msg.headers_truncated);
	CHECK_STR(r.ev[0].msg.method, "GET");
	CHECK(r.n == 2 && r.ev[1].err == H1_ERR_LINE_TOO_LONG);

	/* A bare CR arriving when the line is already full. */
	n = (size_t)snprintf(s, sizeof(s), "GET / HTTP/1.1\r\nCookie: ");
	memset(s + n, 'c', H1_LINE_MAX - 1 - 8);
	n += H1_LINE_MAX - 1 - 8;
	feed_full_line_then_cr(&p, &r, s, n);
	CHECK(r.n == 2 && r.ev[0].msg.headers_truncated);
	CHECK(r.n == 2 && r.ev[1].err == H1_ERR_LINE_TOO_LONG);

	/* The same for a request line: too long, so it is read as a long
	 * request line (see test_long_request_line), and this one has no
	 * version: not HTTP. */
	n = (size_t)snprintf(s, sizeof(s), "GET /");
	memset(s + n, 'x', H1_LINE_MAX - 1 - n);
	h1_parser_init(&p, H1_REQUEST);
	rec_init(&r, NULL);
	rec_feed(&p, &r, s, H1_LINE_MAX - 1);
	rec_feed(&p, &r, S("\r"));
	CHECK_INT(p.state, H1_ST_HEADERS);
	rec_feed(&p, &r, S("x\r\n\r\n"));
	CHECK_INT(p.state, H1_ST_NOT_HTTP);
	CHECK(r.n == 1 && r.ev[0].err == H1_ERR_NOT_HTTP);

	/* A status line too long is still an error. */
	n = (size_t)snprintf(s, sizeof(s), "HTTP/1.1 200 ");
	memset(s + n, 'x', H1_LINE_MAX + 100);
	n += H1_LINE_MAX + 100;
	n += (size_t)snprintf(s + n, sizeof(s) - n, "\r\n\r\n");
	h1_parser_init(&p, H1_RESPONSE);
	rec_init(&r, NULL);
	for (i = 0; i < n; i += 7)
		rec_feed(&p, &r, s + i, n - i < 7 ? n - i : 7);
	CHECK_INT(p.state, H1_ST_LOST);
	CHECK(r.n == 1 && r.ev[0].err == H1_ERR_LINE_TOO_LONG);
	CHECK_INT(p.messages, 0);
}

/* A request line longer than the line buffer still gives the request:
 * method, version and the target cut, however the bytes are split. */
static void test_long_request_line(void)
{
	static char s[H1_LINE_MAX * 2 + 128];
	static const size_t splits[] = { 0, 1, 7, 4096, H1_LINE_MAX - 3 };
	struct h1_parser p;
	struct recorder r;
	size_t n, i, k, head_len;

	n = (size_t)snprintf(s, sizeof(s), "GET /");
	memset(s + n, 'x', H1_LINE_MAX + 100);
	n += H1_LINE_MAX + 100;
	n += (size_t)snprintf(s + n, sizeof(s) - n,
			      " HTTP/1.0\r\nHost: a.test\r\n\r\n");
	head_len = n;
	n += (size_t)snprintf(s + n, sizeof(s) - n, "GET /next HTTP/1.1\r\n\r\n");
	for (k = 0; k < sizeof(splits) / sizeof(splits[0]); k++) {
		h1_parser_init(&p, H1_REQUEST);
		rec_init(&r, NULL);
		if (splits[k] == 0)
			rec_feed(&p, &r, s, n);
		else
			for (i = 0; i < n; i += splits[k])
				rec_feed(&p, &r, s + i,
					 n - i < splits[k] ? n - i : splits[k]);
		CHECK_INT(p.state, H1_ST_START);
		CHECK_INT(p.messages, 2);
		CHECK_INT(r.n, 4);
		if (r.n != 4)
			continue;
		CHECK(r.ev[0].type == 'H' && r.ev[1].type == 'C');
		CHECK_STR(r.ev[0].msg.method, "GET");
		CHECK_INT(r.ev[0].msg.version_minor, 0);
		CHECK(r.ev[0].msg.target_truncated);
		CHECK_INT(strlen(r.ev[0].msg.target), H1_TARGET_MAX - 1);
		CHECK(strncmp(r.ev[0].msg.target, "/xxxx", 5) == 0);
		CHECK_STR(r.ev[0].msg.host, "a.test");
		CHECK_INT(r.ev[0].msg.header_bytes, head_len);
		CHECK_INT(r.ev[1].pos, head_len);
		CHECK_STR(r.ev[2].msg.target, "/next");
		CHECK(!r.ev[2].msg.target_truncated);
		CHECK_INT(r.ev[2].msg.version_minor, 1);
	}

	/* A control byte in the part skipped: not HTTP. */
	memcpy(s, "GET /", 5);
	s[H1_LINE_MAX + 50] = '\x01';
	h1_parser_init(&p, H1_REQUEST);
	rec_init(&r, NULL);
	rec_feed(&p, &r, s, n);
	CHECK_INT(p.state, H1_ST_NOT_HTTP);
	CHECK(r.n == 1 && r.ev[0].err == H1_ERR_NOT_HTTP);
	s[H1_LINE_MAX + 50] = 'x';

	/* No version at its end: not HTTP on a fresh stream, lost framing
	 * on one that carried HTTP. */
	n = (size_t)snprintf(s, sizeof(s), "GET / HTTP/1.1\r\n\r\nGET /");
	memset(s + n, 'x', H1_LINE_MAX + 100);
	n += H1_LINE_MAX + 100;
	n += (size_t)snprintf(s + n, sizeof(s) - n, " HTTP/x\r\n\r\n");
	h1_parser_init(&p, H1_REQUEST);
	rec_init(&r, NULL);
	rec_feed(&p, &r, s, n);
	CHECK_INT(p.state, H1_ST_LOST);
	CHECK_INT(p.messages, 1);
	CHECK(r.n == 3 && r.ev[2].err == H1_ERR_NOT_HTTP);
}

/* The capture ends inside a long URL: the request as far as it was
 * seen, marked cut, version unknown; then the framing is lost. */
static void test_gap_in_request_line(void)
{
	struct h1_parser p;
	struct recorder r;

	h1_parser_init(&p, H1_REQUEST);
	rec_init(&r, NULL);
	rec_feed(&p, &r, S("GET /long?token=abc"));
	rec_gap(&p, &r, 5000);
	CHECK_INT(p.state, H1_ST_LOST);
	CHECK_INT(r.n, 2);
	if (r.n == 2) {
		CHECK(r.ev[0].type == 'H');
		CHECK_STR(r.ev[0].msg.method, "GET");
		CHECK_STR(r.ev[0].msg.target, "/long?token=abc");
		CHECK(r.ev[0].msg.target_truncated);
		CHECK(r.ev[0].msg.headers_truncated);
		CHECK_INT(r.ev[0].msg.version_minor, -1);
		CHECK_INT(r.ev[1].err, H1_ERR_GAP);
	}
	/* and the next request parses */
	rec_feed(&p, &r, S("GET /b HTTP/1.1\r\n\r\n"));
	CHECK_INT(p.messages, 1);

	/* before the method's space: nothing to report */
	h1_parser_init(&p, H1_REQUEST);
	rec_init(&r, NULL);
	rec_feed(&p, &r, S("GE"));
	rec_gap(&p, &r, 10);
	CHECK(r.n == 1 && r.ev[0].err == H1_ERR_GAP);

	/* on a fresh stream a target that does not start like one is not
	 * believed */
	h1_parser_init(&p, H1_REQUEST);
	rec_init(&r, NULL);
	rec_feed(&p, &r, S("HELLO there"));
	rec_gap(&p, &r, 10);
	CHECK(r.n == 1 && r.ev[0].err == H1_ERR_GAP);
	h1_parser_init(&p, H1_REQUEST);
	rec_init(&r, NULL);
	rec_feed(&p, &r, S("GET http://a.test/x"));
	rec_gap(&p, &r, 10);
	CHECK(r.n == 2 && r.ev[0].type == 'H' &&
	      !strcmp(r.ev[0].msg.target, "http://a.test/x"));

	/* a gap inside a long request line, beyond the line buffer */
	{
		static char s[H1_LINE_MAX + 64];
		size_t n = (size_t)snprintf(s, sizeof(s), "PUT /");

		memset(s + n, 'y', sizeof(s) - n);
		h1_parser_init(&p, H1_REQUEST);
		rec_init(&r, NULL);
		rec_feed(&p, &r, s, sizeof(s));
		rec_gap(&p, &r, 100);
		CHECK(r.n == 2 && r.ev[0].type == 'H' &&
		      !strcmp(r.ev[0].msg.method, "PUT") &&
		      r.ev[0].msg.target_truncated &&
		      r.ev[0].msg.version_minor == -1);
	}

	/* a response's status line cut by a gap is not reported */
	h1_parser_init(&p, H1_RESPONSE);
	rec_init(&r, NULL);
	rec_feed(&p, &r, S("HTTP/1.1 200 O"));
	rec_gap(&p, &r, 10);
	CHECK(r.n == 1 && r.ev[0].err == H1_ERR_GAP);
}

static void test_content_length_values(void)
{
	static const struct {
		const char *headers;
		int64_t want; /* -2: BAD_LENGTH */
	} cases[] = {
		{ "Content-Length: 9223372036854775807\r\n", INT64_MAX },
		{ "Content-Length: 9223372036854775808\r\n", -2 },
		{ "Content-Length: 99999999999999999999999\r\n", -2 },
		{ "Content-Length: 5\r\nContent-Length: 6\r\n", -2 },
		{ "Content-Length: 5\r\nContent-Length: 5\r\n", 5 },
		{ "Content-Length: 5, 5\r\n", 5 },
		{ "Content-Length: 5, 6\r\n", -2 },
		{ "Content-Length: -1\r\n", -2 },
		{ "Content-Length: +1\r\n", -2 },
		{ "Content-Length: 0x10\r\n", -2 },
		{ "Content-Length: 1 2\r\n", -2 },
		{ "Content-Length:\r\n", -2 },
		{ "Content-Length:   42  \r\n", 42 },
	};
	char buf[256];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct h1_parser p;
		struct recorder r;
		int n = snprintf(buf, sizeof(buf), "HTTP/1.1 200 OK\r\n%s\r\n",
				 cases[i].headers);

		h1_parser_init(&p, H1_RESPONSE);
		rec_init(&r, NULL);
		rec_feed(&p, &r, buf, (size_t)n);
		CHECK(r.n >= 1 && r.ev[0].type == 'H');
		if (cases[i].want == -2) {
			CHECK_INT(r.ev[0].msg.content_length, -1);
			CHECK(r.n == 2 && r.ev[1].err == H1_ERR_BAD_LENGTH);
			CHECK_INT(p.state, H1_ST_LOST);
		} else {
			CHECK_INT(r.ev[0].msg.content_length, cases[i].want);
			CHECK_INT(p.state, H1_ST_BODY);
			CHECK(p.remaining == (uint64_t)cases[i].want);
		}
	}
}

/* A bad Content-Length does not matter when there is no body to frame. */
static void test_bad_length_ignored_without_body(void)
{
	static const char s[] =
		"HTTP/1.1 200 OK\r\nContent-Length: nope\r\n\r\n"
		"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n"
		"Transfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n"
		"0\r\n\r\n";
	struct run_result r;

	check_every_split(&r, H1_RESPONSE, "ND", S(s), false);
	CHECK_INT(r.rec.n, 4);
	CHECK_INT(r.messages, 2);
	CHECK(r.rec.ev[2].msg.chunked);
}

static void test_tunnel(void)
{
	static const char ws[] =
		"HTTP/1.1 101 Switching Protocols\r\n"
		"Upgrade: websocket\r\n"
		"Connection: Upgrade\r\n"
		"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
		"\r\n"
		"\x81\x05hello";
	static const char connect_ok[] =
		"HTTP/1.1 200 Connection established\r\n\r\n"
		"\x16\x03\x03\x00\x7a\x02";
	static const char connect_refused[] =
		"HTTP/1.1 407 Proxy Authentication Required\r\n"
		"Content-Length: 0\r\n\r\n"
		"HTTP/1.1 200 Connection established\r\n\r\n";
	struct run_result r;
	struct h1_parser p;
	struct recorder rec;

	check_every_split(&r, H1_RESPONSE, NULL, S(ws), true);
	CHECK_INT(r.state, H1_ST_TUNNEL);
	CHECK_INT(r.rec.n, 2);
	CHECK(r.rec.ev[1].type == 'C' && r.rec.ev[1].msg.status == 101);
	CHECK(r.rec.ev[1].msg.upgrade);
	CHECK_INT(r.rec.ev[1].state, H1_ST_TUNNEL);
	CHECK_INT(r.rec.ev[1].pos, sizeof(ws) - 1 - 7);
	CHECK_INT(r.messages, 1);

	check_every_split(&r, H1_RESPONSE, "T", S(connect_ok), true);
	CHECK_INT(r.state, H1_ST_TUNNEL);
	CHECK_INT(r.rec.n, 2);
	CHECK_INT(r.rec.ev[1].state, H1_ST_TUNNEL);
	CHECK_INT(r.messages, 1);

	/* Refused, then established: only the second one tunnels. */
	check_every_split(&r, H1_RESPONSE, "DT", S(connect_refused), false);
	CHECK_INT(r.state, H1_ST_TUNNEL);
	CHECK_INT(r.rec.n, 4);
	CHECK_INT(r.messages, 2);

	/* The request side of CONNECT completes at its headers. */
	h1_parser_init(&p, H1_REQUEST);
	rec_init(&rec, NULL);
	rec_feed(&p, &rec, S("CONNECT example.com:443 HTTP/1.1\r\n"
			     "Host: example.com:443\r\n\r\n"));
	CHECK_INT(p.messages, 1);
	CHECK_STR(rec.ev[0].msg.target, "example.com:443");
	/* tunnelled TLS then reads as not HTTP */
	rec_feed(&p, &rec, tls_client_hello, sizeof(tls_client_hello));
	CHECK_INT(p.state, H1_ST_LOST);
}

static void test_connection_header(void)
{
	static const char s[] =
		"HTTP/1.1 200 OK\r\nConnection: keep-alive, close\r\n"
		"Content-Length: 0\r\n\r\n"
		"HTTP/1.1 200 OK\r\nConnection: CLOSE\r\n"
		"Content-Length: 0\r\n\r\n"
		"HTTP/1.1 200 OK\r\nConnection: closed\r\n"
		"Content-Length: 0\r\n\r\n"
		"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n";
	struct run_result r;

	check_every_split(&r, H1_RESPONSE, NULL, S(s), false);
	CHECK_INT(r.rec.n, 8);
	CHECK(r.rec.ev[0].msg.connection_close);
	CHECK(r.rec.ev[2].msg.connection_close);
	CHECK(!r.rec.ev[4].msg.connection_close);
	CHECK(r.rec.ev[6].msg.connection_close);
}

static void test_blank_lines_between_messages(void)
{
	static const char s[] =
		"\r\nGET /1 HTTP/1.1\n\n"
		"\r\n\r\nGET /2 HTTP/1.1\r\nContent-Length: 2\r\n\r\nab\r\n"
		"GET /3 HTTP/1.1\r\n\r\n";
	struct run_result r;

	check_every_split(&r, H1_REQUEST, NULL, S(s), true);
	CHECK_INT(r.messages, 3);
	CHECK_INT(r.rec.n, 6);
	CHECK_STR(r.rec.ev[4].msg.target, "/3");
	CHECK_INT(r.rec.ev[0].msg.header_bytes, 17);
}

static void test_callbacks_may_be_null(void)
{
	struct h1_parser p;
	struct h1_callbacks none = { 0 };

	h1_parser_init(&p, H1_RESPONSE);
	h1_parser_feed(&p, (const uint8_t *)keepalive_mixed,
		       sizeof(keepalive_mixed) - 1, NULL, NULL);
	h1_parser_eof(&p, &none, NULL);
	CHECK_INT(p.messages, 6);
	h1_parser_init(&p, H1_RESPONSE);
	h1_parser_feed(&p, tls_client_hello, sizeof(tls_client_hello), &none,
		       NULL);
	CHECK_INT(p.state, H1_ST_NOT_HTTP);
	CHECK_INT(p.last_error, H1_ERR_NOT_HTTP);
}

static void test_error_str(void)
{
	CHECK_STR(h1_error_str(H1_ERR_NOT_HTTP), "not HTTP/1.x");
	CHECK_STR(h1_error_str(H1_ERR_LINE_TOO_LONG), "header line too long");
	CHECK_STR(h1_error_str(H1_OK), "no error");
	CHECK(strlen(h1_error_str(H1_ERR_BAD_HEADER)) > 0);
	CHECK(strlen(h1_error_str(H1_ERR_BAD_CHUNK)) > 0);
	CHECK(strlen(h1_error_str(H1_ERR_BAD_LENGTH)) > 0);
	CHECK(strlen(h1_error_str(H1_ERR_GAP)) > 0);
	CHECK(strlen(h1_error_str(H1_ERR_TRUNCATED)) > 0);
	CHECK_STR(h1_error_str((enum h1_error)99), "unknown error");
}

int main(int argc, char **argv)
{
	unit_args(argc, argv);
	RUN(test_request_simple);
	RUN(test_request_post_expect);
	RUN(test_request_expect_waits_for_body);
	RUN(test_request_pipelined);
	RUN(test_request_without_length_is_bodiless);
	RUN(test_request_chunked_wins);
	RUN(test_request_te_not_chunked);
	RUN(test_headers_case_and_trim);
	RUN(test_target_truncated);
	RUN(test_method_limits);
	RUN(test_response_content_length);
	RUN(test_response_chunked_ext_trailers);
	RUN(test_head_response);
	RUN(test_1xx_then_final);
	RUN(test_204_304);
	RUN(test_keepalive_mixed_framing);
	RUN(test_close_delimited);
	RUN(test_truncated);
	RUN(test_gap_in_length_body);
	RUN(test_gap_in_chunk_data);
	RUN(test_gap_in_chunk_size_line);
	RUN(test_response_te_not_chunked);
	RUN(test_gap_in_framing_and_recovery);
	RUN(test_gap_in_headers);
	RUN(test_join_mid_stream);
	RUN(test_garbage_after_http_is_lost);
	RUN(test_not_http_tls);
	RUN(test_not_http_ssh);
	RUN(test_not_http_random);
	RUN(test_http2_preface);
	RUN(test_bad_status_lines);
	RUN(test_bad_headers);
	RUN(test_bad_chunks);
	RUN(test_long_header_line);
	RUN(test_long_request_line);
	RUN(test_gap_in_request_line);
	RUN(test_content_length_values);
	RUN(test_bad_length_ignored_without_body);
	RUN(test_tunnel);
	RUN(test_connection_header);
	RUN(test_blank_lines_between_messages);
	RUN(test_callbacks_may_be_null);
	RUN(test_error_str);
	return unit_done("http1_parser");
}
