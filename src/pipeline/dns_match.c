// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* DNS results kept per process, and the connect each one served. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "pipeline/conn.h"
#include "proto/tls/tls_handshake.h"
#include "timeline/timeline_build.h"

/* The latest DNS results of a process, oldest overwritten first. */
struct dns_ring {
	uint32_t next; /* slot written next */
	struct dns_result slot[];
};

size_t dns_ring_size(const struct correlator *c)
{
	return sizeof(struct dns_ring) +
	       c->cfg.dns_per_proc * sizeof(((struct dns_ring *)0)->slot[0]);
}

/* The address as 16 bytes, IPv4 as IPv4-mapped IPv6, so that ::ffff:a.b.c.d
 * and a.b.c.d compare equal. False when the family is unknown. */
static bool addr_canon(const struct ht_addr *a, uint8_t out[16])
{
	if (a->family == AF_INET) {
		memset(out, 0, 10);
		out[10] = out[11] = 0xff;
		memcpy(out + 12, a->addr, 4);
		return true;
	}
	if (a->family == AF_INET6) {
		memcpy(out, a->addr, 16);
		return true;
	}
	return false;
}

static bool addr_same_host(const struct ht_addr *a, const struct ht_addr *b)
{
	uint8_t x[16], y[16];

	return addr_canon(a, x) && addr_canon(b, y) && memcmp(x, y, 16) == 0;
}

/* The name a client connection is for: the SNI it sent, else the first
 * request's Host without the port; "" when neither was seen. */
static void conn_name(const struct conn *conn, const struct pending_req *r,
		      char *out, size_t len)
{
	const char *colon;

	out[0] = '\0';
	if (conn->tls && conn->tls->stream[HT_DIR_EGRESS].hello.sni[0]) {
		copy_bounded(out, len, conn->tls->stream[HT_DIR_EGRESS].hello.sni,
			     sizeof(conn->tls->stream[0].hello.sni));
		return;
	}
	if (!r || r->host[0] == '[') /* an address, not a name */
		return;
	copy_bounded(out, len, r->host, sizeof(r->host));
	colon = strchr(out, ':');
	if (colon && !strchr(colon + 1, ':'))
		out[colon - out] = '\0';
}

/* A connect whose lookup was left open (dns_deferred) gets it by name
 * when its first timeline is made; r, when not NULL, is that first
 * request, which then begins with the lookup. */
void dns_bind_deferred(struct correlator *c, struct conn *conn,
		       struct pending_req *r)
{
	char name[H1_HOST_MAX];

	if (!conn->dns_deferred)
		return;
	conn->dns_deferred = false;
	conn_name(conn, r, name, sizeof(name));
	if (!name[0])
		return;
	dns_match(c, conn, name);
	if (conn->has_dns && r && r->first_on_conn &&
	    conn->dns.enter_ns < r->start_ns)
		r->start_ns = conn->dns.enter_ns;
}

static bool dns_ring_live(const struct correlator *c, const struct proc *p)
{
	uint32_t i;

	if (!p->dns)
		return false;
	for (i = 0; i < c->cfg.dns_per_proc; i++)
		if (p->dns->slot[i].valid && !p->dns->slot[i].used)
			return true;
	return false;
}

struct dns_result *dns_ring_slot(struct correlator *c, struct proc *p,
				 uint32_t i)
{
	(void)c;
	return &p->dns->slot[i];
}

/* The next slot of p's ring, zeroed and valid; NULL without memory. */
struct dns_result *dns_result_new(struct correlator *c, struct proc *p)
{
	struct dns_result *d;

	if (!p->dns) {
		p->dns = calloc(1, dns_ring_size(c));
		if (!p->dns)
			return NULL;
		held(c, dns_ring_size(c));
	}
	d = &p->dns->slot[p->dns->next];
	p->dns->next = (p->dns->next + 1) % c->cfg.dns_per_proc;
	if (d->valid && !d->used && !d->retry)
		c->stats.dns_unmatched++;
	memset(d, 0, sizeof(*d));
	d->valid = true;
	return d;
}

void dns_record(struct correlator *c, const struct ht_dns_event *ev)
{
	struct dns_result *d;
	struct proc *p;
	uint32_t n = ev->n_addrs;

	/* the queries it sent itself are not a lookup of their own */
	p = proc_of(lru_table_find(&c->proc_table, ev->hdr.tgid));
	if (p) {
		dns_wire_covered(c, p, ev);
		proc_maybe_free(c, p);
	}
	if (ev->ret != 0) {
		/* a failed lookup is a failed request of its own */
		tl_build_dns_failed(&c->tl, ev);
		tl_emit(c);
		return;
	}
	p = proc_get(c, ev->hdr.tgid);
	if (!p)
		return;
	d = dns_result_new(c, p);
	if (!d) {
		proc_maybe_free(c, p);
		return;
	}
	if (n > HT_DNS_MAX_ADDRS)
		n = HT_DNS_MAX_ADDRS;
	d->enter_ns = call_entry(ev->enter_ns, ev->hdr.ts_ns);
	d->done_ns = ev->hdr.ts_ns;
	d->n_addrs = n;
	d->tid = ev->hdr.tid;
	memcpy(d->addrs, ev->addrs, n * sizeof(d->addrs[0]));
	copy_bounded(d->host, sizeof(d->host), ev->host, sizeof(ev->host));
	copy_bounded(d->service, sizeof(d->service), ev->service,
		     sizeof(ev->service));
}

/*
 * How well lookup d fits a connect to peer from thread tid: 0 when its
 * answer does not hold the peer's address, or holds it for another port
 * (getaddrinfo puts the service's port in every address it returns, 0
 * when none was asked); else higher for the port asked (not just none),
 * then for a lookup no connect has used (over one a failed connect gave
 * back), then for the connecting thread's own lookup.
 */
static unsigned int dns_fit(const struct dns_result *d,
			    const struct ht_addr *peer, uint32_t tid)
{
	unsigned int fit = 0;
	uint32_t k;

	for (k = 0; k < d->n_addrs; k++) {
		const struct ht_addr *a = &d->addrs[k];

		if (!addr_same_host(a, peer))
			continue;
		if (!a->port || !peer->port)
			fit = fit > 1 ? fit : 1;
		else if (a->port == peer->port)
			fit = 2;
	}
	if (!fit)
		return 0;
	return fit * 4 + (d->retry ? 0 : 2) + (d->tid == tid);
}

/* Whether a lookup asked for this name (a Host or SNI), which may end
 * with the root's dot on either side. */
static bool dns_host_is(const struct dns_result *d, const char *name)
{
	size_t a = strnlen(d->host, sizeof(d->host)), b = strlen(name);

	if (a && d->host[a - 1] == '.')
		a--;
	if (b && name[b - 1] == '.')
		b--;
	return a && a == b && strncasecmp(d->host, name, a) == 0;
}

/*
 * The lookup this connect used: same process (any thread: curl resolves
 * on helper threads), its answer holds the peer address for the peer's
 * port, it finished before the connect began; of those the one for that
 * port, then the connecting thread's, then the latest. Each serves one
 * connection: a client that connects again from its own cache (curl's
 * DNS cache, a second connection to the same host:port) did no lookup
 * for it, and Go's httptrace too reports DNSStart/DNSDone only on the
 * request that resolved.
 *
 * At the connect (name NULL), when lookups of different names fit
 * equally well (two names of one server, resolved by helper threads),
 * none is taken: the connect waits for the name it is for (name, later:
 * its SNI or Host) and takes the best lookup of that name, or none.
 */
void dns_match(struct correlator *c, struct conn *conn,
	       const char *name)
{
	struct proc *p = conn->proc;
	struct dns_result *best = NULL;
	unsigned int best_fit = 0;
	uint64_t at = conn->connect_start_ns;
	bool ambiguous = false;
	uint32_t i;

	if (!p || !p->dns || !conn->daddr.family)
		return;
	for (i = 0; i < c->cfg.dns_per_proc; i++) {
		struct dns_result *d = &p->dns->slot[i];
		unsigned int fit;

		if (!d->valid || d->used || d->done_ns > at ||
		    at - d->done_ns > c->cfg.dns_ttl_ns)
			continue;
		fit = dns_fit(d, &conn->daddr, conn->owner_tid);
		if (!fit || (name && !dns_host_is(d, name)) || fit < best_fit)
			continue;
		if (best && fit == best_fit) {
			if (!dns_host_is(d, best->host))
				ambiguous = true;
			if (best->done_ns >= d->done_ns)
				continue;
		} else {
			ambiguous = false;
		}
		best = d;
		best_fit = fit;
	}
	if (!best)
		return;
	if (ambiguous && !name) {
		conn->dns_deferred = true;
		return;
	}
	best->used = true;
	conn->dns = *best;
	conn->has_dns = true;
	conn->dns_slot = (uint32_t)(best - p->dns->slot);
}

/*
 * A connect that failed gives its lookup back: a client goes on to the
 * next address of the same answer (::1 refused, then 127.0.0.1), and
 * that connection is the request's, resolved by that lookup. Unless the
 * ring slot has moved on to another lookup since.
 */
void dns_give_back(struct correlator *c, struct conn *conn)
{
	struct proc *p = conn->proc;
	struct dns_result *d;

	if (!conn->has_dns || !p || !p->dns ||
	    conn->dns_slot >= c->cfg.dns_per_proc)
		return;
	d = &p->dns->slot[conn->dns_slot];
	if (!d->valid || !d->used || d->enter_ns != conn->dns.enter_ns ||
	    d->done_ns != conn->dns.done_ns || d->tid != conn->dns.tid)
		return;
	d->used = false;
	d->retry = true;
}

/* DNS results that no connect used in time are dropped, and processes
 * left with nothing. */
void dns_sweep(struct correlator *c, uint64_t now)
{
	struct proc *p, *next;
	uint32_t i;

	for (p = proc_of(lru_table_newest(&c->proc_table)); p; p = next) {
		next = proc_of(lru_table_older(&c->proc_table, &p->node));
		if (!p->dns)
			continue;
		for (i = 0; i < c->cfg.dns_per_proc; i++) {
			struct dns_result *d = &p->dns->slot[i];

			if (!d->valid || now < d->done_ns ||
			    now - d->done_ns <= c->cfg.dns_ttl_ns)
				continue;
			if (!d->used && !d->retry)
				c->stats.dns_unmatched++;
			d->valid = false;
		}
		if (!dns_ring_live(c, p)) {
			free(p->dns);
			p->dns = NULL;
			released(c, dns_ring_size(c));
			proc_maybe_free(c, p);
		}
	}
}
