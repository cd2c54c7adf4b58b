// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * DNS from the wire in the correlator (src/pipeline/dns_wire_match.c):
 * synthetic HT_EV_DNS_WIRE records, with getaddrinfo records and
 * connections around them, in; timelines out.
 */
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "pipeline/correlator.h"
#include "proto/dns/dns_wire.h"
#include "unit.h"
#include "timeline_hooks.h"
#include "dns_msgs.h"

#define US 1000ull
#define MS (1000ull * US)
#define T0 (10ull * 1000 * MS)
#define MAX_TL 8

static struct {
	int n;
	struct timeline tl[MAX_TL];
} out;

static void sink(void *user, const struct timeline *tl)
{
	(void)user;
	if (out.n < MAX_TL)
		out.tl[out.n] = *tl;
	out.n++;
}

static struct correlator *setup(void)
{
	memset(&out, 0, sizeof(out));
	return correlator_new(NULL, sink, NULL);
}

static void settle(struct correlator *c, uint64_t at)
{
	correlator_tick(c, at);
}

struct rec {
	uint64_t buf[(sizeof(struct ht_data_event) + HT_MAX_CAPTURE) / 8 + 1];
	size_t size;
};

static void mk_hdr(struct ht_event_header *h, uint32_t type, uint32_t tgid,
		   uint64_t ts)
{
	h->ts_ns = ts;
	h->type = type;
	h->tgid = tgid;
	h->tid = tgid;
	snprintf(h->comm, sizeof(h->comm), "goclient");
}

static void push(struct correlator *c, struct rec *r)
{
	CHECK_INT(correlator_push(c, r->buf, r->size), 0);
}

#define PID 200
#define DNS_FD 7
#define DNS_GEN (T0 - MS)

static void proc_exit(struct correlator *c, uint64_t ts)
{
	struct rec r;
	struct ht_exit_event *ev = (void *)r.buf;

	memset(r.buf, 0, sizeof(*ev));
	mk_hdr(&ev->hdr, HT_EV_PROC_EXIT, PID, ts);
	r.size = sizeof(*ev);
	push(c, &r);
}

/* one DNS message sent (egress) or received on the UDP socket */
static void wire_proto(struct correlator *c, int dir, uint64_t enter,
		       uint64_t ts, const struct dns_build *m, int proto,
		       uint32_t msg_len)
{
	struct rec r;
	struct ht_dns_wire_event *ev = (void *)r.buf;

	memset(r.buf, 0, sizeof(*ev));
	mk_hdr(&ev->hdr, HT_EV_DNS_WIRE, PID, ts);
	ev->gen = DNS_GEN;
	ev->enter_ns = enter;
	ev->fd = DNS_FD;
	ev->direction = (uint8_t)dir;
	ev->proto = (uint8_t)proto;
	ev->call = dir == HT_DIR_EGRESS ? HT_IO_WRITE : HT_IO_READ;
	ev->peer.family = AF_INET;
	ev->peer.port = 53;
	ev->peer.addr[0] = 127;
	ev->peer.addr[3] = 53;
	ev->msg_len = msg_len ? msg_len : (uint32_t)m->n;
	ev->captured_len = (uint32_t)(m->n < HT_DNS_WIRE_MAX ? m->n :
							      HT_DNS_WIRE_MAX);
	memcpy(ev->data, m->b, ev->captured_len);
	r.size = sizeof(*ev) + ev->captured_len;
	push(c, &r);
}

static void wire(struct correlator *c, int dir, uint64_t enter, uint64_t ts,
		 const struct dns_build *m)
{
	wire_proto(c, dir, enter, ts, m, HT_DNS_UDP, 0);
}

static void query(struct correlator *c, uint64_t at, unsigned int id,
		  const char *name, unsigned int type)
{
	struct dns_build m;

	db_query(&m, id, name, type);
	wire(c, HT_DIR_EGRESS, at, at + 10 * US, &m);
}

static const uint8_t LOCAL[1][16] = { { 127, 0, 0, 1 } };

static void answer(struct correlator *c, uint64_t at, unsigned int id,
		   const char *name, unsigned int type, unsigned int rcode,
		   unsigned int n)
{
	struct dns_build m;

	db_reply(&m, id, name, type, rcode, LOCAL, n);
	wire(c, HT_DIR_INGRESS, at - 500 * US, at, &m);
}

/* a truncated UDP answer (TC), without records: the resolver asks again
 * over TCP, with the same id */
static void answer_tc(struct correlator *c, uint64_t at, unsigned int id,
		      const char *name, unsigned int type)
{
	struct dns_build m;

	db_start(&m, id, 0x8380, 0, name, type);
	wire(c, HT_DIR_INGRESS, at - 100 * US, at, &m);
}

/* a message on the TCP socket, after its 2-byte length, in one call */
static void wire_tcp_msg(struct correlator *c, int dir, uint64_t enter,
			 uint64_t ts, const struct dns_build *m)
{
	struct dns_build pref;

	pref.n = 0;
	db_u16(&pref, (unsigned int)m->n);
	memcpy(pref.b + 2, m->b, m->n);
	pref.n = m->n + 2;
	wire_proto(c, dir, enter, ts, &pref, HT_DNS_TCP, 0);
}

static void query_tcp(struct correlator *c, uint64_t at, unsigned int id,
		      const char *name, unsigned int type)
{
	struct dns_build m;

	db_query(&m, id, name, type);
	wire_tcp_msg(c, HT_DIR_EGRESS, at, at + 10 * US, &m);
}

static void answer_tcp(struct correlator *c, uint64_t at, unsigned int id,
		       const char *name, unsigned int type, unsigned int n)
{
	struct dns_build m;

	db_reply(&m, id, name, type, 0, LOCAL, n);
	wire_tcp_msg(c, HT_DIR_INGRESS, at - 100 * US, at, &m);
}

static void getaddrinfo_ev(struct correlator *c, uint64_t enter, uint64_t ts,
			   const char *host, int32_t ret, unsigned int n)
{
	struct rec r;
	struct ht_dns_event *ev = (void *)r.buf;

	memset(r.buf, 0, sizeof(*ev));
	mk_hdr(&ev->hdr, HT_EV_DNS, PID, ts);
	ev->enter_ns = enter;
	ev->ret = ret;
	ev->n_addrs = n;
	snprintf(ev->host, sizeof(ev->host), "%s", host);
	if (n) {
		ev->addrs[0].family = AF_INET;
		ev->addrs[0].port = 8080;
		memcpy(ev->addrs[0].addr, LOCAL[0], 4);
	}
	r.size = sizeof(*ev);
	push(c, &r);
}

static void conn(struct correlator *c, uint32_t type, int fd, uint64_t ts,
		 uint32_t seq)
{
	struct rec r;
	struct ht_conn_event *ev = (void *)r.buf;

	memset(r.buf, 0, sizeof(*ev));
	mk_hdr(&ev->hdr, type, PID, ts);
	ev->conn.tgid = PID;
	ev->conn.fd = fd;
	ev->conn.gen = 1000 + (uint64_t)fd;
	ev->seq = seq;
	ev->daddr.family = AF_INET;
	ev->daddr.port = 8080;
	memcpy(ev->daddr.addr, LOCAL[0], 4);
	ev->saddr = ev->daddr;
	ev->saddr.port = 40000;
	r.size = sizeof(*ev);
	push(c, &r);
}

static void data(struct correlator *c, int fd, int dir, uint64_t ts,
		 const char *s, uint32_t seq)
{
	struct rec r;
	struct ht_data_event *ev = (void *)r.buf;
	size_t n = strlen(s);

	memset(r.buf, 0, sizeof(*ev));
	mk_hdr(&ev->hdr, HT_EV_DATA, PID, ts);
	ev->conn.tgid = PID;
	ev->conn.fd = fd;
	ev->conn.gen = 1000 + (uint64_t)fd;
	ev->seq = seq;
	ev->direction = (uint8_t)dir;
	ev->call = dir == HT_DIR_EGRESS ? HT_IO_WRITE : HT_IO_READ;
	ev->enter_ns = ts - 10 * US;
	ev->ret = (int64_t)n;
	ev->captured_len = (uint32_t)n;
	memcpy(ev->data, s, n);
	r.size = sizeof(*ev) + n;
	push(c, &r);
}

/* a GET on a new connection (fd) to 127.0.0.1:8080, from `at` */
static void request(struct correlator *c, int fd, uint64_t at)
{
	conn(c, HT_EV_CONNECT_START, fd, at, 0);
	conn(c, HT_EV_CONNECT_DONE, fd, at + 100 * US, 1);
	data(c, fd, HT_DIR_EGRESS, at + 200 * US,
	     "GET / HTTP/1.1\r\nHost: app.test:8080\r\n\r\n", 2);
	data(c, fd, HT_DIR_INGRESS, at + 900 * US,
	     "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 3);
	conn(c, HT_EV_CLOSE, fd, at + 1000 * US, 4);
}

static const struct tl_event *hook_ev(const struct timeline *tl,
				      enum tl_hook hook)
{
	for (uint32_t i = 0; i < tl->n_events; i++)
		if (tl->events[i].hook == hook)
			return &tl->events[i];
	return NULL;
}

/* Go's resolver: A and AAAA on one connected socket, both answered;
 * the connect that follows gets the lookup, from the first query to
 * the last answer, with the addresses. */
static void test_a_aaaa_pair(void)
{
	struct correlator *c = setup();
	const struct timeline *tl;
	const struct tl_event *e;

	query(c, T0, 0x1111, "app.test", DNS_TYPE_A);
	query(c, T0 + 20 * US, 0x2222, "app.test", DNS_TYPE_AAAA);
	answer(c, T0 + 1 * MS, 0x1111, "app.test", DNS_TYPE_A, 0, 1);
	answer(c, T0 + 2 * MS, 0x2222, "app.test", DNS_TYPE_AAAA, 0, 0);
	request(c, 5, T0 + 3 * MS);
	settle(c, T0 + 100 * MS);
	ASSERT_INT(out.n, 1);
	tl = &out.tl[0];
	CHECK_STR(hooks(tl), "GetConn,DNSStart,DNSDone,ConnectStart,"
			     "ConnectDone,GotConn,WroteHeaders,WroteRequest,"
			     "GotFirstResponseByte,PutIdleConn");
	CHECK_INT(hook_ts(tl, TL_DNSStart), T0);
	CHECK_INT(hook_ts(tl, TL_DNSDone), T0 + 2 * MS);
	CHECK_INT(tl->phase_us[TL_PHASE_DNS], 2000);
	e = hook_ev(tl, TL_DNSDone);
	ASSERT(e != NULL);
	CHECK_INT(e->n_addrs, 1);
	CHECK_INT(e->addrs[0].addr[0], 127);
	CHECK_STR(hook_ev(tl, TL_DNSStart)->host, "app.test");
	CHECK_STR(tl->error, "");
	correlator_flush(c);
	CHECK_INT(out.n, 1);
	CHECK_INT(correlator_stats(c)->dns_wire_messages, 4);
	correlator_free(c);
}

/* glibc: getaddrinfo sent the queries itself; its phase stays, the
 * wire's goes: one dns phase, getaddrinfo's times */
/* Go asks A and AAAA from two goroutines: the AAAA query may leave after
 * the A answer; it is the same lookup, not a second one (which would
 * take the next lookup of the name into it, or fail on its own) */
static void test_pair_second_query_after_answer(void)
{
	struct correlator *c = setup();
	const struct timeline *tl;

	query(c, T0, 0x1111, "app.test", DNS_TYPE_A);
	answer(c, T0 + 1 * MS, 0x1111, "app.test", DNS_TYPE_A, 0, 1);
	query(c, T0 + 1100 * US, 0x2222, "app.test", DNS_TYPE_AAAA);
	answer(c, T0 + 2 * MS, 0x2222, "app.test", DNS_TYPE_AAAA, 0, 0);
	request(c, 5, T0 + 3 * MS);
	/* the next lookup of the same name, for the next request */
	query(c, T0 + 10 * MS, 0x3333, "app.test", DNS_TYPE_A);
	query(c, T0 + 10 * MS + 20 * US, 0x4444, "app.test", DNS_TYPE_AAAA);
	answer(c, T0 + 11 * MS, 0x3333, "app.test", DNS_TYPE_A, 0, 1);
	answer(c, T0 + 11500 * US, 0x4444, "app.test", DNS_TYPE_AAAA, 0, 0);
	request(c, 6, T0 + 12 * MS);
	settle(c, T0 + 200 * MS);
	correlator_flush(c);
	ASSERT_INT(out.n, 2);
	tl = &out.tl[0];
	CHECK_STR(tl->error, "");
	CHECK_INT(hook_ts(tl, TL_DNSStart), T0);
	CHECK_INT(hook_ts(tl, TL_DNSDone), T0 + 2 * MS);
	tl = &out.tl[1];
	CHECK_STR(tl->error, "");
	CHECK_INT(hook_ts(tl, TL_DNSStart), T0 + 10 * MS);
	CHECK_INT(hook_ts(tl, TL_DNSDone), T0 + 11500 * US);
	correlator_free(c);
}

static void test_dedup_getaddrinfo(void)
{
	struct correlator *c = setup();
	const struct timeline *tl;

	query(c, T0 + 100 * US, 0x1111, "app.test", DNS_TYPE_A);
	query(c, T0 + 110 * US, 0x2222, "app.test", DNS_TYPE_AAAA);
	answer(c, T0 + 1 * MS, 0x1111, "app.test", DNS_TYPE_A, 0, 1);
	answer(c, T0 + 2 * MS, 0x2222, "app.test", DNS_TYPE_AAAA, 0, 0);
	getaddrinfo_ev(c, T0, T0 + 2100 * US, "app.test", 0, 1);
	request(c, 5, T0 + 3 * MS);
	settle(c, T0 + 100 * MS);
	ASSERT_INT(out.n, 1);
	tl = &out.tl[0];
	CHECK_STR(hooks(tl), "GetConn,DNSStart,DNSDone,ConnectStart,"
			     "ConnectDone,GotConn,WroteHeaders,WroteRequest,"
			     "GotFirstResponseByte,PutIdleConn");
	CHECK_INT(hook_ts(tl, TL_DNSStart), T0);
	CHECK_INT(hook_ts(tl, TL_DNSDone), T0 + 2100 * US);
	CHECK_INT(hook_ev(tl, TL_DNSDone)->addrs[0].port, 8080);
	CHECK_INT(correlator_stats(c)->dns_wire_covered, 1);
	/* the wire's result is not left to expire as unmatched either */
	settle(c, T0 + 120ull * 1000 * MS);
	CHECK_INT(correlator_stats(c)->dns_unmatched, 0);
	correlator_flush(c);
	CHECK_INT(out.n, 1);
	correlator_free(c);
}

/* A failed getaddrinfo is shown once: its own failure, not the wire's */
static void test_dedup_failure(void)
{
	struct correlator *c = setup();

	query(c, T0 + 100 * US, 1, "nx.test", DNS_TYPE_A);
	answer(c, T0 + 1 * MS, 1, "nx.test", DNS_TYPE_A, DNS_RCODE_NXDOMAIN,
	       0);
	getaddrinfo_ev(c, T0, T0 + 1100 * US, "nx.test", EAI_NONAME, 0);
	settle(c, T0 + 10ull * 1000 * MS);
	correlator_flush(c);
	ASSERT_INT(out.n, 1);
	CHECK_INT(hook_ev(&out.tl[0], TL_DNSDone)->err, EAI_NONAME);
	CHECK_INT(hook_ts(&out.tl[0], TL_DNSStart), T0);
	correlator_free(c);
}

/* name.s1 and name.s2 NXDOMAIN, then name: one lookup, no failure */
static void test_search_domains(void)
{
	struct correlator *c = setup();
	const struct timeline *tl;

	query(c, T0, 1, "app.s1.test", DNS_TYPE_A);
	query(c, T0 + 10 * US, 2, "app.s1.test", DNS_TYPE_AAAA);
	answer(c, T0 + 1 * MS, 1, "app.s1.test", DNS_TYPE_A,
	       DNS_RCODE_NXDOMAIN, 0);
	answer(c, T0 + 1100 * US, 2, "app.s1.test", DNS_TYPE_AAAA,
	       DNS_RCODE_NXDOMAIN, 0);
	query(c, T0 + 1200 * US, 3, "app.s2.test", DNS_TYPE_A);
	query(c, T0 + 1210 * US, 4, "app.s2.test", DNS_TYPE_AAAA);
	answer(c, T0 + 2 * MS, 3, "app.s2.test", DNS_TYPE_A,
	       DNS_RCODE_NXDOMAIN, 0);
	answer(c, T0 + 2100 * US, 4, "app.s2.test", DNS_TYPE_AAAA,
	       DNS_RCODE_NXDOMAIN, 0);
	query(c, T0 + 2200 * US, 5, "APP.test", DNS_TYPE_A);
	query(c, T0 + 2210 * US, 6, "app.test", DNS_TYPE_AAAA);
	answer(c, T0 + 3 * MS, 5, "app.test", DNS_TYPE_A, 0, 1);
	answer(c, T0 + 3100 * US, 6, "app.test", DNS_TYPE_AAAA, 0, 0);
	request(c, 5, T0 + 4 * MS);
	settle(c, T0 + 10ull * 1000 * MS);
	correlator_flush(c);
	ASSERT_INT(out.n, 1);
	tl = &out.tl[0];
	CHECK_INT(hook_ts(tl, TL_DNSStart), T0);
	CHECK_INT(hook_ts(tl, TL_DNSDone), T0 + 3100 * US);
	CHECK_INT(tl->phase_us[TL_PHASE_DNS], 3100);
	CHECK_STR(hook_ev(tl, TL_DNSStart)->host, "app.test");
	CHECK_STR(tl->error, "");
	CHECK_INT(correlator_stats(c)->dns_wire_failed, 0);
	correlator_free(c);
}

static void check_failed(const struct timeline *tl, const char *words,
			 int32_t eai, uint64_t start, uint64_t end)
{
	CHECK_STR(hooks(tl), "GetConn,DNSStart,DNSDone");
	CHECK_STR(tl->error, words);
	CHECK_INT(tl->error_kind, TL_ERR_DNS_FAILURE);
	CHECK_INT(hook_ev(tl, TL_DNSDone)->err, eai);
	CHECK_INT(hook_ts(tl, TL_DNSStart), start);
	CHECK_INT(hook_ts(tl, TL_DNSDone), end);
	CHECK_INT(tl->phase_us[TL_PHASE_DNS], (end - start) / US);
	CHECK_INT(tl->pid, PID);
	CHECK_STR(tl->comm, "goclient");
	CHECK(tl->complete);
}

static void test_nxdomain(void)
{
	struct correlator *c = setup();

	query(c, T0, 1, "nx.test", DNS_TYPE_A);
	query(c, T0 + 10 * US, 2, "nx.test", DNS_TYPE_AAAA);
	answer(c, T0 + 1 * MS, 1, "nx.test", DNS_TYPE_A, DNS_RCODE_NXDOMAIN,
	       0);
	answer(c, T0 + 2 * MS, 2, "nx.test", DNS_TYPE_AAAA,
	       DNS_RCODE_NXDOMAIN, 0);
	/* within the grace a search domain could still come */
	settle(c, T0 + 50 * MS);
	CHECK_INT(out.n, 0);
	settle(c, T0 + 1100 * MS);
	ASSERT_INT(out.n, 1);
	check_failed(&out.tl[0], "lookup nx.test: no such host (NXDOMAIN)",
		     EAI_NONAME, T0, T0 + 2 * MS);
	correlator_flush(c);
	CHECK_INT(out.n, 1);
	correlator_free(c);
}

/* SERVFAIL; the process exits before the grace is over */
static void test_servfail_then_exit(void)
{
	struct correlator *c = setup();

	query(c, T0, 1, "sf.test", DNS_TYPE_A);
	answer(c, T0 + 1 * MS, 1, "sf.test", DNS_TYPE_A, DNS_RCODE_SERVFAIL,
	       0);
	proc_exit(c, T0 + 2 * MS);
	settle(c, T0 + 20 * MS);
	ASSERT_INT(out.n, 1);
	check_failed(&out.tl[0], "lookup sf.test: server failure (SERVFAIL)",
		     EAI_AGAIN, T0, T0 + 1 * MS);
	correlator_free(c);
}

/* no answer: a failure once the timeout passed, or at the exit */
static void test_timeout(void)
{
	struct correlator *c = setup();

	query(c, T0, 1, "never.test", DNS_TYPE_A);
	query(c, T0 + 10 * US, 2, "never.test", DNS_TYPE_AAAA);
	settle(c, T0 + 4000 * MS);
	CHECK_INT(out.n, 0);
	settle(c, T0 + 6000 * MS);
	ASSERT_INT(out.n, 1);
	check_failed(&out.tl[0], "lookup never.test: no answer within 5 s",
		     EAI_AGAIN, T0, T0 + 10 * US + 5000 * MS);
	correlator_free(c);

	c = setup();
	query(c, T0, 1, "never.test", DNS_TYPE_A);
	proc_exit(c, T0 + 1000 * MS);
	settle(c, T0 + 1100 * MS);
	ASSERT_INT(out.n, 1);
	check_failed(&out.tl[0],
		     "lookup never.test: no answer before the process exited",
		     EAI_AGAIN, T0, T0 + 1000 * MS);
	correlator_free(c);
}

/* Go has no cache: two requests, two lookups of the same name, each
 * request its own */
static void test_two_lookups_same_name(void)
{
	struct correlator *c = setup();

	query(c, T0, 1, "app.test", DNS_TYPE_A);
	answer(c, T0 + 1 * MS, 1, "app.test", DNS_TYPE_A, 0, 1);
	request(c, 5, T0 + 2 * MS);
	query(c, T0 + 10 * MS, 2, "app.test", DNS_TYPE_A);
	answer(c, T0 + 14 * MS, 2, "app.test", DNS_TYPE_A, 0, 1);
	request(c, 6, T0 + 15 * MS);
	settle(c, T0 + 100 * MS);
	correlator_flush(c);
	ASSERT_INT(out.n, 2);
	CHECK_INT(out.tl[0].phase_us[TL_PHASE_DNS], 1000);
	CHECK_INT(out.tl[1].phase_us[TL_PHASE_DNS], 4000);
	CHECK_INT(hook_ts(&out.tl[1], TL_DNSStart), T0 + 10 * MS);
	correlator_free(c);
}

/* An answer to a query never seen, and garbage: counted, nothing else */
static void test_unmatched_and_garbage(void)
{
	struct correlator *c = setup();
	struct dns_build m;

	answer(c, T0 + 1 * MS, 9, "app.test", DNS_TYPE_A, 0, 1);
	memset(&m, 0xff, sizeof(m));
	m.n = 40;
	wire(c, HT_DIR_INGRESS, T0, T0 + 2 * MS, &m);
	request(c, 5, T0 + 3 * MS);
	settle(c, T0 + 100 * MS);
	correlator_flush(c);
	ASSERT_INT(out.n, 1);
	CHECK_INT(out.tl[0].phase_us[TL_PHASE_DNS], -1);
	CHECK_INT(correlator_stats(c)->dns_wire_unmatched, 1);
	CHECK_INT(correlator_stats(c)->dns_wire_bad, 1);
	correlator_free(c);
}

/* TCP: the query written with its length; the answer's length read
 * alone, then the message (Go) */
static void test_tcp(void)
{
	struct correlator *c = setup();
	struct dns_build q, a, lenonly;

	db_query(&q, 7, "app.test", DNS_TYPE_A);
	wire_tcp_msg(c, HT_DIR_EGRESS, T0, T0 + 10 * US, &q);
	db_reply(&a, 7, "app.test", DNS_TYPE_A, 0, LOCAL, 1);
	lenonly.n = 0;
	db_u16(&lenonly, (unsigned int)a.n);
	wire_proto(c, HT_DIR_INGRESS, T0 + 500 * US, T0 + 900 * US, &lenonly,
		   HT_DNS_TCP, 0);
	wire_proto(c, HT_DIR_INGRESS, T0 + 950 * US, T0 + 1 * MS, &a,
		   HT_DNS_TCP, 0);
	request(c, 5, T0 + 2 * MS);
	settle(c, T0 + 100 * MS);
	correlator_flush(c);
	ASSERT_INT(out.n, 1);
	CHECK_INT(out.tl[0].phase_us[TL_PHASE_DNS], 1000);
	CHECK_INT(correlator_stats(c)->dns_wire_messages, 2);
	correlator_free(c);
}

/*
 * Go, an answer too big for UDP (e2e dnswire_go_tcp): each query is
 * answered truncated and asked again over TCP with the same id. Here,
 * as recorded, the A exchange is over before the AAAA query leaves; the
 * AAAA resend over TCP is the same query as the AAAA asked over UDP,
 * not the next lookup (whose query would wait for an answer that goes
 * to the first: a failure at the exit).
 */
static void test_tc_resend_after_pair_answered(void)
{
	struct correlator *c = setup();
	const struct timeline *tl;

	query(c, T0, 17895, "big.test", DNS_TYPE_A);
	answer_tc(c, T0 + 187 * US, 17895, "big.test", DNS_TYPE_A);
	query_tcp(c, T0 + 370 * US, 17895, "big.test", DNS_TYPE_A);
	answer_tcp(c, T0 + 840 * US, 17895, "big.test", DNS_TYPE_A, 1);
	query(c, T0 + 990 * US, 39776, "big.test", DNS_TYPE_AAAA);
	answer_tc(c, T0 + 1137 * US, 39776, "big.test", DNS_TYPE_AAAA);
	query_tcp(c, T0 + 1570 * US, 39776, "big.test", DNS_TYPE_AAAA);
	answer_tcp(c, T0 + 1730 * US, 39776, "big.test", DNS_TYPE_AAAA, 0);
	request(c, 5, T0 + 2 * MS);
	proc_exit(c, T0 + 4 * MS);
	settle(c, T0 + 200 * MS);
	correlator_flush(c);
	ASSERT_INT(out.n, 1);
	tl = &out.tl[0];
	CHECK_STR(tl->error, "");
	CHECK_INT(hook_ts(tl, TL_DNSStart), T0);
	CHECK_INT(hook_ts(tl, TL_DNSDone), T0 + 1730 * US);
	CHECK_INT(hook_ev(tl, TL_DNSDone)->n_addrs, 1);
	CHECK_INT(correlator_stats(c)->dns_wire_failed, 0);
	CHECK_INT(correlator_stats(c)->dns_wire_unmatched, 0);
	correlator_free(c);
}

/*
 * Both truncated answers came, then both resends over TCP, answered
 * after the grace: a query asked again waits again, the lookup is not
 * over (nor failed) when its truncated answers are.
 */
static void test_tc_resend_waits(void)
{
	struct correlator *c = setup();
	const struct timeline *tl;

	query(c, T0, 1, "big.test", DNS_TYPE_A);
	query(c, T0 + 20 * US, 2, "big.test", DNS_TYPE_AAAA);
	answer_tc(c, T0 + 200 * US, 1, "big.test", DNS_TYPE_A);
	answer_tc(c, T0 + 220 * US, 2, "big.test", DNS_TYPE_AAAA);
	query_tcp(c, T0 + 400 * US, 1, "big.test", DNS_TYPE_A);
	query_tcp(c, T0 + 420 * US, 2, "big.test", DNS_TYPE_AAAA);
	settle(c, T0 + 200 * MS);
	CHECK_INT(out.n, 0);
	answer_tcp(c, T0 + 300 * MS, 1, "big.test", DNS_TYPE_A, 1);
	answer_tcp(c, T0 + 301 * MS, 2, "big.test", DNS_TYPE_AAAA, 0);
	request(c, 5, T0 + 302 * MS);
	settle(c, T0 + 500 * MS);
	correlator_flush(c);
	ASSERT_INT(out.n, 1);
	tl = &out.tl[0];
	CHECK_STR(tl->error, "");
	CHECK_INT(hook_ts(tl, TL_DNSStart), T0);
	CHECK_INT(hook_ts(tl, TL_DNSDone), T0 + 301 * MS);
	CHECK_INT(correlator_stats(c)->dns_wire_failed, 0);
	correlator_free(c);
}

/*
 * The same, in every order the two goroutines' steps can interleave
 * (each: query over UDP, truncated answer, resend over TCP, answer; A
 * with an address, AAAA without): one lookup, never a failure.
 */
static void test_tc_resend_interleavings(void)
{
	unsigned int orders = 0;

	for (unsigned int mask = 0; mask < 256; mask++) {
		struct correlator *c;
		unsigned int step[2] = { 0, 0 };
		uint64_t at = T0;

		if (__builtin_popcount(mask) != 4)
			continue;
		orders++;
		c = setup();
		for (int i = 0; i < 8; i++, at += 100 * US) {
			unsigned int g = (mask >> i) & 1;
			unsigned int id = g ? 0x2222 : 0x1111;
			unsigned int type = g ? DNS_TYPE_AAAA : DNS_TYPE_A;

			switch (step[g]++) {
			case 0:
				query(c, at, id, "big.test", type);
				break;
			case 1:
				answer_tc(c, at, id, "big.test", type);
				break;
			case 2:
				query_tcp(c, at, id, "big.test", type);
				break;
			default:
				answer_tcp(c, at, id, "big.test", type, !g);
				break;
			}
		}
		request(c, 5, at + 1 * MS);
		proc_exit(c, at + 3 * MS);
		settle(c, at + 200 * MS);
		correlator_flush(c);
		if (out.n != 1 || out.tl[0].error[0] ||
		    correlator_stats(c)->dns_wire_failed)
			fprintf(stderr, "order %02x: %d timelines\n", mask,
				out.n);
		CHECK_INT(out.n, 1);
		CHECK_STR(out.tl[0].error, "");
		CHECK_INT(hook_ts(&out.tl[0], TL_DNSStart), T0);
		CHECK_INT(hook_ts(&out.tl[0], TL_DNSDone), at - 100 * US);
		CHECK_INT(correlator_stats(c)->dns_wire_failed, 0);
		CHECK_INT(correlator_stats(c)->dns_wire_unmatched, 0);
		correlator_free(c);
	}
	CHECK_INT(orders, 70);
}

/* a bad record is refused whole */
static void test_record_checks(void)
{
	struct correlator *c = setup();
	struct rec r;
	struct ht_dns_wire_event *ev = (void *)r.buf;

	memset(r.buf, 0, sizeof(*ev));
	mk_hdr(&ev->hdr, HT_EV_DNS_WIRE, PID, T0);
	ev->msg_len = 10;
	ev->captured_len = 20; /* more than moved */
	r.size = sizeof(*ev) + 20;
	CHECK(correlator_push(c, r.buf, r.size) < 0);
	ev->captured_len = 10;
	r.size = sizeof(*ev) + 5; /* shorter than it says */
	CHECK(correlator_push(c, r.buf, r.size) < 0);
	ev->proto = 9;
	r.size = sizeof(*ev) + 10;
	CHECK(correlator_push(c, r.buf, r.size) < 0);
	CHECK_INT(correlator_stats(c)->bad_records, 3);
	correlator_free(c);
}

int main(int argc, char **argv)
{
	unit_args(argc, argv);
	RUN(test_a_aaaa_pair);
	RUN(test_pair_second_query_after_answer);
	RUN(test_dedup_getaddrinfo);
	RUN(test_dedup_failure);
	RUN(test_search_domains);
	RUN(test_nxdomain);
	RUN(test_servfail_then_exit);
	RUN(test_timeout);
	RUN(test_two_lookups_same_name);
	RUN(test_unmatched_and_garbage);
	RUN(test_tcp);
	RUN(test_tc_resend_after_pair_answered);
	RUN(test_tc_resend_waits);
	RUN(test_tc_resend_interleavings);
	RUN(test_record_checks);
	return unit_done("dns_wire_match");
}
