// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "kernel_features.h"
#include "uprobe_multi.h"

#define VMLINUX_BTF "/sys/kernel/btf/vmlinux"
#define TRACEFS "/sys/kernel/tracing"
#define DEBUGFS_TRACING "/sys/kernel/debug/tracing"

static void set_why(char *why, const char *fmt, const char *arg)
{
	snprintf(why, FEATURE_WHY_MAX, fmt, arg);
}

/* A two-instruction fentry program on tcp_connect: if the kernel loads
 * and attaches it, the real ones will too. */
static void probe_fentry(struct kernel_features *f)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	struct btf *btf = strcmp(f->btf_path, VMLINUX_BTF) ?
				  btf__parse(f->btf_path, NULL) :
				  btf__load_vmlinux_btf();
	int id, prog_fd, link_fd;

	if (!btf) {
		set_why(f->why_fentry, "%s", "no kernel BTF");
		return;
	}
	id = btf__find_by_name_kind(btf, "tcp_connect", BTF_KIND_FUNC);
	btf__free(btf);
	if (id < 0) {
		set_why(f->why_fentry, "%s", "tcp_connect is not in kernel BTF");
		return;
	}
	LIBBPF_OPTS(bpf_prog_load_opts, opts,
		    .expected_attach_type = BPF_TRACE_FENTRY,
		    .attach_btf_id = id);
	prog_fd = bpf_prog_load(BPF_PROG_TYPE_TRACING, "probe_fentry", "GPL",
				insns, 2, &opts);
	if (prog_fd < 0) {
		set_why(f->why_fentry, "the kernel refuses fentry programs (%s)",
			strerror(errno));
		return;
	}
	link_fd = bpf_raw_tracepoint_open(NULL, prog_fd);
	if (link_fd < 0) {
		set_why(f->why_fentry, "fentry attach fails (%s)",
			strerror(errno));
	} else {
		f->fentry = true;
		close(link_fd);
	}
	close(prog_fd);
}

static bool tracefs_has_syscalls(const char *root)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/events/syscalls/sys_enter_connect",
		 root);
	return access(path, F_OK) == 0;
}

/*
 * The syscall tracepoints are found through tracefs; a fresh machine
 * often has it unmounted. libbpf looks in debugfs's tracing dir when that
 * exists, else in /sys/kernel/tracing, so mount where libbpf will look.
 */
static void probe_tracefs(struct kernel_features *f)
{
	bool debugfs = access(DEBUGFS_TRACING, F_OK) == 0;
	const char *root = debugfs ? DEBUGFS_TRACING : TRACEFS;

	snprintf(f->tracefs_root, sizeof(f->tracefs_root), "%s", root);
	if (tracefs_has_syscalls(root)) {
		f->tracefs = true;
		return;
	}
	if (mount("nodev", root, "tracefs", 0, NULL) && errno != EBUSY) {
		snprintf(f->why_tracefs, FEATURE_WHY_MAX,
			 "tracefs is not mounted and mounting it failed (%s); "
			 "run: mount -t tracefs nodev %s", strerror(errno), root);
		return;
	}
	if (tracefs_has_syscalls(root)) {
		f->tracefs = true;
		return;
	}
	snprintf(f->why_tracefs, FEATURE_WHY_MAX,
		 "no syscall tracepoints under %s/events/syscalls "
		 "(kernel built without CONFIG_FTRACE_SYSCALLS?)", root);
}

void features_probe(struct kernel_features *f, const char *btf_path)
{
	memset(f, 0, sizeof(*f));
	snprintf(f->btf_path, sizeof(f->btf_path), "%s",
		 btf_path && *btf_path ? btf_path : VMLINUX_BTF);
	f->btf = access(f->btf_path, R_OK) == 0;
	f->ringbuf = libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, NULL) > 0;
	if (f->btf)
		probe_fentry(f);
	else
		set_why(f->why_fentry, "%s", "no kernel BTF");
	f->kprobe = access("/sys/bus/event_source/devices/kprobe/type",
			   F_OK) == 0;
	if (!f->kprobe)
		set_why(f->why_kprobe, "%s",
			"no kprobe support (kernel built without CONFIG_KPROBES)");
	f->uprobes = access("/sys/bus/event_source/devices/uprobe/type",
			    F_OK) == 0;
	f->uprobe_multi = uprobe_multi_supported(f->why_uprobe_multi,
						 sizeof(f->why_uprobe_multi));
	probe_tracefs(f);
}

bool features_can_trace(const struct kernel_features *f, const char **why)
{
	if (!f->btf) {
		*why = "no kernel BTF: the kernel needs CONFIG_DEBUG_INFO_BTF=y, "
		       "or give its BTF with --btf PATH";
		return false;
	}
	if (!f->ringbuf) {
		*why = "no BPF ring buffer (needs Linux 5.8 or later)";
		return false;
	}
	if (!f->tracefs) {
		*why = f->why_tracefs;
		return false;
	}
	*why = "";
	return true;
}

bool features_mode_usable(const struct kernel_features *f,
			  enum attach_mode mode, const char **why)
{
	switch (mode) {
	case ATTACH_FENTRY:
		*why = f->why_fentry;
		return f->fentry;
	case ATTACH_KPROBE:
		*why = f->why_kprobe;
		return f->kprobe;
	case ATTACH_TRACEPOINT:
		*why = "";
		return true;
	default:
		*why = "";
		return false;
	}
}

enum attach_mode features_best_mode(const struct kernel_features *f)
{
	if (f->fentry)
		return ATTACH_FENTRY;
	if (f->kprobe)
		return ATTACH_KPROBE;
	return ATTACH_TRACEPOINT;
}
