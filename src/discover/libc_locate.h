/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Finding the C library (for getaddrinfo) that processes use. */
#ifndef HTTPTRACE_LIBC_LOCATE_H
#define HTTPTRACE_LIBC_LOCATE_H

#include <limits.h>
#include <sys/types.h>

#define LIBC_MAX_TARGETS 16

struct libc_target {
	char path[PATH_MAX]; /* path as the tracer can open it */
	pid_t pid;           /* -1: every process mapping this file */
};

/*
 * Every distinct libc file (by device and inode) that processes on the
 * host use: the tracer's own and any mapped by running processes.
 * Returns the count.
 */
int libc_find_system(struct libc_target *out, int max);

/*
 * The libc mapped by `pid`, reached through /proc/PID/root so a process
 * in another mount namespace (a container) works. Returns 0, -ENOENT
 * when the process maps no libc (static binary), -errno otherwise.
 */
int libc_find_for_pid(pid_t pid, struct libc_target *out);

#endif /* HTTPTRACE_LIBC_LOCATE_H */
