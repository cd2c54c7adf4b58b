/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Go's crypto/tls, shared by bpf/go_tls.bpf.h and its loader
 * (src/kernel/go_attach.c): the calls that made no record, and where the
 * socket's fd is in Go's structs.
 */
#ifndef HTTPTRACE_GO_TLS_H
#define HTTPTRACE_GO_TLS_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/*
 * Index into the per-CPU "go_tls_errors" array: Go TLS calls that moved
 * plaintext (or a handshake that was reported) on a connection no record
 * can be made for. Never a record on another connection.
 */
enum ht_go_tls_error {
	/* the tls.Conn's socket is not one the tracer follows in that
	 * process when the call starts: opened before the tracer
	 * started, not TCP (a unix socket), or closed already */
	HT_GO_TLS_UNTRACKED = 0,
	/* the tls.Conn does not sit on a socket of the net package: a
	 * net.Pipe, TLS inside TLS, or a net.Conn of the program's own
	 * (a wrapper) the loader found no way through */
	HT_GO_TLS_NOT_SOCKET = 1,
	/* the socket the call started on was closed before the call
	 * returned (its fd perhaps another socket's already) */
	HT_GO_TLS_CLOSED = 2,
	HT_GO_TLS_ERROR_COUNT,
};

/*
 * From a *tls.Conn to the socket's fd (amd64), held from Go 1.17 to
 * Go 1.26 (the loader may set others):
 *   tls.Conn{conn net.Conn, ...}: the interface's data word at 8
 *     (its first word is the itab);
 *   *net.TCPConn{conn{fd *netFD}}: the *netFD at 0;
 *   netFD{pfd poll.FD{fdmu fdMutex (16 bytes), Sysfd int, ...}}: the fd
 *     at 16.
 */
#define HT_GO_TLS_CONN_DATA_OFF 8
#define HT_GO_NET_CONN_FD_OFF 0
#define HT_GO_NETFD_SYSFD_OFF 16

/*
 * What stands behind a tls.Conn's net.Conn, by the dynamic type's hash
 * (Go's itab.hash, the type's own hash): the value of the "go_conn_types"
 * map, filled by the loader from each Go program's type descriptors
 * (src/discover/go_locate.c). Programs wrap their connections in structs
 * of their own (Prometheus's conntrack, netutil.LimitListener,
 * client-go's connrotation): such a struct holds the net.Conn, or the
 * *net.TCPConn, it wraps at some offset. A type not in the map is read as
 * a *net.TCPConn, as before the map (a program whose types could not be
 * read), and the socket it leads to must still be one the tracer follows.
 */
enum ht_go_conn_kind {
	HT_GO_CONN_TCP = 1,       /* *net.TCPConn */
	HT_GO_CONN_IFACE = 2,     /* a struct with a net.Conn at off */
	HT_GO_CONN_TCP_PTR = 3,   /* a struct with a *net.TCPConn at off */
	/* two programs' types of one hash differ in where the wrapped
	 * connection is: followed in neither */
	HT_GO_CONN_AMBIGUOUS = 4,
	/* a *tls.Conn under the tls.Conn: TLS inside TLS (through an
	 * HTTPS proxy). Its plaintext is the outer connection's records,
	 * so both would claim the socket: not followed */
	HT_GO_CONN_TLS = 5,
};

struct ht_go_conn_type {
	__u8 kind;  /* enum ht_go_conn_kind */
	__u8 _pad;
	__u16 off;  /* HT_GO_CONN_IFACE, HT_GO_CONN_TCP_PTR: where in the
		     * struct the wrapped connection is */
};

/* wrappers inside wrappers followed, and types kept in the map */
#define HT_GO_CONN_LEVELS 4
#define HT_GO_CONN_TYPES_MAX 4096

#endif /* HTTPTRACE_GO_TLS_H */
