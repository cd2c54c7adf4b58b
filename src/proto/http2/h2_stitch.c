// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * HTTP/2 on a connection: the frames of both directions (h2_frame.h)
 * stitched into one timeline per stream, in ClientTrace terms.
 *
 * A stream is a pending_req (pipeline/conn.h) with its stream id, in
 * the connection's list of requests like an HTTP/1 request, so that the
 * correlator's own endings (lost records, close, exit, eviction) end it
 * too; but streams end in any order. The hooks, for a client (the
 * server's are the same from the other side, see pipeline/conn.h):
 *
 *   GetConn       entry of the call that began the request HEADERS
 *                 (the first stream of a new connection: its lookup or
 *                 connect, as HTTP/1 does)
 *   GotConn       the same; the first stream: connect or handshake done
 *   WroteHeaders  the request header block complete (END_HEADERS)
 *   WroteRequest  END_STREAM sent, on HEADERS or DATA
 *   Got1xxResponse / GotFirstResponseByte  each response header block
 *                 of 1xx, the first one (1xx or final)
 *   end           END_STREAM received (trailers included), or
 *                 RST_STREAM, GOAWAY, the connection's end
 *
 * A connection is first one report ("streams not decoded"), a request
 * of stream 0, as before streams were decoded; the first stream
 * replaces it, so only a connection that carries none keeps it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/http2/h2.h"
#include "proto/http2/h2_elided.h"
#include "proto/http2/h2_frame.h"
#include "pipeline/conn.h"
#include "proto/proto.h"
#include "timeline/timeline_build.h"

/* Streams open at once on one connection that are followed; the
 * oldest is given up for a new one beyond that. */
#define H2_MAX_STREAMS 256

/* RFC 9113 section 7 */
#define H2_NO_ERROR_CODE 0x0
#define H2_STREAM_CLOSED_CODE 0x5

struct h2_conn {
	struct h2_decoder *dec;
	size_t dec_held;             /* of the decoder, counted in held() */
	/* the record being fed, for the frame callback */
	struct correlator *c;
	struct conn *conn;
	const struct ht_data_event *ev;
	uint32_t max_client_stream;  /* the newest the client opened */
	bool in_gap;                 /* h2_decoder_gap() running */
	/* the connection's report may still be open (the correlator may
	 * have ended it): looked for only then */
	bool report_open;
	bool goaway;                 /* a GOAWAY was seen: */
	uint32_t goaway_code;
	bool goaway_unknown;         /* its payload was not captured */
};

static struct h2_conn *h2_state(const struct conn *conn)
{
	return conn->proto_state_ops == &h2_ops ? conn->proto_state : NULL;
}

static const char *side_name(int side)
{
	return side == SIDE_REQ ? "client" : "server";
}

/* The decoder's allocations follow its tables: counted as they move. */
static void h2_account(struct h2_conn *hc)
{
	size_t n = h2_decoder_held_bytes(hc->dec);

	if (n > hc->dec_held)
		held(hc->c, n - hc->dec_held);
	else
		released(hc->c, hc->dec_held - n);
	hc->dec_held = n;
}

/* Requests are found by their stream id, 0 for the report: no
 * pointer into the list is kept, as the correlator ends requests of
 * its own accord (lost records, eviction). */
static struct pending_req *req_of_stream(const struct conn *conn,
					 uint32_t id)
{
	struct pending_req *r;

	list_for_each_entry(r, &conn->reqs, link)
		if (r->stream_id == id && r->h2)
			return r;
	return NULL;
}

static struct pending_req *stream_find(struct h2_conn *hc, uint32_t id)
{
	return id ? req_of_stream(hc->conn, id) : NULL;
}

static void stream_end(struct h2_conn *hc, struct pending_req *r,
		       uint64_t end_ns, struct tl_error error)
{
	/* the connection's last activity, for the next stream's idle */
	hc->conn->last_resp_end_ns = max_u64(hc->conn->last_resp_end_ns,
					     end_ns);
	req_finish(hc->c, hc->conn, r, end_ns, error, false);
}

/* Every stream open ends here, incomplete (at the last thing seen of
 * each); the report of the connection stays. */
static void streams_lost(struct h2_conn *hc, struct tl_error why)
{
	struct pending_req *r, *next;

	list_for_each_entry_safe(r, next, &hc->conn->reqs, link) {
		if (!r->stream_id)
			continue;
		req_mark_incomplete(r, why);
		stream_end(hc, r, req_last_seen(r), TL_NO_ERROR);
	}
}

/* Frames of a direction were not captured: the streams open may have
 * lost any of theirs. */
static void streams_unknown(struct h2_conn *hc)
{
	struct pending_req *r;

	list_for_each_entry(r, &hc->conn->reqs, link) {
		if (!r->stream_id)
			continue;
		r->resp_lost = true;
		req_mark_incomplete(r, TL_ERROR(INCOMPLETE,
					       "HTTP/2 frames lost: stream "
					       "state unknown"));
	}
}

/* The connection ended with streams open: each failed, in words of
 * who ended it; one whose frames were lost may have ended unseen, and
 * ends where it was last seen, with the words of what was lost. */
static void streams_closed(struct h2_conn *hc, uint64_t ts, bool by_peer)
{
	struct pending_req *r, *next;
	char name[32], words[TL_ERROR_MAX];

	list_for_each_entry_safe(r, next, &hc->conn->reqs, link) {
		struct tl_error error;

		if (!r->stream_id)
			continue;
		if (r->resp_lost) {
			stream_end(hc, r, req_last_seen(r), TL_NO_ERROR);
			continue;
		}
		if (hc->goaway) {
			snprintf(words, sizeof(words),
				 "connection closed by GOAWAY (%s) %s",
				 hc->goaway_unknown ? "error code not captured" :
				 h2_error_name(hc->goaway_code, name,
					       sizeof(name)),
				 r->resp_started ? "mid-response" :
						   "before the response");
			error = TL_ERROR(GOAWAY, words);
		} else {
			snprintf(words, sizeof(words),
				 "connection closed by %s %s",
				 by_peer ? "peer" : "the process",
				 r->resp_started ? "mid-response" :
						   "before response");
			error = TL_ERROR(CONNECTION_CLOSED, words);
		}
		stream_end(hc, r, ts, error);
	}
}

/* When a response byte is there: a client reads it (the read's
 * return), a server writes it (the write's entry). */
static uint64_t resp_ts(const struct conn *conn, const struct h2_frame *f)
{
	if (conn->role == HT_ROLE_SERVER)
		return call_entry(f->first_enter_ns, f->first_ts_ns);
	return f->first_ts_ns;
}

static void fields_unknown(struct h2_conn *hc, struct pending_req *r)
{
	req_mark_incomplete(r, hc->conn->taint ?
			    TL_ERROR(RECORDS_LOST,
				     "records lost: HTTP/2 header fields "
				     "unknown") :
			    TL_ERROR(INCOMPLETE,
				     "HTTP/2 header block not decoded whole"));
}

static bool is_grpc(const struct h2_fields *fl)
{
	return strncmp(fl->content_type, "application/grpc", 16) == 0;
}

/* A client opens a stream with its request HEADERS. */
static struct pending_req *stream_open(struct h2_conn *hc,
				       const struct h2_frame *f)
{
	struct conn *conn = hc->conn;
	struct pending_req *r;
	uint64_t enter = call_entry(f->first_enter_ns, f->first_ts_ns);
	bool first = conn->n_requests == 0;
	bool others;

	r = hc->report_open ? req_of_stream(conn, 0) : NULL;
	hc->report_open = false;
	if (r) {
		/* streams are decoded: no report of the connection */
		req_unlink(conn, r);
		req_free(hc->c, r);
	}
	others = conn->n_pending > 0;
	if (conn->n_pending >= H2_MAX_STREAMS) {
		r = req_head(conn);
		hc->c->stats.pipeline_overflow++;
		req_mark_incomplete(r, TL_ERROR(INCOMPLETE,
					       "too many concurrent HTTP/2 "
					       "streams"));
		stream_end(hc, r, req_last_seen(r), TL_NO_ERROR);
	}
	r = req_alloc(hc->c);
	if (!r)
		return NULL;
	r->h2 = true;
	r->stream_id = f->stream_id;
	r->first_on_conn = first;
	r->reused = !first;
	conn->n_requests++;
	req_set_start(conn, r, first, enter, f->first_ts_ns);
	/* idle only when it carried no other stream (idle_us -1, and
	 * was_idle false, when it did) */
	if (!first && !others && conn->last_resp_end_ns &&
		 r->start_ns >= conn->last_resp_end_ns)
		r->idle_us = span_us(conn->last_resp_end_ns, r->start_ns);
	if (hc->ev) {
		r->tid = hc->ev->hdr.tid;
		copy_comm(r->comm, hc->ev->hdr.comm);
	}
	if (conn->taint && first)
		req_mark_incomplete(r, TL_ERROR(RECORDS_LOST, "records lost"));
	/* the responses' frames are lost: this stream's may be among
	 * those not seen, as for the streams open when they were lost
	 * (streams_unknown()) */
	if (h2_decoder_lost(hc->dec, H2_FROM_SERVER)) {
		r->resp_lost = true;
		req_mark_incomplete(r, TL_ERROR(INCOMPLETE,
					       "HTTP/2 frames lost: stream "
					       "state unknown"));
	}
	req_append(conn, r);
	hc->max_client_stream = f->stream_id;
	return r;
}

static void request_headers(struct h2_conn *hc, const struct h2_frame *f)
{
	const struct h2_fields *fl = f->fields;
	struct pending_req *r = stream_find(hc, f->stream_id);

	if (!r) {
		/* client streams are odd and new ones higher; anything
		 * else is trailers of a stream already ended */
		if (!(f->stream_id & 1) || f->stream_id <= hc->max_client_stream)
			return;
		r = stream_open(hc, f);
		if (!r)
			return;
	}
	r->request_bytes += f->length;
	r->req_last_ns = f->ts_ns;
	if (!r->headers_seen && fl) {
		r->headers_seen = true;
		r->wrote_headers_ns = f->ts_ns;
		copy_bounded(r->method, sizeof(r->method), fl->method,
			     sizeof(fl->method));
		copy_bounded(r->target, sizeof(r->target), fl->path,
			     sizeof(fl->path));
		r->target_truncated = fl->path_truncated;
		copy_bounded(r->host, sizeof(r->host), fl->authority,
			     sizeof(fl->authority));
		r->is_head = strcmp(r->method, "HEAD") == 0;
		if (is_grpc(fl))
			r->grpc = true;
	}
	if (fl && fl->unknown)
		fields_unknown(hc, r);
	if (f->flags & H2_FLAG_END_STREAM && !r->req_ended) {
		r->req_ended = true;
		r->wrote_request_ns = f->ts_ns;
	}
}

static void response_headers(struct h2_conn *hc, const struct h2_frame *f)
{
	const struct h2_fields *fl = f->fields;
	struct pending_req *r = stream_find(hc, f->stream_id);
	uint64_t ts = resp_ts(hc->conn, f);

	if (!r)
		return; /* pushed, or opened before lost records */
	r->response_bytes += f->length;
	r->resp_last_ns = f->ts_ns;
	if (fl && fl->status >= 100 && fl->status < 200) {
		if (r->n_info < MAX_INFORMATIONAL) {
			r->info[r->n_info].ts_ns = ts;
			r->info[r->n_info].status = fl->status;
			r->n_info++;
		}
		if (!r->first_byte_ns)
			r->first_byte_ns = ts;
	} else if (!r->resp_started) {
		/* the final response's headers (:status unknown when
		 * the block was not decoded whole) */
		r->resp_started = true;
		if (fl && fl->status > 0)
			r->status = fl->status;
		if (!r->first_byte_ns)
			r->first_byte_ns = ts;
		r->final_first_byte_ns = ts;
	}
	if (fl) {
		/* a trailers-only gRPC response has them all in one */
		if (is_grpc(fl))
			r->grpc = true;
		if (fl->grpc_status >= 0)
			r->grpc_status = fl->grpc_status;
		if (fl->grpc_message[0]) {
			copy_bounded(r->grpc_message, sizeof(r->grpc_message),
				     fl->grpc_message,
				     sizeof(fl->grpc_message));
			r->grpc_message_seen = true;
		}
		if (fl->unknown)
			fields_unknown(hc, r);
	}
	if (f->flags & H2_FLAG_END_STREAM) {
		r->resp_ended = true;
		stream_end(hc, r, f->ts_ns, TL_NO_ERROR);
	}
}

static void data(struct h2_conn *hc, int side, const struct h2_frame *f)
{
	struct pending_req *r = stream_find(hc, f->stream_id);

	if (!r)
		return;
	if (side == SIDE_REQ) {
		r->request_bytes += f->length;
		r->req_last_ns = f->ts_ns;
		if (f->flags & H2_FLAG_END_STREAM && !r->req_ended) {
			r->req_ended = true;
			r->wrote_request_ns = f->ts_ns;
		}
		return;
	}
	r->response_bytes += f->length;
	r->resp_last_ns = f->ts_ns;
	if (f->flags & H2_FLAG_END_STREAM) {
		r->resp_ended = true;
		stream_end(hc, r, f->ts_ns, TL_NO_ERROR);
	}
}

static void rst_stream(struct h2_conn *hc, int side, const struct h2_frame *f)
{
	struct pending_req *r = stream_find(hc, f->stream_id);
	char name[32], words[TL_ERROR_MAX];
	const char *code = f->payload_unknown ? "error code not captured" :
			   h2_error_name(f->error_code, name, sizeof(name));

	if (!r)
		return;
	/* a peer closes with NO_ERROR or STREAM_CLOSED what it holds to
	 * be over: when the stream's frames were lost, its end may be
	 * among them, and the reset says nothing of it */
	if (r->resp_lost && !f->payload_unknown &&
	    (f->error_code == H2_NO_ERROR_CODE ||
	     f->error_code == H2_STREAM_CLOSED_CODE)) {
		stream_end(hc, r, req_last_seen(r), TL_NO_ERROR);
		return;
	}
	snprintf(words, sizeof(words), "stream reset by the %s (RST_STREAM %s)",
		 side_name(side), code);
	stream_end(hc, r, f->ts_ns, TL_ERROR(STREAM_RESET, words));
}

/* The streams the receiver opened above last_stream_id were not
 * processed and end now; the others may still complete, or end when
 * the connection closes (streams_closed()). */
static void goaway(struct h2_conn *hc, int side, const struct h2_frame *f)
{
	struct pending_req *r, *next;
	char name[32], words[TL_ERROR_MAX];

	hc->goaway = true;
	hc->goaway_code = f->error_code;
	hc->goaway_unknown = f->payload_unknown;
	/* the server's GOAWAY refuses client streams; the client's
	 * refuses pushed ones, which are not followed; which were
	 * refused is not known when the frame was not captured */
	if (side != SIDE_RESP || f->payload_unknown)
		return;
	snprintf(words, sizeof(words),
		 "stream not processed: GOAWAY (%s) from the server",
		 h2_error_name(f->error_code, name, sizeof(name)));
	list_for_each_entry_safe(r, next, &hc->conn->reqs, link)
		if (r->stream_id > f->last_stream_id)
			stream_end(hc, r, f->ts_ns, TL_ERROR(GOAWAY, words));
}

static void h2_on_frame(void *user, enum h2_dir dir, const struct h2_frame *f)
{
	struct h2_conn *hc = user;
	int side = dir == H2_FROM_CLIENT ? SIDE_REQ : SIDE_RESP;

	switch (f->type) {
	case H2_HEADERS:
		if (side == SIDE_REQ)
			request_headers(hc, f);
		else
			response_headers(hc, f);
		break;
	case H2_DATA:
		data(hc, side, f);
		break;
	case H2_RST_STREAM:
		rst_stream(hc, side, f);
		break;
	case H2_GOAWAY:
		goaway(hc, side, f);
		break;
	case H2_FRAME_LOST:
		/* where the direction's frames begin is not known until it
		 * comes back at a record that is frames exactly: what the
		 * open streams did meanwhile is not either. Lost records
		 * end them (as HTTP/1 requests); bytes not captured leave
		 * them open, as the other direction may still end them */
		hc->c->stats.h2_frames_lost++;
		if (hc->in_gap)
			streams_lost(hc, TL_ERROR(RECORDS_LOST,
						  "records lost: HTTP/2 stream "
						  "state unknown"));
		else
			streams_unknown(hc);
		break;
	default:
		break;
	}
}

static struct h2_conn *h2_state_new(struct correlator *c, struct conn *conn)
{
	struct h2_conn *hc;

	proto_free_state(c, conn);
	hc = calloc(1, sizeof(*hc));
	if (!hc)
		return NULL;
	hc->dec = h2_decoder_new();
	if (!hc->dec) {
		free(hc);
		return NULL;
	}
	held(c, sizeof(*hc));
	hc->c = c;
	hc->conn = conn;
	conn->proto_state = hc;
	conn->proto_state_ops = &h2_ops;
	h2_account(hc);
	return hc;
}

static void h2_free(struct correlator *c, struct conn *conn)
{
	struct h2_conn *hc = conn->proto_state;

	released(c, hc->dec_held + sizeof(*hc));
	h2_decoder_free(hc->dec);
	free(hc);
}

/* A record's pieces (h2_elided.h) to the decoder, past `skip` bytes
 * (an h2c Upgrade's HTTP/1.1 part). */
struct h2_piece_ctx {
	struct h2_conn *hc;
	enum h2_dir dir;
	uint64_t skip;
};

static void h2_feed_piece(void *user, const uint8_t *data, size_t captured,
			  size_t len)
{
	struct h2_piece_ctx *p = user;
	const struct ht_data_event *ev = p->hc->ev;
	size_t s = p->skip < len ? (size_t)p->skip : len;

	p->skip -= s;
	if (s == len)
		return;
	data += s < captured ? s : captured;
	captured -= s < captured ? s : captured;
	h2_decoder_feed(p->hc->dec, p->dir, data, captured, len - s,
			ev->enter_ns, ev->hdr.ts_ns, h2_on_frame, p->hc);
}

static void h2_feed(struct h2_conn *hc, struct correlator *c,
		    struct conn *conn, const struct ht_data_event *ev,
		    size_t offset)
{
	struct h2_piece_ctx p = {
		.hc = hc,
		.dir = side_of(conn, ev->direction) == SIDE_REQ ?
			       H2_FROM_CLIENT : H2_FROM_SERVER,
		.skip = offset,
	};

	hc->c = c;
	hc->conn = conn;
	hc->ev = ev;
	/* records of connections whose frames the kernel follows have
	 * their DATA payloads left out (HT_DATA_ELIDED) */
	h2_record_pieces(ev->flags, ev->data, ev->captured_len,
			 (uint64_t)ev->ret, h2_feed_piece, &p);
	hc->ev = NULL;
	h2_account(hc);
}

static void h2_bytes(struct correlator *c, struct conn *conn,
		     const struct ht_data_event *ev)
{
	struct h2_conn *hc = h2_state(conn);
	struct pending_req *r = NULL;

	if (ev->ret <= 0)
		return;
	if (!hc || hc->report_open) {
		r = req_of_stream(conn, 0);
		if (hc && !r)
			hc->report_open = false;
	}
	/* what the connection carried, while it is one report */
	if (r) {
		if (side_of(conn, ev->direction) == SIDE_REQ)
			r->request_bytes += (uint64_t)ev->ret;
		else
			r->response_bytes += (uint64_t)ev->ret;
		r->resp_last_ns = ev->hdr.ts_ns;
	}
	if (hc)
		h2_feed(hc, c, conn, ev, 0);
}

/* The connection's report, until a stream replaces it. */
static struct pending_req *report_start(struct correlator *c,
					struct conn *conn,
					const struct ht_data_event *ev)
{
	struct pending_req *r = req_alloc(c);
	uint64_t enter = call_entry(ev->enter_ns, ev->hdr.ts_ns);

	if (!r)
		return NULL;
	r->h2 = true;
	r->first_on_conn = conn->n_requests == 0;
	r->reused = !r->first_on_conn;
	req_set_start(conn, r, r->first_on_conn, enter, ev->hdr.ts_ns);
	/* a server that speaks first: its connection starts with that
	 * write, as a client's request starts with its first */
	if (conn->role == HT_ROLE_SERVER && ev->direction == HT_DIR_EGRESS)
		r->start_ns = r->io_first_ns = r->got_conn_ns = enter;
	r->tid = ev->hdr.tid;
	copy_comm(r->comm, ev->hdr.comm);
	req_append(conn, r);
	return r;
}

static void h2_open(struct correlator *c, struct conn *conn,
		    const struct ht_data_event *ev)
{
	struct h2_conn *hc;

	conn->proto = &h2_ops;
	conn->writing = NULL;
	report_start(c, conn, ev);
	hc = h2_state_new(c, conn);
	if (hc)
		hc->report_open = true;
	h2_bytes(c, conn, ev);
}

void h2_upgrade(struct correlator *c, struct conn *conn,
		struct pending_req *r, const struct ht_data_event *ev,
		size_t offset)
{
	struct h2_conn *hc;

	conn->proto = &h2_ops;
	conn->writing = NULL;
	/* the 101 is an interim response of stream 1; the final one
	 * comes in HTTP/2 frames */
	r->h2 = true;
	r->stream_id = 1;
	r->req_ended = true;
	if (r->n_info < MAX_INFORMATIONAL && r->first_byte_ns) {
		r->info[r->n_info].ts_ns = r->first_byte_ns;
		r->info[r->n_info].status = 101;
		r->n_info++;
	}
	r->status = 0;
	r->resp_started = false;
	r->final_first_byte_ns = 0;
	hc = h2_state_new(c, conn);
	if (!hc) {
		req_mark_incomplete(r, TL_ERROR(INCOMPLETE,
					       "HTTP/2 stream state not kept "
					       "(out of memory)"));
		return;
	}
	hc->max_client_stream = 1;
	if (ev && (uint64_t)ev->ret > offset)
		h2_feed(hc, c, conn, ev, offset);
}

/* A failed read or write ends every stream. */
static void h2_socket_end(struct correlator *c, struct conn *conn,
			  const struct ht_data_event *ev)
{
	struct h2_conn *hc = h2_state(conn);
	char error[TL_ERROR_MAX];

	if (ev->ret < 0) {
		if (io_error_ignored(ev->ret) || !req_head(conn))
			return;
		req_fail_all(c, conn, ev->hdr.ts_ns,
			     tl_io_error(error, sizeof(error), ev->direction,
					 ev->ret));
		return;
	}
	/* the peer's end of stream: what is open will not complete */
	if (hc && ev->direction == HT_DIR_INGRESS)
		streams_closed(hc, ev->hdr.ts_ns, true);
}

static void h2_gap(struct correlator *c, struct conn *conn)
{
	struct h2_conn *hc = h2_state(conn);

	if (!hc)
		return;
	hc->c = c;
	hc->in_gap = true;
	h2_decoder_gap(hc->dec, H2_FROM_CLIENT, h2_on_frame, hc);
	h2_decoder_gap(hc->dec, H2_FROM_SERVER, h2_on_frame, hc);
	/* the decoder's LOST reports may have ended them already; the
	 * streams still open end here whatever they said */
	streams_lost(hc, TL_ERROR(RECORDS_LOST,
				  "records lost: HTTP/2 stream state unknown"));
	hc->in_gap = false;
	h2_account(hc);
}

/* The connection ended: a report is complete unless records were lost;
 * streams open when the process closed it failed. At an exit they are
 * abandoned as they are. */
static void h2_end(struct correlator *c, struct conn *conn, uint64_t ts,
		   enum proto_end how)
{
	struct h2_conn *hc = h2_state(conn);
	struct pending_req *r;

	if (hc) {
		hc->c = c;
		if (how == PROTO_END_CLOSE)
			streams_closed(hc, ts, false);
	}
	r = req_of_stream(conn, 0);
	if (r)
		req_finish(c, conn, r, ts, TL_NO_ERROR, false);
}

const struct proto_ops h2_ops = {
	.name = "h2",
	.layer = PROTO_APP,
	.detect = h2_detect,
	.on_start = h2_open,
	.on_bytes = h2_bytes,
	.on_socket_end = h2_socket_end,
	.on_gap = h2_gap,
	.on_end = h2_end,
	.on_free = h2_free,
};
