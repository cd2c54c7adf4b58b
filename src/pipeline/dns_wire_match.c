// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * DNS from the wire (HT_EV_DNS_WIRE): a process's queries and answers on
 * port 53 made into lookups, which then serve connects as getaddrinfo's
 * results do (dns_match.c), or show as failed lookups.
 *
 * A lookup: the queries of one process for one name, whatever their
 * type (A and AAAA, asked together or one after the other) and search
 * domain (name.search1, name.search2, name: all start with the same
 * first label), and the resends of a query: one that got no answer, or
 * a truncated one (TC: Go asks again over TCP, with the same id). A
 * resend joins its query's lookup, and the query waits again; another
 * query joins the open lookup of its name. A lookup is closed once it
 * has addresses and no query waits. An answer is matched to its query
 * by {id, name, type}.
 *
 * It succeeds with the first answer that has addresses: a dns_result
 * goes into the process's ring then (before the connect it serves is
 * processed), and later answers of the lookup add their addresses and
 * move its end. It fails when every query was answered without an
 * address and no other query followed within DNS_WIRE_GRACE_NS (the
 * next search domain would), or when a query waited DNS_WIRE_TIMEOUT_NS
 * without an answer, or when the process exited with a query waiting:
 * then a failed-lookup timeline, as for a failed getaddrinfo.
 *
 * glibc's getaddrinfo sends its queries itself: when its HT_EV_DNS
 * (which comes at its return, after the answers) covers a lookup of
 * the same process and name in time, the wire lookup is dropped, its
 * dns_result taken back: one dns phase, getaddrinfo's.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* EAI_NODATA */
#endif
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pipeline/conn.h"
#include "proto/dns/dns_wire.h"
#include "timeline/timeline_build.h"

#define DNS_WIRE_LOOKUPS 8      /* open lookups per process */
#define DNS_WIRE_QUERIES 8      /* queries per lookup */
#define DNS_WIRE_TCP_STREAMS 4  /* TCP sockets cut into messages */
/* the next search domain is asked right after an answer */
#define DNS_WIRE_GRACE_NS (100ull * 1000 * 1000)
/* resolv.conf's default timeout: an answer later than this is given up */
#define DNS_WIRE_TIMEOUT_NS (5ull * 1000 * 1000 * 1000)

struct dns_wire_query {
	uint16_t id, qtype;
	bool answered;
	uint8_t rcode;
	uint64_t sent_ns;
	char qname[HT_DNS_HOST_LEN];
};

struct dns_wire_lookup {
	bool open;
	bool ok;         /* an answer had addresses */
	uint8_t rcode;   /* the last error answer's */
	bool any_answer;
	uint32_t tid;
	uint32_t serial; /* ties it to its dns_result */
	uint64_t first_ns, last_query_ns, last_answer_ns;
	uint32_t n_q;
	struct dns_wire_query q[DNS_WIRE_QUERIES];
	char comm[HT_COMM_LEN];
};

/* A TCP socket's next message, when its length came alone */
struct dns_wire_tcp {
	int32_t fd;
	uint64_t gen;
	uint8_t dir;
	uint16_t want; /* 0: free */
};

struct dns_wire_state {
	struct dns_wire_lookup l[DNS_WIRE_LOOKUPS];
	struct dns_wire_tcp tcp[DNS_WIRE_TCP_STREAMS];
};

static bool same_first_label(const char *a, const char *b)
{
	size_t la = strcspn(a, "."), lb = strcspn(b, ".");

	return la && la == lb && strncasecmp(a, b, la) == 0;
}

static bool lookup_waits(const struct dns_wire_lookup *l)
{
	for (uint32_t i = 0; i < l->n_q; i++)
		if (!l->q[i].answered)
			return true;
	return false;
}

/* The name to show: the shortest asked (the name without a search
 * domain) or, once it succeeded, the one that did. */
static const char *lookup_name(const struct dns_wire_lookup *l)
{
	const char *best = l->n_q ? l->q[0].qname : "";

	for (uint32_t i = 1; i < l->n_q; i++)
		if (strlen(l->q[i].qname) < strlen(best))
			best = l->q[i].qname;
	return best;
}

static struct dns_wire_state *wire_state(struct correlator *c,
					 struct proc *p)
{
	if (!p->wire) {
		p->wire = calloc(1, sizeof(*p->wire));
		if (p->wire)
			held(c, sizeof(*p->wire));
	}
	return p->wire;
}

static void wire_state_free_if_idle(struct correlator *c, struct proc *p)
{
	if (!p->wire)
		return;
	for (int i = 0; i < DNS_WIRE_LOOKUPS; i++)
		if (p->wire->l[i].open)
			return;
	for (int i = 0; i < DNS_WIRE_TCP_STREAMS; i++)
		if (p->wire->tcp[i].want)
			return;
	free(p->wire);
	p->wire = NULL;
	released(c, sizeof(struct dns_wire_state));
}

void dns_wire_free(struct correlator *c, struct proc *p)
{
	if (!p->wire)
		return;
	free(p->wire);
	p->wire = NULL;
	released(c, sizeof(struct dns_wire_state));
}

/* The ring slot holding l's dns_result, or NULL. */
static struct dns_result *lookup_result(struct correlator *c, struct proc *p,
					const struct dns_wire_lookup *l)
{
	if (!p->dns)
		return NULL;
	for (uint32_t i = 0; i < c->cfg.dns_per_proc; i++) {
		struct dns_result *d = dns_ring_slot(c, p, i);

		if (d->valid && d->wire && d->wire_serial == l->serial)
			return d;
	}
	return NULL;
}

static void add_addrs(struct dns_result *d, const struct dns_wire_msg *m)
{
	for (uint32_t k = 0; k < m->n_addrs; k++) {
		bool dup = false;

		for (uint32_t j = 0; j < d->n_addrs; j++)
			if (d->addrs[j].family == m->addrs[k].family &&
			    !memcmp(d->addrs[j].addr, m->addrs[k].addr, 16))
				dup = true;
		if (!dup && d->n_addrs < HT_DNS_MAX_ADDRS)
			d->addrs[d->n_addrs++] = m->addrs[k];
	}
}

/* EAI_* for the timeline (what glibc would say) and the words. */
static void failure_words(const struct dns_wire_lookup *l, bool timed_out,
			  bool exited, int32_t *eai, char *buf, size_t size)
{
	char rc[16];

	if (timed_out || exited || !l->any_answer) {
		*eai = EAI_AGAIN;
		snprintf(buf, size, exited ? "no answer before the process "
					     "exited" :
					     "no answer within %llu s",
			 DNS_WIRE_TIMEOUT_NS / 1000000000ull);
		return;
	}
	switch (l->rcode) {
	case DNS_RCODE_NXDOMAIN:
		*eai = EAI_NONAME;
		snprintf(buf, size, "no such host (NXDOMAIN)");
		break;
	case DNS_RCODE_NOERROR:
		*eai = EAI_NODATA;
		snprintf(buf, size, "no address for the name (NOERROR, no "
				    "A/AAAA)");
		break;
	case DNS_RCODE_SERVFAIL:
		*eai = EAI_AGAIN;
		snprintf(buf, size, "server failure (SERVFAIL)");
		break;
	default:
		*eai = EAI_FAIL;
		snprintf(buf, size, "server answered %s",
			 dns_wire_rcode_name(l->rcode, rc, sizeof(rc)));
		break;
	}
}

/* A failed lookup's timeline, as getaddrinfo's failures show. */
static void report_failure(struct correlator *c, struct proc *p,
			   struct dns_wire_lookup *l, uint64_t end_ns,
			   bool timed_out, bool exited)
{
	struct ht_dns_event ev;
	char words[48];
	int32_t eai;

	memset(&ev, 0, sizeof(ev));
	ev.hdr.type = HT_EV_DNS;
	ev.hdr.tgid = p->tgid;
	ev.hdr.tid = l->tid;
	ev.hdr.ts_ns = end_ns;
	memcpy(ev.hdr.comm, l->comm, sizeof(ev.hdr.comm));
	ev.enter_ns = l->first_ns;
	copy_bounded(ev.host, sizeof(ev.host), lookup_name(l),
		     HT_DNS_HOST_LEN);
	failure_words(l, timed_out, exited, &eai, words, sizeof(words));
	ev.ret = eai;
	tl_build_dns_failed(&c->tl, &ev);
	snprintf(c->tl.error, sizeof(c->tl.error), "lookup %.60s: %s", ev.host,
		 words);
	c->stats.dns_wire_failed++;
	tl_emit(c);
}

enum expiry {
	EXP_TIME,  /* by the clock */
	EXP_EXIT,  /* the process exited: a query waiting failed */
	EXP_FLUSH, /* the tracer stops: only what is known */
};

/* Lookups of p that are over by `now`: failed ones reported, others
 * forgotten. */
static void expire_proc(struct correlator *c, struct proc *p, uint64_t now,
			enum expiry how)
{
	bool exiting = how != EXP_TIME;

	if (!p->wire)
		return;
	for (int i = 0; i < DNS_WIRE_LOOKUPS; i++) {
		struct dns_wire_lookup *l = &p->wire->l[i];
		uint64_t last = max_u64(l->last_query_ns, l->last_answer_ns);

		if (!l->open)
			continue;
		if (l->ok) {
			/* a success served or waits in the ring: a query
			 * left unanswered (AAAA after A) keeps it open, not
			 * past the timeout; so, for the grace, does a
			 * result no connect took (the pair's other query
			 * may still leave: lookup_over()) */
			const struct dns_result *d = lookup_result(c, p, l);
			bool may_join = d && !d->used &&
					now < last + DNS_WIRE_GRACE_NS;

			if (exiting ||
			    (!lookup_waits(l) && !may_join) ||
			    now >= l->last_query_ns + DNS_WIRE_TIMEOUT_NS)
				l->open = false;
			continue;
		}
		if (lookup_waits(l)) {
			if (how == EXP_FLUSH)
				;
			else if (exiting)
				report_failure(c, p, l, now, false, true);
			else if (now >= l->last_query_ns + DNS_WIRE_TIMEOUT_NS)
				report_failure(c, p, l,
					       l->last_query_ns +
						       DNS_WIRE_TIMEOUT_NS,
					       true, false);
			else
				continue;
		} else if (exiting || now >= last + DNS_WIRE_GRACE_NS) {
			report_failure(c, p, l, l->last_answer_ns, false,
				       false);
		} else {
			continue;
		}
		l->open = false;
	}
	wire_state_free_if_idle(c, p);
}

void dns_wire_expire(struct correlator *c, uint64_t now, bool flushing)
{
	struct proc *p, *next;

	for (p = proc_of(lru_table_newest(&c->proc_table)); p; p = next) {
		next = proc_of(lru_table_older(&c->proc_table, &p->node));
		if (!p->wire)
			continue;
		expire_proc(c, p, now, flushing ? EXP_FLUSH : EXP_TIME);
		proc_maybe_free(c, p);
	}
}

void dns_wire_proc_exit(struct correlator *c, struct proc *p, uint64_t ts)
{
	expire_proc(c, p, ts, EXP_EXIT);
	dns_wire_free(c, p);
}

/* l's query that m asks or answers ({id, name, type}), or NULL */
static struct dns_wire_query *lookup_query(struct dns_wire_lookup *l,
					   const struct dns_wire_msg *m)
{
	for (uint32_t k = 0; k < l->n_q; k++)
		if (l->q[k].id == m->id && l->q[k].qtype == m->qtype &&
		    !strcasecmp(l->q[k].qname, m->qname))
			return &l->q[k];
	return NULL;
}

static bool lookup_asked(const struct dns_wire_lookup *l,
			 const struct dns_wire_msg *m)
{
	for (uint32_t k = 0; k < l->n_q; k++)
		if (l->q[k].qtype == m->qtype &&
		    !strcasecmp(l->q[k].qname, m->qname))
			return true;
	return false;
}

/*
 * A lookup that has its addresses and waits for nothing is over, but
 * for the other half of its pair: Go asks A and AAAA from two
 * goroutines, and the second query may leave after the first answer.
 * It joins while no connect has taken the result; a query of a type
 * already asked is the next lookup.
 */
static bool lookup_over(struct correlator *c, struct proc *p,
			const struct dns_wire_lookup *l,
			const struct dns_wire_msg *m)
{
	const struct dns_result *d;

	if (!l->ok || lookup_waits(l))
		return false;
	d = lookup_result(c, p, l);
	return !d || d->used || lookup_asked(l, m);
}

static struct dns_wire_lookup *lookup_for_query(struct correlator *c,
						struct proc *p,
						struct dns_wire_state *w,
						const struct dns_wire_msg *m)
{
	struct dns_wire_lookup *free_l = NULL, *oldest = &w->l[0];

	/* a resend (Go's over TCP after a truncated answer: the same id)
	 * is its query's, even in a lookup over for a new query */
	for (int i = 0; i < DNS_WIRE_LOOKUPS; i++)
		if (w->l[i].open && lookup_query(&w->l[i], m))
			return &w->l[i];
	for (int i = 0; i < DNS_WIRE_LOOKUPS; i++) {
		struct dns_wire_lookup *l = &w->l[i];

		if (!l->open) {
			if (!free_l)
				free_l = l;
			continue;
		}
		if (l->first_ns < oldest->first_ns)
			oldest = l;
		if (lookup_over(c, p, l, m))
			continue;
		for (uint32_t k = 0; k < l->n_q; k++)
			if (same_first_label(l->q[k].qname, m->qname))
				return l;
	}
	if (free_l)
		return free_l;
	oldest->open = false; /* the table is full: the oldest goes */
	return oldest;
}

static void on_query(struct correlator *c, struct proc *p,
		     const struct ht_dns_wire_event *ev,
		     const struct dns_wire_msg *m)
{
	struct dns_wire_state *w = wire_state(c, p);
	struct dns_wire_lookup *l;
	struct dns_wire_query *q;
	uint64_t sent = call_entry(ev->enter_ns, ev->hdr.ts_ns);

	if (!w)
		return;
	l = lookup_for_query(c, p, w, m);
	if (!l->open) {
		memset(l, 0, sizeof(*l));
		l->open = true;
		l->serial = ++c->dns_wire_serial;
		l->first_ns = sent;
		l->tid = ev->hdr.tid;
		copy_comm(l->comm, ev->hdr.comm);
	}
	l->last_query_ns = max_u64(l->last_query_ns, sent);
	/* a resend of a query (same id, name and type) is the same query,
	 * which waits again: after a truncated answer, for the TCP one */
	q = lookup_query(l, m);
	if (q) {
		q->answered = false;
		return;
	}
	if (l->n_q >= DNS_WIRE_QUERIES) {
		/* the oldest answered query makes room */
		uint32_t k;

		for (k = 0; k < l->n_q && !l->q[k].answered; k++)
			;
		if (k == l->n_q)
			return;
		memmove(&l->q[k], &l->q[k + 1],
			(l->n_q - k - 1) * sizeof(l->q[0]));
		l->n_q--;
	}
	q = &l->q[l->n_q++];
	memset(q, 0, sizeof(*q));
	q->id = m->id;
	q->qtype = m->qtype;
	q->sent_ns = sent;
	copy_bounded(q->qname, sizeof(q->qname), m->qname, sizeof(m->qname));
}

static void on_answer(struct correlator *c, struct proc *p,
		      const struct ht_dns_wire_event *ev,
		      const struct dns_wire_msg *m)
{
	struct dns_wire_lookup *l = NULL;
	struct dns_wire_query *q = NULL;
	struct dns_result *d;

	for (int i = 0; p->wire && i < DNS_WIRE_LOOKUPS && !q; i++) {
		l = &p->wire->l[i];
		if (l->open)
			q = lookup_query(l, m);
	}
	if (!q) {
		c->stats.dns_wire_unmatched++;
		return;
	}
	q->answered = true;
	q->rcode = m->rcode;
	l->any_answer = true;
	l->last_answer_ns = max_u64(l->last_answer_ns, ev->hdr.ts_ns);
	d = l->ok ? lookup_result(c, p, l) : NULL;
	if (!m->n_addrs) {
		/* the other type's empty answer still ends the lookup */
		if (d && !d->used)
			d->done_ns = max_u64(d->done_ns, ev->hdr.ts_ns);
		if (!l->ok)
			l->rcode = m->rcode;
		return;
	}
	if (!d) {
		if (l->ok) /* served and gone from the ring */
			return;
		d = dns_result_new(c, p);
		if (!d)
			return;
		l->ok = true;
		d->wire = true;
		d->wire_serial = l->serial;
		d->enter_ns = l->first_ns;
		d->tid = l->tid;
		copy_bounded(d->host, sizeof(d->host), m->qname,
			     sizeof(m->qname));
	}
	if (d->used) /* the connect has taken it: a later answer is late */
		return;
	d->done_ns = max_u64(d->done_ns, ev->hdr.ts_ns);
	add_addrs(d, m);
}

/* One message of p, whole or cut by the capture bound. */
static void wire_message(struct correlator *c, struct proc *p,
			 const struct ht_dns_wire_event *ev,
			 const uint8_t *msg, size_t len, bool cut)
{
	struct dns_wire_msg *m = &c->dns_wire_msg;
	int err = dns_wire_parse(msg, len, m);

	if (err == DNS_WIRE_EBAD || (err == DNS_WIRE_ECUT && !cut) ||
	    m->opcode != 0 || m->qclass != 1 ||
	    (m->qtype != DNS_TYPE_A && m->qtype != DNS_TYPE_AAAA)) {
		if (err)
			c->stats.dns_wire_bad++;
		return;
	}
	c->stats.dns_wire_messages++;
	if (ev->direction == HT_DIR_EGRESS && !m->response)
		on_query(c, p, ev, m);
	else if (ev->direction == HT_DIR_INGRESS && m->response)
		on_answer(c, p, ev, m);
}

static struct dns_wire_tcp *tcp_stream(struct dns_wire_state *w,
				       const struct ht_dns_wire_event *ev,
				       bool make)
{
	struct dns_wire_tcp *free_t = NULL;

	for (int i = 0; i < DNS_WIRE_TCP_STREAMS; i++) {
		struct dns_wire_tcp *t = &w->tcp[i];

		if (t->want && t->fd == ev->fd && t->gen == ev->gen &&
		    t->dir == ev->direction)
			return t;
		if (!t->want && !free_t)
			free_t = t;
	}
	if (!make)
		return NULL;
	return free_t ? free_t : &w->tcp[0];
}

/*
 * A TCP call's bytes: messages, each after its 2-byte length. A length
 * read alone (Go reads it first, then the message) is kept for the
 * next call of that socket and direction.
 */
static void wire_tcp(struct correlator *c, struct proc *p,
		     const struct ht_dns_wire_event *ev)
{
	struct dns_wire_state *w = wire_state(c, p);
	const uint8_t *b = ev->data;
	size_t n = ev->captured_len, at = 0;
	struct dns_wire_tcp *t;

	if (!w)
		return;
	t = tcp_stream(w, ev, false);
	if (t) {
		uint16_t want = t->want;

		t->want = 0;
		if (ev->msg_len == want) {
			wire_message(c, p, ev, b, n, n < want);
			return;
		}
	}
	while (at + 2 <= n) {
		uint16_t l = (uint16_t)(b[at] << 8 | b[at + 1]);

		at += 2;
		if (at == ev->msg_len) { /* the length alone */
			t = tcp_stream(w, ev, true);
			t->fd = ev->fd;
			t->gen = ev->gen;
			t->dir = ev->direction;
			t->want = l;
			return;
		}
		if (l < DNS_WIRE_HEADER_LEN)
			return;
		wire_message(c, p, ev, b + at, at + l <= n ? l : n - at,
			     at + l > n);
		at += l;
	}
}

void dns_wire_record(struct correlator *c, const struct ht_dns_wire_event *ev)
{
	struct proc *p = proc_get(c, ev->hdr.tgid);

	if (!p)
		return;
	expire_proc(c, p, ev->hdr.ts_ns, EXP_TIME);
	if (ev->proto == HT_DNS_TCP)
		wire_tcp(c, p, ev);
	else
		wire_message(c, p, ev, ev->data, ev->captured_len,
			     ev->captured_len < ev->msg_len);
	wire_state_free_if_idle(c, p);
	proc_maybe_free(c, p);
}

/*
 * getaddrinfo(host) of p returned (ev): the wire lookups it made itself
 * are its, and go; so do their results in the ring.
 */
void dns_wire_covered(struct correlator *c, struct proc *p,
		      const struct ht_dns_event *ev)
{
	uint64_t enter = call_entry(ev->enter_ns, ev->hdr.ts_ns);
	char host[HT_DNS_HOST_LEN];

	if (!p || !p->wire)
		return;
	copy_bounded(host, sizeof(host), ev->host, sizeof(ev->host));
	for (int i = 0; i < DNS_WIRE_LOOKUPS; i++) {
		struct dns_wire_lookup *l = &p->wire->l[i];
		struct dns_result *d;
		bool named = false;

		if (!l->open || l->first_ns < enter ||
		    l->first_ns > ev->hdr.ts_ns)
			continue;
		for (uint32_t k = 0; k < l->n_q; k++)
			if (same_first_label(l->q[k].qname, host))
				named = true;
		if (!named)
			continue;
		d = lookup_result(c, p, l);
		if (d && !d->used)
			d->valid = false;
		l->open = false;
		c->stats.dns_wire_covered++;
	}
	wire_state_free_if_idle(c, p);
}
