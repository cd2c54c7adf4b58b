/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Uprobes, one handle per file (library or executable).
 *
 * Removing a uprobe costs the kernel a synchronisation, serialised under
 * a global lock when each probe is its own perf event: with many probes
 * the tracer took seconds to minutes to exit. Linux 6.6+ has uprobe_multi
 * links: one link puts one program on many offsets of a file and takes
 * them all away with one synchronisation. libbpf 1.1 (Debian 12) does not
 * know them, so the link is made here with the bpf(2) syscall.
 *
 * A program is loaded either for uprobe_multi links or for perf events,
 * not both, so the way is chosen once, at start (uprobe_multi_supported()),
 * and the programs set up for it before load
 * (uprobe_multi_prepare_program()).
 */
#ifndef HTTPTRACE_UPROBE_MULTI_H
#define HTTPTRACE_UPROBE_MULTI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct bpf_program;

/* One uprobe to put on a file. */
struct uprobe_spec {
	struct bpf_program *prog;
	uint64_t offset;    /* file offset of the instruction */
	uint64_t cookie;    /* bpf_get_attach_cookie(); uprobe_multi only */
	bool ret;           /* return probe */
	const char *name;   /* the function, for messages */
	bool attached;      /* out: in place */
	int err;            /* out: -errno when not */
};

/* All the uprobes put on one file; closed as one. */
struct uprobe_handle;

/* Can uprobe_multi links be used here (needs 6.6+, and PID filtering of
 * whole processes, as libbpf 1.3+ checks)? If not, why in words. */
bool uprobe_multi_supported(char *why, size_t why_len);

/* Before the object is loaded: makes `prog` a program for uprobe_multi
 * links. Returns 0 or -errno. */
int uprobe_multi_prepare_program(struct bpf_program *prog);

/* The raw BPF_LINK_CREATE: one link of prog_fd on cnt offsets of path
 * (cookies may be NULL). pid: 0 every process, else only that one.
 * Returns the link fd, or -errno. */
int uprobe_multi_link_create(int prog_fd, const char *path,
			     const unsigned long *offsets,
			     const uint64_t *cookies, unsigned int cnt,
			     pid_t pid, bool ret);

/*
 * Puts the n specs on `path`; pid -1 for every process mapping it, else
 * only that process. multi: one uprobe_multi link per program and
 * direction (if one fails, that group is tried again probe by probe, said
 * with -v), else one perf-event link per probe. Sets each spec's
 * `attached`, logs each failure with -v prefixed by `what`. Returns the
 * handle (NULL when nothing was attached or out of memory).
 */
struct uprobe_handle *uprobe_attach(bool multi, const char *path, pid_t pid,
				    struct uprobe_spec *specs, int n,
				    const char *what);

/* Links the handle holds (each one synchronisation at close). */
int uprobe_handle_links(const struct uprobe_handle *h);

/* Closes every link of one handle (a struct uprobe_handle *) and frees
 * it. */
void uprobe_handle_close(void *handle);

/* Closes every link of the handles, several handles at a time (each
 * close waits for the kernel), and frees them. */
void uprobe_handles_close(struct uprobe_handle **handles, int n);

/* Runs fn on each item from a few threads at once: detaches wait for the
 * kernel (RCU grace periods), and overlapping the waits shortens the
 * exit. */
void run_parallel(void (*fn)(void *item), void **items, int n);

#endif /* HTTPTRACE_UPROBE_MULTI_H */
