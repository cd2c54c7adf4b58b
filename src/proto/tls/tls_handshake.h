/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* A connection's TLS: the handshake read from library calls and the wire. */
#ifndef HTTPTRACE_TLS_HANDSHAKE_H
#define HTTPTRACE_TLS_HANDSHAKE_H

#include "pipeline/conn.h"
#include "proto/tls/tls_hello.h"

enum tls_hs_state {
	HS_NONE = 0,
	HS_STARTED,   /* a handshake call returned without finishing */
	HS_OK,
	HS_FAILED,    /* reported */
};

/* A connection that carries TLS: its socket bytes go to the record
 * readers (one per direction), never to the HTTP parsers; the plaintext
 * comes in HT_EV_TLS_DATA records. */
struct conn_tls {
	uint8_t lib;                 /* enum ht_tls_lib */
	enum tls_hs_state hs;
	uint64_t hs_start_ns, hs_done_ns;
	int64_t hs_ret;              /* the last handshake call's return */
	bool verify_seen;
	int64_t verify;              /* SSL_get_verify_result */
	bool hs_derived;             /* start/done from the wire, no
				      * handshake call seen (Node) */
	bool hs_done_unknown;        /* over, but when is not known: no
				      * TLSHandshakeDone, no phase */
	uint64_t wire_first_ns[2];   /* first socket record per direction */
	uint64_t raw_last_enter_ns;  /* last socket record that moved bytes */
	uint64_t raw_last_ns;
	bool lib_seen;               /* a TLS library record came */
	bool plaintext_seen;         /* a TLS call moved application data */
	bool undecoded_reported;
	struct tls_stream stream[2]; /* [enum ht_direction] */
};

/* Where the tls phase starts: ConnectDone for a client, else
 * TLSHandshakeStart. */
uint64_t tls_phase_start(const struct conn *conn);
/* proto is in the comma separated ALPN list. */
bool tls_alpn_offered(const char *list, const char *proto);
/* The ClientHello on the wire offered h2. */
bool tls_h2_offered(const struct conn *conn);
/* Frees conn->tls; the connection is plain again. */
void tls_free(struct correlator *c, struct conn *conn);
/* A handshake or verify result of a TLS library (HT_EV_TLS). */
void tls_handshake_record(struct correlator *c, struct conn *conn,
			  const struct ht_tls_event *ev);
/* The plaintext of a TLS call (HT_EV_TLS_DATA); true when its bytes go
 * on to the application protocol (proto_bytes()). */
bool tls_plaintext_record(struct correlator *c, struct conn *conn,
			  const struct ht_data_event *ev);

#endif /* HTTPTRACE_TLS_HANDSHAKE_H */
