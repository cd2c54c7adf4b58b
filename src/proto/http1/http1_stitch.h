/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* HTTP/1.x requests paired with their responses over the two parsers. */
#ifndef HTTPTRACE_HTTP1_STITCH_H
#define HTTPTRACE_HTTP1_STITCH_H

#include "pipeline/conn.h"

bool http1_starts_message(enum h1_kind kind, const uint8_t *data, size_t len);
struct pending_req *http1_open_request(struct correlator *c,
				       struct conn *conn,
				       const struct ht_data_event *ev);
void http1_set_role(struct conn *conn, enum ht_role role);

#endif /* HTTPTRACE_HTTP1_STITCH_H */
