/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Builders of TLS handshake records for the tests: a ClientHello with
 * SNI and ALPN, a ServerHello (TLS 1.2, or 1.3 through
 * supported_versions), an alert.
 */
#ifndef HTTPTRACE_TEST_TLS_RECORDS_H
#define HTTPTRACE_TEST_TLS_RECORDS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct tbuf {
	uint8_t b[2048];
	size_t n;
};

static void tb_u8(struct tbuf *t, unsigned v) { t->b[t->n++] = (uint8_t)v; }
static void tb_u16(struct tbuf *t, unsigned v) { tb_u8(t, v >> 8); tb_u8(t, v); }
static void tb_u24(struct tbuf *t, unsigned v) { tb_u8(t, v >> 16); tb_u16(t, v); }
static void tb_bytes(struct tbuf *t, const void *p, size_t n)
{
	memcpy(t->b + t->n, p, n);
	t->n += n;
}
/* patches a length field at `at` of `width` bytes to cover up to now */
static void tb_len(struct tbuf *t, size_t at, int width)
{
	size_t v = t->n - at - (size_t)width;

	for (int i = width - 1; i >= 0; i--) {
		t->b[at + (size_t)i] = (uint8_t)v;
		v >>= 8;
	}
}

/* alpn: "h2,http/1.1" style list, or NULL */
static void tls_client_hello(struct tbuf *t, const char *sni, const char *alpn)
{
	size_t rec, hs, exts, e;

	t->n = 0;
	tb_u8(t, 22); tb_u16(t, 0x0301); rec = t->n; tb_u16(t, 0);
	tb_u8(t, 1); hs = t->n; tb_u24(t, 0);
	tb_u16(t, 0x0303);
	for (int i = 0; i < 32; i++) tb_u8(t, i);
	tb_u8(t, 32); for (int i = 0; i < 32; i++) tb_u8(t, 0xaa);
	tb_u16(t, 6); tb_u16(t, 0x1302); tb_u16(t, 0x1301); tb_u16(t, 0xc02f);
	tb_u8(t, 1); tb_u8(t, 0);
	exts = t->n; tb_u16(t, 0);
	if (sni) {
		tb_u16(t, 0); e = t->n; tb_u16(t, 0);
		tb_u16(t, (unsigned)strlen(sni) + 3);
		tb_u8(t, 0); tb_u16(t, (unsigned)strlen(sni));
		tb_bytes(t, sni, strlen(sni));
		tb_len(t, e, 2);
	}
	if (alpn) {
		size_t list;
		const char *p = alpn;

		tb_u16(t, 16); e = t->n; tb_u16(t, 0);
		list = t->n; tb_u16(t, 0);
		while (*p) {
			const char *comma = strchr(p, ',');
			size_t len = comma ? (size_t)(comma - p) : strlen(p);

			tb_u8(t, (unsigned)len); tb_bytes(t, p, len);
			p += len + (comma ? 1 : 0);
		}
		tb_len(t, list, 2);
		tb_len(t, e, 2);
	}
	/* supported_versions offered: 1.3, 1.2 */
	tb_u16(t, 43); tb_u16(t, 5); tb_u8(t, 4); tb_u16(t, 0x0304);
	tb_u16(t, 0x0303);
	tb_len(t, exts, 2);
	tb_len(t, hs, 3);
	tb_len(t, rec, 2);
}

/* version 0x0304: TLS 1.3 (legacy 1.2 + supported_versions) */
static void tls_server_hello(struct tbuf *t, unsigned version,
			     unsigned cipher, const char *alpn)
{
	size_t rec, hs, exts, e;

	t->n = 0;
	tb_u8(t, 22); tb_u16(t, 0x0303); rec = t->n; tb_u16(t, 0);
	tb_u8(t, 2); hs = t->n; tb_u24(t, 0);
	tb_u16(t, version == 0x0304 ? 0x0303 : version);
	for (int i = 0; i < 32; i++) tb_u8(t, 0x55);
	tb_u8(t, 0);
	tb_u16(t, cipher);
	tb_u8(t, 0);
	exts = t->n; tb_u16(t, 0);
	if (version == 0x0304) {
		tb_u16(t, 43); tb_u16(t, 2); tb_u16(t, 0x0304);
	}
	if (alpn) {
		tb_u16(t, 16); e = t->n; tb_u16(t, 0);
		tb_u16(t, (unsigned)strlen(alpn) + 1);
		tb_u8(t, (unsigned)strlen(alpn)); tb_bytes(t, alpn, strlen(alpn));
		tb_len(t, e, 2);
	}
	tb_len(t, exts, 2);
	tb_len(t, hs, 3);
	tb_len(t, rec, 2);
}

static void tls_alert(struct tbuf *t, unsigned level, unsigned desc)
{
	t->n = 0;
	tb_u8(t, 21); tb_u16(t, 0x0303); tb_u16(t, 2);
	tb_u8(t, level); tb_u8(t, desc);
}

/* an application-data record of `len` body bytes (ciphertext stand-in) */
static void tls_appdata(struct tbuf *t, unsigned len)
{
	t->n = 0;
	tb_u8(t, 23); tb_u16(t, 0x0303); tb_u16(t, len);
	for (unsigned i = 0; i < len; i++) tb_u8(t, 0x41 + (i % 26));
}

#endif /* HTTPTRACE_TEST_TLS_RECORDS_H */
