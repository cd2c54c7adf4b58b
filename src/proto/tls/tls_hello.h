/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What the TLS handshake shows in the clear: a streaming reader of TLS
 * records (one per direction of a connection) that finds the ClientHello
 * (SNI, offered ALPN) and the ServerHello (version, cipher suite, ALPN in
 * TLS 1.2), and plaintext alerts. Pure: bytes in, fields out; nothing is
 * decrypted. Any bytes are safe; memory is bounded (TLS_HS_MAX per
 * direction while the first handshake message is collected).
 *
 * Also the words for the numbers TLS failures come with: alert
 * descriptions, X509 verify results, GnuTLS error codes.
 */
#ifndef HTTPTRACE_TLS_HELLO_H
#define HTTPTRACE_TLS_HELLO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TLS_HS_MAX 8192  /* first handshake message collected up to this */
#define TLS_SNI_MAX 128
#define TLS_ALPN_MAX 64

/* What one direction's first handshake message said. */
struct tls_hello {
	bool client_hello;        /* a ClientHello was parsed */
	bool server_hello;        /* a ServerHello was parsed */
	uint16_t legacy_version;  /* record/hello version field */
	uint16_t version;         /* ServerHello: negotiated (1.3 from the
				   * supported_versions extension) */
	uint16_t cipher;          /* ServerHello: the chosen suite */
	char sni[TLS_SNI_MAX];    /* ClientHello: server_name */
	char alpn[TLS_ALPN_MAX];  /* ClientHello: offered, comma separated;
				   * ServerHello: the one chosen */
};

/* One direction of a TLS connection. Zero-initialise (or tls_stream_init). */
struct tls_stream {
	uint8_t hdr[5];
	uint8_t hdr_len;
	uint8_t rec_type;      /* of the record being read */
	uint16_t rec_len;
	uint32_t rec_left;     /* body bytes still to come */
	bool dead;             /* not TLS, or lost sync (gap): stop */
	bool hs_done;          /* first handshake message parsed (or given
				* up on) */
	uint8_t *hs;           /* collected handshake bytes (malloc'd) */
	uint32_t hs_len;
	uint32_t records;      /* complete record headers seen */
	uint32_t appdata_records;
	uint8_t last_type;     /* last record header: type and length */
	uint16_t last_len;
	int alert_level;       /* last plaintext alert, -1 none */
	int alert_desc;
	bool encrypted_alert;  /* an alert record too long to be plaintext */
	struct tls_hello hello;
};

void tls_stream_init(struct tls_stream *s);
void tls_stream_free(struct tls_stream *s);

/*
 * Feeds `len` captured bytes, then `gap` bytes that were moved but not
 * captured. A gap inside a record body is skipped; a gap that covers a
 * record header loses sync (dead). Returns false once the stream is dead.
 */
bool tls_stream_feed(struct tls_stream *s, const uint8_t *data, size_t len,
		     uint64_t gap);

/* Does this look like the start of a TLS connection: a handshake record
 * (0x16 0x03 0x00-0x04)? Needs 3 bytes. */
bool tls_looks_like_hello(const uint8_t *data, size_t len);

/*
 * Parses one handshake message (type, 3-byte length, body) as a
 * ClientHello or ServerHello into out. Returns 0, or -1 when it is
 * neither or is malformed (out may then be partly filled).
 */
int tls_parse_hello(const uint8_t *msg, size_t len, struct tls_hello *out);

/* "TLSv1.3", "TLSv1.2", ...; "0x7f17" for others. buf >= 16 bytes. */
const char *tls_version_name(uint16_t version, char *buf, size_t size);
/* IANA name ("TLS_AES_128_GCM_SHA256"), or "0x1301" when not in the
 * table. buf >= 8 bytes. */
const char *tls_cipher_name(uint16_t suite, char *buf, size_t size);
/* "unknown_ca", ...; "alert 200" for others. */
const char *tls_alert_name(int desc, char *buf, size_t size);
/* X509_V_* code in words, as OpenSSL says it. */
const char *tls_verify_words(long code, char *buf, size_t size);
/* GnuTLS error code in words, as gnutls_strerror() says it. */
const char *tls_gnutls_words(long code, char *buf, size_t size);
/* gnutls_certificate_verify_peers2/3's verdict in words: the problems
 * in its status bits ("issuer unknown", ...), or its error (< 0). */
const char *tls_gnutls_verify_words(long v, char *buf, size_t size);

#endif /* HTTPTRACE_TLS_HELLO_H */
