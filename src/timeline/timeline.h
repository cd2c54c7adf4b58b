/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * One HTTP request's timeline in net/http/httptrace.ClientTrace
 * vocabulary: what the correlator produces and the outputs print.
 */
#ifndef HTTPTRACE_TIMELINE_H
#define HTTPTRACE_TIMELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "httptrace_events.h"

/* ClientTrace hooks, spelled as Go spells the fields. */
enum tl_hook {
	TL_GetConn = 0,
	TL_DNSStart,
	TL_DNSDone,
	TL_ConnectStart,
	TL_ConnectDone,
	TL_TLSHandshakeStart,
	TL_TLSHandshakeDone,
	TL_GotConn,
	TL_WroteHeaders,
	TL_Wait100Continue,
	TL_Got100Continue,
	TL_WroteRequest,
	TL_GotFirstResponseByte,
	TL_Got1xxResponse,
	TL_PutIdleConn,
	TL_HOOK_COUNT,
};

enum tl_phase {
	TL_PHASE_DNS = 0,
	TL_PHASE_CONNECT,
	TL_PHASE_TLS,
	TL_PHASE_SEND,    /* first request byte written .. WroteRequest */
	TL_PHASE_WAIT,    /* WroteRequest .. GotFirstResponseByte */
	TL_PHASE_RECEIVE, /* GotFirstResponseByte .. last response byte */
	TL_PHASE_IDLE,    /* inside total but in no phase above: the process
			   * between two steps (loading code, waiting on a
			   * TLS session ticket); the sum of all such gaps */
	TL_PHASE_TOTAL,   /* GetConn .. last response byte (or failure) */
	TL_PHASE_COUNT,
};

/* One step of the waterfall: a phase or an idle gap, in time order. */
struct tl_step {
	enum tl_phase phase;
	int64_t us;
};

/* Each phase once, with an idle gap before each and one at the end. */
#define TL_MAX_STEPS (2 * TL_PHASE_IDLE + 1)

/* The phases of one timeline as intervals of monotonic time, for
 * tl_set_phases(). */
struct tl_span {
	enum tl_phase phase;
	uint64_t from_ns, to_ns;
};

struct tl_spans {
	struct tl_span s[TL_PHASE_IDLE];
	size_t n;
};

static inline void tl_span_add(struct tl_spans *sp, enum tl_phase phase,
			       uint64_t from_ns, uint64_t to_ns)
{
	if (sp->n >= sizeof(sp->s) / sizeof(sp->s[0]))
		return;
	sp->s[sp->n].phase = phase;
	sp->s[sp->n].from_ns = from_ns;
	sp->s[sp->n].to_ns = to_ns;
	sp->n++;
}

#define TL_MAX_EVENTS 32
#define TL_ERROR_MAX 128
/* A request's strings, NUL included: what a protocol parser hands over
 * must fit (the HTTP/1 parser's are the same, asserted where copied). */
#define TL_METHOD_MAX 16
#define TL_TARGET_MAX 256
#define TL_HOST_MAX 256
#define TL_GRPC_MESSAGE_MAX 128

/* A connection through a TLS library: what its handshake showed. "" =
 * not known. */
struct tl_tls {
	bool seen;                      /* the connection carries TLS */
	/* alpn was not on the wire (TLS 1.3 encrypts the server's choice)
	 * but follows from the plaintext: h2 over TLS is only spoken once
	 * ALPN agreed on it */
	bool alpn_inferred;
	/* no hooked TLS library carried the plaintext (Go's crypto/tls,
	 * Java, rustls...): only the handshake on the wire is known */
	bool not_decoded;
	char lib[16];                   /* "openssl", "gnutls" */
	char version[16];               /* "TLSv1.3" */
	char cipher[64];                /* IANA suite name */
	char sni[128];                  /* server_name the client asked */
	char alpn[64];                  /* the protocol negotiated */
	char alpn_offered[64];          /* the client's list, comma separated */
	char error[TL_ERROR_MAX];       /* TLSHandshakeDone's err in words */
};

/*
 * Why a timeline failed or is incomplete, as a closed set, for exports
 * that need a bounded label (a metric label, a span status); the words
 * in timeline.error stay what is shown. One list: X(NAME, label) gives
 * TL_ERR_NAME and its label. A label is an interface: add kinds, do not
 * rename them.
 */
#define TL_ERROR_KINDS(X)                                                  \
	X(NONE, "")                       /* no error */                   \
	X(DNS_FAILURE, "dns_failure")     /* the lookup failed */          \
	X(CONNECT_REFUSED, "connect_refused")                              \
	X(CONNECT_FAILURE, "connect_failure") /* any other connect error */ \
	X(TIMEOUT, "timeout")             /* ETIMEDOUT anywhere */         \
	X(RESET, "reset")                 /* ECONNRESET, EPIPE */          \
	X(IO_ERROR, "io_error")           /* another read or write error */\
	X(TLS_FAILURE, "tls_failure")     /* the handshake failed */       \
	X(TLS_NOT_DECODED, "tls_not_decoded") /* no hooked TLS library */  \
	X(MALFORMED_RESPONSE, "malformed_response")                        \
	X(CONNECTION_CLOSED, "connection_closed") /* mid-request */       \
	X(PROCESS_EXITED, "process_exited")                                \
	X(RECORDS_LOST, "records_lost")   /* the kernel could not send */  \
	X(TRACER_STOPPED, "tracer_stopped")                                \
	X(INCOMPLETE, "incomplete")       /* given up: state lost... */    \
	X(STREAM_RESET, "stream_reset")   /* HTTP/2 RST_STREAM */          \
	X(GOAWAY, "goaway")               /* HTTP/2 GOAWAY ended it */     \
	X(OTHER, "other")                 /* words no kind above knows */

#define TL_ERROR_KIND_ENUM(name, label) TL_ERR_##name,
enum tl_error_kind {
	TL_ERROR_KINDS(TL_ERROR_KIND_ENUM)
	TL_ERROR_KIND_COUNT,
};
#undef TL_ERROR_KIND_ENUM

/* An error as the pipeline hands it on: its kind (for exports) set
 * where it happens, and its words (for display). */
struct tl_error {
	enum tl_error_kind kind;
	const char *words;      /* NULL with TL_ERR_NONE */
};

#define TL_ERROR(kind, words) ((struct tl_error){ TL_ERR_##kind, (words) })
#define TL_NO_ERROR ((struct tl_error){ TL_ERR_NONE, NULL })

struct tl_event {
	enum tl_hook hook;
	uint64_t ts_ns;   /* monotonic */
	int32_t err;      /* errno / EAI_* for Done hooks; 0 = none */
	int32_t status;   /* Got1xxResponse: the 1xx status */
	/* DNSDone: the addresses; ConnectStart/Done: the peer */
	uint32_t n_addrs;
	struct ht_addr addrs[HT_DNS_MAX_ADDRS];
	/* DNSStart: the host asked */
	char host[HT_DNS_HOST_LEN];
	/* DNSStart: the service (port) asked, "" when none */
	char service[HT_DNS_SERVICE_LEN];
};

/* The container the request's process ran in, from the cgroup the
 * kernel saw it in; all empty when not known or not in a container. */
struct tl_container {
	uint64_t cgroup_id;  /* 0 = not known */
	char id[72];         /* the runtime's container id, "" = none */
	char runtime[16];    /* "docker", "containerd", "cri-o", "podman" */
	char pod_uid[40];    /* Kubernetes pod uid, "" = none */
};

struct timeline {
	uint64_t start_ns;  /* monotonic: GetConn */
	uint64_t end_ns;    /* monotonic: last response byte, or failure */
	uint32_t pid, tid;
	char comm[HT_COMM_LEN];
	struct tl_container container;
	enum ht_role role;
	struct ht_conn_id conn_id;
	struct ht_addr saddr, daddr;
	bool reused;
	int64_t idle_us;    /* -1 = not reused / unknown */
	/* http */
	char method[TL_METHOD_MAX];     /* "" when no request was seen */
	char target[TL_TARGET_MAX];
	char host[TL_HOST_MAX];
	char version[16];               /* "HTTP/1.1"; "" unknown */
	/* the HTTP/2 stream; 0: not HTTP/2, or an HTTP/2 connection whose
	 * streams were not decoded (one report for the connection) */
	uint32_t stream_id;
	bool target_truncated;          /* longer than target holds */
	int status;                     /* 0 = no response */
	uint64_t request_bytes;
	uint64_t response_bytes;
	struct tl_tls tls;
	/* gRPC (an HTTP/2 stream of content-type application/grpc*): the
	 * status from the trailers (-1: not seen), and the message */
	bool grpc;
	int grpc_status;
	bool grpc_message_seen;
	char grpc_message[TL_GRPC_MESSAGE_MAX];
	/* durations in microseconds, -1 = did not happen */
	int64_t phase_us[TL_PHASE_COUNT];
	struct tl_event events[TL_MAX_EVENTS];
	uint32_t n_events;
	char error[TL_ERROR_MAX];       /* "" = no error */
	enum tl_error_kind error_kind;  /* error's kind: TL_ERR_NONE */
	bool complete;                  /* false: records lost, or cut short */
	/* The phases in the order they happened, with TL_PHASE_IDLE steps
	 * where time passed in none; their sum is phase_us[TL_PHASE_TOTAL].
	 * 0 steps: not known (the outputs then go by phase_us alone). */
	struct tl_step steps[TL_MAX_STEPS];
	uint32_t n_steps;
};

const char *tl_hook_name(enum tl_hook hook);

/*
 * Sets phase_us[] and steps[] from the phases that happened (sp, in any
 * order; sorted here by start) and tl->start_ns/end_ns, so that the
 * steps, idle gaps included, sum to phase_us[TL_PHASE_TOTAL] exactly:
 * every boundary is rounded down to whole microseconds after start,
 * clamped to [start, end], and where two phases overlap the overlap
 * counts in the one that began first. Time in no span is a
 * TL_PHASE_IDLE step where it happened, and phase_us[TL_PHASE_IDLE] is
 * their sum (-1 when there is none).
 */
void tl_set_phases(struct timeline *tl, struct tl_spans *sp);
const char *tl_phase_name(enum tl_phase phase);

/* A name and its length, for outputs that copy it whole. */
struct tl_name {
	const char *str;
	size_t len;
};
/* tl_hook_name() with its length. */
struct tl_name tl_hook_name_n(enum tl_hook hook);

/* Room for tl_addr_text() and tl_addr_port_text() output, NUL
 * included. */
#define TL_ADDR_STRLEN 46       /* INET6_ADDRSTRLEN */
#define TL_ADDR_PORT_STRLEN 56  /* "[" addr "]:" port */
#define TL_ERR_WORDS_LEN 128

/*
 * "127.0.0.1", "::1"; an IPv4-mapped IPv6 address is shown as IPv4.
 * Returns the length of the NUL-terminated text, or 0 (and "?") when
 * the family is neither AF_INET nor AF_INET6.
 */
size_t tl_addr_text(const struct ht_addr *addr, char buf[TL_ADDR_STRLEN]);
/* "127.0.0.1:8080", "[::1]:8080"; the same return and "?". */
size_t tl_addr_port_text(const struct ht_addr *addr,
			 char buf[TL_ADDR_PORT_STRLEN]);
/* tl_addr_port_text() into a buffer of any size: false for an unknown
 * family; buf is always NUL-terminated when size > 0. */
bool tl_addr_port_str(const struct ht_addr *addr, char *buf, size_t size);
/* Room for tl_target_text() output, NUL included: every byte of the
 * query may grow to at most 6. */
#define TL_TARGET_TEXT_MAX (TL_TARGET_MAX * 6)
#define TL_REDACTED "<redacted>"

/*
 * The request target as the outputs print it (at most max bytes of
 * target are read). Query values are as secret as header values: unless
 * show_query, each one becomes TL_REDACTED and only the names stay
 * ("/a?token=<redacted>&empty="); a parameter without "=" is all value.
 * Returns the length of the NUL-terminated text in out.
 */
size_t tl_target_text(const char *target, size_t max, bool show_query,
		      char out[TL_TARGET_TEXT_MAX]);

/*
 * Words for an event's err: gai_strerror() for DNSDone (an EAI_* code),
 * strerror() for the others (a positive errno). Returns buf.
 */
const char *tl_err_words(enum tl_hook hook, int32_t err, char *buf,
			 size_t size);

/* The label of a kind ("dns_failure"); "other" for a value out of the
 * enum. */
const char *tl_error_label(enum tl_error_kind kind);
/* The kind of a Done hook's err (an errno, or EAI_* for DNSDone); a read
 * or write error goes by TL_GotConn. 0 is TL_ERR_NONE. */
enum tl_error_kind tl_error_kind_errno(enum tl_hook hook, int32_t err);

#endif /* HTTPTRACE_TIMELINE_H */
