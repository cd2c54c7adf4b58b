/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* What the running kernel offers, probed once at start. */
#ifndef HTTPTRACE_KERNEL_FEATURES_H
#define HTTPTRACE_KERNEL_FEATURES_H

#include <stdbool.h>

#include "options.h"

#define FEATURE_WHY_MAX 160

struct kernel_features {
	char btf_path[256]; /* the kernel BTF used */
	bool btf;          /* btf_path readable */
	bool ringbuf;
	bool fentry;       /* a fentry program on tcp_connect loads and attaches */
	bool kprobe;       /* the kprobe PMU exists */
	bool tracefs;      /* syscall tracepoints reachable */
	bool uprobes;      /* the uprobe PMU exists */
	bool uprobe_multi; /* uprobe_multi links (6.6+): one per library */
	char tracefs_root[64];
	char why_fentry[FEATURE_WHY_MAX];
	char why_kprobe[FEATURE_WHY_MAX];
	char why_tracefs[FEATURE_WHY_MAX];
	char why_uprobe_multi[FEATURE_WHY_MAX];
};

/* Probes everything; mounts tracefs if it is not mounted. btf_path:
 * kernel BTF to use, NULL or "" for /sys/kernel/btf/vmlinux. */
void features_probe(struct kernel_features *f, const char *btf_path);

/* Can tracing work at all? If not, why in words. */
bool features_can_trace(const struct kernel_features *f, const char **why);

/* The best mode the kernel allows, preferring fentry, then kprobe. */
enum attach_mode features_best_mode(const struct kernel_features *f);

/* Can `mode` work here? If not, why in words. */
bool features_mode_usable(const struct kernel_features *f,
			  enum attach_mode mode, const char **why);

#endif /* HTTPTRACE_KERNEL_FEATURES_H */
