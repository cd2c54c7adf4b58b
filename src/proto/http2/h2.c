// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)

#include <stdio.h>
#include <string.h>

#include "proto/http2/h2.h"
#include "httptrace_first_bytes.h"
#include "proto/http1/http1_stitch.h"
#include "timeline/timeline_build.h"

#define H2_PREFACE_LEN 24
#define H2_PREFACE_MIN 14 /* "PRI * HTTP/2.0" alone is unmistakable */

static const char h2_preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

bool h2_is_preface(const uint8_t *data, size_t len)
{
	if (len < H2_PREFACE_MIN)
		return false;
	return memcmp(data, h2_preface,
		      len < H2_PREFACE_LEN ? len : H2_PREFACE_LEN) == 0;
}

/*
 * HTTP/2 is recognised, not decoded (yet): the connection is one
 * timeline, opened by its first bytes and finished when it closes, with
 * the bytes each side sent and how long it lasted. Either side may show
 * it first: the client's preface, or the SETTINGS frame a server writes
 * as soon as it accepts, before it has read the preface (nginx, gRPC).
 * `side`'s first bytes are in ev; the flags say what came before.
 */
bool h2_first_bytes(struct conn *conn, int side,
			   const struct ht_data_event *ev)
{
	bool req_before = conn->saw_req_bytes;
	bool first = side == SIDE_REQ ? !conn->saw_req_bytes :
					!conn->saw_resp_bytes;

	if (side == SIDE_REQ)
		conn->saw_req_bytes = true;
	else
		conn->saw_resp_bytes = true;
	if (!first || conn->taint || conn->saw_http)
		return false;
	if (side == SIDE_REQ)
		return h2_is_preface(ev->data, ev->captured_len);
	return !req_before &&
	       ht_h2_settings_frame(ev->data, ev->captured_len);
}

void h2_bytes(struct conn *conn, const struct ht_data_event *ev)
{
	struct pending_req *r = req_head(conn);

	if (!r || !r->h2 || ev->ret <= 0)
		return;
	if (side_of(conn, ev->direction) == SIDE_REQ)
		r->request_bytes += (uint64_t)ev->ret;
	else
		r->response_bytes += (uint64_t)ev->ret;
	r->resp_last_ns = ev->hdr.ts_ns; /* the last thing seen of it */
}

void h2_open(struct correlator *c, struct conn *conn,
		    const struct ht_data_event *ev)
{
	struct pending_req *r = http1_open_request(c, conn, ev);

	conn->proto = PROTO_H2;
	conn->writing = NULL;
	if (!r)
		return;
	r->h2 = true;
	/* a server that speaks first: its connection starts with that
	 * write, as a client's request starts with its first */
	if (conn->role == HT_ROLE_SERVER && ev->direction == HT_DIR_EGRESS)
		r->start_ns = r->io_first_ns = r->got_conn_ns =
			call_entry(ev->enter_ns, ev->hdr.ts_ns);
	h2_bytes(conn, ev);
}

/* The connection ended (closed, or its process exited): its timeline
 * is complete unless records were lost. */
void h2_conn_over(struct correlator *c, struct conn *conn,
			 uint64_t ts)
{
	if (conn->proto == PROTO_H2)
		while (req_head(conn))
			req_finish_head(c, conn, ts, NULL, false);
}

/* A socket record of an HTTP/2 connection (ciphertext aside, which
 * handle_data keeps): bytes counted, a failed read or write ends it. */
void h2_socket_record(struct correlator *c, struct conn *conn,
			     const struct ht_data_event *ev)
{
	char error[TL_ERROR_MAX];

	if (ev->ret > 0) {
		h2_bytes(conn, ev);
		return;
	}
	if (ev->ret == 0 || io_error_ignored(ev->ret) || !req_head(conn))
		return;
	tl_io_error(error, sizeof(error), ev->direction, ev->ret);
	req_fail_all(c, conn, ev->hdr.ts_ns, error);
}
