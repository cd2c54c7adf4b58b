// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * httptrace BPF programs: thin entry points per hook and attach mode.
 * The bodies live in conn.bpf.h (TCP), data.bpf.h (socket I/O) and
 * dns.bpf.h (getaddrinfo), so each variant of a hook runs the same code.
 *
 * Attach modes (the loader turns the other variants off with
 * bpf_program__set_autoload before load):
 *   fentry:     fentry/tcp_connect, fexit/inet_csk_accept
 *   kprobe:     kprobe/tcp_connect, kretprobe/inet_csk_accept
 *   tracepoint: the CLOSE -> SYN_SENT state change, accept()'s fd
 * Every mode uses the syscall tracepoints (the fd is a syscall argument)
 * and tp_btf/inet_sock_set_state (connect outcome, in softirq).
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

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* ---- connect start: one body, three variants ---------------------------- */

SEC("fentry/tcp_connect")
int BPF_PROG(fentry_tcp_connect, struct sock *sk)
{
	on_connect_start(sk);
	return 0;
}

SEC("kprobe/tcp_connect")
int BPF_KPROBE(kprobe_tcp_connect, struct sock *sk)
{
	on_connect_start(sk);
	return 0;
}

/* tracepoint variant of connect start lives in on_state_change */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(tp_inet_sock_set_state, struct sock *sk, int oldstate,
	     int newstate)
{
	on_state_change(sk, oldstate, newstate);
	return 0;
}

/* ---- accept: inet_csk_accept's result, or the fd in tracepoint mode ---- */

SEC("fexit/inet_csk_accept")
int BPF_PROG(fexit_inet_csk_accept)
{
	__u64 ret = 0;

	/* the argument list changed in 6.10; the return value is portable */
	bpf_get_func_ret(ctx, &ret);
	on_inet_csk_accept((struct sock *)ret);
	return 0;
}

SEC("kretprobe/inet_csk_accept")
int BPF_KRETPROBE(kretprobe_inet_csk_accept, struct sock *newsk)
{
	on_inet_csk_accept(newsk);
	return 0;
}

/* ---- syscalls ------------------------------------------------------------ */

#define ARG(n) ((__u64)ctx->args[n])

SEC("tracepoint/syscalls/sys_enter_connect")
int sys_enter_connect(struct trace_event_raw_sys_enter *ctx)
{
	on_connect_enter((int)ARG(0));
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_connect")
int sys_exit_connect(struct trace_event_raw_sys_exit *ctx)
{
	on_connect_exit(ctx->ret);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_getsockopt")
int sys_enter_getsockopt(struct trace_event_raw_sys_enter *ctx)
{
	on_getsockopt_enter((int)ARG(0), (long)ARG(1), (long)ARG(2), ARG(3));
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_getsockopt")
int sys_exit_getsockopt(struct trace_event_raw_sys_exit *ctx)
{
	on_getsockopt_exit(ctx->ret);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_accept")
int sys_enter_accept(struct trace_event_raw_sys_enter *ctx)
{
	on_accept_enter();
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_accept4")
int sys_enter_accept4(struct trace_event_raw_sys_enter *ctx)
{
	on_accept_enter();
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_accept")
int sys_exit_accept(struct trace_event_raw_sys_exit *ctx)
{
	on_accept_exit(ctx->ret);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_accept4")
int sys_exit_accept4(struct trace_event_raw_sys_exit *ctx)
{
	on_accept_exit(ctx->ret);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_close")
int sys_enter_close(struct trace_event_raw_sys_enter *ctx)
{
	on_close_enter((int)ARG(0));
	return 0;
}

/* write(fd, buf, count), read(fd, buf, count) */
#define IO_BUF_PROG(name, call, dir)                                          \
	SEC("tracepoint/syscalls/sys_enter_" #name)                          \
	int sys_enter_##name(struct trace_event_raw_sys_enter *ctx)          \
	{                                                                    \
		on_io_enter((int)ARG(0), ARG(1), 0, call, dir);              \
		return 0;                                                    \
	}

/* writev(fd, iov, iovcnt), readv(fd, iov, iovcnt) */
#define IO_IOV_PROG(name, call, dir)                                          \
	SEC("tracepoint/syscalls/sys_enter_" #name)                          \
	int sys_enter_##name(struct trace_event_raw_sys_enter *ctx)          \
	{                                                                    \
		on_io_enter((int)ARG(0), ARG(1), (__u32)ARG(2), call, dir);  \
		return 0;                                                    \
	}

/* recvfrom/recvmsg with MSG_PEEK leave the bytes for the next read:
 * counting them now would count them twice */
#define IO_FLAGS_PROG(name, call, dir, flags_arg)                             \
	SEC("tracepoint/syscalls/sys_enter_" #name)                          \
	int sys_enter_##name(struct trace_event_raw_sys_enter *ctx)          \
	{                                                                    \
		if (ARG(flags_arg) & MSG_PEEK)                               \
			return 0;                                            \
		on_io_enter((int)ARG(0), ARG(1), 0, call, dir);              \
		return 0;                                                    \
	}

IO_BUF_PROG(write, HT_IO_WRITE, HT_DIR_EGRESS)
IO_BUF_PROG(read, HT_IO_READ, HT_DIR_INGRESS)
IO_IOV_PROG(writev, HT_IO_WRITEV, HT_DIR_EGRESS)
IO_IOV_PROG(readv, HT_IO_READV, HT_DIR_INGRESS)
IO_FLAGS_PROG(sendto, HT_IO_SENDTO, HT_DIR_EGRESS, 3)
IO_FLAGS_PROG(recvfrom, HT_IO_RECVFROM, HT_DIR_INGRESS, 3)
IO_FLAGS_PROG(sendmsg, HT_IO_SENDMSG, HT_DIR_EGRESS, 2)
IO_FLAGS_PROG(recvmsg, HT_IO_RECVMSG, HT_DIR_INGRESS, 2)

/*
 * Their exits all run one body, what the entry left says which call it
 * was: one program, which the loader attaches to each exit tracepoint
 * (loader.c, io_exit_tracepoints), verified once instead of eight times
 * (5-7 ms each at every start).
 */
SEC("tracepoint")
int sys_exit_io(struct trace_event_raw_sys_exit *ctx)
{
	on_io_exit(ctx->ret);
	return 0;
}

/* ---- process exit ---------------------------------------------------------- */

SEC("tp_btf/sched_process_exit")
int BPF_PROG(tp_sched_process_exit, struct task_struct *task)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct ht_exit_event *ev;

	/* only the whole process going away ends its connections */
	if ((__u32)id != id >> 32 || !want_current(id >> 32))
		return 0;
	ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
	if (!ev) {
		count_drop(HT_DROP_OTHER);
		return 0;
	}
	fill_header(&ev->hdr, HT_EV_PROC_EXIT, bpf_ktime_get_ns());
	ev->exit_code = BPF_CORE_READ(task, exit_code);
	ev->_pad = 0;
	bpf_ringbuf_submit(ev, rb_flags());
	return 0;
}

/* ---- getaddrinfo (attached by the loader to each libc found) ------------ */

SEC("uprobe")
int BPF_KPROBE(uprobe_getaddrinfo, const char *node, const char *service,
	       const void *hints, void **res)
{
	on_getaddrinfo_enter((__u64)node, (__u64)service, (__u64)res);
	return 0;
}

SEC("uretprobe")
int BPF_KRETPROBE(uretprobe_getaddrinfo, int ret)
{
	on_getaddrinfo_exit(ret);
	return 0;
}

/* ---- TLS libraries (attached by the loader to each one found) ----------- */

/* One return program for every TLS call: the entry left what it needs. */
SEC("uretprobe")
int BPF_KRETPROBE(uretprobe_tls, long ret)
{
	on_tls_exit(ret);
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
	on_tls_probe(bpf_get_attach_cookie(ctx), a0, a1, a2, a3);
	return 0;
}

#define TLS_PROBE_PROGRAM(name, probe)                                       \
	SEC("uprobe")                                                        \
	int BPF_KPROBE(name, __u64 a0, __u64 a1, __u64 a2, __u64 a3)         \
	{                                                                    \
		on_tls_probe(probe, a0, a1, a2, a3);                         \
		return 0;                                                    \
	}

TLS_PROBE_PROGRAM(uprobe_ssl_write, HT_TLSP_SSL_WRITE)
TLS_PROBE_PROGRAM(uprobe_ssl_write_ex, HT_TLSP_SSL_WRITE_EX)
TLS_PROBE_PROGRAM(uprobe_ssl_read, HT_TLSP_SSL_READ)
TLS_PROBE_PROGRAM(uprobe_ssl_read_ex, HT_TLSP_SSL_READ_EX)
TLS_PROBE_PROGRAM(uprobe_ssl_peek, HT_TLSP_SSL_PEEK)
TLS_PROBE_PROGRAM(uprobe_ssl_handshake, HT_TLSP_SSL_HANDSHAKE)
TLS_PROBE_PROGRAM(uprobe_ssl_shutdown, HT_TLSP_SSL_SHUTDOWN)
TLS_PROBE_PROGRAM(uprobe_ssl_verify, HT_TLSP_SSL_VERIFY)
TLS_PROBE_PROGRAM(uprobe_tls_free, HT_TLSP_TLS_FREE)
TLS_PROBE_PROGRAM(uprobe_gnutls_send, HT_TLSP_GNUTLS_SEND)
TLS_PROBE_PROGRAM(uprobe_gnutls_recv, HT_TLSP_GNUTLS_RECV)
TLS_PROBE_PROGRAM(uprobe_gnutls_handshake, HT_TLSP_GNUTLS_HANDSHAKE)
TLS_PROBE_PROGRAM(uprobe_gnutls_verify2, HT_TLSP_GNUTLS_VERIFY2)
TLS_PROBE_PROGRAM(uprobe_gnutls_verify3, HT_TLSP_GNUTLS_VERIFY3)
TLS_PROBE_PROGRAM(uprobe_gnutls_bye, HT_TLSP_GNUTLS_BYE)

/* ---- exec: new images may bring TLS libraries the loader must attach --- */

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} exec_events SEC(".maps");

SEC("tp_btf/sched_process_exec")
int BPF_PROG(tp_sched_process_exec, struct task_struct *p, pid_t old_pid,
	     struct linux_binprm *bprm)
{
	struct ht_exec_event *ev;
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;

	if (!watch_exec || !want_current(tgid))
		return 0;
	ev = bpf_ringbuf_reserve(&exec_events, sizeof(*ev), 0);
	if (!ev) {
		count_drop(HT_DROP_OTHER);
		return 0;
	}
	fill_header(&ev->hdr, HT_EV_EXEC, bpf_ktime_get_ns());
	bpf_ringbuf_submit(ev, 0);
	return 0;
}
