// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The registry of protocols and the calls through a connection's slots;
 * see proto.h. */
#include "proto/proto.h"
#include "pipeline/conn.h"

#define PROTO_ENTRY(name) &name##_ops,
/* PROTO_REGISTRY (proto.h) as a table. */
static const struct proto_ops *const proto_registry[] = {
	PROTO_REGISTRY(PROTO_ENTRY)
};
#undef PROTO_ENTRY

const struct proto_ops proto_not_http = { .name = "not-http" };
const struct proto_ops proto_tunnel = { .name = "tunnel" };

const struct proto_ops *proto_detect(enum proto_layer layer,
				     const struct proto_first *first)
{
	size_t i;

	for (i = 0; i < sizeof(proto_registry) / sizeof(proto_registry[0]);
	     i++) {
		const struct proto_ops *ops = proto_registry[i];

		if (ops->layer == layer && ops->detect && ops->detect(first))
			return ops;
	}
	return NULL;
}

bool proto_offer_first(struct correlator *c, struct conn *conn, int side,
		       const struct ht_data_event *ev)
{
	struct proto_first first = {
		.data = ev->data, .len = ev->captured_len, .side = side,
		.req_seen = conn->saw_req_bytes,
	};
	bool is_first = side == SIDE_REQ ? !conn->saw_req_bytes :
					   !conn->saw_resp_bytes;
	const struct proto_ops *ops;

	if (side == SIDE_REQ)
		conn->saw_req_bytes = true;
	else
		conn->saw_resp_bytes = true;
	if (!is_first || conn->taint || conn->saw_http)
		return false;
	ops = proto_detect(PROTO_APP, &first);
	if (!ops)
		return false;
	ops->on_start(c, conn, ev);
	return true;
}

void proto_bytes(struct correlator *c, struct conn *conn,
		 const struct ht_data_event *ev)
{
	if (conn->proto->on_bytes)
		conn->proto->on_bytes(c, conn, ev);
}

/* A socket record: the wire layer, if any, takes the bytes; the end of
 * the stream or an error goes to both. */
void proto_socket_record(struct correlator *c, struct conn *conn,
			 const struct ht_data_event *ev)
{
	if (ev->ret > 0 && !conn->saw_bytes) {
		conn->saw_bytes = true;
		/* the first bytes on the socket tell its layer; not after
		 * lost records (joined mid-stream) or once the application
		 * protocol is known */
		if (conn->proto == &http1_ops && !conn->taint && !conn->wire) {
			struct proto_first first = {
				.data = ev->data, .len = ev->captured_len,
				.side = ev->direction,
			};
			const struct proto_ops *ops =
				proto_detect(PROTO_WIRE, &first);

			if (ops && ops->on_start)
				ops->on_start(c, conn, ev);
		}
	}
	if (conn->wire) {
		if (ev->ret > 0) {
			conn->wire->on_bytes(c, conn, ev);
			return;
		}
		if (conn->wire->on_socket_end)
			conn->wire->on_socket_end(c, conn, ev);
	}
	if (ev->ret > 0)
		proto_bytes(c, conn, ev);
	else if (conn->proto->on_socket_end)
		conn->proto->on_socket_end(c, conn, ev);
}

void proto_gap(struct correlator *c, struct conn *conn)
{
	if (conn->wire && conn->wire->on_gap)
		conn->wire->on_gap(c, conn);
	if (conn->proto->on_gap)
		conn->proto->on_gap(c, conn);
}

void proto_end(struct correlator *c, struct conn *conn, uint64_t ts,
	       enum proto_end how)
{
	if (conn->wire && conn->wire->on_end)
		conn->wire->on_end(c, conn, ts, how);
	if (conn->proto->on_end)
		conn->proto->on_end(c, conn, ts, how);
}

void proto_abandon(struct correlator *c, struct conn *conn, uint64_t end_ns)
{
	if (conn->wire && conn->wire->on_abandon)
		conn->wire->on_abandon(c, conn, end_ns);
	if (conn->proto->on_abandon)
		conn->proto->on_abandon(c, conn, end_ns);
}

void proto_free_state(struct correlator *c, struct conn *conn)
{
	if (conn->proto_state && conn->proto_state_ops &&
	    conn->proto_state_ops->on_free)
		conn->proto_state_ops->on_free(c, conn);
	conn->proto_state = NULL;
	conn->proto_state_ops = NULL;
}
