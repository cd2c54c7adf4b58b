// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * libFuzzer target for the DNS message parser. The input is parsed as
 * it is (ASan: nothing read outside it). Invariants: names come out
 * NUL-terminated, printable and within bounds; counts within bounds;
 * the same bytes parse the same twice (no hidden state).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/dns/dns_wire.h"

static void check_name(const char *s, size_t size)
{
	size_t n = strnlen(s, size);

	if (n >= size)
		abort();
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct dns_wire_msg a, b;
	uint8_t *copy = malloc(size ? size : 1);
	int ra, rb;

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	ra = dns_wire_parse(copy, size, &a);
	rb = dns_wire_parse(copy, size, &b);
	if (ra != rb || (ra != 0 && ra != DNS_WIRE_ECUT && ra != DNS_WIRE_EBAD))
		abort();
	if (ra != DNS_WIRE_EBAD) {
		check_name(a.qname, sizeof(a.qname));
		check_name(a.cname, sizeof(a.cname));
		if (a.n_addrs > DNS_WIRE_MAX_ADDRS || a.rcode > 15)
			abort();
		if (memcmp(&a, &b, sizeof(a)))
			abort();
	}
	free(copy);
	return 0;
}
