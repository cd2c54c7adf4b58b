/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Where the BPF programs depend on how kernels differ, in one place (as
 * libbpf-tools' core_fixes.bpf.h): each fix with the kernel change that
 * needs it. The floor is Linux 5.8 (BPF ring buffer) with BTF.
 *
 * Handled without code, so nothing below:
 *   - sk_protocol and sk_type were bitfields before 5.6 ("sock: Make
 *     sk_protocol a 16-bit value"), which a plain BPF_CORE_READ cannot
 *     relocate; is_tcp_sock() reads them so, as every supported kernel
 *     has whole fields.
 *   - sched_process_exit gained a `bool group_dead` argument and moved
 *     before exit_mm() and exit_files() in 6.16 ("sched/tracepoints:
 *     Move and extend the sched_process_exit() tracepoint"):
 *     tp_sched_process_exit declares only the task, the first argument
 *     on every kernel, and reads task->exit_code, set before either
 *     place.
 *   - bpf_get_attach_cookie() (5.15) is used only by uprobe_tls_multi,
 *     loaded only where uprobe_multi links exist (6.6+) and the helper
 *     is found (src/kernel/variants.c); elsewhere each TLS function has
 *     a program of its own.
 */
#ifndef HTTPTRACE_CORE_FIXES_BPF_H
#define HTTPTRACE_CORE_FIXES_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#include "maps.bpf.h"

#define S_IFMT 00170000
#define S_IFSOCK 0140000

/*
 * The socket behind an fd of the current task: files -> fdtable -> file
 * -> socket -> sock, read field by field. bpf_sock_from_file() would do
 * the last steps, from 5.11 on ("bpf: Add a bpf_sock_from_file
 * helper"); 5.8 to 5.10 lack it, and the fields read are in every
 * supported kernel.
 */
static __always_inline struct sock *sock_from_fd(int fd)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct file **fds;
	struct file *file = NULL;
	struct socket *sock;

	if (!fdt || fd < 0 || (unsigned int)fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	fds = BPF_CORE_READ(fdt, fd);
	bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]);
	if (!file)
		return NULL;
	if ((BPF_CORE_READ(file, f_inode, i_mode) & S_IFMT) != S_IFSOCK)
		return NULL;
	sock = BPF_CORE_READ(file, private_data);
	if (!sock)
		return NULL;
	return BPF_CORE_READ(sock, sk);
}

/*
 * inet_csk_accept()'s result in its fexit program. Its arguments changed
 * in 6.10 ("net: change proto and proto_ops accept type": flags, err and
 * kern became one struct proto_accept_arg *), and an fexit program that
 * names them must match the running kernel's. Two variants, the loader
 * picks one by probing (src/kernel/variants.c):
 *   - fexit_inet_csk_accept: bpf_get_func_ret() (5.17), the same on all;
 *   - fexit_inet_csk_accept_args: before 5.17, the return value is the
 *     context slot after the arguments, at their count, which the loader
 *     reads from the kernel's BTF into accept_nargs.
 */
static __always_inline struct sock *fexit_inet_csk_accept_ret(void *ctx)
{
	__u64 ret = 0;

	bpf_get_func_ret(ctx, &ret);
	return (struct sock *)ret;
}

/* inet_csk_accept's argument count, from BTF (fexit_inet_csk_accept_args) */
const volatile __u32 accept_nargs = 0;

/*
 * The verifier wants a constant offset in the load from the context (a
 * context pointer moved by a register is refused even when the register
 * is a known constant): one load per possible count, written in asm so
 * that the compiler cannot fold them into ctx + n * 8, all but one
 * pruned, as accept_nargs is a constant.
 */
#define CTX_SLOT(ctx, off)                                                   \
	({                                                                   \
		__u64 __v;                                                   \
		asm volatile("%0 = *(u64 *)(%1 + " #off ")"                  \
			     : "=r"(__v) : "r"(ctx));                        \
		__v;                                                         \
	})

static __always_inline struct sock *
fexit_inet_csk_accept_ret_after_args(__u64 *ctx)
{
	if (accept_nargs == 2)
		return (struct sock *)CTX_SLOT(ctx, 16);
	if (accept_nargs == 3)
		return (struct sock *)CTX_SLOT(ctx, 24);
	if (accept_nargs == 4)
		return (struct sock *)CTX_SLOT(ctx, 32);
	if (accept_nargs == 5)
		return (struct sock *)CTX_SLOT(ctx, 40);
	return NULL;
}

/*
 * Per-connection sequence numbers. With BPF atomic fetch (5.12: "bpf:
 * Add BPF_FETCH field / create atomic_fetch_add instruction") a record
 * takes the connection's next number, and a number that never reaches
 * userspace is a gap there (records lost). Older verifiers refuse the
 * instruction even in code a constant prunes, so the object is built
 * twice, HT_ATOMIC_FETCH 1 and 0, and the loader picks one by probing.
 *
 * Without it the plain atomic add (no result) is all there is, and a
 * read-then-store counter is wrong when two CPUs write on one socket
 * (one thread reading while another writes, or a state change in
 * softirq): both take the same number, and userspace would throw the
 * second record away as stale. bpf_spin_lock is refused to tracing
 * programs. So such kernels do not number records: a record whose
 * ringbuf reservation fails adds one to the connection's `lost` count
 * (atomic add), and the next record that goes out takes the count and
 * subtracts what it took (atomic add of the negative), carrying it as
 * HT_SEQ_UNNUMBERED | count. Userspace turns that into the numbers it
 * would have seen (src/pipeline/conn_table.c). Every loss is reported
 * exactly once, on the connection's next record (or the one after, when
 * two CPUs race on it); what is lost is only the exact place of the gap
 * and telling a record that escaped the reorder window.
 */
#ifndef HT_ATOMIC_FETCH
#define HT_ATOMIC_FETCH 1
#endif

static __always_inline __u32 conn_seq_take(struct conn_state *st)
{
#if HT_ATOMIC_FETCH
	return __sync_fetch_and_add(&st->seq, 1);
#else
	__u32 lost = *(volatile __u32 *)&st->lost;

	if (lost)
		__sync_fetch_and_add(&st->lost, -lost);
	return HT_SEQ_UNNUMBERED | (lost & ~HT_SEQ_UNNUMBERED);
#endif
}

/* The record that took `seq` did not go out. */
static __always_inline void conn_seq_lost(struct conn_state *st, __u32 seq)
{
#if !HT_ATOMIC_FETCH
	__sync_fetch_and_add(&st->lost, (seq & ~HT_SEQ_UNNUMBERED) + 1);
#endif
}

/* A record that took no number did not go out (TLS records take theirs
 * only once reserved: with numbers, such a loss shows no gap). */
static __always_inline void conn_seq_lost_untaken(struct conn_state *st)
{
#if !HT_ATOMIC_FETCH
	__sync_fetch_and_add(&st->lost, 1);
#endif
}

/*
 * Programs and preemption. Since 6.0 (commits 8c7dcb84e3b7 and
 * 88bf18581375, sleepable uprobes) a uprobe runs its programs with
 * migration off but preemption on, and without the per-CPU
 * bpf_prog_active exclusion kprobes have. Since 6.13 (a76ab5731e32,
 * private stacks) the x86 JIT gives each kprobe-type program with 64 or
 * more bytes of stack one stack per CPU, on the assumption that it
 * never runs twice at once on a CPU. On a kernel that preempts kernel
 * code (full or lazy preemption, the default of Debian's 7.x kernels) a
 * thread preempted inside our uprobe program and another thread running
 * the same program on that CPU share that stack: the first resumes with
 * spilled pointers overwritten, and the kernel oopses (seen in our sid
 * guest). Records built in the per-CPU scratch (data_scratches) mix the
 * same way, and on sid 7.2 a syscall tracepoint program was seen
 * preempted too: a Go plaintext record went out twice, the second time
 * with the size of the socket record the preempted program was making.
 *
 * So where the kernel lets a program turn preemption off around calls
 * to global functions (bpf_preempt_disable, 6.10; global functions
 * inside, 6.15), every program runs its body with preemption off (the
 * calls nest: where the kernel had it off already, nothing changes):
 * the object is built a third time with HT_PREEMPT_GUARD 1 and the
 * loader picks it by probing (src/kernel/variants.c). A kfunc call
 * cannot be left in the other builds: kernels without the kfunc refuse
 * the object, and Debian 12's libbpf (1.1) cannot drop a weak one. The
 * body must be inline code: a program may not end between the two calls
 * (the verifier refuses that).
 */
#ifndef HT_PREEMPT_GUARD
#define HT_PREEMPT_GUARD 0
#endif

#if HT_PREEMPT_GUARD
extern void bpf_preempt_disable(void) __ksym;
extern void bpf_preempt_enable(void) __ksym;
#define GUARDED(body)                                                        \
	do {                                                                 \
		bpf_preempt_disable();                                       \
		body;                                                        \
		bpf_preempt_enable();                                        \
	} while (0)
#else
#define GUARDED(body)                                                        \
	do {                                                                 \
		body;                                                        \
	} while (0)
#endif

#endif /* HTTPTRACE_CORE_FIXES_BPF_H */
