/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What the OTLP exporter is told: --otlp-endpoint and the standard
 * OTEL_* environment variables, resolved once at start so that a bad
 * value is an error before tracing begins. And the small pure rules of
 * its retries (Retry-After, backoff), here so they are unit-tested.
 */
#ifndef HTTPTRACE_OTLP_CONFIG_H
#define HTTPTRACE_OTLP_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define OTLP_URL_MAX 2048
#define OTLP_MAX_HEADERS 32
#define OTLP_HEADER_MAX 1024     /* "Name: value" */
#define OTLP_MAX_RESOURCE 32
#define OTLP_KEY_MAX 128
#define OTLP_VALUE_MAX 256
#define OTLP_DEFAULT_TIMEOUT_MS 10000
#define OTLP_TRACES_PATH "/v1/traces"

struct otlp_kv {
	char key[OTLP_KEY_MAX];
	char value[OTLP_VALUE_MAX];
};

struct otlp_config {
	char url[OTLP_URL_MAX];          /* where spans are POSTed */
	/* where url came from, for messages: "--otlp-endpoint",
	 * "OTEL_EXPORTER_OTLP_ENDPOINT", ... */
	const char *url_from;
	char headers[OTLP_MAX_HEADERS][OTLP_HEADER_MAX]; /* "Name: value" */
	size_t n_headers;
	/* OTEL_RESOURCE_ATTRIBUTES, in their order, a key once */
	struct otlp_kv resource[OTLP_MAX_RESOURCE];
	size_t n_resource;
	char service_name[OTLP_VALUE_MAX]; /* OTEL_SERVICE_NAME; "" = none */
	uint32_t timeout_ms;             /* per request */
	bool gzip;                       /* Content-Encoding: gzip */
	bool phase_spans;                /* --otlp-phase-spans */
};

typedef char *(*otlp_getenv_fn)(const char *name);

/* Whether the exporter is asked for: the flag (non-empty) or one of
 * the endpoint variables. */
bool otlp_config_wanted(const char *flag_endpoint, otlp_getenv_fn get);

/*
 * Fills c from the flag (NULL or "" = none) and the variables that get
 * returns (getenv, or a test's). The flag wins over the variables.
 * Returns 0, or -1 with what is wrong in err.
 */
int otlp_config_resolve(struct otlp_config *c, const char *flag_endpoint,
			bool phase_spans, otlp_getenv_fn get, char *err,
			size_t err_size);

/* An http:// or https:// URL with a host (libcurl's parser). 0, or -1
 * with the reason in err. */
int otlp_url_check(const char *url, char *err, size_t err_size);

/*
 * "k1=v1,k2=v2" as OTEL_EXPORTER_OTLP_HEADERS and
 * OTEL_RESOURCE_ATTRIBUTES write it: blanks around keys and values
 * dropped, values percent-decoded. Calls put for each pair; returns the
 * number of pairs, or -1 with the reason in err (an empty key, a pair
 * without "=", a bad %XX, a key or value too long).
 */
int otlp_parse_pairs(const char *s,
		     int (*put)(void *user, const char *key,
				const char *value, char *err,
				size_t err_size),
		     void *user, char *err, size_t err_size);

/*
 * A Retry-After value: whole seconds ("120") or an HTTP date ("Wed, 21
 * Oct 2015 07:28:00 GMT", libcurl's parser), relative to now. 0 and the
 * wait in *ms (0 for a date past), or -1 when it is neither.
 */
int otlp_retry_after_ms(const char *value, time_t now, uint64_t *ms);

#define OTLP_BACKOFF_FIRST_MS 500
#define OTLP_BACKOFF_MAX_MS 8000

/*
 * How long to wait before retry number attempt (0 = the first retry):
 * an exponential step from OTLP_BACKOFF_FIRST_MS, doubled each time up
 * to OTLP_BACKOFF_MAX_MS, with jitter from rnd taking it down to half
 * the step at most, so that agents restarted together do not retry in
 * step.
 */
uint64_t otlp_backoff_ms(unsigned int attempt, uint32_t rnd);

/* The HTTP statuses OTLP/HTTP says to retry: 429, 502, 503, 504. */
bool otlp_status_retryable(long status);

#endif /* HTTPTRACE_OTLP_CONFIG_H */
