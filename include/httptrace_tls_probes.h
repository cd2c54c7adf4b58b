/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The TLS functions probed, as numbers both sides know. Where uprobe_multi
 * links exist (Linux 6.6+), one entry program (uprobe_tls_multi) serves
 * every TLS function of a library and reads which one was called from the
 * attach cookie, one of these; elsewhere each has a program of its own.
 */
#ifndef HTTPTRACE_TLS_PROBES_H
#define HTTPTRACE_TLS_PROBES_H

enum ht_tls_probe {
	HT_TLSP_SSL_WRITE,
	HT_TLSP_SSL_WRITE_EX,
	HT_TLSP_SSL_READ,
	HT_TLSP_SSL_READ_EX,
	HT_TLSP_SSL_PEEK,
	HT_TLSP_SSL_HANDSHAKE,
	HT_TLSP_SSL_SHUTDOWN,
	HT_TLSP_SSL_VERIFY,
	HT_TLSP_TLS_FREE,
	HT_TLSP_GNUTLS_SEND,
	HT_TLSP_GNUTLS_RECV,
	HT_TLSP_GNUTLS_HANDSHAKE,
	HT_TLSP_GNUTLS_VERIFY2,
	HT_TLSP_GNUTLS_VERIFY3,
	HT_TLSP_GNUTLS_BYE,
	HT_TLSP_COUNT,
};

#endif /* HTTPTRACE_TLS_PROBES_H */
