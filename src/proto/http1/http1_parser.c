// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Streaming HTTP/1.x parser; see http1_parser.h for the semantics.
 *
 * Lines (start line, header fields, chunk-size lines, trailers) are
 * assembled in p->line so that a line split across feed() calls parses
 * the same as a whole one; a line that comes whole in one call is parsed
 * where it is. Body bytes are only counted, never copied.
 */
#include <stddef.h>
#include <string.h>

#include "proto/http1/http1_parser.h"

/* The result of collecting one line from the input. */
enum line_status {
	LINE_MORE,	/* input used up, line not finished yet */
	LINE_DONE,	/* the line is complete */
	LINE_TOO_LONG,	/* the line does not fit into p->line */
};

/* A line as take_line() gives it, without its CRLF: in the input when it
 * came whole in one feed() call, else what p->line holds so far. A
 * complete line is followed by a byte that is no tchar: its CR or LF,
 * or a NUL in p->line. */
struct line {
	const char *s;
	size_t len;
};

struct feed_ctx {
	struct h1_parser *p;
	const struct h1_callbacks *cb;
	void *user;
};

static const char http1_prefix[] = "HTTP/1.";
#define HTTP1_PREFIX_LEN (sizeof(http1_prefix) - 1)

/* RFC 9110 section 5.6.2: tchar. A table, as every byte of every header
 * name is checked. */
static const bool tchar_table[256] = {
	['0' ... '9'] = true, ['A' ... 'Z'] = true, ['a' ... 'z'] = true,
	['!'] = true, ['#'] = true, ['$'] = true, ['%'] = true, ['&'] = true,
	['\''] = true, ['*'] = true, ['+'] = true, ['-'] = true, ['.'] = true,
	['^'] = true, ['_'] = true, ['`'] = true, ['|'] = true, ['~'] = true,
};

static bool is_tchar(uint8_t c)
{
	return tchar_table[c];
}

static bool is_ctl(uint8_t c)
{
	return c < 0x20 || c == 0x7f;
}

/* Sixteen bytes as one vector (GCC and clang vector extensions: SSE2 on
 * x86-64, NEON on arm64, plain words elsewhere). */
typedef uint8_t bytes16 __attribute__((vector_size(16)));

/* Whether one of the bytes of b is_ctl(). */
static bool block_has_ctl(bytes16 b)
{
	bytes16 ctl = (bytes16)(b < 0x20) | (bytes16)(b == 0x7f);
	uint64_t half[2];

	memcpy(half, &ctl, sizeof(half));
	return (half[0] | half[1]) != 0;
}

static bool block_at_has_ctl(const char *s)
{
	bytes16 b;

	memcpy(&b, s, sizeof(b));
	return block_has_ctl(b);
}

/* Whether s[0..len), part <= len <= 2 * part, part <= 8, holds an
 * is_ctl() byte: its first and its last `part` bytes, which may overlap,
 * as one block; spaces (no control bytes) pad the rest. */
static bool ends_have_ctl(const char *s, size_t len, size_t part)
{
	bytes16 b = (bytes16){ 0 } + ' ';

	memcpy(&b, s, part);
	memcpy((char *)&b + 8, s + len - part, part);
	return block_has_ctl(b);
}

/*
 * Index of the first is_ctl() byte in s[0..len), or len. Sixteen bytes
 * at a time, the last ones as a block that overlaps the one before, and
 * the ends of a short s as one block, as every byte of every start line
 * and header value is checked: most values are short, and checking them
 * byte by byte below 8 bytes, a word at a time above, cost 2.5% more
 * instructions in all in the replay bench. Bytes one by one only where
 * a control byte is.
 */
static size_t first_ctl(const char *s, size_t len)
{
	size_t k = 0;

	if (len >= 16) {
		for (; len - k >= 16; k += 16) {
			if (block_at_has_ctl(s + k))
				break;
		}
		if (len - k < 16 && !block_at_has_ctl(s + len - 16))
			return len;
	} else if (len >= 8) {
		if (!ends_have_ctl(s, len, 8))
			return len;
	} else if (len >= 4) {
		if (!ends_have_ctl(s, len, 4))
			return len;
	}
	for (; k < len; k++) {
		if (is_ctl(s[k]))
			return k;
	}
	return len;
}

/* Whether s[0..len) holds a control byte other than HTAB: field values,
 * reason phrases and chunk extensions may hold HTAB. */
static bool has_ctl_but_tab(const char *s, size_t len)
{
	size_t k = 0;

	while ((k += first_ctl(s + k, len - k)) < len) {
		if (s[k] != '\t')
			return true;
		k++;
	}
	return false;
}

static bool is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

static int hex_value(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool is_ows(uint8_t c)
{
	return c == ' ' || c == '\t';
}

/* Bit 0x20 of every byte: OR-ed in, it turns upper-case letters into
 * lower case. */
#define CASE_BIT_32 0x20202020u
#define CASE_BIT_64 0x2020202020202020ull

/*
 * Case-insensitive comparison of s[0..len) with lit[0..len), whose
 * letters are lower case and whose other bytes ('-', digits) have bit
 * 0x20 set too. Words at a time, bit 0x20 forced on: comparing letter by
 * letter was a tenth of the parser's instructions in the replay bench.
 * The bit also maps a few control bytes onto allowed ones (CR onto '-',
 * 0x10 onto '0'), so s must hold no control byte but HTAB (which maps
 * onto ')'): a header name (tchars) or a checked field value.
 */
static bool lower_eq(const char *s, const char *lit, size_t len)
{
	uint64_t a, b;
	uint32_t a4, b4;
	size_t k;

	if (len >= 8) {
		for (k = 0; k + 8 < len; k += 8) {
			memcpy(&a, s + k, 8);
			memcpy(&b, lit + k, 8);
			if ((a | CASE_BIT_64) != b)
				return false;
		}
		/* the last 8 bytes, overlapping those before */
		memcpy(&a, s + len - 8, 8);
		memcpy(&b, lit + len - 8, 8);
		return (a | CASE_BIT_64) == b;
	}
	if (len >= 4) {
		memcpy(&a4, s, 4);
		memcpy(&b4, lit, 4);
		if ((a4 | CASE_BIT_32) != b4)
			return false;
		memcpy(&a4, s + len - 4, 4);
		memcpy(&b4, lit + len - 4, 4);
		return (a4 | CASE_BIT_32) == b4;
	}
	for (k = 0; k < len; k++) {
		if (((uint8_t)s[k] | 0x20) != (uint8_t)lit[k])
			return false;
	}
	return true;
}

/* Whether the counted string s equals the string literal lit, case
 * aside. The lengths first, at compile time: most header names are none
 * of those we look for, and comparing their letters was a visible cost. */
#define token_eq(s, len, lit) \
	((len) == sizeof(lit) - 1 && lower_eq((s), (lit), sizeof(lit) - 1))

static void trim_ows(const char **s, size_t *len)
{
	while (*len > 0 && is_ows((*s)[0])) {
		(*s)++;
		(*len)--;
	}
	while (*len > 0 && is_ows((*s)[*len - 1]))
		(*len)--;
}

/* Copies at most `size - 1` bytes and always terminates; returns whether
 * all of `len` fitted. */
static bool copy_str(char *dst, size_t size, const char *src, size_t len)
{
	bool fits = len < size;

	if (!fits)
		len = size - 1;
	memcpy(dst, src, len);
	dst[len] = '\0';
	return fits;
}

/* Not the whole message: its strings are most of it (a tenth of the
 * parser's time went to clearing them), and "" needs one NUL. */
static void reset_message(struct h1_parser *p)
{
	_Static_assert(offsetof(struct h1_message, target) ==
			       offsetof(struct h1_message, method) +
				       H1_METHOD_MAX &&
		       offsetof(struct h1_message, host) ==
			       offsetof(struct h1_message, target) +
				       H1_TARGET_MAX &&
		       offsetof(struct h1_message, reason) ==
			       offsetof(struct h1_message, host) + H1_HOST_MAX &&
		       sizeof(struct h1_message) ==
			       offsetof(struct h1_message, reason) +
				       H1_REASON_MAX,
		       "the strings are the last members");
	memset(&p->msg, 0, offsetof(struct h1_message, method));
	p->msg.method[0] = '\0';
	p->msg.target[0] = '\0';
	p->msg.host[0] = '\0';
	p->msg.reason[0] = '\0';
	p->msg.kind = p->kind;
	p->msg.content_length = -1;
	p->line_len = 0;
	p->saw_cr = false;
	p->in_start_line = true;
	p->remaining = 0;
	p->te_present = false;
	p->cl_invalid = false;
	p->keep_alive = false;
	p->start_line_long = false;
	p->tail_len = 0;
}

void h1_parser_init(struct h1_parser *p, enum h1_kind kind)
{
	/* Neither the line buffer (line_len says how much of it holds
	 * anything; 8 KiB cleared per connection was a tenth of the
	 * daemon's time in the replay bench) nor the message, which
	 * reset_message() sets up as for every message: clearing its
	 * strings too was 3% of the instructions with a new connection
	 * per request (4 inits per connection). */
	_Static_assert(offsetof(struct h1_parser, line) ==
			       offsetof(struct h1_parser, msg) +
				       sizeof(struct h1_message) &&
		       offsetof(struct h1_parser, line_len) ==
			       offsetof(struct h1_parser, line) + H1_LINE_MAX,
		       "the message, then the line buffer, sit between the "
		       "members cleared");
	memset(p, 0, offsetof(struct h1_parser, msg));
	memset(&p->line_len, 0,
	       sizeof(*p) - offsetof(struct h1_parser, line_len));
	p->kind = kind;
	p->state = H1_ST_START;
	reset_message(p);
}

static void fail(struct feed_ctx *fc, enum h1_error err, enum h1_state state)
{
	struct h1_parser *p = fc->p;

	p->state = state;
	p->last_error = err;
	p->line_len = 0;
	p->saw_cr = false;
	if (fc->cb && fc->cb->on_error)
		fc->cb->on_error(fc->user, err);
}

/*
 * The headers end where we cannot follow them (a gap of uncaptured bytes,
 * or a line over H1_LINE_MAX) after a good start line. Headers longer than
 * the capture are common (cookies) and the start line is what matters
 * most, so on_headers reports what was seen before the failure, with
 * headers_truncated set; the body hint it returns is moot.
 */
static void headers_cut_short(struct feed_ctx *fc, enum h1_error err)
{
	struct h1_parser *p = fc->p;

	p->msg.headers_truncated = true;
	if (fc->cb && fc->cb->on_headers)
		fc->cb->on_headers(fc->user, &p->msg, 0);
	fail(fc, err, H1_ST_LOST);
}

/* A start line that is not HTTP/1.x: on a fresh stream the traffic is
 * something else; on a stream that carried HTTP we are more likely out
 * of step with the framing, which a later feed() may repair. */
static void fail_not_http(struct feed_ctx *fc)
{
	fail(fc, H1_ERR_NOT_HTTP,
	     fc->p->seen_http ? H1_ST_LOST : H1_ST_NOT_HTTP);
}

/* `next` is set before on_complete runs, so that the callback can tell
 * whether a tunnel follows from the parser state alone. */
static void complete(struct feed_ctx *fc, size_t offset, enum h1_state next)
{
	struct h1_parser *p = fc->p;

	p->messages++;
	p->state = next;
	if (fc->cb && fc->cb->on_complete)
		fc->cb->on_complete(fc->user, &p->msg, offset);
	reset_message(p);
}

/* take_line() for all but a line that comes whole with nothing of it
 * held from before: lf is the LF in start[0..avail), or NULL. */
static enum line_status take_line_slow(struct h1_parser *p,
				       const uint8_t *start, size_t avail,
				       const uint8_t *lf, size_t *pos,
				       struct line *line)
{
	size_t n = lf ? (size_t)(lf - start) : avail;
	size_t room;
	bool cr_pending = false;

	*pos += lf ? n + 1 : n;
	/* what is held so far, for the returns below that add nothing */
	line->s = p->line;
	line->len = p->line_len;
	if (p->saw_cr) {
		p->saw_cr = false;
		if (n > 0) {
			if (p->line_len >= H1_LINE_MAX - 1)
				return LINE_TOO_LONG;
			p->line[p->line_len++] = '\r';
		}
	}
	if (n > 0 && start[n - 1] == '\r') {
		n--;
		cr_pending = !lf;
	}
	room = H1_LINE_MAX - 1 - p->line_len;
	if (n > room) {
		memcpy(p->line + p->line_len, start, room);
		p->line_len += room;
		line->len = p->line_len;
		return LINE_TOO_LONG;
	}
	if (lf && p->line_len == 0) {
		line->s = (const char *)start;
		line->len = n;
		return LINE_DONE;
	}
	memcpy(p->line + p->line_len, start, n);
	p->line_len += n;
	p->saw_cr = cr_pending;
	line->len = p->line_len;
	if (!lf)
		return LINE_MORE;
	p->line[p->line_len] = '\0';
	return LINE_DONE;
}

/*
 * Takes input up to and including the next LF as *line: where it is if
 * the whole line is there (copying each line was a visible cost), else
 * appended to p->line. The CR of a CRLF is dropped, even when CR and LF
 * arrive in different feed() calls (saw_cr remembers it); a CR not
 * followed by LF is kept so that the line parsers reject it as a
 * control byte.
 *
 * Inline, with only the usual case, a whole line and nothing held: the
 * call and the general case's bookkeeping for every line were 5% of all
 * instructions in the replay bench.
 */
static inline __attribute__((always_inline)) enum line_status
take_line(struct h1_parser *p, const uint8_t *data, size_t len, size_t *pos,
	  struct line *line)
{
	const uint8_t *start = data + *pos;
	const uint8_t *lf = memchr(start, '\n', len - *pos);
	size_t n;

	if (!lf || p->line_len || p->saw_cr || lf - start >= H1_LINE_MAX)
		return take_line_slow(p, start, len - *pos, lf, pos, line);
	n = (size_t)(lf - start);
	*pos += n + 1;
	if (n > 0 && start[n - 1] == '\r')
		n--;
	line->s = (const char *)start;
	line->len = n;
	return LINE_DONE;
}

/*
 * Checks start-line bytes [from, line->len) as they arrive, so that
 * non-HTTP traffic is refused after a few bytes instead of at the end of
 * a line that may never come. The full parse happens at the end of line.
 */
static bool start_line_plausible(struct h1_parser *p, const struct line *line,
				 size_t from)
{
	const char *s = line->s;
	size_t len = line->len, k = from;

	if (p->kind == H1_REQUEST) {
		/* the method, copied when its space comes */
		for (; k < len && p->msg.method[0] == '\0'; k++) {
			uint8_t c = s[k];

			if (c == ' ') {
				if (k == 0)
					return false;
				copy_str(p->msg.method, H1_METHOD_MAX, s, k);
			} else if (!is_tchar(c) || k >= H1_METHOD_MAX - 1) {
				return false;
			}
		}
		/* target and version */
		return first_ctl(s + k, len - k) == len - k;
	}
	/* "HTTP/1.x 200 " byte by byte, then the reason phrase */
	for (; k < len && k < 13; k++) {
		uint8_t c = s[k];

		if (k < HTTP1_PREFIX_LEN) {
			if (c != (uint8_t)http1_prefix[k])
				return false;
		} else if (k == 7 || (k >= 9 && k <= 11)) {
			if (!is_digit(c))
				return false;
		} else if (k == 8 || k == 12) {
			if (c != ' ')
				return false;
		}
	}
	return !has_ctl_but_tab(s + k, len - k);
}

static bool parse_version(const char *s, size_t len, int *minor)
{
	if (len != HTTP1_PREFIX_LEN + 1 ||
	    memcmp(s, http1_prefix, HTTP1_PREFIX_LEN) != 0 ||
	    !is_digit(s[HTTP1_PREFIX_LEN]))
		return false;
	*minor = s[HTTP1_PREFIX_LEN] - '0';
	return true;
}

/* method SP request-target SP HTTP-version; the method was already
 * copied by start_line_plausible(). */
static bool parse_request_line(struct h1_parser *p, const struct line *l)
{
	const char *line = l->s;
	size_t len = l->len;
	const char *first_sp = memchr(line, ' ', len);
	const char *last_sp = line + len;
	const char *target;
	size_t target_len;

	if (!first_sp || p->msg.method[0] == '\0')
		return false;
	while (last_sp > first_sp && last_sp[-1] != ' ')
		last_sp--;
	last_sp--;
	if (last_sp == first_sp)
		return false; /* no version: HTTP/0.9 or garbage */
	if (!parse_version(last_sp + 1, len - (last_sp + 1 - line),
			   &p->msg.version_minor))
		return false;

	/* Be lenient with extra spaces around the target. */
	target = first_sp + 1;
	target_len = last_sp - target;
	while (target_len > 0 && target[0] == ' ') {
		target++;
		target_len--;
	}
	while (target_len > 0 && target[target_len - 1] == ' ')
		target_len--;
	if (target_len == 0)
		return false;
	p->msg.target_truncated = !copy_str(p->msg.target, H1_TARGET_MAX,
					    target, target_len);
	return true;
}

/* The target of a request line of which only the head is known (longer
 * than p->line, or cut by a gap): from after the method to the end of
 * what is there, cut to fit. */
static bool request_head_target(struct h1_parser *p, const char *line,
				size_t len)
{
	const char *first_sp = memchr(line, ' ', len);
	const char *target;
	size_t target_len;

	if (!first_sp || p->msg.method[0] == '\0')
		return false;
	target = first_sp + 1;
	target_len = len - (size_t)(target - line);
	while (target_len > 0 && target[0] == ' ') {
		target++;
		target_len--;
	}
	if (target_len == 0)
		return false;
	copy_str(p->msg.target, H1_TARGET_MAX, target, target_len);
	p->msg.target_truncated = true;
	return true;
}

/* Keeps the last bytes of a long request line: its version is there. */
static void tail_add(struct h1_parser *p, const char *s, size_t n)
{
	size_t keep;

	if (n >= sizeof(p->tail)) {
		memcpy(p->tail, s + n - sizeof(p->tail), sizeof(p->tail));
		p->tail_len = sizeof(p->tail);
		return;
	}
	keep = p->tail_len < sizeof(p->tail) - n ? p->tail_len :
						   sizeof(p->tail) - n;
	memmove(p->tail, p->tail + p->tail_len - keep, keep);
	memcpy(p->tail + keep, s, n);
	p->tail_len = (uint8_t)(keep + n);
}

/* The version of a long request line: its last word. */
static bool long_request_line_version(struct h1_parser *p)
{
	size_t n = p->tail_len, k;

	if (n > 0 && p->tail[n - 1] == '\r')
		n--;
	for (k = n; k > 0 && p->tail[k - 1] != ' '; k--)
		;
	return k > 0 && parse_version(p->tail + k, n - k,
				      &p->msg.version_minor);
}

/* A request cut short on a fresh stream is believed only if its target
 * starts like one: origin form, "*", or an absolute http(s) URL. */
static bool target_looks_like_one(const char *t)
{
	return t[0] == '/' || t[0] == '*' ||
	       strncmp(t, "http", strnlen(t, 4)) == 0;
}

/*
 * A gap inside a request line (a URL longer than the capture): the
 * request as far as it was seen, when its method and the start of its
 * target were. Sets up p->msg for headers_cut_short().
 */
static bool request_cut_short(struct h1_parser *p)
{
	if (p->kind != H1_REQUEST)
		return false;
	if (!p->start_line_long &&
	    !request_head_target(p, p->line, p->line_len))
		return false;
	if (!p->seen_http && !target_looks_like_one(p->msg.target))
		return false;
	p->msg.version_minor = -1;
	p->seen_http = true;
	return true;
}

/* HTTP-version SP 3DIGIT SP [reason]; "HTTP/1.1 200" is tolerated. */
static bool parse_status_line(struct h1_parser *p, const struct line *l)
{
	const char *line = l->s;
	size_t len = l->len;
	size_t k;
	int status = 0;

	if (len < 12 || !parse_version(line, 8, &p->msg.version_minor) ||
	    line[8] != ' ')
		return false;
	for (k = 9; k < 12; k++) {
		if (!is_digit(line[k]))
			return false;
		status = status * 10 + (line[k] - '0');
	}
	if (status < 100)
		return false;
	p->msg.status = status;
	if (len > 12) {
		if (line[12] != ' ' || has_ctl_but_tab(line + 13, len - 13))
			return false;
		copy_str(p->msg.reason, H1_REASON_MAX, line + 13, len - 13);
	}
	return true;
}

/* Content-Length = 1*DIGIT; a list of identical values ("5, 5") is
 * accepted as RFC 9110 section 8.6 allows. */
static void parse_content_length(struct h1_parser *p, const char *v,
				 size_t len)
{
	size_t i = 0;

	while (i < len) {
		int64_t value = 0;
		size_t digits = 0;

		while (i < len && is_ows(v[i]))
			i++;
		while (i < len && is_digit(v[i])) {
			int d = v[i] - '0';

			if (value > (INT64_MAX - d) / 10) {
				p->cl_invalid = true;
				return;
			}
			value = value * 10 + d;
			digits++;
			i++;
		}
		while (i < len && is_ows(v[i]))
			i++;
		if (digits == 0 || (i < len && v[i] != ',')) {
			p->cl_invalid = true;
			return;
		}
		i++; /* the comma, if any */
		if (p->msg.content_length >= 0 &&
		    p->msg.content_length != value) {
			p->cl_invalid = true;
			return;
		}
		p->msg.content_length = value;
	}
	if (p->msg.content_length < 0)
		p->cl_invalid = true; /* empty value */
}

/* Calls fn(p, element, len) for each trimmed non-empty list element. */
static void for_each_element(struct h1_parser *p, const char *v, size_t len,
			     void (*fn)(struct h1_parser *, const char *,
					size_t))
{
	while (len > 0) {
		const char *comma = memchr(v, ',', len);
		size_t n = comma ? (size_t)(comma - v) : len;
		const char *elem = v;
		size_t elem_len = n;

		trim_ows(&elem, &elem_len);
		if (elem_len > 0)
			fn(p, elem, elem_len);
		if (!comma)
			break;
		v += n + 1;
		len -= n + 1;
	}
}

/* The last coding decides: "gzip, chunked" is chunked, "chunked, gzip"
 * is not (and then only the close delimits a response). */
static void transfer_coding(struct h1_parser *p, const char *e, size_t len)
{
	p->msg.chunked = token_eq(e, len, "chunked");
}

static void connection_option(struct h1_parser *p, const char *e, size_t len)
{
	if (token_eq(e, len, "close"))
		p->msg.connection_close = true;
	else if (token_eq(e, len, "keep-alive"))
		p->keep_alive = true;
	else if (token_eq(e, len, "upgrade"))
		p->msg.upgrade = true;
}

static void upgrade_protocol(struct h1_parser *p, const char *e, size_t len)
{
	if (token_eq(e, len, "h2c"))
		p->msg.upgrade_h2c = true;
}

static bool parse_header_line(struct h1_parser *p, const struct line *l)
{
	const char *line = l->s;
	size_t len = l->len;
	const char *colon, *value;
	size_t name_len, value_len;

	if (is_ows(line[0])) {
		/* obs-fold (RFC 9112 section 5.2): continues the previous
		 * field, none of which we need to see whole. */
		return p->msg.header_count > 0;
	}
	/* field-name = token, then the colon: ':' is no tchar, nor is
	 * the byte after the line */
	for (name_len = 0; is_tchar(line[name_len]); name_len++)
		;
	if (name_len == 0 || name_len == len || line[name_len] != ':')
		return false;
	colon = line + name_len;
	if (has_ctl_but_tab(colon + 1, len - name_len - 1))
		return false;
	value = colon + 1;
	value_len = len - name_len - 1;
	p->msg.header_count++;

	/* OWS around the value is trimmed only where the value is looked
	 * at, as most fields are not (for_each_element() trims each list
	 * element). */
	if (token_eq(line, name_len, "host")) {
		if (p->msg.host[0] == '\0') {
			trim_ows(&value, &value_len);
			copy_str(p->msg.host, H1_HOST_MAX, value, value_len);
		}
	} else if (token_eq(line, name_len, "content-length")) {
		trim_ows(&value, &value_len);
		parse_content_length(p, value, value_len);
	} else if (token_eq(line, name_len, "transfer-encoding")) {
		p->te_present = true;
		for_each_element(p, value, value_len, transfer_coding);
	} else if (token_eq(line, name_len, "connection")) {
		for_each_element(p, value, value_len, connection_option);
	} else if (token_eq(line, name_len, "upgrade")) {
		p->msg.upgrade = true;
		for_each_element(p, value, value_len, upgrade_protocol);
	} else if (token_eq(line, name_len, "expect")) {
		trim_ows(&value, &value_len);
		if (p->kind == H1_REQUEST &&
		    token_eq(value, value_len, "100-continue"))
			p->msg.expect_continue = true;
	}
	return true;
}

/* The blank line after the headers: report them and set up the body. */
static void end_of_headers(struct feed_ctx *fc, size_t offset)
{
	struct h1_parser *p = fc->p;
	struct h1_message *msg = &p->msg;
	enum h1_body_hint hint = H1_BODY_DEFAULT;

	if (msg->version_minor == 0 && !p->keep_alive)
		msg->connection_close = true;
	/* RFC 9112 section 6.3 rule 3: TE overrides CL, even a broken one. */
	if (p->te_present || p->cl_invalid)
		msg->content_length = -1;

	if (fc->cb && fc->cb->on_headers)
		hint = fc->cb->on_headers(fc->user, msg, offset);

	if (p->kind == H1_RESPONSE && msg->status < 200) {
		if (msg->status == 101) {
			complete(fc, offset, H1_ST_TUNNEL);
			return;
		}
		/* Interim response: the final one follows. */
		reset_message(p);
		p->state = H1_ST_START;
		return;
	}
	if (hint == H1_BODY_TUNNEL) {
		complete(fc, offset, H1_ST_TUNNEL);
		return;
	}
	if (hint == H1_BODY_NONE ||
	    (p->kind == H1_RESPONSE &&
	     (msg->status == 204 || msg->status == 304))) {
		complete(fc, offset, H1_ST_START);
		return;
	}

	p->state = H1_ST_BODY;
	p->line_len = 0;
	p->saw_cr = false;
	if (p->te_present) {
		if (msg->chunked) {
			p->body_mode = H1_BODY_CHUNK_SIZE;
		} else if (p->kind == H1_RESPONSE) {
			p->body_mode = H1_BODY_UNTIL_EOF;
		} else {
			/* RFC 9112 section 6.3 rule 4: unframeable. */
			fail(fc, H1_ERR_BAD_HEADER, H1_ST_LOST);
		}
		return;
	}
	if (p->cl_invalid) {
		fail(fc, H1_ERR_BAD_LENGTH, H1_ST_LOST);
		return;
	}
	if (msg->content_length > 0) {
		p->body_mode = H1_BODY_LENGTH;
		p->remaining = (uint64_t)msg->content_length;
	} else if (msg->content_length == 0 || p->kind == H1_REQUEST) {
		complete(fc, offset, H1_ST_START);
	} else {
		p->body_mode = H1_BODY_UNTIL_EOF;
	}
}

/* H1_ST_START: skip the CRLFs some clients send between messages
 * (RFC 9112 section 2.2); start_line_plausible() judges the rest. Every
 * way into H1_ST_START resets the message, so it is fresh here. */
static size_t feed_start(struct h1_parser *p, const uint8_t *data, size_t len,
			 size_t i)
{
	while (i < len && (data[i] == '\r' || data[i] == '\n'))
		i++;
	if (i < len)
		p->state = H1_ST_HEADERS;
	return i;
}

static void start_line_done(struct h1_parser *p)
{
	p->seen_http = true;
	p->in_start_line = false;
	p->start_line_long = false;
	p->line_len = 0;
}

/* The rest of a request line longer than p->line: checked for control
 * bytes and skipped, its last bytes kept for the version. */
static size_t feed_long_request_line(struct feed_ctx *fc,
				     const uint8_t *data, size_t len,
				     size_t i)
{
	struct h1_parser *p = fc->p;
	const uint8_t *lf = memchr(data + i, '\n', len - i);
	size_t n = (lf ? (size_t)(lf - data) : len) - i;
	size_t checked = n;

	/* the CR of the CRLF, or one that an LF in the next call follows */
	if (checked > 0 && data[i + checked - 1] == '\r')
		checked--;
	if (first_ctl((const char *)data + i, checked) != checked) {
		fail_not_http(fc);
		return len;
	}
	tail_add(p, (const char *)data + i, n);
	p->msg.header_bytes += lf ? n + 1 : n;
	if (!lf)
		return len;
	if (!long_request_line_version(p)) {
		fail_not_http(fc);
		return len;
	}
	start_line_done(p);
	return i + n + 1;
}

/*
 * A start line longer than p->line: `line` is what p->line holds, and
 * take_line() passed over data[rest..i), the bytes beyond it up to the
 * LF if there was one in this call. Out of line: feed_headers() is on
 * every line's path, and take_line() must stay inlined there.
 */
static __attribute__((noinline)) size_t
start_line_too_long(struct feed_ctx *fc, const uint8_t *data, size_t len,
		    const struct line *line, size_t rest, size_t i,
		    bool cr_held)
{
	struct h1_parser *p = fc->p;

	/* a CR held from the last call and no LF after it: a bare CR,
	 * which take_line() did not append to the full line */
	if (cr_held) {
		fail_not_http(fc);
		return len;
	}
	if (p->kind != H1_REQUEST ||
	    !request_head_target(p, line->s, line->len)) {
		fail(fc, H1_ERR_LINE_TOO_LONG, H1_ST_LOST);
		return len;
	}
	p->start_line_long = true;
	p->tail_len = 0;
	tail_add(p, line->s, line->len);
	p->line_len = 0;
	p->msg.header_bytes -= i - rest;
	return feed_long_request_line(fc, data, i, rest);
}

static size_t feed_headers(struct feed_ctx *fc, const uint8_t *data,
			   size_t len, size_t i)
{
	struct h1_parser *p = fc->p;
	size_t before = i;
	size_t old_len = p->line_len;
	bool cr_held = p->saw_cr;
	struct line line;
	enum line_status st;

	if (p->start_line_long)
		return feed_long_request_line(fc, data, len, i);
	st = take_line(p, data, len, &i, &line);
	p->msg.header_bytes += i - before;

	if (p->in_start_line) {
		if (!start_line_plausible(p, &line, old_len)) {
			fail_not_http(fc);
			return len;
		}
		if (st == LINE_TOO_LONG)
			return start_line_too_long(fc, data, len, &line,
						   before + line.len - old_len,
						   i, cr_held);
		if (st == LINE_MORE)
			return i;
		if (!(p->kind == H1_REQUEST ? parse_request_line(p, &line) :
					       parse_status_line(p, &line))) {
			fail_not_http(fc);
			return len;
		}
		start_line_done(p);
		return i;
	}

	if (st == LINE_TOO_LONG) {
		headers_cut_short(fc, H1_ERR_LINE_TOO_LONG);
		return len;
	}
	if (st == LINE_MORE)
		return i;
	if (line.len == 0) {
		end_of_headers(fc, i);
		return i;
	}
	if (!parse_header_line(p, &line)) {
		fail(fc, H1_ERR_BAD_HEADER, H1_ST_LOST);
		return len;
	}
	p->line_len = 0;
	return i;
}

/* chunk-size [ BWS ";" chunk-ext ] */
static bool parse_chunk_size(const char *line, size_t len, uint64_t *size)
{
	uint64_t value = 0;
	size_t k = 0;

	for (; k < len && hex_value(line[k]) >= 0; k++) {
		if (value > (UINT64_MAX >> 4))
			return false;
		value = (value << 4) | (uint64_t)hex_value(line[k]);
	}
	if (k == 0)
		return false;
	while (k < len && is_ows(line[k]))
		k++;
	if (k < len && line[k] != ';')
		return false;
	if (has_ctl_but_tab(line + k, len - k))
		return false;
	*size = value;
	return true;
}

/* Consumes up to `remaining` body bytes; returns the new position. */
static size_t skip_body(struct h1_parser *p, size_t len, size_t i)
{
	uint64_t take = len - i;

	if (take > p->remaining)
		take = p->remaining;
	p->remaining -= take;
	return i + (size_t)take;
}

static size_t feed_body(struct feed_ctx *fc, const uint8_t *data, size_t len,
			size_t i)
{
	struct h1_parser *p = fc->p;
	enum line_status st;
	struct line line;
	uint64_t size;

	switch (p->body_mode) {
	case H1_BODY_LENGTH:
		i = skip_body(p, len, i);
		if (p->remaining == 0)
			complete(fc, i, H1_ST_START);
		return i;

	case H1_BODY_CHUNK_DATA:
		i = skip_body(p, len, i);
		if (p->remaining == 0) {
			p->body_mode = H1_BODY_CHUNK_DATA_END;
			p->line_len = 0;
		}
		return i;

	case H1_BODY_CHUNK_DATA_END:
		st = take_line(p, data, len, &i, &line);
		if (line.len != 0 || st == LINE_TOO_LONG) {
			/* Chunk data longer than its size said. */
			fail(fc, H1_ERR_BAD_CHUNK, H1_ST_LOST);
			return len;
		}
		if (st == LINE_DONE)
			p->body_mode = H1_BODY_CHUNK_SIZE;
		return i;

	case H1_BODY_CHUNK_SIZE:
		st = take_line(p, data, len, &i, &line);
		if (line.len > 0 && hex_value(line.s[0]) < 0) {
			fail(fc, H1_ERR_BAD_CHUNK, H1_ST_LOST);
			return len;
		}
		if (st == LINE_TOO_LONG) {
			fail(fc, H1_ERR_LINE_TOO_LONG, H1_ST_LOST);
			return len;
		}
		if (st == LINE_MORE)
			return i;
		if (!parse_chunk_size(line.s, line.len, &size)) {
			fail(fc, H1_ERR_BAD_CHUNK, H1_ST_LOST);
			return len;
		}
		p->line_len = 0;
		if (size == 0) {
			p->body_mode = H1_BODY_TRAILERS;
		} else {
			p->body_mode = H1_BODY_CHUNK_DATA;
			p->remaining = size;
		}
		return i;

	case H1_BODY_TRAILERS:
		st = take_line(p, data, len, &i, &line);
		if (st == LINE_TOO_LONG) {
			fail(fc, H1_ERR_LINE_TOO_LONG, H1_ST_LOST);
			return len;
		}
		if (st == LINE_MORE)
			return i;
		if (line.len == 0) {
			complete(fc, i, H1_ST_START);
			return i;
		}
		/* Trailer fields are not needed for framing; skip them. */
		p->line_len = 0;
		return i;

	case H1_BODY_UNTIL_EOF:
		return len;
	}
	return len;
}

/* Whether `data` begins like a start line; see H1_ST_LOST in the header. */
static bool looks_like_message_start(enum h1_kind kind, const uint8_t *data,
				     size_t len)
{
	size_t k;

	if (kind == H1_RESPONSE)
		return len >= HTTP1_PREFIX_LEN &&
		       memcmp(data, http1_prefix, HTTP1_PREFIX_LEN) == 0;
	for (k = 0; k < len && k < H1_METHOD_MAX - 1; k++) {
		uint8_t c = data[k];

		if (!((c >= 'A' && c <= 'Z') || c == '-' || c == '_'))
			break;
	}
	return k >= 3 && k < len && data[k] == ' ';
}

enum h1_state h1_parser_feed(struct h1_parser *p, const uint8_t *data,
			     size_t len, const struct h1_callbacks *cb,
			     void *user)
{
	struct feed_ctx fc = { .p = p, .cb = cb, .user = user };
	size_t i = 0;

	if (len == 0)
		return p->state;
	if (p->state == H1_ST_LOST) {
		if (!looks_like_message_start(p->kind, data, len))
			return p->state;
		reset_message(p);
		p->state = H1_ST_START;
	}
	while (i < len) {
		switch (p->state) {
		case H1_ST_START:
			i = feed_start(p, data, len, i);
			break;
		case H1_ST_HEADERS:
			i = feed_headers(&fc, data, len, i);
			break;
		case H1_ST_BODY:
			i = feed_body(&fc, data, len, i);
			break;
		case H1_ST_NOT_HTTP:
		case H1_ST_LOST:
		case H1_ST_TUNNEL:
		default:
			return p->state;
		}
	}
	return p->state;
}

enum h1_state h1_parser_gap(struct h1_parser *p, uint64_t len,
			    const struct h1_callbacks *cb, void *user)
{
	struct feed_ctx fc = { .p = p, .cb = cb, .user = user };

	if (len == 0)
		return p->state;
	switch (p->state) {
	case H1_ST_HEADERS:
		if (p->in_start_line && !request_cut_short(p))
			fail(&fc, H1_ERR_GAP, H1_ST_LOST);
		else
			headers_cut_short(&fc, H1_ERR_GAP);
		break;
	case H1_ST_START:
		fail(&fc, H1_ERR_GAP, H1_ST_LOST);
		break;
	case H1_ST_BODY:
		switch (p->body_mode) {
		case H1_BODY_LENGTH:
			if (len <= p->remaining) {
				p->remaining -= len;
				if (p->remaining == 0)
					complete(&fc, 0, H1_ST_START);
				break;
			}
			/* The gap also swallowed the start of what follows. */
			complete(&fc, 0, H1_ST_START);
			fail(&fc, H1_ERR_GAP, H1_ST_LOST);
			break;
		case H1_BODY_CHUNK_DATA:
			if (len < p->remaining) {
				p->remaining -= len;
				break;
			}
			if (len == p->remaining) {
				p->remaining = 0;
				p->body_mode = H1_BODY_CHUNK_DATA_END;
				p->line_len = 0;
				p->saw_cr = false;
				break;
			}
			fail(&fc, H1_ERR_GAP, H1_ST_LOST);
			break;
		case H1_BODY_UNTIL_EOF:
			break;
		default:
			fail(&fc, H1_ERR_GAP, H1_ST_LOST);
			break;
		}
		break;
	default:
		break;
	}
	return p->state;
}

enum h1_state h1_parser_eof(struct h1_parser *p, const struct h1_callbacks *cb,
			    void *user)
{
	struct feed_ctx fc = { .p = p, .cb = cb, .user = user };

	switch (p->state) {
	case H1_ST_HEADERS:
		fail(&fc, H1_ERR_TRUNCATED, H1_ST_LOST);
		break;
	case H1_ST_BODY:
		if (p->body_mode == H1_BODY_UNTIL_EOF)
			complete(&fc, 0, H1_ST_START);
		else
			fail(&fc, H1_ERR_TRUNCATED, H1_ST_LOST);
		break;
	default:
		break;
	}
	return p->state;
}

bool h1_parser_idle(const struct h1_parser *p)
{
	return p->state == H1_ST_START;
}

const char *h1_error_str(enum h1_error err)
{
	switch (err) {
	case H1_OK:
		return "no error";
	case H1_ERR_NOT_HTTP:
		return "not HTTP/1.x";
	case H1_ERR_LINE_TOO_LONG:
		return "header line too long";
	case H1_ERR_BAD_HEADER:
		return "malformed header";
	case H1_ERR_BAD_CHUNK:
		return "malformed chunk size line";
	case H1_ERR_BAD_LENGTH:
		return "invalid or conflicting Content-Length";
	case H1_ERR_GAP:
		return "uncaptured bytes where framing was needed";
	case H1_ERR_TRUNCATED:
		return "connection closed inside a message";
	}
	return "unknown error";
}
