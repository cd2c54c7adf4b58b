// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* DNS messages from the wire: see dns_wire.h for the contract. */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "proto/dns/dns_wire.h"

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/*
 * The name at *pos into out (see dns_wire.h for its form); *pos moves
 * past it in the message (past the first pointer when there is one).
 * Every pointer must go back, before the labels read since the last
 * jump, so a chain of them always ends; DNS_WIRE_MAX_HOPS bounds the
 * work.
 */
static int read_name(const uint8_t *buf, size_t len, size_t *pos,
		     char *out, size_t out_size)
{
	size_t p = *pos, o = 0, wire = 0, end = 0, start = *pos;
	unsigned int hops = 0;
	bool jumped = false;

	for (;;) {
		uint8_t l;

		if (p >= len)
			return DNS_WIRE_ECUT;
		l = buf[p];
		if ((l & 0xc0) == 0xc0) {
			size_t to;

			if (p + 1 >= len)
				return DNS_WIRE_ECUT;
			to = (size_t)(l & 0x3f) << 8 | buf[p + 1];
			if (to >= start || ++hops > DNS_WIRE_MAX_HOPS)
				return DNS_WIRE_EBAD;
			if (!jumped)
				end = p + 2;
			jumped = true;
			p = start = to;
			continue;
		}
		if (l & 0xc0) /* 0x40, 0x80: extended label types, obsolete */
			return DNS_WIRE_EBAD;
		wire += 1 + l;
		if (wire > 255)
			return DNS_WIRE_EBAD;
		if (l == 0) {
			p++;
			break;
		}
		if (p + 1 + l > len)
			return DNS_WIRE_ECUT;
		if (o && o + 1 < out_size)
			out[o++] = '.';
		for (size_t i = 0; i < l; i++) {
			unsigned char c = buf[p + 1 + i];

			if (c >= 'A' && c <= 'Z')
				c = (unsigned char)(c - 'A' + 'a');
			else if (c <= 0x20 || c >= 0x7f)
				c = '?';
			if (o + 1 < out_size)
				out[o++] = (char)c;
		}
		p += 1 + l;
	}
	if (!o && out_size > 1)
		out[o++] = '.';
	if (out_size)
		out[o < out_size ? o : out_size - 1] = '\0';
	*pos = jumped ? end : p;
	return 0;
}

int dns_wire_parse(const uint8_t *buf, size_t len, struct dns_wire_msg *out)
{
	size_t pos = DNS_WIRE_HEADER_LEN;
	char name[DNS_WIRE_NAME_MAX];
	uint16_t flags;
	int err;

	memset(out, 0, sizeof(*out));
	if (!buf || len < DNS_WIRE_HEADER_LEN)
		return DNS_WIRE_EBAD;
	out->id = get16(buf);
	flags = get16(buf + 2);
	out->response = flags & 0x8000;
	out->opcode = (flags >> 11) & 0xf;
	out->truncated = flags & 0x0200;
	out->rcode = flags & 0xf;
	out->qdcount = get16(buf + 4);
	out->ancount = get16(buf + 6);
	/* every resolver asks one question per message */
	if (out->qdcount != 1)
		return DNS_WIRE_EBAD;
	if (read_name(buf, len, &pos, out->qname, sizeof(out->qname)))
		return DNS_WIRE_EBAD;
	if (pos + 4 > len)
		return DNS_WIRE_EBAD;
	out->qtype = get16(buf + pos);
	out->qclass = get16(buf + pos + 2);
	pos += 4;
	for (unsigned int i = 0; i < out->ancount; i++) {
		uint16_t type, rdlen;

		err = read_name(buf, len, &pos, name, sizeof(name));
		if (err)
			return err;
		if (pos + 10 > len)
			return DNS_WIRE_ECUT;
		type = get16(buf + pos);
		rdlen = get16(buf + pos + 8);
		pos += 10;
		if (pos + rdlen > len)
			return DNS_WIRE_ECUT;
		if (type == DNS_TYPE_A || type == DNS_TYPE_AAAA) {
			struct ht_addr *a;
			size_t n = type == DNS_TYPE_A ? 4 : 16;

			if (rdlen != n)
				return DNS_WIRE_EBAD;
			if (out->n_addrs >= DNS_WIRE_MAX_ADDRS) {
				out->n_addrs_dropped++;
			} else {
				a = &out->addrs[out->n_addrs++];
				a->family = n == 4 ? AF_INET : AF_INET6;
				memcpy(a->addr, buf + pos, n);
			}
		} else if (type == DNS_TYPE_CNAME) {
			size_t at = pos;

			/* inside its rdata, which may point back anywhere
			 * before it */
			err = read_name(buf, pos + rdlen, &at, out->cname,
					sizeof(out->cname));
			if (err)
				return DNS_WIRE_EBAD;
		}
		pos += rdlen;
	}
	return 0;
}

const char *dns_wire_rcode_name(unsigned int rcode, char *buf, size_t size)
{
	static const char *const names[] = {
		[DNS_RCODE_NOERROR] = "NOERROR", [DNS_RCODE_FORMERR] = "FORMERR",
		[DNS_RCODE_SERVFAIL] = "SERVFAIL",
		[DNS_RCODE_NXDOMAIN] = "NXDOMAIN",
		[DNS_RCODE_NOTIMP] = "NOTIMP", [DNS_RCODE_REFUSED] = "REFUSED",
	};

	if (rcode < sizeof(names) / sizeof(names[0]))
		return names[rcode];
	snprintf(buf, size, "RCODE%u", rcode);
	return buf;
}
