/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Timelines built from the correlator's state (pipeline/conn.h) into
 * c->tl, the one the sink gets: a request's, and those of a connection
 * or a lookup that failed without one. Every builder starts from a reset
 * timeline; the caller hands it on with tl_emit().
 */
#ifndef HTTPTRACE_TIMELINE_BUILD_H
#define HTTPTRACE_TIMELINE_BUILD_H

#include "pipeline/conn.h"
#include "timeline/timeline.h"

/* An event slot taken and cleared, or NULL when all are taken. */
struct tl_event *tl_add(struct timeline *tl, enum tl_hook hook,
			uint64_t ts_ns);
/* Events in time order (stable: same-time events keep hook order). */
void tl_sort(struct timeline *tl);
/* c->tl to the sink, counted in the stats. */
void tl_emit(struct correlator *c);

/* Request r of conn, ended at end_ns; error: why it failed,
 * TL_NO_ERROR when it did not (r's incomplete_reason then says why it
 * is incomplete, if it is); put_idle: the connection went back to the
 * pool. */
void tl_build_request(struct correlator *c, const struct conn *conn,
		      const struct pending_req *r, uint64_t end_ns,
		      struct tl_error error, bool put_idle);
/*
 * The shared start of the timeline of a connection that ended without
 * a request (a failed connect or TLS handshake, TLS not decoded): the
 * connection's fields, tid, its comm, start and end; the tls object
 * when `tls`; GetConn naming host (NULL: the SNI of the tls object),
 * then a client's lookup and connect, their phases in spans. The caller
 * adds what failed, sorts, sets the phases and the error.
 */
void tl_begin_conn_failed(struct timeline *tl, const struct conn *conn,
			  struct tl_spans *spans, uint32_t tid,
			  uint64_t start_ns, uint64_t end_ns, bool tls,
			  const char *host, size_t host_max);
/* conn's connect failed (connect_done_ns, connect_err); tid: the thread
 * that learned it. */
void tl_build_connect_failed(struct timeline *tl, const struct conn *conn,
			     uint32_t tid);
/* A lookup that failed. */
void tl_build_dns_failed(struct timeline *tl, const struct ht_dns_event *ev);

/* A failed read (direction HT_DIR_INGRESS) or write, ret its -errno:
 * its kind, and its words in Go's ("read: connection reset by peer")
 * written to buf. */
struct tl_error tl_io_error(char *buf, size_t size, int direction,
			    int64_t ret);

#endif /* HTTPTRACE_TIMELINE_BUILD_H */
