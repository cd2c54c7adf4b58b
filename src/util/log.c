// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdarg.h>
#include <stdio.h>

#include "util/log.h"

int log_level;

/* One line at a time: the TLS exec watcher logs from a thread of its
 * own. */
static void vlog(const char *prefix, const char *fmt, va_list ap)
{
	flockfile(stderr);
	fprintf(stderr, "httptrace-bpf: %s", prefix);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	funlockfile(stderr);
}

#define DEFINE_LOG(name, prefix, min_level)                                  \
	void name(const char *fmt, ...)                                       \
	{                                                                     \
		va_list ap;                                                   \
		if (log_level < (min_level))                                  \
			return;                                               \
		va_start(ap, fmt);                                            \
		vlog(prefix, fmt, ap);                                        \
		va_end(ap);                                                   \
	}

DEFINE_LOG(log_error, "error: ", 0)
DEFINE_LOG(log_warn, "warning: ", 0)
DEFINE_LOG(log_info, "", 0)
DEFINE_LOG(log_verbose, "", 1)
