// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Field numbers from opentelemetry-proto (collector/trace/v1,
 * trace/v1, common/v1, resource/v1); OTLP keeps them stable.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "sink/output.h"
#include "sink/otlp/otlp_encode.h"

#ifndef HTTPTRACE_VERSION
#define HTTPTRACE_VERSION "0"
#endif

/* ExportTraceServiceRequest */
#define REQ_RESOURCE_SPANS 1
/* ResourceSpans */
#define RS_RESOURCE 1
#define RS_SCOPE_SPANS 2
/* Resource */
#define RES_ATTRIBUTES 1
/* ScopeSpans */
#define SS_SCOPE 1
#define SS_SPANS 2
/* InstrumentationScope */
#define SCOPE_NAME 1
#define SCOPE_VERSION 2
/* Span */
#define SPAN_TRACE_ID 1
#define SPAN_SPAN_ID 2
#define SPAN_PARENT_SPAN_ID 4
#define SPAN_NAME 5
#define SPAN_KIND 6
#define SPAN_START 7
#define SPAN_END 8
#define SPAN_ATTRIBUTES 9
#define SPAN_EVENTS 11
#define SPAN_STATUS 15
/* Span.Event */
#define EVENT_TIME 1
#define EVENT_NAME 2
#define EVENT_ATTRIBUTES 3
/* Status */
#define STATUS_MESSAGE 2
#define STATUS_CODE 3
/* KeyValue, AnyValue */
#define KV_KEY 1
#define KV_VALUE 2
#define ANY_STRING 1
#define ANY_BOOL 2
#define ANY_INT 3
/* ExportTraceServiceResponse, ExportTracePartialSuccess */
#define RESP_PARTIAL_SUCCESS 1
#define PARTIAL_REJECTED_SPANS 1

static void kv_str(struct pb_buf *b, uint32_t field, const char *key,
		   const char *value)
{
	size_t kv = pb_begin(b, field), v;

	pb_str(b, KV_KEY, key);
	v = pb_begin(b, KV_VALUE);
	pb_str(b, ANY_STRING, value);
	pb_end(b, v);
	pb_end(b, kv);
}

static void kv_int(struct pb_buf *b, uint32_t field, const char *key,
		   int64_t value)
{
	size_t kv = pb_begin(b, field), v;

	pb_str(b, KV_KEY, key);
	v = pb_begin(b, KV_VALUE);
	pb_int(b, ANY_INT, value);
	pb_end(b, v);
	pb_end(b, kv);
}

static void kv_bool(struct pb_buf *b, uint32_t field, const char *key,
		    bool value)
{
	size_t kv = pb_begin(b, field), v;

	pb_str(b, KV_KEY, key);
	v = pb_begin(b, KV_VALUE);
	pb_uint(b, ANY_BOOL, value);
	pb_end(b, v);
	pb_end(b, kv);
}

/* An attribute of the model, typed as its kind says. */
static void kv_attr(struct pb_buf *b, uint32_t field, enum sink_attr id,
		    const char *value)
{
	if (sink_attr_kind(id) == SINK_ATTR_INT)
		kv_int(b, field, sink_attr_name(id), strtoll(value, NULL, 10));
	else
		kv_str(b, field, sink_attr_name(id), value);
}

bool otlp_timeline_exported(const struct timeline *tl)
{
	return !output_flag(&tl->tls.not_decoded);
}

static void random_bytes(const struct otlp_span_opts *o, void *buf,
			 size_t n)
{
	uint8_t *p = buf;
	size_t got = 0;

	if (o->random) {
		o->random(buf, n);
		return;
	}
	while (got < n) {
		ssize_t r = getrandom(p + got, n - got, 0);

		if (r <= 0)
			break;
		got += (size_t)r;
	}
	/* getrandom() does not fail once the kernel's pool is ready (it
	 * is, long before a tracer runs); should it, ids must still be
	 * unique and never all zero: a counter mixed by splitmix64 */
	if (got < n) {
		static _Thread_local uint64_t x = 0x9e3779b97f4a7c15ULL;

		for (size_t i = 0; i < n; i++) {
			uint64_t z = (x += 0x9e3779b97f4a7c15ULL);

			z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
			z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
			p[i] = (uint8_t)(z ^ (z >> 31)) | (i == 0);
		}
	}
}

static uint64_t unix_ns(const struct otlp_span_opts *o, uint64_t mono_ns)
{
	return mono_ns + (uint64_t)o->mono_to_realtime_ns;
}

/* "http://example.com:8080/path": a client's url.full, without the
 * query (it may carry secrets) and without a default port. */
static void put_url_full(struct pb_buf *b, const struct sink_attrs *a)
{
	const char *scheme = a->value[SINK_ATTR_URL_SCHEME];
	const char *host = a->value[SINK_ATTR_SERVER_ADDRESS];
	const char *port = a->value[SINK_ATTR_SERVER_PORT];
	const char *path = a->value[SINK_ATTR_URL_PATH];
	bool v6 = host && strchr(host, ':');
	bool default_port;
	char url[TL_HOST_MAX + TL_TARGET_MAX + 32];

	if (!scheme || !host || !path)
		return;
	default_port = !port ||
		       (!strcmp(scheme, "http") && !strcmp(port, "80")) ||
		       (!strcmp(scheme, "https") && !strcmp(port, "443"));
	snprintf(url, sizeof(url), "%s://%s%s%s%s%s%s", scheme,
		 v6 ? "[" : "", host, v6 ? "]" : "",
		 default_port ? "" : ":", default_port ? "" : port, path);
	kv_str(b, SPAN_ATTRIBUTES, "url.full", url);
}

static void put_event(struct pb_buf *b, const struct timeline *tl,
		      const struct tl_event *e,
		      const struct otlp_span_opts *o)
{
	struct tl_name name = tl_hook_name_n(e->hook);
	size_t ev = pb_begin(b, SPAN_EVENTS);
	char text[TL_ADDR_STRLEN];

	pb_fixed64(b, EVENT_TIME, unix_ns(o, e->ts_ns));
	pb_bytes(b, EVENT_NAME, name.str, name.len);
	switch (e->hook) {
	case TL_DNSStart:
		if (e->host[0])
			kv_str(b, EVENT_ATTRIBUTES, "dns.question.name",
			       e->host);
		break;
	case TL_DNSDone:
		for (uint32_t i = 0; i < e->n_addrs && i < HT_DNS_MAX_ADDRS;
		     i++)
			if (tl_addr_text(&e->addrs[i], text)) {
				/* the first answer; the JSON output has all */
				kv_str(b, EVENT_ATTRIBUTES, "dns.answer",
				       text);
				break;
			}
		break;
	case TL_ConnectStart:
	case TL_ConnectDone:
		if (e->n_addrs && tl_addr_text(&e->addrs[0], text)) {
			kv_str(b, EVENT_ATTRIBUTES, "network.peer.address",
			       text);
			if (e->addrs[0].port)
				kv_int(b, EVENT_ATTRIBUTES,
				       "network.peer.port", e->addrs[0].port);
		}
		break;
	case TL_GotConn:
		kv_bool(b, EVENT_ATTRIBUTES, "httptrace.reused", tl->reused);
		if (tl->reused && tl->idle_us >= 0)
			kv_int(b, EVENT_ATTRIBUTES, "httptrace.idle_time_us",
			       tl->idle_us);
		break;
	case TL_Got1xxResponse:
		if (e->status)
			kv_int(b, EVENT_ATTRIBUTES,
			       "http.response.status_code", e->status);
		break;
	default:
		break;
	}
	if (e->err) {
		char words[TL_ERR_WORDS_LEN];

		kv_str(b, EVENT_ATTRIBUTES, "error.message",
		       tl_err_words(e->hook, e->err, words, sizeof(words)));
	}
	pb_end(b, ev);
}

/* The span name the HTTP conventions give: the method, "HTTP" when it
 * is not a known one. */
static const char *span_name(const struct sink_attrs *a)
{
	const char *m = a->value[SINK_ATTR_HTTP_REQUEST_METHOD];

	return m && strcmp(m, "_OTHER") ? m : "HTTP";
}

/* The child spans of the phases, from the steps (idle gaps left out):
 * each starts where the steps before it end. */
static size_t put_phase_spans(struct pb_buf *b, const struct timeline *tl,
			      const uint8_t trace_id[16],
			      const uint8_t parent[8],
			      const struct otlp_span_opts *o)
{
	uint64_t at_us = 0;
	uint32_t n = tl->n_steps < TL_MAX_STEPS ? tl->n_steps : TL_MAX_STEPS;
	size_t spans = 0;

	for (uint32_t i = 0; i < n; i++) {
		const struct tl_step *st = &tl->steps[i];
		uint64_t us = st->us > 0 ? (uint64_t)st->us : 0;
		uint8_t id[8];
		size_t sp;

		if (st->phase >= TL_PHASE_IDLE) {
			at_us += us;
			continue;
		}
		random_bytes(o, id, sizeof(id));
		sp = pb_begin(b, SS_SPANS);
		pb_bytes(b, SPAN_TRACE_ID, trace_id, 16);
		pb_bytes(b, SPAN_SPAN_ID, id, sizeof(id));
		pb_bytes(b, SPAN_PARENT_SPAN_ID, parent, 8);
		pb_str(b, SPAN_NAME, tl_phase_name(st->phase));
		pb_uint(b, SPAN_KIND, OTLP_KIND_INTERNAL);
		pb_fixed64(b, SPAN_START,
			   unix_ns(o, tl->start_ns + at_us * 1000));
		pb_fixed64(b, SPAN_END,
			   unix_ns(o, tl->start_ns + (at_us + us) * 1000));
		pb_end(b, sp);
		at_us += us;
		spans++;
	}
	return spans;
}

size_t otlp_encode_spans(struct pb_buf *b, const struct timeline *tl,
			 const struct sink_attrs *a,
			 const struct otlp_span_opts *o)
{
	uint8_t ids[16 + 8];
	uint64_t end_ns = tl->end_ns > tl->start_ns ? tl->end_ns :
						       tl->start_ns;
	bool client = tl->role != HT_ROLE_SERVER;
	uint32_t n_events = tl->n_events < TL_MAX_EVENTS ? tl->n_events :
							  TL_MAX_EVENTS;
	size_t sp;

	random_bytes(o, ids, sizeof(ids));
	sp = pb_begin(b, SS_SPANS);
	pb_bytes(b, SPAN_TRACE_ID, ids, 16);
	pb_bytes(b, SPAN_SPAN_ID, ids + 16, 8);
	pb_str(b, SPAN_NAME, span_name(a));
	pb_uint(b, SPAN_KIND, client ? OTLP_KIND_CLIENT : OTLP_KIND_SERVER);
	pb_fixed64(b, SPAN_START, unix_ns(o, tl->start_ns));
	pb_fixed64(b, SPAN_END, unix_ns(o, end_ns));
	for (unsigned int i = 0; i < SINK_ATTR_COUNT; i++)
		if (a->value[i] && sink_attr_scope(i) == SINK_ATTR_SPAN)
			kv_attr(b, SPAN_ATTRIBUTES, i, a->value[i]);
	if (client)
		put_url_full(b, a);
	if (!output_flag(&tl->complete))
		kv_bool(b, SPAN_ATTRIBUTES, "httptrace.complete", false);
	for (uint32_t i = 0; i < n_events; i++)
		put_event(b, tl, &tl->events[i], o);
	if (a->value[SINK_ATTR_ERROR_TYPE]) {
		size_t st = pb_begin(b, SPAN_STATUS);

		if (tl->error[0])
			pb_bytes(b, STATUS_MESSAGE, tl->error,
				 strnlen(tl->error, sizeof(tl->error)));
		pb_uint(b, STATUS_CODE, OTLP_STATUS_ERROR);
		pb_end(b, st);
	}
	pb_end(b, sp);
	if (!o->phase_spans)
		return 1;
	return 1 + put_phase_spans(b, tl, ids, ids + 16, o);
}

void otlp_encode_resource(struct pb_buf *b, const struct sink_attrs *a,
			  const struct otlp_config *c)
{
	const char *service = c->service_name[0] ? c->service_name : NULL;

	for (unsigned int i = 0; i < SINK_ATTR_COUNT; i++)
		if (a->value[i] && sink_attr_scope(i) == SINK_ATTR_RESOURCE)
			kv_attr(b, RES_ATTRIBUTES, i, a->value[i]);
	for (size_t i = 0; i < c->n_resource; i++) {
		const struct otlp_kv *kv = &c->resource[i];
		bool ours = false;

		if (!strcmp(kv->key, "service.name")) {
			if (!service)
				service = kv->value;
			continue;
		}
		/* what the timeline says of its process stands */
		for (unsigned int j = 0; j < SINK_ATTR_COUNT; j++)
			if (a->value[j] &&
			    sink_attr_scope(j) == SINK_ATTR_RESOURCE &&
			    !strcmp(kv->key, sink_attr_name(j)))
				ours = true;
		if (!ours)
			kv_str(b, RES_ATTRIBUTES, kv->key, kv->value);
	}
	if (!service)
		service = a->value[SINK_ATTR_PROCESS_EXECUTABLE_NAME];
	/* the conventions' fallback for a service nobody named */
	kv_str(b, RES_ATTRIBUTES, "service.name",
	       service ? service : "unknown_service");
	kv_str(b, RES_ATTRIBUTES, "telemetry.sdk.name", OTLP_SCOPE_NAME);
	kv_str(b, RES_ATTRIBUTES, "telemetry.sdk.version", HTTPTRACE_VERSION);
}

void otlp_encode_request(struct pb_buf *b, const struct otlp_group *g,
			 size_t n)
{
	pb_reset(b);
	for (size_t i = 0; i < n; i++) {
		size_t rs, ss, scope;

		if (!g[i].spans.len)
			continue;
		rs = pb_begin(b, REQ_RESOURCE_SPANS);
		pb_bytes(b, RS_RESOURCE, g[i].resource.p, g[i].resource.len);
		ss = pb_begin(b, RS_SCOPE_SPANS);
		scope = pb_begin(b, SS_SCOPE);
		pb_str(b, SCOPE_NAME, OTLP_SCOPE_NAME);
		pb_str(b, SCOPE_VERSION, HTTPTRACE_VERSION);
		pb_end(b, scope);
		pb_raw(b, g[i].spans.p, g[i].spans.len);
		pb_end(b, ss);
		pb_end(b, rs);
	}
}

/* Reads a varint at *p; false past end or beyond 10 bytes. */
static bool get_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	*v = 0;
	for (int shift = 0; shift < 70 && *p < end; shift += 7) {
		uint8_t byte = *(*p)++;

		*v |= (uint64_t)(byte & 0x7f) << shift;
		if (!(byte & 0x80))
			return true;
	}
	return false;
}

/* Skips a field of wire type wt; false when it runs past end. */
static bool skip_field(const uint8_t **p, const uint8_t *end,
		       unsigned int wt)
{
	uint64_t v;

	switch (wt) {
	case PB_VARINT:
		return get_varint(p, end, &v);
	case PB_FIXED64:
		if (end - *p < 8)
			return false;
		*p += 8;
		return true;
	case PB_FIXED32:
		if (end - *p < 4)
			return false;
		*p += 4;
		return true;
	case PB_LEN:
		if (!get_varint(p, end, &v) || v > (uint64_t)(end - *p))
			return false;
		*p += v;
		return true;
	default:
		return false;
	}
}

int otlp_decode_response(const uint8_t *p, size_t n, int64_t *rejected)
{
	const uint8_t *end;
	uint64_t key, v;

	*rejected = 0;
	if (!n)
		return 0;
	end = p + n;
	while (p < end) {
		if (!get_varint(&p, end, &key))
			return -1;
		if (key >> 3 == RESP_PARTIAL_SUCCESS && (key & 7) == PB_LEN) {
			const uint8_t *q, *qend;

			if (!get_varint(&p, end, &v) ||
			    v > (uint64_t)(end - p))
				return -1;
			q = p;
			qend = p + v;
			p = qend;
			while (q < qend) {
				if (!get_varint(&q, qend, &key))
					return -1;
				if (key >> 3 == PARTIAL_REJECTED_SPANS &&
				    (key & 7) == PB_VARINT) {
					if (!get_varint(&q, qend, &v))
						return -1;
					*rejected = (int64_t)v;
				} else if (!skip_field(&q, qend, key & 7)) {
					return -1;
				}
			}
		} else if (!skip_field(&p, end, key & 7)) {
			return -1;
		}
	}
	return 0;
}
