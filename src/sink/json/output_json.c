// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * --json: one object per request per line. Key names and shapes are an
 * interface (agents parse them); change them only on purpose.
 */
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "sink/json/json_writer.h"
#include "sink/json/output_json.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Members whose "not seen" value is null (names: string literals). */
#define FIELD_STRING_OR_NULL(jw, lit, s, max) \
	do { jw_key(jw, lit); string_or_null_n(jw, s, max); } while (0)
#define FIELD_INT_OR_NULL(jw, lit, v) \
	do { jw_key(jw, lit); int_or_null(jw, v); } while (0)

/* "" means "not seen" in the struct; in JSON that is null. */
static void string_or_null_n(struct json_writer *jw, const char *s,
			     size_t max)
{
	if (!s[0])
		jw_null(jw);
	else
		jw_string_n(jw, s, max);
}

static void int_or_null(struct json_writer *jw, int64_t value)
{
	if (value < 0)
		jw_null(jw);
	else
		jw_int(jw, value);
}

/*
 * RFC 3339, UTC, microseconds: "2026-11-25T11:30:00.123456Z". Timelines
 * come many to a second, so the text up to the second is kept from the
 * last one: gmtime_r and strftime per record were a visible part of the
 * output's cost. One cache per thread: a sink behind a queue writes
 * from a thread of its own.
 */
static void write_ts(struct json_writer *jw, const struct timeline *tl,
		     const struct output_opts *opts)
{
	static _Thread_local int64_t cached_sec = INT64_MIN;
	static _Thread_local char cached[32];
	static _Thread_local size_t cached_len;
	char text[48];
	int64_t sec;
	int32_t nsec;
	uint32_t us;
	int i;

	output_wall_time(opts, tl->start_ns, &sec, &nsec);
	jw_key(jw, "ts");
	if (sec != cached_sec) {
		time_t t = (time_t)sec;
		struct tm tm;

		cached_sec = INT64_MIN;
		if (!gmtime_r(&t, &tm)) {
			jw_null(jw);
			return;
		}
		cached_len = strftime(cached, sizeof(cached),
				      "%Y-%m-%dT%H:%M:%S", &tm);
		if (cached_len == 0) {
			jw_null(jw);
			return;
		}
		cached_sec = sec;
	}
	memcpy(text, cached, cached_len);
	text[cached_len] = '.';
	us = nsec > 0 ? (uint32_t)nsec / 1000 : 0;
	for (i = 6; i >= 1; i--) {
		text[cached_len + (size_t)i] = (char)('0' + us % 10);
		us /= 10;
	}
	text[cached_len + 7] = 'Z';
	jw_plain_string(jw, text, cached_len + 8);
}

/* An address as a string (or null when its family is unknown): it is
 * the program's own text, with nothing to escape. Returns whether it
 * was known. */
static bool write_addr_text(struct json_writer *jw, const struct ht_addr *addr)
{
	char text[TL_ADDR_STRLEN];
	size_t len = tl_addr_text(addr, text);

	if (len)
		jw_plain_string(jw, text, len);
	else
		jw_null(jw);
	return len != 0;
}

/* the address member (its key already out), then the port's */
static void write_addr(struct json_writer *jw, const struct ht_addr *addr,
		       const char *port_key, size_t port_key_len)
{
	bool ok = write_addr_text(jw, addr);

	jw_comma_name(jw, port_key, port_key_len);
	if (ok)
		jw_uint(jw, addr->port);
	else
		jw_null(jw);
}

#define WRITE_ADDR(jw, addr_lit, port_lit, addr)                         \
	do {                                                             \
		jw_key(jw, addr_lit);                                    \
		write_addr(jw, addr, ",\"" port_lit "\":",                \
			   sizeof(",\"" port_lit "\":") - 1);             \
	} while (0)

static void write_conn(struct json_writer *jw, const struct timeline *tl)
{
	jw_key(jw, "conn");
	jw_start_object(jw);
	WRITE_ADDR(jw, "saddr", "sport", &tl->saddr);
	WRITE_ADDR(jw, "daddr", "dport", &tl->daddr);
	jw_bool_field(jw, "reused", output_flag(&tl->reused));
	FIELD_INT_OR_NULL(jw, "idle_us", tl->idle_us);
	jw_end_object(jw);
}

static void write_http(struct json_writer *jw, const struct timeline *tl,
		       const struct output_opts *opts)
{
	char target[TL_TARGET_TEXT_MAX];

	jw_key(jw, "http");
	jw_start_object(jw);
	FIELD_STRING_OR_NULL(jw, "method", tl->method, sizeof(tl->method));
	/* most targets have no query: no copy for those */
	if ((opts && opts->show_query) ||
	    !memchr(tl->target, '?', strnlen(tl->target, sizeof(tl->target)))) {
		FIELD_STRING_OR_NULL(jw, "target", tl->target,
				     sizeof(tl->target));
	} else {
		tl_target_text(tl->target, sizeof(tl->target), false, target);
		FIELD_STRING_OR_NULL(jw, "target", target, sizeof(target));
	}
	jw_bool_field(jw, "target_truncated", output_flag(&tl->target_truncated));
	FIELD_STRING_OR_NULL(jw, "host", tl->host, sizeof(tl->host));
	FIELD_STRING_OR_NULL(jw, "version", tl->version, sizeof(tl->version));
	/* null: HTTP/1, or an HTTP/2 connection whose streams were not
	 * decoded */
	jw_key(jw, "stream_id");
	if (tl->stream_id)
		jw_uint(jw, tl->stream_id);
	else
		jw_null(jw);
	jw_key(jw, "status");
	if (tl->status > 0)
		jw_int(jw, tl->status);
	else
		jw_null(jw);
	/* an HTTP/2 connection, recognised but its streams not decoded:
	 * said, so that no method or status reads as none sent */
	if (!tl->stream_id &&
	    strncmp(tl->version, "HTTP/2", sizeof(tl->version)) == 0)
		jw_bool_field(jw, "streams_decoded", false);
	jw_end_object(jw);
}

/* "tls": null for plaintext; otherwise what the handshake showed */
static void write_tls(struct json_writer *jw, const struct timeline *tl)
{
	const struct tl_tls *t = &tl->tls;

	jw_key(jw, "tls");
	if (!output_flag(&t->seen)) {
		jw_null(jw);
		return;
	}
	jw_start_object(jw);
	FIELD_STRING_OR_NULL(jw, "lib", t->lib, sizeof(t->lib));
	FIELD_STRING_OR_NULL(jw, "version", t->version, sizeof(t->version));
	FIELD_STRING_OR_NULL(jw, "cipher", t->cipher, sizeof(t->cipher));
	FIELD_STRING_OR_NULL(jw, "sni", t->sni, sizeof(t->sni));
	FIELD_STRING_OR_NULL(jw, "alpn", t->alpn, sizeof(t->alpn));
	/* where alpn comes from: the ServerHello on the wire (TLS 1.2), or
	 * the plaintext (TLS 1.3 encrypts the server's choice) */
	jw_key(jw, "alpn_source");
	if (!t->alpn[0])
		jw_null(jw);
	else if (output_flag(&t->alpn_inferred))
		jw_plain_literal(jw, "inferred");
	else
		jw_plain_literal(jw, "server_hello");
	FIELD_STRING_OR_NULL(jw, "alpn_offered", t->alpn_offered,
			     sizeof(t->alpn_offered));
	/* false: a TLS library the tracer does not hook carried the
	 * plaintext; the requests are not known */
	jw_bool_field(jw, "decoded", !output_flag(&t->not_decoded));
	jw_end_object(jw);
}

/* "container": null unless the process ran in a container or a
 * Kubernetes pod its cgroup's path names (container/container_path.h) */
static void write_container(struct json_writer *jw, const struct timeline *tl)
{
	const struct tl_container *c = &tl->container;

	jw_key(jw, "container");
	if (!c->id[0] && !c->pod_uid[0]) {
		jw_null(jw);
		return;
	}
	jw_start_object(jw);
	FIELD_STRING_OR_NULL(jw, "id", c->id, sizeof(c->id));
	FIELD_STRING_OR_NULL(jw, "runtime", c->runtime, sizeof(c->runtime));
	FIELD_STRING_OR_NULL(jw, "pod_uid", c->pod_uid, sizeof(c->pod_uid));
	jw_end_object(jw);
}

/* "grpc": null unless the stream is a gRPC call; its status is null
 * until the trailers that carry it are seen */
static void write_grpc(struct json_writer *jw, const struct timeline *tl)
{
	jw_key(jw, "grpc");
	if (!output_flag(&tl->grpc)) {
		jw_null(jw);
		return;
	}
	jw_start_object(jw);
	FIELD_INT_OR_NULL(jw, "status", tl->grpc_status);
	jw_key(jw, "message");
	if (output_flag(&tl->grpc_message_seen))
		jw_string_n(jw, tl->grpc_message, sizeof(tl->grpc_message));
	else
		jw_null(jw);
	jw_end_object(jw);
}

/* The names are tl_phase_name()'s, as literals: keys known at compile
 * time cost a few moves each (jw_key()). */
static void write_phases(struct json_writer *jw, const struct timeline *tl)
{
	_Static_assert(TL_PHASE_COUNT == 8, "a phase without its key below");

	jw_key(jw, "phases_us");
	jw_start_object(jw);
	FIELD_INT_OR_NULL(jw, "dns", tl->phase_us[TL_PHASE_DNS]);
	FIELD_INT_OR_NULL(jw, "connect", tl->phase_us[TL_PHASE_CONNECT]);
	FIELD_INT_OR_NULL(jw, "tls", tl->phase_us[TL_PHASE_TLS]);
	FIELD_INT_OR_NULL(jw, "send", tl->phase_us[TL_PHASE_SEND]);
	FIELD_INT_OR_NULL(jw, "wait", tl->phase_us[TL_PHASE_WAIT]);
	FIELD_INT_OR_NULL(jw, "receive", tl->phase_us[TL_PHASE_RECEIVE]);
	FIELD_INT_OR_NULL(jw, "idle", tl->phase_us[TL_PHASE_IDLE]);
	FIELD_INT_OR_NULL(jw, "total", tl->phase_us[TL_PHASE_TOTAL]);
	jw_end_object(jw);
}

static void write_err(struct json_writer *jw, const struct tl_event *ev)
{
	char words[TL_ERR_WORDS_LEN];

	jw_key(jw, "err");
	if (ev->err == 0)
		jw_null(jw);
	else
		jw_string(jw, tl_err_words(ev->hook, ev->err, words,
					   sizeof(words)));
}

/* Go's ConnectStart(network, addr): "tcp4"/"tcp6" and "ip:port". The
 * network follows the address as shown, so an IPv4-mapped peer on an
 * IPv6 socket reads "tcp4" beside "127.0.0.1:80". */
static void write_connect_peer(struct json_writer *jw,
			       const struct timeline *tl,
			       const struct tl_event *ev)
{
	const struct ht_addr *peer = ev->n_addrs ? &ev->addrs[0] : &tl->daddr;
	char text[TL_ADDR_PORT_STRLEN];
	size_t len = tl_addr_port_text(peer, text);

	if (!len) {
		jw_null_field(jw, "network");
		jw_null_field(jw, "addr");
		return;
	}
	jw_key(jw, "network");
	/* "[" starts an IPv6 address only. */
	if (text[0] == '[')
		jw_plain_literal(jw, "tcp6");
	else
		jw_plain_literal(jw, "tcp4");
	jw_key(jw, "addr");
	jw_plain_string(jw, text, len);
}

static void write_event(struct json_writer *jw, const struct timeline *tl,
			const struct tl_event *ev)
{
	struct tl_name hook = tl_hook_name_n(ev->hook);
	bool err_written = false;
	uint32_t i, n;

	jw_start_object(jw);
	jw_key(jw, "hook");
	jw_plain_string(jw, hook.str, hook.len);
	/* Signed difference: an event may predate GetConn (a DNS lookup
	 * that was already running, say); shown negative, not wrapped. */
	jw_int_field(jw, "t_us", (int64_t)(ev->ts_ns - tl->start_ns) / 1000);

	switch (ev->hook) {
	case TL_DNSStart:
		jw_key(jw, "host");
		jw_string_n(jw, ev->host, sizeof(ev->host));
		if (ev->service[0]) {
			jw_key(jw, "service");
			jw_string_n(jw, ev->service, sizeof(ev->service));
		}
		break;
	case TL_DNSDone:
		jw_key(jw, "addrs");
		jw_start_array(jw);
		n = ev->n_addrs < ARRAY_LEN(ev->addrs) ? ev->n_addrs :
							 ARRAY_LEN(ev->addrs);
		for (i = 0; i < n; i++)
			write_addr_text(jw, &ev->addrs[i]);
		jw_end_array(jw);
		write_err(jw, ev);
		err_written = true;
		break;
	case TL_ConnectStart:
		write_connect_peer(jw, tl, ev);
		break;
	case TL_ConnectDone:
		write_connect_peer(jw, tl, ev);
		write_err(jw, ev);
		err_written = true;
		break;
	case TL_TLSHandshakeDone:
		if (ev->err && tl->tls.error[0]) {
			jw_key(jw, "err");
			jw_string_n(jw, tl->tls.error, sizeof(tl->tls.error));
		} else {
			write_err(jw, ev);
		}
		err_written = true;
		break;
	case TL_GotConn:
		jw_bool_field(jw, "reused", output_flag(&tl->reused));
		/* HTTP/1 cannot share a busy connection, so a reused one
		 * was idle by definition; an HTTP/2 stream's was when no
		 * other stream was open (its idle time is then known) */
		jw_bool_field(jw, "was_idle", output_flag(&tl->reused) &&
				  (!tl->stream_id || tl->idle_us >= 0));
		FIELD_INT_OR_NULL(jw, "idle_us", tl->idle_us);
		break;
	case TL_Got1xxResponse:
		jw_int_field(jw, "code", ev->status);
		break;
	default:
		break;
	}
	if (!err_written && ev->err != 0)
		write_err(jw, ev);
	jw_end_object(jw);
}

void output_json(FILE *out, const struct timeline *tl,
		 const struct output_opts *opts)
{
	struct json_writer jw;
	uint32_t i, n_events;

	jw_init_lines(&jw, out);
	jw_start_object(&jw);
	write_ts(&jw, tl, opts);
	jw_uint_field(&jw, "pid", tl->pid);
	jw_uint_field(&jw, "tid", tl->tid);
	jw_key(&jw, "comm");
	jw_string_n(&jw, tl->comm, sizeof(tl->comm));
	write_container(&jw, tl);
	jw_key(&jw, "role");
	if (tl->role == HT_ROLE_SERVER)
		jw_plain_literal(&jw, "server");
	else
		jw_plain_literal(&jw, "client");
	write_conn(&jw, tl);
	write_http(&jw, tl, opts);
	write_tls(&jw, tl);
	write_grpc(&jw, tl);
	write_phases(&jw, tl);

	jw_key(&jw, "events");
	jw_start_array(&jw);
	n_events = tl->n_events < TL_MAX_EVENTS ? tl->n_events : TL_MAX_EVENTS;
	for (i = 0; i < n_events; i++)
		write_event(&jw, tl, &tl->events[i]);
	jw_end_array(&jw);

	FIELD_STRING_OR_NULL(&jw, "error", tl->error, sizeof(tl->error));
	jw_bool_field(&jw, "complete", output_flag(&tl->complete));
	/* from the process's side: a server receives the request */
	jw_key(&jw, "bytes");
	jw_start_object(&jw);
	if (tl->role == HT_ROLE_SERVER) {
		jw_uint_field(&jw, "sent", tl->response_bytes);
		jw_uint_field(&jw, "received", tl->request_bytes);
	} else {
		jw_uint_field(&jw, "sent", tl->request_bytes);
		jw_uint_field(&jw, "received", tl->response_bytes);
	}
	jw_end_object(&jw);
	jw_end_object(&jw);
	if (opts && opts->flush)
		fflush(out);
}
