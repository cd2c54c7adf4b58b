// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/tls/tls_hello.h"

#define REC_CCS 20
#define REC_ALERT 21
#define REC_HANDSHAKE 22
#define REC_APPDATA 23
#define REC_HEARTBEAT 24
#define REC_MAX_LEN (16384 + 2048)

#define HS_CLIENT_HELLO 1
#define HS_SERVER_HELLO 2

#define EXT_SERVER_NAME 0
#define EXT_ALPN 16
#define EXT_SUPPORTED_VERSIONS 43

void tls_stream_init(struct tls_stream *s)
{
	memset(s, 0, sizeof(*s));
	s->alert_level = -1;
	s->alert_desc = -1;
}

void tls_stream_free(struct tls_stream *s)
{
	free(s->hs);
	s->hs = NULL;
	s->hs_len = 0;
}

bool tls_looks_like_hello(const uint8_t *data, size_t len)
{
	return len >= 3 && data[0] == REC_HANDSHAKE && data[1] == 3 &&
	       data[2] <= 4;
}

/* ---- hello parsing -------------------------------------------------------- */

struct rd {
	const uint8_t *p;
	size_t left;
	bool bad;
};

static uint32_t rd_n(struct rd *r, int n)
{
	uint32_t v = 0;

	if (r->bad || r->left < (size_t)n) {
		r->bad = true;
		return 0;
	}
	for (int i = 0; i < n; i++)
		v = v << 8 | r->p[i];
	r->p += n;
	r->left -= (size_t)n;
	return v;
}

static const uint8_t *rd_take(struct rd *r, size_t n)
{
	const uint8_t *p = r->p;

	if (r->bad || r->left < n) {
		r->bad = true;
		return NULL;
	}
	r->p += n;
	r->left -= n;
	return p;
}

/* A sub-reader over the next `n` bytes. */
static struct rd rd_sub(struct rd *r, size_t n)
{
	struct rd s = { .p = rd_take(r, n), .left = n };

	if (!s.p) {
		s.bad = true;
		s.left = 0;
	}
	return s;
}

/* Printable ASCII only: these strings come from the network. */
static void copy_printable(char *dst, size_t size, const uint8_t *src,
			   size_t n)
{
	size_t i, o = strlen(dst);

	for (i = 0; i < n && o + 1 < size; i++)
		dst[o++] = (src[i] > 0x20 && src[i] < 0x7f) ? (char)src[i] : '?';
	dst[o] = '\0';
}

static void parse_sni(struct rd ext, struct tls_hello *out)
{
	struct rd list = rd_sub(&ext, rd_n(&ext, 2));

	while (!list.bad && list.left) {
		uint8_t type = (uint8_t)rd_n(&list, 1);
		uint32_t n = rd_n(&list, 2);
		const uint8_t *name = rd_take(&list, n);

		if (name && type == 0 && !out->sni[0]) {
			copy_printable(out->sni, sizeof(out->sni), name, n);
			return;
		}
	}
}

static void parse_alpn(struct rd ext, struct tls_hello *out)
{
	struct rd list = rd_sub(&ext, rd_n(&ext, 2));

	out->alpn[0] = '\0';
	while (!list.bad && list.left) {
		uint32_t n = rd_n(&list, 1);
		const uint8_t *proto = rd_take(&list, n);

		if (!proto)
			break;
		if (out->alpn[0] && strlen(out->alpn) + 2 < sizeof(out->alpn))
			strcat(out->alpn, ",");
		copy_printable(out->alpn, sizeof(out->alpn), proto, n);
	}
}

static void parse_extensions(struct rd *r, struct tls_hello *out, bool server)
{
	struct rd exts;

	if (!r->left)
		return; /* no extensions at all (old ServerHello) */
	exts = rd_sub(r, rd_n(r, 2));
	while (!exts.bad && exts.left >= 4) {
		uint16_t type = (uint16_t)rd_n(&exts, 2);
		struct rd ext = rd_sub(&exts, rd_n(&exts, 2));

		if (ext.bad)
			break;
		switch (type) {
		case EXT_SERVER_NAME:
			if (!server)
				parse_sni(ext, out);
			break;
		case EXT_ALPN:
			parse_alpn(ext, out);
			break;
		case EXT_SUPPORTED_VERSIONS:
			/* the server's choice; a client lists its offers */
			if (server && ext.left == 2)
				out->version = (uint16_t)rd_n(&ext, 2);
			break;
		}
	}
}

int tls_parse_hello(const uint8_t *msg, size_t len, struct tls_hello *out)
{
	struct rd r = { .p = msg, .left = len };
	uint8_t type = (uint8_t)rd_n(&r, 1);
	struct rd body = rd_sub(&r, rd_n(&r, 3));

	if (body.bad || (type != HS_CLIENT_HELLO && type != HS_SERVER_HELLO))
		return -1;
	out->legacy_version = (uint16_t)rd_n(&body, 2);
	rd_take(&body, 32);                  /* random */
	rd_take(&body, rd_n(&body, 1));      /* session id */
	if (type == HS_CLIENT_HELLO) {
		rd_take(&body, rd_n(&body, 2)); /* cipher suites */
		rd_take(&body, rd_n(&body, 1)); /* compression methods */
		if (body.bad)
			return -1;
		out->client_hello = true;
		parse_extensions(&body, out, false);
		return 0;
	}
	out->cipher = (uint16_t)rd_n(&body, 2);
	rd_n(&body, 1);                      /* compression method */
	if (body.bad)
		return -1;
	out->server_hello = true;
	out->version = out->legacy_version;
	parse_extensions(&body, out, true);
	return 0;
}

/* ---- record stream -------------------------------------------------------- */

static void hs_collect(struct tls_stream *s, const uint8_t *p, size_t n)
{
	uint32_t want;

	if (s->hs_done || !n)
		return;
	if (!s->hs) {
		s->hs = malloc(TLS_HS_MAX);
		if (!s->hs) {
			s->hs_done = true;
			return;
		}
	}
	if (n > TLS_HS_MAX - s->hs_len)
		n = TLS_HS_MAX - s->hs_len;
	memcpy(s->hs + s->hs_len, p, n);
	s->hs_len += (uint32_t)n;
	if (s->hs_len < 4)
		return;
	want = 4 + ((uint32_t)s->hs[1] << 16 | (uint32_t)s->hs[2] << 8 |
		    s->hs[3]);
	if (want > TLS_HS_MAX) {
		/* larger than we keep: parse what we have (the fields we
		 * want come early), truncated */
		if (s->hs_len < TLS_HS_MAX)
			return;
		want = TLS_HS_MAX;
	}
	if (s->hs_len < want)
		return;
	tls_parse_hello(s->hs, want, &s->hello);
	s->hs_done = true;
	tls_stream_free(s);
}

static void record_started(struct tls_stream *s)
{
	uint8_t type = s->hdr[0];

	s->rec_type = type;
	s->rec_len = (uint16_t)(s->hdr[3] << 8 | s->hdr[4]);
	s->rec_left = s->rec_len;
	s->hdr_len = 0;
	if (type < REC_CCS || type > REC_HEARTBEAT || s->hdr[1] != 3 ||
	    s->rec_len > REC_MAX_LEN) {
		s->dead = true;
		return;
	}
	s->records++;
	s->last_type = type;
	s->last_len = s->rec_len;
	if (type == REC_APPDATA)
		s->appdata_records++;
	if (type == REC_ALERT && s->rec_len != 2)
		s->encrypted_alert = true;
}

static void record_body(struct tls_stream *s, const uint8_t *p, size_t n,
			size_t off)
{
	if (s->rec_type == REC_HANDSHAKE)
		hs_collect(s, p, n);
	else if (s->rec_type == REC_ALERT && s->rec_len == 2) {
		for (size_t i = 0; i < n; i++) {
			if (off + i == 0)
				s->alert_level = p[i];
			else if (off + i == 1)
				s->alert_desc = p[i];
		}
	}
}

bool tls_stream_feed(struct tls_stream *s, const uint8_t *data, size_t len,
		     uint64_t gap)
{
	size_t i = 0;

	while (!s->dead && i < len) {
		if (s->rec_left == 0) {
			size_t n = 5 - s->hdr_len;

			if (n > len - i)
				n = len - i;
			memcpy(s->hdr + s->hdr_len, data + i, n);
			s->hdr_len = (uint8_t)(s->hdr_len + n);
			i += n;
			if (s->hdr_len == 5)
				record_started(s);
			continue;
		} else {
			size_t n = s->rec_left;
			size_t off = s->rec_len - s->rec_left;

			if (n > len - i)
				n = len - i;
			record_body(s, data + i, n, off);
			s->rec_left -= (uint32_t)n;
			i += n;
		}
	}
	if (s->dead || !gap)
		return !s->dead;
	/* bytes we did not see: fine inside a body, fatal across a header */
	if (s->hdr_len || gap > s->rec_left) {
		s->dead = true;
		if (!s->hs_done) {
			s->hs_done = true;
			tls_stream_free(s);
		}
		return false;
	}
	if (s->rec_type == REC_HANDSHAKE && !s->hs_done) {
		/* the message we collect is cut: parse what we have */
		s->hs_done = true;
		if (s->hs_len >= 4)
			tls_parse_hello(s->hs, s->hs_len, &s->hello);
		tls_stream_free(s);
	}
	s->rec_left -= (uint32_t)gap;
	return true;
}

/* ---- words ------------------------------------------------------------------ */

const char *tls_version_name(uint16_t version, char *buf, size_t size)
{
	switch (version) {
	case 0x0304: return "TLSv1.3";
	case 0x0303: return "TLSv1.2";
	case 0x0302: return "TLSv1.1";
	case 0x0301: return "TLSv1.0";
	case 0x0300: return "SSLv3";
	}
	snprintf(buf, size, "0x%04x", version);
	return buf;
}

static const struct {
	uint16_t id;
	const char *name;
} ciphers[] = {
	{ 0x1301, "TLS_AES_128_GCM_SHA256" },
	{ 0x1302, "TLS_AES_256_GCM_SHA384" },
	{ 0x1303, "TLS_CHACHA20_POLY1305_SHA256" },
	{ 0x1304, "TLS_AES_128_CCM_SHA256" },
	{ 0x1305, "TLS_AES_128_CCM_8_SHA256" },
	{ 0xc02b, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256" },
	{ 0xc02c, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384" },
	{ 0xc02f, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256" },
	{ 0xc030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384" },
	{ 0xcca8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256" },
	{ 0xcca9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256" },
	{ 0xccaa, "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256" },
	{ 0x009e, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256" },
	{ 0x009f, "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384" },
	{ 0x009c, "TLS_RSA_WITH_AES_128_GCM_SHA256" },
	{ 0x009d, "TLS_RSA_WITH_AES_256_GCM_SHA384" },
	{ 0xc009, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA" },
	{ 0xc00a, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA" },
	{ 0xc013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA" },
	{ 0xc014, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA" },
	{ 0xc027, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256" },
	{ 0xc028, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384" },
	{ 0x002f, "TLS_RSA_WITH_AES_128_CBC_SHA" },
	{ 0x0035, "TLS_RSA_WITH_AES_256_CBC_SHA" },
	{ 0x003c, "TLS_RSA_WITH_AES_128_CBC_SHA256" },
	{ 0x003d, "TLS_RSA_WITH_AES_256_CBC_SHA256" },
};

const char *tls_cipher_name(uint16_t suite, char *buf, size_t size)
{
	for (size_t i = 0; i < sizeof(ciphers) / sizeof(ciphers[0]); i++)
		if (ciphers[i].id == suite)
			return ciphers[i].name;
	snprintf(buf, size, "0x%04x", suite);
	return buf;
}

static const struct {
	int code;
	const char *name;
} alerts[] = {
	{ 0, "close_notify" }, { 10, "unexpected_message" },
	{ 20, "bad_record_mac" }, { 22, "record_overflow" },
	{ 40, "handshake_failure" }, { 42, "bad_certificate" },
	{ 43, "unsupported_certificate" }, { 44, "certificate_revoked" },
	{ 45, "certificate_expired" }, { 46, "certificate_unknown" },
	{ 47, "illegal_parameter" }, { 48, "unknown_ca" },
	{ 49, "access_denied" }, { 50, "decode_error" },
	{ 51, "decrypt_error" }, { 70, "protocol_version" },
	{ 71, "insufficient_security" }, { 80, "internal_error" },
	{ 86, "inappropriate_fallback" }, { 90, "user_canceled" },
	{ 109, "missing_extension" }, { 110, "unsupported_extension" },
	{ 112, "unrecognized_name" },
	{ 113, "bad_certificate_status_response" },
	{ 115, "unknown_psk_identity" }, { 116, "certificate_required" },
	{ 120, "no_application_protocol" },
};

const char *tls_alert_name(int desc, char *buf, size_t size)
{
	for (size_t i = 0; i < sizeof(alerts) / sizeof(alerts[0]); i++)
		if (alerts[i].code == desc)
			return alerts[i].name;
	snprintf(buf, size, "alert %d", desc);
	return buf;
}

static const struct {
	long code;
	const char *words;
} verify_codes[] = {
	{ 0, "ok" },
	{ 2, "unable to get issuer certificate" },
	{ 4, "unable to decrypt certificate's signature" },
	{ 7, "certificate signature failure" },
	{ 9, "certificate is not yet valid" },
	{ 10, "certificate has expired" },
	{ 18, "self-signed certificate" },
	{ 19, "self-signed certificate in certificate chain" },
	{ 20, "unable to get local issuer certificate" },
	{ 21, "unable to verify the first certificate" },
	{ 23, "certificate revoked" },
	{ 24, "invalid CA certificate" },
	{ 26, "unsupported certificate purpose" },
	{ 27, "certificate not trusted" },
	{ 28, "certificate rejected" },
	{ 62, "hostname mismatch" },
	{ 63, "email address mismatch" },
	{ 64, "IP address mismatch" },
};

const char *tls_verify_words(long code, char *buf, size_t size)
{
	for (size_t i = 0; i < sizeof(verify_codes) / sizeof(verify_codes[0]);
	     i++)
		if (verify_codes[i].code == code)
			return verify_codes[i].words;
	snprintf(buf, size, "certificate verify error %ld", code);
	return buf;
}

static const struct {
	long code;
	const char *words;
} gnutls_codes[] = {
	{ -9, "a TLS packet with unexpected length was received" },
	{ -12, "a TLS fatal alert has been received" },
	{ -15, "an unexpected TLS packet was received" },
	{ -19, "a TLS warning alert has been received" },
	{ -24, "decryption has failed" },
	{ -43, "error in the certificate" },
	{ -53, "error in the push function" },
	{ -54, "error in the pull function" },
	{ -110, "the TLS connection was non-properly terminated" },
	{ -348, "error verifying the peer's certificate" },
};

const char *tls_gnutls_words(long code, char *buf, size_t size)
{
	for (size_t i = 0; i < sizeof(gnutls_codes) / sizeof(gnutls_codes[0]);
	     i++)
		if (gnutls_codes[i].code == code)
			return gnutls_codes[i].words;
	snprintf(buf, size, "GnuTLS error %ld", code);
	return buf;
}

static const struct {
	unsigned long bit;
	const char *words;
} gnutls_status_bits[] = {
	{ 1ul << 6, "issuer unknown" },
	{ 1ul << 7, "issuer is not a CA" },
	{ 1ul << 10, "certificate expired" },
	{ 1ul << 9, "certificate not yet activated" },
	{ 1ul << 5, "certificate revoked" },
	{ 1ul << 11, "signature failure" },
	{ 1ul << 8, "insecure algorithm" },
	{ 1ul << 14, "hostname mismatch" },
	{ 1ul << 17, "certificate mismatch" },
	{ 1ul << 18, "purpose mismatch" },
	{ 1ul << 16, "issuer constraints failure" },
	{ 1ul << 12, "revocation data superseded" },
	{ 1ul << 15, "revocation data issued in the future" },
	{ 1ul << 19, "missing OCSP status" },
	{ 1ul << 20, "invalid OCSP status" },
	{ 1ul << 21, "unknown critical extensions" },
};

const char *tls_gnutls_verify_words(long v, char *buf, size_t size)
{
	size_t i, n = 0;

	if (v < 0)
		return tls_gnutls_words(v, buf, size);
	if (!size)
		return "";
	buf[0] = '\0';
	for (i = 0; i < sizeof(gnutls_status_bits) /
			    sizeof(gnutls_status_bits[0]);
	     i++) {
		if (!((unsigned long)v & gnutls_status_bits[i].bit))
			continue;
		snprintf(buf + n, size - n, "%s%s", n ? ", " : "",
			 gnutls_status_bits[i].words);
		n = strlen(buf);
		if (n + 1 >= size)
			break;
	}
	if (n)
		return buf;
	if ((unsigned long)v == 1ul << 1) /* GNUTLS_CERT_INVALID alone */
		return "certificate not trusted";
	snprintf(buf, size, "certificate status 0x%lx", (unsigned long)v);
	return buf;
}
