/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * TCP connection tracking: connect start/done/failure, accept, close.
 * These are the bodies; httptrace.bpf.c holds the thin per-attach-mode
 * entry points (fentry, kprobe, tracepoint) that call them.
 */
#ifndef HTTPTRACE_CONN_BPF_H
#define HTTPTRACE_CONN_BPF_H

#include "core_fixes.bpf.h"
#include "dns_wire.bpf.h"
#include "maps.bpf.h"

#define AF_INET 2
#define AF_INET6 10
#define IPPROTO_TCP 6
#define SOCK_STREAM 1
#define EINPROGRESS 115
#define ECONNREFUSED 111

static __always_inline bool is_tcp_sock(const struct sock *sk)
{
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);

	if (family != AF_INET && family != AF_INET6)
		return false;
	return BPF_CORE_READ(sk, sk_protocol) == IPPROTO_TCP &&
	       BPF_CORE_READ(sk, sk_type) == SOCK_STREAM;
}

/*
 * Both ends of sk, or nothing (family 0) when sk is NULL. Each kernel
 * read is a helper call (~30 ns here): the port pair and the IPv4
 * address pair are read whole.
 */
static __always_inline void read_sock_addrs(const struct sock *sk,
					    struct ht_addr *saddr,
					    struct ht_addr *daddr)
{
	const struct sock_common *skc;
	struct {
		__be16 dport; /* skc_portpair: skc_dport, skc_num */
		__u16 num;
	} ports = {};
	__u16 family;

	__builtin_memset(saddr, 0, sizeof(*saddr));
	__builtin_memset(daddr, 0, sizeof(*daddr));
	if (!sk)
		return;
	skc = &sk->__sk_common;
	family = BPF_CORE_READ(skc, skc_family);
	saddr->family = family;
	daddr->family = family;
	bpf_core_read(&ports, sizeof(ports), &skc->skc_portpair);
	saddr->port = ports.num;
	daddr->port = bpf_ntohs(ports.dport);
	if (family == AF_INET) {
		__be32 pair[2] = {}; /* skc_addrpair: skc_daddr, skc_rcv_saddr */

		bpf_core_read(pair, sizeof(pair), &skc->skc_addrpair);
		__builtin_memcpy(daddr->addr, &pair[0], 4);
		__builtin_memcpy(saddr->addr, &pair[1], 4);
	} else {
		bpf_core_read(saddr->addr, 16, &skc->skc_v6_rcv_saddr);
		bpf_core_read(daddr->addr, 16, &skc->skc_v6_daddr);
	}
}

/*
 * Emits a connection record; takes the next sequence number from st.
 * sk NULL: no addresses, for records after the ones that carried them
 * (userspace keeps what connect and accept said).
 */
static __always_inline void emit_conn_event(__u32 type,
					    const struct ht_conn_id *id,
					    struct conn_state *st,
					    const struct sock *sk, __u64 ts,
					    __s32 err, __u8 source,
					    bool in_task)
{
	struct ht_conn_event *ev;
	__u32 seq = conn_seq_take(st);

	ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
	if (!ev) {
		conn_seq_lost(st, seq);
		count_drop(HT_DROP_CONN);
		return;
	}
	if (in_task) {
		fill_header(&ev->hdr, type, ts);
	} else {
		/* softirq: current is whoever was interrupted */
		ev->hdr.ts_ns = ts;
		ev->hdr.type = type;
		ev->hdr.tgid = id->tgid;
		ev->hdr.tid = 0;
		ev->hdr._pad = 0;
		__builtin_memset(ev->hdr.comm, 0, sizeof(ev->hdr.comm));
	}
	ev->conn = *id;
	ev->seq = seq;
	ev->role = st->role;
	ev->source = source;
	ev->_pad = 0;
	ev->err = err;
	ev->_pad2 = 0;
	read_sock_addrs(sk, &ev->saddr, &ev->daddr);
	/* the records that start a connection say whose it is; the
	 * helper is in every supported kernel (4.18) and names the task's
	 * cgroup v2 even where v1 hierarchies are mounted too */
	ev->cgroup_id = in_task && (type == HT_EV_CONNECT_START ||
				    type == HT_EV_ACCEPT) ?
				bpf_get_current_cgroup_id() : 0;
	bpf_ringbuf_submit(ev, rb_flags());
}

/* Starts tracking sk as fd of the current process. */
static __always_inline struct conn_state *track_conn(struct sock *sk, int fd,
						     __u64 gen, __u8 role,
						     struct ht_conn_id *id)
{
	struct conn_key key = { .tgid = bpf_get_current_pid_tgid() >> 32,
				.fd = fd };
	struct conn_state st = { .gen = gen, .role = role };
	__u64 skp = (__u64)sk;

	id->tgid = key.tgid;
	id->fd = fd;
	id->gen = gen;
	bpf_map_update_elem(&conns, &key, &st, BPF_ANY);
	bpf_map_update_elem(&sock_conns, &skp, id, BPF_ANY);
	return bpf_map_lookup_elem(&conns, &key);
}

/*
 * connect() reached TCP (tcp_connect, or the CLOSE -> SYN_SENT state
 * change). Runs in the connecting thread, inside its connect() syscall,
 * which is how we know the fd.
 */
static __always_inline void on_connect_start(struct sock *sk)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct pending_connect *pc;
	struct conn_state *st;
	struct ht_conn_id id;

	pc = bpf_map_lookup_elem(&pending_connects, &tid);
	if (!pc || !pc->ts || pc->created || !is_tcp_sock(sk))
		return;
	st = track_conn(sk, pc->fd, pc->ts, HT_ROLE_CLIENT, &id);
	if (!st)
		return;
	pc->created = 1;
	emit_conn_event(HT_EV_CONNECT_START, &id, st, sk, pc->ts, 0,
			HT_SRC_PROBE, true);
}

/* A connect() or getsockopt(SO_ERROR) in flight: the thread's slot. */
static __always_inline void set_pending_connect(__u32 tid, __u64 ts, int fd,
						__u64 optval)
{
	struct pending_connect *pc, idle = {};

	pc = thread_slot(&pending_connects, tid, &idle);
	if (!pc)
		return;
	pc->ts = ts;
	pc->optval = optval;
	pc->fd = fd;
	pc->created = 0;
}

static __always_inline void on_connect_enter(int fd, __u64 addr)
{
	__u64 id = bpf_get_current_pid_tgid();

	if (!want_current(id >> 32))
		return;
	/* a DNS socket is followed by dns_wire.bpf.h, never as a TCP
	 * connection */
	if (dns_on_connect(id >> 32, fd, addr))
		return;
	set_pending_connect((__u32)id, bpf_ktime_get_ns(), fd, 0);
}

/*
 * The process learned how its connect() on pc->fd ended: ClientTrace's
 * ConnectDone. (The state change says when the handshake finished; a
 * failure before any SYN has no state change at all.)
 */
static __always_inline void emit_app_connect_done(__u32 tgid,
						  const struct pending_connect *pc,
						  __s32 err)
{
	struct conn_key key = { .tgid = tgid, .fd = pc->fd };
	struct conn_state *st = bpf_map_lookup_elem(&conns, &key);
	struct ht_conn_id id;

	if (!st || st->gen != pc->ts)
		return;
	id.tgid = tgid;
	id.fd = pc->fd;
	id.gen = st->gen;
	st->app_saw_connect = 1;
	emit_conn_event(HT_EV_CONNECT_DONE, &id, st, NULL, bpf_ktime_get_ns(),
			err, HT_SRC_SYSCALL, true);
}

static __always_inline void on_connect_exit(long ret)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid;
	struct pending_connect *pc;

	pc = bpf_map_lookup_elem(&pending_connects, &tid);
	if (!pc || !pc->ts)
		return;
	/* a non-blocking connect() learns its outcome later, through
	 * getsockopt(SO_ERROR) */
	if (pc->created && ret != -EINPROGRESS)
		emit_app_connect_done(pid_tgid >> 32, pc, ret < 0 ? -ret : 0);
	pc->ts = 0;
}

#define SOL_SOCKET 1
#define SO_ERROR 4

/*
 * getsockopt(fd, SOL_SOCKET, SO_ERROR) is how a process that connected
 * without blocking (curl, libuv, Go, asyncio, nginx) learns the outcome,
 * after poll/epoll says the socket is writable. Only the first call on a
 * client connection matters.
 */
static __always_inline void on_getsockopt_enter(int fd, long level,
						long optname, __u64 optval)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct conn_key key = { .tgid = pid_tgid >> 32, .fd = fd };
	struct conn_state *st;

	if (level != SOL_SOCKET || optname != SO_ERROR)
		return;
	st = bpf_map_lookup_elem(&conns, &key);
	if (!st || st->role != HT_ROLE_CLIENT || st->app_saw_connect)
		return;
	set_pending_connect((__u32)pid_tgid, st->gen, fd, optval);
}

static __always_inline void on_getsockopt_exit(long ret)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid;
	struct pending_connect *pc;
	int err = 0;

	pc = bpf_map_lookup_elem(&pending_connects, &tid);
	if (!pc || !pc->ts)
		return;
	if (ret == 0 && pc->optval &&
	    !bpf_probe_read_user(&err, sizeof(err), (void *)pc->optval))
		emit_app_connect_done(pid_tgid >> 32, pc, err < 0 ? -err : err);
	pc->ts = 0;
}

/* inet_sock_set_state: may run in softirq, so owner comes from sock_conns */
static __always_inline void on_state_change(struct sock *sk, int oldstate,
					    int newstate)
{
	__u64 skp = (__u64)sk;
	struct ht_conn_id *id;
	struct conn_state *st;
	struct conn_key key;

	if (connect_via_state_change && oldstate == TCP_CLOSE &&
	    newstate == TCP_SYN_SENT) {
		on_connect_start(sk);
		return;
	}
	if (oldstate != TCP_SYN_SENT && newstate != TCP_CLOSE)
		return;
	id = bpf_map_lookup_elem(&sock_conns, &skp);
	if (!id)
		return;
	key.tgid = id->tgid;
	key.fd = id->fd;
	st = bpf_map_lookup_elem(&conns, &key);
	if (st && st->gen == id->gen && oldstate == TCP_SYN_SENT) {
		__s32 err = 0;

		if (newstate != TCP_ESTABLISHED) {
			err = BPF_CORE_READ(sk, sk_err);
			if (!err)
				err = ECONNREFUSED;
		}
		emit_conn_event(HT_EV_CONNECT_DONE, id, st, sk,
				bpf_ktime_get_ns(), err, HT_SRC_STATE_CHANGE,
				false);
	}
	if (newstate == TCP_CLOSE)
		bpf_map_delete_elem(&sock_conns, &skp);
}

static __always_inline void on_accept_enter(void)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct pending_accept *pa, idle = {};

	if (!want_current(id >> 32))
		return;
	pa = thread_slot(&pending_accepts, (__u32)id, &idle);
	if (!pa)
		return;
	pa->ts = bpf_ktime_get_ns();
	pa->sk = 0;
}

/* inet_csk_accept returned newsk (fexit/kretprobe modes) */
static __always_inline void on_inet_csk_accept(struct sock *newsk)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct pending_accept *pa;

	pa = bpf_map_lookup_elem(&pending_accepts, &tid);
	if (pa && pa->ts && newsk)
		pa->sk = (__u64)newsk;
}

static __always_inline void on_accept_exit(long ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct pending_accept *pa;
	struct conn_state *st;
	struct ht_conn_id id;
	struct sock *sk;

	/* A server usually sits in accept() already when the tracer starts,
	 * so there may be no entry: then the fd leads to the socket. */
	pa = bpf_map_lookup_elem(&pending_accepts, &tid);
	if (pa && !pa->ts)
		pa = NULL;
	if (!pa && !want_current(bpf_get_current_pid_tgid() >> 32))
		return;
	if (ret >= 0) {
		sk = pa && pa->sk ? (struct sock *)pa->sk : sock_from_fd(ret);
		if (sk && is_tcp_sock(sk)) {
			st = track_conn(sk, ret, bpf_ktime_get_ns(),
					HT_ROLE_SERVER, &id);
			if (st)
				emit_conn_event(HT_EV_ACCEPT, &id, st, sk,
						id.gen, 0, HT_SRC_SYSCALL, true);
		}
	}
	if (pa)
		pa->ts = 0;
}

static __always_inline void on_close_enter(int fd)
{
	struct conn_key key = { .tgid = bpf_get_current_pid_tgid() >> 32,
				.fd = fd };
	struct conn_state *st = bpf_map_lookup_elem(&conns, &key);
	struct ht_conn_id id;

	if (!st) {
		dns_on_close(key.tgid, fd);
		return;
	}
	id.tgid = key.tgid;
	id.fd = fd;
	id.gen = st->gen;
	emit_conn_event(HT_EV_CLOSE, &id, st, NULL, bpf_ktime_get_ns(), 0,
			HT_SRC_SYSCALL, true);
	bpf_map_delete_elem(&conns, &key);
}

#endif /* HTTPTRACE_CONN_BPF_H */
