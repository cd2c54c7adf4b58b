/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The protocol interface: what the correlator asks of a protocol, and
 * the registry of protocols it chooses from.
 *
 * A connection has two slots:
 *   conn->wire   the socket's own stream: NULL (plain bytes) or a layer
 *                that carries the application's bytes encrypted (TLS);
 *                chosen from the first bytes moved on the socket.
 *   conn->proto  the application protocol of the plain bytes (from the
 *                socket, or the plaintext of a TLS call). Every
 *                connection starts with http1_ops, which stands for
 *                "HTTP/1.x, or nothing seen yet": it works out the roles,
 *                and offers the first bytes of each side to the
 *                registry (proto_detect()) before it parses them itself.
 *                proto_not_http and proto_tunnel take nothing further.
 *
 * Registering a protocol: a folder src/proto/<name>/ that defines a
 * const struct proto_ops <name>_ops, and one line for it in
 * PROTO_REGISTRY below. Earlier lines are asked first.
 *
 * The contract of each op (NULL: nothing to do). All run on the
 * correlator's thread, with records in time order; they may emit
 * timelines (tl_emit()) and end requests, but must not free the
 * connection.
 *
 *   layer        PROTO_WIRE or PROTO_APP: which slot the protocol fills.
 *   detect       first: the captured first bytes of one side of the
 *                connection (the first socket bytes for PROTO_WIRE);
 *                true claims the connection. Pure: no state is touched.
 *   on_start     the connection was just claimed; ev carries the bytes
 *                that were detected, not yet handed to on_bytes.
 *   on_bytes     a record that moved bytes (ret > 0) on the connection,
 *                in either direction.
 *   on_socket_end a socket record that moved none: ret == 0 (end of
 *                stream, or an empty write) or ret < 0 (an error, which
 *                may be one to retry: io_error_ignored()).
 *   on_gap       records of the connection were lost; the requests open
 *                on it have been ended already.
 *   on_end       the connection closed (PROTO_END_CLOSE: the process
 *                closed it) or its process exited (PROTO_END_EXIT) at
 *                ts; the requests still open are abandoned afterwards.
 *   on_abandon   the connection is forgotten (closed, evicted, its
 *                process gone, the tracer stopping) after its requests
 *                were abandoned: the last word, e.g. a report of what
 *                could not be decoded. end_ns 0: at the last thing seen.
 *   on_free      frees conn->proto_state, which the protocol set (with
 *                conn->proto_state_ops = its ops) and owns; called when
 *                the connection is freed, whatever protocol it has then.
 */
#ifndef HTTPTRACE_PROTO_H
#define HTTPTRACE_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "httptrace_events.h"

struct conn;
struct correlator;

enum proto_layer { PROTO_APP = 0, PROTO_WIRE };
enum proto_end { PROTO_END_CLOSE, PROTO_END_EXIT };

/* The first bytes of one side of a connection. */
struct proto_first {
	const uint8_t *data;
	size_t len;      /* captured; the record may have moved more */
	int side;        /* SIDE_REQ or SIDE_RESP (conn.h); for PROTO_WIRE
			  * the direction, HT_DIR_* */
	bool req_seen;   /* the request side moved bytes before */
};

struct proto_ops {
	const char *name;
	enum proto_layer layer;
	bool (*detect)(const struct proto_first *first);
	void (*on_start)(struct correlator *c, struct conn *conn,
			 const struct ht_data_event *ev);
	void (*on_bytes)(struct correlator *c, struct conn *conn,
			 const struct ht_data_event *ev);
	void (*on_socket_end)(struct correlator *c, struct conn *conn,
			      const struct ht_data_event *ev);
	void (*on_gap)(struct correlator *c, struct conn *conn);
	void (*on_end)(struct correlator *c, struct conn *conn, uint64_t ts,
		       enum proto_end how);
	void (*on_abandon)(struct correlator *c, struct conn *conn,
			   uint64_t end_ns);
	void (*on_free)(struct correlator *c, struct conn *conn);
};

/*
 * The protocols a connection's first bytes are offered to, in this
 * order: X(name) for the const struct proto_ops name_ops that the
 * folder src/proto/<name>/ defines (tls: proto/tls/tls_handshake.c,
 * h2: proto/http2/h2_stitch.c). A new protocol is its folder and one line
 * here.
 */
#define PROTO_REGISTRY(X) \
	X(tls)            \
	X(h2)

#define PROTO_DECLARE(name) extern const struct proto_ops name##_ops;
PROTO_REGISTRY(PROTO_DECLARE)
#undef PROTO_DECLARE

/* The stand-in every connection starts with (proto/http1/http1_stitch.c). */
extern const struct proto_ops http1_ops;
/* Connections whose bytes are no protocol of ours: not HTTP from the
 * start, or a tunnel after CONNECT or 101. */
extern const struct proto_ops proto_not_http;
extern const struct proto_ops proto_tunnel;

/* The first registered protocol of `layer` that claims `first`, or
 * NULL. */
const struct proto_ops *proto_detect(enum proto_layer layer,
				     const struct proto_first *first);

/* For the protocol that stands in until another claims the connection
 * (http1_ops): the first bytes of `side` (in ev) are offered to the
 * registry, once per side, unless records were lost or HTTP/1 was seen.
 * True when a protocol claimed the connection (its on_start ran). */
bool proto_offer_first(struct correlator *c, struct conn *conn, int side,
		       const struct ht_data_event *ev);

/* Each op called through the connection's slots, NULL ops skipped. */
void proto_bytes(struct correlator *c, struct conn *conn,
		 const struct ht_data_event *ev);
void proto_socket_record(struct correlator *c, struct conn *conn,
			 const struct ht_data_event *ev);
void proto_gap(struct correlator *c, struct conn *conn);
void proto_end(struct correlator *c, struct conn *conn, uint64_t ts,
	       enum proto_end how);
void proto_abandon(struct correlator *c, struct conn *conn, uint64_t end_ns);
/* conn->proto_state freed by its owner, if any. */
void proto_free_state(struct correlator *c, struct conn *conn);

#endif /* HTTPTRACE_PROTO_H */
