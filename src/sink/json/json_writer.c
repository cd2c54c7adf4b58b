// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Streaming JSON writer; see json_writer.h.
 */
#include <string.h>

#include "sink/json/json_writer.h"

void jw_init(struct json_writer *jw, FILE *out)
{
	jw->out = out;
	jw->need_comma = false;
	jw->lines = false;
	jw->depth = 0;
	jw->len = 0;
}

void jw_init_lines(struct json_writer *jw, FILE *out)
{
	jw_init(jw, out);
	jw->lines = true;
}

void jw_flush(struct json_writer *jw)
{
	if (jw->len)
		fwrite(jw->buf, 1, jw->len, jw->out);
	jw->len = 0;
}

/* At top level, out it goes. */
void jw_top_value_done(struct json_writer *jw)
{
	if (jw->lines) {
		*jw_reserve(jw, 1) = '\n';
		jw->len++;
	}
	jw_flush(jw);
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

/* The most one input byte becomes: "\u00XX" or "\ufffd". */
#define ESCAPED_MAX 6
/* Input bytes escaped per reservation of room: as many as the buffer
 * holds with a comma before them, and the quotes and a colon (or the
 * 8 bytes escape_into() may store) after. */
#define ESCAPE_CHUNK ((JW_BUF_SIZE - 10) / ESCAPED_MAX)

/* The room put_escaped() needs: the quotes, up to ESCAPED_MAX bytes per
 * input byte, and 8 more for escape_into(), so one byte may follow. */
static size_t escaped_room(size_t len)
{
	return (len < ESCAPE_CHUNK ? len : ESCAPE_CHUNK) * ESCAPED_MAX + 9;
}

#define BYTES_01 0x0101010101010101ull
#define BYTES_80 0x8080808080808080ull

/* 8 bytes with the first in the low byte, whatever the machine. */
static uint64_t load_le64(const uint8_t *s)
{
	uint64_t w;

	memcpy(&w, s, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	w = __builtin_bswap64(w);
#endif
	return w;
}

static void store_le64(char *p, uint64_t w)
{
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	w = __builtin_bswap64(w);
#endif
	memcpy(p, &w, 8);
}

/*
 * The bytes of w (first byte lowest) that are not copied as is: below
 * 0x20, '"', '\\', or 0x7f and up, as their top bits. Each term is a
 * classic "has a byte less than n" / "has a zero byte" test: a borrow or
 * carry can set a false bit only above a true one, so the lowest bit
 * set marks the first such byte exactly.
 */
static uint64_t escape_mask(uint64_t w)
{
	uint64_t quote = w ^ (BYTES_01 * '"');
	uint64_t backslash = w ^ (BYTES_01 * '\\');
	uint64_t control = (w - BYTES_01 * 0x20) & ~w;
	uint64_t is_quote = (quote - BYTES_01) & ~quote;
	uint64_t is_backslash = (backslash - BYTES_01) & ~backslash;
	uint64_t del_or_high = (w + BYTES_01) | w;

	return (control | is_quote | is_backslash | del_or_high) & BYTES_80;
}

/*
 * Escapes s[*pos] up to `stop` into out, which has room for ESCAPED_MAX
 * bytes per input byte and 8 more. A UTF-8 sequence that starts before
 * `stop` may run past it, up to `len`. With nul_ends, a NUL byte ends
 * the string: *pos becomes len. Advances *pos; returns the end of what
 * was written.
 *
 * Eight bytes at a time, as most strings are plain ASCII all through:
 * the word goes out whole, then out and *pos advance to its first byte
 * that needs more (escape_mask()), which is dealt with alone.
 */
static char *escape_into(char *out, const uint8_t *s, size_t *pos,
			 size_t stop, size_t len, bool nul_ends)
{
	static const char hex[] = "0123456789abcdef";
	size_t i = *pos;

	while (i < stop) {
		size_t left = stop - i, n;
		uint64_t w, mask;
		uint8_t c;
		char cls;

		if (stop >= 8) {
			if (left >= 8) {
				w = load_le64(s + i);
			} else {
				/* The last bytes: the word that ends with them,
				 * shifted down, and plain bytes above. */
				w = load_le64(s + stop - 8) >> (8 * (8 - left));
				w |= (BYTES_01 * 'a') << (8 * left);
			}
			store_le64(out, w);
			mask = escape_mask(w);
			if (!mask) {
				n = left < 8 ? left : 8;
				out += n;
				i += n;
				continue;
			}
			n = (size_t)__builtin_ctzll(mask) / 8;
			out += n;
			i += n;
		}
		/* s[i] alone: a byte that needs more than a copy, or one of
		 * a string too short for a word. */
		c = s[i];
		cls = escape_class[c];
		if (!cls) {
			*out++ = (char)c;
		} else if (cls == 1) {
			n = utf8_seq_len(s + i, len - i);
			if (n) {
				do {
					*out++ = (char)s[i++];
				} while (--n);
				continue;
			}
			memcpy(out, "\\ufffd", 6);
			out += 6;
		} else if (cls == 'u') {
			if (c == 0 && nul_ends) {
				i = len;
				break;
			}
			memcpy(out, "\\u00", 4);
			out[4] = hex[c >> 4];
			out[5] = hex[c & 15];
			out += 6;
		} else {
			out[0] = '\\';
			out[1] = cls;
			out += 2;
		}
		i++;
	}
	*pos = i;
	return out;
}

/* s[0..len) escaped (up to a NUL, with nul_ends), in quotes, at out,
 * which has escaped_room(len). Returns the end. */
static char *put_escaped(struct json_writer *jw, char *out, const uint8_t *s,
			 size_t len, bool nul_ends)
{
	size_t i = 0;

	*out++ = '"';
	for (;;) {
		size_t n = len - i < ESCAPE_CHUNK ? len - i : ESCAPE_CHUNK;

		out = escape_into(out, s, &i, i + n, len, nul_ends);
		if (i >= len)
			break;
		/* A long string: make room for the next chunk. */
		jw->len = (size_t)(out - jw->buf);
		out = jw_reserve(jw, escaped_room(len - i));
	}
	*out++ = '"';
	return out;
}

static const char two_digits[200] =
	"00010203040506070809101112131415161718192021222324"
	"25262728293031323334353637383940414243444546474849"
	"50515253545556575859606162636465666768697071727374"
	"75767778798081828384858687888990919293949596979899";

/* Number of decimal digits in v: from the bit length, which tells the
 * digits to within one. */
static unsigned int decimal_len(uint64_t v)
{
	static const uint64_t pow10[20] = {
		1ull, 10ull, 100ull, 1000ull, 10000ull, 100000ull,
		1000000ull, 10000000ull, 100000000ull, 1000000000ull,
		10000000000ull, 100000000000ull, 1000000000000ull,
		10000000000000ull, 100000000000000ull, 1000000000000000ull,
		10000000000000000ull, 100000000000000000ull,
		1000000000000000000ull, 10000000000000000000ull,
	};
	uint64_t u = v | 1; /* as many digits as v; 0 has one, like 1 */
	/* 1233 / 4096 ~ log10(2) */
	unsigned int t = (unsigned int)(64 - __builtin_clzll(u)) * 1233 >> 12;

	return t + 1 - (u < pow10[t]);
}

/* Decimal digits of v at p, two at a time from a table: snprintf per
 * number, then a division per digit, were a visible part of the JSON
 * output's cost. Returns the end. */
static char *put_decimal(char *p, uint64_t v)
{
	char *end = p + decimal_len(v);

	p = end;
	while (v >= 100) {
		p -= 2;
		memcpy(p, two_digits + v % 100 * 2, 2);
		v /= 100;
	}
	if (v >= 10)
		memcpy(p - 2, two_digits + v * 2, 2);
	else
		p[-1] = (char)('0' + v);
	return end;
}

void jw_name(struct json_writer *jw, const char *name)
{
	size_t len = strlen(name);
	char *p = jw_value_start(jw, escaped_room(len));

	p = put_escaped(jw, p, (const uint8_t *)name, len, false);
	*p++ = ':';
	jw->len = (size_t)(p - jw->buf);
	jw->need_comma = false;
}

static void write_string(struct json_writer *jw, const void *s, size_t len,
			 bool nul_ends)
{
	char *p = jw_value_start(jw, escaped_room(len));

	jw_value_end(jw, put_escaped(jw, p, s, len, nul_ends));
}

void jw_bytes(struct json_writer *jw, const void *data, size_t len)
{
	write_string(jw, data, len, false);
}

void jw_string(struct json_writer *jw, const char *s)
{
	write_string(jw, s, strlen(s), false);
}

/* The escaping finds the NUL: no strnlen() first. */
void jw_string_n(struct json_writer *jw, const char *s, size_t max)
{
	write_string(jw, s, max, true);
}

void jw_plain_string(struct json_writer *jw, const char *s, size_t len)
{
	char *p = jw_value_start(jw, len + 2);

	*p++ = '"';
	memcpy(p, s, len);
	p += len;
	*p++ = '"';
	jw_value_end(jw, p);
}

void jw_int(struct json_writer *jw, int64_t value)
{
	char *p = jw_value_start(jw, 20);

	if (value < 0)
		*p++ = '-';
	/* the magnitude of INT64_MIN does not fit in int64_t */
	jw_value_end(jw, put_decimal(p, value < 0 ?
					       (uint64_t)0 - (uint64_t)value :
					       (uint64_t)value));
}

void jw_uint(struct json_writer *jw, uint64_t value)
{
	jw_value_end(jw, put_decimal(jw_value_start(jw, 20), value));
}
