// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The correlator: ring-buffer records in, one timeline per HTTP request
 * out. See correlator.h for the interface and DESIGN.md ("Correlation")
 * for the model.
 *
 * State, all bounded:
 *   conn   one per {tgid, fd}; the current generation only. Two HTTP/1.x
 *          parsers (the request side and the response side) and the FIFO
 *          of requests that wait for their response.
 *   proc   one per tgid that has connections or recent DNS results; the
 *          DNS results wait there for the connect that uses them.
 *   graves recently closed connections and exited processes, so a record
 *          that arrives after its connection was dropped is not taken for
 *          the start of a new one.
 *
 * Roles. A client writes requests and reads responses; a server (accepted
 * socket) reads requests and writes responses. The code speaks of the
 * request side and the response side, and the ClientTrace hooks map onto
 * a server like this: GetConn = first byte of the request read (the
 * record's return time), GotConn = accept for the first request,
 * WroteHeaders/WroteRequest = request headers / whole request READ,
 * GotFirstResponseByte = entry of the first write of the response, end =
 * the write that completed the response. The phase formulas are the same.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "pipeline/correlator.h"
#include "proto/http1/http1_parser.h"
#include "httptrace_first_bytes.h"
#include "pipeline/reorder.h"
#include "timeline/timeline.h"
#include "proto/tls/tls_hello.h"

#define DEFAULT_WINDOW_NS (5ull * 1000 * 1000)
#define DEFAULT_MAX_BUFFERED 65536u
#define DEFAULT_MAX_BUFFERED_BYTES (64ull << 20)
#define DEFAULT_MAX_CONNS 8192u
#define DEFAULT_MAX_PROCS 8192u
#define DEFAULT_MAX_PIPELINE 16u
#define DEFAULT_DNS_PER_PROC 16u
#define DEFAULT_DNS_TTL_NS (60ull * 1000 * 1000 * 1000)
#define DNS_SWEEP_EVERY_NS (1000ull * 1000 * 1000)
/* glibc gives freed heap memory back to the system only from the top of
 * the heap: 4,000 connections opened and closed left their 80 MB
 * resident. Once this much was freed, a tick trims (at most once per
 * TRIM_EVERY_NS). */
#define TRIM_AFTER_BYTES (4ull << 20)
#define TRIM_EVERY_NS (1000ull * 1000 * 1000)

#define MAX_INFORMATIONAL 8  /* 1xx responses remembered per request */
#define GRAVE_SLOTS 1024     /* 2-way sets by {tgid, fd}; see buried() */
#define DEAD_PROC_SLOTS 128  /* 2-way sets by tgid */
#define SPARE_CONNS 32       /* freed conns kept for reuse */
#define SPARE_REQS 1024

enum side { SIDE_REQ = 0, SIDE_RESP = 1 };

enum conn_proto {
	PROTO_HTTP1 = 0,  /* HTTP/1.x, or nothing seen yet */
	PROTO_NOT_HTTP,
	PROTO_H2,         /* one timeline for the connection, at its end */
	PROTO_TUNNEL,     /* after CONNECT or 101: not ours any more */
};

struct dns_result {
	uint64_t enter_ns, done_ns;
	uint32_t n_addrs;
	uint32_t tid;  /* the thread that called getaddrinfo */
	bool valid, used;
	/* its connect failed: free again for the client's next attempt
	 * (the answer's next address), after any unused lookup */
	bool retry;
	char host[HT_DNS_HOST_LEN];
	char service[HT_DNS_SERVICE_LEN];
	struct ht_addr addrs[HT_DNS_MAX_ADDRS];
};

struct dns_ring {
	uint32_t next; /* slot written next */
	struct dns_result slot[];
};

struct proc {
	uint32_t tgid;
	bool pinned;   /* being torn down by the caller: do not free */
	struct proc *hnext;
	struct proc *lru_prev, *lru_next;
	struct conn *conns;
	uint32_t n_conns;
	struct dns_ring *dns;
};

struct informational {
	uint64_t ts_ns;
	int status;
};

struct pending_req {
	struct pending_req *prev, *next;
	uint64_t start_ns;          /* GetConn */
	uint64_t got_conn_ns;
	uint64_t io_first_ns;       /* first request byte moved: send phase */
	uint64_t wrote_headers_ns, wait100_ns, wrote_request_ns;
	uint64_t first_byte_ns;     /* GotFirstResponseByte (1xx included) */
	uint64_t final_first_byte_ns; /* first byte of the final response */
	uint64_t resp_last_ns;      /* last record carrying response bytes */
	uint64_t request_bytes, response_bytes;
	int64_t idle_us;
	uint32_t tid;
	int status;
	int version_minor;          /* -1: request line not seen */
	uint64_t req_last_ns;       /* last record carrying request bytes */
	bool first_on_conn, reused, headers_seen, resp_started, resp_lost;
	bool req_lost;              /* request framing lost (capture cap) */
	bool close_requested;       /* Connection: close, either side */
	bool is_head, is_connect, h2, incomplete;
	bool target_truncated;
	/* opened while its connection's responses could not be told apart
	 * (see conn.unsure): nothing of its response is shown */
	bool resp_unsure;
	const char *incomplete_reason;
	uint32_t n_info;
	struct informational info[MAX_INFORMATIONAL];
	char comm[HT_COMM_LEN];
	char method[H1_METHOD_MAX];
	char target[H1_TARGET_MAX];
	char host[H1_HOST_MAX];
};

enum tls_hs_state {
	HS_NONE = 0,
	HS_STARTED,   /* a handshake call returned without finishing */
	HS_OK,
	HS_FAILED,    /* reported */
};

/* A connection that carries TLS: its socket bytes go to the record
 * readers (one per direction), never to the HTTP parsers; the plaintext
 * comes in HT_EV_TLS_DATA records. */
struct conn_tls {
	uint8_t lib;                 /* enum ht_tls_lib */
	enum tls_hs_state hs;
	uint64_t hs_start_ns, hs_done_ns;
	int64_t hs_ret;              /* the last handshake call's return */
	bool verify_seen;
	int64_t verify;              /* SSL_get_verify_result */
	bool hs_derived;             /* start/done from the wire, no
				      * handshake call seen (Node) */
	bool hs_done_unknown;        /* over, but when is not known: no
				      * TLSHandshakeDone, no phase */
	uint64_t wire_first_ns[2];   /* first socket record per direction */
	uint64_t raw_last_enter_ns;  /* last socket record that moved bytes */
	uint64_t raw_last_ns;
	bool lib_seen;               /* a TLS library record came */
	bool plaintext_seen;         /* a TLS call moved application data */
	bool undecoded_reported;
	struct tls_stream stream[2]; /* [enum ht_direction] */
};

struct conn {
	struct ht_conn_id id;
	struct conn *hnext;
	struct conn *lru_prev, *lru_next;
	struct conn *proc_prev, *proc_next;
	struct proc *proc;
	uint32_t next_seq;
	enum ht_role role;
	enum conn_proto proto;
	bool role_known;
	bool saw_http;        /* a start line parsed on either side */
	bool saw_req_bytes;   /* the HTTP/2 preface can only come first */
	bool saw_resp_bytes;  /* ...and a server's SETTINGS before a request */
	bool taint;           /* records lost since the last resync */
	/* records were lost: the next response may answer a request whose
	 * bytes were lost, so responses are not matched to requests until a
	 * request starts with nothing outstanding (see open_request) */
	bool unsure;
	bool pipelined;       /* a request was sent before the previous
			       * response ended */
	bool start_lost;      /* its first records (connect, accept) lost */
	/* bytes that were not HTTP went out on the request side after HTTP:
	 * the next response with no request waiting answers them */
	bool garbage_unanswered;
	bool connect_done_seen;
	bool connect_seen_by_app;  /* ConnectDone is when the process learned */
	bool has_dns;
	/* lookups of different names fit the connect equally (two names
	 * of one server): which one is told by the name the connection is
	 * for, once seen (SNI, Host) */
	bool dns_deferred;
	bool saw_bytes;       /* any byte moved on the socket */
	struct conn_tls *tls; /* NULL: not TLS (so far) */
	struct ht_addr saddr, daddr;
	/* the peer as each connect record saw it: a connect variant that
	 * reads the socket wrong must show, not be refined away */
	struct ht_addr connect_start_peer, connect_done_peer;
	uint32_t owner_tid;        /* the thread that called connect() */
	char comm[HT_COMM_LEN];
	uint64_t connect_start_ns, connect_done_ns;
	int32_t connect_err;
	uint64_t n_requests;        /* requests opened on this connection */
	uint64_t last_resp_end_ns;  /* for GotConn's idle time */
	uint32_t skip_responses;    /* responses of requests given up on */
	uint32_t n_pending;
	struct pending_req *head, *tail; /* waiting for a response, FIFO */
	struct pending_req *writing;     /* the request whose bytes flow now */
	struct dns_result dns;
	uint32_t dns_slot;               /* where dns came from in the ring */
	struct h1_parser parser[2];      /* [SIDE_REQ], [SIDE_RESP] */
};

struct grave {
	uint32_t tgid;
	int32_t fd;
	uint64_t gen;
	bool used;
};

struct dead_proc {
	uint32_t tgid;
	uint64_t exit_ns;
	bool used;
};

struct correlator {
	struct correlator_config cfg;
	timeline_sink_fn sink;
	void *user;
	struct correlator_stats stats;

	struct reorder rb;
	uint64_t newest_ts, released_ts;
	bool released_any;

	struct conn **conn_buckets;
	uint32_t conn_mask;
	struct conn *conn_mru, *conn_lru; /* LRU list ends */
	struct conn *spare_conns;
	uint32_t n_spare_conns;

	struct proc **proc_buckets;
	uint32_t proc_mask;
	struct proc *proc_mru, *proc_lru;

	struct pending_req *spare_reqs;
	uint32_t n_spare_reqs;

	uint64_t released_since_trim, last_trim_ns;

	struct grave graves[GRAVE_SLOTS];
	struct dead_proc dead[DEAD_PROC_SLOTS];
	uint64_t last_sweep_ns;

	struct timeline tl; /* built here, handed to the sink */
	/* a record processed without a reorder copy (allocation failed) */
	uint64_t scratch[(sizeof(struct ht_data_event) + HT_MAX_CAPTURE) / 8 + 1];
};

/* Parser callback context: the record being fed and how much of it has
 * been attributed to a message so far. */
struct feed_ctx {
	struct correlator *c;
	struct conn *conn;
	const struct ht_data_event *ev; /* NULL for EOF/close */
	uint64_t ts_ns;
	const uint8_t *data;
	size_t len, pos;
	bool eof;
};

/* ---- small helpers ------------------------------------------------------ */

/* What the correlator holds from malloc (stats.held_bytes): */
static void held(struct correlator *c, size_t n)
{
	c->stats.held_bytes += n;
}

static void released(struct correlator *c, size_t n)
{
	c->stats.held_bytes -= n;
	c->released_since_trim += n;
}

static size_t dns_ring_size(const struct correlator *c)
{
	return sizeof(struct dns_ring) +
	       c->cfg.dns_per_proc * sizeof(((struct dns_ring *)0)->slot[0]);
}

static void copy_bounded(char *dst, size_t dst_size, const char *src,
			 size_t src_max)
{
	size_t n = strnlen(src, src_max);

	if (n >= dst_size)
		n = dst_size - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/*
 * A comm, HT_COMM_LEN bytes on both sides: whole, then terminated. It
 * reads as copy_bounded() would make it, up to the NUL that ends it (the
 * bytes after it mean nothing); a strnlen() and a memcpy() call for the
 * comm of every record were 2% of the instructions in the replay bench.
 */
static void copy_comm(char dst[HT_COMM_LEN], const char src[HT_COMM_LEN])
{
	memcpy(dst, src, HT_COMM_LEN);
	dst[HT_COMM_LEN - 1] = '\0';
}

static uint64_t max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* Microseconds from a to b; an inverted pair (clock noise between CPUs)
 * counts as zero rather than a negative duration. */
static int64_t span_us(uint64_t a, uint64_t b)
{
	return b > a ? (int64_t)((b - a) / 1000) : 0;
}

static bool has_payload(const uint8_t *data, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (data[i] != '\r' && data[i] != '\n')
			return true;
	return false;
}

/* Same test as the parser uses to leave H1_ST_LOST, so that we know in
 * advance which feed() will resume parsing. */
static bool starts_message(enum h1_kind kind, const uint8_t *data, size_t len)
{
	size_t k;

	if (kind == H1_RESPONSE)
		return len >= 7 && memcmp(data, "HTTP/1.", 7) == 0;
	for (k = 0; k < len && k < H1_METHOD_MAX - 1; k++) {
		uint8_t ch = data[k];

		if (!((ch >= 'A' && ch <= 'Z') || ch == '-' || ch == '_'))
			break;
	}
	return k >= 3 && k < len && data[k] == ' ';
}

static const char h2_preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
#define H2_PREFACE_LEN 24
#define H2_PREFACE_MIN 14 /* "PRI * HTTP/2.0" alone is unmistakable */

static bool is_h2_preface(const uint8_t *data, size_t len)
{
	if (len < H2_PREFACE_MIN)
		return false;
	return memcmp(data, h2_preface,
		      len < H2_PREFACE_LEN ? len : H2_PREFACE_LEN) == 0;
}

/* errno words in Go's style: "connection reset by peer". */
static const char *err_words(enum tl_hook hook, int32_t err, char *buf,
			     size_t size)
{
	tl_err_words(hook, err, buf, size);
	if (buf[0] >= 'A' && buf[0] <= 'Z' &&
	    !(buf[1] >= 'A' && buf[1] <= 'Z'))
		buf[0] = (char)(buf[0] - 'A' + 'a');
	return buf;
}

static bool addr_is_set(const struct ht_addr *a)
{
	static const uint8_t zero[16];

	return a->family != 0 && memcmp(a->addr, zero, sizeof(zero)) != 0;
}

/* The address as 16 bytes, IPv4 as IPv4-mapped IPv6, so that ::ffff:a.b.c.d
 * and a.b.c.d compare equal. False when the family is unknown. */
static bool addr_canon(const struct ht_addr *a, uint8_t out[16])
{
	if (a->family == AF_INET) {
		memset(out, 0, 10);
		out[10] = out[11] = 0xff;
		memcpy(out + 12, a->addr, 4);
		return true;
	}
	if (a->family == AF_INET6) {
		memcpy(out, a->addr, 16);
		return true;
	}
	return false;
}

static bool addr_same_host(const struct ht_addr *a, const struct ht_addr *b)
{
	uint8_t x[16], y[16];

	return addr_canon(a, x) && addr_canon(b, y) && memcmp(x, y, 16) == 0;
}

/* Records carry what they know; zeros mean "not known here". */
static void addr_refine(struct ht_addr *dst, const struct ht_addr *src)
{
	if (addr_is_set(src)) {
		dst->family = src->family;
		memcpy(dst->addr, src->addr, sizeof(dst->addr));
	}
	if (src->family != 0 && src->port != 0)
		dst->port = src->port;
}

/* The peer a connect record reported, or the best known if it had none. */
static const struct ht_addr *connect_peer(const struct conn *conn,
					  const struct ht_addr *seen)
{
	return addr_is_set(seen) ? seen : &conn->daddr;
}

/* Records from softirq context carry no comm or thread: keep the last
 * that named one. */
static void note_owner(struct conn *conn, const struct ht_event_header *hdr)
{
	if (hdr->comm[0])
		copy_comm(conn->comm, hdr->comm);
}

/* ---- emitting ----------------------------------------------------------- */

#define MEMBER_SIZE(type, member) sizeof(((type *)0)->member)

/* Clears the TLS fields: the flag and the first byte of each string,
 * which is all "" needs. */
static void tl_tls_reset(struct tl_tls *t)
{
	_Static_assert(sizeof(struct tl_tls) ==
			       3 * sizeof(bool) +
				       MEMBER_SIZE(struct tl_tls, lib) +
				       MEMBER_SIZE(struct tl_tls, version) +
				       MEMBER_SIZE(struct tl_tls, cipher) +
				       MEMBER_SIZE(struct tl_tls, sni) +
				       MEMBER_SIZE(struct tl_tls, alpn) +
				       MEMBER_SIZE(struct tl_tls, alpn_offered) +
				       MEMBER_SIZE(struct tl_tls, error),
		       "the flags and the strings are all of struct tl_tls");
	t->seen = t->alpn_inferred = t->not_decoded = false;
	t->lib[0] = t->version[0] = t->cipher[0] = '\0';
	t->sni[0] = t->alpn[0] = t->alpn_offered[0] = t->error[0] = '\0';
}

/*
 * Clears all but the event slots, which tl_add() clears one by one, and
 * the strings beyond their first byte: slots and strings are most of the
 * struct, most timelines use a few slots, and "" needs one NUL (clearing
 * the strings whole was 1% of the instructions in the replay bench).
 */
static void tl_reset(struct timeline *tl)
{
	int i;

	_Static_assert(offsetof(struct timeline, target) ==
			       offsetof(struct timeline, method) +
				       H1_METHOD_MAX &&
		       offsetof(struct timeline, host) ==
			       offsetof(struct timeline, target) +
				       H1_TARGET_MAX &&
		       offsetof(struct timeline, version) ==
			       offsetof(struct timeline, host) + H1_HOST_MAX,
		       "method, target and host follow each other");
	_Static_assert(offsetof(struct timeline, phase_us) -
				       offsetof(struct timeline, tls) <
			       sizeof(struct tl_tls) + _Alignof(int64_t) &&
		       offsetof(struct timeline, events) ==
			       offsetof(struct timeline, phase_us) +
				       MEMBER_SIZE(struct timeline, phase_us),
		       "tls, then phase_us, then the event slots");
	memset(tl, 0, offsetof(struct timeline, method));
	tl->method[0] = tl->target[0] = tl->host[0] = '\0';
	memset(tl->version, 0,
	       offsetof(struct timeline, tls) -
		       offsetof(struct timeline, version));
	tl_tls_reset(&tl->tls);
	for (i = 0; i < TL_PHASE_COUNT; i++)
		tl->phase_us[i] = -1;
	tl->n_events = 0;
	tl->n_steps = 0;
	tl->error[0] = '\0';
	tl->error_kind = TL_ERR_NONE;
	tl->complete = false;
	tl->idle_us = -1;
}

static struct tl_event *tl_add(struct timeline *tl, enum tl_hook hook,
			       uint64_t ts_ns)
{
	struct tl_event *e;

	if (tl->n_events >= TL_MAX_EVENTS)
		return NULL;
	e = &tl->events[tl->n_events++];
	/* Not the address slots, the host and the service, most of the
	 * event and seldom used: n_addrs = 0 and "" say that they hold
	 * nothing. */
	_Static_assert(offsetof(struct tl_event, n_addrs) <
			       offsetof(struct tl_event, addrs) &&
		       offsetof(struct tl_event, host) ==
			       offsetof(struct tl_event, addrs) +
				       sizeof(e->addrs) &&
		       offsetof(struct tl_event, service) ==
			       offsetof(struct tl_event, host) +
				       sizeof(e->host) &&
		       sizeof(struct tl_event) -
				       offsetof(struct tl_event, service) <
			       sizeof(e->service) + _Alignof(struct tl_event),
		       "addrs, then host, then service come last, after "
		       "n_addrs");
	memset(e, 0, offsetof(struct tl_event, addrs));
	e->host[0] = '\0';
	e->service[0] = '\0';
	e->hook = hook;
	e->ts_ns = ts_ns;
	return e;
}

static void tl_add_addr(struct timeline *tl, enum tl_hook hook,
			uint64_t ts_ns, const struct ht_addr *addr, int32_t err)
{
	struct tl_event *e = tl_add(tl, hook, ts_ns);

	if (!e)
		return;
	e->err = err;
	if (addr->family) {
		e->addrs[0] = *addr;
		e->n_addrs = 1;
	}
}

static void tl_add_dns(struct timeline *tl, const struct dns_result *dns,
		       int32_t err)
{
	struct tl_event *e;

	e = tl_add(tl, TL_DNSStart, dns->enter_ns);
	if (e) {
		copy_bounded(e->host, sizeof(e->host), dns->host,
			     sizeof(dns->host));
		copy_bounded(e->service, sizeof(e->service), dns->service,
			     sizeof(dns->service));
	}
	e = tl_add(tl, TL_DNSDone, dns->done_ns);
	if (e) {
		e->err = err;
		e->n_addrs = dns->n_addrs;
		memcpy(e->addrs, dns->addrs, sizeof(e->addrs));
	}
}

/*
 * The lookup and the connect a connection began with, as hooks and
 * phase spans: the shared start of a request's timeline and of those
 * built when a connection ends without one (a failed handshake, TLS
 * not decoded).
 */
static void tl_add_conn_start(struct timeline *tl, const struct conn *conn,
			      struct tl_spans *spans, bool dns, bool connect)
{
	if (dns && conn->has_dns) {
		tl_add_dns(tl, &conn->dns, 0);
		tl_span_add(spans, TL_PHASE_DNS, conn->dns.enter_ns,
			    conn->dns.done_ns);
	}
	if (!connect)
		return;
	if (conn->connect_start_ns)
		tl_add_addr(tl, TL_ConnectStart, conn->connect_start_ns,
			    connect_peer(conn, &conn->connect_start_peer), 0);
	if (conn->connect_done_seen)
		tl_add_addr(tl, TL_ConnectDone, conn->connect_done_ns,
			    connect_peer(conn, &conn->connect_done_peer),
			    conn->connect_err);
	if (conn->connect_start_ns && conn->connect_done_seen)
		tl_span_add(spans, TL_PHASE_CONNECT, conn->connect_start_ns,
			    conn->connect_done_ns);
}

/* Events are added in hook order; a stable sort by time keeps that order
 * for events of the same record. */
static void tl_sort(struct timeline *tl)
{
	uint32_t i, j;

	for (i = 1; i < tl->n_events; i++) {
		struct tl_event e;

		if (tl->events[i - 1].ts_ns <= tl->events[i].ts_ns)
			continue; /* the usual case: already in place */
		e = tl->events[i];

		for (j = i; j > 0 && tl->events[j - 1].ts_ns > e.ts_ns; j--)
			tl->events[j] = tl->events[j - 1];
		tl->events[j] = e;
	}
}

static void tl_conn_fields(struct timeline *tl, const struct conn *conn)
{
	tl->pid = conn->id.tgid;
	tl->role = conn->role;
	tl->conn_id = conn->id;
	tl->saddr = conn->saddr;
	tl->daddr = conn->daddr;
}

static void emit(struct correlator *c)
{
	if (c->tl.tls.not_decoded) {
		c->stats.tls_not_decoded++;
	} else {
		c->stats.requests++;
		if (!c->tl.complete)
			c->stats.incomplete++;
	}
	if (c->sink)
		c->sink(c->user, &c->tl);
}

/*
 * The tls phase runs from the moment the process has its TCP connection
 * (ConnectDone) to TLSHandshakeDone, as curl's time_appconnect -
 * time_connect and httpstat count it: the library's setup before its
 * first handshake call (loading CA certificates, say) is TLS work too.
 * Without a ConnectDone (accepted connections) it starts at
 * TLSHandshakeStart.
 */
static uint64_t tls_phase_start(const struct conn *conn)
{
	if (conn->role == HT_ROLE_CLIENT && conn->connect_done_seen &&
	    !conn->connect_err && conn->connect_done_ns <= conn->tls->hs_start_ns)
		return conn->connect_done_ns;
	return conn->tls->hs_start_ns;
}

static const char *tls_lib_name(uint8_t lib)
{
	switch (lib) {
	case HT_TLS_OPENSSL: return "openssl";
	case HT_TLS_GNUTLS: return "gnutls";
	}
	return "";
}

/* ALPN offered by the client includes `proto` (comma separated list). */
static bool alpn_offered(const char *list, const char *proto)
{
	size_t n = strlen(proto);

	while (*list) {
		const char *comma = strchr(list, ',');
		size_t len = comma ? (size_t)(comma - list) : strlen(list);

		if (len == n && !memcmp(list, proto, n))
			return true;
		if (!comma)
			break;
		list = comma + 1;
	}
	return false;
}

/* The tls object: what the hellos on the wire said. r may be NULL. */
static void tl_tls_fields(struct timeline *tl, const struct conn *conn,
			  const struct pending_req *r)
{
	const struct tls_hello *ch = NULL, *sh = NULL;
	struct tl_tls *t = &tl->tls;
	char buf[16];
	int d;

	if (!conn->tls)
		return;
	t->seen = true;
	snprintf(t->lib, sizeof(t->lib), "%s", tls_lib_name(conn->tls->lib));
	for (d = 0; d < 2; d++) {
		const struct tls_hello *h = &conn->tls->stream[d].hello;

		if (h->client_hello && !ch)
			ch = h;
		if (h->server_hello && !sh)
			sh = h;
	}
	if (ch) {
		snprintf(t->sni, sizeof(t->sni), "%s", ch->sni);
		snprintf(t->alpn_offered, sizeof(t->alpn_offered), "%s",
			 ch->alpn);
	}
	if (sh) {
		snprintf(t->version, sizeof(t->version), "%s",
			 tls_version_name(sh->version, buf, sizeof(buf)));
		snprintf(t->cipher, sizeof(t->cipher), "%s",
			 tls_cipher_name(sh->cipher, buf, sizeof(buf)));
		snprintf(t->alpn, sizeof(t->alpn), "%s", sh->alpn);
	}
	/* TLS 1.3 encrypts the server's ALPN choice. HTTP/2 over TLS is
	 * only spoken once ALPN agreed on h2, so the plaintext says it (an
	 * inference, and shown as one); HTTP/1.1 is what a client speaks
	 * when the server chose nothing, too (curl: "server did not agree
	 * on a protocol"), so it says nothing about the choice. */
	if (!t->alpn[0] && ch && r && r->h2 && alpn_offered(ch->alpn, "h2")) {
		snprintf(t->alpn, sizeof(t->alpn), "h2");
		t->alpn_inferred = true;
	}
}

static void build_request(struct correlator *c, const struct conn *conn,
			  const struct pending_req *r, uint64_t end_ns,
			  const char *error, bool put_idle)
{
	struct timeline *tl = &c->tl;
	bool client = conn->role == HT_ROLE_CLIENT;
	bool first = r->first_on_conn;
	struct tl_spans spans = { .n = 0 };
	bool resp = !r->resp_unsure;
	struct tl_event *e;
	uint32_t i;

	tl_reset(tl);
	tl_conn_fields(tl, conn);
	if (!resp) {
		/* the response seen may be another request's: the timeline
		 * ends with the request */
		end_ns = max_u64(r->wrote_request_ns, r->req_last_ns);
		put_idle = false;
	}
	end_ns = max_u64(end_ns, r->start_ns);
	tl->start_ns = r->start_ns;
	tl->end_ns = end_ns;
	tl->tid = r->tid;
	memcpy(tl->comm, r->comm, sizeof(tl->comm));
	tl->reused = r->reused;
	tl->idle_us = r->idle_us;
	_Static_assert(sizeof(tl->method) == sizeof(r->method) &&
			       sizeof(tl->target) == sizeof(r->target) &&
			       sizeof(tl->host) == sizeof(r->host),
		       "the request's strings are copied whole");
	memcpy(tl->method, r->method, sizeof(tl->method));
	memcpy(tl->target, r->target, sizeof(tl->target));
	tl->target_truncated = r->target_truncated;
	memcpy(tl->host, r->host, sizeof(tl->host));
	if (r->h2)
		strcpy(tl->version, "HTTP/2");
	else if (r->version_minor == 0)
		strcpy(tl->version, "HTTP/1.0");
	else if (r->version_minor == 1)
		strcpy(tl->version, "HTTP/1.1");
	tl->status = resp ? r->status : 0;
	tl->request_bytes = r->request_bytes;
	tl->response_bytes = resp ? r->response_bytes : 0;

	tl_tls_fields(tl, conn, r);
	e = tl_add(tl, TL_GetConn, r->start_ns);
	if (e && r->host[0])
		copy_bounded(e->host, sizeof(e->host), r->host,
			     sizeof(r->host));
	else if (e && first && conn->has_dns)
		copy_bounded(e->host, sizeof(e->host), conn->dns.host,
			     sizeof(conn->dns.host));
	if (first)
		tl_add_conn_start(tl, conn, &spans, true, client);
	if (first && client && conn->tls && conn->tls->hs_start_ns) {
		tl_add(tl, TL_TLSHandshakeStart, conn->tls->hs_start_ns);
		if (conn->tls->hs == HS_OK && !conn->tls->hs_done_unknown) {
			tl_add(tl, TL_TLSHandshakeDone, conn->tls->hs_done_ns);
			tl_span_add(&spans, TL_PHASE_TLS, tls_phase_start(conn),
				    conn->tls->hs_done_ns);
		}
	}
	tl_add(tl, TL_GotConn, r->got_conn_ns);
	if (r->wrote_headers_ns)
		tl_add(tl, TL_WroteHeaders, r->wrote_headers_ns);
	if (r->wait100_ns)
		tl_add(tl, TL_Wait100Continue, r->wait100_ns);
	if (r->wrote_request_ns)
		tl_add(tl, TL_WroteRequest, r->wrote_request_ns);
	if (r->first_byte_ns && resp)
		tl_add(tl, TL_GotFirstResponseByte, r->first_byte_ns);
	for (i = 0; i < r->n_info && resp; i++) {
		/* Go calls Got100Continue, then Got1xxResponse for it too. */
		if (r->info[i].status == 100)
			tl_add(tl, TL_Got100Continue, r->info[i].ts_ns);
		e = tl_add(tl, TL_Got1xxResponse, r->info[i].ts_ns);
		if (e)
			e->status = r->info[i].status;
	}
	if (put_idle)
		tl_add(tl, TL_PutIdleConn, end_ns);
	tl_sort(tl);

	if (r->wrote_request_ns)
		tl_span_add(&spans, TL_PHASE_SEND, r->io_first_ns,
			    r->wrote_request_ns);
	else if (r->io_first_ns && r->req_last_ns)
		/* the request was cut short: sent as far as it got */
		tl_span_add(&spans, TL_PHASE_SEND, r->io_first_ns,
			    r->req_last_ns);
	/* With 100-continue the interim response may come before the body
	 * is written: the overlap counts as send (tl_set_phases()). Without
	 * a response the process waited until the failure. A response
	 * that may be another request's is not shown at all. */
	if (r->wrote_request_ns && r->final_first_byte_ns && resp)
		tl_span_add(&spans, TL_PHASE_WAIT, r->wrote_request_ns,
			    r->final_first_byte_ns);
	else if (r->wrote_request_ns && end_ns > r->wrote_request_ns && resp)
		tl_span_add(&spans, TL_PHASE_WAIT, r->wrote_request_ns, end_ns);
	if (r->final_first_byte_ns && resp)
		tl_span_add(&spans, TL_PHASE_RECEIVE, r->final_first_byte_ns,
			    end_ns);
	tl_set_phases(tl, &spans);

	if (error)
		snprintf(tl->error, sizeof(tl->error), "%s", error);
	else if (r->incomplete && r->incomplete_reason)
		snprintf(tl->error, sizeof(tl->error), "%s",
			 r->incomplete_reason);
	tl->complete = !r->incomplete;
	/* the connect or accept that carried the addresses was lost */
	if (conn->start_lost &&
	    (!addr_is_set(&tl->saddr) || !addr_is_set(&tl->daddr))) {
		tl->complete = false;
		if (!tl->error[0])
			snprintf(tl->error, sizeof(tl->error),
				 "records lost: connection addresses unknown");
	}
	tl->error_kind = tl_error_kind_of_words(tl->error, sizeof(tl->error));
}

/* ---- requests ----------------------------------------------------------- */

static struct pending_req *req_alloc(struct correlator *c)
{
	struct pending_req *r = c->spare_reqs;

	if (r) {
		c->spare_reqs = r->next;
		c->n_spare_reqs--;
	} else {
		r = malloc(sizeof(*r));
		if (!r)
			return NULL;
		held(c, sizeof(*r));
	}
	memset(r, 0, offsetof(struct pending_req, method));
	r->method[0] = r->target[0] = r->host[0] = '\0';
	r->version_minor = -1;
	r->idle_us = -1;
	return r;
}

static void req_free(struct correlator *c, struct pending_req *r)
{
	if (c->n_spare_reqs >= SPARE_REQS) {
		free(r);
		released(c, sizeof(*r));
		return;
	}
	r->next = c->spare_reqs;
	c->spare_reqs = r;
	c->n_spare_reqs++;
}

static void req_unlink(struct conn *conn, struct pending_req *r)
{
	if (r->prev)
		r->prev->next = r->next;
	else
		conn->head = r->next;
	if (r->next)
		r->next->prev = r->prev;
	else
		conn->tail = r->prev;
	conn->n_pending--;
	if (conn->writing == r)
		conn->writing = NULL;
}

/* the newest of the connection's pending requests */
static void req_append(struct conn *conn, struct pending_req *r)
{
	r->next = NULL;
	r->prev = conn->tail;
	if (conn->tail)
		conn->tail->next = r;
	else
		conn->head = r;
	conn->tail = r;
	conn->n_pending++;
}

static void mark_incomplete(struct pending_req *r, const char *reason)
{
	if (!r->incomplete) {
		r->incomplete = true;
		r->incomplete_reason = reason;
	}
}

static uint64_t req_last_seen(const struct pending_req *r)
{
	uint64_t t = r->start_ns;

	t = max_u64(t, r->wrote_headers_ns);
	t = max_u64(t, r->wrote_request_ns);
	t = max_u64(t, r->first_byte_ns);
	return max_u64(t, r->resp_last_ns);
}

static void match_dns(struct correlator *c, struct conn *conn,
		      const char *name);

/* The name a client connection is for: the SNI it sent, else the first
 * request's Host without the port; "" when neither was seen. */
static void conn_name(const struct conn *conn, const struct pending_req *r,
		      char *out, size_t len)
{
	const char *colon;

	out[0] = '\0';
	if (conn->tls && conn->tls->stream[HT_DIR_EGRESS].hello.sni[0]) {
		copy_bounded(out, len, conn->tls->stream[HT_DIR_EGRESS].hello.sni,
			     sizeof(conn->tls->stream[0].hello.sni));
		return;
	}
	if (!r || r->host[0] == '[') /* an address, not a name */
		return;
	copy_bounded(out, len, r->host, sizeof(r->host));
	colon = strchr(out, ':');
	if (colon && !strchr(colon + 1, ':'))
		out[colon - out] = '\0';
}

/* A connect whose lookup was left open (dns_deferred) gets it by name
 * when its first timeline is made; r, when not NULL, is that first
 * request, which then begins with the lookup. */
static void bind_deferred_dns(struct correlator *c, struct conn *conn,
			      struct pending_req *r)
{
	char name[H1_HOST_MAX];

	if (!conn->dns_deferred)
		return;
	conn->dns_deferred = false;
	conn_name(conn, r, name, sizeof(name));
	if (!name[0])
		return;
	match_dns(c, conn, name);
	if (conn->has_dns && r && r->first_on_conn &&
	    conn->dns.enter_ns < r->start_ns)
		r->start_ns = conn->dns.enter_ns;
}

/* Requests are always finished oldest first: responses come in order. */
static void finish_head(struct correlator *c, struct conn *conn,
			uint64_t end_ns, const char *error, bool put_idle)
{
	struct pending_req *r = conn->head;

	if (!r)
		return;
	req_unlink(conn, r);
	if (r->first_on_conn)
		bind_deferred_dns(c, conn, r);
	build_request(c, conn, r, end_ns, error, put_idle);
	emit(c);
	req_free(c, r);
}

/* Every pending request ends here, incomplete. end_ns 0: at the last
 * thing seen of each. */
static void abandon_pending(struct correlator *c, struct conn *conn,
			    uint64_t end_ns, const char *error)
{
	while (conn->head) {
		mark_incomplete(conn->head, error);
		finish_head(c, conn,
			    end_ns ? end_ns : req_last_seen(conn->head), error,
			    false);
	}
	conn->skip_responses = 0;
}

/* Forgets requests that turned out not to be HTTP: no timeline. */
static void drop_pending(struct correlator *c, struct conn *conn)
{
	while (conn->head) {
		struct pending_req *r = conn->head;

		req_unlink(conn, r);
		req_free(c, r);
	}
}

static struct pending_req *resp_target(const struct conn *conn)
{
	return conn->skip_responses ? NULL : conn->head;
}

/* Framing of the head's response was lost (bytes beyond the capture where
 * chunk sizes were): it ended with the last record that carried response
 * bytes before the next request or a new response began. */
static void end_lost_response(struct correlator *c, struct conn *conn)
{
	struct pending_req *r = conn->head;

	if (conn->n_pending > 1)
		mark_incomplete(r, "response framing lost with requests pipelined");
	conn->last_resp_end_ns = r->resp_last_ns;
	finish_head(c, conn, r->resp_last_ns, NULL, !r->close_requested);
}

static struct pending_req *open_request(struct correlator *c,
					struct conn *conn,
					const struct ht_data_event *ev)
{
	struct pending_req *r;
	bool first = conn->n_requests == 0;
	bool after_gap = false;

	/* A keep-alive client sends the next request only after reading the
	 * previous response (pipelining aside). */
	if (conn->head && conn->head->resp_lost && conn->head->resp_started)
		end_lost_response(c, conn);
	if (conn->taint) {
		/* Records were lost while these were open; whatever ended
		 * them is among the lost, and this request starts afresh. */
		while (conn->head)
			finish_head(c, conn, req_last_seen(conn->head), NULL,
				    false);
		conn->skip_responses = 0;
		conn->taint = false;
		after_gap = true;
	}
	if (conn->n_pending >= c->cfg.max_pipeline) {
		c->stats.pipeline_overflow++;
		mark_incomplete(conn->head, "too many pipelined requests");
		finish_head(c, conn, req_last_seen(conn->head), NULL, false);
		/* its response, when it comes, must not go to the next one */
		conn->skip_responses++;
	}
	if (conn->head)
		conn->pipelined = true;
	r = req_alloc(c);
	if (!r)
		return NULL;
	r->first_on_conn = first;
	r->reused = !first;
	/* The first request after a gap before it may miss its connect. */
	if (after_gap && first)
		mark_incomplete(r, "records lost");
	if (conn->garbage_unanswered) {
		/* the response to the bytes that were not HTTP may come
		 * first */
		r->resp_unsure = true;
		mark_incomplete(r, "response not told from the one to bytes "
				   "that were not HTTP");
	} else if (conn->unsure) {
		/* The responses line up with the requests again once one
		 * starts with every response read and none outstanding. A
		 * client that pipelines may have sent, in the lost records,
		 * requests whose responses are still to come: its
		 * connection stays unsure. */
		if (!conn->head && !conn->pipelined &&
		    conn->parser[SIDE_RESP].state == H1_ST_START) {
			conn->unsure = false;
		} else {
			r->resp_unsure = true;
			mark_incomplete(r, "records lost");
		}
	}
	conn->n_requests++;
	if (conn->role == HT_ROLE_SERVER) {
		/* A server's request begins with its first byte read; the
		 * accept may lie long before (an idle client), and GotConn
		 * before GetConn would read backwards. */
		r->start_ns = ev->hdr.ts_ns;
		r->io_first_ns = ev->hdr.ts_ns;
		r->got_conn_ns = r->start_ns;
	} else {
		r->io_first_ns = ev->enter_ns;
		r->start_ns = ev->enter_ns;
		r->got_conn_ns = ev->enter_ns;
		if (first) {
			if (conn->has_dns)
				r->start_ns = conn->dns.enter_ns;
			else if (conn->connect_start_ns)
				r->start_ns = conn->connect_start_ns;
			if (conn->connect_done_seen)
				r->got_conn_ns = conn->connect_done_ns;
			if (conn->tls && conn->tls->hs == HS_OK &&
			    conn->tls->hs_done_ns <= ev->enter_ns)
				r->got_conn_ns = max_u64(r->got_conn_ns,
							 conn->tls->hs_done_ns);
			/* the handshake ended inside the call that carries
			 * these bytes (see tls_derive_handshake): the
			 * request goes out after it, so its send phase
			 * starts there too */
			if (conn->tls && conn->tls->hs == HS_OK &&
			    conn->tls->hs_done_ns > ev->enter_ns &&
			    conn->tls->hs_done_ns <= ev->hdr.ts_ns) {
				r->got_conn_ns = max_u64(r->got_conn_ns,
							 conn->tls->hs_done_ns);
				r->io_first_ns = conn->tls->hs_done_ns;
			}
		}
	}
	if (!first && conn->last_resp_end_ns &&
	    r->start_ns >= conn->last_resp_end_ns)
		r->idle_us = span_us(conn->last_resp_end_ns, r->start_ns);
	r->tid = ev->hdr.tid;
	copy_comm(r->comm, ev->hdr.comm);

	req_append(conn, r);
	conn->writing = r;
	return r;
}

/* ---- parser callbacks ----------------------------------------------------- */

static uint64_t resp_byte_ts(const struct conn *conn,
			     const struct ht_data_event *ev)
{
	/* a client reads: the byte is there when read() returns; a server
	 * writes: the byte leaves when write() is entered */
	return conn->role == HT_ROLE_SERVER ? ev->enter_ns : ev->hdr.ts_ns;
}

/*
 * A response starts and no request waits for it: the request went out
 * unseen (before tracing began, or in records that were lost or never
 * made). The response is still reported, as a request of its own marked
 * incomplete, and it counts as the connection's request, so the next
 * one is a reused connection's and gets no connection phases.
 */
static void open_unseen_request(struct correlator *c, struct conn *conn,
				const struct ht_data_event *ev)
{
	struct pending_req *r = req_alloc(c);

	c->stats.orphan_responses++;
	if (!r)
		return;
	r->reused = conn->n_requests > 0;
	conn->n_requests++;
	r->start_ns = resp_byte_ts(conn, ev);
	r->got_conn_ns = r->start_ns;
	if (r->reused && conn->last_resp_end_ns &&
	    r->start_ns >= conn->last_resp_end_ns)
		r->idle_us = span_us(conn->last_resp_end_ns, r->start_ns);
	r->tid = ev->hdr.tid;
	copy_comm(r->comm, ev->hdr.comm);
	mark_incomplete(r, conn->taint ? "request not seen (records lost)" :
					 "request not seen");
	req_append(conn, r);
}

/* This record carries bytes of the current response. */
static void response_bytes_seen(struct conn *conn,
				const struct ht_data_event *ev)
{
	struct pending_req *r = resp_target(conn);
	uint64_t ts = resp_byte_ts(conn, ev);

	if (!r)
		return;
	/* A client reads the response once it has written the request: the
	 * last request bytes before this are its end. */
	if (r->req_lost && !r->wrote_request_ns && r->req_last_ns) {
		r->wrote_request_ns = r->req_last_ns;
		if (conn->writing == r)
			conn->writing = NULL;
	}
	if (!r->first_byte_ns)
		r->first_byte_ns = ts;
	if (!r->final_first_byte_ns)
		r->final_first_byte_ns = ts;
	r->resp_started = true;
	r->resp_last_ns = ev->hdr.ts_ns;
}

static void add_bytes(struct conn *conn, int side, uint64_t n)
{
	struct pending_req *r;

	if (conn->proto != PROTO_HTTP1 || n == 0)
		return;
	if (side == SIDE_REQ) {
		if (conn->writing)
			conn->writing->request_bytes += n;
		return;
	}
	r = resp_target(conn);
	if (r && r->resp_started)
		r->response_bytes += n;
}

/* The part of this feed up to `offset` belongs to the message that just
 * ended. */
static size_t take_upto(struct feed_ctx *fc, size_t offset)
{
	size_t n;

	if (offset > fc->len)
		offset = fc->len;
	if (offset < fc->pos)
		offset = fc->pos;
	n = offset - fc->pos;
	fc->pos = offset;
	return n;
}

static bool more_after(const struct feed_ctx *fc, size_t offset)
{
	return offset < fc->len &&
	       has_payload(fc->data + offset, fc->len - offset);
}

static enum h1_body_hint req_on_headers(void *user,
					const struct h1_message *msg,
					size_t offset)
{
	struct feed_ctx *fc = user;
	struct pending_req *r = fc->conn->writing;

	fc->conn->saw_http = true;
	if (!r)
		return H1_BODY_DEFAULT;
	r->headers_seen = true;
	r->wrote_headers_ns = fc->ts_ns;
	if (msg->expect_continue)
		r->wait100_ns = fc->ts_ns;
	copy_bounded(r->method, sizeof(r->method), msg->method,
		     sizeof(msg->method));
	copy_bounded(r->target, sizeof(r->target), msg->target,
		     sizeof(msg->target));
	r->target_truncated = msg->target_truncated;
	copy_bounded(r->host, sizeof(r->host), msg->host, sizeof(msg->host));
	r->version_minor = msg->version_minor;
	r->is_head = strcmp(r->method, "HEAD") == 0;
	r->is_connect = strcmp(r->method, "CONNECT") == 0;
	if (msg->connection_close)
		r->close_requested = true;
	return H1_BODY_DEFAULT;
}

static void req_on_complete(void *user, const struct h1_message *msg,
			    size_t offset)
{
	struct feed_ctx *fc = user;
	struct conn *conn = fc->conn;
	struct pending_req *r = conn->writing;
	size_t n = take_upto(fc, offset);

	if (r) {
		r->request_bytes += n;
		r->wrote_request_ns = fc->ts_ns;
		conn->writing = NULL;
	}
	/* pipelining: the next request starts in the same write */
	if (fc->ev && more_after(fc, fc->pos))
		open_request(fc->c, conn, fc->ev);
}

static enum h1_body_hint resp_on_headers(void *user,
					 const struct h1_message *msg,
					 size_t offset)
{
	struct feed_ctx *fc = user;
	struct conn *conn = fc->conn;
	struct pending_req *r = resp_target(conn);

	conn->saw_http = true;
	if (msg->status < 200 && msg->status != 101) {
		/* interim: the final response follows */
		if (!r)
			return H1_BODY_NONE;
		if (r->n_info < MAX_INFORMATIONAL) {
			r->info[r->n_info].ts_ns = fc->ts_ns;
			r->info[r->n_info].status = msg->status;
			r->n_info++;
		}
		r->final_first_byte_ns = 0;
		if (fc->ev && more_after(fc, offset))
			r->final_first_byte_ns = resp_byte_ts(conn, fc->ev);
		return H1_BODY_NONE;
	}
	if (!r)
		return H1_BODY_DEFAULT;
	r->status = msg->status;
	if (msg->connection_close)
		r->close_requested = true;
	if (r->is_head)
		return H1_BODY_NONE;
	if (r->is_connect && msg->status >= 200 && msg->status < 300)
		return H1_BODY_TUNNEL;
	return H1_BODY_DEFAULT;
}

static void resp_on_complete(void *user, const struct h1_message *msg,
			     size_t offset)
{
	struct feed_ctx *fc = user;
	struct correlator *c = fc->c;
	struct conn *conn = fc->conn;
	struct pending_req *r = resp_target(conn);
	size_t n = take_upto(fc, offset);
	bool tunnel;

	if (msg->status < 200 && msg->status != 101)
		return;
	if (conn->skip_responses) {
		conn->skip_responses--;
	} else if (r) {
		tunnel = msg->status == 101 ||
			 (r->is_connect && msg->status >= 200 &&
			  msg->status < 300);
		r->response_bytes += n;
		conn->last_resp_end_ns = fc->ts_ns;
		finish_head(c, conn, fc->ts_ns, NULL,
			    !tunnel && !fc->eof && !r->close_requested);
	}
	if (msg->status == 101 || conn->parser[SIDE_RESP].state == H1_ST_TUNNEL)
		conn->proto = PROTO_TUNNEL;
	if (conn->proto == PROTO_HTTP1 && fc->ev && more_after(fc, fc->pos))
		response_bytes_seen(conn, fc->ev);
}

static const struct h1_callbacks side_callbacks[2] = {
	[SIDE_REQ] = { .on_headers = req_on_headers,
		       .on_complete = req_on_complete },
	[SIDE_RESP] = { .on_headers = resp_on_headers,
			.on_complete = resp_on_complete },
};

/* ---- data --------------------------------------------------------------- */

static enum h1_kind side_kind(int side)
{
	return side == SIDE_REQ ? H1_REQUEST : H1_RESPONSE;
}

static int side_of(const struct conn *conn, enum ht_direction dir)
{
	bool egress = dir == HT_DIR_EGRESS;
	bool client = conn->role == HT_ROLE_CLIENT;

	return egress == client ? SIDE_REQ : SIDE_RESP;
}

/* Both parsers wait for the next message start: after lost records, or
 * when the stream was joined in the middle. */
static void parsers_resync(struct conn *conn)
{
	int side;

	for (side = SIDE_REQ; side <= SIDE_RESP; side++) {
		h1_parser_init(&conn->parser[side], side_kind(side));
		conn->parser[side].state = H1_ST_LOST;
	}
}

static void set_role(struct conn *conn, enum ht_role role)
{
	int side;

	if (conn->role_known && conn->role == role)
		return;
	conn->role = role;
	conn->role_known = true;
	for (side = SIDE_REQ; side <= SIDE_RESP; side++)
		h1_parser_init(&conn->parser[side], side_kind(side));
	if (conn->taint)
		parsers_resync(conn);
}

static void mark_not_http(struct correlator *c, struct conn *conn)
{
	if (conn->proto != PROTO_NOT_HTTP)
		c->stats.non_http_conns++;
	conn->proto = PROTO_NOT_HTTP;
	drop_pending(c, conn);
}

/* Data on a connection whose connect/accept we did not see: the side that
 * starts like a request tells the role. */
static bool guess_role(struct correlator *c, struct conn *conn,
		       const struct ht_data_event *ev)
{
	const uint8_t *data = ev->data;
	size_t len = ev->captured_len;
	bool egress = ev->direction == HT_DIR_EGRESS;

	while (len && (*data == '\r' || *data == '\n')) {
		data++;
		len--;
	}
	if (len == 0)
		return false;
	if (starts_message(H1_REQUEST, data, len) || is_h2_preface(data, len))
		set_role(conn, egress ? HT_ROLE_CLIENT : HT_ROLE_SERVER);
	else if (starts_message(H1_RESPONSE, data, len) ||
		 ht_h2_settings_frame(data, len))
		set_role(conn, egress ? HT_ROLE_SERVER : HT_ROLE_CLIENT);
	else if (conn->taint)
		return false; /* joined mid-message: wait for a start */
	else
		mark_not_http(c, conn);
	return conn->role_known && conn->proto == PROTO_HTTP1;
}

/* The parser of `side` found bytes that are not HTTP/1.x. */
static void not_http(struct correlator *c, struct conn *conn, int side,
		     uint64_t ts)
{
	struct h1_parser *p = &conn->parser[side];

	if (!conn->saw_http) {
		/* first message: TLS, SSH, some binary protocol */
		mark_not_http(c, conn);
		return;
	}
	/* after HTTP traffic: out of step, or bytes of another protocol;
	 * counted, and parsing waits for a message start */
	c->stats.not_http_after_http++;
	if (side == SIDE_REQ) {
		struct pending_req *r = conn->writing;

		/* its start line did not parse: not a request */
		if (r && !r->headers_seen) {
			req_unlink(conn, r);
			req_free(c, r);
			conn->n_requests--;
		}
		conn->writing = NULL;
		conn->garbage_unanswered = true;
	} else if (conn->head && conn->head->resp_started &&
		   !conn->skip_responses) {
		finish_head(c, conn, ts, "malformed HTTP response", false);
	}
	h1_parser_init(p, side_kind(side));
	p->state = H1_ST_LOST;
}

/* The parser of `side` resumes at a message start after H1_ST_LOST. */
static void resumed(struct correlator *c, struct conn *conn, int side)
{
	if (side == SIDE_REQ) {
		conn->writing = NULL; /* the rest of that one is unknown */
		return;
	}
	if (conn->head && conn->head->resp_started && !conn->skip_responses)
		end_lost_response(c, conn);
}

/* Bytes that the parser will skip (lost framing): still count them. */
static void skipped_bytes(struct conn *conn, int side,
			  const struct ht_data_event *ev)
{
	struct pending_req *r;

	if (side == SIDE_REQ) {
		add_bytes(conn, side, (uint64_t)ev->ret);
		if (conn->writing)
			conn->writing->req_last_ns = ev->hdr.ts_ns;
		return;
	}
	r = resp_target(conn);
	if (r && r->resp_started) {
		r->response_bytes += (uint64_t)ev->ret;
		r->resp_last_ns = ev->hdr.ts_ns;
	}
}

static void feed(struct correlator *c, struct conn *conn, int side,
		 const struct ht_data_event *ev)
{
	struct h1_parser *p = &conn->parser[side];
	const struct h1_callbacks *cb = &side_callbacks[side];
	size_t cap = ev->captured_len;
	uint64_t gap = (uint64_t)ev->ret - cap;
	struct feed_ctx fc = {
		.c = c, .conn = conn, .ev = ev, .ts_ns = ev->hdr.ts_ns,
		.data = ev->data, .len = cap,
	};
	bool at_start = p->state == H1_ST_START;

	if (p->state == H1_ST_LOST) {
		if (!starts_message(p->kind, ev->data, cap)) {
			skipped_bytes(conn, side, ev);
			return;
		}
		resumed(c, conn, side);
		at_start = true;
	}
	p->last_error = H1_OK; /* tells this feed's errors from older ones */
	if (side == SIDE_REQ) {
		if (at_start && has_payload(ev->data, cap))
			open_request(c, conn, ev);
	} else if (cap == 0 || !at_start || has_payload(ev->data, cap)) {
		if (at_start && cap && !conn->head && !conn->skip_responses) {
			if (conn->garbage_unanswered) {
				/* not reported: counted with the bytes */
				conn->garbage_unanswered = false;
				conn->skip_responses++;
			} else {
				open_unseen_request(c, conn, ev);
			}
		}
		response_bytes_seen(conn, ev);
	}

	h1_parser_feed(p, ev->data, cap, cb, &fc);
	add_bytes(conn, side, cap - fc.pos);
	if (gap && conn->proto == PROTO_HTTP1 &&
	    p->state != H1_ST_NOT_HTTP) {
		/* counted before the parser may complete the message */
		add_bytes(conn, side, gap);
		fc.data = NULL;
		fc.len = fc.pos = 0;
		h1_parser_gap(p, gap, cb, &fc);
	}

	if (conn->proto != PROTO_HTTP1)
		return;
	if (side == SIDE_REQ && conn->writing)
		conn->writing->req_last_ns = ev->hdr.ts_ns;
	if (p->state == H1_ST_TUNNEL) {
		conn->proto = PROTO_TUNNEL;
	} else if (p->state == H1_ST_NOT_HTTP ||
		   (p->state == H1_ST_LOST && p->last_error == H1_ERR_NOT_HTTP)) {
		/* the parser says LOST rather than NOT_HTTP once the stream
		 * has carried HTTP */
		not_http(c, conn, side, ev->hdr.ts_ns);
	} else if (p->state == H1_ST_LOST && side == SIDE_REQ) {
		/* headers beyond the capture: where the request ends is
		 * unknown until the response starts */
		if (conn->writing && conn->writing->headers_seen)
			conn->writing->req_lost = true;
	} else if (p->state == H1_ST_LOST && side == SIDE_RESP) {
		struct pending_req *r = resp_target(conn);

		if (r && r->resp_started)
			r->resp_lost = true;
	}
}

/* Every request still open fails with `error`, which says what happened:
 * complete unless records were lost. */
static void fail_pending(struct correlator *c, struct conn *conn,
			 uint64_t end_ns, const char *error)
{
	while (conn->head)
		finish_head(c, conn, end_ns, error, false);
	conn->skip_responses = 0;
}

/* The response stream ended (EOF read, or close): a body delimited by
 * close completes, whatever else is open failed. */
static void response_stream_ended(struct correlator *c, struct conn *conn,
				  uint64_t ts, bool by_peer)
{
	struct h1_parser *p = &conn->parser[SIDE_RESP];
	struct feed_ctx fc = {
		.c = c, .conn = conn, .ts_ns = ts, .eof = true,
	};

	if (!conn->role_known || conn->proto != PROTO_HTTP1)
		return;
	if (p->state != H1_ST_LOST)
		h1_parser_eof(p, &side_callbacks[SIDE_RESP], &fc);
	while (conn->head) {
		struct pending_req *r = conn->head;

		if (r->resp_lost && r->resp_started && !conn->skip_responses) {
			end_lost_response(c, conn);
			continue;
		}
		/* who closed tells a server that hung up from a client that
		 * gave up (a timeout, or killed by a signal) */
		finish_head(c, conn, ts,
			    by_peer ? (r->resp_started ?
				       "connection closed by peer mid-response" :
				       "connection closed by peer before response") :
				      (r->resp_started ?
				       "connection closed by the process mid-response" :
				       "connection closed by the process before response"),
			    false);
	}
	conn->skip_responses = 0;
	if (conn->proto == PROTO_HTTP1)
		h1_parser_init(p, H1_RESPONSE);
}

static bool io_error_ignored(int64_t ret)
{
	/* would block / interrupted / kernel-internal restart codes */
	return ret == -EAGAIN || ret == -EWOULDBLOCK || ret == -EINTR ||
	       (ret <= -512 && ret >= -516);
}

static void handle_bytes(struct correlator *c, struct conn *conn,
			 const struct ht_data_event *ev);
static bool tls_h2_offered(const struct conn *conn);
static void h2_socket_record(struct correlator *c, struct conn *conn,
			     const struct ht_data_event *ev);
static uint64_t call_entry(uint64_t enter_ns, uint64_t ts_ns);
static struct conn_tls *tls_get(struct correlator *c, struct conn *conn);
static void tls_raw_bytes(struct conn *conn, const struct ht_data_event *ev);
static void tls_stream_over(struct correlator *c, struct conn *conn,
			    uint64_t ts, const char *how);

static void handle_data(struct correlator *c, struct conn *conn,
			const struct ht_data_event *ev)
{
	int side;

	note_owner(conn, &ev->hdr);
	if (ev->ret > 0 && !conn->saw_bytes) {
		conn->saw_bytes = true;
		if (conn->proto == PROTO_HTTP1 && !conn->taint &&
		    tls_looks_like_hello(ev->data, ev->captured_len))
			tls_get(c, conn);
	}
	if (conn->tls) {
		/* ciphertext: the handshake is read, the rest skipped */
		if (ev->ret > 0) {
			tls_raw_bytes(conn, ev);
			return;
		}
		if (ev->ret == 0 && ev->direction == HT_DIR_INGRESS)
			tls_stream_over(c, conn, ev->hdr.ts_ns,
					"connection closed by peer");
		else if (ev->ret < 0 && !io_error_ignored(ev->ret))
			tls_stream_over(c, conn, ev->hdr.ts_ns,
					ev->direction == HT_DIR_INGRESS ?
						"read failed" : "write failed");
	}
	if (conn->proto == PROTO_H2) {
		h2_socket_record(c, conn, ev);
		return;
	}
	if (conn->proto != PROTO_HTTP1)
		return;
	if (ev->ret < 0) {
		char words[TL_ERR_WORDS_LEN], error[TL_ERROR_MAX];

		if (io_error_ignored(ev->ret) || !conn->head)
			return;
		err_words(TL_GotConn, (int32_t)-ev->ret, words, sizeof(words));
		snprintf(error, sizeof(error), "%s: %s",
			 ev->direction == HT_DIR_INGRESS ? "read" : "write",
			 words);
		fail_pending(c, conn, ev->hdr.ts_ns, error);
		return;
	}
	if (!conn->role_known && (ev->ret == 0 || !guess_role(c, conn, ev)))
		return;
	side = side_of(conn, ev->direction);
	if (ev->ret == 0) {
		if (ev->direction != HT_DIR_INGRESS)
			return;
		if (side == SIDE_RESP) {
			response_stream_ended(c, conn, ev->hdr.ts_ns, true);
		} else {
			/* a server's peer half-closed: the response may
			 * still be written */
			h1_parser_eof(&conn->parser[SIDE_REQ], NULL, NULL);
			conn->writing = NULL;
		}
		return;
	}
	handle_bytes(c, conn, ev);
}

/* ---- HTTP/2 ------------------------------------------------------------- */

/*
 * HTTP/2 is recognised, not decoded (yet): the connection is one
 * timeline, opened by its first bytes and finished when it closes, with
 * the bytes each side sent and how long it lasted. Either side may show
 * it first: the client's preface, or the SETTINGS frame a server writes
 * as soon as it accepts, before it has read the preface (nginx, gRPC).
 * `side`'s first bytes are in ev; the flags say what came before.
 */
static bool h2_first_bytes(struct conn *conn, int side,
			   const struct ht_data_event *ev)
{
	bool req_before = conn->saw_req_bytes;
	bool first = side == SIDE_REQ ? !conn->saw_req_bytes :
					!conn->saw_resp_bytes;

	if (side == SIDE_REQ)
		conn->saw_req_bytes = true;
	else
		conn->saw_resp_bytes = true;
	if (!first || conn->taint || conn->saw_http)
		return false;
	if (side == SIDE_REQ)
		return is_h2_preface(ev->data, ev->captured_len);
	return !req_before &&
	       ht_h2_settings_frame(ev->data, ev->captured_len);
}

static void h2_bytes(struct conn *conn, const struct ht_data_event *ev)
{
	struct pending_req *r = conn->head;

	if (!r || !r->h2 || ev->ret <= 0)
		return;
	if (side_of(conn, ev->direction) == SIDE_REQ)
		r->request_bytes += (uint64_t)ev->ret;
	else
		r->response_bytes += (uint64_t)ev->ret;
	r->resp_last_ns = ev->hdr.ts_ns; /* the last thing seen of it */
}

static void open_h2(struct correlator *c, struct conn *conn,
		    const struct ht_data_event *ev)
{
	struct pending_req *r = open_request(c, conn, ev);

	conn->proto = PROTO_H2;
	conn->writing = NULL;
	if (!r)
		return;
	r->h2 = true;
	/* a server that speaks first: its connection starts with that
	 * write, as a client's request starts with its first */
	if (conn->role == HT_ROLE_SERVER && ev->direction == HT_DIR_EGRESS)
		r->start_ns = r->io_first_ns = r->got_conn_ns =
			call_entry(ev->enter_ns, ev->hdr.ts_ns);
	h2_bytes(conn, ev);
}

/* The connection ended (closed, or its process exited): its timeline
 * is complete unless records were lost. */
static void h2_conn_over(struct correlator *c, struct conn *conn,
			 uint64_t ts)
{
	if (conn->proto == PROTO_H2)
		while (conn->head)
			finish_head(c, conn, ts, NULL, false);
}

/* A socket record of an HTTP/2 connection (ciphertext aside, which
 * handle_data keeps): bytes counted, a failed read or write ends it. */
static void h2_socket_record(struct correlator *c, struct conn *conn,
			     const struct ht_data_event *ev)
{
	char words[TL_ERR_WORDS_LEN], error[TL_ERROR_MAX];

	if (ev->ret > 0) {
		h2_bytes(conn, ev);
		return;
	}
	if (ev->ret == 0 || io_error_ignored(ev->ret) || !conn->head)
		return;
	err_words(TL_GotConn, (int32_t)-ev->ret, words, sizeof(words));
	snprintf(error, sizeof(error), "%s: %s",
		 ev->direction == HT_DIR_INGRESS ? "read" : "write", words);
	fail_pending(c, conn, ev->hdr.ts_ns, error);
}

/* Bytes (ret > 0) of the HTTP stream: from the socket, or the plaintext
 * of a TLS call. */
static void handle_bytes(struct correlator *c, struct conn *conn,
			 const struct ht_data_event *ev)
{
	int side;

	if (conn->proto == PROTO_H2) {
		h2_bytes(conn, ev);
		return;
	}
	if (conn->proto != PROTO_HTTP1)
		return;
	if (!conn->role_known && !guess_role(c, conn, ev))
		return;
	side = side_of(conn, ev->direction);
	if (h2_first_bytes(conn, side, ev)) {
		open_h2(c, conn, ev);
		return;
	}
	/* An HTTP/2 server speaks first: its SETTINGS may be read before
	 * the client writes its preface (nghttp). No HTTP/1 server does,
	 * so with h2 offered the preface, not these bytes, tells. */
	if (side == SIDE_RESP && !conn->saw_req_bytes && !conn->saw_http &&
	    tls_h2_offered(conn))
		return;
	feed(c, conn, side, ev);
}

/* ---- TLS ------------------------------------------------------------------ */

static struct conn_tls *tls_get(struct correlator *c, struct conn *conn)
{
	if (!conn->tls) {
		conn->tls = calloc(1, sizeof(*conn->tls));
		if (!conn->tls)
			return NULL;
		held(c, sizeof(*conn->tls));
		tls_stream_init(&conn->tls->stream[HT_DIR_EGRESS]);
		tls_stream_init(&conn->tls->stream[HT_DIR_INGRESS]);
		conn->tls->verify = -1;
	}
	return conn->tls;
}

/* The ClientHello on the wire offered h2 through ALPN. */
static bool tls_h2_offered(const struct conn *conn)
{
	int d;

	if (!conn->tls)
		return false;
	for (d = 0; d < 2; d++) {
		const struct tls_hello *h = &conn->tls->stream[d].hello;

		if (h->client_hello && alpn_offered(h->alpn, "h2"))
			return true;
	}
	return false;
}

static void tls_free(struct correlator *c, struct conn *conn)
{
	if (!conn->tls)
		return;
	tls_stream_free(&conn->tls->stream[0]);
	tls_stream_free(&conn->tls->stream[1]);
	free(conn->tls);
	released(c, sizeof(*conn->tls));
	conn->tls = NULL;
}

static uint64_t call_entry(uint64_t enter_ns, uint64_t ts_ns);

static void tls_raw_bytes(struct conn *conn, const struct ht_data_event *ev)
{
	struct conn_tls *t = conn->tls;
	int dir = ev->direction & 1;
	struct tls_stream *st = &t->stream[dir];

	/* the moment the first byte of a direction's stream moved: a
	 * write's entry; a read's return (its entry may be long before,
	 * waiting) */
	if (!t->wire_first_ns[dir])
		t->wire_first_ns[dir] =
			dir == HT_DIR_EGRESS ?
				call_entry(ev->enter_ns, ev->hdr.ts_ns) :
				ev->hdr.ts_ns;
	t->raw_last_enter_ns = call_entry(ev->enter_ns, ev->hdr.ts_ns);
	t->raw_last_ns = ev->hdr.ts_ns;
	if (!st->dead)
		tls_stream_feed(st, ev->data, ev->captured_len,
				(uint64_t)ev->ret - ev->captured_len);
}

/* Why the handshake failed, as far as one can tell without the
 * library's structs: its return codes, the verify result it reported,
 * and the alerts on the wire. */
static void tls_fail_words(const struct conn *conn, const char *how,
			   char *out, size_t size)
{
	const struct conn_tls *t = conn->tls;
	const struct tls_stream *out_s = &t->stream[HT_DIR_EGRESS];
	const struct tls_stream *in_s = &t->stream[HT_DIR_INGRESS];
	char buf[48];

	if (t->lib == HT_TLS_GNUTLS && t->hs_ret < 0 && t->hs_ret != -28 &&
	    t->hs_ret != -52) {
		snprintf(out, size, "tls: handshake failed: %s",
			 tls_gnutls_words((long)t->hs_ret, buf, sizeof(buf)));
	} else if (t->verify_seen && t->verify != 0) {
		snprintf(out, size,
			 "tls: handshake failed: certificate verify failed: %s%s",
			 t->lib == HT_TLS_GNUTLS ?
				 tls_gnutls_verify_words((long)t->verify, buf,
							 sizeof(buf)) :
				 tls_verify_words((long)t->verify, buf,
						  sizeof(buf)),
			 t->hs == HS_OK ? " (checked after the handshake)"
					: "");
	} else if (out_s->alert_desc > 0) {
		snprintf(out, size, "tls: handshake failed: sent alert %s",
			 tls_alert_name(out_s->alert_desc, buf, sizeof(buf)));
	} else if (in_s->alert_desc > 0) {
		snprintf(out, size, "tls: handshake failed: received alert %s",
			 tls_alert_name(in_s->alert_desc, buf, sizeof(buf)));
	} else if (out_s->encrypted_alert ||
		   (out_s->last_type == 23 && out_s->last_len <= 32 &&
		    out_s->appdata_records == 1)) {
		/* TLS 1.3 encrypts alerts after the ServerHello: a lone
		 * short record before any request is one */
		snprintf(out, size,
			 "tls: handshake failed: sent an alert (encrypted), "
			 "then %s", how);
	} else {
		snprintf(out, size, "tls: handshake failed: %s", how);
	}
}

/* GnuTLS leaves the certificate to the caller: gnutls_handshake
 * succeeds, the client then reads a bad verdict and hangs up before any
 * request (wget). The handshake failed for it all the same. */
static bool tls_rejected_after_handshake(const struct conn *conn)
{
	const struct conn_tls *t = conn->tls;

	/* Application data moved: the client went past the verdict, whether
	 * or not an HTTP/1 request was parsed from it (HTTP/2 whose server
	 * spoke first, a capture too short to hold a request line). */
	return t->hs == HS_OK && !t->hs_derived && t->verify_seen &&
	       t->verify != 0 && !t->plaintext_seen && !conn->head &&
	       !conn->n_requests;
}

/* A handshake that started and ended without success (or whose
 * certificate the client rejected afterwards): one timeline for the
 * connection, failed, no request. */
static void tls_handshake_failed(struct correlator *c, struct conn *conn,
				 uint64_t ts, const char *how)
{
	struct conn_tls *t = conn->tls;
	struct timeline *tl = &c->tl;
	uint64_t start = t->hs_start_ns;
	struct tl_spans spans = { .n = 0 };
	struct tl_event *e;
	char words[TL_ERROR_MAX];

	if (t->hs == HS_FAILED || !t->hs_start_ns ||
	    (t->hs == HS_OK && !tls_rejected_after_handshake(conn)))
		return;
	/* the words before the state changes: they tell the two apart */
	tls_fail_words(conn, how, words, sizeof(words));
	t->hs = HS_FAILED;
	if (conn->head || conn->n_requests)
		return; /* a request is open: it carries the failure */
	if (conn->role == HT_ROLE_CLIENT) {
		bind_deferred_dns(c, conn, NULL);
		if (conn->has_dns)
			start = conn->dns.enter_ns;
		else if (conn->connect_start_ns)
			start = conn->connect_start_ns;
	}
	tl_reset(tl);
	tl_conn_fields(tl, conn);
	tl->tid = conn->owner_tid;
	memcpy(tl->comm, conn->comm, sizeof(tl->comm));
	tl->start_ns = start;
	tl->end_ns = max_u64(max_u64(ts, start), t->hs_start_ns);
	tl_tls_fields(tl, conn, NULL);
	snprintf(tl->tls.error, sizeof(tl->tls.error), "%s", words);
	e = tl_add(tl, TL_GetConn, start);
	if (e && t->stream[0].hello.sni[0])
		copy_bounded(e->host, sizeof(e->host), t->stream[0].hello.sni,
			     sizeof(t->stream[0].hello.sni));
	if (conn->role == HT_ROLE_CLIENT)
		tl_add_conn_start(tl, conn, &spans, true, true);
	tl_add(tl, TL_TLSHandshakeStart, t->hs_start_ns);
	e = tl_add(tl, TL_TLSHandshakeDone, tl->end_ns);
	if (e)
		e->err = EPROTO; /* the words are in tl->tls.error */
	tl_span_add(&spans, TL_PHASE_TLS, tls_phase_start(conn), tl->end_ns);
	tl_set_phases(tl, &spans);
	tl_sort(tl);
	snprintf(tl->error, sizeof(tl->error), "%s", tl->tls.error);
	tl->error_kind = TL_ERR_TLS_FAILURE;
	tl->complete = !conn->taint;
	emit(c);
}

/* The socket's stream ended (EOF, error, close) */
static void tls_stream_over(struct correlator *c, struct conn *conn,
			    uint64_t ts, const char *how)
{
	if (conn->tls && (conn->tls->hs == HS_STARTED ||
			  tls_rejected_after_handshake(conn)))
		tls_handshake_failed(c, conn, ts, how);
}

/* The direction whose stream held the ClientHello, or -1. */
static int tls_client_hello_dir(const struct conn_tls *t)
{
	int d;

	for (d = 0; d < 2; d++)
		if (t->stream[d].hello.client_hello && t->wire_first_ns[d])
			return d;
	return -1;
}

/*
 * A connection that ends with a TLS handshake on the wire (its
 * ClientHello captured from the socket) and no record from a hooked TLS
 * library: Go's crypto/tls, Java, rustls, a BoringSSL without exported
 * symbols. Its requests cannot be read, but it is said, once, with what
 * the handshake showed: one timeline, tls.not_decoded, incomplete.
 * end_ns 0: at the last socket I/O seen.
 */
static void tls_report_undecoded(struct correlator *c, struct conn *conn,
				 uint64_t end_ns)
{
	struct conn_tls *t = conn->tls;
	struct timeline *tl = &c->tl;
	struct tl_spans spans = { .n = 0 };
	uint64_t hello_ns, start;
	struct tl_event *e;
	bool client = conn->role == HT_ROLE_CLIENT;
	int d;

	if (!t || t->lib_seen || t->undecoded_reported)
		return;
	d = tls_client_hello_dir(t);
	if (d < 0)
		return;
	t->undecoded_reported = true;
	hello_ns = t->wire_first_ns[d];
	start = hello_ns;
	if (client && conn->has_dns)
		start = min_u64(start, conn->dns.enter_ns);
	else if (client && conn->connect_start_ns)
		start = min_u64(start, conn->connect_start_ns);
	tl_reset(tl);
	tl_conn_fields(tl, conn);
	tl->tid = conn->owner_tid;
	memcpy(tl->comm, conn->comm, sizeof(tl->comm));
	tl->start_ns = start;
	tl->end_ns = max_u64(end_ns ? end_ns : t->raw_last_ns, hello_ns);
	tl_tls_fields(tl, conn, NULL);
	tl->tls.not_decoded = true;
	e = tl_add(tl, TL_GetConn, start);
	if (e)
		copy_bounded(e->host, sizeof(e->host), tl->tls.sni,
			     sizeof(tl->tls.sni));
	if (client)
		tl_add_conn_start(tl, conn, &spans, true, true);
	/* the ClientHello's write (or, for a server, its read) is a fact;
	 * where the handshake ended is not on the wire in TLS 1.3, so the
	 * encrypted rest is time in no phase the tracer saw: idle */
	tl_add(tl, TL_TLSHandshakeStart, hello_ns);
	tl_sort(tl);
	tl_set_phases(tl, &spans);
	snprintf(tl->error, sizeof(tl->error),
		 "TLS not decoded: encrypted by a TLS library the tracer "
		 "does not hook");
	tl->error_kind = TL_ERR_TLS_NOT_DECODED;
	tl->complete = false;
	emit(c);
}

/* A call's entry time as recorded, or its return when the entry is
 * missing or after it (any bytes may come in a record). */
static uint64_t call_entry(uint64_t enter_ns, uint64_t ts_ns)
{
	return enter_ns && enter_ns <= ts_ns ? enter_ns : ts_ns;
}

static bool tls_hs_ok(uint8_t lib, int64_t ret)
{
	return lib == HT_TLS_GNUTLS ? ret == 0 : ret == 1;
}

static void handle_tls_event(struct correlator *c, struct conn *conn,
			     const struct ht_tls_event *ev)
{
	struct conn_tls *t = tls_get(c, conn);

	note_owner(conn, &ev->hdr);
	if (!t)
		return;
	t->lib_seen = true;
	if (ev->lib)
		t->lib = ev->lib;
	if (ev->op == HT_TLS_OP_VERIFY) {
		t->verify_seen = true;
		t->verify = ev->ret;
		return;
	}
	if (t->hs == HS_OK || t->hs == HS_FAILED)
		return; /* done; later calls return at once */
	if (!t->hs_start_ns)
		t->hs_start_ns = call_entry(ev->enter_ns, ev->hdr.ts_ns);
	t->hs_ret = ev->ret;
	if (tls_hs_ok(ev->lib, ev->ret)) {
		t->hs = HS_OK;
		/* a record later than the window may be older than the
		 * start: the phase never runs backwards */
		t->hs_done_ns = max_u64(ev->hdr.ts_ns, t->hs_start_ns);
		return;
	}
	t->hs = HS_STARTED;
	/* GnuTLS says what failed; its "again" codes only ask to retry.
	 * OpenSSL's -1 means either, so its failure shows at the close. */
	if (ev->lib == HT_TLS_GNUTLS && ev->ret != -28 /* E_AGAIN */ &&
	    ev->ret != -52 /* E_INTERRUPTED */)
		tls_handshake_failed(c, conn, ev->hdr.ts_ns,
				     "handshake call failed");
}

/*
 * The first TLS call that moves application data (ev) on a session whose
 * handshake no handshake call reported as done: Node drives its
 * handshake through SSL_read on memory BIOs and never calls
 * SSL_do_handshake; a program may also just call SSL_write, which
 * handshakes first; a handshake call may have returned "retry" and the
 * rest happened inside the first read or write. The handshake is then
 * read from what is seen anyway:
 *
 * TLSHandshakeStart (only when no handshake call gave it): the first
 * byte of the ClientHello on the wire, i.e. the first socket record of
 * the direction the ClientHello was parsed in. Without a ClientHello on
 * the wire (tie made too late, capture lost) there is no handshake
 * phase rather than a made-up one.
 *
 * TLSHandshakeDone: when the last handshake bytes moved, which depends
 * on where the socket I/O happened:
 *  - no socket record on this connection inside ev's call (the last one
 *    returned before ev's call began): the library buffers in memory and
 *    the event loop moved the handshake (Node). The handshake was over
 *    when its last flight went through the socket (TLS 1.3: the client's
 *    Finished written; 1.2: the server's Finished read), i.e. the return
 *    of the last socket record before the call. Taking the call's entry
 *    instead would put the application's own delay (Node's
 *    'secureConnect' callbacks, the agent) into the tls phase.
 *  - socket records inside the call (their return after its entry): the
 *    call drove the handshake and then moved the data. The last socket
 *    I/O of the call is the data itself (a write of the request's
 *    records, or the read that brought the response), so the handshake
 *    ended when that I/O began: the entry of the last socket record.
 *    The request opened by ev then starts its send phase there too
 *    (open_request), so the send phase does not absorb the handshake's
 *    tail, and GotConn follows TLSHandshakeDone.
 * Both are clamped to [start, the call's return].
 *
 * Not from a response when no request was seen on the connection (its
 * request went out unseen): the socket records before it are the
 * response's own, and the handshake ended at some unknown time before
 * the request. It is over, with no TLSHandshakeDone and no phase rather
 * than one that runs to the response.
 */
static void tls_derive_handshake(struct conn *conn,
				 const struct ht_data_event *ev)
{
	struct conn_tls *t = conn->tls;
	uint64_t enter = call_entry(ev->enter_ns, ev->hdr.ts_ns);
	uint64_t done;
	bool response;
	int d;

	if (conn->role_known)
		response = side_of(conn, ev->direction) == SIDE_RESP;
	else
		response = ev->direction == HT_DIR_INGRESS &&
			   starts_message(H1_RESPONSE, ev->data,
					  ev->captured_len);
	/* an HTTP/2 server's SETTINGS frame answers no request: it comes
	 * right after the handshake */
	if (response && !conn->n_requests &&
	    !ht_h2_settings_frame(ev->data, ev->captured_len)) {
		t->hs = HS_OK;
		t->hs_done_unknown = true;
		return;
	}

	if (!t->hs_start_ns) {
		for (d = 0; d < 2; d++)
			if (t->stream[d].hello.client_hello &&
			    t->wire_first_ns[d])
				t->hs_start_ns = t->wire_first_ns[d];
		if (!t->hs_start_ns)
			return; /* hs stays HS_NONE: no phase */
		t->hs_derived = true;
	}
	if (!t->raw_last_ns)
		done = enter;
	else if (t->raw_last_ns <= enter)
		done = t->raw_last_ns;
	else
		done = t->raw_last_enter_ns;
	done = min_u64(max_u64(done, t->hs_start_ns), ev->hdr.ts_ns);
	t->hs = HS_OK;
	t->hs_done_ns = max_u64(done, t->hs_start_ns);
}

/* Plaintext of a TLS call: the HTTP stream. */
static void handle_tls_data(struct correlator *c, struct conn *conn,
			    const struct ht_data_event *ev)
{
	struct conn_tls *t = tls_get(c, conn);

	note_owner(conn, &ev->hdr);
	if (!t)
		return;
	t->lib_seen = true;
	if (ev->call)
		t->lib = ev->call;
	if (ev->ret > 0)
		t->plaintext_seen = true;
	conn->saw_bytes = true;
	/* bytes flow: the handshake is over even when no handshake call
	 * said so */
	if (ev->ret > 0 && (t->hs == HS_STARTED || t->hs == HS_NONE))
		tls_derive_handshake(conn, ev);
	if (ev->ret > 0)
		handle_bytes(c, conn, ev);
}

/* ---- processes and DNS ---------------------------------------------------- */

static uint32_t hash32(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	k ^= k >> 33;
	k *= 0xc4ceb9fe1a85ec53ULL;
	k ^= k >> 33;
	return (uint32_t)k;
}

/* The first of the two slots of key's set in a table of n (a power of
 * two) slots. */
static uint32_t set_of(uint64_t key, uint32_t n)
{
	return hash32(key) & (n - 1) & ~1u;
}

static uint64_t conn_key(const struct ht_conn_id *id)
{
	return (uint64_t)id->tgid << 32 | (uint32_t)id->fd;
}

/* Remembers a dropped connection (see buried()). */
static void bury_conn(struct correlator *c, const struct ht_conn_id *id)
{
	struct grave *g = &c->graves[set_of(conn_key(id), GRAVE_SLOTS)];
	int i;

	for (i = 0; i < 2; i++) {
		if (g[i].used && g[i].tgid == id->tgid && g[i].fd == id->fd) {
			if (id->gen > g[i].gen)
				g[i].gen = id->gen;
			return;
		}
	}
	/* a free slot, else the one with the older connection */
	if (g[0].used && (!g[1].used || g[1].gen < g[0].gen))
		g++;
	g->tgid = id->tgid;
	g->fd = id->fd;
	g->gen = id->gen;
	g->used = true;
}

/* Remembers an exited process (see buried()). */
static void bury_proc(struct correlator *c, uint32_t tgid, uint64_t exit_ns)
{
	struct dead_proc *d = &c->dead[set_of(tgid, DEAD_PROC_SLOTS)];
	int i;

	for (i = 0; i < 2; i++) {
		if (d[i].used && d[i].tgid == tgid) {
			if (exit_ns > d[i].exit_ns)
				d[i].exit_ns = exit_ns;
			return;
		}
	}
	if (d[0].used && (!d[1].used || d[1].exit_ns < d[0].exit_ns))
		d++;
	d->tgid = tgid;
	d->exit_ns = exit_ns;
	d->used = true;
}

static struct proc **proc_slot(struct correlator *c, uint32_t tgid)
{
	struct proc **pp = &c->proc_buckets[hash32(tgid) & c->proc_mask];

	while (*pp && (*pp)->tgid != tgid)
		pp = &(*pp)->hnext;
	return pp;
}

static void proc_lru_unlink(struct correlator *c, struct proc *p)
{
	if (p->lru_prev)
		p->lru_prev->lru_next = p->lru_next;
	else
		c->proc_mru = p->lru_next;
	if (p->lru_next)
		p->lru_next->lru_prev = p->lru_prev;
	else
		c->proc_lru = p->lru_prev;
	p->lru_prev = p->lru_next = NULL;
}

static void proc_lru_front(struct correlator *c, struct proc *p)
{
	p->lru_prev = NULL;
	p->lru_next = c->proc_mru;
	if (c->proc_mru)
		c->proc_mru->lru_prev = p;
	c->proc_mru = p;
	if (!c->proc_lru)
		c->proc_lru = p;
}

static void proc_touch(struct correlator *c, struct proc *p)
{
	if (c->proc_mru == p)
		return;
	proc_lru_unlink(c, p);
	proc_lru_front(c, p);
}

static void proc_destroy(struct correlator *c, struct proc *p)
{
	struct proc **pp = proc_slot(c, p->tgid);

	if (*pp == p)
		*pp = p->hnext;
	proc_lru_unlink(c, p);
	if (p->dns)
		released(c, dns_ring_size(c));
	free(p->dns);
	free(p);
	released(c, sizeof(*p));
	c->stats.procs--;
}

static bool dns_ring_live(const struct correlator *c, const struct proc *p)
{
	uint32_t i;

	if (!p->dns)
		return false;
	for (i = 0; i < c->cfg.dns_per_proc; i++)
		if (p->dns->slot[i].valid && !p->dns->slot[i].used)
			return true;
	return false;
}

static void proc_maybe_free(struct correlator *c, struct proc *p)
{
	if (!p->pinned && p->n_conns == 0 && !p->dns)
		proc_destroy(c, p);
}

static void conn_drop(struct correlator *c, struct conn *conn, bool bury);
static void conn_abandon(struct correlator *c, struct conn *conn,
			 uint64_t end_ns, const char *error);

/* Finalizes every connection of p and frees it. */
static void proc_teardown(struct correlator *c, struct proc *p,
			  uint64_t end_ns, const char *error)
{
	p->pinned = true;
	while (p->conns) {
		struct conn *conn = p->conns;

		conn_abandon(c, conn, end_ns, error);
		conn_drop(c, conn, false);
	}
	proc_destroy(c, p);
}

static struct proc *proc_get(struct correlator *c, uint32_t tgid)
{
	struct proc **pp = proc_slot(c, tgid);
	struct proc *p = *pp;

	if (p) {
		proc_touch(c, p);
		return p;
	}
	if (c->stats.procs >= c->cfg.max_procs && c->proc_lru) {
		c->stats.evicted_procs++;
		proc_teardown(c, c->proc_lru, 0, "evicted");
		pp = proc_slot(c, tgid);
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	held(c, sizeof(*p));
	p->tgid = tgid;
	p->hnext = *pp;
	*pp = p;
	proc_lru_front(c, p);
	c->stats.procs++;
	return p;
}

static struct proc *proc_lookup(struct correlator *c, uint32_t tgid)
{
	return *proc_slot(c, tgid);
}

static void handle_dns(struct correlator *c, const struct ht_dns_event *ev)
{
	struct dns_result *d;
	struct proc *p;
	uint32_t n = ev->n_addrs;

	if (ev->ret != 0) {
		/* a failed lookup is a failed request of its own */
		struct timeline *tl = &c->tl;
		char words[TL_ERR_WORDS_LEN];
		struct dns_result failed = {
			.enter_ns = ev->enter_ns && ev->enter_ns <= ev->hdr.ts_ns ?
					    ev->enter_ns : ev->hdr.ts_ns,
			.done_ns = ev->hdr.ts_ns,
		};
		struct tl_event *e;

		copy_bounded(failed.host, sizeof(failed.host), ev->host,
			     sizeof(ev->host));
		copy_bounded(failed.service, sizeof(failed.service),
			     ev->service, sizeof(ev->service));
		tl_reset(tl);
		tl->role = HT_ROLE_CLIENT;
		tl->pid = ev->hdr.tgid;
		tl->tid = ev->hdr.tid;
		copy_comm(tl->comm, ev->hdr.comm);
		copy_bounded(tl->host, sizeof(tl->host), failed.host,
			     sizeof(failed.host));
		tl->start_ns = failed.enter_ns;
		tl->end_ns = failed.done_ns;
		e = tl_add(tl, TL_GetConn, failed.enter_ns);
		if (e)
			memcpy(e->host, failed.host, sizeof(e->host));
		tl_add_dns(tl, &failed, ev->ret);
		tl->phase_us[TL_PHASE_DNS] =
			span_us(failed.enter_ns, failed.done_ns);
		tl->phase_us[TL_PHASE_TOTAL] = tl->phase_us[TL_PHASE_DNS];
		snprintf(tl->error, sizeof(tl->error), "lookup %s: %s",
			 failed.host,
			 err_words(TL_DNSDone, ev->ret, words, sizeof(words)));
		tl->error_kind = tl_error_kind_errno(TL_DNSDone, ev->ret);
		tl->complete = true;
		emit(c);
		return;
	}
	p = proc_get(c, ev->hdr.tgid);
	if (!p)
		return;
	if (!p->dns) {
		p->dns = calloc(1, dns_ring_size(c));
		if (!p->dns) {
			proc_maybe_free(c, p);
			return;
		}
		held(c, dns_ring_size(c));
	}
	d = &p->dns->slot[p->dns->next];
	p->dns->next = (p->dns->next + 1) % c->cfg.dns_per_proc;
	if (d->valid && !d->used && !d->retry)
		c->stats.dns_unmatched++;
	if (n > HT_DNS_MAX_ADDRS)
		n = HT_DNS_MAX_ADDRS;
	memset(d, 0, sizeof(*d));
	d->valid = true;
	d->enter_ns = ev->enter_ns && ev->enter_ns <= ev->hdr.ts_ns ?
			      ev->enter_ns : ev->hdr.ts_ns;
	d->done_ns = ev->hdr.ts_ns;
	d->n_addrs = n;
	d->tid = ev->hdr.tid;
	memcpy(d->addrs, ev->addrs, n * sizeof(d->addrs[0]));
	copy_bounded(d->host, sizeof(d->host), ev->host, sizeof(ev->host));
	copy_bounded(d->service, sizeof(d->service), ev->service,
		     sizeof(ev->service));
}

/*
 * How well lookup d fits a connect to peer from thread tid: 0 when its
 * answer does not hold the peer's address, or holds it for another port
 * (getaddrinfo puts the service's port in every address it returns, 0
 * when none was asked); else higher for the port asked (not just none),
 * then for a lookup no connect has used (over one a failed connect gave
 * back), then for the connecting thread's own lookup.
 */
static unsigned int dns_fit(const struct dns_result *d,
			    const struct ht_addr *peer, uint32_t tid)
{
	unsigned int fit = 0;
	uint32_t k;

	for (k = 0; k < d->n_addrs; k++) {
		const struct ht_addr *a = &d->addrs[k];

		if (!addr_same_host(a, peer))
			continue;
		if (!a->port || !peer->port)
			fit = fit > 1 ? fit : 1;
		else if (a->port == peer->port)
			fit = 2;
	}
	if (!fit)
		return 0;
	return fit * 4 + (d->retry ? 0 : 2) + (d->tid == tid);
}

/* Whether a lookup asked for this name (a Host or SNI), which may end
 * with the root's dot on either side. */
static bool dns_host_is(const struct dns_result *d, const char *name)
{
	size_t a = strnlen(d->host, sizeof(d->host)), b = strlen(name);

	if (a && d->host[a - 1] == '.')
		a--;
	if (b && name[b - 1] == '.')
		b--;
	return a && a == b && strncasecmp(d->host, name, a) == 0;
}

/*
 * The lookup this connect used: same process (any thread: curl resolves
 * on helper threads), its answer holds the peer address for the peer's
 * port, it finished before the connect began; of those the one for that
 * port, then the connecting thread's, then the latest. Each serves one
 * connection: a client that connects again from its own cache (curl's
 * DNS cache, a second connection to the same host:port) did no lookup
 * for it, and Go's httptrace too reports DNSStart/DNSDone only on the
 * request that resolved.
 *
 * At the connect (name NULL), when lookups of different names fit
 * equally well (two names of one server, resolved by helper threads),
 * none is taken: the connect waits for the name it is for (name, later:
 * its SNI or Host) and takes the best lookup of that name, or none.
 */
static void match_dns(struct correlator *c, struct conn *conn,
		      const char *name)
{
	struct proc *p = conn->proc;
	struct dns_result *best = NULL;
	unsigned int best_fit = 0;
	uint64_t at = conn->connect_start_ns;
	bool ambiguous = false;
	uint32_t i;

	if (!p || !p->dns || !conn->daddr.family)
		return;
	for (i = 0; i < c->cfg.dns_per_proc; i++) {
		struct dns_result *d = &p->dns->slot[i];
		unsigned int fit;

		if (!d->valid || d->used || d->done_ns > at ||
		    at - d->done_ns > c->cfg.dns_ttl_ns)
			continue;
		fit = dns_fit(d, &conn->daddr, conn->owner_tid);
		if (!fit || (name && !dns_host_is(d, name)) || fit < best_fit)
			continue;
		if (best && fit == best_fit) {
			if (!dns_host_is(d, best->host))
				ambiguous = true;
			if (best->done_ns >= d->done_ns)
				continue;
		} else {
			ambiguous = false;
		}
		best = d;
		best_fit = fit;
	}
	if (!best)
		return;
	if (ambiguous && !name) {
		conn->dns_deferred = true;
		return;
	}
	best->used = true;
	conn->dns = *best;
	conn->has_dns = true;
	conn->dns_slot = (uint32_t)(best - p->dns->slot);
}

/*
 * A connect that failed gives its lookup back: a client goes on to the
 * next address of the same answer (::1 refused, then 127.0.0.1), and
 * that connection is the request's, resolved by that lookup. Unless the
 * ring slot has moved on to another lookup since.
 */
static void dns_give_back(struct correlator *c, struct conn *conn)
{
	struct proc *p = conn->proc;
	struct dns_result *d;

	if (!conn->has_dns || !p || !p->dns ||
	    conn->dns_slot >= c->cfg.dns_per_proc)
		return;
	d = &p->dns->slot[conn->dns_slot];
	if (!d->valid || !d->used || d->enter_ns != conn->dns.enter_ns ||
	    d->done_ns != conn->dns.done_ns || d->tid != conn->dns.tid)
		return;
	d->used = false;
	d->retry = true;
}

/* DNS results that no connect used in time are dropped, and processes
 * left with nothing. */
static void sweep_dns(struct correlator *c, uint64_t now)
{
	struct proc *p, *next;
	uint32_t i;

	for (p = c->proc_mru; p; p = next) {
		next = p->lru_next;
		if (!p->dns)
			continue;
		for (i = 0; i < c->cfg.dns_per_proc; i++) {
			struct dns_result *d = &p->dns->slot[i];

			if (!d->valid || now < d->done_ns ||
			    now - d->done_ns <= c->cfg.dns_ttl_ns)
				continue;
			if (!d->used && !d->retry)
				c->stats.dns_unmatched++;
			d->valid = false;
		}
		if (!dns_ring_live(c, p)) {
			free(p->dns);
			p->dns = NULL;
			released(c, dns_ring_size(c));
			proc_maybe_free(c, p);
		}
	}
}

/* ---- connections ------------------------------------------------------ */

static struct conn **conn_slot(struct correlator *c, uint32_t tgid, int32_t fd)
{
	uint64_t key = (uint64_t)tgid << 32 | (uint32_t)fd;
	struct conn **pp = &c->conn_buckets[hash32(key) & c->conn_mask];

	while (*pp && ((*pp)->id.tgid != tgid || (*pp)->id.fd != fd))
		pp = &(*pp)->hnext;
	return pp;
}

static void conn_lru_unlink(struct correlator *c, struct conn *conn)
{
	if (conn->lru_prev)
		conn->lru_prev->lru_next = conn->lru_next;
	else
		c->conn_mru = conn->lru_next;
	if (conn->lru_next)
		conn->lru_next->lru_prev = conn->lru_prev;
	else
		c->conn_lru = conn->lru_prev;
	conn->lru_prev = conn->lru_next = NULL;
}

static void conn_lru_front(struct correlator *c, struct conn *conn)
{
	conn->lru_prev = NULL;
	conn->lru_next = c->conn_mru;
	if (c->conn_mru)
		c->conn_mru->lru_prev = conn;
	c->conn_mru = conn;
	if (!c->conn_lru)
		c->conn_lru = conn;
}

static void conn_abandon(struct correlator *c, struct conn *conn,
			 uint64_t end_ns, const char *error)
{
	abandon_pending(c, conn, end_ns, error);
	tls_report_undecoded(c, conn, end_ns);
}

static void conn_drop(struct correlator *c, struct conn *conn, bool bury)
{
	struct conn **pp = conn_slot(c, conn->id.tgid, conn->id.fd);
	struct proc *p = conn->proc;

	drop_pending(c, conn);
	tls_free(c, conn);
	if (*pp == conn)
		*pp = conn->hnext;
	conn_lru_unlink(c, conn);
	if (conn->proc_prev)
		conn->proc_prev->proc_next = conn->proc_next;
	else if (p)
		p->conns = conn->proc_next;
	if (conn->proc_next)
		conn->proc_next->proc_prev = conn->proc_prev;
	if (bury)
		bury_conn(c, &conn->id);
	c->stats.conns--;
	if (c->n_spare_conns < SPARE_CONNS) {
		conn->hnext = c->spare_conns;
		c->spare_conns = conn;
		c->n_spare_conns++;
	} else {
		free(conn);
		released(c, sizeof(*conn));
	}
	if (p) {
		p->n_conns--;
		proc_maybe_free(c, p);
	}
}

/* A record of a connection we no longer track: closed, or its process
 * exited. */
/*
 * Whether a record of id at ts belongs to a connection already dropped,
 * or to a process that has exited. Asked for every new connection, so
 * graves and dead processes are small hash tables of 2-way sets, not
 * lists: scanning all of them was a fifth of the daemon's time when
 * every request came on a new connection. Each set keeps the newest of
 * a key (the latest generation, the latest exit), which answers for the
 * older ones too; a full set forgets its older entry.
 */
static bool buried(const struct correlator *c, const struct ht_conn_id *id,
		   uint64_t ts)
{
	const struct dead_proc *d = &c->dead[set_of(id->tgid, DEAD_PROC_SLOTS)];
	const struct grave *g = &c->graves[set_of(conn_key(id), GRAVE_SLOTS)];
	int i;

	for (i = 0; i < 2; i++) {
		if (d[i].used && d[i].tgid == id->tgid && ts <= d[i].exit_ns)
			return true;
		if (g[i].used && g[i].tgid == id->tgid && g[i].fd == id->fd &&
		    g[i].gen >= id->gen)
			return true;
	}
	return false;
}

static struct conn *conn_create(struct correlator *c,
				const struct ht_conn_id *id)
{
	struct conn **pp;
	struct conn *conn;
	struct proc *p;

	if (c->stats.conns >= c->cfg.max_conns && c->conn_lru) {
		c->stats.evicted_conns++;
		conn_abandon(c, c->conn_lru, 0, "evicted");
		conn_drop(c, c->conn_lru, false);
	}
	p = proc_get(c, id->tgid);
	if (!p)
		return NULL;
	conn = c->spare_conns;
	if (conn) {
		c->spare_conns = conn->hnext;
		c->n_spare_conns--;
	} else {
		conn = malloc(sizeof(*conn));
		if (!conn) {
			proc_maybe_free(c, p);
			return NULL;
		}
		held(c, sizeof(*conn));
	}
	memset(conn, 0, offsetof(struct conn, parser));
	h1_parser_init(&conn->parser[SIDE_REQ], H1_REQUEST);
	h1_parser_init(&conn->parser[SIDE_RESP], H1_RESPONSE);
	conn->id = *id;
	conn->proc = p;
	conn->proc_next = p->conns;
	if (p->conns)
		p->conns->proc_prev = conn;
	p->conns = conn;
	p->n_conns++;
	pp = conn_slot(c, id->tgid, id->fd);
	conn->hnext = *pp;
	*pp = conn;
	conn_lru_front(c, conn);
	c->stats.conns++;
	return conn;
}

/*
 * Records were lost on this connection. Whatever comes next on the
 * response side may belong to a request other than the oldest pending
 * one (its response, or requests and responses in between, may be among
 * the lost), so the pending requests end here with what they had before
 * the gap, and the connection stays unsure until responses can be
 * matched again (open_request).
 */
static void seq_gap(struct correlator *c, struct conn *conn)
{
	c->stats.gaps++;
	if (conn->next_seq == 0)
		conn->start_lost = true;
	while (conn->head) {
		mark_incomplete(conn->head, "records lost");
		finish_head(c, conn, req_last_seen(conn->head), NULL, false);
	}
	conn->skip_responses = 0;
	conn->unsure = true;
	conn->taint = true;
	if (conn->role_known && conn->proto == PROTO_HTTP1)
		parsers_resync(conn);
}

/* The connection this record belongs to, with generation and sequence
 * checked; NULL when the record is stale (counted). */
static struct conn *conn_for_record(struct correlator *c,
				    const struct ht_event_header *hdr,
				    const struct ht_conn_id *id, uint32_t seq)
{
	struct conn *conn = *conn_slot(c, id->tgid, id->fd);

	if (conn && id->gen < conn->id.gen)
		goto stale;
	if (conn && id->gen > conn->id.gen) {
		/* the fd was closed and reused without our seeing it */
		conn_abandon(c, conn, 0, "connection state lost");
		conn_drop(c, conn, false);
		conn = NULL;
	}
	if (!conn) {
		if (buried(c, id, hdr->ts_ns))
			goto stale;
		conn = conn_create(c, id);
		if (!conn)
			return NULL;
	} else if (c->conn_mru != conn) {
		conn_lru_unlink(c, conn);
		conn_lru_front(c, conn);
	}
	if (conn->proc)
		proc_touch(c, conn->proc);
	if (seq < conn->next_seq)
		goto stale; /* beyond the reorder window; already skipped */
	if (seq > conn->next_seq)
		seq_gap(c, conn);
	conn->next_seq = seq + 1;
	return conn;
stale:
	c->stats.stale_records++;
	return NULL;
}

static void handle_conn_event(struct correlator *c, struct conn *conn,
			      const struct ht_conn_event *ev)
{
	uint64_t ts = ev->hdr.ts_ns;

	note_owner(conn, &ev->hdr);
	addr_refine(&conn->saddr, &ev->saddr);
	addr_refine(&conn->daddr, &ev->daddr);

	switch (ev->hdr.type) {
	case HT_EV_CONNECT_START:
		set_role(conn, HT_ROLE_CLIENT);
		if (!conn->connect_start_ns) {
			conn->connect_start_ns = ts;
			conn->connect_start_peer = ev->daddr;
			conn->owner_tid = ev->hdr.tid;
			match_dns(c, conn, NULL);
		}
		break;
	case HT_EV_CONNECT_DONE:
		set_role(conn, HT_ROLE_CLIENT);
		/*
		 * ClientTrace's ConnectDone is when the dial returns: when the
		 * process learns the outcome (connect() returned, or
		 * getsockopt(SO_ERROR) after poll). The kernel's handshake
		 * record comes first; the process's own, if it comes before
		 * any request byte, moves ConnectDone to it.
		 */
		if (ev->err == EINPROGRESS || ev->err == EALREADY ||
		    ev->err == EINTR)
			break;
		if (conn->connect_done_seen) {
			if (ev->source == HT_SRC_SYSCALL && !ev->err &&
			    !conn->connect_err && !conn->connect_seen_by_app &&
			    !conn->n_requests && ts >= conn->connect_done_ns) {
				conn->connect_done_ns = ts;
				conn->connect_seen_by_app = true;
			}
			break;
		}
		conn->connect_done_seen = true;
		conn->connect_seen_by_app = ev->source == HT_SRC_SYSCALL;
		conn->connect_done_ns = ts;
		conn->connect_done_peer = ev->daddr;
		conn->connect_err = ev->err;
		if (ev->err) {
			struct timeline *tl = &c->tl;
			char words[TL_ERR_WORDS_LEN], peer[TL_ADDR_PORT_STRLEN];
			uint64_t start = conn->connect_start_ns ?
						 conn->connect_start_ns : ts;
			struct tl_spans spans = { .n = 0 };
			struct tl_event *e;

			if (conn->has_dns)
				start = conn->dns.enter_ns;
			tl_reset(tl);
			tl_conn_fields(tl, conn);
			tl->tid = ev->hdr.tid ? ev->hdr.tid : conn->owner_tid;
			memcpy(tl->comm, conn->comm, sizeof(tl->comm));
			tl->start_ns = start;
			tl->end_ns = max_u64(ts, start);
			e = tl_add(tl, TL_GetConn, start);
			if (e && conn->has_dns)
				memcpy(e->host, conn->dns.host, sizeof(e->host));
			if (conn->has_dns) {
				tl_add_dns(tl, &conn->dns, 0);
				tl_span_add(&spans, TL_PHASE_DNS,
					    conn->dns.enter_ns,
					    conn->dns.done_ns);
			}
			if (conn->connect_start_ns) {
				tl_add_addr(tl, TL_ConnectStart,
					    conn->connect_start_ns,
					    connect_peer(conn,
							 &conn->connect_start_peer),
					    0);
				tl_span_add(&spans, TL_PHASE_CONNECT,
					    conn->connect_start_ns, ts);
			}
			tl_add_addr(tl, TL_ConnectDone, ts,
				    connect_peer(conn, &conn->connect_done_peer),
				    ev->err);
			tl_sort(tl);
			tl_set_phases(tl, &spans);
			tl_addr_port_str(&conn->daddr, peer, sizeof(peer));
			snprintf(tl->error, sizeof(tl->error),
				 "connect %s: %s", peer,
				 err_words(TL_ConnectDone, ev->err, words,
					   sizeof(words)));
			tl->error_kind = tl_error_kind_errno(TL_ConnectDone,
							     ev->err);
			tl->complete = !conn->taint;
			emit(c);
			dns_give_back(c, conn);
		}
		break;
	case HT_EV_ACCEPT:
		set_role(conn, HT_ROLE_SERVER);
		break;
	case HT_EV_CLOSE:
		h2_conn_over(c, conn, ts);
		tls_stream_over(c, conn, ts, "connection closed by the process");
		response_stream_ended(c, conn, ts, false);
		abandon_pending(c, conn, ts, "connection closed");
		tls_report_undecoded(c, conn, ts);
		conn_drop(c, conn, true);
		break;
	}
}

static void handle_exit(struct correlator *c, const struct ht_exit_event *ev)
{
	struct proc *p = proc_lookup(c, ev->hdr.tgid);
	struct conn *conn;

	bury_proc(c, ev->hdr.tgid, ev->hdr.ts_ns);
	if (!p)
		return;
	/* the kernel closes what the process left open: an HTTP/2
	 * connection ends there, as at a close */
	for (conn = p->conns; conn; conn = conn->proc_next)
		h2_conn_over(c, conn, ev->hdr.ts_ns);
	proc_teardown(c, p, ev->hdr.ts_ns, "process exited mid-request");
}

/* ---- records ------------------------------------------------------------ */

/* Bytes of the record to keep, or 0 when it is malformed. */
static size_t record_len(const void *rec, size_t size)
{
	struct ht_event_header hdr;

	if (!rec || size < sizeof(hdr))
		return 0;
	memcpy(&hdr, rec, sizeof(hdr));
	switch (hdr.type) {
	case HT_EV_CONNECT_START:
	case HT_EV_CONNECT_DONE:
	case HT_EV_ACCEPT:
	case HT_EV_CLOSE:
		return size >= sizeof(struct ht_conn_event) ?
			       sizeof(struct ht_conn_event) : 0;
	case HT_EV_DATA:
	case HT_EV_TLS_DATA: {
		struct ht_data_event d;

		if (size < sizeof(d))
			return 0;
		memcpy(&d, rec, sizeof(d));
		if (hdr.type == HT_EV_TLS_DATA && d.call >= HT_TLS_LIB_COUNT)
			return 0;
		if (d.direction > HT_DIR_INGRESS ||
		    d.captured_len > HT_MAX_CAPTURE ||
		    size - sizeof(d) < d.captured_len)
			return 0;
		if (d.ret < 0 ? d.captured_len != 0 :
				(uint64_t)d.ret < d.captured_len)
			return 0;
		return sizeof(d) + d.captured_len;
	}
	case HT_EV_DNS: {
		struct ht_dns_event d;

		if (size < sizeof(d))
			return 0;
		memcpy(&d, rec, sizeof(d));
		return d.n_addrs <= HT_DNS_MAX_ADDRS ? sizeof(d) : 0;
	}
	case HT_EV_PROC_EXIT:
		return size >= sizeof(struct ht_exit_event) ?
			       sizeof(struct ht_exit_event) : 0;
	case HT_EV_TLS: {
		struct ht_tls_event t;

		if (size < sizeof(t))
			return 0;
		memcpy(&t, rec, sizeof(t));
		return t.lib < HT_TLS_LIB_COUNT && t.op <= HT_TLS_OP_VERIFY ?
			       sizeof(t) : 0;
	}
	}
	return 0;
}

/* rec is an aligned copy checked by record_len(). */
static void process_record(struct correlator *c, const void *rec)
{
	const struct ht_event_header *hdr = rec;
	struct conn *conn;

	switch (hdr->type) {
	case HT_EV_CONNECT_START:
	case HT_EV_CONNECT_DONE:
	case HT_EV_ACCEPT:
	case HT_EV_CLOSE: {
		const struct ht_conn_event *ev = rec;

		conn = conn_for_record(c, hdr, &ev->conn, ev->seq);
		if (conn)
			handle_conn_event(c, conn, ev);
		break;
	}
	case HT_EV_DATA: {
		const struct ht_data_event *ev = rec;

		conn = conn_for_record(c, hdr, &ev->conn, ev->seq);
		if (conn)
			handle_data(c, conn, ev);
		break;
	}
	case HT_EV_TLS_DATA: {
		const struct ht_data_event *ev = rec;

		conn = conn_for_record(c, hdr, &ev->conn, ev->seq);
		if (conn)
			handle_tls_data(c, conn, ev);
		break;
	}
	case HT_EV_TLS: {
		const struct ht_tls_event *ev = rec;

		conn = conn_for_record(c, hdr, &ev->conn, ev->seq);
		if (conn)
			handle_tls_event(c, conn, ev);
		break;
	}
	case HT_EV_DNS:
		handle_dns(c, rec);
		break;
	case HT_EV_PROC_EXIT:
		handle_exit(c, rec);
		break;
	}
}

static void process_item(struct correlator *c, struct reorder_item *it)
{
	if (!c->released_any || it->ts_ns > c->released_ts)
		c->released_ts = it->ts_ns;
	c->released_any = true;
	process_record(c, it->rec);
	reorder_release(&c->rb, it);
}

static void release_before(struct correlator *c, uint64_t horizon, bool all)
{
	struct reorder_item it;

	while (all ? reorder_pop(&c->rb, &it) :
		     reorder_pop_before(&c->rb, horizon, &it))
		process_item(c, &it);
	c->stats.buffered = c->rb.n;
}

/* ---- public ------------------------------------------------------------- */

static uint32_t pow2_at_least(uint32_t n)
{
	uint32_t p = 16;

	while (p < n && p < (1u << 30))
		p <<= 1;
	return p;
}

struct correlator *correlator_new(const struct correlator_config *cfg,
				  timeline_sink_fn sink, void *user)
{
	struct correlator *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	if (cfg)
		c->cfg = *cfg;
	if (!c->cfg.reorder_window_ns)
		c->cfg.reorder_window_ns = DEFAULT_WINDOW_NS;
	if (!c->cfg.max_buffered)
		c->cfg.max_buffered = DEFAULT_MAX_BUFFERED;
	if (!c->cfg.max_buffered_bytes)
		c->cfg.max_buffered_bytes = DEFAULT_MAX_BUFFERED_BYTES;
	if (!c->cfg.max_conns)
		c->cfg.max_conns = DEFAULT_MAX_CONNS;
	if (!c->cfg.max_procs)
		c->cfg.max_procs = DEFAULT_MAX_PROCS;
	if (!c->cfg.max_pipeline)
		c->cfg.max_pipeline = DEFAULT_MAX_PIPELINE;
	if (!c->cfg.dns_per_proc)
		c->cfg.dns_per_proc = DEFAULT_DNS_PER_PROC;
	if (!c->cfg.dns_ttl_ns)
		c->cfg.dns_ttl_ns = DEFAULT_DNS_TTL_NS;
	c->sink = sink;
	c->user = user;
	c->conn_mask = pow2_at_least(c->cfg.max_conns * 2u) - 1;
	c->proc_mask = pow2_at_least(c->cfg.max_procs * 2u) - 1;
	c->conn_buckets = calloc((size_t)c->conn_mask + 1, sizeof(void *));
	c->proc_buckets = calloc((size_t)c->proc_mask + 1, sizeof(void *));
	if (!c->conn_buckets || !c->proc_buckets ||
	    reorder_init(&c->rb, c->cfg.max_buffered,
			 c->cfg.max_buffered_bytes) < 0) {
		free(c->conn_buckets);
		free(c->proc_buckets);
		free(c);
		return NULL;
	}
	return c;
}

static void drop_everything(struct correlator *c, const char *error)
{
	while (c->conn_mru) {
		struct conn *conn = c->conn_mru;

		if (error)
			conn_abandon(c, conn, 0, error);
		conn_drop(c, conn, false);
	}
	while (c->proc_mru)
		proc_destroy(c, c->proc_mru);
}

void correlator_free(struct correlator *c)
{
	if (!c)
		return;
	drop_everything(c, NULL);
	while (c->spare_conns) {
		struct conn *conn = c->spare_conns;

		c->spare_conns = conn->hnext;
		free(conn);
	}
	while (c->spare_reqs) {
		struct pending_req *r = c->spare_reqs;

		c->spare_reqs = r->next;
		free(r);
	}
	reorder_fini(&c->rb);
	free(c->conn_buckets);
	free(c->proc_buckets);
	free(c);
}

int correlator_push(struct correlator *c, const void *record, size_t size)
{
	struct ht_event_header hdr;
	struct reorder_item it;
	size_t len;

	if (!c)
		return -EINVAL;
	len = record_len(record, size);
	if (!len) {
		c->stats.bad_records++;
		return -EINVAL;
	}
	memcpy(&hdr, record, sizeof(hdr));
	c->stats.records++;
	if (c->released_any && hdr.ts_ns < c->released_ts)
		c->stats.late_records++;
	while (reorder_full(&c->rb, len) && reorder_pop(&c->rb, &it)) {
		c->stats.reorder_overflow++;
		process_item(c, &it);
	}
	if (reorder_push(&c->rb, hdr.ts_ns, record, len) < 0) {
		/* no memory for a copy: handle it now rather than lose it */
		memcpy(c->scratch, record, len);
		process_record(c, c->scratch);
	}
	if (hdr.ts_ns > c->newest_ts)
		c->newest_ts = hdr.ts_ns;
	if (c->newest_ts > c->cfg.reorder_window_ns)
		release_before(c, c->newest_ts - c->cfg.reorder_window_ns,
			       false);
	c->stats.buffered = c->rb.n;
	return 0;
}

void correlator_tick(struct correlator *c, uint64_t now_mono_ns)
{
	if (!c)
		return;
	if (now_mono_ns > c->cfg.reorder_window_ns)
		release_before(c, now_mono_ns - c->cfg.reorder_window_ns,
			       false);
	if (now_mono_ns - c->last_sweep_ns >= DNS_SWEEP_EVERY_NS ||
	    now_mono_ns < c->last_sweep_ns) {
		sweep_dns(c, now_mono_ns);
		c->last_sweep_ns = now_mono_ns;
	}
	if (c->released_since_trim >= TRIM_AFTER_BYTES &&
	    (now_mono_ns - c->last_trim_ns >= TRIM_EVERY_NS ||
	     now_mono_ns < c->last_trim_ns)) {
#ifdef __GLIBC__
		malloc_trim(0);
#endif
		c->released_since_trim = 0;
		c->last_trim_ns = now_mono_ns;
	}
}

void correlator_note_lost(struct correlator *c, enum ht_drop_kind kind,
			  uint64_t new_drops)
{
	struct conn *conn;
	struct pending_req *r;

	if (!c || (unsigned int)kind >= HT_DROP_KIND_COUNT || !new_drops)
		return;
	c->stats.lost[kind] += new_drops;
	if (kind != HT_DROP_CONN)
		return;
	/* We cannot tell whose records they were. */
	for (conn = c->conn_mru; conn; conn = conn->lru_next)
		for (r = conn->head; r; r = r->next)
			mark_incomplete(r, "records lost");
}

void correlator_flush(struct correlator *c)
{
	if (!c)
		return;
	release_before(c, 0, true);
	drop_everything(c, "tracer stopped before the request finished");
}

const struct correlator_stats *correlator_stats(const struct correlator *c)
{
	return &c->stats;
}
