// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Processes: a hash table with LRU order, and the exited ones. */
#include <stdlib.h>

#include "pipeline/conn.h"

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

/* The process had exited by ts (see conn_buried()). */
bool proc_exited(const struct correlator *c, uint32_t tgid, uint64_t ts)
{
	const struct dead_proc *d = &c->dead[set_of(tgid, DEAD_PROC_SLOTS)];
	int i;

	for (i = 0; i < 2; i++)
		if (d[i].used && d[i].tgid == tgid && ts <= d[i].exit_ns)
			return true;
	return false;
}

void proc_touch(struct correlator *c, struct proc *p)
{
	lru_table_touch(&c->proc_table, &p->node);
}

void proc_destroy(struct correlator *c, struct proc *p)
{
	lru_table_remove(&c->proc_table, &p->node);
	dns_wire_free(c, p);
	if (p->dns)
		released(c, dns_ring_size(c));
	free(p->dns);
	free(p);
	released(c, sizeof(*p));
	c->stats.procs--;
}

void proc_maybe_free(struct correlator *c, struct proc *p)
{
	if (!p->pinned && p->n_conns == 0 && !p->dns && !p->wire)
		proc_destroy(c, p);
}

/* Finalizes every connection of p and frees it. */
static void proc_teardown(struct correlator *c, struct proc *p,
			  uint64_t end_ns, struct tl_error error)
{
	struct conn *conn;

	p->pinned = true;
	while ((conn = list_first_entry(&p->conns, struct conn, in_proc))) {
		conn_abandon(c, conn, end_ns, error);
		conn_drop(c, conn, false);
	}
	proc_destroy(c, p);
}

/* The process table is full: the least recently used goes. */
void proc_evict(void *user, struct lru_node *oldest)
{
	struct correlator *c = user;

	c->stats.evicted_procs++;
	proc_teardown(c, proc_of(oldest), 0, TL_ERROR(INCOMPLETE, "evicted"));
}

struct proc *proc_get(struct correlator *c, uint32_t tgid)
{
	struct proc *p = proc_of(lru_table_find(&c->proc_table, tgid));

	if (p) {
		proc_touch(c, p);
		return p;
	}
	lru_table_make_room(&c->proc_table);
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	held(c, sizeof(*p));
	p->tgid = tgid;
	list_init(&p->conns);
	lru_table_insert(&c->proc_table, &p->node, tgid);
	c->stats.procs++;
	return p;
}

void proc_exit_record(struct correlator *c, const struct ht_exit_event *ev)
{
	struct proc *p = proc_of(lru_table_find(&c->proc_table, ev->hdr.tgid));
	struct conn *conn;

	proc_bury(c, ev->hdr.tgid, ev->hdr.ts_ns);
	if (!p)
		return;
	/* its lookups left without an answer failed */
	dns_wire_proc_exit(c, p, ev->hdr.ts_ns);
	/* the kernel closes what the process left open: an HTTP/2
	 * connection ends there, as at a close */
	list_for_each_entry(conn, &p->conns, in_proc)
		proto_end(c, conn, ev->hdr.ts_ns, PROTO_END_EXIT);
	proc_teardown(c, p, ev->hdr.ts_ns,
		      TL_ERROR(PROCESS_EXITED, "process exited mid-request"));
}
