// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The attribute model the exporters share: each semantic-convention
 * attribute from a timeline, and what stays absent.
 */
#include <arpa/inet.h>
#include <sys/socket.h>

#include "unit.h"
#include "sink_timelines.h"
#include "sink/attrs.h"

static void client_get(struct timeline *tl)
{
	curl_get_base(tl, "/a/b?token=secret#frag");
}

#define CHECK_ATTR(a, id, want)                                            \
	do {                                                               \
		const char *v_ = (a)->value[SINK_ATTR_##id];               \
		if ((want) == NULL)                                        \
			CHECK(v_ == NULL);                                 \
		else if (!v_)                                              \
			CHECK(v_ != NULL);                                 \
		else                                                       \
			CHECK_STR(v_, (want));                             \
	} while (0)

static void test_names_and_labels(void)
{
	CHECK_STR(sink_attr_name(SINK_ATTR_HTTP_REQUEST_METHOD),
		  "http.request.method");
	CHECK_STR(sink_attr_label(SINK_ATTR_HTTP_RESPONSE_STATUS_CODE),
		  "http_response_status_code");
	CHECK_STR(sink_attr_label(SINK_ATTR_K8S_POD_UID), "k8s_pod_uid");
	CHECK_INT(sink_attr_kind(SINK_ATTR_SERVER_PORT), SINK_ATTR_INT);
	CHECK_INT(sink_attr_kind(SINK_ATTR_SERVER_ADDRESS), SINK_ATTR_STRING);
	CHECK_INT(sink_attr_scope(SINK_ATTR_CONTAINER_ID), SINK_ATTR_RESOURCE);
	CHECK_INT(sink_attr_scope(SINK_ATTR_URL_PATH), SINK_ATTR_SPAN);
}

static void test_client_request(void)
{
	struct timeline tl;
	struct sink_attrs a;

	client_get(&tl);
	sink_attrs_of(&a, &tl);
	CHECK_ATTR(&a, HTTP_REQUEST_METHOD, "GET");
	CHECK_ATTR(&a, HTTP_RESPONSE_STATUS_CODE, "200");
	CHECK_ATTR(&a, SERVER_ADDRESS, "example.test");
	CHECK_ATTR(&a, SERVER_PORT, "8080");
	CHECK_ATTR(&a, ERROR_TYPE, NULL);
	CHECK_ATTR(&a, NETWORK_PEER_ADDRESS, "127.0.0.2");
	CHECK_ATTR(&a, NETWORK_PEER_PORT, "8080");
	CHECK_ATTR(&a, NETWORK_PROTOCOL_VERSION, "1.1");
	CHECK_ATTR(&a, URL_SCHEME, "http");
	/* the query never leaves: it may carry secrets */
	CHECK_ATTR(&a, URL_PATH, "/a/b");
	CHECK_ATTR(&a, RPC_GRPC_STATUS_CODE, NULL);
	CHECK_ATTR(&a, TLS_PROTOCOL_VERSION, NULL);
	CHECK_ATTR(&a, PROCESS_PID, "4242");
	CHECK_ATTR(&a, PROCESS_EXECUTABLE_NAME, "curl");
	CHECK_ATTR(&a, CONTAINER_ID, NULL);
	CHECK_ATTR(&a, K8S_POD_UID, NULL);
}

static void test_errors(void)
{
	struct timeline tl;
	struct sink_attrs a;

	client_get(&tl);
	tl.status = 404;
	sink_attrs_of(&a, &tl);
	CHECK_ATTR(&a, ERROR_TYPE, "404");

	/* a server's 404 is not its error */
	tl.role = HT_ROLE_SERVER;
	sink_attrs_of(&a, &tl);
	CHECK_ATTR(&a, ERROR_TYPE, NULL);
	tl.status = 503;
	sink_attrs_of(&a, &tl);
	CHECK_ATTR(&a, ERROR_TYPE, "503");

	client_get(&tl);
	tl.status = 0;
	tl.error_kind = TL_ERR_CONNECT_REFUSED;
	sink_attrs_of(&a, &tl);
	CHECK_ATTR(&a, ERROR_TYPE, "connect_refused");
	CHECK_ATTR(&a, HTTP_RESPONSE_STATUS_CODE, NULL);
}

static void test_server_address(void)
{
	struct timeline tl;
	struct sink_attrs a;

	client_get(&tl);
	strcpy(tl.host, "[::1]:8443");
	sink_attrs_of(&a, &tl);
	CHECK_ATTR(&a, SERVER_ADDRESS, "::1");
	CHECK_ATTR(&a, SERVER_PORT, "8443");

	/* no port in Host: the scheme's */
	strcpy(tl.host, "example.test");
	tl.tls.seen = true;
	strcpy(tl.tls.version, "TLSv1.3");
	sink_attrs_of(&a, &tl);
	CHECK_ATTR(&a, SERVER_PORT, "443");
	CHECK_ATTR(&a, URL_SCHEME, "https");
	CHECK_ATTR(&a, TLS_PROTOCOL_VERSION, "1.3");

	/* no Host: the socket's */
	tl.host[0] = '\0';
	sink_attrs_of(&a, &tl);
	CHECK_ATTR(&a, SERVER_ADDRESS, "127.0.0.2");
	CHECK_ATTR(&a, SERVER_PORT, "8080");

	/* a server's own end is the server */
	tl.role = HT_ROLE_SERVER;
	sink_attrs_of(&a, &tl);
	CHECK_ATTR(&a, SERVER_ADDRESS, "127.0.0.1");
	CHECK_ATTR(&a, SERVER_PORT, "50000");
	CHECK_ATTR(&a, NETWORK_PEER_ADDRESS, "127.0.0.2");

	/* garbage Host: the name stands, the port is the scheme's */
	strcpy(tl.host, "bad:port:x");
	tl.role = HT_ROLE_CLIENT;
	sink_attrs_of(&a, &tl);
	CHECK_ATTR(&a, SERVER_ADDRESS, "bad:port:x");
	CHECK_ATTR(&a, SERVER_PORT, "443");
}

static void test_method_other_and_grpc(void)
{
	struct timeline tl;
	struct sink_attrs a;

	client_get(&tl);
	strcpy(tl.method, "BREW");
	strcpy(tl.version, "HTTP/2");
	tl.grpc = true;
	tl.grpc_status = 14;
	strcpy(tl.container.id, "abc123");
	strcpy(tl.container.pod_uid, "0a1b-2c");
	sink_attrs_of(&a, &tl);
	CHECK_ATTR(&a, HTTP_REQUEST_METHOD, "_OTHER");
	CHECK_ATTR(&a, NETWORK_PROTOCOL_VERSION, "2");
	CHECK_ATTR(&a, RPC_GRPC_STATUS_CODE, "14");
	CHECK_ATTR(&a, CONTAINER_ID, "abc123");
	CHECK_ATTR(&a, K8S_POD_UID, "0a1b-2c");

	/* no request seen: no method, scheme or path */
	client_get(&tl);
	tl.method[0] = '\0';
	tl.target[0] = '\0';
	sink_attrs_of(&a, &tl);
	CHECK_ATTR(&a, HTTP_REQUEST_METHOD, NULL);
	CHECK_ATTR(&a, URL_SCHEME, NULL);
	CHECK_ATTR(&a, URL_PATH, NULL);
}

static void test_longest_values_fit(void)
{
	struct timeline tl;
	struct sink_attrs a;

	client_get(&tl);
	memset(tl.target, 'p', sizeof(tl.target) - 1);
	tl.target[0] = '/';
	tl.target[sizeof(tl.target) - 1] = '\0';
	memset(tl.host, 'h', sizeof(tl.host) - 1);
	tl.host[sizeof(tl.host) - 1] = '\0';
	memset(tl.container.id, 'c', sizeof(tl.container.id) - 1);
	memset(tl.container.pod_uid, 'u', sizeof(tl.container.pod_uid) - 1);
	memset(tl.comm, 'x', sizeof(tl.comm) - 1);
	tl.comm[sizeof(tl.comm) - 1] = '\0';
	sink_attrs_of(&a, &tl);
	ASSERT(a.value[SINK_ATTR_URL_PATH] != NULL);
	CHECK_INT(strlen(a.value[SINK_ATTR_URL_PATH]), sizeof(tl.target) - 1);
	CHECK_INT(strlen(a.value[SINK_ATTR_SERVER_ADDRESS]),
		  sizeof(tl.host) - 1);
	ASSERT(a.value[SINK_ATTR_K8S_POD_UID] != NULL);
	CHECK_INT(strlen(a.value[SINK_ATTR_CONTAINER_ID]),
		  sizeof(tl.container.id) - 1);
}

int main(int argc, char **argv)
{
	unit_args(argc, argv);
	RUN(test_names_and_labels);
	RUN(test_client_request);
	RUN(test_errors);
	RUN(test_server_address);
	RUN(test_method_other_and_grpc);
	RUN(test_longest_values_fit);
	return unit_done("sink_attrs");
}
