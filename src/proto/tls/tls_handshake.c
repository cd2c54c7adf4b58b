// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The TLS handshake of a connection: its state from the library's calls
 * and the hellos on the wire, and the timelines of a connection whose
 * handshake failed or whose plaintext no hooked library carried. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/tls/tls_handshake.h"
#include "httptrace_first_bytes.h"
#include "proto/http1/http1_stitch.h"
#include "proto/proto.h"
#include "timeline/timeline_build.h"

/*
 * The tls phase runs from the moment the process has its TCP connection
 * (ConnectDone) to TLSHandshakeDone, as curl's time_appconnect -
 * time_connect and httpstat count it: the library's setup before its
 * first handshake call (loading CA certificates, say) is TLS work too.
 * Without a ConnectDone (accepted connections) it starts at
 * TLSHandshakeStart.
 */
uint64_t tls_phase_start(const struct conn *conn)
{
	if (conn->role == HT_ROLE_CLIENT && conn->connect_done_seen &&
	    !conn->connect_err && conn->connect_done_ns <= conn->tls->hs_start_ns)
		return conn->connect_done_ns;
	return conn->tls->hs_start_ns;
}

/* ALPN offered by the client includes `proto` (comma separated list). */
bool tls_alpn_offered(const char *list, const char *proto)
{
	size_t n = strlen(proto);

	while (*list) {
		const char *comma = strchr(list, ',');
		size_t len = comma ? (size_t)(comma - list) : strlen(list);

		if (len == n && !memcmp(list, proto, n))
			return true;
		if (!comma)
			break;
		list = comma + 1;
	}
	return false;
}

static struct conn_tls *tls_get(struct correlator *c, struct conn *conn)
{
	if (!conn->tls) {
		conn->tls = calloc(1, sizeof(*conn->tls));
		if (!conn->tls)
			return NULL;
		held(c, sizeof(*conn->tls));
		conn->wire = &tls_ops;
		tls_stream_init(&conn->tls->stream[HT_DIR_EGRESS]);
		tls_stream_init(&conn->tls->stream[HT_DIR_INGRESS]);
		conn->tls->verify = -1;
	}
	return conn->tls;
}

/* The ClientHello on the wire offered h2 through ALPN. */
bool tls_h2_offered(const struct conn *conn)
{
	int d;

	if (!conn->tls)
		return false;
	for (d = 0; d < 2; d++) {
		const struct tls_hello *h = &conn->tls->stream[d].hello;

		if (h->client_hello && tls_alpn_offered(h->alpn, "h2"))
			return true;
	}
	return false;
}

void tls_free(struct correlator *c, struct conn *conn)
{
	if (!conn->tls)
		return;
	tls_stream_free(&conn->tls->stream[0]);
	tls_stream_free(&conn->tls->stream[1]);
	free(conn->tls);
	released(c, sizeof(*conn->tls));
	conn->tls = NULL;
	conn->wire = NULL;
}

static void tls_raw_bytes(struct conn *conn, const struct ht_data_event *ev)
{
	struct conn_tls *t = conn->tls;
	int dir = ev->direction & 1;
	struct tls_stream *st = &t->stream[dir];

	/* the moment the first byte of a direction's stream moved: a
	 * write's entry; a read's return (its entry may be long before,
	 * waiting) */
	if (!t->wire_first_ns[dir])
		t->wire_first_ns[dir] =
			dir == HT_DIR_EGRESS ?
				call_entry(ev->enter_ns, ev->hdr.ts_ns) :
				ev->hdr.ts_ns;
	t->raw_last_enter_ns = call_entry(ev->enter_ns, ev->hdr.ts_ns);
	t->raw_last_ns = ev->hdr.ts_ns;
	if (!st->dead)
		tls_stream_feed(st, ev->data, ev->captured_len,
				(uint64_t)ev->ret - ev->captured_len);
}

/* Why the handshake failed, as far as one can tell without the
 * library's structs: its return codes, the verify result it reported,
 * and the alerts on the wire. */
static void tls_fail_words(const struct conn *conn, const char *how,
			   char *out, size_t size)
{
	const struct conn_tls *t = conn->tls;
	const struct tls_stream *out_s = &t->stream[HT_DIR_EGRESS];
	const struct tls_stream *in_s = &t->stream[HT_DIR_INGRESS];
	char buf[48];

	if (t->lib == HT_TLS_GNUTLS && t->hs_ret < 0 && t->hs_ret != -28 &&
	    t->hs_ret != -52) {
		snprintf(out, size, "tls: handshake failed: %s",
			 tls_gnutls_words((long)t->hs_ret, buf, sizeof(buf)));
	} else if (t->verify_seen && t->verify != 0) {
		snprintf(out, size,
			 "tls: handshake failed: certificate verify failed: %s%s",
			 t->lib == HT_TLS_GNUTLS ?
				 tls_gnutls_verify_words((long)t->verify, buf,
							 sizeof(buf)) :
				 tls_verify_words((long)t->verify, buf,
						  sizeof(buf)),
			 t->hs == HS_OK ? " (checked after the handshake)"
					: "");
	} else if (out_s->alert_desc > 0) {
		snprintf(out, size, "tls: handshake failed: sent alert %s",
			 tls_alert_name(out_s->alert_desc, buf, sizeof(buf)));
	} else if (in_s->alert_desc > 0) {
		snprintf(out, size, "tls: handshake failed: received alert %s",
			 tls_alert_name(in_s->alert_desc, buf, sizeof(buf)));
	} else if (out_s->encrypted_alert ||
		   (out_s->last_type == 23 && out_s->last_len <= 32 &&
		    out_s->appdata_records == 1)) {
		/* TLS 1.3 encrypts alerts after the ServerHello: a lone
		 * short record before any request is one */
		snprintf(out, size,
			 "tls: handshake failed: sent an alert (encrypted), "
			 "then %s", how);
	} else if (t->lib == HT_TLS_GO && t->hs == HS_STARTED && !t->hs_ret) {
		/* handshakeContext never returned on this socket: the
		 * program closed it mid-handshake (net/http drops a dial
		 * that another connection made unneeded) */
		snprintf(out, size, "tls: handshake not finished: %s", how);
	} else {
		snprintf(out, size, "tls: handshake failed: %s", how);
	}
}

/* GnuTLS leaves the certificate to the caller: gnutls_handshake
 * succeeds, the client then reads a bad verdict and hangs up before any
 * request (wget). The handshake failed for it all the same. */
static bool tls_rejected_after_handshake(const struct conn *conn)
{
	const struct conn_tls *t = conn->tls;

	/* Application data moved: the client went past the verdict, whether
	 * or not an HTTP/1 request was parsed from it (HTTP/2 whose server
	 * spoke first, a capture too short to hold a request line). */
	return t->hs == HS_OK && !t->hs_derived && t->verify_seen &&
	       t->verify != 0 && !t->plaintext_seen && !req_head(conn) &&
	       !conn->n_requests;
}

/* A handshake that started and ended without success (or whose
 * certificate the client rejected afterwards): one timeline for the
 * connection, failed, no request. */
static void tls_handshake_failed(struct correlator *c, struct conn *conn,
				 uint64_t ts, const char *how)
{
	struct conn_tls *t = conn->tls;
	struct timeline *tl = &c->tl;
	uint64_t start = t->hs_start_ns;
	struct tl_spans spans = { .n = 0 };
	struct tl_event *e;
	char words[TL_ERROR_MAX];

	if (t->hs == HS_FAILED || !t->hs_start_ns ||
	    (t->hs == HS_OK && !tls_rejected_after_handshake(conn)))
		return;
	/* the words before the state changes: they tell the two apart */
	tls_fail_words(conn, how, words, sizeof(words));
	t->hs = HS_FAILED;
	if (req_head(conn) || conn->n_requests)
		return; /* a request is open: it carries the failure */
	if (conn->role == HT_ROLE_CLIENT) {
		dns_bind_deferred(c, conn, NULL);
		if (conn->has_dns)
			start = conn->dns.enter_ns;
		else if (conn->connect_start_ns)
			start = conn->connect_start_ns;
	}
	tl_begin_conn_failed(tl, conn, &spans, conn->owner_tid, start,
			     max_u64(max_u64(ts, start), t->hs_start_ns), true,
			     t->stream[0].hello.sni,
			     sizeof(t->stream[0].hello.sni));
	snprintf(tl->tls.error, sizeof(tl->tls.error), "%s", words);
	tl_add(tl, TL_TLSHandshakeStart, t->hs_start_ns);
	e = tl_add(tl, TL_TLSHandshakeDone, tl->end_ns);
	if (e)
		e->err = EPROTO; /* the words are in tl->tls.error */
	tl_span_add(&spans, TL_PHASE_TLS, tls_phase_start(conn), tl->end_ns);
	tl_set_phases(tl, &spans);
	tl_sort(tl);
	snprintf(tl->error, sizeof(tl->error), "%s", tl->tls.error);
	tl->error_kind = TL_ERR_TLS_FAILURE;
	tl->complete = !conn->taint;
	tl_emit(c);
}

/* The socket's stream ended (EOF, error, close) */
static void tls_stream_over(struct correlator *c, struct conn *conn,
			    uint64_t ts, const char *how)
{
	if (conn->tls && (conn->tls->hs == HS_STARTED ||
			  tls_rejected_after_handshake(conn)))
		tls_handshake_failed(c, conn, ts, how);
}

/* The direction whose stream held the ClientHello, or -1. */
static int tls_client_hello_dir(const struct conn_tls *t)
{
	int d;

	for (d = 0; d < 2; d++)
		if (t->stream[d].hello.client_hello && t->wire_first_ns[d])
			return d;
	return -1;
}

/*
 * A connection that ends with a TLS handshake on the wire (its
 * ClientHello captured from the socket) and no record from a hooked TLS
 * library: Go's crypto/tls, Java, rustls, a BoringSSL without exported
 * symbols. Its requests cannot be read, but it is said, once, with what
 * the handshake showed: one timeline, tls.not_decoded, incomplete.
 * end_ns 0: at the last socket I/O seen.
 */
static void tls_report_undecoded(struct correlator *c, struct conn *conn,
				 uint64_t end_ns)
{
	struct conn_tls *t = conn->tls;
	struct timeline *tl = &c->tl;
	struct tl_spans spans = { .n = 0 };
	uint64_t hello_ns, start;
	bool client = conn->role == HT_ROLE_CLIENT;
	int d;

	if (!t || t->lib_seen || t->undecoded_reported)
		return;
	d = tls_client_hello_dir(t);
	if (d < 0)
		return;
	t->undecoded_reported = true;
	hello_ns = t->wire_first_ns[d];
	start = hello_ns;
	if (client && conn->has_dns)
		start = min_u64(start, conn->dns.enter_ns);
	else if (client && conn->connect_start_ns)
		start = min_u64(start, conn->connect_start_ns);
	tl_begin_conn_failed(tl, conn, &spans, conn->owner_tid, start,
			     max_u64(end_ns ? end_ns : t->raw_last_ns,
				     hello_ns),
			     true, NULL, 0);
	tl->tls.not_decoded = true;
	/* the ClientHello's write (or, for a server, its read) is a fact;
	 * where the handshake ended is not on the wire in TLS 1.3, so the
	 * encrypted rest is time in no phase the tracer saw: idle */
	tl_add(tl, TL_TLSHandshakeStart, hello_ns);
	tl_sort(tl);
	tl_set_phases(tl, &spans);
	snprintf(tl->error, sizeof(tl->error),
		 "TLS not decoded: encrypted by a TLS library the tracer "
		 "does not hook");
	tl->error_kind = TL_ERR_TLS_NOT_DECODED;
	tl->complete = false;
	tl_emit(c);
}

/* GnuTLS: 0; Go: handshakeContext's error was nil (the probe says 0,
 * else 1); OpenSSL: 1 */
static bool tls_hs_ok(uint8_t lib, int64_t ret)
{
	return lib == HT_TLS_GNUTLS || lib == HT_TLS_GO ? ret == 0 : ret == 1;
}

void tls_handshake_record(struct correlator *c, struct conn *conn,
			  const struct ht_tls_event *ev)
{
	struct conn_tls *t = tls_get(c, conn);

	conn_note_owner(conn, &ev->hdr);
	if (!t)
		return;
	t->lib_seen = true;
	if (ev->lib)
		t->lib = ev->lib;
	if (ev->op == HT_TLS_OP_VERIFY) {
		t->verify_seen = true;
		t->verify = ev->ret;
		return;
	}
	if (t->hs == HS_OK || t->hs == HS_FAILED)
		return; /* done; later calls return at once */
	if (ev->op == HT_TLS_OP_HANDSHAKE_START) {
		/* Go's handshake began: its end comes with the call's
		 * return, or the connection's close if it never does */
		if (!t->hs_start_ns)
			t->hs_start_ns = ev->enter_ns ? ev->enter_ns :
							ev->hdr.ts_ns;
		t->hs = HS_STARTED;
		return;
	}
	if (!t->hs_start_ns)
		t->hs_start_ns = call_entry(ev->enter_ns, ev->hdr.ts_ns);
	t->hs_ret = ev->ret;
	if (tls_hs_ok(ev->lib, ev->ret)) {
		t->hs = HS_OK;
		/* a record later than the window may be older than the
		 * start: the phase never runs backwards */
		t->hs_done_ns = max_u64(ev->hdr.ts_ns, t->hs_start_ns);
		return;
	}
	t->hs = HS_STARTED;
	/* GnuTLS says what failed; its "again" codes only ask to retry.
	 * OpenSSL's -1 means either, so its failure shows at the close. */
	if (ev->lib == HT_TLS_GNUTLS && ev->ret != -28 /* E_AGAIN */ &&
	    ev->ret != -52 /* E_INTERRUPTED */)
		tls_handshake_failed(c, conn, ev->hdr.ts_ns,
				     "handshake call failed");
	/* Go returns only when it is over: an error is final */
	if (ev->lib == HT_TLS_GO)
		tls_handshake_failed(c, conn, ev->hdr.ts_ns,
				     "Go crypto/tls returned an error");
}

/*
 * The first TLS call that moves application data (ev) on a session whose
 * handshake no handshake call reported as done: Node drives its
 * handshake through SSL_read on memory BIOs and never calls
 * SSL_do_handshake; a program may also just call SSL_write, which
 * handshakes first; a handshake call may have returned "retry" and the
 * rest happened inside the first read or write. The handshake is then
 * read from what is seen anyway:
 *
 * TLSHandshakeStart (only when no handshake call gave it): the first
 * byte of the ClientHello on the wire, i.e. the first socket record of
 * the direction the ClientHello was parsed in. Without a ClientHello on
 * the wire (tie made too late, capture lost) there is no handshake
 * phase rather than a made-up one.
 *
 * TLSHandshakeDone: when the last handshake bytes moved, which depends
 * on where the socket I/O happened:
 *  - no socket record on this connection inside ev's call (the last one
 *    returned before ev's call began): the library buffers in memory and
 *    the event loop moved the handshake (Node). The handshake was over
 *    when its last flight went through the socket (TLS 1.3: the client's
 *    Finished written; 1.2: the server's Finished read), i.e. the return
 *    of the last socket record before the call. Taking the call's entry
 *    instead would put the application's own delay (Node's
 *    'secureConnect' callbacks, the agent) into the tls phase.
 *  - socket records inside the call (their return after its entry): the
 *    call drove the handshake and then moved the data. The last socket
 *    I/O of the call is the data itself (a write of the request's
 *    records, or the read that brought the response), so the handshake
 *    ended when that I/O began: the entry of the last socket record.
 *    The request opened by ev then starts its send phase there too
 *    (http1_open_request()), so the send phase does not absorb the
 *    handshake's tail, and GotConn follows TLSHandshakeDone.
 * Both are clamped to [start, the call's return].
 *
 * Not from a response when no request was seen on the connection (its
 * request went out unseen): the socket records before it are the
 * response's own, and the handshake ended at some unknown time before
 * the request. It is over, with no TLSHandshakeDone and no phase rather
 * than one that runs to the response.
 */
static void tls_derive_handshake(struct conn *conn,
				 const struct ht_data_event *ev)
{
	struct conn_tls *t = conn->tls;
	uint64_t enter = call_entry(ev->enter_ns, ev->hdr.ts_ns);
	uint64_t done;
	bool response;
	int d;

	if (conn->role_known)
		response = side_of(conn, ev->direction) == SIDE_RESP;
	else
		response = ev->direction == HT_DIR_INGRESS &&
			   http1_starts_message(H1_RESPONSE, ev->data,
						ev->captured_len);
	/* an HTTP/2 server's SETTINGS frame answers no request: it comes
	 * right after the handshake */
	if (response && !conn->n_requests &&
	    !ht_h2_settings_frame(ev->data, ev->captured_len)) {
		t->hs = HS_OK;
		t->hs_done_unknown = true;
		return;
	}

	if (!t->hs_start_ns) {
		for (d = 0; d < 2; d++)
			if (t->stream[d].hello.client_hello &&
			    t->wire_first_ns[d])
				t->hs_start_ns = t->wire_first_ns[d];
		if (!t->hs_start_ns)
			return; /* hs stays HS_NONE: no phase */
		t->hs_derived = true;
	}
	if (!t->raw_last_ns)
		done = enter;
	else if (t->raw_last_ns <= enter)
		done = t->raw_last_ns;
	else
		done = t->raw_last_enter_ns;
	done = min_u64(max_u64(done, t->hs_start_ns), ev->hdr.ts_ns);
	t->hs = HS_OK;
	t->hs_done_ns = max_u64(done, t->hs_start_ns);
}

/* Plaintext of a TLS call: the HTTP stream. True when its bytes go on to
 * the protocol. */
bool tls_plaintext_record(struct correlator *c, struct conn *conn,
			  const struct ht_data_event *ev)
{
	struct conn_tls *t = tls_get(c, conn);

	conn_note_owner(conn, &ev->hdr);
	if (!t)
		return false;
	t->lib_seen = true;
	if (ev->call)
		t->lib = ev->call;
	if (ev->ret > 0)
		t->plaintext_seen = true;
	conn->saw_bytes = true;
	/* bytes flow: the handshake is over even when no handshake call
	 * said so */
	if (ev->ret > 0 && (t->hs == HS_STARTED || t->hs == HS_NONE))
		tls_derive_handshake(conn, ev);
	return ev->ret > 0;
}

/* ---- the wire layer (proto/proto.h) -------------------------------------- */

static bool tls_detect(const struct proto_first *first)
{
	return tls_looks_like_hello(first->data, first->len);
}

static void tls_start(struct correlator *c, struct conn *conn,
		      const struct ht_data_event *ev)
{
	tls_get(c, conn);
}

/* ciphertext: the handshake is read, the rest skipped */
static void tls_wire_bytes(struct correlator *c, struct conn *conn,
			   const struct ht_data_event *ev)
{
	tls_raw_bytes(conn, ev);
}

static void tls_socket_end(struct correlator *c, struct conn *conn,
			   const struct ht_data_event *ev)
{
	if (ev->ret == 0 && ev->direction == HT_DIR_INGRESS)
		tls_stream_over(c, conn, ev->hdr.ts_ns,
				"connection closed by peer");
	else if (ev->ret < 0 && !io_error_ignored(ev->ret))
		tls_stream_over(c, conn, ev->hdr.ts_ns,
				ev->direction == HT_DIR_INGRESS ?
					"read failed" : "write failed");
}

static void tls_end(struct correlator *c, struct conn *conn, uint64_t ts,
		    enum proto_end how)
{
	if (how == PROTO_END_CLOSE)
		tls_stream_over(c, conn, ts,
				"connection closed by the process");
}

/* A TLS connection that no hooked library decoded is reported once,
 * when it is forgotten: "TLS not decoded". */
const struct proto_ops tls_ops = {
	.name = "tls",
	.layer = PROTO_WIRE,
	.detect = tls_detect,
	.on_start = tls_start,
	.on_bytes = tls_wire_bytes,
	.on_socket_end = tls_socket_end,
	.on_end = tls_end,
	.on_abandon = tls_report_undecoded,
};
