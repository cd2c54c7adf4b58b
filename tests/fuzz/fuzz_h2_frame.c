// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * libFuzzer target for the HTTP/2 frame decoder (proto/http2/h2_frame.h).
 *
 * The input is a list of operations on one decoder, each an op byte
 * and what it needs:
 *   op bit 0       the direction
 *   op bits 1-2    0: a record, captured whole; 1: a record with more
 *                  bytes moved than captured (bits 6-7 say how many
 *                  more: 1, 17, 300 or 20000); 2: a record of which
 *                  only the first half is captured; 3: a gap
 *   op bits 3-5    the record's length, high bits (x 256)
 *   then one byte  the record's length, low bits (+1)
 *   then the record's bytes (fewer when the input ends).
 * Every report is checked against the contract's invariants. When the
 * input has only whole records, the same bytes are fed again with the
 * consecutive records of a direction joined into one: both runs must
 * report the same frames up to the first H2_FRAME_LOST (after it,
 * where boundaries come back depends on where records begin).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/http2/h2_frame.h"

#define MAX_EVENTS 256
#define MAX_OPS 512
/* tables are capped at 64 KiB (RFC 7541 size) a direction; the memory
 * behind an entry is more than its RFC size but not this much more */
#define HELD_MAX (4u << 20)

struct fuzz_event {
	struct h2_frame f;
	bool has_fields;
	struct h2_fields fields;
};

struct fuzz_run {
	struct fuzz_event ev[MAX_EVENTS];
	size_t n;
	bool lost_seen;
	uint64_t now;
};

struct fuzz_op {
	enum h2_dir dir;
	unsigned kind;
	const uint8_t *data;
	size_t n, len, captured;
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

static void check_fields(const struct h2_fields *f)
{
	check(terminated(f->method, sizeof(f->method)));
	check(terminated(f->path, sizeof(f->path)));
	check(terminated(f->authority, sizeof(f->authority)));
	check(terminated(f->content_type, sizeof(f->content_type)));
	check(terminated(f->grpc_message, sizeof(f->grpc_message)));
	check(f->status >= -1 && f->status <= 999);
	check(f->grpc_status >= -1);
	/* a value may hold a NUL (HPACK lets it; HTTP/2 does not), so a
	 * truncated :path need not be as long as its room */
	check(f->path[sizeof(f->path) - 1] == '\0');
}

static void on_frame(void *user, enum h2_dir dir, const struct h2_frame *f)
{
	struct fuzz_run *r = user;
	struct fuzz_event *e;
	bool block = f->type == H2_HEADERS || f->type == H2_PUSH_PROMISE;

	check(dir == H2_FROM_CLIENT || dir == H2_FROM_SERVER);
	check(f->type <= H2_WINDOW_UPDATE || f->type == H2_FRAME_LOST);
	check(f->first_ts_ns <= f->ts_ns && f->ts_ns <= r->now * 10 + 5);
	check(f->first_enter_ns <= f->enter_ns);
	check(!!f->fields == block);
	check(f->stream_id <= 0x7fffffff);
	if (f->fields)
		check_fields(f->fields);
	switch (f->type) {
	case H2_DATA:
	case H2_HEADERS:
	case H2_PRIORITY:
	case H2_RST_STREAM:
		check(f->stream_id != 0 && f->length < (1u << 24));
		break;
	case H2_PUSH_PROMISE:
		check(dir == H2_FROM_SERVER && f->stream_id != 0);
		break;
	case H2_SETTINGS:
	case H2_PING:
	case H2_GOAWAY:
		check(f->stream_id == 0 && f->length < (1u << 24));
		break;
	case H2_FRAME_LOST:
		check(f->stream_id == 0 && f->length == 0 && f->flags == 0);
		r->lost_seen = true;
		break;
	default:
		break;
	}
	if (f->type != H2_RST_STREAM && f->type != H2_GOAWAY) {
		check(f->error_code == 0);
	} else {
		char buf[24];
		const char *name =
			h2_error_name(f->error_code, buf, sizeof(buf));

		check(name[0] != '\0' && strlen(name) < sizeof(buf));
	}
	if (f->payload_unknown)
		check(f->error_code == 0 && f->last_stream_id == 0 &&
		      f->promised_stream_id == 0);
	if (r->n == MAX_EVENTS)
		return;
	e = &r->ev[r->n++];
	e->f = *f;
	e->f.fields = NULL;
	e->has_fields = f->fields != NULL;
	if (f->fields)
		e->fields = *f->fields;
	else
		memset(&e->fields, 0, sizeof(e->fields));
}

static void run_op(struct h2_decoder *d, struct fuzz_run *r,
		   const struct fuzz_op *op)
{
	r->now++;
	if (op->kind == 3)
		h2_decoder_gap(d, op->dir, on_frame, r);
	else
		h2_decoder_feed(d, op->dir, op->data, op->captured, op->len,
				r->now * 10, r->now * 10 + 5, on_frame, r);
	check(h2_decoder_held_bytes(d) < HELD_MAX);
}

static bool same_event(const struct fuzz_event *a, const struct fuzz_event *b)
{
	const struct h2_fields *x = &a->fields, *y = &b->fields;

	if (a->f.type != b->f.type || a->f.flags != b->f.flags ||
	    a->f.stream_id != b->f.stream_id || a->f.length != b->f.length ||
	    a->f.error_code != b->f.error_code ||
	    a->f.last_stream_id != b->f.last_stream_id ||
	    a->f.promised_stream_id != b->f.promised_stream_id ||
	    a->f.payload_unknown != b->f.payload_unknown ||
	    a->has_fields != b->has_fields)
		return false;
	return !strcmp(x->method, y->method) && !strcmp(x->path, y->path) &&
	       !strcmp(x->authority, y->authority) &&
	       !strcmp(x->content_type, y->content_type) &&
	       !strcmp(x->grpc_message, y->grpc_message) &&
	       x->status == y->status && x->grpc_status == y->grpc_status &&
	       x->path_truncated == y->path_truncated &&
	       x->unknown == y->unknown && x->n_fields == y->n_fields;
}

static struct fuzz_op ops[MAX_OPS];
static struct fuzz_run pieces, joined;
static uint8_t joined_buf[MAX_OPS * 2048];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t more[4] = { 1, 17, 300, 20000 };
	struct h2_decoder *d;
	size_t n_ops = 0, i;
	bool all_whole = true;

	while (size && n_ops < MAX_OPS) {
		struct fuzz_op *op = &ops[n_ops++];
		uint8_t b = *data++;

		size--;
		op->dir = (b & 1) ? H2_FROM_SERVER : H2_FROM_CLIENT;
		op->kind = (b >> 1) & 3;
		if (op->kind == 3) {
			all_whole = false;
			continue;
		}
		op->len = ((size_t)(b >> 3 & 7) << 8) + 1;
		if (size) {
			op->len += *data++;
			size--;
		}
		op->n = op->len < size ? op->len : size;
		op->data = data;
		data += op->n;
		size -= op->n;
		op->len = op->captured = op->n;
		if (op->kind == 1)
			op->len += more[b >> 6];
		else if (op->kind == 2)
			op->captured /= 2;
		if (op->kind)
			all_whole = false;
	}

	memset(&pieces, 0, sizeof(pieces));
	d = h2_decoder_new();
	check(d != NULL);
	for (i = 0; i < n_ops; i++)
		run_op(d, &pieces, &ops[i]);
	h2_decoder_free(d);
	if (!all_whole)
		return 0;

	/* the same bytes, a direction's consecutive records joined */
	memset(&joined, 0, sizeof(joined));
	d = h2_decoder_new();
	check(d != NULL);
	for (i = 0; i < n_ops;) {
		struct fuzz_op op = ops[i];
		size_t n = 0;

		for (; i < n_ops && ops[i].dir == op.dir; i++) {
			memcpy(joined_buf + n, ops[i].data, ops[i].n);
			n += ops[i].n;
		}
		op.data = joined_buf;
		op.n = op.len = op.captured = n;
		run_op(d, &joined, &op);
	}
	h2_decoder_free(d);
	for (i = 0; i < pieces.n && i < joined.n; i++) {
		check(same_event(&pieces.ev[i], &joined.ev[i]));
		if (pieces.ev[i].f.type == H2_FRAME_LOST)
			return 0;
	}
	if (pieces.n < MAX_EVENTS && joined.n < MAX_EVENTS)
		check(pieces.n == joined.n);
	return 0;
}
