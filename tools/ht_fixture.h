/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Helpers shared by the test fixture programs (ht_test_server,
 * ht_test_client). Header-only so each fixture stays one static binary
 * built from one .c file (the kernel matrix copies them into a guest).
 */
#ifndef HTTPTRACE_FIXTURE_H
#define HTTPTRACE_FIXTURE_H

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/types.h>

/* Sends all of p, retrying short writes; -1 on error. */
static inline int write_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n > 0) {
		ssize_t w = send(fd, c, n, MSG_NOSIGNAL);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Strips spaces and tabs at both ends, in place. */
static inline char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		*--e = '\0';
	return s;
}

/* Does a comma-separated header value hold token (case-insensitive)? */
static inline bool header_has_token(const char *value, const char *token)
{
	char tmp[256];
	char *save = NULL, *t;

	snprintf(tmp, sizeof(tmp), "%s", value);
	for (t = strtok_r(tmp, ",", &save); t; t = strtok_r(NULL, ",", &save))
		if (strcasecmp(trim(t), token) == 0)
			return true;
	return false;
}

#endif /* HTTPTRACE_FIXTURE_H */
