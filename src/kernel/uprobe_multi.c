// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Uprobes through uprobe_multi links (Linux 6.6+) with the bpf(2) syscall,
 * or one perf-event link per probe where the kernel has no such links.
 */
#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "util/log.h"
#include "kernel/uprobe_multi.h"

/*
 * From the kernel's include/uapi/linux/bpf.h (6.6+); Debian 12's headers
 * (6.1) lack them: the attach type, the flag for return probes, and the
 * link_create.uprobe_multi member of union bpf_attr.
 */
#define HT_BPF_TRACE_UPROBE_MULTI 48
#define HT_BPF_F_UPROBE_MULTI_RETURN (1U << 0)

struct ht_uprobe_multi_attr {
	__u32 prog_fd;
	__u32 target_fd;
	__u32 attach_type;
	__u32 flags;            /* link_create.flags: none */
	__aligned_u64 path;     /* link_create.uprobe_multi from here */
	__aligned_u64 offsets;
	__aligned_u64 ref_ctr_offsets;
	__aligned_u64 cookies;
	__u32 cnt;
	__u32 multi_flags;      /* BPF_F_UPROBE_MULTI_RETURN */
	__u32 pid;
};

_Static_assert(offsetof(struct ht_uprobe_multi_attr, path) == 16,
	       "uprobe_multi.path");
_Static_assert(offsetof(struct ht_uprobe_multi_attr, cookies) == 40,
	       "uprobe_multi.cookies");
_Static_assert(offsetof(struct ht_uprobe_multi_attr, cnt) == 48,
	       "uprobe_multi.cnt");
_Static_assert(offsetof(struct ht_uprobe_multi_attr, pid) == 56,
	       "uprobe_multi.pid");

struct uprobe_handle {
	int n_fds;               /* uprobe_multi links */
	int n_links;             /* perf-event links */
	int *fds;
	struct bpf_link **links;
};

static void errstr(int err, char *buf, size_t len)
{
	if (libbpf_strerror(err, buf, len))
		snprintf(buf, len, "%s", strerror(err < 0 ? -err : err));
}

int uprobe_multi_link_create(int prog_fd, const char *path,
			     const unsigned long *offsets,
			     const uint64_t *cookies, unsigned int cnt,
			     pid_t pid, bool ret)
{
	struct ht_uprobe_multi_attr attr;
	int fd;

	memset(&attr, 0, sizeof(attr)); /* padding too: the kernel checks */
	attr.prog_fd = (__u32)prog_fd;
	attr.attach_type = HT_BPF_TRACE_UPROBE_MULTI;
	attr.path = (__u64)(unsigned long)path;
	attr.offsets = (__u64)(unsigned long)offsets;
	attr.cookies = (__u64)(unsigned long)cookies;
	attr.cnt = cnt;
	attr.multi_flags = ret ? HT_BPF_F_UPROBE_MULTI_RETURN : 0;
	attr.pid = (__u32)pid;
	fd = (int)syscall(__NR_bpf, BPF_LINK_CREATE, &attr, sizeof(attr));
	return fd < 0 ? -errno : fd;
}

int uprobe_multi_prepare_program(struct bpf_program *prog)
{
	return bpf_program__set_expected_attach_type(
		prog, (enum bpf_attach_type)HT_BPF_TRACE_UPROBE_MULTI);
}

/*
 * As libbpf 1.3+ (probe_uprobe_multi_link): a two-instruction program
 * loaded for uprobe_multi, linked to "/" (a directory): a kernel with
 * these links looks the path up and refuses it with EBADF; one without
 * fails otherwise (EINVAL: unknown attach type or attr fields). Then the
 * first kernels with these links filtered by thread where a
 * PID was given, not by process: they check the path before the PID and
 * answer EBADF to pid -1, fixed ones EINVAL.
 */
bool uprobe_multi_supported(char *why, size_t why_len)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts,
		    .expected_attach_type =
			    (enum bpf_attach_type)HT_BPF_TRACE_UPROBE_MULTI);
	unsigned long offset = 0;
	int prog_fd, fd;
	char msg[128];

	prog_fd = bpf_prog_load(BPF_PROG_TYPE_KPROBE, "probe_umulti", "GPL",
				insns, 2, &opts);
	if (prog_fd < 0) {
		errstr(-errno, msg, sizeof(msg));
		snprintf(why, why_len, "the kernel refuses uprobe_multi "
			 "programs (%s)", msg);
		return false;
	}
	fd = uprobe_multi_link_create(prog_fd, "/", &offset, NULL, 1, 0,
				      false);
	if (fd >= 0 || fd != -EBADF) {
		if (fd >= 0)
			close(fd);
		close(prog_fd);
		errstr(fd, msg, sizeof(msg));
		snprintf(why, why_len, "no uprobe_multi links (Linux < 6.6; "
			 "the test link said: %s)", fd >= 0 ? "success" : msg);
		return false;
	}
	fd = uprobe_multi_link_create(prog_fd, "/", &offset, NULL, 1, -1,
				      false);
	if (fd >= 0)
		close(fd);
	close(prog_fd);
	if (fd != -EINVAL) {
		snprintf(why, why_len, "%s", "uprobe_multi links here filter "
			 "by thread, not process (a 6.6-era kernel without "
			 "the 2024 fix)");
		return false;
	}
	snprintf(why, why_len, "%s", "");
	return true;
}

static struct uprobe_handle *handle_new(int n)
{
	struct uprobe_handle *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->fds = calloc((size_t)n, sizeof(*h->fds));
	h->links = calloc((size_t)n, sizeof(*h->links));
	if (!h->fds || !h->links) {
		free(h->fds);
		free(h->links);
		free(h);
		return NULL;
	}
	return h;
}

void uprobe_handle_close(void *item)
{
	struct uprobe_handle *h = item;

	if (!h)
		return;
	for (int i = 0; i < h->n_fds; i++)
		close(h->fds[i]);
	for (int i = 0; i < h->n_links; i++)
		bpf_link__destroy(h->links[i]);
	free(h->fds);
	free(h->links);
	free(h);
}

static void log_failed(const char *what, struct uprobe_spec *s,
		       const char *path, int err)
{
	char msg[128];

	s->err = err;
	errstr(err, msg, sizeof(msg));
	log_verbose("%s: %s in %s: cannot attach %s: %s", what, s->name, path,
		    s->ret ? "return probe" : "probe", msg);
}

static void attach_perf(struct uprobe_handle *h, const char *path, pid_t pid,
			struct uprobe_spec *s, const char *what)
{
	LIBBPF_OPTS(bpf_uprobe_opts, uopts, .retprobe = s->ret);
	struct bpf_link *link;

	link = bpf_program__attach_uprobe_opts(s->prog, pid, path,
					       (size_t)s->offset, &uopts);
	if (!link) {
		log_failed(what, s, path, -errno);
		return;
	}
	h->links[h->n_links++] = link;
	s->attached = true;
}

/* One link for the specs idx[0..cnt) (same program, same direction). */
static int attach_group(struct uprobe_handle *h, const char *path, pid_t pid,
			struct uprobe_spec *specs, const int *idx, int cnt)
{
	unsigned long offsets[cnt];
	uint64_t cookies[cnt];
	int fd;

	for (int k = 0; k < cnt; k++) {
		offsets[k] = (unsigned long)specs[idx[k]].offset;
		cookies[k] = specs[idx[k]].cookie;
	}
	fd = uprobe_multi_link_create(bpf_program__fd(specs[idx[0]].prog),
				      path, offsets, cookies, (unsigned)cnt,
				      pid > 0 ? pid : 0, specs[idx[0]].ret);
	if (fd < 0)
		return fd;
	h->fds[h->n_fds++] = fd;
	for (int k = 0; k < cnt; k++)
		specs[idx[k]].attached = true;
	return 0;
}

static void attach_multi(struct uprobe_handle *h, const char *path, pid_t pid,
			 struct uprobe_spec *specs, int n, const char *what)
{
	bool grouped[n];
	int idx[n];

	memset(grouped, 0, sizeof(grouped));
	for (int i = 0; i < n; i++) {
		int cnt = 0, ret;
		char msg[128];

		if (grouped[i])
			continue;
		for (int j = i; j < n; j++) {
			if (grouped[j] || specs[j].prog != specs[i].prog ||
			    specs[j].ret != specs[i].ret)
				continue;
			grouped[j] = true;
			idx[cnt++] = j;
		}
		ret = attach_group(h, path, pid, specs, idx, cnt);
		if (!ret)
			continue;
		if (cnt == 1) {
			log_failed(what, &specs[idx[0]], path, ret);
			continue;
		}
		/* one bad offset fails the whole link: the others go in
		 * one link each */
		errstr(ret, msg, sizeof(msg));
		log_verbose("%s: %s: one uprobe_multi link for %d %s failed "
			    "(%s); attaching them one link per probe", what,
			    path, cnt, specs[i].ret ? "return probes" :
			    "probes", msg);
		for (int k = 0; k < cnt; k++) {
			ret = attach_group(h, path, pid, specs, &idx[k], 1);
			if (ret)
				log_failed(what, &specs[idx[k]], path, ret);
		}
	}
}

struct uprobe_handle *uprobe_attach(bool multi, const char *path, pid_t pid,
				    struct uprobe_spec *specs, int n,
				    const char *what)
{
	struct uprobe_handle *h;

	for (int i = 0; i < n; i++) {
		specs[i].attached = false;
		specs[i].err = 0;
	}
	if (n <= 0)
		return NULL;
	h = handle_new(n);
	if (!h) {
		log_warn("%s: %s: out of memory: not attached", what, path);
		return NULL;
	}
	if (multi) {
		attach_multi(h, path, pid, specs, n, what);
	} else {
		for (int i = 0; i < n; i++)
			attach_perf(h, path, pid, &specs[i], what);
	}
	if (!h->n_fds && !h->n_links) {
		uprobe_handle_close(h);
		return NULL;
	}
	/* -vv: every probe, for whoever must put the same ones somewhere
	 * (make bench's floor); uprobe_multi links are not in `bpftool
	 * perf` */
	for (int i = 0; log_level >= 2 && i < n; i++)
		if (specs[i].attached)
			log_verbose("uprobe: %s:%llu %s %s", path,
				    (unsigned long long)specs[i].offset,
				    specs[i].ret ? "return" : "entry",
				    specs[i].name ? specs[i].name : "?");
	return h;
}

int uprobe_handle_links(const struct uprobe_handle *h)
{
	return h ? h->n_fds + h->n_links : 0;
}

void uprobe_handles_close(struct uprobe_handle **handles, int n)
{
	run_parallel(uprobe_handle_close, (void **)handles, n);
}

struct parallel_slice {
	void (*fn)(void *item);
	void **items;
	int n;
	pthread_t thread;
};

static void *run_slice(void *arg)
{
	struct parallel_slice *s = arg;

	for (int i = 0; i < s->n; i++)
		s->fn(s->items[i]);
	return NULL;
}

void run_parallel(void (*fn)(void *item), void **items, int n)
{
	enum { THREADS = 32 };
	struct parallel_slice s[THREADS];
	int per = (n + THREADS - 1) / THREADS, started = 0;

	for (int k = 0; k < THREADS && per; k++) {
		int from = k * per;

		if (from >= n)
			break;
		s[k].fn = fn;
		s[k].items = items + from;
		s[k].n = n - from < per ? n - from : per;
		if (pthread_create(&s[k].thread, NULL, run_slice, &s[k])) {
			run_slice(&s[k]);
			s[k].n = -1;
		}
		started = k + 1;
	}
	for (int k = 0; k < started; k++)
		if (s[k].n >= 0)
			pthread_join(s[k].thread, NULL);
}
