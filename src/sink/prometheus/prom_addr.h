/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* --metrics-addr HOST:PORT, read the same by the options and the sink. */
#ifndef HTTPTRACE_PROM_ADDR_H
#define HTTPTRACE_PROM_ADDR_H

#include <stddef.h>
#include <stdint.h>

/* Room for the host part, NUL included. */
#define PROM_HOST_MAX 256

/*
 * "127.0.0.1:9464", "[::1]:9464", "localhost:9464", ":9464" (every
 * address): the host without brackets ("" for every address) and the
 * port, 1 to 65535. Returns NULL, or what is wrong with s.
 */
const char *prom_addr_parse(const char *s, char host[PROM_HOST_MAX],
			    uint16_t *port);

#endif /* HTTPTRACE_PROM_ADDR_H */
