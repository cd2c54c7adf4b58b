// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The DNS message parser (src/proto/dns/dns_wire.c). */
#include <stdlib.h>
#include <sys/socket.h>

#include "proto/dns/dns_wire.h"
#include "unit.h"
#include "dns_msgs.h"

static const uint8_t lo4[1][16] = { { 127, 0, 0, 1 } };

static void test_query(void)
{
	struct dns_build m;
	struct dns_wire_msg d;

	db_query(&m, 0x1234, "Example.COM", DNS_TYPE_AAAA);
	ASSERT_INT(dns_wire_parse(m.b, m.n, &d), 0);
	CHECK_INT(d.id, 0x1234);
	CHECK(!d.response);
	CHECK_INT(d.qtype, DNS_TYPE_AAAA);
	CHECK_INT(d.qclass, 1);
	CHECK_STR(d.qname, "example.com");
	CHECK_INT(d.n_addrs, 0);
}

static void test_a_and_aaaa_answers(void)
{
	static const uint8_t two[2][16] = { { 10, 0, 0, 1 }, { 10, 0, 0, 2 } };
	static const uint8_t six[1][16] = { { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 } };
	struct dns_build m;
	struct dns_wire_msg d;

	db_reply(&m, 7, "a.test", DNS_TYPE_A, 0, two, 2);
	ASSERT_INT(dns_wire_parse(m.b, m.n, &d), 0);
	CHECK(d.response);
	CHECK_INT(d.rcode, 0);
	CHECK_INT(d.n_addrs, 2);
	CHECK_INT(d.addrs[0].family, AF_INET);
	CHECK_INT(d.addrs[1].addr[3], 2);
	CHECK_INT(d.addrs[0].port, 0);

	db_reply(&m, 8, "a.test", DNS_TYPE_AAAA, 0, six, 1);
	ASSERT_INT(dns_wire_parse(m.b, m.n, &d), 0);
	CHECK_INT(d.n_addrs, 1);
	CHECK_INT(d.addrs[0].family, AF_INET6);
	CHECK_INT(d.addrs[0].addr[0], 0x20);
	CHECK_INT(d.addrs[0].addr[15], 1);
}

static void test_rcodes(void)
{
	struct dns_build m;
	struct dns_wire_msg d;
	char buf[16];

	db_reply(&m, 9, "nx.test", DNS_TYPE_A, DNS_RCODE_NXDOMAIN, NULL, 0);
	ASSERT_INT(dns_wire_parse(m.b, m.n, &d), 0);
	CHECK_INT(d.rcode, DNS_RCODE_NXDOMAIN);
	db_reply(&m, 9, "sf.test", DNS_TYPE_A, DNS_RCODE_SERVFAIL, NULL, 0);
	ASSERT_INT(dns_wire_parse(m.b, m.n, &d), 0);
	CHECK_INT(d.rcode, DNS_RCODE_SERVFAIL);
	CHECK_STR(dns_wire_rcode_name(3, buf, sizeof(buf)), "NXDOMAIN");
	CHECK_STR(dns_wire_rcode_name(11, buf, sizeof(buf)), "RCODE11");
}

/* www.a.test CNAME a.test (compressed into the question), A 127.0.0.1 */
static void test_cname_chain(void)
{
	struct dns_build m;
	struct dns_wire_msg d;
	uint8_t rdata[2] = { 0xc0, 16 }; /* "a.test" inside "www.a.test" */

	db_start(&m, 1, 0x8180, 2, "www.a.test", DNS_TYPE_A);
	db_answer(&m, DNS_TYPE_CNAME, rdata, 2);
	/* owner: the CNAME's target, a pointer to it */
	db_u16(&m, 0xc000 | 16);
	db_u16(&m, DNS_TYPE_A);
	db_u16(&m, 1);
	db_u32(&m, 60);
	db_u16(&m, 4);
	memcpy(m.b + m.n, lo4[0], 4);
	m.n += 4;
	ASSERT_INT(dns_wire_parse(m.b, m.n, &d), 0);
	CHECK_STR(d.qname, "www.a.test");
	CHECK_STR(d.cname, "a.test");
	CHECK_INT(d.n_addrs, 1);
	CHECK_INT(d.addrs[0].addr[0], 127);
}

/* Cut anywhere: never a read past the end (ASan), the question cut is
 * bad, an answer cut is ECUT with what came before. */
static void test_cut_everywhere(void)
{
	static const uint8_t two[2][16] = { { 10, 0, 0, 1 }, { 10, 0, 0, 2 } };
	struct dns_build m;
	struct dns_wire_msg d;
	size_t question_end;

	db_reply(&m, 7, "a.test", DNS_TYPE_A, 0, two, 2);
	question_end = 12 + 8 + 4;
	for (size_t n = 0; n < m.n; n++) {
		uint8_t *copy = malloc(n ? n : 1);
		int err;

		ASSERT(copy != NULL);
		memcpy(copy, m.b, n);
		err = dns_wire_parse(copy, n, &d);
		if (n < question_end)
			CHECK_INT(err, DNS_WIRE_EBAD);
		else
			CHECK_INT(err, DNS_WIRE_ECUT);
		if (n >= question_end + 16)
			CHECK_INT(d.n_addrs, 1);
		free(copy);
	}
}

static void test_pointer_loops(void)
{
	struct dns_build m;
	struct dns_wire_msg d;

	/* the question's name is a pointer to itself */
	db_start(&m, 1, 0x0100, 0, "", 1);
	m.n = 12;
	db_u16(&m, 0xc00c);
	db_u16(&m, 1);
	db_u16(&m, 1);
	CHECK_INT(dns_wire_parse(m.b, m.n, &d), DNS_WIRE_EBAD);

	/* a label, then a pointer back to that label: a loop */
	m.n = 12;
	m.b[m.n++] = 1;
	m.b[m.n++] = 'a';
	db_u16(&m, 0xc00c);
	db_u16(&m, 1);
	db_u16(&m, 1);
	CHECK_INT(dns_wire_parse(m.b, m.n, &d), DNS_WIRE_EBAD);

	/* a pointer forward */
	m.n = 12;
	db_u16(&m, 0xc000 | 20);
	db_u16(&m, 1);
	db_u16(&m, 1);
	m.b[m.n++] = 0;
	CHECK_INT(dns_wire_parse(m.b, m.n, &d), DNS_WIRE_EBAD);
}

static void test_bad_names(void)
{
	struct dns_build m;
	struct dns_wire_msg d;
	char longname[300];

	/* over 255 bytes */
	/* five labels of 59 bytes */
	memset(longname, 'a', sizeof(longname));
	for (int i = 1; i < 5; i++)
		longname[i * 60 - 1] = '.';
	longname[5 * 60 - 1] = '\0';
	db_query(&m, 1, longname, 1);
	CHECK_INT(dns_wire_parse(m.b, m.n, &d), DNS_WIRE_EBAD);

	/* an extended label type */
	db_query(&m, 1, "a.test", 1);
	m.b[12] = 0x41;
	CHECK_INT(dns_wire_parse(m.b, m.n, &d), DNS_WIRE_EBAD);

	/* two questions */
	db_query(&m, 1, "a.test", 1);
	m.b[5] = 2;
	CHECK_INT(dns_wire_parse(m.b, m.n, &d), DNS_WIRE_EBAD);

	/* odd bytes come out as '?' */
	db_query(&m, 1, "a b.test", 1);
	ASSERT_INT(dns_wire_parse(m.b, m.n, &d), 0);
	CHECK_STR(d.qname, "a?b.test");

	/* the root */
	db_query(&m, 1, "", 2);
	ASSERT_INT(dns_wire_parse(m.b, m.n, &d), 0);
	CHECK_STR(d.qname, ".");
}

static void test_many_addrs(void)
{
	uint8_t many[12][16];
	struct dns_build m;
	struct dns_wire_msg d;

	for (int i = 0; i < 12; i++) {
		memset(many[i], 0, 16);
		many[i][0] = 10;
		many[i][3] = (uint8_t)i;
	}
	db_reply(&m, 1, "many.test", DNS_TYPE_A, 0,
		 (const uint8_t (*)[16])many, 12);
	ASSERT_INT(dns_wire_parse(m.b, m.n, &d), 0);
	CHECK_INT(d.n_addrs, DNS_WIRE_MAX_ADDRS);
	CHECK_INT(d.n_addrs_dropped, 12 - DNS_WIRE_MAX_ADDRS);
}

int main(int argc, char **argv)
{
	unit_args(argc, argv);
	RUN(test_query);
	RUN(test_a_and_aaaa_answers);
	RUN(test_rcodes);
	RUN(test_cname_chain);
	RUN(test_cut_everywhere);
	RUN(test_pointer_loops);
	RUN(test_bad_names);
	RUN(test_many_addrs);
	return unit_done("dns_wire");
}
