// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * libFuzzer target for the layout of HTTP/2 records with DATA payloads
 * left out (h2_record_pieces). Bytes 0-1 are the flags, 2-5 the bytes
 * moved; the rest is the record's data. Invariants: the pieces add up
 * to the bytes moved, each is captured whole or not at all (or, for an
 * ordinary record, its captured prefix), and captured bytes lie inside
 * the record.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/http2/h2_elided.h"

struct check {
	const uint8_t *data;
	size_t size;
	uint64_t moved, captured;
	int pieces;
};

static void on_piece(void *user, const uint8_t *data, size_t captured,
		     size_t len)
{
	struct check *c = user;

	if (!data || captured > len)
		abort();
	if (captured && (data < c->data || data + captured > c->data + c->size))
		abort();
	c->moved += len;
	c->captured += captured;
	c->pieces++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct check c = { 0 };
	uint16_t flags;
	uint32_t ret;

	if (size < 6)
		return 0;
	memcpy(&flags, data, sizeof(flags));
	memcpy(&ret, data + 2, sizeof(ret));
	c.data = data + 6;
	c.size = size - 6;
	/* what the correlator lets through: captured_len <= ret */
	if (c.size > ret || ret == 0)
		return 0;
	h2_record_pieces(flags, c.data, c.size, ret, on_piece, &c);
	if (c.moved != ret || c.captured > c.size)
		abort();
	if (c.pieces > 2 * HT_ELIDED_MAX_RUNS + 2)
		abort();
	return 0;
}
