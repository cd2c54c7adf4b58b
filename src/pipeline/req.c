// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The requests in flight on a connection, oldest first: allocated (with
 * spares kept for reuse), queued, and finished into a timeline. */
#include <stdlib.h>
#include <string.h>

#include "pipeline/conn.h"
#include "util/reset.h"
#include "proto/tls/tls_handshake.h"
#include "timeline/timeline_build.h"

struct pending_req *req_alloc(struct correlator *c)
{
	/* "" needs one NUL */
	static const struct reset_keep keep[] = {
		RESET_KEEP(struct pending_req, grpc_message),
		RESET_KEEP(struct pending_req, method),
		RESET_KEEP(struct pending_req, target),
		RESET_KEEP(struct pending_req, host),
	};
	struct pending_req *r = list_first_entry(&c->spare_reqs,
						 struct pending_req, link);

	if (r) {
		list_del(&r->link);
		c->n_spare_reqs--;
	} else {
		r = malloc(sizeof(*r));
		if (!r)
			return NULL;
		held(c, sizeof(*r));
	}
	reset_except(r, sizeof(*r), keep, RESET_N(keep));
	r->method[0] = r->target[0] = r->host[0] = '\0';
	r->grpc_message[0] = '\0';
	r->grpc_status = -1;
	r->version_minor = -1;
	r->idle_us = -1;
	return r;
}

void req_free(struct correlator *c, struct pending_req *r)
{
	if (c->n_spare_reqs >= SPARE_REQS) {
		free(r);
		released(c, sizeof(*r));
		return;
	}
	list_add_head(&c->spare_reqs, &r->link);
	c->n_spare_reqs++;
}

void req_unlink(struct conn *conn, struct pending_req *r)
{
	list_del(&r->link);
	conn->n_pending--;
	if (conn->writing == r)
		conn->writing = NULL;
}

/* the newest of the connection's pending requests */
void req_append(struct conn *conn, struct pending_req *r)
{
	list_add_tail(&conn->reqs, &r->link);
	conn->n_pending++;
}

void req_mark_incomplete(struct pending_req *r, struct tl_error reason)
{
	if (!r->incomplete) {
		r->incomplete = true;
		r->incomplete_reason = reason;
	}
}

uint64_t req_last_seen(const struct pending_req *r)
{
	uint64_t t = r->start_ns;

	t = max_u64(t, r->wrote_headers_ns);
	t = max_u64(t, r->wrote_request_ns);
	t = max_u64(t, r->first_byte_ns);
	return max_u64(t, r->resp_last_ns);
}

/* HTTP/1 requests are finished oldest first: responses come in order. */
void req_finish_head(struct correlator *c, struct conn *conn,
		     uint64_t end_ns, struct tl_error error, bool put_idle)
{
	struct pending_req *r = req_head(conn);

	if (r)
		req_finish(c, conn, r, end_ns, error, put_idle);
}

/* HTTP/2 streams end in any order. */
void req_finish(struct correlator *c, struct conn *conn,
		struct pending_req *r, uint64_t end_ns, struct tl_error error,
		bool put_idle)
{
	req_unlink(conn, r);
	if (r->first_on_conn)
		dns_bind_deferred(c, conn, r);
	tl_build_request(c, conn, r, end_ns, error, put_idle);
	tl_emit(c);
	req_free(c, r);
}

void req_set_start(const struct conn *conn, struct pending_req *r,
		   bool first, uint64_t enter_ns, uint64_t ts_ns)
{
	if (conn->role == HT_ROLE_SERVER) {
		/* A server's request begins with its first byte read; the
		 * accept may lie long before (an idle client), and GotConn
		 * before GetConn would read backwards. */
		r->start_ns = ts_ns;
		r->io_first_ns = ts_ns;
		r->got_conn_ns = r->start_ns;
		return;
	}
	r->io_first_ns = enter_ns;
	r->start_ns = enter_ns;
	r->got_conn_ns = enter_ns;
	if (!first)
		return;
	if (conn->has_dns)
		r->start_ns = conn->dns.enter_ns;
	else if (conn->connect_start_ns)
		r->start_ns = conn->connect_start_ns;
	if (conn->connect_done_seen)
		r->got_conn_ns = conn->connect_done_ns;
	if (conn->tls && conn->tls->hs == HS_OK &&
	    conn->tls->hs_done_ns <= enter_ns)
		r->got_conn_ns = max_u64(r->got_conn_ns, conn->tls->hs_done_ns);
	/* the handshake ended inside the call that carries these bytes
	 * (see tls_derive_handshake): the request goes out after it, so
	 * its send phase starts there too */
	if (conn->tls && conn->tls->hs == HS_OK &&
	    conn->tls->hs_done_ns > enter_ns && conn->tls->hs_done_ns <= ts_ns) {
		r->got_conn_ns = max_u64(r->got_conn_ns, conn->tls->hs_done_ns);
		r->io_first_ns = conn->tls->hs_done_ns;
	}
}

/* Every pending request ends here, incomplete. end_ns 0: at the last
 * thing seen of each. */
void req_abandon_all(struct correlator *c, struct conn *conn,
		     uint64_t end_ns, struct tl_error error)
{
	struct pending_req *r;

	while ((r = req_head(conn))) {
		req_mark_incomplete(r, error);
		req_finish_head(c, conn, end_ns ? end_ns : req_last_seen(r),
				error, false);
	}
	conn->skip_responses = 0;
}

/* Forgets requests that turned out not to be HTTP: no timeline. */
void req_drop_all(struct correlator *c, struct conn *conn)
{
	while (req_head(conn)) {
		struct pending_req *r = req_head(conn);

		req_unlink(conn, r);
		req_free(c, r);
	}
}

/* Every request still open fails with `error`, which says what happened:
 * complete unless records were lost. */
void req_fail_all(struct correlator *c, struct conn *conn,
		  uint64_t end_ns, struct tl_error error)
{
	while (req_head(conn))
		req_finish_head(c, conn, end_ns, error, false);
	conn->skip_responses = 0;
}
