/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Program variants, chosen at load time from what the kernel was found
 * to do, never from its version (distributions backport features):
 * which BPF object (with or without atomic fetch, with uprobe programs
 * run with preemption off or not) is opened, and which
 * of its programs load in an attach mode. The tracer (kernel/tracer.c)
 * and the BPF test layer (tests/bpf/bpf_test.c) both choose here.
 */
#ifndef HTTPTRACE_KERNEL_VARIANTS_H
#define HTTPTRACE_KERNEL_VARIANTS_H

#include <stdbool.h>
#include <stddef.h>

#include "kernel/attach_mode.h"

#define VARIANT_WHY_MAX 160

/* X(ENUM suffix, --probe's name for the feature) */
#define VARIANT_FEATURES(X)                                                  \
	X(ATOMIC_FETCH, "atomic fetch")                                      \
	X(FUNC_RET, "fexit return value")                                    \
	X(ATTACH_COOKIE, "attach cookie")                                    \
	X(PREEMPT_GUARD, "preemption guard")

enum variant_feature {
#define VARIANT_FEATURE_ENUM(name, word) VF_##name,
	VARIANT_FEATURES(VARIANT_FEATURE_ENUM)
#undef VARIANT_FEATURE_ENUM
	VF_COUNT,
};

struct variant_features {
	/* not found, or not known (why says "not known: ..."): the variant
	 * that needs less */
	bool have[VF_COUNT];
	char why[VF_COUNT][VARIANT_WHY_MAX];
	/* inet_csk_accept's argument count in kernel BTF, 0 if not found */
	int accept_nargs;
};

struct httptrace_bpf;
struct bpf_object_open_opts;

/* Probes each feature by loading a tiny program that needs it. btf_path:
 * the kernel BTF, NULL or "" for /sys/kernel/btf/vmlinux. */
void variants_probe(struct variant_features *v, const char *btf_path);

/* Opens the object the kernel can load: the guarded build (uprobe
 * programs with preemption off), with atomic fetch, or the unnumbered
 * build. NULL with errno set on failure. */
struct httptrace_bpf *variants_open(const struct variant_features *v,
				    const struct bpf_object_open_opts *opts);

/* Turns on the programs of `mode` (the other modes' off), with the
 * variants the features allow, and sets what they read at load time. */
void variants_select(struct httptrace_bpf *skel,
		     const struct variant_features *v, enum attach_mode mode);

/* May TLS probes share one program told apart by the attach cookie (with
 * uprobe_multi links)? Else a program per function. */
static inline bool variants_tls_cookie(const struct variant_features *v)
{
	return v->have[VF_ATTACH_COOKIE];
}

/* --probe: feature i's name, and the variant it leads to in words. */
const char *variants_feature_name(enum variant_feature i);
const char *variants_chosen(const struct variant_features *v,
			    enum variant_feature i, char *buf, size_t len);

#endif /* HTTPTRACE_KERNEL_VARIANTS_H */
