/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The correlator's state, shared by the files of the record pipeline and
 * the protocols; private to them (the interface is correlator.h).
 *
 *   conn   one per {tgid, fd}; the current generation only. Two HTTP/1.x
 *          parsers (the request side and the response side) and the FIFO
 *          of requests that wait for their response.   conn_table.c
 *   proc   one per tgid that has connections or recent DNS results; the
 *          DNS results wait there for the connect that uses them.
 *                                                          proc_table.c
 *   graves recently closed connections and exited processes, so a record
 *          that arrives after its connection was dropped is not taken for
 *          the start of a new one.        conn_table.c, proc_table.c
 *   pending_req  a request in flight on a connection           req.c
 *
 * Roles. A client writes requests and reads responses; a server (accepted
 * socket) reads requests and writes responses. The code speaks of the
 * request side and the response side, and the ClientTrace hooks map onto
 * a server like this: GetConn = first byte of the request read (the
 * record's return time), GotConn = accept for the first request,
 * WroteHeaders/WroteRequest = request headers / whole request READ,
 * GotFirstResponseByte = entry of the first write of the response, end =
 * the write that completed the response. The phase formulas are the same.
 */
#ifndef HTTPTRACE_PIPELINE_CONN_H
#define HTTPTRACE_PIPELINE_CONN_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "httptrace_events.h"
#include "pipeline/correlator.h"
#include "pipeline/reorder.h"
#include "proto/dns/dns_wire.h"
#include "proto/http1/http1_parser.h"
#include "proto/proto.h"
#include "timeline/timeline.h"
#include "util/list.h"
#include "util/lru_table.h"

#define MAX_INFORMATIONAL 8  /* 1xx responses remembered per request */
#define GRAVE_SLOTS 1024     /* 2-way sets by {tgid, fd}; see conn_buried() */
#define DEAD_PROC_SLOTS 128  /* 2-way sets by tgid */
#define SPARE_CONNS 32       /* freed conns kept for reuse */
#define SPARE_REQS 1024

/* The two ends of an HTTP exchange, whatever the role (see above). */
enum side { SIDE_REQ = 0, SIDE_RESP = 1 };

struct dns_result {
	uint64_t enter_ns, done_ns;
	uint32_t n_addrs;
	uint32_t tid;  /* the thread that called getaddrinfo */
	bool valid, used;
	/* its connect failed: free again for the client's next attempt
	 * (the answer's next address), after any unused lookup */
	bool retry;
	/* from the wire (dns_wire_match.c): its lookup's serial */
	bool wire;
	uint32_t wire_serial;
	char host[HT_DNS_HOST_LEN];
	char service[HT_DNS_SERVICE_LEN];
	struct ht_addr addrs[HT_DNS_MAX_ADDRS];
};

struct proc {
	uint32_t tgid;
	bool pinned;   /* being torn down by the caller: do not free */
	struct lru_node node;  /* in the process table, key tgid */
	struct list conns;     /* its connections, newest first */
	uint32_t n_conns;
	struct dns_ring *dns;
	struct dns_wire_state *wire;  /* lookups seen on the wire */
};

struct informational {
	uint64_t ts_ns;
	int status;
};

struct pending_req {
	struct list link;           /* in conn.reqs, or the spares */
	uint64_t start_ns;          /* GetConn */
	uint64_t got_conn_ns;
	uint64_t io_first_ns;       /* first request byte moved: send phase */
	uint64_t wrote_headers_ns, wait100_ns, wrote_request_ns;
	uint64_t first_byte_ns;     /* GotFirstResponseByte (1xx included) */
	uint64_t final_first_byte_ns; /* first byte of the final response */
	uint64_t resp_last_ns;      /* last record carrying response bytes */
	uint64_t request_bytes, response_bytes;
	int64_t idle_us;
	uint32_t tid;
	int status;
	int version_minor;          /* -1: request line not seen */
	uint64_t req_last_ns;       /* last record carrying request bytes */
	bool first_on_conn, reused, headers_seen, resp_started, resp_lost;
	bool req_lost;              /* request framing lost (capture cap) */
	bool close_requested;       /* Connection: close, either side */
	bool is_head, is_connect, h2, incomplete;
	bool target_truncated;
	/* opened while its connection's responses could not be told apart
	 * (see conn.unsure): nothing of its response is shown */
	bool resp_unsure;
	struct tl_error incomplete_reason;
	/* HTTP/2 (proto/http2/h2_stitch.c): the stream, 0 for HTTP/1 and
	 * for the report of a connection whose streams were not decoded */
	uint32_t stream_id;
	bool req_ended, resp_ended;   /* END_STREAM seen each way */
	bool upgrade_h2c;             /* HTTP/1 request: Upgrade: h2c */
	bool grpc, grpc_message_seen;
	int grpc_status;              /* -1: no grpc-status seen */
	char grpc_message[TL_GRPC_MESSAGE_MAX];
	uint32_t n_info;
	struct informational info[MAX_INFORMATIONAL];
	char comm[HT_COMM_LEN];
	char method[H1_METHOD_MAX];
	char target[H1_TARGET_MAX];
	char host[H1_HOST_MAX];
};

struct conn {
	struct ht_conn_id id;
	struct lru_node node;   /* in the connection table, conn_key() */
	struct list in_proc;    /* in proc.conns; a spare: in the spares */
	struct proc *proc;
	uint32_t next_seq;
	enum ht_role role;
	/* the application protocol and the socket's layer (proto/proto.h) */
	const struct proto_ops *proto;
	const struct proto_ops *wire;   /* NULL: plain bytes */
	/* a protocol's own state of the connection, and the protocol
	 * whose on_free frees it (proto_free_state()); NULL: none */
	void *proto_state;
	const struct proto_ops *proto_state_ops;
	bool role_known;
	bool saw_http;        /* a start line parsed on either side */
	bool saw_req_bytes;   /* the HTTP/2 preface can only come first */
	bool saw_resp_bytes;  /* ...and a server's SETTINGS before a request */
	bool taint;           /* records lost since the last resync */
	/* records were lost: the next response may answer a request whose
	 * bytes were lost, so responses are not matched to requests until a
	 * request starts with nothing outstanding (http1_open_request()) */
	bool unsure;
	bool pipelined;       /* a request was sent before the previous
			       * response ended */
	bool start_lost;      /* its first records (connect, accept) lost */
	/* bytes that were not HTTP went out on the request side after HTTP:
	 * the next response with no request waiting answers them */
	bool garbage_unanswered;
	bool connect_done_seen;
	bool connect_seen_by_app;  /* ConnectDone is when the process learned */
	bool has_dns;
	/* lookups of different names fit the connect equally (two names
	 * of one server): which one is told by the name the connection is
	 * for, once seen (SNI, Host) */
	bool dns_deferred;
	bool saw_bytes;       /* any byte moved on the socket */
	struct conn_tls *tls; /* NULL: not TLS (so far); tls_handshake.h */
	struct ht_addr saddr, daddr;
	/* the peer as each connect record saw it: a connect variant that
	 * reads the socket wrong must show, not be refined away */
	struct ht_addr connect_start_peer, connect_done_peer;
	uint32_t owner_tid;        /* the thread that called connect() */
	char comm[HT_COMM_LEN];
	/* from the cgroup of the connect or accept record */
	struct tl_container container;
	uint64_t connect_start_ns, connect_done_ns;
	int32_t connect_err;
	uint64_t n_requests;        /* requests opened on this connection */
	uint64_t last_resp_end_ns;  /* for GotConn's idle time */
	uint32_t skip_responses;    /* responses of requests given up on */
	uint32_t n_pending;
	struct list reqs;                /* waiting for a response, FIFO */
	struct pending_req *writing;     /* the request whose bytes flow now */
	struct dns_result dns;
	uint32_t dns_slot;               /* where dns came from in the ring */
	struct h1_parser parser[2];      /* [SIDE_REQ], [SIDE_RESP] */
};

struct grave {
	uint32_t tgid;
	int32_t fd;
	uint64_t gen;
	bool used;
};

struct dead_proc {
	uint32_t tgid;
	uint64_t exit_ns;
	bool used;
};

struct correlator {
	struct correlator_config cfg;
	timeline_sink_fn sink;
	void *user;
	struct correlator_stats stats;

	struct reorder rb;
	uint64_t newest_ts, released_ts;
	bool released_any;

	struct lru_table conn_table;  /* of struct conn */
	struct list spare_conns;
	uint32_t n_spare_conns;

	struct lru_table proc_table;  /* of struct proc */

	struct list spare_reqs;
	uint32_t n_spare_reqs;

	uint64_t released_since_trim, last_trim_ns;

	struct grave graves[GRAVE_SLOTS];
	struct dead_proc dead[DEAD_PROC_SLOTS];
	uint64_t last_sweep_ns;

	struct timeline tl; /* built here, handed to the sink */
	struct dns_wire_msg dns_wire_msg; /* parsed here (large) */
	/* wire lookups' numbers: a process's wire state is freed when idle,
	 * its results are not, so numbers must not start over with it */
	uint32_t dns_wire_serial;
	/* a record processed without a reorder copy (allocation failed) */
	uint64_t scratch[(sizeof(struct ht_data_event) + HT_MAX_CAPTURE) / 8 + 1];
};

/* What the correlator holds from malloc (stats.held_bytes): */
static inline void held(struct correlator *c, size_t n)
{
	c->stats.held_bytes += n;
}

static inline void released(struct correlator *c, size_t n)
{
	c->stats.held_bytes -= n;
	c->released_since_trim += n;
}

static inline void copy_bounded(char *dst, size_t dst_size, const char *src,
				size_t src_max)
{
	size_t n = strnlen(src, src_max);

	if (n >= dst_size)
		n = dst_size - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/*
 * A comm, HT_COMM_LEN bytes on both sides: whole, then terminated. It
 * reads as copy_bounded() would make it, up to the NUL that ends it (the
 * bytes after it mean nothing); a strnlen() and a memcpy() call for the
 * comm of every record were 2% of the instructions in the replay bench.
 */
static inline void copy_comm(char dst[HT_COMM_LEN], const char src[HT_COMM_LEN])
{
	memcpy(dst, src, HT_COMM_LEN);
	dst[HT_COMM_LEN - 1] = '\0';
}

static inline uint64_t max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

static inline uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* Microseconds from a to b; an inverted pair (clock noise between CPUs)
 * counts as zero rather than a negative duration. */
static inline int64_t span_us(uint64_t a, uint64_t b)
{
	return b > a ? (int64_t)((b - a) / 1000) : 0;
}

static inline bool addr_is_set(const struct ht_addr *a)
{
	static const uint8_t zero[16];

	return a->family != 0 && memcmp(a->addr, zero, sizeof(zero)) != 0;
}

/* Records from softirq context carry no comm or thread: keep the last
 * that named one. */
static inline void conn_note_owner(struct conn *conn,
				   const struct ht_event_header *hdr)
{
	if (hdr->comm[0])
		copy_comm(conn->comm, hdr->comm);
}

static inline int side_of(const struct conn *conn, enum ht_direction dir)
{
	bool egress = dir == HT_DIR_EGRESS;
	bool client = conn->role == HT_ROLE_CLIENT;

	return egress == client ? SIDE_REQ : SIDE_RESP;
}

static inline bool io_error_ignored(int64_t ret)
{
	/* would block / interrupted / kernel-internal restart codes */
	return ret == -EAGAIN || ret == -EWOULDBLOCK || ret == -EINTR ||
	       (ret <= -512 && ret >= -516);
}

/* A call's entry time as recorded, or its return when the entry is
 * missing or after it (any bytes may come in a record). */
static inline uint64_t call_entry(uint64_t enter_ns, uint64_t ts_ns)
{
	return enter_ns && enter_ns <= ts_ns ? enter_ns : ts_ns;
}

/* The first of the two slots of key's set in a table of n (a power of
 * two) slots. */
static inline uint32_t set_of(uint64_t key, uint32_t n)
{
	return lru_hash(key) & (n - 1) & ~1u;
}

/* The oldest request waiting for its response, or NULL. */
static inline struct pending_req *req_head(const struct conn *conn)
{
	return list_first_entry(&conn->reqs, struct pending_req, link);
}

static inline struct conn *conn_of(struct lru_node *node)
{
	return node ? container_of(node, struct conn, node) : NULL;
}

static inline struct proc *proc_of(struct lru_node *node)
{
	return node ? container_of(node, struct proc, node) : NULL;
}

/* conn_table.c */
void conn_abandon(struct correlator *c, struct conn *conn,
		  uint64_t end_ns, struct tl_error error);
void conn_drop(struct correlator *c, struct conn *conn, bool bury);
/* The sequence number the connection of id takes next (0 for one not
 * known yet); false when a record of id would be stale or start anew
 * (an older or newer generation, a connection already dropped). */
bool conn_next_seq(const struct correlator *c, const struct ht_conn_id *id,
		   uint64_t ts_ns, uint32_t *next);
struct conn *conn_for_record(struct correlator *c,
			     const struct ht_event_header *hdr,
			     const struct ht_conn_id *id, uint32_t seq);
void conn_record(struct correlator *c, struct conn *conn,
		 const struct ht_conn_event *ev);

void conn_evict(void *user, struct lru_node *oldest);

/* proc_table.c */
bool proc_exited(const struct correlator *c, uint32_t tgid, uint64_t ts);
void proc_touch(struct correlator *c, struct proc *p);
void proc_destroy(struct correlator *c, struct proc *p);
void proc_maybe_free(struct correlator *c, struct proc *p);
struct proc *proc_get(struct correlator *c, uint32_t tgid);
void proc_evict(void *user, struct lru_node *oldest);
void proc_exit_record(struct correlator *c, const struct ht_exit_event *ev);

/* dns_match.c */
size_t dns_ring_size(const struct correlator *c);
void dns_bind_deferred(struct correlator *c, struct conn *conn,
		       struct pending_req *r);
void dns_record(struct correlator *c, const struct ht_dns_event *ev);
void dns_match(struct correlator *c, struct conn *conn,
	       const char *name);
void dns_give_back(struct correlator *c, struct conn *conn);
void dns_sweep(struct correlator *c, uint64_t now);
struct dns_result *dns_ring_slot(struct correlator *c, struct proc *p,
				 uint32_t i);
struct dns_result *dns_result_new(struct correlator *c, struct proc *p);

/* dns_wire_match.c */
void dns_wire_record(struct correlator *c,
		     const struct ht_dns_wire_event *ev);
void dns_wire_covered(struct correlator *c, struct proc *p,
		      const struct ht_dns_event *ev);
/* lookups over by now (the released records' time) reported or
 * forgotten; flushing: the tracer stops, nothing more will come */
void dns_wire_expire(struct correlator *c, uint64_t now, bool flushing);
void dns_wire_proc_exit(struct correlator *c, struct proc *p, uint64_t ts);
void dns_wire_free(struct correlator *c, struct proc *p);

/* req.c */
struct pending_req *req_alloc(struct correlator *c);
void req_free(struct correlator *c, struct pending_req *r);
void req_unlink(struct conn *conn, struct pending_req *r);
void req_append(struct conn *conn, struct pending_req *r);
void req_mark_incomplete(struct pending_req *r, struct tl_error reason);
uint64_t req_last_seen(const struct pending_req *r);
void req_finish_head(struct correlator *c, struct conn *conn,
		     uint64_t end_ns, struct tl_error error, bool put_idle);
void req_finish(struct correlator *c, struct conn *conn,
		struct pending_req *r, uint64_t end_ns, struct tl_error error,
		bool put_idle);
/* r's GetConn, GotConn and first byte sent, from the call that moved
 * its first bytes (entry, return) and, for the first request of a
 * client's connection, what the connection began with (lookup,
 * connect, handshake). */
void req_set_start(const struct conn *conn, struct pending_req *r,
		   bool first, uint64_t enter_ns, uint64_t ts_ns);
void req_abandon_all(struct correlator *c, struct conn *conn,
		     uint64_t end_ns, struct tl_error error);
void req_drop_all(struct correlator *c, struct conn *conn);
void req_fail_all(struct correlator *c, struct conn *conn,
		  uint64_t end_ns, struct tl_error error);

#endif /* HTTPTRACE_PIPELINE_CONN_H */
