// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * libFuzzer target for the correlator. The input is a little program:
 * each step picks a record type and its fields from small ranges (so that
 * connections, generations, sequence numbers and timestamps collide and
 * arrive out of order), with payloads either cut from a set of HTTP
 * fragments or taken raw from the input; other steps tick, report drops,
 * or push raw input bytes as a record. At the end everything is flushed
 * and the stats and every timeline are checked for consistency.
 *
 * TLS: plaintext records of a TLS call (HT_EV_TLS_DATA, with the library
 * in `call`, valid or not), handshake and verify results (HT_EV_TLS, with
 * the return codes libraries really give and some they do not, sessions
 * from a small set so that they collide), and socket records carrying TLS
 * on the wire: hellos with ALPN h2 or http/1.1, alerts, application data,
 * and handshake records with garbage bodies and lengths, cut short or
 * followed by uncaptured bytes. HT_EV_EXEC, which belongs to the loader's
 * ring, is pushed too and must be refused.
 *
 * DNS from the wire: queries and answers (HT_EV_DNS_WIRE) for a few names
 * that share a first label (search domains), ids and types that collide,
 * error rcodes, UDP datagrams cut short and TCP streams with their
 * lengths alone or in front.
 */
#include <errno.h>
#include <netdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "pipeline/correlator.h"
#include "proto/dns/dns_wire.h"
#include "../unit/tls_records.h"
#include "../unit/dns_msgs.h"

#define US 1000ull

struct input {
	const uint8_t *p;
	size_t n;
};

static uint8_t take(struct input *in)
{
	uint8_t b;

	if (!in->n)
		return 0;
	b = *in->p++;
	in->n--;
	return b;
}

/* Frames hold NUL bytes: each with its length. */
#define FRAG(s) { s, sizeof(s) - 1 }

static const struct {
	const char *s;
	size_t len;
} fragments[] = {
	FRAG("GET / HTTP/1.1\r\nHost: a\r\n\r\n"),
	FRAG("HEAD /h HTTP/1.1\r\nHost: a\r\n\r\n"),
	FRAG("POST /p HTTP/1.1\r\nContent-Length: 3\r\n"
	     "Expect: 100-continue\r\n\r\n"),
	FRAG("abc"),
	FRAG("CONNECT a:443 HTTP/1.1\r\n\r\n"),
	FRAG("GET /c HTTP/1.0\r\nConnection: close\r\n\r\n"),
	FRAG("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
	FRAG("HTTP/1.1 100 Continue\r\n\r\n"),
	FRAG("HTTP/1.1 101 Switching Protocols\r\nUpgrade: ws\r\n\r\n"),
	FRAG("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"),
	FRAG("5\r\nhello\r\n"),
	FRAG("0\r\n\r\n"),
	FRAG("HTTP/1.0 200 OK\r\n\r\nuntil close"),
	FRAG("HTTP/1.1 204 No Content\r\n\r\n"),
	FRAG("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"),
	FRAG("\x16\x03\x01\x00\x10"),
	FRAG("\r\n"),
	FRAG("HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n"),
	/* HTTP/2: preface and SETTINGS, the server's SETTINGS, request
	 * HEADERS (GET / on 1 ending the stream; POST / on 3), responses
	 * (200 on 1, 404 ending 3), DATA ending 1, RST_STREAM CANCEL on
	 * 3, GOAWAY after 1 (PROTOCOL_ERROR), trailers grpc-status 0 on
	 * 1; an h2c Upgrade and its 101 */
	FRAG("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00"
	     "\x00\x00"),
	FRAG("\x00\x00\x00\x04\x00\x00\x00\x00\x00"),
	FRAG("\x00\x00\x03\x01\x05\x00\x00\x00\x01\x82\x84\x86"),
	FRAG("\x00\x00\x03\x01\x04\x00\x00\x00\x03\x83\x84\x86"),
	FRAG("\x00\x00\x01\x01\x04\x00\x00\x00\x01\x88"),
	FRAG("\x00\x00\x01\x01\x05\x00\x00\x00\x03\x8d"),
	FRAG("\x00\x00\x02\x00\x01\x00\x00\x00\x01ok"),
	FRAG("\x00\x00\x04\x03\x00\x00\x00\x00\x03\x00\x00\x00\x08"),
	FRAG("\x00\x00\x08\x07\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00"
	     "\x00\x00\x01"),
	FRAG("\x00\x00\x0f\x01\x05\x00\x00\x00\x01\x00\x0bgrpc-status\x01"
	     "0"),
	FRAG("GET /u HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, "
	     "HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABk"
	     "\r\n\r\n"),
	FRAG("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
	     "Upgrade: h2c\r\n\r\n"),
};
#define N_FRAGMENTS (sizeof(fragments) / sizeof(fragments[0]))

static const int32_t errnos[] = { 0, ECONNREFUSED, EINPROGRESS, ETIMEDOUT,
				  ECONNRESET };
static const int64_t io_errors[] = { -EAGAIN, -ECONNRESET, -EPIPE, -EINTR,
				     -512 };

struct fuzz_state {
	struct correlator *c;
	uint64_t clock;
	uint64_t emitted;
	uint64_t records[(sizeof(struct ht_data_event) + 1024) / 8 + 1];
};

static void check_tls(const struct timeline *tl)
{
	const struct tl_tls *t = &tl->tls;
	uint32_t i, n_start = 0, n_done = 0;
	uint64_t start_ts = 0, done_ts = 0;

	if (strnlen(t->lib, sizeof(t->lib)) >= sizeof(t->lib) ||
	    strnlen(t->version, sizeof(t->version)) >= sizeof(t->version) ||
	    strnlen(t->cipher, sizeof(t->cipher)) >= sizeof(t->cipher) ||
	    strnlen(t->sni, sizeof(t->sni)) >= sizeof(t->sni) ||
	    strnlen(t->alpn, sizeof(t->alpn)) >= sizeof(t->alpn) ||
	    strnlen(t->alpn_offered, sizeof(t->alpn_offered)) >=
		    sizeof(t->alpn_offered) ||
	    strnlen(t->error, sizeof(t->error)) >= sizeof(t->error))
		abort();
	/* not decoded: a TLS connection with no request, no library, never
	 * complete; an inferred ALPN is one */
	if (t->not_decoded && (!t->seen || t->lib[0] || tl->method[0] ||
			       tl->complete))
		abort();
	if (t->alpn_inferred && !t->alpn[0])
		abort();
	for (i = 0; i < tl->n_events; i++) {
		if (tl->events[i].hook == TL_TLSHandshakeStart) {
			n_start++;
			start_ts = tl->events[i].ts_ns;
		} else if (tl->events[i].hook == TL_TLSHandshakeDone) {
			n_done++;
			done_ts = tl->events[i].ts_ns;
		}
	}
	/* one handshake per timeline at most; a Done has its Start before
	 * it; TLS hooks, a tls phase or TLS words only on a TLS connection */
	if (n_start > 1 || n_done > 1 || n_done > n_start)
		abort();
	if (n_done && done_ts < start_ts)
		abort();
	if (!t->seen && (n_start || t->lib[0] || t->error[0] ||
			 tl->phase_us[TL_PHASE_TLS] != -1))
		abort();
	if (tl->phase_us[TL_PHASE_TLS] != -1 && !n_done)
		abort();
	if (t->error[0] && !n_done)
		abort();
}

static void check_timeline(const struct timeline *tl)
{
	uint32_t i;

	if (tl->n_events > TL_MAX_EVENTS)
		abort();
	/* an error always has its kind, set where it happened, and the
	 * kind is never one the words do not name */
	if ((tl->error[0] == '\0') != (tl->error_kind == TL_ERR_NONE) ||
	    (unsigned)tl->error_kind >= TL_ERROR_KIND_COUNT ||
	    tl->error_kind == TL_ERR_OTHER)
		abort();
	for (i = 1; i < tl->n_events; i++)
		if (tl->events[i].ts_ns < tl->events[i - 1].ts_ns)
			abort();
	for (i = 0; i < tl->n_events; i++)
		if (tl->events[i].n_addrs > HT_DNS_MAX_ADDRS ||
		    strnlen(tl->events[i].host, HT_DNS_HOST_LEN) >=
			    HT_DNS_HOST_LEN)
			abort();
	for (i = 0; i < TL_PHASE_COUNT; i++)
		if (tl->phase_us[i] < -1)
			abort();
	/* the waterfall, idle gaps included, adds up to total */
	if (tl->n_steps > TL_MAX_STEPS)
		abort();
	if (tl->n_steps) {
		int64_t sum = 0, steps = 0;

		for (i = 0; i < TL_PHASE_TOTAL; i++)
			if (tl->phase_us[i] >= 0)
				sum += tl->phase_us[i];
		for (i = 0; i < tl->n_steps; i++) {
			if (tl->steps[i].us < 0)
				abort();
			steps += tl->steps[i].us;
		}
		if (sum != tl->phase_us[TL_PHASE_TOTAL] ||
		    steps != tl->phase_us[TL_PHASE_TOTAL])
			abort();
	}
	if (strnlen(tl->method, sizeof(tl->method)) >= sizeof(tl->method) ||
	    strnlen(tl->target, sizeof(tl->target)) >= sizeof(tl->target) ||
	    strnlen(tl->host, sizeof(tl->host)) >= sizeof(tl->host) ||
	    strnlen(tl->version, sizeof(tl->version)) >= sizeof(tl->version) ||
	    strnlen(tl->comm, sizeof(tl->comm)) >= sizeof(tl->comm) ||
	    strnlen(tl->error, sizeof(tl->error)) >= sizeof(tl->error) ||
	    strnlen(tl->grpc_message, sizeof(tl->grpc_message)) >=
		    sizeof(tl->grpc_message))
		abort();
	/* gRPC only on an HTTP/2 stream; a status only from its trailers */
	if (tl->grpc && (!tl->stream_id || tl->grpc_status < -1))
		abort();
	if (tl->end_ns < tl->start_ns)
		abort();
	check_tls(tl);
}

static void sink(void *user, const struct timeline *tl)
{
	struct fuzz_state *st = user;

	st->emitted++;
	check_timeline(tl);
}

static struct ht_addr pick_addr(uint8_t b)
{
	struct ht_addr a = { 0 };

	switch (b % 4) {
	case 0:
		break; /* unknown */
	case 1:
		a.family = AF_INET;
		a.addr[0] = 10;
		a.addr[3] = (uint8_t)(1 + (b >> 2) % 2);
		break;
	case 2:
		a.family = AF_INET6;
		a.addr[10] = a.addr[11] = 0xff;
		a.addr[12] = 10;
		a.addr[15] = (uint8_t)(1 + (b >> 2) % 2);
		break;
	case 3:
		a.family = AF_INET6;
		a.addr[15] = 1;
		break;
	}
	a.port = (uint16_t)(b & 0x80 ? 80 : 0);
	return a;
}

static void fill_hdr(struct fuzz_state *st, struct ht_event_header *h,
		     uint32_t type, struct input *in)
{
	uint8_t b = take(in);

	/* mostly forward, sometimes back within or beyond the window */
	st->clock += (uint64_t)(b & 0x3f) * 50 * US;
	h->ts_ns = st->clock;
	if (b & 0x40)
		h->ts_ns -= (uint64_t)(b & 0x3f) * 200 * US;
	h->type = type;
	h->tgid = 1 + take(in) % 3;
	h->tid = h->tgid + (b >> 7);
	memcpy(h->comm, "fuzz", 5);
}

static void fill_conn_id(struct ht_conn_id *id, uint32_t tgid, uint8_t b)
{
	id->tgid = tgid;
	id->fd = 3 + b % 3;
	id->gen = 1 + (b >> 2) % 3;
}

static uint32_t pick_seq(struct input *in)
{
	uint8_t b = take(in);

	return b < 0xf0 ? b % 16 : 0xfffffff0u + (b & 0xf);
}

/* Bytes of the next data record: an HTTP fragment, cut short or not, or
 * raw input bytes. */
static size_t pick_payload(uint8_t how, struct input *in, uint8_t *out)
{
	size_t cap;

	if (how & 2) {
		/* raw input bytes */
		cap = take(in) % 64;
		if (cap > in->n)
			cap = in->n;
		memcpy(out, in->p, cap);
		in->p += cap;
		in->n -= cap;
	} else {
		size_t i = take(in) % N_FRAGMENTS;
		const char *f = fragments[i].s;
		size_t len = fragments[i].len;

		cap = len;
		if (how & 4) /* cut it short */
			cap = take(in) % (len + 1);
		memcpy(out, f, cap);
	}
	return cap;
}

static const char *const snis[] = { NULL, "a", "localhost", "" };
static const char *const alpns[] = { NULL, "h2", "http/1.1", "h2,http/1.1",
				     "spdy/1,x" };

/* Bytes on the wire of a TLS connection, into out (room for 600). */
static size_t pick_tls_wire(struct input *in, uint8_t *out)
{
	uint8_t b = take(in);
	struct tbuf t;
	size_t n;

	switch (b % 8) {
	case 0:
		tls_client_hello(&t, snis[(b >> 3) % 4], alpns[(b >> 5) % 5]);
		break;
	case 1:
		tls_server_hello(&t, b & 0x10 ? 0x0304 : 0x0303,
				 b & 0x20 ? 0x1301 : 0xc02f,
				 alpns[(b >> 6) % 3]);
		break;
	case 2: /* a plaintext alert (or one too long to be plaintext) */
		tls_alert(&t, 1 + (b >> 7), take(in));
		if (b & 0x10)
			t.b[4] = 26;
		break;
	case 3:
		tls_appdata(&t, take(in) % 80);
		break;
	case 4: /* ChangeCipherSpec */
		t.n = 0;
		tb_u8(&t, 20); tb_u16(&t, 0x0303); tb_u16(&t, 1); tb_u8(&t, 1);
		break;
	case 5:
	case 6: {
		/* a handshake record with a garbage body: message type and
		 * lengths from the input, then input bytes */
		size_t len = take(in) % 200, i;

		t.n = 0;
		tb_u8(&t, 22); tb_u16(&t, 0x0300 + take(in) % 6);
		tb_u16(&t, b & 0x10 ? take(in) * 67u : (unsigned)len + 4);
		tb_u8(&t, b & 0x20 ? take(in) : 1 + (b >> 7));
		tb_u24(&t, b & 0x40 ? take(in) * 1031u : (unsigned)len);
		for (i = 0; i < len && in->n; i++)
			tb_u8(&t, take(in));
		break;
	}
	case 7: { /* a few records in one write: hello then appdata */
		struct tbuf d;

		tls_client_hello(&t, "localhost", alpns[(b >> 3) % 5]);
		tls_appdata(&d, 20);
		tb_bytes(&t, d.b, d.n);
		break;
	}
	}
	n = t.n;
	if (b & 0x08 && (b % 8) != 0) /* cut short */
		n = take(in) % (n + 1);
	if (n > 600)
		n = 600;
	memcpy(out, t.b, n);
	return n;
}

/* Return values that TLS libraries give for handshake calls (OpenSSL 1
 * ok, 0 closed, -1 error or retry; GnuTLS 0 ok, negative codes), verify
 * results (X509_V_*), and some nobody gives. */
static const int64_t tls_rets[] = { 1, 0, -1, -28, -52, -12, -50, -110,
				    -43, 18, 19, 20, 21, 10, 2, -3000,
				    INT64_MIN, 0x7fffffff };

static void step(struct fuzz_state *st, struct input *in)
{
	uint8_t op = take(in);
	uint8_t *buf = (uint8_t *)st->records;

	switch (op % 18) {
	case 0:
	case 1:
	case 2:
	case 3: {
		static const uint32_t types[4] = { HT_EV_CONNECT_START,
						   HT_EV_CONNECT_DONE,
						   HT_EV_ACCEPT, HT_EV_CLOSE };
		struct ht_conn_event *ev = (void *)buf;

		memset(ev, 0, sizeof(*ev));
		fill_hdr(st, &ev->hdr, types[op % 4], in);
		fill_conn_id(&ev->conn, ev->hdr.tgid, take(in));
		ev->seq = pick_seq(in);
		ev->err = errnos[take(in) % 5];
		ev->daddr = pick_addr(take(in));
		ev->saddr = pick_addr(take(in));
		correlator_push(st->c, ev, sizeof(*ev));
		break;
	}
	case 4:
	case 5:
	case 6: {
		struct ht_data_event *ev = (void *)buf;
		uint8_t how = take(in);
		size_t cap = 0;

		memset(ev, 0, sizeof(*ev));
		fill_hdr(st, &ev->hdr, HT_EV_DATA, in);
		fill_conn_id(&ev->conn, ev->hdr.tgid, take(in));
		ev->seq = pick_seq(in);
		ev->direction = how & 1;
		ev->enter_ns = ev->hdr.ts_ns - (how & 0x10 ? 30 * US : 0);
		cap = pick_payload(how, in, ev->data);
		ev->captured_len = (uint32_t)cap;
		ev->ret = (int64_t)cap;
		if (how & 8) /* more moved than captured */
			ev->ret += take(in) * 37;
		if ((how & 0x60) == 0x60) {
			ev->ret = (how & 0x80) ? 0 : io_errors[take(in) % 5];
			ev->captured_len = 0;
			cap = 0;
		}
		correlator_push(st->c, ev, sizeof(*ev) + cap);
		break;
	}
	case 7: {
		struct ht_dns_event *ev = (void *)buf;
		uint8_t b = take(in);
		uint32_t i;

		memset(ev, 0, sizeof(*ev));
		fill_hdr(st, &ev->hdr, HT_EV_DNS, in);
		ev->enter_ns = ev->hdr.ts_ns - (b % 4) * 100 * US;
		ev->ret = (b & 0x80) ? EAI_NONAME : 0;
		ev->n_addrs = (b >> 2) % (HT_DNS_MAX_ADDRS + 1);
		for (i = 0; i < ev->n_addrs; i++)
			ev->addrs[i] = pick_addr(take(in));
		if (b & 0x40) {
			/* no NUL */
			memset(ev->host, 'h', sizeof(ev->host));
			memset(ev->service, 's', sizeof(ev->service));
		} else {
			snprintf(ev->host, sizeof(ev->host), "host%u", b % 3);
			if (b & 0x20)
				snprintf(ev->service, sizeof(ev->service),
					 "%u", 80 + b % 2);
		}
		correlator_push(st->c, ev, sizeof(*ev));
		break;
	}
	case 8: {
		struct ht_exit_event *ev = (void *)buf;

		memset(ev, 0, sizeof(*ev));
		fill_hdr(st, &ev->hdr, HT_EV_PROC_EXIT, in);
		correlator_push(st->c, ev, sizeof(*ev));
		break;
	}
	case 9:
		correlator_tick(st->c, st->clock + (take(in) % 16) * 1000 * US);
		break;
	case 10:
		correlator_note_lost(st->c, (enum ht_drop_kind)(take(in) % 4),
				     take(in));
		break;
	case 11: {
		/* raw bytes as a record, sometimes with a plausible type */
		size_t len = take(in);
		uint8_t type = take(in);

		if (len > in->n)
			len = in->n;
		if (len > sizeof(st->records))
			len = sizeof(st->records);
		memcpy(buf, in->p, len);
		if (len >= sizeof(struct ht_event_header) && type < 12)
			((struct ht_event_header *)(void *)buf)->type = type;
		correlator_push(st->c, buf, len);
		/* and unaligned */
		correlator_push(st->c, in->p, len);
		in->p += len;
		in->n -= len;
		break;
	}
	case 12:
	case 13: {
		/* plaintext of a TLS call: HTTP fragments mostly */
		struct ht_data_event *ev = (void *)buf;
		uint8_t how = take(in);
		size_t cap;

		memset(ev, 0, sizeof(*ev));
		fill_hdr(st, &ev->hdr, HT_EV_TLS_DATA, in);
		fill_conn_id(&ev->conn, ev->hdr.tgid, take(in));
		ev->seq = pick_seq(in);
		ev->direction = how & 1;
		ev->call = how & 0x80 ? take(in) % 4 : HT_TLS_OPENSSL + (how >> 6 & 1);
		ev->enter_ns = ev->hdr.ts_ns - (how & 0x10 ? 300 * US : 0);
		cap = pick_payload(how, in, ev->data);
		ev->captured_len = (uint32_t)cap;
		ev->ret = (int64_t)cap;
		if (how & 8)
			ev->ret += take(in) * 37;
		if ((how & 0x60) == 0x60) {
			ev->ret = (how & 0x80) ? 0 : io_errors[take(in) % 5];
			ev->captured_len = 0;
			cap = 0;
		}
		correlator_push(st->c, ev, sizeof(*ev) + cap);
		break;
	}
	case 14: {
		/* a handshake call returned, or the verify result was read */
		struct ht_tls_event *ev = (void *)buf;
		uint8_t b = take(in);

		memset(ev, 0, sizeof(*ev));
		fill_hdr(st, &ev->hdr, HT_EV_TLS, in);
		fill_conn_id(&ev->conn, ev->hdr.tgid, take(in));
		ev->seq = pick_seq(in);
		ev->lib = b % 4;         /* 3: not a library */
		ev->op = (b >> 2) % 3;   /* 2: not an op */
		ev->ret = tls_rets[take(in) % (sizeof(tls_rets) /
					       sizeof(tls_rets[0]))];
		ev->enter_ns = ev->hdr.ts_ns - (uint64_t)(b >> 4) * 100 * US;
		if (b & 0x80) /* entry after return: never, but any bytes */
			ev->enter_ns = ev->hdr.ts_ns + 5 * US;
		ev->session = 0x1000 + (b >> 5) % 2;
		correlator_push(st->c, ev, sizeof(*ev));
		break;
	}
	case 15: {
		/* TLS on the wire of a socket: handshake records, alerts,
		 * garbage with a handshake header */
		struct ht_data_event *ev = (void *)buf;
		uint8_t how = take(in);
		size_t cap;

		memset(ev, 0, sizeof(*ev));
		fill_hdr(st, &ev->hdr, HT_EV_DATA, in);
		fill_conn_id(&ev->conn, ev->hdr.tgid, take(in));
		ev->seq = pick_seq(in);
		ev->direction = how & 1;
		ev->call = how >> 1 & 7;
		ev->enter_ns = ev->hdr.ts_ns - (how & 0x10 ? 30 * US : 0);
		cap = pick_tls_wire(in, ev->data);
		ev->captured_len = (uint32_t)cap;
		ev->ret = (int64_t)cap;
		if (how & 0x20) /* more moved than captured */
			ev->ret += take(in) * 53;
		correlator_push(st->c, ev, sizeof(*ev) + cap);
		break;
	}
	case 16: {
		/* the loader's record: never the correlator's */
		struct ht_exec_event *ev = (void *)buf;

		memset(ev, 0, sizeof(*ev));
		fill_hdr(st, &ev->hdr, HT_EV_EXEC, in);
		if (correlator_push(st->c, ev, sizeof(*ev)) == 0)
			abort();
		break;
	}
	case 17: {
		static const char *const names[] = { "app.s.t", "app.t",
						      "nx.t", "APP.t" };
		static const uint8_t addrs[2][16] = { { 10, 0, 0, 1 },
						      { 10, 0, 0, 2 } };
		struct ht_dns_wire_event *ev = (void *)buf;
		static struct dns_build m;
		uint8_t b = take(in), c = take(in);
		const char *name = names[c % 4];
		unsigned int type = c & 4 ? DNS_TYPE_AAAA : DNS_TYPE_A;
		unsigned int id = (c >> 3) % 3;
		size_t n, at = 0;

		memset(ev, 0, sizeof(*ev));
		fill_hdr(st, &ev->hdr, HT_EV_DNS_WIRE, in);
		ev->direction = b & 1;
		ev->proto = b >> 1 & 1;
		ev->fd = 3 + (b >> 2) % 2;
		ev->gen = 1;
		ev->enter_ns = ev->hdr.ts_ns - (b & 0x10 ? 300 * US : 0);
		if (b & 0x20)
			db_reply(&m, id, name, type, (c >> 5) % 4, addrs,
				 (c >> 5) % 3);
		else
			db_query(&m, id, name, type);
		n = m.n;
		if (ev->proto == HT_DNS_TCP) {
			ev->data[0] = (uint8_t)(n >> 8);
			ev->data[1] = (uint8_t)n;
			at = 2;
			if (b & 0x40) { /* the length alone */
				n = 0;
			}
		}
		memcpy(ev->data + at, m.b, n);
		ev->msg_len = (uint32_t)(at + n);
		ev->captured_len = ev->msg_len;
		if (b & 0x80) /* captured short */
			ev->captured_len = take(in) % (ev->msg_len + 1);
		correlator_push(st->c, ev, sizeof(*ev) + ev->captured_len);
		break;
	}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fuzz_state st;
	struct correlator_config cfg = {
		.max_conns = 4, .max_procs = 3, .max_pipeline = 2,
		.max_buffered = 16, .dns_per_proc = 2,
		.reorder_window_ns = 1000 * US,
	};
	struct input in = { data, size };
	const struct correlator_stats *s;
	uint8_t mode = take(&in);

	memset(&st, 0, sizeof(st));
	st.clock = 1000000 * US;
	/* the defaults now and then; small bounds mostly, to hit them */
	st.c = correlator_new(mode % 16 ? &cfg : NULL, sink, &st);
	if (!st.c)
		return 0;
	while (in.n)
		step(&st, &in);
	correlator_flush(st.c);
	s = correlator_stats(st.c);
	if (s->incomplete > s->requests ||
	    s->requests + s->tls_not_decoded != st.emitted ||
	    s->conns != 0 || s->buffered != 0)
		abort();
	if (s->procs != 0)
		abort();
	correlator_free(st.c);
	return 0;
}
