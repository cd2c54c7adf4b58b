/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A DNS message (RFC 1035) as seen on the wire: the header, the first
 * question, and the answers that matter for matching a lookup to the
 * connect that follows it (A, AAAA, CNAME).
 *
 * Contract of dns_wire_parse(buf, len, out):
 *   - pure: reads buf[0..len) and nothing else, writes only *out; any
 *     bytes (garbage, cut short, hostile) are handled;
 *   - 0: the header and the question were read whole; out->answers
 *     holds the A/AAAA records of the answer section in order (up to
 *     DNS_WIRE_MAX_ADDRS, more are counted in n_addrs_dropped), CNAMEs
 *     in out->cname (the last one: where the chain ends);
 *   - DNS_WIRE_ECUT: the message ends inside a resource record (a
 *     capture bound): out is what came before, usable for a response
 *     whose start was captured; never for the question;
 *   - DNS_WIRE_EBAD: not a DNS message we can use (shorter than a
 *     header, no question or more than one, a name that breaks the
 *     rules: a label over 63 bytes, a name over 255, a compression
 *     pointer that does not point back before itself, more than
 *     DNS_WIRE_MAX_HOPS pointers); out is not to be used.
 *   Names come out in lower case, dotted, without the root's dot, as
 *   printable ASCII (other bytes as '?'); "." for the root itself.
 */
#ifndef HTTPTRACE_DNS_WIRE_H
#define HTTPTRACE_DNS_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "httptrace_events.h"

#define DNS_WIRE_NAME_MAX 256   /* 255 bytes and the NUL */
#define DNS_WIRE_MAX_ADDRS HT_DNS_MAX_ADDRS
#define DNS_WIRE_MAX_HOPS 32    /* compression pointers followed per name */
#define DNS_WIRE_HEADER_LEN 12

#define DNS_WIRE_ECUT (-1)
#define DNS_WIRE_EBAD (-2)

enum dns_wire_rcode {
	DNS_RCODE_NOERROR = 0,
	DNS_RCODE_FORMERR = 1,
	DNS_RCODE_SERVFAIL = 2,
	DNS_RCODE_NXDOMAIN = 3,
	DNS_RCODE_NOTIMP = 4,
	DNS_RCODE_REFUSED = 5,
};

#define DNS_TYPE_A 1
#define DNS_TYPE_CNAME 5
#define DNS_TYPE_AAAA 28

struct dns_wire_msg {
	uint16_t id;
	bool response;       /* QR */
	bool truncated;      /* TC: the answer did not fit (UDP) */
	uint8_t opcode;
	uint8_t rcode;       /* enum dns_wire_rcode (4 bits) */
	uint16_t qdcount, ancount;
	uint16_t qtype, qclass;
	char qname[DNS_WIRE_NAME_MAX];
	char cname[DNS_WIRE_NAME_MAX]; /* "" when none */
	uint32_t n_addrs;
	uint32_t n_addrs_dropped;
	struct ht_addr addrs[DNS_WIRE_MAX_ADDRS]; /* port 0 */
};

int dns_wire_parse(const uint8_t *buf, size_t len, struct dns_wire_msg *out);

/* "NXDOMAIN", "SERVFAIL"... for an rcode; "RCODE<n>" otherwise, in buf */
const char *dns_wire_rcode_name(unsigned int rcode, char *buf, size_t size);

#endif /* HTTPTRACE_DNS_WIRE_H */
