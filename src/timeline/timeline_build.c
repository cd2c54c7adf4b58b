// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Timelines from the correlator's state: the event slots, the fields, and
 * the builders, a request's and those of a connection that failed. */
#include <stdio.h>
#include <string.h>

#include "timeline/timeline_build.h"
#include "util/reset.h"
#include "proto/tls/tls_handshake.h"

/* errno words in Go's style: "connection reset by peer". */
static const char *tl_errno_words(enum tl_hook hook, int32_t err, char *buf,
				  size_t size)
{
	tl_err_words(hook, err, buf, size);
	if (buf[0] >= 'A' && buf[0] <= 'Z' &&
	    !(buf[1] >= 'A' && buf[1] <= 'Z'))
		buf[0] = (char)(buf[0] - 'A' + 'a');
	return buf;
}

/* The peer a connect record reported, or the best known if it had none. */
static const struct ht_addr *connect_peer(const struct conn *conn,
					  const struct ht_addr *seen)
{
	return addr_is_set(seen) ? seen : &conn->daddr;
}

/* Clears the TLS fields: the flags, and the first byte of each string,
 * which is all "" needs. */
static void tl_tls_reset(struct tl_tls *t)
{
	static const struct reset_keep keep[] = {
		RESET_KEEP(struct tl_tls, lib),
		RESET_KEEP(struct tl_tls, version),
		RESET_KEEP(struct tl_tls, cipher),
		RESET_KEEP(struct tl_tls, sni),
		RESET_KEEP(struct tl_tls, alpn),
		RESET_KEEP(struct tl_tls, alpn_offered),
		RESET_KEEP(struct tl_tls, error),
	};

	reset_except(t, sizeof(*t), keep, RESET_N(keep));
	t->lib[0] = t->version[0] = t->cipher[0] = '\0';
	t->sni[0] = t->alpn[0] = t->alpn_offered[0] = t->error[0] = '\0';
}

/*
 * Clears all but the event and step slots, which the counts say are
 * empty (tl_add() clears a slot when it takes it), and the strings
 * beyond their first byte: slots and strings are most of the struct,
 * most timelines use a few slots, and "" needs one NUL (clearing the
 * strings whole was 1% of the instructions in the replay bench).
 */
static void tl_reset(struct timeline *tl)
{
	static const struct reset_keep keep[] = {
		RESET_KEEP(struct timeline, method),
		RESET_KEEP(struct timeline, target),
		RESET_KEEP(struct timeline, host),
		RESET_KEEP(struct timeline, tls),
		RESET_KEEP(struct timeline, grpc_message),
		RESET_KEEP(struct timeline, events),
		RESET_KEEP(struct timeline, error),
		RESET_KEEP(struct timeline, steps),
	};
	int i;

	reset_except(tl, sizeof(*tl), keep, RESET_N(keep));
	tl->method[0] = tl->target[0] = tl->host[0] = '\0';
	tl_tls_reset(&tl->tls);
	tl->error[0] = '\0';
	tl->grpc_message[0] = '\0';
	tl->grpc_status = -1;
	for (i = 0; i < TL_PHASE_COUNT; i++)
		tl->phase_us[i] = -1;
	tl->idle_us = -1;
}

struct tl_event *tl_add(struct timeline *tl, enum tl_hook hook,
			uint64_t ts_ns)
{
	/* Not the address slots, the host and the service, most of the
	 * event and seldom used: n_addrs = 0 and "" say that they hold
	 * nothing. */
	static const struct reset_keep keep[] = {
		RESET_KEEP(struct tl_event, addrs),
		RESET_KEEP(struct tl_event, host),
		RESET_KEEP(struct tl_event, service),
	};
	struct tl_event *e;

	if (tl->n_events >= TL_MAX_EVENTS)
		return NULL;
	e = &tl->events[tl->n_events++];
	reset_except(e, sizeof(*e), keep, RESET_N(keep));
	e->host[0] = '\0';
	e->service[0] = '\0';
	e->hook = hook;
	e->ts_ns = ts_ns;
	return e;
}

static void tl_add_addr(struct timeline *tl, enum tl_hook hook,
			uint64_t ts_ns, const struct ht_addr *addr, int32_t err)
{
	struct tl_event *e = tl_add(tl, hook, ts_ns);

	if (!e)
		return;
	e->err = err;
	if (addr->family) {
		e->addrs[0] = *addr;
		e->n_addrs = 1;
	}
}

static void tl_add_dns(struct timeline *tl, const struct dns_result *dns,
		       int32_t err)
{
	struct tl_event *e;

	e = tl_add(tl, TL_DNSStart, dns->enter_ns);
	if (e) {
		copy_bounded(e->host, sizeof(e->host), dns->host,
			     sizeof(dns->host));
		copy_bounded(e->service, sizeof(e->service), dns->service,
			     sizeof(dns->service));
	}
	e = tl_add(tl, TL_DNSDone, dns->done_ns);
	if (e) {
		e->err = err;
		e->n_addrs = dns->n_addrs;
		memcpy(e->addrs, dns->addrs, sizeof(e->addrs));
	}
}

/*
 * The lookup and the connect a connection began with, as hooks and
 * phase spans: the shared start of a request's timeline and of those
 * built when a connection ends without one (a failed handshake, TLS
 * not decoded).
 */
static void tl_add_conn_start(struct timeline *tl, const struct conn *conn,
			      struct tl_spans *spans, bool dns, bool connect)
{
	if (dns && conn->has_dns) {
		tl_add_dns(tl, &conn->dns, 0);
		tl_span_add(spans, TL_PHASE_DNS, conn->dns.enter_ns,
			    conn->dns.done_ns);
	}
	if (!connect)
		return;
	if (conn->connect_start_ns)
		tl_add_addr(tl, TL_ConnectStart, conn->connect_start_ns,
			    connect_peer(conn, &conn->connect_start_peer), 0);
	if (conn->connect_done_seen)
		tl_add_addr(tl, TL_ConnectDone, conn->connect_done_ns,
			    connect_peer(conn, &conn->connect_done_peer),
			    conn->connect_err);
	if (conn->connect_start_ns && conn->connect_done_seen)
		tl_span_add(spans, TL_PHASE_CONNECT, conn->connect_start_ns,
			    conn->connect_done_ns);
}

/* Events are added in hook order; a stable sort by time keeps that order
 * for events of the same record. */
void tl_sort(struct timeline *tl)
{
	uint32_t i, j;

	for (i = 1; i < tl->n_events; i++) {
		struct tl_event e;

		if (tl->events[i - 1].ts_ns <= tl->events[i].ts_ns)
			continue; /* the usual case: already in place */
		e = tl->events[i];

		for (j = i; j > 0 && tl->events[j - 1].ts_ns > e.ts_ns; j--)
			tl->events[j] = tl->events[j - 1];
		tl->events[j] = e;
	}
}

static void tl_conn_fields(struct timeline *tl, const struct conn *conn)
{
	tl->pid = conn->id.tgid;
	tl->container = conn->container;
	tl->role = conn->role;
	tl->conn_id = conn->id;
	tl->saddr = conn->saddr;
	tl->daddr = conn->daddr;
}

void tl_emit(struct correlator *c)
{
	if (c->tl.tls.not_decoded) {
		c->stats.tls_not_decoded++;
	} else {
		c->stats.requests++;
		if (!c->tl.complete)
			c->stats.incomplete++;
	}
	if (c->sink)
		c->sink(c->user, &c->tl);
}

static const char *tls_lib_name(uint8_t lib)
{
	switch (lib) {
	case HT_TLS_OPENSSL: return "openssl";
	case HT_TLS_GNUTLS: return "gnutls";
	case HT_TLS_GO: return "go";
	}
	return "";
}

/* The tls object: what the hellos on the wire said. r may be NULL. */
static void tl_tls_fields(struct timeline *tl, const struct conn *conn,
			  const struct pending_req *r)
{
	const struct tls_hello *ch = NULL, *sh = NULL;
	struct tl_tls *t = &tl->tls;
	char buf[16];
	int d;

	if (!conn->tls)
		return;
	t->seen = true;
	snprintf(t->lib, sizeof(t->lib), "%s", tls_lib_name(conn->tls->lib));
	for (d = 0; d < 2; d++) {
		const struct tls_hello *h = &conn->tls->stream[d].hello;

		if (h->client_hello && !ch)
			ch = h;
		if (h->server_hello && !sh)
			sh = h;
	}
	if (ch) {
		snprintf(t->sni, sizeof(t->sni), "%s", ch->sni);
		snprintf(t->alpn_offered, sizeof(t->alpn_offered), "%s",
			 ch->alpn);
	}
	if (sh) {
		snprintf(t->version, sizeof(t->version), "%s",
			 tls_version_name(sh->version, buf, sizeof(buf)));
		snprintf(t->cipher, sizeof(t->cipher), "%s",
			 tls_cipher_name(sh->cipher, buf, sizeof(buf)));
		snprintf(t->alpn, sizeof(t->alpn), "%s", sh->alpn);
	}
	/* TLS 1.3 encrypts the server's ALPN choice. HTTP/2 over TLS is
	 * only spoken once ALPN agreed on h2, so the plaintext says it (an
	 * inference, and shown as one); HTTP/1.1 is what a client speaks
	 * when the server chose nothing, too (curl: "server did not agree
	 * on a protocol"), so it says nothing about the choice. */
	if (!t->alpn[0] && ch && r && r->h2 &&
	    tls_alpn_offered(ch->alpn, "h2")) {
		snprintf(t->alpn, sizeof(t->alpn), "h2");
		t->alpn_inferred = true;
	}
}

/* The start of every timeline of a connection: the connection, who and
 * when. */
static void tl_begin(struct timeline *tl, const struct conn *conn,
		     uint32_t tid, const char comm[HT_COMM_LEN],
		     uint64_t start_ns, uint64_t end_ns)
{
	tl_reset(tl);
	tl_conn_fields(tl, conn);
	tl->tid = tid;
	memcpy(tl->comm, comm, sizeof(tl->comm));
	tl->start_ns = start_ns;
	tl->end_ns = end_ns;
}

/* GetConn at the start, naming host, then the lookup and the connect
 * the connection began with (tl_add_conn_start()). */
static void tl_add_get_conn(struct timeline *tl, const struct conn *conn,
			    struct tl_spans *spans, const char *host,
			    size_t host_max, bool dns, bool connect)
{
	struct tl_event *e = tl_add(tl, TL_GetConn, tl->start_ns);

	if (e)
		copy_bounded(e->host, sizeof(e->host), host, host_max);
	tl_add_conn_start(tl, conn, spans, dns, connect);
}

/*
 * The shared start of the timeline of a connection that ended without a
 * request: its connect failed (tl_build_connect_failed()), its TLS
 * handshake failed, or its TLS was not decoded (tls_handshake.c). The
 * tls object when `tls`; GetConn names host (NULL: the SNI of the tls
 * object); a client's lookup and connect follow. The caller adds what
 * failed, the phases and the error.
 */
void tl_begin_conn_failed(struct timeline *tl, const struct conn *conn,
			  struct tl_spans *spans, uint32_t tid,
			  uint64_t start_ns, uint64_t end_ns, bool tls,
			  const char *host, size_t host_max)
{
	bool client = conn->role == HT_ROLE_CLIENT;

	tl_begin(tl, conn, tid, conn->comm, start_ns, end_ns);
	if (tls)
		tl_tls_fields(tl, conn, NULL);
	if (!host) {
		host = tl->tls.sni;
		host_max = sizeof(tl->tls.sni);
	}
	tl_add_get_conn(tl, conn, spans, host, host_max, client, client);
}

/* A connect that failed: a timeline of its own, from the lookup it used
 * to ConnectDone. tid: the thread that learned the outcome. */
void tl_build_connect_failed(struct timeline *tl, const struct conn *conn,
			     uint32_t tid)
{
	char words[TL_ERR_WORDS_LEN], peer[TL_ADDR_PORT_STRLEN];
	uint64_t ts = conn->connect_done_ns;
	uint64_t start = conn->connect_start_ns ? conn->connect_start_ns : ts;
	struct tl_spans spans = { .n = 0 };

	if (conn->has_dns)
		start = conn->dns.enter_ns;
	tl_begin_conn_failed(tl, conn, &spans, tid, start, max_u64(ts, start),
			     false, conn->has_dns ? conn->dns.host : "",
			     sizeof(conn->dns.host));
	tl_sort(tl);
	tl_set_phases(tl, &spans);
	tl_addr_port_str(&conn->daddr, peer, sizeof(peer));
	snprintf(tl->error, sizeof(tl->error), "connect %s: %s", peer,
		 tl_errno_words(TL_ConnectDone, conn->connect_err, words,
				sizeof(words)));
	tl->error_kind = tl_error_kind_errno(TL_ConnectDone, conn->connect_err);
	tl->complete = !conn->taint;
}

void tl_build_request(struct correlator *c, const struct conn *conn,
		      const struct pending_req *r, uint64_t end_ns,
		      struct tl_error error, bool put_idle)
{
	struct timeline *tl = &c->tl;
	bool client = conn->role == HT_ROLE_CLIENT;
	bool first = r->first_on_conn;
	struct tl_spans spans = { .n = 0 };
	bool resp = !r->resp_unsure;
	const char *host = "";
	size_t host_max = 1;
	struct tl_event *e;
	uint32_t i;

	if (!resp) {
		/* the response seen may be another request's: the timeline
		 * ends with the request */
		end_ns = max_u64(r->wrote_request_ns, r->req_last_ns);
		put_idle = false;
	}
	end_ns = max_u64(end_ns, r->start_ns);
	tl_begin(tl, conn, r->tid, r->comm, r->start_ns, end_ns);
	tl->reused = r->reused;
	tl->idle_us = r->idle_us;
	_Static_assert(sizeof(tl->method) == sizeof(r->method) &&
			       sizeof(tl->target) == sizeof(r->target) &&
			       sizeof(tl->host) == sizeof(r->host),
		       "the request's strings are copied whole");
	memcpy(tl->method, r->method, sizeof(tl->method));
	memcpy(tl->target, r->target, sizeof(tl->target));
	tl->target_truncated = r->target_truncated;
	memcpy(tl->host, r->host, sizeof(tl->host));
	if (r->h2)
		strcpy(tl->version, "HTTP/2");
	else if (r->version_minor == 0)
		strcpy(tl->version, "HTTP/1.0");
	else if (r->version_minor == 1)
		strcpy(tl->version, "HTTP/1.1");
	tl->status = resp ? r->status : 0;
	tl->stream_id = r->stream_id;
	if (r->grpc && resp) {
		tl->grpc = true;
		tl->grpc_status = r->grpc_status;
		tl->grpc_message_seen = r->grpc_message_seen;
		_Static_assert(sizeof(tl->grpc_message) ==
				       sizeof(r->grpc_message),
			       "the gRPC message is copied whole");
		memcpy(tl->grpc_message, r->grpc_message,
		       sizeof(tl->grpc_message));
	}
	tl->request_bytes = r->request_bytes;
	tl->response_bytes = resp ? r->response_bytes : 0;

	tl_tls_fields(tl, conn, r);
	if (r->host[0]) {
		host = r->host;
		host_max = sizeof(r->host);
	} else if (first && conn->has_dns) {
		host = conn->dns.host;
		host_max = sizeof(conn->dns.host);
	}
	tl_add_get_conn(tl, conn, &spans, host, host_max, first,
			first && client);
	if (first && client && conn->tls && conn->tls->hs_start_ns) {
		tl_add(tl, TL_TLSHandshakeStart, conn->tls->hs_start_ns);
		if (conn->tls->hs == HS_OK && !conn->tls->hs_done_unknown) {
			tl_add(tl, TL_TLSHandshakeDone, conn->tls->hs_done_ns);
			tl_span_add(&spans, TL_PHASE_TLS, tls_phase_start(conn),
				    conn->tls->hs_done_ns);
		}
	}
	tl_add(tl, TL_GotConn, r->got_conn_ns);
	if (r->wrote_headers_ns)
		tl_add(tl, TL_WroteHeaders, r->wrote_headers_ns);
	if (r->wait100_ns)
		tl_add(tl, TL_Wait100Continue, r->wait100_ns);
	if (r->wrote_request_ns)
		tl_add(tl, TL_WroteRequest, r->wrote_request_ns);
	if (r->first_byte_ns && resp)
		tl_add(tl, TL_GotFirstResponseByte, r->first_byte_ns);
	for (i = 0; i < r->n_info && resp; i++) {
		/* Go calls Got100Continue, then Got1xxResponse for it too. */
		if (r->info[i].status == 100)
			tl_add(tl, TL_Got100Continue, r->info[i].ts_ns);
		e = tl_add(tl, TL_Got1xxResponse, r->info[i].ts_ns);
		if (e)
			e->status = r->info[i].status;
	}
	if (put_idle)
		tl_add(tl, TL_PutIdleConn, end_ns);
	tl_sort(tl);

	if (r->wrote_request_ns)
		tl_span_add(&spans, TL_PHASE_SEND, r->io_first_ns,
			    r->wrote_request_ns);
	else if (r->io_first_ns && r->req_last_ns)
		/* the request was cut short: sent as far as it got */
		tl_span_add(&spans, TL_PHASE_SEND, r->io_first_ns,
			    r->req_last_ns);
	/* With 100-continue the interim response may come before the body
	 * is written: the overlap counts as send (tl_set_phases()). Without
	 * a response the process waited until the failure. A response
	 * that may be another request's is not shown at all. */
	if (r->wrote_request_ns && r->final_first_byte_ns && resp)
		tl_span_add(&spans, TL_PHASE_WAIT, r->wrote_request_ns,
			    r->final_first_byte_ns);
	else if (r->wrote_request_ns && end_ns > r->wrote_request_ns && resp)
		tl_span_add(&spans, TL_PHASE_WAIT, r->wrote_request_ns, end_ns);
	if (r->final_first_byte_ns && resp)
		tl_span_add(&spans, TL_PHASE_RECEIVE, r->final_first_byte_ns,
			    end_ns);
	tl_set_phases(tl, &spans);

	if (error.words) {
		snprintf(tl->error, sizeof(tl->error), "%s", error.words);
		tl->error_kind = error.kind;
	} else if (r->incomplete && r->incomplete_reason.words) {
		snprintf(tl->error, sizeof(tl->error), "%s",
			 r->incomplete_reason.words);
		tl->error_kind = r->incomplete_reason.kind;
	}
	tl->complete = !r->incomplete;
	/* the connect or accept that carried the addresses was lost */
	if (conn->start_lost &&
	    (!addr_is_set(&tl->saddr) || !addr_is_set(&tl->daddr))) {
		tl->complete = false;
		if (!tl->error[0]) {
			snprintf(tl->error, sizeof(tl->error),
				 "records lost: connection addresses unknown");
			tl->error_kind = TL_ERR_RECORDS_LOST;
		}
	}
}

/* A lookup that failed: a timeline of its own, GetConn to DNSDone. */
void tl_build_dns_failed(struct timeline *tl, const struct ht_dns_event *ev)
{
	char words[TL_ERR_WORDS_LEN];
	struct dns_result failed = {
		.enter_ns = call_entry(ev->enter_ns, ev->hdr.ts_ns),
		.done_ns = ev->hdr.ts_ns,
	};
	struct tl_event *e;

	copy_bounded(failed.host, sizeof(failed.host), ev->host,
		     sizeof(ev->host));
	copy_bounded(failed.service, sizeof(failed.service), ev->service,
		     sizeof(ev->service));
	tl_reset(tl);
	tl->role = HT_ROLE_CLIENT;
	tl->pid = ev->hdr.tgid;
	tl->tid = ev->hdr.tid;
	copy_comm(tl->comm, ev->hdr.comm);
	copy_bounded(tl->host, sizeof(tl->host), failed.host,
		     sizeof(failed.host));
	tl->start_ns = failed.enter_ns;
	tl->end_ns = failed.done_ns;
	e = tl_add(tl, TL_GetConn, failed.enter_ns);
	if (e)
		memcpy(e->host, failed.host, sizeof(e->host));
	tl_add_dns(tl, &failed, ev->ret);
	tl->phase_us[TL_PHASE_DNS] = span_us(failed.enter_ns, failed.done_ns);
	tl->phase_us[TL_PHASE_TOTAL] = tl->phase_us[TL_PHASE_DNS];
	snprintf(tl->error, sizeof(tl->error), "lookup %s: %s", failed.host,
		 tl_errno_words(TL_DNSDone, ev->ret, words, sizeof(words)));
	tl->error_kind = tl_error_kind_errno(TL_DNSDone, ev->ret);
	tl->complete = true;
}

/* A failed read or write in Go's words: "read: connection reset by
 * peer". */
struct tl_error tl_io_error(char *buf, size_t size, int direction,
			    int64_t ret)
{
	char words[TL_ERR_WORDS_LEN];

	tl_errno_words(TL_GotConn, (int32_t)-ret, words, sizeof(words));
	snprintf(buf, size, "%s: %s",
		 direction == HT_DIR_INGRESS ? "read" : "write", words);
	return (struct tl_error){
		.kind = tl_error_kind_errno(TL_GotConn, (int32_t)-ret),
		.words = buf,
	};
}
