/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * ht_bench_replay: daemon throughput without a kernel. A synthetic but
 * realistic stream of ring-buffer records (include/httptrace_events.h) is
 * fed through the same pure modules the daemon runs (correlator, parser,
 * reorder buffer, JSON or text output), and the time spent in
 * correlator_push/tick and the output is measured.
 *
 *   ht_bench_replay [--records N] [--seed S] [--conns N] [--capture BYTES]
 *                   [--text] [--line-buffered] [--no-output] [--out PATH]
 *   ht_bench_replay --from RECORDING [--text] [--line-buffered] [--no-output]
 *                   [--out PATH]
 *
 *   --records N     records to push (default 3000000)
 *   --conns N       connections open at once (default 512)
 *   --capture B     bytes captured per read/write, as the tracer's
 *                   --max-capture (default 4096)
 *   --text          text output instead of JSON
 *   --line-buffered one write(2) per timeline, as the daemon writes to a
 *                   terminal; by default output is buffered and flushed
 *                   every 256 records, as the daemon writes to a pipe or
 *                   file (it flushes after each ring-buffer poll)
 *   --no-output     timelines are built but not printed
 *   --metrics       every timeline also counted into the Prometheus
 *                   exporter's histograms, as its sink does (the lock,
 *                   the clock); at the end one scrape's copy and
 *                   text are timed, said on stderr
 *   --out PATH      where the output goes (default /dev/null)
 *   --from FILE     instead of the synthetic stream, the records of a
 *                   recording made with httptrace-bpf --record (read
 *                   into memory first, outside the timed region)
 *
 * With --from, the HTTP/2 frames in the recording are counted too, by a
 * walk of its bytes outside the timed region (h2_walk below), not by the
 * daemon's decoder: frames/s and streams/s are then the same measure
 * whatever the correlator does with HTTP/2.
 *
 * The stream: 64 processes, --conns connections at a time, each a client
 * (85%), a server side of an accepted connection (10%) or a connection
 * that carries no HTTP (5%). Clients resolve first (getaddrinfo record
 * from a helper thread) on 40% of new connections, then connect (the
 * CONNECT_START / two CONNECT_DONE records tracepoint mode produces), and
 * make 1..16 keep-alive requests: GETs, POSTs with the body in a second
 * write, 5% pipelined pairs. Responses: 60% small (100 B..2 KiB), 30%
 * medium (2..16 KiB), 10% large (16..256 KiB), read in 4..64 KiB reads,
 * the header block sometimes split from the body and sometimes mid-line;
 * 15% chunked, one chunk per read. Captured bytes are the first
 * min(ret, capture) bytes, like the kernel side. Records of different
 * connections interleave at random; 2% arrive up to 50 us late (another
 * CPU), never out of order within their connection.
 *
 * Records are generated in batches outside the timed region. Prints one
 * JSON object: records, timelines, incomplete, cpu and wall seconds,
 * events per second (CPU time of this process: user + system, so the
 * write(2) calls of the output count), bytes pushed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/socket.h>
#include <time.h>

#include "pipeline/correlator.h"
#include "proto/http2/h2_elided.h"
#include "sink/output.h"
#include "sink/prometheus/prom_metrics.h"
#include "sink/json/output_json.h"
#include "sink/text/output_text.h"
#include "record/recording.h"

#define NPROCS 64
#define MAX_OPS 160
#define SCRATCH (96 * 1024)
#define BATCH_BYTES (96u << 20)
#define TICK_EVERY 256

/* ---- random ----------------------------------------------------------------- */

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static uint32_t rnd_range(uint32_t lo, uint32_t hi) /* inclusive */
{
	return lo + (uint32_t)(rnd() % (uint64_t)(hi - lo + 1));
}

static bool chance(unsigned pct)
{
	return rnd() % 100 < pct;
}

/* ---- the simulated host ------------------------------------------------------ */

enum op_kind {
	OP_DNS,
	OP_CONNECT_START,
	OP_CONNECT_DONE_SC,  /* inet_sock_set_state, softirq: tid 0 */
	OP_CONNECT_DONE_SYS, /* connect() returned */
	OP_ACCEPT,
	OP_DATA,
	OP_CLOSE,
};

struct op {
	uint8_t kind;
	uint8_t dir;
	uint32_t ret;
	uint32_t len;         /* bytes available at ptr (>= captured) */
	const uint8_t *ptr;
	uint32_t gap_us;      /* time before this op (idle, server time) */
};

enum conn_kind { CK_CLIENT, CK_SERVER, CK_OTHER };

struct sim_conn {
	uint32_t tgid, tid, proc;
	int32_t fd;
	uint64_t gen, last_ts;
	uint32_t seq;
	enum conn_kind kind;
	int requests_left;
	uint16_t sport;
	struct ht_addr saddr, daddr;
	struct op ops[MAX_OPS];
	int n_ops, next_op;
	uint8_t *scratch;
	size_t scratch_used;
	bool closed;
};

static const char *const comms[] = { "curl", "python3", "java", "node",
				     "nginx", "envoy", "wget", "ruby" };
static uint8_t body_text[300 * 1024];
static uint32_t capture = HT_DEFAULT_CAPTURE;
static uint64_t clock_ns = 1000000000ULL;
static struct sim_conn *conns;
static int n_conns = 512;
static uint64_t conn_counter;

static uint8_t *scratch_take(struct sim_conn *c, size_t n)
{
	uint8_t *p;

	if (c->scratch_used + n > SCRATCH) {
		fprintf(stderr, "ht_bench_replay: scratch overflow\n");
		exit(1);
	}
	p = c->scratch + c->scratch_used;
	c->scratch_used += n;
	return p;
}

static void add_op(struct sim_conn *c, uint8_t kind, uint8_t dir,
		   uint32_t ret, const uint8_t *ptr, uint32_t len,
		   uint32_t gap_us)
{
	struct op *o;

	if (c->n_ops >= MAX_OPS)
		return;
	o = &c->ops[c->n_ops++];
	o->kind = kind;
	o->dir = dir;
	o->ret = ret;
	o->ptr = ptr;
	o->len = len;
	o->gap_us = gap_us;
}

static struct ht_addr v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d,
			 uint16_t port)
{
	struct ht_addr x = { .family = AF_INET, .port = port };

	x.addr[0] = a;
	x.addr[1] = b;
	x.addr[2] = c;
	x.addr[3] = d;
	return x;
}

static size_t request_text(struct sim_conn *c, char *out, size_t room,
			   bool post, uint32_t body_len)
{
	static const char *const paths[] = { "/api/v1/items/", "/healthz",
					     "/v2/users/", "/static/app.js?v=",
					     "/search?q=tracing&page=" };
	uint32_t p = rnd_range(0, 4);

	if (post)
		return (size_t)snprintf(out, room,
			"POST /api/v1/orders HTTP/1.1\r\n"
			"Host: svc-%u.internal:8080\r\n"
			"User-Agent: %s/1.0\r\nAccept: application/json\r\n"
			"Content-Type: application/json\r\n"
			"Content-Length: %u\r\n"
			"X-Request-Id: %016llx\r\n\r\n",
			c->proc, comms[c->proc % 8], body_len,
			(unsigned long long)rnd());
	return (size_t)snprintf(out, room,
		"GET %s%u HTTP/1.1\r\nHost: svc-%u.internal:8080\r\n"
		"User-Agent: %s/1.0\r\nAccept: */*\r\n"
		"Accept-Encoding: gzip, deflate\r\n"
		"X-Request-Id: %016llx\r\n\r\n",
		paths[p], rnd_range(1, 99999), c->proc, comms[c->proc % 8],
		(unsigned long long)rnd());
}

static size_t response_head(char *out, size_t room, uint32_t body_len,
			    bool chunked)
{
	if (chunked)
		return (size_t)snprintf(out, room,
			"HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\n"
			"Date: Mon, 01 Jan 2024 00:00:00 GMT\r\n"
			"Content-Type: application/json\r\n"
			"Transfer-Encoding: chunked\r\n"
			"Connection: keep-alive\r\n\r\n");
	return (size_t)snprintf(out, room,
		"HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\n"
		"Date: Mon, 01 Jan 2024 00:00:00 GMT\r\n"
		"Content-Type: application/json\r\n"
		"Content-Length: %u\r\nConnection: keep-alive\r\n\r\n",
		body_len);
}

static uint32_t body_size(void)
{
	uint32_t r = rnd_range(0, 99);

	if (r < 60)
		return rnd_range(100, 2048);
	if (r < 90)
		return rnd_range(2049, 16384);
	return rnd_range(16385, 256 * 1024);
}

/* A response as the reader sees it: reads of 4..64 KiB. */
static void response_reads(struct sim_conn *c, uint8_t dir, uint32_t gap_us)
{
	bool chunked = chance(15);
	uint32_t blen = body_size();

	/* one chunk per read: keep a chunked body within the scratch */
	if (chunked && blen > 64 * 1024)
		blen = 64 * 1024;
	char head[512];
	size_t hlen = response_head(head, sizeof(head), blen, chunked);

	if (chunked) {
		/* the head alone, then one chunk per read, then 0\r\n\r\n */
		uint8_t *h = scratch_take(c, hlen);
		uint32_t left = blen, n_chunks = 0;

		memcpy(h, head, hlen);
		add_op(c, OP_DATA, dir, (uint32_t)hlen, h, (uint32_t)hlen,
		       gap_us);
		while (left && n_chunks < 64 && c->n_ops < MAX_OPS - 2) {
			uint32_t sz = rnd_range(512, 3072);
			char line[16];
			int ll;
			uint8_t *p;

			if (sz > left)
				sz = left;
			ll = snprintf(line, sizeof(line), "%x\r\n", sz);
			p = scratch_take(c, (size_t)ll + sz + 2);
			memcpy(p, line, (size_t)ll);
			memcpy(p + ll, body_text, sz);
			memcpy(p + ll + sz, "\r\n", 2);
			add_op(c, OP_DATA, dir, (uint32_t)ll + sz + 2, p,
			       (uint32_t)ll + sz + 2, rnd_range(5, 40));
			left -= sz;
			n_chunks++;
		}
		add_op(c, OP_DATA, dir, 5, (const uint8_t *)"0\r\n\r\n", 5,
		       rnd_range(5, 40));
		return;
	}

	/* Content-Length: head + body as one stream cut into reads */
	{
		uint32_t total = (uint32_t)hlen + blen, off = 0, split = 0;
		uint32_t copied = blen < HT_MAX_CAPTURE ? blen : HT_MAX_CAPTURE;
		static const uint32_t read_sizes[] = { 4096, 16384, 65536 };
		uint8_t *h = scratch_take(c, hlen + copied);
		bool first = true;

		if (chance(30))
			split = (uint32_t)hlen; /* the head alone first */
		else if (chance(5))
			split = rnd_range(10, (uint32_t)hlen - 4); /* mid-line */
		memcpy(h, head, hlen);
		memcpy(h + hlen, body_text, copied);
		while (off < total && c->n_ops < MAX_OPS - 1) {
			uint32_t sz = first && split ? split :
				      read_sizes[rnd_range(0, 2)];
			const uint8_t *p;
			uint32_t len;

			if (sz > total - off)
				sz = total - off;
			if (off < hlen) {
				p = h + off;
				len = (uint32_t)hlen + copied - off;
			} else {
				/* body bytes: the same repeating text */
				uint32_t o = (off - (uint32_t)hlen) % 4096;

				p = body_text + o;
				len = (uint32_t)sizeof(body_text) - o;
			}
			add_op(c, OP_DATA, dir, sz, p, len,
			       first ? gap_us : rnd_range(2, 30));
			off += sz;
			first = false;
		}
	}
}

/* ops for the next request (or pipelined pair) of a client connection */
static void client_request(struct sim_conn *c, bool first)
{
	char req[3][768];
	size_t rl[3];
	uint32_t idle = first ? rnd_range(5, 50) : rnd_range(50, 5000);

	if (chance(5)) {
		/* pipelined: 2 GETs in one write, responses in one read each */
		uint8_t *p;
		int n = 2;

		rl[0] = request_text(c, req[0], sizeof(req[0]), false, 0);
		rl[1] = request_text(c, req[1], sizeof(req[1]), false, 0);
		p = scratch_take(c, rl[0] + rl[1]);
		memcpy(p, req[0], rl[0]);
		memcpy(p + rl[0], req[1], rl[1]);
		add_op(c, OP_DATA, HT_DIR_EGRESS, (uint32_t)(rl[0] + rl[1]), p,
		       (uint32_t)(rl[0] + rl[1]), idle);
		for (int i = 0; i < n; i++) {
			char head[512];
			uint32_t blen = rnd_range(20, 900);
			size_t hl = response_head(head, sizeof(head), blen, false);
			uint8_t *r = scratch_take(c, hl + blen);

			memcpy(r, head, hl);
			memcpy(r + hl, body_text, blen);
			add_op(c, OP_DATA, HT_DIR_INGRESS, (uint32_t)(hl + blen),
			       r, (uint32_t)(hl + blen), rnd_range(50, 800));
		}
		c->requests_left -= 2;
		return;
	}
	if (chance(15)) {
		uint32_t blen = rnd_range(100, 3000);
		uint8_t *p;

		rl[0] = request_text(c, req[0], sizeof(req[0]), true, blen);
		p = scratch_take(c, rl[0]);
		memcpy(p, req[0], rl[0]);
		add_op(c, OP_DATA, HT_DIR_EGRESS, (uint32_t)rl[0], p,
		       (uint32_t)rl[0], idle);
		add_op(c, OP_DATA, HT_DIR_EGRESS, blen, body_text, blen,
		       rnd_range(1, 10));
	} else {
		uint8_t *p;

		rl[0] = request_text(c, req[0], sizeof(req[0]), false, 0);
		p = scratch_take(c, rl[0]);
		memcpy(p, req[0], rl[0]);
		add_op(c, OP_DATA, HT_DIR_EGRESS, (uint32_t)rl[0], p,
		       (uint32_t)rl[0], idle);
	}
	response_reads(c, HT_DIR_INGRESS, rnd_range(100, 3000));
	c->requests_left--;
}

static void server_request(struct sim_conn *c, bool first)
{
	char req[768];
	size_t rl = request_text(c, req, sizeof(req), false, 0);
	uint8_t *p = scratch_take(c, rl);

	memcpy(p, req, rl);
	add_op(c, OP_DATA, HT_DIR_INGRESS, (uint32_t)rl, p, (uint32_t)rl,
	       first ? rnd_range(5, 50) : rnd_range(50, 5000));
	/* the server writes its response: same framing, written not read */
	response_reads(c, HT_DIR_EGRESS, rnd_range(20, 2000));
	c->requests_left--;
}

static void conn_start(struct sim_conn *c, int slot)
{
	uint32_t proc = (uint32_t)rnd_range(0, NPROCS - 1);
	uint32_t r = rnd_range(0, 99);

	c->proc = proc;
	c->tgid = 2000 + proc * 7;
	c->tid = c->tgid + rnd_range(0, 3);
	c->fd = 10 + slot;
	c->gen = 0; /* set when the first record is emitted */
	c->seq = 0;
	c->n_ops = c->next_op = 0;
	c->scratch_used = 0;
	c->closed = false;
	c->kind = r < 85 ? CK_CLIENT : r < 95 ? CK_SERVER : CK_OTHER;
	c->requests_left = (int)rnd_range(1, 16);
	c->sport = (uint16_t)(32768 + (conn_counter++ % 28000));
	c->saddr = v4(10, 1, (uint8_t)(proc >> 8), (uint8_t)proc, c->sport);
	c->daddr = v4(10, 0, (uint8_t)(proc % 16), (uint8_t)rnd_range(1, 20),
		      8080);

	switch (c->kind) {
	case CK_CLIENT:
		if (chance(40))
			add_op(c, OP_DNS, 0, 0, NULL, 0, rnd_range(1, 20));
		add_op(c, OP_CONNECT_START, 0, 0, NULL, 0, rnd_range(5, 100));
		add_op(c, OP_CONNECT_DONE_SC, 0, 0, NULL, 0, rnd_range(20, 200));
		add_op(c, OP_CONNECT_DONE_SYS, 0, 0, NULL, 0, rnd_range(1, 10));
		client_request(c, true);
		break;
	case CK_SERVER: {
		struct ht_addr t = c->saddr;

		c->saddr = c->daddr; /* we are the server */
		c->daddr = t;
		add_op(c, OP_ACCEPT, 0, 0, NULL, 0, rnd_range(5, 100));
		server_request(c, true);
		break;
	}
	case CK_OTHER: {
		/* a database-like binary protocol */
		uint8_t *p = scratch_take(c, 64);

		for (int i = 0; i < 64; i++)
			p[i] = (uint8_t)(0x80 | (i * 7));
		add_op(c, OP_CONNECT_START, 0, 0, NULL, 0, rnd_range(5, 100));
		add_op(c, OP_CONNECT_DONE_SC, 0, 0, NULL, 0, rnd_range(20, 200));
		add_op(c, OP_CONNECT_DONE_SYS, 0, 0, NULL, 0, rnd_range(1, 10));
		for (int i = 0; i < 2 * c->requests_left; i++)
			add_op(c, OP_DATA, (uint8_t)(i & 1), 64, p, 64,
			       rnd_range(10, 500));
		c->requests_left = 0;
		break;
	}
	}
}

/* ---- records ------------------------------------------------------------------- */

struct batch {
	uint8_t *buf;
	size_t used, cap;
	uint64_t n;
};

static void *batch_room(struct batch *b, size_t size)
{
	uint32_t *len;
	size_t need = (sizeof(uint64_t) + size + 7) & ~(size_t)7;

	if (b->used + need > b->cap)
		return NULL;
	len = (uint32_t *)(b->buf + b->used);
	*len = (uint32_t)size;
	b->used += need;
	b->n++;
	return b->buf + b->used - need + sizeof(uint64_t);
}

static void hdr(struct ht_event_header *h, const struct sim_conn *c,
		uint32_t type, uint64_t ts, bool softirq)
{
	h->ts_ns = ts;
	h->type = type;
	h->tgid = c->tgid;
	h->tid = softirq ? 0 : c->tid;
	h->_pad = 0;
	memset(h->comm, 0, sizeof(h->comm));
	if (!softirq)
		strncpy(h->comm, comms[c->proc % 8], sizeof(h->comm) - 1);
}

static bool emit_op(struct batch *b, struct sim_conn *c, const struct op *o)
{
	uint64_t ts;

	clock_ns += o->gap_us ? rnd_range(200, 3000) : 500;
	ts = clock_ns;
	if (chance(2))
		ts -= rnd_range(1000, 50000); /* reported late by another CPU */
	if (ts <= c->last_ts)
		ts = c->last_ts + 1;
	if (o->kind == OP_CONNECT_START || o->kind == OP_ACCEPT)
		c->gen = ts; /* as the kernel side: connect()/accept() time */

	switch (o->kind) {
	case OP_DNS: {
		struct ht_dns_event *ev = batch_room(b, sizeof(*ev));

		if (!ev)
			return false;
		memset(ev, 0, sizeof(*ev));
		hdr(&ev->hdr, c, HT_EV_DNS, ts, false);
		ev->hdr.tid = c->tgid + 100; /* a resolver thread */
		ev->enter_ns = ts - rnd_range(20000, 2000000);
		ev->ret = 0;
		ev->n_addrs = 2;
		snprintf(ev->host, sizeof(ev->host), "svc-%u.internal",
			 c->proc);
		ev->addrs[0] = c->daddr;
		ev->addrs[0].port = 0;
		ev->addrs[1] = v4(10, 0, 99, 99, 0);
		break;
	}
	case OP_CONNECT_START:
	case OP_CONNECT_DONE_SC:
	case OP_CONNECT_DONE_SYS:
	case OP_ACCEPT:
	case OP_CLOSE: {
		static const uint32_t types[] = {
			[OP_CONNECT_START] = HT_EV_CONNECT_START,
			[OP_CONNECT_DONE_SC] = HT_EV_CONNECT_DONE,
			[OP_CONNECT_DONE_SYS] = HT_EV_CONNECT_DONE,
			[OP_ACCEPT] = HT_EV_ACCEPT,
			[OP_CLOSE] = HT_EV_CLOSE,
		};
		struct ht_conn_event *ev = batch_room(b, sizeof(*ev));

		if (!ev)
			return false;
		memset(ev, 0, sizeof(*ev));
		hdr(&ev->hdr, c, types[o->kind], o->kind == OP_CONNECT_START ||
			o->kind == OP_ACCEPT ? c->gen : ts,
		    o->kind == OP_CONNECT_DONE_SC);
		ev->conn.tgid = c->tgid;
		ev->conn.fd = c->fd;
		ev->conn.gen = c->gen;
		ev->seq = c->seq++;
		ev->role = c->kind == CK_SERVER ? HT_ROLE_SERVER : HT_ROLE_CLIENT;
		ev->source = o->kind == OP_CONNECT_DONE_SC ? HT_SRC_STATE_CHANGE :
			     o->kind == OP_CONNECT_START ? HT_SRC_PROBE :
							   HT_SRC_SYSCALL;
		ev->saddr = c->saddr;
		ev->daddr = c->daddr;
		break;
	}
	case OP_DATA: {
		uint32_t cap = o->ret < capture ? o->ret : capture;
		struct ht_data_event *ev;

		if (cap > o->len)
			cap = o->len;
		ev = batch_room(b, sizeof(*ev) + cap);
		if (!ev)
			return false;
		hdr(&ev->hdr, c, HT_EV_DATA, ts, false);
		ev->conn.tgid = c->tgid;
		ev->conn.fd = c->fd;
		ev->conn.gen = c->gen;
		ev->seq = c->seq++;
		ev->direction = o->dir;
		ev->call = o->dir == HT_DIR_EGRESS ? HT_IO_WRITE : HT_IO_READ;
		ev->flags = 0;
		ev->enter_ns = ts - rnd_range(1000, 20000);
		if (ev->enter_ns <= c->last_ts)
			ev->enter_ns = c->last_ts + 1;
		ev->ret = o->ret;
		ev->captured_len = cap;
		ev->_pad2 = 0;
		memcpy(ev->data, o->ptr, cap);
		break;
	}
	}
	c->last_ts = ts;
	return true;
}

/* One more record from a random connection into b; false when b is full
 * (nothing consumed then). */
static bool step(struct batch *b, bool draining, int *open_conns)
{
	int slot = (int)(rnd() % (uint64_t)n_conns);
	struct sim_conn *c = &conns[slot];
	const struct op *o;

	if (c->closed) {
		if (draining) {
			/* find an open one */
			for (int i = 0; i < n_conns; i++)
				if (!conns[i].closed) {
					c = &conns[i];
					slot = i;
					break;
				}
			if (c->closed)
				return true;
		} else {
			conn_start(c, slot);
			(*open_conns)++;
		}
	}
	if (c->next_op == c->n_ops) {
		/* the current request is done: next one, or close */
		c->n_ops = c->next_op = 0;
		c->scratch_used = 0; /* every op of the last request is out */
		if (c->requests_left > 0 && !draining) {
			if (c->kind == CK_CLIENT)
				client_request(c, false);
			else
				server_request(c, false);
		} else {
			add_op(c, OP_CLOSE, 0, 0, NULL, 0, rnd_range(10, 1000));
		}
	}
	o = &c->ops[c->next_op];
	if (!emit_op(b, c, o))
		return false;
	if (o->kind == OP_CLOSE) {
		c->closed = true;
		(*open_conns)--;
	}
	c->next_op++;
	return true;
}

/* ---- the measured part ------------------------------------------------------- */

struct app {
	FILE *out;
	struct output_opts oo;
	bool text, no_output;
	uint64_t timelines;
	struct prom_metrics *metrics;   /* --metrics */
	pthread_mutex_t metrics_lock;
};

static void sink(void *user, const struct timeline *tl)
{
	struct app *a = user;

	a->timelines++;
	if (a->metrics) {
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		pthread_mutex_lock(&a->metrics_lock);
		prom_metrics_add(a->metrics, tl,
				 (uint64_t)ts.tv_sec * 1000000000ULL +
					 (uint64_t)ts.tv_nsec);
		pthread_mutex_unlock(&a->metrics_lock);
	}
	if (a->no_output)
		return;
	if (a->text)
		output_text(a->out, tl, &a->oo, NULL);
	else
		output_json(a->out, tl, &a->oo);
}

static double ts_sec(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* not inlined: callgrind --toggle-collect=push_batch profiles only this */
static __attribute__((noinline)) void
push_batch(struct correlator *corr, const struct batch *b, FILE *out,
	   uint64_t *pushed_bytes, uint64_t *errors)
{
	size_t off = 0;
	uint64_t i = 0, last_ts = 0;

	while (off < b->used) {
		uint32_t size = *(const uint32_t *)(b->buf + off);
		const void *rec = b->buf + off + sizeof(uint64_t);
		uint64_t ts = ((const struct ht_event_header *)rec)->ts_ns;

		if (correlator_push(corr, rec, size))
			(*errors)++;
		*pushed_bytes += size;
		if (ts > last_ts)
			last_ts = ts;
		/* the daemon ticks after each ring-buffer poll with the
		 * clock; here the clock is the stream's newest timestamp */
		if (++i % TICK_EVERY == 0) {
			correlator_tick(corr, last_ts);
			fflush(out);
		}
		off += (sizeof(uint64_t) + size + 7) & ~(size_t)7;
	}
	correlator_tick(corr, last_ts);
}

/* What the measured part has cost and pushed so far. */
struct timed {
	double cpu, wall;
	uint64_t bytes, errors;
};

static void timed_push(struct correlator *corr, const struct batch *b,
		       FILE *out, struct timed *t)
{
	double c0 = ts_sec(CLOCK_PROCESS_CPUTIME_ID), w0 = ts_sec(CLOCK_MONOTONIC);

	push_batch(corr, b, out, &t->bytes, &t->errors);
	fflush(out);
	t->cpu += ts_sec(CLOCK_PROCESS_CPUTIME_ID) - c0;
	t->wall += ts_sec(CLOCK_MONOTONIC) - w0;
}

/* ---- HTTP/2 frames in a recording ------------------------------------------ */

/*
 * Each direction of each connection walked as a byte stream of frame
 * headers and skipped payloads: plaintext through a TLS library
 * (HT_EV_TLS_DATA) and socket bytes (HT_EV_DATA) apart, so the
 * ciphertext of a TLS connection is never taken for frames. A direction
 * is HTTP/2 when it begins with the client's preface or with a SETTINGS
 * frame (a server's first write). A frame header in bytes not captured
 * ends the walk of that direction (counted as lost).
 */
static const char h2_preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
#define H2_PREFACE_LEN 24

enum { H2W_START, H2W_FRAMES, H2W_OFF };

struct h2w_dir {
	uint8_t state, have;
	bool preface;           /* this direction is the client's */
	bool walked;            /* frames were found in it */
	uint8_t buf[H2_PREFACE_LEN];
	uint64_t skip;          /* payload bytes still to pass */
	uint32_t max_stream;
};

struct h2w_conn {
	uint32_t tgid;
	int32_t fd;
	uint64_t gen;
	uint8_t tls, used;
	struct h2w_dir dir[2];
};

struct h2_count {
	uint64_t frames, headers, data, streams, conns, lost_dirs;
	uint64_t by_type[10];
};

static struct h2w_conn *h2w_tab;
static size_t h2w_cap, h2w_used;

static uint64_t h2w_hash(uint32_t tgid, int32_t fd, uint64_t gen, uint8_t tls)
{
	uint64_t h = gen * 0x9e3779b97f4a7c15ULL;

	h ^= ((uint64_t)tgid << 32 | (uint32_t)fd) * 0xc2b2ae3d27d4eb4fULL;
	return h ^ tls ^ (h >> 29);
}

static struct h2w_conn *h2w_find(uint32_t tgid, int32_t fd, uint64_t gen,
				 uint8_t tls)
{
	size_t i;

	if ((h2w_used + 1) * 2 > h2w_cap) {
		struct h2w_conn *old = h2w_tab;
		size_t old_cap = h2w_cap;

		h2w_cap = h2w_cap ? h2w_cap * 2 : 1024;
		h2w_tab = calloc(h2w_cap, sizeof(*h2w_tab));
		if (!h2w_tab) {
			fprintf(stderr, "ht_bench_replay: out of memory\n");
			exit(1);
		}
		h2w_used = 0;
		for (size_t j = 0; j < old_cap; j++) {
			struct h2w_conn *o = &old[j];

			if (!o->used)
				continue;
			i = h2w_hash(o->tgid, o->fd, o->gen, o->tls) &
			    (h2w_cap - 1);
			while (h2w_tab[i].used)
				i = (i + 1) & (h2w_cap - 1);
			h2w_tab[i] = *o;
			h2w_used++;
		}
		free(old);
	}
	i = h2w_hash(tgid, fd, gen, tls) & (h2w_cap - 1);
	while (h2w_tab[i].used) {
		struct h2w_conn *c = &h2w_tab[i];

		if (c->tgid == tgid && c->fd == fd && c->gen == gen &&
		    c->tls == tls)
			return c;
		i = (i + 1) & (h2w_cap - 1);
	}
	h2w_tab[i] = (struct h2w_conn){ .tgid = tgid, .fd = fd, .gen = gen,
					.tls = tls, .used = 1 };
	h2w_used++;
	return &h2w_tab[i];
}

static void h2w_frames(struct h2w_dir *d, const uint8_t *p, size_t n,
		       struct h2_count *cnt)
{
	while (n) {
		size_t take;

		if (d->skip) {
			take = d->skip < n ? (size_t)d->skip : n;
			d->skip -= take;
			p += take;
			n -= take;
			continue;
		}
		take = 9u - d->have < n ? 9u - d->have : n;
		memcpy(d->buf + d->have, p, take);
		d->have += (uint8_t)take;
		p += take;
		n -= take;
		if (d->have < 9)
			continue;
		{
			uint32_t len = (uint32_t)d->buf[0] << 16 |
				       (uint32_t)d->buf[1] << 8 | d->buf[2];
			uint8_t type = d->buf[3];
			uint32_t sid = ((uint32_t)d->buf[5] << 24 |
					(uint32_t)d->buf[6] << 16 |
					(uint32_t)d->buf[7] << 8 | d->buf[8]) &
				       0x7fffffffu;

			d->have = 0;
			d->skip = len;
			cnt->frames++;
			if (type < 10)
				cnt->by_type[type]++;
			if (type == 0x1 && d->preface && sid > d->max_stream) {
				d->max_stream = sid;
				cnt->streams++;
			}
		}
	}
}

static bool h2w_settings_header(const uint8_t *h)
{
	uint32_t len = (uint32_t)h[0] << 16 | (uint32_t)h[1] << 8 | h[2];

	return h[3] == 0x4 && !(h[4] & ~1u) && !(h[5] | h[6] | h[7] | h[8]) &&
	       len % 6 == 0 && len <= 16384;
}

/* One record's bytes of a direction: `captured` of the `len` moved. */
static void h2w_feed(struct h2w_dir *d, const uint8_t *p, size_t captured,
		     size_t len, struct h2_count *cnt)
{
	size_t missing = len - captured;

	while (d->state == H2W_START && captured) {
		bool pre;

		d->buf[d->have++] = *p++;
		captured--;
		pre = !memcmp(d->buf, h2_preface, d->have);
		if (pre && d->have == H2_PREFACE_LEN) {
			d->state = H2W_FRAMES;
			d->walked = d->preface = true;
			d->have = 0;
		} else if (!pre && d->have >= 9) {
			uint8_t first[H2_PREFACE_LEN];
			size_t n = d->have;

			if (!h2w_settings_header(d->buf)) {
				d->state = H2W_OFF;
				return;
			}
			memcpy(first, d->buf, n);
			d->state = H2W_FRAMES;
			d->walked = true;
			d->have = 0;
			h2w_frames(d, first, n, cnt);
		}
	}
	if (d->state == H2W_START && missing) {
		d->state = H2W_OFF;
		return;
	}
	if (d->state != H2W_FRAMES)
		return;
	h2w_frames(d, p, captured, cnt);
	if (!missing)
		return;
	if (d->have || d->skip < missing) {
		d->state = H2W_OFF;
		cnt->lost_dirs++;
		return;
	}
	d->skip -= missing;
}

struct h2w_piece {
	struct h2w_dir *dir;
	struct h2_count *cnt;
};

static void h2w_piece(void *user, const uint8_t *data, size_t captured,
		      size_t len)
{
	struct h2w_piece *piece = user;

	h2w_feed(piece->dir, data, captured, len, piece->cnt);
}

static void h2_walk(const struct batch *b, struct h2_count *cnt)
{
	struct h2w_piece piece = { .cnt = cnt };

	for (size_t off = 0; off < b->used;) {
		uint32_t size = *(const uint32_t *)(b->buf + off);
		const struct ht_data_event *ev =
			(const void *)(b->buf + off + sizeof(uint64_t));

		off += (sizeof(uint64_t) + size + 7) & ~(size_t)7;
		if ((ev->hdr.type != HT_EV_DATA &&
		     ev->hdr.type != HT_EV_TLS_DATA) ||
		    size < sizeof(*ev) || ev->ret <= 0 ||
		    ev->captured_len > size - sizeof(*ev) ||
		    ev->captured_len > (uint64_t)ev->ret || ev->direction > 1)
			continue;
		piece.dir = &h2w_find(ev->conn.tgid, ev->conn.fd, ev->conn.gen,
				      ev->hdr.type == HT_EV_TLS_DATA)
				     ->dir[ev->direction];
		/* a record whose DATA payloads the kernel left out is walked
		 * as its pieces, as the daemon reads it */
		h2_record_pieces(ev->flags, ev->data, ev->captured_len,
				 (uint64_t)ev->ret, h2w_piece, &piece);
	}
	for (size_t i = 0; i < h2w_cap; i++)
		if (h2w_tab[i].used &&
		    (h2w_tab[i].dir[0].walked || h2w_tab[i].dir[1].walked))
			cnt->conns++;
	cnt->headers = cnt->by_type[0x1];
	cnt->data = cnt->by_type[0x0];
	free(h2w_tab);
	h2w_tab = NULL;
	h2w_cap = h2w_used = 0;
}

/* A recording's records into one batch, as the generator lays them out;
 * lost items go to the correlator as the daemon would pass them. */
static int load_recording(const char *path, struct batch *b,
			  struct correlator *corr, struct output_opts *oo)
{
	static struct recording_reader rd;
	enum recording_item_kind kind;
	const void *data;
	char err[256];
	size_t size;
	int r;

	r = recording_open(&rd, path, err, sizeof(err));
	if (r) {
		fprintf(stderr, "ht_bench_replay: %s: %s\n", path,
			r == -EINVAL ? err : strerror(-r));
		return -1;
	}
	oo->mono_to_realtime_ns = rd.mono_to_realtime_ns;
	while ((r = recording_next(&rd, &kind, &data, &size, err,
				   sizeof(err))) > 0) {
		void *room;

		if (kind == RECORDING_LOST) {
			const struct recording_lost *l = data;

			correlator_note_lost(corr, l->kind, l->count);
			continue;
		}
		/* the bench ticks on its own, as for the synthetic stream */
		if (kind == RECORDING_TICK)
			continue;
		while (!(room = batch_room(b, size))) {
			uint8_t *bigger = realloc(b->buf, b->cap * 2);

			if (!bigger) {
				fprintf(stderr, "ht_bench_replay: out of memory\n");
				return -1;
			}
			b->buf = bigger;
			b->cap *= 2;
		}
		memcpy(room, data, size);
	}
	recording_close_reader(&rd);
	if (r < 0) {
		fprintf(stderr, "ht_bench_replay: %s: %s\n", path, err);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	uint64_t want = 3000000, pushed = 0;
	const char *out_path = "/dev/null", *from = NULL;
	struct timed t = {};
	struct h2_count h2 = {};
	double c0, w0;
	struct app app = {};
	struct batch b = {};
	struct correlator *corr;
	bool line_buffered = false, metrics = false;
	int open_conns = 0;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : "";

		if (!strcmp(a, "--records"))
			want = strtoull(v, NULL, 0), i++;
		else if (!strcmp(a, "--seed"))
			rng = strtoull(v, NULL, 0) | 1, i++;
		else if (!strcmp(a, "--conns"))
			n_conns = atoi(v), i++;
		else if (!strcmp(a, "--capture"))
			capture = (uint32_t)atoi(v), i++;
		else if (!strcmp(a, "--out"))
			out_path = v, i++;
		else if (!strcmp(a, "--from"))
			from = v, i++;
		else if (!strcmp(a, "--text"))
			app.text = true;
		else if (!strcmp(a, "--line-buffered"))
			line_buffered = true;
		else if (!strcmp(a, "--no-output"))
			app.no_output = true;
		else if (!strcmp(a, "--metrics"))
			metrics = true;
		else {
			fprintf(stderr, "usage: see the top of tools/bench/replay.c\n");
			return 2;
		}
	}
	if (n_conns < 1 || n_conns > 4096 || capture > HT_MAX_CAPTURE) {
		fprintf(stderr, "ht_bench_replay: bad --conns or --capture\n");
		return 2;
	}

	{
		static const char rec[] =
			"{\"id\":12345,\"name\":\"widget\",\"tags\":[\"a\",\"b\"]},\n";

		for (size_t i = 0; i < sizeof(body_text); i++)
			body_text[i] = (uint8_t)rec[i % (sizeof(rec) - 1)];
	}
	conns = calloc((size_t)n_conns, sizeof(*conns));
	b.cap = BATCH_BYTES;
	b.buf = malloc(b.cap);
	if (!conns || !b.buf)
		return 1;
	for (int i = 0; i < n_conns; i++) {
		conns[i].scratch = malloc(SCRATCH);
		conns[i].closed = true;
		if (!conns[i].scratch)
			return 1;
	}
	app.out = fopen(out_path, "w");
	if (!app.out) {
		perror(out_path);
		return 1;
	}
	/* as the daemon (main.c) */
	setvbuf(app.out, NULL, line_buffered ? _IOLBF : _IOFBF, 1 << 16);
	if (metrics) {
		struct prom_limits lim = {
			.max_values = PROM_MAX_VALUES_DEFAULT,
			.max_series = PROM_MAX_SERIES_DEFAULT,
			.expire_ns = PROM_EXPIRE_DEFAULT_NS,
		};

		pthread_mutex_init(&app.metrics_lock, NULL);
		if (prom_metrics_new(&app.metrics, &lim))
			return 1;
	}
	corr = correlator_new(NULL, sink, &app);
	if (!corr)
		return 1;

	if (from) {
		uint64_t last_ts = 0;

		if (load_recording(from, &b, corr, &app.oo))
			return 1;
		h2_walk(&b, &h2);
		timed_push(corr, &b, app.out, &t);
		pushed = b.n;
		for (size_t off = 0; off < b.used;) {
			uint32_t size = *(const uint32_t *)(b.buf + off);
			uint64_t ts = ((const struct ht_event_header *)
				       (b.buf + off + sizeof(uint64_t)))->ts_ns;

			if (ts > last_ts)
				last_ts = ts;
			off += (sizeof(uint64_t) + size + 7) & ~(size_t)7;
		}
		clock_ns = last_ts;
		want = 0; /* no synthetic records */
		capture = 0;
	}
	while (pushed < want || open_conns > 0) {
		bool draining = pushed >= want;

		b.used = 0;
		b.n = 0;
		while (b.n < 200000 && (!draining || open_conns > 0))
			if (!step(&b, draining, &open_conns))
				break;
		if (!b.n)
			break;
		timed_push(corr, &b, app.out, &t);
		pushed += b.n;
	}
	c0 = ts_sec(CLOCK_PROCESS_CPUTIME_ID);
	w0 = ts_sec(CLOCK_MONOTONIC);
	correlator_tick(corr, clock_ns + 1000000000ULL);
	correlator_flush(corr);
	fflush(app.out);
	t.cpu += ts_sec(CLOCK_PROCESS_CPUTIME_ID) - c0;
	t.wall += ts_sec(CLOCK_MONOTONIC) - w0;

	{
		const struct correlator_stats *st = correlator_stats(corr);

		printf("{\"records\":%llu,\"bytes\":%llu,\"timelines\":%llu,"
		       "\"requests\":%llu,\"incomplete\":%llu,\"bad\":%llu,"
		       "\"stale\":%llu,\"late\":%llu,\"gaps\":%llu,"
		       "\"non_http_conns\":%llu,\"evicted_conns\":%llu,"
		       "\"reorder_overflow\":%llu,"
		       "\"cpu_s\":%.4f,\"wall_s\":%.4f,"
		       "\"events_per_s\":%.0f,\"events_per_s_wall\":%.0f,"
		       "\"timelines_per_s\":%.0f,"
		       "\"h2_conns\":%llu,\"h2_frames\":%llu,"
		       "\"h2_headers_frames\":%llu,\"h2_data_frames\":%llu,"
		       "\"h2_streams\":%llu,\"h2_lost_dirs\":%llu,"
		       "\"h2_frames_per_s\":%.0f,\"h2_streams_per_s\":%.0f,"
		       "\"output\":\"%s\",\"line_buffered\":%s,\"capture\":%u,"
		       "\"conns\":%d}\n",
		       (unsigned long long)pushed,
		       (unsigned long long)t.bytes,
		       (unsigned long long)app.timelines,
		       (unsigned long long)st->requests,
		       (unsigned long long)st->incomplete,
		       (unsigned long long)st->bad_records,
		       (unsigned long long)st->stale_records,
		       (unsigned long long)st->late_records,
		       (unsigned long long)st->gaps,
		       (unsigned long long)st->non_http_conns,
		       (unsigned long long)st->evicted_conns,
		       (unsigned long long)st->reorder_overflow, t.cpu, t.wall,
		       (double)pushed / t.cpu, (double)pushed / t.wall,
		       (double)app.timelines / t.cpu,
		       (unsigned long long)h2.conns,
		       (unsigned long long)h2.frames,
		       (unsigned long long)h2.headers,
		       (unsigned long long)h2.data,
		       (unsigned long long)h2.streams,
		       (unsigned long long)h2.lost_dirs,
		       (double)h2.frames / t.cpu, (double)h2.streams / t.cpu,
		       app.no_output ? "none" : app.text ? "text" : "json",
		       line_buffered ? "true" : "false", capture, n_conns);
	}
	if (app.metrics) {
		struct prom_snapshot *snap;
		size_t len = 0;
		double t0 = ts_sec(CLOCK_MONOTONIC), t1;
		char *text;

		/* as a scrape: the copy under the lock, then the text */
		snap = prom_metrics_snapshot(app.metrics);
		t1 = ts_sec(CLOCK_MONOTONIC);
		text = snap ? prom_snapshot_text(snap, &len) : NULL;
		if (!text)
			return 1;
		fprintf(stderr, "ht_bench_replay: metrics: %zu series; a "
			"scrape: copied in %.3f ms (under the lock), %zu bytes "
			"of text in %.2f ms\n",
			prom_metrics_series(app.metrics), (t1 - t0) * 1e3, len,
			(ts_sec(CLOCK_MONOTONIC) - t1) * 1e3);
		free(text);
		prom_snapshot_free(snap);
		prom_metrics_free(app.metrics);
	}
	correlator_free(corr);
	fclose(app.out);
	return t.errors ? 1 : 0;
}
