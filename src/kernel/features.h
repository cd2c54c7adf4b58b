/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* What the running kernel offers, probed once at start. */
#ifndef HTTPTRACE_KERNEL_FEATURES_H
#define HTTPTRACE_KERNEL_FEATURES_H

#include <stdbool.h>
#include <stddef.h>

#include "kernel/attach_mode.h"
#include "kernel/variants.h"

#define FEATURE_WHY_MAX 160

struct kernel_features {
	char btf_path[256]; /* the kernel BTF used */
	bool btf;          /* btf_path readable */
	bool ringbuf;
	/* a probe failed for want of privileges (EPERM/EACCES without
	 * them): the kernel's answer is not known */
	bool denied;
	bool fentry;       /* a fentry program on tcp_connect loads and attaches */
	bool kprobe;       /* the kprobe PMU exists */
	bool tracefs;      /* syscall tracepoints reachable */
	bool uprobes;      /* the uprobe PMU exists */
	bool uprobe_multi; /* uprobe_multi links (6.6+): one per library */
	char tracefs_root[64];
	bool privileged;   /* see features_privileges() */
	char why_privileges[FEATURE_WHY_MAX];
	char why_ringbuf[FEATURE_WHY_MAX];
	char why_fentry[FEATURE_WHY_MAX];
	char why_kprobe[FEATURE_WHY_MAX];
	char why_tracefs[FEATURE_WHY_MAX];
	char why_uprobe_multi[FEATURE_WHY_MAX];
	/* what picks the programs' variants (kernel/variants.h) */
	struct variant_features variants;
};

/* Does this process have what tracing needs (root; or CAP_BPF,
 * CAP_PERFMON and a way into tracefs, which is root's: CAP_DAC_OVERRIDE
 * or CAP_DAC_READ_SEARCH; CAP_SYS_ADMIN stands for CAP_BPF and
 * CAP_PERFMON)? If not, what is missing, in words. */
bool features_privileges(char *why, size_t why_len);

/* Probes everything; mounts tracefs if it is not mounted. btf_path:
 * kernel BTF to use, NULL or "" for /sys/kernel/btf/vmlinux. A probe the
 * kernel refuses for want of privileges says so, not that the kernel
 * lacks the feature. */
void features_probe(struct kernel_features *f, const char *btf_path);

/* Can tracing work at all? If not, why in words. */
bool features_can_trace(const struct kernel_features *f, const char **why);

/* The best mode the kernel allows, preferring fentry, then kprobe. */
enum attach_mode features_best_mode(const struct kernel_features *f);

/* Can `mode` work here? If not, why in words. */
bool features_mode_usable(const struct kernel_features *f,
			  enum attach_mode mode, const char **why);

#endif /* HTTPTRACE_KERNEL_FEATURES_H */
