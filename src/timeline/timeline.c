// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Names and text forms shared by the outputs: ClientTrace hook names,
 * phase names, addresses and error words.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* GNU strerror_r(), which is what glibc gives us */
#endif

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "timeline/timeline.h"

#define NAME(s) { s, sizeof(s) - 1 }

static const struct tl_name hook_names[TL_HOOK_COUNT] = {
	[TL_GetConn] = NAME("GetConn"),
	[TL_DNSStart] = NAME("DNSStart"),
	[TL_DNSDone] = NAME("DNSDone"),
	[TL_ConnectStart] = NAME("ConnectStart"),
	[TL_ConnectDone] = NAME("ConnectDone"),
	[TL_TLSHandshakeStart] = NAME("TLSHandshakeStart"),
	[TL_TLSHandshakeDone] = NAME("TLSHandshakeDone"),
	[TL_GotConn] = NAME("GotConn"),
	[TL_WroteHeaders] = NAME("WroteHeaders"),
	[TL_Wait100Continue] = NAME("Wait100Continue"),
	[TL_Got100Continue] = NAME("Got100Continue"),
	[TL_WroteRequest] = NAME("WroteRequest"),
	[TL_GotFirstResponseByte] = NAME("GotFirstResponseByte"),
	[TL_Got1xxResponse] = NAME("Got1xxResponse"),
	[TL_PutIdleConn] = NAME("PutIdleConn"),
};

static const struct tl_name unknown_name = NAME("unknown");

/* output_json.c writes these as literal keys: keep them in step. */
static const char *const phase_names[TL_PHASE_COUNT] = {
	[TL_PHASE_DNS] = "dns",
	[TL_PHASE_CONNECT] = "connect",
	[TL_PHASE_TLS] = "tls",
	[TL_PHASE_SEND] = "send",
	[TL_PHASE_WAIT] = "wait",
	[TL_PHASE_RECEIVE] = "receive",
	[TL_PHASE_IDLE] = "idle",
	[TL_PHASE_TOTAL] = "total",
};

/* The enum values come from a struct that may hold anything; compare as
 * unsigned so a negative value is out of range too. */
struct tl_name tl_hook_name_n(enum tl_hook hook)
{
	if ((unsigned int)hook >= TL_HOOK_COUNT)
		return unknown_name;
	return hook_names[hook];
}

const char *tl_hook_name(enum tl_hook hook)
{
	return tl_hook_name_n(hook).str;
}

const char *tl_phase_name(enum tl_phase phase)
{
	if ((unsigned int)phase >= TL_PHASE_COUNT)
		return "unknown";
	return phase_names[phase];
}

/* Whole microseconds from start to t, within [0, total_us]. */
static int64_t offset_us(uint64_t start, uint64_t t, int64_t total_us)
{
	int64_t us;

	if (t <= start)
		return 0;
	us = (int64_t)((t - start) / 1000);
	return us < total_us ? us : total_us;
}

static void add_step(struct timeline *tl, enum tl_phase phase, int64_t us)
{
	if (tl->n_steps >= TL_MAX_STEPS)
		return;
	tl->steps[tl->n_steps].phase = phase;
	tl->steps[tl->n_steps].us = us;
	tl->n_steps++;
}

void tl_set_phases(struct timeline *tl, struct tl_spans *sp)
{
	size_t n = sp->n < TL_PHASE_IDLE ? sp->n : TL_PHASE_IDLE;
	uint64_t start = tl->start_ns;
	int64_t total = tl->end_ns > start ?
				(int64_t)((tl->end_ns - start) / 1000) : 0;
	int64_t cursor = 0, idle = 0;
	size_t i, j;

	/* insertion sort, stable: spans that start together keep their
	 * order (a phase of zero length before the one it precedes) */
	for (i = 1; i < n; i++) {
		struct tl_span s = sp->s[i];

		for (j = i; j > 0 && sp->s[j - 1].from_ns > s.from_ns; j--)
			sp->s[j] = sp->s[j - 1];
		sp->s[j] = s;
	}
	tl->n_steps = 0;
	for (i = 0; i < n; i++) {
		enum tl_phase phase = sp->s[i].phase;
		int64_t from = offset_us(start, sp->s[i].from_ns, total);
		int64_t to = offset_us(start, sp->s[i].to_ns, total);

		if ((unsigned int)phase >= TL_PHASE_IDLE)
			continue;
		if (from > cursor) {
			add_step(tl, TL_PHASE_IDLE, from - cursor);
			idle += from - cursor;
			cursor = from;
		}
		if (to < cursor)
			to = cursor;
		add_step(tl, phase, to - cursor);
		tl->phase_us[phase] = to - cursor;
		cursor = to;
	}
	if (total > cursor) {
		add_step(tl, TL_PHASE_IDLE, total - cursor);
		idle += total - cursor;
	}
	tl->phase_us[TL_PHASE_IDLE] = idle > 0 ? idle : -1;
	tl->phase_us[TL_PHASE_TOTAL] = total;
}

/* snprintf(buf, size, "%s", s) without the format machinery */
static void copy_str(char *buf, size_t size, const char *s)
{
	size_t n;

	if (size == 0)
		return;
	n = strnlen(s, size - 1);
	memcpy(buf, s, n);
	buf[n] = '\0';
}

static bool is_v4_mapped(const uint8_t *a)
{
	static const uint8_t prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
					    0xff, 0xff };

	return memcmp(a, prefix, sizeof(prefix)) == 0;
}

/* Dotted quad by hand: inet_ntop's snprintf was a tenth of the JSON
 * output's cost, and every timeline prints two or three addresses.
 * Returns the length. */
static size_t ipv4_text(const uint8_t *a, char *out)
{
	char *p = out;
	int i;

	for (i = 0; i < 4; i++) {
		unsigned int v = a[i];

		if (v >= 100)
			*p++ = (char)('0' + v / 100);
		if (v >= 10)
			*p++ = (char)('0' + v / 10 % 10);
		*p++ = (char)('0' + v % 10);
		*p++ = '.';
	}
	p[-1] = '\0';
	return (size_t)(p - 1 - out);
}

/*
 * The text of addr in buf (TL_ADDR_STRLEN bytes) and its length. *family
 * is the family it is shown in: AF_INET for mapped IPv6, 0 when the
 * family is neither AF_INET nor AF_INET6 (buf is then "?").
 */
static size_t addr_text(const struct ht_addr *addr, char *buf, int *family)
{
	*family = addr->family;
	if (addr->family == AF_INET)
		return ipv4_text(addr->addr, buf);
	if (addr->family == AF_INET6 && is_v4_mapped(addr->addr)) {
		*family = AF_INET;
		return ipv4_text(addr->addr + 12, buf);
	}
	if (addr->family == AF_INET6 &&
	    inet_ntop(AF_INET6, addr->addr, buf, TL_ADDR_STRLEN))
		return strlen(buf);
	*family = 0;
	memcpy(buf, "?", 2);
	return 1;
}

size_t tl_addr_text(const struct ht_addr *addr, char buf[TL_ADDR_STRLEN])
{
	int family;
	size_t len = addr_text(addr, buf, &family);

	return family ? len : 0;
}

/* "[" addr "]:" port by hand, for the reason of ipv4_text(). */
size_t tl_addr_port_text(const struct ht_addr *addr,
			 char buf[TL_ADDR_PORT_STRLEN])
{
	char text[TL_ADDR_STRLEN], digits[5];
	unsigned int port = addr->port;
	int family, n = 0;
	size_t len = addr_text(addr, text, &family);
	char *p = buf;

	if (!family) {
		memcpy(buf, "?", 2);
		return 0;
	}
	if (family == AF_INET6)
		*p++ = '[';
	memcpy(p, text, len);
	p += len;
	if (family == AF_INET6)
		*p++ = ']';
	*p++ = ':';
	do {
		digits[n++] = (char)('0' + port % 10);
		port /= 10;
	} while (port);
	while (n)
		*p++ = digits[--n];
	*p = '\0';
	return (size_t)(p - buf);
}

bool tl_addr_port_str(const struct ht_addr *addr, char *buf, size_t size)
{
	char text[TL_ADDR_PORT_STRLEN];
	size_t len = tl_addr_port_text(addr, text);

	copy_str(buf, size, text);
	return len != 0;
}

size_t tl_target_text(const char *target, size_t max, bool show_query,
		      char out[TL_TARGET_TEXT_MAX])
{
	static const char redacted[] = TL_REDACTED;
	size_t len = strnlen(target, max);
	const char *query = memchr(target, '?', len);
	size_t i, n;

	_Static_assert(sizeof(redacted) - 1 + 1 <= 6 * 2,
		       "a one-byte parameter and its '&' grow to 12 at most");
	if (len >= TL_TARGET_MAX)
		len = TL_TARGET_MAX - 1;
	if (show_query || !query) {
		memcpy(out, target, len);
		out[len] = '\0';
		return len;
	}
	n = (size_t)(query - target) + 1;
	memcpy(out, target, n);
	i = n;
	while (i < len) {
		size_t end = i, eq;

		while (end < len && target[end] != '&')
			end++;
		for (eq = i; eq < end && target[eq] != '='; eq++)
			;
		/* the name, and "=" if there is one */
		if (eq < end) {
			memcpy(out + n, target + i, eq + 1 - i);
			n += eq + 1 - i;
		}
		/* an empty value hides nothing */
		if (eq < end ? eq + 1 < end : end > i) {
			memcpy(out + n, redacted, sizeof(redacted) - 1);
			n += sizeof(redacted) - 1;
		}
		if (end < len)
			out[n++] = '&';
		i = end + 1;
	}
	out[n] = '\0';
	return n;
}

const char *tl_err_words(enum tl_hook hook, int32_t err, char *buf,
			 size_t size)
{
	const char *words;

	if (size == 0)
		return buf;
	if (hook == TL_DNSDone) {
		/* glibc's gai_strerror() returns constant strings. */
		copy_str(buf, size, gai_strerror(err));
		return buf;
	}
	/* Records say positive errno; take -errno too rather than print
	 * "Unknown error -111". INT32_MIN has no positive twin. */
	if (err < 0 && err != INT32_MIN)
		err = -err;
#if defined(__GLIBC__)
	words = strerror_r(err, buf, size);
	if (words != buf)
		copy_str(buf, size, words);
#else
	if (strerror_r(err, buf, size) != 0)
		snprintf(buf, size, "error %d", (int)err);
	(void)words;
#endif
	return buf;
}

#define TL_ERROR_KIND_LABEL(name, label) [TL_ERR_##name] = label,
static const char *const error_labels[TL_ERROR_KIND_COUNT] = {
	TL_ERROR_KINDS(TL_ERROR_KIND_LABEL)
};
#undef TL_ERROR_KIND_LABEL

const char *tl_error_label(enum tl_error_kind kind)
{
	if ((unsigned int)kind >= TL_ERROR_KIND_COUNT)
		return error_labels[TL_ERR_OTHER];
	return error_labels[kind];
}

enum tl_error_kind tl_error_kind_errno(enum tl_hook hook, int32_t err)
{
	if (err == 0)
		return TL_ERR_NONE;
	if (hook == TL_DNSDone)
		return TL_ERR_DNS_FAILURE;
	if (hook == TL_TLSHandshakeDone)
		return TL_ERR_TLS_FAILURE;
	if (err < 0 && err != INT32_MIN)
		err = -err;
	switch (err) {
	case ETIMEDOUT:
		return TL_ERR_TIMEOUT;
	case ECONNRESET:
	case EPIPE:
		return TL_ERR_RESET;
	case ECONNREFUSED:
		if (hook == TL_ConnectDone)
			return TL_ERR_CONNECT_REFUSED;
		break;
	default:
		break;
	}
	return hook == TL_ConnectDone ? TL_ERR_CONNECT_FAILURE :
					TL_ERR_IO_ERROR;
}
