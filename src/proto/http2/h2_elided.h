/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * HTTP/2 data records whose DATA payloads the BPF side left out
 * (HT_DATA_ELIDED, include/httptrace_events.h), turned back into what
 * the frame decoder takes: pieces of the record's bytes in order, each
 * either captured whole (kept bytes) or not captured at all (a run left
 * out, inside a DATA payload, which the decoder only counts; or the
 * bytes past the last kept one that were not followed). Pure.
 */
#ifndef HTTPTRACE_H2_ELIDED_H
#define HTTPTRACE_H2_ELIDED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "httptrace_events.h"
#include "proto/http2/h2_frame.h"

/* One piece: len bytes moved, the first `captured` of them at data
 * (for an elided record captured is len or 0; data is never NULL, so
 * that it can go to h2_decoder_feed() as it is). */
typedef void (*h2_piece_fn)(void *user, const uint8_t *data,
			    size_t captured, size_t len);

/*
 * Gives fn the pieces of a data record of `ret` (> 0) bytes moved,
 * `captured_len` bytes of which are in data, with the record's flags:
 * an ordinary record is one piece (data, captured_len, ret); an
 * HT_DATA_ELIDED one is its kept bytes and its runs in order, then what
 * was neither. A record whose layout cannot be (runs out of order or
 * past ret, more kept bytes than the runs leave room for) is one piece
 * with nothing captured, and false is returned: the decoder then loses
 * what it would about bytes it never saw, rather than frames made up.
 */
bool h2_record_pieces(uint16_t flags, const uint8_t *data,
		      size_t captured_len, uint64_t ret, h2_piece_fn fn,
		      void *user);

/*
 * h2_decoder_feed() for a whole data record: each piece goes to the
 * decoder as a record of its own with the record's times. Inline, so
 * that this header asks nothing of the decoder where it is not used.
 */
struct h2_feed_ctx {
	struct h2_decoder *d;
	enum h2_dir dir;
	uint64_t enter_ns, ts_ns;
	h2_frame_fn fn;
	void *user;
};

static inline void h2_feed_piece(void *user, const uint8_t *data,
				 size_t captured, size_t len)
{
	struct h2_feed_ctx *c = user;

	h2_decoder_feed(c->d, c->dir, data, captured, len, c->enter_ns,
			c->ts_ns, c->fn, c->user);
}

static inline bool h2_decoder_feed_event(struct h2_decoder *d,
					 enum h2_dir dir,
					 const struct ht_data_event *ev,
					 h2_frame_fn fn, void *user)
{
	struct h2_feed_ctx c = { d, dir, ev->enter_ns, ev->hdr.ts_ns, fn,
				 user };

	if (ev->ret <= 0)
		return true;
	return h2_record_pieces(ev->flags, ev->data, ev->captured_len,
				(uint64_t)ev->ret, h2_feed_piece, &c);
}

#endif /* HTTPTRACE_H2_ELIDED_H */
