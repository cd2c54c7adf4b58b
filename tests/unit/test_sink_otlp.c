// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The OTLP exporter: its protobuf writer, the spans and resources it
 * encodes from known timelines (read back with a decoder of this
 * file's own, by the field numbers of opentelemetry-proto), its
 * configuration from the flag and the OTEL_* variables, and the rules
 * of its retries. The whole sink once against a port nobody listens
 * on: what it could not send is counted.
 */
#include <arpa/inet.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "unit.h"
#include "sink_timelines.h"
#include "sink/attrs.h"
#include "sink/otlp/otlp_config.h"
#include "sink/otlp/otlp_curl.h"
#include "sink/otlp/otlp_encode.h"
#include "sink/otlp/otlp_pb.h"
#include "sink/otlp/sink_otlp.h"
#include "sink/sink.h"

/* ---- a protobuf reader, by field number ---------------------------- */

struct msg {
	const uint8_t *p;
	size_t n;
};

static bool rd_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	*v = 0;
	for (int s = 0; s < 64 && *p < end; s += 7) {
		uint8_t b = *(*p)++;

		*v |= (uint64_t)(b & 0x7f) << s;
		if (!(b & 0x80))
			return true;
	}
	return false;
}

/*
 * The index-th occurrence (from 0) of field in m: its wire type, and
 * its value as a number (varint, fixed) or as bytes (length-delimited).
 * False when there is none or the bytes are not protobuf.
 */
static bool field_at(struct msg m, uint32_t field, int index, int *wt,
		     uint64_t *num, struct msg *sub)
{
	const uint8_t *p = m.p, *end = m.p + m.n;

	while (p < end) {
		uint64_t key, v = 0;
		struct msg s = { NULL, 0 };

		if (!rd_varint(&p, end, &key))
			return false;
		switch (key & 7) {
		case 0:
			if (!rd_varint(&p, end, &v))
				return false;
			break;
		case 1:
			if (end - p < 8)
				return false;
			for (int i = 7; i >= 0; i--)
				v = v << 8 | p[i];
			p += 8;
			break;
		case 5:
			if (end - p < 4)
				return false;
			for (int i = 3; i >= 0; i--)
				v = v << 8 | p[i];
			p += 4;
			break;
		case 2:
			if (!rd_varint(&p, end, &v) || v > (uint64_t)(end - p))
				return false;
			s.p = p;
			s.n = v;
			p += v;
			break;
		default:
			return false;
		}
		if (key >> 3 == field && index-- == 0) {
			*wt = (int)(key & 7);
			*num = v;
			*sub = s;
			return true;
		}
	}
	return false;
}

static int count_field(struct msg m, uint32_t field)
{
	int wt, n = 0;
	uint64_t v;
	struct msg s;

	while (field_at(m, field, n, &wt, &v, &s))
		n++;
	return n;
}

/* The length-delimited field's bytes; {NULL, 0} when absent or not
 * length-delimited. */
static struct msg sub_at(struct msg m, uint32_t field, int index)
{
	int wt;
	uint64_t v;
	struct msg s;

	if (!field_at(m, field, index, &wt, &v, &s) || wt != 2)
		return (struct msg){ NULL, 0 };
	return s;
}

static bool num_at(struct msg m, uint32_t field, int want_wt, uint64_t *v)
{
	int wt;
	struct msg s;

	return field_at(m, field, 0, &wt, v, &s) && wt == want_wt;
}

static bool msg_is(struct msg m, const char *s)
{
	return m.p && m.n == strlen(s) && !memcmp(m.p, s, m.n);
}

/* The AnyValue of the KeyValue called key in repeated field f. */
static struct msg attr(struct msg m, uint32_t f, const char *key)
{
	int n = count_field(m, f);

	for (int i = 0; i < n; i++) {
		struct msg kv = sub_at(m, f, i);

		if (msg_is(sub_at(kv, 1, 0), key))
			return sub_at(kv, 2, 0);
	}
	return (struct msg){ NULL, 0 };
}

/* AnyValue.string_value */
static bool attr_str(struct msg m, uint32_t f, const char *key,
		     const char *want)
{
	return msg_is(sub_at(attr(m, f, key), 1, 0), want);
}

/* AnyValue.int_value */
static bool attr_int(struct msg m, uint32_t f, const char *key,
		     int64_t want)
{
	uint64_t v;
	struct msg any = attr(m, f, key);

	return any.p && num_at(any, 3, 0, &v) && (int64_t)v == want;
}

static bool attr_bool(struct msg m, uint32_t f, const char *key, bool want)
{
	uint64_t v;
	struct msg any = attr(m, f, key);

	return any.p && num_at(any, 2, 0, &v) && (v != 0) == want;
}

/* ---- known timelines ------------------------------------------------- */

#define OFFSET_NS 1700000000000000000LL  /* monotonic 0 = this Unix ns */
#define T0 5000000000ULL                 /* GetConn, monotonic */

static uint8_t next_byte;

/* ids 01 02 03 ...: known, and different for every span */
static void counting_random(void *buf, size_t n)
{
	uint8_t *p = buf;

	for (size_t i = 0; i < n; i++)
		p[i] = ++next_byte;
}

static void add_event(struct timeline *tl, enum tl_hook hook,
		      uint64_t at_us)
{
	struct tl_event *e = &tl->events[tl->n_events++];

	memset(e, 0, sizeof(*e));
	e->hook = hook;
	e->ts_ns = T0 + at_us * 1000;
}

static void client_get(struct timeline *tl)
{
	struct tl_event *e;

	curl_get_base(tl, "/a/b?token=secret");
	tl->complete = true;
	tl->start_ns = T0;
	tl->end_ns = T0 + 900000;
	add_event(tl, TL_GetConn, 0);
	add_event(tl, TL_DNSStart, 10);
	e = &tl->events[tl->n_events - 1];
	strcpy(e->host, "example.test");
	add_event(tl, TL_DNSDone, 110);
	e = &tl->events[tl->n_events - 1];
	e->n_addrs = 1;
	addr4(&e->addrs[0], "127.0.0.2", 0);
	add_event(tl, TL_ConnectStart, 120);
	e = &tl->events[tl->n_events - 1];
	e->n_addrs = 1;
	addr4(&e->addrs[0], "127.0.0.2", 8080);
	add_event(tl, TL_ConnectDone, 300);
	add_event(tl, TL_GotConn, 300);
	add_event(tl, TL_WroteHeaders, 310);
	add_event(tl, TL_WroteRequest, 310);
	add_event(tl, TL_GotFirstResponseByte, 800);
	add_event(tl, TL_PutIdleConn, 900);
	/* dns 100, idle 10, connect 180, send 10, wait 490, receive 100,
	 * idle 10 = 900 */
	tl->steps[0] = (struct tl_step){ TL_PHASE_IDLE, 10 };
	tl->steps[1] = (struct tl_step){ TL_PHASE_DNS, 100 };
	tl->steps[2] = (struct tl_step){ TL_PHASE_IDLE, 10 };
	tl->steps[3] = (struct tl_step){ TL_PHASE_CONNECT, 180 };
	tl->steps[4] = (struct tl_step){ TL_PHASE_SEND, 10 };
	tl->steps[5] = (struct tl_step){ TL_PHASE_WAIT, 490 };
	tl->steps[6] = (struct tl_step){ TL_PHASE_RECEIVE, 100 };
	tl->n_steps = 7;
}

static void server_error(struct timeline *tl)
{
	memset(tl, 0, sizeof(*tl));
	tl->pid = 77;
	strcpy(tl->comm, "nginx");
	strcpy(tl->container.id, "c0ffee");
	tl->role = HT_ROLE_SERVER;
	addr4(&tl->saddr, "10.0.0.1", 443);
	addr4(&tl->daddr, "10.0.0.9", 41000);
	strcpy(tl->method, "BREW");   /* no method the conventions know */
	strcpy(tl->target, "/pot");
	strcpy(tl->version, "HTTP/1.1");
	tl->status = 503;
	tl->grpc_status = -1;
	tl->complete = true;
	tl->start_ns = T0;
	tl->end_ns = T0 + 2000;
	strcpy(tl->error, "the server answered 503");
}

static struct otlp_config no_env_config(void)
{
	struct otlp_config c;

	memset(&c, 0, sizeof(c));
	strcpy(c.url, "http://127.0.0.1:4318/v1/traces");
	c.timeout_ms = OTLP_DEFAULT_TIMEOUT_MS;
	c.gzip = true;
	return c;
}

/* ---- the writer --------------------------------------------------- */

static void test_pb_writer(void)
{
	struct pb_buf b = { 0 };
	uint8_t big[300];
	size_t m;

	pb_uint(&b, 1, 300);
	ASSERT_INT(b.len, 3);
	CHECK(b.p[0] == 0x08 && b.p[1] == 0xac && b.p[2] == 0x02);
	pb_reset(&b);
	pb_int(&b, 3, -1);           /* int64 -1: ten bytes of varint */
	CHECK_INT(b.len, 11);
	pb_reset(&b);
	pb_fixed64(&b, 7, 0x0102030405060708ULL);
	ASSERT_INT(b.len, 9);
	CHECK(b.p[0] == (7 << 3 | 1) && b.p[1] == 0x08 && b.p[8] == 0x01);
	pb_reset(&b);
	/* a nested message longer than 127 bytes: its length takes two
	 * bytes and the contents move on by one */
	memset(big, 'x', sizeof(big));
	m = pb_begin(&b, 2);
	pb_bytes(&b, 1, big, sizeof(big));
	pb_end(&b, m);
	ASSERT_INT(b.len, 1 + 2 + 1 + 2 + 300);
	CHECK(b.p[0] == 0x12 && b.p[1] == 0xaf && b.p[2] == 0x02);
	CHECK(b.p[3] == 0x0a && b.p[4] == 0xac && b.p[5] == 0x02);
	CHECK(b.p[6] == 'x' && b.p[b.len - 1] == 'x');
	CHECK(!b.oom);
	pb_free(&b);
}

/* ---- spans ---------------------------------------------------------- */

static void test_client_span(void)
{
	struct otlp_span_opts o = { OFFSET_NS, false, counting_random };
	struct timeline tl;
	struct sink_attrs a;
	struct pb_buf b = { 0 };
	struct msg all, sp, ev;
	uint64_t v;
	static const char *const hooks[] = {
		"GetConn", "DNSStart", "DNSDone", "ConnectStart",
		"ConnectDone", "GotConn", "WroteHeaders", "WroteRequest",
		"GotFirstResponseByte", "PutIdleConn",
	};

	client_get(&tl);
	sink_attrs_of(&a, &tl);
	next_byte = 0;
	CHECK_INT(otlp_encode_spans(&b, &tl, &a, &o), 1);
	all = (struct msg){ b.p, b.len };
	ASSERT_INT(count_field(all, 2), 1);   /* ScopeSpans.spans */
	sp = sub_at(all, 2, 0);
	/* trace id 01..10, span id 11..18 */
	ASSERT_INT(sub_at(sp, 1, 0).n, 16);
	CHECK(sub_at(sp, 1, 0).p[0] == 1 && sub_at(sp, 1, 0).p[15] == 16);
	ASSERT_INT(sub_at(sp, 2, 0).n, 8);
	CHECK(sub_at(sp, 2, 0).p[0] == 17);
	CHECK_INT(count_field(sp, 4), 0);     /* no parent */
	CHECK(msg_is(sub_at(sp, 5, 0), "GET"));
	CHECK(num_at(sp, 6, 0, &v) && v == 3); /* CLIENT */
	CHECK(num_at(sp, 7, 1, &v) && v == (uint64_t)OFFSET_NS + T0);
	CHECK(num_at(sp, 8, 1, &v) && v == (uint64_t)OFFSET_NS + T0 + 900000);
	CHECK(attr_str(sp, 9, "http.request.method", "GET"));
	CHECK(attr_int(sp, 9, "http.response.status_code", 200));
	CHECK(attr_str(sp, 9, "server.address", "example.test"));
	CHECK(attr_int(sp, 9, "server.port", 8080));
	CHECK(attr_str(sp, 9, "network.peer.address", "127.0.0.2"));
	CHECK(attr_int(sp, 9, "network.peer.port", 8080));
	CHECK(attr_str(sp, 9, "network.protocol.version", "1.1"));
	CHECK(attr_str(sp, 9, "url.scheme", "http"));
	CHECK(attr_str(sp, 9, "url.path", "/a/b"));
	/* no query: it may carry secrets */
	CHECK(attr_str(sp, 9, "url.full", "http://example.test:8080/a/b"));
	CHECK(!attr(sp, 9, "error.type").p);
	CHECK(!attr(sp, 9, "process.pid").p);  /* the resource's */
	CHECK(!attr(sp, 9, "httptrace.complete").p);
	ASSERT_INT(count_field(sp, 11), 10);
	for (int i = 0; i < 10; i++) {
		ev = sub_at(sp, 11, i);
		CHECK(msg_is(sub_at(ev, 2, 0), hooks[i]));
	}
	ev = sub_at(sp, 11, 1);
	CHECK(num_at(ev, 1, 1, &v) && v == (uint64_t)OFFSET_NS + T0 + 10000);
	CHECK(attr_str(ev, 3, "dns.question.name", "example.test"));
	CHECK(attr_str(sub_at(sp, 11, 2), 3, "dns.answer", "127.0.0.2"));
	CHECK(attr_int(sub_at(sp, 11, 3), 3, "network.peer.port", 8080));
	CHECK(attr_bool(sub_at(sp, 11, 5), 3, "httptrace.reused", false));
	ev = sub_at(sp, 11, 8);
	CHECK(num_at(ev, 1, 1, &v) && v == (uint64_t)OFFSET_NS + T0 + 800000);
	CHECK_INT(count_field(sp, 15), 0);    /* status unset */
	pb_free(&b);
}

static void test_server_error_span(void)
{
	struct otlp_span_opts o = { OFFSET_NS, false, counting_random };
	struct timeline tl;
	struct sink_attrs a;
	struct pb_buf b = { 0 };
	struct msg sp, st;
	uint64_t v;

	server_error(&tl);
	sink_attrs_of(&a, &tl);
	CHECK_INT(otlp_encode_spans(&b, &tl, &a, &o), 1);
	sp = sub_at((struct msg){ b.p, b.len }, 2, 0);
	ASSERT(sp.p);
	CHECK(msg_is(sub_at(sp, 5, 0), "HTTP"));  /* _OTHER method */
	CHECK(attr_str(sp, 9, "http.request.method", "_OTHER"));
	CHECK(num_at(sp, 6, 0, &v) && v == 2);    /* SERVER */
	CHECK(attr_str(sp, 9, "error.type", "503"));
	CHECK(!attr(sp, 9, "url.full").p);        /* a client's only */
	CHECK(attr_str(sp, 9, "url.path", "/pot"));
	st = sub_at(sp, 15, 0);
	ASSERT(st.p);
	CHECK(num_at(st, 3, 0, &v) && v == 2);    /* ERROR */
	CHECK(msg_is(sub_at(st, 2, 0), "the server answered 503"));
	pb_free(&b);
}

static void test_phase_spans(void)
{
	struct otlp_span_opts o = { OFFSET_NS, true, counting_random };
	static const char *const names[] = { "dns", "connect", "send",
					     "wait", "receive" };
	/* where each starts, in us after GetConn (idle gaps skipped) */
	static const uint64_t from_us[] = { 10, 120, 300, 310, 800 };
	static const uint64_t to_us[] = { 110, 300, 310, 800, 900 };
	struct timeline tl;
	struct sink_attrs a;
	struct pb_buf b = { 0 };
	struct msg all, parent, sp;
	uint64_t v;

	client_get(&tl);
	sink_attrs_of(&a, &tl);
	next_byte = 0;
	CHECK_INT(otlp_encode_spans(&b, &tl, &a, &o), 6);
	all = (struct msg){ b.p, b.len };
	ASSERT_INT(count_field(all, 2), 6);
	parent = sub_at(all, 2, 0);
	for (int i = 0; i < 5; i++) {
		sp = sub_at(all, 2, i + 1);
		CHECK(msg_is(sub_at(sp, 5, 0), names[i]));
		CHECK(num_at(sp, 6, 0, &v) && v == 1);  /* INTERNAL */
		/* same trace, the request's span as parent */
		CHECK(sub_at(sp, 1, 0).n == 16 &&
		      !memcmp(sub_at(sp, 1, 0).p, sub_at(parent, 1, 0).p, 16));
		CHECK(sub_at(sp, 4, 0).n == 8 &&
		      !memcmp(sub_at(sp, 4, 0).p, sub_at(parent, 2, 0).p, 8));
		CHECK(sub_at(sp, 2, 0).n == 8 &&
		      memcmp(sub_at(sp, 2, 0).p, sub_at(parent, 2, 0).p, 8));
		CHECK(num_at(sp, 7, 1, &v) &&
		      v == (uint64_t)OFFSET_NS + T0 + from_us[i] * 1000);
		CHECK(num_at(sp, 8, 1, &v) &&
		      v == (uint64_t)OFFSET_NS + T0 + to_us[i] * 1000);
	}
	pb_free(&b);
}

static void test_not_decoded_not_a_span(void)
{
	struct timeline tl;

	client_get(&tl);
	CHECK(otlp_timeline_exported(&tl));
	tl.tls.not_decoded = true;
	CHECK(!otlp_timeline_exported(&tl));
}

static void test_resource_and_request(void)
{
	struct otlp_span_opts o = { OFFSET_NS, false, counting_random };
	struct otlp_config c = no_env_config();
	struct otlp_group g[2];
	struct timeline tl;
	struct sink_attrs a;
	struct pb_buf req = { 0 };
	struct msg all, rs, res, ss, scope;

	memset(g, 0, sizeof(g));
	/* OTEL_RESOURCE_ATTRIBUTES: added, but what the timeline says of
	 * its process stands */
	strcpy(c.resource[0].key, "deployment.environment");
	strcpy(c.resource[0].value, "test");
	strcpy(c.resource[1].key, "process.pid");
	strcpy(c.resource[1].value, "1");
	c.n_resource = 2;
	client_get(&tl);
	sink_attrs_of(&a, &tl);
	otlp_encode_resource(&g[0].resource, &a, &c);
	otlp_encode_spans(&g[0].spans, &tl, &a, &o);
	otlp_encode_spans(&g[0].spans, &tl, &a, &o);
	server_error(&tl);
	sink_attrs_of(&a, &tl);
	strcpy(c.service_name, "edge");
	otlp_encode_resource(&g[1].resource, &a, &c);
	otlp_encode_spans(&g[1].spans, &tl, &a, &o);
	otlp_encode_request(&req, g, 2);
	all = (struct msg){ req.p, req.len };
	ASSERT_INT(count_field(all, 1), 2);        /* ResourceSpans */

	rs = sub_at(all, 1, 0);
	res = sub_at(rs, 1, 0);
	CHECK(attr_int(res, 1, "process.pid", 4242));
	CHECK(attr_str(res, 1, "process.executable.name", "curl"));
	CHECK(attr_str(res, 1, "service.name", "curl"));
	CHECK(attr_str(res, 1, "deployment.environment", "test"));
	CHECK(attr_str(res, 1, "telemetry.sdk.name", "httptrace-bpf"));
	CHECK(!attr(res, 1, "container.id").p);
	ASSERT_INT(count_field(rs, 2), 1);
	ss = sub_at(rs, 2, 0);
	scope = sub_at(ss, 1, 0);
	CHECK(msg_is(sub_at(scope, 1, 0), "httptrace-bpf"));
	CHECK_INT(count_field(ss, 2), 2);

	rs = sub_at(all, 1, 1);
	res = sub_at(rs, 1, 0);
	CHECK(attr_int(res, 1, "process.pid", 77));
	CHECK(attr_str(res, 1, "container.id", "c0ffee"));
	CHECK(attr_str(res, 1, "service.name", "edge")); /* OTEL_SERVICE_NAME */
	CHECK_INT(count_field(sub_at(rs, 2, 0), 2), 1);
	for (int i = 0; i < 2; i++) {
		pb_free(&g[i].resource);
		pb_free(&g[i].spans);
	}
	pb_free(&req);
}

static void test_decode_response(void)
{
	/* partial_success { rejected_spans: 3, error_message: "x" } */
	static const uint8_t partial[] = { 0x0a, 0x05, 0x08, 0x03,
					   0x12, 0x01, 'x' };
	static const uint8_t bad[] = { 0x0a, 0x09, 0x08 };
	int64_t rejected = -1;

	CHECK_INT(otlp_decode_response(NULL, 0, &rejected), 0);
	CHECK_INT(rejected, 0);
	CHECK_INT(otlp_decode_response(partial, sizeof(partial), &rejected),
		  0);
	CHECK_INT(rejected, 3);
	CHECK_INT(otlp_decode_response(bad, sizeof(bad), &rejected), -1);
}

/* ---- configuration ------------------------------------------------ */

static const char *fake_env[32][2];

static void env_set(const char *name, const char *value)
{
	int i;

	for (i = 0; fake_env[i][0]; i++)
		if (!strcmp(fake_env[i][0], name))
			break;
	fake_env[i][0] = name;
	fake_env[i][1] = value;
}

static void env_clear(void)
{
	memset(fake_env, 0, sizeof(fake_env));
}

static char *fake_getenv(const char *name)
{
	for (int i = 0; fake_env[i][0]; i++)
		if (!strcmp(fake_env[i][0], name))
			return (char *)fake_env[i][1];
	return NULL;
}

static struct otlp_config cfg;
static char err[512];

static int resolve(const char *flag)
{
	err[0] = '\0';
	return otlp_config_resolve(&cfg, flag, false, fake_getenv, err,
				   sizeof(err));
}

static void test_endpoint_precedence(void)
{
	env_clear();
	CHECK(!otlp_config_wanted(NULL, fake_getenv));
	CHECK(!otlp_config_wanted("", fake_getenv));
	CHECK(otlp_config_wanted("http://h:4318", fake_getenv));
	CHECK_INT(resolve(NULL), -1);
	CHECK(strstr(err, "--otlp-endpoint") != NULL);

	CHECK_INT(resolve("http://h:4318"), 0);
	CHECK_STR(cfg.url, "http://h:4318/v1/traces");
	CHECK_STR(cfg.url_from, "--otlp-endpoint");
	CHECK_INT(cfg.timeout_ms, OTLP_DEFAULT_TIMEOUT_MS);
	CHECK(cfg.gzip);
	CHECK_INT(resolve("http://h:4318/"), 0);
	CHECK_STR(cfg.url, "http://h:4318/v1/traces");
	CHECK_INT(resolve("https://h/otel"), 0);
	CHECK_STR(cfg.url, "https://h/otel/v1/traces");
	CHECK_INT(resolve("http://[::1]:4318/v1/traces"), 0);
	CHECK_STR(cfg.url, "http://[::1]:4318/v1/traces");

	env_set("OTEL_EXPORTER_OTLP_ENDPOINT", "http://base:4318");
	CHECK(otlp_config_wanted(NULL, fake_getenv));
	CHECK_INT(resolve(NULL), 0);
	CHECK_STR(cfg.url, "http://base:4318/v1/traces");
	CHECK_STR(cfg.url_from, "OTEL_EXPORTER_OTLP_ENDPOINT");
	/* the signal's variable is the whole URL, and wins */
	env_set("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://t:9/custom");
	CHECK_INT(resolve(NULL), 0);
	CHECK_STR(cfg.url, "http://t:9/custom");
	/* the flag wins over both */
	CHECK_INT(resolve("http://flag:4318"), 0);
	CHECK_STR(cfg.url, "http://flag:4318/v1/traces");
	env_clear();
}

static void test_endpoint_malformed(void)
{
	env_clear();
	CHECK_INT(resolve("collector:4318"), -1);
	CHECK(strstr(err, "--otlp-endpoint") != NULL);
	CHECK_INT(resolve("ftp://h/"), -1);
	CHECK(strstr(err, "http or https") != NULL);
	CHECK_INT(resolve("http://"), -1);
	CHECK_INT(resolve("http://h:99999"), -1);
	CHECK_INT(resolve("not a url"), -1);
	env_set("OTEL_EXPORTER_OTLP_ENDPOINT", "localhost");
	CHECK_INT(resolve(NULL), -1);
	CHECK(strstr(err, "OTEL_EXPORTER_OTLP_ENDPOINT") != NULL);
	env_clear();
}

static void test_headers(void)
{
	env_clear();
	env_set("OTEL_EXPORTER_OTLP_HEADERS",
		" api-key = secret%20value%3D ,X-Org=acme,,");
	env_set("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "x-org=traces");
	ASSERT_INT(resolve("http://h"), 0);
	ASSERT_INT(cfg.n_headers, 2);
	CHECK_STR(cfg.headers[0], "api-key: secret value=");
	CHECK_STR(cfg.headers[1], "x-org: traces");

	env_set("OTEL_EXPORTER_OTLP_TRACES_HEADERS", NULL);
	env_set("OTEL_EXPORTER_OTLP_HEADERS", "novalue");
	CHECK_INT(resolve("http://h"), -1);
	CHECK(strstr(err, "OTEL_EXPORTER_OTLP_HEADERS") != NULL);
	env_set("OTEL_EXPORTER_OTLP_HEADERS", "a=%zz");
	CHECK_INT(resolve("http://h"), -1);
	env_set("OTEL_EXPORTER_OTLP_HEADERS", "a=%4");
	CHECK_INT(resolve("http://h"), -1);
	env_set("OTEL_EXPORTER_OTLP_HEADERS", "bad name=x");
	CHECK_INT(resolve("http://h"), -1);
	env_set("OTEL_EXPORTER_OTLP_HEADERS", "=x");
	CHECK_INT(resolve("http://h"), -1);
	/* a decoded CR LF would smuggle a header of its own */
	env_set("OTEL_EXPORTER_OTLP_HEADERS", "a=1%0D%0AInjected: 2");
	CHECK_INT(resolve("http://h"), -1);
	CHECK(strstr(err, "control character") != NULL);
	env_clear();
}

static void test_resource_service_timeout(void)
{
	env_clear();
	env_set("OTEL_RESOURCE_ATTRIBUTES",
		"deployment.environment=prod,host.name=web%2C1,"
		"service.name=from-attrs");
	ASSERT_INT(resolve("http://h"), 0);
	ASSERT_INT(cfg.n_resource, 3);
	CHECK_STR(cfg.resource[0].key, "deployment.environment");
	CHECK_STR(cfg.resource[0].value, "prod");
	CHECK_STR(cfg.resource[1].value, "web,1");
	CHECK_STR(cfg.service_name, "");
	env_set("OTEL_SERVICE_NAME", "agent");
	ASSERT_INT(resolve("http://h"), 0);
	CHECK_STR(cfg.service_name, "agent");

	env_set("OTEL_EXPORTER_OTLP_TIMEOUT", "500");
	ASSERT_INT(resolve("http://h"), 0);
	CHECK_INT(cfg.timeout_ms, 500);
	env_set("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "700");
	ASSERT_INT(resolve("http://h"), 0);
	CHECK_INT(cfg.timeout_ms, 700);
	env_set("OTEL_EXPORTER_OTLP_TIMEOUT", "ten");
	CHECK_INT(resolve("http://h"), -1);
	env_set("OTEL_EXPORTER_OTLP_TIMEOUT", NULL);
	env_set("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", NULL);

	env_set("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc");
	CHECK_INT(resolve("http://h"), -1);
	CHECK(strstr(err, "http/protobuf") != NULL);
	env_set("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf");
	env_set("OTEL_EXPORTER_OTLP_COMPRESSION", "none");
	ASSERT_INT(resolve("http://h"), 0);
	CHECK(!cfg.gzip);
	env_set("OTEL_EXPORTER_OTLP_COMPRESSION", "zstd");
	CHECK_INT(resolve("http://h"), -1);
	env_clear();
}

/* ---- retries -------------------------------------------------------- */

static void test_retry_after(void)
{
	const struct otlp_curl *cu = otlp_curl(NULL, 0);
	uint64_t ms = 1;
	time_t when;

	ASSERT(cu);
	when = cu->getdate("Wed, 21 Oct 2015 07:28:00 GMT", NULL);

	CHECK_INT(otlp_retry_after_ms("120", 0, &ms), 0);
	CHECK_INT(ms, 120000);
	CHECK_INT(otlp_retry_after_ms(" 3\r\n", 0, &ms), 0);
	CHECK_INT(ms, 3000);
	CHECK_INT(otlp_retry_after_ms("0", 0, &ms), 0);
	CHECK_INT(ms, 0);
	/* absurd: capped at a day, which no batch waits for */
	CHECK_INT(otlp_retry_after_ms("99999999999999999999", 0, &ms), 0);
	CHECK_INT(ms, 24 * 3600 * 1000ULL);
	CHECK_INT(otlp_retry_after_ms("", 0, &ms), -1);
	CHECK_INT(otlp_retry_after_ms("-1", 0, &ms), -1);
	CHECK_INT(otlp_retry_after_ms("1.5", 0, &ms), -1);
	CHECK_INT(otlp_retry_after_ms("soon", 0, &ms), -1);
	ASSERT(when != (time_t)-1);
	CHECK_INT(otlp_retry_after_ms(" Wed, 21 Oct 2015 07:28:00 GMT\r\n",
				      when - 30, &ms), 0);
	CHECK_INT(ms, 30000);
	CHECK_INT(otlp_retry_after_ms("Wed, 21 Oct 2015 07:28:00 GMT",
				      when + 5, &ms), 0);
	CHECK_INT(ms, 0);
}

static void test_backoff_bounds(void)
{
	uint64_t step = OTLP_BACKOFF_FIRST_MS;

	for (unsigned int attempt = 0; attempt < 40; attempt++) {
		uint64_t lo = otlp_backoff_ms(attempt, 0);
		uint64_t hi = otlp_backoff_ms(attempt, UINT32_MAX);

		CHECK_INT(lo, step / 2);
		CHECK(hi >= lo && hi <= step);
		for (uint32_t r = 1; r < 100000; r += 7919) {
			uint64_t w = otlp_backoff_ms(attempt, r * 2654435761u);

			CHECK(w >= step / 2 && w <= step);
		}
		if (step < OTLP_BACKOFF_MAX_MS)
			step *= 2;
	}
	CHECK_INT(step, OTLP_BACKOFF_MAX_MS);
	CHECK(otlp_status_retryable(429));
	CHECK(otlp_status_retryable(502));
	CHECK(otlp_status_retryable(503));
	CHECK(otlp_status_retryable(504));
	CHECK(!otlp_status_retryable(500));
	CHECK(!otlp_status_retryable(400));
	CHECK(!otlp_status_retryable(200));
}

/* ---- the sink, with nobody listening ------------------------------ */

static void test_sink_counts_what_it_gave_up(void)
{
	struct otlp_config c = no_env_config();
	struct sink_config sc = { 0 };
	struct sink_set *set = sink_set_new(NULL, NULL);
	struct sink_stats st;
	struct timeline tl;
	int s;
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);

	ASSERT(set);
	/* a port bound and not listened on: connections are refused */
	s = socket(AF_INET, SOCK_STREAM, 0);
	ASSERT(s >= 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ASSERT(!bind(s, (struct sockaddr *)&sin, sizeof(sin)));
	ASSERT(!getsockname(s, (struct sockaddr *)&sin, &len));
	snprintf(c.url, sizeof(c.url), "http://127.0.0.1:%u/v1/traces",
		 ntohs(sin.sin_port));
	c.timeout_ms = 200;
	sc.params = &c;
	ASSERT_INT(sink_set_add(set, "otlp", &sc, err, sizeof(err)), 0);
	CHECK(sink_set_queued(set, 0));
	client_get(&tl);
	sink_set_emit(set, &tl);
	sink_set_emit(set, &tl);
	tl.tls.not_decoded = true;     /* taken, and no span */
	sink_set_emit(set, &tl);
	sink_set_close(set);
	sink_set_stats(set, 0, &st);
	CHECK_INT(st.emitted, 3);
	CHECK_INT(st.sent, 0);
	CHECK_INT(st.send_failed, 2);
	CHECK_INT(st.dropped, 0);
	CHECK_INT(st.err, 0);
	sink_set_free(set);
	close(s);
}

/* ---- the sink against a collector that says 503 first ------------- */

/* A one-thread HTTP server on loopback: answers the first request 503
 * with Retry-After: 1, the others 200, and notes when each came. */
struct collector {
	int listen_fd;
	uint16_t port;
	int limit;             /* requests it answers; 0 = 4 */
	_Atomic int n;         /* requests answered */
	double at[OTLP_PENDING_MAX + 4]; /* their times, monotonic seconds */
	size_t body_len[OTLP_PENDING_MAX + 4];
};

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Reads one request (headers, then Content-Length bytes); its body's
 * length, or -1 at the end of the connection. */
static long read_request(int fd)
{
	char buf[65536];
	size_t have = 0;
	char *end = NULL;
	long clen = -1;

	while (!end) {
		ssize_t r;

		if (have >= sizeof(buf) - 1)
			return -1;
		r = read(fd, buf + have, sizeof(buf) - 1 - have);
		if (r <= 0)
			return -1;
		have += (size_t)r;
		buf[have] = '\0';
		end = strstr(buf, "\r\n\r\n");
	}
	for (char *h = buf; h && h < end; h = strstr(h, "\r\n"), h = h ? h + 2 : h)
		if (!strncasecmp(h, "Content-Length:", 15))
			clen = strtol(h + 15, NULL, 10);
	if (clen < 0)
		return -1;
	have -= (size_t)(end + 4 - buf);
	while ((long)have < clen) {
		ssize_t r = read(fd, buf, sizeof(buf));

		if (r <= 0)
			return -1;
		have += (size_t)r;
	}
	return clen;
}

static void *collector_run(void *arg)
{
	static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\n"
				   "Retry-After: 1\r\nContent-Length: 0\r\n\r\n";
	static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Type: "
				 "application/x-protobuf\r\nContent-Length: 0"
				 "\r\n\r\n";
	struct collector *c = arg;
	int limit = c->limit ? c->limit : 4;

	while (c->n < limit) {
		int fd = accept(c->listen_fd, NULL, NULL);
		long len;

		if (fd < 0)
			break;
		while (c->n < limit && (len = read_request(fd)) >= 0) {
			const char *reply = c->n == 0 ? busy : ok;
			size_t rlen = c->n == 0 ? sizeof(busy) - 1 :
						  sizeof(ok) - 1;

			c->at[c->n] = mono_s();
			c->body_len[c->n] = (size_t)len;
			c->n++;
			if (write(fd, reply, rlen) != (ssize_t)rlen)
				break;
		}
		close(fd);
	}
	return NULL;
}

/* The collector on a loopback port of its own, its thread started, and
 * c's URL pointed at it. */
static void collector_start(struct collector *col, pthread_t *thread,
			    struct otlp_config *c)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);

	col->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
	ASSERT(col->listen_fd >= 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ASSERT(!bind(col->listen_fd, (struct sockaddr *)&sin, sizeof(sin)));
	ASSERT(!listen(col->listen_fd, 4));
	ASSERT(!getsockname(col->listen_fd, (struct sockaddr *)&sin, &len));
	ASSERT(!pthread_create(thread, NULL, collector_run, col));
	snprintf(c->url, sizeof(c->url), "http://127.0.0.1:%u/v1/traces",
		 ntohs(sin.sin_port));
}

static void collector_stop(struct collector *col, pthread_t thread)
{
	shutdown(col->listen_fd, SHUT_RDWR);
	close(col->listen_fd);
	pthread_join(thread, NULL);
}

static void test_sink_retries_after_503(void)
{
	struct collector col = { 0 };
	struct otlp_config c = no_env_config();
	struct sink_config sc = { 0 };
	struct sink_set *set;
	struct sink_stats st = { 0 };
	struct timeline tl;
	pthread_t thread;
	double deadline;

	collector_start(&col, &thread, &c);
	c.timeout_ms = 5000;
	sc.params = &c;
	set = sink_set_new(NULL, NULL);
	ASSERT(set);
	ASSERT_INT(sink_set_add(set, "otlp", &sc, err, sizeof(err)), 0);
	client_get(&tl);
	sink_set_emit(set, &tl);
	sink_set_emit(set, &tl);
	/* due once the batch is a second old: flushes before do nothing */
	sink_set_flush(set);
	usleep(200 * 1000);
	CHECK_INT(col.n, 0);
	usleep((OTLP_BATCH_MS - 150) * 1000);
	sink_set_flush(set);
	/* the counters show while the sink's thread runs */
	deadline = mono_s() + 10;
	while (mono_s() < deadline) {
		sink_set_stats(set, 0, &st);
		if (st.sent)
			break;
		usleep(20 * 1000);
	}
	CHECK_INT(st.sent, 2);
	CHECK_INT(st.send_failed, 0);
	ASSERT_INT(col.n, 2);
	/* the same batch again, after the second Retry-After asked for */
	CHECK(col.at[1] - col.at[0] >= 0.95);
	CHECK(col.at[1] - col.at[0] < 3.0);
	CHECK(col.body_len[0] > 0 && col.body_len[0] == col.body_len[1]);
	sink_set_free(set);
	collector_stop(&col, thread);
}

/* A burst of two batches more than OTLP_PENDING_MAX while the collector
 * makes the first wait (503, Retry-After: 1): the sealed batches wait,
 * encoded, up to OTLP_PENDING_MAX (the one being sent included); the
 * two others are dropped, counted, and every span is sent, dropped or
 * failed. */
static void test_sink_burst_while_collector_waits(void)
{
	struct collector col = { .limit = OTLP_PENDING_MAX + 1 };
	struct otlp_config c = no_env_config();
	struct sink_config sc = { 0 };
	struct sink_set *set;
	struct sink_stats st = { 0 };
	struct timeline tl;
	pthread_t thread;
	double t0, burst;
	const int n = (OTLP_PENDING_MAX + 2) * OTLP_BATCH_MAX;

	collector_start(&col, &thread, &c);
	c.timeout_ms = 10000;
	sc.params = &c;
	sc.drain_ms = 10000;
	set = sink_set_new(NULL, NULL);
	ASSERT(set);
	ASSERT_INT(sink_set_add(set, "otlp", &sc, err, sizeof(err)), 0);
	client_get(&tl);
	t0 = mono_s();
	for (int i = 0; i < n; i++)
		sink_set_emit(set, &tl);
	burst = mono_s() - t0;
	sink_set_close(set);
	sink_set_stats(set, 0, &st);
	CHECK_INT(st.emitted, n);
	CHECK_INT(st.send_failed, 0);
	CHECK_INT(st.sent + st.dropped, n);
	CHECK_INT(st.dropped % OTLP_BATCH_MAX, 0);
	CHECK(st.dropped <= 2 * OTLP_BATCH_MAX);
	/* the burst took less than the collector's wait: exactly the two
	 * batches past those that fit */
	if (burst < 0.9)
		CHECK_INT(st.dropped, 2 * OTLP_BATCH_MAX);
	else
		fprintf(stderr, "burst took %.2f s: drop count not exact\n",
			burst);
	sink_set_free(set);
	collector_stop(&col, thread);
}

int main(int argc, char **argv)
{
	unit_args(argc, argv);
	RUN(test_pb_writer);
	RUN(test_client_span);
	RUN(test_server_error_span);
	RUN(test_phase_spans);
	RUN(test_not_decoded_not_a_span);
	RUN(test_resource_and_request);
	RUN(test_decode_response);
	RUN(test_endpoint_precedence);
	RUN(test_endpoint_malformed);
	RUN(test_headers);
	RUN(test_resource_service_timeout);
	RUN(test_retry_after);
	RUN(test_backoff_bounds);
	RUN(test_sink_counts_what_it_gave_up);
	RUN(test_sink_retries_after_503);
	RUN(test_sink_burst_while_collector_waits);
	return unit_done("sink_otlp");
}
