// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdlib.h>
#include <string.h>

#include "sink/otlp/otlp_pb.h"

void pb_free(struct pb_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

static bool pb_room(struct pb_buf *b, size_t n)
{
	size_t cap;
	uint8_t *p;

	if (b->oom)
		return false;
	if (b->len + n <= b->cap)
		return true;
	cap = b->cap ? b->cap : 256;
	while (cap < b->len + n)
		cap *= 2;
	p = realloc(b->p, cap);
	if (!p) {
		b->oom = true;
		return false;
	}
	b->p = p;
	b->cap = cap;
	return true;
}

void pb_raw(struct pb_buf *b, const void *data, size_t n)
{
	if (!n || !pb_room(b, n))
		return;
	memcpy(b->p + b->len, data, n);
	b->len += n;
}

static size_t varint_size(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

static void put_varint(uint8_t *p, uint64_t v)
{
	while (v >= 0x80) {
		*p++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*p = (uint8_t)v;
}

void pb_varint(struct pb_buf *b, uint64_t v)
{
	size_t n = varint_size(v);

	if (!pb_room(b, n))
		return;
	put_varint(b->p + b->len, v);
	b->len += n;
}

void pb_tag(struct pb_buf *b, uint32_t field, unsigned int wire_type)
{
	pb_varint(b, (uint64_t)field << 3 | wire_type);
}

void pb_uint(struct pb_buf *b, uint32_t field, uint64_t v)
{
	pb_tag(b, field, PB_VARINT);
	pb_varint(b, v);
}

void pb_int(struct pb_buf *b, uint32_t field, int64_t v)
{
	pb_uint(b, field, (uint64_t)v);
}

void pb_fixed64(struct pb_buf *b, uint32_t field, uint64_t v)
{
	uint8_t le[8];

	for (int i = 0; i < 8; i++)
		le[i] = (uint8_t)(v >> (8 * i));
	pb_tag(b, field, PB_FIXED64);
	pb_raw(b, le, sizeof(le));
}

void pb_fixed32(struct pb_buf *b, uint32_t field, uint32_t v)
{
	uint8_t le[4];

	for (int i = 0; i < 4; i++)
		le[i] = (uint8_t)(v >> (8 * i));
	pb_tag(b, field, PB_FIXED32);
	pb_raw(b, le, sizeof(le));
}

void pb_bytes(struct pb_buf *b, uint32_t field, const void *data, size_t n)
{
	pb_tag(b, field, PB_LEN);
	pb_varint(b, n);
	pb_raw(b, data, n);
}

void pb_str(struct pb_buf *b, uint32_t field, const char *s)
{
	pb_bytes(b, field, s, strlen(s));
}

size_t pb_begin(struct pb_buf *b, uint32_t field)
{
	pb_tag(b, field, PB_LEN);
	if (pb_room(b, 1))
		b->p[b->len++] = 0;
	return b->len;
}

void pb_end(struct pb_buf *b, size_t mark)
{
	size_t n, extra;

	if (b->oom || mark > b->len || mark == 0)
		return;
	n = b->len - mark;
	extra = varint_size(n) - 1;
	if (extra) {
		if (!pb_room(b, extra))
			return;
		memmove(b->p + mark + extra, b->p + mark, n);
		b->len += extra;
	}
	put_varint(b->p + mark - 1, n);
}
