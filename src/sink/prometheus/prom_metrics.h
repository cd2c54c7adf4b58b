/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The Prometheus exporter's state and the text it is served as
 * (exposition format 0.0.4). Pure and not thread-safe: the sink
 * (sink_prometheus.c) holds its lock around every call.
 *
 * Histograms, one series per distinct set of label values:
 *   http_client_request_duration_seconds, http_server_request_...:
 *     a timeline's total, by its role
 *   httptrace_phase_duration_seconds: each phase that happened, with
 *     the labels "role" and "phase" as well
 * The labels are the shared attribute model's (sink/attrs.h) method,
 * status code, server address and port, error type, executable name
 * and container id. A value the timeline does not have is left out of
 * the series' labels, which Prometheus reads as the empty value.
 * Timelines of TLS the tracer could not decode have no request: they
 * are counted (httptrace_tls_connections_not_decoded_total), not
 * measured.
 *
 * Cardinality is bounded three ways:
 *   - each label holds at most max_values distinct values at once; a
 *     new value beyond that is written "_other" (and counted in
 *     httptrace_metrics_label_overflow_total{label=...});
 *   - each metric holds at most max_series series; a timeline that
 *     would make one more goes to the metric's overflow series, whose
 *     only label is otel_metric_overflow="true" (with role and phase
 *     for the phase metric), as OpenTelemetry's SDKs do;
 *   - a series not updated for expire_ns goes, and a label value no
 *     series uses any more makes room for another.
 */
#ifndef HTTPTRACE_PROM_METRICS_H
#define HTTPTRACE_PROM_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sink/sink.h"
#include "timeline/timeline.h"

#define PROM_MAX_VALUES_DEFAULT 100
/* a value is a byte in a series' key; 0 and 1 are "absent", "_other" */
#define PROM_MAX_VALUES_LIMIT 254
/* OpenTelemetry SDKs' default cardinality limit per metric */
#define PROM_MAX_SERIES_DEFAULT 2000
#define PROM_EXPIRE_DEFAULT_NS (300ULL * 1000000000ULL)

struct prom_limits {
	uint32_t max_values;  /* per label, 1..PROM_MAX_VALUES_LIMIT */
	uint32_t max_series;  /* per metric, >= 1 */
	uint64_t expire_ns;   /* > 0 */
};

struct prom_metrics;

/* 0, -EINVAL for limits out of range, or -ENOMEM. */
int prom_metrics_new(struct prom_metrics **mp, const struct prom_limits *lim);
void prom_metrics_free(struct prom_metrics *m);

/* Counts tl into its series at now_ns (monotonic). */
void prom_metrics_add(struct prom_metrics *m, const struct timeline *tl,
		      uint64_t now_ns);
/* The daemon's counters as of now; the exporters are c's queued sinks. */
void prom_metrics_set_counters(struct prom_metrics *m,
			       const struct sink_counters *c);
/* Forgets the series (and label values) not updated for expire_ns. */
void prom_metrics_expire(struct prom_metrics *m, uint64_t now_ns);
/* Series held, every metric's. */
size_t prom_metrics_series(const struct prom_metrics *m);

/*
 * The exposition in two steps, so that a scrape holds the lock only
 * for the first: a copy of what is counted (NULL when out of memory),
 * then its text, NUL-terminated, to free() (NULL when out of memory).
 */
struct prom_snapshot;
struct prom_snapshot *prom_metrics_snapshot(const struct prom_metrics *m);
char *prom_snapshot_text(const struct prom_snapshot *snap, size_t *len);
void prom_snapshot_free(struct prom_snapshot *snap);

/* Both steps into out. 0, or a negative errno. */
int prom_metrics_write(const struct prom_metrics *m, FILE *out);

/* A label value as the format wants it inside its quotes: backslash,
 * double quote and newline escaped. */
void prom_write_escaped(FILE *out, const char *s);

#endif /* HTTPTRACE_PROM_METRICS_H */
