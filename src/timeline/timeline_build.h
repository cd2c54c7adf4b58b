/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Building a timeline from a connection's and a request's state. */
#ifndef HTTPTRACE_TIMELINE_BUILD_H
#define HTTPTRACE_TIMELINE_BUILD_H

#include "pipeline/conn.h"
#include "timeline/timeline.h"

const char *tl_errno_words(enum tl_hook hook, int32_t err, char *buf,
			   size_t size);
void tl_reset(struct timeline *tl);
struct tl_event *tl_add(struct timeline *tl, enum tl_hook hook,
			uint64_t ts_ns);
void tl_add_addr(struct timeline *tl, enum tl_hook hook,
		 uint64_t ts_ns, const struct ht_addr *addr, int32_t err);
void tl_add_dns(struct timeline *tl, const struct dns_result *dns,
		int32_t err);
void tl_add_conn_start(struct timeline *tl, const struct conn *conn,
		       struct tl_spans *spans, bool dns, bool connect);
void tl_sort(struct timeline *tl);
void tl_conn_fields(struct timeline *tl, const struct conn *conn);
void tl_emit(struct correlator *c);
void tl_tls_fields(struct timeline *tl, const struct conn *conn,
		   const struct pending_req *r);
void tl_build_request(struct correlator *c, const struct conn *conn,
		      const struct pending_req *r, uint64_t end_ns,
		      const char *error, bool put_idle);
void tl_begin_conn_failed(struct timeline *tl, const struct conn *conn,
			  struct tl_spans *spans, uint32_t tid,
			  uint64_t start_ns, uint64_t end_ns, bool tls,
			  const char *host, size_t host_max);
void tl_build_connect_failed(struct timeline *tl, const struct conn *conn,
			     uint32_t tid);
void tl_build_dns_failed(struct timeline *tl, const struct ht_dns_event *ev);
void tl_io_error(char *error, size_t size, int direction, int64_t ret);

#endif /* HTTPTRACE_TIMELINE_BUILD_H */
