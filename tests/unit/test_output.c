// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Unit tests for the outputs: hook/phase names, address and error text,
 * the JSON writer's escaping, the --json line and the text timeline.
 *
 * JSON is checked with a strict RFC 8259 validator written here (so no
 * subprocess), and its negative cases are tested too, so a validator that
 * accepts everything would fail the run.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

#include "sink/json/json_writer.h"
#include "sink/json/output_json.h"
#include "sink/text/output_text.h"
#include "timeline/timeline.h"
#include "unit.h"

/* ---- a strict JSON validator -------------------------------------------- */

struct jp {
	const unsigned char *s;
	size_t len, pos;
	int depth;
};

static bool jp_value(struct jp *p);

static int jp_peek(const struct jp *p)
{
	return p->pos < p->len ? p->s[p->pos] : -1;
}

static void jp_ws(struct jp *p)
{
	while (p->pos < p->len && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' ||
				   p->s[p->pos] == '\n' || p->s[p->pos] == '\r'))
		p->pos++;
}

static bool jp_lit(struct jp *p, const char *word)
{
	size_t n = strlen(word);

	if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n) != 0)
		return false;
	p->pos += n;
	return true;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static long jp_hex4(struct jp *p)
{
	long v = 0;
	int i, h;

	if (p->len - p->pos < 4)
		return -1;
	for (i = 0; i < 4; i++) {
		h = hexval(p->s[p->pos + i]);
		if (h < 0)
			return -1;
		v = v * 16 + h;
	}
	p->pos += 4;
	return v;
}

/* Decodes one UTF-8 sequence by value, independently of json_writer.c's
 * table, and rejects overlongs, surrogates and > U+10FFFF. */
static bool jp_utf8(struct jp *p)
{
	unsigned char c = p->s[p->pos];
	unsigned long cp, min;
	size_t n, i;

	if (c >= 0xf0 && c < 0xf8) {
		n = 4, cp = c & 0x07, min = 0x10000;
	} else if (c >= 0xe0) {
		n = 3, cp = c & 0x0f, min = 0x800;
	} else if (c >= 0xc0) {
		n = 2, cp = c & 0x1f, min = 0x80;
	} else {
		return false;
	}
	if (c >= 0xf8 || p->len - p->pos < n)
		return false;
	for (i = 1; i < n; i++) {
		if ((p->s[p->pos + i] & 0xc0) != 0x80)
			return false;
		cp = cp << 6 | (p->s[p->pos + i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return false;
	p->pos += n;
	return true;
}

static bool jp_string(struct jp *p)
{
	long u, lo;

	if (jp_peek(p) != '"')
		return false;
	p->pos++;
	for (;;) {
		int c = jp_peek(p);

		if (c < 0)
			return false;
		if (c == '"') {
			p->pos++;
			return true;
		}
		if (c < 0x20)
			return false;
		if (c >= 0x80) {
			if (!jp_utf8(p))
				return false;
			continue;
		}
		p->pos++;
		if (c != '\\')
			continue;
		c = jp_peek(p);
		if (c < 0)
			return false;
		p->pos++;
		if (strchr("\"\\/bfnrt", c) && c != 0)
			continue;
		if (c != 'u')
			return false;
		u = jp_hex4(p);
		if (u < 0 || (u >= 0xdc00 && u <= 0xdfff))
			return false;
		if (u >= 0xd800 && u <= 0xdbff) {
			/* a high surrogate needs its low half */
			if (!jp_lit(p, "\\u"))
				return false;
			lo = jp_hex4(p);
			if (lo < 0xdc00 || lo > 0xdfff)
				return false;
		}
	}
}

static bool jp_digits(struct jp *p)
{
	size_t start = p->pos;

	while (jp_peek(p) >= '0' && jp_peek(p) <= '9')
		p->pos++;
	return p->pos > start;
}

static bool jp_number(struct jp *p)
{
	if (jp_peek(p) == '-')
		p->pos++;
	if (jp_peek(p) == '0')
		p->pos++;
	else if (!jp_digits(p))
		return false;
	if (jp_peek(p) == '.') {
		p->pos++;
		if (!jp_digits(p))
			return false;
	}
	if (jp_peek(p) == 'e' || jp_peek(p) == 'E') {
		p->pos++;
		if (jp_peek(p) == '+' || jp_peek(p) == '-')
			p->pos++;
		if (!jp_digits(p))
			return false;
	}
	return true;
}

static bool jp_container(struct jp *p, bool object)
{
	int close = object ? '}' : ']';

	if (++p->depth > 64)
		return false;
	p->pos++;
	jp_ws(p);
	if (jp_peek(p) == close) {
		p->pos++;
		p->depth--;
		return true;
	}
	for (;;) {
		jp_ws(p);
		if (object) {
			if (!jp_string(p))
				return false;
			jp_ws(p);
			if (jp_peek(p) != ':')
				return false;
			p->pos++;
		}
		if (!jp_value(p))
			return false;
		jp_ws(p);
		if (jp_peek(p) == ',') {
			p->pos++;
			continue;
		}
		if (jp_peek(p) != close)
			return false;
		p->pos++;
		p->depth--;
		return true;
	}
}

static bool jp_value(struct jp *p)
{
	int c;

	jp_ws(p);
	c = jp_peek(p);
	if (c == '{' || c == '[')
		return jp_container(p, c == '{');
	if (c == '"')
		return jp_string(p);
	if (c == '-' || (c >= '0' && c <= '9'))
		return jp_number(p);
	return jp_lit(p, "true") || jp_lit(p, "false") || jp_lit(p, "null");
}

/* One JSON value, then optional whitespace, and nothing else. */
static bool json_valid(const char *s, size_t len)
{
	struct jp p = { .s = (const unsigned char *)s, .len = len };

	if (!jp_value(&p))
		return false;
	jp_ws(&p);
	return p.pos == len;
}

/* What output_json() must produce: exactly one line. */
static bool json_valid_line(const char *s, size_t len)
{
	if (len == 0 || s[len - 1] != '\n' || memchr(s, '\n', len - 1))
		return false;
	return json_valid(s, len - 1);
}

static void test_validator_rejects(void)
{
	static const char *const bad[] = {
		"", "{", "{\"a\":1,}", "[1,]", "[01]", "[1.]", "[-]", "[.5]",
		"{'a':1}", "[1]x", "\"\x01\"", "\"\xff\"", "\"\xc0\x80\"",
		"\"\xed\xa0\x80\"", "\"\\ud800\"", "\"\\x41\"", "[nul]",
		"{\"a\" 1}", "{1:2}", "\"abc", "[True]",
	};
	static const char *const good[] = {
		"{}", "[]", "0", "-0.5e+3", "\"\\u00e9\\ud83d\\ude00\"",
		"{\"a\":[1,{\"b\":null}],\"c\":\"\xc3\xa9\"}", " [ true , false ] ",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (json_valid(bad[i], strlen(bad[i]))) {
			fprintf(stderr, "validator accepted: %s\n", bad[i]);
			CHECK(0);
		}
	}
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		if (!json_valid(good[i], strlen(good[i]))) {
			fprintf(stderr, "validator rejected: %s\n", good[i]);
			CHECK(0);
		}
	}
	CHECK(!json_valid_line("{}", 2));
	CHECK(!json_valid_line("{}\n{}\n", 6));
	CHECK(json_valid_line("{}\n", 3));
}

/* ---- fixtures and capture ----------------------------------------------- */

#define MONO_START 1000000000000ull      /* 1000 s after boot */
#define EPOCH_2026_11_25_113000 1795606200ll

static struct output_opts test_opts(void)
{
	struct output_opts o = {
		.mono_to_realtime_ns = EPOCH_2026_11_25_113000 * 1000000000ll -
				       (int64_t)MONO_START + 123456789,
	};
	return o;
}

static void set_v4(struct ht_addr *a, const char *ip, uint16_t port)
{
	memset(a, 0, sizeof(*a));
	a->family = AF_INET;
	a->port = port;
	CHECK(inet_pton(AF_INET, ip, a->addr) == 1);
}

static void set_v6(struct ht_addr *a, const char *ip, uint16_t port)
{
	memset(a, 0, sizeof(*a));
	a->family = AF_INET6;
	a->port = port;
	CHECK(inet_pton(AF_INET6, ip, a->addr) == 1);
}

static struct tl_event *add_event(struct timeline *tl, enum tl_hook hook,
				  int64_t t_us)
{
	struct tl_event *ev = &tl->events[tl->n_events++];

	memset(ev, 0, sizeof(*ev));
	ev->hook = hook;
	ev->ts_ns = tl->start_ns + t_us * 1000;
	return ev;
}

/* A plain GET over a new connection, as in the text example. */
static void make_get(struct timeline *tl)
{
	static const int64_t phases[TL_PHASE_COUNT] = {
		412, 210, -1, 31, 11002, 690, -1, 12345,
	};
	struct tl_event *ev;

	memset(tl, 0, sizeof(*tl));
	tl->start_ns = MONO_START;
	tl->end_ns = MONO_START + 12345000;
	tl->pid = 1234;
	tl->tid = 1235;
	strcpy(tl->comm, "curl");
	tl->role = HT_ROLE_CLIENT;
	set_v4(&tl->saddr, "127.0.0.1", 51234);
	set_v4(&tl->daddr, "127.0.0.1", 8080);
	tl->idle_us = -1;
	strcpy(tl->method, "GET");
	strcpy(tl->target, "/index.html");
	strcpy(tl->host, "example.test");
	strcpy(tl->version, "HTTP/1.1");
	tl->status = 200;
	tl->request_bytes = 78;
	tl->response_bytes = 1234;
	memcpy(tl->phase_us, phases, sizeof(phases));
	add_event(tl, TL_GetConn, 0);
	ev = add_event(tl, TL_DNSStart, 10);
	strcpy(ev->host, "example.test");
	ev = add_event(tl, TL_DNSDone, 422);
	ev->n_addrs = 1;
	set_v4(&ev->addrs[0], "127.0.0.1", 0);
	ev = add_event(tl, TL_ConnectStart, 430);
	ev->n_addrs = 1;
	set_v4(&ev->addrs[0], "127.0.0.1", 8080);
	ev = add_event(tl, TL_ConnectDone, 640);
	ev->n_addrs = 1;
	set_v4(&ev->addrs[0], "127.0.0.1", 8080);
	add_event(tl, TL_GotConn, 641);
	add_event(tl, TL_WroteHeaders, 650);
	add_event(tl, TL_WroteRequest, 672);
	add_event(tl, TL_GotFirstResponseByte, 11674);
	add_event(tl, TL_PutIdleConn, 12345);
	tl->complete = true;
}

/* connect() to a closed port: no request, refused. */
static void make_refused(struct timeline *tl)
{
	struct tl_event *ev;
	int i;

	memset(tl, 0, sizeof(*tl));
	tl->start_ns = MONO_START;
	tl->pid = 1234;
	tl->tid = 1234;
	strcpy(tl->comm, "curl");
	set_v4(&tl->daddr, "127.0.0.1", 1);
	tl->idle_us = -1;
	for (i = 0; i < TL_PHASE_COUNT; i++)
		tl->phase_us[i] = -1;
	tl->phase_us[TL_PHASE_CONNECT] = 85;
	tl->phase_us[TL_PHASE_TOTAL] = 90;
	add_event(tl, TL_GetConn, 0);
	ev = add_event(tl, TL_ConnectStart, 5);
	ev->n_addrs = 1;
	ev->addrs[0] = tl->daddr;
	ev = add_event(tl, TL_ConnectDone, 90);
	ev->n_addrs = 1;
	ev->addrs[0] = tl->daddr;
	ev->err = ECONNREFUSED;
	tl->complete = true;
}

struct capture {
	char *buf;
	size_t len;
};

static struct capture capture_json(const struct timeline *tl,
				   const struct output_opts *opts)
{
	struct capture c = { 0 };
	FILE *f = open_memstream(&c.buf, &c.len);

	CHECK(f != NULL);
	if (!f)
		exit(1);
	output_json(f, tl, opts);
	fclose(f);
	return c;
}

static struct capture capture_text_state(const struct timeline *tl,
					 const struct output_opts *opts,
					 struct output_text_state *state)
{
	struct capture c = { 0 };
	FILE *f = open_memstream(&c.buf, &c.len);

	CHECK(f != NULL);
	if (!f)
		exit(1);
	output_text(f, tl, opts, state);
	fclose(f);
	return c;
}

static struct capture capture_text(const struct timeline *tl,
				   const struct output_opts *opts)
{
	return capture_text_state(tl, opts, NULL);
}

static bool contains(const struct capture *c, const char *needle)
{
	return c->buf && strstr(c->buf, needle) != NULL;
}

#define CHECK_HAS(cap, needle)                                               \
	do {                                                                 \
		if (!contains(&(cap), (needle))) {                           \
			fprintf(stderr, "%s:%d: missing %s\n  in: %s\n",     \
				__FILE__, __LINE__, (needle), (cap).buf);    \
			unit_failed_checks++;                                \
		}                                                            \
	} while (0)

#define CHECK_LACKS(cap, needle)                                             \
	do {                                                                 \
		if (contains(&(cap), (needle))) {                            \
			fprintf(stderr, "%s:%d: unexpected %s\n  in: %s\n",  \
				__FILE__, __LINE__, (needle), (cap).buf);    \
			unit_failed_checks++;                                \
		}                                                            \
	} while (0)

/* ---- names, addresses, errors ------------------------------------------- */

static void test_hook_names(void)
{
	static const char *const want[TL_HOOK_COUNT] = {
		"GetConn", "DNSStart", "DNSDone", "ConnectStart",
		"ConnectDone", "TLSHandshakeStart", "TLSHandshakeDone",
		"GotConn", "WroteHeaders", "Wait100Continue",
		"Got100Continue", "WroteRequest", "GotFirstResponseByte",
		"Got1xxResponse", "PutIdleConn",
	};
	int i;

	for (i = 0; i < TL_HOOK_COUNT; i++)
		CHECK_STR(tl_hook_name(i), want[i]);
	CHECK_STR(tl_hook_name(TL_HOOK_COUNT), "unknown");
	CHECK_STR(tl_hook_name((enum tl_hook)-1), "unknown");
}

static void test_phase_names(void)
{
	static const char *const want[TL_PHASE_COUNT] = {
		"dns", "connect", "tls", "send", "wait", "receive", "idle",
		"total",
	};
	int i;

	for (i = 0; i < TL_PHASE_COUNT; i++)
		CHECK_STR(tl_phase_name(i), want[i]);
	CHECK_STR(tl_phase_name(TL_PHASE_COUNT), "unknown");
	CHECK_STR(tl_phase_name((enum tl_phase)-7), "unknown");
}

static void test_addr_text(void)
{
	struct ht_addr a;
	char buf[TL_ADDR_PORT_STRLEN], text[TL_ADDR_STRLEN], tiny[6];

	set_v4(&a, "127.0.0.1", 8080);
	CHECK_INT(tl_addr_text(&a, text), 9);
	CHECK_STR(text, "127.0.0.1");
	CHECK(tl_addr_port_str(&a, buf, sizeof(buf)));
	CHECK_STR(buf, "127.0.0.1:8080");

	set_v6(&a, "::1", 8080);
	CHECK_INT(tl_addr_text(&a, text), 3);
	CHECK_STR(text, "::1");
	CHECK(tl_addr_port_str(&a, buf, sizeof(buf)));
	CHECK_STR(buf, "[::1]:8080");

	set_v6(&a, "2001:db8::ff00:42:8329", 443);
	CHECK(tl_addr_port_str(&a, buf, sizeof(buf)));
	CHECK_STR(buf, "[2001:db8::ff00:42:8329]:443");

	/* a v4 peer on a v6 socket reads as v4 */
	set_v6(&a, "::ffff:10.1.2.3", 80);
	CHECK_INT(tl_addr_text(&a, text), 8);
	CHECK_STR(text, "10.1.2.3");
	CHECK(tl_addr_port_str(&a, buf, sizeof(buf)));
	CHECK_STR(buf, "10.1.2.3:80");

	/* the longest text there is fits */
	set_v6(&a, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535);
	CHECK(tl_addr_port_str(&a, buf, sizeof(buf)));
	CHECK_STR(buf, "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535");

	memset(&a, 0, sizeof(a));
	CHECK_INT(tl_addr_text(&a, text), 0);
	CHECK_STR(text, "?");
	a.family = 12345;
	CHECK(!tl_addr_port_str(&a, buf, sizeof(buf)));
	CHECK_STR(buf, "?");

	/* short buffers truncate, never overrun */
	set_v4(&a, "192.168.100.200", 1);
	CHECK(tl_addr_port_str(&a, tiny, sizeof(tiny)));
	CHECK_STR(tiny, "192.1");
	CHECK(tl_addr_port_str(&a, tiny, 0));
}

static void test_err_words(void)
{
	char buf[TL_ERR_WORDS_LEN];

	CHECK_STR(tl_err_words(TL_ConnectDone, ECONNREFUSED, buf, sizeof(buf)),
		  "Connection refused");
	CHECK_STR(tl_err_words(TL_ConnectDone, -ECONNREFUSED, buf,
			       sizeof(buf)),
		  "Connection refused");
	CHECK_STR(tl_err_words(TL_ConnectDone, ETIMEDOUT, buf, sizeof(buf)),
		  "Connection timed out");
	CHECK_STR(tl_err_words(TL_DNSDone, EAI_NONAME, buf, sizeof(buf)),
		  gai_strerror(EAI_NONAME));
	CHECK_STR(tl_err_words(TL_DNSDone, EAI_NONAME, buf, sizeof(buf)),
		  "Name or service not known");
	/* nonsense values still give words */
	CHECK(strlen(tl_err_words(TL_GotConn, INT32_MIN, buf, sizeof(buf))) >
	      0);
	CHECK(strlen(tl_err_words(TL_DNSDone, 99999, buf, sizeof(buf))) > 0);
}

/* ---- JSON writer -------------------------------------------------------- */

static struct capture jw_capture_bytes(const char *data, size_t len)
{
	struct capture c = { 0 };
	FILE *f = open_memstream(&c.buf, &c.len);
	struct json_writer jw;

	jw_init(&jw, f);
	jw_bytes(&jw, data, len);
	fclose(f);
	return c;
}

static void test_jw_structure(void)
{
	struct capture c = { 0 };
	FILE *f = open_memstream(&c.buf, &c.len);
	struct json_writer jw;

	jw_init(&jw, f);
	jw_start_object(&jw);
	jw_name(&jw, "a");
	jw_start_array(&jw);
	jw_int(&jw, -1);
	jw_start_object(&jw);
	jw_null_field(&jw, "b");
	jw_end_object(&jw);
	jw_start_array(&jw);
	jw_end_array(&jw);
	jw_uint(&jw, UINT64_MAX);
	jw_int(&jw, INT64_MIN);
	jw_end_array(&jw);
	jw_name(&jw, "c");
	jw_start_object(&jw);
	jw_end_object(&jw);
	jw_bool_field(&jw, "t", true);
	jw_bool_field(&jw, "f", false);
	jw_name(&jw, "q\""); /* a name that needs escaping */
	jw_string(&jw, "x");
	jw_end_object(&jw);
	fclose(f);
	CHECK_STR(c.buf, "{\"a\":[-1,{\"b\":null},[],18446744073709551615,"
			 "-9223372036854775808],\"c\":{},\"t\":true,"
			 "\"f\":false,\"q\\\"\":\"x\"}");
	CHECK(json_valid(c.buf, c.len));
	free(c.buf);
}

static void test_jw_escaping(void)
{
	static const struct {
		const char *in;
		size_t len;
		const char *want;
	} cases[] = {
		{ "plain", 5, "\"plain\"" },
		{ "a\"b\\c", 5, "\"a\\\"b\\\\c\"" },
		{ "\n\r\t\b\f", 5, "\"\\n\\r\\t\\b\\f\"" },
		{ "\x01\x1f\x7f", 3, "\"\\u0001\\u001f\\u007f\"" },
		{ "a\0b", 3, "\"a\\u0000b\"" },
		{ "/", 1, "\"/\"" },
		/* invalid bytes: one U+FFFD each, neighbours kept */
		{ "x\xffy", 3, "\"x\\ufffdy\"" },
		{ "\xfe\xc0\x80", 3, "\"\\ufffd\\ufffd\\ufffd\"" },
		/* surrogate half, past U+10FFFF, overlong 3-byte */
		{ "\xed\xa0\x80", 3, "\"\\ufffd\\ufffd\\ufffd\"" },
		{ "\xf4\x90\x80\x80", 4, "\"\\ufffd\\ufffd\\ufffd\\ufffd\"" },
		{ "\xe0\x80\xaf", 3, "\"\\ufffd\\ufffd\\ufffd\"" },
		/* truncated at the end of the buffer */
		{ "ok\xe2\x82", 4, "\"ok\\ufffd\\ufffd\"" },
		/* valid multibyte kept as is: é, €, U+10FFFF, 😀 */
		{ "\xc3\xa9", 2, "\"\xc3\xa9\"" },
		{ "\xe2\x82\xac", 3, "\"\xe2\x82\xac\"" },
		{ "\xf4\x8f\xbf\xbf", 4, "\"\xf4\x8f\xbf\xbf\"" },
		{ "a\xf0\x9f\x98\x80z", 6, "\"a\xf0\x9f\x98\x80z\"" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct capture c = jw_capture_bytes(cases[i].in, cases[i].len);

		CHECK_STR(c.buf, cases[i].want);
		CHECK(json_valid(c.buf, c.len));
		free(c.buf);
	}
}

static void test_jw_string_n_bounded(void)
{
	/* no NUL inside the array: stop at its size */
	char name[4] = { 'a', 'b', 'c', 'd' };
	struct capture c = { 0 };
	FILE *f = open_memstream(&c.buf, &c.len);
	struct json_writer jw;

	jw_init(&jw, f);
	jw_start_array(&jw);
	jw_string_n(&jw, name, sizeof(name));
	jw_string_n(&jw, "xy\0z", 4);
	jw_string(&jw, "");
	jw_end_array(&jw);
	fclose(f);
	CHECK_STR(c.buf, "[\"abcd\",\"xy\",\"\"]");
	free(c.buf);
}

/* Every byte value, in every position, still gives valid JSON. */
static void test_jw_all_bytes(void)
{
	unsigned char data[512];
	unsigned int seed = 12345;
	int i, round;

	for (i = 0; i < 256; i++)
		data[i] = (unsigned char)i;
	for (round = 0; round < 200; round++) {
		struct capture c;

		if (round > 0) {
			for (i = 0; i < (int)sizeof(data); i++) {
				seed = seed * 1103515245 + 12345;
				data[i] = (unsigned char)(seed >> 16);
			}
		}
		c = jw_capture_bytes((const char *)data,
				     round == 0 ? 256 : sizeof(data));
		CHECK(json_valid(c.buf, c.len));
		free(c.buf);
	}
}

/* ---- output_json -------------------------------------------------------- */

static void test_json_get_exact(void)
{
	struct timeline tl;
	struct output_opts o = test_opts();
	struct capture c;

	make_get(&tl);
	c = capture_json(&tl, &o);
	CHECK(json_valid_line(c.buf, c.len));
	CHECK_STR(c.buf,
		  "{\"ts\":\"2026-11-25T11:30:00.123456Z\",\"pid\":1234,"
		  "\"tid\":1235,\"comm\":\"curl\",\"container\":null,"
		  "\"role\":\"client\","
		  "\"conn\":{\"saddr\":\"127.0.0.1\",\"sport\":51234,"
		  "\"daddr\":\"127.0.0.1\",\"dport\":8080,\"reused\":false,"
		  "\"idle_us\":null},"
		  "\"http\":{\"method\":\"GET\",\"target\":\"/index.html\","
		  "\"target_truncated\":false,"
		  "\"host\":\"example.test\",\"version\":\"HTTP/1.1\","
		  "\"stream_id\":null,\"status\":200},"
		  "\"tls\":null,\"grpc\":null,"
		  "\"phases_us\":{\"dns\":412,\"connect\":210,\"tls\":null,"
		  "\"send\":31,\"wait\":11002,\"receive\":690,"
		  "\"idle\":null,\"total\":12345},"
		  "\"events\":["
		  "{\"hook\":\"GetConn\",\"t_us\":0},"
		  "{\"hook\":\"DNSStart\",\"t_us\":10,"
		  "\"host\":\"example.test\"},"
		  "{\"hook\":\"DNSDone\",\"t_us\":422,"
		  "\"addrs\":[\"127.0.0.1\"],\"err\":null},"
		  "{\"hook\":\"ConnectStart\",\"t_us\":430,"
		  "\"network\":\"tcp4\",\"addr\":\"127.0.0.1:8080\"},"
		  "{\"hook\":\"ConnectDone\",\"t_us\":640,"
		  "\"network\":\"tcp4\",\"addr\":\"127.0.0.1:8080\","
		  "\"err\":null},"
		  "{\"hook\":\"GotConn\",\"t_us\":641,\"reused\":false,"
		  "\"was_idle\":false,\"idle_us\":null},"
		  "{\"hook\":\"WroteHeaders\",\"t_us\":650},"
		  "{\"hook\":\"WroteRequest\",\"t_us\":672},"
		  "{\"hook\":\"GotFirstResponseByte\",\"t_us\":11674},"
		  "{\"hook\":\"PutIdleConn\",\"t_us\":12345}],"
		  "\"error\":null,\"complete\":true,"
		  "\"bytes\":{\"sent\":78,\"received\":1234}}\n");
	free(c.buf);
}

static void test_json_ts(void)
{
	struct timeline tl;
	struct output_opts o = { 0 };
	struct capture c;

	make_get(&tl);
	/* microseconds are cut, not rounded up into the next second */
	o.mono_to_realtime_ns = -(int64_t)MONO_START + 999999999;
	c = capture_json(&tl, &o);
	CHECK_HAS(c, "\"ts\":\"1970-01-01T00:00:00.999999Z\"");
	free(c.buf);

	/* before the epoch floors to the earlier second */
	o.mono_to_realtime_ns = -(int64_t)MONO_START - 1000;
	c = capture_json(&tl, &o);
	CHECK_HAS(c, "\"ts\":\"1969-12-31T23:59:59.999999Z\"");
	free(c.buf);

	/* leap day */
	o.mono_to_realtime_ns = 1709164800ll * 1000000000 -
				(int64_t)MONO_START + 7000;
	c = capture_json(&tl, &o);
	CHECK_HAS(c, "\"ts\":\"2024-02-29T00:00:00.000007Z\"");
	free(c.buf);

	/* no opts: monotonic taken as epoch */
	c = capture_json(&tl, NULL);
	CHECK_HAS(c, "\"ts\":\"1970-01-01T00:16:40.000000Z\"");
	CHECK(json_valid_line(c.buf, c.len));
	free(c.buf);
}

static void test_json_nulls(void)
{
	struct timeline tl;
	struct output_opts o = test_opts();
	struct capture c;
	int i;

	make_get(&tl);
	for (i = 0; i < TL_PHASE_COUNT; i++)
		tl.phase_us[i] = -1;
	tl.phase_us[TL_PHASE_WAIT] = 0;
	tl.method[0] = tl.target[0] = tl.host[0] = tl.version[0] = '\0';
	tl.status = 0;
	memset(&tl.saddr, 0, sizeof(tl.saddr));
	tl.n_events = 0;
	c = capture_json(&tl, &o);
	CHECK(json_valid_line(c.buf, c.len));
	CHECK_HAS(c, "\"phases_us\":{\"dns\":null,\"connect\":null,"
		     "\"tls\":null,\"send\":null,\"wait\":0,\"receive\":null,"
		     "\"idle\":null,\"total\":null}");
	CHECK_HAS(c, "\"http\":{\"method\":null,\"target\":null,"
		     "\"target_truncated\":false,"
		     "\"host\":null,\"version\":null,\"stream_id\":null,"
		     "\"status\":null}");
	CHECK_HAS(c, "\"saddr\":null,\"sport\":null,\"daddr\":\"127.0.0.1\"");
	CHECK_HAS(c, "\"events\":[]");
	free(c.buf);
}

static void test_json_reused_server(void)
{
	struct timeline tl;
	struct output_opts o = test_opts();
	struct capture c;

	make_get(&tl);
	tl.role = HT_ROLE_SERVER;
	tl.reused = true;
	tl.idle_us = 12345;
	tl.n_events = 0;
	add_event(&tl, TL_GotConn, 0);
	c = capture_json(&tl, &o);
	CHECK(json_valid_line(c.buf, c.len));
	CHECK_HAS(c, "\"role\":\"server\"");
	CHECK_HAS(c, "\"reused\":true,\"idle_us\":12345}");
	CHECK_HAS(c, "{\"hook\":\"GotConn\",\"t_us\":0,\"reused\":true,"
		     "\"was_idle\":true,\"idle_us\":12345}");
	free(c.buf);
}

static void test_json_events(void)
{
	struct timeline tl;
	struct output_opts o = test_opts();
	struct tl_event *ev;
	struct capture c;

	make_get(&tl);
	tl.n_events = 0;
	/* a lookup already running when GetConn was seen */
	ev = add_event(&tl, TL_DNSStart, -250);
	strcpy(ev->host, "v6.test");
	ev->ts_ns += 999; /* sub-microsecond parts are cut toward zero */
	ev = add_event(&tl, TL_DNSDone, 1500);
	ev->n_addrs = 3;
	set_v6(&ev->addrs[0], "::1", 0);
	set_v4(&ev->addrs[1], "192.0.2.7", 0);
	set_v6(&ev->addrs[2], "::ffff:192.0.2.8", 0);
	ev = add_event(&tl, TL_ConnectStart, 1600);
	ev->n_addrs = 1;
	set_v6(&ev->addrs[0], "::1", 8080);
	ev = add_event(&tl, TL_ConnectDone, 1700);
	ev->n_addrs = 1;
	set_v6(&ev->addrs[0], "::1", 8080);
	ev->err = ECONNREFUSED;
	/* no address in the event: the timeline's peer */
	set_v6(&tl.daddr, "::ffff:127.0.0.2", 81);
	add_event(&tl, TL_ConnectStart, 1800);
	ev = add_event(&tl, TL_Got1xxResponse, 2000);
	ev->status = 103;
	ev = add_event(&tl, TL_WroteRequest, 2100);
	ev->err = EPIPE;
	ev = add_event(&tl, TL_DNSDone, 2200);
	ev->err = EAI_NONAME;
	add_event(&tl, (enum tl_hook)99, 2300);
	/* a lookup that asked for a service: said; none: no key */
	ev = add_event(&tl, TL_DNSStart, 2400);
	strcpy(ev->host, "svc.test");
	strcpy(ev->service, "8080");
	c = capture_json(&tl, &o);
	CHECK(json_valid_line(c.buf, c.len));
	CHECK_HAS(c, "{\"hook\":\"DNSStart\",\"t_us\":-249,"
		     "\"host\":\"v6.test\"}");
	CHECK_HAS(c, "{\"hook\":\"DNSDone\",\"t_us\":1500,\"addrs\":[\"::1\","
		     "\"192.0.2.7\",\"192.0.2.8\"],\"err\":null}");
	CHECK_HAS(c, "{\"hook\":\"ConnectStart\",\"t_us\":1600,"
		     "\"network\":\"tcp6\",\"addr\":\"[::1]:8080\"}");
	CHECK_HAS(c, "{\"hook\":\"ConnectDone\",\"t_us\":1700,"
		     "\"network\":\"tcp6\",\"addr\":\"[::1]:8080\","
		     "\"err\":\"Connection refused\"}");
	CHECK_HAS(c, "{\"hook\":\"ConnectStart\",\"t_us\":1800,"
		     "\"network\":\"tcp4\",\"addr\":\"127.0.0.2:81\"}");
	CHECK_HAS(c, "{\"hook\":\"Got1xxResponse\",\"t_us\":2000,"
		     "\"code\":103}");
	CHECK_HAS(c, "{\"hook\":\"WroteRequest\",\"t_us\":2100,"
		     "\"err\":\"Broken pipe\"}");
	CHECK_HAS(c, "{\"hook\":\"DNSDone\",\"t_us\":2200,\"addrs\":[],"
		     "\"err\":\"Name or service not known\"}");
	CHECK_HAS(c, "{\"hook\":\"unknown\",\"t_us\":2300}");
	CHECK_HAS(c, "{\"hook\":\"DNSStart\",\"t_us\":2400,"
		     "\"host\":\"svc.test\",\"service\":\"8080\"}");
	free(c.buf);
}

static void test_json_odd_strings(void)
{
	struct timeline tl;
	struct output_opts o = test_opts();
	struct capture c;
	char want[HT_DNS_HOST_LEN + HT_DNS_SERVICE_LEN + 32];

	make_get(&tl);
	/* arrays filled to the brim, no NUL */
	memset(tl.comm, 'c', sizeof(tl.comm));
	memset(tl.version, 'v', sizeof(tl.version));
	/* the whole DNSStart event, padding too, so a read past host would
	 * not stop at a lucky NUL */
	memset(&tl.events[1], 'h', sizeof(tl.events[1]));
	tl.events[1].hook = TL_DNSStart;
	tl.events[1].ts_ns = tl.start_ns;
	tl.events[1].err = tl.events[1].status = 0;
	tl.events[1].n_addrs = 0;
	strcpy(tl.target, "/a\"b\\c\nd\x01\x7f\xff\xc3\xa9");
	strcpy(tl.error, "reset\r\n\x1b[2J");
	tl.complete = false;
	c = capture_json(&tl, &o);
	CHECK(json_valid_line(c.buf, c.len));
	CHECK_HAS(c, "\"comm\":\"cccccccccccccccc\",\"container\":null,"
		     "\"role\"");
	CHECK_HAS(c, "\"version\":\"vvvvvvvvvvvvvvvv\",\"stream_id\":null,"
		     "\"status\"");
	/* the DNSStart host, exactly HT_DNS_HOST_LEN bytes, then the
	 * service, exactly HT_DNS_SERVICE_LEN, then its end */
	memset(want, 'h', HT_DNS_HOST_LEN);
	strcpy(want + HT_DNS_HOST_LEN, "\",\"service\":\"");
	memset(want + strlen(want), 'h', HT_DNS_SERVICE_LEN);
	strcpy(want + HT_DNS_HOST_LEN + strlen("\",\"service\":\"") +
		       HT_DNS_SERVICE_LEN,
	       "\"},");
	CHECK_HAS(c, want);
	CHECK_HAS(c, "\"target\":\"/a\\\"b\\\\c\\nd\\u0001\\u007f\\ufffd"
		     "\xc3\xa9\"");
	CHECK_HAS(c, "\"error\":\"reset\\r\\n\\u001b[2J\",\"complete\":false");
	free(c.buf);
}

/* Whatever the struct holds: valid JSON, and no read out of bounds
 * (ASan watches the arrays). */
static void test_json_garbage(void)
{
	struct timeline *tl = malloc(sizeof(*tl));
	unsigned char *raw = (unsigned char *)tl;
	unsigned int seed = 777;
	struct output_opts o = test_opts();
	size_t i;
	int round;

	CHECK(tl != NULL);
	if (!tl)
		return;
	for (round = 0; round < 300; round++) {
		struct capture c;

		for (i = 0; i < sizeof(*tl); i++) {
			seed = seed * 1103515245 + 12345;
			raw[i] = round == 0 ? 0xff : (unsigned char)(seed >> 16);
		}
		o.mono_to_realtime_ns = (int64_t)((uint64_t)seed << 32);
		c = capture_json(tl, &o);
		if (!json_valid_line(c.buf, c.len)) {
			fprintf(stderr, "round %d: %s\n", round, c.buf);
			CHECK(0);
		}
		free(c.buf);
		c = capture_text(tl, &o);
		CHECK(c.len > 0);
		free(c.buf);
	}
	free(tl);
}

/* The container object: what its cgroup's path named, null for the
 * parts not named; null whole when nothing was. */
static void test_json_container(void)
{
	static const char id[] = "3f2a9c1e5b7d4f608192a3b4c5d6e7f8"
				 "091a2b3c4d5e6f708192a3b4c5d6e7f8";
	struct timeline tl;
	struct output_opts o = test_opts();
	struct capture c;

	make_get(&tl);
	tl.container.cgroup_id = 4242; /* known, but no container */
	c = capture_json(&tl, &o);
	CHECK_HAS(c, "\"comm\":\"curl\",\"container\":null,\"role\"");
	free(c.buf);
	snprintf(tl.container.id, sizeof(tl.container.id), "%s", id);
	snprintf(tl.container.runtime, sizeof(tl.container.runtime), "docker");
	c = capture_json(&tl, &o);
	CHECK(json_valid_line(c.buf, c.len));
	CHECK_HAS(c, "\"container\":{\"id\":\"3f2a9c1e5b7d4f608192a3b4c5d6e7f8"
		     "091a2b3c4d5e6f708192a3b4c5d6e7f8\",\"runtime\":\"docker\","
		     "\"pod_uid\":null},\"role\"");
	CHECK_LACKS(c, "4242");
	free(c.buf);
	c = capture_text(&tl, &o);
	CHECK_HAS(c, "curl[1234 docker:3f2a9c1e5b7d] GET example.test");
	free(c.buf);
	tl.container.id[0] = tl.container.runtime[0] = '\0';
	snprintf(tl.container.pod_uid, sizeof(tl.container.pod_uid),
		 "6b1a8f34-2c9d-4e8b-9f1a-0c2d3e4f5a6b");
	c = capture_json(&tl, &o);
	CHECK_HAS(c, "\"container\":{\"id\":null,\"runtime\":null,"
		     "\"pod_uid\":\"6b1a8f34-2c9d-4e8b-9f1a-0c2d3e4f5a6b\"}");
	free(c.buf);
	c = capture_text(&tl, &o);
	CHECK_HAS(c, "curl[1234 pod:6b1a8f34-2c9d-4e8b-9f1a-0c2d3e4f5a6b] GET");
	free(c.buf);
}

/* ---- output_text -------------------------------------------------------- */

static void test_text_get(void)
{
	struct timeline tl;
	struct output_opts o = test_opts();
	struct capture c;

	make_get(&tl);
	c = capture_text(&tl, &o);
	/* stamped with its end: printed then */
	CHECK_STR(c.buf,
		  "11:30:00.135 curl[1234] GET example.test /index.html -> 200"
		  "  total 12.345 ms\n"
		  "  dns        0.412 ms  #\n"
		  "  connect    0.210 ms  #\n"
		  "  send       0.031 ms\n"
		  "  wait      11.002 ms  ####################################\n"
		  "  receive    0.690 ms  ##\n"
		  "  new connection 127.0.0.1:51234 -> 127.0.0.1:8080\n");
	CHECK_LACKS(c, "tls");
	CHECK_LACKS(c, "\033");
	free(c.buf);

	c = capture_text_state(&tl, &o,
			       &(struct output_text_state){ .color = true });
	CHECK_HAS(c, "\033[32m200\033[0m");
	CHECK_HAS(c, "GET example.test /index.html");
	free(c.buf);
}

static void test_text_refused(void)
{
	struct timeline tl;
	struct output_opts o = test_opts();
	struct capture c;

	make_refused(&tl);
	c = capture_text(&tl, &o);
	CHECK_STR(c.buf,
		  "11:30:00.123 curl[1234] connect 127.0.0.1:1 -> failed: "
		  "Connection refused  total 0.090 ms\n"
		  "  connect    0.085 ms  ######################################\n");
	free(c.buf);

	/* the failing hook's words win: the correlator's error repeats the
	 * step and address the line already shows */
	strcpy(tl.error, "connect 127.0.0.1:1: connection refused");
	c = capture_text(&tl, &o);
	CHECK_HAS(c, "connect 127.0.0.1:1 -> failed: Connection refused  total");
	CHECK_LACKS(c, "error:");
	CHECK_LACKS(c, "failed: connect");
	free(c.buf);
}

static void test_text_dns_failed(void)
{
	struct timeline tl;
	struct output_opts o = test_opts();
	struct tl_event *ev;
	struct capture c;
	int i;

	memset(&tl, 0, sizeof(tl));
	tl.start_ns = MONO_START;
	tl.pid = 42;
	strcpy(tl.comm, "wget");
	for (i = 0; i < TL_PHASE_COUNT; i++)
		tl.phase_us[i] = -1;
	ev = add_event(&tl, TL_DNSStart, 0);
	strcpy(ev->host, "nowhere.invalid");
	ev = add_event(&tl, TL_DNSDone, 3000);
	ev->err = EAI_NONAME;
	c = capture_text(&tl, &o);
	CHECK_STR(c.buf, "11:30:00.123 wget[42] dns nowhere.invalid -> failed: "
			 "Name or service not known  (incomplete)\n");
	free(c.buf);
}

static void test_text_reused_error(void)
{
	struct timeline tl;
	struct output_opts o = test_opts();
	struct capture c;

	make_get(&tl);
	tl.reused = true;
	tl.idle_us = 12345;
	tl.status = 0;
	tl.phase_us[TL_PHASE_DNS] = -1;
	tl.phase_us[TL_PHASE_CONNECT] = -1;
	tl.phase_us[TL_PHASE_RECEIVE] = -1;
	strcpy(tl.error, "connection reset before response");
	tl.complete = false;
	c = capture_text(&tl, &o);
	CHECK_HAS(c, "curl[1234] GET example.test /index.html -> no response"
		     "  total 12.345 ms  (incomplete)\n");
	CHECK_HAS(c, "  reused connection, idle 12.3 ms\n");
	CHECK_HAS(c, "  error: connection reset before response\n");
	CHECK_LACKS(c, "dns");
	CHECK_LACKS(c, "connect ");
	CHECK_LACKS(c, "receive");
	CHECK_LACKS(c, "new connection");
	free(c.buf);

	/* no Host header: the peer stands in */
	tl.host[0] = '\0';
	set_v6(&tl.daddr, "::1", 8080);
	c = capture_text(&tl, &o);
	CHECK_HAS(c, "curl[1234] GET [::1]:8080 /index.html -> no response");
	free(c.buf);
}

static void test_text_untrusted(void)
{
	struct timeline tl;
	struct output_opts o = test_opts();
	struct capture c;
	size_t i, lines = 0;

	make_get(&tl);
	strcpy(tl.target, "/x\033[2J\ny\xc3\xa9");
	memset(tl.comm, 'c', sizeof(tl.comm));
	c = capture_text(&tl, &o);
	CHECK_HAS(c, "cccccccccccccccc[1234] GET example.test "
		     "/x\\x1b[2J\\x0ay\\xc3\\xa9 -> 200");
	for (i = 0; i < c.len; i++) {
		unsigned char ch = (unsigned char)c.buf[i];

		CHECK(ch == '\n' || (ch >= 0x20 && ch < 0x7f));
		lines += ch == '\n';
	}
	CHECK_INT(lines, 7);
	free(c.buf);
}

/* A response whose request was not seen: its status, not "no request"
 * or a failed connect; the error says what is missing. */
static void test_text_request_not_seen(void)
{
	struct timeline tl;
	struct output_opts o = test_opts();
	struct capture c;
	int i;

	make_get(&tl);
	tl.method[0] = tl.target[0] = tl.host[0] = tl.version[0] = '\0';
	for (i = 0; i < TL_PHASE_COUNT; i++)
		tl.phase_us[i] = -1;
	tl.phase_us[TL_PHASE_RECEIVE] = 690;
	tl.phase_us[TL_PHASE_TOTAL] = 690;
	strcpy(tl.error, "request not seen");
	tl.complete = false;
	c = capture_text(&tl, &o);
	CHECK_HAS(c, "curl[1234] ? 127.0.0.1:8080 -> 200  total 0.690 ms"
		     "  (incomplete)\n");
	CHECK_HAS(c, "  error: request not seen\n");
	CHECK_LACKS(c, "no request");
	CHECK_LACKS(c, "failed");
	free(c.buf);
}

/* Bars never pass 40 columns, even for phases longer than the total. */
/* HTTP/2 (streams not decoded): no method, but not "no request" either;
 * the connection, TLS and bytes lines say what is known */
static void make_h2(struct timeline *tl)
{
	int i;

	make_refused(tl);
	tl->n_events = 0;
	set_v4(&tl->saddr, "127.0.0.1", 41402);
	set_v4(&tl->daddr, "127.0.0.1", 8443);
	for (i = 0; i < TL_PHASE_COUNT; i++)
		tl->phase_us[i] = -1;
	tl->phase_us[TL_PHASE_CONNECT] = 270;
	tl->phase_us[TL_PHASE_TLS] = 4416;
	tl->phase_us[TL_PHASE_TOTAL] = 4801;
	strcpy(tl->version, "HTTP/2");
	tl->request_bytes = 842;
	tl->response_bytes = 1205;
	tl->tls.seen = true;
	strcpy(tl->tls.lib, "openssl");
	strcpy(tl->tls.version, "TLSv1.3");
	strcpy(tl->tls.cipher, "TLS_AES_256_GCM_SHA384");
	strcpy(tl->tls.sni, "localhost");
	strcpy(tl->tls.alpn, "h2");
	add_event(tl, TL_GetConn, 0);
	add_event(tl, TL_TLSHandshakeStart, 1708);
	add_event(tl, TL_TLSHandshakeDone, 4687);
	add_event(tl, TL_GotConn, 4687);
}

static void test_text_h2(void)
{
	struct timeline tl;
	struct output_opts o = test_opts();
	struct capture c;

	make_h2(&tl);
	c = capture_text(&tl, &o);
	CHECK_STR(c.buf,
		  "11:30:00.123 curl[1234] HTTP/2 127.0.0.1:8443 -> connection, "
		  "streams not decoded  total 4.801 ms\n"
		  "  connect    0.270 ms  ##\n"
		  "  tls        4.416 ms  #####################################\n"
		  "  new connection 127.0.0.1:41402 -> 127.0.0.1:8443\n"
		  "  tls openssl TLSv1.3 TLS_AES_256_GCM_SHA384 sni=localhost "
		  "alpn=h2\n"
		  "  bytes 842 from the client, 1205 from the server\n");
	CHECK_LACKS(c, "no request");
	free(c.buf);

	/* its server's view: incoming, to the server's own address */
	tl.role = HT_ROLE_SERVER;
	set_v4(&tl.saddr, "127.0.0.1", 8443);
	set_v4(&tl.daddr, "127.0.0.1", 41402);
	tl.phase_us[TL_PHASE_CONNECT] = -1;
	tl.phase_us[TL_PHASE_TLS] = -1;
	c = capture_text(&tl, &o);
	CHECK_STR(c.buf,
		  "11:30:00.123 curl[1234] incoming HTTP/2 127.0.0.1:8443 -> "
		  "connection, streams not decoded  total 4.801 ms\n"
		  "  accepted connection 127.0.0.1:41402 -> 127.0.0.1:8443\n"
		  "  tls openssl TLSv1.3 TLS_AES_256_GCM_SHA384 sni=localhost "
		  "alpn=h2\n"
		  "  bytes 842 from the client, 1205 from the server\n");
	free(c.buf);
}

/* A decoded stream: a request's line, the stream and gRPC's status */
static void make_h2_stream(struct timeline *tl)
{
	make_h2(tl);
	tl->stream_id = 3;
	strcpy(tl->method, "POST");
	strcpy(tl->target, "/pkg.Greeter/Hello?key=secret");
	strcpy(tl->host, "127.0.0.1:50051");
	tl->status = 200;
	tl->grpc = true;
	tl->grpc_status = 5;
	tl->grpc_message_seen = true;
	strcpy(tl->grpc_message, "no such greeting");
}

static void test_h2_stream_output(void)
{
	struct timeline tl;
	struct output_opts o = test_opts();
	struct capture c;

	make_h2_stream(&tl);
	c = capture_text(&tl, &o);
	CHECK_HAS(c, "curl[1234] POST 127.0.0.1:50051 "
		     "/pkg.Greeter/Hello?key=<redacted> -> 200  total");
	CHECK_HAS(c, "\n  HTTP/2 stream 3, grpc status 5: no such greeting\n");
	CHECK_LACKS(c, "streams not decoded");
	CHECK_LACKS(c, "secret");
	free(c.buf);
	c = capture_json(&tl, &o);
	CHECK_HAS(c, "\"method\":\"POST\",\"target\":"
		     "\"/pkg.Greeter/Hello?key=<redacted>\"");
	CHECK_HAS(c, "\"version\":\"HTTP/2\",\"stream_id\":3,"
		     "\"status\":200},");
	CHECK_HAS(c, "\"decoded\":true},\"grpc\":{\"status\":5,"
		     "\"message\":\"no such greeting\"},\"phases_us\"");
	CHECK_LACKS(c, "streams_decoded");
	free(c.buf);

	/* reused while other streams were open: not idle */
	tl.reused = true;
	tl.idle_us = -1;
	c = capture_json(&tl, &o);
	CHECK_HAS(c, "\"reused\":true,\"was_idle\":false,\"idle_us\":null");
	free(c.buf);
	tl.idle_us = 1500;
	c = capture_json(&tl, &o);
	CHECK_HAS(c, "\"reused\":true,\"was_idle\":true,\"idle_us\":1500");
	free(c.buf);

	/* trailers not seen: the status is not known */
	tl.grpc_status = -1;
	tl.grpc_message_seen = false;
	c = capture_json(&tl, &o);
	CHECK_HAS(c, "\"grpc\":{\"status\":null,\"message\":null}");
	free(c.buf);
	c = capture_text(&tl, &o);
	CHECK_HAS(c, "\n  HTTP/2 stream 3, grpc status not seen\n");
	free(c.buf);
	/* not gRPC: the stream alone */
	tl.grpc = false;
	c = capture_text(&tl, &o);
	CHECK_HAS(c, "\n  HTTP/2 stream 3\n");
	free(c.buf);
}

/* JSON says the streams were not decoded, and only for HTTP/2 */
static void test_json_h2(void)
{
	struct timeline tl;
	struct output_opts o = test_opts();
	struct capture c;

	make_h2(&tl);
	tl.role = HT_ROLE_SERVER;
	c = capture_json(&tl, &o);
	CHECK_HAS(c, "\"role\":\"server\"");
	CHECK_HAS(c, "\"version\":\"HTTP/2\",\"stream_id\":null,"
		     "\"status\":null,"
		     "\"streams_decoded\":false}");
	/* the server's own: it sent what came from the server */
	CHECK_HAS(c, "\"bytes\":{\"sent\":1205,\"received\":842}");
	free(c.buf);
	make_refused(&tl);
	c = capture_json(&tl, &o);
	CHECK_LACKS(c, "streams_decoded");
	free(c.buf);
}

/* TLS that no hooked library decrypted (Go's crypto/tls): one line that
 * says so, with what the handshake showed; ALPN as offered, since the
 * server's choice is not known */
static void make_not_decoded(struct timeline *tl)
{
	int i;

	make_refused(tl);
	tl->n_events = 0;
	strcpy(tl->comm, "gohttp");
	set_v4(&tl->saddr, "127.0.0.1", 41402);
	set_v4(&tl->daddr, "127.0.0.1", 8443);
	for (i = 0; i < TL_PHASE_COUNT; i++)
		tl->phase_us[i] = -1;
	tl->phase_us[TL_PHASE_CONNECT] = 270;
	tl->phase_us[TL_PHASE_TOTAL] = 4801;
	tl->tls.seen = true;
	tl->tls.not_decoded = true;
	strcpy(tl->tls.version, "TLSv1.3");
	strcpy(tl->tls.cipher, "TLS_AES_128_GCM_SHA256");
	strcpy(tl->tls.sni, "localhost");
	strcpy(tl->tls.alpn_offered, "h2,http/1.1");
	strcpy(tl->error, "TLS not decoded: encrypted by a TLS library the "
			  "tracer does not hook");
	tl->complete = false;
	add_event(tl, TL_GetConn, 0);
	add_event(tl, TL_TLSHandshakeStart, 300);
}

static void test_text_tls_not_decoded(void)
{
	struct timeline tl;
	struct output_opts o = test_opts();
	struct capture c;

	make_not_decoded(&tl);
	c = capture_text(&tl, &o);
	CHECK_STR(c.buf,
		  "11:30:00.123 gohttp[1234] tls 127.0.0.1:8443 -> TLS not "
		  "decoded: encrypted by a TLS library the tracer does not "
		  "hook  total 4.801 ms  (incomplete)\n"
		  "  connect    0.270 ms  ##\n"
		  "  new connection 127.0.0.1:41402 -> 127.0.0.1:8443\n"
		  "  tls TLSv1.3 TLS_AES_128_GCM_SHA256 sni=localhost "
		  "alpn offered=h2,http/1.1\n");
	free(c.buf);

	/* an inferred ALPN says so */
	tl.tls.not_decoded = false;
	strcpy(tl.tls.lib, "openssl");
	strcpy(tl.tls.alpn, "h2");
	tl.tls.alpn_inferred = true;
	strcpy(tl.version, "HTTP/2");
	tl.error[0] = '\0';
	c = capture_text(&tl, &o);
	CHECK_HAS(c, "  tls openssl TLSv1.3 TLS_AES_128_GCM_SHA256 "
		     "sni=localhost alpn=h2? (inferred)\n");
	CHECK_LACKS(c, "offered");
	free(c.buf);
}

static void test_json_tls_fields(void)
{
	struct timeline tl;
	struct output_opts o = test_opts();
	struct capture c;

	make_not_decoded(&tl);
	c = capture_json(&tl, &o);
	CHECK(json_valid_line(c.buf, c.len));
	CHECK_HAS(c, "\"tls\":{\"lib\":null,\"version\":\"TLSv1.3\","
		     "\"cipher\":\"TLS_AES_128_GCM_SHA256\","
		     "\"sni\":\"localhost\",\"alpn\":null,"
		     "\"alpn_source\":null,\"alpn_offered\":\"h2,http/1.1\","
		     "\"decoded\":false}");
	CHECK_HAS(c, "\"error\":\"TLS not decoded: encrypted by a TLS "
		     "library the tracer does not hook\",\"complete\":false");
	free(c.buf);

	tl.tls.not_decoded = false;
	strcpy(tl.tls.alpn, "h2");
	tl.tls.alpn_inferred = true;
	c = capture_json(&tl, &o);
	CHECK_HAS(c, "\"alpn\":\"h2\",\"alpn_source\":\"inferred\","
		     "\"alpn_offered\":\"h2,http/1.1\",\"decoded\":true}");
	free(c.buf);

	tl.tls.alpn_inferred = false;
	c = capture_json(&tl, &o);
	CHECK_HAS(c, "\"alpn\":\"h2\",\"alpn_source\":\"server_hello\",");
	free(c.buf);
}

static void test_text_bar_clamped(void)
{
	struct timeline tl;
	struct output_opts o = test_opts();
	struct capture c;
	char want[64];

	make_get(&tl);
	tl.phase_us[TL_PHASE_TOTAL] = 1;
	tl.phase_us[TL_PHASE_WAIT] = INT64_MAX;
	tl.phase_us[TL_PHASE_DNS] = 2;
	c = capture_text(&tl, &o);
	memset(want, '#', 40);
	strcpy(want + 40, "\n");
	CHECK_HAS(c, want);
	CHECK_HAS(c, "  dns        0.002 ms  ########################################\n");
	want[40] = '#';
	strcpy(want + 41, "\n");
	CHECK_LACKS(c, want);
	free(c.buf);
}

/* ---- items of issue 9: idle, server side, stamps, query, cut target ---- */

static void test_text_idle_in_place(void)
{
	struct timeline tl;
	struct output_opts o = test_opts();
	struct capture c;
	static const struct tl_step steps[] = {
		{ TL_PHASE_CONNECT, 210 }, { TL_PHASE_TLS, 3000 },
		{ TL_PHASE_IDLE, 44000 }, { TL_PHASE_SEND, 31 },
		{ TL_PHASE_WAIT, 1000 }, { TL_PHASE_RECEIVE, 759 },
	};

	make_get(&tl);
	tl.phase_us[TL_PHASE_DNS] = -1;
	tl.phase_us[TL_PHASE_CONNECT] = 210;
	tl.phase_us[TL_PHASE_TLS] = 3000;
	tl.phase_us[TL_PHASE_SEND] = 31;
	tl.phase_us[TL_PHASE_WAIT] = 1000;
	tl.phase_us[TL_PHASE_RECEIVE] = 759;
	tl.phase_us[TL_PHASE_IDLE] = 44000;
	tl.phase_us[TL_PHASE_TOTAL] = 49000;
	tl.end_ns = tl.start_ns + 49000000;
	memcpy(tl.steps, steps, sizeof(steps));
	tl.n_steps = sizeof(steps) / sizeof(steps[0]);
	c = capture_text(&tl, &o);
	CHECK_HAS(c, "  connect    0.210 ms\n"
		     "  tls        3.000 ms  ##\n"
		     "  idle      44.000 ms  ####################################\n"
		     "  send       0.031 ms\n"
		     "  wait       1.000 ms  #\n"
		     "  receive    0.759 ms  #\n");
	free(c.buf);
	c = capture_json(&tl, &o);
	CHECK_HAS(c, "\"receive\":759,\"idle\":44000,\"total\":49000}");
	free(c.buf);
}

/* A request the process served reads as one: "incoming", the server's
 * phase words, the peer as the one who connected, bytes from its side. */
static void test_server_side(void)
{
	struct timeline tl;
	struct output_opts o = test_opts();
	struct capture c;

	make_get(&tl);
	tl.role = HT_ROLE_SERVER;
	set_v4(&tl.saddr, "127.0.0.1", 8080);
	set_v4(&tl.daddr, "127.0.0.1", 51234);
	tl.phase_us[TL_PHASE_DNS] = tl.phase_us[TL_PHASE_CONNECT] = -1;
	tl.host[0] = '\0';
	c = capture_text(&tl, &o);
	CHECK_HAS(c, "curl[1234] incoming GET 127.0.0.1:8080 /index.html "
		     "-> 200");
	CHECK_HAS(c, "\n  read       0.031 ms\n"
		     "  handle    11.002 ms");
	CHECK_HAS(c, "\n  write      0.690 ms");
	CHECK_HAS(c, "  accepted connection 127.0.0.1:51234 -> "
		     "127.0.0.1:8080\n");
	CHECK_LACKS(c, "send");
	CHECK_LACKS(c, "new connection");
	free(c.buf);
	c = capture_json(&tl, &o);
	CHECK_HAS(c, "\"bytes\":{\"sent\":1234,\"received\":78}");
	free(c.buf);

	/* HTTP/2 served: the process's own address, not the peer's port */
	tl.method[0] = tl.target[0] = '\0';
	strcpy(tl.version, "HTTP/2");
	c = capture_text(&tl, &o);
	CHECK_HAS(c, "curl[1234] incoming HTTP/2 127.0.0.1:8080 -> connection, "
		     "streams not decoded");
	CHECK_LACKS(c, "HTTP/2 127.0.0.1:51234");
	free(c.buf);

	/* a client line is not marked */
	make_get(&tl);
	c = capture_text(&tl, &o);
	CHECK_LACKS(c, "incoming");
	free(c.buf);
	c = capture_json(&tl, &o);
	CHECK_HAS(c, "\"bytes\":{\"sent\":78,\"received\":1234}");
	free(c.buf);
}

/* "hh:mm:ss.mmm" of the first line in c after `after` */
static void stamps(const struct capture *c, char out[][16], int *n, int max)
{
	const char *p = c->buf;

	*n = 0;
	while (p && *p && *n < max) {
		if (p[0] != ' ') {
			memcpy(out[*n], p, 12);
			out[*n][12] = '\0';
			(*n)++;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
}

/* Overlapping requests come out as they end: the stamps are their ends
 * and never go backwards, even for one whose end was found out late. */
static void test_text_stamps_in_order(void)
{
	struct timeline tl[3];
	struct output_text_state state = { .ordered_stamps = true };
	struct output_opts o = test_opts();
	struct capture c = { 0 };
	FILE *f = open_memstream(&c.buf, &c.len);
	char got[4][16];
	int i, n;

	for (i = 0; i < 3; i++)
		make_get(&tl[i]);
	/* a long one: 0 .. 500 ms; a short one started later: 100 .. 120
	 * ms, so it ends first */
	tl[1].start_ns = MONO_START + 100000000;
	tl[1].end_ns = MONO_START + 120000000;
	tl[0].end_ns = MONO_START + 500000000;
	/* reported last, but it ended at 300 ms (process exit found out) */
	tl[2].start_ns = MONO_START + 200000000;
	tl[2].end_ns = MONO_START + 300000000;
	tl[2].complete = false;
	CHECK(f != NULL);
	if (!f)
		return;
	output_text(f, &tl[1], &o, &state);
	output_text(f, &tl[0], &o, &state);
	output_text(f, &tl[2], &o, &state);
	fclose(f);
	stamps(&c, got, &n, 4);
	CHECK_INT(n, 3);
	if (n == 3) {
		CHECK_STR(got[0], "11:30:00.243");
		CHECK_STR(got[1], "11:30:00.623");
		CHECK_STR(got[2], "11:30:00.623");
	}
	CHECK_HAS(c, "(incomplete)  (ended 11:30:00.423)\n");
	free(c.buf);
}

static void check_target_text(const char *target, bool show,
			      const char *want)
{
	char out[TL_TARGET_TEXT_MAX];
	size_t len = tl_target_text(target, TL_TARGET_MAX, show, out);

	CHECK_STR(out, want);
	CHECK_INT(len, strlen(want));
}

static void test_query_redacted(void)
{
	struct timeline tl;
	struct output_opts o = test_opts();
	struct capture c;
	char big[TL_TARGET_MAX], out[TL_TARGET_TEXT_MAX];
	size_t i;

	check_target_text("/a?token=SECRET789", false, "/a?token=<redacted>");
	check_target_text("/a?token=SECRET789", true, "/a?token=SECRET789");
	check_target_text("/a?x=1&empty=&bare&y=a=b", false,
			  "/a?x=<redacted>&empty=&<redacted>&y=<redacted>");
	check_target_text("/a?", false, "/a?");
	check_target_text("/a?&&", false, "/a?&&");
	check_target_text("/no/query", false, "/no/query");
	check_target_text("*", false, "*");
	/* the worst growth fits: one-byte bare parameters */
	big[0] = '?';
	for (i = 1; i < sizeof(big) - 1; i++)
		big[i] = i % 2 ? 'x' : '&';
	big[sizeof(big) - 1] = '\0';
	i = tl_target_text(big, sizeof(big), false, out);
	CHECK(i < sizeof(out));
	CHECK_INT(strlen(out), i);

	make_get(&tl);
	strcpy(tl.target, "/api?user=bob&token=SECRET789");
	c = capture_text(&tl, &o);
	CHECK_HAS(c, " /api?user=<redacted>&token=<redacted> -> 200");
	CHECK_LACKS(c, "SECRET789");
	CHECK_LACKS(c, "bob");
	free(c.buf);
	c = capture_json(&tl, &o);
	CHECK_HAS(c, "\"target\":\"/api?user=<redacted>&token=<redacted>\"");
	CHECK_LACKS(c, "SECRET789");
	free(c.buf);
	o.show_query = true;
	c = capture_text(&tl, &o);
	CHECK_HAS(c, " /api?user=bob&token=SECRET789 -> 200");
	free(c.buf);
	c = capture_json(&tl, &o);
	CHECK_HAS(c, "\"target\":\"/api?user=bob&token=SECRET789\"");
	free(c.buf);
}

static void test_target_cut(void)
{
	struct timeline tl;
	struct output_opts o = test_opts();
	struct capture c;

	make_get(&tl);
	memset(tl.target, 'a', sizeof(tl.target) - 1);
	tl.target[0] = '/';
	tl.target[sizeof(tl.target) - 1] = '\0';
	tl.target_truncated = true;
	c = capture_text(&tl, &o);
	CHECK_HAS(c, "aaaa...[cut] -> 200");
	free(c.buf);
	c = capture_json(&tl, &o);
	CHECK(json_valid_line(c.buf, c.len));
	CHECK_HAS(c, "aaaa\",\"target_truncated\":true,");
	free(c.buf);
}

int main(int argc, char **argv)
{
	unit_args(argc, argv);
	/* the text header prints local time */
	setenv("TZ", "UTC", 1);
	tzset();

	RUN(test_validator_rejects);
	RUN(test_hook_names);
	RUN(test_phase_names);
	RUN(test_addr_text);
	RUN(test_err_words);
	RUN(test_jw_structure);
	RUN(test_jw_escaping);
	RUN(test_jw_string_n_bounded);
	RUN(test_jw_all_bytes);
	RUN(test_json_get_exact);
	RUN(test_json_ts);
	RUN(test_json_nulls);
	RUN(test_json_reused_server);
	RUN(test_json_events);
	RUN(test_json_odd_strings);
	RUN(test_json_garbage);
	RUN(test_json_container);
	RUN(test_text_get);
	RUN(test_text_refused);
	RUN(test_text_dns_failed);
	RUN(test_text_reused_error);
	RUN(test_text_untrusted);
	RUN(test_text_bar_clamped);
	RUN(test_text_h2);
	RUN(test_text_request_not_seen);
	RUN(test_text_tls_not_decoded);
	RUN(test_json_tls_fields);
	RUN(test_text_idle_in_place);
	RUN(test_server_side);
	RUN(test_text_stamps_in_order);
	RUN(test_query_redacted);
	RUN(test_target_cut);
	RUN(test_json_h2);
	RUN(test_h2_stream_output);
	return unit_done("output");
}
