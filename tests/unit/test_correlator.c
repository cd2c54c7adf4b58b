// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Correlator unit tests: synthetic record sequences in, timelines out,
 * checked hook by hook and phase by phase against the timestamps put in.
 */
#include <errno.h>
#include <netdb.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "container/container_table.h"
#include "pipeline/correlator.h"
#include "pipeline/reorder.h"
#include "unit.h"
#include "timeline_hooks.h"
#include "error_words.h"
#include "tls_records.h"

#define US 1000ull
#define MS (1000ull * US)
#define T0 (10ull * 1000 * MS) /* records' clock starts at 10 s */

#define MAX_TL 16

/* ---- sink ------------------------------------------------------------- */

struct sinkbuf {
	int n;
	struct timeline tl[MAX_TL];
};

static struct sinkbuf out;

/* What every timeline must hold, whatever its shape: its phases, idle
 * gaps included, add up to its total, and so do its waterfall steps. */
static int phase_sum_failures;

static void check_phase_sum(const struct timeline *tl)
{
	int64_t sum = 0, steps = 0;
	uint32_t i;

	for (i = 0; i < TL_PHASE_TOTAL; i++)
		if (tl->phase_us[i] >= 0)
			sum += tl->phase_us[i];
	for (i = 0; i < tl->n_steps; i++)
		steps += tl->steps[i].us;
	if (sum != tl->phase_us[TL_PHASE_TOTAL] ||
	    (tl->n_steps && steps != tl->phase_us[TL_PHASE_TOTAL])) {
		phase_sum_failures++;
		fprintf(stderr, "phases of %s %s sum to %lld, steps to %lld, "
			"total %lld\n", tl->method, tl->target, (long long)sum,
			(long long)steps,
			(long long)tl->phase_us[TL_PHASE_TOTAL]);
	}
}

/* Every timeline with error words has a kind, and one the words
 * tell unless they are an errno's (which sets it where it is known). */
static int error_kind_failures;

static void check_error_kind(const struct timeline *tl)
{
	enum tl_error_kind by_words =
		error_kind_of_words(tl->error, sizeof(tl->error));

	if ((tl->error[0] == '\0') != (tl->error_kind == TL_ERR_NONE) ||
	    tl->error_kind == TL_ERR_OTHER ||
	    (by_words != tl->error_kind && by_words != TL_ERR_CONNECT_FAILURE &&
	     by_words != TL_ERR_DNS_FAILURE)) {
		error_kind_failures++;
		fprintf(stderr, "error \"%s\" has kind \"%s\"\n", tl->error,
			tl_error_label(tl->error_kind));
	}
}

static void sink(void *user, const struct timeline *tl)
{
	struct sinkbuf *s = user;

	check_phase_sum(tl);
	check_error_kind(tl);

	if (s->n < MAX_TL)
		s->tl[s->n] = *tl;
	s->n++;
}

static struct correlator *setup(const struct correlator_config *cfg)
{
	memset(&out, 0, sizeof(out));
	return correlator_new(cfg, sink, &out);
}

/* Everything buffered is old enough: processed; nothing pending emitted. */
static void settle(struct correlator *c)
{
	correlator_tick(c, T0 + 3600ull * 1000 * MS);
}

static const struct tl_event *hook_ev(const struct timeline *tl,
				      enum tl_hook hook)
{
	uint32_t i;

	for (i = 0; i < tl->n_events; i++)
		if (tl->events[i].hook == hook)
			return &tl->events[i];
	return NULL;
}

/* never NULL: a missing hook reads as an empty event (and fails checks) */
static const struct tl_event *hook_evz(const struct timeline *tl,
				       enum tl_hook hook)
{
	static const struct tl_event none = { .err = -12345, .status = -1 };
	const struct tl_event *e = hook_ev(tl, hook);

	return e ? e : &none;
}

static const char *hook_host(const struct timeline *tl, enum tl_hook hook)
{
	const struct tl_event *e = hook_ev(tl, hook);

	return e ? e->host : "(no such event)";
}

static bool events_sorted(const struct timeline *tl)
{
	uint32_t i;

	for (i = 1; i < tl->n_events; i++)
		if (tl->events[i].ts_ns < tl->events[i - 1].ts_ns)
			return false;
	return true;
}

/* ---- record builders ---------------------------------------------------- */

struct rec {
	uint64_t buf[(sizeof(struct ht_data_event) + HT_MAX_CAPTURE) / 8 + 1];
	size_t size;
};

/* one connection's identity and its running sequence number */
struct cn {
	struct correlator *c;
	uint32_t tgid, tid;
	int32_t fd;
	uint64_t gen;
	uint32_t seq;
	const char *comm;
	/* records as kernels without atomic fetch send them: not
	 * numbered, each with the count lost since the last one sent (the
	 * numbers skipped since `sent`) */
	bool unnumbered;
	uint32_t sent;
};

/* The record's seq field; k->seq++ between two records is one lost. */
static uint32_t take_seq(struct cn *k)
{
	uint32_t lost = k->seq - k->sent;

	k->sent = ++k->seq;
	return k->unnumbered ? HT_SEQ_UNNUMBERED | lost : k->seq - 1;
}

static struct ht_addr v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d,
			 uint16_t port)
{
	struct ht_addr x = { .family = AF_INET, .port = port };

	x.addr[0] = a;
	x.addr[1] = b;
	x.addr[2] = c;
	x.addr[3] = d;
	return x;
}

static struct ht_addr v4mapped(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	struct ht_addr x = { .family = AF_INET6 };

	x.addr[10] = x.addr[11] = 0xff;
	x.addr[12] = a;
	x.addr[13] = b;
	x.addr[14] = c;
	x.addr[15] = d;
	return x;
}

static void mk_hdr(struct ht_event_header *h, uint32_t type, uint32_t tgid,
		   uint32_t tid, uint64_t ts, const char *comm)
{
	h->ts_ns = ts;
	h->type = type;
	h->tgid = tgid;
	h->tid = tid;
	snprintf(h->comm, sizeof(h->comm), "%s", comm ? comm : "curl");
}

static void mk_conn(struct rec *r, struct cn *k, uint32_t type, uint64_t ts,
		    int32_t err, struct ht_addr saddr, struct ht_addr daddr)
{
	struct ht_conn_event *ev = (void *)r->buf;

	memset(r->buf, 0, sizeof(*ev));
	mk_hdr(&ev->hdr, type, k->tgid, k->tid, ts, k->comm);
	ev->conn.tgid = k->tgid;
	ev->conn.fd = k->fd;
	ev->conn.gen = k->gen;
	ev->seq = take_seq(k);
	ev->role = type == HT_EV_ACCEPT ? HT_ROLE_SERVER : HT_ROLE_CLIENT;
	ev->err = err;
	ev->saddr = saddr;
	ev->daddr = daddr;
	r->size = sizeof(*ev);
}

static void mk_data(struct rec *r, struct cn *k, int dir, uint64_t enter,
		    uint64_t ts, const void *bytes, size_t cap, int64_t ret)
{
	struct ht_data_event *ev = (void *)r->buf;

	memset(r->buf, 0, sizeof(*ev));
	mk_hdr(&ev->hdr, HT_EV_DATA, k->tgid, k->tid, ts, k->comm);
	ev->conn.tgid = k->tgid;
	ev->conn.fd = k->fd;
	ev->conn.gen = k->gen;
	ev->seq = take_seq(k);
	ev->direction = (uint8_t)dir;
	ev->call = dir == HT_DIR_EGRESS ? HT_IO_WRITE : HT_IO_READ;
	ev->enter_ns = enter;
	ev->ret = ret;
	ev->captured_len = (uint32_t)cap;
	if (cap)
		memcpy(ev->data, bytes, cap);
	r->size = sizeof(*ev) + cap;
}

static void push(struct correlator *c, const struct rec *r)
{
	CHECK_INT(correlator_push(c, r->buf, r->size), 0);
}

static void conn_ev(struct cn *k, uint32_t type, uint64_t ts, int32_t err,
		    struct ht_addr daddr)
{
	struct rec r;

	mk_conn(&r, k, type, ts, err, v4(10, 0, 0, 2, 40000), daddr);
	push(k->c, &r);
}

/* a write (egress) or read (ingress) that moved all of s */
static void io(struct cn *k, int dir, uint64_t enter, uint64_t ts,
	       const char *s)
{
	struct rec r;

	mk_data(&r, k, dir, enter, ts, s, strlen(s), (int64_t)strlen(s));
	push(k->c, &r);
}

static void io_ret(struct cn *k, int dir, uint64_t enter, uint64_t ts,
		   const char *s, size_t cap, int64_t ret)
{
	struct rec r;

	mk_data(&r, k, dir, enter, ts, s, cap, ret);
	push(k->c, &r);
}

/* getaddrinfo(host, service): the answer's addresses carry the service's
 * port, as glibc fills it in */
static void dns_svc(struct correlator *c, uint32_t tgid, uint32_t tid,
		    uint64_t enter, uint64_t ts, const char *host,
		    const char *service, int32_t ret,
		    const struct ht_addr *addrs, uint32_t n)
{
	struct rec r;
	struct ht_dns_event *ev = (void *)r.buf;

	memset(r.buf, 0, sizeof(*ev));
	mk_hdr(&ev->hdr, HT_EV_DNS, tgid, tid, ts, "curl");
	ev->enter_ns = enter;
	ev->ret = ret;
	ev->n_addrs = n;
	snprintf(ev->host, sizeof(ev->host), "%s", host);
	if (service)
		snprintf(ev->service, sizeof(ev->service), "%s", service);
	if (n)
		memcpy(ev->addrs, addrs, n * sizeof(*addrs));
	r.size = sizeof(*ev);
	push(c, &r);
}

static void dns(struct correlator *c, uint32_t tgid, uint32_t tid,
		uint64_t enter, uint64_t ts, const char *host, int32_t ret,
		const struct ht_addr *addrs, uint32_t n)
{
	dns_svc(c, tgid, tid, enter, ts, host, NULL, ret, addrs, n);
}

static void proc_exit(struct correlator *c, uint32_t tgid, uint64_t ts)
{
	struct rec r;
	struct ht_exit_event *ev = (void *)r.buf;

	memset(r.buf, 0, sizeof(*ev));
	mk_hdr(&ev->hdr, HT_EV_PROC_EXIT, tgid, tgid, ts, "curl");
	r.size = sizeof(*ev);
	push(c, &r);
}

static struct cn client(struct correlator *c)
{
	struct cn k = { .c = c, .tgid = 100, .tid = 100, .fd = 5,
			.gen = T0, .comm = "curl" };

	return k;
}

#define SERVER_ADDR v4(10, 0, 0, 1, 80)

static const char GET_REQ[] =
	"GET /index.html HTTP/1.1\r\nHost: example.com\r\n\r\n";
static const char OK_RESP[] =
	"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";

/* connect at T0 .. T0+100us */
static void connected(struct cn *k)
{
	conn_ev(k, HT_EV_CONNECT_START, T0, 0, SERVER_ADDR);
	conn_ev(k, HT_EV_CONNECT_DONE, T0 + 100 * US, 0, SERVER_ADDR);
}

/* ---- tests ---------------------------------------------------------------- */

static void check_single(const struct timeline *tl)
{
	CHECK_STR(hooks(tl), "GetConn,ConnectStart,ConnectDone,GotConn,"
			     "WroteHeaders,WroteRequest,GotFirstResponseByte,"
			     "PutIdleConn");
	CHECK_INT(hook_ts(tl, TL_GetConn), T0);
	CHECK_INT(hook_ts(tl, TL_ConnectStart), T0);
	CHECK_INT(hook_ts(tl, TL_ConnectDone), T0 + 100 * US);
	CHECK_INT(hook_ts(tl, TL_GotConn), T0 + 100 * US);
	CHECK_INT(hook_ts(tl, TL_WroteHeaders), T0 + 250 * US);
	CHECK_INT(hook_ts(tl, TL_WroteRequest), T0 + 250 * US);
	CHECK_INT(hook_ts(tl, TL_GotFirstResponseByte), T0 + 1000 * US);
	CHECK_INT(hook_ts(tl, TL_PutIdleConn), T0 + 1000 * US);
	CHECK_INT(tl->phase_us[TL_PHASE_DNS], -1);
	CHECK_INT(tl->phase_us[TL_PHASE_CONNECT], 100);
	CHECK_INT(tl->phase_us[TL_PHASE_TLS], -1);
	CHECK_INT(tl->phase_us[TL_PHASE_SEND], 50);
	CHECK_INT(tl->phase_us[TL_PHASE_WAIT], 750);
	CHECK_INT(tl->phase_us[TL_PHASE_RECEIVE], 0);
	CHECK_INT(tl->phase_us[TL_PHASE_TOTAL], 1000);
	CHECK_INT(tl->start_ns, T0);
	CHECK_INT(tl->end_ns, T0 + 1000 * US);
	CHECK_STR(tl->method, "GET");
	CHECK_STR(tl->target, "/index.html");
	CHECK_STR(tl->host, "example.com");
	CHECK_STR(tl->version, "HTTP/1.1");
	CHECK_INT(tl->status, 200);
	CHECK_INT(tl->request_bytes, strlen(GET_REQ));
	CHECK_INT(tl->response_bytes, strlen(OK_RESP));
	CHECK_INT(tl->pid, 100);
	CHECK_INT(tl->tid, 100);
	CHECK_STR(tl->comm, "curl");
	CHECK_INT(tl->role, HT_ROLE_CLIENT);
	CHECK_INT(tl->conn_id.fd, 5);
	CHECK_INT(tl->conn_id.gen, T0);
	CHECK_INT(tl->daddr.port, 80);
	CHECK_INT(tl->saddr.port, 40000);
	CHECK(!tl->reused);
	CHECK_INT(tl->idle_us, -1);
	CHECK_STR(tl->error, "");
	CHECK(tl->complete);
	CHECK_STR(hook_host(tl, TL_GetConn), "example.com");
}

static void test_single_request(void)
{
	struct correlator *c = setup(NULL);
	struct cn k = client(c);

	connected(&k);
	io(&k, HT_DIR_EGRESS, T0 + 200 * US, T0 + 250 * US, GET_REQ);
	io(&k, HT_DIR_INGRESS, T0 + 300 * US, T0 + 1000 * US, OK_RESP);
	CHECK_INT(out.n, 0); /* still inside the reorder window */
	correlator_tick(c, T0 + 1000 * US + 4 * MS);
	CHECK_INT(out.n, 0);
	correlator_tick(c, T0 + 1000 * US + 6 * MS);
	CHECK_INT(out.n, 1);
	check_single(&out.tl[0]);
	conn_ev(&k, HT_EV_CLOSE, T0 + 2 * MS, 0, SERVER_ADDR);
	correlator_flush(c);
	CHECK_INT(out.n, 1);
	CHECK_INT(correlator_stats(c)->requests, 1);
	CHECK_INT(correlator_stats(c)->incomplete, 0);
	CHECK_INT(correlator_stats(c)->conns, 0);
	CHECK_INT(correlator_stats(c)->gaps, 0);
	correlator_free(c);
}

static void set_cgroup(struct rec *r, uint64_t id)
{
	memcpy((char *)r->buf + offsetof(struct ht_conn_event, cgroup_id), &id,
	       sizeof(id));
}

/* A connection's container: from the cgroup of its connect (or accept)
 * record, through the table, kept for all its requests; a cgroup not in
 * the table is known by its id alone. */
static void test_container(void)
{
	static const char cpath[] = "/system.slice/docker-3f2a9c1e5b7d4f60"
		"8192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8.scope";
	struct container_table *t = container_table_new();
	struct correlator_config cfg = {};
	struct correlator *c;
	struct cn k;
	struct rec r;

	ASSERT(t);
	container_table_put(t, 77, cpath, strlen(cpath));
	cfg.containers = t;
	c = setup(&cfg);
	k = client(c);
	mk_conn(&r, &k, HT_EV_CONNECT_START, T0, 0, v4(10, 0, 0, 2, 40000),
		SERVER_ADDR);
	set_cgroup(&r, 77);
	push(c, &r);
	conn_ev(&k, HT_EV_CONNECT_DONE, T0 + 100 * US, 0, SERVER_ADDR);
	io(&k, HT_DIR_EGRESS, T0 + 200 * US, T0 + 250 * US, GET_REQ);
	io(&k, HT_DIR_INGRESS, T0 + 300 * US, T0 + 1000 * US, OK_RESP);
	io(&k, HT_DIR_EGRESS, T0 + 2000 * US, T0 + 2050 * US, GET_REQ);
	io(&k, HT_DIR_INGRESS, T0 + 2100 * US, T0 + 2500 * US, OK_RESP);
	/* another connection, of a cgroup the table does not hold */
	k.fd = 6;
	k.seq = k.sent = 0;
	mk_conn(&r, &k, HT_EV_CONNECT_START, T0 + 3 * MS, 0,
		v4(10, 0, 0, 2, 40001), SERVER_ADDR);
	set_cgroup(&r, 78);
	push(c, &r);
	conn_ev(&k, HT_EV_CONNECT_DONE, T0 + 3 * MS + 100 * US, 0,
		SERVER_ADDR);
	io(&k, HT_DIR_EGRESS, T0 + 3 * MS + 200 * US, T0 + 3 * MS + 250 * US,
	   GET_REQ);
	io(&k, HT_DIR_INGRESS, T0 + 3 * MS + 300 * US, T0 + 4 * MS, OK_RESP);
	settle(c);
	ASSERT_INT(out.n, 3);
	CHECK_INT(out.tl[0].container.cgroup_id, 77);
	CHECK_STR(out.tl[0].container.runtime, "docker");
	CHECK_STR(out.tl[0].container.id, "3f2a9c1e5b7d4f608192a3b4c5d6e7f8"
					   "091a2b3c4d5e6f708192a3b4c5d6e7f8");
	CHECK(out.tl[1].reused);
	CHECK_STR(out.tl[1].container.id, out.tl[0].container.id);
	CHECK_INT(out.tl[2].container.cgroup_id, 78);
	CHECK_STR(out.tl[2].container.id, "");
	CHECK_STR(out.tl[2].container.runtime, "");
	correlator_flush(c);
	correlator_free(c);
	container_table_free(t);
}

static void test_out_of_order(void)
{
	struct correlator *c = setup(NULL);
	struct cn k = client(c);
	struct rec r[5];
	static const int order[5] = { 3, 1, 4, 0, 2 };
	int i;

	mk_conn(&r[0], &k, HT_EV_CONNECT_START, T0, 0, v4(0, 0, 0, 0, 0),
		SERVER_ADDR);
	mk_conn(&r[1], &k, HT_EV_CONNECT_DONE, T0 + 100 * US, 0,
		v4(10, 0, 0, 2, 40000), SERVER_ADDR);
	mk_data(&r[2], &k, HT_DIR_EGRESS, T0 + 200 * US, T0 + 250 * US,
		GET_REQ, strlen(GET_REQ), strlen(GET_REQ));
	mk_data(&r[3], &k, HT_DIR_INGRESS, T0 + 300 * US, T0 + 1000 * US,
		OK_RESP, strlen(OK_RESP), strlen(OK_RESP));
	mk_conn(&r[4], &k, HT_EV_CLOSE, T0 + 2 * MS, 0, v4(0, 0, 0, 0, 0),
		v4(0, 0, 0, 0, 0));
	for (i = 0; i < 5; i++)
		push(c, &r[order[i]]);
	settle(c);
	CHECK_INT(out.n, 1);
	check_single(&out.tl[0]);
	CHECK_INT(correlator_stats(c)->late_records, 0);
	CHECK_INT(correlator_stats(c)->stale_records, 0);
	CHECK_INT(correlator_stats(c)->gaps, 0);
	CHECK_INT(correlator_stats(c)->conns, 0);
	correlator_free(c);
}

static void test_dns_helper_thread(void)
{
	struct correlator *c = setup(NULL);
	struct cn k = client(c);
	struct cn k2 = client(c);
	struct ht_addr answer[2] = { v4mapped(10, 0, 0, 1), v4(10, 0, 0, 9, 0) };
	struct ht_addr other = v4(10, 9, 9, 9, 0);
	const struct timeline *tl;
	const struct tl_event *e;

	/* another process resolved the same name: not ours */
	dns(c, 200, 200, T0 - 3 * MS, T0 - 1 * MS, "example.com", 0, answer, 2);
	/* curl resolves on a helper thread (tid 101) */
	dns(c, 100, 101, T0 - 2 * MS, T0 - 500 * US, "example.com", 0, answer, 2);
	/* a later lookup of ours, for another address */
	dns(c, 100, 101, T0 - 400 * US, T0 - 300 * US, "other.test", 0, &other, 1);
	connected(&k);
	io(&k, HT_DIR_EGRESS, T0 + 200 * US, T0 + 250 * US, GET_REQ);
	io(&k, HT_DIR_INGRESS, T0 + 300 * US, T0 + 1000 * US, OK_RESP);
	/* a second connection to the same address: the lookup is used up */
	k2.fd = 6;
	k2.gen = T0 + 2 * MS;
	conn_ev(&k2, HT_EV_CONNECT_START, T0 + 2 * MS, 0, SERVER_ADDR);
	conn_ev(&k2, HT_EV_CONNECT_DONE, T0 + 2100 * US, 0, SERVER_ADDR);
	io(&k2, HT_DIR_EGRESS, T0 + 2200 * US, T0 + 2250 * US, GET_REQ);
	io(&k2, HT_DIR_INGRESS, T0 + 2300 * US, T0 + 3000 * US, OK_RESP);
	settle(c);
	CHECK_INT(out.n, 2);
	tl = &out.tl[0];
	CHECK_STR(hooks(tl), "GetConn,DNSStart,DNSDone,ConnectStart,"
			     "ConnectDone,GotConn,WroteHeaders,WroteRequest,"
			     "GotFirstResponseByte,PutIdleConn");
	CHECK_INT(tl->start_ns, T0 - 2 * MS);
	CHECK_INT(hook_ts(tl, TL_DNSStart), T0 - 2 * MS);
	CHECK_INT(hook_ts(tl, TL_DNSDone), T0 - 500 * US);
	CHECK_INT(tl->phase_us[TL_PHASE_DNS], 1500);
	CHECK_INT(tl->phase_us[TL_PHASE_CONNECT], 100);
	CHECK_INT(tl->phase_us[TL_PHASE_TOTAL], 3000);
	CHECK_INT(tl->tid, 100);
	CHECK_STR(hook_host(tl, TL_DNSStart), "example.com");
	e = hook_ev(tl, TL_DNSDone);
	CHECK(e != NULL);
	if (e) {
		CHECK_INT(e->n_addrs, 2);
		CHECK_INT(e->err, 0);
	}
	tl = &out.tl[1];
	CHECK_STR(hooks(tl), "GetConn,ConnectStart,ConnectDone,GotConn,"
			     "WroteHeaders,WroteRequest,GotFirstResponseByte,"
			     "PutIdleConn");
	CHECK_INT(tl->phase_us[TL_PHASE_DNS], -1);
	correlator_free(c);
}

/* one GET over k, connected to peer from k's thread at `at` */
static void get_at(struct cn *k, uint64_t at, struct ht_addr peer)
{
	conn_ev(k, HT_EV_CONNECT_START, at, 0, peer);
	conn_ev(k, HT_EV_CONNECT_DONE, at + 100 * US, 0, peer);
	io(k, HT_DIR_EGRESS, at + 200 * US, at + 250 * US, GET_REQ);
	io(k, HT_DIR_INGRESS, at + 300 * US, at + 1000 * US, OK_RESP);
}

/* the timeline of connection fd, NULL if none */
static const struct timeline *tl_of_fd(int32_t fd)
{
	int i;

	for (i = 0; i < out.n && i < MAX_TL; i++)
		if (out.tl[i].conn_id.fd == fd)
			return &out.tl[i];
	return NULL;
}

static const char *dns_service(const struct timeline *tl)
{
	const struct tl_event *e = tl ? hook_ev(tl, TL_DNSStart) : NULL;

	return e ? e->service : "(no DNSStart)";
}

/*
 * curl --parallel --parallel-immediate http://h.test:8001/a
 * http://h.test:8002/b: two resolver threads look up the same name for two
 * ports at once, and the main thread connects. The newest lookup is the
 * other transfer's whichever connect comes first; the port tells them
 * apart.
 */
static void test_dns_parallel_ports(void)
{
	int order;

	for (order = 0; order < 4; order++) {
		struct correlator *c = setup(NULL);
		struct cn ka = client(c), kb = client(c);
		struct ht_addr a[2] = { v4(127, 0, 0, 1, 8001),
					v4(10, 0, 0, 7, 8001) };
		struct ht_addr b[2] = { v4(127, 0, 0, 1, 8002),
					v4(10, 0, 0, 7, 8002) };
		bool a_last = order & 1, b_connects_first = order & 2;
		const struct timeline *ta, *tb;

		/* the lookups end in either order, both before the
		 * connects */
		dns_svc(c, 100, 101, T0 - 3 * MS,
			a_last ? T0 - 1 * MS : T0 - 2 * MS, "h.test", "8001",
			0, a, 2);
		dns_svc(c, 100, 102, T0 - 3 * MS + 10 * US,
			a_last ? T0 - 2 * MS : T0 - 1 * MS, "h.test", "8002",
			0, b, 2);
		kb.fd = 6;
		kb.gen = T0 + 50 * US;
		if (b_connects_first) {
			kb.gen = T0;
			ka.gen = T0 + 50 * US;
		}
		get_at(&ka, ka.gen, v4(127, 0, 0, 1, 8001));
		get_at(&kb, kb.gen, v4(127, 0, 0, 1, 8002));
		settle(c);
		CHECK_INT(out.n, 2);
		ta = tl_of_fd(5);
		tb = tl_of_fd(6);
		CHECK(ta && tb);
		CHECK_STR(dns_service(ta), "8001");
		CHECK_STR(dns_service(tb), "8002");
		CHECK_STR(hook_host(ta, TL_DNSStart), "h.test");
		CHECK_STR(hook_host(tb, TL_DNSStart), "h.test");
		if (ta && tb) {
			CHECK_INT(hook_ts(ta, TL_DNSDone),
				  a_last ? T0 - 1 * MS : T0 - 2 * MS);
			CHECK_INT(hook_ts(tb, TL_DNSDone),
				  a_last ? T0 - 2 * MS : T0 - 1 * MS);
			CHECK_INT(hook_evz(ta, TL_DNSDone)->addrs[0].port, 8001);
			CHECK_INT(hook_evz(tb, TL_DNSDone)->addrs[0].port, 8002);
		}
		CHECK_INT(correlator_stats(c)->dns_unmatched, 0);
		correlator_free(c);
	}
}

/* A lookup for one port is not another port's, even as the only one:
 * that connect did no lookup of its own (an address from a cache, or
 * given by number). A lookup without a service fits any port. */
static void test_dns_port_must_fit(void)
{
	struct correlator *c = setup(NULL);
	struct cn k = client(c), k2 = client(c);
	struct ht_addr a = v4(10, 0, 0, 1, 8001);
	struct ht_addr any = v4(10, 0, 0, 1, 0);

	dns_svc(c, 100, 101, T0 - 2 * MS, T0 - 1 * MS, "h.test", "8001", 0,
		&a, 1);
	get_at(&k, T0, v4(10, 0, 0, 1, 80));
	k2.fd = 6;
	k2.gen = T0 + 2 * MS;
	dns(c, 100, 100, T0 + 1 * MS, T0 + 1500 * US, "h.test", 0, &any, 1);
	get_at(&k2, T0 + 2 * MS, v4(10, 0, 0, 1, 80));
	settle(c);
	CHECK_INT(out.n, 2);
	CHECK_INT(tl_of_fd(5) ? tl_of_fd(5)->phase_us[TL_PHASE_DNS] : -2, -1);
	CHECK_STR(dns_service(tl_of_fd(6)), "");
	CHECK_INT(hook_ts(tl_of_fd(6), TL_DNSStart), T0 + 1 * MS);
	correlator_free(c);
	/* the 8001 lookup stayed unused */
	CHECK_INT(out.n, 2);
}

/*
 * Two hosts on the same port. Different addresses: each connect gets its
 * host's lookup whatever the order. The same address (two names of one
 * server), looked up and connected by two threads of their own (Java,
 * Python threads): each thread gets its own lookup, not the newest.
 */
static void test_dns_same_port_hosts(void)
{
	struct correlator *c = setup(NULL);
	struct cn ka = client(c), kb = client(c);
	struct ht_addr a = v4(10, 0, 0, 1, 443), b = v4(10, 0, 0, 2, 443);
	struct ht_addr shared = v4(10, 0, 0, 3, 443);

	dns_svc(c, 100, 101, T0 - 3 * MS, T0 - 2 * MS, "a.test", "https", 0,
		&a, 1);
	dns_svc(c, 100, 102, T0 - 3 * MS, T0 - 1 * MS, "b.test", "https", 0,
		&b, 1);
	kb.fd = 6;
	kb.gen = T0 + 50 * US;
	get_at(&kb, T0, v4(10, 0, 0, 2, 443));
	get_at(&ka, T0 + 50 * US, v4(10, 0, 0, 1, 443));
	settle(c);
	CHECK_INT(out.n, 2);
	CHECK_STR(hook_host(tl_of_fd(5), TL_DNSStart), "a.test");
	CHECK_STR(hook_host(tl_of_fd(6), TL_DNSStart), "b.test");
	CHECK_STR(dns_service(tl_of_fd(5)), "https");
	correlator_free(c);

	c = setup(NULL);
	ka = client(c);
	kb = client(c);
	ka.tid = 101;
	kb.tid = 102;
	kb.fd = 6;
	dns_svc(c, 100, 101, T0 - 3 * MS, T0 - 2 * MS, "a.test", "443", 0,
		&shared, 1);
	dns_svc(c, 100, 102, T0 - 3 * MS, T0 - 1 * MS, "b.test", "443", 0,
		&shared, 1);
	ka.gen = T0;
	kb.gen = T0 + 50 * US;
	get_at(&ka, T0, shared);
	get_at(&kb, T0 + 50 * US, shared);
	settle(c);
	CHECK_INT(out.n, 2);
	CHECK_STR(hook_host(tl_of_fd(5), TL_DNSStart), "a.test");
	CHECK_STR(hook_host(tl_of_fd(6), TL_DNSStart), "b.test");
	correlator_free(c);
}

/* The first address of the answer refuses; the client goes on to the
 * next one: the lookup is that request's too. A connect that succeeded
 * keeps its lookup (test_dns_helper_thread). */
static void test_dns_next_address(void)
{
	struct correlator *c = setup(NULL);
	struct cn k1 = client(c), k2 = client(c);
	struct ht_addr answer[2] = { v4(10, 0, 0, 9, 80), v4(10, 0, 0, 1, 80) };
	const struct timeline *t1, *t2;

	dns_svc(c, 100, 100, T0 - 2 * MS, T0 - 1 * MS, "h.test", "http", 0,
		answer, 2);
	conn_ev(&k1, HT_EV_CONNECT_START, T0, 0, answer[0]);
	conn_ev(&k1, HT_EV_CONNECT_DONE, T0 + 50 * US, ECONNREFUSED,
		answer[0]);
	k2.fd = 6;
	k2.gen = T0 + 100 * US;
	get_at(&k2, T0 + 100 * US, answer[1]);
	settle(c);
	CHECK_INT(out.n, 2);
	t1 = tl_of_fd(5);
	t2 = tl_of_fd(6);
	CHECK_STR(hook_host(t1, TL_DNSStart), "h.test");
	CHECK_STR(hook_host(t2, TL_DNSStart), "h.test");
	CHECK_STR(dns_service(t2), "http");
	if (t2) {
		CHECK_INT(t2->start_ns, T0 - 2 * MS);
		CHECK_INT(t2->phase_us[TL_PHASE_DNS], 1000);
		CHECK_INT(t2->status, 200);
	}
	correlator_free(c);
	CHECK_INT(out.n, 2);
}

/* one GET with this Host over k, connected to peer at `at` */
static void get_host_at(struct cn *k, uint64_t at, struct ht_addr peer,
			const char *host)
{
	char req[128];

	snprintf(req, sizeof(req), "GET / HTTP/1.1\r\nHost: %s\r\n\r\n",
		 host);
	conn_ev(k, HT_EV_CONNECT_START, at, 0, peer);
	conn_ev(k, HT_EV_CONNECT_DONE, at + 100 * US, 0, peer);
	io(k, HT_DIR_EGRESS, at + 200 * US, at + 250 * US, req);
	io(k, HT_DIR_INGRESS, at + 300 * US, at + 1000 * US, OK_RESP);
}

/*
 * curl --parallel to http://a.test:8080/ and http://b.test:8080/, two
 * names of one address: resolver threads of their own, the main thread
 * connects. Address, port and thread fit both lookups; the connection's
 * Host tells which is its own, whichever lookup ends last and whichever
 * connect comes first. A connect refused before any name was seen takes
 * neither: no dns phase, rather than maybe the other transfer's.
 */
static void test_dns_same_address_hosts(void)
{
	struct ht_addr shared = v4(10, 0, 0, 3, 8080);
	int order;

	for (order = 0; order < 4; order++) {
		struct correlator *c = setup(NULL);
		struct cn ka = client(c), kb = client(c), kr = client(c);
		bool a_last = order & 1, b_first = order & 2;
		const struct timeline *ta, *tb, *tr;

		dns_svc(c, 100, 101, T0 - 3 * MS,
			a_last ? T0 - 1 * MS : T0 - 2 * MS, "a.test", "8080",
			0, &shared, 1);
		dns_svc(c, 100, 102, T0 - 3 * MS,
			a_last ? T0 - 2 * MS : T0 - 1 * MS, "B.Test.", "8080",
			0, &shared, 1);
		kb.fd = 6;
		kr.fd = 7;
		ka.gen = b_first ? T0 + 50 * US : T0;
		kb.gen = b_first ? T0 : T0 + 50 * US;
		kr.gen = T0 + 20 * US;
		conn_ev(&kr, HT_EV_CONNECT_START, kr.gen, 0, shared);
		conn_ev(&kr, HT_EV_CONNECT_DONE, kr.gen + 10 * US,
			ECONNREFUSED, shared);
		get_host_at(&ka, ka.gen, shared, "a.test:8080");
		get_host_at(&kb, kb.gen, shared, "b.test:8080");
		settle(c);
		CHECK_INT(out.n, 3);
		ta = tl_of_fd(5);
		tb = tl_of_fd(6);
		tr = tl_of_fd(7);
		CHECK_STR(hook_host(ta, TL_DNSStart), "a.test");
		CHECK_STR(hook_host(tb, TL_DNSStart), "B.Test.");
		CHECK(tr && !hook_ev(tr, TL_DNSStart));
		if (ta && tb) {
			/* the request begins with its lookup */
			CHECK_INT(ta->start_ns, T0 - 3 * MS);
			CHECK_INT(tb->start_ns, T0 - 3 * MS);
			CHECK_INT(hook_ts(ta, TL_DNSDone),
				  a_last ? T0 - 1 * MS : T0 - 2 * MS);
			CHECK_INT(ta->phase_us[TL_PHASE_DNS],
				  a_last ? 2000 : 1000);
		}
		CHECK_INT(correlator_stats(c)->dns_unmatched, 0);
		correlator_free(c);
	}
}

/* Host names no lookup asked for: no lookup of either, as either could be
 * another transfer's. */
static void test_dns_same_address_unknown_host(void)
{
	struct correlator *c = setup(NULL);
	struct cn k = client(c);
	struct ht_addr shared = v4(10, 0, 0, 3, 8080);

	dns_svc(c, 100, 101, T0 - 3 * MS, T0 - 2 * MS, "a.test", "8080", 0,
		&shared, 1);
	dns_svc(c, 100, 102, T0 - 3 * MS, T0 - 1 * MS, "b.test", "8080", 0,
		&shared, 1);
	get_host_at(&k, T0, shared, "c.test:8080");
	settle(c);
	CHECK_INT(out.n, 1);
	CHECK(!hook_ev(&out.tl[0], TL_DNSStart));
	CHECK_INT(out.tl[0].start_ns, T0);
	correlator_free(c);
}

static void test_dns_failure(void)
{
	struct correlator *c = setup(NULL);
	const struct timeline *tl;
	char want[TL_ERROR_MAX];

	dns(c, 100, 101, T0, T0 + 30 * MS, "nx.invalid", EAI_NONAME, NULL, 0);
	settle(c);
	CHECK_INT(out.n, 1);
	tl = &out.tl[0];
	CHECK_STR(hooks(tl), "GetConn,DNSStart,DNSDone");
	CHECK_INT(hook_evz(tl, TL_DNSDone)->err, EAI_NONAME);
	CHECK_INT(hook_ts(tl, TL_DNSDone), T0 + 30 * MS);
	CHECK_STR(hook_host(tl, TL_DNSStart), "nx.invalid");
	CHECK_INT(tl->phase_us[TL_PHASE_DNS], 30000);
	CHECK_INT(tl->phase_us[TL_PHASE_TOTAL], 30000);
	CHECK_INT(tl->phase_us[TL_PHASE_CONNECT], -1);
	CHECK_INT(tl->role, HT_ROLE_CLIENT);
	CHECK_INT(tl->pid, 100);
	CHECK_INT(tl->tid, 101);
	CHECK_STR(tl->method, "");
	CHECK_STR(tl->host, "nx.invalid");
	snprintf(want, sizeof(want), "lookup nx.invalid: %s",
		 gai_strerror(EAI_NONAME));
	want[19] = (char)(want[19] - 'A' + 'a'); /* Go-style lower case */
	CHECK_STR(tl->error, want);
	CHECK_INT(tl->error_kind, TL_ERR_DNS_FAILURE);
	CHECK(tl->complete);
	correlator_free(c);
}

static void test_connect_refused(void)
{
	struct correlator *c = setup(NULL);
	struct cn k = client(c);
	const struct timeline *tl;

	conn_ev(&k, HT_EV_CONNECT_START, T0, 0, SERVER_ADDR);
	conn_ev(&k, HT_EV_CONNECT_DONE, T0 + 40 * US, ECONNREFUSED, SERVER_ADDR);
	/* the syscall reports it too: first one wins */
	conn_ev(&k, HT_EV_CONNECT_DONE, T0 + 50 * US, ECONNREFUSED, SERVER_ADDR);
	conn_ev(&k, HT_EV_CLOSE, T0 + 60 * US, 0, SERVER_ADDR);
	correlator_flush(c);
	CHECK_INT(out.n, 1);
	tl = &out.tl[0];
	CHECK_STR(hooks(tl), "GetConn,ConnectStart,ConnectDone");
	CHECK_INT(hook_evz(tl, TL_ConnectDone)->err, ECONNREFUSED);
	CHECK_INT(hook_ts(tl, TL_ConnectDone), T0 + 40 * US);
	CHECK_INT(hook_evz(tl, TL_ConnectStart)->n_addrs, 1);
	CHECK_INT(tl->phase_us[TL_PHASE_CONNECT], 40);
	CHECK_INT(tl->phase_us[TL_PHASE_TOTAL], 40);
	CHECK_INT(tl->phase_us[TL_PHASE_SEND], -1);
	CHECK_STR(tl->error, "connect 10.0.0.1:80: connection refused");
	CHECK_INT(tl->error_kind, TL_ERR_CONNECT_REFUSED);
	CHECK(tl->complete);
	correlator_free(c);
}

static void test_keep_alive(void)
{
	struct correlator *c = setup(NULL);
	struct cn k = client(c);
	const struct timeline *tl;

	connected(&k);
	io(&k, HT_DIR_EGRESS, T0 + 200 * US, T0 + 250 * US, GET_REQ);
	io(&k, HT_DIR_INGRESS, T0 + 300 * US, T0 + 1000 * US, OK_RESP);
	io(&k, HT_DIR_EGRESS, T0 + 3000 * US, T0 + 3020 * US,
	   "GET /two HTTP/1.1\r\nHost: example.com\r\n\r\n");
	io(&k, HT_DIR_INGRESS, T0 + 3030 * US, T0 + 3500 * US,
	   "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
	settle(c);
	CHECK_INT(out.n, 2);
	tl = &out.tl[1];
	CHECK_STR(hooks(tl), "GetConn,GotConn,WroteHeaders,WroteRequest,"
			     "GotFirstResponseByte,PutIdleConn");
	CHECK(tl->reused);
	CHECK_INT(tl->idle_us, 2000);
	CHECK_INT(tl->start_ns, T0 + 3000 * US);
	CHECK_INT(hook_ts(tl, TL_GotConn), T0 + 3000 * US);
	CHECK_STR(tl->target, "/two");
	CHECK_INT(tl->status, 404);
	CHECK_INT(tl->phase_us[TL_PHASE_DNS], -1);
	CHECK_INT(tl->phase_us[TL_PHASE_CONNECT], -1);
	CHECK_INT(tl->phase_us[TL_PHASE_SEND], 20);
	CHECK_INT(tl->phase_us[TL_PHASE_WAIT], 480);
	CHECK_INT(tl->phase_us[TL_PHASE_RECEIVE], 0);
	CHECK_INT(tl->phase_us[TL_PHASE_TOTAL], 500);
	CHECK(tl->complete);
	CHECK(!out.tl[0].reused);
	correlator_free(c);
}

static void test_pipelined(void)
{
	struct correlator *c = setup(NULL);
	struct cn k = client(c);
	static const char req_a[] = "GET /a HTTP/1.1\r\nHost: h\r\n\r\n";
	static const char req_b[] = "GET /b HTTP/1.1\r\nHost: h\r\n\r\n";
	static const char resp_a[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nAA";
	static const char resp_b[] = "HTTP/1.1 201 Created\r\nContent-Length: 3\r\n\r\nBBB";
	char reqs[256], resps[256];

	snprintf(reqs, sizeof(reqs), "%s%s", req_a, req_b);
	snprintf(resps, sizeof(resps), "%s%s", resp_a, resp_b);
	connected(&k);
	io(&k, HT_DIR_EGRESS, T0 + 200 * US, T0 + 250 * US, reqs);
	io(&k, HT_DIR_INGRESS, T0 + 300 * US, T0 + 900 * US, resps);
	settle(c);
	CHECK_INT(out.n, 2);
	CHECK_STR(out.tl[0].target, "/a");
	CHECK_INT(out.tl[0].status, 200);
	CHECK_INT(out.tl[0].request_bytes, strlen(req_a));
	CHECK_INT(out.tl[0].response_bytes, strlen(resp_a));
	CHECK(!out.tl[0].reused);
	CHECK_STR(out.tl[1].target, "/b");
	CHECK_INT(out.tl[1].status, 201);
	CHECK_INT(out.tl[1].request_bytes, strlen(req_b));
	CHECK_INT(out.tl[1].response_bytes, strlen(resp_b));
	CHECK(out.tl[1].reused);
	CHECK_INT(hook_ts(&out.tl[1], TL_WroteRequest), T0 + 250 * US);
	CHECK_INT(hook_ts(&out.tl[1], TL_GotFirstResponseByte), T0 + 900 * US);
	CHECK(out.tl[0].complete && out.tl[1].complete);
	correlator_free(c);
}

/*
 * Two CPUs recording for one connection at once can stamp their times
 * in the opposite order of the numbers they took: the response read
 * (number 3) returns 5 us before the write of its request (number 2)
 * is stamped. Taken in time order alone, 2 would look lost; it is
 * taken before 3 by its number, and nothing is lost.
 */
static void test_seq_before_time(void)
{
	struct correlator *c = setup(NULL);
	struct cn k = client(c);

	connected(&k);
	io(&k, HT_DIR_EGRESS, T0 + 200 * US, T0 + 260 * US, GET_REQ);
	io(&k, HT_DIR_INGRESS, T0 + 230 * US, T0 + 255 * US, OK_RESP);
	settle(c);
	ASSERT_INT(out.n, 1);
	CHECK(out.tl[0].complete);
	CHECK_STR(out.tl[0].error, "");
	CHECK_INT(out.tl[0].status, 200);
	CHECK_INT(correlator_stats(c)->gaps, 0);
	CHECK_INT(correlator_stats(c)->stale_records, 0);
	CHECK_INT(correlator_stats(c)->reordered_by_seq, 1);
	correlator_free(c);
}

/* A number truly missing stays a gap: the catch-up takes the elder it
 * finds (the request, stamped later) and stops at the one never sent. */
static void test_seq_gap_not_in_buffer(void)
{
	struct correlator *c = setup(NULL);
	struct cn k = client(c);

	connected(&k);
	io(&k, HT_DIR_EGRESS, T0 + 200 * US, T0 + 260 * US, GET_REQ);
	k.seq++; /* never sent */
	io(&k, HT_DIR_INGRESS, T0 + 230 * US, T0 + 255 * US, OK_RESP);
	settle(c);
	CHECK_INT(correlator_stats(c)->gaps, 1);
	CHECK_INT(correlator_stats(c)->reordered_by_seq, 1);
	correlator_free(c);
}

static void seq_gap_case(bool unnumbered)
{
	struct correlator *c = setup(NULL);
	struct cn k = client(c);

	k.unnumbered = unnumbered;
	connected(&k);
	io(&k, HT_DIR_EGRESS, T0 + 200 * US, T0 + 250 * US, GET_REQ);
	k.seq++; /* one record lost */
	io(&k, HT_DIR_INGRESS, T0 + 300 * US, T0 + 1000 * US, OK_RESP);
	settle(c);
	CHECK_INT(out.n, 2);
	CHECK(!out.tl[0].complete);
	CHECK_STR(out.tl[0].error, "records lost");
	CHECK_INT(out.tl[0].error_kind, TL_ERR_RECORDS_LOST);
	/* the lost record may have been its response and the one read
	 * another request's: no status, no response hooks */
	CHECK_INT(out.tl[0].status, 0);
	CHECK_INT(out.tl[0].response_bytes, 0);
	CHECK_STR(hooks(&out.tl[0]), "GetConn,ConnectStart,ConnectDone,GotConn,"
				     "WroteHeaders,WroteRequest");
	CHECK_INT(out.tl[0].end_ns, T0 + 250 * US);
	/* the response read is reported as one whose request was not seen */
	CHECK_INT(out.n, 2);
	CHECK_STR(out.tl[1].method, "");
	CHECK_INT(out.tl[1].status, 200);
	CHECK_STR(out.tl[1].error, "request not seen (records lost)");
	CHECK_INT(correlator_stats(c)->gaps, 1);
	CHECK_INT(correlator_stats(c)->incomplete, 2);
	CHECK_INT(correlator_stats(c)->orphan_responses, 1);
	/* resync: the next request starts with no response outstanding,
	 * and the connection does not pipeline: whole again */
	io(&k, HT_DIR_EGRESS, T0 + 3000 * US, T0 + 3020 * US, GET_REQ);
	io(&k, HT_DIR_INGRESS, T0 + 3030 * US, T0 + 3500 * US, OK_RESP);
	settle(c);
	CHECK_INT(out.n, 3);
	CHECK(out.tl[2].complete);
	CHECK_STR(out.tl[2].error, "");
	CHECK_INT(out.tl[2].status, 200);
	correlator_free(c);
}

static void test_seq_gap(void)
{
	seq_gap_case(false);
}

/* The same from a kernel without atomic fetch: the record after the lost
 * one says one was lost, and the timelines are the same. */
static void test_seq_gap_unnumbered(void)
{
	seq_gap_case(true);
}

/* Unnumbered records that no loss separates all count, even two sent by
 * two CPUs at once with the same count (0): none is taken as stale. */
static void test_unnumbered_no_loss(void)
{
	struct correlator *c = setup(NULL);
	struct cn k = client(c);

	k.unnumbered = true;
	connected(&k);
	io(&k, HT_DIR_EGRESS, T0 + 200 * US, T0 + 250 * US, GET_REQ);
	io(&k, HT_DIR_INGRESS, T0 + 300 * US, T0 + 1000 * US, OK_RESP);
	settle(c);
	CHECK_INT(out.n, 1);
	CHECK(out.tl[0].complete);
	CHECK_INT(out.tl[0].status, 200);
	CHECK_INT(correlator_stats(c)->gaps, 0);
	CHECK_INT(correlator_stats(c)->stale_records, 0);
	correlator_free(c);
}

/* A response seen after a gap in the middle of pipelined requests may
 * answer any of them (or one whose bytes were lost): no timeline shows
 * a status that another request got. */
static void test_seq_gap_pipelined(void)
{
	struct correlator *c = setup(NULL);
	struct cn k = client(c);
	static const char req_a[] = "GET /status/200 HTTP/1.1\r\nHost: h\r\n\r\n";
	static const char req_b[] = "GET /status/201 HTTP/1.1\r\nHost: h\r\n\r\n";
	static const char req_c[] = "GET /status/202 HTTP/1.1\r\nHost: h\r\n\r\n";
	static const char req_d[] = "GET /status/203 HTTP/1.1\r\nHost: h\r\n\r\n";
	static const char resp_b[] = "HTTP/1.1 201 Created\r\nContent-Length: 1\r\n\r\nB";
	static const char resp_c[] = "HTTP/1.1 202 Accepted\r\nContent-Length: 1\r\n\r\nC";
	static const char resp_d[] = "HTTP/1.1 203 Other\r\nContent-Length: 1\r\n\r\nD";
	char reqs[512];
	int i;

	snprintf(reqs, sizeof(reqs), "%s%s%s", req_a, req_b, req_c);
	connected(&k);
	io(&k, HT_DIR_EGRESS, T0 + 200 * US, T0 + 250 * US, reqs);
	k.seq++; /* lost: the read of A's response */
	io(&k, HT_DIR_INGRESS, T0 + 300 * US, T0 + 400 * US, resp_b);
	io(&k, HT_DIR_INGRESS, T0 + 500 * US, T0 + 600 * US, resp_c);
	/* a pipelining client: later requests stay unsure */
	io(&k, HT_DIR_EGRESS, T0 + 700 * US, T0 + 750 * US, req_d);
	io(&k, HT_DIR_INGRESS, T0 + 800 * US, T0 + 900 * US, resp_d);
	conn_ev(&k, HT_EV_CLOSE, T0 + 1000 * US, 0, SERVER_ADDR);
	settle(c);
	/* A, B and C end at the gap; the two responses read after it are
	 * reported as ones whose request was not seen; D shows no response */
	CHECK_INT(out.n, 6);
	for (i = 0; i < out.n && i < 6; i++) {
		const struct timeline *tl = &out.tl[i];

		CHECK(!tl->complete);
		if (!tl->target[0]) {
			CHECK_STR(tl->error, "request not seen (records lost)");
			continue;
		}
		CHECK_STR(tl->error, "records lost");
		/* nothing or its own: /status/NNN */
		CHECK(tl->status == 0 || tl->status == atoi(tl->target + 8));
		CHECK(!hook_ev(tl, TL_GotFirstResponseByte) || tl->status);
	}
	CHECK_STR(out.tl[0].target, "/status/200");
	CHECK_STR(out.tl[1].target, "/status/201");
	CHECK_STR(out.tl[2].target, "/status/202");
	CHECK_INT(out.tl[3].status, 201);
	CHECK_INT(out.tl[4].status, 202);
	CHECK_STR(out.tl[5].target, "/status/203");
	CHECK_INT(out.tl[5].status, 0);
	CHECK_INT(out.tl[5].response_bytes, 0);
	CHECK_INT(out.tl[5].phase_us[TL_PHASE_WAIT], -1);
	CHECK_INT(correlator_stats(c)->gaps, 1);
	correlator_free(c);
}

/* Bytes that are not HTTP after a complete exchange on the connection
 * (a client that writes garbage, the server's 400 to it): no timeline,
 * a count; the next real request is traced as usual. */
static void test_garbage_after_exchange(void)
{
	struct correlator *c = setup(NULL);
	struct cn k = client(c);
	static const char bad[] = "\x16\x03\x01\x00\xa5garbage\x01\x02";
	static const char resp400[] =
		"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";

	connected(&k);
	io(&k, HT_DIR_EGRESS, T0 + 200 * US, T0 + 250 * US, GET_REQ);
	io(&k, HT_DIR_INGRESS, T0 + 300 * US, T0 + 1000 * US, OK_RESP);
	io_ret(&k, HT_DIR_EGRESS, T0 + 2000 * US, T0 + 2010 * US, bad,
	       sizeof(bad) - 1, sizeof(bad) - 1);
	io(&k, HT_DIR_INGRESS, T0 + 2100 * US, T0 + 2200 * US, resp400);
	io(&k, HT_DIR_EGRESS, T0 + 3000 * US, T0 + 3010 * US, "garbage again");
	settle(c);
	CHECK_INT(out.n, 1);
	CHECK_STR(out.tl[0].method, "GET");
	CHECK(out.tl[0].complete);
	CHECK_INT(correlator_stats(c)->not_http_after_http, 1);
	/* the 400 answers the garbage: not a response whose request went
	 * unseen */
	CHECK_INT(correlator_stats(c)->orphan_responses, 0);
	/* a request after it is traced, and counts as the second */
	io(&k, HT_DIR_EGRESS, T0 + 4000 * US, T0 + 4010 * US, GET_REQ);
	io(&k, HT_DIR_INGRESS, T0 + 4100 * US, T0 + 4200 * US, OK_RESP);
	conn_ev(&k, HT_EV_CLOSE, T0 + 5000 * US, 0, SERVER_ADDR);
	settle(c);
	CHECK_INT(out.n, 2);
	CHECK_STR(out.tl[1].method, "GET");
	CHECK_INT(out.tl[1].status, 200);
	CHECK(out.tl[1].reused);
	CHECK_INT(correlator_stats(c)->requests, 2);
	correlator_free(c);
}

/* A request written after garbage, before the 400 to the garbage was
 * read: the 400 is not shown as its status. */
static void test_garbage_then_request(void)
{
	struct correlator *c = setup(NULL);
	struct cn k = client(c);
	static const char resp400[] =
		"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";

	connected(&k);
	io(&k, HT_DIR_EGRESS, T0 + 200 * US, T0 + 250 * US, GET_REQ);
	io(&k, HT_DIR_INGRESS, T0 + 300 * US, T0 + 1000 * US, OK_RESP);
	io(&k, HT_DIR_EGRESS, T0 + 2000 * US, T0 + 2010 * US, "@@garbage@@\r\n");
	io(&k, HT_DIR_EGRESS, T0 + 2020 * US, T0 + 2030 * US, GET_REQ);
	io(&k, HT_DIR_INGRESS, T0 + 2100 * US, T0 + 2200 * US, resp400);
	io(&k, HT_DIR_INGRESS, T0 + 2300 * US, T0 + 2400 * US, OK_RESP);
	conn_ev(&k, HT_EV_CLOSE, T0 + 3000 * US, 0, SERVER_ADDR);
	settle(c);
	CHECK_INT(out.n, 2);
	CHECK_STR(out.tl[1].method, "GET");
	CHECK(out.tl[1].status == 0 || out.tl[1].status == 200);
	CHECK(!out.tl[1].complete);
	CHECK_INT(correlator_stats(c)->not_http_after_http, 1);
	correlator_free(c);
}

/* A server connection whose accept record was lost: its timelines lack
 * the addresses and are never complete, the later ones included. */
static void test_server_accept_lost(void)
{
	struct correlator *c = setup(NULL);
	struct cn k = { .c = c, .tgid = 300, .tid = 301, .fd = 9,
			.gen = T0, .comm = "nginx" };
	int i;

	k.seq++; /* the accept record */
	for (i = 0; i < 3; i++) {
		uint64_t t = T0 + (uint64_t)i * 1000 * US;

		io(&k, HT_DIR_INGRESS, t + 10 * US, t + 100 * US, GET_REQ);
		io(&k, HT_DIR_EGRESS, t + 400 * US, t + 450 * US, OK_RESP);
	}
	settle(c);
	CHECK_INT(out.n, 3);
	for (i = 0; i < out.n && i < 3; i++) {
		CHECK_INT(out.tl[i].role, HT_ROLE_SERVER);
		CHECK_INT(out.tl[i].daddr.family, 0);
		CHECK(!out.tl[i].complete);
		CHECK(strstr(out.tl[i].error, "records lost") != NULL);
		/* the first: a request read in the lost records would be
		 * answered first */
		CHECK_INT(out.tl[i].status, i == 0 ? 0 : 200);
	}
	CHECK_STR(out.tl[1].error, "records lost: connection addresses unknown");
	/* the same with the accept seen: complete */
	k.fd = 10;
	k.seq = 0;
	conn_ev(&k, HT_EV_ACCEPT, T0 + 5000 * US, 0, v4(10, 0, 0, 7, 51000));
	io(&k, HT_DIR_INGRESS, T0 + 5010 * US, T0 + 5100 * US, GET_REQ);
	io(&k, HT_DIR_EGRESS, T0 + 5400 * US, T0 + 5450 * US, OK_RESP);
	settle(c);
	CHECK_INT(out.n, 4);
	CHECK(out.tl[3].complete);
	correlator_free(c);
}

static void test_fd_reuse(void)
{
	struct correlator *c = setup(NULL);
	struct cn k = client(c);
	struct cn k2 = client(c);
	struct cn k3 = client(c);

	connected(&k);
	io(&k, HT_DIR_EGRESS, T0 + 200 * US, T0 + 250 * US, GET_REQ);
	io(&k, HT_DIR_INGRESS, T0 + 300 * US, T0 + 1000 * US, OK_RESP);
	conn_ev(&k, HT_EV_CLOSE, T0 + 1100 * US, 0, SERVER_ADDR);
	/* same fd, new life */
	k2.gen = T0 + 2 * MS;
	conn_ev(&k2, HT_EV_CONNECT_START, T0 + 2 * MS, 0, SERVER_ADDR);
	conn_ev(&k2, HT_EV_CONNECT_DONE, T0 + 2100 * US, 0, SERVER_ADDR);
	io(&k2, HT_DIR_EGRESS, T0 + 2200 * US, T0 + 2250 * US, GET_REQ);
	/* a third life whose start we see while the second is mid-request:
	 * the second's close was lost */
	k3.gen = T0 + 5 * MS;
	conn_ev(&k3, HT_EV_CONNECT_START, T0 + 5 * MS, 0, SERVER_ADDR);
	conn_ev(&k3, HT_EV_CONNECT_DONE, T0 + 5100 * US, 0, SERVER_ADDR);
	io(&k3, HT_DIR_EGRESS, T0 + 5200 * US, T0 + 5250 * US, GET_REQ);
	io(&k3, HT_DIR_INGRESS, T0 + 5300 * US, T0 + 6000 * US, OK_RESP);
	settle(c);
	CHECK_INT(out.n, 3);
	CHECK_INT(out.tl[0].conn_id.gen, T0);
	CHECK(out.tl[0].complete);
	CHECK_INT(out.tl[1].conn_id.gen, T0 + 2 * MS);
	CHECK(!out.tl[1].complete);
	CHECK_STR(out.tl[1].error, "connection state lost");
	CHECK_INT(out.tl[2].conn_id.gen, T0 + 5 * MS);
	CHECK(out.tl[2].complete);
	CHECK(!out.tl[2].reused);
	CHECK_INT(out.tl[2].phase_us[TL_PHASE_CONNECT], 100);
	CHECK_INT(correlator_stats(c)->gaps, 0);
	CHECK_INT(correlator_stats(c)->stale_records, 0);
	correlator_free(c);
}

static void test_stale_generation(void)
{
	struct correlator *c = setup(NULL);
	struct cn old = client(c);
	struct cn k = client(c);

	k.gen = T0 + 1 * MS;
	conn_ev(&k, HT_EV_CONNECT_START, T0 + 1 * MS, 0, SERVER_ADDR);
	conn_ev(&k, HT_EV_CONNECT_DONE, T0 + 1100 * US, 0, SERVER_ADDR);
	io(&k, HT_DIR_EGRESS, T0 + 1200 * US, T0 + 1250 * US, GET_REQ);
	settle(c);
	/* a straggler of the previous life of fd 5, later in time */
	old.seq = 7;
	io(&old, HT_DIR_INGRESS, T0 + 1300 * US, T0 + 1300 * US,
	   "HTTP/1.1 500 Old\r\nContent-Length: 0\r\n\r\n");
	io(&k, HT_DIR_INGRESS, T0 + 1400 * US, T0 + 2000 * US, OK_RESP);
	settle(c);
	CHECK_INT(correlator_stats(c)->stale_records, 1);
	CHECK_INT(out.n, 1);
	CHECK_INT(out.tl[0].status, 200);
	CHECK(out.tl[0].complete);
	/* and a record of a closed connection that arrives after its close */
	conn_ev(&k, HT_EV_CLOSE, T0 + 3 * MS, 0, SERVER_ADDR);
	settle(c);
	io(&k, HT_DIR_INGRESS, T0 + 2900 * US, T0 + 2900 * US, OK_RESP);
	settle(c);
	CHECK_INT(correlator_stats(c)->stale_records, 2);
	CHECK_INT(correlator_stats(c)->late_records, 1);
	CHECK_INT(correlator_stats(c)->conns, 0);
	correlator_free(c);
}

/*
 * Graves keep the newest life of each {tgid, fd} in a hash table: a
 * straggler of any older life of a busy fd stays stale however many
 * lives came since, and so does one of the connection closed last among
 * thousands on other fds.
 */
/* 4,000 connections open at once, each with a request waiting, then all
 * closed, twice: what the correlator holds goes back to what a few spare
 * objects take, the same after each round. */
static void open_and_close(struct correlator *c, int round, uint64_t *open_bytes)
{
	struct cn k = client(c);
	uint64_t t = T0 + (uint64_t)round * 10000 * MS;
	int i;

	for (i = 0; i < 4000; i++) {
		k.fd = 100 + i;
		k.gen = t + (uint64_t)i * US;
		k.seq = 0;
		conn_ev(&k, HT_EV_CONNECT_START, k.gen, 0, SERVER_ADDR);
		io(&k, HT_DIR_EGRESS, k.gen + 10, k.gen + 20, GET_REQ);
	}
	settle(c);
	CHECK_INT(correlator_stats(c)->conns, 4000);
	*open_bytes = correlator_stats(c)->held_bytes;
	for (i = 0; i < 4000; i++) {
		k.fd = 100 + i;
		k.gen = t + (uint64_t)i * US;
		k.seq = 2;
		conn_ev(&k, HT_EV_CLOSE, t + 5000 * MS, 0, SERVER_ADDR);
	}
	settle(c);
	CHECK_INT(correlator_stats(c)->conns, 0);
	CHECK_INT(correlator_stats(c)->procs, 0);
}

static void test_memory_after_closes(void)
{
	struct correlator *c = setup(NULL);
	uint64_t open1, open2, after1, after2;

	CHECK_INT(correlator_stats(c)->held_bytes, 0);
	open_and_close(c, 0, &open1);
	after1 = correlator_stats(c)->held_bytes;
	open_and_close(c, 1, &open2);
	after2 = correlator_stats(c)->held_bytes;
	CHECK_INT(out.n, 8000);
	CHECK_INT(open1, open2);
	CHECK(open1 > 4000ull * 1000);
	/* the spares: at most 32 connections and 1,024 requests */
	CHECK(after1 < 2ull << 20);
	CHECK_INT(after1, after2);
	correlator_free(c);
}

static void test_graves_after_many_closes(void)
{
	struct correlator *c = setup(NULL);
	struct cn k = client(c), first, last;
	int i;

	for (i = 0; i < 600; i++) {
		k.gen = T0 + (uint64_t)i * MS;
		k.seq = 0;
		if (i == 0)
			first = k;
		conn_ev(&k, HT_EV_CONNECT_START, k.gen, 0, SERVER_ADDR);
		conn_ev(&k, HT_EV_CLOSE, k.gen + 100 * US, 0, SERVER_ADDR);
	}
	settle(c);
	io(&first, HT_DIR_EGRESS, T0 + 50 * US, T0 + 60 * US, GET_REQ);
	settle(c);
	CHECK_INT(correlator_stats(c)->stale_records, 1);
	CHECK_INT(correlator_stats(c)->conns, 0);

	for (i = 0; i < 3000; i++) {
		k.fd = 1000 + i;
		k.gen = T0 + (uint64_t)(600 + i) * MS;
		k.seq = 0;
		last = k;
		conn_ev(&k, HT_EV_CONNECT_START, k.gen, 0, SERVER_ADDR);
		conn_ev(&k, HT_EV_CLOSE, k.gen + 100 * US, 0, SERVER_ADDR);
	}
	settle(c);
	io(&last, HT_DIR_EGRESS, last.gen + 50 * US, last.gen + 60 * US,
	   GET_REQ);
	settle(c);
	CHECK_INT(correlator_stats(c)->stale_records, 2);
	CHECK_INT(correlator_stats(c)->conns, 0);
	CHECK_INT(out.n, 0);
	correlator_free(c);
}

static void test_process_exit(void)
{
	struct correlator *c = setup(NULL);
	struct cn k = client(c);

	connected(&k);
	io(&k, HT_DIR_EGRESS, T0 + 200 * US, T0 + 250 * US, GET_REQ);
	proc_exit(c, 100, T0 + 5 * MS);
	settle(c);
	CHECK_INT(out.n, 1);
	CHECK(!out.tl[0].complete);
	CHECK_STR(out.tl[0].error, "process exited mid-request");
	CHECK_INT(out.tl[0].end_ns, T0 + 5 * MS);
	CHECK_INT(correlator_stats(c)->conns, 0);
	CHECK_INT(correlator_stats(c)->procs, 0);
	correlator_flush(c);
	CHECK_INT(out.n, 1);
	correlator_free(c);
}

static void test_connection_reset(void)
{
	struct correlator *c = setup(NULL);
	struct cn k = client(c);

	connected(&k);
	io(&k, HT_DIR_EGRESS, T0 + 200 * US, T0 + 250 * US, GET_REQ);
	io_ret(&k, HT_DIR_INGRESS, T0 + 300 * US, T0 + 310 * US, "", 0, -EAGAIN);
	io_ret(&k, HT_DIR_INGRESS, T0 + 400 * US, T0 + 800 * US, "", 0,
	       -ECONNRESET);
	settle(c);
	CHECK_INT(out.n, 1);
	CHECK_STR(out.tl[0].error, "read: connection reset by peer");
	CHECK_INT(out.tl[0].error_kind, TL_ERR_RESET);
	CHECK(out.tl[0].complete);
	CHECK_INT(out.tl[0].status, 0);
	CHECK_INT(out.tl[0].end_ns, T0 + 800 * US);
	CHECK_INT(out.tl[0].phase_us[TL_PHASE_TOTAL], 800);
	/* the process waited for a response until the reset */
	CHECK_INT(out.tl[0].phase_us[TL_PHASE_WAIT], 550);
	correlator_free(c);
}

static void test_eof_before_response(void)
{
	struct correlator *c = setup(NULL);
	struct cn k = client(c);

	connected(&k);
	io(&k, HT_DIR_EGRESS, T0 + 200 * US, T0 + 250 * US, GET_REQ);
	io_ret(&k, HT_DIR_INGRESS, T0 + 300 * US, T0 + 700 * US, "", 0, 0);
	settle(c);
	CHECK_INT(out.n, 1);
	CHECK_STR(out.tl[0].error, "connection closed by peer before response");
	CHECK_INT(out.tl[0].error_kind, TL_ERR_CONNECTION_CLOSED);
	CHECK(out.tl[0].complete);
	CHECK_INT(out.tl[0].end_ns, T0 + 700 * US);
	CHECK_STR(hooks(&out.tl[0]), "GetConn,ConnectStart,ConnectDone,"
				     "GotConn,WroteHeaders,WroteRequest");
	correlator_free(c);
}

static void test_close_delimited(void)
{
	struct correlator *c = setup(NULL);
	struct cn k = client(c);
	static const char part1[] = "HTTP/1.0 200 OK\r\nServer: x\r\n\r\nsome ";
	static const char part2[] = "body bytes";
	const struct timeline *tl;

	connected(&k);
	io(&k, HT_DIR_EGRESS, T0 + 200 * US, T0 + 250 * US,
	   "GET / HTTP/1.0\r\n\r\n");
	io(&k, HT_DIR_INGRESS, T0 + 300 * US, T0 + 1000 * US, part1);
	io(&k, HT_DIR_INGRESS, T0 + 1100 * US, T0 + 1500 * US, part2);
	settle(c);
	CHECK_INT(out.n, 0); /* the body runs until close */
	conn_ev(&k, HT_EV_CLOSE, T0 + 2 * MS, 0, SERVER_ADDR);
	settle(c);
	CHECK_INT(out.n, 1);
	tl = &out.tl[0];
	CHECK_STR(tl->version, "HTTP/1.0");
	CHECK_INT(tl->status, 200);
	CHECK(tl->complete);
	CHECK_STR(tl->error, "");
	CHECK_INT(tl->end_ns, T0 + 2 * MS);
	CHECK_INT(tl->response_bytes, strlen(part1) + strlen(part2));
	CHECK_INT(tl->phase_us[TL_PHASE_RECEIVE], 1000);
	CHECK(hook_ev(tl, TL_PutIdleConn) == NULL);
	correlator_free(c);
}

static void test_head(void)
{
	struct correlator *c = setup(NULL);
	struct cn k = client(c);

	connected(&k);
	io(&k, HT_DIR_EGRESS, T0 + 200 * US, T0 + 250 * US,
	   "HEAD /big HTTP/1.1\r\nHost: h\r\n\r\n");
	io(&k, HT_DIR_INGRESS, T0 + 300 * US, T0 + 600 * US,
	   "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n");
	settle(c);
	CHECK_INT(out.n, 1);
	CHECK_STR(out.tl[0].method, "HEAD");
	CHECK_INT(out.tl[0].status, 200);
	CHECK_INT(out.tl[0].end_ns, T0 + 600 * US);
	CHECK(out.tl[0].complete);
	CHECK(hook_ev(&out.tl[0], TL_PutIdleConn) != NULL);
	correlator_free(c);
}

static void test_100_continue(void)
{
	struct correlator *c = setup(NULL);
	struct cn k = client(c);
	const struct timeline *tl;

	connected(&k);
	io(&k, HT_DIR_EGRESS, T0 + 200 * US, T0 + 250 * US,
	   "POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n"
	   "Expect: 100-continue\r\n\r\n");
	io(&k, HT_DIR_INGRESS, T0 + 300 * US, T0 + 400 * US,
	   "HTTP/1.1 100 Continue\r\n\r\n");
	io(&k, HT_DIR_EGRESS, T0 + 500 * US, T0 + 550 * US, "data");
	io(&k, HT_DIR_INGRESS, T0 + 600 * US, T0 + 900 * US,
	   "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
	settle(c);
	CHECK_INT(out.n, 1);
	tl = &out.tl[0];
	CHECK_STR(hooks(tl), "GetConn,ConnectStart,ConnectDone,GotConn,"
			     "WroteHeaders,Wait100Continue,"
			     "GotFirstResponseByte,Got100Continue,"
			     "Got1xxResponse,WroteRequest,PutIdleConn");
	CHECK_INT(hook_ts(tl, TL_Wait100Continue), T0 + 250 * US);
	CHECK_INT(hook_ts(tl, TL_Got100Continue), T0 + 400 * US);
	CHECK_INT(hook_evz(tl, TL_Got1xxResponse)->status, 100);
	CHECK_INT(hook_ts(tl, TL_GotFirstResponseByte), T0 + 400 * US);
	CHECK_INT(hook_ts(tl, TL_WroteRequest), T0 + 550 * US);
	CHECK_INT(tl->status, 200);
	CHECK_STR(tl->method, "POST");
	CHECK_INT(tl->phase_us[TL_PHASE_SEND], 350);
	CHECK_INT(tl->phase_us[TL_PHASE_WAIT], 350); /* 550 -> 900 */
	CHECK_INT(tl->phase_us[TL_PHASE_RECEIVE], 0);
	CHECK(tl->complete);
	CHECK(events_sorted(tl));
	correlator_free(c);
}

static void test_capture_gap_in_body(void)
{
	struct correlator *c = setup(NULL);
	struct cn k = client(c);
	static const char head[] = "HTTP/1.1 200 OK\r\nContent-Length: 10000\r\n\r\n";
	char chunk[200];
	size_t total = strlen(head) + 10000;

	memset(chunk, 'x', sizeof(chunk));
	memcpy(chunk, head, strlen(head));
	connected(&k);
	io(&k, HT_DIR_EGRESS, T0 + 200 * US, T0 + 250 * US, GET_REQ);
	/* one read moved it all; only the first 200 bytes were captured */
	io_ret(&k, HT_DIR_INGRESS, T0 + 300 * US, T0 + 2000 * US, chunk,
	       sizeof(chunk), (int64_t)total);
	settle(c);
	CHECK_INT(out.n, 1);
	CHECK_INT(out.tl[0].status, 200);
	CHECK_INT(out.tl[0].response_bytes, total);
	CHECK_INT(out.tl[0].end_ns, T0 + 2000 * US);
	CHECK(out.tl[0].complete);
	correlator_free(c);
}

static void test_framing_lost(void)
{
	struct correlator *c = setup(NULL);
	struct cn k = client(c);
	static const char head[] =
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		"1000\r\n";
	char chunk[100];

	memset(chunk, 'y', sizeof(chunk));
	memcpy(chunk, head, strlen(head));
	connected(&k);
	io(&k, HT_DIR_EGRESS, T0 + 200 * US, T0 + 250 * US, GET_REQ);
	/* the 4 KiB chunk and whatever chunk sizes follow are not captured */
	io_ret(&k, HT_DIR_INGRESS, T0 + 300 * US, T0 + 500 * US, chunk,
	       sizeof(chunk), 9000);
	io_ret(&k, HT_DIR_INGRESS, T0 + 600 * US, T0 + 700 * US, chunk + 60,
	       40, 3000);
	settle(c);
	CHECK_INT(out.n, 0);
	/* the next request tells that the response was over */
	io(&k, HT_DIR_EGRESS, T0 + 3000 * US, T0 + 3020 * US, GET_REQ);
	io(&k, HT_DIR_INGRESS, T0 + 3030 * US, T0 + 3500 * US, OK_RESP);
	settle(c);
	CHECK_INT(out.n, 2);
	CHECK_INT(out.tl[0].status, 200);
	CHECK_INT(out.tl[0].end_ns, T0 + 700 * US);
	CHECK_INT(out.tl[0].response_bytes, 12000);
	CHECK(out.tl[0].complete);
	CHECK_STR(out.tl[0].error, "");
	CHECK(out.tl[1].complete);
	CHECK(out.tl[1].reused);
	CHECK_INT(out.tl[1].idle_us, 2300);
	CHECK_INT(out.tl[1].status, 200);
	correlator_free(c);
}

static void test_not_http(void)
{
	struct correlator *c = setup(NULL);
	struct cn k = client(c);
	connected(&k);
	io(&k, HT_DIR_EGRESS, T0 + 200 * US, T0 + 250 * US,
	   "SSH-2.0-OpenSSH_9.2p1\r\n");
	io(&k, HT_DIR_INGRESS, T0 + 300 * US, T0 + 600 * US,
	   "SSH-2.0-OpenSSH_9.2p1\r\n");
	io(&k, HT_DIR_EGRESS, T0 + 700 * US, T0 + 750 * US, GET_REQ);
	conn_ev(&k, HT_EV_CLOSE, T0 + 800 * US, 0, SERVER_ADDR);
	correlator_flush(c);
	CHECK_INT(out.n, 0);
	CHECK_INT(correlator_stats(c)->non_http_conns, 1);
	CHECK_INT(correlator_stats(c)->requests, 0);
	correlator_free(c);
}

/* A SETTINGS frame as the first frame of a server: 3 settings */
static const char H2_SETTINGS[] = "\x00\x00\x12\x04\x00\x00\x00\x00\x00"
				  "\x00\x03\x00\x00\x00\x80"
				  "\x00\x04\x00\x01\x00\x00"
				  "\x00\x05\x00\xff\xff\xff";
#define H2_SETTINGS_LEN (sizeof(H2_SETTINGS) - 1)
static const char H2_PREFACE[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
				 "\x00\x00\x00\x04\x00\x00\x00\x00\x00";
#define H2_PREFACE_LEN (sizeof(H2_PREFACE) - 1)

static void test_http2_preface(void)
{
	struct correlator *c = setup(NULL);
	struct cn k = client(c);

	connected(&k);
	io_ret(&k, HT_DIR_EGRESS, T0 + 200 * US, T0 + 250 * US, H2_PREFACE,
	       H2_PREFACE_LEN, H2_PREFACE_LEN);
	io_ret(&k, HT_DIR_INGRESS, T0 + 300 * US, T0 + 600 * US, H2_SETTINGS,
	       H2_SETTINGS_LEN, H2_SETTINGS_LEN);
	/* frames, whatever they say, are counted, not parsed */
	io(&k, HT_DIR_EGRESS, T0 + 700 * US, T0 + 750 * US, GET_REQ);
	io_ret(&k, HT_DIR_INGRESS, T0 + 760 * US, T0 + 770 * US, "", 0, 9000);
	settle(c);
	CHECK_INT(out.n, 0); /* open until the connection ends */
	conn_ev(&k, HT_EV_CLOSE, T0 + 800 * US, 0, SERVER_ADDR);
	correlator_flush(c);
	CHECK_INT(out.n, 1);
	CHECK_STR(out.tl[0].version, "HTTP/2");
	CHECK_STR(out.tl[0].method, "");
	CHECK_INT(out.tl[0].role, HT_ROLE_CLIENT);
	CHECK(out.tl[0].complete);
	CHECK_STR(out.tl[0].error, "");
	CHECK_STR(hooks(&out.tl[0]), "GetConn,ConnectStart,ConnectDone,GotConn");
	CHECK_INT(out.tl[0].phase_us[TL_PHASE_CONNECT], 100);
	CHECK_INT(out.tl[0].phase_us[TL_PHASE_TOTAL], 800);
	CHECK_INT(out.tl[0].end_ns, T0 + 800 * US);
	CHECK_INT(out.tl[0].request_bytes, H2_PREFACE_LEN + strlen(GET_REQ));
	CHECK_INT(out.tl[0].response_bytes, H2_SETTINGS_LEN + 9000);
	CHECK_INT(correlator_stats(c)->non_http_conns, 0);
	correlator_free(c);
}

/* nginx, gRPC: the server writes its SETTINGS frame as soon as it
 * accepts, then reads the preface */
static void test_h2_server_speaks_first(void)
{
	struct correlator *c = setup(NULL);
	struct cn k = { .c = c, .tgid = 300, .tid = 301, .fd = 9,
			.gen = T0, .comm = "nginx" };
	const struct timeline *tl = &out.tl[0];

	conn_ev(&k, HT_EV_ACCEPT, T0, 0, v4(10, 0, 0, 7, 51000));
	io_ret(&k, HT_DIR_EGRESS, T0 + 10 * US, T0 + 30 * US, H2_SETTINGS,
	       H2_SETTINGS_LEN, H2_SETTINGS_LEN);
	io_ret(&k, HT_DIR_INGRESS, T0 + 40 * US, T0 + 200 * US, H2_PREFACE,
	       H2_PREFACE_LEN, H2_PREFACE_LEN);
	io_ret(&k, HT_DIR_EGRESS, T0 + 300 * US, T0 + 350 * US, "", 0, 500);
	conn_ev(&k, HT_EV_CLOSE, T0 + 1000 * US, 0, v4(10, 0, 0, 7, 51000));
	correlator_flush(c);
	CHECK_INT(out.n, 1);
	CHECK_INT(tl->role, HT_ROLE_SERVER);
	CHECK_STR(tl->version, "HTTP/2");
	CHECK_STR(tl->method, "");
	CHECK_STR(tl->comm, "nginx");
	CHECK_INT(tl->tid, 301);
	CHECK_STR(hooks(tl), "GetConn,GotConn");
	CHECK_INT(tl->start_ns, T0 + 10 * US); /* the SETTINGS write */
	CHECK_INT(tl->end_ns, T0 + 1000 * US);
	CHECK_INT(tl->phase_us[TL_PHASE_TOTAL], 990);
	CHECK_INT(tl->phase_us[TL_PHASE_SEND], -1);
	CHECK_INT(tl->phase_us[TL_PHASE_WAIT], -1);
	/* request bytes: what the client sent */
	CHECK_INT(tl->request_bytes, H2_PREFACE_LEN);
	CHECK_INT(tl->response_bytes, H2_SETTINGS_LEN + 500);
	CHECK(tl->complete);
	CHECK_STR(tl->error, "");
	CHECK_INT(correlator_stats(c)->non_http_conns, 0);
	correlator_free(c);
}

/* The same seen from the client: the server's SETTINGS read before the
 * client wrote its preface */
static void test_h2_client_reads_settings_first(void)
{
	struct correlator *c = setup(NULL);
	struct cn k = client(c);
	const struct timeline *tl = &out.tl[0];

	connected(&k);
	io_ret(&k, HT_DIR_INGRESS, T0 + 150 * US, T0 + 200 * US, H2_SETTINGS,
	       H2_SETTINGS_LEN, H2_SETTINGS_LEN);
	io_ret(&k, HT_DIR_EGRESS, T0 + 250 * US, T0 + 260 * US, H2_PREFACE,
	       H2_PREFACE_LEN, H2_PREFACE_LEN);
	conn_ev(&k, HT_EV_CLOSE, T0 + 900 * US, 0, SERVER_ADDR);
	correlator_flush(c);
	CHECK_INT(out.n, 1);
	CHECK_INT(tl->role, HT_ROLE_CLIENT);
	CHECK_STR(tl->version, "HTTP/2");
	CHECK_STR(hooks(tl), "GetConn,ConnectStart,ConnectDone,GotConn");
	CHECK_INT(tl->start_ns, T0);
	CHECK_INT(tl->end_ns, T0 + 900 * US);
	CHECK_INT(tl->request_bytes, H2_PREFACE_LEN);
	CHECK_INT(tl->response_bytes, H2_SETTINGS_LEN);
	CHECK(tl->complete);
	correlator_free(c);
}

/* No accept or connect seen: a SETTINGS frame written first is a
 * server's, read first a client's */
static void test_h2_settings_tells_role(void)
{
	struct correlator *c = setup(NULL);
	struct cn srv = { .c = c, .tgid = 300, .tid = 300, .fd = 9, .gen = T0 };
	struct cn cli = client(c);

	io_ret(&srv, HT_DIR_EGRESS, T0 + 10 * US, T0 + 30 * US, H2_SETTINGS,
	       H2_SETTINGS_LEN, H2_SETTINGS_LEN);
	io_ret(&cli, HT_DIR_INGRESS, T0 + 10 * US, T0 + 40 * US, H2_SETTINGS,
	       H2_SETTINGS_LEN, H2_SETTINGS_LEN);
	correlator_flush(c);
	CHECK_INT(out.n, 2);
	CHECK_INT(out.tl[0].role + out.tl[1].role,
		  HT_ROLE_CLIENT + HT_ROLE_SERVER);
	CHECK_INT(out.tl[out.tl[0].pid == 300 ? 0 : 1].role, HT_ROLE_SERVER);
	CHECK_STR(out.tl[0].version, "HTTP/2");
	CHECK_STR(out.tl[1].version, "HTTP/2");
	/* the tracer stopped while they were open */
	CHECK(!out.tl[0].complete);
	CHECK(!out.tl[1].complete);
	correlator_free(c);
}

/* Only a SETTINGS frame: other bytes that start with 0x00 are not HTTP,
 * and a SETTINGS frame after an HTTP/1.x request is not a server
 * speaking first */
static void test_h2_settings_strict(void)
{
	struct correlator *c = setup(NULL);
	struct cn k = client(c);
	struct cn k2 = client(c);

	connected(&k);
	io_ret(&k, HT_DIR_INGRESS, T0 + 150 * US, T0 + 200 * US,
	       "\x00\x00\x13\x04\x00\x00\x00\x00\x00", 9, 9);
	conn_ev(&k, HT_EV_CLOSE, T0 + 300 * US, 0, SERVER_ADDR);
	k2.fd = 6;
	connected(&k2);
	io(&k2, HT_DIR_EGRESS, T0 + 200 * US, T0 + 250 * US, GET_REQ);
	io_ret(&k2, HT_DIR_INGRESS, T0 + 300 * US, T0 + 400 * US, H2_SETTINGS,
	       H2_SETTINGS_LEN, H2_SETTINGS_LEN);
	conn_ev(&k2, HT_EV_CLOSE, T0 + 500 * US, 0, SERVER_ADDR);
	correlator_flush(c);
	CHECK_INT(out.n, 1);
	CHECK_STR(out.tl[0].method, "GET");
	CHECK_STR(out.tl[0].version, "HTTP/1.1");
	CHECK_STR(out.tl[0].error, "malformed HTTP response");
	CHECK_INT(correlator_stats(c)->non_http_conns, 1);
	correlator_free(c);
}

/* The process exits with the connection open (the kernel closes it):
 * the connection is over, complete; a reset ends it with an error */
static void test_h2_exit_and_reset(void)
{
	struct correlator *c = setup(NULL);
	struct cn k = client(c);
	struct cn k2 = client(c);

	connected(&k);
	io_ret(&k, HT_DIR_EGRESS, T0 + 200 * US, T0 + 250 * US, H2_PREFACE,
	       H2_PREFACE_LEN, H2_PREFACE_LEN);
	k2.fd = 6;
	connected(&k2);
	io_ret(&k2, HT_DIR_EGRESS, T0 + 200 * US, T0 + 250 * US, H2_PREFACE,
	       H2_PREFACE_LEN, H2_PREFACE_LEN);
	io_ret(&k2, HT_DIR_INGRESS, T0 + 300 * US, T0 + 400 * US, "", 0,
	       -ECONNRESET);
	proc_exit(c, k.tgid, T0 + 2000 * US);
	correlator_flush(c);
	CHECK_INT(out.n, 2);
	CHECK_STR(out.tl[0].version, "HTTP/2");
	CHECK_STR(out.tl[0].error, "read: connection reset by peer");
	CHECK_INT(out.tl[0].error_kind, TL_ERR_RESET);
	CHECK_INT(out.tl[0].end_ns, T0 + 400 * US);
	CHECK(out.tl[0].complete);
	CHECK_STR(out.tl[1].version, "HTTP/2");
	CHECK_STR(out.tl[1].error, "");
	CHECK_INT(out.tl[1].end_ns, T0 + 2000 * US);
	CHECK(out.tl[1].complete);
	correlator_free(c);
}

static void test_server_role(void)
{
	struct correlator *c = setup(NULL);
	struct cn k = { .c = c, .tgid = 300, .tid = 301, .fd = 9,
			.gen = T0, .comm = "nginx" };
	const struct timeline *tl;

	conn_ev(&k, HT_EV_ACCEPT, T0, 0, v4(10, 0, 0, 7, 51000));
	io(&k, HT_DIR_INGRESS, T0 + 10 * US, T0 + 100 * US, GET_REQ);
	io(&k, HT_DIR_EGRESS, T0 + 400 * US, T0 + 450 * US, OK_RESP);
	settle(c);
	CHECK_INT(out.n, 1);
	tl = &out.tl[0];
	CHECK_INT(tl->role, HT_ROLE_SERVER);
	CHECK_STR(hooks(tl), "GetConn,GotConn,WroteHeaders,WroteRequest,"
			     "GotFirstResponseByte,PutIdleConn");
	CHECK_INT(tl->start_ns, T0 + 100 * US);
	CHECK_INT(hook_ts(tl, TL_GotConn), T0 + 100 * US);
	CHECK_INT(hook_ts(tl, TL_WroteRequest), T0 + 100 * US);
	CHECK_INT(hook_ts(tl, TL_GotFirstResponseByte), T0 + 400 * US);
	CHECK_INT(tl->end_ns, T0 + 450 * US);
	CHECK_INT(tl->phase_us[TL_PHASE_SEND], 0);
	CHECK_INT(tl->phase_us[TL_PHASE_WAIT], 300);
	CHECK_INT(tl->phase_us[TL_PHASE_RECEIVE], 50);
	CHECK_INT(tl->phase_us[TL_PHASE_TOTAL], 350);
	CHECK_INT(tl->phase_us[TL_PHASE_CONNECT], -1);
	CHECK_STR(tl->method, "GET");
	CHECK_STR(tl->comm, "nginx");
	CHECK_INT(tl->tid, 301);
	CHECK_INT(tl->status, 200);
	CHECK(tl->complete);
	correlator_free(c);
}

static void test_unknown_conn_guess(void)
{
	struct correlator *c = setup(NULL);
	struct cn srv = { .c = c, .tgid = 300, .tid = 300, .fd = 9, .gen = T0 };
	struct cn cli = client(c);

	/* no connect/accept seen; seq starts at 0 (tracked lazily) */
	io(&srv, HT_DIR_INGRESS, T0 + 10 * US, T0 + 100 * US, GET_REQ);
	io(&srv, HT_DIR_EGRESS, T0 + 400 * US, T0 + 450 * US, OK_RESP);
	io(&cli, HT_DIR_EGRESS, T0 + 10 * US, T0 + 100 * US, GET_REQ);
	io(&cli, HT_DIR_INGRESS, T0 + 400 * US, T0 + 450 * US, OK_RESP);
	settle(c);
	CHECK_INT(out.n, 2);
	CHECK_INT(out.tl[0].role, HT_ROLE_SERVER);
	CHECK_INT(out.tl[1].role, HT_ROLE_CLIENT);
	CHECK_INT(out.tl[1].start_ns, T0 + 10 * US);
	CHECK(out.tl[0].complete && out.tl[1].complete);
	correlator_free(c);
}

static void test_flush_pending(void)
{
	struct correlator *c = setup(NULL);
	struct cn k = client(c);

	connected(&k);
	io(&k, HT_DIR_EGRESS, T0 + 200 * US, T0 + 250 * US, GET_REQ);
	io(&k, HT_DIR_INGRESS, T0 + 300 * US, T0 + 400 * US,
	   "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc");
	correlator_flush(c);
	CHECK_INT(out.n, 1);
	CHECK(!out.tl[0].complete);
	CHECK_STR(out.tl[0].error, "tracer stopped before the request finished");
	CHECK_INT(out.tl[0].error_kind, TL_ERR_TRACER_STOPPED);
	CHECK_INT(out.tl[0].status, 200);
	CHECK_INT(out.tl[0].end_ns, T0 + 400 * US);
	CHECK_INT(correlator_stats(c)->incomplete, 1);
	CHECK_INT(correlator_stats(c)->conns, 0);
	correlator_free(c);
}

static void test_note_lost(void)
{
	struct correlator *c = setup(NULL);
	struct cn k = client(c);

	connected(&k);
	io(&k, HT_DIR_EGRESS, T0 + 200 * US, T0 + 250 * US, GET_REQ);
	settle(c);
	correlator_note_lost(c, HT_DROP_CONN, 3);
	io(&k, HT_DIR_INGRESS, T0 + 300 * US, T0 + 1000 * US, OK_RESP);
	settle(c);
	CHECK_INT(out.n, 1);
	CHECK(!out.tl[0].complete);
	CHECK_STR(out.tl[0].error, "records lost");
	CHECK_INT(out.tl[0].status, 200);
	CHECK_INT(correlator_stats(c)->lost[HT_DROP_CONN], 3);
	correlator_free(c);
}

static void test_bad_records(void)
{
	struct correlator *c = setup(NULL);
	struct cn k = client(c);
	struct rec r;
	struct ht_data_event *ev = (void *)r.buf;
	struct ht_event_header *hdr = (void *)r.buf;
	uint8_t junk[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };

	CHECK_INT(correlator_push(c, junk, sizeof(junk)), -EINVAL);
	CHECK_INT(correlator_push(c, NULL, 0), -EINVAL);
	mk_conn(&r, &k, HT_EV_CONNECT_START, T0, 0, SERVER_ADDR, SERVER_ADDR);
	hdr->type = 99;
	CHECK_INT(correlator_push(c, r.buf, r.size), -EINVAL);
	/* a conn record cut short */
	mk_conn(&r, &k, HT_EV_CONNECT_START, T0, 0, SERVER_ADDR, SERVER_ADDR);
	CHECK_INT(correlator_push(c, r.buf, r.size - 1), -EINVAL);
	/* captured_len beyond the record */
	mk_data(&r, &k, HT_DIR_EGRESS, T0, T0, GET_REQ, strlen(GET_REQ),
		strlen(GET_REQ));
	CHECK_INT(correlator_push(c, r.buf, r.size - 1), -EINVAL);
	/* captured_len beyond ret */
	ev->ret = 3;
	CHECK_INT(correlator_push(c, r.buf, r.size), -EINVAL);
	/* unknown direction */
	ev->ret = (int64_t)strlen(GET_REQ);
	ev->direction = 7;
	CHECK_INT(correlator_push(c, r.buf, r.size), -EINVAL);
	CHECK_INT(correlator_stats(c)->bad_records, 7);
	CHECK_INT(correlator_stats(c)->records, 0);
	correlator_flush(c);
	CHECK_INT(out.n, 0);
	correlator_free(c);
}

static void test_bounds(void)
{
	struct correlator_config cfg = { .max_buffered = 4, .max_conns = 2 };
	struct correlator *c = setup(&cfg);
	struct cn k[3];
	int i;

	for (i = 0; i < 3; i++) {
		uint64_t t = T0 + (uint64_t)i * MS;

		k[i] = client(c);
		k[i].fd = 10 + i;
		k[i].gen = t;
		conn_ev(&k[i], HT_EV_CONNECT_START, t, 0, SERVER_ADDR);
		conn_ev(&k[i], HT_EV_CONNECT_DONE, t + 100 * US, 0, SERVER_ADDR);
		io(&k[i], HT_DIR_EGRESS, t + 200 * US, t + 250 * US, GET_REQ);
	}
	/* 9 records, at most 4 held back */
	CHECK(correlator_stats(c)->buffered <= 4);
	CHECK_INT(correlator_stats(c)->reorder_overflow, 5);
	settle(c);
	CHECK(correlator_stats(c)->conns <= 2);
	CHECK_INT(correlator_stats(c)->evicted_conns, 1);
	CHECK_INT(out.n, 1);
	CHECK_STR(out.tl[0].error, "evicted");
	CHECK(!out.tl[0].complete);
	correlator_flush(c);
	CHECK_INT(out.n, 3);
	correlator_free(c);
}

/* The reorder buffer itself: timestamp order, ties in arrival order,
 * bounds. */
static void test_reorder_buffer(void)
{
	static const uint64_t ts[8] = { 50, 10, 30, 10, 70, 30, 10, 20 };
	static const int want[8] = { 1, 3, 6, 7, 2, 5, 0, 4 };
	struct reorder rb;
	struct reorder_item it;
	char big[20000];
	int i, v;

	CHECK_INT(reorder_init(&rb, 8, 1 << 20), 0);
	for (i = 0; i < 8; i++)
		CHECK_INT(reorder_push(&rb, ts[i], &i, sizeof(i)), 0);
	CHECK(reorder_full(&rb, sizeof(i)));
	CHECK_INT(reorder_push(&rb, 1, &i, sizeof(i)), -ENOMEM);
	memset(big, 0, sizeof(big));
	CHECK_INT(reorder_push(&rb, 1, big, sizeof(big)), -E2BIG);
	for (i = 0; i < 8; i++) {
		CHECK(reorder_pop(&rb, &it));
		memcpy(&v, it.rec, sizeof(v));
		CHECK_INT(v, want[i]);
		reorder_release(&rb, &it);
	}
	CHECK(!reorder_pop(&rb, &it));
	CHECK_INT(rb.bytes, 0);

	/* ties between the in-order run and the stragglers' heap */
	{
		static const uint64_t ts2[6] = { 10, 20, 10, 20, 5, 20 };
		static const int want2[6] = { 4, 0, 2, 1, 3, 5 };

		for (i = 0; i < 6; i++)
			CHECK_INT(reorder_push(&rb, ts2[i], &i, sizeof(i)), 0);
		for (i = 0; i < 6; i++) {
			CHECK(reorder_pop(&rb, &it));
			memcpy(&v, it.rec, sizeof(v));
			CHECK_INT(v, want2[i]);
			reorder_release(&rb, &it);
		}
	}
	/* records left inside are freed by fini (LeakSanitizer) */
	CHECK_INT(reorder_push(&rb, 1, &i, sizeof(i)), 0);
	CHECK_INT(reorder_push(&rb, 0, &i, sizeof(i)), 0);
	reorder_fini(&rb);
}

static void test_connect_tunnel(void)
{
	struct correlator *c = setup(NULL);
	struct cn k = client(c);

	connected(&k);
	io(&k, HT_DIR_EGRESS, T0 + 200 * US, T0 + 250 * US,
	   "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n");
	io(&k, HT_DIR_INGRESS, T0 + 300 * US, T0 + 400 * US,
	   "HTTP/1.1 200 Connection established\r\n\r\n");
	/* TLS inside the tunnel: not ours */
	io(&k, HT_DIR_EGRESS, T0 + 500 * US, T0 + 550 * US, "\x16\x03\x01\x00\x10");
	io(&k, HT_DIR_INGRESS, T0 + 600 * US, T0 + 650 * US, "\x16\x03\x03\x00\x10");
	io(&k, HT_DIR_EGRESS, T0 + 700 * US, T0 + 750 * US, GET_REQ);
	conn_ev(&k, HT_EV_CLOSE, T0 + 800 * US, 0, SERVER_ADDR);
	correlator_flush(c);
	CHECK_INT(out.n, 1);
	CHECK_STR(out.tl[0].method, "CONNECT");
	CHECK_INT(out.tl[0].status, 200);
	CHECK_INT(out.tl[0].end_ns, T0 + 400 * US);
	CHECK(out.tl[0].complete);
	CHECK(hook_ev(&out.tl[0], TL_PutIdleConn) == NULL);
	CHECK_INT(correlator_stats(c)->non_http_conns, 0);
	correlator_free(c);
}

static void test_pipeline_overflow(void)
{
	struct correlator_config cfg = { .max_pipeline = 2 };
	struct correlator *c = setup(&cfg);
	struct cn k = client(c);
	char reqs[512];

	snprintf(reqs, sizeof(reqs), "%s%s%s",
		 "GET /1 HTTP/1.1\r\n\r\n", "GET /2 HTTP/1.1\r\n\r\n",
		 "GET /3 HTTP/1.1\r\n\r\n");
	connected(&k);
	io(&k, HT_DIR_EGRESS, T0 + 200 * US, T0 + 250 * US, reqs);
	settle(c);
	CHECK_INT(out.n, 1);
	CHECK_STR(out.tl[0].target, "/1");
	CHECK(!out.tl[0].complete);
	CHECK_STR(out.tl[0].error, "too many pipelined requests");
	/* /1's response is skipped; /2 and /3 get theirs */
	io(&k, HT_DIR_INGRESS, T0 + 300 * US, T0 + 900 * US,
	   "HTTP/1.1 201 A\r\nContent-Length: 0\r\n\r\n"
	   "HTTP/1.1 202 B\r\nContent-Length: 0\r\n\r\n"
	   "HTTP/1.1 203 C\r\nContent-Length: 0\r\n\r\n");
	settle(c);
	CHECK_INT(out.n, 3);
	CHECK_STR(out.tl[1].target, "/2");
	CHECK_INT(out.tl[1].status, 202);
	CHECK_STR(out.tl[2].target, "/3");
	CHECK_INT(out.tl[2].status, 203);
	CHECK_INT(correlator_stats(c)->pipeline_overflow, 1);
	correlator_free(c);
}

/* The kernel finished the handshake at +100us; the process learned it at
 * +400us (getsockopt SO_ERROR after poll): ConnectDone is the latter, as
 * in Go where it is the dial returning. */
static void test_connect_done_as_process_sees_it(void)
{
	struct correlator *c = setup(NULL);
	struct cn k = client(c);
	struct rec r;
	struct ht_conn_event *ev = (void *)r.buf;

	connected(&k);
	mk_conn(&r, &k, HT_EV_CONNECT_DONE, T0 + 400 * US, 0,
		v4(10, 0, 0, 2, 40000), SERVER_ADDR);
	ev->source = HT_SRC_SYSCALL;
	push(c, &r);
	io(&k, HT_DIR_EGRESS, T0 + 450 * US, T0 + 500 * US, GET_REQ);
	io(&k, HT_DIR_INGRESS, T0 + 600 * US, T0 + 1000 * US, OK_RESP);
	settle(c);
	CHECK_INT(out.n, 1);
	CHECK_INT(hook_ts(&out.tl[0], TL_ConnectDone), T0 + 400 * US);
	CHECK_INT(hook_ts(&out.tl[0], TL_GotConn), T0 + 400 * US);
	CHECK_INT(out.tl[0].phase_us[TL_PHASE_CONNECT], 400);
	correlator_free(c);
}

/* The refusal comes from softirq (no comm, no thread): the timeline
 * still names the process and the thread that called connect(), and
 * ConnectStart shows the peer its own record saw. */
static void test_refused_names_owner(void)
{
	struct correlator *c = setup(NULL);
	struct cn k = client(c);
	struct rec r;
	struct ht_conn_event *ev;

	k.tid = 101;
	conn_ev(&k, HT_EV_CONNECT_START, T0, 0, v4(10, 0, 0, 1, 81));
	mk_conn(&r, &k, HT_EV_CONNECT_DONE, T0 + 90 * US, ECONNREFUSED,
		v4(0, 0, 0, 0, 0), v4(10, 0, 0, 1, 80));
	ev = (void *)r.buf;
	ev->hdr.tid = 0;
	memset(ev->hdr.comm, 0, sizeof(ev->hdr.comm));
	push(c, &r);
	settle(c);
	CHECK_INT(out.n, 1);
	CHECK_STR(out.tl[0].comm, "curl");
	CHECK_INT(out.tl[0].tid, 101);
	CHECK_INT(hook_evz(&out.tl[0], TL_ConnectStart)->addrs[0].port, 81);
	CHECK_INT(hook_evz(&out.tl[0], TL_ConnectDone)->addrs[0].port, 80);
	correlator_free(c);
}

/* Request headers longer than the capture (a big cookie): the request
 * line is still reported, and the request ends with its last bytes
 * before the response starts. */
static void test_request_headers_beyond_capture(void)
{
	struct correlator *c = setup(NULL);
	struct cn k = client(c);
	static const char head[] = "POST /upload HTTP/1.1\r\nHost: h\r\n"
				   "Cookie: aaaaaaaaaaaaaaaa";

	connected(&k);
	/* 6000 bytes written, only the first strlen(head) captured */
	io_ret(&k, HT_DIR_EGRESS, T0 + 200 * US, T0 + 250 * US, head,
	       strlen(head), 6000);
	io_ret(&k, HT_DIR_EGRESS, T0 + 260 * US, T0 + 300 * US, "zzzz", 4,
	       4000);
	io(&k, HT_DIR_INGRESS, T0 + 310 * US, T0 + 900 * US, OK_RESP);
	settle(c);
	CHECK_INT(out.n, 1);
	CHECK_STR(out.tl[0].method, "POST");
	CHECK_STR(out.tl[0].target, "/upload");
	CHECK_STR(out.tl[0].host, "h");
	CHECK_INT(out.tl[0].status, 200);
	CHECK_INT(hook_ts(&out.tl[0], TL_WroteRequest), T0 + 300 * US);
	CHECK_INT(out.tl[0].phase_us[TL_PHASE_WAIT], 600);
	CHECK_INT(out.tl[0].request_bytes, 10000);
	CHECK(out.tl[0].complete);
	correlator_free(c);
}

/* The process closed its socket while waiting (a timeout, say): the error
 * says who hung up. */
static void test_client_closes_first(void)
{
	struct correlator *c = setup(NULL);
	struct cn k = client(c);

	connected(&k);
	io(&k, HT_DIR_EGRESS, T0 + 200 * US, T0 + 250 * US, GET_REQ);
	conn_ev(&k, HT_EV_CLOSE, T0 + 5 * MS, 0, SERVER_ADDR);
	settle(c);
	CHECK_INT(out.n, 1);
	CHECK_STR(out.tl[0].error,
		  "connection closed by the process before response");
	correlator_free(c);
}

/* A response whose request was never seen (written before tracing
 * began, or lost): reported, incomplete, in words; and it counts as the
 * connection's request, so the next one is on a reused connection. */
static void test_response_without_request(void)
{
	struct correlator *c = setup(NULL);
	struct cn k = client(c);
	const struct timeline *tl = &out.tl[0];

	connected(&k);
	io(&k, HT_DIR_INGRESS, T0 + 300 * US, T0 + 1000 * US, OK_RESP);
	io(&k, HT_DIR_EGRESS, T0 + 2000 * US, T0 + 2050 * US, GET_REQ);
	io(&k, HT_DIR_INGRESS, T0 + 2100 * US, T0 + 2900 * US, OK_RESP);
	settle(c);
	CHECK_INT(out.n, 2);
	CHECK(!tl->complete);
	CHECK_STR(tl->error, "request not seen");
	CHECK_STR(tl->method, "");
	CHECK_INT(tl->status, 200);
	CHECK_INT(tl->response_bytes, strlen(OK_RESP));
	CHECK(!tl->reused);
	CHECK_STR(hooks(tl), "GetConn,GotConn,GotFirstResponseByte,"
			     "PutIdleConn");
	CHECK_INT(tl->start_ns, T0 + 1000 * US);
	CHECK_INT(tl->phase_us[TL_PHASE_CONNECT], -1);
	CHECK_INT(tl->phase_us[TL_PHASE_SEND], -1);
	CHECK_INT(tl->phase_us[TL_PHASE_WAIT], -1);
	CHECK_INT(tl->phase_us[TL_PHASE_RECEIVE], 0);
	CHECK(events_sorted(tl));
	CHECK_STR(out.tl[1].method, "GET");
	CHECK(out.tl[1].complete);
	CHECK(out.tl[1].reused);
	CHECK_INT(out.tl[1].idle_us, 1000);
	CHECK_INT(out.tl[1].phase_us[TL_PHASE_CONNECT], -1);
	CHECK_INT(correlator_stats(c)->orphan_responses, 1);
	CHECK_INT(correlator_stats(c)->incomplete, 1);
	correlator_free(c);
}

/* ---- TLS ------------------------------------------------------------------ */

static void tls_raw(struct cn *k, int dir, uint64_t enter, uint64_t ts,
		    const struct tbuf *t)
{
	io_ret(k, dir, enter, ts, (const char *)t->b, t->n, (int64_t)t->n);
}

/* plaintext through SSL_write/SSL_read */
static void tls_io(struct cn *k, int dir, uint64_t enter, uint64_t ts,
		   const char *s, uint8_t lib)
{
	struct rec r;
	struct ht_data_event *ev = (void *)r.buf;

	mk_data(&r, k, dir, enter, ts, s, strlen(s), (int64_t)strlen(s));
	ev->hdr.type = HT_EV_TLS_DATA;
	ev->call = lib;
	push(k->c, &r);
}

static void tls_call(struct cn *k, uint64_t enter, uint64_t ts, int64_t ret,
		     uint8_t lib, uint8_t op)
{
	struct rec r;
	struct ht_tls_event *ev = (void *)r.buf;

	memset(r.buf, 0, sizeof(*ev));
	mk_hdr(&ev->hdr, HT_EV_TLS, k->tgid, k->tid, ts, k->comm);
	ev->conn.tgid = k->tgid;
	ev->conn.fd = k->fd;
	ev->conn.gen = k->gen;
	ev->seq = take_seq(k);
	ev->lib = lib;
	ev->op = op;
	ev->enter_ns = enter;
	ev->ret = ret;
	r.size = sizeof(*ev);
	push(k->c, &r);
}

/* connect, ClientHello, SSL_connect -1 (want read), ServerHello,
 * SSL_connect 1 at T0+900us */
static void tls_handshake(struct cn *k, unsigned version, const char *alpn)
{
	struct tbuf ch, sh;

	connected(k);
	tls_client_hello(&ch, "example.com", alpn);
	tls_server_hello(&sh, version, 0x1302, NULL);
	tls_raw(k, HT_DIR_EGRESS, T0 + 210 * US, T0 + 220 * US, &ch);
	tls_call(k, T0 + 200 * US, T0 + 230 * US, -1, HT_TLS_OPENSSL,
		 HT_TLS_OP_HANDSHAKE);
	tls_raw(k, HT_DIR_INGRESS, T0 + 500 * US, T0 + 600 * US, &sh);
	tls_call(k, T0 + 480 * US, T0 + 900 * US, 1, HT_TLS_OPENSSL,
		 HT_TLS_OP_HANDSHAKE);
}

static void test_tls_get(void)
{
	struct correlator *c = setup(NULL);
	struct cn k = client(c);
	const struct timeline *tl = &out.tl[0];
	struct tbuf ct;

	tls_handshake(&k, 0x0304, "h2,http/1.1");
	tls_appdata(&ct, 80);
	/* the socket I/O inside each call comes first, in time and in
	 * sequence */
	tls_raw(&k, HT_DIR_EGRESS, T0 + 1010 * US, T0 + 1040 * US, &ct);
	tls_io(&k, HT_DIR_EGRESS, T0 + 1000 * US, T0 + 1050 * US, GET_REQ,
	       HT_TLS_OPENSSL);
	tls_raw(&k, HT_DIR_INGRESS, T0 + 1900 * US, T0 + 2000 * US, &ct);
	tls_io(&k, HT_DIR_INGRESS, T0 + 1890 * US, T0 + 2010 * US, OK_RESP,
	       HT_TLS_OPENSSL);
	settle(c);
	CHECK_INT(out.n, 1);
	CHECK_STR(hooks(tl), "GetConn,ConnectStart,ConnectDone,"
			     "TLSHandshakeStart,TLSHandshakeDone,GotConn,"
			     "WroteHeaders,WroteRequest,GotFirstResponseByte,"
			     "PutIdleConn");
	CHECK_INT(hook_ts(tl, TL_TLSHandshakeStart), T0 + 200 * US);
	CHECK_INT(hook_ts(tl, TL_TLSHandshakeDone), T0 + 900 * US);
	CHECK_INT(hook_ts(tl, TL_GotConn), T0 + 900 * US);
	/* from ConnectDone (T0+100us), as curl's appconnect - connect */
	CHECK_INT(tl->phase_us[TL_PHASE_TLS], 800);
	CHECK_INT(tl->phase_us[TL_PHASE_SEND], 50);
	CHECK_INT(tl->phase_us[TL_PHASE_WAIT], 960);
	CHECK_STR(tl->method, "GET");
	CHECK_STR(tl->target, "/index.html");
	CHECK_INT(tl->status, 200);
	CHECK_INT(tl->request_bytes, strlen(GET_REQ));
	CHECK_INT(tl->response_bytes, strlen(OK_RESP));
	CHECK(tl->complete);
	CHECK(tl->tls.seen);
	CHECK_STR(tl->tls.lib, "openssl");
	CHECK_STR(tl->tls.version, "TLSv1.3");
	CHECK_STR(tl->tls.cipher, "TLS_AES_256_GCM_SHA384");
	CHECK_STR(tl->tls.sni, "example.com");
	/* TLS 1.3: the server's choice is encrypted, and HTTP/1.1 is also
	 * what a client speaks when the server chose nothing */
	CHECK_STR(tl->tls.alpn, "");
	CHECK(!tl->tls.alpn_inferred);
	CHECK_STR(tl->tls.alpn_offered, "h2,http/1.1");
	CHECK(!tl->tls.not_decoded);
	CHECK_INT(correlator_stats(c)->non_http_conns, 0);
	correlator_free(c);
}

/* "connect 100, idle 100, send 50" */
static const char *steps_text(const struct timeline *tl)
{
	static char buf[512];
	size_t n = 0;
	uint32_t i;

	buf[0] = '\0';
	for (i = 0; i < tl->n_steps && n < sizeof(buf); i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s %lld",
				      i ? ", " : "",
				      tl_phase_name(tl->steps[i].phase),
				      (long long)tl->steps[i].us);
	return buf;
}

/* Time where the client did nothing we see (Perl loading modules after
 * connect, wget waiting for a TLS 1.3 session ticket before it writes)
 * is an idle step where it happened, and the phases add up to total. */
static void test_idle_where_it_happened(void)
{
	struct correlator *c = setup(NULL);
	struct cn k = client(c);
	struct tbuf ct;

	connected(&k);
	io(&k, HT_DIR_EGRESS, T0 + 200 * US, T0 + 250 * US, GET_REQ);
	io(&k, HT_DIR_INGRESS, T0 + 300 * US, T0 + 1000 * US, OK_RESP);
	settle(c);
	CHECK_INT(out.n, 1);
	CHECK_STR(steps_text(&out.tl[0]),
		  "connect 100, idle 100, send 50, wait 750, receive 0");
	CHECK_INT(out.tl[0].phase_us[TL_PHASE_IDLE], 100);
	correlator_free(c);

	c = setup(NULL);
	k = client(c);
	tls_handshake(&k, 0x0304, NULL);
	tls_appdata(&ct, 80);
	tls_raw(&k, HT_DIR_EGRESS, T0 + 1010 * US, T0 + 1040 * US, &ct);
	tls_io(&k, HT_DIR_EGRESS, T0 + 1000 * US, T0 + 1050 * US, GET_REQ,
	       HT_TLS_OPENSSL);
	tls_raw(&k, HT_DIR_INGRESS, T0 + 1900 * US, T0 + 2000 * US, &ct);
	tls_io(&k, HT_DIR_INGRESS, T0 + 1890 * US, T0 + 2010 * US, OK_RESP,
	       HT_TLS_OPENSSL);
	settle(c);
	CHECK_INT(out.n, 1);
	CHECK_STR(steps_text(&out.tl[0]), "connect 100, tls 800, idle 100, "
					  "send 50, wait 960, receive 0");
	CHECK_INT(out.tl[0].phase_us[TL_PHASE_TOTAL], 2010);
	correlator_free(c);

	/* no gap: no idle phase at all */
	c = setup(NULL);
	k = client(c);
	connected(&k);
	io(&k, HT_DIR_EGRESS, T0 + 100 * US, T0 + 250 * US, GET_REQ);
	io(&k, HT_DIR_INGRESS, T0 + 300 * US, T0 + 1000 * US, OK_RESP);
	settle(c);
	CHECK_INT(out.n, 1);
	CHECK_STR(steps_text(&out.tl[0]),
		  "connect 100, send 150, wait 750, receive 0");
	CHECK_INT(out.tl[0].phase_us[TL_PHASE_IDLE], -1);
	correlator_free(c);
	CHECK_INT(phase_sum_failures, 0);
}

/* second request on the connection: no handshake, reused */
static void test_tls_keepalive(void)
{
	struct correlator *c = setup(NULL);
	struct cn k = client(c);

	tls_handshake(&k, 0x0304, NULL);
	tls_io(&k, HT_DIR_EGRESS, T0 + 1000 * US, T0 + 1050 * US, GET_REQ,
	       HT_TLS_OPENSSL);
	tls_io(&k, HT_DIR_INGRESS, T0 + 1890 * US, T0 + 2010 * US, OK_RESP,
	       HT_TLS_OPENSSL);
	tls_io(&k, HT_DIR_EGRESS, T0 + 3000 * US, T0 + 3050 * US, GET_REQ,
	       HT_TLS_OPENSSL);
	tls_io(&k, HT_DIR_INGRESS, T0 + 3890 * US, T0 + 4010 * US, OK_RESP,
	       HT_TLS_OPENSSL);
	settle(c);
	CHECK_INT(out.n, 2);
	CHECK(!out.tl[0].reused);
	CHECK(out.tl[1].reused);
	CHECK_STR(hooks(&out.tl[1]), "GetConn,GotConn,WroteHeaders,"
				     "WroteRequest,GotFirstResponseByte,"
				     "PutIdleConn");
	CHECK_INT(out.tl[1].phase_us[TL_PHASE_TLS], -1);
	CHECK(out.tl[1].tls.seen);
	CHECK_STR(out.tl[0].tls.alpn, ""); /* none offered */
	correlator_free(c);
}

/* ciphertext never reaches the HTTP parser, even when it would parse:
 * the connection is reported as TLS not decoded, never as a request */
static void test_tls_raw_never_parsed(void)
{
	struct correlator *c = setup(NULL);
	struct cn k = client(c);
	struct tbuf ch;

	connected(&k);
	tls_client_hello(&ch, "example.com", NULL);
	tls_raw(&k, HT_DIR_EGRESS, T0 + 200 * US, T0 + 250 * US, &ch);
	io(&k, HT_DIR_EGRESS, T0 + 700 * US, T0 + 750 * US, GET_REQ);
	io(&k, HT_DIR_INGRESS, T0 + 800 * US, T0 + 850 * US, OK_RESP);
	conn_ev(&k, HT_EV_CLOSE, T0 + 900 * US, 0, SERVER_ADDR);
	correlator_flush(c);
	CHECK_INT(out.n, 1);
	CHECK(out.tl[0].tls.not_decoded);
	CHECK_STR(out.tl[0].method, "");
	CHECK_INT(out.tl[0].status, 0);
	CHECK_INT(correlator_stats(c)->requests, 0);
	CHECK_INT(correlator_stats(c)->tls_not_decoded, 1);
	correlator_free(c);
}

/* Go's crypto/tls (no hooked library): the handshake on the wire, then
 * ciphertext both ways, then the close. One timeline with what the
 * hellos said, marked not decoded and incomplete; not a request. */
static void test_tls_not_decoded(void)
{
	struct correlator *c = setup(NULL);
	struct cn k = client(c);
	const struct timeline *tl = &out.tl[0];
	struct tbuf ch, sh, ct;

	k.comm = "gohttp";
	connected(&k);
	tls_client_hello(&ch, "example.com", "h2,http/1.1");
	tls_server_hello(&sh, 0x0304, 0x1301, NULL);
	tls_appdata(&ct, 80);
	tls_raw(&k, HT_DIR_EGRESS, T0 + 200 * US, T0 + 220 * US, &ch);
	tls_raw(&k, HT_DIR_INGRESS, T0 + 300 * US, T0 + 600 * US, &sh);
	tls_raw(&k, HT_DIR_EGRESS, T0 + 700 * US, T0 + 710 * US, &ct);
	tls_raw(&k, HT_DIR_INGRESS, T0 + 800 * US, T0 + 900 * US, &ct);
	settle(c);
	CHECK_INT(out.n, 0); /* said when it ends */
	conn_ev(&k, HT_EV_CLOSE, T0 + 1000 * US, 0, SERVER_ADDR);
	settle(c);
	CHECK_INT(out.n, 1);
	CHECK(tl->tls.seen);
	CHECK(tl->tls.not_decoded);
	CHECK_STR(tl->tls.lib, "");
	CHECK_STR(tl->tls.sni, "example.com");
	CHECK_STR(tl->tls.version, "TLSv1.3");
	CHECK_STR(tl->tls.cipher, "TLS_AES_128_GCM_SHA256");
	CHECK_STR(tl->tls.alpn, "");
	CHECK_STR(tl->tls.alpn_offered, "h2,http/1.1");
	CHECK_STR(tl->comm, "gohttp");
	CHECK_INT(tl->pid, 100);
	CHECK_INT(tl->daddr.port, 80);
	CHECK_STR(hooks(tl), "GetConn,ConnectStart,ConnectDone,"
			     "TLSHandshakeStart");
	CHECK_STR(hook_host(tl, TL_GetConn), "example.com");
	CHECK_INT(hook_ts(tl, TL_TLSHandshakeStart), T0 + 200 * US);
	CHECK_INT(tl->phase_us[TL_PHASE_CONNECT], 100);
	CHECK_INT(tl->phase_us[TL_PHASE_TLS], -1);
	CHECK_INT(tl->phase_us[TL_PHASE_TOTAL], 1000);
	CHECK_STR(tl->error, "TLS not decoded: encrypted by a TLS library "
			     "the tracer does not hook");
	CHECK(!tl->complete);
	CHECK_STR(tl->method, "");
	CHECK_INT(correlator_stats(c)->requests, 0);
	CHECK_INT(correlator_stats(c)->incomplete, 0);
	CHECK_INT(correlator_stats(c)->tls_not_decoded, 1);
	correlator_flush(c);
	CHECK_INT(out.n, 1);
	correlator_free(c);
}

/* ... said also when the process exits or the tracer stops first, once,
 * with the time it was last seen; and on the server side (Go's HTTPS
 * server), where the ClientHello is read */
static void test_tls_not_decoded_ends(void)
{
	for (int how = 0; how < 3; how++) {
		struct correlator *c = setup(NULL);
		struct cn k = client(c);
		struct tbuf ch, sh;

		if (how == 2)
			conn_ev(&k, HT_EV_ACCEPT, T0, 0, SERVER_ADDR);
		else
			connected(&k);
		tls_client_hello(&ch, "example.com", NULL);
		tls_server_hello(&sh, 0x0303, 0xc02f, "http/1.1");
		tls_raw(&k, how == 2 ? HT_DIR_INGRESS : HT_DIR_EGRESS,
			T0 + 200 * US, T0 + 220 * US, &ch);
		tls_raw(&k, how == 2 ? HT_DIR_EGRESS : HT_DIR_INGRESS,
			T0 + 300 * US, T0 + 600 * US, &sh);
		if (how == 0)
			proc_exit(c, k.tgid, T0 + 2000 * US);
		correlator_flush(c);
		CHECK_INT(out.n, 1);
		CHECK(out.tl[0].tls.not_decoded);
		CHECK_STR(out.tl[0].tls.version, "TLSv1.2");
		/* TLS 1.2: the server's choice is on the wire */
		CHECK_STR(out.tl[0].tls.alpn, "http/1.1");
		CHECK(!out.tl[0].tls.alpn_inferred);
		CHECK_INT(out.tl[0].end_ns,
			  how == 0 ? T0 + 2000 * US : T0 + 600 * US);
		CHECK_INT(out.tl[0].role,
			  how == 2 ? HT_ROLE_SERVER : HT_ROLE_CLIENT);
		CHECK_STR(hooks(&out.tl[0]),
			  how == 2 ? "GetConn,TLSHandshakeStart" :
				     "GetConn,ConnectStart,ConnectDone,"
				     "TLSHandshakeStart");
		CHECK_INT(correlator_stats(c)->tls_not_decoded, 1);
		correlator_free(c);
	}
}

/* a hooked library's handshake and nothing else (the client hung up
 * with no request): no request to report, and nothing undecoded */
static void test_tls_hooked_no_request(void)
{
	struct correlator *c = setup(NULL);
	struct cn k = client(c);

	tls_handshake(&k, 0x0304, NULL);
	conn_ev(&k, HT_EV_CLOSE, T0 + 3000 * US, 0, SERVER_ADDR);
	correlator_flush(c);
	CHECK_INT(out.n, 0);
	CHECK_INT(correlator_stats(c)->tls_not_decoded, 0);
	correlator_free(c);
}

/*
 * nghttp -s: SSL_connect succeeds, SSL_get_verify_result says
 * self-signed (nghttp warns and goes on), and the server's SETTINGS are
 * read before the client's preface is written, so no HTTP/1 request is
 * ever parsed. Application data moved: the client did not reject the
 * certificate, and no failed handshake may be reported. Likewise with
 * --max-capture 0: plaintext calls move bytes, none captured.
 */
static void test_tls_verify_ignored_no_http1(void)
{
	static const char settings[] = "\x00\x00\x06\x04\x00\x00\x00\x00\x00"
				       "\x00\x03\x00\x00\x00\x64";
	static const char preface[] =
		"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x12\x04";

	for (int capture0 = 0; capture0 < 2; capture0++) {
		struct correlator *c = setup(NULL);
		struct cn k = client(c);
		struct rec r;
		struct ht_data_event *ev = (void *)r.buf;
		int i;

		tls_handshake(&k, 0x0304, "h2,http/1.1");
		tls_call(&k, T0 + 910 * US, T0 + 920 * US, 18, HT_TLS_OPENSSL,
			 HT_TLS_OP_VERIFY);
		if (capture0) {
			for (i = 0; i < 2; i++) {
				mk_data(&r, &k,
					i ? HT_DIR_INGRESS : HT_DIR_EGRESS,
					T0 + (1000 + 900 * i) * US,
					T0 + (1050 + 900 * i) * US, "", 0,
					i ? 38 : 46);
				ev->hdr.type = HT_EV_TLS_DATA;
				ev->call = HT_TLS_OPENSSL;
				push(c, &r);
			}
		} else {
			tls_io(&k, HT_DIR_INGRESS, T0 + 950 * US, T0 + 990 * US,
			       settings, HT_TLS_OPENSSL);
			tls_io(&k, HT_DIR_EGRESS, T0 + 1000 * US,
			       T0 + 1050 * US, preface, HT_TLS_OPENSSL);
		}
		conn_ev(&k, HT_EV_CLOSE, T0 + 3000 * US, 0, SERVER_ADDR);
		correlator_flush(c);
		for (i = 0; i < out.n && i < MAX_TL; i++) {
			CHECK_STR(out.tl[i].tls.error, "");
			CHECK(!strstr(out.tl[i].error, "handshake failed"));
		}
		/* the server's SETTINGS first do not hide the HTTP/2
		 * connection that the preface shows */
		if (!capture0) {
			CHECK_INT(out.n, 1);
			CHECK_STR(out.tl[0].version, "HTTP/2");
			CHECK_STR(out.tl[0].error, "");
		}
		CHECK_INT(correlator_stats(c)->tls_not_decoded, 0);
		correlator_free(c);
	}
}

static void check_failed_handshake(const struct timeline *tl,
				   const char *error)
{
	CHECK_STR(tl->error, error);
	CHECK_STR(tl->tls.error, error);
	CHECK_INT(tl->error_kind, TL_ERR_TLS_FAILURE);
	CHECK_STR(hooks(tl), "GetConn,ConnectStart,ConnectDone,"
			     "TLSHandshakeStart,TLSHandshakeDone");
	CHECK(hook_ev(tl, TL_TLSHandshakeDone) &&
	      hook_ev(tl, TL_TLSHandshakeDone)->err != 0);
	CHECK_STR(tl->method, "");
	CHECK_INT(tl->status, 0);
	CHECK(tl->complete);
	CHECK(tl->phase_us[TL_PHASE_TLS] > 0);
}

/* TLS 1.2: the client's alert is in the clear */
static void test_tls_fail_alert(void)
{
	struct correlator *c = setup(NULL);
	struct cn k = client(c);
	struct tbuf ch, sh, al;

	connected(&k);
	tls_client_hello(&ch, "example.com", NULL);
	tls_server_hello(&sh, 0x0303, 0xc02f, NULL);
	tls_alert(&al, 2, 48);
	tls_raw(&k, HT_DIR_EGRESS, T0 + 210 * US, T0 + 220 * US, &ch);
	tls_call(&k, T0 + 200 * US, T0 + 230 * US, -1, HT_TLS_OPENSSL,
		 HT_TLS_OP_HANDSHAKE);
	tls_raw(&k, HT_DIR_INGRESS, T0 + 500 * US, T0 + 600 * US, &sh);
	tls_raw(&k, HT_DIR_EGRESS, T0 + 700 * US, T0 + 710 * US, &al);
	tls_call(&k, T0 + 480 * US, T0 + 720 * US, -1, HT_TLS_OPENSSL,
		 HT_TLS_OP_HANDSHAKE);
	conn_ev(&k, HT_EV_CLOSE, T0 + 800 * US, 0, SERVER_ADDR);
	settle(c);
	CHECK_INT(out.n, 1);
	check_failed_handshake(&out.tl[0],
			       "tls: handshake failed: sent alert unknown_ca");
	CHECK_INT(hook_ts(&out.tl[0], TL_TLSHandshakeDone), T0 + 800 * US);
	CHECK_STR(out.tl[0].tls.version, "TLSv1.2");
	correlator_free(c);
}

/* the verify result the client read says why */
static void test_tls_fail_verify(void)
{
	struct correlator *c = setup(NULL);
	struct cn k = client(c);
	struct tbuf ch;

	connected(&k);
	tls_client_hello(&ch, "example.com", NULL);
	tls_raw(&k, HT_DIR_EGRESS, T0 + 210 * US, T0 + 220 * US, &ch);
	tls_call(&k, T0 + 200 * US, T0 + 700 * US, -1, HT_TLS_OPENSSL,
		 HT_TLS_OP_HANDSHAKE);
	tls_call(&k, T0 + 710 * US, T0 + 720 * US, 18, HT_TLS_OPENSSL,
		 HT_TLS_OP_VERIFY);
	conn_ev(&k, HT_EV_CLOSE, T0 + 800 * US, 0, SERVER_ADDR);
	settle(c);
	CHECK_INT(out.n, 1);
	check_failed_handshake(&out.tl[0],
			       "tls: handshake failed: certificate verify "
			       "failed: self-signed certificate");
	correlator_free(c);
}

/* Two names of the server's address, and a handshake that fails before
 * any request: the SNI names the lookup. */
static void test_dns_same_address_sni(void)
{
	struct correlator *c = setup(NULL);
	struct cn k = client(c);
	struct ht_addr answer = SERVER_ADDR;
	struct tbuf ch;

	dns_svc(c, 100, 101, T0 - 3 * MS, T0 - 2 * MS, "example.com", "80", 0,
		&answer, 1);
	dns_svc(c, 100, 102, T0 - 3 * MS, T0 - 1 * MS, "other.test", "80", 0,
		&answer, 1);
	connected(&k);
	tls_client_hello(&ch, "example.com", NULL);
	tls_raw(&k, HT_DIR_EGRESS, T0 + 210 * US, T0 + 220 * US, &ch);
	tls_call(&k, T0 + 200 * US, T0 + 700 * US, -1, HT_TLS_OPENSSL,
		 HT_TLS_OP_HANDSHAKE);
	tls_call(&k, T0 + 710 * US, T0 + 720 * US, 18, HT_TLS_OPENSSL,
		 HT_TLS_OP_VERIFY);
	conn_ev(&k, HT_EV_CLOSE, T0 + 800 * US, 0, SERVER_ADDR);
	settle(c);
	CHECK_INT(out.n, 1);
	CHECK_STR(hook_host(&out.tl[0], TL_DNSStart), "example.com");
	CHECK_INT(out.tl[0].start_ns, T0 - 3 * MS);
	CHECK_INT(out.tl[0].phase_us[TL_PHASE_DNS], 1000);
	correlator_free(c);
}

/* GnuTLS says at once: no need to wait for the close */
static void test_tls_fail_gnutls(void)
{
	struct correlator *c = setup(NULL);
	struct cn k = client(c);
	struct tbuf ch;

	connected(&k);
	tls_client_hello(&ch, "example.com", NULL);
	tls_raw(&k, HT_DIR_EGRESS, T0 + 210 * US, T0 + 220 * US, &ch);
	tls_call(&k, T0 + 200 * US, T0 + 300 * US, -28, HT_TLS_GNUTLS,
		 HT_TLS_OP_HANDSHAKE);
	tls_call(&k, T0 + 400 * US, T0 + 600 * US, -12, HT_TLS_GNUTLS,
		 HT_TLS_OP_HANDSHAKE);
	settle(c);
	CHECK_INT(out.n, 1);
	check_failed_handshake(&out.tl[0],
			       "tls: handshake failed: a TLS fatal alert has "
			       "been received");
	CHECK_STR(out.tl[0].tls.lib, "gnutls");
	CHECK_INT(hook_ts(&out.tl[0], TL_TLSHandshakeDone), T0 + 600 * US);
	/* the close adds nothing */
	conn_ev(&k, HT_EV_CLOSE, T0 + 800 * US, 0, SERVER_ADDR);
	correlator_flush(c);
	CHECK_INT(out.n, 1);
	correlator_free(c);
}

/* GnuTLS leaves the certificate to the caller (wget): gnutls_handshake
 * returns 0, gnutls_certificate_verify_peers2 says "issuer unknown"
 * (INVALID | SIGNER_NOT_FOUND), the client closes without a request:
 * a failed handshake all the same, said as it happened. A good verdict
 * and the same close: nothing to report (no request). */
static void test_tls_gnutls_rejected_after_handshake(void)
{
	for (int bad = 0; bad < 2; bad++) {
		struct correlator *c = setup(NULL);
		struct cn k = client(c);
		struct tbuf ch;

		connected(&k);
		tls_client_hello(&ch, "example.com", NULL);
		tls_raw(&k, HT_DIR_EGRESS, T0 + 210 * US, T0 + 220 * US, &ch);
		tls_call(&k, T0 + 200 * US, T0 + 600 * US, 0, HT_TLS_GNUTLS,
			 HT_TLS_OP_HANDSHAKE);
		tls_call(&k, T0 + 610 * US, T0 + 620 * US, bad ? 0x42 : 0,
			 HT_TLS_GNUTLS, HT_TLS_OP_VERIFY);
		conn_ev(&k, HT_EV_CLOSE, T0 + 800 * US, 0, SERVER_ADDR);
		settle(c);
		CHECK_INT(out.n, bad ? 1 : 0);
		if (bad) {
			check_failed_handshake(
				&out.tl[0],
				"tls: handshake failed: certificate verify "
				"failed: issuer unknown (checked after the "
				"handshake)");
			CHECK_STR(out.tl[0].tls.lib, "gnutls");
			CHECK_INT(hook_ts(&out.tl[0], TL_TLSHandshakeStart),
				  T0 + 200 * US);
			CHECK_INT(hook_ts(&out.tl[0], TL_TLSHandshakeDone),
				  T0 + 800 * US);
		}
		correlator_free(c);
	}
}

/* a bad verdict that the client goes past: the request is reported as
 * usual, not a failed handshake */
static void test_tls_gnutls_verify_ignored(void)
{
	struct correlator *c = setup(NULL);
	struct cn k = client(c);

	connected(&k);
	tls_call(&k, T0 + 200 * US, T0 + 600 * US, 0, HT_TLS_GNUTLS,
		 HT_TLS_OP_HANDSHAKE);
	tls_call(&k, T0 + 610 * US, T0 + 620 * US, 0x42, HT_TLS_GNUTLS,
		 HT_TLS_OP_VERIFY);
	tls_io(&k, HT_DIR_EGRESS, T0 + 1000 * US, T0 + 1050 * US, GET_REQ,
	       HT_TLS_GNUTLS);
	tls_io(&k, HT_DIR_INGRESS, T0 + 1890 * US, T0 + 2010 * US, OK_RESP,
	       HT_TLS_GNUTLS);
	conn_ev(&k, HT_EV_CLOSE, T0 + 3000 * US, 0, SERVER_ADDR);
	settle(c);
	CHECK_INT(out.n, 1);
	CHECK_STR(out.tl[0].error, "");
	CHECK_INT(out.tl[0].status, 200);
	correlator_free(c);
}

/* a successful GnuTLS handshake returns 0 */
static void test_tls_gnutls_ok(void)
{
	struct correlator *c = setup(NULL);
	struct cn k = client(c);

	connected(&k);
	tls_call(&k, T0 + 200 * US, T0 + 300 * US, -28, HT_TLS_GNUTLS,
		 HT_TLS_OP_HANDSHAKE);
	tls_call(&k, T0 + 400 * US, T0 + 600 * US, 0, HT_TLS_GNUTLS,
		 HT_TLS_OP_HANDSHAKE);
	tls_io(&k, HT_DIR_EGRESS, T0 + 1000 * US, T0 + 1050 * US, GET_REQ,
	       HT_TLS_GNUTLS);
	tls_io(&k, HT_DIR_INGRESS, T0 + 1890 * US, T0 + 2010 * US, OK_RESP,
	       HT_TLS_GNUTLS);
	settle(c);
	CHECK_INT(out.n, 1);
	CHECK_INT(out.tl[0].status, 200);
	CHECK_INT(hook_ts(&out.tl[0], TL_TLSHandshakeStart), T0 + 200 * US);
	CHECK_INT(hook_ts(&out.tl[0], TL_TLSHandshakeDone), T0 + 600 * US);
	CHECK_STR(out.tl[0].tls.lib, "gnutls");
	CHECK_STR(out.tl[0].error, "");
	correlator_free(c);
}

/* h2 negotiated: one line, HTTP/2, its frames not parsed */
static void test_tls_h2(void)
{
	struct correlator *c = setup(NULL);
	struct cn k = client(c);
	static const char preface[] =
		"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x12\x04";

	tls_handshake(&k, 0x0304, "h2,http/1.1");
	tls_io(&k, HT_DIR_EGRESS, T0 + 1000 * US, T0 + 1050 * US, preface,
	       HT_TLS_OPENSSL);
	tls_io(&k, HT_DIR_INGRESS, T0 + 1890 * US, T0 + 2010 * US,
	       "\x00\x00\x06\x04", HT_TLS_OPENSSL);
	conn_ev(&k, HT_EV_CLOSE, T0 + 3000 * US, 0, SERVER_ADDR);
	correlator_flush(c);
	CHECK_INT(out.n, 1);
	CHECK_STR(out.tl[0].version, "HTTP/2");
	/* TLS 1.3: from the plaintext, and said to be */
	CHECK_STR(out.tl[0].tls.alpn, "h2");
	CHECK(out.tl[0].tls.alpn_inferred);
	CHECK_STR(out.tl[0].error, "");
	correlator_free(c);
}

/* A handshake record whose entry lies after its return (any bytes can
 * come in a record), then the stream ends before that entry: the
 * handshake must not end before it starts (found by fuzz_correlator). */
static void test_tls_handshake_never_backwards(void)
{
	struct correlator *c = setup(NULL);
	struct cn k = client(c);

	connected(&k);
	tls_call(&k, T0 + 900 * US, T0 + 300 * US, -1, HT_TLS_OPENSSL,
		 HT_TLS_OP_HANDSHAKE);
	conn_ev(&k, HT_EV_CLOSE, T0 + 500 * US, 0, SERVER_ADDR);
	settle(c);
	CHECK_INT(out.n, 1);
	CHECK_INT(hook_ts(&out.tl[0], TL_TLSHandshakeStart), T0 + 300 * US);
	CHECK(hook_ts(&out.tl[0], TL_TLSHandshakeDone) >=
	      hook_ts(&out.tl[0], TL_TLSHandshakeStart));
	correlator_free(c);
}

/* Node: no handshake call at all; the handshake goes through the socket
 * from the event loop (memory BIOs), before the first SSL_write. Start is
 * the ClientHello's write, Done the return of the last socket I/O before
 * that SSL_write (not its entry: Node's callbacks run in between). */
static void test_tls_handshake_from_wire(void)
{
	struct correlator *c = setup(NULL);
	struct cn k = client(c);
	const struct timeline *tl = &out.tl[0];
	struct tbuf ch, sh, fin, ct;

	connected(&k);
	tls_client_hello(&ch, "example.com", NULL);
	tls_server_hello(&sh, 0x0304, 0x1301, NULL);
	tls_appdata(&fin, 53);
	tls_appdata(&ct, 80);
	tls_raw(&k, HT_DIR_EGRESS, T0 + 200 * US, T0 + 220 * US, &ch);
	tls_raw(&k, HT_DIR_INGRESS, T0 + 300 * US, T0 + 600 * US, &sh);
	tls_raw(&k, HT_DIR_EGRESS, T0 + 650 * US, T0 + 700 * US, &fin);
	tls_io(&k, HT_DIR_EGRESS, T0 + 1000 * US, T0 + 1050 * US, GET_REQ,
	       HT_TLS_OPENSSL);
	tls_raw(&k, HT_DIR_EGRESS, T0 + 1060 * US, T0 + 1070 * US, &ct);
	tls_raw(&k, HT_DIR_INGRESS, T0 + 1800 * US, T0 + 1900 * US, &ct);
	tls_io(&k, HT_DIR_INGRESS, T0 + 1910 * US, T0 + 1950 * US, OK_RESP,
	       HT_TLS_OPENSSL);
	settle(c);
	CHECK_INT(out.n, 1);
	CHECK_STR(hooks(tl), "GetConn,ConnectStart,ConnectDone,"
			     "TLSHandshakeStart,TLSHandshakeDone,GotConn,"
			     "WroteHeaders,WroteRequest,GotFirstResponseByte,"
			     "PutIdleConn");
	CHECK_INT(hook_ts(tl, TL_TLSHandshakeStart), T0 + 200 * US);
	CHECK_INT(hook_ts(tl, TL_TLSHandshakeDone), T0 + 700 * US);
	CHECK_INT(tl->phase_us[TL_PHASE_TLS], 600);
	CHECK_STR(tl->tls.version, "TLSv1.3");
	CHECK(tl->complete);
	correlator_free(c);
}

/* A program that calls SSL_write straight away: the handshake happens
 * inside it. Done is the entry of the call's last socket write (the
 * request's own records), and the send phase starts there. */
static void test_tls_handshake_inside_write(void)
{
	struct correlator *c = setup(NULL);
	struct cn k = client(c);
	const struct timeline *tl = &out.tl[0];
	struct tbuf ch, sh, ct;

	connected(&k);
	tls_client_hello(&ch, "example.com", NULL);
	tls_server_hello(&sh, 0x0304, 0x1301, NULL);
	tls_appdata(&ct, 80);
	tls_raw(&k, HT_DIR_EGRESS, T0 + 210 * US, T0 + 220 * US, &ch);
	tls_raw(&k, HT_DIR_INGRESS, T0 + 230 * US, T0 + 600 * US, &sh);
	tls_raw(&k, HT_DIR_EGRESS, T0 + 1000 * US, T0 + 1040 * US, &ct);
	tls_io(&k, HT_DIR_EGRESS, T0 + 200 * US, T0 + 1050 * US, GET_REQ,
	       HT_TLS_OPENSSL);
	tls_raw(&k, HT_DIR_INGRESS, T0 + 1800 * US, T0 + 1900 * US, &ct);
	tls_io(&k, HT_DIR_INGRESS, T0 + 1790 * US, T0 + 1950 * US, OK_RESP,
	       HT_TLS_OPENSSL);
	settle(c);
	CHECK_INT(out.n, 1);
	CHECK_INT(hook_ts(tl, TL_TLSHandshakeStart), T0 + 210 * US);
	CHECK_INT(hook_ts(tl, TL_TLSHandshakeDone), T0 + 1000 * US);
	CHECK_INT(hook_ts(tl, TL_GotConn), T0 + 1000 * US);
	CHECK_INT(tl->phase_us[TL_PHASE_SEND], 50);
	CHECK(tl->complete);
	correlator_free(c);
}

/* npm over TLS with its first request unseen (Node wrote it inside
 * the SSL_read that ended the handshake, which the BPF side did not
 * record): the first response is reported as such, and neither it nor
 * the next request gets a tls phase that runs from the ClientHello to
 * the first response. */
/* An HTTP/2 client over TLS that makes no handshake call (Node) reads
 * the server's SETTINGS frame before it writes its preface: that frame
 * ends the handshake, it is no response to an unseen request */
static void test_tls_h2_settings_first(void)
{
	struct correlator *c = setup(NULL);
	struct cn k = client(c);
	const struct timeline *tl = &out.tl[0];
	struct tbuf ch, sh, fin, ct;
	struct rec r;
	struct ht_data_event *ev = (void *)r.buf;

	k.comm = "node";
	connected(&k);
	tls_client_hello(&ch, "example.com", "h2");
	tls_server_hello(&sh, 0x0304, 0x1301, NULL);
	tls_appdata(&fin, 53);
	tls_appdata(&ct, 80);
	tls_raw(&k, HT_DIR_EGRESS, T0 + 200 * US, T0 + 220 * US, &ch);
	tls_raw(&k, HT_DIR_INGRESS, T0 + 300 * US, T0 + 600 * US, &sh);
	tls_raw(&k, HT_DIR_EGRESS, T0 + 650 * US, T0 + 700 * US, &fin);
	tls_raw(&k, HT_DIR_INGRESS, T0 + 800 * US, T0 + 900 * US, &ct);
	mk_data(&r, &k, HT_DIR_INGRESS, T0 + 950 * US, T0 + 1000 * US,
		H2_SETTINGS, H2_SETTINGS_LEN, H2_SETTINGS_LEN);
	ev->hdr.type = HT_EV_TLS_DATA;
	ev->call = HT_TLS_OPENSSL;
	push(c, &r);
	mk_data(&r, &k, HT_DIR_EGRESS, T0 + 1100 * US, T0 + 1150 * US,
		H2_PREFACE, H2_PREFACE_LEN, H2_PREFACE_LEN);
	ev->hdr.type = HT_EV_TLS_DATA;
	ev->call = HT_TLS_OPENSSL;
	push(c, &r);
	conn_ev(&k, HT_EV_CLOSE, T0 + 3000 * US, 0, SERVER_ADDR);
	correlator_flush(c);
	CHECK_INT(out.n, 1);
	CHECK_STR(tl->version, "HTTP/2");
	CHECK_STR(tl->error, "");
	CHECK(tl->complete);
	CHECK_INT(hook_ts(tl, TL_TLSHandshakeStart), T0 + 200 * US);
	CHECK_INT(hook_ts(tl, TL_TLSHandshakeDone), T0 + 900 * US);
	CHECK_INT(tl->phase_us[TL_PHASE_TLS], 800);
	CHECK_STR(tl->tls.alpn, "h2");
	CHECK_INT(tl->request_bytes, H2_PREFACE_LEN);
	CHECK_INT(tl->response_bytes, H2_SETTINGS_LEN);
	correlator_free(c);
}

static void test_tls_response_without_request(void)
{
	struct correlator *c = setup(NULL);
	struct cn k = client(c);
	const struct timeline *tl = &out.tl[0];
	struct tbuf ch, sh, fin, ct;

	k.comm = "npm";
	connected(&k);
	tls_client_hello(&ch, "example.com", NULL);
	tls_server_hello(&sh, 0x0304, 0x1301, NULL);
	tls_appdata(&fin, 53);
	tls_appdata(&ct, 80);
	tls_raw(&k, HT_DIR_EGRESS, T0 + 200 * US, T0 + 220 * US, &ch);
	tls_raw(&k, HT_DIR_INGRESS, T0 + 300 * US, T0 + 600 * US, &sh);
	tls_raw(&k, HT_DIR_EGRESS, T0 + 650 * US, T0 + 700 * US, &fin);
	/* the request's records go out; its plaintext was not seen */
	tls_raw(&k, HT_DIR_EGRESS, T0 + 710 * US, T0 + 720 * US, &ct);
	tls_raw(&k, HT_DIR_INGRESS, T0 + 158000 * US, T0 + 158100 * US, &ct);
	tls_io(&k, HT_DIR_INGRESS, T0 + 158200 * US, T0 + 158300 * US,
	       OK_RESP, HT_TLS_OPENSSL);
	tls_io(&k, HT_DIR_EGRESS, T0 + 159000 * US, T0 + 159050 * US, GET_REQ,
	       HT_TLS_OPENSSL);
	tls_raw(&k, HT_DIR_EGRESS, T0 + 159060 * US, T0 + 159070 * US, &ct);
	tls_raw(&k, HT_DIR_INGRESS, T0 + 159800 * US, T0 + 159900 * US, &ct);
	tls_io(&k, HT_DIR_INGRESS, T0 + 159910 * US, T0 + 159950 * US,
	       OK_RESP, HT_TLS_OPENSSL);
	settle(c);
	CHECK_INT(out.n, 2);
	CHECK(!tl->complete);
	CHECK_STR(tl->error, "request not seen");
	CHECK_STR(tl->comm, "npm");
	CHECK_INT(tl->status, 200);
	CHECK_INT(tl->phase_us[TL_PHASE_TLS], -1);
	CHECK(hook_ev(tl, TL_TLSHandshakeDone) == NULL);
	CHECK(tl->tls.seen);
	CHECK_STR(tl->tls.version, "TLSv1.3");
	CHECK_STR(out.tl[1].method, "GET");
	CHECK_INT(out.tl[1].status, 200);
	CHECK(out.tl[1].complete);
	CHECK(out.tl[1].reused);
	CHECK_INT(out.tl[1].phase_us[TL_PHASE_TLS], -1);
	CHECK_STR(hooks(&out.tl[1]), "GetConn,GotConn,WroteHeaders,"
				     "WroteRequest,GotFirstResponseByte,"
				     "PutIdleConn");
	correlator_free(c);
}

/* malformed TLS records are refused */
static void test_tls_bad_records(void)
{
	struct correlator *c = setup(NULL);
	struct cn k = client(c);
	struct rec r;
	struct ht_tls_event *ev = (void *)r.buf;
	struct ht_data_event *dev;

	memset(r.buf, 0, sizeof(*ev));
	mk_hdr(&ev->hdr, HT_EV_TLS, 1, 1, T0, "x");
	ev->lib = HT_TLS_LIB_COUNT;
	CHECK_INT(correlator_push(c, r.buf, sizeof(*ev)), -EINVAL);
	ev->lib = HT_TLS_OPENSSL;
	ev->op = 7;
	CHECK_INT(correlator_push(c, r.buf, sizeof(*ev)), -EINVAL);
	CHECK_INT(correlator_push(c, r.buf, sizeof(*ev) - 1), -EINVAL);
	mk_data(&r, &k, HT_DIR_EGRESS, T0, T0, "x", 1, 1);
	dev = (struct ht_data_event *)r.buf;
	dev->hdr.type = HT_EV_TLS_DATA;
	dev->call = 200;
	CHECK_INT(correlator_push(c, r.buf, r.size), -EINVAL);
	CHECK_INT(correlator_stats(c)->bad_records, 4);
	correlator_free(c);
}

/* every timeline of every test before, whatever its shape; a RUN of
 * its own so that a failure counts */
static void test_every_timeline_above(void)
{
	CHECK_INT(phase_sum_failures, 0);
	CHECK_INT(error_kind_failures, 0);
}

int main(int argc, char **argv)
{
	unit_args(argc, argv);
	RUN(test_reorder_buffer);
	RUN(test_single_request);
	RUN(test_container);
	RUN(test_out_of_order);
	RUN(test_dns_helper_thread);
	RUN(test_dns_failure);
	RUN(test_dns_parallel_ports);
	RUN(test_dns_port_must_fit);
	RUN(test_dns_same_port_hosts);
	RUN(test_dns_same_address_hosts);
	RUN(test_dns_same_address_unknown_host);
	RUN(test_dns_same_address_sni);
	RUN(test_dns_next_address);
	RUN(test_connect_refused);
	RUN(test_keep_alive);
	RUN(test_pipelined);
	RUN(test_seq_gap);
	RUN(test_seq_before_time);
	RUN(test_seq_gap_not_in_buffer);
	RUN(test_seq_gap_unnumbered);
	RUN(test_unnumbered_no_loss);
	RUN(test_seq_gap_pipelined);
	RUN(test_server_accept_lost);
	RUN(test_garbage_after_exchange);
	RUN(test_garbage_then_request);
	RUN(test_memory_after_closes);
	RUN(test_fd_reuse);
	RUN(test_stale_generation);
	RUN(test_graves_after_many_closes);
	RUN(test_process_exit);
	RUN(test_connection_reset);
	RUN(test_eof_before_response);
	RUN(test_close_delimited);
	RUN(test_head);
	RUN(test_100_continue);
	RUN(test_capture_gap_in_body);
	RUN(test_framing_lost);
	RUN(test_not_http);
	RUN(test_h2_server_speaks_first);
	RUN(test_h2_client_reads_settings_first);
	RUN(test_h2_settings_tells_role);
	RUN(test_h2_settings_strict);
	RUN(test_h2_exit_and_reset);
	RUN(test_http2_preface);
	RUN(test_server_role);
	RUN(test_unknown_conn_guess);
	RUN(test_flush_pending);
	RUN(test_note_lost);
	RUN(test_bad_records);
	RUN(test_bounds);
	RUN(test_connect_tunnel);
	RUN(test_pipeline_overflow);
	RUN(test_connect_done_as_process_sees_it);
	RUN(test_refused_names_owner);
	RUN(test_request_headers_beyond_capture);
	RUN(test_client_closes_first);
	RUN(test_response_without_request);
	RUN(test_tls_get);
	RUN(test_tls_keepalive);
	RUN(test_tls_raw_never_parsed);
	RUN(test_tls_not_decoded);
	RUN(test_tls_not_decoded_ends);
	RUN(test_tls_hooked_no_request);
	RUN(test_tls_verify_ignored_no_http1);
	RUN(test_tls_fail_alert);
	RUN(test_tls_fail_verify);
	RUN(test_tls_fail_gnutls);
	RUN(test_tls_gnutls_ok);
	RUN(test_tls_gnutls_rejected_after_handshake);
	RUN(test_tls_gnutls_verify_ignored);
	RUN(test_tls_h2);
	RUN(test_tls_h2_settings_first);
	RUN(test_tls_bad_records);
	RUN(test_tls_handshake_never_backwards);
	RUN(test_tls_handshake_from_wire);
	RUN(test_tls_handshake_inside_write);
	RUN(test_tls_response_without_request);
	RUN(test_idle_where_it_happened);
	RUN(test_every_timeline_above);
	return unit_done("correlator");
}
