// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * HTTP/2 streams through the correlator: records carrying frames (their
 * header blocks made by libnghttp2's deflater) in, one timeline per
 * stream out, checked hook by hook against the times put in.
 */
#include <stdlib.h>
#include <sys/socket.h>

#include <nghttp2/nghttp2.h>

#include "pipeline/correlator.h"
#include "unit.h"
#include "timeline_hooks.h"
#include "error_words.h"

#define US 1000ull
#define MS (1000ull * US)
#define T0 (10ull * 1000 * MS)

#define MAX_TL 16

struct sinkbuf {
	int n;
	struct timeline tl[MAX_TL];
};

static struct sinkbuf out;

static void sink(void *user, const struct timeline *tl)
{
	struct sinkbuf *s = user;
	enum tl_error_kind by_words =
		error_kind_of_words(tl->error, sizeof(tl->error));
	int64_t sum = 0;
	uint32_t i;

	/* the words and the kind agree; phases add up */
	if ((tl->error[0] == '\0') != (tl->error_kind == TL_ERR_NONE) ||
	    by_words != tl->error_kind)
		UNIT_FAIL_("error \"%s\" has kind \"%s\"", tl->error,
			   tl_error_label(tl->error_kind));
	for (i = 0; i < TL_PHASE_TOTAL; i++)
		if (tl->phase_us[i] >= 0)
			sum += tl->phase_us[i];
	if (sum != tl->phase_us[TL_PHASE_TOTAL])
		UNIT_FAIL_("stream %u: phases sum to %lld, total %lld",
			   tl->stream_id, (long long)sum,
			   (long long)tl->phase_us[TL_PHASE_TOTAL]);
	if (s->n < MAX_TL)
		s->tl[s->n] = *tl;
	s->n++;
}

static struct correlator *setup(void)
{
	memset(&out, 0, sizeof(out));
	return correlator_new(NULL, sink, &out);
}

static void settle(struct correlator *c)
{
	correlator_tick(c, T0 + 3600ull * 1000 * MS);
}

static const struct timeline *of_stream(uint32_t id)
{
	int i;

	for (i = 0; i < out.n && i < MAX_TL; i++)
		if (out.tl[i].stream_id == id)
			return &out.tl[i];
	return NULL;
}

static int hook_status(const struct timeline *tl, enum tl_hook hook)
{
	uint32_t i;

	for (i = 0; i < tl->n_events; i++)
		if (tl->events[i].hook == hook)
			return tl->events[i].status;
	return -1;
}

/* ---- records ------------------------------------------------------------ */

struct rec {
	uint64_t buf[(sizeof(struct ht_data_event) + HT_MAX_CAPTURE) / 8 + 1];
	size_t size;
};

struct cn {
	struct correlator *c;
	uint32_t tgid, tid;
	int32_t fd;
	uint64_t gen;
	uint32_t seq;
};

static void mk_hdr(struct ht_event_header *h, uint32_t type,
		   const struct cn *k, uint64_t ts)
{
	h->ts_ns = ts;
	h->type = type;
	h->tgid = k->tgid;
	h->tid = k->tid;
	snprintf(h->comm, sizeof(h->comm), "h2client");
}

static struct ht_addr v4(uint8_t d, uint16_t port)
{
	struct ht_addr x = { .family = AF_INET, .port = port };

	x.addr[0] = 10;
	x.addr[3] = d;
	return x;
}

static void conn_ev(struct cn *k, uint32_t type, uint64_t ts)
{
	struct rec r;
	struct ht_conn_event *ev = (void *)r.buf;

	memset(r.buf, 0, sizeof(*ev));
	mk_hdr(&ev->hdr, type, k, ts);
	ev->conn.tgid = k->tgid;
	ev->conn.fd = k->fd;
	ev->conn.gen = k->gen;
	ev->seq = k->seq++;
	ev->role = type == HT_EV_ACCEPT ? HT_ROLE_SERVER : HT_ROLE_CLIENT;
	ev->saddr = v4(2, 40000);
	ev->daddr = v4(1, 80);
	CHECK_INT(correlator_push(k->c, r.buf, sizeof(*ev)), 0);
}

static void io_cap(struct cn *k, int dir, uint64_t enter, uint64_t ts,
		   const void *bytes, size_t cap, size_t len);

static void io(struct cn *k, int dir, uint64_t enter, uint64_t ts,
	       const void *bytes, size_t len)
{
	io_cap(k, dir, enter, ts, bytes, len, len);
}

/* A record of which only the first `cap` bytes were captured. */
static void io_cap(struct cn *k, int dir, uint64_t enter, uint64_t ts,
		   const void *bytes, size_t cap, size_t len)
{
	struct rec r;
	struct ht_data_event *ev = (void *)r.buf;

	memset(r.buf, 0, sizeof(*ev));
	mk_hdr(&ev->hdr, HT_EV_DATA, k, ts);
	ev->conn.tgid = k->tgid;
	ev->conn.fd = k->fd;
	ev->conn.gen = k->gen;
	ev->seq = k->seq++;
	ev->direction = (uint8_t)dir;
	ev->call = dir == HT_DIR_EGRESS ? HT_IO_WRITE : HT_IO_READ;
	ev->enter_ns = enter;
	ev->ret = (int64_t)len;
	ev->captured_len = (uint32_t)cap;
	memcpy(ev->data, bytes, cap);
	CHECK_INT(correlator_push(k->c, r.buf, sizeof(*ev) + cap), 0);
}

static struct cn client(struct correlator *c)
{
	struct cn k = { .c = c, .tgid = 100, .tid = 101, .fd = 5, .gen = T0 };

	conn_ev(&k, HT_EV_CONNECT_START, T0);
	conn_ev(&k, HT_EV_CONNECT_DONE, T0 + 100 * US);
	return k;
}

static struct cn server(struct correlator *c)
{
	struct cn k = { .c = c, .tgid = 200, .tid = 201, .fd = 7, .gen = T0 };

	conn_ev(&k, HT_EV_ACCEPT, T0);
	return k;
}

/* ---- frames ------------------------------------------------------- */

/* What one side writes: frames appended, then sent as one record. */
struct wire {
	uint8_t b[8192];
	size_t n;
};

/* Each side's HPACK encoder lives as long as the connection. */
static nghttp2_hd_deflater *enc[2];

static void encoders(void)
{
	int i;

	for (i = 0; i < 2; i++) {
		if (enc[i])
			nghttp2_hd_deflate_del(enc[i]);
		nghttp2_hd_deflate_new(&enc[i], 4096);
	}
}

static void frame(struct wire *w, uint8_t type, uint8_t flags, uint32_t sid,
		  const void *payload, size_t len)
{
	uint8_t *p = w->b + w->n;

	p[0] = (uint8_t)(len >> 16);
	p[1] = (uint8_t)(len >> 8);
	p[2] = (uint8_t)len;
	p[3] = type;
	p[4] = flags;
	p[5] = (uint8_t)(sid >> 24 & 0x7f);
	p[6] = (uint8_t)(sid >> 16);
	p[7] = (uint8_t)(sid >> 8);
	p[8] = (uint8_t)sid;
	if (len)
		memcpy(p + 9, payload, len);
	w->n += 9 + len;
}

static void preface(struct wire *w)
{
	static const char pri[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

	memcpy(w->b + w->n, pri, 24);
	w->n += 24;
	frame(w, 0x4, 0, 0, NULL, 0);
}

/* A header block from name, value pairs (NULL-terminated), by the
 * encoder of `side` (0 client, 1 server). */
static void headers(struct wire *w, int side, uint8_t flags, uint32_t sid,
		    const char *const *pairs)
{
	nghttp2_nv nv[16];
	uint8_t block[4096];
	size_t n = 0;
	ssize_t len;

	for (; pairs[0]; pairs += 2, n++) {
		nv[n].name = (uint8_t *)pairs[0];
		nv[n].value = (uint8_t *)pairs[1];
		nv[n].namelen = strlen(pairs[0]);
		nv[n].valuelen = strlen(pairs[1]);
		nv[n].flags = NGHTTP2_NV_FLAG_NONE;
	}
	len = nghttp2_hd_deflate_hd(enc[side], block, sizeof(block), nv, n);
	if (len < 0) {
		UNIT_FAIL_("deflate: %zd", len);
		return;
	}
	frame(w, 0x1, flags | 0x4, sid, block, (size_t)len);
}

static void u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void rst(struct wire *w, uint32_t sid, uint32_t code)
{
	uint8_t p[4];

	u32(p, code);
	frame(w, 0x3, 0, sid, p, 4);
}

static void goaway(struct wire *w, uint32_t last, uint32_t code)
{
	uint8_t p[8];

	u32(p, last);
	u32(p + 4, code);
	frame(w, 0x7, 0, 0, p, 8);
}

static void put(struct cn *k, int dir, uint64_t enter, uint64_t ts,
		 struct wire *w)
{
	io(k, dir, enter, ts, w->b, w->n);
	w->n = 0;
}

#define OUT HT_DIR_EGRESS
#define IN HT_DIR_INGRESS
#define END_STREAM 0x1

static const char *const get1[] = {
	":method", "GET", ":scheme", "http", ":path", "/one?token=secret",
	":authority", "example.test", "authorization", "Bearer x", NULL,
};
static const char *const get3[] = {
	":method", "GET", ":scheme", "http", ":path", "/three",
	":authority", "example.test", NULL,
};
static const char *const ok200[] = {
	":status", "200", "content-type", "text/plain", NULL,
};

/* ---- tests -------------------------------------------------------- */

/* Two streams at once, answered in the other order: each its own
 * timeline; the first carries the connect, the second is reused. */
static void test_two_concurrent_streams(void)
{
	struct correlator *c = setup();
	struct cn k = client(c);
	struct wire w = { .n = 0 };
	const struct timeline *s1, *s3;
	static const uint8_t five[5] = "hello";

	encoders();
	preface(&w);
	headers(&w, 0, END_STREAM, 1, get1);
	put(&k, OUT, T0 + 200 * US, T0 + 250 * US, &w);
	headers(&w, 0, END_STREAM, 3, get3);
	put(&k, OUT, T0 + 300 * US, T0 + 320 * US, &w);
	frame(&w, 0x4, 0, 0, NULL, 0);
	headers(&w, 1, 0, 3, ok200);
	put(&k, IN, T0 + 260 * US, T0 + 500 * US, &w);
	frame(&w, 0x0, END_STREAM, 3, five, 5);
	put(&k, IN, T0 + 510 * US, T0 + 600 * US, &w);
	headers(&w, 1, 0, 1, ok200);
	frame(&w, 0x0, END_STREAM, 1, five, 5);
	put(&k, IN, T0 + 610 * US, T0 + 900 * US, &w);
	settle(c);
	ASSERT_INT(out.n, 2);
	CHECK_INT(out.tl[0].stream_id, 3); /* ended first */
	s1 = of_stream(1);
	s3 = of_stream(3);
	ASSERT(s1 && s3);

	CHECK_STR(s1->version, "HTTP/2");
	CHECK_STR(s1->method, "GET");
	CHECK_STR(s1->target, "/one?token=secret");
	CHECK_STR(s1->host, "example.test");
	CHECK_INT(s1->status, 200);
	CHECK(!s1->reused);
	CHECK(s1->complete);
	CHECK_STR(s1->error, "");
	CHECK_STR(hooks(s1), "GetConn,ConnectStart,ConnectDone,GotConn,"
			     "WroteHeaders,WroteRequest,GotFirstResponseByte");
	CHECK_INT(hook_ts(s1, TL_GetConn), T0);
	CHECK_INT(hook_ts(s1, TL_GotConn), T0 + 100 * US);
	CHECK_INT(hook_ts(s1, TL_WroteHeaders), T0 + 250 * US);
	CHECK_INT(hook_ts(s1, TL_WroteRequest), T0 + 250 * US);
	CHECK_INT(hook_ts(s1, TL_GotFirstResponseByte), T0 + 900 * US);
	CHECK_INT(s1->end_ns, T0 + 900 * US);
	CHECK_INT(s1->phase_us[TL_PHASE_CONNECT], 100);
	CHECK_INT(s1->phase_us[TL_PHASE_SEND], 50);
	CHECK_INT(s1->phase_us[TL_PHASE_WAIT], 650);
	CHECK_INT(s1->grpc, false);
	CHECK_INT(s1->response_bytes, out.tl[1].response_bytes);

	CHECK_STR(s3->target, "/three");
	CHECK(s3->reused);
	CHECK_INT(s3->idle_us, -1); /* stream 1 was open: not idle */
	CHECK_STR(hooks(s3), "GetConn,GotConn,WroteHeaders,WroteRequest,"
			     "GotFirstResponseByte");
	CHECK_INT(hook_ts(s3, TL_GetConn), T0 + 300 * US);
	CHECK_INT(hook_ts(s3, TL_WroteRequest), T0 + 320 * US);
	CHECK_INT(hook_ts(s3, TL_GotFirstResponseByte), T0 + 500 * US);
	CHECK_INT(s3->end_ns, T0 + 600 * US);
	CHECK_INT(s3->phase_us[TL_PHASE_SEND], 20);
	CHECK_INT(s3->phase_us[TL_PHASE_WAIT], 180);
	CHECK_INT(s3->phase_us[TL_PHASE_RECEIVE], 100);
	/* the stream's header blocks and DATA payloads */
	CHECK_INT(s3->response_bytes, out.tl[0].response_bytes);
	CHECK(s3->response_bytes > 5);

	/* the connection's close after its streams: nothing more */
	conn_ev(&k, HT_EV_CLOSE, T0 + 950 * US);
	correlator_flush(c);
	CHECK_INT(out.n, 2);
	correlator_free(c);
}

/* A later stream on an idle connection: reused, idle since the last
 * stream ended. */
static void test_reused_connection(void)
{
	struct correlator *c = setup();
	struct cn k = client(c);
	struct wire w = { .n = 0 };

	encoders();
	preface(&w);
	headers(&w, 0, END_STREAM, 1, get1);
	put(&k, OUT, T0 + 200 * US, T0 + 250 * US, &w);
	headers(&w, 1, END_STREAM, 1, ok200);
	put(&k, IN, T0 + 300 * US, T0 + 400 * US, &w);
	headers(&w, 0, END_STREAM, 3, get3);
	put(&k, OUT, T0 + 1400 * US, T0 + 1450 * US, &w);
	headers(&w, 1, END_STREAM, 3, ok200);
	put(&k, IN, T0 + 1460 * US, T0 + 1600 * US, &w);
	settle(c);
	ASSERT_INT(out.n, 2);
	CHECK_INT(out.tl[0].stream_id, 1);
	CHECK_INT(out.tl[1].stream_id, 3);
	CHECK(!out.tl[0].reused);
	CHECK(out.tl[1].reused);
	CHECK_INT(out.tl[1].idle_us, 1000);
	CHECK_STR(out.tl[1].target, "/three"); /* the dynamic table held */
	CHECK_INT(out.tl[1].start_ns, T0 + 1400 * US);
	CHECK_INT(out.tl[1].phase_us[TL_PHASE_TOTAL], 200);
	correlator_free(c);
}

static void open_two(struct cn *k, struct wire *w)
{
	preface(w);
	headers(w, 0, END_STREAM, 1, get1);
	headers(w, 0, END_STREAM, 3, get3);
	put(k, OUT, T0 + 200 * US, T0 + 250 * US, w);
}

static void test_rst_stream(void)
{
	struct correlator *c = setup();
	struct cn k = client(c);
	struct wire w = { .n = 0 };
	const struct timeline *s1, *s3;

	encoders();
	open_two(&k, &w);
	headers(&w, 1, 0, 1, ok200);
	rst(&w, 1, 0x8); /* CANCEL */
	put(&k, IN, T0 + 300 * US, T0 + 400 * US, &w);
	rst(&w, 3, 0x8);
	put(&k, OUT, T0 + 500 * US, T0 + 510 * US, &w);
	settle(c);
	ASSERT_INT(out.n, 2);
	s1 = of_stream(1);
	s3 = of_stream(3);
	ASSERT(s1 && s3);
	CHECK_STR(s1->error, "stream reset by the server (RST_STREAM CANCEL)");
	CHECK_INT(s1->error_kind, TL_ERR_STREAM_RESET);
	CHECK_INT(s1->status, 200);
	CHECK(s1->complete);
	CHECK_INT(s1->end_ns, T0 + 400 * US);
	CHECK_STR(s3->error, "stream reset by the client (RST_STREAM CANCEL)");
	CHECK_STR(tl_error_label(s3->error_kind), "stream_reset");
	CHECK_INT(s3->end_ns, T0 + 510 * US);
	correlator_free(c);
}

/* GOAWAY: the streams above its last id end at once; those below,
 * when the connection then closes. */
static void test_goaway(void)
{
	struct correlator *c = setup();
	struct cn k = client(c);
	struct wire w = { .n = 0 };
	const struct timeline *s1, *s3;

	encoders();
	open_two(&k, &w);
	goaway(&w, 1, 0x1);
	put(&k, IN, T0 + 300 * US, T0 + 400 * US, &w);
	settle(c);
	ASSERT_INT(out.n, 1);
	s3 = of_stream(3);
	ASSERT(s3 != NULL);
	CHECK_STR(s3->error,
		  "stream not processed: GOAWAY (PROTOCOL_ERROR) from the "
		  "server");
	CHECK_STR(tl_error_label(s3->error_kind), "goaway");
	CHECK_INT(s3->end_ns, T0 + 400 * US);
	conn_ev(&k, HT_EV_CLOSE, T0 + 500 * US);
	settle(c);
	ASSERT_INT(out.n, 2);
	s1 = of_stream(1);
	ASSERT(s1 != NULL);
	CHECK_STR(s1->error, "connection closed by GOAWAY (PROTOCOL_ERROR) "
			     "before the response");
	CHECK_INT(s1->error_kind, TL_ERR_GOAWAY);
	CHECK_INT(s1->end_ns, T0 + 500 * US);
	CHECK(s1->complete);
	correlator_flush(c);
	CHECK_INT(out.n, 2);
	correlator_free(c);
}

static const char *const grpc_req[] = {
	":method", "POST", ":scheme", "http", ":path", "/pkg.Greeter/Hello",
	":authority", "127.0.0.1:50051", "content-type", "application/grpc",
	"te", "trailers", NULL,
};
static const char *const grpc_resp[] = {
	":status", "200", "content-type", "application/grpc", NULL,
};
static const char *const grpc_ok[] = { "grpc-status", "0", NULL };
static const char *const grpc_not_found[] = {
	":status", "200", "content-type", "application/grpc+proto",
	"grpc-status", "5", "grpc-message", "no such greeting", NULL,
};

/* gRPC: the status in the trailers; a failing call's in the only
 * header block (trailers-only). */
static void test_grpc(void)
{
	struct correlator *c = setup();
	struct cn k = client(c);
	struct wire w = { .n = 0 };
	static const uint8_t msg[7] = { 0, 0, 0, 0, 2, 0x0a, 0 };
	const struct timeline *s1, *s3;

	encoders();
	preface(&w);
	headers(&w, 0, 0, 1, grpc_req);
	frame(&w, 0x0, END_STREAM, 1, msg, sizeof(msg));
	put(&k, OUT, T0 + 200 * US, T0 + 250 * US, &w);
	headers(&w, 1, 0, 1, grpc_resp);
	frame(&w, 0x0, 0, 1, msg, sizeof(msg));
	put(&k, IN, T0 + 300 * US, T0 + 400 * US, &w);
	headers(&w, 0, 0, 3, grpc_req);
	frame(&w, 0x0, END_STREAM, 3, msg, sizeof(msg));
	put(&k, OUT, T0 + 410 * US, T0 + 420 * US, &w);
	headers(&w, 1, END_STREAM, 1, grpc_ok);
	put(&k, IN, T0 + 450 * US, T0 + 500 * US, &w);
	headers(&w, 1, END_STREAM, 3, grpc_not_found);
	put(&k, IN, T0 + 510 * US, T0 + 600 * US, &w);
	settle(c);
	ASSERT_INT(out.n, 2);
	s1 = of_stream(1);
	s3 = of_stream(3);
	ASSERT(s1 && s3);
	CHECK_STR(s1->method, "POST");
	CHECK_STR(s1->target, "/pkg.Greeter/Hello");
	CHECK_STR(s1->host, "127.0.0.1:50051");
	CHECK(s1->grpc);
	CHECK_INT(s1->grpc_status, 0);
	CHECK(!s1->grpc_message_seen);
	CHECK_INT(s1->end_ns, T0 + 500 * US); /* the trailers' END_STREAM */
	CHECK_INT(hook_ts(s1, TL_WroteRequest), T0 + 250 * US);
	CHECK_INT(hook_ts(s1, TL_GotFirstResponseByte), T0 + 400 * US);
	CHECK(s3->grpc);
	CHECK_INT(s3->grpc_status, 5);
	CHECK(s3->grpc_message_seen);
	CHECK_STR(s3->grpc_message, "no such greeting");
	CHECK_INT(s3->status, 200);
	CHECK_STR(s3->error, ""); /* an answer, not a transport error */
	correlator_free(c);
}

/* A server: the request read, the response written. */
static void test_server_role(void)
{
	struct correlator *c = setup();
	struct cn k = server(c);
	struct wire w = { .n = 0 };
	static const uint8_t body[3] = "abc";
	const struct timeline *tl;

	encoders();
	frame(&w, 0x4, 0, 0, NULL, 0);
	put(&k, OUT, T0 + 50 * US, T0 + 60 * US, &w);
	preface(&w);
	headers(&w, 0, END_STREAM, 1, get1);
	put(&k, IN, T0 + 100 * US, T0 + 300 * US, &w);
	headers(&w, 1, 0, 1, ok200);
	put(&k, OUT, T0 + 500 * US, T0 + 520 * US, &w);
	frame(&w, 0x0, END_STREAM, 1, body, 3);
	put(&k, OUT, T0 + 600 * US, T0 + 650 * US, &w);
	settle(c);
	ASSERT_INT(out.n, 1);
	tl = &out.tl[0];
	CHECK_INT(tl->role, HT_ROLE_SERVER);
	CHECK_INT(tl->stream_id, 1);
	CHECK_STR(tl->method, "GET");
	CHECK_INT(tl->status, 200);
	CHECK_STR(hooks(tl), "GetConn,GotConn,WroteHeaders,WroteRequest,"
			     "GotFirstResponseByte");
	CHECK_INT(hook_ts(tl, TL_GetConn), T0 + 300 * US);
	CHECK_INT(hook_ts(tl, TL_WroteRequest), T0 + 300 * US);
	CHECK_INT(hook_ts(tl, TL_GotFirstResponseByte), T0 + 500 * US);
	CHECK_INT(tl->end_ns, T0 + 650 * US);
	CHECK_INT(tl->phase_us[TL_PHASE_WAIT], 200);
	CHECK_INT(tl->phase_us[TL_PHASE_RECEIVE], 150);
	correlator_free(c);
}

/* Records lost with a stream open: it ends incomplete, with words; the
 * next stream is followed again. */
static void test_gap_incomplete(void)
{
	struct correlator *c = setup();
	struct cn k = client(c);
	struct wire w = { .n = 0 };

	encoders();
	preface(&w);
	headers(&w, 0, END_STREAM, 1, get1);
	put(&k, OUT, T0 + 200 * US, T0 + 250 * US, &w);
	k.seq++; /* one record lost */
	headers(&w, 1, 0, 1, ok200);
	put(&k, IN, T0 + 300 * US, T0 + 400 * US, &w);
	settle(c);
	ASSERT_INT(out.n, 1);
	CHECK_INT(out.tl[0].stream_id, 1);
	CHECK(!out.tl[0].complete);
	CHECK_STR(out.tl[0].error, "records lost: HTTP/2 stream state unknown");
	CHECK_INT(out.tl[0].error_kind, TL_ERR_RECORDS_LOST);
	CHECK_INT(out.tl[0].end_ns, T0 + 250 * US);
	CHECK_INT(out.tl[0].status, 0); /* never guessed */
	/* both directions lost their frames' boundaries: counted */
	CHECK_INT(correlator_stats(c)->h2_frames_lost, 2);
	correlator_flush(c);
	correlator_free(c);
}

/* A write captured in part: its frames after the capture are lost, the
 * stream stays open (incomplete) and the response still ends it; then
 * a header block cut by the capture. */
static void test_capture_cut(void)
{
	static const uint8_t body[100] = "x";
	struct correlator *c = setup();
	struct cn k = client(c);
	struct wire w = { .n = 0 };
	const struct timeline *tl;
	size_t cut;

	encoders();
	preface(&w);
	headers(&w, 0, 0, 1, get1);
	cut = w.n + 4; /* inside the DATA frame's header */
	frame(&w, 0x0, END_STREAM, 1, body, sizeof(body));
	io_cap(&k, OUT, T0 + 200 * US, T0 + 250 * US, w.b, cut, w.n);
	w.n = 0;
	headers(&w, 1, END_STREAM, 1, ok200);
	put(&k, IN, T0 + 300 * US, T0 + 400 * US, &w);
	settle(c);
	ASSERT_INT(out.n, 1);
	tl = &out.tl[0];
	CHECK_STR(tl->method, "GET");
	CHECK_INT(tl->status, 200);
	CHECK(!tl->complete);
	CHECK_STR(tl->error, "HTTP/2 frames lost: stream state unknown");
	CHECK_INT(tl->error_kind, TL_ERR_INCOMPLETE);
	CHECK_INT(hook_ts(tl, TL_WroteRequest), 0); /* not seen */
	CHECK_INT(tl->end_ns, T0 + 400 * US);
	CHECK_INT(correlator_stats(c)->h2_frames_lost, 1);
	correlator_free(c);

	/* the response's frames lost, then the client's RST_STREAM
	 * STREAM_CLOSED: its end was among them, not a reset */
	c = setup();
	k = client(c);
	encoders();
	preface(&w);
	headers(&w, 0, END_STREAM, 1, get1);
	put(&k, OUT, T0 + 200 * US, T0 + 250 * US, &w);
	headers(&w, 1, 0, 1, ok200);
	cut = w.n + 4;
	frame(&w, 0x0, END_STREAM, 1, body, sizeof(body));
	io_cap(&k, IN, T0 + 300 * US, T0 + 400 * US, w.b, cut, w.n);
	w.n = 0;
	rst(&w, 1, 0x5);
	put(&k, OUT, T0 + 500 * US, T0 + 510 * US, &w);
	settle(c);
	ASSERT_INT(out.n, 1);
	tl = &out.tl[0];
	CHECK_INT(tl->status, 200);
	CHECK(!tl->complete);
	CHECK_STR(tl->error, "HTTP/2 frames lost: stream state unknown");
	CHECK_INT(tl->end_ns, T0 + 400 * US);
	correlator_free(c);

	/* a block cut after its first fields: those are shown */
	c = setup();
	k = client(c);
	encoders();
	preface(&w);
	headers(&w, 0, END_STREAM, 1, get1);
	io_cap(&k, OUT, T0 + 200 * US, T0 + 250 * US, w.b, w.n - 12, w.n);
	w.n = 0;
	headers(&w, 1, END_STREAM, 1, ok200);
	put(&k, IN, T0 + 300 * US, T0 + 400 * US, &w);
	settle(c);
	ASSERT_INT(out.n, 1);
	tl = &out.tl[0];
	CHECK_STR(tl->method, "GET");
	CHECK_INT(tl->status, 200);
	CHECK(!tl->complete);
	CHECK_STR(tl->error, "HTTP/2 header block not decoded whole");
	correlator_free(c);
}

/*
 * A server whose write is cut (a large body past what the kernel
 * follows): its frames are lost. A stream the client opens meanwhile
 * may have its response among the frames not seen either; the
 * client's RST_STREAM STREAM_CLOSED of it, once it has the response,
 * is no reset (e2e h2streams_curl_parallel_large under load: Node
 * answered stream 1 in a call of its own, then 3, 5 and 7).
 */
static void test_stream_opened_while_lost(void)
{
	static const uint8_t body[100] = "x";
	struct correlator *c = setup();
	struct cn k = server(c);
	struct wire w = { .n = 0 };
	const struct timeline *s1, *s3;
	size_t cut;

	encoders();
	preface(&w);
	headers(&w, 0, END_STREAM, 1, get1);
	put(&k, IN, T0 + 100 * US, T0 + 150 * US, &w);
	headers(&w, 1, 0, 1, ok200);
	cut = w.n + 4; /* inside the DATA frame's header */
	frame(&w, 0x0, END_STREAM, 1, body, sizeof(body));
	io_cap(&k, OUT, T0 + 200 * US, T0 + 250 * US, w.b, cut, w.n);
	w.n = 0;
	headers(&w, 0, END_STREAM, 3, get3);
	put(&k, IN, T0 + 300 * US, T0 + 350 * US, &w);
	/* its response, not captured: the frames stay lost */
	headers(&w, 1, END_STREAM, 3, ok200);
	io_cap(&k, OUT, T0 + 400 * US, T0 + 450 * US, w.b, 4, w.n);
	w.n = 0;
	rst(&w, 1, 0x5);
	rst(&w, 3, 0x5);
	put(&k, IN, T0 + 500 * US, T0 + 550 * US, &w);
	settle(c);
	ASSERT_INT(out.n, 2);
	s1 = of_stream(1);
	s3 = of_stream(3);
	ASSERT(s1 && s3);
	CHECK_STR(s1->error, "HTTP/2 frames lost: stream state unknown");
	CHECK_STR(s3->method, "GET");
	CHECK_STR(s3->target, "/three");
	CHECK(!s3->complete);
	CHECK_STR(s3->error, "HTTP/2 frames lost: stream state unknown");
	CHECK_INT(s3->error_kind, TL_ERR_INCOMPLETE);
	CHECK_INT(s3->end_ns, T0 + 350 * US); /* where last seen */
	correlator_free(c);
}

/* A record as the kernel sends it for a connection whose frames it
 * follows (bpf/h2.bpf.h): DATA payloads of 16 bytes or more left out,
 * HT_DATA_ELIDED. w holds whole frames. */
static void put_elided(struct cn *k, int dir, uint64_t enter, uint64_t ts,
		       struct wire *w)
{
	struct rec r;
	struct ht_data_event *ev = (void *)r.buf;
	struct ht_elided_run runs[HT_ELIDED_MAX_RUNS];
	uint32_t n = 0, kept = 0;
	size_t p = 0;

	memset(r.buf, 0, sizeof(*ev));
	mk_hdr(&ev->hdr, HT_EV_DATA, k, ts);
	ev->conn.tgid = k->tgid;
	ev->conn.fd = k->fd;
	ev->conn.gen = k->gen;
	ev->seq = k->seq++;
	ev->direction = (uint8_t)dir;
	ev->call = dir == HT_DIR_EGRESS ? HT_IO_WRITE : HT_IO_READ;
	ev->enter_ns = enter;
	ev->ret = (int64_t)w->n;
	while (p < w->n) {
		size_t len = (size_t)w->b[p] << 16 | w->b[p + 1] << 8 |
			     w->b[p + 2];

		memcpy(ev->data + kept, w->b + p, 9);
		kept += 9;
		if (w->b[p + 3] == 0x0 && len >= HT_ELIDED_MIN_RUN) {
			runs[n].at = (uint32_t)(p + 9);
			runs[n++].len = (uint32_t)len;
		} else {
			memcpy(ev->data + kept, w->b + p + 9, len);
			kept += (uint32_t)len;
		}
		p += 9 + len;
	}
	memcpy(ev->data + kept, runs, n * sizeof(runs[0]));
	memcpy(ev->data + kept + n * sizeof(runs[0]), &n, sizeof(n));
	ev->captured_len = kept + n * (uint32_t)sizeof(runs[0]) + 4;
	ev->flags = HT_DATA_ELIDED;
	CHECK_INT(correlator_push(k->c, r.buf,
				  sizeof(*ev) + ev->captured_len), 0);
	w->n = 0;
}

/* The kernel leaves DATA payloads out: a header block after a large
 * DATA frame in the same read is decoded whole, the body counted. */
static void test_elided_data(void)
{
	static uint8_t body[4000];
	static const uint8_t five[5] = "hello";
	struct correlator *c = setup();
	struct cn k = client(c);
	struct wire w = { .n = 0 };
	const struct timeline *s1, *s3;

	memset(body, 'x', sizeof(body));
	encoders();
	preface(&w);
	headers(&w, 0, END_STREAM, 1, get1);
	headers(&w, 0, END_STREAM, 3, get3);
	put(&k, OUT, T0 + 200 * US, T0 + 250 * US, &w);
	headers(&w, 1, 0, 1, ok200);
	frame(&w, 0x0, 0, 1, body, sizeof(body));
	headers(&w, 1, END_STREAM, 3, ok200);
	frame(&w, 0x0, END_STREAM, 1, five, sizeof(five));
	put_elided(&k, IN, T0 + 300 * US, T0 + 400 * US, &w);
	settle(c);
	ASSERT_INT(out.n, 2);
	s1 = of_stream(1);
	s3 = of_stream(3);
	ASSERT(s1 && s3);
	CHECK_INT(s1->status, 200);
	CHECK_INT(s3->status, 200);
	CHECK(s1->complete);
	CHECK(s3->complete);
	CHECK_STR(s1->error, "");
	CHECK_STR(s3->error, "");
	CHECK_STR(s3->target, "/three");
	CHECK(s1->response_bytes >= sizeof(body) + sizeof(five));
	correlator_free(c);
}

/* Upgrade: h2c: the HTTP/1 request is stream 1, answered by 101 and
 * then HTTP/2 frames. */
static void test_h2c_upgrade(void)
{
	static const char req[] =
		"GET /up HTTP/1.1\r\nHost: example.test\r\n"
		"Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
		"HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n";
	static const char sw[] =
		"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
		"Upgrade: h2c\r\n\r\n";
	static const uint8_t body[2] = "ok";
	struct correlator *c = setup();
	struct cn k = client(c);
	struct wire w = { .n = 0 };
	const struct timeline *tl;

	encoders();
	io(&k, OUT, T0 + 200 * US, T0 + 250 * US, req, strlen(req));
	memcpy(w.b, sw, strlen(sw));
	w.n = strlen(sw);
	frame(&w, 0x4, 0, 0, NULL, 0);
	headers(&w, 1, 0, 1, ok200);
	put(&k, IN, T0 + 300 * US, T0 + 400 * US, &w);
	preface(&w);
	put(&k, OUT, T0 + 410 * US, T0 + 420 * US, &w);
	frame(&w, 0x0, END_STREAM, 1, body, 2);
	put(&k, IN, T0 + 430 * US, T0 + 500 * US, &w);
	settle(c);
	ASSERT_INT(out.n, 1);
	tl = &out.tl[0];
	CHECK_INT(tl->stream_id, 1);
	CHECK_STR(tl->version, "HTTP/2");
	CHECK_STR(tl->method, "GET");
	CHECK_STR(tl->target, "/up");
	CHECK_INT(tl->status, 200);
	CHECK(tl->complete);
	CHECK(!tl->reused);
	CHECK_INT(hook_status(tl, TL_Got1xxResponse), 101);
	CHECK_INT(hook_ts(tl, TL_GotFirstResponseByte), T0 + 400 * US);
	CHECK_INT(tl->end_ns, T0 + 500 * US);
	correlator_free(c);
}

/* The same upgrade seen by the server: it reads the request, writes
 * the 101 and the response's frames, then reads the preface. */
static void test_h2c_upgrade_server(void)
{
	static const char req[] =
		"POST /up HTTP/1.1\r\nHost: example.test\r\n"
		"Content-Length: 2\r\n"
		"Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
		"HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\nhi";
	static const char sw[] =
		"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
		"Upgrade: h2c\r\n\r\n";
	static const uint8_t body[2] = "ok";
	struct correlator *c = setup();
	struct cn k = server(c);
	struct wire w = { .n = 0 };
	const struct timeline *tl;

	encoders();
	io(&k, IN, T0 + 100 * US, T0 + 200 * US, req, strlen(req));
	memcpy(w.b, sw, strlen(sw));
	w.n = strlen(sw);
	frame(&w, 0x4, 0, 0, NULL, 0);
	put(&k, OUT, T0 + 300 * US, T0 + 320 * US, &w);
	preface(&w);
	put(&k, IN, T0 + 330 * US, T0 + 340 * US, &w);
	headers(&w, 1, 0, 1, ok200);
	frame(&w, 0x0, END_STREAM, 1, body, 2);
	put(&k, OUT, T0 + 400 * US, T0 + 450 * US, &w);
	settle(c);
	ASSERT_INT(out.n, 1);
	tl = &out.tl[0];
	CHECK_INT(tl->role, HT_ROLE_SERVER);
	CHECK_INT(tl->stream_id, 1);
	CHECK_STR(tl->method, "POST");
	CHECK_INT(tl->status, 200);
	CHECK(tl->complete);
	CHECK_STR(hooks(tl), "GetConn,GotConn,WroteHeaders,WroteRequest,"
			     "GotFirstResponseByte,Got1xxResponse");
	CHECK_INT(hook_ts(tl, TL_WroteRequest), T0 + 200 * US);
	/* the 101's write is the response's first byte */
	CHECK_INT(hook_ts(tl, TL_GotFirstResponseByte), T0 + 300 * US);
	CHECK_INT(hook_status(tl, TL_Got1xxResponse), 101);
	CHECK_INT(tl->end_ns, T0 + 450 * US);
	/* waiting lasts until the final response's HEADERS */
	CHECK_INT(tl->phase_us[TL_PHASE_WAIT], 200);
	correlator_free(c);
}

/* 1xx header blocks before the final one. */
static void test_informational(void)
{
	static const char *const early[] = { ":status", "103", NULL };
	struct correlator *c = setup();
	struct cn k = client(c);
	struct wire w = { .n = 0 };
	const struct timeline *tl;

	encoders();
	preface(&w);
	headers(&w, 0, END_STREAM, 1, get1);
	put(&k, OUT, T0 + 200 * US, T0 + 250 * US, &w);
	headers(&w, 1, 0, 1, early);
	put(&k, IN, T0 + 260 * US, T0 + 300 * US, &w);
	headers(&w, 1, END_STREAM, 1, ok200);
	put(&k, IN, T0 + 310 * US, T0 + 500 * US, &w);
	settle(c);
	ASSERT_INT(out.n, 1);
	tl = &out.tl[0];
	CHECK_INT(tl->status, 200);
	CHECK_INT(hook_status(tl, TL_Got1xxResponse), 103);
	CHECK_INT(hook_ts(tl, TL_Got1xxResponse), T0 + 300 * US);
	CHECK_INT(hook_ts(tl, TL_GotFirstResponseByte), T0 + 300 * US);
	/* waiting lasts until the final response */
	CHECK_INT(tl->phase_us[TL_PHASE_WAIT], 250);
	correlator_free(c);
}

/* The peer closes with a stream open; the report of a connection
 * without streams is kept. */
static void test_closed_and_no_streams(void)
{
	struct correlator *c = setup();
	struct cn k = client(c);
	struct cn k2 = client(c);
	struct wire w = { .n = 0 };

	encoders();
	preface(&w);
	headers(&w, 0, END_STREAM, 1, get1);
	put(&k, OUT, T0 + 200 * US, T0 + 250 * US, &w);
	io(&k, IN, T0 + 300 * US, T0 + 400 * US, "", 0);
	settle(c);
	ASSERT_INT(out.n, 1);
	CHECK_STR(out.tl[0].error, "connection closed by peer before response");
	CHECK_INT(out.tl[0].error_kind, TL_ERR_CONNECTION_CLOSED);

	k2.fd = 6;
	k2.seq = 0;
	conn_ev(&k2, HT_EV_CONNECT_START, T0);
	conn_ev(&k2, HT_EV_CONNECT_DONE, T0 + 100 * US);
	preface(&w);
	put(&k2, OUT, T0 + 200 * US, T0 + 250 * US, &w);
	conn_ev(&k2, HT_EV_CLOSE, T0 + 300 * US);
	settle(c);
	ASSERT_INT(out.n, 2);
	CHECK_INT(out.tl[1].stream_id, 0);
	CHECK_STR(out.tl[1].version, "HTTP/2");
	CHECK_STR(out.tl[1].method, "");
	correlator_free(c);
}

/* Streams and the decoder's state are counted while held and given
 * back when the connection goes. */
static void test_memory(void)
{
	struct correlator *c = setup();
	struct cn k = client(c);
	struct wire w = { .n = 0 };
	uint64_t before, during, after;
	int i;

	encoders();
	settle(c);
	before = correlator_stats(c)->held_bytes;
	preface(&w);
	put(&k, OUT, T0 + 150 * US, T0 + 160 * US, &w);
	for (i = 0; i < 300; i++) {
		headers(&w, 0, END_STREAM, 1 + 2 * (uint32_t)i, get3);
		put(&k, OUT, T0 + (200 + i) * US, T0 + (200 + i) * US, &w);
	}
	settle(c);
	during = correlator_stats(c)->held_bytes;
	CHECK(during > before);
	/* beyond the cap the oldest streams were given up, with words */
	CHECK_INT(out.n, 300 - 256);
	CHECK_STR(out.tl[0].error, "too many concurrent HTTP/2 streams");
	conn_ev(&k, HT_EV_CLOSE, T0 + 900 * US);
	settle(c);
	CHECK_INT(out.n, 300);
	after = correlator_stats(c)->held_bytes;
	/* the same again on a new connection: what the first held is
	 * given back or kept as spares, counted alike */
	k.fd = 6;
	k.seq = 0;
	conn_ev(&k, HT_EV_CONNECT_START, T0 + 1000 * US);
	conn_ev(&k, HT_EV_CONNECT_DONE, T0 + 1100 * US);
	encoders();
	preface(&w);
	put(&k, OUT, T0 + 1150 * US, T0 + 1160 * US, &w);
	for (i = 0; i < 300; i++) {
		headers(&w, 0, END_STREAM, 1 + 2 * (uint32_t)i, get3);
		put(&k, OUT, T0 + (1200 + i) * US, T0 + (1200 + i) * US, &w);
	}
	conn_ev(&k, HT_EV_CLOSE, T0 + 1900 * US);
	settle(c);
	CHECK_INT(out.n, 600);
	CHECK_INT(correlator_stats(c)->held_bytes, after);
	correlator_free(c);
}

int main(int argc, char **argv)
{
	unit_args(argc, argv);
	RUN(test_two_concurrent_streams);
	RUN(test_reused_connection);
	RUN(test_rst_stream);
	RUN(test_goaway);
	RUN(test_grpc);
	RUN(test_server_role);
	RUN(test_gap_incomplete);
	RUN(test_capture_cut);
	RUN(test_stream_opened_while_lost);
	RUN(test_elided_data);
	RUN(test_h2c_upgrade);
	RUN(test_h2c_upgrade_server);
	RUN(test_informational);
	RUN(test_closed_and_no_streams);
	RUN(test_memory);
	encoders();
	nghttp2_hd_deflate_del(enc[0]);
	nghttp2_hd_deflate_del(enc[1]);
	return unit_done("h2_stitch");
}
