// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Processes: a hash table with LRU order, and the exited ones. */
#include <stdlib.h>

#include "pipeline/conn.h"
#include "proto/http2/h2.h"

/* Remembers an exited process (see conn_buried()). */
static void proc_bury(struct correlator *c, uint32_t tgid, uint64_t exit_ns)
{
	struct dead_proc *d = &c->dead[set_of(tgid, DEAD_PROC_SLOTS)];
	int i;

	for (i = 0; i < 2; i++) {
		if (d[i].used && d[i].tgid == tgid) {
			if (exit_ns > d[i].exit_ns)
				d[i].exit_ns = exit_ns;
			return;
		}
	}
	if (d[0].used && (!d[1].used || d[1].exit_ns < d[0].exit_ns))
		d++;
	d->tgid = tgid;
	d->exit_ns = exit_ns;
	d->used = true;
}

static struct proc **proc_slot(struct correlator *c, uint32_t tgid)
{
	struct proc **pp = &c->proc_buckets[hash32(tgid) & c->proc_mask];

	while (*pp && (*pp)->tgid != tgid)
		pp = &(*pp)->hnext;
	return pp;
}

static void proc_lru_unlink(struct correlator *c, struct proc *p)
{
	if (p->lru_prev)
		p->lru_prev->lru_next = p->lru_next;
	else
		c->proc_mru = p->lru_next;
	if (p->lru_next)
		p->lru_next->lru_prev = p->lru_prev;
	else
		c->proc_lru = p->lru_prev;
	p->lru_prev = p->lru_next = NULL;
}

static void proc_lru_front(struct correlator *c, struct proc *p)
{
	p->lru_prev = NULL;
	p->lru_next = c->proc_mru;
	if (c->proc_mru)
		c->proc_mru->lru_prev = p;
	c->proc_mru = p;
	if (!c->proc_lru)
		c->proc_lru = p;
}

void proc_touch(struct correlator *c, struct proc *p)
{
	if (c->proc_mru == p)
		return;
	proc_lru_unlink(c, p);
	proc_lru_front(c, p);
}

void proc_destroy(struct correlator *c, struct proc *p)
{
	struct proc **pp = proc_slot(c, p->tgid);

	if (*pp == p)
		*pp = p->hnext;
	proc_lru_unlink(c, p);
	if (p->dns)
		released(c, dns_ring_size(c));
	free(p->dns);
	free(p);
	released(c, sizeof(*p));
	c->stats.procs--;
}

void proc_maybe_free(struct correlator *c, struct proc *p)
{
	if (!p->pinned && p->n_conns == 0 && !p->dns)
		proc_destroy(c, p);
}

/* Finalizes every connection of p and frees it. */
static void proc_teardown(struct correlator *c, struct proc *p,
			  uint64_t end_ns, const char *error)
{
	p->pinned = true;
	while (p->conns) {
		struct conn *conn = p->conns;

		conn_abandon(c, conn, end_ns, error);
		conn_drop(c, conn, false);
	}
	proc_destroy(c, p);
}

struct proc *proc_get(struct correlator *c, uint32_t tgid)
{
	struct proc **pp = proc_slot(c, tgid);
	struct proc *p = *pp;

	if (p) {
		proc_touch(c, p);
		return p;
	}
	if (c->stats.procs >= c->cfg.max_procs && c->proc_lru) {
		c->stats.evicted_procs++;
		proc_teardown(c, c->proc_lru, 0, "evicted");
		pp = proc_slot(c, tgid);
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	held(c, sizeof(*p));
	p->tgid = tgid;
	p->hnext = *pp;
	*pp = p;
	proc_lru_front(c, p);
	c->stats.procs++;
	return p;
}

static struct proc *proc_lookup(struct correlator *c, uint32_t tgid)
{
	return *proc_slot(c, tgid);
}

void proc_exit_record(struct correlator *c, const struct ht_exit_event *ev)
{
	struct proc *p = proc_lookup(c, ev->hdr.tgid);
	struct conn *conn;

	proc_bury(c, ev->hdr.tgid, ev->hdr.ts_ns);
	if (!p)
		return;
	/* the kernel closes what the process left open: an HTTP/2
	 * connection ends there, as at a close */
	for (conn = p->conns; conn; conn = conn->proc_next)
		h2_conn_over(c, conn, ev->hdr.ts_ns);
	proc_teardown(c, p, ev->hdr.ts_ns, "process exited mid-request");
}
