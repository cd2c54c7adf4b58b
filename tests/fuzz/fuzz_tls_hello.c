// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * libFuzzer target for the TLS record reader and hello parser (and the
 * ELF symbol scanner, which reads files an attacker may have written).
 *
 * Byte 0 picks a split point (as a fraction of the rest) and a gap; the
 * rest is fed as a stream in two pieces with the gap between, parsed as
 * one handshake message, and scanned as an ELF image. Invariants: the
 * strings come out NUL-terminated and printable, the stream stays dead
 * once dead.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/tls/tls_hello.h"
#include "discover/tls_locate.h"

static void check_str(const char *s, size_t size)
{
	size_t n = strnlen(s, size);

	if (n >= size)
		abort();
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			if (s[i] != ',')
				abort();
}

static void check_hello(const struct tls_hello *h)
{
	check_str(h->sni, sizeof(h->sni));
	check_str(h->alpn, sizeof(h->alpn));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tls_stream s;
	struct tls_hello h;
	size_t split;
	uint64_t gap;
	bool alive;

	if (size < 1)
		return 0;
	split = (size - 1) * (data[0] & 0x0f) / 15;
	gap = (data[0] >> 4) * 37u;
	data++;
	size--;

	tls_stream_init(&s);
	alive = tls_stream_feed(&s, data, split, gap);
	if (!alive && !s.dead)
		abort();
	if (tls_stream_feed(&s, data + split, size - split, 0) && !alive)
		abort(); /* dead stays dead */
	check_hello(&s.hello);
	if (s.hs_len > TLS_HS_MAX)
		abort();
	tls_stream_free(&s);

	memset(&h, 0, sizeof(h));
	tls_parse_hello(data, size, &h);
	check_hello(&h);

	{
		const char *names[] = { "SSL_write", "SSL_read",
					"gnutls_record_send" };
		bool found[3];

		tls_locate_elf_find_mem(data, size, names, 3, found);
	}
	return 0;
}
