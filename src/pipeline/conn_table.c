// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Connections: a hash table with LRU order, graves of closed ones,
 * sequence gaps, and the records of connect, accept and close. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "container/container_table.h"
#include "pipeline/conn.h"
#include "util/reset.h"
#include "proto/http1/http1_stitch.h"
#include "proto/tls/tls_handshake.h"
#include "timeline/timeline_build.h"

/* Records carry what they know; zeros mean "not known here". */
static void addr_refine(struct ht_addr *dst, const struct ht_addr *src)
{
	if (addr_is_set(src)) {
		dst->family = src->family;
		memcpy(dst->addr, src->addr, sizeof(dst->addr));
	}
	if (src->family != 0 && src->port != 0)
		dst->port = src->port;
}

static uint64_t conn_key(const struct ht_conn_id *id)
{
	return (uint64_t)id->tgid << 32 | (uint32_t)id->fd;
}

/* Remembers a dropped connection (see conn_buried()). */
static void conn_bury(struct correlator *c, const struct ht_conn_id *id)
{
	struct grave *g = &c->graves[set_of(conn_key(id), GRAVE_SLOTS)];
	int i;

	for (i = 0; i < 2; i++) {
		if (g[i].used && g[i].tgid == id->tgid && g[i].fd == id->fd) {
			if (id->gen > g[i].gen)
				g[i].gen = id->gen;
			return;
		}
	}
	/* a free slot, else the one with the older connection */
	if (g[0].used && (!g[1].used || g[1].gen < g[0].gen))
		g++;
	g->tgid = id->tgid;
	g->fd = id->fd;
	g->gen = id->gen;
	g->used = true;
}

void conn_abandon(struct correlator *c, struct conn *conn,
		  uint64_t end_ns, struct tl_error error)
{
	req_abandon_all(c, conn, end_ns, error);
	proto_abandon(c, conn, end_ns);
}

void conn_drop(struct correlator *c, struct conn *conn, bool bury)
{
	struct proc *p = conn->proc;

	req_drop_all(c, conn);
	proto_free_state(c, conn);
	tls_free(c, conn);
	lru_table_remove(&c->conn_table, &conn->node);
	list_del(&conn->in_proc);
	if (bury)
		conn_bury(c, &conn->id);
	c->stats.conns--;
	if (c->n_spare_conns < SPARE_CONNS) {
		list_add_head(&c->spare_conns, &conn->in_proc);
		c->n_spare_conns++;
	} else {
		free(conn);
		released(c, sizeof(*conn));
	}
	if (p) {
		p->n_conns--;
		proc_maybe_free(c, p);
	}
}

/* The connection table is full: the least recently used goes. */
void conn_evict(void *user, struct lru_node *oldest)
{
	struct correlator *c = user;
	struct conn *conn = conn_of(oldest);

	c->stats.evicted_conns++;
	conn_abandon(c, conn, 0, TL_ERROR(INCOMPLETE, "evicted"));
	conn_drop(c, conn, false);
}

/*
 * Whether a record of id at ts belongs to a connection already dropped
 * (closed), or to a process that has exited (proc_exited()). Asked for
 * every new connection, so graves and dead processes are small hash
 * tables of 2-way sets, not lists: scanning all of them was a fifth of
 * the daemon's time when every request came on a new connection. Each
 * set keeps the newest of a key (the latest generation, the latest
 * exit), which answers for the older ones too; a full set forgets its
 * older entry.
 */
static bool conn_buried(const struct correlator *c,
			const struct ht_conn_id *id, uint64_t ts)
{
	const struct grave *g = &c->graves[set_of(conn_key(id), GRAVE_SLOTS)];
	int i;

	if (proc_exited(c, id->tgid, ts))
		return true;
	for (i = 0; i < 2; i++)
		if (g[i].used && g[i].tgid == id->tgid && g[i].fd == id->fd &&
		    g[i].gen >= id->gen)
			return true;
	return false;
}

static struct conn *conn_create(struct correlator *c,
				const struct ht_conn_id *id)
{
	/* initialised below */
	static const struct reset_keep keep[] = {
		RESET_KEEP(struct conn, parser),
	};
	struct conn *conn;
	struct proc *p;

	lru_table_make_room(&c->conn_table);
	p = proc_get(c, id->tgid);
	if (!p)
		return NULL;
	conn = list_first_entry(&c->spare_conns, struct conn, in_proc);
	if (conn) {
		list_del(&conn->in_proc);
		c->n_spare_conns--;
	} else {
		conn = malloc(sizeof(*conn));
		if (!conn) {
			proc_maybe_free(c, p);
			return NULL;
		}
		held(c, sizeof(*conn));
	}
	reset_except(conn, sizeof(*conn), keep, RESET_N(keep));
	list_init(&conn->reqs);
	h1_parser_init(&conn->parser[SIDE_REQ], H1_REQUEST);
	h1_parser_init(&conn->parser[SIDE_RESP], H1_RESPONSE);
	conn->id = *id;
	conn->proto = &http1_ops;
	conn->proc = p;
	list_add_head(&p->conns, &conn->in_proc);
	p->n_conns++;
	lru_table_insert(&c->conn_table, &conn->node, conn_key(id));
	c->stats.conns++;
	return conn;
}

/*
 * Records were lost on this connection. Whatever comes next on the
 * response side may belong to a request other than the oldest pending
 * one (its response, or requests and responses in between, may be among
 * the lost), so the pending requests end here with what they had before
 * the gap, and the connection stays unsure until responses can be
 * matched again (http1_open_request()).
 */
static void conn_seq_gap(struct correlator *c, struct conn *conn)
{
	struct pending_req *r;

	c->stats.gaps++;
	if (conn->next_seq == 0)
		conn->start_lost = true;
	/* first: a protocol may end its requests with words of its own */
	proto_gap(c, conn);
	while ((r = req_head(conn))) {
		req_mark_incomplete(r, TL_ERROR(RECORDS_LOST, "records lost"));
		req_finish_head(c, conn, req_last_seen(r), TL_NO_ERROR, false);
	}
	conn->skip_responses = 0;
	conn->unsure = true;
	conn->taint = true;
}

bool conn_next_seq(const struct correlator *c, const struct ht_conn_id *id,
		   uint64_t ts_ns, uint32_t *next)
{
	const struct conn *conn = conn_of(
		lru_table_find((struct lru_table *)&c->conn_table,
			       conn_key(id)));

	if (!conn) {
		*next = 0;
		return !conn_buried(c, id, ts_ns);
	}
	if (id->gen != conn->id.gen)
		return false;
	*next = conn->next_seq;
	return true;
}

/* The connection this record belongs to, with generation and sequence
 * checked; NULL when the record is stale (counted). */
struct conn *conn_for_record(struct correlator *c,
			     const struct ht_event_header *hdr,
			     const struct ht_conn_id *id, uint32_t seq)
{
	struct conn *conn = conn_of(lru_table_find(&c->conn_table,
						  conn_key(id)));

	if (conn && id->gen < conn->id.gen)
		goto stale;
	if (conn && id->gen > conn->id.gen) {
		/* the fd was closed and reused without our seeing it */
		conn_abandon(c, conn, 0,
			     TL_ERROR(INCOMPLETE, "connection state lost"));
		conn_drop(c, conn, false);
		conn = NULL;
	}
	if (!conn) {
		if (conn_buried(c, id, hdr->ts_ns))
			goto stale;
		conn = conn_create(c, id);
		if (!conn)
			return NULL;
	} else {
		lru_table_touch(&c->conn_table, &conn->node);
	}
	if (conn->proc)
		proc_touch(c, conn->proc);
	/* unnumbered (no atomic fetch in the kernel): the number it would
	 * have had, from the count of records lost before it */
	if (seq & HT_SEQ_UNNUMBERED)
		seq = conn->next_seq + (seq & ~HT_SEQ_UNNUMBERED);
	if (seq < conn->next_seq)
		goto stale; /* beyond the reorder window; already skipped */
	if (seq > conn->next_seq)
		conn_seq_gap(c, conn);
	conn->next_seq = seq + 1;
	return conn;
stale:
	c->stats.stale_records++;
	return NULL;
}

void conn_record(struct correlator *c, struct conn *conn,
		 const struct ht_conn_event *ev)
{
	uint64_t ts = ev->hdr.ts_ns;

	conn_note_owner(conn, &ev->hdr);
	if (ev->cgroup_id && !conn->container.cgroup_id)
		container_table_fill(c->cfg.containers, ev->cgroup_id,
				     &conn->container);
	addr_refine(&conn->saddr, &ev->saddr);
	addr_refine(&conn->daddr, &ev->daddr);

	switch (ev->hdr.type) {
	case HT_EV_CONNECT_START:
		http1_set_role(conn, HT_ROLE_CLIENT);
		if (!conn->connect_start_ns) {
			conn->connect_start_ns = ts;
			conn->connect_start_peer = ev->daddr;
			conn->owner_tid = ev->hdr.tid;
			dns_match(c, conn, NULL);
		}
		break;
	case HT_EV_CONNECT_DONE:
		http1_set_role(conn, HT_ROLE_CLIENT);
		/*
		 * ClientTrace's ConnectDone is when the dial returns: when the
		 * process learns the outcome (connect() returned, or
		 * getsockopt(SO_ERROR) after poll). The kernel's handshake
		 * record comes first; the process's own, if it comes before
		 * any request byte, moves ConnectDone to it.
		 */
		if (ev->err == EINPROGRESS || ev->err == EALREADY ||
		    ev->err == EINTR)
			break;
		if (conn->connect_done_seen) {
			if (ev->source == HT_SRC_SYSCALL && !ev->err &&
			    !conn->connect_err && !conn->connect_seen_by_app &&
			    !conn->n_requests && ts >= conn->connect_done_ns) {
				conn->connect_done_ns = ts;
				conn->connect_seen_by_app = true;
			}
			break;
		}
		conn->connect_done_seen = true;
		conn->connect_seen_by_app = ev->source == HT_SRC_SYSCALL;
		conn->connect_done_ns = ts;
		conn->connect_done_peer = ev->daddr;
		conn->connect_err = ev->err;
		if (ev->err) {
			tl_build_connect_failed(&c->tl, conn,
						ev->hdr.tid ? ev->hdr.tid :
						conn->owner_tid);
			tl_emit(c);
			dns_give_back(c, conn);
		}
		break;
	case HT_EV_ACCEPT:
		http1_set_role(conn, HT_ROLE_SERVER);
		break;
	case HT_EV_CLOSE:
		proto_end(c, conn, ts, PROTO_END_CLOSE);
		req_abandon_all(c, conn, ts,
				TL_ERROR(CONNECTION_CLOSED, "connection closed"));
		proto_abandon(c, conn, ts);
		conn_drop(c, conn, true);
		break;
	}
}
