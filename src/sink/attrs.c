// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "sink/attrs.h"

#include <stdio.h>
#include <string.h>

struct attr_info {
	const char *name;
	enum sink_attr_kind kind;
	enum sink_attr_scope scope;
};

#define ATTR_INFO(id, nm, k, sc) \
	[SINK_ATTR_##id] = { nm, SINK_ATTR_##k, SINK_ATTR_##sc },
static const struct attr_info attr_table[SINK_ATTR_COUNT] = {
	SINK_ATTRS(ATTR_INFO)
};
#undef ATTR_INFO

/* The labels are made from the names once, before main, so that every
 * thread reads finished bytes. */
static char attr_labels[SINK_ATTR_COUNT][48];

__attribute__((constructor)) static void attr_labels_init(void)
{
	for (unsigned int i = 0; i < SINK_ATTR_COUNT; i++) {
		const char *in = attr_table[i].name;
		size_t n = 0;

		for (; in[n] && n + 1 < sizeof(attr_labels[i]); n++)
			attr_labels[i][n] = in[n] == '.' ? '_' : in[n];
		attr_labels[i][n] = '\0';
	}
}

static const struct attr_info *attr_info(enum sink_attr a)
{
	return &attr_table[(unsigned int)a < SINK_ATTR_COUNT ? a : 0];
}

const char *sink_attr_name(enum sink_attr a)
{
	return attr_info(a)->name;
}

const char *sink_attr_label(enum sink_attr a)
{
	return attr_labels[(unsigned int)a < SINK_ATTR_COUNT ? a : 0];
}

enum sink_attr_kind sink_attr_kind(enum sink_attr a)
{
	return attr_info(a)->kind;
}

enum sink_attr_scope sink_attr_scope(enum sink_attr a)
{
	return attr_info(a)->scope;
}

/* Copies len bytes of s into a's storage as attribute id; too long for
 * what is left: the attribute stays absent. */
static void put(struct sink_attrs *a, enum sink_attr id, const char *s,
		size_t len)
{
	if (a->used + len + 1 > sizeof(a->storage))
		return;
	memcpy(a->storage + a->used, s, len);
	a->storage[a->used + len] = '\0';
	a->value[id] = a->storage + a->used;
	a->used += len + 1;
}

static void put_str(struct sink_attrs *a, enum sink_attr id, const char *s)
{
	put(a, id, s, strlen(s));
}

static void put_uint(struct sink_attrs *a, enum sink_attr id,
		     unsigned long long v)
{
	char buf[24];
	int n = snprintf(buf, sizeof(buf), "%llu", v);

	put(a, id, buf, (size_t)n);
}

/* The methods the conventions name; any other is "_OTHER", so that a
 * garbage method never becomes a metric series of its own. */
static const char *const known_methods[] = {
	"CONNECT", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST",
	"PUT", "QUERY", "TRACE",
};

static void put_method(struct sink_attrs *a, const char *method)
{
	size_t i;

	if (!method[0])
		return;
	for (i = 0; i < sizeof(known_methods) / sizeof(known_methods[0]); i++)
		if (!strcmp(method, known_methods[i])) {
			put_str(a, SINK_ATTR_HTTP_REQUEST_METHOD, method);
			return;
		}
	put_str(a, SINK_ATTR_HTTP_REQUEST_METHOD, "_OTHER");
}

/* Host "example.com:8080", "[::1]:443", "example.com": the name and
 * the port that follows it (0 when none). Returns false for an empty
 * or malformed host. */
static bool split_host(const char *host, const char **name, size_t *len,
		       unsigned int *port)
{
	const char *colon;

	*port = 0;
	if (host[0] == '[') {
		const char *end = strchr(host, ']');

		if (!end || end == host + 1)
			return false;
		*name = host + 1;
		*len = (size_t)(end - host - 1);
		colon = end[1] == ':' ? end + 1 : NULL;
	} else {
		colon = strrchr(host, ':');
		/* a bare IPv6 address has several colons and no port */
		if (colon && strchr(host, ':') != colon)
			colon = NULL;
		*name = host;
		*len = colon ? (size_t)(colon - host) : strlen(host);
	}
	if (!*len)
		return false;
	if (colon) {
		unsigned int p = 0;
		const char *d = colon + 1;

		if (!*d)
			return true;
		for (; *d; d++) {
			if (*d < '0' || *d > '9' || p > 65535)
				return true; /* the name stands, no port */
			p = p * 10 + (unsigned int)(*d - '0');
		}
		if (p && p <= 65535)
			*port = p;
	}
	return true;
}

static void put_server(struct sink_attrs *a, const struct timeline *tl)
{
	const struct ht_addr *server =
		tl->role == HT_ROLE_SERVER ? &tl->saddr : &tl->daddr;
	const char *name;
	size_t len;
	unsigned int port;

	if (tl->host[0] && split_host(tl->host, &name, &len, &port)) {
		put(a, SINK_ATTR_SERVER_ADDRESS, name, len);
		if (!port)
			port = tl->tls.seen ? 443 : 80;
		put_uint(a, SINK_ATTR_SERVER_PORT, port);
		return;
	}
	if (server->family) {
		char text[TL_ADDR_STRLEN];

		if (tl_addr_text(server, text))
			put_str(a, SINK_ATTR_SERVER_ADDRESS, text);
		if (server->port)
			put_uint(a, SINK_ATTR_SERVER_PORT, server->port);
	}
}

static void put_peer(struct sink_attrs *a, const struct timeline *tl)
{
	char text[TL_ADDR_STRLEN];

	/* the other end of the socket, whichever role */
	if (tl->daddr.family && tl_addr_text(&tl->daddr, text)) {
		put_str(a, SINK_ATTR_NETWORK_PEER_ADDRESS, text);
		if (tl->daddr.port)
			put_uint(a, SINK_ATTR_NETWORK_PEER_PORT,
				 tl->daddr.port);
	}
}

static void put_version(struct sink_attrs *a, const char *version)
{
	/* "HTTP/1.1" -> "1.1", "HTTP/2" -> "2" */
	if (!strncmp(version, "HTTP/", 5) && version[5])
		put_str(a, SINK_ATTR_NETWORK_PROTOCOL_VERSION, version + 5);
}

static void put_path(struct sink_attrs *a, const char *target)
{
	size_t len = strcspn(target, "?#");

	if (len)
		put(a, SINK_ATTR_URL_PATH, target, len);
}

static void put_error(struct sink_attrs *a, const struct timeline *tl)
{
	int from = tl->role == HT_ROLE_SERVER ? 500 : 400;

	if (tl->error_kind != TL_ERR_NONE)
		put_str(a, SINK_ATTR_ERROR_TYPE, tl_error_label(tl->error_kind));
	else if (tl->status >= from)
		put_uint(a, SINK_ATTR_ERROR_TYPE, (unsigned int)tl->status);
}

void sink_attrs_of(struct sink_attrs *a, const struct timeline *tl)
{
	memset(a->value, 0, sizeof(a->value));
	a->used = 0;

	put_method(a, tl->method);
	if (tl->status > 0)
		put_uint(a, SINK_ATTR_HTTP_RESPONSE_STATUS_CODE,
			 (unsigned int)tl->status);
	put_server(a, tl);
	put_error(a, tl);
	put_peer(a, tl);
	put_version(a, tl->version);
	if (tl->method[0])
		put_str(a, SINK_ATTR_URL_SCHEME,
			tl->tls.seen ? "https" : "http");
	put_path(a, tl->target);
	if (tl->grpc && tl->grpc_status >= 0)
		put_uint(a, SINK_ATTR_RPC_GRPC_STATUS_CODE,
			 (unsigned int)tl->grpc_status);
	if (tl->tls.seen && tl->tls.version[0]) {
		/* "TLSv1.3" -> "1.3" */
		const char *v = tl->tls.version;

		put_str(a, SINK_ATTR_TLS_PROTOCOL_VERSION,
			!strncmp(v, "TLSv", 4) ? v + 4 : v);
	}
	put_uint(a, SINK_ATTR_PROCESS_PID, tl->pid);
	if (tl->comm[0])
		put_str(a, SINK_ATTR_PROCESS_EXECUTABLE_NAME, tl->comm);
	if (tl->container.id[0])
		put_str(a, SINK_ATTR_CONTAINER_ID, tl->container.id);
	if (tl->container.pod_uid[0])
		put_str(a, SINK_ATTR_K8S_POD_UID, tl->container.pod_uid);
}
