// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The benchmark floor: empty BPF programs on exactly the hooks that
 * bpf/httptrace.bpf.c uses, so `make bench` can tell what the probes cost
 * by themselves from what the tracer's own work costs.
 *
 * The named programs mirror the hooks of bpf/httptrace.bpf.c one for one
 * (same section, same attach mode variants; the tracer's sys_exit_io,
 * which the loader attaches to each read/write-family exit, is a program
 * per exit here). tools/bench/bench.py
 * checks the mirror at run time: it lists what the running tracer
 * attached (bpftool perf) and what the floor attached, and reports any
 * difference. Uprobes need a file and an offset, known only at run time,
 * so they go through the generic programs at the end (any_uprobe,
 * any_uretprobe), attached by tools/bench/floor.c at the very files and
 * offsets the tracer attached (getaddrinfo in each libc today, the TLS
 * library entry points once the tracer has them). any_tracepoint and
 * any_raw_tp cover hooks the tracer may grow before this mirror is
 * updated.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "httptrace_io_syscalls.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* ---- connect start ------------------------------------------------------- */

SEC("fentry/tcp_connect")
int BPF_PROG(fentry_tcp_connect, struct sock *sk)
{
	return 0;
}

SEC("kprobe/tcp_connect")
int BPF_KPROBE(kprobe_tcp_connect, struct sock *sk)
{
	return 0;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(tp_inet_sock_set_state, struct sock *sk, int oldstate,
	     int newstate)
{
	return 0;
}

/* ---- accept ----------------------------------------------------------------- */

SEC("fexit/inet_csk_accept")
int BPF_PROG(fexit_inet_csk_accept)
{
	return 0;
}

SEC("kretprobe/inet_csk_accept")
int BPF_KRETPROBE(kretprobe_inet_csk_accept, struct sock *newsk)
{
	return 0;
}

/* ---- syscalls ----------------------------------------------------------------- */

#define EMPTY_TP(name)                                                        \
	SEC("tracepoint/syscalls/" #name)                                    \
	int name(void *ctx)                                                  \
	{                                                                    \
		return 0;                                                    \
	}

EMPTY_TP(sys_enter_connect)
EMPTY_TP(sys_exit_connect)
EMPTY_TP(sys_enter_getsockopt)
EMPTY_TP(sys_exit_getsockopt)
EMPTY_TP(sys_enter_accept)
EMPTY_TP(sys_enter_accept4)
EMPTY_TP(sys_exit_accept)
EMPTY_TP(sys_exit_accept4)
EMPTY_TP(sys_enter_close)

/* the read/write family: entry and exit of each */
#define EMPTY_IO_TPS(name, call, value, dir, shape, peek_arg)                \
	EMPTY_TP(sys_enter_##name)                                           \
	EMPTY_TP(sys_exit_##name)

HT_IO_SYSCALLS(EMPTY_IO_TPS)

/* ---- process exit ---------------------------------------------------------- */

SEC("tp_btf/sched_process_exit")
int BPF_PROG(tp_sched_process_exit, struct task_struct *task)
{
	return 0;
}

/* ---- getaddrinfo (attached by the loader, like the tracer's) ------------- */

SEC("uprobe")
int BPF_KPROBE(uprobe_getaddrinfo, const char *node, const char *service,
	       const void *hints, void **res)
{
	return 0;
}

SEC("uretprobe")
int BPF_KRETPROBE(uretprobe_getaddrinfo, int ret)
{
	return 0;
}

/* ---- generic: any hook the running tracer has that is not mirrored above - */

SEC("uprobe")
int any_uprobe(void *ctx)
{
	return 0;
}

SEC("uretprobe")
int any_uretprobe(void *ctx)
{
	return 0;
}

SEC("tracepoint")
int any_tracepoint(void *ctx)
{
	return 0;
}

SEC("raw_tp")
int any_raw_tp(void *ctx)
{
	return 0;
}
