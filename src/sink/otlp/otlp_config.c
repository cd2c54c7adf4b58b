// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <ctype.h>
#ifndef OTLP_NO_CURL
#include "sink/otlp/otlp_curl.h"
#endif
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sink/otlp/otlp_config.h"

#define ENV_ENDPOINT "OTEL_EXPORTER_OTLP_ENDPOINT"
#define ENV_TRACES_ENDPOINT "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"

static const char *env(otlp_getenv_fn get, const char *name)
{
	const char *v = get ? get(name) : NULL;

	return v && *v ? v : NULL;
}

bool otlp_config_wanted(const char *flag_endpoint, otlp_getenv_fn get)
{
	return (flag_endpoint && *flag_endpoint) ||
	       env(get, ENV_ENDPOINT) || env(get, ENV_TRACES_ENDPOINT);
}

#ifdef OTLP_NO_CURL
int otlp_url_check(const char *url, char *err, size_t err_size)
{
	snprintf(err, err_size, "this build has no HTTP client (it was made "
		 "without libcurl)");
	return -1;
}
#else
int otlp_url_check(const char *url, char *err, size_t err_size)
{
	const struct otlp_curl *cu = otlp_curl(err, err_size);
	char *scheme = NULL, *host = NULL;
	CURLUcode rc;
	CURLU *u;
	int ret = -1;

	if (!cu)
		return -1;
	u = cu->url();
	if (!u) {
		snprintf(err, err_size, "out of memory");
		return -1;
	}
	/* no guessing a scheme: "collector:4318" is refused, not read as
	 * http */
	rc = cu->url_set(u, CURLUPART_URL, url, 0);
	if (rc != CURLUE_OK) {
		snprintf(err, err_size, "\"%s\" is not a URL (%s); an "
			 "endpoint looks like http://127.0.0.1:4318", url,
			 cu->url_strerror(rc));
		goto out;
	}
	if (cu->url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    (strcmp(scheme, "http") && strcmp(scheme, "https"))) {
		snprintf(err, err_size, "\"%s\": the scheme must be http or "
			 "https", url);
		goto out;
	}
	if (cu->url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    !host[0]) {
		snprintf(err, err_size, "\"%s\" has no host", url);
		goto out;
	}
	ret = 0;
out:
	cu->free(scheme);
	cu->free(host);
	cu->url_cleanup(u);
	return ret;
}
#endif

/* A base URL and /v1/traces: "http://h:4318" and "http://h:4318/" give
 * "http://h:4318/v1/traces", "http://h/otel" "http://h/otel/v1/traces".
 * A URL whose path already ends in /v1/traces is kept. */
static int traces_url(char *out, size_t size, const char *base)
{
	size_t len = strlen(base), tail = strlen(OTLP_TRACES_PATH);
	const char *sep = "";

	if (len >= tail && !strcmp(base + len - tail, OTLP_TRACES_PATH))
		tail = 0;
	else
		sep = len && base[len - 1] == '/' ? "" : "/";
	if (snprintf(out, size, "%.*s%s%s", (int)len, base, sep,
		     tail ? &OTLP_TRACES_PATH[1] : "") >= (int)size)
		return -1;
	return 0;
}

static int hex(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Copies [s, s+n) into out without its surrounding blanks, decoding
 * %XX when decode. Returns 0, or -1 (too long, a bad escape). */
static int copy_trimmed(char *out, size_t size, const char *s, size_t n,
			bool decode)
{
	size_t o = 0;

	while (n && isspace((unsigned char)*s))
		s++, n--;
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (decode && c == '%') {
			int hi, lo;

			if (i + 2 >= n)
				return -1;
			hi = hex((unsigned char)s[i + 1]);
			lo = hex((unsigned char)s[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			c = (char)(hi << 4 | lo);
			i += 2;
		}
		if (o + 1 >= size)
			return -1;
		out[o++] = c;
	}
	out[o] = '\0';
	return 0;
}

int otlp_parse_pairs(const char *s,
		     int (*put)(void *user, const char *key,
				const char *value, char *err,
				size_t err_size),
		     void *user, char *err, size_t err_size)
{
	char key[OTLP_KEY_MAX], value[OTLP_VALUE_MAX * 2];
	int n = 0;

	while (*s) {
		size_t len = strcspn(s, ",");
		const char *eq = memchr(s, '=', len);
		const char *p;

		/* "a=1,,b=2" and a trailing comma are tolerated */
		for (p = s; p < s + len && isspace((unsigned char)*p); p++)
			;
		if (p == s + len)
			goto next;
		if (!eq) {
			snprintf(err, err_size, "\"%.*s\" is not key=value",
				 (int)len, s);
			return -1;
		}
		if (copy_trimmed(key, sizeof(key), s, (size_t)(eq - s),
				 false) || !key[0]) {
			snprintf(err, err_size, "\"%.*s\": the key is empty "
				 "or longer than %d bytes", (int)len, s,
				 OTLP_KEY_MAX - 1);
			return -1;
		}
		if (copy_trimmed(value, sizeof(value), eq + 1,
				 (size_t)(s + len - eq - 1), true)) {
			snprintf(err, err_size, "\"%s\": the value has a bad "
				 "%%XX escape or is too long", key);
			return -1;
		}
		if (put(user, key, value, err, err_size))
			return -1;
		n++;
next:
		s += len;
		if (*s == ',')
			s++;
	}
	return n;
}

/* An HTTP header field name: a token (RFC 9110), no blank, no ':'. */
static bool header_name_ok(const char *k)
{
	for (; *k; k++)
		if (!isalnum((unsigned char)*k) && !strchr("!#$%&'*+-.^_`|~", *k))
			return false;
	return true;
}

static int put_header(void *user, const char *key, const char *value,
		      char *err, size_t err_size)
{
	struct otlp_config *c = user;
	size_t i;

	if (!header_name_ok(key)) {
		snprintf(err, err_size, "\"%s\" is not a header name", key);
		return -1;
	}
	/* a CR or LF decoded from %0D%0A would end the header early and
	 * start another */
	for (const char *v = value; *v; v++)
		if ((unsigned char)*v < 0x20 && *v != '\t') {
			snprintf(err, err_size, "the value of header \"%s\" "
				 "has a control character", key);
			return -1;
		}
	/* the same name again (the traces variable after the general one)
	 * replaces the value */
	for (i = 0; i < c->n_headers; i++) {
		size_t kl = strlen(key);

		if (!strncasecmp(c->headers[i], key, kl) &&
		    c->headers[i][kl] == ':')
			break;
	}
	if (i == c->n_headers && c->n_headers >= OTLP_MAX_HEADERS) {
		snprintf(err, err_size, "more than %d headers",
			 OTLP_MAX_HEADERS);
		return -1;
	}
	if (snprintf(c->headers[i], sizeof(c->headers[i]), "%s: %s", key,
		     value) >= (int)sizeof(c->headers[i])) {
		snprintf(err, err_size, "header \"%s\" is longer than %d "
			 "bytes", key, OTLP_HEADER_MAX - 1);
		return -1;
	}
	if (i == c->n_headers)
		c->n_headers++;
	return 0;
}

static int put_resource(void *user, const char *key, const char *value,
			char *err, size_t err_size)
{
	struct otlp_config *c = user;
	size_t i;

	if (strlen(value) >= OTLP_VALUE_MAX) {
		snprintf(err, err_size, "the value of \"%s\" is longer than "
			 "%d bytes", key, OTLP_VALUE_MAX - 1);
		return -1;
	}
	for (i = 0; i < c->n_resource; i++)
		if (!strcmp(c->resource[i].key, key))
			break;
	if (i == c->n_resource) {
		if (c->n_resource >= OTLP_MAX_RESOURCE) {
			snprintf(err, err_size, "more than %d attributes",
				 OTLP_MAX_RESOURCE);
			return -1;
		}
		c->n_resource++;
	}
	snprintf(c->resource[i].key, sizeof(c->resource[i].key), "%s", key);
	snprintf(c->resource[i].value, sizeof(c->resource[i].value), "%s",
		 value);
	return 0;
}

static int env_pairs(struct otlp_config *c, otlp_getenv_fn get,
		     const char *name,
		     int (*put)(void *, const char *, const char *, char *,
				size_t),
		     char *err, size_t err_size)
{
	const char *v = env(get, name);
	char why[256];

	if (!v)
		return 0;
	if (otlp_parse_pairs(v, put, c, why, sizeof(why)) < 0) {
		snprintf(err, err_size, "%s: %s", name, why);
		return -1;
	}
	return 0;
}

static int env_ms(otlp_getenv_fn get, const char *name, uint32_t *ms,
		  char *err, size_t err_size)
{
	const char *v = env(get, name);
	char *end;
	unsigned long n;

	if (!v)
		return 0;
	errno = 0;
	n = strtoul(v, &end, 10);
	if (errno || end == v || *end || !isdigit((unsigned char)*v) ||
	    n == 0 || n > 600000) {
		snprintf(err, err_size, "%s=\"%s\": want milliseconds, 1 to "
			 "600000", name, v);
		return -1;
	}
	*ms = (uint32_t)n;
	return 0;
}

/* The signal's own variable wins over the general one. */
static const char *env2(otlp_getenv_fn get, const char *traces,
			const char *general, const char **which)
{
	const char *v = env(get, traces);

	*which = traces;
	if (!v) {
		v = env(get, general);
		*which = general;
	}
	return v;
}

int otlp_config_resolve(struct otlp_config *c, const char *flag_endpoint,
			bool phase_spans, otlp_getenv_fn get, char *err,
			size_t err_size)
{
	const char *v, *which;
	bool whole = false;
	char why[256];

	memset(c, 0, sizeof(*c));
	c->timeout_ms = OTLP_DEFAULT_TIMEOUT_MS;
	c->gzip = true;
	c->phase_spans = phase_spans;

	if (flag_endpoint && *flag_endpoint) {
		c->url_from = "--otlp-endpoint";
		v = flag_endpoint;
	} else if ((v = env(get, ENV_TRACES_ENDPOINT))) {
		c->url_from = ENV_TRACES_ENDPOINT;
		whole = true;
	} else if ((v = env(get, ENV_ENDPOINT))) {
		c->url_from = ENV_ENDPOINT;
	} else {
		snprintf(err, err_size, "no endpoint: give --otlp-endpoint "
			 "URL or set %s", ENV_ENDPOINT);
		return -1;
	}
	if (otlp_url_check(v, why, sizeof(why))) {
		snprintf(err, err_size, "%s: %s", c->url_from, why);
		return -1;
	}
	/* the traces variable is the whole URL; the others are a base */
	if (whole) {
		if (strlen(v) >= sizeof(c->url))
			goto too_long;
		strcpy(c->url, v);
	} else if (traces_url(c->url, sizeof(c->url), v)) {
		goto too_long;
	}

	if (env_pairs(c, get, "OTEL_EXPORTER_OTLP_HEADERS", put_header, err,
		      err_size) ||
	    env_pairs(c, get, "OTEL_EXPORTER_OTLP_TRACES_HEADERS", put_header,
		      err, err_size) ||
	    env_pairs(c, get, "OTEL_RESOURCE_ATTRIBUTES", put_resource, err,
		      err_size))
		return -1;
	if ((v = env(get, "OTEL_SERVICE_NAME"))) {
		if (strlen(v) >= sizeof(c->service_name)) {
			snprintf(err, err_size, "OTEL_SERVICE_NAME is longer "
				 "than %d bytes", OTLP_VALUE_MAX - 1);
			return -1;
		}
		strcpy(c->service_name, v);
	}
	if (env_ms(get, "OTEL_EXPORTER_OTLP_TIMEOUT", &c->timeout_ms, err,
		   err_size) ||
	    env_ms(get, "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", &c->timeout_ms,
		   err, err_size))
		return -1;
	v = env2(get, "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
		 "OTEL_EXPORTER_OTLP_PROTOCOL", &which);
	if (v && strcmp(v, "http/protobuf")) {
		snprintf(err, err_size, "%s=\"%s\": only http/protobuf is "
			 "spoken", which, v);
		return -1;
	}
	v = env2(get, "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION",
		 "OTEL_EXPORTER_OTLP_COMPRESSION", &which);
	if (v && !strcmp(v, "none")) {
		c->gzip = false;
	} else if (v && strcmp(v, "gzip")) {
		snprintf(err, err_size, "%s=\"%s\": gzip or none", which, v);
		return -1;
	}
	return 0;

too_long:
	snprintf(err, err_size, "%s: the URL is longer than %d bytes",
		 c->url_from, OTLP_URL_MAX - 1 - (int)strlen(OTLP_TRACES_PATH));
	return -1;
}

/* Longer than this is as good as never: the batch is given up. */
#define RETRY_AFTER_MAX_S (24 * 3600)

int otlp_retry_after_ms(const char *value, time_t now, uint64_t *ms)
{
	const char *p = value;
	uint64_t s = 0;
	time_t when;

	while (*p == ' ' || *p == '\t')
		p++;
	if (isdigit((unsigned char)*p)) {
		for (; isdigit((unsigned char)*p); p++) {
			s = s * 10 + (uint64_t)(*p - '0');
			if (s > RETRY_AFTER_MAX_S)
				s = RETRY_AFTER_MAX_S;
		}
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			p++;
		if (*p)
			return -1;
		*ms = s * 1000;
		return 0;
	}
	/* an HTTP date always names its day: "Wed, 21 Oct 2015 ..." (and
	 * curl_getdate would take "tomorrow"-like words we do not want) */
	if (!isalpha((unsigned char)*p))
		return -1;
#ifdef OTLP_NO_CURL
	when = (time_t)-1;
#else
	{
		const struct otlp_curl *cu = otlp_curl(NULL, 0);

		when = cu ? cu->getdate(p, NULL) : (time_t)-1;
	}
#endif
	if (when == (time_t)-1)
		return -1;
	if (when <= now) {
		*ms = 0;
		return 0;
	}
	s = (uint64_t)(when - now);
	*ms = (s > RETRY_AFTER_MAX_S ? RETRY_AFTER_MAX_S : s) * 1000;
	return 0;
}

uint64_t otlp_backoff_ms(unsigned int attempt, uint32_t rnd)
{
	uint64_t step = OTLP_BACKOFF_FIRST_MS;

	while (attempt-- && step < OTLP_BACKOFF_MAX_MS)
		step *= 2;
	if (step > OTLP_BACKOFF_MAX_MS)
		step = OTLP_BACKOFF_MAX_MS;
	/* [step/2, step] */
	return step / 2 + (uint64_t)rnd % (step / 2 + 1);
}

bool otlp_status_retryable(long status)
{
	return status == 429 || status == 502 || status == 503 ||
	       status == 504;
}
