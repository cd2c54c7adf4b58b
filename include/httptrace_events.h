/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Records that the BPF programs put on the ring buffer and the userspace
 * daemon reads. Shared by both sides, so only fixed-width types: the BPF
 * side gets them from vmlinux.h, userspace from <linux/types.h>.
 *
 * Every record starts with struct ht_event_header. Times are
 * bpf_ktime_get_ns(), i.e. CLOCK_MONOTONIC in nanoseconds.
 */
#ifndef HTTPTRACE_EVENTS_H
#define HTTPTRACE_EVENTS_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#include "httptrace_io_syscalls.h"

#define HT_COMM_LEN 16
#define HT_DNS_HOST_LEN 128
#define HT_DNS_MAX_ADDRS 8
/* getaddrinfo's service argument: a port number or a name in
 * /etc/services, which are short */
#define HT_DNS_SERVICE_LEN 32
/* Hard upper bound of the per-chunk capture; must be a power of two
 * because the BPF side masks lengths with (HT_MAX_CAPTURE - 1). */
#define HT_MAX_CAPTURE 16384
#define HT_DEFAULT_CAPTURE 4096
/* iovec entries looked at per writev/readv/sendmsg/recvmsg */
#define HT_MAX_IOV 8

enum ht_event_type {
	HT_EV_CONNECT_START = 1, /* connect() reached TCP on a socket */
	HT_EV_CONNECT_DONE = 2,  /* handshake finished (err == 0) or failed;
				  * see enum ht_connect_source */
	HT_EV_ACCEPT = 3,        /* accept() returned a TCP socket */
	HT_EV_DATA = 4,          /* read/write family on a tracked socket */
	HT_EV_CLOSE = 5,         /* close() of a tracked socket */
	HT_EV_DNS = 6,           /* getaddrinfo() returned */
	HT_EV_PROC_EXIT = 7,     /* a traced process exited */
	HT_EV_TLS_DATA = 8,      /* plaintext through a TLS library call
				  * (SSL_write, gnutls_record_recv, ...) on
				  * a tracked socket: struct ht_data_event,
				  * with `call` = enum ht_tls_lib */
	HT_EV_TLS = 9,           /* a TLS handshake call returned, or the
				  * certificate verify result was read:
				  * struct ht_tls_event */
	HT_EV_EXEC = 10,         /* a process called exec(): struct
				  * ht_exec_event, on the exec_events ring
				  * (the loader's, never the correlator's) */
	HT_EV_DNS_WIRE = 11,     /* a DNS message on a UDP or TCP port 53
				  * socket, as sent or received: struct
				  * ht_dns_wire_event */
};

/* Which TLS library a TLS record came from. */
enum ht_tls_lib {
	HT_TLS_UNKNOWN = 0,
	HT_TLS_OPENSSL = 1, /* also BoringSSL/LibreSSL: same API */
	HT_TLS_GNUTLS = 2,
	HT_TLS_GO = 3,      /* Go's crypto/tls: uprobes at the entry and at
			     * every RET of (*Conn).Write/Read/handshake
			     * (src/discover/go_locate.h); HT_EV_TLS
			     * handshake ret: 0 success, 1 an error */
	HT_TLS_LIB_COUNT,
};

/* What an HT_EV_TLS record reports. */
enum ht_tls_op {
	HT_TLS_OP_HANDSHAKE = 0, /* SSL_do_handshake/SSL_connect/SSL_accept,
				  * gnutls_handshake returned `ret` */
	HT_TLS_OP_VERIFY = 1,    /* SSL_get_verify_result returned `ret`
				  * (an X509_V_* code); GnuTLS (lib):
				  * gnutls_certificate_verify_peers2/3's
				  * verdict (gnutls_certificate_status_t
				  * bits, >= 0) or its error (< 0) */
	HT_TLS_OP_HANDSHAKE_START = 2, /* Go: handshakeContext entered on
					* a connection whose handshake was
					* not reported yet (ret 0): a dial
					* Go gives up on closes its socket
					* before the call returns */
	HT_TLS_OP_COUNT,
};

enum ht_role {
	HT_ROLE_CLIENT = 0,
	HT_ROLE_SERVER = 1,
};

enum ht_direction {
	HT_DIR_EGRESS = 0,  /* the process wrote */
	HT_DIR_INGRESS = 1, /* the process read */
};

/* Which syscall produced a data record (httptrace_io_syscalls.h). */
enum ht_io_call {
	HT_IO_SYSCALLS(HT_IO_ENUM_)
	HT_IO_CALL_COUNT = 0 HT_IO_SYSCALLS(HT_IO_ONE_),
};

/* every value from 0 to the count, once: none repeated, none skipped */
_Static_assert((0 HT_IO_SYSCALLS(HT_IO_BIT_)) ==
		       (1u << HT_IO_CALL_COUNT) - 1,
	       "HT_IO_SYSCALLS: values must be 0..count-1, each once");

/* Which path reported a connect outcome; kept for debugging attach modes. */
enum ht_connect_source {
	HT_SRC_STATE_CHANGE = 0, /* inet_sock_set_state */
	HT_SRC_SYSCALL = 1,      /* the process learned the outcome: connect()
				  * returned, or getsockopt(SO_ERROR) */
	HT_SRC_PROBE = 2,        /* tcp_connect kprobe/fentry */
};

struct ht_addr {
	__u16 family; /* AF_INET or AF_INET6; 0 = unknown */
	__u16 port;   /* host byte order */
	__u8 addr[16];/* IPv4 in the first 4 bytes */
};

/*
 * Records of kernels without BPF atomic fetch (before 5.12) carry this
 * bit in seq: they are not numbered, and the other bits count the
 * connection's records lost just before (bpf/core_fixes.bpf.h).
 */
#define HT_SEQ_UNNUMBERED 0x80000000u

/*
 * A connection is {tgid, fd, gen}: fds and pids are reused, gen (the
 * monotonic time the connection was first seen) keeps two lives apart.
 */
struct ht_conn_id {
	__u32 tgid;
	__s32 fd;
	__u64 gen;
};

struct ht_event_header {
	__u64 ts_ns;
	__u32 type; /* enum ht_event_type */
	__u32 tgid;
	__u32 tid;
	__u32 _pad;
	char comm[HT_COMM_LEN];
};

/* HT_EV_CONNECT_START, HT_EV_CONNECT_DONE, HT_EV_ACCEPT, HT_EV_CLOSE */
struct ht_conn_event {
	struct ht_event_header hdr;
	struct ht_conn_id conn;
	/* per-connection sequence number, from 0; a jump means records of
	 * this connection were lost. With HT_SEQ_UNNUMBERED set (kernels
	 * without BPF atomic fetch): the records of this connection lost
	 * since the last one sent, in the other bits. */
	__u32 seq;
	__u8 role;   /* enum ht_role */
	__u8 source; /* enum ht_connect_source */
	__u16 _pad;
	__s32 err;   /* positive errno, 0 = success */
	__u32 _pad2;
	struct ht_addr saddr;
	struct ht_addr daddr;
	/* HT_EV_CONNECT_START, HT_EV_ACCEPT: the cgroup (v2) the calling
	 * task was in, bpf_get_current_cgroup_id(); 0 on the other records
	 * and when not known. Last, so that a record of recording format 3
	 * or older, made before it existed, is this one cut short
	 * (src/record/recording.c pads those). */
	__u64 cgroup_id;
};

/* HT_EV_DATA; followed by captured_len bytes */
struct ht_data_event {
	struct ht_event_header hdr;
	struct ht_conn_id conn;
	__u32 seq;
	__u8 direction; /* enum ht_direction */
	__u8 call;      /* enum ht_io_call */
	__u16 flags;    /* HT_DATA_*; 0: data is the first captured_len
			 * bytes moved */
	__u64 enter_ns; /* when the syscall began; hdr.ts_ns is when it returned */
	__s64 ret;      /* bytes moved, or -errno */
	__u32 captured_len; /* <= ret, <= capture cap */
	__u32 _pad2;
	__u8 data[];
};

/*
 * HT_DATA_ELIDED: a record of an HTTP/2 connection, whose frames the
 * BPF side follows, with the payloads of DATA frames left out, so that
 * header blocks anywhere in a large read reach the parser whole and
 * bodies cost the ring nothing. data[0..captured_len) is:
 *
 *   the kept bytes: the bytes moved, in order, without the runs below;
 *   struct ht_elided_run runs[n]: the runs left out, each an offset in
 *     the bytes moved (0..ret) and a length; increasing, not touching
 *     each other, each inside one DATA payload and at least
 *     HT_ELIDED_MIN_RUN long (so captured_len < ret);
 *   __u32 n: 1..HT_ELIDED_MAX_RUNS.
 *
 * So the kept bytes are captured_len - 4 - 8 * n long. Bytes moved past
 * the last kept byte that are in no run were not captured, as in an
 * ordinary record (more frames in one call than the program follows).
 * The runs are bytes moved but not captured inside DATA payloads.
 * Records of HTTP/2 connections with no run to leave out are ordinary
 * (flags 0), captured up to HT_ELIDED_KEEP_MAX bytes; so are, up to the
 * capture cap, those of a direction whose frames the BPF side lost
 * (bpf/h2.bpf.h), until it finds them again.
 */
#define HT_DATA_ELIDED 0x1
/* As many runs as the BPF side follows DATA frames in one call (a
 * frame header and a payload are a step each, of H2_STEPS 64): the
 * runs never end the capture of a call whose frames it follows to the
 * end. With fewer, a 300 kB body in one call (19 frames of 16 KiB)
 * lost the frame headers after the 16th run, and with them the
 * direction's HPACK table for the parser. A power of two (masks). */
#define HT_ELIDED_MAX_RUNS 32
#define HT_ELIDED_MIN_RUN 16
/* kept bytes at most: with the runs and their count, within
 * HT_MAX_CAPTURE */
#define HT_ELIDED_KEEP_MAX (HT_MAX_CAPTURE - 8 * HT_ELIDED_MAX_RUNS - 8)

struct ht_elided_run {
	__u32 at;  /* offset in the bytes moved */
	__u32 len;
};

/*
 * HT_EV_TLS. The connection is the socket the library's own I/O used in
 * this session (the tie is made without reading library structs).
 */
struct ht_tls_event {
	struct ht_event_header hdr;
	struct ht_conn_id conn;
	__u32 seq;      /* shares the connection's sequence */
	__u8 lib;       /* enum ht_tls_lib */
	__u8 op;        /* enum ht_tls_op */
	__u16 _pad;
	__u64 enter_ns; /* the call's entry; hdr.ts_ns is its return */
	__s64 ret;      /* the call's return value */
	__u64 session;  /* SSL * or gnutls_session_t, for debugging */
};

/* HT_EV_EXEC */
struct ht_exec_event {
	struct ht_event_header hdr; /* the new image's pid and comm */
};

/* HT_EV_DNS */
struct ht_dns_event {
	struct ht_event_header hdr;
	__u64 enter_ns; /* getaddrinfo() entry; hdr.ts_ns is its return */
	__s32 ret;      /* getaddrinfo() return code (EAI_*), 0 = success */
	__u32 n_addrs;  /* addresses copied (<= HT_DNS_MAX_ADDRS) */
	char host[HT_DNS_HOST_LEN];
	/* each with the port getaddrinfo filled in from the service, 0
	 * when the caller gave none */
	struct ht_addr addrs[HT_DNS_MAX_ADDRS];
	/* the service asked, "" when none; last, so that a record of
	 * recording format 1, made before it existed, is this one cut
	 * short (src/record/recording.c pads those) */
	char service[HT_DNS_SERVICE_LEN];
};

/*
 * HT_EV_DNS_WIRE: one DNS message a process sent to or received from
 * port 53 (bpf/dns_wire.bpf.h), on any socket of that port, tracked or
 * not by the connection code (TCP sockets to port 53 are left to this
 * record alone: a DNS stream is never HTTP). UDP: data is the start of
 * one datagram (a sendmmsg/recvmmsg gives a record per message, up to
 * HT_DNS_WIRE_MMSG_MAX). TCP: the bytes one call moved, 2-byte length
 * prefixes included, for userspace to cut into messages; followed by
 * captured_len bytes.
 */
#define HT_DNS_WIRE_MAX 512       /* bytes of a message captured */
#define HT_DNS_WIRE_MMSG_MAX 2    /* messages of one sendmmsg/recvmmsg */
#define HT_DNS_PORT 53

enum ht_dns_proto {
	HT_DNS_UDP = 0,
	HT_DNS_TCP = 1,
};

/* `call` of an HT_EV_DNS_WIRE record: enum ht_io_call, or these two,
 * which only DNS sockets are followed through */
#define HT_DNS_CALL_SENDMMSG 0x40
#define HT_DNS_CALL_RECVMMSG 0x41

struct ht_dns_wire_event {
	struct ht_event_header hdr; /* ts_ns: the call returned */
	__u64 gen;      /* when the socket was first seen as a DNS one:
			 * with {tgid, fd}, one socket's life */
	__u64 enter_ns; /* the call's entry */
	__s32 fd;
	__u8 direction; /* enum ht_direction */
	__u8 proto;     /* enum ht_dns_proto */
	__u8 call;      /* see above */
	__u8 _pad;
	struct ht_addr peer; /* the server's address (family 0: unknown) */
	__u32 msg_len;  /* bytes the call moved for this message */
	__u32 captured_len; /* <= msg_len, <= HT_DNS_WIRE_MAX */
	__u8 data[];
};

/* HT_EV_PROC_EXIT */
struct ht_exit_event {
	struct ht_event_header hdr;
	__s32 exit_code;
	__u32 _pad;
};

/* Index into the per-CPU "drops" array: what could not be reserved. */
enum ht_drop_kind {
	HT_DROP_CONN = 0, /* connection and data records */
	HT_DROP_DNS = 1,
	HT_DROP_OTHER = 2,
	HT_DROP_KIND_COUNT,
};

#endif /* HTTPTRACE_EVENTS_H */
