// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Names and text forms shared by the outputs: ClientTrace hook names,
 * phase names, addresses and error words.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* GNU strerror_r(), which is what glibc gives us */
#endif

#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "timeline.h"

static const char *const hook_names[TL_HOOK_COUNT] = {
	[TL_GetConn] = "GetConn",
	[TL_DNSStart] = "DNSStart",
	[TL_DNSDone] = "DNSDone",
	[TL_ConnectStart] = "ConnectStart",
	[TL_ConnectDone] = "ConnectDone",
	[TL_TLSHandshakeStart] = "TLSHandshakeStart",
	[TL_TLSHandshakeDone] = "TLSHandshakeDone",
	[TL_GotConn] = "GotConn",
	[TL_WroteHeaders] = "WroteHeaders",
	[TL_Wait100Continue] = "Wait100Continue",
	[TL_Got100Continue] = "Got100Continue",
	[TL_WroteRequest] = "WroteRequest",
	[TL_GotFirstResponseByte] = "GotFirstResponseByte",
	[TL_Got1xxResponse] = "Got1xxResponse",
	[TL_PutIdleConn] = "PutIdleConn",
};

static const char *const phase_names[TL_PHASE_COUNT] = {
	[TL_PHASE_DNS] = "dns",
	[TL_PHASE_CONNECT] = "connect",
	[TL_PHASE_TLS] = "tls",
	[TL_PHASE_SEND] = "send",
	[TL_PHASE_WAIT] = "wait",
	[TL_PHASE_RECEIVE] = "receive",
	[TL_PHASE_TOTAL] = "total",
};

/* The enum values come from a struct that may hold anything; compare as
 * unsigned so a negative value is out of range too. */
const char *tl_hook_name(enum tl_hook hook)
{
	if ((unsigned int)hook >= TL_HOOK_COUNT)
		return "unknown";
	return hook_names[hook];
}

const char *tl_phase_name(enum tl_phase phase)
{
	if ((unsigned int)phase >= TL_PHASE_COUNT)
		return "unknown";
	return phase_names[phase];
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
 * output's cost, and every timeline prints two or three addresses. */
static void ipv4_text(const uint8_t *a, char *out)
{
	int i;

	for (i = 0; i < 4; i++) {
		unsigned int v = a[i];

		if (v >= 100)
			*out++ = (char)('0' + v / 100);
		if (v >= 10)
			*out++ = (char)('0' + v / 10 % 10);
		*out++ = (char)('0' + v % 10);
		*out++ = i < 3 ? '.' : '\0';
	}
}

/* Returns the family the address is shown in: AF_INET for mapped IPv6. */
static int addr_ntop(const struct ht_addr *addr, char *buf, size_t size)
{
	char text[TL_ADDR_STRLEN];
	const char *ok = NULL;
	int family = addr->family;

	if (addr->family == AF_INET) {
		ipv4_text(addr->addr, text);
		ok = text;
	} else if (addr->family == AF_INET6 && is_v4_mapped(addr->addr)) {
		ipv4_text(addr->addr + 12, text);
		ok = text;
		family = AF_INET;
	} else if (addr->family == AF_INET6) {
		ok = inet_ntop(AF_INET6, addr->addr, text, sizeof(text));
	}
	if (!ok) {
		copy_str(buf, size, "?");
		return 0;
	}
	copy_str(buf, size, text);
	return family;
}

bool tl_addr_str(const struct ht_addr *addr, char *buf, size_t size)
{
	return addr_ntop(addr, buf, size) != 0;
}

bool tl_addr_port_str(const struct ht_addr *addr, char *buf, size_t size)
{
	char text[TL_ADDR_STRLEN];
	int family = addr_ntop(addr, text, sizeof(text));

	if (!family) {
		copy_str(buf, size, "?");
		return false;
	}
	if (size == 0)
		return true;
	if (family == AF_INET6)
		snprintf(buf, size, "[%s]:%u", text, (unsigned int)addr->port);
	else
		snprintf(buf, size, "%s:%u", text, (unsigned int)addr->port);
	return true;
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
