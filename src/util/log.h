/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Messages to stderr, prefixed with the program name. */
#ifndef HTTPTRACE_LOG_H
#define HTTPTRACE_LOG_H

extern int log_level; /* 0 quiet, 1 -v, 2 -vv */

void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_verbose(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* HTTPTRACE_LOG_H */
