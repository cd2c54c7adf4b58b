// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Unit tests for the HTTP/2 frame decoder (proto/http2/h2_frame.h).
 * Header blocks are made by libnghttp2's HPACK deflater, as a real peer
 * would, so that what the decoder should find is what the test put in,
 * not bytes written down here.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <nghttp2/nghttp2.h>

#include "proto/http2/h2_frame.h"
#include "proto/http2/h2_hpack.h"
#include "unit.h"

#define MAX_SEEN 64
#define BUF_MAX 65536

/* ---- what the decoder reported ----------------------------------------- */

struct seen {
	struct h2_frame f;
	enum h2_dir dir;
	bool has_fields;
	struct h2_fields fields;
};

struct recorder {
	struct seen s[MAX_SEEN];
	int n;
	int overflow;
};

static void on_frame(void *user, enum h2_dir dir, const struct h2_frame *f)
{
	struct recorder *r = user;
	struct seen *s;

	if (r->n == MAX_SEEN) {
		r->overflow++;
		return;
	}
	s = &r->s[r->n++];
	memset(s, 0, sizeof(*s));
	s->f = *f;
	s->f.fields = NULL;
	s->dir = dir;
	if (f->fields) {
		s->has_fields = true;
		s->fields = *f->fields;
	}
}

static void feed(struct h2_decoder *d, struct recorder *r, enum h2_dir dir,
		 const uint8_t *p, size_t n)
{
	h2_decoder_feed(d, dir, p, n, n, 0, 0, on_frame, r);
}

/* The number of reports of a type. */
static int count(const struct recorder *r, enum h2_frame_type type)
{
	int n = 0;

	for (int i = 0; i < r->n; i++)
		n += r->s[i].f.type == type;
	return n;
}

/* The i-th report of a type, or NULL. */
static const struct seen *nth(const struct recorder *r,
			      enum h2_frame_type type, int i)
{
	for (int k = 0; k < r->n; k++)
		if (r->s[k].f.type == type && i-- == 0)
			return &r->s[k];
	return NULL;
}

/* ---- building the bytes ------------------------------------------------ */

struct buf {
	uint8_t b[BUF_MAX];
	size_t n;
};

static void put(struct buf *b, const void *p, size_t n)
{
	if (b->n + n > sizeof(b->b))
		abort();
	if (!n)
		return;
	memcpy(b->b + b->n, p, n);
	b->n += n;
}

static void put_frame(struct buf *b, uint8_t type, uint8_t flags,
		      uint32_t stream, const void *payload, size_t len)
{
	uint8_t h[9] = {
		(uint8_t)(len >> 16),
		(uint8_t)(len >> 8),
		(uint8_t)len,
		type,
		flags,
		(uint8_t)(stream >> 24),
		(uint8_t)(stream >> 16),
		(uint8_t)(stream >> 8),
		(uint8_t)stream,
	};

	put(b, h, sizeof(h));
	put(b, payload, len);
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void put_preface(struct buf *b)
{
	put(b, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 24);
}

static void put_settings(struct buf *b, uint16_t id, uint32_t v)
{
	uint8_t e[6] = { (uint8_t)(id >> 8), (uint8_t)id };

	put_be32(e + 2, v);
	put_frame(b, H2_SETTINGS, 0, 0, e, id ? sizeof(e) : 0);
}

#define NV(n, v)                                                              \
	{                                                                     \
		(uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, sizeof(v) - 1, \
			NGHTTP2_NV_FLAG_NONE                                  \
	}
#define NV_LITERAL(n, v)                                                      \
	{                                                                     \
		(uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, sizeof(v) - 1, \
			NGHTTP2_NV_FLAG_NO_INDEX                              \
	}

struct block {
	uint8_t b[BUF_MAX / 2];
	size_t n;
};

static void deflate(nghttp2_hd_deflater *def, struct block *out,
		    const nghttp2_nv *nv, size_t n)
{
	ssize_t rv = nghttp2_hd_deflate_hd(def, out->b, sizeof(out->b), nv, n);

	if (rv < 0)
		abort();
	out->n = (size_t)rv;
}

static nghttp2_hd_deflater *deflater(size_t table)
{
	nghttp2_hd_deflater *def = NULL;

	if (nghttp2_hd_deflate_new(&def, table))
		abort();
	return def;
}

static const nghttp2_nv req_get[] = {
	NV(":method", "GET"),
	NV(":scheme", "https"),
	NV(":authority", "api.example.com"),
	NV(":path", "/v1/items?id=7"),
	NV("user-agent", "test/1.0"),
	NV("accept", "*/*"),
};

static const nghttp2_nv resp_200[] = {
	NV(":status", "200"),
	NV("content-type", "application/grpc"),
	NV("server", "unit"),
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* A request stream: preface, SETTINGS, HEADERS of req_get on stream 1,
 * a DATA frame of 100 bytes with END_STREAM, a PING. */
static void client_stream(struct buf *b)
{
	nghttp2_hd_deflater *def = deflater(4096);
	struct block blk;
	uint8_t data[100] = { 0 }, ping[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };

	put_preface(b);
	put_settings(b, 0x3, 100);
	deflate(def, &blk, req_get, N(req_get));
	put_frame(b, H2_HEADERS, H2_FLAG_END_HEADERS, 1, blk.b, blk.n);
	put_frame(b, H2_DATA, H2_FLAG_END_STREAM, 1, data, sizeof(data));
	put_frame(b, H2_PING, 0, 0, ping, sizeof(ping));
	nghttp2_hd_deflate_del(def);
}

static void check_client_stream(const struct recorder *r)
{
	const struct seen *h = nth(r, H2_HEADERS, 0);
	const struct seen *d = nth(r, H2_DATA, 0);

	CHECK_INT(r->n, 4);
	CHECK_INT(count(r, H2_FRAME_LOST), 0);
	CHECK_INT(count(r, H2_SETTINGS), 1);
	CHECK_INT(count(r, H2_PING), 1);
	if (!h || !d) {
		CHECK(h && d);
		return;
	}
	CHECK(h->has_fields);
	CHECK_STR(h->fields.method, "GET");
	CHECK_STR(h->fields.path, "/v1/items?id=7");
	CHECK_STR(h->fields.authority, "api.example.com");
	CHECK(!h->fields.unknown);
	CHECK_INT(h->fields.n_fields, N(req_get));
	CHECK_INT(h->f.stream_id, 1);
	CHECK_INT(d->f.length, 100);
	CHECK_INT(d->f.flags, H2_FLAG_END_STREAM);
	CHECK_INT(d->f.stream_id, 1);
}

/* ---- tests ------------------------------------------------------------- */

static void test_whole_stream(void)
{
	struct h2_decoder *d = h2_decoder_new();
	struct recorder r = { 0 };
	static struct buf b;

	ASSERT(d != NULL);
	b.n = 0;
	client_stream(&b);
	feed(d, &r, H2_FROM_CLIENT, b.b, b.n);
	check_client_stream(&r);
	h2_decoder_free(d);
}

static void test_preface_byte_by_byte(void)
{
	struct h2_decoder *d = h2_decoder_new();
	struct recorder r = { 0 };
	static struct buf b;

	ASSERT(d != NULL);
	b.n = 0;
	client_stream(&b);
	for (size_t i = 0; i < b.n; i++)
		feed(d, &r, H2_FROM_CLIENT, b.b + i, 1);
	check_client_stream(&r);
	h2_decoder_free(d);
}

static void test_split_at_every_offset(void)
{
	static struct buf b;

	b.n = 0;
	client_stream(&b);
	for (size_t i = 0; i <= b.n; i++) {
		for (size_t j = i; j <= b.n; j += 7) {
			struct h2_decoder *d = h2_decoder_new();
			struct recorder r = { 0 };
			int before = unit_failed_checks;

			ASSERT(d != NULL);
			feed(d, &r, H2_FROM_CLIENT, b.b, i);
			feed(d, &r, H2_FROM_CLIENT, b.b + i, j - i);
			feed(d, &r, H2_FROM_CLIENT, b.b + j, b.n - j);
			check_client_stream(&r);
			h2_decoder_free(d);
			if (unit_failed_checks != before) {
				fprintf(stderr, "split at %zu, %zu\n", i, j);
				return;
			}
		}
	}
}

/* The times of the record a frame began in and of the one ending it. */
static void test_frame_times(void)
{
	struct h2_decoder *d = h2_decoder_new();
	struct recorder r = { 0 };
	static struct buf b;
	uint8_t data[300] = { 0 };

	ASSERT(d != NULL);
	b.n = 0;
	put_frame(&b, H2_DATA, 0, 1, data, sizeof(data));
	h2_decoder_feed(d, H2_FROM_SERVER, b.b, 5, 5, 10, 11, on_frame, &r);
	h2_decoder_feed(d, H2_FROM_SERVER, b.b + 5, 100, 100, 20, 21, on_frame,
			&r);
	CHECK_INT(r.n, 0);
	h2_decoder_feed(d, H2_FROM_SERVER, b.b + 105, b.n - 105, b.n - 105, 30,
			31, on_frame, &r);
	ASSERT_INT(r.n, 1);
	CHECK_INT(r.s[0].f.first_enter_ns, 10);
	CHECK_INT(r.s[0].f.first_ts_ns, 11);
	CHECK_INT(r.s[0].f.enter_ns, 30);
	CHECK_INT(r.s[0].f.ts_ns, 31);
	CHECK_INT(r.s[0].f.length, 300);
	h2_decoder_free(d);
}

static void test_many_frames_in_one_record(void)
{
	struct h2_decoder *d = h2_decoder_new();
	nghttp2_hd_deflater *def = deflater(4096);
	struct recorder r = { 0 };
	static struct buf b;
	struct block blk;
	uint8_t data[10] = { 0 };

	ASSERT(d != NULL);
	b.n = 0;
	put_settings(&b, 0, 0);
	for (uint32_t s = 1; s <= 19; s += 2) {
		deflate(def, &blk, resp_200, N(resp_200));
		put_frame(&b, H2_HEADERS, H2_FLAG_END_HEADERS, s, blk.b,
			  blk.n);
		put_frame(&b, H2_DATA, H2_FLAG_END_STREAM, s, data,
			  sizeof(data));
	}
	feed(d, &r, H2_FROM_SERVER, b.b, b.n);
	CHECK_INT(r.n, 21);
	CHECK_INT(count(&r, H2_HEADERS), 10);
	CHECK_INT(count(&r, H2_DATA), 10);
	for (int i = 0; i < 10; i++) {
		const struct seen *h = nth(&r, H2_HEADERS, i);

		ASSERT(h != NULL);
		CHECK_INT(h->fields.status, 200);
		CHECK_STR(h->fields.content_type, "application/grpc");
		CHECK(!h->fields.unknown);
		CHECK_INT(h->f.stream_id, 1 + 2 * i);
	}
	nghttp2_hd_deflate_del(def);
	h2_decoder_free(d);
}

static void test_continuation(void)
{
	struct h2_decoder *d = h2_decoder_new();
	nghttp2_hd_deflater *def = deflater(4096);
	struct recorder r = { 0 };
	static struct buf b;
	struct block blk;
	const struct seen *h;

	ASSERT(d != NULL);
	b.n = 0;
	put_preface(&b);
	deflate(def, &blk, req_get, N(req_get));
	ASSERT(blk.n > 10);
	/* HEADERS, CONTINUATION, an empty CONTINUATION, the last one */
	put_frame(&b, H2_HEADERS, H2_FLAG_END_STREAM, 3, blk.b, 5);
	put_frame(&b, H2_CONTINUATION, 0, 3, blk.b + 5, 4);
	put_frame(&b, H2_CONTINUATION, 0, 3, NULL, 0);
	put_frame(&b, H2_CONTINUATION, H2_FLAG_END_HEADERS, 3, blk.b + 9,
		  blk.n - 9);
	for (size_t i = 0; i < b.n; i += 3)
		feed(d, &r, H2_FROM_CLIENT, b.b + i,
		     b.n - i < 3 ? b.n - i : 3);
	ASSERT_INT(r.n, 1);
	h = &r.s[0];
	CHECK_INT(h->f.type, H2_HEADERS);
	CHECK_INT(h->f.flags, H2_FLAG_END_STREAM | H2_FLAG_END_HEADERS);
	CHECK_INT(h->f.length, blk.n);
	CHECK_INT(h->f.stream_id, 3);
	CHECK_STR(h->fields.method, "GET");
	CHECK_STR(h->fields.path, "/v1/items?id=7");
	CHECK_STR(h->fields.authority, "api.example.com");
	CHECK(!h->fields.unknown);

	/* anything but its CONTINUATION inside a block: lost */
	r.n = 0;
	b.n = 0;
	deflate(def, &blk, req_get, N(req_get));
	put_frame(&b, H2_HEADERS, 0, 5, blk.b, blk.n);
	put_frame(&b, H2_DATA, 0, 5, "x", 1);
	feed(d, &r, H2_FROM_CLIENT, b.b, b.n);
	ASSERT_INT(r.n, 1);
	CHECK_INT(r.s[0].f.type, H2_FRAME_LOST);
	nghttp2_hd_deflate_del(def);
	h2_decoder_free(d);
}

static void test_padded_priority(void)
{
	struct h2_decoder *d = h2_decoder_new();
	nghttp2_hd_deflater *def = deflater(4096);
	struct recorder r = { 0 };
	static struct buf b;
	struct block blk;
	uint8_t payload[1024];
	size_t n = 0;

	ASSERT(d != NULL);
	b.n = 0;
	deflate(def, &blk, resp_200, N(resp_200));
	payload[n++] = 7;                  /* padding */
	put_be32(payload + n, 0x80000001); /* exclusive, on stream 1 */
	n += 4;
	payload[n++] = 15; /* weight */
	memcpy(payload + n, blk.b, blk.n);
	n += blk.n;
	memset(payload + n, 0, 7);
	n += 7;
	put_frame(&b, H2_HEADERS,
		  H2_FLAG_END_HEADERS | H2_FLAG_PADDED | H2_FLAG_PRIORITY, 1,
		  payload, n);
	/* and a padded DATA */
	put_frame(&b, H2_DATA, H2_FLAG_PADDED | H2_FLAG_END_STREAM, 1,
		  "\x03hi\0\0\0", 6);
	for (size_t i = 0; i < b.n; i++)
		feed(d, &r, H2_FROM_SERVER, b.b + i, 1);
	ASSERT_INT(r.n, 2);
	CHECK_INT(r.s[0].f.type, H2_HEADERS);
	CHECK_INT(r.s[0].f.length, n);
	CHECK_INT(r.s[0].fields.status, 200);
	CHECK_INT(r.s[0].fields.n_fields, N(resp_200));
	CHECK(!r.s[0].fields.unknown);
	CHECK_INT(r.s[1].f.type, H2_DATA);
	CHECK_INT(r.s[1].f.length, 6);

	/* padding longer than the frame: garbage */
	r.n = 0;
	b.n = 0;
	payload[0] = 200;
	put_frame(&b, H2_HEADERS, H2_FLAG_END_HEADERS | H2_FLAG_PADDED, 3,
		  payload, 10);
	feed(d, &r, H2_FROM_SERVER, b.b, b.n);
	ASSERT_INT(r.n, 1);
	CHECK_INT(r.s[0].f.type, H2_FRAME_LOST);
	nghttp2_hd_deflate_del(def);
	h2_decoder_free(d);
}

/* The second request's :authority and :path come from the dynamic
 * table. */
static void test_dynamic_table(void)
{
	struct h2_decoder *d = h2_decoder_new();
	nghttp2_hd_deflater *def = deflater(4096);
	struct recorder r = { 0 };
	static struct buf b;
	struct block first, second;

	ASSERT(d != NULL);
	b.n = 0;
	put_preface(&b);
	deflate(def, &first, req_get, N(req_get));
	deflate(def, &second, req_get, N(req_get));
	/* nghttp2 indexes all but :path: one byte a field */
	ASSERT(second.n < first.n / 2);
	put_frame(&b, H2_HEADERS, H2_FLAG_END_HEADERS, 1, first.b, first.n);
	put_frame(&b, H2_HEADERS, H2_FLAG_END_HEADERS, 3, second.b, second.n);
	feed(d, &r, H2_FROM_CLIENT, b.b, b.n);
	ASSERT_INT(r.n, 2);
	for (int i = 0; i < 2; i++) {
		CHECK_STR(r.s[i].fields.authority, "api.example.com");
		CHECK_STR(r.s[i].fields.path, "/v1/items?id=7");
		CHECK(!r.s[i].fields.unknown);
	}
	CHECK(h2_decoder_held_bytes(d) > 200);
	nghttp2_hd_deflate_del(def);
	h2_decoder_free(d);
}

/* The server allows a 64 KiB table; the client's encoder takes it with
 * a table size update, fills more than 4096 bytes, then refers to its
 * oldest entry. */
static void test_table_size_update(void)
{
	struct h2_decoder *d = h2_decoder_new();
	nghttp2_hd_deflater *def = deflater(65536);
	struct recorder r = { 0 };
	static struct buf b, srv;
	struct block blk;
	char host[200], pad[40][120];
	nghttp2_nv nv[44];
	size_t n = 0;

	ASSERT(d != NULL);
	b.n = srv.n = 0;
	put_settings(&srv, 0x1, 65536);
	feed(d, &r, H2_FROM_SERVER, srv.b, srv.n);
	ASSERT_INT(r.n, 1);
	ASSERT(nghttp2_hd_deflate_change_table_size(def, 65536) == 0);

	memset(host, 'h', sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';
	nv[n++] = (nghttp2_nv)NV(":method", "POST");
	nv[n++] = (nghttp2_nv){ (uint8_t *)":authority", (uint8_t *)host, 10,
				strlen(host), NGHTTP2_NV_FLAG_NONE };
	for (int i = 0; i < 40; i++) {
		memset(pad[i], 'a' + i % 26, sizeof(pad[i]) - 1);
		pad[i][sizeof(pad[i]) - 1] = '\0';
		pad[i][0] = (char)('0' + i % 10);
		pad[i][1] = (char)('0' + i / 10);
		nv[n++] =
			(nghttp2_nv){ (uint8_t *)"x-pad", (uint8_t *)pad[i], 5,
				      strlen(pad[i]), NGHTTP2_NV_FLAG_NONE };
	}
	put_preface(&b);
	deflate(def, &blk, nv, n);
	ASSERT(blk.b[0] >> 5 == 1); /* starts with a table size update */
	put_frame(&b, H2_HEADERS, H2_FLAG_END_HEADERS, 1, blk.b, blk.n);
	ASSERT(nghttp2_hd_deflate_get_dynamic_table_size(def) > 4096);
	/* the authority again: the oldest entry, past 4096 bytes */
	deflate(def, &blk, nv, 2);
	ASSERT(blk.n <= 3);
	put_frame(&b, H2_HEADERS, H2_FLAG_END_HEADERS, 3, blk.b, blk.n);
	r.n = 0;
	feed(d, &r, H2_FROM_CLIENT, b.b, b.n);
	ASSERT_INT(r.n, 2);
	CHECK(!r.s[0].fields.unknown);
	CHECK(!r.s[1].fields.unknown);
	CHECK_STR(r.s[1].fields.method, "POST");
	CHECK_STR(r.s[1].fields.authority, host);
	CHECK(h2_decoder_held_bytes(d) > 4096);
	nghttp2_hd_deflate_del(def);
	h2_decoder_free(d);
}

static void test_path_truncated(void)
{
	struct h2_decoder *d = h2_decoder_new();
	nghttp2_hd_deflater *def = deflater(4096);
	struct recorder r = { 0 };
	static struct buf b;
	struct block blk;
	char path[TL_TARGET_MAX + 50];
	nghttp2_nv nv[2] = { NV(":method", "GET") };

	ASSERT(d != NULL);
	memset(path, 'x', sizeof(path));
	path[0] = '/';
	nv[1] = (nghttp2_nv){ (uint8_t *)":path", (uint8_t *)path, 5,
			      sizeof(path), NGHTTP2_NV_FLAG_NONE };
	b.n = 0;
	put_preface(&b);
	deflate(def, &blk, nv, 2);
	put_frame(&b, H2_HEADERS, H2_FLAG_END_HEADERS, 1, blk.b, blk.n);
	feed(d, &r, H2_FROM_CLIENT, b.b, b.n);
	ASSERT_INT(r.n, 1);
	CHECK(r.s[0].fields.path_truncated);
	CHECK_INT(strlen(r.s[0].fields.path), TL_TARGET_MAX - 1);
	CHECK(!r.s[0].fields.unknown);
	nghttp2_hd_deflate_del(def);
	h2_decoder_free(d);
}

/*
 * A gap, then a record of whole frames: boundaries come back. A block
 * referring to an entry from before the gap is unknown from there; one
 * of literals is known; entries added after the gap serve later blocks.
 */
static void test_gap_resync(void)
{
	static const nghttp2_nv literal[] = {
		NV_LITERAL(":method", "PUT"),
		NV_LITERAL(":scheme", "https"),
		NV_LITERAL(":authority", "api.example.com"),
		NV_LITERAL(":path", "/literal"),
	};
	static const nghttp2_nv fresh[] = {
		NV(":method", "GET"),
		NV(":scheme", "https"),
		NV(":authority", "new.example.com"),
		NV(":path", "/fresh"),
	};
	static const nghttp2_nv other[] = {
		NV(":method", "GET"),
		NV(":scheme", "https"),
		NV(":authority", "other.example.com"),
		NV(":path", "/other"),
	};
	struct h2_decoder *d = h2_decoder_new();
	nghttp2_hd_deflater *def = deflater(4096);
	struct recorder r = { 0 };
	static struct buf b;
	struct block blk;
	uint8_t data[100] = { 0 };
	const struct seen *h;

	ASSERT(d != NULL);
	b.n = 0;
	put_preface(&b);
	deflate(def, &blk, req_get, N(req_get));
	put_frame(&b, H2_HEADERS, H2_FLAG_END_HEADERS, 1, blk.b, blk.n);
	feed(d, &r, H2_FROM_CLIENT, b.b, b.n);
	ASSERT_INT(r.n, 1);

	/* lost: a request that added entries, and part of a DATA frame */
	deflate(def, &blk, fresh, N(fresh));
	h2_decoder_gap(d, H2_FROM_CLIENT, on_frame, &r);
	ASSERT_INT(r.n, 2);
	CHECK_INT(r.s[1].f.type, H2_FRAME_LOST);

	/* the rest of a DATA frame: not frames, ignored */
	b.n = 0;
	put(&b, data, 60);
	feed(d, &r, H2_FROM_CLIENT, b.b, b.n);
	CHECK_INT(r.n, 2);

	/* whole frames: a request reusing :authority from before */
	b.n = 0;
	deflate(def, &blk, req_get, N(req_get));
	put_frame(&b, H2_HEADERS, H2_FLAG_END_HEADERS, 5, blk.b, blk.n);
	put_frame(&b, H2_DATA, H2_FLAG_END_STREAM, 5, data, 10);
	feed(d, &r, H2_FROM_CLIENT, b.b, b.n);
	ASSERT_INT(r.n, 4);
	h = &r.s[2];
	CHECK_INT(h->f.type, H2_HEADERS);
	CHECK(h->fields.unknown);
	CHECK_STR(h->fields.authority, "");
	CHECK_INT(r.s[3].f.type, H2_DATA);

	/* literals only: known */
	b.n = 0;
	deflate(def, &blk, literal, N(literal));
	put_frame(&b, H2_HEADERS, H2_FLAG_END_HEADERS, 7, blk.b, blk.n);
	/* new entries, then a block that uses them */
	deflate(def, &blk, other + 2, 2);
	put_frame(&b, H2_HEADERS, H2_FLAG_END_HEADERS, 9, blk.b, blk.n);
	feed(d, &r, H2_FROM_CLIENT, b.b, b.n);
	b.n = 0;
	deflate(def, &blk, other, N(other));
	/* :authority from the table */
	ASSERT(blk.n < sizeof("other.example.com") - 1);
	put_frame(&b, H2_HEADERS, H2_FLAG_END_HEADERS, 11, blk.b, blk.n);
	feed(d, &r, H2_FROM_CLIENT, b.b, b.n);
	ASSERT_INT(r.n, 7);
	CHECK(!r.s[4].fields.unknown);
	CHECK_STR(r.s[4].fields.method, "PUT");
	CHECK_STR(r.s[4].fields.path, "/literal");
	CHECK_STR(r.s[4].fields.authority, "api.example.com");
	CHECK(!r.s[6].fields.unknown);
	CHECK_STR(r.s[6].fields.authority, "other.example.com");
	CHECK_STR(r.s[6].fields.path, "/other");
	nghttp2_hd_deflate_del(def);
	h2_decoder_free(d);
}

/* A record that only looks like frames in part does not resync. */
static void test_resync_strict(void)
{
	struct h2_decoder *d = h2_decoder_new();
	struct recorder r = { 0 };
	static struct buf b;
	uint8_t data[20] = { 0 };

	ASSERT(d != NULL);
	h2_decoder_gap(d, H2_FROM_SERVER, on_frame, &r);
	ASSERT_INT(r.n, 1);
	/* one byte short */
	b.n = 0;
	put_frame(&b, H2_DATA, 0, 1, data, sizeof(data));
	feed(d, &r, H2_FROM_SERVER, b.b, b.n - 1);
	/* a byte too many */
	feed(d, &r, H2_FROM_SERVER, b.b, b.n + 1);
	/* reserved bit */
	b.b[5] |= 0x80;
	feed(d, &r, H2_FROM_SERVER, b.b, b.n);
	b.b[5] &= 0x7f;
	/* an unknown type */
	b.b[3] = 0x42;
	feed(d, &r, H2_FROM_SERVER, b.b, b.n);
	b.b[3] = H2_DATA;
	/* a CONTINUATION first */
	b.b[3] = H2_CONTINUATION;
	feed(d, &r, H2_FROM_SERVER, b.b, b.n);
	b.b[3] = H2_DATA;
	/* whole but not captured whole */
	h2_decoder_feed(d, H2_FROM_SERVER, b.b, b.n - 1, b.n, 0, 0, on_frame,
			&r);
	CHECK_INT(r.n, 1);
	feed(d, &r, H2_FROM_SERVER, b.b, b.n);
	ASSERT_INT(r.n, 2);
	CHECK_INT(r.s[1].f.type, H2_DATA);
	CHECK_INT(r.s[1].f.length, sizeof(data));
	h2_decoder_free(d);
}

/* A capture cut inside DATA: counted, the next record goes on. */
static void test_uncaptured_data(void)
{
	static const nghttp2_nv trailers[] = {
		NV("grpc-status", "0"),
	};
	struct h2_decoder *d = h2_decoder_new();
	nghttp2_hd_deflater *def = deflater(4096);
	struct recorder r = { 0 };
	static struct buf b;
	struct block blk;
	static uint8_t data[16000];
	size_t head_end, data_start;

	ASSERT(d != NULL);
	b.n = 0;
	deflate(def, &blk, resp_200, N(resp_200));
	put_frame(&b, H2_HEADERS, H2_FLAG_END_HEADERS, 1, blk.b, blk.n);
	head_end = b.n;
	put_frame(&b, H2_DATA, 0, 1, data, sizeof(data));
	data_start = head_end + 9;
	/* the first record ends 5000 bytes into the DATA, 4096 captured */
	h2_decoder_feed(d, H2_FROM_SERVER, b.b, 4096, data_start + 5000, 1, 2,
			on_frame, &r);
	ASSERT_INT(r.n, 1);
	CHECK_INT(r.s[0].fields.status, 200);
	/* the second has the DATA's rest (captured in part), trailers */
	deflate(def, &blk, trailers, N(trailers));
	{
		static struct buf rest;
		size_t tail = sizeof(data) - 5000;

		rest.n = 0;
		put(&rest, data, tail);
		put_frame(&rest, H2_HEADERS,
			  H2_FLAG_END_HEADERS | H2_FLAG_END_STREAM, 1, blk.b,
			  blk.n);
		h2_decoder_feed(d, H2_FROM_SERVER, rest.b, 100, tail, 3, 4,
				on_frame, &r);
		ASSERT_INT(r.n, 2);
		CHECK_INT(r.s[1].f.type, H2_DATA);
		CHECK_INT(r.s[1].f.length, sizeof(data));
		CHECK_INT(r.s[1].f.first_ts_ns, 2);
		CHECK_INT(r.s[1].f.ts_ns, 4);
		feed(d, &r, H2_FROM_SERVER, rest.b + tail, rest.n - tail);
	}
	ASSERT_INT(r.n, 3);
	CHECK_INT(r.s[2].f.type, H2_HEADERS);
	CHECK_INT(r.s[2].fields.grpc_status, 0);
	CHECK(!r.s[2].fields.unknown);
	CHECK_INT(count(&r, H2_FRAME_LOST), 0);
	nghttp2_hd_deflate_del(def);
	h2_decoder_free(d);
}

/* A capture cut over a frame header: lost until whole frames. */
static void test_uncaptured_header(void)
{
	struct h2_decoder *d = h2_decoder_new();
	struct recorder r = { 0 };
	static struct buf b;
	uint8_t data[50] = { 0 };

	ASSERT(d != NULL);
	b.n = 0;
	put_frame(&b, H2_DATA, 0, 1, data, sizeof(data));
	put_frame(&b, H2_DATA, H2_FLAG_END_STREAM, 1, data, sizeof(data));
	h2_decoder_feed(d, H2_FROM_SERVER, b.b, 62, b.n, 0, 0, on_frame, &r);
	ASSERT_INT(r.n, 2);
	CHECK_INT(r.s[0].f.type, H2_DATA);
	CHECK_INT(r.s[1].f.type, H2_FRAME_LOST);
	feed(d, &r, H2_FROM_SERVER, b.b, b.n);
	ASSERT_INT(r.n, 4);
	CHECK_INT(r.s[3].f.flags, H2_FLAG_END_STREAM);
	h2_decoder_free(d);
}

/* A capture cut inside a header block: its fields unknown, the next
 * block decoded with a new table. */
static void test_uncaptured_block(void)
{
	struct h2_decoder *d = h2_decoder_new();
	nghttp2_hd_deflater *def = deflater(4096);
	struct recorder r = { 0 };
	static struct buf b;
	struct block blk;
	size_t cut;

	ASSERT(d != NULL);
	b.n = 0;
	put_preface(&b);
	deflate(def, &blk, req_get, N(req_get));
	put_frame(&b, H2_HEADERS, H2_FLAG_END_HEADERS, 1, blk.b, blk.n);
	cut = b.n - 4;
	h2_decoder_feed(d, H2_FROM_CLIENT, b.b, cut, b.n, 0, 0, on_frame, &r);
	ASSERT_INT(r.n, 1);
	CHECK_INT(r.s[0].f.type, H2_HEADERS);
	CHECK(r.s[0].fields.unknown);
	CHECK_STR(r.s[0].fields.method, "GET");
	CHECK_INT(r.s[0].f.length, blk.n);

	b.n = 0;
	deflate(def, &blk, req_get, N(req_get));
	put_frame(&b, H2_HEADERS, H2_FLAG_END_HEADERS, 3, blk.b, blk.n);
	feed(d, &r, H2_FROM_CLIENT, b.b, b.n);
	ASSERT_INT(r.n, 2);
	CHECK(r.s[1].fields.unknown);
	CHECK_INT(count(&r, H2_FRAME_LOST), 0);

	/* RST_STREAM's code not captured */
	b.n = 0;
	put_frame(&b, H2_RST_STREAM, 0, 3, "\0\0\0\x08", 4);
	h2_decoder_feed(d, H2_FROM_CLIENT, b.b, 11, b.n, 0, 0, on_frame, &r);
	ASSERT_INT(r.n, 3);
	CHECK_INT(r.s[2].f.type, H2_RST_STREAM);
	CHECK(r.s[2].f.payload_unknown);
	CHECK_INT(r.s[2].f.error_code, 0);
	nghttp2_hd_deflate_del(def);
	h2_decoder_free(d);
}

/*
 * After a gap the new table is as large as the encoder may have made
 * it: the server allowed 64 KiB, so an entry the client added after the
 * gap and referred to past 4096 bytes of later entries is still there.
 */
static void test_gap_table_size(void)
{
	struct h2_decoder *d = h2_decoder_new();
	nghttp2_hd_deflater *def = deflater(65536);
	struct recorder r = { 0 };
	static struct buf b;
	struct block blk;
	char host[200], pad[40][120];
	nghttp2_nv nv[42];
	size_t n = 0;

	ASSERT(d != NULL);
	b.n = 0;
	put_settings(&b, 0x1, 65536);
	feed(d, &r, H2_FROM_SERVER, b.b, b.n);
	ASSERT(nghttp2_hd_deflate_change_table_size(def, 65536) == 0);
	b.n = 0;
	put_preface(&b);
	deflate(def, &blk, req_get, N(req_get));
	put_frame(&b, H2_HEADERS, H2_FLAG_END_HEADERS, 1, blk.b, blk.n);
	feed(d, &r, H2_FROM_CLIENT, b.b, b.n);
	h2_decoder_gap(d, H2_FROM_CLIENT, on_frame, &r);
	ASSERT_INT(r.n, 3);

	memset(host, 'h', sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';
	nv[n++] = (nghttp2_nv)NV(":method", "GET");
	nv[n++] = (nghttp2_nv){ (uint8_t *)":authority", (uint8_t *)host, 10,
				strlen(host), NGHTTP2_NV_FLAG_NONE };
	for (int i = 0; i < 40; i++) {
		memset(pad[i], 'A' + i % 26, sizeof(pad[i]) - 1);
		pad[i][sizeof(pad[i]) - 1] = '\0';
		nv[n++] =
			(nghttp2_nv){ (uint8_t *)"x-pad", (uint8_t *)pad[i], 5,
				      strlen(pad[i]), NGHTTP2_NV_FLAG_NONE };
	}
	b.n = 0;
	deflate(def, &blk, nv, n);
	put_frame(&b, H2_HEADERS, H2_FLAG_END_HEADERS, 3, blk.b, blk.n);
	feed(d, &r, H2_FROM_CLIENT, b.b, b.n);
	b.n = 0;
	deflate(def, &blk, nv, 2);
	ASSERT(blk.n <= 3);
	put_frame(&b, H2_HEADERS, H2_FLAG_END_HEADERS, 5, blk.b, blk.n);
	feed(d, &r, H2_FROM_CLIENT, b.b, b.n);
	ASSERT_INT(r.n, 5);
	CHECK(!r.s[3].fields.unknown);
	CHECK(!r.s[4].fields.unknown);
	CHECK_STR(r.s[4].fields.authority, host);
	nghttp2_hd_deflate_del(def);
	h2_decoder_free(d);
}

/* SETTINGS not captured whole: reported so, and the other side's
 * frames are not held to a limit that may have been raised. */
static void test_uncaptured_settings(void)
{
	struct h2_decoder *d = h2_decoder_new();
	struct recorder r = { 0 };
	static struct buf b;
	static uint8_t big[20000];

	ASSERT(d != NULL);
	b.n = 0;
	put_preface(&b);
	put_settings(&b, 0x5, 1 << 20);
	h2_decoder_feed(d, H2_FROM_CLIENT, b.b, b.n - 3, b.n, 0, 0, on_frame,
			&r);
	ASSERT_INT(r.n, 1);
	CHECK_INT(r.s[0].f.type, H2_SETTINGS);
	CHECK(r.s[0].f.payload_unknown);
	b.n = 0;
	put_frame(&b, H2_DATA, 0, 1, big, sizeof(big));
	feed(d, &r, H2_FROM_SERVER, b.b, b.n);
	ASSERT_INT(r.n, 2);
	CHECK_INT(r.s[1].f.type, H2_DATA);
	h2_decoder_free(d);
}

static void test_garbage(void)
{
	static const char http1[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	struct h2_decoder *d = h2_decoder_new();
	struct recorder r = { 0 };
	uint8_t junk[4096];
	uint32_t x = 12345;

	ASSERT(d != NULL);
	feed(d, &r, H2_FROM_CLIENT, (const uint8_t *)http1, sizeof(http1) - 1);
	ASSERT_INT(r.n, 1);
	CHECK_INT(r.s[0].f.type, H2_FRAME_LOST);
	feed(d, &r, H2_FROM_SERVER, (const uint8_t *)"HTTP/1.1 200 OK\r\n",
	     17);
	ASSERT_INT(r.n, 2);
	CHECK_INT(r.s[1].f.type, H2_FRAME_LOST);
	for (size_t i = 0; i < sizeof(junk); i++) {
		x = x * 1103515245 + 12345;
		junk[i] = (uint8_t)(x >> 16);
	}
	for (int k = 0; k < 50; k++)
		feed(d, &r, H2_FROM_SERVER, junk + k * 13, 1000);
	CHECK_INT(r.n, 2);

	/* a frame longer than SETTINGS_MAX_FRAME_SIZE allows */
	{
		static struct buf b;
		static uint8_t big[20000];
		struct h2_decoder *e = h2_decoder_new();

		ASSERT(e != NULL);
		r.n = 0;
		b.n = 0;
		put_frame(&b, H2_DATA, 0, 1, big, sizeof(big));
		feed(e, &r, H2_FROM_SERVER, b.b, b.n);
		ASSERT_INT(r.n, 1);
		CHECK_INT(r.s[0].f.type, H2_FRAME_LOST);
		/* allowed once the client said so */
		b.n = 0;
		put_preface(&b);
		put_settings(&b, 0x5, 1 << 20);
		feed(e, &r, H2_FROM_CLIENT, b.b, b.n);
		b.n = 0;
		put_frame(&b, H2_DATA, 0, 1, big, sizeof(big));
		feed(e, &r, H2_FROM_SERVER, b.b, b.n);
		ASSERT_INT(r.n, 3);
		CHECK_INT(r.s[1].f.type, H2_SETTINGS);
		CHECK_INT(r.s[2].f.type, H2_DATA);
		h2_decoder_free(e);
	}
	h2_decoder_free(d);
}

static void test_grpc_trailers(void)
{
	static const nghttp2_nv trailers[] = {
		NV("grpc-status", "3"),
		NV("grpc-message", "bad%20argument%3A%20%E2%9C%93 100%"),
	};
	struct h2_decoder *d = h2_decoder_new();
	nghttp2_hd_deflater *def = deflater(4096);
	struct recorder r = { 0 };
	static struct buf b;
	struct block blk;

	ASSERT(d != NULL);
	b.n = 0;
	deflate(def, &blk, resp_200, N(resp_200));
	put_frame(&b, H2_HEADERS, H2_FLAG_END_HEADERS, 1, blk.b, blk.n);
	put_frame(&b, H2_DATA, 0, 1, "\0\0\0\0\0", 5);
	deflate(def, &blk, trailers, N(trailers));
	put_frame(&b, H2_HEADERS, H2_FLAG_END_HEADERS | H2_FLAG_END_STREAM, 1,
		  blk.b, blk.n);
	feed(d, &r, H2_FROM_SERVER, b.b, b.n);
	ASSERT_INT(r.n, 3);
	CHECK_INT(r.s[0].fields.status, 200);
	CHECK_INT(r.s[0].fields.grpc_status, -1);
	CHECK_STR(r.s[0].fields.content_type, "application/grpc");
	CHECK_INT(r.s[2].fields.status, -1);
	CHECK_INT(r.s[2].fields.grpc_status, 3);
	CHECK_STR(r.s[2].fields.grpc_message,
		  "bad argument: \xe2\x9c\x93 100%");
	CHECK_INT(r.s[2].f.flags, H2_FLAG_END_HEADERS | H2_FLAG_END_STREAM);
	nghttp2_hd_deflate_del(def);
	h2_decoder_free(d);
}

static void test_percent_decode(void)
{
	char out[8];

	h2_percent_decode(out, sizeof(out), (const uint8_t *)"a%41%4", 6);
	CHECK_STR(out, "aA%4");
	h2_percent_decode(out, sizeof(out), (const uint8_t *)"%zz%2", 5);
	CHECK_STR(out, "%zz%2");
	h2_percent_decode(out, sizeof(out), (const uint8_t *)"0123456789", 10);
	CHECK_STR(out, "0123456");
}

static void test_rst_stream_goaway(void)
{
	struct h2_decoder *d = h2_decoder_new();
	struct recorder r = { 0 };
	static struct buf b;
	uint8_t p[16];
	char buf[32];

	ASSERT(d != NULL);
	b.n = 0;
	put_be32(p, 8);
	put_frame(&b, H2_RST_STREAM, 0, 1, p, 4);
	put_be32(p, 5);
	put_be32(p + 4, 0xb);
	memcpy(p + 8, "too much", 8);
	put_frame(&b, H2_GOAWAY, 0, 0, p, 16);
	feed(d, &r, H2_FROM_SERVER, b.b, b.n);
	ASSERT_INT(r.n, 2);
	CHECK_INT(r.s[0].f.type, H2_RST_STREAM);
	CHECK_INT(r.s[0].f.error_code, 8);
	CHECK_INT(r.s[0].f.stream_id, 1);
	CHECK(!r.s[0].f.payload_unknown);
	CHECK_STR(h2_error_name(r.s[0].f.error_code, buf, sizeof(buf)),
		  "CANCEL");
	CHECK_INT(r.s[1].f.type, H2_GOAWAY);
	CHECK_INT(r.s[1].f.last_stream_id, 5);
	CHECK_INT(r.s[1].f.error_code, 0xb);
	CHECK_INT(r.s[1].f.length, 16);
	CHECK_STR(h2_error_name(0xb, buf, sizeof(buf)), "ENHANCE_YOUR_CALM");
	CHECK_STR(h2_error_name(0, buf, sizeof(buf)), "NO_ERROR");
	CHECK_STR(h2_error_name(0xd, buf, sizeof(buf)), "HTTP_1_1_REQUIRED");
	CHECK_STR(h2_error_name(0x1234, buf, sizeof(buf)), "error 0x1234");
	h2_decoder_free(d);
}

static void test_push_promise(void)
{
	static const nghttp2_nv pushed[] = {
		NV(":method", "GET"),
		NV(":scheme", "https"),
		NV(":authority", "api.example.com"),
		NV(":path", "/style.css"),
	};
	struct h2_decoder *d = h2_decoder_new();
	nghttp2_hd_deflater *def = deflater(4096);
	struct recorder r = { 0 };
	static struct buf b;
	struct block blk;
	uint8_t p[512];
	size_t n = 0;

	ASSERT(d != NULL);
	b.n = 0;
	deflate(def, &blk, pushed, N(pushed));
	p[n++] = 2; /* padding */
	put_be32(p + n, 2);
	n += 4;
	memcpy(p + n, blk.b, blk.n);
	n += blk.n;
	p[n++] = 0;
	p[n++] = 0;
	put_frame(&b, H2_PUSH_PROMISE, H2_FLAG_END_HEADERS | H2_FLAG_PADDED, 1,
		  p, n);
	deflate(def, &blk, resp_200, N(resp_200));
	put_frame(&b, H2_HEADERS, H2_FLAG_END_HEADERS, 2, blk.b, blk.n);
	for (size_t i = 0; i < b.n; i += 2)
		feed(d, &r, H2_FROM_SERVER, b.b + i,
		     b.n - i < 2 ? b.n - i : 2);
	ASSERT_INT(r.n, 2);
	CHECK_INT(r.s[0].f.type, H2_PUSH_PROMISE);
	CHECK_INT(r.s[0].f.stream_id, 1);
	CHECK_INT(r.s[0].f.promised_stream_id, 2);
	CHECK_STR(r.s[0].fields.path, "/style.css");
	CHECK(!r.s[0].fields.unknown);
	CHECK_INT(r.s[1].f.stream_id, 2);
	CHECK_INT(r.s[1].fields.status, 200);

	/* from the client: garbage */
	r.n = 0;
	b.n = 0;
	put_preface(&b);
	put_frame(&b, H2_PUSH_PROMISE, H2_FLAG_END_HEADERS, 1, p + 1, 4);
	feed(d, &r, H2_FROM_CLIENT, b.b, b.n);
	ASSERT_INT(r.n, 1);
	CHECK_INT(r.s[0].f.type, H2_FRAME_LOST);
	nghttp2_hd_deflate_del(def);
	h2_decoder_free(d);
}

/* What the decoder holds comes back to its own size when freed (ASan
 * would see a leak) and stays bounded under a flood of new entries. */
static void test_held_bytes(void)
{
	struct h2_decoder *d = h2_decoder_new();
	nghttp2_hd_deflater *def = deflater(4096);
	struct recorder r = { 0 };
	static struct buf b;
	struct block blk;
	size_t empty;

	ASSERT(d != NULL);
	empty = h2_decoder_held_bytes(d);
	CHECK(empty > 0);
	b.n = 0;
	put_preface(&b);
	feed(d, &r, H2_FROM_CLIENT, b.b, b.n);
	for (int i = 0; i < 200; i++) {
		char v[64];
		nghttp2_nv nv[2] = { NV(":method", "GET") };

		snprintf(v, sizeof(v), "h%d.%0*d", i, 40, i);
		nv[1] = (nghttp2_nv){ (uint8_t *)":authority", (uint8_t *)v,
				      10, strlen(v), NGHTTP2_NV_FLAG_NONE };
		b.n = 0;
		deflate(def, &blk, nv, 2);
		put_frame(&b, H2_HEADERS, H2_FLAG_END_HEADERS,
			  (uint32_t)(1 + 2 * i), blk.b, blk.n);
		r.n = 0;
		feed(d, &r, H2_FROM_CLIENT, b.b, b.n);
		ASSERT_INT(r.n, 1);
		CHECK(!r.s[0].fields.unknown);
	}
	CHECK(h2_decoder_held_bytes(d) > empty + 4096 / 2);
	CHECK(h2_decoder_held_bytes(d) < empty + 4 * 4096 + 4096);
	nghttp2_hd_deflate_del(def);
	h2_decoder_free(d);
}

int main(int argc, char **argv)
{
	unit_args(argc, argv);
	RUN(test_whole_stream);
	RUN(test_preface_byte_by_byte);
	RUN(test_split_at_every_offset);
	RUN(test_frame_times);
	RUN(test_many_frames_in_one_record);
	RUN(test_continuation);
	RUN(test_padded_priority);
	RUN(test_dynamic_table);
	RUN(test_table_size_update);
	RUN(test_path_truncated);
	RUN(test_gap_resync);
	RUN(test_gap_table_size);
	RUN(test_resync_strict);
	RUN(test_uncaptured_data);
	RUN(test_uncaptured_header);
	RUN(test_uncaptured_block);
	RUN(test_uncaptured_settings);
	RUN(test_garbage);
	RUN(test_grpc_trailers);
	RUN(test_percent_decode);
	RUN(test_rst_stream_goaway);
	RUN(test_push_promise);
	RUN(test_held_bytes);
	return unit_done("h2_frame");
}
