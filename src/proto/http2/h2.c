// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * HTTP/2 is recognised, not decoded (yet): the connection is one
 * timeline, opened by its first bytes and finished when it closes, with
 * the bytes each side sent and how long it lasted. Either side may show
 * it first: the client's preface, or the SETTINGS frame a server writes
 * as soon as it accepts, before it has read the preface (nginx, gRPC).
 */
#include <stdio.h>
#include <string.h>

#include "proto/http2/h2.h"
#include "httptrace_first_bytes.h"
#include "proto/http1/http1_stitch.h"
#include "proto/proto.h"
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

/* The client's preface, or a server's SETTINGS before any request
 * byte. */
static bool h2_detect(const struct proto_first *first)
{
	if (first->side == SIDE_REQ)
		return h2_is_preface(first->data, first->len);
	return !first->req_seen &&
	       ht_h2_settings_frame(first->data, first->len);
}

static void h2_bytes(struct correlator *c, struct conn *conn,
		     const struct ht_data_event *ev)
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

static void h2_open(struct correlator *c, struct conn *conn,
		    const struct ht_data_event *ev)
{
	struct pending_req *r = http1_open_request(c, conn, ev);

	conn->proto = &h2_ops;
	conn->writing = NULL;
	if (!r)
		return;
	r->h2 = true;
	/* a server that speaks first: its connection starts with that
	 * write, as a client's request starts with its first */
	if (conn->role == HT_ROLE_SERVER && ev->direction == HT_DIR_EGRESS)
		r->start_ns = r->io_first_ns = r->got_conn_ns =
			call_entry(ev->enter_ns, ev->hdr.ts_ns);
	h2_bytes(c, conn, ev);
}

/* The connection ended (closed, or its process exited): its timeline
 * is complete unless records were lost. */
static void h2_end(struct correlator *c, struct conn *conn, uint64_t ts,
		   enum proto_end how)
{
	while (req_head(conn))
		req_finish_head(c, conn, ts, TL_NO_ERROR, false);
}

/* A failed read or write ends it. */
static void h2_socket_end(struct correlator *c, struct conn *conn,
			  const struct ht_data_event *ev)
{
	char error[TL_ERROR_MAX];

	if (ev->ret == 0 || io_error_ignored(ev->ret) || !req_head(conn))
		return;
	req_fail_all(c, conn, ev->hdr.ts_ns,
		     tl_io_error(error, sizeof(error), ev->direction, ev->ret));
}

const struct proto_ops h2_ops = {
	.name = "h2",
	.layer = PROTO_APP,
	.detect = h2_detect,
	.on_start = h2_open,
	.on_bytes = h2_bytes,
	.on_socket_end = h2_socket_end,
	.on_end = h2_end,
};
