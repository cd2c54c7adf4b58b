/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The timeline the sink tests start from: curl's GET of
 * http://example.test:8080 + target, answered 200, from 127.0.0.1:50000
 * to 127.0.0.2:8080, pid 4242. Each test adds what it is about.
 */
#ifndef HTTPTRACE_TEST_SINK_TIMELINES_H
#define HTTPTRACE_TEST_SINK_TIMELINES_H

#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

#include "timeline/timeline.h"

static inline void addr4(struct ht_addr *a, const char *ip, uint16_t port)
{
	memset(a, 0, sizeof(*a));
	a->family = AF_INET;
	a->port = port;
	inet_pton(AF_INET, ip, a->addr);
}

static inline void curl_get_base(struct timeline *tl, const char *target)
{
	memset(tl, 0, sizeof(*tl));
	tl->pid = 4242;
	strcpy(tl->comm, "curl");
	tl->role = HT_ROLE_CLIENT;
	addr4(&tl->saddr, "127.0.0.1", 50000);
	addr4(&tl->daddr, "127.0.0.2", 8080);
	strcpy(tl->method, "GET");
	strncpy(tl->target, target, sizeof(tl->target) - 1);
	strcpy(tl->host, "example.test:8080");
	strcpy(tl->version, "HTTP/1.1");
	tl->status = 200;
	tl->grpc_status = -1;
}

#endif /* HTTPTRACE_TEST_SINK_TIMELINES_H */
