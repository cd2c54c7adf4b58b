/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Streaming HTTP/1.x parser for one direction of one connection.
 *
 * Written by hand rather than taken from a library because it must cope
 * with what a tracer sees and a server never does: bytes captured only up
 * to a cap (the rest of a chunk is a "gap" of known length but unknown
 * content), data split at any byte, traffic that is not HTTP at all, and a
 * stream joined in the middle. It is a pure function of its input: no
 * I/O, no allocation, so it is unit-tested and fuzzed natively.
 *
 * Usage: h1_parser_init() once per direction, then h1_parser_feed() with
 * each captured chunk, h1_parser_gap() for each run of bytes that moved
 * but were not captured, h1_parser_eof() when the connection closes.
 * Callbacks report message boundaries with the offset (in the bytes fed
 * by that call) where they happened.
 *
 * Semantics the caller relies on:
 *
 * - Offsets are indexes into the `data` of the feed() call that fired the
 *   callback, pointing just past the last byte that belongs to the event
 *   (the blank line for on_headers, the last body byte for on_complete).
 *   Callbacks fired from h1_parser_gap() or h1_parser_eof() get offset 0.
 *   Splitting the same bytes differently into feed() calls produces the
 *   same callbacks at the same absolute stream positions (up to the first
 *   on_error: recovery from H1_ST_LOST depends on where feeds start).
 * - Every message that completes gets exactly one on_headers and then one
 *   on_complete; `messages` counts on_complete calls. A message that fails
 *   after its headers (e.g. bad Content-Length, gap in chunk framing, EOF
 *   in the body) gets on_headers and then on_error, never on_complete.
 *   No message is reported before its start line has parsed as HTTP/1.x,
 *   but for a request line cut by a gap (see "Long request lines").
 * - 1xx informational responses other than 101 get on_headers only (the
 *   hint returned is ignored), no on_complete, and do not count in
 *   `messages`; the parser then waits for the final response of the same
 *   exchange. 101 Switching Protocols is a final response: on_headers,
 *   on_complete, then H1_ST_TUNNEL. A response for which on_headers
 *   returns H1_BODY_TUNNEL (2xx to CONNECT) likewise completes at the end
 *   of its headers and leaves the parser in H1_ST_TUNNEL. During
 *   on_complete, p->state already says what follows: H1_ST_START or
 *   H1_ST_TUNNEL (during on_headers it is H1_ST_HEADERS).
 * - A request parser cannot know whether a CONNECT or an Upgrade request
 *   succeeded, so it stays in HTTP mode after such a request; tunnelled
 *   bytes that follow then usually give on_error(H1_ERR_NOT_HTTP) and
 *   H1_ST_LOST (see below). The caller, which sees the response, should
 *   stop feeding the request side once the response side reports
 *   H1_ST_TUNNEL. Likewise, a client that gets a final status instead of
 *   100 Continue may never send the announced body; the request parser
 *   then still waits in H1_ST_BODY, and the caller may re-init it.
 * - H1_ST_NOT_HTTP is final. It is entered when the first message of the
 *   stream does not start like HTTP/1.x: the first byte (CR/LF excepted)
 *   is not a token character (request) or not 'H' (response), the method
 *   is longer than H1_METHOD_MAX - 1, the start line holds control bytes,
 *   or the complete start line does not parse (wrong version, bad status).
 *   The HTTP/2 prior-knowledge preface "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
 *   ends here too (version is not 1.x); a caller that wants to tell h2c
 *   from other traffic can compare the first 24 bytes itself.
 * - The same failure at a later message boundary of a stream that has
 *   already carried HTTP/1.x gives on_error(H1_ERR_NOT_HTTP) but the state
 *   H1_ST_LOST, since misaligned framing is the likelier cause.
 * - H1_ST_LOST ignores everything until a feed() call whose data begins
 *   like a start line: for requests an upper-case method (A-Z, '-', '_',
 *   3..15 bytes) and a space, for responses "HTTP/1.". Parsing resumes
 *   there with a fresh message. To join a stream in the middle, call
 *   h1_parser_init() and then set `state = H1_ST_LOST`.
 * - Framing follows RFC 9112 section 6.3: Transfer-Encoding overrides
 *   Content-Length (msg.content_length is then -1 and a bad Content-Length
 *   is ignored); a request without either has no body; a response without
 *   either (or with a Transfer-Encoding not ending in chunked) runs until
 *   EOF. 1xx, 204 and 304 responses never have a body. A request whose
 *   Transfer-Encoding does not end in chunked is H1_ERR_BAD_HEADER.
 * - Gaps: inside a Content-Length body or chunk data they are counted;
 *   a gap that ends a Content-Length body completes it (offset 0), and
 *   one that runs past it completes it and then loses the framing
 *   (H1_ERR_GAP). In a close-delimited body they are just counted; in
 *   H1_ST_NOT_HTTP, H1_ST_LOST and H1_ST_TUNNEL ignored; anywhere else,
 *   including between messages, they give H1_ERR_GAP and H1_ST_LOST.
 * - EOF completes a close-delimited body; inside headers or a framed
 *   body it gives H1_ERR_TRUNCATED and H1_ST_LOST. After eof() the state
 *   is never H1_ST_HEADERS or H1_ST_BODY.
 * - Every error other than H1_ERR_NOT_HTTP on a fresh stream leaves the
 *   parser in H1_ST_LOST; p->last_error keeps the last one.
 * - Long request lines: a request line of H1_LINE_MAX bytes or more is
 *   parsed from its first H1_LINE_MAX - 1 bytes (method, the start of the
 *   target) and its last bytes (the version); the bytes between are
 *   checked for control bytes and skipped. A gap inside a request line
 *   whose method and first target byte were seen (the capture ends in a
 *   long URL) reports the request as far as it was seen: on_headers with
 *   headers_truncated, version_minor -1 (unless the version was seen),
 *   and then on_error(H1_ERR_GAP) and H1_ST_LOST, as a gap in the
 *   headers does; on a fresh stream only if the target starts like one
 *   ('/', '*' or an absolute "http" URL). Either way target holds its
 *   first H1_TARGET_MAX - 1 bytes and target_truncated is set.
 * - Leniency: CR/LF between messages is skipped, a bare LF ends a line,
 *   obs-folded header lines are accepted and ignored, extra spaces around
 *   the request target are tolerated.
 * - The message passed to callbacks lives in the parser and is reset
 *   right after on_complete: copy what you need during the call.
 *   Callbacks must not call back into the same parser.
 */
#ifndef HTTPTRACE_HTTP1_PARSER_H
#define HTTPTRACE_HTTP1_PARSER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define H1_METHOD_MAX 16
#define H1_TARGET_MAX 256
#define H1_HOST_MAX 256
#define H1_REASON_MAX 64
/* A status line, header, chunk-size or trailer line of this many bytes
 * or more (CRLF not counted) ends the parse of that message as
 * H1_ERR_LINE_TOO_LONG; a request line that long is skipped to its end
 * (see "Long request lines" above). */
#define H1_LINE_MAX 8192

enum h1_kind {
	H1_REQUEST = 0,  /* parse requests (client writes, server reads) */
	H1_RESPONSE = 1, /* parse responses */
};

enum h1_state {
	H1_ST_START = 0,  /* waiting for the first byte of a message */
	H1_ST_HEADERS,    /* inside start line or headers */
	H1_ST_BODY,       /* inside a body */
	H1_ST_NOT_HTTP,   /* the stream is not HTTP/1.x; everything is ignored */
	H1_ST_LOST,       /* framing lost (gap in headers or chunk sizes);
			   * waits for a chunk that starts a new message */
	H1_ST_TUNNEL,     /* after CONNECT 2xx or 101 Switching Protocols:
			   * the rest is not HTTP/1.x */
};

enum h1_error {
	H1_OK = 0,
	H1_ERR_NOT_HTTP,       /* first bytes are not a request/status line */
	H1_ERR_LINE_TOO_LONG,
	H1_ERR_BAD_HEADER,
	H1_ERR_BAD_CHUNK,      /* invalid chunk size line */
	H1_ERR_BAD_LENGTH,     /* invalid or conflicting Content-Length */
	H1_ERR_GAP,            /* uncaptured bytes where framing was needed */
	H1_ERR_TRUNCATED,      /* EOF inside a message with known length */
};

/* Filled in when a message's headers are complete. The strings come
 * last: a new message clears the members before them and only the first
 * byte of each string (see reset_message()). */
struct h1_message {
	enum h1_kind kind;
	int version_minor;         /* 0 or 1 (HTTP/1.0, HTTP/1.1); -1 for a
				    * request line cut before its version */
	/* requests */
	bool target_truncated;
	bool expect_continue;       /* Expect: 100-continue */
	/* responses */
	int status;                 /* 100..999 */
	/* both */
	int64_t content_length;     /* -1 when absent */
	bool chunked;               /* Transfer-Encoding ends in chunked */
	bool connection_close;      /* Connection: close (or 1.0 without keep-alive) */
	bool upgrade;               /* Connection: upgrade / Upgrade header */
	bool upgrade_h2c;           /* Upgrade names h2c (HTTP/2, cleartext) */
	/* a gap (uncaptured bytes) cut the headers short: on_headers fires
	 * with what was seen (start line, headers before the gap), then
	 * on_error(H1_ERR_GAP) and H1_ST_LOST; framing is unknown */
	bool headers_truncated;
	uint32_t header_count;
	uint64_t header_bytes;      /* start line + headers + final CRLF */
	/* requests */
	char method[H1_METHOD_MAX];
	char target[H1_TARGET_MAX]; /* truncated if longer, or cut short by
				     * a gap: target_truncated */
	char host[H1_HOST_MAX];     /* Host header, "" if none */
	/* responses */
	char reason[H1_REASON_MAX];
};

/* What on_headers tells the parser about the body that follows. */
enum h1_body_hint {
	H1_BODY_DEFAULT = 0, /* frame by the headers (RFC 9112 section 6.3) */
	H1_BODY_NONE = 1,    /* no body: response to HEAD, or a 1xx/204/304 */
	H1_BODY_TUNNEL = 2,  /* response to CONNECT that succeeded */
};

struct h1_callbacks {
	/*
	 * Start line and headers are complete; `offset` is the index in the
	 * current feed() input just past the blank line. The return value
	 * tells how the body is framed (a response parser cannot know by
	 * itself that the request was HEAD). May be NULL.
	 * 1xx responses are reported here too (status 100..199) and never
	 * have a body; the parser then expects the final response.
	 */
	enum h1_body_hint (*on_headers)(void *user, const struct h1_message *msg,
					size_t offset);
	/* The message, body included, is complete at `offset`. May be NULL. */
	void (*on_complete)(void *user, const struct h1_message *msg,
			    size_t offset);
	/* The parse failed; the parser is now in H1_ST_NOT_HTTP or
	 * H1_ST_LOST. May be NULL. */
	void (*on_error)(void *user, enum h1_error err);
};

struct h1_parser {
	enum h1_kind kind;
	enum h1_state state;
	enum h1_error last_error;
	struct h1_message msg;      /* message being parsed */
	/* line assembly across feed() calls */
	char line[H1_LINE_MAX];
	size_t line_len;
	bool saw_cr;
	bool in_start_line;
	/* body framing */
	enum {
		H1_BODY_LENGTH,   /* `remaining` bytes of body left */
		H1_BODY_CHUNK_SIZE, /* reading a chunk-size line */
		H1_BODY_CHUNK_DATA, /* `remaining` bytes of chunk data left */
		H1_BODY_CHUNK_DATA_END, /* CRLF after chunk data */
		H1_BODY_TRAILERS,  /* trailer lines after last chunk */
		H1_BODY_UNTIL_EOF, /* response delimited by close */
	} body_mode;
	uint64_t remaining;
	uint64_t messages;          /* messages completed so far */
	/* private to http1_parser.c */
	bool seen_http;             /* a start line parsed on this stream */
	bool te_present;            /* Transfer-Encoding seen */
	bool cl_invalid;            /* bad or conflicting Content-Length seen */
	bool keep_alive;            /* Connection: keep-alive seen */
	bool start_line_long;       /* skipping a request line longer than
				     * line[]; its last bytes in tail[] */
	uint8_t tail_len;
	char tail[16];
};

void h1_parser_init(struct h1_parser *p, enum h1_kind kind);

/* Feeds captured bytes. Returns the state after the input. */
enum h1_state h1_parser_feed(struct h1_parser *p, const uint8_t *data,
			     size_t len, const struct h1_callbacks *cb,
			     void *user);

/*
 * `len` bytes moved on the wire but were not captured. Inside a body of
 * known length (or chunk data) this just counts them; anywhere framing is
 * needed it moves the parser to H1_ST_LOST (on_error H1_ERR_GAP).
 * on_complete may fire (offset 0) if the gap ends a body of known length.
 */
enum h1_state h1_parser_gap(struct h1_parser *p, uint64_t len,
			    const struct h1_callbacks *cb, void *user);

/*
 * The connection closed. Completes a body delimited by close (on_complete
 * with offset 0); a message cut short gets on_error(H1_ERR_TRUNCATED).
 */
enum h1_state h1_parser_eof(struct h1_parser *p, const struct h1_callbacks *cb,
			    void *user);

/* True when the parser sits between messages (nothing half-parsed). */
bool h1_parser_idle(const struct h1_parser *p);

const char *h1_error_str(enum h1_error err);

#endif /* HTTPTRACE_HTTP1_PARSER_H */
