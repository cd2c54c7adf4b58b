/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* HTTP/2 recognised from its first bytes; one timeline per connection. */
#ifndef HTTPTRACE_H2_H
#define HTTPTRACE_H2_H

#include "pipeline/conn.h"

bool h2_is_preface(const uint8_t *data, size_t len);
bool h2_first_bytes(struct conn *conn, int side,
			   const struct ht_data_event *ev);
void h2_bytes(struct conn *conn, const struct ht_data_event *ev);
void h2_open(struct correlator *c, struct conn *conn,
		    const struct ht_data_event *ev);
void h2_conn_over(struct correlator *c, struct conn *conn,
			 uint64_t ts);
void h2_socket_record(struct correlator *c, struct conn *conn,
			     const struct ht_data_event *ev);

#endif /* HTTPTRACE_H2_H */
