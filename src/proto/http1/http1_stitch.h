/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * HTTP/1.x requests paired with their responses over the two parsers
 * (request side, response side) of a connection. Its ops: http1_ops
 * (proto/proto.h), every connection's protocol until another claims it.
 */
#ifndef HTTPTRACE_HTTP1_STITCH_H
#define HTTPTRACE_HTTP1_STITCH_H

#include "pipeline/conn.h"

/* The bytes begin a request line (H1_REQUEST) or a status line. */
bool http1_starts_message(enum h1_kind kind, const uint8_t *data, size_t len);
/* A request opened by the record ev that carries its first bytes, its
 * start times taken from what the connection began with (lookup,
 * connect, handshake) when it is the first. NULL without memory. */
struct pending_req *http1_open_request(struct correlator *c,
				       struct conn *conn,
				       const struct ht_data_event *ev);
/* The connection's role, known from connect or accept: the parsers
 * start over for their sides. */
void http1_set_role(struct conn *conn, enum ht_role role);

#endif /* HTTPTRACE_HTTP1_STITCH_H */
