/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The tracer's helper threads (a queued sink's, the OTLP sender, the
 * metrics server) take no signal: SIGINT, SIGTERM and SIGHUP stay with
 * the main thread, which waits for them and whose writes they must
 * interrupt. All but SIGSYS, through which libpsx drops every thread's
 * capabilities with the others' (src/kernel/privileges.c).
 */
#ifndef HTTPTRACE_UTIL_THREAD_H
#define HTTPTRACE_UTIL_THREAD_H

#include <pthread.h>

/* pthread_create() with every signal but SIGSYS blocked in the new
 * thread; 0 or a positive errno, as pthread_create(). */
int thread_start_quiet(pthread_t *thread, void *(*fn)(void *), void *arg);

#endif /* HTTPTRACE_UTIL_THREAD_H */
