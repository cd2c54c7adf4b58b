/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The TLS functions probed, the one list both sides are made from.
 *
 * A probe is what the BPF side does with a call (bpf/tls.bpf.h,
 * on_tls_probe()). Where uprobe_multi links exist (Linux 6.6+), one entry
 * program (uprobe_tls_multi) serves every TLS function of a library and
 * reads which probe from the attach cookie, an enum ht_tls_probe; else
 * each probe has a program of its own, uprobe_<prog>
 * (bpf/httptrace.bpf.c), which src/kernel/tls_attach.c finds by the same
 * list.
 *
 * X(id, prog, lib, op, buf_arg, lenp_arg)
 *   id        HT_TLSP_<id>, the attach cookie
 *   prog      the per-probe program is uprobe_<prog>
 *   lib       enum ht_tls_lib of its records
 *   op        what the call does (bpf/tls.bpf.h, enum tls_call_op without
 *             its TLS_CALL_ prefix); FREE ends the session's tie
 *   buf_arg   which integer argument is the plaintext buffer, 0: none
 *   lenp_arg  which is the out-parameter with the count (the *_ex
 *             calls) or the verdict (GnuTLS's verify), 0: none
 * The session is always the first argument.
 */
#ifndef HTTPTRACE_TLS_PROBES_H
#define HTTPTRACE_TLS_PROBES_H

#define HT_TLS_PROBES(X)                                                  \
	/* int SSL_write(SSL *, const void *, int) */                     \
	X(SSL_WRITE, ssl_write, HT_TLS_OPENSSL, WRITE, 1, 0)              \
	/* int SSL_write_ex(SSL *, const void *, size_t,                  \
	 *     size_t *written) */                                        \
	X(SSL_WRITE_EX, ssl_write_ex, HT_TLS_OPENSSL, WRITE, 1, 3)        \
	/* int SSL_read(SSL *, void *, int) */                            \
	X(SSL_READ, ssl_read, HT_TLS_OPENSSL, READ, 1, 0)                 \
	/* int SSL_read_ex(SSL *, void *, size_t, size_t *readbytes) */   \
	X(SSL_READ_EX, ssl_read_ex, HT_TLS_OPENSSL, READ, 1, 3)           \
	/* SSL_peek(_ex): ties, reports no bytes */                       \
	X(SSL_PEEK, ssl_peek, HT_TLS_OPENSSL, PEEK, 0, 0)                 \
	/* SSL_do_handshake/connect/accept(SSL *) */                      \
	X(SSL_HANDSHAKE, ssl_handshake, HT_TLS_OPENSSL, HANDSHAKE, 0, 0)  \
	/* SSL_shutdown(SSL *) */                                         \
	X(SSL_SHUTDOWN, ssl_shutdown, HT_TLS_OPENSSL, SHUTDOWN, 0, 0)     \
	/* long SSL_get_verify_result(const SSL *) */                     \
	X(SSL_VERIFY, ssl_verify, HT_TLS_OPENSSL, VERIFY, 0, 0)           \
	/* SSL_free(SSL *), gnutls_deinit(session) */                     \
	X(TLS_FREE, tls_free, HT_TLS_OPENSSL, FREE, 0, 0)                 \
	/* ssize_t gnutls_record_send(session, const void *, size_t) */   \
	X(GNUTLS_SEND, gnutls_send, HT_TLS_GNUTLS, WRITE, 1, 0)           \
	/* ssize_t gnutls_record_recv(session, void *, size_t) */         \
	X(GNUTLS_RECV, gnutls_recv, HT_TLS_GNUTLS, READ, 1, 0)            \
	/* int gnutls_handshake(session) */                               \
	X(GNUTLS_HANDSHAKE, gnutls_handshake, HT_TLS_GNUTLS, HANDSHAKE,   \
	  0, 0)                                                           \
	/* int gnutls_certificate_verify_peers2(session,                  \
	 *     unsigned *status) */                                       \
	X(GNUTLS_VERIFY2, gnutls_verify2, HT_TLS_GNUTLS, VERIFY, 0, 1)    \
	/* int gnutls_certificate_verify_peers3(session,                  \
	 *     const char *hostname, unsigned *status) */                 \
	X(GNUTLS_VERIFY3, gnutls_verify3, HT_TLS_GNUTLS, VERIFY, 0, 2)    \
	/* int gnutls_bye(session, how) */                                \
	X(GNUTLS_BYE, gnutls_bye, HT_TLS_GNUTLS, SHUTDOWN, 0, 0)

#define HT_TLSP_ENUM_(id, prog, lib, op, buf_arg, lenp_arg) HT_TLSP_##id,

enum ht_tls_probe {
	HT_TLS_PROBES(HT_TLSP_ENUM_)
	HT_TLSP_COUNT,
};

/*
 * The library functions attached, and the probe each goes to: several
 * functions may share one (SSL_connect and SSL_accept call
 * SSL_do_handshake, and count as one call). A library is attached when
 * all its required functions are there; one that lacks another (an older
 * version) is attached without it, said with -v.
 *
 * X(lib, symbol, probe, ret, required)
 *   lib       enum ht_tls_lib: the library the symbol is looked up for
 *   symbol    the function's name
 *   probe     HT_TLSP_<probe>
 *   ret       also a return probe (uretprobe_tls)
 *   required  without it the library is not worth attaching
 *
 * Not attached, on purpose: SSL_peek/SSL_peek_ex (peeked bytes come
 * again from the read that consumes them, which is where they count),
 * SSL_shutdown and gnutls_bye (their close_notify says nothing a
 * timeline needs). Every probe costs each call about 10 us here; on
 * kernels without uprobe_multi links its removal at exit also costs an
 * RCU grace period under a global lock (about 75 ms each on this
 * virtual machine): fewer is better. The BPF programs for them stay,
 * for a later opt-in.
 */
#define HT_TLS_SYMBOLS(X)                                                 \
	X(HT_TLS_OPENSSL, SSL_write, SSL_WRITE, 1, 1)                     \
	X(HT_TLS_OPENSSL, SSL_read, SSL_READ, 1, 1)                       \
	X(HT_TLS_OPENSSL, SSL_write_ex, SSL_WRITE_EX, 1, 0)               \
	X(HT_TLS_OPENSSL, SSL_read_ex, SSL_READ_EX, 1, 0)                 \
	X(HT_TLS_OPENSSL, SSL_do_handshake, SSL_HANDSHAKE, 1, 0)          \
	X(HT_TLS_OPENSSL, SSL_connect, SSL_HANDSHAKE, 1, 0)               \
	X(HT_TLS_OPENSSL, SSL_accept, SSL_HANDSHAKE, 1, 0)                \
	X(HT_TLS_OPENSSL, SSL_get_verify_result, SSL_VERIFY, 1, 0)        \
	X(HT_TLS_OPENSSL, SSL_free, TLS_FREE, 0, 0)                       \
	X(HT_TLS_GNUTLS, gnutls_record_send, GNUTLS_SEND, 1, 1)           \
	X(HT_TLS_GNUTLS, gnutls_record_recv, GNUTLS_RECV, 1, 1)           \
	X(HT_TLS_GNUTLS, gnutls_handshake, GNUTLS_HANDSHAKE, 1, 0)        \
	/* GnuTLS leaves the certificate check to the caller, after the   \
	 * handshake (wget): its verdict says why a client hung up */     \
	X(HT_TLS_GNUTLS, gnutls_certificate_verify_peers2, GNUTLS_VERIFY2,\
	  1, 0)                                                           \
	X(HT_TLS_GNUTLS, gnutls_certificate_verify_peers3, GNUTLS_VERIFY3,\
	  1, 0)                                                           \
	X(HT_TLS_GNUTLS, gnutls_deinit, TLS_FREE, 0, 0)

#endif /* HTTPTRACE_TLS_PROBES_H */
