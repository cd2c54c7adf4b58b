/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * DNS from the wire: the messages of sockets that talk to port 53, for
 * resolvers that never call getaddrinfo (Go's, c-ares, musl's own).
 *
 * A socket becomes a DNS one when it connect()s to port 53 (glibc, Go
 * and c-ares connect their UDP sockets; a TCP one is then not tracked
 * as a connection: its stream is never HTTP), or when a sendto, sendmsg
 * or sendmmsg names port 53 as its destination (musl). From then on its
 * sends and receives, whatever the call, go out as HT_EV_DNS_WIRE
 * records, and its close forgets it.
 *
 * Cost on other sockets: connect() reads the first 4 bytes of its
 * address; a sendto with an address reads 4 bytes of it, a sendmsg 8
 * of its msghdr (and 4 of the address it names); sendmmsg/recvmmsg
 * entries (rare calls) are looked at. The read/write family on
 * untracked fds looks dns_socks up only while a DNS socket is open
 * somewhere on the host (dns_socks_open): else it costs one load. A
 * process exit costs a lookup in dns_procs while one is open.
 */
#ifndef HTTPTRACE_DNS_WIRE_BPF_H
#define HTTPTRACE_DNS_WIRE_BPF_H

#include "core_fixes.bpf.h"
#include "maps.bpf.h"

#define DNS_MAX_SOCKS 1024
#define DNS_SOCK_DGRAM 2
#define DNS_SOCK_STREAM 1

/* The destination port that makes a socket a DNS one; a setting, so a
 * resolver on another port could be followed later. 64 bits: the
 * .rodata section stays as long as the skeleton's struct of it
 * (variants_open() checks). */
const volatile __u64 dns_port = HT_DNS_PORT;

struct dns_sock {
	__u64 gen;
	struct ht_addr peer; /* the connect()'s, or the last send's */
	__u8 proto;          /* enum ht_dns_proto */
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, DNS_MAX_SOCKS);
	__type(key, struct conn_key);
	__type(value, struct dns_sock);
} dns_socks SEC(".maps");

/* DNS sockets added and not yet seen closed, nor their process exit:
 * while 0, nothing on the read/write path looks dns_socks up. (An entry
 * the LRU evicts keeps it up: then it only costs that lookup.) */
__u64 dns_socks_open = 0;

/* The same count per process, taken off the total when it exits with
 * DNS sockets open (the kernel closes them without a close()). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, DNS_MAX_SOCKS);
	__type(key, __u32);
	__type(value, __u64);
} dns_procs SEC(".maps");

static __always_inline void dns_count(__u32 tgid, __s64 d)
{
	__u64 *n = bpf_map_lookup_elem(&dns_procs, &tgid), one = 1;

	__sync_fetch_and_add(&dns_socks_open, d);
	if (n)
		__sync_fetch_and_add(n, d);
	else if (d > 0)
		bpf_map_update_elem(&dns_procs, &tgid, &one, BPF_NOEXIST);
}

/* The whole process exited: its DNS sockets are gone. */
static __always_inline void dns_on_exit(__u32 tgid)
{
	__u64 *n;

	if (!dns_socks_open)
		return;
	n = bpf_map_lookup_elem(&dns_procs, &tgid);
	if (!n)
		return;
	__sync_fetch_and_add(&dns_socks_open, -*n);
	bpf_map_delete_elem(&dns_procs, &tgid);
}

/* struct sockaddr_in / sockaddr_in6 as a process hands them over */
struct dns_user_sockaddr {
	__u16 family;
	__u16 port;  /* network order */
	__u32 flowinfo_or_v4addr; /* sin_addr for AF_INET */
	__u8 addr6[16];
};

struct dns_user_iovec {
	__u64 base;
	__u64 len;
};

/* struct mmsghdr */
struct dns_user_mmsghdr {
	struct user_msghdr hdr;
	__u32 len;
	__u32 _pad;
};

/* Whether the user sockaddr at p names dns_port; its address in out. */
static __always_inline bool dns_read_peer(__u64 p, struct ht_addr *out)
{
	struct dns_user_sockaddr sa;

	__builtin_memset(out, 0, sizeof(*out));
	if (!p || bpf_probe_read_user(&sa, sizeof(sa), (void *)p))
		return false;
	if (sa.family == 2 /* AF_INET */)
		__builtin_memcpy(out->addr, &sa.flowinfo_or_v4addr, 4);
	else if (sa.family == 10 /* AF_INET6 */)
		__builtin_memcpy(out->addr, sa.addr6, 16);
	else
		return false;
	out->family = sa.family;
	out->port = bpf_ntohs(sa.port);
	return true;
}

/* Only the port, for the calls of every socket: 4 bytes read. */
static __always_inline bool dns_names_port(__u64 p)
{
	struct {
		__u16 family;
		__u16 port;
	} sa;

	if (!p || bpf_probe_read_user(&sa, sizeof(sa), (void *)p))
		return false;
	return (sa.family == 2 || sa.family == 10) &&
	       bpf_ntohs(sa.port) == dns_port;
}

/* Makes fd of the current process a DNS socket (again: a new gen). */
static __always_inline struct dns_sock *dns_sock_add(__u32 tgid, int fd,
						     __u8 proto,
						     const struct ht_addr *peer)
{
	struct conn_key key = { .tgid = tgid, .fd = fd };
	struct dns_sock ds = { .gen = bpf_ktime_get_ns(), .proto = proto };

	ds.peer = *peer;
	if (!bpf_map_update_elem(&dns_socks, &key, &ds, BPF_NOEXIST))
		dns_count(tgid, 1);
	else
		bpf_map_update_elem(&dns_socks, &key, &ds, BPF_ANY);
	return bpf_map_lookup_elem(&dns_socks, &key);
}

/*
 * connect(fd, addr): true when it goes to dns_port, which makes fd a DNS
 * socket whether it is UDP or TCP (then not to be tracked).
 */
static __always_inline bool dns_on_connect(__u32 tgid, int fd, __u64 addr)
{
	struct ht_addr peer;
	struct sock *sk;
	__u16 type;

	if (!dns_names_port(addr) || !dns_read_peer(addr, &peer))
		return false;
	sk = sock_from_fd(fd);
	if (!sk)
		return false;
	type = BPF_CORE_READ(sk, sk_type);
	if (type != DNS_SOCK_DGRAM && type != DNS_SOCK_STREAM)
		return false;
	dns_sock_add(tgid, fd, type == DNS_SOCK_STREAM ? HT_DNS_TCP :
							 HT_DNS_UDP, &peer);
	return true;
}

static __always_inline void dns_on_close(__u32 tgid, int fd)
{
	struct conn_key key = { .tgid = tgid, .fd = fd };

	if (!dns_socks_open)
		return;
	if (!bpf_map_delete_elem(&dns_socks, &key))
		dns_count(tgid, -1);
}

/*
 * Entry of a read/write-family call on an fd the connection code does
 * not track: is it a DNS socket, or does this send make it one? `name`
 * is sendto/recvfrom's address argument (0 for other calls). Leaves the
 * call in io (marked dns) for dns_io_exit.
 */
static __always_inline void dns_io_enter(int fd, __u64 buf, __u32 iovcnt,
					 __u8 call, __u8 dir, __u64 name,
					 bool msghdr)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct conn_key key = { .tgid = pid_tgid >> 32, .fd = fd };
	struct user_msghdr msg;
	struct dns_sock *ds = NULL;
	struct ht_addr peer;

	if (msghdr) {
		/* msg_name first: one small read when it is NULL */
		if (bpf_probe_read_user(&name, sizeof(name), (void *)buf))
			return;
	}
	if (dir == HT_DIR_EGRESS && name && dns_names_port(name)) {
		if (!want_current(key.tgid) || !dns_read_peer(name, &peer))
			return;
		ds = dns_sock_add(key.tgid, fd, HT_DNS_UDP, &peer);
	} else if (dns_socks_open) {
		ds = bpf_map_lookup_elem(&dns_socks, &key);
	}
	if (!ds)
		return;
	if (msghdr) {
		if (bpf_probe_read_user(&msg, sizeof(msg), (void *)buf))
			return;
		buf = (__u64)msg.msg_iov;
		iovcnt = msg.msg_iovlen;
	}
	active_io_begin((__u32)pid_tgid, key.tgid, fd, ds->gen, buf, iovcnt,
			call, dir, 1, dir == HT_DIR_INGRESS ? name : 0);
}

/* sendmmsg/recvmmsg entry: vec is the struct mmsghdr array */
static __always_inline void dns_mmsg_enter(int fd, __u64 vec, __u32 vlen,
					   __u8 call, __u8 dir)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct conn_key key = { .tgid = pid_tgid >> 32, .fd = fd };
	struct dns_sock *ds = NULL;
	struct ht_addr peer;
	__u64 name = 0;

	if (!vlen)
		return;
	if (dir == HT_DIR_EGRESS &&
	    !bpf_probe_read_user(&name, sizeof(name), (void *)vec) &&
	    name && dns_names_port(name)) {
		if (!want_current(key.tgid) || !dns_read_peer(name, &peer))
			return;
		ds = dns_sock_add(key.tgid, fd, HT_DNS_UDP, &peer);
	} else if (dns_socks_open) {
		ds = bpf_map_lookup_elem(&dns_socks, &key);
	}
	if (!ds)
		return;
	active_io_begin((__u32)pid_tgid, key.tgid, fd, ds->gen, vec, vlen,
			call, dir, 1, 0);
}

/* Up to `want` (<= HT_DNS_WIRE_MAX) bytes of a message into out: from
 * buf itself (iovcnt 0) or from its first two iovecs. */
static __always_inline __u32 dns_copy(__u8 *out, __u64 buf, __u32 iovcnt,
				      __u32 want)
{
	__u32 off = 0;

	/* bounds the verifier follows whatever the compiler made of the
	 * caller's (they change no value) */
	asm volatile("" : "+r"(want));
	if (!iovcnt) {
		want &= 2 * HT_DNS_WIRE_MAX - 1;
		if (want > HT_DNS_WIRE_MAX)
			want = HT_DNS_WIRE_MAX;
		if (want && bpf_probe_read_user(out, want, (void *)buf))
			return 0;
		return want;
	}
	for (int i = 0; i < 2; i++) {
		struct dns_user_iovec iov;
		__u32 chunk;

		if (i >= iovcnt || off >= want)
			break;
		if (bpf_probe_read_user(&iov, sizeof(iov),
					(void *)(buf + i * sizeof(iov))))
			break;
		chunk = want - off;
		if (iov.len < chunk)
			chunk = iov.len;
		asm volatile("" : "+r"(chunk));
		off &= HT_DNS_WIRE_MAX - 1;
		chunk &= 2 * HT_DNS_WIRE_MAX - 1;
		if (chunk > HT_DNS_WIRE_MAX)
			chunk = HT_DNS_WIRE_MAX;
		if (!chunk ||
		    bpf_probe_read_user(out + off, chunk, (void *)iov.base))
			break;
		off += chunk;
	}
	return off;
}

static __always_inline void dns_emit(const struct active_io *io,
				     const struct dns_sock *ds,
				     struct ht_dns_wire_event *ev, __u64 buf,
				     __u32 iovcnt, __u32 len, __u64 name)
{
	__u32 want = len < HT_DNS_WIRE_MAX ? len : HT_DNS_WIRE_MAX;
	__u32 got = dns_copy(ev->data, buf, iovcnt, want);

	fill_header(&ev->hdr, HT_EV_DNS_WIRE, bpf_ktime_get_ns());
	ev->gen = io->conn.gen;
	ev->enter_ns = io->ts;
	ev->fd = io->conn.fd;
	ev->direction = io->direction;
	ev->proto = ds->proto;
	ev->call = io->call;
	ev->_pad = 0;
	if (!name || !dns_read_peer(name, &ev->peer))
		ev->peer = ds->peer;
	ev->msg_len = len;
	if (got > HT_DNS_WIRE_MAX)
		got = HT_DNS_WIRE_MAX;
	ev->captured_len = got;
	if (bpf_ringbuf_output(&events, ev, sizeof(*ev) + got, rb_flags()))
		count_drop(HT_DROP_DNS);
}

/* The exit of a call dns_io_enter or dns_mmsg_enter kept. */
static __always_inline void dns_io_exit(struct active_io *io, long ret)
{
	struct conn_key key = { .tgid = io->conn.tgid, .fd = io->conn.fd };
	__u32 cpu = bpf_get_smp_processor_id();
	struct data_scratch *scratch;
	struct ht_dns_wire_event *ev;
	struct dns_sock *ds;

	if (ret <= 0)
		return;
	ds = bpf_map_lookup_elem(&dns_socks, &key);
	if (!ds || ds->gen != io->conn.gen)
		return;
	scratch = bpf_map_lookup_elem(&data_scratches, &cpu);
	if (!scratch)
		return;
	ev = (struct ht_dns_wire_event *)scratch->bytes;
	if (io->call != HT_DNS_CALL_SENDMMSG &&
	    io->call != HT_DNS_CALL_RECVMMSG) {
		bool iov = io->call != HT_IO_WRITE && io->call != HT_IO_READ &&
			   io->call != HT_IO_SENDTO &&
			   io->call != HT_IO_RECVFROM;

		dns_emit(io, ds, ev, io->buf, iov ? io->iovcnt : 0, ret,
			 io->name);
		return;
	}
	for (int i = 0; i < HT_DNS_WIRE_MMSG_MAX; i++) {
		struct dns_user_mmsghdr m;

		if (i >= ret || i >= io->iovcnt)
			break;
		if (bpf_probe_read_user(&m, sizeof(m),
					(void *)(io->buf + i * sizeof(m))))
			break;
		if (!m.hdr.msg_iovlen)
			continue;
		dns_emit(io, ds, ev, (__u64)m.hdr.msg_iov, m.hdr.msg_iovlen,
			 m.len,
			 io->direction == HT_DIR_INGRESS ?
				 (__u64)m.hdr.msg_name : 0);
	}
}

#endif /* HTTPTRACE_DNS_WIRE_BPF_H */
