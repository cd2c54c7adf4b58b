/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The OTLP exporter as a sink ("otlp"): spans over OTLP/HTTP protobuf.
 * It may block (a network peer), so the sink set gives it a queue and a
 * thread of its own; its struct sink_config's params is a struct
 * otlp_config (otlp_config_resolve()).
 *
 * Spans are batched: a request goes out when OTLP_BATCH_MAX timelines
 * are held or the oldest has waited OTLP_BATCH_MS (seen on flush, which
 * main calls after every poll). A request that meets 429, 502, 503,
 * 504 or no connection is tried again after Retry-After or a backoff,
 * within the time one batch may take (OTEL_EXPORTER_OTLP_TIMEOUT); then
 * it is given up and its spans counted as send_failed. While it waits
 * the queue in front fills, and what finds it full is dropped and
 * counted there: the ring-buffer reader never waits.
 */
#ifndef HTTPTRACE_SINK_OTLP_H
#define HTTPTRACE_SINK_OTLP_H

#include "sink/sink.h"

#define OTLP_BATCH_MAX 512
#define OTLP_BATCH_MS 1000

extern const struct sink_ops sink_otlp_ops;

#endif /* HTTPTRACE_SINK_OTLP_H */
