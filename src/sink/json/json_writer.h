/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A small streaming JSON writer, in the spirit of bpftool's json_writer:
 * the caller says start/name/value/end and the writer puts the commas,
 * colons and quotes. Output is compact (no whitespace).
 *
 * Strings come from traced traffic and may hold anything, so every string
 * is escaped such that the output is always valid JSON: '"' and '\\',
 * control characters and DEL as escapes, and bytes that are not
 * well-formed UTF-8 as U+FFFD, one per byte. Well-formed multibyte UTF-8
 * is written as is. Only text the program makes itself (numbers,
 * addresses, names from its own tables) may skip that, through
 * jw_plain_string().
 *
 * The writer does not check that starts and ends pair up or that a name
 * comes before each object member; that is the caller's job. Write errors
 * stick in the FILE (see ferror()).
 *
 * Output collects in the writer's own buffer and goes to the FILE in one
 * fwrite when a top-level value is complete (or the buffer fills): stdio
 * per character was most of the daemon's time (docs/BENCH.md).
 *
 * Each value reserves room for the most it can take up and is written
 * straight into the buffer, which is flushed only when that room is not
 * there. The small, frequent calls are inline: a record has ~100 of
 * them, and the calls themselves were a visible part of its cost.
 *
 *	struct json_writer jw;
 *	jw_init(&jw, stdout);
 *	jw_start_object(&jw);
 *	jw_uint_field(&jw, "pid", 1234);
 *	jw_end_object(&jw);
 */
#ifndef HTTPTRACE_JSON_WRITER_H
#define HTTPTRACE_JSON_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define JW_BUF_SIZE 8192

struct json_writer {
	FILE *out;
	/* The next name or value at this level needs a comma before it: a
	 * value was written here, and no name since. */
	bool need_comma;
	bool lines;        /* '\n' after each top-level value */
	unsigned int depth; /* open objects and arrays */
	size_t len;        /* bytes waiting in buf */
	char buf[JW_BUF_SIZE];
};

void jw_init(struct json_writer *jw, FILE *out);
/* jw_init(), and each top-level value is followed by a newline (JSON
 * Lines), which goes out in the same fwrite. */
void jw_init_lines(struct json_writer *jw, FILE *out);
/* Writes out what is buffered; done by itself after each top-level value. */
void jw_flush(struct json_writer *jw);

/* Room for n more bytes (n <= JW_BUF_SIZE) at the end of the buffer,
 * flushing it if need be; returns where they go. */
static inline char *jw_reserve(struct json_writer *jw, size_t n)
{
	if (__builtin_expect(n > sizeof(jw->buf) - jw->len, 0))
		jw_flush(jw);
	return jw->buf + jw->len;
}

/* Where a value of at most `room` bytes goes: after its comma, if one is
 * due. Branch-free: the comma is always stored, and overwritten by the
 * value when not due. */
static inline char *jw_value_start(struct json_writer *jw, size_t room)
{
	char *p = jw_reserve(jw, room + 1);

	*p = ',';
	return p + jw->need_comma;
}

/* For jw_value_end(): a top-level value is complete. */
void jw_top_value_done(struct json_writer *jw);

/* The value written from jw_value_start() ends before `end`. */
static inline void jw_value_end(struct json_writer *jw, char *end)
{
	jw->len = (size_t)(end - jw->buf);
	jw->need_comma = true;
	if (!jw->depth)
		jw_top_value_done(jw);
}

/* For the start and end functions below. */
static inline void jw_open(struct json_writer *jw, char bracket)
{
	char *p = jw_value_start(jw, 1);

	*p++ = bracket;
	jw->len = (size_t)(p - jw->buf);
	jw->depth++;
	jw->need_comma = false;
}

static inline void jw_close(struct json_writer *jw, char bracket)
{
	char *p = jw_reserve(jw, 1);

	*p++ = bracket;
	if (jw->depth)
		jw->depth--;
	jw_value_end(jw, p);
}

static inline void jw_start_object(struct json_writer *jw)
{
	jw_open(jw, '{');
}

static inline void jw_end_object(struct json_writer *jw)
{
	jw_close(jw, '}');
}

static inline void jw_start_array(struct json_writer *jw)
{
	jw_open(jw, '[');
}

static inline void jw_end_array(struct json_writer *jw)
{
	jw_close(jw, ']');
}

/* An object member's name; escaped like any string. */
void jw_name(struct json_writer *jw, const char *name);

/*
 * `comma_quoted` is a comma, the name in quotes and the colon, all `len`
 * bytes of it ready to go out; the comma only when one is due (as in
 * jw_value_start()). Inline, with len known at compile time, the copy
 * is a few moves.
 */
static inline void jw_comma_name(struct json_writer *jw,
				 const char *comma_quoted, size_t len)
{
	char *p = jw_reserve(jw, len);
	/* read before the stores through p, which might alias it */
	size_t comma = jw->need_comma;

	p[0] = ',';
	memcpy(p + comma, comma_quoted + 1, len - 1);
	jw->len = (size_t)(p - jw->buf) + comma + len - 1;
	jw->need_comma = false;
}

/*
 * A member name that is a string literal (anything else does not
 * compile), written as is: the program's own keys need no escaping, and
 * measuring and escaping ~60 of them per record was a fifth of the JSON
 * output's cost. The literal must not need escaping.
 */
#define jw_key(jw, lit) \
	jw_comma_name((jw), ",\"" lit "\":", sizeof(",\"" lit "\":") - 1)

void jw_string(struct json_writer *jw, const char *s);
/* At most max bytes of s, fewer if a NUL comes first: for fixed-size
 * char arrays that may lack the NUL. All max bytes may be read. */
void jw_string_n(struct json_writer *jw, const char *s, size_t max);
/* Exactly len bytes; NUL bytes are written as \u0000. */
void jw_bytes(struct json_writer *jw, const void *data, size_t len);
/*
 * Exactly len bytes, not escaped: s must hold printable ASCII only, and
 * neither '"' nor '\\'. For text the program made itself (numbers,
 * addresses, names from its own tables), which escaping would only
 * copy, at a cost. len <= JW_BUF_SIZE - 3.
 */
void jw_plain_string(struct json_writer *jw, const char *s, size_t len);
#define jw_plain_literal(jw, lit) jw_plain_string((jw), lit, sizeof(lit) - 1)
void jw_int(struct json_writer *jw, int64_t value);
void jw_uint(struct json_writer *jw, uint64_t value);

static inline void jw_bool(struct json_writer *jw, bool value)
{
	char *p = jw_value_start(jw, 5);

	if (value) {
		memcpy(p, "true", 4);
		p += 4;
	} else {
		memcpy(p, "false", 5);
		p += 5;
	}
	jw_value_end(jw, p);
}

static inline void jw_null(struct json_writer *jw)
{
	char *p = jw_value_start(jw, 4);

	memcpy(p, "null", 4);
	jw_value_end(jw, p + 4);
}

/* A member in one call, its name a string literal as for jw_key(); a
 * name from elsewhere goes through jw_name(). */
#define jw_string_field(jw, lit, s) \
	do { jw_key(jw, lit); jw_string(jw, s); } while (0)
#define jw_int_field(jw, lit, v) do { jw_key(jw, lit); jw_int(jw, v); } while (0)
#define jw_uint_field(jw, lit, v) \
	do { jw_key(jw, lit); jw_uint(jw, v); } while (0)
#define jw_bool_field(jw, lit, v) \
	do { jw_key(jw, lit); jw_bool(jw, v); } while (0)
#define jw_null_field(jw, lit) do { jw_key(jw, lit); jw_null(jw); } while (0)

#endif /* HTTPTRACE_JSON_WRITER_H */
