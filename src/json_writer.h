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
 * is written as is.
 *
 * The writer does not check that starts and ends pair up or that a name
 * comes before each object member; that is the caller's job. Write errors
 * stick in the FILE (see ferror()).
 *
 * Output collects in the writer's own buffer and goes to the FILE in one
 * fwrite when a top-level value is complete (or the buffer fills): stdio
 * per character was most of the daemon's time (docs/BENCH.md).
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

#define JW_BUF_SIZE 8192

struct json_writer {
	FILE *out;
	bool need_comma;   /* a value was written at this level */
	bool after_name;   /* a member name was written, its value is due */
	unsigned int depth; /* open objects and arrays */
	size_t len;        /* bytes waiting in buf */
	char buf[JW_BUF_SIZE];
};

void jw_init(struct json_writer *jw, FILE *out);
/* Writes out what is buffered; done by itself after each top-level value. */
void jw_flush(struct json_writer *jw);
/* Raw bytes between values (e.g. the newline after a record). */
void jw_raw(struct json_writer *jw, const char *s, size_t len);

void jw_start_object(struct json_writer *jw);
void jw_end_object(struct json_writer *jw);
void jw_start_array(struct json_writer *jw);
void jw_end_array(struct json_writer *jw);

/* An object member's name; escaped like any string. */
void jw_name(struct json_writer *jw, const char *name);
/*
 * A member name that is a string literal (anything else does not
 * compile), written as is: the program's own keys need no escaping, and
 * measuring and escaping ~60 of them per record was a fifth of the JSON
 * output's cost. The literal must not need escaping.
 */
#define jw_key(jw, lit) \
	jw_name_raw((jw), "\"" lit "\":", sizeof("\"" lit "\":") - 1)
/* `quoted` is the name in quotes and the colon, ready to go out. */
void jw_name_raw(struct json_writer *jw, const char *quoted, size_t len);

void jw_string(struct json_writer *jw, const char *s);
/* At most max bytes of s, fewer if a NUL comes first: for fixed-size
 * char arrays that may lack the NUL. */
void jw_string_n(struct json_writer *jw, const char *s, size_t max);
/* Exactly len bytes; NUL bytes are written as \u0000. */
void jw_bytes(struct json_writer *jw, const void *data, size_t len);
void jw_int(struct json_writer *jw, int64_t value);
void jw_uint(struct json_writer *jw, uint64_t value);
void jw_bool(struct json_writer *jw, bool value);
void jw_null(struct json_writer *jw);

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
