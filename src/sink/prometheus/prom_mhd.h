/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * libmicrohttpd, opened when --metrics-addr is given instead of linked
 * (as the OTLP exporter's libcurl is, sink/otlp/otlp_curl.h): the
 * tracer without it does not map libmicrohttpd and GnuTLS, which it
 * brings, and runs where it is not installed. The header is still the
 * build's; the functions are reached through this table.
 */
#ifndef HTTPTRACE_PROM_MHD_H
#define HTTPTRACE_PROM_MHD_H

#ifndef PROM_NO_MHD
#include <stddef.h>
#include <stdint.h>
#include <microhttpd.h>

/* member, return type, parameters: each MHD_<member> in the library */
#define PROM_MHD_FUNCS(X)                                                    \
	X(start_daemon, struct MHD_Daemon *,                                 \
	  (unsigned int flags, uint16_t port, MHD_AcceptPolicyCallback apc,  \
	   void *apc_cls, MHD_AccessHandlerCallback dh, void *dh_cls, ...))  \
	X(stop_daemon, void, (struct MHD_Daemon *daemon))                    \
	X(run_wait, enum MHD_Result,                                         \
	  (struct MHD_Daemon *daemon, int32_t millisec))                     \
	X(create_response_from_buffer, struct MHD_Response *,                \
	  (size_t size, void *buffer, enum MHD_ResponseMemoryMode mode))     \
	X(add_response_header, enum MHD_Result,                              \
	  (struct MHD_Response *response, const char *header,                \
	   const char *content))                                             \
	X(queue_response, enum MHD_Result,                                   \
	  (struct MHD_Connection *connection, unsigned int status_code,      \
	   struct MHD_Response *response))                                   \
	X(destroy_response, void, (struct MHD_Response *response))

struct prom_mhd {
#define PROM_MHD_MEMBER(name, ret, params) ret (*name) params;
	PROM_MHD_FUNCS(PROM_MHD_MEMBER)
#undef PROM_MHD_MEMBER
};

/* libmicrohttpd's functions, the library opened the first time
 * (thread-safe); NULL when it could not be, with the reason in err
 * (err may be NULL). */
const struct prom_mhd *prom_mhd(char *err, size_t err_size);

#endif /* PROM_NO_MHD */
#endif /* HTTPTRACE_PROM_MHD_H */
