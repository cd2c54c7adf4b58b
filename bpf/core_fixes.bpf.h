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
 *     loaded only where uprobe_multi links exist (6.6+).
 */
#ifndef HTTPTRACE_CORE_FIXES_BPF_H
#define HTTPTRACE_CORE_FIXES_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

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
 * names them must match the running kernel's; the return value, read
 * with bpf_get_func_ret() (5.17), is the same on all. Kernels from 5.8
 * to 5.16 with fentry refuse the program: in auto mode the loader falls
 * back to kprobes (kretprobe_inet_csk_accept reads only the return
 * register, on every kernel) or tracepoints.
 */
static __always_inline struct sock *fexit_inet_csk_accept_ret(void *ctx)
{
	__u64 ret = 0;

	bpf_get_func_ret(ctx, &ret);
	return (struct sock *)ret;
}

#endif /* HTTPTRACE_CORE_FIXES_BPF_H */
