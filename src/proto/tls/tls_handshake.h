/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* A connection's TLS: the handshake read from library calls and the wire. */
#ifndef HTTPTRACE_TLS_HANDSHAKE_H
#define HTTPTRACE_TLS_HANDSHAKE_H

#include "pipeline/conn.h"

uint64_t tls_phase_start(const struct conn *conn);
bool tls_alpn_offered(const char *list, const char *proto);
bool tls_h2_offered(const struct conn *conn);
void tls_free(struct correlator *c, struct conn *conn);
void tls_handshake_record(struct correlator *c, struct conn *conn,
			  const struct ht_tls_event *ev);
bool tls_plaintext_record(struct correlator *c, struct conn *conn,
			  const struct ht_data_event *ev);

#endif /* HTTPTRACE_TLS_HANDSHAKE_H */
