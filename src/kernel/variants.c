// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "httptrace.skel.h"
#include "httptrace_unnumbered.skel.h"
#include "httptrace_guarded.skel.h"
#include "kernel/variants.h"

#define VMLINUX_BTF "/sys/kernel/btf/vmlinux"

static const char *const feature_names[VF_COUNT] = {
#define VARIANT_FEATURE_NAME(name, word) [VF_##name] = word,
	VARIANT_FEATURES(VARIANT_FEATURE_NAME)
#undef VARIANT_FEATURE_NAME
};

const char *variants_feature_name(enum variant_feature i)
{
	return (unsigned)i < VF_COUNT ? feature_names[i] : "?";
}

static void set_why(struct variant_features *v, enum variant_feature i,
		    const char *fmt, const char *arg)
{
	snprintf(v->why[i], VARIANT_WHY_MAX, fmt, arg);
}

/* A kernel that refuses for want of privileges says nothing about what
 * it offers. */
static bool denied(int err)
{
	return err == EPERM || err == EACCES;
}

/* An atomic fetch-and-add on the stack: EINVAL before 5.12 ("BPF_STX
 * uses reserved fields"). */
static void probe_atomic_fetch(struct variant_features *v)
{
	struct bpf_insn insns[] = {
		/* *(u64 *)(r10 - 8) = 0 */
		{ .code = BPF_ST | BPF_MEM | BPF_DW, .dst_reg = BPF_REG_10,
		  .off = -8 },
		/* r1 = 1 */
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_1,
		  .imm = 1 },
		/* r1 = atomic_fetch_add((u64 *)(r10 - 8), r1) */
		{ .code = BPF_STX | BPF_ATOMIC | BPF_DW, .dst_reg = BPF_REG_10,
		  .src_reg = BPF_REG_1, .off = -8, .imm = BPF_ADD | BPF_FETCH },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	int fd = bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, "probe_fetch",
			       "GPL", insns, sizeof(insns) / sizeof(insns[0]),
			       NULL);

	if (fd >= 0) {
		v->have[VF_ATOMIC_FETCH] = true;
		close(fd);
	} else if (denied(errno)) {
		set_why(v, VF_ATOMIC_FETCH, "not known: %s", strerror(errno));
	} else {
		set_why(v, VF_ATOMIC_FETCH, "%s", "BPF atomic fetch refused "
			"(needs Linux 5.12)");
	}
}

/* An fexit program on inet_csk_accept, with bpf_get_func_ret (with_call)
 * or without. Returns the fd or -errno. */
static int load_fexit(int btf_id, bool with_call)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ST | BPF_MEM | BPF_DW, .dst_reg = BPF_REG_10,
		  .off = -8 },
		/* r2 = r10 - 8; r1 is the context */
		{ .code = BPF_ALU64 | BPF_MOV | BPF_X, .dst_reg = BPF_REG_2,
		  .src_reg = BPF_REG_10 },
		{ .code = BPF_ALU64 | BPF_ADD | BPF_K, .dst_reg = BPF_REG_2,
		  .imm = -8 },
		{ .code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_get_func_ret },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts,
		    .expected_attach_type = BPF_TRACE_FEXIT,
		    .attach_btf_id = btf_id);
	int fd;

	if (!with_call) /* the last two: r0 = 0; exit */
		fd = bpf_prog_load(BPF_PROG_TYPE_TRACING, "probe_fexit",
				   "GPL", insns + 4, 2, &opts);
	else
		fd = bpf_prog_load(BPF_PROG_TYPE_TRACING, "probe_func_ret",
				   "GPL", insns,
				   sizeof(insns) / sizeof(insns[0]), &opts);
	return fd < 0 ? -errno : fd;
}

static void probe_func_ret(struct variant_features *v, int btf_id)
{
	int fd;

	if (btf_id <= 0) {
		set_why(v, VF_FUNC_RET, "%s",
			"inet_csk_accept is not in kernel BTF");
		return;
	}
	/* moot where fexit itself is refused (fentry: says why) */
	fd = load_fexit(btf_id, false);
	if (fd < 0) {
		set_why(v, VF_FUNC_RET, "not known: fexit programs refused "
			"(%s)", strerror(-fd));
		return;
	}
	close(fd);
	fd = load_fexit(btf_id, true);
	if (fd >= 0) {
		v->have[VF_FUNC_RET] = true;
		close(fd);
	} else {
		set_why(v, VF_FUNC_RET, "%s",
			"bpf_get_func_ret missing (needs Linux 5.17)");
	}
}

static void probe_attach_cookie(struct variant_features *v)
{
	int ret = libbpf_probe_bpf_helper(BPF_PROG_TYPE_KPROBE,
					  BPF_FUNC_get_attach_cookie, NULL);

	if (ret > 0) {
		v->have[VF_ATTACH_COOKIE] = true;
	} else if (ret == 0) {
		set_why(v, VF_ATTACH_COOKIE, "%s", "bpf_get_attach_cookie "
			"missing (needs Linux 5.15)");
	} else if (denied(-ret)) {
		set_why(v, VF_ATTACH_COOKIE, "not known: %s", strerror(-ret));
	} else {
		set_why(v, VF_ATTACH_COOKIE, "cannot probe for it (%s)",
			strerror(-ret));
	}
}

/* inet_csk_accept's BTF id, its argument count in v->accept_nargs. */
static int find_accept(struct variant_features *v, const struct btf *btf)
{
	const struct btf_type *t;
	int id;

	if (!btf)
		return -ENOENT;
	id = btf__find_by_name_kind(btf, "inet_csk_accept", BTF_KIND_FUNC);
	if (id > 0) {
		t = btf__type_by_id(btf, btf__type_by_id(btf, id)->type);
		if (t && btf_is_func_proto(t))
			v->accept_nargs = btf_vlen(t);
	}
	return id;
}

/*
 * A kprobe-type program (what a uprobe runs) that turns preemption off
 * and on again by the kfuncs whose BTF ids are given, calling a global
 * function in between when with_global. Returns the fd or -errno.
 */
static int load_preempt_guard(int off_id, int on_id, bool with_global)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_JMP | BPF_CALL,
		  .src_reg = BPF_PSEUDO_KFUNC_CALL, .imm = off_id },
		/* call insns[5], the global function (pc + 1 + 3) */
		{ .code = BPF_JMP | BPF_CALL, .src_reg = BPF_PSEUDO_CALL,
		  .imm = 3 },
		{ .code = BPF_JMP | BPF_CALL,
		  .src_reg = BPF_PSEUDO_KFUNC_CALL, .imm = on_id },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0 },
		{ .code = BPF_JMP | BPF_EXIT },
		/* int global(void) { return 0; } */
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	struct bpf_insn plain[] = { insns[0], insns[2], insns[3], insns[4] };
	struct bpf_func_info funcs[2] = { { .insn_off = 0 },
					  { .insn_off = 5 } };
	LIBBPF_OPTS(bpf_prog_load_opts, opts);
	struct btf *btf;
	int fd, int_id, proto;

	if (!with_global) {
		fd = bpf_prog_load(BPF_PROG_TYPE_KPROBE, "probe_preempt",
				   "GPL", plain, 4, &opts);
		return fd < 0 ? -errno : fd;
	}
	/* a global function is one the program's BTF says is global */
	btf = btf__new_empty();
	if (!btf)
		return -ENOMEM;
	int_id = btf__add_int(btf, "int", 4, BTF_INT_SIGNED);
	proto = btf__add_func_proto(btf, int_id);
	btf__add_func_param(btf, "ctx", btf__add_ptr(btf, 0));
	funcs[0].type_id = btf__add_func(btf, "probe_preempt",
					 BTF_FUNC_GLOBAL, proto);
	funcs[1].type_id = btf__add_func(btf, "probe_preempt_global",
					 BTF_FUNC_GLOBAL,
					 btf__add_func_proto(btf, int_id));
	if ((int)funcs[0].type_id < 0 || (int)funcs[1].type_id < 0 ||
	    btf__load_into_kernel(btf)) {
		fd = -errno;
		btf__free(btf);
		return fd ? fd : -EINVAL;
	}
	opts.prog_btf_fd = btf__fd(btf);
	opts.func_info = funcs;
	opts.func_info_cnt = 2;
	opts.func_info_rec_size = sizeof(funcs[0]);
	fd = bpf_prog_load(BPF_PROG_TYPE_KPROBE, "probe_preempt", "GPL",
			   insns, sizeof(insns) / sizeof(insns[0]), &opts);
	fd = fd < 0 ? -errno : fd;
	btf__free(btf);
	return fd;
}

/* The running kernel's BTF (the kfuncs are named by their ids in it). */
static void probe_preempt_guard(struct variant_features *v,
				const struct btf *vmlinux)
{
	int off_id, on_id, fd;

	if (!vmlinux) {
		set_why(v, VF_PREEMPT_GUARD, "%s",
			"not known: no kernel BTF to find the kfuncs in");
		return;
	}
	off_id = btf__find_by_name_kind(vmlinux, "bpf_preempt_disable",
					BTF_KIND_FUNC);
	on_id = btf__find_by_name_kind(vmlinux, "bpf_preempt_enable",
				       BTF_KIND_FUNC);
	if (off_id <= 0 || on_id <= 0) {
		set_why(v, VF_PREEMPT_GUARD, "%s", "bpf_preempt_disable "
			"missing (needs Linux 6.10)");
		return;
	}
	fd = load_preempt_guard(off_id, on_id, false);
	if (fd < 0) {
		set_why(v, VF_PREEMPT_GUARD, denied(-fd) ? "not known: %s" :
			"bpf_preempt_disable refused to kprobe-type programs "
			"(%s)",
			strerror(-fd));
		return;
	}
	close(fd);
	fd = load_preempt_guard(off_id, on_id, true);
	if (fd >= 0) {
		v->have[VF_PREEMPT_GUARD] = true;
		close(fd);
	} else {
		set_why(v, VF_PREEMPT_GUARD, "%s", "global functions refused "
			"with preemption off (needs Linux 6.15)");
	}
}

/*
 * HTTPTRACE_WITHOUT=atomic-fetch,fexit-return-value,attach-cookie,
 * preemption-guard (the names with dashes for spaces, so that a kernel
 * command line can carry it to a guest's init): features taken as
 * missing, so that the variants older kernels get are tested on a new
 * one.
 */
static void apply_without(struct variant_features *v)
{
	const char *without = getenv("HTTPTRACE_WITHOUT");
	char dashed[64];

	if (!without || !*without)
		return;
	for (int i = 0; i < VF_COUNT; i++) {
		snprintf(dashed, sizeof(dashed), "%s", feature_names[i]);
		for (char *c = dashed; *c; c++)
			if (*c == ' ')
				*c = '-';
		if (!strstr(without, dashed) || !v->have[i])
			continue;
		v->have[i] = false;
		set_why(v, i, "%s", "taken as missing (HTTPTRACE_WITHOUT)");
	}
}

void variants_probe(struct variant_features *v, const char *btf_path)
{
	bool own_btf = btf_path && *btf_path && strcmp(btf_path, VMLINUX_BTF);
	struct btf *btf = own_btf ? btf__parse(btf_path, NULL) :
				    btf__load_vmlinux_btf();
	struct btf *vmlinux = btf;

	/* kfuncs are the kernel's own BTF ids: none without it (--btf) */
	if (own_btf)
		vmlinux = access(VMLINUX_BTF, R_OK) ?
				  NULL :
				  btf__parse(VMLINUX_BTF, NULL);
	memset(v, 0, sizeof(*v));
	probe_atomic_fetch(v);
	probe_func_ret(v, find_accept(v, btf));
	probe_attach_cookie(v);
	probe_preempt_guard(v, vmlinux);
	apply_without(v);
	if (vmlinux != btf)
		btf__free(vmlinux);
	btf__free(btf);
}

/* The guarded build is numbered: every kernel with the guard has atomic
 * fetch, and a third build for HTTPTRACE_WITHOUT alone is not worth it. */
static bool guarded(const struct variant_features *v)
{
	return v->have[VF_PREEMPT_GUARD] && v->have[VF_ATOMIC_FETCH];
}

struct httptrace_bpf *variants_open(const struct variant_features *v,
				    const struct bpf_object_open_opts *opts)
{
	struct httptrace_bpf *skel = calloc(1, sizeof(*skel));
	int err;

	if (!skel) {
		errno = ENOMEM;
		return NULL;
	}
	err = httptrace_bpf__create_skeleton(skel);
	if (err)
		goto fail;
	/* the same source and so the same programs, maps and globals: the
	 * skeleton's names find them in either object */
	if (guarded(v))
		skel->skeleton->data = (void *)httptrace_guarded_bpf__elf_bytes(
			&skel->skeleton->data_sz);
	else if (!v->have[VF_ATOMIC_FETCH])
		skel->skeleton->data = (void *)httptrace_unnumbered_bpf__elf_bytes(
			&skel->skeleton->data_sz);
	err = bpf_object__open_skeleton(skel->skeleton, opts);
	if (err)
		goto fail;
	/* the skeleton's struct may end in padding the section has not */
	if ((bpf_map__value_size(skel->maps.rodata) + 7) / 8 !=
	    (sizeof(*skel->rodata) + 7) / 8) {
		err = -EPROTO;
		goto fail;
	}
	return skel;
fail:
	httptrace_bpf__destroy(skel);
	errno = -err;
	return NULL;
}

static bool accept_args_usable(const struct variant_features *v)
{
	return v->accept_nargs >= 2 && v->accept_nargs <= 5;
}

void variants_select(struct httptrace_bpf *skel,
		     const struct variant_features *v, enum attach_mode mode)
{
	bool fentry = mode == ATTACH_FENTRY, kprobe = mode == ATTACH_KPROBE;
	bool func_ret = v->have[VF_FUNC_RET];

	bpf_program__set_autoload(skel->progs.fentry_tcp_connect, fentry);
	bpf_program__set_autoload(skel->progs.fexit_inet_csk_accept,
				  fentry && func_ret);
	bpf_program__set_autoload(skel->progs.fexit_inet_csk_accept_args,
				  fentry && !func_ret &&
					  accept_args_usable(v));
	bpf_program__set_autoload(skel->progs.kprobe_tcp_connect, kprobe);
	bpf_program__set_autoload(skel->progs.kretprobe_inet_csk_accept,
				  kprobe);
	skel->rodata->accept_nargs = (__u32)v->accept_nargs;
	skel->rodata->connect_via_state_change = mode == ATTACH_TRACEPOINT;
}

const char *variants_chosen(const struct variant_features *v,
			    enum variant_feature i, char *buf, size_t len)
{
	switch (i) {
	case VF_ATOMIC_FETCH:
		snprintf(buf, len, "%s", v->have[i] ?
			 "records numbered per connection (atomic "
			 "fetch-and-add)" :
			 "records not numbered: losses counted per "
			 "connection and carried by its next record");
		break;
	case VF_FUNC_RET:
		if (v->have[i])
			snprintf(buf, len, "fexit accept reads "
				 "bpf_get_func_ret (fentry mode)");
		else if (accept_args_usable(v))
			snprintf(buf, len, "fexit accept reads its arguments "
				 "(%d in BTF; fentry mode)", v->accept_nargs);
		else
			snprintf(buf, len, "no fexit accept: the accepted "
				 "socket from its fd (fentry mode)");
		break;
	case VF_ATTACH_COOKIE:
		snprintf(buf, len, "%s", v->have[i] ?
			 "TLS probes: one program for all functions, told "
			 "apart by the cookie (with uprobe_multi links)" :
			 "TLS probes: a program per function");
		break;
	case VF_PREEMPT_GUARD:
		snprintf(buf, len, "%s", guarded(v) ?
			 "programs run with preemption off" :
			 v->have[i] ? "programs preemptible: the unnumbered "
			 "build has no guard" :
			 "programs run as the kernel runs them: uprobe ones "
			 "preemptible on a kernel that preempts (README, "
			 "Limitations)");
		break;
	default:
		snprintf(buf, len, "?");
	}
	return buf;
}
