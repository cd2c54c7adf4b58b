/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Go's crypto/tls, shared by bpf/go_tls.bpf.h and its loader
 * (src/kernel/go_attach.c): the calls that made no record, and where the
 * socket's fd is in Go's structs.
 */
#ifndef HTTPTRACE_GO_TLS_H
#define HTTPTRACE_GO_TLS_H

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
	 * net.Pipe, or a net.Conn of the program's own (a wrapper) */
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

#endif /* HTTPTRACE_GO_TLS_H */
