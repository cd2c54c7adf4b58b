/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The HPACK side of the HTTP/2 frame decoder (h2_frame.c): one
 * direction's header blocks, fed in pieces as their frames arrive,
 * decoded with libnghttp2's inflater into the shown fields. Private to
 * h2_frame.c and its tests.
 *
 * The table is either in step with the encoder's or lost. Lost (a gap, a
 * block not decoded whole): the next block starts a new inflater with an
 * empty table. Entries added from then on sit at the same indexes as in
 * the encoder's table (HPACK indexes count from the newest entry), so
 * they stay right for later blocks; a reference past them fails the
 * block, and the table is lost again.
 */
#ifndef HTTPTRACE_H2_HPACK_H
#define HTTPTRACE_H2_HPACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nghttp2/nghttp2.h>

#include "proto/http2/h2_frame.h"

/* RFC 9113 6.5.2: the initial SETTINGS_HEADER_TABLE_SIZE */
#define H2_HPACK_TABLE_DEFAULT 4096
/*
 * The largest dynamic table an encoder may set with a table size update
 * before its blocks count as unknown (never wrong: a reference past our
 * smaller table fails). Browsers announce 64 KiB, most peers keep 4 KiB.
 * It bounds what a table holds: entries of 32 bytes in RFC 7541 terms
 * cost some 200 bytes of malloc each, so some 450 KiB a direction.
 */
#define H2_HPACK_TABLE_CAP (64u << 10)

struct h2_hpack {
	nghttp2_hd_inflater *inf; /* NULL until the first block */
	nghttp2_mem mem;          /* counts into held */
	size_t held;              /* bytes the inflater holds from malloc */
	bool table_lost;          /* the next block starts an empty table */
	bool in_block;
	bool failed; /* this block's remaining fields unknown */
};

void h2_hpack_init(struct h2_hpack *h);
void h2_hpack_free(struct h2_hpack *h);

/* A block begins; f is cleared. table_size: the largest dynamic table
 * the encoder may use, for a new table after a loss. */
void h2_hpack_begin(struct h2_hpack *h, struct h2_fields *f,
		    size_t table_size);
/* The block's next bytes; final with the last of them. */
void h2_hpack_feed(struct h2_hpack *h, struct h2_fields *f, const uint8_t *p,
		   size_t n, bool final);
/* Bytes of the block are missing: its remaining fields are unknown and
 * the table is lost. Ends the block when final. */
void h2_hpack_fail(struct h2_hpack *h, struct h2_fields *f, bool final);
/* Blocks were lost whole: the table is lost. */
void h2_hpack_lose_table(struct h2_hpack *h);

/* Percent-decodes src[0..n) into dst (size > 0), NUL-terminated,
 * truncated to fit; "%zz" and a lone "%" stay as they are. */
void h2_percent_decode(char *dst, size_t size, const uint8_t *src, size_t n);

#endif /* HTTPTRACE_H2_HPACK_H */
