/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Timelines as OTLP spans: an ExportTraceServiceRequest
 * (opentelemetry/proto/collector/trace/v1) written with otlp_pb.h. A
 * batch is built in two steps: each timeline's spans are encoded when
 * it comes, next to its resource's bytes; the request wraps the spans
 * of each resource (one ResourceSpans per process) when it is sent.
 */
#ifndef HTTPTRACE_OTLP_ENCODE_H
#define HTTPTRACE_OTLP_ENCODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sink/attrs.h"
#include "sink/otlp/otlp_config.h"
#include "sink/otlp/otlp_pb.h"
#include "timeline/timeline.h"

#define OTLP_SCOPE_NAME "httptrace-bpf"

/* Span kinds and status codes as trace.proto numbers them. */
#define OTLP_KIND_INTERNAL 1
#define OTLP_KIND_SERVER 2
#define OTLP_KIND_CLIENT 3
#define OTLP_STATUS_ERROR 2

/* Fills buf with n random bytes (trace and span ids). */
typedef void (*otlp_random_fn)(void *buf, size_t n);

struct otlp_span_opts {
	/* output_opts' offset: monotonic ns + this = Unix epoch ns */
	int64_t mono_to_realtime_ns;
	bool phase_spans;          /* a child span per phase */
	otlp_random_fn random;     /* NULL: getrandom() */
};

/*
 * Whether a timeline is a request and so a span: a TLS connection the
 * tracer could not decode is one report for the whole connection, with
 * no request in it, and a span for it would count as one request in
 * whatever a collector derives from spans (request rates, durations).
 */
bool otlp_timeline_exported(const struct timeline *tl);

/*
 * Appends the spans of tl, each as field 2 of a ScopeSpans (so the
 * bytes of several timelines are concatenated as they are), a is
 * sink_attrs_of(tl). Returns how many spans were written: 1, plus the
 * phases with phase_spans.
 */
size_t otlp_encode_spans(struct pb_buf *out, const struct timeline *tl,
			 const struct sink_attrs *a,
			 const struct otlp_span_opts *o);

/*
 * The contents of the Resource message (its attributes) of the process
 * that made tl: the SINK_ATTR_RESOURCE attributes of a, then c's
 * OTEL_RESOURCE_ATTRIBUTES (those the timeline does not set),
 * service.name (OTEL_SERVICE_NAME, else one from
 * OTEL_RESOURCE_ATTRIBUTES, else the executable's name) and
 * telemetry.sdk.*. Two timelines of one process give the same bytes.
 */
void otlp_encode_resource(struct pb_buf *out, const struct sink_attrs *a,
			  const struct otlp_config *c);

/* One process's part of a batch. */
struct otlp_group {
	struct pb_buf resource;  /* otlp_encode_resource() */
	struct pb_buf spans;     /* otlp_encode_spans() of its timelines */
};

/* The ExportTraceServiceRequest of n groups into out (emptied first). */
void otlp_encode_request(struct pb_buf *out, const struct otlp_group *g,
			 size_t n);

/*
 * An ExportTraceServiceResponse: partial_success.rejected_spans into
 * *rejected (0 when there is none). Returns 0, or -1 for bytes that are
 * not one (an empty body is a full success).
 */
int otlp_decode_response(const uint8_t *p, size_t n, int64_t *rejected);

#endif /* HTTPTRACE_OTLP_ENCODE_H */
