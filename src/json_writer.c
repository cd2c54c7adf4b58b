// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Streaming JSON writer; see json_writer.h.
 */
#include <inttypes.h>
#include <string.h>

#include "json_writer.h"

void jw_init(struct json_writer *jw, FILE *out)
{
	jw->out = out;
	jw->need_comma = false;
	jw->after_name = false;
}

/* Every value and every name goes through here first. */
static void separate(struct json_writer *jw)
{
	if (jw->after_name)
		jw->after_name = false;
	else if (jw->need_comma)
		putc(',', jw->out);
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

static void write_escaped(FILE *out, const uint8_t *s, size_t len)
{
	size_t i = 0, run = 0;

	putc('"', out);
	while (i < len) {
		uint8_t c = s[i];
		size_t n;

		/* Plain printable ASCII: batch it up. */
		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
			run++;
			i++;
			continue;
		}
		n = c >= 0x80 ? utf8_seq_len(s + i, len - i) : 0;
		if (n) {
			run += n;
			i += n;
			continue;
		}
		if (run)
			fwrite(s + i - run, 1, run, out);
		run = 0;
		switch (c) {
		case '"':
			fputs("\\\"", out);
			break;
		case '\\':
			fputs("\\\\", out);
			break;
		case '\n':
			fputs("\\n", out);
			break;
		case '\r':
			fputs("\\r", out);
			break;
		case '\t':
			fputs("\\t", out);
			break;
		case '\b':
			fputs("\\b", out);
			break;
		case '\f':
			fputs("\\f", out);
			break;
		default:
			if (c < 0x80) /* other controls and DEL */
				fprintf(out, "\\u%04x", c);
			else
				fputs("\\ufffd", out);
			break;
		}
		i++;
	}
	if (run)
		fwrite(s + i - run, 1, run, out);
	putc('"', out);
}

void jw_start_object(struct json_writer *jw)
{
	separate(jw);
	putc('{', jw->out);
	jw->need_comma = false;
}

void jw_end_object(struct json_writer *jw)
{
	putc('}', jw->out);
	jw->need_comma = true;
	jw->after_name = false;
}

void jw_start_array(struct json_writer *jw)
{
	separate(jw);
	putc('[', jw->out);
	jw->need_comma = false;
}

void jw_end_array(struct json_writer *jw)
{
	putc(']', jw->out);
	jw->need_comma = true;
	jw->after_name = false;
}

void jw_name(struct json_writer *jw, const char *name)
{
	separate(jw);
	write_escaped(jw->out, (const uint8_t *)name, strlen(name));
	putc(':', jw->out);
	jw->after_name = true;
}

void jw_bytes(struct json_writer *jw, const void *data, size_t len)
{
	separate(jw);
	write_escaped(jw->out, data, len);
	jw->need_comma = true;
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
	fprintf(jw->out, "%" PRId64, value);
	jw->need_comma = true;
}

void jw_uint(struct json_writer *jw, uint64_t value)
{
	separate(jw);
	fprintf(jw->out, "%" PRIu64, value);
	jw->need_comma = true;
}

void jw_bool(struct json_writer *jw, bool value)
{
	separate(jw);
	fputs(value ? "true" : "false", jw->out);
	jw->need_comma = true;
}

void jw_null(struct json_writer *jw)
{
	separate(jw);
	fputs("null", jw->out);
	jw->need_comma = true;
}

void jw_string_field(struct json_writer *jw, const char *name, const char *s)
{
	jw_name(jw, name);
	jw_string(jw, s);
}

void jw_int_field(struct json_writer *jw, const char *name, int64_t value)
{
	jw_name(jw, name);
	jw_int(jw, value);
}

void jw_uint_field(struct json_writer *jw, const char *name, uint64_t value)
{
	jw_name(jw, name);
	jw_uint(jw, value);
}

void jw_bool_field(struct json_writer *jw, const char *name, bool value)
{
	jw_name(jw, name);
	jw_bool(jw, value);
}

void jw_null_field(struct json_writer *jw, const char *name)
{
	jw_name(jw, name);
	jw_null(jw);
}
