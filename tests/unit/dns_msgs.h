/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* DNS messages for the tests, built the way resolvers and servers do. */
#ifndef HTTPTRACE_TEST_DNS_MSGS_H
#define HTTPTRACE_TEST_DNS_MSGS_H

#include <stdint.h>
#include <string.h>

struct dns_build {
	uint8_t b[1024];
	size_t n;
};

static void db_u16(struct dns_build *m, unsigned int v)
{
	m->b[m->n++] = (uint8_t)(v >> 8);
	m->b[m->n++] = (uint8_t)v;
}

static void db_u32(struct dns_build *m, uint32_t v)
{
	db_u16(m, v >> 16);
	db_u16(m, v & 0xffff);
}

/* a dotted name, uncompressed */
static void db_name(struct dns_build *m, const char *name)
{
	while (*name) {
		const char *dot = strchr(name, '.');
		size_t l = dot ? (size_t)(dot - name) : strlen(name);

		m->b[m->n++] = (uint8_t)l;
		memcpy(m->b + m->n, name, l);
		m->n += l;
		name += l;
		if (*name == '.')
			name++;
	}
	m->b[m->n++] = 0;
}

/* header and one question; flags as on the wire (0x0100 = RD query) */
static void db_start(struct dns_build *m, unsigned int id, unsigned int flags,
		     unsigned int ancount, const char *qname,
		     unsigned int qtype)
{
	m->n = 0;
	db_u16(m, id);
	db_u16(m, flags);
	db_u16(m, 1);
	db_u16(m, ancount);
	db_u16(m, 0);
	db_u16(m, 0);
	db_name(m, qname);
	db_u16(m, qtype);
	db_u16(m, 1);
}

/* an answer whose owner is the question's name (pointer to offset 12) */
static void db_answer(struct dns_build *m, unsigned int type,
		      const void *rdata, size_t rdlen)
{
	db_u16(m, 0xc00c);
	db_u16(m, type);
	db_u16(m, 1);
	db_u32(m, 60);
	db_u16(m, (unsigned int)rdlen);
	memcpy(m->b + m->n, rdata, rdlen);
	m->n += rdlen;
}

static void db_query(struct dns_build *m, unsigned int id, const char *qname,
		     unsigned int qtype)
{
	db_start(m, id, 0x0100, 0, qname, qtype);
}

/* a response with rcode and `n` addresses of the question's type */
static void db_reply(struct dns_build *m, unsigned int id, const char *qname,
		     unsigned int qtype, unsigned int rcode,
		     const uint8_t (*addrs)[16], unsigned int n)
{
	db_start(m, id, 0x8180 | rcode, n, qname, qtype);
	for (unsigned int i = 0; i < n; i++)
		db_answer(m, qtype, addrs[i], qtype == 1 ? 4 : 16);
}

#endif /* HTTPTRACE_TEST_DNS_MSGS_H */
