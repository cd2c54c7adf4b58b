// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * httptrace BPF programs: thin entry points per hook and attach mode.
 * The bodies live in conn.bpf.h (TCP), data.bpf.h (socket I/O) and
 * dns.bpf.h (getaddrinfo), so each variant of a hook runs the same code.
 *
 * Attach modes (the loader turns the other variants off with
 * bpf_program__set_autoload before load):
 *   fentry:     fentry/tcp_connect, fexit/inet_csk_accept (two variants)
 *   kprobe:     kprobe/tcp_connect, kretprobe/inet_csk_accept
 *   tracepoint: the CLOSE -> SYN_SENT state change, accept()'s fd
 * Every mode uses the syscall tracepoints (the fd is a syscall argument)
 * and tp_btf/inet_sock_set_state (connect outcome, in softirq).
 * What depends on the kernel's version is in core_fixes.bpf.h.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>

#include "httptrace_events.h"
#include "httptrace_tls_probes.h"
#include "maps.bpf.h"
#include "conn.bpf.h"
#include "data.bpf.h"
#include "dns.bpf.h"
#include "tls.bpf.h"
#include "go_tls.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* ---- connect start: one body, three variants ---------------------------- */

SEC("fentry/tcp_connect")
int BPF_PROG(fentry_tcp_connect, struct sock *sk)
{
	GUARDED(on_connect_start(sk));
	return 0;
}

SEC("kprobe/tcp_connect")
int BPF_KPROBE(kprobe_tcp_connect, struct sock *sk)
{
	GUARDED(on_connect_start(sk));
	return 0;
}

/* tracepoint variant of connect start lives in on_state_change */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(tp_inet_sock_set_state, struct sock *sk, int oldstate,
	     int newstate)
{
	GUARDED(on_state_change(sk, oldstate, newstate));
	return 0;
}

/* ---- accept: inet_csk_accept's result, or the fd in tracepoint mode ---- */

/* arguments not named: they differ across kernels; two variants, one
 * loaded (core_fixes.bpf.h) */
SEC("fexit/inet_csk_accept")
int BPF_PROG(fexit_inet_csk_accept)
{
	GUARDED(on_inet_csk_accept(fexit_inet_csk_accept_ret(ctx)));
	return 0;
}

SEC("fexit/inet_csk_accept")
int fexit_inet_csk_accept_args(__u64 *ctx)
{
	GUARDED(on_inet_csk_accept(fexit_inet_csk_accept_ret_after_args(ctx)));
	return 0;
}

SEC("kretprobe/inet_csk_accept")
int BPF_KRETPROBE(kretprobe_inet_csk_accept, struct sock *newsk)
{
	GUARDED(on_inet_csk_accept(newsk));
	return 0;
}

/* ---- syscalls ------------------------------------------------------------ */

#define ARG(n) ((__u64)ctx->args[n])

SEC("tracepoint/syscalls/sys_enter_connect")
int sys_enter_connect(struct trace_event_raw_sys_enter *ctx)
{
	GUARDED(on_connect_enter((int)ARG(0), ARG(1)));
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_connect")
int sys_exit_connect(struct trace_event_raw_sys_exit *ctx)
{
	GUARDED(on_connect_exit(ctx->ret));
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_getsockopt")
int sys_enter_getsockopt(struct trace_event_raw_sys_enter *ctx)
{
	GUARDED(on_getsockopt_enter((int)ARG(0), (long)ARG(1), (long)ARG(2),
				    ARG(3)));
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_getsockopt")
int sys_exit_getsockopt(struct trace_event_raw_sys_exit *ctx)
{
	GUARDED(on_getsockopt_exit(ctx->ret));
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_accept")
int sys_enter_accept(struct trace_event_raw_sys_enter *ctx)
{
	GUARDED(on_accept_enter());
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_accept4")
int sys_enter_accept4(struct trace_event_raw_sys_enter *ctx)
{
	GUARDED(on_accept_enter());
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_accept")
int sys_exit_accept(struct trace_event_raw_sys_exit *ctx)
{
	GUARDED(on_accept_exit(ctx->ret));
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_accept4")
int sys_exit_accept4(struct trace_event_raw_sys_exit *ctx)
{
	GUARDED(on_accept_exit(ctx->ret));
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_close")
int sys_enter_close(struct trace_event_raw_sys_enter *ctx)
{
	GUARDED(on_close_enter((int)ARG(0)));
	return 0;
}

/*
 * An entry program per read/write-family syscall (httptrace_io_syscalls.h):
 * fd, then the buffer, iovec array or msghdr; an IOV call's count in its
 * third argument.
 */
#define IO_IOVCNT_BUF 0
#define IO_IOVCNT_IOV (__u32)ARG(2)
#define IO_IOVCNT_MSG 0
/* sendto and recvfrom (BUF calls with flags) name the peer in ARG(4) */
#define IO_NAME_BUF(peek_arg) (peek_arg ? ARG(4) : 0)
#define IO_NAME_IOV(peek_arg) 0
#define IO_NAME_MSG(peek_arg) 0

#define IO_ENTER_PROG(name, call, value, dir, shape, peek_arg)               \
	SEC("tracepoint/syscalls/sys_enter_" #name)                          \
	int sys_enter_##name(struct trace_event_raw_sys_enter *ctx)          \
	{                                                                    \
		if (peek_arg && (ARG(peek_arg) & MSG_PEEK))                  \
			return 0;                                            \
		GUARDED(on_io_enter((int)ARG(0), ARG(1), IO_IOVCNT_##shape,  \
				    call, dir, IO_NAME_##shape(peek_arg)));  \
		return 0;                                                    \
	}

HT_IO_SYSCALLS(IO_ENTER_PROG)

/*
 * Their exits all run one body, what the entry left says which call it
 * was: one program, which the loader attaches to each exit tracepoint
 * (src/kernel/tracer.c, attach_io_exits), verified once instead of once
 * per syscall (5-7 ms each at every start).
 */
SEC("tracepoint")
int sys_exit_io(struct trace_event_raw_sys_exit *ctx)
{
	GUARDED(on_io_exit(ctx->ret));
	return 0;
}

/*
 * sendmmsg/recvmmsg: only DNS sockets are followed through them (glibc
 * sends a lookup's A and AAAA queries in one sendmmsg).
 */
SEC("tracepoint/syscalls/sys_enter_sendmmsg")
int sys_enter_sendmmsg(struct trace_event_raw_sys_enter *ctx)
{
	GUARDED(dns_mmsg_enter((int)ARG(0), ARG(1), (__u32)ARG(2),
			       HT_DNS_CALL_SENDMMSG, HT_DIR_EGRESS));
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_recvmmsg")
int sys_enter_recvmmsg(struct trace_event_raw_sys_enter *ctx)
{
	if (ARG(3) & MSG_PEEK)
		return 0;
	GUARDED(dns_mmsg_enter((int)ARG(0), ARG(1), (__u32)ARG(2),
			       HT_DNS_CALL_RECVMMSG, HT_DIR_INGRESS));
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_sendmmsg")
int sys_exit_sendmmsg(struct trace_event_raw_sys_exit *ctx)
{
	GUARDED(on_io_exit(ctx->ret));
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_recvmmsg")
int sys_exit_recvmmsg(struct trace_event_raw_sys_exit *ctx)
{
	GUARDED(on_io_exit(ctx->ret));
	return 0;
}

/* ---- process exit ---------------------------------------------------------- */

static __always_inline void on_process_exit(struct task_struct *task)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct ht_exit_event *ev;

	/* only the whole process going away ends its connections */
	if ((__u32)id != id >> 32)
		return;
	dns_on_exit(id >> 32);
	if (!want_current(id >> 32))
		return;
	ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
	if (!ev) {
		count_drop(HT_DROP_OTHER);
		return;
	}
	fill_header(&ev->hdr, HT_EV_PROC_EXIT, bpf_ktime_get_ns());
	ev->exit_code = BPF_CORE_READ(task, exit_code);
	ev->_pad = 0;
	bpf_ringbuf_submit(ev, rb_flags());
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(tp_sched_process_exit, struct task_struct *task)
{
	GUARDED(on_process_exit(task));
	return 0;
}

/* ---- getaddrinfo (attached by the loader to each libc found) ------------ */

SEC("uprobe")
int BPF_KPROBE(uprobe_getaddrinfo, const char *node, const char *service,
	       const void *hints, void **res)
{
	GUARDED(on_getaddrinfo_enter((__u64)node, (__u64)service,
					 (__u64)res));
	return 0;
}

SEC("uretprobe")
int BPF_KRETPROBE(uretprobe_getaddrinfo, int ret)
{
	GUARDED(on_getaddrinfo_exit(ret));
	return 0;
}

/* ---- TLS libraries (attached by the loader to each one found) ----------- */

/* One return program for every TLS call: the entry left what it needs. */
SEC("uretprobe")
int BPF_KRETPROBE(uretprobe_tls, long ret)
{
	GUARDED(on_tls_exit(ret));
	return 0;
}

/*
 * Kernels with uprobe_multi links (6.6+): every TLS function of a library
 * enters here, one link for all of them, the attach cookie saying which
 * (enum ht_tls_probe). Elsewhere each function has a program of its own,
 * below; both sets share on_tls_probe() and only one is loaded
 * (tls_select_programs()).
 */
SEC("uprobe")
int BPF_KPROBE(uprobe_tls_multi, __u64 a0, __u64 a1, __u64 a2, __u64 a3)
{
	GUARDED(on_tls_probe(bpf_get_attach_cookie(ctx), a0, a1, a2, a3));
	return 0;
}

/* uprobe_<prog> for each probe of httptrace_tls_probes.h */
#define TLS_PROBE_PROGRAM(id, prog, lib, op, buf_arg, lenp_arg)              \
	SEC("uprobe")                                                        \
	int BPF_KPROBE(uprobe_##prog, __u64 a0, __u64 a1, __u64 a2, __u64 a3) \
	{                                                                    \
		GUARDED(on_tls_probe(HT_TLSP_##id, a0, a1, a2, a3));     \
		return 0;                                                    \
	}

HT_TLS_PROBES(TLS_PROBE_PROGRAM)

/* ---- Go's crypto/tls (attached by the loader to each Go program) ------ */

/*
 * Every RET of every probed function: the goroutine's innermost call
 * returns, whichever it is (go_tls.bpf.h). Entries: with uprobe_multi
 * links one program, the attach cookie saying which function (enum
 * go_func_id); elsewhere a program per function, below.
 */
SEC("uprobe")
int uprobe_go_tls_ret(struct pt_regs *ctx)
{
	GUARDED(on_go_ret(ctx));
	return 0;
}

SEC("uprobe")
int uprobe_go_tls_multi(struct pt_regs *ctx)
{
	GUARDED(on_go_entry((__u32)bpf_get_attach_cookie(ctx), ctx));
	return 0;
}

/* uprobe_go_<id> for each function of GO_FUNCS */
#define GO_TLS_PROGRAM(id, symbol)                                           \
	SEC("uprobe")                                                        \
	int uprobe_go_##id(struct pt_regs *ctx)                              \
	{                                                                    \
		GUARDED(on_go_entry(GO_FN_##id, ctx));                   \
		return 0;                                                    \
	}

GO_FUNCS(GO_TLS_PROGRAM)

/* ---- exec: new images may bring TLS libraries the loader must attach --- */

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} exec_events SEC(".maps");

static __always_inline void on_exec(void)
{
	struct ht_exec_event *ev;
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;

	if (!watch_exec || !want_current(tgid))
		return;
	ev = bpf_ringbuf_reserve(&exec_events, sizeof(*ev), 0);
	if (!ev) {
		count_drop(HT_DROP_OTHER);
		return;
	}
	fill_header(&ev->hdr, HT_EV_EXEC, bpf_ktime_get_ns());
	bpf_ringbuf_submit(ev, 0);
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(tp_sched_process_exec, struct task_struct *p, pid_t old_pid,
	     struct linux_binprm *bprm)
{
	GUARDED(on_exec());
	return 0;
}
