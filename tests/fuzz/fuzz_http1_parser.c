// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * libFuzzer target for the HTTP/1.x parser.
 *
 * Input layout: byte 0 picks the direction, the on_headers hints, a gap
 * and a repeat count; bytes 1-2 pick where the rest is split. The stream
 * is fed as first half, [gap], second half (repeated), then EOF, and
 * checked against invariants. Without a gap the same stream is also fed
 * in one piece, and both runs must report the same events up to the
 * first error (recovery from H1_ST_LOST legitimately depends on where
 * feeds start, so only the prefix must agree).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/http1/http1_parser.h"

#define MAX_EVENTS 256
#define MAX_REPEAT 4
#define MAX_STREAM (4096 * (MAX_REPEAT + 1))

struct fuzz_event {
	char type;
	uint64_t pos;
	enum h1_error err;
	int status;
	int64_t content_length;
};

struct fuzz_run {
	struct h1_parser p;
	struct fuzz_event ev[MAX_EVENTS];
	size_t n;
	uint64_t base;
	size_t feed_len;
	uint8_t hints;
	unsigned headers_seen;
	unsigned completes;
	bool dead;  /* NOT_HTTP or TUNNEL seen: no callback may follow */
};

static void check(bool ok)
{
	if (!ok)
		abort();
}

static bool terminated(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}

static void check_msg(const struct fuzz_run *r, const struct h1_message *m)
{
	check(m->kind == r->p.kind);
	/* -1 only for a request line that a gap cut before its version */
	if (m->version_minor == -1)
		check(m->kind == H1_REQUEST && m->headers_truncated &&
		      m->target_truncated);
	else
		check(m->version_minor >= 0 && m->version_minor <= 9);
	check(terminated(m->method, sizeof(m->method)));
	check(terminated(m->target, sizeof(m->target)));
	check(terminated(m->host, sizeof(m->host)));
	check(terminated(m->reason, sizeof(m->reason)));
	check(m->content_length >= -1);
	check(m->header_bytes > 0);
	if (m->kind == H1_RESPONSE)
		check(m->status >= 100 && m->status <= 999);
	else
		check(m->method[0] != '\0' && m->target[0] != '\0');
}

static void push(struct fuzz_run *r, char type, uint64_t pos,
		 enum h1_error err, const struct h1_message *m)
{
	struct fuzz_event *e;

	check(!r->dead);
	if (r->n == MAX_EVENTS)
		return;
	e = &r->ev[r->n++];
	e->type = type;
	e->pos = pos;
	e->err = err;
	e->status = m ? m->status : 0;
	e->content_length = m ? m->content_length : 0;
}

static enum h1_body_hint on_headers(void *user, const struct h1_message *m,
				    size_t offset)
{
	struct fuzz_run *r = user;
	unsigned bits = (r->hints >> (2 * (r->headers_seen++ % 4))) & 3;

	check(offset <= r->feed_len);
	check(r->p.state == H1_ST_HEADERS);
	check_msg(r, m);
	push(r, 'H', r->base + offset, H1_OK, m);
	return bits == 1 ? H1_BODY_NONE :
	       bits == 2 ? H1_BODY_TUNNEL : H1_BODY_DEFAULT;
}

static void on_complete(void *user, const struct h1_message *m,
			size_t offset)
{
	struct fuzz_run *r = user;

	check(offset <= r->feed_len);
	check(r->p.state == H1_ST_START || r->p.state == H1_ST_TUNNEL);
	check_msg(r, m);
	r->completes++;
	/* `messages` is bumped before the callback runs */
	check(r->p.messages == r->completes);
	push(r, 'C', r->base + offset, H1_OK, m);
}

static void on_error(void *user, enum h1_error err)
{
	struct fuzz_run *r = user;

	check(err > H1_OK && err <= H1_ERR_TRUNCATED);
	check(r->p.state == H1_ST_NOT_HTTP || r->p.state == H1_ST_LOST);
	check(r->p.last_error == err);
	check(h1_error_str(err)[0] != '\0');
	push(r, 'E', 0, err, NULL);
}

static const struct h1_callbacks fuzz_cb = {
	.on_headers = on_headers,
	.on_complete = on_complete,
	.on_error = on_error,
};

static void check_state(struct fuzz_run *r, enum h1_state st,
			uint64_t messages_before)
{
	check(st == r->p.state);
	check(st >= H1_ST_START && st <= H1_ST_TUNNEL);
	check(r->p.messages >= messages_before);
	check(r->p.messages == r->completes);
	check(r->p.line_len < H1_LINE_MAX);
	check(r->p.tail_len <= sizeof(r->p.tail));
	check(!r->p.start_line_long ||
	      (r->p.kind == H1_REQUEST && r->p.state == H1_ST_HEADERS));
	check(h1_parser_idle(&r->p) == (st == H1_ST_START));
	if (st == H1_ST_BODY)
		check(r->p.body_mode <= H1_BODY_UNTIL_EOF);
	if (st == H1_ST_NOT_HTTP || st == H1_ST_TUNNEL)
		r->dead = true;
}

static void run_init(struct fuzz_run *r, enum h1_kind kind, uint8_t hints)
{
	memset(r, 0, sizeof(*r));
	h1_parser_init(&r->p, kind);
	r->hints = hints;
}

static void run_feed(struct fuzz_run *r, const uint8_t *data, size_t len)
{
	uint64_t before = r->p.messages;
	enum h1_state st;

	r->feed_len = len;
	st = h1_parser_feed(&r->p, data, len, &fuzz_cb, r);
	check_state(r, st, before);
	r->base += len;
}

static void run_gap(struct fuzz_run *r, uint64_t len)
{
	uint64_t before = r->p.messages;
	enum h1_state st;

	r->feed_len = 0;
	st = h1_parser_gap(&r->p, len, &fuzz_cb, r);
	check_state(r, st, before);
	r->base += len;
}

static void run_eof(struct fuzz_run *r)
{
	uint64_t before = r->p.messages;
	enum h1_state st;

	r->feed_len = 0;
	st = h1_parser_eof(&r->p, &fuzz_cb, r);
	check_state(r, st, before);
	/* EOF leaves nothing half-parsed behind */
	check(st != H1_ST_HEADERS && st != H1_ST_BODY);
}

/* Same events up to and including the first error. */
static void compare_prefix(const struct fuzz_run *a, const struct fuzz_run *b)
{
	size_t i;

	for (i = 0; i < a->n && i < b->n; i++) {
		const struct fuzz_event *x = &a->ev[i], *y = &b->ev[i];

		check(x->type == y->type && x->pos == y->pos &&
		      x->err == y->err && x->status == y->status &&
		      x->content_length == y->content_length);
		if (x->type == 'E')
			return;
	}
	if (a->n == MAX_EVENTS || b->n == MAX_EVENTS)
		return;
	check(a->n == b->n);
}

static uint8_t stream[MAX_STREAM];
static struct fuzz_run whole, pieces;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum h1_kind kind;
	uint8_t ctl, hints;
	size_t split, body_len, stream_len, i;
	unsigned repeat;
	uint64_t gap = 0;

	if (size < 3)
		return 0;
	ctl = data[0];
	kind = (ctl & 1) ? H1_RESPONSE : H1_REQUEST;
	/* bits 1-2: gap kind; bits 3-4: repeats; bits 5-7: hint pattern */
	switch ((ctl >> 1) & 3) {
	case 1:
		gap = 1 + data[2] % 64;
		break;
	case 2:
		gap = 1ull << (data[1] % 40);
		break;
	default:
		break;
	}
	repeat = 1 + ((ctl >> 3) & 3);
	hints = (uint8_t)((ctl >> 5) * 0x25);

	data += 3;
	size -= 3;
	body_len = size;
	if (body_len > 4096)
		body_len = 4096;
	split = body_len ? ((size_t)data[-2] << 8 | data[-1]) % (body_len + 1)
			 : 0;

	/* stream = first ++ second * repeat */
	memcpy(stream, data, body_len);
	stream_len = body_len;
	for (i = 1; i < repeat; i++) {
		memcpy(stream + stream_len, data + split, body_len - split);
		stream_len += body_len - split;
	}

	run_init(&pieces, kind, hints);
	run_feed(&pieces, data, split);
	if (gap)
		run_gap(&pieces, gap);
	for (i = 0; i < repeat; i++)
		run_feed(&pieces, data + split, body_len - split);
	run_eof(&pieces);
	run_eof(&pieces); /* a second EOF changes nothing */

	if (!gap) {
		run_init(&whole, kind, hints);
		run_feed(&whole, stream, stream_len);
		run_eof(&whole);
		compare_prefix(&whole, &pieces);
	}
	return 0;
}
