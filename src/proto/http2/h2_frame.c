// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * HTTP/2 frames of both directions of a connection (the contract is in
 * h2_frame.h). Each direction is a small state machine over the bytes
 * as they come: the client's preface, a frame header (9 bytes, gathered
 * across records), the payload. Nothing of a payload is buffered but its
 * fixed leading fields (padding length, priority, promised stream, error
 * codes, one SETTINGS entry): DATA is counted, header block bytes go to
 * the direction's HPACK inflater (h2_hpack.c) as they pass, so a block
 * joined from HEADERS and any number of CONTINUATIONs costs no memory
 * of its own.
 *
 * Losing and taking back frame boundaries:
 *  - A direction is lost after h2_decoder_gap(), uncaptured bytes over
 *    a frame header (or the preface's place taken by other bytes), or a
 *    frame header that cannot be one (below). Each gives one
 *    H2_FRAME_LOST report; a frame or header block open at that moment
 *    is dropped, never reported half.
 *  - A lost direction takes boundaries back only at a record captured
 *    whole (captured == len) that is frames exactly: one or more frame
 *    headers, each passing the strict check, whose lengths add up to
 *    the record's length, with CONTINUATIONs only after a HEADERS or
 *    PUSH_PROMISE without END_HEADERS on the same stream (such a block
 *    may go on into the next record). Other records of a lost direction
 *    are only counted.
 *  - A frame header can be one when: its length is at most the
 *    receiver's SETTINGS_MAX_FRAME_SIZE (the largest it announced;
 *    2^24 - 1 once its SETTINGS may have been missed, but not for an
 *    unknown type); stream 0 exactly
 *    for SETTINGS, PING, GOAWAY and never for DATA, HEADERS, PRIORITY,
 *    RST_STREAM, PUSH_PROMISE, CONTINUATION; fixed lengths are right
 *    (PRIORITY 5, RST_STREAM 4, PING 8, WINDOW_UPDATE 4, SETTINGS a
 *    multiple of 6 and 0 with ACK, GOAWAY 8 or more, room for the
 *    padding and priority fields); PUSH_PROMISE only from the server;
 *    a CONTINUATION exactly when a block is open, on its stream, and
 *    nothing else then. A padding length past its frame is garbage too.
 *    The strict check of a resync adds: a known type (0-9), the
 *    reserved stream bit clear, client streams odd for the client's
 *    DATA, HEADERS and CONTINUATION and for PUSH_PROMISE, a promised
 *    stream even and not 0, a WINDOW_UPDATE increment not 0, and
 *    SETTINGS values in their ranges. In step, unknown frame types are
 *    skipped (extensions), the reserved bit ignored.
 *  - Uncaptured bytes (the tail of a record, captured < len) inside a
 *    payload only count: DATA stays whole; a header block's remaining
 *    fields become unknown (and its direction's HPACK table lost); a
 *    fixed field missed leaves the frame reported with payload_unknown.
 *    The next record continues the frame where it is.
 */
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "proto/http2/h2_frame.h"
#include "proto/http2/h2_hpack.h"

#define H2_HEADER_LEN 9
#define H2_PREFACE_LEN 24
#define H2_MAX_FRAME_DEFAULT 16384
#define H2_MAX_FRAME_LIMIT ((1u << 24) - 1)
#define H2_STREAM_MASK 0x7fffffffu
#define H2_TYPE_KNOWN_MAX H2_CONTINUATION

#define H2_SETTINGS_HEADER_TABLE_SIZE 0x1
#define H2_SETTINGS_ENABLE_PUSH 0x2
#define H2_SETTINGS_INITIAL_WINDOW_SIZE 0x4
#define H2_SETTINGS_MAX_FRAME_SIZE 0x5

static const char h2_client_preface[H2_PREFACE_LEN + 1] =
	"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

enum h2_state { ST_PREFACE, ST_HEADER, ST_PAYLOAD, ST_LOST };

/* One direction: the bytes one end wrote. */
struct h2_side {
	enum h2_state state;
	uint8_t preface_have;
	uint8_t hdr[H2_HEADER_LEN];
	uint8_t hdr_have;

	/* the frame being read */
	uint8_t type, flags;
	uint32_t stream_id, len;
	uint32_t left;  /* payload bytes still to come */
	uint32_t pad;   /* padding at the end of a header block frame */
	uint8_t fix[8]; /* the payload's leading fixed fields */
	uint8_t fix_need, fix_have;
	bool fix_lost; /* some of fix was not captured */
	bool payload_unknown;
	uint64_t first_enter_ns, first_ts_ns;

	/* the header block being joined */
	bool block_open;
	uint8_t block_type, block_flags;
	uint32_t block_stream_id, block_len, block_promised;
	bool block_payload_unknown;
	uint64_t block_first_enter_ns, block_first_ts_ns;
	struct h2_fields fields;
	struct h2_hpack hpack;

	/* what this end announced in SETTINGS, for what the other sends */
	uint32_t max_frame_size;
	uint32_t header_table_size;
	bool settings_lost; /* some of its SETTINGS may have been missed */

	/* the record being fed */
	uint64_t enter_ns, ts_ns;
};

struct h2_decoder {
	struct h2_side side[2];
	h2_frame_fn fn; /* for the call being made */
	void *user;
};

/* A frame header, read. */
struct h2_head {
	uint32_t len, stream_id;
	uint8_t type, flags;
	bool reserved; /* the stream id's reserved bit */
};

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static struct h2_head head_read(const uint8_t *p)
{
	struct h2_head h = {
		.len = (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2],
		.type = p[3],
		.flags = p[4],
		.stream_id = be32(p + 5) & H2_STREAM_MASK,
		.reserved = p[5] & 0x80,
	};
	return h;
}

static bool is_block_type(uint8_t type)
{
	return type == H2_HEADERS || type == H2_PUSH_PROMISE ||
	       type == H2_CONTINUATION;
}

/* Leading payload bytes a frame header says are fixed fields. */
static uint32_t head_fixed_len(const struct h2_head *h)
{
	uint32_t padded = (h->flags & H2_FLAG_PADDED) ? 1 : 0;

	switch (h->type) {
	case H2_HEADERS:
		return padded + ((h->flags & H2_FLAG_PRIORITY) ? 5 : 0);
	case H2_PUSH_PROMISE:
		return padded + 4;
	case H2_RST_STREAM:
	case H2_WINDOW_UPDATE:
		return 4;
	case H2_PRIORITY:
		return 5;
	case H2_PING:
	case H2_GOAWAY:
		return 8;
	case H2_SETTINGS:
		return h->len ? 6 : 0; /* one entry at a time */
	default:
		return 0;
	}
}

/* Could the frame header be one, from dir (see the comment on top)?
 * block_open / block_stream: is a header block of dir open, on which
 * stream. */
static bool head_ok(const struct h2_decoder *d, enum h2_dir dir,
		    const struct h2_head *h, bool block_open,
		    uint32_t block_stream, bool strict)
{
	const struct h2_side *peer = &d->side[!dir];
	uint32_t limit = peer->settings_lost ? H2_MAX_FRAME_LIMIT :
					       peer->max_frame_size;
	bool zero = h->stream_id == 0;
	bool odd = h->stream_id & 1;

	/* an unknown type is no reason to believe in a long frame */
	if (h->type > H2_TYPE_KNOWN_MAX)
		limit = peer->max_frame_size;
	if (h->len > limit)
		return false;
	if (block_open != (h->type == H2_CONTINUATION))
		return false;
	if (block_open && h->stream_id != block_stream)
		return false;
	if (strict && (h->reserved || h->type > H2_TYPE_KNOWN_MAX))
		return false;
	if (h->len < head_fixed_len(h))
		return false;
	switch (h->type) {
	case H2_DATA:
	case H2_HEADERS:
	case H2_CONTINUATION:
		if (zero)
			return false;
		return !strict || dir != H2_FROM_CLIENT || odd;
	case H2_PRIORITY:
		return !zero && h->len == 5;
	case H2_RST_STREAM:
		return !zero && h->len == 4;
	case H2_SETTINGS:
		return zero && h->len % 6 == 0 &&
		       (!(h->flags & H2_FLAG_ACK) || h->len == 0);
	case H2_PUSH_PROMISE:
		return !zero && dir == H2_FROM_SERVER && (!strict || odd);
	case H2_PING:
		return zero && h->len == 8;
	case H2_GOAWAY:
		return zero;
	case H2_WINDOW_UPDATE:
		return h->len == 4;
	default:
		return true;
	}
}

/* The strict check's look into a whole payload. */
static bool payload_ok(const struct h2_head *h, const uint8_t *p)
{
	uint32_t fixed = head_fixed_len(h);

	switch (h->type) {
	case H2_DATA:
		return !(h->flags & H2_FLAG_PADDED) ||
		       (h->len >= 1 && p[0] <= h->len - 1);
	case H2_HEADERS:
		return !(h->flags & H2_FLAG_PADDED) || p[0] <= h->len - fixed;
	case H2_PUSH_PROMISE: {
		uint32_t off = (h->flags & H2_FLAG_PADDED) ? 1 : 0;
		uint32_t promised = be32(p + off) & H2_STREAM_MASK;

		if (off && p[0] > h->len - fixed)
			return false;
		return promised && !(promised & 1);
	}
	case H2_WINDOW_UPDATE:
		return (be32(p) & H2_STREAM_MASK) != 0;
	case H2_SETTINGS:
		for (uint32_t i = 0; i < h->len; i += 6) {
			uint16_t id = (uint16_t)(p[i] << 8 | p[i + 1]);
			uint32_t v = be32(p + i + 2);

			if ((id == H2_SETTINGS_ENABLE_PUSH && v > 1) ||
			    (id == H2_SETTINGS_INITIAL_WINDOW_SIZE &&
			     v > H2_STREAM_MASK) ||
			    (id == H2_SETTINGS_MAX_FRAME_SIZE &&
			     (v < H2_MAX_FRAME_DEFAULT ||
			      v > H2_MAX_FRAME_LIMIT)))
				return false;
		}
		return true;
	default:
		return true;
	}
}

/* Is the record frames exactly (a lost direction's way back)? */
static bool record_is_frames(const struct h2_decoder *d, enum h2_dir dir,
			     const uint8_t *p, size_t n)
{
	bool open = false;
	uint32_t open_stream = 0;
	size_t off = 0;

	if (!n)
		return false;
	while (off < n) {
		struct h2_head h;

		if (n - off < H2_HEADER_LEN)
			return false;
		h = head_read(p + off);
		off += H2_HEADER_LEN;
		if (!head_ok(d, dir, &h, open, open_stream, true) ||
		    n - off < h.len || !payload_ok(&h, p + off))
			return false;
		if (is_block_type(h.type)) {
			open = !(h.flags & H2_FLAG_END_HEADERS);
			open_stream = h.stream_id;
		}
		off += h.len;
	}
	return true;
}

static void emit(struct h2_decoder *d, enum h2_dir dir,
		 const struct h2_frame *f)
{
	if (d->fn)
		d->fn(d->user, dir, f);
}

/* The direction's boundaries are gone (see the comment on top). */
static void side_lose(struct h2_decoder *d, enum h2_dir dir)
{
	struct h2_side *s = &d->side[dir];
	struct h2_frame f = {
		.type = H2_FRAME_LOST,
		.first_enter_ns = s->enter_ns,
		.first_ts_ns = s->ts_ns,
		.enter_ns = s->enter_ns,
		.ts_ns = s->ts_ns,
	};

	s->state = ST_LOST;
	s->hdr_have = 0;
	s->block_open = false;
	h2_hpack_lose_table(&s->hpack);
	/* whatever it said in SETTINGS meanwhile is unknown */
	s->settings_lost = true;
	emit(d, dir, &f);
}

static void report(struct h2_decoder *d, enum h2_dir dir)
{
	struct h2_side *s = &d->side[dir];
	struct h2_frame f = {
		.type = (enum h2_frame_type)s->type,
		.flags = s->flags,
		.stream_id = s->stream_id,
		.length = s->len,
		.first_enter_ns = s->first_enter_ns,
		.first_ts_ns = s->first_ts_ns,
		.enter_ns = s->enter_ns,
		.ts_ns = s->ts_ns,
		.payload_unknown = s->payload_unknown,
	};

	if (s->payload_unknown) {
		emit(d, dir, &f);
		return;
	}
	if (s->type == H2_RST_STREAM) {
		f.error_code = be32(s->fix);
	} else if (s->type == H2_GOAWAY) {
		f.last_stream_id = be32(s->fix) & H2_STREAM_MASK;
		f.error_code = be32(s->fix + 4);
	}
	emit(d, dir, &f);
}

static void report_block(struct h2_decoder *d, enum h2_dir dir)
{
	struct h2_side *s = &d->side[dir];
	struct h2_frame f = {
		.type = (enum h2_frame_type)s->block_type,
		.flags = s->block_flags,
		.stream_id = s->block_stream_id,
		.length = s->block_len,
		.first_enter_ns = s->block_first_enter_ns,
		.first_ts_ns = s->block_first_ts_ns,
		.enter_ns = s->enter_ns,
		.ts_ns = s->ts_ns,
		.fields = &s->fields,
		.promised_stream_id = s->block_promised,
		.payload_unknown = s->block_payload_unknown,
	};

	s->block_open = false;
	emit(d, dir, &f);
}

static void settings_entry(struct h2_decoder *d, enum h2_dir dir,
			   const uint8_t *e)
{
	struct h2_side *s = &d->side[dir];
	uint16_t id = (uint16_t)(e[0] << 8 | e[1]);
	uint32_t v = be32(e + 2);

	/* only ever raised: the sender's peer may still be using the larger
	 * value it had before it saw a smaller one */
	if (id == H2_SETTINGS_HEADER_TABLE_SIZE) {
		if (v > H2_HPACK_TABLE_CAP)
			v = H2_HPACK_TABLE_CAP;
		if (v > s->header_table_size)
			s->header_table_size = v;
	} else if (id == H2_SETTINGS_MAX_FRAME_SIZE) {
		if (v >= H2_MAX_FRAME_DEFAULT && v <= H2_MAX_FRAME_LIMIT &&
		    v > s->max_frame_size)
			s->max_frame_size = v;
	}
}

/* A frame header is whole. False: the direction is lost. */
static bool frame_begin(struct h2_decoder *d, enum h2_dir dir)
{
	struct h2_side *s = &d->side[dir];
	struct h2_head h = head_read(s->hdr);

	s->hdr_have = 0;
	if (!head_ok(d, dir, &h, s->block_open, s->block_stream_id, false)) {
		side_lose(d, dir);
		return false;
	}
	s->type = h.type;
	s->flags = h.flags;
	s->stream_id = h.stream_id;
	s->len = s->left = h.len;
	s->pad = 0;
	s->fix_need = (uint8_t)head_fixed_len(&h);
	s->fix_have = 0;
	s->fix_lost = false;
	s->payload_unknown = false;
	s->state = ST_PAYLOAD;

	if (h.type == H2_HEADERS || h.type == H2_PUSH_PROMISE) {
		const struct h2_side *peer = &d->side[!dir];

		s->block_open = true;
		s->block_type = h.type;
		s->block_flags = h.flags;
		s->block_stream_id = h.stream_id;
		s->block_len = h.len;
		s->block_promised = 0;
		s->block_payload_unknown = false;
		s->block_first_enter_ns = s->first_enter_ns;
		s->block_first_ts_ns = s->first_ts_ns;
		h2_hpack_begin(&s->hpack, &s->fields, peer->header_table_size);
	} else if (h.type == H2_CONTINUATION) {
		s->block_len = h.len > UINT32_MAX - s->block_len ?
				       UINT32_MAX :
				       s->block_len + h.len;
	}
	return true;
}

/* The fixed fields are in (or known missed). False: the direction is
 * lost. */
static bool fixed_done(struct h2_decoder *d, enum h2_dir dir)
{
	struct h2_side *s = &d->side[dir];
	bool padded = s->flags & H2_FLAG_PADDED;

	switch (s->type) {
	case H2_HEADERS:
	case H2_PUSH_PROMISE:
		if (s->fix_lost) {
			if (s->type == H2_PUSH_PROMISE)
				s->block_payload_unknown = true;
			/* without the padding length, the block's end */
			if (padded)
				h2_hpack_fail(&s->hpack, &s->fields, false);
			break;
		}
		if (padded) {
			s->pad = s->fix[0];
			if (s->pad > s->len - s->fix_need) {
				side_lose(d, dir);
				return false;
			}
		}
		if (s->type == H2_PUSH_PROMISE)
			s->block_promised =
				be32(s->fix + padded) & H2_STREAM_MASK;
		break;
	case H2_SETTINGS:
		if (s->fix_lost) {
			s->payload_unknown = true;
			s->settings_lost = true;
		} else if (!(s->flags & H2_FLAG_ACK)) {
			settings_entry(d, dir, s->fix);
		}
		/* the next entry */
		s->fix_have = 0;
		s->fix_lost = false;
		if (!s->left)
			s->fix_need = 0;
		break;
	default:
		if (s->fix_lost)
			s->payload_unknown = true;
		break;
	}
	return true;
}

/* Payload bytes of the frame, p[0..n) (n <= left); p NULL: moved but
 * not captured. False: the direction is lost. */
static bool frame_payload(struct h2_decoder *d, enum h2_dir dir,
			  const uint8_t *p, size_t n)
{
	struct h2_side *s = &d->side[dir];

	while (n) {
		size_t m;

		if (s->fix_have < s->fix_need) {
			m = s->fix_need - s->fix_have;
			if (m > n)
				m = n;
			if (p)
				memcpy(s->fix + s->fix_have, p, m);
			else
				s->fix_lost = true;
			s->fix_have += (uint8_t)m;
			s->left -= (uint32_t)m;
			n -= m;
			if (p)
				p += m;
			if (s->fix_have == s->fix_need && !fixed_done(d, dir))
				return false;
			continue;
		}
		m = n;
		if (is_block_type(s->type)) {
			uint32_t pos = s->len - s->left;
			uint32_t end = s->len - s->pad;

			if (pos < end) {
				if (m > end - pos)
					m = end - pos;
				if (p)
					h2_hpack_feed(&s->hpack, &s->fields, p,
						      m, false);
				else
					h2_hpack_fail(&s->hpack, &s->fields,
						      false);
			}
		}
		s->left -= (uint32_t)m;
		n -= m;
		if (p)
			p += m;
	}
	return true;
}

static void frame_end(struct h2_decoder *d, enum h2_dir dir)
{
	struct h2_side *s = &d->side[dir];

	s->state = ST_HEADER;
	if (is_block_type(s->type)) {
		if (!(s->flags & H2_FLAG_END_HEADERS))
			return;
		s->block_flags |= H2_FLAG_END_HEADERS;
		h2_hpack_feed(&s->hpack, &s->fields, NULL, 0, true);
		report_block(d, dir);
		return;
	}
	if (s->type <= H2_TYPE_KNOWN_MAX)
		report(d, dir);
}

/* Captured bytes p[0..n) of dir, in step. */
static void side_bytes(struct h2_decoder *d, enum h2_dir dir, const uint8_t *p,
		       size_t n)
{
	struct h2_side *s = &d->side[dir];

	while (n) {
		size_t m;

		switch (s->state) {
		case ST_PREFACE:
			m = H2_PREFACE_LEN - s->preface_have;
			if (m > n)
				m = n;
			if (memcmp(p, h2_client_preface + s->preface_have,
				   m)) {
				side_lose(d, dir);
				return;
			}
			s->preface_have += (uint8_t)m;
			if (s->preface_have == H2_PREFACE_LEN)
				s->state = ST_HEADER;
			break;
		case ST_HEADER:
			if (!s->hdr_have) {
				s->first_enter_ns = s->enter_ns;
				s->first_ts_ns = s->ts_ns;
			}
			m = H2_HEADER_LEN - s->hdr_have;
			if (m > n)
				m = n;
			memcpy(s->hdr + s->hdr_have, p, m);
			s->hdr_have += (uint8_t)m;
			if (s->hdr_have == H2_HEADER_LEN) {
				if (!frame_begin(d, dir))
					return;
				if (!s->left)
					frame_end(d, dir);
			}
			break;
		case ST_PAYLOAD:
			m = s->left < n ? s->left : n;
			if (!frame_payload(d, dir, p, m))
				return;
			if (!s->left)
				frame_end(d, dir);
			break;
		default:
			return;
		}
		p += m;
		n -= m;
	}
}

/* n bytes of dir moved but not captured, in step. */
static void side_skip(struct h2_decoder *d, enum h2_dir dir, size_t n)
{
	struct h2_side *s = &d->side[dir];

	while (n) {
		size_t m;

		switch (s->state) {
		case ST_PREFACE:
			/* its bytes are known without seeing them */
			m = H2_PREFACE_LEN - s->preface_have;
			if (m > n)
				m = n;
			s->preface_have += (uint8_t)m;
			if (s->preface_have == H2_PREFACE_LEN)
				s->state = ST_HEADER;
			break;
		case ST_PAYLOAD:
			m = s->left < n ? s->left : n;
			if (!frame_payload(d, dir, NULL, m))
				return;
			if (!s->left)
				frame_end(d, dir);
			break;
		case ST_HEADER:
			side_lose(d, dir);
			return;
		default:
			return;
		}
		n -= m;
	}
}

struct h2_decoder *h2_decoder_new(void)
{
	struct h2_decoder *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	for (int i = 0; i < 2; i++) {
		struct h2_side *s = &d->side[i];

		s->state = i == H2_FROM_CLIENT ? ST_PREFACE : ST_HEADER;
		s->max_frame_size = H2_MAX_FRAME_DEFAULT;
		s->header_table_size = H2_HPACK_TABLE_DEFAULT;
		h2_hpack_init(&s->hpack);
	}
	return d;
}

void h2_decoder_free(struct h2_decoder *d)
{
	if (!d)
		return;
	h2_hpack_free(&d->side[0].hpack);
	h2_hpack_free(&d->side[1].hpack);
	free(d);
}

void h2_decoder_feed(struct h2_decoder *d, enum h2_dir dir,
		     const uint8_t *data, size_t captured, size_t len,
		     uint64_t enter_ns, uint64_t ts_ns, h2_frame_fn fn,
		     void *user)
{
	struct h2_side *s;

	if (!d || (dir != H2_FROM_CLIENT && dir != H2_FROM_SERVER))
		return;
	s = &d->side[dir];
	if (!data)
		captured = 0;
	if (captured > len)
		captured = len;
	d->fn = fn;
	d->user = user;
	s->enter_ns = enter_ns;
	s->ts_ns = ts_ns;
	if (s->state == ST_LOST) {
		if (captured != len || !record_is_frames(d, dir, data, len))
			return;
		s->state = ST_HEADER;
		s->hdr_have = 0;
	}
	side_bytes(d, dir, data, captured);
	if (len > captured && s->state != ST_LOST)
		side_skip(d, dir, len - captured);
	d->fn = NULL;
	d->user = NULL;
}

void h2_decoder_gap(struct h2_decoder *d, enum h2_dir dir, h2_frame_fn fn,
		    void *user)
{
	if (!d || (dir != H2_FROM_CLIENT && dir != H2_FROM_SERVER))
		return;
	d->fn = fn;
	d->user = user;
	side_lose(d, dir);
	d->fn = NULL;
	d->user = NULL;
}

bool h2_decoder_lost(const struct h2_decoder *d, enum h2_dir dir)
{
	if (!d || (dir != H2_FROM_CLIENT && dir != H2_FROM_SERVER))
		return false;
	return d->side[dir].state == ST_LOST;
}

/* The decoder itself and what each inflater has from malloc (counted
 * with malloc_usable_size() through its allocator: its table entries,
 * the field it is in the middle of, its own struct). Nothing else is
 * allocated. */
size_t h2_decoder_held_bytes(const struct h2_decoder *d)
{
	if (!d)
		return 0;
	return sizeof(*d) + d->side[0].hpack.held + d->side[1].hpack.held;
}

static const char *const h2_error_names[] = {
	"NO_ERROR",
	"PROTOCOL_ERROR",
	"INTERNAL_ERROR",
	"FLOW_CONTROL_ERROR",
	"SETTINGS_TIMEOUT",
	"STREAM_CLOSED",
	"FRAME_SIZE_ERROR",
	"REFUSED_STREAM",
	"CANCEL",
	"COMPRESSION_ERROR",
	"CONNECT_ERROR",
	"ENHANCE_YOUR_CALM",
	"INADEQUATE_SECURITY",
	"HTTP_1_1_REQUIRED",
};

const char *h2_error_name(uint32_t code, char *buf, size_t size)
{
	if (code < sizeof(h2_error_names) / sizeof(h2_error_names[0]))
		return h2_error_names[code];
	if (!buf || !size)
		return "unknown error";
	snprintf(buf, size, "error 0x%x", code);
	return buf;
}
