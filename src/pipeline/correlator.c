// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The correlator: ring-buffer records in, one timeline per HTTP request
 * out. See correlator.h for the interface and DESIGN.md ("Correlation")
 * for the model; conn.h for the state and the files that keep it.
 *
 * This file is the manager: records are checked, held for reordering,
 * released in time order and dispatched to the connection, process, DNS
 * and protocol code.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/conn.h"
#include "proto/tls/tls_handshake.h"

#define DEFAULT_WINDOW_NS (5ull * 1000 * 1000)
#define DEFAULT_MAX_BUFFERED 65536u
#define DEFAULT_MAX_BUFFERED_BYTES (64ull << 20)
#define DEFAULT_MAX_CONNS 8192u
#define DEFAULT_MAX_PROCS 8192u
#define DEFAULT_MAX_PIPELINE 16u
#define DEFAULT_DNS_PER_PROC 16u
#define DEFAULT_DNS_TTL_NS (60ull * 1000 * 1000 * 1000)
#define DNS_SWEEP_EVERY_NS (1000ull * 1000 * 1000)
/* glibc gives freed heap memory back to the system only from the top of
 * the heap: 4,000 connections opened and closed left their 80 MB
 * resident. Once this much was freed, a tick trims (at most once per
 * TRIM_EVERY_NS). */
#define TRIM_AFTER_BYTES (4ull << 20)
#define TRIM_EVERY_NS (1000ull * 1000 * 1000)

/* Bytes of the record to keep, or 0 when it is malformed. */
static size_t record_len(const void *rec, size_t size)
{
	struct ht_event_header hdr;

	if (!rec || size < sizeof(hdr))
		return 0;
	memcpy(&hdr, rec, sizeof(hdr));
	switch (hdr.type) {
	case HT_EV_CONNECT_START:
	case HT_EV_CONNECT_DONE:
	case HT_EV_ACCEPT:
	case HT_EV_CLOSE:
		return size >= sizeof(struct ht_conn_event) ?
			       sizeof(struct ht_conn_event) : 0;
	case HT_EV_DATA:
	case HT_EV_TLS_DATA: {
		struct ht_data_event d;

		if (size < sizeof(d))
			return 0;
		memcpy(&d, rec, sizeof(d));
		if (hdr.type == HT_EV_TLS_DATA && d.call >= HT_TLS_LIB_COUNT)
			return 0;
		if (d.direction > HT_DIR_INGRESS ||
		    d.captured_len > HT_MAX_CAPTURE ||
		    size - sizeof(d) < d.captured_len)
			return 0;
		if (d.ret < 0 ? d.captured_len != 0 :
				(uint64_t)d.ret < d.captured_len)
			return 0;
		return sizeof(d) + d.captured_len;
	}
	case HT_EV_DNS: {
		struct ht_dns_event d;

		if (size < sizeof(d))
			return 0;
		memcpy(&d, rec, sizeof(d));
		return d.n_addrs <= HT_DNS_MAX_ADDRS ? sizeof(d) : 0;
	}
	case HT_EV_DNS_WIRE: {
		struct ht_dns_wire_event w;

		if (size < sizeof(w))
			return 0;
		memcpy(&w, rec, sizeof(w));
		if (w.direction > HT_DIR_INGRESS || w.proto > HT_DNS_TCP ||
		    w.captured_len > HT_DNS_WIRE_MAX ||
		    w.captured_len > w.msg_len ||
		    size - sizeof(w) < w.captured_len)
			return 0;
		return sizeof(w) + w.captured_len;
	}
	case HT_EV_PROC_EXIT:
		return size >= sizeof(struct ht_exit_event) ?
			       sizeof(struct ht_exit_event) : 0;
	case HT_EV_TLS: {
		struct ht_tls_event t;

		if (size < sizeof(t))
			return 0;
		memcpy(&t, rec, sizeof(t));
		return t.lib < HT_TLS_LIB_COUNT && t.op < HT_TLS_OP_COUNT ?
			       sizeof(t) : 0;
	}
	}
	return 0;
}

/* rec is an aligned copy checked by record_len(). */
static void process_record(struct correlator *c, const void *rec)
{
	const struct ht_event_header *hdr = rec;
	struct conn *conn;

	switch (hdr->type) {
	case HT_EV_CONNECT_START:
	case HT_EV_CONNECT_DONE:
	case HT_EV_ACCEPT:
	case HT_EV_CLOSE: {
		const struct ht_conn_event *ev = rec;

		conn = conn_for_record(c, hdr, &ev->conn, ev->seq);
		if (conn)
			conn_record(c, conn, ev);
		break;
	}
	case HT_EV_DATA: {
		const struct ht_data_event *ev = rec;

		conn = conn_for_record(c, hdr, &ev->conn, ev->seq);
		if (conn) {
			conn_note_owner(conn, &ev->hdr);
			proto_socket_record(c, conn, ev);
		}
		break;
	}
	case HT_EV_TLS_DATA: {
		const struct ht_data_event *ev = rec;

		conn = conn_for_record(c, hdr, &ev->conn, ev->seq);
		if (conn && tls_plaintext_record(c, conn, ev))
			proto_bytes(c, conn, ev);
		break;
	}
	case HT_EV_TLS: {
		const struct ht_tls_event *ev = rec;

		conn = conn_for_record(c, hdr, &ev->conn, ev->seq);
		if (conn)
			tls_handshake_record(c, conn, ev);
		break;
	}
	case HT_EV_DNS:
		dns_record(c, rec);
		break;
	case HT_EV_DNS_WIRE:
		dns_wire_record(c, rec);
		break;
	case HT_EV_PROC_EXIT:
		proc_exit_record(c, rec);
		break;
	}
}

/* A record taken out of order by catch_up(): skipped when its turn
 * comes (no record type has this value). */
#define RECORD_TAKEN 0xffffffffu
/* records of one connection looked for at one gap */
#define CATCH_UP_MAX 64

/* The connection and sequence number of a record that has them. */
static bool record_conn_seq(const void *rec, struct ht_conn_id *id,
			    uint32_t *seq)
{
	const struct ht_event_header *hdr = rec;

	switch (hdr->type) {
	case HT_EV_CONNECT_START:
	case HT_EV_CONNECT_DONE:
	case HT_EV_ACCEPT:
	case HT_EV_CLOSE:
		*id = ((const struct ht_conn_event *)rec)->conn;
		*seq = ((const struct ht_conn_event *)rec)->seq;
		return true;
	case HT_EV_DATA:
	case HT_EV_TLS_DATA:
		*id = ((const struct ht_data_event *)rec)->conn;
		*seq = ((const struct ht_data_event *)rec)->seq;
		return true;
	case HT_EV_TLS:
		*id = ((const struct ht_tls_event *)rec)->conn;
		*seq = ((const struct ht_tls_event *)rec)->seq;
		return true;
	}
	return false;
}

struct seq_wanted {
	struct ht_conn_id id;
	uint32_t seq;
};

static bool is_seq_wanted(const struct reorder_item *it, void *ctx)
{
	const struct seq_wanted *w = ctx;
	struct ht_conn_id id;
	uint32_t seq;

	return record_conn_seq(it->rec, &id, &seq) && seq == w->seq &&
	       id.tgid == w->id.tgid && id.fd == w->id.fd &&
	       id.gen == w->id.gen;
}

static void process_record(struct correlator *c, const void *rec);

/*
 * The records a connection numbered before rec, still in the buffer,
 * are taken now, in their order. Two CPUs recording for one connection
 * at once (a reader and a writer thread) can stamp the times in the
 * opposite order of the numbers they took; ordered by time alone, the
 * later number would come first and its elder be taken for lost, and
 * an HTTP/2 connection's header table with it.
 */
static void catch_up(struct correlator *c, const void *rec)
{
	const struct ht_event_header *hdr = rec;
	struct seq_wanted w;
	uint32_t seq, next, n;

	if (!record_conn_seq(rec, &w.id, &seq) || (seq & HT_SEQ_UNNUMBERED) ||
	    !conn_next_seq(c, &w.id, hdr->ts_ns, &next) || seq <= next)
		return;
	for (n = 0; next < seq && n < CATCH_UP_MAX; n++, next++) {
		struct reorder_item *it;

		w.seq = next;
		it = reorder_find(&c->rb, is_seq_wanted, &w);
		if (!it)
			return; /* lost indeed */
		c->stats.reordered_by_seq++;
		process_record(c, it->rec);
		((struct ht_event_header *)it->rec)->type = RECORD_TAKEN;
	}
}

static void process_item(struct correlator *c, struct reorder_item *it)
{
	if (!c->released_any || it->ts_ns > c->released_ts)
		c->released_ts = it->ts_ns;
	c->released_any = true;
	catch_up(c, it->rec);
	process_record(c, it->rec);
	reorder_release(&c->rb, it);
}

static void release_before(struct correlator *c, uint64_t horizon, bool all)
{
	struct reorder_item it;

	while (all ? reorder_pop(&c->rb, &it) :
		     reorder_pop_before(&c->rb, horizon, &it))
		process_item(c, &it);
	c->stats.buffered = c->rb.n;
}

struct correlator *correlator_new(const struct correlator_config *cfg,
				  timeline_sink_fn sink, void *user)
{
	struct correlator *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	if (cfg)
		c->cfg = *cfg;
	if (!c->cfg.reorder_window_ns)
		c->cfg.reorder_window_ns = DEFAULT_WINDOW_NS;
	if (!c->cfg.max_buffered)
		c->cfg.max_buffered = DEFAULT_MAX_BUFFERED;
	if (!c->cfg.max_buffered_bytes)
		c->cfg.max_buffered_bytes = DEFAULT_MAX_BUFFERED_BYTES;
	if (!c->cfg.max_conns)
		c->cfg.max_conns = DEFAULT_MAX_CONNS;
	if (!c->cfg.max_procs)
		c->cfg.max_procs = DEFAULT_MAX_PROCS;
	if (!c->cfg.max_pipeline)
		c->cfg.max_pipeline = DEFAULT_MAX_PIPELINE;
	if (!c->cfg.dns_per_proc)
		c->cfg.dns_per_proc = DEFAULT_DNS_PER_PROC;
	if (!c->cfg.dns_ttl_ns)
		c->cfg.dns_ttl_ns = DEFAULT_DNS_TTL_NS;
	c->sink = sink;
	c->user = user;
	list_init(&c->spare_conns);
	list_init(&c->spare_reqs);
	if (lru_table_init(&c->conn_table, c->cfg.max_conns, conn_evict, c) ||
	    lru_table_init(&c->proc_table, c->cfg.max_procs, proc_evict, c) ||
	    reorder_init(&c->rb, c->cfg.max_buffered,
			 c->cfg.max_buffered_bytes) < 0) {
		lru_table_fini(&c->conn_table);
		lru_table_fini(&c->proc_table);
		free(c);
		return NULL;
	}
	return c;
}

static void drop_everything(struct correlator *c, struct tl_error error)
{
	struct conn *conn;
	struct proc *p;

	while ((conn = conn_of(lru_table_newest(&c->conn_table)))) {
		if (error.words)
			conn_abandon(c, conn, 0, error);
		conn_drop(c, conn, false);
	}
	while ((p = proc_of(lru_table_newest(&c->proc_table))))
		proc_destroy(c, p);
}

void correlator_free(struct correlator *c)
{
	struct conn *conn, *next_conn;
	struct pending_req *r, *next_r;

	if (!c)
		return;
	drop_everything(c, TL_NO_ERROR);
	list_for_each_entry_safe(conn, next_conn, &c->spare_conns, in_proc)
		free(conn);
	list_for_each_entry_safe(r, next_r, &c->spare_reqs, link)
		free(r);
	reorder_fini(&c->rb);
	lru_table_fini(&c->conn_table);
	lru_table_fini(&c->proc_table);
	free(c);
}

int correlator_push(struct correlator *c, const void *record, size_t size)
{
	struct ht_event_header hdr;
	struct reorder_item it;
	size_t len;

	if (!c)
		return -EINVAL;
	len = record_len(record, size);
	if (!len) {
		c->stats.bad_records++;
		return -EINVAL;
	}
	memcpy(&hdr, record, sizeof(hdr));
	c->stats.records++;
	if (c->released_any && hdr.ts_ns < c->released_ts)
		c->stats.late_records++;
	while (reorder_full(&c->rb, len) && reorder_pop(&c->rb, &it)) {
		c->stats.reorder_overflow++;
		process_item(c, &it);
	}
	if (reorder_push(&c->rb, hdr.ts_ns, record, len) < 0) {
		/* no memory for a copy: handle it now rather than lose it */
		memcpy(c->scratch, record, len);
		process_record(c, c->scratch);
	}
	if (hdr.ts_ns > c->newest_ts)
		c->newest_ts = hdr.ts_ns;
	if (c->newest_ts > c->cfg.reorder_window_ns)
		release_before(c, c->newest_ts - c->cfg.reorder_window_ns,
			       false);
	c->stats.buffered = c->rb.n;
	return 0;
}

void correlator_tick(struct correlator *c, uint64_t now_mono_ns)
{
	if (!c)
		return;
	if (now_mono_ns > c->cfg.reorder_window_ns)
		release_before(c, now_mono_ns - c->cfg.reorder_window_ns,
			       false);
	if (now_mono_ns - c->last_sweep_ns >= DNS_SWEEP_EVERY_NS ||
	    now_mono_ns < c->last_sweep_ns) {
		dns_sweep(c, now_mono_ns);
		if (now_mono_ns > c->cfg.reorder_window_ns)
			dns_wire_expire(c, now_mono_ns -
						   c->cfg.reorder_window_ns,
					false);
		c->last_sweep_ns = now_mono_ns;
	}
	if (c->released_since_trim >= TRIM_AFTER_BYTES &&
	    (now_mono_ns - c->last_trim_ns >= TRIM_EVERY_NS ||
	     now_mono_ns < c->last_trim_ns)) {
#ifdef __GLIBC__
		malloc_trim(0);
#endif
		c->released_since_trim = 0;
		c->last_trim_ns = now_mono_ns;
	}
}

void correlator_note_lost(struct correlator *c, enum ht_drop_kind kind,
			  uint64_t new_drops)
{
	struct conn *conn;
	struct pending_req *r;

	if (!c || (unsigned int)kind >= HT_DROP_KIND_COUNT || !new_drops)
		return;
	c->stats.lost[kind] += new_drops;
	if (kind != HT_DROP_CONN)
		return;
	/* We cannot tell whose records they were. */
	for (conn = conn_of(lru_table_newest(&c->conn_table)); conn;
	     conn = conn_of(lru_table_older(&c->conn_table, &conn->node)))
		list_for_each_entry(r, &conn->reqs, link)
			req_mark_incomplete(r, TL_ERROR(RECORDS_LOST,
							 "records lost"));
}

void correlator_flush(struct correlator *c)
{
	if (!c)
		return;
	release_before(c, 0, true);
	dns_wire_expire(c, c->released_ts, true);
	drop_everything(c, TL_ERROR(TRACER_STOPPED, "tracer stopped before the "
						    "request finished"));
}

const struct correlator_stats *correlator_stats(const struct correlator *c)
{
	return &c->stats;
}
