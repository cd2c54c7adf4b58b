/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The OTLP exporter as a sink ("otlp"): spans over OTLP/HTTP protobuf;
 * its struct sink_config's params is a struct otlp_config
 * (otlp_config_resolve()). An own_thread sink: emit encodes the span on
 * the set's thread into the batch being filled and never waits; a
 * thread of its own gzips and posts sealed batches, which wait for it
 * encoded (far smaller than the timelines they came from).
 *
 * A batch is sealed when OTLP_BATCH_MAX timelines are in it or the
 * oldest has waited OTLP_BATCH_MS (seen on flush, which main calls after
 * every poll). A request that meets 429, 502, 503, 504 or no connection
 * is tried again after Retry-After or a backoff, within the time one
 * batch may take (OTEL_EXPORTER_OTLP_TIMEOUT); then it is given up and
 * its spans counted as send_failed. While it waits, sealed batches pile
 * up; a batch that finds OTLP_PENDING_MAX of them waiting is dropped and
 * counted: the ring-buffer reader never waits.
 */
#ifndef HTTPTRACE_SINK_OTLP_H
#define HTTPTRACE_SINK_OTLP_H

#include "sink/sink.h"

#define OTLP_BATCH_MAX 512
#define OTLP_BATCH_MS 1000
/* Sealed batches waiting for the sender, the one being sent included:
 * encoded requests of up to OTLP_BATCH_MAX spans (about 270 KB), so
 * that the burst of timelines one ring-buffer poll brings (thousands at
 * 20,000 requests/s) waits here, where a queue of timelines (13 KB
 * each) would need tens of MB. */
#define OTLP_PENDING_MAX 8

extern const struct sink_ops sink_otlp_ops;

#endif /* HTTPTRACE_SINK_OTLP_H */
