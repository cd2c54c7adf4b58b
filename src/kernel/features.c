// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "kernel/features.h"
#include "kernel/uprobe_multi.h"

#define VMLINUX_BTF "/sys/kernel/btf/vmlinux"
#define TRACEFS "/sys/kernel/tracing"
#define DEBUGFS_TRACING "/sys/kernel/debug/tracing"
#define TRACEFS_MAGIC_NR 0x74726163

/* capability numbers newer than some headers */
#define HT_CAP_PERFMON 38
#define HT_CAP_BPF 39

static uint64_t effective_caps(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = {};

	if (syscall(SYS_capget, &hdr, data))
		return 0;
	return (uint64_t)data[1].effective << 32 | data[0].effective;
}

/* appends ", name" (or name) to the list in buf */
static void add_missing(char *buf, size_t len, const char *name)
{
	size_t n = strlen(buf);

	snprintf(buf + n, len - n, "%s%s", n ? ", " : "", name);
}

/* May this process load tracing BPF programs and create maps at all? */
static bool bpf_capable(void)
{
	uint64_t eff = effective_caps();

	return (eff & (1ULL << CAP_SYS_ADMIN)) ||
	       ((eff & (1ULL << HT_CAP_BPF)) &&
		(eff & (1ULL << HT_CAP_PERFMON)));
}

bool features_privileges(char *why, size_t why_len)
{
	uint64_t eff = effective_caps();
	bool admin = eff & (1ULL << CAP_SYS_ADMIN);
	char missing[96] = "";

	if (!admin && !(eff & (1ULL << HT_CAP_BPF)))
		add_missing(missing, sizeof(missing), "CAP_BPF");
	if (!admin && !(eff & (1ULL << HT_CAP_PERFMON)))
		add_missing(missing, sizeof(missing), "CAP_PERFMON");
	/* the syscall tracepoints' ids are read from tracefs, which is
	 * root's (mode 700) unless mounted otherwise */
	if (faccessat(AT_FDCWD, TRACEFS "/events", X_OK, AT_EACCESS) &&
	    errno == EACCES)
		add_missing(missing, sizeof(missing),
			    "CAP_DAC_READ_SEARCH (tracefs is root's)");
	if (!missing[0]) {
		snprintf(why, why_len, "%s", "");
		return true;
	}
	snprintf(why, why_len, "uid %u lacks %s: run as root, or see "
		 "README.md, Requirements", (unsigned)geteuid(), missing);
	return false;
}

#define NOT_PERMITTED "not known: loading BPF programs needs CAP_BPF and " \
		      "CAP_PERFMON (or root)"

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

/* Creating a ring buffer map: EINVAL before 5.8, EPERM without the
 * privilege to create maps at all. */
static void probe_ringbuf(struct kernel_features *f)
{
	int fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, NULL, 0, 0,
				(__u32)sysconf(_SC_PAGESIZE), NULL);

	if (fd >= 0) {
		f->ringbuf = true;
		close(fd);
	} else if ((errno == EPERM || errno == EACCES) && !bpf_capable()) {
		f->denied = true;
		set_why(f->why_ringbuf, "not known: creating a BPF map is not "
			"permitted without privileges (%s)", strerror(errno));
	} else {
		set_why(f->why_ringbuf, "no BPF ring buffer (needs Linux 5.8 "
			"or later: %s)", strerror(errno));
	}
}

static bool tracefs_has_syscalls(const char *root)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/events/syscalls/sys_enter_connect",
		 root);
	/* the effective ids and capabilities, which access() would not use */
	return faccessat(AT_FDCWD, path, F_OK, AT_EACCESS) == 0;
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
	struct statfs sfs;
	struct stat st = {};

	snprintf(f->tracefs_root, sizeof(f->tracefs_root), "%s", root);
	if (tracefs_has_syscalls(root)) {
		f->tracefs = true;
		return;
	}
	if (errno == EACCES && statfs(root, &sfs) == 0 &&
	    sfs.f_type == TRACEFS_MAGIC_NR) {
		/* there, but not ours to read */
		f->denied = true;
		stat(root, &st);
		snprintf(f->why_tracefs, FEATURE_WHY_MAX,
			 "not known: tracefs at %s may not be read by uid %u "
			 "(mode %03o, owner uid %u): run as root, or add "
			 "CAP_DAC_READ_SEARCH", root, (unsigned)geteuid(),
			 (unsigned)(st.st_mode & 0777), (unsigned)st.st_uid);
		return;
	}
	if (mount("nodev", root, "tracefs", 0, NULL) && errno != EBUSY) {
		if (errno == EPERM && !(effective_caps() &
					(1ULL << CAP_SYS_ADMIN))) {
			f->denied = true;
			snprintf(f->why_tracefs, FEATURE_WHY_MAX,
				 "not known: tracefs is not mounted, and "
				 "mounting it needs root (CAP_SYS_ADMIN): run "
				 "as root, or: mount -t tracefs nodev %s", root);
			return;
		}
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
	f->privileged = features_privileges(f->why_privileges,
					    sizeof(f->why_privileges));
	probe_ringbuf(f);
	/* loading a tracing program takes privileges: without them, the
	 * kernel's EPERM would say nothing about what it offers */
	if (!f->btf) {
		set_why(f->why_fentry, "%s", "no kernel BTF");
	} else if (!bpf_capable()) {
		f->denied = true;
		set_why(f->why_fentry, "%s", NOT_PERMITTED);
	} else {
		probe_fentry(f);
	}
	f->kprobe = access("/sys/bus/event_source/devices/kprobe/type",
			   F_OK) == 0;
	if (!f->kprobe)
		set_why(f->why_kprobe, "%s",
			"no kprobe support (kernel built without CONFIG_KPROBES)");
	f->uprobes = access("/sys/bus/event_source/devices/uprobe/type",
			    F_OK) == 0;
	if (f->btf && bpf_capable()) {
		variants_probe(&f->variants, f->btf_path);
	} else {
		for (int i = 0; i < VF_COUNT; i++)
			snprintf(f->variants.why[i], VARIANT_WHY_MAX, "%s",
				 f->btf ? NOT_PERMITTED : "no kernel BTF");
	}
	if (bpf_capable()) {
		f->uprobe_multi = uprobe_multi_supported(
			f->why_uprobe_multi, sizeof(f->why_uprobe_multi));
	} else {
		f->denied = true;
		set_why(f->why_uprobe_multi, "%s", NOT_PERMITTED);
	}
	probe_tracefs(f);
}

bool features_can_trace(const struct kernel_features *f, const char **why)
{
	if (!f->btf) {
		*why = "no kernel BTF: the kernel needs CONFIG_DEBUG_INFO_BTF=y, "
		       "or give its BTF with --btf PATH";
		return false;
	}
	if (!f->privileged) {
		*why = f->why_privileges;
		return false;
	}
	if (!f->ringbuf) {
		*why = f->why_ringbuf;
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
