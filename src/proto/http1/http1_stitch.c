// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* HTTP/1.x on a connection: the request side's and the response side's
 * parsers fed, their messages paired into requests (pipelining, 1xx,
 * lost framing, bytes that are not HTTP). */
#include <stdio.h>
#include <string.h>

#include "proto/http1/http1_stitch.h"
#include "httptrace_first_bytes.h"
#include "proto/http2/h2.h"
#include "proto/proto.h"
#include "proto/tls/tls_handshake.h"
#include "timeline/timeline_build.h"

/* Parser callback context: the record being fed and how much of it has
 * been attributed to a message so far. */
struct feed_ctx {
	struct correlator *c;
	struct conn *conn;
	const struct ht_data_event *ev; /* NULL for EOF/close */
	uint64_t ts_ns;
	const uint8_t *data;
	size_t len, pos;
	bool eof;
};

static bool has_payload(const uint8_t *data, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (data[i] != '\r' && data[i] != '\n')
			return true;
	return false;
}

/* Same test as the parser uses to leave H1_ST_LOST, so that we know in
 * advance which http1_feed() will resume parsing. */
bool http1_starts_message(enum h1_kind kind, const uint8_t *data, size_t len)
{
	size_t k;

	if (kind == H1_RESPONSE)
		return len >= 7 && memcmp(data, "HTTP/1.", 7) == 0;
	for (k = 0; k < len && k < H1_METHOD_MAX - 1; k++) {
		uint8_t ch = data[k];

		if (!((ch >= 'A' && ch <= 'Z') || ch == '-' || ch == '_'))
			break;
	}
	return k >= 3 && k < len && data[k] == ' ';
}

static struct pending_req *resp_target(const struct conn *conn)
{
	return conn->skip_responses ? NULL : req_head(conn);
}

/* Framing of the head's response was lost (bytes beyond the capture where
 * chunk sizes were): it ended with the last record that carried response
 * bytes before the next request or a new response began. */
static void end_lost_response(struct correlator *c, struct conn *conn)
{
	struct pending_req *r = req_head(conn);

	if (conn->n_pending > 1)
		req_mark_incomplete(r, TL_ERROR(INCOMPLETE,
					       "response framing lost with "
					       "requests pipelined"));
	conn->last_resp_end_ns = r->resp_last_ns;
	req_finish_head(c, conn, r->resp_last_ns, TL_NO_ERROR,
			!r->close_requested);
}

struct pending_req *http1_open_request(struct correlator *c,
				       struct conn *conn,
				       const struct ht_data_event *ev)
{
	struct pending_req *r = req_head(conn);
	bool first = conn->n_requests == 0;
	bool after_gap = false;

	/* A keep-alive client sends the next request only after reading the
	 * previous response (pipelining aside). */
	if (r && r->resp_lost && r->resp_started)
		end_lost_response(c, conn);
	if (conn->taint) {
		/* Records were lost while these were open; whatever ended
		 * them is among the lost, and this request starts afresh. */
		while ((r = req_head(conn)))
			req_finish_head(c, conn, req_last_seen(r), TL_NO_ERROR,
					false);
		conn->skip_responses = 0;
		conn->taint = false;
		after_gap = true;
	}
	if (conn->n_pending >= c->cfg.max_pipeline) {
		r = req_head(conn);
		c->stats.pipeline_overflow++;
		req_mark_incomplete(r, TL_ERROR(INCOMPLETE,
					       "too many pipelined requests"));
		req_finish_head(c, conn, req_last_seen(r), TL_NO_ERROR, false);
		/* its response, when it comes, must not go to the next one */
		conn->skip_responses++;
	}
	if (req_head(conn))
		conn->pipelined = true;
	r = req_alloc(c);
	if (!r)
		return NULL;
	r->first_on_conn = first;
	r->reused = !first;
	/* The first request after a gap before it may miss its connect. */
	if (after_gap && first)
		req_mark_incomplete(r, TL_ERROR(RECORDS_LOST, "records lost"));
	if (conn->garbage_unanswered) {
		/* the response to the bytes that were not HTTP may come
		 * first */
		r->resp_unsure = true;
		req_mark_incomplete(r, TL_ERROR(INCOMPLETE,
					       "response not told from the one "
					       "to bytes that were not HTTP"));
	} else if (conn->unsure) {
		/* The responses line up with the requests again once one
		 * starts with every response read and none outstanding. A
		 * client that pipelines may have sent, in the lost records,
		 * requests whose responses are still to come: its
		 * connection stays unsure. */
		if (!req_head(conn) && !conn->pipelined &&
		    conn->parser[SIDE_RESP].state == H1_ST_START) {
			conn->unsure = false;
		} else {
			r->resp_unsure = true;
			req_mark_incomplete(r, TL_ERROR(RECORDS_LOST,
						       "records lost"));
		}
	}
	conn->n_requests++;
	req_set_start(conn, r, first, ev->enter_ns, ev->hdr.ts_ns);
	if (!first && conn->last_resp_end_ns &&
	    r->start_ns >= conn->last_resp_end_ns)
		r->idle_us = span_us(conn->last_resp_end_ns, r->start_ns);
	r->tid = ev->hdr.tid;
	copy_comm(r->comm, ev->hdr.comm);

	req_append(conn, r);
	conn->writing = r;
	return r;
}

static uint64_t resp_byte_ts(const struct conn *conn,
			     const struct ht_data_event *ev)
{
	/* a client reads: the byte is there when read() returns; a server
	 * writes: the byte leaves when write() is entered */
	return conn->role == HT_ROLE_SERVER ? ev->enter_ns : ev->hdr.ts_ns;
}

/*
 * A response starts and no request waits for it: the request went out
 * unseen (before tracing began, or in records that were lost or never
 * made). The response is still reported, as a request of its own marked
 * incomplete, and it counts as the connection's request, so the next
 * one is a reused connection's and gets no connection phases.
 */
static void open_unseen_request(struct correlator *c, struct conn *conn,
				const struct ht_data_event *ev)
{
	struct pending_req *r = req_alloc(c);

	c->stats.orphan_responses++;
	if (!r)
		return;
	r->reused = conn->n_requests > 0;
	conn->n_requests++;
	r->start_ns = resp_byte_ts(conn, ev);
	r->got_conn_ns = r->start_ns;
	if (r->reused && conn->last_resp_end_ns &&
	    r->start_ns >= conn->last_resp_end_ns)
		r->idle_us = span_us(conn->last_resp_end_ns, r->start_ns);
	r->tid = ev->hdr.tid;
	copy_comm(r->comm, ev->hdr.comm);
	req_mark_incomplete(r, conn->taint ?
			    TL_ERROR(RECORDS_LOST,
				     "request not seen (records lost)") :
			    TL_ERROR(INCOMPLETE, "request not seen"));
	req_append(conn, r);
}

/* This record carries bytes of the current response. */
static void response_bytes_seen(struct conn *conn,
				const struct ht_data_event *ev)
{
	struct pending_req *r = resp_target(conn);
	uint64_t ts = resp_byte_ts(conn, ev);

	if (!r)
		return;
	/* A client reads the response once it has written the request: the
	 * last request bytes before this are its end. */
	if (r->req_lost && !r->wrote_request_ns && r->req_last_ns) {
		r->wrote_request_ns = r->req_last_ns;
		if (conn->writing == r)
			conn->writing = NULL;
	}
	if (!r->first_byte_ns)
		r->first_byte_ns = ts;
	if (!r->final_first_byte_ns)
		r->final_first_byte_ns = ts;
	r->resp_started = true;
	r->resp_last_ns = ev->hdr.ts_ns;
}

static void add_bytes(struct conn *conn, int side, uint64_t n)
{
	struct pending_req *r;

	if (conn->proto != &http1_ops || n == 0)
		return;
	if (side == SIDE_REQ) {
		if (conn->writing)
			conn->writing->request_bytes += n;
		return;
	}
	r = resp_target(conn);
	if (r && r->resp_started)
		r->response_bytes += n;
}

/* The part of this feed up to `offset` belongs to the message that just
 * ended. */
static size_t take_upto(struct feed_ctx *fc, size_t offset)
{
	size_t n;

	if (offset > fc->len)
		offset = fc->len;
	if (offset < fc->pos)
		offset = fc->pos;
	n = offset - fc->pos;
	fc->pos = offset;
	return n;
}

static bool more_after(const struct feed_ctx *fc, size_t offset)
{
	return offset < fc->len &&
	       has_payload(fc->data + offset, fc->len - offset);
}

static enum h1_body_hint req_on_headers(void *user,
					const struct h1_message *msg,
					size_t offset)
{
	struct feed_ctx *fc = user;
	struct pending_req *r = fc->conn->writing;

	fc->conn->saw_http = true;
	if (!r)
		return H1_BODY_DEFAULT;
	r->headers_seen = true;
	r->wrote_headers_ns = fc->ts_ns;
	if (msg->expect_continue)
		r->wait100_ns = fc->ts_ns;
	copy_bounded(r->method, sizeof(r->method), msg->method,
		     sizeof(msg->method));
	copy_bounded(r->target, sizeof(r->target), msg->target,
		     sizeof(msg->target));
	r->target_truncated = msg->target_truncated;
	copy_bounded(r->host, sizeof(r->host), msg->host, sizeof(msg->host));
	r->version_minor = msg->version_minor;
	r->is_head = strcmp(r->method, "HEAD") == 0;
	r->is_connect = strcmp(r->method, "CONNECT") == 0;
	if (msg->connection_close)
		r->close_requested = true;
	r->upgrade_h2c = msg->upgrade_h2c;
	return H1_BODY_DEFAULT;
}

static void req_on_complete(void *user, const struct h1_message *msg,
			    size_t offset)
{
	struct feed_ctx *fc = user;
	struct conn *conn = fc->conn;
	struct pending_req *r = conn->writing;
	size_t n = take_upto(fc, offset);

	if (r) {
		r->request_bytes += n;
		r->wrote_request_ns = fc->ts_ns;
		conn->writing = NULL;
	}
	/* pipelining: the next request starts in the same write */
	if (fc->ev && more_after(fc, fc->pos))
		http1_open_request(fc->c, conn, fc->ev);
}

static enum h1_body_hint resp_on_headers(void *user,
					 const struct h1_message *msg,
					 size_t offset)
{
	struct feed_ctx *fc = user;
	struct conn *conn = fc->conn;
	struct pending_req *r = resp_target(conn);

	conn->saw_http = true;
	if (msg->status < 200 && msg->status != 101) {
		/* interim: the final response follows */
		if (!r)
			return H1_BODY_NONE;
		if (r->n_info < MAX_INFORMATIONAL) {
			r->info[r->n_info].ts_ns = fc->ts_ns;
			r->info[r->n_info].status = msg->status;
			r->n_info++;
		}
		r->final_first_byte_ns = 0;
		if (fc->ev && more_after(fc, offset))
			r->final_first_byte_ns = resp_byte_ts(conn, fc->ev);
		return H1_BODY_NONE;
	}
	if (!r)
		return H1_BODY_DEFAULT;
	r->status = msg->status;
	if (msg->connection_close)
		r->close_requested = true;
	if (r->is_head)
		return H1_BODY_NONE;
	if (r->is_connect && msg->status >= 200 && msg->status < 300)
		return H1_BODY_TUNNEL;
	return H1_BODY_DEFAULT;
}

static void resp_on_complete(void *user, const struct h1_message *msg,
			     size_t offset)
{
	struct feed_ctx *fc = user;
	struct correlator *c = fc->c;
	struct conn *conn = fc->conn;
	struct pending_req *r = resp_target(conn);
	size_t n = take_upto(fc, offset);
	bool tunnel;

	if (msg->status < 200 && msg->status != 101)
		return;
	if (msg->status == 101 && r && !conn->skip_responses &&
	    r->upgrade_h2c && msg->upgrade_h2c) {
		/* h2c: the request becomes stream 1, its response follows
		 * in HTTP/2 frames, from the byte after the 101 */
		r->response_bytes += n;
		h2_upgrade(c, conn, r, fc->ev, fc->pos);
		return;
	}
	if (conn->skip_responses) {
		conn->skip_responses--;
	} else if (r) {
		tunnel = msg->status == 101 ||
			 (r->is_connect && msg->status >= 200 &&
			  msg->status < 300);
		r->response_bytes += n;
		conn->last_resp_end_ns = fc->ts_ns;
		req_finish_head(c, conn, fc->ts_ns, TL_NO_ERROR,
				!tunnel && !fc->eof && !r->close_requested);
	}
	if (msg->status == 101 || conn->parser[SIDE_RESP].state == H1_ST_TUNNEL)
		conn->proto = &proto_tunnel;
	if (conn->proto == &http1_ops && fc->ev && more_after(fc, fc->pos))
		response_bytes_seen(conn, fc->ev);
}

static const struct h1_callbacks side_callbacks[2] = {
	[SIDE_REQ] = { .on_headers = req_on_headers,
		       .on_complete = req_on_complete },
	[SIDE_RESP] = { .on_headers = resp_on_headers,
			.on_complete = resp_on_complete },
};

static enum h1_kind side_kind(int side)
{
	return side == SIDE_REQ ? H1_REQUEST : H1_RESPONSE;
}

/* Both parsers wait for the next message start: after lost records, or
 * when the stream was joined in the middle. */
static void http1_resync(struct conn *conn)
{
	int side;

	for (side = SIDE_REQ; side <= SIDE_RESP; side++) {
		h1_parser_init(&conn->parser[side], side_kind(side));
		conn->parser[side].state = H1_ST_LOST;
	}
}

void http1_set_role(struct conn *conn, enum ht_role role)
{
	int side;

	if (conn->role_known && conn->role == role)
		return;
	conn->role = role;
	conn->role_known = true;
	for (side = SIDE_REQ; side <= SIDE_RESP; side++)
		h1_parser_init(&conn->parser[side], side_kind(side));
	if (conn->taint)
		http1_resync(conn);
}

static void mark_not_http(struct correlator *c, struct conn *conn)
{
	if (conn->proto != &proto_not_http)
		c->stats.non_http_conns++;
	conn->proto = &proto_not_http;
	req_drop_all(c, conn);
}

/* Data on a connection whose connect/accept we did not see: the side that
 * starts like a request tells the role. */
static bool http1_guess_role(struct correlator *c, struct conn *conn,
			     const struct ht_data_event *ev)
{
	const uint8_t *data = ev->data;
	size_t len = ev->captured_len;
	bool egress = ev->direction == HT_DIR_EGRESS;

	while (len && (*data == '\r' || *data == '\n')) {
		data++;
		len--;
	}
	if (len == 0)
		return false;
	if (http1_starts_message(H1_REQUEST, data, len) ||
	    h2_is_preface(data, len))
		http1_set_role(conn, egress ? HT_ROLE_CLIENT : HT_ROLE_SERVER);
	else if (http1_starts_message(H1_RESPONSE, data, len) ||
		 ht_h2_settings_frame(data, len))
		http1_set_role(conn, egress ? HT_ROLE_SERVER : HT_ROLE_CLIENT);
	else if (conn->taint)
		return false; /* joined mid-message: wait for a start */
	else
		mark_not_http(c, conn);
	return conn->role_known && conn->proto == &http1_ops;
}

/* The parser of `side` found bytes that are not HTTP/1.x. */
static void not_http(struct correlator *c, struct conn *conn, int side,
		     uint64_t ts)
{
	struct h1_parser *p = &conn->parser[side];

	if (!conn->saw_http) {
		/* first message: TLS, SSH, some binary protocol */
		mark_not_http(c, conn);
		return;
	}
	/* after HTTP traffic: out of step, or bytes of another protocol;
	 * counted, and parsing waits for a message start */
	c->stats.not_http_after_http++;
	if (side == SIDE_REQ) {
		struct pending_req *r = conn->writing;

		/* its start line did not parse: not a request */
		if (r && !r->headers_seen) {
			req_unlink(conn, r);
			req_free(c, r);
			conn->n_requests--;
		}
		conn->writing = NULL;
		conn->garbage_unanswered = true;
	} else if (req_head(conn) && req_head(conn)->resp_started &&
		   !conn->skip_responses) {
		req_finish_head(c, conn, ts,
				TL_ERROR(MALFORMED_RESPONSE,
					 "malformed HTTP response"),
				false);
	}
	h1_parser_init(p, side_kind(side));
	p->state = H1_ST_LOST;
}

/* The parser of `side` resumes at a message start after H1_ST_LOST. */
static void resumed(struct correlator *c, struct conn *conn, int side)
{
	if (side == SIDE_REQ) {
		conn->writing = NULL; /* the rest of that one is unknown */
		return;
	}
	if (req_head(conn) && req_head(conn)->resp_started &&
	    !conn->skip_responses)
		end_lost_response(c, conn);
}

/* Bytes that the parser will skip (lost framing): still count them. */
static void skipped_bytes(struct conn *conn, int side,
			  const struct ht_data_event *ev)
{
	struct pending_req *r;

	if (side == SIDE_REQ) {
		add_bytes(conn, side, (uint64_t)ev->ret);
		if (conn->writing)
			conn->writing->req_last_ns = ev->hdr.ts_ns;
		return;
	}
	r = resp_target(conn);
	if (r && r->resp_started) {
		r->response_bytes += (uint64_t)ev->ret;
		r->resp_last_ns = ev->hdr.ts_ns;
	}
}

static void http1_feed(struct correlator *c, struct conn *conn, int side,
		       const struct ht_data_event *ev)
{
	struct h1_parser *p = &conn->parser[side];
	const struct h1_callbacks *cb = &side_callbacks[side];
	size_t cap = ev->captured_len;
	uint64_t gap = (uint64_t)ev->ret - cap;
	struct feed_ctx fc = {
		.c = c, .conn = conn, .ev = ev, .ts_ns = ev->hdr.ts_ns,
		.data = ev->data, .len = cap,
	};
	bool at_start = p->state == H1_ST_START;

	if (p->state == H1_ST_LOST) {
		if (!http1_starts_message(p->kind, ev->data, cap)) {
			skipped_bytes(conn, side, ev);
			return;
		}
		resumed(c, conn, side);
		at_start = true;
	}
	p->last_error = H1_OK; /* tells this feed's errors from older ones */
	if (side == SIDE_REQ) {
		if (at_start && has_payload(ev->data, cap))
			http1_open_request(c, conn, ev);
	} else if (cap == 0 || !at_start || has_payload(ev->data, cap)) {
		if (at_start && cap && !req_head(conn) &&
		    !conn->skip_responses) {
			if (conn->garbage_unanswered) {
				/* not reported: counted with the bytes */
				conn->garbage_unanswered = false;
				conn->skip_responses++;
			} else {
				open_unseen_request(c, conn, ev);
			}
		}
		response_bytes_seen(conn, ev);
	}

	h1_parser_feed(p, ev->data, cap, cb, &fc);
	add_bytes(conn, side, cap - fc.pos);
	if (gap && conn->proto == &http1_ops &&
	    p->state != H1_ST_NOT_HTTP) {
		/* counted before the parser may complete the message */
		add_bytes(conn, side, gap);
		fc.data = NULL;
		fc.len = fc.pos = 0;
		h1_parser_gap(p, gap, cb, &fc);
	}

	if (conn->proto != &http1_ops)
		return;
	if (side == SIDE_REQ && conn->writing)
		conn->writing->req_last_ns = ev->hdr.ts_ns;
	if (p->state == H1_ST_TUNNEL) {
		conn->proto = &proto_tunnel;
	} else if (p->state == H1_ST_NOT_HTTP ||
		   (p->state == H1_ST_LOST && p->last_error == H1_ERR_NOT_HTTP)) {
		/* the parser says LOST rather than NOT_HTTP once the stream
		 * has carried HTTP */
		not_http(c, conn, side, ev->hdr.ts_ns);
	} else if (p->state == H1_ST_LOST && side == SIDE_REQ) {
		/* headers beyond the capture: where the request ends is
		 * unknown until the response starts */
		if (conn->writing && conn->writing->headers_seen)
			conn->writing->req_lost = true;
	} else if (p->state == H1_ST_LOST && side == SIDE_RESP) {
		struct pending_req *r = resp_target(conn);

		if (r && r->resp_started)
			r->resp_lost = true;
	}
}

/* The response stream ended (EOF read, or close): a body delimited by
 * close completes, whatever else is open failed. */

/* Who closed tells a server that hung up from a client that gave up (a
 * timeout, or killed by a signal). */
static const char *closed_words(bool by_peer, bool resp_started)
{
	if (by_peer)
		return resp_started ? "connection closed by peer mid-response" :
				      "connection closed by peer before response";
	return resp_started ? "connection closed by the process mid-response" :
			      "connection closed by the process before response";
}

static void http1_response_ended(struct correlator *c, struct conn *conn,
				 uint64_t ts, bool by_peer)
{
	struct h1_parser *p = &conn->parser[SIDE_RESP];
	struct feed_ctx fc = {
		.c = c, .conn = conn, .ts_ns = ts, .eof = true,
	};

	if (!conn->role_known || conn->proto != &http1_ops)
		return;
	if (p->state != H1_ST_LOST)
		h1_parser_eof(p, &side_callbacks[SIDE_RESP], &fc);
	while (req_head(conn)) {
		struct pending_req *r = req_head(conn);

		if (r->resp_lost && r->resp_started && !conn->skip_responses) {
			end_lost_response(c, conn);
			continue;
		}
		req_finish_head(c, conn, ts,
				TL_ERROR(CONNECTION_CLOSED, closed_words(
					by_peer, r->resp_started)),
				false);
	}
	conn->skip_responses = 0;
	if (conn->proto == &http1_ops)
		h1_parser_init(p, H1_RESPONSE);
}

/* A socket record that moved no bytes: an error fails what is open; the
 * peer's end of stream ends the response, or (a server's peer
 * half-closed) the request side. */
static void http1_socket_end(struct correlator *c, struct conn *conn,
			     const struct ht_data_event *ev)
{
	int side;

	if (ev->ret < 0) {
		char error[TL_ERROR_MAX];

		if (io_error_ignored(ev->ret) || !req_head(conn))
			return;
		req_fail_all(c, conn, ev->hdr.ts_ns,
			     tl_io_error(error, sizeof(error), ev->direction,
					 ev->ret));
		return;
	}
	if (!conn->role_known || ev->direction != HT_DIR_INGRESS)
		return;
	side = side_of(conn, ev->direction);
	if (side == SIDE_RESP) {
		http1_response_ended(c, conn, ev->hdr.ts_ns, true);
	} else {
		/* a server's peer half-closed: the response may still be
		 * written */
		h1_parser_eof(&conn->parser[SIDE_REQ], NULL, NULL);
		conn->writing = NULL;
	}
}

/* Bytes (ret > 0) of the HTTP stream: from the socket, or the plaintext
 * of a TLS call. The first bytes of each side may be another
 * protocol's. */
static void http1_bytes(struct correlator *c, struct conn *conn,
			const struct ht_data_event *ev)
{
	int side;

	if (!conn->role_known && !http1_guess_role(c, conn, ev))
		return;
	side = side_of(conn, ev->direction);
	if (proto_offer_first(c, conn, side, ev))
		return;
	/* An HTTP/2 server speaks first: its SETTINGS may be read before
	 * the client writes its preface (nghttp). No HTTP/1 server does,
	 * so with h2 offered the preface, not these bytes, tells. */
	if (side == SIDE_RESP && !conn->saw_req_bytes && !conn->saw_http &&
	    tls_h2_offered(conn))
		return;
	http1_feed(c, conn, side, ev);
}

static void http1_gap(struct correlator *c, struct conn *conn)
{
	if (conn->role_known)
		http1_resync(conn);
}

/* The process closed the connection: the response stream ended with
 * it. At an exit, the requests are abandoned as they are. */
static void http1_end(struct correlator *c, struct conn *conn, uint64_t ts,
		      enum proto_end how)
{
	if (how == PROTO_END_CLOSE)
		http1_response_ended(c, conn, ts, false);
}

const struct proto_ops http1_ops = {
	.name = "http1",
	.layer = PROTO_APP,
	.on_bytes = http1_bytes,
	.on_socket_end = http1_socket_end,
	.on_gap = http1_gap,
	.on_end = http1_end,
};
