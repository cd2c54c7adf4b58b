// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <string.h>

#include "sink/prometheus/prom_addr.h"

const char *prom_addr_parse(const char *s, char host[PROM_HOST_MAX],
			    uint16_t *port)
{
	const char *colon, *p;
	const char *name = s;
	size_t len;
	unsigned long v = 0;

	if (s[0] == '[') {
		const char *end = strchr(s, ']');

		if (!end || end == s + 1)
			return "an IPv6 address goes in brackets: [::1]:9464";
		if (end[1] != ':')
			return "no :PORT after the address";
		name = s + 1;
		len = (size_t)(end - name);
		colon = end + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return "no :PORT (e.g. 127.0.0.1:9464, or :9464 for "
			       "every address)";
		if (memchr(s, ':', (size_t)(colon - s)))
			return "an IPv6 address goes in brackets: [::1]:9464";
		len = (size_t)(colon - s);
	}
	if (len >= PROM_HOST_MAX)
		return "the host is too long";
	for (p = colon + 1; *p; p++) {
		if (*p < '0' || *p > '9' || v > 65535)
			return "the port is not a number from 1 to 65535";
		v = v * 10 + (unsigned long)(*p - '0');
	}
	if (p == colon + 1 || !v || v > 65535)
		return "the port is not a number from 1 to 65535";
	memcpy(host, name, len);
	host[len] = '\0';
	*port = (uint16_t)v;
	return NULL;
}
