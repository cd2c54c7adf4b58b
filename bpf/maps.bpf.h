/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Maps and load-time settings shared by every httptrace BPF program. */
#ifndef HTTPTRACE_MAPS_BPF_H
#define HTTPTRACE_MAPS_BPF_H

#include "httptrace_comm_match.h"
#include "httptrace_events.h"

#define MAX_CONNS 65536
#define MAX_THREADS 16384

/*
 * Load-time settings. const volatile so the verifier sees constants and
 * prunes the branches a setting turns off.
 */
const volatile bool filter_pids = false;     /* only tgids in pid_filter */
const volatile bool filter_comm = false;     /* only target_comm */
const volatile char target_comm[HT_COMM_LEN] = {};
const volatile __u32 capture_cap = HT_DEFAULT_CAPTURE;
const volatile __u32 self_tgid = 0;          /* never trace the tracer */
/* tracepoint mode: connect start is the CLOSE -> SYN_SENT state change
 * rather than a tcp_connect kprobe/fentry */
const volatile bool connect_via_state_change = true;
/* Wake the reader only once this much waits in the ring buffer: a wakeup
 * per record (an interrupt, a context switch) was most of what the tracer
 * cost a traced program. The reader also drains on a timer. */
const volatile __u64 wakeup_bytes = 256 * 1024;
/* report exec() on exec_events so the loader can attach new TLS code */
const volatile bool watch_exec = false;

struct conn_key {
	__u32 tgid;
	__s32 fd;
};

/* Where an HTTP/2 connection's bytes of one direction are, in frames. */
struct h2_follow {
	__u32 left;  /* bytes left in the current payload (or preface) */
	__u32 acc;   /* a frame header's length and type, as they come */
	__u8 have;   /* bytes of the next frame header seen (0..8) */
	__u8 elide;  /* the current payload is a DATA frame's */
	__u8 begun;  /* a byte of this direction was seen */
	__u8 lost;   /* frames no longer followed: ordinary records */
};

struct conn_state {
	__u64 gen;
	__u32 seq;  /* next per-connection sequence number */
	__u32 lost; /* records lost since the last sent (no atomic fetch) */
	__u8 role;
	__u8 app_saw_connect; /* the process has learned the outcome */
	__u8 tls_tied;        /* a TLS session is tied to this socket */
	__u8 proto_checked;   /* the first data bytes were looked at */
	__u8 not_http;        /* ...and were neither HTTP/1.x nor TLS */
	__u8 tls_app_data;    /* a TLS call moved application data */
	__u8 h2;              /* HTTP/2: frames followed (h2.bpf.h) */
	__u8 go_hs;           /* Go's handshake as reported: enum
			       * go_hs_state (go_tls.bpf.h) */
	struct h2_follow h2f[2]; /* by enum ht_direction */
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 * 1024 * 1024); /* userspace may resize */
} events SEC(".maps");

/* Tracked TCP sockets, by owner and fd. LRU: a process that dies with
 * sockets open leaves entries the kernel never tells us to delete. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MAX_CONNS);
	__type(key, struct conn_key);
	__type(value, struct conn_state);
} conns SEC(".maps");

/* struct sock * -> owner, for events that run in softirq context where
 * the current task is not the owner. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MAX_CONNS);
	__type(key, __u64);
	__type(value, struct ht_conn_id);
} sock_conns SEC(".maps");

/*
 * Per-thread state between a syscall's entry and exit (and between
 * getaddrinfo's entry and return). LRU maps: a thread that exits leaves
 * its entry behind, and eviction is what clears those. See thread_slot().
 */
struct pending_connect {
	__u64 ts;
	__u64 optval;  /* getsockopt(SO_ERROR): where the result goes */
	__s32 fd;
	__u8 created;  /* this connect() made a conns entry */
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MAX_THREADS);
	__type(key, __u32); /* tid */
	__type(value, struct pending_connect);
} pending_connects SEC(".maps");

struct pending_accept {
	__u64 ts;
	__u64 sk;  /* from inet_csk_accept's return, 0 in tracepoint mode */
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MAX_THREADS);
	__type(key, __u32);
	__type(value, struct pending_accept);
} pending_accepts SEC(".maps");

/* A read/write-family syscall in flight on a tracked socket. */
struct active_io {
	struct ht_conn_id conn;
	__u64 ts;
	__u64 buf;     /* buffer, iovec array or user_msghdr */
	__u32 iovcnt;
	__u8 call;     /* enum ht_io_call */
	__u8 direction;
	__u8 dns;      /* a DNS socket's call (dns_wire.bpf.h): conn.gen
			* is the dns_socks entry's */
	__u64 name;    /* DNS: where a receive puts the peer's address */
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MAX_THREADS);
	__type(key, __u32);
	__type(value, struct active_io);
} active_ios SEC(".maps");

struct pending_dns {
	__u64 ts;
	__u64 node;  /* const char * */
	__u64 service; /* const char * */
	__u64 res;   /* struct addrinfo ** */
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MAX_THREADS);
	__type(key, __u32);
	__type(value, struct pending_dns);
} pending_dns_calls SEC(".maps");

/* tgids to trace when filter_pids is set */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u8);
} pid_filter SEC(".maps");

/* Records the ring buffer had no room for, per enum ht_drop_kind. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, HT_DROP_KIND_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} drops SEC(".maps");

/*
 * Data records are assembled here, then copied with bpf_ringbuf_output
 * at their real size: reserving HT_MAX_CAPTURE for every small write
 * would waste most of the ring. Twice the capture bound so the verifier
 * can prove offset + length stays inside. A plain array indexed by CPU
 * rather than a per-CPU array, whose values are limited to 32 KiB; the
 * programs run with migration disabled, so a slot is never shared.
 * The loader sets max_entries to the number of possible CPUs.
 */
/* h2.bpf.h's walk over one record, between its steps */
struct h2_walk {
	__u64 base;   /* user address of the current piece */
	__u64 avail;  /* bytes left in it (within the bytes moved) */
	__u64 iov;    /* the iovec array; 0: base is the only piece */
	__u32 iovcnt;
	__u32 next;   /* the next iovec to take */
	__u32 pos;    /* bytes of the record walked */
	__u32 end;    /* the record's bytes */
	__u32 kept;   /* bytes in ev->data */
	__u32 n_runs;
	__u32 n_runs_out;
	__u32 capturing;
	__u32 skim;   /* frames lost before: see h2_capture() */
	__u32 keep_max; /* bytes kept at most */
};

struct data_scratch {
	__u8 bytes[sizeof(struct ht_data_event) + 2 * HT_MAX_CAPTURE];
	/* an HTTP/2 record's runs left out, and a frame header's bytes
	 * read past the capture (h2.bpf.h) */
	struct ht_elided_run runs[HT_ELIDED_MAX_RUNS];
	__u8 hdr[16];
	struct h2_walk walk;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, struct data_scratch);
} data_scratches SEC(".maps");

/* Flags for bpf_ringbuf_submit/output on `events`; see wakeup_bytes. */
static __always_inline __u64 rb_flags(void)
{
	return bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= wakeup_bytes ?
		       BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
}

/*
 * The current thread's entry in a per-thread map (pending_connects,
 * pending_accepts, active_ios, tls_calls), made on first use. An entry
 * stays for the thread's life, marked idle (ts or depth 0) while no call
 * is in flight, instead of being inserted at every call's entry and
 * deleted at its exit: on a busy thread that is a lookup instead of an
 * LRU insert and delete (issue 5: 0.6 us less BPF time per new
 * connection, measured with bpf_stats).
 * `idle` is a zeroed value of the map's value type.
 */
static __always_inline void *thread_slot(void *map, __u32 tid,
					 const void *idle)
{
	void *slot = bpf_map_lookup_elem(map, &tid);

	if (slot)
		return slot;
	bpf_map_update_elem(map, &tid, idle, BPF_NOEXIST);
	return bpf_map_lookup_elem(map, &tid);
}

/*
 * A read or write enters on a followed socket (conns) or a DNS socket
 * (dns_socks, dns = 1, conn.gen the dns_socks entry's): the thread's
 * call for the exit to finish. `name`: where a DNS receive puts the
 * peer's address.
 */
static __always_inline void active_io_begin(__u32 tid, __u32 tgid, int fd,
					    __u64 gen, __u64 buf,
					    __u32 iovcnt, __u8 call,
					    __u8 dir, __u8 dns, __u64 name)
{
	struct active_io *io, idle = {};

	io = thread_slot(&active_ios, tid, &idle);
	if (!io)
		return;
	io->conn.tgid = tgid;
	io->conn.fd = fd;
	io->conn.gen = gen;
	io->ts = bpf_ktime_get_ns();
	io->buf = buf;
	io->iovcnt = iovcnt;
	io->call = call;
	io->direction = dir;
	io->dns = dns;
	io->name = name;
}

static __always_inline void count_drop(enum ht_drop_kind kind)
{
	__u32 key = kind;
	__u64 *n = bpf_map_lookup_elem(&drops, &key);

	/* atomic although per-CPU: uprobe programs (and syscall
	 * tracepoints' on newer kernels) can be preempted between the
	 * load and the store; see go_count_error() */
	if (n)
		__sync_fetch_and_add(n, 1);
}

/* -c NAME: include/httptrace_comm_match.h */
static __always_inline bool comm_matches(const char *comm)
{
	return ht_comm_matches(comm, target_comm);
}

/* Should a new connection or lookup by the current task be traced?
 * -c matches the process's name (its main thread's, as /proc/PID/comm
 * and ps show it) or the current thread's: worker threads often carry
 * names of their own. */
static __always_inline bool want_current(__u32 tgid)
{
	if (tgid == self_tgid)
		return false;
	if (filter_pids && !bpf_map_lookup_elem(&pid_filter, &tgid))
		return false;
	if (filter_comm) {
		struct task_struct *task =
			(struct task_struct *)bpf_get_current_task();
		struct task_struct *leader = BPF_CORE_READ(task, group_leader);
		char comm[HT_COMM_LEN];

		bpf_get_current_comm(comm, sizeof(comm));
		if (comm_matches(comm))
			return true;
		if (bpf_core_read(comm, sizeof(comm), &leader->comm))
			return false;
		return comm_matches(comm);
	}
	return true;
}

static __always_inline void fill_header(struct ht_event_header *hdr,
					__u32 type, __u64 ts)
{
	__u64 id = bpf_get_current_pid_tgid();

	hdr->ts_ns = ts;
	hdr->type = type;
	hdr->tgid = id >> 32;
	hdr->tid = (__u32)id;
	hdr->_pad = 0;
	bpf_get_current_comm(hdr->comm, sizeof(hdr->comm));
}

#endif /* HTTPTRACE_MAPS_BPF_H */
