// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The Prometheus exporter: the exposition text from its state, byte
 * for byte (escaping, cumulative buckets, _sum and _count, counters),
 * the caps on label values and series, expiry, and the /metrics server
 * itself on 127.0.0.1.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include "unit.h"
#include "sink_timelines.h"
#include "sink/prometheus/prom_addr.h"
#include "sink/prometheus/prom_metrics.h"
#include "sink/sink.h"

#define SEC 1000000000ULL

static const struct prom_limits default_limits = {
	.max_values = PROM_MAX_VALUES_DEFAULT,
	.max_series = PROM_MAX_SERIES_DEFAULT,
	.expire_ns = PROM_EXPIRE_DEFAULT_NS,
};

/* curl GET http://example.test:8080/a: connect, send, wait, receive */
static void client_get(struct timeline *tl, int64_t total_us)
{
	int p;

	curl_get_base(tl, "/a?secret=1");
	tl->complete = true;
	for (p = 0; p < TL_PHASE_COUNT; p++)
		tl->phase_us[p] = -1;
	tl->phase_us[TL_PHASE_CONNECT] = 100;
	tl->phase_us[TL_PHASE_SEND] = 50;
	tl->phase_us[TL_PHASE_WAIT] = total_us - 350;
	tl->phase_us[TL_PHASE_RECEIVE] = 200;
	tl->phase_us[TL_PHASE_TOTAL] = total_us;
}

/* The whole exposition; the caller frees it. */
static char *render(const struct prom_metrics *m)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	if (!out)
		return NULL;
	if (prom_metrics_write(m, out)) {
		fclose(out);
		free(buf);
		return NULL;
	}
	fclose(out);
	return buf;
}

/* The lines of text that start with prefix, joined. */
static char *lines_of(const char *text, const char *prefix)
{
	size_t n = strlen(prefix), used = 0;
	char *out = calloc(1, strlen(text) + 1);
	const char *l = text;

	while (out && l && *l) {
		const char *end = strchr(l, '\n');
		size_t len = end ? (size_t)(end - l + 1) : strlen(l);

		if (!strncmp(l, prefix, n)) {
			memcpy(out + used, l, len);
			used += len;
		}
		l = end ? end + 1 : NULL;
	}
	return out;
}

static void test_escaping(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	ASSERT(out != NULL);
	prom_write_escaped(out, "a\\b\"c\nd\te");
	fclose(out);
	CHECK_STR(buf, "a\\\\b\\\"c\\nd\te");
	free(buf);
}

static void test_label_values_escaped_and_utf8(void)
{
	struct prom_metrics *m;
	struct timeline tl;
	char *text, *got;

	ASSERT_INT(prom_metrics_new(&m, &default_limits), 0);
	client_get(&tl, 1000);
	/* a process may call itself anything, bytes that are not UTF-8
	 * included */
	strcpy(tl.comm, "a\"b\\c\nd\xff");
	prom_metrics_add(m, &tl, SEC);
	text = render(m);
	ASSERT(text != NULL);
	got = lines_of(text, "http_client_request_duration_seconds_count");
	CHECK_STR(got, "http_client_request_duration_seconds_count{"
		  "http_request_method=\"GET\",http_response_status_code=\"200\","
		  "server_address=\"example.test\",server_port=\"8080\","
		  "process_executable_name=\"a\\\"b\\\\c\\nd\xef\xbf\xbd\"} 1\n");
	free(got);
	free(text);
	prom_metrics_free(m);
}

/* One client request, the whole text: every line is an interface. */
static void test_exposition_exact(void)
{
	static const char want[] =
"# HELP http_client_request_duration_seconds Duration of HTTP client requests.\n"
"# TYPE http_client_request_duration_seconds histogram\n"
"http_client_request_duration_seconds_bucket{http_request_method=\"GET\",http_response_status_code=\"200\",server_address=\"example.test\",server_port=\"8080\",process_executable_name=\"curl\",le=\"0.005\"} 0\n"
"http_client_request_duration_seconds_bucket{http_request_method=\"GET\",http_response_status_code=\"200\",server_address=\"example.test\",server_port=\"8080\",process_executable_name=\"curl\",le=\"0.01\"} 0\n"
"http_client_request_duration_seconds_bucket{http_request_method=\"GET\",http_response_status_code=\"200\",server_address=\"example.test\",server_port=\"8080\",process_executable_name=\"curl\",le=\"0.025\"} 1\n"
"http_client_request_duration_seconds_bucket{http_request_method=\"GET\",http_response_status_code=\"200\",server_address=\"example.test\",server_port=\"8080\",process_executable_name=\"curl\",le=\"0.05\"} 1\n"
"http_client_request_duration_seconds_bucket{http_request_method=\"GET\",http_response_status_code=\"200\",server_address=\"example.test\",server_port=\"8080\",process_executable_name=\"curl\",le=\"0.075\"} 1\n"
"http_client_request_duration_seconds_bucket{http_request_method=\"GET\",http_response_status_code=\"200\",server_address=\"example.test\",server_port=\"8080\",process_executable_name=\"curl\",le=\"0.1\"} 1\n"
"http_client_request_duration_seconds_bucket{http_request_method=\"GET\",http_response_status_code=\"200\",server_address=\"example.test\",server_port=\"8080\",process_executable_name=\"curl\",le=\"0.25\"} 1\n"
"http_client_request_duration_seconds_bucket{http_request_method=\"GET\",http_response_status_code=\"200\",server_address=\"example.test\",server_port=\"8080\",process_executable_name=\"curl\",le=\"0.5\"} 1\n"
"http_client_request_duration_seconds_bucket{http_request_method=\"GET\",http_response_status_code=\"200\",server_address=\"example.test\",server_port=\"8080\",process_executable_name=\"curl\",le=\"0.75\"} 1\n"
"http_client_request_duration_seconds_bucket{http_request_method=\"GET\",http_response_status_code=\"200\",server_address=\"example.test\",server_port=\"8080\",process_executable_name=\"curl\",le=\"1\"} 1\n"
"http_client_request_duration_seconds_bucket{http_request_method=\"GET\",http_response_status_code=\"200\",server_address=\"example.test\",server_port=\"8080\",process_executable_name=\"curl\",le=\"2.5\"} 1\n"
"http_client_request_duration_seconds_bucket{http_request_method=\"GET\",http_response_status_code=\"200\",server_address=\"example.test\",server_port=\"8080\",process_executable_name=\"curl\",le=\"5\"} 1\n"
"http_client_request_duration_seconds_bucket{http_request_method=\"GET\",http_response_status_code=\"200\",server_address=\"example.test\",server_port=\"8080\",process_executable_name=\"curl\",le=\"7.5\"} 1\n"
"http_client_request_duration_seconds_bucket{http_request_method=\"GET\",http_response_status_code=\"200\",server_address=\"example.test\",server_port=\"8080\",process_executable_name=\"curl\",le=\"10\"} 1\n"
"http_client_request_duration_seconds_bucket{http_request_method=\"GET\",http_response_status_code=\"200\",server_address=\"example.test\",server_port=\"8080\",process_executable_name=\"curl\",le=\"+Inf\"} 1\n"
"http_client_request_duration_seconds_sum{http_request_method=\"GET\",http_response_status_code=\"200\",server_address=\"example.test\",server_port=\"8080\",process_executable_name=\"curl\"} 0.012345\n"
"http_client_request_duration_seconds_count{http_request_method=\"GET\",http_response_status_code=\"200\",server_address=\"example.test\",server_port=\"8080\",process_executable_name=\"curl\"} 1\n"
"# HELP http_server_request_duration_seconds Duration of HTTP server requests.\n"
"# TYPE http_server_request_duration_seconds histogram\n"
"# HELP httptrace_phase_duration_seconds Duration of each phase of an HTTP request that happened (dns, connect, tls, send, wait, receive).\n"
"# TYPE httptrace_phase_duration_seconds histogram\n";
	static const char want_counters[] =
"# HELP httptrace_timelines_total HTTP requests reported, one timeline each.\n"
"# TYPE httptrace_timelines_total counter\n"
"httptrace_timelines_total 7\n"
"# HELP httptrace_timelines_incomplete_total Timelines reported incomplete (records lost, or cut short).\n"
"# TYPE httptrace_timelines_incomplete_total counter\n"
"httptrace_timelines_incomplete_total 2\n"
"# HELP httptrace_records_lost_total Records the kernel could not send to the tracer.\n"
"# TYPE httptrace_records_lost_total counter\n"
"httptrace_records_lost_total 3\n"
"# HELP httptrace_tls_connections_not_decoded_total TLS connections whose requests the tracer could not read (not in the histograms).\n"
"# TYPE httptrace_tls_connections_not_decoded_total counter\n"
"httptrace_tls_connections_not_decoded_total 1\n"
"# HELP httptrace_export_dropped_total Timelines an exporter dropped: its queue was full.\n"
"# TYPE httptrace_export_dropped_total counter\n"
"httptrace_export_dropped_total{exporter=\"otlp\"} 4\n"
"# HELP httptrace_spans_sent_total Spans an exporter sent.\n"
"# TYPE httptrace_spans_sent_total counter\n"
"httptrace_spans_sent_total{exporter=\"otlp\"} 100\n"
"# HELP httptrace_spans_failed_total Spans an exporter gave up on after its retries.\n"
"# TYPE httptrace_spans_failed_total counter\n"
"httptrace_spans_failed_total{exporter=\"otlp\"} 5\n"
"# HELP httptrace_metrics_label_overflow_total Label values written _other: the label held as many distinct values as it may.\n"
"# TYPE httptrace_metrics_label_overflow_total counter\n"
"httptrace_metrics_label_overflow_total{label=\"http_request_method\"} 0\n"
"httptrace_metrics_label_overflow_total{label=\"http_response_status_code\"} 0\n"
"httptrace_metrics_label_overflow_total{label=\"server_address\"} 0\n"
"httptrace_metrics_label_overflow_total{label=\"server_port\"} 0\n"
"httptrace_metrics_label_overflow_total{label=\"error_type\"} 0\n"
"httptrace_metrics_label_overflow_total{label=\"process_executable_name\"} 0\n"
"httptrace_metrics_label_overflow_total{label=\"container_id\"} 0\n"
"# HELP httptrace_metrics_series Histogram series held, every metric's.\n"
"# TYPE httptrace_metrics_series gauge\n"
"httptrace_metrics_series 5\n";
	struct sink_counters c = {
		.records_lost = 3,
		.timelines = 7,
		.timelines_incomplete = 2,
		.tls_not_decoded = 1,
		.n_sinks = 3,
		.sinks = {
			{ .name = "json", .st = { .emitted = 7 } },
			{ .name = "otlp", .queued = true,
			  .st = { .emitted = 7, .dropped = 4, .sent = 100,
				  .send_failed = 5 } },
			{ .name = "prometheus", .st = { .emitted = 7 } },
		},
	};
	struct prom_metrics *m;
	struct timeline tl;
	char *text, *phases;

	ASSERT_INT(prom_metrics_new(&m, &default_limits), 0);
	client_get(&tl, 12345);
	prom_metrics_add(m, &tl, SEC);
	prom_metrics_set_counters(m, &c);
	text = render(m);
	ASSERT(text != NULL);
	/* the histograms' head, the request's series */
	CHECK(!strncmp(text, want, strlen(want)));
	if (strncmp(text, want, strlen(want)))
		fprintf(stderr, "got:\n%s\n", text);
	/* the counters close the text */
	CHECK(strlen(text) > strlen(want_counters) &&
	      !strcmp(text + strlen(text) - strlen(want_counters),
		      want_counters));
	/* a phase per phase that happened, with its role: no dns, no tls */
	phases = lines_of(text, "httptrace_phase_duration_seconds_count");
	CHECK_STR(phases,
"httptrace_phase_duration_seconds_count{http_request_method=\"GET\",http_response_status_code=\"200\",server_address=\"example.test\",server_port=\"8080\",process_executable_name=\"curl\",role=\"client\",phase=\"connect\"} 1\n"
"httptrace_phase_duration_seconds_count{http_request_method=\"GET\",http_response_status_code=\"200\",server_address=\"example.test\",server_port=\"8080\",process_executable_name=\"curl\",role=\"client\",phase=\"send\"} 1\n"
"httptrace_phase_duration_seconds_count{http_request_method=\"GET\",http_response_status_code=\"200\",server_address=\"example.test\",server_port=\"8080\",process_executable_name=\"curl\",role=\"client\",phase=\"wait\"} 1\n"
"httptrace_phase_duration_seconds_count{http_request_method=\"GET\",http_response_status_code=\"200\",server_address=\"example.test\",server_port=\"8080\",process_executable_name=\"curl\",role=\"client\",phase=\"receive\"} 1\n");
	free(phases);
	phases = lines_of(text, "httptrace_phase_duration_seconds_sum");
	CHECK(strstr(phases, "phase=\"connect\"} 0.000100\n"));
	CHECK(strstr(phases, "phase=\"wait\"} 0.011995\n"));
	free(phases);
	free(text);
	prom_metrics_free(m);
}

/* A bucket counts what is at most its bound; each bucket counts every
 * smaller one too; _sum is exact to the microsecond. */
static void test_buckets_cumulative(void)
{
	static const int64_t totals[] = { 5000, 5001, 10000, 999999,
					   1000000, 20000000 };
	struct prom_metrics *m;
	struct timeline tl;
	char *text, *got;
	size_t i;

	ASSERT_INT(prom_metrics_new(&m, &default_limits), 0);
	for (i = 0; i < sizeof(totals) / sizeof(totals[0]); i++) {
		client_get(&tl, totals[i]);
		prom_metrics_add(m, &tl, SEC);
	}
	text = render(m);
	ASSERT(text != NULL);
	got = lines_of(text, "http_client_request_duration_seconds_");
	ASSERT(got != NULL);
#define LBL "{http_request_method=\"GET\",http_response_status_code=\"200\"," \
	    "server_address=\"example.test\",server_port=\"8080\","          \
	    "process_executable_name=\"curl\""
#define BUCKET(le, n) \
	"http_client_request_duration_seconds_bucket" LBL ",le=\"" le "\"} " #n "\n"
	CHECK_STR(got,
		  BUCKET("0.005", 1) BUCKET("0.01", 3) BUCKET("0.025", 3)
		  BUCKET("0.05", 3) BUCKET("0.075", 3) BUCKET("0.1", 3)
		  BUCKET("0.25", 3) BUCKET("0.5", 3) BUCKET("0.75", 3)
		  BUCKET("1", 5) BUCKET("2.5", 5) BUCKET("5", 5)
		  BUCKET("7.5", 5) BUCKET("10", 5) BUCKET("+Inf", 6)
		  "http_client_request_duration_seconds_sum" LBL "} 22.020000\n"
		  "http_client_request_duration_seconds_count" LBL "} 6\n");
#undef BUCKET
	free(got);
	free(text);
	prom_metrics_free(m);
}

/* A server's request is the server metric's; absent values leave their
 * label out; TLS not decoded is not measured. */
static void test_roles_and_absent_labels(void)
{
	struct prom_metrics *m;
	struct timeline tl;
	char *text, *got;

	ASSERT_INT(prom_metrics_new(&m, &default_limits), 0);
	client_get(&tl, 2000);
	tl.role = HT_ROLE_SERVER;
	strcpy(tl.comm, "nginx");
	tl.status = 503;
	strcpy(tl.container.id, "abc123");
	prom_metrics_add(m, &tl, SEC);

	/* a refused connect: no method, no status */
	client_get(&tl, 300);
	tl.method[0] = tl.host[0] = tl.version[0] = '\0';
	tl.status = 0;
	tl.error_kind = TL_ERR_CONNECT_REFUSED;
	tl.phase_us[TL_PHASE_SEND] = tl.phase_us[TL_PHASE_WAIT] =
		tl.phase_us[TL_PHASE_RECEIVE] = -1;
	tl.phase_us[TL_PHASE_CONNECT] = 300;
	prom_metrics_add(m, &tl, SEC);

	client_get(&tl, 3000);
	tl.tls.seen = tl.tls.not_decoded = true;
	prom_metrics_add(m, &tl, SEC);

	text = render(m);
	ASSERT(text != NULL);
	got = lines_of(text, "http_server_request_duration_seconds_count");
	CHECK_STR(got, "http_server_request_duration_seconds_count{"
		  "http_request_method=\"GET\","
		  "http_response_status_code=\"503\","
		  "server_address=\"example.test\",server_port=\"8080\","
		  "error_type=\"503\",process_executable_name=\"nginx\","
		  "container_id=\"abc123\"} 1\n");
	free(got);
	got = lines_of(text, "http_client_request_duration_seconds_count");
	CHECK_STR(got, "http_client_request_duration_seconds_count{"
		  "server_address=\"127.0.0.2\",server_port=\"8080\","
		  "error_type=\"connect_refused\","
		  "process_executable_name=\"curl\"} 1\n");
	free(got);
	got = lines_of(text, "httptrace_phase_duration_seconds_count");
	CHECK(strstr(got, "container_id=\"abc123\",role=\"server\","
		      "phase=\"wait\"} 1\n"));
	free(got);
	/* 1 + 4 phases, 1 + connect; none of the TLS one */
	CHECK(strstr(text, "\nhttptrace_metrics_series 7\n"));
	free(text);
	prom_metrics_free(m);
}

/* A label holds max_values values; one more is "_other" and counted.
 * A metric holds max_series series; one more goes to its overflow
 * series. */
static void test_caps(void)
{
	struct prom_limits lim = { .max_values = 2, .max_series = 100,
				   .expire_ns = 60 * SEC };
	static const char *const names[] = { "a", "b", "c", "d", "a" };
	struct prom_metrics *m;
	struct timeline tl;
	char *text, *got;
	size_t i;

	ASSERT_INT(prom_metrics_new(&m, &lim), 0);
	for (i = 0; i < 5; i++) {
		client_get(&tl, 1000);
		tl.phase_us[TL_PHASE_CONNECT] = tl.phase_us[TL_PHASE_SEND] =
			tl.phase_us[TL_PHASE_WAIT] =
				tl.phase_us[TL_PHASE_RECEIVE] = -1;
		strcpy(tl.comm, names[i]);
		prom_metrics_add(m, &tl, SEC);
	}
	text = render(m);
	ASSERT(text != NULL);
	got = lines_of(text, "http_client_request_duration_seconds_count");
#define CNT(comm, n)                                                          \
	"http_client_request_duration_seconds_count{"                         \
	"http_request_method=\"GET\",http_response_status_code=\"200\","      \
	"server_address=\"example.test\",server_port=\"8080\","               \
	"process_executable_name=\"" comm "\"} " #n "\n"
	CHECK_STR(got, CNT("a", 2) CNT("b", 1) CNT("_other", 2));
#undef CNT
	free(got);
	CHECK(strstr(text, "httptrace_metrics_label_overflow_total{label="
		      "\"process_executable_name\"} 2\n"));
	CHECK(strstr(text, "httptrace_metrics_label_overflow_total{label="
		      "\"server_address\"} 0\n"));
	free(text);
	prom_metrics_free(m);

	lim.max_values = 100;
	lim.max_series = 2;
	ASSERT_INT(prom_metrics_new(&m, &lim), 0);
	for (i = 0; i < 4; i++) {
		client_get(&tl, 1000);
		tl.status = 200 + (int)i;
		prom_metrics_add(m, &tl, SEC);
	}
	text = render(m);
	ASSERT(text != NULL);
	got = lines_of(text, "http_client_request_duration_seconds_count");
	CHECK(strstr(got, "http_response_status_code=\"200\""));
	CHECK(strstr(got, "http_response_status_code=\"201\""));
	CHECK(!strstr(got, "\"202\""));
	CHECK(strstr(got, "http_client_request_duration_seconds_count{"
		      "otel_metric_overflow=\"true\"} 2\n"));
	free(got);
	/* the phase metric's overflow keeps its role and phase: the first
	 * request's connect and send were the 2 series it may have */
	got = lines_of(text, "httptrace_phase_duration_seconds_count{otel");
#define OVF(phase, n)                                                         \
	"httptrace_phase_duration_seconds_count{otel_metric_overflow="        \
	"\"true\",role=\"client\",phase=\"" phase "\"} " #n "\n"
	CHECK_STR(got, OVF("wait", 4) OVF("receive", 4) OVF("connect", 3)
		  OVF("send", 3));
#undef OVF
	free(got);
	free(text);
	prom_metrics_free(m);
}

/* A series not updated for expire_ns goes; a label value no series has
 * makes room for another. */
static void test_expiry(void)
{
	struct prom_limits lim = { .max_values = 1, .max_series = 100,
				   .expire_ns = 300 * SEC };
	struct prom_metrics *m;
	struct timeline tl;
	char *text;

	ASSERT_INT(prom_metrics_new(&m, &lim), 0);
	client_get(&tl, 1000);
	prom_metrics_add(m, &tl, 10 * SEC);           /* curl: 5 series */
	strcpy(tl.comm, "wget");
	prom_metrics_add(m, &tl, 100 * SEC);          /* _other: 5 */
	CHECK_INT(prom_metrics_series(m), 10);
	prom_metrics_expire(m, 309 * SEC);
	CHECK_INT(prom_metrics_series(m), 10);
	prom_metrics_expire(m, 310 * SEC);
	CHECK_INT(prom_metrics_series(m), 5);
	text = render(m);
	ASSERT(text != NULL);
	CHECK(!strstr(text, "\"curl\""));
	CHECK(strstr(text, "process_executable_name=\"_other\"} 1\n"));
	free(text);

	/* curl's value went with its series: wget has room now */
	prom_metrics_add(m, &tl, 311 * SEC);
	text = render(m);
	ASSERT(text != NULL);
	CHECK(strstr(text, "http_client_request_duration_seconds_count{"
		      "http_request_method=\"GET\","
		      "http_response_status_code=\"200\","
		      "server_address=\"example.test\",server_port=\"8080\","
		      "process_executable_name=\"wget\"} 1\n"));
	free(text);

	/* _other's series (last updated at 100 s) go, wget's (311 s)
	 * stay */
	prom_metrics_expire(m, 400 * SEC);
	CHECK_INT(prom_metrics_series(m), 5);
	prom_metrics_expire(m, 611 * SEC);
	CHECK_INT(prom_metrics_series(m), 0);
	text = render(m);
	ASSERT(text != NULL);
	CHECK(strstr(text, "\nhttptrace_metrics_series 0\n"));
	free(text);
	prom_metrics_free(m);
}

static void test_limits_checked(void)
{
	struct prom_limits lim = default_limits;
	struct prom_metrics *m;

	lim.max_values = PROM_MAX_VALUES_LIMIT + 1;
	CHECK_INT(prom_metrics_new(&m, &lim), -EINVAL);
	CHECK(m == NULL);
	lim.max_values = 0;
	CHECK_INT(prom_metrics_new(&m, &lim), -EINVAL);
	lim = default_limits;
	lim.max_series = 0;
	CHECK_INT(prom_metrics_new(&m, &lim), -EINVAL);
	lim = default_limits;
	lim.max_values = PROM_MAX_VALUES_LIMIT;
	CHECK_INT(prom_metrics_new(&m, &lim), 0);
	prom_metrics_free(m);
}

static void test_addr_parse(void)
{
	char host[PROM_HOST_MAX];
	uint16_t port = 0;

	CHECK(prom_addr_parse("127.0.0.1:9464", host, &port) == NULL);
	CHECK_STR(host, "127.0.0.1");
	CHECK_INT(port, 9464);
	CHECK(prom_addr_parse("[::1]:1", host, &port) == NULL);
	CHECK_STR(host, "::1");
	CHECK_INT(port, 1);
	CHECK(prom_addr_parse(":65535", host, &port) == NULL);
	CHECK_STR(host, "");
	CHECK_INT(port, 65535);
	CHECK(prom_addr_parse("a:99999999999999999999", host, &port) != NULL);
	CHECK(prom_addr_parse("a:-1", host, &port) != NULL);
	CHECK(prom_addr_parse("[::1:80", host, &port) != NULL);
}

/* ---- the sink and its server on 127.0.0.1 ----------------------------- */

/* A port nobody listens on (the kernel does not hand it out again at
 * once). */
static int free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

	if (fd < 0)
		return -1;
	if (!bind(fd, (struct sockaddr *)&a, sizeof(a)) &&
	    !getsockname(fd, (struct sockaddr *)&a, &len))
		port = ntohs(a.sin_port);
	close(fd);
	return port;
}

/* The whole response to one request (the server closes: HTTP/1.0). */
static char *http_get(int port, const char *method, const char *path)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct timeval tv = { .tv_sec = 5 };
	size_t cap = 1 << 16, len = 0;
	char *buf = malloc(cap + 1), req[256];
	int fd = socket(AF_INET, SOCK_STREAM, 0), n;

	if (fd < 0 || !buf)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)))
		goto fail;
	n = snprintf(req, sizeof(req), "%s %s HTTP/1.0\r\nHost: x\r\n\r\n",
		     method, path);
	if (write(fd, req, (size_t)n) != n)
		goto fail;
	while ((n = (int)read(fd, buf + len, cap - len)) > 0) {
		len += (size_t)n;
		if (len == cap) {
			char *more = realloc(buf, 2 * cap + 1);

			if (!more)
				goto fail;
			buf = more;
			cap *= 2;
		}
	}
	buf[len] = '\0';
	close(fd);
	return buf;
fail:
	if (fd >= 0)
		close(fd);
	free(buf);
	return NULL;
}

static void test_sink_serves_metrics(void)
{
	struct sink_set *set = sink_set_new(NULL, NULL);
	struct sink_config cfg = { .out = stdout };
	struct sink_counters c = { .records_lost = 9 };
	struct timeline tl;
	char addr[32], err[256], *resp;
	int port = free_port();

	ASSERT(set != NULL);
	ASSERT(port > 0);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
	cfg.arg = addr;
	err[0] = '\0';
	ASSERT_INT(sink_set_add(set, "prometheus", &cfg, err, sizeof(err)), 0);
	client_get(&tl, 12345);
	sink_set_emit(set, &tl);
	sink_set_publish(set, &c);

	resp = http_get(port, "GET", "/metrics");
	ASSERT(resp != NULL);
	CHECK(!strncmp(resp, "HTTP/1.0 200", 12) ||
	      !strncmp(resp, "HTTP/1.1 200", 12));
	CHECK(strstr(resp, "Content-Type: text/plain; version=0.0.4; "
		      "charset=utf-8\r\n"));
	CHECK(strstr(resp, "\r\n\r\n# HELP http_client_request_duration_"
		      "seconds "));
	CHECK(strstr(resp, "process_executable_name=\"curl\"} 0.012345\n"));
	CHECK(strstr(resp, "\nhttptrace_records_lost_total 9\n"));
	free(resp);

	resp = http_get(port, "GET", "/");
	ASSERT(resp != NULL);
	CHECK(strstr(resp, " 404 "));
	free(resp);
	resp = http_get(port, "POST", "/metrics");
	ASSERT(resp != NULL);
	CHECK(strstr(resp, " 405 "));
	free(resp);

	/* the address is taken: said at open, in words */
	{
		struct sink_set *set2 = sink_set_new(NULL, NULL);

		ASSERT(set2 != NULL);
		err[0] = '\0';
		CHECK(sink_set_add(set2, "prometheus", &cfg, err,
				   sizeof(err)) < 0);
		CHECK(strstr(err, "cannot listen on 127.0.0.1:") &&
		      strstr(err, "Address already in use"));
		cfg.arg = "192.0.2.1:9464"; /* TEST-NET: not ours */
		CHECK(sink_set_add(set2, "prometheus", &cfg, err,
				   sizeof(err)) < 0);
		CHECK(strstr(err, "Cannot assign requested address"));
		cfg.arg = "9464";
		CHECK(sink_set_add(set2, "prometheus", &cfg, err,
				   sizeof(err)) < 0);
		CHECK(strstr(err, "no :PORT"));
		CHECK_INT(sink_set_count(set2), 0);
		sink_set_free(set2);
	}
	sink_set_free(set);
	/* closed: the port is free again */
	CHECK(http_get(port, "GET", "/metrics") == NULL);
}

struct scraper {
	int port;
	int ok;        /* scrapes that got the whole text */
};

static void *scrape_loop(void *arg)
{
	struct scraper *sc = arg;
	int i;

	for (i = 0; i < 20; i++) {
		char *resp = http_get(sc->port, "GET", "/metrics");

		if (resp && strstr(resp, "\nhttptrace_metrics_series "))
			sc->ok++;
		free(resp);
	}
	return NULL;
}

/* Scrapes while the reader emits (make test-tsan runs this too). */
static void test_scrape_while_emitting(void)
{
	struct sink_set *set = sink_set_new(NULL, NULL);
	struct sink_config cfg = { .out = stdout };
	struct scraper sc = { .port = free_port() };
	struct sink_counters c = { 0 };
	struct timeline tl;
	pthread_t th;
	char addr[32], err[256], *resp;
	int i;

	ASSERT(set != NULL);
	ASSERT(sc.port > 0);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", sc.port);
	cfg.arg = addr;
	ASSERT_INT(sink_set_add(set, "prometheus", &cfg, err, sizeof(err)), 0);
	ASSERT_INT(pthread_create(&th, NULL, scrape_loop, &sc), 0);
	for (i = 0; i < 3000; i++) {
		client_get(&tl, 1000 + i);
		tl.status = 200 + i % 50;
		sink_set_emit(set, &tl);
		c.timelines = (uint64_t)i + 1;
		sink_set_publish(set, &c);
		if (i % 100 == 0)
			sink_set_flush(set);
	}
	pthread_join(th, NULL);
	CHECK_INT(sc.ok, 20);
	resp = http_get(sc.port, "GET", "/metrics");
	ASSERT(resp != NULL);
	CHECK(strstr(resp, "\nhttptrace_timelines_total 3000\n"));
	CHECK(strstr(resp, "\nhttptrace_metrics_series 250\n"));
	free(resp);
	sink_set_free(set);
}

int main(int argc, char **argv)
{
	unit_args(argc, argv);
	RUN(test_escaping);
	RUN(test_label_values_escaped_and_utf8);
	RUN(test_exposition_exact);
	RUN(test_buckets_cumulative);
	RUN(test_roles_and_absent_labels);
	RUN(test_caps);
	RUN(test_expiry);
	RUN(test_limits_checked);
	RUN(test_addr_parse);
	RUN(test_sink_serves_metrics);
	RUN(test_scrape_while_emitting);
	return unit_done("sink_prometheus");
}
