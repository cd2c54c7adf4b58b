/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * HTTP/2 frames from the bytes of both directions of one connection, as
 * the tracer sees them: records in order per direction, a record's bytes
 * perhaps captured only in part, records perhaps lost. Pure: no state
 * outside the decoder, no I/O; the correlator's per-stream stitching
 * (h2_stitch.c) is its only user besides the tests and the fuzzer.
 *
 * The contract:
 *  - h2_decoder_feed() takes one record of one direction: `len` bytes
 *    moved, of which `captured` (<= len) are in data. Frames may span
 *    records; a frame is reported once whole (its header block joined
 *    from HEADERS/PUSH_PROMISE and its CONTINUATIONs), with the times of
 *    the record that began it and of the record that completed it.
 *  - The client's connection preface is consumed, never reported.
 *  - Bytes moved but not captured: inside a DATA payload they are only
 *    counted; inside a header block the block's fields are unknown
 *    (fields->unknown); over a frame header the direction
 *    loses frame boundaries (an H2_FRAME_LOST report), and takes them
 *    again only as a gap would (below).
 *  - h2_decoder_gap(): records of the direction were lost. One
 *    H2_FRAME_LOST report; from then on the direction's frame boundaries
 *    and HPACK table are unknown. Boundaries come back at a record that
 *    is frames exactly (valid headers whose lengths add up to the
 *    record's length), never by guessing inside a record. The HPACK
 *    table does not come back: each later block is decoded with an
 *    empty table, which is right for literals, the static table and the
 *    entries the block itself adds; a reference past those makes the
 *    block's remaining fields unknown.
 *  - Header values: only those shown are kept (:method, :path,
 *    :authority, :status, content-type, grpc-status, grpc-message);
 *    every other field is counted, never copied.
 *  - Garbage (a length over the peer's SETTINGS_MAX_FRAME_SIZE or 2^24,
 *    an unknown layout) is an H2_FRAME_LOST report, never a crash; the
 *    fuzzer holds every input to that.
 */
#ifndef HTTPTRACE_H2_FRAME_H
#define HTTPTRACE_H2_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "timeline/timeline.h"

/* Which end wrote the bytes. Equal to enum side (pipeline/conn.h):
 * SIDE_REQ is the client, SIDE_RESP the server. */
enum h2_dir { H2_FROM_CLIENT = 0, H2_FROM_SERVER = 1 };

/* RFC 9113 section 6; H2_FRAME_LOST is ours. */
enum h2_frame_type {
	H2_DATA = 0x0,
	H2_HEADERS = 0x1,
	H2_PRIORITY = 0x2,
	H2_RST_STREAM = 0x3,
	H2_SETTINGS = 0x4,
	H2_PUSH_PROMISE = 0x5,
	H2_PING = 0x6,
	H2_GOAWAY = 0x7,
	H2_WINDOW_UPDATE = 0x8,
	H2_CONTINUATION = 0x9,
	H2_FRAME_LOST = 0x100, /* bytes of the direction lost; see above */
};

#define H2_FLAG_END_STREAM 0x1
#define H2_FLAG_ACK 0x1
#define H2_FLAG_END_HEADERS 0x4
#define H2_FLAG_PADDED 0x8
#define H2_FLAG_PRIORITY 0x20

#define H2_GRPC_MESSAGE_MAX 128
#define H2_CONTENT_TYPE_MAX 64

/* What a header block said, of the fields that are shown. "" / -1:
 * not in the block (or, with unknown, perhaps in the part not
 * decoded). */
struct h2_fields {
	char method[TL_METHOD_MAX];
	char path[TL_TARGET_MAX];
	char authority[TL_HOST_MAX];
	char content_type[H2_CONTENT_TYPE_MAX];
	char grpc_message[H2_GRPC_MESSAGE_MAX]; /* percent-decoded */
	int status;        /* :status, -1 */
	int grpc_status;   /* grpc-status, -1 */
	bool path_truncated;
	/* the block was not decoded whole (capture, lost records, an HPACK
	 * error): the fields above are right, the missing ones unknown */
	bool unknown;
	uint32_t n_fields; /* fields decoded, shown or not */
};

struct h2_frame {
	enum h2_frame_type type;
	uint8_t flags;
	uint32_t stream_id;
	uint32_t length;   /* payload length (a header block: all its frames) */
	/* the record in which the frame began, and the one that completed
	 * it: its call's entry and return */
	uint64_t first_enter_ns, first_ts_ns;
	uint64_t enter_ns, ts_ns;
	/* HEADERS, PUSH_PROMISE: the block decoded */
	const struct h2_fields *fields;
	uint32_t error_code;        /* RST_STREAM, GOAWAY */
	uint32_t last_stream_id;    /* GOAWAY */
	uint32_t promised_stream_id; /* PUSH_PROMISE */
	/* bytes of the payload's fixed fields were not captured: error_code,
	 * last_stream_id, promised_stream_id (or a SETTINGS entry) are
	 * unknown, 0 here */
	bool payload_unknown;
};

typedef void (*h2_frame_fn)(void *user, enum h2_dir dir,
			    const struct h2_frame *frame);

struct h2_decoder;

/* NULL when out of memory. */
struct h2_decoder *h2_decoder_new(void);
void h2_decoder_free(struct h2_decoder *d);

/* One record of dir, in order; fn gets each frame it completes. */
void h2_decoder_feed(struct h2_decoder *d, enum h2_dir dir,
		     const uint8_t *data, size_t captured, size_t len,
		     uint64_t enter_ns, uint64_t ts_ns, h2_frame_fn fn,
		     void *user);

/* Records of dir were lost (see the contract). */
void h2_decoder_gap(struct h2_decoder *d, enum h2_dir dir, h2_frame_fn fn,
		    void *user);

/* Are dir's frame boundaries lost (until a record that is frames
 * exactly)? */
bool h2_decoder_lost(const struct h2_decoder *d, enum h2_dir dir);

/* What a decoder holds from malloc, for the correlator's accounting. */
size_t h2_decoder_held_bytes(const struct h2_decoder *d);

/* "NO_ERROR", "PROTOCOL_ERROR", ... (RFC 9113 section 7); "error 0x%x"
 * written to buf for an unknown code. Returns the words. */
const char *h2_error_name(uint32_t code, char *buf, size_t size);

#endif /* HTTPTRACE_H2_FRAME_H */
