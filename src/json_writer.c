// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Streaming JSON writer; see json_writer.h.
 */
#include <string.h>

#include "json_writer.h"

void jw_init(struct json_writer *jw, FILE *out)
{
	jw->out = out;
	jw->need_comma = false;
	jw->after_name = false;
	jw->depth = 0;
	jw->len = 0;
}

void jw_flush(struct json_writer *jw)
{
	if (jw->len)
		fwrite(jw->buf, 1, jw->len, jw->out);
	jw->len = 0;
}

static void put(struct json_writer *jw, const void *data, size_t n)
{
	if (jw->len + n > sizeof(jw->buf)) {
		jw_flush(jw);
		if (n > sizeof(jw->buf)) {
			fwrite(data, 1, n, jw->out);
			return;
		}
	}
	memcpy(jw->buf + jw->len, data, n);
	jw->len += n;
}

static void put_char(struct json_writer *jw, char c)
{
	if (jw->len == sizeof(jw->buf))
		jw_flush(jw);
	jw->buf[jw->len++] = c;
}

void jw_raw(struct json_writer *jw, const char *s, size_t len)
{
	put(jw, s, len);
	if (!jw->depth)
		jw_flush(jw);
}

/* A value is complete: at top level, out it goes. */
static void value_done(struct json_writer *jw)
{
	jw->need_comma = true;
	if (!jw->depth)
		jw_flush(jw);
}

/* Every value and every name goes through here first. */
static void separate(struct json_writer *jw)
{
	if (jw->after_name)
		jw->after_name = false;
	else if (jw->need_comma)
		put_char(jw, ',');
}

/*
 * Length of the well-formed UTF-8 sequence at s (Unicode Table 3-7), or 0
 * if the byte at s does not start one: overlong forms, surrogates and
 * code points past U+10FFFF are rejected so a strict reader accepts the
 * result.
 */
static size_t utf8_seq_len(const uint8_t *s, size_t avail)
{
	uint8_t c = s[0];
	uint8_t lo = 0x80, hi = 0xbf;
	size_t n, i;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else {
		return 0;
	}
	if (avail < n)
		return 0;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < n; i++) {
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	}
	return n;
}

/*
 * What each byte becomes: 0 copied as is (printable ASCII), 1 starts a
 * UTF-8 sequence to check, 'u' a \u00XX escape, anything else the letter
 * after a backslash. A table rather than a chain of tests: escaping is
 * the inner loop of the JSON output.
 */
static const char escape_class[256] = {
	['\b'] = 'b', ['\t'] = 't', ['\n'] = 'n', ['\f'] = 'f', ['\r'] = 'r',
	[0x00] = 'u', [0x01] = 'u', [0x02] = 'u', [0x03] = 'u', [0x04] = 'u',
	[0x05] = 'u', [0x06] = 'u', [0x07] = 'u', [0x0b] = 'u', [0x0e] = 'u',
	[0x0f] = 'u', [0x10] = 'u', [0x11] = 'u', [0x12] = 'u', [0x13] = 'u',
	[0x14] = 'u', [0x15] = 'u', [0x16] = 'u', [0x17] = 'u', [0x18] = 'u',
	[0x19] = 'u', [0x1a] = 'u', [0x1b] = 'u', [0x1c] = 'u', [0x1d] = 'u',
	[0x1e] = 'u', [0x1f] = 'u', [0x7f] = 'u',
	['"'] = '"', ['\\'] = '\\',
	[0x80 ... 0xff] = 1,
};

static void write_escaped(struct json_writer *jw, const uint8_t *s,
			  size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t i = 0, run = 0;

	put_char(jw, '"');
	while (i < len) {
		uint8_t c = s[i];
		char cls = escape_class[c];
		size_t n;

		if (!cls) {
			run++;
			i++;
			continue;
		}
		if (cls == 1) {
			n = utf8_seq_len(s + i, len - i);
			if (n) {
				run += n;
				i += n;
				continue;
			}
		}
		if (run)
			put(jw, s + i - run, run);
		run = 0;
		if (cls == 1) {
			put(jw, "\\ufffd", 6);
		} else if (cls == 'u') {
			char u[6] = { '\\', 'u', '0', '0', hex[c >> 4],
				      hex[c & 15] };

			put(jw, u, sizeof(u));
		} else {
			char e[2] = { '\\', cls };

			put(jw, e, sizeof(e));
		}
		i++;
	}
	if (run)
		put(jw, s + i - run, run);
	put_char(jw, '"');
}

/* Decimal digits of v, by hand: snprintf per number was a visible part
 * of the JSON output's cost. */
static void put_u64(struct json_writer *jw, uint64_t v, bool negative)
{
	char digits[21];
	int n = sizeof(digits);

	do {
		digits[--n] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	if (negative)
		digits[--n] = '-';
	put(jw, digits + n, sizeof(digits) - (size_t)n);
}

void jw_start_object(struct json_writer *jw)
{
	separate(jw);
	put_char(jw, '{');
	jw->depth++;
	jw->need_comma = false;
}

void jw_end_object(struct json_writer *jw)
{
	put_char(jw, '}');
	if (jw->depth)
		jw->depth--;
	jw->after_name = false;
	value_done(jw);
}

void jw_start_array(struct json_writer *jw)
{
	separate(jw);
	put_char(jw, '[');
	jw->depth++;
	jw->need_comma = false;
}

void jw_end_array(struct json_writer *jw)
{
	put_char(jw, ']');
	if (jw->depth)
		jw->depth--;
	jw->after_name = false;
	value_done(jw);
}

void jw_name(struct json_writer *jw, const char *name)
{
	separate(jw);
	write_escaped(jw, (const uint8_t *)name, strlen(name));
	put_char(jw, ':');
	jw->after_name = true;
}

void jw_name_raw(struct json_writer *jw, const char *quoted, size_t len)
{
	separate(jw);
	put(jw, quoted, len);
	jw->after_name = true;
}

void jw_bytes(struct json_writer *jw, const void *data, size_t len)
{
	separate(jw);
	write_escaped(jw, data, len);
	value_done(jw);
}

void jw_string(struct json_writer *jw, const char *s)
{
	jw_bytes(jw, s, strlen(s));
}

void jw_string_n(struct json_writer *jw, const char *s, size_t max)
{
	jw_bytes(jw, s, strnlen(s, max));
}

void jw_int(struct json_writer *jw, int64_t value)
{
	separate(jw);
	/* the magnitude of INT64_MIN does not fit in int64_t */
	put_u64(jw, value < 0 ? (uint64_t)0 - (uint64_t)value : (uint64_t)value,
		value < 0);
	value_done(jw);
}

void jw_uint(struct json_writer *jw, uint64_t value)
{
	separate(jw);
	put_u64(jw, value, false);
	value_done(jw);
}

void jw_bool(struct json_writer *jw, bool value)
{
	separate(jw);
	if (value)
		put(jw, "true", 4);
	else
		put(jw, "false", 5);
	value_done(jw);
}

void jw_null(struct json_writer *jw)
{
	separate(jw);
	put(jw, "null", 4);
	value_done(jw);
}
