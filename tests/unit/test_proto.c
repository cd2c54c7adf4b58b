// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* proto/: the registry picks a protocol from a connection's first
 * bytes. */
#include <string.h>

#include "pipeline/conn.h"
#include "proto/proto.h"
#include "unit.h"

static const struct proto_ops *app(const char *bytes, size_t len, int side,
				   bool req_seen)
{
	struct proto_first f = {
		.data = (const uint8_t *)bytes, .len = len, .side = side,
		.req_seen = req_seen,
	};

	return proto_detect(PROTO_APP, &f);
}

static void test_h2_claims_its_preface(void)
{
	static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

	CHECK(app(preface, 24, SIDE_REQ, false) == &h2_ops);
	/* "PRI * HTTP/2.0" alone is enough, less is not */
	CHECK(app(preface, 14, SIDE_REQ, false) == &h2_ops);
	CHECK(app(preface, 13, SIDE_REQ, false) == NULL);
	/* a preface is the client's: not from the response side */
	CHECK(app(preface, 24, SIDE_RESP, false) == NULL);
}

static void test_h2_claims_a_server_settings_first(void)
{
	/* SETTINGS, 6 bytes of payload, flags 0, stream 0 */
	static const char settings[] = "\0\0\6\4\0\0\0\0\0\0\3\0\0\0\144";

	CHECK(app(settings, 15, SIDE_RESP, false) == &h2_ops);
	/* after the client spoke, the server's bytes answer it */
	CHECK(app(settings, 15, SIDE_RESP, true) == NULL);
}

static void test_http1_is_nobody_elses(void)
{
	static const char get[] = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
	static const char ok[] = "HTTP/1.1 200 OK\r\n\r\n";

	CHECK(app(get, strlen(get), SIDE_REQ, false) == NULL);
	CHECK(app(ok, strlen(ok), SIDE_RESP, true) == NULL);
}

static void test_tls_claims_the_wire(void)
{
	/* a handshake record, TLS 1.0 on the record layer, ClientHello */
	static const uint8_t hello[] = { 0x16, 0x03, 0x01, 0x00, 0x04,
					 0x01, 0x00, 0x00, 0x00 };
	struct proto_first f = {
		.data = hello, .len = sizeof(hello), .side = HT_DIR_EGRESS,
	};
	static const char get[] = "GET / HTTP/1.1\r\n\r\n";

	CHECK(proto_detect(PROTO_WIRE, &f) == &tls_ops);
	/* TLS is not an application protocol */
	CHECK(proto_detect(PROTO_APP, &f) == NULL);
	f.data = (const uint8_t *)get;
	f.len = strlen(get);
	CHECK(proto_detect(PROTO_WIRE, &f) == NULL);
}

static void test_registry_names(void)
{
	CHECK_STR(http1_ops.name, "http1");
	CHECK_STR(h2_ops.name, "h2");
	CHECK_STR(tls_ops.name, "tls");
	CHECK(http1_ops.layer == PROTO_APP && h2_ops.layer == PROTO_APP);
	CHECK(tls_ops.layer == PROTO_WIRE);
	/* a protocol the registry offers bytes to must be able to start */
	CHECK(h2_ops.detect && h2_ops.on_start);
	CHECK(tls_ops.detect && tls_ops.on_start && tls_ops.on_bytes);
}

int main(int argc, char **argv)
{
	unit_args(argc, argv);
	RUN(test_h2_claims_its_preface);
	RUN(test_h2_claims_a_server_settings_first);
	RUN(test_http1_is_nobody_elses);
	RUN(test_tls_claims_the_wire);
	RUN(test_registry_names);
	return unit_done("proto");
}
