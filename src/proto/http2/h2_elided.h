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

/* One piece: len bytes moved, the first `captured` of them at data
 * (for an elided record captured is len or 0; data is never NULL, so
 * that it can go to h2_decoder_feed() as it is: h2_stitch.c's
 * h2_feed()). */
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

#endif /* HTTPTRACE_H2_ELIDED_H */
