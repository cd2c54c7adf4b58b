/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The attribute model every exporter shares: what a finished timeline
 * says about its request, named as OpenTelemetry's semantic conventions
 * name it (HTTP spans and metrics, network, server, url, error,
 * process, container). The OTLP exporter writes these names as span
 * and resource attributes; the Prometheus exporter writes them as
 * labels, dots turned into underscores. One table, so the two never
 * disagree on what a request was.
 *
 * Values are strings, also for the integer attributes (port, status),
 * with the kind saying how an exporter that has types writes them.
 */
#ifndef HTTPTRACE_SINK_ATTRS_H
#define HTTPTRACE_SINK_ATTRS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "timeline/timeline.h"

enum sink_attr_kind {
	SINK_ATTR_STRING,
	SINK_ATTR_INT,
};

/* Where an attribute belongs: a span's own, or the resource (the
 * process and its container) that made it. */
enum sink_attr_scope {
	SINK_ATTR_SPAN,
	SINK_ATTR_RESOURCE,
};

/*
 * X(ID, semantic-convention name, kind, scope). Prometheus label names
 * are the same with '.' as '_'.
 */
#define SINK_ATTRS(X)                                                      \
	X(HTTP_REQUEST_METHOD, "http.request.method", STRING, SPAN)        \
	X(HTTP_RESPONSE_STATUS_CODE, "http.response.status_code", INT, SPAN) \
	X(SERVER_ADDRESS, "server.address", STRING, SPAN)                  \
	X(SERVER_PORT, "server.port", INT, SPAN)                           \
	X(ERROR_TYPE, "error.type", STRING, SPAN)                          \
	X(NETWORK_PEER_ADDRESS, "network.peer.address", STRING, SPAN)      \
	X(NETWORK_PEER_PORT, "network.peer.port", INT, SPAN)               \
	X(NETWORK_PROTOCOL_VERSION, "network.protocol.version", STRING, SPAN) \
	X(URL_SCHEME, "url.scheme", STRING, SPAN)                          \
	X(URL_PATH, "url.path", STRING, SPAN)                              \
	X(RPC_GRPC_STATUS_CODE, "rpc.grpc.status_code", INT, SPAN)         \
	X(TLS_PROTOCOL_VERSION, "tls.protocol.version", STRING, SPAN)      \
	X(PROCESS_PID, "process.pid", INT, RESOURCE)                       \
	X(PROCESS_EXECUTABLE_NAME, "process.executable.name", STRING, RESOURCE) \
	X(CONTAINER_ID, "container.id", STRING, RESOURCE)                  \
	X(K8S_POD_UID, "k8s.pod.uid", STRING, RESOURCE)

#define SINK_ATTR_ENUM(id, name, kind, scope) SINK_ATTR_##id,
enum sink_attr {
	SINK_ATTRS(SINK_ATTR_ENUM)
	SINK_ATTR_COUNT,
};
#undef SINK_ATTR_ENUM

/* Room for every value of one timeline, NUL-terminated each. */
#define SINK_ATTRS_STORAGE 1024

struct sink_attrs {
	/* NULL: the timeline does not say (no response: no status code) */
	const char *value[SINK_ATTR_COUNT];
	char storage[SINK_ATTRS_STORAGE];
	size_t used;
};

/* "http.request.method" */
const char *sink_attr_name(enum sink_attr a);
/* "http_request_method": the Prometheus label */
const char *sink_attr_label(enum sink_attr a);
enum sink_attr_kind sink_attr_kind(enum sink_attr a);
enum sink_attr_scope sink_attr_scope(enum sink_attr a);

/*
 * Fills a from tl; a points into itself, so it lives as long as a.
 * The method is one the conventions know ("GET") or "_OTHER"; the
 * path is the target without its query (a query may carry secrets);
 * error.type is the error's kind ("connect_refused", "timeout"), else
 * the status code as a string when it is an error (a client's from
 * 400, a server's from 500), else absent. server.address and
 * server.port are the Host the request named, else the server's
 * socket address (the peer for a client, the local end for a server).
 */
void sink_attrs_of(struct sink_attrs *a, const struct timeline *tl);

#endif /* HTTPTRACE_SINK_ATTRS_H */
