// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "httptrace.skel.h"
#include "kernel/tracer.h"
#include "util/log.h"
#include "kernel/tls_attach.h"
#include "kernel/go_attach.h"
#include "discover/tls_locate.h"
#include "kernel/uprobe_multi.h"
#include "kernel/variants.h"
#include "httptrace_events.h"

void tracer_errstr(int err, char *buf, size_t len)
{
	if (libbpf_strerror(err, buf, len))
		snprintf(buf, len, "%s", strerror(err < 0 ? -err : err));
}

/* Programs loaded for uprobe_multi links cannot go on perf events, nor
 * the other way round: the choice is made here, before load. */
static int select_uprobe_way(struct httptrace_bpf *skel, bool multi)
{
	int ret = tls_attach_select_programs(skel, multi);

	if (ret || !multi)
		return ret;
	ret = uprobe_multi_prepare_program(skel->progs.uprobe_getaddrinfo);
	if (!ret)
		ret = uprobe_multi_prepare_program(
			skel->progs.uretprobe_getaddrinfo);
	return ret;
}

/* go: with the programs for Go's crypto/tls */
static int tracer_load_go(struct tracer *t, const struct ht_options *opts,
			  const struct variant_features *v,
			  enum attach_mode mode, bool uprobe_multi, bool go,
			  char *err, size_t err_len)
{
	struct httptrace_bpf *skel;
	char msg[128];
	int ret;

	memset(t, 0, sizeof(*t));
	t->mode = mode;
	t->uprobe_multi = uprobe_multi;
	LIBBPF_OPTS(bpf_object_open_opts, open_opts,
		    .btf_custom_path = opts->btf_path[0] ? opts->btf_path : NULL);

	skel = variants_open(v, &open_opts);
	if (!skel) {
		ret = -errno;
		tracer_errstr(ret, msg, sizeof(msg));
		snprintf(err, err_len, "cannot open the BPF object: %s", msg);
		return ret;
	}
	skel->rodata->filter_pids = opts->n_pids > 0;
	skel->rodata->filter_comm = opts->comm[0] != 0;
	memcpy((char *)skel->rodata->target_comm, opts->comm,
	       sizeof(opts->comm));
	skel->rodata->capture_cap = opts->max_capture;
	skel->rodata->self_tgid = (__u32)getpid();
	skel->rodata->watch_exec = opts->n_pids == 0;
	variants_select(skel, v, mode);
	for (int i = 0; i < VF_COUNT; i++) {
		char what[200];

		log_verbose("variant: %s (%s: %s)",
			    variants_chosen(v, i, what, sizeof(what)),
			    variants_feature_name(i),
			    v->have[i] ? "yes" : v->why[i]);
	}
	ret = select_uprobe_way(skel, uprobe_multi);
	if (!go)
		go_attach_disable(skel);
	if (ret) {
		tracer_errstr(ret, msg, sizeof(msg));
		snprintf(err, err_len, "cannot set up the uprobe programs: %s",
			 msg);
		httptrace_bpf__destroy(skel);
		return ret;
	}
	bpf_map__set_max_entries(skel->maps.events, opts->ring_size);
	skel->rodata->wakeup_bytes = opts->ring_size / 8;
	ret = libbpf_num_possible_cpus();
	if (ret > 0)
		bpf_map__set_max_entries(skel->maps.data_scratches, ret);

	ret = httptrace_bpf__load(skel);
	if (ret) {
		tracer_errstr(ret, msg, sizeof(msg));
		snprintf(err, err_len,
			 "cannot load the BPF programs (%s mode): %s%s",
			 attach_mode_name(mode), msg,
			 opts->verbose ? "" : " (run with -v for the verifier log)");
		httptrace_bpf__destroy(skel);
		return ret;
	}
	t->skel = skel;

	for (int i = 0; i < opts->n_pids; i++) {
		__u32 pid = (__u32)opts->pids[i];
		__u8 one = 1;

		if (bpf_map__update_elem(skel->maps.pid_filter, &pid,
					 sizeof(pid), &one, sizeof(one),
					 BPF_ANY)) {
			ret = -errno;
			snprintf(err, err_len, "cannot set PID filter: %s",
				 strerror(errno));
			tracer_destroy(t);
			return ret;
		}
	}
	return 0;
}

static int keep_link(struct tracer *t, struct bpf_link *link)
{
	if (t->n_links >= LOADER_MAX_LINKS) {
		bpf_link__destroy(link);
		return -E2BIG;
	}
	t->links[t->n_links++] = link;
	return 0;
}

static int attach_getaddrinfo(struct tracer *t, const struct libc_target *lib,
			      char *err, size_t err_len)
{
	static const char *const name[] = { "getaddrinfo" };
	struct uprobe_spec specs[2] = {
		{ .prog = t->skel->progs.uprobe_getaddrinfo,
		  .name = "getaddrinfo" },
		{ .prog = t->skel->progs.uretprobe_getaddrinfo, .ret = true,
		  .name = "getaddrinfo" },
	};
	struct uprobe_handle *h;
	uint64_t off;
	bool found;
	int ret;

	if (t->n_dns >= LIBC_MAX_TARGETS) {
		snprintf(err, err_len, "%.300s: too many C libraries",
			 lib->path);
		return -E2BIG;
	}
	ret = tls_locate_elf_offsets(lib->path, name, 1, &found, &off);
	if (!ret && !found)
		ret = -ENOENT;
	if (ret) {
		snprintf(err, err_len, "cannot find getaddrinfo in %.300s: %s",
			 lib->path, ret == -ENOENT ? "not defined there" :
			 ret == -ENOEXEC ? "not an ELF file we can read" :
			 strerror(-ret));
		return ret;
	}
	specs[0].offset = specs[1].offset = off;
	h = uprobe_attach(t->uprobe_multi, lib->path, lib->pid, specs, 2,
			  "dns");
	if (!h || !specs[0].attached || !specs[1].attached) {
		char msg[128];

		ret = specs[0].err ? specs[0].err : specs[1].err;
		if (!ret)
			ret = -ENOMEM;
		uprobe_handles_close(&h, h ? 1 : 0);
		tracer_errstr(ret, msg, sizeof(msg));
		snprintf(err, err_len,
			 "cannot attach to getaddrinfo in %.300s: %s",
			 lib->path, msg);
		return ret;
	}
	t->dns[t->n_dns++] = h;
	t->n_uprobes += 2;
	return 0;
}

/* DNS is one hook among many: a process without a libc we can probe
 * (static binary, unusual libc) still gets traced, without DNS. */
static void attach_dns(struct tracer *t, const struct ht_options *opts)
{
	struct libc_target libs[LIBC_MAX_TARGETS];
	char err[512];
	int n = 0;

	if (opts->n_pids) {
		for (int i = 0; i < opts->n_pids; i++) {
			int ret = libc_find_for_pid(opts->pids[i], &libs[n]);

			if (ret == 0)
				n++;
			else
				log_info("pid %d: no libc found (%s): DNS lookups "
					 "of this process are not traced",
					 opts->pids[i], strerror(-ret));
		}
	} else {
		n = libc_find_system(libs, LIBC_MAX_TARGETS);
	}
	for (int i = 0; i < n; i++) {
		if (attach_getaddrinfo(t, &libs[i], err, sizeof(err)))
			log_warn("%s: DNS lookups through it are not traced", err);
		else
			log_verbose("attached getaddrinfo uprobes: %s%s",
				    libs[i].path,
				    libs[i].pid > 0 ? " (one process)" : "");
	}
	if (!n)
		log_warn("no libc found: DNS lookups are not traced");
}

/* The exits sys_exit_io serves; their entries have programs of their own
 * (bpf/httptrace.bpf.c), both from httptrace_io_syscalls.h. */
#define IO_EXIT_TRACEPOINT(name, call, value, dir, shape, peek_arg)          \
	"sys_exit_" #name,
static const char *const io_exit_tracepoints[] = {
	HT_IO_SYSCALLS(IO_EXIT_TRACEPOINT)
};
_Static_assert(sizeof(io_exit_tracepoints) / sizeof(io_exit_tracepoints[0]) ==
		       HT_IO_CALL_COUNT,
	       "an exit tracepoint per I/O syscall");

static int attach_io_exits(struct tracer *t, char *err, size_t err_len)
{
	struct bpf_program *prog = t->skel->progs.sys_exit_io;
	char msg[128];
	size_t i;

	for (i = 0; i < sizeof(io_exit_tracepoints) /
				sizeof(io_exit_tracepoints[0]); i++) {
		const char *tp = io_exit_tracepoints[i];
		struct bpf_link *link;
		int ret;

		link = bpf_program__attach_tracepoint(prog, "syscalls", tp);
		if (!link) {
			ret = -errno;
			tracer_errstr(ret, msg, sizeof(msg));
			snprintf(err, err_len,
				 "cannot attach sys_exit_io to syscalls/%s: %s",
				 tp, msg);
			return ret;
		}
		ret = keep_link(t, link);
		if (ret) {
			snprintf(err, err_len, "too many programs to attach");
			return ret;
		}
		log_verbose("attached tracepoint/syscalls/%s (sys_exit_io)", tp);
	}
	return 0;
}

int tracer_attach(struct tracer *t, const struct ht_options *opts,
		  char *err, size_t err_len)
{
	struct bpf_program *prog;
	char msg[128];
	int ret;

	bpf_object__for_each_program(prog, t->skel->obj) {
		struct bpf_link *link;

		if (!bpf_program__autoload(prog) ||
		    prog == t->skel->progs.uprobe_getaddrinfo ||
		    prog == t->skel->progs.uretprobe_getaddrinfo ||
		    prog == t->skel->progs.sys_exit_io ||
		    tls_attach_owns_program(t->skel, prog))
			continue;
		link = bpf_program__attach(prog);
		if (!link) {
			ret = -errno;
			tracer_errstr(ret, msg, sizeof(msg));
			snprintf(err, err_len, "cannot attach %s (%s): %s",
				 bpf_program__name(prog),
				 bpf_program__section_name(prog), msg);
			return ret;
		}
		ret = keep_link(t, link);
		if (ret) {
			snprintf(err, err_len, "too many programs to attach");
			return ret;
		}
		log_verbose("attached %s", bpf_program__section_name(prog));
	}
	ret = attach_io_exits(t, err, err_len);
	if (ret || tracer_stopping(t))
		return ret;
	attach_dns(t, opts);
	if (!tracer_stopping(t))
		tls_attach(t, opts);
	return 0;
}

/* From this many perf-event uprobes on, the exit says why it waits
 * (about 0.1 s each, measured on 6.1 and 6.18). */
#define PERF_DETACH_SAY 20

struct detach_item {
	void (*close)(void *what);
	void *what;
};

static void destroy_link(void *link)
{
	bpf_link__destroy(link);
}

static void detach_one(void *item)
{
	struct detach_item *d = item;

	d->close(d->what);
}

/*
 * Each detach waits for the kernel, and all of them at once: perf-event
 * links (tracepoints, uprobes without uprobe_multi) are removed one at a
 * time under one kernel mutex, whoever asks, while uprobe_multi links
 * wait for their own synchronisation beside them (measured with 3 TLS
 * libraries: 1.33 s when the groups went one after the other, the
 * tracepoints alone 1.13 s).
 */
void tracer_destroy(struct tracer *t)
{
	struct uprobe_handle **tls_handles = NULL;
	int n_tls = tls_attach_take_handles(t, &tls_handles), n = 0;
	struct detach_item *items;
	void **ptrs;

	if (!t->uprobe_multi) {
		int n_perf = 0;

		for (int i = 0; i < n_tls; i++)
			n_perf += uprobe_handle_links(tls_handles[i]);
		for (int i = 0; i < t->n_dns; i++)
			n_perf += uprobe_handle_links(t->dns[i]);
		/* the wait is the kernel's: said, so that it is not taken
		 * for a hang */
		if (n_perf >= PERF_DETACH_SAY)
			log_info("detaching %d perf-event uprobes: the kernel "
				 "removes them one at a time, each after an "
				 "RCU synchronisation (no uprobe_multi links "
				 "before Linux 6.6), about 0.1 s each",
				 n_perf);
	}
	items = calloc((size_t)(n_tls + t->n_dns + t->n_links) + 1,
		       sizeof(*items));
	ptrs = calloc((size_t)(n_tls + t->n_dns + t->n_links) + 1,
		      sizeof(*ptrs));
	if (!items || !ptrs) {
		/* no memory for the list: one group after the other */
		uprobe_handles_close(tls_handles, n_tls);
		uprobe_handles_close(t->dns, t->n_dns);
		run_parallel(destroy_link, (void **)t->links, t->n_links);
	} else {
		for (int i = 0; i < n_tls; i++)
			items[n++] = (struct detach_item){ uprobe_handle_close,
							   tls_handles[i] };
		for (int i = 0; i < t->n_dns; i++)
			items[n++] = (struct detach_item){ uprobe_handle_close,
							   t->dns[i] };
		for (int i = 0; i < t->n_links; i++)
			items[n++] = (struct detach_item){ destroy_link,
							   t->links[i] };
		for (int i = 0; i < n; i++)
			ptrs[i] = &items[i];
		run_parallel(detach_one, ptrs, n);
	}
	free(items);
	free(ptrs);
	tls_attach_stop(t);
	t->n_dns = 0;
	t->n_links = 0;
	httptrace_bpf__destroy(t->skel);
	t->skel = NULL;
}

/*
 * The Go programs are the largest for the verifier: a kernel's may
 * refuse them ("program is too large") where the rest loads. The tracer
 * then goes on without Go, and says so.
 */
int tracer_load(struct tracer *t, const struct ht_options *opts,
		const struct variant_features *v, enum attach_mode mode,
		bool uprobe_multi, char *err, size_t err_len)
{
	int ret;

	ret = tracer_load_go(t, opts, v, mode, uprobe_multi, true, err,
			     err_len);
	if (!ret)
		return 0;
	if (tracer_load_go(t, opts, v, mode, uprobe_multi, false, err,
			   err_len))
		return ret;
	log_warn("go: this kernel refused the programs for Go's crypto/tls "
		 "(%s mode, -v for the verifier log): Go programs' HTTPS is "
		 "not traced", attach_mode_name(mode));
	return 0;
}

int tracer_events_fd(const struct tracer *t)
{
	return bpf_map__fd(t->skel->maps.events);
}

int tracer_drops_fd(const struct tracer *t)
{
	return bpf_map__fd(t->skel->maps.drops);
}

int tracer_conns_fd(const struct tracer *t)
{
	return bpf_map__fd(t->skel->maps.conns);
}

int tracer_forget_dead(struct tracer *t)
{
	int fd = tracer_conns_fd(t), removed = 0;
	struct { __u32 tgid; __s32 fd; } key, next, *prev = NULL;

	/* A process that exits with sockets open never closes them through
	 * a syscall we see; drop its entries so the map does not fill. */
	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (kill((pid_t)next.tgid, 0) && errno == ESRCH &&
		    !bpf_map_delete_elem(fd, &next))
			removed++;
	}
	return removed;
}
