/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The read/write-family syscalls traced on tracked sockets: the one list
 * that bpf/httptrace.bpf.c (an entry program per syscall), the exit
 * tracepoints the loader attaches sys_exit_io to (src/kernel/tracer.c),
 * enum ht_io_call (httptrace_events.h) and the copy of the bytes
 * (bpf/data.bpf.h) are made from. A new syscall is one line here.
 *
 * X(name, call, value, dir, shape, peek_arg)
 *   name      the syscall: tracepoints syscalls/sys_enter_<name> and
 *             syscalls/sys_exit_<name>
 *   call      its enum ht_io_call constant, in HT_EV_DATA records
 *   value     that constant's value: recordings keep it, so it never
 *             changes (values are 0..count-1, checked below)
 *   dir       HT_DIR_EGRESS (the process sends) or HT_DIR_INGRESS
 *   shape     where the bytes are: BUF (fd, buf, count),
 *             IOV (fd, iov, iovcnt), MSG (fd, struct user_msghdr *, ...)
 *   peek_arg  the argument holding flags where MSG_PEEK leaves the bytes
 *             for the next read (not counted now, or they would count
 *             twice); 0: none
 */
#ifndef HTTPTRACE_IO_SYSCALLS_H
#define HTTPTRACE_IO_SYSCALLS_H

#define HT_IO_SYSCALLS(X)                                                 \
	X(write,    HT_IO_WRITE,    0, HT_DIR_EGRESS,  BUF, 0)            \
	X(read,     HT_IO_READ,     4, HT_DIR_INGRESS, BUF, 0)            \
	X(writev,   HT_IO_WRITEV,   1, HT_DIR_EGRESS,  IOV, 0)            \
	X(readv,    HT_IO_READV,    5, HT_DIR_INGRESS, IOV, 0)            \
	X(sendto,   HT_IO_SENDTO,   2, HT_DIR_EGRESS,  BUF, 3)            \
	X(recvfrom, HT_IO_RECVFROM, 6, HT_DIR_INGRESS, BUF, 3)            \
	X(sendmsg,  HT_IO_SENDMSG,  3, HT_DIR_EGRESS,  MSG, 2)            \
	X(recvmsg,  HT_IO_RECVMSG,  7, HT_DIR_INGRESS, MSG, 2)

/* For enum ht_io_call and the checks on it. */
#define HT_IO_ENUM_(name, call, value, dir, shape, peek_arg) call = value,
#define HT_IO_ONE_(name, call, value, dir, shape, peek_arg) + 1
#define HT_IO_BIT_(name, call, value, dir, shape, peek_arg) | (1u << (value))

#endif /* HTTPTRACE_IO_SYSCALLS_H */
