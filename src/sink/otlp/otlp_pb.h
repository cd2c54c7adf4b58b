/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The few protobuf wire types OTLP needs, written by hand: varints,
 * length-delimited fields (strings, bytes, nested messages) and fixed64
 * and fixed32 numbers, into a buffer that grows.
 *
 * Why no library: Debian's protobuf-c (and protobuf for C++) generate
 * code from .proto files, so the OpenTelemetry schema would have to be
 * vendored and compiled into the build, for a handful of messages whose
 * field numbers are fixed by the OTLP stability guarantees. Debian ships
 * no C bindings of OTLP itself (only Go's). The whole wire format we
 * write is the functions below.
 */
#ifndef HTTPTRACE_OTLP_PB_H
#define HTTPTRACE_OTLP_PB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Wire types. */
#define PB_VARINT 0
#define PB_FIXED64 1
#define PB_LEN 2
#define PB_FIXED32 5

struct pb_buf {
	uint8_t *p;
	size_t len, cap;
	bool oom;       /* an allocation failed: the contents are cut short */
};

void pb_free(struct pb_buf *b);
/* Empties b, keeping its memory. */
static inline void pb_reset(struct pb_buf *b)
{
	b->len = 0;
	b->oom = false;
}

void pb_raw(struct pb_buf *b, const void *data, size_t n);
void pb_varint(struct pb_buf *b, uint64_t v);
void pb_tag(struct pb_buf *b, uint32_t field, unsigned int wire_type);

/* Fields. A varint field of value 0 is still written: the callers leave
 * out what proto3 would leave out. */
void pb_uint(struct pb_buf *b, uint32_t field, uint64_t v);
/* int64 as proto3 writes it: a negative number is ten bytes */
void pb_int(struct pb_buf *b, uint32_t field, int64_t v);
void pb_fixed64(struct pb_buf *b, uint32_t field, uint64_t v);
void pb_fixed32(struct pb_buf *b, uint32_t field, uint32_t v);
void pb_bytes(struct pb_buf *b, uint32_t field, const void *data, size_t n);
void pb_str(struct pb_buf *b, uint32_t field, const char *s);

/*
 * A nested message: pb_begin() writes the tag and leaves one byte for
 * the length; pb_end() writes the length there, moving the contents on
 * when the length needs more bytes (rarely: most messages here are
 * under 128 bytes, and a move is a memmove of one message).
 */
size_t pb_begin(struct pb_buf *b, uint32_t field);
void pb_end(struct pb_buf *b, size_t mark);

#endif /* HTTPTRACE_OTLP_PB_H */
